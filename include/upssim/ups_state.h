/*
 * ups_state.h - what a simulated unit keeps across a power cut, as text:
 * the EEPROM settings (every `-` list), the UPS ID `c` and battery date
 * `x`, the Measure-UPS alarm enable `I`, the battery pack count `>`, the
 * last self-test result with the replace-battery flag, and the self-test
 * schedule (time since the last test).  `upssim --state FILE` keeps it in
 * FILE (sim/io/statefile.c writes it atomically).  Pure, like the model:
 * text in, text out.
 *
 * Format (docs/upssim.1 "STATE FILE"): one item a line, "key value...",
 * strings in double quotes with \", \\ and \xNN escapes:
 *
 *     upssim-state 1
 *     profile "smart-ups-1500"
 *     eeprom u "132"
 *     ...
 *     ups_id "UPS_IDEN"
 *     battery_date "03/25/04"
 *     alarm_enable 0xFF
 *     packs 0
 *     test_result "OK" 120000      (or: test_result none)
 *     replace_battery 0
 *     since_test_ms 3600000
 *     checksum 0x1A2B3C4D          (CRC-32 of every byte before this line)
 *
 * Lines starting with `#` are comments (covered by the checksum too).
 * Times are model milliseconds the unit has lived: the unit has no clock
 * that runs while it is off, so a power cut stops them.
 */
#ifndef UPSSIM_UPS_STATE_H
#define UPSSIM_UPS_STATE_H

#include <stddef.h>
#include <stdint.h>
#include "upssim/rc.h"
#include "upssim/ups.h"

#define UPS_STATE_MAGIC "upssim-state"
#define UPS_STATE_FORMAT 1
#define UPS_STATE_MAX 8192 /* bytes of a state (a real one has ~600) */

/**
 * A counter that changes whenever something a power cut keeps changes:
 * an EEPROM edit the unit acknowledged (`-` → OK, c/x/I entry → OK, `z`
 * → CLEAR, pack count), a self-test result, a battery replacement.
 * Compare it after each ups_feed()/ups_tick()/ups_apply() to know when
 * to save.
 */
uint32_t ups_state_version(const struct ups *u);

/**
 * Write the state of @p u as text, at the unit's model time.
 * @param[out] buf  at most @p cap - 1 bytes and a NUL (as snprintf)
 * @return the full length of the text (UPS_STATE_MAX is always enough)
 */
size_t ups_state_save(const struct ups *u, char *buf, size_t cap);

/**
 * Restore a state saved by ups_state_save() into a unit made from the
 * same profile, as if the unit had been powered off and on again.  The
 * whole text is checked first (format, checksum, profile name, every
 * value one the profile allows); on failure @p u is left unchanged.
 * @param[in] src   file name for diagnostics
 * @param[out] d    file:line:col and a message on failure (may be NULL)
 * @return UPS_OK; UPS_EPARSE (damaged, not a state, another profile's);
 *         UPS_EARG for NULL arguments
 */
enum ups_rc ups_state_load(struct ups *u, const char *src, const char *text,
			   size_t len, struct ups_diag *d);

#endif
