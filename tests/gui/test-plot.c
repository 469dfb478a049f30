/* test-plot.c — the plot drawing functions render into image surfaces
 * without a window; their pixels are checked where the data say they must
 * be. Exports are checked for valid PNG/SVG/PDF files and CSV contents. */
#include <cairo.h>
#include <gtk/gtk.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>

#include "plot/barcode-view.h"
#include "plot/colormap.h"
#include "plot/diagram-view.h"
#include "plot/heatmap-view.h"
#include "plot/line-plot.h"
#include "plot/plot-common.h"
#include "plot/plot-export.h"
#include "ts-test.h"

static char tmpdir[256];

static uint32_t pixel(cairo_surface_t *s, int x, int y) {
  cairo_surface_flush(s);
  const uint8_t *d = cairo_image_surface_get_data(s);
  return *(const uint32_t *)(const void *)(d + (size_t)y * cairo_image_surface_get_stride(s) + 4 * (size_t)x) &
         0xffffffu;
}

static uint32_t rgb_of(const double rgb[3]) {
  return (uint32_t)(rgb[0] * 255) << 16 | (uint32_t)(rgb[1] * 255) << 8 | (uint32_t)(rgb[2] * 255);
}

/* Is any pixel within r of (x, y) close to colour c? */
static int near_colour(cairo_surface_t *s, double x, double y, int r, uint32_t c, int tol) {
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  for (int yy = (int)y - r; yy <= (int)y + r; yy++)
    for (int xx = (int)x - r; xx <= (int)x + r; xx++) {
      if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
      uint32_t p = pixel(s, xx, yy);
      int ok = 1;
      for (int k = 0; k < 24; k += 8) ok &= abs((int)((p >> k) & 255) - (int)((c >> k) & 255)) <= tol;
      if (ok) return 1;
    }
  return 0;
}

static int is_white(uint32_t p) { return p == 0xffffff; }

static void make_diagram(TsDiagram *d) {
  ts_diagram_init(d);
  TsPair p = {.birth = 1, .death = 4, .dim = 0, .birth_at = {2, 3, -1, -1}, .death_at = {5, 6, -1, -1}};
  ts_diagram_push(d, &p, NULL);
  TsPair q = {.birth = 2, .death = 3, .dim = 1, .birth_at = {1, 1, -1, -1}, .death_at = {7, 7, -1, -1}};
  ts_diagram_push(d, &q, NULL);
  TsPair e = {.birth = 0, .death = INFINITY, .dim = 0, .birth_at = {0, 0, -1, -1}, .death_at = {-1, -1, -1, -1}};
  ts_diagram_push(d, &e, NULL);
  d->loc = TS_LOC_CELLS;
}

static void test_frame_and_ticks(void) {
  double t[16];
  int n = ts_plot_nice_ticks(0, 1, 0, t, 16);
  TS_CHECK(n >= 3 && n <= 11);
  TS_CHECK_CLOSE(t[0], 0.0, 1e-12);
  TS_CHECK_CLOSE(t[n - 1], 1.0, 1e-12);
  n = ts_plot_nice_ticks(1e-3, 1e2, 1, t, 16);
  TS_CHECK(n == 6);
  TS_CHECK_CLOSE(t[0], 1e-3, 1e-9);
  TsPlotFrame f = {.x0 = 0, .x1 = 10, .y0 = -1, .y1 = 1};
  ts_plot_frame_layout(&f, 400, 300, 0);
  TS_CHECK_CLOSE(ts_plot_frame_inv_x(&f, ts_plot_frame_x(&f, 3.5)), 3.5, 1e-12);
  TS_CHECK_CLOSE(ts_plot_frame_inv_y(&f, ts_plot_frame_y(&f, 0.25)), 0.25, 1e-12);
  TS_CHECK(ts_plot_frame_y(&f, 1) < ts_plot_frame_y(&f, -1)); /* y grows upwards */
  f.logy = 1, f.y0 = 1, f.y1 = 100;
  TS_CHECK_CLOSE(ts_plot_frame_y(&f, 10), f.top + f.height / 2, 1e-9);
}

