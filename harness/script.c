/*
 * script.c - loads upsharness scripts (docs/harness.md): YAML text in
 * (libyaml document API), struct hrn_script out.  The key tables below are
 * the single list of accepted keys; every error lands in the caller's
 * struct ups_diag as file:line:col plus a message that, like the profile
 * and scenario loaders', never quotes the document: it names the schema's
 * words and suggests the key nearest to an unknown one.  Everything the
 * script owns lives in one arena, so a failed parse frees in one call.
 * Pure: no file is opened, nothing is printed.
 */
#include "script.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "upssim/yaml_node.h"
#include "upssim/cmdtab.h"
#include "upssim/profile.h"
#include "upssim/scenario.h"

#define MAX_NEST 32          /* a script nests ~6 (cases/steps/repeat) */
#define MAX_EVENTS 200000    /* YAML events in one document */
#define MAX_NAME 64          /* case, suite and capture names */
#define MAX_TEXT_FIELD 256   /* spec, description, skip */
#define MAX_VARS 128         /* captures in scope in one case */
#define MAX_REPEAT 1000
#define HOUR_MS 3600000
#define DAY_MS 86400000

/* ------------------------------------------------------------------ */
/* Arena: every allocation of a script, freed at once                  */

struct hrn_arena {
	void **blocks;
	size_t n, cap;
	regex_t **res;
	size_t n_res, cap_res;
};

struct hrn_arena *hrn_arena_new(void)
{
	return calloc(1, sizeof(struct hrn_arena));
}

void hrn_arena_free(struct hrn_arena *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n_res; i++)
		regfree(a->res[i]);
	for (size_t i = 0; i < a->n; i++)
		free(a->blocks[i]);
	free(a->blocks);
	free(a->res);
	free(a);
}

static void *arena_alloc(struct hrn_arena *a, size_t n)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 64;
		void **nb = realloc(a->blocks, nc * sizeof *nb);
		if (!nb)
			return NULL;
		a->blocks = nb;
		a->cap = nc;
	}
	void *p = calloc(1, n ? n : 1);
	if (p)
		a->blocks[a->n++] = p;
	return p;
}

static char *arena_strndup(struct hrn_arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (p)
		memcpy(p, s, n);
	return p;
}

static bool arena_keep_re(struct hrn_arena *a, regex_t *re)
{
	if (a->n_res == a->cap_res) {
		size_t nc = a->cap_res ? a->cap_res * 2 : 16;
		regex_t **nr = realloc(a->res, nc * sizeof *nr);
		if (!nr)
			return false;
		a->res = nr;
		a->cap_res = nc;
	}
	a->res[a->n_res++] = re;
	return true;
}

/* ------------------------------------------------------------------ */
/* Parse context and diagnostics                                       */

struct pc {
	const char *src;
	const char *text;
	size_t len;
	yaml_document_t *y;
	struct ups_diag *diag;
	struct hrn_arena *a;
	struct hrn_script *s;
	size_t *line_off;     /* byte offset of each line start */
	size_t n_lines;
	const char *vars[MAX_VARS]; /* captures in scope */
	size_t n_vars;
	size_t n_setup_vars;  /* setup's captures, in scope in every case */
};

static enum ups_rc fail(struct pc *pc, const yaml_node_t *n, const char *fmt,
			...) __attribute__((format(printf, 3, 4)));
static enum ups_rc fail(struct pc *pc, const yaml_node_t *n, const char *fmt,
			...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int line = n ? (int)n->start_mark.line + 1 : 1;
	int col = n ? (int)n->start_mark.column + 1 : 1;
	ups_diag_set(pc->diag, pc->src, line, col, "%s", msg);
	return UPS_EPARSE;
}

static enum ups_rc nomem(struct pc *pc)
{
	ups_diag_set(pc->diag, pc->src, 0, 0, "out of memory");
	return UPS_ENOMEM;
}

static yaml_node_t *node(const struct pc *pc, int i)
{
	return yaml_document_get_node(pc->y, i);
}

static enum ups_rc need_scalar(struct pc *pc, const yaml_node_t *n,
			       const char *key, const char *what)
{
	if (n->type != YAML_SCALAR_NODE)
		return fail(pc, n, "%s: expected %s, got a %s", key, what,
			    yn_kind_name(n));
	if (yn_is_null(n))
		return fail(pc, n, "%s: expected %s, got nothing", key, what);
	return UPS_OK;
}

/* ------------------------------------------------------------------ */
/* Unknown keys: the nearest schema word (as scenario.c does)          */

static enum ups_rc unknown_key(struct pc *pc, const yaml_node_t *k,
			       const char *where, const char *const *words)
{
	const char *near = yn_nearest(k, words);
	if (near)
		return fail(pc, k, "unknown key in %s (did you mean \"%s\"?)",
			    where, near);
	char keys[300];
	size_t o = 0;
	keys[0] = '\0';
	for (size_t i = 0; words[i] && o < sizeof keys; i++)
		o += (size_t)snprintf(keys + o, sizeof keys - o, "%s%s",
				      i ? ", " : "", words[i]);
	return fail(pc, k, "unknown key in %s (known: %s)", where, keys);
}

