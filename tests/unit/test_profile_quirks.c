/*
 * test_profile_quirks.c - what real units do that the profile format
 * expresses (docs/profiles.md; issue 8 section 2): every reply here is
 * checked byte for byte against the capture or device dump the profile
 * cites, on the shipped profiles (profiles/) and the test profiles
 * (tests/profiles/), and every new key's loader errors are pinned
 * with their file:line:col.  The last test floods the alert queue.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/profile.h"
#include "upssim/ups.h"
#include "vt_fixture.h"

#ifndef UPSSIM_SOURCE_DIR
#define UPSSIM_SOURCE_DIR "."
#endif
#define TEST_PROFILE(name) UPSSIM_SOURCE_DIR "/tests/profiles/" name ".yaml"

static struct fx *smart(const char *profile)
{
	return smart_prof(profile, NULL);
}

/* Send @p cmd; assert the unit answers exactly the @p n bytes @p want
 * (NUL bytes included) and nothing else. */
static void expect_n(struct fx *f, const char *cmd, const char *want, size_t n)
{
	f->out.len = 0;
	assert_int_equal(ups_feed(f->u, (const uint8_t *)cmd, strlen(cmd), f->t,
				  &f->out), UPS_OK);
	if (f->out.len != n || memcmp(f->out.data, want, n) != 0) {
		print_error("sent \"%s\": got %zu bytes, want %zu\n", cmd,
			    f->out.len, n);
		for (size_t i = 0; i < f->out.len; i++)
			print_error("%02X ", f->out.data[i]);
		print_error("\n");
	}
	assert_int_equal(f->out.len, n);
	assert_memory_equal(f->out.data, want, n);
	f->out.len = 0;
}
#define EXPECT(f, cmd, lit) expect_n((f), (cmd), (lit), sizeof(lit) - 1)

/* ------------------------------------------------------------------ */
/* Loader: profiles given as text                                       */

#include "prof_text.h"

/* The document fails at line:col with a message containing @p msg. */
static void assert_fails(const char *text, int line, int col, const char *msg)
{
	enum ups_rc rc = parse(text);
	char buf[600];
	ups_diag_format(&diag, buf, sizeof buf);
	if (rc != UPS_EPARSE || diag.line != line || diag.col != col ||
	    !strstr(diag.msg, msg) || strcmp(diag.file, "t.yaml"))
		print_error("got rc %d \"%s\"\n want %d:%d: %s\n", rc, buf, line,
			    col, msg);
	assert_int_equal(rc, UPS_EPARSE);
	assert_string_equal(diag.file, "t.yaml");
	assert_int_equal(diag.line, line);
	assert_int_equal(diag.col, col);
	assert_non_null(strstr(diag.msg, msg));
}

#define FAM "family: smart-ups-3g\n"

/* A unit of the profile just parsed, in smart mode. */
static struct fx *smart_parsed(void)
{
	struct fx *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->p = prof;
	f->u = ups_new(&f->p, 0);
	assert_non_null(f->u);
	at(f, 10);
	take(f);
	EXPECT(f, "Y", "SM\r\n");
	return f;
}

/* ------------------------------------------------------------------ */
/* `B` of a 192 V pack                                                   */

