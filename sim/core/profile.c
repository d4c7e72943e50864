/*
 * profile.c - loads a UPS model profile: YAML text in (libyaml document
 * API), struct ups_profile out.  This file owns the profile schema
 * documented in docs/profiles.md: the key tables below are the single list
 * of accepted keys, their types, ranges and destinations, so a new key is
 * one table row plus one line of documentation.  Unknown keys are errors.
 * Every error lands in the caller's struct ups_diag as file:line:col plus
 * a message that says what is wrong without quoting the document (it may
 * be a file the user cannot read); nothing is printed.  No I/O: the
 * built-in profiles are served here, every other document (the top-level
 * name, `inherit`) comes from the caller's struct prof_resolver.
 */
#include "upssim/yaml_node.h"
#include "upssim/profile.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "upssim/cmdtab.h"
#include "upssim/ups.h"

#define MAX_DEPTH 4              /* `inherit` levels below the top document */
#define MAX_DOCS (MAX_DEPTH + 1)
#define MAX_TEXT PROF_MAX_TEXT  /* far above any real profile (~5 KiB) */
#define MAX_CMDSET 256
#define MAX_EXTRAS PROF_MAX_EXTRAS
/* UPS-Link alert characters: see PROF_ALERT_CHARS in profile.h */
#define ALERT_CHARS PROF_ALERT_CHARS

static const char family_list[] = "smart-ups-old, smart-ups-2g, smart-ups-3g, "
				  "matrix-ups, smart-ups-vs, back-ups-pro";

static const struct {
	enum ups_family fam;
	const char *name;
} families[] = {
	{ UPS_FAM_OLD, "smart-ups-old" },
	{ UPS_FAM_SU2, "smart-ups-2g" },
	{ UPS_FAM_SU3, "smart-ups-3g" },
	{ UPS_FAM_MATRIX, "matrix-ups" },
	{ UPS_FAM_VS, "smart-ups-vs" },
	{ UPS_FAM_BUP, "back-ups-pro" },
};

enum ups_family prof_family_from_name(const char *s)
{
	if (!s)
		return 0;
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
		if (strcmp(s, families[i].name) == 0)
			return families[i].fam;
	return 0;
}

const char *prof_family_name(enum ups_family f)
{
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
		if (families[i].fam == f)
			return families[i].name;
	return "unknown";
}

/* ------------------------------------------------------------------ */
/* Parse state                                                         */

/**
 * Where a value came from: document index and 1-based position.  Doc -1:
 * not from this load (the base profile of prof_overlay).
 */
struct origin {
	int doc;
	int line, col;
};
#define NOWHERE ((struct origin){ -1, 0, 0 })

/** State shared by the top document and every profile it inherits. */
struct ctx {
	struct ups_diag *diag;
	const struct prof_resolver *res;
	char src[MAX_DOCS][256];       /* ups_profile.source of each document */
	int n_docs;
	bool overlay;                  /* prof_overlay: no inherit, no defaults */
	struct origin eeprom_at[128];  /* key of each eeprom list */
	struct origin add_at[256];     /* commands.add that last turned a byte on */
	struct origin extras_at[MAX_EXTRAS]; /* each commands.extras entry */
	struct origin dump_extra_at;   /* the dump_extra list */
	struct origin dump_extra_item_at[PROF_MAX_DUMP_EXTRA]; /* its items */
	struct origin dump_order_at;   /* the dump_order list */
	struct origin dump_order_item_at[PROF_MAX_DUMP_ORDER]; /* its items */
};

static struct ctx *ctx_new(struct ups_diag *diag, const struct prof_resolver *r)
{
	struct ctx *cx = calloc(1, sizeof *cx);
	if (!cx)
		return NULL;
	cx->diag = diag;
	cx->res = r;
	for (size_t i = 0; i < sizeof cx->eeprom_at / sizeof cx->eeprom_at[0]; i++)
		cx->eeprom_at[i] = NOWHERE;
	for (size_t i = 0; i < sizeof cx->add_at / sizeof cx->add_at[0]; i++)
		cx->add_at[i] = NOWHERE;
	for (size_t i = 0; i < sizeof cx->extras_at / sizeof cx->extras_at[0]; i++)
		cx->extras_at[i] = NOWHERE;
	cx->dump_extra_at = cx->dump_order_at = NOWHERE;
	for (size_t i = 0; i < PROF_MAX_DUMP_EXTRA; i++)
		cx->dump_extra_item_at[i] = NOWHERE;
	for (size_t i = 0; i < PROF_MAX_DUMP_ORDER; i++)
		cx->dump_order_item_at[i] = NOWHERE;
	return cx;
}

enum field_type {
	T_TEXT = 1, /* UTF-8 text, no control characters */
	T_STR,      /* byte string (YAML \xNN escapes give bytes) */
	T_INT,
	T_U8,
	T_U32,
	T_DBL,
	T_BOOL,
	T_FLAG2,    /* one of two words: first = false, second = true */
	T_CHAR,     /* one character out of `choices` */
};

/* String checks (T_STR) */
enum {
	S_PRINT = 1u << 0,   /* printable ASCII, no alert characters */
	S_NOLINE = 1u << 1,  /* no CR / LF */
	S_NODOT = 1u << 2,   /* no '.' (field separator of the `a` reply) */
	S_LEN3 = 1u << 3,    /* empty or exactly 3 characters */
	S_DATE = 1u << 4,    /* empty or a date "d/d/d" (prof_date_format) */
	S_BFMT = 1u << 5,    /* empty or SKU.FW.C (NUT's regex for `b`) */
	S_NUL_OK = 1u << 8,  /* NUL bytes allowed (command byte lists) */
	S_NUL_PAD = 1u << 9, /* NUL bytes allowed only at the end (padding) */
};

struct field {
	const char *key;
	enum field_type type;
	size_t off, size;
	size_t len_off;       /* T_STR: where the byte length goes, or 0 */
	double lo, hi;
	const char *choices;
	unsigned flags;
};

struct section {
	const char *name;
	const struct field *f;
	size_t n;
};

#define MAX_SECT 12   /* sections[] below, top level included */
#define MAX_FIELDS 16 /* keys per section (walk_section's `seen` bits) */

/** One YAML document being applied on top of the profile. */
struct doc {
	struct ctx *cx;
	int idx;
	int depth;
	yaml_document_t *y;
	struct ups_profile *p;
	bool inherited;
	bool has_family;
	const yaml_node_t *field_node[MAX_SECT][MAX_FIELDS]; /* last given */
};

/* ------------------------------------------------------------------ */
/* Diagnostics                                                         */

static struct origin origin_of(const struct doc *d, const yaml_node_t *n)
{
	struct origin o = { d->idx, 0, 0 };
	if (n) {
		o.line = (int)n->start_mark.line + 1;
		o.col = (int)n->start_mark.column + 1;
	}
	return o;
}

static enum ups_rc vfail_at(struct ctx *cx, struct origin o, const char *fmt,
			    va_list ap) __attribute__((format(printf, 3, 0)));
static enum ups_rc vfail_at(struct ctx *cx, struct origin o, const char *fmt,
			    va_list ap)
{
	char msg[sizeof cx->diag->msg];
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (o.doc < 0 || o.doc >= cx->n_docs) {
		/* not from this load (the base profile of an overlay): blame
		 * the top document, whose keys apply last */
		o.doc = 0;
		o.line = o.col = 1;
	}
	ups_diag_set(cx->diag, cx->src[o.doc], o.line, o.col, "%s", msg);
	return UPS_EPARSE;
}

static enum ups_rc fail_at(struct ctx *cx, struct origin o, const char *fmt,
			   ...) __attribute__((format(printf, 3, 4)));
static enum ups_rc fail_at(struct ctx *cx, struct origin o, const char *fmt,
			   ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum ups_rc rc = vfail_at(cx, o, fmt, ap);
	va_end(ap);
	return rc;
}

static enum ups_rc fail(struct doc *d, const yaml_node_t *n, const char *fmt,
			...) __attribute__((format(printf, 3, 4)));
static enum ups_rc fail(struct doc *d, const yaml_node_t *n, const char *fmt,
			...)
{
	va_list ap;
	va_start(ap, fmt);
	enum ups_rc rc = vfail_at(d->cx, origin_of(d, n), fmt, ap);
	va_end(ap);
	return rc;
}

/**
 * Quote a name or path for a message (never the document's content):
 * escapes, and cut after 40 characters.
 */
static const char *show(char *buf, size_t cap, const void *s, size_t n)
{
	const unsigned char *c = s;
	size_t o = 0;
	for (size_t i = 0; i < n && o + 8 < cap; i++) {
		if (i == 40) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c[i] >= 0x20 && c[i] < 0x7F && c[i] != '"' && c[i] != '\\')
			buf[o++] = (char)c[i];
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02X", c[i]);
	}
	buf[o] = '\0';
	return buf;
}

/* ------------------------------------------------------------------ */
/* Node helpers                                                        */

static yaml_node_t *node(const struct doc *d, int i)
{
	return yaml_document_get_node(d->y, i);
}

static enum ups_rc need_scalar(struct doc *d, const yaml_node_t *n,
			       const char *path)
{
	if (n->type == YAML_SCALAR_NODE)
		return UPS_OK;
	return fail(d, n, "%s: expected a single value, got a %s", path,
		    yn_kind_name(n));
}

/**
 * Copy a scalar into @p out (capacity @p cap including the NUL) as bytes:
 * code points up to U+00FF become one byte each, so YAML "\x81" is the
 * byte 0x81.  T_TEXT-style UTF-8 is kept as it is when @p utf8.
 */
