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
	bool low_battery;    /**< Q bit 6 */
	bool shutdown_pending; /**< K, S or @ddd counting down */
	double shutdown_in_s;  /**< seconds until the output goes off */
	double ambient_c, humidity_pct;
	uint32_t faults;     /**< 1 << enum ups_fault, active faults */
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

/*
 * Events: everything that happens to the unit from outside the wire goes
 * through ups_apply() - scenario timelines, the control socket, tests.
 * The unit's changeable environment (line, load, temperatures, contacts,
 * DIP switches, battery, faults) lives in the unit, not in the shared
 * read-only profile, which only gives the values at start.
 */
enum ups_ev_kind {
	UPS_EV_NONE = 0,
	UPS_EV_LINE,        /**< line voltage .value V (0 = blackout) and, if
	                         .value2 > 0, frequency .value2 Hz */
	UPS_EV_LINE_FREQ,   /**< frequency only: .value Hz */
	UPS_EV_NOTCH,       /**< a notch or spike: on battery for .value ms,
	                         transfer cause `T` */
	UPS_EV_RATE,        /**< unacceptable rate of change: on battery for
	                         .value ms, transfer cause `R` */
	UPS_EV_LOAD,        /**< load .value % of rating (> 100 = overload) */
	UPS_EV_CHARGE,      /**< battery charge .value % (initial state) */
	UPS_EV_BATT_HEALTH, /**< capacity left .value, 0..1 (1 = new); below
	                         the profile's weak limit a self-test fails */
	UPS_EV_BATT_CONNECTED, /**< .on: battery connected */
	UPS_EV_BATT_REPLACED,  /**< a new battery: health 1, `#` cleared */
	UPS_EV_BAD_PACKS,   /**< bad external packs .ivalue (`<`) */
	UPS_EV_PACKS,       /**< external packs .ivalue (`>`) */
	UPS_EV_TEMP,        /**< internal temperature .value °C (`C`) */
	UPS_EV_AMBIENT,     /**< Measure-UPS ambient .value °C (`t`) */
	UPS_EV_HUMIDITY,    /**< Measure-UPS humidity .value % (`h`) */
	UPS_EV_CONTACTS,    /**< Measure-UPS contacts .ivalue: bits 0-3 = contacts
	                         1-4 closed (`i` bits 7-4) */
	UPS_EV_DIP,         /**< DIP switches .ivalue (`7`) */
	UPS_EV_FAULT,       /**< .fault starts (.on) or ends (!.on) */
	UPS_EV_BUTTON,      /**< front panel: .on turns the output on, else off */
	UPS_EV_CAUSE,       /**< last transfer cause .ivalue (a G character) */
	UPS_EV_LINE_MINMAX, /**< M .value and N .value2 since the last read */
	UPS_EV_SELFTEST,    /**< start a self-test (front panel) */
	UPS_EV__COUNT
};

/** Faults a scenario can inject: each sets the trip-register bits and the
 *  state it implies (protocol-facts §1.3, §1.4). */
enum ups_fault {
	UPS_FAULT_CHARGER = 0,   /**< 8 bit 5: no recharge */
	UPS_FAULT_OVERTEMP,      /**< 8 bit 7: output off while it lasts */
	UPS_FAULT_MAIN_RELAY,    /**< 8 bit 2: relay malfunction, UPS off */
	UPS_FAULT_BYPASS_RELAY,  /**< 8 bit 6: bypass relay malfunction */
	UPS_FAULT_FAN,           /**< ' bit 0: electronics fan, in bypass */
	UPS_FAULT_ISOLATION_FAN, /**< ' bit 1 */
	UPS_FAULT_BYPASS_SUPPLY, /**< ' bit 2 */
	UPS_FAULT_INVERTER,      /**< ' bit 7: bad output voltage */
	UPS_FAULT_BOOST_RELAY,   /**< ' bit 6: SmartBoost/SmartTrim relay */
	UPS_FAULT_DC_IMBALANCE,  /**< ' bit 4: in bypass */
	UPS_FAULT__COUNT
};

struct ups_event {
	enum ups_ev_kind kind;
	double value, value2;
	int ivalue;
	bool on;
	enum ups_fault fault;
};

/**
 * Apply @p ev at model time @p now.  What the unit sends at once because
 * of it (an alert such as `!` when the line fails) is appended to @p out,
 * so the caller can send it now rather than at the next timer.
 * @return UPS_OK, UPS_EARG for an event out of range (nothing changed),
 *         UPS_ENOMEM if @p out could not grow
 */
enum ups_rc ups_apply(struct ups *u, const struct ups_event *ev, uint64_t now,
		      struct ups_buf *out);

/** Name of an event kind / fault as scenario files spell it ("none" for
 *  UPS_EV_NONE), or NULL for a value out of range. */
const char *ups_ev_name(enum ups_ev_kind k);
const char *ups_fault_name(enum ups_fault f);
/** @return the fault called @p name, or UPS_FAULT__COUNT */
enum ups_fault ups_fault_from_name(const char *name);

/* Environment, for tests (each is one ups_apply) */
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

/*
 * Observers and overrides (the host lint, replay of a recorded unit).
 * The model never sets them itself.
 */
struct lint;
struct codec_event;

/** Report every host byte, codec event and reply to @p l (lint.h), or
 *  stop with NULL.  @p l must outlive the unit or be unset first. */
void ups_set_lint(struct ups *u, struct lint *l);

/**
 * Answer a command instead of the unit (replay.h).  Called in smart mode,
 * before the dispatcher's checks, for every event the codec completes.
 * @param[out] reply    the reply line without CR LF (bytes, may hold NUL)
 * @param[out] len      its length, at most @p cap (UPS_REPLY_MAX)
 * @param[out] present  false: answer nothing at all
 * @return true if the hook answered (the unit's handler does not run);
 *         false to let the unit answer.  A first press or `@` that the
 *         hook answers with a reply is taken as refused (codec_cancel).
 */
typedef bool (*ups_reply_hook)(void *ctx, const struct codec_event *ev,
			       uint64_t now, uint8_t *reply, size_t cap,
			       size_t *len, bool *present);
void ups_set_reply_hook(struct ups *u, ups_reply_hook fn, void *ctx);

/** Drop the alerts the model makes (a replay sends the recorded ones). */
void ups_mute_alerts(struct ups *u, bool mute);

#endif
