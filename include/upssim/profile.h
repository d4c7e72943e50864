/*
 * profile.h - a UPS model described as data.  A profile is a YAML file
 * (see docs/profiles.md) giving identity strings, the voltage version, the
 * model family (which picks the default command set from the command
 * table), per-command EEPROM value lists, the electrical and battery
 * figures the model computes its readings from, and the quirks that
 * protocol-facts.md marks as uncertain.  Loading is the only I/O here; a
 * loaded profile is immutable and may be shared by any number of units.
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

/** One EEPROM-backed setting that `-` cycles through (ULS p.15-22). */
struct prof_enum {
	bool present;        /**< profile gives a list for this command */
	char locale;         /**< ^Z compatibility char: A D I M J or '4' */
	int count;           /**< number of values, 1..PROF_MAX_VALUES */
	int width;           /**< characters per value (all equal) */
	int def;             /**< index of the factory default (value after z) */
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
	char serial[33];          /**< n */
	char mfr_date[9];         /**< m */
	char battery_date[9];     /**< x factory value */
	char ups_id[9];           /**< c factory value (8 chars, space padded) */
	char copyright[16];       /**< y, "(C) APCC" */
	char level[8];            /**< a, field 1: UPS-Link level ("3") */
	char alerts[16];          /**< a, field 2: alert characters */
	char a_extension[64];     /**< a, optional 4th field (protocol level 4) */
	char locale;              /**< voltage version char: A D I M J */
	int nominal_voltage;      /**< 100, 120, 208, 230 ... */
	double nominal_freq;      /**< 50 or 60 */
	char matrix_voltage_select; /**< ^V default (Matrix): A M I */

	/* Command set: bit per byte, derived = family rows + add - remove */
	uint8_t supported[32];
	struct prof_extra extras[8];
	int n_extras;

	/* Behaviour and quirks (⚠ items of protocol-facts.md) */
	bool unsupported_silent;   /**< v/s: no reply at all instead of NA */
	char shutdown_ok[4];       /**< reply to accepted K..K Z..Z @ddd: "OK" or "*" */
	bool dump_double_hash;     /**< Matrix: "##" before every ^Z item */
	bool serial_nuls;          /**< two NUL bytes after the serial number */
	bool s_on_line_ok;         /**< S honoured on line (default: NA) */
	uint8_t dip;               /**< 7 register (bits 3..0 = switches 1..4) */
	uint8_t dip_edit_mask;     /**< dip bits that forbid `-` (0x0F; 0x0E old) */
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

	/* Electrical and battery model */
	double battery_nominal_v;  /**< g: 12, 24, 48 */
	double battery_float_v;    /**< B on line at 100 % (27.40 for 24 V) */
	double runtime_full_load_min; /**< runtime at 100 % load, full battery */
	double runtime_exponent;   /**< Peukert-like exponent for partial load */
	double recharge_pct_per_h; /**< charge gained per hour on line */
	double calibration_stop_pct; /**< D ends below this (25, Matrix 35) */
	double rated_va, rated_w;
	double line_voltage;       /**< L at start */
	double line_freq;          /**< F at start */
	double load_pct;           /**< P at start */
	double temperature_c;      /**< C */
	double battery_charge;     /**< f at start */
	double boost_below_v;      /**< SmartBoost when L below (0 = none) */
	double trim_above_v;       /**< SmartTrim when L above (0 = none) */
	double boost_gain, trim_gain; /**< output/input ratio in boost/trim */
	int battery_packs;         /**< > at start */
	int bad_packs;             /**< < */
	bool packs_editable;       /**< XL: `>` then `+`/`-` edits the count */

	/* Measure-UPS (ULS §4) */
	double ambient_c, humidity_pct;
	uint8_t contacts;          /**< i register at start */
	char measure_fw[4];        /**< v: "4Kx" */
	uint8_t alarm_enable;      /**< I factory value */
};

/** @return true if @p p answers command byte @p b. */
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

/**
 * Parse a profile from YAML text.
 * @param[in] name  short name to record (e.g. file stem)
 * @param[in] src   file name used in diagnostics
 * @param[in] text  YAML document, @p len bytes (need not be NUL-terminated)
 * @param[out] out  filled on success, undefined on failure
 * @param[out] diag filled on UPS_EPARSE (may be NULL)
 * @return UPS_OK, UPS_EPARSE, UPS_ENOMEM
 */
enum ups_rc prof_parse(const char *name, const char *src, const char *text,
		       size_t len, struct ups_profile *out, struct ups_diag *diag);

/**
 * Load a profile by path (contains '/' or ends in .yaml) or by name
 * (built-in profiles compiled from profiles/NAME.yaml, then UPSSIM_PROFILE_PATH).
 * @return UPS_OK, UPS_ENOTFOUND, UPS_EPARSE, UPS_ESYS, UPS_ENOMEM
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
 * set where the family can pass them through, and the alarm-limit lists
 * `[ ] { }` get the accessory's own values (ULS p.29-30) unless the
 * profile gives its own.  Idempotent.
 */
void prof_attach_measure_ups(struct ups_profile *p);

/** Family from its YAML spelling ("smart-ups-3g" ...). @return 0 if unknown */
enum ups_family prof_family_from_name(const char *s);
const char *prof_family_name(enum ups_family f);

#endif
