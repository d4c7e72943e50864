/*
 * test_lint.c - unit tests for the host lint (sim/core/lint.c) on a real
 * unit: every rule fires on the host behaviour it describes, with the
 * bytes it is about, and stays quiet on what NUT and apcupsd do (reading
 * each reply before the next command, K..K 1.5 s apart, NUT's CR-padded
 * `c` entry and its read-back 50 ms later, apcupsd's 1 s typing).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/lint.h"
#include "upssim/profile.h"
#include "upssim/replay.h"
#include "upssim/ups.h"

struct fx {
	struct ups_profile p;
	struct ups *u;
	struct lint l;
	struct ups_buf out;
	struct lint_finding f[64];
	int nf;
};

static void on_finding(void *ctx, const struct lint_finding *f)
{
	struct fx *x = ctx;
	if (getenv("LINT_DEBUG"))
		fprintf(stderr, "finding %s: %s\n", lint_rule_name(f->rule), f->msg);
	if (x->nf < 64)
		x->f[x->nf++] = *f;
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof *x);
	struct ups_diag d;
	assert_int_equal(prof_load_from(NULL, "smart-ups-1500", &x->p, &d), UPS_OK);
	x->u = ups_new(&x->p, 0);
	lint_init(&x->l, &x->p, on_finding, x);
	ups_set_lint(x->u, &x->l);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	ups_set_lint(x->u, NULL);
	ups_free(x->u);
	ups_buf_free(&x->out);
	free(x);
	return 0;
}

/* The host sends @p s in one write at @p t; the unit's reply stays queued. */
static void send_at(struct fx *x, uint64_t t, const char *s, size_t n)
{
	assert_int_equal(ups_feed_at(x->u, (const uint8_t *)s, n, t, t, &x->out),
			 UPS_OK);
}
#define SEND(x, t, s) send_at(x, t, s, sizeof s - 1)

/* The engine wrote everything, and the host read it. */
static void deliver(struct fx *x)
{
	x->out.len = 0;
	lint_delivered(&x->l);
	lint_host_unread(&x->l, 0);
}

/* A well-behaved host: send, then read the reply. */
static void ask(struct fx *x, uint64_t t, const char *s)
{
	send_at(x, t, s, strlen(s));
	deliver(x);
}

static void expect_one(struct fx *x, enum lint_rule r, const char *bytes,
		       size_t n)
{
	assert_int_equal(x->nf, 1);
	assert_int_equal(x->f[0].rule, r);
	assert_int_equal(x->f[0].n, n);
	assert_memory_equal(x->f[0].bytes, bytes, n);
	x->nf = 0;
}

static void test_well_behaved_hosts_are_quiet(void **state)
{
	struct fx *x = *state;
	uint64_t t = 1000;
	ask(x, t, "Y");
	const char *poll = "QCPXLF9GMNOfBjabnm\x01\x1a";
	for (const char *c = poll; *c; c++)
		ask(x, t += 10, (char[]){ *c, 0 });
	/* NUT's c entry: `-`, then 8 characters padded with CR, 50 ms each,
	 * then the read-back 50 ms after the last one */
	ask(x, t += 10, "c");
	ask(x, t += 10, "-");
	const char *name = "NEWNAME\r";
	for (const char *c = name; *c; c++)
		send_at(x, t += 50, c, 1);
	deliver(x);
	ask(x, t += 50, "c");
	/* apcupsd's x entry: 1 s a character, spaces as padding */
	ask(x, t += 1000, "x");
	ask(x, t += 10, "-");
	for (const char *c = "01/02/03"; *c; c++)
		send_at(x, t += 1000, c, 1);
	deliver(x);
	ask(x, t += 1000, "x");
	/* NUT's shutdown.stayoff: K, 0.2 s peek, 1.3 s, K */
	ask(x, t += 1000, "K");
	ask(x, t += 1500, "K");
	ask(x, t += 100, "\x7f"); /* abort it */
	/* a few EEPROM edits are fine */
	for (int i = 0; i < 4; i++) {
		ask(x, t += 100, "u");
		ask(x, t += 100, "-");
	}
	assert_int_equal(x->nf, 0);
	assert_int_equal(lint_total(&x->l), 0);
	char sum[64];
	assert_int_equal(lint_summary(&x->l, sum, sizeof sum), 0);
	assert_string_equal(sum, "");
}

