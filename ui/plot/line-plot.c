/* line-plot.c — line plot and its widget. */
#include "plot/line-plot.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "plot/plot-export.h"

void ts_line_plot_ema(const double *y, size_t n, double a, double *out) {
  double s = 0, weight = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(y[i])) {
      out[i] = y[i];
      continue;
    }
    s = a * s + (1 - a) * y[i];
    weight = a * weight + (1 - a);
    out[i] = weight > 0 ? s / weight : y[i];
  }
}

void ts_line_plot_layout(const TsLinePlotData *d, int w, int h, TsPlotFrame *f) {
  memset(f, 0, sizeof *f);
  ts_plot_frame_layout(f, w, h, d->title && *d->title);
  f->logx = d->logx, f->logy = d->logy;
  if (d->x0 < d->x1 && d->y0 < d->y1) {
    f->x0 = d->x0, f->x1 = d->x1, f->y0 = d->y0, f->y1 = d->y1;
    return;
  }
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (size_t s = 0; s < d->n_series; s++) {
    const TsLineSeries *ls = &d->series[s];
    if (ls->has_range) {
      x0 = fmin(x0, ls->rx0), x1 = fmax(x1, ls->rx1), y0 = fmin(y0, ls->ry0), y1 = fmax(y1, ls->ry1);
      continue;
    }
    for (size_t i = 0; i < ls->n; i++) {
      double x = ls->x[i], y = ls->y[i];
      if (!isfinite(x) || !isfinite(y) || (d->logx && x <= 0) || (d->logy && y <= 0)) continue;
      x0 = fmin(x0, x), x1 = fmax(x1, x), y0 = fmin(y0, y), y1 = fmax(y1, y);
    }
  }
  ts_plot_range_fix(&x0, &x1, 0.0, d->logx);
  ts_plot_range_fix(&y0, &y1, 0.06, d->logy);
  f->x0 = x0, f->x1 = x1, f->y0 = y0, f->y1 = y1;
}

/* Many more points than pixel columns (a million loss values): each column
 * keeps its first, lowest, highest and last point, at their own positions
 * and in their order, which draws what every segment would (to within the
 * pen's antialiasing) in time linear in n but with a few thousand path
 * elements. Needs x ascending; returns 0 (draw plainly) if not. */
typedef struct ColPoint {
  double x, y;
  size_t i;
} ColPoint;

static int stroke_decimated(cairo_t *cr, const TsPlotFrame *f, const TsLinePlotData *d, const double *x,
                            const double *y, size_t n) {
  int pen = 0;
  long col = LONG_MIN;
  ColPoint first = {0}, lo = {0}, hi = {0}, last = {0};
  double prevx = -INFINITY;
  /* linear axes map with one multiply-add (this loop sees every point) */
  int linear = !d->logx && !d->logy;
  double kx = f->width / (f->x1 - f->x0), ky = -f->height / (f->y1 - f->y0);
  double bx = f->left - f->x0 * kx, by = f->top + f->height - f->y0 * ky;
  for (size_t i = 0; i <= n; i++) {
    int ok = i < n && isfinite(x[i]) && isfinite(y[i]) && !(d->logx && x[i] <= 0) && !(d->logy && y[i] <= 0);
    if (i < n && ok && x[i] < prevx) return 0;
    double px = !ok ? 0 : linear ? bx + kx * x[i] : ts_plot_frame_x(f, x[i]);
    double py = !ok ? 0 : linear ? by + ky * y[i] : ts_plot_frame_y(f, y[i]);
    long c = ok ? (long)floor(px) : LONG_MIN;
    if (col != LONG_MIN && (!ok || c != col)) { /* flush the column: its points in their order */
      ColPoint pts[4] = {first, lo.i <= hi.i ? lo : hi, lo.i <= hi.i ? hi : lo, last};
      for (int k = 0; k < 4; k++) {
        if (k && pts[k].i == pts[k - 1].i) continue;
        if (pen) cairo_line_to(cr, pts[k].x, pts[k].y);
        else cairo_move_to(cr, pts[k].x, pts[k].y);
        pen = 1;
      }
      col = LONG_MIN;
    }
    if (!ok) {
      if (i < n) pen = 0;
      continue;
    }
    prevx = x[i];
    ColPoint p = {px, py, i};
    if (col == LONG_MIN) col = c, first = lo = hi = p;
    if (py < lo.y) lo = p;
    if (py > hi.y) hi = p;
    last = p;
  }
  cairo_stroke(cr);
  return 1;
}

