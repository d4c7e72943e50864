/*
 * scenario.c - loads scenario files and control lines: YAML text in
 * (libyaml document API), struct scen / struct scen_action out.  This file
 * owns the scenario format documented in docs/scenarios.md: the key tables
 * below are the single list of accepted keys, their value rules and the
 * ups_event or wire_fault each becomes, and the same event table serves
 * timeline entries, the `initial` section and control lines.  Every error
 * lands in the caller's struct ups_diag as file:line:col plus a message
 * that, as the profile loader's, never quotes the document (a file the
 * user may not read must not come back in an error): it names the
 * schema's words, ranges and durations the loader worked out, and at most
 * suggests the schema key nearest to an unknown one.  Pure: no file is
 * opened, no clock is read; repeats are expanded and the steps sorted here.
 * Fault names are ups_fault_name()'s (sim/core/model.c), so a scenario,
 * the control socket and the model's logs spell them alike.
 */
#include "upssim/yaml_node.h"
#include "upssim/scenario.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_TEXT PROF_MAX_TEXT  /* bytes in one scenario document */
#define MAX_LINE 4096           /* bytes in one control line */
#define MAX_NEST 32             /* a scenario nests ~8 (override: eeprom) */
#define MAX_EVENTS 1000000      /* YAML events in one document */
#define DAY_MS 86400000ull
#define MAX_DUR_MS (3650 * DAY_MS) /* ten years: no overflow anywhere */
#define MAX_VOLTS 999.9         /* `L` answers ddd.d (ULS line_voltage) */
#define MAX_HZ 99.99            /* `F` answers dd.dd (ULS line_frequency) */
#define MAX_COUNT 1000000       /* wire drop / corrupt byte counts */
#define CONTROL_SRC "<control>"

/* ------------------------------------------------------------------ */
/* Durations                                                           */

/* Units, largest first: a duration names each at most once, in order. */
static const struct {
	const char *sfx;
	uint64_t ms;
} units[] = {
	{ "d", DAY_MS }, { "h", 3600000 }, { "m", 60000 }, { "s", 1000 },
	{ "ms", 1 },
};
#define N_UNITS (sizeof units / sizeof units[0])
#define UNIT_S 3

enum dur_err { DUR_OK, DUR_SYNTAX, DUR_ORDER, DUR_FRACTION, DUR_RANGE };

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/**
 * Parse "250ms", "30s", "1h30m", "1h 30m", "1.5h", or a bare number of
 * seconds, exactly (integer arithmetic: "0.1s" is 100 ms, not 99).
 */
static enum dur_err parse_dur(const char *s, size_t n, uint64_t *out)
{
	size_t i = 0;
	uint64_t total = 0;
	int last = -1;
	bool any = false;
	while (i < n && s[i] == ' ')
		i++;
	while (i < n) {
		uint64_t ip = 0, fp = 0, scale = 1;
		size_t nd = 0, nf = 0;
		bool too_fine = false, big = false;
		for (; i < n && is_digit(s[i]); i++, nd++) {
			if (ip > MAX_DUR_MS)
				big = true;
			else
				ip = ip * 10 + (uint64_t)(s[i] - '0');
		}
		if (i < n && s[i] == '.') {
			i++;
			for (; i < n && is_digit(s[i]); i++, nf++) {
				if (nf < 9) {
					fp = fp * 10 + (uint64_t)(s[i] - '0');
					scale *= 10;
				} else if (s[i] != '0') {
					/* a 10th decimal of a day is < 1 ms */
					too_fine = true;
				}
			}
			if (nf == 0)
				return DUR_SYNTAX; /* "5." */
		}
		if (nd == 0 && nf == 0)
			return DUR_SYNTAX;
		int u = -1;
		if (i + 1 < n && s[i] == 'm' && s[i + 1] == 's') {
			u = (int)N_UNITS - 1;
			i += 2;
		} else if (i < n) {
			for (size_t k = 0; k + 1 < N_UNITS; k++)
				if (s[i] == units[k].sfx[0])
					u = (int)k;
			if (u >= 0)
				i++;
		}
		if (u < 0) {
			/* a bare number is seconds, and only on its own */
			if (any || i != n)
				return DUR_SYNTAX;
			u = UNIT_S;
		}
		if (u <= last)
			return DUR_ORDER;
		last = u;
		uint64_t unit = units[u].ms;
		if (big || ip > MAX_DUR_MS / unit)
			return DUR_RANGE;
		/* fp < scale <= 1e9 and unit <= 8.64e7: no overflow */
		uint64_t frac = fp * unit;
		if (too_fine || frac % scale)
			return DUR_FRACTION;
		total += ip * unit + frac / scale;
		if (total > MAX_DUR_MS)
			return DUR_RANGE;
		any = true;
		while (i < n && s[i] == ' ')
			i++;
	}
	if (!any)
		return DUR_SYNTAX;
	*out = total;
	return DUR_OK;
}

enum ups_rc scen_duration(const char *s, uint64_t *ms)
{
	uint64_t v = 0;
	if (!s || !ms)
		return UPS_EARG;
	if (parse_dur(s, strlen(s), &v) != DUR_OK)
		return UPS_EPARSE;
	*ms = v;
	return UPS_OK;
}

/** "1h30m", "250ms", "0s": a duration the loader worked out, for messages. */
static const char *fmt_dur(uint64_t ms, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = '\0';
	if (ms == 0) {
		snprintf(buf, cap, "0s");
		return buf;
	}
	for (size_t k = 0; k < N_UNITS && o < cap; k++) {
		uint64_t q = ms / units[k].ms;
		ms %= units[k].ms;
		if (q)
			o += (size_t)snprintf(buf + o, cap - o, "%llu%s",
					      (unsigned long long)q,
					      units[k].sfx);
	}
	return buf;
}

/* ------------------------------------------------------------------ */
/* Parse state and diagnostics                                         */

struct pc {
	yaml_document_t *y;
	const char *src;           /* file name for diagnostics */
	struct ups_diag *diag;
	const char *text;          /* the whole document (override spans) */
	size_t len;
};

