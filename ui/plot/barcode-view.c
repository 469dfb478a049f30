/* barcode-view.c — barcode plot and its widget. */
#include "plot/barcode-view.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plot/plot-export.h"

typedef struct {
  const TsDiagram *d;
  TsBarcodeSort sort;
} SortCtx;

static SortCtx *sort_ctx; /* qsort has no user pointer in C11; only touched on the main thread */

static int cmp_bar(const void *a, const void *b) {
  const TsPair *p = &sort_ctx->d->pairs[*(const size_t *)a], *q = &sort_ctx->d->pairs[*(const size_t *)b];
  if (p->dim != q->dim) return p->dim < q->dim ? -1 : 1;
  if (sort_ctx->sort == TS_BARCODE_SORT_LIFESPAN) {
    double lp = p->death - p->birth, lq = q->death - q->birth;
    if (lp != lq) return lp > lq ? -1 : 1;
  }
  if (p->birth != q->birth) return p->birth < q->birth ? -1 : 1;
  if (p->death != q->death) return p->death < q->death ? -1 : 1;
  return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

size_t *ts_barcode_order(const TsDiagram *d, TsBarcodeSort sort, unsigned dims, size_t *n) {
  size_t *order = g_new(size_t, d ? d->n + 1 : 1), k = 0;
  for (size_t i = 0; d && i < d->n; i++) {
    int dim = d->pairs[i].dim;
    if (dims == 0 || (dim >= 0 && dim < 32 && (dims & (1u << dim)))) order[k++] = i;
  }
  SortCtx ctx = {d, sort};
  sort_ctx = &ctx;
  qsort(order, k, sizeof *order, cmp_bar);
  sort_ctx = NULL;
  *n = k;
  return order;
}

static size_t bar_count(const TsBarcodeViewData *d) {
  return d->order ? d->n_order : d->diagram ? d->diagram->n : 0;
}

static size_t bar_index(const TsBarcodeViewData *d, size_t k) { return d->order ? d->order[k] : k; }

void ts_barcode_view_layout(const TsBarcodeViewData *d, int w, int h, TsPlotFrame *f) {
  memset(f, 0, sizeof *f);
  ts_plot_frame_layout(f, w, h, d->title && *d->title);
  size_t n = bar_count(d);
  f->y0 = 0, f->y1 = n > 0 ? (double)n : 1.0;
  if (d->x0 < d->x1) {
    f->x0 = d->x0, f->x1 = d->x1;
    return;
  }
  double lo = INFINITY, hi = -INFINITY;
  for (size_t k = 0; k < n; k++) {
    const TsPair *p = &d->diagram->pairs[bar_index(d, k)];
    lo = fmin(lo, p->birth);
    hi = fmax(hi, p->birth);
    if (isfinite(p->death)) hi = fmax(hi, p->death);
  }
  if (!(lo <= hi)) lo = 0, hi = 1;
  ts_plot_range_fix(&lo, &hi, 0.04, 0);
  f->x0 = lo, f->x1 = hi;
}

/* Bars thinner than a pixel: each pixel row gets the union of its bars'
 * spans, per dimension, from difference arrays (O(1) per bar, then one pass
 * over the rows) instead of one Cairo fill per bar. */
static void raster_bars(cairo_t *cr, const TsBarcodeViewData *d, const TsPlotFrame *f, int w, int h) {
  size_t n = bar_count(d);
  int x0 = (int)floor(f->left), y0 = (int)floor(f->top);
  int pw = (int)ceil(f->width) + 1, ph = (int)ceil(f->height);
  if (pw <= 0 || ph <= 0 || pw > w + 1 || ph > h) return;
  int32_t *diff = g_new0(int32_t, (size_t)4 * ph * (pw + 1));
  double bh = f->height / (double)n;
  for (size_t k = 0; k < n; k++) {
    size_t i = bar_index(d, k);
    const TsPair *p = &d->diagram->pairs[i];
    if (d->selected && d->selected[i]) continue; /* drawn on top afterwards */
    int dim = p->dim < 0 ? 0 : p->dim > 3 ? 3 : p->dim;
    int row = (int)((double)k * bh);
    if (row >= ph) row = ph - 1;
    double xa = ts_plot_frame_x(f, p->birth) - x0;
    double xb = isfinite(p->death) ? ts_plot_frame_x(f, p->death) - x0 : pw - 1;
    int a = (int)floor(fmax(0.0, xa)), b = (int)ceil(fmin((double)pw, xb));
    if (b <= a) b = a + 1; /* every bar shows at least one pixel */
    if (a >= pw) continue;
    int32_t *line = diff + ((size_t)dim * ph + row) * (pw + 1);
    line[a]++;
    line[b > pw ? pw : b]--;
  }
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, pw, ph);
  cairo_surface_flush(s);
  uint8_t *data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  for (int dim = 0; dim < 4; dim++) {
    double rgb[3];
    ts_plot_dim_color(dim, rgb);
    uint32_t c = 0xff000000u | (uint32_t)(rgb[0] * 255) << 16 | (uint32_t)(rgb[1] * 255) << 8 | (uint32_t)(rgb[2] * 255);
    for (int y = 0; y < ph; y++) {
      const int32_t *line = diff + ((size_t)dim * ph + y) * (pw + 1);
      uint32_t *px = (uint32_t *)(void *)(data + (size_t)y * stride);
      int32_t cover = 0;
      for (int x = 0; x < pw; x++) {
        cover += line[x];
        if (cover > 0) px[x] = c;
      }
    }
  }
  cairo_surface_mark_dirty(s);
  cairo_set_source_surface(cr, s, x0, y0);
  cairo_paint(cr);
  cairo_surface_destroy(s);
  g_free(diff);
}

