/* compare-view.c — two images, two diagrams, their matching (worker + view). */
#include "compare-view.h"

#include <math.h>
#include <string.h>

#include "ph/bottleneck.h"
#include "ph/wasserstein.h"
#include "plot/plot-common.h"

/* W2 between image diagrams of thousands of pairs: the exact Hungarian
 * method is cubic, so the auction solver runs to within this factor of the
 * optimal cost (the distance is then within its square root). */
#define W2_RELATIVE_ERROR 0.01

struct _TsCompareView {
  GtkBox parent;
  GtkWidget *metric_drop, *dim_drop, *layout_drop, *summary_label, *spinner;
  GtkWidget *image_view[2], *matching_view;
  TsImage second;
  char *second_name, *second_path;
  /* what is shown */
  TsImage image[2];
  int same_size[2];
  TsDiagram diagram[2];
  TsMatching matching;
  double distance;
  /* the last request's inputs, to recompute when the metric changes */
  TsImage last_a;
  char *last_name_a;
  TsFiltrationOptions fo;
  TsCubicalOptions co;
  int have_last;
  GCancellable *cancel;
  guint in_flight, generation;
};

G_DEFINE_FINAL_TYPE(TsCompareView, ts_compare_view, GTK_TYPE_BOX)

enum { PROP_0, PROP_BUSY, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { SIG_MESSAGE, N_SIGNALS };
static guint signals[N_SIGNALS];

/* --- the worker ------------------------------------------------------------ */

typedef struct {
  TsImage img[2];
  char *path_b;
  TsFiltrationOptions fo;
  TsCubicalOptions co;
  TsCompareMetric metric;
  int dim;
} Request;

typedef struct {
  TsImage img[2];
  int same_size[2];
  TsDiagram diagram[2];
  TsMatching matching;
  double distance, seconds;
  int loaded_b; /* img[1] was read from path_b */
} Result;

static void request_free(gpointer p) {
  Request *r = p;
  ts_image_clear(&r->img[0]);
  ts_image_clear(&r->img[1]);
  g_free(r->path_b);
  g_free(r);
}

static void result_free(gpointer p) {
  Result *r = p;
  for (int k = 0; k < 2; k++) {
    ts_image_clear(&r->img[k]);
    ts_diagram_clear(&r->diagram[k]);
  }
  ts_matching_clear(&r->matching);
  g_free(r);
}

static void set_stop_flag(GCancellable *cancel, gpointer flag) {
  (void)cancel;
  *(volatile int *)flag = 1;
}

static void worker(GTask *task, gpointer source, gpointer data, GCancellable *cancel) {
  (void)source;
  Request *rq = data;
  Result *r = g_new0(Result, 1);
  TsError err = {0};
  gint64 t0 = g_get_monotonic_time();
  ts_diagram_init(&r->diagram[0]);
  ts_diagram_init(&r->diagram[1]);
  ts_matching_init(&r->matching);
  r->img[0] = rq->img[0];
  memset(&rq->img[0], 0, sizeof rq->img[0]);
  if (rq->path_b) {
    if (ts_image_load(rq->path_b, &r->img[1], &err) != TS_OK) goto fail;
    r->loaded_b = 1;
  } else {
    r->img[1] = rq->img[1];
    memset(&rq->img[1], 0, sizeof rq->img[1]);
  }
  int stop = 0;
  rq->co.cancel = &stop;
  rq->co.pool = NULL;
  gulong handler = g_cancellable_connect(cancel, G_CALLBACK(set_stop_flag), &stop, NULL);
  TsStatus st = TS_OK;
  for (int k = 0; k < 2 && st == TS_OK; k++) {
    double *field = NULL;
    int fw, fh, constant = 0;
    st = ts_filtration_apply(&r->img[k], &rq->fo, &field, &fw, &fh, &constant, &err);
    if (st != TS_OK) break;
    r->same_size[k] = fw == r->img[k].width && fh == r->img[k].height;
    if (!constant) {
      size_t shape[2] = {(size_t)fh, (size_t)fw};
      st = ts_cubical_ph(field, 2, shape, &rq->co, &r->diagram[k], &err);
    }
    free(field);
  }
  g_cancellable_disconnect(cancel, handler);
  if (st == TS_ERR_CANCELLED || g_cancellable_is_cancelled(cancel)) goto cancelled;
  if (st != TS_OK) goto fail;
  if (rq->metric == TS_COMPARE_W2) {
    TsWassersteinOptions wo;
    ts_wasserstein_options_default(&wo);
    wo.p = 2;
    wo.relative_error = W2_RELATIVE_ERROR;
    st = ts_wasserstein_distance(&r->diagram[0], &r->diagram[1], rq->dim, &wo, &r->distance, &r->matching, &err);
  } else {
    st = ts_bottleneck_distance(&r->diagram[0], &r->diagram[1], rq->dim, &r->distance, &r->matching, &err);
  }
  if (st != TS_OK) goto fail;
  r->seconds = (double)(g_get_monotonic_time() - t0) / 1e6;
  g_task_return_pointer(task, r, result_free);
  return;
fail:
  g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
  result_free(r);
  return;
cancelled:
  g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "superseded");
  result_free(r);
}

