/* test-topology-views.c — the live topology views under a display (Xvfb):
 *  - Homology's comparison of two images (picked in Generate): the distance
 *    and the diagrams are what the core computes, the matching's marks land
 *    on both images, a clicked edge marks its pair alone, W2 is what the
 *    core's W2 gives;
 *  - the Playground: a preset's diagrams equal ts_rips_ph_points, beta0(r)
 *    equals the components of the graph at r (union-find), clicks add,
 *    drags move and Delete removes points, save and reload give the same
 *    points bit for bit, Step runs the optimiser, Play on 200 points runs on
 *    the worker while the main loop keeps turning (the longest stall and the
 *    steps per second shown are printed, not asserted), recorded frames are
 *    PNGs;
 *  - the Layers panel on a real probed run (`toposcope train --model
 *    lenet-dnn --probe lifespans,phdim`, when FashionMNIST is installed):
 *    the map and the lines hold what the store holds, a picked cell is
 *    spelled out;
 *  - the Latent panel on a real lockstep TopoVAE run (`toposcope train
 *    --task vae --lockstep`, made here when this toposcope has it, or the
 *    store TS_LATENT_STORE=FILE): the epochs, the points (each model's PCA
 *    has the largest variance first, above every latent axis; the chosen
 *    dimensions are the raw coordinates), a class's Rips diagrams equal
 *    ts_rips_ph_points of that class's latent means, the BCE curves and the
 *    picture grid.
 * Skips (77) without a display. TS_SCREENSHOT_DIR=DIR saves light and dark
 * pictures of both panels there. */
#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>

#include "gui-harness.h"
#include "ph/bottleneck.h"
#include "ph/cubical.h"
#include "ph/rips.h"
#include "data/dataset.h"
#include "ph/wasserstein.h"
#include "run/store.h"
#include "ts-test.h"
#include "ui-resources.h"
#include "window.h"

static char tmpdir[256];
static TsWindow *win;

static guint target_gen;
static gboolean generate_ready(void) {
  TsGeneratePanel *gp = ts_window_get_generate_panel(win);
  return !ts_generate_panel_is_busy(gp) && ts_generate_panel_get_generation(gp) > 0;
}
static gboolean compare_done(void) {
  TsCompareView *cv = ts_homology_panel_get_compare_view(ts_window_get_homology_panel(win));
  return !ts_compare_view_is_busy(cv) && ts_compare_view_get_generation(cv) >= target_gen;
}
static gboolean playground_done(void) {
  TsPlaygroundPanel *pp = ts_window_get_playground_panel(win);
  return !ts_playground_panel_is_busy(pp) && ts_playground_panel_get_generation(pp) >= target_gen;
}

static void shots(const char *name) {
  AdwStyleManager *sm = adw_style_manager_get_default();
  for (int dark = 0; dark < 2; dark++) {
    adw_style_manager_set_color_scheme(sm, dark ? ADW_COLOR_SCHEME_FORCE_DARK : ADW_COLOR_SCHEME_FORCE_LIGHT);
    cairo_surface_t *s = render_painted();
    char file[96];
    snprintf(file, sizeof file, "%s-%s.png", name, dark ? "dark" : "light");
    save_shot(s, file);
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    TS_CHECKF(colour_count(s, 360, 60, w - 10, h - 10) > 100, "%s is nearly blank", file);
    cairo_surface_destroy(s);
  }
  adw_style_manager_set_color_scheme(sm, ADW_COLOR_SCHEME_DEFAULT);
}

/* The diagram of a generated image as the Homology panel makes it by default. */
static void image_diagram(const TsImage *img, TsDiagram *out) {
  TsFiltrationOptions fo;
  ts_filtration_options_default(&fo);
  fo.kind = TS_FILT_SIGNED_DISTANCE;
  double *field = NULL;
  int fw, fh, constant;
  TS_CHECK(ts_filtration_apply(img, &fo, &field, &fw, &fh, &constant, NULL) == TS_OK);
  TsCubicalOptions co;
  ts_cubical_options_default(&co);
  co.maxdim = 1;
  size_t shape[2] = {(size_t)fh, (size_t)fw};
  ts_diagram_init(out);
  TS_CHECK(ts_cubical_ph(field, 2, shape, &co, out, NULL) == TS_OK);
  free(field);
}

