/*
 * scenario.h - scenario files: a profile (by name, or a profile plus an
 * inline YAML overlay), the unit's initial state, and a timeline of
 * events at absolute or relative times, with repeats.  The same event
 * keys are accepted one at a time by the control socket, as YAML flow
 * lines (`{line: off}`).  Pure: the loader parses text it is given
 * (libyaml) and fills caller-owned diagnostics (`file:line:col: message`);
 * it opens no file and knows no clock.  Format: docs/scenarios.md.
 */
#ifndef UPSSIM_SCENARIO_H
#define UPSSIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "upssim/profile.h"
#include "upssim/rc.h"
#include "upssim/ups.h"

/** Faults of the wire itself, applied by the engine between the unit and
 *  the host (not by the model). */
enum wire_kind {
	WIRE_NONE = 0,
	WIRE_SILENCE,   /**< answer nothing for .dur_ms (bytes are read and lost) */
	WIRE_DELAY,     /**< every reply starts .dur_ms late, until cleared
	                     (.dur_ms = 0 clears) */
	WIRE_DROP,      /**< drop the next .count bytes the unit sends */
	WIRE_CORRUPT,   /**< flip bits of the next .count bytes the unit sends */
	WIRE_SPLIT,     /**< the next reply goes out in two parts .dur_ms apart */
	WIRE_GARBAGE,   /**< send .bytes (.n) to the host now */
	WIRE_ALERT_INSIDE, /**< put .bytes[0] in the middle of the next reply */
	WIRE_COMMS_LOST,   /**< stop answering until WIRE_COMMS_BACK */
	WIRE_COMMS_BACK,
};

struct wire_fault {
	enum wire_kind kind;
	uint64_t dur_ms;
	int count;
	uint8_t bytes[64];
	size_t n;
};

enum scen_action_kind {
	SCEN_UNIT = 1,   /**< .ev goes to ups_apply() */
	SCEN_WIRE,       /**< .wire goes to the engine */
	SCEN_END,        /**< the scenario ends here */
};

struct scen_action {
	enum scen_action_kind kind;
	struct ups_event ev;
	struct wire_fault wire;
};

/** One timeline entry, at an absolute scenario time (repeats expanded). */
struct scen_step {
	uint64_t at_ms;
	struct scen_action act;
	int line, col;         /**< where it was written, for messages */
};

struct scen {
	char name[64];         /**< file name without .yaml */
	char description[160];
	char source[256];      /**< file it came from */
	char profile[256];     /**< profile name or path ("" = default) */
	char *overlay;         /**< YAML mapping laid over the profile, or NULL */
	size_t overlay_len;
	int overlay_line;      /**< where the overlay starts in the file */
	struct scen_action *init; /**< initial state, applied at time 0 */
	size_t n_init;
	struct scen_step *steps;  /**< sorted by at_ms, stable */
	size_t n_steps;
	uint64_t end_ms;       /**< UPS_NEVER: no end given */
};

/** At most this many steps after expanding repeats. */
#define SCEN_MAX_STEPS 100000

/**
 * Parse a scenario document.
 * @param[in]  src   file name for diagnostics
 * @param[out] out   filled on success; free with scen_free()
 * @return UPS_OK, UPS_EPARSE with @p diag set, or UPS_ENOMEM
 */
enum ups_rc scen_parse(const char *src, const char *text, size_t len,
		       struct scen *out, struct ups_diag *diag);
void scen_free(struct scen *s);

/**
 * Parse one control line: a YAML flow mapping with one event key, the same
 * keys as a timeline entry without `at`/`after`/`repeat` (`{line: off}`,
 * `{load: 80}`, `{fault: fan}`, `{wire: {silence: 30s}}`).
 * @return UPS_OK or UPS_EPARSE with @p diag (line 1, column in @p line)
 */
enum ups_rc scen_parse_line(const char *line, size_t len,
			    struct scen_action *out, struct ups_diag *diag);

/** Parse a duration: "250ms", "30s", "5m", "1h30m", "2d", or a bare number
 *  of seconds.  @return UPS_OK or UPS_EPARSE */
enum ups_rc scen_duration(const char *s, uint64_t *ms);

#endif
