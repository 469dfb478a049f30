/* test-train.c — the Train and Runs panels with real `toposcope train`
 * processes under a display (Xvfb in CI):
 *   - a new store: the Runs panel and the header say it is not there yet;
 *   - the form's command line is what runs; a short training started from
 *     the Train panel creates the store, its loss points arrive in the
 *     plot (one per step, every one), and the run finishes in the Runs
 *     panel with its best validation accuracy;
 *   - a long run is stopped (SIGINT: it shows stopped, with a checkpoint),
 *     resumed (the same run continues past where it stopped) and stopped
 *     again;
 *   - a run whose command fails shows the command's message;
 *   - two runs overlaid in the Runs panel: one series each, with points,
 *     and a parameter table whose differing rows are counted;
 *   - closing the window does not stop a run, and a new window follows it;
 *   - another store opens (the header and the list follow).
 * Skips (77) without a display or without TOPOSCOPE (the binary to run).
 * TS_SCREENSHOT_DIR=DIR saves both panels, light and dark, there. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>

#include "run/store.h"
#include "ts-test.h"
#include "ui-resources.h"
#include "window.h"

static char tmpdir[256];
static char store_path[512];
static TsWindow *win;

/* --- waiting ----------------------------------------------------------------------- */

static gboolean wake(gpointer data) {
  (void)data;
  return G_SOURCE_CONTINUE;
}

static int wait_until(gboolean (*cond)(gpointer), gpointer data, double timeout_s) {
  gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
  guint id = g_timeout_add(20, wake, NULL);
  int ok = 1;
  while (!cond(data)) {
    if (g_get_monotonic_time() > end) {
      ok = 0;
      break;
    }
    g_main_context_iteration(NULL, TRUE);
  }
  g_source_remove(id);
  return ok;
}

static gboolean not_yet(gpointer d) {
  (void)d;
  return FALSE;
}
static void pump(double seconds) { wait_until(not_yet, NULL, seconds); }

static const TsRunSummary *run_of(gint64 id) {
  return id >= 0 ? ts_store_reader_find_run(ts_window_get_reader(win), id) : NULL;
}

typedef struct {
  guint n;
  gint64 id;
} Started;
static gboolean started_known(gpointer p) {
  Started *s = p;
  s->id = ts_train_panel_get_started_run(ts_window_get_train_panel(win), s->n);
  return s->id >= 0;
}

typedef struct {
  gint64 id;
  TsRunStatus status;
  gint64 min_done;
} RunIs;
static gboolean run_is(gpointer p) {
  RunIs *w = p;
  const TsRunSummary *s = run_of(w->id);
  return s && s->info.status == w->status && s->info.progress_done >= w->min_done;
}

static gboolean loss_points_at_least(gpointer p) {
  return ts_train_panel_get_loss_points(ts_window_get_train_panel(win)) >= GPOINTER_TO_UINT(p);
}

static gboolean state_is(gpointer p) {
  return ts_store_reader_get_state(ts_window_get_reader(win)) == (TsStoreState)GPOINTER_TO_INT(p);
}

/* --- the window's pixels ------------------------------------------------------------- */

static GtkCssProvider *css_light, *css_dark;

/* The application loads style.css and style-dark.css; a test window has no
 * application, so it loads them itself. */
static void set_dark(gboolean dark) {
  GdkDisplay *d = gdk_display_get_default();
  if (!css_light) {
    css_light = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(css_light, "/org/toposcope/Toposcope/style.css");
    gtk_style_context_add_provider_for_display(d, GTK_STYLE_PROVIDER(css_light), GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
    css_dark = gtk_css_provider_new();
    gtk_css_provider_load_from_resource(css_dark, "/org/toposcope/Toposcope/style-dark.css");
  }
  adw_style_manager_set_color_scheme(adw_style_manager_get_default(),
                                     dark ? ADW_COLOR_SCHEME_FORCE_DARK : ADW_COLOR_SCHEME_FORCE_LIGHT);
  if (dark)
    gtk_style_context_add_provider_for_display(d, GTK_STYLE_PROVIDER(css_dark), GTK_STYLE_PROVIDER_PRIORITY_APPLICATION + 1);
  else gtk_style_context_remove_provider_for_display(d, GTK_STYLE_PROVIDER(css_dark));
}

static cairo_surface_t *render_window(void) {
  GtkWidget *w = GTK_WIDGET(win);
  int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
  GdkPaintable *p = gtk_widget_paintable_new(w);
  GtkSnapshot *s = gtk_snapshot_new();
  gdk_paintable_snapshot(p, GDK_SNAPSHOT(s), width, height);
  GskRenderNode *node = gtk_snapshot_free_to_node(s);
  g_object_unref(p);
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, MAX(width, 1), MAX(height, 1));
  if (!node) return img;
  GdkTexture *tex = gsk_renderer_render_texture(gtk_native_get_renderer(GTK_NATIVE(w)), node,
                                                &GRAPHENE_RECT_INIT(0, 0, width, height));
  gsk_render_node_unref(node);
  cairo_surface_flush(img);
  gdk_texture_download(tex, cairo_image_surface_get_data(img), (gsize)cairo_image_surface_get_stride(img));
  cairo_surface_mark_dirty(img);
  g_object_unref(tex);
  return img;
}

