/*
 * test_timeline.c - the CSV timeline writer (sim/io/timeline.c): the
 * header, fixed number formats, event quoting and escaping, byte-equal
 * files from equal runs, timeline_changed() at exactly the precision a row
 * shows, and errors that name the file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "upssim/timeline.h"

static char tmpdir[64];

static const char *in_tmp(const char *name)
{
	static char path[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
	return path[k];
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_timeline.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	static const char *names[] = {"a.csv", "b.csv", "c.csv"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		unlink(in_tmp(names[i]));
	rmdir(tmpdir);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static struct ups_status online(void)
{
	return (struct ups_status){
	    .output_on = true,
	    .alive = true,
	    .q = UPS_Q_ONLINE,
	    .line_v = 120.0,
	    .out_v = 120.0,
	    .load_pct = 40.0,
	    .charge_pct = 100.0,
	    .batt_v = 27.4,
	    .runtime_min = 45.2,
	};
}

static void test_row_format(void **state)
{
	(void)state;
	char buf[512];
	struct ups_status st = online();
	size_t n = timeline_format_row(12345, "start", &st, buf, sizeof buf);
	assert_string_equal(
	    buf, "12.345,start,08,100.0,45.2,120.0,120.0,40.0,27.40");
	assert_int_equal(n, strlen(buf));

	/* rounding to the printed precision, never "-0.0", NaN as 0 */
	st.q = UPS_Q_ONBATT | UPS_Q_LOWBATT;
	st.charge_pct = 9.96;
	st.runtime_min = -0.01;
	st.line_v = NAN;
	st.out_v = 119.949;
	st.load_pct = 0.04;
	st.batt_v = 23.456;
	timeline_format_row(0, NULL, &st, buf, sizeof buf);
	assert_string_equal(buf, "0.000,,50,10.0,0.0,0.0,119.9,0.0,23.46");
	timeline_format_row(UINT64_C(86400000) * 400 + 7, "", &st, buf,
			    sizeof buf);
	assert_string_equal(buf,
			    "34560000.007,,50,10.0,0.0,0.0,119.9,0.0,23.46");
	/* cut like snprintf, full length returned */
	char small[8];
	assert_int_equal(timeline_format_row(0, NULL, &st, small, sizeof small),
			 strlen("0.000,,50,10.0,0.0,0.0,119.9,0.0,23.46"));
	assert_string_equal(small, "0.000,,");
}

static void test_event_quoting(void **state)
{
	(void)state;
	struct ups_status st = online();
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"line off", "line off"},
	    {"{line: off, load: 80}", "\"{line: off, load: 80}\""},
	    {"say \"hi\"", "\"say \"\"hi\"\"\""},
	    {"\"", "\"\"\"\""},
	    {" padded ", "\" padded \""},
	    {"two\nlines\r", "two\\x0Alines\\x0D"},
	    {"esc\x1b[31m,", "\"esc\\x1B[31m,\""},
	    {"caf\xc3\xa9 \xff", "caf\xc3\xa9 \\xFF"},
	    {"cmd K", "cmd K"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char buf[512], want[512];
		timeline_format_row(1000, cases[i].in, &st, buf, sizeof buf);
		snprintf(want, sizeof want,
			 "1.000,%s,08,100.0,45.2,120.0,120.0,40.0,27.40",
			 cases[i].want);
		assert_string_equal(buf, want);
	}
	/* a long event (a control line) is kept whole */
	char ev[1100], buf[8192];
	memset(ev, 'e', sizeof ev - 1);
	ev[sizeof ev - 1] = '\0';
	timeline_format_row(0, ev, &st, buf, sizeof buf);
	assert_non_null(strstr(buf, ev));
}

static void write_run(const char *path)
{
	char err[512];
	struct timeline *tl = NULL;
	assert_int_equal(timeline_open(path, &tl, err, sizeof err), UPS_OK);
	struct ups_status st = online();
	assert_int_equal(timeline_row(tl, 0, "start", &st), UPS_OK);
	st.line_v = 0;
	st.q = UPS_Q_ONBATT;
	st.on_battery = true;
	for (int i = 1; i <= 50; i++) {
		st.charge_pct = 100.0 - i * 1.7;
		st.runtime_min = 45.2 * st.charge_pct / 100.0;
		st.batt_v = 27.4 - i * 0.0333;
		assert_int_equal(timeline_row(tl, (uint64_t)i * 1234,
					      i == 1 ? "{line: off}" : "state",
					      &st),
				 UPS_OK);
	}
	assert_int_equal(timeline_close(tl), UPS_OK);
}

