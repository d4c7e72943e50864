/*
 * engine.c - one unit on one transport (see engine.h).  The trace format
 * is the project's one format for recorded bytes: a line per event,
 * "<seconds.millis> <rx|tx> \"<C-escaped bytes>\"".
 */
#include "upssim/engine.h"

#include <stdlib.h>
#include <string.h>

#include "upssim/lint.h"
#include "upssim/trace.h"

/* Output nobody reads is bounded where it is queued: after every small
 * piece of input the queue is cut back to OUT_MAX (oldest bytes go, as a
 * real line would lose them in the host's full buffer).  Input is read at
 * most READ_MAX bytes per wake-up, so a flood cannot starve timers or
 * signals, and is fed FEED_CHUNK bytes at a time, so the queue can exceed
 * OUT_MAX by at most FEED_CHUNK of the longest replies. */
#define OUT_MAX (64 * 1024)
#define READ_MAX 4096
#define FEED_CHUNK 16
#define RETRY_MS 50
/* One byte on a 2400 bit/s 8N1 line: 10 bits (ULS §2.1), in microseconds */
#define BYTE_US 4167u

/* Output not yet sent, in the order produced; each piece may leave only
 * after its release time (the profile's reply delay). */
struct seg {
	size_t len;
	uint64_t at;     /* wall ms: the line's timing is real time */
};

struct engine {
	struct evl *l;
	struct transport *t;
	struct ups *u;
	struct ups_buf out;
	long long timer;
	uint64_t timer_at;
	FILE *trace;
	FILE *trace2;       /* --trace FILE (engine_set_trace_file) */
	uint8_t start[64];  /* what engine_new sent (the power-on alert), for */
	size_t nstart;      /* a trace file attached after it */
	uint64_t start_t;
	struct lint *lint;  /* engine_lint(): the host lint, or NULL */
	const char *lost;   /* why the transport is gone, NULL while fine */
	/* pacing (profile timing.reply_delay / timing.pace) */
	bool paced;
	struct seg *segs;
	size_t nseg, capseg;
	uint64_t line_free_us; /* when the simulated line is idle again */
	long long out_timer;
	size_t dropped;     /* output bytes cut since the last trace note */
	long long retry_timer;
	/* hosts */
	bool can_tell;      /* the transport reports host opens */
	int attached;
	engine_observer obs;
	void *obs_ctx;
	/* wire faults (scenario.h) */
	uint64_t silent_until; /* model ms: nothing passes either way */
	bool comms_lost;
	uint32_t extra_delay_ms;
	int drop_n, corrupt_n;
	bool split_pending;
	uint64_t split_ms;
	int alert_inside;   /* byte to put inside the next reply, -1: none */
};

static void observe(struct engine *e, const char *what)
{
	if (e->obs)
		e->obs(e->obs_ctx, what);
}

/* The wire is quiet (WIRE_SILENCE, WIRE_COMMS_LOST): nothing passes. */
static bool silent(const struct engine *e)
{
	return e->comms_lost || evl_now(e->l) < e->silent_until;
}

/* One formatted line to every trace sink (-v and --trace FILE). */
static void trace_put(struct engine *e, const char *line, size_t n)
{
	FILE *f[2] = { e->trace, e->trace2 };
	for (int i = 0; i < 2; i++) {
		if (!f[i])
			continue;
		fwrite(line, 1, n, f[i]);
		fflush(f[i]);
	}
}

static void trace(struct engine *e, const char *dir, const uint8_t *p, size_t n)
{
	if ((!e->trace && !e->trace2) || !n)
		return;
	/* at most TRACE_CHUNK bytes a line: a long write is never cut */
	char buf[TRACE_CHUNK * 4 + 64];
	for (size_t off = 0; off < n; off += TRACE_CHUNK) {
		size_t k = n - off < TRACE_CHUNK ? n - off : TRACE_CHUNK;
		size_t len = trace_format_bytes(buf, sizeof buf, evl_now(e->l),
						dir[0] == 'r' ? TRACE_RX : TRACE_TX,
						p + off, k, NULL);
		trace_put(e, buf, len < sizeof buf ? len : sizeof buf - 1);
	}
}