static void test_colormap(void) {
  uint8_t a[3], b[3];
  ts_colormap_rgb(TS_CMAP_GREY, 0, a);
  ts_colormap_rgb(TS_CMAP_GREY, 1, b);
  TS_CHECK(a[0] == 0 && b[0] == 255);
  ts_colormap_rgb(TS_CMAP_VIRIDIS, 0, a);
  ts_colormap_rgb(TS_CMAP_VIRIDIS, 1, b);
  TS_CHECK(a[0] == 68 && a[1] == 1 && a[2] == 84);   /* viridis dark purple */
  TS_CHECK(b[0] == 253 && b[1] == 231 && b[2] == 37); /* viridis yellow */
  /* perceptual: luminance grows monotonically along viridis */
  double prev = -1;
  for (int i = 0; i <= 64; i++) {
    ts_colormap_rgb(TS_CMAP_VIRIDIS, i / 64.0, a);
    double l = 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2];
    TS_CHECK(l >= prev - 0.5);
    prev = l;
  }
}

static void test_diagram_draw(void) {
  TsDiagram dg;
  make_diagram(&dg);
  int w = 400, h = 400;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  cairo_t *cr = cairo_create(s);
  TsDiagramViewData d = {.diagram = &dg, .t = NAN};
  ts_diagram_view_draw(cr, &d, w, h);
  cairo_destroy(cr);
  TsPlotFrame f;
  double inf_y, rgb[3];
  ts_diagram_view_layout(&d, w, h, &f, &inf_y);
  /* the fitted range contains every finite value, square */
  TS_CHECK(f.x0 < 0 && f.x1 > 4 && f.x0 == f.y0 && f.x1 == f.y1);
  /* H0 point (1, 4) in H0 blue, H1 point (2, 3) in H1 orange */
  ts_plot_dim_color(0, rgb);
  TS_CHECK(near_colour(s, ts_plot_frame_x(&f, 1), ts_plot_frame_y(&f, 4), 1, rgb_of(rgb), 40));
  ts_plot_dim_color(1, rgb);
  TS_CHECK(near_colour(s, ts_plot_frame_x(&f, 2), ts_plot_frame_y(&f, 3), 1, rgb_of(rgb), 40));
  /* the essential class sits in the infinity lane at its birth */
  ts_plot_dim_color(0, rgb);
  TS_CHECK(near_colour(s, ts_plot_frame_x(&f, 0), inf_y, 1, rgb_of(rgb), 40));
  TS_CHECK(inf_y < f.top);
  /* the diagonal is drawn (dark) and an empty spot off it is white */
  TS_CHECK(near_colour(s, ts_plot_frame_x(&f, 2.5), ts_plot_frame_y(&f, 2.5), 1, 0x404040, 40));
  TS_CHECK(is_white(pixel(s, (int)ts_plot_frame_x(&f, 3.5), (int)ts_plot_frame_y(&f, 0.5))));
  /* lifetime mode puts (1, 4) at (1, 3) */
  cairo_surface_destroy(s);
  s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  cr = cairo_create(s);
  d.lifetime = 1;
  ts_diagram_view_draw(cr, &d, w, h);
  cairo_destroy(cr);
  ts_diagram_view_layout(&d, w, h, &f, &inf_y);
  ts_plot_dim_color(0, rgb);
  TS_CHECK(near_colour(s, ts_plot_frame_x(&f, 1), ts_plot_frame_y(&f, 3), 1, rgb_of(rgb), 40));
  cairo_surface_destroy(s);
  ts_diagram_clear(&dg);
}

static void test_diagram_many_points(void) {
  /* 300k points go through the splat path; all land where they should */
  TsDiagram dg;
  ts_diagram_init(&dg);
  ts_diagram_reserve(&dg, 300000, NULL);
  for (int i = 0; i < 300000; i++) {
    double b = (i % 1000) / 1000.0, dd = b + 0.1 + (i / 1000) / 3000.0;
    ts_diagram_add(&dg, i % 7 == 0, b, dd, NULL);
  }
  ts_diagram_add(&dg, 0, 0.5, 0.5 + 0.7, NULL);
  int w = 500, h = 500;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  cairo_t *cr = cairo_create(s);
  TsDiagramViewData d = {.diagram = &dg, .t = NAN, .x0 = 0, .x1 = 1.3, .y0 = 0, .y1 = 1.3};
  ts_diagram_view_draw(cr, &d, w, h);
  cairo_destroy(cr);
  TsPlotFrame f;
  double inf_y, rgb[3];
  ts_diagram_view_layout(&d, w, h, &f, &inf_y);
  TS_CHECK(f.x1 == 1.3); /* the explicit view is kept */
  ts_plot_dim_color(0, rgb);
  TS_CHECK(near_colour(s, ts_plot_frame_x(&f, 0.5), ts_plot_frame_y(&f, 1.2), 0, rgb_of(rgb), 2));
  /* under the diagonal there is nothing */
  TS_CHECK(is_white(pixel(s, (int)ts_plot_frame_x(&f, 0.93), (int)ts_plot_frame_y(&f, 0.3))));
  cairo_surface_destroy(s);
  ts_diagram_clear(&dg);
}

