/*
 * lint.c - the host lint (lint.h, docs/lint.md): rules about what a host
 * sends, checked on the bytes as the unit's codec reads them.  Every rule
 * cites where the protocol says so.  The lint only watches: the unit does
 * what the protocol says with every byte, whatever the lint thinks of it.
 */
#include "upssim/lint.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "upssim/cmdtab.h"
#include "upssim/trace.h"

static const struct {
	const char *name, *ref, *text;
} rules[LINT__COUNT] = {
	[LINT_UNDOCUMENTED] = { "undocumented-byte",
		"ULS §2.0 (other bytes are APC-internal)",
		"a byte that is no UPS-Link command (ESC, CR, LF, NUL ...)" },
	[LINT_UNSUPPORTED] = { "unsupported-command",
		"ULS p.2 (NA), the profile's command set (`a`)",
		"a command this model does not answer (NA or silence)" },
	[LINT_PRESS_EARLY] = { "second-press-early",
		"ULS p.3 K, p.4 Z, p.6 ^N: more than 1.5 s apart",
		"the second press of K, Z or ^N came too soon: both are ignored" },
	[LINT_PRESS_BROKEN] = { "two-press-interrupted",
		"ULS p.3: nothing in between the two presses",
		"another byte between the two presses of K, Z or ^N cancels the pair" },
	[LINT_ENTRY_SHORT] = { "entry-runs-on",
		"ULS p.16-18: c/x take exactly 8 characters",
		"a c/x entry ended early by the host: what it sent next became text" },
	[LINT_ENTRY_OVERRUN] = { "entry-overrun",
		"ULS p.16-18: c/x take exactly 8 characters",
		"more than 8 characters typed into c/x: the rest are commands" },
	[LINT_EARLY] = { "sent-before-reply",
		"ULS §2.1 (minimum time between transmissions); facts §0",
		"a command sent before the reply to the previous one had come" },
	[LINT_EEPROM_WEAR] = { "eeprom-wear",
		"ULS p.16, p.25 (each change is an EEPROM write, `|`)",
		"EEPROM writes at a rate that wears a real unit's EEPROM" },
};

const char *lint_rule_name(enum lint_rule r)
{
	return (unsigned)r < LINT__COUNT ? rules[r].name : "?";
}

const char *lint_rule_ref(enum lint_rule r)
{
	return (unsigned)r < LINT__COUNT ? rules[r].ref : "?";
}

const char *lint_rule_text(enum lint_rule r)
{
	return (unsigned)r < LINT__COUNT ? rules[r].text : "?";
}

void lint_init(struct lint *l, const struct ups_profile *p, lint_fn fn,
	       void *ctx)
{
	memset(l, 0, sizeof *l);
	l->p = p;
	l->fn = fn;
	l->ctx = ctx;
	l->host_unread = -1;
}

void lint_host_unread(struct lint *l, long n)
{
	l->host_unread = n;
}

void lint_host_reset(struct lint *l)
{
	l->owed = false;
	l->ent_target = 0;
	l->ent_n = 0;
	l->after_entry = false;
}

unsigned lint_total(const struct lint *l)
{
	unsigned n = 0;
	for (int i = 0; i < LINT__COUNT; i++)
		n += l->count[i];
	return n;
}

static const char *bname(uint8_t b, char buf[8])
{
	return cmd_byte_name(b, buf);
}

static void report(struct lint *l, enum lint_rule rule, uint64_t t,
		   const uint8_t *bytes, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void report(struct lint *l, enum lint_rule rule, uint64_t t,
		   const uint8_t *bytes, size_t n, const char *fmt, ...)
{
	struct lint_finding f = { .rule = rule, .t_ms = t };
	f.n = n < LINT_BYTES_MAX ? n : LINT_BYTES_MAX;
	if (f.n)
		memcpy(f.bytes, bytes, f.n);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f.msg, sizeof f.msg, fmt, ap);
	va_end(ap);
	for (char *c = f.msg; *c; c++) /* one printable line, always */
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7E)
			*c = '?';
	if (!l->count[rule]++)
		l->first[rule] = f;
	for (size_t i = 0; i < f.n; i++)
		l->seen[rule][f.bytes[i] >> 3] |= (uint8_t)(1u << (f.bytes[i] & 7));
	if (l->fn)
		l->fn(l->ctx, &f);
}

