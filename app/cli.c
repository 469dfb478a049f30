#include "cli.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/pool.h"

int ts_cli_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "toposcope %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nTry 'toposcope %s --help'.\n", cmd);
  return TS_EXIT_USAGE;
}

int ts_cli_fail(const char *cmd, const TsError *err) {
  fprintf(stderr, "toposcope: %s: %s\n", cmd, err && err->message[0] ? err->message : "unknown error");
  return TS_EXIT_FAILURE;
}

int ts_cli_failf(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "toposcope: %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  return TS_EXIT_FAILURE;
}

int ts_cli_bad_option(const char *cmd, int optopt_char, const char *arg) {
  if (optopt_char && optopt_char != '?')
    return ts_cli_usage_error(cmd, "bad or incomplete option '-%c'", optopt_char);
  return ts_cli_usage_error(cmd, "unrecognised or incomplete option '%s'", arg ? arg : "?");
}

int ts_cli_int(const char *cmd, const char *opt, const char *s, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s ? s : "", &end, 10);
  if (!s || !*s || *end || errno == ERANGE)
    return ts_cli_usage_error(cmd, "%s expects an integer, not '%s'", opt, s ? s : "");
  if (v < min || v > max) return ts_cli_usage_error(cmd, "%s must be between %ld and %ld, not %ld", opt, min, max, v);
  *out = v;
  return 0;
}

int ts_cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out) {
  char *end;
  errno = 0;
  if (!s || !*s || *s == '-') return ts_cli_usage_error(cmd, "%s expects a non-negative integer, not '%s'", opt, s ? s : "");
  unsigned long long v = strtoull(s, &end, 0);
  if (*end || errno == ERANGE) return ts_cli_usage_error(cmd, "%s expects a non-negative integer, not '%s'", opt, s);
  *out = v;
  return 0;
}

int ts_cli_double(const char *cmd, const char *opt, const char *s, double min, double max, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s ? s : "", &end);
  if (!s || !*s || *end || errno == ERANGE || isnan(v))
    return ts_cli_usage_error(cmd, "%s expects a number, not '%s'", opt, s ? s : "");
  if (v < min || v > max) return ts_cli_usage_error(cmd, "%s must be between %g and %g, not %g", opt, min, max, v);
  *out = v;
  return 0;
}

int ts_cli_threads(const char *cmd, const char *s, int *out) {
  long v = 0; /* set on success; gcc -O3 cannot see that */
  int rc = ts_cli_int(cmd, "--threads", s, 0, 4096, &v);
  if (rc) return rc;
  *out = v == 0 ? ts_cpu_count() : (int)v;
  return 0;
}

/* ---- progress bar ---------------------------------------------------- */

static void format_duration(char *buf, size_t n, double s) {
  if (!isfinite(s) || s < 0) {
    snprintf(buf, n, "--:--");
    return;
  }
  long t = (long)(s + 0.5);
  if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else snprintf(buf, n, "%02ld:%02ld", t / 60, t % 60);
}

static void draw(TsCliProgress *p, int64_t done) {
  double now = ts_clock_monotonic();
  double el = now - p->start;
  double rate = el > 0 ? (double)done / el : 0;
  double frac = p->total > 0 ? (double)done / (double)p->total : 0;
  if (frac > 1) frac = 1;
  enum { W = 28 };
  char bar[W + 1];
  int fill = (int)(frac * W);
  for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : '-';
  bar[W] = '\0';
  char eta[32];
  format_duration(eta, sizeof eta, rate > 0 ? (double)(p->total - done) / rate : NAN);
  fprintf(stderr, "\r%s [%s] %lld/%lld %3.0f%%  %.1f/s  ETA %s \033[K", p->label, bar, (long long)done,
          (long long)p->total, 100 * frac, rate, eta);
  fflush(stderr);
  p->last_draw = now;
  p->drawn = 1;
}

void ts_cli_progress_begin(TsCliProgress *p, const char *label, int64_t total) {
  memset(p, 0, sizeof *p);
  p->label = label;
  p->total = total;
  p->start = ts_clock_monotonic();
  p->enabled = isatty(STDERR_FILENO) && getenv("TOPOSCOPE_NO_PROGRESS") == NULL;
}

void ts_cli_progress_update(TsCliProgress *p, int64_t done) {
  if (!p->enabled) return;
  if (ts_clock_monotonic() - p->last_draw < 0.1 && done < p->total) return;
  draw(p, done);
}

void ts_cli_progress_end(TsCliProgress *p, int64_t done) {
  if (!p->enabled) return;
  draw(p, done);
  fputc('\n', stderr);
}

/* ---- stop signals ---------------------------------------------------- */

static volatile int stop_flag, stop_now_flag, gentle;
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig) {
  if (stop_flag && sig == SIGINT) {
    if (gentle && !stop_now_flag) {
      stop_now_flag = 1;
      return;
    }
    signal(SIGINT, SIG_DFL);
    raise(SIGINT);
  }
  if (!stop_signal) stop_signal = sig;
  stop_flag = 1;
}

void ts_cli_install_stop_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

int ts_cli_stop_requested(void) { return stop_flag; }
void ts_cli_stop_gently(void) { gentle = 1; }
int ts_cli_stop_now(void) { return stop_now_flag; }
volatile int *ts_cli_stop_flag(void) { return &stop_flag; }
int ts_cli_stop_exit_code(void) { return 128 + (stop_signal ? (int)stop_signal : SIGINT); }

void ts_cli_help_common(FILE *f, int with_threads) {
  fprintf(f, "  --store PATH          run store (default: $XDG_DATA_HOME/toposcope/runs.sqlite)\n");
  if (with_threads) fprintf(f, "  --threads N           worker threads (default: 0 = all cores)\n");
  fprintf(f, "  -h, --help            show this help\n");
}
