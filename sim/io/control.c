/*
 * control.c - the control socket's listener, clients and line framing (see
 * control.h).  Every buffer is bounded: a line in is at most
 * CONTROL_LINE_MAX bytes (the rest of a longer one is skipped, never
 * stored), a read takes at most READ_MAX bytes per wake-up, and replies
 * queue up to CONTROL_OUT_MAX bytes per client before the client is cut.
 * Descriptor callbacks find their client by descriptor, not by a pointer
 * given to the loop, so an event for a client that is already gone can
 * never reach freed memory.
 */
#include "upssim/control.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define READ_MAX 4096
#define ACCEPT_MAX 64 /* connections taken per wake-up */
#define BACKLOG 64
#define EMFILE_PAUSE_MS 100 /* out of descriptors: stop accepting a while */

struct ctl_client {
	int fd;
	size_t in_len;
	bool skipping; /* inside a line that was too long, up to its LF */
	bool nul;      /* the line so far has a NUL byte */
	bool eof;      /* the client sent everything it will send */
	bool dead;     /* close it as soon as the callback returns */
	char *out;     /* queued reply bytes: out[off..len) */
	size_t out_off, out_len, out_cap;
	char in[CONTROL_LINE_MAX + 1];
};

struct control {
	struct evl *l;
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	control_fn fn;
	void *ctx;
	struct ctl_client **cl;
	size_t n, cap;
	long long pause_timer; /* > 0 while accepting is paused (EMFILE) */
};

/* ---------- output ---------- */

static size_t pending(const struct ctl_client *k)
{
	return k->out_len - k->out_off;
}

static bool queue(struct ctl_client *k, const char *p, size_t n)
{
	if (k->out_off == k->out_len)
		k->out_off = k->out_len = 0;
	if (k->out_len + n > k->out_cap) {
		if (k->out_off > 0) {
			memmove(k->out, k->out + k->out_off, pending(k));
			k->out_len -= k->out_off;
			k->out_off = 0;
		}
		size_t cap = k->out_cap ? k->out_cap : 256;
		while (cap < k->out_len + n)
			cap *= 2;
		if (cap != k->out_cap) {
			char *m = realloc(k->out, cap);
			if (!m)
				return false;
			k->out = m;
			k->out_cap = cap;
		}
	}
	memcpy(k->out + k->out_len, p, n);
	k->out_len += n;
	return true;
}

/* Write what the socket takes now.  @return false if the client is gone. */
static bool flush(struct ctl_client *k)
{
	while (pending(k) > 0) {
		ssize_t w = send(k->fd, k->out + k->out_off, pending(k),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			k->out_off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		return false; /* EPIPE, ECONNRESET, ... */
	}
	if (pending(k) == 0)
		k->out_off = k->out_len = 0;
	return true;
}

/* Queue one reply line; a client whose queue passes CONTROL_OUT_MAX even
 * after writing what its socket takes is marked dead. */
static void reply(struct ctl_client *k, const char *text)
{
	if (k->dead)
		return;
	size_t n = strlen(text);
	if (!queue(k, text, n) || !queue(k, "\n", 1)) {
		k->dead = true;
		return;
	}
	if (pending(k) > CONTROL_OUT_MAX &&
	    (!flush(k) || pending(k) > CONTROL_OUT_MAX))
		k->dead = true;
}

/* ---------- input ---------- */

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

static void end_line(struct control *c, struct ctl_client *k)
{
	size_t n = k->in_len;
	bool nul = k->nul;
	k->in_len = 0;
	k->nul = false;
	if (n > 0 && k->in[n - 1] == '\r')
		n--;
	if (n >= CONTROL_LINE_MAX) {
		reply(k, "error: line too long");
		return;
	}
	if (blank(k->in, n))
		return;
	if (nul) {
		reply(k, "error: NUL byte in line");
		return;
	}
	k->in[n] = '\0';
	char out[CONTROL_REPLY_MAX];
	out[0] = '\0';
	c->fn(c->ctx, k->in, n, out, sizeof out);
	out[sizeof out - 1] = '\0';
	/* one line in, one line out, whatever the callback wrote */
	for (char *p = out; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	reply(k, out);
}

static void feed(struct control *c, struct ctl_client *k, const char *p,
		 size_t n)
{
	for (size_t i = 0; i < n && !k->dead; i++) {
		char b = p[i];
		if (k->skipping) {
			if (b == '\n')
				k->skipping = false;
			continue;
		}
		if (b == '\n') {
			end_line(c, k);
			continue;
		}
		/* in[] holds CONTROL_LINE_MAX bytes: the longest line plus a
		 * CR.  One more byte cannot make a line that fits. */
		if (k->in_len == CONTROL_LINE_MAX) {
			reply(k, "error: line too long");
			k->in_len = 0;
			k->nul = false;
			k->skipping = true;
			continue;
		}
		if (b == '\0')
			k->nul = true;
		k->in[k->in_len++] = b;
	}
}

/* ---------- clients ---------- */

static struct ctl_client *find(const struct control *c, int fd, size_t *index)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->cl[i]->fd == fd) {
			if (index)
				*index = i;
			return c->cl[i];
		}
	return NULL;
}

