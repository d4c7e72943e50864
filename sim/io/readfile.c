/*
 * readfile.c - read an open file to its end, within a size limit.
 */
#include "upssim/readfile.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int ups_read_fd(int fd, size_t max, size_t hint, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	/* room for max + 1 bytes at most: one over the limit tells "too large" */
	size_t cap = hint < 4096 ? 4096 : hint > max ? max + 1 : hint + 1, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return ENOMEM;
	for (;;) {
		if (n == cap) {
			if (cap > max)
				break;
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb = realloc(buf, ncap + 1);
			if (!nb) {
				free(buf);
				return ENOMEM;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;
			free(buf);
			return e;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	if (n > max) {
		free(buf);
		return EFBIG;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}