static enum ups_rc vfail_at(const struct pc *pc, int line, int col,
			    const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static enum ups_rc vfail_at(const struct pc *pc, int line, int col,
			    const char *fmt, va_list ap)
{
	char msg[sizeof pc->diag->msg];
	vsnprintf(msg, sizeof msg, fmt, ap);
	ups_diag_set(pc->diag, pc->src, line, col, "%s", msg);
	return UPS_EPARSE;
}

static enum ups_rc fail_at(const struct pc *pc, int line, int col,
			   const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static enum ups_rc fail_at(const struct pc *pc, int line, int col,
			   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum ups_rc rc = vfail_at(pc, line, col, fmt, ap);
	va_end(ap);
	return rc;
}

static enum ups_rc fail(const struct pc *pc, const yaml_node_t *n,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum ups_rc fail(const struct pc *pc, const yaml_node_t *n,
			const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum ups_rc rc = vfail_at(pc, (int)n->start_mark.line + 1,
				  (int)n->start_mark.column + 1, fmt, ap);
	va_end(ap);
	return rc;
}

static enum ups_rc no_memory(const struct pc *pc)
{
	ups_diag_set(pc->diag, pc->src, 0, 0, "out of memory");
	return UPS_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Node helpers                                                        */

static yaml_node_t *node(const struct pc *pc, int i)
{
	return yaml_document_get_node(pc->y, i);
}

static bool is_true(const yaml_node_t *n)
{
	return yn_scalar_is(n, "true") || yn_scalar_is(n, "True") ||
	       yn_scalar_is(n, "TRUE");
}

static bool is_false(const yaml_node_t *n)
{
	return yn_scalar_is(n, "false") || yn_scalar_is(n, "False") ||
	       yn_scalar_is(n, "FALSE");
}

static enum ups_rc need_scalar(const struct pc *pc, const yaml_node_t *n,
			       const char *path, const char *what)
{
	if (n->type == YAML_SCALAR_NODE)
		return UPS_OK;
	return fail(pc, n, "%s: expected %s, got a %s", path, what,
		    yn_kind_name(n));
}

static enum ups_rc need_key(const struct pc *pc, const yaml_node_t *k)
{
	if (k->type == YAML_SCALAR_NODE)
		return UPS_OK;
	return fail(pc, k, "keys must be plain words, got a %s", yn_kind_name(k));
}

/**
 * Text (UTF-8, no control characters) into @p out of capacity @p cap,
 * NUL-terminated; too long, NUL or control characters are errors.
 */
static enum ups_rc get_text(const struct pc *pc, const yaml_node_t *n,
			    const char *path, char *out, size_t cap)
{
	enum ups_rc rc = need_scalar(pc, n, path, "text");
	if (rc)
		return rc;
	const unsigned char *s = n->data.scalar.value;
	size_t len = n->data.scalar.length, bad = yn_first_control(n);
	if (bad)
		return fail(pc, n, "%s: character %zu is a control character "
			    "(not allowed here)", path, bad);
	if (len >= cap)
		return fail(pc, n, "%s: too long (%zu bytes, at most %zu)",
			    path, len, cap - 1);
	memcpy(out, s, len);
	out[len] = '\0';
	return UPS_OK;
}

static enum ups_rc get_number(const struct pc *pc, const yaml_node_t *n,
			      const char *path, bool integer, double lo,
			      double hi, double *out)
{
	enum ups_rc rc = need_scalar(pc, n, path, integer ? "a whole number" :
				     "a number");
	if (rc)
		return rc;
	double v = 0;
	bool ok = yn_number(n, integer, &v);
	if (!ok)
		return fail(pc, n, "%s: expected %s", path, integer ?
			    "a whole number (decimal or 0x hex)" :
			    "a decimal number");
	if (v < lo || v > hi)
		return fail(pc, n, "%s: out of range (%.15g to %.15g)", path,
			    lo, hi);
	*out = v;
	return UPS_OK;
}

static enum ups_rc get_duration(const struct pc *pc, const yaml_node_t *n,
				const char *path, uint64_t *ms)
{
	enum ups_rc rc = need_scalar(pc, n, path, "a duration");
	if (rc)
		return rc;
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	enum dur_err e = memchr(s, '\0', len) ? DUR_SYNTAX :
			 parse_dur(s, len, ms);
	switch (e) {
	case DUR_OK:
		return UPS_OK;
	case DUR_ORDER:
		return fail(pc, n, "%s: the units of a duration go from the "
			    "largest to the smallest, each at most once "
			    "(1h30m, not 30m1h)", path);
	case DUR_FRACTION:
		return fail(pc, n, "%s: not a whole number of milliseconds",
			    path);
	case DUR_RANGE:
		return fail(pc, n, "%s: duration too long (at most 3650d)",
			    path);
	case DUR_SYNTAX:
		break;
	}
	return fail(pc, n, "%s: expected a duration such as 250ms, 30s, 5m, "
		    "1h30m or 2d (a bare number is seconds)", path);
}

/** `on` / `off`: 1 / 0, or -1 for anything else. */
static int on_off(const yaml_node_t *n)
{
	return yn_scalar_is(n, "on") ? 1 : yn_scalar_is(n, "off") ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Unknown keys: the nearest schema word                               */

/* What an unknown key's message offers when no key is near it. */
enum hint {
	H_LIST,  /* the known keys (short lists) */
	H_ENTRY, /* a timeline entry: too many keys to list */
	H_LINE,  /* a control line: likewise */
};

/** "unknown key ... (did you mean "x"?)", else as @p hint says. */
static enum ups_rc unknown_key(const struct pc *pc, const yaml_node_t *k,
			       const char *where, const char *const *words,
			       enum hint hint)
{
	const char *near = yn_nearest(k, words);
	if (near)
		return fail(pc, k, "unknown key%s%s (did you mean \"%s\"?)",
			    where[0] ? " " : "", where, near);
	if (hint == H_LINE)
		return fail(pc, k, "unknown key%s%s (not an event key; see "
			    "docs/scenarios.md)", where[0] ? " " : "", where);
	if (hint == H_ENTRY)
		return fail(pc, k, "unknown key%s%s (not an event key, nor at, "
			    "after or repeat; see docs/scenarios.md)",
			    where[0] ? " " : "", where);
	char keys[200];
	size_t o = 0;
	for (size_t i = 0; words[i] && o < sizeof keys; i++)
		o += (size_t)snprintf(keys + o, sizeof keys - o, "%s%s",
				      i ? ", " : "", words[i]);
	return fail(pc, k, "unknown key%s%s (known: %s)", where[0] ? " " : "",
		    where, keys);
}

/* ------------------------------------------------------------------ */
/* Events: the keys of timeline entries and control lines              */

enum ev_type {
	V_NUM = 1,  /* number lo..hi -> ev.value */
	V_INT,      /* whole number lo..hi -> ev.ivalue */
	V_DUR,      /* duration > 0 -> ev.value (ms) */
	V_LINE,     /* off | on | volts | { voltage, frequency } */
	V_OVERLOAD, /* load above 100 */
	V_BATTERY,  /* replace | disconnect | connect | { health } */
	V_CHARGER,  /* fail | ok */
	V_CAUSE,    /* a G character */
	V_FAULT,    /* NAME | { name, on } */
	V_CLEAR,    /* NAME */
	V_OVERTEMP, /* on | off */
	V_BUTTON,   /* on | off */
	V_SELFTEST, /* true */
	V_WIRE,     /* { silence | delay | ... } */
	V_END,      /* true */
};

static const struct evkey {
	const char *key;
	enum ev_type type;
	enum ups_ev_kind kind;
	double lo, hi;
} ev_keys[] = {
	{ "line", V_LINE, UPS_EV_LINE, 0, MAX_VOLTS },
	{ "frequency", V_NUM, UPS_EV_LINE_FREQ, 1, MAX_HZ },
	{ "brownout", V_NUM, UPS_EV_LINE, 1, MAX_VOLTS },
	{ "surge", V_NUM, UPS_EV_LINE, 1, MAX_VOLTS },
	/* the unit's transfer lasts this long: at most a day (ups_apply) */
	{ "notch", V_DUR, UPS_EV_NOTCH, 0, DAY_MS },
	{ "spike", V_DUR, UPS_EV_NOTCH, 0, DAY_MS },
	{ "rate_of_change", V_DUR, UPS_EV_RATE, 0, DAY_MS },
	{ "load", V_NUM, UPS_EV_LOAD, 0, 200 },
	{ "overload", V_OVERLOAD, UPS_EV_LOAD, 100, 200 },
	{ "charge", V_NUM, UPS_EV_CHARGE, 0, 100 },
	{ "battery", V_BATTERY, UPS_EV_NONE, 0, 1 },
	{ "battery_health", V_NUM, UPS_EV_BATT_HEALTH, 0, 1 },
	{ "charger", V_CHARGER, UPS_EV_FAULT, 0, 0 },
	{ "temperature", V_NUM, UPS_EV_TEMP, -40, 150 },
	{ "ambient", V_NUM, UPS_EV_AMBIENT, -40, 100 },
	{ "humidity", V_NUM, UPS_EV_HUMIDITY, 0, 100 },
	{ "contacts", V_INT, UPS_EV_CONTACTS, 0, 15 },
	{ "dip", V_INT, UPS_EV_DIP, 0, 255 },
	{ "packs", V_INT, UPS_EV_PACKS, 0, 255 },
	{ "bad_packs", V_INT, UPS_EV_BAD_PACKS, 0, 255 },
	{ "transfer_cause", V_CAUSE, UPS_EV_CAUSE, 0, 0 },
	{ "fault", V_FAULT, UPS_EV_FAULT, 0, 0 },
	{ "clear", V_CLEAR, UPS_EV_FAULT, 0, 0 },
	{ "overtemp", V_OVERTEMP, UPS_EV_FAULT, 0, 0 },
	{ "button", V_BUTTON, UPS_EV_BUTTON, 0, 0 },
	{ "self_test", V_SELFTEST, UPS_EV_SELFTEST, 0, 0 },
	{ "wire", V_WIRE, UPS_EV_NONE, 0, 0 },
	{ "end", V_END, UPS_EV_NONE, 0, 0 },
};
#define N_EV_KEYS (sizeof ev_keys / sizeof ev_keys[0])

/* The keys of a timeline entry, for suggestions; from entry_words + 3 the
 * event keys alone (a control line's). */
static const char *const entry_words[] = {
	"at", "after", "repeat",
	"line", "frequency", "brownout", "surge", "notch", "spike",
	"rate_of_change", "load", "overload", "charge", "battery",
	"battery_health", "charger", "temperature", "ambient", "humidity",
	"contacts", "dip", "packs", "bad_packs", "transfer_cause", "fault",
	"clear", "overtemp", "button", "self_test", "wire", "end", NULL
};
#define line_words (entry_words + 3)
_Static_assert(sizeof entry_words / sizeof entry_words[0] == N_EV_KEYS + 4,
	       "entry_words must list every event key");

/* G replies (ULS p.7; facts §5 `G`): R H L T O S; K is one more that
 * apcupsd knows, "software command or UPS's test control" (apcupsd
 * src/lib/apcstatus.c, LASTXFER). */
#define CAUSE_CHARS "RHLTOSK"

static const struct evkey *find_ev(const yaml_node_t *k)
{
	for (size_t i = 0; i < N_EV_KEYS; i++)
		if (yn_scalar_is(k, ev_keys[i].key))
			return &ev_keys[i];
	return NULL;
}

/*
 * Key @p k of a timeline entry (@p hint H_ENTRY) or a control line
 * (H_LINE) names its event: *@p ek, which must not be set yet (one event
 * each).  Other keys are unknown (@p words are the allowed ones).
 */
static enum ups_rc one_event(const struct pc *pc, const yaml_node_t *k,
			     const struct evkey **ek, const char *const *words,
			     enum hint hint)
{
	const struct evkey *x = find_ev(k);
	if (!x)
		return unknown_key(pc, k, "", words, hint);
	if (*ek == x)
		return fail(pc, k, "%s: duplicate key", x->key);
	if (*ek)
		return hint == H_LINE ?
		       fail(pc, k, "two events in one line (%s and %s); send "
			    "each on its own line", (*ek)->key, x->key) :
		       fail(pc, k, "two events in one entry (%s and %s); give "
			    "each its own entry", (*ek)->key, x->key);
	*ek = x;
	return UPS_OK;
}

static enum ups_rc fault_name(const struct pc *pc, const yaml_node_t *v,
			      const char *path, enum ups_fault *f)
{
	char name[32];
	enum ups_rc rc = need_scalar(pc, v, path, "a fault name");
	if (rc)
		return rc;
	*f = UPS_FAULT__COUNT;
	if (v->data.scalar.length < sizeof name) {
		memcpy(name, v->data.scalar.value, v->data.scalar.length);
		name[v->data.scalar.length] = '\0';
		if (strlen(name) == v->data.scalar.length)
			*f = ups_fault_from_name(name);
	}
	if (*f != UPS_FAULT__COUNT)
		return UPS_OK;
	const char *names[UPS_FAULT__COUNT + 1];
	for (int i = 0; i < UPS_FAULT__COUNT; i++)
		names[i] = ups_fault_name((enum ups_fault)i);
	names[UPS_FAULT__COUNT] = NULL;
	const char *near = yn_nearest(v, names);
	if (near)
		return fail(pc, v, "%s: unknown fault (did you mean \"%s\"?)",
			    path, near);
	return fail(pc, v,
		    "%s: unknown fault (known: charger, overtemp, "
		    "main_relay, bypass_relay, fan, isolation_fan, "
		    "bypass_supply, inverter, boost_relay, dc_imbalance)",
		    path);
}

/**
 * The pairs of mapping @p v as (key node, value node) for the keys in
 * @p words (NULL-terminated, at most 8): unknown and duplicate keys are
 * errors.  @p section names the mapping in messages ("line", "wire").
 */
static enum ups_rc small_map(const struct pc *pc, const yaml_node_t *v,
			     const char *section, const char *const *words,
			     const yaml_node_t *keys[8],
			     const yaml_node_t *vals[8])
{
	for (int i = 0; i < 8; i++)
		keys[i] = vals[i] = NULL;
	for (yaml_node_pair_t *pr = v->data.mapping.pairs.start;
	     pr < v->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = node(pc, pr->key);
		enum ups_rc rc = need_key(pc, k);
		if (rc)
			return rc;
		int i = 0;
		while (words[i] && !yn_scalar_is(k, words[i]))
			i++;
		if (!words[i]) {
			char where[48];
			snprintf(where, sizeof where, "in %s", section);
			return unknown_key(pc, k, where, words, H_LIST);
		}
		if (keys[i])
			return fail(pc, k, "%s.%s: duplicate key", section,
				    words[i]);
		keys[i] = k;
		vals[i] = node(pc, pr->value);
	}
	return UPS_OK;
}

/** `line:` as a number, off, on, or { voltage, frequency }. */
static enum ups_rc ev_line(const struct pc *pc, const yaml_node_t *v,
			   const char *path, struct ups_event *ev)
{
	static const char *const words[] = { "voltage", "frequency", NULL };
	const yaml_node_t *k[8], *val[8];
	char p2[64];
	enum ups_rc rc;
	if (v->type == YAML_SCALAR_NODE) {
		if (yn_scalar_is(v, "off"))
			ev->value = 0;
		else if (yn_scalar_is(v, "on"))
			ev->value = -1; /* the model: the profile's nominal */
		else if (yn_looks_numeric(v))
			return get_number(pc, v, path, false, 0, MAX_VOLTS,
					  &ev->value);
		else
			return fail(pc, v, "%s: expected on, off, a voltage or "
				    "{ voltage: V, frequency: Hz }", path);
		return UPS_OK;
	}
	if (v->type != YAML_MAPPING_NODE)
		return fail(pc, v, "%s: expected on, off, a voltage or "
			    "{ voltage: V, frequency: Hz }, got a %s", path,
			    yn_kind_name(v));
	if ((rc = small_map(pc, v, path, words, k, val)))
		return rc;
	if (!k[0])
		return fail(pc, v, "%s: needs a voltage ({ voltage: V, "
			    "frequency: Hz }; for the frequency alone use "
			    "frequency: Hz)", path);
	snprintf(p2, sizeof p2, "%s.voltage", path);
	if ((rc = get_number(pc, val[0], p2, false, 0, MAX_VOLTS, &ev->value)))
		return rc;
	snprintf(p2, sizeof p2, "%s.frequency", path);
	if (k[1])
		return get_number(pc, val[1], p2, false, 1, MAX_HZ,
				  &ev->value2);
	return UPS_OK;
}

static enum ups_rc ev_battery(const struct pc *pc, const yaml_node_t *v,
			      const char *path, struct ups_event *ev)
{
	static const char *const words[] = { "health", NULL };
	const yaml_node_t *k[8], *val[8];
	char p2[64];
	enum ups_rc rc;
	if (yn_scalar_is(v, "replace")) {
		ev->kind = UPS_EV_BATT_REPLACED;
		return UPS_OK;
	}
	if (yn_scalar_is(v, "connect") || yn_scalar_is(v, "disconnect")) {
		ev->kind = UPS_EV_BATT_CONNECTED;
		ev->on = yn_scalar_is(v, "connect");
		return UPS_OK;
	}
	if (v->type != YAML_MAPPING_NODE)
		return fail(pc, v,
			    "%s: expected replace, disconnect, connect or "
			    "{ health: 0 to 1 }",
			    path);
	if ((rc = small_map(pc, v, path, words, k, val)))
		return rc;
	if (!k[0])
		return fail(pc, v,
			    "%s: expected replace, disconnect, connect or "
			    "{ health: 0 to 1 }",
			    path);
	ev->kind = UPS_EV_BATT_HEALTH;
	snprintf(p2, sizeof p2, "%s.health", path);
	return get_number(pc, val[0], p2, false, 0, 1, &ev->value);
}

static enum ups_rc ev_fault(const struct pc *pc, const yaml_node_t *v,
			    const char *path, struct ups_event *ev)
{
	static const char *const words[] = { "name", "on", NULL };
	const yaml_node_t *k[8], *val[8];
	char p2[64];
	enum ups_rc rc;
	ev->on = true;
	if (v->type != YAML_MAPPING_NODE)
		return fault_name(pc, v, path, &ev->fault);
	if ((rc = small_map(pc, v, path, words, k, val)))
		return rc;
	if (!k[0])
		return fail(
		    pc, v, "%s: needs a name ({ name: fan, on: false })", path);
	snprintf(p2, sizeof p2, "%s.name", path);
	if ((rc = fault_name(pc, val[0], p2, &ev->fault)))
		return rc;
	if (k[1]) {
		snprintf(p2, sizeof p2, "%s.on", path);
		if (is_true(val[1]))
			ev->on = true;
		else if (is_false(val[1]))
			ev->on = false;
		else
			return fail(pc, val[1], "%s: expected true or false",
				    p2);
	}
	return UPS_OK;
}

/** The bytes of a string: code points up to U+00FF are one byte each. */
static enum ups_rc get_bytes(const struct pc *pc, const yaml_node_t *v,
			     const char *path, uint8_t *out, size_t cap,
			     size_t *n)
{
	enum ups_rc rc = need_scalar(pc, v, path, "a string");
	if (rc)
		return rc;
	size_t above, o = yn_bytes(v->data.scalar.value, v->data.scalar.length,
				   out, cap, &above);
	if (above)
		return fail(pc, v, "%s: character %zu is above U+00FF, "
			    "not a byte (write bytes 0x80-0xFF as "
			    "\"\\xNN\")", path, above);
	if (o == 0)
		return fail(pc, v, "%s: empty (give 1 to %zu bytes)", path,
			    cap);
	if (o > cap)
		return fail(pc, v, "%s: too long (%zu bytes, at most %zu)",
			    path, o, cap);
	*n = o;
	return UPS_OK;
}

static enum ups_rc ev_wire(const struct pc *pc, const yaml_node_t *v,
			   const char *path, struct wire_fault *w)
{
	static const char *const words[] = {
		"silence", "delay", "drop", "corrupt", "split", "garbage",
		"alert_inside", "comms", NULL
	};
	static const enum wire_kind kinds[] = {
		WIRE_SILENCE, WIRE_DELAY, WIRE_DROP, WIRE_CORRUPT, WIRE_SPLIT,
		WIRE_GARBAGE, WIRE_ALERT_INSIDE, WIRE_COMMS_LOST,
	};
	const yaml_node_t *k[8], *val[8];
	char p2[64];
	enum ups_rc rc;
	int which = -1;
	if (v->type != YAML_MAPPING_NODE)
		return fail(pc, v,
			    "%s: expected a mapping with one wire fault "
			    "(silence, delay, drop, corrupt, split, garbage, "
			    "alert_inside, comms), got a %s",
			    path, yn_kind_name(v));
	if ((rc = small_map(pc, v, path, words, k, val)))
		return rc;
	for (int i = 0; i < 8; i++) {
		if (!k[i])
			continue;
		if (which >= 0) {
			const yaml_node_t *second =
			    k[i]->start_mark.index > k[which]->start_mark.index
				? k[i]
				: k[which];
			return fail(pc, second,
				    "%s: one fault at a time (%s and "
				    "%s); give each its own entry",
				    path, words[which], words[i]);
		}
		which = i;
	}
	if (which < 0)
		return fail(pc, v,
			    "%s: expected one wire fault (silence, delay, "
			    "drop, corrupt, split, garbage, alert_inside, "
			    "comms)",
			    path);
	const yaml_node_t *x = val[which];
	snprintf(p2, sizeof p2, "%s.%s", path, words[which]);
	w->kind = kinds[which];
	switch (w->kind) {
	case WIRE_SILENCE:
	case WIRE_DELAY:
	case WIRE_SPLIT:
		if ((rc = get_duration(pc, x, p2, &w->dur_ms)))
			return rc;
		if (w->dur_ms == 0 && w->kind != WIRE_DELAY)
			return fail(pc, x, "%s: must be longer than 0", p2);
		return UPS_OK;
	case WIRE_DROP:
	case WIRE_CORRUPT: {
		double c;
		if ((rc = get_number(pc, x, p2, true, 1, MAX_COUNT, &c)))
			return rc;
		w->count = (int)c;
		return UPS_OK;
	}
	case WIRE_GARBAGE:
		return get_bytes(pc, x, p2, w->bytes, sizeof w->bytes, &w->n);
	case WIRE_ALERT_INSIDE:
		if (x->type == YAML_SCALAR_NODE && x->data.scalar.length == 1 &&
		    x->data.scalar.value[0] &&
		    strchr(PROF_ALERT_CHARS, x->data.scalar.value[0])) {
			w->bytes[0] = x->data.scalar.value[0];
			w->n = 1;
			return UPS_OK;
		}
		return fail(pc, x,
			    "%s: expected one UPS-Link alert character "
			    "(one of ! $ %% + # ? = * | &; quote it: \"!\")",
			    p2);
	case WIRE_COMMS_LOST:
		if (yn_scalar_is(x, "lost"))
			return UPS_OK;
		if (yn_scalar_is(x, "back")) {
			w->kind = WIRE_COMMS_BACK;
			return UPS_OK;
		}
		return fail(pc, x, "%s: expected lost or back", p2);
	default:
		break;
	}
	return UPS_EARG; /* NEVER: table bug */
}

/**
 * Fill @p act from event key @p ek with value @p v.  @p path is the name
 * messages give the key ("load", "initial.load").
 */
static enum ups_rc parse_event(const struct pc *pc, const struct evkey *ek,
			       const yaml_node_t *v, const char *path,
			       struct scen_action *act)
{
	struct ups_event *ev = &act->ev;
	enum ups_rc rc;
	double x;
	int b;
	memset(act, 0, sizeof *act);
	act->kind = SCEN_UNIT;
	ev->kind = ek->kind;
	switch (ek->type) {
	case V_NUM:
		return get_number(pc, v, path, false, ek->lo, ek->hi,
				  &ev->value);
	case V_INT:
		if ((rc = get_number(pc, v, path, true, ek->lo, ek->hi, &x)))
			return rc;
		ev->ivalue = (int)x;
		return UPS_OK;
	case V_DUR: {
		uint64_t ms = 0;
		if ((rc = get_duration(pc, v, path, &ms)))
			return rc;
		if (ms == 0)
			return fail(pc, v, "%s: must be longer than 0", path);
		if ((double)ms > ek->hi)
			return fail(pc, v, "%s: too long (at most 1d)", path);
		ev->value = (double)ms;
		return UPS_OK;
	}
	case V_LINE:
		return ev_line(pc, v, path, ev);
	case V_OVERLOAD:
		if ((rc = get_number(pc, v, path, false, -HUGE_VAL, HUGE_VAL,
				     &ev->value)))
			return rc;
		if (ev->value <= ek->lo || ev->value > ek->hi)
			return fail(pc, v,
				    "%s: out of range (more than 100, at "
				    "most 200; for 100 or less use load)",
				    path);
		return UPS_OK;
	case V_BATTERY:
		return ev_battery(pc, v, path, ev);
	case V_CHARGER:
		ev->fault = UPS_FAULT_CHARGER;
		ev->on = yn_scalar_is(v, "fail");
		if (ev->on || yn_scalar_is(v, "ok"))
			return UPS_OK;
		return fail(pc, v, "%s: expected fail or ok", path);
	case V_CAUSE:
		if ((rc = need_scalar(pc, v, path, "a transfer cause")))
			return rc;
		if (v->data.scalar.length != 1 || !v->data.scalar.value[0] ||
		    !strchr(CAUSE_CHARS, v->data.scalar.value[0]))
			return fail(pc, v, "%s: expected one of R H L T O S K "
				    "(the G reply)", path);
		ev->ivalue = v->data.scalar.value[0];
		return UPS_OK;
	case V_FAULT:
		return ev_fault(pc, v, path, ev);
	case V_CLEAR:
		ev->on = false;
		return fault_name(pc, v, path, &ev->fault);
	case V_OVERTEMP:
	case V_BUTTON:
		if ((b = on_off(v)) < 0)
			return fail(pc, v, "%s: expected on or off", path);
		ev->on = b == 1;
		if (ek->type == V_OVERTEMP)
			ev->fault = UPS_FAULT_OVERTEMP;
		return UPS_OK;
	case V_SELFTEST:
		if (is_true(v))
			return UPS_OK;
		return fail(pc, v, "%s: expected true (it starts a self-test)",
			    path);
	case V_WIRE:
		act->kind = SCEN_WIRE;
		return ev_wire(pc, v, path, &act->wire);
	case V_END:
		act->kind = SCEN_END;
		if (is_true(v))
			return UPS_OK;
		return fail(pc, v, "%s: expected true (the scenario ends here)",
			    path);
	}
	return UPS_EARG; /* NEVER: table bug */
}

/* ------------------------------------------------------------------ */
/* initial                                                             */

/* In the order the actions are applied at time 0. */
enum { I_CHARGE, I_HEALTH, I_LOAD, I_LINE_V, I_LINE_F, I_TEMP, I_AMBIENT,
       I_HUMIDITY, I_CONTACTS, I_DIP, I_PACKS, I_BAD_PACKS, I_CAUSE,
       I_LINE_MAX, I_LINE_MIN, N_INIT };

static const char *const init_words[N_INIT + 1] = {
	[I_CHARGE] = "charge", [I_HEALTH] = "battery_health",
	[I_LOAD] = "load", [I_LINE_V] = "line_voltage",
	[I_LINE_F] = "line_frequency", [I_TEMP] = "temperature",
	[I_AMBIENT] = "ambient", [I_HUMIDITY] = "humidity",
	[I_CONTACTS] = "contacts", [I_DIP] = "dip", [I_PACKS] = "packs",
	[I_BAD_PACKS] = "bad_packs", [I_CAUSE] = "transfer_cause",
	[I_LINE_MAX] = "line_max", [I_LINE_MIN] = "line_min",
	[N_INIT] = NULL,
};

static const struct evkey *ev_by_name(const char *key)
{
	for (size_t i = 0; i < N_EV_KEYS; i++)
		if (!strcmp(ev_keys[i].key, key))
			return &ev_keys[i];
	return NULL;
}

static enum ups_rc walk_initial(const struct pc *pc, const yaml_node_t *v,
				struct scen *s)
{
	struct scen_action a[N_INIT];
	double num[N_INIT];
	const yaml_node_t *at[N_INIT] = { NULL };
	char path[64];
	enum ups_rc rc;
	if (yn_is_null(v))
		return UPS_OK;
	if (v->type != YAML_MAPPING_NODE)
		return fail(pc, v, "initial: expected a mapping (charge: 100, "
			    "load: 40 ...), got a %s", yn_kind_name(v));
	for (yaml_node_pair_t *pr = v->data.mapping.pairs.start;
	     pr < v->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = node(pc, pr->key),
				  *val = node(pc, pr->value);
		if ((rc = need_key(pc, k)))
			return rc;
		int i = 0;
		while (i < N_INIT && !yn_scalar_is(k, init_words[i]))
			i++;
		if (i == N_INIT)
			return unknown_key(pc, k, "in initial", init_words,
					   H_LIST);
		snprintf(path, sizeof path, "initial.%s", init_words[i]);
		if (at[i])
			return fail(pc, k, "%s: duplicate key", path);
		at[i] = k;
		switch (i) {
		case I_LINE_V:
		case I_LINE_MAX:
		case I_LINE_MIN:
			rc = get_number(pc, val, path, false, 0, MAX_VOLTS,
					&num[i]);
			break;
		case I_LINE_F:
			rc = get_number(pc, val, path, false, 1, MAX_HZ,
					&num[i]);
			break;
		default:
			rc = parse_event(pc, ev_by_name(init_words[i]), val,
					 path, &a[i]);
			break;
		}
		if (rc)
			return rc;
	}
	if (at[I_LINE_MAX] && !at[I_LINE_MIN])
		return fail(pc, at[I_LINE_MAX], "initial.line_max: needs "
			    "line_min too (M and N are set together)");
	if (at[I_LINE_MIN] && !at[I_LINE_MAX])
		return fail(pc, at[I_LINE_MIN], "initial.line_min: needs "
			    "line_max too (M and N are set together)");
	if (at[I_LINE_MIN] && num[I_LINE_MIN] > num[I_LINE_MAX])
		return fail(pc, at[I_LINE_MIN], "initial.line_min: above "
			    "line_max");
	if (at[I_PACKS] && at[I_BAD_PACKS] &&
	    a[I_BAD_PACKS].ev.ivalue > a[I_PACKS].ev.ivalue)
		return fail(pc, at[I_BAD_PACKS], "initial.bad_packs: more bad "
			    "packs than packs");

	size_t n = 0;
	struct scen_action out[N_INIT];
	for (int i = 0; i < N_INIT; i++) {
		if (!at[i])
			continue;
		struct scen_action *o = &out[n];
		memset(o, 0, sizeof *o);
		o->kind = SCEN_UNIT;
		switch (i) {
		case I_LINE_V:
			o->ev.kind = UPS_EV_LINE;
			o->ev.value = num[I_LINE_V];
			o->ev.value2 = at[I_LINE_F] ? num[I_LINE_F] : 0;
			break;
		case I_LINE_F:
			if (at[I_LINE_V])
				continue; /* went with the voltage */
			o->ev.kind = UPS_EV_LINE_FREQ;
			o->ev.value = num[I_LINE_F];
			break;
		case I_LINE_MAX:
			o->ev.kind = UPS_EV_LINE_MINMAX;
			o->ev.value = num[I_LINE_MAX];
			o->ev.value2 = num[I_LINE_MIN];
			break;
		case I_LINE_MIN:
			continue; /* went with line_max */
		default:
			*o = a[i];
			break;
		}
		n++;
	}
	if (n) {
		s->init = malloc(n * sizeof *s->init);
		if (!s->init)
			return no_memory(pc);
		memcpy(s->init, out, n * sizeof *s->init);
		s->n_init = n;
	}
	return UPS_OK;
}

/* ------------------------------------------------------------------ */
/* profile                                                             */

/** Byte offset of libyaml mark index @p idx (characters after any BOM). */
static size_t mark_offset(const char *text, size_t len, size_t idx)
{
	size_t i = 0;
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		i = 3; /* the reader drops a leading BOM before counting */
	for (size_t k = 0; k < idx && i < len; k++) {
		unsigned char c = (unsigned char)text[i];
		i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	}
	return i < len ? i : len;
}

static enum ups_rc yaml_error(const struct pc *pc, const yaml_parser_t *yp,
			      const char *text, size_t len, const char *prefix,
			      int line_off);

/**
 * Keep the text of the override mapping @p v for prof_overlay(): the
 * source span itself, after as many spaces as put its first character on
 * its own column, so its columns are the scenario file's and its line 1 is
 * the file's overlay_line (a block mapping's later lines keep their own
 * indentation).  It is parsed once more on its own here, so an override
 * that leans on the rest of the file (an alias to an anchor outside it)
 * is refused now rather than when the runner applies it.
 */
static enum ups_rc keep_overlay(const struct pc *pc, const yaml_node_t *v,
				struct scen *s)
{
	size_t from = mark_offset(pc->text, pc->len, v->start_mark.index),
	       to = mark_offset(pc->text, pc->len, v->end_mark.index);
	size_t cols = v->start_mark.column;
	int off = (int)v->start_mark.line; /* overlay line 1 = file line off+1 */
	if (to < from)
		to = from; /* NEVER */
	size_t n = cols + (to - from);
	char *t = malloc(n + 1);
	if (!t)
		return no_memory(pc);
	memset(t, ' ', cols);
	memcpy(t + cols, pc->text + from, to - from);
	t[n] = '\0';

	yaml_parser_t yp;
	yaml_document_t y;
	enum ups_rc rc = UPS_OK;
	if (!yaml_parser_initialize(&yp)) {
		free(t);
		return no_memory(pc);
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)t, n);
	if (!yaml_parser_load(&yp, &y)) {
		if (yp.error == YAML_COMPOSER_ERROR && yp.problem &&
		    strstr(yp.problem, "undefined alias"))
			rc = fail_at(pc, (int)yp.problem_mark.line + 1 + off,
				     (int)yp.problem_mark.column + 1,
				     "profile.override: an alias to an anchor "
				     "outside the override (it must stand on "
				     "its own)");
		else
			rc = yaml_error(pc, &yp, t, n, "profile.override: ",
					off);
	} else {
		const yaml_node_t *r = yaml_document_get_root_node(&y);
		if (!r || r->type != YAML_MAPPING_NODE)
			rc = fail(pc, v, "profile.override: does not stand on "
				  "its own as a mapping");
		yaml_document_delete(&y);
	}
	yaml_parser_delete(&yp);
	if (rc) {
		free(t);
		return rc;
	}
	s->overlay = t;
	s->overlay_len = n;
	s->overlay_line = off + 1;
	return UPS_OK;
}

static enum ups_rc profile_name(const struct pc *pc, const yaml_node_t *v,
				const char *path, struct scen *s)
{
	enum ups_rc rc = get_text(pc, v, path, s->profile, sizeof s->profile);
	if (rc)
		return rc;
	if (!s->profile[0])
		return fail(pc, v, "%s: expected a profile name or path", path);
	return UPS_OK;
}

static enum ups_rc walk_profile(const struct pc *pc, const yaml_node_t *v,
				struct scen *s)
{
	static const char *const words[] = { "name", "override", NULL };
	const yaml_node_t *k[8], *val[8];
	enum ups_rc rc;
	if (yn_is_null(v))
		return UPS_OK;
	if (v->type == YAML_SCALAR_NODE)
		return profile_name(pc, v, "profile", s);
	if (v->type != YAML_MAPPING_NODE)
		return fail(pc, v,
			    "profile: expected a name, a path or { name: "
			    "..., override: { ... } }, got a %s",
			    yn_kind_name(v));
	if ((rc = small_map(pc, v, "profile", words, k, val)))
		return rc;
	if (k[0] && !yn_is_null(val[0]) &&
	    (rc = profile_name(pc, val[0], "profile.name", s)))
		return rc;
	if (!k[1] || yn_is_null(val[1]))
		return UPS_OK;
	if (val[1]->type != YAML_MAPPING_NODE)
		return fail(
		    pc, val[1],
		    "profile.override: expected a mapping of "
		    "the profile schema (battery: { ... } ...), got a %s",
		    yn_kind_name(val[1]));
	return keep_overlay(pc, val[1], s);
}

/* ------------------------------------------------------------------ */
/* timeline                                                            */

static enum ups_rc add_steps(const struct pc *pc, struct scen *s,
			     size_t *cap, const yaml_node_t *where,
			     const struct scen_action *a, uint64_t at,
			     uint64_t every, size_t times,
			     const yaml_node_t *key)
{
	if (times > SCEN_MAX_STEPS - s->n_steps)
		return fail(pc, where,
			    "too many steps: the timeline would have "
			    "%zu after expanding repeats, at most %d",
			    s->n_steps + times, SCEN_MAX_STEPS);
	if (s->n_steps + times > *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		if (nc < s->n_steps + times)
			nc = s->n_steps + times;
		if (nc > SCEN_MAX_STEPS)
			nc = SCEN_MAX_STEPS;
		struct scen_step *ns = realloc(s->steps, nc * sizeof *ns);
		if (!ns)
			return no_memory(pc);
		s->steps = ns;
		*cap = nc;
	}
	for (size_t i = 0; i < times; i++) {
		struct scen_step *st = &s->steps[s->n_steps++];
		st->at_ms = at + i * every;
		st->act = *a;
		st->line = (int)key->start_mark.line + 1;
		st->col = (int)key->start_mark.column + 1;
	}
	return UPS_OK;
}

static enum ups_rc walk_repeat(const struct pc *pc, const yaml_node_t *v,
			       uint64_t *every, size_t *times)
{
	static const char *const words[] = { "every", "times", NULL };
	const yaml_node_t *k[8], *val[8];
	enum ups_rc rc;
	double t;
	if (v->type != YAML_MAPPING_NODE)
		return fail(pc, v,
			    "repeat: expected { every: DURATION, times: N "
			    "}, got a %s",
			    yn_kind_name(v));
	if ((rc = small_map(pc, v, "repeat", words, k, val)))
		return rc;
	if (!k[0] || !k[1])
		return fail(pc, v,
			    "repeat: needs every and times ({ every: 2h, "
			    "times: 10 })");
	if ((rc = get_duration(pc, val[0], "repeat.every", every)))
		return rc;
	if (*every == 0)
		return fail(pc, val[0], "repeat.every: must be more than 0");
	if ((rc = get_number(pc, val[1], "repeat.times", true, 1,
			     SCEN_MAX_STEPS, &t)))
		return rc;
	*times = (size_t)t;
	return UPS_OK;
}

/** One timeline entry; @p prev is the previous entry's time (in, out). */
static enum ups_rc walk_entry(const struct pc *pc, const yaml_node_t *e,
			      struct scen *s, size_t *cap, uint64_t *prev)
{
	const yaml_node_t *at = NULL, *after = NULL, *repeat = NULL,
			  *evk = NULL, *evv = NULL;
	const struct evkey *ek = NULL;
	enum ups_rc rc;
	char buf1[48], buf2[48];
	if (e->type != YAML_MAPPING_NODE)
		return fail(pc, e, "timeline: each entry is a mapping ({ at: "
			    "30s, line: off }), got a %s", yn_kind_name(e));
	for (yaml_node_pair_t *pr = e->data.mapping.pairs.start;
	     pr < e->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = node(pc, pr->key),
				  *v = node(pc, pr->value);
		if ((rc = need_key(pc, k)))
			return rc;
		const yaml_node_t **slot = yn_scalar_is(k, "at") ? &at :
					   yn_scalar_is(k, "after") ? &after :
					   yn_scalar_is(k, "repeat") ? &repeat :
					   NULL;
		if (slot) {
			if (*slot)
				return fail(pc, k, "%s: duplicate key",
					    slot == &at	     ? "at"
					    : slot == &after ? "after"
							     : "repeat");
			if ((slot == &at && after) || (slot == &after && at))
				return fail(pc, k, "at and after: give one or "
					    "the other");
			*slot = v;
			continue;
		}
		if ((rc = one_event(pc, k, &ek, entry_words, H_ENTRY)))
			return rc;
		evk = k;
		evv = v;
	}
	if (!ek)
		return fail(pc, e,
			    "no event in this entry (besides at, after and "
			    "repeat it needs one event key, such as line, load "
			    "or fault)");

	uint64_t t = *prev, d = 0;
	if (at) {
		if ((rc = get_duration(pc, at, "at", &t)))
			return rc;
		if (t < *prev)
			return fail(pc, at,
				    "events out of order: %s is before the "
				    "previous entry at %s",
				    fmt_dur(t, buf1, sizeof buf1),
				    fmt_dur(*prev, buf2, sizeof buf2));
	} else if (after) {
		if ((rc = get_duration(pc, after, "after", &d)))
			return rc;
		t = *prev + d; /* each <= MAX_DUR_MS: cannot overflow */
	}

	struct scen_action act;
	if ((rc = parse_event(pc, ek, evv, ek->key, &act)))
		return rc;
	uint64_t every = 0;
	size_t times = 1;
	if (repeat && (rc = walk_repeat(pc, repeat, &every, &times)))
		return rc;
	if ((rc = add_steps(pc, s, cap, repeat ? repeat : e, &act, t, every,
			    times, evk)))
		return rc;
	*prev = t;
	return UPS_OK;
}

/** Stable sort of the steps by time (entries are written in order, their
 *  repeats interleave with later entries). */
static enum ups_rc sort_steps(const struct pc *pc, struct scen *s)
{
	size_t n = s->n_steps;
	bool sorted = true;
	for (size_t i = 1; i < n && sorted; i++)
		sorted = s->steps[i - 1].at_ms <= s->steps[i].at_ms;
	if (sorted)
		return UPS_OK;
	struct scen_step *tmp = malloc(n * sizeof *tmp), *a = s->steps,
			 *b = tmp;
	if (!tmp)
		return no_memory(pc);
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n,
			       hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, o = lo;
			while (i < mid && j < hi)
				b[o++] =
				    a[j].at_ms < a[i].at_ms ? a[j++] : a[i++];
			while (i < mid)
				b[o++] = a[i++];
			while (j < hi)
				b[o++] = a[j++];
		}
		struct scen_step *sw = a;
		a = b;
		b = sw;
	}
	if (a != s->steps)
		memcpy(s->steps, a, n * sizeof *a);
	free(tmp);
	return UPS_OK;
}

static enum ups_rc walk_timeline(const struct pc *pc, const yaml_node_t *v,
				 struct scen *s)
{
	size_t cap = 0;
	uint64_t prev = 0;
	if (yn_is_null(v))
		return UPS_OK;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(pc, v,
			    "timeline: expected a list of entries (- at: "
			    "30s ...), got a %s",
			    yn_kind_name(v));
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		enum ups_rc rc = walk_entry(pc, node(pc, *it), s, &cap, &prev);
		if (rc)
			return rc;
	}
	return sort_steps(pc, s);
}

/* ------------------------------------------------------------------ */
/* Documents                                                           */

static const char *const top_words[] = {
	"description", "profile", "initial", "timeline", "end", NULL
};

static enum ups_rc walk_top(const struct pc *pc, const yaml_node_t *root,
			    struct scen *s)
{
	const yaml_node_t *seen[5] = { NULL };
	if (root->type != YAML_MAPPING_NODE)
		return fail(pc, root, "a scenario is a mapping of keys "
			    "(description, profile, initial, timeline, end), "
			    "got a %s", yn_kind_name(root));
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = node(pc, pr->key),
				  *v = node(pc, pr->value);
		enum ups_rc rc = need_key(pc, k);
		if (rc)
			return rc;
		int i = 0;
		while (top_words[i] && !yn_scalar_is(k, top_words[i]))
			i++;
		if (!top_words[i])
			return unknown_key(pc, k, "at the top level", top_words,
					   H_LIST);
		if (seen[i])
			return fail(pc, k, "%s: duplicate key", top_words[i]);
		seen[i] = k;
		switch (i) {
		case 0:
			rc = get_text(pc, v, "description", s->description,
				      sizeof s->description);
			break;
		case 1:
			rc = walk_profile(pc, v, s);
			break;
		case 2:
			rc = walk_initial(pc, v, s);
			break;
		case 3:
			rc = walk_timeline(pc, v, s);
			break;
		default:
			rc = get_duration(pc, v, "end", &s->end_ms);
			break;
		}
		if (rc)
			return rc;
	}
	return UPS_OK;
}

