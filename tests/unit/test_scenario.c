/*
 * test_scenario.c - unit tests for the scenario loader (sim/core/scenario.c).
 * Every event key is parsed both as a control line and as a timeline entry
 * and compared field by field with the action it must become; durations,
 * `initial`, at/after/repeat, the stable sort and the profile overlay are
 * pinned; a table of malformed documents pins each diagnostic's
 * line:col and whole message, and 100 malformed control lines must be
 * refused.  Every file in scenarios/ must parse and its profile load.
 * Pseudo-random soup and mutated shipped files check that nothing crashes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/profile.h"
#include "upssim/scenario.h"
#include "upssim/ups.h"

#ifndef UPSSIM_SOURCE_DIR
#define UPSSIM_SOURCE_DIR "."
#endif

static struct scen sc;
static struct ups_diag diag;

static enum ups_rc parse(const char *text)
{
	scen_free(&sc);
	memset(&diag, 0, sizeof diag);
	return scen_parse("t.yaml", text, strlen(text), &sc, &diag);
}

static void assert_parses(const char *text)
{
	enum ups_rc rc = parse(text);
	if (rc != UPS_OK) {
		char buf[600];
		print_error("unexpected: %s\n",
			    ups_diag_format(&diag, buf, sizeof buf));
	}
	assert_int_equal(rc, UPS_OK);
}

static int teardown(void **state)
{
	(void)state;
	scen_free(&sc);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Actions compared field by field                                     */

#define UNIT(k, ...) { .kind = SCEN_UNIT, .ev = { .kind = (k), __VA_ARGS__ } }
#define WIRE(k, ...) { .kind = SCEN_WIRE, .wire = { .kind = (k), __VA_ARGS__ } }
#define FAULT(f, o) UNIT(UPS_EV_FAULT, .fault = (f), .on = (o))

static bool act_equal(const struct scen_action *a, const struct scen_action *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == SCEN_UNIT)
		return a->ev.kind == b->ev.kind && a->ev.value == b->ev.value &&
		       a->ev.value2 == b->ev.value2 &&
		       a->ev.ivalue == b->ev.ivalue && a->ev.on == b->ev.on &&
		       a->ev.fault == b->ev.fault;
	if (a->kind == SCEN_WIRE)
		return a->wire.kind == b->wire.kind &&
		       a->wire.dur_ms == b->wire.dur_ms &&
		       a->wire.count == b->wire.count &&
		       a->wire.n == b->wire.n &&
		       !memcmp(a->wire.bytes, b->wire.bytes, a->wire.n);
	return a->ev.kind == UPS_EV_NONE && b->ev.kind == UPS_EV_NONE &&
	       a->wire.kind == WIRE_NONE && b->wire.kind == WIRE_NONE;
}

static void print_act(const char *what, const struct scen_action *a)
{
	print_error("  %s: kind %d ev %d value %g value2 %g ivalue %d on %d "
		    "fault %d wire %d dur %llu count %d n %zu\n", what, a->kind,
		    a->ev.kind, a->ev.value, a->ev.value2, a->ev.ivalue,
		    a->ev.on, a->ev.fault, a->wire.kind,
		    (unsigned long long)a->wire.dur_ms, a->wire.count,
		    a->wire.n);
}

/* Every event key, each spelling: as a control line and as an entry. */
static const struct good {
	const char *line;
	struct scen_action want;
} good_lines[] = {
    {"{line: off}", UNIT(UPS_EV_LINE, .value = 0)},
    {"{line: on}", UNIT(UPS_EV_LINE, .value = -1)},
    {"{line: 0}", UNIT(UPS_EV_LINE, .value = 0)},
    {"{line: 95.5}", UNIT(UPS_EV_LINE, .value = 95.5)},
    {"{line: 999.9}", UNIT(UPS_EV_LINE, .value = 999.9)},
    {"{line: {voltage: 95, frequency: 50}}",
     UNIT(UPS_EV_LINE, .value = 95, .value2 = 50)},
    {"{line: {frequency: 61.5, voltage: 230}}",
     UNIT(UPS_EV_LINE, .value = 230, .value2 = 61.5)},
    {"{line: {voltage: 0}}", UNIT(UPS_EV_LINE, .value = 0)},
    {"{frequency: 50}", UNIT(UPS_EV_LINE_FREQ, .value = 50)},
    {"{frequency: 99.99}", UNIT(UPS_EV_LINE_FREQ, .value = 99.99)},
    {"{brownout: 100}", UNIT(UPS_EV_LINE, .value = 100)},
    {"{surge: 135.5}", UNIT(UPS_EV_LINE, .value = 135.5)},
    {"{notch: 500ms}", UNIT(UPS_EV_NOTCH, .value = 500)},
    {"{spike: 2s}", UNIT(UPS_EV_NOTCH, .value = 2000)},
    {"{notch: 1d}", UNIT(UPS_EV_NOTCH, .value = 86400000)},
    {"{rate_of_change: 1.5}", UNIT(UPS_EV_RATE, .value = 1500)},
    {"{load: 80}", UNIT(UPS_EV_LOAD, .value = 80)},
    {"{load: 0}", UNIT(UPS_EV_LOAD, .value = 0)},
    {"{load: 200}", UNIT(UPS_EV_LOAD, .value = 200)},
    {"{overload: 150}", UNIT(UPS_EV_LOAD, .value = 150)},
    {"{overload: 100.5}", UNIT(UPS_EV_LOAD, .value = 100.5)},
    {"{charge: 55.5}", UNIT(UPS_EV_CHARGE, .value = 55.5)},
    {"{battery: replace}", UNIT(UPS_EV_BATT_REPLACED)},
    {"{battery: disconnect}", UNIT(UPS_EV_BATT_CONNECTED, .on = false)},
    {"{battery: connect}", UNIT(UPS_EV_BATT_CONNECTED, .on = true)},
    {"{battery: {health: 0.4}}", UNIT(UPS_EV_BATT_HEALTH, .value = 0.4)},
    {"{battery_health: 1}", UNIT(UPS_EV_BATT_HEALTH, .value = 1)},
    {"{battery_health: 0}", UNIT(UPS_EV_BATT_HEALTH, .value = 0)},
    {"{charger: fail}", FAULT(UPS_FAULT_CHARGER, true)},
    {"{charger: ok}", FAULT(UPS_FAULT_CHARGER, false)},
    {"{temperature: -40}", UNIT(UPS_EV_TEMP, .value = -40)},
    {"{temperature: 150}", UNIT(UPS_EV_TEMP, .value = 150)},
    {"{ambient: 36.5}", UNIT(UPS_EV_AMBIENT, .value = 36.5)},
    {"{ambient: -40}", UNIT(UPS_EV_AMBIENT, .value = -40)},
    {"{humidity: 85}", UNIT(UPS_EV_HUMIDITY, .value = 85)},
    {"{contacts: 15}", UNIT(UPS_EV_CONTACTS, .ivalue = 15)},
    {"{contacts: 0x3}", UNIT(UPS_EV_CONTACTS, .ivalue = 3)},
    {"{dip: 0x0F}", UNIT(UPS_EV_DIP, .ivalue = 15)},
    {"{dip: 255}", UNIT(UPS_EV_DIP, .ivalue = 255)},
    {"{packs: 4}", UNIT(UPS_EV_PACKS, .ivalue = 4)},
    {"{bad_packs: 1}", UNIT(UPS_EV_BAD_PACKS, .ivalue = 1)},
    {"{transfer_cause: T}", UNIT(UPS_EV_CAUSE, .ivalue = 'T')},
    {"{transfer_cause: K}", UNIT(UPS_EV_CAUSE, .ivalue = 'K')},
    {"{fault: charger}", FAULT(UPS_FAULT_CHARGER, true)},
    {"{fault: overtemp}", FAULT(UPS_FAULT_OVERTEMP, true)},
    {"{fault: main_relay}", FAULT(UPS_FAULT_MAIN_RELAY, true)},
    {"{fault: bypass_relay}", FAULT(UPS_FAULT_BYPASS_RELAY, true)},
    {"{fault: fan}", FAULT(UPS_FAULT_FAN, true)},
    {"{fault: isolation_fan}", FAULT(UPS_FAULT_ISOLATION_FAN, true)},
    {"{fault: bypass_supply}", FAULT(UPS_FAULT_BYPASS_SUPPLY, true)},
    {"{fault: inverter}", FAULT(UPS_FAULT_INVERTER, true)},
    {"{fault: boost_relay}", FAULT(UPS_FAULT_BOOST_RELAY, true)},
    {"{fault: dc_imbalance}", FAULT(UPS_FAULT_DC_IMBALANCE, true)},
    {"{fault: {name: inverter, on: false}}", FAULT(UPS_FAULT_INVERTER, false)},
    {"{fault: {on: true, name: fan}}", FAULT(UPS_FAULT_FAN, true)},
    {"{fault: {name: fan}}", FAULT(UPS_FAULT_FAN, true)},
    {"{clear: main_relay}", FAULT(UPS_FAULT_MAIN_RELAY, false)},
    {"{overtemp: on}", FAULT(UPS_FAULT_OVERTEMP, true)},
    {"{overtemp: off}", FAULT(UPS_FAULT_OVERTEMP, false)},
    {"{button: on}", UNIT(UPS_EV_BUTTON, .on = true)},
    {"{button: off}", UNIT(UPS_EV_BUTTON, .on = false)},
    {"{self_test: true}", UNIT(UPS_EV_SELFTEST)},
    {"{wire: {silence: 30s}}", WIRE(WIRE_SILENCE, .dur_ms = 30000)},
    {"{wire: {delay: 500ms}}", WIRE(WIRE_DELAY, .dur_ms = 500)},
    {"{wire: {delay: 0}}", WIRE(WIRE_DELAY, .dur_ms = 0)},
    {"{wire: {drop: 5}}", WIRE(WIRE_DROP, .count = 5)},
    {"{wire: {corrupt: 2}}", WIRE(WIRE_CORRUPT, .count = 2)},
    {"{wire: {split: 200ms}}", WIRE(WIRE_SPLIT, .dur_ms = 200)},
    {"{wire: {garbage: \"\\x01\\xFFab\\0\"}}",
     WIRE(WIRE_GARBAGE, .bytes = {0x01, 0xFF, 'a', 'b', 0}, .n = 5)},
    {"{wire: {garbage: x}}", WIRE(WIRE_GARBAGE, .bytes = {'x'}, .n = 1)},
    {"{wire: {alert_inside: \"!\"}}",
     WIRE(WIRE_ALERT_INSIDE, .bytes = {'!'}, .n = 1)},
    {"{wire: {alert_inside: \"&\"}}",
     WIRE(WIRE_ALERT_INSIDE, .bytes = {'&'}, .n = 1)},
    {"{wire: {comms: lost}}", WIRE(WIRE_COMMS_LOST)},
    {"{wire: {comms: back}}", WIRE(WIRE_COMMS_BACK)},
    {"{end: true}", {.kind = SCEN_END}},
    /* spellings a control line may also have */
    {"line: off", UNIT(UPS_EV_LINE, .value = 0)},
    {"{load: 5}\n", UNIT(UPS_EV_LOAD, .value = 5)},
    {"{load: 5}\r\n", UNIT(UPS_EV_LOAD, .value = 5)},
    {"  { \"load\" : '7' }  ", UNIT(UPS_EV_LOAD, .value = 7)},
};