static enum ups_rc get_bytes(struct doc *d, const yaml_node_t *n,
			     const char *path, char *out, size_t cap,
			     size_t *outlen, unsigned flags, bool utf8)
{
	enum ups_rc rc = need_scalar(d, n, path);
	if (rc)
		return rc;
	const unsigned char *s = n->data.scalar.value;
	size_t len = n->data.scalar.length, o = 0, chars = 0;
	bool padding = false; /* S_NUL_PAD: a NUL came, only NULs may follow */

	for (size_t i = 0; i < len;) {
		size_t at = i;
		unsigned cp = yn_utf8_next(s, len, &i);
		chars++;
		if (cp == 0 && !(flags & (S_NUL_OK | S_NUL_PAD)))
			return fail(d, n, "%s: NUL characters are not allowed",
				    path);
		if (cp == 0 && (flags & S_NUL_PAD))
			padding = true;
		else if (padding)
			return fail(d, n, "%s: character %zu follows a NUL (NUL "
				    "bytes may only pad the end)", path, chars);
		if (cp == 0) {
			/* a byte like any other here; no rule below is about it */
		} else if (utf8) {
			if (yn_is_control(cp))
				return fail(d, n, "%s: character %zu is a control "
					    "character (not allowed here)", path,
					    chars);
		} else if (cp > 0xFF) {
			return fail(d, n, "%s: character %zu is above U+00FF, "
				    "not a byte (write bytes 0x80-0xFF as "
				    "\"\\xNN\")", path, chars);
		} else if ((flags & S_PRINT) && (cp < 0x20 || cp > 0x7E)) {
			return fail(d, n, "%s: character %zu is not printable "
				    "ASCII (only 0x20-0x7E are allowed here)",
				    path, chars);
		} else if ((flags & S_PRINT) && strchr(ALERT_CHARS, (int)cp)) {
			/* names the rule's character, not the text */
			return fail(d, n, "%s: contains \"%c\", a UPS-Link "
				    "alert character (clients take those out "
				    "of replies)", path, (char)cp);
		} else if ((flags & S_NOLINE) && (cp == '\r' || cp == '\n')) {
			return fail(d, n, "%s: CR and LF are not allowed (they "
				    "end the reply line)", path);
		}
		if ((flags & S_NODOT) && cp == '.')
			return fail(d, n, "%s: \".\" is not allowed (it "
				    "separates the fields of the a reply)", path);
		if (utf8) {
			size_t w = i - at;
			if (o + w < cap)
				memcpy(out + o, s + at, w);
			o += w;
		} else {
			if (o + 1 < cap)
				out[o] = (char)cp;
			o++;
		}
	}
	if (o >= cap)
		return fail(d, n, "%s: too long (%zu characters, at most %zu)",
			    path, utf8 ? chars : o, cap - 1);
	out[o] = '\0';
	if (outlen)
		*outlen = o;
	return UPS_OK;
}

static enum ups_rc get_number(struct doc *d, const yaml_node_t *n,
			      const char *path, bool integer, double lo,
			      double hi, double *out)
{
	enum ups_rc rc = need_scalar(d, n, path);
	if (rc)
		return rc;
	double v = 0;
	bool ok = yn_number(n, integer, &v);
	if (!ok)
		return fail(d, n, "%s: expected %s", path, integer ?
			    "a whole number (decimal or 0x hex)" :
			    "a decimal number");
	if (v < lo || v > hi)
		return fail(d, n, "%s: out of range (%.15g to %.15g)", path, lo,
			    hi);
	*out = v;
	return UPS_OK;
}

/* ------------------------------------------------------------------ */
/* Key tables: the profile schema (docs/profiles.md)                   */

#define F(k, t, m, ...) \
	{ .key = (k), .type = (t), .off = offsetof(struct ups_profile, m), \
	  .size = sizeof ((struct ups_profile *)0)->m, __VA_ARGS__ }
#define MS 4294967295.0 /* uint32_t milliseconds */

static const struct field top_f[] = {
	F("description", T_TEXT, description),
	F("measure_ups", T_BOOL, measure_ups),
};

/* ULS §3.2 and protocol-facts §2 */
static const struct field identity_f[] = {
	F("model", T_STR, model, .flags = S_PRINT),
	F("firmware_v", T_STR, firmware_v, .flags = S_PRINT | S_LEN3),
	F("firmware_b", T_STR, firmware_b, .flags = S_PRINT | S_BFMT),
	/* as sent: trailing spaces or NUL padding kept (facts §2.5; NUT #180
	 * "B21130002653  ") */
	F("serial", T_STR, serial, .flags = S_PRINT | S_NUL_PAD,
	  .len_off = offsetof(struct ups_profile, serial_len)),
	/* the unit's own form: "11/6/03" (NUT-DDL DP 8000 XL) */
	F("manufactured", T_STR, mfr_date, .flags = S_PRINT | S_DATE),
	F("battery_date", T_STR, battery_date, .flags = S_PRINT | S_DATE),
	/* verbatim, "s0-ups0" (NUT-DDL SU3000RM); `-` and the padding
	 * follow behaviour.entry_hyphen / entry_pad (check_doc, ups_new) */
	F("ups_id", T_STR, ups_id, .flags = S_PRINT),
	F("copyright", T_STR, copyright, .flags = S_PRINT),
};

/* ULS p.7 (V third character), p.16 (^V) */
static const struct field voltage_f[] = {
	F("nominal", T_INT, nominal_voltage, .lo = 50, .hi = 300),
	F("locale", T_CHAR, locale, .choices = "ADIMJ"),
	F("frequency", T_DBL, nominal_freq, .lo = 40, .hi = 70),
	F("matrix_select", T_CHAR, matrix_voltage_select, .choices = "AMI"),
};

/* ULS p.11 (`a`), NUT-GIT (4th field) */
static const struct field link_f[] = {
	F("level", T_STR, level, .flags = S_PRINT | S_NODOT),
	F("alerts", T_STR, alerts, .flags = S_NOLINE | S_NODOT),
	F("extension", T_STR, a_extension, .flags = S_NOLINE | S_NODOT),
	/* the unit's own list, verbatim (ESP SU420, v/s 420, RT 1000 XL) */
	F("commands", T_STR, a_commands, .flags = S_NOLINE | S_NODOT),
};

/* protocol-facts ⚠ quirks */
static const struct field behaviour_f[] = {
	F("unsupported", T_FLAG2, unsupported_silent, .choices = "NA|silent"),
	F("shutdown_reply", T_STR, shutdown_ok, .choices = "OK|*"),
	F("dump_double_hash", T_BOOL, dump_double_hash),
	F("serial_nuls", T_BOOL, serial_nuls),
	F("s_on_line", T_FLAG2, s_on_line_ok, .choices = "NA|OK"),
	F("low_battery_on_line", T_BOOL, low_battery_on_line),
	F("dip", T_U8, dip, .lo = 0, .hi = 255),
	F("dip_edit_mask", T_U8, dip_edit_mask, .lo = 0, .hi = 255),
	/* c/x direct entry (docs/profiles.md "Direct entry") */
	F("entry_hyphen", T_FLAG2, entry_hyphen_refused,
	  .choices = "store|refuse"),
	F("entry_pad", T_FLAG2, entry_pad_spaces, .choices = "none|spaces"),
};

static const struct field timing_f[] = {
	F("two_press_gap", T_U32, two_press_gap_ms, .lo = 0, .hi = MS),
	F("entry_timeout", T_U32, entry_timeout_ms, .lo = 0, .hi = MS),
	F("selftest", T_U32, selftest_ms, .lo = 0, .hi = MS),
	F("test_result", T_U32, test_result_ms, .lo = 0, .hi = MS),
	F("simulated_failure", T_U32, sim_fail_ms, .lo = 0, .hi = MS),
	F("eeprom_alert", T_U32, eeprom_alert_ms, .lo = 0, .hi = MS),
	F("linefail_repeat", T_U32, linefail_repeat_ms, .lo = 0, .hi = MS),
	F("replace_repeat", T_U32, replace_repeat_ms, .lo = 0, .hi = MS),
	F("power_on_alert", T_U32, power_on_alert_ms, .lo = 0, .hi = MS),
	F("bypass", T_U32, bypass_ms, .lo = 0, .hi = MS),
	F("reply_delay", T_U32, reply_delay_ms, .lo = 0, .hi = 10000),
	F("pace", T_BOOL, pace),
};

static const struct field electrical_f[] = {
	F("rated_va", T_DBL, rated_va, .lo = 0, .hi = 1e6),
	F("rated_w", T_DBL, rated_w, .lo = 0, .hi = 1e6),
	F("line_voltage", T_DBL, line_voltage, .lo = 0, .hi = 999.9),
	F("line_frequency", T_DBL, line_freq, .lo = 0, .hi = 99.99),
	F("line_max", T_DBL, line_max, .lo = 0, .hi = 999.9),
	F("line_min", T_DBL, line_min, .lo = 0, .hi = 999.9),
	F("transfer_cause", T_CHAR, transfer_cause, .choices = "RHLTOS"),
	F("load", T_DBL, load_pct, .lo = 0, .hi = 200),
	F("temperature", T_DBL, temperature_c, .lo = -40, .hi = 150),
	F("boost_below", T_DBL, boost_below_v, .lo = 0, .hi = 999.9),
	F("trim_above", T_DBL, trim_above_v, .lo = 0, .hi = 999.9),
	F("double_conversion", T_BOOL, double_conversion),
	F("boost_gain", T_DBL, boost_gain, .lo = 0.5, .hi = 2),
	F("trim_gain", T_DBL, trim_gain, .lo = 0.5, .hi = 2),
};

static const struct field battery_f[] = {
	F("nominal_voltage", T_DBL, battery_nominal_v, .lo = 1, .hi = 999),
	/* `B` is dd.dd below 100 V, ddd.d from 100 V (check_doc) */
	F("float_voltage", T_DBL, battery_float_v, .lo = 0, .hi = 999.9),
	F("voltage", T_DBL, battery_start_v, .lo = 0, .hi = 999.9),
	F("charge", T_DBL, battery_charge, .lo = 0, .hi = 100),
	F("runtime_full_load", T_DBL, runtime_full_load_min, .lo = 0.1,
	  .hi = 9999),
	F("runtime_exponent", T_DBL, runtime_exponent, .lo = 0.5, .hi = 4),
	F("recharge_rate", T_DBL, recharge_pct_per_h, .lo = 0.1, .hi = 1000),
	F("calibration_stop", T_DBL, calibration_stop_pct, .lo = 0, .hi = 100),
	F("packs", T_INT, battery_packs, .lo = 0, .hi = 999),
	F("bad_packs", T_INT, bad_packs, .lo = 0, .hi = 999),
	F("packs_editable", T_BOOL, packs_editable),
};

/* ULS §4 Measure-UPS */
static const struct field accessory_f[] = {
	F("ambient", T_DBL, ambient_c, .lo = -40, .hi = 99.99),
	F("humidity", T_DBL, humidity_pct, .lo = 0, .hi = 100),
	F("contacts", T_U8, contacts, .lo = 0, .hi = 255),
	F("firmware", T_STR, measure_fw, .flags = S_PRINT | S_LEN3),
	F("alarm_enable", T_U8, alarm_enable, .lo = 0, .hi = 255),
};

