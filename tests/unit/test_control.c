/*
 * test_control.c - the control socket (sim/io/control.c) driven through a
 * real event loop on a real UNIX socket in a temporary directory: the
 * socket's mode, line framing (split writes, several lines a write, long
 * lines, CR LF, NUL, blank lines, a last line without LF), many clients, a
 * client that never reads, paths it must not clobber, stale sockets, close
 * removing only its own socket, socat as a client, random bytes, and the
 * status line's format.  Client and server share the process: every wait
 * runs the loop until a condition holds or a deadline passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "upssim/control.h"
#include "upssim/evloop.h"

extern char **environ;

#define DEADLINE_MS 5000

struct fx {
	char dir[64];
	char path[128];
	struct evl *l;
	struct control *c;
	int calls;
	size_t last_len;
	struct rlimit nofile; /* put back even when a test fails */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The callback under test: "status" gives a status line, "nl" a reply
 * with line breaks in it, "big" 1000 bytes, anything else "got LEN:LINE". */
static void on_line(void *ctx, const char *line, size_t len, char *reply,
		    size_t cap)
{
	struct fx *f = ctx;
	f->calls++;
	f->last_len = len;
	assert_int_equal(strlen(line), len);
	assert_true(len > 0 && len < CONTROL_LINE_MAX);
	assert_int_equal(cap, CONTROL_REPLY_MAX);
	assert_string_equal(reply, "");
	if (strcmp(line, "status") == 0) {
		struct ups_status st = {.q = UPS_Q_ONLINE,
					.charge_pct = 100,
					.output_on = true,
					.alive = true};
		control_format_status(&st, 1500, reply, cap);
	} else if (strcmp(line, "nl") == 0) {
		snprintf(reply, cap, "a\nb\r\nc");
	} else if (strcmp(line, "big") == 0) {
		memset(reply, 'B', 1000);
		reply[1000] = '\0';
	} else {
		snprintf(reply, cap, "got %zu:%s", len, line);
	}
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_control.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/ctl.sock", f->dir);
	if (getrlimit(RLIMIT_NOFILE, &f->nofile) != 0)
		return -1;
	struct evl_clock clk;
	evl_clock_real(&clk, 1);
	f->l = evl_new(&clk);
	*state = f;
	return f->l ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	setrlimit(RLIMIT_NOFILE, &f->nofile);
	control_close(f->c);
	evl_free(f->l);
	DIR *d = opendir(f->dir);
	if (d) {
		struct dirent *e;
		char p[512];
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				snprintf(p, sizeof p, "%s/%s", f->dir,
					 e->d_name);
				if (unlink(p) != 0)
					rmdir(p);
			}
		closedir(d);
	}
	rmdir(f->dir);
	free(f);
	return 0;
}

static void open_ok(struct fx *f)
{
	char err[512];
	enum ups_rc rc =
	    control_open(f->l, f->path, on_line, f, &f->c, err, sizeof err);
	if (rc != UPS_OK)
		fail_msg("control_open: %s", err);
}

static void pump(struct fx *f)
{
	assert_int_equal(evl_run_once(f->l, 5), UPS_OK);
}

static void sock_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof sa->sun_path);
	memcpy(sa->sun_path, path, strlen(path));
}

/* A connected, non-blocking client (the loop accepts it later). */
static int cli(struct fx *f)
{
	struct sockaddr_un sa;
	sock_addr(f->path, &sa);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void cli_send(struct fx *f, int fd, const void *p, size_t n)
{
	const char *b = p;
	uint64_t end = mono_ms() + DEADLINE_MS;
	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w > 0) {
			b += w;
			n -= (size_t)w;
			continue;
		}
		assert_true(w < 0 && errno == EAGAIN);
		assert_true(mono_ms() < end);
		pump(f);
	}
}

/* Read until @p want bytes came or the deadline passed; @return bytes. */
static size_t cli_recv(struct fx *f, int fd, char *buf, size_t want)
{
	size_t got = 0;
	uint64_t end = mono_ms() + DEADLINE_MS;
	while (got < want && mono_ms() < end) {
		pump(f);
		ssize_t r = recv(fd, buf + got, want - got, MSG_DONTWAIT);
		if (r > 0)
			got += (size_t)r;
		else if (r == 0)
			break;
	}
	buf[got] = '\0';
	return got;
}

