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

/** Length of the valid UTF-8 sequence at @p s that is not a C1 control, else 0. */
static size_t utf8_ok(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 :
		   c >= 0xF0 && c <= 0xF4 ? 4 : 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((c == 0xC2 && s[1] < 0xA0) ||        /* C1 controls */
	    (c == 0xE0 && s[1] < 0xA0) ||        /* overlong */
	    (c == 0xED && s[1] > 0x9F) ||        /* surrogates */
	    (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
		return 0;
	return n;
}

const char *ups_escape(char *out, size_t cap, const char *in)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)(in ? in : "");
	size_t o = 0;
	if (!cap)
		return out;
	while (*s) {
		size_t n = *s >= 0x20 && *s < 0x7F ? 1 : *s >= 0x80 ? utf8_ok(s) : 0;
		if (n) {
			if (o + n >= cap)
				break;
			memcpy(out + o, s, n);
			o += n;
			s += n;
			continue;
		}
		if (o + 4 >= cap)
			break;
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[*s >> 4];
		out[o++] = hex[*s & 15];
		s++;
	}
	out[o] = '\0';
	return out;
}

void ups_diag_set(struct ups_diag *d, const char *file, int line, int col,
		  const char *fmt, ...)
{
	if (!d)
		return;
	char msg[sizeof d->msg];
	ups_escape(d->file, sizeof d->file, file);
	d->line = line;
	d->col = col;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ups_escape(d->msg, sizeof d->msg, msg);
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
