/*
 * trace_import.h - turn captures people already have into the project's
 * trace format (trace.h), so `upssim --replay` can answer like the unit in
 * them.  Pure: text in, trace text out, file:line:col diagnostics; no file
 * is opened.  What each format can and cannot recover is in docs/trace.md
 * ("Importers"); lines the importer had to reconstruct carry a note saying
 * so (`tx "0022:\r\n" nut battery.runtime=1320`).
 *
 *   nut      NUT apcsmart (2.8) debug output, -DDDDD: queries from the
 *            poll_data / preread_data / update_status lines, replies from
 *            the SETINFO values (converted back to UPS-Link form)
 *   apcupsd  apcupsd -d debug output: the "Got CI_xxx: value" lines
 *   socat    socat -x -v (hex) or -v (text) dumps of the serial line
 *   nut-dev  a NUT device dump (.dev, or upsc output): values only
 */
#ifndef UPSSIM_TRACE_IMPORT_H
#define UPSSIM_TRACE_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include "upssim/rc.h"
#include "upssim/ups.h"

enum trace_fmt {
	TF_UNKNOWN = 0,
	TF_TRACE,    /**< already the trace format */
	TF_NUT,      /**< NUT apcsmart debug output */
	TF_APCUPSD,  /**< apcupsd debug output */
	TF_SOCAT,    /**< socat -x -v / -v dump */
	TF_NUT_DEV,  /**< NUT .dev device dump or upsc output */
};

struct trace_import_opts {
	/** socat: the UPS was socat's first address, so `>` is UPS -> host
	 *  (default: the host's side first, `>` is host -> UPS) */
	bool socat_ups_first;
};

/** "nut", "apcupsd", "socat", "nut-dev", "trace"; TF_UNKNOWN if none. */
enum trace_fmt trace_fmt_from_name(const char *name);
const char *trace_fmt_name(enum trace_fmt f);

/** Guess the format of @p text from its first lines. */
enum trace_fmt trace_fmt_detect(const char *text, size_t len);

/**
 * Convert @p text (format @p f) to trace text appended to @p out: a header
 * note, then the events in time order.
 * @param[in] src  name for diagnostics and the header
 * @param[in] o    options (may be NULL)
 * @param[out] d   filled on UPS_EPARSE (may be NULL)
 * @return UPS_OK, UPS_EPARSE (nothing recognisable in the input, or a
 *         malformed line the format cannot skip), UPS_ENOMEM, UPS_EARG
 */
enum ups_rc trace_import(enum trace_fmt f, const char *src, const char *text,
			 size_t len, const struct trace_import_opts *o,
			 struct ups_buf *out, struct ups_diag *d);

#endif
