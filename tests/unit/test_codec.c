/*
 * test_codec.c - unit tests for the UPS-Link input codec (sim/core/codec.c).
 * Each test feeds bytes with explicit timestamps and checks the events and
 * the codec state they leave behind: plain commands, the two-press rule of
 * K/Z/^N, `@ddd`, the Edit modifier, direct entry for c/x/I with the NUT
 * (CR, 50 ms) and apcupsd (space, 1 s) pacing and padding, timeouts, cancel/reset, and
 * hostile clocks (backwards, near UINT64_MAX).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "upssim/codec.h"

/* ULS p.3: two presses must be more than 1.5 s apart. */
#define GAP_MS 1500u
/* A timeout longer than apcupsd's 1 s per character (protocol-facts §6.2). */
#define TIMEOUT_MS 3000u

static const struct codec_config cfg_default = {
	.two_press_gap_ms = GAP_MS,
	.entry_timeout_ms = 0,
};

static const struct codec_config cfg_timeout = {
	.two_press_gap_ms = GAP_MS,
	.entry_timeout_ms = TIMEOUT_MS,
};

static struct codec_event feed(struct codec *c, uint8_t b, uint64_t t)
{
	struct codec_event ev;
	bool got = codec_feed(c, b, t, &ev);

	/* The return value and the event type must always agree. */
	assert_int_equal(got, ev.type != CODEC_EV_NONE);
	return ev;
}

static void expect_none(struct codec *c, uint8_t b, uint64_t t)
{
	struct codec_event ev = feed(c, b, t);

	assert_int_equal(ev.type, CODEC_EV_NONE);
}

static void expect_ev(struct codec *c, uint8_t b, uint64_t t,
		      enum codec_ev_type type, uint8_t cmd)
{
	struct codec_event ev = feed(c, b, t);

	assert_int_equal(ev.type, type);
	assert_int_equal(ev.cmd, cmd);
	assert_int_equal(ev.t_ms, t);
}

static void expect_cmd(struct codec *c, uint8_t b, uint64_t t)
{
	expect_ev(c, b, t, CODEC_EV_CMD, b);
}

static void expect_edit(struct codec *c, uint8_t b, uint64_t t,
			uint8_t target)
{
	struct codec_event ev = feed(c, b, t);

	assert_int_equal(ev.type, CODEC_EV_EDIT);
	assert_int_equal(ev.cmd, b);
	assert_int_equal(ev.target, target);
	assert_int_equal(ev.t_ms, t);
}

/* Feed all of @s but the last byte (each must give no event) starting at
 * @t0, @step ms apart; return the event of the last byte. */
static struct codec_event feed_paced(struct codec *c, const char *s,
				     size_t n, uint64_t t0, uint64_t step)
{
	for (size_t i = 0; i + 1 < n; i++)
		expect_none(c, (uint8_t)s[i], t0 + i * step);
	return feed(c, (uint8_t)s[n - 1], t0 + (n - 1) * step);
}

/* `@` at @t0, then the 3 digits of @ddd @step ms apart; return the event
 * of the last digit. */
static struct codec_event feed_at(struct codec *c, const char *ddd,
				  uint64_t t0, uint64_t step)
{
	expect_ev(c, '@', t0, CODEC_EV_AT_START, '@');
	return feed_paced(c, ddd, 3, t0 + step, step);
}

static void assert_idle(const struct codec *c)
{
	assert_int_equal(c->press_cmd, 0);
	assert_int_equal(c->at_digits, -1);
	assert_int_equal(c->entry_target, 0);
}

/* ---- init, plain commands ------------------------------------------- */

static void test_init_state(void **state)
{
	(void)state;
	struct codec c;

	memset(&c, 0xA5, sizeof c);
	codec_init(&c, &cfg_timeout);
	assert_int_equal(c.cfg.two_press_gap_ms, GAP_MS);
	assert_int_equal(c.cfg.entry_timeout_ms, TIMEOUT_MS);
	assert_int_equal(c.last_cmd, 0);
	assert_int_equal(c.last_t, 0);
	assert_int_equal(c.entry_len, 0);
	assert_idle(&c);
}

static void test_plain_cmd_event_fields(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_default);
	memset(&ev, 0x5A, sizeof ev);
	assert_true(codec_feed(&c, 'Q', 1234, &ev));
	assert_int_equal(ev.type, CODEC_EV_CMD);
	assert_int_equal(ev.cmd, 'Q');
	assert_int_equal(ev.target, 0);
	assert_int_equal(ev.value, 0);
	assert_int_equal(ev.len, 0);
	assert_int_equal(ev.text[0], '\0');
	assert_int_equal(ev.t_ms, 1234);
	assert_int_equal(c.last_cmd, 'Q');
	assert_int_equal(c.last_t, 1234);
}

/* Every byte without a multi-byte meaning is a plain command, including
 * DEL (ULS p.5), CR, LF, NUL and bytes with the top bit set. */
