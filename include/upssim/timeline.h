/*
 * timeline.h - `--timeline FILE.csv`: the unit's observable state as a CSV
 * file, one row per call, for plotting (scripts/plot-timeline.sh) and for
 * diffing two runs.  The output is deterministic: fixed decimals, no
 * locale, no wall-clock time, so the same run writes the same bytes.  When
 * to write a row (each state change, each host command) is the caller's
 * choice; timeline_changed() says whether a row would show anything new.
 *
 * Columns (header row first):
 *   t_s          scenario time in seconds, three decimals (12.345)
 *   event        free text, CSV-quoted when needed ("" doubled); control
 *                bytes and invalid UTF-8 are written as \xNN, so every
 *                row is one physical line
 *   Q            the Q register as two hex digits (08 = on line)
 *   charge_pct   one decimal        runtime_min  one decimal
 *   line_v       one decimal        out_v        one decimal
 *   load_pct     one decimal        batt_v       two decimals
 */
#ifndef UPSSIM_TIMELINE_H
#define UPSSIM_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>
#include "upssim/rc.h"
#include "upssim/ups.h"

#define TIMELINE_HEADER                                                        \
	"t_s,event,Q,charge_pct,runtime_min,line_v,out_v,load_pct,batt_v"

struct timeline;

/**
 * Create (or truncate) @p path and write the header row.
 * @param[out] out  the writer, or NULL on error
 * @param[out] err  on error, "<path>: <reason>" (may be NULL)
 * @return UPS_OK, UPS_EARG, UPS_ESYS (errno kept) or UPS_ENOMEM
 */
enum ups_rc timeline_open(const char *path, struct timeline **out, char *err,
			  size_t errlen);

/**
 * Write one row and flush it, so the file can be watched while it grows.
 * @param[in] event  row's event text; NULL or "" for an empty field
 * @return UPS_OK, or UPS_ESYS if the write failed (errno kept; later rows
 *         are still tried)
 */
enum ups_rc timeline_row(struct timeline *tl, uint64_t t_ms, const char *event,
			 const struct ups_status *st);

/**
 * Close the file.  NULL is a no-op.
 * @return UPS_OK, or UPS_ESYS if any row or the close failed: the file is
 *         incomplete (disk full, I/O error)
 */
enum ups_rc timeline_close(struct timeline *tl);

/**
 * @return true if @p a and @p b differ in anything a row shows (Q, charge,
 *         runtime, line and output voltage, load, battery voltage, each at
 *         the precision written) or in whether the output is on
 */
bool timeline_changed(const struct ups_status *a, const struct ups_status *b);

/**
 * Format a row without its newline (what timeline_row() writes), for tests
 * and for callers with their own output.
 * @return as snprintf: the full length; @p buf is NUL-terminated if
 *         @p cap > 0
 */
size_t timeline_format_row(uint64_t t_ms, const char *event,
			   const struct ups_status *st, char *buf, size_t cap);

#endif
