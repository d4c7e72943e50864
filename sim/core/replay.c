/*
 * replay.c - the command -> replies map behind `upssim --replay` (replay.h).
 *
 * Building the map reads a trace in time order.  Host bytes go through a
 * codec of their own, so a command is what the unit's codec would make of
 * the bytes (K..K, `@ddd`, `u -`, a `c -` entry); the unit's bytes are cut
 * into reply lines at LF, and a byte of UPS-Link's alert set that comes
 * between lines is an alert (ULS p.24-25: alerts never split a reply),
 * except where a reply may start with it (`#` of a `^Z` dump, `*` of an old
 * unit's shutdown reply).  A reply line belongs to the oldest command still
 * waiting for one; a command the host gave up on (it sent another more
 * than SILENT_MS later with no reply begun) was answered with silence.  A
 * first press, a lone `@` or the `-` opening a c/x/I entry normally gets no
 * reply: a line right after one is that command's refusal (NA).
 */
#include "upssim/replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/cmdtab.h"
#include "upssim/trace.h"
#include "upssim/ups.h"

/* A host waits for a reply for 1.5-3 s (NUT SER_D1/SER_D3, apcupsd 1 s per
 * character, facts §6); a real unit answers within ~125 ms (facts §0).  A
 * command followed by another this much later, with no reply begun, got
 * none. */
#define SILENT_MS 1000
#define MAX_PENDING 32

struct answer {
	bool present;
	uint32_t len;
	size_t off;      /* into rp->pool */
};

struct rcmd {
	struct replay_key key;
	size_t *ans;     /* indexes into rp->answers */
	size_t n, cap;
	size_t next;     /* sequence position */
};

struct miss {
	struct replay_key key;
	unsigned count;
};

struct replay {
	enum replay_mode mode;
	struct codec_config cc;
	struct rcmd *cmds;
	size_t ncmds, capcmds;
	struct answer *answers;
	size_t nanswers, capanswers;
	uint8_t *pool;
	size_t npool, cappool;
	struct replay_alert *alerts;
	size_t nalerts, capalerts;
	struct miss *misses;
	size_t nmisses, capmisses;
	bool missed;
	struct replay_key last_miss;
	size_t unattributed;
};

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t n = *cap ? *cap * 2 : 16;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * size);
	if (!q)
		return false;
	*p = q;
	*cap = n;
	return true;
}

struct replay *replay_new(enum replay_mode mode, const struct codec_config *cc)
{
	struct replay *rp = calloc(1, sizeof *rp);
	if (!rp)
		return NULL;
	rp->mode = mode;
	if (cc)
		rp->cc = *cc;
	else
		rp->cc = (struct codec_config){ .two_press_gap_ms = 1500 };
	return rp;
}

void replay_free(struct replay *rp)
{
	if (!rp)
		return;
	for (size_t i = 0; i < rp->ncmds; i++)
		free(rp->cmds[i].ans);
	free(rp->cmds);
	free(rp->answers);
	free(rp->pool);
	free(rp->alerts);
	free(rp->misses);
	free(rp);
}

bool replay_key_of(const struct codec_event *ev, struct replay_key *k)
{
	memset(k, 0, sizeof *k);
	switch (ev->type) {
	case CODEC_EV_CMD:
		k->kind = RK_CMD;
		k->b[0] = ev->cmd;
		k->len = 1;
		return true;
	case CODEC_EV_PRESS1:
		k->kind = RK_PRESS1;
		k->b[0] = ev->cmd;
		k->len = 1;
		return true;
	case CODEC_EV_PRESS2:
		k->kind = RK_PRESS2;
		k->b[0] = k->b[1] = ev->cmd;
		k->len = 2;
		return true;
	case CODEC_EV_AT_START:
		k->kind = RK_AT_START;
		k->b[0] = '@';
		k->len = 1;
		return true;
	case CODEC_EV_AT:
		k->kind = RK_AT;
		k->b[0] = '@';
		k->b[1] = (uint8_t)('0' + ev->value / 100 % 10);
		k->b[2] = (uint8_t)('0' + ev->value / 10 % 10);
		k->b[3] = (uint8_t)('0' + ev->value % 10);
		k->len = 4;
		return true;
	case CODEC_EV_EDIT:
		k->kind = RK_EDIT;
		k->b[0] = ev->target;
		k->b[1] = ev->cmd;
		k->len = 2;
		return true;
	case CODEC_EV_ENTRY: {
		size_t n = ev->len < CODEC_ENTRY_MAX ? ev->len : CODEC_ENTRY_MAX;
		k->kind = RK_ENTRY;
		k->b[0] = ev->target;
		k->b[1] = '-';
		memcpy(k->b + 2, ev->text, n);
		k->len = (uint8_t)(2 + n);
		return true;
	}
	default:
		return false;
	}
}

