/*
 * test_nutdump.c - unit tests for the NUT device-dump importer
 * (sim/core/nutdump.c): each of the 13 nut-ddl dumps in tests/data parses
 * and gives a profile the loader accepts; the variables land in the
 * profile fields they stand for (identity, firmware and locale, nominal
 * values, EEPROM lists with the dump's value current, packs, the command
 * set the dump implies); what NUT showed in another unit or name is
 * converted back (seconds to minutes, hours, V codes, old names); every
 * value is commented as taken from the dump or guessed; unusable lines
 * become comments; input that is not a dump is refused with a position.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/nutdump.h"
#include "upssim/profile.h"
#include "upssim/ups.h"

#define DDL UPSSIM_SOURCE_DIR "/tests/data/nut-ddl/APC/"

static struct nutdump dump;
static struct ups_profile prof;
static struct ups_buf yaml;

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[65536];
	*len = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

/* Import @p text (file name @p name), load the profile written. */
static void import_text(const char *name, const char *text, size_t len)
{
	struct ups_diag d = { 0 };
	assert_int_equal(nutdump_parse(name, text, len, &dump, &d), UPS_OK);
	ups_buf_free(&yaml);
	assert_int_equal(nutdump_profile(&dump, name, &yaml), UPS_OK);
	enum ups_rc rc = prof_parse("imported", "imported.yaml",
				    (const char *)yaml.data, yaml.len, &prof, &d);
	if (rc != UPS_OK)
		fail_msg("%s: the profile does not load: %d:%d: %s\n%s", name,
			 d.line, d.col, d.msg, (const char *)yaml.data);
}

static void import_file(const char *base)
{
	char path[512];
	size_t len;
	snprintf(path, sizeof path, DDL "%s", base);
	char *text = read_all(path, &len);
	import_text(path, text, len);
}

static const struct prof_enum *list(uint8_t cmd)
{
	assert_true(prof.eeprom[cmd].present);
	return &prof.eeprom[cmd];
}

static const char *cur(uint8_t cmd)
{
	const struct prof_enum *e = list(cmd);
	return e->values[e->cur];
}

static void assert_values(uint8_t cmd, const char *want)
{
	const struct prof_enum *e = list(cmd);
	char got[80] = "";
	for (int i = 0; i < e->count; i++) {
		strcat(got, e->values[i]);
		strcat(got, i + 1 < e->count ? " " : "");
	}
	assert_string_equal(got, want);
}

/* The YAML line that sets @p key (first match, "  key: ..."). */
static const char *yaml_line(const char *key)
{
	static char line[512];
	char pat[64];
	snprintf(pat, sizeof pat, "\n  %s: ", key);
	const char *p = strstr((const char *)yaml.data, pat);
	assert_non_null(p);
	p++;
	size_t n = strcspn(p, "\n");
	snprintf(line, sizeof line, "%.*s", (int)n, p);
	return line;
}

/* Every value line ("  key: value") carries a comment, except the
 * EEPROM entries (their comment is the line above) and commands.add /
 * remove (one comment line per byte below). */
static void assert_all_commented(const char *name)
{
	const char *l = (const char *)yaml.data;
	while (*l) {
		size_t n = strcspn(l, "\n");
		char buf[600];
		snprintf(buf, sizeof buf, "%.*s", (int)n, l);
		bool value = n > 4 && !strncmp(buf, "  ", 2) && buf[2] != ' ' &&
			     buf[2] != '#' && strncmp(buf, "  add:", 6) &&
			     strncmp(buf, "  remove:", 9) &&
			     !strstr(buf, "{ locale:");
		if (value && !strstr(buf, "   # "))
			fail_msg("%s: no comment on: %s", name, buf);
		l += n + (l[n] != '\0');
	}
}

/* ---- every dump ---- */

static void test_every_dump_imports(void **state)
{
	(void)state;
	DIR *dir = opendir(DDL);
	assert_non_null(dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 5 || strcmp(e->d_name + l - 4, ".dev"))
			continue;
		import_file(e->d_name);
		n++;
		/* a unit of it starts on line with its own readings */
		struct ups *u = ups_new(&prof, 0);
		assert_non_null(u);
		struct ups_status st;
		ups_get_status(u, 1000, &st);
		if (st.on_battery || !st.output_on)
			fail_msg("%s: the imported unit starts on battery or off",
				 e->d_name);
		ups_free(u);
		/* every value line says where it came from */
		assert_all_commented(e->d_name);
	}
	closedir(dir);
	assert_int_equal(n, 13);
}