static void test_undocumented_byte(void **state)
{
	struct fx *x = *state;
	ask(x, 0, "\x1b"); /* NUT after a failed Y; in dumb mode too */
	expect_one(x, LINT_UNDOCUMENTED, "\x1b", 1);
	ask(x, 10, "Y");
	ask(x, 20, "\r");
	expect_one(x, LINT_UNDOCUMENTED, "\r", 1);
}

static void test_unsupported_command(void **state)
{
	struct fx *x = *state;
	ask(x, 0, "Y");
	ask(x, 10, "^"); /* bypass: Matrix only */
	expect_one(x, LINT_UNSUPPORTED, "^", 1);
	assert_non_null(strstr(x->l.first[LINT_UNSUPPORTED].msg, "NA"));
	ask(x, 20, "t"); /* Measure-UPS only */
	assert_int_equal(x->nf, 1);
}

static void test_unsupported_but_replayed(void **state)
{
	struct fx *x = *state;
	/* a recorded Matrix answered `^`: replayed over the SU1500 profile,
	 * the host gets BYP and the lint has nothing to say about it */
	static const char t[] = "0.1 rx \"^\"\n0.2 tx \"BYP\\r\\n\"\n";
	struct ups_diag d;
	struct replay *rp = replay_new(REPLAY_SEQUENCE, NULL);
	assert_int_equal(replay_add_trace(rp, "t", t, strlen(t), &d), UPS_OK);
	ups_set_reply_hook(x->u, replay_hook, rp);
	ask(x, 0, "Y");
	ask(x, 10, "^");
	assert_int_equal(x->nf, 0);
	ask(x, 20, "t"); /* not in the trace: the profile's NA */
	expect_one(x, LINT_UNSUPPORTED, "t", 1);
	ups_set_reply_hook(x->u, NULL, NULL);
	replay_free(rp);
}

static void test_second_press_early(void **state)
{
	struct fx *x = *state;
	ask(x, 0, "Y");
	ask(x, 1000, "K");
	ask(x, 1800, "K");
	expect_one(x, LINT_PRESS_EARLY, "KK", 2);
	assert_non_null(strstr(x->l.first[LINT_PRESS_EARLY].msg, "800 ms"));
	/* and the unit ignored them: nothing pending, no reply */
	struct ups_status st;
	ups_get_status(x->u, 2000, &st);
	assert_false(st.shutdown_pending);
}

static void test_two_press_interrupted(void **state)
{
	struct fx *x = *state;
	ask(x, 0, "Y");
	ask(x, 1000, "Z");
	ask(x, 1500, "Q");
	expect_one(x, LINT_PRESS_BROKEN, "ZQ", 2);
}

static void test_entry_ended_by_cr(void **state)
{
	struct fx *x = *state;
	ask(x, 0, "Y");
	ask(x, 10, "c");
	ask(x, 20, "-");
	send_at(x, 30, "AB\r", 3);
	send_at(x, 3000, "QCPXL", 5); /* the host gave up and polls */
	expect_one(x, LINT_ENTRY_SHORT, "QCPXL", 5);
}

static void test_entry_pause(void **state)
{
	struct fx *x = *state;
	ask(x, 0, "Y");
	ask(x, 10, "x");
	ask(x, 20, "-");
	for (int i = 0; i < 3; i++)
		send_at(x, 100 + 50 * (uint64_t)i, "1", 1);
	send_at(x, 3000, "QCPXL", 5);
	expect_one(x, LINT_ENTRY_SHORT, "QCPXL", 5);
	assert_non_null(strstr(x->l.first[LINT_ENTRY_SHORT].msg, "paused"));
}