const char *replay_key_name(const struct replay_key *k, char *buf, size_t cap)
{
	char a[8], b[8], q[CODEC_ENTRY_MAX * 4 + 3];
	switch (k->kind) {
	case RK_CMD:
		snprintf(buf, cap, "%s", cmd_byte_name(k->b[0], a));
		break;
	case RK_PRESS1:
		snprintf(buf, cap, "%s (first press)", cmd_byte_name(k->b[0], a));
		break;
	case RK_PRESS2:
		snprintf(buf, cap, "%s %s", cmd_byte_name(k->b[0], a),
			 cmd_byte_name(k->b[1], b));
		break;
	case RK_AT_START:
		snprintf(buf, cap, "@");
		break;
	case RK_AT:
		snprintf(buf, cap, "%.*s", (int)k->len, (const char *)k->b);
		break;
	case RK_EDIT:
		snprintf(buf, cap, "%s %s", k->b[0] ? cmd_byte_name(k->b[0], a) : "",
			 cmd_byte_name(k->b[1], b));
		break;
	case RK_ENTRY:
		trace_escape(k->b + 2, k->len - 2u, q, sizeof q);
		snprintf(buf, cap, "%s - %s", cmd_byte_name(k->b[0], a), q);
		break;
	default:
		snprintf(buf, cap, "?");
	}
	return buf;
}

static bool key_eq(const struct replay_key *a, const struct replay_key *b)
{
	return a->kind == b->kind && a->len == b->len &&
	       !memcmp(a->b, b->b, a->len);
}

static struct rcmd *find(const struct replay *rp, const struct replay_key *k)
{
	for (size_t i = 0; i < rp->ncmds; i++)
		if (key_eq(&rp->cmds[i].key, k))
			return &rp->cmds[i];
	return NULL;
}

static enum ups_rc add_answer(struct replay *rp, const struct replay_key *k,
			      bool present, const uint8_t *p, size_t n)
{
	struct rcmd *c = find(rp, k);
	if (!c) {
		if (!grow((void **)&rp->cmds, &rp->capcmds, rp->ncmds + 1,
			  sizeof *rp->cmds))
			return UPS_ENOMEM;
		c = &rp->cmds[rp->ncmds++];
		memset(c, 0, sizeof *c);
		c->key = *k;
	}
	if (n > UPS_REPLY_MAX)
		n = UPS_REPLY_MAX;
	if (!grow((void **)&rp->answers, &rp->capanswers, rp->nanswers + 1,
		  sizeof *rp->answers) ||
	    !grow((void **)&rp->pool, &rp->cappool, rp->npool + n + 1, 1) ||
	    !grow((void **)&c->ans, &c->cap, c->n + 1, sizeof *c->ans))
		return UPS_ENOMEM;
	struct answer *a = &rp->answers[rp->nanswers];
	a->present = present;
	a->len = (uint32_t)n;
	a->off = rp->npool;
	if (n)
		memcpy(rp->pool + rp->npool, p, n);
	rp->npool += n;
	c->ans[c->n++] = rp->nanswers++;
	return UPS_OK;
}

/* ---------- building the map ---------- */

struct pend {
	struct replay_key key;
	uint64_t t;
	bool quiet;   /* normally answered with silence (first press, `@`,
			 an entry-opening `-`) */
	bool entry;   /* the `-` that opened an entry */
};

struct build {
	struct replay *rp;
	struct codec codec;
	struct pend pend[MAX_PENDING];
	size_t npend;
	uint8_t line[UPS_REPLY_MAX + 8];
	size_t nline;
	uint64_t line_t;
	bool have_first;
	uint64_t first_t;   /* the host's first byte */
};

static bool is_alert(uint8_t b)
{
	return b && strchr(PROF_ALERT_CHARS, b) != NULL;
}

/* Drop pending [0, k) (answered with silence if they wanted a reply). */
static enum ups_rc drop_pending(struct build *bd, size_t k, bool silence)
{
	enum ups_rc rc = UPS_OK;
	for (size_t i = 0; i < k && rc == UPS_OK; i++)
		if (silence && !bd->pend[i].quiet)
			rc = add_answer(bd->rp, &bd->pend[i].key, false, NULL, 0);
	memmove(bd->pend, bd->pend + k, (bd->npend - k) * sizeof bd->pend[0]);
	bd->npend -= k;
	return rc;
}

