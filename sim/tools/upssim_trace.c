/*
 * upssim_trace.c - the `upssim-trace` command: work with traces
 * (docs/trace.md).  It reads files and writes files; the format, the
 * importers and the replay map are the pure core's (trace.h,
 * trace_import.h, replay.h).  Only this file prints to the user or exits.
 *
 *   upssim-trace import [--from FMT] [--ups-first] FILE [-o OUT]
 *   upssim-trace check TRACE...
 *   upssim-trace commands TRACE
 *   upssim-trace totest TRACE -o DIR [--name NAME] [--profile NAME]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "upssim/cmdtab.h"
#include "upssim/readfile.h"
#include "upssim/replay.h"
#include "upssim/trace.h"
#include "upssim/trace_import.h"
#include "upssim/ups.h"

enum { EXIT_OK_ = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_INPUT = 3, EXIT_IO = 4 };

#define FILE_MAX (256u * 1024u * 1024u)

static void usage(FILE *f)
{
	fprintf(f,
"Usage: upssim-trace COMMAND [OPTIONS] FILE...\n"
"Work with upssim traces: one event a line, \"<sec> rx|tx \\\"bytes\\\"\"\n"
"(docs/trace.md).\n"
"\n"
"Commands:\n"
"  import FILE        convert a capture to a trace on stdout (or -o OUT)\n"
"      --from FMT     nut (apcsmart -DDDDD output), apcupsd (-d 200 output),\n"
"                     socat (-x -v or -v dump), nut-dev (.dev or upsc output),\n"
"                     trace; default: guessed from the first lines\n"
"      --ups-first    socat: the UPS was socat's first address\n"
"  check TRACE...     read each trace; print its events, commands and alerts;\n"
"                     exit 3 at the first error (file:line:col: message)\n"
"  commands TRACE     list every command the host sent and the replies the\n"
"                     unit gave it, in order (what --replay answers with)\n"
"  totest TRACE -o DIR [--name NAME] [--profile NAME]\n"
"                     a regression test from a trace: DIR/NAME.harness.yaml\n"
"                     (upsharness checks the UPS side), DIR/NAME.scenario.yaml\n"
"                     and DIR/NAME.trace (upssim --scenario --replay serves\n"
"                     the host side), DIR/NAME.README with the commands\n"
"\n"
"Exit status: 0 ok, 2 usage, 3 bad input (file:line:col: message), 4 I/O.\n");
}

/* Read a whole file (or stdin for "-"), NUL-terminated. */
static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf;
	int e = ups_read_fd(fd, FILE_MAX, 0, &buf, len);
	if (fd)
		close(fd);
	if (e == EFBIG)
		snprintf(err, errlen, "%s: larger than %u MiB", path,
			 FILE_MAX >> 20);
	else if (e)
		snprintf(err, errlen, "%s: %s", path, strerror(e));
	return buf;
}

static int write_file(const char *path, const void *p, size_t n)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f) {
		fprintf(stderr, "upssim-trace: %s: %s\n", path, strerror(errno));
		return EXIT_IO;
	}
	size_t w = fwrite(p, 1, n, f);
	int bad = w != n || ferror(f);
	if (f != stdout)
		bad |= fclose(f) != 0;
	else
		bad |= fflush(f) != 0;
	if (bad) {
		fprintf(stderr, "upssim-trace: %s: write failed\n", path);
		return EXIT_IO;
	}
	return 0;
}

static void print_diag(const struct ups_diag *d)
{
	char msg[700];
	fprintf(stderr, "upssim-trace: %s\n", ups_diag_format(d, msg, sizeof msg));
}

/* ------------------------------------------------------------------ */

