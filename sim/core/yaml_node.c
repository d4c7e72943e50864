/*
 * yaml_node.c - node helpers shared by the YAML readers (yaml_node.h).
 */
#include "upssim/yaml_node.h"

#include <string.h>

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