/** Index of @p k in @p words, or -1.  Keys must be scalars. */
static int key_index(struct pc *pc, const yaml_node_t *k,
		     const char *const *words, enum ups_rc *rc)
{
	*rc = UPS_OK;
	if (k->type != YAML_SCALAR_NODE) {
		*rc = fail(pc, k, "keys must be plain words, got a %s",
			   yn_kind_name(k));
		return -1;
	}
	for (int i = 0; words[i]; i++)
		if (yn_scalar_is(k, words[i]))
			return i;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Positions: libyaml marks (line, column in characters) to bytes      */

/** Length of the line break at @p i, as libyaml counts lines: LF, CR LF,
 *  a lone CR, NEL (U+0085), LS and PS (U+2028, U+2029).  0 if none. */
static size_t line_break(const char *t, size_t len, size_t i)
{
	const unsigned char *u = (const unsigned char *)t;
	if (u[i] == '\n')
		return 1;
	if (u[i] == '\r')
		return i + 1 < len && u[i + 1] == '\n' ? 2 : 1;
	if (u[i] == 0xC2 && i + 1 < len && u[i + 1] == 0x85)
		return 2;
	if (u[i] == 0xE2 && i + 2 < len && u[i + 1] == 0x80 &&
	    (u[i + 2] == 0xA8 || u[i + 2] == 0xA9))
		return 3;
	return 0;
}

static size_t mark_offset(const struct pc *pc, yaml_mark_t m)
{
	if (m.line >= pc->n_lines)
		return pc->len;
	size_t o = pc->line_off[m.line];
	for (size_t c = 0; c < m.column && o < pc->len; c++) {
		unsigned char b = (unsigned char)pc->text[o];
		size_t w = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
		if (line_break(pc->text, pc->len, o))
			break;
		o += w;
	}
	return o > pc->len ? pc->len : o;
}

/** Where the value of a node really ends: block collections' end marks
 *  lie at the next token, after the line break. */
static size_t content_end(const struct pc *pc, const yaml_node_t *n, int depth)
{
	if (depth > MAX_NEST)
		return mark_offset(pc, n->end_mark);
	if (n->type == YAML_SEQUENCE_NODE &&
	    n->data.sequence.style == YAML_BLOCK_SEQUENCE_STYLE &&
	    n->data.sequence.items.top > n->data.sequence.items.start)
		return content_end(pc, node(pc, n->data.sequence.items.top[-1]),
				   depth + 1);
	if (n->type == YAML_MAPPING_NODE &&
	    n->data.mapping.style == YAML_BLOCK_MAPPING_STYLE &&
	    n->data.mapping.pairs.top > n->data.mapping.pairs.start)
		return content_end(pc, node(pc, n->data.mapping.pairs.top[-1].value),
				   depth + 1);
	size_t e = mark_offset(pc, n->end_mark);
	/* block scalars (| >) end after their line break: trim it */
	while (e > 0 && n->type == YAML_SCALAR_NODE &&
	       (n->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
		n->data.scalar.style == YAML_FOLDED_SCALAR_STYLE) &&
	       (pc->text[e - 1] == '\n' || pc->text[e - 1] == '\r' ||
		pc->text[e - 1] == ' '))
		e--;
	return e;
}

/* ------------------------------------------------------------------ */
/* Scalars                                                             */

/** Text field: UTF-8 without control characters, at most @p max bytes. */
static enum ups_rc get_text(struct pc *pc, const yaml_node_t *n,
			    const char *key, size_t max, const char **out)
{
	enum ups_rc rc = need_scalar(pc, n, key, "text");
	if (rc)
		return rc;
	const unsigned char *s = n->data.scalar.value;
	size_t len = n->data.scalar.length;
	if (len > max)
		return fail(pc, n, "%s: too long (%zu bytes, at most %zu)", key,
			    len, max);
	size_t bad = yn_first_control(n);
	if (bad)
		return fail(pc, n, "%s: character %zu is a control character "
			    "(not allowed here)", key, bad);
	*out = arena_strndup(pc->a, (const char *)s, len);
	return *out ? UPS_OK : nomem(pc);
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || strchr("-_.:/", c);
}

/** A case or suite name: letters, digits and -_.:/ */
static enum ups_rc get_name(struct pc *pc, const yaml_node_t *n,
			    const char *key, const char **out)
{
	enum ups_rc rc = need_scalar(pc, n, key, "a name");
	if (rc)
		return rc;
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	if (len == 0)
		return fail(pc, n, "%s: empty", key);
	if (len > MAX_NAME)
		return fail(pc, n, "%s: too long (at most %d characters)", key,
			    MAX_NAME);
	for (size_t i = 0; i < len; i++)
		if (!name_char(s[i]))
			return fail(pc, n, "%s: character %zu is not allowed "
				    "(letters, digits and - _ . : / only)", key,
				    i + 1);
	*out = arena_strndup(pc->a, s, len);
	return *out ? UPS_OK : nomem(pc);
}

static bool ident(const char *s, size_t n)
{
	if (n == 0 || n > 31)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     c == '_';
		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

/** Duration within [lo, hi] ms (scen_duration's syntax). */
static enum ups_rc get_duration(struct pc *pc, const yaml_node_t *n,
				const char *key, int64_t lo, int64_t hi,
				int64_t *out)
{
	enum ups_rc rc = need_scalar(pc, n, key, "a duration");
	if (rc)
		return rc;
	char buf[48];
	uint64_t ms = 0;
	if (n->data.scalar.length >= sizeof buf ||
	    memchr(n->data.scalar.value, '\0', n->data.scalar.length))
		return fail(pc, n, "%s: expected a duration such as 250ms, 2s "
			    "or 1m30s", key);
	memcpy(buf, n->data.scalar.value, n->data.scalar.length);
	buf[n->data.scalar.length] = '\0';
	if (scen_duration(buf, &ms) != UPS_OK)
		return fail(pc, n, "%s: expected a duration such as 250ms, 2s "
			    "or 1m30s (a bare number is seconds)", key);
	if (ms < (uint64_t)lo || ms > (uint64_t)hi)
		return fail(pc, n, "%s: out of range (%lldms to %lldms)", key,
			    (long long)lo, (long long)hi);
	*out = (int64_t)ms;
	return UPS_OK;
}

/* ------------------------------------------------------------------ */
/* Byte strings: ^Z, \xNN, ${name}                                     */

static int hexval(uint8_t c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool add_part(struct hrn_arena *a, struct hrn_tmpl *t,
		     const uint8_t *p, size_t n, const char *var)
{
	struct hrn_part *np = arena_alloc(a, (t->n + 1) * sizeof *np);
	if (!np)
		return false;
	if (t->n)
		memcpy(np, t->parts, t->n * sizeof *np);
	np[t->n].p = NULL;
	np[t->n].n = n;
	np[t->n].var = var;
	if (!var && n) {
		uint8_t *copy = arena_alloc(a, n);
		if (!copy)
			return false;
		memcpy(copy, p, n);
		np[t->n].p = copy;
		t->lit_len += n;
	}
	t->parts = np;
	t->n++;
	if (var)
		t->has_vars = true;
	return true;
}

enum ups_rc hrn_decode(struct hrn_arena *a, const char *s, size_t n,
		       struct hrn_tmpl *out, char *why, size_t whylen)
{
	*out = (struct hrn_tmpl){ 0 };
	uint8_t *raw = malloc(n + 1), *lit = malloc(n + 1);
	enum ups_rc rc = UPS_OK;
	size_t rn, ln = 0, above;
	if (!raw || !lit) {
		rc = UPS_ENOMEM;
		goto out;
	}
	rn = yn_bytes((const unsigned char *)s, n, raw, n, &above);
	if (above) {
		snprintf(why, whylen, "character %zu is above U+00FF, "
			 "not a byte (write \\xNN)", above);
		rc = UPS_EPARSE;
		goto out;
	}
	for (size_t i = 0; i < rn; i++) {
		uint8_t c = raw[i];
		if (c == '^') {
			if (i + 1 >= rn) {
				lit[ln++] = '^';
				continue;
			}
			uint8_t d = raw[++i];
			if (d == '^')
				lit[ln++] = '^';
			else if (d == '?')
				lit[ln++] = 0x7F;
			else if ((d >= '@' && d <= '_') || (d >= 'a' && d <= 'z'))
				lit[ln++] = d & 0x1F;
			else {
				snprintf(why, whylen, "character %zu: ^ must be "
					 "followed by a letter, @ [ \\ ] _ or ? "
					 "(write ^^ for the ^ byte)", i);
				rc = UPS_EPARSE;
				goto out;
			}
		} else if (c == '\\') {
			uint8_t d = i + 1 < rn ? raw[i + 1] : 0;
			i++;
			if (d == 'x' && i + 2 < rn && hexval(raw[i + 1]) >= 0 &&
			    hexval(raw[i + 2]) >= 0) {
				lit[ln++] = (uint8_t)(hexval(raw[i + 1]) * 16 +
						      hexval(raw[i + 2]));
				i += 2;
			} else if (d == 'r')
				lit[ln++] = '\r';
			else if (d == 'n')
				lit[ln++] = '\n';
			else if (d == 't')
				lit[ln++] = '\t';
			else if (d == '0')
				lit[ln++] = 0;
			else if (d == '\\')
				lit[ln++] = '\\';
			else {
				snprintf(why, whylen, "character %zu: unknown "
					 "escape (\\xNN with two hex digits, "
					 "\\r \\n \\t \\0 or \\\\)", i);
				rc = UPS_EPARSE;
				goto out;
			}
		} else if (c == '$' && i + 2 < rn && raw[i + 1] == '$' &&
			   raw[i + 2] == '{') {
			lit[ln++] = '$';
			lit[ln++] = '{';
			i += 2;
		} else if (c == '$' && i + 1 < rn && raw[i + 1] == '{') {
			size_t j = i + 2;
			while (j < rn && raw[j] != '}')
				j++;
			if (j >= rn || !ident((const char *)raw + i + 2, j - i - 2)) {
				snprintf(why, whylen, "character %zu: ${ must be "
					 "followed by a capture name (a letter "
					 "or _, then letters, digits or _, at "
					 "most 31) and }", i + 1);
				rc = UPS_EPARSE;
				goto out;
			}
			if ((ln && !add_part(a, out, lit, ln, NULL))) {
				rc = UPS_ENOMEM;
				goto out;
			}
			ln = 0;
			char *name = arena_strndup(a, (const char *)raw + i + 2,
						   j - i - 2);
			if (!name || !add_part(a, out, NULL, 0, name)) {
				rc = UPS_ENOMEM;
				goto out;
			}
			i = j;
		} else {
			lit[ln++] = c;
		}
	}
	if (ln && !add_part(a, out, lit, ln, NULL))
		rc = UPS_ENOMEM;
out:
	free(raw);
	free(lit);
	if (rc == UPS_ENOMEM)
		snprintf(why, whylen, "out of memory");
	return rc;
}

/** Decode a byte-string value and check its ${names} are in scope. */
static enum ups_rc get_bytes(struct pc *pc, const yaml_node_t *n,
			     const char *key, bool allow_empty,
			     struct hrn_tmpl *out)
{
	if (n->type != YAML_SCALAR_NODE)
		return fail(pc, n, "%s: expected a byte string, got a %s", key,
			    yn_kind_name(n));
	if (yn_is_null(n) && !(allow_empty && n->data.scalar.length == 0 &&
			    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE))
		return fail(pc, n, "%s: expected a byte string, got nothing "
			    "(write \"\" for an empty reply)", key);
	char why[200];
	enum ups_rc rc = hrn_decode(pc->a, (const char *)n->data.scalar.value,
				    n->data.scalar.length, out, why, sizeof why);
	if (rc == UPS_ENOMEM)
		return nomem(pc);
	if (rc)
		return fail(pc, n, "%s: %s", key, why);
	if (!allow_empty && out->lit_len == 0 && !out->has_vars)
		return fail(pc, n, "%s: empty", key);
	for (size_t i = 0; i < out->n; i++) {
		if (!out->parts[i].var)
			continue;
		bool found = false;
		for (size_t v = 0; v < pc->n_vars && !found; v++)
			found = !strcmp(pc->vars[v], out->parts[i].var);
		if (!found)
			return fail(pc, n, "%s: ${%s} is not captured by an "
				    "earlier step of this case (or setup)", key,
				    out->parts[i].var);
	}
	return UPS_OK;
}

/* ------------------------------------------------------------------ */
/* Steps                                                               */

enum sk { K_SEND, K_PACE, K_EXPECT, K_MATCH, K_ONE_OF, K_DIFFERS, K_RAW,
	  K_SILENCE, K_CAPTURE, K_TIMEOUT, K_ALERT, K_WITHIN, K_WAIT, K_FLUSH,
	  K_REPEAT, K_STEPS, K_RECORD, K_N };
static const char *const step_keys[] = {
	"send", "pace", "expect", "match", "one_of", "differs", "expect_raw",
	"silence", "capture", "timeout", "alert", "within", "wait", "flush",
	"repeat", "steps", "record", NULL,
};

static enum ups_rc parse_steps(struct pc *pc, const yaml_node_t *v,
			       const char *key, int depth,
			       struct hrn_step **out, size_t *n_out);

/*
 * glibc's regcomp copies a subexpression once per repetition: "a++++..."
 * or "((a{1,99}){1,99}){1,99}" take gigabytes, and back-references make
 * regexec exponential.  A reply pattern needs none of that.  The size of
 * the expanded pattern is estimated (an atom is 1; a sequence and an
 * alternation add up; x{m,n} counts x max(m,n) times, x+ and x* twice)
 * and bounded.  @return why @p re is refused, or NULL.
 */
#define RE_MAX_LEN 4096
#define RE_MAX_SIZE 20000
#define RE_MAX_DEPTH 32
/* regcomp's closure work grows with the cube of the nullable parts under
 * a repetition: 200 (a?) in (...)+ took 4 s, 200 empty alternatives 11 s */
#define RE_MAX_NULLABLE 40

struct re_frame {
	unsigned long seq, alts, last;
};

static const char *regex_cost(const char *re, size_t n)
{
	struct re_frame st[RE_MAX_DEPTH + 1] = { { 0, 0, 0 } };
	int d = 0, nullable = 0;
	bool prev_quant = false;
	if (n > RE_MAX_LEN)
		return "longer than 4096 characters";
	for (size_t i = 0; i < n; i++) {
		char c = re[i];
		struct re_frame *f = &st[d];
		unsigned long k = 0;
		if (c == '*' || c == '+' || c == '?' || c == '{') {
			if (prev_quant)
				return "a repetition of a repetition (such as ++)";
			prev_quant = true;
			if (c == '*' || c == '?' ||
			    (c == '{' && i + 1 < n && (re[i + 1] == '0' ||
						       re[i + 1] == ',')))
				nullable++;
			if (c == '{') {
				unsigned long v = 0;
				for (i++; i < n && re[i] != '}'; i++)
					if (re[i] >= '0' && re[i] <= '9') {
						v = v * 10 + (unsigned long)(re[i] - '0');
						if (v > 1000)
							return "a repetition count "
							       "above 1000";
					} else {
						k = v > k ? v : k;
						v = 0;
					}
				k = (v > k ? v : k) + (i > 0 && re[i - 1] == ',');
			} else {
				k = c == '?' ? 1 : 2;
			}
			if (k == 0)
				k = 1;
			f->seq += f->last * (k - 1);
			f->last *= k;
		} else {
			prev_quant = false;
			if (c == '(') {
				if (d == RE_MAX_DEPTH)
					return "groups nested too deep";
				st[++d] = (struct re_frame){ 0, 0, 0 };
				continue;
			} else if (c == ')' && d > 0) {
				unsigned long size = f->alts + f->seq;
				d--;
				st[d].last = size ? size : 1;
				st[d].seq += st[d].last;
			} else if (c == '|') {
				/* an empty alternative: |, (| or |) */
				if (f->seq == 0 || i + 1 == n || re[i + 1] == '|' ||
				    re[i + 1] == ')')
					nullable++;
				f->alts += f->seq;
				f->seq = f->last = 0;
			} else {
				if (c == '\\') {
					if (i + 1 < n && re[i + 1] >= '1' &&
					    re[i + 1] <= '9')
						return "back-references are not "
						       "supported";
					i++;
				} else if (c == '[') {
					/* ] first is a literal; [:class:]
					 * [.x.] [=x=] hold brackets too */
					size_t j = i + 1;
					if (j < n && re[j] == '^')
						j++;
					if (j < n && re[j] == ']')
						j++;
					while (j < n && re[j] != ']') {
						if (re[j] == '[' && j + 1 < n &&
						    strchr(":.=", re[j + 1])) {
							char e = re[j + 1];
							j += 2;
							while (j + 1 < n &&
							       !(re[j] == e &&
								 re[j + 1] == ']'))
								j++;
							j += 2;
						} else {
							j++;
						}
					}
					i = j;
				}
				f->last = 1;
				f->seq += 1;
			}
		}
		if (nullable > RE_MAX_NULLABLE)
			return "more than 40 optional parts (?, *, {0,n}, empty "
			       "alternatives)";
		for (int x = 0; x <= d; x++)
			if (st[x].seq + st[x].alts > RE_MAX_SIZE ||
			    st[x].last > RE_MAX_SIZE)
				return "too large once its repetitions are "
				       "expanded";
	}
	return NULL;
}

static enum ups_rc step_regex(struct pc *pc, const yaml_node_t *v,
			      struct hrn_step *st)
{
	enum ups_rc rc = need_scalar(pc, v, "match", "a regular expression");
	if (rc)
		return rc;
	/* bytes, as in byte strings: U+0080..U+00FF are 0x80..0xFF */
	size_t len = v->data.scalar.length, above;
	char *buf = arena_alloc(pc->a, len + 1);
	if (!buf)
		return nomem(pc);
	size_t o = yn_bytes(v->data.scalar.value, len, (unsigned char *)buf,
			    len, &above);
	if (above)
		return fail(pc, v, "match: a character above U+00FF is not a "
			    "byte");
	if (memchr(buf, 0, o))
		return fail(pc, v, "match: NUL is not allowed in a regular "
			    "expression");
	st->re_src = buf;
	const char *cost = regex_cost(buf, o);
	if (cost)
		return fail(pc, v, "match: %s (a reply pattern needs none)", cost);
	st->re = arena_alloc(pc->a, sizeof *st->re);
	if (!st->re)
		return nomem(pc);
	char err[160];
	if (hrn_regcomp(st->re, buf, o, &st->re_groups, err, sizeof err)) {
		st->re = NULL;
		return fail(pc, v, "match: not a POSIX extended regular "
			    "expression: %s", err);
	}
	if (!arena_keep_re(pc->a, st->re)) {
		regfree(st->re);
		st->re = NULL;
		return nomem(pc);
	}
	return UPS_OK;
}

static enum ups_rc parse_step(struct pc *pc, const yaml_node_t *n, int depth,
			      struct hrn_step *st)
{
	enum ups_rc rc;
	*st = (struct hrn_step){ .line = (int)n->start_mark.line + 1,
				 .col = (int)n->start_mark.column + 1,
				 .pace_ms = -1, .timeout_ms = -1,
				 .within_ms = HRN_DEFAULT_WITHIN_MS };
	if (n->type != YAML_MAPPING_NODE)
		return fail(pc, n, "a step is a mapping (send: ..., expect: "
			    "...), got a %s", yn_kind_name(n));
	const yaml_node_t *key[K_N] = { 0 }, *val[K_N] = { 0 };
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
	     pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(pc, pr->key), *vv = node(pc, pr->value);
		int i = key_index(pc, k, step_keys, &rc);
		if (rc)
			return rc;
		if (i < 0)
			return unknown_key(pc, k, "a step", step_keys);
		if (key[i])
			return fail(pc, k, "%s: duplicate key", step_keys[i]);
		key[i] = k;
		val[i] = vv;
	}
	/* one action, at most one expectation */
	static const int actions[] = { K_SEND, K_ALERT, K_WAIT, K_FLUSH, K_REPEAT };
	static const int expects[] = { K_EXPECT, K_MATCH, K_ONE_OF, K_DIFFERS,
				       K_RAW, K_SILENCE };
	int act = -1, exp = -1;
	for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
		if (key[actions[i]]) {
			if (act >= 0)
				return fail(pc, key[actions[i]], "%s and %s in one "
					    "step: give each its own step",
					    step_keys[act], step_keys[actions[i]]);
			act = actions[i];
		}
	for (size_t i = 0; i < sizeof expects / sizeof expects[0]; i++)
		if (key[expects[i]]) {
			if (exp >= 0)
				return fail(pc, key[expects[i]], "%s and %s in one "
					    "step: a step has at most one "
					    "expectation", step_keys[exp],
					    step_keys[expects[i]]);
			exp = expects[i];
		}
	if (act < 0 && exp < 0 && !key[K_CAPTURE])
		return fail(pc, n, "a step needs send, alert, wait, flush, "
			    "repeat, an expectation or capture");
	if (act >= 0 && act != K_SEND && (exp >= 0 || key[K_CAPTURE])) {
		const yaml_node_t *k = exp >= 0 ? key[exp] : key[K_CAPTURE];
		return fail(pc, k, "%s: not with %s (only a send reads a reply)",
			    exp >= 0 ? step_keys[exp] : "capture",
			    step_keys[act]);
	}
	if (key[K_PACE] && act != K_SEND)
		return fail(pc, key[K_PACE], "pace: only with send");
	if (key[K_WITHIN] && act != K_ALERT)
		return fail(pc, key[K_WITHIN], "within: only with alert");
	if (key[K_STEPS] && act != K_REPEAT)
		return fail(pc, key[K_STEPS], "steps: only with repeat");
	if (act == K_REPEAT && !key[K_STEPS])
		return fail(pc, key[K_REPEAT], "repeat: needs steps: (the steps "
			    "to repeat)");
	if (key[K_TIMEOUT] && exp < 0 && !key[K_CAPTURE])
		return fail(pc, key[K_TIMEOUT], "timeout: only with an "
			    "expectation or capture");
	if (key[K_TIMEOUT] && exp == K_SILENCE)
		return fail(pc, key[K_TIMEOUT], "timeout: not with silence "
			    "(silence gives its own duration)");
	if (key[K_CAPTURE] && (exp == K_RAW || exp == K_SILENCE))
		return fail(pc, key[K_CAPTURE], "capture: not with %s",
			    step_keys[exp]);

	/* values; expectations are read before capture adds its name */
	if (key[K_SEND]) {
		st->action = HRN_A_SEND;
		if ((rc = get_bytes(pc, val[K_SEND], "send", false, &st->send)))
			return rc;
	}
	if (key[K_PACE] &&
	    (rc = get_duration(pc, val[K_PACE], "pace", 0, 60000, &st->pace_ms)))
		return rc;
	if (key[K_TIMEOUT] &&
	    (rc = get_duration(pc, val[K_TIMEOUT], "timeout", 1, HOUR_MS,
			       &st->timeout_ms)))
		return rc;
	if (exp >= 0) {
		const yaml_node_t *v = val[exp];
		st->exp_line = (int)key[exp]->start_mark.line + 1;
		st->exp_span.start = mark_offset(pc, key[exp]->start_mark);
		st->exp_span.end = content_end(pc, v, 0);
		switch (exp) {
		case K_EXPECT:
		case K_DIFFERS:
		case K_RAW:
			st->expect = exp == K_EXPECT ? HRN_X_EXACT :
				     exp == K_DIFFERS ? HRN_X_DIFFERS : HRN_X_RAW;
			st->alts = arena_alloc(pc->a, sizeof *st->alts);
			if (!st->alts)
				return nomem(pc);
			st->n_alts = 1;
			if ((rc = get_bytes(pc, v, step_keys[exp],
					    exp != K_RAW, st->alts)))
				return rc;
			break;
		case K_MATCH:
			st->expect = HRN_X_MATCH;
			if ((rc = step_regex(pc, v, st)))
				return rc;
			break;
		case K_ONE_OF: {
			st->expect = HRN_X_ONE_OF;
			if (v->type != YAML_SEQUENCE_NODE)
				return fail(pc, v, "one_of: expected a list of "
					    "replies, got a %s", yn_kind_name(v));
			size_t cnt = (size_t)(v->data.sequence.items.top -
					      v->data.sequence.items.start);
			if (cnt < 1)
				return fail(pc, v, "one_of: empty list");
			if (cnt > 64)
				return fail(pc, v, "one_of: more than 64 replies");
			st->alts = arena_alloc(pc->a, cnt * sizeof *st->alts);
			if (!st->alts)
				return nomem(pc);
			for (size_t i = 0; i < cnt; i++)
				if ((rc = get_bytes(pc, node(pc, v->data.sequence.items.start[i]),
						    "one_of", true, &st->alts[i])))
					return rc;
			st->n_alts = cnt;
			break;
		}
		case K_SILENCE:
			st->expect = HRN_X_SILENCE;
			if (yn_scalar_is(v, "true") || yn_scalar_is(v, "yes"))
				st->silence_ms = 0;
			else if ((rc = get_duration(pc, v, "silence", 1, HOUR_MS,
						    &st->silence_ms)))
				return rc;
			break;
		}
	}
	if (key[K_ALERT]) {
		st->action = HRN_A_ALERT;
		const yaml_node_t *v = val[K_ALERT];
		if ((rc = need_scalar(pc, v, "alert", "alert characters")))
			return rc;
		size_t len = v->data.scalar.length;
		if (len > HRN_MAX_ALERTS)
			return fail(pc, v, "alert: at most %d characters",
				    HRN_MAX_ALERTS);
		for (size_t i = 0; i < len; i++) {
			char c = (char)v->data.scalar.value[i];
			if (!c || !strchr(HRN_ALERT_CHARS, c))
				return fail(pc, v, "alert: character %zu is not "
					    "an alert character (%s)", i + 1,
					    HRN_ALERT_CHARS);
			st->alerts[i] = c;
		}
	}
	if (key[K_WITHIN] &&
	    (rc = get_duration(pc, val[K_WITHIN], "within", 1, DAY_MS,
			       &st->within_ms)))
		return rc;
	if (key[K_WAIT]) {
		st->action = HRN_A_WAIT;
		if ((rc = get_duration(pc, val[K_WAIT], "wait", 0, DAY_MS,
				       &st->wait_ms)))
			return rc;
	}
	if (key[K_FLUSH]) {
		st->action = HRN_A_FLUSH;
		if ((rc = get_duration(pc, val[K_FLUSH], "flush", 0, DAY_MS,
				       &st->wait_ms)))
			return rc;
	}
	if (key[K_RECORD]) {
		if (!yn_scalar_is(val[K_RECORD], "keep"))
			return fail(pc, val[K_RECORD], "record: the only value "
				    "is keep");
		st->keep = true;
	}
	if (key[K_REPEAT]) {
		st->action = HRN_A_REPEAT;
		const yaml_node_t *v = val[K_REPEAT];
		if ((rc = need_scalar(pc, v, "repeat", "a count")))
			return rc;
		long cnt = 0;
		size_t len = v->data.scalar.length;
		bool ok = len > 0 && len <= 5;
		for (size_t i = 0; ok && i < len; i++) {
			char c = (char)v->data.scalar.value[i];
			ok = c >= '0' && c <= '9';
			cnt = cnt * 10 + (c - '0');
		}
		if (!ok || cnt < 1 || cnt > MAX_REPEAT)
			return fail(pc, v, "repeat: expected a count from 1 to %d",
				    MAX_REPEAT);
		st->repeat = (int)cnt;
		if ((rc = parse_steps(pc, val[K_STEPS], "steps", depth + 1,
				      &st->sub, &st->n_sub)))
			return rc;
	}
	if (key[K_CAPTURE]) {
		const yaml_node_t *v = val[K_CAPTURE];
		if ((rc = need_scalar(pc, v, "capture", "a name")))
			return rc;
		if (!ident((const char *)v->data.scalar.value,
			   v->data.scalar.length))
			return fail(pc, v, "capture: a name is a letter or _, "
				    "then letters, digits or _ (at most 31)");
		st->capture = arena_strndup(pc->a,
					    (const char *)v->data.scalar.value,
					    v->data.scalar.length);
		if (!st->capture)
			return nomem(pc);
		bool known = false;
		for (size_t i = 0; i < pc->n_vars && !known; i++)
			known = !strcmp(pc->vars[i], st->capture);
		if (!known) {
			if (pc->n_vars >= MAX_VARS)
				return fail(pc, v, "capture: more than %d names "
					    "in one case", MAX_VARS);
			pc->vars[pc->n_vars++] = st->capture;
		}
	}
	return UPS_OK;
}

static enum ups_rc parse_steps(struct pc *pc, const yaml_node_t *v,
			       const char *key, int depth,
			       struct hrn_step **out, size_t *n_out)
{
	if (depth > 8)
		return fail(pc, v, "%s: repeat nested more than 8 deep", key);
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(pc, v, "%s: expected a list of steps, got %s%s", key,
			    yn_is_null(v) ? "nothing" : "a ",
			    yn_is_null(v) ? "" : yn_kind_name(v));
	size_t cnt = (size_t)(v->data.sequence.items.top -
			      v->data.sequence.items.start);
	if (cnt == 0)
		return fail(pc, v, "%s: empty list (give at least one step)", key);
	struct hrn_step *steps = arena_alloc(pc->a, cnt * sizeof *steps);
	if (!steps)
		return nomem(pc);
	for (size_t i = 0; i < cnt; i++) {
		enum ups_rc rc = parse_step(pc, node(pc, v->data.sequence.items.start[i]),
					    depth, &steps[i]);
		if (rc)
			return rc;
	}
	*out = steps;
	*n_out = cnt;
	return UPS_OK;
}

/* ------------------------------------------------------------------ */
/* Cases                                                               */

enum ck { C_NAME, C_STEPS, C_SPEC, C_DESC, C_REQUIRES, C_FAMILY, C_SKIP,
	  C_TIMEOUT, C_PACE, C_N };
static const char *const case_keys[] = {
	"name", "steps", "spec", "description", "requires", "family", "skip",
	"timeout", "pace", NULL,
};

static const struct {
	const char *name;
	unsigned fam;
} families[] = {
	{ "old", UPS_FAM_OLD }, { "2G", UPS_FAM_SU2 }, { "3G", UPS_FAM_SU3 },
	{ "Matrix", UPS_FAM_MATRIX }, { "v/s", UPS_FAM_VS },
	{ "BUP", UPS_FAM_BUP },
};
static const char *const family_words[] = { "old", "2G", "3G", "Matrix",
					    "v/s", "BUP", NULL };

const char *hrn_family_name(unsigned f)
{
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
		if (f & families[i].fam)
			return families[i].name;
	return "unknown";
}

/** A command byte as docs/commands.md names it: one character, ^X, DEL,
 *  \xNN.  @return the byte, or -1 */
static int command_name(const char *s, size_t n)
{
	if (n == 1 && (unsigned char)s[0] > 0x20 && (unsigned char)s[0] < 0x7F)
		return (unsigned char)s[0];
	if (n == 2 && s[0] == '^') {
		unsigned char d = (unsigned char)s[1];
		if (d == '?')
			return 0x7F;
		if ((d >= '@' && d <= '_') || (d >= 'a' && d <= 'z'))
			return d & 0x1F;
	}
	if (n == 3 && !memcmp(s, "DEL", 3))
		return 0x7F;
	if (n == 4 && s[0] == '\\' && s[1] == 'x' &&
	    hexval((uint8_t)s[2]) >= 0 && hexval((uint8_t)s[3]) >= 0)
		return hexval((uint8_t)s[2]) * 16 + hexval((uint8_t)s[3]);
	if (n == 1 && (unsigned char)s[0] < 0x20)
		return (unsigned char)s[0]; /* "\x1a" in a double-quoted string */
	return -1;
}

static enum ups_rc parse_requires(struct pc *pc, const yaml_node_t *v,
				  struct hrn_case *c)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(pc, v, "requires: expected a list such as [K, \"^Z\", "
			    "measure-ups], got a %s", yn_kind_name(v));
	c->has_requires = true;
	static const char *const words[] = { "measure-ups", "DEL", NULL };
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node(pc, *it);
		enum ups_rc rc = need_scalar(pc, e, "requires", "a command or "
					     "measure-ups");
		if (rc)
			return rc;
		const char *s = (const char *)e->data.scalar.value;
		size_t n = e->data.scalar.length;
		if (yn_scalar_is(e, "measure-ups")) {
			c->req_measure = true;
			continue;
		}
		int b = command_name(s, n);
		if (b < 0) {
			const char *near = yn_nearest(e, words);
			if (near)
				return fail(pc, e, "requires: not a command byte "
					    "(did you mean \"%s\"?)", near);
			return fail(pc, e, "requires: not a command byte (one "
				    "character, ^X, DEL or \\xNN) nor measure-ups");
		}
		c->requires[b >> 3] |= (uint8_t)(1u << (b & 7));
	}
	return UPS_OK;
}

