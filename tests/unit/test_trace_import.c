/*
 * test_trace_import.c - unit tests for the importers (sim/core/trace_import.c):
 * each format's sample turns into the trace lines it should (NUT's
 * converted values turned back into UPS-Link replies, apcupsd's filtered
 * characters restored, socat's hex and text dumps, a device dump's values),
 * format detection, and the errors for input that holds nothing usable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/replay.h"
#include "upssim/trace_import.h"

static char *import(enum trace_fmt f, const char *text,
		    const struct trace_import_opts *o)
{
	static char buf[65536];
	struct ups_buf out = { 0 };
	struct ups_diag d;
	assert_int_equal(trace_import(f, "in", text, strlen(text), o, &out, &d),
			 UPS_OK);
	assert_true(out.len < sizeof buf);
	memcpy(buf, out.data, out.len);
	buf[out.len] = '\0';
	ups_buf_free(&out);
	/* whatever an importer writes is a trace the replay reads */
	struct replay *rp = replay_new(REPLAY_SEQUENCE, NULL);
	assert_int_equal(replay_add_trace(rp, "out", buf, strlen(buf), &d), UPS_OK);
	replay_free(rp);
	return buf;
}

static void has(const char *out, const char *line)
{
	if (!strstr(out, line))
		fail_msg("missing: %s\nin:\n%s", line, out);
}

static const char nut_log[] =
	"Network UPS Tools - APC Smart protocol driver 3.2 (2.8.0)\n"
	"   0.000000\t[D1] debug level is '5'\n"
	"   0.002920\t[D1] attempting firmware lookup using [V]\n"
	"   0.003728\t[D1] detected firmware version: FWD\n"
	"   0.003774\t[D1] attempting var/cmdset lookup using [a]\n"
	"   0.003952\t[D1] preread_data: ups.model [0x01]\n"
	"   0.004087\t[D5] send_to_all: SETINFO ups.model \"Smart-UPS 1500\"\n"
	"   0.004093\t[D1] ups.model [0x01] - variable supported\n"
	"   0.004100\t[D1] load.on [0x0e] - command supported\n"
	"   0.004103\t[7] unrecognized\n"
	"   0.007356\t[D1] preread_data: battery.runtime [j]\n"
	"   0.007400\t[D5] send_to_all: SETINFO battery.runtime \"1320\"\n"
	"   0.007452\t[D1] battery.runtime [j] - variable supported\n"
	"   0.007500\t[D1] preread_data: ups.test.interval [E]\n"
	"   0.007600\t[D5] send_to_all: SETINFO ups.test.interval \"1209600\"\n"
	"   0.007650\t[D1] ups.test.interval [E] - variable supported\n"
	"   0.007700\t[D5] send_to_all: ADDENUM ups.test.interval \"1209600\"\n"
	"   0.007701\t[D5] send_to_all: ADDENUM ups.test.interval \"604800\"\n"
	"   0.007702\t[D5] send_to_all: ADDENUM ups.test.interval \"0\"\n"
	"   0.008697\t[D1] parsing out caps\n"
	"   0.009070\t[D1] update_status: [Q]\n"
	"   0.009100\t[D5] send_to_all: SETINFO ups.status \"OL RB\"\n"
	"   0.009163\t[D1] poll_data: battery.runtime [j]\n"
	"   2.000000\t[D1] update_status: [Q]\n"
	"   2.100000\t[D1] alert_handler: OB\n"
	"   2.200000\t[D1] poll_data: battery.runtime [j]\n"
	"   2.200100\t[D5] send_to_all: SETINFO battery.runtime \"60\"\n";

