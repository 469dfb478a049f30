/* latent-panel.c — the Latent panel: a VAE run's latent means, pictures,
 * BCE curves and class diagrams. */
#include "latent-panel.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "panel-layout.h"
#include "ph/bottleneck.h"
#include "ph/rips.h"
#include "plot/plot-common.h"
#include "run-follow.h"

static const char *const model_prefix[2] = {"vae", "topovae"};
static const char *const model_title[2] = {"VAE", "TopoVAE"};

/* --- PCA --------------------------------------------------------------------- */

/* Eigenvectors of a symmetric k x k matrix by cyclic Jacobi rotations
 * (k is the latent size, ~10): a is destroyed, v receives the vectors as
 * columns, w the eigenvalues. */
static void jacobi(double *a, size_t k, double *v, double *w) {
  for (size_t i = 0; i < k * k; i++) v[i] = 0;
  for (size_t i = 0; i < k; i++) v[i * k + i] = 1;
  for (int sweep = 0; sweep < 60; sweep++) {
    double off = 0;
    for (size_t p = 0; p < k; p++)
      for (size_t q = p + 1; q < k; q++) off += a[p * k + q] * a[p * k + q];
    if (off < 1e-22) break;
    for (size_t p = 0; p < k; p++)
      for (size_t q = p + 1; q < k; q++) {
        double apq = a[p * k + q];
        if (fabs(apq) < 1e-300) continue;
        double theta = (a[q * k + q] - a[p * k + p]) / (2 * apq);
        double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
        double c = 1 / sqrt(t * t + 1), s = t * c;
        for (size_t r = 0; r < k; r++) {
          double arp = a[r * k + p], arq = a[r * k + q];
          a[r * k + p] = c * arp - s * arq;
          a[r * k + q] = s * arp + c * arq;
        }
        for (size_t r = 0; r < k; r++) {
          double apr = a[p * k + r], aqr = a[q * k + r];
          a[p * k + r] = c * apr - s * aqr;
          a[q * k + r] = s * apr + c * aqr;
        }
        for (size_t r = 0; r < k; r++) {
          double vrp = v[r * k + p], vrq = v[r * k + q];
          v[r * k + p] = c * vrp - s * vrq;
          v[r * k + q] = s * vrp + c * vrq;
        }
      }
  }
  for (size_t i = 0; i < k; i++) w[i] = a[i * k + i];
}

void ts_latent_pca2(const double *x, size_t n, size_t dim, size_t stride, double *out) {
  if (n == 0 || dim == 0) return;
  double *mean = g_new0(double, dim), *cov = g_new0(double, dim * dim), *v = g_new(double, dim * dim),
         *w = g_new(double, dim);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < dim; j++) mean[j] += x[i * stride + j] / (double)n;
  for (size_t i = 0; i < n; i++)
    for (size_t a = 0; a < dim; a++)
      for (size_t b = a; b < dim; b++) cov[a * dim + b] += (x[i * stride + a] - mean[a]) * (x[i * stride + b] - mean[b]);
  for (size_t a = 0; a < dim; a++)
    for (size_t b = 0; b < a; b++) cov[a * dim + b] = cov[b * dim + a];
  jacobi(cov, dim, v, w);
  /* the two largest eigenvalues; each vector's largest entry positive, so
   * the picture does not flip between epochs for no reason */
  size_t c[2] = {0, dim > 1 ? 1 : 0};
  for (size_t i = 0; i < dim; i++)
    if (w[i] > w[c[0]]) c[0] = i;
  c[1] = c[0] == 0 && dim > 1 ? 1 : 0;
  for (size_t i = 0; i < dim; i++)
    if (i != c[0] && w[i] > w[c[1]]) c[1] = i;
  for (int k = 0; k < 2; k++) {
    size_t big = 0;
    for (size_t j = 0; j < dim; j++)
      if (fabs(v[j * dim + c[k]]) > fabs(v[big * dim + c[k]])) big = j;
    double sign = v[big * dim + c[k]] < 0 ? -1 : 1;
    for (size_t i = 0; i < n; i++) {
      double s = 0;
      for (size_t j = 0; j < dim; j++) s += (x[i * stride + j] - mean[j]) * v[j * dim + c[k]];
      out[2 * i + k] = dim > 1 || k == 0 ? sign * s : 0;
    }
  }
  g_free(mean), g_free(cov), g_free(v), g_free(w);
}