static enum ups_rc parse_family(struct pc *pc, const yaml_node_t *v,
				struct hrn_case *c)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(pc, v, "family: expected a list such as [3G, Matrix], "
			    "got a %s", yn_kind_name(v));
	if (v->data.sequence.items.top == v->data.sequence.items.start)
		return fail(pc, v, "family: empty list");
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *e = node(pc, *it);
		enum ups_rc rc = need_scalar(pc, e, "family", "a family name");
		if (rc)
			return rc;
		size_t i = 0;
		for (; i < sizeof families / sizeof families[0]; i++)
			if (yn_scalar_is(e, families[i].name))
				break;
		if (i == sizeof families / sizeof families[0]) {
			const char *near = yn_nearest(e, family_words);
			if (near)
				return fail(pc, e, "family: unknown family (did "
					    "you mean \"%s\"?)", near);
			return fail(pc, e, "family: unknown family (old, 2G, 3G, "
				    "Matrix, v/s, BUP)");
		}
		c->families |= families[i].fam;
	}
	return UPS_OK;
}

static enum ups_rc parse_case(struct pc *pc, const yaml_node_t *n,
			      struct hrn_case *c)
{
	enum ups_rc rc;
	*c = (struct hrn_case){ .line = (int)n->start_mark.line + 1,
				.col = (int)n->start_mark.column + 1,
				.timeout_ms = -1, .pace_ms = -1, .spec = "" };
	if (n->type != YAML_MAPPING_NODE)
		return fail(pc, n, "a case is a mapping (name: ..., steps: ...), "
			    "got a %s", yn_kind_name(n));
	const yaml_node_t *key[C_N] = { 0 }, *val[C_N] = { 0 };
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
	     pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(pc, pr->key), *vv = node(pc, pr->value);
		int i = key_index(pc, k, case_keys, &rc);
		if (rc)
			return rc;
		if (i < 0)
			return unknown_key(pc, k, "a case", case_keys);
		if (key[i])
			return fail(pc, k, "%s: duplicate key", case_keys[i]);
		key[i] = k;
		val[i] = vv;
	}
	if (!key[C_NAME])
		return fail(pc, n, "a case needs a name");
	if (!key[C_STEPS])
		return fail(pc, n, "a case needs steps");
	if ((rc = get_name(pc, val[C_NAME], "name", &c->name)))
		return rc;
	if (pc->s->spec)
		c->spec = pc->s->spec;
	if (key[C_SPEC] &&
	    (rc = get_text(pc, val[C_SPEC], "spec", MAX_TEXT_FIELD, &c->spec)))
		return rc;
	if (key[C_DESC] &&
	    (rc = get_text(pc, val[C_DESC], "description", MAX_TEXT_FIELD,
			   &c->description)))
		return rc;
	if (key[C_SKIP] &&
	    (rc = get_text(pc, val[C_SKIP], "skip", MAX_TEXT_FIELD, &c->skip)))
		return rc;
	if (key[C_REQUIRES] && (rc = parse_requires(pc, val[C_REQUIRES], c)))
		return rc;
	if (key[C_FAMILY] && (rc = parse_family(pc, val[C_FAMILY], c)))
		return rc;
	if (key[C_TIMEOUT] &&
	    (rc = get_duration(pc, val[C_TIMEOUT], "timeout", 1, HOUR_MS,
			       &c->timeout_ms)))
		return rc;
	if (key[C_PACE] &&
	    (rc = get_duration(pc, val[C_PACE], "pace", 0, 60000, &c->pace_ms)))
		return rc;
	pc->n_vars = pc->n_setup_vars; /* captures belong to one case */
	return parse_steps(pc, val[C_STEPS], "steps", 0, &c->steps, &c->n_steps);
}

