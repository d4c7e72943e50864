/*
 * runner.c - plays a scenario on an engine (runner.h): one model-time
 * timer follows the next timeline step; every step that is due is applied
 * through the engine, so what the unit sends because of it (an alert)
 * goes to the host at once.
 */
#include "upssim/runner.h"

#include <stdio.h>
#include <stdlib.h>

struct runner {
	struct evl *l;
	struct engine *e;
	const struct scen *s;
	uint64_t t0;
	size_t next;          /* index of the next step */
	long long timer;
	bool done, stop_after_last;
};

static void finish(struct runner *r)
{
	r->done = true;
	evl_stop(r->l);
}

/* Apply one action; @return false if the unit refused it. */
static bool act(struct runner *r, const struct scen_action *a)
{
	switch (a->kind) {
	case SCEN_UNIT:
		return engine_apply(r->e, &a->ev) == UPS_OK;
	case SCEN_WIRE:
		engine_wire(r->e, &a->wire);
		return true;
	case SCEN_END:
		finish(r);
		return true;
	}
	return false;
}

static uint64_t end_ms(const struct runner *r)
{
	if (r->s->end_ms != UPS_NEVER)
		return r->s->end_ms;
	if (r->stop_after_last)
		return r->s->n_steps ? r->s->steps[r->s->n_steps - 1].at_ms : 0;
	return UPS_NEVER;
}

/* Delay until the next thing to do, or EVL_NOMORE. */
static int64_t plan(struct runner *r)
{
	uint64_t now = runner_time(r);
	uint64_t next = end_ms(r);
	if (r->next < r->s->n_steps && r->s->steps[r->next].at_ms < next)
		next = r->s->steps[r->next].at_ms;
	if (next == UPS_NEVER)
		return EVL_NOMORE;
	return next > now ? (int64_t)(next - now) : 0;
}

static int64_t on_step(struct evl *l, long long id, void *arg)
{
	struct runner *r = arg;
	(void)l; (void)id;
	uint64_t now = runner_time(r);
	while (!r->done && r->next < r->s->n_steps &&
	       r->s->steps[r->next].at_ms <= now)
		act(r, &r->s->steps[r->next++].act);
	if (!r->done && now >= end_ms(r) && r->next >= r->s->n_steps)
		finish(r);
	if (!r->done && end_ms(r) != UPS_NEVER && now >= end_ms(r))
		finish(r);
	if (r->done) {
		r->timer = 0;
		return EVL_NOMORE;
	}
	int64_t d = plan(r);
	if (d == EVL_NOMORE)
		r->timer = 0;
	return d;
}

enum ups_rc runner_start(struct evl *l, struct engine *e, const struct scen *s,
			 bool stop_after_last, struct runner **out,
			 char *why, size_t whylen)
{
	*out = NULL;
	struct runner *r = calloc(1, sizeof *r);
	if (!r)
		return UPS_ENOMEM;
	*r = (struct runner){ .l = l, .e = e, .s = s, .t0 = evl_now(l),
			      .stop_after_last = stop_after_last };
	for (size_t i = 0; i < s->n_init; i++)
		if (!act(r, &s->init[i])) {
			snprintf(why, whylen, "initial %s: value out of range",
				 ups_ev_name(s->init[i].ev.kind));
			free(r);
			return UPS_EARG;
		}
	int64_t d = plan(r);
	if (d != EVL_NOMORE) {
		r->timer = evl_add_timer(l, d, on_step, r);
		if (r->timer < 0) {
			free(r);
			return UPS_ENOMEM;
		}
	}
	*out = r;
	return UPS_OK;
}

void runner_free(struct runner *r)
{
	if (!r)
		return;
	if (r->timer)
		evl_del_timer(r->l, r->timer);
	free(r);
}

bool runner_done(const struct runner *r)
{
	return r->done;
}

uint64_t runner_time(const struct runner *r)
{
	uint64_t now = evl_now(r->l);
	return now > r->t0 ? now - r->t0 : 0;
}

size_t runner_steps_done(const struct runner *r)
{
	return r->next;
}
