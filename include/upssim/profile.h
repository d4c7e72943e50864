/*
 * profile.h - a UPS model described as data.  A profile is a YAML file
 * (see docs/profiles.md) giving identity strings, the voltage version, the
 * model family (which picks the default command set from the command
 * table), per-command EEPROM value lists, the electrical and battery
 * figures the model computes its readings from, and the quirks that
 * protocol-facts.md marks as uncertain.  The loader in sim/core is pure:
 * it parses text and serves the built-in profiles, and asks a resolver
 * (struct prof_resolver) for every other document; the file-system
 * resolver and prof_load() live in sim/io/profile_files.c.  A loaded
 * profile is immutable and may be shared by any number of units.
 */
#ifndef UPSSIM_PROFILE_H
#define UPSSIM_PROFILE_H

#include <stdbool.h>
#include <stdint.h>
#include "upssim/rc.h"

/** Model families: each command-table row says which of them answer. */
enum ups_family {
	UPS_FAM_OLD = 1u << 0,    /**< Smart-UPS 250/400/370ci: `*` replies, no a/^Z */
	UPS_FAM_SU2 = 1u << 1,    /**< 2nd-generation Smart-UPS 600..2000 */
	UPS_FAM_SU3 = 1u << 2,    /**< 3rd-generation ("newer") Smart-UPS, RT, XL */
	UPS_FAM_MATRIX = 1u << 3, /**< Matrix-UPS 3000/5000 */
	UPS_FAM_VS = 1u << 4,     /**< Smart-UPS v/s */
	UPS_FAM_BUP = 1u << 5,    /**< Back-UPS Pro */
};
#define UPS_FAM_ALL 0x3Fu

#define PROF_MAX_VALUES 8   /* ^L has 8 choices; every other list has 4 */
#define PROF_MAX_WIDTH 8    /* widest enumerated value ("dd.dd" is 5) */
#define PROF_MAX_DUMP_EXTRA 12 /* ULS p.15 example: 9 other-locale items */
#define PROF_MAX_DUMP_ORDER 32 /* ^Z items a dump_order may name */
#define PROF_MAX_EXTRAS 32  /* undocumented bytes with a fixed reply */
#define PROF_MAX_TEXT (1024 * 1024) /* bytes in one profile document */

/*
 * UPS-Link alert characters (ULS p.24-25, protocol-facts §5) and `|`/`&`:
 * NUT and apcupsd pull these out of every reply (protocol-facts §6), so a
 * value containing one reaches the client mangled.  Printable strings in a
 * profile may not contain them, nor may the c/x text a host types.
 */
#define PROF_ALERT_CHARS "!$%+#?=*|&"

/** One EEPROM-backed setting that `-` cycles through (ULS p.15-22). */
struct prof_enum {
	bool present;        /**< profile gives a list for this command */
	char locale;         /**< ^Z compatibility char: A D I M J or '4' */
	int count;           /**< number of values, 1..PROF_MAX_VALUES */
	int width;           /**< characters per value (all equal) */
	int def;             /**< index of the factory default (value after z) */
	int cur;             /**< index of the value at start (`current`;
				  the default unless the unit was set up) */
	char values[PROF_MAX_VALUES][PROF_MAX_WIDTH + 1];
};

/** Fixed reply for a byte the profile lists but the spec does not document. */
struct prof_extra {
	uint8_t byte;
	char reply[40];
};

struct ups_profile {
	char name[64];            /**< short name (file name without .yaml) */
	char description[160];
	char source[256];         /**< file it came from, or "builtin:NAME" */
	enum ups_family family;
	bool measure_ups;         /**< Measure-UPS accessory connected (ULS §4) */

