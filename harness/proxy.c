/*
 * proxy.c - upsharness proxy: sits between a host and a real unit.  It
 * creates a pty for the host (transport_pty_open, --link), forwards every
 * byte both ways as it comes (one poll loop, nothing held back), and
 * writes each byte to the trace in the project's format (docs/trace.md)
 * with the UPS's directions: rx = host -> UPS, tx = UPS -> host, plus
 * host-open / host-close notes.
 */
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "upssim/trace.h"

struct proxy {
	FILE *trace;
	uint64_t t0;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void px_bytes(struct proxy *p, enum trace_dir dir, const uint8_t *b,
		     size_t n)
{
	if (!p->trace)
		return;
	char line[TRACE_CHUNK * 4 + 64];
	uint64_t t = mono_ms() - p->t0;
	for (size_t off = 0; off < n; off += TRACE_CHUNK) {
		size_t k = n - off < TRACE_CHUNK ? n - off : TRACE_CHUNK;
		trace_format_bytes(line, sizeof line, t, dir, b + off, k, NULL);
		fputs(line, p->trace);
	}
	fflush(p->trace);
}

static void px_note(struct proxy *p, const char *note)
{
	if (!p->trace)
		return;
	char line[1200];
	trace_format_note(line, sizeof line, mono_ms() - p->t0, note);
	fputs(line, p->trace);
	fflush(p->trace);
}

/* Write all of @p b to @p t, waiting up to 2 s for room.  @return 0 or -1 */
static int write_all(struct transport *t, const uint8_t *b, size_t n)
{
	uint64_t deadline = mono_ms() + 2000;
	while (n) {
		ssize_t k = transport_write(t, b, n);
		if (k < 0)
			return -1;
		b += k;
		n -= (size_t)k;
		if (!n)
			break;
		uint64_t now = mono_ms();
		if (now >= deadline)
			return -1;
		struct pollfd pf = { .fd = t->ops->fd(t), .events = POLLOUT };
		poll(&pf, 1, 5);
	}
	return 0;
}

int hrn_proxy(struct hrn_target *tg, const char *link, const char *trace_path)
{
	struct proxy p = { .t0 = mono_ms() };
	char err[600] = "";
	if (trace_path) {
		p.trace = fopen(trace_path, "w");
		if (!p.trace) {
			fprintf(stderr, "upsharness: --trace %s: %s\n", trace_path,
				strerror(errno));
			return HRN_EXIT_USAGE;
		}
	}
	if (hrn_target_open(tg, err, sizeof err) < 0) {
		fprintf(stderr, "upsharness: %s\n", err);
		if (p.trace)
			fclose(p.trace);
		return HRN_EXIT_TARGET;
	}
	struct pty_options po = { .link = link, .mode = 0600, .owner_uid = -1,
				  .owner_gid = -1, .baud = 2400 };
	struct transport *host = NULL;
	if (transport_pty_open(&po, &host, err, sizeof err) != UPS_OK) {
		fprintf(stderr, "upsharness: proxy: %s\n", err);
		hrn_target_close(tg);
		if (p.trace)
			fclose(p.trace);
		return HRN_EXIT_TARGET;
	}
	char hdr[700];
	snprintf(hdr, sizeof hdr, "trace v1 side=ups upsharness %s proxy %s",
		 UPSSIM_VERSION, tg->desc);
	for (char *c = hdr; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7E)
			*c = '?';
	px_note(&p, hdr);
	/* the host's device path, as upssim prints it */
	printf("%s\n", host->link[0] ? host->link : host->path);
	fflush(stdout);

	int rc = HRN_EXIT_OK;
	bool open_now = false;
	uint8_t buf[4096];
	while (!hrn_interrupted) {
		struct pollfd pf[3];
		int n = 0;
		pf[n++] = (struct pollfd){ .fd = host->ops->fd(host), .events = POLLIN };
		pf[n++] = (struct pollfd){ .fd = tg->t->ops->fd(tg->t), .events = POLLIN };
		int hfd = host->ops->host_fd ? host->ops->host_fd(host) : -1;
		if (hfd >= 0)
			pf[n++] = (struct pollfd){ .fd = hfd, .events = POLLIN };
		int k = poll(pf, (nfds_t)n, 200);
		if (k < 0 && errno != EINTR) {
			rc = HRN_EXIT_TARGET;
			break;
		}
		/* hosts first: an open is noted before the new host's bytes */
		if (hfd >= 0 && host->ops->host_events) {
			struct transport_hosts h;
			host->ops->host_events(host, &h);
			if (h.opens && !open_now)
				px_note(&p, "host-open");
			else if (h.opens && h.idle)
				px_note(&p, "host-open");
			if (h.discarded) {
				char d[64];
				snprintf(d, sizeof d, "discarded %zu", h.discarded);
				px_note(&p, d);
			}
			if (h.opens)
				open_now = true;
			if (h.idle && h.attached == 0 && open_now) {
				px_note(&p, "host-close");
				open_now = false;
			}
		}
		/* UPS -> host */
		ssize_t r;
		while ((r = transport_read(tg->t, buf, sizeof buf)) > 0) {
			px_bytes(&p, TRACE_TX, buf, (size_t)r);
			if (write_all(host, buf, (size_t)r) < 0 && open_now) {
				char d[64];
				snprintf(d, sizeof d, "dropped %zd", r);
				px_note(&p, d);
			}
		}
		if (r < 0) {
			fprintf(stderr, "upsharness: proxy: %s: the unit went away\n",
				tg->desc);
			px_note(&p, "lost target");
			rc = HRN_EXIT_TARGET;
			break;
		}
		/* host -> UPS */
		while ((r = transport_read(host, buf, sizeof buf)) > 0) {
			if (!open_now) {
				px_note(&p, "host-open");
				open_now = true;
			}
			px_bytes(&p, TRACE_RX, buf, (size_t)r);
			if (write_all(tg->t, buf, (size_t)r) < 0) {
				fprintf(stderr, "upsharness: proxy: %s: cannot "
					"write to the unit\n", tg->desc);
				rc = HRN_EXIT_TARGET;
				break;
			}
		}
		if (rc != HRN_EXIT_OK)
			break;
	}
	if (open_now)
		px_note(&p, "host-close");
	transport_close(host);
	hrn_target_close(tg);
	if (p.trace)
		fclose(p.trace);
	return rc;
}
