/*
 * clone.c - upsharness clone: reads a unit with safe, documented queries
 * only and writes a profile (docs/profiles.md) that upssim serves.  Sent:
 * Y, a, V, b, ^A, n, m, g, ^Z, y, c, x, every query and setting in the `a`
 * list (the command table's queries and settings when there is no `a`),
 * each setting read bare: never `-`, never an entry, never a destructive
 * or undocumented byte.  Every byte is checked against the command table
 * just before it is sent; a byte that is not a safe query aborts the run.
 */
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "upssim/cmdtab.h"
#include "upssim/profile.h"
#include "upssim/trace.h"

#define CL_MAX 1100

struct reply {
	bool asked, silent, na;
	uint8_t b[CL_MAX];
	size_t n; /* without CR LF */
};

struct clone {
	struct hrn_target *tg;
	FILE *trace;
	uint64_t t0;
	struct reply r[256];
	bool aborted;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void cl_bytes(struct clone *c, enum trace_dir dir, const uint8_t *b,
		     size_t n)
{
	if (!c->trace || !n)
		return;
	char line[TRACE_CHUNK * 4 + 64];
	for (size_t off = 0; off < n; off += TRACE_CHUNK) {
		size_t k = n - off < TRACE_CHUNK ? n - off : TRACE_CHUNK;
		trace_format_bytes(line, sizeof line, mono_ms() - c->t0, dir,
				   b + off, k, NULL);
		fputs(line, c->trace);
	}
	fflush(c->trace);
}

static void cl_note(struct clone *c, const char *note)
{
	if (!c->trace)
		return;
	char line[1200];
	trace_format_note(line, sizeof line, mono_ms() - c->t0, note);
	fputs(line, c->trace);
	fflush(c->trace);
}

/** May clone send @p b?  Y, and documented, non-destructive queries and
 *  settings (a setting sent bare reads its value).  Never `-`. */
bool hrn_clone_safe(uint8_t b)
{
	if (b == 'Y')
		return true;
	if (b == '-')
		return false;
	const struct cmd_def *d = cmd_lookup(b);
	if (!d || (d->flags & (CF_DESTRUCTIVE | CF_UNDOC | CF_TWO_PRESS)))
		return false;
	return d->kind == CMD_QUERY || d->kind == CMD_SETTING;
}

/* Read what the unit sends for @p ms of quiet (alerts, leftovers). */
static void drain(struct clone *c, int ms)
{
	uint8_t buf[512];
	uint64_t end = mono_ms() + (uint64_t)ms;
	for (;;) {
		uint64_t now = mono_ms();
		if (now >= end)
			return;
		struct pollfd pf = { .fd = c->tg->t->ops->fd(c->tg->t),
				     .events = POLLIN };
		poll(&pf, 1, (int)(end - now));
		ssize_t k = transport_read(c->tg->t, buf, sizeof buf);
		if (k > 0) {
			cl_bytes(c, TRACE_TX, buf, (size_t)k);
			end = mono_ms() + (uint64_t)ms;
		} else if (k < 0) {
			return;
		}
	}
}

static bool is_alert(uint8_t x)
{
	return x && strchr("!$%+?=|&", x) != NULL;
}

/** Send @p b and read the reply line.  @return 0, -1 the unit is gone,
 *  -2 refused (not a safe query: nothing sent) */
static int ask(struct clone *c, uint8_t b)
{
	struct reply *r = &c->r[b];
	if (!hrn_clone_safe(b)) {
		char nm[8];
		fprintf(stderr, "upsharness: clone: refusing to send %s: not a "
			"documented, non-destructive query\n", cmd_byte_name(b, nm));
		c->aborted = true;
		return -2;
	}
	if (r->asked)
		return 0;
	drain(c, 30);
	if (transport_write(c->tg->t, &b, 1) != 1)
		return -1;
	cl_bytes(c, TRACE_RX, &b, 1);
	r->asked = true;
	r->n = 0;
	uint8_t raw[CL_MAX + 64];
	size_t n = 0;
	uint64_t first = mono_ms() + 1000, end = mono_ms() + 4000;
	bool done = false;
	while (!done) {
		uint64_t now = mono_ms();
		uint64_t lim = n ? end : first;
		if (now >= lim)
			break;
		struct pollfd pf = { .fd = c->tg->t->ops->fd(c->tg->t),
				     .events = POLLIN };
		poll(&pf, 1, (int)(lim - now));
		uint8_t buf[512];
		ssize_t k = transport_read(c->tg->t, buf, sizeof buf);
		if (k < 0)
			return -1;
		if (k == 0)
			continue;
		cl_bytes(c, TRACE_TX, buf, (size_t)k);
		for (ssize_t i = 0; i < k && n < sizeof raw; i++) {
			/* alerts before the reply are not part of it */
			if (n == 0 && is_alert(buf[i]))
				continue;
			raw[n++] = buf[i];
			if (n >= 2 && raw[n - 2] == '\r' && raw[n - 1] == '\n')
				done = true;
		}
	}
	if (!n) {
		r->silent = true;
		return 0;
	}
	if (done)
		n -= 2;
	if (n > CL_MAX)
		n = CL_MAX;
	memcpy(r->b, raw, n);
	r->n = n;
	r->na = n == 2 && !memcmp(raw, "NA", 2);
	return 0;
}

static bool answered(const struct clone *c, uint8_t b)
{
	const struct reply *r = &c->r[b];
	return r->asked && !r->silent && !r->na && r->n > 0;
}

/* YAML double-quoted string of @p n bytes: the trace's quoting (\r \n
 * \" \\ \xNN) is YAML's too */
static void yq(FILE *f, const uint8_t *p, size_t n)
{
	char buf[4 * CL_MAX + 3];
	if (n > CL_MAX)
		n = CL_MAX; /* replies are kept to CL_MAX bytes */
	trace_escape(p, n, buf, sizeof buf);
	fputs(buf, f);
}

static void yr(FILE *f, const struct clone *c, uint8_t b)
{
	const struct reply *r = &c->r[b];
	if (answered(c, b))
		yq(f, r->b, r->n);
	else
		fputs("\"\"", f);
}

/* command byte as a profile key */
static void ykey(FILE *f, uint8_t b)
{
	if (b < 0x20)
		fprintf(f, "^%c", b + '@');
	else if (b == 0x7F)
		fputs("^?", f);
	else if (strchr("[]{}'\"\\:#&*!|>%@`,?-", b))
		yq(f, &b, 1);
	else
		fputc(b, f);
}

/* one ^Z item */
struct item {
	uint8_t cmd, loc;
	int count, width;
	char vals[8][9];
};

static bool number(const struct clone *c, uint8_t b, char *out, size_t cap)
{
	if (!answered(c, b))
		return false;
	const struct reply *r = &c->r[b];
	if (r->n == 0 || r->n >= cap)
		return false;
	for (size_t i = 0; i < r->n; i++)
		if (!strchr("0123456789.", r->b[i]))
			return false;
	memcpy(out, r->b, r->n);
	out[r->n] = '\0';
	return true;
}

/* family: the one whose table set best matches what answered */
static unsigned pick_family(const struct clone *c, bool measure)
{
	static const unsigned fams[] = { UPS_FAM_SU3, UPS_FAM_SU2, UPS_FAM_MATRIX,
					 UPS_FAM_VS, UPS_FAM_BUP, UPS_FAM_OLD };
	unsigned best = UPS_FAM_SU3;
	int best_miss = 1 << 30;
	for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
		int miss = 0;
		for (int b = 0; b < 256; b++) {
			if (!c->r[b].asked || b == 'Y')
				continue;
			const struct cmd_def *d = cmd_lookup((uint8_t)b);
			if (!d)
				continue;
			bool on = (d->families & fams[i]) &&
				  (!(d->flags & CF_MEASURE) || measure);
			if (on != answered(c, (uint8_t)b))
				miss += strchr("abV", b) ? 20 : 1;
		}
		if (miss < best_miss) {
			best_miss = miss;
			best = fams[i];
		}
	}
	return best;
}

