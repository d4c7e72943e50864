/*
 * test_replay.c - unit tests for replay by command (sim/core/replay.c):
 * a trace is read into a command -> replies map and installed on a unit of
 * a different profile; whatever order the host asks in, each command gets
 * the recorded unit's reply, in sequence or the latest; commands the trace
 * never saw are answered by the profile and counted; multi-byte commands
 * (K..K, `@ddd`, `c -` entries) keep the codec's rules; alerts are kept
 * with their times, and a reply that begins with an alert character (`#`
 * of ^Z) stays a reply.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/profile.h"
#include "upssim/replay.h"
#include "upssim/scenario.h"
#include "upssim/ups.h"

struct fx {
	struct ups_profile p;
	struct ups *u;
	struct replay *rp;
	struct ups_buf out;
	uint64_t t;
};

/* A recorded unit (not the default profile's values) answering a host
 * that asked in the order Y Q B ^A F, then polled Q B again. */
static const char trace1[] =
	"0.000 trace v1 side=ups upssim test\n"
	"0.000 tx \"?\"\n" /* into a pty no host had open: not an alert */
	"0.100 host-open\n"
	"0.200 rx \"Y\"\n"
	"0.201 tx \"SM\\r\\n\"\n"
	"0.300 rx \"Q\"\n"
	"0.301 tx \"08\\r\\n\"\n"
	"0.400 rx \"B\"\n"
	"0.401 tx \"13.61\\r\\n\"\n"
	"0.500 rx \"\\x01\"\n"
	"0.501 tx \"SMART-UPS 420   \\r\\n\"\n"
	"0.600 rx \"F\"\n"
	"0.601 tx \"!\" an alert\n"
	"0.602 tx \"49.98\\r\\n\"\n"
	"2.300 rx \"Q\"\n"
	"2.301 tx \"10\\r\\n\"\n"
	"2.400 rx \"B\"\n"
	"2.401 tx \"13.20\\r\\n\"\n"
	"3.000 rx \"\\x1A\"\n"
	"3.050 tx \"#uD43127130133136\\r\\n\"\n"
	"4.000 tx \"$\"\n";

static struct fx *make(const char *trace, enum replay_mode mode)
{
	struct fx *x = calloc(1, sizeof *x);
	struct ups_diag d;
	assert_int_equal(prof_load_from(NULL, "smart-ups-1500", &x->p, &d), UPS_OK);
	x->u = ups_new(&x->p, 0);
	struct codec_config cc = { .two_press_gap_ms = x->p.two_press_gap_ms };
	x->rp = replay_new(mode, &cc);
	assert_non_null(x->rp);
	assert_int_equal(replay_add_trace(x->rp, "t.trace", trace, strlen(trace), &d),
			 UPS_OK);
	ups_set_reply_hook(x->u, replay_hook, x->rp);
	ups_mute_alerts(x->u, true);
	return x;
}

static void unmake(struct fx *x)
{
	ups_free(x->u);
	replay_free(x->rp);
	ups_buf_free(&x->out);
	free(x);
}

/* Send @p s at t += @p dt; @return what the unit answered (static). */
static const char *ask(struct fx *x, uint64_t dt, const char *s)
{
	static char buf[2048];
	x->t += dt;
	x->out.len = 0;
	assert_int_equal(ups_feed_at(x->u, (const uint8_t *)s, strlen(s), x->t,
				     x->t, &x->out), UPS_OK);
	size_t n = x->out.len < sizeof buf - 1 ? x->out.len : sizeof buf - 1;
	memcpy(buf, x->out.data, n);
	buf[n] = '\0';
	return buf;
}

