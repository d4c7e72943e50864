/*
 * test_harness_script.c - unit tests for the upsharness script library
 * (harness/script.c): a valid script parses into the expected cases and
 * steps; a table of malformed scripts pins each diagnostic's
 * file:line:col and message; byte strings decode (^Z, \xNN, ${name});
 * exact and regex matching skip alert characters only where the reply
 * cannot use them; the safety guard refuses destructive and undocumented
 * bytes, treats @ddd digits and c/x/I entry text as data and reports
 * EEPROM edits; default timeouts follow the 2400 bit/s arithmetic; and
 * every conformance script shipped in scenarios/conformance/ parses.
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

#include "script.h"

#ifndef UPSSIM_SOURCE_DIR
#define UPSSIM_SOURCE_DIR "."
#endif

static struct hrn_script sc;
static struct ups_diag diag;

static enum ups_rc parse(const char *text)
{
	hrn_script_free(&sc);
	memset(&diag, 0, sizeof diag);
	return hrn_script_parse("t.yaml", text, strlen(text), &sc, &diag);
}

static int teardown(void **state)
{
	(void)state;
	hrn_script_free(&sc);
	return 0;
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

/* ------------------------------------------------------------------ */

static void test_valid(void **state)
{
	(void)state;
	assert_parses(
		"suite: s1\n"
		"description: \"a test\"\n"
		"spec: \"ULS §3\"\n"
		"latency: 100ms\n"
		"pace: 10ms\n"
		"alerts: \"!$\"\n"
		"setup:\n"
		"  - {send: Y, expect: SM}\n"
		"cases:\n"
		"  - name: one\n"
		"    spec: ULS p.3\n"
		"    requires: [K, \"^Z\", DEL, measure-ups]\n"
		"    family: [3G, Matrix]\n"
		"    timeout: 2s\n"
		"    steps:\n"
		"      - send: \"^A\"\n"
		"        capture: m\n"
		"      - {send: KK, pace: 2s, one_of: [OK, \"*\"]}\n"
		"      - {send: \"${m}\", differs: \"${m}\", timeout: 1s}\n"
		"      - {alert: \"!$\", within: 5s}\n"
		"      - {wait: 1s}\n"
		"      - {flush: 200ms}\n"
		"      - {send: Q, silence: true}\n"
		"      - {send: Q, silence: 300ms}\n"
		"      - {send: \"\\x1a\", match: \"#(.*)\", capture: d}\n"
		"      - {expect_raw: \"AB\\x00\"}\n"
		"      - repeat: 3\n"
		"        steps:\n"
		"          - {send: \"-\", expect: OK, record: keep}\n"
		"  - name: two\n"
		"    skip: not today\n"
		"    steps: [{capture: x}]\n");
	assert_string_equal(sc.suite, "s1");
	assert_int_equal(sc.latency_ms, 100);
	assert_int_equal(sc.pace_ms, 10);
	assert_string_equal(sc.alerts, "!$");
	assert_int_equal(sc.n_setup, 1);
	assert_int_equal(sc.n_cases, 2);
	const struct hrn_case *c = &sc.cases[0];
	assert_string_equal(c->name, "one");
	assert_string_equal(c->spec, "ULS p.3");
	assert_true(c->requires['K' >> 3] & (1u << ('K' & 7)));
	assert_true(c->requires[0x1A >> 3] & (1u << (0x1A & 7)));
	assert_true(c->requires[0x7F >> 3] & (1u << (0x7F & 7)));
	assert_true(c->req_measure);
	assert_int_equal(c->timeout_ms, 2000);
	assert_int_equal(c->n_steps, 11);
	assert_int_equal(c->steps[0].action, HRN_A_SEND);
	assert_int_equal(c->steps[0].send.lit_len, 1);
	assert_int_equal(c->steps[0].send.parts[0].p[0], 0x01);
	assert_string_equal(c->steps[0].capture, "m");
	assert_int_equal(c->steps[1].expect, HRN_X_ONE_OF);
	assert_int_equal(c->steps[1].n_alts, 2);
	assert_int_equal(c->steps[1].pace_ms, 2000);
	assert_true(c->steps[2].send.has_vars);
	assert_int_equal(c->steps[2].expect, HRN_X_DIFFERS);
	assert_string_equal(c->steps[3].alerts, "!$");
	assert_int_equal(c->steps[3].within_ms, 5000);
	assert_int_equal(c->steps[4].action, HRN_A_WAIT);
	assert_int_equal(c->steps[5].action, HRN_A_FLUSH);
	assert_int_equal(c->steps[6].silence_ms, 0);
	assert_int_equal(c->steps[7].silence_ms, 300);
	assert_int_equal(c->steps[8].re_groups, 1);
	assert_int_equal(c->steps[9].expect, HRN_X_RAW);
	assert_int_equal(c->steps[9].alts[0].lit_len, 3);
	assert_int_equal(c->steps[10].repeat, 3);
	assert_true(c->steps[10].sub[0].keep);
	assert_string_equal(sc.cases[1].skip, "not today");
	/* the default suite is the file's stem */
	assert_parses("cases: [{name: a, steps: [{send: Y}]}]\n");
	assert_string_equal(sc.suite, "t");
	assert_int_equal(sc.latency_ms, HRN_DEFAULT_LATENCY_MS);
	assert_string_equal(sc.alerts, HRN_ALERT_CHARS);
}