static void test_entry_overrun(void **state)
{
	struct fx *x = *state;
	ask(x, 0, "Y");
	ask(x, 10, "c");
	ask(x, 20, "-");
	SEND(x, 30, "SERVERROOM"); /* 10 characters in one write */
	assert_int_equal(x->nf, 2);
	assert_int_equal(x->f[0].rule, LINT_ENTRY_OVERRUN);
	assert_int_equal(x->f[0].bytes[0], 'O');
	/* and M came before the reply to O */
	assert_int_equal(x->f[1].rule, LINT_EARLY);
	assert_memory_equal(x->f[1].bytes, "OM", 2);
	x->nf = 0;
	deliver(x);
	/* typed blind, paced: the OK left unread when S comes */
	ask(x, 1000, "c");
	ask(x, 1010, "-");
	for (const char *c = "ABCDEFGH"; *c; c++)
		send_at(x, 1100 + 50 * (uint64_t)(c - "ABCDEFGH"), c, 1);
	x->out.len = 0;
	lint_delivered(&x->l);
	lint_host_unread(&x->l, 4); /* "OK\r\n" not read */
	send_at(x, 1500, "S", 1);
	assert_non_null(strstr(x->f[0].msg, "a shutdown on battery"));
	expect_one(x, LINT_ENTRY_OVERRUN, "S", 1);
	/* the same, but the host read the OK first: its next command */
	deliver(x);
	ask(x, 2000, "c");
	ask(x, 2010, "-");
	for (const char *c = "ABCDEFGH"; *c; c++)
		send_at(x, 2100 + 50 * (uint64_t)(c - "ABCDEFGH"), c, 1);
	deliver(x);
	send_at(x, 2500, "c", 1);
	assert_int_equal(x->nf, 0);
}

static void test_sent_before_reply(void **state)
{
	struct fx *x = *state;
	ask(x, 0, "Y");
	SEND(x, 10, "QB");
	expect_one(x, LINT_EARLY, "QB", 2);
	/* the reply still queued (paced) when the next command comes */
	deliver(x);
	SEND(x, 100, "L");
	SEND(x, 110, "F");
	expect_one(x, LINT_EARLY, "LF", 2);
	/* `@` then its digits, K then K: one command, not early */
	deliver(x);
	SEND(x, 200, "@");
	SEND(x, 250, "0");
	SEND(x, 300, "0");
	SEND(x, 350, "0");
	assert_int_equal(x->nf, 0);
}

static void test_eeprom_wear(void **state)
{
	struct fx *x = *state;
	uint64_t t = 0;
	ask(x, t, "Y");
	for (int i = 0; i < 40; i++) {
		ask(x, t += 100, "p");
		ask(x, t += 100, "-");
	}
	expect_one(x, LINT_EEPROM_WEAR, "", 0);
	/* one finding an hour; a new one after the window */
	t += LINT_EEPROM_WINDOW_MS;
	for (int i = 0; i < LINT_EEPROM_LIMIT + 1; i++)
		ask(x, t += 100, "z");
	assert_int_equal(x->nf, 1);
	assert_int_equal(x->f[0].rule, LINT_EEPROM_WEAR);
}

static void test_notes_and_summary(void **state)
{
	struct fx *x = *state;
	ask(x, 0, "\x1b");
	ask(x, 5, "\x1b");
	ask(x, 10, "Y");
	ask(x, 20, "^");
	char note[400], sum[2048];
	lint_format_note(&x->f[0], note, sizeof note);
	assert_string_equal(note, "lint undocumented-byte \"\\x1B\" ^[ is not a "
			    "UPS-Link command");
	size_t n = lint_summary(&x->l, sum, sizeof sum);
	assert_int_equal(n, strlen(sum));
	assert_non_null(strstr(sum, "undocumented-byte          2  bytes \"\\x1B\""));
	assert_non_null(strstr(sum, "unsupported-command        1  bytes \"^\""));
	assert_non_null(strstr(sum, "[ULS"));
	for (int r = 0; r < LINT__COUNT; r++) {
		assert_string_not_equal(lint_rule_name((enum lint_rule)r), "?");
		assert_string_not_equal(lint_rule_ref((enum lint_rule)r), "?");
		assert_string_not_equal(lint_rule_text((enum lint_rule)r), "?");
	}
	/* a new session forgets what was pending, not the counts */
	SEND(x, 30, "Q");
	ups_host_reset(x->u);
	SEND(x, 40, "Y");
	assert_int_equal(lint_total(&x->l), 3);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_well_behaved_hosts_are_quiet),
		T(test_undocumented_byte),
		T(test_unsupported_command),
		T(test_unsupported_but_replayed),
		T(test_second_press_early),
		T(test_two_press_interrupted),
		T(test_entry_ended_by_cr),
		T(test_entry_pause),
		T(test_entry_overrun),
		T(test_sent_before_reply),
		T(test_eeprom_wear),
		T(test_notes_and_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
