/*
 * prof_text.h - the profile loader's tests parse documents given as text:
 * parse() fills `prof` and `diag`; assert_parses() prints the diagnostic
 * of a document that should have loaded.  Include after cmocka.h.
 */
#ifndef UPSSIM_PROF_TEXT_H
#define UPSSIM_PROF_TEXT_H

#include <string.h>

#include "upssim/profile.h"

static struct ups_profile prof;
static struct ups_diag diag;

static enum ups_rc parse(const char *text)
{
	memset(&diag, 0, sizeof diag);
	return prof_parse("t", "t.yaml", text, strlen(text), &prof, &diag);
}

static void assert_parses(const char *text)
{
	enum ups_rc rc = parse(text);
	if (rc != UPS_OK) {
		char buf[600];
		print_error("unexpected: %s\n",
			    ups_diag_format(&diag, buf, sizeof buf));
	}
	assert_int_equal(rc, UPS_OK);
}

#endif
