/*
 * import_check.h - the body of every importer fuzz target (fuzz_import_*.c):
 * any input either imports or is refused with a diagnostic, never crashes;
 * what an importer writes is always a valid trace (trace.h) that reads to
 * its end, and a replay map builds from it.
 */
#ifndef UPSSIM_FUZZ_IMPORT_CHECK_H
#define UPSSIM_FUZZ_IMPORT_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/replay.h"
#include "upssim/trace.h"
#include "upssim/trace_import.h"

#define ICHECK(cond)                                                       \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                           \
		}                                                          \
	} while (0)

static struct trace_reader import_rd;

static inline int import_check(enum trace_fmt fmt, const uint8_t *data,
			       size_t size)
{
	struct ups_buf out = { 0 };
	struct ups_diag d;
	struct trace_import_opts o = { .socat_ups_first = size & 1 };
	memset(&d, 0, sizeof d);
	enum ups_rc rc = trace_import(fmt, "fuzz", (const char *)data, size, &o,
				      &out, &d);
	ICHECK(rc == UPS_OK || rc == UPS_EPARSE);
	if (rc == UPS_EPARSE)
		ICHECK(d.msg[0] != '\0');
	if (rc == UPS_OK) {
		struct trace_event ev;
		int got;
		trace_reader_init(&import_rd, "out", (const char *)out.data, out.len);
		while ((got = trace_next(&import_rd, &ev, &d)) == 1)
			;
		if (got != 0)
			fprintf(stderr, "import wrote a bad trace: %d:%d: %s\n",
				d.line, d.col, d.msg);
		ICHECK(got == 0);
		struct replay *rp = replay_new(REPLAY_SEQUENCE, NULL);
		ICHECK(rp);
		ICHECK(replay_add_trace(rp, "out", (const char *)out.data, out.len,
					&d) == UPS_OK);
		replay_free(rp);
	}
	(void)trace_fmt_detect((const char *)data, size);
	ups_buf_free(&out);
	return 0;
}

#endif