static void test_file_and_determinism(void **state)
{
	(void)state;
	write_run(in_tmp("a.csv"));
	write_run(in_tmp("b.csv"));
	size_t la, lb;
	char *a = strdup(slurp(in_tmp("a.csv"), &la));
	char *b = slurp(in_tmp("b.csv"), &lb);
	assert_non_null(a);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	/* header first, then one line per row, each with 9 fields */
	assert_true(
	    strncmp(a, TIMELINE_HEADER "\n", strlen(TIMELINE_HEADER) + 1) == 0);
	assert_string_equal(TIMELINE_HEADER,
			    "t_s,event,Q,charge_pct,"
			    "runtime_min,line_v,out_v,load_pct,batt_v");
	int lines = 0;
	for (char *p = a; *p; p++)
		if (*p == '\n')
			lines++;
	assert_int_equal(lines, 52);
	assert_non_null(strstr(a, "\n0.000,start,08,100.0,45.2,120.0,120.0,"
				  "40.0,27.40\n1.234,{line: off},10,98.3,"));
	assert_int_equal(a[la - 1], '\n');
	free(a);

	/* rows are on disk as soon as they are written */
	struct timeline *tl;
	assert_int_equal(timeline_open(in_tmp("c.csv"), &tl, NULL, 0), UPS_OK);
	struct ups_status st = online();
	timeline_row(tl, 5, "x", &st);
	assert_non_null(strstr(slurp(in_tmp("c.csv"), NULL), "0.005,x,08"));
	/* reopening truncates */
	assert_int_equal(timeline_close(tl), UPS_OK);
	assert_int_equal(timeline_open(in_tmp("c.csv"), &tl, NULL, 0), UPS_OK);
	assert_int_equal(timeline_close(tl), UPS_OK);
	assert_string_equal(slurp(in_tmp("c.csv"), NULL), TIMELINE_HEADER "\n");
}

static void test_changed(void **state)
{
	(void)state;
	struct ups_status a = online(), b = online();
	assert_false(timeline_changed(&a, &b));
	/* below the printed precision: no change */
	b.charge_pct = 100.04;
	b.line_v = 120.03;
	b.out_v = 119.97;
	b.load_pct = 40.049;
	b.batt_v = 27.404;
	b.runtime_min = 45.21;
	b.temp_c = 40; /* not in the CSV */
	b.trip = 0x10;
	b.smart = true;
	assert_false(timeline_changed(&a, &b));
	/* each column on its own */
	b = online();
	b.q = UPS_Q_ONBATT;
	assert_true(timeline_changed(&a, &b));
	b = online();
	b.charge_pct = 99.94;
	assert_true(timeline_changed(&a, &b));
	b = online();
	b.runtime_min = 45.26;
	assert_true(timeline_changed(&a, &b));
	b = online();
	b.line_v = 0;
	assert_true(timeline_changed(&a, &b));
	b = online();
	b.out_v = 120.06;
	assert_true(timeline_changed(&a, &b));
	b = online();
	b.load_pct = 40.1;
	assert_true(timeline_changed(&a, &b));
	b = online();
	b.batt_v = 27.39;
	assert_true(timeline_changed(&a, &b));
	b = online();
	b.output_on = false;
	assert_true(timeline_changed(&a, &b));
	assert_true(timeline_changed(&b, &a));
}

static void test_errors(void **state)
{
	(void)state;
	char err[512];
	struct timeline *tl = (struct timeline *)&err;
	const char *bad = in_tmp("no/such/dir.csv");
	errno = 0;
	assert_int_equal(timeline_open(bad, &tl, err, sizeof err), UPS_ESYS);
	assert_null(tl);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err, bad));
	assert_non_null(strstr(err, strerror(ENOENT)));
	assert_int_equal(timeline_open("", &tl, err, sizeof err), UPS_EARG);
	assert_int_equal(timeline_open(NULL, &tl, err, sizeof err), UPS_EARG);
	/* a directory */
	assert_int_equal(timeline_open(tmpdir, &tl, err, sizeof err), UPS_ESYS);
	assert_non_null(strstr(err, tmpdir));
	assert_int_equal(timeline_close(NULL), UPS_OK);

	/* a full disk at open */
	if (access("/dev/full", W_OK) == 0) {
		assert_int_equal(
		    timeline_open("/dev/full", &tl, err, sizeof err), UPS_ESYS);
		assert_non_null(strstr(err, "/dev/full"));
	}

	/* the file may not grow past 200 bytes: the header fits, a row
	 * fails, and so does the close, so the caller learns the file is
	 * incomplete */
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 200;
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(timeline_open(in_tmp("c.csv"), &tl, err, sizeof err),
			 UPS_OK);
	struct ups_status st = online();
	enum ups_rc rc = UPS_OK;
	int rows = 0;
	while (rc == UPS_OK && rows < 100) {
		rc = timeline_row(tl, 0, "row", &st);
		rows++;
	}
	int e = errno;
	assert_int_equal(rc, UPS_ESYS);
	assert_int_equal(e, EFBIG);
	assert_true(rows > 1);
	assert_int_equal(timeline_close(tl), UPS_ESYS);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_row_format),
	    cmocka_unit_test(test_event_quoting),
	    cmocka_unit_test(test_file_and_determinism),
	    cmocka_unit_test(test_changed),
	    cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
