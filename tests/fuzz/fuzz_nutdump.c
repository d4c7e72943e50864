/*
 * fuzz_nutdump.c - libFuzzer target for the NUT device-dump importer
 * (sim/core/nutdump.c).  The input is the dump; if it starts with "//",
 * its first line (without the slashes) is the dump's file name, so the
 * nut-ddl file-name parser is fuzzed too.  The importer must never crash,
 * leak or hang; a failed parse must say why (file:line:col, no control
 * characters); and every profile it writes must load: prof_parse()
 * accepts it.  A violation aborts, which both libFuzzer and replay_main.c
 * report as a failure.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/nutdump.h"
#include "upssim/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz_nutdump: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                          \
			abort();                                           \
		}                                                          \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nutdump dump;
	static struct ups_profile p;
	const char *text = (const char *)data;
	char name[128] = "";
	bool named = size >= 2 && text[0] == '/' && text[1] == '/';
	if (named) {
		const char *nl = memchr(text, '\n', size);
		size_t n = nl ? (size_t)(nl - text) - 2 : size - 2;
		if (n >= sizeof name)
			n = sizeof name - 1;
		memcpy(name, text + 2, n);
		name[n] = '\0';
		size_t skip = nl ? (size_t)(nl - text) + 1 : size;
		text += skip;
		size -= skip;
	}
	struct ups_diag d;
	memset(&d, 0, sizeof d);
	enum ups_rc rc = nutdump_parse("fuzz.dev", text, size, &dump, &d);
	if (rc != UPS_OK) {
		CHECK(rc == UPS_EPARSE);
		CHECK(d.msg[0] != '\0');
		for (const char *c = d.msg; *c; c++)
			CHECK((unsigned char)*c >= 0x20 && *c != 0x7F);
		return 0;
	}
	CHECK(dump.n_vars > 0 && dump.n_vars <= NUTDUMP_MAX_VARS);
	CHECK(dump.n_notes >= 0 && dump.n_notes <= NUTDUMP_MAX_NOTES);
	for (int i = 0; i < dump.n_vars; i++) {
		CHECK(memchr(dump.vars[i].name, '\0', NUTDUMP_NAME) != NULL);
		CHECK(memchr(dump.vars[i].value, '\0', NUTDUMP_VALUE) != NULL);
		CHECK(nutdump_get(&dump, dump.vars[i].name) != NULL);
	}
	struct ups_buf yaml = { 0 };
	rc = nutdump_profile(&dump, named ? name : NULL, &yaml);
	CHECK(rc == UPS_OK);
	CHECK(yaml.data && yaml.data[yaml.len] == '\0');
	CHECK(strlen((const char *)yaml.data) == yaml.len);
	memset(&d, 0, sizeof d);
	rc = prof_parse("imported", "imported.yaml", (const char *)yaml.data,
			yaml.len, &p, &d);
	if (rc != UPS_OK) {
		fprintf(stderr, "fuzz_nutdump: the profile written does not load: "
			"%s:%d:%d: %s\n%s\n", d.file, d.line, d.col, d.msg,
			(const char *)yaml.data);
		abort();
	}
	ups_buf_free(&yaml);
	return 0;
}
