/*
 * script.h - upsharness test scripts (docs/harness.md): the data model, the
 * libyaml loader with file:line:col diagnostics, the byte-string decoding
 * (^Z, \xNN, ${name}), the safety guard that walks what a script sends
 * the way the unit's codec would (destructive commands, undocumented bytes,
 * EEPROM edits), and reply matching with alert characters skipped.  Pure:
 * no descriptors, no clock, no printing; the fuzz target links only this
 * library and upssim_core.
 */
#ifndef UPSSIM_HRN_SCRIPT_H
#define UPSSIM_HRN_SCRIPT_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "upssim/rc.h"

#define HRN_MAX_TEXT (1024 * 1024) /* bytes in one script document */
#define HRN_MAX_ALERTS 16
/* Every documented alert character (ULS p.24-25, p.31; protocol-facts §5). */
#define HRN_ALERT_CHARS "!$%+?=#|&*"
/* At 2400 bit/s 8N1 a byte is 10 bits: 4.17 ms (ULS §2.1). */
#define HRN_BYTE_US 4167
#define HRN_DEFAULT_LATENCY_MS 500
#define HRN_DEFAULT_WITHIN_MS 10000
#define HRN_UNKNOWN_LEN 512 /* reply length assumed when not known */

/** One piece of a byte template: literal bytes, or ${var}. */
struct hrn_part {
	const uint8_t *p; /**< literal bytes (var == NULL) */
	size_t n;
	const char *var;  /**< captured value's name, or NULL */
};

/** A byte string that may refer to captured values. */
struct hrn_tmpl {
	struct hrn_part *parts;
	size_t n;
	size_t lit_len;   /**< bytes of the literal parts */
	bool has_vars;
};

enum hrn_action { HRN_A_NONE, HRN_A_SEND, HRN_A_ALERT, HRN_A_WAIT,
		  HRN_A_FLUSH, HRN_A_REPEAT };
enum hrn_expect { HRN_X_NONE, HRN_X_EXACT, HRN_X_MATCH, HRN_X_ONE_OF,
		  HRN_X_DIFFERS, HRN_X_RAW, HRN_X_SILENCE };

/** Where a piece of the document is, for record mode's rewriting. */
struct hrn_span {
	size_t start, end; /**< byte offsets in the document; end exclusive */
};

struct hrn_step {
	int line, col;            /**< the step mapping */
	enum hrn_action action;
	struct hrn_tmpl send;
	int64_t pace_ms;          /**< -1: the case's / script's */
	enum hrn_expect expect;
	struct hrn_tmpl *alts;    /**< exact, one_of, differs, raw: >= 1 */
	size_t n_alts;
	regex_t *re;              /**< match: compiled, anchored */
	const char *re_src;       /**< match: as written (bytes), for messages */
	int re_groups;
	int64_t silence_ms;       /**< silence: 0 = the script's latency */
	const char *capture;      /**< name, or NULL */
	int64_t timeout_ms;       /**< -1: derived */
	char alerts[HRN_MAX_ALERTS + 1]; /**< alert: characters, in order */
	int64_t within_ms;
	int64_t wait_ms;          /**< wait, flush */
	int repeat;
	struct hrn_step *sub;     /**< repeat's steps */
	size_t n_sub;
	bool keep;                /**< record: keep */
	struct hrn_span exp_span; /**< expectation key..value (record) */
	int exp_line;             /**< line of the expectation key */
};

struct hrn_case {
	const char *name, *spec, *description, *skip;
	int line, col;
	uint8_t requires[32];     /**< command bytes, a bitmap */
	bool has_requires;
	bool req_measure;         /**< requires: measure-ups */
	unsigned families;        /**< UPS_FAM_* any of; 0 = any */
	int64_t timeout_ms, pace_ms; /**< -1: the script's */
	struct hrn_step *steps;
	size_t n_steps;
};

struct hrn_arena;

struct hrn_script {
	char file[256];
	const char *suite, *description, *spec;
	int64_t latency_ms;
	int64_t timeout_ms;       /**< -1: derived */
	int64_t pace_ms;
	char alerts[HRN_MAX_ALERTS + 1];
	struct hrn_step *setup;
	size_t n_setup;
	struct hrn_case *cases;
	size_t n_cases;
	char *text;               /**< the document, for record mode */
	size_t text_len;
	struct hrn_arena *arena;  /**< owns everything above */
};

/**
 * Parse a script document.
 * @param[in]  src   file name for diagnostics (its stem is the default suite)
 * @param[in]  text  YAML, @p len bytes (need not be NUL-terminated)
 * @param[out] out   filled on success; free with hrn_script_free().  On
 *                   failure it holds nothing (hrn_script_free is harmless)
 * @param[out] diag  on UPS_EPARSE: file:line:col: message
 * @return UPS_OK, UPS_EPARSE, UPS_ENOMEM or UPS_EARG
 */
enum ups_rc hrn_script_parse(const char *src, const char *text, size_t len,
			     struct hrn_script *out, struct ups_diag *diag);
void hrn_script_free(struct hrn_script *s);

