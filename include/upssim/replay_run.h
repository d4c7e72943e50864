/*
 * replay_run.h - plays a recorded unit (replay.h) on an engine: reads the
 * trace file, installs the map as the unit's reply hook, mutes the model's
 * own alerts and sends the recorded ones at their times (model time since
 * the host's first command), and writes a `replay-miss` note for every
 * command the trace never showed.  `upssim --replay TRACE`.
 */
#ifndef UPSSIM_REPLAY_RUN_H
#define UPSSIM_REPLAY_RUN_H

#include <stddef.h>
#include "upssim/engine.h"
#include "upssim/evloop.h"
#include "upssim/replay.h"
#include "upssim/ups.h"

struct replay_run;

/**
 * Read the trace file @p path into a new map.
 * @param[out] out  the map (replay_free), NULL on error
 * @param[out] d    filled on error: file:line:col for a bad trace, the
 *                  path and reason for a file that cannot be read
 * @return UPS_OK, UPS_EPARSE, UPS_ESYS, UPS_ENOTFOUND, UPS_ENOMEM
 */
enum ups_rc replay_load_file(const char *path, enum replay_mode mode,
			     const struct codec_config *cc, struct replay **out,
			     struct ups_diag *d);

/**
 * Answer the host of @p e from @p rp (which must outlive the run).
 * @return UPS_OK or UPS_ENOMEM
 */
enum ups_rc replay_run_start(struct evl *l, struct engine *e, struct ups *u,
			     struct replay *rp, struct replay_run **out);

/** Unhook and free (the unit answers for itself again). */
void replay_run_free(struct replay_run *rr);

/**
 * What the run saw: commands in the trace, and the commands the host sent
 * that the trace did not have (answered by the base profile), with counts.
 * @return the length needed (as snprintf)
 */
size_t replay_run_summary(const struct replay_run *rr, char *buf, size_t cap);

#endif