/** Report a libyaml failure as file:line:col; @p text starts on line
 *  @p line_off + 1 of the file. */
static enum ups_rc yaml_error(const struct pc *pc, const yaml_parser_t *yp,
			      const char *text, size_t len, const char *prefix,
			      int line_off)
{
	struct yn_problem w;
	yn_parser_problem(yp, text, len, line_off, &w);
	if (w.nomem)
		return no_memory(pc);
	return fail_at(pc, w.line, w.col, "%s%s", prefix, w.msg);
}

/* Bound the document before it is built (yn_check_shape). */
static enum ups_rc check_shape(const struct pc *pc, const char *text,
			       size_t len)
{
	struct yn_problem w;
	switch (yn_check_shape(text, len, MAX_NEST, MAX_EVENTS, false, &w)) {
	case YN_SHAPE_OK:
	case YN_SHAPE_DOCUMENTS:
		return UPS_OK;
	case YN_SHAPE_SYNTAX:
		return w.nomem ? no_memory(pc) : fail_at(pc, w.line, w.col, "%s", w.msg);
	case YN_SHAPE_DEEP:
		return fail_at(pc, w.line, w.col, "nested more than %d levels "
			       "deep (a scenario needs about 8)", MAX_NEST);
	case YN_SHAPE_LARGE:
		break;
	}
	return fail_at(pc, w.line, w.col, "too many YAML nodes (more than %d)",
		       MAX_EVENTS);
}

