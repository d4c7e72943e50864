/*
 * control.h - the live control socket (`upssim --control PATH`): a UNIX
 * stream socket, mode 0600, where any number of clients send one command a
 * line and get one reply a line.  This module owns only the framing: it
 * listens, accepts, splits lines, bounds every buffer and writes replies; it
 * never interprets a line.  What a line means and what the reply says
 * ("ok", "error: ...", a status line) is the caller's callback.  Works with
 * `socat - UNIX-CONNECT:PATH`.
 *
 * Framing, per client:
 *  - a line ends at LF; one CR before the LF is dropped (CR LF accepted);
 *  - empty lines, and lines of only spaces and tabs, get no reply;
 *  - a line of CONTROL_LINE_MAX bytes or more gets "error: line too long"
 *    as soon as it is too long, and the rest of it, up to its LF, is skipped;
 *  - a line with a NUL byte in it gets "error: NUL byte in line";
 *  - every other line goes to the callback, which writes exactly one reply;
 *    CR and LF in a reply are sent as spaces, so one line in is one line out;
 *  - at end of input, an unterminated last line counts as a line; its reply
 *    is sent before the socket is closed (`printf status | socat ...`);
 *  - replies not yet read by the client are queued up to CONTROL_OUT_MAX
 *    bytes: a client that exceeds that is disconnected (it never reads);
 *  - at most CONTROL_MAX_CLIENTS clients at once: another one is told
 *    "error: too many clients" and closed.
 */
#ifndef UPSSIM_CONTROL_H
#define UPSSIM_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "upssim/evloop.h"
#include "upssim/rc.h"
#include "upssim/ups.h"

/** Longest line, without its LF, is CONTROL_LINE_MAX - 1 bytes. */
#define CONTROL_LINE_MAX 1024
/** Room the callback gets for its reply, NUL included. */
#define CONTROL_REPLY_MAX 1024
/** Reply bytes queued for one client before it is disconnected. */
#define CONTROL_OUT_MAX (64 * 1024)
/** Clients served at once. */
#define CONTROL_MAX_CLIENTS 256

struct control;

/**
 * Called once for each complete line.
 * @param[in]  ctx    as given to control_open()
 * @param[in]  line   the line without CR LF, NUL-terminated, no NUL inside
 * @param[in]  len    strlen(line), 0 < len < CONTROL_LINE_MAX
 * @param[out] reply  the one-line reply without newline, NUL-terminated;
 *                    it starts as ""; @p cap is CONTROL_REPLY_MAX
 * Must not call control_close() on the control that called it.
 */
typedef void (*control_fn)(void *ctx, const char *line, size_t len, char *reply,
			   size_t cap);

/**
 * Listen on @p path and serve clients in loop @p l.
 *
 * An existing @p path is replaced only if it is a stale socket (nothing
 * answers connect()).  A regular file, directory, symbolic link or a socket
 * something listens on is left alone: UPS_ESYS with errno EEXIST or
 * EADDRINUSE.  The socket is created with mode 0600.
 *
 * @param[in]  l     event loop; must outlive the control
 * @param[in]  path  socket path (resolved against the working directory at
 *                   open and at close)
 * @param[in]  fn    line callback, not NULL
 * @param[out] out   the control, or NULL on error
 * @param[out] err   on error, a message naming @p path (may be NULL)
 * @return UPS_OK; UPS_EARG (bad argument, path too long for a socket
 *         address); UPS_ESYS (errno kept); UPS_ENOMEM
 */
enum ups_rc control_open(struct evl *l, const char *path, control_fn fn,
			 void *ctx, struct control **out, char *err,
			 size_t errlen);

/**
 * Close every client and the listening socket, and remove @p path if it is
 * still the socket control_open() made (same device and inode): a socket
 * another process has put there since is left alone.  NULL is a no-op.
 */
void control_close(struct control *c);

/** @return clients connected now. */
size_t control_client_count(const struct control *c);

/**
 * Format the unit's status as one line of key=value pairs, for the
 * callback's `status` reply, e.g.
 * `status Q=08 charge=100.0 runtime_min=45.2 line_v=120.0 line_hz=60.00
 *  out_v=120.0 load=40.0 batt_v=27.40 temp_c=29.3 output=on on_battery=no
 *  low_battery=no replace_battery=no overload=no smart=yes alive=yes
 *  trip=00 cause=O test=NO faults=none shutdown_pending=no
 *  shutdown_in_s=0.0 t=12.345`
 * Numbers have fixed decimals (never "-0.0"), registers are two hex digits,
 * flags yes/no, faults a comma-separated list of ups_fault_name()s or
 * "none"; @p scen_ms is printed in seconds with milliseconds.  The keys are
 * always the same, in the same order.
 * @return the line's full length; @p buf gets at most @p cap - 1 bytes of
 *         it and is NUL-terminated if @p cap > 0 (as snprintf)
 */
size_t control_format_status(const struct ups_status *st, uint64_t scen_ms,
			     char *buf, size_t cap);

#endif