#define SECT(nm, t) { nm, t, sizeof t / sizeof t[0] }
enum { SEC_TOP, SEC_IDENTITY, SEC_VOLTAGE, SEC_LINK, SEC_BEHAVIOUR,
       SEC_TIMING, SEC_ELECTRICAL, SEC_BATTERY, SEC_ACCESSORY, N_SECT };
_Static_assert(N_SECT <= MAX_SECT, "raise MAX_SECT");
_Static_assert(sizeof timing_f / sizeof timing_f[0] <= MAX_FIELDS &&
	       sizeof electrical_f / sizeof electrical_f[0] <= MAX_FIELDS &&
	       sizeof battery_f / sizeof battery_f[0] <= MAX_FIELDS &&
	       sizeof identity_f / sizeof identity_f[0] <= MAX_FIELDS,
	       "raise MAX_FIELDS");
static const struct section sections[N_SECT] = {
	[SEC_TOP] = SECT(NULL, top_f),
	[SEC_IDENTITY] = SECT("identity", identity_f),
	[SEC_VOLTAGE] = SECT("voltage", voltage_f),
	[SEC_LINK] = SECT("link", link_f),
	[SEC_BEHAVIOUR] = SECT("behaviour", behaviour_f),
	[SEC_TIMING] = SECT("timing", timing_f),
	[SEC_ELECTRICAL] = SECT("electrical", electrical_f),
	[SEC_BATTERY] = SECT("battery", battery_f),
	[SEC_ACCESSORY] = SECT("accessory", accessory_f),
};

/** Spec defaults (ULS; protocol-facts §7), applied before any document. */
static void prof_defaults(struct ups_profile *p)
{
	memset(p, 0, sizeof *p);
	*p = (struct ups_profile){
		.shutdown_ok = "OK",
		/* ULS says > 1.5 s; NUT's K..K gap is ~1.5 s (facts §6.1) */
		.two_press_gap_ms = 1200,
		.entry_timeout_ms = 5000,
		.selftest_ms = 8000,             /* ULS p.4 */
		.test_result_ms = 300000,        /* ULS p.4: 5 min */
		.sim_fail_ms = 6000,
		.eeprom_alert_ms = 5000,         /* facts §5 `|` ⚠ */
		.linefail_repeat_ms = 30000,     /* ULS p.24 */
		.replace_repeat_ms = 18000000,   /* ULS p.25: 5 h */
		.power_on_alert_ms = 0,
		.bypass_ms = 1000,
		.dip_edit_mask = 0x0F,           /* ULS p.10 */
		.copyright = "(C) APCC",         /* ULS p.11 */
		.level = "3",
		.alerts = "!$%+?=#|",            /* facts §2.3 SU420 */
		.locale = 'D',
		.nominal_voltage = 120,
		.nominal_freq = 60,
		.battery_nominal_v = 24,
		.battery_float_v = 27.40,        /* facts §7 */
		.runtime_full_load_min = 6.5,
		.runtime_exponent = 1.5,
		.recharge_pct_per_h = 30,
		.calibration_stop_pct = 25,      /* ULS p.5 */
		.line_voltage = 120.0,
		.line_freq = 60.00,
		.transfer_cause = 'O',           /* ULS p.7: none since turn-on */
		.load_pct = 25,
		.temperature_c = 31.0,
		.battery_charge = 100,
		.boost_gain = 1.12,
		.trim_gain = 0.88,
		.ups_id = "UPS_IDEN",            /* facts §4.3 ⚠ real units */
		.matrix_voltage_select = 'A',    /* ULS p.16 */
		.ambient_c = 24.5,
		.humidity_pct = 41.2,
		.measure_fw = "4Kx",             /* ULS p.27 */
		.alarm_enable = 0xFF,
	};
}

/* ------------------------------------------------------------------ */
/* Scalar fields                                                       */

bool prof_firmware_format(const char *s)
{
	/* NUT-T: ^[[:alnum:]]+\.[[:alnum:]]+\.[[:alnum:]]+$ */
	int parts = 1, run = 0;
	for (; *s; s++) {
		if (*s == '.') {
			if (!run)
				return false;
			parts++;
			run = 0;
		} else if ((*s >= '0' && *s <= '9') || (*s >= 'A' && *s <= 'Z') ||
			   (*s >= 'a' && *s <= 'z')) {
			run++;
		} else {
			return false;
		}
	}
	return parts == 3 && run > 0;
}

/*
 * A date as units send it: three groups of 1-4 digits separated by "/",
 * at most 8 characters.  ULS p.10, p.18 give "dd/mm/yy"; units answer
 * mm/dd/yy (facts §2.5), and a date typed by a host stays as typed
 * ("11/6/03", NUT-DDL Smart-UPS DP 8000 XL battery.date).
 */
bool prof_date_format(const char *s)
{
	int groups = 0, run = 0;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9') {
			if (++run > 4)
				return false;
		} else if (*s == '/' && run > 0 && groups < 2) {
			groups++;
			run = 0;
		} else {
			return false;
		}
	}
	return groups == 2 && run > 0;
}

static enum ups_rc str_field(struct doc *d, const struct field *f,
			     const yaml_node_t *v, const char *path, char *dst)
{
	char buf[512];
	size_t len = 0;
	if (f->size > sizeof buf)
		return UPS_EARG; /* NEVER: table bug */
	enum ups_rc rc = get_bytes(d, v, path, buf, f->size, &len, f->flags,
				   f->type == T_TEXT);
	if (rc)
		return rc;
	if (f->choices) {
		/* "OK|*": the value must be one of the words */
		bool hit = false;
		for (const char *w = f->choices; *w;) {
			size_t wl = strcspn(w, "|");
			hit |= wl == len && memcmp(w, buf, len) == 0;
			w += wl + (w[wl] == '|');
		}
		if (!hit) {
			char list[64];
			size_t o = 0;
			for (const char *c = f->choices; *c && o + 6 < sizeof list;
			     c++) {
				if (*c == '|') {
					memcpy(list + o, " or ", 4);
					o += 4;
				} else {
					list[o++] = *c;
				}
			}
			list[o] = '\0';
			return fail(d, v, "%s: expected %s", path, list);
		}
	}
	if ((f->flags & S_LEN3) && len != 0 && len != 3)
		return fail(d, v, "%s: must be exactly 3 characters (or \"\" "
			    "for none), got %zu", path, len);
	if ((f->flags & S_DATE) && len != 0 && !prof_date_format(buf))
		return fail(d, v, "%s: expected a date of three groups of "
			    "digits separated by \"/\" such as \"mm/dd/yy\" "
			    "or \"11/6/03\"", path);
	if ((f->flags & S_BFMT) && len != 0 && !prof_firmware_format(buf))
		return fail(d, v, "%s: expected SKU.FIRMWARE.COUNTRY such as "
			    "\"601.3.D\" (letters and digits in three parts)",
			    path);
	memcpy(dst, buf, len + 1);
	if (f->len_off)
		*(size_t *)((char *)d->p + f->len_off) = len;
	return UPS_OK;
}

static enum ups_rc apply_field(struct doc *d, int si, const struct field *f,
			       const yaml_node_t *v)
{
	const struct section *sec = &sections[si];
	char path[96];
	if (sec->name)
		snprintf(path, sizeof path, "%s.%s", sec->name, f->key);
	else
		snprintf(path, sizeof path, "%s", f->key);
	d->field_node[si][f - sec->f] = v;

	void *dst = (char *)d->p + f->off;
	double num;
	enum ups_rc rc;
	switch (f->type) {
	case T_TEXT:
	case T_STR:
		return str_field(d, f, v, path, dst);
	case T_INT:
	case T_U8:
	case T_U32:
		rc = get_number(d, v, path, true, f->lo, f->hi, &num);
		if (rc)
			return rc;
		if (f->type == T_INT && f->size == sizeof(int))
			*(int *)dst = (int)num;
		else if (f->type == T_U8 && f->size == sizeof(uint8_t))
			*(uint8_t *)dst = (uint8_t)num;
		else if (f->type == T_U32 && f->size == sizeof(uint32_t))
			*(uint32_t *)dst = (uint32_t)num;
		else
			return UPS_EARG; /* NEVER: table bug */
		return UPS_OK;
	case T_DBL:
		if (f->size != sizeof(double))
			return UPS_EARG;
		return get_number(d, v, path, false, f->lo, f->hi, dst);
	case T_BOOL:
		if ((rc = need_scalar(d, v, path)))
			return rc;
		if (yn_scalar_is(v, "true") || yn_scalar_is(v, "True") ||
		    yn_scalar_is(v, "TRUE"))
			*(bool *)dst = true;
		else if (yn_scalar_is(v, "false") || yn_scalar_is(v, "False") ||
			 yn_scalar_is(v, "FALSE"))
			*(bool *)dst = false;
		else
			return fail(d, v, "%s: expected true or false", path);
		return UPS_OK;
	case T_FLAG2: {
		if ((rc = need_scalar(d, v, path)))
			return rc;
		size_t wl = strcspn(f->choices, "|");
		const char *second = f->choices + wl + 1;
		if (v->data.scalar.length == wl &&
		    !memcmp(v->data.scalar.value, f->choices, wl))
			*(bool *)dst = false;
		else if (yn_scalar_is(v, second))
			*(bool *)dst = true;
		else
			return fail(d, v, "%s: expected %.*s or %s", path,
				    (int)wl, f->choices, second);
		return UPS_OK;
	}
	case T_CHAR:
		if ((rc = need_scalar(d, v, path)))
			return rc;
		if (v->data.scalar.length != 1 ||
		    !strchr(f->choices, v->data.scalar.value[0]) ||
		    v->data.scalar.value[0] == '\0') {
			char list[32];
			size_t o = 0;
			for (const char *c = f->choices; *c && o + 4 < sizeof list;
			     c++)
				o += (size_t)snprintf(list + o, sizeof list - o,
						      "%s%c", o ? " " : "", *c);
			return fail(d, v, "%s: expected one of %s", path,
				    list);
		}
		*(char *)dst = (char)v->data.scalar.value[0];
		return UPS_OK;
	}
	return UPS_EARG;
}

static const struct field *find_field(const struct section *sec,
				      const yaml_node_t *k)
{
	for (size_t i = 0; i < sec->n; i++)
		if (yn_scalar_is(k, sec->f[i].key))
			return &sec->f[i];
	return NULL;
}