static void test_every_plain_byte_is_cmd(void **state)
{
	(void)state;
	for (unsigned b = 0; b < 256; b++) {
		if (b == 'K' || b == 'Z' || b == CODEC_CTRL_N || b == '@' ||
		    b == '-')
			continue;
		struct codec c;

		codec_init(&c, &cfg_default);
		expect_cmd(&c, (uint8_t)b, 10);
		assert_int_equal(c.last_cmd, b);
		assert_idle(&c);
	}
}

static void test_special_bytes_are_cmds(void **state)
{
	(void)state;
	static const uint8_t bytes[] = { CODEC_DEL, '\r', '\n', 0x00, 0x80,
					 0xFF, 0x1A, 0x01, 0x1B };
	struct codec c;

	codec_init(&c, &cfg_default);
	for (size_t i = 0; i < sizeof bytes; i++)
		expect_cmd(&c, bytes[i], 100 * i);
}

static void test_null_event_pointer(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_default);
	assert_true(codec_feed(&c, 'u', 5, NULL));
	assert_int_equal(c.last_cmd, 'u');
	assert_true(codec_feed(&c, 'K', 6, NULL));
	assert_int_equal(c.press_cmd, 'K');
	/* The state advanced even without an event buffer. */
	assert_true(codec_feed(&c, 'K', 6 + GAP_MS + 1, &ev));
	assert_int_equal(ev.type, CODEC_EV_PRESS2);
}

/* Defensive: NULL codec or config must not crash. */
static void test_null_arguments(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(NULL, &cfg_default);
	codec_reset(NULL);
	codec_cancel(NULL);
	codec_begin_entry(NULL, 'c', 8);
	memset(&ev, 0x11, sizeof ev);
	assert_false(codec_feed(NULL, 'Q', 1, &ev));
	assert_int_equal(ev.type, CODEC_EV_NONE);

	/* No config: a zero gap and no timeout. */
	codec_init(&c, NULL);
	assert_int_equal(c.cfg.two_press_gap_ms, 0);
	assert_int_equal(c.cfg.entry_timeout_ms, 0);
	expect_ev(&c, 'K', 0, CODEC_EV_PRESS1, 'K');
	expect_ev(&c, 'K', 1, CODEC_EV_PRESS2, 'K');
}

static void test_no_event_zeroes_struct(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_default);
	expect_ev(&c, '@', 0, CODEC_EV_AT_START, '@');
	memset(&ev, 0xEE, sizeof ev);
	assert_false(codec_feed(&c, '1', 10, &ev));
	assert_int_equal(ev.type, CODEC_EV_NONE);
	assert_int_equal(ev.cmd, 0);
	assert_int_equal(ev.target, 0);
	assert_int_equal(ev.value, 0);
	assert_int_equal(ev.len, 0);
	assert_int_equal(ev.t_ms, 0);
	for (size_t i = 0; i < sizeof ev.text; i++)
		assert_int_equal(ev.text[i], 0);
}

/* ---- two-press commands (ULS p.3, p.4, p.6) ------------------------- */

static void test_two_press_k(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_ev(&c, 'K', 1000, CODEC_EV_PRESS1, 'K');
	assert_int_equal(c.press_cmd, 'K');
	assert_int_equal(c.press_t, 1000);
	expect_ev(&c, 'K', 1000 + GAP_MS + 1, CODEC_EV_PRESS2, 'K');
	assert_int_equal(c.press_cmd, 0);
	assert_int_equal(c.last_cmd, 'K');
	/* The pair is complete: a third K starts afresh. */
	expect_ev(&c, 'K', 9000, CODEC_EV_PRESS1, 'K');
}

static void test_two_press_z_and_ctrl_n(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_ev(&c, 'Z', 0, CODEC_EV_PRESS1, 'Z');
	expect_ev(&c, 'Z', 2000, CODEC_EV_PRESS2, 'Z');
	expect_ev(&c, CODEC_CTRL_N, 3000, CODEC_EV_PRESS1, CODEC_CTRL_N);
	expect_ev(&c, CODEC_CTRL_N, 5000, CODEC_EV_PRESS2, CODEC_CTRL_N);
	assert_int_equal(c.last_cmd, CODEC_CTRL_N);
}

/* "> 1.5 s": exactly the gap is too early and the pair is dropped. */
static void test_two_press_exact_gap_is_too_early(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_ev(&c, 'K', 100, CODEC_EV_PRESS1, 'K');
	expect_none(&c, 'K', 100 + GAP_MS);
	assert_int_equal(c.press_cmd, 0);
	assert_int_equal(c.last_cmd, 'K');
	/* The next K is a new first press, not the second of the old pair. */
	expect_ev(&c, 'K', 100 + 10 * GAP_MS, CODEC_EV_PRESS1, 'K');
	expect_ev(&c, 'K', 100 + 12 * GAP_MS, CODEC_EV_PRESS2, 'K');
}