static void stroke_series(cairo_t *cr, const TsPlotFrame *f, const TsLinePlotData *d, const double *x,
                          const double *y, size_t n) {
  if (n > 4 * (size_t)fmax(f->width, 1) && stroke_decimated(cr, f, d, x, y, n)) return;
  cairo_new_path(cr);
  int pen = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i]) || (d->logx && x[i] <= 0) || (d->logy && y[i] <= 0)) {
      pen = 0;
      continue;
    }
    double px = ts_plot_frame_x(f, x[i]), py = ts_plot_frame_y(f, y[i]);
    if (pen) cairo_line_to(cr, px, py);
    else cairo_move_to(cr, px, py);
    pen = 1;
  }
  if (n == 1 && isfinite(y[0])) { /* a single point is a dot */
    cairo_arc(cr, ts_plot_frame_x(f, x[0]), ts_plot_frame_y(f, y[0]), 2, 0, 2 * M_PI);
  }
  cairo_stroke(cr);
}

void ts_line_plot_draw(cairo_t *cr, const TsLinePlotData *d, int w, int h) {
  TsPlotFrame f;
  ts_line_plot_layout(d, w, h, &f);
  ts_plot_draw_background(cr, w, h);
  ts_plot_draw_axes(cr, &f, d->title, d->xlabel, d->ylabel);
  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.width, f.height);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  for (size_t s = 0; s < d->n_series; s++) {
    const TsLineSeries *ls = &d->series[s];
    if (!ls->n) continue;
    if (d->smoothing > 0) {
      double *own = ls->smooth ? NULL : g_new(double, ls->n);
      if (own) ts_line_plot_ema(ls->y, ls->n, d->smoothing, own);
      const double *sm = own ? own : ls->smooth;
      cairo_set_line_width(cr, 1.0);
      cairo_set_source_rgba(cr, ls->rgb[0], ls->rgb[1], ls->rgb[2], 0.22);
      stroke_series(cr, &f, d, ls->x, ls->y, ls->n);
      cairo_set_line_width(cr, 2.0);
      cairo_set_source_rgb(cr, ls->rgb[0], ls->rgb[1], ls->rgb[2]);
      stroke_series(cr, &f, d, ls->x, sm, ls->n);
      g_free(own);
    } else {
      cairo_set_line_width(cr, 2.0);
      cairo_set_source_rgb(cr, ls->rgb[0], ls->rgb[1], ls->rgb[2]);
      stroke_series(cr, &f, d, ls->x, ls->y, ls->n);
    }
  }
  if (isfinite(d->vline)) {
    cairo_set_source_rgba(cr, 0.6, 0.45, 0.0, 0.95);
    cairo_set_line_width(cr, 1.5);
    double x = ts_plot_frame_x(&f, d->vline);
    cairo_move_to(cr, x, f.top);
    cairo_line_to(cr, x, f.top + f.height);
    cairo_stroke(cr);
  }
  cairo_restore(cr);
  /* legend (only when there is more than one series or a named one) */
  double ly = f.top + 6;
  for (size_t s = 0; s < d->n_series; s++) {
    const TsLineSeries *ls = &d->series[s];
    if (!ls->name || !*ls->name) continue;
    double lx = f.left + f.width - 8;
    ts_plot_ink(cr, 0.8);
    double tw = ts_plot_text(cr, lx, ly, ls->name, 1.0, 0.0, TS_PLOT_FONT_SIZE - 1, 0) + 6;
    cairo_set_source_rgb(cr, ls->rgb[0], ls->rgb[1], ls->rgb[2]);
    cairo_set_line_width(cr, 3);
    cairo_move_to(cr, lx - tw - 16, ly + 8);
    cairo_line_to(cr, lx - tw - 2, ly + 8);
    cairo_stroke(cr);
    ly += 16;
  }
}

/* ---------------------------------------------------------------------- */

/* A series and what a redraw needs of it, brought up to date for the points
 * appended since the last one only (a million-point loss stream would
 * otherwise be walked twice per frame): the EMA at ema_a over the first
 * ema->len points with its running sum and weight, and the data range of
 * the first range_n points for range_logx/range_logy. */
