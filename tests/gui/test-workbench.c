/* test-workbench.c — the workbench under a display (Xvfb in CI):
 * each panel opens and draws something that is not blank; changing a
 * generator control regenerates the previews (and the newest value wins);
 * the previews and the diagram equal what the core computes directly;
 * selecting a diagram point sets the birth/death markers and the barcode
 * selection; the teaching slider's Betti numbers are right; exported
 * files are valid; `toposcope gui --screenshot` writes a real PNG.
 * Skips (77) without a display. TS_SCREENSHOT_DIR=DIR saves the panels'
 * pictures there (the README's screenshots come from this). */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdint.h>

#include "image/filtration.h"
#include "image/generate.h"
#include "ph/cubical.h"
#include "run/store.h"
#include "ts-test.h"
#include "ui-resources.h"
#include "window-state.h"
#include "window.h"

static char tmpdir[256];
static TsWindow *win;

static gboolean wake(gpointer data) {
  (void)data;
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until cond() holds or timeout_s passes. */
static int wait_for(gboolean (*cond)(void), double timeout_s) {
  gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
  guint id = g_timeout_add(20, wake, NULL);
  int ok = 1;
  while (!cond()) {
    if (g_get_monotonic_time() > end) {
      ok = 0;
      break;
    }
    g_main_context_iteration(NULL, TRUE);
  }
  g_source_remove(id);
  return ok;
}

static guint target_generation;
static gboolean generate_done(void) {
  TsGeneratePanel *gp = ts_window_get_generate_panel(win);
  return !ts_generate_panel_is_busy(gp) && ts_generate_panel_get_generation(gp) >= target_generation;
}
static gboolean homology_done(void) {
  TsHomologyPanel *hp = ts_window_get_homology_panel(win);
  return !ts_homology_panel_is_busy(hp) && ts_homology_panel_get_generation(hp) >= target_generation;
}
static gboolean window_mapped(void) {
  return gtk_widget_get_mapped(GTK_WIDGET(win)) && gtk_widget_get_width(GTK_WIDGET(win)) > 0;
}
static int paints;
static gint64 settle_until;
static void on_after_paint(GdkFrameClock *clock, gpointer data) {
  (void)clock;
  if (++paints < 2) gtk_widget_queue_draw(data);
}
static gboolean settled(void) { return paints >= 2 && g_get_monotonic_time() >= settle_until; }
/* Lets layout and drawing catch up: two painted frames and 300 ms. */
static void settle(void) {
  GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(win));
  paints = 0;
  settle_until = g_get_monotonic_time() + 300 * 1000;
  gulong id = clock ? g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), win) : 0;
  if (!clock) paints = 2;
  gtk_widget_queue_draw(GTK_WIDGET(win));
  wait_for(settled, 10);
  if (id) g_signal_handler_disconnect(clock, id);
}

/* The window rendered as the screen shows it: ARGB32 pixels. */
static cairo_surface_t *render_window(void) {
  GtkWidget *w = GTK_WIDGET(win);
  int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
  GdkPaintable *p = gtk_widget_paintable_new(w);
  GtkSnapshot *s = gtk_snapshot_new();
  gdk_paintable_snapshot(p, GDK_SNAPSHOT(s), width, height);
  GskRenderNode *node = gtk_snapshot_free_to_node(s);
  g_object_unref(p);
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height);
  if (!node) return img;
  GdkTexture *tex =
      gsk_renderer_render_texture(gtk_native_get_renderer(GTK_NATIVE(w)), node, &GRAPHENE_RECT_INIT(0, 0, width, height));
  gsk_render_node_unref(node);
  cairo_surface_flush(img);
  gdk_texture_download(tex, cairo_image_surface_get_data(img), (gsize)cairo_image_surface_get_stride(img));
  cairo_surface_mark_dirty(img);
  g_object_unref(tex);
  return img;
}

