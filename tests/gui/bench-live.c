/* bench-live.c — figures for tests/bench/bench-live.py (not a test).
 *
 *   bench-live live STORE SECONDS RATE
 *     A writer process (this program, "writer" mode) commits RATE metric
 *     rows a second to a running training run for SECONDS while the
 *     workbench window shows it in the Train panel. Measured on the main
 *     loop: the longest gap between two ticks of a 5 ms probe (a stall),
 *     frame times (paint to paint while the plot moves), and how many of
 *     the rows reached the plot (caught_up_s: how long after the writer's
 *     last row the plot had every row).
 *   bench-live million STORE ROWS
 *     Writes a store with one finished run of ROWS metric rows, then opens
 *     the window on it: time until the Runs panel lists the run, and until
 *     the run's metric is plotted (selected, every row read and drawn once;
 *     first_points_s: from the selection to the first points drawn).
 * Prints one JSON line. Needs a display (xvfb-run). */
#include <adwaita.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run/store.h"
#include "ui-resources.h"
#include "window.h"

static double now_s(void) { return g_get_monotonic_time() / 1e6; }

static int writer(const char *store, double seconds, double rate) {
  TsError err = {0};
  TsStore *s;
  if (ts_store_open(store, TS_STORE_WRITE, &s, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  int64_t run;
  int64_t total = (int64_t)(seconds * rate);
  if (ts_store_run_begin(s, "train", "bench writer", "{\"epochs\":1}", &run, &err)) return 1;
  ts_store_flush(s, &err);
  double t0 = now_s();
  for (int64_t i = 0; i < total; i++) {
    /* paced: row i is due at t0 + i / rate */
    double due = t0 + (double)i / rate, wait = due - now_s();
    if (wait > 0) g_usleep((gulong)(wait * 1e6));
    if (ts_store_metric(s, run, i, 0, "train/loss", 2.0 / sqrt((double)i + 1.0), &err)) return 1;
    if (i % 100 == 0 && ts_store_progress(s, run, i, total, &err)) return 1;
  }
  ts_store_run_end(s, run, TS_RUN_FINISHED, NULL, &err);
  ts_store_close(s);
  return 0;
}

/* --- main-loop measurements -------------------------------------------------------- */

static double probe_last, max_stall, frame_start;
static GArray *frames; /* paint times */
static GArray *costs;  /* seconds from a frame's update to its paint's end */

static gboolean probe(gpointer d) {
  (void)d;
  double t = now_s();
  if (probe_last > 0 && t - probe_last > max_stall) max_stall = t - probe_last;
  probe_last = t;
  return G_SOURCE_CONTINUE;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void on_update(GdkFrameClock *c, gpointer d) {
  (void)c, (void)d;
  frame_start = now_s();
}

static void on_paint(GdkFrameClock *c, gpointer d) {
  (void)c, (void)d;
  double t = now_s();
  g_array_append_val(frames, t);
  if (frame_start > 0) {
    double cost = t - frame_start;
    g_array_append_val(costs, cost);
  }
  frame_start = 0;
}

static double quantile(GArray *a, double q) {
  if (!a->len) return NAN;
  qsort(a->data, a->len, sizeof(double), cmp_double);
  guint i = (guint)(q * (a->len - 1) + 0.5);
  return g_array_index(a, double, i);
}


static gboolean wake(gpointer d) {
  (void)d;
  return G_SOURCE_CONTINUE;
}

static TsWindow *open_window(const char *store, const char *panel) {
  TsWindow *win = ts_window_new(NULL, FALSE);
  gtk_window_set_default_size(GTK_WINDOW(win), 1240, 780);
  ts_window_set_store(win, store);
  ts_window_show_panel(win, panel);
  gtk_window_present(GTK_WINDOW(win));
  return win;
}

static int live(const char *store, double seconds, double rate, const char *self_exe) {
  char secs[32], rt[32];
  snprintf(secs, sizeof secs, "%g", seconds);
  snprintf(rt, sizeof rt, "%g", rate);
  TsWindow *win = open_window(store, "train");
  /* let the window map before the writer starts */
  guint w = g_timeout_add(20, wake, NULL);
  for (double end = now_s() + 1.0; now_s() < end;) g_main_context_iteration(NULL, TRUE);
  pid_t pid = fork();
  if (pid == 0) {
    execl(self_exe, self_exe, "writer", store, secs, rt, (char *)NULL);
    _exit(127);
  }
  frames = g_array_new(FALSE, FALSE, sizeof(double));
  costs = g_array_new(FALSE, FALSE, sizeof(double));
  GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(win));
  g_signal_connect(clock, "update", G_CALLBACK(on_update), NULL);
  g_signal_connect(clock, "after-paint", G_CALLBACK(on_paint), NULL);
  g_timeout_add(5, probe, NULL);
  int status = 0;
  double t0 = now_s();
  TsTrainPanel *tp = ts_window_get_train_panel(win);
  guint expected = (guint)(seconds * rate);
  double caught_up = -1;
  while (now_s() - t0 < seconds + 20) {
    g_main_context_iteration(NULL, TRUE);
    if (waitpid(pid, &status, WNOHANG) == pid) pid = 0;
    if (!pid && ts_train_panel_get_loss_points(tp) >= expected) {
      caught_up = now_s() - t0;
      break;
    }
  }
  if (pid) kill(pid, SIGTERM), waitpid(pid, &status, 0);
  g_source_remove(w);
  /* frame intervals while data arrived, and what each frame cost */
  GArray *iv = g_array_new(FALSE, FALSE, sizeof(double));
  for (guint i = 1; i < frames->len; i++) {
    double d = g_array_index(frames, double, i) - g_array_index(frames, double, i - 1);
    g_array_append_val(iv, d);
  }
  printf("{\"mode\":\"live\",\"seconds\":%g,\"rate\":%g,\"rows\":%u,\"points\":%u,\"caught_up_s\":%.3f,"
         "\"frames\":%u,\"frame_interval_median_ms\":%.1f,\"frame_cost_median_ms\":%.2f,\"frame_cost_p99_ms\":%.2f,"
         "\"frame_cost_max_ms\":%.2f,\"max_stall_ms\":%.2f}\n",
         seconds, rate, expected, ts_train_panel_get_loss_points(tp), caught_up - seconds, frames->len,
         1e3 * quantile(iv, 0.5), 1e3 * quantile(costs, 0.5), 1e3 * quantile(costs, 0.99), 1e3 * quantile(costs, 1.0),
         1e3 * max_stall);
  g_array_unref(iv);
  gtk_window_destroy(GTK_WINDOW(win));
  return 0;
}

static int million(const char *store, long rows) {
  TsError err = {0};
  TsStore *s;
  double tw = now_s();
  if (ts_store_open(store, TS_STORE_WRITE, &s, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  int64_t run;
  ts_store_run_begin(s, "train", "a million steps", "{\"epochs\":10}", &run, &err);
  for (long i = 0; i < rows; i++) ts_store_metric(s, run, i, i * 10 / rows, "train/loss", 2.0 / sqrt(i + 1.0), &err);
  ts_store_progress(s, run, rows, rows, &err);
  ts_store_run_end(s, run, TS_RUN_FINISHED, NULL, &err);
  ts_store_close(s);
  tw = now_s() - tw;
  double t0 = now_s();
  TsWindow *win = open_window(store, "runs");
  TsRunsPanel *rp = ts_window_get_runs_panel(win);
  g_timeout_add(5, probe, NULL);
  guint wk = g_timeout_add(10, wake, NULL);
  double listed = -1, plotted = -1;
  while (now_s() - t0 < 60 && listed < 0) {
    g_main_context_iteration(NULL, TRUE);
    if (ts_runs_panel_get_n_shown(rp) == 1) listed = now_s() - t0;
  }
  max_stall = 0, probe_last = 0; /* the window's own start is not the reader's doing */
  gint64 id = run;
  double t_sel = now_s(), first_points = -1;
  ts_runs_panel_select_runs(rp, &id, 1);
  frames = g_array_new(FALSE, FALSE, sizeof(double));
  costs = g_array_new(FALSE, FALSE, sizeof(double));
  GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(win));
  g_signal_connect(clock, "after-paint", G_CALLBACK(on_paint), NULL);
  while (now_s() - t0 < 60 && plotted < 0) {
    guint seen = frames->len;
    g_main_context_iteration(NULL, TRUE);
    /* plotted: every row is in the plot and a frame was painted after that */
    if (first_points < 0 && ts_runs_panel_get_overlay_points(rp, 0) > 0 && frames->len > seen) first_points = now_s() - t_sel;
    if (ts_runs_panel_get_overlay_points(rp, 0) >= (guint)rows && frames->len > seen) plotted = now_s() - t0;
  }
  g_source_remove(wk);
  printf("{\"mode\":\"million\",\"rows\":%ld,\"write_s\":%.3f,\"list_s\":%.3f,\"first_points_s\":%.3f,"
         "\"first_plot_s\":%.3f,\"max_stall_ms\":%.2f}\n",
         rows, tw, listed, first_points, plotted, 1e3 * max_stall);
  gtk_window_destroy(GTK_WINDOW(win));
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 5 && !strcmp(argv[1], "writer")) return writer(argv[2], atof(argv[3]), atof(argv[4]));
  if (argc < 4) {
    fprintf(stderr, "usage: bench-live live STORE SECONDS RATE | million STORE ROWS\n");
    return 2;
  }
  if (!gtk_init_check()) {
    fprintf(stderr, "bench-live: no display (run under xvfb-run)\n");
    return 77;
  }
  adw_init();
  ts_ui_resources_register();
  char *exe = g_file_read_link("/proc/self/exe", NULL);
  int rc = !strcmp(argv[1], "live") && argc >= 5 ? live(argv[2], atof(argv[3]), atof(argv[4]), exe)
           : !strcmp(argv[1], "million")        ? million(argv[2], atol(argv[3]))
                                                 : 2;
  g_free(exe);
  return rc;
}