/* --- showing ---------------------------------------------------------------- */

static void set_busy(TsCompareView *self, int delta) {
  gboolean was = self->in_flight > 0;
  self->in_flight = (guint)((int)self->in_flight + delta);
  gboolean now = self->in_flight > 0;
  if (now) gtk_spinner_start(GTK_SPINNER(self->spinner));
  else gtk_spinner_stop(GTK_SPINNER(self->spinner));
  if (was != now) g_object_notify_by_pspec(G_OBJECT(self), props[PROP_BUSY]);
}

static void add_markers(GArray *m, const TsPair *p, const double rgb[3]) {
  TsHeatmapMarker mk = {0};
  memcpy(mk.rgb, rgb, sizeof mk.rgb);
  if (p->birth_at[0] >= 0) {
    mk.row = p->birth_at[0], mk.col = p->birth_at[1], mk.shape = TS_MARKER_BIRTH;
    g_array_append_val(m, mk);
  }
  if (p->death_at[0] >= 0) {
    mk.row = p->death_at[0], mk.col = p->death_at[1], mk.shape = TS_MARKER_DEATH;
    g_array_append_val(m, mk);
  }
}

static int cmp_cost_desc(const void *x, const void *y, void *data) {
  const TsMatching *m = data;
  double a = m->edges[*(const size_t *)x].cost, b = m->edges[*(const size_t *)y].cost;
  return (a < b) - (a > b);
}

/* The selected edge alone, or the costliest edges (an edge to the diagonal
 * marks its one class; diagonal pairs of cost 0 are left out). */
static void update_markers(TsCompareView *self) {
  GArray *mk[2] = {g_array_new(FALSE, TRUE, sizeof(TsHeatmapMarker)), g_array_new(FALSE, TRUE, sizeof(TsHeatmapMarker))};
  long sel = ts_matching_view_get_selected(TS_MATCHING_VIEW(self->matching_view));
  size_t *order = g_new(size_t, self->matching.n + 1), n = 0;
  if (sel >= 0 && (size_t)sel < self->matching.n) {
    order[n++] = (size_t)sel;
  } else {
    for (size_t e = 0; e < self->matching.n; e++)
      if (self->matching.edges[e].cost > 0) order[n++] = e;
    g_qsort_with_data(order, (gint)n, sizeof *order, cmp_cost_desc, &self->matching);
    if (n > TS_COMPARE_MARKED) n = TS_COMPARE_MARKED;
  }
  for (size_t k = 0; k < n; k++) {
    const TsMatchEdge *e = &self->matching.edges[order[k]];
    double rgb[3];
    ts_plot_series_color((int)k, rgb);
    if (sel >= 0) rgb[0] = 0.96, rgb[1] = 0.76, rgb[2] = 0.07; /* the selection colour of the matching view */
    if (e->a >= 0) add_markers(mk[0], &self->diagram[0].pairs[e->a], rgb);
    if (e->b >= 0) add_markers(mk[1], &self->diagram[1].pairs[e->b], rgb);
  }
  for (int k = 0; k < 2; k++) {
    ts_heatmap_view_set_markers(TS_HEATMAP_VIEW(self->image_view[k]),
                                (const TsHeatmapMarker *)(void *)mk[k]->data, self->same_size[k] ? mk[k]->len : 0);
    g_array_unref(mk[k]);
  }
  g_free(order);
}

