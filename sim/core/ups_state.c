/*
 * ups_state.c - the unit's memory across a power cut as text
 * (ups_state.h): saving it, and restoring it after checking every line.
 * A state is outside input once it is on disk: the loader accepts only
 * what ups_state_save() writes for this profile, says where it is wrong
 * (file:line:col) without quoting the file, and changes the unit only
 * when the whole text is good.
 */
#include "upssim/ups_state.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ups_internal.h"

uint32_t ups_state_version(const struct ups *u)
{
	return u->state_version;
}

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32) */
static uint32_t crc32_of(const char *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		c ^= (uint8_t)p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return ~c;
}

/* ------------------------------------------------------------------ */
/* Saving                                                              */

struct sb {
	char *buf;
	size_t cap, n;
};

__attribute__((format(printf, 2, 3)))
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(b->n < b->cap ? b->buf + b->n : NULL,
			  b->n < b->cap ? b->cap - b->n : 0, fmt, ap);
	va_end(ap);
	if (k > 0)
		b->n += (size_t)k;
}

/* A quoted string: printable ASCII but `"` and `\`, others as \xNN. */
static void sb_quoted(struct sb *b, const char *s)
{
	sb_printf(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c < 0x20 || c > 0x7E)
			sb_printf(b, "\\x%02X", c);
		else
			sb_printf(b, "%c", c);
	}
	sb_printf(b, "\"");
}

size_t ups_state_save(const struct ups *u, char *buf, size_t cap)
{
	struct sb b = { buf, cap, 0 };
	const struct ups_profile *p = u->p;
	char nm[8];
	sb_printf(&b, "%s %d\n", UPS_STATE_MAGIC, UPS_STATE_FORMAT);
	sb_printf(&b, "# What the simulated UPS keeps across a power cut "
		  "(upssim --state).\n# Written by upssim; the checksum "
		  "covers every byte above its line.\n");
	sb_printf(&b, "profile ");
	sb_quoted(&b, p->name);
	sb_printf(&b, "\n");
	for (int c = 0; c < 128; c++) {
		const struct prof_enum *e = &p->eeprom[c];
		if (!e->present)
			continue;
		sb_printf(&b, "eeprom %s ", cmd_byte_name((uint8_t)c, nm));
		sb_quoted(&b, e->values[u->ee_idx[c] % e->count]);
		sb_printf(&b, "\n");
	}
	sb_printf(&b, "ups_id ");
	sb_quoted(&b, u->ups_id);
	sb_printf(&b, "\nbattery_date ");
	sb_quoted(&b, u->batt_date);
	sb_printf(&b, "\nalarm_enable 0x%02X\npacks %d\n", u->alarm_enable,
		  u->packs);
	if (u->has_result) {
		/* modular: result_t may lie before model time 0 (restored) */
		sb_printf(&b, "test_result ");
		sb_quoted(&b, u->result);
		sb_printf(&b, " %llu\n", (unsigned long long)(u->t - u->result_t));
	} else {
		sb_printf(&b, "test_result none\n");
	}
	sb_printf(&b, "replace_battery %d\n", u->replace ? 1 : 0);
	sb_printf(&b, "since_test_ms %llu\n",
		  (unsigned long long)(u->t - u->last_test_t + u->test_age0));
	/* the checksum of what is written so far; the text never reaches
	 * UPS_STATE_MAX, so what the buffer holds is all of it */
	size_t body = b.n;
	uint32_t crc = body < cap ? crc32_of(buf, body) : 0;
	sb_printf(&b, "checksum 0x%08X\n", (unsigned)crc);
	if (cap)
		buf[b.n < cap ? b.n : cap - 1] = '\0';
	return b.n;
}

/* ------------------------------------------------------------------ */
/* Loading                                                             */

struct rd {
	const char *src;
	struct ups_diag *d;
	int line;
	const char *s;     /* the current line, not NUL-terminated */
	size_t n, pos;     /* its length, the read position in it */
};

__attribute__((format(printf, 2, 3)))
static enum ups_rc bad(struct rd *r, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ups_diag_set(r->d, r->src, r->line, r->line ? (int)r->pos + 1 : 0,
		     "%s", msg);
	return UPS_EPARSE;
}

static void skip_sp(struct rd *r)
{
	while (r->pos < r->n && r->s[r->pos] == ' ')
		r->pos++;
}

static bool at_end(struct rd *r)
{
	skip_sp(r);
	return r->pos >= r->n;
}

