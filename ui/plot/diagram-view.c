/* diagram-view.c — persistence diagram scatter plot and its widget. */
#include "plot/diagram-view.h"

#include <math.h>
#include <string.h>

#include "plot/plot-export.h"

/* Above this many visible points they are splatted into a raster instead of
 * being drawn as Cairo arcs (arcs cost ~1 µs each, a splat ~20 ns). */
#define SPLAT_THRESHOLD 4000

static int dim_shown(const TsDiagramViewData *d, int dim) {
  return d->dims == 0 || (dim >= 0 && dim < 32 && (d->dims & (1u << dim)));
}

static double pair_y(const TsDiagramViewData *d, const TsPair *p) {
  return d->lifetime ? p->death - p->birth : p->death;
}

void ts_diagram_view_layout(const TsDiagramViewData *d, int w, int h, TsPlotFrame *f, double *inf_y) {
  memset(f, 0, sizeof *f);
  ts_plot_frame_layout(f, w, h, d->title && *d->title);
  /* the infinity lane is the top strip of the plot area */
  *inf_y = f->top + TS_DIAGRAM_INF_LANE / 2;
  f->top += TS_DIAGRAM_INF_LANE;
  f->height = fmax(1.0, f->height - TS_DIAGRAM_INF_LANE);
  if (d->x0 < d->x1 && d->y0 < d->y1) {
    f->x0 = d->x0, f->x1 = d->x1, f->y0 = d->y0, f->y1 = d->y1;
    return;
  }
  double bmin = INFINITY, bmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  if (d->diagram) {
    for (size_t i = 0; i < d->diagram->n; i++) {
      const TsPair *p = &d->diagram->pairs[i];
      if (!dim_shown(d, p->dim)) continue;
      bmin = fmin(bmin, p->birth);
      bmax = fmax(bmax, p->birth);
      if (isfinite(p->death)) {
        double y = pair_y(d, p);
        ymin = fmin(ymin, y);
        ymax = fmax(ymax, y);
      }
    }
  }
  if (d->lifetime) {
    if (!(bmin <= bmax)) bmin = 0, bmax = 1;
    if (!(ymin <= ymax)) ymin = 0, ymax = 1;
    ymin = fmin(ymin, 0.0);
    ts_plot_range_fix(&bmin, &bmax, 0.06, 0);
    ts_plot_range_fix(&ymin, &ymax, 0.06, 0);
    f->x0 = bmin, f->x1 = bmax, f->y0 = ymin, f->y1 = ymax;
  } else {
    /* one square range so the diagonal is at 45 degrees */
    double lo = fmin(bmin, ymin), hi = fmax(bmax, ymax);
    if (!(lo <= hi)) lo = 0, hi = 1;
    ts_plot_range_fix(&lo, &hi, 0.06, 0);
    f->x0 = f->y0 = lo;
    f->x1 = f->y1 = hi;
  }
}

int ts_diagram_view_point(const TsDiagramViewData *d, const TsPlotFrame *f, double inf_y, size_t i, double *px,
                          double *py) {
  const TsPair *p = &d->diagram->pairs[i];
  if (!dim_shown(d, p->dim)) return 0;
  *px = ts_plot_frame_x(f, p->birth);
  *py = isfinite(p->death) ? ts_plot_frame_y(f, pair_y(d, p)) : inf_y;
  return 1;
}

