/* point-canvas.c — editable 2D clouds and their Rips complex at r. */
#include "point-canvas.h"

#include <math.h>
#include <string.h>

#include "plot/plot-common.h"
#include "plot/plot-export.h"

/* The card colour (behind rings and outlines). */
static void paper(cairo_t *cr) {
  if (ts_plot_get_dark()) cairo_set_source_rgb(cr, 0x2e / 255.0, 0x2e / 255.0, 0x32 / 255.0);
  else cairo_set_source_rgb(cr, 1, 1, 1);
}

#define HIT_RADIUS 9.0

static const double BLUE[3] = {0.208, 0.518, 0.894}, ORANGE[3] = {0.902, 0.380, 0.000};

/* Fits the wanted window into the plot area with equal scales on x and y,
 * so circles look round whatever the widget's shape. */
static void layout(const TsPointCanvasData *d, int w, int h, TsPlotFrame *f) {
  memset(f, 0, sizeof *f);
  ts_plot_frame_layout(f, w, h, d->title && *d->title);
  double x0 = d->x0, x1 = d->x1, y0 = d->y0, y1 = d->y1;
  if (!(x0 < x1) || !(y0 < y1)) {
    x0 = y0 = INFINITY, x1 = y1 = -INFINITY;
    for (int k = 0; k < 2; k++)
      for (size_t i = 0; d->cloud[k] && i < d->cloud[k]->n; i++) {
        x0 = fmin(x0, d->cloud[k]->xy[2 * i]), x1 = fmax(x1, d->cloud[k]->xy[2 * i]);
        y0 = fmin(y0, d->cloud[k]->xy[2 * i + 1]), y1 = fmax(y1, d->cloud[k]->xy[2 * i + 1]);
      }
    if (!(x0 <= x1)) x0 = -5, x1 = 5, y0 = -5, y1 = 5;
    double pad = 0.08 * fmax(fmax(x1 - x0, y1 - y0), 1.0);
    x0 -= pad, x1 += pad, y0 -= pad, y1 += pad;
  }
  double s = fmin(f->width / (x1 - x0), f->height / (y1 - y0));
  double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  f->x0 = cx - f->width / s / 2, f->x1 = cx + f->width / s / 2;
  f->y0 = cy - f->height / s / 2, f->y1 = cy + f->height / s / 2;
}

static double dist(const TsCloud *c, size_t i, size_t j) {
  return hypot(c->xy[2 * i] - c->xy[2 * j], c->xy[2 * i + 1] - c->xy[2 * j + 1]);
}

/* The adjacency at r as bytes (n*n), or NULL. */
static uint8_t *adjacency(const TsCloud *c, double r, size_t *edges) {
  size_t n = c->n;
  *edges = 0;
  if (n < 2 || !(r >= 0)) return NULL;
  uint8_t *a = g_malloc0(n * n);
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (dist(c, i, j) <= r) a[i * n + j] = a[j * n + i] = 1, (*edges)++;
  return a;
}

