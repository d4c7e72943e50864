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

/* ---- anomalies: floods, host sessions, the wire clock ---------------- */

/* A transport whose host never reads (every write refused until `accept`),
 * and whose host opens are announced through a pipe. */
struct fake_host {
	struct transport base;
	int fd, ev_rd;
	int hosts; /* hosts that have it open now */
	bool accept;
	struct ups_buf sink;
};

static ssize_t h_read(struct transport *t, void *buf, size_t len)
{
	ssize_t n = read(((struct fake_host *)t)->fd, buf, len);
	return n < 0 ? 0 : n;
}

static ssize_t h_write(struct transport *t, const void *buf, size_t len)
{
	struct fake_host *f = (struct fake_host *)t;
	if (!f->accept)
		return 0;
	ups_buf_append(&f->sink, buf, len);
	return (ssize_t)len;
}

static int h_fd(const struct transport *t)
{
	return ((const struct fake_host *)t)->fd;
}

static int h_host_fd(const struct transport *t)
{
	return ((const struct fake_host *)t)->ev_rd;
}

/* Each byte on the event pipe is a host event: 'c' the last host closed,
 * anything else a host opened. */
static int h_events(struct transport *t, struct transport_hosts *h)
{
	struct fake_host *f = (struct fake_host *)t;
	char c[64];
	ssize_t n = read(f->ev_rd, c, sizeof c);
	*h = (struct transport_hosts){ 0 };
	for (ssize_t i = 0; i < n; i++) {
		if (c[i] == 'c') {
			f->hosts = 0;
			h->idle = true;
		} else {
			f->hosts++;
			h->opens++;
		}
	}
	h->attached = f->hosts;
	return h->opens;
}

static const struct transport_ops host_ops = {
	.name = "fake-host", .read = h_read, .write = h_write, .fd = h_fd,
	.close = f_close, .host_fd = h_host_fd, .host_events = h_events,
};

struct rig {
	struct ups_profile p;
	int sv[2], ev[2];
	struct fake_host f;
	struct vclock vc;
	struct evl *l;
	struct ups *u;
	struct engine *e;
};

static void rig_up(struct rig *r)
{
	struct ups_diag d;
	memset(r, 0, sizeof *r);
	assert_int_equal(prof_load(PROF_DEFAULT_NAME, &r->p, &d), UPS_OK);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, r->sv), 0);
	assert_int_equal(pipe(r->ev), 0);
	fcntl(r->sv[0], F_SETFL, O_NONBLOCK);
	fcntl(r->sv[1], F_SETFL, O_NONBLOCK);
	fcntl(r->ev[0], F_SETFL, O_NONBLOCK);
	r->f = (struct fake_host){ .base = { .ops = &host_ops }, .fd = r->sv[0],
				   .ev_rd = r->ev[0], .hosts = 1 };
	struct evl_clock clock = { .now_ms = vnow, .ctx = &r->vc, .scale = 1 };
	r->l = evl_new(&clock);
	r->u = ups_new(&r->p, 0);
	r->e = engine_new(r->l, &r->f.base, r->u, NULL);
	assert_non_null(r->e);
}

static void rig_down(struct rig *r)
{
	engine_free(r->e);
	evl_free(r->l);
	ups_free(r->u);
	ups_buf_free(&r->f.sink);
	close(r->sv[0]); close(r->sv[1]); close(r->ev[0]); close(r->ev[1]);
}

/* A host floods queries and never reads: whatever the input, the output
 * queue stays bounded where it is filled, and one wake-up reads a bounded
 * amount (the loop keeps turning for timers and signals). */
static void test_flood_bounded(void **st)
{
	(void)st;
	struct rig r;
	rig_up(&r);
	static const char q[] = "\x1aQfjB";
	char chunk[4096];
	for (size_t i = 0; i < sizeof chunk; i++)
		chunk[i] = q[i % (sizeof q - 1)];
	assert_int_equal(write(r.sv[1], "Y", 1), 1);
	size_t sent = 0, most = 0;
	int wakes = 0;
	while (sent < (1u << 20) && wakes < 100000) {
		ssize_t n = write(r.sv[1], chunk, sizeof chunk);
		if (n > 0)
			sent += (size_t)n;
		evl_run_once(r.l, 0);
		wakes++;
		if (engine_queued(r.e) > most)
			most = engine_queued(r.e);
	}
	assert_true(sent >= (1u << 20));
	/* 64 KiB plus at most one 16-byte piece of the longest reply */
	assert_true(most <= 64 * 1024 + 16 * UPS_REPLY_MAX);
	assert_true(most >= 60 * 1024); /* it did fill: the bound was hit */
	assert_false(engine_lost(r.e, NULL));
	rig_down(&r);
}