static void test_barcode_draw(void) {
  TsDiagram dg;
  make_diagram(&dg);
  size_t n;
  size_t *order = ts_barcode_order(&dg, TS_BARCODE_SORT_BIRTH, 0, &n);
  TS_CHECK(n == 3);
  TS_CHECK(order[0] == 2 && order[1] == 0 && order[2] == 1); /* H0 by birth, then H1 */
  g_free(order);
  order = ts_barcode_order(&dg, TS_BARCODE_SORT_LIFESPAN, 0, &n);
  TS_CHECK(order[0] == 2 && order[1] == 0); /* infinite lifespan first */
  g_free(order);
  order = ts_barcode_order(&dg, TS_BARCODE_SORT_BIRTH, 2u, &n);
  TS_CHECK(n == 1 && order[0] == 1);
  g_free(order);

  order = ts_barcode_order(&dg, TS_BARCODE_SORT_BIRTH, 0, &n);
  int w = 400, h = 300;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  cairo_t *cr = cairo_create(s);
  TsBarcodeViewData d = {.diagram = &dg, .order = order, .n_order = n, .t = 2.5};
  ts_barcode_view_draw(cr, &d, w, h);
  cairo_destroy(cr);
  TsPlotFrame f;
  ts_barcode_view_layout(&d, w, h, &f);
  double bh = f.height / 3, rgb[3];
  /* bar 1 (row 1) is H0 [1, 4): coloured inside, white before its birth */
  ts_plot_dim_color(0, rgb);
  double y1 = f.top + 1.5 * bh;
  TS_CHECK(near_colour(s, ts_plot_frame_x(&f, 1.5), y1, 0, rgb_of(rgb), 30));
  TS_CHECK(is_white(pixel(s, (int)ts_plot_frame_x(&f, 0.7), (int)y1)));
  /* the essential bar reaches the right edge */
  TS_CHECK(near_colour(s, f.left + f.width - 14, f.top + 0.5 * bh, 0, rgb_of(rgb), 30));
  /* H1 bar [2, 3) in orange */
  ts_plot_dim_color(1, rgb);
  TS_CHECK(near_colour(s, ts_plot_frame_x(&f, 2.2), f.top + 2.5 * bh, 0, rgb_of(rgb), 30));
  /* picking */
  TS_CHECK(ts_barcode_view_bar_at(&d, w, h, ts_plot_frame_x(&f, 2.2), f.top + 2.5 * bh) == 1);
  TS_CHECK(ts_barcode_view_bar_at(&d, w, h, 2, 2) == -1);
  cairo_surface_destroy(s);
  g_free(order);
  ts_diagram_clear(&dg);
}

static void test_barcode_many_bars(void) {
  /* more bars than pixel rows go through the raster path: the first half
   * [0, 1) in H0, the second half [2, 3) in H1 */
  TsDiagram dg;
  ts_diagram_init(&dg);
  for (int i = 0; i < 20000; i++) ts_diagram_add(&dg, i >= 10000, i < 10000 ? 0.0 : 2.0, i < 10000 ? 1.0 : 3.0, NULL);
  size_t n;
  size_t *order = ts_barcode_order(&dg, TS_BARCODE_SORT_BIRTH, 0, &n);
  int w = 400, h = 300;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  cairo_t *cr = cairo_create(s);
  TsBarcodeViewData d = {.diagram = &dg, .order = order, .n_order = n, .t = NAN};
  ts_barcode_view_draw(cr, &d, w, h);
  cairo_destroy(cr);
  TsPlotFrame f;
  ts_barcode_view_layout(&d, w, h, &f);
  double rgb[3];
  ts_plot_dim_color(0, rgb);
  TS_CHECK(near_colour(s, ts_plot_frame_x(&f, 0.5), f.top + f.height * 0.25, 0, rgb_of(rgb), 2));
  TS_CHECK(is_white(pixel(s, (int)ts_plot_frame_x(&f, 2.3), (int)(f.top + f.height * 0.25))));
  ts_plot_dim_color(1, rgb);
  TS_CHECK(near_colour(s, ts_plot_frame_x(&f, 2.5), f.top + f.height * 0.75, 0, rgb_of(rgb), 2));
  TS_CHECK(is_white(pixel(s, (int)ts_plot_frame_x(&f, 1.3), (int)(f.top + f.height * 0.75))));
  cairo_surface_destroy(s);
  g_free(order);
  ts_diagram_clear(&dg);
}