/* --- reading (on the reader's worker) -------------------------------------- */

typedef struct {
  size_t ne;
  int64_t *steps;        /* the steps the latent series were written at */
  size_t n[2], dim[2];   /* points and latent size per model (0: no series) */
  double *lat[2];        /* [epoch][n][dim + 1] as stored (class last) */
  GBytes **grid;         /* ne PNGs (NULL where none) */
  GArray *bce[4];        /* TsMetricRow: vae/bce, topovae/bce, vae/val_bce, topovae/val_bce */
} LData;

static void ldata_free(gpointer p) {
  LData *d = p;
  if (!d) return;
  g_free(d->steps);
  for (int m = 0; m < 2; m++) g_free(d->lat[m]);
  for (size_t e = 0; d->grid && e < d->ne; e++)
    if (d->grid[e]) g_bytes_unref(d->grid[e]);
  g_free(d->grid);
  for (int k = 0; k < 4; k++)
    if (d->bce[k]) g_array_unref(d->bce[k]);
  g_free(d);
}

static gpointer query(TsStore *s, gpointer data, GError **error) {
  int64_t run = *(gint64 *)data;
  LData *d = g_new0(LData, 1);
  int64_t *steps = NULL;
  size_t ns = 0;
  if (ts_store_series_steps(s, run, "topovae/latent", &steps, &ns, NULL) != TS_OK || ns == 0) {
    free(steps);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "run %lld has no latent means: train one with toposcope train --task vae --model topovae --lockstep",
                (long long)run);
    ldata_free(d);
    return NULL;
  }
  d->ne = ns;
  d->steps = g_memdup2(steps, ns * sizeof *steps);
  free(steps);
  for (int m = 0; m < 2; m++) {
    char name[32];
    snprintf(name, sizeof name, "%s/latent", model_prefix[m]);
    for (size_t e = 0; e < d->ne; e++) {
      double *v = NULL;
      int64_t rows, cols, got;
      if (ts_store_read_series(s, run, name, d->steps[e], &v, &rows, &cols, &got, NULL) != TS_OK || cols < 2) {
        free(v);
        continue;
      }
      if (!d->lat[m]) {
        d->n[m] = (size_t)rows, d->dim[m] = (size_t)cols - 1;
        d->lat[m] = g_new(double, d->ne * d->n[m] * (d->dim[m] + 1));
        for (size_t i = 0; i < d->ne * d->n[m] * (d->dim[m] + 1); i++) d->lat[m][i] = NAN;
      }
      if ((size_t)rows == d->n[m] && (size_t)cols == d->dim[m] + 1)
        memcpy(d->lat[m] + e * d->n[m] * (d->dim[m] + 1), v, (size_t)rows * cols * sizeof *v);
      free(v);
    }
  }
  d->grid = g_new0(GBytes *, d->ne);
  for (size_t e = 0; e < d->ne; e++) {
    void *blob = NULL;
    size_t bytes = 0;
    char type[64];
    if (ts_store_read_blob(s, run, "vae/grid", d->steps[e], &blob, &bytes, type, sizeof type, NULL, NULL) == TS_OK &&
        bytes > 0)
      d->grid[e] = g_bytes_new(blob, bytes);
    free(blob);
  }
  static const char *const metrics[4] = {"vae/bce", "topovae/bce", "vae/val_bce", "topovae/val_bce"};
  for (int k = 0; k < 4; k++) {
    int64_t cursor = 0;
    TsMetricRow *rows = NULL;
    size_t n = 0;
    d->bce[k] = g_array_new(FALSE, FALSE, sizeof(TsMetricRow));
    if (ts_store_read_metric(s, run, metrics[k], &cursor, &rows, &n, NULL) == TS_OK && n)
      g_array_append_vals(d->bce[k], rows, (guint)n);
    free(rows);
  }
  return d;
}