/* Distinct colours (quantised to 4 bits per channel) in a rectangle. */
static int colour_count(cairo_surface_t *s, int x0, int y0, int x1, int y1) {
  static uint8_t seen[4096];
  memset(seen, 0, sizeof seen);
  int n = 0, stride = cairo_image_surface_get_stride(s);
  const uint8_t *d = cairo_image_surface_get_data(s);
  for (int y = y0; y < y1; y += 2)
    for (int x = x0; x < x1; x += 2) {
      uint32_t p = *(const uint32_t *)(const void *)(d + (size_t)y * stride + 4 * (size_t)x);
      int q = (int)(((p >> 20) & 0xf) << 8 | ((p >> 12) & 0xf) << 4 | ((p >> 4) & 0xf));
      if (!seen[q]) seen[q] = 1, n++;
    }
  return n;
}

/* The window's pixels once it has painted a real frame: under a loaded Xvfb
 * the first frames after mapping can still be empty, so try for a while. */
static cairo_surface_t *render_painted(void) {
  for (int attempt = 0;; attempt++) {
    settle();
    cairo_surface_t *s = render_window();
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    if (attempt >= 30 || (w > 0 && colour_count(s, 0, 0, w, h) > 20)) return s;
    cairo_surface_destroy(s);
  }
}

static void save_shot(cairo_surface_t *s, const char *name) {
  const char *dir = g_getenv("TS_SCREENSHOT_DIR");
  if (!dir) return;
  char *path = g_build_filename(dir, name, NULL);
  cairo_surface_write_to_png(s, path);
  printf("wrote %s\n", path);
  g_free(path);
}

static int file_starts_with(const char *path, const char *magic, size_t n) {
  char buf[16] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t got = fread(buf, 1, n, f);
  fclose(f);
  return got == n && memcmp(buf, magic, n) == 0;
}

static void test_generate_panel(void) {
  TsGeneratePanel *gp = ts_window_get_generate_panel(win);
  ts_window_show_panel(win, "generate");
  target_generation = 1;
  TS_CHECK(wait_for(window_mapped, 30));
  TS_CHECK(wait_for(generate_done, 120));
  cairo_surface_t *s = render_painted();
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  TS_CHECK(w >= 760 && h >= 520);
  /* the preview area (right of the sidebar) is full of colour; the whole
   * window is not one flat colour */
  TS_CHECKF(colour_count(s, 420, 100, w - 20, h - 60) > 200, "%d colours", colour_count(s, 420, 100, w - 20, h - 60));
  TS_CHECK(colour_count(s, 0, 0, w, h) > 300);
  save_shot(s, "generate.png");
  cairo_surface_destroy(s);
  /* the previews are the core generator's images 0..11 */
  TsGenerateParams p;
  ts_generate_panel_get_params(gp, &p);
  TS_CHECK(p.size == 256 && p.seed == 0 && p.beta_max == 2.0);
  TsGenerator *g = NULL;
  TsImage ref = {0};
  TS_CHECK(ts_generator_new(&p, &g, NULL) == TS_OK);
  TS_CHECK(ts_generator_make(g, 0, 3, &ref, NULL, NULL) == TS_OK);
  const TsImage *tile = ts_generate_panel_get_tile(gp, 3);
  TS_CHECK(tile && tile->width == 256 && memcmp(tile->pixels, ref.pixels, (size_t)256 * 256 * 3) == 0);
  ts_generator_free(g);
  ts_image_clear(&ref);
}