typedef struct {
  char *name;
  GArray *x, *y;
  double rgb[3];
  GArray *ema;
  double ema_a, ema_s, ema_w;
  guint range_n;
  int range_logx, range_logy;
  double rx0, rx1, ry0, ry1;
} Series;

static void series_reset_cache(Series *s) {
  g_array_set_size(s->ema, 0);
  s->ema_s = s->ema_w = 0;
  s->range_n = 0;
  s->rx0 = s->ry0 = INFINITY, s->rx1 = s->ry1 = -INFINITY;
}

/* The same arithmetic as ts_line_plot_ema, continued from where it stopped. */
static void series_update(Series *s, double a, int logx, int logy) {
  guint n = s->y->len;
  const double *x = (const double *)(void *)s->x->data, *y = (const double *)(void *)s->y->data;
  if (a != s->ema_a || s->ema->len > n) g_array_set_size(s->ema, 0), s->ema_s = s->ema_w = 0, s->ema_a = a;
  if (a > 0) {
    guint i = s->ema->len;
    g_array_set_size(s->ema, n);
    double *out = (double *)(void *)s->ema->data;
    for (; i < n; i++) {
      if (!isfinite(y[i])) {
        out[i] = y[i];
        continue;
      }
      s->ema_s = a * s->ema_s + (1 - a) * y[i];
      s->ema_w = a * s->ema_w + (1 - a);
      out[i] = s->ema_w > 0 ? s->ema_s / s->ema_w : y[i];
    }
  }
  if (logx != s->range_logx || logy != s->range_logy || s->range_n > n) {
    s->range_n = 0, s->range_logx = logx, s->range_logy = logy;
    s->rx0 = s->ry0 = INFINITY, s->rx1 = s->ry1 = -INFINITY;
  }
  for (guint i = s->range_n; i < n; i++) {
    if (!isfinite(x[i]) || !isfinite(y[i]) || (logx && x[i] <= 0) || (logy && y[i] <= 0)) continue;
    s->rx0 = fmin(s->rx0, x[i]), s->rx1 = fmax(s->rx1, x[i]), s->ry0 = fmin(s->ry0, y[i]), s->ry1 = fmax(s->ry1, y[i]);
  }
  s->range_n = n;
}

struct _TsLinePlot {
  GtkWidget parent;
  GtkWidget *area, *bar, *smooth_scale, *smooth_label, *lock_button, *logy_button;
  GPtrArray *series; /* Series* */
  char *title, *xlabel, *ylabel;
  int logx, logy, locked;
  double smoothing, vline;
  double x0, x1, y0, y1; /* the locked range */
};

G_DEFINE_FINAL_TYPE(TsLinePlot, ts_line_plot, GTK_TYPE_WIDGET)

static void series_free(gpointer p) {
  Series *s = p;
  g_free(s->name);
  g_array_unref(s->x);
  g_array_unref(s->y);
  g_array_unref(s->ema);
  g_free(s);
}

/* The data view borrows the series arrays; free only the returned array. */
static TsLinePlotData view_data(TsLinePlot *self, TsLineSeries **out) {
  TsLineSeries *ls = g_new0(TsLineSeries, self->series->len + 1);
  for (guint i = 0; i < self->series->len; i++) {
    Series *s = g_ptr_array_index(self->series, i);
    ls[i].name = s->name;
    ls[i].x = (const double *)(void *)s->x->data;
    ls[i].y = (const double *)(void *)s->y->data;
    ls[i].n = s->x->len;
    memcpy(ls[i].rgb, s->rgb, sizeof s->rgb);
    series_update(s, self->smoothing, self->logx, self->logy);
    ls[i].smooth = self->smoothing > 0 ? (const double *)(void *)s->ema->data : NULL;
    ls[i].has_range = 1;
    ls[i].rx0 = s->rx0, ls[i].rx1 = s->rx1, ls[i].ry0 = s->ry0, ls[i].ry1 = s->ry1;
  }
  *out = ls;
  TsLinePlotData d = {.series = ls,
                      .n_series = self->series->len,
                      .logx = self->logx,
                      .logy = self->logy,
                      .smoothing = self->smoothing,
                      .vline = self->vline,
                      .title = self->title,
                      .xlabel = self->xlabel,
                      .ylabel = self->ylabel};
  if (self->locked) d.x0 = self->x0, d.x1 = self->x1, d.y0 = self->y0, d.y1 = self->y1;
  return d;
}

