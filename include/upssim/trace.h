/*
 * trace.h - the project's one format for recorded bytes (docs/trace.md):
 * text, one event a line, stable and diffable.  The simulator (-v,
 * --trace), the harness (--trace), the capture proxy and the importers
 * write it; the replay layer and `upssim-trace` read it.  Pure: the reader
 * parses a buffer it is given and the writer formats into a caller's
 * buffer; neither opens a file nor allocates.
 *
 *   <seconds.millis> rx "<C-escaped bytes>" [note]   bytes the UPS received
 *   <seconds.millis> tx "<C-escaped bytes>" [note]   bytes the UPS sent
 *   <seconds.millis> <note words...>                 an event (host-open ...)
 *   # comment                                        ignored, as are blank
 *                                                    lines and "upssim: " ones
 *
 * Directions are the UPS's: `rx` is host to UPS.  A trace recorded on the
 * host side (the harness) says so in its first note, `trace v1 side=host`,
 * and the reader turns its directions round, so every reader sees the
 * UPS's view.
 */
#ifndef UPSSIM_TRACE_H
#define UPSSIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "upssim/rc.h"

/** Longest line the reader accepts, without its LF. */
#define TRACE_LINE_MAX 65536
/** Raw bytes a writer puts on one line (the engine and importers split). */
#define TRACE_CHUNK 1024
/** The format's version, written in the header note. */
#define TRACE_VERSION 1

enum trace_dir {
	TRACE_NOTE = 0, /**< an event line: .note holds its text */
	TRACE_RX,       /**< host -> UPS */
	TRACE_TX,       /**< UPS -> host */
};

struct trace_event {
	uint64_t t_ms;        /**< time of the line, milliseconds */
	enum trace_dir dir;
	const uint8_t *bytes; /**< rx/tx: the decoded bytes (reader-owned) */
	size_t n;
	const char *note;     /**< NOTE: the text after the time; rx/tx: the
				   text after the quoted bytes, or "" */
	int line;             /**< 1-based line number in the input */
};

/** Reads one trace held in memory; see trace_reader_init(). */
struct trace_reader {
	const char *text;
	size_t len, pos;
	int line;
	char src[256];
	bool host_side;       /**< directions are swapped (side=host) */
	bool seen_event;      /**< a timed line was read */
	bool seen_bytes;      /**< an rx/tx line was read */
	uint64_t last_t;
	uint8_t buf[TRACE_LINE_MAX];
	char note[1024];
};

/**
 * Start reading @p text (@p len bytes, need not be NUL-terminated).
 * @param[in] src  name used in diagnostics ("file.trace")
 */
void trace_reader_init(struct trace_reader *r, const char *src,
		       const char *text, size_t len);

/**
 * Read the next event.  The event's pointers stay valid until the next
 * call.  Errors name the line and column: "x.trace:12:9: bad escape \q".
 * Times must not go backwards.
 * @param[out] ev  the event, when 1 is returned
 * @param[out] d   filled on error (may be NULL)
 * @return 1 an event, 0 the end, UPS_EPARSE (d filled) or UPS_EARG
 */
int trace_next(struct trace_reader *r, struct trace_event *ev,
	       struct ups_diag *d);

/**
 * Write @p n bytes as the format's quoted string: `"` then each byte as
 * itself (printable ASCII but `"` and `\`), `\r`, `\n`, `\"`, `\\` or
 * `\xHH` (upper-case hex), then `"`.  Output that does not fit is cut
 * before an escape, never inside one; @p out is NUL-terminated if @p cap.
 * @return the length the whole string needs (as snprintf)
 */
size_t trace_escape(const uint8_t *p, size_t n, char *out, size_t cap);

/**
 * Decode a quoted string written by trace_escape() (also accepting `\t`,
 * `\0` and lower-case hex) that starts at @p s[0] == '"'.
 * @param[out] out   decoded bytes, at most @p cap
 * @param[out] n     how many
 * @param[out] used  characters of @p s consumed, the closing quote included
 * @param[out] col   on error, the 0-based offset of the offending character
 * @return NULL, or a static message on error
 */
const char *trace_unescape(const char *s, size_t len, uint8_t *out, size_t cap,
			   size_t *n, size_t *used, size_t *col);

/** Write the time @p t_ms as "<seconds>.<millis>" into @p out. */
size_t trace_format_time(uint64_t t_ms, char *out, size_t cap);

/**
 * Format one rx/tx line (with LF) into @p out; at most TRACE_CHUNK bytes
 * belong on a line: callers split longer runs.
 * @param[in] note  text after the bytes, or NULL
 * @return the length needed (as snprintf)
 */
size_t trace_format_bytes(char *out, size_t cap, uint64_t t_ms,
			  enum trace_dir dir, const uint8_t *p, size_t n,
			  const char *note);

/** Format one note line (with LF). @return the length needed */
size_t trace_format_note(char *out, size_t cap, uint64_t t_ms,
			 const char *note);

/** "rx", "tx" or "note". */
const char *trace_dir_name(enum trace_dir d);

#endif