static const char *metric_name(TsCompareView *self) {
  return gtk_drop_down_get_selected(GTK_DROP_DOWN(self->metric_drop)) == 1 ? "Wasserstein W₂" : "Bottleneck";
}

static int selected_dim(TsCompareView *self) {
  guint s = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->dim_drop));
  return s == 0 ? 0 : s == 1 ? 1 : -1;
}

static void show_summary(TsCompareView *self, double seconds) {
  int dim = selected_dim(self);
  char dims[16];
  if (dim >= 0) snprintf(dims, sizeof dims, "H%d", dim);
  else snprintf(dims, sizeof dims, "H0 and H1");
  size_t na = 0, nb = 0;
  for (size_t i = 0; i < self->diagram[0].n; i++) na += dim < 0 || self->diagram[0].pairs[i].dim == dim;
  for (size_t i = 0; i < self->diagram[1].n; i++) nb += dim < 0 || self->diagram[1].pairs[i].dim == dim;
  long sel = ts_matching_view_get_selected(TS_MATCHING_VIEW(self->matching_view));
  gboolean bott = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->metric_drop)) == 0;
  char *marks = sel >= 0 ? g_strdup_printf("The chosen pair is marked on both images (click empty space to go back).")
                         : g_strdup_printf("The %d costliest edges are marked on the images (rings: births, crosses: "
                                           "deaths; same colour = matched). Click a line to mark its pair alone.%s",
                                           TS_COMPARE_MARKED,
                                           bott ? " The bottleneck only needs its longest edge: the others may "
                                                  "go to the diagonal."
                                                : "");
  char *text = g_markup_printf_escaped("<b>%s distance (%s) = %.4g</b>%s   ·   %zu vs %zu classes, %.2f s\n%s",
                                       metric_name(self), dims, self->distance,
                                       gtk_drop_down_get_selected(GTK_DROP_DOWN(self->metric_drop)) == 1
                                           ? " (within 0.5%)"
                                           : "",
                                       na, nb, seconds, marks);
  gtk_label_set_markup(GTK_LABEL(self->summary_label), text);
  g_free(text);
  g_free(marks);
}

static void show_image(TsCompareView *self, int k, const char *name) {
  ts_heatmap_view_set_image(TS_HEATMAP_VIEW(self->image_view[k]), self->image[k].pixels, self->image[k].width,
                            self->image[k].height, self->image[k].channels);
  char *t = g_strdup_printf("%s: %s", k ? "B" : "A", name ? name : "image");
  ts_heatmap_view_set_title(TS_HEATMAP_VIEW(self->image_view[k]), t);
  g_free(t);
}

static void done(GObject *source, GAsyncResult *res, gpointer user_data) {
  (void)user_data;
  TsCompareView *self = TS_COMPARE_VIEW(source);
  GError *error = NULL;
  Result *r = g_task_propagate_pointer(G_TASK(res), &error);
  if (!r) {
    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      /* a second image that cannot be read is dropped, not retried */
      if (self->second_path) ts_compare_view_clear_second(self);
      g_signal_emit(self, signals[SIG_MESSAGE], 0, error->message);
    }
    g_clear_error(&error);
    set_busy(self, -1);
    return;
  }
  if (r->loaded_b) {
    /* keep the loaded picture: later recomputes need no file */
    ts_image_clear(&self->second);
    if (ts_image_alloc(&self->second, r->img[1].width, r->img[1].height, r->img[1].channels, NULL) == TS_OK)
      memcpy(self->second.pixels, r->img[1].pixels,
             (size_t)r->img[1].width * r->img[1].height * r->img[1].channels);
    g_clear_pointer(&self->second_path, g_free);
  }
  for (int k = 0; k < 2; k++) {
    ts_image_clear(&self->image[k]);
    self->image[k] = r->img[k];
    memset(&r->img[k], 0, sizeof r->img[k]);
    self->same_size[k] = r->same_size[k];
    ts_diagram_clear(&self->diagram[k]);
    self->diagram[k] = r->diagram[k];
    ts_diagram_init(&r->diagram[k]);
  }
  ts_matching_clear(&self->matching);
  self->matching = r->matching;
  ts_matching_init(&r->matching);
  self->distance = r->distance;
  show_image(self, 0, self->last_name_a);
  show_image(self, 1, self->second_name);
  TsMatchingView *mv = TS_MATCHING_VIEW(self->matching_view);
  ts_matching_view_set(mv, &self->diagram[0], &self->diagram[1], &self->matching);
  int dim = selected_dim(self);
  ts_matching_view_set_dims(mv, dim >= 0 ? 1u << dim : 0);
  char *la = g_strdup_printf("A: %s", self->last_name_a ? self->last_name_a : "image");
  char *lb = g_strdup_printf("B: %s", self->second_name ? self->second_name : "image");
  ts_matching_view_set_labels(mv, la, lb);
  g_free(la);
  g_free(lb);
  update_markers(self);
  show_summary(self, r->seconds);
  self->generation++;
  result_free(r);
  set_busy(self, -1);
}

