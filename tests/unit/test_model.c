/*
 * test_model.c - the UPS model and dispatcher under virtual time (see also
 * test_model_spec.c, scenarios held against the spec): every
 * test drives a unit with bytes and explicit timestamps and checks the
 * exact bytes it sends, so hours of battery life take microseconds.
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

static struct fx *smart(const char *profile)
{
	return smart_prof(profile, NULL);
}

/* Alerts that arrived since the last look. */
static const char *alerts(struct fx *f)
{
	collect(f);
	return take(f);
}

static void test_queries_default(void **st)
{
	(void)st;
	struct fx *f = smart(PROF_DEFAULT_NAME);
	assert_string_equal(send(f, "f"), "100.0\r\n");
	assert_string_equal(send(f, "9"), "FF\r\n");
	assert_string_equal(send(f, "G"), "O\r\n");
	assert_string_equal(send(f, "X"), "NO\r\n");
	assert_string_equal(send(f, "y"), "(C) APCC\r\n");
	assert_string_equal(send(f, "~"), "00\r\n");
	assert_string_equal(send(f, "8"), "00\r\n");
	assert_string_equal(send(f, "g"), "024\r\n");
	char want[64];
	snprintf(want, sizeof want, "%s\r\n", f->p.model);
	assert_string_equal(send(f, "\x01"), want);
	snprintf(want, sizeof want, "%s\r\n", f->p.firmware_b);
	assert_string_equal(send(f, "b"), want);
	/* formats: ddd.d, dd.dd, dddd: */
	const char *s = send(f, "L");
	assert_int_equal(strlen(s), 7);
	assert_true(s[3] == '.');
	s = send(f, "B");
	assert_int_equal(strlen(s), 7);
	assert_true(s[2] == '.');
	s = send(f, "j");
	assert_int_equal(strlen(s), 7);
	assert_true(s[4] == ':');
	assert_string_equal(send(f, "!"), "NA\r\n"); /* not a command */
	fx_free(f);
}

static void test_caps_and_dump(void **st)
{
	(void)st;
	struct fx *f = smart(PROF_DEFAULT_NAME);
	const char *a = send(f, "a");
	assert_true(strncmp(a, "3.!$%+?=#|.", 11) == 0);
	/* ascending byte order, every listed command answers */
	const char *cmds = a + 11;
	size_t n = strlen(cmds) - 2;
	for (size_t i = 1; i < n; i++)
		assert_true((uint8_t)cmds[i - 1] < (uint8_t)cmds[i]);
	assert_non_null(memchr(cmds, 'W', n));
	assert_null(memchr(cmds, '^', n));  /* Matrix only */
	assert_null(memchr(cmds, 't', n));  /* Measure-UPS only */
	const char *z = send(f, "\x1a");
	assert_true(z[0] == '#');
	assert_non_null(strstr(z, "uD4"));
	assert_non_null(strstr(z, "E443336168ON OFF"));
	assert_non_null(strstr(z, "k4410TLN"));
	fx_free(f);
}

static void test_edit_cycle_and_reset(void **st)
{
	(void)st;
	struct fx *f = smart(PROF_DEFAULT_NAME);
	const struct prof_enum *e = &f->p.eeprom['u'];
	char want[16];
	snprintf(want, sizeof want, "%s\r\n", e->values[e->def]);
	assert_string_equal(send(f, "u"), want);
	for (int i = 1; i <= e->count; i++) {
		assert_string_equal(send(f, "-"), "OK\r\n");
		snprintf(want, sizeof want, "%s\r\n",
			 e->values[(e->def + i) % e->count]);
		assert_string_equal(send(f, "u"), want);
	}
	/* `|` follows the change after the profile's delay */
	at(f, f->t + f->p.eeprom_alert_ms - 1);
	assert_string_equal(alerts(f), "");
	at(f, f->t + 2);
	assert_string_equal(alerts(f), "|");
	assert_non_null(strstr(send(f, "u-"), "\r\nOK\r\n"));
	fx_free(f);
	f = smart(PROF_DEFAULT_NAME);
	send(f, "p");
	assert_string_equal(send(f, "-"), "OK\r\n");
	assert_string_equal(send(f, "p"), "180\r\n");
	assert_string_equal(send(f, "z"), "CLEAR\r\n");
	assert_string_equal(send(f, "p"), "020\r\n");
	assert_string_equal(send(f, "-"), "OK\r\n"); /* `-` after p again */
	fx_free(f);
}

