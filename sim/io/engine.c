/*
 * engine.c - one unit on one transport (see engine.h).  The trace format
 * is the project's one format for recorded bytes: a line per event,
 * "<seconds.millis> <rx|tx> \"<C-escaped bytes>\"".
 */
#include "upssim/engine.h"

#include <stdlib.h>
#include <string.h>

#define OUT_MAX (64 * 1024) /* drop the oldest bytes nobody reads */

struct engine {
	struct evl *l;
	struct transport *t;
	struct ups *u;
	struct ups_buf out;
	long long timer;
	uint64_t timer_at;
	FILE *trace;
	const char *lost;   /* why the transport is gone, NULL while fine */
};

char *engine_escape(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
#define PUTS(s) do { for (const char *q_ = (s); *q_; q_++) \
	if (o + 1 < outlen) out[o++] = *q_; } while (0)
	PUTS("\"");
	for (size_t i = 0; i < n; i++) {
		char tmp[8];
		uint8_t c = p[i];
		if (c == '\r')
			PUTS("\\r");
		else if (c == '\n')
			PUTS("\\n");
		else if (c == '"' || c == '\\') {
			tmp[0] = '\\'; tmp[1] = (char)c; tmp[2] = 0;
			PUTS(tmp);
		} else if (c < 0x20 || c >= 0x7F) {
			static const char hex[] = "0123456789ABCDEF";
			tmp[0] = '\\'; tmp[1] = 'x'; tmp[2] = hex[c >> 4];
			tmp[3] = hex[c & 15]; tmp[4] = 0;
			PUTS(tmp);
		} else {
			tmp[0] = (char)c; tmp[1] = 0;
			PUTS(tmp);
		}
	}
	PUTS("\"");
#undef PUTS
	out[o < outlen ? o : outlen - 1] = '\0';
	return out;
}

static void trace(struct engine *e, const char *dir, const uint8_t *p, size_t n)
{
	if (!e->trace || !n)
		return;
	char buf[4 * 1024 + 8];
	engine_escape(p, n, buf, sizeof buf);
	fprintf(e->trace, "%.3f %s %s\n", (double)evl_now(e->l) / 1000.0, dir, buf);
	fflush(e->trace);
}

static void on_io(struct evl *l, int fd, int mask, void *arg);
static int64_t on_timer(struct evl *l, long long id, void *arg);

static void flush_out(struct engine *e)
{
	while (e->out.len) {
		ssize_t n = transport_write(e->t, e->out.data, e->out.len);
		if (n <= 0)
			break;
		trace(e, "tx", e->out.data, (size_t)n);
		ups_buf_consume(&e->out, (size_t)n);
	}
	if (e->out.len > OUT_MAX)
		ups_buf_consume(&e->out, e->out.len - OUT_MAX);
	int mask = EVL_READABLE | (e->out.len ? EVL_WRITABLE : 0);
	evl_watch(e->l, e->t->ops->fd(e->t), mask, on_io, e);
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
	uint64_t now = evl_now(e->l);
	e->timer = evl_add_timer(e->l, next > now ? (int64_t)(next - now) : 0,
				 on_timer, e);
	if (e->timer < 0)
		e->timer = 0;
}

static int64_t on_timer(struct evl *l, long long id, void *arg)
{
	struct engine *e = arg;
	(void)id;
	ups_tick(e->u, evl_now(l), &e->out);
	flush_out(e);
	e->timer = 0; /* this timer ends; rearm makes the next one */
	e->timer_at = UPS_NEVER;
	uint64_t next = ups_next_deadline(e->u);
	uint64_t now = evl_now(l);
	if (next == UPS_NEVER)
		return EVL_NOMORE;
	e->timer = id;
	e->timer_at = next;
	return next > now ? (int64_t)(next - now) : 0;
}

static void on_io(struct evl *l, int fd, int mask, void *arg)
{
	struct engine *e = arg;
	(void)fd;
	if (mask & EVL_READABLE) {
		uint8_t buf[512];
		size_t got = 0;
		for (;;) {
			ssize_t n = transport_read(e->t, buf, sizeof buf);
			if (n < 0)
				e->lost = "read error";
			if (n <= 0)
				break;
			got += (size_t)n;
			trace(e, "rx", buf, (size_t)n);
			ups_feed(e->u, buf, (size_t)n, evl_now(l), &e->out);
		}
		/* A hang-up with nothing to read would wake poll forever. */
		if ((mask & EVL_HANGUP) && !got && !e->lost)
			e->lost = "hang-up";
		if (e->lost) {
			evl_unwatch(l, e->t->ops->fd(e->t));
			evl_stop(l);
			return;
		}
	}
	flush_out(e);
	rearm(e);
}

/* A host opened the device: a new session starts with clean input state
 * and without output that was meant for the previous host. */
static void on_host(struct evl *l, int fd, int mask, void *arg)
{
	struct engine *e = arg;
	(void)fd; (void)mask;
	if (e->t->ops->host_opened(e->t) > 0) {
		/* Bytes still queued were sent before this open, by the
		 * previous host: let them finish before the state is reset. */
		on_io(l, e->t->ops->fd(e->t), EVL_READABLE, e);
		if (e->trace)
			fprintf(e->trace, "%.3f host-open\n",
				(double)evl_now(e->l) / 1000.0);
		ups_host_reset(e->u);
	}
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
	if (t->ops->host_fd && t->ops->host_fd(t) >= 0)
		evl_watch(l, t->ops->host_fd(t), EVL_READABLE, on_host, e);
	ups_tick(u, evl_now(l), &e->out);
	flush_out(e);
	rearm(e);
	return e;
}

bool engine_lost(const struct engine *e, const char **why)
{
	if (why)
		*why = e->lost;
	return e->lost != NULL;
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	evl_unwatch(e->l, e->t->ops->fd(e->t));
	if (e->t->ops->host_fd && e->t->ops->host_fd(e->t) >= 0)
		evl_unwatch(e->l, e->t->ops->host_fd(e->t));
	if (e->timer)
		evl_del_timer(e->l, e->timer);
	ups_buf_free(&e->out);
	free(e);
}
