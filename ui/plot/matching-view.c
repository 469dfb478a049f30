/* matching-view.c — two diagrams and their matching, and its widget. */
#include "plot/matching-view.h"

#include <math.h>
#include <string.h>

#include "plot/diagram-view.h"
#include "plot/plot-export.h"

/* The card colour (behind rings and outlines). */
static void paper(cairo_t *cr) {
  if (ts_plot_get_dark()) cairo_set_source_rgb(cr, 0x2e / 255.0, 0x2e / 255.0, 0x32 / 255.0);
  else cairo_set_source_rgb(cr, 1, 1, 1);
}

#define TITLE_H 26.0
#define LEGEND_H 22.0

typedef struct {
  TsPlotFrame f[2]; /* in widget coordinates; f[1] = f[0] when overlaid */
  double ox[2], oy; /* where each frame's own canvas starts */
  double fw, fh;    /* size of each frame's canvas */
  double inf_y[2];
  int nframes;
} Layout;

long ts_matching_longest(const TsMatching *m) {
  long best = -1;
  if (!m) return -1;
  for (size_t e = 0; e < m->n; e++)
    if (best < 0 || m->edges[e].cost > m->edges[best].cost) best = (long)e;
  return best;
}

static int dim_shown(const TsMatchingViewData *d, int dim) {
  return d->dims == 0 || (dim >= 0 && dim < 32 && (d->dims & (1u << dim)));
}

static void range_of(const TsDiagram *g, const TsMatchingViewData *d, double *lo, double *hi) {
  if (!g) return;
  for (size_t i = 0; i < g->n; i++) {
    const TsPair *p = &g->pairs[i];
    if (!dim_shown(d, p->dim)) continue;
    *lo = fmin(*lo, p->birth);
    *hi = fmax(*hi, p->birth);
    if (isfinite(p->death)) *lo = fmin(*lo, p->death), *hi = fmax(*hi, p->death);
  }
}

static void layout(const TsMatchingViewData *d, int w, int h, Layout *L) {
  memset(L, 0, sizeof *L);
  L->nframes = d->side_by_side ? 2 : 1;
  L->oy = d->title && *d->title ? TITLE_H : 0;
  L->fw = floor((double)w / L->nframes);
  L->fh = fmax(1.0, h - L->oy - LEGEND_H);
  /* one square range for both, so the same point sits at the same place */
  double lo = INFINITY, hi = -INFINITY;
  range_of(d->a, d, &lo, &hi);
  range_of(d->b, d, &lo, &hi);
  if (!(lo <= hi)) lo = 0, hi = 1;
  ts_plot_range_fix(&lo, &hi, 0.06, 0);
  for (int k = 0; k < L->nframes; k++) {
    TsPlotFrame *f = &L->f[k];
    L->ox[k] = k * L->fw;
    ts_plot_frame_layout(f, (int)L->fw, (int)L->fh, d->side_by_side);
    f->left += L->ox[k];
    f->top += L->oy;
    L->inf_y[k] = f->top + TS_DIAGRAM_INF_LANE / 2;
    f->top += TS_DIAGRAM_INF_LANE;
    f->height = fmax(1.0, f->height - TS_DIAGRAM_INF_LANE);
    f->x0 = f->y0 = lo;
    f->x1 = f->y1 = hi;
  }
  if (L->nframes == 1) L->f[1] = L->f[0], L->inf_y[1] = L->inf_y[0], L->ox[1] = L->ox[0];
}

static void pair_pos(const Layout *L, int k, const TsPair *p, double *x, double *y) {
  *x = ts_plot_frame_x(&L->f[k], p->birth);
  *y = isfinite(p->death) ? ts_plot_frame_y(&L->f[k], p->death) : L->inf_y[k];
}

