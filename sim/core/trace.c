/*
 * trace.c - the trace format's reader and writer (trace.h, docs/trace.md).
 * The writer is the one every recorder uses, so what one program writes
 * another reads byte for byte; the reader is strict about the parts it
 * interprets (time, direction, quoting) and keeps any note text as it is,
 * so new kinds of notes never break old readers.
 */
#include "upssim/trace.h"

#include <stdio.h>
#include <string.h>

static const char hexdig[] = "0123456789ABCDEF";

const char *trace_dir_name(enum trace_dir d)
{
	switch (d) {
	case TRACE_RX: return "rx";
	case TRACE_TX: return "tx";
	default: return "note";
	}
}

size_t trace_escape(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t o = 0, need = 0;
	char tmp[5];
#define PUT(s, k) do { need += (k); \
	if (o + (k) < cap) { memcpy(out + o, (s), (k)); o += (k); } \
	else if (cap) cap = o + 1; /* full: nothing more goes in */ } while (0)
	PUT("\"", 1);
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (c == '\r')
			PUT("\\r", 2);
		else if (c == '\n')
			PUT("\\n", 2);
		else if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			PUT(tmp, 2);
		} else if (c < 0x20 || c >= 0x7F) {
			tmp[0] = '\\';
			tmp[1] = 'x';
			tmp[2] = hexdig[c >> 4];
			tmp[3] = hexdig[c & 15];
			PUT(tmp, 4);
		} else {
			tmp[0] = (char)c;
			PUT(tmp, 1);
		}
	}
	PUT("\"", 1);
#undef PUT
	if (cap)
		out[o] = '\0';
	return need;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

const char *trace_unescape(const char *s, size_t len, uint8_t *out, size_t cap,
			   size_t *n, size_t *used, size_t *col)
{
	size_t i = 1, k = 0;
	*n = 0;
	*used = 0;
	*col = 0;
	if (!len || s[0] != '"')
		return "expected a quoted string of bytes";
	for (;;) {
		if (i >= len) {
			*col = i;
			return "the quoted bytes do not end (no closing \")";
		}
		uint8_t c = (uint8_t)s[i];
		int b;
		if (c == '"') {
			i++;
			break;
		}
		if (c < 0x20 || c >= 0x7F) {
			*col = i;
			return "a byte outside printable ASCII in quotes (write it as \\xHH)";
		}
		if (c == '\\') {
			if (i + 1 >= len) {
				*col = i;
				return "a backslash ends the line";
			}
			char e = s[i + 1];
			switch (e) {
			case 'r': b = '\r'; i += 2; break;
			case 'n': b = '\n'; i += 2; break;
			case 't': b = '\t'; i += 2; break;
			case '0': b = 0; i += 2; break;
			case '"': b = '"'; i += 2; break;
			case '\\': b = '\\'; i += 2; break;
			case 'x': {
				int h = i + 2 < len ? hexval(s[i + 2]) : -1;
				int l = i + 3 < len ? hexval(s[i + 3]) : -1;
				if (h < 0 || l < 0) {
					*col = i;
					return "\\x needs two hex digits";
				}
				b = h * 16 + l;
				i += 4;
				break;
			}
			default:
				*col = i;
				return "unknown escape (use \\r \\n \\t \\0 \\\" \\\\ or \\xHH)";
			}
		} else {
			b = c;
			i++;
		}
		if (k >= cap) {
			*col = i;
			return "too many bytes on one line";
		}
		out[k++] = (uint8_t)b;
	}
	*n = k;
	*used = i;
	return NULL;
}

size_t trace_format_time(uint64_t t_ms, char *out, size_t cap)
{
	int r = snprintf(out, cap, "%llu.%03u",
			 (unsigned long long)(t_ms / 1000), (unsigned)(t_ms % 1000));
	return r < 0 ? 0 : (size_t)r;
}

size_t trace_format_bytes(char *out, size_t cap, uint64_t t_ms,
			  enum trace_dir dir, const uint8_t *p, size_t n,
			  const char *note)
{
	size_t o = trace_format_time(t_ms, out, cap);
	int r = snprintf(o < cap ? out + o : NULL, o < cap ? cap - o : 0, " %s ",
			 trace_dir_name(dir));
	o += r < 0 ? 0 : (size_t)r;
	o += trace_escape(p, n, o < cap ? out + o : NULL, o < cap ? cap - o : 0);
	r = snprintf(o < cap ? out + o : NULL, o < cap ? cap - o : 0, "%s%s\n",
		     note && *note ? " " : "", note ? note : "");
	o += r < 0 ? 0 : (size_t)r;
	return o;
}

size_t trace_format_note(char *out, size_t cap, uint64_t t_ms, const char *note)
{
	size_t o = trace_format_time(t_ms, out, cap);
	int r = snprintf(o < cap ? out + o : NULL, o < cap ? cap - o : 0, " %s\n",
			 note ? note : "");
	o += r < 0 ? 0 : (size_t)r;
	return o;
}

void trace_reader_init(struct trace_reader *r, const char *src,
		       const char *text, size_t len)
{
	if (!r)
		return;
	memset(r, 0, offsetof(struct trace_reader, buf));
	r->text = text;
	r->len = text ? len : 0;
	snprintf(r->src, sizeof r->src, "%s", src ? src : "<trace>");
	r->note[0] = '\0';
}

