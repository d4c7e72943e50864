/*
 * test_state.c - what a unit keeps across a power cut (sim/core/
 * ups_state.c) and the file behind --state (sim/io/statefile.c): a saved
 * state restores the EEPROM, c/x, alarm enable, packs, the last test
 * result and the self-test schedule into a new unit; the version counter
 * moves exactly when such a thing changes; every damaged, cut, foreign or
 * other-profile text is refused with file:line:col and leaves the unit as
 * it was; the file is replaced whole, locked, and read with checks.
 */
#include "vt_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "upssim/statefile.h"
#include "upssim/ups_state.h"

#define H (3600ull * 1000)

static char text[UPS_STATE_MAX];

static size_t save(struct fx *f)
{
	size_t n = ups_state_save(f->u, text, sizeof text);
	assert_true(n > 0 && n < sizeof text);
	assert_int_equal(strlen(text), n);
	return n;
}

/* CRC-32 as zlib computes it: to forge texts with a valid checksum */
static uint32_t crc32_of(const char *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		c ^= (uint8_t)p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return ~c;
}

/* @p body (everything before the checksum line) with a valid checksum. */
static const char *signed_text(const char *body)
{
	static char buf[UPS_STATE_MAX];
	snprintf(buf, sizeof buf, "%schecksum 0x%08X\n", body,
		 (unsigned)crc32_of(body, strlen(body)));
	return buf;
}

/* The saved text of @p f without its checksum line, with @p from
 * replaced by @p to (first match). */
static const char *edited_body(struct fx *f, const char *from, const char *to)
{
	static char buf[UPS_STATE_MAX];
	save(f);
	char *sum = strstr(text, "\nchecksum ");
	assert_non_null(sum);
	sum[1] = '\0';
	char *at = strstr(text, from);
	if (!at)
		fail_msg("no \"%s\" in:\n%s", from, text);
	snprintf(buf, sizeof buf, "%.*s%s%s", (int)(at - text), text, to,
		 at + strlen(from));
	return buf;
}

static enum ups_rc load(struct fx *f, const char *t, size_t n,
			struct ups_diag *d)
{
	memset(d, 0, sizeof *d);
	return ups_state_load(f->u, "unit.state", t, n, d);
}

/* Load @p t and expect it refused at @p line with @p words in the
 * message, the unit unchanged. */
static void refused(struct fx *f, const char *t, int line, const char *words)
{
	struct ups_diag d;
	char before[UPS_STATE_MAX];
	ups_state_save(f->u, before, sizeof before);
	assert_int_equal(load(f, t, strlen(t), &d), UPS_EPARSE);
	if (line >= 0)
		assert_int_equal(d.line, line);
	assert_string_equal(d.file, "unit.state");
	if (!strstr(d.msg, words))
		fail_msg("message \"%s\" lacks \"%s\"", d.msg, words);
	char after[UPS_STATE_MAX];
	ups_state_save(f->u, after, sizeof after);
	assert_string_equal(before, after);
}

static void entry(struct fx *f, char cmd, const char *text8)
{
	char c[2] = { cmd, 0 };
	ask(f, c);
	assert_string_equal(send(f, "-"), "");
	assert_string_equal(send(f, text8), "OK\r\n");
}

/* ---- round trip ---- */