void ts_barcode_view_draw_teaching(cairo_t *cr, const TsBarcodeViewData *d, int w, int h) {
  if (!isfinite(d->t)) return;
  TsPlotFrame f;
  ts_barcode_view_layout(d, w, h, &f);
  double tx = ts_plot_frame_x(&f, d->t);
  if (tx < f.left || tx > f.left + f.width) return;
  cairo_save(cr);
  cairo_set_source_rgba(cr, 0.6, 0.45, 0.0, 0.95);
  cairo_set_line_width(cr, 1.5);
  cairo_move_to(cr, tx, f.top);
  cairo_line_to(cr, tx, f.top + f.height);
  cairo_stroke(cr);
  cairo_restore(cr);
}

void ts_barcode_view_draw(cairo_t *cr, const TsBarcodeViewData *d, int w, int h) {
  TsPlotFrame f;
  ts_barcode_view_layout(d, w, h, &f);
  ts_plot_draw_background(cr, w, h);
  /* the y axis counts bars: no numeric grid, just the frame and x ticks */
  TsPlotFrame axes = f;
  axes.no_yticks = 1;
  ts_plot_draw_axes(cr, &axes, d->title, "filtration value", "bars");
  size_t n = bar_count(d);
  double bh = f.height / (double)(n > 0 ? n : 1);
  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.width, f.height);
  cairo_clip(cr);
  if (bh < 2.0) cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
  double gap = bh >= 4 ? bh * 0.25 : 0;
  int raster = bh < 1.0;
  if (raster) raster_bars(cr, d, &f, w, h);
  for (size_t k = 0; k < n; k++) {
    size_t i = bar_index(d, k);
    const TsPair *p = &d->diagram->pairs[i];
    if (raster && !(d->selected && d->selected[i])) continue;
    double rgb[3];
    ts_plot_dim_color(p->dim, rgb);
    double xa = ts_plot_frame_x(&f, p->birth);
    double xb = isfinite(p->death) ? ts_plot_frame_x(&f, p->death) : f.left + f.width - 1;
    double y = f.top + k * bh;
    int sel = d->selected && d->selected[i];
    if (sel) cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    else cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], 0.9);
    cairo_rectangle(cr, xa, y + gap / 2, fmax(1.0, xb - xa), fmax(1.0, bh - gap));
    cairo_fill(cr);
    if (!isfinite(p->death) && bh >= 4) { /* an arrow head: the class never dies */
      double cy = y + bh / 2, s = fmin(bh * 0.8, 8.0);
      cairo_move_to(cr, xb + 1, cy);
      cairo_line_to(cr, xb - s, cy - s / 2 - 1);
      cairo_line_to(cr, xb - s, cy + s / 2 + 1);
      cairo_close_path(cr);
      cairo_fill(cr);
    }
  }
  /* separators and labels between dimensions */
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT);
  int prev = -1;
  for (size_t k = 0; k < n; k++) {
    int dim = d->diagram->pairs[bar_index(d, k)].dim;
    if (dim == prev) continue;
    double y = f.top + k * bh;
    if (k > 0) {
      ts_plot_ink(cr, 0.3);
      cairo_set_line_width(cr, 1);
      cairo_move_to(cr, f.left, round(y) + 0.5);
      cairo_line_to(cr, f.left + f.width, round(y) + 0.5);
      cairo_stroke(cr);
    }
    char buf[16];
    snprintf(buf, sizeof buf, "H%d", dim);
    double rgb[3];
    ts_plot_dim_color(dim, rgb);
    cairo_set_source_rgb(cr, rgb[0] * 0.7, rgb[1] * 0.7, rgb[2] * 0.7);
    cairo_save(cr);
    cairo_reset_clip(cr); /* the label sits in the left margin, beside its group */
    ts_plot_text(cr, f.left - 6, y + 1, buf, 1.0, 0.0, TS_PLOT_FONT_SIZE, 1);
    cairo_restore(cr);
    prev = dim;
  }
  cairo_restore(cr);
  ts_barcode_view_draw_teaching(cr, d, w, h);
  if (n == 0) {
    ts_plot_ink(cr, 0.5);
    ts_plot_text(cr, f.left + f.width / 2, f.top + f.height / 2, "no bars", 0.5, 0.5, TS_PLOT_FONT_SIZE, 0);
  }
}

