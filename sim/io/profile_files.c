/*
 * profile_files.c - profiles from the file system: the struct
 * prof_resolver the pure loader in sim/core/profile.c asks for every
 * document that is not built in, and prof_load() on top of it.  It owns
 * the lookup rules of docs/profiles.md "Finding a profile" (paths,
 * $UPSSIM_PROFILE_PATH, next to the inheriting file) and the rules for
 * opening a file at all: only regular files, checked with stat() before
 * open() and with fstat() after it, read to EOF up to PROF_MAX_TEXT bytes
 * whatever st_size says (it is 0 under /proc).  Diagnostics say what is
 * wrong with a file, never what is in it.
 */
#include "upssim/profile.h"
#include "upssim/readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/** Does @p s name a file rather than a profile? (docs/profiles.md) */
static bool is_path(const char *s)
{
	size_t n = strlen(s);
	return strchr(s, '/') || (n >= 5 && !strcmp(s + n - 5, ".yaml"));
}

/** Directory part of @p src if it names a file with a directory part. */
static bool src_dir(const char *src, char *dir, size_t cap)
{
	const char *slash = strrchr(src, '/');
	size_t n0 = strlen(src);
	if (!strncmp(src, "builtin:", 8))
		return false;
	if (!slash) {
		/* "x.yaml" loaded from the current directory */
		if (n0 < 5 || strcmp(src + n0 - 5, ".yaml") != 0)
			return false;
		snprintf(dir, cap, ".");
		return true;
	}
	int n = snprintf(dir, cap, "%.*s", (int)(slash - src), src);
	if (n < 0 || (size_t)n >= cap)
		return false;
	if (n == 0)
		snprintf(dir, cap, "/");
	return true;
}

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" :
	       S_ISCHR(m) ? "a character device" :
	       S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" :
	       "not a regular file";
}

static enum ups_rc not_regular(const char *path, mode_t m,
			       struct ups_diag *d)
{
	ups_diag_set(d, path, 0, 0, "not a regular file (%s); only regular "
		     "files are read as profiles", file_kind(m));
	errno = S_ISDIR(m) ? EISDIR : EINVAL;
	return UPS_ESYS;
}

/**
 * Read the regular file @p path, at most PROF_MAX_TEXT bytes.  The type is
 * checked before open() (a FIFO or a device is never opened, so nothing
 * blocks and no serial line changes state) and again on the descriptor,
 * which must be the same file (the name may have been swapped between).
 */
static enum ups_rc read_file(const char *path, char **text, size_t *len,
			     struct ups_diag *d)
{
	struct stat st, fst;
	if (stat(path, &st) != 0) {
		int e = errno;
		ups_diag_set(d, path, 0, 0, "cannot open: %s", strerror(e));
		errno = e;
		return (e == ENOENT || e == ENOTDIR) ? UPS_ENOTFOUND : UPS_ESYS;
	}
	if (!S_ISREG(st.st_mode))
		return not_regular(path, st.st_mode, d);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		ups_diag_set(d, path, 0, 0, "cannot open: %s", strerror(e));
		errno = e;
		return (e == ENOENT || e == ENOTDIR) ? UPS_ENOTFOUND : UPS_ESYS;
	}
	if (fstat(fd, &fst) != 0 || !S_ISREG(fst.st_mode) ||
	    fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
		close(fd);
		ups_diag_set(d, path, 0, 0, "the file changed while it was "
			     "being opened; not read");
		errno = EAGAIN;
		return UPS_ESYS;
	}
	/* st_size is a hint only: files under /proc say 0 */
	char *buf;
	size_t n;
	int e = ups_read_fd(fd, PROF_MAX_TEXT, (size_t)st.st_size, &buf, &n);
	close(fd);
	if (e == EFBIG) {
		ups_diag_set(d, path, 0, 0, "profile is too large (more than "
			     "%d bytes)", PROF_MAX_TEXT);
		return UPS_EPARSE;
	}
	if (e == ENOMEM) {
		ups_diag_set(d, path, 0, 0, "out of memory");
		return UPS_ENOMEM;
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

/** Read @p path into @p out; its name must fit ups_profile.source. */
static enum ups_rc read_into(const char *path, struct prof_text *out,
			     struct ups_diag *d)
{
	char *text = NULL;
	size_t len = 0;
	if (strlen(path) >= sizeof out->source) {
		ups_diag_set(d, path, 0, 0, "path too long (at most %zu bytes)",
			     sizeof out->source - 1);
		return UPS_ENOTFOUND;
	}
	enum ups_rc rc = read_file(path, &text, &len, d);
	if (rc)
		return rc;
	out->text = text;
	out->len = len;
	out->priv = text;
	snprintf(out->source, sizeof out->source, "%s", path);
	return UPS_OK;
}

static enum ups_rc files_read(void *ctx, const char *spec, const char *from,
			      struct prof_text *out, struct ups_diag *d)
{
	char path[4096], dir[4096];
	enum ups_rc rc;
	bool near = from && src_dir(from, dir, sizeof dir);
	(void)ctx;

	if (is_path(spec)) {
		int n = (spec[0] != '/' && near) ?
			snprintf(path, sizeof path, "%s/%s", dir, spec) :
			snprintf(path, sizeof path, "%s", spec);
		if (n < 0 || (size_t)n >= sizeof path) {
			ups_diag_set(d, spec, 0, 0, "path too long");
			return UPS_ENOTFOUND;
		}
		return read_into(path, out, d);
	}
	const char *env = getenv("UPSSIM_PROFILE_PATH");
	for (const char *s = env; s && *s;) {
		size_t n = strcspn(s, ":");
		int w = snprintf(path, sizeof path, "%.*s/%s.yaml", (int)n, s,
				 spec);
		if (n > 0 && w > 0 && (size_t)w < sizeof path) {
			rc = read_into(path, out, d);
			if (rc != UPS_ENOTFOUND)
				return rc;
		}
		s += n + (s[n] == ':');
	}
	if (near) {
		int w = snprintf(path, sizeof path, "%s/%s.yaml", dir, spec);
		if (w > 0 && (size_t)w < sizeof path) {
			rc = read_into(path, out, d);
			if (rc != UPS_ENOTFOUND)
				return rc;
		}
	}
	ups_diag_set(d, spec, 0, 0, "unknown profile (run \"upssim "
		     "--list-profiles\" to see the built-in names; "
		     "UPSSIM_PROFILE_PATH directories are searched for "
		     "NAME.yaml)");
	return UPS_ENOTFOUND;
}

static void files_release(void *ctx, struct prof_text *t)
{
	(void)ctx;
	free(t->priv);
	t->priv = NULL;
	t->text = NULL;
}

static const struct prof_resolver files = {
	.read = files_read,
	.release = files_release,
	.ctx = NULL,
};

const struct prof_resolver *prof_file_resolver(void)
{
	return &files;
}

enum ups_rc prof_load(const char *name_or_path, struct ups_profile *out,
		      struct ups_diag *diag)
{
	return prof_load_from(&files, name_or_path, out, diag);
}