/* The nearest point of the diagonal in the L-inf (and L2) sense. */
static void diag_pos(const Layout *L, int k, const TsPair *p, double *x, double *y) {
  double m = isfinite(p->death) ? (p->birth + p->death) / 2 : p->birth;
  *x = ts_plot_frame_x(&L->f[k], m);
  *y = ts_plot_frame_y(&L->f[k], m);
}

static int edge_dim(const TsMatchingViewData *d, const TsMatchEdge *e) {
  if (e->a >= 0 && d->a && (size_t)e->a < d->a->n) return d->a->pairs[e->a].dim;
  if (e->b >= 0 && d->b && (size_t)e->b < d->b->n) return d->b->pairs[e->b].dim;
  return -1;
}

static gboolean ends(const TsMatchingViewData *d, const Layout *L, size_t i, double *ax, double *ay, double *bx,
                     double *by) {
  if (!d->m || i >= d->m->n) return FALSE;
  const TsMatchEdge *e = &d->m->edges[i];
  int dim = edge_dim(d, e);
  if (dim < 0 || !dim_shown(d, dim)) return FALSE;
  const TsPair *pa = e->a >= 0 ? &d->a->pairs[e->a] : NULL, *pb = e->b >= 0 ? &d->b->pairs[e->b] : NULL;
  if (pa) pair_pos(L, 0, pa, ax, ay);
  else diag_pos(L, 1, pb, ax, ay); /* B's point goes to the diagonal of its own frame */
  if (pb) pair_pos(L, 1, pb, bx, by);
  else diag_pos(L, 0, pa, bx, by);
  return TRUE;
}

gboolean ts_matching_view_edge_ends(const TsMatchingViewData *d, int w, int h, size_t e, double *ax, double *ay,
                                    double *bx, double *by) {
  Layout L;
  layout(d, w, h, &L);
  return ends(d, &L, e, ax, ay, bx, by);
}

static double seg_dist(double x, double y, double ax, double ay, double bx, double by) {
  double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
  double t = l2 > 0 ? ((x - ax) * dx + (y - ay) * dy) / l2 : 0;
  t = t < 0 ? 0 : t > 1 ? 1 : t;
  return hypot(x - ax - t * dx, y - ay - t * dy);
}

long ts_matching_view_edge_at(const TsMatchingViewData *d, int w, int h, double x, double y, double radius) {
  Layout L;
  layout(d, w, h, &L);
  long best = -1;
  double bd = radius;
  for (size_t i = 0; d->m && i < d->m->n; i++) {
    double ax, ay, bx, by;
    if (!ends(d, &L, i, &ax, &ay, &bx, &by)) continue;
    /* ends count double: a click on a point picks its edge even among crossings */
    double dist = fmin(seg_dist(x, y, ax, ay, bx, by), 0.5 * fmin(hypot(x - ax, y - ay), hypot(x - bx, y - by)));
    if (dist <= bd) bd = dist, best = (long)i;
  }
  return best;
}

static void draw_frame(cairo_t *cr, const Layout *L, int k, const char *title) {
  TsPlotFrame f = L->f[k];
  double lane_top = f.top - TS_DIAGRAM_INF_LANE;
  cairo_save(cr);
  cairo_translate(cr, L->ox[k], L->oy);
  f.left -= L->ox[k];
  f.top -= L->oy;
  ts_plot_draw_axes(cr, &f, title, "birth", "death");
  cairo_restore(cr);
  f = L->f[k];
  cairo_save(cr);
  ts_plot_ink(cr, 0.04);
  cairo_rectangle(cr, f.left, lane_top, f.width, TS_DIAGRAM_INF_LANE);
  cairo_fill(cr);
  ts_plot_ink(cr, 0.45);
  cairo_set_line_width(cr, 1);
  cairo_rectangle(cr, round(f.left) + 0.5, round(lane_top) + 0.5, round(f.width), round(TS_DIAGRAM_INF_LANE));
  cairo_stroke(cr);
  ts_plot_ink(cr, 0.75);
  ts_plot_text(cr, f.left - 5, L->inf_y[k], "∞", 1.0, 0.5, TS_PLOT_FONT_SIZE + 2, 0);
  cairo_rectangle(cr, f.left, lane_top, f.width, f.height + TS_DIAGRAM_INF_LANE);
  cairo_clip(cr);
  cairo_set_source_rgba(cr, 0.25, 0.25, 0.25, 0.9);
  cairo_set_line_width(cr, 1.5);
  cairo_move_to(cr, ts_plot_frame_x(&f, f.x0), ts_plot_frame_y(&f, f.y0));
  cairo_line_to(cr, ts_plot_frame_x(&f, f.x1), ts_plot_frame_y(&f, f.y1));
  cairo_stroke(cr);
  cairo_restore(cr);
}