static void splat_points(cairo_t *cr, const TsDiagramViewData *d, const TsPlotFrame *f, double inf_y, int w, int h) {
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    return;
  }
  cairo_surface_flush(s);
  uint32_t *px = (uint32_t *)cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s) / 4;
  const TsDiagram *dg = d->diagram;
  int xa = (int)f->left, xb = (int)(f->left + f->width), ya = (int)(f->top - TS_DIAGRAM_INF_LANE),
      yb = (int)(f->top + f->height);
  for (int pass = 0; pass < 4; pass++) { /* higher dimensions on top: they are fewer */
    for (size_t i = 0; i < dg->n; i++) {
      const TsPair *p = &dg->pairs[i];
      int dim = p->dim > 3 ? 3 : p->dim;
      if (dim != pass) continue;
      double x, y;
      if (!ts_diagram_view_point(d, f, inf_y, i, &x, &y)) continue;
      int cx = (int)lrint(x), cy = (int)lrint(y);
      if (cx < xa || cx > xb || cy < ya || cy > yb) continue;
      double rgb[3];
      ts_plot_dim_color(p->dim, rgb);
      uint32_t c = 0xff000000u | (uint32_t)(rgb[0] * 255) << 16 | (uint32_t)(rgb[1] * 255) << 8 |
                   (uint32_t)(rgb[2] * 255);
      for (int yy = cy - 1; yy <= cy + 1; yy++) {
        if (yy < 0 || yy >= h) continue;
        for (int xx = cx - 1; xx <= cx + 1; xx++)
          if (xx >= 0 && xx < w) px[(size_t)yy * stride + xx] = c;
      }
    }
  }
  cairo_surface_mark_dirty(s);
  cairo_set_source_surface(cr, s, 0, 0);
  cairo_paint(cr);
  cairo_surface_destroy(s);
}

/* Teaching: the classes alive at t lie up and to the left of (t, t). Drawn
 * with the plot, or over the widget's cached plot as t moves. */
static void draw_teaching(cairo_t *cr, const TsDiagramViewData *d, const TsPlotFrame *fp, double lane_top) {
  TsPlotFrame f = *fp;
  if (isfinite(d->t)) {
    double tx = ts_plot_frame_x(&f, d->t);
    double ty = d->lifetime ? f.top + f.height : ts_plot_frame_y(&f, d->t);
    cairo_set_source_rgba(cr, 0.96, 0.83, 0.18, 0.18);
    if (d->lifetime) {
      /* alive at t: birth <= t < birth + life, i.e. above the line life = t - birth */
      cairo_move_to(cr, tx, ts_plot_frame_y(&f, 0));
      cairo_line_to(cr, f.left, ts_plot_frame_y(&f, d->t - f.x0));
      cairo_line_to(cr, f.left, lane_top);
      cairo_line_to(cr, tx, lane_top);
      cairo_close_path(cr);
    } else {
      cairo_rectangle(cr, f.left, lane_top, tx - f.left, ty - lane_top);
    }
    cairo_fill(cr);
    cairo_set_source_rgba(cr, 0.6, 0.45, 0.0, 0.9);
    cairo_set_line_width(cr, 1.0);
    double dash[2] = {4, 3};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, tx, lane_top);
    cairo_line_to(cr, tx, f.top + f.height);
    if (!d->lifetime) {
      cairo_move_to(cr, f.left, ty);
      cairo_line_to(cr, f.left + f.width, ty);
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
  }
}

void ts_diagram_view_draw_teaching(cairo_t *cr, const TsDiagramViewData *d, int w, int h) {
  TsPlotFrame f;
  double inf_y;
  ts_diagram_view_layout(d, w, h, &f, &inf_y);
  double lane_top = f.top - TS_DIAGRAM_INF_LANE;
  cairo_save(cr);
  cairo_rectangle(cr, f.left, lane_top, f.width, f.height + TS_DIAGRAM_INF_LANE);
  cairo_clip(cr);
  draw_teaching(cr, d, &f, lane_top);
  cairo_restore(cr);
}