static void test_two_press_too_early_restarts(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_ev(&c, 'Z', 0, CODEC_EV_PRESS1, 'Z');
	expect_none(&c, 'Z', 200); /* NUT's 0.2 s peek would be here */
	expect_ev(&c, 'Z', 1800, CODEC_EV_PRESS1, 'Z');
	expect_ev(&c, 'Z', 3400, CODEC_EV_PRESS2, 'Z');
}

/* NUT shutdown.stayoff: K, 0.2 s peek, 1.3 s sleep, K, plus the byte
 * time on the wire (protocol-facts §6.1): just over 1.5 s. */
static void test_two_press_nut_pacing(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_ev(&c, 'K', 50000, CODEC_EV_PRESS1, 'K');
	expect_ev(&c, 'K', 50000 + 200 + 1300 + 5, CODEC_EV_PRESS2, 'K');
}

static void test_two_press_interrupted_by_other_byte(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_ev(&c, 'K', 0, CODEC_EV_PRESS1, 'K');
	expect_cmd(&c, 'Q', 500);
	assert_int_equal(c.press_cmd, 0);
	expect_ev(&c, 'K', 2000, CODEC_EV_PRESS1, 'K');
	/* A DEL (abort) in between also breaks the pair. */
	expect_cmd(&c, CODEC_DEL, 2100);
	expect_ev(&c, 'K', 4000, CODEC_EV_PRESS1, 'K');
}

static void test_two_press_other_two_press_starts_own(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_ev(&c, 'K', 0, CODEC_EV_PRESS1, 'K');
	expect_ev(&c, 'Z', 2000, CODEC_EV_PRESS1, 'Z');
	assert_int_equal(c.press_cmd, 'Z');
	assert_int_equal(c.press_t, 2000);
	expect_ev(&c, CODEC_CTRL_N, 4000, CODEC_EV_PRESS1, CODEC_CTRL_N);
	expect_ev(&c, CODEC_CTRL_N, 6000, CODEC_EV_PRESS2, CODEC_CTRL_N);
}

static void test_two_press_interrupted_by_at_and_edit(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_ev(&c, 'K', 0, CODEC_EV_PRESS1, 'K');
	expect_ev(&c, '@', 100, CODEC_EV_AT_START, '@');
	assert_int_equal(c.press_cmd, 0);
	codec_cancel(&c);

	expect_ev(&c, 'Z', 1000, CODEC_EV_PRESS1, 'Z');
	expect_edit(&c, '-', 1100, 'Z');
	assert_int_equal(c.press_cmd, 0);
	expect_ev(&c, 'Z', 5000, CODEC_EV_PRESS1, 'Z');
}

/* The entry timeout is for `@ddd` and entries only: a long-pending first
 * press is still completed (the dispatcher may codec_cancel it). */
static void test_two_press_ignores_entry_timeout(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_timeout);
	expect_ev(&c, 'K', 0, CODEC_EV_PRESS1, 'K');
	expect_ev(&c, 'K', 10 * TIMEOUT_MS, CODEC_EV_PRESS2, 'K');
}

static void test_two_press_zero_gap_config(void **state)
{
	(void)state;
	struct codec c;
	const struct codec_config cfg = { 0, 0 };

	codec_init(&c, &cfg);
	expect_ev(&c, 'K', 5, CODEC_EV_PRESS1, 'K');
	expect_none(&c, 'K', 5);
	expect_ev(&c, 'K', 5, CODEC_EV_PRESS1, 'K');
	expect_ev(&c, 'K', 6, CODEC_EV_PRESS2, 'K');
}

/* ---- @ddd (ULS p.4-5) ------------------------------------------------ */

static void test_at_ddd(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_default);
	expect_ev(&c, '@', 0, CODEC_EV_AT_START, '@');
	assert_int_equal(c.last_cmd, '@');
	assert_int_equal(c.at_digits, 0);
	expect_none(&c, '1', 50);
	expect_none(&c, '2', 100);
	ev = feed(&c, '6', 150);
	assert_int_equal(ev.type, CODEC_EV_AT);
	assert_int_equal(ev.value, 126);
	assert_int_equal(ev.t_ms, 150);
	assert_idle(&c);
	/* Back to normal: the next digit is a command. */
	expect_cmd(&c, '7', 200);
}

static void test_at_extreme_values(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		int value;
	} cases[] = { { "@000", 0 }, { "@999", 999 }, { "@010", 10 },
		      { "@001", 1 } };
	struct codec c;

	codec_init(&c, &cfg_default);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct codec_event ev;

		ev = feed_at(&c, cases[i].s + 1, 1000 * i, 50);
		assert_int_equal(ev.type, CODEC_EV_AT);
		assert_int_equal(ev.value, cases[i].value);
	}
}

/* apcupsd killpower: `@`,`0`,`0`,`0` 1 s apart (protocol-facts §6.2). */
static void test_at_apcupsd_pacing(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_timeout);
	ev = feed_at(&c, "000", 7000, 1000);
	assert_int_equal(ev.type, CODEC_EV_AT);
	assert_int_equal(ev.value, 0);
	assert_int_equal(ev.t_ms, 10000);
}