/* The span of an expectation covers its key and value, for record mode. */
static void test_spans(void **state)
{
	(void)state;
	const char *t = "cases:\n"
			"  - name: a\n"
			"    steps:\n"
			"      - {send: b, match: \".+\"}\n"
			"      - send: c\n"
			"        one_of:\n"
			"          - OK\n"
			"          - NO\n"
			"        capture: z\n";
	assert_parses(t);
	const struct hrn_step *s = sc.cases[0].steps;
	assert_int_equal(s[0].exp_span.end - s[0].exp_span.start,
			 strlen("match: \".+\""));
	assert_memory_equal(t + s[0].exp_span.start, "match", 5);
	assert_memory_equal(t + s[1].exp_span.start, "one_of", 6);
	assert_memory_equal(t + s[1].exp_span.end - 2, "NO", 2);
}

/* ------------------------------------------------------------------ */

struct bad {
	const char *text;
	const char *want; /* "line:col: message start" */
};

static const struct bad bad[] = {
	{ "- a\n- b\n", "1:1: a script is a mapping with cases:" },
	{ "", "1:1: empty script" },
	{ "cases: [\n", "2:1: YAML syntax error" },
	{ "casess: []\n", "1:1: unknown key in the script (did you mean \"cases\"?)" },
	{ "suite: x\n", "1:1: a script needs cases:" },
	{ "cases: 5\n", "1:8: cases: expected a list of cases, got a single value" },
	{ "cases: []\n", "1:8: cases: empty list" },
	{ "cases:\n  - 5\n", "2:5: a case is a mapping" },
	{ "cases:\n  - steps: [{send: Y}]\n", "2:5: a case needs a name" },
	{ "cases:\n  - name: a\n", "2:5: a case needs steps" },
	{ "cases:\n  - name: a b\n    steps: [{send: Y}]\n",
	  "2:11: name: character 2 is not allowed" },
	{ "cases:\n  - {name: a, steps: [{send: Y}]}\n"
	  "  - {name: a, steps: [{send: Y}]}\n",
	  "3:5: case \"a\": the name is already used on line 2" },
	{ "cases:\n  - name: a\n    stpes: []\n",
	  "3:5: unknown key in a case (did you mean \"steps\"?)" },
	{ "cases:\n  - name: a\n    steps: [Y]\n", "3:13: a step is a mapping" },
	{ "cases:\n  - name: a\n    steps: []\n", "3:12: steps: empty list" },
	{ "cases:\n  - name: a\n    steps:\n      - send: Y\n        expetc: SM\n",
	  "5:9: unknown key in a step (did you mean \"expect\"?)" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, wait: 1s}]\n",
	  "3:23: send and wait in one step: give each its own step" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, expect: SM, match: S.}]\n",
	  "3:35: expect and match in one step: a step has at most one expectation" },
	{ "cases:\n  - name: a\n    steps: [{}]\n", "3:13: a step needs send" },
	{ "cases:\n  - name: a\n    steps: [{send: '\\q'}]\n",
	  "3:20: send: character 1: unknown escape" },
	{ "cases:\n  - name: a\n    steps: [{send: '^1'}]\n",
	  "3:20: send: character 1: ^ must be followed by a letter" },
	{ "cases:\n  - name: a\n    steps: [{send: \"\xe2\x82\xac\"}]\n",
	  "3:20: send: character 1 is above U+00FF" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, expect: \"${nope}\"}]\n",
	  "3:31: expect: ${nope} is not captured by an earlier step" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, match: \"(\"}]\n",
	  "3:30: match: not a POSIX extended regular expression" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, silence: loud}]\n",
	  "3:32: silence: expected a duration such as 250ms" },
	{ "cases:\n  - name: a\n    steps: [{wait: 1s, timeout: 2s}]\n",
	  "3:24: timeout: only with an expectation or capture" },
	{ "cases:\n  - name: a\n    steps: [{wait: 1s, within: 2s}]\n",
	  "3:24: within: only with alert" },
	{ "cases:\n  - name: a\n    steps: [{alert: A}]\n",
	  "3:21: alert: character 1 is not an alert character" },
	{ "cases:\n  - name: a\n    steps: [{repeat: 2}]\n",
	  "3:14: repeat: needs steps:" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, steps: []}]\n",
	  "3:23: steps: only with repeat" },
	{ "cases:\n  - name: a\n    steps: [{repeat: 0, steps: [{send: Y}]}]\n",
	  "3:22: repeat: expected a count from 1 to 1000" },
	{ "cases:\n  - name: a\n    family: [Matrx]\n    steps: [{send: Y}]\n",
	  "3:14: family: unknown family (did you mean \"Matrix\"?)" },
	{ "cases:\n  - name: a\n    requires: [DLE]\n    steps: [{send: Y}]\n",
	  "3:16: requires: not a command byte (did you mean \"DEL\"?)" },
	{ "cases:\n  - name: a\n    requires: K\n    steps: [{send: Y}]\n",
	  "3:15: requires: expected a list" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, capture: 1x}]\n",
	  "3:32: capture: a name is a letter or _" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, silence: 1s, capture: x}]\n",
	  "3:36: capture: not with silence" },
	{ "cases:\n  - name: a\n    steps: [{wait: 1s, pace: 1s}]\n",
	  "3:24: pace: only with send" },
	{ "latency: 2m\ncases:\n  - name: a\n    steps: [{send: Y}]\n",
	  "1:10: latency: out of range (0ms to 60000ms)" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, send: Q}]\n",
	  "3:23: send: duplicate key" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, record: always}]\n",
	  "3:31: record: the only value is keep" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, one_of: OK}]\n",
	  "3:31: one_of: expected a list of replies" },
	{ "cases:\n  - name: a\n    steps: [{send: Y}]\n---\ncases: []\n",
	  "4:1: more than one YAML document" },
	{ "alerts: \"AB\"\ncases:\n  - name: a\n    steps: [{send: Y}]\n",
	  "1:9: alerts: character 1 is not an alert character" },
	{ "cases:\n  - name: a\n    steps: [{send: \"\"}]\n", "3:20: send: empty" },
	{ "cases:\n  - name: a\n    steps:\n      - send: Y\n        expect:\n",
	  "5:16: expect: expected a byte string, got nothing" },
	{ "cases:\n  - name: a\n    steps: [{send: \"${abc\"}]\n",
	  "3:20: send: character 1: ${ must be followed by a capture name" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, expect_raw: A, capture: x}]\n",
	  "3:38: capture: not with expect_raw" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, silence: 1s, timeout: 1s}]\n",
	  "3:36: timeout: not with silence" },
	{ "cases:\n  - name: a\n    skip: [x]\n    steps: [{send: Y}]\n",
	  "3:11: skip: expected text, got a list" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, expect: SM, within: 1s}]\n",
	  "3:35: within: only with alert" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, timeout: 0s, expect: SM}]\n",
	  "3:32: timeout: out of range (1ms to 3600000ms)" },
	{ "cases:\n  - name: a\n    steps: [{send: Y}]\n  - name: b\n"
	  "    steps: [{send: \"${x}\"}]\n",
	  "5:20: send: ${x} is not captured" },
	{ "cases:\n  - name: a\n    steps:\n      - {send: Y, capture: x}\n"
	  "  - name: b\n    steps: [{send: \"${x}\"}]\n",
	  "6:20: send: ${x} is not captured" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, one_of: []}]\n",
	  "3:31: one_of: empty list" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, match: \"\\u0100\"}]\n",
	  "3:30: match: a character above U+00FF is not a byte" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, match: \"S\\0\"}]\n",
	  "3:30: match: NUL is not allowed in a regular expression" },
	{ "description: \"ab\\tc\"\ncases:\n  - name: a\n    steps: [{send: Y}]\n",
	  "1:14: description: character 3 is a control character" },
	{ "cases:\n  - name: a\n    timeout: soon\n    steps: [{send: Y}]\n",
	  "3:14: timeout: expected a duration" },
	{ "cases:\n  - name: a\n    steps:\n      - steps: [{send: Y}]\n        repeat: x\n",
	  "5:17: repeat: expected a count" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, expect: SM, pace: -1s}]\n",
	  "3:41: pace: expected a duration" },
	{ "cases:\n  - name: |\n    steps: [{send: Y}]\n", "2:11: name: empty" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, match: \"a++\"}]\n",
	  "3:30: match: a repetition of a repetition (such as ++)" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, match: \"((a{1,99}){2,99}){9}\"}]\n",
	  "3:30: match: too large once its repetitions are expanded" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, match: \"(a)\\\\1\"}]\n",
	  "3:30: match: back-references are not supported" },
	{ "cases:\n  - name: a\n    steps: [{send: Y, match: \"(a||||||||||||||||||||"
	  "|||||||||||||||||||||||||||||||||b)+\"}]\n",
	  "3:30: match: more than 40 optional parts" },
	{ "suite: \"\"\ncases:\n  - name: a\n    steps: [{send: Y}]\n",
	  "1:8: suite: empty" },
};