/* Mean luminance of a rectangle (0 black .. 1 white). */
static double luminance(cairo_surface_t *s, int x0, int y0, int x1, int y1) {
  int stride = cairo_image_surface_get_stride(s);
  const uint8_t *d = cairo_image_surface_get_data(s);
  double sum = 0;
  long n = 0;
  for (int y = y0; y < y1; y += 3)
    for (int x = x0; x < x1; x += 3) {
      uint32_t p = *(const uint32_t *)(const void *)(d + (size_t)y * stride + 4 * (size_t)x);
      sum += (0.2126 * ((p >> 16) & 255) + 0.7152 * ((p >> 8) & 255) + 0.0722 * (p & 255)) / 255.0;
      n++;
    }
  return n ? sum / (double)n : 0;
}

/* Distinct colours (4 bits a channel) on a coarse grid of the picture. */
static int distinct_colours(cairo_surface_t *s) {
  static uint8_t seen[4096];
  memset(seen, 0, sizeof seen);
  int n = 0, w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  int stride = cairo_image_surface_get_stride(s);
  const uint8_t *d = cairo_image_surface_get_data(s);
  for (int y = 0; y < h; y += 7)
    for (int x = 0; x < w; x += 7) {
      uint32_t p = *(const uint32_t *)(const void *)(d + (size_t)y * stride + 4 * (size_t)x);
      int q = (int)(((p >> 20) & 0xf) << 8 | ((p >> 12) & 0xf) << 4 | ((p >> 4) & 0xf));
      if (!seen[q]) seen[q] = 1, n++;
    }
  return n;
}

static void screenshot(const char *panel, const char *file, gboolean dark, double *plot_lum) {
  set_dark(dark);
  ts_window_show_panel(win, panel);
  pump(0.8); /* layout, the style change and a few frames */
  /* under a loaded Xvfb the window's render can still come out blank for a
   * while: try again until it holds a real picture */
  cairo_surface_t *s = NULL;
  for (int attempt = 0; attempt < 40; attempt++) {
    if (s) cairo_surface_destroy(s), pump(0.25);
    s = render_window();
    if (distinct_colours(s) > 20) break;
  }
  /* the plot area of either panel: the right part, under the header */
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  if (plot_lum) *plot_lum = luminance(s, w * 2 / 3, h / 2, w - 30, h - 60);
  const char *dir = g_getenv("TS_SCREENSHOT_DIR");
  if (dir) {
    char *name = g_strdup_printf("%s/%s%s.png", dir, file ? file : panel, dark ? "-dark" : "");
    cairo_surface_write_to_png(s, name);
    printf("wrote %s\n", name);
    g_free(name);
  }
  cairo_surface_destroy(s);
}

/* --- a tiny dataset: 28x28 bars in four directions (IDX files) ------------------------- */

static void write_be32(FILE *f, uint32_t v) {
  unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
  fwrite(b, 1, 4, f);
}