static void test_line_plot(void) {
  double y[5] = {1, 1, 1, 1, 1}, out[5];
  ts_line_plot_ema(y, 5, 0.9, out);
  for (int i = 0; i < 5; i++) TS_CHECK_CLOSE(out[i], 1.0, 1e-12); /* debiased: a constant stays constant */
  double z[3] = {0, 10, 20};
  ts_line_plot_ema(z, 3, 0.0, out);
  TS_CHECK(out[0] == 0 && out[1] == 10 && out[2] == 20);
  ts_line_plot_ema(z, 3, 0.5, out);
  /* s1 = 0.5*0 + 0.5*10 = 5 over weight 0.75 → 6.667 */
  TS_CHECK_CLOSE(out[1], 5.0 / 0.75, 1e-12);

  double xs[101], ys[101];
  for (int i = 0; i <= 100; i++) xs[i] = i, ys[i] = i;
  TsLineSeries ser = {.name = "loss", .x = xs, .y = ys, .n = 101, .rgb = {0.9, 0.38, 0}};
  TsLinePlotData d = {.series = &ser, .n_series = 1, .vline = NAN, .title = "t", .xlabel = "step", .ylabel = "y"};
  int w = 400, h = 300;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  cairo_t *cr = cairo_create(s);
  ts_line_plot_draw(cr, &d, w, h);
  cairo_destroy(cr);
  TsPlotFrame f;
  ts_line_plot_layout(&d, w, h, &f);
  TS_CHECK(f.x0 == 0 && f.x1 == 100 && f.y0 < 0 && f.y1 > 100);
  TS_CHECK(near_colour(s, ts_plot_frame_x(&f, 50), ts_plot_frame_y(&f, 50), 1, rgb_of(ser.rgb), 40));
  TS_CHECK(is_white(pixel(s, (int)ts_plot_frame_x(&f, 83), (int)ts_plot_frame_y(&f, 27))));
  cairo_surface_destroy(s);
  /* log y: 10 sits half way between 1 and 100 */
  for (int i = 0; i <= 100; i++) ys[i] = pow(10.0, i / 50.0);
  d.logy = 1;
  ts_line_plot_layout(&d, w, h, &f);
  TS_CHECK(f.y0 > 0 && f.y0 < 1 && f.y1 > 100);
}

/* A series with many more points than pixel columns is drawn column by
 * column (first, lowest, highest, last); the picture must match the plain
 * polyline through every point. The reference is forced by one extra point
 * that steps back in x by a hair (same y: nothing visible), which sends the
 * drawing down the plain path. Also the dark style: light ink, dark paper. */
