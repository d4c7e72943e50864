/*
 * replay.h - answer a host the way a recorded unit did, by command, not by
 * position (docs/trace.md, "Replay").  A trace is read into a map from
 * each command the host sent (a plain byte, a completed K..K, `@ddd`, an
 * edit `u -`, a `c -` entry with its text) to the replies the unit gave,
 * in order; alerts the unit sent between replies are kept with their
 * times.  Installed as the unit's reply hook (ups_set_reply_hook), it
 * answers each command the host sends with the recorded reply - the latest
 * one, or the next in sequence for that command - so a host that polls in
 * another order than the recorded one still gets the unit's answers.  A
 * command the trace never saw is left to the unit (the base profile) and
 * counted as a miss.  The codec still reads the bytes, so the wire's
 * multi-byte rules hold as they do for the unit.  Pure: no I/O.
 */
#ifndef UPSSIM_REPLAY_H
#define UPSSIM_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "upssim/codec.h"
#include "upssim/rc.h"

enum replay_mode {
	REPLAY_SEQUENCE = 0, /**< each command's replies in recorded order,
				  then the last one again */
	REPLAY_LATEST,       /**< always the last reply recorded */
};

enum replay_kind {
	RK_CMD = 1,   /**< a single-byte command */
	RK_PRESS1,    /**< the first press of K/Z/^N */
	RK_PRESS2,    /**< a completed K..K, Z..Z, ^N..^N */
	RK_AT_START,  /**< `@`, digits awaited */
	RK_AT,        /**< `@ddd` */
	RK_EDIT,      /**< `-` (or `+` after `>`) after a command */
	RK_ENTRY,     /**< a completed c/x/I entry and its text */
};

/** What the host sent, as the codec read it. */
struct replay_key {
	uint8_t kind;  /**< enum replay_kind */
	uint8_t len;
	uint8_t b[CODEC_ENTRY_MAX + 4];
};

struct replay_alert {
	uint64_t t_ms; /**< time since the host's first byte in the trace */
	uint8_t byte;
};

struct replay;

/** @return a new, empty map, or NULL (no memory) */
struct replay *replay_new(enum replay_mode mode, const struct codec_config *cc);
void replay_free(struct replay *rp);

/**
 * Add what @p text (a trace, trace.h) shows the unit answering.
 * @param[in] src  name for diagnostics
 * @param[out] d   filled on UPS_EPARSE (may be NULL)
 * @return UPS_OK, UPS_EPARSE, UPS_ENOMEM, UPS_EARG
 */
enum ups_rc replay_add_trace(struct replay *rp, const char *src,
			     const char *text, size_t len, struct ups_diag *d);

/** The reply hook (ups.h ups_reply_hook); @p ctx is the map. */
bool replay_hook(void *ctx, const struct codec_event *ev, uint64_t now,
		 uint8_t *reply, size_t cap, size_t *len, bool *present);

/** The key the codec event @p ev is looked up by. @return false if none */
bool replay_key_of(const struct codec_event *ev, struct replay_key *k);

/** A readable name for @p k: "Q", "^Z", "K K", "@020", "u -", "c - \"NAME\"". */
const char *replay_key_name(const struct replay_key *k, char *buf, size_t cap);

/** Distinct commands in the map, and replies recorded in all. */
size_t replay_n_commands(const struct replay *rp);
size_t replay_n_replies(const struct replay *rp);

/** The @p i th command in the map, with its reply count. */
const struct replay_key *replay_command(const struct replay *rp, size_t i,
					size_t *n_replies);

/** The @p j th reply recorded for command @p i (present false: silence). */
const uint8_t *replay_reply(const struct replay *rp, size_t i, size_t j,
			    size_t *len, bool *present);

/** Alerts recorded, in time order. */
const struct replay_alert *replay_alerts(const struct replay *rp, size_t *n);

/**
 * Commands the host sent that the trace never showed (left to the unit).
 * @return how many distinct ones; the @p i th in @p k with its @p count
 */
size_t replay_misses(const struct replay *rp);
const struct replay_key *replay_miss(const struct replay *rp, size_t i,
				     unsigned *count);

/** @return true if the last replay_hook() call was a miss (then cleared) */
bool replay_take_miss(struct replay *rp, struct replay_key *k);

/** Lines the unit sent that no command could be found for (dropped). */
size_t replay_unattributed(const struct replay *rp);

#endif