void ts_diagram_view_draw(cairo_t *cr, const TsDiagramViewData *d, int w, int h) {
  TsPlotFrame f;
  double inf_y;
  ts_diagram_view_layout(d, w, h, &f, &inf_y);
  ts_plot_draw_background(cr, w, h);
  ts_plot_draw_axes(cr, &f, d->title, "birth", d->lifetime ? "persistence (death − birth)" : "death");
  cairo_save(cr);
  /* the infinity lane */
  double lane_top = f.top - TS_DIAGRAM_INF_LANE;
  ts_plot_ink(cr, 0.04);
  cairo_rectangle(cr, f.left, lane_top, f.width, TS_DIAGRAM_INF_LANE);
  cairo_fill(cr);
  ts_plot_ink(cr, 0.45);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, round(f.left) + 0.5, round(lane_top) + 0.5, round(f.width), round(TS_DIAGRAM_INF_LANE));
  cairo_stroke(cr);
  ts_plot_ink(cr, 0.75);
  ts_plot_text(cr, f.left - 5, inf_y, "∞", 1.0, 0.5, TS_PLOT_FONT_SIZE + 2, 0);

  cairo_rectangle(cr, f.left, lane_top, f.width, f.height + TS_DIAGRAM_INF_LANE);
  cairo_clip(cr);
  /* the diagonal (death = birth), or the zero line in lifetime mode */
  cairo_set_source_rgba(cr, 0.25, 0.25, 0.25, 0.9);
  cairo_set_line_width(cr, 1.5);
  if (d->lifetime) {
    cairo_move_to(cr, f.left, ts_plot_frame_y(&f, 0));
    cairo_line_to(cr, f.left + f.width, ts_plot_frame_y(&f, 0));
  } else {
    double lo = fmin(f.x0, f.y0), hi = fmax(f.x1, f.y1);
    cairo_move_to(cr, ts_plot_frame_x(&f, lo), ts_plot_frame_y(&f, lo));
    cairo_line_to(cr, ts_plot_frame_x(&f, hi), ts_plot_frame_y(&f, hi));
  }
  cairo_stroke(cr);
  draw_teaching(cr, d, &f, lane_top);
  /* the points */
  const TsDiagram *dg = d->diagram;
  size_t counts[4] = {0, 0, 0, 0};
  if (dg) {
    for (size_t i = 0; i < dg->n; i++)
      if (dim_shown(d, dg->pairs[i].dim)) counts[dg->pairs[i].dim > 3 ? 3 : dg->pairs[i].dim < 0 ? 0 : dg->pairs[i].dim]++;
    size_t shown = counts[0] + counts[1] + counts[2] + counts[3];
    if (shown > SPLAT_THRESHOLD) {
      splat_points(cr, d, &f, inf_y, w, h);
    } else {
      for (size_t i = 0; i < dg->n; i++) {
        double x, y, rgb[3];
        if (!ts_diagram_view_point(d, &f, inf_y, i, &x, &y)) continue;
        ts_plot_dim_color(dg->pairs[i].dim, rgb);
        cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], 0.85);
        cairo_arc(cr, x, y, 3.2, 0, 2 * M_PI);
        cairo_fill(cr);
      }
    }
    if (d->selected) {
      cairo_set_line_width(cr, 2.0);
      for (size_t i = 0; i < dg->n; i++) {
        double x, y;
        if (!d->selected[i] || !ts_diagram_view_point(d, &f, inf_y, i, &x, &y)) continue;
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        cairo_arc(cr, x, y, 5.5, 0, 2 * M_PI);
        cairo_stroke(cr);
      }
    }
  }
  cairo_restore(cr);
  /* legend: one entry per dimension present; in the ordinary diagram the
   * corner under the diagonal is always empty */
  int present = (counts[0] > 0) + (counts[1] > 0) + (counts[2] > 0) + (counts[3] > 0);
  double ly = d->lifetime ? f.top + 8 : f.top + f.height - 8 - 16 * present, lx = f.left + f.width - 8;
  for (int k = 3; k >= 0; k--) {
    if (!counts[k]) continue;
    char buf[64];
    snprintf(buf, sizeof buf, "H%d  %zu", k, counts[k]);
    double rgb[3];
    ts_plot_dim_color(k, rgb);
    ts_plot_ink(cr, 0.8);
    double tw = ts_plot_text(cr, lx, ly, buf, 1.0, 0.0, TS_PLOT_FONT_SIZE - 1, 0);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_arc(cr, lx - tw - 8, ly + 7, 4, 0, 2 * M_PI);
    cairo_fill(cr);
    ly += 16;
  }
}

/* ---------------------------------------------------------------------- */