	/* Identity (ULS §3.2) */
	char model[33];           /**< ^A, < 32 chars */
	char firmware_v[4];       /**< V: 3 chars ("" = command absent) */
	char firmware_b[32];      /**< b: SKU.FW.C ("" = command absent) */
	char serial[33];          /**< n, as sent: may end in NUL padding */
	size_t serial_len;        /**< bytes of `serial`, NUL padding included */
	char mfr_date[9];         /**< m */
	char battery_date[9];     /**< x factory value */
	char ups_id[9];           /**< c at start, as written (the unit pads it to 8
				       with behaviour.entry_pad: spaces) */
	char copyright[16];       /**< y, "(C) APCC" */
	char level[8];            /**< a, field 1: UPS-Link level ("3") */
	char alerts[16];          /**< a, field 2: alert characters */
	char a_extension[64];     /**< a, optional 4th field (protocol level 4) */
	char a_commands[256];     /**< a, field 3 as the unit sends it ("" =
				       built from the command set) */
	char locale;              /**< voltage version char: A D I M J */
	int nominal_voltage;      /**< 100, 120, 208, 230 ... */
	double nominal_freq;      /**< 50 or 60 */
	char matrix_voltage_select; /**< ^V default (Matrix): A M I */

	/*
	 * Command set (docs/profiles.md "commands"): `supported` is derived
	 * from the family's command-table rows, `measure_ups`, the net
	 * commands.add / commands.remove of every document (`cmd_on` /
	 * `cmd_off`: the last of add or remove wins per byte, which is the
	 * same as applying them in order) and the extras.  The recipe is
	 * kept so that prof_overlay() can derive the set again.
	 */
	uint8_t supported[32];
	uint8_t cmd_on[32], cmd_off[32];
	struct prof_extra extras[PROF_MAX_EXTRAS]; /**< fixed replies; never
					  a byte the command table answers */
	int n_extras;

	/* Behaviour and quirks (⚠ items of protocol-facts.md) */
	bool unsupported_silent;   /**< v/s: no reply at all instead of NA */
	char shutdown_ok[4];       /**< reply to accepted K..K Z..Z @ddd: "OK" or "*" */
	bool dump_double_hash;     /**< Matrix: "##" before every ^Z item */
	bool serial_nuls;          /**< two NUL bytes after the serial number */
	bool s_on_line_ok;         /**< S honoured on line (default: NA) */
	bool low_battery_on_line;  /**< Q low battery whenever runtime <= q,
					on line too (default: only on battery
					and after a low-battery shutdown) */
	uint8_t dip;               /**< 7 register (bits 3..0 = switches 1..4) */
	uint8_t dip_edit_mask;     /**< dip bits that forbid `-` (0x0F; 0x0E old) */
	bool entry_hyphen_refused; /**< c/x entry text with `-` answers NO */
	bool entry_pad_spaces;     /**< c/x entry padded to 8 with spaces */
	uint32_t two_press_gap_ms; /**< min gap between presses of K/Z/^N */
	uint32_t entry_timeout_ms; /**< max gap inside @ddd / c / x / I entry */
	uint32_t selftest_ms;      /**< W duration (8 s) */
	uint32_t test_result_ms;   /**< X keeps the result this long (5 min) */
	uint32_t sim_fail_ms;      /**< U: time on battery */
	uint32_t eeprom_alert_ms;  /**< delay of `|` after an EEPROM change */
	uint32_t linefail_repeat_ms; /**< `!` repeat while on battery (30 s) */
	uint32_t replace_repeat_ms;  /**< `#` repeat (5 h) */
	uint32_t power_on_alert_ms;  /**< `?` this long after power-on */
	uint32_t bypass_ms;        /**< ^ transfer time (Matrix) */
	uint32_t reply_delay_ms;   /**< time before a reply's first byte (0) */
	bool pace;                 /**< send at the line rate, 2400 bit/s 8N1 */

	/* EEPROM lists, indexed by command byte */
	struct prof_enum eeprom[128];
	char dump_extra[PROF_MAX_DUMP_EXTRA][40]; /**< other locales' ^Z items */
	int n_dump_extra;
	/** ^Z items in the unit's order: command byte and locale char each
	 *  (own lists and dump_extra alike); n_dump_order 0 = ULS order */
	uint8_t dump_order[PROF_MAX_DUMP_ORDER][2];
	int n_dump_order;