static void draw_area(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer user_data) {
  (void)area;
  TsLinePlot *self = user_data;
  TsLineSeries *ls;
  TsLinePlotData d = view_data(self, &ls);
  ts_plot_set_dark(ts_plot_widget_is_dark(GTK_WIDGET(self)));
  ts_line_plot_draw(cr, &d, w, h);
  ts_plot_set_dark(0);
  g_free(ls);
}

void ts_line_plot_get_range(TsLinePlot *self, double *x0, double *x1, double *y0, double *y1) {
  TsLineSeries *ls;
  TsLinePlotData d = view_data(self, &ls);
  TsPlotFrame f;
  int w = gtk_widget_get_width(self->area), h = gtk_widget_get_height(self->area);
  ts_line_plot_layout(&d, w > 0 ? w : 400, h > 0 ? h : 300, &f);
  g_free(ls);
  *x0 = f.x0, *x1 = f.x1, *y0 = f.y0, *y1 = f.y1;
}

static void on_smooth_changed(GtkRange *r, TsLinePlot *self) {
  self->smoothing = gtk_range_get_value(r);
  char buf[32];
  snprintf(buf, sizeof buf, "EMA %.3g", self->smoothing);
  gtk_label_set_text(GTK_LABEL(self->smooth_label), buf);
  gtk_widget_queue_draw(self->area);
}

static void on_lock_toggled(GtkToggleButton *b, TsLinePlot *self) {
  ts_line_plot_set_locked(self, gtk_toggle_button_get_active(b));
}

static void on_logy_toggled(GtkToggleButton *b, TsLinePlot *self) {
  ts_line_plot_set_log(self, self->logx, gtk_toggle_button_get_active(b));
}

static gboolean on_scroll(GtkEventControllerScroll *c, double dx, double dy, TsLinePlot *self) {
  (void)c, (void)dx;
  double x0, x1, y0, y1;
  ts_line_plot_get_range(self, &x0, &x1, &y0, &y1);
  double k = pow(1.15, dy), cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  if (self->logx || self->logy) return FALSE; /* zoom only on linear axes */
  self->x0 = cx + (x0 - cx) * k, self->x1 = cx + (x1 - cx) * k;
  self->y0 = cy + (y0 - cy) * k, self->y1 = cy + (y1 - cy) * k;
  self->locked = 1;
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->lock_button), TRUE);
  gtk_widget_queue_draw(self->area);
  return TRUE;
}

static gboolean export_image(GtkWidget *w, const char *path, GError **error) {
  return ts_line_plot_export(TS_LINE_PLOT(w), path, 0, 0, error);
}
static gboolean export_csv(GtkWidget *w, const char *path, GError **error) {
  return ts_line_plot_export_csv(TS_LINE_PLOT(w), path, error);
}

static void ts_line_plot_size_allocate(GtkWidget *w, int width, int height, int baseline) {
  GTK_WIDGET_CLASS(ts_line_plot_parent_class)->size_allocate(w, width, height, baseline);
  ts_plot_export_allocate(w);
}

static void ts_line_plot_dispose(GObject *o) {
  TsLinePlot *self = TS_LINE_PLOT(o);
  ts_plot_export_detach(GTK_WIDGET(self));
  g_clear_pointer(&self->area, gtk_widget_unparent);
  g_clear_pointer(&self->bar, gtk_widget_unparent);
  G_OBJECT_CLASS(ts_line_plot_parent_class)->dispose(o);
}

static void ts_line_plot_finalize(GObject *o) {
  TsLinePlot *self = TS_LINE_PLOT(o);
  g_ptr_array_unref(self->series);
  g_free(self->title);
  g_free(self->xlabel);
  g_free(self->ylabel);
  G_OBJECT_CLASS(ts_line_plot_parent_class)->finalize(o);
}