static void test_compare(void) {
  TS_CHECK(wait_for(generate_ready, 120));
  TsGeneratePanel *gp = ts_window_get_generate_panel(win);
  TsHomologyPanel *hp = ts_window_get_homology_panel(win);
  TsCompareView *cv = ts_homology_panel_get_compare_view(hp);
  g_signal_emit_by_name(gp, "tile-activated", 0u);
  /* the sidebar's "pick in Generate" button, then a click on preview 3 */
  g_signal_emit_by_name(hp, "pick-second");
  TS_CHECK(g_str_equal(ts_window_get_panel(win), "generate"));
  target_gen = ts_compare_view_get_generation(cv) + 1;
  g_signal_emit_by_name(gp, "tile-activated", 3u);
  TS_CHECK(g_str_equal(ts_window_get_panel(win), "homology"));
  TS_CHECK(ts_compare_view_has_second(cv));
  TS_CHECK(wait_for(compare_done, 120));
  /* wait for the comparison of the first image's final result */
  spin_for(0.3);
  TS_CHECK(wait_for(compare_done, 120));

  TsDiagram a, b;
  image_diagram(ts_generate_panel_get_tile(gp, 0), &a);
  image_diagram(ts_generate_panel_get_tile(gp, 3), &b);
  TS_CHECKF(ts_compare_view_get_diagram(cv, 0)->n == a.n && ts_compare_view_get_diagram(cv, 1)->n == b.n,
            "%zu/%zu vs %zu/%zu", ts_compare_view_get_diagram(cv, 0)->n, ts_compare_view_get_diagram(cv, 1)->n, a.n,
            b.n);
  /* W2 (shown first): within the auction's bound of the exact (Hungarian) distance */
  TsWassersteinOptions wo;
  ts_wasserstein_options_default(&wo);
  wo.p = 2;
  double w2 = NAN;
  TS_CHECK(ts_wasserstein_distance(&a, &b, 1, &wo, &w2, NULL, NULL) == TS_OK);
  double got = ts_compare_view_get_distance(cv);
  TS_CHECKF(got >= w2 * (1 - 1e-9) && got <= w2 * sqrt(1.01) * (1 + 1e-9), "%.17g vs %.17g", got, w2);
  TsMatchingView *mv = ts_compare_view_get_matching_view(cv);
  const TsMatching *m = ts_matching_view_get_matching(mv);
  TS_CHECK(m->n > 0);
  long longest = ts_matching_longest(m);
  TS_CHECK(longest >= 0);
  /* marks: the costliest matched pairs, on both pictures */
  const TsHeatmapMarker *mk;
  size_t na = ts_heatmap_view_get_markers(ts_compare_view_get_image_view(cv, 0), &mk);
  size_t nb = ts_heatmap_view_get_markers(ts_compare_view_get_image_view(cv, 1), &mk);
  TS_CHECKF(na > 0 && nb > 0 && na <= 2 * TS_COMPARE_MARKED && nb <= 2 * TS_COMPARE_MARKED, "%zu %zu", na, nb);
  /* clicking an edge marks its pair alone */
  long e = -1;
  for (size_t i = 0; i < m->n && e < 0; i++)
    if (m->edges[i].a >= 0 && m->edges[i].b >= 0) e = (long)i;
  TS_CHECK(e >= 0);
  if (e >= 0) {
    ts_matching_view_select(mv, e, TRUE);
    na = ts_heatmap_view_get_markers(ts_compare_view_get_image_view(cv, 0), &mk);
    TS_CHECK(na >= 1 && na <= 2);
    if (na >= 1) {
      const TsPair *p = &ts_compare_view_get_diagram(cv, 0)->pairs[m->edges[e].a];
      TS_CHECK(mk[0].row == p->birth_at[0] && mk[0].col == p->birth_at[1]);
    }
    ts_matching_view_select(mv, -1, TRUE);
  }
  /* an edge can be picked where it is drawn */
  TsMatchingViewData d = {.a = ts_compare_view_get_diagram(cv, 0), .b = ts_compare_view_get_diagram(cv, 1), .m = m,
                          .side_by_side = 1, .dims = 2, .selected = -1};
  double ax, ay, bx, by;
  if (ts_matching_view_edge_ends(&d, 800, 400, (size_t)longest, &ax, &ay, &bx, &by))
    TS_CHECK(ts_matching_view_edge_at(&d, 800, 400, (ax + bx) / 2, (ay + by) / 2, 4) >= 0);
  shots("homology-compare");

  /* the bottleneck: exactly the core's, and its longest edge costs that much */
  target_gen = ts_compare_view_get_generation(cv) + 1;
  ts_compare_view_set_metric(cv, TS_COMPARE_BOTTLENECK);
  TS_CHECK(wait_for(compare_done, 120));
  double ref = NAN;
  TS_CHECK(ts_bottleneck_distance(&a, &b, 1, &ref, NULL, NULL) == TS_OK);
  TS_CHECKF(ts_compare_view_get_distance(cv) == ref, "%.17g vs %.17g", ts_compare_view_get_distance(cv), ref);
  m = ts_matching_view_get_matching(mv);
  longest = ts_matching_longest(m);
  TS_CHECK(longest >= 0 && m->edges[longest].cost == ref);
  na = ts_heatmap_view_get_markers(ts_compare_view_get_image_view(cv, 0), &mk);
  nb = ts_heatmap_view_get_markers(ts_compare_view_get_image_view(cv, 1), &mk);
  TS_CHECK(na + nb > 0);
  ts_compare_view_set_metric(cv, TS_COMPARE_W2);
  TS_CHECK(wait_for(compare_done, 120));
  ts_diagram_clear(&a);
  ts_diagram_clear(&b);
}