/* "the UPS ignores invalid characters after @ and the command must be
 * retried" (ULS p.4-5): the bad byte is eaten, the `@` forgotten. */
static void test_at_non_digit_abandons(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_ev(&c, '@', 0, CODEC_EV_AT_START, '@');
	expect_none(&c, '1', 50);
	expect_none(&c, 'x', 100);
	assert_idle(&c);
	expect_cmd(&c, '2', 150);
	expect_cmd(&c, '3', 200);

	/* Also a second `@`, or a two-press byte, is just eaten. */
	expect_ev(&c, '@', 300, CODEC_EV_AT_START, '@');
	expect_none(&c, '@', 350);
	expect_cmd(&c, '1', 400);
	expect_ev(&c, '@', 500, CODEC_EV_AT_START, '@');
	expect_none(&c, 'K', 550);
	assert_int_equal(c.press_cmd, 0);
	expect_ev(&c, 'K', 5000, CODEC_EV_PRESS1, 'K');
}

static void test_at_timeout_abandons_and_refeeds(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_timeout);
	expect_ev(&c, '@', 0, CODEC_EV_AT_START, '@');
	expect_none(&c, '1', 500);
	/* Gap 500 -> 500 + TIMEOUT + 1: stale, the byte is a fresh command. */
	expect_cmd(&c, '2', 500 + TIMEOUT_MS + 1);
	assert_idle(&c);
	/* A stale `@` followed by `@` starts a new one. */
	expect_ev(&c, '@', 10000, CODEC_EV_AT_START, '@');
	expect_ev(&c, '@', 10000 + TIMEOUT_MS + 1, CODEC_EV_AT_START, '@');
	assert_int_equal(c.at_digits, 0);
}

static void test_at_timeout_boundary(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_timeout);
	ev = feed_at(&c, "123", 0, TIMEOUT_MS);
	assert_int_equal(ev.type, CODEC_EV_AT);
	assert_int_equal(ev.value, 123);
}

static void test_at_no_timeout_when_zero(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_default);
	ev = feed_at(&c, "042", 0, 3600u * 1000u);
	assert_int_equal(ev.type, CODEC_EV_AT);
	assert_int_equal(ev.value, 42);
}

/* ---- Edit (ULS p.3, p.16, p.22) ------------------------------------- */

static void test_edit_targets_last_cmd(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_cmd(&c, 'u', 0);
	expect_edit(&c, '-', 100, 'u');
	expect_cmd(&c, 'u', 200);
	/* Edits do not move last_cmd: "u - -" steps u twice. */
	expect_edit(&c, '-', 300, 'u');
	expect_edit(&c, '-', 400, 'u');
	assert_int_equal(c.last_cmd, 'u');
}

static void test_edit_without_command(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_edit(&c, '-', 0, 0);
	assert_int_equal(c.last_cmd, 0);
}

static void test_edit_plus_after_packs(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_cmd(&c, '>', 0);
	expect_edit(&c, '+', 100, '>');
	expect_edit(&c, '+', 200, '>');
	expect_edit(&c, '-', 300, '>');
	assert_int_equal(c.last_cmd, '>');
}

static void test_plus_is_cmd_elsewhere(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_cmd(&c, '+', 0);
	assert_int_equal(c.last_cmd, '+');
	expect_cmd(&c, 'u', 100);
	expect_cmd(&c, '+', 200);
	expect_edit(&c, '-', 300, '+');
	/* After `>`, then another command, `+` is plain again. */
	expect_cmd(&c, '>', 400);
	expect_cmd(&c, 'Q', 500);
	expect_cmd(&c, '+', 600);
}

static void test_edit_after_two_press_and_at(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_ev(&c, 'K', 0, CODEC_EV_PRESS1, 'K');
	expect_ev(&c, 'K', 2000, CODEC_EV_PRESS2, 'K');
	expect_edit(&c, '-', 2100, 'K');
	(void)feed_at(&c, "000", 3000, 50);
	expect_edit(&c, '-', 4000, '@');
	/* An abandoned `@` was still the last command. */
	expect_cmd(&c, 'Q', 5000);
	expect_ev(&c, '@', 5100, CODEC_EV_AT_START, '@');
	expect_none(&c, 'y', 5200);
	expect_edit(&c, '-', 5300, '@');
}

/* ---- direct entry (ULS p.16-18, p.29-30) ---------------------------- */

/* NUT setvar_string: `-`, 0.2 s, value padded to 8 with CR, 50 ms/char
 * (protocol-facts §6.1). */
