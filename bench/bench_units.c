/*
 * bench_units.c - how many simulated units one process can serve: creates
 * N units of the default profile and drives each through NUT's poll cycle
 * (Q C P X L F 9 G M N O f B j) under virtual time.  Prints figures; it is
 * a benchmark, not a test (speed goals never go in timed tests).
 *   bench_units [UNITS] [CYCLES]
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "upssim/profile.h"
#include "upssim/ups.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int units = argc > 1 ? atoi(argv[1]) : 1000;
	int cycles = argc > 2 ? atoi(argv[2]) : 200;
	if (units <= 0 || cycles <= 0) {
		fprintf(stderr, "usage: %s [UNITS] [CYCLES]\n", argv[0]);
		return 2;
	}
	static struct ups_profile p;
	struct ups_diag d;
	if (prof_load_from(NULL, PROF_DEFAULT_NAME, &p, &d) != UPS_OK) {
		fprintf(stderr, "cannot load profile: %s\n", d.msg);
		return 1;
	}
	struct mallinfo2 before = mallinfo2();
	struct ups **u = calloc((size_t)units, sizeof *u);
	for (int i = 0; i < units; i++)
		u[i] = ups_new(&p, 0);
	struct mallinfo2 after = mallinfo2();

	static const char poll[] = "QCPXLF9GMNOfBj";
	struct ups_buf out = { 0 };
	size_t bytes_out = 0;
	for (int i = 0; i < units; i++)
		ups_feed(u[i], (const uint8_t *)"Y", 1, 0, &out);
	double t0 = now_s();
	for (int c = 0; c < cycles; c++) {
		uint64_t t = (uint64_t)(c + 1) * 2000; /* NUT polls every 2 s */
		for (int i = 0; i < units; i++) {
			ups_tick(u[i], t, &out);
			ups_feed(u[i], (const uint8_t *)poll, sizeof poll - 1, t, &out);
			bytes_out += out.len;
			out.len = 0;
		}
	}
	double dt = now_s() - t0;
	double cmds = (double)units * cycles * (double)(sizeof poll - 1);
	printf("units: %d, poll cycles: %d, commands: %.0f\n", units, cycles, cmds);
	printf("time: %.3f s, %.0f commands/s, %.0f ns/command\n", dt, cmds / dt,
	       dt / cmds * 1e9);
	printf("virtual time covered: %.1f h per unit; reply bytes: %zu\n",
	       cycles * 2.0 / 3600.0, bytes_out);
	printf("memory: %.1f KiB per unit (heap, profile shared)\n",
	       (double)(after.uordblks - before.uordblks) / units / 1024.0);
	for (int i = 0; i < units; i++)
		ups_free(u[i]);
	free(u);
	ups_buf_free(&out);
	return 0;
}
