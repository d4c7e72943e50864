/*
 * test_trace.c - unit tests for the trace format (sim/core/trace.c): the
 * writer and reader round-trip every byte, notes keep their text, the
 * host-side header turns directions round, and every malformed line is an
 * error that names its line and column.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/trace.h"

static struct trace_reader rd;

static void test_escape_all_bytes(void **state)
{
	(void)state;
	uint8_t all[256], back[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	char q[256 * 4 + 3];
	size_t need = trace_escape(all, 256, q, sizeof q);
	assert_int_equal(need, strlen(q));
	size_t n, used, col;
	assert_null(trace_unescape(q, strlen(q), back, sizeof back, &n, &used, &col));
	assert_int_equal(n, 256);
	assert_int_equal(used, strlen(q));
	assert_memory_equal(all, back, 256);
	/* the forms the engine has always written */
	trace_escape((const uint8_t *)"SM\r\n\"\\\x01\x7f", 8, q, sizeof q);
	assert_string_equal(q, "\"SM\\r\\n\\\"\\\\\\x01\\x7F\"");
}

static void test_escape_cut_never_inside(void **state)
{
	(void)state;
	char q[6];
	size_t need = trace_escape((const uint8_t *)"a\x01", 2, q, sizeof q);
	assert_int_equal(need, 7); /* "a\x01" */
	assert_string_equal(q, "\"a"); /* \x01 does not fit whole */
	assert_int_equal(trace_escape((const uint8_t *)"ab", 2, NULL, 0), 4);
}

static void test_unescape_extras_and_errors(void **state)
{
	(void)state;
	uint8_t b[16];
	size_t n, used, col;
	assert_null(trace_unescape("\"\\t\\0\\x1a\\x1A\" x", 16, b, sizeof b, &n,
				   &used, &col));
	assert_int_equal(n, 4);
	assert_int_equal(b[0], '\t');
	assert_int_equal(b[1], 0);
	assert_int_equal(b[2], 0x1A);
	assert_int_equal(used, 14);
	assert_non_null(trace_unescape("\"abc", 4, b, sizeof b, &n, &used, &col));
	assert_non_null(trace_unescape("\"\\q\"", 4, b, sizeof b, &n, &used, &col));
	assert_int_equal(col, 1);
	assert_non_null(trace_unescape("\"\\x1\"", 5, b, sizeof b, &n, &used, &col));
	assert_non_null(trace_unescape("x", 1, b, sizeof b, &n, &used, &col));
	assert_non_null(trace_unescape("\"\xc3\xa9\"", 4, b, sizeof b, &n, &used, &col));
	/* too many bytes for the buffer */
	assert_non_null(trace_unescape("\"abcdef\"", 8, b, 3, &n, &used, &col));
}

static void test_format_and_read_back(void **state)
{
	(void)state;
	char text[4096];
	size_t o = 0;
	o += trace_format_note(text + o, sizeof text - o, 0,
			       "trace v1 side=ups upssim test");
	o += trace_format_note(text + o, sizeof text - o, 1500, "host-open");
	o += trace_format_bytes(text + o, sizeof text - o, 1501, TRACE_RX,
				(const uint8_t *)"Y", 1, NULL);
	o += trace_format_bytes(text + o, sizeof text - o, 1502, TRACE_TX,
				(const uint8_t *)"SM\r\n", 4, "a note");
	o += trace_format_bytes(text + o, sizeof text - o, 123456789012ull,
				TRACE_TX, (const uint8_t *)"\0\0", 2, NULL);
	assert_string_equal(text,
		"0.000 trace v1 side=ups upssim test\n"
		"1.500 host-open\n"
		"1.501 rx \"Y\"\n"
		"1.502 tx \"SM\\r\\n\" a note\n"
		"123456789.012 tx \"\\x00\\x00\"\n");
	struct trace_event ev;
	struct ups_diag d;
	trace_reader_init(&rd, "t.trace", text, o);
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(ev.dir, TRACE_NOTE);
	assert_string_equal(ev.note, "trace v1 side=ups upssim test");
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(ev.t_ms, 1500);
	assert_string_equal(ev.note, "host-open");
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(ev.dir, TRACE_RX);
	assert_int_equal(ev.n, 1);
	assert_int_equal(ev.bytes[0], 'Y');
	assert_string_equal(ev.note, "");
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(ev.dir, TRACE_TX);
	assert_memory_equal(ev.bytes, "SM\r\n", 4);
	assert_string_equal(ev.note, "a note");
	assert_int_equal(ev.line, 4);
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(ev.t_ms, 123456789012ull);
	assert_int_equal(ev.n, 2);
	assert_int_equal(trace_next(&rd, &ev, &d), 0);
	assert_int_equal(trace_next(&rd, &ev, &d), 0);
}