static void test_other_order_answered_by_command(void **state)
{
	(void)state;
	struct fx *x = make(trace1, REPLAY_SEQUENCE);
	assert_string_equal(ask(x, 100, "Y"), "SM\r\n");
	/* the host asks F first, then B, ^A, Q: a positional replay would
	 * answer F with SM */
	assert_string_equal(ask(x, 100, "F"), "49.98\r\n");
	assert_string_equal(ask(x, 100, "B"), "13.61\r\n");
	assert_string_equal(ask(x, 100, "\x01"), "SMART-UPS 420   \r\n");
	assert_string_equal(ask(x, 100, "Q"), "08\r\n");
	/* in sequence: each command's next reply, then the last again */
	assert_string_equal(ask(x, 100, "Q"), "10\r\n");
	assert_string_equal(ask(x, 100, "Q"), "10\r\n");
	assert_string_equal(ask(x, 100, "B"), "13.20\r\n");
	/* `#` opens the dump: a reply, not an alert */
	assert_string_equal(ask(x, 100, "\x1a"), "#uD43127130133136\r\n");
	assert_int_equal(replay_misses(x->rp), 0);
	unmake(x);
}

static void test_latest_mode(void **state)
{
	(void)state;
	struct fx *x = make(trace1, REPLAY_LATEST);
	ask(x, 100, "Y");
	assert_string_equal(ask(x, 100, "Q"), "10\r\n");
	assert_string_equal(ask(x, 100, "B"), "13.20\r\n");
	unmake(x);
}

static void test_unseen_commands_fall_back_and_are_listed(void **state)
{
	(void)state;
	struct fx *x = make(trace1, REPLAY_SEQUENCE);
	ask(x, 100, "Y");
	/* not in the trace: the profile answers (the SU1500's L) */
	assert_string_equal(ask(x, 100, "L"), "123.8\r\n");
	ask(x, 100, "L");
	assert_string_equal(ask(x, 100, "n"), "AS0413231246\r\n");
	struct replay_key k;
	assert_true(replay_take_miss(x->rp, &k));
	assert_false(replay_take_miss(x->rp, &k));
	assert_int_equal(replay_misses(x->rp), 2);
	unsigned count;
	char name[32];
	const struct replay_key *m = replay_miss(x->rp, 0, &count);
	assert_string_equal(replay_key_name(m, name, sizeof name), "L");
	assert_int_equal(count, 2);
	m = replay_miss(x->rp, 1, &count);
	assert_string_equal(replay_key_name(m, name, sizeof name), "n");
	assert_int_equal(count, 1);
	assert_null(replay_miss(x->rp, 2, &count));
	unmake(x);
}

static void test_alerts_kept_with_times(void **state)
{
	(void)state;
	struct fx *x = make(trace1, REPLAY_SEQUENCE);
	size_t n;
	const struct replay_alert *a = replay_alerts(x->rp, &n);
	assert_int_equal(n, 2);
	assert_int_equal(a[0].byte, '!');
	assert_int_equal(a[0].t_ms, 401); /* 0.601 - the first byte at 0.200 */
	assert_int_equal(a[1].byte, '$');
	assert_int_equal(a[1].t_ms, 3800);
	/* the model's own alerts are muted: its power-on `?` never shows */
	x->out.len = 0;
	ups_tick(x->u, 700000, &x->out);
	assert_int_equal(x->out.len, 0);
	assert_int_equal(replay_n_commands(x->rp), 6);
	assert_int_equal(replay_n_replies(x->rp), 8);
	unmake(x);
}