static void test_direct_entry(void **st)
{
	(void)st;
	struct fx *f = smart(PROF_DEFAULT_NAME);
	/* NUT: value padded with CR to 8 characters; read back as typed */
	assert_string_equal(send(f, "c"), "UPS_IDEN\r\n");
	assert_string_equal(send(f, "-"), "");
	assert_string_equal(send(f, "NEWNAME\r"), "OK\r\n");
	assert_string_equal(send(f, "c"), "NEWNAME\r\n");
	/* apcupsd: space padded, one character a second */
	send(f, "c");
	assert_string_equal(send(f, "-"), "");
	const char *name = "SRV1    ";
	for (int i = 0; i < 8; i++) {
		f->t += 1000;
		char one[2] = { name[i], 0 };
		const char *r = send(f, one);
		if (*r == '|')
			r++; /* the `|` of the first change may fall in here */
		assert_string_equal(r, i == 7 ? "OK\r\n" : "");
	}
	assert_string_equal(send(f, "c"), "SRV1    \r\n");
	/* z keeps c and x (ULS p.16) */
	assert_string_equal(send(f, "z"), "CLEAR\r\n");
	assert_string_equal(send(f, "c"), "SRV1    \r\n");
	fx_free(f);
}

static void test_self_test(void **st)
{
	(void)st;
	struct fx *f = smart(PROF_DEFAULT_NAME);
	assert_string_equal(send(f, "W"), "OK\r\n");
	assert_string_equal(send(f, "G"), "S\r\n");
	assert_string_equal(send(f, "Q"), "10\r\n"); /* on battery during it */
	at(f, f->t + 7900);
	assert_string_equal(send(f, "X"), "NO\r\n");
	at(f, f->t + 200);
	assert_string_equal(alerts(f), "");          /* no `!` for a self-test */
	assert_string_equal(send(f, "Q"), "08\r\n");
	assert_string_equal(send(f, "X"), "OK\r\n");
	at(f, f->t + 299000);
	assert_string_equal(send(f, "X"), "OK\r\n");
	at(f, f->t + 2000);
	assert_string_equal(send(f, "X"), "NO\r\n");  /* 5 minutes later */
	/* a worn battery fails: BT, replace bit, `#` */
	ups_set_battery_health(f->u, false, f->t);
	send(f, "W");
	at(f, f->t + 8001);
	assert_string_equal(alerts(f), "#");
	assert_string_equal(send(f, "X"), "BT\r\n");
	assert_string_equal(send(f, "Q"), "88\r\n");
	fx_free(f);
}

static void test_simulated_failure(void **st)
{
	(void)st;
	struct fx *f = smart(PROF_DEFAULT_NAME);
	assert_string_equal(send(f, "U"), "!OK\r\n");
	assert_string_equal(send(f, "Q"), "10\r\n");
	assert_string_equal(send(f, "G"), "S\r\n");
	assert_string_equal(send(f, "S"), "OK\r\n"); /* S is honoured on battery */
	assert_string_equal(send(f, "U"), "NA\r\n"); /* interlock after S */
	assert_string_equal(send(f, "W"), "NA\r\n");
	assert_string_equal(send(f, "-"), "NA\r\n");
	assert_string_equal(send(f, "\x7f"), "OK\r\n"); /* DEL aborts S */
	at(f, f->t + f->p.sim_fail_ms);
	assert_string_equal(alerts(f), "$");
	assert_string_equal(send(f, "Q"), "08\r\n");
	assert_string_equal(send(f, "S"), "NA\r\n"); /* not on line */
	fx_free(f);
}

static void test_outage_drains_battery(void **st)
{
	(void)st;
	struct fx *f = smart(PROF_DEFAULT_NAME);
	ups_set_line(f->u, 0, 0, f->t);
	at(f, f->t);
	assert_string_equal(alerts(f), "!");
	assert_string_equal(send(f, "Q"), "10\r\n");
	assert_string_equal(send(f, "G"), "L\r\n");
	assert_string_equal(send(f, "9"), "00\r\n");
	int j0 = atoi(send(f, "j"));
	at(f, f->t + 60000);
	assert_string_equal(alerts(f), "!!");  /* repeated every 30 s */
	int j1 = atoi(send(f, "j"));
	assert_true(j0 - j1 >= 0 && j0 - j1 <= 2); /* a minute a minute */
	/* run into low battery: `%` once, Q bit 6 */
	at(f, f->t + (uint64_t)(j1 - 2) * 60000 + 30000);
	const char *al = alerts(f);
	assert_non_null(strchr(al, '%'));
	assert_string_equal(send(f, "Q"), "50\r\n");
	/* then the battery is flat: the output goes off, the unit goes quiet */
	at(f, f->t + 3 * 60000);
	assert_string_equal(send(f, "Y"), "");
	/* line back: restarts in dumb mode, `?`, charging */
	ups_set_line(f->u, f->p.line_voltage, f->p.line_freq, f->t);
	at(f, f->t + 10);
	assert_non_null(strchr(alerts(f), '?'));
	assert_string_equal(send(f, "Y"), "SM\r\n");
	assert_string_equal(send(f, "8"), "00\r\n");
	/* back on line after a deep discharge: low battery (Q bit 6) on line
	 * until recharged, without a `%` alert */
	assert_string_equal(send(f, "Q"), "48\r\n");
	assert_null(strchr(alerts(f), '%'));
	assert_true(atof(send(f, "f")) < 1.0);
	at(f, f->t + 3600000);
	double pct = atof(send(f, "f"));       /* an hour of charging */
	assert_true(pct > f->p.recharge_pct_per_h - 1 &&
		    pct < f->p.recharge_pct_per_h + 1);
	fx_free(f);
}

