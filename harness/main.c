/*
 * main.c - upsharness: runs UPS-Link test scripts (docs/harness.md)
 * against a serial port, a tty or a simulator it starts, checks the
 * conformance suite, and records a unit's answers.  main() reads like a
 * table of contents: options, scripts, safety check, target, run,
 * restore, reports, exit status.  Only this file prints usage and exits.
 */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "upssim/readfile.h"
#include "upssim/scenario.h"

#ifndef UPSHARNESS_SUITE_DIR
#define UPSHARNESS_SUITE_DIR "/usr/local/share/upssim/scenarios/conformance"
#endif
#ifndef UPSHARNESS_SOURCE_SUITE
#define UPSHARNESS_SOURCE_SUITE ""
#endif

#define MAX_SCRIPTS 256

struct cli {
	enum { CMD_NONE, CMD_RUN, CMD_CONFORM, CMD_RECORD, CMD_PROXY, CMD_CLONE } cmd;
	const char *link;
	struct hrn_options o;
	struct hrn_target tg;
	const char *files[MAX_SCRIPTS];
	int n_files;
	const char *suite_dir;
	bool list_ports;
};

/* what main_run loaded, freed by main on every way out */
static struct hrn_script *scripts[MAX_SCRIPTS];
static int n_scripts;
static char **suite;
static int n_suite;

static struct cli cli = {
	.o = { .latency_ms = -1 },
	.tg = { .sim_pid = -1, .sim_out = -1 },
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: upsharness run SCRIPT... TARGET [OPTIONS]\n"
"       upsharness conform TARGET [OPTIONS]\n"
"       upsharness record SCRIPT TARGET [-o FILE] [OPTIONS]\n"
"       upsharness proxy TARGET --link PATH [--trace FILE]\n"
"       upsharness clone TARGET [--trace FILE] > unit.yaml\n"
"       upsharness --list-ports | --help | --version\n"
"\n"
"Send UPS-Link (APC \"smart signaling\") bytes to a unit and check its\n"
"replies against YAML test scripts: named cases of steps (send bytes,\n"
"expect a reply, a regex, one of several, silence, an alert; wait;\n"
"capture a value and compare it later).  The format is in docs/harness.md.\n"
"\n"
"Commands:\n"
"  run SCRIPT...    run the scripts' cases; report pass, fail or skip\n"
"  conform          detect the model (Y ^A b V a ^Z), print it, and run the\n"
"                   shipped conformance suite's cases that apply to it\n"
"  record SCRIPT    run SCRIPT against a unit you trust and write it back\n"
"                   with the observed replies as exact expectations\n"
"  proxy            make a pty for a host (--link PATH) and forward its\n"
"                   bytes to TARGET and back, writing both ways to --trace\n"
"                   (docs/trace.md, rx = host to UPS); ends on SIGTERM\n"
"  clone            read the unit with safe, documented queries only (never\n"
"                   -, an entry or a destructive byte) and write a profile\n"
"                   YAML that upssim --profile serves on stdout\n"
"\n"
"Targets (exactly one):\n"
"  --port PORT          a serial port through libserialport, 2400 8N1, no\n"
"                       flow control (ptys cannot be opened this way)\n"
"  --device PATH        any tty through a plain descriptor: ptys, or ports\n"
"                       libserialport does not handle\n"
"  --sim PROFILE|SCENARIO\n"
"                       start the simulator (upssim next to upsharness, or\n"
"                       $UPSSIM_BIN) with that profile or scenario, use its\n"
"                       pty, end it afterwards (profile:X or scenario:X to\n"
"                       say which)\n"
"  --sim-arg ARG        pass ARG to upssim (repeat: --sim-arg -v)\n"
"  --sim-log FILE       upssim's stderr (its -v byte trace) goes to FILE\n"
"\n"
"Options:\n"
"  --allow-destructive  on --port/--device: allow K Z S @ddd U D ^ ^N z and\n"
"                       edits of shutdown-related settings (p r e q l u s o\n"
"                       w ^V); without it such scripts are refused before a\n"
"                       byte is sent.  --sim needs no flag\n"
"  --dry-run            print what would be sent; send nothing\n"
"  --junit FILE         also write JUnit XML (Jenkins, GitLab)\n"
"  --tap                write TAP version 13 on stdout (for prove)\n"
"  --trace FILE         every byte sent and received, one event a line\n"
"                       (\"<sec> tx|rx \\\"bytes\\\"\", as upssim -v)\n"
"  --latency DURATION   the unit's reply latency (default 500ms); every\n"
"                       default timeout is latency + 3 x (bytes+2) x 4.17 ms\n"
"  --case NAME          run only this case (NAME, SUITE/NAME or a * pattern)\n"
"  --suite DIR          conform: the suite's directory (default: installed\n"
"                       share/upssim/scenarios/conformance)\n"
"  -o, --output FILE    record: write the script here (default stdout)\n"
"  --link PATH          proxy: the symlink to the host's pty\n"
"  -q, --quiet          only failures and the summary\n"
"  --list-ports         list the serial ports libserialport sees\n"
"  -h, --help           show this help\n"
"  -V, --version        show the version\n"
"\n"
"Safety on real hardware: bytes outside the documented command set are\n"
"never sent to --port; every EEPROM value a run changes is put back at the\n"
"end, also after a failure or Ctrl-C (cycling `-` to the original value).\n"
"\n"
"Exit status: 0 all passed (or skipped), 1 a case failed (or EEPROM not\n"
"restored, or interrupted), 2 usage, script or safety error, 3 the target\n"
"cannot be opened or does not answer.\n"
"\n"
"Examples:\n"
"  upsharness run smoke.yaml --sim smart-ups-1500\n"
"  upsharness conform --port /dev/ttyUSB0 --junit conform.xml\n"
"  upsharness run edits.yaml --device /dev/pts/7 --tap > r.tap; prove -e cat r.tap\n"
"  upsharness record identity.yaml --port /dev/ttyS0 -o su1500-fw601.yaml\n"
"  upsharness run su1500-fw601.yaml --sim smart-ups-1500   # lab vs simulator\n"
"  upsharness run kill.yaml --port /dev/ttyUSB0 --dry-run\n");
}