static bool padding(uint8_t b)
{
	return b == '\r' || b == '\n' || b == ' ' || b == 0;
}

/* A command byte's label for messages: "S (Shut down UPS on battery)". */
static const char *what(uint8_t b, char *buf, size_t cap)
{
	char nb[8];
	const struct cmd_def *row = cmd_lookup(b);
	if (row)
		snprintf(buf, cap, "%s (%s)", bname(b, nb), row->label);
	else
		snprintf(buf, cap, "%s", bname(b, nb));
	return buf;
}

void lint_byte(struct lint *l, uint8_t b, uint64_t t,
	       const struct codec *before)
{
	char w[96];
	bool in_cmd = before->entry_target || before->at_digits >= 0;

	if (l->after_entry && !in_cmd) {
		/* Typing on, or its next command?  A host that reads the
		 * entry's reply before it sends again (NUT reads the OK, then
		 * `c` again 50 ms later) has nothing unread; one that types
		 * blind sends before the reply is written, or leaves it
		 * unread.  Without the transport's count only the first is
		 * known. */
		uint64_t gap = t > l->after_t ? t - l->after_t : 0;
		bool blind = !l->after_written ||
			     (l->host_unread > 0 && gap <= LINT_OVERRUN_MS);
		l->after_entry = false;
		if (!padding(b) && blind) {
			char nb[8];
			report(l, LINT_ENTRY_OVERRUN, t, &b, 1,
			       "the host went on typing after the 8th character "
			       "of the %s entry: %s is read as a command, %s",
			       bname(l->after_target, nb), what(b, w, sizeof w),
			       b == 'S' ? "a shutdown on battery" :
			       "not as part of the text");
			l->owed = false; /* one finding for this byte */
		}
	}
	if (l->owed && !in_cmd) {
		char nb[8], nb2[8];
		uint8_t two[2] = { l->owed_cmd, b };
		report(l, LINT_EARLY, t, two, 2,
		       "%s sent before the reply to %s had come", bname(b, nb),
		       bname(l->owed_cmd, nb2));
	}
	l->owed = false;
	if (before->entry_target && l->ent_n < CODEC_ENTRY_MAX) {
		l->ent_b[l->ent_n] = b;
		l->ent_t[l->ent_n] = t;
		l->ent_n++;
	}
}

/* The entry just completed: did the host think it had ended before the
 * unit did?  Two signs: a CR ends the text and non-padding bytes follow
 * it (the host typed its next commands into the entry), or a pause much
 * longer than the host's own typing pace before the last bytes. */
static void entry_done(struct lint *l, uint8_t target, uint64_t t)
{
	char nb[8];
	size_t n = l->ent_n;
	uint64_t maxgap = 0;
	if (target != 'I') {
		for (size_t i = 0; i < n; i++) {
			if (l->ent_b[i] != '\r')
				continue;
			size_t j = i + 1;
			while (j < n && padding(l->ent_b[j]))
				j++;
			if (j < n) {
				report(l, LINT_ENTRY_SHORT, t, l->ent_b + j, n - j,
				       "the %s entry was ended with CR after %zu "
				       "characters, but the unit takes 8: the %zu "
				       "bytes sent after it became part of the text, "
				       "not commands", bname(target, nb), i, n - j);
				goto done;
			}
			break;
		}
		for (size_t i = 1; i < n; i++) {
			uint64_t gap = l->ent_t[i] - l->ent_t[i - 1];
			if (i >= 2 && gap > 500 && gap > 3 * maxgap) {
				report(l, LINT_ENTRY_SHORT, t, l->ent_b + i, n - i,
				       "the host paused %llu ms after %zu characters "
				       "of the %s entry (its pace so far %llu ms): the "
				       "%zu bytes after the pause became part of the "
				       "text", (unsigned long long)gap, i,
				       bname(target, nb), (unsigned long long)maxgap,
				       n - i);
				goto done;
			}
			if (gap > maxgap)
				maxgap = gap;
		}
	}
done:
	if (target != 'I') {
		l->after_entry = true;
		l->after_written = false;
		l->after_target = target;
		l->after_t = n ? l->ent_t[n - 1] : t;
	}
	l->ent_target = 0;
	l->ent_n = 0;
}