static int cmd_import(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "from", required_argument, 0, 'f' },
		{ "ups-first", no_argument, 0, 'u' },
		{ "output", required_argument, 0, 'o' },
		{ 0, 0, 0, 0 },
	};
	enum trace_fmt fmt = TF_UNKNOWN;
	struct trace_import_opts o = { 0 };
	const char *out = "-";
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:", lo, NULL)) != -1) {
		switch (c) {
		case 'f':
			fmt = trace_fmt_from_name(optarg);
			if (fmt == TF_UNKNOWN) {
				fprintf(stderr, "upssim-trace: --from: '%s' is not one "
					"of nut apcupsd socat nut-dev trace\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'u': o.socat_ups_first = true; break;
		case 'o': out = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "upssim-trace: import takes one FILE\n");
		return EXIT_USAGE;
	}
	const char *path = argv[optind];
	char err[600] = "";
	size_t len;
	char *text = slurp(path, &len, err, sizeof err);
	if (!text) {
		fprintf(stderr, "upssim-trace: %s\n", err);
		return EXIT_IO;
	}
	if (fmt == TF_UNKNOWN)
		fmt = trace_fmt_detect(text, len);
	if (fmt == TF_UNKNOWN) {
		fprintf(stderr, "upssim-trace: %s: cannot tell the format; give "
			"--from nut|apcupsd|socat|nut-dev|trace\n", path);
		free(text);
		return EXIT_INPUT;
	}
	struct ups_buf b = { 0 };
	struct ups_diag d = { 0 };
	enum ups_rc rc = trace_import(fmt, path, text, len, &o, &b, &d);
	free(text);
	if (rc == UPS_EPARSE) {
		print_diag(&d);
		ups_buf_free(&b);
		return EXIT_INPUT;
	}
	if (rc != UPS_OK) {
		fprintf(stderr, "upssim-trace: %s\n", ups_strerror(rc));
		ups_buf_free(&b);
		return EXIT_IO;
	}
	int r = write_file(out, b.data, b.len);
	ups_buf_free(&b);
	return r;
}

/* ------------------------------------------------------------------ */

static struct replay *load_map(const char *path, enum replay_mode mode, int *rc)
{
	char err[600] = "";
	size_t len;
	char *text = slurp(path, &len, err, sizeof err);
	*rc = 0;
	if (!text) {
		fprintf(stderr, "upssim-trace: %s\n", err);
		*rc = EXIT_IO;
		return NULL;
	}
	struct replay *rp = replay_new(mode, NULL);
	struct ups_diag d = { 0 };
	enum ups_rc r = rp ? replay_add_trace(rp, path, text, len, &d) : UPS_ENOMEM;
	free(text);
	if (r != UPS_OK) {
		if (r == UPS_EPARSE)
			print_diag(&d);
		else
			fprintf(stderr, "upssim-trace: %s\n", ups_strerror(r));
		*rc = r == UPS_EPARSE ? EXIT_INPUT : EXIT_IO;
		replay_free(rp);
		return NULL;
	}
	return rp;
}

static int cmd_check(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "upssim-trace: check takes one or more TRACE files\n");
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		char err[600] = "";
		size_t len;
		char *text = slurp(argv[i], &len, err, sizeof err);
		if (!text) {
			fprintf(stderr, "upssim-trace: %s\n", err);
			return EXIT_IO;
		}
		static struct trace_reader r;
		struct trace_event ev;
		struct ups_diag d = { 0 };
		size_t nrx = 0, ntx = 0, brx = 0, btx = 0, notes = 0;
		uint64_t last = 0;
		int got;
		trace_reader_init(&r, argv[i], text, len);
		while ((got = trace_next(&r, &ev, &d)) == 1) {
			last = ev.t_ms;
			if (ev.dir == TRACE_RX) {
				nrx++;
				brx += ev.n;
			} else if (ev.dir == TRACE_TX) {
				ntx++;
				btx += ev.n;
			} else {
				notes++;
			}
		}
		if (got < 0) {
			print_diag(&d);
			free(text);
			return EXIT_INPUT;
		}
		struct replay *rp = replay_new(REPLAY_SEQUENCE, NULL);
		if (rp)
			replay_add_trace(rp, argv[i], text, len, &d);
		size_t na = 0;
		if (rp)
			replay_alerts(rp, &na);
		char ts[32];
		trace_format_time(last, ts, sizeof ts);
		printf("%s: %s s, %zu rx lines (%zu bytes), %zu tx lines (%zu bytes), "
		       "%zu notes; %zu commands, %zu replies, %zu alerts, "
		       "%zu reply lines without a command\n", argv[i], ts, nrx, brx,
		       ntx, btx, notes, rp ? replay_n_commands(rp) : 0,
		       rp ? replay_n_replies(rp) : 0, na,
		       rp ? replay_unattributed(rp) : 0);
		replay_free(rp);
		free(text);
	}
	return 0;
}

