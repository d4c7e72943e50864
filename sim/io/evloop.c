/*
 * evloop.c - poll(2)-based event loop with timers kept in a small array.
 * Time comes only from the evl_clock seam; wall-clock waits are the model
 * delay divided by the clock's scale.
 */
#include "upssim/evloop.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct evl_watch {
	int fd, mask;
	evl_fd_fn fn;
	void *arg;
};

struct evl_timer {
	long long id;
	bool wall;      /* when is wall time, not model time */
	uint64_t when;
	evl_timer_fn fn;
	void *arg;
};

struct evl {
	struct evl_clock clock;
	struct evl_watch *w;
	size_t nw, capw;
	struct evl_timer *t;
	size_t nt, capt;
	long long next_id;
	bool stop;
	bool flowing;             /* virtual clock running with wall time */
	struct pollfd *pf;        /* poll set, rebuilt each iteration */
	struct evl_watch *snap;   /* watch list as it was when poll returned */
	size_t cap_pf;
};

struct real_clock {
	struct timespec t0;
	double scale;
};
static struct real_clock real_ctx;

static double real_elapsed_ms(const struct real_clock *c)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - c->t0.tv_sec) * 1000.0 +
	       (double)(ts.tv_nsec - c->t0.tv_nsec) / 1e6;
}

static uint64_t real_now(void *ctx)
{
	struct real_clock *c = ctx;
	return (uint64_t)(real_elapsed_ms(c) * c->scale);
}

static uint64_t real_wall(void *ctx)
{
	return (uint64_t)real_elapsed_ms(ctx);
}

void evl_clock_real(struct evl_clock *c, double scale)
{
	if (scale <= 0)
		scale = 1;
	clock_gettime(CLOCK_MONOTONIC, &real_ctx.t0);
	real_ctx.scale = scale;
	*c = (struct evl_clock){ 0 };
	c->now_ms = real_now;
	c->wall_ms = real_wall;
	c->ctx = &real_ctx;
	c->scale = scale;
}

struct virt_clock {
	struct timespec t0;
	uint64_t model;      /* model time while standing still */
	bool flowing;
	uint64_t model_ref, wall_ref;
};
static struct virt_clock virt_ctx;

static uint64_t virt_wall(void *ctx)
{
	struct virt_clock *c = ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)((double)(ts.tv_sec - c->t0.tv_sec) * 1000.0 +
			  (double)(ts.tv_nsec - c->t0.tv_nsec) / 1e6);
}

static uint64_t virt_now(void *ctx)
{
	struct virt_clock *c = ctx;
	return c->flowing ? c->model_ref + (virt_wall(c) - c->wall_ref) : c->model;
}

static void virt_jump(void *ctx, uint64_t to)
{
	struct virt_clock *c = ctx;
	if (!c->flowing && to > c->model)
		c->model = to;
}

static void virt_flow(void *ctx, bool on)
{
	struct virt_clock *c = ctx;
	if (on == c->flowing)
		return;
	if (on) {
		c->model_ref = c->model;
		c->wall_ref = virt_wall(c);
	} else {
		c->model = virt_now(c);
	}
	c->flowing = on;
}

void evl_clock_virtual(struct evl_clock *c)
{
	memset(&virt_ctx, 0, sizeof virt_ctx);
	clock_gettime(CLOCK_MONOTONIC, &virt_ctx.t0);
	*c = (struct evl_clock){ .now_ms = virt_now, .wall_ms = virt_wall,
				 .ctx = &virt_ctx, .scale = 1,
				 .jump = virt_jump, .flow = virt_flow };
}

void evl_set_flow(struct evl *l, bool on)
{
	if (l->clock.flow)
		l->clock.flow(l->clock.ctx, on);
	l->flowing = on;
}

struct evl *evl_new(const struct evl_clock *clock)
{
	struct evl *l = calloc(1, sizeof *l);
	if (!l)
		return NULL;
	l->clock = *clock;
	if (l->clock.scale <= 0)
		l->clock.scale = 1;
	return l;
}

