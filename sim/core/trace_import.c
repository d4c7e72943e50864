/*
 * trace_import.c - importers from other captures into the trace format
 * (trace_import.h; what each recovers: docs/trace.md "Importers").  Each
 * importer reads its format line by line and writes trace lines through
 * one emitter that keeps time monotonic and splits long runs.  Where a
 * format lost the UPS-Link bytes (NUT and apcupsd log what they made of a
 * reply, not the reply), the reply is rebuilt in the unit's own format
 * and the line says so in its note.  The facts used to rebuild them (NUT's
 * conversions, apcupsd's filtered characters, the CI_ names) are cited
 * where they are used: protocol-facts §6.1 (NUT) and §6.2 (apcupsd).
 */
#include "upssim/trace_import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/trace.h"

/* ------------------------------------------------------------------ */
/* output                                                               */

struct emit {
	struct ups_buf *out;
	uint64_t last;
	enum ups_rc rc;
};

static void put(struct emit *e, const char *s, size_t n)
{
	if (e->rc == UPS_OK)
		e->rc = ups_buf_append(e->out, s, n);
}

static void em_bytes(struct emit *e, uint64_t t, enum trace_dir d,
		     const uint8_t *p, size_t n, const char *note)
{
	char line[TRACE_CHUNK * 4 + 512], safe[256];
	if (t < e->last)
		t = e->last;
	e->last = t;
	if (note) { /* a note is one printable line, whatever the input held */
		size_t i = 0;
		for (; note[i] && i + 1 < sizeof safe; i++)
			safe[i] = (unsigned char)note[i] < 0x20 ||
				  (unsigned char)note[i] > 0x7E ? '?' : note[i];
		safe[i] = '\0';
		note = safe;
	}
	size_t off = 0;
	do {
		size_t k = n - off < TRACE_CHUNK ? n - off : TRACE_CHUNK;
		size_t len = trace_format_bytes(line, sizeof line, t, d, p + off, k,
						note);
		put(e, line, len < sizeof line ? len : sizeof line - 1);
		off += k;
	} while (off < n);
}

static void em_str(struct emit *e, uint64_t t, enum trace_dir d, const char *s,
		   const char *note)
{
	em_bytes(e, t, d, (const uint8_t *)s, strlen(s), note);
}

static void em_note(struct emit *e, uint64_t t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void em_note(struct emit *e, uint64_t t, const char *fmt, ...)
{
	char text[512], line[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	for (char *c = text; *c; c++) /* notes are one printable line */
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7E)
			*c = '?';
	if (t < e->last)
		t = e->last;
	e->last = t;
	size_t len = trace_format_note(line, sizeof line, t, text);
	put(e, line, len < sizeof line ? len : sizeof line - 1);
}

/* A reply line: the text and CR LF. */
static void em_reply(struct emit *e, uint64_t t, const char *v, size_t n,
		     const char *note)
{
	uint8_t buf[UPS_REPLY_MAX + 2];
	if (n > UPS_REPLY_MAX)
		n = UPS_REPLY_MAX;
	memcpy(buf, v, n);
	buf[n] = '\r';
	buf[n + 1] = '\n';
	em_bytes(e, t, TRACE_TX, buf, n + 2, note);
}

/* ------------------------------------------------------------------ */
/* input helpers                                                        */

struct lines {
	const char *s;
	size_t len, pos;
	int no;
};

static bool next_line(struct lines *L, const char **p, size_t *n)
{
	if (L->pos >= L->len)
		return false;
	const char *s = L->s + L->pos;
	const char *nl = memchr(s, '\n', L->len - L->pos);
	size_t k = nl ? (size_t)(nl - s) : L->len - L->pos;
	L->pos += k + (nl ? 1 : 0);
	L->no++;
	if (k && s[k - 1] == '\r')
		k--;
	*p = s;
	*n = k;
	return true;
}

/* "12.345678" at @p s -> ms; @return characters used, 0 if none */
static size_t parse_secs(const char *s, size_t n, uint64_t *ms)
{
	size_t i = 0;
	uint64_t sec = 0, frac = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	size_t d0 = i;
	while (i < n && s[i] >= '0' && s[i] <= '9' && sec < 100000000000ull)
		sec = sec * 10 + (uint64_t)(s[i++] - '0');
	if (i == d0 || i >= n || s[i] != '.')
		return 0;
	i++;
	size_t f0 = i;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		if (i - f0 < 3)
			frac = frac * 10 + (uint64_t)(s[i] - '0');
		i++;
	}
	if (i == f0)
		return 0;
	for (size_t k = i - f0; k < 3; k++)
		frac *= 10;
	*ms = sec * 1000 + frac;
	return i;
}

static const char *find(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; k <= n && i <= n - k; i++)
		if (!memcmp(s + i, needle, k))
			return s + i;
	return NULL;
}

/* The byte NUT prints as "[X]" or "[0xNN]" (prtchr) starting at @p s
 * (just after '['). @return characters used up to and with ']', 0 if not */