/* A word of [A-Za-z0-9_^-] into @p w (cap 32). */
static bool word(struct rd *r, char *w, size_t cap)
{
	skip_sp(r);
	size_t k = 0;
	while (r->pos < r->n && k + 1 < cap) {
		char c = r->s[r->pos];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '^' ||
		      c == '\'' || c == '[' || c == ']' || c == '{' || c == '}'))
			break;
		w[k++] = c;
		r->pos++;
	}
	w[k] = '\0';
	return k > 0 && (r->pos >= r->n || r->s[r->pos] == ' ');
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ?
	       c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A quoted string (sb_quoted's form) of at most @p cap - 1 bytes. */
static enum ups_rc quoted(struct rd *r, char *out, size_t cap, const char *what)
{
	skip_sp(r);
	if (r->pos >= r->n || r->s[r->pos] != '"')
		return bad(r, "%s: expected a quoted string", what);
	r->pos++;
	size_t k = 0;
	for (;;) {
		if (r->pos >= r->n)
			return bad(r, "%s: the string has no closing quote", what);
		char c = r->s[r->pos++];
		if (c == '"')
			break;
		if (c == '\\') {
			if (r->pos >= r->n)
				return bad(r, "%s: a \\ ends the line", what);
			char e = r->s[r->pos++];
			if (e == 'x') {
				int h1 = r->pos < r->n ? hexval(r->s[r->pos]) : -1;
				int h2 = r->pos + 1 < r->n ?
					 hexval(r->s[r->pos + 1]) : -1;
				if (h1 < 0 || h2 < 0 || (!h1 && !h2))
					return bad(r, "%s: \\x needs two hex digits "
						   "(not 00)", what);
				r->pos += 2;
				c = (char)(h1 * 16 + h2);
			} else if (e == '"' || e == '\\') {
				c = e;
			} else {
				return bad(r, "%s: unknown escape", what);
			}
		}
		if (k + 1 >= cap)
			return bad(r, "%s: longer than %zu characters", what,
				   cap - 1);
		out[k++] = c;
	}
	out[k] = '\0';
	return UPS_OK;
}

/* A decimal (or 0x hex) number in [lo, hi]. */
static enum ups_rc number(struct rd *r, unsigned long long lo,
			  unsigned long long hi, unsigned long long *v,
			  const char *what)
{
	skip_sp(r);
	size_t start = r->pos;
	int base = 10;
	if (r->n - r->pos > 2 && r->s[r->pos] == '0' &&
	    (r->s[r->pos + 1] == 'x' || r->s[r->pos + 1] == 'X')) {
		base = 16;
		r->pos += 2;
	}
	unsigned long long x = 0;
	size_t digits = 0;
	while (r->pos < r->n) {
		int h = hexval(r->s[r->pos]);
		if (h < 0 || h >= base)
			break;
		if (x > (~0ull - (unsigned)h) / (unsigned)base)
			return bad(r, "%s: number too large", what);
		x = x * (unsigned)base + (unsigned)h;
		r->pos++;
		digits++;
	}
	if (!digits || (r->pos < r->n && r->s[r->pos] != ' ')) {
		r->pos = start;
		return bad(r, "%s: expected a number", what);
	}
	if (x < lo || x > hi) {
		r->pos = start;
		return bad(r, "%s: out of range (%llu to %llu)", what, lo, hi);
	}
	*v = x;
	return UPS_OK;
}

/* The command byte a name from cmd_byte_name() stands for, or -1. */
static int cmd_of_name(const char *w)
{
	if (w[0] && !w[1])
		return (uint8_t)w[0];
	if (w[0] == '^' && w[1] >= '@' && w[1] <= '_' && !w[2])
		return w[1] - '@';
	return -1;
}

/* c / x text: printable, no alert characters, as the unit accepts it */
static bool entry_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E ||
		    strchr(PROF_ALERT_CHARS, *s))
			return false;
	return true;
}

struct loaded {
	uint8_t ee_idx[128];
	bool ee_seen[128];
	char ups_id[9], batt_date[9];
	unsigned alarm_enable;
	int packs;
	bool has_result;
	char result[3];
	uint64_t result_age;
	bool replace;
	uint64_t since_test;
	unsigned seen; /* K_* bits */
};

enum { K_PROFILE = 1, K_ID = 2, K_DATE = 4, K_ALARM = 8, K_PACKS = 16,
       K_RESULT = 32, K_REPLACE = 64, K_SINCE = 128, K_ALL = 255 };

static enum ups_rc once(struct rd *r, struct loaded *l, unsigned bit,
			const char *key)
{
	if (l->seen & bit)
		return bad(r, "%s: given twice", key);
	l->seen |= bit;
	return UPS_OK;
}