static enum ups_rc need_key(struct doc *d, const yaml_node_t *k)
{
	if (k->type == YAML_SCALAR_NODE)
		return UPS_OK;
	return fail(d, k, "keys must be plain words, got a %s", yn_kind_name(k));
}

static enum ups_rc walk_section(struct doc *d, int si, const yaml_node_t *v)
{
	const struct section *sec = &sections[si];
	if (yn_is_null(v))
		return UPS_OK; /* "battery:" with nothing under it */
	if (v->type != YAML_MAPPING_NODE)
		return fail(d, v, "%s: expected a mapping (key: value ...), got "
			    "a %s", sec->name, yn_kind_name(v));
	unsigned seen = 0;
	for (yaml_node_pair_t *pr = v->data.mapping.pairs.start;
	     pr < v->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(d, pr->key), *val = node(d, pr->value);
		enum ups_rc rc = need_key(d, k);
		if (rc)
			return rc;
		const struct field *f = find_field(sec, k);
		if (!f) {
			char keys[160];
			size_t o = 0;
			for (size_t i = 0; i < sec->n && o < sizeof keys; i++)
				o += (size_t)snprintf(keys + o, sizeof keys - o,
						      "%s%s", i ? ", " : "",
						      sec->f[i].key);
			return fail(d, k, "unknown key in section \"%s\" "
				    "(known: %s)", sec->name, keys);
		}
		unsigned bit = 1u << (f - sec->f);
		if (seen & bit)
			return fail(d, k, "%s.%s: duplicate key", sec->name,
				    f->key);
		seen |= bit;
		if ((rc = apply_field(d, si, f, val)))
			return rc;
	}
	return UPS_OK;
}

/** Position of the last node given for sections[si] key @p key, or NULL. */
static const yaml_node_t *field_node(const struct doc *d, int si,
				     const char *key)
{
	for (size_t i = 0; i < sections[si].n; i++)
		if (!strcmp(sections[si].f[i].key, key))
			return d->field_node[si][i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Structured keys: family, commands, eeprom, dump_extra               */

/**
 * A command byte written as one character, "^X" (control character, as
 * ULS names them) or a "\xNN" escape.  Sets *@p out.
 */
static enum ups_rc cmd_byte(struct doc *d, const yaml_node_t *n,
			    const char *path, uint8_t *out)
{
	char buf[8];
	size_t len = 0;
	enum ups_rc rc = need_scalar(d, n, path);
	if (rc)
		return rc;
	if (n->data.scalar.length <= 6 &&
	    get_bytes(d, n, path, buf, sizeof buf, &len, S_NUL_OK, false) ==
		    UPS_OK) {
		unsigned char c0 = (unsigned char)buf[0],
			      c1 = (unsigned char)buf[1];
		if (len == 1) {
			*out = c0;
			return UPS_OK;
		}
		if (len == 2 && c0 == '^' && c1 == '?') {
			*out = 0x7F;
			return UPS_OK;
		}
		if (len == 2 && c0 == '^' &&
		    ((c1 >= '@' && c1 <= '_') || (c1 >= 'a' && c1 <= 'z'))) {
			*out = (uint8_t)(c1 & 0x1F);
			return UPS_OK;
		}
	}
	return fail(d, n, "%s: not a command byte (write one character, ^X "
		    "for a control character, or \"\\xNN\")", path);
}

static enum ups_rc do_family(struct doc *d, const yaml_node_t *v)
{
	char buf[32];
	enum ups_rc rc = need_scalar(d, v, "family");
	if (rc)
		return rc;
	enum ups_family f = 0;
	if (v->data.scalar.length < sizeof buf) {
		memcpy(buf, v->data.scalar.value, v->data.scalar.length);
		buf[v->data.scalar.length] = '\0';
		f = prof_family_from_name(buf);
	}
	if (!f)
		return fail(d, v, "family: unknown family (expected one of: %s)",
			    family_list);
	d->p->family = f;
	d->has_family = true;
	return UPS_OK;
}

static enum ups_rc do_extras(struct doc *d, const yaml_node_t *v)
{
	struct ups_profile *p = d->p;
	uint8_t seen[32] = { 0 };
	if (yn_is_null(v)) {
		p->n_extras = 0; /* "extras: ~" drops the inherited ones */
		return UPS_OK;
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(d, v, "commands.extras: expected a list of "
			    "{ byte: ..., reply: ... }, got a %s", yn_kind_name(v));
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node(d, *it);
		const yaml_node_t *nb = NULL, *nr = NULL;
		char nm[8];
		if (e->type != YAML_MAPPING_NODE)
			return fail(d, e, "commands.extras: each entry is a "
				    "mapping { byte: ..., reply: ... }, got a %s",
				    yn_kind_name(e));
		for (yaml_node_pair_t *pr = e->data.mapping.pairs.start;
		     pr < e->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = node(d, pr->key);
			enum ups_rc rc = need_key(d, k);
			if (rc)
				return rc;
			const yaml_node_t **slot = yn_scalar_is(k, "byte") ? &nb :
						   yn_scalar_is(k, "reply") ? &nr :
						   NULL;
			if (!slot)
				return fail(d, k, "unknown key in section "
					    "\"commands.extras\" (known: byte, "
					    "reply)");
			if (*slot)
				return fail(d, k, "commands.extras.%s: duplicate "
					    "key", slot == &nb ? "byte" : "reply");
			*slot = node(d, pr->value);
		}
		if (!nb || !nr)
			return fail(d, e, "commands.extras: each entry needs both "
				    "\"byte\" and \"reply\"");
		struct prof_extra x = { 0 };
		enum ups_rc rc = cmd_byte(d, nb, "commands.extras.byte", &x.byte);
		if (!rc)
			rc = get_bytes(d, nr, "commands.extras.reply", x.reply,
				       sizeof x.reply, NULL, S_PRINT, false);
		if (rc)
			return rc;
		uint8_t bit = (uint8_t)(1u << (x.byte & 7));
		if (seen[x.byte >> 3] & bit)
			return fail(d, nb, "commands.extras: %s has two entries "
				    "in this list", cmd_byte_name(x.byte, nm));
		seen[x.byte >> 3] |= bit;
		/* a child's entry replaces the parent's for the same byte */
		int i = 0;
		while (i < p->n_extras && p->extras[i].byte != x.byte)
			i++;
		if (i == MAX_EXTRAS)
			return fail(d, e, "commands.extras: too many extras (at "
				    "most %d)", MAX_EXTRAS);
		p->extras[i] = x;
		d->cx->extras_at[i] = origin_of(d, nb);
		if (i == p->n_extras)
			p->n_extras++;
	}
	return UPS_OK;
}

static void set_bit(uint8_t *set, uint8_t b, bool on)
{
	if (on)
		set[b >> 3] |= (uint8_t)(1u << (b & 7));
	else
		set[b >> 3] &= (uint8_t)~(1u << (b & 7));
}

static bool get_bit(const uint8_t *set, uint8_t b)
{
	return (set[b >> 3] >> (b & 7)) & 1u;
}

static enum ups_rc do_commands(struct doc *d, const yaml_node_t *v)
{
	uint8_t add[MAX_CMDSET], remove[MAX_CMDSET];
	size_t n_add = 0, n_remove = 0;
	struct origin add_at = NOWHERE;
	if (yn_is_null(v))
		return UPS_OK;
	if (v->type != YAML_MAPPING_NODE)
		return fail(d, v, "commands: expected a mapping (add, remove, "
			    "extras), got a %s", yn_kind_name(v));
	unsigned seen = 0;
	for (yaml_node_pair_t *pr = v->data.mapping.pairs.start;
	     pr < v->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(d, pr->key), *val = node(d, pr->value);
		char buf[MAX_CMDSET + 1];
		enum ups_rc rc = need_key(d, k);
		if (rc)
			return rc;
		unsigned bit = yn_scalar_is(k, "add") ? 1u :
			       yn_scalar_is(k, "remove") ? 2u :
			       yn_scalar_is(k, "extras") ? 4u : 0u;
		if (!bit)
			return fail(d, k, "unknown key in section \"commands\" "
				    "(known: add, remove, extras)");
		const char *path = bit == 1u ? "commands.add" :
				   bit == 2u ? "commands.remove" :
				   "commands.extras";
		if (seen & bit)
			return fail(d, k, "%s: duplicate key", path);
		seen |= bit;
		if (bit == 4u) {
			rc = do_extras(d, val);
		} else {
			size_t n = 0;
			rc = get_bytes(d, val, path, buf, sizeof buf, &n,
				       S_NUL_OK, false);
			if (!rc && bit == 1u) {
				memcpy(add, buf, n);
				n_add = n;
				add_at = origin_of(d, val);
			} else if (!rc) {
				memcpy(remove, buf, n);
				n_remove = n;
			}
		}
		if (rc)
			return rc;
	}
	/* add, then remove, whatever order the keys came in; the last
	 * document to name a byte decides (finalise() derives the set) */
	for (size_t j = 0; j < n_add; j++) {
		set_bit(d->p->cmd_on, add[j], true);
		set_bit(d->p->cmd_off, add[j], false);
		d->cx->add_at[add[j]] = add_at;
	}
	for (size_t j = 0; j < n_remove; j++) {
		set_bit(d->p->cmd_on, remove[j], false);
		set_bit(d->p->cmd_off, remove[j], true);
		d->cx->add_at[remove[j]] = NOWHERE;
	}
	return UPS_OK;
}

/** Is @p b a command whose value list `-` cycles through (cmdtab)? */
static bool editable(uint8_t b)
{
	const struct cmd_def *row = cmd_lookup(b);
	return b < 128 && row && (row->flags & CF_EDITABLE);
}

static enum ups_rc eeprom_values(struct doc *d, const yaml_node_t *v,
				 const char *path, struct prof_enum *e)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(d, v, "%s.values: expected a list such as [\"132\", "
			    "\"135\"], got a %s", path, yn_kind_name(v));
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *n = node(d, *it);
		char buf[64], vpath[112];
		size_t len = 0;
		snprintf(vpath, sizeof vpath, "%s.values", path);
		if (e->count == PROF_MAX_VALUES)
			return fail(d, n, "%s: too many values (at most %d)",
				    vpath, PROF_MAX_VALUES);
		enum ups_rc rc = get_bytes(d, n, vpath, buf, sizeof buf, &len,
					   S_PRINT, false);
		if (rc)
			return rc;
		if (len == 0)
			return fail(d, n, "%s: empty value", vpath);
		if (len > PROF_MAX_WIDTH)
			return fail(d, n, "%s: a value is %zu characters wide, "
				    "at most %d", vpath, len, PROF_MAX_WIDTH);
		if (e->count && (int)len != e->width)
			return fail(d, n, "%s: values must all have the same "
				    "width (this one has %zu characters, the "
				    "ones before %d)", path, len, e->width);
		e->width = (int)len;
		memcpy(e->values[e->count++], buf, len + 1);
	}
	if (!e->count)
		return fail(d, v, "%s.values: needs 1 to %d values, got none",
			    path, PROF_MAX_VALUES);
	return UPS_OK;
}

