/*
 * fuzz_state.c - libFuzzer target for the --state loader
 * (ups_state_load, sim/core/ups_state.c), on a unit of the default
 * profile.  An input that starts with "!" gets a valid checksum line put
 * in place of its own (the rest of it, from its first line), so the
 * fuzzer reaches the item parser behind the CRC.  The loader must never
 * crash or hang; a refusal must say why (file:line:col, no control
 * characters) and leave the unit exactly as it was; a state it accepts
 * must save again to a text that loads and saves the same.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/profile.h"
#include "upssim/ups.h"
#include "upssim/ups_state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz_state: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                          \
			abort();                                           \
		}                                                          \
	} while (0)

static uint32_t crc32_of(const char *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		c ^= (uint8_t)p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return ~c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ups_profile p;
	static char text[UPS_STATE_MAX + 64], a[UPS_STATE_MAX], b[UPS_STATE_MAX];
	struct ups_diag d;
	if (!p.family)
		CHECK(prof_load_from(NULL, PROF_DEFAULT_NAME, &p, &d) == UPS_OK);
	const char *in = (const char *)data;
	size_t n = size;
	if (n && in[0] == '!') {
		/* the body up to a "checksum" line, then a right one */
		in++;
		n--;
		size_t body = n;
		for (size_t i = 0; i + 9 <= n; i++)
			if ((i == 0 || in[i - 1] == '\n') &&
			    !memcmp(in + i, "checksum ", 9)) {
				body = i;
				break;
			}
		if (body > UPS_STATE_MAX)
			body = UPS_STATE_MAX;
		memcpy(text, in, body);
		n = body + (size_t)snprintf(text + body, sizeof text - body,
					   "checksum 0x%08X\n",
					   (unsigned)crc32_of(text, body));
		in = text;
	}
	struct ups *u = ups_new(&p, 0);
	CHECK(u != NULL);
	ups_state_save(u, a, sizeof a);
	memset(&d, 0, sizeof d);
	enum ups_rc rc = ups_state_load(u, "fuzz.state", in, n, &d);
	if (rc != UPS_OK) {
		CHECK(rc == UPS_EPARSE);
		CHECK(d.msg[0] != '\0');
		for (const char *c = d.msg; *c; c++)
			CHECK((unsigned char)*c >= 0x20 && *c != 0x7F);
		ups_state_save(u, b, sizeof b);
		CHECK(!strcmp(a, b)); /* unchanged */
	} else {
		size_t la = ups_state_save(u, a, sizeof a);
		CHECK(la < sizeof a);
		struct ups *v = ups_new(&p, 0);
		CHECK(v != NULL);
		CHECK(ups_state_load(v, "again", a, la, &d) == UPS_OK);
		ups_state_save(v, b, sizeof b);
		CHECK(!strcmp(a, b));
		ups_free(v);
	}
	ups_free(u);
	return 0;
}