/* ------------------------------------------------------------------ */
/* Top level                                                           */

enum tk { T_SUITE, T_DESC, T_SPEC, T_LATENCY, T_TIMEOUT, T_PACE, T_ALERTS,
	  T_SETUP, T_CASES, T_N };
static const char *const top_keys[] = {
	"suite", "description", "spec", "latency", "timeout", "pace", "alerts",
	"setup", "cases", NULL,
};

static enum ups_rc walk_top(struct pc *pc, const yaml_node_t *root)
{
	struct hrn_script *s = pc->s;
	enum ups_rc rc;
	if (root->type != YAML_MAPPING_NODE)
		return fail(pc, root, "a script is a mapping with cases: (see "
			    "docs/harness.md), got a %s", yn_kind_name(root));
	const yaml_node_t *key[T_N] = { 0 }, *val[T_N] = { 0 };
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
	     pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(pc, pr->key), *v = node(pc, pr->value);
		int i = key_index(pc, k, top_keys, &rc);
		if (rc)
			return rc;
		if (i < 0)
			return unknown_key(pc, k, "the script", top_keys);
		if (key[i])
			return fail(pc, k, "%s: duplicate key", top_keys[i]);
		key[i] = k;
		val[i] = v;
	}
	if (key[T_SUITE] && (rc = get_name(pc, val[T_SUITE], "suite", &s->suite)))
		return rc;
	if (key[T_DESC] &&
	    (rc = get_text(pc, val[T_DESC], "description", MAX_TEXT_FIELD,
			   &s->description)))
		return rc;
	if (key[T_SPEC] &&
	    (rc = get_text(pc, val[T_SPEC], "spec", MAX_TEXT_FIELD, &s->spec)))
		return rc;
	if (key[T_LATENCY] &&
	    (rc = get_duration(pc, val[T_LATENCY], "latency", 0, 60000,
			       &s->latency_ms)))
		return rc;
	if (key[T_TIMEOUT] &&
	    (rc = get_duration(pc, val[T_TIMEOUT], "timeout", 1, HOUR_MS,
			       &s->timeout_ms)))
		return rc;
	if (key[T_PACE] &&
	    (rc = get_duration(pc, val[T_PACE], "pace", 0, 60000, &s->pace_ms)))
		return rc;
	if (key[T_ALERTS]) {
		const yaml_node_t *v = val[T_ALERTS];
		if (v->type != YAML_SCALAR_NODE)
			return fail(pc, v, "alerts: expected alert characters, "
				    "got a %s", yn_kind_name(v));
		size_t len = yn_is_null(v) ? 0 : v->data.scalar.length;
		if (len > HRN_MAX_ALERTS)
			return fail(pc, v, "alerts: at most %d characters",
				    HRN_MAX_ALERTS);
		for (size_t i = 0; i < len; i++) {
			char c = (char)v->data.scalar.value[i];
			if (!c || !strchr(HRN_ALERT_CHARS, c))
				return fail(pc, v, "alerts: character %zu is not "
					    "an alert character (%s)", i + 1,
					    HRN_ALERT_CHARS);
			s->alerts[i] = c;
		}
		s->alerts[len] = '\0';
	}
	pc->n_vars = 0;
	if (key[T_SETUP] &&
	    (rc = parse_steps(pc, val[T_SETUP], "setup", 0, &s->setup,
			      &s->n_setup)))
		return rc;
	pc->n_setup_vars = pc->n_vars;
	if (!key[T_CASES])
		return fail(pc, root, "a script needs cases:");
	const yaml_node_t *cv = val[T_CASES];
	if (cv->type != YAML_SEQUENCE_NODE)
		return fail(pc, cv, "cases: expected a list of cases, got %s%s",
			    yn_is_null(cv) ? "nothing" : "a ",
			    yn_is_null(cv) ? "" : yn_kind_name(cv));
	size_t cnt = (size_t)(cv->data.sequence.items.top -
			      cv->data.sequence.items.start);
	if (cnt == 0)
		return fail(pc, cv, "cases: empty list (give at least one case)");
	s->cases = arena_alloc(pc->a, cnt * sizeof *s->cases);
	if (!s->cases)
		return nomem(pc);
	for (size_t i = 0; i < cnt; i++) {
		yaml_node_t *cn = node(pc, cv->data.sequence.items.start[i]);
		if ((rc = parse_case(pc, cn, &s->cases[i])))
			return rc;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->cases[j].name, s->cases[i].name))
				return fail(pc, cn, "case \"%s\": the name is "
					    "already used on line %d",
					    s->cases[i].name, s->cases[j].line);
		s->n_cases = i + 1;
	}
	return UPS_OK;
}

