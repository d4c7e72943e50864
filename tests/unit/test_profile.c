/*
 * test_profile.c - unit tests for the profile loader (sim/core/profile.c).
 * Every built-in profile must parse; the default profile's values are
 * pinned; `inherit`, UPSSIM_PROFILE_PATH and file loading are exercised in
 * a scratch directory; and a table of malformed documents pins each
 * diagnostic's line:col and message, so error reporting cannot regress
 * silently.  A pseudo-random byte soup checks that nothing crashes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "upssim/cmdtab.h"
#include "upssim/profile.h"
#include "upssim/ups.h"

#ifndef UPSSIM_SOURCE_DIR
#define UPSSIM_SOURCE_DIR "."
#endif

#include "prof_text.h"

/* ------------------------------------------------------------------ */
/* Scratch directory for file-based tests                               */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_profile.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	(void)state;
	static const char *names[] = { "mine.yaml", "child.yaml", "a.yaml",
				       "b.yaml", "sub/rel.yaml", "sub/base.yaml",
				       "sub/sibling.yaml", "sub/near.yaml",
				       "bad.yaml", "smart-ups-1500.yaml",
				       "xbase.yaml", "xchild.yaml" };
	char path[256];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", tmpdir, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/sub", tmpdir);
	rmdir(path);
	rmdir(tmpdir);
	unsetenv("UPSSIM_PROFILE_PATH");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Built-in profiles                                                   */

static void test_builtins_parse(void **state)
{
	(void)state;
	size_t n = 0;
	assert_true(prof_n_builtins >= 10);
	for (const struct prof_builtin *b = prof_builtins; b->name; b++, n++) {
		char src[128], buf[600];
		snprintf(src, sizeof src, "builtin:%s", b->name);
		memset(&diag, 0, sizeof diag);
		enum ups_rc rc = prof_parse(b->name, src, b->text, b->len, &prof,
					    &diag);
		if (rc != UPS_OK)
			print_error("%s\n", ups_diag_format(&diag, buf, sizeof buf));
		assert_int_equal(rc, UPS_OK);
		assert_string_equal(prof.name, b->name);
		assert_true(prof.description[0] != '\0');
		assert_true(prof.family != 0);
		assert_true(prof_supports(&prof, 'Y')); /* every model: ULS p.3 */
		/* every list's default is in range and widths agree */
		for (int c = 0; c < 128; c++) {
			const struct prof_enum *e = &prof.eeprom[c];
			if (!e->present)
				continue;
			assert_in_range(e->def, 0, e->count - 1);
			for (int i = 0; i < e->count; i++)
				assert_int_equal(strlen(e->values[i]),
						 (size_t)e->width);
		}
		/* prof_load by name finds the same profile */
		struct ups_profile again;
		assert_int_equal(prof_load(b->name, &again, &diag), UPS_OK);
		assert_string_equal(again.source, src);
		assert_memory_equal(again.supported, prof.supported,
				    sizeof prof.supported);
	}
	assert_int_equal(n, prof_n_builtins);
}