static void test_bad(void **state)
{
	(void)state;
	int failed = 0;
	assert_true(sizeof bad / sizeof bad[0] >= 30);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum ups_rc rc = parse(bad[i].text);
		char got[700], want[300];
		ups_diag_format(&diag, got, sizeof got);
		snprintf(want, sizeof want, "t.yaml:%s", bad[i].want);
		if (rc != UPS_EPARSE || strncmp(got, want, strlen(want)) != 0) {
			print_error("case %zu: rc %d\n  got:  %s\n  want: %s...\n", i,
				    rc, got, want);
			failed++;
		}
		/* the document's text never comes back in a message */
		assert_null(strstr(got, "nope}\""));
	}
	assert_int_equal(failed, 0);
}

/* Nesting and size limits are refused before the document is built. */
static void test_limits(void **state)
{
	(void)state;
	char *deep = malloc(40000);
	assert_non_null(deep);
	size_t o = 0;
	for (int i = 0; i < 10000; i++)
		deep[o++] = '[';
	deep[o] = '\0';
	assert_int_equal(parse(deep), UPS_EPARSE);
	assert_non_null(strstr(diag.msg, "nested more than"));
	free(deep);
	/* 250000 list items: past the event bound, refused at its place */
	char *many = malloc(600000);
	assert_non_null(many);
	o = (size_t)snprintf(many, 600000, "cases: [");
	for (int i = 0; i < 250000; i++) {
		many[o++] = 'a';
		many[o++] = ',';
	}
	many[o++] = ']';
	many[o] = '\0';
	assert_int_equal(parse(many), UPS_EPARSE);
	assert_string_equal(diag.msg, "too many YAML nodes (more than 200000)");
	assert_int_equal(diag.line, 1);
	free(many);
	char *big = calloc(HRN_MAX_TEXT + 2, 1);
	assert_non_null(big);
	memset(big, '#', HRN_MAX_TEXT + 1);
	assert_int_equal(hrn_script_parse("t.yaml", big, HRN_MAX_TEXT + 1, &sc,
					  &diag), UPS_EPARSE);
	assert_non_null(strstr(diag.msg, "too large"));
	free(big);
	/* repeat nested 9 deep */
	char nest[4096];
	o = (size_t)snprintf(nest, sizeof nest, "cases:\n  - name: a\n    steps:\n");
	for (int i = 0; i < 10; i++)
		o += (size_t)snprintf(nest + o, sizeof nest - o,
				      "%*s- repeat: 1\n%*s  steps:\n", 6 + 4 * i, "",
				      6 + 4 * i, "");
	snprintf(nest + o, sizeof nest - o, "%*s- send: Y\n", 6 + 4 * 10, "");
	assert_int_equal(parse(nest), UPS_EPARSE);
	assert_non_null(strstr(diag.msg, "repeat nested more than 8 deep"));
}