static void test_generate_controls(void) {
  TsGeneratePanel *gp = ts_window_get_generate_panel(win);
  guint gen = ts_generate_panel_get_generation(gp);
  uint8_t *before = g_memdup2(ts_generate_panel_get_tile(gp, 0)->pixels, (size_t)256 * 256 * 3);
  /* drag-like burst: five values in a row; the last one must win */
  for (int seed = 1; seed <= 5; seed++) ts_generate_panel_set_seed(gp, (guint64)seed);
  ts_generate_panel_set_size(gp, 96);
  target_generation = gen + 1;
  TS_CHECK(wait_for(generate_done, 60));
  TS_CHECK(ts_generate_panel_get_generation(gp) > gen);
  const TsImage *tile = ts_generate_panel_get_tile(gp, 0);
  TS_CHECK(tile && tile->width == 96 && tile->height == 96);
  TsGenerateParams p;
  ts_generate_panel_get_params(gp, &p);
  TS_CHECK(p.seed == 5 && p.size == 96);
  TsGenerator *g = NULL;
  TsImage ref = {0};
  TS_CHECK(ts_generator_new(&p, &g, NULL) == TS_OK);
  TS_CHECK(ts_generator_make(g, 0, 0, &ref, NULL, NULL) == TS_OK);
  TS_CHECK(tile && memcmp(tile->pixels, ref.pixels, (size_t)96 * 96 * 3) == 0);
  ts_generator_free(g);
  ts_image_clear(&ref);
  g_free(before);
  /* back to the defaults for the screenshots that follow */
  gen = ts_generate_panel_get_generation(gp);
  ts_generate_panel_set_seed(gp, 0);
  ts_generate_panel_set_size(gp, 256);
  target_generation = gen + 1;
  TS_CHECK(wait_for(generate_done, 60));
}

static void test_homology_panel(void) {
  TsHomologyPanel *hp = ts_window_get_homology_panel(win);
  TsGeneratePanel *gp = ts_window_get_generate_panel(win);
  /* as a click on tile 0 does */
  g_signal_emit_by_name(gp, "tile-activated", 0u);
  TS_CHECK(g_str_equal(ts_window_get_panel(win), "homology"));
  target_generation = ts_homology_panel_get_generation(hp) + 1;
  TS_CHECK(wait_for(homology_done, 120));
  /* the diagram is what the core computes for that image */
  const TsImage *img = ts_generate_panel_get_tile(gp, 0);
  TsFiltrationOptions fo;
  ts_filtration_options_default(&fo);
  fo.kind = TS_FILT_SIGNED_DISTANCE;
  double *field = NULL;
  int fw, fh, constant;
  TS_CHECK(ts_filtration_apply(img, &fo, &field, &fw, &fh, &constant, NULL) == TS_OK);
  TsCubicalOptions co;
  ts_cubical_options_default(&co);
  co.maxdim = 1;
  TsDiagram ref;
  ts_diagram_init(&ref);
  size_t shape[2] = {(size_t)fh, (size_t)fw};
  TS_CHECK(ts_cubical_ph(field, 2, shape, &co, &ref, NULL) == TS_OK);
  const TsDiagram *shown = ts_diagram_view_get_diagram(ts_homology_panel_get_diagram_view(hp));
  TS_CHECKF(shown->n == ref.n && ref.n > 0, "%zu vs %zu", shown->n, ref.n);
  /* teaching: beta_k(t) counts the pairs alive at t */
  double t = 0.5;
  ts_homology_panel_set_t(hp, t);
  int b[2] = {0, 0};
  for (size_t i = 0; i < ref.n; i++)
    if (ref.pairs[i].dim < 2 && ref.pairs[i].birth <= t && t < ref.pairs[i].death) b[ref.pairs[i].dim]++;
  TS_CHECK(ts_homology_panel_get_betti(hp, 0) == b[0] && ts_homology_panel_get_betti(hp, 1) == b[1]);
  TS_CHECK(b[0] >= 1);
  ts_diagram_clear(&ref);
  free(field);

  cairo_surface_t *s = render_painted();
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  TS_CHECK(colour_count(s, 360, 60, w - 10, h - 10) > 200);
  cairo_surface_destroy(s);
}