static void draw_points(cairo_t *cr, const TsMatchingViewData *d, const Layout *L, const TsDiagram *g, int k,
                        int ring) {
  if (!g) return;
  double r = g->n > 2000 ? 2.0 : 3.5;
  cairo_set_line_width(cr, 1.6);
  for (size_t i = 0; i < g->n; i++) {
    const TsPair *p = &g->pairs[i];
    if (!dim_shown(d, p->dim)) continue;
    double x, y, rgb[3];
    pair_pos(L, k, p, &x, &y);
    ts_plot_dim_color(p->dim, rgb);
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, r, 0, 2 * M_PI);
    if (ring) {
      paper(cr);
      cairo_fill_preserve(cr);
      cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
      cairo_stroke(cr);
    } else {
      cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
      cairo_fill(cr);
    }
  }
}

static void draw_edge(cairo_t *cr, const TsMatchingViewData *d, const Layout *L, size_t i, double width,
                      const double rgba[4]) {
  double ax, ay, bx, by;
  if (!ends(d, L, i, &ax, &ay, &bx, &by)) return;
  const TsMatchEdge *e = &d->m->edges[i];
  double dash[2] = {3, 3};
  cairo_set_dash(cr, dash, e->a < 0 || e->b < 0 ? 2 : 0, 0);
  cairo_set_source_rgba(cr, rgba[0], rgba[1], rgba[2], rgba[3]);
  cairo_set_line_width(cr, width);
  cairo_move_to(cr, ax, ay);
  cairo_line_to(cr, bx, by);
  cairo_stroke(cr);
  cairo_set_dash(cr, NULL, 0, 0);
}