static const char *fam_key(unsigned f)
{
	switch (f) {
	case UPS_FAM_OLD: return "smart-ups-old";
	case UPS_FAM_SU2: return "smart-ups-2g";
	case UPS_FAM_MATRIX: return "matrix-ups";
	case UPS_FAM_VS: return "smart-ups-vs";
	case UPS_FAM_BUP: return "back-ups-pro";
	default: return "smart-ups-3g";
	}
}


/* The ULS value lists (ULS p.16-22, as sim/core/nutdump.c has them): for a
 * unit without ^Z, whose lists cannot be read without `-`, the documented
 * list that holds the value read. */
#define F_SMART (UPS_FAM_OLD | UPS_FAM_SU2 | UPS_FAM_SU3 | UPS_FAM_VS | UPS_FAM_BUP)
#define F_ALL (F_SMART | UPS_FAM_MATRIX)
#define F_NEW (UPS_FAM_SU3 | UPS_FAM_VS | UPS_FAM_BUP)
#define F_OLDER (UPS_FAM_OLD | UPS_FAM_SU2)
static const struct uls_list {
	uint8_t cmd, loc;
	unsigned fams;
	int n;
	const char *v[8];
} uls_lists[] = {
	{ 'u', 'A', F_SMART, 4, { "110", "112", "114", "108" } },
	{ 'u', 'D', F_SMART, 4, { "132", "135", "138", "129" } },
	{ 'u', 'M', F_SMART, 4, { "229", "234", "239", "224" } },
	{ 'u', 'I', F_SMART, 4, { "253", "264", "271", "280" } },
	{ 'u', 'J', UPS_FAM_MATRIX, 4, { "230", "232", "234", "236" } },
	{ 'u', 'M', UPS_FAM_MATRIX, 4, { "240", "244", "248", "252" } },
	{ 'u', 'I', UPS_FAM_MATRIX, 4, { "276", "264", "253", "282" } },
	{ 'l', 'A', F_SMART, 4, { "090", "092", "081", "085" } },
	{ 'l', 'D', F_SMART, 4, { "103", "100", "097", "106" } },
	{ 'l', 'M', F_SMART, 4, { "177", "172", "168", "182" } },
	{ 'l', 'I', F_SMART, 4, { "196", "188", "208", "204" } },
	{ 'o', 'I', F_ALL, 4, { "225", "230", "240", "220" } },
	{ 'e', '4', F_NEW, 4, { "00", "15", "50", "90" } },
	{ 'e', '4', F_OLDER, 4, { "00", "10", "25", "90" } },
	{ 's', '4', F_SMART, 4, { "H", "M", "L", "L" } },
	{ 's', '4', UPS_FAM_MATRIX, 4, { "H", "M", "L", "A" } },
	{ 'q', '4', F_ALL, 4, { "02", "05", "07", "10" } },
	{ 'k', '4', F_ALL, 4, { "0", "T", "L", "N" } },
	{ 'p', '4', F_ALL, 4, { "020", "180", "300", "600" } },
	{ 'r', '4', F_ALL, 4, { "000", "060", "180", "300" } },
	{ 'E', '4', F_ALL, 4, { "336", "168", "ON ", "OFF" } },
	{ 0x0C, '4', F_ALL, 8, { "E", "F", "G", "S", "1", "2", "3", "4" } },
	{ 0x16, 0, UPS_FAM_MATRIX, 3, { "A", "M", "I" } },
};

