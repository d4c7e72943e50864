/*
 * report.c - what upsharness tells people and CI: one line per case with
 * the failure's detail (case, step, spec section, sent, expected and
 * received bytes escaped as in the trace format), a summary, JUnit XML
 * (testsuites/testsuite/testcase with failure, error or skipped, as
 * Jenkins and GitLab read it), TAP version 13 for `prove`, and the
 * --dry-run listing of what would be sent.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "upssim/cmdtab.h"

static void indent(FILE *f, const char *text, const char *pad)
{
	const char *p = text;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		fprintf(f, "%s%.*s\n", pad, (int)n, p);
		p = nl ? nl + 1 : NULL;
	}
}

void hrn_report_case(FILE *f, const struct hrn_result *r)
{
	switch (r->status) {
	case HRN_PASS:
		fprintf(f, "ok    %s/%s (%.2fs)\n", r->s->suite, r->c->name, r->secs);
		break;
	case HRN_SKIP:
		fprintf(f, "skip  %s/%s: %s\n", r->s->suite, r->c->name,
			r->message ? r->message : "");
		break;
	case HRN_FAIL:
		fprintf(f, "FAIL  %s/%s (%s:%d%s%s)\n", r->s->suite, r->c->name,
			r->s->file, r->c->line, r->c->spec[0] ? ", spec " : "",
			r->c->spec);
		indent(f, r->message, "      ");
		if (r->alerts && r->alerts[0])
			fprintf(f, "      alerts:   %s\n", r->alerts);
		break;
	case HRN_NOTRUN:
		fprintf(f, "----  %s/%s: not run\n", r->s->suite, r->c->name);
		break;
	}
	fflush(f);
}

static void count(const struct hrn_result *res, size_t n, size_t *pass,
		  size_t *fail, size_t *skip, size_t *notrun)
{
	*pass = *fail = *skip = *notrun = 0;
	for (size_t i = 0; i < n; i++)
		switch (res[i].status) {
		case HRN_PASS: (*pass)++; break;
		case HRN_FAIL: (*fail)++; break;
		case HRN_SKIP: (*skip)++; break;
		case HRN_NOTRUN: (*notrun)++; break;
		}
}

void hrn_report_summary(FILE *f, const struct hrn_result *res, size_t n,
			double secs)
{
	size_t p, fl, s, nr;
	count(res, n, &p, &fl, &s, &nr);
	fprintf(f, "%zu case%s: %zu passed, %zu failed, %zu skipped", n,
		n == 1 ? "" : "s", p, fl, s);
	if (nr)
		fprintf(f, ", %zu not run", nr);
	fprintf(f, " in %.1fs\n", secs);
}

/* ------------------------------------------------------------------ */
/* JUnit XML                                                           */

static void xml(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			/* XML 1.0 allows no other control characters */
			if (*p < 0x20 && *p != '\n' && *p != '\t')
				fputc('?', f);
			else
				fputc(*p, f);
		}
	}
}

int hrn_report_junit(const char *path, const struct hrn_result *res, size_t n,
		     double secs, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "%s: cannot write", path);
		return -1;
	}
	size_t p, fl, s, nr;
	count(res, n, &p, &fl, &s, &nr);
	char host[256] = "localhost", stamp[32];
	gethostname(host, sizeof host - 1);
	host[sizeof host - 1] = '\0';
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"upsharness\" tests=\"%zu\" failures=\"%zu\" "
		"errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n", n, fl, nr, s,
		secs);
	for (size_t i = 0; i < n;) {
		const struct hrn_script *sc = res[i].s;
		size_t j = i;
		double t = 0;
		size_t sp = 0, sf = 0, ss = 0, snr = 0;
		for (; j < n && res[j].s == sc; j++) {
			t += res[j].secs;
			sp += res[j].status == HRN_PASS;
			sf += res[j].status == HRN_FAIL;
			ss += res[j].status == HRN_SKIP;
			snr += res[j].status == HRN_NOTRUN;
		}
		fputs("  <testsuite name=\"", f);
		xml(f, sc->suite);
		fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" "
			"skipped=\"%zu\" time=\"%.3f\" timestamp=\"%s\" "
			"hostname=\"", j - i, sf, snr, ss, t, stamp);
		xml(f, host);
		fputs("\">\n    <properties>\n      <property name=\"file\" value=\"", f);
		xml(f, sc->file);
		fputs("\"/>\n    </properties>\n", f);
		for (size_t k = i; k < j; k++) {
			const struct hrn_result *r = &res[k];
			fputs("    <testcase name=\"", f);
			xml(f, r->c->name);
			fputs("\" classname=\"", f);
			xml(f, sc->suite);
			fprintf(f, "\" file=\"");
			xml(f, sc->file);
			fprintf(f, "\" line=\"%d\" time=\"%.3f\"", r->c->line, r->secs);
			if (r->status == HRN_PASS && !(r->alerts && r->alerts[0])) {
				fputs("/>\n", f);
				continue;
			}
			fputs(">\n", f);
			if (r->status == HRN_FAIL) {
				fputs("      <failure type=\"failure\" message=\"", f);
				xml(f, r->summary);
				fputs("\">", f);
				xml(f, r->message);
				fputs("</failure>\n", f);
			} else if (r->status == HRN_SKIP) {
				fputs("      <skipped message=\"", f);
				xml(f, r->message);
				fputs("\"/>\n", f);
			} else if (r->status == HRN_NOTRUN) {
				fputs("      <error type=\"not-run\" message=\"not run: "
				      "the run was interrupted or the target stopped "
				      "answering\"/>\n", f);
			}
			if (r->alerts && r->alerts[0]) {
				fputs("      <system-out>alerts: ", f);
				xml(f, r->alerts);
				fputs("</system-out>\n", f);
			}
			fputs("    </testcase>\n", f);
		}
		fputs("  </testsuite>\n", f);
		i = j;
	}
	fputs("</testsuites>\n", f);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "%s: write failed", path);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* TAP version 13                                                      */