static void test_lines(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof good_lines / sizeof good_lines[0]; i++) {
		const struct good *g = &good_lines[i];
		struct scen_action a;
		memset(&diag, 0, sizeof diag);
		enum ups_rc rc = scen_parse_line(g->line, strlen(g->line), &a,
						 &diag);
		if (rc != UPS_OK || !act_equal(&a, &g->want)) {
			char buf[600];
			print_error(
			    "line %zu \"%s\": rc %d %s\n", i, g->line, rc,
			    rc ? ups_diag_format(&diag, buf, sizeof buf) : "");
			print_act("got", &a);
			print_act("want", &g->want);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* The same keys as timeline entries: "{k: v}" -> "- {at: 7s, k: v}". */
static void test_entries(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof good_lines / sizeof good_lines[0]; i++) {
		const struct good *g = &good_lines[i];
		char doc[256];
		if (g->line[0] != '{')
			continue;
		snprintf(doc, sizeof doc, "timeline:\n  - {at: 7s, %s\n",
			 g->line + 1);
		enum ups_rc rc = parse(doc);
		bool ok = rc == UPS_OK && sc.n_steps == 1 && sc.n_init == 0 &&
			  sc.steps[0].at_ms == 7000 &&
			  sc.steps[0].line == 2 && sc.steps[0].col == 14 &&
			  act_equal(&sc.steps[0].act, &g->want);
		if (!ok) {
			char buf[600];
			print_error("entry %zu \"%s\": rc %d %s\n", i, doc, rc,
				    rc ? ups_diag_format(&diag, buf, sizeof buf)
				       : "");
			if (!rc && sc.n_steps)
				print_act("got", &sc.steps[0].act);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ */
/* Durations                                                           */

static void test_durations(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t ms;
	} good[] = {
	    {"250ms", 250},
	    {"30s", 30000},
	    {"5m", 300000},
	    {"1h30m", 5400000},
	    {"1h 30m", 5400000},
	    {"2d", 172800000},
	    {"90", 90000},
	    {"0", 0},
	    {"0.25", 250},
	    {"1.5s", 1500},
	    {"1.5h", 5400000},
	    {".5s", 500},
	    {"0.1s", 100},
	    {"0.001s", 1},
	    {"1.0000000000s", 1000},
	    {"0ms", 0},
	    {"1d1h1m1s1ms", 90061001},
	    {"1d 2h 3m 4s 5ms", 93784005},
	    {" 5s ", 5000},
	    {"3650d", 3650ull * 86400000},
	    {"0.5m", 30000},
	    {"2.5d", 216000000},
	    {"007s", 7000},
	    {"1h0m", 3600000},
	};
	static const char *bad[] = {
		"", " ", "s", "ms", "5x", "1h30",
		"30m1h", "1h1h", "1s1s", "5ms1s", "-5s", "+5s", "1e3", "0x10",
		"5.", "5.s", "1..5s", "0.0001s", "0.0005", "3651d",
		"99999999999999999999999d", "1h 30", "h1", "1 h", "1H", "1S",
		"1min", "1sec", "1.5.5s", "1h-30m", "nan", "inf", "1,5s",
		"1d2d", "5m5m", "1ms1m", "\t5s",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		uint64_t ms = 12345;
		if (scen_duration(good[i].s, &ms) != UPS_OK ||
		    ms != good[i].ms) {
			print_error("\"%s\": got %llu, want %llu\n", good[i].s,
				    (unsigned long long)ms,
				    (unsigned long long)good[i].ms);
			fail();
		}
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t ms = 12345;
		if (scen_duration(bad[i], &ms) != UPS_EPARSE || ms != 12345) {
			print_error("\"%s\" was accepted (%llu)\n", bad[i],
				    (unsigned long long)ms);
			fail();
		}
	}
	uint64_t ms;
	assert_int_equal(scen_duration(NULL, &ms), UPS_EARG);
	assert_int_equal(scen_duration("1s", NULL), UPS_EARG);
}

/* ------------------------------------------------------------------ */
/* A whole scenario                                                    */

static void test_full(void **state)
{
	(void)state;
	static const char doc[] =
	    "description: \"Outage until low battery\"\n"   /* 1 */
	    "profile: smart-ups-1500            # a name\n" /* 2 */
	    "initial:\n"				    /* 3 */
	    "  line_min: 118\n"				    /* 4 */
	    "  transfer_cause: O\n"			    /* 5 */
	    "  line_frequency: 60\n"			    /* 6 */
	    "  charge: 100\n"				    /* 7 */
	    "  battery_health: 1.0\n"			    /* 8 */
	    "  load: 40\n"				    /* 9 */
	    "  line_voltage: 120\n"			    /* 10 */
	    "  temperature: 35\n"			    /* 11 */
	    "  ambient: 25\n"				    /* 12 */
	    "  humidity: 40\n"				    /* 13 */
	    "  contacts: 0\n"				    /* 14 */
	    "  dip: 0\n"				    /* 15 */
	    "  bad_packs: 1\n"				    /* 16 */
	    "  packs: 2\n"				    /* 17 */
	    "  line_max: 121\n"				    /* 18 */
	    "timeline:\n"				    /* 19 */
	    "  - at: 30s\n"				    /* 20 */
	    "    line: off\n"				    /* 21 */
	    "  - after: 5m\n"				    /* 22 */
	    "    line: on\n"				    /* 23 */
	    "  - at: 1h\n"				    /* 24 */
	    "    repeat: { every: 2h, times: 3 }\n"	    /* 25 */
	    "    line: { voltage: 95, frequency: 60 }\n"    /* 26 */
	    "  - at: 3h\n"				    /* 27 */
	    "    end: true\n"				    /* 28 */
	    "end: 24h\n";
	assert_parses(doc);
	assert_string_equal(sc.name, "t");
	assert_string_equal(sc.source, "t.yaml");
	assert_string_equal(sc.description, "Outage until low battery");
	assert_string_equal(sc.profile, "smart-ups-1500");
	assert_null(sc.overlay);
	assert_int_equal(sc.overlay_len, 0);
	assert_true(sc.end_ms == 24ull * 3600000);

	/* initial: the documented order, whatever the file's */
	static const struct scen_action want_init[] = {
		UNIT(UPS_EV_CHARGE, .value = 100),
		UNIT(UPS_EV_BATT_HEALTH, .value = 1),
		UNIT(UPS_EV_LOAD, .value = 40),
		UNIT(UPS_EV_LINE, .value = 120, .value2 = 60),
		UNIT(UPS_EV_TEMP, .value = 35),
		UNIT(UPS_EV_AMBIENT, .value = 25),
		UNIT(UPS_EV_HUMIDITY, .value = 40),
		UNIT(UPS_EV_CONTACTS, .ivalue = 0),
		UNIT(UPS_EV_DIP, .ivalue = 0),
		UNIT(UPS_EV_PACKS, .ivalue = 2),
		UNIT(UPS_EV_BAD_PACKS, .ivalue = 1),
		UNIT(UPS_EV_CAUSE, .ivalue = 'O'),
		UNIT(UPS_EV_LINE_MINMAX, .value = 121, .value2 = 118),
	};
	assert_int_equal(sc.n_init, sizeof want_init / sizeof want_init[0]);
	for (size_t i = 0; i < sc.n_init; i++)
		if (!act_equal(&sc.init[i], &want_init[i])) {
			print_act("got", &sc.init[i]);
			print_act("want", &want_init[i]);
			fail_msg("init %zu", i);
		}

	static const struct {
		uint64_t at;
		int line;
		struct scen_action act;
	} want[] = {
		{ 30000, 21, UNIT(UPS_EV_LINE, .value = 0) },
		{ 330000, 23, UNIT(UPS_EV_LINE, .value = -1) },
		{ 3600000, 26, UNIT(UPS_EV_LINE, .value = 95, .value2 = 60) },
		/* the repeat lands on 3h with the end: file order */
		{ 10800000, 26, UNIT(UPS_EV_LINE, .value = 95, .value2 = 60) },
		{ 10800000, 28, { .kind = SCEN_END } },
		{ 18000000, 26, UNIT(UPS_EV_LINE, .value = 95, .value2 = 60) },
	};
	assert_int_equal(sc.n_steps, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < sc.n_steps; i++) {
		assert_true(sc.steps[i].at_ms == want[i].at);
		assert_int_equal(sc.steps[i].line, want[i].line);
		assert_int_equal(sc.steps[i].col, 5);
		assert_true(act_equal(&sc.steps[i].act, &want[i].act));
	}
}

static void test_minimal(void **state)
{
	(void)state;
	/* an empty mapping is a scenario: the default profile, nothing else */
	assert_parses("{}\n");
	assert_string_equal(sc.profile, "");
	assert_int_equal(sc.n_steps, 0);
	assert_int_equal(sc.n_init, 0);
	assert_true(sc.end_ms == UPS_NEVER);
	assert_null(sc.steps);
	assert_parses("description: x\nprofile: ~\ninitial:\ntimeline:\n");
	assert_string_equal(sc.profile, "");
	assert_parses("profile: ./my/ups.yaml\ntimeline: []\nend: 0\n");
	assert_string_equal(sc.profile, "./my/ups.yaml");
	assert_true(sc.end_ms == 0);
	assert_parses("description: \"Überspannung ⚡\"\n");
	assert_string_equal(sc.description, "Überspannung ⚡");

	/* the name is the file stem */
	static const char *srcs[][2] = {
		{ "dir/outage.yaml", "outage" }, { "x.yml", "x" },
		{ "/a/b/c", "c" }, { "plain", "plain" },
	};
	for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
		scen_free(&sc);
		assert_int_equal(scen_parse(srcs[i][0], "{}", 2, &sc, &diag),
				 UPS_OK);
		assert_string_equal(sc.name, srcs[i][1]);
		assert_string_equal(sc.source, srcs[i][0]);
	}
}

static void test_initial(void **state)
{
	(void)state;
	/* line_voltage alone keeps the frequency; line_frequency alone */
	assert_parses("initial: { line_voltage: 0 }\n");
	assert_int_equal(sc.n_init, 1);
	assert_true(
	    act_equal(&sc.init[0], &(struct scen_action)UNIT(UPS_EV_LINE)));
	assert_parses("initial: { line_frequency: 50 }\n");
	assert_int_equal(sc.n_init, 1);
	assert_true(act_equal(&sc.init[0], &(struct scen_action)
			      UNIT(UPS_EV_LINE_FREQ, .value = 50)));
	assert_parses("initial: { humidity: 0, line_max: 0, line_min: 0 }\n");
	assert_int_equal(sc.n_init, 2);
	assert_true(act_equal(&sc.init[1], &(struct scen_action)
			      UNIT(UPS_EV_LINE_MINMAX)));
	assert_parses("initial: { transfer_cause: R, bad_packs: 3 }\n");
	assert_int_equal(sc.n_init, 2);
	assert_int_equal(sc.init[0].ev.kind, UPS_EV_BAD_PACKS);
	assert_int_equal(sc.init[1].ev.ivalue, 'R');
}

static void test_times(void **state)
{
	(void)state;
	/* no at/after: the previous entry's time; after is relative to the
	 * previous entry's own time, not to its repeats */
	assert_parses("timeline:\n"
		      "  - load: 1\n"
		      "  - after: 10s\n"
		      "    load: 2\n"
		      "  - load: 3\n"
		      "  - at: 1m\n"
		      "    repeat: { every: 1m, times: 3 }\n"
		      "    load: 4\n"
		      "  - after: 30s\n"
		      "    load: 5\n"
		      "  - at: 2m\n"
		      "    load: 6\n"
		      "  - at: 2m\n"
		      "    repeat: { times: 2, every: 500ms }\n"
		      "    load: 7\n"
		      "  - load: 8\n");
	static const struct { uint64_t at; double load; } want[] = {
		{ 0, 1 }, { 10000, 2 }, { 10000, 3 }, { 60000, 4 },
		{ 90000, 5 }, { 120000, 4 }, { 120000, 6 }, { 120000, 7 },
		{ 120000, 8 }, { 120500, 7 }, { 180000, 4 },
	};
	assert_int_equal(sc.n_steps, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < sc.n_steps; i++) {
		if (sc.steps[i].at_ms != want[i].at ||
		    sc.steps[i].act.ev.value != want[i].load)
			fail_msg("step %zu: %llu load %g", i,
				 (unsigned long long)sc.steps[i].at_ms,
				 sc.steps[i].act.ev.value);
	}

	/* a large expansion sorts stably: two interleaved repeats */
	assert_parses(
	    "timeline:\n"
	    "  - { at: 0, repeat: { every: 2s, times: 5000 }, load: 1 }\n"
	    "  - { at: 1s, repeat: { every: 1s, times: 9000 }, load: 2 }\n");
	assert_int_equal(sc.n_steps, 14000);
	for (size_t i = 1; i < sc.n_steps; i++) {
		assert_true(sc.steps[i - 1].at_ms <= sc.steps[i].at_ms);
		if (sc.steps[i - 1].at_ms == sc.steps[i].at_ms)
			assert_true(sc.steps[i - 1].act.ev.value == 1 &&
				    sc.steps[i].act.ev.value == 2);
	}

	/* exactly SCEN_MAX_STEPS is allowed */
	assert_parses(
	    "timeline:\n"
	    "  - { at: 0, repeat: { every: 1ms, times: 99999 }, load: 1 }\n"
	    "  - { end: true }\n");
	assert_int_equal(sc.n_steps, SCEN_MAX_STEPS);
	assert_int_equal(sc.steps[1].act.kind, SCEN_END); /* at 0, 2nd */
	assert_true(sc.steps[SCEN_MAX_STEPS - 1].at_ms == 99998);
}

/* ------------------------------------------------------------------ */
/* profile and its overlay                                             */

static void test_overlay(void **state)
{
	(void)state;
	static const char doc[] =
		"description: ov\n"
		"profile:\n"
		"  name: smart-ups-1500\n"
		"  override:\n"
		"    battery: { runtime_full_load: 2 }   # short\n"
		"    identity:\n"
		"      serial: \"SC0000000001\"\n"
		"\n"
		"    # a comment inside\n"
		"    timing: { selftest: 4000 }\n"
		"timeline:\n"
		"  - at: 1s\n"
		"    load: 50\n";
	assert_parses(doc);
	assert_string_equal(sc.profile, PROF_DEFAULT_NAME);
	assert_non_null(sc.overlay);
	assert_int_equal(sc.overlay_line, 5);
	assert_int_equal(strlen(sc.overlay), sc.overlay_len);
	/* the file's own text, at its own column; line 1 is line 5 */
	assert_memory_equal(sc.overlay, "    battery: {", 14);
	assert_non_null(strstr(sc.overlay, "timing: { selftest: 4000 }"));
	assert_null(strstr(sc.overlay, "timeline"));

	static struct ups_profile p, base;
	assert_int_equal(prof_load(PROF_DEFAULT_NAME, &base, &diag), UPS_OK);
	p = base;
	assert_int_equal(prof_overlay(&p, sc.overlay, sc.overlay_len,
				      sc.source, &diag), UPS_OK);
	assert_true(p.runtime_full_load_min == 2);
	assert_int_equal(p.selftest_ms, 4000);
	assert_string_equal(p.serial, "SC0000000001");
	assert_string_equal(p.model, base.model);

	/* an error in the override comes back at its place in the file */
	static const char bad[] =
		"profile:\n"
		"  name: smart-ups-1500\n"
		"  override:\n"
		"    battery:\n"
		"      charge: 150\n";
	assert_parses(bad);
	p = base;
	assert_int_equal(prof_overlay(&p, sc.overlay, sc.overlay_len,
				      sc.source, &diag), UPS_EPARSE);
	assert_string_equal(diag.file, "t.yaml");
	assert_int_equal(sc.overlay_line, 4);
	assert_int_equal(diag.line + sc.overlay_line - 1, 5);
	assert_int_equal(diag.col, 15);
	assert_string_equal(diag.msg,
			    "battery.charge: out of range (0 to 100)");

	/* flow style, after a BOM and multi-byte characters on the line */
	static const char flow[] =
		"\xEF\xBB\xBF" "description: \"\xC3\xA9\xC3\xA9\"\n"
		"profile: { override: { \xC3\xA9: 1 } }\n";
	assert_parses(flow);
	assert_string_equal(sc.profile, "");
	assert_int_equal(sc.overlay_line, 2);
	p = base;
	assert_int_equal(prof_overlay(&p, sc.overlay, sc.overlay_len,
				      sc.source, &diag), UPS_EPARSE);
	assert_int_equal(diag.line + sc.overlay_line - 1, 2);
	assert_int_equal(diag.col, 24);

	/* anchors inside the override are fine; an alias node as the
	 * override is its anchor's text */
	assert_parses("profile:\n  override:\n    battery: &b { charge: 50 }\n"
		      "    accessory: { humidity: *b }\n");
	assert_parses(
	    "profile:\n  override: &o\n    battery: { charge: 50 }\n");
	p = base;
	assert_int_equal(prof_overlay(&p, sc.overlay, sc.overlay_len,
				      sc.source, &diag), UPS_OK);
	assert_true(p.battery_charge == 50);
	assert_parses(
	    "profile:\n  override: !!map\n    battery: { charge: 60 }\n");
	p = base;
	assert_int_equal(prof_overlay(&p, sc.overlay, sc.overlay_len,
				      sc.source, &diag), UPS_OK);
	assert_true(p.battery_charge == 60);

	/* the other shapes: no overlay */
	assert_parses("profile: { name: smart-ups-400 }\n");
	assert_string_equal(sc.profile, "smart-ups-400");
	assert_null(sc.overlay);
	assert_parses("profile: { name: smart-ups-400, override: ~ }\n");
	assert_null(sc.overlay);
	assert_parses("profile: { override: {} }\n");
	assert_non_null(sc.overlay);
	p = base;
	assert_int_equal(prof_overlay(&p, sc.overlay, sc.overlay_len,
				      sc.source, &diag), UPS_OK);
	assert_memory_equal(&p, &base, sizeof p);
}

/* ------------------------------------------------------------------ */
/* Malformed documents: exact position and message                     */

struct bad {
	const char *text;
	int line, col;
	const char *msg; /* the whole diag.msg */
};

#define TL "timeline:\n"
#define DUR_MSG "expected a duration such as 250ms, 30s, 5m, 1h30m or 2d " \
		"(a bare number is seconds)"

static const struct bad bad_docs[] = {
    /* the document */
    {"", 1, 1, "empty scenario (expected a mapping with a timeline)"},
    {"# only a comment\n", 1, 1,
     "empty scenario (expected a mapping with "
     "a timeline)"},
    {"- a\n", 1, 1,
     "a scenario is a mapping of keys (description, profile, "
     "initial, timeline, end), got a list"},
    {"just text\n", 1, 1,
     "a scenario is a mapping of keys (description, "
     "profile, initial, timeline, end), got a single value"},
    {"end: 1h\n---\nend: 2h\n", 3, 1,
     "only one YAML document per scenario "
     "(a second one starts here)"},
    {"timeline: [\n", 2, 1,
     "YAML syntax error: did not find expected node "
     "content (while parsing a flow node at 2:1)"},
    {"a: b: c\n", 1, 5,
     "YAML syntax error: mapping values are not allowed "
     "in this context"},
    {"\xFF\xFE"
     "e\0n\0d\0",
     1, 1,
     "scenario must be UTF-8 (this one starts "
     "with a UTF-16 byte-order mark)"},
    {"? [a]\n: b\n", 1, 3, "keys must be plain words, got a list"},
    /* top-level keys */
    {"timline: []\n", 1, 1,
     "unknown key at the top level (did you mean "
     "\"timeline\"?)"},
    {"foo: 1\n", 1, 1,
     "unknown key at the top level (known: description, "
     "profile, initial, timeline, end)"},
    {"end: 1h\nend: 2h\n", 2, 1, "end: duplicate key"},
    {"end: soon\n", 1, 6, "end: " DUR_MSG},
    {"end: 30m1h\n", 1, 6,
     "end: the units of a duration go from the "
     "largest to the smallest, each at most once (1h30m, not 30m1h)"},
    {"end: 0.0001s\n", 1, 6, "end: not a whole number of milliseconds"},
    {"end: 4000d\n", 1, 6, "end: duration too long (at most 3650d)"},
    {"end: [1h]\n", 1, 6, "end: expected a duration, got a list"},
    {"description: [a]\n", 1, 14, "description: expected text, got a list"},
    {"description: \"a\\x01\"\n", 1, 14,
     "description: character 2 is a "
     "control character (not allowed here)"},
    {"description: "
     "\"012345678901234567890123456789012345678901234567890123456789"
     "012345678901234567890123456789012345678901234567890123456789"
     "0123456789012345678901234567890123456789\"\n",
     1, 14, "description: too long (160 bytes, at most 159)"},
    /* profile */
    {"profile: [a]\n", 1, 10,
     "profile: expected a name, a path or { name: "
     "..., override: { ... } }, got a list"},
    {"profile: \"\"\n", 1, 10, "profile: expected a profile name or path"},
    {"profile: { nam: x }\n", 1, 12,
     "unknown key in profile (did you mean "
     "\"name\"?)"},
    {"profile: { name: a, name: b }\n", 1, 21,
     "profile.name: duplicate "
     "key"},
    {"profile: { name: [a] }\n", 1, 18,
     "profile.name: expected text, got a "
     "list"},
    {"profile: { override: [1] }\n", 1, 22,
     "profile.override: expected a "
     "mapping of the profile schema (battery: { ... } ...), got a list"},
    {"description: &a \"50\"\nprofile:\n  override: { battery: { charge: "
     "*a } }\n",
     3, 34,
     "profile.override: an alias to an anchor outside "
     "the override (it must stand on its own)"},
    /* initial */
    {"initial: 5\n", 1, 10,
     "initial: expected a mapping (charge: 100, load: "
     "40 ...), got a single value"},
    {"initial: { lod: 5 }\n", 1, 12,
     "unknown key in initial (did you mean "
     "\"load\"?)"},
    {"initial: { line: off }\n", 1, 12,
     "unknown key in initial (known: "
     "charge, battery_health, load, line_voltage, line_frequency, "
     "temperature, ambient, humidity, contacts, dip, packs, bad_packs, "
     "transfer_cause, line_max, line_min)"},
    {"initial: { charge: 101 }\n", 1, 20,
     "initial.charge: out of range (0 "
     "to 100)"},
    {"initial: { load: 5, load: 6 }\n", 1, 21,
     "initial.load: duplicate "
     "key"},
    {"initial: { line_max: 121 }\n", 1, 12,
     "initial.line_max: needs "
     "line_min too (M and N are set together)"},
    {"initial: { line_min: 121 }\n", 1, 12,
     "initial.line_min: needs "
     "line_max too (M and N are set together)"},
    {"initial: { line_max: 110, line_min: 120 }\n", 1, 27,
     "initial.line_min: above line_max"},
    {"initial: { transfer_cause: X }\n", 1, 28,
     "initial.transfer_cause: "
     "expected one of R H L T O S K (the G reply)"},
    {"initial: { transfer_cause: RH }\n", 1, 28,
     "initial.transfer_cause: "
     "expected one of R H L T O S K (the G reply)"},
    {"initial: { packs: 1, bad_packs: 2 }\n", 1, 22,
     "initial.bad_packs: "
     "more bad packs than packs"},
    {"initial: { contacts: 16 }\n", 1, 22,
     "initial.contacts: out of range "
     "(0 to 15)"},
    {"initial: { dip: 1.5 }\n", 1, 17,
     "initial.dip: expected a whole number "
     "(decimal or 0x hex)"},
    {"initial: { line_frequency: 0 }\n", 1, 28,
     "initial.line_frequency: out "
     "of range (1 to 99.99)"},
    {"initial: { battery_health: 1.5 }\n", 1, 28,
     "initial.battery_health: "
     "out of range (0 to 1)"},
    /* timeline shape */
    {"timeline: { at: 1s }\n", 1, 11,
     "timeline: expected a list of entries "
     "(- at: 30s ...), got a mapping"},
    {TL "  - line off\n", 2, 5,
     "timeline: each entry is a mapping ({ at: "
     "30s, line: off }), got a single value"},
    {TL "  - at: 1s\n    lod: 5\n", 3, 5,
     "unknown key (did you mean "
     "\"load\"?)"},
    {TL "  - at: 1s\n    frobnicate: 5\n", 3, 5,
     "unknown key (not an event "
     "key, nor at, after or repeat; see docs/scenarios.md)"},
    {TL "  - aftr: 1s\n    load: 5\n", 2, 5,
     "unknown key (did you mean "
     "\"after\"?)"},
    {TL "  - at: 1s\n", 2, 5,
     "no event in this entry (besides at, after and "
     "repeat it needs one event key, such as line, load or fault)"},
    {TL "  - at: 1s\n    line: off\n    load: 5\n", 4, 5,
     "two events in one "
     "entry (line and load); give each its own entry"},
    {TL "  - {at: 1s, line: off, line: on}\n", 2, 25, "line: duplicate key"},
    {TL "  - at: 1s\n    at: 2s\n    line: off\n", 3, 5, "at: duplicate key"},
    {TL "  - {at: 1s, after: 2s, line: off}\n", 2, 14,
     "at and after: give "
     "one or the other"},
    {TL "  - {after: 1s, at: 2s, line: off}\n", 2, 17,
     "at and after: give "
     "one or the other"},
    {TL "  - {at: 30s, line: off}\n  - {at: 10s, line: on}\n", 3, 10,
     "events out of order: 10s is before the previous entry at 30s"},
    {TL "  - {at: 1h30m, line: off}\n  - {at: 1h, line: on}\n", 3, 10,
     "events out of order: 1h is before the previous entry at 1h30m"},
    {TL "  - {at: 1m, line: off}\n  - {after: 1s, line: on}\n"
	"  - {at: 1m0.5s, load: 1}\n",
     4, 10,
     "events out of order: 1m500ms is "
     "before the previous entry at 1m1s"},
    {TL "  - {at: -5s, line: off}\n", 2, 10, "at: " DUR_MSG},
    {TL "  - {after: 1h30, line: off}\n", 2, 13, "after: " DUR_MSG},
    /* repeat */
    {TL "  - {repeat: {every: 1s, times: 0}, load: 1}\n", 2, 33,
     "repeat.times: out of range (1 to 100000)"},
    {TL "  - {repeat: {every: 1s, times: 100001}, load: 1}\n", 2, 33,
     "repeat.times: out of range (1 to 100000)"},
    {TL "  - {repeat: {every: 0, times: 2}, load: 1}\n", 2, 22,
     "repeat.every: must be more than 0"},
    {TL "  - {repeat: {every: 1s}, load: 1}\n", 2, 14,
     "repeat: needs every "
     "and times ({ every: 2h, times: 10 })"},
    {TL "  - {repeat: 5, load: 1}\n", 2, 14,
     "repeat: expected { every: "
     "DURATION, times: N }, got a single value"},
    {TL "  - {repeat: {every: 1s, times: 3, count: 1}, load: 1}\n", 2, 36,
     "unknown key in repeat (known: every, times)"},
    {TL "  - {repeat: {every: 1s, times: 2.5}, load: 1}\n", 2, 33,
     "repeat.times: expected a whole number (decimal or 0x hex)"},
    {TL "  - {repeat: {every: 1ms, times: 100000}, load: 1}\n"
	"  - {load: 2}\n",
     3, 5,
     "too many steps: the timeline would have "
     "100001 after expanding repeats, at most 100000"},
    {TL "  - {load: 2}\n  - {repeat: {every: 1ms, times: 100000}, load: 1}\n",
     3, 14,
     "too many steps: the timeline would have 100001 after "
     "expanding repeats, at most 100000"},
    /* event values */
    {TL "  - load: 300\n", 2, 11, "load: out of range (0 to 200)"},
    {TL "  - load: abc\n", 2, 11, "load: expected a decimal number"},
    {TL "  - load: nan\n", 2, 11, "load: expected a decimal number"},
    {TL "  - load: [1]\n", 2, 11, "load: expected a number, got a list"},
    {TL "  - overload: 90\n", 2, 15,
     "overload: out of range (more than 100, "
     "at most 200; for 100 or less use load)"},
    {TL "  - line: maybe\n", 2, 11,
     "line: expected on, off, a voltage or { "
     "voltage: V, frequency: Hz }"},
    {TL "  - line: 1000\n", 2, 11, "line: out of range (0 to 999.9)"},
    {TL "  - line: [1]\n", 2, 11,
     "line: expected on, off, a voltage or { "
     "voltage: V, frequency: Hz }, got a list"},
    {TL "  - line: {frequency: 50}\n", 2, 11,
     "line: needs a voltage ({ "
     "voltage: V, frequency: Hz }; for the frequency alone use frequency: "
     "Hz)"},
    {TL "  - line: {voltage: 120, frequency: 0}\n", 2, 37,
     "line.frequency: out of range (1 to 99.99)"},
    {TL "  - line: {voltage: 120, hz: 50}\n", 2, 26,
     "unknown key in line "
     "(known: voltage, frequency)"},
    {TL "  - brownout: 0\n", 2, 15, "brownout: out of range (1 to 999.9)"},
    {TL "  - notch: 0\n", 2, 12, "notch: must be longer than 0"},
    {TL "  - spike: 2d\n", 2, 12, "spike: too long (at most 1d)"},
    {TL "  - fault: fna\n", 2, 12,
     "fault: unknown fault (did you mean "
     "\"fan\"?)"},
    {TL "  - fault: xyzzy\n", 2, 12,
     "fault: unknown fault (known: charger, "
     "overtemp, main_relay, bypass_relay, fan, isolation_fan, "
     "bypass_supply, inverter, boost_relay, dc_imbalance)"},
    {TL "  - fault: {name: fan, on: maybe}\n", 2, 28,
     "fault.on: expected "
     "true or false"},
    {TL "  - fault: {on: false}\n", 2, 12,
     "fault: needs a name ({ name: fan, "
     "on: false })"},
    {TL "  - clear: [fan]\n", 2, 12,
     "clear: expected a fault name, got a "
     "list"},
    {TL "  - battery: remove\n", 2, 14,
     "battery: expected replace, "
     "disconnect, connect or { health: 0 to 1 }"},
    {TL "  - battery: {health: 2}\n", 2, 23,
     "battery.health: out of range "
     "(0 to 1)"},
    {TL "  - charger: broken\n", 2, 14, "charger: expected fail or ok"},
    {TL "  - overtemp: yes\n", 2, 15, "overtemp: expected on or off"},
    {TL "  - button: maybe\n", 2, 13, "button: expected on or off"},
    {TL "  - self_test: false\n", 2, 16,
     "self_test: expected true (it "
     "starts a self-test)"},
    {TL "  - end: false\n", 2, 10,
     "end: expected true (the scenario ends "
     "here)"},
    {TL "  - humidity: 101\n", 2, 15, "humidity: out of range (0 to 100)"},
    {TL "  - temperature: -41\n", 2, 18,
     "temperature: out of range (-40 to "
     "150)"},
    {TL "  - ambient: 100.5\n", 2, 14, "ambient: out of range (-40 to 100)"},
    {TL "  - packs: 256\n", 2, 12, "packs: out of range (0 to 255)"},
    {TL "  - frequency: 0.5\n", 2, 16,
     "frequency: out of range (1 to "
     "99.99)"},
    /* wire */
    {TL "  - wire: silence\n", 2, 11,
     "wire: expected a mapping with one wire "
     "fault (silence, delay, drop, corrupt, split, garbage, alert_inside, "
     "comms), got a single value"},
    {TL "  - wire: {}\n", 2, 11,
     "wire: expected one wire fault (silence, "
     "delay, drop, corrupt, split, garbage, alert_inside, comms)"},
    {TL "  - wire: {silence: 1s, delay: 2s}\n", 2, 25,
     "wire: one fault at "
     "a time (silence and delay); give each its own entry"},
    {TL "  - wire: {silense: 1s}\n", 2, 12,
     "unknown key in wire (did you "
     "mean \"silence\"?)"},
    {TL "  - wire: {silence: 0}\n", 2, 21,
     "wire.silence: must be longer "
     "than 0"},
    {TL "  - wire: {split: 0ms}\n", 2, 19,
     "wire.split: must be longer than "
     "0"},
    {TL "  - wire: {drop: 0}\n", 2, 18,
     "wire.drop: out of range (1 to "
     "1000000)"},
    {TL "  - wire: {garbage: \"\"}\n", 2, 21,
     "wire.garbage: empty (give 1 to "
     "64 bytes)"},
    {TL "  - wire: {garbage: "
	"\"0123456789012345678901234567890123456789012345678901234567890123"
	"4\"}\n",
     2, 21, "wire.garbage: too long (65 bytes, at most 64)"},
    {TL "  - wire: {garbage: \"\\u0100\"}\n", 2, 21,
     "wire.garbage: character "
     "1 is above U+00FF, not a byte (write bytes 0x80-0xFF as \"\\xNN\")"},
    {TL "  - wire: {alert_inside: x}\n", 2, 26,
     "wire.alert_inside: expected "
     "one UPS-Link alert character (one of ! $ % + # ? = * | &; quote it: "
     "\"!\")"},
    {TL "  - wire: {comms: gone}\n", 2, 19,
     "wire.comms: expected lost or "
     "back"},
};

static void test_malformed(void **state)
{
	(void)state;
	int failures = 0;
	size_t n = sizeof bad_docs / sizeof bad_docs[0];
	assert_true(n >= 35);
	for (size_t i = 0; i < n; i++) {
		const struct bad *b = &bad_docs[i];
		/* the UTF-16 document has NULs: measure it by hand */
		size_t len = b->text[0] == '\xFF' ? 8 : strlen(b->text);
		scen_free(&sc);
		memset(&diag, 0, sizeof diag);
		enum ups_rc rc = scen_parse("t.yaml", b->text, len, &sc, &diag);
		bool ok = rc == UPS_EPARSE && diag.line == b->line &&
			  diag.col == b->col && !strcmp(diag.msg, b->msg) &&
			  !strcmp(diag.file, "t.yaml") && !sc.steps &&
			  !sc.init && !sc.overlay && sc.n_steps == 0;
		if (!ok) {
			char buf[600];
			print_error(
			    "case %zu: rc %d, got \"%s\"\n  want %d:%d: %s\n",
			    i, rc, ups_diag_format(&diag, buf, sizeof buf),
			    b->line, b->col, b->msg);
			failures++;
		}
	}
	assert_int_equal(failures, 0);
}

/* ------------------------------------------------------------------ */
/* Malformed control lines                                             */

static const struct bad bad_line_msgs[] = {
    {"{lod: 5}", 1, 2, "unknown key (did you mean \"load\"?)"},
    {"{aftr: 5}", 1, 2,
     "unknown key (not an event key; see "
     "docs/scenarios.md)"},
    {"{rpeat: 5}", 1, 2,
     "unknown key (not an event key; see "
     "docs/scenarios.md)"},
    {"{lne: {voltage: 1}}", 1, 2,
     "unknown key (did you mean "
     "\"line\"?)"},
    {"{load: 300}", 1, 8, "load: out of range (0 to 200)"},
    {"{at: 5s, load: 1}", 1, 2,
     "at: not allowed in a control line (its "
     "event applies at once)"},
    {"{load: 1, line: off}", 1, 11,
     "two events in one line (load and "
     "line); send each on its own line"},
    {"{}", 1, 1, "no event (expected one, such as {line: off})"},
    {"", 1, 1,
     "empty control line (expected one event, such as {line: "
     "off})"},
    {"[line, off]", 1, 1,
     "a control line is a mapping with one event, such "
     "as {line: off}; got a list"},
    {"{line: on}\n{line: off}", 1, 11,
     "a control line is one line (a line "
     "break here)"},
    {"{é: 1}\r{load: 1}", 1, 7,
     "a control line is one line (a line break "
     "here)"},
    {"{line: off", 1, 11,
     "YAML syntax error: did not find expected ',' "
     "or '}' (while parsing a flow mapping at 1:1)"},
};

/* 100 lines that must all be refused. */
static const char *bad_lines[] = {
	"", " ", "\n", "\r\n", "{}", "[]", "~", "null", "load", "load:",
	"{load}", "{load: }", "{load: ~}", "{load: -1}", "{load: 201}",
	"{load: 1e400}", "{load: nan}", "{load: .inf}", "{load: 0x10}",
	"{load: [1]}", "{load: {a: 1}}", "{lod: 1}", "{LOAD: 1}", "{Load: 1}",
	"{at: 1s}", "{after: 1s, load: 1}", "{repeat: {every: 1s, times: 2}}",
	"{load: 1, charge: 2}", "{load: 1, load: 2}", "{line: of}",
	"{line: true}", "{line: -1}", "{line: 1000}", "{line: {}}",
	"{line: {voltage: 1, frequency: 100}}", "{line: {voltage: x}}",
	"{line: {volts: 1}}", "{frequency: 0}", "{frequency: 100}",
	"{brownout: 0}", "{surge: off}", "{notch: 0}", "{notch: 2d}",
	"{spike: x}", "{rate_of_change: -1s}", "{overload: 100}",
	"{overload: 201}", "{charge: 100.1}", "{charge: -0.1}",
	"{battery: new}", "{battery: {health: -1}}", "{battery: {hp: 1}}",
	"{battery: [replace]}", "{battery_health: 2}", "{charger: on}",
	"{temperature: 151}", "{ambient: -41}", "{humidity: -1}",
	"{contacts: 16}", "{contacts: 1.5}", "{dip: 256}", "{dip: -1}",
	"{packs: 1000}", "{bad_packs: x}", "{transfer_cause: U}",
	"{transfer_cause: \"\"}", "{transfer_cause: [R]}", "{fault: nope}",
	"{fault: {name: fan, on: 1}}", "{fault: {name: fan, off: true}}",
	"{fault: [fan]}", "{clear: {name: fan}}", "{clear: fan_}",
	"{overtemp: true}", "{button: 1}", "{self_test: yes}",
	"{self_test: false}", "{wire: {}}", "{wire: x}",
	"{wire: {silence: 0}}", "{wire: {delay: -1}}", "{wire: {drop: 0}}",
	"{wire: {corrupt: 1000001}}", "{wire: {split: 1h30}}",
	"{wire: {garbage: \"\"}}", "{wire: {garbage: [1]}}",
	"{wire: {alert_inside: \"!!\"}}", "{wire: {alert_inside: a}}",
	"{wire: {comms: up}}", "{wire: {silence: 1s, drop: 2}}",
	"{end: false}", "{end: 1h}", "{line: off", "{line: off}}",
	"{line: off} extra", "{line: off}\n{load: 1}", "{line: \"\\q\"}",
	"\t{line: off}", "{line: off} # a comment\n---\n",
	"{line: *a}", "? [a]\n: b", "{[a]: b}", "\xFF\xFE{\0}\0",
	"{line: \"\xFF\"}", "{load: 1}\0",
};

static void test_bad_lines(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof bad_line_msgs / sizeof bad_line_msgs[0];
	     i++) {
		const struct bad *b = &bad_line_msgs[i];
		struct scen_action a;
		memset(&diag, 0, sizeof diag);
		enum ups_rc rc = scen_parse_line(b->text, strlen(b->text), &a,
						 &diag);
		if (rc != UPS_EPARSE || diag.line != b->line ||
		    diag.col != b->col || strcmp(diag.msg, b->msg) ||
		    strcmp(diag.file, "<control>")) {
			char buf[600];
			print_error(
			    "line %zu: rc %d, got \"%s\"\n  want %d:%d: %s\n",
			    i, rc, ups_diag_format(&diag, buf, sizeof buf),
			    b->line, b->col, b->msg);
			failures++;
		}
	}
	size_t n = sizeof bad_lines / sizeof bad_lines[0];
	assert_true(n >= 100);
	for (size_t i = 0; i < n; i++) {
		struct scen_action a, zero;
		/* two lines end in a NUL byte the string cannot show */
		size_t len = strlen(bad_lines[i]);
		if (!strcmp(bad_lines[i], "{load: 1}") ||
		    bad_lines[i][0] == '\xFF')
			len += bad_lines[i][0] == '\xFF' ? 3 : 1;
		memset(&a, 0x55, sizeof a);
		memset(&zero, 0, sizeof zero);
		memset(&diag, 0, sizeof diag);
		enum ups_rc rc = scen_parse_line(bad_lines[i], len, &a, &diag);
		if (rc != UPS_EPARSE || diag.line != 1 || diag.col < 1 ||
		    !diag.msg[0] || strcmp(diag.file, "<control>") ||
		    memcmp(&a, &zero, sizeof a)) {
			char buf[600];
			print_error("bad line %zu (\"%s\"): rc %d, %s\n", i,
				    bad_lines[i], rc,
				    ups_diag_format(&diag, buf, sizeof buf));
			failures++;
		}
	}
	assert_int_equal(failures, 0);

	/* too long */
	static char big[5000];
	memset(big, ' ', sizeof big);
	memcpy(big, "{load: 1}", 9);
	struct scen_action a;
	assert_int_equal(scen_parse_line(big, sizeof big, &a, &diag),
			 UPS_EPARSE);
	assert_string_equal(diag.msg, "control line too long (5000 bytes, at "
			    "most 4096)");
	assert_int_equal(scen_parse_line(big, 4096, &a, &diag), UPS_OK);
	/* arguments */
	assert_int_equal(scen_parse_line(NULL, 3, &a, &diag), UPS_EARG);
	assert_int_equal(scen_parse_line("{}", 2, NULL, &diag), UPS_EARG);
	assert_int_equal(scen_parse_line(NULL, 0, &a, NULL), UPS_EPARSE);
}

/* ------------------------------------------------------------------ */
/* Diagnostics never quote the document                                 */

static void test_no_content_in_messages(void **state)
{
	(void)state;
	static const char *docs[] = {
		"root:$6$SECRET$xyz:19000:0:99999:7:::\n",
		"SECRET: 1\n",
		"SECRET\n",
		"description: \"SECRET\\x01\"\n",
		"profile: [SECRET]\n",
		"profile: { SECRET: 1 }\n",
		"profile: { override: SECRET }\n",
		"initial: { SECRET: 1 }\n",
		"initial: { load: SECRET }\n",
		"initial: { transfer_cause: SECRET }\n",
		"end: SECRET\n",
		TL "  - SECRET: 1\n",
		TL "  - at: SECRET\n    load: 1\n",
		TL "  - load: SECRET\n",
		TL "  - line: SECRET\n",
		TL "  - fault: SECRET\n",
		TL "  - fault: SECRE\n",
		TL "  - battery: SECRET\n",
		TL "  - wire: { SECRET: 1 }\n",
		TL "  - wire: { comms: SECRET }\n",
		TL "  - wire: { alert_inside: SECRET }\n",
		TL "  - repeat: { SECRET: 1 }\n    load: 1\n",
		TL "  - repeat: { every: SECRET, times: 2 }\n    load: 1\n",
	};
	for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		enum ups_rc rc = parse(docs[i]);
		struct scen_action a;
		if (rc == UPS_OK || strstr(diag.msg, "SECRET") ||
		    strstr(diag.msg, "ECRE")) {
			char buf[600];
			print_error("doc %zu: rc %d: %s\n", i, rc,
				    ups_diag_format(&diag, buf, sizeof buf));
			fail();
		}
		/* and the same as a control line, where it is one */
		const char *e = strstr(docs[i], "  - ");
		if (e && scen_parse_line(e + 4, strlen(e + 4), &a, &diag) ==
			 UPS_EPARSE && strstr(diag.msg, "ECRE"))
			fail_msg("line %zu quotes the input: %s", i, diag.msg);
	}
}