static char *make_dataset(const char *name, int n, guint32 seed) {
  char *img = g_strdup_printf("%s/%s-images.idx", tmpdir, name), *lbl = g_strdup_printf("%s/%s-labels.idx", tmpdir, name);
  FILE *fi = fopen(img, "wb"), *fl = fopen(lbl, "wb");
  write_be32(fi, 0x803), write_be32(fi, (uint32_t)n), write_be32(fi, 28), write_be32(fi, 28);
  write_be32(fl, 0x801), write_be32(fl, (uint32_t)n);
  GRand *r = g_rand_new_with_seed(seed);
  unsigned char px[784];
  for (int i = 0; i < n; i++) {
    int cls = i % 4, off = g_rand_int_range(r, -8, 8);
    for (int y = 0; y < 28; y++)
      for (int x = 0; x < 28; x++) {
        int d = cls == 0 ? y - 14 - off : cls == 1 ? x - 14 - off : cls == 2 ? x - y - off : x + y - 27 - off;
        int v = g_rand_int_range(r, 0, 90) + (abs(d) <= 1 ? 150 : 0);
        px[y * 28 + x] = (unsigned char)(v > 255 ? 255 : v);
      }
    fwrite(px, 1, sizeof px, fi);
    unsigned char c = (unsigned char)cls;
    fwrite(&c, 1, 1, fl);
  }
  g_rand_free(r);
  fclose(fi), fclose(fl);
  char *spec = g_strdup_printf("idx:%s,%s", img, lbl);
  g_free(img), g_free(lbl);
  return spec;
}

static char *train_spec, *val_spec;

static void fill_form(TsTrainPanel *tp, const char *name, const char *epochs) {
  ts_train_panel_set_workflow(tp, "classify");
  ts_train_panel_apply_preset(tp, 0);
  ts_train_panel_set_option(tp, "model", "mlp");
  ts_train_panel_set_option(tp, "hidden", "32");
  ts_train_panel_set_option(tp, "data", train_spec);
  ts_train_panel_set_option(tp, "val", val_spec);
  ts_train_panel_set_option(tp, "epochs", epochs);
  ts_train_panel_set_option(tp, "batch", "16");
  ts_train_panel_set_option(tp, "optimizer", "adam");
  ts_train_panel_set_option(tp, "name", name);
}

/* --- the tests ------------------------------------------------------------------------- */

static gint64 short_run = -1, long_run = -1;

static void test_new_store(void) {
  ts_window_set_store(win, store_path);
  TS_CHECK(wait_until(state_is, GINT_TO_POINTER(TS_STORE_STATE_MISSING), 20));
  pump(0.1);
  TS_CHECK(ts_runs_panel_get_n_shown(ts_window_get_runs_panel(win)) == 0);
  TS_CHECKF(strstr(ts_window_get_store_label(win), "runs.sqlite (new)") != NULL, "header: %s",
            ts_window_get_store_label(win));
}

static void test_short_training(void) {
  TsTrainPanel *tp = ts_window_get_train_panel(win);
  ts_window_show_panel(win, "train");
  fill_form(tp, "short", "3");
  const char *cmd = ts_train_panel_get_command_line(tp);
  TS_CHECKF(g_str_has_prefix(cmd, "toposcope train --model mlp ") && strstr(cmd, "--epochs 3") &&
                strstr(cmd, "--optimizer adam") && strstr(cmd, "--hidden 32") && strstr(cmd, "--store") &&
                !strstr(cmd, "--momentum"),
            "command line: %s", cmd);
  TS_CHECK(ts_train_panel_start(tp));
  Started st = {0, -1};
  TS_CHECK(wait_until(started_known, &st, 60));
  short_run = st.id;
  /* 400 images in batches of 16: 25 steps an epoch */
  RunIs fin = {short_run, TS_RUN_FINISHED, 75};
  TS_CHECK(wait_until(run_is, &fin, 240));
  TS_CHECK(wait_until(loss_points_at_least, GUINT_TO_POINTER(75), 20));
  pump(0.6);
  TS_CHECKF(ts_train_panel_get_loss_points(tp) == 75, "%u loss points", ts_train_panel_get_loss_points(tp));
  const TsRunSummary *s = run_of(short_run);
  TS_CHECK(s && s->best_name && !strcmp(s->best_name, "val/accuracy") && s->best > 0.3);
  TS_CHECK(!strcmp(s->info.name, "short"));
  TS_CHECK(strstr(ts_train_panel_get_status_text(tp), "finished") != NULL);
  TS_CHECK(ts_runs_panel_get_n_shown(ts_window_get_runs_panel(win)) == 1);
  double x0, x1, y0, y1;
  ts_line_plot_get_range(ts_train_panel_get_loss_plot(tp), &x0, &x1, &y0, &y1);
  TS_CHECK(x1 >= 74 && y0 < y1);
}