void ts_point_canvas_count(const TsCloud *c, double r, TsPointCanvasCounts *out) {
  memset(out, 0, sizeof *out);
  uint8_t *a = adjacency(c, r, &out->edges);
  size_t n = c->n;
  for (size_t i = 0; a && i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (a[i * n + j])
        for (size_t k = j + 1; k < n; k++) out->triangles += a[i * n + k] & a[j * n + k];
  g_free(a);
}

/* Coverage masks at half the plot's resolution, filled span by span:
 * Cairo would tessellate the union of thousands of overlapping triangles
 * (hundreds of milliseconds at 200 points); spans cost a few ms, and the
 * mask is painted smoothed, once, in one colour. */
typedef struct {
  uint8_t *px;
  int w, h, stride;
  double left, top, scale; /* mask pixel = (widget - left, top) / scale */
} Mask;

static void span(Mask *m, int y, double xl, double xr) {
  if (y < 0 || y >= m->h) return;
  int a = (int)ceil(xl - 0.5), b = (int)floor(xr - 0.5);
  if (a < 0) a = 0;
  if (b >= m->w) b = m->w - 1;
  if (a <= b) memset(m->px + (size_t)y * m->stride + a, 255, (size_t)(b - a + 1));
}

static void fill_triangle(Mask *m, const double *x, const double *y) {
  double y0 = fmin(y[0], fmin(y[1], y[2])), y1 = fmax(y[0], fmax(y[1], y[2]));
  int ya = (int)ceil(y0 - 0.5), yb = (int)floor(y1 - 0.5);
  if (ya < 0) ya = 0;
  if (yb >= m->h) yb = m->h - 1;
  for (int r = ya; r <= yb; r++) {
    double yc = r + 0.5, xl = INFINITY, xr = -INFINITY;
    for (int e = 0; e < 3; e++) {
      double ax = x[e], ay = y[e], bx = x[(e + 1) % 3], by = y[(e + 1) % 3];
      if ((yc < ay && yc < by) || (yc > ay && yc > by) || ay == by) continue;
      double xi = ax + (yc - ay) / (by - ay) * (bx - ax);
      xl = fmin(xl, xi), xr = fmax(xr, xi);
    }
    if (xl <= xr) span(m, r, xl, xr);
  }
}

static void fill_disc(Mask *m, double cx, double cy, double rad) {
  int ya = (int)ceil(cy - rad - 0.5), yb = (int)floor(cy + rad - 0.5);
  if (ya < 0) ya = 0;
  if (yb >= m->h) yb = m->h - 1;
  for (int r = ya; r <= yb; r++) {
    double dy = r + 0.5 - cy, hw = rad * rad - dy * dy;
    if (hw >= 0) span(m, r, cx - sqrt(hw), cx + sqrt(hw));
  }
}

static void plot_px(Mask *m, int x, int y, double c) {
  if (x < 0 || y < 0 || x >= m->w || y >= m->h) return;
  uint8_t *p = m->px + (size_t)y * m->stride + x;
  int v = (int)(c * 255 + 0.5);
  if (v > *p) *p = (uint8_t)v;
}

/* An antialiased one-pixel line (Wu's): overlapping edges cost nothing
 * extra, where a Cairo stroke of thousands of them would union them. */
static void draw_line(Mask *m, double x0, double y0, double x1, double y1) {
  int steep = fabs(y1 - y0) > fabs(x1 - x0);
  if (steep) {
    double t = x0; x0 = y0, y0 = t;
    t = x1; x1 = y1, y1 = t;
  }
  if (x0 > x1) {
    double t = x0; x0 = x1, x1 = t;
    t = y0; y0 = y1, y1 = t;
  }
  double dx = x1 - x0, g = dx > 0 ? (y1 - y0) / dx : 0;
  int xa = (int)floor(x0), xb = (int)ceil(x1);
  for (int x = xa; x <= xb; x++) {
    double y = y0 + g * (x - x0), fy = floor(y), frac = y - fy;
    if (steep) {
      plot_px(m, (int)fy, x, 1 - frac);
      plot_px(m, (int)fy + 1, x, frac);
    } else {
      plot_px(m, x, (int)fy, 1 - frac);
      plot_px(m, x, (int)fy + 1, frac);
    }
  }
}

static int mask_new_scaled(Mask *m, const TsPlotFrame *f, double scale) {
  m->scale = scale;
  m->left = f->left, m->top = f->top;
  m->w = (int)ceil(f->width / m->scale) + 1, m->h = (int)ceil(f->height / m->scale) + 1;
  m->stride = cairo_format_stride_for_width(CAIRO_FORMAT_A8, m->w);
  m->px = g_malloc0((size_t)m->stride * m->h);
  return m->px != NULL;
}

static int mask_new(Mask *m, const TsPlotFrame *f) { return mask_new_scaled(m, f, 2.0); }

static void mask_paint(cairo_t *cr, Mask *m, const double col[3], double alpha) {
  cairo_surface_t *s = cairo_image_surface_create_for_data(m->px, CAIRO_FORMAT_A8, m->w, m->h, m->stride);
  cairo_save(cr);
  cairo_translate(cr, m->left, m->top);
  cairo_scale(cr, m->scale, m->scale);
  cairo_pattern_t *p = cairo_pattern_create_for_surface(s);
  cairo_pattern_set_filter(p, CAIRO_FILTER_BILINEAR);
  cairo_set_source_rgba(cr, col[0], col[1], col[2], alpha);
  cairo_mask(cr, p);
  cairo_pattern_destroy(p);
  cairo_restore(cr);
  cairo_surface_destroy(s);
  g_free(m->px);
  m->px = NULL;
}

static void draw_complex(cairo_t *cr, const TsPointCanvasData *d, const TsPlotFrame *f) {
  const TsCloud *c = d->cloud[d->active];
  if (!c || !isfinite(d->r) || d->r < 0) return;
  size_t n = c->n, edges;
  double s = f->width / (f->x1 - f->x0); /* pixels per unit */
  const double *col = d->active ? ORANGE : BLUE;
  /* where the points land, in mask pixels */
  Mask m;
  if (!mask_new(&m, f)) return;
  double *mx = g_new(double, 2 * n + 1);
  for (size_t i = 0; i < n; i++) {
    mx[2 * i] = (ts_plot_frame_x(f, c->xy[2 * i]) - m.left) / m.scale;
    mx[2 * i + 1] = (ts_plot_frame_y(f, c->xy[2 * i + 1]) - m.top) / m.scale;
  }
  /* discs of radius r/2 */
  for (size_t i = 0; i < n; i++) fill_disc(&m, mx[2 * i], mx[2 * i + 1], d->r / 2 * s / m.scale);
  mask_paint(cr, &m, col, 0.08);
  uint8_t *a = adjacency(c, d->r, &edges);
  if (!a) {
    g_free(mx);
    return;
  }
  /* triangles */
  size_t tri = 0;
  if (mask_new(&m, f)) {
    for (size_t i = 0; i < n && tri <= TS_POINT_CANVAS_MAX_TRIANGLES; i++)
      for (size_t j = i + 1; j < n; j++) {
        if (!a[i * n + j]) continue;
        for (size_t k = j + 1; k < n; k++) {
          if (!(a[i * n + k] & a[j * n + k])) continue;
          if (++tri > TS_POINT_CANVAS_MAX_TRIANGLES) break;
          double tx[3] = {mx[2 * i], mx[2 * j], mx[2 * k]}, ty[3] = {mx[2 * i + 1], mx[2 * j + 1], mx[2 * k + 1]};
          fill_triangle(&m, tx, ty);
        }
      }
    if (tri <= TS_POINT_CANVAS_MAX_TRIANGLES) mask_paint(cr, &m, col, 0.22);
    else g_free(m.px);
  }
  g_free(mx);
  if (mask_new_scaled(&m, f, 1.0)) {
    for (size_t i = 0; i < n; i++) {
      double xi = ts_plot_frame_x(f, c->xy[2 * i]) - m.left, yi = ts_plot_frame_y(f, c->xy[2 * i + 1]) - m.top;
      for (size_t j = i + 1; j < n; j++)
        if (a[i * n + j])
          draw_line(&m, xi, yi, ts_plot_frame_x(f, c->xy[2 * j]) - m.left, ts_plot_frame_y(f, c->xy[2 * j + 1]) - m.top);
    }
    const double dark[3] = {col[0] * 0.7, col[1] * 0.7, col[2] * 0.7};
    mask_paint(cr, &m, dark, 0.6);
  }
  g_free(a);
}

static void draw_cloud(cairo_t *cr, const TsPointCanvasData *d, const TsPlotFrame *f, int k) {
  const TsCloud *c = d->cloud[k];
  if (!c) return;
  const double *col = k ? ORANGE : BLUE;
  int active = k == d->active;
  double rad = c->n > 400 ? 3.0 : 4.5;
  cairo_set_line_width(cr, active ? 1.2 : 1.6);
  for (size_t i = 0; i < c->n; i++) {
    double x = ts_plot_frame_x(f, c->xy[2 * i]), y = ts_plot_frame_y(f, c->xy[2 * i + 1]);
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, rad, 0, 2 * M_PI);
    if (active) {
      cairo_set_source_rgb(cr, col[0], col[1], col[2]);
      cairo_fill_preserve(cr);
      paper(cr);
      cairo_stroke(cr);
    } else {
      cairo_set_source_rgba(cr, col[0], col[1], col[2], 0.75);
      cairo_stroke(cr);
    }
    if (active && d->selected && d->selected[i]) {
      cairo_set_source_rgb(cr, 0.96, 0.76, 0.07);
      cairo_set_line_width(cr, 2.5);
      cairo_arc(cr, x, y, rad + 3, 0, 2 * M_PI);
      cairo_stroke(cr);
      cairo_set_line_width(cr, 1.2);
    }
  }
}