static void test_required_builtins(void **state)
{
	(void)state;
	static const char *want[] = {
		"smart-ups-1500", "smart-ups-1000-230", "smart-ups-3000rm-208",
		"smart-ups-1000-100", "smart-ups-400", "matrix-ups-5000",
		"smart-ups-vs-420", "back-ups-pro-650", "smart-ups-rt-1000-xl",
		"smart-ups-1500-measure",
		/* issue 8: units users own, from captures and NUT device dumps */
		"smart-ups-420-230", "smart-ups-1250-230", "smart-ups-sc450-rm",
		"matrix-ups-3000", "smart-ups-rt-3000-xl", "smart-ups-3000rm-120",
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_int_equal(prof_load(want[i], &prof, &diag), UPS_OK);
	assert_int_equal(prof_load(PROF_DEFAULT_NAME, &prof, &diag), UPS_OK);
}

static void test_default_profile(void **state)
{
	(void)state;
	assert_int_equal(prof_load(PROF_DEFAULT_NAME, &prof, &diag), UPS_OK);
	assert_string_equal(prof.name, "smart-ups-1500");
	assert_string_equal(prof.source, "builtin:smart-ups-1500");
	assert_int_equal(prof.family, UPS_FAM_SU3);
	assert_false(prof.measure_ups);
	/* identity: protocol-facts §7 */
	assert_string_equal(prof.model, "Smart-UPS 1500");
	assert_string_equal(prof.firmware_v, "FWD");
	assert_string_equal(prof.firmware_b, "601.3.D");
	assert_string_equal(prof.serial, "AS0413231246");
	assert_string_equal(prof.mfr_date, "03/25/04");
	assert_string_equal(prof.battery_date, "03/25/04");
	assert_string_equal(prof.ups_id, "UPS_IDEN");
	assert_string_equal(prof.copyright, "(C) APCC");
	assert_string_equal(prof.level, "3");
	assert_string_equal(prof.alerts, "!$%+?=#|");
	assert_string_equal(prof.a_extension, "");
	assert_int_equal(prof.locale, 'D');
	assert_int_equal(prof.nominal_voltage, 120);
	assert_true(prof.nominal_freq == 60.0);
	/* behaviour and timing */
	assert_false(prof.unsupported_silent);
	assert_string_equal(prof.shutdown_ok, "OK");
	assert_false(prof.dump_double_hash);
	assert_false(prof.s_on_line_ok);
	assert_false(prof.entry_hyphen_refused); /* c/x: `-` stored (NUT-DDL) */
	assert_false(prof.entry_pad_spaces);     /* c/x: read back as typed */
	assert_int_equal(prof.dip, 0);
	assert_int_equal(prof.dip_edit_mask, 0x0F);
	assert_int_equal(prof.two_press_gap_ms, 1200);
	assert_int_equal(prof.selftest_ms, 8000);
	assert_int_equal(prof.test_result_ms, 300000);
	assert_int_equal(prof.replace_repeat_ms, 18000000);
	/* EEPROM: ULS 3G 120 V lists */
	const struct prof_enum *u = &prof.eeprom['u'];
	assert_true(u->present);
	assert_int_equal(u->locale, 'D');
	assert_int_equal(u->count, 4);
	assert_int_equal(u->width, 3);
	assert_int_equal(u->def, 0);
	assert_string_equal(u->values[0], "132");
	assert_string_equal(u->values[3], "129");
	assert_int_equal(prof.eeprom['o'].count, 1);
	assert_string_equal(prof.eeprom['o'].values[0], "115");
	assert_int_equal(prof.eeprom['e'].locale, '4');
	assert_string_equal(prof.eeprom['E'].values[2], "ON ");
	assert_false(prof.eeprom['w'].present);
	assert_int_equal(prof.n_dump_extra, 9); /* all 9 other-locale items of ULS p.15 */
	assert_string_equal(prof.dump_extra[7], "oJ13100");
	assert_string_equal(prof.dump_extra[1], "uA43110112114108");
	assert_int_equal(prof.n_extras, 1);
	assert_int_equal(prof.extras[0].byte, '0');
	assert_string_equal(prof.extras[0].reply, "A1");
	/* electrical and battery: protocol-facts §7 */
	assert_true(prof.line_voltage == 123.8);
	assert_true(prof.load_pct == 44.2);
	assert_true(prof.battery_nominal_v == 24);
	assert_true(prof.battery_float_v == 27.40);
	assert_true(prof.trim_above_v == 127);
	assert_true(prof.boost_below_v == 108);
	assert_true(prof.calibration_stop_pct == 25);
	/* command set: 3G rows, no Matrix or Measure-UPS commands */
	static const char on[] = "YAKSUWZ@DRXGVgf9Q~'87nmjyab\x01\x0E\x1A"
				 "BCFLMNOPz-Ecxulesqkpr0\x7F";
	for (const char *c = on; *c; c++)
		assert_true(prof_supports(&prof, (uint8_t)*c));
	static const char off[] = "^/\\<>wthvJi[]{}I\x0C\x16";
	for (const char *c = off; *c; c++)
		assert_false(prof_supports(&prof, (uint8_t)*c));
}

static void test_defaults(void **state)
{
	(void)state;
	assert_parses("family: smart-ups-3g\n");
	assert_string_equal(prof.name, "t");
	assert_string_equal(prof.source, "t.yaml");
	assert_string_equal(prof.shutdown_ok, "OK");
	assert_int_equal(prof.two_press_gap_ms, 1200);
	assert_int_equal(prof.entry_timeout_ms, 5000);
	assert_int_equal(prof.selftest_ms, 8000);
	assert_int_equal(prof.test_result_ms, 300000);
	assert_int_equal(prof.sim_fail_ms, 6000);
	assert_int_equal(prof.eeprom_alert_ms, 5000);
	assert_int_equal(prof.linefail_repeat_ms, 30000);
	assert_int_equal(prof.replace_repeat_ms, 18000000);
	assert_int_equal(prof.power_on_alert_ms, 0);
	assert_int_equal(prof.bypass_ms, 1000);
	assert_int_equal(prof.dip_edit_mask, 0x0F);
	assert_string_equal(prof.copyright, "(C) APCC");
	assert_string_equal(prof.level, "3");
	assert_string_equal(prof.alerts, "!$%+?=#|");
	assert_int_equal(prof.locale, 'D');
	assert_int_equal(prof.nominal_voltage, 120);
	assert_true(prof.nominal_freq == 60);
	assert_true(prof.battery_nominal_v == 24);
	assert_true(prof.battery_float_v == 27.40);
	assert_true(prof.runtime_full_load_min == 6.5);
	assert_true(prof.runtime_exponent == 1.5);
	assert_true(prof.recharge_pct_per_h == 30);
	assert_true(prof.calibration_stop_pct == 25);
	assert_true(prof.line_voltage == 120.0);
	assert_true(prof.line_freq == 60.0);
	assert_true(prof.load_pct == 25);
	assert_true(prof.temperature_c == 31.0);
	assert_true(prof.battery_charge == 100);
	assert_true(prof.boost_gain == 1.12);
	assert_true(prof.trim_gain == 0.88);
	assert_string_equal(prof.ups_id, "UPS_IDEN");
	assert_int_equal(prof.matrix_voltage_select, 'A');
	assert_true(prof.ambient_c == 24.5);
	assert_true(prof.humidity_pct == 41.2);
	assert_string_equal(prof.measure_fw, "4Kx");
	assert_int_equal(prof.alarm_enable, 0xFF);
	/* no identity strings: V and b are not answered */
	assert_false(prof_supports(&prof, 'V'));
	assert_false(prof_supports(&prof, 'b'));
	assert_true(prof_supports(&prof, 'a'));
	for (int b = 0; b < 128; b++)
		assert_false(prof.eeprom[b].present);
}

static void test_family_names(void **state)
{
	(void)state;
	static const enum ups_family all[] = { UPS_FAM_OLD, UPS_FAM_SU2,
		UPS_FAM_SU3, UPS_FAM_MATRIX, UPS_FAM_VS, UPS_FAM_BUP };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		assert_int_equal(prof_family_from_name(prof_family_name(all[i])),
				 all[i]);
	assert_string_equal(prof_family_name(UPS_FAM_MATRIX), "matrix-ups");
	assert_int_equal(prof_family_from_name("smartups"), 0);
	assert_int_equal(prof_family_from_name(NULL), 0);
	assert_string_equal(prof_family_name(0), "unknown");
}

/* The command set follows the command table, then add/remove/extras. */
static void test_command_set(void **state)
{
	(void)state;
	for (int fam = 1; fam <= (int)UPS_FAM_BUP; fam <<= 1) {
		char text[128];
		snprintf(text, sizeof text, "family: %s\nidentity: { firmware_v: "
			 "\"XYZ\", firmware_b: \"1.2.D\" }\n",
			 prof_family_name((enum ups_family)fam));
		assert_parses(text);
		for (int b = 0; b < 256; b++) {
			const struct cmd_def *row = cmd_lookup((uint8_t)b);
			bool want = row && (row->families & (unsigned)fam) &&
				    !(row->flags & CF_MEASURE);
			assert_int_equal(prof_supports(&prof, (uint8_t)b), want);
		}
	}
	assert_parses("family: smart-ups-3g\nmeasure_ups: true\n");
	assert_true(prof_supports(&prof, 't'));
	assert_true(prof_supports(&prof, 'I'));
	/* commands.remove takes a Measure-UPS command out, here and when
	 * the accessory is attached later (upssim --measure-ups) */
	assert_parses("family: smart-ups-3g\nmeasure_ups: true\ncommands: "
		      "{ remove: \"t[\" }\n");
	assert_false(prof_supports(&prof, 't'));
	assert_false(prof_supports(&prof, '['));
	assert_false(prof.eeprom['['].present);
	assert_true(prof_supports(&prof, 'h'));
	assert_parses("family: smart-ups-3g\ncommands: { remove: \"t\" }\n");
	prof_attach_measure_ups(&prof);
	assert_false(prof_supports(&prof, 't'));
	assert_true(prof_supports(&prof, 'h'));
	assert_parses("family: smart-ups-3g\ncommands: { add: \"^\\x0C\", "
		      "remove: \"\\x01Q\", extras: [ { byte: \"\\x05\", reply: "
		      "\"12\" }, { byte: \"^T\", reply: \"\" } ] }\n");
	assert_true(prof_supports(&prof, '^'));
	assert_true(prof_supports(&prof, 0x0C));
	assert_false(prof_supports(&prof, 0x01));
	assert_false(prof_supports(&prof, 'Q'));
	assert_true(prof_supports(&prof, 0x05));
	assert_true(prof_supports(&prof, 0x14));
	assert_int_equal(prof.n_extras, 2);
	assert_string_equal(prof.extras[0].reply, "12");
	assert_string_equal(prof.extras[1].reply, "");
}

static void test_values(void **state)
{
	(void)state;
	/* YAML \xNN escapes are bytes, 0x80-0xFF included */
	assert_parses("family: smart-ups-3g\nlink: { level: \"4\", alerts: "
		      "\"!$\\x04\", extension: \"\\x81:\\xD0\\xFF\" }\n");
	assert_string_equal(prof.alerts, "!$\x04");
	assert_string_equal(prof.a_extension, "\x81:\xD0\xFF");
	/* c is kept as written (the unit pads it only with behaviour.
	 * entry_pad: spaces, see test_profile_quirks.c) */
	assert_parses("family: smart-ups-3g\nidentity: { ups_id: \"AB\" }\n");
	assert_string_equal(prof.ups_id, "AB");
	assert_parses("family: smart-ups-3g\nidentity: { ups_id: \"\" }\n");
	assert_string_equal(prof.ups_id, "");
	/* hex integers, enums, chars, defaults by value */
	assert_parses("family: matrix-ups\nvoltage: { nominal: 208, locale: M, "
		      "matrix_select: I }\nbehaviour: { dip: 0x0A, unsupported: "
		      "silent, shutdown_reply: \"*\", s_on_line: OK, "
		      "dump_double_hash: true }\neeprom:\n  ^L: { locale: \"4\", "
		      "values: [E, F, G, S, \"1\", \"2\", \"3\", \"4\"], default: "
		      "G }\n  \"\\x16\": { locale: \"4\", values: [A, M, I] }\n");
	assert_int_equal(prof.dip, 0x0A);
	assert_true(prof.unsupported_silent);
	assert_string_equal(prof.shutdown_ok, "*");
	assert_true(prof.s_on_line_ok);
	assert_true(prof.dump_double_hash);
	assert_int_equal(prof.matrix_voltage_select, 'I');
	assert_int_equal(prof.eeprom[0x0C].count, 8);
	assert_int_equal(prof.eeprom[0x0C].def, 2);
	assert_int_equal(prof.eeprom[0x16].count, 3);
	/* c/x direct entry options (docs/profiles.md "Direct entry") */
	assert_parses("family: smart-ups-3g\nbehaviour: { entry_hyphen: refuse, "
		      "entry_pad: spaces }\n");
	assert_true(prof.entry_hyphen_refused);
	assert_true(prof.entry_pad_spaces);
	assert_parses("family: smart-ups-3g\nbehaviour: { entry_hyphen: store, "
		      "entry_pad: none }\n");
	assert_false(prof.entry_hyphen_refused);
	assert_false(prof.entry_pad_spaces);
	/* empty sections are allowed; null drops an eeprom list */
	assert_parses("family: smart-ups-3g\nbattery:\ntiming: {}\neeprom:\n"
		      "  u: ~\n");
	assert_false(prof.eeprom['u'].present);
	/* text need not be NUL-terminated: only len bytes are read */
	static const char cut[] = "family: smart-ups-3gXXXX";
	memset(&diag, 0, sizeof diag);
	assert_int_equal(prof_parse("t", "t", cut, sizeof cut - 5, &prof,
				    &diag), UPS_OK);
	/* a comment-only document is an empty profile */
	assert_int_equal(parse("# nothing\n"), UPS_EPARSE);
	assert_int_equal(prof_parse("t", "t", NULL, 0, &prof, &diag),
			 UPS_EPARSE);
	assert_int_equal(prof_parse("t", "t", NULL, 3, &prof, &diag), UPS_EARG);
	assert_int_equal(prof_parse("t", "t", "", 0, NULL, &diag), UPS_EARG);
	/* diag may be NULL */
	assert_int_equal(prof_parse("t", "t", "x: 1", 4, &prof, NULL),
			 UPS_EPARSE);
}

/* ------------------------------------------------------------------ */
/* inherit                                                             */

static void test_inherit_builtin(void **state)
{
	(void)state;
	assert_int_equal(prof_load("smart-ups-1500-measure", &prof, &diag),
			 UPS_OK);
	assert_string_equal(prof.name, "smart-ups-1500-measure");
	assert_string_equal(prof.source, "builtin:smart-ups-1500-measure");
	assert_true(prof.measure_ups);
	assert_string_equal(prof.model, "Smart-UPS 1500");     /* inherited */
	assert_string_equal(prof.description,
			    "APC Smart-UPS 1500, 120 V, with Measure-UPS");
	assert_true(prof.eeprom['u'].present);                   /* inherited */
	assert_true(prof.eeprom['['].present);                   /* own */
	assert_string_equal(prof.eeprom['{'].values[2], "084.5");
	assert_true(prof_supports(&prof, 't'));
	assert_true(prof_supports(&prof, 'J'));
	assert_true(prof_supports(&prof, '0'));                  /* parent extra */

	/* child keys on top; add/remove of parent and child both apply */
	assert_parses("inherit: smart-ups-rt-1000-xl\nidentity: { serial: "
		      "\"XX0000000001\" }\ncommands: { remove: \"w^\" }\neeprom:\n"
		      "  w: ~\n  u: { locale: I, values: [\"280\", \"253\"] }\n");
	assert_string_equal(prof.name, "t");
	assert_string_equal(prof.serial, "XX0000000001");
	assert_string_equal(prof.firmware_b, "411.7.I");
	assert_true(prof_supports(&prof, '/'));   /* parent's add */
	assert_true(prof_supports(&prof, '<'));
	assert_false(prof_supports(&prof, 'w'));  /* child's remove */
	assert_false(prof_supports(&prof, '^'));
	assert_int_equal(prof.eeprom['u'].count, 2);
	assert_string_equal(prof.eeprom['u'].values[0], "280");
	assert_true(prof.eeprom['l'].present);

	/* removing a command keeps the inherited list: an error there */
	assert_int_equal(parse("inherit: smart-ups-rt-1000-xl\ncommands: "
			       "{ remove: \"w\" }\n"), UPS_EPARSE);
	assert_string_equal(diag.file, "builtin:smart-ups-rt-1000-xl");
	assert_non_null(strstr(diag.msg, "eeprom.w: this profile does not "
				      "answer w"));
	/* changing the voltage version without new lists */
	assert_int_equal(parse("inherit: smart-ups-1500\nvoltage: { locale: I "
			       "}\n"), UPS_EPARSE);
	assert_int_equal(diag.line, 2);
	assert_int_equal(diag.col, 20);
	assert_non_null(strstr(diag.msg, "voltage.locale: I does not match"));
}

static void test_inherit_files(void **state)
{
	(void)state;
	char path[256];
	assert_int_equal(mkdir(strcat(strcpy(path, tmpdir), "/sub"), 0700), 0);
	write_file("sub/base.yaml", "family: smart-ups-2g\nidentity: { model: "
		   "\"BASE\" }\ncommands: { add: \"^\" }\n");
	write_file("sub/rel.yaml", "inherit: base.yaml\nidentity: { serial: "
		   "\"S1\" }\n");
	write_file("sub/near.yaml", "inherit: sibling\n");
	write_file("sub/sibling.yaml", "inherit: ./rel.yaml\ncommands: { remove:"
		   " \"^\" }\n");

	/* a relative path is taken from the inheriting file's directory */
	snprintf(path, sizeof path, "%s/sub/rel.yaml", tmpdir);
	assert_int_equal(prof_load(path, &prof, &diag), UPS_OK);
	assert_string_equal(prof.name, "rel");
	assert_string_equal(prof.source, path);
	assert_string_equal(prof.model, "BASE");
	assert_string_equal(prof.serial, "S1");
	assert_int_equal(prof.family, UPS_FAM_SU2);
	assert_true(prof_supports(&prof, '^'));

	/* a bare name is also looked for next to the inheriting file */
	snprintf(path, sizeof path, "%s/sub/near.yaml", tmpdir);
	assert_int_equal(prof_load(path, &prof, &diag), UPS_OK);
	assert_string_equal(prof.name, "near");
	assert_string_equal(prof.model, "BASE");
	assert_false(prof_supports(&prof, '^'));  /* 3 levels of add/remove */

	/* "x.yaml" from the current directory: siblings are found too */
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof cwd));
	snprintf(path, sizeof path, "%s/sub", tmpdir);
	assert_int_equal(chdir(path), 0);
	enum ups_rc rc = prof_load("near.yaml", &prof, &diag);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(rc, UPS_OK);
	assert_string_equal(prof.source, "near.yaml");
	assert_string_equal(prof.model, "BASE");

	/* a loop ends at the depth limit */
	write_file("a.yaml", "inherit: b.yaml\n");
	write_file("b.yaml", "# b\ninherit: a.yaml\n");
	snprintf(path, sizeof path, "%s/a.yaml", tmpdir);
	assert_int_equal(prof_load(path, &prof, &diag), UPS_EPARSE);
	assert_non_null(strstr(diag.msg, "nested more than 4 levels"));
	assert_int_equal(diag.col, 10);

	/* an error in the parent names the parent's file and line */
	write_file("bad.yaml", "family: smart-ups-3g\nbattery: { charge: 120 }\n");
	write_file("child.yaml", "inherit: bad.yaml\n");
	snprintf(path, sizeof path, "%s/child.yaml", tmpdir);
	assert_int_equal(prof_load(path, &prof, &diag), UPS_EPARSE);
	snprintf(path, sizeof path, "%s/bad.yaml", tmpdir);
	assert_string_equal(diag.file, path);
	assert_int_equal(diag.line, 2);
	assert_int_equal(diag.col, 20);
	assert_non_null(strstr(diag.msg, "battery.charge: out of range (0 to "
				      "100)"));
}