/** What a document holds, handed to the walker of its root. */
typedef enum ups_rc (*walk_fn)(const struct pc *pc, const yaml_node_t *root,
			       void *arg);

/**
 * Parse @p text as exactly one YAML document and hand its root to @p walk
 * (NULL root: @p empty_msg at 1:1).  UTF-16 is refused up front: positions
 * and override spans assume UTF-8.
 */
static enum ups_rc parse_text(struct pc *pc, const char *text, size_t len,
			      const char *what, const char *empty_msg,
			      walk_fn walk, void *arg)
{
	if (len >= 2 && ((text[0] == '\xFE' && text[1] == '\xFF') ||
			 (text[0] == '\xFF' && text[1] == '\xFE')))
		return fail_at(pc, 1, 1, "%s must be UTF-8 (this one starts "
			       "with a UTF-16 byte-order mark)", what);
	enum ups_rc rc = check_shape(pc, text, len);
	if (rc)
		return rc;
	yaml_parser_t yp;
	yaml_document_t y;
	if (!yaml_parser_initialize(&yp))
		return no_memory(pc);
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	if (!yaml_parser_load(&yp, &y)) {
		rc = yaml_error(pc, &yp, text, len, "", 0);
		yaml_parser_delete(&yp);
		return rc;
	}
	pc->y = &y;
	pc->text = text;
	pc->len = len;
	const yaml_node_t *root = yaml_document_get_root_node(&y);
	if (!root)
		rc = fail_at(pc, 1, 1, "%s", empty_msg);
	else
		rc = walk(pc, root, arg);
	if (!rc) {
		/* anything after the first document is a mistake */
		yaml_document_t y2;
		if (!yaml_parser_load(&yp, &y2)) {
			rc = yaml_error(pc, &yp, text, len, "", 0);
		} else {
			const yaml_node_t *r2 =
			    yaml_document_get_root_node(&y2);
			if (r2)
				rc = fail_at(pc, (int)r2->start_mark.line + 1,
					     (int)r2->start_mark.column + 1,
					     "only one YAML document per %s (a "
					     "second one starts here)", what);
			yaml_document_delete(&y2);
		}
	}
	yaml_document_delete(&y);
	pc->y = NULL;
	yaml_parser_delete(&yp);
	return rc;
}