static const struct uls_list *uls_find(uint8_t cmd, uint8_t loc, unsigned fam,
				       const uint8_t *cur, size_t n)
{
	for (size_t i = 0; i < sizeof uls_lists / sizeof uls_lists[0]; i++) {
		const struct uls_list *l = &uls_lists[i];
		if (l->cmd != cmd || !(l->fams & fam) ||
		    (l->loc && l->loc != '4' && l->loc != loc))
			continue;
		for (int k = 0; k < l->n; k++)
			if (strlen(l->v[k]) == n && !memcmp(l->v[k], cur, n))
				return l;
	}
	return NULL;
}

/* One "key: value" of a flow mapping, after *@p sep (", " from then on). */
__attribute__((format(printf, 4, 5)))
static void flow_kv(FILE *f, const char **sep, const char *key,
		    const char *fmt, ...)
{
	fprintf(f, "%s%s: ", *sep, key);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	*sep = ", ";
}

/* A reading the unit answers with a number, kept as a start value. */
struct reading {
	uint8_t cmd;
	const char *key;
	bool whole; /* written as an integer ("024" -> 24) */
};

/* flow_kv() for each reading of @p list the unit answered. */
static void readings(FILE *f, struct clone *c, const char **sep,
		     const struct reading *list, size_t n)
{
	char num[64];
	for (size_t i = 0; i < n; i++) {
		if (!number(c, list[i].cmd, num, sizeof num))
			continue;
		if (list[i].whole)
			flow_kv(f, sep, list[i].key, "%d", atoi(num));
		else
			flow_kv(f, sep, list[i].key, "%s", num);
	}
}
#define READINGS(f, c, sep, ...)                                             \
	do {                                                                 \
		static const struct reading r_[] = { __VA_ARGS__ };          \
		readings((f), (c), (sep), r_, sizeof r_ / sizeof r_[0]);     \
	} while (0)