static void test_battery_voltage_big_pack(void **st)
{
	(void)st;
	/* NUT-DDL RT 3000 XL battery.voltage 218.1 */
	struct fx *f = smart("smart-ups-rt-3000-xl");
	EXPECT(f, "B", "218.1\r\n");
	EXPECT(f, "g", "192\r\n");
	/* on battery the format stays ddd.d */
	assert_string_equal(ask(f, "U"), "OK\r\n");
	const char *b = ask(f, "B");
	assert_int_equal(strlen(b), 7);
	assert_true(b[0] == '2' && b[3] == '.');
	fx_free(f);
	/* NUT #180 RT 10000 XL: 219.2 */
	f = smart(TEST_PROFILE("smart-ups-rt-10000-xl"));
	EXPECT(f, "B", "219.2\r\n");
	fx_free(f);
	/* packs under 100 V keep dd.dd */
	f = smart("smart-ups-420-230");
	EXPECT(f, "B", "13.61\r\n");
	fx_free(f);

	/* the loader takes a float voltage of 100 and more for such packs */
	assert_parses(FAM "battery: { nominal_voltage: 192, float_voltage: 218.1 }\n");
	assert_true(prof.battery_float_v > 218.0);
	assert_fails(FAM "battery: { float_voltage: 218.1 }\n", 2, 27,
		     "battery: B answers dd.dd for a pack under 100 V, so at "
		     "most 99.99");
	assert_fails(FAM "battery: { nominal_voltage: 48, voltage: 100.5 }\n", 2,
		     42, "battery: B answers dd.dd for a pack under 100 V");
	assert_fails(FAM "battery: { nominal_voltage: 192, float_voltage: 1000 }\n",
		     2, 49, "battery.float_voltage: out of range (0 to 999.9)");
}

/* ------------------------------------------------------------------ */
/* `a` verbatim                                                          */

static void test_caps_verbatim(void **st)
{
	(void)st;
	/* ESP docs/apc-su420inet.txt, plus the DEL of the NUT log */
	struct fx *f = smart("smart-ups-420-230");
	EXPECT(f, "a", "3.!$%+?=#|.\x01\x0E\x1A')+-89@ABDEFGKLMNOPQRSUVWXYZ"
		       "abcdefgjklmnopqrsuxyz~\x7F\r\n");
	EXPECT(f, ")", "NA\r\n");  /* listed, meaning unknown */
	EXPECT(f, "C", "NA\r\n");  /* not listed, NA in the capture */
	EXPECT(f, "d", "000.0\r\n");
	fx_free(f);
	/* ESP RT 1000 XL emulator: undocumented ^E ^I ^T listed, ^L ^V too */
	f = smart("smart-ups-rt-1000-xl");
	EXPECT(f, "a", "4.!$%+?=*#|\x04.\x01\x05\t\x0C\x0E\x14\x16\x1A')+-/789<>"
		       "@ABCDEFGKLMNOPQRSUVWXYZ\\^abcdefgjklmnopqrsuwxyz~\x7F"
		       ".\x81:\xD0\xE2\xF0\xFD\xFE\xFF\r\n");
	EXPECT(f, "\x05", "NA\r\n");
	EXPECT(f, "\x14", "NA\r\n");
	EXPECT(f, "\x16", "NA\r\n");
	fx_free(f);
	/* ESP docs/apc-suvs420i-new.txt: level "2)", the unit's order; the
	 * listed "`" gets the v/s's silence */
	f = smart(TEST_PROFILE("smart-ups-vs-420-42L"));
	EXPECT(f, "a", "2).?=*%+#!$.98~`\x01ynba@YXUSQKGA\r\n");
	EXPECT(f, "`", "");
	EXPECT(f, "b", "42.L.I\r\n");
	fx_free(f);

	/* the loader: bytes as written, no field separator, no line end */
	assert_parses(FAM "link: { commands: \"\\x01QZa\\x7F\\x81\" }\n");
	assert_string_equal(prof.a_commands, "\x01QZa\x7F\x81");
	char caps[UPS_REPLY_MAX + 1];
	ups_caps_string(&prof, caps, sizeof caps);
	assert_string_equal(caps, "3.!$%+?=#|.\x01QZa\x7F\x81");
	assert_fails(FAM "link: { commands: \"AB.C\" }\n", 2, 19,
		     "link.commands: \".\" is not allowed");
	assert_fails(FAM "link: { commands: \"AB\\nC\" }\n", 2, 19,
		     "link.commands: CR and LF are not allowed");
	assert_fails(FAM "link: { commands: \"AB\\0C\" }\n", 2, 19,
		     "link.commands: NUL characters are not allowed");
	/* "" (the default) builds the list from the command set */
	assert_parses(FAM "link: { commands: \"\" }\n");
	ups_caps_string(&prof, caps, sizeof caps);
	assert_non_null(strstr(caps, "@ABCDEFGKLMNOPQRSUWXYZ"));
}