/* ------------------------------------------------------------------ */
/* prof_load and UPSSIM_PROFILE_PATH                                   */

static void test_profile_path(void **state)
{
	(void)state;
	char path[256], env[512];
	write_file("mine.yaml", "description: \"mine\"\nfamily: smart-ups-vs\n");
	write_file("smart-ups-1500.yaml", "family: back-ups-pro\n");

	unsetenv("UPSSIM_PROFILE_PATH");
	memset(&diag, 0, sizeof diag);
	assert_int_equal(prof_load("mine", &prof, &diag), UPS_ENOTFOUND);
	assert_string_equal(diag.file, "mine");
	assert_non_null(strstr(diag.msg, "upssim --list-profiles"));

	/* empty and missing directories are skipped */
	snprintf(env, sizeof env, "::/nonexistent/dir:%s:", tmpdir);
	assert_int_equal(setenv("UPSSIM_PROFILE_PATH", env, 1), 0);
	assert_int_equal(prof_load("mine", &prof, &diag), UPS_OK);
	snprintf(path, sizeof path, "%s/mine.yaml", tmpdir);
	assert_string_equal(prof.source, path);
	assert_string_equal(prof.name, "mine");
	assert_string_equal(prof.description, "mine");
	/* built-in names come first */
	assert_int_equal(prof_load("smart-ups-1500", &prof, &diag), UPS_OK);
	assert_int_equal(prof.family, UPS_FAM_SU3);
	/* ... and the path is searched for inherit too */
	static const char child[] = "inherit: mine\nmeasure_ups: false\n";
	assert_int_equal(prof_parse_from(prof_file_resolver(), "t", "t.yaml",
					 child, strlen(child), &prof, &diag),
			 UPS_OK);
	assert_int_equal(prof.family, UPS_FAM_VS);
	/* the in-memory parser reads no files: built-in names only */
	assert_int_equal(parse(child), UPS_EPARSE);
	assert_int_equal(diag.line, 1);
	assert_int_equal(diag.col, 10);

	/* by path */
	assert_int_equal(prof_load(path, &prof, &diag), UPS_OK);
	assert_int_equal(prof_load(UPSSIM_SOURCE_DIR "/profiles/smart-ups-1500"
				   ".yaml", &prof, &diag), UPS_OK);
	assert_string_equal(prof.name, "smart-ups-1500");
	assert_string_equal(prof.model, "Smart-UPS 1500");
	assert_int_equal(prof_load("/nonexistent/x.yaml", &prof, &diag),
			 UPS_ENOTFOUND);
	assert_string_equal(diag.file, "/nonexistent/x.yaml");
	assert_int_equal(prof_load(tmpdir, &prof, &diag), UPS_ESYS);
	assert_non_null(strstr(diag.msg, "not a regular file"));
	assert_int_equal(prof_load("/dev/null", &prof, &diag), UPS_ESYS);
	assert_int_equal(prof_load("", &prof, &diag), UPS_EARG);
	assert_int_equal(prof_load(NULL, &prof, &diag), UPS_EARG);
	unsetenv("UPSSIM_PROFILE_PATH");
}