	/* Electrical and battery model */
	double battery_nominal_v;  /**< g: 12, 24, 48 */
	double battery_float_v;    /**< B on line at 100 % (27.40 for 24 V) */
	double battery_start_v;    /**< B at start (0 = from the model); later
					readings keep the same offset */
	double runtime_full_load_min; /**< runtime at 100 % load, full battery */
	double runtime_exponent;   /**< Peukert-like exponent for partial load */
	double recharge_pct_per_h; /**< charge gained per hour on line */
	double calibration_stop_pct; /**< D ends below this (25, Matrix 35) */
	double rated_va, rated_w;
	double line_voltage;       /**< L at start */
	double line_freq;          /**< F at start */
	double line_max, line_min; /**< M / N at start (0 = line_voltage) */
	char transfer_cause;       /**< G at start: R H L T O S ('O') */
	double load_pct;           /**< P at start */
	double temperature_c;      /**< C */
	double battery_charge;     /**< f at start */
	double boost_below_v;      /**< SmartBoost when L below (0 = none) */
	double trim_above_v;       /**< SmartTrim when L above (0 = none) */
	double boost_gain, trim_gain; /**< output/input ratio in boost/trim */
	bool double_conversion;    /**< on-line unit (RT, Matrix): the output
	                                stays at nominal whatever the input */
	int battery_packs;         /**< > at start */
	int bad_packs;             /**< < */
	bool packs_editable;       /**< XL: `>` then `+`/`-` edits the count */

	/* Measure-UPS (ULS §4) */
	double ambient_c, humidity_pct;
	uint8_t contacts;          /**< i register at start */
	char measure_fw[4];        /**< v: "4Kx" */
	uint8_t alarm_enable;      /**< I factory value */
};

/** @return true if @p p answers command byte @p b (table or extras). */
static inline bool prof_supports(const struct ups_profile *p, uint8_t b)
{
	return (p->supported[b >> 3] >> (b & 7)) & 1u;
}
static inline void prof_set_supported(struct ups_profile *p, uint8_t b, bool on)
{
	if (on)
		p->supported[b >> 3] |= (uint8_t)(1u << (b & 7));
	else
		p->supported[b >> 3] &= (uint8_t)~(1u << (b & 7));
}

/** @return the fixed reply @p p gives to byte @p b, or NULL if none. */
static inline const struct prof_extra *prof_extra(const struct ups_profile *p,
						  uint8_t b)
{
	for (int i = 0; i < p->n_extras; i++)
		if (p->extras[i].byte == b)
			return &p->extras[i];
	return NULL;
}

/**
 * One profile document as a resolver hands it to the loader.
 */
struct prof_text {
	const char *text;  /**< YAML, @p len bytes (need not be NUL-terminated) */
	size_t len;        /**< at most PROF_MAX_TEXT */
	char source[256];  /**< where it came from (a path): diagnostics,
			        ups_profile.source, and `from` for its own
			        `inherit`; the name is its file stem */
	void *priv;        /**< the resolver's own (e.g. the buffer to free) */
};

/**
 * Where the loader gets the documents it does not have built in: the name
 * given to prof_load_from() and every `inherit:` value, unless it is the
 * name of a built-in profile (those the core serves itself, first).  The
 * core never opens files; prof_file_resolver() is the file-system one.
 */
struct prof_resolver {
	/**
	 * Find the document @p spec names.
	 * @param[in] ctx   this struct's @p ctx
	 * @param[in] spec  name or path as written (not a built-in name)
	 * @param[in] from  ups_profile.source of the inheriting document, or
	 *                  NULL for the top-level name
	 * @param[out] out  filled on UPS_OK, handed back to @p release
	 * @param[out] d    filled on failure (may be NULL); it must not quote
	 *                  the document's content
	 * @return UPS_OK, UPS_ENOTFOUND (no such profile), UPS_ESYS (errno
	 *         kept; e.g. not a regular file), UPS_EPARSE (too large),
	 *         UPS_ENOMEM
	 */
	enum ups_rc (*read)(void *ctx, const char *spec, const char *from,
			    struct prof_text *out, struct ups_diag *d);
	/** Free what read() allocated for @p t; may be NULL. */
	void (*release)(void *ctx, struct prof_text *t);
	void *ctx;
};