static void test_stop_resume(void) {
  TsTrainPanel *tp = ts_window_get_train_panel(win);
  fill_form(tp, "long", "2000");
  TS_CHECK(ts_train_panel_start(tp));
  Started st = {1, -1};
  TS_CHECK(wait_until(started_known, &st, 60));
  long_run = st.id;
  TS_CHECK(ts_train_panel_get_selected_run(tp) == long_run);
  TS_CHECK(wait_until(loss_points_at_least, GUINT_TO_POINTER(30), 120));
  screenshot("train", NULL, FALSE, NULL);
  double dark_lum, light_lum;
  screenshot("train", NULL, TRUE, &dark_lum);
  set_dark(FALSE);
  pump(0.5);
  screenshot("train", NULL, FALSE, &light_lum);
  TS_CHECKF(dark_lum < 0.35 && light_lum > 0.75, "plot cards follow the style: dark %.2f, light %.2f", dark_lum,
            light_lum);
  ts_train_panel_stop_run(tp, long_run);
  RunIs stopped = {long_run, TS_RUN_STOPPED, 1};
  TS_CHECK(wait_until(run_is, &stopped, 60));
  gint64 at = run_of(long_run)->info.progress_done;
  TS_CHECK(strstr(ts_train_panel_get_status_text(tp), "stopped") != NULL);
  ts_train_panel_resume_run(tp, long_run);
  RunIs again = {long_run, TS_RUN_RUNNING, at + 20};
  TS_CHECK(wait_until(run_is, &again, 120));
  /* the resumed process continues the same run: still one row for it */
  guint rows_for_run = 0;
  guint n;
  const TsRunSummary *runs = ts_store_reader_get_runs(ts_window_get_reader(win), &n);
  for (guint i = 0; i < n; i++) rows_for_run += runs[i].info.id == long_run;
  TS_CHECK(rows_for_run == 1 && n == 2);
  ts_train_panel_stop_run(tp, long_run);
  stopped.min_done = at + 20;
  TS_CHECK(wait_until(run_is, &stopped, 60));
}

typedef struct {
  TsTrainPanel *tp;
} FailWait;
static gboolean failed_shown(gpointer p) {
  return strstr(ts_train_panel_get_status_text(((FailWait *)p)->tp), "Failed to start") != NULL;
}

static void test_failed_run(void) {
  TsTrainPanel *tp = ts_window_get_train_panel(win);
  fill_form(tp, "never", "1");
  /* each workflow says what it runs */
  TS_CHECK(ts_train_panel_set_workflow(tp, "ph"));
  TS_CHECK(strstr(ts_train_panel_get_command_line(tp), "train --task ph ") != NULL);
  TS_CHECK(ts_train_panel_set_workflow(tp, "finetune"));
  TS_CHECK(!ts_train_panel_start(tp)); /* no checkpoint to start from */
  ts_train_panel_set_option(tp, "init", "/x/pre.safetensors");
  TS_CHECK(strstr(ts_train_panel_get_command_line(tp), "--init /x/pre.safetensors") != NULL);
  ts_train_panel_set_option(tp, "init", "");
  TS_CHECK(ts_train_panel_set_workflow(tp, "combined"));
  TS_CHECK(strstr(ts_train_panel_get_command_line(tp), "train --combined ") != NULL);
  TS_CHECK(ts_train_panel_set_workflow(tp, "resume"));
  TS_CHECK(!strstr(ts_train_panel_get_command_line(tp), "--model"));
  /* scratch vs pretrained: experiment's own options, and the training options it passes on */
  TS_CHECK(ts_train_panel_set_workflow(tp, "experiment"));
  TS_CHECK(!ts_train_panel_start(tp)); /* its own --data is still empty */
  ts_train_panel_set_option(tp, "data", train_spec);
  ts_train_panel_set_option(tp, "init", "scratch,/x/pre.safetensors");
  ts_train_panel_set_option(tp, "per-class", "10");
  ts_train_panel_set_option(tp, "seeds", "1");
  ts_train_panel_set_option(tp, "limit", "40");
  {
    const char *cmd = ts_train_panel_get_command_line(tp);
    char *data = g_strdup_printf("--data %s ", train_spec);
    TS_CHECKF(g_str_has_prefix(cmd, "toposcope experiment ") && strstr(cmd, data) &&
                  strstr(cmd, "--init scratch,/x/pre.safetensors") && strstr(cmd, "--per-class 10") &&
                  strstr(cmd, "--seeds 1") && strstr(cmd, "--limit 40") && strstr(cmd, "--model mlp") &&
                  strstr(cmd, "--epochs 1") && strstr(cmd, "--store") && !strstr(cmd, "--task") &&
                  !strstr(cmd, "--quiet") && !strstr(cmd, "--name") && !strstr(cmd, "--jobs"),
              "command line: %s", cmd);
    g_free(data);
  }
  ts_train_panel_set_option(tp, "seeds", "0"); /* below experiment's range */
  TS_CHECK(!ts_train_panel_start(tp));
  ts_train_panel_set_option(tp, "seeds", "3");
  /* a bad value is caught before anything runs */
  TS_CHECK(ts_train_panel_set_workflow(tp, "classify"));
  ts_train_panel_set_option(tp, "batch", "sixteen");
  TS_CHECK(!ts_train_panel_start(tp));
  ts_train_panel_set_option(tp, "batch", "16");
  fill_form(tp, "broken", "1");
  char *missing = g_strdup_printf("idx:%s/none-images.idx,%s/none-labels.idx", tmpdir, tmpdir);
  ts_train_panel_set_option(tp, "data", missing);
  g_free(missing);
  TS_CHECK(ts_train_panel_start(tp));
  FailWait fw = {tp};
  TS_CHECK(wait_until(failed_shown, &fw, 60));
  TS_CHECKF(strstr(ts_train_panel_get_status_text(tp), "none-images.idx") != NULL, "message: %s",
            ts_train_panel_get_status_text(tp));
}

