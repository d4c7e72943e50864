/*
 * main.c - the upssim command: parse options, load the profile, open the
 * transport, print where hosts should connect, and run until a signal.
 * Only this file prints to the user or exits.
 */
#define _GNU_SOURCE /* pipe2 */
#include "upssim/cmdtab.h"
#include "upssim/control.h"
#include "upssim/engine.h"
#include "upssim/lint.h"
#include "upssim/nutdump.h"
#include "upssim/replay_run.h"
#include "upssim/trace.h"
#include "upssim/runner.h"
#include "upssim/scenario.h"
#include "upssim/statefile.h"
#include "upssim/timeline.h"
#include "upssim/evloop.h"
#include "upssim/profile.h"
#include "upssim/transport.h"
#include "upssim/ups.h"
#include "upssim/ups_state.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exit codes scripts can rely on (also in upssim(1)). */
enum {
	EXIT_OK_ = 0,
	EXIT_USAGE = 2,     /* bad command line */
	EXIT_PROFILE = 3,   /* input file (profile, scenario) missing or invalid */
	EXIT_DEVICE = 4,    /* cannot create or open the device */
	EXIT_RUNTIME = 5,   /* failure while running */
};

struct options {
	const char *profile;
	const char *link;
	const char *device;
	const char *owner;
	int mode;
	bool list;
	bool list_commands;
	bool measure_ups;
	bool realistic;
	int verbose;
	double speed;
	bool profile_set;
	const char *scenario;
	const char *control;
	const char *timeline;
	bool virt;
	const char *trace;       /* --trace FILE */
	const char *replay;      /* --replay TRACE */
	enum replay_mode replay_mode;
	bool no_lint;
	const char *import_dump;  /* --import-nut-dump FILE */
	const char *state;        /* --state FILE */
};