static void test_line_plot_many_points(void) {
  enum { N = 30000 };
  double *x = g_new(double, N + 1), *y = g_new(double, N + 1);
  GRand *r = g_rand_new_with_seed(3);
  for (int trial = 0; trial < 4; trial++) {
    double v = 0;
    for (int i = 0; i < N; i++) {
      v += g_rand_double_range(r, -1, 1);
      x[i] = trial == 3 ? (double)i * i : i; /* uneven spacing too */
      y[i] = trial == 1 && i % 5000 == 17 ? NAN : v; /* gaps break the line in both */
    }
    x[N] = x[N - 1] - 1e-9 * fabs(x[N - 1]), y[N] = y[N - 1];
    TsLineSeries a = {.name = NULL, .x = x, .y = y, .n = N, .rgb = {0.2, 0.5, 0.9}};
    TsLineSeries b = a;
    b.n = N + 1;
    TsLinePlotData da = {.series = &a, .n_series = 1, .vline = NAN, .smoothing = trial == 2 ? 0.9 : 0};
    TsLinePlotData db = da;
    db.series = &b;
    /* the same frame for both */
    int w = 420, h = 300;
    TsPlotFrame f;
    ts_line_plot_layout(&db, w, h, &f);
    da.x0 = db.x0 = f.x0, da.x1 = db.x1 = f.x1, da.y0 = db.y0 = f.y0, da.y1 = db.y1 = f.y1;
    cairo_surface_t *sa = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    cairo_surface_t *sb = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    cairo_t *ca = cairo_create(sa), *cb = cairo_create(sb);
    ts_line_plot_draw(ca, &da, w, h);
    ts_line_plot_draw(cb, &db, w, h);
    cairo_destroy(ca), cairo_destroy(cb);
    cairo_surface_flush(sa), cairo_surface_flush(sb);
    /* per pixel column, the ink of the plain path lies within that of the
     * column path (to 2 pixels); a 2-pixel pen
     * bleeds into the neighbouring columns differently on the two paths,
     * so each column is compared as the union with its neighbours */
    int x0 = (int)f.left + 2, x1 = (int)(f.left + f.width) - 2, nc = MAX(x1 - x0, 3);
    int *tops = g_new(int, 2 * (gsize)nc), *bots = g_new(int, 2 * (gsize)nc);
    for (int k = 0; k < 2; k++)
      for (int c = 0; c < nc; c++) {
        int top = -1, bottom = -1;
        for (int py = (int)f.top + 1; py < (int)(f.top + f.height) - 1; py++) {
          uint32_t p = pixel(k ? sb : sa, x0 + c, py);
          int dark = 255 - (int)MIN(MIN((p >> 16) & 255, (p >> 8) & 255), p & 255);
          if (dark < 110) continue;
          if (top < 0) top = py;
          bottom = py;
        }
        tops[k * nc + c] = top, bots[k * nc + c] = bottom;
      }
    /* the reference is the data: in each pixel column the ink covers every
     * point that falls in it (no spike is lost), and reaches no further than
     * the points of it and its neighbours plus the pen (nothing invented) */
    double *dlo = g_new(double, (gsize)nc), *dhi = g_new(double, (gsize)nc);
    for (int c = 0; c < nc; c++) dlo[c] = INFINITY, dhi[c] = -INFINITY;
    double *ys = g_new(double, N); /* what the bold line shows: the smoothed values when smoothing */
    ts_line_plot_ema(y, N, da.smoothing, ys);
    for (int i = 0; i < N; i++) {
      if (!isfinite(ys[i])) continue;
      int c = (int)floor(ts_plot_frame_x(&f, x[i])) - x0;
      if (c < 0 || c >= nc) continue;
      double py = ts_plot_frame_y(&f, ys[i]);
      dlo[c] = fmin(dlo[c], py), dhi[c] = fmax(dhi[c], py);
    }
    int columns = 0, covered = 0, bounded = 0;
    for (int c = 1; c + 1 < nc; c++) {
      if (!isfinite(dlo[c]) || dlo[c] < f.top + 3 || dhi[c] > f.top + f.height - 3) continue;
      columns++;
      int k = 0; /* the column path */
      covered += tops[k * nc + c] >= 0 && tops[k * nc + c] <= dlo[c] + 1.5 && bots[k * nc + c] >= dhi[c] - 1.5;
      double wlo = fmin(dlo[c], fmin(dlo[c - 1], dlo[c + 1])), whi = fmax(dhi[c], fmax(dhi[c - 1], dhi[c + 1]));
      bounded += tops[k * nc + c] >= wlo - 3 && bots[k * nc + c] <= whi + 3;
    }
    TS_CHECKF(columns > 100 && covered == columns && bounded == columns,
              "trial %d: of %d columns, %d cover their points, %d stay within their neighbours'", trial, columns, covered,
              bounded);
    g_free(dlo), g_free(dhi), g_free(ys);
    g_free(tops), g_free(bots);
    cairo_surface_destroy(sa), cairo_surface_destroy(sb);
  }
  /* dark: the paper is dark and the axis labels light */
  TsLineSeries a = {.x = x, .y = y, .n = 100, .rgb = {0.2, 0.5, 0.9}};
  TsLinePlotData d = {.series = &a, .n_series = 1, .vline = NAN, .title = "dark"};
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 300, 200);
  cairo_t *cr = cairo_create(s);
  ts_plot_set_dark(1);
  ts_line_plot_draw(cr, &d, 300, 200);
  ts_plot_set_dark(0);
  cairo_destroy(cr);
  cairo_surface_flush(s);
  uint32_t corner = pixel(s, 2, 2);
  TS_CHECK(((corner >> 16) & 255) < 80 && ((corner >> 8) & 255) < 80);
  cairo_surface_destroy(s);
  g_rand_free(r);
  g_free(x), g_free(y);
}