static enum ups_rc yaml_error(struct pc *pc, const yaml_parser_t *yp)
{
	struct yn_problem w;
	yn_parser_problem(yp, pc->text, pc->len, 0, &w);
	if (w.nomem)
		return nomem(pc);
	ups_diag_set(pc->diag, pc->src, w.line, w.col, "%s", w.msg);
	return UPS_EPARSE;
}

/* Bound the document before it is built (yn_check_shape). */
static enum ups_rc check_shape(struct pc *pc)
{
	struct yn_problem w;
	const char *why = NULL;
	switch (yn_check_shape(pc->text, pc->len, MAX_NEST, MAX_EVENTS, true, &w)) {
	case YN_SHAPE_OK:
		return UPS_OK;
	case YN_SHAPE_SYNTAX:
		if (w.nomem)
			return nomem(pc);
		why = w.msg;
		break;
	case YN_SHAPE_DOCUMENTS:
		why = "more than one YAML document (a script is one)";
		break;
	case YN_SHAPE_DEEP:
		ups_diag_set(pc->diag, pc->src, w.line, w.col,
			     "nested more than %d levels deep", MAX_NEST);
		return UPS_EPARSE;
	case YN_SHAPE_LARGE:
		ups_diag_set(pc->diag, pc->src, w.line, w.col,
			     "too many YAML nodes (more than %d)", MAX_EVENTS);
		return UPS_EPARSE;
	}
	ups_diag_set(pc->diag, pc->src, w.line, w.col, "%s", why);
	return UPS_EPARSE;
}