static void ts_line_plot_class_init(TsLinePlotClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ts_line_plot_dispose;
  oc->finalize = ts_line_plot_finalize;
  wc->size_allocate = ts_line_plot_size_allocate;
  ts_plot_class_add_export(wc, export_image, export_csv);
  gtk_widget_class_set_layout_manager_type(wc, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name(wc, "lineplot");
}

static void ts_line_plot_init(TsLinePlot *self) {
  GtkWidget *w = GTK_WIDGET(self);
  self->series = g_ptr_array_new_with_free_func(series_free);
  self->vline = NAN;
  gtk_orientable_set_orientation(GTK_ORIENTABLE(gtk_widget_get_layout_manager(w)), GTK_ORIENTATION_VERTICAL);
  self->area = gtk_drawing_area_new();
  gtk_widget_set_vexpand(self->area, TRUE);
  gtk_widget_set_hexpand(self->area, TRUE);
  gtk_widget_set_size_request(self->area, 200, 120);
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self->area), draw_area, self, NULL);
  gtk_widget_set_parent(self->area, w);
  GtkEventController *scroll = gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect(scroll, "scroll", G_CALLBACK(on_scroll), self);
  gtk_widget_add_controller(self->area, scroll);

  self->bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_add_css_class(self->bar, "plot-controls");
  GtkWidget *label = self->smooth_label = gtk_label_new("EMA 0.00");
  gtk_label_set_width_chars(GTK_LABEL(label), 8);
  gtk_widget_set_tooltip_text(label, "Smoothing: exponential moving average");
  gtk_widget_add_css_class(label, "dim-label");
  gtk_widget_add_css_class(label, "caption");
  self->smooth_scale = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, 0.0, 0.999, 0.001);
  gtk_widget_set_size_request(self->smooth_scale, 50, -1);
  gtk_scale_set_draw_value(GTK_SCALE(self->smooth_scale), FALSE);
  gtk_widget_set_hexpand(self->smooth_scale, TRUE);
  gtk_widget_set_tooltip_text(self->smooth_scale, "Exponential moving average of each series (the raw one stays faint)");
  g_signal_connect(self->smooth_scale, "value-changed", G_CALLBACK(on_smooth_changed), self);
  self->logy_button = gtk_toggle_button_new_with_label("log");
  gtk_widget_add_css_class(self->logy_button, "flat");
  gtk_widget_set_tooltip_text(self->logy_button, "Logarithmic y axis");
  g_signal_connect(self->logy_button, "toggled", G_CALLBACK(on_logy_toggled), self);
  self->lock_button = gtk_toggle_button_new();
  gtk_button_set_icon_name(GTK_BUTTON(self->lock_button), "changes-prevent-symbolic");
  gtk_widget_add_css_class(self->lock_button, "flat");
  gtk_widget_set_tooltip_text(self->lock_button, "Lock the axes (otherwise they fit the data as it arrives)");
  g_signal_connect(self->lock_button, "toggled", G_CALLBACK(on_lock_toggled), self);
  gtk_box_append(GTK_BOX(self->bar), label);
  gtk_box_append(GTK_BOX(self->bar), self->smooth_scale);
  gtk_box_append(GTK_BOX(self->bar), self->logy_button);
  gtk_box_append(GTK_BOX(self->bar), self->lock_button);
  gtk_widget_set_parent(self->bar, w);
  ts_plot_export_attach(w);
}

GtkWidget *ts_line_plot_new(void) { return g_object_new(TS_TYPE_LINE_PLOT, NULL); }

void ts_line_plot_set_labels(TsLinePlot *self, const char *title, const char *xlabel, const char *ylabel) {
  g_free(self->title), g_free(self->xlabel), g_free(self->ylabel);
  self->title = g_strdup(title);
  self->xlabel = g_strdup(xlabel);
  self->ylabel = g_strdup(ylabel);
  gtk_widget_queue_draw(self->area);
}

guint ts_line_plot_add_series(TsLinePlot *self, const char *name) {
  Series *s = g_new0(Series, 1);
  s->name = g_strdup(name);
  s->x = g_array_new(FALSE, FALSE, sizeof(double));
  s->y = g_array_new(FALSE, FALSE, sizeof(double));
  s->ema = g_array_new(FALSE, FALSE, sizeof(double));
  series_reset_cache(s);
  ts_plot_series_color((int)self->series->len, s->rgb);
  g_ptr_array_add(self->series, s);
  gtk_widget_queue_draw(self->area);
  return self->series->len - 1;
}

void ts_line_plot_set_color(TsLinePlot *self, guint series, const double rgb[3]) {
  if (series >= self->series->len) return;
  Series *s = g_ptr_array_index(self->series, series);
  memcpy(s->rgb, rgb, sizeof s->rgb);
  gtk_widget_queue_draw(self->area);
}

