/*
 * fuzz_profile.c - libFuzzer target for the profile parser (prof_parse).
 * The input is the YAML text itself.  The parser must never crash, leak or
 * hang; on success the profile must satisfy the invariants the model
 * relies on (list sizes, widths, defaults in range, terminated strings),
 * and on failure the diagnostic must say something.  A violation aborts,
 * which both libFuzzer and replay_main.c report as a failure.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz_profile: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                          \
			abort();                                           \
		}                                                          \
	} while (0)

#define TERMINATED(buf) CHECK(memchr((buf), '\0', sizeof(buf)) != NULL)

static void check_profile(const struct ups_profile *p)
{
	CHECK(p->family != 0 && (p->family & (p->family - 1)) == 0 &&
	      (p->family & ~UPS_FAM_ALL) == 0);
	TERMINATED(p->name);
	TERMINATED(p->description);
	TERMINATED(p->source);
	TERMINATED(p->model);
	TERMINATED(p->firmware_v);
	TERMINATED(p->firmware_b);
	TERMINATED(p->serial);
	TERMINATED(p->mfr_date);
	TERMINATED(p->battery_date);
	TERMINATED(p->copyright);
	TERMINATED(p->level);
	TERMINATED(p->alerts);
	TERMINATED(p->a_extension);
	TERMINATED(p->shutdown_ok);
	TERMINATED(p->measure_fw);
	CHECK(strlen(p->ups_id) == 8); /* padded (ULS p.17) */
	CHECK(strchr("ADIMJ", p->locale) && p->locale);
	CHECK(p->n_extras >= 0 && p->n_extras <= 8);
	for (int i = 0; i < p->n_extras; i++) {
		TERMINATED(p->extras[i].reply);
		CHECK(prof_supports(p, p->extras[i].byte));
	}
	CHECK(p->n_dump_extra >= 0 && p->n_dump_extra <= PROF_MAX_DUMP_EXTRA);
	for (int i = 0; i < p->n_dump_extra; i++)
		CHECK(strlen(p->dump_extra[i]) >= 5);
	for (int b = 0; b < 128; b++) {
		const struct prof_enum *e = &p->eeprom[b];
		if (!e->present)
			continue;
		CHECK(prof_supports(p, (uint8_t)b));
		CHECK(e->count >= 1 && e->count <= PROF_MAX_VALUES);
		CHECK(e->width >= 1 && e->width <= PROF_MAX_WIDTH);
		CHECK(e->def >= 0 && e->def < e->count);
		CHECK(strchr("ADIMJ4", e->locale) && e->locale);
		for (int i = 0; i < e->count; i++)
			CHECK(strlen(e->values[i]) == (size_t)e->width);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ups_profile p;
	struct ups_diag d;
	memset(&d, 0, sizeof d);
	enum ups_rc rc = prof_parse("fuzz", "fuzz", (const char *)data,
				    size, &p, &d);
	if (rc == UPS_OK) {
		check_profile(&p);
	} else {
		CHECK(rc == UPS_EPARSE || rc == UPS_ENOMEM || rc == UPS_ESYS);
		CHECK(d.msg[0] != '\0');
		CHECK(d.line >= 0 && d.col >= 0);
	}
	return 0;
}