static void drop(struct control *c, size_t i)
{
	struct ctl_client *k = c->cl[i];
	evl_unwatch(c->l, k->fd);
	close(k->fd);
	free(k->out);
	free(k);
	c->cl[i] = c->cl[--c->n];
}

static void on_client(struct evl *l, int fd, int mask, void *arg)
{
	struct control *c = arg;
	size_t i;
	struct ctl_client *k = find(c, fd, &i);
	(void)l;
	if (!k)
		return; /* an event for a client closed earlier */
	if ((mask & EVL_READABLE) && !k->eof) {
		char buf[READ_MAX];
		ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (r > 0) {
			feed(c, k, buf, (size_t)r);
		} else if (r == 0) {
			/* the last line may lack its LF */
			if (!k->skipping && k->in_len > 0)
				end_line(c, k);
			k->eof = true;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK &&
			   errno != EINTR) {
			k->dead = true;
		}
	}
	if (!k->dead && !flush(k))
		k->dead = true;
	if (k->dead || (k->eof && pending(k) == 0)) {
		drop(c, i);
		return;
	}
	int want =
	    (k->eof ? 0 : EVL_READABLE) | (pending(k) > 0 ? EVL_WRITABLE : 0);
	if (evl_watch(c->l, fd, want, on_client, c) != UPS_OK)
		drop(c, i);
}

static int64_t resume_accept(struct evl *l, long long id, void *arg);

static void add_client(struct control *c, int fd)
{
	if (c->n == CONTROL_MAX_CLIENTS) {
		static const char msg[] = "error: too many clients\n";
		ssize_t w =
		    send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)w; /* best effort: the client is closed either way */
		close(fd);
		return;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct ctl_client **m = realloc(c->cl, cap * sizeof *m);
		if (!m) {
			close(fd);
			return;
		}
		c->cl = m;
		c->cap = cap;
	}
	struct ctl_client *k = calloc(1, sizeof *k);
	if (!k) {
		close(fd);
		return;
	}
	k->fd = fd;
	if (evl_watch(c->l, fd, EVL_READABLE, on_client, c) != UPS_OK) {
		free(k);
		close(fd);
		return;
	}
	c->cl[c->n++] = k;
}

static bool set_flags(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	int fd_fl = fcntl(fd, F_GETFD);
	return fl >= 0 && fd_fl >= 0 &&
	       fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
	       fcntl(fd, F_SETFD, fd_fl | FD_CLOEXEC) == 0;
}

static void on_listen(struct evl *l, int fd, int mask, void *arg)
{
	struct control *c = arg;
	(void)mask;
	for (int i = 0; i < ACCEPT_MAX; i++) {
		int k = accept(fd, NULL, NULL);
		if (k < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EPROTO)
				continue;
			if ((errno == EMFILE || errno == ENFILE ||
			     errno == ENOBUFS || errno == ENOMEM) &&
			    c->pause_timer <= 0) {
				/* The connection stays queued and the
				 * listener stays readable: without a pause
				 * the loop would spin. */
				long long t = evl_add_wall_timer(
				    l, EMFILE_PAUSE_MS, resume_accept, c);
				if (t > 0) {
					evl_unwatch(l, fd);
					c->pause_timer = t;
				}
			}
			return;
		}
		if (!set_flags(k)) {
			close(k);
			continue;
		}
		add_client(c, k);
	}
}

static int64_t resume_accept(struct evl *l, long long id, void *arg)
{
	struct control *c = arg;
	(void)id;
	if (evl_watch(l, c->fd, EVL_READABLE, on_listen, c) != UPS_OK)
		return EMFILE_PAUSE_MS; /* try again later; still paused */
	c->pause_timer = 0;
	return EVL_NOMORE;
}