/* --- the class diagrams (a worker of its own) -------------------------------- */

typedef struct {
  double *pts[2];
  size_t n[2], dim[2];
} DReq;

typedef struct {
  TsDiagram d[2];
  TsMatching m;
  double dist;
} DRes;

static void dreq_free(gpointer p) {
  DReq *r = p;
  g_free(r->pts[0]), g_free(r->pts[1]);
  g_free(r);
}

static void dres_free(gpointer p) {
  DRes *r = p;
  ts_diagram_clear(&r->d[0]), ts_diagram_clear(&r->d[1]);
  ts_matching_clear(&r->m);
  g_free(r);
}

static void diagram_worker(GTask *task, gpointer src, gpointer data, GCancellable *cancel) {
  (void)src, (void)cancel;
  DReq *rq = data;
  DRes *r = g_new0(DRes, 1);
  ts_diagram_init(&r->d[0]), ts_diagram_init(&r->d[1]);
  ts_matching_init(&r->m);
  TsError err = {0};
  TsRipsOptions o;
  ts_rips_options_init(&o);
  o.maxdim = 1;
  for (int k = 0; k < 2; k++)
    if (rq->n[k] && ts_rips_ph_points(rq->pts[k], rq->n[k], rq->dim[k], &o, &r->d[k], &err) != TS_OK) {
      g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
      dres_free(r);
      return;
    }
  if (ts_bottleneck_distance(&r->d[0], &r->d[1], -1, &r->dist, &r->m, &err) != TS_OK) r->dist = NAN;
  g_task_return_pointer(task, r, dres_free);
}

/* --- the panel --------------------------------------------------------------- */

struct _TsLatentPanel {
  GtkBox parent;
  GtkWidget *run_row, *proj_row, *dx_spin, *dy_spin, *epoch_scale, *epoch_label, *class_row, *diagram_button;
  GtkWidget *stack, *status, *scatter[2], *grid_picture, *grid_caption, *bce_plot, *matching;
  TsRunFollower *follow; /* the run shown, its picker, and its LData */
  int epoch, proj, dx, dy, label;
  double *shown[2];
  GCancellable *dcancel;
  gboolean syncing;
  guint dgeneration;
};

G_DEFINE_FINAL_TYPE(TsLatentPanel, ts_latent_panel, GTK_TYPE_BOX)

enum { SIG_MESSAGE, N_SIGNALS };
static guint signals[N_SIGNALS];

/* The followed run's data (NULL: none yet, or the panel is being disposed). */
static LData *run_data(TsLatentPanel *self) { return self->follow ? ts_run_follower_get_result(self->follow) : NULL; }

static const double *epoch_rows(TsLatentPanel *self, int m) {
  LData *d = run_data(self);
  if (!d || !d->lat[m] || !d->ne) return NULL;
  int e = CLAMP(self->epoch, 0, (int)d->ne - 1);
  return d->lat[m] + (size_t)e * d->n[m] * (d->dim[m] + 1);
}

