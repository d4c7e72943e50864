/*
 * test_engine.c - the engine under a misbehaving transport.  A fake
 * transport accepts writes in short pieces and refuses some (EAGAIN), the
 * clock is virtual; whatever the faults, the bytes the host receives must
 * equal, byte for byte and in order, what the model produces when driven
 * directly with the same input at the same times: nothing lost, nothing
 * reordered, no alert inside a reply.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "upssim/engine.h"
#include "upssim/evloop.h"
#include "upssim/profile.h"
#include "upssim/transport.h"
#include "upssim/ups.h"

struct vclock {
	uint64_t now;
};

static uint64_t vnow(void *ctx)
{
	return ((struct vclock *)ctx)->now;
}

struct fake {
	struct transport base;
	int fd;                 /* our end of a socketpair */
	const int *plan;        /* bytes accepted per write call; 0 = EAGAIN */
	size_t plan_len, step;
	struct ups_buf sink;    /* what the host would have received */
	int writes, refusals;
};

static ssize_t f_read(struct transport *t, void *buf, size_t len)
{
	ssize_t n = read(((struct fake *)t)->fd, buf, len);
	return n < 0 ? 0 : n;
}

static ssize_t f_write(struct transport *t, const void *buf, size_t len)
{
	struct fake *f = (struct fake *)t;
	size_t allow = (size_t)f->plan[f->step++ % f->plan_len];
	f->writes++;
	if (allow == 0) {
		f->refusals++;
		return 0; /* EAGAIN */
	}
	if (allow > len)
		allow = len;
	ups_buf_append(&f->sink, buf, allow);
	return (ssize_t)allow;
}

static int f_fd(const struct transport *t)
{
	return ((const struct fake *)t)->fd;
}

static void f_close(struct transport *t)
{
	(void)t;
}

static const struct transport_ops fake_ops = {
	.name = "fake", .read = f_read, .write = f_write, .fd = f_fd,
	.close = f_close,
};

/* Host input: chunks sent at given virtual times (NUT start-up, an edit,
 * a simulated power failure, a self-test, and their alerts). */
struct chunk {
	uint64_t t;
	const char *bytes;
};
static const struct chunk script[] = {
	{ 100, "Y" }, { 150, "VbaQ" }, { 200, "\x01" "9BCEFGLMNOPXcefgjklmnopqrsux" },
	{ 300, "b\x1a" "Q" }, { 2300, "QCPXLF9GMNOfBj" }, { 2400, "u-u" },
	{ 4300, "QCPXLF9GMNOfBj" }, { 9000, "U" }, { 9100, "Q" },
	{ 16000, "QG" }, { 16100, "W" }, { 30000, "XQ" }, { 31000, "c-" },
	{ 31100, "AB" }, { 31200, "CDEFGH" }, { 40000, "cQ" },
};
static const uint64_t tick_times[] = { 5000, 7500, 12000, 15500, 20000, 25000,
				       35000, 60000 };

static void run_with_plan(const int *plan, size_t plan_len, bool paced)
{
	static struct ups_profile p;
	struct ups_diag d;
	assert_int_equal(prof_load(PROF_DEFAULT_NAME, &p, &d), UPS_OK);
	if (paced) {
		p.reply_delay_ms = 60;
		p.pace = true;
	}

	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	struct fake f = { .base = { .ops = &fake_ops }, .fd = sv[0],
			  .plan = plan, .plan_len = plan_len };
	struct vclock vc = { 0 };
	struct evl_clock clock = { .now_ms = vnow, .ctx = &vc, .scale = 1 };
	struct evl *l = evl_new(&clock);
	struct ups *u = ups_new(&p, 0);
	struct engine *e = engine_new(l, &f.base, u, NULL);
	assert_non_null(e);

	/* reference: the same unit driven directly */
	struct ups *ref = ups_new(&p, 0);
	struct ups_buf want = { 0 };
	ups_tick(ref, 0, &want);

	size_t ci = 0, ti = 0;
	int held_back = 0;
	size_t n_chunks = sizeof script / sizeof script[0];
	size_t n_ticks = sizeof tick_times / sizeof tick_times[0];
	while (ci < n_chunks || ti < n_ticks) {
		bool is_chunk = ci < n_chunks &&
				(ti >= n_ticks || script[ci].t <= tick_times[ti]);
		vc.now = is_chunk ? script[ci].t : tick_times[ti];
		if (is_chunk) {
			const char *b = script[ci].bytes;
			assert_int_equal(write(sv[1], b, strlen(b)), (ssize_t)strlen(b));
			ups_feed(ref, (const uint8_t *)b, strlen(b), vc.now, &want);
			ci++;
		} else {
			ups_tick(ref, vc.now, &want);
			ti++;
		}
		/* let the loop see the bytes and any due timer, then drain */
		for (int i = 0; i < 64; i++)
			evl_run_once(l, 0);
		/* paced: a reply is still on its way at the time it was asked;
		 * unpaced over a clean transport: already all there */
		if (f.sink.len < want.len)
			held_back++;
	}
	for (int i = 0; i < 100000 && f.sink.len < want.len; i++) {
		if (paced)
			vc.now += 5; /* let the paced line drain */
		evl_run_once(l, 0);
	}
	if (paced)
		assert_true(held_back >= 10);
	else if (plan_len == 1)
		assert_int_equal(held_back, 0);

	assert_int_equal(f.sink.len, want.len);
	assert_memory_equal(f.sink.data, want.data, want.len);
	assert_false(engine_lost(e, NULL));
	if (plan_len > 1)
		assert_true(f.refusals > 0 || f.writes > 10);

	engine_free(e);
	evl_free(l);
	ups_free(u);
	ups_free(ref);
	ups_buf_free(&want);
	ups_buf_free(&f.sink);
	close(sv[0]);
	close(sv[1]);
}

static void test_clean_transport(void **st)
{
	(void)st;
	static const int plan[] = { 1 << 20 };
	run_with_plan(plan, 1, false);
}

static void test_short_writes(void **st)
{
	(void)st;
	static const int plan[] = { 1, 2, 3, 1, 5, 1 };
	run_with_plan(plan, sizeof plan / sizeof plan[0], false);
}

static void test_eagain_and_short(void **st)
{
	(void)st;
	static const int plan[] = { 0, 0, 3, 0, 1, 0, 0, 0, 7, 2 };
	run_with_plan(plan, sizeof plan / sizeof plan[0], false);
}

static void test_one_byte_then_refuse(void **st)
{
	(void)st;
	static const int plan[] = { 1, 0 };
	run_with_plan(plan, 2, false);
}

static void test_paced_with_faults(void **st)
{
	(void)st;
	static const int plan[] = { 0, 1, 0, 0, 2, 1 };
	run_with_plan(plan, sizeof plan / sizeof plan[0], true);
}

static void test_paced_clean(void **st)
{
	(void)st;
	static const int plan[] = { 1 << 20 };
	run_with_plan(plan, 1, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_transport),
		cmocka_unit_test(test_short_writes),
		cmocka_unit_test(test_eagain_and_short),
		cmocka_unit_test(test_one_byte_then_refuse),
		cmocka_unit_test(test_paced_clean),
		cmocka_unit_test(test_paced_with_faults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