/** The file's stem as a suite name (characters outside the name set: _). */
static const char *stem_name(struct hrn_arena *a, const char *src)
{
	const char *base = strrchr(src, '/');
	base = base ? base + 1 : src;
	size_t n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".yaml"))
		n -= 5;
	else if (n > 4 && !strcmp(base + n - 4, ".yml"))
		n -= 4;
	if (n > MAX_NAME)
		n = MAX_NAME;
	char *out = arena_strndup(a, base, n);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!name_char(out[i]))
			out[i] = '_';
	if (n == 0)
		return "script";
	return out;
}

void hrn_script_free(struct hrn_script *s)
{
	if (!s)
		return;
	hrn_arena_free(s->arena);
	*s = (struct hrn_script){ 0 };
}

enum ups_rc hrn_script_parse(const char *src, const char *text, size_t len,
			     struct hrn_script *out, struct ups_diag *diag)
{
	if (!out || !src || (!text && len))
		return UPS_EARG;
	*out = (struct hrn_script){ 0 };
	struct pc pc = { .src = src, .text = text ? text : "", .len = len,
			 .diag = diag, .s = out };
	if (len > HRN_MAX_TEXT) {
		ups_diag_set(diag, src, 1, 1, "script too large (%zu bytes, at "
			     "most %d)", len, HRN_MAX_TEXT);
		return UPS_EPARSE;
	}
	pc.a = hrn_arena_new();
	if (!pc.a)
		return nomem(&pc);
	out->arena = pc.a;
	snprintf(out->file, sizeof out->file, "%s", src);
	out->latency_ms = HRN_DEFAULT_LATENCY_MS;
	out->timeout_ms = -1;
	snprintf(out->alerts, sizeof out->alerts, "%s", HRN_ALERT_CHARS);
	out->text = arena_strndup(pc.a, pc.text, len);
	out->text_len = len;
	out->suite = stem_name(pc.a, src);
	size_t nl = 2;
	for (size_t i = 0; i < len; i++)
		nl += pc.text[i] == '\n' || pc.text[i] == '\r' ||
		      (unsigned char)pc.text[i] == 0x85 ||
		      (unsigned char)pc.text[i] == 0xA8 ||
		      (unsigned char)pc.text[i] == 0xA9;
	pc.line_off = malloc(nl * sizeof *pc.line_off);
	if (!out->text || !out->suite || !pc.line_off) {
		free(pc.line_off);
		hrn_script_free(out);
		return nomem(&pc);
	}
	pc.line_off[0] = 0;
	pc.n_lines = 1;
	for (size_t i = 0; i < len;) {
		size_t w = line_break(pc.text, len, i);
		if (w) {
			i += w;
			pc.line_off[pc.n_lines++] = i;
		} else {
			i++;
		}
	}

