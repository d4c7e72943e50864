/*
 * target.c - where upsharness sends its bytes: a serial port through the
 * libserialport transport (--port), any tty through the project's plain
 * descriptor transport (--device; ptys included), or a simulator started
 * for the run (--sim: build's upssim next to upsharness, or $UPSSIM_BIN),
 * whose pty path is the first line it prints and which is ended by pid.
 * Also the safety policy each kind of target gets.
 */
#define _GNU_SOURCE /* pipe2 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "upssim/profile.h"

struct hrn_policy hrn_target_policy(const struct hrn_target *tg,
				    bool allow_destructive)
{
	struct hrn_policy p = { 0 };
	switch (tg->kind) {
	case HRN_T_SIM:
		p.allow_destructive = true; /* a simulator has no load */
		break;
	case HRN_T_PORT:
		p.allow_destructive = allow_destructive;
		p.documented_only = true;
		break;
	case HRN_T_DEVICE:
	case HRN_T_NONE:
		p.allow_destructive = allow_destructive;
		/* a tty that is not a pty may be a real unit's port */
		p.documented_only = !tg->spec || !transport_is_pty(tg->spec);
		break;
	}
	return p;
}

bool hrn_self_dir(char *out, size_t cap)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (cap)
		out[0] = '\0';
	if (n <= 0)
		return false;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (!slash)
		return false;
	*slash = '\0';
	if (snprintf(out, cap, "%s", self) >= (int)cap) {
		if (cap)
			out[0] = '\0';
		return false;
	}
	return true;
}

/** The upssim binary: $UPSSIM_BIN, else next to this executable. */
static void sim_binary(char *out, size_t cap)
{
	const char *env = getenv("UPSSIM_BIN");
	if (env && env[0]) {
		snprintf(out, cap, "%s", env);
		return;
	}
	char self[PATH_MAX];
	if (hrn_self_dir(self, sizeof self) &&
	    snprintf(out, cap, "%s/upssim", self) < (int)cap &&
	    access(out, X_OK) == 0)
		return;
	snprintf(out, cap, "upssim"); /* $PATH */
}

/** Is @p spec a scenario (a file with timeline/initial/end keys, or a
 *  name that is not a built-in profile)?  "profile:X" / "scenario:X"
 *  say it outright. */