static const struct options defaults = {
	.profile = PROF_DEFAULT_NAME,
	.mode = 0600,
	.speed = 1.0,
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: upssim [OPTIONS]\n"
"Simulate an APC Smart-UPS speaking the UPS-Link (\"smart signaling\") serial\n"
"protocol on a pseudo-terminal, for testing NUT's apcsmart driver, apcupsd\n"
"or your own monitor without a UPS.\n"
"\n"
"When ready, the first line on stdout is the device path alone; then come a\n"
"NUT ups.conf stanza and apcupsd.conf lines to paste. Stop with Ctrl-C.\n"
"\n"
"Options:\n"
"  -p, --profile NAME|FILE  UPS model to simulate (default: %s);\n"
"                           a name from --list-profiles or a YAML file path\n"
"  -l, --link PATH          also make symlink PATH to the pty (removed on exit)\n"
"  -d, --device PATH        serve an existing tty instead of a new pty\n"
"                           (a serial port with a null-modem cable to a host)\n"
"  -o, --owner USER[:GROUP] give the pty to USER, e.g. 'nut' for NUT's driver\n"
"  -m, --mode OCTAL         permission bits of the pty, 0000-0777 (default 0600)\n"
"      --measure-ups        attach a Measure-UPS accessory (t h v i J [ ] { } I)\n"
"      --speed FACTOR       run the model FACTOR times faster than real time\n"
"                           (the wire's two-press gap and timeouts stay real)\n"
"      --realistic-timing   answer like real hardware: 60 ms before each reply,\n"
"                           then 2400 bit/s on the wire (a ^Z dump takes ~1 s)\n"
"  -s, --scenario FILE      play a scenario: the profile it names, an initial\n"
"                           state and a timeline of events (docs/scenarios.md)\n"
"      --virtual            with --scenario: run as fast as the CPU allows while\n"
"                           no host has the pty open, exit at the scenario's end\n"
"      --control PATH       UNIX socket (mode 0600) taking one event a line,\n"
"                           e.g. {line: off}, or 'status'\n"
"      --timeline FILE.csv  write a row per state change and host command\n"
"      --state FILE         keep what the unit keeps across a power cut (EEPROM,\n"
"                           c/x, packs, last test, self-test schedule) in FILE:\n"
"                           read at start, written at every change it acknowledges\n"
"  -L, --list-profiles      list the built-in profiles and exit\n"
"      --import-nut-dump FILE  write a profile (YAML, stdout) made from a NUT\n"
"                           device dump (upsc output, nut-ddl .dev) and exit\n"
"      --list-commands      print the command table (Markdown) with what the\n"
"                           selected profile answers, and exit\n"
"  -v, --verbose            trace every byte on stderr: \"<sec> rx|tx \\\"bytes\\\"\"\n"
"      --trace FILE         write the same trace to FILE (docs/trace.md)\n"
"      --replay TRACE       answer each command as the unit in TRACE did (by\n"
"                           command, not position); others from the profile\n"
"      --replay-mode sequence|latest  each command's replies in recorded\n"
"                           order (default), or always the last one\n"
"      --no-lint            do not report what the host does wrong (docs/lint.md)\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show the version and exit\n"
"\n"
"Examples:\n"
"  upssim                                  # Smart-UPS 1500, 120 V\n"
"  upssim --profile smart-ups-1000-230 --link /tmp/ups --owner nut\n"
"  upssim --profile ./my-ups.yaml -v 2>trace.log\n"
"  upssim --scenario scenarios/outage-low-battery.yaml --speed 60\n"
"  upssim --scenario flaky-day.yaml --virtual --timeline day.csv\n"
"  echo '{line: off}' | socat - UNIX-CONNECT:/tmp/ups.ctl\n"
"\n"
"Profiles are searched: built in, then $UPSSIM_PROFILE_PATH (colon list).\n"
"Scenarios are searched: the path, then $UPSSIM_SCENARIO_PATH and the\n"
"installed scenarios (NAME or NAME.yaml).\n"
"Exit status: 0 ok (or the scenario ended), 2 usage, 3 bad input file\n"
"(profile or scenario: file:line:col: message), 4 device error, 5 runtime error.\n",
		PROF_DEFAULT_NAME);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "profile", required_argument, 0, 'p' },
		{ "link", required_argument, 0, 'l' },
		{ "device", required_argument, 0, 'd' },
		{ "owner", required_argument, 0, 'o' },
		{ "mode", required_argument, 0, 'm' },
		{ "measure-ups", no_argument, 0, 'M' },
		{ "realistic-timing", no_argument, 0, 'T' },
		{ "speed", required_argument, 0, 'S' },
		{ "list-profiles", no_argument, 0, 'L' },
		{ "list-commands", no_argument, 0, 'C' },
		{ "verbose", no_argument, 0, 'v' },
		{ "scenario", required_argument, 0, 's' },
		{ "virtual", no_argument, 0, 'X' },
		{ "control", required_argument, 0, 'K' },
		{ "timeline", required_argument, 0, 'W' },
		{ "trace", required_argument, 0, 0x100 },
		{ "replay", required_argument, 0, 0x101 },
		{ "replay-mode", required_argument, 0, 0x102 },
		{ "no-lint", no_argument, 0, 0x103 },
		{ "import-nut-dump", required_argument, 0, 0x110 },
		{ "state", required_argument, 0, 0x111 },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "p:l:d:o:m:s:LvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->profile = optarg; o->profile_set = true; break;
		case 's': o->scenario = optarg; break;
		case 'X': o->virt = true; break;
		case 'K': o->control = optarg; break;
		case 'W': o->timeline = optarg; break;
		case 0x100: o->trace = optarg; break;
		case 0x101: o->replay = optarg; break;
		case 0x102:
			if (!strcmp(optarg, "sequence") || !strcmp(optarg, "latest")) {
				o->replay_mode = optarg[0] == 'l' ? REPLAY_LATEST :
								    REPLAY_SEQUENCE;
				break;
			}
			fprintf(stderr, "upssim: --replay-mode: '%s' is not sequence or latest\n", optarg);
			return EXIT_USAGE;
		case 0x103: o->no_lint = true; break;
		case 0x110: o->import_dump = optarg; break;
		case 0x111: o->state = optarg; break;
		case 'l': o->link = optarg; break;
		case 'd': o->device = optarg; break;
		case 'o': o->owner = optarg; break;
		case 'm':
			errno = 0;
			o->mode = (int)strtol(optarg, &end, 8);
			if (errno || *end || !optarg[0] || o->mode < 0 ||
			    o->mode > 07777) {
				fprintf(stderr, "upssim: --mode: '%s' is not an octal mode like 0660\n", optarg);
				return EXIT_USAGE;
			}
			/* permission bits only: setuid, setgid or sticky on a
			 * device node is never what a tester wants */
			if (o->mode > 0777) {
				fprintf(stderr, "upssim: --mode: '%s' sets setuid/setgid/sticky "
					"bits; give permission bits only (0000-0777)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'M': o->measure_ups = true; break;
		case 'T': o->realistic = true; break;
		case 'S':
			o->speed = strtod(optarg, &end);
			if (*end || !(o->speed > 0) || o->speed > 1e6) {
				fprintf(stderr, "upssim: --speed: '%s' is not a factor between 0 and 1000000\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'L': o->list = true; break;
		case 'C': o->list_commands = true; break;
		case 'v': o->verbose++; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("upssim %s\n", UPSSIM_VERSION); exit(0);
		default:
			fprintf(stderr, "Try 'upssim --help'.\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "upssim: unexpected argument '%s'\nTry 'upssim --help'.\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (o->virt && !o->scenario) {
		fprintf(stderr, "upssim: --virtual runs a scenario: give --scenario FILE\n");
		return EXIT_USAGE;
	}
	if (o->virt && o->speed != 1.0) {
		fprintf(stderr, "upssim: --virtual and --speed: choose one\n");
		return EXIT_USAGE;
	}
	if (o->device && (o->link || o->owner)) {
		fprintf(stderr, "upssim: --link and --owner apply to the pty; not with --device\n");
		return EXIT_USAGE;
	}
	return 0;
}

/* --import-nut-dump: read the dump (a regular file, as profiles are
 * read), write the profile nutdump_profile() makes of it to stdout. */
static int import_nut_dump(const char *path)
{
	const struct prof_resolver *r = prof_file_resolver();
	struct prof_text txt = { 0 };
	struct ups_diag d = { 0 };
	char spec[4096], msg[700];
	/* the resolver reads a spec with a '/' as a path, not a name */
	snprintf(spec, sizeof spec, "%s%s", strchr(path, '/') ? "" : "./", path);
	enum ups_rc rc = r->read(r->ctx, spec, NULL, &txt, &d);
	static struct nutdump dump;
	struct ups_buf yaml = { 0 };
	if (rc == UPS_ENOTFOUND && !d.msg[0])
		ups_diag_set(&d, path, 0, 0, "no such file");
	if (rc == UPS_OK) {
		rc = nutdump_parse(path, txt.text, txt.len, &dump, &d);
		if (r->release)
			r->release(r->ctx, &txt);
	}
	if (rc == UPS_OK)
		rc = nutdump_profile(&dump, path, &yaml);
	if (rc == UPS_ENOMEM) {
		fprintf(stderr, "upssim: out of memory\n");
		ups_buf_free(&yaml);
		return EXIT_RUNTIME;
	}
	if (rc != UPS_OK) {
		if (!d.msg[0])
			ups_diag_set(&d, path, 0, 0, "%s", ups_strerror(rc));
		fprintf(stderr, "upssim: %s\n", ups_diag_format(&d, msg, sizeof msg));
		return EXIT_PROFILE;
	}
	bool ok = fwrite(yaml.data, 1, yaml.len, stdout) == yaml.len &&
		  fflush(stdout) == 0;
	ups_buf_free(&yaml);
	if (!ok) {
		fprintf(stderr, "upssim: cannot write to standard output: %s\n",
			strerror(errno));
		return EXIT_RUNTIME;
	}
	return 0;
}

static int list_profiles(void)
{
	for (size_t i = 0; i < prof_n_builtins; i++) {
		struct ups_profile p;
		struct ups_diag d;
		char msg[600];
		if (prof_load(prof_builtins[i].name, &p, &d) != UPS_OK) {
			fprintf(stderr, "upssim: %s\n", ups_diag_format(&d, msg, sizeof msg));
			return EXIT_PROFILE;
		}
		printf("%-24s %s%s\n", p.name, p.description,
		       strcmp(p.name, PROF_DEFAULT_NAME) ? "" : " (default)");
	}
	return 0;
}

static void families_text(unsigned f, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *name; } fam[] = {
		{ UPS_FAM_OLD, "old" }, { UPS_FAM_SU2, "2G" }, { UPS_FAM_SU3, "3G" },
		{ UPS_FAM_MATRIX, "Matrix" }, { UPS_FAM_VS, "v/s" },
		{ UPS_FAM_BUP, "BUP" },
	};
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof fam / sizeof fam[0]; i++)
		if (f & fam[i].bit)
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s",
					      n ? " " : "", fam[i].name);
}

/* Markdown table cells cannot hold a bare `|`. */
static const char *md_cell(const char *in, char *buf, size_t len)
{
	size_t n = 0;
	for (; *in && n + 3 < len; in++) {
		if (*in == '|')
			buf[n++] = '\\';
		buf[n++] = *in;
	}
	buf[n] = '\0';
	return buf;
}

/* The command table as Markdown: docs/commands.md is this output. */
static void list_commands(const struct ups_profile *p)
{
	static const char *kinds[] = { "", "action", "query", "setting", "modifier" };
	printf("# UPS-Link command table\n\n"
	       "Generated by `upssim --list-commands --profile %s` from the command\n"
	       "table in sim/core/cmdtab.c; do not edit by hand.  %d spec actions.\n"
	       "Column `%s`: what this profile answers.\n\n",
	       p->name, cmd_count_actions(), p->name);
	printf("| byte | action | kind | reply | families | flags | %s | source |\n"
	       "|---|---|---|---|---|---|---|---|\n", p->name);
	for (int b = 0; b < 256; b++) {
		const struct cmd_def *r = cmd_lookup((uint8_t)b);
		if (!r)
			continue;
		char name[8], fams[64], ids[96], reply[64];
		cmd_byte_name((uint8_t)b, name);
		families_text(r->families, fams, sizeof fams);
		snprintf(ids, sizeof ids, "%s%s%s",
			 r->id ? r->id : (r->flags & CF_UNDOC) ? "(undocumented)" : "(modifier)",
			 r->id2 ? ", " : "", r->id2 ? r->id2 : "");
		printf("| `%s` | %s | %s | %s | %s | %s%s%s%s%s%s%s | %s | %s |\n",
		       name, ids, kinds[r->kind], md_cell(r->reply, reply, sizeof reply), fams,
		       (r->flags & CF_DESTRUCTIVE) ? "destructive " : "",
		       (r->flags & CF_TWO_PRESS) ? "two-press " : "",
		       (r->flags & CF_EDITABLE) ? "editable " : "",
		       (r->flags & CF_ENTRY) ? "entry " : "",
		       (r->flags & CF_INTERLOCK) ? "interlock " : "",
		       (r->flags & CF_MEASURE) ? "measure-ups " : "",
		       (r->flags & CF_UNDOC) ? "undocumented " : "",
		       prof_supports(p, (uint8_t)b) ? "yes" :
		       (p->unsupported_silent ? "silent" : "NA"), r->ref);
	}
}

static int resolve_owner(const char *spec, long *uid, long *gid)
{
	char user[128];
	snprintf(user, sizeof user, "%s", spec);
	char *group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	*uid = *gid = -1;
	if (user[0]) {
		struct passwd *pw = getpwnam(user);
		if (!pw) {
			fprintf(stderr, "upssim: --owner: no user '%s'\n", user);
			return -1;
		}
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	if (group && group[0]) {
		struct group *gr = getgrnam(group);
		if (!gr) {
			fprintf(stderr, "upssim: --owner: no group '%s'\n", group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/* @return 0, or -1 if stdout could not take the lines (a wrapper waiting
 * for the device path would wait forever: better to fail). */
static int print_ready(const struct transport *t, const struct ups_profile *p,
		       const struct options *o)
{
	const char *dev = t->link[0] ? t->link : t->path;
	printf("%s\n", dev);
	printf("# upssim %s: %s (profile %s) on %s\n", UPSSIM_VERSION,
	       p->description, p->name, t->path);
	printf("# --- NUT: add to ups.conf, then run the apcsmart driver ---\n");
	printf("[upssim]\n    driver = apcsmart\n    port = %s\n", dev);
	printf("    desc = \"upssim %s\"\n", p->name);
	if (!o->owner && !o->device)
		printf("    # the driver runs as user 'nut': start upssim with --owner nut,\n"
		       "    # or add: user = root\n");
	printf("# --- apcupsd: in apcupsd.conf ---\n");
	printf("UPSCABLE smart\nUPSTYPE apcsmart\nDEVICE %s\n", dev);
	if (fflush(stdout) != 0 || ferror(stdout))
		return -1;
	return 0;
}

/*
 * Descriptors 0-2 must be open before anything else is: with stdout or
 * stderr closed by the caller, the pty master would land on 1 or 2, and
 * the banner or the -v trace would be written into the device and read
 * back as commands.  Closed ones get /dev/null.
 */
static int safe_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int n = open("/dev/null", O_RDWR);
		if (n < 0)
			return -1;
		if (n != fd) { /* a lower one was closed too: fixed next */
			close(n);
			fd = -1;
		}
	}
	return 0;
}

static void block_signals(bool block, sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(block ? SIG_BLOCK : SIG_SETMASK, block ? &set : old,
		    block ? old : NULL);
}

static volatile sig_atomic_t got_signal;
static int sig_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;
	got_signal = sig;
	if (sig_pipe[1] >= 0 && write(sig_pipe[1], "x", 1) < 0) {
		/* nothing to do: the loop also checks got_signal */
	}
	errno = saved;
}

static void on_sig_pipe(struct evl *l, int fd, int mask, void *arg)
{
	(void)mask; (void)arg;
	char buf[16];
	while (read(fd, buf, sizeof buf) > 0) {
	}
	evl_stop(l);
}

/* ---- scenarios, control socket, timeline ---- */

/* Read and parse a scenario: a path, or NAME / NAME.yaml searched in
 * $UPSSIM_SCENARIO_PATH and the installed scenarios directory. */
static int load_scenario(const char *spec, struct scen *out)
{
	const struct prof_resolver *r = prof_file_resolver();
	struct prof_text txt = { 0 };
	struct ups_diag d = { 0 };
	char msg[700], path[4096];
	enum ups_rc rc = UPS_ENOTFOUND;
	bool named = !strchr(spec, '/');
	if (!named || access(spec, F_OK) == 0) {
		snprintf(path, sizeof path, "%s%s", strchr(spec, '/') ? "" : "./", spec);
		rc = r->read(r->ctx, path, NULL, &txt, &d);
	}
	const char *env = getenv("UPSSIM_SCENARIO_PATH");
	char dirs[4096];
	snprintf(dirs, sizeof dirs, "%s%s%s", env ? env : "", env ? ":" : "",
		 UPSSIM_SCENARIO_DIR);
	for (const char *p = dirs; named && rc == UPS_ENOTFOUND && *p;) {
		size_t n = strcspn(p, ":");
		size_t sl = strlen(spec);
		bool ext = sl > 5 && !strcmp(spec + sl - 5, ".yaml");
		if (n && (size_t)snprintf(path, sizeof path, "%.*s/%s%s", (int)n, p,
					  spec, ext ? "" : ".yaml") < sizeof path &&
		    access(path, F_OK) == 0)
			rc = r->read(r->ctx, path, NULL, &txt, &d);
		p += n + (p[n] == ':');
	}
	if (rc == UPS_ENOTFOUND && named && !d.msg[0])
		ups_diag_set(&d, spec, 0, 0, "no such scenario (a path, or a name "
			     "in $UPSSIM_SCENARIO_PATH or %s)", UPSSIM_SCENARIO_DIR);
	if (rc == UPS_OK) {
		rc = scen_parse(txt.source[0] ? txt.source : path, txt.text, txt.len,
				out, &d);
		if (r->release)
			r->release(r->ctx, &txt);
	}
	if (rc != UPS_OK) {
		fprintf(stderr, "upssim: %s\n", ups_diag_format(&d, msg, sizeof msg));
		return EXIT_PROFILE;
	}
	return 0;
}

/* ---- --state: what the unit keeps across a power cut ---- */

struct state_ctx {
	const char *path;
	int lock;          /* statefile_lock() descriptor */
	char *text;        /* the file read at start; NULL: none yet */
	size_t len;
	bool written;      /* written at least once */
	uint32_t saved;    /* ups_state_version() at the last write */
	bool failed;       /* a write failed: stop, the unit must not go on */
};

/* Lock, read and check the state file against the profile before the
 * device is made: a broken, foreign or other-profile file is reported
 * like a bad profile (exit 3), never replaced.  No file yet is fine. */
static int state_prepare(const char *path, const struct ups_profile *p,
			 struct state_ctx *st)
{
	char err[600], msg[700];
	struct ups_diag d = { 0 };
	st->path = path;
	enum ups_rc rc = statefile_lock(path, &st->lock, err, sizeof err);
	if (rc != UPS_OK) {
		fprintf(stderr, "upssim: --state %s: %s\n", path, err);
		return EXIT_PROFILE;
	}
	rc = statefile_read(path, UPS_STATE_MAX, &st->text, &st->len, &d);
	if (rc == UPS_ENOTFOUND)
		return 0; /* a new unit: written from the profile at start */
	if (rc == UPS_OK) {
		struct ups *probe = ups_new(p, 0);
		rc = probe ? ups_state_load(probe, path, st->text, st->len, &d) :
			     UPS_ENOMEM;
		ups_free(probe);
	}
	if (rc == UPS_ENOMEM) {
		fprintf(stderr, "upssim: out of memory\n");
		return EXIT_RUNTIME;
	}
	if (rc != UPS_OK) {
		fprintf(stderr, "upssim: %s\n", ups_diag_format(&d, msg, sizeof msg));
		return EXIT_PROFILE;
	}
	return 0;
}

/* Write the state when it changed (or at start and at exit: @p force).
 * Called after every piece of host input the unit took, before its reply
 * is written to the device: an acknowledged change is on disk first. */
static void state_save(struct state_ctx *st, const struct ups *u, bool force)
{
	if (!st->path || st->failed)
		return;
	uint32_t v = ups_state_version(u);
	if (!force && st->written && v == st->saved)
		return;
	char buf[UPS_STATE_MAX], err[600];
	size_t n = ups_state_save(u, buf, sizeof buf);
	if (n >= sizeof buf || statefile_write(st->path, buf, n, err,
					       sizeof err) != UPS_OK) {
		fprintf(stderr, "upssim: --state %s: %s\n", st->path,
			n >= sizeof buf ? "state too large" : err);
		st->failed = true;
		return;
	}
	st->written = true;
	st->saved = v;
}

struct app {
	struct evl *loop;
	struct engine *e;
	struct ups *u;
	struct runner *run;
	struct timeline *tl;
	struct ups_status last;
	bool have_last;
	bool tl_failed;
	struct state_ctx *state;   /* --state, or NULL */
};

static uint64_t app_time(const struct app *a)
{
	return a->run ? runner_time(a->run) : evl_now(a->loop);
}

/* Engine observer: a timeline row per host command, scenario event and
 * wire fault, and per state change otherwise. */
static void on_engine_event(void *ctx, const char *what)
{
	struct app *a = ctx;
	if (a->state) {
		state_save(a->state, a->u, false);
		if (a->state->failed)
			evl_stop(a->loop);
	}
	if (!a->tl || a->tl_failed)
		return;
	struct ups_status st;
	ups_get_status(a->u, evl_now(a->loop), &st);
	bool always = strncmp(what, "tick", 4) != 0;
	if (!always && a->have_last && !timeline_changed(&a->last, &st))
		return;
	if (timeline_row(a->tl, app_time(a), always ? what : "state", &st) != UPS_OK)
		a->tl_failed = true;
	a->last = st;
	a->have_last = true;
}

/* The timeline samples the unit every minute of its time, so charge and
 * runtime draw as curves between events (a row only when something
 * shows a change). */
#define TIMELINE_SAMPLE_MS 60000

static int64_t on_sample(struct evl *l, long long id, void *arg)
{
	struct app *a = arg;
	(void)l; (void)id;
	engine_poke(a->e);
	on_engine_event(a, "tick");
	return TIMELINE_SAMPLE_MS;
}

/* One control line: `status`, or one event as in a scenario timeline. */
static void on_control(void *ctx, const char *line, size_t len, char *reply,
		       size_t cap)
{
	struct app *a = ctx;
	while (len && (line[0] == ' ' || line[0] == '\t')) {
		line++;
		len--;
	}
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == 6 && !memcmp(line, "status", 6)) {
		struct ups_status st;
		ups_get_status(a->u, evl_now(a->loop), &st);
		control_format_status(&st, app_time(a), reply, cap);
		return;
	}
	struct scen_action act;
	struct ups_diag d = { 0 };
	if (scen_parse_line(line, len, &act, &d) != UPS_OK) {
		snprintf(reply, cap, "error: %d:%d: %s", d.line, d.col, d.msg);
		return;
	}
	switch (act.kind) {
	case SCEN_UNIT:
		if (engine_apply(a->e, &act.ev) != UPS_OK) {
			snprintf(reply, cap, "error: %s: value out of range",
				 ups_ev_name(act.ev.kind));
			return;
		}
		break;
	case SCEN_WIRE:
		engine_wire(a->e, &act.wire);
		break;
	case SCEN_END:
		snprintf(reply, cap, "error: end is for scenario files");
		return;
	}
	snprintf(reply, cap, "ok");
}

int main(int argc, char **argv)
{
	if (safe_std_fds() < 0)
		return EXIT_RUNTIME;
	struct options o = defaults;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	if (o.list)
		return list_profiles();
	if (o.import_dump)
		return import_nut_dump(o.import_dump);

	static struct scen scen;
	if (o.scenario && (rc = load_scenario(o.scenario, &scen)) != 0)
		return rc;
	if (o.scenario && !o.profile_set && scen.profile[0])
		o.profile = scen.profile;

	static struct ups_profile prof;
	struct ups_diag diag;
	char msg[700];
	if (prof_load(o.profile, &prof, &diag) != UPS_OK) {
		fprintf(stderr, "upssim: %s\n", ups_diag_format(&diag, msg, sizeof msg));
		scen_free(&scen);
		return EXIT_PROFILE;
	}
	if (o.scenario && scen.overlay &&
	    prof_overlay(&prof, scen.overlay, scen.overlay_len, scen.source,
			 &diag) != UPS_OK) {
		if (diag.line > 0 && scen.overlay_line > 0)
			diag.line += scen.overlay_line - 1;
		fprintf(stderr, "upssim: %s\n", ups_diag_format(&diag, msg, sizeof msg));
		scen_free(&scen);
		return EXIT_PROFILE;
	}
	if (o.measure_ups)
		prof_attach_measure_ups(&prof);
	if (o.realistic) {
		/* facts §0: 40-125 ms to the first byte on a real SU420 */
		if (!prof.reply_delay_ms)
			prof.reply_delay_ms = 60;
		prof.pace = true;
	}
	if (o.list_commands) {
		list_commands(&prof);
		return 0;
	}
	/* --replay: the recorded unit's answers, read before the device is
	 * made, so a bad trace is reported like a bad profile */
	struct replay *replay = NULL;
	if (o.replay) {
		struct codec_config cc = { .two_press_gap_ms = prof.two_press_gap_ms,
					   .entry_timeout_ms = prof.entry_timeout_ms };
		if (replay_load_file(o.replay, o.replay_mode, &cc, &replay,
				     &diag) != UPS_OK) {
			fprintf(stderr, "upssim: %s\n",
				diag.file[0] ? ups_diag_format(&diag, msg, sizeof msg) :
				"out of memory");
			scen_free(&scen);
			return EXIT_PROFILE;
		}
	}

	/* --state: locked and checked before the device is made */
	static struct state_ctx state = { .lock = -1 };
	if (o.state && (rc = state_prepare(o.state, &prof, &state)) != 0) {
		scen_free(&scen);
		statefile_unlock(state.lock);
		free(state.text);
		return rc;
	}

	/* Signals are caught from here on, and blocked while the device and
	 * its link are made: a SIGTERM in the first milliseconds ends the run
	 * through the normal exit path, which removes the link. */
	if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		fprintf(stderr, "upssim: pipe: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigset_t oldmask;
	block_signals(true, &oldmask);

	struct transport *t = NULL;
	char err[512] = "";
	if (o.device) {
		rc = transport_tty_open(o.device, 2400, &t, err, sizeof err);
	} else {
		struct pty_options po = { .link = o.link, .mode = o.mode,
					  .owner_uid = -1, .owner_gid = -1, .baud = 2400 };
		if (o.owner && resolve_owner(o.owner, &po.owner_uid, &po.owner_gid) < 0)
			return EXIT_USAGE;
		rc = transport_pty_open(&po, &t, err, sizeof err);
	}
	block_signals(false, &oldmask);
	if (rc != UPS_OK) {
		fprintf(stderr, "upssim: %s\n", err[0] ? err : ups_strerror(rc));
		return EXIT_DEVICE;
	}

	struct evl_clock clock;
	if (o.virt)
		evl_clock_virtual(&clock);
	else
		evl_clock_real(&clock, o.speed);
	struct evl *loop = evl_new(&clock);
	struct ups *u = ups_new(&prof, 0);
	struct ups_diag sdiag;
	if (u && state.text && ups_state_load(u, o.state, state.text, state.len,
					      &sdiag) != UPS_OK) {
		ups_free(u); /* NEVER: state_prepare() checked the same text */
		u = NULL;
	}
	struct engine *e = NULL;
	static struct app app;
	struct control *ctl = NULL;
	if (loop && u &&
	    evl_watch(loop, sig_pipe[0], EVL_READABLE, on_sig_pipe, NULL) == UPS_OK)
		e = engine_new(loop, t, u, o.verbose ? stderr : NULL);
	app = (struct app){ .loop = loop, .e = e, .u = u,
			    .state = o.state ? &state : NULL };
	rc = 0;
	if (e && o.timeline &&
	    timeline_open(o.timeline, &app.tl, err, sizeof err) != UPS_OK) {
		fprintf(stderr, "upssim: --timeline: %s\n", err);
		rc = EXIT_DEVICE;
	}
	if (e && !rc && o.control &&
	    control_open(loop, o.control, on_control, &app, &ctl, err,
			 sizeof err) != UPS_OK) {
		fprintf(stderr, "upssim: --control: %s\n", err);
		rc = EXIT_DEVICE;
	}
	FILE *tracef = NULL;
	struct replay_run *rrun = NULL;
	if (e && !rc && o.trace) {
		char head[600];
		tracef = fopen(o.trace, "w");
		if (!tracef) {
			fprintf(stderr, "upssim: --trace %s: %s\n", o.trace, strerror(errno));
			rc = EXIT_DEVICE;
		} else {
			snprintf(head, sizeof head, "trace v%d side=ups upssim %s profile %s",
				 TRACE_VERSION, UPSSIM_VERSION, prof.name);
			engine_set_trace_file(e, tracef, head);
		}
	}
	if (e && !rc && !o.no_lint && !engine_lint(e))
		rc = EXIT_RUNTIME;
	if (e && !rc && replay &&
	    replay_run_start(loop, e, u, replay, &rrun) != UPS_OK)
		rc = EXIT_RUNTIME;
	if (e && !rc) {
		engine_set_observer(e, on_engine_event, &app);
		on_engine_event(&app, "start"); /* writes --state first */
		if (state.failed)
			rc = EXIT_RUNTIME;
		if (app.tl && evl_add_timer(loop, TIMELINE_SAMPLE_MS, on_sample, &app) < 0)
			rc = EXIT_RUNTIME;
	}
	if (e && !rc && o.scenario &&
	    runner_start(loop, e, &scen, o.virt, &app.run, err, sizeof err) != UPS_OK) {
		fprintf(stderr, "upssim: %s: %s\n", scen.source, err);
		rc = EXIT_PROFILE;
	}
	if (rc) {
		/* reported above */
	} else if (!e) {
		fprintf(stderr, "upssim: out of memory\n");
		rc = EXIT_RUNTIME;
	} else if (!got_signal && print_ready(t, &prof, &o) < 0) {
		fprintf(stderr, "upssim: cannot write to standard output: %s\n",
			strerror(errno));
		rc = EXIT_RUNTIME;
	} else if (o.verbose) {
		fprintf(stderr, "upssim: serving %s on %s\n", prof.name, t->path);
	}

	while (!rc && !got_signal && !evl_stopped(loop)) {
		/* --virtual: time jumps while no host has the pty open, and
		 * runs with the wall clock while one has */
		if (o.virt)
			evl_set_flow(loop, engine_host_attached(e));
		if (evl_run_once(loop, -1) != UPS_OK) {
			fprintf(stderr, "upssim: event loop: %s\n", strerror(errno));
			rc = EXIT_RUNTIME;
		}
	}
	if (e && o.state) {
		/* at exit too: the time since the last self-test moved on */
		state_save(&state, u, true);
		if (state.failed && !rc)
			rc = EXIT_RUNTIME;
	}
	statefile_unlock(state.lock);
	free(state.text);
	if (!rc && app.tl_failed) {
		fprintf(stderr, "upssim: --timeline %s: write failed\n", o.timeline);
		rc = EXIT_RUNTIME;
	}
	if (app.run && runner_done(app.run) && o.verbose)
		fprintf(stderr, "upssim: the scenario ended at %.3f s\n",
			(double)runner_time(app.run) / 1000.0);
	const char *why;
	if (e && engine_lost(e, &why)) {
		fprintf(stderr, "upssim: lost the device %s: %s\n", t->path, why);
		rc = EXIT_RUNTIME;
	} else if (o.verbose) {
		fprintf(stderr, "upssim: stopping (signal %d)\n", (int)got_signal);
	}
	runner_free(app.run);
	control_close(ctl);
	if (rrun) { /* what the host asked that the trace did not have */
		char sum[4096];
		replay_run_summary(rrun, sum, sizeof sum);
		fprintf(stderr, "upssim: %s", sum);
		replay_run_free(rrun);
	}
	replay_free(replay);
	const struct lint *lint = e && !o.no_lint ? engine_lint(e) : NULL;
	if (lint && lint_total(lint)) {
		char sum[4096];
		lint_summary(lint, sum, sizeof sum);
		fprintf(stderr, "upssim: host lint: %u findings (docs/lint.md):\n%s",
			lint_total(lint), sum);
	}
	if (tracef && fclose(tracef) != 0 && !rc) {
		fprintf(stderr, "upssim: --trace %s: write failed\n", o.trace);
		rc = EXIT_RUNTIME;
	}
	if (app.tl && timeline_close(app.tl) != UPS_OK && !rc) {
		fprintf(stderr, "upssim: --timeline %s: write failed\n", o.timeline);
		rc = EXIT_RUNTIME;
	}
	engine_free(e);
	ups_free(u);
	scen_free(&scen);
	evl_free(loop);
	block_signals(true, &oldmask);
	transport_close(t); /* removes the --link symlink if still ours */
	block_signals(false, &oldmask);
	close(sig_pipe[0]);
	close(sig_pipe[1]);
	return rc;
}