static void test_shutdown_in_brownout(void **st)
{
	(void)st;
	struct fx *f = smart(PROF_DEFAULT_NAME);
	/* 80 V: below the transfer point but enough to keep the electronics
	 * alive, so the unit still answers after its output goes off */
	ups_set_line(f->u, 80, f->p.line_freq, f->t);
	at(f, f->t);
	assert_string_equal(alerts(f), "!");
	assert_string_equal(send(f, "S"), "OK\r\n");
	at(f, f->t + 20001);
	assert_string_equal(alerts(f), "");      /* no `$`: it is off, not on line */
	assert_string_equal(send(f, "Q"), "00\r\n");
	assert_string_equal(send(f, "8"), "10\r\n"); /* shut down by S */
	/* interlocked after S (ULS p.3): refused at the first press */
	assert_string_equal(send(f, "K"), "NA\r\n");
	assert_string_equal(send(f, "U"), "NA\r\n");
	/* the line comes back: output on after r, `$` is not owed any more */
	ups_set_line(f->u, f->p.line_voltage, f->p.line_freq, f->t);
	at(f, f->t + 1);
	assert_string_equal(alerts(f), "");
	assert_string_equal(send(f, "Q"), "08\r\n");
	assert_string_equal(send(f, "8"), "00\r\n");
	fx_free(f);
}

static void test_sleep_at(void **st)
{
	(void)st;
	struct fx *f = smart(PROF_DEFAULT_NAME);
	send(f, "@");
	assert_string_equal(send(f, "00"), "");
	assert_string_equal(send(f, "1"), "OK\r\n");
	at(f, f->t + 20001);
	assert_string_equal(send(f, "Q"), "00\r\n");
	assert_string_equal(send(f, "8"), "08\r\n");  /* sleep via @ddd */
	at(f, f->t + 6 * 60000 + 10);                 /* 0.1 h later */
	assert_string_equal(send(f, "Q"), "08\r\n");
	assert_string_equal(send(f, "8"), "00\r\n");
	/* non-digit abandons @ silently */
	assert_string_equal(send(f, "@1x"), "");
	assert_string_equal(send(f, "Q"), "08\r\n");
	fx_free(f);
}

static void test_two_press(void **st)
{
	(void)st;
	struct fx *f = smart(PROF_DEFAULT_NAME);
	assert_string_equal(send(f, "K"), "");
	f->t += 500;
	assert_string_equal(send(f, "K"), "");   /* too soon: ignored */
	f->t += 1600;
	assert_string_equal(send(f, "Z"), "");
	f->t += 1600;
	assert_string_equal(send(f, "Z"), "OK\r\n");
	assert_string_equal(send(f, "Q"), "00\r\n"); /* Z: off at once */
	assert_string_equal(send(f, "~"), "40\r\n");
	f->t += 100;
	send(f, "\x0e");
	f->t += 1600;
	send(f, "\x0e");
	assert_string_equal(send(f, "Q"), "08\r\n");
	fx_free(f);
}

static void test_calibration(void **st)
{
	(void)st;
	struct fx *f = smart(PROF_DEFAULT_NAME);
	assert_string_equal(send(f, "D"), "!OK\r\n");
	assert_string_equal(send(f, "Q"), "11\r\n");
	assert_string_equal(send(f, "U"), "NA\r\n");
	at(f, f->t + 60000);
	assert_true(atof(send(f, "f")) < 100.0);
	assert_string_equal(send(f, "D"), "$OK\r\n"); /* abort */
	assert_string_equal(send(f, "D"), "NO\r\n");    /* not 100 % any more */
	fx_free(f);
}

static void test_table(void **st)
{
	(void)st;
	assert_int_equal(cmd_count_actions(), 72);
	for (int b = 0; b < 256; b++) {
		const struct cmd_def *r = cmd_lookup((uint8_t)b);
		if (!r)
			continue;
		assert_non_null(r->label);
		assert_non_null(r->ref);
		assert_true(r->families != 0);
		if (r->flags & CF_TWO_PRESS)
			assert_true(r->flags & CF_DESTRUCTIVE);
	}
	/* destructive commands of the safety rules are flagged */
	for (const char *c = "KZSU@D^\x0ez"; *c; c++)
		assert_true(cmd_lookup((uint8_t)*c)->flags & CF_DESTRUCTIVE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_queries_default),
		cmocka_unit_test(test_caps_and_dump),
		cmocka_unit_test(test_edit_cycle_and_reset),
		cmocka_unit_test(test_direct_entry),
		cmocka_unit_test(test_self_test),
		cmocka_unit_test(test_simulated_failure),
		cmocka_unit_test(test_outage_drains_battery),
		cmocka_unit_test(test_shutdown_in_brownout),
		cmocka_unit_test(test_sleep_at),
		cmocka_unit_test(test_two_press),
		cmocka_unit_test(test_calibration),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