static void legend(cairo_t *cr, const TsMatchingViewData *d, int w, int h, long longest) {
  double y = h - LEGEND_H / 2, x = 12;
  double rgb[3];
  ts_plot_dim_color(0, rgb);
  cairo_save(cr);
  cairo_set_line_width(cr, 1.6);
  cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
  cairo_new_path(cr);
  cairo_arc(cr, x + 4, y, 3.5, 0, 2 * M_PI);
  cairo_fill(cr);
  ts_plot_ink(cr, 0.85);
  char buf[160];
  snprintf(buf, sizeof buf, "%s", d->label_a ? d->label_a : "A");
  x += 12 + ts_plot_text(cr, x + 12, y, buf, 0, 0.5, TS_PLOT_FONT_SIZE - 1, 0) + 14;
  cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
  cairo_new_path(cr);
  cairo_arc(cr, x + 4, y, 3.5, 0, 2 * M_PI);
  cairo_stroke(cr);
  ts_plot_ink(cr, 0.85);
  snprintf(buf, sizeof buf, "%s", d->label_b ? d->label_b : "B");
  x += 12 + ts_plot_text(cr, x + 12, y, buf, 0, 0.5, TS_PLOT_FONT_SIZE - 1, 0) + 14;
  /* the line styles */
  cairo_set_source_rgba(cr, 0.3, 0.3, 0.3, 0.8);
  cairo_set_line_width(cr, 1.2);
  cairo_move_to(cr, x, y);
  cairo_line_to(cr, x + 18, y);
  cairo_stroke(cr);
  ts_plot_ink(cr, 0.85);
  x += 22 + ts_plot_text(cr, x + 22, y, "matched", 0, 0.5, TS_PLOT_FONT_SIZE - 1, 0) + 14;
  double dash[2] = {3, 3};
  cairo_set_dash(cr, dash, 2, 0);
  cairo_set_source_rgba(cr, 0.3, 0.3, 0.3, 0.8);
  cairo_move_to(cr, x, y);
  cairo_line_to(cr, x + 18, y);
  cairo_stroke(cr);
  cairo_set_dash(cr, NULL, 0, 0);
  ts_plot_ink(cr, 0.85);
  x += 22 + ts_plot_text(cr, x + 22, y, "to the diagonal", 0, 0.5, TS_PLOT_FONT_SIZE - 1, 0) + 14;
  if (longest >= 0 && x < w - 120) {
    cairo_set_source_rgb(cr, 0.878, 0.106, 0.141);
    cairo_set_line_width(cr, 3);
    cairo_move_to(cr, x, y);
    cairo_line_to(cr, x + 18, y);
    cairo_stroke(cr);
    ts_plot_ink(cr, 0.85);
    char c[32];
    ts_plot_format(d->m->edges[longest].cost, c, sizeof c);
    snprintf(buf, sizeof buf, "longest edge (cost %s)", c);
    ts_plot_text(cr, x + 22, y, buf, 0, 0.5, TS_PLOT_FONT_SIZE - 1, 0);
  }
  cairo_restore(cr);
}

void ts_matching_view_draw(cairo_t *cr, const TsMatchingViewData *d, int w, int h) {
  Layout L;
  layout(d, w, h, &L);
  ts_plot_draw_background(cr, w, h);
  if (d->title && *d->title) {
    ts_plot_ink(cr, 0.9);
    ts_plot_text(cr, 12, 6, d->title, 0, 0, TS_PLOT_FONT_SIZE + 1, 1);
  }
  if (L.nframes == 2) {
    draw_frame(cr, &L, 0, d->label_a ? d->label_a : "A");
    draw_frame(cr, &L, 1, d->label_b ? d->label_b : "B");
  } else {
    draw_frame(cr, &L, 0, NULL);
  }
  long longest = ts_matching_longest(d->m);
  if (longest >= 0 && !dim_shown(d, edge_dim(d, &d->m->edges[longest]))) {
    /* the longest of the dimensions shown */
    longest = -1;
    for (size_t e = 0; e < d->m->n; e++)
      if (dim_shown(d, edge_dim(d, &d->m->edges[e])) && (longest < 0 || d->m->edges[e].cost > d->m->edges[longest].cost))
        longest = (long)e;
  }
  cairo_save(cr);
  if (L.nframes == 1) { /* lines stay inside the one frame; side by side they cross the gap */
    cairo_rectangle(cr, L.f[0].left, L.f[0].top - TS_DIAGRAM_INF_LANE, L.f[0].width,
                    L.f[0].height + TS_DIAGRAM_INF_LANE);
    cairo_clip(cr);
  }
  /* plain edges in the ink colour, so they show on a dark card too */
  double plain[4] = {0.3, 0.3, 0.3, 0.45};
  if (ts_plot_get_dark()) plain[0] = plain[1] = plain[2] = 0.85, plain[3] = 0.4;
  for (size_t e = 0; d->m && e < d->m->n; e++)
    if ((long)e != longest && (long)e != d->selected) draw_edge(cr, d, &L, e, 1.2, plain);
  draw_points(cr, d, &L, d->a, 0, 0);
  draw_points(cr, d, &L, d->b, 1, 1);
  static const double red[4] = {0.878, 0.106, 0.141, 0.95}, sel[4] = {0.96, 0.76, 0.07, 0.95};
  if (longest >= 0) draw_edge(cr, d, &L, (size_t)longest, 3.0, red);
  if (d->selected >= 0 && d->m && (size_t)d->selected < d->m->n) draw_edge(cr, d, &L, (size_t)d->selected, 3.0, sel);
  if (longest >= 0) {
    double ax, ay, bx, by;
    if (ends(d, &L, (size_t)longest, &ax, &ay, &bx, &by)) {
      char c[32];
      ts_plot_format(d->m->edges[longest].cost, c, sizeof c);
      cairo_set_source_rgb(cr, 0.75, 0.08, 0.1);
      ts_plot_text(cr, (ax + bx) / 2 + 6, (ay + by) / 2, c, 0, 1.0, TS_PLOT_FONT_SIZE, 1);
    }
  }
  cairo_restore(cr);
  legend(cr, d, w, h, longest);
}

