/*
 * test_profile_files.c - unit tests for the file-system side of profile
 * loading (sim/io/profile_files.c) and for the escaping every diagnostic
 * goes through (ups_escape in sim/core/rc.c).  A FIFO, a directory and a
 * device are refused without being opened (inotify sees every open), files
 * under /proc are read whole although they report size 0, names with
 * control characters reach diagnostics escaped, and no message quotes
 * what a file holds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "upssim/profile.h"

static struct ups_profile prof;
static struct ups_diag diag;
static char tmpdir[64];

static const char *in_tmp(const char *name)
{
	static char path[4][256];
	static int k;
	k = (k + 1) % 4;
	snprintf(path[k], sizeof path[k], "%s/%s", tmpdir, name);
	return path[k];
}

static void write_file(const char *name, const char *text, size_t len)
{
	FILE *f = fopen(in_tmp(name), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/test_profile_files.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	static const char *names[] = { "pipe.yaml", "child.yaml", "big.yaml",
				       "shadow", "inh.yaml", "ok\x1b[31m.yaml",
				       "bad\x1b]0;x\x07.yaml" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		unlink(in_tmp(names[i]));
	rmdir(in_tmp("dir.yaml"));
	rmdir(tmpdir);
	return 0;
}

/* Opens of @p path from now on, as inotify reports them. */
static int watch_opens(const char *path)
{
	int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(in >= 0);
	assert_true(inotify_add_watch(in, path, IN_OPEN) >= 0);
	return in;
}

static bool opened(int in)
{
	char buf[4096];
	ssize_t n = read(in, buf, sizeof buf);
	close(in);
	return n > 0;
}

/* ------------------------------------------------------------------ */

/* A FIFO or a directory is refused from stat(), never opened. */
static void test_not_regular(void **state)
{
	(void)state;
	char fifo[256], dir[256];
	snprintf(fifo, sizeof fifo, "%s", in_tmp("pipe.yaml"));
	snprintf(dir, sizeof dir, "%s", in_tmp("dir.yaml"));
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(mkdir(dir, 0700), 0);

	int in = watch_opens(fifo);
	assert_int_equal(prof_load(fifo, &prof, &diag), UPS_ESYS);
	assert_false(opened(in));
	assert_string_equal(diag.file, fifo);
	assert_non_null(strstr(diag.msg, "not a regular file (a FIFO)"));

	in = watch_opens(dir);
	assert_int_equal(prof_load(dir, &prof, &diag), UPS_ESYS);
	assert_int_equal(errno, EISDIR);
	assert_false(opened(in));
	assert_non_null(strstr(diag.msg, "not a regular file (a directory)"));

	/* through inherit: told at the inherit, still never opened */
	write_file("child.yaml", "# a child\ninherit: ./pipe.yaml\n", 31);
	in = watch_opens(fifo);
	assert_int_equal(prof_load(in_tmp("child.yaml"), &prof, &diag),
			 UPS_ESYS);
	assert_false(opened(in));
	assert_string_equal(diag.file, in_tmp("child.yaml"));
	assert_int_equal(diag.line, 2);
	assert_int_equal(diag.col, 10);
	assert_non_null(strstr(diag.msg, "inherit: not a regular file (a "
				      "FIFO)"));
	write_file("child.yaml", "inherit: dir\n", 13); /* name: dir.yaml */
	in = watch_opens(dir);
	assert_int_equal(prof_load(in_tmp("child.yaml"), &prof, &diag),
			 UPS_ESYS);
	assert_false(opened(in));
	assert_int_equal(diag.col, 10);

	/* a character device */
	assert_int_equal(prof_load("/dev/null", &prof, &diag), UPS_ESYS);
	assert_non_null(strstr(diag.msg, "(a character device)"));
}

/* st_size is 0 under /proc: the file is read to its end all the same. */
static void test_proc_files(void **state)
{
	(void)state;
	const struct prof_resolver *r = prof_file_resolver();
	struct prof_text t;
	char want[8192];
	FILE *f = fopen("/proc/version", "rb");
	assert_non_null(f);
	size_t n = fread(want, 1, sizeof want, f);
	fclose(f);
	assert_true(n > 1);

	memset(&t, 0, sizeof t);
	assert_int_equal(r->read(r->ctx, "/proc/version", NULL, &t, &diag),
			 UPS_OK);
	assert_int_equal(t.len, n);
	assert_memory_equal(t.text, want, n);
	assert_string_equal(t.source, "/proc/version");
	r->release(r->ctx, &t);

	/* and so a /proc file fails as a document, not as one byte */
	assert_int_equal(prof_load("/proc/self/status", &prof, &diag),
			 UPS_EPARSE);
	assert_true(diag.line >= 1);
}

/* The limit holds whatever the file says its size is. */
static void test_too_large(void **state)
{
	(void)state;
	static char big[PROF_MAX_TEXT + 1];
	memset(big, '#', sizeof big);
	write_file("big.yaml", big, sizeof big);
	assert_int_equal(prof_load(in_tmp("big.yaml"), &prof, &diag),
			 UPS_EPARSE);
	assert_non_null(strstr(diag.msg, "too large"));
	/* exactly the limit: read, and then only the document is wrong */
	write_file("big.yaml", big, sizeof big - 1);
	assert_int_equal(prof_load(in_tmp("big.yaml"), &prof, &diag),
			 UPS_EPARSE);
	assert_non_null(strstr(diag.msg, "empty profile"));
}