/** The index of value @p n names in @p e's list (first match); none: keep. */
static enum ups_rc eeprom_pick(struct doc *d, const yaml_node_t *n,
			       const char *path, const char *what,
			       const struct prof_enum *e, int *idx)
{
	char buf[64], vpath[112];
	size_t len = 0;
	if (!n)
		return UPS_OK;
	snprintf(vpath, sizeof vpath, "%s.%s", path, what);
	enum ups_rc rc = get_bytes(d, n, vpath, buf, sizeof buf, &len, S_PRINT,
				   false);
	if (rc)
		return rc;
	for (int i = 0; i < e->count; i++)
		if (!strcmp(e->values[i], buf)) {
			*idx = i;
			return UPS_OK;
		}
	return fail(d, n, "%s: %s is not one of the values", path, what);
}

static enum ups_rc eeprom_entry(struct doc *d, const yaml_node_t *k,
				const yaml_node_t *v, uint8_t b,
				const char *path)
{
	struct prof_enum e = { .present = true };
	const yaml_node_t *nl = NULL, *nv = NULL, *nd = NULL, *nc = NULL;
	if (yn_is_null(v)) {
		/* "u: ~" drops an inherited list */
		memset(&d->p->eeprom[b], 0, sizeof d->p->eeprom[b]);
		d->cx->eeprom_at[b] = NOWHERE;
		return UPS_OK;
	}
	if (v->type != YAML_MAPPING_NODE)
		return fail(d, v, "%s: expected a mapping { locale: ..., values: "
			    "[...], default: ..., current: ... }, got a %s",
			    path, yn_kind_name(v));
	for (yaml_node_pair_t *pr = v->data.mapping.pairs.start;
	     pr < v->data.mapping.pairs.top; pr++) {
		yaml_node_t *kk = node(d, pr->key);
		enum ups_rc rc = need_key(d, kk);
		if (rc)
			return rc;
		const yaml_node_t **slot = yn_scalar_is(kk, "locale") ? &nl :
					   yn_scalar_is(kk, "values") ? &nv :
					   yn_scalar_is(kk, "default") ? &nd :
					   yn_scalar_is(kk, "current") ? &nc : NULL;
		if (!slot)
			return fail(d, kk, "unknown key in section \"%s\" "
				    "(known: locale, values, default, current)",
				    path);
		if (*slot)
			return fail(d, kk, "%s.%s: duplicate key", path,
				    slot == &nl ? "locale" : slot == &nv ?
				    "values" : slot == &nd ? "default" :
				    "current");
		*slot = node(d, pr->value);
	}
	if (!nl)
		return fail(d, v, "%s: \"locale\" is required (A D I M J, or 4 "
			    "for all voltage versions; ULS p.15)", path);
	if (!nv)
		return fail(d, v, "%s: \"values\" is required", path);

	enum ups_rc rc = need_scalar(d, nl, path);
	if (rc)
		return rc;
	if (nl->data.scalar.length != 1 || !nl->data.scalar.value[0] ||
	    !strchr("ADIMJ4", nl->data.scalar.value[0]))
		return fail(d, nl, "%s.locale: expected one of A D I M J 4 (4 = "
			    "all voltage versions)", path);
	e.locale = (char)nl->data.scalar.value[0];
	if ((rc = eeprom_values(d, nv, path, &e)))
		return rc;
	if ((rc = eeprom_pick(d, nd, path, "default", &e, &e.def)))
		return rc;
	/* the value at start: a unit set up by its owner (NUT-DDL dumps
	 * show e.g. u 264 where the factory value is 253); `z` still
	 * restores the default */
	e.cur = e.def;
	if ((rc = eeprom_pick(d, nc, path, "current", &e, &e.cur)))
		return rc;
	d->p->eeprom[b] = e;
	d->cx->eeprom_at[b] = origin_of(d, k);
	return UPS_OK;
}

static enum ups_rc do_eeprom(struct doc *d, const yaml_node_t *v)
{
	if (yn_is_null(v))
		return UPS_OK;
	if (v->type != YAML_MAPPING_NODE)
		return fail(d, v, "eeprom: expected a mapping of command: "
			    "{ locale, values, default }, got a %s",
			    yn_kind_name(v));
	bool seen[128] = { false };
	for (yaml_node_pair_t *pr = v->data.mapping.pairs.start;
	     pr < v->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(d, pr->key), *val = node(d, pr->value);
		char path[32], nm[8];
		uint8_t b = 0;
		enum ups_rc rc = need_key(d, k);
		if (!rc)
			rc = cmd_byte(d, k, "eeprom", &b);
		if (rc)
			return rc;
		snprintf(path, sizeof path, "eeprom.%s", cmd_byte_name(b, nm));
		if (!editable(b))
			return fail(d, k, "%s: %s is not a customizing command "
				    "(only commands that \"-\" cycles through "
				    "take a value list)", path, nm);
		if (seen[b])
			return fail(d, k, "%s: duplicate key", path);
		seen[b] = true;
		if ((rc = eeprom_entry(d, k, val, b, path)))
			return rc;
	}
	return UPS_OK;
}

/** "uA43110112114108": command, locale, count, width, values (ULS p.15). */
static enum ups_rc dump_item(struct doc *d, const yaml_node_t *n, int i,
			     char *out, size_t cap)
{
	char path[32];
	size_t len = 0;
	snprintf(path, sizeof path, "dump_extra[%d]", i);
	enum ups_rc rc = get_bytes(d, n, path, out, cap, &len, S_NOLINE, false);
	if (rc)
		return rc;
	const unsigned char *s = (const unsigned char *)out;
	if (len < 5 || !editable(s[0]) || !strchr("ADIMJ4", s[1]) ||
	    !s[1] || s[2] < '1' || s[2] > '8' || s[3] < '1' || s[3] > '8')
		return fail(d, n, "%s: not a ^Z item (a customizing command, "
			    "locale, count 1-8, width 1-8, values; e.g. "
			    "\"uA43110112114108\")", path);
	size_t want = (size_t)(s[2] - '0') * (size_t)(s[3] - '0');
	if (len - 4 != want)
		return fail(d, n, "%s: has %zu value characters; count %d x "
			    "width %d needs %zu", path, len - 4, s[2] - '0',
			    s[3] - '0', want);
	for (size_t j = 4; j < len; j++)
		if (s[j] < 0x20 || s[j] > 0x7E || strchr(ALERT_CHARS, s[j]))
			return fail(d, n, "%s: character %zu is not allowed "
				    "(printable ASCII without alert characters)",
				    path, j + 1);
	return UPS_OK;
}

static enum ups_rc do_dump_extra(struct doc *d, const yaml_node_t *v)
{
	struct ups_profile *p = d->p;
	p->n_dump_extra = 0; /* a document's list replaces the inherited one */
	d->cx->dump_extra_at = origin_of(d, v);
	if (yn_is_null(v))
		return UPS_OK;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(d, v, "dump_extra: expected a list of ^Z items, got "
			    "a %s", yn_kind_name(v));
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *n = node(d, *it);
		if (p->n_dump_extra == PROF_MAX_DUMP_EXTRA)
			return fail(d, n, "dump_extra: too many items (at most "
				    "%d)", PROF_MAX_DUMP_EXTRA);
		enum ups_rc rc = dump_item(d, n, p->n_dump_extra,
					   p->dump_extra[p->n_dump_extra],
					   sizeof p->dump_extra[0]);
		if (rc)
			return rc;
		d->cx->dump_extra_item_at[p->n_dump_extra++] = origin_of(d, n);
	}
	return UPS_OK;
}

/*
 * dump_order: the ^Z items in the unit's order, each named by command and
 * locale ("uI", "^L4"), own lists and dump_extra items alike.  A 230 V
 * SU420 lists uD uA uI, its own locale last (FORUM dump, facts §3).  Here
 * each name is checked on its own; finalise() checks that every item the
 * dump has is named exactly once.
 */
static enum ups_rc do_dump_order(struct doc *d, const yaml_node_t *v)
{
	struct ups_profile *p = d->p;
	p->n_dump_order = 0; /* a document's list replaces the inherited one */
	d->cx->dump_order_at = origin_of(d, v);
	if (yn_is_null(v))
		return UPS_OK;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(d, v, "dump_order: expected a list of ^Z items such "
			    "as [uD, uA, uI, e4], got a %s", yn_kind_name(v));
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *n = node(d, *it);
		char buf[8] = { 0 }, path[32], nm[8];
		size_t len = 0;
		int i = p->n_dump_order;
		snprintf(path, sizeof path, "dump_order[%d]", i);
		if (i == PROF_MAX_DUMP_ORDER)
			return fail(d, n, "dump_order: too many items (at most "
				    "%d)", PROF_MAX_DUMP_ORDER);
		enum ups_rc rc = need_scalar(d, n, path);
		if (rc)
			return rc;
		if (n->data.scalar.length > 6 ||
		    get_bytes(d, n, path, buf, sizeof buf, &len, S_NOLINE,
			      false) != UPS_OK)
			len = 0;
		uint8_t cmd = (uint8_t)buf[0];
		char loc = len ? buf[len - 1] : 0;
		if (len == 3 && buf[0] == '^' &&
		    ((buf[1] >= '@' && buf[1] <= '_') ||
		     (buf[1] >= 'a' && buf[1] <= 'z')))
			cmd = (uint8_t)(buf[1] & 0x1F);
		else if (len != 2)
			len = 0;
		if (!len || !loc || !strchr("ADIMJ4", loc) || !editable(cmd))
			return fail(d, n, "%s: not a ^Z item name (a customizing "
				    "command and its locale A D I M J or 4, e.g. "
				    "uI, e4, ^L4)", path);
		for (int j = 0; j < i; j++)
			if (p->dump_order[j][0] == cmd &&
			    p->dump_order[j][1] == (uint8_t)loc)
				return fail(d, n, "dump_order: %s%c is named twice",
					    cmd_byte_name(cmd, nm), loc);
		p->dump_order[i][0] = cmd;
		p->dump_order[i][1] = (uint8_t)loc;
		d->cx->dump_order_item_at[p->n_dump_order++] = origin_of(d, n);
	}
	return UPS_OK;
}

