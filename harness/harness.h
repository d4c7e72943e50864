/*
 * harness.h - the pieces of upsharness behind main(): targets (a serial
 * port, a tty, or a simulator started for the run), the runner that plays
 * scripts over a transport inside the project's event loop, and the
 * reports (human, JUnit XML, TAP) and record-mode writer.  Only main()
 * prints usage errors and exits; the runner returns results.
 */
#ifndef UPSSIM_HRN_HARNESS_H
#define UPSSIM_HRN_HARNESS_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "script.h"
#include "upssim/transport.h"

/* exit codes (docs/harness.md) */
#define HRN_EXIT_OK 0
#define HRN_EXIT_FAIL 1
#define HRN_EXIT_USAGE 2
#define HRN_EXIT_TARGET 3

enum hrn_target_kind { HRN_T_NONE, HRN_T_PORT, HRN_T_DEVICE, HRN_T_SIM };

struct hrn_target {
	enum hrn_target_kind kind;
	const char *spec;         /**< port, device path, profile or scenario */
	const char *sim_args[32]; /**< --sim-arg, passed to upssim */
	int n_sim_args;
	const char *sim_log;      /**< upssim's stderr goes here, or inherited */
	struct transport *t;
	pid_t sim_pid;
	int sim_out;              /**< upssim's stdout pipe, drained */
	char path[256];           /**< the tty actually opened */
	char desc[320];           /**< for messages: "--sim smart-ups-1500 (/dev/pts/4)" */
};

/** Safety policy for a target kind (docs/harness.md "Safety"). */
struct hrn_policy hrn_target_policy(const struct hrn_target *tg,
				    bool allow_destructive);

/**
 * Open the target: open the port or device, or start upssim and open its
 * pty.  @return 0, or -1 with @p err set (exit 3)
 */
int hrn_target_open(struct hrn_target *tg, char *err, size_t errlen);
/** Close the transport and end the simulator (by pid) if we started one. */
void hrn_target_close(struct hrn_target *tg);
/** The directory of the running upsharness (from /proc/self/exe) into
 *  @p out; false (and "") if it cannot be told. */
bool hrn_self_dir(char *out, size_t cap);

/** What detection found (docs/harness.md "Requires"). */
struct hrn_detect {
	bool done, smart;
	char model[64], fw_b[40], fw_v[8];
	bool has_a;
	char level[16], alerts[32];
	uint8_t cmds[32];         /**< a's third field, as a bitmap */
	int n_cmds;
	unsigned family;          /**< UPS_FAM_*, 0 unknown */
	bool measure, measure_known;
	uint8_t probed[32];       /**< no a: queries asked once ... */
	uint8_t answered[32];     /**< ... and answered (not NA, not silent) */
	bool has_dump, dump_double_hash;
	size_t dump_len;
};

enum hrn_status { HRN_PASS, HRN_FAIL, HRN_SKIP, HRN_NOTRUN };

struct hrn_result {
	const struct hrn_script *s;
	const struct hrn_case *c;
	enum hrn_status status;
	char *message;   /**< failure detail (multi-line) or skip reason */
	char *summary;   /**< one line: the failure's first line */
	char *alerts;    /**< alerts recorded, "" if none */
	double secs;
};

struct hrn_options {
	bool allow_destructive, dry_run, tap, record, conform, quiet;
	const char *junit, *trace, *out, *case_filter;
	int64_t latency_ms;       /**< -1: each script's own */
	FILE *human;              /**< where the human report goes */
};

/** Cooperative interruption: set by the SIGINT/SIGTERM handler. */
extern volatile sig_atomic_t hrn_interrupted;

struct hrn_run;

/** A runner over an open target.  @p scripts stay owned by the caller. */
struct hrn_run *hrn_run_new(struct hrn_target *tg,
			    const struct hrn_options *o,
			    const struct hrn_policy *pol);
void hrn_run_free(struct hrn_run *r);

/** Query the unit (Y, ^A, b, V, a; ^Z and v when @p full). */
void hrn_detect(struct hrn_run *r, bool full);
const struct hrn_detect *hrn_detected(const struct hrn_run *r);

/** Run every case of @p scripts; results are appended to @p res (sized
 *  for all cases).  Stops early on interruption or a dead target. */
void hrn_run_scripts(struct hrn_run *r, struct hrn_script **scripts,
		     size_t n_scripts, struct hrn_result *res, size_t *n_res);

/** Put back every EEPROM value the run changed.  @return the number not
 *  restored (reported on @p o->human). */
int hrn_restore(struct hrn_run *r);

/** The target's description ("--sim NAME (/dev/pts/3, pid 42)"). */
const char *hrn_run_target(const struct hrn_run *r);

/** The target stopped answering or went away. */
bool hrn_run_dead(const struct hrn_run *r, const char **why);
bool hrn_run_interrupted(const struct hrn_run *r);

/** Record mode: what the unit answered to @p st (kind: 0 a CR LF line,
 *  1 raw bytes, 2 silence); @p conflict if repeats saw different replies.
 *  @return false if the step was never observed */
bool hrn_run_observed(const struct hrn_run *r, const struct hrn_step *st,
		      int *kind, const uint8_t **p, size_t *n, bool *conflict);

/** Write the record-mode script for @p s.  @return 0 or -1 */
int hrn_record_write(struct hrn_run *r, const struct hrn_script *s, FILE *out,
		     char *err, size_t errlen);

/* reports */
void hrn_report_case(FILE *f, const struct hrn_result *res);
void hrn_report_summary(FILE *f, const struct hrn_result *res, size_t n,
			double secs);
int hrn_report_junit(const char *path, const struct hrn_result *res, size_t n,
		     double secs, char *err, size_t errlen);
void hrn_report_tap(FILE *f, const struct hrn_result *res, size_t n);
void hrn_dry_run(FILE *f, const struct hrn_script *s,
		 const struct hrn_options *o);

/** Escape bytes in the trace format's quoted style into @p out. */
const char *hrn_esc(const uint8_t *p, size_t n, char *out, size_t cap);

/** proxy: a pty for the host at @p link, bytes forwarded to and from
 *  @p tg, every byte written to @p trace (may be NULL).  @return exit code */
int hrn_proxy(struct hrn_target *tg, const char *link, const char *trace);

/** clone: read @p tg with safe queries only and write a profile to @p out;
 *  every byte goes to @p trace (may be NULL).  @return exit code */
int hrn_clone(struct hrn_target *tg, const char *trace, FILE *out);
/** Is @p b a byte clone may send (Y, documented non-destructive queries
 *  and settings read bare; never `-`)? */
bool hrn_clone_safe(uint8_t b);

#endif
