/*
 * test_model_spec.c - the model held against the UPS-Link spec (ULS) and
 * protocol-facts.md, scenario by scenario under virtual time: alerts and
 * their pairing, registers, shutdown/restart timing, interlocks, edits,
 * battery physics, Measure-UPS alarms.  Tests named regress_* each
 * reproduce a defect an independent review found (and that is fixed);
 * the comment above each cites the spec.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/cmdtab.h"
#include "upssim/profile.h"
#include "upssim/ups.h"
#include "vt_fixture.h"

#define SEC 1000ull
#define MIN (60ull * SEC)
#define HOUR (60ull * MIN)

static struct fx *smart_p(void (*tweak)(struct ups_profile *))
{
	return smart_prof(PROF_DEFAULT_NAME, tweak);
}

static struct fx *smart(void)
{
	return smart_p(NULL);
}

static void line_off(struct fx *f)
{
	ups_set_line(f->u, 0, 0, f->t);
	collect(f);
}

/* 80 V: below l = 103, so the unit is on battery, but the electronics
 * stay powered and keep answering (as test_model.c does) */
static void brownout(struct fx *f)
{
	ups_set_line(f->u, 80, f->p.line_freq, f->t);
	collect(f);
}

static void line_on(struct fx *f)
{
	ups_set_line(f->u, f->p.line_voltage, f->p.line_freq, f->t);
	collect(f);
}

static void two_press(struct fx *f, const char *b, const char *want)
{
	assert_string_equal(ask(f, b), "");
	f->t += 1600;
	assert_string_equal(ask(f, b), want);
}

/* Run on battery until `%` (low battery) has been sent. */
static void run_to_lowbatt(struct fx *f)
{
	for (int i = 0; i < 200 && !strchr(f->al, '%'); i++)
		adv(f, 15 * SEC);
	assert_non_null(strchr(f->al, '%'));
}

static int count(const char *s, char c)
{
	int n = 0;
	for (; *s; s++)
		n += *s == c;
	return n;
}

/* ================================================================== */
/* ok_*: correct behaviour                                            */
/* ================================================================== */

/* ULS p.2-3: dumb until Y; `?` at power-on; R -> BYE and dumb again */
static void ok_dumb_mode_and_power_on_alert(void **st)
{
	(void)st;
	struct fx *f = fx_new_p(PROF_DEFAULT_NAME, NULL);
	at(f, 5);
	assert_string_equal(take(f), "?");
	assert_string_equal(send(f, "QfLK@001-"), "");
	assert_string_equal(send(f, "Y"), "SM\r\n");
	assert_string_equal(send(f, "Q"), "08\r\n");
	assert_string_equal(send(f, "R"), "BYE\r\n");
	assert_string_equal(send(f, "Q"), "");
	assert_string_equal(send(f, "Y"), "SM\r\n");
	fx_free(f);
}

/* ULS p.24: `!` on transfer, every 30 s until low battery, then `%`; no
 * more `!` after `%`; `$` and (after recharge) `+` when the line returns */
static void ok_linefail_repeat_and_lowbatt(void **st)
{
	(void)st;
	struct fx *f = smart();
	line_off(f);
	adv(f, 0);
	assert_string_equal(take(f), "!");
	adv(f, 30 * SEC);
	assert_string_equal(take(f), "!");
	adv(f, 30 * SEC);
	assert_string_equal(take(f), "!");
	run_to_lowbatt(f);
	take(f);
	assert_string_equal(ask(f, "Q"), "50\r\n");
	adv(f, 60 * SEC);
	assert_string_equal(take(f), ""); /* no `!` after low battery */
	line_on(f);
	adv(f, 10);
	assert_string_equal(take(f), "$");
	assert_string_equal(ask(f, "Q"), "48\r\n"); /* LB until recharged */
	adv(f, 30 * MIN);
	assert_string_equal(take(f), "+");
	assert_string_equal(ask(f, "Q"), "08\r\n");
	fx_free(f);
}

/* j counts down one minute per minute on battery; low battery when j <= q */
static void ok_runtime_minute_per_minute(void **st)
{
	(void)st;
	struct fx *f = smart();
	int j0 = atoi(ask(f, "j"));
	line_off(f);
	adv(f, 5 * MIN);
	int j5 = atoi(ask(f, "j"));
	assert_in_range(j0 - j5, 4, 6);
	run_to_lowbatt(f);
	int j = atoi(ask(f, "j"));
	assert_true(j <= 2); /* q = 02 */
	assert_true(j >= 1);
	fx_free(f);
}

/* K..K: OK, output off after p (20 s), ~ = 40; p edited to 180 is used;
 * DEL during the delay aborts (OK), after it NO and the unit stays off */
static void ok_k_timing_and_del(void **st)
{
	(void)st;
	struct fx *f = smart();
	two_press(f, "K", "OK\r\n");
	adv(f, 19 * SEC);
	assert_string_equal(ask(f, "Q"), "08\r\n");
	assert_string_equal(ask(f, "\x7f"), "OK\r\n");
	adv(f, 5 * SEC);
	assert_string_equal(ask(f, "Q"), "08\r\n"); /* aborted */
	assert_string_equal(ask(f, "p"), "020\r\n");
	assert_string_equal(ask(f, "-"), "OK\r\n");
	assert_string_equal(ask(f, "p"), "180\r\n");
	two_press(f, "K", "OK\r\n");
	adv(f, 179 * SEC);
	assert_string_equal(ask(f, "Q"), "08\r\n");
	adv(f, 2 * SEC);
	assert_string_equal(ask(f, "Q"), "00\r\n");
	assert_string_equal(ask(f, "~"), "40\r\n");
	assert_string_equal(ask(f, "\x7f"), "NO\r\n"); /* K completed */
	adv(f, 10 * MIN);
	assert_string_equal(ask(f, "Q"), "00\r\n"); /* stays off */
	fx_free(f);
}