static void test_selection_markers(void) {
  TsHomologyPanel *hp = ts_window_get_homology_panel(win);
  TsDiagramView *dv = ts_homology_panel_get_diagram_view(hp);
  const TsDiagram *d = ts_diagram_view_get_diagram(dv);
  /* the most persistent finite class */
  long best = -1;
  for (size_t i = 0; i < d->n; i++)
    if (isfinite(d->pairs[i].death) && (best < 0 || d->pairs[i].death - d->pairs[i].birth >
                                                       d->pairs[best].death - d->pairs[best].birth))
      best = (long)i;
  TS_CHECK(best >= 0 && d->loc == TS_LOC_CELLS);
  if (best < 0) return;
  /* a click where the point is drawn picks it */
  int w = gtk_widget_get_width(GTK_WIDGET(dv)), h = gtk_widget_get_height(GTK_WIDGET(dv));
  double px = -1, py = -1;
  TS_CHECK(ts_diagram_view_get_point_position(dv, (size_t)best, &px, &py));
  TS_CHECK(px > 0 && px < w && py > 0 && py < h);
  long picked = ts_diagram_view_pick(dv, px, py, 7);
  TS_CHECK(picked >= 0 && d->pairs[picked].birth == d->pairs[best].birth &&
           d->pairs[picked].death == d->pairs[best].death);

  ts_homology_panel_select_pair(hp, best);
  const TsPair *p = &d->pairs[best];
  const TsHeatmapMarker *m = NULL;
  size_t n = ts_heatmap_view_get_markers(ts_homology_panel_get_image_view(hp), &m);
  TS_CHECK(n == 2);
  if (n == 2) {
    TS_CHECK(m[0].shape == TS_MARKER_BIRTH && m[0].row == p->birth_at[0] && m[0].col == p->birth_at[1]);
    TS_CHECK(m[1].shape == TS_MARKER_DEATH && m[1].row == p->death_at[0] && m[1].col == p->death_at[1]);
  }
  TS_CHECK(ts_heatmap_view_get_markers(ts_homology_panel_get_field_view(hp), &m) == 2);
  /* the barcode shows the same selection */
  const uint8_t *bsel = ts_barcode_view_get_selected(ts_homology_panel_get_barcode_view(hp));
  size_t count = 0;
  for (size_t i = 0; i < d->n; i++) count += bsel[i];
  TS_CHECK(bsel[best] == 1 && count == 1);
  /* and a selection made in the barcode comes back to the diagram */
  uint8_t *flags = g_malloc0(d->n);
  flags[0] = 1;
  ts_barcode_view_set_selected(ts_homology_panel_get_barcode_view(hp), flags, TRUE);
  TS_CHECK(ts_diagram_view_get_selected(dv)[0] == 1 && ts_diagram_view_get_selected(dv)[best] == 0);
  g_free(flags);
  /* rubber band over the whole plot selects every pair */
  size_t all = ts_diagram_view_select_rect(dv, 0, 0, w, h);
  TS_CHECK(all == d->n);
  ts_homology_panel_select_pair(hp, -1);
  TS_CHECK(ts_heatmap_view_get_markers(ts_homology_panel_get_image_view(hp), &m) == 0);
  /* zooming in by 2 about the view's centre doubles distances from it; the
   * reset brings the point back */
  {
    double x0, y0, x1, y1, cx, cy;
    TS_CHECK(ts_diagram_view_get_point_position(dv, (size_t)best, &x0, &y0));
    ts_diagram_view_zoom(dv, 0.5, NAN, NAN);
    TS_CHECK(ts_diagram_view_get_point_position(dv, (size_t)best, &x1, &y1));
    ts_diagram_view_zoom(dv, 1.0, NAN, NAN); /* the centre: a fixed point of any zoom */
    double xa, ya;
    ts_diagram_view_get_point_position(dv, (size_t)best, &xa, &ya);
    TS_CHECK(xa == x1 && ya == y1);
    /* centre in pixels from the two positions: x1 - c = 2 (x0 - c) */
    cx = 2 * x0 - x1, cy = 2 * y0 - y1;
    TS_CHECK(cx > 0 && cx < w && cy > 0 && cy < h);
    ts_diagram_view_reset_view(dv);
    double xr, yr;
    ts_diagram_view_get_point_position(dv, (size_t)best, &xr, &yr);
    TS_CHECK(fabs(xr - x0) < 1e-6 && fabs(yr - y0) < 1e-6);
  }
  /* lifetime mode and a grey filtration still draw a full picture */
  ts_homology_panel_toggle_lifetime(hp);
  ts_homology_panel_set_filtration(hp, 0);
  target_generation = ts_homology_panel_get_generation(hp) + 1;
  TS_CHECK(wait_for(homology_done, 60));
  cairo_surface_t *lt = render_painted();
  TS_CHECK(colour_count(lt, 360, 60, cairo_image_surface_get_width(lt) - 10, cairo_image_surface_get_height(lt) - 10) > 150);
  save_shot(lt, "homology-lifetime-grey.png");
  cairo_surface_destroy(lt);
  ts_homology_panel_toggle_lifetime(hp);
  ts_homology_panel_set_filtration(hp, 2);
  target_generation = ts_homology_panel_get_generation(hp) + 1;
  TS_CHECK(wait_for(homology_done, 60));
  d = ts_diagram_view_get_diagram(dv);
  /* the README's picture: the longest class marked */
  ts_homology_panel_select_pair(hp, best);
  cairo_surface_t *s = render_painted();
  save_shot(s, "homology.png");
  cairo_surface_destroy(s);
}