/* Control characters in names are escaped wherever a name is shown. */
static void test_escaped_names(void **state)
{
	(void)state;
	const char *bad = in_tmp("bad\x1b]0;x\x07.yaml");
	write_file("bad\x1b]0;x\x07.yaml", "family: nope\n", 13);
	assert_int_equal(prof_load(bad, &prof, &diag), UPS_EPARSE);
	assert_null(strchr(diag.file, 0x1b));
	assert_null(strchr(diag.file, 0x07));
	assert_non_null(strstr(diag.file, "/bad\\x1B]0;x\\x07.yaml"));
	char line[700];
	ups_diag_format(&diag, line, sizeof line);
	for (const char *c = line; *c; c++)
		assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);

	/* not found, by path and by name */
	assert_int_equal(prof_load("/nonexistent/\x1b[2J.yaml", &prof, &diag),
			 UPS_ENOTFOUND);
	assert_string_equal(diag.file, "/nonexistent/\\x1B[2J.yaml");
	assert_int_equal(prof_load("\x1b[2J", &prof, &diag), UPS_ENOTFOUND);
	assert_string_equal(diag.file, "\\x1B[2J");
	assert_int_equal(prof_load_from(NULL, "x\x9by", &prof, &diag),
			 UPS_ENOTFOUND);
	assert_null(strchr(diag.msg, 0x1b));
	assert_null(strchr(diag.msg, (char)0x9b));
	assert_non_null(strstr(diag.msg, "x\\x9By"));

	/* a good profile: its name (the file stem) is shown escaped too */
	write_file("ok\x1b[31m.yaml", "family: smart-ups-3g\n", 21);
	assert_int_equal(prof_load(in_tmp("ok\x1b[31m.yaml"), &prof, &diag),
			 UPS_OK);
	assert_string_equal(prof.name, "ok\\x1B[31m");
	assert_string_equal(prof.source, in_tmp("ok\x1b[31m.yaml"));
}

static void test_escape(void **state)
{
	(void)state;
	char out[64];
	assert_string_equal(ups_escape(out, sizeof out, "plain/path.yaml"),
			    "plain/path.yaml");
	assert_string_equal(ups_escape(out, sizeof out, "a\tb\r\n\x7f"),
			    "a\\x09b\\x0D\\x0A\\x7F");
	/* UTF-8 stays; C1 controls and broken sequences do not */
	assert_string_equal(ups_escape(out, sizeof out, "caf\xc3\xa9 \xe2\x82\xac"),
			    "caf\xc3\xa9 \xe2\x82\xac");
	assert_string_equal(ups_escape(out, sizeof out, "\xc2\x9b[0m"),
			    "\\xC2\\x9B[0m");
	assert_string_equal(ups_escape(out, sizeof out, "\xff\xc3"),
			    "\\xFF\\xC3");
	assert_string_equal(ups_escape(out, sizeof out, "\xe0\x80\x80"),
			    "\\xE0\\x80\\x80");
	/* escaping twice changes nothing */
	char twice[64];
	ups_escape(out, sizeof out, "x\x1by");
	assert_string_equal(ups_escape(twice, sizeof twice, out), out);
	/* cut before an escape, never inside one */
	assert_string_equal(ups_escape(out, 6, "ab\x1b" "cd"), "ab");
	assert_string_equal(ups_escape(out, 7, "ab\x1b" "cd"), "ab\\x1B");
	assert_string_equal(ups_escape(out, 1, "ab"), "");
	assert_string_equal(ups_escape(out, sizeof out, NULL), "");
}

/* Pointed at a file it may read and the user may not: no echo. */
static void test_no_echo(void **state)
{
	(void)state;
	static const char shadow[] =
		"root:$6$SECRETSALT$SECRETHASH:19000:0:99999:7:::\n"
		"daemon:*:19000:0:99999:7:::\n";
	static const char conf[] = "SECRETKEY: SECRETVALUE\n";
	write_file("shadow", shadow, sizeof shadow - 1);
	assert_int_equal(prof_load(in_tmp("shadow"), &prof, &diag), UPS_EPARSE);
	assert_null(strstr(diag.msg, "SECRET"));
	write_file("shadow", conf, sizeof conf - 1);
	assert_int_equal(prof_load(in_tmp("shadow"), &prof, &diag), UPS_EPARSE);
	assert_null(strstr(diag.msg, "SECRET"));
	write_file("inh.yaml", "inherit: ./shadow\n", 18);
	assert_int_equal(prof_load(in_tmp("inh.yaml"), &prof, &diag),
			 UPS_EPARSE);
	assert_string_equal(diag.file, in_tmp("./shadow"));
	assert_null(strstr(diag.msg, "SECRET"));
	write_file("shadow", "family: SECRETVALUE\n", 20);
	assert_int_equal(prof_load(in_tmp("inh.yaml"), &prof, &diag),
			 UPS_EPARSE);
	assert_null(strstr(diag.msg, "SECRET"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_proc_files),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_escaped_names),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_no_echo),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