static gboolean overlay_ready(gpointer p) {
  TsRunsPanel *rp = p;
  return ts_runs_panel_get_overlay_series(rp) == 2 && ts_runs_panel_get_overlay_points(rp, 0) > 0 &&
         ts_runs_panel_get_overlay_points(rp, 1) > 0 && ts_runs_panel_get_n_differences(rp) >= 0;
}

static void test_overlay(void) {
  TsRunsPanel *rp = ts_window_get_runs_panel(win);
  ts_window_show_panel(win, "runs");
  gint64 ids[2] = {short_run, long_run};
  ts_runs_panel_select_runs(rp, ids, 2);
  TS_CHECK(wait_until(overlay_ready, rp, 30));
  TS_CHECK(!g_strcmp0(ts_runs_panel_get_overlay_metric(rp), "train/loss"));
  TS_CHECKF(ts_runs_panel_get_overlay_points(rp, 0) == 75 || ts_runs_panel_get_overlay_points(rp, 1) == 75,
            "points %u %u", ts_runs_panel_get_overlay_points(rp, 0), ts_runs_panel_get_overlay_points(rp, 1));
  /* name, epochs and save differ at least */
  TS_CHECKF(ts_runs_panel_get_n_differences(rp) >= 3, "%d differing rows", ts_runs_panel_get_n_differences(rp));
  /* by epoch: the short run's 75 steps span its 3 epochs */
  ts_runs_panel_set_overlay(rp, "val/accuracy", 1);
  TS_CHECK(wait_until(overlay_ready, rp, 30));
  double x0, x1, y0, y1;
  ts_line_plot_get_range(ts_runs_panel_get_overlay_plot(rp), &x0, &x1, &y0, &y1);
  /* accuracy can be 1 everywhere on these bars: the range is widened around it */
  TS_CHECKF(x1 >= 3 && y0 <= 1 && y1 >= 0.5, "by epoch: x %g..%g, y %g..%g, metric %s", x0, x1, y0, y1,
            ts_runs_panel_get_overlay_metric(rp));
  ts_runs_panel_set_overlay(rp, "train/loss", 0);
  TS_CHECK(wait_until(overlay_ready, rp, 30));
  /* search narrows the list */
  ts_runs_panel_set_search(rp, "short");
  TS_CHECK(ts_runs_panel_get_n_shown(rp) == 1);
  ts_runs_panel_set_search(rp, "");
  TS_CHECK(ts_runs_panel_get_n_shown(rp) == 2);
  ts_runs_panel_select_runs(rp, ids, 2);
  TS_CHECK(wait_until(overlay_ready, rp, 30));
  double dark_lum;
  screenshot("runs", NULL, FALSE, NULL);
  screenshot("runs", NULL, TRUE, &dark_lum);
  TS_CHECK(dark_lum < 0.35);
  set_dark(FALSE);
  ts_runs_panel_show_page(rp, "parameters");
  pump(0.3);
  ts_runs_panel_show_page(rp, "metrics");
}

