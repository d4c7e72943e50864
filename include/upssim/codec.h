/*
 * codec.h - the UPS-Link input codec.  Pure: it turns bytes from the host,
 * each stamped with a time in milliseconds, into protocol events.  It owns
 * every multi-byte rule of the wire (ULS §3): the two-press commands
 * K..K, Z..Z and ^N..^N, `@ddd`, the Edit modifier `-` (and `+`/`-` after
 * `>`), and the direct entry that follows an accepted `-` after `c`/`x`
 * (8 characters, the text ending at the first CR) or `I` (2 hex digits).
 * It never decides whether a command is supported or allowed, nor what an
 * entry's text may contain: the dispatcher does, and tells the codec when
 * a direct entry may start (codec_begin_entry) or when a first press must
 * be forgotten (codec_cancel).
 */
#ifndef UPSSIM_CODEC_H
#define UPSSIM_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CODEC_CTRL_N 0x0E   /* ^N: turn UPS on (ULS p.6) */
#define CODEC_DEL 0x7F      /* DEL: abort shutdown (ULS p.5) */
#define CODEC_ENTRY_MAX 8   /* c/x direct entry length (ULS p.16-18) */

enum codec_ev_type {
	CODEC_EV_NONE = 0,
	CODEC_EV_CMD,        /**< a single-byte command; .cmd */
	CODEC_EV_PRESS1,     /**< first press of K/Z/^N; .cmd (no reply yet) */
	CODEC_EV_PRESS2,     /**< valid second press: the command is complete */
	CODEC_EV_AT,         /**< `@` followed by 3 digits; .value = ddd */
	CODEC_EV_EDIT,       /**< `-` or (after `>`) `+`; .cmd = edit byte,
	                          .target = the command it edits (0 if none) */
	CODEC_EV_ENTRY,      /**< direct entry complete; .target, .text/.len:
	                          c/x: the bytes before the first CR (may hold
	                          any byte, NUL included: use .len); I: the
	                          2 hex digits */
	CODEC_EV_AT_START,   /**< `@` seen, digits awaited (no reply yet) */
};

/** What the codec noticed about the host while reading a byte (the host
 *  lint reports it, lint.h); the byte is handled as the protocol says
 *  whatever the note. */
enum codec_note {
	CODEC_NOTE_NONE = 0,
	CODEC_NOTE_PRESS_EARLY,  /**< second press of .note_cmd came only
				      .note_val ms after the first: ignored */
	CODEC_NOTE_PRESS_BROKEN, /**< this byte came between the two presses
				      of .note_cmd: the pair is cancelled */
	CODEC_NOTE_STALE,        /**< an `@` or c/x/I entry (.note_cmd) was
				      abandoned after .note_val characters:
				      the host paused longer than the timeout */
};

struct codec_event {
	enum codec_ev_type type;
	uint8_t cmd;
	uint8_t target;
	int value;
	char text[CODEC_ENTRY_MAX + 1];
	size_t len;
	uint64_t t_ms;       /**< time of the byte that completed the event */
	uint8_t note;        /**< enum codec_note, set even when type is NONE */
	uint8_t note_cmd;
	uint32_t note_val;
};

struct codec_config {
	uint32_t two_press_gap_ms; /**< second press must come later than this */
	uint32_t entry_timeout_ms; /**< 0 = no timeout inside @ddd/entries */
};

struct codec {
	struct codec_config cfg;
	uint8_t last_cmd;        /**< last command byte (target of `-`) */
	uint8_t press_cmd;       /**< pending first press, 0 if none */
	uint64_t press_t;
	int at_digits;           /**< -1: not in @; else digits so far */
	int at_value;
	uint64_t last_t;         /**< time of previous byte */
	uint8_t entry_target;    /**< 0: not in direct entry */
	size_t entry_need, entry_len;
	char entry[CODEC_ENTRY_MAX + 1];
};

/** Initialise @p c with @p cfg. */
void codec_init(struct codec *c, const struct codec_config *cfg);

/**
 * Feed one byte received at @p t_ms.
 * @param[out] ev  set to the event the byte completes (type NONE if none)
 * @return true if @p ev holds an event
 */
bool codec_feed(struct codec *c, uint8_t byte, uint64_t t_ms,
		struct codec_event *ev);

/** The dispatcher accepted `-` after c/x/I: collect @p n bytes for @p target. */
void codec_begin_entry(struct codec *c, uint8_t target, size_t n);

/** Forget a pending first press or `@` (the command was refused). */
void codec_cancel(struct codec *c);

/** Back to the power-on state (the host reconnected, the UPS restarted). */
void codec_reset(struct codec *c);

#endif