static void trace_note(struct engine *e, const char *what, size_t n)
{
	if (!e->trace && !e->trace2)
		return;
	char text[1024], buf[1100];
	if (n)
		snprintf(text, sizeof text, "%s %zu", what, n);
	else
		snprintf(text, sizeof text, "%s", what);
	size_t len = trace_format_note(buf, sizeof buf, evl_now(e->l), text);
	trace_put(e, buf, len < sizeof buf ? len : sizeof buf - 1);
}

static void on_io(struct evl *l, int fd, int mask, void *arg);

/* The transport (or memory) is gone for good: stop the loop. */
static void fail(struct engine *e, const char *why)
{
	if (e->lost)
		return;
	e->lost = why;
	evl_unwatch(e->l, e->t->ops->fd(e->t));
	evl_stop(e->l);
}
static int64_t on_timer(struct evl *l, long long id, void *arg);
static int64_t on_out_timer(struct evl *l, long long id, void *arg);
static int64_t on_retry(struct evl *l, long long id, void *arg);

/* Bytes the unit produced since e->out.len was @p before leave at now +
 * reply delay.  Only used when pacing. */
static void mark(struct engine *e, size_t before)
{
	if (!e->paced || e->out.len <= before)
		return;
	uint64_t at = evl_wall(e->l) + ups_profile(e->u)->reply_delay_ms +
		      e->extra_delay_ms;
	if (e->split_pending && e->out.len - before >= 2) {
		/* WIRE_SPLIT: the first half now, the rest split_ms later */
		size_t half = (e->out.len - before) / 2;
		size_t end = e->out.len;
		e->split_pending = false;
		e->out.len = before + half;
		mark(e, before);
		e->out.len = end;
		if (e->nseg == e->capseg) {
			size_t cap = e->capseg ? e->capseg * 2 : 16;
			struct seg *n = realloc(e->segs, cap * sizeof *n);
			if (!n)
				return;
			e->segs = n;
			e->capseg = cap;
		}
		e->segs[e->nseg++] = (struct seg){ end - before - half, at + e->split_ms };
		return;
	}
	if (e->nseg && e->segs[e->nseg - 1].at == at) {
		e->segs[e->nseg - 1].len += e->out.len - before;
		return;
	}
	if (e->nseg == e->capseg) {
		size_t cap = e->capseg ? e->capseg * 2 : 16;
		struct seg *n = realloc(e->segs, cap * sizeof *n);
		if (!n) { /* cannot keep the timing: send at once from now on */
			e->paced = false;
			e->nseg = 0;
			return;
		}
		e->segs = n;
		e->capseg = cap;
	}
	e->segs[e->nseg++] = (struct seg){ e->out.len - before, at };
}

/* Forget @p n bytes from the front of the output and its segments. */
static void drop_front(struct engine *e, size_t n)
{
	ups_buf_consume(&e->out, n);
	while (n && e->nseg) {
		size_t k = n < e->segs[0].len ? n : e->segs[0].len;
		e->segs[0].len -= k;
		n -= k;
		if (!e->segs[0].len) {
			memmove(e->segs, e->segs + 1, --e->nseg * sizeof *e->segs);
		}
	}
}

/* Keep the queue within OUT_MAX; say so in the trace. */
static void bound_out(struct engine *e)
{
	if (e->out.len <= OUT_MAX)
		return;
	size_t cut = e->out.len - OUT_MAX;
	drop_front(e, cut);
	e->dropped += cut;
}

/* Forget all queued output (it was meant for a host that is gone). */
static void drop_all(struct engine *e)
{
	drop_front(e, e->out.len);
	e->nseg = 0;
	e->line_free_us = 0;
}

/* How many bytes may be written now, and when the next may go. */
static size_t sendable(struct engine *e, uint64_t now, uint64_t *next)
{
	*next = UPS_NEVER;
	if (!e->paced)
		return e->out.len;
	if (!e->nseg)
		return 0;
	uint64_t start_us = e->segs[0].at * 1000;
	if (ups_profile(e->u)->pace && e->line_free_us > start_us)
		start_us = e->line_free_us;
	if (start_us > now * 1000) {
		*next = (start_us + 999) / 1000;
		return 0;
	}
	if (!ups_profile(e->u)->pace)
		return e->segs[0].len;
	size_t k = 1 + (size_t)((now * 1000 - start_us) / BYTE_US);
	return k < e->segs[0].len ? k : e->segs[0].len;
}

