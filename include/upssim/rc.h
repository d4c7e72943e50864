/*
 * rc.h - the one set of return codes every upssim module uses, and the
 * caller-owned diagnostic that parsers fill so that every error a user sees
 * reads "file:line:col: message".  Modelled on libserialport's closed enum:
 * 0 is success, every failure is negative and has one documented meaning.
 */
#ifndef UPSSIM_RC_H
#define UPSSIM_RC_H

#include <stddef.h>

enum ups_rc {
	UPS_OK = 0,
	UPS_EARG = -1,        /**< caller bug: invalid argument */
	UPS_ESYS = -2,        /**< system call failed; errno is kept */
	UPS_ENOMEM = -3,      /**< out of memory */
	UPS_EPROTO = -4,      /**< protocol violation on the wire */
	UPS_EPARSE = -5,      /**< malformed input file (diagnostic filled) */
	UPS_ETIMEOUT = -6,    /**< a deadline passed */
	UPS_EUNSUPP = -7,     /**< not supported by this model/build */
	UPS_ENOTFOUND = -8,   /**< named thing (profile, file) does not exist */
};

/** @return a static, human-readable text for @p rc (never NULL). */
const char *ups_strerror(enum ups_rc rc);

/** Where and why a parse failed.  Filled by parsers, printed by main(). */
struct ups_diag {
	char file[256];
	int line;   /**< 1-based, 0 when unknown */
	int col;    /**< 1-based, 0 when unknown */
	char msg[256];
};

/**
 * Set @p d (may be NULL) to file:line:col: printf-style message.  The file
 * name and the message pass through ups_escape(), so a name or text with
 * control characters in it cannot reach the user's terminal raw.
 */
void ups_diag_set(struct ups_diag *d, const char *file, int line, int col,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/**
 * Copy @p in to @p out (capacity @p cap; NUL-terminated when @p cap > 0)
 * with every byte that could drive a terminal written as `\xNN`: control
 * characters 0x00-0x1F and 0x7F, UTF-8 encoded C1 controls (U+0080-U+009F)
 * and bytes that are not part of valid UTF-8.  Everything else, valid
 * UTF-8 included, is copied as it is, so escaping twice changes nothing.
 * Output that does not fit is cut before an escape, never inside one.
 * @return @p out
 */
const char *ups_escape(char *out, size_t cap, const char *in);

/** Format @p d as "file:line:col: msg" into @p buf. @return @p buf. */
const char *ups_diag_format(const struct ups_diag *d, char *buf, size_t len);

#endif