struct _TsDiagramView {
  GtkWidget parent;
  TsDiagram diagram;
  uint8_t *selected; /* diagram.n flags */
  int lifetime;
  unsigned dims;
  double x0, x1, y0, y1; /* view; x0 >= x1 = fitted */
  double t;
  char *title;
  GskRenderNode *cache;
  int cache_w, cache_h, cache_dark;
  long hover;
  /* drag state */
  int dragging, panning;
  double drag_x, drag_y, drag_dx, drag_dy;
  double pan_x0, pan_x1, pan_y0, pan_y1;
};

G_DEFINE_FINAL_TYPE(TsDiagramView, ts_diagram_view, GTK_TYPE_WIDGET)

enum { SIG_SELECTION_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static TsDiagramViewData view_data(TsDiagramView *self) {
  TsDiagramViewData d = {
      .diagram = &self->diagram,
      .lifetime = self->lifetime,
      .dims = self->dims,
      .x0 = self->x0,
      .x1 = self->x1,
      .y0 = self->y0,
      .y1 = self->y1,
      .selected = self->selected,
      .t = self->t,
      .title = self->title,
  };
  return d;
}

static void invalidate(TsDiagramView *self) {
  g_clear_pointer(&self->cache, gsk_render_node_unref);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void draw_overlay(TsDiagramView *self, cairo_t *cr, int w, int h) {
  TsDiagramViewData d = view_data(self);
  if (self->hover >= 0 && (size_t)self->hover < self->diagram.n) {
    TsPlotFrame f;
    double inf_y, x, y, rgb[3];
    ts_diagram_view_layout(&d, w, h, &f, &inf_y);
    if (ts_diagram_view_point(&d, &f, inf_y, (size_t)self->hover, &x, &y)) {
      ts_plot_dim_color(self->diagram.pairs[self->hover].dim, rgb);
      cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
      cairo_arc(cr, x, y, 5, 0, 2 * M_PI);
      cairo_fill_preserve(cr);
      cairo_set_source_rgb(cr, 1, 1, 1);
      cairo_set_line_width(cr, 1.5);
      cairo_stroke(cr);
    }
  }
  if (self->dragging && !self->panning) {
    double x = self->drag_x, y = self->drag_y;
    cairo_rectangle(cr, x + fmin(0, self->drag_dx), y + fmin(0, self->drag_dy), fabs(self->drag_dx),
                    fabs(self->drag_dy));
    cairo_set_source_rgba(cr, 0.208, 0.518, 0.894, 0.15);
    cairo_fill_preserve(cr);
    cairo_set_source_rgba(cr, 0.208, 0.518, 0.894, 0.9);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
  }
}

static void ts_diagram_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  TsDiagramView *self = TS_DIAGRAM_VIEW(widget);
  int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  if (w <= 0 || h <= 0) return;
  int dark = ts_plot_widget_is_dark(widget);
  ts_plot_set_dark(dark);
  if (!self->cache || self->cache_w != w || self->cache_h != h || self->cache_dark != dark) {
    g_clear_pointer(&self->cache, gsk_render_node_unref);
    GtkSnapshot *s = gtk_snapshot_new();
    cairo_t *cr = gtk_snapshot_append_cairo(s, &GRAPHENE_RECT_INIT(0, 0, w, h));
    TsDiagramViewData d = view_data(self);
    d.t = NAN; /* t moves with a slider: drawn over the cached plot */
    ts_diagram_view_draw(cr, &d, w, h);
    cairo_destroy(cr);
    self->cache = gtk_snapshot_free_to_node(s);
    self->cache_w = w, self->cache_h = h, self->cache_dark = dark;
  }
  if (self->cache) gtk_snapshot_append_node(snapshot, self->cache);
  if (isfinite(self->t)) {
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
    TsDiagramViewData d = view_data(self);
    ts_diagram_view_draw_teaching(cr, &d, w, h);
    cairo_destroy(cr);
  }
  if (self->hover >= 0 || self->dragging) {
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
    draw_overlay(self, cr, w, h);
    cairo_destroy(cr);
  }
  ts_plot_set_dark(0);
}

static void ts_diagram_view_measure(GtkWidget *w, GtkOrientation o, int for_size, int *min, int *nat, int *min_b,
                                    int *nat_b) {
  (void)w, (void)o, (void)for_size;
  *min = 160;
  *nat = 260;
  *min_b = *nat_b = -1;
}

static void ts_diagram_view_size_allocate(GtkWidget *w, int width, int height, int baseline) {
  (void)width, (void)height, (void)baseline;
  ts_plot_export_allocate(w);
}

gboolean ts_diagram_view_get_point_position(TsDiagramView *self, size_t i, double *x, double *y) {
  if (i >= self->diagram.n) return FALSE;
  int w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
  TsDiagramViewData d = view_data(self);
  TsPlotFrame f;
  double inf_y;
  ts_diagram_view_layout(&d, w, h, &f, &inf_y);
  return ts_diagram_view_point(&d, &f, inf_y, i, x, y);
}

long ts_diagram_view_pick(TsDiagramView *self, double x, double y, double radius) {
  int w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
  TsDiagramViewData d = view_data(self);
  TsPlotFrame f;
  double inf_y, best = radius * radius;
  long found = -1;
  ts_diagram_view_layout(&d, w, h, &f, &inf_y);
  for (size_t i = 0; i < self->diagram.n; i++) {
    double px, py;
    if (!ts_diagram_view_point(&d, &f, inf_y, i, &px, &py)) continue;
    double dd = (px - x) * (px - x) + (py - y) * (py - y);
    if (dd <= best) best = dd, found = (long)i;
  }
  return found;
}

size_t ts_diagram_view_select_rect(TsDiagramView *self, double x0, double y0, double x1, double y1) {
  int w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
  TsDiagramViewData d = view_data(self);
  TsPlotFrame f;
  double inf_y;
  size_t n = 0;
  ts_diagram_view_layout(&d, w, h, &f, &inf_y);
  double xa = fmin(x0, x1), xb = fmax(x0, x1), ya = fmin(y0, y1), yb = fmax(y0, y1);
  for (size_t i = 0; i < self->diagram.n; i++) {
    double px, py;
    int in = ts_diagram_view_point(&d, &f, inf_y, i, &px, &py) && px >= xa && px <= xb && py >= ya && py <= yb;
    self->selected[i] = (uint8_t)in;
    n += in;
  }
  invalidate(self);
  g_signal_emit(self, signals[SIG_SELECTION_CHANGED], 0);
  return n;
}

static void on_drag_begin(GtkGestureDrag *g, double x, double y, TsDiagramView *self) {
  GdkModifierType mods = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(g));
  guint button = gtk_gesture_single_get_current_button(GTK_GESTURE_SINGLE(g));
  self->dragging = 1;
  self->panning = button == GDK_BUTTON_MIDDLE || (mods & GDK_SHIFT_MASK);
  self->drag_x = x, self->drag_y = y, self->drag_dx = self->drag_dy = 0;
  if (self->panning) {
    int w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
    TsDiagramViewData d = view_data(self);
    TsPlotFrame f;
    double inf_y;
    ts_diagram_view_layout(&d, w, h, &f, &inf_y);
    self->pan_x0 = f.x0, self->pan_x1 = f.x1, self->pan_y0 = f.y0, self->pan_y1 = f.y1;
  }
}

