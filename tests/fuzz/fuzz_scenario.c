/*
 * fuzz_scenario.c - libFuzzer target for the scenario loader: the input
 * is fed whole to scen_parse() and, as a control line, to
 * scen_parse_line().  Neither may crash, leak or hang.  On success the
 * result must satisfy what the runner relies on (steps sorted, every
 * action one the model or the engine accepts, the overlay a terminated
 * text that starts at the node's own column, strings terminated); on
 * failure the diagnostic must say something printable, point at 1-based
 * positions of the input (a control line's always line 1), and leave
 * nothing behind.
 * A parsed overlay must be laid over the default profile without a crash.
 * A violation aborts, which libFuzzer and replay_main.c report.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upssim/profile.h"
#include "upssim/scenario.h"
#include "upssim/ups.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz_scenario: %s:%d: %s\n",      \
				__FILE__, __LINE__, #cond);                \
			abort();                                           \
		}                                                          \
	} while (0)

#define TERMINATED(buf) CHECK(memchr((buf), '\0', sizeof(buf)) != NULL)

static bool in(double v, double lo, double hi)
{
	return isfinite(v) && v >= lo && v <= hi;
}

/* The ranges docs/scenarios.md promises, within what ups_apply takes. */
static void check_event(const struct ups_event *ev)
{
	switch (ev->kind) {
	case UPS_EV_LINE:
		CHECK(ev->value == -1 || in(ev->value, 0, 999.9));
		CHECK(ev->value2 == 0 || in(ev->value2, 1, 99.99));
		break;
	case UPS_EV_LINE_FREQ:
		CHECK(in(ev->value, 1, 99.99));
		break;
	case UPS_EV_NOTCH:
	case UPS_EV_RATE:
		CHECK(in(ev->value, 1, 86400000.0) &&
		      ev->value == floor(ev->value));
		break;
	case UPS_EV_LOAD:
		CHECK(in(ev->value, 0, 200));
		break;
	case UPS_EV_CHARGE:
	case UPS_EV_HUMIDITY:
		CHECK(in(ev->value, 0, 100));
		break;
	case UPS_EV_BATT_HEALTH:
		CHECK(in(ev->value, 0, 1));
		break;
	case UPS_EV_TEMP:
		CHECK(in(ev->value, -40, 150));
		break;
	case UPS_EV_AMBIENT:
		CHECK(in(ev->value, -40, 100));
		break;
	case UPS_EV_CONTACTS:
		CHECK(ev->ivalue >= 0 && ev->ivalue <= 15);
		break;
	case UPS_EV_DIP:
	case UPS_EV_PACKS:
	case UPS_EV_BAD_PACKS:
		CHECK(ev->ivalue >= 0 && ev->ivalue <= 255);
		break;
	case UPS_EV_CAUSE:
		CHECK(ev->ivalue && strchr("RHLTOSK", ev->ivalue));
		break;
	case UPS_EV_LINE_MINMAX:
		CHECK(in(ev->value, 0, 999.9) && in(ev->value2, 0, ev->value));
		break;
	case UPS_EV_FAULT:
		CHECK((unsigned)ev->fault < UPS_FAULT__COUNT);
		break;
	case UPS_EV_BATT_CONNECTED:
	case UPS_EV_BATT_REPLACED:
	case UPS_EV_BUTTON:
	case UPS_EV_SELFTEST:
		break;
	default:
		CHECK(!"an event kind the model does not know");
	}
}

static void check_action(const struct scen_action *a, bool in_init)
{
	switch (a->kind) {
	case SCEN_UNIT:
		check_event(&a->ev);
		CHECK(a->wire.kind == WIRE_NONE);
		break;
	case SCEN_WIRE:
		CHECK(!in_init && a->ev.kind == UPS_EV_NONE);
		switch (a->wire.kind) {
		case WIRE_SILENCE:
		case WIRE_SPLIT:
			CHECK(a->wire.dur_ms > 0);
			break;
		case WIRE_DELAY:
		case WIRE_COMMS_LOST:
		case WIRE_COMMS_BACK:
			break;
		case WIRE_DROP:
		case WIRE_CORRUPT:
			CHECK(a->wire.count >= 1 && a->wire.count <= 1000000);
			break;
		case WIRE_GARBAGE:
			CHECK(a->wire.n >= 1 &&
			      a->wire.n <= sizeof a->wire.bytes);
			break;
		case WIRE_ALERT_INSIDE:
			CHECK(a->wire.n == 1 && a->wire.bytes[0] &&
			      strchr(PROF_ALERT_CHARS, a->wire.bytes[0]));
			break;
		default:
			CHECK(!"a wire fault the engine does not know");
		}
		break;
	case SCEN_END:
		CHECK(!in_init && a->ev.kind == UPS_EV_NONE &&
		      a->wire.kind == WIRE_NONE);
		break;
	default:
		CHECK(!"an action kind nobody knows");
	}
}

static void check_diag(enum ups_rc rc, const struct ups_diag *d, bool line)
{
	CHECK(rc == UPS_EPARSE || rc == UPS_ENOMEM);
	CHECK(d->msg[0] != '\0');
	CHECK(d->line >= 0 && d->col >= 0);
	CHECK(!line || rc != UPS_EPARSE || (d->line == 1 && d->col >= 1));
	for (const char *c = d->msg; *c; c++)
		CHECK((unsigned char)*c >= 0x20 && *c != 0x7F);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ups_profile base, p;
	struct scen s;
	struct ups_diag d;
	memset(&d, 0, sizeof d);
	enum ups_rc rc = scen_parse("fuzz.yaml", (const char *)data, size, &s,
				    &d);
	if (rc == UPS_OK) {
		TERMINATED(s.name);
		TERMINATED(s.description);
		TERMINATED(s.source);
		TERMINATED(s.profile);
		CHECK(s.n_steps <= SCEN_MAX_STEPS);
		CHECK(!s.n_steps == !s.steps);
		CHECK(!s.n_init == !s.init);
		for (size_t i = 0; i < s.n_init; i++)
			check_action(&s.init[i], true);
		for (size_t i = 0; i < s.n_steps; i++) {
			check_action(&s.steps[i].act, false);
			CHECK(s.steps[i].line >= 1 && s.steps[i].col >= 1);
			CHECK(i == 0 ||
			      s.steps[i - 1].at_ms <= s.steps[i].at_ms);
		}
		if (s.overlay) {
			CHECK(s.overlay[s.overlay_len] == '\0');
			CHECK(s.overlay_line >= 1);
			/* spaces up to its column, then the node itself */
			size_t sp = strspn(s.overlay, " ");
			CHECK(sp < s.overlay_len && s.overlay[sp] != '\n');
			if (!base.family)
				CHECK(prof_load_from(NULL, PROF_DEFAULT_NAME,
						     &base, &d) == UPS_OK);
			p = base;
			memset(&d, 0, sizeof d);
			rc = prof_overlay(&p, s.overlay, s.overlay_len,
					  s.source, &d);
			CHECK(rc == UPS_OK || (rc == UPS_EPARSE && d.msg[0]));
		} else {
			CHECK(s.overlay_len == 0);
		}
	} else {
		check_diag(rc, &d, false);
		CHECK(!s.steps && !s.init && !s.overlay && !s.n_steps);
	}
	scen_free(&s);

	struct scen_action a;
	memset(&d, 0, sizeof d);
	rc = scen_parse_line((const char *)data, size, &a, &d);
	if (rc == UPS_OK)
		check_action(&a, false);
	else
		check_diag(rc, &d, true);
	return 0;
}