static void submit(TsCompareView *self) {
  if (!self->have_last || (!self->second.pixels && !self->second_path)) return;
  Request *rq = g_new0(Request, 1);
  if (ts_image_alloc(&rq->img[0], self->last_a.width, self->last_a.height, self->last_a.channels, NULL) != TS_OK) {
    g_free(rq);
    return;
  }
  memcpy(rq->img[0].pixels, self->last_a.pixels, (size_t)self->last_a.width * self->last_a.height * self->last_a.channels);
  if (self->second_path) {
    rq->path_b = g_strdup(self->second_path);
  } else if (ts_image_alloc(&rq->img[1], self->second.width, self->second.height, self->second.channels, NULL) ==
             TS_OK) {
    memcpy(rq->img[1].pixels, self->second.pixels,
           (size_t)self->second.width * self->second.height * self->second.channels);
  } else {
    request_free(rq);
    return;
  }
  rq->fo = self->fo;
  rq->co = self->co;
  rq->metric = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->metric_drop)) == 1 ? TS_COMPARE_W2 : TS_COMPARE_BOTTLENECK;
  rq->dim = selected_dim(self);
  if (self->cancel) g_cancellable_cancel(self->cancel);
  g_clear_object(&self->cancel);
  self->cancel = g_cancellable_new();
  GTask *task = g_task_new(self, self->cancel, done, NULL);
  g_task_set_task_data(task, rq, request_free);
  set_busy(self, +1);
  g_task_run_in_thread(task, worker);
  g_object_unref(task);
}

/* --- callbacks ------------------------------------------------------------- */

static void on_options(TsCompareView *self) { submit(self); }

static void on_layout(TsCompareView *self) {
  ts_matching_view_set_side_by_side(TS_MATCHING_VIEW(self->matching_view),
                                    gtk_drop_down_get_selected(GTK_DROP_DOWN(self->layout_drop)) == 0);
}

static void on_edge_selected(TsCompareView *self) {
  update_markers(self);
  show_summary(self, 0);
}

/* --- object ---------------------------------------------------------------- */

static void ts_compare_view_get_property(GObject *o, guint id, GValue *v, GParamSpec *ps) {
  TsCompareView *self = TS_COMPARE_VIEW(o);
  if (id == PROP_BUSY) g_value_set_boolean(v, self->in_flight > 0);
  else G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, ps);
}

static void ts_compare_view_dispose(GObject *o) {
  TsCompareView *self = TS_COMPARE_VIEW(o);
  if (self->cancel) g_cancellable_cancel(self->cancel);
  g_clear_object(&self->cancel);
  G_OBJECT_CLASS(ts_compare_view_parent_class)->dispose(o);
}

static void ts_compare_view_finalize(GObject *o) {
  TsCompareView *self = TS_COMPARE_VIEW(o);
  ts_image_clear(&self->second);
  ts_image_clear(&self->last_a);
  for (int k = 0; k < 2; k++) {
    ts_image_clear(&self->image[k]);
    ts_diagram_clear(&self->diagram[k]);
  }
  ts_matching_clear(&self->matching);
  g_free(self->second_name);
  g_free(self->second_path);
  g_free(self->last_name_a);
  G_OBJECT_CLASS(ts_compare_view_parent_class)->finalize(o);
}