/* In the title row, right-aligned, so it never covers points. */
static void legend(cairo_t *cr, const TsPointCanvasData *d, const TsPlotFrame *f) {
  static const char *names[2] = {"cloud", "target"};
  double x = f->left + f->width, y = f->top - 16;
  for (int k = 1; k >= 0; k--) {
    char buf[64];
    size_t n = d->cloud[k] ? d->cloud[k]->n : 0;
    snprintf(buf, sizeof buf, "%s %zu%s", names[k], n, k == d->active ? " (editing)" : "");
    ts_plot_ink(cr, 0.8);
    double tw = ts_plot_text(cr, x, y, buf, 1.0, 0.5, TS_PLOT_FONT_SIZE - 1, k == d->active);
    const double *col = k ? ORANGE : BLUE;
    cairo_set_source_rgb(cr, col[0], col[1], col[2]);
    cairo_new_path(cr);
    cairo_arc(cr, x - tw - 10, y, 4, 0, 2 * M_PI);
    if (k == d->active) cairo_fill(cr);
    else cairo_set_line_width(cr, 1.6), cairo_stroke(cr);
    x -= tw + 30;
  }
}

void ts_point_canvas_draw(cairo_t *cr, const TsPointCanvasData *d, int w, int h) {
  TsPlotFrame f;
  layout(d, w, h, &f);
  ts_plot_draw_background(cr, w, h);
  ts_plot_draw_axes(cr, &f, d->title, "x", "y");
  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.width, f.height);
  cairo_clip(cr);
  draw_complex(cr, d, &f);
  draw_cloud(cr, d, &f, 1 - d->active);
  draw_cloud(cr, d, &f, d->active);
  const TsCloud *c = d->cloud[d->active];
  if (c && d->hl_i >= 0 && d->hl_j >= 0 && (size_t)d->hl_i < c->n && (size_t)d->hl_j < c->n) {
    cairo_set_source_rgba(cr, 0.878, 0.106, 0.141, 0.9);
    cairo_set_line_width(cr, 3.5);
    cairo_move_to(cr, ts_plot_frame_x(&f, c->xy[2 * d->hl_i]), ts_plot_frame_y(&f, c->xy[2 * d->hl_i + 1]));
    cairo_line_to(cr, ts_plot_frame_x(&f, c->xy[2 * d->hl_j]), ts_plot_frame_y(&f, c->xy[2 * d->hl_j + 1]));
    cairo_stroke(cr);
  }
  if (d->band_w > 0 || d->band_h > 0) {
    cairo_set_source_rgba(cr, 0.21, 0.52, 0.89, 0.15);
    cairo_rectangle(cr, d->band_x, d->band_y, d->band_w, d->band_h);
    cairo_fill_preserve(cr);
    cairo_set_source_rgba(cr, 0.21, 0.52, 0.89, 0.8);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
  }
  if (isfinite(d->r) && d->r >= 0) {
    /* a scale bar of length r, so "points closer than r" can be seen */
    double s = f.width / (f.x1 - f.x0), len = d->r * s;
    if (len > 2 && len < f.width - 40) {
      double x = f.left + 12, y = f.top + f.height - 14;
      ts_plot_ink(cr, 0.75);
      cairo_set_line_width(cr, 2);
      cairo_move_to(cr, x, y - 4);
      cairo_line_to(cr, x, y + 4);
      cairo_move_to(cr, x, y);
      cairo_line_to(cr, x + len, y);
      cairo_move_to(cr, x + len, y - 4);
      cairo_line_to(cr, x + len, y + 4);
      cairo_stroke(cr);
      char buf[48], v[24];
      ts_plot_format(d->r, v, sizeof v);
      snprintf(buf, sizeof buf, "r = %s", v);
      ts_plot_text(cr, x + len + 6, y, buf, 0, 0.5, TS_PLOT_FONT_SIZE - 1, 0);
    }
  }
  cairo_restore(cr);
  legend(cr, d, &f);
}