/* --- the widget ------------------------------------------------------------ */

struct _TsMatchingView {
  GtkWidget parent;
  TsDiagram a, b;
  TsMatching m;
  int side_by_side;
  unsigned dims;
  long selected;
  char *title, *label_a, *label_b;
  GskRenderNode *cache;
  int cache_w, cache_h, cache_dark;
};

G_DEFINE_FINAL_TYPE(TsMatchingView, ts_matching_view, GTK_TYPE_WIDGET)

enum { SIG_EDGE_SELECTED, N_SIGNALS };
static guint signals[N_SIGNALS];

static TsMatchingViewData view_data(TsMatchingView *self) {
  TsMatchingViewData d = {.a = &self->a,
                          .b = &self->b,
                          .m = &self->m,
                          .side_by_side = self->side_by_side,
                          .dims = self->dims,
                          .selected = self->selected,
                          .title = self->title,
                          .label_a = self->label_a,
                          .label_b = self->label_b};
  return d;
}

static void invalidate(TsMatchingView *self) {
  g_clear_pointer(&self->cache, gsk_render_node_unref);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void ts_matching_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  TsMatchingView *self = TS_MATCHING_VIEW(widget);
  int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  if (w <= 0 || h <= 0) return;
  int dark = ts_plot_widget_is_dark(widget);
  ts_plot_set_dark(dark);
  if (!self->cache || self->cache_w != w || self->cache_h != h || self->cache_dark != dark) {
    g_clear_pointer(&self->cache, gsk_render_node_unref);
    GtkSnapshot *s = gtk_snapshot_new();
    cairo_t *cr = gtk_snapshot_append_cairo(s, &GRAPHENE_RECT_INIT(0, 0, w, h));
    TsMatchingViewData d = view_data(self);
    ts_matching_view_draw(cr, &d, w, h);
    cairo_destroy(cr);
    self->cache = gtk_snapshot_free_to_node(s);
    self->cache_w = w, self->cache_h = h, self->cache_dark = dark;
  }
  if (self->cache) gtk_snapshot_append_node(snapshot, self->cache);
  ts_plot_set_dark(0);
}

static void ts_matching_view_measure(GtkWidget *w, GtkOrientation o, int for_size, int *min, int *nat, int *min_b,
                                     int *nat_b) {
  (void)for_size;
  TsMatchingView *self = TS_MATCHING_VIEW(w);
  *min = o == GTK_ORIENTATION_HORIZONTAL && self->side_by_side ? 360 : 200;
  *nat = o == GTK_ORIENTATION_HORIZONTAL && self->side_by_side ? 560 : 300;
  *min_b = *nat_b = -1;
}

static void ts_matching_view_size_allocate(GtkWidget *w, int width, int height, int baseline) {
  (void)width, (void)height, (void)baseline;
  ts_plot_export_allocate(w);
}

static void on_released(GtkGestureClick *g, int n_press, double x, double y, TsMatchingView *self) {
  (void)g, (void)n_press;
  TsMatchingViewData d = view_data(self);
  long e = ts_matching_view_edge_at(&d, gtk_widget_get_width(GTK_WIDGET(self)),
                                    gtk_widget_get_height(GTK_WIDGET(self)), x, y, 8);
  ts_matching_view_select(self, e, TRUE);
}