/* Host A leaves "@1" pending and replies nobody read; host B opens and its
 * "Y" is already waiting when the loop wakes: B's session starts before
 * its byte is read, and B receives exactly SM. */
static void test_new_session_is_clean(void **st)
{
	(void)st;
	struct rig r;
	rig_up(&r);
	assert_int_equal(write(r.sv[1], "YQQQfjB@1", 9), 9);
	for (int i = 0; i < 8; i++)
		evl_run_once(r.l, 0);
	assert_true(engine_queued(r.e) > 0); /* A's replies, unread */
	r.vc.now = 100;
	assert_int_equal(write(r.ev[1], "o", 1), 1); /* B opens ... */
	assert_int_equal(write(r.sv[1], "Y", 1), 1); /* ... and sends Y */
	r.f.accept = true;
	for (int i = 0; i < 8; i++)
		evl_run_once(r.l, 0);
	assert_int_equal(r.f.sink.len, 4);
	assert_memory_equal(r.f.sink.data, "SM\r\n", 4);
	rig_down(&r);
}

/* While nobody has the device open, what the unit sends is dropped, not
 * left queued for the next host; that host then gets only its replies. */
static void test_no_host_drops_output(void **st)
{
	(void)st;
	struct rig r;
	rig_up(&r);
	r.f.accept = true;
	assert_int_equal(write(r.ev[1], "c", 1), 1); /* the host closes */
	evl_run_once(r.l, 0);
	engine_send(r.e, (const uint8_t *)"!", 1); /* an alert, nobody there */
	for (int i = 0; i < 4; i++)
		evl_run_once(r.l, 0);
	assert_int_equal(r.f.sink.len, 0);
	assert_int_equal(engine_queued(r.e), 0);
	assert_false(engine_host_attached(r.e));
	assert_int_equal(write(r.ev[1], "o", 1), 1); /* a host opens */
	assert_int_equal(write(r.sv[1], "Y", 1), 1);
	for (int i = 0; i < 4; i++)
		evl_run_once(r.l, 0);
	assert_true(engine_host_attached(r.e));
	assert_int_equal(r.f.sink.len, 4);
	assert_memory_equal(r.f.sink.data, "SM\r\n", 4);
	engine_send(r.e, (const uint8_t *)"!", 1); /* now it goes out */
	evl_run_once(r.l, 0);
	assert_int_equal(r.f.sink.len, 5);
	rig_down(&r);
}

/* Model time runs 100 times faster than the wire: K, 20 ms of wall time,
 * K is still a press too early, however far model time moved. */
struct vclock2 {
	uint64_t model, wall;
};
static uint64_t v2_model(void *ctx) { return ((struct vclock2 *)ctx)->model; }
static uint64_t v2_wall(void *ctx) { return ((struct vclock2 *)ctx)->wall; }

static void test_wire_timers_real_time(void **st)
{
	(void)st;
	struct rig r;
	rig_up(&r);
	engine_free(r.e);
	evl_free(r.l);
	struct vclock2 c2 = { 0, 0 };
	struct evl_clock clock = { .now_ms = v2_model, .wall_ms = v2_wall,
				   .ctx = &c2, .scale = 100 };
	r.l = evl_new(&clock);
	r.e = engine_new(r.l, &r.f.base, r.u, NULL);
	r.f.accept = true;
	assert_int_equal(write(r.sv[1], "YK", 2), 2);
	evl_run_once(r.l, 0);
	c2.wall += 20;
	c2.model += 2000; /* far past the 1.2 s two-press gap in model time */
	assert_int_equal(write(r.sv[1], "K", 1), 1);
	evl_run_once(r.l, 0);
	c2.wall += 1000;
	c2.model += 100000; /* past any shutdown delay */
	evl_run_once(r.l, 0);
	struct ups_status s;
	ups_get_status(r.u, c2.model, &s);
	assert_true(s.output_on);
	assert_int_equal(r.f.sink.len, 4); /* SM only: the K pair was ignored */
	/* and the pair is accepted when the wall gap is long enough */
	assert_int_equal(write(r.sv[1], "K", 1), 1);
	evl_run_once(r.l, 0);
	c2.wall += 1600;
	c2.model += 160000;
	assert_int_equal(write(r.sv[1], "K", 1), 1);
	evl_run_once(r.l, 0);
	assert_true(r.f.sink.len > 4);
	rig_down(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood_bounded),
		cmocka_unit_test(test_new_session_is_clean),
		cmocka_unit_test(test_no_host_drops_output),
		cmocka_unit_test(test_wire_timers_real_time),
		cmocka_unit_test(test_clean_transport),
		cmocka_unit_test(test_short_writes),
		cmocka_unit_test(test_eagain_and_short),
		cmocka_unit_test(test_one_byte_then_refuse),
		cmocka_unit_test(test_paced_clean),
		cmocka_unit_test(test_paced_with_faults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