/* ------------------------------------------------------------------ */
/* Malformed documents: exact position and message                     */

struct bad {
	const char *text;
	int line, col;
	const char *msg; /* substring of diag.msg */
};

#define FAM "family: smart-ups-3g\n"

static const struct bad bad_docs[] = {
	/* YAML syntax */
	{ "a: b: c\n", 1, 5, "YAML syntax error: mapping values are not allowed" },
	{ FAM "identity:\n\tmodel: x\n", 3, 1, "YAML syntax error: found character "
	  "that cannot start any token" },
	{ FAM "\xff\n", 2, 1, "YAML syntax error: invalid leading UTF-8 octet" },
	{ FAM "identity: { model: \"x\"\n", 3, 1, "YAML syntax error: did not find "
	  "expected ',' or '}' (while parsing a flow mapping at 2:11)" },
	{ "family: *x\n", 1, 9, "YAML syntax error: found undefined alias" },
	{ FAM "---\nfamily: smart-ups-2g\n", 3, 1, "only one YAML document per "
	  "profile" },
	{ "", 1, 1, "empty profile" },
	{ "- a\n", 1, 1, "a profile is a mapping of keys" },
	{ "? [a]\n: b\n", 1, 3, "keys must be plain words, got a list" },
	/* keys */
	{ FAM "foo: 1\n", 2, 1, "unknown top-level key (known: inherit, "
	  "description, family" },
	{ FAM "battery:\n  foo: 1\n", 3, 3, "unknown key in section \"battery\"" },
	{ FAM "commands: { drop: \"x\" }\n", 2, 13, "unknown key in section "
	  "\"commands\"" },
	{ FAM "family: smart-ups-2g\n", 2, 1, "family: duplicate key" },
	{ FAM "timing: { selftest: 1, selftest: 2 }\n", 2, 24,
	  "timing.selftest: duplicate key" },
	{ "description: x\n", 1, 1, "family: missing" },
	{ "family: smartups\n", 1, 9, "family: unknown family "
	  "(expected one of: smart-ups-old, smart-ups-2g, smart-ups-3g, "
	  "matrix-ups, smart-ups-vs, back-ups-pro)" },
	{ "family: [a]\n", 1, 9, "family: expected a single value, got a list" },
	{ FAM "identity: 5\n", 2, 11, "identity: expected a mapping" },
	/* inherit */
	{ FAM "inherit: smart-ups-1500\n", 2, 1, "inherit: must be the first key" },
	{ "inherit: nope\n", 1, 10, "inherit: no such profile" },
	{ "inherit: \"\"\n", 1, 10, "inherit: expected a profile name or path" },
	/* strings */
	{ FAM "identity: { model: \"0123456789012345678901234567890123456789\" }\n",
	  2, 20, "identity.model: too long (40 characters, at most 32)" },
	{ FAM "identity: { model: \"Smart-UPS!\" }\n", 2, 20, "identity.model: "
	  "contains \"!\", a UPS-Link alert character" },
	{ FAM "identity: { serial: \"AB\\x01\" }\n", 2, 21, "identity.serial: "
	  "character 3 is not printable ASCII" },
	{ FAM "identity: { model: \"\\u0100\" }\n", 2, 20, "identity.model: "
	  "character 1 is above U+00FF, not a byte" },
	{ FAM "identity: { model: \"a\\0b\" }\n", 2, 20, "identity.model: NUL "
	  "characters are not allowed" },
	{ FAM "identity: { firmware_v: FW }\n", 2, 25, "identity.firmware_v: must "
	  "be exactly 3 characters" },
	{ FAM "identity: { firmware_b: 601-3-D }\n", 2, 25, "identity.firmware_b: "
	  "expected SKU.FIRMWARE.COUNTRY" },
	{ FAM "identity: { manufactured: 03-25-04 }\n", 2, 27,
	  "identity.manufactured: expected a date of three groups of digits "
	  "separated by \"/\"" },
	{ FAM "identity: { battery_date: 1/1/1/11 }\n", 2, 27,
	  "identity.battery_date: expected a date" },
	{ FAM "identity: { battery_date: 12345/11 }\n", 2, 27,
	  "identity.battery_date: expected a date" },
	{ FAM "identity: { ups_id: UPS-1 }\nbehaviour: { entry_hyphen: refuse }\n",
	  2, 21, "identity.ups_id: \"-\" is not allowed with behaviour."
	  "entry_hyphen: refuse" },
	{ FAM "behaviour: { entry_hyphen: refuse }\nidentity: { battery_date: "
	  "1/1/01, ups_id: UPS-1 }\n", 3, 43, "identity.ups_id: \"-\" is not "
	  "allowed" },
	{ FAM "identity: { serial: \"AB\\0C\" }\n", 2, 21, "identity.serial: "
	  "character 4 follows a NUL (NUL bytes may only pad the end)" },
	{ FAM "link: { level: \"3.1\" }\n", 2, 16, "link.level: \".\" is not "
	  "allowed" },
	{ FAM "link: { extension: \"a\\rb\" }\n", 2, 20, "link.extension: CR and "
	  "LF are not allowed" },
	{ "description: \"a\\tb\"\n" FAM, 1, 14, "description: character 2 is a "
	  "control character" },
	/* enums and numbers */
	{ FAM "voltage: { locale: X }\n", 2, 20, "voltage.locale: expected one of "
	  "A D I M J" },
	{ FAM "behaviour: { unsupported: maybe }\n", 2, 27, "behaviour.unsupported: "
	  "expected NA or silent" },
	{ FAM "behaviour: { shutdown_reply: \"YES\" }\n", 2, 30,
	  "behaviour.shutdown_reply: expected OK or *" },
	{ FAM "behaviour: { s_on_line: yes }\n", 2, 25, "behaviour.s_on_line: "
	  "expected NA or OK" },
	{ FAM "behaviour: { entry_hyphen: ignore }\n", 2, 28,
	  "behaviour.entry_hyphen: expected store or refuse" },
	{ FAM "behaviour: { entry_pad: \"8\" }\n", 2, 25,
	  "behaviour.entry_pad: expected none or spaces" },
	{ FAM "behaviour: { dip: 0x100 }\n", 2, 19, "behaviour.dip: out of range "
	  "(0 to 255)" },
	{ FAM "timing: { selftest: -5 }\n", 2, 21, "timing.selftest: out of range "
	  "(0 to 4294967295)" },
	{ FAM "timing: { selftest: 1.5 }\n", 2, 21, "timing.selftest: expected a "
	  "whole number" },
	{ FAM "electrical: { load: nan }\n", 2, 21, "electrical.load: expected a "
	  "decimal number" },
	{ FAM "electrical: { load: 0x10 }\n", 2, 21, "electrical.load: expected a "
	  "decimal number" },
	{ FAM "battery: { charge: 101 }\n", 2, 20, "battery.charge: out of range "
	  "(0 to 100)" },
	{ FAM "measure_ups: maybe\n", 2, 14, "measure_ups: expected true or false" },
	{ FAM "battery: { packs: [1] }\n", 2, 19, "battery.packs: expected a "
	  "single value, got a list" },
	/* eeprom */
	{ FAM "eeprom:\n  u: { locale: D, values: [\"132\", \"97\"] }\n", 3, 35,
	  "eeprom.u: values must all have the same width (this one has 2 "
	  "characters, the ones before 3)" },
	{ FAM "eeprom:\n  u: { locale: D, values: [\"132\"], default: \"140\" }\n",
	  3, 45, "eeprom.u: default is not one of the values" },
	{ FAM "eeprom:\n  k: { locale: \"4\", values: [a,b,c,d,e,f,g,h,i] }\n", 3,
	  46, "eeprom.k.values: too many values (at most 8)" },
	{ FAM "eeprom:\n  k: { locale: \"4\", values: [\"123456789\"] }\n", 3, 30,
	  "eeprom.k.values: a value is 9 characters wide, at most 8" },
	{ FAM "eeprom:\n  k: { locale: \"4\", values: [] }\n", 3, 29,
	  "eeprom.k.values: needs 1 to 8 values, got none" },
	{ FAM "eeprom:\n  k: { locale: \"4\", values: [\"\"] }\n", 3, 30,
	  "eeprom.k.values: empty value" },
	{ FAM "eeprom:\n  k: { values: [\"0\"] }\n", 3, 6, "eeprom.k: \"locale\" is "
	  "required" },
	{ FAM "eeprom:\n  k: { locale: \"4\" }\n", 3, 6, "eeprom.k: \"values\" is "
	  "required" },
	{ FAM "eeprom:\n  k: { locale: X, values: [\"0\"] }\n", 3, 16,
	  "eeprom.k.locale: expected one of A D I M J 4" },
	{ FAM "eeprom:\n  k: { locale: \"4\", values: [\"0\"], size: 1 }\n", 3, 36,
	  "unknown key in section \"eeprom.k\"" },
	{ FAM "eeprom:\n  Q: { locale: \"4\", values: [\"0\"] }\n", 3, 3,
	  "eeprom.Q: Q is not a customizing command" },
	{ FAM "eeprom:\n  ab: { locale: \"4\", values: [\"0\"] }\n", 3, 3,
	  "eeprom: not a command byte" },
	{ FAM "eeprom:\n  u: { locale: I, values: [\"253\"] }\n", 3, 3,
	  "eeprom.u: locale I does not match voltage.locale D" },
	{ "family: back-ups-pro\neeprom:\n  u: { locale: D, values: [\"132\"] }\n",
	  3, 3, "eeprom.u: this profile does not answer u (family back-ups-pro)" },
	{ FAM "eeprom:\n  u: [1]\n", 3, 6, "eeprom.u: expected a mapping" },
	/* commands, dump_extra */
	{ FAM "commands: { add: \"\\x05\" }\n", 2, 18, "commands.add: ^E has no "
	  "command-table row" },
	{ FAM "commands: { extras: [ { byte: \"0\" } ] }\n", 2, 23,
	  "commands.extras: each entry needs both \"byte\" and \"reply\"" },
	{ FAM "commands: { extras: [ { byte: ab, reply: x } ] }\n", 2, 31,
	  "commands.extras.byte: not a command byte" },
	{ FAM "commands: { extras: [ { byte: \"0\", reply: \"A$\" } ] }\n", 2, 43,
	  "commands.extras.reply: contains \"$\", a UPS-Link alert "
	  "character" },
	{ FAM "dump_extra: [\"uA4311011211410\"]\n", 2, 14, "dump_extra[0]: "
	  "has 11 value characters; count 4 x width 3 needs 12" },
	{ FAM "dump_extra: [\"hello\"]\n", 2, 14, "dump_extra[0]: not a ^Z item" },
	/* checks across keys */
	{ FAM "electrical: { boost_below: 130 }\n", 2, 28, "electrical.boost_below:"
	  " must be below voltage.nominal" },
	{ FAM "electrical: { trim_above: 110 }\n", 2, 27, "electrical.trim_above: "
	  "must be above voltage.nominal" },
	{ FAM "electrical: { rated_va: 500, rated_w: 600 }\n", 2, 39,
	  "electrical.rated_w: more watts than rated_va volt-amperes" },
	{ FAM "battery: { packs: 1, bad_packs: 2 }\n", 2, 33, "battery.bad_packs: "
	  "more bad packs than battery.packs" },
};

