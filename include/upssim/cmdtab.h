/*
 * cmdtab.h - the UPS-Link command table: one row per command byte, the
 * single source of truth for which commands exist, what they reply, which
 * model families answer them and which shared checks the dispatcher
 * applies (smart mode, support, interlocks, editing).  The `a` reply, the
 * `^Z` dump and docs/commands.md are generated from it.
 */
#ifndef UPSSIM_CMDTAB_H
#define UPSSIM_CMDTAB_H

#include <stdbool.h>
#include <stdint.h>

enum cmd_kind { CMD_ACTION = 1, CMD_QUERY, CMD_SETTING, CMD_MODIFIER };

enum cmd_flags {
	CF_DESTRUCTIVE = 1u << 0,  /**< cuts power or drains batteries */
	CF_TWO_PRESS = 1u << 1,    /**< K..K, Z..Z, ^N..^N */
	CF_EDITABLE = 1u << 2,     /**< `-` cycles its EEPROM value list */
	CF_ENTRY = 1u << 3,        /**< `-` starts direct entry (c, x, I) */
	CF_DUMB_OK = 1u << 4,      /**< answered in dumb mode (only Y) */
	CF_INTERLOCK = 1u << 5,    /**< NA while S shutdown or calibration */
	CF_MEASURE = 1u << 6,      /**< needs the Measure-UPS accessory */
	CF_UNDOC = 1u << 7,        /**< not in ULS; seen on real units */
	CF_NOT_IN_A = 1u << 8,     /**< never listed in the `a` reply */
};

struct ups;
struct codec_event;
struct ups_reply;

/** Handler: fills the reply for one event. Only called after shared checks. */
typedef void (*cmd_fn)(struct ups *u, const struct codec_event *ev,
		       uint64_t now, struct ups_reply *r);

struct cmd_def {
	const char *id;       /**< spec action id (protocol-facts / spec) */
	const char *id2;      /**< second action sharing the byte, or NULL */
	const char *label;
	enum cmd_kind kind;
	const char *reply;    /**< reply shape, e.g. "ddd.d", "OK|NA" */
	unsigned families;    /**< UPS_FAM_* that answer by default */
	unsigned flags;       /**< CF_* */
	const char *ref;      /**< where the facts come from */
	cmd_fn fn;
};

/** Row for byte @p b, or NULL if no such command. */
const struct cmd_def *cmd_lookup(uint8_t b);

/** Printable name of a command byte ("K", "^A", "DEL", "'"). */
const char *cmd_byte_name(uint8_t b, char buf[8]);

/** Number of documented spec actions in the table (72 for ULS). */
int cmd_count_actions(void);

#endif
