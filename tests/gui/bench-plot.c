/* bench-plot.c — figures for tests/bench/bench-gui.py: the Homology panel's
 * worker pipeline on a 1024² noise image (filtration, cubical PH, Kaji's
 * labels) and the diagram view drawing its ~300k points into an image
 * surface, as the widget does for each redraw of its cached node.
 * Usage: bench-plot OUT.csv  (writes the diagram's points for the reference
 * plot, prints one JSON line of timings). */
#include <cairo.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "image/filtration.h"
#include "ph/cubical.h"
#include "ph/vectorize.h"
#include "plot/barcode-view.h"
#include "plot/diagram-view.h"

static double now(void) { return (double)g_get_monotonic_time() / 1e6; }

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: bench-plot OUT.csv\n");
    return 2;
  }
  int n = 1024;
  TsImage img = {0};
  if (ts_image_alloc(&img, n, n, 1, NULL) != TS_OK) return 1;
  /* uniform noise: the worst case, about 0.3 pairs per pixel */
  uint64_t s = 12345;
  for (size_t i = 0; i < (size_t)n * n; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    img.pixels[i] = (uint8_t)(s >> 56);
  }
  double t0 = now();
  TsFiltrationOptions fo;
  ts_filtration_options_default(&fo);
  fo.kind = TS_FILT_GREY;
  double *field;
  int fw, fh, constant;
  TsError err;
  if (ts_filtration_apply(&img, &fo, &field, &fw, &fh, &constant, &err) != TS_OK) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  TsCubicalOptions co;
  ts_cubical_options_default(&co);
  TsDiagram d;
  ts_diagram_init(&d);
  size_t shape[2] = {(size_t)fh, (size_t)fw};
  if (ts_cubical_ph(field, 2, shape, &co, &d, &err) != TS_OK) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  TsKajiParams kp;
  ts_kaji_params_default(&kp, 0);
  double *pi = calloc((size_t)kp.dims, sizeof *pi), *life = calloc((size_t)kp.dims, sizeof *life);
  ts_vec_kaji_persistence_image(&d, &kp, pi, NULL);
  ts_vec_kaji_life_curve(&d, &kp, life, NULL);
  double t_homology = now() - t0;

  int w = 800, h = 800, reps = 5;
  cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  double best = INFINITY;
  for (int r = 0; r < reps; r++) {
    cairo_t *cr = cairo_create(surf);
    TsDiagramViewData v = {.diagram = &d, .t = NAN, .title = "Persistence diagram"};
    double a = now();
    ts_diagram_view_draw(cr, &v, w, h);
    cairo_surface_flush(surf);
    best = fmin(best, now() - a);
    cairo_destroy(cr);
  }
  double best_bar = INFINITY;
  size_t nord;
  size_t *order = ts_barcode_order(&d, TS_BARCODE_SORT_BIRTH, 0, &nord);
  for (int r = 0; r < reps; r++) {
    cairo_t *cr = cairo_create(surf);
    TsBarcodeViewData v = {.diagram = &d, .order = order, .n_order = nord, .t = NAN};
    double a = now();
    ts_barcode_view_draw(cr, &v, w, h);
    cairo_surface_flush(surf);
    best_bar = fmin(best_bar, now() - a);
    cairo_destroy(cr);
  }
  cairo_surface_write_to_png(surf, "/dev/null");
  cairo_surface_destroy(surf);
  FILE *f = fopen(argv[1], "w");
  if (!f) return 1;
  for (size_t i = 0; i < d.n; i++)
    fprintf(f, "%d,%.9g,%.9g\n", d.pairs[i].dim, d.pairs[i].birth, isfinite(d.pairs[i].death) ? d.pairs[i].death : 256.0);
  fclose(f);
  printf("{\"pairs\": %zu, \"homology_s\": %.4f, \"draw_diagram_s\": %.4f, \"draw_barcode_s\": %.4f}\n", d.n, t_homology,
         best, best_bar);
  g_free(order);
  free(pi), free(life), free(field);
  ts_diagram_clear(&d);
  ts_image_clear(&img);
  return 0;
}