/* ------------------------------------------------------------------ */
/* Undocumented commands: fixed replies and NA                          */

static void test_extras(void **st)
{
	(void)st;
	/* packed two-probe replies (NUT-T APC_PACK), listed in `a` */
	struct fx *f = smart(TEST_PROFILE("two-probe-packed"));
	EXPECT(f, "T", "NO,NO\r\n");
	EXPECT(f, "H", "NO,NO\r\n");
	const char *a = send(f, "a");
	assert_non_null(strstr(a, "GHK"));
	assert_non_null(strstr(a, "STU"));
	fx_free(f);
	/* AUD-MAINT battery constant and friends on the SU1000 */
	f = smart("smart-ups-1000-230");
	EXPECT(f, "0", "A0\r\n");
	EXPECT(f, "6", "F9\r\n");
	fx_free(f);

	/* up to 32 of them, each a fixed reply or NA, no table row needed */
	char yaml[4096];
	size_t o = (size_t)snprintf(yaml, sizeof yaml, FAM "commands:\n  extras:\n");
	static const char *const names[32] = {
		"\"0\"", "\"1\"", "\"2\"", "\"3\"", "\"4\"", "\"5\"", "\"6\"",
		"H", "\"`\"", "T", "\"(\"", "\")\"", "\",\"", "\".\"", "\":\"",
		"\";\"", "\"=\"", "^B", "^C", "^D", "^E", "^F", "^G", "^H",
		"^I", "^J", "^K", "^M", "^O", "^P", "^Q", "^R",
	};
	for (int i = 0; i < 32; i++)
		o += (size_t)snprintf(yaml + o, sizeof yaml - o,
				      "    - { byte: %s, reply: \"%s\" }\n",
				      names[i], i % 2 ? "NA" : "X1");
	assert_parses(yaml);
	assert_int_equal(prof.n_extras, 32);
	f = smart_parsed();
	EXPECT(f, "0", "X1\r\n");
	EXPECT(f, "1", "NA\r\n");
	EXPECT(f, "\x12", "NA\r\n");
	fx_free(f);
	/* a 33rd is refused where it is */
	snprintf(yaml + o, sizeof yaml - o, "    - { byte: ^S, reply: x }\n");
	assert_fails(yaml, 36, 7, "commands.extras: too many extras (at most 32)");
}

/* ------------------------------------------------------------------ */
/* ^Z in the unit's order                                                */