/* --- the widget ------------------------------------------------------------ */

typedef enum { DRAG_NONE, DRAG_ADD, DRAG_MOVE, DRAG_BAND } DragMode;

struct _TsPointCanvas {
  GtkWidget parent;
  TsCloud *cloud[2];
  int active;
  double r;
  uint8_t *selected;
  size_t n_selected_cap;
  double x0, x1, y0, y1; /* the wanted window (fixed once fitted) */
  char *title;
  int hl_i, hl_j;
  /* dragging */
  DragMode mode;
  long grab;
  double start_x, start_y, last_x, last_y;
  GdkModifierType mods;
  gboolean moved;
  double band[4];
};

G_DEFINE_FINAL_TYPE(TsPointCanvas, ts_point_canvas, GTK_TYPE_WIDGET)

enum { SIG_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static TsCloud *edited(TsPointCanvas *self) { return self->cloud[self->active]; }

static void sync_selection(TsPointCanvas *self) {
  size_t n = edited(self) ? edited(self)->n : 0;
  if (n + 1 > self->n_selected_cap || !self->selected) {
    self->selected = g_realloc(self->selected, n + 1);
    memset(self->selected + self->n_selected_cap, 0, n + 1 - self->n_selected_cap);
    self->n_selected_cap = n + 1;
  }
}

TsPointCanvasData ts_point_canvas_get_data(TsPointCanvas *self) {
  TsPointCanvasData d = {.cloud = {self->cloud[0], self->cloud[1]},
                         .active = self->active,
                         .r = self->r,
                         .selected = self->selected,
                         .x0 = self->x0,
                         .x1 = self->x1,
                         .y0 = self->y0,
                         .y1 = self->y1,
                         .title = self->title,
                         .hl_i = self->hl_i,
                         .hl_j = self->hl_j};
  if (self->mode == DRAG_BAND) d.band_x = self->band[0], d.band_y = self->band[1], d.band_w = self->band[2], d.band_h = self->band[3];
  return d;
}

static void frame_now(TsPointCanvas *self, TsPlotFrame *f) {
  TsPointCanvasData d = ts_point_canvas_get_data(self);
  int w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
  layout(&d, w > 0 ? w : 640, h > 0 ? h : 480, f);
}

void ts_point_canvas_to_data(TsPointCanvas *self, double px, double py, double *x, double *y) {
  TsPlotFrame f;
  frame_now(self, &f);
  *x = ts_plot_frame_inv_x(&f, px);
  *y = ts_plot_frame_inv_y(&f, py);
}

void ts_point_canvas_to_widget(TsPointCanvas *self, double x, double y, double *px, double *py) {
  TsPlotFrame f;
  frame_now(self, &f);
  *px = ts_plot_frame_x(&f, x);
  *py = ts_plot_frame_y(&f, y);
}

static long hit(TsPointCanvas *self, double px, double py) {
  TsCloud *c = edited(self);
  if (!c) return -1;
  TsPlotFrame f;
  frame_now(self, &f);
  long best = -1;
  double bd = HIT_RADIUS;
  for (size_t i = 0; i < c->n; i++) {
    double dd = hypot(ts_plot_frame_x(&f, c->xy[2 * i]) - px, ts_plot_frame_y(&f, c->xy[2 * i + 1]) - py);
    if (dd <= bd) bd = dd, best = (long)i;
  }
  return best;
}

/* The window is fixed to the data it was fitted to, so points do not jump
 * while one is dragged; it is fitted again when asked, or once it is clear
 * the points have left it. */
static void fit(TsPointCanvas *self) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; self->cloud[k] && i < self->cloud[k]->n; i++) {
      x0 = fmin(x0, self->cloud[k]->xy[2 * i]), x1 = fmax(x1, self->cloud[k]->xy[2 * i]);
      y0 = fmin(y0, self->cloud[k]->xy[2 * i + 1]), y1 = fmax(y1, self->cloud[k]->xy[2 * i + 1]);
    }
  if (!(x0 <= x1)) x0 = -5, x1 = 5, y0 = -5, y1 = 5;
  double pad = 0.08 * fmax(fmax(x1 - x0, y1 - y0), 1.0);
  self->x0 = x0 - pad, self->x1 = x1 + pad, self->y0 = y0 - pad, self->y1 = y1 + pad;
}