/* K..K on battery: the output does not return with the line (ULS p.3) */
static void ok_k_on_battery_stays_off(void **st)
{
	(void)st;
	struct fx *f = smart();
	brownout(f);
	two_press(f, "K", "OK\r\n");
	adv(f, 21 * SEC);
	assert_string_equal(ask(f, "Q"), "00\r\n");
	line_on(f);
	adv(f, 10 * MIN);
	assert_string_equal(ask(f, "Q"), "00\r\n");
	two_press(f, "\x0e", ""); /* ^N^N: front-panel ON */
	assert_string_equal(ask(f, "Q"), "08\r\n");
	fx_free(f);
}

/* Two presses less than the gap apart, or with another byte between,
 * are not a command (ULS p.3) */
static void ok_two_press_rules(void **st)
{
	(void)st;
	struct fx *f = smart();
	assert_string_equal(ask(f, "Z"), "");
	f->t += 300;
	assert_string_equal(ask(f, "Z"), "");
	assert_string_equal(ask(f, "Q"), "08\r\n");
	assert_string_equal(ask(f, "Z"), "");
	f->t += 1600;
	assert_string_equal(ask(f, "Q"), "08\r\n");
	f->t += 100;
	assert_string_equal(ask(f, "Z"), "");    /* a new first press */
	assert_string_equal(ask(f, "Q"), "08\r\n");
	fx_free(f);
}

/* Z..Z is immediate; DEL then answers NO */
static void ok_z_immediate(void **st)
{
	(void)st;
	struct fx *f = smart();
	two_press(f, "Z", "OK\r\n");
	assert_string_equal(ask(f, "Q"), "00\r\n");
	assert_string_equal(ask(f, "~"), "40\r\n");
	assert_string_equal(ask(f, "\x7f"), "NO\r\n");
	fx_free(f);
}

/* S: NA on line; on battery OK, off after p with 8 bit 4, interlock of
 * K U W Z @ - (NA), back on when the line returns, 8 cleared */
static void ok_s_shutdown_and_interlock(void **st)
{
	(void)st;
	struct fx *f = smart();
	assert_string_equal(ask(f, "S"), "NA\r\n");
	brownout(f);
	take(f);
	assert_string_equal(ask(f, "S"), "OK\r\n");
	assert_string_equal(ask(f, "U"), "NA\r\n");
	assert_string_equal(ask(f, "W"), "NA\r\n");
	assert_string_equal(ask(f, "K"), "NA\r\n");
	assert_string_equal(ask(f, "Z"), "NA\r\n");
	assert_string_equal(ask(f, "@"), "NA\r\n");
	assert_string_equal(ask(f, "u"), "132\r\n");
	assert_string_equal(ask(f, "-"), "NA\r\n");
	adv(f, 19 * SEC);
	assert_string_equal(ask(f, "Q"), "10\r\n");
	adv(f, 2 * SEC);
	assert_string_equal(ask(f, "Q"), "00\r\n");
	assert_string_equal(ask(f, "8"), "10\r\n");
	assert_string_equal(ask(f, "~"), "80\r\n");
	line_on(f);
	adv(f, 10);
	assert_string_equal(ask(f, "Q"), "08\r\n");
	assert_string_equal(ask(f, "8"), "00\r\n");
	assert_string_equal(ask(f, "U"), "OK\r\n"); /* interlock gone */
	fx_free(f);
}

/* S return: waits r after the line returns, and for charge >= e */
static void ok_s_return_waits_for_r_and_e(void **st)
{
	(void)st;
	struct fx *f = smart();
	assert_string_equal(ask(f, "r"), "000\r\n");
	assert_string_equal(ask(f, "-"), "OK\r\n"); /* r = 060 */
	assert_string_equal(ask(f, "e"), "00\r\n");
	assert_string_equal(ask(f, "-"), "OK\r\n");
	assert_string_equal(ask(f, "-"), "OK\r\n"); /* e = 50 */
	assert_string_equal(ask(f, "e"), "50\r\n");
	brownout(f);
	adv(f, 15 * MIN); /* well below 50 % */
	assert_true(atof(ask(f, "f")) < 50.0);
	assert_string_equal(ask(f, "S"), "OK\r\n");
	adv(f, 21 * SEC);
	assert_string_equal(ask(f, "Q"), "00\r\n");
	line_on(f);
	adv(f, 70 * SEC);
	assert_string_equal(ask(f, "Q"), "00\r\n"); /* charge < e */
	for (int i = 0; i < 400 && strcmp(ask(f, "Q"), "08\r\n"); i++)
		adv(f, 30 * SEC);
	assert_true(atof(ask(f, "f")) >= 50.0);
	fx_free(f);
}

/* @ddd: off after p, sleeps ddd * 6 min, 8 bit 3; DEL wakes it */
static void ok_at_sleep_and_del_wake(void **st)
{
	(void)st;
	struct fx *f = smart();
	assert_string_equal(ask(f, "@002"), "OK\r\n");
	adv(f, 20 * SEC + 1);
	assert_string_equal(ask(f, "Q"), "00\r\n");
	assert_string_equal(ask(f, "8"), "08\r\n");
	adv(f, 11 * MIN);
	assert_string_equal(ask(f, "Q"), "00\r\n"); /* 12 min not over */
	adv(f, 1 * MIN + 10);
	assert_string_equal(ask(f, "Q"), "08\r\n");
	assert_string_equal(ask(f, "@010"), "OK\r\n");
	adv(f, 21 * SEC);
	assert_string_equal(ask(f, "Q"), "00\r\n");
	assert_string_equal(ask(f, "\x7f"), "OK\r\n");
	assert_string_equal(ask(f, "Q"), "08\r\n");
	assert_string_equal(ask(f, "8"), "00\r\n");
	fx_free(f);
}