static void test_dump_order(void **st)
{
	(void)st;
	/* FORUM Smart-UPS 420 dump (facts §3): own locale I last */
	struct fx *f = smart("smart-ups-420-230");
	EXPECT(f, "\x1a", "#uD43127130133136uA43108110112114uI43253257261265"
			  "lD43106103100097lA43092090088086lI43208204200196"
			  "e44200155090oD13115oA13100oI13230s441HMLL"
			  "q44202050710p443020180300600k4410TLN"
			  "r443000060180300E443336168ON OFF\r\n");
	fx_free(f);

	/* a dump_order names every item once, in the unit's order */
	static const char base[] = FAM "eeprom:\n"
		"  u: { locale: D, values: [\"132\", \"135\"] }\n"
		"  k: { locale: \"4\", values: [\"0\", \"T\"] }\n"
		"dump_extra: [\"uA43110112114108\"]\n";
	char yaml[1024];
	snprintf(yaml, sizeof yaml, "%sdump_order: [k4, uA, uD]\n", base);
	assert_parses(yaml);
	f = smart_parsed();
	EXPECT(f, "\x1a", "#k4210TuA43110112114108uD23132135\r\n");
	fx_free(f);
	/* ULS order without it: own list first, dump_extra after it */
	assert_parses(base);
	f = smart_parsed();
	EXPECT(f, "\x1a", "#uD23132135uA43110112114108k4210T\r\n");
	fx_free(f);
	/* an item for a command without an own list is still sent */
	assert_parses(FAM "dump_extra: [\"uA43110112114108\"]\n");
	f = smart_parsed();
	EXPECT(f, "\x1a", "#uA43110112114108\r\n");
	fx_free(f);
	/* Matrix: ## before every item; ^L items only where named */
	assert_parses("family: matrix-ups\nvoltage: { locale: M }\neeprom:\n"
		      "  ^L: { locale: \"4\", values: [E, F] }\n  k: { locale: "
		      "\"4\", values: [\"0\"] }\ndump_order: [^L4, k4]\n"
		      "behaviour: { dump_double_hash: true }\n");
	f = smart_parsed();
	EXPECT(f, "\x1a", "###\x0c" "421EF##k4110\r\n");
	fx_free(f);

	/* errors: duplicates, names that are not items, items left out */
	snprintf(yaml, sizeof yaml, "%sdump_order: [k4, uA, uD, k4]\n", base);
	assert_fails(yaml, 6, 26, "dump_order: k4 is named twice");
	snprintf(yaml, sizeof yaml, "%sdump_order: [k4, uA]\n", base);
	assert_fails(yaml, 6, 13, "dump_order: does not name uD, the unit's own "
		     "eeprom.u list");
	snprintf(yaml, sizeof yaml, "%sdump_order: [k4, uD]\n", base);
	assert_fails(yaml, 6, 13, "dump_order: does not name uA, dump_extra[0]");
	snprintf(yaml, sizeof yaml, "%sdump_order: [k4, uA, uD, uI]\n", base);
	assert_fails(yaml, 6, 26, "dump_order[3]: uI names no ^Z item");
	snprintf(yaml, sizeof yaml, "%sdump_order: [k4, uA, uD, Q4]\n", base);
	assert_fails(yaml, 6, 26, "dump_order[3]: not a ^Z item name");
	snprintf(yaml, sizeof yaml, "%sdump_order: [k4, uA, uD, uX]\n", base);
	assert_fails(yaml, 6, 26, "dump_order[3]: not a ^Z item name");
	snprintf(yaml, sizeof yaml, "%sdump_order: k4\n", base);
	assert_fails(yaml, 6, 13, "dump_order: expected a list of ^Z items");
	/* duplicate items are caught with or without dump_order */
	assert_fails(FAM "eeprom:\n  u: { locale: D, values: [\"132\"] }\n"
		     "dump_extra: [\"uA4311011211410x\", \"uD13132\"]\n", 4, 34,
		     "dump_extra[1]: uD is the unit's own eeprom.u list; a ^Z "
		     "item may appear once");
	assert_fails(FAM "dump_extra: [\"uA13110\", \"lA13090\", \"uA13112\"]\n",
		     2, 36, "dump_extra[2]: uA is already dump_extra[0]");
	assert_fails("family: matrix-ups\nvoltage: { locale: M }\ndump_extra: "
		     "[\"\\x0C421EF\"]\n", 3, 14, "dump_extra[0]: ^L items are sent "
		     "only where dump_order names them");
	/* every shipped profile's dump has no item twice */
	for (size_t i = 0; i < prof_n_builtins; i++) {
		struct ups_profile p;
		assert_int_equal(prof_load(prof_builtins[i].name, &p, &diag),
				 UPS_OK);
		char dump[UPS_REPLY_MAX + 1];
		ups_dump_string(&p, dump, sizeof dump);
		assert_true(dump[0] == '#');
	}
}

/* ------------------------------------------------------------------ */
/* Identity strings exactly as sent                                      */