static gboolean outside(TsPointCanvas *self) {
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; self->cloud[k] && i < self->cloud[k]->n; i++) {
      double x = self->cloud[k]->xy[2 * i], y = self->cloud[k]->xy[2 * i + 1];
      if (x < self->x0 || x > self->x1 || y < self->y0 || y > self->y1) return TRUE;
    }
  return FALSE;
}

void ts_point_canvas_refresh(TsPointCanvas *self, gboolean refit) {
  sync_selection(self);
  if (refit || (self->mode != DRAG_MOVE && outside(self))) fit(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void changed(TsPointCanvas *self) {
  sync_selection(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
  g_signal_emit(self, signals[SIG_CHANGED], 0);
}

void ts_point_canvas_click(TsPointCanvas *self, double px, double py, GdkModifierType mods) {
  TsCloud *c = edited(self);
  if (!c) return;
  sync_selection(self);
  long i = hit(self, px, py);
  gboolean toggle = (mods & (GDK_SHIFT_MASK | GDK_CONTROL_MASK)) != 0;
  if (i >= 0) {
    if (!toggle) memset(self->selected, 0, c->n);
    self->selected[i] ^= 1;
    gtk_widget_queue_draw(GTK_WIDGET(self));
    return;
  }
  if (toggle) return;
  double x, y;
  ts_point_canvas_to_data(self, px, py, &x, &y);
  memset(self->selected, 0, c->n);
  if (ts_cloud_add(c, x, y, NULL) != TS_OK) return;
  changed(self);
}

static void move_by(TsPointCanvas *self, long grab, double dx, double dy) {
  TsCloud *c = edited(self);
  if (self->selected[grab]) {
    for (size_t i = 0; i < c->n; i++)
      if (self->selected[i]) c->xy[2 * i] += dx, c->xy[2 * i + 1] += dy;
  } else {
    c->xy[2 * grab] += dx, c->xy[2 * grab + 1] += dy;
  }
}

void ts_point_canvas_drag(TsPointCanvas *self, double px0, double py0, double px1, double py1) {
  long i = hit(self, px0, py0);
  if (i < 0) return;
  sync_selection(self);
  double x0, y0, x1, y1;
  ts_point_canvas_to_data(self, px0, py0, &x0, &y0);
  ts_point_canvas_to_data(self, px1, py1, &x1, &y1);
  move_by(self, i, x1 - x0, y1 - y0);
  changed(self);
}

static void on_drag_begin(GtkGestureDrag *g, double x, double y, TsPointCanvas *self) {
  gtk_widget_grab_focus(GTK_WIDGET(self));
  self->mods = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(g));
  self->start_x = self->last_x = x, self->start_y = self->last_y = y;
  self->moved = FALSE;
  sync_selection(self);
  self->grab = hit(self, x, y);
  if (self->grab >= 0) self->mode = DRAG_MOVE;
  else if (self->mods & GDK_SHIFT_MASK) self->mode = DRAG_BAND;
  else self->mode = DRAG_ADD;
  memset(self->band, 0, sizeof self->band);
}

static void on_drag_update(GtkGestureDrag *g, double dx, double dy, TsPointCanvas *self) {
  (void)g;
  double x = self->start_x + dx, y = self->start_y + dy;
  if (!self->moved && hypot(dx, dy) < 3) return;
  self->moved = TRUE;
  if (self->mode == DRAG_MOVE && edited(self)) {
    double ax, ay, bx, by;
    ts_point_canvas_to_data(self, self->last_x, self->last_y, &ax, &ay);
    ts_point_canvas_to_data(self, x, y, &bx, &by);
    move_by(self, self->grab, bx - ax, by - ay);
    changed(self);
  } else if (self->mode == DRAG_BAND) {
    self->band[0] = fmin(self->start_x, x), self->band[1] = fmin(self->start_y, y);
    self->band[2] = fabs(dx), self->band[3] = fabs(dy);
    gtk_widget_queue_draw(GTK_WIDGET(self));
  }
  self->last_x = x, self->last_y = y;
}

static void on_drag_end(GtkGestureDrag *g, double dx, double dy, TsPointCanvas *self) {
  (void)g, (void)dx, (void)dy;
  DragMode mode = self->mode;
  self->mode = DRAG_NONE;
  TsCloud *c = edited(self);
  if (!self->moved) {
    ts_point_canvas_click(self, self->start_x, self->start_y, self->mods);
  } else if (mode == DRAG_BAND && c) {
    TsPlotFrame f;
    frame_now(self, &f);
    for (size_t i = 0; i < c->n; i++) {
      double px = ts_plot_frame_x(&f, c->xy[2 * i]), py = ts_plot_frame_y(&f, c->xy[2 * i + 1]);
      if (px >= self->band[0] && px <= self->band[0] + self->band[2] && py >= self->band[1] &&
          py <= self->band[1] + self->band[3])
        self->selected[i] = 1;
    }
    gtk_widget_queue_draw(GTK_WIDGET(self));
  } else if (mode == DRAG_MOVE && outside(self)) {
    fit(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
  }
}

static void on_secondary(GtkGestureClick *g, int n, double x, double y, TsPointCanvas *self) {
  (void)g, (void)n;
  long i = hit(self, x, y);
  if (i < 0) return;
  ts_cloud_remove(edited(self), (size_t)i);
  memmove(self->selected + i, self->selected + i + 1, edited(self)->n - (size_t)i);
  changed(self);
}

static gboolean on_key(GtkEventControllerKey *k, guint keyval, guint code, GdkModifierType mods, TsPointCanvas *self) {
  (void)k, (void)code;
  if (keyval == GDK_KEY_Delete || keyval == GDK_KEY_BackSpace) {
    if (ts_point_canvas_delete_selected(self) > 0) return TRUE;
    return FALSE;
  }
  if (keyval == GDK_KEY_Escape) {
    ts_point_canvas_select_all(self, FALSE);
    return TRUE;
  }
  if ((keyval == GDK_KEY_a || keyval == GDK_KEY_A) && (mods & GDK_CONTROL_MASK)) {
    ts_point_canvas_select_all(self, TRUE);
    return TRUE;
  }
  return FALSE;
}

static void ts_point_canvas_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  TsPointCanvas *self = TS_POINT_CANVAS(widget);
  int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  if (w <= 0 || h <= 0) return;
  cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
  TsPointCanvasData d = ts_point_canvas_get_data(self);
  ts_plot_set_dark(ts_plot_widget_is_dark(widget));
  ts_point_canvas_draw(cr, &d, w, h);
  ts_plot_set_dark(0);
  cairo_destroy(cr);
}

static void ts_point_canvas_measure(GtkWidget *w, GtkOrientation o, int for_size, int *min, int *nat, int *min_b,
                                    int *nat_b) {
  (void)w, (void)o, (void)for_size;
  *min = 240;
  *nat = 480;
  *min_b = *nat_b = -1;
}


static void ts_point_canvas_finalize(GObject *o) {
  TsPointCanvas *self = TS_POINT_CANVAS(o);
  g_free(self->selected);
  g_free(self->title);
  G_OBJECT_CLASS(ts_point_canvas_parent_class)->finalize(o);
}

static void ts_point_canvas_class_init(TsPointCanvasClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->finalize = ts_point_canvas_finalize;
  wc->snapshot = ts_point_canvas_snapshot;
  wc->measure = ts_point_canvas_measure;
  signals[SIG_CHANGED] =
      g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_css_name(wc, "pointcanvas");
  gtk_widget_class_set_accessible_role(wc, GTK_ACCESSIBLE_ROLE_IMG);
}

static void ts_point_canvas_init(TsPointCanvas *self) {
  GtkWidget *w = GTK_WIDGET(self);
  self->r = NAN;
  self->hl_i = self->hl_j = -1;
  self->grab = -1;
  gtk_widget_set_focusable(w, TRUE);
  gtk_widget_set_focus_on_click(w, TRUE);
  GtkGesture *drag = gtk_gesture_drag_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(drag), GDK_BUTTON_PRIMARY);
  g_signal_connect(drag, "drag-begin", G_CALLBACK(on_drag_begin), self);
  g_signal_connect(drag, "drag-update", G_CALLBACK(on_drag_update), self);
  g_signal_connect(drag, "drag-end", G_CALLBACK(on_drag_end), self);
  gtk_widget_add_controller(w, GTK_EVENT_CONTROLLER(drag));
  /* the right button deletes (the panel's buttons export) */
  GtkGesture *right = gtk_gesture_click_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(right), GDK_BUTTON_SECONDARY);
  g_signal_connect(right, "pressed", G_CALLBACK(on_secondary), self);
  gtk_widget_add_controller(w, GTK_EVENT_CONTROLLER(right));
  GtkEventController *key = gtk_event_controller_key_new();
  g_signal_connect(key, "key-pressed", G_CALLBACK(on_key), self);
  gtk_widget_add_controller(w, key);
}