static void test_round_trip(void **state)
{
	(void)state;
	struct fx *a = smart_prof(PROF_DEFAULT_NAME, NULL);
	assert_string_equal(ask(a, "-"), "NA\r\n"); /* nothing to edit */
	ask(a, "u");
	assert_string_equal(ask(a, "-"), "OK\r\n");  /* 132 -> 135 */
	ask(a, "E");
	assert_string_equal(ask(a, "-"), "OK\r\n");  /* 336 -> 168 */
	ask(a, "q");
	ask(a, "-");
	ask(a, "-");                                  /* 02 -> 07 */
	entry(a, 'c', "SRV1\r\r\r\r");
	entry(a, 'x', "11/6/03\r");
	struct ups_event ev = { .kind = UPS_EV_PACKS, .ivalue = 4 };
	assert_int_equal(ups_apply(a->u, &ev, a->t, &a->out), UPS_OK);
	/* a self-test: its result and the time since it are kept */
	assert_string_equal(ask(a, "W"), "OK\r\n");
	adv(a, 9000);
	assert_string_equal(ask(a, "X"), "OK\r\n");
	adv(a, 60000);                                 /* 1 min later */
	size_t n = save(a);
	assert_non_null(strstr(text, "profile \"smart-ups-1500\"\n"));
	assert_non_null(strstr(text, "eeprom u \"135\"\n"));
	assert_non_null(strstr(text, "eeprom E \"168\"\n"));
	assert_non_null(strstr(text, "ups_id \"SRV1\"\n"));
	assert_non_null(strstr(text, "battery_date \"11/6/03\"\n"));
	assert_non_null(strstr(text, "packs 4\n"));
	assert_non_null(strstr(text, "test_result \"OK\" 61000\n"));
	assert_non_null(strstr(text, "since_test_ms 61000\n"));

	/* a new unit of the profile: a power cut later */
	struct fx *b = smart_prof(PROF_DEFAULT_NAME, NULL);
	struct ups_diag d;
	assert_int_equal(load(b, text, n, &d), UPS_OK);
	assert_string_equal(ask(b, "u"), "135\r\n");
	assert_string_equal(ask(b, "E"), "168\r\n");
	assert_string_equal(ask(b, "q"), "07\r\n");
	assert_string_equal(ask(b, "c"), "SRV1\r\n");
	assert_string_equal(ask(b, "x"), "11/6/03\r\n");
	assert_string_equal(ask(b, "l"), "103\r\n");  /* untouched */
	/* the result is still fresh: 61 s of its 5 minutes are gone */
	assert_string_equal(ask(b, "X"), "OK\r\n");
	adv(b, 300000 - 61000 - 1000);
	assert_string_equal(ask(b, "X"), "OK\r\n");
	adv(b, 2000);
	assert_string_equal(ask(b, "X"), "NO\r\n");
	/* d: hours since the test, counting the restored minute */
	assert_string_equal(ask(b, "d"), "000.1\r\n");
	/* E 168: the next automatic test 168 h after the last one */
	uint64_t due = 10 + 168 * H - 61000;
	assert_true(ups_next_deadline(b->u) <= due);
	adv(b, due - b->t - 1000);
	assert_string_equal(ask(b, "Q"), "08\r\n");
	adv(b, 2000);
	assert_string_equal(ask(b, "Q"), "10\r\n");   /* on battery: testing */
	/* saving the restored unit gives back the same items */
	save(b);
	assert_non_null(strstr(text, "eeprom u \"135\"\n"));
	assert_non_null(strstr(text, "packs 4\n"));
	fx_free(a);
	fx_free(b);
}

static void test_restore_replace_and_schedule_overdue(void **state)
{
	(void)state;
	struct fx *a = smart_prof(PROF_DEFAULT_NAME, NULL);
	ask(a, "E");
	ask(a, "-");
	ask(a, "-");
	assert_string_equal(ask(a, "-"), "OK\r\n");  /* E: OFF */
	ups_set_battery_health(a->u, false, a->t);
	assert_string_equal(ask(a, "W"), "OK\r\n");
	adv(a, 9000);
	take(a);
	assert_string_equal(ask(a, "X"), "BT\r\n");
	adv(a, 400 * H);                      /* no automatic test: OFF */
	take(a);
	size_t n = save(a);
	assert_non_null(strstr(text, "replace_battery 1\n"));
	assert_non_null(strstr(text, "since_test_ms 1440001000\n"));
	struct fx *b = smart_prof(PROF_DEFAULT_NAME, NULL);
	struct ups_diag d;
	assert_int_equal(load(b, text, n, &d), UPS_OK);
	/* Q bit 7 kept */
	assert_string_equal(ask(b, "Q"), "88\r\n");
	assert_string_equal(ask(b, "E"), "OFF\r\n");
	/* E back to 336: the last test was 400 h ago, so one starts now */
	assert_string_equal(ask(b, "-"), "OK\r\n");
	assert_string_equal(ask(b, "Q"), "90\r\n");
	fx_free(a);
	fx_free(b);
}

/* ---- the version counter ---- */