static void test_nut(void **state)
{
	(void)state;
	const char *o = import(TF_NUT, nut_log, NULL);
	has(o, "0.000 trace v1 side=ups imported from nut in\n");
	has(o, "0.000 rx \"Y\" synthesized\n0.000 tx \"SM\\r\\n\" synthesized\n");
	has(o, "0.002 rx \"V\"\n0.003 tx \"FWD\\r\\n\"\n");
	/* `a` from the verify lines, in their order, ^Z for the caps */
	has(o, "0.003 rx \"a\"\n0.003 tx \"3.!$%+?=#|.\\x01\\x0E\\x1A7E"
	    "j\\r\\n\" rebuilt");
	has(o, "0.003 rx \"\\x01\"\n0.004 tx \"Smart-UPS 1500\\r\\n\"\n");
	has(o, "0.007 tx \"0022:\\r\\n\" nut battery.runtime=1320\n");
	has(o, "0.007 tx \"336\\r\\n\" nut ups.test.interval=1209600\n");
	has(o, "0.008 rx \"\\x1A\"\n0.008 tx \"#E433336168OFF\\r\\n\" rebuilt");
	has(o, "0.009 tx \"88\\r\\n\" nut ups.status=OL RB\n");
	/* no SETINFO: the value did not change */
	has(o, "0.009 rx \"j\"\n0.009 tx \"0022:\\r\\n\" nut value unchanged\n");
	has(o, "2.000 rx \"Q\"\n2.000 tx \"88\\r\\n\" nut value unchanged\n"
	    "2.100 tx \"!\" nut alert\n");
	has(o, "2.200 tx \"0001:\\r\\n\" nut battery.runtime=60\n");
}

static void test_apcupsd(void **state)
{
	(void)state;
	static const char log[] =
		"0.005 apcupsd: smartsetup.c:54 Opening port /dev/ttyS0\n"
		"1.005 apcupsd: smart.c:259 Got UPS ON BATT.\n"
		"1.009 apcupsd: smart.c:641 Got CI_SENS: H\n"
		"1.009 apcupsd: smart.c:774 Got CI_UPSMODEL: Smart-UPS 1500\n"
		"1.010 apcupsd: smart.c:780 Got CI_EPROM: uD43132135138129\n"
		"1.010 apcupsd: smart.c:442 Got CI_STATUS: 08\n"
		"1.010 apcupsd: smart.c:553 Got CI_RUNTIM: 0022\n"
		"5.000 apcupsd: smart.c:259 Got UPS ON BATT.\n";
	const char *o = import(TF_APCUPSD, log, NULL);
	has(o, "0.005 trace v1 side=ups imported from apcupsd in\n");
	has(o, "0.005 rx \"a\" synthesized\n0.005 tx \"3.!$%+?=#|.\\x01\\x1AQjs"
	    "\\r\\n\"");
	has(o, "1.009 rx \"s\"\n1.009 tx \"H\\r\\n\"\n");
	has(o, "1.010 tx \"#uD43132135138129\\r\\n\" apcupsd filtered it; restored\n");
	has(o, "1.010 tx \"0022:\\r\\n\" apcupsd filtered it; restored\n");
	/* the ON BATT from the `a` reply's alert field is not an alert */
	assert_null(strstr(o, "1.005 tx \"!\""));
	has(o, "5.000 tx \"!\" apcupsd alert\n");
}

static void test_socat(void **state)
{
	(void)state;
	static const char hex[] =
		"< 2026/12/01 16:18:06.000503513  length=1 from=0 to=0\n"
		" 3f                                               ?\n"
		"--\n"
		"> 2026/12/01 16:18:07.000216440  length=1 from=0 to=0\n"
		" 59                                               Y\n"
		"--\n"
		"< 2026/12/01 16:18:07.000216586  length=4 from=1 to=4\n"
		" 53 4d 0d 0a                                      SM..\n"
		"--\n";
	const char *o = import(TF_SOCAT, hex, NULL);
	has(o, "0.000 tx \"?\"\n0.713 rx \"Y\"\n0.713 tx \"SM\\r\\n\"\n");
	struct trace_import_opts flip = { .socat_ups_first = true };
	o = import(TF_SOCAT, hex, &flip);
	has(o, "0.000 rx \"?\"\n0.713 tx \"Y\"\n");
	static const char text[] =
		"> 2026/12/01 16:18:13.000654171  length=1 from=0 to=0\n"
		"Y< 2026/12/01 16:18:13.000654307  length=4 from=0 to=3\n"
		"SM\\r\n"
		"> 2026/12/01 16:18:14.000058118  length=1 from=2 to=2\n"
		".< 2026/12/01 16:18:14.000058227  length=3 from=8 to=23\n"
		"A\\r\n";
	o = import(TF_SOCAT, text, NULL);
	has(o, "0.000 rx \"Y\"\n0.000 tx \"SM\\r\\n\"\n");
	has(o, "0.404 rx \".\" socat -v: '.' may stand for any unprintable byte\n");
	has(o, "0.404 tx \"A\\r\\n\"\n");
}

