/*
 * model.c - the simulated UPS: the dispatcher that applies the command
 * table's shared checks, the command handlers, and the device model
 * (power path, battery, shutdown timers, registers, alerts).  Pure: time
 * arrives as an argument, output goes to a caller's buffer.
 *
 * Power model.  The output is fed from the line while the line is inside
 * the transfer window [l, u] and nothing forces battery operation (U, W,
 * D); otherwise from the battery.  Charge falls linearly on battery so that
 * the runtime estimate `j` counts down one minute per minute, and rises at
 * the profile's recharge rate on line.  The electronics stay powered while
 * the line is present or the output is on; with neither, the unit is dead:
 * it answers nothing, and comes back in dumb mode with a `?` alert.
 */
#include "ups_internal.h"
#include "upssim/lint.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS_PER_MIN 60000.0
#define MS_PER_H 3600000.0

/* ---------- buffers ---------- */

enum ups_rc ups_buf_append(struct ups_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *d = realloc(b->data, cap);
		if (!d)
			return UPS_ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return UPS_OK;
}

void ups_buf_consume(struct ups_buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

void ups_buf_free(struct ups_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* ---------- reply helpers ---------- */

static void reply_raw(struct ups_reply *r, const void *p, size_t n)
{
	/* NEVER for a loaded profile: prof_load refuses one whose longest
	 * reply (ups_reply_max) does not fit; this only keeps memory safe
	 * for a profile changed by hand after loading */
	if (r->len + n > sizeof r->buf)
		n = sizeof r->buf - r->len;
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	r->present = true;
}

static void reply_str(struct ups_reply *r, const char *s)
{
	reply_raw(r, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void reply_fmt(struct ups_reply *r, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof tmp)
		n = sizeof tmp - 1;
	reply_raw(r, tmp, (size_t)n);
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

/* Does the command table's handler answer @p b (not a fixed reply)? */
static bool table_answers(const struct ups_profile *p, uint8_t b)
{
	return prof_supports(p, b) && !prof_extra(p, b);
}

/* ---------- EEPROM values ---------- */

static const struct prof_enum *ee(const struct ups *u, uint8_t cmd)
{
	if (cmd >= 128 || !u->p->eeprom[cmd].present)
		return NULL;
	return &u->p->eeprom[cmd];
}

static const char *ee_value(const struct ups *u, uint8_t cmd)
{
	const struct prof_enum *e = ee(u, cmd);
	return e ? e->values[u->ee_idx[cmd] % e->count] : NULL;
}

static double ee_num(const struct ups *u, uint8_t cmd, double dflt)
{
	const char *v = ee_value(u, cmd);
	if (!v)
		return dflt;
	char *end;
	double d = strtod(v, &end);
	return end == v ? dflt : d;
}

/* Select @p value in @p cmd's list if the list has it. */
static void ee_select(struct ups *u, uint8_t cmd, const char *value)
{
	const struct prof_enum *e = &u->p->eeprom[cmd];
	for (int i = 0; e->present && i < e->count; i++)
		if (strcmp(e->values[i], value) == 0)
			u->ee_idx[cmd] = (uint8_t)i;
}

/* The EEPROM at start (each list's `current` value, @p factory false) or
 * after `z` (the factory defaults, ULS p.16). */
static void ee_load(struct ups *u, bool factory)
{
	for (int c = 0; c < 128; c++) {
		const struct prof_enum *e = &u->p->eeprom[c];
		u->ee_idx[c] = !e->present ? 0 : (uint8_t)(factory ? e->def : e->cur);
	}
	u->alarm_enable = u->p->alarm_enable;
	/* A switch away from ON imposes its value (ULS p.10, facts §1.5):
	 * #4 low-battery warning 5 min, #3 alarm delayed 30 s, #2 output
	 * 115/240 V instead of 120/230 V, #1 desensitized (wider window). */
	uint8_t dip = u->dip;
	if (dip & 0x01)
		ee_select(u, 'q', "05");
	if (dip & 0x02)
		ee_select(u, 'k', "T");
	if (dip & 0x04) {
		ee_select(u, 'o', "115");
		ee_select(u, 'o', "240");
	}
	if (dip & 0x08)
		ee_select(u, 's', "L");
}

static bool has_alert(const struct ups *u, char c)
{
	return strchr(u->p->alerts, c) != NULL;
}

/*
 * Queue alert @p c until the next flush (after every command, tick and
 * event).  The queue cannot lose an alert.  While it has room it keeps
 * every alert in order.  When it is full the pending alerts are coalesced
 * as a unit with one pending flag per alert would send them: each alert
 * character once, where it last occurred.  At most 16 distinct characters
 * exist (link.alerts plus `&`), so coalescing always makes room; no kind
 * of alert is dropped, and of `!`/`$`, `%`/`+` and `?`/`=` the one raised
 * last is still sent last, so a host ends in the unit's state.  Only the
 * repetitions of an alert, and the order of the ones before their last
 * occurrence, are given up; a real unit sends each alert as it happens,
 * and the queue fills only when more than 64 alerts come before one flush
 * (dozens of outages at one instant; test_profile_quirks.c:
 * test_alert_queue).
 */
static void alerts_coalesce(struct ups *u)
{
	size_t n = 0;
	for (size_t i = 0; i < u->n_alerts; i++) {
		bool later = false;
		for (size_t j = i + 1; j < u->n_alerts && !later; j++)
			later = u->alerts[j] == u->alerts[i];
		if (!later)
			u->alerts[n++] = u->alerts[i];
	}
	u->n_alerts = n;
}

static void alert(struct ups *u, char c)
{
	if (!has_alert(u, c))
		return;
	if (u->n_alerts >= sizeof u->alerts)
		alerts_coalesce(u);
	if (u->n_alerts >= sizeof u->alerts)
		return; /* NEVER: at most 16 distinct alert characters */
	u->alerts[u->n_alerts++] = (uint8_t)c;
}

static void plan_auto_test(struct ups *u);

static void eeprom_changed(struct ups *u, uint64_t now)
{
	u->state_version++; /* --state writes it down (ups_state.c) */
	plan_auto_test(u); /* E may have changed */
	if (has_alert(u, '|'))
		u->eeprom_alert_at = now + u->p->eeprom_alert_ms;
}

/* ---------- battery physics ---------- */

/* Minutes a full battery lasts at the current load (Peukert-like). */
static double full_runtime_min(const struct ups *u)
{
	double load = u->load_pct < 1.0 ? 1.0 : u->load_pct;
	double rt = u->p->runtime_full_load_min *
		    pow(100.0 / load, u->p->runtime_exponent);
	rt *= u->batt_connected ? u->health : 0.0; /* capacity left */
	return rt < 0.01 ? 0.01 : rt; /* 0.6 s: no battery to speak of */
}

/* A battery with less capacity left than this fails its self-test (`X`
 * answers BT) and asks for replacement (`#`, Q bit 7). */
#define WEAK_HEALTH 0.5

static bool batt_good(const struct ups *u)
{
	return u->batt_connected && u->health >= WEAK_HEALTH;
}

static bool fault(const struct ups *u, enum ups_fault f)
{
	return (u->faults >> f) & 1u;
}

static double runtime_min(const struct ups *u)
{
	return full_runtime_min(u) * u->charge / 100.0;
}

static double low_batt_min(const struct ups *u)
{
	return ee_num(u, 'q', 2.0);
}

static double lowbatt_charge(const struct ups *u)
{
	return 100.0 * low_batt_min(u) / full_runtime_min(u);
}

static double restart_charge(const struct ups *u)
{
	return ee_num(u, 'e', 0.0);
}

static bool line_in_window(const struct ups *u)
{
	double lo = ee_num(u, 'l', u->p->nominal_voltage * 0.85);
	double hi = ee_num(u, 'u', u->p->nominal_voltage * 1.12);
	double f0 = u->p->nominal_freq;
	return u->line_v >= lo && u->line_v <= hi &&
	       u->line_hz >= f0 * 0.95 && u->line_hz <= f0 * 1.05;
}

static bool line_present(const struct ups *u)
{
	return u->line_v > 20.0;
}

static bool forced_battery(const struct ups *u, uint64_t now)
{
	return now < u->simfail_until || now < u->selftest_until ||
	       u->calibrating;
}

static bool boost(const struct ups *u)
{
	return !u->on_batt && u->output_on && u->p->boost_below_v > 0 &&
	       u->line_v < u->p->boost_below_v;
}

static bool trim(const struct ups *u)
{
	return !u->on_batt && u->output_on && u->p->trim_above_v > 0 &&
	       u->line_v > u->p->trim_above_v;
}

/* ---------- power state transitions ---------- */

static void output_off(struct ups *u, enum off_reason why)
{
	u->output_on = false;
	u->off = why;
	u->sd = SD_NONE;
	u->turn_on_at = UPS_NEVER;
	u->calibrating = false;
	u->simfail_until = u->selftest_until = 0;
	if (why == OFF_S)
		u->trip |= UPS_T_SHUTDOWN_S;
	if (why == OFF_AT)
		u->trip |= UPS_T_SLEEP_AT;
	if (why == OFF_LOWBATT) {
		u->deep = true; /* low battery on line until recharged */
		u->trip |= UPS_T_LOWBATT_OFF;
		alert(u, '?'); /* ULS p.24: low-battery shutdown is abnormal */
		u->sent_abnormal = true;
	}
	/* Low battery ends with the output, silently: `+` means "recharged". */
	u->lowbatt = u->sent_lowbatt = false;
	/* `#` repeats until a passing test or the UPS is turned off (ULS p.25) */
	u->replace_next = UPS_NEVER;
	if ((u->p->family & (UPS_FAM_OLD | UPS_FAM_SU2)) && has_alert(u, '*'))
		alert(u, '*'); /* ULS p.25: older units only */
}

static void output_on(struct ups *u)
{
	u->output_on = true;
	u->off = OFF_NONE;
	u->turn_on_at = UPS_NEVER;
	u->trip &= (uint8_t)~(UPS_T_SHUTDOWN_S | UPS_T_SLEEP_AT | UPS_T_LOWBATT_OFF |
			      UPS_T_OVERLOAD_XFER);
	if (u->replace)
		u->replace_next = u->t + u->p->replace_repeat_ms;
	if (u->sent_abnormal && has_alert(u, '=')) {
		alert(u, '=');
		u->sent_abnormal = false;
	}
}

/* The electronics lost power: forget everything volatile. */
static void die(struct ups *u)
{
	u->alive = false;
	u->smart = false;
	codec_reset(&u->codec);
	/* Alerts already queued left before the power dropped (the `?` of a
	 * low-battery shutdown); nothing owed survives: no `=` after the
	 * power-on `?` (ULS p.24). */
	u->sent_linefail = u->sent_lowbatt = u->sent_abnormal = false;
	u->linefail = u->lowbatt = false;
	u->linefail_next = u->replace_next = UPS_NEVER;
	u->auto_test_at = UPS_NEVER;
	u->power_on_alert_at = u->eeprom_alert_at = UPS_NEVER;
	u->turn_on_at = UPS_NEVER; /* nothing happens until the line returns */
	u->sd = SD_NONE;
}

void ups_restored(struct ups *u)
{
	/* as revive(): "ON " tests at start-up, 336/168 count from the test */
	const char *e = ee_value(u, 'E');
	if (e && strcmp(e, "ON ") == 0)
		u->auto_test_at = u->t;
	else
		plan_auto_test(u);
}

static void revive(struct ups *u, uint64_t now)
{
	u->alive = true;
	u->smart = false;
	codec_reset(&u->codec);
	u->power_on_alert_at = now + u->p->power_on_alert_ms;
	u->mmax = u->mmin = u->line_v;
	/* E: "ON " tests at every start-up, 336/168 count from the last test */
	const char *e = ee_value(u, 'E');
	if (e && strcmp(e, "ON ") == 0)
		u->auto_test_at = now;
	else
		plan_auto_test(u);
}

/* Recompute on_batt and emit the alerts of a transfer. */
/* Why the line is unusable, as G reports it (ULS p.7). */
static char line_cause(const struct ups *u)
{
	double f0 = u->p->nominal_freq;
	if (!line_present(u) || u->line_v < ee_num(u, 'l', u->p->nominal_voltage * 0.85))
		return 'L';
	if (u->line_v > ee_num(u, 'u', u->p->nominal_voltage * 1.12))
		return 'H';
	if (u->line_hz < f0 * 0.95 || u->line_hz > f0 * 1.05)
		return 'R'; /* frequency out of tolerance: rate of change */
	return 'L';
}

/* Recompute the power source and emit the alerts of a transfer.  `!` marks
 * battery operation caused by the line, U or D (not by W), whenever it
 * begins, also in the middle of a self-test; it repeats every 30 s until
 * low battery; `$` follows only a `!` and only when the unit is back on
 * line with its output on (ULS p.24). */
static bool fault_bypass(const struct ups *u);

static void update_source(struct ups *u, uint64_t now)
{
	bool xfer = now < u->xfer_until; /* a notch, spike or fast change */
	bool line_ok = line_in_window(u) && !xfer;
	bool was_batt = u->on_batt, was_lf = u->linefail;
	u->on_batt = u->output_on && !u->bypass && !fault_bypass(u) &&
		     (!line_ok || forced_battery(u, now));
	u->linefail = u->on_batt &&
		      (!line_ok || now < u->simfail_until || u->calibrating);
	if (u->on_batt && !was_batt)
		u->cause = xfer ? u->xfer_cause : line_ok ? 'S' : line_cause(u);
	else if (u->on_batt && !line_ok && !was_lf)
		u->cause = line_cause(u); /* the line failed during W */
	if (u->linefail && !was_lf && u->alive) {
		alert(u, '!');
		u->sent_linefail = true;
		u->linefail_next = u->lowbatt ? UPS_NEVER
					      : now + u->p->linefail_repeat_ms;
	} else if (!u->linefail && was_lf) {
		if (u->sent_linefail && u->output_on)
			alert(u, '$');
		u->sent_linefail = false;
		u->linefail_next = UPS_NEVER;
	}
}

static bool charging(const struct ups *u)
{
	return u->batt_connected && !fault(u, UPS_FAULT_CHARGER);
}

/* Integrate the battery from u->t to now. */
static void integrate(struct ups *u, uint64_t now)
{
	if (now <= u->t)
		return;
	double dt_min = (double)(now - u->t) / MS_PER_MIN;
	if (u->on_batt) {
		u->charge -= dt_min * 100.0 / full_runtime_min(u);
	} else if (line_present(u) && u->alive && charging(u)) {
		u->charge += dt_min / 60.0 * u->p->recharge_pct_per_h;
	}
	u->charge = clampd(u->charge, 0.0, 100.0);
	u->t = now;
}

/* The first period boundary after `now` for a repeating alert that was
 * due at `due`: one alert stands for any missed while time jumped. */
static uint64_t next_period(uint64_t due, uint64_t period, uint64_t now)
{
	if (period == 0)
		period = 1;
	if (due > now)
		return due;
	return due + ((now - due) / period + 1) * period;
}

static void measure_alarms(struct ups *u);

/* Interval of automatic self-tests from E (ULS p.17): 336 or 168 hours;
 * 0 for "ON " (start-up only) and "OFF". */
static uint64_t auto_test_interval(const struct ups *u)
{
	double h = ee_num(u, 'E', 0.0);
	return h > 0 ? (uint64_t)(h * MS_PER_H) : 0;
}

/* Schedule the next automatic self-test, counted from the last test. */
static void plan_auto_test(struct ups *u)
{
	uint64_t iv = auto_test_interval(u);
	uint64_t due = u->last_test_t + iv; /* minus a restored test age */
	u->auto_test_at = !iv ? UPS_NEVER :
			  due > u->test_age0 ? due - u->test_age0 : 0;
}

static bool can_self_test(const struct ups *u, uint64_t now)
{
	return u->alive && u->output_on && !u->on_batt && u->sd == SD_NONE &&
	       now >= u->selftest_until && !u->calibrating;
}

static void start_self_test(struct ups *u, uint64_t now)
{
	u->selftest_until = now + u->p->selftest_ms;
	u->has_result = false;
	update_source(u, now);
}

static void fault_registers(struct ups *u);
static bool fault_holds_output_off(const struct ups *u);

/* Faults and overload acting on the power path (after update_source). */
static void fault_effects(struct ups *u, uint64_t t)
{
	fault_registers(u);
	if (u->output_on && fault_holds_output_off(u))
		output_off(u, OFF_FAULT);
	else if (!u->output_on && u->off == OFF_FAULT && u->alive &&
		 !fault(u, UPS_FAULT_MAIN_RELAY) && !fault(u, UPS_FAULT_OVERTEMP) &&
		 !(fault(u, UPS_FAULT_INVERTER) && !line_in_window(u)))
		output_on(u); /* repaired, cooled, or the line is back */
	/* ULS p.9: could not transfer to battery because of overload */
	if (u->output_on && u->linefail && u->load_pct > 100.0) {
		output_off(u, OFF_OVERLOAD);
		u->trip |= UPS_T_OVERLOAD_XFER;
		alert(u, '?');
		u->sent_abnormal = true;
	}
	update_source(u, t);
}

/* Bring the model to `now`, applying every timer that fell due. */
static void step(struct ups *u, uint64_t now)
{
	if (now < u->t)
		now = u->t;
	/* Walk through due timers in time order so that physics between
	 * them is integrated with the right power source. */
	for (int guard = 0;; guard++) {
		/* Every pass re-derives the state; the last one runs at `now`
		 * even when no timer is due (the environment may have changed),
		 * and also when the pass budget is spent, so `now` is always
		 * reached with a full pass. */
		uint64_t next = ups_next_deadline(u);
		bool last = next >= now || guard >= 4096;
		if (last)
			next = now;
		if (next < u->t)
			next = u->t;
		integrate(u, next);
		update_source(u, next);
		uint64_t t = next;
		fault_effects(u, t);

		if (u->selftest_until && t >= u->selftest_until) {
			u->selftest_until = 0;
			const char *res = !batt_good(u) ? "BT" :
					  u->load_pct > 100.0 ? "NG" : "OK";
			memcpy(u->result, res, 3);
			u->has_result = true;
			u->result_t = t;
			u->last_test_t = t;
			u->test_age0 = 0;
			u->state_version++; /* the result survives a power cut */
			plan_auto_test(u);
			if (!batt_good(u)) {
				u->replace = true;
				alert(u, '#');
				u->replace_next = t + u->p->replace_repeat_ms;
			} else {
				u->replace = false;
				u->replace_next = UPS_NEVER;
			}
		}
		if (u->simfail_until && t >= u->simfail_until)
			u->simfail_until = 0;
		if (u->calibrating && u->charge <= u->p->calibration_stop_pct)
			u->calibrating = false;
		if (u->sd != SD_NONE && t >= u->sd_at) {
			enum sd_kind k = u->sd;
			output_off(u, k == SD_K ? OFF_K : k == SD_S ? OFF_S : OFF_AT);
		}
		if (u->bypass_change_until && t >= u->bypass_change_until)
			u->bypass_change_until = 0;
		if (u->output_on && u->on_batt && u->charge <= 0.0)
			output_off(u, OFF_LOWBATT);
		/* An automatic restart needs the line for the whole turn-on
		 * delay r; if it fails again, the delay starts afresh later. */
		if (!u->output_on && u->turn_on_at != UPS_NEVER &&
		    (u->off == OFF_S || u->off == OFF_AT || u->off == OFF_LOWBATT) &&
		    !line_in_window(u))
			u->turn_on_at = UPS_NEVER;
		if (u->alive && !u->output_on && u->turn_on_at != UPS_NEVER &&
		    t >= u->turn_on_at)
			output_on(u);
		update_source(u, t);

		/* Dead or alive? */
		if (u->alive && !u->output_on && !line_present(u))
			die(u);
		else if (!u->alive && line_present(u))
			revive(u, t);

		/* Automatic restart after S, @ddd or low-battery shutdown. */
		if (u->alive && !u->output_on && u->turn_on_at == UPS_NEVER &&
		    (u->off == OFF_S || u->off == OFF_LOWBATT ||
		     (u->off == OFF_AT && t >= u->wake_at)) &&
		    line_in_window(u) && u->charge >= restart_charge(u))
			u->turn_on_at = t + (uint64_t)(ee_num(u, 'r', 0) * 1000.0);

		/* Low battery (ULS p.24 `%` / `+`). */
		bool lb = u->output_on && runtime_min(u) <= low_batt_min(u) &&
			  (u->on_batt || u->lowbatt || u->deep ||
			   u->p->low_battery_on_line);
		if (u->output_on && !lb)
			u->deep = false; /* recharged after a deep discharge */
		if (lb && !u->lowbatt) {
			u->lowbatt = true;
			/* `%` marks low battery on battery; after a deep
			 * discharge the unit restarts with LB set in Q only */
			if (u->on_batt) {
				alert(u, '%');
				u->sent_lowbatt = true;
			}
			u->linefail_next = UPS_NEVER; /* `!` repeats until low battery */
		} else if (!lb && u->lowbatt) {
			u->lowbatt = false;
			if (u->sent_lowbatt)
				alert(u, '+');
			u->sent_lowbatt = false;
		}

		if (u->alive && t >= u->linefail_next) {
			alert(u, '!');
			u->linefail_next = next_period(u->linefail_next,
						       u->p->linefail_repeat_ms, now);
		}
		if (u->alive && t >= u->replace_next) {
			alert(u, '#');
			u->replace_next = next_period(u->replace_next,
						      u->p->replace_repeat_ms, now);
		}
		if (u->alive && t >= u->power_on_alert_at) {
			alert(u, '?');
			u->power_on_alert_at = UPS_NEVER;
		}
		if (u->alive && t >= u->eeprom_alert_at) {
			alert(u, '|');
			u->eeprom_alert_at = UPS_NEVER;
		}
		if (t >= u->auto_test_at) {
			if (can_self_test(u, t)) {
				start_self_test(u, t);
				u->auto_test_at = UPS_NEVER; /* re-planned at its end */
			} else {
				/* busy: try again on the next hour */
				u->auto_test_at = next_period(u->auto_test_at,
							      3600000, now);
			}
		}
		if (u->alive && u->p->measure_ups) {
			/* ULS p.25, p.28: `&` when an enabled alarm begins, then
			 * every 2 min while it lasts */
			measure_alarms(u);
			bool on = (u->jlatch & u->alarm_enable) != 0;
			if (on && (!u->measure_alarm || t >= u->measure_next)) {
				alert(u, '&');
				u->measure_next = t + 120000;
			}
			u->measure_alarm = on;
		}
		u->t = t;
		if (last)
			return;
	}
}

/* When does the charge reach `level` at the present rate? */
static uint64_t charge_crossing(const struct ups *u, double level)
{
	double rate; /* percent per ms */
	if (u->on_batt)
		rate = -100.0 / full_runtime_min(u) / MS_PER_MIN;
	else if (line_present(u) && u->alive && u->charge < 100.0 && charging(u))
		rate = u->p->recharge_pct_per_h / MS_PER_H;
	else
		return UPS_NEVER;
	double d = level - u->charge;
	if ((rate > 0 && d <= 0) || (rate < 0 && d >= 0))
		return UPS_NEVER;
	double ms = d / rate;
	if (ms > 1e15)
		return UPS_NEVER;
	return u->t + (uint64_t)ceil(ms) + 1;
}

static uint64_t min_t(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t ups_next_deadline(const struct ups *u)
{
	uint64_t n = UPS_NEVER;
	if (!u->alive)
		return n; /* only a line change (ups_set_line) wakes it */
	if (u->selftest_until)
		n = min_t(n, u->selftest_until);
	if (u->simfail_until)
		n = min_t(n, u->simfail_until);
	if (u->sd != SD_NONE)
		n = min_t(n, u->sd_at);
	if (u->bypass_change_until)
		n = min_t(n, u->bypass_change_until);
	if (u->xfer_until > u->t)
		n = min_t(n, u->xfer_until);
	if (!u->output_on)
		n = min_t(n, u->turn_on_at);
	if (u->off == OFF_AT && u->wake_at > u->t)
		n = min_t(n, u->wake_at);
	n = min_t(n, u->linefail_next);
	n = min_t(n, u->replace_next);
	n = min_t(n, u->power_on_alert_at);
	n = min_t(n, u->eeprom_alert_at);
	if (u->p->measure_ups && u->measure_alarm)
		n = min_t(n, u->measure_next);
	n = min_t(n, u->auto_test_at);
	if (u->output_on && u->on_batt) {
		n = min_t(n, charge_crossing(u, 0.0));
		if (!u->lowbatt)
			n = min_t(n, charge_crossing(u, lowbatt_charge(u)));
		if (u->calibrating)
			n = min_t(n, charge_crossing(u, u->p->calibration_stop_pct));
	} else {
		if (u->lowbatt)
			n = min_t(n, charge_crossing(u, lowbatt_charge(u) + 0.01));
		if (!u->output_on && u->turn_on_at == UPS_NEVER)
			n = min_t(n, charge_crossing(u, restart_charge(u)));
	}
	return n;
}

/* ---------- readings ---------- */

static double out_voltage(const struct ups *u)
{
	if (!u->output_on)
		return 0.0;
	if (u->on_batt || u->p->double_conversion)
		return ee_num(u, 'o', u->p->nominal_voltage);
	if (boost(u))
		return u->line_v * u->p->boost_gain;
	if (trim(u))
		return u->line_v * u->p->trim_gain;
	return u->line_v;
}

static double batt_voltage(const struct ups *u)
{
	double nom = u->p->battery_nominal_v;
	if (!u->on_batt)
		return u->p->battery_float_v - (100.0 - u->charge) / 100.0 * nom * 0.08 +
		       u->batt_offset;
	double v = nom * (0.96 + 0.12 * u->charge / 100.0);
	return v - nom * 0.03 * u->load_pct / 100.0 + u->batt_offset;
}

static uint8_t reg_q(const struct ups *u)
{
	uint8_t q = 0;
	if (u->replace)
		q |= UPS_Q_REPLACE;
	if (!u->output_on)
		return q; /* NUT: Q == 0 means OFF */
	if (u->calibrating && !(u->p->family & (UPS_FAM_VS | UPS_FAM_BUP)))
		q |= UPS_Q_CAL;
	if (trim(u) && !(u->p->family & (UPS_FAM_SU2 | UPS_FAM_VS | UPS_FAM_BUP)))
		q |= UPS_Q_TRIM;
	if (boost(u))
		q |= UPS_Q_BOOST;
	q |= u->on_batt ? UPS_Q_ONBATT : UPS_Q_ONLINE;
	if (u->load_pct > 100.0)
		q |= UPS_Q_OVERLOAD;
	if (u->lowbatt)
		q |= UPS_Q_LOWBATT;
	return q;
}

static uint8_t reg_state(const struct ups *u, uint64_t now)
{
	uint8_t s = 0;
	if (!u->output_on)
		s |= (u->off == OFF_K || u->off == OFF_Z) ? 0x40 : 0x80;
	if (u->p->family & UPS_FAM_MATRIX) {
		if (fault_bypass(u))
			s |= 0x02; /* in bypass because of an internal fault */
		if (u->bypass)
			s |= now < u->bypass_change_until ? 0x04 : 0x08;
		else if (now < u->bypass_change_until)
			s |= 0x10;
	}
	return s;
}

static void measure_alarms(struct ups *u)
{
	uint8_t j = 0;
	if (u->ambient_c > ee_num(u, '[', 1e9))
		j |= 0x80;
	if (u->ambient_c < ee_num(u, ']', -1e9))
		j |= 0x40;
	if (u->humidity_pct > ee_num(u, '{', 1e9))
		j |= 0x20;
	if (u->humidity_pct < ee_num(u, '}', -1e9))
		j |= 0x10;
	/* a contact is in alarm when its state differs from its DIP (ULS p.28) */
	j |= (uint8_t)(((u->contacts >> 4) ^ u->contacts) & 0x0F);
	u->jlatch |= j;
}

/* ---------- lifecycle ---------- */

struct ups *ups_new(const struct ups_profile *p, uint64_t now)
{
	struct ups *u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	u->p = p;
	struct codec_config cc = { .two_press_gap_ms = p->two_press_gap_ms,
				   .entry_timeout_ms = p->entry_timeout_ms };
	codec_init(&u->codec, &cc);
	u->t = now;
	u->line_v = p->line_voltage;
	u->line_hz = p->line_freq;
	u->load_pct = p->load_pct;
	u->charge = p->battery_charge;
	u->health = 1.0;
	u->batt_connected = true;
	u->temp_c = p->temperature_c;
	u->ambient_c = p->ambient_c;
	u->humidity_pct = p->humidity_pct;
	u->contacts = p->contacts;
	u->dip = p->dip;
	u->bad_packs = p->bad_packs;
	u->cause = p->transfer_cause ? p->transfer_cause : 'O';
	memcpy(u->result, "NO", 3);
	u->last_test_t = now;
	ee_load(u, false);
	memcpy(u->ups_id, p->ups_id, sizeof u->ups_id);
	if (p->entry_pad_spaces) /* the 8-character field of ULS p.17 */
		for (size_t n = strlen(u->ups_id); n < 8; n++)
			u->ups_id[n] = ' ';
	u->ups_id[8] = '\0';
	memcpy(u->batt_date, p->battery_date, sizeof u->batt_date);
	u->packs = p->battery_packs;
	u->turn_on_at = UPS_NEVER;
	u->linefail_next = u->replace_next = u->eeprom_alert_at = UPS_NEVER;
	u->measure_next = now + 120000;
	u->output_on = true;
	revive(u, now);
	/* the extremes the unit has seen since its last M / N read */
	if (p->line_max > 0)
		u->mmax = p->line_max;
	if (p->line_min > 0)
		u->mmin = p->line_min;
	measure_alarms(u);
	update_source(u, now);
	/* B as the unit reads it at start; the model keeps the offset */
	if (p->battery_start_v > 0)
		u->batt_offset = p->battery_start_v - batt_voltage(u);
	return u; /* a unit that starts on battery announces it with `!` */
}

void ups_free(struct ups *u)
{
	free(u);
}

const struct ups_profile *ups_profile(const struct ups *u)
{
	return u->p;
}

void ups_host_reset(struct ups *u)
{
	codec_reset(&u->codec);
	if (u->lint)
		lint_host_reset(u->lint);
}

void ups_set_lint(struct ups *u, struct lint *l)
{
	u->lint = l;
}

void ups_set_reply_hook(struct ups *u, ups_reply_hook fn, void *ctx)
{
	u->reply_hook = fn;
	u->reply_ctx = ctx;
}

void ups_mute_alerts(struct ups *u, bool mute)
{
	u->alerts_muted = mute;
	if (mute)
		u->n_alerts = 0;
}

static enum ups_rc flush_alerts(struct ups *u, struct ups_buf *out)
{
	enum ups_rc rc = UPS_OK;
	if (u->n_alerts && !u->alerts_muted)
		rc = ups_buf_append(out, u->alerts, u->n_alerts);
	u->n_alerts = 0;
	return rc;
}

enum ups_rc ups_tick(struct ups *u, uint64_t now, struct ups_buf *out)
{
	step(u, now);
	return flush_alerts(u, out);
}

/* ---------- events from outside the wire ---------- */

/* Which bits of `'` and `8` a family reports (ULS p.9-10, protocol-facts
 * §1.3, §1.4); the others read 0. */
static uint8_t trip1_valid(const struct ups *u)
{
	unsigned f = u->p->family;
	if (f & UPS_FAM_MATRIX)
		return 0x3F;
	if (f & UPS_FAM_SU3)
		return 0x50;
	if (f & (UPS_FAM_VS | UPS_FAM_BUP))
		return 0xD0;
	return 0x00;
}

static uint8_t trip_valid(const struct ups *u)
{
	unsigned f = u->p->family;
	if (f & UPS_FAM_MATRIX)
		return 0xFF;
	if (f & (UPS_FAM_SU3 | UPS_FAM_VS | UPS_FAM_BUP))
		return 0x3F;
	return 0x1F;
}

#define TRIP_FAULT_BITS 0xE4    /* 8: bits set from faults (2, 5, 6, 7) */
#define TRIP_ANNOUNCED 0xE6     /* 8: bits whose changes `?`/`=` announce */

/* Derive `'` and the fault bits of `8` from the active faults; a newly set
 * bit is announced with `?`, all bits clear again with `=` (ULS p.9). */
static void fault_registers(struct ups *u)
{
	static const struct { enum ups_fault f; uint8_t t1, t8; } map[] = {
		{ UPS_FAULT_FAN, 0x01, 0 },
		{ UPS_FAULT_ISOLATION_FAN, 0x02, 0 },
		{ UPS_FAULT_BYPASS_SUPPLY, 0x04, 0 },
		{ UPS_FAULT_DC_IMBALANCE, 0x10, 0 },
		{ UPS_FAULT_BOOST_RELAY, 0x40, 0 },
		{ UPS_FAULT_INVERTER, 0x80, 0 },
		{ UPS_FAULT_MAIN_RELAY, 0, 0x04 },
		{ UPS_FAULT_CHARGER, 0, 0x20 },
		{ UPS_FAULT_BYPASS_RELAY, 0, 0x40 },
		{ UPS_FAULT_OVERTEMP, 0, 0x80 },
	};
	uint8_t t1 = 0, t8 = 0;
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (fault(u, map[i].f)) {
			t1 |= map[i].t1;
			t8 |= map[i].t8;
		}
	t1 &= trip1_valid(u);
	t8 &= trip_valid(u);
	uint8_t old1 = u->trip1, old8 = u->trip & TRIP_ANNOUNCED;
	u->trip1 = t1;
	u->trip = (uint8_t)((u->trip & ~TRIP_FAULT_BITS) | t8);
	uint8_t new8 = u->trip & TRIP_ANNOUNCED;
	if ((t1 & ~old1) || (new8 & ~old8)) {
		alert(u, '?');
		u->sent_abnormal = true;
	} else if ((old1 || old8) && !t1 && !new8 && u->sent_abnormal &&
		   u->output_on && has_alert(u, '=')) {
		alert(u, '=');
		u->sent_abnormal = false;
	}
}

/* Faults that take the output with them: the main relay (`8` bit 2), and
 * the inverter (bad output voltage, `'` bit 7) while on battery. */
static bool fault_holds_output_off(const struct ups *u)
{
	return fault(u, UPS_FAULT_MAIN_RELAY) || fault(u, UPS_FAULT_OVERTEMP) ||
	       (fault(u, UPS_FAULT_INVERTER) && u->on_batt);
}

/* Faults that put a Matrix in bypass (`'` bits 0 and 4, ULS p.9). */
static bool fault_bypass(const struct ups *u)
{
	return (u->p->family & UPS_FAM_MATRIX) &&
	       (fault(u, UPS_FAULT_FAN) || fault(u, UPS_FAULT_DC_IMBALANCE));
}

static const char *const ev_names[UPS_EV__COUNT] = {
	[UPS_EV_NONE] = "none", [UPS_EV_LINE] = "line",
	[UPS_EV_LINE_FREQ] = "frequency", [UPS_EV_NOTCH] = "notch",
	[UPS_EV_RATE] = "rate_of_change", [UPS_EV_LOAD] = "load",
	[UPS_EV_CHARGE] = "charge", [UPS_EV_BATT_HEALTH] = "battery_health",
	[UPS_EV_BATT_CONNECTED] = "battery_connected",
	[UPS_EV_BATT_REPLACED] = "battery_replaced",
	[UPS_EV_BAD_PACKS] = "bad_packs", [UPS_EV_PACKS] = "packs",
	[UPS_EV_TEMP] = "temperature", [UPS_EV_AMBIENT] = "ambient",
	[UPS_EV_HUMIDITY] = "humidity", [UPS_EV_CONTACTS] = "contacts",
	[UPS_EV_DIP] = "dip", [UPS_EV_FAULT] = "fault",
	[UPS_EV_BUTTON] = "button", [UPS_EV_CAUSE] = "transfer_cause",
	[UPS_EV_LINE_MINMAX] = "line_minmax", [UPS_EV_SELFTEST] = "self_test",
};

const char *ups_ev_name(enum ups_ev_kind k)
{
	return (unsigned)k < UPS_EV__COUNT ? ev_names[k] : NULL;
}

static const char *const fault_names[UPS_FAULT__COUNT] = {
	[UPS_FAULT_CHARGER] = "charger", [UPS_FAULT_OVERTEMP] = "overtemp",
	[UPS_FAULT_MAIN_RELAY] = "main_relay",
	[UPS_FAULT_BYPASS_RELAY] = "bypass_relay", [UPS_FAULT_FAN] = "fan",
	[UPS_FAULT_ISOLATION_FAN] = "isolation_fan",
	[UPS_FAULT_BYPASS_SUPPLY] = "bypass_supply",
	[UPS_FAULT_INVERTER] = "inverter",
	[UPS_FAULT_BOOST_RELAY] = "boost_relay",
	[UPS_FAULT_DC_IMBALANCE] = "dc_imbalance",
};

const char *ups_fault_name(enum ups_fault f)
{
	return (unsigned)f < UPS_FAULT__COUNT ? fault_names[f] : NULL;
}

enum ups_fault ups_fault_from_name(const char *name)
{
	for (int f = 0; f < UPS_FAULT__COUNT; f++)
		if (name && strcmp(name, fault_names[f]) == 0)
			return (enum ups_fault)f;
	return UPS_FAULT__COUNT;
}

static bool finite_in(double v, double lo, double hi)
{
	return isfinite(v) && v >= lo && v <= hi;
}

/* Range checks: an event out of range changes nothing. */
static bool event_ok(const struct ups_event *ev)
{
	switch (ev->kind) {
	case UPS_EV_LINE:
		return (ev->value < 0 || finite_in(ev->value, 0, 1000)) &&
		       finite_in(ev->value2, 0, 1000);
	case UPS_EV_LINE_FREQ:
		return finite_in(ev->value, 0, 1000);
	case UPS_EV_NOTCH:
	case UPS_EV_RATE:
		return finite_in(ev->value, 0, 86400000.0);
	case UPS_EV_LOAD:
		return finite_in(ev->value, 0, 200);
	case UPS_EV_CHARGE:
		return finite_in(ev->value, 0, 100);
	case UPS_EV_BATT_HEALTH:
		return finite_in(ev->value, 0, 1);
	case UPS_EV_BAD_PACKS:
	case UPS_EV_PACKS:
	case UPS_EV_DIP:
		return ev->ivalue >= 0 && ev->ivalue <= 255;
	case UPS_EV_CONTACTS:
		return ev->ivalue >= 0 && ev->ivalue <= 15;
	case UPS_EV_TEMP:
	case UPS_EV_AMBIENT:
		return finite_in(ev->value, -100, 200);
	case UPS_EV_HUMIDITY:
		return finite_in(ev->value, 0, 100);
	case UPS_EV_FAULT:
		return (unsigned)ev->fault < UPS_FAULT__COUNT;
	case UPS_EV_CAUSE:
		return ev->ivalue > 0x20 && ev->ivalue < 0x7F;
	case UPS_EV_LINE_MINMAX:
		return finite_in(ev->value, 0, 1000) && finite_in(ev->value2, 0, 1000);
	case UPS_EV_BATT_CONNECTED:
	case UPS_EV_BATT_REPLACED:
	case UPS_EV_BUTTON:
	case UPS_EV_SELFTEST:
		return true;
	default:
		return false;
	}
}

static void set_line(struct ups *u, double volts, double hz)
{
	u->line_v = volts;
	if (hz > 0)
		u->line_hz = hz;
	if (u->line_v > u->mmax)
		u->mmax = u->line_v;
	if (u->line_v < u->mmin)
		u->mmin = u->line_v;
}

/* ups_apply() without sending: alerts stay queued in the unit. */
static enum ups_rc apply(struct ups *u, const struct ups_event *ev, uint64_t now)
{
	if (!u || !ev || !event_ok(ev))
		return UPS_EARG;
	step(u, now);
	now = u->t; /* time never runs backwards for the unit */
	switch (ev->kind) {
	case UPS_EV_LINE:
		if (ev->value < 0) /* "on": back to nominal */
			set_line(u, u->p->nominal_voltage, u->p->nominal_freq);
		else
			set_line(u, ev->value, ev->value2);
		break;
	case UPS_EV_LINE_FREQ:
		u->line_hz = ev->value;
		break;
	case UPS_EV_NOTCH:
	case UPS_EV_RATE:
		u->xfer_until = now + (uint64_t)ev->value;
		u->xfer_cause = ev->kind == UPS_EV_NOTCH ? 'T' : 'R';
		break;
	case UPS_EV_LOAD:
		u->load_pct = ev->value;
		break;
	case UPS_EV_CHARGE:
		u->charge = ev->value;
		break;
	case UPS_EV_BATT_HEALTH:
		u->health = ev->value;
		break;
	case UPS_EV_BATT_CONNECTED:
		u->batt_connected = ev->on;
		break;
	case UPS_EV_BATT_REPLACED:
		u->health = 1.0;
		u->batt_connected = true;
		u->replace = false;
		u->state_version++;
		u->replace_next = UPS_NEVER;
		break;
	case UPS_EV_BAD_PACKS:
		u->bad_packs = ev->ivalue;
		break;
	case UPS_EV_PACKS:
		u->packs = ev->ivalue;
		u->state_version++;
		break;
	case UPS_EV_TEMP:
		u->temp_c = ev->value;
		break;
	case UPS_EV_AMBIENT:
		u->ambient_c = ev->value;
		break;
	case UPS_EV_HUMIDITY:
		u->humidity_pct = ev->value;
		break;
	case UPS_EV_CONTACTS:
		/* i: bits 7-4 the contacts, bits 3-0 their DIP switches
		 * (protocol-facts §1.6) */
		u->contacts = (uint8_t)((u->contacts & 0x0F) | ((ev->ivalue & 0x0F) << 4));
		break;
	case UPS_EV_DIP:
		u->dip = (uint8_t)ev->ivalue;
		break;
	case UPS_EV_FAULT:
		if (ev->on)
			u->faults |= 1u << ev->fault;
		else
			u->faults &= ~(1u << ev->fault);
		break;
	case UPS_EV_BUTTON:
		if (ev->on && u->alive && !u->output_on)
			output_on(u);
		else if (!ev->on && u->output_on)
			output_off(u, OFF_BUTTON);
		break;
	case UPS_EV_CAUSE:
		u->cause = (char)ev->ivalue;
		break;
	case UPS_EV_LINE_MINMAX:
		u->mmax = ev->value;
		u->mmin = ev->value2;
		break;
	case UPS_EV_SELFTEST:
		if (can_self_test(u, now))
			start_self_test(u, now);
		break;
	default:
		return UPS_EARG;
	}
	step(u, now);
	return UPS_OK;
}

enum ups_rc ups_apply(struct ups *u, const struct ups_event *ev, uint64_t now,
		      struct ups_buf *out)
{
	enum ups_rc rc = apply(u, ev, now);
	if (rc != UPS_OK)
		return rc;
	return flush_alerts(u, out);
}

/* ---------- environment shortcuts for tests ---------- */

void ups_set_line(struct ups *u, double volts, double hz, uint64_t now)
{
	struct ups_event ev = { .kind = UPS_EV_LINE, .value = volts < 0 ? 0 : volts,
				.value2 = hz < 0 ? 0 : hz };
	if (apply(u, &ev, now) == UPS_OK && hz <= 0)
		u->line_hz = 0; /* tests: 0 Hz is a frequency out of tolerance */
}

void ups_set_load(struct ups *u, double pct, uint64_t now)
{
	struct ups_event ev = { .kind = UPS_EV_LOAD, .value = clampd(pct, 0.0, 200.0) };
	apply(u, &ev, now);
}

void ups_set_battery_health(struct ups *u, bool good, uint64_t now)
{
	struct ups_event ev = { .kind = UPS_EV_BATT_HEALTH, .value = good ? 1.0 : 0.1 };
	apply(u, &ev, now);
}

void ups_get_status(const struct ups *u, uint64_t now, struct ups_status *st)
{
	memset(st, 0, sizeof *st);
	st->smart = u->smart;
	st->alive = u->alive;
	st->output_on = u->output_on;
	st->on_battery = u->on_batt;
	st->q = reg_q(u);
	st->state = reg_state(u, now);
	st->trip1 = u->trip1;
	st->trip = u->trip;
	st->dip = u->dip;
	st->line_v = u->line_v;
	st->line_hz = u->line_hz;
	st->out_v = out_voltage(u);
	st->load_pct = u->output_on ? u->load_pct : 0.0;
	st->charge_pct = u->charge;
	st->batt_v = batt_voltage(u);
	st->temp_c = u->temp_c;
	st->runtime_min = runtime_min(u);
	bool fresh = u->has_result && now - u->result_t < u->p->test_result_ms;
	memcpy(st->test_result, fresh ? u->result : "NO", 3);
	st->transfer_cause = u->cause;
	st->low_battery = u->lowbatt && u->output_on;
	st->shutdown_pending = u->sd != SD_NONE;
	st->shutdown_in_s = st->shutdown_pending && u->sd_at > now ?
			    (double)(u->sd_at - now) / 1000.0 : 0.0;
	st->ambient_c = u->ambient_c;
	st->humidity_pct = u->humidity_pct;
	st->faults = u->faults;
}

/* ---------- `a` and `^Z` ---------- */

size_t ups_caps_string(const struct ups_profile *p, char *buf, size_t len)
{
	size_t n = 0;
#define PUT(c) do { if (n + 1 < len) buf[n] = (char)(c); n++; } while (0)
	for (const char *s = p->level; *s; s++)
		PUT(*s);
	PUT('.');
	for (const char *s = p->alerts; *s; s++)
		PUT(*s);
	PUT('.');
	/* the unit's own list, verbatim: its order, undocumented bytes,
	 * bytes it answers NA (link.commands; ESP SU420, v/s 420, RT) */
	for (const char *s = p->a_commands; *s; s++)
		PUT(*s);
	/* else ascending byte order, as real units list them (facts §2.3) */
	for (int b = 1; b < 256 && !p->a_commands[0]; b++) {
		if (!prof_supports(p, (uint8_t)b))
			continue;
		/* extras (undocumented replies) are answered but not listed,
		 * as on the captured SU420 (protocol-facts §2.3, AUD-MAINT) */
		const struct cmd_def *row = cmd_lookup((uint8_t)b);
		if (!row || (row->flags & CF_NOT_IN_A) ||
		    prof_extra(p, (uint8_t)b))
			continue;
		PUT(b);
	}
	if (p->a_extension[0]) {
		PUT('.');
		for (const char *s = p->a_extension; *s; s++)
			PUT(*s);
	}
#undef PUT
	if (len)
		buf[n < len ? n : len - 1] = '\0';
	return n;
}

/* ^Z items in the order real units print them (ULS p.15 example). */
static const char uls_dump_order[] = "uleosqpkrEw";

/* Appends to a caller's buffer as snprintf does: counts everything. */
struct strbuf {
	char *buf;
	size_t cap, n;
};

static void sb_put(struct strbuf *sb, const char *s, size_t n)
{
	if (sb->n < sb->cap) {
		size_t room = sb->cap - sb->n;
		memcpy(sb->buf + sb->n, s, n < room ? n : room);
	}
	sb->n += n;
}

/* Does the dump carry @p cmd's own list (the unit answers it)? */
static bool own_in_dump(const struct ups_profile *p, uint8_t cmd)
{
	return cmd < 128 && p->eeprom[cmd].present && prof_supports(p, cmd) &&
	       !prof_extra(p, cmd);
}

/* The unit's own item for @p cmd: command, locale, count, width, values. */
static void own_item(struct strbuf *sb, const struct ups_profile *p,
		     uint8_t cmd)
{
	const struct prof_enum *e = &p->eeprom[cmd];
	char head[4] = { (char)cmd, e->locale, (char)('0' + e->count),
			 (char)('0' + e->width) };
	if (p->dump_double_hash)
		sb_put(sb, "##", 2);
	sb_put(sb, head, sizeof head);
	for (int i = 0; i < e->count; i++)
		sb_put(sb, e->values[i], (size_t)e->width);
}

static void extra_item(struct strbuf *sb, const struct ups_profile *p, int i)
{
	if (p->dump_double_hash)
		sb_put(sb, "##", 2);
	sb_put(sb, p->dump_extra[i], strlen(p->dump_extra[i]));
}

/*
 * `#`, then the items: in the unit's own order when the profile gives
 * dump_order (each item named by command and locale; the loader checks
 * that every item is named once), else per command in the ULS order, the
 * unit's own list first and the other voltage versions' after it.
 */
size_t ups_dump_string(const struct ups_profile *p, char *buf, size_t len)
{
	struct strbuf sb = { buf, len ? len - 1 : 0, 0 };
	sb_put(&sb, "#", 1);
	for (int k = 0; k < p->n_dump_order; k++) {
		uint8_t cmd = p->dump_order[k][0];
		char loc = (char)p->dump_order[k][1];
		if (own_in_dump(p, cmd) && p->eeprom[cmd].locale == loc) {
			own_item(&sb, p, cmd);
			continue;
		}
		for (int i = 0; i < p->n_dump_extra; i++)
			if ((uint8_t)p->dump_extra[i][0] == cmd &&
			    p->dump_extra[i][1] == loc) {
				extra_item(&sb, p, i);
				break;
			}
	}
	for (const char *c = uls_dump_order; *c && !p->n_dump_order; c++) {
		uint8_t cmd = (uint8_t)*c;
		if (own_in_dump(p, cmd))
			own_item(&sb, p, cmd);
		for (int i = 0; i < p->n_dump_extra; i++)
			if ((uint8_t)p->dump_extra[i][0] == cmd)
				extra_item(&sb, p, i);
	}
	if (len)
		buf[sb.n < len ? sb.n : len - 1] = '\0';
	return sb.n;
}

/*
 * The `a` reply cannot outgrow UPS_REPLY_MAX whatever the profile says:
 * level, alerts (plus the Measure-UPS `&`), 255 command bytes, extension.
 */
_Static_assert(sizeof ((struct ups_profile *)0)->level +
	       sizeof ((struct ups_profile *)0)->alerts + 255 +
	       sizeof ((struct ups_profile *)0)->a_commands +
	       sizeof ((struct ups_profile *)0)->a_extension <= UPS_REPLY_MAX,
	       "the `a` reply may not fit in a reply");

/* The bytes of the serial as the profile gives them: trailing spaces
 * and NUL padding included (NUT #180, facts §2.5). */
static size_t serial_bytes(const struct ups_profile *p)
{
	size_t n = strlen(p->serial);
	while (n < p->serial_len && n < sizeof p->serial && !p->serial[n])
		n++;
	return n;
}

/* Replies built from numbers and fixed words ("CLEAR", "%06.2f" ...). */
#define FIXED_REPLY_MAX 8

static size_t max_z(size_t a, size_t b)
{
	return a > b ? a : b;
}

size_t ups_reply_max(const struct ups_profile *p)
{
	size_t m = FIXED_REPLY_MAX;
	m = max_z(m, ups_dump_string(p, NULL, 0));
	m = max_z(m, ups_caps_string(p, NULL, 0));
	m = max_z(m, serial_bytes(p) + (p->serial_nuls ? 2 : 0));
	static const size_t strings[] = {
		offsetof(struct ups_profile, model),
		offsetof(struct ups_profile, firmware_v),
		offsetof(struct ups_profile, firmware_b),
		offsetof(struct ups_profile, mfr_date),
		offsetof(struct ups_profile, battery_date),
		offsetof(struct ups_profile, ups_id),
		offsetof(struct ups_profile, copyright),
		offsetof(struct ups_profile, shutdown_ok),
		offsetof(struct ups_profile, measure_fw),
	};
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		m = max_z(m, strlen((const char *)p + strings[i]));
	for (int i = 0; i < p->n_extras; i++)
		m = max_z(m, strlen(p->extras[i].reply));
	return m;
}

/* ---------- handlers ---------- */

UPS_HANDLER(h_smart)
{
	(void)ev; (void)now;
	u->smart = true;
	reply_str(r, "SM");
}

UPS_HANDLER(h_ok)
{
	(void)u; (void)ev; (void)now;
	reply_str(r, "OK");
}

static bool shutdown_pending(const struct ups *u)
{
	return u->sd != SD_NONE || !u->output_on;
}

static uint64_t shutdown_delay_ms(const struct ups *u)
{
	return (uint64_t)(ee_num(u, 'p', 20.0) * 1000.0);
}

UPS_HANDLER(h_turn_off_delay)
{
	if (ev->type != CODEC_EV_PRESS2)
		return; /* first press: silence, NUT peeks for it */
	if (shutdown_pending(u)) {
		reply_str(r, "NA");
		return;
	}
	u->sd = SD_K;
	u->sd_at = now + shutdown_delay_ms(u);
	reply_str(r, u->p->shutdown_ok);
}

UPS_HANDLER(h_shutdown_battery)
{
	(void)ev;
	if (shutdown_pending(u) || (!u->on_batt && !u->p->s_on_line_ok)) {
		reply_str(r, "NA");
		return;
	}
	u->sd = SD_S;
	u->sd_at = now + shutdown_delay_ms(u);
	reply_str(r, "OK");
}

UPS_HANDLER(h_sim_fail)
{
	(void)ev;
	if (!u->output_on || u->on_batt || u->sd != SD_NONE) {
		reply_str(r, "NA");
		return;
	}
	u->simfail_until = now + u->p->sim_fail_ms;
	update_source(u, now);
	reply_str(r, "OK");
}

UPS_HANDLER(h_self_test)
{
	(void)ev;
	if (!u->output_on || u->on_batt || u->sd != SD_NONE) {
		reply_str(r, "NA");
		return;
	}
	start_self_test(u, now);
	reply_str(r, "OK");
}

UPS_HANDLER(h_turn_off_now)
{
	if (ev->type != CODEC_EV_PRESS2)
		return;
	if (shutdown_pending(u)) {
		reply_str(r, "NA");
		return;
	}
	reply_str(r, u->p->shutdown_ok);
	output_off(u, OFF_Z);
	update_source(u, now);
}

UPS_HANDLER(h_sleep_at)
{
	if (ev->type != CODEC_EV_AT)
		return; /* `@` alone: wait for the digits */
	if (shutdown_pending(u)) {
		reply_str(r, "NA");
		return;
	}
	u->sd = SD_AT;
	u->sd_at = now + shutdown_delay_ms(u);
	/* ddd tenths of an hour = ddd * 6 minutes (ULS p.4) */
	u->wake_at = u->sd_at + (uint64_t)ev->value * 360000u;
	reply_str(r, u->p->shutdown_ok);
}

UPS_HANDLER(h_abort)
{
	(void)ev;
	if (u->sd != SD_NONE) {
		u->sd = SD_NONE;
		reply_str(r, "OK");
		return;
	}
	/* DEL also wakes a unit from @ddd sleep or S shutdown, even if the
	 * line is bad (ULS p.5); after K has completed the UPS stays off. */
	if (!u->output_on && (u->off == OFF_AT || u->off == OFF_S)) {
		output_on(u);
		update_source(u, now);
		reply_str(r, "OK");
		return;
	}
	reply_str(r, "NO");
}

UPS_HANDLER(h_calibrate)
{
	(void)ev;
	if (u->calibrating) {
		u->calibrating = false; /* second D aborts (ULS p.5) */
		update_source(u, now);
		reply_str(r, "OK");
		return;
	}
	if (!u->output_on || u->on_batt || u->sd != SD_NONE) {
		reply_str(r, "NA");
		return;
	}
	if (u->charge < 99.95) {
		reply_str(r, "NO");
		return;
	}
	u->calibrating = true;
	update_source(u, now);
	reply_str(r, "OK");
}

UPS_HANDLER(h_bypass)
{
	(void)ev;
	if (!u->output_on || u->on_batt || now < u->bypass_change_until) {
		reply_str(r, "ERR");
		return;
	}
	u->bypass = !u->bypass;
	u->bypass_change_until = now + u->p->bypass_ms;
	update_source(u, now);
	reply_str(r, u->bypass ? "BYP" : "INV");
}

UPS_HANDLER(h_turn_on)
{
	(void)r;
	if (ev->type != CODEC_EV_PRESS2)
		return;
	/* Like the front-panel ON button; ULS documents no reply. */
	if (!u->output_on) {
		u->sd = SD_NONE;
		output_on(u);
		update_source(u, now);
	}
}

UPS_HANDLER(h_dumb)
{
	(void)ev; (void)now;
	u->smart = false;
	reply_str(r, "BYE");
}

UPS_HANDLER(h_test_result)
{
	(void)ev;
	bool fresh = u->has_result && now - u->result_t < u->p->test_result_ms;
	reply_str(r, fresh ? u->result : "NO");
}

/* `>` query; `+`/`-` after it are edits and arrive at h_edit */
UPS_HANDLER(h_packs)
{
	(void)ev; (void)now;
	reply_fmt(r, "%03d", u->packs);
}

UPS_HANDLER(h_bad_packs)
{
	(void)ev; (void)now;
	reply_fmt(r, "%03d", u->bad_packs);
}

UPS_HANDLER(h_cause)
{
	(void)ev; (void)now;
	reply_fmt(r, "%c", u->cause);
}

UPS_HANDLER(h_fw_v)
{
	(void)ev; (void)now;
	reply_str(r, u->p->firmware_v[0] ? u->p->firmware_v : "NA");
}

UPS_HANDLER(h_batt_nominal)
{
	(void)ev; (void)now;
	reply_fmt(r, "%03d", (int)lround(u->p->battery_nominal_v));
}

UPS_HANDLER(h_charge)
{
	(void)ev; (void)now;
	reply_fmt(r, "%05.1f", clampd(u->charge, 0, 100));
}

UPS_HANDLER(h_line_quality)
{
	(void)ev; (void)now;
	reply_str(r, line_in_window(u) ? "FF" : "00");
}

UPS_HANDLER(h_reg_q)
{
	(void)ev; (void)now;
	reply_fmt(r, "%02X", reg_q(u));
}

UPS_HANDLER(h_reg_state)
{
	(void)ev;
	reply_fmt(r, "%02X", reg_state(u, now));
}

UPS_HANDLER(h_reg_trip1)
{
	(void)ev; (void)now;
	reply_fmt(r, "%02X", u->trip1);
}

UPS_HANDLER(h_reg_trip)
{
	(void)ev; (void)now;
	reply_fmt(r, "%02X", u->trip);
}

UPS_HANDLER(h_reg_dip)
{
	(void)ev; (void)now;
	reply_fmt(r, "%02X", u->dip);
}

UPS_HANDLER(h_serial)
{
	(void)ev; (void)now;
	reply_raw(r, u->p->serial, serial_bytes(u->p));
	if (u->p->serial_nuls)
		reply_raw(r, "\0\0", 2); /* protocol-facts §2.5: real units */
}

UPS_HANDLER(h_mfr_date)
{
	(void)ev; (void)now;
	reply_str(r, u->p->mfr_date);
}

UPS_HANDLER(h_runtime)
{
	(void)ev; (void)now;
	if (!u->output_on) {
		reply_str(r, ">>>>:"); /* ULS p.11: undeterminable */
		return;
	}
	double m = floor(runtime_min(u));
	reply_fmt(r, "%04d:", (int)clampd(m, 0, 9999));
}

UPS_HANDLER(h_copyright)
{
	(void)ev; (void)now;
	reply_str(r, u->p->copyright);
}

UPS_HANDLER(h_caps)
{
	(void)ev; (void)now;
	char buf[UPS_REPLY_MAX + 1];
	size_t n = ups_caps_string(u->p, buf, sizeof buf);
	reply_raw(r, buf, n < sizeof buf ? n : sizeof buf - 1);
}

UPS_HANDLER(h_fw_b)
{
	(void)ev; (void)now;
	reply_str(r, u->p->firmware_b[0] ? u->p->firmware_b : "NA");
}

UPS_HANDLER(h_model)
{
	(void)ev; (void)now;
	reply_str(r, u->p->model);
}

UPS_HANDLER(h_current)
{
	(void)ev; (void)now;
	double va = u->p->rated_va * (u->output_on ? u->load_pct : 0) / 100.0;
	double v = out_voltage(u);
	reply_fmt(r, "%05.2f", clampd(v > 1 ? va / v : 0, 0, 99.99));
}

UPS_HANDLER(h_apparent)
{
	(void)ev; (void)now;
	reply_fmt(r, "%06.2f", clampd(u->output_on ? u->load_pct : 0, 0, 999.99));
}

/* dd.dd (ULS p.13); packs of 100 V and more answer ddd.d: a 192 V RT
 * 3000 XL sends 218.1 (NUT-DDL), an RT 10000 XL 219.2 (NUT #180) */
UPS_HANDLER(h_batt_v)
{
	(void)ev; (void)now;
	if (u->p->battery_nominal_v >= 100)
		reply_fmt(r, "%05.1f", clampd(batt_voltage(u), 0, 999.9));
	else
		reply_fmt(r, "%05.2f", clampd(batt_voltage(u), 0, 99.99));
}

UPS_HANDLER(h_temp)
{
	(void)ev; (void)now;
	reply_fmt(r, "%05.1f", clampd(u->temp_c, -99.9, 999.9));
}

UPS_HANDLER(h_freq)
{
	(void)ev; (void)now;
	double f = u->on_batt || !line_present(u) ? u->p->nominal_freq : u->line_hz;
	reply_fmt(r, "%05.2f", clampd(f, 0, 99.99));
}

UPS_HANDLER(h_line_v)
{
	(void)ev; (void)now;
	reply_fmt(r, "%05.1f", clampd(u->line_v, 0, 999.9));
}

/* M and N report the extreme since the previous read, then reset (ULS p.13) */
UPS_HANDLER(h_line_max)
{
	(void)ev; (void)now;
	reply_fmt(r, "%05.1f", clampd(u->mmax, 0, 999.9));
	u->mmax = u->line_v;
}

UPS_HANDLER(h_line_min)
{
	(void)ev; (void)now;
	reply_fmt(r, "%05.1f", clampd(u->mmin, 0, 999.9));
	u->mmin = u->line_v;
}

UPS_HANDLER(h_out_v)
{
	(void)ev; (void)now;
	reply_fmt(r, "%05.1f", clampd(out_voltage(u), 0, 999.9));
}

UPS_HANDLER(h_load)
{
	(void)ev; (void)now;
	reply_fmt(r, "%05.1f", clampd(u->output_on ? u->load_pct : 0, 0, 999.9));
}

UPS_HANDLER(h_dump)
{
	(void)ev; (void)now;
	char buf[UPS_REPLY_MAX + 1];
	size_t n = ups_dump_string(u->p, buf, sizeof buf);
	reply_raw(r, buf, n < sizeof buf ? n : sizeof buf - 1);
}

UPS_HANDLER(h_reset_eeprom)
{
	(void)ev;
	ee_load(u, true); /* everything but c and x (ULS p.16) */
	eeprom_changed(u, now);
	reply_str(r, "CLEAR");
}

/* `-` after a customizing command, `+`/`-` after `>` (ULS p.16, p.22). */
UPS_HANDLER(h_edit)
{
	if (ev->type != CODEC_EV_EDIT) {
		reply_str(r, "NA"); /* a lone `+` */
		return;
	}
	uint8_t t = ev->target;
	if (t == '>') {
		if (!u->p->packs_editable || !table_answers(u->p, '>')) {
			reply_str(r, "NA");
			return;
		}
		if (ev->cmd == '+' && u->packs < 255)
			u->packs++;
		else if (ev->cmd == '-' && u->packs > 0)
			u->packs--;
		eeprom_changed(u, now);
		reply_fmt(r, "%03d", u->packs);
		return;
	}
	const struct cmd_def *row = cmd_lookup(t);
	if (ev->cmd != '-' || !row || !table_answers(u->p, t) ||
	    !(row->flags & (CF_EDITABLE | CF_ENTRY))) {
		reply_str(r, "NA");
		return;
	}
	if (u->dip & u->p->dip_edit_mask) {
		reply_str(r, "NO"); /* a DIP switch is OFF (ULS p.10, p.16) */
		return;
	}
	if (row->flags & CF_ENTRY) {
		codec_begin_entry(&u->codec, t, t == 'I' ? 2 : 8);
		return; /* the UPS answers after the last character */
	}
	const struct prof_enum *e = ee(u, t);
	if (!e || e->count < 2) {
		reply_str(r, "NO");
		return;
	}
	u->ee_idx[t] = (uint8_t)((u->ee_idx[t] + 1) % e->count);
	eeprom_changed(u, now);
	reply_str(r, "OK");
}

UPS_HANDLER(h_setting)
{
	(void)now;
	const char *v = ee_value(u, ev->cmd);
	reply_str(r, v ? v : "NO"); /* e.g. Matrix answers NO to l and e */
}

/*
 * c / x direct entry (docs/profiles.md, "Direct entry").  The codec hands
 * over the text before the first CR (NUT pads with CRs, apcupsd with
 * spaces).  The text follows the profile loader's rule for
 * identity.ups_id / battery_date: printable ASCII without UPS-Link alert
 * characters (PROF_ALERT_CHARS; hosts pull those out of every reply as
 * alerts), and, with behaviour.entry_hyphen: refuse, no `-` (ULS p.17-18).
 * Anything else refuses the whole entry with NO, the reply of a refused
 * edit (ULS p.16): the old value stays and NUT and apcupsd report the
 * failure.  The date's format is not checked: no source says a unit does,
 * and NUT types dates such as "11/6/03".
 */
static bool entry_text_ok(const struct ups *u, const struct codec_event *ev)
{
	for (size_t i = 0; i < ev->len; i++) {
		uint8_t b = (uint8_t)ev->text[i];
		if (b < 0x20 || b > 0x7E || strchr(PROF_ALERT_CHARS, b))
			return false;
		if (b == '-' && u->p->entry_hyphen_refused)
			return false;
	}
	return true;
}

/* Store an accepted entry in @p dst (9 bytes): as typed, or padded to 8
 * with spaces under behaviour.entry_pad: spaces (the ULS p.17 field). */
static void entry_store(struct ups *u, const struct codec_event *ev,
			char dst[9], uint64_t now, struct ups_reply *r)
{
	if (!entry_text_ok(u, ev)) {
		reply_str(r, "NO");
		return;
	}
	size_t n = ev->len < 8 ? ev->len : 8;
	memcpy(dst, ev->text, n);
	if (u->p->entry_pad_spaces)
		for (; n < 8; n++)
			dst[n] = ' ';
	dst[n] = '\0';
	eeprom_changed(u, now);
	reply_str(r, "OK");
}

UPS_HANDLER(h_ups_id)
{
	if (ev->type == CODEC_EV_ENTRY) {
		entry_store(u, ev, u->ups_id, now, r);
		return;
	}
	reply_str(r, u->ups_id);
}

UPS_HANDLER(h_batt_date)
{
	if (ev->type == CODEC_EV_ENTRY) {
		entry_store(u, ev, u->batt_date, now, r);
		return;
	}
	reply_str(r, u->batt_date);
}

UPS_HANDLER(h_ambient)
{
	(void)ev; (void)now;
	reply_fmt(r, "%05.2f", clampd(u->ambient_c, 0, 99.99));
}

UPS_HANDLER(h_humidity)
{
	(void)ev; (void)now;
	reply_fmt(r, "%05.1f", clampd(u->humidity_pct, 0, 100));
}

UPS_HANDLER(h_measure_fw)
{
	(void)ev; (void)now;
	reply_str(r, u->p->measure_fw);
}

UPS_HANDLER(h_contacts)
{
	(void)ev; (void)now;
	reply_fmt(r, "%02X", u->contacts);
}

UPS_HANDLER(h_alarms)
{
	(void)ev; (void)now;
	reply_fmt(r, "%02X", u->jlatch);
	u->jlatch = 0; /* latched until read and normal again (ULS p.28) */
	measure_alarms(u);
}

UPS_HANDLER(h_alarm_enable)
{
	if (ev->type == CODEC_EV_ENTRY) {
		u->alarm_enable = (uint8_t)strtoul(ev->text, NULL, 16);
		eeprom_changed(u, now);
		reply_str(r, "OK");
		return;
	}
	reply_fmt(r, "%02X", u->alarm_enable);
}

UPS_HANDLER(h_since_test)
{
	(void)ev;
	double h = (double)(now - u->last_test_t + u->test_age0) / MS_PER_H;
	reply_fmt(r, "%05.1f", clampd(h, 0, 999.9));
}

/* ---------- dispatcher ---------- */

static uint8_t event_byte(const struct codec_event *ev)
{
	switch (ev->type) {
	case CODEC_EV_AT:
	case CODEC_EV_AT_START:
		return '@';
	case CODEC_EV_ENTRY:
		return ev->target;
	default:
		return ev->cmd;
	}
}

static bool interlocked(const struct ups *u)
{
	/* ULS p.3, p.5: after an accepted S, and during calibration */
	return u->sd == SD_S || u->off == OFF_S || u->calibrating;
}

static void dispatch(struct ups *u, const struct codec_event *ev, uint64_t now,
		     struct ups_reply *r)
{
	uint8_t b = event_byte(ev);
	const struct cmd_def *row = cmd_lookup(b);

	if (!u->smart) {
		/* dumb mode: before Y and after R only Y is heard (ULS p.3, p.6) */
		if (ev->type == CODEC_EV_CMD && row && (row->flags & CF_DUMB_OK))
			row->fn(u, ev, now, r);
		else
			codec_cancel(&u->codec);
		return;
	}
	if (u->reply_hook) { /* replay.h: a recorded unit's answer */
		size_t n = 0;
		bool present = true;
		if (u->reply_hook(u->reply_ctx, ev, now, (uint8_t *)r->buf,
				  sizeof r->buf, &n, &present)) {
			if (present && (ev->type == CODEC_EV_PRESS1 ||
					ev->type == CODEC_EV_AT_START))
				codec_cancel(&u->codec);
			if (present) { /* the hook wrote into r->buf */
				r->len = n < sizeof r->buf ? n : sizeof r->buf;
				r->present = true;
			}
			return;
		}
	}
	/* a fixed reply wins: the loader allows one only for a byte the
	 * table does not answer for this profile (docs/profiles.md) */
	const struct prof_extra *x = prof_extra(u->p, b);
	if (x || !row || !prof_supports(u->p, b)) {
		codec_cancel(&u->codec);
		if (x)
			reply_str(r, x->reply);
		else if (!u->p->unsupported_silent)
			reply_str(r, "NA");
		return;
	}
	if ((row->flags & CF_INTERLOCK) && interlocked(u)) {
		codec_cancel(&u->codec);
		reply_str(r, "NA");
		return;
	}
	row->fn(u, ev, now, r);
}

enum ups_rc ups_feed(struct ups *u, const uint8_t *bytes, size_t n,
		     uint64_t now, struct ups_buf *out)
{
	return ups_feed_at(u, bytes, n, now, now, out);
}

enum ups_rc ups_feed_at(struct ups *u, const uint8_t *bytes, size_t n,
			uint64_t now, uint64_t wire_ms, struct ups_buf *out)
{
	enum ups_rc rc = UPS_OK;
	step(u, now);
	for (size_t i = 0; i < n && rc == UPS_OK; i++) {
		if (!u->alive)
			break; /* electronics off: nothing is heard */
		struct codec_event ev;
		if (u->lint)
			lint_byte(u->lint, bytes[i], wire_ms, &u->codec);
		/* the wire's own rules (two-press gap, entry timeout) run on
		 * the line's real clock, whatever the model's speed */
		bool got = codec_feed(&u->codec, bytes[i], wire_ms, &ev);
		if (u->lint)
			lint_event(u->lint, &ev, wire_ms, u->smart);
		if (!got)
			continue;
		struct ups_reply r = { 0 };
		dispatch(u, &ev, now, &r);
		if (u->lint)
			lint_reply(u->lint, &ev, r.buf, r.len, r.present, wire_ms);
		step(u, now);
		/* alerts first: they never split a reply */
		rc = flush_alerts(u, out);
		if (rc == UPS_OK && r.present) {
			rc = ups_buf_append(out, r.buf, r.len);
			if (rc == UPS_OK)
				rc = ups_buf_append(out, "\r\n", 2);
		}
	}
	if (rc == UPS_OK)
		rc = flush_alerts(u, out);
	return rc;
}