/* A reply may begin with this byte for the latest command. */
static bool may_start(const struct build *bd, uint8_t b)
{
	if (!bd->npend)
		return false;
	const struct replay_key *k = &bd->pend[bd->npend - 1].key;
	if (b == '#')
		return k->kind == RK_CMD && k->b[0] == 0x1A; /* ^Z dump */
	if (b == '*')
		return k->kind == RK_PRESS2 || k->kind == RK_AT;
	return false;
}

static enum ups_rc line_done(struct build *bd)
{
	size_t n = bd->nline;
	if (n && bd->line[n - 1] == '\n')
		n--;
	if (n && bd->line[n - 1] == '\r')
		n--;
	bd->nline = 0;
	if (!bd->npend) {
		bd->rp->unattributed++;
		return UPS_OK;
	}
	size_t target = SIZE_MAX;
	struct pend *last = &bd->pend[bd->npend - 1];
	if (last->quiet && bd->line_t >= last->t)
		target = bd->npend - 1;
	for (size_t i = 0; target == SIZE_MAX && i < bd->npend; i++)
		if (!bd->pend[i].quiet)
			target = i;
	if (target == SIZE_MAX)
		target = bd->npend - 1;
	struct pend p = bd->pend[target];
	enum ups_rc rc = drop_pending(bd, target, true); /* older: silence */
	if (rc)
		return rc;
	drop_pending(bd, 1, false);                       /* the target */
	if (p.quiet && (p.key.kind == RK_PRESS1 || p.key.kind == RK_AT_START ||
			p.entry))
		codec_cancel(&bd->codec); /* refused: nothing pending */
	return add_answer(bd->rp, &p.key, true, bd->line, n);
}

static enum ups_rc host_byte(struct build *bd, uint8_t b, uint64_t t)
{
	if (!bd->have_first) {
		bd->have_first = true;
		bd->first_t = t;
	}
	struct codec_event ev;
	if (!codec_feed(&bd->codec, b, t, &ev))
		return UPS_OK;
	struct pend p = { .t = t };
	if (!replay_key_of(&ev, &p.key))
		return UPS_OK;
	p.quiet = ev.type == CODEC_EV_PRESS1 || ev.type == CODEC_EV_AT_START;
	if (ev.type == CODEC_EV_EDIT && ev.cmd == '-' &&
	    (ev.target == 'c' || ev.target == 'x' || ev.target == 'I')) {
		/* as the unit does when it accepts the `-`; a refusal read
		 * later cancels it (line_done) */
		codec_begin_entry(&bd->codec, ev.target, ev.target == 'I' ? 2 :
				  CODEC_ENTRY_MAX);
		p.quiet = p.entry = true;
	}
	/* commands the host gave up waiting for were answered with silence */
	enum ups_rc rc = UPS_OK;
	if (!bd->nline) {
		size_t k = 0;
		while (k < bd->npend && t - bd->pend[k].t > SILENT_MS)
			k++;
		rc = drop_pending(bd, k, true);
	}
	if (rc == UPS_OK && bd->npend == MAX_PENDING)
		rc = drop_pending(bd, 1, false);
	if (rc == UPS_OK)
		bd->pend[bd->npend++] = p;
	return rc;
}

static enum ups_rc unit_byte(struct build *bd, uint8_t b, uint64_t t)
{
	if (!bd->nline) {
		/* sent before any host spoke (the power-on `?` into a pty
		 * nobody had open): no host saw it */
		if (!bd->have_first)
			return UPS_OK;
		if (is_alert(b) && !may_start(bd, b)) {
			struct replay *rp = bd->rp;
			if (!grow((void **)&rp->alerts, &rp->capalerts,
				  rp->nalerts + 1, sizeof *rp->alerts))
				return UPS_ENOMEM;
			rp->alerts[rp->nalerts++] = (struct replay_alert){
				.t_ms = t > bd->first_t ? t - bd->first_t : 0,
				.byte = b };
			return UPS_OK;
		}
		bd->line_t = t;
	}
	if (bd->nline < sizeof bd->line)
		bd->line[bd->nline++] = b;
	if (b == '\n')
		return line_done(bd);
	return UPS_OK;
}