/* ------------------------------------------------------------------ */

static size_t decode(const char *s, uint8_t *out, char *why)
{
	struct hrn_arena *a = hrn_arena_new();
	struct hrn_tmpl t;
	enum ups_rc rc = hrn_decode(a, s, strlen(s), &t, why, 200);
	size_t n = (size_t)-1;
	if (rc == UPS_OK) {
		struct hrn_vars *v = hrn_vars_new();
		hrn_vars_set(v, "x", (const uint8_t *)"VAL", 3);
		long k = hrn_expand(&t, v, out, 64);
		hrn_vars_free(v);
		n = k < 0 ? (size_t)-2 : (size_t)k;
	}
	hrn_arena_free(a);
	return n;
}

static void test_decode(void **state)
{
	(void)state;
	uint8_t b[64];
	char why[200];
	assert_int_equal(decode("^Z", b, why), 1);
	assert_int_equal(b[0], 0x1A);
	assert_int_equal(decode("^a^N^@^?", b, why), 4);
	assert_memory_equal(b, "\x01\x0E\x00\x7F", 4);
	assert_int_equal(decode("^^", b, why), 1);
	assert_int_equal(b[0], '^');
	assert_int_equal(decode("A^", b, why), 2);
	assert_int_equal(b[1], '^');
	assert_int_equal(decode("\\x1a\\x7F\\r\\n\\t\\0\\\\", b, why), 7);
	assert_memory_equal(b, "\x1a\x7f\r\n\t\0\\", 7);
	assert_int_equal(decode("@${x}!", b, why), 5);
	assert_memory_equal(b, "@VAL!", 5);
	assert_int_equal(decode("$${x}$", b, why), 5);
	assert_memory_equal(b, "${x}$", 5);
	assert_int_equal(decode("\xc3\x89", b, why), 1); /* U+00C9 */
	assert_int_equal(b[0], 0xC9);
	assert_int_equal(decode("${y}", b, why), (size_t)-2); /* not captured */
	assert_int_equal(decode("\\x1", b, why), (size_t)-1);
	assert_int_equal(decode("\\", b, why), (size_t)-1);
	assert_int_equal(decode("^ ", b, why), (size_t)-1);
	assert_non_null(strstr(why, "^^"));
}

