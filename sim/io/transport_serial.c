/*
 * transport_serial.c - a real serial port through libserialport, behind
 * the same transport vtable as the pty and tty transports: 2400 8N1, no
 * flow control (ULS §2.1).  libserialport cannot open pseudo-terminals (it
 * needs sysfs and TIOCMGET), so a pty is refused here with a message that
 * says to use the plain-descriptor tty transport (transport_tty_open).
 * Also lists the ports libserialport sees.
 */
#include "upssim/rc.h"
#include "upssim/transport.h"

#include <errno.h>
#include <libserialport.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct serial_transport {
	struct transport base;
	struct sp_port *port;
	int fd;
};

/* libserialport's last error text, or @p fallback. */
static void sp_why(enum sp_return r, char *out, size_t len)
{
	if (r == SP_ERR_FAIL) {
		char *m = sp_last_error_message();
		snprintf(out, len, "%s", m ? m : "failed");
		sp_free_error_message(m);
	} else {
		snprintf(out, len, "%s", r == SP_ERR_ARG ? "invalid argument" :
			 r == SP_ERR_MEM ? "out of memory" :
			 r == SP_ERR_SUPP ? "not supported" : "failed");
	}
}

static ssize_t ser_read(struct transport *t, void *buf, size_t len)
{
	struct serial_transport *st = (struct serial_transport *)t;
	enum sp_return r = sp_nonblocking_read(st->port, buf, len);
	if (r >= 0)
		return r;
	return (errno == EAGAIN || errno == EINTR) ? 0 : UPS_ESYS;
}

static ssize_t ser_write(struct transport *t, const void *buf, size_t len)
{
	struct serial_transport *st = (struct serial_transport *)t;
	enum sp_return r = sp_nonblocking_write(st->port, buf, len);
	if (r >= 0)
		return r;
	return (errno == EAGAIN || errno == EINTR) ? 0 : UPS_ESYS;
}

static int ser_fd(const struct transport *t)
{
	return ((const struct serial_transport *)t)->fd;
}

static void ser_close(struct transport *t)
{
	struct serial_transport *st = (struct serial_transport *)t;
	if (st->port) {
		if (st->fd >= 0)
			sp_drain(st->port);
		sp_close(st->port);
		sp_free_port(st->port);
	}
	free(st);
}

static const struct transport_ops serial_ops = {
	.name = "serial", .read = ser_read, .write = ser_write, .fd = ser_fd,
	.close = ser_close,
};

bool transport_is_pty(const char *path)
{
	struct stat s;
	char real[PATH_MAX];
	if (realpath(path, real) && !strncmp(real, "/dev/pts/", 9))
		return true;
	if (stat(path, &s) < 0 || !S_ISCHR(s.st_mode))
		return false;
	unsigned maj = major(s.st_rdev);
	/* Unix98 pty slaves 136-143, /dev/ptmx 5:2, BSD ptys 2 and 3
	 * (Documentation/admin-guide/devices.txt) */
	return (maj >= 136 && maj <= 143) || maj == 2 || maj == 3 ||
	       (maj == 5 && minor(s.st_rdev) == 2);
}

enum ups_rc transport_serial_open(const char *path, unsigned baud,
				  struct transport **out, char *err,
				  size_t errlen)
{
	char sp[256], why[200];
	struct stat s;
	*out = NULL;
	ups_escape(sp, sizeof sp, path);
	if (stat(path, &s) < 0) {
		snprintf(err, errlen, "%s: %s (--list-ports shows the serial "
			 "ports libserialport sees)", sp, strerror(errno));
		return UPS_ENOTFOUND;
	}
	if (transport_is_pty(path)) {
		snprintf(err, errlen, "%s: a pseudo-terminal; libserialport "
			 "cannot open ptys (it needs sysfs and TIOCMGET): use "
			 "--device %s", sp, sp);
		return UPS_EUNSUPP;
	}
	if (!S_ISCHR(s.st_mode)) {
		snprintf(err, errlen, "%s: not a character device, so not a "
			 "serial port", sp);
		return UPS_EUNSUPP;
	}
	struct serial_transport *st = calloc(1, sizeof *st);
	if (!st)
		return UPS_ENOMEM;
	st->base.ops = &serial_ops;
	st->fd = -1;
	snprintf(st->base.path, sizeof st->base.path, "%s", path);
	enum sp_return r = sp_get_port_by_name(path, &st->port);
	if (r != SP_OK) {
		st->port = NULL;
		sp_why(r, why, sizeof why);
		snprintf(err, errlen, "%s: libserialport does not know this port "
			 "(%s); --list-ports shows the ones it sees", sp, why);
		ser_close(&st->base);
		return UPS_ENOTFOUND;
	}
	r = sp_open(st->port, SP_MODE_READ_WRITE);
	if (r != SP_OK) {
		sp_why(r, why, sizeof why);
		snprintf(err, errlen, "%s: cannot open: %s", sp, why);
		sp_free_port(st->port);
		st->port = NULL;
		ser_close(&st->base);
		return UPS_ESYS;
	}
	/* ULS §2.1: 2400 bit/s, 8 data bits, no parity, 1 stop bit, no flow
	 * control.  DTR on and RTS off, as NUT (cable 940-0095B) and apcupsd
	 * (940-0095A/B/C) set them; the 940-0024C smart cable ignores both. */
	if ((r = sp_set_baudrate(st->port, (int)(baud ? baud : 2400))) != SP_OK ||
	    (r = sp_set_bits(st->port, 8)) != SP_OK ||
	    (r = sp_set_parity(st->port, SP_PARITY_NONE)) != SP_OK ||
	    (r = sp_set_stopbits(st->port, 1)) != SP_OK ||
	    (r = sp_set_flowcontrol(st->port, SP_FLOWCONTROL_NONE)) != SP_OK ||
	    (r = sp_get_port_handle(st->port, &st->fd)) != SP_OK) {
		sp_why(r, why, sizeof why);
		snprintf(err, errlen, "%s: cannot configure 2400 8N1: %s", sp, why);
		ser_close(&st->base);
		return UPS_ESYS;
	}
	sp_set_dtr(st->port, SP_DTR_ON);
	sp_set_rts(st->port, SP_RTS_OFF);
	sp_flush(st->port, SP_BUF_BOTH);
	*out = &st->base;
	return UPS_OK;
}

int transport_serial_list(void (*fn)(void *ctx, const char *name,
				     const char *desc),
			  void *ctx, char *err, size_t errlen)
{
	struct sp_port **ports = NULL;
	enum sp_return r = sp_list_ports(&ports);
	if (r != SP_OK) {
		sp_why(r, err, errlen);
		return UPS_ESYS;
	}
	int n = 0;
	for (; ports[n]; n++) {
		const char *d = sp_get_port_description(ports[n]);
		fn(ctx, sp_get_port_name(ports[n]), d ? d : "");
	}
	sp_free_port_list(ports);
	return n;
}