/**
 * Parse a profile from YAML text; `inherit` is resolved through @p r.
 * @param[in] r     resolver for `inherit` values that are not built-in
 *                  names; NULL: built-in profiles only
 * @param[in] name  short name to record (e.g. file stem)
 * @param[in] src   file name used in diagnostics
 * @param[in] text  YAML document, @p len bytes (need not be NUL-terminated)
 * @param[out] out  filled on success, undefined on failure
 * @param[out] diag filled on failure (may be NULL)
 * @return UPS_OK, UPS_EPARSE, UPS_ENOMEM, UPS_EARG; from @p r also
 *         UPS_ESYS (an inherited file could not be read)
 */
enum ups_rc prof_parse_from(const struct prof_resolver *r, const char *name,
			    const char *src, const char *text, size_t len,
			    struct ups_profile *out, struct ups_diag *diag);

/** prof_parse_from() with built-in profiles only (no file is read). */
enum ups_rc prof_parse(const char *name, const char *src, const char *text,
		       size_t len, struct ups_profile *out, struct ups_diag *diag);

/**
 * Load a profile by name: a built-in profile, else whatever @p r finds.
 * @param[in] r  resolver; NULL: built-in profiles only
 * @return UPS_OK, UPS_ENOTFOUND, UPS_EPARSE, UPS_ESYS, UPS_ENOMEM, UPS_EARG
 */
enum ups_rc prof_load_from(const struct prof_resolver *r,
			   const char *name_or_path, struct ups_profile *out,
			   struct ups_diag *diag);

/**
 * Apply a YAML mapping of the profile schema on top of an already loaded
 * profile, as a child document applies on top of its parent (e.g. the
 * inline overrides of a scenario file).  `inherit` is not allowed; the
 * command set, the cross-key checks and the reply-size limit are
 * worked out again for the result.  `name` and `source` stay the base's.
 * @param[in,out] p     loaded profile; unchanged on failure
 * @param[in] yaml      the mapping, @p len bytes
 * @param[in] filename  name used in diagnostics
 * @param[out] d        filled on failure (may be NULL)
 * @return UPS_OK, UPS_EPARSE, UPS_ENOMEM, UPS_EARG
 */
enum ups_rc prof_overlay(struct ups_profile *p, const char *yaml, size_t len,
			 const char *filename, struct ups_diag *d);

/*
 * Files (sim/io/profile_files.c, library upssim_io; programs that link
 * only upssim_core use prof_load_from(NULL, ...) for built-in profiles).
 */

/**
 * The file-system resolver.  A spec that contains '/' or ends in ".yaml"
 * is a path (a relative one is taken from the inheriting file's
 * directory); a name is NAME.yaml in each directory of
 * $UPSSIM_PROFILE_PATH, then (for `inherit`) next to the inheriting file.
 * Only regular files are opened, checked before and after open(), and
 * read to EOF up to PROF_MAX_TEXT bytes.
 */
const struct prof_resolver *prof_file_resolver(void);

/**
 * Load a profile by path or by name: prof_load_from(prof_file_resolver()).
 * @return UPS_OK, UPS_ENOTFOUND, UPS_EPARSE, UPS_ESYS, UPS_ENOMEM, UPS_EARG
 */
enum ups_rc prof_load(const char *name_or_path, struct ups_profile *out,
		      struct ups_diag *diag);

/** Built-in profiles (from the profiles/ directory at build time). */
struct prof_builtin {
	const char *name;
	const char *text;
	size_t len;
};
extern const struct prof_builtin prof_builtins[];
extern const size_t prof_n_builtins;
#define PROF_DEFAULT_NAME "smart-ups-1500"

/**
 * Attach a Measure-UPS accessory (ULS §4): its commands join the command
 * set where the family can pass them through (unless commands.remove took
 * them out), and the alarm-limit lists `[ ] { }` get the accessory's own
 * values (ULS p.29-30) unless the profile gives its own.  Idempotent.
 */
void prof_attach_measure_ups(struct ups_profile *p);

/** Family from its YAML spelling ("smart-ups-3g" ...). @return 0 if unknown */
enum ups_family prof_family_from_name(const char *s);
const char *prof_family_name(enum ups_family f);

/** A firmware revision as `b` gives it and NUT reads it: three runs of
 *  letters and digits joined by dots ("477.15.W"). */
bool prof_firmware_format(const char *s);

/** A date as units send it: three groups of 1-4 digits joined by "/"
 *  ("11/6/03", "03/15/01"). */
bool prof_date_format(const char *s);

#endif