/* @ddd on battery: after the sleep it waits for the line */
static void ok_at_waits_for_line(void **st)
{
	(void)st;
	struct fx *f = smart();
	brownout(f);
	assert_string_equal(ask(f, "@001"), "OK\r\n");
	adv(f, 30 * MIN);
	assert_string_equal(ask(f, "Q"), "00\r\n");
	line_on(f);
	adv(f, 10);
	assert_string_equal(ask(f, "Q"), "08\r\n");
	fx_free(f);
}

/* D: NO below 100 %, OK at 100 %, Q bit 0, interlock, second D aborts;
 * runs down to 25 % then returns to line */
static void ok_calibration(void **st)
{
	(void)st;
	struct fx *f = smart();
	assert_string_equal(ask(f, "D"), "OK\r\n");
	take(f);
	assert_string_equal(ask(f, "Q"), "11\r\n");
	for (const char *c = "UW@-"; *c; c++) {
		char b[2] = { *c, 0 };
		assert_string_equal(ask(f, b), "NA\r\n");
	}
	assert_string_equal(ask(f, "K"), "NA\r\n");
	for (int i = 0; i < 200 && strcmp(ask(f, "Q"), "08\r\n"); i++)
		adv(f, 30 * SEC);
	double pct = atof(ask(f, "f"));
	assert_true(pct <= 25.5 && pct >= 23.0);
	assert_non_null(strchr(take(f), '$'));
	assert_string_equal(ask(f, "D"), "NO\r\n");
	fx_free(f);
}

/* Q bits: boost, trim, overload; X/#/replace */
static void ok_q_bits(void **st)
{
	(void)st;
	struct fx *f = smart();
	ups_set_line(f->u, 105, 60, f->t);
	assert_string_equal(ask(f, "Q"), "0C\r\n"); /* boost */
	ups_set_line(f->u, 130, 60, f->t);
	assert_string_equal(ask(f, "Q"), "0A\r\n"); /* trim */
	line_on(f);
	ups_set_load(f->u, 120, f->t);
	assert_string_equal(ask(f, "Q"), "28\r\n"); /* overload */
	ups_set_load(f->u, 40, f->t);
	assert_string_equal(ask(f, "U"), "OK\r\n");
	assert_string_equal(ask(f, "Q"), "10\r\n");
	assert_string_equal(ask(f, "G"), "S\r\n");
	take(f);
	fx_free(f);
}

/* `#` after a failed W, repeated every 5 h, stops after a passing test */
static void ok_replace_alert_repeat(void **st)
{
	(void)st;
	struct fx *f = smart();
	ups_set_battery_health(f->u, false, f->t);
	assert_string_equal(ask(f, "W"), "OK\r\n");
	adv(f, 8 * SEC + 1);
	assert_string_equal(take(f), "#");
	assert_string_equal(ask(f, "X"), "BT\r\n");
	assert_string_equal(ask(f, "Q"), "88\r\n");
	adv(f, 5 * HOUR - 10 * SEC);
	assert_string_equal(take(f), "");
	adv(f, 20 * SEC);
	assert_string_equal(take(f), "#");
	adv(f, 5 * HOUR);
	assert_string_equal(take(f), "#");
	ups_set_battery_health(f->u, true, f->t);
	assert_string_equal(ask(f, "W"), "OK\r\n");
	adv(f, 9 * SEC);
	assert_string_equal(ask(f, "X"), "OK\r\n");
	assert_string_equal(ask(f, "Q"), "08\r\n");
	take(f);
	adv(f, 11 * HOUR);
	assert_string_equal(take(f), "");
	fx_free(f);
}

/* `-` cycles in table order and wraps; NO for a one-value list; `|` after
 * changes, after c/x entry and after z; z keeps c and x */
static void ok_edit_cycle(void **st)
{
	(void)st;
	struct fx *f = smart();
	const char *want[] = { "135", "138", "129", "132", "135" };
	assert_string_equal(ask(f, "u"), "132\r\n");
	for (int i = 0; i < 5; i++) {
		char w[8];
		assert_string_equal(ask(f, "-"), "OK\r\n");
		snprintf(w, sizeof w, "%s\r\n", want[i]);
		assert_string_equal(ask(f, "u"), w);
	}
	assert_string_equal(ask(f, "o"), "115\r\n");
	assert_string_equal(ask(f, "-"), "NO\r\n"); /* one value only */
	assert_string_equal(ask(f, "Q"), "08\r\n");
	assert_string_equal(ask(f, "-"), "NA\r\n"); /* not customizing */
	adv(f, 6 * SEC);
	assert_string_equal(take(f), "|");
	/* z: defaults back, `|`, c/x kept */
	assert_string_equal(ask(f, "c"), "UPS_IDEN\r\n");
	assert_string_equal(ask(f, "-"), "");
	assert_string_equal(ask(f, "ABC\r\r\r\r\r"), "OK\r\n");
	adv(f, 6 * SEC);
	assert_string_equal(take(f), "|");
	assert_string_equal(ask(f, "x"), "03/25/04\r\n");
	assert_string_equal(ask(f, "-"), "");
	assert_string_equal(ask(f, "01/02/26"), "OK\r\n");
	adv(f, 6 * SEC);
	assert_string_equal(take(f), "|");
	assert_string_equal(ask(f, "z"), "CLEAR\r\n");
	adv(f, 6 * SEC);
	assert_string_equal(take(f), "|");
	assert_string_equal(ask(f, "u"), "132\r\n");
	assert_string_equal(ask(f, "c"), "ABC\r\n");
	assert_string_equal(ask(f, "x"), "01/02/26\r\n");
	fx_free(f);
}