static void test_heatmap(void) {
  double field[4 * 3];
  for (int i = 0; i < 12; i++) field[i] = i;
  uint8_t mask[12] = {0};
  mask[0] = 1;
  TsHeatmapMarker mk = {.row = 2, .col = 3, .rgb = {1, 0, 0}, .shape = TS_MARKER_BIRTH};
  TsHeatmapViewData d = {.width = 4, .height = 3, .field = field, .cmap = TS_CMAP_VIRIDIS, .colorbar = 1,
                         .mask = mask, .mask_rgba = {1, 0, 0, 1}, .markers = &mk, .n_markers = 1};
  int w = 300, h = 200;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  cairo_t *cr = cairo_create(s);
  ts_heatmap_view_draw(cr, &d, w, h);
  cairo_destroy(cr);
  double ox, oy, sc;
  ts_heatmap_view_layout(&d, w, h, &ox, &oy, &sc);
  TS_CHECK(sc > 10);
  uint8_t rgb[3];
  /* pixel (row 0, col 1) = 1/11 of the range; (row 1, col 3) = 7/11 — but the
   * LUT quantises to 256 levels, hence the tolerance */
  ts_colormap_rgb(TS_CMAP_VIRIDIS, 1.0 / 11, rgb);
  uint32_t c = (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2];
  TS_CHECK(near_colour(s, ox + 1.5 * sc, oy + 0.5 * sc, 0, c, 3));
  ts_colormap_rgb(TS_CMAP_VIRIDIS, 7.0 / 11, rgb);
  c = (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2];
  TS_CHECK(near_colour(s, ox + 3.5 * sc, oy + 1.5 * sc, 0, c, 3));
  /* the mask paints (0, 0) red */
  TS_CHECK(near_colour(s, ox + 0.5 * sc, oy + 0.5 * sc, 0, 0xff0000, 2));
  /* the marker ring passes through the right edge of its circle */
  double r = fmin(12.0, fmax(6.0, sc * 0.6));
  TS_CHECK(near_colour(s, ox + 3.5 * sc + r, oy + 2.5 * sc, 1, 0xff0000, 40));
  /* the colour bar shows the top of the map at its top */
  ts_colormap_rgb(TS_CMAP_VIRIDIS, 1.0 - 3.0 / (3 * sc - 1), rgb);
  c = (uint32_t)rgb[0] << 16 | (uint32_t)rgb[1] << 8 | rgb[2];
  TS_CHECKF(near_colour(s, ox + 4 * sc + 10 + 6, oy + 3, 0, c, 8), "%06x vs %06x", pixel(s, (int)(ox + 4 * sc + 16), (int)(oy + 3)), c);
  cairo_surface_destroy(s);
  /* an RGB image is shown as is */
  uint8_t img[2 * 2 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
  TsHeatmapViewData di = {.width = 2, .height = 2, .image = img, .channels = 3};
  s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 100, 100);
  cr = cairo_create(s);
  ts_heatmap_view_draw(cr, &di, 100, 100);
  cairo_destroy(cr);
  ts_heatmap_view_layout(&di, 100, 100, &ox, &oy, &sc);
  TS_CHECK(pixel(s, (int)(ox + 1.5 * sc), (int)(oy + 0.5 * sc)) == 0x00ff00);
  TS_CHECK(pixel(s, (int)(ox + 1.5 * sc), (int)(oy + 1.5 * sc)) == 0x0a141e);
  cairo_surface_destroy(s);
}

static int file_starts_with(const char *path, const char *magic, size_t n) {
  char buf[16] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t got = fread(buf, 1, n, f);
  fclose(f);
  return got == n && memcmp(buf, magic, n) == 0;
}

static void test_export_files(void) {
  TsDiagram dg;
  make_diagram(&dg);
  TsDiagramViewData d = {.diagram = &dg, .t = 2};
  const char *exts[3] = {"png", "svg", "pdf"};
  for (int i = 0; i < 3; i++) {
    char *path = g_strdup_printf("%s/diagram.%s", tmpdir, exts[i]);
    GError *e = NULL;
    TS_CHECK(ts_plot_export_file((TsPlotDrawFn)ts_diagram_view_draw, &d, 320, 240, path, &e));
    if (e) fprintf(stderr, "%s\n", e->message), g_error_free(e);
    if (i == 0) {
      TS_CHECK(file_starts_with(path, "\x89PNG\r\n\x1a\n", 8));
      cairo_surface_t *s = cairo_image_surface_create_from_png(path);
      TS_CHECK(cairo_surface_status(s) == CAIRO_STATUS_SUCCESS);
      TS_CHECK(cairo_image_surface_get_width(s) == 320 && cairo_image_surface_get_height(s) == 240);
      cairo_surface_destroy(s);
    } else if (i == 1) {
      char *text = NULL;
      TS_CHECK(g_file_get_contents(path, &text, NULL, NULL));
      TS_CHECK(text && strstr(text, "<svg") && strstr(text, "</svg>"));
      g_free(text);
    } else {
      TS_CHECK(file_starts_with(path, "%PDF-", 5));
    }
    g_free(path);
  }
  char *bad = g_strdup_printf("%s/diagram.bmp", tmpdir);
  GError *e = NULL;
  TS_CHECK(!ts_plot_export_file((TsPlotDrawFn)ts_diagram_view_draw, &d, 100, 100, bad, &e));
  TS_CHECK(e && strstr(e->message, "unknown format"));
  g_clear_error(&e);
  g_free(bad);
  ts_diagram_clear(&dg);
}