static void test_match_exact(void **state)
{
	(void)state;
	const char *al = HRN_ALERT_CHARS;
	size_t used = 0, bad_at = 0;
	uint8_t sk[32];
	/* an alert before the reply is skipped */
	assert_int_equal(hrn_match_exact((const uint8_t *)"!OK\r\n", 5,
					 (const uint8_t *)"OK\r\n", 4, al, &used,
					 sk, NULL), HRN_M_OK);
	assert_int_equal(used, 5);
	assert_int_equal(sk[0], 1);
	/* inside a reply too */
	assert_int_equal(hrn_match_exact((const uint8_t *)"O$K\r\n", 5,
					 (const uint8_t *)"OK\r\n", 4, al, &used,
					 sk, NULL), HRN_M_OK);
	assert_int_equal(sk[1], 1);
	/* an alert character the reply contains is matched as reply */
	assert_int_equal(hrn_match_exact((const uint8_t *)"*\r\n", 3,
					 (const uint8_t *)"*\r\n", 3, al, &used,
					 sk, NULL), HRN_M_OK);
	assert_int_equal(sk[0], 0);
	assert_int_equal(hrn_match_exact((const uint8_t *)"##uD", 4,
					 (const uint8_t *)"#uD", 3, al, &used,
					 sk, NULL), HRN_M_OK);
	assert_int_equal(used, 4);
	/* a different reply fails at its first byte */
	assert_int_equal(hrn_match_exact((const uint8_t *)"NA\r\n", 4,
					 (const uint8_t *)"OK\r\n", 4, al, &used,
					 NULL, &bad_at), HRN_M_FAIL);
	assert_int_equal(bad_at, 0);
	/* with no alerts allowed, a stray alert fails */
	assert_int_equal(hrn_match_exact((const uint8_t *)"!OK\r\n", 5,
					 (const uint8_t *)"OK\r\n", 4, "", &used,
					 NULL, NULL), HRN_M_FAIL);
	/* partial */
	assert_int_equal(hrn_match_exact((const uint8_t *)"O", 1,
					 (const uint8_t *)"OK\r\n", 4, al, &used,
					 NULL, NULL), HRN_M_MORE);
}

