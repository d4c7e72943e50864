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

#endif
