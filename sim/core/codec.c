/*
 * codec.c - the UPS-Link input codec: a small state machine that turns
 * time-stamped host bytes into protocol events (see codec.h).  It owns the
 * multi-byte rules of the wire and nothing else: the two-press commands
 * K..K, Z..Z and ^N..^N, `@ddd`, the Edit modifier `-` (and `+` after `>`)
 * and the direct entry the dispatcher opens after an accepted `-` on
 * `c`/`x`/`I`.  It is pure: no I/O, no clock reads, no allocation; time
 * only enters through the t_ms of each byte, so tests and the fuzzer can
 * drive it with any clock, including one that jumps backwards.
 *
 * Precedence inside codec_feed, highest first: an open direct entry eats
 * bytes, then a pending `@` eats digits, then a pending first press looks
 * at the byte, then the byte is read as a fresh command.  At most one of
 * the three "pending" states is active at a time, because starting any
 * of them clears the others.
 */
#include "upssim/codec.h"

#include <string.h>

/* Two-press commands: the same byte twice, more than 1.5 s apart, with
 * nothing in between (ULS p.3 `K`, p.4 `Z`, p.6 `^N`; protocol-facts §5). */
#define TP_TURN_OFF_DELAYED 'K' /* ULS p.3 */
#define TP_TURN_OFF_NOW 'Z'     /* ULS p.4 */
/* ^N is CODEC_CTRL_N in codec.h (ULS p.6) */

/* `@ddd`: wake-up delay, `@` then exactly 3 ASCII digits (ULS p.4-5). */
#define AT_CMD '@'
#define AT_DIGITS 3

/* Edit modifier `-` (ULS p.3, p.16); `+` edits only after `>`, the
 * battery-pack count (ULS p.22; protocol-facts §5 row `+`). */
#define EDIT_NEXT '-'
#define EDIT_UP '+'
#define EDIT_PACKS_CMD '>'

/* Direct entry after `-`: `I` takes 2 hex digits, invalid hex ignored
 * (ULS p.29-30).  `c`/`x` take 8 characters and the UPS answers after the
 * 8th (ULS p.16-18); every byte counts, `-` included: ULS tells the host
 * not to type one, but a real SU3000RM carries the ID "s0-ups0" (NUT-DDL),
 * and skipping it left the entry open to swallow the host's next command.
 * The text ends at the first CR: NUT pads what it types to 8 with CRs
 * (protocol-facts §6.1) and the unit reads back "s0-ups0", not the
 * padding.  The CR ends the text, not the entry, so NUT's remaining
 * padding CRs are never read as commands.  What the text may contain is
 * the model's decision (docs/profiles.md, "Direct entry"). */
#define ENTRY_HEX_TARGET 'I'
#define ENTRY_TEXT_END '\r'

static bool is_two_press(uint8_t b)
{
	return b == TP_TURN_OFF_DELAYED || b == TP_TURN_OFF_NOW ||
	       b == CODEC_CTRL_N;
}

static bool is_digit(uint8_t b)
{
	return b >= '0' && b <= '9';
}

/* Not <ctype.h>: the answer must not depend on the C locale. */
static bool is_hex(uint8_t b)
{
	return is_digit(b) || (b >= 'A' && b <= 'F') || (b >= 'a' && b <= 'f');
}

/* Elapsed time from @from to @to; a clock that went backwards counts as
 * no time at all, so unsigned subtraction can never wrap. */
static uint64_t elapsed(uint64_t from, uint64_t to)
{
	return to > from ? to - from : 0;
}

static void clear_entry(struct codec *c)
{
	c->entry_target = 0;
	c->entry_need = 0;
	c->entry_len = 0;
	memset(c->entry, 0, sizeof c->entry);
}

static void clear_pending(struct codec *c)
{
	c->press_cmd = 0;
	c->press_t = 0;
	c->at_digits = -1;
	c->at_value = 0;
	clear_entry(c);
}

static bool emit(struct codec_event *ev, enum codec_ev_type type,
		 uint8_t cmd, uint64_t t_ms)
{
	ev->type = type;
	ev->cmd = cmd;
	ev->t_ms = t_ms;
	return true;
}

/* Inside a direct entry: collect or ignore @b; the entry completes after
 * entry_need counted bytes, and its event carries the text (for c/x the
 * bytes before the first CR).  Always consumes the byte. */
static bool feed_entry(struct codec *c, uint8_t b, uint64_t t_ms,
		       struct codec_event *ev)
{
	bool hex = c->entry_target == ENTRY_HEX_TARGET;

	if (hex && !is_hex(b))
		return false;
	c->entry[c->entry_len++] = (char)b;
	c->entry[c->entry_len] = '\0';
	if (c->entry_len < c->entry_need)
		return false;

	size_t len = c->entry_len;
	const char *end = hex ? NULL : memchr(c->entry, ENTRY_TEXT_END, len);

	if (end)
		len = (size_t)(end - c->entry);
	emit(ev, CODEC_EV_ENTRY, 0, t_ms);
	ev->target = c->entry_target;
	memcpy(ev->text, c->entry, len);
	ev->text[len] = '\0';
	ev->len = len;
	clear_entry(c);
	return true;
}