static void show_scatter(TsLatentPanel *self) {
  LData *d = run_data(self);
  for (int m = 0; m < 2; m++) {
    TsScatterView *sv = TS_SCATTER_VIEW(self->scatter[m]);
    g_clear_pointer(&self->shown[m], g_free);
    const double *rows = epoch_rows(self, m);
    gtk_widget_set_visible(self->scatter[m], d && d->lat[m]);
    if (!rows) {
      ts_scatter_view_set_points(sv, NULL, NULL, 0);
      continue;
    }
    size_t n = d->n[m], k = d->dim[m];
    double *xy = g_new(double, 2 * n);
    int32_t *lab = g_new(int32_t, n);
    for (size_t i = 0; i < n; i++) lab[i] = (int32_t)rows[i * (k + 1) + k];
    char xl[32], yl[32], title[96];
    if (self->proj == 0) {
      ts_latent_pca2(rows, n, k, k + 1, xy);
      snprintf(xl, sizeof xl, "first principal component");
      snprintf(yl, sizeof yl, "second");
    } else {
      int a = CLAMP(self->dx, 0, (int)k - 1), b = CLAMP(self->dy, 0, (int)k - 1);
      for (size_t i = 0; i < n; i++) xy[2 * i] = rows[i * (k + 1) + a], xy[2 * i + 1] = rows[i * (k + 1) + b];
      snprintf(xl, sizeof xl, "z%d", a);
      snprintf(yl, sizeof yl, "z%d", b);
    }
    snprintf(title, sizeof title, "%s, epoch %d: %zu latent means", model_title[m],
             CLAMP(self->epoch, 0, (int)d->ne - 1) + 1, n);
    ts_scatter_view_set_labels(sv, title, xl, yl);
    ts_scatter_view_set_points(sv, xy, lab, n);
    ts_scatter_view_set_highlight(sv, self->label);
    self->shown[m] = xy;
    g_free(lab);
  }
}

static void show_grid(TsLatentPanel *self) {
  LData *d = run_data(self);
  int e = d && d->ne ? CLAMP(self->epoch, 0, (int)d->ne - 1) : 0;
  GBytes *png = d && d->grid ? d->grid[e] : NULL;
  GdkTexture *tex = png ? gdk_texture_new_from_bytes(png, NULL) : NULL;
  gtk_picture_set_paintable(GTK_PICTURE(self->grid_picture), tex ? GDK_PAINTABLE(tex) : NULL);
  if (tex) g_object_unref(tex);
  gtk_label_set_text(GTK_LABEL(self->grid_caption),
                     tex ? "Rows: validation inputs; VAE and TopoVAE reconstructions; TopoVAE and VAE samples from "
                           "the same z"
                         : "No picture grid at this epoch");
}

static void show_bce(TsLatentPanel *self) {
  LData *d = run_data(self);
  TsLinePlot *lp = TS_LINE_PLOT(self->bce_plot);
  ts_line_plot_clear(lp);
  ts_line_plot_set_labels(lp, "Reconstruction BCE per image", "step", "BCE");
  if (!d) return;
  static const char *const names[4] = {"VAE (train)", "TopoVAE (train)", "VAE (validation)", "TopoVAE (validation)"};
  for (int k = 0; k < 4; k++) {
    GArray *a = d->bce[k];
    if (!a || !a->len) continue;
    double *x = g_new(double, a->len), *y = g_new(double, a->len);
    for (guint i = 0; i < a->len; i++) {
      TsMetricRow *r = &g_array_index(a, TsMetricRow, i);
      x[i] = (double)r->step, y[i] = r->value;
    }
    guint s = ts_line_plot_add_series(lp, names[k]);
    ts_line_plot_set_points(lp, s, x, y, a->len);
    double rgb[3];
    ts_plot_series_color(k % 2, rgb);
    if (k >= 2) for (int c = 0; c < 3; c++) rgb[c] *= 0.6; /* validation: darker */
    ts_line_plot_set_color(lp, s, rgb);
    g_free(x), g_free(y);
  }
  if (d->ne) ts_line_plot_set_vline(lp, (double)d->steps[CLAMP(self->epoch, 0, (int)d->ne - 1)]);
}

