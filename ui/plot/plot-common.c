/* plot-common.c — frames, ticks, axes and text shared by the plots. */
#include "plot/plot-common.h"

#include <math.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

enum { MARGIN_LEFT = 58, MARGIN_RIGHT = 14, MARGIN_TOP = 12, MARGIN_TITLE = 30, MARGIN_BOTTOM = 44 };

void ts_plot_frame_layout(TsPlotFrame *f, int w, int h, int has_title) {
  double top = has_title ? MARGIN_TITLE : MARGIN_TOP;
  f->left = MARGIN_LEFT;
  f->top = top;
  f->width = fmax(1.0, w - MARGIN_LEFT - MARGIN_RIGHT);
  f->height = fmax(1.0, h - top - MARGIN_BOTTOM);
}

static double axis_value(double v, int log) {
  if (!log) return v;
  return v > 0 ? log10(v) : -300.0;
}

double ts_plot_frame_x(const TsPlotFrame *f, double x) {
  double a = axis_value(f->x0, f->logx), b = axis_value(f->x1, f->logx);
  double v = axis_value(x, f->logx);
  if (f->logx && x <= 0) return f->left;
  return f->left + (v - a) / (b - a) * f->width;
}

double ts_plot_frame_y(const TsPlotFrame *f, double y) {
  double a = axis_value(f->y0, f->logy), b = axis_value(f->y1, f->logy);
  double v = axis_value(y, f->logy);
  if (f->logy && y <= 0) return f->top + f->height;
  return f->top + f->height - (v - a) / (b - a) * f->height;
}

double ts_plot_frame_inv_x(const TsPlotFrame *f, double px) {
  double a = axis_value(f->x0, f->logx), b = axis_value(f->x1, f->logx);
  double v = a + (px - f->left) / f->width * (b - a);
  return f->logx ? pow(10.0, v) : v;
}

double ts_plot_frame_inv_y(const TsPlotFrame *f, double py) {
  double a = axis_value(f->y0, f->logy), b = axis_value(f->y1, f->logy);
  double v = a + (f->top + f->height - py) / f->height * (b - a);
  return f->logy ? pow(10.0, v) : v;
}

int ts_plot_frame_contains(const TsPlotFrame *f, double px, double py) {
  return px >= f->left && px <= f->left + f->width && py >= f->top && py <= f->top + f->height;
}

void ts_plot_range_fix(double *lo, double *hi, double frac, int log) {
  if (!isfinite(*lo) || !isfinite(*hi) || *lo > *hi) {
    *lo = log ? 1.0 : 0.0;
    *hi = log ? 10.0 : 1.0;
    return;
  }
  if (log) {
    if (*lo <= 0) *lo = *hi > 0 ? *hi * 1e-3 : 1e-3;
    if (*hi <= *lo) *hi = *lo * 10.0;
    double a = log10(*lo), b = log10(*hi), pad = (b - a) * frac;
    *lo = pow(10.0, a - pad);
    *hi = pow(10.0, b + pad);
    return;
  }
  if (*hi - *lo < 1e-12 * fmax(1.0, fabs(*lo))) {
    double d = fabs(*lo) > 0 ? fabs(*lo) * 0.5 : 0.5;
    *lo -= d;
    *hi += d;
  }
  double pad = (*hi - *lo) * frac;
  *lo -= pad;
  *hi += pad;
}

int ts_plot_nice_ticks(double lo, double hi, int log, double *ticks, int max) {
  int n = 0;
  if (!(hi > lo) || max <= 0) return 0;
  if (log) {
    if (lo <= 0) lo = 1e-300;
    int a = (int)ceil(log10(lo) - 1e-9), b = (int)floor(log10(hi) + 1e-9);
    int step = 1;
    while ((b - a) / step + 1 > max) step++;
    for (int k = a; k <= b && n < max; k += step) ticks[n++] = pow(10.0, k);
    return n;
  }
  double span = hi - lo;
  double raw = span / (max > 6 ? 6 : max);
  double mag = pow(10.0, floor(log10(raw)));
  double norm = raw / mag, step;
  if (norm < 1.5) step = 1 * mag;
  else if (norm < 3.5) step = 2 * mag;
  else if (norm < 7.5) step = 5 * mag;
  else step = 10 * mag;
  double first = ceil(lo / step - 1e-9) * step;
  for (double t = first; t <= hi + step * 1e-9 && n < max; t += step) {
    double v = fabs(t) < step * 1e-9 ? 0.0 : t;
    ticks[n++] = v;
  }
  return n;
}

void ts_plot_format(double v, char *buf, size_t n) {
  double a = fabs(v);
  if (v == 0) snprintf(buf, n, "0");
  else if (isinf(v)) snprintf(buf, n, v > 0 ? "∞" : "−∞");
  else if (a >= 1e5 || a < 1e-3) snprintf(buf, n, "%.0e", v);
  else if (a >= 100 || v == floor(v)) snprintf(buf, n, "%.0f", v);
  else snprintf(buf, n, "%.3g", v);
}