/* apcupsd: space padded, 1 s a character; an entry abandoned for longer
 * than the timeout does not swallow later commands */
static void ok_entry_apcupsd_and_timeout(void **st)
{
	(void)st;
	struct fx *f = smart();
	assert_string_equal(ask(f, "c"), "UPS_IDEN\r\n");
	assert_string_equal(ask(f, "-"), "");
	const char *name = "SRV1    ";
	for (int i = 0; i < 8; i++) {
		f->t += 1000;
		char one[2] = { name[i], 0 };
		assert_string_equal(ask(f, one), i == 7 ? "OK\r\n" : "");
	}
	assert_string_equal(ask(f, "c"), "SRV1    \r\n");
	assert_string_equal(ask(f, "-"), "");
	assert_string_equal(ask(f, "AB"), "");
	f->t += 10 * SEC;
	assert_string_equal(ask(f, "Q"), "08\r\n");
	assert_string_equal(ask(f, "c"), "SRV1    \r\n");
	fx_free(f);
}

static void hyphen_refused(struct ups_profile *p)
{
	p->entry_hyphen_refused = true;
}

static void pad_spaces(struct ups_profile *p)
{
	p->entry_pad_spaces = true;
}

/* behaviour.entry_hyphen: refuse -- ULS p.17-18 read as a rule the unit
 * enforces: all 8 bytes are still taken, then NO, old value kept, no `|` */
static void ok_entry_hyphen_refused_option(void **st)
{
	(void)st;
	struct fx *f = smart_p(hyphen_refused);
	assert_string_equal(ask(f, "c"), "UPS_IDEN\r\n");
	assert_string_equal(ask(f, "-"), "");
	assert_string_equal(ask(f, "s0-ups0\r"), "NO\r\n");
	assert_string_equal(ask(f, "x"), "03/25/04\r\n");
	assert_string_equal(ask(f, "c"), "UPS_IDEN\r\n");
	adv(f, 6 * SEC);
	assert_string_equal(take(f), "");
	/* a `-` in the padding (after the first CR) is not text */
	assert_string_equal(ask(f, "c"), "UPS_IDEN\r\n");
	assert_string_equal(ask(f, "-"), "");
	assert_string_equal(ask(f, "s0\r-----"), "OK\r\n");
	assert_string_equal(ask(f, "c"), "s0\r\n");
	fx_free(f);
}

/* behaviour.entry_pad: spaces -- the ULS p.17 8-character field: what the
 * host typed, up to the first CR, padded with spaces */
static void ok_entry_pad_spaces_option(void **st)
{
	(void)st;
	struct fx *f = smart_p(pad_spaces);
	assert_string_equal(ask(f, "c"), "UPS_IDEN\r\n");
	assert_string_equal(ask(f, "-"), "");
	assert_string_equal(ask(f, "adler\r\r\r"), "OK\r\n");
	assert_string_equal(ask(f, "c"), "adler   \r\n");
	assert_string_equal(ask(f, "x"), "03/25/04\r\n");
	assert_string_equal(ask(f, "-"), "");
	assert_string_equal(ask(f, "11/6/03\r"), "OK\r\n");
	assert_string_equal(ask(f, "x"), "11/6/03 \r\n");
	fx_free(f);
}

/* M and N reset on read */
static void ok_m_n_reset(void **st)
{
	(void)st;
	struct fx *f = smart();
	ups_set_line(f->u, 128, 60, f->t);
	ups_set_line(f->u, 110, 60, f->t);
	line_on(f);
	assert_string_equal(ask(f, "M"), "128.0\r\n");
	assert_string_equal(ask(f, "N"), "110.0\r\n");
	assert_string_equal(ask(f, "M"), "123.8\r\n");
	assert_string_equal(ask(f, "N"), "123.8\r\n");
	fx_free(f);
}

/* Dead unit: no line, output off -> silent; comes back dumb with `?` */
static void ok_dead_unit(void **st)
{
	(void)st;
	struct fx *f = smart();
	line_off(f);
	adv(f, 0);
	assert_string_equal(take(f), "!");
	two_press(f, "Z", "OK\r\n");
	assert_string_equal(send(f, "Y"), "");
	adv(f, HOUR);
	assert_string_equal(take(f), "");
	line_on(f);
	adv(f, 10);
	assert_string_equal(take(f), "?");
	assert_string_equal(send(f, "Q"), "");
	assert_string_equal(send(f, "Y"), "SM\r\n");
	assert_string_equal(ask(f, "Q"), "00\r\n"); /* after Z: stays off */
	fx_free(f);
}

/* Low-battery shutdown while the electronics stay powered: `?`, 8 bit 0,
 * restart with the line, 8 cleared and `=` (it follows a non-power-on `?`) */
static void ok_lowbatt_shutdown_brownout(void **st)
{
	(void)st;
	struct fx *f = smart();
	brownout(f);
	run_to_lowbatt(f);
	take(f);
	for (int i = 0; i < 40 && strcmp(ask(f, "Q"), "00\r\n"); i++)
		adv(f, 15 * SEC);
	assert_non_null(strchr(take(f), '?'));
	assert_string_equal(ask(f, "8"), "01\r\n");
	line_on(f);
	adv(f, 10);
	assert_string_equal(take(f), "=");
	/* on line again, low battery until recharged (issue 6), no `%` */
	assert_string_equal(ask(f, "Q"), "48\r\n");
	assert_string_equal(ask(f, "8"), "00\r\n");
	fx_free(f);
}

/* S accepted on battery; the line returns inside the delay: `$` at once,
 * the unit still turns off at p and then comes back (ULS p.3, facts §5) */
