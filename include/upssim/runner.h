/*
 * runner.h - plays a scenario (scenario.h) on an engine: the initial state
 * at start, then every timeline step at its scenario time, on a model-time
 * timer of the event loop, so --speed scales it and a virtual clock jumps
 * through it.  Scenario time is model time since runner_start().
 */
#ifndef UPSSIM_RUNNER_H
#define UPSSIM_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include "upssim/engine.h"
#include "upssim/evloop.h"
#include "upssim/scenario.h"

struct runner;

/**
 * Apply @p s's initial state now and schedule its timeline.  @p s must
 * outlive the runner.  When the scenario ends (an `end` step, `end:`, or
 * - if @p stop_after_last - its last step), the loop is stopped.
 * @param[out] out  the runner, NULL on error
 * @param[out] why  on failure, the scenario step that the unit refused
 */
enum ups_rc runner_start(struct evl *l, struct engine *e, const struct scen *s,
			 bool stop_after_last, struct runner **out,
			 char *why, size_t whylen);
void runner_free(struct runner *r);

/** @return true once the scenario has reached its end */
bool runner_done(const struct runner *r);

/** @return scenario time in ms (model time since the start) */
uint64_t runner_time(const struct runner *r);

/** @return steps applied so far */
size_t runner_steps_done(const struct runner *r);

#endif
