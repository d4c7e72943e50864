/*
 * fuzz_codec.c - libFuzzer target for the UPS-Link input codec.  The input
 * is a 2-byte configuration followed by (control, byte) pairs: the control
 * byte moves a virtual clock (forwards, backwards, to the top of the
 * range) and says what the "dispatcher" does around the byte (refuse an
 * edit, cancel a first press, open an entry, reset).  Every step checks
 * the codec's structural invariants and the event against a snapshot of
 * the state before the byte; a violation aborts, which both libFuzzer and
 * replay_main.c report as a failure.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz_codec: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                          \
			abort();                                           \
		}                                                          \
	} while (0)

/* Control byte: bits 0-1 clock mode, bits 2-5 magnitude, bits 6-7 act. */
enum clock_mode { CLK_SAME, CLK_SMALL, CLK_LARGE, CLK_WILD };
enum act {
	ACT_FEED,       /* feed; accept edits of c/x/I like the dispatcher */
	ACT_REFUSE,     /* feed; refuse (codec_cancel) first presses, `@`
			   and edits, as the dispatcher does on NA/NO */
	ACT_BEGIN,      /* no feed: codec_begin_entry(byte, magnitude) */
	ACT_RESET,      /* codec_reset or codec_cancel, then feed */
};

static bool is_two_press(uint8_t b)
{
	return b == 'K' || b == 'Z' || b == CODEC_CTRL_N;
}

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F') ||
	       (ch >= 'a' && ch <= 'f');
}

static uint64_t advance(uint64_t t, uint8_t mode, uint8_t mag)
{
	switch (mode) {
	case CLK_SAME:
		return t;
	case CLK_SMALL: /* 0..750 ms: NUT's 50 ms pacing and peeks */
		return t > UINT64_MAX - 750 ? UINT64_MAX : t + mag * 50u;
	case CLK_LARGE: /* 0..7.5 s: apcupsd's 1 s pacing, K..K gaps */
		return t > UINT64_MAX - 7500 ? UINT64_MAX : t + mag * 500u;
	default:
		switch (mag & 3) {
		case 0: /* backwards */
			return t > (uint64_t)(mag >> 2) * 997u ?
				       t - (uint64_t)(mag >> 2) * 997u : 0;
		case 1: /* the end of time */
			return UINT64_MAX - (mag >> 2);
		case 2: /* just around the configured limits */
			return t > UINT64_MAX - 1600 ? UINT64_MAX :
							t + 1499 + (mag >> 2);
		default:
			return 0;
		}
	}
}

static void check_state(const struct codec *c)
{
	int pending = (c->press_cmd != 0) + (c->at_digits >= 0) +
		      (c->entry_target != 0);

	CHECK(pending <= 1);
	CHECK(c->press_cmd == 0 || is_two_press(c->press_cmd));
	CHECK(c->at_digits >= -1 && c->at_digits < 3);
	if (c->at_digits < 0)
		CHECK(c->at_value == 0);
	else
		CHECK(c->at_value >= 0 &&
		      c->at_value < (c->at_digits == 0 ? 1 :
				     c->at_digits == 1 ? 10 : 100));
	CHECK(c->entry_need <= CODEC_ENTRY_MAX);
	CHECK(c->entry_len <= c->entry_need);
	if (c->entry_target == 0) {
		CHECK(c->entry_need == 0 && c->entry_len == 0);
	} else {
		CHECK(c->entry_need >= 1);
		CHECK(c->entry_len < c->entry_need);
		CHECK(c->entry[c->entry_len] == '\0');
	}
}

