/*
 * test_readfile.c - ups_read_fd(): the one loop that reads profiles, state
 * files, traces and harness scripts to their end within a size limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "upssim/readfile.h"

/* A temporary file holding @p n bytes of a repeating pattern, rewound. */
static int temp_with(size_t n)
{
	char path[] = "/tmp/upssim-readfile-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	for (size_t i = 0; i < n; i++) {
		char c = (char)('a' + i % 26);
		assert_int_equal(write(fd, &c, 1), 1);
	}
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void check_pattern(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(buf[i], 'a' + i % 26);
	assert_int_equal(buf[n], '\0');
}

/* Whole files up to the limit, whatever the size hint says. */
static void test_reads_to_end(void **st)
{
	(void)st;
	static const size_t sizes[] = { 0, 1, 4095, 4096, 4097, 10000, 70000 };
	static const size_t hints[] = { 0, 1, 5000, 1000000 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
		for (size_t h = 0; h < sizeof hints / sizeof hints[0]; h++) {
			int fd = temp_with(sizes[i]);
			char *buf = NULL;
			size_t len = 99;
			assert_int_equal(ups_read_fd(fd, 70000, hints[h], &buf,
						     &len), 0);
			assert_int_equal(len, sizes[i]);
			check_pattern(buf, len);
			free(buf);
			close(fd);
		}
}

/* One byte over the limit is refused, exactly at it is not. */
static void test_limit(void **st)
{
	(void)st;
	static const size_t max[] = { 10, 4096, 5000 };
	for (size_t i = 0; i < sizeof max / sizeof max[0]; i++) {
		int fd = temp_with(max[i]);
		char *buf = NULL;
		size_t len = 0;
		assert_int_equal(ups_read_fd(fd, max[i], 0, &buf, &len), 0);
		assert_int_equal(len, max[i]);
		free(buf);
		close(fd);
		fd = temp_with(max[i] + 1);
		buf = (char *)1;
		assert_int_equal(ups_read_fd(fd, max[i], max[i], &buf, &len),
				 EFBIG);
		assert_null(buf);
		close(fd);
	}
}

/* A pipe (no size known, bytes in pieces) and a read error. */
static void test_pipe_and_error(void **st)
{
	(void)st;
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "abc", 3), 3);
	assert_int_equal(write(p[1], "def", 3), 3);
	close(p[1]);
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(ups_read_fd(p[0], 100, 0, &buf, &len), 0);
	assert_int_equal(len, 6);
	assert_string_equal(buf, "abcdef");
	free(buf);
	close(p[0]);
	int dir = open("/", O_RDONLY | O_DIRECTORY);
	assert_true(dir >= 0);
	assert_int_equal(ups_read_fd(dir, 100, 0, &buf, &len), EISDIR);
	assert_null(buf);
	close(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_to_end),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_pipe_and_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
