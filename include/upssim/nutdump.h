/*
 * nutdump.h - NUT device dumps as profiles.  A device dump is what `upsc`
 * showed for a real unit, as the NUT device-dump library (nut-ddl,
 * github.com/networkupstools/nut-ddl) keeps it: "variable: value" lines,
 * `#CMD:` lines for the instant commands, `#RW:` lines for the writable
 * variables and the choices of their enumerations, and `# DEVICE:`
 * comments.  nutdump_parse() reads such a file into a struct nutdump;
 * nutdump_profile() writes a profile (docs/profiles.md) from it: the
 * identity, firmware and its locale, the nominal values, the EEPROM
 * settings with their lists, the command set that what the dump has and
 * lacks implies, and a `# guess:` comment for every value the dump does
 * not give.  Lines it cannot use become comments at the end.  Format and
 * rules: docs/nut-import.md.
 *
 * Pure, like the profile loader: text in, text out; no file is opened.
 * The input is outside data: any bytes are accepted, nothing is trusted,
 * and every value that reaches the YAML passes the profile loader's own
 * rules first, so the profile written always loads (tests/fuzz/
 * fuzz_nutdump.c checks that).
 */
#ifndef UPSSIM_NUTDUMP_H
#define UPSSIM_NUTDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include "upssim/rc.h"
#include "upssim/ups.h"

#define NUTDUMP_MAX_TEXT (1024 * 1024) /* bytes in one dump (real: ~3 KB) */
#define NUTDUMP_MAX_VARS 256     /* "variable: value" lines kept */
#define NUTDUMP_MAX_ENUMS 48     /* #RW variables with ENUM choices */
#define NUTDUMP_MAX_CHOICES 8    /* choices per ENUM (a ^Z list has <= 8) */
#define NUTDUMP_MAX_CMDS 48      /* #CMD lines */
#define NUTDUMP_MAX_NOTES 64     /* lines not used, kept for the comments */
#define NUTDUMP_NAME 64          /* variable names, with their NUL */
#define NUTDUMP_VALUE 96         /* values, with their NUL */

/** One "variable: value" line. */
struct nutdump_var {
	char name[NUTDUMP_NAME];
	char value[NUTDUMP_VALUE]; /**< as written (may hold any byte but NUL) */
	int line;                  /**< 1-based line of the dump */
};

/** The ENUM choices `#RW:var:ENUM:"value"` lines give for one variable,
 *  in the dump's order (NUT lists them as the unit's ^Z does). */
struct nutdump_enum {
	char name[NUTDUMP_NAME];
	char choices[NUTDUMP_MAX_CHOICES][NUTDUMP_VALUE];
	int n;
	int line;                  /**< line of its first choice */
};

/** A line the importer keeps only as a comment, with the reason. */
struct nutdump_note {
	int line;
	char text[NUTDUMP_VALUE + NUTDUMP_NAME]; /**< the line, cut if long */
	const char *why;           /**< static text */
};

struct nutdump {
	struct nutdump_var vars[NUTDUMP_MAX_VARS];
	int n_vars;
	struct nutdump_enum enums[NUTDUMP_MAX_ENUMS];
	int n_enums;
	char cmds[NUTDUMP_MAX_CMDS][NUTDUMP_NAME]; /**< #CMD: instant commands */
	int n_cmds;
	char strings[NUTDUMP_MAX_CMDS][NUTDUMP_NAME]; /**< #RW:var:STRING */
	int n_strings;
	char url[NUTDUMP_VALUE + NUTDUMP_NAME]; /**< # DEVICE:URL:REPORT: ... */
	char comment[4][NUTDUMP_VALUE + NUTDUMP_NAME]; /**< # DEVICE:COMMENT text */
	int n_comment;
	struct nutdump_note notes[NUTDUMP_MAX_NOTES];
	int n_notes;
	int notes_dropped;         /**< more unused lines than notes[] holds */
	int lines;                 /**< lines in the dump */
};

/**
 * Read a device dump.  Any bytes are accepted: lines that are neither a
 * variable, a `#CMD:`/`#RW:` line nor a comment become notes, and so do
 * repeats, over-long values and more lines than the arrays hold.
 * @param[in] src   file name for diagnostics
 * @param[in] text  the dump, @p len bytes (need not be NUL-terminated)
 * @param[out] out  filled on UPS_OK
 * @param[out] d    filled on failure (may be NULL); never quotes the input
 * @return UPS_OK; UPS_EPARSE if the text is larger than NUTDUMP_MAX_TEXT
 *         or has no "variable: value" line at all (not a device dump);
 *         UPS_EARG for NULL arguments
 */
enum ups_rc nutdump_parse(const char *src, const char *text, size_t len,
			  struct nutdump *out, struct ups_diag *d);

/** @return the value of variable @p name in @p dump, or NULL. */
const char *nutdump_get(const struct nutdump *dump, const char *name);

/**
 * Write a profile for the unit @p dump describes, as YAML, appended to
 * @p yaml.
 * @param[in] dump       a parsed dump
 * @param[in] file_name  the dump's file name (NULL if unknown).  Only its
 *                       last path component is used: nut-ddl names its
 *                       files MFR__MODEL__DRIVER__NUTVERSION__NN.dev, which
 *                       gives a model name when the unit did not tell NUT
 *                       its own, and the NUT version when the dump lacks
 *                       driver.version
 * @param[out] yaml      growable buffer; the text is NUL-terminated (the
 *                       NUL is not counted in yaml->len)
 * @return UPS_OK or UPS_ENOMEM
 */
enum ups_rc nutdump_profile(const struct nutdump *dump, const char *file_name,
			    struct ups_buf *yaml);

#endif