static void test_entry_c_nut_cr_padding(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_timeout);
	expect_cmd(&c, 'c', 0);
	expect_edit(&c, '-', 100, 'c');
	codec_begin_entry(&c, 'c', 8);
	assert_int_equal(c.entry_target, 'c');
	assert_int_equal(c.entry_need, 8);
	ev = feed_paced(&c, "UPS1\r\r\r\r", 8, 300, 50);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_int_equal(ev.target, 'c');
	/* the text ends at the first CR; the padding is not text */
	assert_int_equal(ev.len, 4);
	assert_memory_equal(ev.text, "UPS1\0\0\0\0", 9);
	assert_int_equal(ev.t_ms, 300 + 7 * 50);
	assert_idle(&c);
	assert_int_equal(c.entry_len, 0);
	expect_cmd(&c, 'c', 1000);
}

/* apcupsd: `-`, 1 s, then 8 chars space-padded, 1 s each (§6.2). */
static void test_entry_x_apcupsd_spaces(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_timeout);
	expect_cmd(&c, 'x', 0);
	expect_edit(&c, '-', 500, 'x');
	codec_begin_entry(&c, 'x', 8);
	ev = feed_paced(&c, "ab      ", 8, 1500, 1000);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_int_equal(ev.target, 'x');
	assert_string_equal(ev.text, "ab      ");
	assert_int_equal(ev.len, 8);
}

/* Bytes inside an entry are text, not commands: K, @, DEL, CR, ... */
static void test_entry_bytes_not_interpreted(void **state)
{
	(void)state;
	static const char text[8] = { 'K', 'Z', '@', '+', 0x7F, '\n',
				      0x00, (char)0xFF };
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_default);
	expect_cmd(&c, '>', 0);
	codec_begin_entry(&c, 'c', 8);
	ev = feed_paced(&c, text, 8, 10, 10);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_int_equal(ev.len, 8);
	assert_memory_equal(ev.text, text, 8);
	assert_int_equal(ev.text[8], '\0');
	assert_int_equal(c.press_cmd, 0);
	/* last_cmd is untouched by entry bytes. */
	assert_int_equal(c.last_cmd, '>');
}

/* Regression: NUT 2.8.0 `upsrw -s ups.id=s0-ups0` (a real SU3000RM
 * carries this ID, NUT-DDL) sends `c`, `-`, then "s0-ups0" padded with one
 * CR.  The codec used to skip the `-`, so the entry still waited for an
 * 8th byte and swallowed the host's next command (`x` 3 s later).  A `-`
 * inside c/x text is an ordinary character that counts. */
static void test_entry_hyphen_counts(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_timeout);
	expect_cmd(&c, 'c', 0);
	expect_edit(&c, '-', 100, 'c');
	codec_begin_entry(&c, 'c', 8);
	ev = feed_paced(&c, "s0-ups0\r", 8, 300, 50);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_int_equal(ev.target, 'c');
	assert_int_equal(ev.len, 7);
	assert_string_equal(ev.text, "s0-ups0");
	assert_int_equal(ev.t_ms, 300 + 7 * 50);
	assert_idle(&c);
	/* the next command is a command again, not the 8th character */
	expect_cmd(&c, 'x', 300 + 7 * 50 + 3000);
	expect_edit(&c, '-', 4000, 'x');
	codec_begin_entry(&c, 'x', 8);
	ev = feed_paced(&c, "01-02-99", 8, 4100, 50);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_string_equal(ev.text, "01-02-99");
	assert_int_equal(ev.len, 8);
	/* a `-` right after the Edit `-` is text too */
	expect_cmd(&c, 'c', 5000);
	expect_edit(&c, '-', 5100, 'c');
	codec_begin_entry(&c, 'c', 8);
	ev = feed_paced(&c, "--------", 8, 5200, 50);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_string_equal(ev.text, "--------");
}

/* Regression: NUT pads what it types to 8 with CRs ("adler\r\r\r") and a
 * real unit reads back "adler"; the text used to carry the CRs, which the
 * model stored as spaces.  The first CR ends the text; the entry itself
 * still takes all 8 bytes (ULS p.16-18: the reply follows the 8th). */
static void test_entry_cr_ends_text(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_timeout);
	codec_begin_entry(&c, 'c', 8);
	ev = feed_paced(&c, "adler\r\r\r", 8, 0, 50);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_int_equal(ev.len, 5);
	assert_memory_equal(ev.text, "adler\0\0\0\0", 9);
	expect_cmd(&c, '\r', 1000); /* a 9th CR is no longer entry text */

	/* whatever follows the first CR is padding, not text */
	codec_begin_entry(&c, 'x', 8);
	ev = feed_paced(&c, "ab\rcd\r!!", 8, 2000, 50);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_int_equal(ev.len, 2);
	assert_memory_equal(ev.text, "ab\0\0\0\0\0\0", 9);

	/* an all-CR entry is the empty text */
	codec_begin_entry(&c, 'c', 8);
	ev = feed_paced(&c, "\r\r\r\r\r\r\r\r", 8, 3000, 50);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_int_equal(ev.len, 0);
	assert_string_equal(ev.text, "");

	/* LF is not the end of the text (NUT and apcupsd never send it) */
	codec_begin_entry(&c, 'c', 8);
	ev = feed_paced(&c, "ab\ncdefg", 8, 4000, 50);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_int_equal(ev.len, 8);
}