static void test_match_regex(void **state)
{
	(void)state;
	regex_t re;
	int groups = 0;
	char err[100];
	uint8_t kept[64];
	size_t kn;
	long g0, g1;
	assert_int_equal(hrn_regcomp(&re, "[0-9A-F]{2}", 11, &groups, err,
				     sizeof err), 0);
	assert_int_equal(groups, 0);
	assert_true(hrn_match_regex(&re, (const uint8_t *)"08", 2, HRN_ALERT_CHARS,
				    kept, &kn, &g0, &g1));
	/* anchored: the whole reply must match */
	assert_false(hrn_match_regex(&re, (const uint8_t *)"080", 3,
				     HRN_ALERT_CHARS, kept, &kn, &g0, &g1));
	/* alerts before, then inside */
	assert_true(hrn_match_regex(&re, (const uint8_t *)"!|08", 4,
				    HRN_ALERT_CHARS, kept, &kn, &g0, &g1));
	assert_int_equal(kn, 2);
	assert_true(hrn_match_regex(&re, (const uint8_t *)"0!8", 3,
				    HRN_ALERT_CHARS, kept, &kn, &g0, &g1));
	assert_memory_equal(kept, "08", 2);
	regfree(&re);
	/* a reply made of alert characters matches as received */
	const char *a_re = "3\\.([^.]*)\\..*";
	assert_int_equal(hrn_regcomp(&re, a_re, strlen(a_re), &groups, err,
				     sizeof err), 0);
	assert_int_equal(groups, 1);
	assert_true(hrn_match_regex(&re, (const uint8_t *)"3.!$%.AB", 8,
				    HRN_ALERT_CHARS, kept, &kn, &g0, &g1));
	assert_int_equal(g0, 2);
	assert_int_equal(g1, 5);
	regfree(&re);
	assert_int_not_equal(hrn_regcomp(&re, "(", 1, &groups, err, sizeof err), 0);
}

