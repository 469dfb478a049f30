/* scatter-view.c — labelled 2D points and their widget. */
#include "plot/scatter-view.h"

#include <math.h>
#include <string.h>

#include "plot/plot-export.h"

void ts_scatter_color(int label, double rgb[3]) {
  /* ten distinguishable colours (GNOME palette and a few from Tableau) */
  static const double c[10][3] = {{0.208, 0.518, 0.894}, {0.902, 0.380, 0.000}, {0.180, 0.761, 0.494},
                                  {0.878, 0.106, 0.141}, {0.569, 0.255, 0.675}, {0.596, 0.416, 0.267},
                                  {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}, {0.737, 0.741, 0.133},
                                  {0.090, 0.745, 0.812}};
  int k = ((label % 10) + 10) % 10;
  memcpy(rgb, c[k], sizeof c[k]);
}

static void layout(const TsScatterViewData *d, int w, int h, TsPlotFrame *f) {
  memset(f, 0, sizeof *f);
  ts_plot_frame_layout(f, w, h, d->title && *d->title);
  f->width = fmax(1.0, f->width - 70); /* the legend's column */
  if (d->x0 < d->x1 && d->y0 < d->y1) {
    f->x0 = d->x0, f->x1 = d->x1, f->y0 = d->y0, f->y1 = d->y1;
    return;
  }
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (size_t i = 0; i < d->n; i++) {
    if (!isfinite(d->xy[2 * i]) || !isfinite(d->xy[2 * i + 1])) continue;
    x0 = fmin(x0, d->xy[2 * i]), x1 = fmax(x1, d->xy[2 * i]);
    y0 = fmin(y0, d->xy[2 * i + 1]), y1 = fmax(y1, d->xy[2 * i + 1]);
  }
  ts_plot_range_fix(&x0, &x1, 0.05, 0);
  ts_plot_range_fix(&y0, &y1, 0.05, 0);
  f->x0 = x0, f->x1 = x1, f->y0 = y0, f->y1 = y1;
}

long ts_scatter_view_pick(const TsScatterViewData *d, int w, int h, double px, double py, double radius) {
  TsPlotFrame f;
  layout(d, w, h, &f);
  long best = -1;
  double bd = radius;
  for (size_t i = 0; i < d->n; i++) {
    double dd = hypot(ts_plot_frame_x(&f, d->xy[2 * i]) - px, ts_plot_frame_y(&f, d->xy[2 * i + 1]) - py);
    if (dd <= bd) bd = dd, best = (long)i;
  }
  return best;
}

void ts_scatter_view_draw(cairo_t *cr, const TsScatterViewData *d, int w, int h) {
  TsPlotFrame f;
  layout(d, w, h, &f);
  ts_plot_draw_background(cr, w, h);
  ts_plot_draw_axes(cr, &f, d->title, d->xlabel, d->ylabel);
  int present[64] = {0};
  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.width, f.height);
  cairo_clip(cr);
  double r = d->n > 3000 ? 1.8 : 2.8;
  /* faded labels first, the highlighted one on top */
  for (int pass = 0; pass < 2; pass++)
    for (size_t i = 0; i < d->n; i++) {
      int lab = d->label ? d->label[i] : 0;
      if (lab >= 0 && lab < 64) present[lab] = 1;
      int on = d->highlight < 0 || lab == d->highlight;
      if (on != pass) continue;
      double rgb[3];
      ts_scatter_color(lab, rgb);
      cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], on ? 0.85 : 0.15);
      cairo_new_path(cr);
      cairo_arc(cr, ts_plot_frame_x(&f, d->xy[2 * i]), ts_plot_frame_y(&f, d->xy[2 * i + 1]), on && d->highlight >= 0 ? r + 0.8 : r, 0,
                2 * M_PI);
      cairo_fill(cr);
    }
  cairo_restore(cr);
  /* legend */
  double lx = f.left + f.width + 14, ly = f.top + 6;
  for (int lab = 0; lab < 64; lab++) {
    if (!present[lab]) continue;
    double rgb[3];
    ts_scatter_color(lab, rgb);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_new_path(cr);
    cairo_arc(cr, lx + 4, ly + 7, 4, 0, 2 * M_PI);
    cairo_fill(cr);
    ts_plot_ink(cr, d->highlight < 0 || d->highlight == lab ? 0.85 : 0.4);
    char buf[48];
    if (d->label_names && d->label_names[lab]) snprintf(buf, sizeof buf, "%s", d->label_names[lab]);
    else snprintf(buf, sizeof buf, "%d", lab);
    ts_plot_text(cr, lx + 12, ly + 7, buf, 0, 0.5, TS_PLOT_FONT_SIZE - 1, d->highlight == lab);
    ly += 16;
  }
}