static void test_malformed(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof bad_docs / sizeof bad_docs[0]; i++) {
		const struct bad *b = &bad_docs[i];
		enum ups_rc rc = parse(b->text);
		bool ok = rc == UPS_EPARSE && diag.line == b->line &&
			  diag.col == b->col && strstr(diag.msg, b->msg) &&
			  !strcmp(diag.file, "t.yaml");
		if (!ok) {
			char buf[600];
			print_error("case %zu: rc %d, got \"%s\"\n  want %d:%d: %s\n",
				    i, rc, ups_diag_format(&diag, buf, sizeof buf),
				    b->line, b->col, b->msg);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ */
/* Replies: every accepted profile's longest reply fits, byte for byte */

static const char dump_cmds[] = "uleosqpkrEw"; /* the ^Z order, ULS p.15 */

/*
 * A profile with all 11 ^Z lists at their largest (8 values, 8 wide) and
 * @p n_extra dump_extra items of the largest size (39 characters), into
 * @p yaml; the ^Z reply it must give (without CR LF) into @p want.
 * dump_extra is the flow list on line 16, column 13.
 */
static void maximal_profile(char *yaml, size_t cap, bool dbl, int n_extra,
			    char *want, size_t wcap)
{
	char extra[PROF_MAX_DUMP_EXTRA][40];
	size_t o = 0, w = 0;
	for (int i = 0; i < n_extra; i++) {
		/* command, other locale A, 5 values of 7 characters */
		int n = snprintf(extra[i], sizeof extra[i], "%cA57",
				 dump_cmds[i % 11]);
		for (int k = 0; k < 35; k++)
			extra[i][n + k] = (char)('a' + (i + k) % 26);
		extra[i][n + 35] = '\0';
	}
	o += (size_t)snprintf(yaml + o, cap - o, "family: smart-ups-3g\n"
			      "commands: { add: \"%s\" }\n"
			      "behaviour: { dump_double_hash: %s }\neeprom:\n",
			      dump_cmds, dbl ? "true" : "false");
	w += (size_t)snprintf(want + w, wcap - w, "#");
	for (const char *c = dump_cmds; *c; c++) {
		o += (size_t)snprintf(yaml + o, cap - o, "  %c: { locale: \"4\", "
				      "values: [", *c);
		w += (size_t)snprintf(want + w, wcap - w, "%s%c488",
				      dbl ? "##" : "", *c);
		for (int v = 0; v < 8; v++) {
			char val[9];
			snprintf(val, sizeof val, "%c%c%06d", *c, 'A' + v,
				 v * 111111);
			o += (size_t)snprintf(yaml + o, cap - o, "%s\"%s\"",
					      v ? ", " : "", val);
			w += (size_t)snprintf(want + w, wcap - w, "%s", val);
		}
		o += (size_t)snprintf(yaml + o, cap - o, "] }\n");
		for (int i = 0; i < n_extra; i++)
			if (extra[i][0] == *c)
				w += (size_t)snprintf(want + w, wcap - w, "%s%s",
						      dbl ? "##" : "", extra[i]);
	}
	o += (size_t)snprintf(yaml + o, cap - o, "dump_extra: [");
	for (int i = 0; i < n_extra; i++)
		o += (size_t)snprintf(yaml + o, cap - o, "%s\"%s\"",
				      i ? ", " : "", extra[i]);
	snprintf(yaml + o, cap - o, "]\n");
}

/* Everything a unit of @p p sends for @p bytes (smart mode, alerts drained). */
static size_t feed(const struct ups_profile *p, const char *bytes, char *out,
		   size_t cap)
{
	struct ups *u = ups_new(p, 0);
	struct ups_buf b = { 0 };
	assert_non_null(u);
	assert_int_equal(ups_tick(u, 10, &b), UPS_OK);
	b.len = 0; /* the power-on `?` */
	assert_int_equal(ups_feed(u, (const uint8_t *)"Y", 1, 10, &b), UPS_OK);
	assert_int_equal(b.len, 4);
	assert_memory_equal(b.data, "SM\r\n", 4);
	b.len = 0;
	assert_int_equal(ups_feed(u, (const uint8_t *)bytes, strlen(bytes), 20,
				  &b), UPS_OK);
	size_t n = b.len;
	assert_true(n < cap);
	memcpy(out, b.data, n);
	out[n] = '\0';
	ups_buf_free(&b);
	ups_free(u);
	return n;
}

static void test_reply_fits(void **state)
{
	(void)state;
	static char yaml[8192], want[2048], got[2048];
	/* 11 full lists and 7 long dump_extra items: 1022 bytes */
	maximal_profile(yaml, sizeof yaml, false, 7, want, sizeof want);
	assert_int_equal(strlen(want), 1022);
	assert_parses(yaml);
	assert_int_equal(ups_reply_max(&prof), 1022);
	size_t n = feed(&prof, "\x1a", got, sizeof got);
	assert_int_equal(n, strlen(want) + 2);
	assert_memory_equal(got, want, strlen(want));
	assert_memory_equal(got + strlen(want), "\r\n", 2);
	/* the same with Matrix's "##" before every item: 1017 bytes */
	maximal_profile(yaml, sizeof yaml, true, 6, want, sizeof want);
	assert_int_equal(strlen(want), 1017);
	assert_parses(yaml);
	n = feed(&prof, "\x1a", got, sizeof got);
	assert_int_equal(n, strlen(want) + 2);
	assert_string_equal(got + strlen(want), "\r\n");
	assert_memory_equal(got, want, strlen(want));

	/* one item more does not fit: refused where the list is */
	maximal_profile(yaml, sizeof yaml, false, 8, want, sizeof want);
	assert_int_equal(strlen(want), 1061);
	assert_int_equal(parse(yaml), UPS_EPARSE);
	assert_int_equal(diag.line, 16);
	assert_int_equal(diag.col, 13);
	assert_string_equal(diag.file, "t.yaml");
	assert_non_null(strstr(diag.msg, "the ^Z reply would be 1061 bytes, "
				      "more than the 1024 a reply may have"));
	maximal_profile(yaml, sizeof yaml, true, 7, want, sizeof want);
	assert_int_equal(parse(yaml), UPS_EPARSE);
	assert_non_null(strstr(diag.msg, "would be 1058 bytes"));

	/* every built-in profile: the longest reply is the ^Z dump or `a` */
	for (size_t i = 0; i < prof_n_builtins; i++) {
		assert_int_equal(prof_load(prof_builtins[i].name, &prof, &diag),
				 UPS_OK);
		size_t most = ups_reply_max(&prof);
		assert_true(most <= UPS_REPLY_MAX);
		assert_true(most >= ups_caps_string(&prof, NULL, 0));
		assert_true(most >= ups_dump_string(&prof, NULL, 0));
	}
}

/* ------------------------------------------------------------------ */
/* commands.extras against the command table                           */

static void test_extras_vs_table(void **state)
{
	(void)state;
	char got[256], caps[UPS_REPLY_MAX + 1];
	/* the table answers Q for the family: an extras entry is refused */
	assert_int_equal(parse(FAM "commands: { extras: [ { byte: Q, reply: ZZ "
			       "} ] }\n"), UPS_EPARSE);
	assert_int_equal(diag.line, 2);
	assert_int_equal(diag.col, 31);
	assert_non_null(strstr(diag.msg, "commands.extras: the command table "
				      "already answers Q for this profile "
				      "(family smart-ups-3g)"));
	assert_non_null(strstr(diag.msg, "commands.remove first"));
	/* ... and where commands.add turned it on */
	assert_int_equal(parse("family: smart-ups-vs\ncommands: { add: D, "
			       "extras: [ { byte: D, reply: X } ] }\n"),
			 UPS_EPARSE);
	assert_non_null(strstr(diag.msg, "already answers D for this profile "
				      "(family smart-ups-vs, commands.add)"));
	/* two entries for one byte in one list */
	assert_int_equal(parse(FAM "commands: { extras: [ { byte: \"0\", reply: "
			       "A }, { byte: \"0\", reply: B } ] }\n"),
			 UPS_EPARSE);
	assert_int_equal(diag.col, 56);
	assert_non_null(strstr(diag.msg, "0 has two entries"));

	/* removed from the table first: the fixed reply is what Q answers,
	 * and like every extra it is not listed in `a` */
	assert_parses(FAM "identity: { firmware_v: \"FWD\" }\ncommands: { "
		      "remove: Q, extras: [ { byte: Q, reply: ZZ } ] }\n");
	assert_true(prof_supports(&prof, 'Q'));
	feed(&prof, "Q", got, sizeof got);
	assert_string_equal(got, "ZZ\r\n");
	ups_caps_string(&prof, caps, sizeof caps);
	assert_null(strchr(strchr(strchr(caps, '.') + 1, '.') + 1, 'Q'));
	assert_non_null(strchr(caps, 'V'));
	/* an extra for a command the family lacks, and for V without a
	 * firmware_v string: both are the table's silence */
	assert_parses("family: smart-ups-vs\ncommands: { extras: [ { byte: ^Z, "
		      "reply: DUMP }, { byte: V, reply: ABC } ] }\n");
	feed(&prof, "V", got, sizeof got);
	assert_string_equal(got, "ABC\r\n");
	/* an eeprom list needs the table's command, not a fixed reply */
	assert_int_equal(parse(FAM "commands: { remove: u, extras: [ { byte: u, "
			       "reply: \"132\" } ] }\neeprom:\n  u: { locale: D, "
			       "values: [\"132\"] }\n"), UPS_EPARSE);
	assert_int_equal(diag.line, 4);
	assert_non_null(strstr(diag.msg, "eeprom.u: this profile does not "
				      "answer u"));

	/* a child that turns on a byte the parent gives a fixed reply */
	write_file("xbase.yaml", FAM "commands: { remove: Q, extras: [ { byte: "
		   "Q, reply: ZZ } ] }\n");
	write_file("xchild.yaml", "inherit: xbase.yaml\n# turn Q back on\n"
		   "commands: { add: Q }\n");
	char path[256];
	snprintf(path, sizeof path, "%s/xchild.yaml", tmpdir);
	assert_int_equal(prof_load(path, &prof, &diag), UPS_EPARSE);
	assert_string_equal(diag.file, path);
	assert_int_equal(diag.line, 3);
	assert_int_equal(diag.col, 18);
	assert_non_null(strstr(diag.msg, "already answers Q"));
	/* remove and add again in one document: remove wins (add first) */
	write_file("xchild.yaml", "inherit: xbase.yaml\ncommands: { remove: Q, "
		   "add: Q }\n");
	assert_int_equal(prof_load(path, &prof, &diag), UPS_OK);
}

/* ------------------------------------------------------------------ */
/* Diagnostics never quote the document                                 */

static void test_no_content_in_messages(void **state)
{
	(void)state;
	/* SECRET stands for bytes of a file the user may not read */
	static const char *docs[] = {
		"root:$6$SECRET$xyz:19000:0:99999:7:::\n",
		"SECRET: 1\n",
		"SECRET\n",
		FAM "battery:\n  SECRET: 1\n",
		"family: SECRET\n",
		"inherit: SECRET\n",
		"inherit: ./SECRET.yaml\n",
		FAM "description: \"SECRET\\x01\"\n",
		FAM "identity: { model: \"SECRET!\" }\n",
		FAM "identity: { firmware_v: SECRET }\n",
		FAM "identity: { manufactured: SECRET }\n",
		FAM "identity: { firmware_b: SECRET }\n",
		FAM "identity: { serial: \"SECRET SECRET SECRET SECRET SECRET\" }\n",
		FAM "battery: { charge: SECRET }\n",
		FAM "battery: { charge: 1000 }\n",
		FAM "voltage: { locale: SECRET }\n",
		FAM "measure_ups: SECRET\n",
		FAM "behaviour: { unsupported: SECRET }\n",
		FAM "behaviour: { shutdown_reply: SECRET }\n",
		FAM "commands: { SECRET: x }\n",
		FAM "commands: { extras: [ { byte: SECRET, reply: x } ] }\n",
		FAM "commands: { extras: [ { SECRET: x } ] }\n",
		FAM "eeprom:\n  SECRET: { locale: \"4\", values: [\"1\"] }\n",
		FAM "eeprom:\n  k: { locale: SECRET, values: [\"1\"] }\n",
		FAM "eeprom:\n  k: { locale: \"4\", values: [\"1\"], default: SECRET }\n",
		FAM "eeprom:\n  k: { locale: \"4\", values: [\"1\", SECRET] }\n",
		FAM "eeprom:\n  k: { locale: \"4\", values: [\"SECRET123\"] }\n",
		FAM "eeprom:\n  k: { locale: \"4\", values: [\"1\"], SECRET: 1 }\n",
		FAM "dump_extra: [SECRET]\n",
		FAM "dump_extra: [\"uA41SECRET\"]\n",
		FAM "dump_extra: [\"uA16SECRE\\x01\"]\n",
	};
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		memset(&diag, 0, sizeof diag);
		enum ups_rc rc = parse(docs[i]);
		if (rc == UPS_OK || strstr(diag.msg, "SECRET") ||
		    strstr(diag.msg, "ECRE")) {
			char buf[600];
			print_error("doc %zu: rc %d: %s\n", i, rc,
				    ups_diag_format(&diag, buf, sizeof buf));
			fail();
		}
	}
}

/* ------------------------------------------------------------------ */
/* The resolver interface: the core reads no files                      */

struct memres {
	int reads, releases;
	char from[4][256];
};

static enum ups_rc mem_read(void *ctx, const char *spec, const char *from,
			    struct prof_text *out, struct ups_diag *d)
{
	static const struct { const char *spec, *source, *text; } docs[] = {
		{ "top", "mem/top.yaml", "inherit: mid\nidentity: { serial: "
		  "TOP }\n" },
		{ "mid", "mem/mid.yaml", "inherit: smart-ups-vs-420\n"
		  "identity: { model: MID }\n" },
		{ "bad", "mem/bad.yaml", "# the parent\ninherit: fifo\n" },
	};
	struct memres *m = ctx;
	if (m->reads < 4)
		snprintf(m->from[m->reads], sizeof m->from[0], "%s",
			 from ? from : "(top)");
	m->reads++;
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++)
		if (!strcmp(spec, docs[i].spec)) {
			out->text = strdup(docs[i].text);
			out->len = strlen(docs[i].text);
			out->priv = (void *)out->text;
			snprintf(out->source, sizeof out->source, "%s",
				 docs[i].source);
			return UPS_OK;
		}
	if (!strcmp(spec, "fifo")) {
		ups_diag_set(d, "mem/fifo", 0, 0, "not a regular file (a FIFO)");
		errno = EINVAL;
		return UPS_ESYS;
	}
	ups_diag_set(d, spec, 0, 0, "nothing here");
	return UPS_ENOTFOUND;
}