static void test_version_counter(void **state)
{
	(void)state;
	struct fx *f = smart_prof(PROF_DEFAULT_NAME, NULL);
	uint32_t v = ups_state_version(f->u);
	ask(f, "u");
	ask(f, "Q");
	ask(f, "c");
	adv(f, 60000);
	assert_int_equal(ups_state_version(f->u), v); /* queries, time */
	ask(f, "u");
	ask(f, "-");
	assert_int_equal(ups_state_version(f->u), v + 1);
	entry(f, 'c', "ID\r\r\r\r\r\r");
	assert_int_equal(ups_state_version(f->u), v + 2);
	assert_string_equal(ask(f, "z"), "CLEAR\r\n");
	assert_int_equal(ups_state_version(f->u), v + 3);
	/* a refused edit (DIP switch off) changes nothing */
	struct ups_event dip = { .kind = UPS_EV_DIP, .ivalue = 1 };
	ups_apply(f->u, &dip, f->t, &f->out);
	v = ups_state_version(f->u);
	ask(f, "u");
	assert_string_equal(ask(f, "-"), "NO\r\n");
	assert_int_equal(ups_state_version(f->u), v);
	/* a self-test result */
	dip.ivalue = 0;
	ups_apply(f->u, &dip, f->t, &f->out);
	ask(f, "W");
	adv(f, 9000);
	assert_int_equal(ups_state_version(f->u), v + 1);
	fx_free(f);
}

/* ---- refusals ---- */

static void test_damage_is_refused(void **state)
{
	(void)state;
	struct fx *a = smart_prof(PROF_DEFAULT_NAME, NULL);
	ask(a, "u");
	ask(a, "-");
	size_t n = save(a);
	char good[UPS_STATE_MAX];
	memcpy(good, text, n + 1);
	struct fx *b = smart_prof(PROF_DEFAULT_NAME, NULL);
	struct ups_diag d;
	char before[UPS_STATE_MAX], after[UPS_STATE_MAX];
	ups_state_save(b->u, before, sizeof before);
	/* every byte changed, one at a time: refused (XOR 1 never turns a
	 * hex digit into the same digit in the other case) */
	for (size_t i = 0; i < n; i++) {
		char t[UPS_STATE_MAX];
		memcpy(t, good, n);
		t[i] ^= 0x01;
		if (load(b, t, n, &d) != UPS_EPARSE)
			fail_msg("byte %zu changed: accepted", i);
		assert_true(d.msg[0] != '\0');
	}
	/* every cut: refused, but for the final newline alone */
	for (size_t k = 0; k + 1 < n; k++)
		if (load(b, good, k, &d) != UPS_EPARSE)
			fail_msg("cut to %zu bytes: accepted", k);
	ups_state_save(b->u, after, sizeof after);
	assert_string_equal(before, after);
	assert_int_equal(load(b, good, n - 1, &d), UPS_OK);
	assert_string_equal(ask(b, "u"), "135\r\n");
	fx_free(a);
	fx_free(b);
}

static void test_messages(void **state)
{
	(void)state;
	struct fx *f = smart_prof(PROF_DEFAULT_NAME, NULL);
	refused(f, "", 0, "empty");
	refused(f, "hello\n", 1, "not an upssim state file");
	refused(f, "upssim-state 2\n", 1, "state format 2");
	refused(f, "upssim-state 1\nprofile \"x\"\n", 3, "no checksum line");
	char bad[200];
	snprintf(bad, sizeof bad, "upssim-state 1\nchecksum 0x12345678\n");
	refused(f, bad, 2, "checksum mismatch");
	refused(f, signed_text("upssim-state 1\n"), 2, "profile: missing");
	/* valid checksums, wrong content */
	refused(f, signed_text(edited_body(f, "eeprom u \"132\"", "eeprom u \"999\"")),
		-1, "eeprom u: not one of the values");
	refused(f, signed_text(edited_body(f, "eeprom u \"132\"\n", "")),
		-1, "eeprom u: missing");
	refused(f, signed_text(edited_body(f, "eeprom u", "eeprom ^V")),
		-1, "has no list for this command");
	refused(f, signed_text(edited_body(f, "packs 0\n", "packs 0\npacks 1\n")),
		-1, "packs: given twice");
	refused(f, signed_text(edited_body(f, "packs 0", "packs 1000")),
		-1, "packs: out of range");
	refused(f, signed_text(edited_body(f, "ups_id \"UPS_IDEN\"", "ups_id \"A$\"")),
		-1, "ups_id: a character the unit does not store");
	refused(f, signed_text(edited_body(f, "ups_id \"UPS_IDEN\"", "ups_id \"123456789\"")),
		-1, "ups_id: longer than 8");
	refused(f, signed_text(edited_body(f, "packs 0", "colour blue")),
		-1, "unknown item");
	refused(f, signed_text(edited_body(f, "test_result none", "test_result \"XX\" 1")),
		-1, "expected OK, BT or NG");
	/* the position points at the value: line 4 col 9 */
	struct ups_diag d;
	const char *t = signed_text(edited_body(f, "profile \"smart-ups-1500\"",
						"profile \"smart-ups-400\""));
	assert_int_equal(load(f, t, strlen(t), &d), UPS_EPARSE);
	assert_int_equal(d.line, 4);
	assert_int_equal(d.col, 9);
	/* comments are allowed (and covered by the checksum) */
	t = signed_text(edited_body(f, "packs 0\n", "packs 0\n# hand-made\n\n"));
	assert_int_equal(load(f, t, strlen(t), &d), UPS_OK);
	fx_free(f);
}