static gboolean follows(gpointer p) {
  gint64 id = *(gint64 *)p;
  TsTrainPanel *tp = ts_window_get_train_panel(win);
  const TsRunSummary *s = run_of(id);
  return ts_train_panel_get_n_followed(tp) >= 1 && ts_train_panel_get_selected_run(tp) == id && s &&
         s->info.status == TS_RUN_RUNNING;
}

typedef struct {
  int done, ok;
} QueryDone;
static void on_deleted(GObject *src, GAsyncResult *res, gpointer user) {
  (void)src;
  QueryDone *q = user;
  q->ok = ts_store_reader_query_finish(res, NULL) != NULL;
  q->done = 1;
}
static gboolean deleted_and_gone(gpointer p) {
  QueryDone *q = p;
  return q->done && q->ok && ts_train_panel_get_n_followed(ts_window_get_train_panel(win)) == 0 &&
         ts_runs_panel_get_n_shown(ts_window_get_runs_panel(win)) == 2;
}

static TsWindow *new_window(void) {
  TsWindow *w = ts_window_new(NULL, FALSE);
  gtk_window_set_default_size(GTK_WINDOW(w), 1240, 780);
  ts_train_panel_set_program(ts_window_get_train_panel(w), g_getenv("TOPOSCOPE"));
  gtk_window_present(GTK_WINDOW(w));
  return w;
}

static void test_close_keeps_runs(void) {
  TsTrainPanel *tp = ts_window_get_train_panel(win);
  fill_form(tp, "outlives", "2000");
  TS_CHECK(ts_train_panel_start(tp));
  Started st = {3, -1};
  TS_CHECK(wait_until(started_known, &st, 60));
  RunIs going = {st.id, TS_RUN_RUNNING, 1};
  TS_CHECK(wait_until(run_is, &going, 60));
  gint64 pid = run_of(st.id)->info.pid;
  gtk_window_destroy(GTK_WINDOW(win));
  win = NULL;
  pump(1.5);
  TS_CHECK(pid > 0 && kill((pid_t)pid, 0) == 0);
  /* a new window shows the run still running and follows it */
  win = new_window();
  ts_window_set_store(win, store_path);
  TS_CHECK(wait_until(follows, &st.id, 60));
  TS_CHECK(wait_until(loss_points_at_least, GUINT_TO_POINTER(1), 60));
  ts_train_panel_stop_run(ts_window_get_train_panel(win), st.id);
  RunIs stopped = {st.id, TS_RUN_STOPPED, 1};
  TS_CHECK(wait_until(run_is, &stopped, 60));
  /* deleted from the store (as the Runs panel's Delete does): its row goes */
  QueryDone qd = {0};
  ts_store_reader_delete_run(ts_window_get_reader(win), st.id, NULL, on_deleted, &qd);
  TS_CHECK(wait_until(deleted_and_gone, &qd, 30));
}

static gboolean runs_shown(gpointer p) {
  return ts_runs_panel_get_n_shown(ts_window_get_runs_panel(win)) == GPOINTER_TO_UINT(p) &&
         ts_store_reader_get_state(ts_window_get_reader(win)) == TS_STORE_STATE_OPEN;
}

/* Whether a label under w shows text containing needle. */
static gboolean has_label(GtkWidget *w, const char *needle) {
  if (GTK_IS_LABEL(w) && strstr(gtk_label_get_text(GTK_LABEL(w)), needle)) return TRUE;
  for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
    if (has_label(c, needle)) return TRUE;
  return FALSE;
}

static gboolean experiments_shown(gpointer p) {
  return ts_runs_panel_get_n_experiments(ts_window_get_runs_panel(win)) == GPOINTER_TO_UINT(p);
}