static void describe(char *buf, size_t n, const TsPair *p) {
  if (!p) snprintf(buf, n, "the diagonal");
  else if (isfinite(p->death)) snprintf(buf, n, "(%.4g, %.4g)", p->birth, p->death);
  else snprintf(buf, n, "(%.4g, ∞)", p->birth);
}

static gboolean on_query_tooltip(GtkWidget *w, int x, int y, gboolean kb, GtkTooltip *tip, gpointer data) {
  (void)kb, (void)data;
  TsMatchingView *self = TS_MATCHING_VIEW(w);
  TsMatchingViewData d = view_data(self);
  long e = ts_matching_view_edge_at(&d, gtk_widget_get_width(w), gtk_widget_get_height(w), x, y, 6);
  if (e < 0) return FALSE;
  const TsMatchEdge *me = &self->m.edges[e];
  char sa[64], sb[64];
  describe(sa, sizeof sa, me->a >= 0 ? &self->a.pairs[me->a] : NULL);
  describe(sb, sizeof sb, me->b >= 0 ? &self->b.pairs[me->b] : NULL);
  char *text = g_markup_printf_escaped("<b>H%d</b>  %s: %s\n%s: %s\ncost %.4g", edge_dim(&d, me),
                                       self->label_a ? self->label_a : "A", sa,
                                       self->label_b ? self->label_b : "B", sb, me->cost);
  gtk_tooltip_set_markup(tip, text);
  g_free(text);
  return TRUE;
}

static gboolean export_image(GtkWidget *w, const char *path, GError **error) {
  return ts_matching_view_export(TS_MATCHING_VIEW(w), path, 0, 0, error);
}
static gboolean export_csv(GtkWidget *w, const char *path, GError **error) {
  return ts_matching_view_export_csv(TS_MATCHING_VIEW(w), path, error);
}

static void ts_matching_view_dispose(GObject *o) {
  TsMatchingView *self = TS_MATCHING_VIEW(o);
  ts_plot_export_detach(GTK_WIDGET(self));
  g_clear_pointer(&self->cache, gsk_render_node_unref);
  G_OBJECT_CLASS(ts_matching_view_parent_class)->dispose(o);
}

static void ts_matching_view_finalize(GObject *o) {
  TsMatchingView *self = TS_MATCHING_VIEW(o);
  ts_diagram_clear(&self->a);
  ts_diagram_clear(&self->b);
  ts_matching_clear(&self->m);
  g_free(self->title);
  g_free(self->label_a);
  g_free(self->label_b);
  G_OBJECT_CLASS(ts_matching_view_parent_class)->finalize(o);
}