/** One line for a TAP description or directive: no newline, no '#'. */
static void tap_text(FILE *f, const char *s)
{
	for (const char *p = s ? s : ""; *p; p++)
		fputc(*p == '\n' || *p == '\r' ? ' ' : *p == '#' ? '_' : *p, f);
}

void hrn_report_tap(FILE *f, const struct hrn_result *res, size_t n)
{
	fprintf(f, "TAP version 13\n1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct hrn_result *r = &res[i];
		bool ok = r->status == HRN_PASS || r->status == HRN_SKIP;
		fprintf(f, "%s %zu - %s/%s", ok ? "ok" : "not ok", i + 1,
			r->s->suite, r->c->name);
		if (r->status == HRN_SKIP) {
			fputs(" # SKIP ", f);
			tap_text(f, r->message);
		}
		fputc('\n', f);
		if (r->status == HRN_FAIL || r->status == HRN_NOTRUN) {
			fputs("  ---\n", f);
			if (r->status == HRN_NOTRUN) {
				fputs("  message: not run (interrupted, or the "
				      "target stopped answering)\n", f);
			} else {
				fputs("  message: |\n", f);
				indent(f, r->message, "    ");
				if (r->c->spec[0]) {
					fputs("  spec: \"", f);
					for (const char *p = r->c->spec; *p; p++)
						fprintf(f, *p == '"' || *p == '\\' ?
							"\\%c" : "%c", *p);
					fputs("\"\n", f);
				}
				if (r->alerts && r->alerts[0]) {
					fputs("  alerts: |\n", f);
					indent(f, r->alerts, "    ");
				}
			}
			fputs("  ...\n", f);
		}
	}
	fflush(f);
}

/* ------------------------------------------------------------------ */
/* --dry-run                                                           */

static void tmpl_text(FILE *f, const struct hrn_tmpl *t)
{
	fputc('"', f);
	for (size_t i = 0; i < t->n; i++) {
		if (t->parts[i].var) {
			fprintf(f, "${%s}", t->parts[i].var);
			continue;
		}
		char esc[4 * 1024 + 8];
		size_t n = t->parts[i].n > 1024 ? 1024 : t->parts[i].n;
		hrn_esc(t->parts[i].p, n, esc, sizeof esc);
		esc[strlen(esc) - 1] = '\0'; /* the quotes are ours */
		fputs(esc + 1, f);
	}
	fputc('"', f);
}

static int64_t pick(int64_t a, int64_t b, int64_t c)
{
	return a >= 0 ? a : b >= 0 ? b : c;
}