static void flush_out(struct engine *e)
{
	if (e->lost)
		return;
	bool blocked = false;
	uint64_t now = evl_wall(e->l), next = UPS_NEVER;
	bound_out(e);
	if (e->dropped) {
		trace_note(e, "dropped", e->dropped);
		e->dropped = 0;
	}
	if (silent(e) && e->out.len) {
		trace_note(e, "dropped", e->out.len);
		drop_all(e);
	}
	/* Nobody has the pty open: what the unit says now is lost, as on a
	 * line with no host.  Written, it would wait in the slave's queue and
	 * have to be flushed when the next host opens, maybe after that host
	 * saw it readable. */
	if (e->can_tell && e->attached == 0 && e->out.len) {
		trace_note(e, "dropped", e->out.len);
		drop_all(e);
	}
	while (e->out.len) {
		size_t k = sendable(e, now, &next);
		if (!k)
			break;
		if (e->drop_n > 0) { /* WIRE_DROP */
			size_t d = (size_t)e->drop_n < k ? (size_t)e->drop_n : k;
			trace_note(e, "wire-dropped", d);
			drop_front(e, d);
			e->drop_n -= (int)d;
			continue;
		}
		for (size_t i = 0; i < k && e->corrupt_n > 0; i++, e->corrupt_n--)
			e->out.data[i] ^= 0x55; /* WIRE_CORRUPT */
		ssize_t n = transport_write(e->t, e->out.data, k);
		if (n <= 0) {
			blocked = true;
			break;
		}
		trace(e, "tx", e->out.data, (size_t)n);
		if (e->paced && ups_profile(e->u)->pace) {
			uint64_t start_us = e->segs[0].at * 1000;
			if (e->line_free_us > start_us)
				start_us = e->line_free_us;
			e->line_free_us = start_us + (uint64_t)n * BYTE_US;
		}
		drop_front(e, (size_t)n);
		if ((size_t)n < k) {
			blocked = true;
			break;
		}
	}
	if (e->lint && !e->out.len)
		lint_delivered(e->lint); /* the host has every reply now */
	int mask = EVL_READABLE | (blocked ? EVL_WRITABLE : 0);
	evl_watch(e->l, e->t->ops->fd(e->t), mask, on_io, e);
	/* A pty whose host does not read can miss the wake-up that says it
	 * has room again (seen on Linux 6.x with both directions full): while
	 * blocked, look again every RETRY_MS as well. */
	if (blocked && !e->retry_timer) {
		e->retry_timer = evl_add_wall_timer(e->l, RETRY_MS, on_retry, e);
		if (e->retry_timer < 0)
			e->retry_timer = 0;
	}
	if (e->paced) {
		if (e->out_timer)
			evl_del_timer(e->l, e->out_timer);
		e->out_timer = 0;
		if (!blocked && next != UPS_NEVER)
			e->out_timer = evl_add_wall_timer(e->l, (int64_t)(next - now),
							  on_out_timer, e);
		if (e->out_timer < 0)
			e->out_timer = 0;
	}
}

static bool host_session(struct engine *e);

static int64_t on_retry(struct evl *l, long long id, void *arg)
{
	struct engine *e = arg;
	(void)id;
	e->retry_timer = 0;
	on_io(l, e->t->ops->fd(e->t), EVL_READABLE | EVL_WRITABLE, e);
	return EVL_NOMORE;
}

static int64_t on_out_timer(struct evl *l, long long id, void *arg)
{
	struct engine *e = arg;
	(void)l; (void)id;
	e->out_timer = 0; /* flush_out arms a new one if needed */
	host_session(e);
	flush_out(e);
	return EVL_NOMORE;
}

/* Keep one timer armed at the unit's next deadline. */
static void rearm(struct engine *e)
{
	uint64_t next = ups_next_deadline(e->u);
	if (next == e->timer_at && e->timer)
		return;
	if (e->timer)
		evl_del_timer(e->l, e->timer);
	e->timer = 0;
	e->timer_at = next;
	if (next == UPS_NEVER)
		return;
	e->timer = evl_add_timer(e->l, evl_until(e->l, next), on_timer, e);
	if (e->timer < 0)
		e->timer = 0;
}