static void test_second_store(void) {
  char *other = g_strdup_printf("%s/elsewhere/remote.sqlite", tmpdir);
  TsStore *w;
  TsError err = {0};
  TS_CHECK(ts_store_open(other, TS_STORE_WRITE, &w, &err) == TS_OK);
  int64_t run;
  TS_CHECK(ts_store_run_begin(w, "train", "from the server", "{\"epochs\":1}", &run, &err) == TS_OK);
  for (int i = 0; i < 10; i++) TS_CHECK(ts_store_metric(w, run, i, 0, "train/loss", 1.0 / (i + 1), &err) == TS_OK);
  TS_CHECK(ts_store_run_end(w, run, TS_RUN_FINISHED, NULL, &err) == TS_OK);
  /* an experiment: two initialisations x two seeds at one subset size */
  int64_t exp;
  int existed;
  TS_CHECK(ts_store_experiment_open(w, "kaji table", "finetune", "{}", &exp, &existed, &err) == TS_OK);
  const char *inits[2] = {"scratch", "/ckpt/pre trained.safetensors"};
  for (int i = 0; i < 2; i++)
    for (int seed = 0; seed < 2; seed++) {
      int64_t r;
      char cell[256];
      snprintf(cell, sizeof cell, "init=%s per_class=10 seed=%d", inits[i], seed);
      TS_CHECK(ts_store_run_begin(w, "train", cell, "{\"epochs\":1}", &r, &err) == TS_OK);
      TS_CHECK(ts_store_run_group(w, r, exp, cell, 0, &err) == TS_OK);
      TS_CHECK(ts_store_metric(w, r, 10, 0, "val/accuracy", 0.5 + 0.2 * i + 0.05 * seed, &err) == TS_OK);
      TS_CHECK(ts_store_run_end(w, r, TS_RUN_FINISHED, NULL, &err) == TS_OK);
    }
  ts_store_close(w);
  ts_window_set_store(win, other);
  TS_CHECK(wait_until(runs_shown, GUINT_TO_POINTER(5), 30));
  TS_CHECK(wait_until(experiments_shown, GUINT_TO_POINTER(1), 30));
  ts_window_show_panel(win, "runs");
  ts_runs_panel_show_page(ts_window_get_runs_panel(win), "experiments");
  screenshot("runs", "experiments", FALSE, NULL);
  TS_CHECK(has_label(GTK_WIDGET(ts_window_get_runs_panel(win)), "kaji table (experiment ")); /* by its name */
  ts_runs_panel_show_page(ts_window_get_runs_panel(win), "metrics");
  TS_CHECK(!strcmp(ts_store_reader_get_path(ts_window_get_reader(win)), other));
  TS_CHECK(strstr(ts_window_get_store_label(win), "remote.sqlite") && !strstr(ts_window_get_store_label(win), "not"));
  guint n;
  const TsRunSummary *runs = ts_store_reader_get_runs(ts_window_get_reader(win), &n);
  TS_CHECK(n == 5 && !strcmp(runs[n - 1].info.name, "from the server"));
  /* and back */
  ts_window_set_store(win, store_path);
  TS_CHECK(wait_until(runs_shown, GUINT_TO_POINTER(2), 30));
  g_free(other);
}

static gboolean experiment_done(gpointer p) {
  (void)p;
  guint n, done = 0;
  const TsRunSummary *runs = ts_store_reader_get_runs(ts_window_get_reader(win), &n);
  for (guint i = 0; i < n; i++)
    if (runs[i].info.experiment > 0 && runs[i].info.status == TS_RUN_FINISHED) done++;
  return done == 2 && ts_runs_panel_get_n_experiments(ts_window_get_runs_panel(win)) == 1;
}

/* The Experiment workflow: scratch against a checkpoint made here, one
 * subset size, one seed, one epoch; its two fine-tunings group in the store. */