static enum ups_rc item(struct rd *r, const struct ups *u, struct loaded *l)
{
	char key[32], v[64];
	unsigned long long x;
	enum ups_rc rc;
	r->pos = 0;
	if (!word(r, key, sizeof key))
		return bad(r, "expected an item name (profile, eeprom, ups_id, "
			   "...)");
	if (!strcmp(key, "profile")) {
		if ((rc = once(r, l, K_PROFILE, key)) ||
		    (rc = quoted(r, v, sizeof v, key)))
			return rc;
		if (strcmp(v, u->p->name)) {
			r->pos = 8;
			return bad(r, "this state belongs to another profile; "
				   "upssim runs profile \"%s\" (give --state a "
				   "file of its own, or remove this one to start "
				   "from the profile's values)", u->p->name);
		}
	} else if (!strcmp(key, "eeprom")) {
		char nm[8];
		size_t at = r->pos + 1;
		if (!word(r, nm, sizeof nm))
			return bad(r, "eeprom: expected a command (u, l, ^L ...)");
		int c = cmd_of_name(nm);
		if (c < 0 || c >= 128 || !u->p->eeprom[c].present) {
			r->pos = at;
			return bad(r, "eeprom: profile \"%s\" has no list for "
				   "this command (a state of another profile?)",
				   u->p->name);
		}
		if (l->ee_seen[c]) {
			r->pos = at;
			return bad(r, "eeprom %s: given twice", nm);
		}
		at = r->pos + 1;
		if ((rc = quoted(r, v, sizeof v, "eeprom")))
			return rc;
		const struct prof_enum *e = &u->p->eeprom[c];
		int idx = -1;
		for (int i = 0; i < e->count && idx < 0; i++)
			if (!strcmp(e->values[i], v))
				idx = i;
		if (idx < 0) {
			r->pos = at;
			return bad(r, "eeprom %s: not one of the values of profile "
				   "\"%s\"", nm, u->p->name);
		}
		l->ee_idx[c] = (uint8_t)idx;
		l->ee_seen[c] = true;
	} else if (!strcmp(key, "ups_id") || !strcmp(key, "battery_date")) {
		bool id = key[0] == 'u';
		char *dst = id ? l->ups_id : l->batt_date;
		if ((rc = once(r, l, id ? K_ID : K_DATE, key)) ||
		    (rc = quoted(r, dst, 9, key)))
			return rc;
		if (!entry_ok(dst))
			return bad(r, "%s: a character the unit does not store "
				   "(control or alert character)", key);
	} else if (!strcmp(key, "alarm_enable")) {
		if ((rc = once(r, l, K_ALARM, key)) ||
		    (rc = number(r, 0, 255, &x, key)))
			return rc;
		l->alarm_enable = (unsigned)x;
	} else if (!strcmp(key, "packs")) {
		if ((rc = once(r, l, K_PACKS, key)) ||
		    (rc = number(r, 0, 999, &x, key)))
			return rc;
		l->packs = (int)x;
	} else if (!strcmp(key, "test_result")) {
		if ((rc = once(r, l, K_RESULT, key)))
			return rc;
		size_t at = r->pos;
		char w[8];
		if (word(r, w, sizeof w) && !strcmp(w, "none")) {
			l->has_result = false;
		} else {
			r->pos = at;
			if ((rc = quoted(r, l->result, 3, key)))
				return rc;
			if (strcmp(l->result, "OK") && strcmp(l->result, "BT") &&
			    strcmp(l->result, "NG")) {
				r->pos = at + 1;
				return bad(r, "test_result: expected OK, BT or NG "
					   "(ULS p.6), or none");
			}
			if ((rc = number(r, 0, ~0ull, &x, key)))
				return rc;
			l->has_result = true;
			l->result_age = x;
		}
	} else if (!strcmp(key, "replace_battery")) {
		if ((rc = once(r, l, K_REPLACE, key)) ||
		    (rc = number(r, 0, 1, &x, key)))
			return rc;
		l->replace = x != 0;
	} else if (!strcmp(key, "since_test_ms")) {
		if ((rc = once(r, l, K_SINCE, key)) ||
		    (rc = number(r, 0, ~0ull, &x, key)))
			return rc;
		l->since_test = x;
	} else {
		r->pos = 0;
		return bad(r, "unknown item (known: profile, eeprom, ups_id, "
			   "battery_date, alarm_enable, packs, test_result, "
			   "replace_battery, since_test_ms, checksum)");
	}
	if (!at_end(r))
		return bad(r, "%s: unexpected text after the value", key);
	return UPS_OK;
}

/* Next line of @p text from @p *off: sets r->s, r->n; false at the end. */
static bool next_line(struct rd *r, const char *text, size_t len, size_t *off)
{
	if (*off >= len)
		return false;
	const char *s = text + *off;
	const char *nl = memchr(s, '\n', len - *off);
	r->s = s;
	r->n = nl ? (size_t)(nl - s) : len - *off;
	*off += r->n + (nl != NULL);
	r->pos = 0;
	r->line++;
	return true;
}

