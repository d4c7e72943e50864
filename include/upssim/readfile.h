/*
 * readfile.h - read an open file to its end, within a size limit.  Each
 * caller opens the file its own way (what it refuses to open, how it
 * names the failure); the reading loop is this one.
 */
#ifndef UPSSIM_READFILE_H
#define UPSSIM_READFILE_H

#include <stddef.h>

/**
 * Read @p fd to end of file: at most @p max bytes are kept, NUL-terminated
 * in *@p out (free() it), their count in *@p len.  @p hint is the size to
 * start with (st_size, 0 if unknown: files under /proc say 0); the buffer
 * grows as needed.  The descriptor is left open.
 * @return 0; EFBIG if the file holds more than @p max bytes; ENOMEM; or
 *         read(2)'s errno.  On failure *@p out is NULL.
 */
int ups_read_fd(int fd, size_t max, size_t hint, char **out, size_t *len);

#endif