static enum ups_rc walk_scenario(const struct pc *pc, const yaml_node_t *root,
				 void *arg)
{
	return walk_top(pc, root, arg);
}

/** The name a scenario gets: its source's file stem ("d/x.yaml" -> "x"). */
static bool source_stem(const char *src, char *out, size_t cap)
{
	char esc[256];
	const char *base = strrchr(src, '/');
	base = base ? base + 1 : src;
	size_t n = strlen(base);
	if (n >= 5 && !strcmp(base + n - 5, ".yaml"))
		n -= 5;
	else if (n >= 4 && !strcmp(base + n - 4, ".yml"))
		n -= 4;
	if (n >= sizeof esc)
		return false;
	char raw[256];
	memcpy(raw, base, n);
	raw[n] = '\0';
	ups_escape(esc, sizeof esc, raw);
	if (strlen(esc) >= cap)
		return false;
	memcpy(out, esc, strlen(esc) + 1);
	return true;
}

enum ups_rc scen_parse(const char *src, const char *text, size_t len,
		       struct scen *out, struct ups_diag *diag)
{
	struct pc pc = { .src = src ? src : "<scenario>", .diag = diag };
	if (!out || (!text && len)) {
		ups_diag_set(diag, pc.src, 0, 0, "invalid argument");
		return UPS_EARG;
	}
	memset(out, 0, sizeof *out);
	out->end_ms = UPS_NEVER;
	if (strlen(pc.src) >= sizeof out->source)
		return fail_at(&pc, 0, 0, "file name too long (at most %zu "
			       "bytes)", sizeof out->source - 1);
	snprintf(out->source, sizeof out->source, "%s", pc.src);
	if (!source_stem(pc.src, out->name, sizeof out->name))
		return fail_at(&pc, 0, 0, "file name too long for a scenario "
			       "name (at most %zu characters before .yaml)",
			       sizeof out->name - 1);
	enum ups_rc rc;
	if (len > MAX_TEXT)
		rc = fail_at(&pc, 0, 0, "scenario is too large (%zu bytes, at "
			     "most %d)", len, MAX_TEXT);
	else
		rc = parse_text(&pc, text ? text : "", len, "scenario",
				"empty scenario (expected a mapping with a "
				"timeline)", walk_scenario, out);
	if (rc) {
		scen_free(out);
		out->end_ms = UPS_NEVER;
	}
	return rc;
}