static int find(int *p, int i) {
  while (p[i] != i) i = p[i] = p[p[i]];
  return i;
}

/* Components of the graph "closer than r" (a plain reference for beta0). */
static int components(const TsCloud *c, double r) {
  int n = (int)c->n, k = n;
  int *p = g_new(int, n + 1);
  for (int i = 0; i < n; i++) p[i] = i;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++) {
      /* the engine compares float32 distances */
      float dd = (float)hypot(c->xy[2 * i] - c->xy[2 * j], c->xy[2 * i + 1] - c->xy[2 * j + 1]);
      if (dd <= r) {
        int a = find(p, i), b = find(p, j);
        if (a != b) p[a] = b, k--;
      }
    }
  g_free(p);
  return k;
}

static void check_diagram(TsPlaygroundPanel *pp, int which) {
  const TsCloud *c = ts_playground_panel_get_cloud(pp, which);
  TsDiagram ref;
  ts_diagram_init(&ref);
  TsRipsOptions o;
  ts_rips_options_init(&o);
  o.maxdim = 1;
  TS_CHECK(ts_rips_ph_points(c->xy, c->n, 2, &o, &ref, NULL) == TS_OK);
  const TsDiagram *d = ts_playground_panel_get_diagram(pp, which);
  int same = d->n == ref.n;
  for (size_t i = 0; same && i < ref.n; i++)
    same = d->pairs[i].dim == ref.pairs[i].dim && d->pairs[i].birth == ref.pairs[i].birth &&
           (d->pairs[i].death == ref.pairs[i].death);
  TS_CHECKF(same, "cloud %d: %zu pairs shown, %zu computed", which, d->n, ref.n);
  ts_diagram_clear(&ref);
}

static double max_stall_us;
static gint64 last_tick;
static gboolean stall_tick(gpointer data) {
  (void)data;
  gint64 now = g_get_monotonic_time();
  if (last_tick && now - last_tick > max_stall_us) max_stall_us = (double)(now - last_tick);
  last_tick = now;
  return G_SOURCE_CONTINUE;
}

/* How long the window takes to lay out and paint a frame (the part of a
 * stall that drawing costs). */
static gint64 paint_start;
static double max_paint_us;
static void on_before_paint(GdkFrameClock *c, gpointer d) {
  (void)c, (void)d;
  paint_start = g_get_monotonic_time();
}
static void on_after_paint_timed(GdkFrameClock *c, gpointer d) {
  (void)c, (void)d;
  if (paint_start) max_paint_us = fmax(max_paint_us, (double)(g_get_monotonic_time() - paint_start));
}

