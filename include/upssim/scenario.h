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
	/**
	 * The text of `profile.override` for prof_overlay(), or NULL: the
	 * source span itself, after as many spaces as put its first
	 * character on its own column.  Its columns are the file's and its
	 * line N is the file's line overlay_line + N - 1, so a diagnostic
	 * from prof_overlay(p, overlay, overlay_len, source, d) reads right
	 * after d.line += overlay_line - 1.  NUL-terminated.
	 */
	char *overlay;
	size_t overlay_len;
	int overlay_line;      /**< 1-based file line of the overlay's line 1 */
	struct scen_action *init; /**< initial state, applied at time 0 in
				       this order (docs/scenarios.md) */
	size_t n_init;
	struct scen_step *steps;  /**< sorted by at_ms, stable: ties keep the
				       file's order (entry, then repeat) */
	size_t n_steps;
	uint64_t end_ms;       /**< UPS_NEVER: no end given */
};

/** At most this many steps after expanding repeats. */
#define SCEN_MAX_STEPS 100000

/**
 * Parse a scenario document.
 * @param[in]  src   file name for diagnostics (its stem is .name)
 * @param[in]  text  YAML, @p len bytes (need not be NUL-terminated),
 *                   at most PROF_MAX_TEXT
 * @param[out] out   filled on success; free with scen_free().  On failure
 *                   it holds nothing (scen_free() is harmless)
 * @return UPS_OK, UPS_EPARSE with @p diag set, UPS_ENOMEM, or UPS_EARG
 *         (@p out NULL, or @p text NULL with @p len > 0)
 */
enum ups_rc scen_parse(const char *src, const char *text, size_t len,
		       struct scen *out, struct ups_diag *diag);
void scen_free(struct scen *s);

/**
 * Parse one control line: a YAML flow mapping with one event key, the same
 * keys as a timeline entry without `at`/`after`/`repeat` (`{line: off}`,
 * `{load: 80}`, `{fault: fan}`, `{wire: {silence: 30s}}`).  At most 4096
 * bytes; a final LF or CR LF is allowed, no other line break.
 * @param[out] out  filled on success, zeroed on failure
 * @return UPS_OK, UPS_EPARSE with @p diag (file "<control>", line 1,
 *         column in @p line), UPS_ENOMEM, or UPS_EARG
 */
enum ups_rc scen_parse_line(const char *line, size_t len,
			    struct scen_action *out, struct ups_diag *diag);

/** Parse a duration: "250ms", "30s", "5m", "1h30m", "1h 30m", "2d",
 *  "1.5s", or a bare number of seconds; units largest first, each once; a
 *  whole number of milliseconds, at most 3650 days.  *@p ms is set only on
 *  success.  @return UPS_OK, UPS_EPARSE, or UPS_EARG (a NULL pointer) */
enum ups_rc scen_duration(const char *s, uint64_t *ms);

#endif