static size_t nut_char(const char *s, size_t n, uint8_t *b)
{
	if (n >= 5 && s[0] == '0' && s[1] == 'x' && s[4] == ']') {
		unsigned v;
		char h[3] = { s[2], s[3], 0 };
		char *end;
		v = (unsigned)strtoul(h, &end, 16);
		if (*end)
			return 0;
		*b = (uint8_t)v;
		return 5;
	}
	if (n >= 2 && s[1] == ']') {
		*b = (uint8_t)s[0];
		return 2;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* NUT variables and UPS-Link commands (protocol-facts §6.1, NUT-T)     */

enum conv {
	CV_VERB = 0,  /* the reply as NUT keeps it */
	CV_MIN_COLON, /* j: NUT seconds = minutes x 60; the unit sends dddd: */
	CV_MIN2,      /* q: minutes, 2 digits */
	CV_HOURS,     /* E: NUT seconds = hours x 3600; "ON "/"OFF" -> 0 */
	CV_REASON,    /* G: NUT's text for the transfer cause */
	CV_STATUS,    /* Q: ups.status words -> the register's bits */
};

static const struct nutvar {
	const char *name;
	uint8_t cmd;
	enum conv conv;
} nutvars[] = {
	{ "ups.model", 0x01, CV_VERB },
	{ "device.model", 0x01, CV_VERB },
	{ "ups.firmware", 'b', CV_VERB },
	{ "ups.serial", 'n', CV_VERB },
	{ "device.serial", 'n', CV_VERB },
	{ "ups.mfr.date", 'm', CV_VERB },
	{ "battery.date", 'x', CV_VERB },
	{ "ups.id", 'c', CV_VERB },
	{ "ups.temperature", 'C', CV_VERB },
	{ "ups.load", 'P', CV_VERB },
	{ "ups.test.interval", 'E', CV_HOURS },
	{ "ups.test.result", 'X', CV_VERB },
	{ "ups.delay.start", 'r', CV_VERB },
	{ "ups.delay.shutdown", 'p', CV_VERB },
	{ "ups.firmware.aux", 'v', CV_VERB },
	{ "ups.display.language", 0x0C, CV_VERB },
	{ "ups.status", 'Q', CV_STATUS },
	{ "input.voltage", 'L', CV_VERB },
	{ "input.frequency", 'F', CV_VERB },
	{ "input.sensitivity", 's', CV_VERB },
	{ "input.quality", '9', CV_VERB },
	{ "input.transfer.low", 'l', CV_VERB },
	{ "input.transfer.high", 'u', CV_VERB },
	{ "input.transfer.reason", 'G', CV_REASON },
	{ "input.voltage.maximum", 'M', CV_VERB },
	{ "input.voltage.minimum", 'N', CV_VERB },
	{ "output.current", '/', CV_VERB },
	{ "output.voltage", 'O', CV_VERB },
	{ "output.voltage.nominal", 'o', CV_VERB },
	{ "battery.charge", 'f', CV_VERB },
	{ "battery.charge.restart", 'e', CV_VERB },
	{ "battery.voltage", 'B', CV_VERB },
	{ "battery.voltage.nominal", 'g', CV_VERB },
	{ "battery.runtime", 'j', CV_MIN_COLON },
	{ "battery.runtime.low", 'q', CV_MIN2 },
	{ "battery.alarm.threshold", 'k', CV_VERB },
	{ "battery.packs", '>', CV_VERB },
	{ "battery.packs.bad", '<', CV_VERB },
	{ "ambient.temperature", 't', CV_VERB },
	{ "ambient.humidity", 'h', CV_VERB },
};
#define N_NUTVARS (sizeof nutvars / sizeof nutvars[0])

static int nutvar_find(const char *s, size_t n)
{
	for (size_t i = 0; i < N_NUTVARS; i++)
		if (strlen(nutvars[i].name) == n && !memcmp(nutvars[i].name, s, n))
			return (int)i;
	return -1;
}

/* NUT's text for each G reply (protocol-facts §5 G; NUT-C convert_data) */
static const char *const reasons[][2] = {
	{ "R", "unacceptable utility voltage rate of change" },
	{ "H", "high utility voltage" },
	{ "L", "low utility voltage" },
	{ "T", "line voltage notch or spike" },
	{ "O", "no transfers yet since turnon" },
	{ "S", "simulated power failure or UPS test" },
};

/* ups.status words -> Q bits (ULS p.8, protocol-facts §1.1) */
static const struct { const char *w; unsigned bit; } qbits[] = {
	{ "CAL", 0x01 }, { "TRIM", 0x02 }, { "BOOST", 0x04 }, { "OL", 0x08 },
	{ "OB", 0x10 }, { "OVER", 0x20 }, { "LB", 0x40 }, { "RB", 0x80 },
};

/* The UPS-Link reply NUT's value @p v came from. */
static void unconvert(enum conv c, const char *v, char *out, size_t cap)
{
	long s = strtol(v, NULL, 10);
	switch (c) {
	case CV_MIN_COLON:
		snprintf(out, cap, "%04ld:", s / 60);
		return;
	case CV_MIN2:
		snprintf(out, cap, "%02ld", s / 60);
		return;
	case CV_HOURS:
		if (s <= 0)
			snprintf(out, cap, "OFF");
		else
			snprintf(out, cap, "%03ld", s / 3600);
		return;
	case CV_REASON:
		for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
			if (!strcmp(v, reasons[i][1])) {
				snprintf(out, cap, "%s", reasons[i][0]);
				return;
			}
		break;
	case CV_STATUS: {
		unsigned bits = 0;
		const char *p = v;
		while (*p) {
			while (*p == ' ')
				p++;
			size_t k = strcspn(p, " ");
			for (size_t i = 0; i < sizeof qbits / sizeof qbits[0]; i++)
				if (strlen(qbits[i].w) == k && !memcmp(qbits[i].w, p, k))
					bits |= qbits[i].bit;
			p += k;
		}
		snprintf(out, cap, "%02X", bits);
		return;
	}
	default:
		break;
	}
	snprintf(out, cap, "%s", v);
}

/* NUT's quoted value (pconf escapes `"` and `\`) -> @p out */
static bool nut_value(const char *s, size_t n, char *out, size_t cap)
{
	if (!n || s[0] != '"')
		return false;
	size_t o = 0;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (c == '"') {
			out[o] = '\0';
			return true;
		}
		if (c == '\\' && i + 1 < n)
			c = s[++i];
		if (o + 1 < cap)
			out[o++] = c;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* `a` and ^Z rebuilt from what a host saw                              */

struct cmdset {
	uint8_t seen[32];
};

static void cs_add(struct cmdset *c, uint8_t b)
{
	c->seen[b >> 3] |= (uint8_t)(1u << (b & 7));
}

static bool cs_has(const struct cmdset *c, uint8_t b)
{
	return (c->seen[b >> 3] >> (b & 7)) & 1u;
}

/* `a` as a 3G unit lists it: level, alerts, the commands in byte order
 * (facts §2.3).  Only commands the capture showed are listed, so the host
 * asks a replay for those and nothing the capture cannot answer. */
static size_t caps_string(const struct cmdset *c, char *out, size_t cap)
{
	size_t o = (size_t)snprintf(out, cap, "3.!$%%+?=#|.");
	for (int b = 1; b < 256 && o + 1 < cap; b++)
		if (cs_has(c, (uint8_t)b) && b != '.' && b != '\r' && b != '\n')
			out[o++] = (char)b;
	out[o < cap ? o : cap - 1] = '\0';
	return o;
}

#define MAX_ENUM 8
struct enums {
	int n[N_NUTVARS];
	char v[N_NUTVARS][MAX_ENUM][16];
};

/* ^Z rebuilt from NUT's ADDENUM lists: one item per variable, locale `4`
 * (NUT kept only the unit's own locale and `4`, and does not say which). */
static size_t dump_string(const struct enums *en, char *out, size_t cap)
{
	size_t o = 0;
	if (cap)
		out[o++] = '#';
	for (size_t i = 0; i < N_NUTVARS; i++) {
		int cnt = en->n[i];
		if (!cnt || nutvars[i].cmd < 0x20)
			continue;
		char vals[MAX_ENUM][16];
		size_t w = 1;
		for (int k = 0; k < cnt; k++) {
			unconvert(nutvars[i].conv, en->v[i][k], vals[k], sizeof vals[k]);
			if (strlen(vals[k]) > w)
				w = strlen(vals[k]);
		}
		if (w > 9 || o + 4 + (size_t)cnt * w + 1 >= cap)
			continue;
		out[o++] = (char)nutvars[i].cmd;
		out[o++] = '4';
		out[o++] = (char)('0' + cnt);
		out[o++] = (char)('0' + w);
		for (int k = 0; k < cnt; k++) {
			size_t l = strlen(vals[k]);
			memcpy(out + o, vals[k], l);
			memset(out + o + l, ' ', w - l);
			o += w;
		}
	}
	if (cap)
		out[o < cap ? o : cap - 1] = '\0';
	return o;
}

/* ------------------------------------------------------------------ */
/* NUT apcsmart debug output                                            */

struct nut_pend {
	bool active, answered;
	int var;
	uint8_t cmd;
	uint64_t t;
};

struct nut_state {
	struct emit *e;
	char val[N_NUTVARS][128];
	bool have[N_NUTVARS];
	struct nut_pend p;
	struct cmdset a;
	struct enums en;
	bool caps;
};

static void nut_finish(struct nut_state *st, uint64_t t)
{
	struct nut_pend *p = &st->p;
	if (p->active && !p->answered && p->var >= 0 && st->have[p->var]) {
		char r[160];
		unconvert(nutvars[p->var].conv, st->val[p->var], r, sizeof r);
		em_reply(st->e, p->t, r, strlen(r), "nut value unchanged");
	}
	(void)t;
	p->active = false;
}

static void nut_query(struct nut_state *st, uint64_t t, uint8_t cmd, int var)
{
	nut_finish(st, t);
	em_bytes(st->e, t, TRACE_RX, &cmd, 1, NULL);
	st->p = (struct nut_pend){ .active = true, .var = var, .cmd = cmd, .t = t };
}

/* "<secs>\t[Dn] " -> time and the message after it */
static bool nut_line(const char *s, size_t n, uint64_t *t, const char **msg,
		     size_t *mlen)
{
	size_t k = parse_secs(s, n, t);
	if (!k)
		return false;
	while (k < n && (s[k] == ' ' || s[k] == '\t'))
		k++;
	if (k + 4 < n && s[k] == '[' && s[k + 1] == 'D' && s[k + 3] == ']') {
		k += 4;
		while (k < n && s[k] == ' ')
			k++;
	}
	*msg = s + k;
	*mlen = n - k;
	return true;
}

/* The first pass: what the `a` and ^Z replies held (the verify lines come
 * in the order of `a`'s command field; ADDENUM lines list ^Z's values). */
static void nut_pass1(struct nut_state *st, const char *text, size_t len)
{
	struct lines L = { .s = text, .len = len };
	const char *s, *m;
	size_t n, ml;
	uint64_t t;
	while (next_line(&L, &s, &n)) {
		if (!nut_line(s, n, &t, &m, &ml))
			continue;
		const char *x;
		uint8_t b;
		if ((x = find(m, ml, "] - ")) && (find(m, ml, " supported") ||
						  find(m, ml, " invalid"))) {
			/* "NAME [C] - variable supported": the last '[' before */
			const char *br = x;
			while (br > m && *br != '[')
				br--;
			if (*br == '[' && nut_char(br + 1, (size_t)(m + ml - br - 1), &b))
				cs_add(&st->a, b);
		} else if ((x = find(m, ml, "] unrecognized")) && m[0] == '[') {
			if (nut_char(m + 1, ml - 1, &b))
				cs_add(&st->a, b);
		} else if (find(m, ml, "parsing out caps")) {
			st->caps = true;
		} else if ((x = find(m, ml, "send_to_all: ADDENUM "))) {
			const char *nm = x + 21;
			size_t rest = ml - (size_t)(nm - m);
			const char *sp = memchr(nm, ' ', rest);
			if (!sp)
				continue;
			int v = nutvar_find(nm, (size_t)(sp - nm));
			char val[64];
			if (v >= 0 && st->en.n[v] < MAX_ENUM &&
			    nut_value(sp + 1, rest - (size_t)(sp + 1 - nm), val,
				      sizeof val) && strlen(val) < 16)
				snprintf(st->en.v[v][st->en.n[v]++], 16, "%s", val);
		}
	}
	if (st->caps)
		cs_add(&st->a, 0x1A);
}

/* NUT's alert_handler debug words (NUT-C alert_handler) -> the alert */
static const struct { const char *word; char ch; } nut_alerts[] = {
	{ "not LB", '+' }, { "not OVER", '=' }, { "OB", '!' }, { "OL", '$' },
	{ "LB", '%' }, { "RB", '#' }, { "OVER", '?' },
};

static enum ups_rc import_nut(struct emit *e, const char *src, const char *text,
			      size_t len, struct ups_diag *d)
{
	struct nut_state *st = calloc(1, sizeof *st);
	if (!st)
		return UPS_ENOMEM;
	st->e = e;
	nut_pass1(st, text, len);
	struct lines L = { .s = text, .len = len };
	const char *s, *m;
	size_t n, ml;
	uint64_t t;
	bool any = false, started = false;
	while (next_line(&L, &s, &n) && e->rc == UPS_OK) {
		if (!nut_line(s, n, &t, &m, &ml))
			continue;
		if (!started) {
			started = true;
			em_note(e, t, "trace v%d side=ups imported from nut %s",
				TRACE_VERSION, src);
			/* NUT's first words to a unit: Y -> SM (not logged) */
			em_str(e, t, TRACE_RX, "Y", "synthesized");
			em_str(e, t, TRACE_TX, "SM\r\n", "synthesized");
		}
		const char *x;
		uint8_t b;
		if ((x = find(m, ml, "attempting firmware lookup using ["))) {
			size_t k = (size_t)(x - m) + 34;
			if (nut_char(m + k, ml - k, &b)) {
				nut_query(st, t, b, -1);
				any = true;
			}
		} else if ((x = find(m, ml, "detected firmware version: "))) {
			size_t k = (size_t)(x - m) + 27;
			if (st->p.active && !st->p.answered) {
				em_reply(e, t, m + k, ml - k, NULL);
				st->p.answered = true;
			}
		} else if (find(m, ml, "attempting var/cmdset lookup using [a]")) {
			char caps[400];
			nut_query(st, t, 'a', -1);
			caps_string(&st->a, caps, sizeof caps);
			em_reply(e, t, caps, strlen(caps), "rebuilt from the verified commands");
			st->p.answered = true;
		} else if (find(m, ml, "parsing out caps")) {
			char dump[UPS_REPLY_MAX + 1];
			nut_query(st, t, 0x1A, -1);
			dump_string(&st->en, dump, sizeof dump);
			em_reply(e, t, dump, strlen(dump), "rebuilt from the ADDENUM lists");
			st->p.answered = true;
		} else if ((x = find(m, ml, "poll_data: ")) ||
			   (x = find(m, ml, "preread_data: "))) {
			const char *nm = x + (x[0] == 'p' && x[1] == 'o' ? 11 : 14);
			size_t rest = ml - (size_t)(nm - m);
			const char *sp = memchr(nm, ' ', rest);
			if (!sp || (size_t)(sp - nm) + 2 >= rest || sp[1] != '[')
				continue;
			if (!nut_char(sp + 2, rest - (size_t)(sp + 2 - nm), &b))
				continue;
			if (find(m, ml, "timed out or not supported")) {
				if (st->p.active && !st->p.answered) {
					em_str(e, t, TRACE_TX, "NA\r\n",
					       "nut: timed out or NA (cannot tell)");
					st->p.answered = true;
				}
				continue;
			}
			nut_query(st, t, b, nutvar_find(nm, (size_t)(sp - nm)));
			any = true;
		} else if (find(m, ml, "update_status: [Q]")) {
			nut_query(st, t, 'Q', nutvar_find("ups.status", 10));
			any = true;
		} else if (find(m, ml, "returned NA, removing")) {
			if (st->p.active && !st->p.answered) {
				em_str(e, t, TRACE_TX, "NA\r\n", NULL);
				st->p.answered = true;
			}
		} else if ((x = find(m, ml, "send_to_all: SETINFO "))) {
			const char *nm = x + 21;
			size_t rest = ml - (size_t)(nm - m);
			const char *sp = memchr(nm, ' ', rest);
			char val[128];
			if (!sp || !nut_value(sp + 1, rest - (size_t)(sp + 1 - nm), val,
					      sizeof val))
				continue;
			int v = nutvar_find(nm, (size_t)(sp - nm));
			if (v < 0)
				continue;
			snprintf(st->val[v], sizeof st->val[v], "%s", val);
			st->have[v] = true;
			if (st->p.active && !st->p.answered && st->p.var >= 0 &&
			    nutvars[st->p.var].cmd == nutvars[v].cmd) {
				char r[160], note[200];
				unconvert(nutvars[v].conv, val, r, sizeof r);
				if (nutvars[v].conv != CV_VERB)
					snprintf(note, sizeof note, "nut %s=%s",
						 nutvars[v].name, val);
				em_reply(e, t, r, strlen(r),
					 nutvars[v].conv != CV_VERB ? note : NULL);
				st->p.answered = true;
			}
		} else if ((x = find(m, ml, "alert_handler: "))) {
			/* the alert came after the reply being read */
			nut_finish(st, t);
			const char *w = x + 15;
			size_t wl = ml - (size_t)(w - m);
			for (size_t i = 0; i < sizeof nut_alerts / sizeof nut_alerts[0]; i++)
				if (strlen(nut_alerts[i].word) == wl &&
				    !memcmp(w, nut_alerts[i].word, wl)) {
					uint8_t c = (uint8_t)nut_alerts[i].ch;
					em_bytes(e, t, TRACE_TX, &c, 1, "nut alert");
					break;
				}
		}
	}
	nut_finish(st, e->last);
	free(st);
	if (e->rc == UPS_OK && !any) {
		ups_diag_set(d, src, 0, 0, "no NUT apcsmart queries found: run the "
			     "driver with -DDDDD (debug level 5) and capture its output");
		return UPS_EPARSE;
	}
	return e->rc;
}

/* ------------------------------------------------------------------ */
/* apcupsd debug output                                                 */

/* apcupsd's CI_ names and the command each comes from (apcupsd
 * src/drivers/apcsmart: the cmd table; protocol-facts §6.2) */
static const struct { const char *ci; uint8_t cmd; } apc_ci[] = {
	{ "CI_UPSMODEL", 0x01 }, { "CI_STATUS", 'Q' }, { "CI_LQUAL", '9' },
	{ "CI_WHY_BATT", 'G' }, { "CI_ST_STAT", 'X' }, { "CI_VLINE", 'L' },
	{ "CI_VMAX", 'M' }, { "CI_VMIN", 'N' }, { "CI_VOUT", 'O' },
	{ "CI_BATTLEV", 'f' }, { "CI_VBATT", 'B' }, { "CI_LOAD", 'P' },
	{ "CI_FREQ", 'F' }, { "CI_RUNTIM", 'j' }, { "CI_ITEMP", 'C' },
	{ "CI_DIPSW", '7' }, { "CI_SENS", 's' }, { "CI_DWAKE", 'r' },
	{ "CI_DSHUTD", 'p' }, { "CI_LTRANS", 'l' }, { "CI_HTRANS", 'u' },
	{ "CI_RETPCT", 'e' }, { "CI_DALARM", 'k' }, { "CI_DLBATT", 'q' },
	{ "CI_IDEN", 'c' }, { "CI_STESTI", 'E' }, { "CI_MANDAT", 'm' },
	{ "CI_SERNO", 'n' }, { "CI_BATTDAT", 'x' }, { "CI_NOMOUTV", 'o' },
	{ "CI_NOMBATTV", 'g' }, { "CI_HUMID", 'h' }, { "CI_REVNO", 'b' },
	{ "CI_REG1", '~' }, { "CI_REG2", '\'' }, { "CI_REG3", '8' },
	{ "CI_EXTBATTS", '>' }, { "CI_ATEMP", 't' }, { "CI_BADBATTS", '<' },
	{ "CI_EPROM", 0x1A }, { "CI_ST_TIME", 'd' }, { "CI_VOLTAGE", 'V' },
};

/* apcupsd's words for the alerts it takes out of replies (smart.c) */
static const struct { const char *word; char ch; } apc_alerts[] = {
	{ "Got UPS ON BATT.", '!' }, { "Got UPS ON LINE.", '$' },
	{ "Got UPS BATT_LOW.", '%' }, { "Got UPS BATT_OK.", '+' },
	{ "Got UPS REPLACE_BATT.", '#' },
};

static int apc_find_ci(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof apc_ci / sizeof apc_ci[0]; i++)
		if (strlen(apc_ci[i].ci) == n && !memcmp(apc_ci[i].ci, s, n))
			return (int)i;
	return -1;
}

/* "<secs> apcupsd: file.c:NNN message" */
static bool apc_line(const char *s, size_t n, uint64_t *t, const char **msg,
		     size_t *mlen)
{
	size_t k = parse_secs(s, n, t);
	const char *a;
	if (!k || !(a = find(s + k, n - k, " apcupsd: ")))
		return false;
	const char *p = a + 10;
	const char *sp = memchr(p, ' ', (size_t)(s + n - p));
	if (!sp)
		return false;
	*msg = sp + 1;
	*mlen = (size_t)(s + n - sp - 1);
	return true;
}

static enum ups_rc import_apcupsd(struct emit *e, const char *src,
				  const char *text, size_t len, struct ups_diag *d)
{
	struct cmdset a = { { 0 } };
	struct lines L = { .s = text, .len = len };
	const char *s, *m;
	size_t n, ml;
	uint64_t t, t0 = 0;
	bool any = false;
	/* first pass: the commands the unit answered, for `a` */
	while (next_line(&L, &s, &n)) {
		if (!apc_line(s, n, &t, &m, &ml))
			continue;
		if (!any)
			t0 = t;
		any = true;
		const char *colon;
		if (ml > 7 && !memcmp(m, "Got CI_", 7) &&
		    (colon = memchr(m, ':', ml))) {
			int i = apc_find_ci(m + 4, (size_t)(colon - m - 4));
			if (i >= 0)
				cs_add(&a, apc_ci[i].cmd);
		}
	}
	if (!any) {
		ups_diag_set(d, src, 0, 0, "no apcupsd debug lines found (\"<secs> "
			     "apcupsd: file:line ...\"): run apcupsd with -d 200");
		return UPS_EPARSE;
	}
	em_note(e, t0, "trace v%d side=ups imported from apcupsd %s",
		TRACE_VERSION, src);
	em_str(e, t0, TRACE_RX, "Y", "synthesized");
	em_str(e, t0, TRACE_TX, "SM\r\n", "synthesized");
	char caps[400];
	caps_string(&a, caps, sizeof caps);
	em_str(e, t0, TRACE_RX, "a", "synthesized");
	em_reply(e, t0, caps, strlen(caps), "rebuilt from the CI values logged");
	L = (struct lines){ .s = text, .len = len };
	bool polling = false, got = false;
	while (next_line(&L, &s, &n) && e->rc == UPS_OK) {
		if (!apc_line(s, n, &t, &m, &ml))
			continue;
		const char *colon;
		if (ml > 7 && !memcmp(m, "Got CI_", 7) &&
		    (colon = memchr(m, ':', ml))) {
			int i = apc_find_ci(m + 4, (size_t)(colon - m - 4));
			if (i < 0)
				continue;
			uint8_t cmd = apc_ci[i].cmd;
			const char *v = colon + 1;
			size_t vl = ml - (size_t)(v - m);
			if (vl && *v == ' ') {
				v++;
				vl--;
			}
			char r[UPS_REPLY_MAX + 2];
			size_t rl = 0;
			/* apcupsd dropped `:` and `|` and took `# ! $ % +` out of
			 * every reply (facts §6.2): `j` ends in `:`, ^Z opens with `#` */
			if (cmd == 0x1A)
				r[rl++] = '#';
			if (vl > UPS_REPLY_MAX - 2)
				vl = UPS_REPLY_MAX - 2;
			memcpy(r + rl, v, vl);
			rl += vl;
			if (cmd == 'j')
				r[rl++] = ':';
			em_bytes(e, t, TRACE_RX, &cmd, 1, NULL);
			em_reply(e, t, r, rl, cmd == 'j' || cmd == 0x1A ?
				 "apcupsd filtered it; restored" : NULL);
			got = true;
			if (cmd == 'Q')
				polling = true;
			continue;
		}
		for (size_t i = 0; polling && i < sizeof apc_alerts / sizeof apc_alerts[0]; i++) {
			size_t k = strlen(apc_alerts[i].word);
			if (ml >= k && !memcmp(m, apc_alerts[i].word, k)) {
				/* before the first poll these come from the `a`
				 * and ^Z replies themselves, not from alerts */
				uint8_t c = (uint8_t)apc_alerts[i].ch;
				em_bytes(e, t, TRACE_TX, &c, 1, "apcupsd alert");
			}
		}
	}
	if (e->rc == UPS_OK && !got) {
		ups_diag_set(d, src, 0, 0, "no \"Got CI_...\" values in the apcupsd "
			     "log: run apcupsd with -d 200 (or higher)");
		return UPS_EPARSE;
	}
	return e->rc;
}

/* ------------------------------------------------------------------ */
/* socat -x -v / -v dumps                                               */

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* days since 1970-01-01 of a civil date (proleptic Gregorian) */
static long days_from_civil(long y, unsigned m, unsigned dd)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + dd - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

/* "> 2026/12/01 16:18:07.000216440  length=1 from=0 to=0" */
static bool socat_header(const char *s, size_t n, char *dir, uint64_t *ms,
			 size_t *length)
{
	unsigned Y, Mo, D, h, mi, sec;
	char frac[16];
	unsigned long len;
	char line[160];
	if (n < 30 || n >= sizeof line || (s[0] != '>' && s[0] != '<') || s[1] != ' ')
		return false;
	memcpy(line, s, n);
	line[n] = '\0';
	if (sscanf(line + 2, "%4u/%2u/%2u %2u:%2u:%2u.%15[0-9] length=%lu", &Y, &Mo,
		   &D, &h, &mi, &sec, frac, &len) != 8)
		return false;
	if (Y < 1970 || Y > 9999 || Mo < 1 || Mo > 12 || D < 1 || D > 31 ||
	    h > 23 || mi > 59 || sec > 60 || len > 1000000)
		return false;
	/* socat 1.7.4 prints the microseconds as nine digits ("000216440");
	 * six digits are microseconds, nine with leading "000" too */
	size_t fl = strlen(frac);
	const char *us = frac;
	if (fl == 9 && !memcmp(frac, "000", 3))
		us += 3;
	unsigned long u = 0;
	for (size_t i = 0; us[i] && i < 6; i++)
		u = u * 10 + (unsigned long)(us[i] - '0');
	for (size_t i = strlen(us); i < 6; i++)
		u *= 10;
	long days = days_from_civil((long)Y, Mo, D);
	*ms = (uint64_t)days * 86400000ull + ((uint64_t)h * 3600 + mi * 60 + sec) * 1000 +
	      u / 1000;
	*dir = s[0];
	*length = len;
	return true;
}

static enum ups_rc import_socat(struct emit *e, const char *src,
				const char *text, size_t len,
				const struct trace_import_opts *o, struct ups_diag *d)
{
	size_t pos = 0;
	int lineno = 1;
	uint64_t base = 0;
	bool any = false;
	uint8_t *buf = malloc(1000001);
	if (!buf)
		return UPS_ENOMEM;
	while (pos < len && e->rc == UPS_OK) {
		/* a header starts at pos (in -v mode maybe right after data) */
		const char *s = text + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		size_t hn = n && s[n - 1] == '\r' ? n - 1 : n;
		char dir;
		uint64_t t;
		size_t want;
		if (!socat_header(s, hn, &dir, &t, &want)) {
			pos += n + (nl ? 1 : 0);
			lineno++;
			continue;
		}
		if (!any) {
			base = t;
			em_note(e, 0, "trace v%d side=ups imported from socat %s",
				TRACE_VERSION, src);
		}
		any = true;
		pos += n + (nl ? 1 : 0);
		lineno++;
		size_t got = 0;
		bool lossy = false;
		if (pos + 1 < len && text[pos] == ' ' && hexv(text[pos + 1]) >= 0 &&
		    pos + 2 < len && hexv(text[pos + 2]) >= 0) {
			/* -x: " 53 4d 0d 0a   SM.." lines, then "--" */
			while (pos < len) {
				const char *l = text + pos;
				const char *e2 = memchr(l, '\n', len - pos);
				size_t ln = e2 ? (size_t)(e2 - l) : len - pos;
				pos += ln + (e2 ? 1 : 0);
				lineno++;
				if (ln >= 2 && l[0] == '-' && l[1] == '-')
					break;
				for (size_t i = 0; i + 2 < ln + 1 && got < want; i += 3) {
					if (l[i] != ' ' || i + 2 >= ln || hexv(l[i + 1]) < 0 ||
					    hexv(l[i + 2]) < 0)
						break;
					buf[got++] = (uint8_t)(hexv(l[i + 1]) * 16 + hexv(l[i + 2]));
				}
			}
		} else {
			/* -v: the data as text, `\r` for CR, a real newline for
			 * LF, `.` for any other unprintable byte (lost) */
			while (pos < len && got < want) {
				char c = text[pos];
				if (c == '\\' && pos + 1 < len && text[pos + 1] == 'r') {
					buf[got++] = '\r';
					pos += 2;
					continue;
				}
				if (c == '\n')
					lineno++;
				if (c == '.')
					lossy = true;
				buf[got++] = (uint8_t)c;
				pos++;
			}
		}
		if (got != want) {
			free(buf);
			ups_diag_set(d, src, lineno, 1, "socat block of length=%zu "
				     "holds %zu bytes", want, got);
			return UPS_EPARSE;
		}
		bool host_to_ups = (dir == '>') != (o && o->socat_ups_first);
		/* a clock set back during the capture: keep the order */
		em_bytes(e, t > base ? t - base : 0, host_to_ups ? TRACE_RX : TRACE_TX,
			 buf, got,
			 lossy ? "socat -v: '.' may stand for any unprintable byte" :
			 NULL);
	}
	free(buf);
	if (e->rc == UPS_OK && !any) {
		ups_diag_set(d, src, 0, 0, "no socat -v/-x blocks (\"> YYYY/MM/DD "
			     "HH:MM:SS.frac  length=N from=A to=B\") found");
		return UPS_EPARSE;
	}
	return e->rc;
}

/* ------------------------------------------------------------------ */
/* NUT .dev device dump / upsc output                                   */

static enum ups_rc import_nut_dev(struct emit *e, const char *src,
				  const char *text, size_t len,
				  struct ups_diag *d)
{
	struct lines L = { .s = text, .len = len };
	const char *s;
	size_t n;
	struct cmdset a = { { 0 } }, done = { { 0 } };
	bool any = false;
	/* first pass: which commands the values came from */
	while (next_line(&L, &s, &n)) {
		const char *c = memchr(s, ':', n);
		if (!n || s[0] == '#' || !c)
			continue;
		int v = nutvar_find(s, (size_t)(c - s));
		if (v >= 0) {
			cs_add(&a, nutvars[v].cmd);
			any = true;
		}
	}
	if (!any) {
		ups_diag_set(d, src, 0, 0, "no NUT variables (\"battery.charge: "
			     "100\") found");
		return UPS_EPARSE;
	}
	uint64_t t = 0;
	em_note(e, t, "trace v%d side=ups imported from nut-dev %s (values only)",
		TRACE_VERSION, src);
	em_str(e, t, TRACE_RX, "Y", "synthesized");
	em_str(e, t, TRACE_TX, "SM\r\n", "synthesized");
	char caps[400];
	caps_string(&a, caps, sizeof caps);
	em_str(e, t += 10, TRACE_RX, "a", "synthesized");
	em_reply(e, t, caps, strlen(caps), "rebuilt from the variables");
	L = (struct lines){ .s = text, .len = len };
	while (next_line(&L, &s, &n) && e->rc == UPS_OK) {
		const char *c = memchr(s, ':', n);
		if (!n || s[0] == '#' || !c)
			continue;
		int v = nutvar_find(s, (size_t)(c - s));
		if (v < 0 || cs_has(&done, nutvars[v].cmd))
			continue;
		cs_add(&done, nutvars[v].cmd);
		const char *val = c + 1;
		size_t vl = n - (size_t)(val - s);
		if (vl && *val == ' ') {
			val++;
			vl--;
		}
		char raw[160], r[160], note[220];
		snprintf(raw, sizeof raw, "%.*s", (int)(vl < 150 ? vl : 150), val);
		unconvert(nutvars[v].conv, raw, r, sizeof r);
		uint8_t cmd = nutvars[v].cmd;
		snprintf(note, sizeof note, "nut-dev %s", nutvars[v].name);
		em_bytes(e, t += 10, TRACE_RX, &cmd, 1, NULL);
		em_reply(e, t, r, strlen(r), note);
	}
	return e->rc;
}

/* ------------------------------------------------------------------ */
/* the interface                                                        */

static const char *const fmt_names[] = {
	[TF_UNKNOWN] = "unknown", [TF_TRACE] = "trace", [TF_NUT] = "nut",
	[TF_APCUPSD] = "apcupsd", [TF_SOCAT] = "socat", [TF_NUT_DEV] = "nut-dev",
};

enum trace_fmt trace_fmt_from_name(const char *name)
{
	for (int f = TF_TRACE; f <= TF_NUT_DEV; f++)
		if (!strcmp(name, fmt_names[f]))
			return (enum trace_fmt)f;
	return TF_UNKNOWN;
}

const char *trace_fmt_name(enum trace_fmt f)
{
	return (unsigned)f <= TF_NUT_DEV ? fmt_names[f] : "unknown";
}

enum trace_fmt trace_fmt_detect(const char *text, size_t len)
{
	struct lines L = { .s = text, .len = len };
	const char *s;
	size_t n;
	int nutvars_seen = 0;
	for (int i = 0; i < 200 && next_line(&L, &s, &n); i++) {
		uint64_t t;
		char dir;
		size_t want;
		if (!n || s[0] == '#')
			continue;
		if (find(s, n, "APC Smart protocol driver") || find(s, n, "poll_data: ") ||
		    find(s, n, "send_to_all: SETINFO ") ||
		    find(s, n, "attempting firmware lookup"))
			return TF_NUT;
		if (find(s, n, " apcupsd: "))
			return TF_APCUPSD;
		if (socat_header(s, n && s[n - 1] == '\r' ? n - 1 : n, &dir, &t, &want))
			return TF_SOCAT;
		size_t k = 0; /* "12.345 rx \"..." or "0.000 trace v1" */
		while (k < n && ((s[k] >= '0' && s[k] <= '9') || s[k] == '.'))
			k++;
		if (k && k < n && s[k] == ' ' &&
		    (find(s + k, n - k, " rx \"") == s + k ||
		     find(s + k, n - k, " tx \"") == s + k ||
		     find(s + k, n - k, " trace v") == s + k))
			return TF_TRACE;
		const char *c = memchr(s, ':', n);
		if (c && nutvar_find(s, (size_t)(c - s)) >= 0)
			nutvars_seen++;
	}
	/* a device dump only if nothing more telling came in those lines */
	return nutvars_seen >= 2 ? TF_NUT_DEV : TF_UNKNOWN;
}

enum ups_rc trace_import(enum trace_fmt f, const char *src, const char *text,
			 size_t len, const struct trace_import_opts *o,
			 struct ups_buf *out, struct ups_diag *d)
{
	if (!out || (!text && len))
		return UPS_EARG;
	if (!src)
		src = "<input>";
	struct emit e = { .out = out };
	size_t start = out->len;
	enum ups_rc rc;
	switch (f) {
	case TF_NUT:
		rc = import_nut(&e, src, text, len, d);
		break;
	case TF_APCUPSD:
		rc = import_apcupsd(&e, src, text, len, d);
		break;
	case TF_SOCAT:
		rc = import_socat(&e, src, text, len, o, d);
		break;
	case TF_NUT_DEV:
		rc = import_nut_dev(&e, src, text, len, d);
		break;
	case TF_TRACE:
		rc = ups_buf_append(out, text, len);
		break;
	default:
		ups_diag_set(d, src, 0, 0, "unknown capture format");
		rc = UPS_EARG;
	}
	if (rc != UPS_OK) /* nothing half-written stays */
		out->len = start;
	return rc;
}