static int perr(struct trace_reader *r, struct ups_diag *d, size_t col,
		const char *msg)
{
	ups_diag_set(d, r->src, r->line, (int)col + 1, "%s", msg);
	return UPS_EPARSE;
}

/* "12.345" -> ms; @return chars used, 0 on error */
static size_t parse_time(const char *s, size_t len, uint64_t *t)
{
	size_t i = 0;
	uint64_t sec = 0, ms = 0;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (sec > 100000000000ull) /* > 3000 years: not a time */
			return 0;
		sec = sec * 10 + (uint64_t)(s[i] - '0');
		i++;
	}
	if (!i)
		return 0;
	if (i < len && s[i] == '.') {
		size_t j = i + 1, k = 0;
		while (j < len && s[j] >= '0' && s[j] <= '9') {
			if (k < 3)
				ms = ms * 10 + (uint64_t)(s[j] - '0');
			k++;
			j++;
		}
		if (!k || k > 9)
			return 0;
		for (; k < 3; k++)
			ms *= 10;
		i = j;
	}
	*t = sec * 1000 + ms;
	return i;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The first notes may say who recorded the trace and from which side. */
static int header(struct trace_reader *r, struct ups_diag *d, const char *s,
		  size_t len, size_t col)
{
	if (r->seen_bytes)
		return 0;
	if (len >= 11 && !memcmp(s, "upsharness ", 11)) {
		/* the harness's own first note: it records the host's side */
		r->host_side = true;
		return 0;
	}
	if (len < 8 || memcmp(s, "trace v", 7) != 0)
		return 0;
	unsigned v = 0;
	size_t i = 7;
	while (i < len && s[i] >= '0' && s[i] <= '9' && v < 1000)
		v = v * 10 + (unsigned)(s[i++] - '0');
	if (i == 7)
		return 0;
	if (v > TRACE_VERSION) {
		char msg[96];
		snprintf(msg, sizeof msg, "trace format version %u is newer than "
			 "this reader's (%d)", v, TRACE_VERSION);
		return perr(r, d, col, msg);
	}
	for (; i + 9 <= len; i++)
		if (!memcmp(s + i, "side=host", 9))
			r->host_side = true;
		else if (!memcmp(s + i, "side=ups", 8))
			r->host_side = false;
	return 0;
}

int trace_next(struct trace_reader *r, struct trace_event *ev,
	       struct ups_diag *d)
{
	if (!r || !ev)
		return UPS_EARG;
	for (;;) {
		if (r->pos >= r->len)
			return 0;
		const char *s = r->text + r->pos;
		size_t rest = r->len - r->pos;
		const char *nl = memchr(s, '\n', rest);
		size_t len = nl ? (size_t)(nl - s) : rest;
		r->pos += len + (nl ? 1 : 0);
		r->line++;
		if (len && s[len - 1] == '\r')
			len--;
		if (len > TRACE_LINE_MAX)
			return perr(r, d, TRACE_LINE_MAX, "line too long");
		size_t i = 0;
		while (i < len && is_space(s[i]))
			i++;
		if (i == len || s[i] == '#' ||
		    (len - i >= 8 && !memcmp(s + i, "upssim: ", 8)))
			continue;
		for (size_t j = i; j < len; j++)
			if ((uint8_t)s[j] < 0x20 && s[j] != '\t')
				return perr(r, d, j, "control character in a trace line");
		uint64_t t;
		size_t k = parse_time(s + i, len - i, &t);
		if (!k)
			return perr(r, d, i, "expected a time in seconds such as 12.345");
		i += k;
		if (i == len || !is_space(s[i]))
			return perr(r, d, i, "expected a space after the time");
		while (i < len && is_space(s[i]))
			i++;
		if (i == len)
			return perr(r, d, i, "expected rx, tx or a note after the time");
		if (r->seen_event && t < r->last_t)
			return perr(r, d, 0, "time goes backwards");
		memset(ev, 0, sizeof *ev);
		ev->t_ms = t;
		ev->line = r->line;
		bool rx = len - i >= 3 && !memcmp(s + i, "rx", 2) && is_space(s[i + 2]);
		bool tx = len - i >= 3 && !memcmp(s + i, "tx", 2) && is_space(s[i + 2]);
		if (rx || tx) {
			i += 2;
			while (i < len && is_space(s[i]))
				i++;
			size_t n, used, col;
			const char *e = trace_unescape(s + i, len - i, r->buf,
						       sizeof r->buf, &n, &used, &col);
			if (e)
				return perr(r, d, i + col, e);
			i += used;
			if (i < len && !is_space(s[i]))
				return perr(r, d, i, "expected a space or the end of the "
					    "line after the quoted bytes");
			while (i < len && is_space(s[i]))
				i++;
			size_t nl2 = len - i < sizeof r->note ? len - i : sizeof r->note - 1;
			memcpy(r->note, s + i, nl2);
			r->note[nl2] = '\0';
			ev->dir = (rx != r->host_side) ? TRACE_RX : TRACE_TX;
			ev->bytes = r->buf;
			ev->n = n;
			ev->note = r->note;
			r->seen_bytes = true;
		} else {
			int h = header(r, d, s + i, len - i, i);
			if (h < 0)
				return h;
			size_t nl2 = len - i < sizeof r->note ? len - i : sizeof r->note - 1;
			memcpy(r->note, s + i, nl2);
			r->note[nl2] = '\0';
			ev->dir = TRACE_NOTE;
			ev->note = r->note;
		}
		r->seen_event = true;
		r->last_t = t;
		return 1;
	}
}
