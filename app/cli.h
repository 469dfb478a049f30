/* cli.h — what every command shares: exit codes, error lines, number
 * parsing, the terminal progress bar, the run store, stop signals.
 *
 * Conventions: errors are one line on stderr,
 *   toposcope: ph: cannot read 'x.jpg': not a JPEG file
 * usage errors add "Try 'toposcope CMD --help'." and exit 2. */
#ifndef TS_APP_CLI_H
#define TS_APP_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "base/error.h"
#include "run/store.h"

enum { TS_EXIT_OK = 0, TS_EXIT_FAILURE = 1, TS_EXIT_USAGE = 2 };

/* Prints "toposcope CMD: <msg>" and the --help hint; returns TS_EXIT_USAGE. */
int ts_cli_usage_error(const char *cmd, const char *fmt, ...) TS_PRINTF(2, 3);
/* Prints "toposcope: CMD: <err->message>"; returns TS_EXIT_FAILURE. */
int ts_cli_fail(const char *cmd, const TsError *err);
/* Prints "toposcope: CMD: <msg>"; returns TS_EXIT_FAILURE. */
int ts_cli_failf(const char *cmd, const char *fmt, ...) TS_PRINTF(2, 3);
/* Handles getopt's '?' and ':' results: reports the bad option (usage, 2). */
int ts_cli_bad_option(const char *cmd, int optopt_char, const char *arg);

/* Strict number parsing for option values: the whole string must parse and
 * lie in [min, max]; otherwise a usage error naming the option is printed
 * and TS_EXIT_USAGE returned. 0 on success. */
int ts_cli_int(const char *cmd, const char *opt, const char *s, long min, long max, long *out);
int ts_cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);
int ts_cli_double(const char *cmd, const char *opt, const char *s, double min, double max, double *out);
/* --threads N: 0 or absent means all cores. */
int ts_cli_threads(const char *cmd, const char *s, int *out);

/* Terminal progress bar on stderr: label, bar, done/total, rate and ETA.
 * Draws only when stderr is a terminal (quiet when piped), at most ~10 times
 * a second. Safe to call from one thread at a time. */
typedef struct TsCliProgress {
  const char *label;
  int64_t total;
  double start, last_draw;
  int enabled, drawn;
} TsCliProgress;

void ts_cli_progress_begin(TsCliProgress *p, const char *label, int64_t total);
void ts_cli_progress_update(TsCliProgress *p, int64_t done);
void ts_cli_progress_end(TsCliProgress *p, int64_t done);

/* Opens --store PATH (NULL: the XDG default). On failure prints the error and
 * returns TS_EXIT_FAILURE; 0 on success. */
int ts_cli_open_store(const char *cmd, const char *path, TsStoreMode mode, TsStore **out);

/* SIGINT/SIGTERM set a flag that long jobs poll, so they can finish the item
 * in hand, write what they have and mark the run stopped. A second SIGINT
 * kills at once (but see ts_cli_stop_gently). */
void ts_cli_install_stop_handlers(void);
int ts_cli_stop_requested(void);
/* For core progress callbacks: a pointer to the flag (nonzero = stop). */
volatile int *ts_cli_stop_flag(void);
/* The exit status of a command that stopped on a signal, as a shell reports
 * one killed by it: 128 + the first stop signal (130 for SIGINT, 143 for
 * SIGTERM). */
int ts_cli_stop_exit_code(void);
/* For a job whose items write files in place (`generate`): after this, a
 * second SIGINT sets ts_cli_stop_now() instead of killing, so that the job
 * drops the rest of its batch once the files in hand are whole; a third
 * kills at once. */
void ts_cli_stop_gently(void);
int ts_cli_stop_now(void);

/* Prints the "--store PATH" and "--threads N" help lines, identical everywhere. */
void ts_cli_help_common(FILE *f, int with_threads);

#endif
