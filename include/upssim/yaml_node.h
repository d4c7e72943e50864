/*
 * yaml_node.h - small helpers over libyaml's document nodes, shared by
 * every YAML reader of the project (profiles, scenarios, harness scripts)
 * so that they classify nodes and spell their diagnostics alike.
 */
#ifndef UPSSIM_YAML_NODE_H
#define UPSSIM_YAML_NODE_H

#include <stdbool.h>
#include <stddef.h>
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

/**
 * Decode the UTF-8 sequence at @p s[*@p i] (of @p n bytes; libyaml gives
 * valid UTF-8) and move *@p i past it.  A cut sequence gives U+FFFD.
 */
unsigned yn_utf8_next(const unsigned char *s, size_t n, size_t *i);

/**
 * Text as bytes: each code point of @p s up to U+00FF is one byte (YAML
 * "\x81" is the byte 0x81).  Up to @p cap bytes go to @p out.
 * @return how many bytes the text holds (more than @p cap if it does not
 *         fit); 0 with *@p above set to the character (counted from 1)
 *         that is above U+00FF, where there is one (else *@p above = 0)
 */
size_t yn_bytes(const unsigned char *s, size_t n, unsigned char *out,
		size_t cap, size_t *above);

/** Code point @p cp is a control character: C0, DEL or C1. */
bool yn_is_control(unsigned cp);

/**
 * The first control character of scalar @p n, counted in characters from
 * 1, or 0 if it has none: where a text field may not hold one.
 */
size_t yn_first_control(const yaml_node_t *n);

/** A place in a document and what is wrong there, before a reader puts
 *  its file name (and its own words) around it. */
struct yn_problem {
	int line, col;   /**< from 1 */
	bool nomem;      /**< libyaml ran out of memory: no place, no text */
	char msg[256];   /**< "YAML syntax error: ..." */
};

/**
 * What libyaml's parser @p yp failed on, as file:line:col text: the
 * reader's error (which knows only a byte offset of @p text) made a line
 * and column, and the context's place given too.  @p line_off is added to
 * every line (@p text starts on line @p line_off + 1 of the file).
 */
void yn_parser_problem(const yaml_parser_t *yp, const char *text, size_t len,
		       int line_off, struct yn_problem *out);

/** What yn_check_shape() found. */
enum yn_shape {
	YN_SHAPE_OK,
	YN_SHAPE_SYNTAX,    /**< libyaml failed: see the problem */
	YN_SHAPE_DEEP,      /**< nested deeper than allowed */
	YN_SHAPE_LARGE,     /**< more events than allowed */
	YN_SHAPE_DOCUMENTS, /**< a second document where one is allowed */
};

/**
 * A streaming pass over @p text before it is loaded: libyaml's scanner is
 * quadratic in the depth of flow collections ("[[[[" 100000 deep takes a
 * minute) and its loader keeps every node in memory, so this stops at the
 * first event nested deeper than @p max_nest, past @p max_events, or (with
 * @p one_document) starting a second document.  *@p where is the place of
 * that event, or libyaml's problem for YN_SHAPE_SYNTAX.
 */
enum yn_shape yn_check_shape(const char *text, size_t len, int max_nest,
			     long max_events, bool one_document,
			     struct yn_problem *where);

#endif
