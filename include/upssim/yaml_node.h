/*
 * yaml_node.h - small helpers over libyaml's document nodes, shared by
 * every YAML reader of the project (profiles, scenarios, harness scripts)
 * so that they classify nodes and spell their diagnostics alike.
 */
#ifndef UPSSIM_YAML_NODE_H
#define UPSSIM_YAML_NODE_H

#include <stdbool.h>
#include <yaml.h>

/** "mapping", "list" or "single value", for messages. */
const char *yn_kind_name(const yaml_node_t *n);

/** A plain scalar that YAML reads as null: empty, `~`, null/Null/NULL. */
bool yn_is_null(const yaml_node_t *n);

/** Does scalar node @p n spell @p word exactly? */
bool yn_scalar_is(const yaml_node_t *n, const char *word);

/**
 * The word of @p words (NULL-terminated) nearest to scalar @p k, if close
 * enough to be a typo of it (at most 2 edits, a swap of neighbours being
 * one, and fewer than half its length); else NULL.  Callers show only the
 * schema's word, never the document's text.
 */
const char *yn_nearest(const yaml_node_t *k, const char *const *words);

/**
 * Read scalar @p n as a number: decimal, or with @p integer also 0x hex;
 * never "nan"/"inf", no trailing text, no NUL inside.
 * @return true and *@p out, or false if it is not such a number
 */
bool yn_number(const yaml_node_t *n, bool integer, double *out);

/** Scalar @p n is spelt with number characters only (digits, sign, point,
 *  exponent, hex): a number, or a malformed one worth calling so. */
bool yn_looks_numeric(const yaml_node_t *n);

#endif
