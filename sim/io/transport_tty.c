/*
 * transport_tty.c - the two tty transports: a pseudo-terminal created by
 * the simulator (hosts open its slave side), and an existing tty given by
 * path (a real serial port with a null-modem cable, or someone's pty).
 * This file owns every termios call of the simulator.
 */
#define _GNU_SOURCE /* posix_openpt, ptsname_r */
#include "upssim/rc.h"
#include "upssim/transport.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

struct tty_transport {
	struct transport base;
	int fd;        /* what we read and write: pty master or the tty */
	int hold_fd;   /* pty: our own slave descriptor, -1 otherwise */
	int ino_fd;    /* pty: inotify on the slave, to see hosts open it */
	int hosts;     /* pty: host descriptors open on the slave now */
	/* pty: the slave's input queue may hold bytes no present host asked
	 * for (written while no host had it open, or events were lost) */
	bool stale;
	unsigned baud;
	/* pty: input read aside when the last host left (see host_events),
	 * served before the descriptor by tty_read */
	uint8_t pend[16 * 1024];
	size_t npend, pend_off;
	bool restore;  /* tty: put `saved` back when done */
	struct termios saved;
};

static speed_t baud_const(unsigned baud)
{
	switch (baud) {
	case 1200: return B1200;
	case 4800: return B4800;
	case 9600: return B9600;
	case 19200: return B19200;
	default: return B2400; /* ULS §2.1: 2400 bit/s */
	}
}

/* Raw 8N1, no flow control (ULS §2.1). */
static int set_raw(int fd, unsigned baud)
{
	struct termios tio;
	if (tcgetattr(fd, &tio) < 0)
		return -1;
	cfmakeraw(&tio);
	tio.c_cflag &= (tcflag_t)~(CSTOPB | PARENB | CRTSCTS | CSIZE);
	tio.c_cflag |= CS8 | CLOCAL | CREAD;
	tio.c_iflag &= (tcflag_t)~(IXON | IXOFF | IXANY);
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	cfsetispeed(&tio, baud_const(baud));
	cfsetospeed(&tio, baud_const(baud));
	return tcsetattr(fd, TCSANOW, &tio);
}

/* Map a read/write result: "nothing now" is 0, a real failure UPS_ESYS.
 * EIO on a pty master means no slave is open: nothing to transfer. */
static ssize_t io_result(ssize_t n)
{
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
	    errno == EIO)
		return 0;
	return UPS_ESYS;
}

static ssize_t tty_read(struct transport *t, void *buf, size_t len)
{
	struct tty_transport *tt = (struct tty_transport *)t;
	if (tt->npend) {
		size_t k = tt->npend - tt->pend_off < len ? tt->npend - tt->pend_off : len;
		memcpy(buf, tt->pend + tt->pend_off, k);
		tt->pend_off += k;
		if (tt->pend_off == tt->npend)
			tt->npend = tt->pend_off = 0;
		return (ssize_t)k;
	}
	return io_result(read(tt->fd, buf, len));
}

static ssize_t tty_write(struct transport *t, const void *buf, size_t len)
{
	return io_result(write(((struct tty_transport *)t)->fd, buf, len));
}

/* Bytes written while no host has the slave open wait in its input queue
 * for whoever opens next: remembered, so that open flushes them. */
static ssize_t pty_write(struct transport *t, const void *buf, size_t len)
{
	struct tty_transport *tt = (struct tty_transport *)t;
	if (tt->hosts == 0)
		tt->stale = true;
	return tty_write(t, buf, len);
}

static int tty_fd(const struct transport *t)
{
	return ((const struct tty_transport *)t)->fd;
}

/* The link at @p link points to a pseudo-terminal slave: made by us or by
 * another simulator (maybe one that was killed).  @p target gets it. */