static void test_exports(void) {
  TsHomologyPanel *hp = ts_window_get_homology_panel(win);
  const char *ext[3] = {"png", "svg", "pdf"};
  const char *magic[3] = {"\x89PNG", "<?xml", "%PDF"};
  for (int i = 0; i < 3; i++) {
    char *path = g_strdup_printf("%s/diagram.%s", tmpdir, ext[i]);
    GError *e = NULL;
    TS_CHECK(ts_diagram_view_export(ts_homology_panel_get_diagram_view(hp), path, 0, 0, &e));
    TS_CHECK(file_starts_with(path, magic[i], strlen(magic[i])));
    g_clear_error(&e);
    g_free(path);
  }
  char *png = g_strdup_printf("%s/image.png", tmpdir);
  TS_CHECK(ts_heatmap_view_export(ts_homology_panel_get_image_view(hp), png, 0, 0, NULL));
  cairo_surface_t *s = cairo_image_surface_create_from_png(png);
  TS_CHECK(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS && cairo_image_surface_get_width(s) > 100);
  cairo_surface_destroy(s);
  g_free(png);
  char *csv = g_strdup_printf("%s/life.csv", tmpdir), *text = NULL;
  TS_CHECK(ts_line_plot_export_csv(ts_homology_panel_get_life_plot(hp), csv, NULL));
  TS_CHECK(g_file_get_contents(csv, &text, NULL, NULL) && g_str_has_prefix(text, "series,x,y,smoothed\n\"H0\","));
  g_free(text);
  g_free(csv);
}

static gboolean job_finished(void) { return !ts_generate_panel_job_running(ts_window_get_generate_panel(win)); }

/* "Create dataset…" runs `toposcope generate` as a subprocess that records
 * its run in the store the panel was given. */
static void test_dataset_job(void) {
  if (!g_getenv("TOPOSCOPE")) return;
  TsGeneratePanel *gp = ts_window_get_generate_panel(win);
  ts_generate_panel_set_program(gp, g_getenv("TOPOSCOPE"));
  char *dir = g_strdup_printf("%s/dataset", tmpdir), *store = g_strdup_printf("%s/runs.sqlite", tmpdir);
  ts_generate_panel_set_folder(gp, dir);
  ts_generate_panel_set_store(gp, store);
  ts_generate_panel_set_size(gp, 32);
  ts_generate_panel_set_counts(gp, 12, 3);
  ts_generate_panel_create_dataset(gp);
  TS_CHECK(ts_generate_panel_job_running(gp));
  TS_CHECK(wait_for(job_finished, 60));
  char *first = g_strdup_printf("%s/train/t00000011.jpg", dir), *val = g_strdup_printf("%s/val/v00000002.jpg", dir);
  char *manifest = g_strdup_printf("%s/manifest.json", dir);
  TS_CHECK(g_file_test(first, G_FILE_TEST_EXISTS) && g_file_test(val, G_FILE_TEST_EXISTS));
  TS_CHECK(g_file_test(manifest, G_FILE_TEST_EXISTS));
  TsStore *st = NULL;
  TsRunInfo *runs = NULL;
  size_t n = 0;
  TS_CHECK(ts_store_open(store, TS_STORE_READ, &st, NULL) == TS_OK);
  if (st) {
    TS_CHECK(ts_store_list_runs(st, &runs, &n, NULL) == TS_OK);
    TS_CHECK(n == 1 && !strcmp(runs[0].kind, "generate") && runs[0].status == TS_RUN_FINISHED);
    for (size_t i = 0; i < n; i++) ts_run_info_clear(&runs[i]);
    free(runs);
    ts_store_close(st);
  }
  g_free(first), g_free(val), g_free(manifest), g_free(dir), g_free(store);
}