static void test_identity_as_sent(void **st)
{
	(void)st;
	/* ESP SU420: ^A with three trailing spaces, NUL-padded serial */
	struct fx *f = smart("smart-ups-420-230");
	EXPECT(f, "\x01", "SMART-UPS 420   \r\n");
	EXPECT(f, "n", "NS9847001053\0\0\r\n");
	EXPECT(f, "V", "DWI\r\n");
	EXPECT(f, "m", "11/17/98\r\n");
	fx_free(f);
	/* NUT #180 RT 10000 XL; a host-typed date; an ID with `-` */
	f = smart(TEST_PROFILE("smart-ups-rt-10000-xl"));
	EXPECT(f, "\x01", "Smart-UPS RT 10000 XL   \r\n");
	EXPECT(f, "n", "B21130002653  \r\n");
	EXPECT(f, "V", "5YW\r\n");
	EXPECT(f, "b", "476.18.W\r\n");
	EXPECT(f, "x", "11/6/03\r\n");
	EXPECT(f, "c", "s0-ups0\r\n");
	fx_free(f);
	/* NUT-DDL RT 3000 XL: firmware country letter W */
	f = smart("smart-ups-rt-3000-xl");
	EXPECT(f, "b", "450.17.W\r\n");
	EXPECT(f, "n", "NS0706016624  \r\n");
	fx_free(f);
	/* NUT-DDL SU3000RM and SU1250: IDs read back as they were typed */
	f = smart("smart-ups-3000rm-120");
	EXPECT(f, "c", "s0-ups0\r\n");
	fx_free(f);
	f = smart("smart-ups-1250-230");
	EXPECT(f, "c", "adler\r\n");
	EXPECT(f, "n", "07025563\r\n");
	EXPECT(f, "x", "11/20/04\r\n");
	fx_free(f);

	/* the loader */
	assert_parses(FAM "identity: { serial: \"AB12  \\0\\0\", battery_date: "
		      "1/2/2003, manufactured: 11/6/03, ups_id: a-b }\n");
	assert_int_equal(prof.serial_len, 8);
	assert_memory_equal(prof.serial, "AB12  \0\0", 9);
	assert_string_equal(prof.battery_date, "1/2/2003");
	f = smart_parsed();
	EXPECT(f, "n", "AB12  \0\0\r\n");
	EXPECT(f, "c", "a-b\r\n");
	EXPECT(f, "m", "11/6/03\r\n");
	fx_free(f);
	/* serial_nuls adds two more, as before */
	assert_parses(FAM "identity: { serial: \"S1\\0\" }\nbehaviour: { "
		      "serial_nuls: true }\n");
	f = smart_parsed();
	EXPECT(f, "n", "S1\0\0\0\r\n");
	fx_free(f);
	/* entry_pad: spaces pads the unit's own ID to the ULS p.17 field */
	assert_parses(FAM "identity: { ups_id: AB }\nbehaviour: { entry_pad: "
		      "spaces }\n");
	f = smart_parsed();
	EXPECT(f, "c", "AB      \r\n");
	fx_free(f);
	assert_fails(FAM "identity: { serial: \"\\0AB\" }\n", 2, 21,
		     "identity.serial: character 2 follows a NUL");
	assert_fails(FAM "identity: { manufactured: \"11/6\" }\n", 2, 27,
		     "identity.manufactured: expected a date");
	assert_fails(FAM "identity: { battery_date: \"1-2-03\" }\n", 2, 27,
		     "identity.battery_date: expected a date");
}

/* ------------------------------------------------------------------ */
/* Settings at start vs their factory values                             */