static void ts_compare_view_class_init(TsCompareViewClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->get_property = ts_compare_view_get_property;
  oc->dispose = ts_compare_view_dispose;
  oc->finalize = ts_compare_view_finalize;
  props[PROP_BUSY] = g_param_spec_boolean("busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(oc, N_PROPS, props);
  signals[SIG_MESSAGE] = g_signal_new("message", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                      G_TYPE_NONE, 1, G_TYPE_STRING);
}

static GtkWidget *labelled(GtkWidget *box, const char *text, GtkWidget *w) {
  GtkWidget *l = gtk_label_new_with_mnemonic(text);
  gtk_label_set_mnemonic_widget(GTK_LABEL(l), w);
  gtk_box_append(GTK_BOX(box), l);
  gtk_box_append(GTK_BOX(box), w);
  return w;
}

static void ts_compare_view_init(TsCompareView *self) {
  GtkBox *box = GTK_BOX(self);
  gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing(box, 12);
  gtk_widget_set_margin_start(GTK_WIDGET(self), 12);
  gtk_widget_set_margin_end(GTK_WIDGET(self), 12);
  gtk_widget_set_margin_top(GTK_WIDGET(self), 12);
  gtk_widget_set_margin_bottom(GTK_WIDGET(self), 12);
  ts_diagram_init(&self->diagram[0]);
  ts_diagram_init(&self->diagram[1]);
  ts_matching_init(&self->matching);
  self->distance = NAN;

  GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 8);
  static const char *metrics[] = {"Bottleneck", "Wasserstein W₂", NULL};
  static const char *dims[] = {"H0 (components)", "H1 (holes)", "H0 and H1", NULL};
  static const char *layouts[] = {"Side by side", "Overlaid", NULL};
  self->metric_drop = labelled(bar, "_Distance", gtk_drop_down_new_from_strings(metrics));
  /* W2 first: images have many small classes, and the bottleneck matching
   * is one of many (any edge up to the distance will do), so it sends most of
   * them to the diagonal; W2's matching pairs classes the way one reads them */
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->metric_drop), 1);
  self->dim_drop = labelled(bar, "C_lasses", gtk_drop_down_new_from_strings(dims));
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->dim_drop), 1);
  self->layout_drop = labelled(bar, "La_yout", gtk_drop_down_new_from_strings(layouts));
  self->spinner = gtk_spinner_new();
  gtk_widget_set_hexpand(self->spinner, TRUE);
  gtk_widget_set_halign(self->spinner, GTK_ALIGN_END);
  gtk_box_append(GTK_BOX(bar), self->spinner);
  gtk_box_append(box, bar);
  g_signal_connect_swapped(self->metric_drop, "notify::selected", G_CALLBACK(on_options), self);
  g_signal_connect_swapped(self->dim_drop, "notify::selected", G_CALLBACK(on_options), self);
  g_signal_connect_swapped(self->layout_drop, "notify::selected", G_CALLBACK(on_layout), self);

  self->summary_label = gtk_label_new("Choose a second image to compare with.");
  gtk_label_set_xalign(GTK_LABEL(self->summary_label), 0);
  gtk_label_set_wrap(GTK_LABEL(self->summary_label), TRUE);
  gtk_box_append(box, self->summary_label);

  GtkWidget *grid = gtk_grid_new();
  gtk_grid_set_row_spacing(GTK_GRID(grid), 12);
  gtk_grid_set_column_spacing(GTK_GRID(grid), 12);
  gtk_grid_set_column_homogeneous(GTK_GRID(grid), TRUE);
  gtk_widget_set_vexpand(grid, TRUE);
  for (int k = 0; k < 2; k++) {
    self->image_view[k] = ts_heatmap_view_new();
    ts_heatmap_view_set_colorbar(TS_HEATMAP_VIEW(self->image_view[k]), FALSE);
    ts_heatmap_view_set_title(TS_HEATMAP_VIEW(self->image_view[k]), k ? "B" : "A");
    gtk_widget_add_css_class(self->image_view[k], "card");
    gtk_widget_add_css_class(self->image_view[k], "plot-card");
    gtk_widget_set_vexpand(self->image_view[k], TRUE);
    gtk_grid_attach(GTK_GRID(grid), self->image_view[k], k, 0, 1, 1);
  }
  self->matching_view = ts_matching_view_new();
  gtk_widget_add_css_class(self->matching_view, "card");
  gtk_widget_add_css_class(self->matching_view, "plot-card");
  gtk_widget_set_vexpand(self->matching_view, TRUE);
  ts_matching_view_set_dims(TS_MATCHING_VIEW(self->matching_view), 2);
  gtk_grid_attach(GTK_GRID(grid), self->matching_view, 0, 1, 2, 1);
  g_signal_connect_swapped(self->matching_view, "edge-selected", G_CALLBACK(on_edge_selected), self);
  gtk_box_append(box, grid);
}