static void ts_matching_view_class_init(TsMatchingViewClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ts_matching_view_dispose;
  oc->finalize = ts_matching_view_finalize;
  wc->snapshot = ts_matching_view_snapshot;
  wc->measure = ts_matching_view_measure;
  wc->size_allocate = ts_matching_view_size_allocate;
  signals[SIG_EDGE_SELECTED] =
      g_signal_new("edge-selected", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  ts_plot_class_add_export(wc, export_image, export_csv);
  gtk_widget_class_set_css_name(wc, "matchingview");
  gtk_widget_class_set_accessible_role(wc, GTK_ACCESSIBLE_ROLE_IMG);
}

static void ts_matching_view_init(TsMatchingView *self) {
  GtkWidget *w = GTK_WIDGET(self);
  ts_diagram_init(&self->a);
  ts_diagram_init(&self->b);
  ts_matching_init(&self->m);
  self->selected = -1;
  self->side_by_side = 1;
  gtk_widget_set_has_tooltip(w, TRUE);
  g_signal_connect(w, "query-tooltip", G_CALLBACK(on_query_tooltip), NULL);
  GtkGesture *click = gtk_gesture_click_new();
  g_signal_connect(click, "released", G_CALLBACK(on_released), self);
  gtk_widget_add_controller(w, GTK_EVENT_CONTROLLER(click));
  ts_plot_export_attach(w);
}

GtkWidget *ts_matching_view_new(void) { return g_object_new(TS_TYPE_MATCHING_VIEW, NULL); }

void ts_matching_view_set(TsMatchingView *self, const TsDiagram *a, const TsDiagram *b, const TsMatching *m) {
  ts_diagram_clear(&self->a);
  ts_diagram_clear(&self->b);
  ts_matching_clear(&self->m);
  ts_diagram_init(&self->a);
  ts_diagram_init(&self->b);
  ts_matching_init(&self->m);
  if (a && ts_diagram_copy(&self->a, a, NULL) != TS_OK) ts_diagram_init(&self->a);
  if (b && ts_diagram_copy(&self->b, b, NULL) != TS_OK) ts_diagram_init(&self->b);
  if (m && m->n) {
    self->m.edges = g_malloc(m->n * sizeof *m->edges);
    memcpy(self->m.edges, m->edges, m->n * sizeof *m->edges);
    self->m.n = self->m.cap = m->n;
    /* edges naming pairs that are not there would be drawn out of bounds */
    size_t k = 0;
    for (size_t e = 0; e < m->n; e++) {
      const TsMatchEdge *me = &m->edges[e];
      if ((me->a < 0 && me->b < 0) || (me->a >= 0 && (size_t)me->a >= self->a.n) ||
          (me->b >= 0 && (size_t)me->b >= self->b.n))
        continue;
      self->m.edges[k++] = *me;
    }
    self->m.n = k;
  }
  self->selected = -1;
  invalidate(self);
}

void ts_matching_view_set_side_by_side(TsMatchingView *self, gboolean on) {
  self->side_by_side = !!on;
  gtk_widget_queue_resize(GTK_WIDGET(self));
  invalidate(self);
}

void ts_matching_view_set_dims(TsMatchingView *self, unsigned dims) {
  self->dims = dims;
  invalidate(self);
}

void ts_matching_view_set_title(TsMatchingView *self, const char *title) {
  g_free(self->title);
  self->title = g_strdup(title);
  invalidate(self);
}

void ts_matching_view_set_labels(TsMatchingView *self, const char *a, const char *b) {
  g_free(self->label_a);
  g_free(self->label_b);
  self->label_a = g_strdup(a);
  self->label_b = g_strdup(b);
  invalidate(self);
}

void ts_matching_view_select(TsMatchingView *self, long edge, gboolean emit) {
  if (edge < -1 || (edge >= 0 && (size_t)edge >= self->m.n)) edge = -1;
  self->selected = edge;
  invalidate(self);
  if (emit) g_signal_emit(self, signals[SIG_EDGE_SELECTED], 0);
}

long ts_matching_view_get_selected(TsMatchingView *self) { return self->selected; }
const TsMatching *ts_matching_view_get_matching(TsMatchingView *self) { return &self->m; }

gboolean ts_matching_view_export(TsMatchingView *self, const char *path, int w, int h, GError **error) {
  if (w <= 0 || h <= 0) {
    w = gtk_widget_get_width(GTK_WIDGET(self));
    h = gtk_widget_get_height(GTK_WIDGET(self));
    if (w <= 0 || h <= 0) w = 800, h = 420;
  }
  TsMatchingViewData d = view_data(self);
  return ts_plot_export_file((TsPlotDrawFn)ts_matching_view_draw, &d, w, h, path, error);
}

gboolean ts_matching_view_export_csv(TsMatchingView *self, const char *path, GError **error) {
  TsError err = {0};
  if (ts_matching_write_csv(path, &self->m, &self->a, &self->b, &err) != TS_OK) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
    return FALSE;
  }
  return TRUE;
}