static void test_current_vs_default(void **st)
{
	(void)st;
	/* NUT-DDL SU1250: the owner's settings; z restores the factory's */
	struct fx *f = smart("smart-ups-1250-230");
	static const char *const now[][2] = {
		{ "u", "264" }, { "l", "204" }, { "e", "90" }, { "o", "220" },
		{ "s", "L" }, { "p", "300" }, { "r", "300" }, { "k", "N" },
		{ "E", "OFF" }, { "q", "02" },
	};
	static const char *const factory[][2] = {
		{ "u", "253" }, { "l", "196" }, { "e", "00" }, { "o", "225" },
		{ "s", "H" }, { "p", "020" }, { "r", "000" }, { "k", "0" },
		{ "E", "336" }, { "q", "02" },
	};
	char want[16];
	for (size_t i = 0; i < sizeof now / sizeof now[0]; i++) {
		snprintf(want, sizeof want, "%s\r\n", now[i][1]);
		assert_string_equal(send(f, now[i][0]), want);
	}
	/* `-` cycles on from the value at start */
	EXPECT(f, "u", "264\r\n");
	EXPECT(f, "-", "OK\r\n");
	EXPECT(f, "u", "271\r\n");
	EXPECT(f, "z", "CLEAR\r\n");
	for (size_t i = 0; i < sizeof factory / sizeof factory[0]; i++) {
		snprintf(want, sizeof want, "%s\r\n", factory[i][1]);
		assert_string_equal(send(f, factory[i][0]), want);
	}
	EXPECT(f, "c", "adler\r\n"); /* z keeps c (ULS p.16) */
	fx_free(f);
	/* ESP RT 1000 XL: E OFF was the owner's; the factory value is 336 */
	f = smart("smart-ups-rt-1000-xl");
	EXPECT(f, "E", "OFF\r\n");
	EXPECT(f, "z", "CLEAR\r\n");
	EXPECT(f, "E", "336\r\n");
	fx_free(f);
	/* NUT-DDL SU3000RM 120 V: e 50 and q 10 at start */
	f = smart("smart-ups-3000rm-120");
	EXPECT(f, "e", "50\r\n");
	EXPECT(f, "q", "10\r\n");
	EXPECT(f, "z", "CLEAR\r\n");
	EXPECT(f, "e", "00\r\n");
	EXPECT(f, "q", "02\r\n");
	fx_free(f);

	assert_parses(FAM "eeprom:\n  p: { locale: \"4\", values: [\"020\", "
		      "\"180\"], current: \"180\" }\n");
	assert_int_equal(prof.eeprom['p'].def, 0);
	assert_int_equal(prof.eeprom['p'].cur, 1);
	assert_fails(FAM "eeprom:\n  p: { locale: \"4\", values: [\"020\"], "
		     "current: \"999\" }\n", 3, 47, "eeprom.p: current is not "
		     "one of the values");
	assert_fails(FAM "eeprom:\n  p: { locale: \"4\", values: [\"020\"], "
		     "current: a, current: b }\n", 3, 50, "eeprom.p.current: "
		     "duplicate key");
}

/* ------------------------------------------------------------------ */
/* The state at start: G, M, N, B, low battery on line                   */

static void no_lb_on_line(struct ups_profile *p)
{
	p->low_battery_on_line = false;
}

static void test_start_state(void **st)
{
	(void)st;
	/* ESP SU420: G S, M 233.2, N 231.8; M and N reset when read */
	struct fx *f = smart("smart-ups-420-230");
	EXPECT(f, "G", "S\r\n");
	EXPECT(f, "M", "233.2\r\n");
	EXPECT(f, "N", "231.8\r\n");
	EXPECT(f, "M", "231.8\r\n");
	EXPECT(f, "L", "231.8\r\n");
	EXPECT(f, "O", "231.8\r\n");
	EXPECT(f, "P", "009.1\r\n");
	EXPECT(f, "j", "0042:\r\n");
	fx_free(f);
	/* NUT-DDL SC450: G R, M 224.6, N 221.7; NUT-DDL Matrix 3000: G T */
	f = smart("smart-ups-sc450-rm");
	EXPECT(f, "G", "R\r\n");
	EXPECT(f, "M", "224.6\r\n");
	EXPECT(f, "N", "221.7\r\n");
	EXPECT(f, "C", "NA\r\n");
	EXPECT(f, "j", "0016:\r\n");
	fx_free(f);
	f = smart("matrix-ups-3000");
	EXPECT(f, "G", "T\r\n");
	fx_free(f);
	/* recharging after an outage: low battery on line, B as given */
	f = smart(TEST_PROFILE("recharging-after-outage"));
	EXPECT(f, "Q", "48\r\n");
	EXPECT(f, "B", "24.80\r\n");
	EXPECT(f, "G", "L\r\n");
	EXPECT(f, "N", "092.4\r\n");
	EXPECT(f, "f", "004.0\r\n");
	adv(f, 60 * 60 * 1000); /* an hour of charging */
	EXPECT(f, "Q", "08\r\n");
	assert_string_equal(take(f), ""); /* no `+` without a `%` before it */
	const char *b = ask(f, "B"); /* the offset stays with the model */
	assert_true(atof(b) > 24.80);
	fx_free(f);
	/* without the quirk the same unit reports no low battery on line */
	f = smart_prof(TEST_PROFILE("recharging-after-outage"), no_lb_on_line);
	EXPECT(f, "Q", "08\r\n");
	fx_free(f);

	assert_parses(FAM "electrical: { line_voltage: 120, line_max: 124.5, "
		      "line_min: 118, transfer_cause: T }\nbattery: { voltage: "
		      "26.5 }\nbehaviour: { low_battery_on_line: true }\n");
	assert_int_equal(prof.transfer_cause, 'T');
	assert_true(prof.low_battery_on_line);
	assert_fails(FAM "electrical: { line_voltage: 120, line_max: 110 }\n", 2,
		     44, "electrical.line_max: below electrical.line_voltage");
	assert_fails(FAM "electrical: { line_min: 130 }\n", 2, 25,
		     "electrical.line_min: above electrical.line_voltage");
	assert_fails(FAM "electrical: { transfer_cause: X }\n", 2, 31,
		     "electrical.transfer_cause: expected one of R H L T O S");
	assert_fails(FAM "behaviour: { low_battery_on_line: yes }\n", 2, 35,
		     "behaviour.low_battery_on_line: expected true or false");
}