static int64_t on_timer(struct evl *l, long long id, void *arg)
{
	struct engine *e = arg;
	(void)id;
	host_session(e);
	size_t before = e->out.len;
	if (ups_tick(e->u, evl_now(l), &e->out) != UPS_OK)
		fail(e, "out of memory");
	mark(e, before);
	observe(e, "tick");
	flush_out(e);
	if (e->lost)
		return EVL_NOMORE;
	e->timer = 0; /* this timer ends; rearm makes the next one */
	e->timer_at = UPS_NEVER;
	uint64_t next = ups_next_deadline(e->u);
	if (next == UPS_NEVER)
		return EVL_NOMORE;
	e->timer = id;
	e->timer_at = next;
	return evl_until(l, next);
}

/* Feed @p n host bytes to the unit in small pieces, bounding the output
 * queue after each (see OUT_MAX). */
static void feed(struct engine *e, const uint8_t *p, size_t n)
{
	uint64_t now = evl_now(e->l), wire = evl_wall(e->l);
	if (silent(e)) {
		trace_note(e, "wire-lost", n); /* never reached the unit */
		return;
	}
	for (size_t i = 0; i < n && !e->lost; i += FEED_CHUNK) {
		size_t k = n - i < FEED_CHUNK ? n - i : FEED_CHUNK;
		size_t before = e->out.len;
		if (ups_feed_at(e->u, p + i, k, now, wire, &e->out) != UPS_OK)
			fail(e, "out of memory");
		if (e->alert_inside >= 0 && e->out.len - before >= 2) {
			/* WIRE_ALERT_INSIDE: an alert byte in mid-reply */
			uint8_t c = (uint8_t)e->alert_inside;
			size_t mid = before + (e->out.len - before) / 2;
			if (ups_buf_append(&e->out, &c, 1) == UPS_OK) {
				memmove(e->out.data + mid + 1, e->out.data + mid,
					e->out.len - 1 - mid);
				e->out.data[mid] = c;
			}
			e->alert_inside = -1;
		}
		mark(e, before);
		bound_out(e);
		if (e->obs) {
			char txt[FEED_CHUNK * 4 + 16];
			memcpy(txt, "cmd ", 4);
			trace_escape(p + i, k, txt + 4, sizeof txt - 4);
			observe(e, txt);
		}
	}
}

static void on_io(struct evl *l, int fd, int mask, void *arg)
{
	struct engine *e = arg;
	(void)l; (void)fd;
	/* A host that opened since the last wake-up starts its session
	 * before any of its bytes is read. */
	host_session(e);
	if ((mask & EVL_READABLE) && !e->lost) {
		uint8_t buf[512];
		size_t got = 0;
		while (got < READ_MAX) {
			/* Sessions are looked at around every read: before
			 * it, so a host that left while its bytes waited is
			 * seen before the next host's bytes arrive, and after
			 * it, because a host that opened between that look
			 * and the read may have sent some of these bytes
			 * (they are then the new session's). */
			if (got)
				host_session(e);
			ssize_t n = transport_read(e->t, buf, sizeof buf);
			if (n < 0)
				fail(e, "read error");
			if (n <= 0)
				break;
			got += (size_t)n;
			host_session(e);
			if (e->lint) /* did the host read what we sent? */
				lint_host_unread(e->lint, e->t->ops->unread ?
						 e->t->ops->unread(e->t) : -1);
			trace(e, "rx", buf, (size_t)n);
			feed(e, buf, (size_t)n);
		}
		/* A hang-up with nothing to read would wake poll forever. */
		if ((mask & EVL_HANGUP) && !got && !e->lost)
			fail(e, "hang-up");
	}
	if (e->lost)
		return;
	flush_out(e);
	rearm(e);
}

/*
 * Start a new host session if a host opened the device since the last
 * look: the output still queued (and still in the pty's buffer, which the
 * transport flushes) was meant for the previous host, and the codec
 * forgets any partial command.  Called first at every entry point, so no
 * byte the new host sends is read under the old session's state, and no
 * stale byte is written after the open was seen.
 * @return true if a session started
 */