/* ---- field mapping ---- */

static void test_smart_ups_1500(void **state)
{
	(void)state;
	import_file("APC__Smart-UPS_1500__apcsmart__2.2.1__01.dev");
	assert_int_equal(prof.family, UPS_FAM_SU3);
	assert_string_equal(prof.model, "Smart-UPS 1500");
	assert_string_equal(prof.firmware_b, "601.3.I");
	assert_string_equal(prof.firmware_v, "");      /* not in the dump */
	assert_string_equal(prof.serial, "AS0537230534(");
	assert_string_equal(prof.mfr_date, "09/06/05");
	assert_string_equal(prof.battery_date, "09/06/05");
	assert_string_equal(prof.ups_id, "UPS_IDEN");
	assert_int_equal(prof.locale, 'I');            /* b's country char */
	assert_int_equal(prof.nominal_voltage, 230);
	assert_true(prof.nominal_freq == 50);
	/* the dump's settings are current, ULS lists around them */
	assert_string_equal(cur('u'), "253");
	assert_string_equal(cur('l'), "208");
	assert_values('l', "196 188 208 204");
	assert_string_equal(cur('q'), "02");          /* 120 s */
	assert_string_equal(cur('E'), "336");         /* 1209600 s */
	assert_string_equal(cur('p'), "090");         /* not in ULS's list */
	assert_string_equal(list('p')->values[list('p')->def], "020");
	assert_string_equal(cur('s'), "H");
	assert_string_equal(cur('o'), "230");
	/* battery.packs 000: the unit answers `>` */
	assert_true(prof_supports(&prof, '>'));
	assert_int_equal(prof.battery_packs, 0);
	assert_true(prof_supports(&prof, 'C'));
	/* readings at start */
	assert_true(prof.line_voltage == 236.1);
	assert_true(prof.line_min == 233.2);
	assert_true(prof.load_pct == 4.5);
	assert_true(prof.battery_start_v == 27.40);
	assert_int_equal(prof.transfer_cause, 'S');
	/* the unit's runtime (j) reads back as the dump's 3720 s */
	struct ups *u = ups_new(&prof, 0);
	struct ups_status st;
	ups_get_status(u, 0, &st);
	assert_int_equal((int)st.runtime_min, 62);
	ups_free(u);
	/* the dump's own comment and the unused lines are kept */
	assert_non_null(strstr((const char *)yaml.data, "# Dump comment: The "
			       "commands to shutdown the UPS"));
	assert_non_null(strstr((const char *)yaml.data, "# Not used from the dump:"));
	assert_non_null(strstr((const char *)yaml.data,
			       "driver.parameter.port: /dev/ttyS0"));
	assert_non_null(strstr(yaml_line("firmware_v"), "# guess:"));
	assert_non_null(strstr(yaml_line("model"), "# dump: ups.model"));
}

static void test_sc450_rw_lists(void **state)
{
	(void)state;
	import_file("APC__Smart-UPS_SC450_RM__apcsmart__2.6.1__01.dev");
	/* the #RW choices are the unit's lists, in its ^Z order */
	assert_values('u', "253 257 261 265");
	assert_values('l', "208 204 200 196");
	assert_values('p', "060 180 300 600");
	assert_values('o', "230");
	/* NUT shows s H M L and E 1209600 604800 0: the ULS lists with
	 * their repeats ("L" twice, "ON " and "OFF" both 0) */
	assert_values('s', "H M L L");
	assert_values('E', "336 168 ON  OFF");
	assert_values('q', "02 05 07 10");            /* 120..600 s */
	/* no ups.temperature in a complete 2.6 dump: no C */
	assert_false(prof_supports(&prof, 'C'));
	assert_string_equal(prof.firmware_v, "DWI");  /* ups.firmware.old */
	assert_string_equal(prof.firmware_b, "736.1.I");
	assert_true(prof.battery_nominal_v == 12);
	assert_int_equal(prof.transfer_cause, 'R');   /* NUT 2.6 words */
	/* #CMD: the instant commands it lists are answered */
	assert_true(prof_supports(&prof, 'D'));
	assert_true(prof_supports(&prof, 'U'));
	assert_true(prof_supports(&prof, '@'));
}