GtkWidget *ts_point_canvas_new(void) { return g_object_new(TS_TYPE_POINT_CANVAS, NULL); }

void ts_point_canvas_set_clouds(TsPointCanvas *self, TsCloud *cloud, TsCloud *target) {
  self->cloud[0] = cloud;
  self->cloud[1] = target;
  ts_point_canvas_refresh(self, TRUE);
}

void ts_point_canvas_set_active(TsPointCanvas *self, int which) {
  self->active = which ? 1 : 0;
  if (self->selected) memset(self->selected, 0, self->n_selected_cap);
  self->hl_i = self->hl_j = -1;
  ts_point_canvas_refresh(self, FALSE);
}

int ts_point_canvas_get_active(TsPointCanvas *self) { return self->active; }

void ts_point_canvas_set_r(TsPointCanvas *self, double r) {
  self->r = r;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void ts_point_canvas_set_title(TsPointCanvas *self, const char *title) {
  g_free(self->title);
  self->title = g_strdup(title);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void ts_point_canvas_set_highlight(TsPointCanvas *self, int i, int j) {
  self->hl_i = i, self->hl_j = j;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void ts_point_canvas_select_all(TsPointCanvas *self, gboolean on) {
  sync_selection(self);
  memset(self->selected, on ? 1 : 0, edited(self) ? edited(self)->n : 0);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

size_t ts_point_canvas_delete_selected(TsPointCanvas *self) {
  TsCloud *c = edited(self);
  if (!c) return 0;
  sync_selection(self);
  size_t k = 0, removed = 0;
  for (size_t i = 0; i < c->n; i++) {
    if (self->selected[i]) {
      removed++;
      continue;
    }
    c->xy[2 * k] = c->xy[2 * i], c->xy[2 * k + 1] = c->xy[2 * i + 1];
    k++;
  }
  c->n = k;
  memset(self->selected, 0, self->n_selected_cap);
  if (removed) changed(self);
  return removed;
}

size_t ts_point_canvas_get_n_selected(TsPointCanvas *self) {
  size_t n = 0;
  for (size_t i = 0; edited(self) && self->selected && i < edited(self)->n; i++) n += self->selected[i];
  return n;
}

gboolean ts_point_canvas_export(TsPointCanvas *self, const char *path, int w, int h, GError **error) {
  if (w <= 0 || h <= 0) {
    w = gtk_widget_get_width(GTK_WIDGET(self));
    h = gtk_widget_get_height(GTK_WIDGET(self));
    if (w <= 0 || h <= 0) w = 640, h = 640;
  }
  TsPointCanvasData d = ts_point_canvas_get_data(self);
  return ts_plot_export_file((TsPlotDrawFn)ts_point_canvas_draw, &d, w, h, path, error);
}
