/*
 * fuzz_profile.c - libFuzzer target for the profile parser (prof_parse,
 * built-in profiles only: no file is read) and for prof_overlay, which
 * lays the same input on top of the default profile.  The input is the
 * YAML text itself.  The parser must never crash, leak or hang; on
 * success the profile must satisfy the invariants the model relies on
 * (list sizes, widths, defaults in range, terminated strings, every reply
 * within UPS_REPLY_MAX, extras only where the table is silent), on
 * failure the diagnostic must say something and a failed overlay must
 * leave its profile as it was.  A violation aborts, which both libFuzzer
 * and replay_main.c report as a failure.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/profile.h"
#include "upssim/ups.h"

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
	TERMINATED(p->ups_id); /* as written; padded by the unit if asked */
	TERMINATED(p->a_commands);
	CHECK(strchr("ADIMJ", p->locale) && p->locale);
	CHECK(p->n_extras >= 0 && p->n_extras <= PROF_MAX_EXTRAS);
	for (int i = 0; i < p->n_extras; i++) {
		TERMINATED(p->extras[i].reply);
		CHECK(prof_supports(p, p->extras[i].byte));
		CHECK(p->extras[i].byte >= 128 ||
		      !p->eeprom[p->extras[i].byte].present);
	}
	CHECK(ups_reply_max(p) <= UPS_REPLY_MAX);
	CHECK(ups_dump_string(p, NULL, 0) <= UPS_REPLY_MAX);
	CHECK(p->n_dump_extra >= 0 && p->n_dump_extra <= PROF_MAX_DUMP_EXTRA);
	for (int i = 0; i < p->n_dump_extra; i++)
		CHECK(strlen(p->dump_extra[i]) >= 5);
	CHECK(p->n_dump_order >= 0 && p->n_dump_order <= PROF_MAX_DUMP_ORDER);
	CHECK(p->serial_len < sizeof p->serial);
	for (int b = 0; b < 128; b++) {
		const struct prof_enum *e = &p->eeprom[b];
		if (!e->present)
			continue;
		CHECK(prof_supports(p, (uint8_t)b));
		CHECK(e->count >= 1 && e->count <= PROF_MAX_VALUES);
		CHECK(e->width >= 1 && e->width <= PROF_MAX_WIDTH);
		CHECK(e->def >= 0 && e->def < e->count);
		CHECK(e->cur >= 0 && e->cur < e->count);
		CHECK(strchr("ADIMJ4", e->locale) && e->locale);
		for (int i = 0; i < e->count; i++)
			CHECK(strlen(e->values[i]) == (size_t)e->width);
	}
}

static void check_failure(enum ups_rc rc, const struct ups_diag *d)
{
	CHECK(rc == UPS_EPARSE || rc == UPS_ENOMEM);
	CHECK(d->msg[0] != '\0');
	CHECK(d->line >= 0 && d->col >= 0);
	for (const char *c = d->msg; *c; c++)
		CHECK((unsigned char)*c >= 0x20 && *c != 0x7F);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ups_profile p, base, o;
	struct ups_diag d;
	memset(&d, 0, sizeof d);
	enum ups_rc rc = prof_parse("fuzz", "fuzz", (const char *)data,
				    size, &p, &d);
	if (rc == UPS_OK)
		check_profile(&p);
	else
		check_failure(rc, &d);

	if (!base.family)
		CHECK(prof_load_from(NULL, PROF_DEFAULT_NAME, &base, &d) ==
		      UPS_OK);
	o = base;
	memset(&d, 0, sizeof d);
	rc = prof_overlay(&o, (const char *)data, size, "fuzz", &d);
	if (rc == UPS_OK) {
		check_profile(&o);
		CHECK(!strcmp(o.name, base.name));
	} else {
		check_failure(rc, &d);
		CHECK(memcmp(&o, &base, sizeof o) == 0);
	}
	return 0;
}