	enum ups_rc rc = check_shape(&pc);
	yaml_parser_t yp;
	yaml_document_t doc;
	bool have_doc = false;
	if (!rc) {
		if (!yaml_parser_initialize(&yp)) {
			rc = nomem(&pc);
		} else {
			yaml_parser_set_input_string(&yp, (const unsigned char *)pc.text,
						     len);
			if (!yaml_parser_load(&yp, &doc))
				rc = yaml_error(&pc, &yp);
			else
				have_doc = true;
			yaml_parser_delete(&yp);
		}
	}
	if (!rc) {
		pc.y = &doc;
		yaml_node_t *root = yaml_document_get_root_node(&doc);
		if (!root || yn_is_null(root))
			rc = fail(&pc, NULL, "empty script (a script is a mapping "
				  "with cases:, see docs/harness.md)");
		else
			rc = walk_top(&pc, root);
	}
	if (have_doc)
		yaml_document_delete(&doc);
	free(pc.line_off);
	if (rc)
		hrn_script_free(out);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Captured values                                                     */

struct hrn_var {
	char name[32];
	uint8_t *p;
	size_t n;
};
struct hrn_vars {
	struct hrn_var v[MAX_VARS];
	size_t n;
};

struct hrn_vars *hrn_vars_new(void)
{
	return calloc(1, sizeof(struct hrn_vars));
}

void hrn_vars_clear(struct hrn_vars *v)
{
	for (size_t i = 0; v && i < v->n; i++)
		free(v->v[i].p);
	if (v)
		v->n = 0;
}

void hrn_vars_free(struct hrn_vars *v)
{
	hrn_vars_clear(v);
	free(v);
}

enum ups_rc hrn_vars_set(struct hrn_vars *v, const char *name,
			 const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < v->n && strcmp(v->v[i].name, name))
		i++;
	if (i == v->n) {
		if (v->n >= MAX_VARS || strlen(name) >= sizeof v->v[0].name)
			return UPS_EARG;
		snprintf(v->v[i].name, sizeof v->v[i].name, "%s", name);
		v->v[i].p = NULL;
		v->n++;
	}
	uint8_t *copy = malloc(n ? n : 1);
	if (!copy)
		return UPS_ENOMEM;
	if (n)
		memcpy(copy, p, n);
	free(v->v[i].p);
	v->v[i].p = copy;
	v->v[i].n = n;
	return UPS_OK;
}

const uint8_t *hrn_vars_get(const struct hrn_vars *v, const char *name,
			    size_t *n)
{
	for (size_t i = 0; v && i < v->n; i++)
		if (!strcmp(v->v[i].name, name)) {
			*n = v->v[i].n;
			return v->v[i].p;
		}
	return NULL;
}

long hrn_expand(const struct hrn_tmpl *t, const struct hrn_vars *v,
		uint8_t *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < t->n; i++) {
		const uint8_t *p = t->parts[i].p;
		size_t n = t->parts[i].n;
		if (t->parts[i].var) {
			p = hrn_vars_get(v, t->parts[i].var, &n);
			if (!p)
				return -1;
		}
		if (o + n > cap)
			return -1;
		if (n)
			memcpy(out + o, p, n);
		o += n;
	}
	return (long)o;
}

/* ------------------------------------------------------------------ */
/* Safety                                                              */

/*
 * Settings whose value decides when or whether the load has power: `-`
 * after one of them is refused on real hardware like a destructive
 * command.  p shutdown delay (ULS p.21), r turn-on delay (p.22), e restart
 * capacity (p.19), q low-battery warning (p.21: the host shuts down on
 * it), l/u transfer voltages (p.18), s sensitivity (p.20), o output
 * voltage (p.19-20), ^V output voltage selection (p.16), w runtime
 * conservation (p.22: turns the load off early on battery).
 */
bool hrn_power_setting(uint8_t b)
{
	return b && strchr("preqlusow\x16", b) != NULL;
}