static void expect(struct fx *f, int fd, const char *want)
{
	char buf[8192];
	size_t n = strlen(want);
	assert_true(n < sizeof buf);
	cli_recv(f, fd, buf, n);
	assert_string_equal(buf, want);
}

/* Nothing more arrives for a few loop turns. */
static void expect_nothing(struct fx *f, int fd)
{
	char c;
	for (int i = 0; i < 10; i++)
		pump(f);
	assert_int_equal(recv(fd, &c, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

/* The server closed: EOF after whatever was queued. */
static void expect_eof(struct fx *f, int fd)
{
	char buf[256];
	uint64_t end = mono_ms() + DEADLINE_MS;
	for (;;) {
		assert_true(mono_ms() < end);
		pump(f);
		ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return;
	}
}

static void wait_clients(struct fx *f, size_t n)
{
	uint64_t end = mono_ms() + DEADLINE_MS;
	while (control_client_count(f->c) != n && mono_ms() < end)
		pump(f);
	assert_int_equal(control_client_count(f->c), n);
}

/* ---------- the socket ---------- */

static void test_mode_0600(void **state)
{
	struct fx *f = *state;
	mode_t old = umask(0); /* a careless umask must not widen it */
	open_ok(f);
	umask(old);
	struct stat st;
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(umask(old), old); /* the umask was put back */
}

static void test_close_unlinks(void **state)
{
	struct fx *f = *state;
	open_ok(f);
	int fd = cli(f);
	wait_clients(f, 1);
	control_close(f->c);
	f->c = NULL;
	struct stat st;
	assert_int_equal(lstat(f->path, &st), -1);
	assert_int_equal(errno, ENOENT);
	expect_eof(f, fd);
	close(fd);
}

/* A socket made and closed without unlink: nobody listens. */
static void make_stale(const char *path)
{
	struct sockaddr_un sa;
	sock_addr(path, &sa);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
	close(s);
}

static int make_listener(const char *path)
{
	struct sockaddr_un sa;
	sock_addr(path, &sa);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(s, 4), 0);
	return s;
}

static void test_close_leaves_other_socket(void **state)
{
	struct fx *f = *state;
	open_ok(f);
	/* someone removes our socket and puts their own there */
	assert_int_equal(unlink(f->path), 0);
	int other = make_listener(f->path);
	struct stat before, after;
	assert_int_equal(lstat(f->path, &before), 0);
	control_close(f->c);
	f->c = NULL;
	assert_int_equal(lstat(f->path, &after), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	close(other);

	/* and a regular file put in its place stays too */
	assert_int_equal(unlink(f->path), 0);
	open_ok(f);
	assert_int_equal(unlink(f->path), 0);
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	fputs("keep", fp);
	fclose(fp);
	control_close(f->c);
	f->c = NULL;
	assert_int_equal(lstat(f->path, &after), 0);
	assert_true(S_ISREG(after.st_mode));
}

static void test_refuse_regular_file(void **state)
{
	struct fx *f = *state;
	FILE *fp = fopen(f->path, "w");
	assert_non_null(fp);
	fputs("precious\n", fp);
	fclose(fp);
	char err[512];
	errno = 0;
	assert_int_equal(
	    control_open(f->l, f->path, on_line, f, &f->c, err, sizeof err),
	    UPS_ESYS);
	assert_int_equal(errno, EEXIST);
	assert_null(f->c);
	assert_non_null(strstr(err, f->path));
	assert_non_null(strstr(err, "not a socket"));
	char buf[32] = "";
	fp = fopen(f->path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof buf, fp));
	fclose(fp);
	assert_string_equal(buf, "precious\n");
}

static void test_refuse_directory_and_symlink(void **state)
{
	struct fx *f = *state;
	char err[512];
	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_int_equal(
	    control_open(f->l, f->path, on_line, f, &f->c, err, sizeof err),
	    UPS_ESYS);
	assert_non_null(strstr(err, f->path));
	assert_int_equal(rmdir(f->path), 0);

	/* a symbolic link, even to a stale socket, is not replaced */
	char target[160];
	snprintf(target, sizeof target, "%s/stale.sock", f->dir);
	make_stale(target);
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(
	    control_open(f->l, f->path, on_line, f, &f->c, err, sizeof err),
	    UPS_ESYS);
	struct stat st;
	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(lstat(target, &st), 0);
}

static void test_refuse_live_socket(void **state)
{
	struct fx *f = *state;
	char err[512];
	/* a listener that is not ours */
	int s = make_listener(f->path);
	errno = 0;
	assert_int_equal(
	    control_open(f->l, f->path, on_line, f, &f->c, err, sizeof err),
	    UPS_ESYS);
	assert_int_equal(errno, EADDRINUSE);
	assert_non_null(strstr(err, f->path));
	struct stat st;
	assert_int_equal(lstat(f->path, &st), 0);
	close(s);
	assert_int_equal(unlink(f->path), 0);

	/* a second control on the first one's path */
	open_ok(f);
	struct control *second = NULL;
	assert_int_equal(
	    control_open(f->l, f->path, on_line, f, &second, err, sizeof err),
	    UPS_ESYS);
	assert_null(second);
	assert_non_null(strstr(err, f->path));
	int fd = cli(f);
	cli_send(f, fd, "still\n", 6);
	expect(f, fd, "got 5:still\n");
	close(fd);
}

static void test_stale_socket_replaced(void **state)
{
	struct fx *f = *state;
	make_stale(f->path);
	struct stat before, after;
	assert_int_equal(lstat(f->path, &before), 0);
	open_ok(f);
	assert_int_equal(lstat(f->path, &after), 0);
	assert_int_equal(after.st_mode & 0777, 0600);
	int fd = cli(f);
	cli_send(f, fd, "hi\n", 3);
	expect(f, fd, "got 2:hi\n");
	close(fd);
}

static void test_bad_paths(void **state)
{
	struct fx *f = *state;
	char err[512], lng[300];
	memset(lng, 'p', sizeof lng - 1);
	lng[sizeof lng - 1] = '\0';
	assert_int_equal(
	    control_open(f->l, lng, on_line, f, &f->c, err, sizeof err),
	    UPS_EARG);
	assert_null(f->c);
	assert_non_null(strstr(err, "pppp"));
	assert_int_equal(
	    control_open(f->l, "", on_line, f, &f->c, err, sizeof err),
	    UPS_EARG);
	assert_int_equal(
	    control_open(f->l, f->path, NULL, f, &f->c, err, sizeof err),
	    UPS_EARG);
	/* a directory that does not exist: the message names the path */
	char missing[200];
	snprintf(missing, sizeof missing, "%s/no/such.sock", f->dir);
	assert_int_equal(
	    control_open(f->l, missing, on_line, f, &f->c, err, sizeof err),
	    UPS_ESYS);
	assert_non_null(strstr(err, missing));
	/* control characters in a path reach the message escaped */
	char ugly[200];
	snprintf(ugly, sizeof ugly, "%s/x\x1b[31m/s", f->dir);
	assert_int_equal(
	    control_open(f->l, ugly, on_line, f, &f->c, err, sizeof err),
	    UPS_ESYS);
	assert_null(strchr(err, '\x1b'));
	assert_non_null(strstr(err, "\\x1B"));
	control_close(NULL);
	assert_int_equal(control_client_count(NULL), 0);
}

/* ---------- framing ---------- */

static void test_lines(void **state)
{
	struct fx *f = *state;
	open_ok(f);
	int fd = cli(f);

	cli_send(f, fd, "hello\n", 6);
	expect(f, fd, "got 5:hello\n");

	/* several lines in one write, replies in order */
	cli_send(f, fd, "a\nbb\nccc\n", 9);
	expect(f, fd, "got 1:a\ngot 2:bb\ngot 3:ccc\n");

	/* a line split over writes, the loop running in between */
	cli_send(f, fd, "sta", 3);
	expect_nothing(f, fd);
	cli_send(f, fd, "tus", 3);
	expect_nothing(f, fd);
	cli_send(f, fd, "\n", 1);
	char want[512];
	struct ups_status st = {.q = UPS_Q_ONLINE,
				.charge_pct = 100,
				.output_on = true,
				.alive = true};
	control_format_status(&st, 1500, want, sizeof want);
	strcat(want, "\n");
	expect(f, fd, want);

	/* CR LF; one CR only is dropped */
	cli_send(f, fd, "crlf\r\n", 6);
	expect(f, fd, "got 4:crlf\n");
	cli_send(f, fd, "two\r\r\n", 6);
	expect(f, fd, "got 4:two \n"); /* the CR left inside: a space */

	/* empty and blank lines: no reply at all */
	cli_send(f, fd, "\n\r\n  \t \n\n", 9);
	expect_nothing(f, fd);
	cli_send(f, fd, " x \n", 4);
	expect(f, fd, "got 3: x \n");

	/* NUL anywhere in a line */
	cli_send(f, fd, "a\0b\n\0\nok\n", 9);
	expect(f, fd,
	       "error: NUL byte in line\nerror: NUL byte in line\n"
	       "got 2:ok\n");

	/* a reply with line breaks stays one line */
	cli_send(f, fd, "nl\n", 3);
	expect(f, fd, "a b  c\n");
	close(fd);
}

static void test_long_lines(void **state)
{
	struct fx *f = *state;
	open_ok(f);
	int fd = cli(f);
	static char big[3 * CONTROL_LINE_MAX + 16];
	char want[CONTROL_REPLY_MAX + 16], got[CONTROL_REPLY_MAX + 16];

	/* the longest line that fits, with and without CR */
	memset(big, 'x', CONTROL_LINE_MAX - 1);
	big[CONTROL_LINE_MAX - 1] = '\n';
	cli_send(f, fd, big, CONTROL_LINE_MAX);
	/* the callback's "got 1023:xxx..." is cut to CONTROL_REPLY_MAX - 1 */
	int head = snprintf(want, sizeof want, "got %d:", CONTROL_LINE_MAX - 1);
	memset(want + head, 'x', CONTROL_REPLY_MAX - 1 - (size_t)head);
	strcpy(want + CONTROL_REPLY_MAX - 1, "\n");
	cli_recv(f, fd, got, strlen(want));
	assert_string_equal(got, want);
	assert_int_equal(f->last_len, CONTROL_LINE_MAX - 1);
	big[CONTROL_LINE_MAX - 1] = '\r';
	big[CONTROL_LINE_MAX] = '\n';
	cli_send(f, fd, big, CONTROL_LINE_MAX + 1);
	cli_recv(f, fd, got, strlen(want));
	assert_string_equal(got, want);

	/* one byte more: too long, detected at the LF */
	int calls = f->calls;
	memset(big, 'y', CONTROL_LINE_MAX);
	big[CONTROL_LINE_MAX] = '\n';
	cli_send(f, fd, big, CONTROL_LINE_MAX + 1);
	expect(f, fd, "error: line too long\n");
	/* one byte more with a CR */
	big[CONTROL_LINE_MAX] = '\r';
	big[CONTROL_LINE_MAX + 1] = '\n';
	cli_send(f, fd, big, CONTROL_LINE_MAX + 2);
	expect(f, fd, "error: line too long\n");

	/* far too long, over several writes: one error, sent before the LF,
	 * the rest skipped, the next line served */
	memset(big, 'z', sizeof big);
	cli_send(f, fd, big, sizeof big);
	expect(f, fd, "error: line too long\n");
	cli_send(f, fd, big, sizeof big);
	expect_nothing(f, fd);
	cli_send(f, fd, "zzz\0\nnext\n", 10);
	expect(f, fd, "got 4:next\n");
	assert_int_equal(f->calls, calls + 1);
	close(fd);
}

static void test_eof_last_line(void **state)
{
	struct fx *f = *state;
	open_ok(f);
	int fd = cli(f);
	cli_send(f, fd, "first\nlast", 10);
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	expect(f, fd, "got 5:first\ngot 4:last\n");
	expect_eof(f, fd);
	wait_clients(f, 0);
	close(fd);

	/* a client that hangs up at once, and one that resets */
	fd = cli(f);
	close(fd);
	wait_clients(f, 0);
	fd = cli(f);
	struct linger lg = {1, 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	cli_send(f, fd, "half", 4);
	close(fd);
	wait_clients(f, 0);
}

static void test_many_clients(void **state)
{
	struct fx *f = *state;
	enum { N = 60 };
	int fd[N];
	open_ok(f);
	for (int i = 0; i < N; i++)
		fd[i] = cli(f);
	wait_clients(f, N);
	/* interleaved: every client sends half a line, then the rest */
	char line[32];
	for (int i = 0; i < N; i++) {
		snprintf(line, sizeof line, "client%d", i);
		cli_send(f, fd[i], line, 3);
	}
	for (int i = N - 1; i >= 0; i--) {
		snprintf(line, sizeof line, "client%d\n", i);
		cli_send(f, fd[i], line + 3, strlen(line) - 3);
	}
	for (int i = 0; i < N; i++) {
		char want[64];
		snprintf(want, sizeof want, "got %zu:client%d\n",
			 strlen("client") + (i < 10 ? 1 : 2), i);
		expect(f, fd[i], want);
	}
	for (int i = 0; i < N; i += 2)
		close(fd[i]);
	wait_clients(f, N / 2);
	for (int i = 1; i < N; i += 2) {
		cli_send(f, fd[i], "again\n", 6);
		expect(f, fd[i], "got 5:again\n");
		close(fd[i]);
	}
	wait_clients(f, 0);
}

static void test_too_many_clients(void **state)
{
	struct fx *f = *state;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 ||
	    rl.rlim_cur < 2 * CONTROL_MAX_CLIENTS + 64) {
		rl.rlim_cur = rl.rlim_max;
		if (rl.rlim_cur < 2 * CONTROL_MAX_CLIENTS + 64 ||
		    setrlimit(RLIMIT_NOFILE, &rl) != 0)
			skip();
	}
	open_ok(f);
	static int fd[CONTROL_MAX_CLIENTS];
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		fd[i] = cli(f);
		if (i % 32 == 31)
			wait_clients(f, (size_t)i + 1);
	}
	wait_clients(f, CONTROL_MAX_CLIENTS);
	int extra = cli(f);
	expect(f, extra, "error: too many clients\n");
	expect_eof(f, extra);
	close(extra);
	assert_int_equal(control_client_count(f->c), CONTROL_MAX_CLIENTS);
	cli_send(f, fd[7], "x\n", 2);
	expect(f, fd[7], "got 1:x\n");
	close(fd[0]);
	wait_clients(f, CONTROL_MAX_CLIENTS - 1);
	extra = cli(f);
	cli_send(f, extra, "in\n", 3);
	expect(f, extra, "got 2:in\n");
	close(extra);
	for (int i = 1; i < CONTROL_MAX_CLIENTS; i++)
		close(fd[i]);
	wait_clients(f, 0);
}

/* Out of descriptors: accept() fails with EMFILE while the connection
 * stays queued, so the listener stays readable.  The control pauses
 * accepting instead of spinning, and serves the client once descriptors
 * are free again. */
static void test_out_of_descriptors(void **state)
{
	struct fx *f = *state;
	open_ok(f);
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	int fill[256], nfill = 0;
	/* a low limit, then every descriptor under it taken */
	lim = old;
	lim.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
	int fd;
	while (nfill < 256 && (fd = dup(0)) >= 0)
		fill[nfill++] = fd;
	assert_int_equal(errno, EMFILE);
	assert_true(nfill > 1);
	close(fill[--nfill]); /* room for the client's socket only */
	int client = cli(f);

	uint64_t t0 = mono_ms();
	for (int i = 0; i < 3; i++)
		assert_int_equal(evl_run_once(f->l, 50), UPS_OK);
	/* a spinning loop would return at once every time */
	assert_true(mono_ms() - t0 >= 60);
	assert_int_equal(control_client_count(f->c), 0);

	while (nfill > 0)
		close(fill[--nfill]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	cli_send(f, client, "back\n", 5);
	expect(f, client, "got 4:back\n");
	close(client);
}

/* A client that sends commands and never reads: its replies pile up in
 * the kernel, then in our queue up to CONTROL_OUT_MAX, then it is cut. */
static void test_never_reads(void **state)
{
	struct fx *f = *state;
	open_ok(f);
	int good = cli(f);
	int bad = cli(f);
	wait_clients(f, 2);
	static const char cmds[] = "big\nbig\nbig\nbig\nbig\nbig\nbig\nbig\n";
	uint64_t end = mono_ms() + 4 * DEADLINE_MS;
	size_t sent = 0;
	while (control_client_count(f->c) == 2) {
		assert_true(mono_ms() < end);
		ssize_t w = send(bad, cmds, sizeof cmds - 1, MSG_NOSIGNAL);
		if (w > 0)
			sent += (size_t)w;
		else
			assert_true(errno == EAGAIN || errno == EPIPE ||
				    errno == ECONNRESET);
		pump(f);
	}
	/* far more replies were asked for than any buffer holds */
	assert_true(sent / 4 * 1001 > CONTROL_OUT_MAX);
	assert_int_equal(control_client_count(f->c), 1);
	/* the bad client sees its connection end */
	uint64_t end2 = mono_ms() + DEADLINE_MS;
	for (;;) {
		char buf[65536];
		assert_true(mono_ms() < end2);
		ssize_t r = recv(bad, buf, sizeof buf, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			break;
		pump(f);
	}
	close(bad);
	/* the other client was served all along */
	cli_send(f, good, "fine\n", 5);
	expect(f, good, "got 4:fine\n");
	close(good);
}

/* Random bytes from several clients: every reply is one of the shapes the
 * framing produces, and nothing crashes (run under ASan/UBSan). */
static void test_random_input(void **state)
{
	struct fx *f = *state;
	enum { N = 5, ROUNDS = 200 };
	open_ok(f);
	int fd[N];
	for (int i = 0; i < N; i++)
		fd[i] = cli(f);
	unsigned seed = 12345;
	static char buf[3000], in[N][1 << 16];
	size_t have[N] = {0};
	int lines = 0;
	for (int r = 0; r < ROUNDS; r++) {
		int i = r % N;
		size_t n = 1 + (size_t)(rand_r(&seed) % sizeof buf);
		for (size_t k = 0; k < n; k++) {
			int x = rand_r(&seed) % 100;
			buf[k] = x < 4	 ? '\n'
				 : x < 6 ? '\r'
				 : x < 7 ? '\0'
					 : (char)rand_r(&seed);
		}
		cli_send(f, fd[i], buf, n);
		pump(f);
		for (int j = 0; j < N; j++) {
			ssize_t g =
			    recv(fd[j], in[j] + have[j],
				 sizeof in[j] - 1 - have[j], MSG_DONTWAIT);
			if (g <= 0)
				continue;
			have[j] += (size_t)g;
			in[j][have[j]] = '\0';
			char *nl, *p = in[j];
			while ((nl = strchr(p, '\n'))) {
				*nl = '\0';
				lines++;
				if (strncmp(p, "got ", 4) &&
				    strcmp(p, "error: line too long") &&
				    strcmp(p, "error: NUL byte in line"))
					fail_msg("unexpected reply %s", p);
				p = nl + 1;
			}
			have[j] -= (size_t)(p - in[j]);
			memmove(in[j], p, have[j]);
		}
	}
	assert_true(lines > ROUNDS);
	assert_int_equal(control_client_count(f->c), N);
	for (int i = 0; i < N; i++)
		close(fd[i]);
	wait_clients(f, 0);
}

/* socat, as a user would type it, in both its usual forms. */
static void run_socat(struct fx *f, const char *input, const char *want)
{
	int to[2], from[2];
	assert_int_equal(pipe(to), 0);
	assert_int_equal(pipe(from), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, to[0], 0);
	posix_spawn_file_actions_adddup2(&fa, from[1], 1);
	posix_spawn_file_actions_addclose(&fa, to[1]);
	posix_spawn_file_actions_addclose(&fa, from[0]);
	char addr[200];
	snprintf(addr, sizeof addr, "UNIX-CONNECT:%s", f->path);
	char *argv[] = {"socat", "-", addr, NULL};
	pid_t pid;
	int rc = posix_spawnp(&pid, "socat", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(to[0]);
	close(from[1]);
	if (rc != 0)
		fail_msg(
		    "cannot run socat (scripts/install-deps.sh installs it)");
	assert_int_equal((size_t)write(to[1], input, strlen(input)),
			 strlen(input));
	close(to[1]);
	fcntl(from[0], F_SETFL, O_NONBLOCK);
	char out[4096];
	size_t got = 0;
	uint64_t end = mono_ms() + DEADLINE_MS;
	for (;;) {
		assert_true(mono_ms() < end);
		pump(f);
		ssize_t r = read(from[0], out + got, sizeof out - 1 - got);
		if (r > 0)
			got += (size_t)r;
		else if (r == 0)
			break;
	}
	out[got] = '\0';
	close(from[0]);
	int status;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		assert_true(mono_ms() < end);
		pump(f);
	}
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_string_equal(out, want);
}

static void test_socat(void **state)
{
	struct fx *f = *state;
	open_ok(f);
	run_socat(f, "hello\nstatus\n\nbye\r\n",
		  "got 5:hello\nstatus Q=08 charge=100.0 runtime_min=0.0 "
		  "line_v=0.0 line_hz=0.00 out_v=0.0 load=0.0 batt_v=0.00 "
		  "temp_c=0.0 output=on on_battery=no low_battery=no "
		  "replace_battery=no overload=no smart=no alive=yes trip=00 trip1=00 state=00 "
		  "cause=- test=-- faults=none shutdown_pending=no "
		  "shutdown_in_s=0.0 t=1.500\ngot 3:bye\n");
	run_socat(f, "no newline", "got 10:no newline\n");
	wait_clients(f, 0);
}

/* ---------- the status line ---------- */

static void test_format_status(void **state)
{
	(void)state;
	struct ups_status st = {
	    .smart = true,
	    .output_on = true,
	    .on_battery = true,
	    .alive = true,
	    .q = UPS_Q_ONBATT | UPS_Q_LOWBATT,
	    .trip = 0x10,
	    .line_v = 0.0,
	    .line_hz = 59.987,
	    .out_v = 119.96,
	    .load_pct = 40.04,
	    .charge_pct = 12.36,
	    .batt_v = 24.123,
	    .temp_c = -0.04,
	    .runtime_min = 3.25,
	    .test_result = "OK",
	    .transfer_cause = 'U',
	    .shutdown_in_s = 17.25,
	    .faults = (1u << UPS_FAULT_FAN) | (1u << UPS_FAULT_CHARGER),
	};
	char buf[512];
	const char *want =
	    "status Q=50 charge=12.4 runtime_min=3.3 line_v=0.0 "
	    "line_hz=59.99 out_v=120.0 load=40.0 batt_v=24.12 temp_c=0.0 "
	    "output=on on_battery=yes low_battery=yes replace_battery=no "
	    "overload=no smart=yes alive=yes trip=10 trip1=00 state=00 cause=U test=OK "
	    "faults=charger,fan shutdown_pending=yes shutdown_in_s=17.3 "
	    "t=3723.004";
	st.shutdown_pending = true;
	size_t n = control_format_status(&st, 3723004, buf, sizeof buf);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
	/* not pending: no countdown shown */
	st.shutdown_pending = false;
	st.faults = 0;
	control_format_status(&st, 3723004, buf, sizeof buf);
	assert_non_null(strstr(buf, " faults=none shutdown_pending=no "
				    "shutdown_in_s=0.0 t=3723.004"));
	/* cut like snprintf */
	st.shutdown_pending = true;
	st.faults = (1u << UPS_FAULT_FAN) | (1u << UPS_FAULT_CHARGER);
	char small[16];
	assert_int_equal(
	    control_format_status(&st, 3723004, small, sizeof small),
	    strlen(want));
	assert_string_equal(small, "status Q=50 cha");
	assert_int_equal(control_format_status(&st, 0, NULL, 0),
			 strlen(want) - strlen("3723.004") + strlen("0.000"));
}

int main(void)
{
	/* SIGPIPE keeps its default action: the module must never raise it
	 * when a client goes away */
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_mode_0600),
	    T(test_close_unlinks),
	    T(test_close_leaves_other_socket),
	    T(test_refuse_regular_file),
	    T(test_refuse_directory_and_symlink),
	    T(test_refuse_live_socket),
	    T(test_stale_socket_replaced),
	    T(test_bad_paths),
	    T(test_lines),
	    T(test_long_lines),
	    T(test_eof_last_line),
	    T(test_many_clients),
	    T(test_too_many_clients),
	    T(test_out_of_descriptors),
	    T(test_never_reads),
	    T(test_random_input),
	    T(test_socat),
	    T(test_format_status),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