static int cmd_commands(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "upssim-trace: commands takes one TRACE\n");
		return EXIT_USAGE;
	}
	int rc;
	struct replay *rp = load_map(argv[1], REPLAY_SEQUENCE, &rc);
	if (!rp)
		return rc;
	for (size_t i = 0; i < replay_n_commands(rp); i++) {
		size_t nr;
		char name[64];
		const struct replay_key *k = replay_command(rp, i, &nr);
		printf("%s:", replay_key_name(k, name, sizeof name));
		for (size_t j = 0; j < nr; j++) {
			size_t len;
			bool present;
			const uint8_t *b = replay_reply(rp, i, j, &len, &present);
			char q[UPS_REPLY_MAX * 4 + 3];
			if (present)
				trace_escape(b, len, q, sizeof q);
			printf(" %s", present ? q : "(silence)");
		}
		printf("\n");
	}
	size_t na;
	const struct replay_alert *a = replay_alerts(rp, &na);
	for (size_t i = 0; i < na; i++) {
		char ts[32];
		trace_format_time(a[i].t_ms, ts, sizeof ts);
		printf("alert %c at %s s after the host's first byte\n", a[i].byte, ts);
	}
	replay_free(rp);
	return 0;
}

/* ------------------------------------------------------------------ */
/* totest                                                               */

struct sb {
	char *p;
	size_t n, cap;
	bool oom;
};

static void sbf(struct sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbf(struct sb *s, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int k = vsnprintf(s->p ? s->p + s->n : NULL, s->p ? s->cap - s->n : 0,
				  fmt, ap);
		va_end(ap);
		if (k < 0)
			return;
		if (s->p && s->n + (size_t)k < s->cap) {
			s->n += (size_t)k;
			return;
		}
		size_t nc = (s->cap ? s->cap * 2 : 4096) + (size_t)k;
		char *np = realloc(s->p, nc);
		if (!np) {
			s->oom = true;
			return;
		}
		s->p = np;
		s->cap = nc;
	}
}

/* One byte inside a YAML double-quoted string that the harness reads as
 * bytes or as a regular expression: both take a backslash as an escape of
 * their own (a literal one is `\\` to them, so `\\\\` in YAML); control
 * bytes and bytes above 0x7E as YAML's \xNN (a code point <= U+00FF: one
 * byte). */
static void yaml_byte(struct sb *s, uint8_t b)
{
	if (b == '\\')
		sbf(s, "\\\\\\\\");
	else if (b == '"')
		sbf(s, "\\\"");
	else if (b < 0x20 || b > 0x7E)
		sbf(s, "\\x%02X", b);
	else
		sbf(s, "%c", b);
}

/* Bytes as a YAML double-quoted string holding the harness's byte notation
 * (docs/harness.md "Bytes"): `^` is written `^^`, `${` `$${`, control bytes
 * and bytes above 0x7E as YAML's \xNN (a code point <= U+00FF: one byte). */