static char *cancel_store;
static gboolean run_has_progress(void) {
  TsStore *st = NULL;
  TsRunInfo *runs = NULL;
  size_t n = 0;
  gboolean found = FALSE;
  if (ts_store_open(cancel_store, TS_STORE_READ, &st, NULL) != TS_OK) return FALSE;
  if (ts_store_list_runs(st, &runs, &n, NULL) == TS_OK) {
    found = n == 1 && runs[0].progress_done > 0;
    for (size_t i = 0; i < n; i++) ts_run_info_clear(&runs[i]);
    free(runs);
  }
  ts_store_close(st);
  return found;
}

/* The stop button: the job ends as a stopped (resumable) run. */
static void test_dataset_cancel(void) {
  if (!g_getenv("TOPOSCOPE")) return;
  TsGeneratePanel *gp = ts_window_get_generate_panel(win);
  char *dir = g_strdup_printf("%s/big", tmpdir);
  cancel_store = g_strdup_printf("%s/runs-cancel.sqlite", tmpdir);
  ts_generate_panel_set_folder(gp, dir);
  ts_generate_panel_set_store(gp, cancel_store);
  ts_generate_panel_set_counts(gp, 2000000, 0);
  ts_generate_panel_create_dataset(gp);
  TS_CHECK(wait_for(run_has_progress, 60));
  ts_generate_panel_cancel_job(gp);
  TS_CHECK(wait_for(job_finished, 60));
  TsStore *st = NULL;
  TsRunInfo *runs = NULL;
  size_t n = 0;
  TS_CHECK(ts_store_open(cancel_store, TS_STORE_READ, &st, NULL) == TS_OK);
  if (st) {
    TS_CHECK(ts_store_list_runs(st, &runs, &n, NULL) == TS_OK);
    TS_CHECK(n == 1 && runs[0].status == TS_RUN_STOPPED && runs[0].progress_done < 2000000);
    for (size_t i = 0; i < n; i++) ts_run_info_clear(&runs[i]);
    free(runs);
    ts_store_close(st);
  }
  g_free(dir);
  g_clear_pointer(&cancel_store, g_free);
}

static void test_resources_and_state(void) {
  /* the shortcuts window and the templates parse */
  GtkBuilder *b = gtk_builder_new_from_resource("/org/toposcope/Toposcope/gtk/help-overlay.ui");
  GObject *o = gtk_builder_get_object(b, "help_overlay");
  TS_CHECK(o && GTK_IS_SHORTCUTS_WINDOW(o));
  if (o) gtk_window_destroy(GTK_WINDOW(o));
  g_object_unref(b);
  TS_CHECK(g_resources_get_info("/org/toposcope/Toposcope/style.css", 0, NULL, NULL, NULL));
  TS_CHECK(g_resources_get_info("/org/toposcope/Toposcope/icons/scalable/apps/org.toposcope.Toposcope.svg", 0, NULL,
                                NULL, NULL));
  /* the window state round-trips through its key file; junk is ignored */
  TsWindowState st = {.width = 1111, .height = 777, .maximized = TRUE}, back;
  g_strlcpy(st.panel, "homology", sizeof st.panel);
  TS_CHECK(ts_window_state_save(&st, NULL));
  ts_window_state_load(&back);
  TS_CHECK(back.width == 1111 && back.height == 777 && back.maximized && !strcmp(back.panel, "homology"));
  char *path = ts_window_state_path();
  TS_CHECK(g_str_has_prefix(path, tmpdir));
  TS_CHECK(g_file_set_contents(path, "[window]\nwidth=-5\nheight=abc\n", -1, NULL));
  ts_window_state_load(&back);
  TS_CHECK(back.width == 0 && back.height == 0 && !back.maximized);
  g_free(path);
}