static void on_drag_update(GtkGestureDrag *g, double dx, double dy, TsDiagramView *self) {
  (void)g;
  self->drag_dx = dx, self->drag_dy = dy;
  if (self->panning) {
    int w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
    TsPlotFrame f;
    ts_plot_frame_layout(&f, w, h, self->title && *self->title);
    double sx = (self->pan_x1 - self->pan_x0) / f.width;
    double sy = (self->pan_y1 - self->pan_y0) / fmax(1.0, f.height - TS_DIAGRAM_INF_LANE);
    self->x0 = self->pan_x0 - dx * sx, self->x1 = self->pan_x1 - dx * sx;
    self->y0 = self->pan_y0 + dy * sy, self->y1 = self->pan_y1 + dy * sy;
    invalidate(self);
  } else {
    gtk_widget_queue_draw(GTK_WIDGET(self));
  }
}

static void on_drag_end(GtkGestureDrag *g, double dx, double dy, TsDiagramView *self) {
  GdkModifierType mods = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(g));
  int was_panning = self->panning;
  self->dragging = self->panning = 0;
  if (was_panning) return;
  if (fabs(dx) < 3 && fabs(dy) < 3) {
    /* a click: select the point under it (Ctrl toggles) */
    long i = ts_diagram_view_pick(self, self->drag_x, self->drag_y, 7.0);
    if (!(mods & GDK_CONTROL_MASK)) memset(self->selected, 0, self->diagram.n);
    if (i >= 0) self->selected[i] ^= 1;
    invalidate(self);
    g_signal_emit(self, signals[SIG_SELECTION_CHANGED], 0);
    return;
  }
  ts_diagram_view_select_rect(self, self->drag_x, self->drag_y, self->drag_x + dx, self->drag_y + dy);
}