static void on_signal(int sig)
{
	(void)sig;
	if (hrn_interrupted < 2)
		hrn_interrupted++;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "upsharness: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'upsharness --help'.\n");
	va_end(ap);
	return HRN_EXIT_USAGE;
}

static void list_one(void *ctx, const char *name, const char *desc)
{
	(void)ctx;
	printf("%-24s %s\n", name, desc);
}

enum { O_PORT = 256, O_DEVICE, O_SIM, O_SIM_ARG, O_SIM_LOG, O_ALLOW, O_DRY,
       O_JUNIT, O_TAP, O_TRACE, O_LATENCY, O_CASE, O_SUITE, O_LIST, O_LINK };

static int set_target(enum hrn_target_kind k, const char *spec)
{
	if (cli.tg.kind != HRN_T_NONE)
		return usage_error("%s: give one target: --port, --device or "
				   "--sim", spec);
	cli.tg.kind = k;
	cli.tg.spec = spec;
	return 0;
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, O_PORT },
		{ "device", required_argument, NULL, O_DEVICE },
		{ "sim", required_argument, NULL, O_SIM },
		{ "sim-arg", required_argument, NULL, O_SIM_ARG },
		{ "sim-log", required_argument, NULL, O_SIM_LOG },
		{ "allow-destructive", no_argument, NULL, O_ALLOW },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "junit", required_argument, NULL, O_JUNIT },
		{ "tap", no_argument, NULL, O_TAP },
		{ "trace", required_argument, NULL, O_TRACE },
		{ "latency", required_argument, NULL, O_LATENCY },
		{ "case", required_argument, NULL, O_CASE },
		{ "suite", required_argument, NULL, O_SUITE },
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "list-ports", no_argument, NULL, O_LIST },
		{ "link", required_argument, NULL, O_LINK },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;
	while ((c = getopt_long(argc, argv, "o:qhV", opts, NULL)) != -1) {
		switch (c) {
		case O_PORT:
			if ((rc = set_target(HRN_T_PORT, optarg)))
				return rc;
			break;
		case O_DEVICE:
			if ((rc = set_target(HRN_T_DEVICE, optarg)))
				return rc;
			break;
		case O_SIM:
			if ((rc = set_target(HRN_T_SIM, optarg)))
				return rc;
			break;
		case O_SIM_ARG:
			if (cli.tg.n_sim_args >= 30)
				return usage_error("%s: too many --sim-arg", optarg);
			cli.tg.sim_args[cli.tg.n_sim_args++] = optarg;
			break;
		case O_SIM_LOG: cli.tg.sim_log = optarg; break;
		case O_ALLOW: cli.o.allow_destructive = true; break;
		case O_DRY: cli.o.dry_run = true; break;
		case O_JUNIT: cli.o.junit = optarg; break;
		case O_TAP: cli.o.tap = true; break;
		case O_TRACE: cli.o.trace = optarg; break;
		case O_LATENCY: {
			uint64_t ms;
			if (scen_duration(optarg, &ms) != UPS_OK || ms > 60000)
				return usage_error("--latency: '%s' is not a "
						   "duration up to 60s (250ms, "
						   "1s)", optarg);
			cli.o.latency_ms = (int64_t)ms;
			break;
		}
		case O_CASE: cli.o.case_filter = optarg; break;
		case O_SUITE: cli.suite_dir = optarg; break;
		case 'o': cli.o.out = optarg; break;
		case 'q': cli.o.quiet = true; break;
		case O_LIST: cli.list_ports = true; break;
		case O_LINK: cli.link = optarg; break;
		case 'h': usage(stdout); exit(HRN_EXIT_OK);
		case 'V': printf("upsharness %s\n", UPSSIM_VERSION); exit(HRN_EXIT_OK);
		default:
			fprintf(stderr, "Try 'upsharness --help'.\n");
			return HRN_EXIT_USAGE;
		}
	}
	if (cli.list_ports)
		return 0;
	if (optind >= argc)
		return usage_error("%s", "give a command: run, conform or record");
	const char *cmd = argv[optind++];
	if (!strcmp(cmd, "run"))
		cli.cmd = CMD_RUN;
	else if (!strcmp(cmd, "conform"))
		cli.cmd = CMD_CONFORM;
	else if (!strcmp(cmd, "record"))
		cli.cmd = CMD_RECORD;
	else if (!strcmp(cmd, "proxy"))
		cli.cmd = CMD_PROXY;
	else if (!strcmp(cmd, "clone"))
		cli.cmd = CMD_CLONE;
	else
		return usage_error("'%s' is not a command (run, conform, record, "
				   "proxy, clone)", cmd);
	for (; optind < argc; optind++) {
		if (cli.n_files >= MAX_SCRIPTS)
			return usage_error("%s: too many scripts", argv[optind]);
		cli.files[cli.n_files++] = argv[optind];
	}
	if (cli.cmd == CMD_RUN && cli.n_files == 0)
		return usage_error("%s", "run: give at least one SCRIPT");
	if (cli.cmd == CMD_RECORD && cli.n_files != 1)
		return usage_error("%s", "record: give exactly one SCRIPT");
	if (cli.cmd == CMD_CLONE) {
		if (cli.n_files)
			return usage_error("clone: unexpected argument '%s'",
					   cli.files[0]);
		if (cli.tg.kind == HRN_T_NONE)
			return usage_error("%s", "clone: give a target: --port "
					   "PORT, --device PATH or --sim PROFILE");
		if (cli.link)
			return usage_error("%s", "--link is for proxy");
		return 0;
	}
	if (cli.cmd == CMD_PROXY) {
		if (cli.n_files)
			return usage_error("proxy: unexpected argument '%s'",
					   cli.files[0]);
		if (!cli.link)
			return usage_error("%s", "proxy: give --link PATH");
		if (cli.tg.kind == HRN_T_NONE)
			return usage_error("%s", "proxy: give a target: --port "
					   "PORT, --device PATH or --sim PROFILE");
		return 0;
	}
	if (cli.link)
		return usage_error("%s", "--link is for proxy");
	if (cli.cmd == CMD_CONFORM && cli.n_files)
		return usage_error("conform: unexpected argument '%s' (the suite "
				   "comes with upsharness; --suite DIR for another)",
				   cli.files[0]);
	if (cli.tg.kind == HRN_T_NONE && !cli.o.dry_run)
		return usage_error("%s", "give a target: --port PORT, --device PATH "
				   "or --sim PROFILE");
	if (cli.o.out && cli.cmd != CMD_RECORD)
		return usage_error("%s", "-o is for record");
	if ((cli.tg.n_sim_args || cli.tg.sim_log) && cli.tg.kind != HRN_T_SIM)
		return usage_error("%s", "--sim-arg and --sim-log go with --sim");
	if (cli.cmd == CMD_RECORD && cli.o.tap)
		return usage_error("%s", "record writes a script, not TAP");
	cli.o.record = cli.cmd == CMD_RECORD;
	cli.o.conform = cli.cmd == CMD_CONFORM;
	return 0;
}

