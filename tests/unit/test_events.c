/*
 * test_events.c - ups_apply(): everything that happens to the unit from
 * outside the wire.  Each test drives a unit under virtual time and checks
 * the bytes it sends (alerts returned by ups_apply itself, replies to
 * queries) - the line and its transfer causes, load and runtime, battery
 * health and self-tests, faults and the trip registers ' and 8, overload,
 * the front panel, Measure-UPS readings, and events out of range.
 */
#include "vt_fixture.h"

#define SEC 1000ull
#define MIN (60ull * SEC)

static struct ups_event ev_line(double v)
{
	return (struct ups_event){ .kind = UPS_EV_LINE, .value = v };
}

/* Apply @p ev at the fixture's time; returns what the unit sent at once. */
static const char *apply(struct fx *f, struct ups_event ev)
{
	static char buf[256];
	struct ups_buf out = { 0 };
	assert_int_equal(ups_apply(f->u, &ev, f->t, &out), UPS_OK);
	size_t n = out.len < sizeof buf - 1 ? out.len : sizeof buf - 1;
	if (n)
		memcpy(buf, out.data, n);
	buf[n] = '\0';
	ups_buf_free(&out);
	return buf;
}

static void line_fail_alert_at_once(void **st)
{
	(void)st;
	struct fx *f = smart_prof(PROF_DEFAULT_NAME, NULL);
	assert_string_equal(apply(f, ev_line(0)), "!");
	assert_string_equal(ask(f, "Q"), "10\r\n");
	assert_string_equal(ask(f, "G"), "L\r\n");
	adv(f, 5 * SEC);
	assert_string_equal(apply(f, ev_line(-1)), "$"); /* "on": nominal */
	assert_string_equal(ask(f, "Q"), "08\r\n");
	assert_string_equal(ask(f, "L"), "120.0\r\n");
	fx_free(f);
}

static void notch_and_rate_causes(void **st)
{
	(void)st;
	struct fx *f = smart_prof(PROF_DEFAULT_NAME, NULL);
	struct ups_event n = { .kind = UPS_EV_NOTCH, .value = 300 };
	assert_string_equal(apply(f, n), "!");
	assert_string_equal(ask(f, "G"), "T\r\n");
	assert_string_equal(ask(f, "Q"), "10\r\n");
	adv(f, 400);
	assert_string_equal(take(f), "$");
	assert_string_equal(ask(f, "Q"), "08\r\n");
	struct ups_event r = { .kind = UPS_EV_RATE, .value = 1000 };
	assert_string_equal(apply(f, r), "!");
	assert_string_equal(ask(f, "G"), "R\r\n");
	adv(f, 2 * SEC);
	assert_string_equal(ask(f, "Q"), "08\r\n");
	fx_free(f);
}

static void runtime_depends_on_load(void **st)
{
	(void)st;
	struct fx *f = smart_prof(PROF_DEFAULT_NAME, NULL);
	apply(f, (struct ups_event){ .kind = UPS_EV_LOAD, .value = 40 });
	int j40 = atoi(ask(f, "j"));
	assert_string_equal(ask(f, "P"), "040.0\r\n");
	apply(f, (struct ups_event){ .kind = UPS_EV_LOAD, .value = 80 });
	int j80 = atoi(ask(f, "j"));
	assert_true(j80 > 0 && j80 * 2 < j40); /* far less than half */
	apply(f, (struct ups_event){ .kind = UPS_EV_CHARGE, .value = 50 });
	assert_string_equal(ask(f, "f"), "050.0\r\n");
	int j80h = atoi(ask(f, "j"));
	assert_true(j80h >= j80 / 2 - 1 && j80h <= j80 / 2 + 1);
	fx_free(f);
}