enum ups_rc ups_state_load(struct ups *u, const char *src, const char *text,
			   size_t len, struct ups_diag *d)
{
	if (!u || (!text && len))
		return UPS_EARG;
	struct rd r = { .src = src ? src : "state", .d = d };
	if (len > UPS_STATE_MAX)
		return bad(&r, "larger than %d bytes: not an upssim state file",
			   UPS_STATE_MAX);
	if (!len)
		return bad(&r, "empty: not an upssim state file (upssim writes "
			   "a whole file or none)");
	if (memchr(text, '\0', len))
		return bad(&r, "has a NUL byte: not an upssim state file");

	/* line 1: magic and format */
	size_t off = 0;
	next_line(&r, text, len, &off);
	size_t ml = strlen(UPS_STATE_MAGIC);
	unsigned long long fmt;
	if (r.n < ml + 2 || memcmp(r.s, UPS_STATE_MAGIC, ml) || r.s[ml] != ' ')
		return bad(&r, "not an upssim state file (it starts with "
			   "\"%s %d\")", UPS_STATE_MAGIC, UPS_STATE_FORMAT);
	r.pos = ml + 1;
	if (number(&r, 0, 1000000, &fmt, "format") != UPS_OK)
		return UPS_EPARSE;
	if (fmt != UPS_STATE_FORMAT)
		return bad(&r, "state format %llu; this upssim reads format %d",
			   fmt, UPS_STATE_FORMAT);

	/* the checksum line covers every byte before it; then the end */
	struct rd scan = r;
	size_t soff = off, sum_at = 0;
	bool found = false;
	while (!found && next_line(&scan, text, len, &soff)) {
		if (scan.n >= 9 && !memcmp(scan.s, "checksum ", 9)) {
			found = true;
			sum_at = (size_t)(scan.s - text);
		}
	}
	if (!found) {
		r.line = scan.line + 1; /* where it should have been */
		r.pos = 0;
		return bad(&r, "no checksum line: the file is cut short or was "
			   "not written by upssim");
	}
	unsigned long long sum;
	scan.pos = 9;
	if (number(&scan, 0, 0xFFFFFFFFull, &sum, "checksum") != UPS_OK)
		return UPS_EPARSE;
	if (!at_end(&scan))
		return bad(&scan, "checksum: unexpected text after the value");
	for (size_t i = soff; i < len; i++)
		if (text[i] != '\n') {
			struct rd after = scan;
			after.line++;
			after.pos = 0;
			return bad(&after, "text after the checksum line");
		}
	if (crc32_of(text, sum_at) != (uint32_t)sum) {
		scan.pos = 9;
		return bad(&scan, "checksum mismatch: the file was changed or "
			   "damaged after upssim wrote it");
	}

	/* the items, into a copy: the unit changes only if all are good */
	static const struct loaded zero;
	struct loaded l = zero;
	while (next_line(&r, text, len, &off) && r.s < text + sum_at) {
		if (!r.n || r.s[0] == '#')
			continue;
		enum ups_rc rc = item(&r, u, &l);
		if (rc)
			return rc;
	}
	r.line = scan.line; /* what is missing is reported at the checksum */
	r.pos = 0;
	if ((l.seen & K_ALL) != K_ALL) {
		static const char *const names[] = {
			"profile", "ups_id", "battery_date", "alarm_enable",
			"packs", "test_result", "replace_battery",
			"since_test_ms",
		};
		for (int i = 0; i < 8; i++)
			if (!(l.seen & (1u << i)))
				return bad(&r, "%s: missing", names[i]);
	}
	for (int c = 0; c < 128; c++)
		if (u->p->eeprom[c].present && !l.ee_seen[c]) {
			char nm[8];
			return bad(&r, "eeprom %s: missing (profile \"%s\" has a "
				   "list for it: a state of another profile?)",
				   cmd_byte_name((uint8_t)c, nm), u->p->name);
		}

	/* apply, as after a power cut: the EEPROM and the kept items */
	for (int c = 0; c < 128; c++)
		if (l.ee_seen[c])
			u->ee_idx[c] = l.ee_idx[c];
	memcpy(u->ups_id, l.ups_id, sizeof u->ups_id);
	memcpy(u->batt_date, l.batt_date, sizeof u->batt_date);
	u->alarm_enable = (uint8_t)l.alarm_enable;
	u->packs = l.packs;
	u->has_result = l.has_result;
	if (l.has_result) {
		memcpy(u->result, l.result, sizeof u->result);
		u->result_t = u->t - l.result_age; /* modular, see save */
	}
	u->replace = l.replace;
	/* `#` repeats every 5 h while the battery wants replacing (ULS p.25) */
	u->replace_next = l.replace ? u->t + u->p->replace_repeat_ms : UPS_NEVER;
	u->last_test_t = u->t;
	u->test_age0 = l.since_test;
	ups_restored(u);
	return UPS_OK;
}
