/*
 * transport_tty.c - the two tty transports: a pseudo-terminal created by
 * the simulator (hosts open its slave side), and an existing tty given by
 * path (a real serial port with a null-modem cable, or someone's pty).
 * This file owns every termios call of the simulator.
 */
#define _GNU_SOURCE /* posix_openpt, ptsname_r */
#include "upssim/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

struct tty_transport {
	struct transport base;
	int fd;        /* what we read and write: pty master or the tty */
	int hold_fd;   /* pty: our own slave descriptor, -1 otherwise */
	int ino_fd;    /* pty: inotify on the slave, to see hosts open it */
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
	return io_result(read(((struct tty_transport *)t)->fd, buf, len));
}

static ssize_t tty_write(struct transport *t, const void *buf, size_t len)
{
	return io_result(write(((struct tty_transport *)t)->fd, buf, len));
}

static int tty_fd(const struct transport *t)
{
	return ((const struct tty_transport *)t)->fd;
}

static void tty_close(struct transport *t)
{
	struct tty_transport *tt = (struct tty_transport *)t;
	if (t->link[0])
		unlink(t->link);
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

static int pty_host_opened(struct transport *t)
{
	struct tty_transport *tt = (struct tty_transport *)t;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int opens = 0;
	ssize_t n;
	while ((n = read(tt->ino_fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			if (ev->mask & IN_OPEN)
				opens++;
			p += sizeof *ev + ev->len;
		}
	}
	/* Output queued for the previous host stays: hosts flush on open
	 * (NUT and apcupsd do), and flushing here could eat a reply the new
	 * host has already asked for. */
	return opens;
}

static const struct transport_ops pty_ops = {
	.name = "pty", .read = tty_read, .write = tty_write, .fd = tty_fd,
	.close = tty_close, .host_fd = pty_host_fd,
	.host_opened = pty_host_opened,
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
	tt->fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (tt->fd < 0 || grantpt(tt->fd) < 0 || unlockpt(tt->fd) < 0 ||
	    ptsname_r(tt->fd, tt->base.path, sizeof tt->base.path) != 0) {
		snprintf(err, errlen, "cannot create a pseudo-terminal: %s",
			 strerror(errno));
		goto fail;
	}
	/* Holding a slave descriptor keeps the master from seeing a hang-up
	 * when the host closes the port, so hosts can reopen at will. */
	tt->hold_fd = open(tt->base.path, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (tt->hold_fd < 0 || set_raw(tt->hold_fd, o->baud ? o->baud : 2400) < 0) {
		snprintf(err, errlen, "%s: cannot configure: %s", tt->base.path,
			 strerror(errno));
		goto fail;
	}
	/* Watch for hosts opening the slave; our own open came before. */
	tt->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (tt->ino_fd >= 0 &&
	    inotify_add_watch(tt->ino_fd, tt->base.path, IN_OPEN) < 0) {
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
		struct stat st;
		if (lstat(o->link, &st) == 0) {
			if (!S_ISLNK(st.st_mode)) {
				snprintf(err, errlen,
					 "%s exists and is not a symlink: not replacing it",
					 o->link);
				goto fail;
			}
			unlink(o->link); /* a stale link from an earlier run */
		}
		if (symlink(tt->base.path, o->link) < 0) {
			snprintf(err, errlen, "%s: symlink: %s", o->link,
				 strerror(errno));
			goto fail;
		}
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
	tt->fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (tt->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!isatty(tt->fd)) {
		snprintf(err, errlen, "%s: not a terminal device", path);
		goto fail;
	}
	if (set_raw(tt->fd, baud ? baud : 2400) < 0) {
		snprintf(err, errlen, "%s: cannot configure: %s", path,
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
