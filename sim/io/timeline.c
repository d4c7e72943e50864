/*
 * timeline.c - the CSV timeline writer (see timeline.h).  A row is the
 * event text plus the state part; timeline_changed() compares the state
 * parts as they would be printed, so "changed" means exactly "a row would
 * show something new".
 */
#include "upssim/timeline.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Room for an event of a control line (< 1024 bytes) with every byte
 * escaped as \xNN, and its quotes. */
#define EVENT_MAX 4200
#define STATE_MAX 128

struct timeline {
	FILE *f;
	bool failed;
};

/* @p v rounded to 1/@p scale, never -0 and never NaN (0 instead):
 * two runs print the same text */
static double fixed(double v, double scale)
{
	if (!isfinite(v))
		return 0.0;
	double r = round(v * scale) / scale;
	return r == 0.0 ? 0.0 : r;
}

/* Q,charge_pct,runtime_min,line_v,out_v,load_pct,batt_v */
static void format_state(const struct ups_status *st, char *buf, size_t cap)
{
	snprintf(buf, cap, "%02X,%.1f,%.1f,%.1f,%.1f,%.1f,%.2f",
		 (unsigned)st->q, fixed(st->charge_pct, 10),
		 fixed(st->runtime_min, 10), fixed(st->line_v, 10),
		 fixed(st->out_v, 10), fixed(st->load_pct, 10),
		 fixed(st->batt_v, 100));
}

/* RFC 4180 field: quoted when it holds a comma, a quote, or spaces at
 * either end (which readers may strip); quotes inside are doubled.  Bytes
 * that could break the line or a terminal are \xNN first. */
static void format_event(const char *event, char *buf, size_t cap)
{
	char esc[EVENT_MAX];
	ups_escape(esc, sizeof esc, event ? event : "");
	size_t n = strlen(esc);
	bool quote = n > 0 && (strpbrk(esc, ",\"") || esc[0] == ' ' ||
			       esc[n - 1] == ' ');
	size_t o = 0;
	if (cap == 0)
		return;
#define PUT(ch)                                                                \
	do {                                                                   \
		if (o + 1 < cap)                                               \
			buf[o++] = (ch);                                       \
	} while (0)
	if (quote)
		PUT('"');
	for (size_t i = 0; i < n; i++) {
		if (esc[i] == '"')
			PUT('"');
		PUT(esc[i]);
	}
	if (quote)
		PUT('"');
#undef PUT
	buf[o] = '\0';
}

size_t timeline_format_row(uint64_t t_ms, const char *event,
			   const struct ups_status *st, char *buf, size_t cap)
{
	char ev[EVENT_MAX + 8], state[STATE_MAX];
	format_event(event, ev, sizeof ev);
	format_state(st, state, sizeof state);
	int n = snprintf(buf, cap, "%llu.%03u,%s,%s",
			 (unsigned long long)(t_ms / 1000),
			 (unsigned)(t_ms % 1000), ev, state);
	return n < 0 ? 0 : (size_t)n;
}

bool timeline_changed(const struct ups_status *a, const struct ups_status *b)
{
	char sa[STATE_MAX], sb[STATE_MAX];
	format_state(a, sa, sizeof sa);
	format_state(b, sb, sizeof sb);
	return a->output_on != b->output_on || strcmp(sa, sb) != 0;
}

enum ups_rc timeline_open(const char *path, struct timeline **out, char *err,
			  size_t errlen)
{
	char shown[512];
	if (out)
		*out = NULL;
	if (err && errlen > 0)
		err[0] = '\0';
	if (!path || !out || !path[0]) {
		if (err && errlen > 0)
			snprintf(err, errlen, "timeline: no file name");
		return UPS_EARG;
	}
	ups_escape(shown, sizeof shown, path);
	struct timeline *tl = calloc(1, sizeof *tl);
	if (!tl) {
		if (err && errlen > 0)
			snprintf(err, errlen, "%s: out of memory", shown);
		return UPS_ENOMEM;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(tl->f = fdopen(fd, "w"))) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		free(tl);
		if (err && errlen > 0)
			snprintf(err, errlen, "%s: %s", shown, strerror(e));
		errno = e;
		return UPS_ESYS;
	}
	if (fputs(TIMELINE_HEADER "\n", tl->f) == EOF || fflush(tl->f) != 0) {
		int e = errno;
		fclose(tl->f);
		free(tl);
		if (err && errlen > 0)
			snprintf(err, errlen, "%s: %s", shown, strerror(e));
		errno = e;
		return UPS_ESYS;
	}
	*out = tl;
	return UPS_OK;
}

enum ups_rc timeline_row(struct timeline *tl, uint64_t t_ms, const char *event,
			 const struct ups_status *st)
{
	if (!tl || !st)
		return UPS_EARG;
	char row[EVENT_MAX + STATE_MAX + 32];
	timeline_format_row(t_ms, event, st, row, sizeof row);
	if (fputs(row, tl->f) == EOF || fputc('\n', tl->f) == EOF ||
	    fflush(tl->f) != 0) {
		tl->failed = true;
		return UPS_ESYS;
	}
	return UPS_OK;
}

enum ups_rc timeline_close(struct timeline *tl)
{
	if (!tl)
		return UPS_OK;
	bool failed = tl->failed;
	if (fclose(tl->f) != 0)
		failed = true;
	free(tl);
	return failed ? UPS_ESYS : UPS_OK;
}