static void mem_release(void *ctx, struct prof_text *t)
{
	struct memres *m = ctx;
	m->releases++;
	free(t->priv);
}

static void test_resolver(void **state)
{
	(void)state;
	struct memres m = { 0 };
	struct prof_resolver r = { mem_read, mem_release, &m };
	/* built-ins first, without asking */
	assert_int_equal(prof_load_from(&r, "smart-ups-1500", &prof, &diag),
			 UPS_OK);
	assert_int_equal(m.reads, 0);
	/* top -> mid -> built-in: each resolved document is released */
	assert_int_equal(prof_load_from(&r, "top", &prof, &diag), UPS_OK);
	assert_int_equal(m.reads, 2);
	assert_int_equal(m.releases, 2);
	assert_string_equal(m.from[0], "(top)");
	assert_string_equal(m.from[1], "mem/top.yaml");
	assert_string_equal(prof.name, "top");
	assert_string_equal(prof.source, "mem/top.yaml");
	assert_string_equal(prof.serial, "TOP");
	assert_string_equal(prof.model, "MID");
	assert_int_equal(prof.family, UPS_FAM_VS);
	/* a failure in the resolver is told at the inherit that asked */
	assert_int_equal(prof_load_from(&r, "bad", &prof, &diag), UPS_ESYS);
	assert_string_equal(diag.file, "mem/bad.yaml");
	assert_int_equal(diag.line, 2);
	assert_int_equal(diag.col, 10);
	assert_string_equal(diag.msg, "inherit: not a regular file (a FIFO)");
	assert_int_equal(m.releases, m.reads - 1);
	/* not found at the top: the resolver's own diagnostic */
	assert_int_equal(prof_load_from(&r, "nope", &prof, &diag),
			 UPS_ENOTFOUND);
	assert_string_equal(diag.file, "nope");
	assert_string_equal(diag.msg, "nothing here");
	/* no resolver: built-in profiles only */
	assert_int_equal(prof_load_from(NULL, "smart-ups-400", &prof, &diag),
			 UPS_OK);
	assert_int_equal(prof_load_from(NULL, "/etc/passwd", &prof, &diag),
			 UPS_ENOTFOUND);
	assert_non_null(strstr(diag.msg, "not a built-in profile"));
	assert_int_equal(prof_load_from(NULL, "", &prof, &diag), UPS_EARG);
}