static void test_experiment(void) {
  char *ckpt = g_strdup_printf("%s/pre.safetensors", tmpdir), *cstore = g_strdup_printf("%s/ckpt.sqlite", tmpdir);
  const char *argv[] = {g_getenv("TOPOSCOPE"), "train", "--model", "mlp", "--hidden", "32", "--data", train_spec,
                        "--val", "none", "--epochs", "1", "--batch", "16", "--save", ckpt, "--store", cstore, "-q",
                        NULL};
  int status = -1;
  TS_CHECK(g_spawn_sync(NULL, (char **)(guintptr)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                        &status, NULL) &&
           status == 0 && g_file_test(ckpt, G_FILE_TEST_EXISTS));
  TsTrainPanel *tp = ts_window_get_train_panel(win);
  ts_window_show_panel(win, "train");
  ts_train_panel_apply_preset(tp, 0);
  TS_CHECK(ts_train_panel_set_workflow(tp, "experiment"));
  char *inits = g_strdup_printf("scratch,%s", ckpt);
  ts_train_panel_set_option(tp, "data", train_spec);
  ts_train_panel_set_option(tp, "val", val_spec);
  ts_train_panel_set_option(tp, "init", inits);
  ts_train_panel_set_option(tp, "per-class", "20");
  ts_train_panel_set_option(tp, "seeds", "1");
  ts_train_panel_set_option(tp, "model", "mlp");
  ts_train_panel_set_option(tp, "hidden", "32");
  ts_train_panel_set_option(tp, "epochs", "1");
  ts_train_panel_set_option(tp, "batch", "16");
  ts_train_panel_set_option(tp, "limit", "200");
  ts_train_panel_set_option(tp, "val-limit", "50");
  ts_train_panel_set_option(tp, "subset-seed", "5"); /* train's own: not shown, not passed */
  const char *cmd = ts_train_panel_get_command_line(tp);
  char *want = g_strdup_printf("--init scratch,%s --per-class 20 --seeds 1 ", ckpt);
  TS_CHECKF(g_str_has_prefix(cmd, "toposcope experiment --data idx:") && strstr(cmd, want) &&
                strstr(cmd, "--model mlp") && strstr(cmd, "--epochs 1") && strstr(cmd, "--limit 200") &&
                strstr(cmd, "--val-limit 50") && strstr(cmd, "--store") && !strstr(cmd, "--subset-seed") &&
                !strstr(cmd, "--task"),
            "command line: %s", cmd);
  TS_CHECK(ts_train_panel_start(tp));
  TS_CHECK(wait_until(experiment_done, NULL, 240));
  guint n, in_exp = 0;
  gint64 exp = -1;
  gboolean same = TRUE;
  const TsRunSummary *runs = ts_store_reader_get_runs(ts_window_get_reader(win), &n);
  for (guint i = 0; i < n; i++) {
    if (runs[i].info.experiment <= 0) continue;
    if (exp >= 0 && runs[i].info.experiment != exp) same = FALSE;
    exp = runs[i].info.experiment;
    in_exp++;
  }
  TS_CHECK(in_exp == 2 && same);
  ts_window_show_panel(win, "runs");
  ts_runs_panel_show_page(ts_window_get_runs_panel(win), "experiments");
  pump(0.3);
  ts_runs_panel_show_page(ts_window_get_runs_panel(win), "metrics");
  g_free(want), g_free(inits), g_free(ckpt), g_free(cstore);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "%s/ts-train-gui-XXXXXX", g_get_tmp_dir());
  if (!g_mkdtemp(tmpdir)) TS_SKIP("cannot make a temporary folder");
  g_setenv("XDG_CONFIG_HOME", tmpdir, TRUE);
  g_setenv("XDG_CACHE_HOME", tmpdir, TRUE);
  g_setenv("XDG_DATA_HOME", tmpdir, TRUE);
  if (!g_getenv("TOPOSCOPE")) TS_SKIP("TOPOSCOPE (the binary the panel runs) is not set");
  if (!gtk_init_check()) {
    g_rmdir(tmpdir);
    TS_SKIP("no display (run under xvfb-run)");
  }
  adw_init();
  ts_ui_resources_register();
  snprintf(store_path, sizeof store_path, "%s/store/runs.sqlite", tmpdir);
  train_spec = make_dataset("train", 400, 1);
  val_spec = make_dataset("val", 100, 2);
  set_dark(FALSE);
  win = new_window();
  TS_RUN(test_new_store);
  TS_RUN(test_short_training);
  TS_RUN(test_stop_resume);
  TS_RUN(test_overlay); /* before the failing starts: their toasts would be in its screenshots */
  TS_RUN(test_failed_run);
  TS_RUN(test_close_keeps_runs);
  TS_RUN(test_second_store);
  TS_RUN(test_experiment);
  gtk_window_destroy(GTK_WINDOW(win));
  pump(0.2);
  g_free(train_spec);
  g_free(val_spec);
  char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  g_free(cmd);
  return ts_test_finish();
}