static void weak_battery_fails_self_test(void **st)
{
	(void)st;
	struct fx *f = smart_prof(PROF_DEFAULT_NAME, NULL);
	apply(f, (struct ups_event){ .kind = UPS_EV_BATT_HEALTH, .value = 0.3 });
	assert_string_equal(apply(f, (struct ups_event){ .kind = UPS_EV_SELFTEST }), "");
	adv(f, 30 * SEC);
	assert_non_null(strchr(take(f), '#'));
	assert_string_equal(ask(f, "X"), "BT\r\n");
	assert_int_equal(strtol(ask(f, "Q"), NULL, 16) & UPS_Q_REPLACE, UPS_Q_REPLACE);
	apply(f, (struct ups_event){ .kind = UPS_EV_BATT_REPLACED });
	assert_int_equal(strtol(ask(f, "Q"), NULL, 16) & UPS_Q_REPLACE, 0);
	fx_free(f);
}

static void charger_fault_3g(void **st)
{
	(void)st;
	struct fx *f = smart_prof(PROF_DEFAULT_NAME, NULL);
	apply(f, (struct ups_event){ .kind = UPS_EV_CHARGE, .value = 50 });
	struct ups_event c = { .kind = UPS_EV_FAULT, .fault = UPS_FAULT_CHARGER, .on = true };
	assert_string_equal(apply(f, c), "?");
	assert_string_equal(ask(f, "8"), "20\r\n");
	adv(f, 60 * MIN);
	assert_string_equal(ask(f, "f"), "050.0\r\n"); /* no recharge */
	c.on = false;
	assert_string_equal(apply(f, c), "=");
	assert_string_equal(ask(f, "8"), "00\r\n");
	adv(f, 60 * MIN);
	assert_true(atof(ask(f, "f")) > 50.0);
	fx_free(f);
}

static void main_relay_turns_the_unit_off(void **st)
{
	(void)st;
	struct fx *f = smart_prof(PROF_DEFAULT_NAME, NULL);
	struct ups_event r = { .kind = UPS_EV_FAULT, .fault = UPS_FAULT_MAIN_RELAY, .on = true };
	assert_string_equal(apply(f, r), "?");
	assert_string_equal(ask(f, "8"), "04\r\n");
	assert_string_equal(ask(f, "Q"), "00\r\n");
	r.on = false;
	assert_string_equal(apply(f, r), "=");
	assert_string_equal(ask(f, "Q"), "08\r\n");
	fx_free(f);
}

static void fan_fault_by_family(void **st)
{
	(void)st;
	struct ups_event fan = { .kind = UPS_EV_FAULT, .fault = UPS_FAULT_FAN, .on = true };
	/* 3G Smart-UPS report only bits 6 and 4 of ' (protocol-facts §1.3) */
	struct fx *f = smart_prof(PROF_DEFAULT_NAME, NULL);
	assert_string_equal(apply(f, fan), "");
	assert_string_equal(ask(f, "'"), "00\r\n");
	struct ups_event br = { .kind = UPS_EV_FAULT, .fault = UPS_FAULT_BOOST_RELAY, .on = true };
	assert_string_equal(apply(f, br), "?");
	assert_string_equal(ask(f, "'"), "40\r\n");
	fx_free(f);
	/* a Matrix reports the fan and goes to bypass */
	f = smart_prof("matrix-ups-5000", NULL);
	assert_string_equal(apply(f, fan), "?");
	assert_string_equal(ask(f, "'"), "01\r\n");
	assert_int_equal(strtol(ask(f, "~"), NULL, 16) & 0x02, 0x02); /* fault bypass */
	assert_string_equal(apply(f, ev_line(0)), ""); /* in bypass: no battery */
	fx_free(f);
}

static void overload_cannot_transfer(void **st)
{
	(void)st;
	struct fx *f = smart_prof(PROF_DEFAULT_NAME, NULL);
	apply(f, (struct ups_event){ .kind = UPS_EV_LOAD, .value = 120 });
	assert_string_equal(ask(f, "Q"), "28\r\n"); /* on line, overload */
	/* a brownout: below the transfer point, the electronics stay up */
	const char *a = apply(f, ev_line(80));
	assert_non_null(strchr(a, '?'));
	assert_string_equal(ask(f, "Q"), "00\r\n");
	assert_string_equal(ask(f, "8"), "02\r\n");
	fx_free(f);
}