static void test_playground(void) {
  TsPlaygroundPanel *pp = ts_window_get_playground_panel(win);
  ts_window_show_panel(win, "playground");
  TS_CHECK(g_str_equal(ts_window_get_panel(win), "playground"));
  target_gen = ts_playground_panel_get_generation(pp) + 1;
  ts_playground_panel_load_preset(pp, "figure-eight", 0);
  ts_playground_panel_load_preset(pp, "clusters", 1);
  TS_CHECK(wait_for(playground_done, 60));
  check_diagram(pp, 0);
  check_diagram(pp, 1);
  /* a figure eight has two long-lived holes */
  const TsDiagram *d = ts_playground_panel_get_diagram(pp, 0);
  int long1 = 0;
  for (size_t i = 0; i < d->n; i++) long1 += d->pairs[i].dim == 1 && d->pairs[i].death - d->pairs[i].birth > 1.0;
  TS_CHECKF(long1 == 2, "%d long H1 bars", long1);
  /* beta0(r) against union-find, at several r */
  for (double r = 0.05; r < 3; r += 0.37) {
    ts_playground_panel_set_r(pp, r);
    TS_CHECKF(ts_playground_panel_get_betti(pp, 0, 0) == components(ts_playground_panel_get_cloud(pp, 0), r),
              "r %g: %d vs %d", r, ts_playground_panel_get_betti(pp, 0, 0),
              components(ts_playground_panel_get_cloud(pp, 0), r));
    TS_CHECK(ts_playground_panel_get_betti(pp, 1, 0) == components(ts_playground_panel_get_cloud(pp, 1), r));
  }
  ts_playground_panel_set_r(pp, 0.9);
  TS_CHECK(ts_playground_panel_get_betti(pp, 0, 1) == 2); /* both loops of the eight are open at 0.9 */
  double ref = NAN;
  TS_CHECK(ts_bottleneck_distance(ts_playground_panel_get_diagram(pp, 0), ts_playground_panel_get_diagram(pp, 1), 1,
                                  &ref, NULL, NULL) == TS_OK);
  TS_CHECK(ts_playground_panel_get_distance(pp) == ref);
  settle();

  /* editing: a click on empty space adds a point there */
  TsPointCanvas *cv = ts_playground_panel_get_canvas(pp);
  size_t n0 = ts_playground_panel_get_cloud(pp, 0)->n;
  double px, py;
  ts_point_canvas_to_widget(cv, 0, 4.0, &px, &py);
  target_gen = ts_playground_panel_get_generation(pp) + 1;
  ts_point_canvas_click(cv, px, py, 0);
  TS_CHECK(ts_playground_panel_get_cloud(pp, 0)->n == n0 + 1);
  TS_CHECK(wait_for(playground_done, 60));
  const TsCloud *c = ts_playground_panel_get_cloud(pp, 0);
  TS_CHECK(fabs(c->xy[2 * n0] - 0) < 0.05 && fabs(c->xy[2 * n0 + 1] - 4.0) < 0.05);
  check_diagram(pp, 0);
  /* drag it down, then select and delete it */
  double qx, qy;
  ts_point_canvas_to_widget(cv, 0, 3.0, &qx, &qy);
  ts_point_canvas_drag(cv, px, py, qx, qy);
  c = ts_playground_panel_get_cloud(pp, 0);
  TS_CHECK(fabs(c->xy[2 * n0 + 1] - 3.0) < 0.05);
  ts_point_canvas_click(cv, qx, qy, 0);
  TS_CHECK(ts_point_canvas_get_n_selected(cv) == 1);
  target_gen = ts_playground_panel_get_generation(pp) + 1;
  TS_CHECK(ts_point_canvas_delete_selected(cv) == 1);
  TS_CHECK(ts_playground_panel_get_cloud(pp, 0)->n == n0);
  TS_CHECK(wait_for(playground_done, 60));
  check_diagram(pp, 0);

  /* save, scramble, reload: the same points, bit for bit */
  char *path = g_build_filename(tmpdir, "state.json", NULL);
  TsPlaygroundState before;
  ts_playground_panel_get_state(pp, &before);
  GError *error = NULL;
  TS_CHECK(ts_playground_panel_save(pp, path, &error));
  ts_playground_panel_load_preset(pp, "noisy-annulus", 0);
  TS_CHECK(wait_for(playground_done, 60));
  target_gen = ts_playground_panel_get_generation(pp) + 1;
  TS_CHECK(ts_playground_panel_load(pp, path, &error));
  TS_CHECK(wait_for(playground_done, 60));
  TsPlaygroundState after;
  ts_playground_panel_get_state(pp, &after);
  TS_CHECK(after.cloud.n == before.cloud.n && after.target.n == before.target.n);
  TS_CHECK(after.cloud.n == 0 || memcmp(after.cloud.xy, before.cloud.xy, 2 * after.cloud.n * sizeof(double)) == 0);
  TS_CHECK(after.target.n == 0 || memcmp(after.target.xy, before.target.xy, 2 * after.target.n * sizeof(double)) == 0);
  TS_CHECK(after.lr == before.lr && after.step == before.step && after.r == before.r);
  check_diagram(pp, 0);
  ts_playground_state_clear(&before);
  ts_playground_state_clear(&after);
  /* a broken file is refused with its name, and nothing shown changes */
  g_file_set_contents(path, "{\"format\": \"toposcope-playground\", \"version\": 1}", -1, NULL);
  TS_CHECK(!ts_playground_panel_load(pp, path, &error));
  TS_CHECK(error && strstr(error->message, "state.json"));
  g_clear_error(&error);
  TS_CHECK(ts_playground_panel_get_cloud(pp, 0)->n == n0);
  g_free(path);

  /* Step: Topo-GEN's third test, five Adam steps on the worker */
  target_gen = ts_playground_panel_get_generation(pp) + 1;
  ts_playground_panel_load_preset(pp, "topogen-3", 0);
  TS_CHECK(wait_for(playground_done, 60));
  double x0 = ts_playground_panel_get_cloud(pp, 0)->xy[0];
  target_gen = ts_playground_panel_get_generation(pp) + 1;
  ts_playground_panel_step(pp, 5);
  TS_CHECK(wait_for(playground_done, 60));
  TS_CHECKF(ts_playground_panel_get_step(pp) == 5, "step %lld", (long long)ts_playground_panel_get_step(pp));
  TS_CHECK(isfinite(ts_playground_panel_get_loss(pp)));
  TS_CHECK(ts_playground_panel_get_cloud(pp, 0)->xy[0] != x0);
  check_diagram(pp, 0);
  /* forty more, so the picture shows the segments bending towards the circle */
  target_gen = ts_playground_panel_get_generation(pp) + 1;
  ts_playground_panel_step(pp, 40);
  TS_CHECK(wait_for(playground_done, 120));
  TS_CHECK(ts_playground_panel_get_step(pp) == 45);
  ts_playground_panel_set_r(pp, 1.2);
  shots("playground");

  /* Play on 200 points: the main loop keeps turning while the worker steps */
  TsPlaygroundState s;
  ts_playground_state_init(&s);
  TS_CHECK(ts_playground_preset_fill("topogen-3", 1, &s.cloud, &s.target, NULL) == TS_OK);
  ts_cloud_clear(&s.cloud);
  TS_CHECK(ts_playground_preset_fill("noisy-annulus", 5, &s.cloud, NULL, NULL) == TS_OK);
  TS_CHECK(ts_playground_preset_fill("noisy-annulus", 6, &s.target, NULL, NULL) == TS_OK);
  TsCloud extra;
  ts_cloud_init(&extra);
  for (int rep = 0; s.cloud.n < 200; rep++) { /* 80 + 80 + 40 points of annuli */
    TS_CHECK(ts_playground_preset_fill("noisy-annulus", 10 + (uint64_t)rep, &extra, NULL, NULL) == TS_OK);
    for (size_t i = 0; i < extra.n && s.cloud.n < 200; i++) ts_cloud_add(&s.cloud, extra.xy[2 * i] * 1.5, extra.xy[2 * i + 1] * 1.5, NULL);
  }
  ts_cloud_clear(&extra);
  s.lr = 0.02;
  s.r = 1;
  target_gen = ts_playground_panel_get_generation(pp) + 1;
  ts_playground_panel_set_state(pp, &s);
  ts_playground_state_clear(&s);
  TS_CHECK(wait_for(playground_done, 60));
  TS_CHECK(ts_playground_panel_get_cloud(pp, 0)->n == 200);
  guint shown0 = ts_playground_panel_get_generation(pp);
  ts_playground_panel_play(pp, TRUE);
  max_stall_us = 0;
  last_tick = 0;
  guint tick = g_timeout_add(1, stall_tick, NULL);
  GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(win));
  max_paint_us = 0;
  gulong h1 = g_signal_connect(clock, "before-paint", G_CALLBACK(on_before_paint), NULL);
  gulong h2 = g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint_timed), NULL);
  double best_rate = 0;
  for (int i = 0; i < 30; i++) {
    spin_for(0.1);
    best_rate = fmax(best_rate, ts_playground_panel_get_rate(pp));
  }
  g_source_remove(tick);
  g_signal_handler_disconnect(clock, h1);
  g_signal_handler_disconnect(clock, h2);
  ts_playground_panel_play(pp, FALSE);
  target_gen = ts_playground_panel_get_generation(pp) + 1;
  TS_CHECK(wait_for(playground_done, 60));
  int64_t steps = ts_playground_panel_get_step(pp);
  guint frames = ts_playground_panel_get_generation(pp) - shown0;
  printf("playground, 200 points, 3 s of Play: %lld steps, %u frames shown, %.0f steps/s shown, longest main-loop "
         "stall %.1f ms (longest frame paint %.1f ms)\n",
         (long long)steps, frames, best_rate, max_stall_us / 1000.0, max_paint_us / 1000.0);
  TS_CHECK(steps > 0 && frames > 1);
  check_diagram(pp, 0);
  /* the loss curve holds a point per step */
  char *csv = g_build_filename(tmpdir, "loss.csv", NULL);
  TS_CHECK(ts_line_plot_export_csv(ts_playground_panel_get_loss_plot(pp), csv, NULL));
  char *text = NULL;
  TS_CHECK(g_file_get_contents(csv, &text, NULL, NULL));
  int lines = 0;
  for (char *q = text; q && *q; q++) lines += *q == '\n';
  TS_CHECKF(lines >= steps, "%d lines for %lld steps", lines, (long long)steps);
  g_free(text);
  g_free(csv);

  /* frames: one PNG now, one per snapshot while recording */
  char *frames_dir = g_build_filename(tmpdir, "frames", NULL);
  g_mkdir(frames_dir, 0755);
  ts_playground_panel_record(pp, frames_dir);
  target_gen = ts_playground_panel_get_generation(pp) + 1;
  ts_playground_panel_step(pp, 1);
  TS_CHECK(wait_for(playground_done, 60));
  ts_playground_panel_record(pp, NULL);
  for (int i = 0; i < 2; i++) {
    char name[32];
    snprintf(name, sizeof name, "frame-%06d.png", i);
    char *f = g_build_filename(frames_dir, name, NULL);
    TS_CHECKF(file_starts_with(f, "\x89PNG", 4), "%s", f);
    g_free(f);
  }
  g_free(frames_dir);
}