static void on_pressed(GtkGestureClick *g, int n_press, double x, double y, TsDiagramView *self) {
  (void)g, (void)x, (void)y;
  if (n_press == 2) ts_diagram_view_reset_view(self);
}

void ts_diagram_view_zoom(TsDiagramView *self, double factor, double cx, double cy) {
  int w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
  TsDiagramViewData d = view_data(self);
  TsPlotFrame f;
  double inf_y;
  ts_diagram_view_layout(&d, w, h, &f, &inf_y);
  if (isnan(cx) || isnan(cy)) cx = (f.x0 + f.x1) / 2, cy = (f.y0 + f.y1) / 2;
  self->x0 = cx + (f.x0 - cx) * factor, self->x1 = cx + (f.x1 - cx) * factor;
  self->y0 = cy + (f.y0 - cy) * factor, self->y1 = cy + (f.y1 - cy) * factor;
  invalidate(self);
}

static gboolean on_scroll(GtkEventControllerScroll *c, double dx, double dy, TsDiagramView *self) {
  (void)dx;
  double x = 0, y = 0;
  GdkEvent *ev = gtk_event_controller_get_current_event(GTK_EVENT_CONTROLLER(c));
  if (ev) gdk_event_get_position(ev, &x, &y);
  int w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
  TsDiagramViewData d = view_data(self);
  TsPlotFrame f;
  double inf_y;
  ts_diagram_view_layout(&d, w, h, &f, &inf_y);
  if (!ts_plot_frame_contains(&f, x, y)) x = f.left + f.width / 2, y = f.top + f.height / 2;
  ts_diagram_view_zoom(self, pow(1.15, dy), ts_plot_frame_inv_x(&f, x), ts_plot_frame_inv_y(&f, y));
  return TRUE;
}

static void on_motion(GtkEventControllerMotion *c, double x, double y, TsDiagramView *self) {
  (void)c;
  if (self->dragging) return;
  long i = ts_diagram_view_pick(self, x, y, 7.0);
  if (i != self->hover) {
    self->hover = i;
    gtk_widget_queue_draw(GTK_WIDGET(self));
  }
}

static void on_leave(GtkEventControllerMotion *c, TsDiagramView *self) {
  (void)c;
  if (self->hover >= 0) {
    self->hover = -1;
    gtk_widget_queue_draw(GTK_WIDGET(self));
  }
}

static void format_loc(const TsDiagram *d, const int32_t *at, char *buf, size_t n) {
  if (d->loc == TS_LOC_CELLS && at[0] >= 0) snprintf(buf, n, "(row %d, col %d)", at[0], at[1]);
  else if (d->loc == TS_LOC_EDGES && at[0] >= 0) snprintf(buf, n, "edge %d–%d", at[0], at[1]);
  else snprintf(buf, n, "—");
}