/* ------------------------------------------------------------------ */
/* The shipped scenarios                                               */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[1 << 20];
	*len = fread(buf, 1, sizeof buf - 1, f);
	assert_int_equal(ferror(f), 0);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

static void test_shipped(void **state)
{
	(void)state;
	static const char *want[] = {
		"outage-low-battery", "short-outages", "brownout-boost",
		"surge-trim", "bad-battery-selftest", "overload", "overtemp",
		"fan-relay-faults", "comms-loss", "measure-ups-alarm",
		"flaky-day",
	};
	bool found[sizeof want / sizeof want[0]] = { false };
	const char *dir = UPSSIM_SOURCE_DIR "/scenarios";
	size_t readme_len;
	char readme[1 << 16];
	char path[512];
	snprintf(path, sizeof path, "%s/README.md", dir);
	const char *r = read_file(path, &readme_len);
	assert_true(readme_len < sizeof readme);
	memcpy(readme, r, readme_len + 1);

	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)) != NULL) {
		size_t nl = strlen(e->d_name), len;
		if (nl < 6 || strcmp(e->d_name + nl - 5, ".yaml"))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		const char *text = read_file(path, &len);
		char buf[600];
		scen_free(&sc);
		enum ups_rc rc = scen_parse(path, text, len, &sc, &diag);
		if (rc != UPS_OK)
			fail_msg("%s", ups_diag_format(&diag, buf, sizeof buf));
		assert_true(sc.description[0] != '\0');
		assert_true(sc.n_steps > 0);
		/* the profile it names loads, and its override applies */
		static struct ups_profile p;
		const char *name =
		    sc.profile[0] ? sc.profile : PROF_DEFAULT_NAME;
		if (prof_load(name, &p, &diag) != UPS_OK)
			fail_msg("%s: %s", e->d_name,
				 ups_diag_format(&diag, buf, sizeof buf));
		if (sc.overlay && prof_overlay(&p, sc.overlay, sc.overlay_len,
					       sc.source, &diag) != UPS_OK)
			fail_msg("%s", ups_diag_format(&diag, buf, sizeof buf));
		/* it ends, and the README describes it */
		assert_true(sc.end_ms != UPS_NEVER);
		char link[96];
		snprintf(link, sizeof link, "(%s)", e->d_name);
		if (!strstr(readme, link))
			fail_msg("scenarios/README.md does not describe %s",
				 e->d_name);
		for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
			if (!strcmp(sc.name, want[i]))
				found[i] = true;
		n++;
	}
	closedir(d);
	assert_true(n >= (int)(sizeof want / sizeof want[0]));
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!found[i])
			fail_msg("scenarios/%s.yaml is missing", want[i]);

	/* flaky-day: a day, a dozen outages */
	snprintf(path, sizeof path, "%s/flaky-day.yaml", dir);
	size_t len;
	const char *text = read_file(path, &len);
	scen_free(&sc);
	assert_int_equal(scen_parse(path, text, len, &sc, &diag), UPS_OK);
	assert_true(sc.end_ms == 24ull * 3600000);
	int outages = 0;
	for (size_t i = 0; i < sc.n_steps; i++)
		if (sc.steps[i].act.kind == SCEN_UNIT &&
		    sc.steps[i].act.ev.kind == UPS_EV_LINE &&
		    sc.steps[i].act.ev.value == 0)
			outages++;
	assert_true(outages >= 12);
	/* measure-ups-alarm: over the default `[` limit */
	snprintf(path, sizeof path, "%s/measure-ups-alarm.yaml", dir);
	text = read_file(path, &len);
	scen_free(&sc);
	assert_int_equal(scen_parse(path, text, len, &sc, &diag), UPS_OK);
	assert_string_equal(sc.profile, "smart-ups-1500-measure");
	static struct ups_profile mp;
	assert_int_equal(prof_load(sc.profile, &mp, &diag), UPS_OK);
	double limit = atof(mp.eeprom['['].values[mp.eeprom['['].def]);
	bool over = false;
	for (size_t i = 0; i < sc.n_steps; i++)
		over |= sc.steps[i].act.ev.kind == UPS_EV_AMBIENT &&
			sc.steps[i].act.ev.value > limit;
	assert_true(over);
}

