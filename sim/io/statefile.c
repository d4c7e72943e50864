/*
 * statefile.c - reading, atomically replacing and locking the --state
 * file (statefile.h).  The order of a write is what makes it atomic on a
 * POSIX file system: the whole text is on disk in FILE.tmp (fsync) before
 * rename() swaps it in, and the directory entry itself is on disk (fsync
 * of the directory) before the caller acknowledges anything.
 */
#define _GNU_SOURCE /* O_DIRECTORY, O_CLOEXEC */
#include "upssim/statefile.h"

#include "upssim/readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_BYTES 4096

enum ups_rc statefile_lock(const char *path, int *fd, char *err, size_t errlen)
{
	char lp[PATH_BYTES];
	struct stat st;
	*fd = -1;
	/* no lock file next to a directory or a device given by mistake */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file: not an upssim state "
			 "file");
		return UPS_EARG;
	}
	if ((size_t)snprintf(lp, sizeof lp, "%s.lock", path) >= sizeof lp) {
		errno = ENAMETOOLONG;
		snprintf(err, errlen, "%s", strerror(errno));
		return UPS_ESYS;
	}
	int f = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (f < 0) {
		snprintf(err, errlen, "cannot create the lock %s: %s", lp,
			 strerror(errno));
		return UPS_ESYS;
	}
	if (flock(f, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(f);
		errno = e;
		if (e == EWOULDBLOCK) {
			snprintf(err, errlen, "in use by another upssim (it holds "
				 "%s)", lp);
			return UPS_EUNSUPP;
		}
		snprintf(err, errlen, "cannot lock %s: %s", lp, strerror(e));
		return UPS_ESYS;
	}
	*fd = f;
	return UPS_OK;
}

void statefile_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

enum ups_rc statefile_read(const char *path, size_t max, char **text,
			   size_t *len, struct ups_diag *d)
{
	*text = NULL;
	*len = 0;
	/* O_NONBLOCK: a FIFO given by mistake must not block the start */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return UPS_ENOTFOUND;
		ups_diag_set(d, path, 0, 0, "cannot read: %s", strerror(e));
		errno = e;
		return UPS_ESYS;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		ups_diag_set(d, path, 0, 0, "not a regular file: not an upssim "
			     "state file");
		return UPS_EPARSE;
	}
	char *buf;
	size_t n;
	int e = ups_read_fd(fd, max, (size_t)st.st_size, &buf, &n);
	close(fd);
	if (e == ENOMEM)
		return UPS_ENOMEM;
	if (e == EFBIG) {
		ups_diag_set(d, path, 0, 0, "larger than %zu bytes: not an "
			     "upssim state file", max);
		return UPS_EPARSE;
	}
	if (e) {
		ups_diag_set(d, path, 0, 0, "cannot read: %s", strerror(e));
		errno = e;
		return UPS_ESYS;
	}
	*text = buf;
	*len = n;
	return UPS_OK;
}

static enum ups_rc sys_fail(char *err, size_t errlen, const char *what,
			    const char *path)
{
	int e = errno;
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
	errno = e;
	return UPS_ESYS;
}

enum ups_rc statefile_write(const char *path, const char *data, size_t len,
			    char *err, size_t errlen)
{
	char tmp[PATH_BYTES], dir[PATH_BYTES];
	if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
		errno = ENAMETOOLONG;
		return sys_fail(err, errlen, "cannot write", path);
	}
	snprintf(dir, sizeof dir, "%s", path);
	/* O_TRUNC: what a killed writer left in FILE.tmp is dropped; the
	 * lock (statefile_lock) keeps a second writer away */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		      0644);
	if (fd < 0)
		return sys_fail(err, errlen, "cannot create", tmp);
	size_t off = 0;
	while (off < len) {
		ssize_t k = write(fd, data + off, len - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			errno = e;
			return sys_fail(err, errlen, "cannot write", tmp);
		}
		off += (size_t)k;
	}
	if (fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return sys_fail(err, errlen, "cannot sync", tmp);
	}
	if (close(fd) < 0) {
		unlink(tmp);
		return sys_fail(err, errlen, "cannot close", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		errno = e;
		return sys_fail(err, errlen, "cannot rename to", path);
	}
	/* the new directory entry must be on disk before the unit's OK */
	const char *dn = dirname(dir);
	int dfd = open(dn, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return sys_fail(err, errlen, "cannot open the directory", dn);
	if (fsync(dfd) < 0 && errno != EINVAL) {
		int e = errno;
		close(dfd);
		errno = e;
		return sys_fail(err, errlen, "cannot sync the directory", dn);
	}
	close(dfd);
	return UPS_OK;
}
