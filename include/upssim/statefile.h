/*
 * statefile.h - the file behind `upssim --state FILE` (ups_state.h is its
 * content).  A write replaces the file atomically: the new text goes to
 * FILE.tmp in the same directory, is fsync'ed, renamed over FILE, and the
 * directory is fsync'ed, so a crash or `kill -9` at any moment leaves the
 * old file or the new one, never a mix.  One upssim at a time may use a
 * state file: it holds a lock on FILE.lock while it runs.
 */
#ifndef UPSSIM_STATEFILE_H
#define UPSSIM_STATEFILE_H

#include <stddef.h>
#include "upssim/rc.h"

/**
 * Take the lock of @p path (flock on PATH.lock, created if needed) for
 * as long as the process runs or until statefile_unlock().
 * @param[out] fd   the lock's descriptor
 * @param[out] err  why it failed ("in use by another upssim" ...)
 * @return UPS_OK; UPS_EUNSUPP if another process holds it; UPS_EARG if
 *         @p path exists and is not a regular file; UPS_ESYS
 */
enum ups_rc statefile_lock(const char *path, int *fd, char *err, size_t errlen);
void statefile_unlock(int fd);

/**
 * Read the state file @p path: a regular file of at most @p max bytes.
 * @param[out] text  malloc'ed, NUL-terminated (free() it); NULL on error
 * @param[out] len   its length
 * @param[out] d     filled on failure: PATH: message (may be NULL)
 * @return UPS_OK; UPS_ENOTFOUND if there is no such file; UPS_EPARSE if it
 *         is not a regular file or larger than @p max; UPS_ESYS (errno
 *         kept); UPS_ENOMEM
 */
enum ups_rc statefile_read(const char *path, size_t max, char **text,
			   size_t *len, struct ups_diag *d);

/**
 * Replace @p path with @p len bytes of @p data atomically (PATH.tmp,
 * fsync, rename, fsync of the directory).
 * @param[out] err  which step failed and why
 * @return UPS_OK or UPS_ESYS (errno kept)
 */
enum ups_rc statefile_write(const char *path, const char *data, size_t len,
			    char *err, size_t errlen);

#endif