static gboolean on_query_tooltip(GtkWidget *w, int x, int y, gboolean kb, GtkTooltip *tip, gpointer data) {
  (void)kb, (void)data;
  TsDiagramView *self = TS_DIAGRAM_VIEW(w);
  long i = ts_diagram_view_pick(self, x, y, 7.0);
  if (i < 0) return FALSE;
  const TsPair *p = &self->diagram.pairs[i];
  char b[64], dd[64], lb[64], ld[64];
  ts_plot_format(p->birth, b, sizeof b);
  ts_plot_format(p->death, dd, sizeof dd);
  format_loc(&self->diagram, p->birth_at, lb, sizeof lb);
  format_loc(&self->diagram, p->death_at, ld, sizeof ld);
  char *text = g_strdup_printf("<b>H%d</b>\nbirth %.6g  at %s\ndeath %s  at %s\npersistence %.6g", p->dim, p->birth, lb,
                               isfinite(p->death) ? dd : "∞ (essential)", ld, p->death - p->birth);
  (void)b;
  gtk_tooltip_set_markup(tip, text);
  g_free(text);
  return TRUE;
}

static gboolean export_image(GtkWidget *w, const char *path, GError **error) {
  return ts_diagram_view_export(TS_DIAGRAM_VIEW(w), path, 0, 0, error);
}
static gboolean export_csv(GtkWidget *w, const char *path, GError **error) {
  return ts_diagram_view_export_csv(TS_DIAGRAM_VIEW(w), path, error);
}

static void ts_diagram_view_dispose(GObject *o) {
  TsDiagramView *self = TS_DIAGRAM_VIEW(o);
  ts_plot_export_detach(GTK_WIDGET(self));
  g_clear_pointer(&self->cache, gsk_render_node_unref);
  G_OBJECT_CLASS(ts_diagram_view_parent_class)->dispose(o);
}

static void ts_diagram_view_finalize(GObject *o) {
  TsDiagramView *self = TS_DIAGRAM_VIEW(o);
  ts_diagram_clear(&self->diagram);
  g_free(self->selected);
  g_free(self->title);
  G_OBJECT_CLASS(ts_diagram_view_parent_class)->finalize(o);
}