/**
 * Decode a byte-string scalar (docs/harness.md "Bytes") into @p out.
 * Exposed for tests.  @return UPS_OK or UPS_EPARSE with @p why set.
 */
struct hrn_arena *hrn_arena_new(void);
void hrn_arena_free(struct hrn_arena *a);
enum ups_rc hrn_decode(struct hrn_arena *a, const char *s, size_t n,
		       struct hrn_tmpl *out, char *why, size_t whylen);

/** Expand @p t with the case's captured values.  @return bytes written,
 *  or -1 if a value is missing or @p cap is too small. */
struct hrn_vars;
long hrn_expand(const struct hrn_tmpl *t, const struct hrn_vars *v,
		uint8_t *out, size_t cap);

/** Captured values of one case. */
struct hrn_vars *hrn_vars_new(void);
void hrn_vars_free(struct hrn_vars *v);
void hrn_vars_clear(struct hrn_vars *v);
enum ups_rc hrn_vars_set(struct hrn_vars *v, const char *name,
			 const uint8_t *p, size_t n);
const uint8_t *hrn_vars_get(const struct hrn_vars *v, const char *name,
			    size_t *n);

/* ---- safety: what the bytes a script sends would do ---- */

struct hrn_policy {
	bool allow_destructive;   /**< --allow-destructive, or --sim */
	bool documented_only;     /**< --port (or a --device that is no pty) */
};

enum hrn_effect {
	HRN_E_NONE,        /**< a command or data byte, nothing to note */
	HRN_E_EDIT,        /**< `-` after an editable setting: g.setting */
	HRN_E_ENTRY,       /**< `-` starts c/x/I direct entry: g.setting */
	HRN_E_RESET,       /**< z: every EEPROM setting to its default */
	HRN_E_REFUSED,     /**< refused; the reason is in `why` */
};

/** The guard's view of the wire, one per case (like the unit's codec). */
struct hrn_guard {
	uint8_t last;      /**< last command byte (0: none) */
	uint8_t setting;   /**< for EDIT/ENTRY: the setting edited */
	int data_left;     /**< data bytes still to come (entry, @ddd) */
	bool at_digits;    /**< data_left counts @'s digits */
	bool unknown;      /**< after an unexpanded ${var}: cannot tell */
};

/**
 * Feed one byte the harness is about to send.
 * @param[out] why  with HRN_E_REFUSED: "K (turn_off_after_delay) cuts or
 *                  risks the load's power" and the like
 */
enum hrn_effect hrn_guard_feed(struct hrn_guard *g, uint8_t b,
			       const struct hrn_policy *p, char *why,
			       size_t whylen);

/** Is `-` after setting @p b a shutdown-related edit (docs/harness.md)? */
bool hrn_power_setting(uint8_t b);

/**
 * Check every send of every case (setup included) before anything is
 * sent.  @return UPS_OK, or UPS_EUNSUPP with @p diag "file:line:col: case
 * "x": step N sends K (...): ..."
 */
enum ups_rc hrn_script_check(const struct hrn_script *s,
			     const struct hrn_policy *p, struct ups_diag *diag);
/** The same for one case (its script's setup included). */
enum ups_rc hrn_case_check(const struct hrn_script *s, const struct hrn_case *c,
			   const struct hrn_policy *p, struct ups_diag *diag);

/* ---- matching (docs/harness.md "Matching replies") ---- */

enum hrn_mres { HRN_M_MORE, HRN_M_OK, HRN_M_FAIL };

/**
 * Exact match with alert skipping: do @p rx (n bytes) equal @p exp (en)
 * once some characters of @p alerts are taken out?  Greedy, which is
 * optimal (a skipped character equal to the expected one could as well be
 * matched).
 * @param[out] used     with HRN_M_OK: rx bytes consumed
 * @param[out] skipped  if not NULL, n flags: 1 = rx[i] was skipped as an alert
 * @param[out] bad      with HRN_M_FAIL: index of the first byte that fits not
 */
enum hrn_mres hrn_match_exact(const uint8_t *rx, size_t n, const uint8_t *exp,
			      size_t en, const char *alerts, size_t *used,
			      uint8_t *skipped, size_t *bad);

/** Compile @p re anchored at both ends (REG_EXTENDED).  @return 0 or a
 *  regcomp error with @p err filled. */
int hrn_regcomp(regex_t *out, const char *re, size_t len, int *groups,
		char *err, size_t errlen);

/**
 * Regex match of a line (@p n bytes, no CR LF) with alert skipping: as
 * received, without leading alert characters, without any.
 * @param[out] kept     the variant that matched (caller buffer of n bytes)
 * @param[out] kept_n   its length
 * @param[out] g0, g1   group 1 span within kept (-1 if none)
 * @return true if one matched
 */
bool hrn_match_regex(const regex_t *re, const uint8_t *line, size_t n,
		     const char *alerts, uint8_t *kept, size_t *kept_n,
		     long *g0, long *g1);

/** Default timeout of a step: latency + 3 x (len + 2) byte times. */
int64_t hrn_default_timeout(int64_t latency_ms, size_t len);

/** Name of family bit(s) @p f ("3G", "Matrix"...), first one set. */
const char *hrn_family_name(unsigned f);

#endif