static void ok_s_line_returns_during_delay(void **st)
{
	(void)st;
	struct fx *f = smart();
	brownout(f);
	adv(f, 0);
	assert_string_equal(take(f), "!");
	assert_string_equal(ask(f, "S"), "OK\r\n");
	adv(f, 10 * SEC);
	line_on(f);
	adv(f, 10);
	assert_string_equal(take(f), "$");
	assert_string_equal(ask(f, "8"), "00\r\n");
	adv(f, 9 * SEC);
	assert_string_equal(ask(f, "Q"), "08\r\n");
	assert_string_equal(ask(f, "U"), "NA\r\n"); /* still interlocked */
	adv(f, 2 * SEC);
	assert_string_equal(ask(f, "Q"), "08\r\n"); /* off and back (r = 0) */
	assert_string_equal(ask(f, "8"), "00\r\n");
	assert_string_equal(take(f), "");
	fx_free(f);
}

/* Measure-UPS: I entry (2 hex digits, invalid hex ignored) then `|` */
static void ok_measure_alarm_enable_entry(void **st)
{
	(void)st;
	struct fx *f = fx_new_p("smart-ups-1500-measure", NULL);
	at(f, 10);
	take(f);
	assert_string_equal(send(f, "Y"), "SM\r\n");
	assert_string_equal(ask(f, "I"), "FF\r\n");
	assert_string_equal(ask(f, "-"), "");
	assert_string_equal(ask(f, "8xZ"), "");
	assert_string_equal(ask(f, "0"), "OK\r\n");
	assert_string_equal(ask(f, "I"), "80\r\n");
	adv(f, 6 * SEC);
	assert_string_equal(take(f), "|");
	fx_free(f);
}

/* `-` answers NO while a DIP switch is OFF (ULS p.10, p.16), also for
 * the c entry; SU400 ignores switch #4 (dip_edit_mask 0x0E) */
static void set_dip1(struct ups_profile *p)
{
	p->dip = 0x08;
}

static void set_dip4_old(struct ups_profile *p)
{
	p->dip = 0x01;
}

static void ok_dip_forbids_edit(void **st)
{
	(void)st;
	struct fx *f = smart_p(set_dip1);
	assert_string_equal(ask(f, "7"), "08\r\n");
	assert_string_equal(ask(f, "u"), "132\r\n");
	assert_string_equal(ask(f, "-"), "NO\r\n");
	assert_string_equal(ask(f, "c"), "UPS_IDEN\r\n");
	assert_string_equal(ask(f, "-"), "NO\r\n");
	assert_string_equal(ask(f, "Q"), "08\r\n"); /* no entry was opened */
	fx_free(f);
	f = fx_new_p("smart-ups-400", set_dip4_old);
	at(f, 10);
	take(f);
	assert_string_equal(send(f, "Y"), "SM\r\n");
	assert_string_equal(ask(f, "p"), "020\r\n");
	assert_string_equal(ask(f, "-"), "OK\r\n");
	assert_string_equal(ask(f, "p"), "180\r\n");
	fx_free(f);
}

/* Alerts never split a reply */
static void ok_alert_before_reply(void **st)
{
	(void)st;
	struct fx *f = smart();
	assert_string_equal(send(f, "U"), "!OK\r\n");
	f->t += 30 * SEC;
	assert_string_equal(send(f, "Q"), "$08\r\n");
	fx_free(f);
}

/* ================================================================== */
/* regress_*: each fails on main                                          */
/* ================================================================== */

/* F1: a real outage that begins during a self-test produces no `!` at
 * all (and therefore no repeats and no `$`). */
static void regress_outage_during_selftest_no_linefail(void **st)
{
	(void)st;
	struct fx *f = smart();
	assert_string_equal(ask(f, "W"), "OK\r\n");
	adv(f, 2 * SEC);
	line_off(f);             /* utility fails 2 s into the test */
	adv(f, 10 * SEC);        /* the test is over; still on battery */
	assert_string_equal(ask(f, "Q"), "10\r\n");
	/* was wrong: the host is never told the unit runs on battery */
	assert_non_null(strchr(take(f), '!'));
	adv(f, 60 * SEC);
	assert_true(count(take(f), '!') >= 2);
	fx_free(f);
}

/* F2: `+` ("battery recharged") is sent when the output switches off
 * while low battery is set (S after `%`, or the low-battery shutdown). */
static void regress_plus_sent_when_output_turns_off(void **st)
{
	(void)st;
	struct fx *f = smart();
	brownout(f);
	run_to_lowbatt(f);
	take(f);
	assert_string_equal(ask(f, "S"), "OK\r\n"); /* what NUT does on LB */
	adv(f, 21 * SEC);
	assert_string_equal(ask(f, "Q"), "00\r\n");
	/* was wrong: `+` although the battery is as flat as before */
	assert_string_equal(take(f), "");
	fx_free(f);
}

static void regress_plus_sent_on_lowbatt_shutdown(void **st)
{
	(void)st;
	struct fx *f = smart();
	brownout(f);
	run_to_lowbatt(f);
	take(f);
	for (int i = 0; i < 40 && strcmp(ask(f, "Q"), "00\r\n"); i++)
		adv(f, 15 * SEC);
	/* was wrong: "?+" - the `+` claims the battery was recharged */
	assert_string_equal(take(f), "?");
	fx_free(f);
}

/* F3: after a low-battery shutdown in a blackout the unit dies (its `?`
 * is discarded), and when the line returns it sends the power-on `?`
 * followed by `=`: `=` after the turn-on `?` (ULS p.24 forbids). */
static void regress_equals_after_power_on_question(void **st)
{
	(void)st;
	struct fx *f = smart();
	line_off(f);
	run_to_lowbatt(f);
	adv(f, 10 * MIN);             /* flat: output off, unit dead */
	assert_string_equal(send(f, "Y"), "");
	take(f);
	line_on(f);
	adv(f, 10);
	/* was wrong: "?=" */
	assert_string_equal(take(f), "?");
	fx_free(f);
}