/* Alert characters and control bytes are delivered as text, counted, and
 * never swallow what follows: refusing them is the model's business
 * (docs/profiles.md, "Direct entry"). */
static void test_entry_alert_chars_are_text(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_timeout);
	expect_cmd(&c, 'c', 0);
	expect_edit(&c, '-', 100, 'c');
	codec_begin_entry(&c, 'c', 8);
	ev = feed_paced(&c, "!$%+#?=*", 8, 200, 50);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_int_equal(ev.len, 8);
	assert_string_equal(ev.text, "!$%+#?=*");
	expect_cmd(&c, 'Q', 1000);
	codec_begin_entry(&c, 'x', 8);
	ev = feed_paced(&c, "|&\x01\x1b\r\r\r\r", 8, 2000, 50);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_int_equal(ev.len, 4);
	assert_memory_equal(ev.text, "|&\x01\x1b", 5);
	expect_cmd(&c, 'Q', 3000);
}

/* Measure-UPS `I`: 2 hex digits, invalid hex ignored (ULS p.29-30). */
static void test_entry_i_hex_only(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_default);
	expect_cmd(&c, 'I', 0);
	expect_edit(&c, '-', 100, 'I');
	codec_begin_entry(&c, 'I', 2);
	expect_none(&c, 'G', 200);
	expect_none(&c, 'x', 250);
	expect_none(&c, '-', 300);
	expect_none(&c, '\r', 350);
	expect_none(&c, 'a', 400);
	assert_int_equal(c.entry_len, 1);
	expect_none(&c, 'K', 450);
	ev = feed(&c, 'F', 500);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_int_equal(ev.target, 'I');
	assert_int_equal(ev.len, 2);
	assert_string_equal(ev.text, "aF");
	assert_idle(&c);
}

static void test_entry_i_all_hex_digits(void **state)
{
	(void)state;
	static const char hex[] = "0123456789ABCDEFabcdef";
	struct codec c;

	codec_init(&c, &cfg_default);
	for (size_t i = 0; i < sizeof hex - 1; i++) {
		struct codec_event ev;

		codec_begin_entry(&c, 'I', 2);
		expect_none(&c, (uint8_t)hex[i], 100 * i);
		ev = feed(&c, '0', 100 * i + 10);
		assert_int_equal(ev.type, CODEC_EV_ENTRY);
		assert_int_equal(ev.text[0], hex[i]);
		assert_int_equal(ev.text[1], '0');
	}
	/* The neighbours of the hex ranges are not hex. */
	static const char nonhex[] = "/:@G`g";

	codec_begin_entry(&c, 'I', 2);
	for (size_t i = 0; i < sizeof nonhex - 1; i++)
		expect_none(&c, (uint8_t)nonhex[i], 5000 + i);
	assert_int_equal(c.entry_len, 0);
}

static void test_entry_timeout_abandons(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_timeout);
	expect_cmd(&c, 'c', 0);
	expect_edit(&c, '-', 100, 'c');
	codec_begin_entry(&c, 'c', 8);
	expect_none(&c, 'A', 200);
	/* The host gave up: its next byte is a command again. */
	expect_cmd(&c, 'B', 200 + TIMEOUT_MS + 1);
	assert_idle(&c);
	assert_int_equal(c.entry_len, 0);
	expect_edit(&c, '-', 5000, 'B');
}

static void test_entry_timeout_boundary(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_timeout);
	expect_cmd(&c, 'c', 0);
	expect_edit(&c, '-', 0, 'c');
	codec_begin_entry(&c, 'c', 8);
	ev = feed_paced(&c, "ABCDEFGH", 8, TIMEOUT_MS, TIMEOUT_MS);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_string_equal(ev.text, "ABCDEFGH");
}

/* Ignored bytes still count as traffic for the timeout. */
static void test_entry_ignored_bytes_keep_alive(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_timeout);
	codec_begin_entry(&c, 'I', 2);
	expect_none(&c, '1', 0);
	for (unsigned i = 1; i <= 5; i++)
		expect_none(&c, 'z', i * (TIMEOUT_MS - 1));
	ev = feed(&c, '2', 6 * (TIMEOUT_MS - 1));
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_string_equal(ev.text, "12");
}

static void test_entry_length_limits(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_default);
	/* Longer than the buffer: clamped to CODEC_ENTRY_MAX. */
	codec_begin_entry(&c, 'c', 100);
	assert_int_equal(c.entry_need, CODEC_ENTRY_MAX);
	ev = feed_paced(&c, "12345678", 8, 0, 1);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_int_equal(ev.len, CODEC_ENTRY_MAX);
	expect_cmd(&c, '9', 20);

	/* One byte. */
	codec_begin_entry(&c, 'c', 1);
	ev = feed(&c, 'K', 30);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_string_equal(ev.text, "K");
	assert_int_equal(ev.len, 1);

	/* Zero length or no target: no entry at all. */
	codec_begin_entry(&c, 'c', 0);
	assert_int_equal(c.entry_target, 0);
	expect_cmd(&c, 'Q', 40);
	codec_begin_entry(&c, 0, 8);
	assert_int_equal(c.entry_target, 0);
	expect_cmd(&c, 'Q', 50);
}