static enum hrn_effect feed(struct hrn_guard *g, const char *s, size_t n,
			    const struct hrn_policy *p, char *why)
{
	enum hrn_effect e = HRN_E_NONE, last = HRN_E_NONE;
	for (size_t i = 0; i < n; i++) {
		e = hrn_guard_feed(g, (uint8_t)s[i], p, why, 200);
		if (e == HRN_E_REFUSED)
			return e;
		if (e != HRN_E_NONE)
			last = e;
	}
	return last;
}

static void test_guard(void **state)
{
	(void)state;
	struct hrn_policy real = { .allow_destructive = false,
				   .documented_only = true };
	struct hrn_policy lab = { .allow_destructive = true,
				  .documented_only = true };
	struct hrn_policy sim = { .allow_destructive = true };
	struct hrn_guard g = { 0 };
	char why[200];
	/* every destructive row of the command table */
	const char *destr = "KZSUD^\x0Ez@";
	for (const char *c = destr; *c; c++) {
		g = (struct hrn_guard){ 0 };
		assert_int_equal(hrn_guard_feed(&g, (uint8_t)*c, &real, why,
						sizeof why), HRN_E_REFUSED);
		assert_non_null(strstr(why, "power"));
		g = (struct hrn_guard){ 0 };
		assert_int_not_equal(hrn_guard_feed(&g, (uint8_t)*c, &lab, why,
						    sizeof why), HRN_E_REFUSED);
	}
	/* harmless queries and edits */
	g = (struct hrn_guard){ 0 };
	assert_int_equal(feed(&g, "YQfk-", 5, &real, why), HRN_E_EDIT);
	assert_int_equal(g.setting, 'k');
	/* a shutdown-related edit */
	g = (struct hrn_guard){ 0 };
	assert_int_equal(feed(&g, "p-", 2, &real, why), HRN_E_REFUSED);
	assert_non_null(strstr(why, "shutdown-related"));
	g = (struct hrn_guard){ 0 };
	assert_int_equal(feed(&g, "p-", 2, &lab, why), HRN_E_EDIT);
	/* undocumented bytes: refused on a real port only */
	g = (struct hrn_guard){ 0 };
	assert_int_equal(feed(&g, "\x1b", 1, &lab, why), HRN_E_REFUSED);
	assert_non_null(strstr(why, "not a documented"));
	g = (struct hrn_guard){ 0 };
	assert_int_equal(feed(&g, "d", 1, &lab, why), HRN_E_REFUSED);
	g = (struct hrn_guard){ 0 };
	assert_int_equal(feed(&g, "d\x1b", 2, &sim, why), HRN_E_NONE);
	/* data, not commands: @ddd digits, c/x entry text, I hex */
	g = (struct hrn_guard){ 0 };
	assert_int_equal(feed(&g, "@000Q", 5, &lab, why), HRN_E_NONE);
	g = (struct hrn_guard){ 0 };
	assert_int_equal(feed(&g, "c-", 2, &real, why), HRN_E_ENTRY);
	assert_int_equal(feed(&g, "KZ\r\r\r\r\r\r", 8, &real, why), HRN_E_NONE);
	assert_int_equal(feed(&g, "K", 1, &real, why), HRN_E_REFUSED);
	g = (struct hrn_guard){ 0 };
	assert_int_equal(feed(&g, "I-", 2, &real, why), HRN_E_ENTRY);
	assert_int_equal(g.data_left, 2);
	/* @ then a non-digit: that byte is a command again (ULS p.4-5) */
	g = (struct hrn_guard){ 0 };
	assert_int_equal(feed(&g, "@0\x1b", 3, &lab, why), HRN_E_REFUSED);
	/* z resets the EEPROM */
	g = (struct hrn_guard){ 0 };
	assert_int_equal(feed(&g, "z", 1, &lab, why), HRN_E_RESET);
	assert_true(hrn_power_setting('p'));
	assert_false(hrn_power_setting('k'));
}