/* --- the widget ------------------------------------------------------------ */

struct _TsScatterView {
  GtkWidget parent;
  double *xy;
  int32_t *label;
  size_t n;
  int highlight;
  double x0, x1, y0, y1;
  char *title, *xlabel, *ylabel;
};

G_DEFINE_FINAL_TYPE(TsScatterView, ts_scatter_view, GTK_TYPE_WIDGET)

enum { SIG_LABEL_PICKED, N_SIGNALS };
static guint signals[N_SIGNALS];

static TsScatterViewData view_data(TsScatterView *self) {
  TsScatterViewData d = {.xy = self->xy,
                         .label = self->label,
                         .n = self->n,
                         .highlight = self->highlight,
                         .x0 = self->x0,
                         .x1 = self->x1,
                         .y0 = self->y0,
                         .y1 = self->y1,
                         .title = self->title,
                         .xlabel = self->xlabel,
                         .ylabel = self->ylabel,
                         .label_names = NULL};
  return d;
}

static void ts_scatter_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  TsScatterView *self = TS_SCATTER_VIEW(widget);
  int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  if (w <= 0 || h <= 0) return;
  cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, w, h));
  ts_plot_set_dark(ts_plot_widget_is_dark(widget));
  TsScatterViewData d = view_data(self);
  ts_scatter_view_draw(cr, &d, w, h);
  ts_plot_set_dark(0);
  cairo_destroy(cr);
}

static void ts_scatter_view_measure(GtkWidget *w, GtkOrientation o, int for_size, int *min, int *nat, int *min_b,
                                    int *nat_b) {
  (void)w, (void)o, (void)for_size;
  *min = 200;
  *nat = 320;
  *min_b = *nat_b = -1;
}

static void ts_scatter_view_size_allocate(GtkWidget *w, int width, int height, int baseline) {
  (void)width, (void)height, (void)baseline;
  ts_plot_export_allocate(w);
}

static void on_released(GtkGestureClick *g, int n, double x, double y, TsScatterView *self) {
  (void)g, (void)n;
  TsScatterViewData d = view_data(self);
  long i = ts_scatter_view_pick(&d, gtk_widget_get_width(GTK_WIDGET(self)), gtk_widget_get_height(GTK_WIDGET(self)),
                                x, y, 8);
  g_signal_emit(self, signals[SIG_LABEL_PICKED], 0, i >= 0 && self->label ? (gint)self->label[i] : -1);
}

static gboolean on_query_tooltip(GtkWidget *w, int x, int y, gboolean kb, GtkTooltip *tip, gpointer data) {
  (void)kb, (void)data;
  TsScatterView *self = TS_SCATTER_VIEW(w);
  TsScatterViewData d = view_data(self);
  long i = ts_scatter_view_pick(&d, gtk_widget_get_width(w), gtk_widget_get_height(w), x, y, 6);
  if (i < 0) return FALSE;
  int lab = self->label ? self->label[i] : 0;
  char *text = g_strdup_printf("point %ld, class %d\n(%.4g, %.4g)", i, lab, self->xy[2 * i], self->xy[2 * i + 1]);
  gtk_tooltip_set_text(tip, text);
  g_free(text);
  return TRUE;
}

static gboolean export_image(GtkWidget *w, const char *path, GError **error) {
  return ts_scatter_view_export(TS_SCATTER_VIEW(w), path, 0, 0, error);
}