static void yaml_bytes(struct sb *s, const uint8_t *p, size_t n)
{
	sbf(s, "\"");
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		if (b == '^')
			sbf(s, "^^");
		else if (b == '$' && i + 1 < n && p[i + 1] == '{')
			sbf(s, "$$"); /* "$${" is a literal "${" */
		else
			yaml_byte(s, b);
	}
	sbf(s, "\"");
}

/* The reply's shape as an anchored-by-the-harness POSIX ERE: digits may
 * change, the rest stays (a measurement read again is another number). */
static void yaml_shape(struct sb *s, const uint8_t *p, size_t n)
{
	bool hex = n == 2;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'A' && p[i] <= 'F')))
			hex = false;
	sbf(s, "\"");
	for (size_t i = 0; i < n; i++) {
		uint8_t b = p[i];
		if (hex)
			sbf(s, "[0-9A-F]");
		else if (b >= '0' && b <= '9')
			sbf(s, "[0-9]");
		else if (strchr(".[]()*+?{}|^$", b))
			sbf(s, "\\\\%c", b);
		else
			yaml_byte(s, b);
	}
	sbf(s, "\"");
}

/* Replies that stay the same on a unit: identity, settings. */
static bool exact(uint8_t b)
{
	const struct cmd_def *r = cmd_lookup(b);
	if (r && r->kind == CMD_SETTING)
		return true;
	return b && strchr("\x01" "bVnmyaxcg\x1Av", b);
}

/* Commands a regression script leaves out: they change the unit (and a
 * real one needs --allow-destructive), or are not plain queries. */
static bool skipped(const struct replay_key *k)
{
	if (k->kind != RK_CMD)
		return true;
	uint8_t b = k->b[0];
	const struct cmd_def *r = cmd_lookup(b);
	if (!r)
		return true;
	return (r->flags & (CF_DESTRUCTIVE | CF_TWO_PRESS)) || r->kind == CMD_ACTION ||
	       r->kind == CMD_MODIFIER || b == 'R' || b == 'Y' || b == 'z';
}