static gboolean layers_done(void) {
  TsLayersPanel *lp = ts_window_get_layers_panel(win);
  return !ts_layers_panel_is_busy(lp) && ts_layers_panel_get_generation(lp) >= target_gen &&
         ts_layers_panel_get_n_epochs(lp) > 0;
}

static size_t want_pairs;
static gboolean layer_diagram_done(void) {
  const TsDiagram *d = ts_diagram_view_get_diagram(ts_layers_panel_get_layer_diagram(ts_window_get_layers_panel(win)));
  return d && d->n == want_pairs;
}

static void test_layers(void) {
  const char *prog = g_getenv("TOPOSCOPE");
  TsDataset ds = {0};
  if (!prog || ts_dataset_open("fashion-mnist", TS_SPLIT_TRAIN, NULL, &ds, NULL) != TS_OK) {
    printf("skip test_layers: needs FashionMNIST and $TOPOSCOPE\n");
    return;
  }
  ts_dataset_clear(&ds);
  char *store = g_build_filename(tmpdir, "probed.sqlite", NULL);
  char *cmd = g_strdup_printf("'%s' train --model lenet-dnn --data fashion-mnist --limit 1000 --val-limit 100 "
                              "--epochs 2 --batch 64 --probe lifespans,phdim --probe-epochs 0,1,2 "
                              "--probe-samples 1000 --store '%s' -q --name 'probed lenet'",
                              prog, store);
  TS_CHECK(system(cmd) == 0);
  g_free(cmd);
  TsLayersPanel *lp = ts_window_get_layers_panel(win);
  target_gen = ts_layers_panel_get_generation(lp) + 1;
  ts_window_set_store(win, store);
  ts_window_show_panel(win, "layers");
  TS_CHECK(wait_for(layers_done, 60));
  TS_CHECKF(ts_layers_panel_get_n_epochs(lp) == 3, "%u epochs", ts_layers_panel_get_n_epochs(lp));
  /* the map holds the store's numbers */
  TsStore *st = NULL;
  TS_CHECK(ts_store_open(store, TS_STORE_READ, &st, NULL) == TS_OK);
  for (int e = 0; st && e < 3; e++) {
    double *v = NULL;
    int64_t rows = 0, cols = 0, step;
    TS_CHECK(ts_store_read_series(st, ts_layers_panel_get_run(lp), "probe/lifespans", e, &v, &rows, &cols, &step,
                                  NULL) == TS_OK);
    TS_CHECK((guint)rows == ts_layers_panel_get_n_layers(lp) && rows > 0);
    for (int l = 0; l < rows; l++)
      TS_CHECKF(ts_layers_panel_get_value(lp, l, e) == v[2 * l], "layer %d epoch %d", l, e);
    free(v);
    TS_CHECK(ts_store_read_series(st, ts_layers_panel_get_run(lp), "probe/phdim", e, &v, &rows, &cols, &step, NULL) ==
             TS_OK);
    ts_layers_panel_set_measure(lp, 2);
    for (int l = 0; l < rows; l++) TS_CHECK(ts_layers_panel_get_value(lp, l, e) == v[2 * l]);
    ts_layers_panel_set_measure(lp, 0);
    free(v);
  }
  ts_store_close(st);
  /* one line per layer, a point per epoch */
  char *csv = g_build_filename(tmpdir, "layers.csv", NULL);
  TS_CHECK(ts_line_plot_export_csv(ts_layers_panel_get_layer_plot(lp), csv, NULL));
  char *text = NULL;
  TS_CHECK(g_file_get_contents(csv, &text, NULL, NULL));
  int lines = 0;
  for (char *q = text; q && *q; q++) lines += *q == '\n';
  TS_CHECKF(lines >= (int)(3 * ts_layers_panel_get_n_layers(lp)), "%d lines", lines);
  g_free(text);
  g_free(csv);
  /* a picked cell is spelled out with its layer's name */
  ts_layers_panel_pick(lp, 0, 1);
  TS_CHECK(strstr(ts_layers_panel_get_detail(lp), "Epoch 1") != NULL);
  TS_CHECK(strstr(ts_layers_panel_get_detail(lp), "conv1") != NULL);
  const TsHeatmapMarker *mk;
  TS_CHECK(ts_heatmap_view_get_markers(ts_layers_panel_get_heatmap(lp), &mk) == 1 && mk[0].row == 0 && mk[0].col == 1);
  /* the picked cell's diagram comes from its stored series */
  TS_CHECK(ts_store_open(store, TS_STORE_READ, &st, NULL) == TS_OK);
  double *dv = NULL;
  int64_t drows = 0, dcols = 0, dstep;
  TS_CHECK(st && ts_store_read_series(st, ts_layers_panel_get_run(lp), "probe/diagram/conv1", 1, &dv, &drows, &dcols,
                                      &dstep, NULL) == TS_OK);
  ts_store_close(st);
  TS_CHECKF(dcols == 3 && drows > 0 && dstep == 1, "probe/diagram/conv1: %lld x %lld", (long long)drows,
            (long long)dcols);
  want_pairs = (size_t)drows;
  TS_CHECK(wait_for(layer_diagram_done, 30));
  const TsDiagram *dg = ts_diagram_view_get_diagram(ts_layers_panel_get_layer_diagram(lp));
  TS_CHECK(dg && dg->n == (size_t)drows);
  for (int64_t i = 0; dg && i < drows && (size_t)i < dg->n; i++)
    TS_CHECKF(dg->pairs[i].dim == (int)dv[3 * i] && dg->pairs[i].birth == dv[3 * i + 1] &&
                  dg->pairs[i].death == dv[3 * i + 2],
              "pair %lld", (long long)i);
  free(dv);
  shots("layers");
  g_free(store);
}