static void show_epoch_label(TsLatentPanel *self) {
  LData *d = run_data(self);
  char *t = d && d->ne ? g_strdup_printf("Epoch %d of %zu (step %lld)", CLAMP(self->epoch, 0, (int)d->ne - 1) + 1,
                                         d->ne, (long long)d->steps[CLAMP(self->epoch, 0, (int)d->ne - 1)])
                       : g_strdup("");
  gtk_label_set_text(GTK_LABEL(self->epoch_label), t);
  g_free(t);
}

static void show_all(TsLatentPanel *self) {
  LData *d = run_data(self);
  gtk_stack_set_visible_child_name(GTK_STACK(self->stack), d ? "plots" : "empty");
  self->syncing = TRUE;
  ts_panel_set_epochs(self->epoch_scale, d ? d->ne : 0, NULL, 20, 20, self->epoch);
  if (d && d->ne) {
    size_t k = d->dim[1] ? d->dim[1] : d->dim[0];
    gtk_spin_button_set_range(GTK_SPIN_BUTTON(self->dx_spin), 0, MAX(0, (double)k - 1));
    gtk_spin_button_set_range(GTK_SPIN_BUTTON(self->dy_spin), 0, MAX(0, (double)k - 1));
  }
  self->syncing = FALSE;
  show_scatter(self);
  show_grid(self);
  show_bce(self);
  show_epoch_label(self);
}

static gboolean is_vae_run(const TsRunSummary *r) {
  return g_str_equal(r->info.kind, "train") && r->info.params_json &&
         strstr(r->info.params_json, "\"task\":\"vae\"") != NULL;
}

static void on_run_changed(TsRunFollower *f, TsLatentPanel *self) {
  (void)f;
  gtk_widget_set_visible(self->matching, FALSE);
  show_all(self);
}

static void on_loaded(TsRunFollower *f, gboolean first, TsLatentPanel *self) {
  LData *d = ts_run_follower_get_result(f);
  if (d && first) self->epoch = (int)d->ne - 1; /* a new run: its newest epoch */
  show_all(self);
}

/* --- callbacks ------------------------------------------------------------- */

static void on_projection(TsLatentPanel *self) {
  if (self->syncing) return;
  self->proj = (int)adw_combo_row_get_selected(ADW_COMBO_ROW(self->proj_row));
  self->dx = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->dx_spin));
  self->dy = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->dy_spin));
  gtk_widget_set_sensitive(self->dx_spin, self->proj == 1);
  gtk_widget_set_sensitive(self->dy_spin, self->proj == 1);
  show_scatter(self);
}

static void on_epoch(TsLatentPanel *self) {
  if (self->syncing) return;
  self->epoch = (int)lround(gtk_range_get_value(GTK_RANGE(self->epoch_scale)));
  show_scatter(self);
  show_grid(self);
  show_bce(self);
  show_epoch_label(self);
}

static void on_class(TsLatentPanel *self) {
  if (self->syncing) return;
  guint s = adw_combo_row_get_selected(ADW_COMBO_ROW(self->class_row));
  self->label = s == 0 ? -1 : (int)s - 1;
  gtk_widget_set_sensitive(self->diagram_button, self->label >= 0);
  for (int m = 0; m < 2; m++) ts_scatter_view_set_highlight(TS_SCATTER_VIEW(self->scatter[m]), self->label);
}

static void on_label_picked(TsScatterView *sv, int label, TsLatentPanel *self) {
  (void)sv;
  if (label >= 0) ts_latent_panel_set_class(self, label);
}

static void diagrams_done(GObject *src, GAsyncResult *res, gpointer data) {
  (void)data;
  GError *error = NULL;
  DRes *r = g_task_propagate_pointer(G_TASK(res), &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free(error);
    return;
  }
  TsLatentPanel *self = TS_LATENT_PANEL(src);
  if (!r) {
    g_signal_emit(self, signals[SIG_MESSAGE], 0, error->message);
    g_error_free(error);
    return;
  }
  TsMatchingView *mv = TS_MATCHING_VIEW(self->matching);
  ts_matching_view_set(mv, &r->d[0], &r->d[1], &r->m);
  char title[128];
  snprintf(title, sizeof title, "Class %d's cloud: bottleneck %.3g", self->label, r->dist);
  ts_matching_view_set_title(mv, title);
  gtk_widget_set_visible(self->matching, TRUE);
  self->dgeneration++;
  dres_free(r);
}

