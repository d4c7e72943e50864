/*
 * replay_run.c - `upssim --replay TRACE` on an engine (replay_run.h).  The
 * map answers; this file owns the parts that need the loop and the file
 * system: reading the trace, the recorded alerts' timer, the notes.
 */
#include "upssim/replay_run.h"

#include "upssim/readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A trace file this large is not one a host session makes (a day of NUT
 * polling is ~40 MB): refuse rather than fill memory. */
#define TRACE_FILE_MAX (256u * 1024u * 1024u)

struct replay_run {
	struct evl *l;
	struct engine *e;
	struct ups *u;
	struct replay *rp;
	bool started;
	uint64_t t0;        /* model time of the host's first command */
	size_t next;        /* next recorded alert to send */
	long long timer;
};

enum ups_rc replay_load_file(const char *path, enum replay_mode mode,
			     const struct codec_config *cc, struct replay **out,
			     struct ups_diag *d)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		int e = fd < 0 ? errno : EINVAL;
		if (fd >= 0)
			close(fd);
		ups_diag_set(d, path, 0, 0, "cannot read the trace: %s",
			     e == EINVAL ? "not a regular file" : strerror(e));
		return e == ENOENT ? UPS_ENOTFOUND : UPS_ESYS;
	}
	char *text;
	size_t len;
	int err = ups_read_fd(fd, TRACE_FILE_MAX, (size_t)st.st_size, &text,
			      &len);
	close(fd);
	if (err == ENOMEM)
		return UPS_ENOMEM;
	if (err == EFBIG) {
		ups_diag_set(d, path, 0, 0, "the trace is larger than %u MiB",
			     TRACE_FILE_MAX >> 20);
		return UPS_EPARSE;
	}
	if (err) {
		ups_diag_set(d, path, 0, 0, "cannot read the trace: %s",
			     strerror(err));
		return UPS_ESYS;
	}
	struct replay *rp = replay_new(mode, cc);
	enum ups_rc rc = rp ? replay_add_trace(rp, path, text, len, d) : UPS_ENOMEM;
	free(text);
	if (rc != UPS_OK) {
		replay_free(rp);
		return rc;
	}
	*out = rp;
	return UPS_OK;
}

static int64_t on_alert(struct evl *l, long long id, void *arg);

static void arm(struct replay_run *rr)
{
	size_t n;
	const struct replay_alert *a = replay_alerts(rr->rp, &n);
	if (rr->next >= n)
		return;
	rr->timer = evl_add_timer(rr->l, evl_until(rr->l, rr->t0 + a[rr->next].t_ms),
				  on_alert, rr);
	if (rr->timer < 0)
		rr->timer = 0;
}

static int64_t on_alert(struct evl *l, long long id, void *arg)
{
	struct replay_run *rr = arg;
	(void)id;
	size_t n;
	const struct replay_alert *a = replay_alerts(rr->rp, &n);
	uint64_t now = evl_now(l);
	while (rr->next < n && rr->t0 + a[rr->next].t_ms <= now) {
		engine_send(rr->e, &a[rr->next].byte, 1);
		rr->next++;
	}
	rr->timer = 0;
	if (rr->next >= n)
		return EVL_NOMORE;
	rr->timer = id;
	return evl_until(l, rr->t0 + a[rr->next].t_ms);
}

static bool hook(void *ctx, const struct codec_event *ev, uint64_t now,
		 uint8_t *reply, size_t cap, size_t *len, bool *present)
{
	struct replay_run *rr = ctx;
	if (!rr->started) {
		rr->started = true;
		rr->t0 = now;
		arm(rr);
	}
	bool answered = replay_hook(rr->rp, ev, now, reply, cap, len, present);
	struct replay_key k;
	if (replay_take_miss(rr->rp, &k)) {
		char name[64], note[96];
		replay_key_name(&k, name, sizeof name);
		snprintf(note, sizeof note, "replay-miss %s", name);
		engine_note(rr->e, note);
	}
	return answered;
}

enum ups_rc replay_run_start(struct evl *l, struct engine *e, struct ups *u,
			     struct replay *rp, struct replay_run **out)
{
	struct replay_run *rr = calloc(1, sizeof *rr);
	*out = rr;
	if (!rr)
		return UPS_ENOMEM;
	rr->l = l;
	rr->e = e;
	rr->u = u;
	rr->rp = rp;
	ups_mute_alerts(u, true);
	ups_set_reply_hook(u, hook, rr);
	return UPS_OK;
}

void replay_run_free(struct replay_run *rr)
{
	if (!rr)
		return;
	ups_set_reply_hook(rr->u, NULL, NULL);
	ups_mute_alerts(rr->u, false);
	if (rr->timer)
		evl_del_timer(rr->l, rr->timer);
	free(rr);
}

size_t replay_run_summary(const struct replay_run *rr, char *buf, size_t cap)
{
	size_t o = 0;
	int k;
#define OUT(...) do { k = snprintf(o < cap ? buf + o : NULL, \
	o < cap ? cap - o : 0, __VA_ARGS__); o += k < 0 ? 0 : (size_t)k; } while (0)
	if (cap)
		buf[0] = '\0';
	size_t nm = replay_misses(rr->rp);
	OUT("replay: %zu commands with %zu replies in the trace; ",
	    replay_n_commands(rr->rp), replay_n_replies(rr->rp));
	if (!nm)
		OUT("every command the host sent was in it\n");
	else
		OUT("%zu the host sent were not, and the profile answered them:", nm);
	for (size_t i = 0; i < nm; i++) {
		unsigned count;
		char name[64];
		const struct replay_key *kk = replay_miss(rr->rp, i, &count);
		OUT(" %s (x%u)%s", replay_key_name(kk, name, sizeof name), count,
		    i + 1 < nm ? "," : "\n");
	}
#undef OUT
	return o;
}
