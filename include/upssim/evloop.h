/*
 * evloop.h - a small event loop in the manner of Redis' ae: descriptor
 * callbacks and timers.  The loop never reads a clock itself: it asks a
 * clock object, so real, scaled and virtual time are one seam.  Timer
 * callbacks return the delay until their next run, or EVL_NOMORE.
 */
#ifndef UPSSIM_EVLOOP_H
#define UPSSIM_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>
#include "upssim/rc.h"

#define EVL_NOMORE (-1)
#define EVL_READABLE 1
#define EVL_WRITABLE 2
#define EVL_HANGUP 4 /* with EVL_READABLE: the peer hung up or an error is pending */

/**
 * Time source.  Two clocks run side by side: model time (now_ms), which
 * --speed scales and a virtual clock may jump, and wall time (wall_ms),
 * the real clock of the serial line.  Protocol rules between host and
 * unit (the two-press gap, entry timeouts, reply delay and pacing) are
 * measured on wall time whatever the model's speed.
 */
struct evl_clock {
	uint64_t (*now_ms)(void *ctx);
	/** wall milliseconds; NULL: the same as now_ms (scale 1 clocks) */
	uint64_t (*wall_ms)(void *ctx);
	void *ctx;
	double scale; /**< model ms per wall ms: 1 = real time, 60 = 1 min/s */
	/** Virtual clocks only (NULL otherwise): move model time forward to
	 *  @p to, and make it flow with wall time (@p on) or stand still. */
	void (*jump)(void *ctx, uint64_t to);
	void (*flow)(void *ctx, bool on);
};

/**
 * A virtual clock: model time stands still and the loop jumps it to the
 * next model deadline whenever no descriptor is ready, so a scenario runs
 * as fast as the CPU allows; while flowing (evl_set_flow, e.g. a host is
 * attached) it runs with wall time instead.  Wall timers stay real.
 */
void evl_clock_virtual(struct evl_clock *c);

/** The real monotonic clock, optionally sped up by @p scale. */
void evl_clock_real(struct evl_clock *c, double scale);

struct evl;
typedef void (*evl_fd_fn)(struct evl *l, int fd, int mask, void *arg);
/** @return next delay in model ms, or EVL_NOMORE to delete the timer */
typedef int64_t (*evl_timer_fn)(struct evl *l, long long id, void *arg);

struct evl *evl_new(const struct evl_clock *clock);
void evl_free(struct evl *l);
uint64_t evl_now(const struct evl *l);
/** Model milliseconds from now until model time @p at (0 if it has come):
 *  the delay of a timer for an absolute deadline. */
int64_t evl_until(const struct evl *l, uint64_t at);
/** Wall time in ms (see struct evl_clock). */
uint64_t evl_wall(const struct evl *l);

/** Watch @p fd for @p mask (replaces any previous mask for it). */
enum ups_rc evl_watch(struct evl *l, int fd, int mask, evl_fd_fn fn, void *arg);
void evl_unwatch(struct evl *l, int fd);

/** @return timer id (> 0), or a negative ups_rc */
long long evl_add_timer(struct evl *l, int64_t delay_ms, evl_timer_fn fn,
			void *arg);
/** Like evl_add_timer, but @p delay_ms (and what the callback returns) is
 *  wall time: for protocol timers that must not follow --speed. */
long long evl_add_wall_timer(struct evl *l, int64_t delay_ms, evl_timer_fn fn,
			     void *arg);
void evl_del_timer(struct evl *l, long long id);

/** Virtual clock: let model time flow with wall time (@p on) or jump. */
void evl_set_flow(struct evl *l, bool on);

/** @return the earliest model-time timer, or UINT64_MAX if none */
uint64_t evl_next_model_timer(const struct evl *l);

/** Run one iteration, waiting at most @p max_wait_ms wall ms (-1 = forever). */
enum ups_rc evl_run_once(struct evl *l, int max_wait_ms);
/** Run until evl_stop(). */
enum ups_rc evl_run(struct evl *l);
void evl_stop(struct evl *l);
bool evl_stopped(const struct evl *l);

#endif