void evl_free(struct evl *l)
{
	if (!l)
		return;
	free(l->w);
	free(l->t);
	free(l->pf);
	free(l->snap);
	free(l);
}

uint64_t evl_now(const struct evl *l)
{
	return l->clock.now_ms(l->clock.ctx);
}

int64_t evl_until(const struct evl *l, uint64_t at)
{
	uint64_t now = evl_now(l);
	return at > now ? (int64_t)(at - now) : 0;
}

uint64_t evl_wall(const struct evl *l)
{
	if (l->clock.wall_ms)
		return l->clock.wall_ms(l->clock.ctx);
	return l->clock.now_ms(l->clock.ctx);
}

static uint64_t timer_now(const struct evl *l, bool wall)
{
	return wall ? evl_wall(l) : evl_now(l);
}

enum ups_rc evl_watch(struct evl *l, int fd, int mask, evl_fd_fn fn, void *arg)
{
	for (size_t i = 0; i < l->nw; i++)
		if (l->w[i].fd == fd) {
			l->w[i] = (struct evl_watch){ fd, mask, fn, arg };
			return UPS_OK;
		}
	if (l->nw == l->capw) {
		size_t cap = l->capw ? l->capw * 2 : 8;
		struct evl_watch *n = realloc(l->w, cap * sizeof *n);
		if (!n)
			return UPS_ENOMEM;
		l->w = n;
		l->capw = cap;
	}
	l->w[l->nw++] = (struct evl_watch){ fd, mask, fn, arg };
	return UPS_OK;
}

void evl_unwatch(struct evl *l, int fd)
{
	for (size_t i = 0; i < l->nw; i++)
		if (l->w[i].fd == fd) {
			l->w[i] = l->w[--l->nw];
			return;
		}
}

static long long add_timer(struct evl *l, bool wall, int64_t delay_ms,
			   evl_timer_fn fn, void *arg)
{
	if (l->nt == l->capt) {
		size_t cap = l->capt ? l->capt * 2 : 8;
		struct evl_timer *n = realloc(l->t, cap * sizeof *n);
		if (!n)
			return UPS_ENOMEM;
		l->t = n;
		l->capt = cap;
	}
	if (delay_ms < 0)
		delay_ms = 0;
	long long id = ++l->next_id;
	l->t[l->nt++] = (struct evl_timer){
		id, wall, timer_now(l, wall) + (uint64_t)delay_ms, fn, arg };
	return id;
}

long long evl_add_timer(struct evl *l, int64_t delay_ms, evl_timer_fn fn,
			void *arg)
{
	return add_timer(l, false, delay_ms, fn, arg);
}

long long evl_add_wall_timer(struct evl *l, int64_t delay_ms, evl_timer_fn fn,
			     void *arg)
{
	return add_timer(l, true, delay_ms, fn, arg);
}

void evl_del_timer(struct evl *l, long long id)
{
	for (size_t i = 0; i < l->nt; i++)
		if (l->t[i].id == id) {
			l->t[i] = l->t[--l->nt];
			return;
		}
}

static void run_timers(struct evl *l)
{
	uint64_t now_model = evl_now(l), now_wall = evl_wall(l);
	/* Callbacks may add or delete timers: restart the scan after each. */
	for (bool again = true; again;) {
		again = false;
		for (size_t i = 0; i < l->nt; i++) {
			uint64_t now = l->t[i].wall ? now_wall : now_model;
			if (l->t[i].when > now)
				continue;
			struct evl_timer t = l->t[i];
			int64_t next = t.fn(l, t.id, t.arg);
			for (size_t j = 0; j < l->nt; j++)
				if (l->t[j].id == t.id) {
					if (next == EVL_NOMORE)
						l->t[j] = l->t[--l->nt];
					else
						l->t[j].when = now + (uint64_t)(next < 0 ? 0 : next);
					break;
				}
			again = true;
			break;
		}
	}
}

