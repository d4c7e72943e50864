/*
 * fuzz_script.c - libFuzzer target for the upsharness script loader
 * (harness/script.c: hrn_script_parse) and what runs on a loaded script
 * before anything is sent: the safety check under every policy, byte
 * template expansion, and exact and regex matching of the input itself as
 * received bytes.  The loader must never crash, leak or hang; on success
 * the script must satisfy the invariants the runner relies on (at least
 * one case, each with steps and a name, one action or expectation per
 * step, alternatives present, spans inside the text), on failure the
 * diagnostic must say something.  A violation aborts, which both
 * libFuzzer and replay_main.c report as a failure.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "fuzz_script: %s:%d: %s\n", __FILE__, \
				__LINE__, #cond);                          \
			abort();                                           \
		}                                                          \
	} while (0)

static void check_tmpl(const struct hrn_tmpl *t)
{
	size_t lit = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (t->parts[i].var) {
			CHECK(t->has_vars);
			CHECK(t->parts[i].var[0] != '\0');
		} else {
			CHECK(t->parts[i].n == 0 || t->parts[i].p != NULL);
			lit += t->parts[i].n;
		}
	}
	CHECK(lit == t->lit_len);
}

static void check_steps(const struct hrn_script *s, const struct hrn_step *st,
			size_t n, int depth, const uint8_t *data, size_t size)
{
	CHECK(depth <= 9);
	CHECK(n > 0);
	for (size_t i = 0; i < n; i++) {
		const struct hrn_step *p = &st[i];
		CHECK(p->action != HRN_A_NONE || p->expect != HRN_X_NONE ||
		      p->capture);
		if (p->action == HRN_A_SEND)
			check_tmpl(&p->send);
		if (p->action == HRN_A_REPEAT) {
			CHECK(p->repeat >= 1 && p->repeat <= 1000);
			check_steps(s, p->sub, p->n_sub, depth + 1, data, size);
		}
		if (p->action == HRN_A_ALERT)
			for (const char *c = p->alerts; *c; c++)
				CHECK(strchr(HRN_ALERT_CHARS, *c));
		switch (p->expect) {
		case HRN_X_EXACT:
		case HRN_X_ONE_OF:
		case HRN_X_DIFFERS:
		case HRN_X_RAW:
			CHECK(p->n_alts >= 1 && p->alts);
			for (size_t a = 0; a < p->n_alts; a++) {
				check_tmpl(&p->alts[a]);
				/* the input as received bytes */
				struct hrn_vars *v = hrn_vars_new();
				uint8_t buf[256];
				long k = hrn_expand(&p->alts[a], v, buf, sizeof buf);
				hrn_vars_free(v);
				if (k >= 0) {
					size_t used = 0, bad = 0;
					uint8_t *sk = malloc(size ? size : 1);
					CHECK(sk);
					enum hrn_mres m = hrn_match_exact(
						data, size, buf, (size_t)k, s->alerts,
						&used, sk, &bad);
					CHECK(m != HRN_M_OK || used <= size);
					CHECK(m != HRN_M_FAIL || bad < size);
					free(sk);
				}
			}
			CHECK(p->exp_span.start < p->exp_span.end);
			CHECK(p->exp_span.end <= s->text_len);
			break;
		case HRN_X_MATCH: {
			CHECK(p->re && p->re_src);
			uint8_t *kept = malloc(size + 1);
			size_t kn = 0;
			long g0, g1;
			CHECK(kept);
			size_t n2 = size > 512 ? 512 : size;
			if (hrn_match_regex(p->re, data, n2, s->alerts, kept, &kn,
					    &g0, &g1)) {
				CHECK(kn <= n2);
				CHECK(g0 < 0 || (g0 <= g1 && (size_t)g1 <= kn));
			}
			free(kept);
			break;
		}
		case HRN_X_SILENCE:
			CHECK(p->silence_ms >= 0);
			break;
		case HRN_X_NONE:
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hrn_script s;
	struct ups_diag d = { 0 };
	enum ups_rc rc = hrn_script_parse("fuzz.yaml", (const char *)data, size,
					  &s, &d);
	if (rc != UPS_OK) {
		CHECK(rc == UPS_EPARSE || rc == UPS_ENOMEM);
		CHECK(d.msg[0] != '\0');
		hrn_script_free(&s);
		return 0;
	}
	CHECK(s.n_cases > 0 && s.suite && s.suite[0]);
	CHECK(s.latency_ms >= 0 && s.latency_ms <= 60000);
	for (size_t i = 0; i < s.n_cases; i++) {
		const struct hrn_case *c = &s.cases[i];
		CHECK(c->name && c->name[0] && c->spec);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(c->name, s.cases[j].name) != 0);
		check_steps(&s, c->steps, c->n_steps, 0, data, size);
	}
	if (s.n_setup)
		check_steps(&s, s.setup, s.n_setup, 0, data, size);
	static const struct hrn_policy pols[] = {
		{ false, false }, { false, true }, { true, false }, { true, true },
	};
	for (size_t i = 0; i < sizeof pols / sizeof pols[0]; i++) {
		struct ups_diag cd = { 0 };
		enum ups_rc r = hrn_script_check(&s, &pols[i], &cd);
		CHECK(r == UPS_OK || (r == UPS_EUNSUPP && cd.msg[0]));
		/* the most permissive policy refuses nothing */
		CHECK(i != 2 || r == UPS_OK);
	}
	hrn_script_free(&s);
	return 0;
}