void scen_free(struct scen *s)
{
	if (!s)
		return;
	free(s->overlay);
	free(s->init);
	free(s->steps);
	memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ */
/* Control lines                                                       */

static enum ups_rc walk_line(const struct pc *pc, const yaml_node_t *root,
			     void *arg)
{
	struct scen_action *out = arg;
	const yaml_node_t *evv = NULL;
	const struct evkey *ek = NULL;
	if (root->type != YAML_MAPPING_NODE)
		return fail(pc, root, "a control line is a mapping with one "
			    "event, such as {line: off}; got a %s",
			    yn_kind_name(root));
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = node(pc, pr->key),
				  *v = node(pc, pr->value);
		enum ups_rc rc = need_key(pc, k);
		if (rc)
			return rc;
		if (yn_scalar_is(k, "at") || yn_scalar_is(k, "after") ||
		    yn_scalar_is(k, "repeat"))
			return fail(pc, k, "%s: not allowed in a control line "
				    "(its event applies at once)",
				    k->data.scalar.value);
		if ((rc = one_event(pc, k, &ek, line_words, H_LINE)))
			return rc;
		evv = v;
	}
	if (!ek)
		return fail(pc, root, "no event (expected one, such as {line: "
			    "off})");
	return parse_event(pc, ek, evv, ek->key, out);
}