static void ts_diagram_view_class_init(TsDiagramViewClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ts_diagram_view_dispose;
  oc->finalize = ts_diagram_view_finalize;
  wc->snapshot = ts_diagram_view_snapshot;
  wc->measure = ts_diagram_view_measure;
  wc->size_allocate = ts_diagram_view_size_allocate;
  signals[SIG_SELECTION_CHANGED] =
      g_signal_new("selection-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  ts_plot_class_add_export(wc, export_image, export_csv);
  gtk_widget_class_set_css_name(wc, "diagramview");
  gtk_widget_class_set_accessible_role(wc, GTK_ACCESSIBLE_ROLE_IMG);
}

static void ts_diagram_view_init(TsDiagramView *self) {
  GtkWidget *w = GTK_WIDGET(self);
  ts_diagram_init(&self->diagram);
  self->t = NAN;
  self->hover = -1;
  self->x0 = self->x1 = 0;
  gtk_widget_set_has_tooltip(w, TRUE);
  gtk_widget_set_focusable(w, TRUE);
  g_signal_connect(w, "query-tooltip", G_CALLBACK(on_query_tooltip), NULL);
  GtkGesture *drag = gtk_gesture_drag_new();
  gtk_gesture_single_set_button(GTK_GESTURE_SINGLE(drag), 0);
  g_signal_connect(drag, "drag-begin", G_CALLBACK(on_drag_begin), self);
  g_signal_connect(drag, "drag-update", G_CALLBACK(on_drag_update), self);
  g_signal_connect(drag, "drag-end", G_CALLBACK(on_drag_end), self);
  gtk_widget_add_controller(w, GTK_EVENT_CONTROLLER(drag));
  GtkGesture *click = gtk_gesture_click_new();
  g_signal_connect(click, "pressed", G_CALLBACK(on_pressed), self);
  gtk_widget_add_controller(w, GTK_EVENT_CONTROLLER(click));
  GtkEventController *scroll = gtk_event_controller_scroll_new(GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect(scroll, "scroll", G_CALLBACK(on_scroll), self);
  gtk_widget_add_controller(w, scroll);
  GtkEventController *motion = gtk_event_controller_motion_new();
  g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
  g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
  gtk_widget_add_controller(w, motion);
  ts_plot_export_attach(w);
}

GtkWidget *ts_diagram_view_new(void) { return g_object_new(TS_TYPE_DIAGRAM_VIEW, NULL); }

void ts_diagram_view_set_diagram(TsDiagramView *self, const TsDiagram *d) {
  g_return_if_fail(TS_IS_DIAGRAM_VIEW(self));
  ts_diagram_clear(&self->diagram);
  ts_diagram_init(&self->diagram);
  if (d && ts_diagram_copy(&self->diagram, d, NULL) != TS_OK) ts_diagram_init(&self->diagram);
  g_free(self->selected);
  self->selected = g_malloc0(self->diagram.n + 1);
  self->hover = -1;
  self->x0 = self->x1 = 0;
  invalidate(self);
}

const TsDiagram *ts_diagram_view_get_diagram(TsDiagramView *self) { return &self->diagram; }

void ts_diagram_view_set_lifetime(TsDiagramView *self, gboolean lifetime) {
  if (self->lifetime == !!lifetime) return;
  self->lifetime = !!lifetime;
  self->x0 = self->x1 = 0;
  invalidate(self);
}

void ts_diagram_view_set_dims(TsDiagramView *self, unsigned dims) {
  self->dims = dims;
  invalidate(self);
}

void ts_diagram_view_set_title(TsDiagramView *self, const char *title) {
  g_free(self->title);
  self->title = g_strdup(title);
  invalidate(self);
}

void ts_diagram_view_set_t(TsDiagramView *self, double t) {
  if (self->t == t || (isnan(self->t) && isnan(t))) return;
  self->t = t;
  gtk_widget_queue_draw(GTK_WIDGET(self)); /* the cached plot stays */
}

void ts_diagram_view_reset_view(TsDiagramView *self) {
  self->x0 = self->x1 = 0;
  invalidate(self);
}

void ts_diagram_view_set_selected(TsDiagramView *self, const uint8_t *flags, gboolean emit) {
  if (!self->selected) self->selected = g_malloc0(self->diagram.n + 1);
  if (flags) memcpy(self->selected, flags, self->diagram.n);
  else memset(self->selected, 0, self->diagram.n);
  invalidate(self);
  if (emit) g_signal_emit(self, signals[SIG_SELECTION_CHANGED], 0);
}

const uint8_t *ts_diagram_view_get_selected(TsDiagramView *self) {
  if (!self->selected) self->selected = g_malloc0(self->diagram.n + 1);
  return self->selected;
}

gboolean ts_diagram_view_export(TsDiagramView *self, const char *path, int w, int h, GError **error) {
  if (w <= 0 || h <= 0) {
    w = gtk_widget_get_width(GTK_WIDGET(self));
    h = gtk_widget_get_height(GTK_WIDGET(self));
    if (w <= 0 || h <= 0) w = 640, h = 480;
  }
  TsDiagramViewData d = view_data(self);
  return ts_plot_export_file((TsPlotDrawFn)ts_diagram_view_draw, &d, w, h, path, error);
}

gboolean ts_diagram_view_export_csv(TsDiagramView *self, const char *path, GError **error) {
  GString *s = g_string_new("dim,birth,death,persistence,birth_at,death_at,selected\n");
  for (size_t i = 0; i < self->diagram.n; i++) {
    const TsPair *p = &self->diagram.pairs[i];
    char lb[64] = "", ld[64] = "";
    if (self->diagram.loc != TS_LOC_NONE) {
      if (p->birth_at[0] >= 0) snprintf(lb, sizeof lb, "%d;%d", p->birth_at[0], p->birth_at[1]);
      if (p->death_at[0] >= 0) snprintf(ld, sizeof ld, "%d;%d", p->death_at[0], p->death_at[1]);
    }
    char dd[40] = "inf";
    if (isfinite(p->death)) snprintf(dd, sizeof dd, "%.17g", p->death);
    g_string_append_printf(s, "%d,%.17g,%s,%.17g,%s,%s,%d\n", p->dim, p->birth, dd, p->death - p->birth, lb, ld,
                           self->selected ? self->selected[i] : 0);
  }
  gboolean ok = g_file_set_contents(path, s->str, (gssize)s->len, error);
  g_string_free(s, TRUE);
  return ok;
}