/* ------------------------------------------------------------------ */
/* Documents                                                           */

static enum ups_rc load_doc(struct ctx *cx, const char *spec,
			    const char *from, int depth, struct ups_profile *p,
			    struct ups_diag *rd, bool *found);

static enum ups_rc do_inherit(struct doc *d, const yaml_node_t *k,
			      const yaml_node_t *v, bool first)
{
	char spec[256];
	size_t len = 0;
	if (d->cx->overlay)
		return fail(d, k, "inherit: not allowed here (an overlay "
			    "applies on top of a profile already loaded)");
	if (!first)
		return fail(d, k, "inherit: must be the first key (the parent is "
			    "loaded before this document's keys apply)");
	enum ups_rc rc = get_bytes(d, v, "inherit", spec, sizeof spec, &len,
				   S_NOLINE, false);
	if (rc)
		return rc;
	if (len == 0)
		return fail(d, v, "inherit: expected a profile name or path");
	if (d->depth >= MAX_DEPTH)
		return fail(d, v, "inherit: nested more than %d levels deep (is "
			    "there a loop?)", MAX_DEPTH);
	struct ups_diag rd;
	bool found = false;
	memset(&rd, 0, sizeof rd);
	rc = load_doc(d->cx, spec, d->cx->src[d->idx], d->depth + 1, d->p,
		      &rd, &found);
	if (rc && !found) {
		/* the resolver's failure, told at this document's inherit:
		 * what is wrong, not what the file holds */
		int e = errno;
		if (rc == UPS_ENOTFOUND)
			return fail(d, v, "inherit: no such profile (built-in "
				    "names: upssim --list-profiles; or NAME.yaml "
				    "in UPSSIM_PROFILE_PATH or next to this "
				    "file)");
		fail(d, v, "inherit: %s", rd.msg);
		errno = e;
		return rc;
	}
	d->inherited = true;
	return rc;
}

enum top_key { K_INHERIT, K_FAMILY, K_COMMANDS, K_EEPROM, K_DUMP_EXTRA,
	       K_DUMP_ORDER, K_FIELD, K_SECTION };

static const struct {
	const char *key;
	enum top_key kind;
	int sect;
} top_keys[] = {
	{ "inherit", K_INHERIT, 0 },
	{ "description", K_FIELD, SEC_TOP },
	{ "family", K_FAMILY, 0 },
	{ "measure_ups", K_FIELD, SEC_TOP },
	{ "identity", K_SECTION, SEC_IDENTITY },
	{ "voltage", K_SECTION, SEC_VOLTAGE },
	{ "link", K_SECTION, SEC_LINK },
	{ "commands", K_COMMANDS, 0 },
	{ "behaviour", K_SECTION, SEC_BEHAVIOUR },
	{ "timing", K_SECTION, SEC_TIMING },
	{ "eeprom", K_EEPROM, 0 },
	{ "dump_extra", K_DUMP_EXTRA, 0 },
	{ "dump_order", K_DUMP_ORDER, 0 },
	{ "electrical", K_SECTION, SEC_ELECTRICAL },
	{ "battery", K_SECTION, SEC_BATTERY },
	{ "accessory", K_SECTION, SEC_ACCESSORY },
};
#define N_TOP_KEYS (sizeof top_keys / sizeof top_keys[0])

static enum ups_rc walk_top(struct doc *d, const yaml_node_t *root)
{
	if (root->type != YAML_MAPPING_NODE)
		return fail(d, root, "a profile is a mapping of keys (family: "
			    "..., identity: ...), got a %s", yn_kind_name(root));
	unsigned seen = 0;
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(d, pr->key), *v = node(d, pr->value);
		enum ups_rc rc = need_key(d, k);
		if (rc)
			return rc;
		size_t i = 0;
		while (i < N_TOP_KEYS && !yn_scalar_is(k, top_keys[i].key))
			i++;
		if (i == N_TOP_KEYS) {
			char keys[200];
			size_t o = 0;
			for (size_t j = 0; j < N_TOP_KEYS && o < sizeof keys; j++)
				o += (size_t)snprintf(keys + o, sizeof keys - o,
						      "%s%s", j ? ", " : "",
						      top_keys[j].key);
			return fail(d, k, "unknown top-level key (known: %s)",
				    keys);
		}
		if (seen & (1u << i))
			return fail(d, k, "%s: duplicate key", top_keys[i].key);
		seen |= 1u << i;
		switch (top_keys[i].kind) {
		case K_INHERIT:
			rc = do_inherit(d, k, v, pr == root->data.mapping.pairs.start);
			break;
		case K_FAMILY:
			rc = do_family(d, v);
			break;
		case K_COMMANDS:
			rc = do_commands(d, v);
			break;
		case K_EEPROM:
			rc = do_eeprom(d, v);
			break;
		case K_DUMP_EXTRA:
			rc = do_dump_extra(d, v);
			break;
		case K_DUMP_ORDER:
			rc = do_dump_order(d, v);
			break;
		case K_FIELD:
			rc = apply_field(d, SEC_TOP,
					 find_field(&sections[SEC_TOP], k), v);
			break;
		case K_SECTION:
			rc = walk_section(d, top_keys[i].sect, v);
			break;
		}
		if (rc)
			return rc;
	}
	return UPS_OK;
}

/** The first of @p a, @p b given in this document, else @p root. */
static const yaml_node_t *pick(const yaml_node_t *a, const yaml_node_t *b,
			       const yaml_node_t *root)
{
	return a ? a : b ? b : root;
}

/**
 * Checks across keys, on the merged profile after each document.  An error
 * points at this document's key that takes part, else at its first line
 * (an inherited profile has passed the same checks already).
 */
static enum ups_rc check_doc(struct doc *d, const yaml_node_t *root)
{
	const struct ups_profile *p = d->p;
	if (!d->inherited && !d->has_family)
		return fail(d, root, "family: missing (every profile needs a "
			    "family, unless it starts with inherit: NAME)");

	const yaml_node_t *nom = field_node(d, SEC_VOLTAGE, "nominal"),
			  *boost = field_node(d, SEC_ELECTRICAL, "boost_below"),
			  *trim = field_node(d, SEC_ELECTRICAL, "trim_above");
	if (p->boost_below_v > 0 && p->boost_below_v >= p->nominal_voltage)
		return fail(d, pick(boost, nom, root), "electrical."
			    "boost_below: must be below voltage.nominal (or 0 "
			    "for no SmartBoost)");
	if (p->trim_above_v > 0 && p->trim_above_v <= p->nominal_voltage)
		return fail(d, pick(trim, nom, root), "electrical."
			    "trim_above: must be above voltage.nominal (or 0 "
			    "for no SmartTrim)");
	if (p->rated_w > p->rated_va && p->rated_va > 0)
		return fail(d, pick(field_node(d, SEC_ELECTRICAL, "rated_w"),
				    field_node(d, SEC_ELECTRICAL, "rated_va"), root),
			    "electrical.rated_w: more watts than rated_va "
			    "volt-amperes");
	if (p->bad_packs > p->battery_packs)
		return fail(d, pick(field_node(d, SEC_BATTERY, "bad_packs"),
				    field_node(d, SEC_BATTERY, "packs"), root),
			    "battery.bad_packs: more bad packs than "
			    "battery.packs");
	/* M and N are the extremes since the last read: L lies between */
	const yaml_node_t *lv = field_node(d, SEC_ELECTRICAL, "line_voltage");
	if (p->line_max > 0 && p->line_max < p->line_voltage)
		return fail(d, pick(field_node(d, SEC_ELECTRICAL, "line_max"), lv,
				    root), "electrical.line_max: below "
			    "electrical.line_voltage (M is the highest line "
			    "voltage since the last read)");
	if (p->line_min > p->line_voltage)
		return fail(d, pick(field_node(d, SEC_ELECTRICAL, "line_min"), lv,
				    root), "electrical.line_min: above "
			    "electrical.line_voltage (N is the lowest line "
			    "voltage since the last read)");
	/* `B` is dd.dd (ULS p.13) below 100 V; packs of 100 V and more send
	 * ddd.d (NUT-DDL RT 3000 XL "218.1", NUT #180 RT 10000 XL "219.2") */
	if (p->battery_nominal_v < 100 &&
	    (p->battery_float_v > 99.99 || p->battery_start_v > 99.99))
		return fail(d, pick(p->battery_float_v > 99.99 ?
				    field_node(d, SEC_BATTERY, "float_voltage") :
				    field_node(d, SEC_BATTERY, "voltage"),
				    field_node(d, SEC_BATTERY, "nominal_voltage"),
				    root), "battery: B answers dd.dd for a pack "
			    "under 100 V, so at most 99.99 (or give "
			    "battery.nominal_voltage of 100 or more)");
	/* a unit that refuses `-` in typed text has none in its own */
	if (p->entry_hyphen_refused) {
		static const char *const keys[] = { "ups_id", "battery_date" };
		const char *vals[] = { p->ups_id, p->battery_date };
		for (int i = 0; i < 2; i++)
			if (strchr(vals[i], '-'))
				return fail(d, pick(field_node(d, SEC_IDENTITY,
							       keys[i]),
						    field_node(d, SEC_BEHAVIOUR,
							       "entry_hyphen"),
						    root), "identity.%s: \"-\" "
					    "is not allowed with behaviour."
					    "entry_hyphen: refuse (ULS p.17-18)",
					    keys[i]);
	}

	const yaml_node_t *loc = field_node(d, SEC_VOLTAGE, "locale");
	for (int b = 0; b < 128; b++) {
		const struct prof_enum *e = &p->eeprom[b];
		char nm[8];
		if (!e->present || e->locale == '4' || e->locale == p->locale)
			continue;
		cmd_byte_name((uint8_t)b, nm);
		if (d->cx->eeprom_at[b].doc == d->idx)
			return fail_at(d->cx, d->cx->eeprom_at[b], "eeprom.%s: "
				       "locale %c does not match voltage.locale "
				       "%c (use 4 for a list shared by all "
				       "voltage versions)", nm, e->locale,
				       p->locale);
		return fail(d, pick(loc, NULL, root), "voltage.locale: %c "
			    "does not match the inherited eeprom.%s list "
			    "(locale %c); give this profile its own list",
			    p->locale, nm, e->locale);
	}
	return UPS_OK;
}