GtkWidget *ts_compare_view_new(void) { return g_object_new(TS_TYPE_COMPARE_VIEW, NULL); }

void ts_compare_view_set_second_image(TsCompareView *self, const TsImage *img, const char *name) {
  ts_image_clear(&self->second);
  g_clear_pointer(&self->second_path, g_free);
  if (ts_image_alloc(&self->second, img->width, img->height, img->channels, NULL) != TS_OK) return;
  memcpy(self->second.pixels, img->pixels, (size_t)img->width * img->height * img->channels);
  g_free(self->second_name);
  self->second_name = g_strdup(name);
  submit(self);
}

void ts_compare_view_set_second_file(TsCompareView *self, const char *path) {
  ts_image_clear(&self->second);
  g_free(self->second_path);
  self->second_path = g_strdup(path);
  g_free(self->second_name);
  self->second_name = g_path_get_basename(path);
  submit(self);
}

gboolean ts_compare_view_has_second(TsCompareView *self) { return self->second.pixels || self->second_path; }

void ts_compare_view_clear_second(TsCompareView *self) {
  ts_image_clear(&self->second);
  g_clear_pointer(&self->second_path, g_free);
  g_clear_pointer(&self->second_name, g_free);
  if (self->cancel) g_cancellable_cancel(self->cancel);
}

const char *ts_compare_view_get_second_name(TsCompareView *self) { return self->second_name; }

void ts_compare_view_compute(TsCompareView *self, const TsImage *a, const char *name_a, const TsFiltrationOptions *fo,
                             const TsCubicalOptions *co) {
  ts_image_clear(&self->last_a);
  self->have_last = 0;
  if (ts_image_alloc(&self->last_a, a->width, a->height, a->channels, NULL) != TS_OK) return;
  memcpy(self->last_a.pixels, a->pixels, (size_t)a->width * a->height * a->channels);
  g_free(self->last_name_a);
  self->last_name_a = g_strdup(name_a);
  self->fo = *fo;
  self->co = *co;
  self->have_last = 1;
  submit(self);
}

void ts_compare_view_set_metric(TsCompareView *self, TsCompareMetric metric) {
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->metric_drop), metric == TS_COMPARE_W2 ? 1 : 0);
}

void ts_compare_view_set_dim(TsCompareView *self, int dim) {
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->dim_drop), dim == 0 ? 0 : dim == 1 ? 1 : 2);
}

gboolean ts_compare_view_is_busy(TsCompareView *self) { return self->in_flight > 0; }
guint ts_compare_view_get_generation(TsCompareView *self) { return self->generation; }
double ts_compare_view_get_distance(TsCompareView *self) { return self->distance; }
const TsDiagram *ts_compare_view_get_diagram(TsCompareView *self, int which) { return &self->diagram[which ? 1 : 0]; }
TsMatchingView *ts_compare_view_get_matching_view(TsCompareView *self) { return TS_MATCHING_VIEW(self->matching_view); }
TsHeatmapView *ts_compare_view_get_image_view(TsCompareView *self, int which) {
  return TS_HEATMAP_VIEW(self->image_view[which ? 1 : 0]);
}