enum ups_rc scen_parse_line(const char *line, size_t len,
			    struct scen_action *out, struct ups_diag *diag)
{
	struct pc pc = { .src = CONTROL_SRC, .diag = diag };
	if (!out || (!line && len)) {
		ups_diag_set(diag, CONTROL_SRC, 0, 0, "invalid argument");
		return UPS_EARG;
	}
	memset(out, 0, sizeof *out);
	if (!line)
		line = "";
	if (len > MAX_LINE)
		return fail_at(&pc, 1, 1,
			       "control line too long (%zu bytes, at "
			       "most %d)",
			       len, MAX_LINE);
	/* one line: a final LF or CR LF is allowed, no other break */
	size_t n = len;
	if (n && line[n - 1] == '\n')
		n--;
	if (n && line[n - 1] == '\r')
		n--;
	for (size_t i = 0, col = 1; i < n; i++) {
		if (line[i] == '\n' || line[i] == '\r')
			return fail_at(&pc, 1, (int)col, "a control line is "
				       "one line (a line break here)");
		if (((unsigned char)line[i] & 0xC0) != 0x80)
			col++; /* columns count characters, as libyaml's */
	}
	enum ups_rc rc = parse_text(&pc, line, n, "control line",
				    "empty control line (expected one event, "
				    "such as {line: off})", walk_line, out);
	if (rc)
		memset(out, 0, sizeof *out);
	if (rc == UPS_EPARSE && diag && diag->line > 1) {
		/* libyaml ends the stream with a line break of its own: an
		 * error at the end of the text is at the end of the line */
		int col = 1;
		for (size_t i = 0; i < n; i++)
			col += ((unsigned char)line[i] & 0xC0) != 0x80;
		diag->line = 1;
		diag->col = col;
	}
	return rc;
}