static void front_panel_and_readings(void **st)
{
	(void)st;
	struct fx *f = smart_prof("smart-ups-1500-measure", NULL);
	apply(f, (struct ups_event){ .kind = UPS_EV_BUTTON, .on = false });
	assert_string_equal(ask(f, "Q"), "00\r\n");
	apply(f, (struct ups_event){ .kind = UPS_EV_BUTTON, .on = true });
	assert_string_equal(ask(f, "Q"), "08\r\n");
	apply(f, (struct ups_event){ .kind = UPS_EV_TEMP, .value = 61.5 });
	assert_string_equal(ask(f, "C"), "061.5\r\n");
	apply(f, (struct ups_event){ .kind = UPS_EV_HUMIDITY, .value = 55 });
	assert_string_equal(ask(f, "h"), "055.0\r\n");
	apply(f, (struct ups_event){ .kind = UPS_EV_DIP, .ivalue = 0x0A });
	assert_string_equal(ask(f, "7"), "0A\r\n");
	apply(f, (struct ups_event){ .kind = UPS_EV_CAUSE, .ivalue = 'H' });
	assert_string_equal(ask(f, "G"), "H\r\n");
	/* contact 1 closes: i bit 4 (contacts in bits 7-4, protocol-facts
	 * §1.6), and it differs from its DIP: J reports it */
	apply(f, (struct ups_event){ .kind = UPS_EV_CONTACTS, .ivalue = 1 });
	assert_int_equal(strtol(ask(f, "i"), NULL, 16) & 0xF0, 0x10);
	assert_int_equal(strtol(ask(f, "J"), NULL, 16) & 0x01, 0x01);
	/* an ambient above the `[` limit latches J bit 7 (ULS p.28) */
	double hi = atof(ask(f, "["));
	struct ups_event amb = { .kind = UPS_EV_AMBIENT, .value = hi + 5 };
	apply(f, amb);
	assert_true(atof(ask(f, "t")) > hi);
	assert_int_equal(strtol(ask(f, "J"), NULL, 16) & 0x80, 0x80);
	fx_free(f);
}

static void out_of_range_changes_nothing(void **st)
{
	(void)st;
	struct fx *f = smart_prof(PROF_DEFAULT_NAME, NULL);
	struct ups_buf out = { 0 };
	struct ups_event bad[] = {
		{ .kind = UPS_EV_LOAD, .value = 201 },
		{ .kind = UPS_EV_LOAD, .value = -1 },
		{ .kind = UPS_EV_CHARGE, .value = 101 },
		{ .kind = UPS_EV_BATT_HEALTH, .value = 1.5 },
		{ .kind = UPS_EV_CONTACTS, .ivalue = 16 },
		{ .kind = UPS_EV_DIP, .ivalue = 256 },
		{ .kind = UPS_EV_FAULT, .fault = UPS_FAULT__COUNT },
		{ .kind = UPS_EV_LINE, .value = 1e9 },
		{ .kind = UPS_EV__COUNT },
		{ .kind = UPS_EV_CAUSE, .ivalue = 0 },
	};
	bad[7].value = 0.0 / 0.0; /* NaN */
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(ups_apply(f->u, &bad[i], f->t, &out), UPS_EARG);
	assert_int_equal(out.len, 0);
	assert_string_equal(ask(f, "Q"), "08\r\n");
	assert_string_equal(ask(f, "f"), "100.0\r\n");
	ups_buf_free(&out);
	fx_free(f);
}

static void double_conversion_holds_output(void **st)
{
	(void)st;
	struct fx *f = smart_prof("smart-ups-rt-1000-xl", NULL);
	double o = atof(ask(f, "O"));
	apply(f, ev_line(200));
	assert_true(atof(ask(f, "L")) < 201);
	assert_true(atof(ask(f, "O")) == o); /* the input moved, the output did not */
	apply(f, ev_line(250));
	assert_true(atof(ask(f, "O")) == o);
	fx_free(f);
	/* a line-interactive unit follows its input (outside boost/trim) */
	f = smart_prof(PROF_DEFAULT_NAME, NULL);
	apply(f, ev_line(125));
	assert_string_equal(ask(f, "O"), "125.0\r\n");
	fx_free(f);
}