enum ups_rc replay_add_trace(struct replay *rp, const char *src,
			     const char *text, size_t len, struct ups_diag *d)
{
	if (!rp || (!text && len))
		return UPS_EARG;
	struct build *bd = calloc(1, sizeof *bd);
	struct trace_reader *r = malloc(sizeof *r);
	if (!bd || !r) {
		free(bd);
		free(r);
		return UPS_ENOMEM;
	}
	bd->rp = rp;
	codec_init(&bd->codec, &rp->cc);
	trace_reader_init(r, src, text, len);
	struct trace_event ev;
	int got;
	enum ups_rc rc = UPS_OK;
	while (rc == UPS_OK && (got = trace_next(r, &ev, d)) > 0) {
		switch (ev.dir) {
		case TRACE_RX:
			for (size_t i = 0; i < ev.n && rc == UPS_OK; i++)
				rc = host_byte(bd, ev.bytes[i], ev.t_ms);
			break;
		case TRACE_TX:
			for (size_t i = 0; i < ev.n && rc == UPS_OK; i++)
				rc = unit_byte(bd, ev.bytes[i], ev.t_ms);
			break;
		default:
			if (!strncmp(ev.note, "host-open", 9)) {
				/* a new host: nothing of the old one carries on */
				codec_reset(&bd->codec);
				bd->npend = 0;
				bd->nline = 0;
			}
			break;
		}
	}
	if (rc == UPS_OK && got < 0)
		rc = (enum ups_rc)got;
	free(r);
	free(bd);
	return rc;
}

/* ---------- answering ---------- */

static void note_miss(struct replay *rp, const struct replay_key *k)
{
	rp->missed = true;
	rp->last_miss = *k;
	for (size_t i = 0; i < rp->nmisses; i++)
		if (key_eq(&rp->misses[i].key, k)) {
			rp->misses[i].count++;
			return;
		}
	if (!grow((void **)&rp->misses, &rp->capmisses, rp->nmisses + 1,
		  sizeof *rp->misses))
		return; /* the answer still comes from the unit */
	rp->misses[rp->nmisses++] = (struct miss){ .key = *k, .count = 1 };
}

bool replay_hook(void *ctx, const struct codec_event *ev, uint64_t now,
		 uint8_t *reply, size_t cap, size_t *len, bool *present)
{
	struct replay *rp = ctx;
	struct replay_key k;
	(void)now;
	*len = 0;
	*present = false;
	if (!replay_key_of(ev, &k))
		return false;
	bool quiet = k.kind == RK_PRESS1 || k.kind == RK_AT_START;
	bool opens = k.kind == RK_EDIT && k.b[1] == '-' &&
		     (k.b[0] == 'c' || k.b[0] == 'x' || k.b[0] == 'I');
	struct rcmd *c = find(rp, &k);
	if (!c || !c->n) {
		/* a first press, `@` or an entry's `-` is normally silent: the
		 * command it starts is what counts as seen or not */
		if (!quiet && !opens)
			note_miss(rp, &k);
		return false;
	}
	size_t j = rp->mode == REPLAY_LATEST ? c->n - 1 :
		   (c->next < c->n ? c->next : c->n - 1);
	if (c->next < c->n)
		c->next++;
	const struct answer *a = &rp->answers[c->ans[j]];
	if (!a->present && (quiet || opens))
		return false; /* the unit opens the entry / waits for digits */
	*present = a->present;
	*len = a->len < cap ? a->len : cap;
	if (*len)
		memcpy(reply, rp->pool + a->off, *len);
	return true;
}

size_t replay_n_commands(const struct replay *rp)
{
	return rp->ncmds;
}

size_t replay_n_replies(const struct replay *rp)
{
	return rp->nanswers;
}

const struct replay_key *replay_command(const struct replay *rp, size_t i,
					size_t *n_replies)
{
	if (i >= rp->ncmds)
		return NULL;
	if (n_replies)
		*n_replies = rp->cmds[i].n;
	return &rp->cmds[i].key;
}

const uint8_t *replay_reply(const struct replay *rp, size_t i, size_t j,
			    size_t *len, bool *present)
{
	if (i >= rp->ncmds || j >= rp->cmds[i].n)
		return NULL;
	const struct answer *a = &rp->answers[rp->cmds[i].ans[j]];
	*len = a->len;
	*present = a->present;
	return rp->pool + a->off;
}

const struct replay_alert *replay_alerts(const struct replay *rp, size_t *n)
{
	*n = rp->nalerts;
	return rp->alerts;
}

size_t replay_misses(const struct replay *rp)
{
	return rp->nmisses;
}

const struct replay_key *replay_miss(const struct replay *rp, size_t i,
				     unsigned *count)
{
	if (i >= rp->nmisses)
		return NULL;
	if (count)
		*count = rp->misses[i].count;
	return &rp->misses[i].key;
}

bool replay_take_miss(struct replay *rp, struct replay_key *k)
{
	bool m = rp->missed;
	if (m && k)
		*k = rp->last_miss;
	rp->missed = false;
	return m;
}

size_t replay_unattributed(const struct replay *rp)
{
	return rp->unattributed;
}