enum hrn_effect hrn_guard_feed(struct hrn_guard *g, uint8_t b,
			       const struct hrn_policy *p, char *why,
			       size_t whylen)
{
	char nm[8];
	if (g->data_left > 0) {
		if (g->at_digits && !(b >= '0' && b <= '9')) {
			/* ULS p.4-5: a non-digit after @ is ignored and the
			 * command must be retried: this byte is a command */
			g->data_left = 0;
			g->at_digits = false;
		} else {
			if (--g->data_left == 0)
				g->at_digits = false;
			return HRN_E_NONE;
		}
	}
	const struct cmd_def *c = cmd_lookup(b);
	cmd_byte_name(b, nm);
	if (!c || (c->flags & CF_UNDOC)) {
		if (p->documented_only) {
			snprintf(why, whylen, "%s, which is not a documented "
				 "UPS-Link command (ULS §2.0: other commands are "
				 "APC-internal); never sent to a serial port", nm);
			return HRN_E_REFUSED;
		}
		g->last = b;
		return HRN_E_NONE;
	}
	if (b == '-') {
		uint8_t s = g->last;
		const struct cmd_def *sc = s ? cmd_lookup(s) : NULL;
		char sn[8];
		cmd_byte_name(s, sn);
		if (sc && (sc->flags & CF_ENTRY)) {
			/* ULS p.17-18: c/x take 8 characters; p.30: I takes
			 * two hex digits */
			g->setting = s;
			g->data_left = s == 'I' ? 2 : 8;
			g->at_digits = false;
			return HRN_E_ENTRY;
		}
		if (sc && (sc->flags & CF_EDITABLE)) {
			if (hrn_power_setting(s) && !p->allow_destructive) {
				snprintf(why, whylen, "- after %s (%s), which edits "
					 "a shutdown-related setting", sn, sc->id);
				return HRN_E_REFUSED;
			}
			g->setting = s;
			return HRN_E_EDIT;
		}
		return HRN_E_NONE;
	}
	if ((c->flags & CF_DESTRUCTIVE) && !p->allow_destructive) {
		snprintf(why, whylen, "%s (%s), which cuts or risks the load's "
			 "power", nm, c->id ? c->id : c->label);
		return HRN_E_REFUSED;
	}
	g->last = b;
	if (b == '@') {
		g->data_left = 3; /* @ddd (ULS p.4) */
		g->at_digits = true;
	}
	return b == 'z' ? HRN_E_RESET : HRN_E_NONE;
}

struct check_ctx {
	const struct hrn_script *s;
	const struct hrn_policy *p;
	struct ups_diag *diag;
	const struct hrn_case *c;
	struct hrn_guard g;
};

static enum ups_rc check_steps(struct check_ctx *cc, const struct hrn_step *st,
			       size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++) {
		char label[64];
		snprintf(label, sizeof label, "%s%zu", prefix, i + 1);
		/* "step 3.2": the second step of step 3's repeat */
		if (st[i].action == HRN_A_REPEAT) {
			char sub[80];
			snprintf(sub, sizeof sub, "%s.", label);
			/* twice: what one round leaves affects the next */
			for (int r = 0; r < (st[i].repeat > 1 ? 2 : 1); r++) {
				enum ups_rc rc = check_steps(cc, st[i].sub,
							     st[i].n_sub, sub);
				if (rc)
					return rc;
			}
			continue;
		}
		if (st[i].action != HRN_A_SEND)
			continue;
		const struct hrn_tmpl *t = &st[i].send;
		for (size_t k = 0; k < t->n; k++) {
			if (t->parts[k].var) {
				/* checked again once expanded, at run time */
				if (cc->g.data_left == 0)
					cc->g.last = 0;
				cc->g.data_left = 0;
				continue;
			}
			for (size_t j = 0; j < t->parts[k].n; j++) {
				char why[200];
				if (hrn_guard_feed(&cc->g, t->parts[k].p[j], cc->p,
						   why, sizeof why) != HRN_E_REFUSED)
					continue;
				ups_diag_set(cc->diag, cc->s->file, st[i].line,
					     st[i].col, "case \"%s\": %s%s "
					     "sends %s%s", cc->c->name,
					     strncmp(label, "setup", 5) ? "step " : "",
					     label, why,
					     cc->p->allow_destructive ||
					     strstr(why, "documented") ? "" :
					     "; pass --allow-destructive on a "
					     "unit you may switch off");
				return UPS_EUNSUPP;
			}
		}
	}
	return UPS_OK;
}

enum ups_rc hrn_case_check(const struct hrn_script *s, const struct hrn_case *c,
			   const struct hrn_policy *p, struct ups_diag *diag)
{
	struct check_ctx cc = { .s = s, .p = p, .diag = diag, .c = c };
	enum ups_rc rc = check_steps(&cc, s->setup, s->n_setup, "setup step ");
	if (!rc)
		rc = check_steps(&cc, c->steps, c->n_steps, "");
	return rc;
}

enum ups_rc hrn_script_check(const struct hrn_script *s,
			     const struct hrn_policy *p, struct ups_diag *diag)
{
	for (size_t i = 0; i < s->n_cases; i++) {
		enum ups_rc rc = hrn_case_check(s, &s->cases[i], p, diag);
		if (rc)
			return rc;
	}
	return UPS_OK;
}

/* ------------------------------------------------------------------ */
/* Matching                                                            */

static bool is_alert(const char *alerts, uint8_t c)
{
	return c && alerts && strchr(alerts, c) != NULL;
}

enum hrn_mres hrn_match_exact(const uint8_t *rx, size_t n, const uint8_t *exp,
			      size_t en, const char *alerts, size_t *used,
			      uint8_t *skipped, size_t *bad)
{
	size_t i = 0, j = 0;
	for (; i < n && j < en; i++) {
		if (skipped)
			skipped[i] = 0;
		if (rx[i] == exp[j]) {
			j++;
			continue;
		}
		if (is_alert(alerts, rx[i])) {
			if (skipped)
				skipped[i] = 1;
			continue;
		}
		if (bad)
			*bad = i;
		return HRN_M_FAIL;
	}
	if (j == en) {
		if (used)
			*used = i;
		return HRN_M_OK;
	}
	return HRN_M_MORE;
}

int hrn_regcomp(regex_t *out, const char *re, size_t len, int *groups,
		char *err, size_t errlen)
{
	char *wrapped = malloc(len + 5);
	if (!wrapped) {
		snprintf(err, errlen, "out of memory");
		return REG_ESPACE;
	}
	/* anchored: the whole reply must match */
	memcpy(wrapped, "^(", 2);
	memcpy(wrapped + 2, re, len);
	memcpy(wrapped + 2 + len, ")$", 3);
	int rc = regcomp(out, wrapped, REG_EXTENDED);
	free(wrapped);
	if (rc) {
		regerror(rc, out, err, errlen);
		return rc;
	}
	*groups = (int)out->re_nsub - 1;
	return 0;
}

static bool try_regex(const regex_t *re, const uint8_t *p, size_t n,
		      long *g0, long *g1)
{
	char *buf = malloc(n + 1);
	if (!buf)
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	regmatch_t m[3];
	memset(m, 0, sizeof m);
	m[0].rm_so = 0;
	m[0].rm_eo = (regoff_t)n;
#ifdef REG_STARTEND
	int rc = regexec(re, buf, 3, m, REG_STARTEND);
#else
	int rc = regexec(re, buf, 3, m, 0);
#endif
	free(buf);
	if (rc)
		return false;
	*g0 = *g1 = -1;
	if (re->re_nsub >= 2 && m[2].rm_so >= 0) {
		*g0 = m[2].rm_so;
		*g1 = m[2].rm_eo;
	}
	return true;
}

bool hrn_match_regex(const regex_t *re, const uint8_t *line, size_t n,
		     const char *alerts, uint8_t *kept, size_t *kept_n,
		     long *g0, long *g1)
{
	/* 1: as received */
	memcpy(kept, line, n);
	*kept_n = n;
	if (try_regex(re, kept, n, g0, g1))
		return true;
	/* 2: without the alert characters before the reply */
	size_t s = 0;
	while (s < n && is_alert(alerts, line[s]))
		s++;
	if (s > 0) {
		memcpy(kept, line + s, n - s);
		*kept_n = n - s;
		if (try_regex(re, kept, n - s, g0, g1))
			return true;
	}
	/* 3: without any */
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		if (!is_alert(alerts, line[i]))
			kept[o++] = line[i];
	*kept_n = o;
	if (o != n && o != n - s && try_regex(re, kept, o, g0, g1))
		return true;
	memcpy(kept, line, n);
	*kept_n = n;
	return false;
}

int64_t hrn_default_timeout(int64_t latency_ms, size_t len)
{
	return latency_ms + (int64_t)((3 * (len + 2) * HRN_BYTE_US + 999) / 1000);
}