/* After `@`: digits accumulate; anything else drops the `@` and is eaten,
 * since the UPS ignores invalid characters after `@` and the host must
 * retry the whole command (ULS p.4-5). */
static bool feed_at(struct codec *c, uint8_t b, uint64_t t_ms,
		    struct codec_event *ev)
{
	if (!is_digit(b)) {
		c->at_digits = -1;
		c->at_value = 0;
		return false;
	}
	c->at_value = c->at_value * 10 + (b - '0');
	if (++c->at_digits < AT_DIGITS)
		return false;

	emit(ev, CODEC_EV_AT, AT_CMD, t_ms);
	ev->value = c->at_value;
	c->at_digits = -1;
	c->at_value = 0;
	return true;
}

/* A byte with nothing pending: a command, a first press, `@` or an edit. */
static bool feed_fresh(struct codec *c, uint8_t b, uint64_t t_ms,
		       struct codec_event *ev)
{
	if (is_two_press(b)) {
		c->press_cmd = b;
		c->press_t = t_ms;
		c->last_cmd = b;
		return emit(ev, CODEC_EV_PRESS1, b, t_ms);
	}
	if (b == AT_CMD) {
		c->at_digits = 0;
		c->at_value = 0;
		c->last_cmd = b;
		return emit(ev, CODEC_EV_AT_START, b, t_ms);
	}
	/* Edits leave last_cmd alone: "u - -" steps u twice (ULS p.16). */
	if (b == EDIT_NEXT || (b == EDIT_UP && c->last_cmd == EDIT_PACKS_CMD)) {
		emit(ev, CODEC_EV_EDIT, b, t_ms);
		ev->target = c->last_cmd;
		return true;
	}
	c->last_cmd = b;
	return emit(ev, CODEC_EV_CMD, b, t_ms);
}

void codec_init(struct codec *c, const struct codec_config *cfg)
{
	if (!c)
		return;
	memset(c, 0, sizeof *c);
	if (cfg)
		c->cfg = *cfg;
	clear_pending(c);
}

void codec_reset(struct codec *c)
{
	if (!c)
		return;
	struct codec_config cfg = c->cfg;

	codec_init(c, &cfg);
}

void codec_cancel(struct codec *c)
{
	if (c)
		clear_pending(c);
}

void codec_begin_entry(struct codec *c, uint8_t target, size_t n)
{
	if (!c)
		return;
	/* The entry follows the accepted `-`, so nothing else may be pending;
	 * a zero-length or targetless entry would never complete: refuse. */
	clear_pending(c);
	if (target == 0 || n == 0)
		return;
	c->entry_target = target;
	c->entry_need = n < CODEC_ENTRY_MAX ? n : CODEC_ENTRY_MAX;
}

bool codec_feed(struct codec *c, uint8_t byte, uint64_t t_ms,
		struct codec_event *ev)
{
	struct codec_event scratch;

	if (!ev)
		ev = &scratch;
	memset(ev, 0, sizeof *ev);
	if (!c)
		return false;

	uint64_t gap = elapsed(c->last_t, t_ms);
	bool stale = c->cfg.entry_timeout_ms != 0 &&
		     gap > c->cfg.entry_timeout_ms;

	c->last_t = t_ms;

	/* A stale entry or `@` is abandoned and the byte read afresh: a host
	 * that gave up must not have its next command swallowed. */
	if (c->entry_target != 0) {
		if (!stale)
			return feed_entry(c, byte, t_ms, ev);
		ev->note = CODEC_NOTE_STALE;
		ev->note_cmd = c->entry_target;
		ev->note_val = (uint32_t)c->entry_len;
		clear_entry(c);
	}
	if (c->at_digits >= 0) {
		if (!stale)
			return feed_at(c, byte, t_ms, ev);
		ev->note = CODEC_NOTE_STALE;
		ev->note_cmd = AT_CMD;
		ev->note_val = (uint32_t)c->at_digits;
		c->at_digits = -1;
		c->at_value = 0;
	}

	if (c->press_cmd != 0) {
		uint8_t first = c->press_cmd;
		uint64_t since = elapsed(c->press_t, t_ms);

		c->press_cmd = 0;
		c->press_t = 0;
		if (byte == first) {
			/* Too early: the pair is ignored (ULS p.3, "> 1.5 s"). */
			if (since <= c->cfg.two_press_gap_ms) {
				ev->note = CODEC_NOTE_PRESS_EARLY;
				ev->note_cmd = first;
				ev->note_val = since > UINT32_MAX ? UINT32_MAX :
					       (uint32_t)since;
				return false;
			}
			c->last_cmd = byte;
			return emit(ev, CODEC_EV_PRESS2, byte, t_ms);
		}
		/* Anything in between invalidates the pair (ULS p.3); the byte
		 * itself is an ordinary command, maybe another first press. */
		ev->note = CODEC_NOTE_PRESS_BROKEN;
		ev->note_cmd = first;
	}
	return feed_fresh(c, byte, t_ms, ev);
}
