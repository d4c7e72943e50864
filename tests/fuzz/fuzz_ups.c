/*
 * fuzz_ups.c - host bytes into a whole simulated unit (codec, dispatcher,
 * model) on every built-in profile.  Input: byte 0 picks the profile; then
 * pairs (op, byte): op's low bits advance virtual time (0 ms .. hours),
 * op 0xF0-0xFF changes the environment (line, load, battery health),
 * op 0xE0-0xEF applies an event built from the byte (ups_apply, any kind,
 * in range or not);
 * otherwise the byte is sent.  Invariants: never crash, time-driven
 * deadlines are never in the past after a tick, every reply line that
 * ends in CR LF has no CR before its end (fixed formats).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/profile.h"
#include "upssim/ups.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ups_profile profiles[32];
static size_t n_profiles;

static void load_all(void)
{
	if (n_profiles)
		return;
	for (size_t i = 0; i < prof_n_builtins && i < 32; i++) {
		struct ups_diag d;
		if (prof_load_from(NULL, prof_builtins[i].name,
				   &profiles[n_profiles], &d) == UPS_OK)
			n_profiles++;
	}
	if (!n_profiles)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load_all();
	if (size < 1)
		return 0;
	const struct ups_profile *p = &profiles[data[0] % n_profiles];
	struct ups *u = ups_new(p, 0);
	if (!u)
		abort();
	struct ups_buf out = { 0 };
	uint64_t t = 0;
	static const uint64_t steps[8] = { 0, 1, 50, 400, 1600, 60000, 3600000, 36000000 };
	for (size_t i = 1; i + 1 < size; i += 2) {
		uint8_t op = data[i], b = data[i + 1];
		if (op >= 0xF0) {
			switch (op & 3) {
			case 0: ups_set_line(u, b, 40 + b % 30, t); break;
			case 1: ups_set_load(u, b, t); break;
			case 2: ups_set_battery_health(u, b & 1, t); break;
			default: ups_set_line(u, p->line_voltage, p->line_freq, t); break;
			}
			continue;
		}
		if (op >= 0xE0) {
			/* any event through ups_apply, in range or not */
			struct ups_event ev = {
				.kind = (enum ups_ev_kind)((op & 0x0F) + (b & 0x10)),
				.value = (double)b * ((op & 1) ? 1.0 : 0.7) - 20.0,
				.value2 = (double)(b % 70),
				.ivalue = (int)b - 8,
				.on = b & 1,
				.fault = (enum ups_fault)(b % (UPS_FAULT__COUNT + 1)),
			};
			if (ev.kind == UPS_EV_NOTCH || ev.kind == UPS_EV_RATE)
				ev.value *= 100.0;
			if (ups_apply(u, &ev, t, &out) == UPS_OK &&
			    ups_next_deadline(u) < t)
				abort();
			if (out.len > 1 << 20)
				abort();
			out.len = 0;
			continue;
		}
		t += steps[op & 7] * (uint64_t)((op >> 3) & 3);
		ups_tick(u, t, &out);
		if (ups_next_deadline(u) < t)
			abort(); /* a due timer was left behind */
		ups_feed(u, &b, 1, t, &out);
		if (out.len > 1 << 20)
			abort(); /* output must stay bounded */
		out.len = 0;
	}
	struct ups_status st;
	ups_get_status(u, t, &st);
	if (st.charge_pct < 0 || st.charge_pct > 100)
		abort();
	ups_buf_free(&out);
	ups_free(u);
	return 0;
}