static bool host_session(struct engine *e)
{
	struct transport_hosts h;
	if (!e->t->ops->host_events || e->t->ops->host_events(e->t, &h) < 0)
		return false;
	e->attached = h.attached;
	if (h.discarded)
		trace_note(e, "discarded", h.discarded);
	if (h.idle)
		trace_note(e, "host-close", 0);
	if (h.opens <= 0)
		return false;
	if (e->out.len)
		trace_note(e, "dropped", e->out.len);
	drop_all(e);
	if (e->out_timer)
		evl_del_timer(e->l, e->out_timer);
	e->out_timer = 0;
	trace_note(e, "host-open", 0);
	ups_host_reset(e->u);
	return true;
}

static void on_host(struct evl *l, int fd, int mask, void *arg)
{
	struct engine *e = arg;
	(void)fd; (void)mask;
	/* on_io looks for the open first; then reads whatever came */
	on_io(l, e->t->ops->fd(e->t), EVL_READABLE, e);
}

struct engine *engine_new(struct evl *l, struct transport *t, struct ups *u,
			  FILE *tracef)
{
	struct engine *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	e->l = l;
	e->t = t;
	e->u = u;
	e->trace = tracef;
	e->timer_at = UPS_NEVER;
	e->alert_inside = -1;
	e->can_tell = t->ops->host_events != NULL;
	const struct ups_profile *p = ups_profile(u);
	e->paced = p->pace || p->reply_delay_ms > 0;
	if (t->ops->host_fd && t->ops->host_fd(t) >= 0)
		evl_watch(l, t->ops->host_fd(t), EVL_READABLE, on_host, e);
	if (ups_tick(u, evl_now(l), &e->out) != UPS_OK) {
		engine_free(e);
		return NULL;
	}
	e->nstart = e->out.len < sizeof e->start ? e->out.len : sizeof e->start;
	if (e->nstart)
		memcpy(e->start, e->out.data, e->nstart);
	e->start_t = evl_now(l);
	mark(e, 0);
	flush_out(e);
	rearm(e);
	return e;
}

size_t engine_queued(const struct engine *e)
{
	return e->out.len;
}

void engine_poke(struct engine *e)
{
	host_session(e);
	size_t before = e->out.len;
	if (ups_tick(e->u, evl_now(e->l), &e->out) != UPS_OK)
		fail(e, "out of memory");
	mark(e, before);
	if (e->lost)
		return;
	flush_out(e);
	rearm(e);
}

enum ups_rc engine_apply(struct engine *e, const struct ups_event *ev)
{
	host_session(e);
	size_t before = e->out.len;
	enum ups_rc rc = ups_apply(e->u, ev, evl_now(e->l), &e->out);
	if (rc == UPS_ENOMEM)
		fail(e, "out of memory");
	mark(e, before);
	if (rc == UPS_OK) {
		char txt[64];
		snprintf(txt, sizeof txt, "event %s", ups_ev_name(ev->kind));
		trace_note(e, txt, 0);
		observe(e, txt);
	}
	if (!e->lost) {
		flush_out(e);
		rearm(e);
	}
	return rc;
}

void engine_wire(struct engine *e, const struct wire_fault *wf)
{
	static const char *const names[] = {
		[WIRE_NONE] = "none", [WIRE_SILENCE] = "silence",
		[WIRE_DELAY] = "delay", [WIRE_DROP] = "drop",
		[WIRE_CORRUPT] = "corrupt", [WIRE_SPLIT] = "split",
		[WIRE_GARBAGE] = "garbage", [WIRE_ALERT_INSIDE] = "alert_inside",
		[WIRE_COMMS_LOST] = "comms_lost", [WIRE_COMMS_BACK] = "comms_back",
	};
	uint64_t now = evl_now(e->l);
	size_t before = e->out.len;
	switch (wf->kind) {
	case WIRE_SILENCE:
		e->silent_until = now + wf->dur_ms;
		break;
	case WIRE_DELAY:
		e->extra_delay_ms = (uint32_t)(wf->dur_ms > 60000 ? 60000 : wf->dur_ms);
		if (e->extra_delay_ms)
			e->paced = true;
		break;
	case WIRE_DROP:
		e->drop_n += wf->count;
		break;
	case WIRE_CORRUPT:
		e->corrupt_n += wf->count;
		break;
	case WIRE_SPLIT:
		e->split_pending = true;
		e->split_ms = wf->dur_ms;
		e->paced = true;
		break;
	case WIRE_GARBAGE:
		if (ups_buf_append(&e->out, wf->bytes, wf->n < sizeof wf->bytes ?
				   wf->n : sizeof wf->bytes) != UPS_OK)
			fail(e, "out of memory");
		mark(e, before);
		break;
	case WIRE_ALERT_INSIDE:
		e->alert_inside = wf->n ? wf->bytes[0] : '!';
		break;
	case WIRE_COMMS_LOST:
		e->comms_lost = true;
		break;
	case WIRE_COMMS_BACK:
		e->comms_lost = false;
		e->silent_until = 0;
		break;
	default:
		return;
	}
	char txt[48];
	snprintf(txt, sizeof txt, "wire %s",
		 (unsigned)wf->kind < sizeof names / sizeof names[0] ? names[wf->kind] : "?");
	trace_note(e, txt, 0);
	observe(e, txt);
	if (!e->lost)
		flush_out(e);
}