/** Report a libyaml failure as file:line:col. */
static enum ups_rc yaml_error(struct ctx *cx, int idx, const yaml_parser_t *yp,
			      const char *text, size_t len)
{
	struct yn_problem w;
	yn_parser_problem(yp, text, len, 0, &w);
	if (w.nomem) {
		ups_diag_set(cx->diag, cx->src[idx], 0, 0, "out of memory");
		return UPS_ENOMEM;
	}
	return fail_at(cx, (struct origin){ idx, w.line, w.col }, "%s", w.msg);
}

/* Bound the document before it is built (yn_check_shape).  A profile
 * nests 4 levels (eeprom -> u -> values -> item) and has ~300 nodes. */
#define MAX_NEST 32
#define MAX_EVENTS 50000

static enum ups_rc check_shape(struct ctx *cx, int idx, const char *text,
			       size_t len)
{
	struct yn_problem w;
	enum yn_shape sh = yn_check_shape(text, len, MAX_NEST, MAX_EVENTS, false, &w);
	struct origin o = { idx, w.line, w.col };
	switch (sh) {
	case YN_SHAPE_OK:
	case YN_SHAPE_DOCUMENTS:
		return UPS_OK;
	case YN_SHAPE_SYNTAX:
		if (w.nomem) {
			ups_diag_set(cx->diag, cx->src[idx], 0, 0, "out of memory");
			return UPS_ENOMEM;
		}
		return fail_at(cx, o, "%s", w.msg);
	case YN_SHAPE_DEEP:
		return fail_at(cx, o, "nested more than %d levels deep "
			       "(a profile needs 4)", MAX_NEST);
	case YN_SHAPE_LARGE:
		break;
	}
	return fail_at(cx, o, "too many YAML nodes (more than %d; "
		       "a profile has a few hundred)", MAX_EVENTS);
}

/**
 * Apply one document to @p p: on top of the spec defaults, or (prof_overlay)
 * on top of the profile as it is.  @p src is its ups_profile.source;
 * @p name the name to record (escaped: it comes from a file name).
 */