static void test_multi_byte_commands(void **state)
{
	(void)state;
	static const char t[] =
		"1.000 rx \"Y\"\n1.001 tx \"SM\\r\\n\"\n"
		"2.000 rx \"K\"\n"
		"3.600 rx \"K\"\n3.601 tx \"OK\\r\\n\"\n"
		"4.000 rx \"c\"\n4.001 tx \"UPS_IDEN\\r\\n\"\n"
		"4.100 rx \"-\"\n"
		"4.150 rx \"N\"\n4.200 rx \"AME\\r\\r\\r\\r\"\n4.201 tx \"OK\\r\\n\"\n"
		"4.300 rx \"c\"\n4.301 tx \"NAME\\r\\n\"\n"
		"5.000 rx \"@\"\n5.200 rx \"0\"\n5.250 rx \"20\"\n5.251 tx \"OK\\r\\n\"\n"
		"6.000 rx \"Z\"\n6.001 tx \"NA\\r\\n\"\n"
		"7.000 rx \"u\"\n7.001 tx \"230\\r\\n\"\n"
		"7.100 rx \"-\"\n7.101 tx \"NO\\r\\n\"\n";
	struct fx *x = make(t, REPLAY_SEQUENCE);
	ask(x, 1000, "Y");
	/* K..K: nothing after the first press, OK after the second */
	assert_string_equal(ask(x, 1000, "K"), "");
	assert_string_equal(ask(x, 1600, "K"), "OK\r\n");
	/* the unit did not really start a shutdown: the trace answered */
	struct ups_status st;
	ups_get_status(x->u, x->t, &st);
	assert_false(st.shutdown_pending);
	/* a c entry: the codec still takes 8 characters */
	assert_string_equal(ask(x, 100, "c"), "UPS_IDEN\r\n");
	assert_string_equal(ask(x, 100, "-"), "");
	assert_string_equal(ask(x, 50, "NAME\r\r\r"), "");
	assert_string_equal(ask(x, 50, "\r"), "OK\r\n");
	assert_string_equal(ask(x, 50, "c"), "NAME\r\n");
	/* @020 */
	assert_string_equal(ask(x, 100, "@"), "");
	assert_string_equal(ask(x, 200, "020"), "OK\r\n");
	/* a first press the unit refused: NA, and the next Z starts anew */
	assert_string_equal(ask(x, 100, "Z"), "NA\r\n");
	assert_string_equal(ask(x, 100, "Z"), "NA\r\n");
	/* an edit refused */
	assert_string_equal(ask(x, 100, "u"), "230\r\n");
	assert_string_equal(ask(x, 100, "-"), "NO\r\n");
	/* an @ with other digits was not recorded: the profile answers */
	assert_string_equal(ask(x, 100, "@"), "");
	ask(x, 200, "111");
	assert_int_equal(replay_misses(x->rp), 1);
	char name[32];
	assert_string_equal(replay_key_name(replay_miss(x->rp, 0, NULL), name,
					    sizeof name), "@111");
	unmake(x);
}

static void test_silence_and_pipelining(void **state)
{
	(void)state;
	/* a v/s unit: no reply to B (the host waited 3 s), then Q answered;
	 * and a host that sent two commands in one write */
	static const char t[] =
		"0.000 rx \"Y\"\n0.001 tx \"SM\\r\\n\"\n"
		"1.000 rx \"B\"\n"
		"4.000 rx \"Q\"\n4.001 tx \"08\\r\\n\"\n"
		"5.000 rx \"LF\"\n5.001 tx \"230.1\\r\\n\"\n5.002 tx \"50.00\\r\\n\"\n"
		"6.000 tx \"garbage\\r\\n\"\n";
	struct fx *x = make(t, REPLAY_SEQUENCE);
	ask(x, 100, "Y");
	assert_string_equal(ask(x, 100, "B"), "");
	assert_string_equal(ask(x, 100, "Q"), "08\r\n");
	assert_string_equal(ask(x, 100, "F"), "50.00\r\n");
	assert_string_equal(ask(x, 100, "L"), "230.1\r\n");
	assert_int_equal(replay_unattributed(x->rp), 1);
	size_t nr;
	size_t len;
	bool present;
	for (size_t i = 0; i < replay_n_commands(x->rp); i++) {
		const struct replay_key *k = replay_command(x->rp, i, &nr);
		if (k->b[0] == 'B') {
			assert_int_equal(nr, 1);
			assert_non_null(replay_reply(x->rp, i, 0, &len, &present));
			assert_false(present);
		}
	}
	assert_null(replay_command(x->rp, 99, &nr));
	unmake(x);
}