static bool pty_link(const char *link, char *target, size_t len)
{
	ssize_t n = readlink(link, target, len - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strncmp(target, "/dev/pts/", 9) == 0;
}

/* Remove the link only while it is ours: it still points to our pty.  A
 * file or another simulator's link put there since stays. */
static void remove_link(struct transport *t)
{
	char target[sizeof t->path];
	if (t->link[0] && pty_link(t->link, target, sizeof target) &&
	    strcmp(target, t->path) == 0)
		unlink(t->link);
	t->link[0] = '\0';
}

static void tty_close(struct transport *t)
{
	struct tty_transport *tt = (struct tty_transport *)t;
	remove_link(t);
	if (tt->restore && tt->fd >= 0) {
		/* leave the port as we found it (tio's tty_disconnect) */
		tcdrain(tt->fd);
		tcsetattr(tt->fd, TCSANOW, &tt->saved);
	}
	if (tt->hold_fd >= 0)
		close(tt->hold_fd);
	if (tt->ino_fd >= 0)
		close(tt->ino_fd);
	if (tt->fd >= 0)
		close(tt->fd);
	free(tt);
}

static int pty_host_fd(const struct transport *t)
{
	return ((const struct tty_transport *)t)->ino_fd;
}

/*
 * Host sessions, from inotify on the slave: IN_OPEN and IN_CLOSE tell when
 * hosts come and go.  When the last host has gone and no host has opened
 * since, everything waiting in the master's input was sent by hosts that
 * are gone: it is discarded, so none of it is read as the next host's
 * command (a host that died in the middle of "@1" or of a flood).  When
 * the close and the next open are seen together (the simulator was not
 * scheduled in between), bytes the old host left in the kernel cannot be
 * told from the new host's: they are read in the new session.
 */
/* Read the inotify events waiting now into @p h; @p left is set if the
 * last host closed, @p reopened if a host opened after that. */
static void take_events(struct tty_transport *tt, struct transport_hosts *h,
			bool *left, bool *reopened)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;
	while ((n = read(tt->ino_fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			if (ev->mask & (IN_OPEN | IN_Q_OVERFLOW)) {
				/* an overflow lost events: count it as a new
				 * session, the safe side */
				if (ev->mask & IN_Q_OVERFLOW)
					tt->stale = true;
				h->opens++;
				tt->hosts++;
				*reopened = true;
			}
			if (ev->mask & IN_CLOSE) {
				if (tt->hosts > 0)
					tt->hosts--;
				if (tt->hosts == 0) {
					*left = true;
					*reopened = false;
					/* seen together with the next open,
					 * its unread replies are still queued */
					tt->stale = true;
				}
			}
			p += sizeof *ev + ev->len;
		}
	}
}

static int pty_host_events(struct transport *t, struct transport_hosts *h)
{
	struct tty_transport *tt = (struct tty_transport *)t;
	bool left = false, reopened = false;
	*h = (struct transport_hosts){ 0 };
	take_events(tt, h, &left, &reopened);
	/* Everything readable now was sent by hosts that have gone, as long
	 * as nobody opened since (a new host writes only after its IN_OPEN
	 * is queued).  It is read aside, not flushed (tcflush on a pty
	 * master's input can leave it deaf to the next host, seen on Linux
	 * 6.x), and dropped unless a host opened while it was being read:
	 * then it may hold that host's first bytes and is kept as input. */
	if (left && !reopened && tt->npend == 0) {
		ssize_t n;
		while (tt->npend < sizeof tt->pend &&
		       (n = read(tt->fd, tt->pend + tt->npend,
				 sizeof tt->pend - tt->npend)) > 0)
			tt->npend += (size_t)n;
		bool left2 = false;
		take_events(tt, h, &left2, &reopened);
		if (!reopened) {
			h->discarded = tt->npend;
			tt->npend = 0;
		}
	}
	/* The last host is gone and nobody opened since: the replies it did
	 * not read are dropped now, while no host can be reading them, and
	 * the terminal settings it left (ECHO would make the unit talk to
	 * itself) do not carry over to the next one. */
	if (left && !reopened) {
		tcflush(tt->hold_fd, TCIFLUSH);
		tt->stale = false;
		set_raw(tt->hold_fd, tt->baud);
		h->idle = true;
	}
	/* A host opened, and bytes written for an earlier host may still wait
	 * in the slave's input queue (its close came with this open, or they
	 * were written while nobody had it open): they go before the new
	 * session starts.  Only then: a host that has polled the device and
	 * found bytes would block for ever in read(2) if they vanished under
	 * it (socat does, between opening and its first write). */
	if (h->opens && tt->stale) {
		tcflush(tt->hold_fd, TCIFLUSH);
		tt->stale = false;
	}
	h->attached = tt->hosts;
	return h->opens;
}

/* Make @p link point to @p target.  Only a link that points to a pty (left
 * by an earlier or another simulator) is replaced, atomically by rename;
 * anything else at the path is the user's and stays. */
static int make_link(const char *target, const char *link, char *err,
		     size_t errlen)
{
	char old[256], a[256], b[256];
	struct stat st;
	if (lstat(link, &st) < 0) {
		if (errno == ENOENT && symlink(target, link) == 0)
			return 0;
		snprintf(err, errlen, "%s: symlink: %s", ups_escape(a, sizeof a, link),
			 strerror(errno));
		return -1;
	}
	if (!S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a symlink: not replacing it",
			 ups_escape(a, sizeof a, link));
		return -1;
	}
	if (!pty_link(link, old, sizeof old)) {
		snprintf(err, errlen, "%s is a symlink to %s, not to a pty: "
			 "not replacing it", ups_escape(a, sizeof a, link),
			 ups_escape(b, sizeof b, old));
		return -1;
	}
	char tmp[sizeof old + 32];
	int n = snprintf(tmp, sizeof tmp, "%s.upssim-%ld", link, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof tmp) {
		snprintf(err, errlen, "%s: link path too long", ups_escape(a, sizeof a, link));
		return -1;
	}
	unlink(tmp);
	if (symlink(target, tmp) < 0 || rename(tmp, link) < 0) {
		snprintf(err, errlen, "%s: cannot replace the link: %s",
			 ups_escape(a, sizeof a, link), strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* What the host has not read: the slave's input queue, seen through our
 * own slave descriptor (in canonical mode only complete lines count, which
 * is what a line-reading host can read). */
static long pty_unread(const struct transport *t)
{
	const struct tty_transport *tt = (const struct tty_transport *)t;
	int n = 0;
	if (tt->hold_fd < 0 || ioctl(tt->hold_fd, FIONREAD, &n) < 0)
		return -1;
	return n;
}

static const struct transport_ops pty_ops = {
	.name = "pty", .read = tty_read, .write = pty_write, .fd = tty_fd,
	.close = tty_close, .host_fd = pty_host_fd,
	.host_events = pty_host_events, .unread = pty_unread,
};
static const struct transport_ops tty_ops = {
	.name = "tty", .read = tty_read, .write = tty_write, .fd = tty_fd,
	.close = tty_close,
};

enum ups_rc transport_pty_open(const struct pty_options *o,
			       struct transport **out, char *err, size_t errlen)
{
	*out = NULL;
	struct tty_transport *tt = calloc(1, sizeof *tt);
	if (!tt)
		return UPS_ENOMEM;
	tt->base.ops = &pty_ops;
	tt->hold_fd = -1;
	tt->ino_fd = -1;
	tt->fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (tt->fd < 0 || grantpt(tt->fd) < 0 || unlockpt(tt->fd) < 0 ||
	    ptsname_r(tt->fd, tt->base.path, sizeof tt->base.path) != 0) {
		snprintf(err, errlen, "cannot create a pseudo-terminal: %s",
			 strerror(errno));
		goto fail;
	}
	/* Holding a slave descriptor keeps the master from seeing a hang-up
	 * when the host closes the port, so hosts can reopen at will. */
	tt->baud = o->baud ? o->baud : 2400;
	tt->hold_fd = open(tt->base.path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (tt->hold_fd < 0 || set_raw(tt->hold_fd, tt->baud) < 0) {
		snprintf(err, errlen, "%s: cannot configure: %s", tt->base.path,
			 strerror(errno));
		goto fail;
	}
	/* Watch for hosts opening the slave; our own open came before. */
	tt->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (tt->ino_fd >= 0 &&
	    inotify_add_watch(tt->ino_fd, tt->base.path,
			      IN_OPEN | IN_CLOSE) < 0) {
		close(tt->ino_fd);
		tt->ino_fd = -1;
	}
	if (chmod(tt->base.path, (mode_t)(o->mode ? o->mode : 0600)) < 0) {
		snprintf(err, errlen, "%s: chmod: %s", tt->base.path, strerror(errno));
		goto fail;
	}
	if ((o->owner_uid >= 0 || o->owner_gid >= 0) &&
	    chown(tt->base.path, (uid_t)o->owner_uid, (gid_t)o->owner_gid) < 0) {
		snprintf(err, errlen, "%s: chown: %s", tt->base.path, strerror(errno));
		goto fail;
	}
	if (o->link && o->link[0]) {
		if (strlen(o->link) >= sizeof tt->base.link) {
			snprintf(err, errlen, "%s: link path too long", o->link);
			goto fail;
		}
		if (make_link(tt->base.path, o->link, err, errlen) < 0)
			goto fail;
		snprintf(tt->base.link, sizeof tt->base.link, "%s", o->link);
	}
	*out = &tt->base;
	return UPS_OK;
fail:
	tty_close(&tt->base);
	return UPS_ESYS;
}

enum ups_rc transport_tty_open(const char *path, unsigned baud,
			       struct transport **out, char *err, size_t errlen)
{
	*out = NULL;
	struct tty_transport *tt = calloc(1, sizeof *tt);
	if (!tt)
		return UPS_ENOMEM;
	tt->base.ops = &tty_ops;
	tt->hold_fd = -1;
	tt->ino_fd = -1;
	snprintf(tt->base.path, sizeof tt->base.path, "%s", path);
	char shown_path[256];
	ups_escape(shown_path, sizeof shown_path, path);
	tt->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (tt->fd < 0) {
		snprintf(err, errlen, "%s: %s", shown_path, strerror(errno));
		goto fail;
	}
	if (!isatty(tt->fd)) {
		snprintf(err, errlen, "%s: not a terminal device", shown_path);
		goto fail;
	}
	if (tcgetattr(tt->fd, &tt->saved) == 0)
		tt->restore = true;
	if (set_raw(tt->fd, baud ? baud : 2400) < 0) {
		snprintf(err, errlen, "%s: cannot configure: %s", shown_path,
			 strerror(errno));
		goto fail;
	}
	tcflush(tt->fd, TCIOFLUSH);
	*out = &tt->base;
	return UPS_OK;
fail:
	tty_close(&tt->base);
	return UPS_ESYS;
}