/* @ev came from feeding @b at @t to a codec whose state was @old. */
static void check_event(const struct codec *old, const struct codec *c,
			const struct codec_event *ev, bool got, uint8_t b,
			uint64_t t)
{
	CHECK(got == (ev->type != CODEC_EV_NONE));
	CHECK(c->last_t == t);
	CHECK(c->cfg.two_press_gap_ms == old->cfg.two_press_gap_ms);
	CHECK(c->cfg.entry_timeout_ms == old->cfg.entry_timeout_ms);
	CHECK(ev->len <= CODEC_ENTRY_MAX);
	CHECK(ev->text[CODEC_ENTRY_MAX] == '\0');
	CHECK(ev->text[ev->len] == '\0');
	if (ev->type != CODEC_EV_ENTRY)
		CHECK(ev->len == 0 && ev->text[0] == '\0');
	if (ev->type != CODEC_EV_AT)
		CHECK(ev->value == 0);
	if (ev->type != CODEC_EV_EDIT && ev->type != CODEC_EV_ENTRY)
		CHECK(ev->target == 0);

	switch (ev->type) {
	case CODEC_EV_NONE:
		CHECK(ev->cmd == 0 && ev->t_ms == 0);
		CHECK(c->last_cmd == old->last_cmd);
		return;
	case CODEC_EV_CMD:
		CHECK(ev->cmd == b);
		CHECK(!is_two_press(b) && b != '@' && b != '-');
		CHECK(b != '+' || old->last_cmd != '>');
		CHECK(c->last_cmd == b);
		break;
	case CODEC_EV_PRESS1:
		CHECK(ev->cmd == b && is_two_press(b));
		CHECK(c->press_cmd == b && c->press_t == t);
		CHECK(c->last_cmd == b);
		break;
	case CODEC_EV_PRESS2:
		CHECK(ev->cmd == b && old->press_cmd == b);
		CHECK(t > old->press_t &&
		      t - old->press_t > old->cfg.two_press_gap_ms);
		CHECK(c->press_cmd == 0 && c->last_cmd == b);
		break;
	case CODEC_EV_AT:
		CHECK(old->at_digits == 2 && b >= '0' && b <= '9');
		CHECK(ev->value == old->at_value * 10 + (b - '0'));
		CHECK(ev->value >= 0 && ev->value <= 999);
		CHECK(c->at_digits == -1);
		break;
	case CODEC_EV_AT_START:
		CHECK(b == '@' && ev->cmd == '@');
		CHECK(c->at_digits == 0 && c->last_cmd == '@');
		break;
	case CODEC_EV_EDIT:
		CHECK(ev->cmd == b && (b == '-' || b == '+'));
		CHECK(b == '-' || old->last_cmd == '>');
		CHECK(ev->target == old->last_cmd);
		CHECK(c->last_cmd == old->last_cmd);
		break;
	case CODEC_EV_ENTRY: {
		/* every byte the entry took; for c/x the text is what comes
		 * before the first CR, for I all of it (hex only) */
		char raw[CODEC_ENTRY_MAX + 1];
		size_t want;

		CHECK(old->entry_target != 0 && ev->target == old->entry_target);
		CHECK(old->entry_len + 1 == old->entry_need);
		memcpy(raw, old->entry, old->entry_len);
		raw[old->entry_len] = (char)b;
		want = old->entry_need;
		if (ev->target != 'I') {
			const char *cr = memchr(raw, '\r', old->entry_need);
			if (cr)
				want = (size_t)(cr - raw);
		}
		CHECK(ev->len == want);
		CHECK(memcmp(ev->text, raw, ev->len) == 0);
		for (size_t i = 0; i < ev->len; i++) {
			if (ev->target == 'I')
				CHECK(is_hex(ev->text[i]));
			else
				CHECK(ev->text[i] != '\r');
		}
		CHECK(c->entry_target == 0 && c->last_cmd == old->last_cmd);
		break;
	}
	default:
		CHECK(!"unknown event type");
	}
	CHECK(ev->t_ms == t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct codec c;
	/* Byte 0: two-press gap in 10 ms units (0..2.55 s around ULS's
	 * 1.5 s); byte 1: entry timeout in 20 ms units, 0 = none. */
	struct codec_config cfg = {
		.two_press_gap_ms = size > 0 ? data[0] * 10u : 1500u,
		.entry_timeout_ms = size > 1 ? data[1] * 20u : 0u,
	};
	uint64_t t = 0;

	codec_init(&c, &cfg);
	check_state(&c);
	for (size_t i = 2; i + 1 < size; i += 2) {
		uint8_t ctl = data[i], b = data[i + 1];
		uint8_t mag = (ctl >> 2) & 0x0F;
		enum act act = (enum act)(ctl >> 6);
		struct codec old;
		struct codec_event ev;

		t = advance(t, ctl & 3, mag);
		if (act == ACT_BEGIN) {
			codec_begin_entry(&c, b, mag);
			check_state(&c);
			CHECK(c.entry_target == ((b && mag) ? b : 0));
			continue;
		}
		if (act == ACT_RESET) {
			if (mag & 1) {
				codec_reset(&c);
				CHECK(c.last_cmd == 0 && c.last_t == 0);
			} else {
				codec_cancel(&c);
			}
			check_state(&c);
			CHECK(c.press_cmd == 0 && c.at_digits == -1 &&
			      c.entry_target == 0);
		}

		old = c;
		memset(&ev, 0xA5, sizeof ev);
		bool got = codec_feed(&c, b, t, &ev);

		check_state(&c);
		check_event(&old, &c, &ev, got, b, t);

		/* Play the dispatcher. */
		if (act == ACT_REFUSE && (ev.type == CODEC_EV_PRESS1 ||
					  ev.type == CODEC_EV_AT_START)) {
			codec_cancel(&c);
			check_state(&c);
		} else if (act != ACT_REFUSE && ev.type == CODEC_EV_EDIT &&
			   ev.cmd == '-') {
			if (ev.target == 'c' || ev.target == 'x')
				codec_begin_entry(&c, ev.target,
						  CODEC_ENTRY_MAX);
			else if (ev.target == 'I')
				codec_begin_entry(&c, 'I', 2);
			check_state(&c);
		}
	}
	/* NULL event buffers are allowed too. */
	codec_feed(&c, size ? data[size - 1] : 0, t, NULL);
	check_state(&c);
	return 0;
}