/* ---------- open / close ---------- */

static enum ups_rc fail(char *err, size_t errlen, const char *path,
			enum ups_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Write "<path>: <message>" to @p err, @p path escaped; errno is kept. */
static enum ups_rc fail(char *err, size_t errlen, const char *path,
			enum ups_rc rc, const char *fmt, ...)
{
	int e = errno;
	if (err && errlen > 0) {
		char shown[512];
		ups_escape(shown, sizeof shown, path);
		snprintf(err, errlen, "%s: ", shown);
		size_t n = strlen(err);
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - n, fmt, ap);
		va_end(ap);
	}
	errno = e;
	return rc;
}

/* An existing path may be replaced only when it is a socket nobody
 * listens on.  @return UPS_OK when @p path is free (now) */
static enum ups_rc clear_path(const char *path, const struct sockaddr_un *sa,
			      char *err, size_t errlen)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return UPS_OK;
		return fail(err, errlen, path, UPS_ESYS, "%s", strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return fail(err, errlen, path, UPS_ESYS,
			    "exists and is not a socket; not replacing it");
	}
	int p = socket(AF_UNIX, SOCK_STREAM, 0);
	if (p < 0)
		return fail(err, errlen, path, UPS_ESYS, "socket: %s",
			    strerror(errno));
	/* non-blocking: a live server with a full backlog answers EAGAIN
	 * instead of making us wait */
	int rc = -1, e = 0;
	if (set_flags(p)) {
		rc = connect(p, (const struct sockaddr *)sa, sizeof *sa);
		e = errno;
	} else {
		e = errno;
	}
	close(p);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
		errno = EADDRINUSE;
		return fail(err, errlen, path, UPS_ESYS,
			    "a server is listening on this socket; "
			    "not replacing it");
	}
	if (e == ENOENT)
		return UPS_OK; /* went away meanwhile */
	if (e != ECONNREFUSED) {
		errno = e;
		return fail(err, errlen, path, UPS_ESYS,
			    "cannot check the existing socket: %s",
			    strerror(e));
	}
	if (unlink(path) != 0 && errno != ENOENT)
		return fail(err, errlen, path, UPS_ESYS,
			    "cannot remove the stale socket: %s",
			    strerror(errno));
	return UPS_OK;
}