double ts_plot_text(cairo_t *cr, double x, double y, const char *text, double ax, double ay, double size,
                  int bold) {
  PangoLayout *layout = pango_cairo_create_layout(cr);
  PangoFontDescription *fd = pango_font_description_from_string(TS_PLOT_FONT);
  pango_font_description_set_absolute_size(fd, size * PANGO_SCALE);
  if (bold) pango_font_description_set_weight(fd, PANGO_WEIGHT_BOLD);
  pango_layout_set_font_description(layout, fd);
  pango_layout_set_text(layout, text, -1);
  int tw, th;
  pango_layout_get_pixel_size(layout, &tw, &th);
  cairo_move_to(cr, x - ax * tw, y - ay * th);
  pango_cairo_show_layout(cr, layout);
  pango_font_description_free(fd);
  g_object_unref(layout);
  return tw;
}

/* Drawing happens on the main thread only (widgets and exports alike). */
static int plot_dark;

void ts_plot_set_dark(int dark) { plot_dark = !!dark; }
int ts_plot_get_dark(void) { return plot_dark; }

void ts_plot_ink(cairo_t *cr, double alpha) {
  if (plot_dark) cairo_set_source_rgba(cr, 1, 1, 1, alpha);
  else cairo_set_source_rgba(cr, 0, 0, 0, alpha);
}

void ts_plot_draw_background(cairo_t *cr, int w, int h) {
  cairo_save(cr);
  if (plot_dark) cairo_set_source_rgb(cr, 0x2e / 255.0, 0x2e / 255.0, 0x32 / 255.0);
  else cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_rectangle(cr, 0, 0, w, h);
  cairo_fill(cr);
  cairo_restore(cr);
}

void ts_plot_draw_axes(cairo_t *cr, const TsPlotFrame *f, const char *title, const char *xlabel,
                       const char *ylabel) {
  double ticks[32];
  char buf[32];
  cairo_save(cr);
  cairo_set_line_width(cr, 1.0);
  /* grid */
  int nx = ts_plot_nice_ticks(f->x0, f->x1, f->logx, ticks, 8);
  ts_plot_ink(cr, 0.08);
  for (int i = 0; i < nx; i++) {
    double px = round(ts_plot_frame_x(f, ticks[i])) + 0.5;
    cairo_move_to(cr, px, f->top);
    cairo_line_to(cr, px, f->top + f->height);
  }
  cairo_stroke(cr);
  double yt[32];
  int ny = f->no_yticks ? 0 : ts_plot_nice_ticks(f->y0, f->y1, f->logy, yt, 7);
  for (int i = 0; i < ny; i++) {
    double py = round(ts_plot_frame_y(f, yt[i])) + 0.5;
    cairo_move_to(cr, f->left, py);
    cairo_line_to(cr, f->left + f->width, py);
  }
  cairo_stroke(cr);
  /* frame */
  ts_plot_ink(cr, 0.45);
  cairo_rectangle(cr, round(f->left) + 0.5, round(f->top) + 0.5, round(f->width), round(f->height));
  cairo_stroke(cr);
  /* tick labels */
  ts_plot_ink(cr, 0.75);
  for (int i = 0; i < nx; i++) {
    ts_plot_format(ticks[i], buf, sizeof buf);
    ts_plot_text(cr, ts_plot_frame_x(f, ticks[i]), f->top + f->height + 4, buf, 0.5, 0.0, TS_PLOT_FONT_SIZE - 1,
                 0);
  }
  for (int i = 0; i < ny; i++) {
    ts_plot_format(yt[i], buf, sizeof buf);
    ts_plot_text(cr, f->left - 5, ts_plot_frame_y(f, yt[i]), buf, 1.0, 0.5, TS_PLOT_FONT_SIZE - 1, 0);
  }
  ts_plot_ink(cr, 0.85);
  if (xlabel && *xlabel)
    ts_plot_text(cr, f->left + f->width / 2, f->top + f->height + 22, xlabel, 0.5, 0.0, TS_PLOT_FONT_SIZE, 0);
  if (ylabel && *ylabel) {
    cairo_save(cr);
    cairo_translate(cr, 4, f->top + f->height / 2);
    cairo_rotate(cr, -M_PI / 2);
    ts_plot_text(cr, 0, 0, ylabel, 0.5, 0.0, TS_PLOT_FONT_SIZE, 0);
    cairo_restore(cr);
  }
  if (title && *title) ts_plot_text(cr, 12, 8, title, 0.0, 0.0, TS_PLOT_FONT_SIZE + 1, 1);
  cairo_restore(cr);
}

void ts_plot_dim_color(int dim, double rgb[3]) {
  /* GNOME palette: blue 3, orange 4, green 4, purple 3 */
  static const double c[4][3] = {{0.208, 0.518, 0.894}, {0.902, 0.380, 0.000}, {0.180, 0.761, 0.494},
                                 {0.569, 0.255, 0.675}};
  int k = ((dim % 4) + 4) % 4;
  memcpy(rgb, c[k], sizeof c[k]);
}

void ts_plot_series_color(int i, double rgb[3]) {
  static const double c[6][3] = {{0.208, 0.518, 0.894}, {0.902, 0.380, 0.000}, {0.180, 0.761, 0.494},
                                 {0.569, 0.255, 0.675}, {0.753, 0.110, 0.157}, {0.596, 0.416, 0.267}};
  int k = ((i % 6) + 6) % 6;
  memcpy(rgb, c[k], sizeof c[k]);
}