static void test_widget_exports(void) {
  /* the widgets' own exporters (need GTK initialised, not a window) */
  if (!gtk_init_check()) {
    printf("no display: widget exports skipped\n");
    return;
  }
  TsDiagram dg;
  make_diagram(&dg);
  GtkWidget *dv = g_object_ref_sink(ts_diagram_view_new());
  ts_diagram_view_set_diagram(TS_DIAGRAM_VIEW(dv), &dg);
  uint8_t sel[3] = {0, 1, 0};
  ts_diagram_view_set_selected(TS_DIAGRAM_VIEW(dv), sel, FALSE);
  char *csv = g_strdup_printf("%s/d.csv", tmpdir), *text = NULL;
  TS_CHECK(ts_diagram_view_export_csv(TS_DIAGRAM_VIEW(dv), csv, NULL));
  TS_CHECK(g_file_get_contents(csv, &text, NULL, NULL));
  TS_CHECK(text && strstr(text, "dim,birth,death") && strstr(text, "1,2,3,1,1;1,7;7,1") && strstr(text, ",inf,"));
  g_free(text);
  char *png = g_strdup_printf("%s/d.png", tmpdir);
  TS_CHECK(ts_diagram_view_export(TS_DIAGRAM_VIEW(dv), png, 0, 0, NULL));
  TS_CHECK(file_starts_with(png, "\x89PNG", 4));
  g_object_unref(dv);

  GtkWidget *bv = g_object_ref_sink(ts_barcode_view_new());
  ts_barcode_view_set_diagram(TS_BARCODE_VIEW(bv), &dg);
  char *pdf = g_strdup_printf("%s/b.pdf", tmpdir);
  TS_CHECK(ts_barcode_view_export(TS_BARCODE_VIEW(bv), pdf, 0, 0, NULL));
  TS_CHECK(file_starts_with(pdf, "%PDF-", 5));
  TS_CHECK(ts_barcode_view_export_csv(TS_BARCODE_VIEW(bv), csv, NULL));
  TS_CHECK(g_file_get_contents(csv, &text, NULL, NULL));
  TS_CHECK(text && strstr(text, "0,0,inf,inf,0\n0,1,4,3,0\n1,2,3,1,0\n"));
  g_free(text);
  g_object_unref(bv);

  GtkWidget *lp = g_object_ref_sink(ts_line_plot_new());
  guint k = ts_line_plot_add_series(TS_LINE_PLOT(lp), "β0");
  for (int i = 0; i < 10; i++) ts_line_plot_append(TS_LINE_PLOT(lp), k, i, i * i);
  char *svg = g_strdup_printf("%s/l.svg", tmpdir);
  TS_CHECK(ts_line_plot_export(TS_LINE_PLOT(lp), svg, 0, 0, NULL));
  TS_CHECK(g_file_get_contents(svg, &text, NULL, NULL) && strstr(text, "<svg"));
  g_free(text);
  TS_CHECK(ts_line_plot_export_csv(TS_LINE_PLOT(lp), csv, NULL));
  TS_CHECK(g_file_get_contents(csv, &text, NULL, NULL) && strstr(text, "\"β0\",3,9,9\n"));
  g_free(text);
  /* locking keeps the range while data arrive; unlocked it refits */
  double x0, x1, y0, y1;
  ts_line_plot_set_locked(TS_LINE_PLOT(lp), TRUE);
  ts_line_plot_get_range(TS_LINE_PLOT(lp), &x0, &x1, &y0, &y1);
  ts_line_plot_append(TS_LINE_PLOT(lp), k, 100, 1e4);
  double a0, a1, b0, b1;
  ts_line_plot_get_range(TS_LINE_PLOT(lp), &a0, &a1, &b0, &b1);
  TS_CHECK(a1 == x1 && b1 == y1);
  ts_line_plot_set_locked(TS_LINE_PLOT(lp), FALSE);
  ts_line_plot_get_range(TS_LINE_PLOT(lp), &a0, &a1, &b0, &b1);
  TS_CHECK(a1 == 100 && b1 > 1e4);
  g_object_unref(lp);

  GtkWidget *hv = g_object_ref_sink(ts_heatmap_view_new());
  double field[6] = {0, 1, 2, 3, 4, 5};
  ts_heatmap_view_set_field(TS_HEATMAP_VIEW(hv), field, 3, 2);
  TS_CHECK(ts_heatmap_view_export_csv(TS_HEATMAP_VIEW(hv), csv, NULL));
  TS_CHECK(g_file_get_contents(csv, &text, NULL, NULL) && strcmp(text, "0,1,2\n3,4,5\n") == 0);
  g_free(text);
  TS_CHECK(ts_heatmap_view_export(TS_HEATMAP_VIEW(hv), png, 0, 0, NULL));
  g_object_unref(hv);
  g_free(csv), g_free(png), g_free(pdf), g_free(svg);
  ts_diagram_clear(&dg);
}