static void dry_steps(FILE *f, const struct hrn_script *s,
		      const struct hrn_case *c, const struct hrn_step *st,
		      size_t n, const char *prefix, int64_t latency)
{
	for (size_t i = 0; i < n; i++) {
		const struct hrn_step *p = &st[i];
		fprintf(f, "    %s%zu:", prefix, i + 1);
		switch (p->action) {
		case HRN_A_SEND: {
			fputs(" send ", f);
			tmpl_text(f, &p->send);
			int64_t pace = pick(p->pace_ms, c->pace_ms, s->pace_ms);
			if (pace > 0)
				fprintf(f, " (%lldms between characters)",
					(long long)pace);
			break;
		}
		case HRN_A_ALERT:
			fprintf(f, " wait for alert \"%s\" within %lldms", p->alerts,
				(long long)p->within_ms);
			break;
		case HRN_A_WAIT:
			fprintf(f, " wait %lldms", (long long)p->wait_ms);
			break;
		case HRN_A_FLUSH:
			fprintf(f, " discard input for %lldms", (long long)p->wait_ms);
			break;
		case HRN_A_REPEAT: {
			fprintf(f, " repeat %d times:\n", p->repeat);
			char sub[64];
			snprintf(sub, sizeof sub, "%s%zu.", prefix, i + 1);
			dry_steps(f, s, c, p->sub, p->n_sub, sub, latency);
			continue;
		}
		case HRN_A_NONE:
			fputs(" (no send)", f);
			break;
		}
		size_t len = HRN_UNKNOWN_LEN;
		switch (p->expect) {
		case HRN_X_EXACT:
		case HRN_X_RAW:
			fputs(p->expect == HRN_X_EXACT ? ", expect " :
			      ", expect bytes ", f);
			tmpl_text(f, &p->alts[0]);
			len = p->alts[0].lit_len;
			break;
		case HRN_X_ONE_OF:
			fputs(", expect one of", f);
			len = 0;
			for (size_t a = 0; a < p->n_alts; a++) {
				fputs(a ? ", " : " ", f);
				tmpl_text(f, &p->alts[a]);
				if (p->alts[a].lit_len > len)
					len = p->alts[a].lit_len;
			}
			break;
		case HRN_X_DIFFERS:
			fputs(", expect anything but ", f);
			tmpl_text(f, &p->alts[0]);
			break;
		case HRN_X_MATCH:
			fprintf(f, ", expect a line matching /%s/", p->re_src);
			break;
		case HRN_X_SILENCE:
			fprintf(f, ", expect silence for %lldms",
				(long long)(p->silence_ms ? p->silence_ms : latency));
			break;
		case HRN_X_NONE:
			if (p->capture)
				fputs(", read a line", f);
			break;
		}
		if ((p->expect != HRN_X_NONE && p->expect != HRN_X_SILENCE) ||
		    p->capture) {
			if (p->expect == HRN_X_EXACT)
				len += 0;
			int64_t t = pick(p->timeout_ms, c->timeout_ms, s->timeout_ms);
			if (t < 0)
				t = hrn_default_timeout(latency, len);
			fprintf(f, " within %lldms", (long long)t);
		}
		if (p->capture)
			fprintf(f, ", capture ${%s}", p->capture);
		fputc('\n', f);
	}
}

void hrn_dry_run(FILE *f, const struct hrn_script *s,
		 const struct hrn_options *o)
{
	int64_t latency = o->latency_ms >= 0 ? o->latency_ms : s->latency_ms;
	fprintf(f, "%s: suite %s, %zu case%s%s%s (latency %lldms)\n", s->file,
		s->suite, s->n_cases, s->n_cases == 1 ? "" : "s",
		s->description ? ": " : "", s->description ? s->description : "",
		(long long)latency);
	for (size_t i = 0; i < s->n_cases; i++) {
		const struct hrn_case *c = &s->cases[i];
		fprintf(f, "  case %s", c->name);
		if (c->spec[0])
			fprintf(f, " [%s]", c->spec);
		if (c->skip)
			fprintf(f, " (always skipped: %s)", c->skip);
		if (c->has_requires || c->req_measure) {
			fputs(" requires", f);
			for (int b = 0; b < 256; b++)
				if ((c->requires[b >> 3] >> (b & 7)) & 1u) {
					char nm[8];
					fprintf(f, " %s", cmd_byte_name((uint8_t)b, nm));
				}
			if (c->req_measure)
				fputs(" measure-ups", f);
		}
		if (c->families) {
			fputs(" family", f);
			for (unsigned fm = 1; fm <= 0x20; fm <<= 1)
				if (c->families & fm)
					fprintf(f, " %s", hrn_family_name(fm));
		}
		fputs(c->has_requires || c->families ? " (decided at run time)\n" :
		      "\n", f);
		dry_steps(f, s, c, s->setup, s->n_setup, "setup ", latency);
		dry_steps(f, s, c, c->steps, c->n_steps, "", latency);
	}
}