static void on_diagrams(TsLatentPanel *self) { ts_latent_panel_compute_diagrams(self); }

/* --- object ---------------------------------------------------------------- */

static void ts_latent_panel_dispose(GObject *o) {
  TsLatentPanel *self = TS_LATENT_PANEL(o);
  if (self->dcancel) g_cancellable_cancel(self->dcancel);
  g_clear_object(&self->dcancel);
  /* its answers and signals stop here, even if a signal emission holds it */
  if (self->follow) g_object_run_dispose(G_OBJECT(self->follow));
  g_clear_object(&self->follow);
  G_OBJECT_CLASS(ts_latent_panel_parent_class)->dispose(o);
}

static void ts_latent_panel_finalize(GObject *o) {
  TsLatentPanel *self = TS_LATENT_PANEL(o);
  g_free(self->shown[0]), g_free(self->shown[1]);
  G_OBJECT_CLASS(ts_latent_panel_parent_class)->finalize(o);
}

static void ts_latent_panel_class_init(TsLatentPanelClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->dispose = ts_latent_panel_dispose;
  oc->finalize = ts_latent_panel_finalize;
  signals[SIG_MESSAGE] = g_signal_new("message", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                      G_TYPE_NONE, 1, G_TYPE_STRING);
}

static GtkWidget *spin_row(GtkWidget *g, const char *title, int value, GtkWidget **spin) {
  GtkWidget *row = adw_action_row_new();
  adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
  *spin = gtk_spin_button_new_with_range(0, 63, 1);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(*spin), value);
  gtk_widget_set_valign(*spin, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix(ADW_ACTION_ROW(row), *spin);
  adw_preferences_group_add(ADW_PREFERENCES_GROUP(g), row);
  return row;
}

