/*
 * ups.h - the simulated UPS: protocol dispatcher plus device model.  Pure:
 * every call takes the current time in milliseconds (from whatever clock
 * the caller uses: real, scaled or virtual) and writes the bytes the UPS
 * sends into a caller-owned buffer.  Replies always end in CR LF and are
 * written whole; alerts are single bytes appended between replies, so an
 * alert never splits a reply.  No descriptors, no clock reads, no printing.
 */
#ifndef UPSSIM_UPS_H
#define UPSSIM_UPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "upssim/profile.h"
#include "upssim/rc.h"

#define UPS_NEVER UINT64_MAX

/** Growable byte buffer for what the UPS sends. */
struct ups_buf {
	uint8_t *data;
	size_t len, cap;
};
enum ups_rc ups_buf_append(struct ups_buf *b, const void *p, size_t n);
void ups_buf_consume(struct ups_buf *b, size_t n);
void ups_buf_free(struct ups_buf *b);

/* Q register bits (ULS p.8; protocol-facts §1.1) */
#define UPS_Q_CAL 0x01
#define UPS_Q_TRIM 0x02
#define UPS_Q_BOOST 0x04
#define UPS_Q_ONLINE 0x08
#define UPS_Q_ONBATT 0x10
#define UPS_Q_OVERLOAD 0x20
#define UPS_Q_LOWBATT 0x40
#define UPS_Q_REPLACE 0x80
/* 8 (trip) register bits (ULS p.9-10; protocol-facts §1.4) */
#define UPS_T_LOWBATT_OFF 0x01
#define UPS_T_OVERLOAD_XFER 0x02
#define UPS_T_MAIN_RELAY 0x04
#define UPS_T_SLEEP_AT 0x08
#define UPS_T_SHUTDOWN_S 0x10
#define UPS_T_CHARGER 0x20
#define UPS_T_BYPASS_RELAY 0x40
#define UPS_T_OVERTEMP 0x80

/** Snapshot of the observable state (for control socket, tests, logs). */
struct ups_status {
	bool smart;          /**< host has sent Y */
	bool output_on;
	bool on_battery;
	bool alive;          /**< false: electronics unpowered, no replies */
	uint8_t q, state, trip1, trip, dip;
	double line_v, line_hz, out_v, load_pct, charge_pct, batt_v, temp_c;
	double runtime_min;
	char test_result[3]; /**< what X would answer now */
	char transfer_cause; /**< what G would answer now */
};

struct ups;

/**
 * Create a unit in the powered-on state at time @p now.
 * @param[in] p  profile, must outlive the unit (units may share it)
 * @return the unit, or NULL on allocation failure
 */
struct ups *ups_new(const struct ups_profile *p, uint64_t now);
void ups_free(struct ups *u);

/** Host bytes received at @p now; replies and due alerts go to @p out.
 *  The same as ups_feed_at() with the wire clock equal to model time. */
enum ups_rc ups_feed(struct ups *u, const uint8_t *bytes, size_t n,
		     uint64_t now, struct ups_buf *out);

/**
 * Host bytes received at model time @p now and wire time @p wire_ms.  The
 * codec's protocol timers (two-press gap, entry timeout) are measured on
 * the wire clock, which is real time even when the model runs faster.
 * @return UPS_OK, or UPS_ENOMEM if @p out could not grow (bytes after the
 *         failing one are not consumed)
 */
enum ups_rc ups_feed_at(struct ups *u, const uint8_t *bytes, size_t n,
			uint64_t now, uint64_t wire_ms, struct ups_buf *out);

/** Advance the model to @p now; alerts that fell due go to @p out. */
enum ups_rc ups_tick(struct ups *u, uint64_t now, struct ups_buf *out);

/** @return the next time ups_tick() has something to do, or UPS_NEVER. */
uint64_t ups_next_deadline(const struct ups *u);

/** The host closed and reopened the port: forget partial input. */
void ups_host_reset(struct ups *u);

/* Environment, for scenarios and tests */
void ups_set_line(struct ups *u, double volts, double hz, uint64_t now);
void ups_set_load(struct ups *u, double pct, uint64_t now);
void ups_set_battery_health(struct ups *u, bool good, uint64_t now);

void ups_get_status(const struct ups *u, uint64_t now, struct ups_status *st);
const struct ups_profile *ups_profile(const struct ups *u);

/**
 * The longest reply line a unit sends, without its CR LF.  Far above what
 * real units send (a ^Z dump of ~300 bytes, ULS p.15), and 4.3 s on the
 * wire at 2400 bit/s.  The profile loader refuses a profile whose
 * ups_reply_max() is larger, so no reply is ever cut.
 */
#define UPS_REPLY_MAX 1024

/**
 * Build the `a` reply (without CR LF) from the command table and the
 * profile.  @return the reply's full length; @p buf gets at most @p len - 1
 * bytes of it and is always NUL-terminated if @p len > 0 (as snprintf)
 */
size_t ups_caps_string(const struct ups_profile *p, char *buf, size_t len);

/**
 * Build the `^Z` reply (without CR LF): `#`, then each of the profile's
 * EEPROM lists in the order real units print them, each followed by its
 * `dump_extra` items (ULS p.15).  @return as ups_caps_string()
 */
size_t ups_dump_string(const struct ups_profile *p, char *buf, size_t len);

/** @return the longest reply (without CR LF) a unit of @p p can send. */
size_t ups_reply_max(const struct ups_profile *p);

#endif