static void test_matrix_2_2(void **state)
{
	(void)state;
	import_file("APC__Matrix-UPS_3000__apcsmart__2.2.0__02.dev");
	assert_int_equal(prof.family, UPS_FAM_MATRIX);
	/* NUT's own "Smart-UPS": the model from the file name; the V code
	 * NUT's compatibility table knows a 230 V Matrix 3000 by */
	assert_string_equal(prof.model, "Matrix-UPS 3000");
	assert_string_equal(prof.firmware_v, "0ZI");
	assert_string_equal(prof.firmware_b, "");
	assert_string_equal(prof.serial, "00000000"); /* masked: ******** */
	assert_non_null(strstr(yaml_line("serial"), "# guess: the dump's serial is masked"));
	assert_int_equal(prof.battery_packs, 3);
	assert_int_equal(prof.bad_packs, 0);
	assert_values('l', "176");                    /* ULS: NO; the unit: 176 */
	assert_values('e', "00");
	assert_string_equal(cur('u'), "264");
	assert_string_equal(cur('q'), "10");          /* 600 s */
	assert_string_equal(cur('k'), "L");
	assert_true(prof.double_conversion);
	assert_true(prof.battery_nominal_v == 48);
}

static void test_old_smart_ups(void **state)
{
	(void)state;
	import_file("APC__Smart-UPS_1250__apcsmart__2.2.2__01.dev");
	assert_int_equal(prof.family, UPS_FAM_SU2);
	assert_string_equal(prof.firmware_v, "8QI");
	assert_string_equal(prof.ups_id, "adler");
	assert_string_equal(cur('E'), "OFF");         /* 0: ON or OFF */
	assert_string_equal(cur('o'), "220");
	assert_string_equal(cur('e'), "90");
	assert_values('e', "00 10 25 90");            /* older models' list */
	assert_false(prof_supports(&prof, '>'));      /* no battery.packs */
	import_file("APC__Smart-UPS_600__apcsmart__2.2.0__01.dev");
	assert_string_equal(prof.firmware_v, "6QI");
	assert_string_equal(cur('u'), "260");         /* not in ULS's list */
	assert_string_equal(cur('o'), "225");
	/* N above L in the dump (read at other times): N <= L here */
	assert_true(prof.line_min <= prof.line_voltage);
}

static void test_probe_path_and_renames(void **state)
{
	(void)state;
	/* NUT 2.7.1 did not understand this RT's `a`: only the probe path's
	 * variables; the missing ones say nothing, the family's set stays */
	import_file("APC__Smart-UPS_RT_3000_XL__apcsmart__2.7.1__01.dev");
	assert_true(prof_supports(&prof, 'u'));
	assert_true(prof_supports(&prof, 'x'));
	assert_true(prof_supports(&prof, '/'));       /* output.current */
	assert_true(prof.battery_nominal_v == 192);   /* B 218.1 */
	assert_true(prof.battery_start_v == 218.1);
	assert_true(prof.nominal_freq == 50 && prof.line_freq == 50);
	assert_string_equal(cur('o'), "230");         /* O 230.4, on-line */
	/* NUT 2.0: output.voltage.target.battery is `o`; no P, the load
	 * comes from output.current at the rating in the name */
	import_file("APC__Smart-UPS_DP_8000_XL__apcsmart__2.0.0__01.dev");
	assert_string_equal(cur('o'), "230");
	assert_true(prof.load_pct > 49 && prof.load_pct < 50);
	assert_string_equal(prof.battery_date, "11/6/03");
	assert_true(prof_supports(&prof, '>') && prof_supports(&prof, '<'));
	assert_true(prof.packs_editable);             /* XL */
	/* apcsmart-old 2.6.4: ^L, packs, an empty serial, sensitivity A */
	import_file("APC__Smart-UPS_RT_2000_XL__apcsmart-old__2.6.4__01.dev");
	assert_string_equal(prof.model, "Smart-UPS RT 2000 XL  ");
	assert_string_equal(prof.serial, "");
	assert_true(prof_supports(&prof, 0x0C));
	assert_string_equal(cur(0x0C), "E");
	assert_string_equal(cur('s'), "A");
	assert_values('s', "H M L A");                /* A replaces the 2nd L */
	assert_string_equal(prof.firmware_v, "5YI");
}