/* ------------------------------------------------------------------ */
/* Limits and robustness                                               */

static void test_limits(void **state)
{
	(void)state;
	static char text[300000];
	size_t o = (size_t)snprintf(text, sizeof text, "description: ");
	for (int i = 0; i < 100000; i++)
		text[o++] = '[';
	text[o] = '\0';
	assert_int_equal(parse(text), UPS_EPARSE);
	assert_int_equal(diag.line, 1);
	assert_int_equal(diag.col, 45);
	assert_string_equal(diag.msg, "nested more than 32 levels deep (a "
			    "scenario needs about 8)");

	static char big[(1 << 20) + 2];
	memset(big, ' ', sizeof big);
	scen_free(&sc);
	assert_int_equal(scen_parse("t", big, sizeof big, &sc, &diag),
			 UPS_EPARSE);
	assert_string_equal(diag.msg,
			    "scenario is too large (1048578 bytes, at "
			    "most 1048576)");

	/* huge keys and a huge value: refused, not echoed, no crash (a
	 * YAML simple key is at most 1024 characters: longer is a syntax
	 * error) */
	o = (size_t)snprintf(text, sizeof text, TL "  - ");
	for (int i = 0; i < 1000; i++)
		text[o++] = 'k';
	memcpy(text + o, ": 1\n", 5);
	assert_int_equal(parse(text), UPS_EPARSE);
	assert_string_equal(diag.msg, "unknown key (not an event key, nor at, "
			    "after or repeat; see docs/scenarios.md)");
	o = (size_t)snprintf(text, sizeof text, TL "  - ");
	for (int i = 0; i < 200000; i++)
		text[o++] = 'k';
	memcpy(text + o, ": 1\n", 5);
	assert_int_equal(parse(text), UPS_EPARSE);
	assert_null(strstr(diag.msg, "kkkk"));
	o = (size_t)snprintf(text, sizeof text, TL "  - load: ");
	for (int i = 0; i < 200000; i++)
		text[o++] = '9';
	memcpy(text + o, "\n", 2);
	assert_int_equal(parse(text), UPS_EPARSE);
	assert_string_equal(diag.msg, "load: expected a decimal number");

	/* a file name too long for struct scen */
	char longname[300];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	scen_free(&sc);
	assert_int_equal(scen_parse(longname, "{}", 2, &sc, &diag), UPS_EPARSE);
	assert_int_equal(diag.line, 0);
	/* arguments */
	assert_int_equal(scen_parse("x", "{}", 2, NULL, &diag), UPS_EARG);
	assert_int_equal(scen_parse("x", NULL, 2, &sc, &diag), UPS_EARG);
	assert_int_equal(scen_parse(NULL, NULL, 0, &sc, &diag), UPS_EPARSE);
	assert_string_equal(diag.file, "<scenario>");
	scen_free(NULL);
}