static void test_screenshot_command(void) {
  const char *exe = g_getenv("TOPOSCOPE");
  if (!exe) {
    printf("TOPOSCOPE not set: screenshot command not tested\n");
    return;
  }
  const char *panels[2] = {"generate", "homology"};
  for (int i = 0; i < 2; i++) {
    char *out = g_strdup_printf("%s/shot-%s.png", tmpdir, panels[i]);
    char *prog = g_strdup(exe), *panel = g_strdup(panels[i]);
    char *argv[] = {prog, "gui", "--panel", panel, "--screenshot", out, NULL};
    int status = -1;
    GError *e = NULL;
    TS_CHECK(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, &e));
    g_free(prog), g_free(panel);
    g_clear_error(&e);
    TS_CHECKF(g_spawn_check_wait_status(status, NULL), "toposcope gui --panel %s: status %d", panels[i], status);
    cairo_surface_t *s = cairo_image_surface_create_from_png(out);
    TS_CHECK(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS);
    if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
      int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
      TS_CHECK(w >= 760 && h >= 520);
      TS_CHECK(colour_count(s, 400, 80, w - 10, h - 10) > 150);
    }
    cairo_surface_destroy(s);
    g_free(out);
  }
  /* --open: the Homology panel shows a file (one the dataset job wrote) */
  char *img = g_strdup_printf("%s/dataset/train/t00000001.jpg", tmpdir);
  if (g_file_test(img, G_FILE_TEST_EXISTS)) {
    char *out = g_strdup_printf("%s/shot-open.png", tmpdir), *prog = g_strdup(exe);
    char *argv[] = {prog, "gui", "--open", img, "--screenshot", out, NULL};
    int status = -1;
    TS_CHECK(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, NULL));
    TS_CHECK(g_spawn_check_wait_status(status, NULL));
    cairo_surface_t *s = cairo_image_surface_create_from_png(out);
    TS_CHECK(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(s);
    g_free(out), g_free(prog);
  }
  g_free(img);
  /* a file that is not an image: the window still opens (the error is a toast) */
  char *junk = g_strdup_printf("%s/junk.png", tmpdir), *out = g_strdup_printf("%s/shot-junk.png", tmpdir);
  g_file_set_contents(junk, "not a png", -1, NULL);
  {
    char *prog = g_strdup(exe);
    char *argv[] = {prog, "gui", "--open", junk, "--screenshot", out, NULL};
    int status = -1;
    TS_CHECK(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, NULL));
    TS_CHECK(g_spawn_check_wait_status(status, NULL));
    g_free(prog);
  }
  g_free(junk), g_free(out);
  /* a bad panel name is a usage error */
  char *prog = g_strdup(exe);
  char *bad[] = {prog, "gui", "--panel", "nope", "--screenshot", "/dev/null", NULL};
  int status = 0;
  TS_CHECK(g_spawn_sync(NULL, bad, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, NULL));
  TS_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2);
  g_free(prog);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "%s/ts-workbench-XXXXXX", g_get_tmp_dir());
  if (!g_mkdtemp(tmpdir)) TS_SKIP("cannot make a temporary folder");
  /* before GLib reads it: the window state goes to our folder */
  g_setenv("XDG_CONFIG_HOME", tmpdir, TRUE);
  if (!gtk_init_check()) {
    g_rmdir(tmpdir);
    TS_SKIP("no display (run under xvfb-run)");
  }
  adw_init();
  ts_ui_resources_register();
  win = ts_window_new(NULL, FALSE);
  gtk_window_set_default_size(GTK_WINDOW(win), 1240, 780);
  gtk_window_present(GTK_WINDOW(win));
  TS_RUN(test_generate_panel);
  TS_RUN(test_generate_controls);
  TS_RUN(test_homology_panel);
  TS_RUN(test_selection_markers);
  TS_RUN(test_exports);
  TS_RUN(test_dataset_job);
  TS_RUN(test_dataset_cancel);
  gtk_window_destroy(GTK_WINDOW(win));
  TS_RUN(test_resources_and_state);
  TS_RUN(test_screenshot_command);
  char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  g_free(cmd);
  return ts_test_finish();
}