void lint_event(struct lint *l, const struct codec_event *ev, uint64_t t,
		bool smart)
{
	char nb[8], nb2[8];
	l->smart = smart;
	switch (ev->note) {
	case CODEC_NOTE_PRESS_EARLY: {
		uint8_t two[2] = { ev->note_cmd, ev->note_cmd };
		report(l, LINT_PRESS_EARLY, t, two, 2,
		       "second %s only %u ms after the first; the presses must be "
		       "more than %u ms apart, so both were ignored",
		       bname(ev->note_cmd, nb), (unsigned)ev->note_val,
		       (unsigned)(l->p ? l->p->two_press_gap_ms : 1500));
		break;
	}
	case CODEC_NOTE_PRESS_BROKEN: {
		uint8_t b = ev->type != CODEC_EV_NONE ? ev->cmd : 0;
		uint8_t two[2] = { ev->note_cmd, b };
		report(l, LINT_PRESS_BROKEN, t, two, 2,
		       "%s between the two presses of %s cancels the pair",
		       bname(b, nb), bname(ev->note_cmd, nb2));
		break;
	}
	case CODEC_NOTE_STALE:
		if (ev->note_cmd != '@') {
			report(l, LINT_ENTRY_SHORT, t, l->ent_b, l->ent_n,
			       "the host stopped after %u of the 8 characters of the "
			       "%s entry; the unit gave it up only when the entry "
			       "timed out", (unsigned)ev->note_val,
			       bname(ev->note_cmd, nb));
			l->ent_target = 0;
			l->ent_n = 0;
		}
		break;
	default:
		break;
	}
	switch (ev->type) {
	case CODEC_EV_CMD:
	case CODEC_EV_PRESS1:
	case CODEC_EV_AT_START: {
		uint8_t b = ev->cmd;
		const struct cmd_def *row = cmd_lookup(b);
		bool extra = l->p && prof_extra(l->p, b);
		if (!row && !extra)
			report(l, LINT_UNDOCUMENTED, t, &b, 1,
			       "%s is not a UPS-Link command", bname(b, nb));
		/* unsupported: told by the reply (lint_reply), since a
		 * replayed unit may answer what the profile does not */
		break;
	}
	case CODEC_EV_ENTRY:
		entry_done(l, ev->target, t);
		break;
	default:
		break;
	}
}

static void eeprom_write(struct lint *l, uint64_t t)
{
	if (l->ee_n == LINT_EEPROM_LIMIT + 1) {
		memmove(l->ee_t, l->ee_t + 1, LINT_EEPROM_LIMIT * sizeof l->ee_t[0]);
		l->ee_n--;
	}
	l->ee_t[l->ee_n++] = t;
	if (l->ee_n <= LINT_EEPROM_LIMIT || t < l->ee_quiet_until)
		return;
	uint64_t span = t - l->ee_t[0];
	if (span >= LINT_EEPROM_WINDOW_MS)
		return;
	l->ee_quiet_until = t + LINT_EEPROM_WINDOW_MS;
	report(l, LINT_EEPROM_WEAR, t, NULL, 0,
	       "%d EEPROM writes within %llu.%03llu s: more than %d an hour wear "
	       "out a real unit's EEPROM (typically rated 10^5-10^6 writes)",
	       LINT_EEPROM_LIMIT + 1, (unsigned long long)(span / 1000),
	       (unsigned long long)(span % 1000), LINT_EEPROM_LIMIT);
}