void ts_line_plot_clear(TsLinePlot *self) {
  g_ptr_array_set_size(self->series, 0);
  gtk_widget_queue_draw(self->area);
}

void ts_line_plot_append(TsLinePlot *self, guint series, double x, double y) {
  g_return_if_fail(series < self->series->len);
  Series *s = g_ptr_array_index(self->series, series);
  g_array_append_val(s->x, x);
  g_array_append_val(s->y, y);
  gtk_widget_queue_draw(self->area);
}

void ts_line_plot_append_points(TsLinePlot *self, guint series, const double *x, const double *y, size_t n) {
  g_return_if_fail(series < self->series->len);
  Series *s = g_ptr_array_index(self->series, series);
  g_array_append_vals(s->x, x, (guint)n);
  g_array_append_vals(s->y, y, (guint)n);
  gtk_widget_queue_draw(self->area);
}

void ts_line_plot_set_points(TsLinePlot *self, guint series, const double *x, const double *y, size_t n) {
  g_return_if_fail(series < self->series->len);
  Series *s = g_ptr_array_index(self->series, series);
  g_array_set_size(s->x, 0);
  g_array_set_size(s->y, 0);
  series_reset_cache(s);
  g_array_append_vals(s->x, x, (guint)n);
  g_array_append_vals(s->y, y, (guint)n);
  gtk_widget_queue_draw(self->area);
}

void ts_line_plot_set_smoothing(TsLinePlot *self, double a) {
  gtk_range_set_value(GTK_RANGE(self->smooth_scale), CLAMP(a, 0.0, 0.999));
}

double ts_line_plot_get_smoothing(TsLinePlot *self) { return self->smoothing; }

void ts_line_plot_set_log(TsLinePlot *self, gboolean logx, gboolean logy) {
  self->logx = !!logx, self->logy = !!logy;
  if (gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->logy_button)) != !!logy)
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->logy_button), logy);
  self->locked = 0; /* a locked range on the other scale makes no sense */
  gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->lock_button), FALSE);
  gtk_widget_queue_draw(self->area);
}

void ts_line_plot_set_locked(TsLinePlot *self, gboolean locked) {
  if (locked && !self->locked) {
    double x0, x1, y0, y1;
    ts_line_plot_get_range(self, &x0, &x1, &y0, &y1);
    self->x0 = x0, self->x1 = x1, self->y0 = y0, self->y1 = y1;
  }
  self->locked = !!locked;
  if (gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->lock_button)) != !!locked)
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->lock_button), locked);
  gtk_widget_queue_draw(self->area);
}

gboolean ts_line_plot_get_locked(TsLinePlot *self) { return self->locked; }

void ts_line_plot_set_vline(TsLinePlot *self, double x) {
  self->vline = x;
  gtk_widget_queue_draw(self->area);
}

void ts_line_plot_set_show_controls(TsLinePlot *self, gboolean show) { gtk_widget_set_visible(self->bar, show); }

gboolean ts_line_plot_export(TsLinePlot *self, const char *path, int w, int h, GError **error) {
  if (w <= 0 || h <= 0) {
    w = gtk_widget_get_width(self->area);
    h = gtk_widget_get_height(self->area);
    if (w <= 0 || h <= 0) w = 640, h = 400;
  }
  TsLineSeries *ls;
  TsLinePlotData d = view_data(self, &ls);
  gboolean ok = ts_plot_export_file((TsPlotDrawFn)ts_line_plot_draw, &d, w, h, path, error);
  g_free(ls);
  return ok;
}

gboolean ts_line_plot_export_csv(TsLinePlot *self, const char *path, GError **error) {
  GString *s = g_string_new("series,x,y,smoothed\n");
  for (guint k = 0; k < self->series->len; k++) {
    Series *ser = g_ptr_array_index(self->series, k);
    double *sm = g_new(double, ser->y->len + 1);
    ts_line_plot_ema((const double *)(void *)ser->y->data, ser->y->len, self->smoothing, sm);
    for (guint i = 0; i < ser->x->len; i++)
      g_string_append_printf(s, "\"%s\",%.17g,%.17g,%.17g\n", ser->name ? ser->name : "", g_array_index(ser->x, double, i),
                             g_array_index(ser->y, double, i), sm[i]);
    g_free(sm);
  }
  gboolean ok = g_file_set_contents(path, s->str, (gssize)s->len, error);
  g_string_free(s, TRUE);
  return ok;
}
