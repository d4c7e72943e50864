/*
 * yaml_node.c - node helpers shared by the YAML readers (yaml_node.h).
 */
#include "upssim/yaml_node.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUGGEST_MAX 32 /* longer words get no "did you mean" */

const char *yn_kind_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE: return "mapping";
	case YAML_SEQUENCE_NODE: return "list";
	default: return "single value";
	}
}

bool yn_is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	return len == 0 || (len == 1 && s[0] == '~') ||
	       (len == 4 && (!memcmp(s, "null", 4) || !memcmp(s, "Null", 4) ||
			     !memcmp(s, "NULL", 4)));
}

bool yn_scalar_is(const yaml_node_t *n, const char *word)
{
	size_t len = strlen(word);
	return n->type == YAML_SCALAR_NODE && n->data.scalar.length == len &&
	       memcmp(n->data.scalar.value, word, len) == 0;
}

/* Optimal-string-alignment distance (a swap of neighbours costs 1). */
static size_t edit_distance(const char *a, size_t na, const char *b)
{
	size_t nb = strlen(b);
	size_t d[SUGGEST_MAX + 1][SUGGEST_MAX + 1];
	if (na > SUGGEST_MAX || nb > SUGGEST_MAX)
		return SIZE_MAX;
	for (size_t i = 0; i <= na; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= nb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= na; i++)
		for (size_t j = 1; j <= nb; j++) {
			size_t v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[na][nb];
}

const char *yn_nearest(const yaml_node_t *k, const char *const *words)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	if (k->type != YAML_SCALAR_NODE)
		return NULL;
	for (; *words; words++) {
		size_t d = edit_distance((const char *)k->data.scalar.value,
					 k->data.scalar.length, *words);
		if (d < best_d && d <= 2 && d * 2 < strlen(*words)) {
			best = *words;
			best_d = d;
		}
	}
	return best;
}

/* Only digits, sign, point, exponent, hex: keeps strtod off "nan", "inf". */
static bool number_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || !strchr("0123456789+-.eExXabcdefABCDEF", s[i]))
			return false;
	return n > 0;
}

bool yn_looks_numeric(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	       number_chars((const char *)n->data.scalar.value,
			    n->data.scalar.length);
}

bool yn_number(const yaml_node_t *n, bool integer, double *out)
{
	if (n->type != YAML_SCALAR_NODE)
		return false;
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	char *end = NULL;
	if (!number_chars(s, len))
		return false;
	errno = 0;
	if (integer) {
		const char *digits = s + (s[0] == '+' || s[0] == '-');
		bool hex = digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
		long long ll = strtoll(s, &end, hex ? 16 : 10);
		if (end != s + len || errno)
			return false;
		*out = (double)ll;
		return true;
	}
	double v = strtod(s, &end);
	if (end != s + len || errno || !isfinite(v) || strpbrk(s, "xX"))
		return false;
	*out = v;
	return true;
}

unsigned yn_utf8_next(const unsigned char *s, size_t n, size_t *i)
{
	unsigned c = s[*i];
	int more = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
	unsigned cp = more == 0 ? c : c & (0x3Fu >> more);
	(*i)++;
	for (int k = 0; k < more; k++) {
		if (*i >= n || (s[*i] & 0xC0) != 0x80)
			return 0xFFFD;
		cp = (cp << 6) | (s[(*i)++] & 0x3Fu);
	}
	return cp;
}

bool yn_is_control(unsigned cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0);
}

size_t yn_first_control(const yaml_node_t *n)
{
	const unsigned char *s = n->data.scalar.value;
	size_t len = n->data.scalar.length, chars = 0;
	for (size_t i = 0; i < len;) {
		chars++;
		if (yn_is_control(yn_utf8_next(s, len, &i)))
			return chars;
	}
	return 0;
}

size_t yn_bytes(const unsigned char *s, size_t n, unsigned char *out,
		size_t cap, size_t *above)
{
	size_t o = 0, chars = 0;
	*above = 0;
	for (size_t i = 0; i < n;) {
		unsigned cp = yn_utf8_next(s, n, &i);
		chars++;
		if (cp > 0xFF) {
			*above = chars;
			return 0;
		}
		if (o < cap)
			out[o] = (unsigned char)cp;
		o++;
	}
	return o;
}

void yn_parser_problem(const yaml_parser_t *yp, const char *text, size_t len,
		       int line_off, struct yn_problem *out)
{
	*out = (struct yn_problem){ (int)yp->problem_mark.line + 1,
				    (int)yp->problem_mark.column + 1,
				    yp->error == YAML_MEMORY_ERROR, "" };
	if (yp->error == YAML_READER_ERROR) {
		/* the reader knows only a byte offset */
		out->line = out->col = 1;
		for (size_t i = 0; i < yp->problem_offset && i < len; i++) {
			out->col++;
			if (text[i] == '\n') {
				out->line++;
				out->col = 1;
			}
		}
	}
	out->line += line_off;
	const char *problem = yp->problem ? yp->problem : "malformed YAML";
	if (yp->context)
		snprintf(out->msg, sizeof out->msg,
			 "YAML syntax error: %s (%s at %d:%d)", problem,
			 yp->context, (int)yp->context_mark.line + 1 + line_off,
			 (int)yp->context_mark.column + 1);
	else
		snprintf(out->msg, sizeof out->msg, "YAML syntax error: %s",
			 problem);
}

enum yn_shape yn_check_shape(const char *text, size_t len, int max_nest,
			     long max_events, bool one_document,
			     struct yn_problem *where)
{
	yaml_parser_t yp;
	*where = (struct yn_problem){ 0, 0, false, "" };
	if (!yaml_parser_initialize(&yp)) {
		where->nomem = true;
		return YN_SHAPE_SYNTAX;
	}
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	enum yn_shape rc = YN_SHAPE_OK;
	int depth = 0, docs = 0;
	for (long n = 0; rc == YN_SHAPE_OK; n++) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&yp, &ev)) {
			yn_parser_problem(&yp, text, len, 0, where);
			rc = YN_SHAPE_SYNTAX;
			break;
		}
		where->line = (int)ev.start_mark.line + 1;
		where->col = (int)ev.start_mark.column + 1;
		yaml_event_type_t type = ev.type;
		yaml_event_delete(&ev);
		if (type == YAML_STREAM_END_EVENT)
			break;
		if (type == YAML_SEQUENCE_START_EVENT ||
		    type == YAML_MAPPING_START_EVENT)
			depth++;
		else if (type == YAML_SEQUENCE_END_EVENT ||
			 type == YAML_MAPPING_END_EVENT)
			depth--;
		if (one_document && type == YAML_DOCUMENT_START_EVENT && ++docs > 1)
			rc = YN_SHAPE_DOCUMENTS;
		else if (depth > max_nest)
			rc = YN_SHAPE_DEEP;
		else if (n >= max_events)
			rc = YN_SHAPE_LARGE;
	}
	yaml_parser_delete(&yp);
	return rc;
}