void lint_reply(struct lint *l, const struct codec_event *ev,
		const char *reply, size_t len, bool present, uint64_t t)
{
	bool ok = present && len == 2 && !memcmp(reply, "OK", 2);
	bool na = present && len == 2 && !memcmp(reply, "NA", 2);
	if ((ev->type == CODEC_EV_CMD || ev->type == CODEC_EV_PRESS1 ||
	     ev->type == CODEC_EV_AT_START) && l->smart && l->p) {
		/* a command the model lacks and got refused for it (NA, or
		 * silence from a v/s); an answer from a replayed unit is not */
		uint8_t b = ev->cmd;
		char w[96];
		if (cmd_lookup(b) && !prof_extra(l->p, b) &&
		    !prof_supports(l->p, b) &&
		    (na || (!present && l->p->unsupported_silent)))
			report(l, LINT_UNSUPPORTED, t, &b, 1,
			       "this model does not support %s; it answers %s",
			       what(b, w, sizeof w), na ? "NA" : "nothing");
	}
	switch (ev->type) {
	case CODEC_EV_EDIT:
		if (ev->cmd == '-' && (ev->target == 'c' || ev->target == 'x' ||
				       ev->target == 'I') && !present) {
			l->ent_target = ev->target; /* the entry opens */
			l->ent_open_t = t;
			l->ent_n = 0;
		}
		if (ok || (ev->target == '>' && present && len == 3 &&
			   reply[0] >= '0' && reply[0] <= '9'))
			eeprom_write(l, t);
		break;
	case CODEC_EV_ENTRY:
		if (ok)
			eeprom_write(l, t);
		break;
	case CODEC_EV_CMD:
		if (ev->cmd == 'z' && present && len >= 5 &&
		    !memcmp(reply, "CLEAR", 5))
			eeprom_write(l, t);
		break;
	default:
		break;
	}
	if (present && ev->type != CODEC_EV_NONE) {
		l->owed = true;
		l->owed_cmd = ev->type == CODEC_EV_ENTRY ? ev->target :
			      ev->type == CODEC_EV_AT ? '@' : ev->cmd;
	}
}

void lint_delivered(struct lint *l)
{
	l->owed = false;
	l->after_written = true;
}

size_t lint_format_note(const struct lint_finding *f, char *buf, size_t cap)
{
	char q[LINT_BYTES_MAX * 4 + 3];
	trace_escape(f->bytes, f->n, q, sizeof q);
	int r = snprintf(buf, cap, "lint %s %s %s", lint_rule_name(f->rule), q,
			 f->msg);
	return r < 0 ? 0 : (size_t)r;
}

size_t lint_summary(const struct lint *l, char *buf, size_t cap)
{
	size_t o = 0;
	if (cap)
		buf[0] = '\0';
	for (int r = 0; r < LINT__COUNT; r++) {
		if (!l->count[r])
			continue;
		uint8_t bytes[32];
		size_t n = 0;
		for (int b = 0; b < 256 && n < sizeof bytes; b++)
			if (l->seen[r][b >> 3] & (1u << (b & 7)))
				bytes[n++] = (uint8_t)b;
		char q[sizeof bytes * 4 + 3];
		trace_escape(bytes, n, q, sizeof q);
		const struct lint_finding *f = &l->first[r];
		char ts[32];
		trace_format_time(f->t_ms, ts, sizeof ts);
		int k = snprintf(o < cap ? buf + o : NULL, o < cap ? cap - o : 0,
				 "  %-22s %5u  bytes %s; first at %s s: %s [%s]\n",
				 lint_rule_name((enum lint_rule)r), l->count[r], q,
				 ts, f->msg, lint_rule_ref((enum lint_rule)r));
		o += k < 0 ? 0 : (size_t)k;
	}
	return o;
}