/* F4: `#` keeps repeating every 5 h after the UPS was turned off with
 * Z..Z (ULS p.25: "until a new test passes or the UPS is turned off"). */
static void regress_replace_alert_after_turn_off(void **st)
{
	(void)st;
	struct fx *f = smart();
	ups_set_battery_health(f->u, false, f->t);
	assert_string_equal(ask(f, "W"), "OK\r\n");
	adv(f, 8 * SEC + 1);
	assert_string_equal(take(f), "#");
	two_press(f, "Z", "OK\r\n");
	assert_string_equal(ask(f, "Q"), "80\r\n");
	adv(f, 11 * HOUR);
	/* was wrong: "##" */
	assert_string_equal(take(f), "");
	fx_free(f);
}

/* F5: after S the output comes back when the r delay expires even if the
 * line failed again during the delay: it restarts onto the battery. */
static void regress_restart_after_r_ignores_line(void **st)
{
	(void)st;
	struct fx *f = smart();
	assert_string_equal(ask(f, "r"), "000\r\n");
	assert_string_equal(ask(f, "-"), "OK\r\n");
	assert_string_equal(ask(f, "r"), "060\r\n");
	brownout(f);
	assert_string_equal(ask(f, "S"), "OK\r\n");
	adv(f, 21 * SEC);
	assert_string_equal(ask(f, "Q"), "00\r\n");
	line_on(f);              /* r = 60 s starts */
	adv(f, 30 * SEC);
	brownout(f);             /* the line is bad again before r is over */
	adv(f, 40 * SEC);
	/* was wrong: "10" - the output was switched on, fed from the battery */
	assert_string_equal(ask(f, "Q"), "00\r\n");
	fx_free(f);
}

/* F6: `!` keeps repeating every 30 s during low battery when the unit
 * goes back to battery while the low-battery condition is still set. */
static void regress_linefail_repeats_during_lowbatt(void **st)
{
	(void)st;
	struct fx *f = smart();
	line_off(f);
	run_to_lowbatt(f);
	line_on(f);                 /* line back for half a second */
	adv(f, 500);
	assert_string_equal(ask(f, "Q"), "48\r\n"); /* LB still set */
	line_off(f);
	adv(f, 0);
	take(f);                    /* `$` and the transfer `!` */
	assert_string_equal(ask(f, "Q"), "50\r\n");
	adv(f, 61 * SEC);
	assert_string_equal(ask(f, "Q"), "50\r\n");
	/* was wrong: "!!" - ULS p.24: `!` repeats only until low battery */
	assert_string_equal(take(f), "");
	fx_free(f);
}

/* F7: the automatic self-test interval E (default 336 h) never runs a
 * test: a worn battery is never detected. */
static void regress_auto_selftest_never_runs(void **st)
{
	(void)st;
	struct fx *f = smart();
	assert_string_equal(ask(f, "E"), "336\r\n");
	ups_set_battery_health(f->u, false, f->t);
	adv(f, 15 * 24 * HOUR);      /* 15 days on line */
	double h = atof(ask(f, "d"));
	/* was wrong: d = 360.0 h, no test ever ran, no `#`, Q bit 7 clear */
	assert_true(h < 336.0);
	assert_non_null(strchr(take(f), '#'));
	assert_string_equal(ask(f, "Q"), "88\r\n");
	fx_free(f);
}

static void set_e_on(struct ups_profile *p)
{
	p->eeprom['E'].def = p->eeprom['E'].cur = 2; /* "ON ": start-up test */
}

static void regress_auto_selftest_on_startup(void **st)
{
	(void)st;
	struct fx *f = smart_p(set_e_on);
	assert_string_equal(ask(f, "E"), "ON \r\n");
	adv(f, 60 * SEC);
	/* was wrong: NO - no start-up test ran */
	assert_string_equal(ask(f, "X"), "OK\r\n");
	fx_free(f);
}

/* F8: a line at normal voltage but out-of-tolerance frequency is reported
 * as G = L (low line) when the voltage is a little under nominal. */
static void regress_cause_frequency_reported_as_low_line(void **st)
{
	(void)st;
	struct fx *f = smart();
	ups_set_line(f->u, 119.0, 66.0, f->t); /* 119 V is inside 103..132 */
	adv(f, 0);
	assert_string_equal(ask(f, "Q"), "10\r\n");
	assert_string_equal(ask(f, "9"), "00\r\n");
	/* was wrong: "L" */
	assert_string_equal(ask(f, "G"), "R\r\n");
	take(f);
	fx_free(f);
}

/* F9: DIP switch #4 off means a 5-minute low-battery warning (ULS p.10,
 * facts §1.5), but q still answers 02 and low battery comes at 2 min. */
static void set_dip4(struct ups_profile *p)
{
	p->dip = 0x01;
}

static void regress_dip_switch_settings_ignored(void **st)
{
	(void)st;
	struct fx *f = smart_p(set_dip4);
	assert_string_equal(ask(f, "7"), "01\r\n");
	/* was wrong: "02" */
	assert_string_equal(ask(f, "q"), "05\r\n");
	fx_free(f);
}

/* F9: a unit that starts on battery: `$` only after a `!` (was: `$`
 * without `!`). */
static void start_on_battery(struct ups_profile *p)
{
	p->line_voltage = 80.0; /* below l: on battery from power-on */
}

static void regress_dollar_without_linefail_at_start(void **st)
{
	(void)st;
	struct fx *f = fx_new_p(PROF_DEFAULT_NAME, start_on_battery);
	at(f, 10);
	/* the unit announces its battery operation: `!` then the power-on `?` */
	assert_string_equal(take(f), "!?");
	assert_string_equal(send(f, "Y"), "SM\r\n");
	assert_string_equal(ask(f, "Q"), "10\r\n");
	ups_set_line(f->u, 123.8, 60.0, f->t); /* line good after 10 ms */
	collect(f);
	at(f, 5 * SEC);
	/* `$` only because `!` was sent (ULS p.24) */
	assert_string_equal(take(f), "$");
	fx_free(f);
}

