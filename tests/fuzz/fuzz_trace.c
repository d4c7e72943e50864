/*
 * fuzz_trace.c - libFuzzer target for the trace reader (sim/core/trace.c)
 * and the replay map built from it (sim/core/replay.c).  Any input either
 * reads to its end or stops at an error with a position inside the input;
 * every event read, written back with the writer, reads back the same
 * (time, direction, bytes); and the replay map built from the input
 * answers every key it holds without reading out of bounds.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/replay.h"
#include "upssim/trace.h"
#include "upssim/ups.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz_trace: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                          \
			abort();                                           \
		}                                                          \
	} while (0)

static struct trace_reader rd, rd2;
static char line[TRACE_LINE_MAX * 4 + 64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace_event ev, ev2;
	struct ups_diag d;
	int rc, lines = 0;
	uint64_t last = 0;

	trace_reader_init(&rd, "fuzz", (const char *)data, size);
	while ((rc = trace_next(&rd, &ev, &d)) == 1) {
		CHECK(ev.line > lines);
		lines = ev.line;
		CHECK(ev.t_ms >= last);
		last = ev.t_ms;
		CHECK(ev.note != NULL);
		if (ev.dir == TRACE_NOTE)
			continue;
		CHECK(ev.dir == TRACE_RX || ev.dir == TRACE_TX);
		CHECK(ev.n <= TRACE_LINE_MAX);
		/* written back and read again: the same event */
		uint8_t *copy = malloc(ev.n + 1);
		CHECK(copy);
		memcpy(copy, ev.bytes, ev.n);
		size_t n = trace_format_bytes(line, sizeof line, ev.t_ms, ev.dir,
					      copy, ev.n, NULL);
		CHECK(n < sizeof line);
		trace_reader_init(&rd2, "again", line, n);
		CHECK(trace_next(&rd2, &ev2, &d) == 1);
		CHECK(ev2.t_ms == ev.t_ms && ev2.dir == ev.dir && ev2.n == ev.n);
		CHECK(!memcmp(ev2.bytes, copy, ev.n));
		CHECK(trace_next(&rd2, &ev2, &d) == 0);
		free(copy);
	}
	CHECK(rc == 0 || rc == UPS_EPARSE);
	if (rc == UPS_EPARSE) {
		CHECK(d.line >= 1 && d.col >= 1);
		CHECK(d.msg[0] != '\0');
	}

	/* the replay map over the same text */
	struct replay *rp = replay_new(size & 1 ? REPLAY_LATEST : REPLAY_SEQUENCE,
				       NULL);
	CHECK(rp);
	enum ups_rc r = replay_add_trace(rp, "fuzz", (const char *)data, size, &d);
	CHECK(r == UPS_OK || r == UPS_EPARSE);
	for (size_t i = 0; i < replay_n_commands(rp); i++) {
		size_t nr, len;
		bool present;
		const struct replay_key *k = replay_command(rp, i, &nr);
		CHECK(k && nr >= 1);
		for (size_t j = 0; j < nr; j++) {
			const uint8_t *b = replay_reply(rp, i, j, &len, &present);
			CHECK(b && len <= UPS_REPLY_MAX);
			CHECK(present || len == 0);
		}
		char name[64];
		replay_key_name(k, name, sizeof name);
		CHECK(strlen(name) < sizeof name);
	}
	size_t na;
	const struct replay_alert *al = replay_alerts(rp, &na);
	for (size_t i = 0; i < na; i++)
		CHECK(al[i].byte != 0);
	replay_free(rp);
	return 0;
}