static void test_new_host_session(void **state)
{
	(void)state;
	/* a host left in the middle of `@`; the next one's Q is a command */
	static const char t[] =
		"0.000 rx \"Y\"\n0.001 tx \"SM\\r\\n\"\n"
		"1.000 rx \"@\"\n"
		"2.000 host-close\n2.100 host-open\n"
		"2.200 rx \"Q\"\n2.201 tx \"08\\r\\n\"\n";
	struct fx *x = make(t, REPLAY_SEQUENCE);
	ask(x, 100, "Y");
	assert_string_equal(ask(x, 100, "Q"), "08\r\n");
	unmake(x);
}

static void test_bad_trace(void **state)
{
	(void)state;
	struct replay *rp = replay_new(REPLAY_SEQUENCE, NULL);
	struct ups_diag d;
	const char *t = "0.1 rx \"Y\"\n0.2 rx \"\\z\"\n";
	assert_int_equal(replay_add_trace(rp, "b.trace", t, strlen(t), &d),
			 UPS_EPARSE);
	assert_int_equal(d.line, 2);
	assert_int_equal(replay_add_trace(rp, "x", NULL, 3, &d), UPS_EARG);
	replay_free(rp);
	replay_free(NULL);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[65536];
	*len = fread(buf, 1, sizeof buf - 1, f);
	buf[*len] = '\0';
	fclose(f);
	char *copy = malloc(*len + 1);
	memcpy(copy, buf, *len + 1);
	return copy;
}

/* scenarios/field: each scenario parses, its profile loads with the
 * override, and its trace holds the one ^Z reply it is there for. */
static void test_field_scenarios(void **state)
{
	(void)state;
	static const char *const names[] = { "nut-1941-caps-abort",
					     "nut-180-level4" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[512];
		size_t len;
		struct ups_diag d;
		static struct scen sc;
		static struct ups_profile p;
		snprintf(path, sizeof path, "%s/scenarios/field/%s.yaml",
			 UPSSIM_SOURCE_DIR, names[i]);
		char *text = slurp(path, &len);
		scen_free(&sc);
		assert_int_equal(scen_parse(path, text, len, &sc, &d), UPS_OK);
		assert_int_equal(prof_load_from(NULL, sc.profile, &p, &d), UPS_OK);
		assert_int_equal(prof_overlay(&p, sc.overlay, sc.overlay_len,
					      sc.source, &d), UPS_OK);
		free(text);
		snprintf(path, sizeof path, "%s/scenarios/field/%s.trace",
			 UPSSIM_SOURCE_DIR, names[i]);
		text = slurp(path, &len);
		struct replay *rp = replay_new(REPLAY_SEQUENCE, NULL);
		assert_int_equal(replay_add_trace(rp, path, text, len, &d), UPS_OK);
		size_t nr, rl;
		bool present;
		assert_int_equal(replay_n_commands(rp), 1);
		const struct replay_key *k = replay_command(rp, 0, &nr);
		assert_int_equal(k->b[0], 0x1A);
		const uint8_t *r = replay_reply(rp, 0, 0, &rl, &present);
		assert_true(present && rl == 206 && r[0] == '#' && r[203] == '/');
		replay_free(rp);
		free(text);
		scen_free(&sc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_other_order_answered_by_command),
		cmocka_unit_test(test_latest_mode),
		cmocka_unit_test(test_unseen_commands_fall_back_and_are_listed),
		cmocka_unit_test(test_alerts_kept_with_times),
		cmocka_unit_test(test_multi_byte_commands),
		cmocka_unit_test(test_silence_and_pipelining),
		cmocka_unit_test(test_new_host_session),
		cmocka_unit_test(test_bad_trace),
		cmocka_unit_test(test_field_scenarios),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
