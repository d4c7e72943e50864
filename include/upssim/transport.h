/*
 * transport.h - byte transports behind one vtable (after libmodbus'
 * backends): a pseudo-terminal the simulator creates, or an existing tty.
 * The engine and, later, the harness see only these operations.
 */
#ifndef UPSSIM_TRANSPORT_H
#define UPSSIM_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "upssim/rc.h"

struct transport;

/** Hosts coming and going on a device (see transport_ops.host_events). */
struct transport_hosts {
	int opens;         /**< hosts that opened the device */
	bool idle;         /**< the last host closed it; its settings were reset */
	size_t discarded;  /**< bytes sent by hosts that have gone, unread */
	int attached;      /**< hosts that have the device open now */
};

struct transport_ops {
	const char *name;
	/** @return bytes read, 0 if none available now, or a negative ups_rc */
	ssize_t (*read)(struct transport *t, void *buf, size_t len);
	/** @return bytes written (may be short), or a negative ups_rc */
	ssize_t (*write)(struct transport *t, const void *buf, size_t len);
	/** Descriptor to poll for readability/writability. */
	int (*fd)(const struct transport *t);
	void (*close)(struct transport *t);
	/** Optional: descriptor that becomes readable when a host opens the
	 *  device (-1 if the transport cannot tell). */
	int (*host_fd)(const struct transport *t);
	/** Optional: consume host_fd and report into @p h what happened
	 *  since the last call.  @return h->opens */
	int (*host_events)(struct transport *t, struct transport_hosts *h);
	/** Optional: bytes written to the host that it has not read yet, or
	 *  -1 if the transport cannot tell (the host lint, lint.h). */
	long (*unread)(const struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
	char path[256];      /**< device path a host opens */
	char link[256];      /**< symlink made for it, "" if none */
};

struct pty_options {
	const char *link;    /**< create this symlink to the slave, or NULL */
	int mode;            /**< permission bits of the slave (0600) */
	long owner_uid;      /**< -1: keep */
	long owner_gid;      /**< -1: keep */
	unsigned baud;       /**< 2400 */
};

/**
 * Create a pseudo-terminal in raw 8N1 mode. The simulator keeps a slave
 * descriptor open itself so that hosts may close and reopen the device any
 * number of times without the master seeing a hang-up.
 * @param[out] out  the transport, NULL on error
 * @param[out] err  a message on failure
 */
enum ups_rc transport_pty_open(const struct pty_options *o,
			       struct transport **out, char *err, size_t errlen);

/** Serve an existing tty (real serial port, other pty) at 2400 8N1 raw. */
enum ups_rc transport_tty_open(const char *path, unsigned baud,
			       struct transport **out, char *err, size_t errlen);

/**
 * A real serial port through libserialport at @p baud (2400) 8N1, no flow
 * control (sim/io/transport_serial.c).  libserialport cannot open
 * pseudo-terminals: a pty is refused with UPS_EUNSUPP and a message naming
 * transport_tty_open's --device instead.
 * @param[out] out  the transport, NULL on error
 * @param[out] err  a message naming the port and the reason on failure
 * @return UPS_OK, UPS_ENOTFOUND, UPS_EUNSUPP, UPS_ESYS or UPS_ENOMEM
 */
enum ups_rc transport_serial_open(const char *path, unsigned baud,
				  struct transport **out, char *err,
				  size_t errlen);

/** Call @p fn for each serial port libserialport sees.
 *  @return the number of ports, or a negative ups_rc with @p err set */
int transport_serial_list(void (*fn)(void *ctx, const char *name,
				     const char *desc),
			  void *ctx, char *err, size_t errlen);

/** @return true if @p path is a pseudo-terminal (slave, /dev/ptmx, BSD pty) */
bool transport_is_pty(const char *path);

static inline ssize_t transport_read(struct transport *t, void *b, size_t n)
{
	return t->ops->read(t, b, n);
}
static inline ssize_t transport_write(struct transport *t, const void *b, size_t n)
{
	return t->ops->write(t, b, n);
}
static inline void transport_close(struct transport *t)
{
	if (t)
		t->ops->close(t);
}

#endif