/* ------------------------------------------------------------------ */
/* prof_overlay                                                         */

static void test_overlay(void **state)
{
	(void)state;
	static struct ups_profile base, p;
	static const char ov[] =
		"identity: { serial: \"OV0000000001\" }\n"
		"commands: { remove: \"Q\", extras: [ { byte: Q, reply: \"08\" } ] }\n"
		"eeprom:\n  u: { locale: D, values: [\"140\", \"135\"] }\n"
		"  o: ~\n"
		"dump_extra: [\"uA43110112114108\"]\n"
		"battery: { charge: 50 }\n";
	assert_int_equal(prof_load(PROF_DEFAULT_NAME, &base, &diag), UPS_OK);
	p = base;
	assert_int_equal(prof_overlay(&p, ov, strlen(ov), "scen.yaml", &diag),
			 UPS_OK);
	assert_string_equal(p.name, base.name);     /* still the base's */
	assert_string_equal(p.source, base.source);
	assert_string_equal(p.serial, "OV0000000001");
	assert_string_equal(p.model, base.model);
	assert_true(p.battery_charge == 50);
	assert_int_equal(p.eeprom['u'].count, 2);
	assert_string_equal(p.eeprom['u'].values[0], "140");
	assert_false(p.eeprom['o'].present);
	assert_true(p.eeprom['l'].present);
	assert_int_equal(p.n_dump_extra, 1);
	assert_int_equal(p.n_extras, 2);            /* the base's 0, and Q */
	assert_true(prof_supports(&p, 'Q') && prof_extra(&p, 'Q'));
	assert_true(prof_supports(&p, '0'));
	assert_true(prof_supports(&p, 'V'));        /* untouched by the overlay */

	/* the base's commands.add survives a second overlay (the recipe is
	 * kept), and measure_ups brings the accessory's commands */
	struct ups_profile rt;
	assert_int_equal(prof_load("smart-ups-rt-1000-xl", &rt, &diag), UPS_OK);
	assert_true(prof_supports(&rt, '^'));
	assert_int_equal(prof_overlay(&rt, "measure_ups: true\n", 18, "o",
				      &diag), UPS_OK);
	assert_true(prof_supports(&rt, '^'));
	assert_true(prof_supports(&rt, 't'));
	assert_true(rt.eeprom['['].present);
	assert_int_equal(prof_overlay(&rt, "commands: { remove: \"^t\" }\n",
				      26, "o", &diag), UPS_OK);
	assert_false(prof_supports(&rt, '^'));
	assert_false(prof_supports(&rt, 't'));

	/* an empty overlay changes nothing */
	p = base;
	assert_int_equal(prof_overlay(&p, "", 0, "e", &diag), UPS_OK);
	assert_memory_equal(&p, &base, sizeof p);
	assert_int_equal(prof_overlay(&p, "# nothing\n", 10, "e", &diag), UPS_OK);
	assert_memory_equal(&p, &base, sizeof p);

	/* errors: file:line:col of the overlay, and the profile unchanged */
	static const struct bad bad_overlays[] = {
		{ "identity: { serial: 5 }\nbattery: { charge: 101 }\n", 2, 20,
		  "battery.charge: out of range (0 to 100)" },
		{ "inherit: smart-ups-400\n", 1, 1, "inherit: not allowed here" },
		{ "voltage: { locale: I }\n", 1, 20, "voltage.locale: I does not "
		  "match the inherited eeprom" },
		{ "commands: { remove: u }\n", 1, 1, "eeprom.u: this profile "
		  "does not answer u" },
		{ "commands: { extras: ~ }\n", 1, 1, "" }, /* fine: no error */
		{ "commands: { extras: [ { byte: Q, reply: X } ] }\n", 1, 31,
		  "already answers Q" },
		{ "- a\n", 1, 1, "a profile is a mapping of keys" },
		{ "family: [\n", 2, 1, "YAML syntax error" },
	};
	for (size_t i = 0; i < sizeof bad_overlays / sizeof bad_overlays[0]; i++) {
		const struct bad *b = &bad_overlays[i];
		p = base;
		memset(&diag, 0, sizeof diag);
		enum ups_rc rc = prof_overlay(&p, b->text, strlen(b->text),
					      "scen.yaml", &diag);
		if (!b->msg[0]) {
			assert_int_equal(rc, UPS_OK);
			continue;
		}
		bool ok = rc == UPS_EPARSE && diag.line == b->line &&
			  diag.col == b->col && strstr(diag.msg, b->msg) &&
			  !strcmp(diag.file, "scen.yaml") &&
			  !memcmp(&p, &base, sizeof p);
		if (!ok) {
			char buf[600];
			print_error("overlay %zu: rc %d, got \"%s\"\n", i, rc,
				    ups_diag_format(&diag, buf, sizeof buf));
			fail();
		}
	}
	assert_int_equal(prof_overlay(NULL, "", 0, "x", &diag), UPS_EARG);
	assert_int_equal(prof_overlay(&p, NULL, 3, "x", &diag), UPS_EARG);
}