static gboolean latent_done(void) {
  TsLatentPanel *lp = ts_window_get_latent_panel(win);
  return !ts_latent_panel_is_busy(lp) && ts_latent_panel_get_generation(lp) >= target_gen &&
         ts_latent_panel_get_n_epochs(lp) > 0;
}
static gboolean latent_diagrams_done(void) {
  return ts_latent_panel_get_diagram_generation(ts_window_get_latent_panel(win)) >= target_gen;
}

static double variance(const double *x, size_t n, size_t stride) {
  double m = 0, v = 0;
  for (size_t i = 0; i < n; i++) m += x[i * stride] / (double)n;
  for (size_t i = 0; i < n; i++) v += (x[i * stride] - m) * (x[i * stride] - m);
  return v / (double)n;
}

static void test_latent(void) {
  const char *prog = g_getenv("TOPOSCOPE");
  char *store = g_strdup(g_getenv("TS_LATENT_STORE"));
  if (!store && prog) {
    /* only a toposcope that has the TopoVAE can make the data */
    char *help = NULL;
    char *cmd = g_strdup_printf("'%s' train --help", prog);
    g_spawn_command_line_sync(cmd, &help, NULL, NULL, NULL);
    g_free(cmd);
    TsDataset ds = {0};
    if (help && strstr(help, "--lockstep") && ts_dataset_open("fashion-mnist", TS_SPLIT_TRAIN, NULL, &ds, NULL) == TS_OK) {
      ts_dataset_clear(&ds);
      store = g_build_filename(tmpdir, "vae.sqlite", NULL);
      cmd = g_strdup_printf("'%s' train --task vae --model topovae --data fashion-mnist --epochs 2 --limit 256 "
                            "--val-limit 200 --topo-weights 10,10,10,10,0,0,0 --lockstep --latent-points 200 "
                            "--store '%s' -q --name 'lockstep TopoVAE'",
                            prog, store);
      TS_CHECK(system(cmd) == 0);
      g_free(cmd);
    }
    g_free(help);
  }
  if (!store) {
    printf("skip test_latent: needs a toposcope with train --task vae and FashionMNIST, or TS_LATENT_STORE\n");
    return;
  }
  TsLatentPanel *lp = ts_window_get_latent_panel(win);
  target_gen = ts_latent_panel_get_generation(lp) + 1;
  ts_window_set_store(win, store);
  ts_window_show_panel(win, "latent");
  TS_CHECK(wait_for(latent_done, 60));
  TsStore *st = NULL;
  TS_CHECK(ts_store_open(store, TS_STORE_READ, &st, NULL) == TS_OK);
  int64_t *steps = NULL;
  size_t ns = 0;
  TS_CHECK(st && ts_store_series_steps(st, ts_latent_panel_get_run(lp), "topovae/latent", &steps, &ns, NULL) == TS_OK);
  TS_CHECKF(ns > 0 && ts_latent_panel_get_n_epochs(lp) == ns, "%u vs %zu", ts_latent_panel_get_n_epochs(lp), ns);
  for (int m = 0; m < 2; m++) {
    size_t n, dim, n2;
    const double *rows = ts_latent_panel_get_latent(lp, m, &n, &dim);
    const double *xy = ts_latent_panel_get_points(lp, m, &n2);
    TS_CHECK(rows && xy && n == n2 && n > 10 && dim >= 2);
    if (!rows || !xy || n != n2) continue;
    /* the newest epoch, as stored */
    double *v = NULL;
    int64_t r, c, step;
    TS_CHECK(ts_store_read_series(st, ts_latent_panel_get_run(lp), m ? "topovae/latent" : "vae/latent", steps[ns - 1], &v,
                                  &r, &c, &step, NULL) == TS_OK);
    TS_CHECK((size_t)r == n && (size_t)c == dim + 1 && memcmp(v, rows, n * (dim + 1) * sizeof(double)) == 0);
    free(v);
    double v1 = variance(xy, n, 2), v2 = variance(xy + 1, n, 2);
    TS_CHECKF(v1 >= v2 * (1 - 1e-9), "%g < %g", v1, v2);
    for (size_t k = 0; k < dim; k++) TS_CHECK(v1 >= variance(rows + k, n, dim + 1) * (1 - 1e-9));
    ts_latent_panel_set_projection(lp, 1, 2, 0);
    xy = ts_latent_panel_get_points(lp, m, &n2);
    TS_CHECK(xy && xy[0] == rows[2] && xy[1] == rows[0]);
    ts_latent_panel_set_projection(lp, 0, 0, 1);
  }
  free(steps);
  ts_store_close(st);
  TS_CHECK(ts_latent_panel_has_grid(lp));
  char *csv = g_build_filename(tmpdir, "bce.csv", NULL);
  TS_CHECK(ts_line_plot_export_csv(ts_latent_panel_get_bce_plot(lp), csv, NULL));
  char *text = NULL;
  TS_CHECK(g_file_get_contents(csv, &text, NULL, NULL));
  int lines = 0;
  for (char *q = text; q && *q; q++) lines += *q == '\n';
  TS_CHECKF(lines > 4, "%d lines", lines);
  g_free(text);
  g_free(csv);
  /* a class's latent cloud: its diagrams are ts_rips_ph_points of its means */
  ts_latent_panel_set_class(lp, 3);
  target_gen = ts_latent_panel_get_diagram_generation(lp) + 1;
  ts_latent_panel_compute_diagrams(lp);
  TS_CHECK(wait_for(latent_diagrams_done, 60));
  size_t n, dim;
  const double *rows = ts_latent_panel_get_latent(lp, 1, &n, &dim);
  double *pts = g_new(double, n * dim + 1);
  size_t c = 0;
  for (size_t i = 0; rows && i < n; i++)
    if ((int)rows[i * (dim + 1) + dim] == 3) memcpy(pts + c++ * dim, rows + i * (dim + 1), dim * sizeof(double));
  TsDiagram ref;
  ts_diagram_init(&ref);
  TsRipsOptions o;
  ts_rips_options_init(&o);
  o.maxdim = 1;
  TS_CHECK(c > 2 && ts_rips_ph_points(pts, c, dim, &o, &ref, NULL) == TS_OK);
  const TsMatching *m = ts_matching_view_get_matching(ts_latent_panel_get_matching_view(lp));
  TS_CHECK(m->n > 0);
  size_t inb = 0; /* every pair of the TopoVAE's diagram appears once on the B side */
  for (size_t e = 0; e < m->n; e++) inb += m->edges[e].b >= 0;
  TS_CHECKF(inb == ref.n, "%zu matched vs %zu pairs", inb, ref.n);
  ts_diagram_clear(&ref);
  g_free(pts);
  shots("latent");
  g_free(store);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "%s/ts-playground-XXXXXX", g_get_tmp_dir());
  if (!g_mkdtemp(tmpdir)) TS_SKIP("cannot make a temporary folder");
  g_setenv("XDG_CONFIG_HOME", tmpdir, TRUE);
  if (!gtk_init_check()) {
    g_rmdir(tmpdir);
    TS_SKIP("no display (run under xvfb-run)");
  }
  adw_init();
  ts_ui_resources_register();
  win = ts_window_new(NULL, FALSE);
  harness_win = GTK_WIDGET(win);
  gtk_window_set_default_size(GTK_WINDOW(win), 1240, 780);
  gtk_window_present(GTK_WINDOW(win));
  TS_RUN(test_compare);
  TS_RUN(test_playground);
  TS_RUN(test_layers);
  TS_RUN(test_latent);
  gtk_window_destroy(GTK_WINDOW(win));
  char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  g_free(cmd);
  return ts_test_finish();
}
