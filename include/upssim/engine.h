/*
 * engine.h - wires one simulated unit to one transport inside an event
 * loop: bytes read are fed to the unit with the loop's time, what the unit
 * sends is written back (buffered across short writes), and a timer
 * follows the unit's next deadline.  Optionally traces every byte.
 */
#ifndef UPSSIM_ENGINE_H
#define UPSSIM_ENGINE_H

#include <stdbool.h>
#include <stdio.h>
#include "upssim/evloop.h"
#include "upssim/transport.h"
#include "upssim/ups.h"
#include "upssim/scenario.h"

struct engine;

/**
 * Start serving @p u over @p t in loop @p l.  Nothing is owned: the caller
 * frees the unit, transport and loop after engine_free().
 * @param[in] trace  if not NULL, one line per event: "<sec> rx|tx <bytes>"
 */
struct engine *engine_new(struct evl *l, struct transport *t, struct ups *u,
			  FILE *trace);
void engine_free(struct engine *e);

/**
 * The transport is gone for good (a serial adapter unplugged, the far end
 * of a tty closed): the engine stopped the loop.
 * @param[out] why  a short reason, if @p why is not NULL
 * @return true if the transport was lost
 */
bool engine_lost(const struct engine *e, const char **why);

/** Bytes queued for the host and not yet written (at most about 64 KiB
 *  plus one input piece's replies, however the host misbehaves). */
size_t engine_queued(const struct engine *e);

/**
 * The unit was changed from outside the engine's own timers (a scenario
 * event, a control line): bring it to now, send what it produced at once
 * and follow its new next deadline.
 */
void engine_poke(struct engine *e);

/**
 * Apply a scenario or control event to the unit (ups_apply) and send what
 * it causes at once.  @return ups_apply()'s result
 */
enum ups_rc engine_apply(struct engine *e, const struct ups_event *ev);

struct wire_fault;
/** Start a wire fault between the unit and the host (scenario.h). */
void engine_wire(struct engine *e, const struct wire_fault *wf);

/** Called after each thing the engine does: @p what is "cmd <bytes>" for
 *  host bytes fed to the unit, "event <name>" for engine_apply, "tick" for
 *  the unit's own timers, "wire <kind>" for a wire fault. */
typedef void (*engine_observer)(void *ctx, const char *what);
void engine_set_observer(struct engine *e, engine_observer fn, void *ctx);

/** @return true while a host has the device open (pty), or always true for
 *  a transport that cannot tell */
bool engine_host_attached(const struct engine *e);


/**
 * Also write the trace to @p f (`--trace FILE`), starting with the note
 * @p header (docs/trace.md: "trace v1 side=ups ..."); the engine does not
 * close it.  -v's stream, if any, keeps getting the same lines.
 */
void engine_set_trace_file(struct engine *e, FILE *f, const char *header);

/** Write a note line (docs/trace.md) to the trace now. */
void engine_note(struct engine *e, const char *text);

/** Send @p n bytes to the host now, as if the unit had (replayed alerts). */
void engine_send(struct engine *e, const uint8_t *p, size_t n);

struct lint;
/**
 * Lint the host (lint.h): from now on every finding is written to the
 * trace as a `lint RULE "BYTES" message` note.  Idempotent.
 * @return the lint's state (counts, summary), or NULL if out of memory
 */
const struct lint *engine_lint(struct engine *e);

#endif