static void test_no_crash(void **state)
{
	(void)state;
	uint32_t seed = 4242;
	static char buf[4096];
	static const char alphabet[] =
		"abelinotdrsum:{}[],-\"'\\ \n\t#&*!|>?%@`~0159.hx";
	static const char *seeds[] = {
		"description: x\nprofile: { name: smart-ups-1500, override: { "
		"battery: { charge: 5 } } }\ninitial: { charge: 5, load: 40, "
		"line_voltage: 120, line_max: 121, line_min: 118 }\ntimeline:\n"
		"  - at: 30s\n    line: off\n  - after: 5m\n    line: on\n"
		"  - at: 1h\n    repeat: { every: 2h, times: 10 }\n"
		"    wire: { garbage: \"\\x01\" }\nend: 24h\n",
		"timeline: [ {at: 1s, fault: {name: fan, on: false}}, "
		"{load: 5}, {end: true} ]\n",
	};
	for (int round = 0; round < 4000; round++) {
		size_t len;
		if (round % 2 == 0) {
			const char *s = seeds[(round / 2) % 2];
			len = strlen(s);
			memcpy(buf, s, len);
			for (int k = 0; k < 3; k++) {
				seed = seed * 1103515245u + 12345u;
				size_t at = (seed >> 8) % len;
				seed = seed * 1103515245u + 12345u;
				buf[at] = alphabet[(seed >> 16) %
						   (sizeof alphabet - 1)];
			}
		} else {
			seed = seed * 1103515245u + 12345u;
			len = (seed >> 8) % 512;
			for (size_t k = 0; k < len; k++) {
				seed = seed * 1103515245u + 12345u;
				buf[k] = alphabet[(seed >> 16) %
						  (sizeof alphabet - 1)];
			}
		}
		scen_free(&sc);
		enum ups_rc rc = scen_parse("fuzz", buf, len, &sc, &diag);
		assert_true(rc == UPS_OK || rc == UPS_EPARSE);
		if (rc == UPS_EPARSE)
			assert_true(diag.msg[0] != '\0');
		struct scen_action a;
		rc = scen_parse_line(buf, len, &a, &diag);
		assert_true(rc == UPS_OK || rc == UPS_EPARSE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_lines, teardown),
	    cmocka_unit_test_teardown(test_entries, teardown),
	    cmocka_unit_test_teardown(test_durations, teardown),
	    cmocka_unit_test_teardown(test_full, teardown),
	    cmocka_unit_test_teardown(test_minimal, teardown),
	    cmocka_unit_test_teardown(test_initial, teardown),
	    cmocka_unit_test_teardown(test_times, teardown),
	    cmocka_unit_test_teardown(test_overlay, teardown),
	    cmocka_unit_test_teardown(test_malformed, teardown),
	    cmocka_unit_test_teardown(test_bad_lines, teardown),
	    cmocka_unit_test_teardown(test_no_content_in_messages, teardown),
	    cmocka_unit_test_teardown(test_shipped, teardown),
	    cmocka_unit_test_teardown(test_limits, teardown),
	    cmocka_unit_test_teardown(test_no_crash, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