/* F11: Measure-UPS alarm state is only re-evaluated when J is read: after
 * `[` is lowered below the ambient temperature no `&` is ever sent, and the
 * first J still answers 00. */
static struct fx *measure_with_low_upper_limit(void)
{
	struct fx *f = fx_new_p("smart-ups-1500-measure", NULL);
	at(f, 10);
	take(f);
	assert_string_equal(send(f, "Y"), "SM\r\n");
	assert_string_equal(ask(f, "t"), "24.50\r\n");
	assert_string_equal(ask(f, "J"), "00\r\n");
	assert_string_equal(ask(f, "I"), "FF\r\n"); /* all alarms enabled */
	assert_string_equal(ask(f, "["), "32.13\r\n");
	for (int i = 0; i < 3; i++)
		assert_string_equal(ask(f, "-"), "OK\r\n");
	assert_string_equal(ask(f, "["), "23.97\r\n"); /* below 24.50 */
	return f;
}

static void regress_measure_no_amp_after_limit_change(void **st)
{
	(void)st;
	struct fx *f = measure_with_low_upper_limit();
	adv(f, 5 * MIN);
	/* was wrong: no `&` although the condition exists (ULS p.25/p.31: every
	 * 2 min while an enabled alarm condition exists) */
	assert_non_null(strchr(take(f), '&'));
	fx_free(f);
}

static void regress_measure_j_stale_after_limit_change(void **st)
{
	(void)st;
	struct fx *f = measure_with_low_upper_limit();
	adv(f, 1 * SEC);
	/* was wrong: "00" - bit 7 (above upper temperature limit) missing */
	assert_string_equal(ask(f, "J"), "80\r\n");
	fx_free(f);
}

/* F3b: the `?` of a low-battery shutdown is dropped when the unit loses
 * its electronics in the same instant (blackout), yet the model records
 * it as sent (which then causes the stray `=` of F3). */
static void regress_lowbatt_shutdown_question_lost_in_blackout(void **st)
{
	(void)st;
	struct fx *f = smart();
	line_off(f);
	run_to_lowbatt(f);
	take(f);
	adv(f, 10 * MIN);             /* flat: output off, unit dead */
	assert_string_equal(send(f, "Y"), "");
	/* was wrong: "" - ULS p.24 lists low-battery shutdown as a `?` cause */
	assert_non_null(strchr(take(f), '?'));
	fx_free(f);
}

/* B1: NUT 2.8.0 `upsrw -s ups.id=s0-ups0` (an ID a real SU3000RM carries,
 * NUT-DDL) then `upsrw -s battery.date=11/6/03`, byte for byte: `c`, `-`,
 * "s0-ups0" + one CR of padding (protocol-facts §6.1), then 3 s later `x`.
 * ULS p.16-18: the UPS answers after the 8th character. */
static void regress_entry_hyphen_swallows_next_command(void **st)
{
	(void)st;
	struct fx *f = smart();
	assert_string_equal(ask(f, "c"), "UPS_IDEN\r\n");
	assert_string_equal(ask(f, "-"), "");
	/* was wrong: "" -- the `-` was skipped and the entry stayed open */
	assert_string_equal(ask(f, "s0-ups0\r"), "OK\r\n");
	adv(f, 3 * SEC);
	/* was wrong: "OK" -- the `x` became the ID's 8th character */
	assert_string_equal(ask(f, "x"), "03/25/04\r\n");
	assert_string_equal(ask(f, "-"), "");
	assert_string_equal(ask(f, "11/6/03\r"), "OK\r\n");
	assert_string_equal(ask(f, "c"), "s0-ups0\r\n");
	/* was wrong: the date ended up in the ID, x kept the old date */
	assert_string_equal(ask(f, "x"), "11/6/03\r\n");
	adv(f, 6 * SEC);
	assert_string_equal(take(f), "|");
	fx_free(f);
}

/* B2: NUT pads what it types with CRs; a real unit reads back exactly
 * what was typed (NUT-DDL SU3000RM: "s0-ups0", no padding). */
static void regress_entry_cr_padding_read_back_as_spaces(void **st)
{
	(void)st;
	struct fx *f = smart();
	assert_string_equal(ask(f, "c"), "UPS_IDEN\r\n");
	assert_string_equal(ask(f, "-"), "");
	assert_string_equal(ask(f, "adler\r\r\r"), "OK\r\n");
	/* was wrong: "adler   " -- the padding CRs stored as spaces */
	assert_string_equal(ask(f, "c"), "adler\r\n");
	/* apcupsd pads with spaces: those are part of the text (ULS p.17) */
	assert_string_equal(ask(f, "-"), "");
	assert_string_equal(ask(f, "SRV1    "), "OK\r\n");
	assert_string_equal(ask(f, "c"), "SRV1    \r\n");
	/* all padding: the empty ID */
	assert_string_equal(ask(f, "-"), "");
	assert_string_equal(ask(f, "\r\r\r\r\r\r\r\r"), "OK\r\n");
	assert_string_equal(ask(f, "c"), "\r\n");
	fx_free(f);
}

/* B3: the profile loader refuses UPS-Link alert characters and
 * non-printable bytes in identity.ups_id / battery_date (hosts take the
 * former out of replies as alerts); over the wire they were stored, so
 * every later `c` or `x` reply carried alerts.  The entry is refused with
 * NO after its 8th byte, as a refused edit is (ULS p.16), and the old value
 * stays; nothing after it is swallowed. */
