/*
 * run.c - plays upsharness scripts against a target over the transport
 * vtable, inside the project's event loop (evl: the loop owns the
 * descriptor, the runner waits on deadlines in wall time).  It owns what
 * happens on the wire during a run: sending with pacing under the safety
 * guard, reading replies and skipping alert characters, captures, the
 * model detection behind `requires:`, the EEPROM bookkeeping that lets
 * hrn_restore() put back every value the run changed, and the
 * observations record mode writes back.  Every byte goes to the trace in
 * the project's format (docs/architecture.md).
 */
#include "harness.h"
#include "upssim/trace.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "upssim/cmdtab.h"
#include "upssim/engine.h"
#include "upssim/evloop.h"
#include "upssim/profile.h"

#define RX_MAX (256 * 1024)   /* pending input kept; more is a flood */
#define MAX_ALERT_RECS 256
#define EE_MAX 48             /* longest EEPROM reply kept (c/x: 8) */
#define RESTORE_PRESSES 16    /* ^L has 8 values; every other list 4 */
#define SEND_MAX 4096

volatile sig_atomic_t hrn_interrupted;

/* ------------------------------------------------------------------ */
/* Small string builder for failure messages                           */

struct sb {
	char *p;
	size_t n, cap;
};

static void sb_printf(struct sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	if (b->n + (size_t)k + 1 > b->cap) {
		size_t nc = (b->n + (size_t)k + 1) * 2;
		char *np = realloc(b->p, nc);
		if (!np)
			return;
		b->p = np;
		b->cap = nc;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

const char *hrn_esc(const uint8_t *p, size_t n, char *out, size_t cap)
{
	trace_escape(p, n, out, cap);
	return out;
}

/* ------------------------------------------------------------------ */
/* The runner                                                          */

struct alert_rec {
	uint8_t c;
	uint64_t at;
	bool claimed;
};

/** One EEPROM setting: what was last read, what it was before the run. */
struct ee_track {
	bool known;
	uint8_t last[EE_MAX];
	size_t last_n;
	bool dirty;
	bool entry;            /* c, x, I: restored by direct entry */
	uint8_t orig[EE_MAX];
	size_t orig_n;
	int order;
};

enum obs_kind { OBS_LINE, OBS_RAW, OBS_SILENCE };
struct obs {
	const struct hrn_step *st;
	enum obs_kind kind;
	uint8_t *p;
	size_t n;
	bool conflict;
};

struct hrn_run {
	struct hrn_target *tg;
	struct transport *t;
	const struct hrn_options *o;
	struct hrn_policy pol;
	struct evl *l;
	struct evl_clock clk;
	uint8_t *rx;
	size_t rx_n, rx_cap;
	uint64_t rx_base;      /* bytes consumed from the front so far */
	uint64_t last_rx_ms;   /* when the last byte came in */
	bool lost, dead;
	char why[256];
	FILE *trace;
	uint64_t t0;
	struct alert_rec al[MAX_ALERT_RECS];
	size_t n_al;
	struct hrn_vars *vars;
	struct hrn_guard guard;
	uint8_t reply_owner;   /* command whose reply the next line is */
	const struct hrn_script *s;
	const struct hrn_case *c;
	int64_t latency;
	struct ee_track ee[128];
	int n_dirty;
	struct hrn_detect det;
	struct sb fail;        /* the failing step's report */
	uint8_t sent[SEND_MAX];
	size_t sent_n;
	bool sent_any;
	struct obs *obs;
	size_t n_obs, cap_obs;
	bool in_restore;
	int restore_failed;
};

static int transport_fd_of(const struct transport *t)
{
	return t->ops->fd(t);
}

static uint64_t now_ms(const struct hrn_run *r)
{
	return evl_wall(r->l);
}

static double secs(const struct hrn_run *r)
{
	return (double)(now_ms(r) - r->t0) / 1000.0;
}

static void trace_bytes(struct hrn_run *r, const char *dir, const uint8_t *p,
			size_t n)
{
	if (!r->trace || !n)
		return;
	char buf[4 * 4096 + 8];
	for (size_t off = 0; off < n; off += 4096) {
		size_t k = n - off < 4096 ? n - off : 4096;
		trace_escape(p + off, k, buf, sizeof buf);
		fprintf(r->trace, "%.3f %s %s\n", secs(r), dir, buf);
	}
	fflush(r->trace);
}

static void trace_note(struct hrn_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void trace_note(struct hrn_run *r, const char *fmt, ...)
{
	if (!r->trace)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(r->trace, "%.3f %s\n", secs(r), msg);
	fflush(r->trace);
}

static void set_lost(struct hrn_run *r, const char *why)
{
	if (r->lost)
		return;
	r->lost = r->dead = true;
	snprintf(r->why, sizeof r->why, "%s", why);
	evl_unwatch(r->l, transport_fd_of(r->t));
	trace_note(r, "lost %s", why);
}

static void on_read(struct evl *l, int fd, int mask, void *arg)
{
	(void)l;
	(void)fd;
	struct hrn_run *r = arg;
	uint8_t buf[4096];
	for (;;) {
		ssize_t n = transport_read(r->t, buf, sizeof buf);
		if (n > 0) {
			r->last_rx_ms = now_ms(r);
			trace_bytes(r, "rx", buf, (size_t)n);
			if (r->rx_n + (size_t)n > RX_MAX) {
				/* a flood: keep the newest bytes */
				size_t drop = r->rx_n + (size_t)n - RX_MAX;
				if (drop > r->rx_n)
					drop = r->rx_n;
				memmove(r->rx, r->rx + drop, r->rx_n - drop);
				r->rx_n -= drop;
				r->rx_base += drop;
			}
			if (r->rx_n + (size_t)n > r->rx_cap) {
				size_t nc = (r->rx_n + (size_t)n) * 2;
				uint8_t *np = realloc(r->rx, nc);
				if (!np)
					return;
				r->rx = np;
				r->rx_cap = nc;
			}
			memcpy(r->rx + r->rx_n, buf, (size_t)n);
			r->rx_n += (size_t)n;
			continue;
		}
		if (n < 0)
			set_lost(r, "read error on the target");
		else if (mask & EVL_HANGUP)
			set_lost(r, "the target hung up (device closed or "
				 "simulator gone)");
		return;
	}
}

static void on_sim_out(struct evl *l, int fd, int mask, void *arg)
{
	(void)mask;
	(void)arg;
	char buf[1024];
	ssize_t n = read(fd, buf, sizeof buf);
	if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
		evl_unwatch(l, fd);
}

static bool stopped(const struct hrn_run *r)
{
	return r->lost || (hrn_interrupted && !r->in_restore) ||
	       (hrn_interrupted > 1);
}

/** Wait for input (or until @p deadline, wall ms). */
static void pump(struct hrn_run *r, uint64_t deadline)
{
	uint64_t now = now_ms(r);
	uint64_t w = deadline > now ? deadline - now : 0;
	evl_run_once(r->l, (int)(w > 100 ? 100 : w));
}

static void consume(struct hrn_run *r, size_t n)
{
	if (n > r->rx_n)
		n = r->rx_n;
	if (n == 0)
		return;
	memmove(r->rx, r->rx + n, r->rx_n - n);
	r->rx_n -= n;
	r->rx_base += n;
}

static void record_alert(struct hrn_run *r, uint8_t c)
{
	if (r->n_al < MAX_ALERT_RECS)
		r->al[r->n_al++] = (struct alert_rec){ c, now_ms(r), false };
}

static bool is_alert(const struct hrn_run *r, uint8_t c)
{
	return c && strchr(r->s ? r->s->alerts : HRN_ALERT_CHARS, c);
}

static const char *alerts_of(const struct hrn_run *r)
{
	return r->s ? r->s->alerts : HRN_ALERT_CHARS;
}

/** Index of the first LF in rx at or after @p from, or -1. */
static long find_lf(const struct hrn_run *r, size_t from)
{
	for (size_t i = from; i < r->rx_n; i++)
		if (r->rx[i] == '\n')
			return (long)i;
	return -1;
}

/** Wait until a complete line is in rx (from @p from) or @p deadline. */
static long wait_line(struct hrn_run *r, size_t from, uint64_t deadline)
{
	long lf;
	while ((lf = find_lf(r, from)) < 0 && !stopped(r) &&
	       now_ms(r) < deadline)
		pump(r, deadline);
	return lf;
}

static void wait_until(struct hrn_run *r, uint64_t deadline)
{
	while (!stopped(r) && now_ms(r) < deadline)
		pump(r, deadline);
}

/** Write all of @p p (short writes and EAGAIN waited out). */
static bool write_all(struct hrn_run *r, const uint8_t *p, size_t n)
{
	/* A byte the unit just wrote is still on the wire for one byte time
	 * (4.17 ms at 2400 bit/s, ULS §2.1): a host cannot answer sooner */
	if (r->last_rx_ms && now_ms(r) < r->last_rx_ms + 5)
		wait_until(r, r->last_rx_ms + 5);
	uint64_t deadline = now_ms(r) + 5000 + n * 10;
	size_t off = 0;
	while (off < n) {
		if (r->lost)
			return false;
		ssize_t k = transport_write(r->t, p + off, n - off);
		if (k < 0) {
			set_lost(r, "write error on the target");
			return false;
		}
		if (k == 0) {
			if (now_ms(r) >= deadline) {
				set_lost(r, "the target takes no bytes (output "
					 "blocked for 5 s)");
				return false;
			}
			pump(r, now_ms(r) + 5);
			continue;
		}
		trace_bytes(r, "tx", p + off, (size_t)k);
		off += (size_t)k;
	}
	return true;
}

struct hrn_run *hrn_run_new(struct hrn_target *tg, const struct hrn_options *o,
			    const struct hrn_policy *pol)
{
	struct hrn_run *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->tg = tg;
	r->t = tg->t;
	r->o = o;
	r->pol = *pol;
	evl_clock_real(&r->clk, 1.0);
	r->l = evl_new(&r->clk);
	r->vars = hrn_vars_new();
	if (!r->l || !r->vars) {
		hrn_run_free(r);
		return NULL;
	}
	r->t0 = evl_wall(r->l);
	r->latency = o->latency_ms >= 0 ? o->latency_ms : HRN_DEFAULT_LATENCY_MS;
	if (o->trace) {
		r->trace = fopen(o->trace, "w");
		if (!r->trace) {
			hrn_run_free(r);
			return NULL;
		}
		trace_note(r, "upsharness %s target %s", UPSSIM_VERSION, tg->desc);
	}
	if (r->t && evl_watch(r->l, transport_fd_of(r->t), EVL_READABLE,
			      on_read, r) != UPS_OK) {
		hrn_run_free(r);
		return NULL;
	}
	if (tg->sim_out >= 0 && tg->kind == HRN_T_SIM)
		evl_watch(r->l, tg->sim_out, EVL_READABLE, on_sim_out, r);
	return r;
}

void hrn_run_free(struct hrn_run *r)
{
	if (!r)
		return;
	if (r->trace)
		fclose(r->trace);
	for (size_t i = 0; i < r->n_obs; i++)
		free(r->obs[i].p);
	free(r->obs);
	free(r->rx);
	free(r->fail.p);
	hrn_vars_free(r->vars);
	evl_free(r->l);
	free(r);
}

bool hrn_run_dead(const struct hrn_run *r, const char **why)
{
	if (why)
		*why = r->why;
	return r->dead;
}

const char *hrn_run_target(const struct hrn_run *r)
{
	return r->tg->desc;
}

bool hrn_run_interrupted(const struct hrn_run *r)
{
	(void)r;
	return hrn_interrupted != 0;
}

const struct hrn_detect *hrn_detected(const struct hrn_run *r)
{
	return &r->det;
}

/* ------------------------------------------------------------------ */
/* Plain queries (detection, restore): a command and its reply line     */

/**
 * Send @p cmd (n bytes) and read one reply line: its text without CR LF
 * and without alert characters before it, into @p out.  @return the
 * length, -1 on silence or timeout, -2 when the wire is gone.
 */
static long query(struct hrn_run *r, const uint8_t *cmd, size_t n,
		  size_t expect_len, uint8_t *out, size_t cap, bool strip)
{
	size_t from = r->rx_n;
	if (!write_all(r, cmd, n))
		return -2;
	uint64_t deadline = now_ms(r) + (uint64_t)hrn_default_timeout(
		r->latency, expect_len) + n * HRN_BYTE_US / 1000;
	long lf = wait_line(r, from, deadline);
	if (lf < 0)
		return r->lost ? -2 : -1;
	size_t s = from, e = (size_t)lf + 1;
	/* leading alerts are recorded; the line ends CR LF */
	while (strip && s < e && is_alert(r, r->rx[s]))
		record_alert(r, r->rx[s++]);
	size_t len = e - s;
	if (len >= 2 && r->rx[e - 2] == '\r')
		len -= 2;
	else
		len -= 1;
	size_t k = len < cap ? len : cap;
	memcpy(out, r->rx + s, k);
	/* drop what was read, leave anything before it for the script */
	memmove(r->rx + from, r->rx + e, r->rx_n - e);
	r->rx_n -= e - from;
	return (long)k;
}

static bool is_na(const uint8_t *p, long n)
{
	return n == 2 && p[0] == 'N' && p[1] == 'A';
}

/* ------------------------------------------------------------------ */
/* Detection (docs/harness.md "Requires")                               */

static void copy_str(char *dst, size_t cap, const uint8_t *p, long n)
{
	size_t k = 0;
	for (long i = 0; i < n && k + 1 < cap; i++)
		dst[k++] = (p[i] >= 0x20 && p[i] < 0x7F) ? (char)p[i] : '?';
	dst[k] = '\0';
}

/** Worth asking? Without an a reply every identity query is tried. */
static bool listed(const struct hrn_detect *d, uint8_t b)
{
	return !d->has_a || ((d->cmds[b >> 3] >> (b & 7)) & 1u);
}

void hrn_detect(struct hrn_run *r, bool full)
{
	struct hrn_detect *d = &r->det;
	uint8_t buf[1024];
	long n;
	if (d->done && (!full || d->measure_known))
		return;
	trace_note(r, "detect");
	const struct hrn_script *saved = r->s;
	r->s = NULL; /* every documented alert character may be skipped */
	if (!d->done) {
		*d = (struct hrn_detect){ .done = true };
		/* ULS p.3: Y -> SM puts the unit in smart mode */
		n = query(r, (const uint8_t *)"Y", 1, 2, buf, sizeof buf, true);
		if (n == -1) {
			/* one retry: a unit may drop the first byte after idle */
			n = query(r, (const uint8_t *)"Y", 1, 2, buf, sizeof buf, true);
		}
		if (n < 0) {
			if (!r->lost && !hrn_interrupted) {
				r->dead = true;
				snprintf(r->why, sizeof r->why, "no reply to Y "
					 "(smart mode, ULS p.3)");
			}
			r->s = saved;
			return;
		}
		d->smart = n == 2 && !memcmp(buf, "SM", 2);
		/* a first: what it lists is all the unit answers (ULS p.11) */
		n = query(r, (const uint8_t *)"a", 1, 128, buf, sizeof buf, true);
		/* ULS p.11: level.alerts.commands, protocol level 4 adds a
		 * fourth field (NUT-GIT) */
		if (n > 0 && !is_na(buf, n)) {
			const uint8_t *p1 = memchr(buf, '.', (size_t)n);
			const uint8_t *p2 = p1 ? memchr(p1 + 1, '.',
					(size_t)(buf + n - p1 - 1)) : NULL;
			if (p1 && p2) {
				d->has_a = true;
				copy_str(d->level, sizeof d->level, buf, p1 - buf);
				copy_str(d->alerts, sizeof d->alerts, p1 + 1,
					 p2 - p1 - 1);
				const uint8_t *e = memchr(p2 + 1, '.',
							  (size_t)(buf + n - p2 - 1));
				if (!e)
					e = buf + n;
				for (const uint8_t *c = p2 + 1; c < e; c++)
					if (!(d->cmds[*c >> 3] & (1u << (*c & 7)))) {
						d->cmds[*c >> 3] |= (uint8_t)(1u << (*c & 7));
						d->n_cmds++;
					}
				d->cmds['a' >> 3] |= (uint8_t)(1u << ('a' & 7));
			}
		}
		if (listed(d, 0x01)) {
			n = query(r, (const uint8_t *)"\x01", 1, 32, buf, sizeof buf,
				  true);
			if (n > 0 && !is_na(buf, n))
				copy_str(d->model, sizeof d->model, buf, n);
		}
		if (listed(d, 'b')) {
			n = query(r, (const uint8_t *)"b", 1, 16, buf, sizeof buf, true);
			if (n > 0 && !is_na(buf, n))
				copy_str(d->fw_b, sizeof d->fw_b, buf, n);
		}
		if (listed(d, 'V')) {
			n = query(r, (const uint8_t *)"V", 1, 3, buf, sizeof buf, true);
			if (n == 3 && !is_na(buf, n))
				copy_str(d->fw_v, sizeof d->fw_v, buf, n);
		}
		/* the family: ULS p.7 (V), p.11 (b, a) */
		bool matrix_name = strstr(d->model, "MATRIX") ||
				   strstr(d->model, "Matrix");
		/* V 0xx/5xx is a Matrix (ULS p.7), but RT XL units answer 5Yx
		 * too (facts §2.1); a Matrix has no a (ULS p.11) */
		if (matrix_name || (!d->has_a &&
				    (d->fw_v[0] == '0' || d->fw_v[0] == '5')))
			d->family = UPS_FAM_MATRIX;
		else if (d->fw_v[0] && d->fw_v[1] == 'W')
			d->family = UPS_FAM_SU3;
		else if (d->fw_v[0] && strchr("234", d->fw_v[0]))
			d->family = UPS_FAM_OLD;
		else if (d->fw_v[0])
			d->family = d->has_a ? UPS_FAM_SU3 : UPS_FAM_SU2;
		else if (d->fw_b[0])
			d->family = (strstr(d->model, "Back-UPS") ||
				     strstr(d->model, "BACK-UPS")) ?
				    UPS_FAM_BUP : UPS_FAM_VS;
	}
	if (full && !d->measure_known && !r->lost) {
		if (listed(d, 0x1A)) {
			n = query(r, (const uint8_t *)"\x1a", 1, 400, buf, sizeof buf,
				  false);
			if (n > 0 && buf[0] == '#') {
				d->has_dump = true;
				d->dump_len = (size_t)n;
				d->dump_double_hash = n > 1 && buf[1] == '#';
			}
		}
		/* Measure-UPS: v answers its firmware (ULS p.27) */
		if (listed(d, 'v')) {
			n = query(r, (const uint8_t *)"v", 1, 3, buf, sizeof buf, true);
			d->measure = n > 0 && !is_na(buf, n);
		}
		d->measure_known = true;
	}
	r->s = saved;
}

/** @return whether the target answers command byte @p b */
static bool supports(struct hrn_run *r, uint8_t b)
{
	const struct hrn_detect *d = &r->det;
	if (d->has_a)
		return (d->cmds[b >> 3] >> (b & 7)) & 1u;
	const struct cmd_def *c = cmd_lookup(b);
	if (!c)
		return false;
	if (c->flags & CF_MEASURE) {
		if (!d->measure_known)
			hrn_detect(r, true);
		if (!d->measure)
			return false;
	}
	/* Without a: a query or setting is harmless to ask, so ask it once;
	 * NA or no reply means unsupported (ULS p.2, facts §0).  Actions
	 * (A beeps, W tests the battery) go by the family's table rows. */
	if ((c->kind == CMD_QUERY || c->kind == CMD_SETTING) &&
	    !(c->flags & (CF_DESTRUCTIVE | CF_UNDOC)) && !r->lost) {
		struct hrn_detect *dw = &r->det;
		if (!((dw->probed[b >> 3] >> (b & 7)) & 1u)) {
			uint8_t buf[512];
			const struct hrn_script *saved = r->s;
			r->s = NULL;
			trace_note(r, "probe command");
			long n = query(r, &b, 1, 64, buf, sizeof buf, b != 0x1A);
			r->s = saved;
			dw->probed[b >> 3] |= (uint8_t)(1u << (b & 7));
			if (n > 0 && !is_na(buf, n))
				dw->answered[b >> 3] |= (uint8_t)(1u << (b & 7));
		}
		return (dw->answered[b >> 3] >> (b & 7)) & 1u;
	}
	return d->family && (c->families & d->family) != 0;
}

/* ------------------------------------------------------------------ */
/* EEPROM bookkeeping (docs/harness.md "EEPROM values are put back")    */

/** Learn the value of setting @p x now: from its reply in flight, or by
 *  asking.  @return true if known */
static bool learn(struct hrn_run *r, uint8_t x)
{
	struct ee_track *e = &r->ee[x & 0x7F];
	if (e->known)
		return true;
	uint8_t buf[EE_MAX];
	long n = query(r, &x, 1, 8, buf, sizeof buf, true);
	if (n < 0 || is_na(buf, n))
		return false;
	memcpy(e->last, buf, (size_t)n);
	e->last_n = (size_t)n;
	e->known = true;
	trace_note(r, "eeprom %c was %.*s", x >= 0x20 ? x : '?', (int)n,
		   (const char *)buf);
	return true;
}

static void mark_dirty(struct hrn_run *r, uint8_t x, bool entry)
{
	struct ee_track *e = &r->ee[x & 0x7F];
	if (e->dirty || !learn(r, x))
		return;
	e->dirty = true;
	e->entry = entry;
	memcpy(e->orig, e->last, e->last_n);
	e->orig_n = e->last_n;
	e->order = r->n_dirty++;
}

/** Before a z: read every editable setting so that it can be put back. */
static void snapshot_all(struct hrn_run *r)
{
	for (int b = 1; b < 128; b++) {
		const struct cmd_def *c = cmd_lookup((uint8_t)b);
		if (!c || !(c->flags & CF_EDITABLE) || r->lost)
			continue;
		if (r->det.done && !supports(r, (uint8_t)b))
			continue;
		mark_dirty(r, (uint8_t)b, false);
	}
}

/* ------------------------------------------------------------------ */
/* Steps                                                               */

static int64_t step_pace(const struct hrn_run *r, const struct hrn_step *st)
{
	if (st->pace_ms >= 0)
		return st->pace_ms;
	if (r->c && r->c->pace_ms >= 0)
		return r->c->pace_ms;
	return r->s->pace_ms;
}

static int64_t step_timeout(const struct hrn_run *r, const struct hrn_step *st,
			    size_t len)
{
	if (st->timeout_ms >= 0)
		return st->timeout_ms;
	if (r->c && r->c->timeout_ms >= 0)
		return r->c->timeout_ms;
	if (r->s->timeout_ms >= 0)
		return r->s->timeout_ms;
	return hrn_default_timeout(r->latency, len);
}

static void fail_head(struct hrn_run *r, const char *label,
		      const struct hrn_step *st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail_head(struct hrn_run *r, const char *label,
		      const struct hrn_step *st, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r->fail.n = 0;
	sb_printf(&r->fail, "%s (%s:%d): %s", label, r->s->file, st->line, msg);
	if (r->c && r->c->spec && r->c->spec[0])
		sb_printf(&r->fail, "\n  spec:     %s", r->c->spec);
	char esc[4 * SEND_MAX + 8];
	if (st->action == HRN_A_WAIT || st->action == HRN_A_FLUSH ||
	    st->action == HRN_A_ALERT)
		return; /* nothing is sent by these steps */
	if (r->sent_any)
		sb_printf(&r->fail, "\n  sent:     %s",
			  hrn_esc(r->sent, r->sent_n, esc, sizeof esc));
	else
		sb_printf(&r->fail, "\n  sent:     (nothing: the step reads a reply)");
}

static void fail_received(struct hrn_run *r, const uint8_t *p, size_t n)
{
	char esc[4 * 4096 + 8];
	if (n == 0)
		sb_printf(&r->fail, "\n  received: nothing");
	else
		sb_printf(&r->fail, "\n  received: %s",
			  hrn_esc(p, n > 4096 ? 4096 : n, esc, sizeof esc));
}

static void add_obs(struct hrn_run *r, const struct hrn_step *st,
		    enum obs_kind k, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < r->n_obs; i++) {
		struct obs *o = &r->obs[i];
		if (o->st != st)
			continue;
		if (o->kind != k || o->n != n || (n && memcmp(o->p, p, n)))
			o->conflict = true;
		return;
	}
	if (r->n_obs == r->cap_obs) {
		size_t nc = r->cap_obs ? r->cap_obs * 2 : 64;
		struct obs *no = realloc(r->obs, nc * sizeof *no);
		if (!no)
			return;
		r->obs = no;
		r->cap_obs = nc;
	}
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return;
	if (n)
		memcpy(copy, p, n);
	r->obs[r->n_obs++] = (struct obs){ st, k, copy, n, false };
}

/** A reply line was read for the step: remember it for captures and the
 *  EEPROM bookkeeping. */
static bool took_line(struct hrn_run *r, const struct hrn_step *st,
		      const uint8_t *p, size_t n)
{
	uint8_t own = r->reply_owner;
	if (own && own < 128) {
		const struct cmd_def *c = cmd_lookup(own);
		if (c && (c->flags & (CF_EDITABLE | CF_ENTRY)) && n <= EE_MAX) {
			memcpy(r->ee[own].last, p, n);
			r->ee[own].last_n = n;
			r->ee[own].known = !(n == 2 && !memcmp(p, "NA", 2));
		}
	}
	if (st->capture && hrn_vars_set(r->vars, st->capture, p, n) != UPS_OK)
		return false;
	return true;
}

/** Expand and send the step's bytes under the guard. */
static bool do_send(struct hrn_run *r, const struct hrn_step *st,
		    const char *label, uint64_t *wire_done)
{
	uint8_t buf[SEND_MAX];
	long n = hrn_expand(&st->send, r->vars, buf, sizeof buf);
	r->sent_any = true;
	r->sent_n = 0;
	if (n < 0) {
		fail_head(r, label, st, "a captured value is missing (its "
			  "step did not capture) or the bytes are too long");
		return false;
	}
	memcpy(r->sent, buf, (size_t)n);
	r->sent_n = (size_t)n;
	int64_t pace = step_pace(r, st);
	for (long i = 0; i < n; i++) {
		if (stopped(r))
			break;
		char why[200];
		struct hrn_guard before = r->guard;
		uint8_t b = buf[i];
		enum hrn_effect e = hrn_guard_feed(&r->guard, b, &r->pol, why,
						   sizeof why);
		if (e == HRN_E_REFUSED) {
			fail_head(r, label, st, "refused before sending: %s%s",
				  why, strstr(why, "documented") ? "" :
				  " (pass --allow-destructive)");
			return false;
		}
		bool data = before.data_left > 0 &&
			    !(before.at_digits && !(b >= '0' && b <= '9'));
		if (e == HRN_E_EDIT || e == HRN_E_ENTRY)
			mark_dirty(r, r->guard.setting, e == HRN_E_ENTRY);
		else if (e == HRN_E_RESET)
			snapshot_all(r);
		if (pace > 0 && i > 0)
			wait_until(r, now_ms(r) + (uint64_t)pace);
		if (stopped(r) || !write_all(r, &b, 1))
			break;
		r->reply_owner = (data || b == '-') ? 0 : b;
	}
	uint64_t wire = (uint64_t)((pace > 0 ? 1 : n) * HRN_BYTE_US / 1000);
	*wire_done = now_ms(r) + wire;
	if (r->lost) {
		fail_head(r, label, st, "%s", r->why);
		return false;
	}
	if (stopped(r)) {
		fail_head(r, label, st, "interrupted");
		return false;
	}
	return true;
}

/** The target gave nothing at all: does it still answer a Y? */
static void probe(struct hrn_run *r)
{
	if (r->lost)
		return;
	uint64_t before = r->rx_base + r->rx_n;
	trace_note(r, "probe");
	if (!write_all(r, (const uint8_t *)"Y", 1))
		return;
	uint64_t deadline = now_ms(r) + (uint64_t)r->latency + 1000;
	while (r->rx_base + r->rx_n == before && !stopped(r) &&
	       now_ms(r) < deadline)
		pump(r, deadline);
	if (r->rx_base + r->rx_n == before && !hrn_interrupted) {
		r->dead = true;
		snprintf(r->why, sizeof r->why, "the target does not answer: "
			 "no reply to a step, nor to a Y probe after it");
		return;
	}
	/* it answered: the probe's reply is no step's */
	wait_line(r, 0, now_ms(r) + (uint64_t)r->latency + 1000);
	for (size_t i = 0; i < r->rx_n; i++)
		if (is_alert(r, r->rx[i]))
			record_alert(r, r->rx[i]);
	consume(r, r->rx_n);
}

static void exp_text(struct hrn_run *r, const struct hrn_step *st,
		     struct sb *b)
{
	char esc[4 * 1024 + 8];
	uint8_t buf[1024];
	switch (st->expect) {
	case HRN_X_EXACT:
	case HRN_X_RAW:
	case HRN_X_DIFFERS: {
		long n = hrn_expand(&st->alts[0], r->vars, buf, sizeof buf - 2);
		if (n < 0)
			n = 0;
		if (st->expect == HRN_X_EXACT) {
			buf[n++] = '\r';
			buf[n++] = '\n';
		}
		sb_printf(b, "%s%s", st->expect == HRN_X_DIFFERS ?
			  "anything but " : "", hrn_esc(buf, (size_t)n, esc,
							sizeof esc));
		break;
	}
	case HRN_X_ONE_OF:
		sb_printf(b, "one of");
		for (size_t i = 0; i < st->n_alts; i++) {
			long n = hrn_expand(&st->alts[i], r->vars, buf,
					    sizeof buf - 2);
			if (n < 0)
				n = 0;
			buf[n++] = '\r';
			buf[n++] = '\n';
			sb_printf(b, "%s %s", i ? "," : "",
				  hrn_esc(buf, (size_t)n, esc, sizeof esc));
		}
		break;
	case HRN_X_MATCH:
		sb_printf(b, "a line matching /%s/", st->re_src);
		break;
	case HRN_X_SILENCE:
		sb_printf(b, "silence");
		break;
	case HRN_X_NONE:
		sb_printf(b, "a reply line");
		break;
	}
}

/** Record mode: observe what the unit says instead of checking it. */
static bool observe(struct hrn_run *r, const struct hrn_step *st,
		    uint64_t start)
{
	if (st->expect == HRN_X_SILENCE) {
		int64_t d = st->silence_ms ? st->silence_ms : r->latency;
		wait_until(r, start + (uint64_t)d);
		size_t k = 0;
		for (size_t i = 0; i < r->rx_n; i++)
			if (!is_alert(r, r->rx[i]))
				k++;
		if (k == 0) {
			for (size_t i = 0; i < r->rx_n; i++)
				record_alert(r, r->rx[i]);
			add_obs(r, st, OBS_SILENCE, NULL, 0);
		} else {
			add_obs(r, st, OBS_RAW, r->rx, r->rx_n);
		}
		consume(r, r->rx_n);
		return !stopped(r);
	}
	int64_t t = step_timeout(r, st, HRN_UNKNOWN_LEN);
	if (st->expect == HRN_X_RAW) {
		/* until quiet for the latency, at most the timeout */
		uint64_t end = start + (uint64_t)t;
		size_t seen = r->rx_n;
		uint64_t quiet = now_ms(r) + (uint64_t)r->latency;
		while (!stopped(r) && now_ms(r) < end &&
		       (r->rx_n == 0 || now_ms(r) < quiet)) {
			pump(r, r->rx_n ? quiet : end);
			if (r->rx_n != seen) {
				seen = r->rx_n;
				quiet = now_ms(r) + (uint64_t)r->latency;
			}
		}
		add_obs(r, st, r->rx_n ? OBS_RAW : OBS_SILENCE, r->rx, r->rx_n);
		consume(r, r->rx_n);
		return !stopped(r);
	}
	long lf = wait_line(r, 0, start + (uint64_t)t);
	if (lf < 0) {
		add_obs(r, st, r->rx_n ? OBS_RAW : OBS_SILENCE, r->rx, r->rx_n);
		consume(r, r->rx_n);
		if (!stopped(r) && !r->rx_n)
			probe(r);
		return !stopped(r) && !r->dead;
	}
	size_t len = (size_t)lf + 1;
	uint8_t *kept = malloc(len + 2), *skipped = calloc(len, 1);
	size_t kn = 0;
	if (!kept || !skipped) {
		free(kept);
		free(skipped);
		return false;
	}
	bool matched = false;
	/* the reply as the script's own expectation sees it, if it does */
	if (st->expect == HRN_X_EXACT || st->expect == HRN_X_ONE_OF) {
		for (size_t a = 0; a < st->n_alts && !matched; a++) {
			uint8_t e[1024];
			long en = hrn_expand(&st->alts[a], r->vars, e, sizeof e - 2);
			if (en < 0)
				continue;
			e[en++] = '\r';
			e[en++] = '\n';
			size_t used = 0;
			if (hrn_match_exact(r->rx, len, e, (size_t)en, alerts_of(r),
					    &used, skipped, NULL) == HRN_M_OK &&
			    used == len) {
				matched = true;
				for (size_t i = 0; i < len; i++)
					if (!skipped[i])
						kept[kn++] = r->rx[i];
			}
		}
	} else if (st->expect == HRN_X_MATCH && len >= 2) {
		long g0, g1;
		size_t cl = len - (r->rx[len - 2] == '\r' ? 2 : 1);
		matched = hrn_match_regex(st->re, r->rx, cl, alerts_of(r), kept,
					  &kn, &g0, &g1);
		if (matched) {
			kept[kn++] = '\r';
			kept[kn++] = '\n';
		}
	}
	if (!matched) {
		size_t s = 0;
		while (s < len && is_alert(r, r->rx[s]))
			s++;
		kn = len - s;
		memcpy(kept, r->rx + s, kn);
	}
	bool crlf = kn >= 2 && kept[kn - 2] == '\r' && kept[kn - 1] == '\n';
	if (crlf)
		add_obs(r, st, OBS_LINE, kept, kn - 2);
	else
		add_obs(r, st, OBS_RAW, kept, kn);
	bool ok = took_line(r, st, kept, crlf ? kn - 2 : kn);
	consume(r, len);
	free(kept);
	free(skipped);
	return ok && !stopped(r);
}

/** Check the step's expectation (or capture) against what arrives. */
static bool expect_step(struct hrn_run *r, const struct hrn_step *st,
			const char *label, uint64_t start)
{
	uint64_t rx_mark = r->rx_base + r->rx_n;
	if (r->o->record && !st->keep)
		return observe(r, st, start);
	struct sb exp = { 0 };
	bool ok = false;
	switch (st->expect) {
	case HRN_X_SILENCE: {
		int64_t d = st->silence_ms ? st->silence_ms : r->latency;
		wait_until(r, start + (uint64_t)d);
		size_t bad = 0;
		for (size_t i = 0; i < r->rx_n; i++)
			bad += !is_alert(r, r->rx[i]);
		if (stopped(r)) {
			fail_head(r, label, st, "%s", r->lost ? r->why :
				  "interrupted");
			break;
		}
		if (bad) {
			fail_head(r, label, st, "expected silence for %lldms",
				  (long long)d);
			fail_received(r, r->rx, r->rx_n);
		} else {
			for (size_t i = 0; i < r->rx_n; i++)
				record_alert(r, r->rx[i]);
			ok = true;
		}
		consume(r, r->rx_n);
		break;
	}
	case HRN_X_EXACT:
	case HRN_X_ONE_OF:
	case HRN_X_RAW: {
		size_t na = st->n_alts, longest = 0;
		uint8_t *e[64] = { 0 };
		size_t en[64];
		for (size_t a = 0; a < na; a++) {
			e[a] = malloc(SEND_MAX + 2);
			long n = e[a] ? hrn_expand(&st->alts[a], r->vars, e[a],
						   SEND_MAX) : -1;
			if (n < 0)
				n = 0;
			if (st->expect != HRN_X_RAW) {
				e[a][n++] = '\r';
				e[a][n++] = '\n';
			}
			en[a] = (size_t)n;
			if (en[a] > longest)
				longest = en[a];
		}
		int64_t t = step_timeout(r, st, longest);
		uint64_t deadline = start + (uint64_t)t;
		int hit = -1;
		size_t used = 0, nfail = 0;
		for (;;) {
			nfail = 0;
			for (size_t a = 0; a < na && hit < 0; a++) {
				enum hrn_mres m = hrn_match_exact(
					r->rx, r->rx_n, e[a], en[a], alerts_of(r),
					&used, NULL, NULL);
				if (m == HRN_M_OK)
					hit = (int)a;
				else if (m == HRN_M_FAIL)
					nfail++;
			}
			if (hit >= 0 || nfail == na || stopped(r) ||
			    now_ms(r) >= deadline)
				break;
			pump(r, deadline);
		}
		if (hit >= 0) {
			uint8_t *sk = calloc(used ? used : 1, 1);
			hrn_match_exact(r->rx, used, e[hit], en[hit], alerts_of(r),
					&used, sk, NULL);
			for (size_t i = 0; sk && i < used; i++)
				if (sk[i])
					record_alert(r, r->rx[i]);
			free(sk);
			size_t cl = en[hit] - (st->expect == HRN_X_RAW ? 0 : 2);
			ok = took_line(r, st, e[hit], cl);
			consume(r, used);
		} else {
			if (nfail == na && st->expect != HRN_X_RAW)
				/* show the whole line that went wrong */
				wait_line(r, 0, now_ms(r) + (uint64_t)r->latency);
			long lf = find_lf(r, 0);
			size_t shown = lf >= 0 ? (size_t)lf + 1 : r->rx_n;
			if (stopped(r))
				fail_head(r, label, st, "%s", r->lost ? r->why :
					  "interrupted");
			else if (nfail == na)
				fail_head(r, label, st, "the reply differs");
			else if (r->rx_n == 0)
				fail_head(r, label, st, "no reply within %lldms",
					  (long long)t);
			else
				fail_head(r, label, st, "incomplete reply "
					  "within %lldms", (long long)t);
			exp_text(r, st, &exp);
			sb_printf(&r->fail, "\n  expected: %s", exp.p ? exp.p : "");
			fail_received(r, r->rx, shown);
			consume(r, shown);
		}
		for (size_t a = 0; a < na; a++)
			free(e[a]);
		break;
	}
	case HRN_X_MATCH:
	case HRN_X_DIFFERS:
	case HRN_X_NONE: {
		int64_t t = step_timeout(r, st, HRN_UNKNOWN_LEN);
		long lf = wait_line(r, 0, start + (uint64_t)t);
		if (lf < 0) {
			if (stopped(r))
				fail_head(r, label, st, "%s", r->lost ? r->why :
					  "interrupted");
			else
				fail_head(r, label, st, "no complete reply line "
					  "within %lldms", (long long)t);
			exp_text(r, st, &exp);
			sb_printf(&r->fail, "\n  expected: %s", exp.p ? exp.p : "");
			fail_received(r, r->rx, r->rx_n);
			consume(r, r->rx_n);
			break;
		}
		size_t len = (size_t)lf + 1;
		if (len < 2 || r->rx[len - 2] != '\r') {
			fail_head(r, label, st, "the reply is not terminated by "
				  "CR LF");
			exp_text(r, st, &exp);
			sb_printf(&r->fail, "\n  expected: %s", exp.p ? exp.p : "");
			fail_received(r, r->rx, len);
			consume(r, len);
			break;
		}
		size_t cl = len - 2;
		uint8_t *kept = malloc(cl + 1);
		size_t kn = 0;
		long g0 = -1, g1 = -1;
		if (!kept)
			break;
		if (st->expect == HRN_X_MATCH) {
			ok = hrn_match_regex(st->re, r->rx, cl, alerts_of(r), kept,
					     &kn, &g0, &g1);
		} else {
			size_t s = 0;
			while (s < cl && is_alert(r, r->rx[s]))
				s++;
			kn = cl - s;
			memcpy(kept, r->rx + s, kn);
			ok = true;
			if (st->expect == HRN_X_DIFFERS) {
				uint8_t e[SEND_MAX];
				long en = hrn_expand(&st->alts[0], r->vars, e,
						     sizeof e);
				ok = !(en >= 0 && (size_t)en == kn &&
				       !memcmp(e, kept, kn));
			}
		}
		if (ok) {
			/* the characters taken out were alerts */
			size_t j = 0;
			for (size_t i = 0; i < cl; i++) {
				if (j < kn && r->rx[i] == kept[j])
					j++;
				else
					record_alert(r, r->rx[i]);
			}
			if (st->expect == HRN_X_MATCH && g0 >= 0 && st->capture)
				ok = took_line(r, st, kept + g0, (size_t)(g1 - g0));
			else
				ok = took_line(r, st, kept, kn);
		} else {
			fail_head(r, label, st, st->expect == HRN_X_DIFFERS ?
				  "the reply did not change" :
				  "the reply does not match");
			exp_text(r, st, &exp);
			sb_printf(&r->fail, "\n  expected: %s", exp.p ? exp.p : "");
			fail_received(r, r->rx, len);
		}
		free(kept);
		consume(r, len);
		break;
	}
	}
	free(exp.p);
	/* nothing at all since the send: is the target still there? */
	if (!ok && !stopped(r) && r->rx_base + r->rx_n == rx_mark &&
	    st->expect != HRN_X_SILENCE && !r->in_restore)
		probe(r);
	return ok;
}

static bool do_alert(struct hrn_run *r, const struct hrn_step *st,
		     const char *label)
{
	uint64_t deadline = now_ms(r) + (uint64_t)st->within_ms;
	for (const char *c = st->alerts; *c; c++) {
		bool got = false;
		while (!got) {
			for (size_t i = 0; i < r->n_al && !got; i++)
				if (!r->al[i].claimed && r->al[i].c == (uint8_t)*c)
					got = r->al[i].claimed = true;
			/* alert characters waiting in the input */
			for (size_t i = 0; i < r->rx_n && !got; i++)
				if (r->rx[i] == (uint8_t)*c) {
					record_alert(r, r->rx[i]);
					r->al[r->n_al - 1].claimed = true;
					memmove(r->rx + i, r->rx + i + 1,
						r->rx_n - i - 1);
					r->rx_n--;
					got = true;
				}
			if (got || stopped(r) || now_ms(r) >= deadline)
				break;
			pump(r, deadline);
		}
		if (!got) {
			r->sent_any = false;
			fail_head(r, label, st, "%s", stopped(r) ?
				  (r->lost ? r->why : "interrupted") :
				  "the alert did not come");
			char ch[2] = { *c, 0 };
			sb_printf(&r->fail, "\n  expected: alert \"%s\" within "
				  "%lldms", ch, (long long)st->within_ms);
			fail_received(r, r->rx, r->rx_n);
			return false;
		}
	}
	return true;
}

static bool exec_steps(struct hrn_run *r, const struct hrn_step *st, size_t n,
		       const char *prefix);

static bool exec_step(struct hrn_run *r, const struct hrn_step *st,
		      const char *label)
{
	if (stopped(r)) {
		fail_head(r, label, st, "%s", r->lost ? r->why : "interrupted");
		return false;
	}
	r->sent_any = false;
	uint64_t start = now_ms(r);
	switch (st->action) {
	case HRN_A_SEND:
		if (!do_send(r, st, label, &start))
			return false;
		break;
	case HRN_A_ALERT:
		return do_alert(r, st, label);
	case HRN_A_WAIT:
		wait_until(r, start + (uint64_t)st->wait_ms);
		break;
	case HRN_A_FLUSH:
		wait_until(r, start + (uint64_t)st->wait_ms);
		for (size_t i = 0; i < r->rx_n; i++)
			if (is_alert(r, r->rx[i]))
				record_alert(r, r->rx[i]);
		consume(r, r->rx_n);
		break;
	case HRN_A_REPEAT:
		for (int k = 0; k < st->repeat; k++) {
			char sub[96];
			snprintf(sub, sizeof sub, "%s.", label);
			if (!exec_steps(r, st->sub, st->n_sub, sub)) {
				sb_printf(&r->fail, "\n  (round %d of %d)", k + 1,
					  st->repeat);
				return false;
			}
		}
		return true;
	case HRN_A_NONE:
		break;
	}
	if (stopped(r)) {
		fail_head(r, label, st, "%s", r->lost ? r->why : "interrupted");
		return false;
	}
	if (st->expect != HRN_X_NONE || st->capture)
		return expect_step(r, st, label, start);
	return true;
}

static bool exec_steps(struct hrn_run *r, const struct hrn_step *st, size_t n,
		       const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		char label[80];
		if (snprintf(label, sizeof label, "%s%zu", prefix, i + 1) >=
		    (int)sizeof label)
			label[sizeof label - 1] = '\0';
		if (!exec_step(r, &st[i], label))
			return false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static char *fmt_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *fmt_alloc(const char *fmt, ...)
{
	struct sb b = { 0 };
	va_list ap;
	va_start(ap, fmt);
	char tmp[1024];
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	sb_printf(&b, "%s", tmp);
	return b.p ? b.p : xstrdup("");
}

static char *support_reason(struct hrn_run *r, const struct hrn_case *c);

/** Why the case does not apply to this target, or NULL. */
static char *skip_reason(struct hrn_run *r, const struct hrn_script *s,
			 const struct hrn_case *c)
{
	if (c->skip)
		return xstrdup(c->skip);
	char *why = support_reason(r, c);
	if (why || r->dead)
		return why;
	struct ups_diag d = { 0 };
	if (hrn_case_check(s, c, &r->pol, &d) != UPS_OK) {
		/* conform: a case the safety rules forbid here is skipped */
		const char *m = strstr(d.msg, "sends ");
		return fmt_alloc("not on this target: %s", m ? m + 6 : d.msg);
	}
	return NULL;
}

/** Why the target cannot run the case (requires, family), or NULL. */
static char *support_reason(struct hrn_run *r, const struct hrn_case *c)
{
	if (!c->families && !c->has_requires && !c->req_measure)
		return NULL;
	hrn_detect(r, c->req_measure);
	if (r->dead)
		return NULL;
	if (c->families && !(c->families & r->det.family)) {
		char fams[64] = "";
		size_t o = 0;
		for (unsigned f = 1; f <= UPS_FAM_BUP; f <<= 1)
			if (c->families & f)
				o += (size_t)snprintf(fams + o, sizeof fams - o,
						      "%s%s", o ? ", " : "",
						      hrn_family_name(f));
		return fmt_alloc("target family is %s; the case is for %s",
				 r->det.family ? hrn_family_name(r->det.family) :
				 "unknown", fams);
	}
	if (c->req_measure) {
		if (!r->det.measure_known)
			hrn_detect(r, true);
		if (!r->det.measure)
			return xstrdup("no Measure-UPS attached (v answers NA)");
	}
	char missing[256] = "";
	size_t o = 0;
	for (int b = 0; b < 256; b++) {
		if (!((c->requires[b >> 3] >> (b & 7)) & 1u) ||
		    supports(r, (uint8_t)b))
			continue;
		char nm[8];
		cmd_byte_name((uint8_t)b, nm);
		if (o < sizeof missing - 12)
			o += (size_t)snprintf(missing + o, sizeof missing - o,
					      "%s%s", o ? " " : "", nm);
	}
	if (o)
		return fmt_alloc("target does not support %s%s", missing,
				 r->det.has_a ? "" :
				 " (no a reply: queries and settings answered "
				 "NA or nothing; actions go by the family's "
				 "command-table rows)");
	return NULL;
}

static char *alerts_text(const struct hrn_run *r)
{
	struct sb b = { 0 };
	for (size_t i = 0; i < r->n_al; i++)
		sb_printf(&b, "%s\"%c\" at %.3fs", i ? ", " : "", r->al[i].c,
			  (double)(r->al[i].at - r->t0) / 1000.0);
	return b.p ? b.p : xstrdup("");
}

static void run_case(struct hrn_run *r, const struct hrn_script *s,
		     const struct hrn_case *c, struct hrn_result *res)
{
	*res = (struct hrn_result){ .s = s, .c = c, .status = HRN_NOTRUN };
	uint64_t t = now_ms(r);
	r->s = s;
	r->c = NULL;
	r->latency = r->o->latency_ms >= 0 ? r->o->latency_ms : s->latency_ms;
	char *why = skip_reason(r, s, c);
	if (r->dead) {
		free(why);
		return;
	}
	if (why) {
		res->status = HRN_SKIP;
		res->message = why;
		res->summary = xstrdup(why);
		res->alerts = xstrdup("");
		trace_note(r, "skip %s/%s", s->suite, c->name);
		return;
	}
	trace_note(r, "case %s/%s", s->suite, c->name);
	r->c = c;
	r->n_al = 0;
	hrn_vars_clear(r->vars);
	r->guard = (struct hrn_guard){ 0 };
	r->reply_owner = 0;
	/* input nobody read belongs to no step of this case */
	for (size_t i = 0; i < r->rx_n; i++)
		if (is_alert(r, r->rx[i]))
			record_alert(r, r->rx[i]);
	consume(r, r->rx_n);
	r->fail.n = 0;
	bool ok = exec_steps(r, s->setup, s->n_setup, "setup step ") &&
		  exec_steps(r, c->steps, c->n_steps, "step ");
	for (size_t i = 0; i < r->rx_n; i++)
		if (is_alert(r, r->rx[i]))
			record_alert(r, r->rx[i]);
	res->secs = (double)(now_ms(r) - t) / 1000.0;
	res->alerts = alerts_text(r);
	if (ok) {
		res->status = HRN_PASS;
	} else {
		res->status = r->dead && !r->fail.n ? HRN_NOTRUN : HRN_FAIL;
		res->message = xstrdup(r->fail.p ? r->fail.p : "failed");
		char *nl = strchr(res->message, '\n');
		res->summary = nl ? fmt_alloc("%.*s", (int)(nl - res->message),
					      res->message) :
				    xstrdup(res->message);
	}
	r->c = NULL;
}

static bool selected(const struct hrn_options *o, const struct hrn_script *s,
		     const struct hrn_case *c)
{
	if (!o->case_filter)
		return true;
	char full[160];
	snprintf(full, sizeof full, "%s/%s", s->suite, c->name);
	return !strcmp(o->case_filter, c->name) || !strcmp(o->case_filter, full) ||
	       (strchr(o->case_filter, '*') &&
		(!fnmatch(o->case_filter, c->name, 0) ||
		 !fnmatch(o->case_filter, full, 0)));
}

void hrn_run_scripts(struct hrn_run *r, struct hrn_script **scripts,
		     size_t n_scripts, struct hrn_result *res, size_t *n_res)
{
	size_t total = 0, done = 0;
	for (size_t i = 0; i < n_scripts; i++)
		for (size_t j = 0; j < scripts[i]->n_cases; j++)
			total += selected(r->o, scripts[i], &scripts[i]->cases[j]);
	bool progress = total > 10 && isatty(2) && !r->o->quiet;
	uint64_t t0 = now_ms(r);
	for (size_t i = 0; i < n_scripts; i++) {
		for (size_t j = 0; j < scripts[i]->n_cases; j++) {
			const struct hrn_case *c = &scripts[i]->cases[j];
			if (!selected(r->o, scripts[i], c))
				continue;
			struct hrn_result *cur = &res[(*n_res)++];
			if (stopped(r) || r->dead) {
				*cur = (struct hrn_result){ .s = scripts[i], .c = c,
							    .status = HRN_NOTRUN };
				continue;
			}
			if (progress) {
				double el = (double)(now_ms(r) - t0) / 1000.0;
				double left = done ? el / (double)done *
					      (double)(total - done) : 0;
				if (done)
					fprintf(stderr, "\r\033[Kcase %zu/%zu, %.1fs "
						"elapsed, about %.0fs left", done + 1,
						total, el, left);
				else
					fprintf(stderr, "\r\033[Kcase 1/%zu", total);
				fflush(stderr);
			}
			run_case(r, scripts[i], c, cur);
			done++;
			if (progress) {
				fprintf(stderr, "\r\033[K");
				fflush(stderr);
			}
			if (!r->o->tap && cur->status != HRN_NOTRUN &&
			    (!r->o->quiet || cur->status == HRN_FAIL))
				hrn_report_case(r->o->human, cur);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Restore                                                             */

static bool same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	return an == bn && !memcmp(a, b, an);
}

static bool restore_one(struct hrn_run *r, uint8_t x, struct ee_track *e,
			char *msg, size_t msglen)
{
	uint8_t v[EE_MAX];
	long n = query(r, &x, 1, 8, v, sizeof v, true);
	char nm[8];
	cmd_byte_name(x, nm);
	if (n >= 0 && same(v, (size_t)n, e->orig, e->orig_n))
		return true;
	if (e->entry) {
		/* ULS p.17-18: the setting, -, then the text; OK after it */
		uint8_t buf[EE_MAX];
		if (query(r, &x, 1, 8, buf, sizeof buf, true) == -2 ||
		    !write_all(r, (const uint8_t *)"-", 1))
			goto gone;
		/* c and x take 8 characters (ULS p.17-18); a shorter value is
		 * typed as NUT types it, padded with CRs, which units that
		 * read back what was typed store as the text alone */
		uint8_t text[EE_MAX];
		size_t tn = e->orig_n < sizeof text ? e->orig_n : sizeof text;
		memcpy(text, e->orig, tn);
		while ((x == 'c' || x == 'x') && tn < 8 && tn < sizeof text)
			text[tn++] = '\r';
		for (size_t i = 0; i < tn; i++) {
			wait_until(r, now_ms(r) + 50); /* NUT paces 50 ms */
			if (i + 1 < tn) {
				if (!write_all(r, &text[i], 1))
					goto gone;
			} else if (query(r, &text[i], 1, 2, buf, sizeof buf,
					 true) == -2) {
				goto gone;
			}
		}
		n = query(r, &x, 1, 8, v, sizeof v, true);
	} else {
		/* ULS p.16: - selects the next value; the list wraps */
		for (int k = 0; k < RESTORE_PRESSES && n >= 0 &&
		     !same(v, (size_t)n, e->orig, e->orig_n); k++) {
			uint8_t ok[8];
			long m = query(r, (const uint8_t *)"-", 1, 2, ok, sizeof ok, true);
			if (m != 2 || memcmp(ok, "OK", 2)) {
				char esc[64];
				snprintf(msg, msglen, "%s: - answered %s", nm,
					 m < 0 ? "nothing" :
					 hrn_esc(ok, (size_t)m, esc, sizeof esc));
				return false;
			}
			n = query(r, &x, 1, 8, v, sizeof v, true);
		}
	}
	if (n >= 0 && same(v, (size_t)n, e->orig, e->orig_n))
		return true;
	{
		char a[64], b[64];
		snprintf(msg, msglen, "%s is %s, was %s before the run", nm,
			 n < 0 ? "unreadable" : hrn_esc(v, (size_t)n, a, sizeof a),
			 hrn_esc(e->orig, e->orig_n, b, sizeof b));
	}
	return false;
gone:
	if (snprintf(msg, msglen, "%s: %s", nm, r->why) >= (int)msglen)
		msg[msglen - 1] = '\0';
	return false;
}

int hrn_restore(struct hrn_run *r)
{
	if (!r->n_dirty)
		return 0;
	r->in_restore = true;
	r->s = NULL;
	trace_note(r, "restore");
	int failed = 0;
	if (r->dead) {
		fprintf(r->o->human, "restore: %d EEPROM value(s) changed by the "
			"run could not be put back: %s\n", r->n_dirty, r->why);
		return r->n_dirty;
	}
	consume(r, r->rx_n);
	uint8_t buf[16];
	/* smart mode first: a script may have left it with R */
	long n = query(r, (const uint8_t *)"Y", 1, 2, buf, sizeof buf, true);
	(void)n;
	for (int ord = 0; ord < r->n_dirty; ord++) {
		for (int x = 0; x < 128; x++) {
			struct ee_track *e = &r->ee[x];
			if (!e->dirty || e->order != ord)
				continue;
			char msg[256] = "";
			if (hrn_interrupted > 1 || r->lost) {
				if (snprintf(msg, sizeof msg, "not tried (%s)",
					     r->lost ? r->why : "interrupted again") >=
				    (int)sizeof msg)
					msg[sizeof msg - 1] = '\0';
			} else if (restore_one(r, (uint8_t)x, e, msg, sizeof msg)) {
				trace_note(r, "restored %c", x >= 0x20 ? x : '?');
				continue;
			}
			failed++;
			char nm[8];
			fprintf(r->o->human, "restore: %s not restored: %s\n",
				cmd_byte_name((uint8_t)x, nm), msg);
		}
	}
	if (!failed && !r->o->quiet && !r->o->tap)
		fprintf(r->o->human, "restore: %d EEPROM value(s) the run "
			"changed are back as they were\n", r->n_dirty);
	r->restore_failed = failed;
	r->in_restore = false;
	return failed;
}

/* ------------------------------------------------------------------ */
/* Record mode: the observations                                       */

bool hrn_run_observed(const struct hrn_run *r, const struct hrn_step *st,
		      int *kind, const uint8_t **p, size_t *n, bool *conflict)
{
	for (size_t i = 0; i < r->n_obs; i++)
		if (r->obs[i].st == st) {
			*kind = (int)r->obs[i].kind;
			*p = r->obs[i].p;
			*n = r->obs[i].n;
			*conflict = r->obs[i].conflict;
			return true;
		}
	return false;
}