static bool is_scenario(const char **spec)
{
	if (!strncmp(*spec, "profile:", 8)) {
		*spec += 8;
		return false;
	}
	if (!strncmp(*spec, "scenario:", 9)) {
		*spec += 9;
		return true;
	}
	for (size_t i = 0; i < prof_n_builtins; i++)
		if (!strcmp(prof_builtins[i].name, *spec))
			return false;
	FILE *f = fopen(*spec, "r");
	if (!f)
		return !strchr(*spec, '/') && !strstr(*spec, ".yaml") ?
		       true : false;
	char line[512];
	bool scen = false;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "timeline:", 9) || !strncmp(line, "initial:", 8) ||
		    !strncmp(line, "end:", 4))
			scen = true;
	fclose(f);
	return scen;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int start_sim(struct hrn_target *tg, char *err, size_t errlen)
{
	char bin[PATH_MAX];
	sim_binary(bin, sizeof bin);
	const char *spec = tg->spec;
	bool scen = is_scenario(&spec);
	const char *argv[48];
	int argc = 0;
	argv[argc++] = bin;
	argv[argc++] = scen ? "--scenario" : "--profile";
	argv[argc++] = spec;
	for (int i = 0; i < tg->n_sim_args && argc < 46; i++)
		argv[argc++] = tg->sim_args[i];
	argv[argc] = NULL;
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	int logfd = -1;
	if (tg->sim_log) {
		logfd = open(tg->sim_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			     0644);
		if (logfd < 0) {
			snprintf(err, errlen, "%s: %s", tg->sim_log, strerror(errno));
			close(pfd[0]);
			close(pfd[1]);
			return -1;
		}
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		if (logfd >= 0)
			close(logfd);
		return -1;
	}
	if (pid == 0) {
		/* its own process group: Ctrl-C at the terminal reaches the
		 * harness, which restores the EEPROM before ending it */
		setpgid(0, 0);
		/* and it ends with us even if we die without a word */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		dup2(pfd[1], 1);
		if (logfd >= 0)
			dup2(logfd, 2);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		execvp(bin, (char *const *)argv);
		fprintf(stderr, "upsharness: cannot run %s: %s\n", bin,
			strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	if (logfd >= 0)
		close(logfd);
	tg->sim_pid = pid;
	tg->sim_out = pfd[0];
	/* the first line upssim prints is the pty path */
	char line[256];
	size_t n = 0;
	uint64_t deadline = mono_ms() + 20000;
	while (n < sizeof line - 1) {
		uint64_t now = mono_ms();
		if (now >= deadline)
			break;
		struct pollfd p = { .fd = pfd[0], .events = POLLIN };
		int rc = poll(&p, 1, (int)(deadline - now));
		if (rc < 0 && errno == EINTR) {
			if (hrn_interrupted)
				break;
			continue;
		}
		if (rc <= 0)
			break;
		ssize_t k = read(pfd[0], line + n, 1);
		if (k <= 0)
			break;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = '\0';
	if (n == 0 || line[0] != '/') {
		int status = 0;
		hrn_target_close(tg);
		(void)status;
		snprintf(err, errlen, "%s --%s %s did not start (see its message "
			 "above%s%s)", bin, scen ? "scenario" : "profile", spec,
			 tg->sim_log ? ", or in " : "", tg->sim_log ? tg->sim_log : "");
		return -1;
	}
	int fl = fcntl(pfd[0], F_GETFL);
	if (fl >= 0)
		fcntl(pfd[0], F_SETFL, fl | O_NONBLOCK);
	snprintf(tg->path, sizeof tg->path, "%s", line);
	return 0;
}

int hrn_target_open(struct hrn_target *tg, char *err, size_t errlen)
{
	char e[400] = "";
	enum ups_rc rc;
	tg->sim_pid = -1;
	tg->sim_out = -1;
	switch (tg->kind) {
	case HRN_T_PORT:
		snprintf(tg->path, sizeof tg->path, "%s", tg->spec);
		snprintf(tg->desc, sizeof tg->desc, "--port %s", tg->spec);
		rc = transport_serial_open(tg->spec, 2400, &tg->t, e, sizeof e);
		break;
	case HRN_T_DEVICE:
		snprintf(tg->path, sizeof tg->path, "%s", tg->spec);
		snprintf(tg->desc, sizeof tg->desc, "--device %s", tg->spec);
		rc = transport_tty_open(tg->spec, 2400, &tg->t, e, sizeof e);
		break;
	case HRN_T_SIM:
		if (start_sim(tg, err, errlen) < 0)
			return -1;
		snprintf(tg->desc, sizeof tg->desc, "--sim %s (%s, pid %ld)",
			 tg->spec, tg->path, (long)tg->sim_pid);
		rc = transport_tty_open(tg->path, 2400, &tg->t, e, sizeof e);
		break;
	default:
		snprintf(err, errlen, "no target");
		return -1;
	}
	if (rc != UPS_OK) {
		snprintf(err, errlen, "%s", e[0] ? e : ups_strerror(rc));
		hrn_target_close(tg);
		return -1;
	}
	return 0;
}

void hrn_target_close(struct hrn_target *tg)
{
	transport_close(tg->t);
	tg->t = NULL;
	if (tg->sim_out >= 0) {
		close(tg->sim_out);
		tg->sim_out = -1;
	}
	if (tg->sim_pid > 0) {
		/* end it by its pid: SIGTERM, then SIGKILL after 5 s */
		kill(tg->sim_pid, SIGTERM);
		uint64_t deadline = mono_ms() + 5000;
		int status;
		pid_t w;
		while ((w = waitpid(tg->sim_pid, &status, WNOHANG)) == 0 &&
		       mono_ms() < deadline) {
			struct timespec ts = { 0, 10 * 1000000 };
			nanosleep(&ts, NULL);
		}
		if (w == 0) {
			kill(tg->sim_pid, SIGKILL);
			waitpid(tg->sim_pid, &status, 0);
		}
		tg->sim_pid = -1;
	}
}