static void test_comments_blank_stderr_lines(void **state)
{
	(void)state;
	const char *t = "# a comment\n\n   \nupssim: serving x on /dev/pts/3\r\n"
			"0.5 rx \"Q\"\r\n  2 tx \"08\\r\\n\"\n0.000001 x";
	struct trace_event ev;
	struct ups_diag d;
	trace_reader_init(&rd, "t", t, strlen(t));
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(ev.t_ms, 500);
	assert_int_equal(ev.line, 5);
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(ev.t_ms, 2000);
	/* times go backwards: an error at that line */
	assert_int_equal(trace_next(&rd, &ev, &d), UPS_EPARSE);
	assert_int_equal(d.line, 7);
	assert_string_equal(d.msg, "time goes backwards");
}

static void test_host_side_flips(void **state)
{
	(void)state;
	const char *a = "0.000 trace v1 side=host upsharness\n0.1 tx \"Y\"\n0.2 rx \"SM\\r\\n\"\n";
	const char *b = "0.000 upsharness 0.1.0 target --sim x\n0.1 tx \"Y\"\n";
	struct trace_event ev;
	struct ups_diag d;
	trace_reader_init(&rd, "t", a, strlen(a));
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(ev.dir, TRACE_RX); /* the host sent it: to the UPS */
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(ev.dir, TRACE_TX);
	trace_reader_init(&rd, "t", b, strlen(b));
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(ev.dir, TRACE_RX);
	/* a header after the first bytes changes nothing */
	const char *c = "0.1 tx \"Y\"\n0.2 trace v1 side=host\n0.3 tx \"Y\"\n";
	trace_reader_init(&rd, "t", c, strlen(c));
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(ev.dir, TRACE_TX);
}

static void expect_error(const char *text, int line, int col, const char *msg)
{
	struct trace_event ev;
	struct ups_diag d;
	int rc;
	trace_reader_init(&rd, "bad.trace", text, strlen(text));
	while ((rc = trace_next(&rd, &ev, &d)) == 1)
		;
	assert_int_equal(rc, UPS_EPARSE);
	assert_string_equal(d.file, "bad.trace");
	assert_int_equal(d.line, line);
	assert_int_equal(d.col, col);
	assert_non_null(strstr(d.msg, msg));
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("x rx \"Y\"\n", 1, 1, "expected a time");
	expect_error("1.5rx \"Y\"\n", 1, 4, "expected a space after the time");
	expect_error("1.5\n", 1, 4, "expected a space after the time");
	expect_error("1.5 \n", 1, 5, "expected rx, tx or a note");
	expect_error("1. rx \"Y\"\n", 1, 1, "expected a time");
	expect_error("1.5 rx Y\n", 1, 8, "expected a quoted string");
	expect_error("1.5 rx \"Y\n", 1, 10, "do not end");
	expect_error("1.5 rx \"\\q\"\n", 1, 9, "unknown escape");
	expect_error("1.5 rx \"Y\"x\n", 1, 11, "after the quoted bytes");
	expect_error("0.1 x\n1.5 rx \"\x01\"\n", 2, 9, "control character");
	expect_error("0 trace v9 side=ups\n", 1, 3, "newer than");
	expect_error("99999999999999999999 x\n", 1, 1, "expected a time");
	char *big = malloc(TRACE_LINE_MAX + 20);
	assert_non_null(big);
	memset(big, 'a', TRACE_LINE_MAX + 10);
	memcpy(big, "1 rx \"", 6);
	big[TRACE_LINE_MAX + 10] = '\0';
	expect_error(big, 1, TRACE_LINE_MAX + 1, "line too long");
	free(big);
}

static void test_long_run_round_trip(void **state)
{
	(void)state;
	/* a writer splits at TRACE_CHUNK; a full-length escaped line reads */
	static uint8_t p[TRACE_CHUNK];
	static char line[TRACE_CHUNK * 4 + 64];
	for (size_t i = 0; i < sizeof p; i++)
		p[i] = (uint8_t)(0x80 + i % 64);
	size_t n = trace_format_bytes(line, sizeof line, 7, TRACE_TX, p, sizeof p, NULL);
	assert_true(n < sizeof line);
	struct trace_event ev;
	struct ups_diag d;
	trace_reader_init(&rd, "t", line, n);
	assert_int_equal(trace_next(&rd, &ev, &d), 1);
	assert_int_equal(ev.n, sizeof p);
	assert_memory_equal(ev.bytes, p, sizeof p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_all_bytes),
		cmocka_unit_test(test_escape_cut_never_inside),
		cmocka_unit_test(test_unescape_extras_and_errors),
		cmocka_unit_test(test_format_and_read_back),
		cmocka_unit_test(test_comments_blank_stderr_lines),
		cmocka_unit_test(test_host_side_flips),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_run_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