/* ---- scripts ---- */

static int load_script(const char *path, struct hrn_script **out)
{
	char *text = NULL;
	size_t len = 0;
	/* O_NONBLOCK: a FIFO given by mistake does not hang the start */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	int e = fd < 0 ? errno : ups_read_fd(fd, HRN_MAX_TEXT, 0, &text, &len);
	if (fd >= 0)
		close(fd);
	if (e == EFBIG) {
		fprintf(stderr, "upsharness: %s: larger than %d bytes\n", path,
			HRN_MAX_TEXT);
		return HRN_EXIT_USAGE;
	}
	if (e) {
		fprintf(stderr, "upsharness: %s: %s\n", path, strerror(e));
		return HRN_EXIT_USAGE;
	}
	struct hrn_script *s = calloc(1, sizeof *s);
	struct ups_diag d = { 0 };
	enum ups_rc rc = s ? hrn_script_parse(path, text, len, s, &d) : UPS_ENOMEM;
	free(text);
	if (rc != UPS_OK) {
		char msg[700];
		fprintf(stderr, "upsharness: %s\n", rc == UPS_EPARSE ?
			ups_diag_format(&d, msg, sizeof msg) : ups_strerror(rc));
		free(s);
		return HRN_EXIT_USAGE;
	}
	*out = s;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/** conform: the suite's scripts, sorted. */
static int find_suite(char ***paths, int *n)
{
	const char *env = getenv("UPSHARNESS_SUITE");
	char self_dir[PATH_MAX + 64] = "";
	char exe[PATH_MAX];
	if (hrn_self_dir(exe, sizeof exe))
		snprintf(self_dir, sizeof self_dir,
			 "%s/../share/upssim/scenarios/conformance", exe);
	const char *dirs[] = { cli.suite_dir, env, self_dir, UPSHARNESS_SUITE_DIR,
			       UPSHARNESS_SOURCE_SUITE };
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		if (!dirs[i] || !dirs[i][0])
			continue;
		DIR *d = opendir(dirs[i]);
		if (!d) {
			if (dirs[i] == cli.suite_dir) {
				fprintf(stderr, "upsharness: --suite %s: %s\n",
					dirs[i], strerror(errno));
				return HRN_EXIT_USAGE;
			}
			continue;
		}
		char **v = NULL;
		int cnt = 0;
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			size_t l = strlen(e->d_name);
			if (e->d_name[0] == '.' || l < 6 ||
			    strcmp(e->d_name + l - 5, ".yaml"))
				continue;
			char **nv = realloc(v, (size_t)(cnt + 1) * sizeof *nv);
			if (!nv)
				break;
			v = nv;
			size_t pl = strlen(dirs[i]) + l + 2;
			v[cnt] = malloc(pl);
			if (!v[cnt])
				break;
			snprintf(v[cnt++], pl, "%s/%s", dirs[i], e->d_name);
		}
		closedir(d);
		if (cnt) {
			qsort(v, (size_t)cnt, sizeof *v, by_name);
			*paths = v;
			*n = cnt;
			return 0;
		}
		free(v);
	}
	fprintf(stderr, "upsharness: conform: no conformance scripts found "
		"(looked in --suite, $UPSHARNESS_SUITE, %s%s%s)\n",
		UPSHARNESS_SUITE_DIR, UPSHARNESS_SOURCE_SUITE[0] ? ", " : "",
		UPSHARNESS_SOURCE_SUITE);
	return HRN_EXIT_USAGE;
}