void engine_set_observer(struct engine *e, engine_observer fn, void *ctx)
{
	e->obs = fn;
	e->obs_ctx = ctx;
}

bool engine_host_attached(const struct engine *e)
{
	return !e->can_tell || e->attached > 0;
}

bool engine_lost(const struct engine *e, const char **why)
{
	if (why)
		*why = e->lost;
	return e->lost != NULL;
}

void engine_set_trace_file(struct engine *e, FILE *f, const char *header)
{
	e->trace2 = f;
	if (!f || !header)
		return;
	char buf[600];
	size_t len = trace_format_note(buf, sizeof buf, e->start_t, header);
	fwrite(buf, 1, len < sizeof buf ? len : sizeof buf - 1, f);
	/* the same lines as -v from the start: what engine_new sent */
	/* engine_new has not looked for hosts yet: where it can tell, it
	 * dropped them (flush_out, no host attached) */
	if (e->nstart && e->can_tell) {
		char text[64];
		snprintf(text, sizeof text, "dropped %zu", e->nstart);
		len = trace_format_note(buf, sizeof buf, e->start_t, text);
		fwrite(buf, 1, len < sizeof buf ? len : sizeof buf - 1, f);
	} else if (e->nstart) {
		len = trace_format_bytes(buf, sizeof buf, e->start_t, TRACE_TX,
					 e->start, e->nstart, NULL);
		fwrite(buf, 1, len < sizeof buf ? len : sizeof buf - 1, f);
	}
	fflush(f);
}

void engine_note(struct engine *e, const char *text)
{
	trace_note(e, text, 0);
}

void engine_send(struct engine *e, const uint8_t *p, size_t n)
{
	host_session(e);
	size_t before = e->out.len;
	if (ups_buf_append(&e->out, p, n) != UPS_OK)
		fail(e, "out of memory");
	mark(e, before);
	if (!e->lost)
		flush_out(e);
}

static void on_lint(void *ctx, const struct lint_finding *f)
{
	struct engine *e = ctx;
	char note[400];
	lint_format_note(f, note, sizeof note);
	trace_note(e, note, 0);
}

const struct lint *engine_lint(struct engine *e)
{
	if (!e->lint) {
		e->lint = malloc(sizeof *e->lint);
		if (!e->lint)
			return NULL;
		lint_init(e->lint, ups_profile(e->u), on_lint, e);
		ups_set_lint(e->u, e->lint);
	}
	return e->lint;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	if (e->lint) {
		ups_set_lint(e->u, NULL);
		free(e->lint);
	}
	evl_unwatch(e->l, e->t->ops->fd(e->t));
	if (e->t->ops->host_fd && e->t->ops->host_fd(e->t) >= 0)
		evl_unwatch(e->l, e->t->ops->host_fd(e->t));
	if (e->timer)
		evl_del_timer(e->l, e->timer);
	if (e->out_timer)
		evl_del_timer(e->l, e->out_timer);
	if (e->retry_timer)
		evl_del_timer(e->l, e->retry_timer);
	ups_buf_free(&e->out);
	free(e->segs);
	free(e);
}