static void write_profile(struct clone *c, FILE *f)
{
	/* a: level.alerts.commands[.extension] */
	const uint8_t *a = c->r['a'].b;
	size_t an = answered(c, 'a') ? c->r['a'].n : 0;
	const uint8_t *fld[4] = { 0 };
	size_t fl[4] = { 0 };
	int nf = 0;
	if (an) {
		size_t s = 0;
		for (size_t i = 0; i <= an && nf < 4; i++)
			if (i == an || (a[i] == '.' && nf < 3)) {
				fld[nf] = a + s;
				fl[nf++] = i - s;
				s = i + 1;
			}
	}
	bool measure = answered(c, 't') || answered(c, 'h');
	unsigned fam = pick_family(c, measure);

	/* locale: V's third char, b's last, else from ^Z below */
	uint8_t loc = 0;
	if (answered(c, 'V') && c->r['V'].n == 3)
		loc = c->r['V'].b[2];
	else if (answered(c, 'b') && c->r['b'].n)
		loc = c->r['b'].b[c->r['b'].n - 1];

	/* ^Z items */
	struct item items[40];
	int ni = 0;
	bool dbl = false;
	if (answered(c, 0x1A)) {
		const uint8_t *p = c->r[0x1A].b, *e = p + c->r[0x1A].n;
		if (p < e && *p == '#')
			p++;
		while (p < e && ni < 40) {
			if (e - p >= 2 && p[0] == '#' && p[1] == '#') {
				dbl = true;
				p += 2;
			}
			if (e - p < 4)
				break;
			struct item *it = &items[ni];
			it->cmd = p[0];
			it->loc = p[1];
			it->count = p[2] - '0';
			it->width = p[3] - '0';
			p += 4;
			if (it->count < 1 || it->count > 8 || it->width < 1 ||
			    it->width > 8 || e - p < it->count * it->width)
				break;
			for (int k = 0; k < it->count; k++) {
				memcpy(it->vals[k], p, (size_t)it->width);
				it->vals[k][it->width] = '\0';
				p += it->width;
			}
			ni++;
		}
	}
	if (loc && !strchr("ADIMJ", loc))
		loc = 0;
	if (!loc) {
		/* the locale whose u list holds the current u value */
		for (int i = 0; i < ni && !loc; i++)
			if (items[i].loc != '4' && answered(c, items[i].cmd))
				for (int k = 0; k < items[i].count; k++)
					if (c->r[items[i].cmd].n == (size_t)items[i].width &&
					    !memcmp(items[i].vals[k], c->r[items[i].cmd].b,
						    (size_t)items[i].width))
						loc = items[i].loc;
	}
	if (!loc)
		loc = 'D';

	fprintf(f, "# Cloned by upsharness clone from %s: the unit's own answers\n"
		"# to safe, documented queries (identity, a, ^Z, current settings,\n"
		"# readings as start values).  Values no query gives keep the\n"
		"# family's defaults.\n", c->tg->desc);
	fputs("description: \"clone of ", f);
	if (answered(c, 0x01)) {
		for (size_t i = 0; i < c->r[1].n && i < 100; i++)
			fputc(c->r[1].b[i] >= 0x20 && c->r[1].b[i] < 0x7F &&
			      c->r[1].b[i] != '"' && c->r[1].b[i] != '\\' ?
			      c->r[1].b[i] : '?', f);
	} else {
		fputs("a UPS-Link unit", f);
	}
	fputs("\"\n", f);
	fprintf(f, "family: %s\nmeasure_ups: %s\n", fam_key(fam),
		measure ? "true" : "false");

	fputs("identity:\n  model: ", f); yr(f, c, 0x01);
	fputs("\n  firmware_v: ", f); yr(f, c, 'V');
	fputs("\n  firmware_b: ", f); yr(f, c, 'b');
	fputs("\n  serial: ", f); yr(f, c, 'n');
	fputs("\n  manufactured: ", f); yr(f, c, 'm');
	fputs("\n  battery_date: ", f); yr(f, c, 'x');
	if (answered(c, 'c')) {
		fputs("\n  ups_id: ", f);
		yr(f, c, 'c');
	}
	if (answered(c, 'y')) {
		fputs("\n  copyright: ", f);
		yr(f, c, 'y');
	}
	fputs("\n", f);

	char num[64], fr[64] = "";
	fprintf(f, "voltage: { locale: %c", loc);
	int nominal = number(c, 'o', num, sizeof num) ? atoi(num) :
		      loc == 'I' ? 230 : loc == 'M' ? 208 : loc == 'A' ? 100 :
		      loc == 'J' ? 200 : 120;
	fprintf(f, ", nominal: %d", nominal);
	if (number(c, 'F', fr, sizeof fr))
		fprintf(f, ", frequency: %d", (int)(atof(fr) + 0.5));
	fputs(" }\n", f);

	fputs("link:\n", f);
	if (nf >= 1) {
		fputs("  level: ", f);
		yq(f, fld[0], fl[0]);
		fputs("\n", f);
	}
	if (nf >= 2) {
		fputs("  alerts: ", f);
		yq(f, fld[1], fl[1]);
		fputs("\n", f);
	}
	if (nf >= 3) {
		fputs("  commands: ", f);
		yq(f, fld[2], fl[2]);
		fputs("\n", f);
	}
	fputs("  extension: ", f);
	yq(f, nf >= 4 ? fld[3] : (const uint8_t *)"", nf >= 4 ? fl[3] : 0);
	fputs("\n", f);

	/* the command set: the family's, corrected by what answered */
	uint8_t add[256], rem[256];
	size_t nadd = 0, nrem = 0;
	bool silent = false;
	for (int b = 0; b < 256; b++) {
		const struct cmd_def *d = cmd_lookup((uint8_t)b);
		if (!d || b == 'Y')
			continue;
		if (!c->r[b].asked) {
			/* not sent (an action, a destructive byte): the unit
			 * lists it in `a`, so it answers it */
			bool listed = nf >= 3 && fl[2] &&
				      memchr(fld[2], b, fl[2]) != NULL;
			bool on = (d->families & fam) &&
				  (!(d->flags & CF_MEASURE) || measure);
			if (listed && !on && b != '-')
				add[nadd++] = (uint8_t)b;
			continue;
		}
		if (c->r[b].silent)
			silent = true;
		bool on = (d->families & fam) &&
			  (!(d->flags & CF_MEASURE) || measure);
		if (on && !answered(c, (uint8_t)b))
			rem[nrem++] = (uint8_t)b;
		else if (!on && answered(c, (uint8_t)b))
			add[nadd++] = (uint8_t)b;
	}
	fputs("commands: { add: ", f);
	yq(f, add, nadd);
	fputs(", remove: ", f);
	yq(f, rem, nrem);
	fputs(", extras: ~ }\n", f);
	bool nuls = false;
	fprintf(f, "behaviour: { unsupported: %s, dump_double_hash: %s, "
		"serial_nuls: %s }\n", silent ? "silent" : "NA",
		dbl ? "true" : "false", nuls ? "true" : "false");

	/* eeprom: the ^Z lists of the unit's locale (and 4), current = read */
	fputs("eeprom:\n", f);
	bool own[40] = { false };
	bool listed[256] = { false };
	for (int i = 0; i < ni; i++) {
		struct item *it = &items[i];
		const struct cmd_def *d = cmd_lookup(it->cmd);
		if (!d || !(d->flags & CF_EDITABLE) || listed[it->cmd] ||
		    (it->loc != loc && it->loc != '4') || !answered(c, it->cmd))
			continue;
		own[i] = true;
		listed[it->cmd] = true;
		fputs("  ", f);
		ykey(f, it->cmd);
		fprintf(f, ": { locale: \"%c\", values: [", it->loc);
		int cur = -1;
		for (int k = 0; k < it->count; k++) {
			fputs(k ? ", " : "", f);
			yq(f, (const uint8_t *)it->vals[k], (size_t)it->width);
			if (cur < 0 && c->r[it->cmd].n == (size_t)it->width &&
			    !memcmp(it->vals[k], c->r[it->cmd].b, (size_t)it->width))
				cur = k;
		}
		fputs("]", f);
		if (cur >= 0) {
			fputs(", current: ", f);
			yq(f, (const uint8_t *)it->vals[cur], (size_t)it->width);
		}
		fputs(" }\n", f);
	}
	/* settings answered without a ^Z list: a one-value list */
	for (int b = 0; b < 256; b++) {
		const struct cmd_def *d = cmd_lookup((uint8_t)b);
		if (!d || !(d->flags & CF_EDITABLE) || listed[b] ||
		    !answered(c, (uint8_t)b) || c->r[b].n > 8 ||
		    !memcmp(c->r[b].b, "NO", 2))
			continue;
		if (ni && b != 0x0C && b != 0x16 && !strchr("[]{}", b))
			continue; /* would be a ^Z item the unit does not send */
		if (measure && strchr("[]{}", b))
			continue; /* the loader gives the accessory's lists */
		const struct uls_list *ul = uls_find((uint8_t)b, loc, fam,
						     c->r[b].b, c->r[b].n);
		fputs("  ", f);
		ykey(f, (uint8_t)b);
		fprintf(f, ": { locale: \"%c\", values: [",
			ul && ul->loc && ul->loc != '4' ? loc :
			b == 0x16 ? loc : '4');
		if (ul) {
			/* the ULS list that holds the value read; its first
			 * value is the factory one */
			for (int k = 0; k < ul->n; k++) {
				fputs(k ? ", " : "", f);
				yq(f, (const uint8_t *)ul->v[k], strlen(ul->v[k]));
			}
			fputs("], current: ", f);
			yq(f, c->r[b].b, c->r[b].n);
			fputs(" }  # the ULS list (no ^Z to read it from)\n", f);
		} else {
			/* only the current value is known: twice, so that `-`
			 * answers OK as on the unit */
			yq(f, c->r[b].b, c->r[b].n);
			fputs(", ", f);
			yq(f, c->r[b].b, c->r[b].n);
			fputs("] }  # only the current value is known\n", f);
		}
	}
	if (ni) {
		fputs("dump_extra: [", f);
		int k = 0;
		for (int i = 0; i < ni; i++) {
			if (own[i])
				continue;
			fputs(k++ ? ", " : "", f);
			char s[80];
			int m = snprintf(s, sizeof s, "%c%c%d%d", items[i].cmd,
					 items[i].loc, items[i].count,
					 items[i].width);
			for (int v = 0; v < items[i].count; v++)
				m += snprintf(s + m, sizeof s - (size_t)m, "%s",
					      items[i].vals[v]);
			yq(f, (const uint8_t *)s, (size_t)m);
		}
		fputs("]\ndump_order: [", f);
		for (int i = 0; i < ni; i++) {
			fputs(i ? ", " : "", f);
			uint8_t nm[2] = { items[i].cmd, items[i].loc };
			yq(f, nm, 2);
		}
		fputs("]\n", f);
	}

	/* readings as start values */
	fputs("electrical: {", f);
	const char *sep = " ";
	if (number(c, 'L', num, sizeof num))
		flow_kv(f, &sep, "line_voltage", "%s", num);
	else
		flow_kv(f, &sep, "line_voltage", "%d", nominal);
	READINGS(f, c, &sep, { 'M', "line_max", false },
		 { 'N', "line_min", false });
	if (fr[0])
		flow_kv(f, &sep, "line_frequency", "%s", fr);
	READINGS(f, c, &sep, { 'P', "load", false },
		 { 'C', "temperature", false });
	{
		/* the rating no query gives, back from the output current:
		 * VA = I * O / load (what the unit's `/` is computed from) */
		char amps[32], ov[32], lp[32];
		if (number(c, '/', amps, sizeof amps) && number(c, 'O', ov, sizeof ov) &&
		    number(c, 'P', lp, sizeof lp) && atof(lp) > 0.5 && atof(amps) > 0) {
			double va = atof(amps) * atof(ov) * 100.0 / atof(lp);
			if (va > 0 && va < 1e6)
				flow_kv(f, &sep, "rated_va", "%.0f", va);
		}
	}
	{
		/* an on-line unit holds O away from L with neither boost nor
		 * trim in Q (bits 2, 1): double conversion */
		char lv[32], ov[32], qv[8];
		if (number(c, 'L', lv, sizeof lv) && number(c, 'O', ov, sizeof ov) &&
		    answered(c, 'Q') && c->r['Q'].n == 2) {
			memcpy(qv, c->r['Q'].b, 2);
			qv[2] = '\0';
			unsigned long q = strtoul(qv, NULL, 16);
			double d = atof(ov) - atof(lv);
			if ((q & 0x08) && !(q & 0x06) && (d > 0.5 || d < -0.5))
				flow_kv(f, &sep, "double_conversion", "true");
		}
	}
	if (answered(c, 'G') && c->r['G'].n == 1 && strchr("RHLTOS", c->r['G'].b[0]))
		flow_kv(f, &sep, "transfer_cause", "%c", c->r['G'].b[0]);
	fputs(" }\n", f);
	fputs("battery: {", f);
	sep = " ";
	READINGS(f, c, &sep, { 'g', "nominal_voltage", true },
		 { 'B', "voltage", false }, { 'f', "charge", false },
		 { '>', "packs", true }, { '<', "bad_packs", true });
	fputs(" }\n", f);
	if (measure) {
		fputs("accessory: {", f);
		sep = " ";
		READINGS(f, c, &sep, { 't', "ambient", false },
			 { 'h', "humidity", false });
		if (answered(c, 'v') && c->r['v'].n == 3) {
			flow_kv(f, &sep, "firmware", "%s", "");
			yr(f, c, 'v');
		}
		fputs(" }\n", f);
	}
}