static void regress_entry_stores_alert_characters(void **st)
{
	(void)st;
	static const char *const bad[] = {
		"ab!cd\r\r\r", "$\r\r\r\r\r\r\r", "a%b\r\r\r\r\r",
		"+1234567", "id#1\r\r\r\r", "?\r\r\r\r\r\r\r", "x=y\r\r\r\r\r",
		"*ups*\r\r\r", "a|b\r\r\r\r\r", "a&b\r\r\r\r\r",
		"tab\tid\r\r", "\x1b[2J\r\r\r\r", "del\x7f\r\r\r\r",
		"hi\xe9\r\r\r\r\r", "lf\nlf\r\r\r",
	};
	struct fx *f = smart();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(strlen(bad[i]), 8);
		assert_string_equal(ask(f, "c"), "UPS_IDEN\r\n");
		assert_string_equal(ask(f, "-"), "");
		/* was wrong: "OK", and the bytes came back in every `c` */
		assert_string_equal(send(f, bad[i]), "NO\r\n");
		assert_string_equal(ask(f, "Q"), "08\r\n");
	}
	assert_string_equal(ask(f, "c"), "UPS_IDEN\r\n");
	/* the battery date follows the same rule */
	assert_string_equal(ask(f, "x"), "03/25/04\r\n");
	assert_string_equal(ask(f, "-"), "");
	assert_string_equal(send(f, "01/02/0!"), "NO\r\n");
	assert_string_equal(ask(f, "x"), "03/25/04\r\n");
	adv(f, 6 * SEC);
	assert_string_equal(take(f), ""); /* nothing changed: no `|` */
	/* a NUL byte cuts nothing short: it is refused too */
	assert_string_equal(ask(f, "c"), "UPS_IDEN\r\n");
	assert_string_equal(ask(f, "-"), "");
	f->out.len = 0;
	ups_feed(f->u, (const uint8_t *)"ab\0cd\r\r\r", 8, f->t, &f->out);
	assert_int_equal(f->out.len, 4);
	assert_memory_equal(f->out.data, "NO\r\n", 4);
	f->out.len = 0;
	assert_string_equal(ask(f, "c"), "UPS_IDEN\r\n");
	fx_free(f);
}

static int run(const char *which)
{
	const struct CMUnitTest ok[] = {
		cmocka_unit_test(ok_dumb_mode_and_power_on_alert),
		cmocka_unit_test(ok_linefail_repeat_and_lowbatt),
		cmocka_unit_test(ok_runtime_minute_per_minute),
		cmocka_unit_test(ok_k_timing_and_del),
		cmocka_unit_test(ok_k_on_battery_stays_off),
		cmocka_unit_test(ok_two_press_rules),
		cmocka_unit_test(ok_z_immediate),
		cmocka_unit_test(ok_s_shutdown_and_interlock),
		cmocka_unit_test(ok_s_return_waits_for_r_and_e),
		cmocka_unit_test(ok_at_sleep_and_del_wake),
		cmocka_unit_test(ok_at_waits_for_line),
		cmocka_unit_test(ok_calibration),
		cmocka_unit_test(ok_q_bits),
		cmocka_unit_test(ok_replace_alert_repeat),
		cmocka_unit_test(ok_edit_cycle),
		cmocka_unit_test(ok_entry_apcupsd_and_timeout),
		cmocka_unit_test(ok_entry_hyphen_refused_option),
		cmocka_unit_test(ok_entry_pad_spaces_option),
		cmocka_unit_test(ok_m_n_reset),
		cmocka_unit_test(ok_dead_unit),
		cmocka_unit_test(ok_lowbatt_shutdown_brownout),
		cmocka_unit_test(ok_alert_before_reply),
		cmocka_unit_test(ok_dip_forbids_edit),
		cmocka_unit_test(ok_s_line_returns_during_delay),
		cmocka_unit_test(ok_measure_alarm_enable_entry),
	};
	const struct CMUnitTest bug[] = {
		cmocka_unit_test(regress_outage_during_selftest_no_linefail),
		cmocka_unit_test(regress_plus_sent_when_output_turns_off),
		cmocka_unit_test(regress_plus_sent_on_lowbatt_shutdown),
		cmocka_unit_test(regress_equals_after_power_on_question),
		cmocka_unit_test(regress_replace_alert_after_turn_off),
		cmocka_unit_test(regress_restart_after_r_ignores_line),
		cmocka_unit_test(regress_linefail_repeats_during_lowbatt),
		cmocka_unit_test(regress_auto_selftest_never_runs),
		cmocka_unit_test(regress_auto_selftest_on_startup),
		cmocka_unit_test(regress_cause_frequency_reported_as_low_line),
		cmocka_unit_test(regress_dip_switch_settings_ignored),
		cmocka_unit_test(regress_dollar_without_linefail_at_start),
		cmocka_unit_test(regress_measure_no_amp_after_limit_change),
		cmocka_unit_test(regress_measure_j_stale_after_limit_change),
		cmocka_unit_test(regress_lowbatt_shutdown_question_lost_in_blackout),
		cmocka_unit_test(regress_entry_hyphen_swallows_next_command),
		cmocka_unit_test(regress_entry_cr_padding_read_back_as_spaces),
		cmocka_unit_test(regress_entry_stores_alert_characters),
	};
	int fails = 0;
	if (!which || !strcmp(which, "ok"))
		fails += cmocka_run_group_tests_name("spec: correct behaviour",
						     ok, NULL, NULL);
	if (!which || !strcmp(which, "regress"))
		fails += cmocka_run_group_tests_name("spec: regressions of review findings",
						     bug, NULL, NULL);
	return fails;
}

int main(int argc, char **argv)
{
	return run(argc > 1 ? argv[1] : NULL);
}