static void test_entry_replaces_pending_press(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_default);
	expect_ev(&c, 'K', 0, CODEC_EV_PRESS1, 'K');
	codec_begin_entry(&c, 'x', 2);
	assert_int_equal(c.press_cmd, 0);
	expect_none(&c, 'K', 2000);
	ev = feed(&c, 'K', 2100);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_string_equal(ev.text, "KK");
	expect_ev(&c, 'K', 9000, CODEC_EV_PRESS1, 'K');
}

static void test_entry_restart_discards_partial(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_default);
	codec_begin_entry(&c, 'c', 8);
	(void)feed_paced(&c, "ABC", 3, 0, 1);
	codec_begin_entry(&c, 'I', 2);
	assert_int_equal(c.entry_len, 0);
	ev = feed_paced(&c, "DE", 2, 10, 1);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_int_equal(ev.target, 'I');
	assert_string_equal(ev.text, "DE");
}

/* ---- cancel / reset --------------------------------------------------- */

static void test_cancel_forgets_press(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_ev(&c, 'K', 0, CODEC_EV_PRESS1, 'K');
	codec_cancel(&c);
	assert_int_equal(c.press_cmd, 0);
	expect_ev(&c, 'K', 2000, CODEC_EV_PRESS1, 'K');
	/* cancel keeps the Edit target. */
	codec_cancel(&c);
	expect_edit(&c, '-', 2100, 'K');
}

static void test_cancel_forgets_at_and_entry(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_default);
	expect_ev(&c, '@', 0, CODEC_EV_AT_START, '@');
	expect_none(&c, '1', 10);
	codec_cancel(&c);
	assert_idle(&c);
	expect_cmd(&c, '2', 20);

	codec_begin_entry(&c, 'c', 8);
	expect_none(&c, 'a', 30);
	codec_cancel(&c);
	assert_idle(&c);
	assert_int_equal(c.entry_len, 0);
	expect_cmd(&c, 'b', 40);
	/* Cancel with nothing pending is harmless. */
	codec_cancel(&c);
	expect_cmd(&c, 'c', 50);
}

static void test_reset_keeps_cfg_only(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_timeout);
	expect_cmd(&c, '>', 100);
	expect_ev(&c, 'K', 200, CODEC_EV_PRESS1, 'K');
	codec_reset(&c);
	assert_int_equal(c.cfg.two_press_gap_ms, GAP_MS);
	assert_int_equal(c.cfg.entry_timeout_ms, TIMEOUT_MS);
	assert_int_equal(c.last_cmd, 0);
	assert_int_equal(c.last_t, 0);
	assert_idle(&c);
	expect_edit(&c, '-', 300, 0);
	expect_cmd(&c, '+', 400);

	expect_ev(&c, '@', 500, CODEC_EV_AT_START, '@');
	codec_reset(&c);
	expect_cmd(&c, '5', 600);
	codec_begin_entry(&c, 'c', 8);
	codec_reset(&c);
	expect_cmd(&c, 'Q', 700);
}

/* ---- hostile clocks ---------------------------------------------------- */

static void test_time_backwards(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_timeout);
	/* A second press "before" the first is not later than the gap. */
	expect_ev(&c, 'K', 50000, CODEC_EV_PRESS1, 'K');
	expect_none(&c, 'K', 1000);
	/* A backwards jump inside an entry is no timeout. */
	codec_begin_entry(&c, 'c', 2);
	expect_none(&c, 'a', 1000);
	ev = feed(&c, 'b', 10);
	assert_int_equal(ev.type, CODEC_EV_ENTRY);
	assert_string_equal(ev.text, "ab");
	assert_int_equal(ev.t_ms, 10);
	/* ... nor inside `@ddd`. */
	expect_ev(&c, '@', 100000, CODEC_EV_AT_START, '@');
	expect_none(&c, '5', 50);
	expect_none(&c, '5', 40);
	ev = feed(&c, '5', 30);
	assert_int_equal(ev.type, CODEC_EV_AT);
	assert_int_equal(ev.value, 555);
}

static void test_huge_times(void **state)
{
	(void)state;
	struct codec c;

	codec_init(&c, &cfg_timeout);
	expect_ev(&c, 'K', 0, CODEC_EV_PRESS1, 'K');
	expect_ev(&c, 'K', UINT64_MAX, CODEC_EV_PRESS2, 'K');
	expect_ev(&c, 'Z', UINT64_MAX - 1, CODEC_EV_PRESS1, 'Z');
	expect_none(&c, 'Z', UINT64_MAX);

	/* A jump from 0 to the top of the clock is a timeout. */
	codec_reset(&c);
	expect_ev(&c, '@', 0, CODEC_EV_AT_START, '@');
	expect_cmd(&c, '1', UINT64_MAX);

	const struct codec_config big = { UINT32_MAX, UINT32_MAX };

	codec_init(&c, &big);
	expect_ev(&c, 'K', 1, CODEC_EV_PRESS1, 'K');
	expect_none(&c, 'K', 1 + (uint64_t)UINT32_MAX);
	expect_ev(&c, 'K', 10, CODEC_EV_PRESS1, 'K');
	expect_ev(&c, 'K', 11 + (uint64_t)UINT32_MAX, CODEC_EV_PRESS2, 'K');
}