static void print_detected(FILE *f, const struct hrn_detect *d)
{
	fprintf(f, "detected: %s", d->model[0] ? d->model : "(no model name)");
	if (d->fw_b[0] || d->fw_v[0])
		fprintf(f, ", firmware %s%s%s", d->fw_b, d->fw_b[0] && d->fw_v[0] ?
			" / " : "", d->fw_v);
	fprintf(f, ", family %s", d->family ? hrn_family_name(d->family) :
		"unknown");
	if (d->has_a)
		fprintf(f, ", UPS-Link level %s, alerts %s, %d commands in a",
			d->level[0] ? d->level : "(empty)", d->alerts, d->n_cmds);
	else
		fputs(", no a reply (command set from the command table)", f);
	if (d->has_dump)
		fprintf(f, ", ^Z dump %zu bytes%s", d->dump_len,
			d->dump_double_hash ? " (## Matrix format)" : "");
	else
		fputs(", no ^Z dump", f);
	fprintf(f, ", %s\n", d->measure ? "Measure-UPS attached" :
		"no Measure-UPS");
	if (!d->smart)
		fputs("warning: Y did not answer SM\n", f);
}

static int main_run(int argc, char **argv)
{
	int rc = parse_args(argc, argv);
	if (rc)
		return rc;
	if (cli.list_ports) {
		char err[256];
		int n = transport_serial_list(list_one, NULL, err, sizeof err);
		if (n < 0) {
			fprintf(stderr, "upsharness: --list-ports: %s\n", err);
			return HRN_EXIT_TARGET;
		}
		if (n == 0)
			fprintf(stderr, "no serial ports found (ptys are not "
				"listed: use --device for them)\n");
		return HRN_EXIT_OK;
	}
	if (cli.cmd == CMD_PROXY) {
		struct sigaction sp = { .sa_handler = on_signal };
		sigemptyset(&sp.sa_mask);
		sigaction(SIGINT, &sp, NULL);
		sigaction(SIGTERM, &sp, NULL);
		signal(SIGPIPE, SIG_IGN);
		return hrn_proxy(&cli.tg, cli.link, cli.o.trace);
	}
	if (cli.cmd == CMD_CLONE) {
		struct sigaction sc = { .sa_handler = on_signal };
		sigemptyset(&sc.sa_mask);
		sigaction(SIGINT, &sc, NULL);
		sigaction(SIGTERM, &sc, NULL);
		signal(SIGPIPE, SIG_IGN);
		return hrn_clone(&cli.tg, cli.o.trace, stdout);
	}
	cli.o.human = (cli.o.tap || (cli.o.record && !cli.o.out)) ? stderr : stdout;

	/* scripts */
	if (cli.cmd == CMD_CONFORM) {
		if ((rc = find_suite(&suite, &n_suite)))
			return rc;
		for (int i = 0; i < n_suite && i < MAX_SCRIPTS; i++)
			cli.files[cli.n_files++] = suite[i];
	}
	size_t n_cases = 0;
	for (int i = 0; i < cli.n_files; i++) {
		if ((rc = load_script(cli.files[i], &scripts[i])))
			return rc;
		n_scripts = i + 1;
		n_cases += scripts[i]->n_cases;
	}

	/* safety: the whole script is checked before anything is sent */
	struct hrn_policy pol = hrn_target_policy(&cli.tg, cli.o.allow_destructive);
	if (cli.tg.kind != HRN_T_NONE && cli.cmd != CMD_CONFORM) {
		for (int i = 0; i < cli.n_files; i++) {
			struct ups_diag d = { 0 };
			if (hrn_script_check(scripts[i], &pol, &d) != UPS_OK) {
				char msg[700];
				fprintf(stderr, "upsharness: %s\nupsharness: refused "
					"on %s %s: nothing was sent\n",
					ups_diag_format(&d, msg, sizeof msg),
					cli.tg.kind == HRN_T_PORT ? "--port" :
					"--device", cli.tg.spec);
				return HRN_EXIT_USAGE;
			}
		}
	}
	if (cli.o.dry_run) {
		if (cli.tg.kind == HRN_T_NONE)
			printf("(no target: the safety rules of --port and "
			       "--device were not checked)\n");
		for (int i = 0; i < cli.n_files; i++)
			hrn_dry_run(stdout, scripts[i], &cli.o);
		printf("dry run: nothing was sent\n");
		return HRN_EXIT_OK;
	}

	/* signals: Ctrl-C stops at the next step and restores the EEPROM */
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* target */
	char err[600];
	if (hrn_target_open(&cli.tg, err, sizeof err) < 0) {
		fprintf(stderr, "upsharness: %s\n", err);
		return HRN_EXIT_TARGET;
	}
	struct hrn_run *r = hrn_run_new(&cli.tg, &cli.o, &pol);
	if (!r) {
		fprintf(stderr, "upsharness: cannot start the run (out of memory, "
			"or --trace %s cannot be written)\n",
			cli.o.trace ? cli.o.trace : "");
		hrn_target_close(&cli.tg);
		return HRN_EXIT_USAGE;
	}
	if (!cli.o.quiet && !cli.o.tap)
		fprintf(cli.o.human, "target: %s\n", cli.tg.desc);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (cli.cmd == CMD_CONFORM) {
		hrn_detect(r, true);
		if (!hrn_run_dead(r, NULL))
			print_detected(cli.o.tap ? stderr : cli.o.human,
				       hrn_detected(r));
	}

	/* run, then put back what the run changed */
	struct hrn_result *res = calloc(n_cases ? n_cases : 1, sizeof *res);
	size_t n_res = 0;
	if (res && !hrn_run_dead(r, NULL))
		hrn_run_scripts(r, scripts, (size_t)cli.n_files, res, &n_res);
	int not_restored = hrn_restore(r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) +
		      (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	/* reports */
	bool failed = not_restored > 0 || hrn_interrupted;
	for (size_t i = 0; i < n_res; i++)
		failed |= res[i].status == HRN_FAIL;
	if (cli.o.record && !hrn_run_dead(r, NULL) && !hrn_interrupted) {
		FILE *out = cli.o.out ? fopen(cli.o.out, "w") : stdout;
		char note[200] = "";
		if (!out || hrn_record_write(r, scripts[0], out, note,
					     sizeof note) < 0) {
			fprintf(stderr, "upsharness: %s: cannot write\n",
				cli.o.out ? cli.o.out : "stdout");
			failed = true;
		}
		if (out && out != stdout)
			fclose(out);
		if (note[0])
			fprintf(stderr, "upsharness: record: %s\n", note);
	} else if (cli.o.record) {
		fprintf(stderr, "upsharness: record: nothing written (the run "
			"did not finish)\n");
	}
	if (cli.o.tap)
		hrn_report_tap(stdout, res, n_res);
	if (cli.o.junit && hrn_report_junit(cli.o.junit, res, n_res, secs, err,
					    sizeof err) < 0) {
		fprintf(stderr, "upsharness: --junit %s\n", err);
		failed = true;
	}
	const char *why = NULL;
	bool dead = hrn_run_dead(r, &why);
	if (!cli.o.tap || dead)
		hrn_report_summary(cli.o.tap ? stderr : cli.o.human, res, n_res,
				   secs);
	if (hrn_interrupted)
		fprintf(stderr, "upsharness: interrupted\n");
	if (dead)
		fprintf(stderr, "upsharness: %s: %s\n", cli.tg.desc, why);

	hrn_run_free(r);
	hrn_target_close(&cli.tg);
	for (size_t i = 0; i < n_res; i++) {
		free(res[i].message);
		free(res[i].summary);
		free(res[i].alerts);
	}
	free(res);
	if (dead)
		return HRN_EXIT_TARGET;
	return failed ? HRN_EXIT_FAIL : HRN_EXIT_OK;
}

int main(int argc, char **argv)
{
	int rc = main_run(argc, argv);
	for (int i = 0; i < n_scripts; i++) {
		hrn_script_free(scripts[i]);
		free(scripts[i]);
	}
	for (int i = 0; i < n_suite; i++)
		free(suite[i]);
	free(suite);
	return rc;
}
