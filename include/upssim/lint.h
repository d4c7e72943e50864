/*
 * lint.h - the host lint: while the simulator serves a host, it reports
 * what the host does that the protocol forbids or discourages (docs/lint.md).
 * Pure: the unit calls it with every byte the host sends, the protocol
 * event the codec made of it and the reply the unit gave; the engine tells
 * it when the reply has left.  Each finding names its rule, the bytes and a
 * one-line message, and goes to a callback (the engine writes it as a
 * trace note) and into per-rule counts for the summary at exit.  The lint
 * never changes what the unit does.
 */
#ifndef UPSSIM_LINT_H
#define UPSSIM_LINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "upssim/codec.h"
#include "upssim/profile.h"

enum lint_rule {
	LINT_UNDOCUMENTED = 0, /**< a byte that is no UPS-Link command */
	LINT_UNSUPPORTED,      /**< a command this model does not answer */
	LINT_PRESS_EARLY,      /**< second press of K/Z/^N too soon: ignored */
	LINT_PRESS_BROKEN,     /**< another byte between the two presses */
	LINT_ENTRY_SHORT,      /**< a c/x entry the host ended before its 8
				    characters: what it sent next became text */
	LINT_ENTRY_OVERRUN,    /**< more than 8 characters typed: the rest
				    are read as commands */
	LINT_EARLY,            /**< a command sent before the reply came */
	LINT_EEPROM_WEAR,      /**< EEPROM writes at a rate that wears a unit */
	LINT__COUNT
};

/** Bytes kept with a finding (more are cut). */
#define LINT_BYTES_MAX 24
/** EEPROM writes in LINT_EEPROM_WINDOW_MS that make a finding. */
#define LINT_EEPROM_LIMIT 12
#define LINT_EEPROM_WINDOW_MS (3600u * 1000u)
/** A byte this soon after a c/x entry's 8th character, while the host had
 *  not read the entry's reply, is taken as the host typing on. */
#define LINT_OVERRUN_MS 2000

struct lint_finding {
	enum lint_rule rule;
	uint64_t t_ms;                 /**< wire time of the byte */
	uint8_t bytes[LINT_BYTES_MAX]; /**< the bytes it is about */
	size_t n;
	char msg[200];                 /**< one line, printable ASCII */
};

typedef void (*lint_fn)(void *ctx, const struct lint_finding *f);

struct lint {
	const struct ups_profile *p;
	lint_fn fn;
	void *ctx;
	unsigned count[LINT__COUNT];
	struct lint_finding first[LINT__COUNT];
	uint8_t seen[LINT__COUNT][32]; /**< bytes each rule was about */
	bool smart;                    /**< the unit was in smart mode */
	/* sent-before-reply */
	bool owed;
	uint8_t owed_cmd;
	/* c/x/I entry */
	uint8_t ent_target;
	uint64_t ent_open_t;           /**< the `-` that opened it */
	uint8_t ent_b[CODEC_ENTRY_MAX];
	uint64_t ent_t[CODEC_ENTRY_MAX];
	size_t ent_n;
	bool after_entry;              /**< an entry just completed */
	bool after_written;            /**< ... and its reply was written */
	uint8_t after_target;
	uint64_t after_t;
	long host_unread;              /**< lint_host_unread(); -1 unknown */
	/* EEPROM writes: times of the last LINT_EEPROM_LIMIT + 1 */
	uint64_t ee_t[LINT_EEPROM_LIMIT + 1];
	size_t ee_n;
	uint64_t ee_quiet_until;       /**< one finding per window */
};

/**
 * Start linting a host of a unit of profile @p p (which must outlive it).
 * @param[in] fn  called with each finding as it is made (may be NULL)
 */
void lint_init(struct lint *l, const struct ups_profile *p, lint_fn fn,
	       void *ctx);

/** The host sent byte @p b at wire time @p t; @p before is the unit's
 *  codec as it was before reading it. */
void lint_byte(struct lint *l, uint8_t b, uint64_t t,
	       const struct codec *before);

/** What the codec made of the byte (any event, NONE included, for its
 *  note); @p smart: the unit is in smart mode. */
void lint_event(struct lint *l, const struct codec_event *ev, uint64_t t,
		bool smart);

/** The unit's reply to @p ev (@p present false: none), line without CR LF. */
void lint_reply(struct lint *l, const struct codec_event *ev,
		const char *reply, size_t len, bool present, uint64_t t);

/** Everything the unit had to send has been written to the host. */
void lint_delivered(struct lint *l);

/** Before the next bytes: the host has @p n bytes it has not read yet
 *  (-1: the transport cannot tell). */
void lint_host_unread(struct lint *l, long n);

/** A new host session: forget what was pending (counts are kept). */
void lint_host_reset(struct lint *l);

/** @return the findings made so far, all rules */
unsigned lint_total(const struct lint *l);

/** Rule name ("sent-before-reply"), its source, a one-line description. */
const char *lint_rule_name(enum lint_rule r);
const char *lint_rule_ref(enum lint_rule r);
const char *lint_rule_text(enum lint_rule r);

/** The finding as a trace note: `lint RULE "BYTES" message`. */
size_t lint_format_note(const struct lint_finding *f, char *buf, size_t cap);

/**
 * A summary, one line per rule that found something: its name, count, the
 * distinct bytes and the first finding's message.  "" if none.
 * @return the length needed (as snprintf)
 */
size_t lint_summary(const struct lint *l, char *buf, size_t cap);

#endif
