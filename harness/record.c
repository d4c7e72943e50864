/*
 * record.c - record mode's writer: the script as it was written, with
 * every expectation the run observed replaced in place by the exact reply
 * (`expect:`, `expect_raw:` for bytes that were not a CR LF line,
 * `silence: true` for no reply).  Only the expectation's own span of the
 * document changes, so comments, layout and every other key stay as they
 * were.  Values are written single-quoted with the harness's escapes
 * (docs/harness.md "Bytes"), so that ^, \ and ${ come back as bytes.
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct repl {
	size_t start, end;
	char *text;
};

struct repls {
	struct repl *v;
	size_t n, cap;
	int kept;   /* steps left as written because repeats disagreed */
};

/** Single-quoted YAML scalar whose harness decoding gives @p p back. */
static char *quote(const uint8_t *p, size_t n)
{
	char *out = malloc(n * 4 + 3), *o = out;
	if (!out)
		return NULL;
	*o++ = '\'';
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == '\'') {
			*o++ = '\'';
			*o++ = '\'';
		} else if (c == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (c == '^') {
			*o++ = '^';
			*o++ = '^';
		} else if (c == '$' && i + 1 < n && p[i + 1] == '{') {
			*o++ = '$';
			*o++ = '$';
		} else if (c >= 0x20 && c < 0x7F) {
			*o++ = (char)c;
		} else {
			static const char hex[] = "0123456789ABCDEF";
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

static void add(struct repls *rs, size_t start, size_t end, char *text)
{
	if (!text)
		return;
	if (rs->n == rs->cap) {
		size_t nc = rs->cap ? rs->cap * 2 : 32;
		struct repl *nv = realloc(rs->v, nc * sizeof *nv);
		if (!nv) {
			free(text);
			return;
		}
		rs->v = nv;
		rs->cap = nc;
	}
	rs->v[rs->n++] = (struct repl){ start, end, text };
}

static char *join(const char *key, char *val)
{
	if (!val)
		return NULL;
	size_t n = strlen(key) + strlen(val) + 1;
	char *out = malloc(n);
	if (out)
		snprintf(out, n, "%s%s", key, val);
	free(val);
	return out;
}

static void collect(struct hrn_run *r, const struct hrn_step *st, size_t n,
		    struct repls *rs)
{
	for (size_t i = 0; i < n; i++) {
		const struct hrn_step *p = &st[i];
		if (p->action == HRN_A_REPEAT) {
			collect(r, p->sub, p->n_sub, rs);
			continue;
		}
		if (p->expect == HRN_X_NONE || p->keep ||
		    p->exp_span.end <= p->exp_span.start)
			continue;
		int kind;
		const uint8_t *b;
		size_t bn;
		bool conflict;
		if (!hrn_run_observed(r, p, &kind, &b, &bn, &conflict))
			continue; /* not run (skipped case): as written */
		if (conflict) {
			rs->kept++;
			continue;
		}
		char *text = NULL;
		if (kind == 0)
			text = join("expect: ", quote(b, bn));
		else if (kind == 1 && !p->capture)
			text = join("expect_raw: ", quote(b, bn));
		else if (kind == 2 && p->expect != HRN_X_SILENCE && !p->capture) {
			text = malloc(sizeof "silence: true");
			if (text)
				memcpy(text, "silence: true", sizeof "silence: true");
		} else
			continue;
		add(rs, p->exp_span.start, p->exp_span.end, text);
	}
}

static int by_start(const void *a, const void *b)
{
	const struct repl *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

int hrn_record_write(struct hrn_run *r, const struct hrn_script *s, FILE *out,
		     char *err, size_t errlen)
{
	struct repls rs = { 0 };
	collect(r, s->setup, s->n_setup, &rs);
	for (size_t i = 0; i < s->n_cases; i++)
		collect(r, s->cases[i].steps, s->cases[i].n_steps, &rs);
	qsort(rs.v, rs.n, sizeof *rs.v, by_start);
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%SZ", &tm);
	const struct hrn_detect *d = hrn_detected(r);
	fprintf(out, "# Recorded by upsharness %s on %s from %s%s%s%s.\n",
		UPSSIM_VERSION, stamp, hrn_run_target(r), d->model[0] ? ": " : "",
		d->model, "");
	size_t at = 0;
	for (size_t i = 0; i < rs.n; i++) {
		if (rs.v[i].start < at)
			continue; /* overlapping: cannot happen; keep the first */
		fwrite(s->text + at, 1, rs.v[i].start - at, out);
		fputs(rs.v[i].text, out);
		at = rs.v[i].end;
	}
	fwrite(s->text + at, 1, s->text_len - at, out);
	if (s->text_len && s->text[s->text_len - 1] != '\n')
		fputc('\n', out);
	for (size_t i = 0; i < rs.n; i++)
		free(rs.v[i].text);
	free(rs.v);
	if (rs.kept)
		snprintf(err, errlen, "%d step(s) kept as written: their "
			 "repeats saw different replies", rs.kept);
	else if (errlen)
		err[0] = '\0';
	return ferror(out) ? -1 : 0;
}