/* Regressions from the real-client fault tests: a Matrix in bypass
 * because of a fault says so in ~ bit 1; an overload trip stays readable
 * (8 bit 1) after the line returns, with the output off until the front
 * panel turns it on; over-temperature turns the output off while it lasts. */
static void fault_regressions(void **st)
{
	(void)st;
	struct fx *f = smart_prof("matrix-ups-5000", NULL);
	apply(f, (struct ups_event){ .kind = UPS_EV_FAULT, .fault = UPS_FAULT_FAN, .on = true });
	assert_string_equal(ask(f, "~"), "02\r\n");
	fx_free(f);

	f = smart_prof(PROF_DEFAULT_NAME, NULL);
	apply(f, (struct ups_event){ .kind = UPS_EV_LOAD, .value = 130 });
	apply(f, ev_line(0));             /* no transfer: off, and unpowered */
	adv(f, 10 * SEC);
	apply(f, (struct ups_event){ .kind = UPS_EV_LOAD, .value = 40 });
	apply(f, ev_line(-1));
	adv(f, 5 * MIN);
	take(f);
	assert_string_equal(send(f, "Y"), "SM\r\n");
	assert_string_equal(ask(f, "8"), "02\r\n");
	assert_string_equal(ask(f, "Q"), "00\r\n");
	apply(f, (struct ups_event){ .kind = UPS_EV_BUTTON, .on = true });
	assert_string_equal(ask(f, "Q"), "08\r\n");
	assert_string_equal(ask(f, "8"), "00\r\n");

	struct ups_event ot = { .kind = UPS_EV_FAULT, .fault = UPS_FAULT_OVERTEMP, .on = true };
	apply(f, ot);
	assert_string_equal(ask(f, "Q"), "00\r\n");
	ot.on = false;
	apply(f, ot);
	assert_string_equal(ask(f, "Q"), "08\r\n");
	/* an inverter fault: off on battery, back with the line */
	apply(f, (struct ups_event){ .kind = UPS_EV_FAULT, .fault = UPS_FAULT_INVERTER, .on = true });
	assert_string_equal(ask(f, "Q"), "08\r\n");
	apply(f, ev_line(80));
	assert_string_equal(ask(f, "Q"), "00\r\n");
	apply(f, ev_line(-1));
	assert_string_equal(ask(f, "Q"), "08\r\n");
	fx_free(f);
}

static void names_round_trip(void **st)
{
	(void)st;
	for (int i = 0; i < UPS_FAULT__COUNT; i++)
		assert_int_equal(ups_fault_from_name(ups_fault_name((enum ups_fault)i)), i);
	assert_int_equal(ups_fault_from_name("nope"), UPS_FAULT__COUNT);
	for (int k = 0; k < UPS_EV__COUNT; k++)
		assert_non_null(ups_ev_name((enum ups_ev_kind)k));
	assert_null(ups_ev_name(UPS_EV__COUNT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(line_fail_alert_at_once),
		cmocka_unit_test(notch_and_rate_causes),
		cmocka_unit_test(runtime_depends_on_load),
		cmocka_unit_test(weak_battery_fails_self_test),
		cmocka_unit_test(charger_fault_3g),
		cmocka_unit_test(main_relay_turns_the_unit_off),
		cmocka_unit_test(fan_fault_by_family),
		cmocka_unit_test(overload_cannot_transfer),
		cmocka_unit_test(front_panel_and_readings),
		cmocka_unit_test(out_of_range_changes_nothing),
		cmocka_unit_test(double_conversion_holds_output),
		cmocka_unit_test(fault_regressions),
		cmocka_unit_test(names_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