/* ------------------------------------------------------------------ */
/* Answers that contradict the spec                                      */

static void test_matrix_contradicts_spec(void **st)
{
	(void)st;
	/* NUT-DDL Matrix 3000: l and e answer values (ULS p.18-19: NO) */
	struct fx *f = smart("matrix-ups-3000");
	EXPECT(f, "l", "176\r\n");
	EXPECT(f, "e", "00\r\n");
	EXPECT(f, "-", "NO\r\n");  /* one value: nothing to cycle to */
	EXPECT(f, "u", "264\r\n");
	EXPECT(f, "k", "L\r\n");
	EXPECT(f, ">", "003\r\n");
	EXPECT(f, "B", "55.36\r\n");
	const char *z = send(f, "\x1a");
	assert_true(strncmp(z, "###uI43276264253282##uJ", 23) == 0);
	assert_non_null(strstr(z, "##lI13176##e41200##"));
	fx_free(f);
	/* the Matrix 5000 keeps the spec's NO */
	f = smart("matrix-ups-5000");
	EXPECT(f, "l", "NO\r\n");
	fx_free(f);
}

/* ------------------------------------------------------------------ */
/* The alert queue                                                       */

static void test_alert_queue(void **st)
{
	(void)st;
	struct fx *f = smart(PROF_DEFAULT_NAME);
	/* in order while it has room: two outages before one flush */
	for (int i = 0; i < 2; i++) {
		ups_set_line(f->u, 0, 60, f->t);
		ups_set_line(f->u, 120, 60, f->t);
	}
	collect(f);
	assert_string_equal(take(f), "");   /* nothing flushed yet */
	at(f, f->t + 1);
	assert_string_equal(take(f), "!$!$");
	/* 40 outages and a last one that lasts: 81 alerts for 64 places.
	 * Before: the last ones were dropped and the host saw `$` last while
	 * the unit was on battery.  Now: coalesced, every kind once, the
	 * last raised last. */
	for (int i = 0; i < 40; i++) {
		ups_set_line(f->u, 0, 60, f->t);
		ups_set_line(f->u, 120, 60, f->t);
	}
	ups_set_line(f->u, 0, 60, f->t);
	at(f, f->t + 1);
	const char *al = take(f);
	size_t n = strlen(al);
	assert_true(n >= 2 && n <= 64);
	assert_int_equal(al[n - 1], '!');
	assert_non_null(strchr(al, '$'));
	EXPECT(f, "Q", "10\r\n");
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_battery_voltage_big_pack),
		cmocka_unit_test(test_caps_verbatim),
		cmocka_unit_test(test_extras),
		cmocka_unit_test(test_dump_order),
		cmocka_unit_test(test_identity_as_sent),
		cmocka_unit_test(test_current_vs_default),
		cmocka_unit_test(test_start_state),
		cmocka_unit_test(test_matrix_contradicts_spec),
		cmocka_unit_test(test_alert_queue),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
