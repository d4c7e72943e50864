/*
 * vt_fixture.h - one simulated unit under virtual time, for the model's
 * unit tests: advance time following every deadline as the engine does,
 * send bytes and read back exactly what the unit writes, and keep the
 * alerts that arrive between commands in a log (take()).
 */
#ifndef UPSSIM_VT_FIXTURE_H
#define UPSSIM_VT_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "upssim/profile.h"
#include "upssim/ups.h"

/* ------------------------------------------------------------------ */
/* fixture                                                              */

struct fx {
	struct ups_profile p;
	struct ups *u;
	struct ups_buf out;
	uint64_t t;
	char al[4096]; /* alerts collected by at() since the last take() */
	size_t nal;
};

static inline void collect(struct fx *f)
{
	for (size_t i = 0; i < f->out.len && f->nal + 1 < sizeof f->al; i++)
		f->al[f->nal++] = (char)f->out.data[i];
	f->al[f->nal] = '\0';
	f->out.len = 0;
}

/* Advance virtual time to t following every deadline, like the engine. */
static inline void at(struct fx *f, uint64_t t)
{
	for (int guard = 0; guard < 1000000; guard++) {
		uint64_t n = ups_next_deadline(f->u);
		if (n > t)
			break;
		ups_tick(f->u, n, &f->out);
		collect(f);
	}
	ups_tick(f->u, t, &f->out);
	collect(f);
	f->t = t;
}

static inline void adv(struct fx *f, uint64_t dt)
{
	at(f, f->t + dt);
}

/* Alerts collected so far (and forget them). */
static inline const char *take(struct fx *f)
{
	static char buf[4096];
	memcpy(buf, f->al, f->nal + 1);
	f->nal = 0;
	f->al[0] = '\0';
	return buf;
}

/* Send bytes at the current time; everything the unit writes back. */
static inline const char *send(struct fx *f, const char *bytes)
{
	static char buf[2048];
	f->out.len = 0;
	ups_feed(f->u, (const uint8_t *)bytes, strlen(bytes), f->t, &f->out);
	size_t n = f->out.len < sizeof buf - 1 ? f->out.len : sizeof buf - 1;
	memcpy(buf, f->out.data, n);
	buf[n] = '\0';
	f->out.len = 0;
	return buf;
}

/* Send, and return the reply with any leading alert bytes moved to the
 * alert log (alerts may legitimately precede a reply). */
static inline const char *ask(struct fx *f, const char *bytes)
{
	const char *r = send(f, bytes);
	while (*r && strchr("!$%+?=#|&*", *r) && r[1] != '\r') {
		if (f->nal + 1 < sizeof f->al) {
			f->al[f->nal++] = *r;
			f->al[f->nal] = '\0';
		}
		r++;
	}
	return r;
}

static inline struct fx *fx_new_p(const char *profile, void (*tweak)(struct ups_profile *))
{
	struct fx *f = calloc(1, sizeof *f);
	struct ups_diag d;
	assert_int_equal(prof_load(profile, &f->p, &d), UPS_OK);
	if (tweak)
		tweak(&f->p);
	f->u = ups_new(&f->p, 0);
	assert_non_null(f->u);
	return f;
}

static inline void fx_free(struct fx *f)
{
	ups_free(f->u);
	ups_buf_free(&f->out);
	free(f);
}

/* A unit of @p profile, 10 ms after power-on, in smart mode, alerts drained. */
static inline struct fx *smart_prof(const char *profile,
				    void (*tweak)(struct ups_profile *))
{
	struct fx *f = fx_new_p(profile, tweak);
	at(f, 10);
	assert_string_equal(take(f), "?"); /* power-on `?` (ULS p.24) */
	assert_string_equal(send(f, "Y"), "SM\r\n");
	return f;
}

#endif
