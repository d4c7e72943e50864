/*
 * yaml_node.c - node helpers shared by the YAML readers (yaml_node.h).
 */
#include "upssim/yaml_node.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
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