long ts_barcode_view_bar_at(const TsBarcodeViewData *d, int w, int h, double x, double y) {
  TsPlotFrame f;
  ts_barcode_view_layout(d, w, h, &f);
  size_t n = bar_count(d);
  if (!n || !ts_plot_frame_contains(&f, x, y)) return -1;
  size_t k = (size_t)((y - f.top) / (f.height / (double)n));
  if (k >= n) k = n - 1;
  return (long)bar_index(d, k);
}

/* ---------------------------------------------------------------------- */

struct _TsBarcodeView {
  GtkWidget parent;
  TsDiagram diagram;
  size_t *order, n_order;
  TsBarcodeSort sort;
  unsigned dims;
  uint8_t *selected;
  double t;
  char *title;
  GskRenderNode *cache;
  int cache_w, cache_h, cache_dark;
};

G_DEFINE_FINAL_TYPE(TsBarcodeView, ts_barcode_view, GTK_TYPE_WIDGET)

enum { SIG_SELECTION_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static TsBarcodeViewData view_data(TsBarcodeView *self) {
  TsBarcodeViewData d = {.diagram = &self->diagram,
                         .order = self->order,
                         .n_order = self->n_order,
                         .selected = self->selected,
                         .t = self->t,
                         .title = self->title};
  return d;
}

static void invalidate(TsBarcodeView *self) {
  g_clear_pointer(&self->cache, gsk_render_node_unref);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void reorder(TsBarcodeView *self) {
  g_free(self->order);
  self->order = ts_barcode_order(&self->diagram, self->sort, self->dims, &self->n_order);
  invalidate(self);
}

static void ts_barcode_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  TsBarcodeView *self = TS_BARCODE_VIEW(widget);
  int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  if (w <= 0 || h <= 0) return;
  int dark = ts_plot_widget_is_dark(widget);
  ts_plot_set_dark(dark);
  if (!self->cache || self->cache_w != w || self->cache_h != h || self->cache_dark != dark) {
    g_clear_pointer(&self->cache, gsk_render_node_unref);
    GtkSnapshot *s = gtk_snapshot_new();
    cairo_t *cr = gtk_snapshot_append_cairo(s, &GRAPHENE_RECT_INIT(0, 0, w, h));
    TsBarcodeViewData d = view_data(self);
    d.t = NAN; /* drawn over the cached plot, so t can move cheaply */
    ts_barcode_view_draw(cr, &d, w, h);
    cairo_destroy(cr);
    self->cache = gtk_snapshot_free_to_node(s);
    self->cache_w = w, self->cache_h = h, self->cache_dark = dark;
  }
  if (self->cache) gtk_snapshot_append_node(snapshot, self->cache);
  if (isfinite(self->t)) {
    cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
    TsBarcodeViewData d = view_data(self);
    ts_barcode_view_draw_teaching(cr, &d, w, h);
    cairo_destroy(cr);
  }
  ts_plot_set_dark(0);
}

static void ts_barcode_view_measure(GtkWidget *w, GtkOrientation o, int for_size, int *min, int *nat, int *min_b,
                                    int *nat_b) {
  (void)w, (void)o, (void)for_size;
  *min = 160;
  *nat = 260;
  *min_b = *nat_b = -1;
}

static void ts_barcode_view_size_allocate(GtkWidget *w, int width, int height, int baseline) {
  (void)width, (void)height, (void)baseline;
  ts_plot_export_allocate(w);
}

long ts_barcode_view_pick(TsBarcodeView *self, double x, double y) {
  TsBarcodeViewData d = view_data(self);
  return ts_barcode_view_bar_at(&d, gtk_widget_get_width(GTK_WIDGET(self)), gtk_widget_get_height(GTK_WIDGET(self)),
                                x, y);
}

static void on_released(GtkGestureClick *g, int n_press, double x, double y, TsBarcodeView *self) {
  (void)n_press;
  GdkModifierType mods = gtk_event_controller_get_current_event_state(GTK_EVENT_CONTROLLER(g));
  long i = ts_barcode_view_pick(self, x, y);
  if (!(mods & GDK_CONTROL_MASK)) memset(self->selected, 0, self->diagram.n);
  if (i >= 0) self->selected[i] ^= 1;
  invalidate(self);
  g_signal_emit(self, signals[SIG_SELECTION_CHANGED], 0);
}

static gboolean on_query_tooltip(GtkWidget *w, int x, int y, gboolean kb, GtkTooltip *tip, gpointer data) {
  (void)kb, (void)data;
  TsBarcodeView *self = TS_BARCODE_VIEW(w);
  long i = ts_barcode_view_pick(self, x, y);
  if (i < 0) return FALSE;
  const TsPair *p = &self->diagram.pairs[i];
  char *text = isfinite(p->death)
                   ? g_strdup_printf("<b>H%d</b>  [%.6g, %.6g)\nlifespan %.6g", p->dim, p->birth, p->death,
                                     p->death - p->birth)
                   : g_strdup_printf("<b>H%d</b>  [%.6g, ∞)\nessential", p->dim, p->birth);
  gtk_tooltip_set_markup(tip, text);
  g_free(text);
  return TRUE;
}

static gboolean export_image(GtkWidget *w, const char *path, GError **error) {
  return ts_barcode_view_export(TS_BARCODE_VIEW(w), path, 0, 0, error);
}
static gboolean export_csv(GtkWidget *w, const char *path, GError **error) {
  return ts_barcode_view_export_csv(TS_BARCODE_VIEW(w), path, error);
}

static void ts_barcode_view_dispose(GObject *o) {
  TsBarcodeView *self = TS_BARCODE_VIEW(o);
  ts_plot_export_detach(GTK_WIDGET(self));
  g_clear_pointer(&self->cache, gsk_render_node_unref);
  G_OBJECT_CLASS(ts_barcode_view_parent_class)->dispose(o);
}

static void ts_barcode_view_finalize(GObject *o) {
  TsBarcodeView *self = TS_BARCODE_VIEW(o);
  ts_diagram_clear(&self->diagram);
  g_free(self->order);
  g_free(self->selected);
  g_free(self->title);
  G_OBJECT_CLASS(ts_barcode_view_parent_class)->finalize(o);
}

static void ts_barcode_view_class_init(TsBarcodeViewClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ts_barcode_view_dispose;
  oc->finalize = ts_barcode_view_finalize;
  wc->snapshot = ts_barcode_view_snapshot;
  wc->measure = ts_barcode_view_measure;
  wc->size_allocate = ts_barcode_view_size_allocate;
  signals[SIG_SELECTION_CHANGED] =
      g_signal_new("selection-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  ts_plot_class_add_export(wc, export_image, export_csv);
  gtk_widget_class_set_css_name(wc, "barcodeview");
  gtk_widget_class_set_accessible_role(wc, GTK_ACCESSIBLE_ROLE_IMG);
}

static void ts_barcode_view_init(TsBarcodeView *self) {
  GtkWidget *w = GTK_WIDGET(self);
  ts_diagram_init(&self->diagram);
  self->t = NAN;
  self->selected = g_malloc0(1);
  self->order = g_new0(size_t, 1);
  gtk_widget_set_has_tooltip(w, TRUE);
  g_signal_connect(w, "query-tooltip", G_CALLBACK(on_query_tooltip), NULL);
  GtkGesture *click = gtk_gesture_click_new();
  g_signal_connect(click, "released", G_CALLBACK(on_released), self);
  gtk_widget_add_controller(w, GTK_EVENT_CONTROLLER(click));
  ts_plot_export_attach(w);
}

GtkWidget *ts_barcode_view_new(void) { return g_object_new(TS_TYPE_BARCODE_VIEW, NULL); }

void ts_barcode_view_set_diagram(TsBarcodeView *self, const TsDiagram *d) {
  ts_diagram_clear(&self->diagram);
  ts_diagram_init(&self->diagram);
  if (d && ts_diagram_copy(&self->diagram, d, NULL) != TS_OK) ts_diagram_init(&self->diagram);
  g_free(self->selected);
  self->selected = g_malloc0(self->diagram.n + 1);
  reorder(self);
}

void ts_barcode_view_set_sort(TsBarcodeView *self, TsBarcodeSort sort) {
  self->sort = sort;
  reorder(self);
}

void ts_barcode_view_set_dims(TsBarcodeView *self, unsigned dims) {
  self->dims = dims;
  reorder(self);
}

void ts_barcode_view_set_title(TsBarcodeView *self, const char *title) {
  g_free(self->title);
  self->title = g_strdup(title);
  invalidate(self);
}

void ts_barcode_view_set_t(TsBarcodeView *self, double t) {
  if (self->t == t || (isnan(self->t) && isnan(t))) return;
  self->t = t;
  gtk_widget_queue_draw(GTK_WIDGET(self)); /* the cached plot stays */
}

void ts_barcode_view_set_selected(TsBarcodeView *self, const uint8_t *flags, gboolean emit) {
  if (flags) memcpy(self->selected, flags, self->diagram.n);
  else memset(self->selected, 0, self->diagram.n);
  invalidate(self);
  if (emit) g_signal_emit(self, signals[SIG_SELECTION_CHANGED], 0);
}

const uint8_t *ts_barcode_view_get_selected(TsBarcodeView *self) { return self->selected; }

gboolean ts_barcode_view_export(TsBarcodeView *self, const char *path, int w, int h, GError **error) {
  if (w <= 0 || h <= 0) {
    w = gtk_widget_get_width(GTK_WIDGET(self));
    h = gtk_widget_get_height(GTK_WIDGET(self));
    if (w <= 0 || h <= 0) w = 640, h = 480;
  }
  TsBarcodeViewData d = view_data(self);
  return ts_plot_export_file((TsPlotDrawFn)ts_barcode_view_draw, &d, w, h, path, error);
}

gboolean ts_barcode_view_export_csv(TsBarcodeView *self, const char *path, GError **error) {
  GString *s = g_string_new("dim,birth,death,lifespan,selected\n");
  for (size_t k = 0; k < self->n_order; k++) {
    const TsPair *p = &self->diagram.pairs[self->order[k]];
    char dd[40] = "inf", ll[40] = "inf";
    if (isfinite(p->death)) {
      snprintf(dd, sizeof dd, "%.17g", p->death);
      snprintf(ll, sizeof ll, "%.17g", p->death - p->birth);
    }
    g_string_append_printf(s, "%d,%.17g,%s,%s,%d\n", p->dim, p->birth, dd, ll, self->selected[self->order[k]]);
  }
  gboolean ok = g_file_set_contents(path, s->str, (gssize)s->len, error);
  g_string_free(s, TRUE);
  return ok;
}