/* ------------------------------------------------------------------ */
/* Robustness                                                          */

/* Pseudo-random soup and mutated built-ins: errors, never crashes. */
/* Bounds that keep libyaml's quadratic corners out of reach. */
static void test_limits(void **state)
{
	(void)state;
	static char text[300000];
	size_t o = (size_t)snprintf(text, sizeof text, FAM "description: ");
	for (int i = 0; i < 100000; i++)
		text[o++] = '[';
	text[o] = '\0';
	assert_int_equal(parse(text), UPS_EPARSE);
	assert_int_equal(diag.line, 2);
	assert_int_equal(diag.col, 45); /* the 32nd '[' (root mapping is 1) */
	assert_non_null(strstr(diag.msg, "nested more than 32 levels"));

	o = (size_t)snprintf(text, sizeof text, FAM "description: [");
	for (int i = 0; i < 60000; i++) {
		text[o++] = 'a';
		text[o++] = ',';
	}
	text[o++] = ']';
	text[o] = '\0';
	assert_int_equal(parse(text), UPS_EPARSE);
	assert_non_null(strstr(diag.msg, "too many YAML nodes"));

	/* 1 MiB is the most a profile may be */
	static char big[(1 << 20) + 2];
	memset(big, ' ', sizeof big);
	memset(&diag, 0, sizeof diag);
	assert_int_equal(prof_parse("t", "t", big, sizeof big, &prof, &diag),
			 UPS_EPARSE);
	assert_non_null(strstr(diag.msg, "too large"));
}

static void test_no_crash(void **state)
{
	(void)state;
	uint32_t seed = 12345;
	char buf[2048];
	static const char alphabet[] = "abcdefu:{}[],-\"'\\ \n\t#&*!|>?%@`~0x19";
	for (int round = 0; round < 3000; round++) {
		size_t len = 0;
		if (round % 2 == 0) {
			/* mutate a real profile */
			const struct prof_builtin *b =
				&prof_builtins[(size_t)round % prof_n_builtins];
			len = b->len < sizeof buf ? b->len : sizeof buf;
			memcpy(buf, b->text, len);
			for (int k = 0; k < 4; k++) {
				seed = seed * 1103515245u + 12345u;
				size_t at = (seed >> 8) % len;
				seed = seed * 1103515245u + 12345u;
				buf[at] = (char)(seed >> 16);
			}
		} else {
			seed = seed * 1103515245u + 12345u;
			len = (seed >> 8) % sizeof buf;
			for (size_t k = 0; k < len; k++) {
				seed = seed * 1103515245u + 12345u;
				buf[k] = alphabet[(seed >> 16) %
						  (sizeof alphabet - 1)];
			}
		}
		enum ups_rc rc = prof_parse("fuzz", "fuzz", buf, len, &prof,
					    &diag);
		assert_true(rc == UPS_OK || rc == UPS_EPARSE);
		if (rc == UPS_EPARSE)
			assert_true(diag.msg[0] != '\0');
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtins_parse),
		cmocka_unit_test(test_required_builtins),
		cmocka_unit_test(test_default_profile),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_family_names),
		cmocka_unit_test(test_command_set),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_inherit_builtin),
		cmocka_unit_test(test_inherit_files),
		cmocka_unit_test(test_profile_path),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_reply_fits),
		cmocka_unit_test(test_extras_vs_table),
		cmocka_unit_test(test_no_content_in_messages),
		cmocka_unit_test(test_resolver),
		cmocka_unit_test(test_overlay),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_no_crash),
	};
	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