static void ts_latent_panel_init(TsLatentPanel *self) {
  gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_HORIZONTAL);
  self->label = -1;
  self->dy = 1;
  self->follow = ts_run_follower_new(query, ldata_free, is_vae_run, NULL);
  g_signal_connect(self->follow, "run-changed", G_CALLBACK(on_run_changed), self);
  g_signal_connect(self->follow, "loaded", G_CALLBACK(on_loaded), self);
  GtkWidget *side = ts_panel_add_sidebar(GTK_BOX(self));
  GtkWidget *g = ts_panel_group(side, "Run", "A VAE / TopoVAE run (train --task vae; --lockstep adds the plain VAE beside it)");
  self->run_row = ts_panel_combo(g, "_Run", NULL);
  ts_run_follower_attach(self->follow, ADW_COMBO_ROW(self->run_row));
  g = ts_panel_group(side, "Projection", NULL);
  static const char *projs[] = {"Principal components", "Two latent dimensions", NULL};
  self->proj_row = ts_panel_combo(g, "_Axes", projs);
  g_signal_connect_swapped(self->proj_row, "notify::selected", G_CALLBACK(on_projection), self);
  spin_row(g, "x: dimension", 0, &self->dx_spin);
  spin_row(g, "y: dimension", 1, &self->dy_spin);
  gtk_widget_set_sensitive(self->dx_spin, FALSE);
  gtk_widget_set_sensitive(self->dy_spin, FALSE);
  g_signal_connect_swapped(self->dx_spin, "value-changed", G_CALLBACK(on_projection), self);
  g_signal_connect_swapped(self->dy_spin, "value-changed", G_CALLBACK(on_projection), self);
  g = ts_panel_group(side, "Epoch", NULL);
  self->epoch_scale = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, 0, 1, 1);
  gtk_scale_set_draw_value(GTK_SCALE(self->epoch_scale), FALSE);
  g_signal_connect_swapped(self->epoch_scale, "value-changed", G_CALLBACK(on_epoch), self);
  adw_preferences_group_add(ADW_PREFERENCES_GROUP(g), self->epoch_scale);
  self->epoch_label = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(self->epoch_label), 0);
  adw_preferences_group_add(ADW_PREFERENCES_GROUP(g), self->epoch_label);
  g = ts_panel_group(side, "Class", "Click a point to pick its class; its latent cloud's Rips diagrams in both models, matched");
  static const char *classes[] = {"None", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", NULL};
  self->class_row = ts_panel_combo(g, "_Highlight", classes);
  g_signal_connect_swapped(self->class_row, "notify::selected", G_CALLBACK(on_class), self);
  self->diagram_button = gtk_button_new_with_mnemonic("Rips _Diagrams of This Class");
  gtk_widget_set_sensitive(self->diagram_button, FALSE);
  gtk_widget_set_margin_top(self->diagram_button, 8);
  g_signal_connect_swapped(self->diagram_button, "clicked", G_CALLBACK(on_diagrams), self);
  adw_preferences_group_add(ADW_PREFERENCES_GROUP(g), self->diagram_button);

  GtkWidget *grid = ts_panel_grid(TRUE);
  for (int m = 0; m < 2; m++) {
    self->scatter[m] = ts_panel_card(ts_scatter_view_new());
    g_signal_connect(self->scatter[m], "label-picked", G_CALLBACK(on_label_picked), self);
    gtk_grid_attach(GTK_GRID(grid), self->scatter[m], m, 0, 1, 1);
  }
  GtkWidget *gbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
  ts_panel_card(gbox);
  self->grid_picture = gtk_picture_new();
  gtk_picture_set_can_shrink(GTK_PICTURE(self->grid_picture), TRUE);
  gtk_widget_set_vexpand(self->grid_picture, TRUE);
  self->grid_caption = gtk_label_new("");
  gtk_label_set_wrap(GTK_LABEL(self->grid_caption), TRUE);
  gtk_widget_add_css_class(self->grid_caption, "caption");
  gtk_box_append(GTK_BOX(gbox), self->grid_picture);
  gtk_box_append(GTK_BOX(gbox), self->grid_caption);
  gtk_grid_attach(GTK_GRID(grid), gbox, 0, 1, 1, 1);
  self->bce_plot = ts_panel_card(ts_line_plot_new());
  ts_line_plot_set_show_controls(TS_LINE_PLOT(self->bce_plot), FALSE);
  gtk_grid_attach(GTK_GRID(grid), self->bce_plot, 1, 1, 1, 1);
  self->matching = ts_panel_card(ts_matching_view_new());
  ts_matching_view_set_labels(TS_MATCHING_VIEW(self->matching), "VAE", "TopoVAE");
  ts_matching_view_set_side_by_side(TS_MATCHING_VIEW(self->matching), FALSE);
  gtk_widget_set_visible(self->matching, FALSE);
  gtk_grid_attach(GTK_GRID(grid), self->matching, 2, 0, 1, 2);
  self->stack = ts_panel_add_pages(GTK_BOX(self), grid, "view-dual-symbolic", "No Latent Space", &self->status);
  ts_run_follower_attach_status(self->follow, ADW_STATUS_PAGE(self->status), "Reading the run…",
                                "No VAE run yet. Train one: toposcope train --task vae --model topovae --data "
                                "fashion-mnist --topo-weights 10,10,10,10,0,0,0 --lockstep");
}

void ts_latent_panel_set_reader(TsLatentPanel *self, TsStoreReader *reader) {
  ts_run_follower_set_reader(self->follow, reader);
}

void ts_latent_panel_show_run(TsLatentPanel *self, gint64 id) { ts_run_follower_show_run(self->follow, id); }