static enum ups_rc parse_doc(struct ctx *cx, const char *name,
			     const char *src, const char *text, size_t len,
			     int depth, struct ups_profile *p)
{
	char shown[256];
	if (cx->n_docs >= MAX_DOCS)
		return UPS_EARG; /* NEVER: depth is checked by do_inherit */
	int idx = cx->n_docs++;
	struct origin top = { idx, 0, 0 };
	snprintf(cx->src[idx], sizeof cx->src[idx], "%s", src);
	ups_escape(shown, sizeof shown, name);
	if (strlen(shown) >= sizeof p->name)
		return fail_at(cx, top, "profile name \"%.40s...\" is too long "
			       "(at most %zu characters)", shown,
			       sizeof p->name - 1);
	if (len > MAX_TEXT)
		return fail_at(cx, top, "profile is too large (%zu bytes, at "
			       "most %d)", len, MAX_TEXT);
	enum ups_rc rc = check_shape(cx, idx, text, len);
	if (rc)
		return rc;
	if (!cx->overlay)
		prof_defaults(p);

	yaml_parser_t yp;
	yaml_document_t y;
	if (!yaml_parser_initialize(&yp)) {
		ups_diag_set(cx->diag, src, 0, 0, "out of memory");
		return UPS_ENOMEM;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	if (!yaml_parser_load(&yp, &y)) {
		rc = yaml_error(cx, idx, &yp, text, len);
		yaml_parser_delete(&yp);
		return rc;
	}
	struct doc d = { .cx = cx, .idx = idx, .depth = depth, .y = &y, .p = p,
			 .inherited = cx->overlay };
	const yaml_node_t *root = yaml_document_get_root_node(&y);
	if (!root && !cx->overlay)
		rc = fail_at(cx, (struct origin){ idx, 1, 1 }, "empty profile "
			     "(expected a mapping with at least \"family\")");
	else if (root && !(rc = walk_top(&d, root)))
		rc = check_doc(&d, root);
	yaml_document_delete(&y);

	if (!rc) {
		/* anything after the first document is a mistake */
		yaml_document_t y2;
		if (!yaml_parser_load(&yp, &y2)) {
			rc = yaml_error(cx, idx, &yp, text, len);
		} else {
			const yaml_node_t *r2 = yaml_document_get_root_node(&y2);
			if (r2)
				rc = fail_at(cx, origin_of(&d, r2), "only one "
					     "YAML document per profile (a "
					     "second one starts here)");
			yaml_document_delete(&y2);
		}
	}
	yaml_parser_delete(&yp);
	if (rc)
		return rc;
	if (!cx->overlay) {
		snprintf(p->name, sizeof p->name, "%s", shown);
		snprintf(p->source, sizeof p->source, "%s", src);
	}
	return UPS_OK;
}

/* Alarm-limit choices of the Measure-UPS itself (ULS p.29-30). */
static const struct {
	uint8_t cmd;
	const char *values[4];
} measure_limits[] = {
	{ '[', { "32.13", "45.90", "54.06", "23.97" } },
	{ ']', { "04.08", "09.94", "14.02", "18.10" } },
	{ '{', { "070.0", "080.0", "084.5", "090.1" } },
	{ '}', { "010.0", "020.1", "030.2", "040.3" } },
};

/** The accessory's `&` alert and its alarm-limit lists, where answered. */
static void measure_extras(struct ups_profile *p)
{
	/* the accessory's own alert (ULS p.25; the ULS `a` example lists it) */
	size_t n = strlen(p->alerts);
	if (!strchr(p->alerts, '&') && n + 1 < sizeof p->alerts) {
		p->alerts[n] = '&';
		p->alerts[n + 1] = '\0';
	}
	for (size_t i = 0; i < sizeof measure_limits / sizeof measure_limits[0]; i++) {
		uint8_t b = measure_limits[i].cmd;
		struct prof_enum *e = &p->eeprom[b];
		if (e->present || !prof_supports(p, b) || prof_extra(p, b))
			continue;
		e->present = true;
		e->locale = '4';
		e->count = 4;
		e->width = 5;
		e->def = e->cur = 0;
		for (int v = 0; v < 4; v++)
			snprintf(e->values[v], sizeof e->values[v], "%s",
				 measure_limits[i].values[v]);
	}
}

/** Measure-UPS rows of the family, unless commands.remove took them out. */
static void measure_rows(struct ups_profile *p)
{
	for (int b = 0; b < 256; b++) {
		const struct cmd_def *row = cmd_lookup((uint8_t)b);
		if (row && (row->flags & CF_MEASURE) &&
		    (row->families & p->family) && !get_bit(p->cmd_off, (uint8_t)b))
			prof_set_supported(p, (uint8_t)b, true);
	}
}

void prof_attach_measure_ups(struct ups_profile *p)
{
	p->measure_ups = true;
	measure_rows(p);
	measure_extras(p);
}

/** Which of two origins was applied last (a child's keys after its parent's). */
static struct origin later(struct origin a, struct origin b)
{
	/* documents are numbered as they start: the top one is 0 and its
	 * parent 1, but a parent's keys all apply before its child's */
	int ra = a.doc < 0 ? -1 : MAX_DOCS - a.doc,
	    rb = b.doc < 0 ? -1 : MAX_DOCS - b.doc;
	if (ra != rb)
		return ra > rb ? a : b;
	if (a.line != b.line)
		return a.line > b.line ? a : b;
	return a.col >= b.col ? a : b;
}

/** Does the ^Z reply carry @p b's own list (model.c ups_dump_string)? */
static bool own_in_dump(const struct ups_profile *p, uint8_t b)
{
	return b < 128 && p->eeprom[b].present && prof_supports(p, b) &&
	       !prof_extra(p, b);
}

/*
 * The ^Z items of the merged profile: no item twice (an own list and a
 * dump_extra item, or two dump_extra items, with the same command and
 * locale), and with dump_order every item named exactly once, every name
 * an item.  Without dump_order the dump follows ULS p.15's command order,
 * so a dump_extra item for another command would never be sent.
 */
static enum ups_rc check_dump(struct ctx *cx, const struct ups_profile *p)
{
	static const char uls_order[] = "uleosqpkrEw"; /* model.c dump_order */
	char nm[8];
	for (int i = 0; i < p->n_dump_extra; i++) {
		uint8_t c = (uint8_t)p->dump_extra[i][0];
		char loc = p->dump_extra[i][1];
		struct origin at = cx->dump_extra_item_at[i];
		cmd_byte_name(c, nm);
		if (own_in_dump(p, c) && p->eeprom[c].locale == loc)
			return fail_at(cx, at, "dump_extra[%d]: %s%c is the "
				       "unit's own eeprom.%s list; a ^Z item may "
				       "appear once", i, nm, loc, nm);
		for (int j = 0; j < i; j++)
			if ((uint8_t)p->dump_extra[j][0] == c &&
			    p->dump_extra[j][1] == loc)
				return fail_at(cx, at, "dump_extra[%d]: %s%c is "
					       "already dump_extra[%d]; a ^Z item "
					       "may appear once", i, nm, loc, j);
		if (!p->n_dump_order && !strchr(uls_order, (int)c))
			return fail_at(cx, at, "dump_extra[%d]: %s items are "
				       "sent only where dump_order names them "
				       "(the ULS order has %s)", i, nm,
				       uls_order);
	}
	if (!p->n_dump_order)
		return UPS_OK;
	uint8_t named[128][6] = { { 0 } }; /* [cmd][locale] named in order */
	static const char locales[] = "ADIMJ4";
	for (int i = 0; i < p->n_dump_order; i++) {
		uint8_t c = p->dump_order[i][0];
		char loc = (char)p->dump_order[i][1];
		bool found = own_in_dump(p, c) && p->eeprom[c].locale == loc;
		for (int j = 0; j < p->n_dump_extra && !found; j++)
			found = (uint8_t)p->dump_extra[j][0] == c &&
				p->dump_extra[j][1] == loc;
		if (!found)
			return fail_at(cx, later(cx->dump_order_item_at[i],
						 cx->dump_extra_at),
				       "dump_order[%d]: %s%c names no ^Z item "
				       "(no eeprom.%s list of locale %c that the "
				       "unit answers, no such dump_extra item)",
				       i, cmd_byte_name(c, nm), loc, nm, loc);
		named[c & 0x7F][strchr(locales, loc) - locales] = 1;
	}
	struct origin at = later(cx->dump_order_at, cx->dump_extra_at);
	for (const char *c = uls_order; *c; c++) {
		const struct prof_enum *e = &p->eeprom[(uint8_t)*c];
		if (own_in_dump(p, (uint8_t)*c) &&
		    !named[(uint8_t)*c][strchr(locales, e->locale) - locales])
			return fail_at(cx, later(at, cx->eeprom_at[(uint8_t)*c]),
				       "dump_order: does not name %c%c, the "
				       "unit's own eeprom.%c list; name every "
				       "item of the ^Z reply", *c, e->locale,
				       *c);
	}
	for (int i = 0; i < p->n_dump_extra; i++) {
		uint8_t c = (uint8_t)p->dump_extra[i][0];
		char loc = p->dump_extra[i][1];
		if (!named[c & 0x7F][strchr(locales, loc) - locales])
			return fail_at(cx, later(at, cx->dump_extra_item_at[i]),
				       "dump_order: does not name %s%c, "
				       "dump_extra[%d]; name every item of the "
				       "^Z reply", cmd_byte_name(c, nm), loc, i);
	}
	return UPS_OK;
}

/**
 * Derive the command set (docs/profiles.md "commands") and run the checks
 * that need it, on the merged profile: family rows (Measure-UPS rows when
 * measure_ups), the net commands.add / commands.remove, V and b only with
 * their strings; then the extras, each for a byte the table leaves
 * unanswered; then the reply-size limit.
 */
static enum ups_rc finalise(struct ctx *cx, struct ups_profile *p)
{
	char nm[8];
	memset(p->supported, 0, sizeof p->supported);
	for (int b = 0; b < 256; b++) {
		const struct cmd_def *row = cmd_lookup((uint8_t)b);
		if (row && (row->families & p->family) &&
		    !(row->flags & CF_MEASURE))
			prof_set_supported(p, (uint8_t)b, true);
	}
	if (p->measure_ups)
		measure_rows(p);
	for (int b = 0; b < 256; b++) {
		uint8_t c = (uint8_t)b;
		if (get_bit(p->cmd_on, c) && cmd_lookup(c))
			prof_set_supported(p, c, true);
		else if (get_bit(p->cmd_on, c) && !prof_extra(p, c))
			return fail_at(cx, cx->add_at[c], "commands.add: %s has "
				       "no command-table row; give it a fixed "
				       "reply under commands.extras instead",
				       cmd_byte_name(c, nm));
		if (get_bit(p->cmd_off, c))
			prof_set_supported(p, c, false);
	}
	if (!p->firmware_v[0])
		prof_set_supported(p, 'V', false);
	if (!p->firmware_b[0])
		prof_set_supported(p, 'b', false);

	/* an extras entry where the table answers would never be used */
	for (int i = 0; i < p->n_extras; i++) {
		uint8_t b = p->extras[i].byte;
		if (prof_supports(p, b))
			return fail_at(cx, later(cx->extras_at[i], cx->add_at[b]),
				       "commands.extras: the command table "
				       "already answers %s for this profile "
				       "(family %s%s); to give a fixed reply "
				       "instead, take it out with "
				       "commands.remove first",
				       cmd_byte_name(b, nm),
				       prof_family_name(p->family),
				       get_bit(p->cmd_on, b) ?
				       ", commands.add" : "");
	}
	for (int b = 0; b < 128; b++)
		if (p->eeprom[b].present && !prof_supports(p, (uint8_t)b))
			return fail_at(cx, cx->eeprom_at[b], "eeprom.%s: this "
				       "profile does not answer %s (family %s); "
				       "add it with commands.add or drop the "
				       "list", cmd_byte_name((uint8_t)b, nm), nm,
				       prof_family_name(p->family));
	if (p->measure_ups)
		measure_extras(p);
	for (int i = 0; i < p->n_extras; i++)
		prof_set_supported(p, p->extras[i].byte, true);
	enum ups_rc rc = check_dump(cx, p);
	if (rc)
		return rc;

	size_t most = ups_reply_max(p);
	if (most > UPS_REPLY_MAX) {
		/* only the ^Z dump can grow this long (see ups_reply_max) */
		struct origin at = later(cx->dump_extra_at, cx->dump_order_at);
		for (int b = 0; b < 128; b++)
			if (p->eeprom[b].present)
				at = later(at, cx->eeprom_at[b]);
		return fail_at(cx, at, "the ^Z reply would be %zu bytes, more "
			       "than the %d a reply may have; drop dump_extra "
			       "items or eeprom values", most, UPS_REPLY_MAX);
	}
	return UPS_OK;
}

/* ------------------------------------------------------------------ */
/* Finding documents: built-ins here, everything else from the resolver */

static const struct prof_builtin *find_builtin(const char *name)
{
	for (const struct prof_builtin *b = prof_builtins; b->name; b++)
		if (strcmp(b->name, name) == 0)
			return b;
	return NULL;
}

/** The name a document gets: its source's file stem ("d/mine.yaml"). */
static void source_stem(const char *src, char *out, size_t cap)
{
	const char *base = strrchr(src, '/');
	base = base ? base + 1 : src;
	size_t n = strlen(base);
	if (n >= 5 && !strcmp(base + n - 5, ".yaml"))
		n -= 5;
	snprintf(out, cap, "%.*s", (int)n, base);
}

/**
 * Find and parse @p spec: a built-in profile by name, else the document
 * the resolver finds.  The resolver's failures go to @p rd and leave
 * *@p found false; everything after it (parsing) reports to cx->diag.
 */
static enum ups_rc load_doc(struct ctx *cx, const char *spec,
			    const char *from, int depth, struct ups_profile *p,
			    struct ups_diag *rd, bool *found)
{
	char q[192], name[256];
	*found = false;
	const struct prof_builtin *b = find_builtin(spec);
	if (b) {
		char src[128];
		snprintf(src, sizeof src, "builtin:%s", b->name);
		*found = true;
		return parse_doc(cx, b->name, src, b->text, b->len, depth, p);
	}
	if (!cx->res || !cx->res->read) {
		ups_diag_set(rd, spec, 0, 0, "unknown profile \"%s\" (not a "
			     "built-in profile: run \"upssim --list-profiles\" "
			     "to see their names)", show(q, sizeof q, spec,
							 strlen(spec)));
		return UPS_ENOTFOUND;
	}
	struct prof_text t;
	memset(&t, 0, sizeof t);
	enum ups_rc rc = cx->res->read(cx->res->ctx, spec, from, &t, rd);
	if (rc) {
		if (!rd->msg[0])
			ups_diag_set(rd, spec, 0, 0, "cannot read the profile: "
				     "%s", ups_strerror(rc));
		return rc;
	}
	*found = true;
	t.source[sizeof t.source - 1] = '\0';
	if (!t.text && t.len) {
		rc = UPS_EARG; /* NEVER: a resolver bug */
		ups_diag_set(cx->diag, t.source, 0, 0, "resolver gave no text");
	} else {
		source_stem(t.source, name, sizeof name);
		rc = parse_doc(cx, name, t.source, t.text ? t.text : "", t.len,
			       depth, p);
	}
	if (cx->res->release)
		cx->res->release(cx->res->ctx, &t);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */

enum ups_rc prof_parse_from(const struct prof_resolver *r, const char *name,
			    const char *src, const char *text, size_t len,
			    struct ups_profile *out, struct ups_diag *diag)
{
	if (!out || (!text && len)) {
		ups_diag_set(diag, src ? src : "", 0, 0, "invalid argument");
		return UPS_EARG;
	}
	struct ctx *cx = ctx_new(diag, r);
	if (!cx) {
		ups_diag_set(diag, src ? src : "", 0, 0, "out of memory");
		return UPS_ENOMEM;
	}
	enum ups_rc rc = parse_doc(cx, name ? name : "",
				   src ? src : name ? name : "<profile>",
				   text ? text : "", len, 0, out);
	if (!rc)
		rc = finalise(cx, out);
	free(cx);
	return rc;
}

enum ups_rc prof_parse(const char *name, const char *src, const char *text,
		       size_t len, struct ups_profile *out,
		       struct ups_diag *diag)
{
	return prof_parse_from(NULL, name, src, text, len, out, diag);
}

enum ups_rc prof_load_from(const struct prof_resolver *r,
			   const char *name_or_path, struct ups_profile *out,
			   struct ups_diag *diag)
{
	if (!out || !name_or_path || !*name_or_path) {
		ups_diag_set(diag, "", 0, 0, "no profile name given");
		return UPS_EARG;
	}
	struct ctx *cx = ctx_new(diag, r);
	if (!cx) {
		ups_diag_set(diag, name_or_path, 0, 0, "out of memory");
		return UPS_ENOMEM;
	}
	struct ups_diag rd;
	bool found = false;
	memset(&rd, 0, sizeof rd);
	enum ups_rc rc = load_doc(cx, name_or_path, NULL, 0, out, &rd, &found);
	if (rc && !found && diag) {
		int e = errno;
		*diag = rd;
		errno = e;
	}
	if (!rc)
		rc = finalise(cx, out);
	free(cx);
	return rc;
}

enum ups_rc prof_overlay(struct ups_profile *p, const char *yaml, size_t len,
			 const char *filename, struct ups_diag *d)
{
	const char *src = filename ? filename : "<overlay>";
	if (!p || (!yaml && len)) {
		ups_diag_set(d, src, 0, 0, "invalid argument");
		return UPS_EARG;
	}
	struct ctx *cx = ctx_new(d, NULL);
	struct ups_profile *work = malloc(sizeof *work);
	if (!cx || !work) {
		free(cx);
		free(work);
		ups_diag_set(d, src, 0, 0, "out of memory");
		return UPS_ENOMEM;
	}
	cx->overlay = true;
	*work = *p;
	enum ups_rc rc = parse_doc(cx, p->name, src, yaml ? yaml : "", len, 0,
				   work);
	if (!rc)
		rc = finalise(cx, work);
	if (!rc)
		*p = *work;
	free(work);
	free(cx);
	return rc;
}