enum ups_rc control_open(struct evl *l, const char *path, control_fn fn,
			 void *ctx, struct control **out, char *err,
			 size_t errlen)
{
	if (out)
		*out = NULL;
	if (err && errlen > 0)
		err[0] = '\0';
	if (!l || !path || !fn || !out)
		return UPS_EARG;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (path[0] == '\0' || strlen(path) >= sizeof sa.sun_path)
		return fail(err, errlen, path, UPS_EARG,
			    "a socket path must have 1 to %zu bytes",
			    sizeof sa.sun_path - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	enum ups_rc rc = clear_path(path, &sa, err, errlen);
	if (rc != UPS_OK)
		return rc;
	struct stat st;
	int e;
	struct control *c = calloc(1, sizeof *c);
	if (!c)
		return fail(err, errlen, path, UPS_ENOMEM, "out of memory");
	c->l = l;
	c->fn = fn;
	c->ctx = ctx;
	memcpy(c->path, path, strlen(path) + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c->fd < 0 || !set_flags(c->fd)) {
		rc = fail(err, errlen, path, UPS_ESYS, "socket: %s",
			  strerror(errno));
		goto out_free;
	}
	/* 0600 from the start, never wider for a moment: Linux takes the new
	 * node's mode from the socket's inode, other systems from the umask */
	if (fchmod(c->fd, 0600) != 0) {
		/* not supported for sockets here: the umask covers it */
	}
	mode_t old = umask(0177);
	int b = bind(c->fd, (const struct sockaddr *)&sa, sizeof sa);
	e = errno;
	umask(old);
	if (b != 0) {
		errno = e;
		rc = fail(err, errlen, path, UPS_ESYS, "bind: %s", strerror(e));
		goto out_free;
	}
	if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		rc = fail(err, errlen, path, UPS_ESYS,
			  "the socket vanished after bind");
		goto out_free; /* not ours to unlink any more */
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if ((st.st_mode & 077) != 0) {
		errno = EPERM;
		rc = fail(err, errlen, path, UPS_ESYS,
			  "could not create the socket with mode 0600");
		goto out_unlink;
	}
	if (listen(c->fd, BACKLOG) != 0) {
		rc = fail(err, errlen, path, UPS_ESYS, "listen: %s",
			  strerror(errno));
		goto out_unlink;
	}
	rc = evl_watch(l, c->fd, EVL_READABLE, on_listen, c);
	if (rc != UPS_OK) {
		fail(err, errlen, path, rc, "%s", ups_strerror(rc));
		goto out_unlink;
	}
	*out = c;
	return UPS_OK;

out_unlink:
	e = errno;
	unlink(path);
	errno = e;
out_free:
	e = errno;
	if (c->fd >= 0)
		close(c->fd);
	free(c);
	errno = e;
	return rc;
}

void control_close(struct control *c)
{
	if (!c)
		return;
	while (c->n > 0)
		drop(c, c->n - 1);
	free(c->cl);
	if (c->pause_timer > 0)
		evl_del_timer(c->l, c->pause_timer);
	/* unlink while still listening, so nobody takes the path for stale
	 * and replaces it between our check and the unlink */
	struct stat st;
	if (lstat(c->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	evl_unwatch(c->l, c->fd);
	close(c->fd);
	free(c);
}

size_t control_client_count(const struct control *c)
{
	return c ? c->n : 0;
}

/* ---------- status line ---------- */

/* @p v rounded to @p dec decimals, never -0 and never NaN (0 instead), so
 * two runs print the same text */
static double fixed(double v, int dec)
{
	if (!isfinite(v))
		return 0.0;
	double m = dec == 1 ? 10.0 : dec == 2 ? 100.0 : dec == 3 ? 1000.0 : 1.0;
	double r = round(v * m) / m;
	return r == 0.0 ? 0.0 : r;
}

static const char *yesno(bool b)
{
	return b ? "yes" : "no";
}

size_t control_format_status(const struct ups_status *st, uint64_t scen_ms,
			     char *buf, size_t cap)
{
	char test[3] = {st->test_result[0], st->test_result[1], '\0'};
	for (int i = 0; i < 2; i++)
		if (test[i] < '!' || test[i] > '~')
			test[i] = '-';
	char cause = st->transfer_cause;
	if (cause < '!' || cause > '~')
		cause = '-';
	/* active faults by the names scenarios use, "none" without */
	char faults[256] = "";
	size_t fl = 0;
	for (int f = 0; f < UPS_FAULT__COUNT; f++) {
		const char *name = ups_fault_name((enum ups_fault)f);
		if (!(st->faults & (1u << f)) || !name)
			continue;
		int w = snprintf(faults + fl, sizeof faults - fl, "%s%s",
				 fl ? "," : "", name);
		if (w < 0 || (size_t)w >= sizeof faults - fl)
			break;
		fl += (size_t)w;
	}
	bool pending = st->shutdown_pending;
	int n = snprintf(
	    buf, cap,
	    "status Q=%02X charge=%.1f runtime_min=%.1f line_v=%.1f "
	    "line_hz=%.2f out_v=%.1f load=%.1f batt_v=%.2f temp_c=%.1f "
	    "output=%s on_battery=%s low_battery=%s replace_battery=%s "
	    "overload=%s smart=%s alive=%s trip=%02X trip1=%02X state=%02X "
	    "cause=%c test=%s "
	    "faults=%s shutdown_pending=%s shutdown_in_s=%.1f t=%llu.%03u",
	    (unsigned)st->q, fixed(st->charge_pct, 1),
	    fixed(st->runtime_min, 1), fixed(st->line_v, 1),
	    fixed(st->line_hz, 2), fixed(st->out_v, 1), fixed(st->load_pct, 1),
	    fixed(st->batt_v, 2), fixed(st->temp_c, 1),
	    st->output_on ? "on" : "off", yesno(st->on_battery),
	    yesno(st->low_battery || (st->q & UPS_Q_LOWBATT)),
	    yesno(st->q & UPS_Q_REPLACE), yesno(st->q & UPS_Q_OVERLOAD),
	    yesno(st->smart), yesno(st->alive), (unsigned)st->trip,
	    (unsigned)st->trip1, (unsigned)st->state, cause, test,
	    fl ? faults : "none", yesno(pending),
	    pending ? fixed(st->shutdown_in_s, 1) : 0.0,
	    (unsigned long long)(scen_ms / 1000), (unsigned)(scen_ms % 1000));
	return n < 0 ? 0 : (size_t)n;
}