static void test_nut_dev(void **state)
{
	(void)state;
	static const char dev[] =
		"# Device Dump Library\n"
		"battery.charge: 100.0\n"
		"battery.runtime: 2580\n"
		"device.mfr: APC\n"
		"ups.status: OB LB\n"
		"input.transfer.reason: low utility voltage\n"
		"ups.test.interval: 0\n"
		"ups.model: Smart-UPS 1500\n"
		"device.model: Smart-UPS 1500\n";
	const char *o = import(TF_NUT_DEV, dev, NULL);
	has(o, "imported from nut-dev in (values only)\n");
	has(o, "tx \"3.!$%+?=#|.\\x01EGQfj\\r\\n\" rebuilt from the variables\n");
	has(o, "rx \"j\"\n0.030 tx \"0043:\\r\\n\" nut-dev battery.runtime\n");
	has(o, "tx \"50\\r\\n\" nut-dev ups.status\n");
	has(o, "tx \"L\\r\\n\" nut-dev input.transfer.reason\n");
	has(o, "tx \"OFF\\r\\n\" nut-dev ups.test.interval\n");
	/* ^A once, from the first of ups.model and device.model */
	const char *a = strstr(o, "rx \"\\x01\"");
	assert_non_null(a);
	assert_null(strstr(a + 1, "rx \"\\x01\""));
}

static void test_detect_and_errors(void **state)
{
	(void)state;
	assert_int_equal(trace_fmt_detect(nut_log, strlen(nut_log)), TF_NUT);
	assert_int_equal(trace_fmt_detect("x\n0.1 apcupsd: a.c:1 hi\n", 24),
			 TF_APCUPSD);
	const char *s = "> 2026/12/01 16:18:07.000216440  length=1 from=0 to=0\n";
	assert_int_equal(trace_fmt_detect(s, strlen(s)), TF_SOCAT);
	s = "0.000 trace v1 side=ups\n";
	assert_int_equal(trace_fmt_detect(s, strlen(s)), TF_TRACE);
	s = "1 rx \"Y\"\n";
	assert_int_equal(trace_fmt_detect(s, strlen(s)), TF_TRACE);
	s = "battery.charge: 1\nups.status: OL\n";
	assert_int_equal(trace_fmt_detect(s, strlen(s)), TF_NUT_DEV);
	assert_int_equal(trace_fmt_detect("hello\n", 6), TF_UNKNOWN);
	assert_int_equal(trace_fmt_from_name("socat"), TF_SOCAT);
	assert_int_equal(trace_fmt_from_name("nut-dev"), TF_NUT_DEV);
	assert_int_equal(trace_fmt_from_name("x"), TF_UNKNOWN);
	assert_string_equal(trace_fmt_name(TF_APCUPSD), "apcupsd");

	struct ups_buf out = { 0 };
	struct ups_diag d;
	assert_int_equal(trace_import(TF_NUT, "n.log", "hello\n", 6, NULL, &out, &d),
			 UPS_EPARSE);
	assert_non_null(strstr(d.msg, "-DDDDD"));
	assert_int_equal(trace_import(TF_APCUPSD, "a.log", "x", 1, NULL, &out, &d),
			 UPS_EPARSE);
	assert_int_equal(trace_import(TF_SOCAT, "s.log", "x", 1, NULL, &out, &d),
			 UPS_EPARSE);
	assert_int_equal(trace_import(TF_NUT_DEV, "d.dev", "x: y", 4, NULL, &out, &d),
			 UPS_EPARSE);
	s = "> 2026/12/01 16:18:07.000216440  length=3 from=0 to=0\n 59\n--\n";
	assert_int_equal(trace_import(TF_SOCAT, "s.log", s, strlen(s), NULL, &out, &d),
			 UPS_EPARSE);
	assert_int_equal(d.line, 4);
	assert_int_equal(trace_import(TF_UNKNOWN, "u", "x", 1, NULL, &out, &d),
			 UPS_EARG);
	assert_int_equal(trace_import(TF_NUT, "u", NULL, 1, NULL, &out, &d), UPS_EARG);
	/* a trace passes through as it is */
	assert_int_equal(trace_import(TF_TRACE, "t", "1 x\n", 4, NULL, &out, &d),
			 UPS_OK);
	assert_int_equal(out.len, 4);
	ups_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nut),
		cmocka_unit_test(test_apcupsd),
		cmocka_unit_test(test_socat),
		cmocka_unit_test(test_nut_dev),
		cmocka_unit_test(test_detect_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