/* ---- a whole session --------------------------------------------------- */

/* apcupsd's enum edit, then NUT's K..K and a `c` entry, end to end. */
static void test_mixed_session(void **state)
{
	(void)state;
	struct codec c;
	struct codec_event ev;

	codec_init(&c, &cfg_timeout);
	expect_cmd(&c, 'Y', 0);
	expect_cmd(&c, 'u', 1000);
	expect_cmd(&c, 'u', 2000);
	expect_cmd(&c, 'u', 7000);
	expect_edit(&c, '-', 12000, 'u');
	expect_cmd(&c, 'u', 17000);
	expect_cmd(&c, 'u', 17100);

	expect_ev(&c, 'K', 20000, CODEC_EV_PRESS1, 'K');
	expect_ev(&c, 'K', 21550, CODEC_EV_PRESS2, 'K');
	expect_cmd(&c, CODEC_DEL, 22000);

	expect_cmd(&c, 'c', 23000);
	expect_edit(&c, '-', 23100, 'c');
	codec_begin_entry(&c, 'c', CODEC_ENTRY_MAX);
	ev = feed_paced(&c, "SRV-ROOM", 8, 23300, 50);
	assert_int_equal(ev.type, CODEC_EV_ENTRY); /* '-' counts */
	assert_string_equal(ev.text, "SRV-ROOM");
	expect_cmd(&c, 'c', 24000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_state),
		cmocka_unit_test(test_plain_cmd_event_fields),
		cmocka_unit_test(test_every_plain_byte_is_cmd),
		cmocka_unit_test(test_special_bytes_are_cmds),
		cmocka_unit_test(test_null_event_pointer),
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_no_event_zeroes_struct),
		cmocka_unit_test(test_two_press_k),
		cmocka_unit_test(test_two_press_z_and_ctrl_n),
		cmocka_unit_test(test_two_press_exact_gap_is_too_early),
		cmocka_unit_test(test_two_press_too_early_restarts),
		cmocka_unit_test(test_two_press_nut_pacing),
		cmocka_unit_test(test_two_press_interrupted_by_other_byte),
		cmocka_unit_test(test_two_press_other_two_press_starts_own),
		cmocka_unit_test(test_two_press_interrupted_by_at_and_edit),
		cmocka_unit_test(test_two_press_ignores_entry_timeout),
		cmocka_unit_test(test_two_press_zero_gap_config),
		cmocka_unit_test(test_at_ddd),
		cmocka_unit_test(test_at_extreme_values),
		cmocka_unit_test(test_at_apcupsd_pacing),
		cmocka_unit_test(test_at_non_digit_abandons),
		cmocka_unit_test(test_at_timeout_abandons_and_refeeds),
		cmocka_unit_test(test_at_timeout_boundary),
		cmocka_unit_test(test_at_no_timeout_when_zero),
		cmocka_unit_test(test_edit_targets_last_cmd),
		cmocka_unit_test(test_edit_without_command),
		cmocka_unit_test(test_edit_plus_after_packs),
		cmocka_unit_test(test_plus_is_cmd_elsewhere),
		cmocka_unit_test(test_edit_after_two_press_and_at),
		cmocka_unit_test(test_entry_c_nut_cr_padding),
		cmocka_unit_test(test_entry_x_apcupsd_spaces),
		cmocka_unit_test(test_entry_bytes_not_interpreted),
		cmocka_unit_test(test_entry_hyphen_counts),
		cmocka_unit_test(test_entry_cr_ends_text),
		cmocka_unit_test(test_entry_alert_chars_are_text),
		cmocka_unit_test(test_entry_i_hex_only),
		cmocka_unit_test(test_entry_i_all_hex_digits),
		cmocka_unit_test(test_entry_timeout_abandons),
		cmocka_unit_test(test_entry_timeout_boundary),
		cmocka_unit_test(test_entry_ignored_bytes_keep_alive),
		cmocka_unit_test(test_entry_length_limits),
		cmocka_unit_test(test_entry_replaces_pending_press),
		cmocka_unit_test(test_entry_restart_discards_partial),
		cmocka_unit_test(test_cancel_forgets_press),
		cmocka_unit_test(test_cancel_forgets_at_and_entry),
		cmocka_unit_test(test_reset_keeps_cfg_only),
		cmocka_unit_test(test_time_backwards),
		cmocka_unit_test(test_huge_times),
		cmocka_unit_test(test_mixed_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