int hrn_clone(struct hrn_target *tg, const char *trace_path, FILE *out)
{
	struct clone *c = calloc(1, sizeof *c);
	if (!c)
		return HRN_EXIT_USAGE;
	c->tg = tg;
	c->t0 = mono_ms();
	char err[600] = "";
	if (trace_path) {
		c->trace = fopen(trace_path, "w");
		if (!c->trace) {
			fprintf(stderr, "upsharness: --trace %s: %s\n", trace_path,
				strerror(errno));
			free(c);
			return HRN_EXIT_USAGE;
		}
	}
	if (hrn_target_open(tg, err, sizeof err) < 0) {
		fprintf(stderr, "upsharness: %s\n", err);
		if (c->trace)
			fclose(c->trace);
		free(c);
		return HRN_EXIT_TARGET;
	}
	char hdr[700];
	snprintf(hdr, sizeof hdr, "trace v1 side=ups upsharness %s clone %s",
		 UPSSIM_VERSION, tg->desc);
	for (char *p = hdr; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7E)
			*p = '?';
	cl_note(c, hdr);
	drain(c, 200);
	int rc = HRN_EXIT_OK;
	static const uint8_t first[] = { 'Y', 'a', 0x01, 'V', 'b', 'n', 'm',
					 'g', 0x1A, 'y', 'c', 'x' };
	for (size_t i = 0; i < sizeof first && rc == HRN_EXIT_OK; i++) {
		int k = ask(c, first[i]);
		if (k == -1)
			rc = HRN_EXIT_TARGET;
		else if (k == -2)
			rc = HRN_EXIT_USAGE;
	}
	if (rc == HRN_EXIT_OK && (c->r['Y'].n != 2 || memcmp(c->r['Y'].b, "SM", 2))) {
		fprintf(stderr, "upsharness: clone: %s: Y did not answer SM\n",
			tg->desc);
		rc = HRN_EXIT_TARGET;
	}
	/* the a list's queries and settings; without a, the table's */
	uint8_t todo[256];
	size_t nt = 0;
	if (rc == HRN_EXIT_OK && answered(c, 'a')) {
		const uint8_t *a = c->r['a'].b;
		size_t n = c->r['a'].n, dots = 0;
		for (size_t i = 0; i < n; i++) {
			if (a[i] == '.' && dots < 3) {
				dots++;
				continue;
			}
			if (dots == 2 && hrn_clone_safe(a[i]))
				todo[nt++] = a[i];
		}
	} else if (rc == HRN_EXIT_OK) {
		for (int b = 1; b < 256; b++)
			if (hrn_clone_safe((uint8_t)b) && nt < sizeof todo)
				todo[nt++] = (uint8_t)b;
	}
	for (size_t i = 0; i < nt && rc == HRN_EXIT_OK; i++) {
		int k = ask(c, todo[i]);
		if (k == -1)
			rc = HRN_EXIT_TARGET;
		else if (k == -2)
			rc = HRN_EXIT_USAGE;
	}
	if (rc == HRN_EXIT_OK)
		write_profile(c, out);
	if (fflush(out) != 0 && rc == HRN_EXIT_OK) {
		fprintf(stderr, "upsharness: clone: cannot write the profile\n");
		rc = HRN_EXIT_FAIL;
	}
	hrn_target_close(tg);
	if (c->trace)
		fclose(c->trace);
	free(c);
	return rc;
}