static void test_nearly_empty_dump(void **state)
{
	(void)state;
	import_file("APC__Smart-UPS_VS650__apcsmart__2.0.0__01.dev");
	assert_int_equal(prof.family, UPS_FAM_VS);
	assert_true(prof.unsupported_silent);
	assert_string_equal(prof.model, "Smart-UPS VS650");
	assert_non_null(strstr(yaml_line("model"), "# guess:"));
	assert_non_null(strstr(yaml_line("serial"), "# guess:"));
}

/* ---- outside input ---- */

static void test_not_a_dump(void **state)
{
	(void)state;
	struct ups_diag d = { 0 };
	const char *t = "# a comment\nhello world\n";
	assert_int_equal(nutdump_parse("x.dev", t, strlen(t), &dump, &d),
			 UPS_EPARSE);
	assert_string_equal(d.file, "x.dev");
	assert_int_equal(d.line, 1);
	assert_non_null(strstr(d.msg, "not a NUT device dump"));
	assert_int_equal(nutdump_parse("x.dev", "", 0, &dump, &d), UPS_EPARSE);
	char *big = calloc(1, NUTDUMP_MAX_TEXT + 1);
	assert_non_null(big);
	memset(big, 'a', NUTDUMP_MAX_TEXT + 1);
	assert_int_equal(nutdump_parse("x.dev", big, NUTDUMP_MAX_TEXT + 1, &dump,
				       &d), UPS_EPARSE);
	assert_non_null(strstr(d.msg, "larger than"));
	free(big);
}

static void test_values_escaped_and_checked(void **state)
{
	(void)state;
	/* a quote and a backslash are printable: kept, escaped in YAML;
	 * alert characters, a bad date and bytes not ASCII are not */
	const char *t =
		"driver.version: 2.8.0\n"
		"ups.model: Smart \"UPS\" \\1500\n"
		"ups.id: a\"b\\c\n"
		"ups.serial: AB$CD\n"
		"battery.date: 2020-01-02\n"
		"ups.mfr.date: \x1b[31m\n"
		"ups.firmware: 601.3.D\n"
		"input.transfer.high: 12\xff\n"
		"garbage line \x01\x02\n"
		"#RW:input.transfer.low:ENUM:\"1\"\n"
		"#RW:input.transfer.low:ENUM:\"22\"\n";
	import_text("t.dev", t, strlen(t));
	assert_string_equal(prof.model, "Smart \"UPS\" \\1500");
	assert_string_equal(prof.ups_id, "a\"b\\c");
	assert_string_equal(prof.serial, "00000000"); /* `$`: a stand-in */
	assert_string_equal(prof.battery_date, "01/01/00");
	assert_string_equal(cur('u'), "132");        /* 12\xff unusable */
	assert_values('l', "103 100 097 106");       /* RW widths differ */
	const char *y = (const char *)yaml.data;
	assert_non_null(strstr(y, "garbage line \\x01\\x02"));
	assert_non_null(strstr(y, "\\x1B[31m"));
	assert_null(strchr(y, 0x1b));
	assert_null(strchr(y, 0x01));
	assert_int_equal(strlen(y), yaml.len);
}

static void test_more_lines_than_kept(void **state)
{
	(void)state;
	size_t cap = 64 * 1024, n = 0;
	char *t = malloc(cap);
	assert_non_null(t);
	n += (size_t)snprintf(t + n, cap - n, "ups.model: X\n");
	for (int i = 0; i < 300 && n + 64 < cap; i++)
		n += (size_t)snprintf(t + n, cap - n, "v%d.x: %d\nnot a line %d\n",
				      i, i, i);
	import_text("many.dev", t, n);
	assert_int_equal(dump.n_vars, NUTDUMP_MAX_VARS);
	assert_int_equal(dump.n_notes, NUTDUMP_MAX_NOTES);
	assert_true(dump.notes_dropped > 0);
	assert_non_null(strstr((const char *)yaml.data, "more lines the importer"));
	free(t);
}

static int teardown(void **state)
{
	(void)state;
	ups_buf_free(&yaml);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_dump_imports),
		cmocka_unit_test(test_smart_ups_1500),
		cmocka_unit_test(test_sc450_rw_lists),
		cmocka_unit_test(test_matrix_2_2),
		cmocka_unit_test(test_old_smart_ups),
		cmocka_unit_test(test_probe_path_and_renames),
		cmocka_unit_test(test_nearly_empty_dump),
		cmocka_unit_test(test_not_a_dump),
		cmocka_unit_test(test_values_escaped_and_checked),
		cmocka_unit_test(test_more_lines_than_kept),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
