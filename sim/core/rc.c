/*
 * rc.c - texts for the return codes and the file:line:col diagnostic.
 */
#include "upssim/rc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *ups_strerror(enum ups_rc rc)
{
	switch (rc) {
	case UPS_OK: return "success";
	case UPS_EARG: return "invalid argument";
	case UPS_ESYS: return "system error";
	case UPS_ENOMEM: return "out of memory";
	case UPS_EPROTO: return "protocol error";
	case UPS_EPARSE: return "parse error";
	case UPS_ETIMEOUT: return "timed out";
	case UPS_EUNSUPP: return "not supported";
	case UPS_ENOTFOUND: return "not found";
	}
	return "unknown error";
}

void ups_diag_set(struct ups_diag *d, const char *file, int line, int col,
		  const char *fmt, ...)
{
	if (!d)
		return;
	snprintf(d->file, sizeof d->file, "%s", file ? file : "");
	d->line = line;
	d->col = col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof d->msg, fmt, ap);
	va_end(ap);
}

const char *ups_diag_format(const struct ups_diag *d, char *buf, size_t len)
{
	if (!len)
		return buf;
	if (d->line > 0)
		snprintf(buf, len, "%s:%d:%d: %s", d->file, d->line,
			 d->col > 0 ? d->col : 1, d->msg);
	else
		snprintf(buf, len, "%s: %s", d->file, d->msg);
	return buf;
}