gint64 ts_latent_panel_get_run(TsLatentPanel *self) { return ts_run_follower_get_run(self->follow); }

void ts_latent_panel_set_epoch(TsLatentPanel *self, int index) {
  gtk_range_set_value(GTK_RANGE(self->epoch_scale), index);
  self->epoch = index;
  on_epoch(self);
}

void ts_latent_panel_set_projection(TsLatentPanel *self, int mode, int dx, int dy) {
  self->syncing = TRUE;
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->dx_spin), dx);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->dy_spin), dy);
  self->syncing = FALSE;
  adw_combo_row_set_selected(ADW_COMBO_ROW(self->proj_row), mode ? 1 : 0);
  on_projection(self);
}

void ts_latent_panel_set_class(TsLatentPanel *self, int label) {
  adw_combo_row_set_selected(ADW_COMBO_ROW(self->class_row), label < 0 || label > 9 ? 0 : (guint)label + 1);
}

void ts_latent_panel_compute_diagrams(TsLatentPanel *self) {
  LData *d = run_data(self);
  if (self->label < 0 || !d) return;
  DReq *rq = g_new0(DReq, 1);
  for (int m = 0; m < 2; m++) {
    const double *rows = epoch_rows(self, m);
    if (!rows) continue;
    size_t n = d->n[m], k = d->dim[m], c = 0;
    rq->pts[m] = g_new(double, n * k + 1);
    for (size_t i = 0; i < n; i++)
      if ((int)rows[i * (k + 1) + k] == self->label) memcpy(rq->pts[m] + c++ * k, rows + i * (k + 1), k * sizeof(double));
    rq->n[m] = c, rq->dim[m] = k;
  }
  if (self->dcancel) g_cancellable_cancel(self->dcancel);
  g_clear_object(&self->dcancel);
  self->dcancel = g_cancellable_new();
  GTask *t = g_task_new(self, self->dcancel, diagrams_done, NULL);
  g_task_set_task_data(t, rq, dreq_free);
  g_task_run_in_thread(t, diagram_worker);
  g_object_unref(t);
}

guint ts_latent_panel_get_n_epochs(TsLatentPanel *self) {
  LData *d = run_data(self);
  return d ? (guint)d->ne : 0;
}
guint ts_latent_panel_get_generation(TsLatentPanel *self) { return ts_run_follower_get_generation(self->follow); }
guint ts_latent_panel_get_diagram_generation(TsLatentPanel *self) { return self->dgeneration; }
gboolean ts_latent_panel_is_busy(TsLatentPanel *self) { return ts_run_follower_is_busy(self->follow); }

const double *ts_latent_panel_get_points(TsLatentPanel *self, int model, size_t *n) {
  int m = model ? 1 : 0;
  LData *d = run_data(self);
  *n = d && self->shown[m] ? d->n[m] : 0;
  return self->shown[m];
}

const double *ts_latent_panel_get_latent(TsLatentPanel *self, int model, size_t *n, size_t *dim) {
  int m = model ? 1 : 0;
  const double *rows = epoch_rows(self, m);
  *n = rows ? run_data(self)->n[m] : 0;
  *dim = rows ? run_data(self)->dim[m] : 0;
  return rows;
}

TsScatterView *ts_latent_panel_get_scatter(TsLatentPanel *self, int model) {
  return TS_SCATTER_VIEW(self->scatter[model ? 1 : 0]);
}
TsMatchingView *ts_latent_panel_get_matching_view(TsLatentPanel *self) { return TS_MATCHING_VIEW(self->matching); }
TsLinePlot *ts_latent_panel_get_bce_plot(TsLatentPanel *self) { return TS_LINE_PLOT(self->bce_plot); }
gboolean ts_latent_panel_has_grid(TsLatentPanel *self) {
  return gtk_picture_get_paintable(GTK_PICTURE(self->grid_picture)) != NULL;
}