static void test_other_profile(void **state)
{
	(void)state;
	struct fx *a = smart_prof(PROF_DEFAULT_NAME, NULL);
	size_t n = save(a);
	struct fx *b = smart_prof("smart-ups-1000-230", NULL);
	struct ups_diag d;
	assert_int_equal(load(b, text, n, &d), UPS_EPARSE);
	assert_int_equal(d.line, 4);
	assert_non_null(strstr(d.msg, "another profile"));
	assert_non_null(strstr(d.msg, "smart-ups-1000-230"));
	/* the message never quotes the file */
	assert_null(strstr(d.msg, "smart-ups-1500"));
	fx_free(a);
	fx_free(b);
}

/* ---- the file ---- */

static char dir[64];

static const char *in_dir(const char *name)
{
	static char p[4][128];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

static void test_statefile(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_state.XXXXXX");
	assert_non_null(mkdtemp(dir));
	const char *path = in_dir("unit.state");
	char err[256], *t = NULL;
	size_t len;
	struct ups_diag d;
	assert_int_equal(statefile_read(path, 100, &t, &len, &d), UPS_ENOTFOUND);
	assert_int_equal(statefile_write(path, "one\n", 4, err, sizeof err), UPS_OK);
	assert_int_equal(statefile_write(path, "two!\n", 5, err, sizeof err), UPS_OK);
	assert_int_equal(statefile_read(path, 100, &t, &len, &d), UPS_OK);
	assert_int_equal(len, 5);
	assert_string_equal(t, "two!\n");
	free(t);
	assert_int_equal(access(in_dir("unit.state.tmp"), F_OK), -1);
	/* a leftover temp file of a killed writer is simply replaced */
	int fd = open(in_dir("unit.state.tmp"), O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "garbage", 7), 7);
	close(fd);
	assert_int_equal(statefile_write(path, "three\n", 6, err, sizeof err), UPS_OK);
	assert_int_equal(statefile_read(path, 100, &t, &len, &d), UPS_OK);
	assert_string_equal(t, "three\n");
	free(t);
	/* too large, not a regular file */
	assert_int_equal(statefile_read(path, 3, &t, &len, &d), UPS_EPARSE);
	assert_non_null(strstr(d.msg, "larger than"));
	assert_int_equal(statefile_read(dir, 100, &t, &len, &d), UPS_EPARSE);
	assert_null(t);
	/* one upssim per state file */
	int l1, l2;
	assert_int_equal(statefile_lock(path, &l1, err, sizeof err), UPS_OK);
	assert_int_equal(statefile_lock(path, &l2, err, sizeof err), UPS_EUNSUPP);
	assert_non_null(strstr(err, "in use"));
	statefile_unlock(l1);
	assert_int_equal(statefile_lock(path, &l2, err, sizeof err), UPS_OK);
	statefile_unlock(l2);
	assert_int_equal(statefile_lock(dir, &l2, err, sizeof err), UPS_EARG);
	/* a write into a directory that is gone fails, and says so */
	assert_int_equal(statefile_write("/nonexistent-dir/x.state", "x", 1, err,
					 sizeof err), UPS_ESYS);
	assert_non_null(strstr(err, "x.state.tmp"));
	unlink(in_dir("unit.state"));
	unlink(in_dir("unit.state.lock"));
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_restore_replace_and_schedule_overdue),
		cmocka_unit_test(test_version_counter),
		cmocka_unit_test(test_damage_is_refused),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_other_profile),
		cmocka_unit_test(test_statefile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