static gboolean export_csv(GtkWidget *w, const char *path, GError **error) {
  TsScatterView *self = TS_SCATTER_VIEW(w);
  GString *s = g_string_new("x,y,label\n");
  for (size_t i = 0; i < self->n; i++)
    g_string_append_printf(s, "%.17g,%.17g,%d\n", self->xy[2 * i], self->xy[2 * i + 1], self->label ? self->label[i] : 0);
  gboolean ok = g_file_set_contents(path, s->str, (gssize)s->len, error);
  g_string_free(s, TRUE);
  return ok;
}

static void ts_scatter_view_dispose(GObject *o) {
  ts_plot_export_detach(GTK_WIDGET(o));
  G_OBJECT_CLASS(ts_scatter_view_parent_class)->dispose(o);
}

static void ts_scatter_view_finalize(GObject *o) {
  TsScatterView *self = TS_SCATTER_VIEW(o);
  g_free(self->xy);
  g_free(self->label);
  g_free(self->title);
  g_free(self->xlabel);
  g_free(self->ylabel);
  G_OBJECT_CLASS(ts_scatter_view_parent_class)->finalize(o);
}

static void ts_scatter_view_class_init(TsScatterViewClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ts_scatter_view_dispose;
  oc->finalize = ts_scatter_view_finalize;
  wc->snapshot = ts_scatter_view_snapshot;
  wc->measure = ts_scatter_view_measure;
  wc->size_allocate = ts_scatter_view_size_allocate;
  signals[SIG_LABEL_PICKED] = g_signal_new("label-picked", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                           NULL, G_TYPE_NONE, 1, G_TYPE_INT);
  ts_plot_class_add_export(wc, export_image, export_csv);
  gtk_widget_class_set_css_name(wc, "scatterview");
  gtk_widget_class_set_accessible_role(wc, GTK_ACCESSIBLE_ROLE_IMG);
}

static void ts_scatter_view_init(TsScatterView *self) {
  self->highlight = -1;
  gtk_widget_set_has_tooltip(GTK_WIDGET(self), TRUE);
  g_signal_connect(self, "query-tooltip", G_CALLBACK(on_query_tooltip), NULL);
  GtkGesture *click = gtk_gesture_click_new();
  g_signal_connect(click, "released", G_CALLBACK(on_released), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));
  ts_plot_export_attach(GTK_WIDGET(self));
}

GtkWidget *ts_scatter_view_new(void) { return g_object_new(TS_TYPE_SCATTER_VIEW, NULL); }

void ts_scatter_view_set_points(TsScatterView *self, const double *xy, const int32_t *label, size_t n) {
  g_free(self->xy);
  g_free(self->label);
  self->xy = n ? g_memdup2(xy, n * 2 * sizeof *xy) : NULL;
  self->label = n && label ? g_memdup2(label, n * sizeof *label) : NULL;
  self->n = n;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

size_t ts_scatter_view_get_n(TsScatterView *self) { return self->n; }

void ts_scatter_view_set_labels(TsScatterView *self, const char *title, const char *xlabel, const char *ylabel) {
  g_free(self->title), g_free(self->xlabel), g_free(self->ylabel);
  self->title = g_strdup(title), self->xlabel = g_strdup(xlabel), self->ylabel = g_strdup(ylabel);
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void ts_scatter_view_set_highlight(TsScatterView *self, int label) {
  self->highlight = label;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void ts_scatter_view_set_range(TsScatterView *self, double x0, double x1, double y0, double y1) {
  self->x0 = x0, self->x1 = x1, self->y0 = y0, self->y1 = y1;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

gboolean ts_scatter_view_export(TsScatterView *self, const char *path, int w, int h, GError **error) {
  if (w <= 0 || h <= 0) {
    w = gtk_widget_get_width(GTK_WIDGET(self));
    h = gtk_widget_get_height(GTK_WIDGET(self));
    if (w <= 0 || h <= 0) w = 640, h = 480;
  }
  TsScatterViewData d = view_data(self);
  return ts_plot_export_file((TsPlotDrawFn)ts_scatter_view_draw, &d, w, h, path, error);
}