/* The widget keeps each series' range as points are appended; it must be the
 * range a full walk finds, through chunks, log toggles and replaced points. */
static void test_line_plot_incremental(void) {
  if (!gtk_init_check()) {
    printf("no display: incremental range skipped\n");
    return;
  }
  GRand *r = g_rand_new_with_seed(7);
  for (int trial = 0; trial < 40; trial++) {
    GtkWidget *lp = g_object_ref_sink(ts_line_plot_new());
    guint ns = (guint)g_rand_int_range(r, 1, 4);
    int logy = 0;
    GArray *xs[3], *ys[3];
    for (guint k = 0; k < ns; k++) {
      ts_line_plot_add_series(TS_LINE_PLOT(lp), NULL);
      xs[k] = g_array_new(FALSE, FALSE, sizeof(double)), ys[k] = g_array_new(FALSE, FALSE, sizeof(double));
    }
    for (int step = 0; step < 12; step++) {
      guint k = (guint)g_rand_int_range(r, 0, (gint32)ns);
      int n = g_rand_int_range(r, 1, 50), op = g_rand_int_range(r, 0, 10);
      double x[50], y[50];
      for (int i = 0; i < n; i++) {
        x[i] = g_rand_double_range(r, -5, 100);
        y[i] = g_rand_int_range(r, 0, 20) == 0 ? NAN : g_rand_double_range(r, -3, 10);
      }
      if (op == 0) {
        ts_line_plot_set_points(TS_LINE_PLOT(lp), k, x, y, (size_t)n);
        g_array_set_size(xs[k], 0), g_array_set_size(ys[k], 0);
      } else {
        ts_line_plot_append_points(TS_LINE_PLOT(lp), k, x, y, (size_t)n);
      }
      g_array_append_vals(xs[k], x, (guint)n), g_array_append_vals(ys[k], y, (guint)n);
      if (op == 1) logy = g_rand_boolean(r), ts_line_plot_set_log(TS_LINE_PLOT(lp), FALSE, logy);
      if (op == 2) ts_line_plot_set_smoothing(TS_LINE_PLOT(lp), g_rand_double_range(r, 0, 0.99));
      double a0, a1, b0, b1;
      ts_line_plot_get_range(TS_LINE_PLOT(lp), &a0, &a1, &b0, &b1);
      TsLineSeries plain[3];
      memset(plain, 0, sizeof plain);
      for (guint j = 0; j < ns; j++)
        plain[j].x = (const double *)(void *)xs[j]->data, plain[j].y = (const double *)(void *)ys[j]->data,
        plain[j].n = xs[j]->len;
      TsLinePlotData d = {.series = plain, .n_series = ns, .logy = logy};
      TsPlotFrame f;
      ts_line_plot_layout(&d, 400, 300, &f);
      TS_CHECKF(f.x0 == a0 && f.x1 == a1 && f.y0 == b0 && f.y1 == b1, "trial %d step %d: %g %g %g %g vs %g %g %g %g",
                trial, step, a0, a1, b0, b1, f.x0, f.x1, f.y0, f.y1);
    }
    for (guint k = 0; k < ns; k++) g_array_unref(xs[k]), g_array_unref(ys[k]);
    g_object_unref(lp);
  }
  g_rand_free(r);
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "%s/ts-plot-XXXXXX", g_get_tmp_dir());
  if (!g_mkdtemp(tmpdir)) TS_SKIP("cannot make a temporary folder");
  TS_RUN(test_frame_and_ticks);
  TS_RUN(test_colormap);
  TS_RUN(test_diagram_draw);
  TS_RUN(test_diagram_many_points);
  TS_RUN(test_barcode_draw);
  TS_RUN(test_barcode_many_bars);
  TS_RUN(test_line_plot);
  TS_RUN(test_line_plot_many_points);
  TS_RUN(test_line_plot_incremental);
  TS_RUN(test_heatmap);
  TS_RUN(test_export_files);
  TS_RUN(test_widget_exports);
  char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  g_free(cmd);
  return ts_test_finish();
}