static void safe_name(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (; *in && o + 1 < cap; in++)
		out[o++] = ((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') ||
			    (*in >= '0' && *in <= '9') || *in == '-' || *in == '_') ?
				   *in : '-';
	out[o] = '\0';
}

/* The profile the trace names in its header ("... profile NAME"). */
static void trace_profile(const char *text, size_t len, char *out, size_t cap)
{
	const char *nl = memchr(text, '\n', len);
	size_t n = nl ? (size_t)(nl - text) : len;
	const char *p = NULL;
	for (size_t i = 0; i + 9 <= n; i++)
		if (!memcmp(text + i, " profile ", 9))
			p = text + i + 9;
	out[0] = '\0';
	if (p) {
		size_t k = 0;
		while (p + k < text + n && p[k] != ' ' && k + 1 < cap)
			k++;
		snprintf(out, cap, "%.*s", (int)k, p);
	}
}

static int cmd_totest(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "output", required_argument, 0, 'o' },
		{ "name", required_argument, 0, 'n' },
		{ "profile", required_argument, 0, 'p' },
		{ 0, 0, 0, 0 },
	};
	const char *dir = NULL, *name = NULL, *profile = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:n:p:", lo, NULL)) != -1) {
		switch (c) {
		case 'o': dir = optarg; break;
		case 'n': name = optarg; break;
		case 'p': profile = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc || !dir) {
		fprintf(stderr, "upssim-trace: totest takes one TRACE and -o DIR\n");
		return EXIT_USAGE;
	}
	const char *path = argv[optind];
	char err[600] = "", nm[128], prof[128];
	size_t len;
	char *text = slurp(path, &len, err, sizeof err);
	if (!text) {
		fprintf(stderr, "upssim-trace: %s\n", err);
		return EXIT_IO;
	}
	if (!name) {
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		snprintf(nm, sizeof nm, "%s", base);
		char *dot = strrchr(nm, '.');
		if (dot && dot != nm)
			*dot = '\0';
	} else {
		snprintf(nm, sizeof nm, "%s", name);
	}
	safe_name(nm, nm, sizeof nm);
	trace_profile(text, len, prof, sizeof prof);
	if (profile)
		snprintf(prof, sizeof prof, "%s", profile);
	if (!prof[0])
		snprintf(prof, sizeof prof, "smart-ups-1500");

	struct replay *rp = replay_new(REPLAY_SEQUENCE, NULL);
	struct ups_diag d = { 0 };
	enum ups_rc r = rp ? replay_add_trace(rp, path, text, len, &d) : UPS_ENOMEM;
	if (r != UPS_OK) {
		if (r == UPS_EPARSE)
			print_diag(&d);
		else
			fprintf(stderr, "upssim-trace: %s\n", ups_strerror(r));
		free(text);
		replay_free(rp);
		return r == UPS_EPARSE ? EXIT_INPUT : EXIT_IO;
	}
	if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
		fprintf(stderr, "upssim-trace: %s: %s\n", dir, strerror(errno));
		free(text);
		replay_free(rp);
		return EXIT_IO;
	}

	/* the harness script: one case per command, its replies in order */
	struct sb h = { 0 }, skip = { 0 };
	sbf(&h, "# Generated by upssim-trace totest from %s: the UPS side of the\n"
		"# recorded session.  Each case sends one command as often as the host\n"
		"# did (at most 5 times) and checks the unit's replies in order:\n"
		"# identity and settings exactly, measurements by their shape.\n"
		"# Run: upsharness run %s.harness.yaml --sim scenario:%s.scenario.yaml \\\n"
		"#        --sim-arg --replay --sim-arg %s.trace   (or --port / --device)\n",
		path, nm, nm, nm);
	sbf(&h, "suite: %s\ndescription: \"replies recorded in %s\"\n", nm, nm);
	sbf(&h, "setup:\n  - send: Y\n    expect: SM\ncases:\n");
	int ncases = 0;
	for (size_t i = 0; i < replay_n_commands(rp); i++) {
		size_t nr;
		char kn[64], bn[8];
		const struct replay_key *k = replay_command(rp, i, &nr);
		replay_key_name(k, kn, sizeof kn);
		if (skipped(k)) {
			sbf(&skip, "%s%s", skip.n ? ", " : "", kn);
			continue;
		}
		uint8_t b = k->b[0];
		cmd_byte_name(b, bn);
		char cname[32];
		snprintf(cname, sizeof cname, "cmd-%02x", b);
		/* the command's name as docs/commands.md writes it */
		const char *esc = bn[0] == '\\' || bn[0] == '"' ? "\\" : "";
		sbf(&h, "  - name: %s\n    description: \"%s%s, %zu replies recorded\"\n"
			"    requires: [\"%s%s\"]\n    steps:\n", cname, esc, bn, nr,
		    esc, bn);
		for (size_t j = 0; j < nr && j < 5; j++) {
			size_t rl;
			bool present;
			const uint8_t *rb = replay_reply(rp, i, j, &rl, &present);
			sbf(&h, "      - send: ");
			yaml_bytes(&h, k->b, 1);
			if (!present)
				sbf(&h, "\n        silence: true\n");
			else if (exact(b)) {
				sbf(&h, "\n        expect: ");
				yaml_bytes(&h, rb, rl);
				sbf(&h, "\n");
			} else {
				sbf(&h, "\n        match: ");
				yaml_shape(&h, rb, rl);
				sbf(&h, "\n        record: keep\n");
			}
		}
		ncases++;
	}
	if (skip.n)
		sbf(&h, "# not checked (they change the unit, or are not plain "
			"queries): %s\n", skip.p);

	/* the scenario: the profile and what the alerts say of the line */
	struct sb s = { 0 };
	size_t na;
	const struct replay_alert *al = replay_alerts(rp, &na);
	uint64_t last = 0;
	{
		static struct trace_reader tr;
		struct trace_event ev;
		trace_reader_init(&tr, path, text, len);
		while (trace_next(&tr, &ev, &d) == 1)
			last = ev.t_ms;
	}
	sbf(&s, "# Generated by upssim-trace totest from %s: the host side.  Serve a\n"
		"# host the recorded unit with\n"
		"#   upssim --scenario %s.scenario.yaml --replay %s.trace\n"
		"# The replay answers every command the trace holds and sends its\n"
		"# alerts; commands it lacks come from the profile, whose line follows\n"
		"# the alerts below (`!` line off, `$` line on).\n", path, nm, nm);
	sbf(&s, "description: \"replayed from %s\"\nprofile: %s\n", nm, prof);
	int nev = 0;
	for (size_t i = 0; i < na; i++) {
		if (al[i].byte != '!' && al[i].byte != '$')
			continue;
		if (!nev++)
			sbf(&s, "timeline:\n");
		sbf(&s, "  - at: %llums\n    line: %s\n",
		    (unsigned long long)al[i].t_ms, al[i].byte == '!' ? "off" : "on");
	}
	sbf(&s, "end: %llums\n", (unsigned long long)(last + 600000));

	struct sb rd = { 0 };
	sbf(&rd, "Regression test made by upssim-trace totest from %s.\n\n"
		 "UPS side (upsharness checks the replies, %d cases):\n"
		 "  upsharness run %s.harness.yaml --sim scenario:%s.scenario.yaml "
		 "--sim-arg --replay --sim-arg %s.trace\n"
		 "  upsharness run %s.harness.yaml --sim %s      # the profile alone\n"
		 "  upsharness run %s.harness.yaml --port /dev/ttyS0   # a real unit\n\n"
		 "Host side (serve NUT or apcupsd the recorded unit):\n"
		 "  upssim --scenario %s.scenario.yaml --replay %s.trace --link /tmp/ups\n",
		 path, ncases, nm, nm, nm, nm, prof, nm, nm, nm);

	char p1[4200], p2[4200], p3[4200], p4[4200];
	snprintf(p1, sizeof p1, "%s/%s.harness.yaml", dir, nm);
	snprintf(p2, sizeof p2, "%s/%s.scenario.yaml", dir, nm);
	snprintf(p3, sizeof p3, "%s/%s.trace", dir, nm);
	snprintf(p4, sizeof p4, "%s/%s.README", dir, nm);
	int rc = 0;
	if (h.oom || s.oom || rd.oom || skip.oom) {
		fprintf(stderr, "upssim-trace: out of memory\n");
		rc = EXIT_IO;
	}
	if (!rc)
		rc = write_file(p1, h.p, h.n);
	if (!rc)
		rc = write_file(p2, s.p, s.n);
	if (!rc && strcmp(path, p3))
		rc = write_file(p3, text, len);
	if (!rc)
		rc = write_file(p4, rd.p, rd.n);
	if (!rc)
		printf("%s\n%s\n%s\n%s\n", p1, p2, p3, p4);
	free(h.p);
	free(s.p);
	free(rd.p);
	free(skip.p);
	free(text);
	replay_free(rp);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *c = argv[1];
	if (!strcmp(c, "-h") || !strcmp(c, "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(c, "-V") || !strcmp(c, "--version")) {
		printf("upssim-trace %s\n", UPSSIM_VERSION);
		return 0;
	}
	if (!strcmp(c, "import"))
		return cmd_import(argc - 1, argv + 1);
	if (!strcmp(c, "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(c, "commands"))
		return cmd_commands(argc - 1, argv + 1);
	if (!strcmp(c, "totest"))
		return cmd_totest(argc - 1, argv + 1);
	fprintf(stderr, "upssim-trace: unknown command '%s'\nTry 'upssim-trace --help'.\n", c);
	return EXIT_USAGE;
}