static void test_check(void **state)
{
	(void)state;
	assert_parses("cases:\n"
		      "  - name: ok\n"
		      "    steps: [{send: Y}]\n"
		      "  - name: kill\n"
		      "    steps:\n"
		      "      - {send: Y}\n"
		      "      - {send: K, silence: 1s}\n");
	struct hrn_policy real = { .documented_only = true };
	struct hrn_policy lab = { .allow_destructive = true,
				  .documented_only = true };
	assert_int_equal(hrn_script_check(&sc, &real, &diag), UPS_EUNSUPP);
	char buf[600];
	ups_diag_format(&diag, buf, sizeof buf);
	assert_string_equal(buf, "t.yaml:7:9: case \"kill\": step 2 sends K "
			    "(turn_off_after_delay), which cuts or risks the "
			    "load's power; pass --allow-destructive on a unit "
			    "you may switch off");
	assert_int_equal(hrn_script_check(&sc, &lab, &diag), UPS_OK);
	/* setup steps and repeat rounds are checked too */
	assert_parses("setup: [{send: U}]\ncases: [{name: a, steps: [{send: Y}]}]\n");
	assert_int_equal(hrn_script_check(&sc, &real, &diag), UPS_EUNSUPP);
	assert_non_null(strstr(diag.msg, "setup step 1 sends U"));
	assert_parses("cases:\n  - name: a\n    steps:\n"
		      "      - repeat: 2\n        steps: [{send: \"-\"}, {send: p}]\n");
	assert_int_equal(hrn_script_check(&sc, &lab, &diag), UPS_OK);
	struct hrn_policy nolab = { .documented_only = false };
	assert_int_equal(hrn_script_check(&sc, &nolab, &diag), UPS_EUNSUPP);
	assert_non_null(strstr(diag.msg, "step 1.1 sends - after p"));
}

static void test_timeouts(void **state)
{
	(void)state;
	/* SM + CR LF = 4 bytes: 500 + 3 x 4 x 4.167 ms, rounded up */
	assert_int_equal(hrn_default_timeout(500, 2), 551);
	assert_int_equal(hrn_default_timeout(0, 0), 26);
	/* a 512-byte reply at the default latency: about 2.4 s + 0.5 s */
	int64_t t = hrn_default_timeout(500, HRN_UNKNOWN_LEN);
	assert_true(t > 6900 && t < 7000);
}

/* Every conformance script shipped with upsharness parses. */
static void test_shipped(void **state)
{
	(void)state;
	const char *dir = UPSSIM_SOURCE_DIR "/scenarios/conformance";
	DIR *d = opendir(dir);
	if (!d)
		return; /* not written yet */
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".yaml"))
			continue;
		char path[512];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		char *buf = malloc(HRN_MAX_TEXT + 1);
		assert_non_null(buf);
		size_t n = fread(buf, 1, HRN_MAX_TEXT, f);
		fclose(f);
		hrn_script_free(&sc);
		enum ups_rc rc = hrn_script_parse(path, buf, n, &sc, &diag);
		if (rc != UPS_OK) {
			char msg[700];
			print_error("%s\n", ups_diag_format(&diag, msg, sizeof msg));
		}
		assert_int_equal(rc, UPS_OK);
		free(buf);
	}
	closedir(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_valid, teardown),
		cmocka_unit_test_teardown(test_spans, teardown),
		cmocka_unit_test_teardown(test_bad, teardown),
		cmocka_unit_test_teardown(test_limits, teardown),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_match_exact),
		cmocka_unit_test(test_match_regex),
		cmocka_unit_test(test_guard),
		cmocka_unit_test_teardown(test_check, teardown),
		cmocka_unit_test(test_timeouts),
		cmocka_unit_test_teardown(test_shipped, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