uint64_t evl_next_model_timer(const struct evl *l)
{
	uint64_t n = UINT64_MAX;
	for (size_t i = 0; i < l->nt; i++)
		if (!l->t[i].wall && l->t[i].when < n)
			n = l->t[i].when;
	return n;
}

/* A virtual clock standing still: model timers never wait in poll. */
static bool jumping(const struct evl *l)
{
	return l->clock.jump && !l->flowing;
}

enum ups_rc evl_run_once(struct evl *l, int max_wait_ms)
{
	int timeout = max_wait_ms;
	uint64_t now_model = evl_now(l), now_wall = evl_wall(l);
	bool jump = jumping(l);
	uint64_t next_model = evl_next_model_timer(l);
	for (size_t i = 0; i < l->nt; i++) {
		if (jump && !l->t[i].wall)
			continue; /* reached by jumping, not by waiting */
		uint64_t now = l->t[i].wall ? now_wall : now_model;
		uint64_t d = l->t[i].when > now ? l->t[i].when - now : 0;
		double wall = l->t[i].wall ? (double)d
					   : ceil((double)d / l->clock.scale);
		int w = wall > 60000 ? 60000 : (int)wall;
		if (timeout < 0 || w < timeout)
			timeout = w;
	}
	size_t n = l->nw;
	if (n > l->cap_pf) {
		struct pollfd *np = realloc(l->pf, n * sizeof *np);
		struct evl_watch *ns = realloc(l->snap, n * sizeof *ns);
		if (np)
			l->pf = np;
		if (ns)
			l->snap = ns;
		if (!np || !ns)
			return UPS_ENOMEM;
		l->cap_pf = n;
	}
	struct pollfd *pf = l->pf;
	for (size_t i = 0; i < n; i++) {
		pf[i].fd = l->w[i].fd;
		pf[i].events = (short)(((l->w[i].mask & EVL_READABLE) ? POLLIN : 0) |
				       ((l->w[i].mask & EVL_WRITABLE) ? POLLOUT : 0));
		pf[i].revents = 0;
	}
	if (jump && next_model != UINT64_MAX)
		timeout = 0; /* look at the descriptors, then jump */
	int rc = poll(pf, (nfds_t)n, timeout);
	if (rc < 0 && errno != EINTR)
		return UPS_ESYS;
	if (jump && rc == 0 && next_model != UINT64_MAX && next_model > now_model)
		l->clock.jump(l->clock.ctx, next_model);
	if (rc > 0) {
		/* snapshot: callbacks may change the watch list */
		struct evl_watch *snap = l->snap;
		memcpy(snap, l->w, n * sizeof *snap);
		for (size_t i = 0; i < n && !l->stop; i++) {
			if (!pf[i].revents)
				continue;
			int mask = 0;
			if (pf[i].revents & (POLLIN | POLLHUP | POLLERR))
				mask |= EVL_READABLE;
			if (pf[i].revents & (POLLHUP | POLLERR | POLLNVAL))
				mask |= EVL_HANGUP;
			if (pf[i].revents & POLLOUT)
				mask |= EVL_WRITABLE;
			bool still = false;
			for (size_t j = 0; j < l->nw; j++)
				if (l->w[j].fd == snap[i].fd && l->w[j].fn == snap[i].fn)
					still = true;
			if (still)
				snap[i].fn(l, snap[i].fd, mask, snap[i].arg);
		}
	}
	if (!l->stop)
		run_timers(l);
	return UPS_OK;
}

enum ups_rc evl_run(struct evl *l)
{
	while (!l->stop) {
		enum ups_rc rc = evl_run_once(l, -1);
		if (rc != UPS_OK)
			return rc;
	}
	return UPS_OK;
}

void evl_stop(struct evl *l)
{
	l->stop = true;
}

bool evl_stopped(const struct evl *l)
{
	return l->stop;
}
