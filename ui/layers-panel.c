/* layers-panel.c — the Layers panel: probe series of a run, read through
 * the store reader, as a heat map and line plots. */
#include "layers-panel.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "base/json.h"
#include "panel-layout.h"
#include "plot/diagram-view.h"
#include "plot/plot-common.h"
#include "run-follow.h"

#define MAX_BETTI_DIMS 3

/* --- reading (on the reader's worker) -------------------------------------- */

typedef struct {
  size_t ne, nl;
  int64_t *epochs;
  double *life0, *life1, *phdim; /* [layer * ne + epoch index] (NAN: not probed) */
  char **names;                  /* nl, NULL-terminated */
  int nbd;                       /* graph Betti dimensions read */
  size_t grid;                   /* points of each Betti curve */
  double *betti[MAX_BETTI_DIMS]; /* [epoch index][grid][x, beta] (NAN rows: none at that epoch) */
  int nlife;
  double *avglife, *midlife; /* [epoch index * nlife + dim] */
} LData;

static void ldata_free(gpointer p) {
  LData *d = p;
  if (!d) return;
  g_free(d->epochs);
  g_free(d->life0), g_free(d->life1), g_free(d->phdim);
  g_strfreev(d->names);
  for (int k = 0; k < MAX_BETTI_DIMS; k++) g_free(d->betti[k]);
  g_free(d->avglife), g_free(d->midlife);
  g_free(d);
}

static int read_at(TsStore *s, int64_t run, const char *name, int64_t step, double **v, int64_t *rows, int64_t *cols) {
  int64_t got;
  return ts_store_read_series(s, run, name, step, v, rows, cols, &got, NULL) == TS_OK;
}

/* "lifespan_layers": [{"name": "conv1", ...}, ...] -> names */
static char **layer_names(const char *json, size_t nl) {
  char **names = g_new0(char *, nl + 1);
  const char *v;
  size_t len;
  size_t k = 0;
  if (json && ts_json_get_raw(json, "lifespan_layers", &v, &len, NULL) == TS_OK) {
    const char *p = v, *end = v + len;
    while (k < nl && (p = g_strstr_len(p, end - p, "\"name\"")) != NULL) {
      p += 6;
      const char *q = memchr(p, '"', (size_t)(end - p));
      if (!q) break;
      const char *r = memchr(q + 1, '"', (size_t)(end - q - 1));
      if (!r) break;
      names[k++] = g_strndup(q + 1, (gsize)(r - q - 1));
      p = r + 1;
    }
  }
  for (; k < nl; k++) names[k] = g_strdup_printf("layer %zu", k + 1);
  return names;
}

static gpointer query(TsStore *s, gpointer data, GError **error) {
  int64_t run = *(gint64 *)data;
  LData *d = g_new0(LData, 1);
  double *v = NULL;
  int64_t rows, cols, last = -1, step;
  /* the newest probed epoch, from whichever series the probe wrote */
  static const char *const heads[] = {"probe/lifespans", "probe/phdim", "probe/betti/dim0"};
  for (int h = 0; h < 3; h++) {
    if (ts_store_read_series(s, run, heads[h], -1, &v, &rows, &cols, &step, NULL) == TS_OK) last = MAX(last, step);
    free(v);
    v = NULL;
  }
  if (last < 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "run %lld has no probes: train it with --probe lifespans,phdim,graph (or run toposcope probe)",
                (long long)run);
    ldata_free(d);
    return NULL;
  }
  GArray *ep = g_array_new(FALSE, FALSE, sizeof(int64_t));
  for (int64_t e = 0; e <= last && e < 100000; e++) {
    int found = 0;
    for (int h = 0; h < 3 && !found; h++) {
      found = read_at(s, run, heads[h], e, &v, &rows, &cols);
      free(v);
      v = NULL;
    }
    if (found) g_array_append_val(ep, e);
  }
  d->ne = ep->len;
  d->epochs = (int64_t *)(void *)g_array_free(ep, FALSE);
  /* layers */
  for (size_t i = 0; i < d->ne && !d->nl; i++) {
    if (read_at(s, run, "probe/lifespans", d->epochs[i], &v, &rows, &cols) ||
        read_at(s, run, "probe/phdim", d->epochs[i], &v, &rows, &cols))
      d->nl = (size_t)rows;
    free(v);
    v = NULL;
  }
  d->life0 = g_new(double, d->nl * d->ne + 1);
  d->life1 = g_new(double, d->nl * d->ne + 1);
  d->phdim = g_new(double, d->nl * d->ne + 1);
  for (size_t i = 0; i < d->nl * d->ne; i++) d->life0[i] = d->life1[i] = d->phdim[i] = NAN;
  for (size_t e = 0; e < d->ne; e++) {
    if (read_at(s, run, "probe/lifespans", d->epochs[e], &v, &rows, &cols) && cols >= 2)
      for (size_t l = 0; l < d->nl && l < (size_t)rows; l++)
        d->life0[l * d->ne + e] = v[2 * l], d->life1[l * d->ne + e] = v[2 * l + 1];
    free(v);
    v = NULL;
    if (read_at(s, run, "probe/phdim", d->epochs[e], &v, &rows, &cols) && cols >= 1)
      for (size_t l = 0; l < d->nl && l < (size_t)rows; l++) d->phdim[l * d->ne + e] = v[l * cols];
    free(v);
    v = NULL;
  }
  void *blob = NULL;
  size_t bytes;
  char type[64];
  ts_store_read_blob(s, run, "probe/layers", -1, &blob, &bytes, type, sizeof type, NULL, NULL);
  d->names = layer_names(blob, d->nl);
  free(blob);
  /* the functional graph */
  for (int k = 0; k < MAX_BETTI_DIMS; k++) {
    char name[32];
    snprintf(name, sizeof name, "probe/betti/dim%d", k);
    for (size_t e = 0; e < d->ne; e++) {
      if (!read_at(s, run, name, d->epochs[e], &v, &rows, &cols) || cols != 2) {
        free(v);
        v = NULL;
        continue;
      }
      if (!d->betti[k]) {
        d->grid = d->grid ? d->grid : (size_t)rows;
        d->betti[k] = g_new(double, d->ne * d->grid * 2);
        for (size_t i = 0; i < d->ne * d->grid * 2; i++) d->betti[k][i] = NAN;
        d->nbd = MAX(d->nbd, k + 1);
      }
      if ((size_t)rows == d->grid) memcpy(d->betti[k] + e * d->grid * 2, v, d->grid * 2 * sizeof *v);
      free(v);
      v = NULL;
    }
  }
  for (size_t e = 0; e < d->ne; e++) {
    double *a = NULL, *m = NULL;
    int64_t ra, ca, rm, cm;
    int ha = read_at(s, run, "probe/avglife", d->epochs[e], &a, &ra, &ca);
    int hm = read_at(s, run, "probe/midlife", d->epochs[e], &m, &rm, &cm);
    if (ha && !d->avglife) {
      d->nlife = (int)ca;
      d->avglife = g_new(double, d->ne * d->nlife + 1);
      d->midlife = g_new(double, d->ne * d->nlife + 1);
      for (size_t i = 0; i < d->ne * (size_t)d->nlife; i++) d->avglife[i] = d->midlife[i] = NAN;
    }
    for (int k = 0; ha && k < d->nlife && k < ca; k++) d->avglife[e * d->nlife + k] = a[k];
    for (int k = 0; hm && d->midlife && k < d->nlife && k < cm; k++) d->midlife[e * d->nlife + k] = m[k];
    free(a);
    free(m);
  }
  return d;
}

/* --- the panel --------------------------------------------------------------- */

struct _TsLayersPanel {
  GtkBox parent;
  GtkWidget *run_row, *measure_row, *betti_row, *epoch_scale, *detail_label, *stack, *status;
  GtkWidget *heatmap, *map_caption, *betti_caption, *layer_plot, *betti_plot, *life_plot;
  GtkWidget *layer_diagram, *graph_diagram; /* TsDiagramView cards of the chosen cell and epoch */
  guint diag_token;                         /* bumped by every pick: older diagram answers are dropped */
  TsRunFollower *follow;                    /* the run shown, its picker, and its LData */
  int measure, betti_dim, pick_layer, pick_epoch;
  gboolean syncing;
  char *detail;
};

G_DEFINE_FINAL_TYPE(TsLayersPanel, ts_layers_panel, GTK_TYPE_BOX)

enum { SIG_MESSAGE, N_SIGNALS };
static guint signals[N_SIGNALS];

static const char *const measure_titles[3] = {"Lifespan sum H0", "Lifespan sum H1", "PH dimension"};

/* The followed run's data (NULL: none yet, or the panel is being disposed). */
static LData *run_data(TsLayersPanel *self) { return self->follow ? ts_run_follower_get_result(self->follow) : NULL; }

static const double *measure_values(TsLayersPanel *self) {
  LData *d = run_data(self);
  if (!d) return NULL;
  return self->measure == 0 ? d->life0 : self->measure == 1 ? d->life1 : d->phdim;
}

static void update_detail(TsLayersPanel *self) {
  LData *d = run_data(self);
  g_free(self->detail);
  if (!d || !d->ne) {
    self->detail = g_strdup("");
  } else {
    int e = CLAMP(self->pick_epoch, 0, (int)d->ne - 1);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "<b>Epoch %lld</b>", (long long)d->epochs[e]);
    if (d->nl) {
      int l = CLAMP(self->pick_layer, 0, (int)d->nl - 1);
      size_t i = (size_t)l * d->ne + (size_t)e;
      g_string_append_printf(s, " · <b>%s</b>: lifespan sum H0 %.4g", d->names[l], d->life0[i]);
      if (isfinite(d->life1[i])) g_string_append_printf(s, ", H1 %.4g", d->life1[i]);
      if (isfinite(d->phdim[i])) g_string_append_printf(s, ", PH dimension %.3g", d->phdim[i]);
    }
    for (int k = 0; d->avglife && k < d->nlife; k++)
      g_string_append_printf(s, "%s graph H%d: avg life %.3g, midlife %.3g", k ? ";" : " · ", k,
                             d->avglife[(size_t)e * d->nlife + k], d->midlife[(size_t)e * d->nlife + k]);
    self->detail = g_string_free(s, FALSE);
  }
  gtk_label_set_markup(GTK_LABEL(self->detail_label), self->detail);
}

static void show_betti(TsLayersPanel *self) {
  LData *d = run_data(self);
  TsLinePlot *bp = TS_LINE_PLOT(self->betti_plot);
  ts_line_plot_clear(bp);
  int k = self->betti_dim;
  char title[96];
  snprintf(title, sizeof title, "Graph Betti curve β%d by epoch", k);
  ts_line_plot_set_labels(bp, title, "filtration value (1 − |corr|, halved)", "β");
  if (!d || k >= d->nbd || !d->betti[k]) return;
  double *x = g_new(double, d->grid), *y = g_new(double, d->grid);
  int pe = CLAMP(self->pick_epoch, 0, (int)d->ne - 1);
  for (size_t e = 0; e < d->ne; e++) {
    const double *c = d->betti[k] + e * d->grid * 2;
    if (!isfinite(c[0])) continue;
    for (size_t j = 0; j < d->grid; j++) x[j] = c[2 * j], y[j] = c[2 * j + 1];
    char name[32];
    snprintf(name, sizeof name, "epoch %lld", (long long)d->epochs[e]);
    guint s = ts_line_plot_add_series(bp, name);
    ts_line_plot_set_points(bp, s, x, y, d->grid);
    /* light to dark blue along training; the chosen epoch red */
    double t = d->ne > 1 ? (double)e / (double)(d->ne - 1) : 1.0;
    double rgb[3] = {0.75 - 0.65 * t, 0.85 - 0.55 * t, 0.98 - 0.35 * t};
    if ((int)e == pe) rgb[0] = 0.878, rgb[1] = 0.106, rgb[2] = 0.141;
    ts_line_plot_set_color(bp, s, rgb);
  }
  g_free(x);
  g_free(y);
}

static void show_measure(TsLayersPanel *self) {
  LData *d = run_data(self);
  const double *v = measure_values(self);
  char title[128];
  snprintf(title, sizeof title, "%s: layer × epoch", measure_titles[self->measure]);
  ts_heatmap_view_set_title(TS_HEATMAP_VIEW(self->heatmap), title);
  TsLinePlot *lp = TS_LINE_PLOT(self->layer_plot);
  ts_line_plot_clear(lp);
  snprintf(title, sizeof title, "%s per layer", measure_titles[self->measure]);
  ts_line_plot_set_labels(lp, title, "epoch", measure_titles[self->measure]);
  if (!d || !d->nl || !d->ne) {
    ts_heatmap_view_set_field(TS_HEATMAP_VIEW(self->heatmap), NULL, 0, 0);
    gtk_label_set_text(GTK_LABEL(self->map_caption), "");
    return;
  }
  /* the map has no axes of its own: say what its rows and columns are */
  GString *cap = g_string_new("Rows, top to bottom: ");
  for (size_t l = 0; l < d->nl; l++) g_string_append_printf(cap, "%s%s", l ? ", " : "", d->names[l]);
  g_string_append(cap, ". Columns: epochs ");
  for (size_t e = 0; e < d->ne; e++) g_string_append_printf(cap, "%s%lld", e ? ", " : "", (long long)d->epochs[e]);
  g_string_append(cap, ". Click a cell.");
  gtk_label_set_text(GTK_LABEL(self->map_caption), cap->str);
  g_string_free(cap, TRUE);
  ts_heatmap_view_set_field(TS_HEATMAP_VIEW(self->heatmap), v, (int)d->ne, (int)d->nl);
  double *x = g_new(double, d->ne);
  for (size_t e = 0; e < d->ne; e++) x[e] = (double)d->epochs[e];
  for (size_t l = 0; l < d->nl; l++) {
    guint s = ts_line_plot_add_series(lp, d->names[l]);
    ts_line_plot_set_points(lp, s, x, v + l * d->ne, d->ne);
  }
  g_free(x);
}

static void show_life(TsLayersPanel *self) {
  LData *d = run_data(self);
  TsLinePlot *lp = TS_LINE_PLOT(self->life_plot);
  ts_line_plot_clear(lp);
  ts_line_plot_set_labels(lp, "Graph average life and midlife", "epoch", "filtration value");
  if (!d || !d->avglife) return;
  double *x = g_new(double, d->ne), *y = g_new(double, d->ne);
  for (size_t e = 0; e < d->ne; e++) x[e] = (double)d->epochs[e];
  for (int k = 0; k < d->nlife; k++)
    for (int m = 0; m < 2; m++) {
      const double *src = m ? d->midlife : d->avglife;
      for (size_t e = 0; e < d->ne; e++) y[e] = src[e * d->nlife + k];
      char name[32];
      snprintf(name, sizeof name, "%s H%d", m ? "midlife" : "avg life", k);
      guint s = ts_line_plot_add_series(lp, name);
      ts_line_plot_set_points(lp, s, x, y, d->ne);
      double rgb[3];
      ts_plot_dim_color(k, rgb);
      if (m) for (int c = 0; c < 3; c++) rgb[c] = 0.55 * rgb[c] + 0.45 * (ts_plot_get_dark() ? 0 : 1); /* paler: midlife */
      ts_line_plot_set_color(lp, s, rgb);
    }
  g_free(x);
  g_free(y);
}

/* --- the chosen cell's diagrams (read on the reader's worker) ------------- */

typedef struct {
  gint64 run, epoch;
  char *layer; /* NULL: no layer chosen */
} DQuery;

typedef struct {
  TsDiagram layer, graph;
  gboolean has_layer, has_graph;
} DData;

static void dquery_free(gpointer p) {
  DQuery *q = p;
  g_free(q->layer);
  g_free(q);
}

static void ddata_free(gpointer p) {
  DData *d = p;
  if (!d) return;
  ts_diagram_clear(&d->layer);
  ts_diagram_clear(&d->graph);
  g_free(d);
}

/* An n x 3 series (dim, birth, death) into dg; FALSE if the run has none at that step. */
static gboolean read_diagram(TsStore *s, gint64 run, const char *name, gint64 step, TsDiagram *dg) {
  double *v = NULL;
  int64_t rows, cols;
  gboolean ok = read_at(s, run, name, step, &v, &rows, &cols) && cols == 3;
  for (int64_t i = 0; ok && i < rows; i++)
    if (ts_diagram_add(dg, (int)v[3 * i], v[3 * i + 1], v[3 * i + 2], NULL)) ok = FALSE;
  for (int64_t i = 0; ok && i < rows; i++) dg->maxdim = MAX(dg->maxdim, (int)v[3 * i]);
  free(v);
  return ok;
}

static gpointer dquery(TsStore *s, gpointer data, GError **error) {
  (void)error;
  DQuery *q = data;
  DData *d = g_new0(DData, 1);
  ts_diagram_init(&d->layer);
  ts_diagram_init(&d->graph);
  if (q->layer) {
    char *name = g_strdup_printf("probe/diagram/%s", q->layer);
    d->has_layer = read_diagram(s, q->run, name, q->epoch, &d->layer);
    g_free(name);
  }
  d->has_graph = read_diagram(s, q->run, "probe/graph_diagram", q->epoch, &d->graph);
  return d;
}

static const char *dims_words(const TsDiagram *dg) {
  int top = 0;
  for (size_t i = 0; i < dg->n; i++) top = MAX(top, dg->pairs[i].dim);
  return top >= 2 ? "H0, H1 and H2" : top == 1 ? "H0 and H1" : "H0";
}

static void dloaded(GObject *src, GAsyncResult *res, gpointer user_data) {
  (void)src;
  guint token;
  TsLayersPanel *self = ts_ticket_redeem(user_data, &token);
  if (!self) return; /* the panel is gone: the task frees the answer */
  g_object_unref(self); /* the window holds it; we run on its main loop */
  LData *ld = run_data(self);
  if (token != self->diag_token || !ld) return; /* another pick, run or store since */
  GError *error = NULL;
  DData *d = ts_store_reader_query_finish(res, &error);
  g_clear_error(&error);
  if (!d) return;
  int e = CLAMP(self->pick_epoch, 0, (int)ld->ne - 1), l = CLAMP(self->pick_layer, 0, (int)ld->nl - 1);
  long long ep = ld->ne ? (long long)ld->epochs[e] : 0;
  TsDiagramView *lv = TS_DIAGRAM_VIEW(self->layer_diagram), *gv = TS_DIAGRAM_VIEW(self->graph_diagram);
  char *title;
  if (d->has_layer) {
    title = g_strdup_printf("%s at epoch %lld: %s of its embedding", ld->names[l], ep, dims_words(&d->layer));
    ts_diagram_view_set_diagram(lv, &d->layer);
  } else {
    /* runs probed before diagrams were kept have only the summaries */
    title = ld->nl ? g_strdup_printf("%s at epoch %lld: no diagram stored (re-probe the run)", ld->names[l], ep)
                   : g_strdup("No lifespan layers were probed");
    ts_diagram_view_set_diagram(lv, NULL);
  }
  ts_diagram_view_set_title(lv, title);
  g_free(title);
  if (d->has_graph) {
    title = g_strdup_printf("Graph at epoch %lld: %s (halved units)", ep, dims_words(&d->graph));
    ts_diagram_view_set_diagram(gv, &d->graph);
  } else {
    title = g_strdup_printf("Graph, epoch %lld: no diagram stored", ep);
    ts_diagram_view_set_diagram(gv, NULL);
  }
  ts_diagram_view_set_title(gv, title);
  g_free(title);
  ddata_free(d);
}

static void load_diagrams(TsLayersPanel *self) {
  LData *ld = run_data(self);
  self->diag_token++;
  if (!ld || !ld->ne) return;
  TsStoreReader *reader = ts_run_follower_get_reader(self->follow);
  gint64 run = ts_run_follower_get_run(self->follow);
  if (!reader || run < 0) return;
  DQuery *q = g_new0(DQuery, 1);
  q->run = run;
  q->epoch = ld->epochs[CLAMP(self->pick_epoch, 0, (int)ld->ne - 1)];
  if (ld->nl) q->layer = g_strdup(ld->names[CLAMP(self->pick_layer, 0, (int)ld->nl - 1)]);
  ts_store_reader_query(reader, dquery, q, dquery_free, ddata_free, ts_run_follower_get_cancellable(self->follow),
                        dloaded, ts_ticket_new(self, self->diag_token));
}

static void show_pick(TsLayersPanel *self) {
  LData *d = run_data(self);
  double ex = d && d->ne ? (double)d->epochs[CLAMP(self->pick_epoch, 0, (int)d->ne - 1)] : NAN;
  ts_line_plot_set_vline(TS_LINE_PLOT(self->layer_plot), ex);
  ts_line_plot_set_vline(TS_LINE_PLOT(self->life_plot), ex);
  /* the chosen cell, marked on the map */
  if (d && d->nl && d->ne) {
    TsHeatmapMarker mk = {.row = CLAMP(self->pick_layer, 0, (int)d->nl - 1),
                          .col = CLAMP(self->pick_epoch, 0, (int)d->ne - 1),
                          .rgb = {0.878, 0.106, 0.141},
                          .shape = TS_MARKER_BIRTH};
    ts_heatmap_view_set_markers(TS_HEATMAP_VIEW(self->heatmap), &mk, 1);
  } else {
    ts_heatmap_view_set_markers(TS_HEATMAP_VIEW(self->heatmap), NULL, 0);
  }
  show_betti(self);
  update_detail(self);
  load_diagrams(self);
}

static void show_all(TsLayersPanel *self) {
  LData *d = run_data(self);
  gtk_stack_set_visible_child_name(GTK_STACK(self->stack), d ? "plots" : "empty");
  self->syncing = TRUE;
  /* the probed epochs by number, while they fit under the scale */
  ts_panel_set_epochs(self->epoch_scale, d ? d->ne : 0, d ? d->epochs : NULL, G_MAXSIZE, 12, self->pick_epoch);
  self->syncing = FALSE;
  show_measure(self);
  show_life(self);
  show_pick(self);
}

/* --- the run list ---------------------------------------------------------- */

static gboolean probed(const TsRunSummary *r) {
  return g_str_equal(r->info.kind, "probe") ||
         (r->info.params_json && strstr(r->info.params_json, "\"probe") != NULL);
}

static gboolean listed(const TsRunSummary *r) {
  return g_str_equal(r->info.kind, "train") || g_str_equal(r->info.kind, "probe");
}

static void on_run_changed(TsRunFollower *f, TsLayersPanel *self) {
  (void)f;
  show_all(self);
}

static void on_loaded(TsRunFollower *f, gboolean first, TsLayersPanel *self) {
  LData *d = ts_run_follower_get_result(f);
  if (d && first) {
    self->pick_epoch = (int)d->ne - 1; /* the newest epoch first */
    self->pick_layer = (int)d->nl - 1;
  }
  show_all(self);
}

/* --- callbacks ------------------------------------------------------------- */

static void on_measure(TsLayersPanel *self) {
  self->measure = (int)adw_combo_row_get_selected(ADW_COMBO_ROW(self->measure_row));
  show_measure(self);
  show_pick(self);
}

static void on_betti(TsLayersPanel *self) {
  self->betti_dim = (int)adw_combo_row_get_selected(ADW_COMBO_ROW(self->betti_row));
  show_betti(self);
}

static void on_epoch(TsLayersPanel *self) {
  if (self->syncing) return;
  self->pick_epoch = (int)lround(gtk_range_get_value(GTK_RANGE(self->epoch_scale)));
  show_pick(self);
}

static void on_map_click(GtkGestureClick *g, int n, double x, double y, TsLayersPanel *self) {
  (void)g, (void)n;
  LData *d = run_data(self);
  if (!d || !d->nl || !d->ne) return;
  /* the same layout the map draws with */
  TsHeatmapViewData hd = {.width = (int)d->ne, .height = (int)d->nl, .field = measure_values(self), .colorbar = 1,
                          .title = "x"};
  double ox, oy, s;
  ts_heatmap_view_layout(&hd, gtk_widget_get_width(self->heatmap), gtk_widget_get_height(self->heatmap), &ox, &oy, &s);
  int col = (int)floor((x - ox) / s), row = (int)floor((y - oy) / s);
  if (col < 0 || row < 0 || col >= (int)d->ne || row >= (int)d->nl) return;
  ts_layers_panel_pick(self, row, col);
}

/* --- object ---------------------------------------------------------------- */

static void ts_layers_panel_dispose(GObject *o) {
  TsLayersPanel *self = TS_LAYERS_PANEL(o);
  /* its answers and signals stop here, even if a signal emission holds it */
  if (self->follow) g_object_run_dispose(G_OBJECT(self->follow));
  g_clear_object(&self->follow);
  G_OBJECT_CLASS(ts_layers_panel_parent_class)->dispose(o);
}

static void ts_layers_panel_finalize(GObject *o) {
  TsLayersPanel *self = TS_LAYERS_PANEL(o);
  g_free(self->detail);
  G_OBJECT_CLASS(ts_layers_panel_parent_class)->finalize(o);
}

static void ts_layers_panel_class_init(TsLayersPanelClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->dispose = ts_layers_panel_dispose;
  oc->finalize = ts_layers_panel_finalize;
  signals[SIG_MESSAGE] = g_signal_new("message", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                      G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void ts_layers_panel_init(TsLayersPanel *self) {
  gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_HORIZONTAL);
  self->betti_dim = 1;
  self->follow = ts_run_follower_new(query, ldata_free, listed, probed);
  g_signal_connect(self->follow, "run-changed", G_CALLBACK(on_run_changed), self);
  g_signal_connect(self->follow, "loaded", G_CALLBACK(on_loaded), self);

  GtkWidget *side = ts_panel_add_sidebar(GTK_BOX(self));
  GtkWidget *g = adw_preferences_group_new();
  adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(g), "Run");
  adw_preferences_group_set_description(ADW_PREFERENCES_GROUP(g),
                                        "A run trained with --probe (or a toposcope probe run); a running one updates "
                                        "as its probes land");
  gtk_box_append(GTK_BOX(side), g);
  self->run_row = ts_panel_combo(g, "_Run", NULL);
  ts_run_follower_attach(self->follow, ADW_COMBO_ROW(self->run_row));
  g = adw_preferences_group_new();
  adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(g), "Show");
  gtk_box_append(GTK_BOX(side), g);
  static const char *measures[] = {"Lifespan sum H0", "Lifespan sum H1", "PH dimension", NULL};
  self->measure_row = ts_panel_combo(g, "_Layers by", measures);
  g_signal_connect_swapped(self->measure_row, "notify::selected", G_CALLBACK(on_measure), self);
  static const char *bettis[] = {"β₀ (components)", "β₁ (loops)", "β₂ (voids)", NULL};
  self->betti_row = ts_panel_combo(g, "_Betti curve", bettis);
  adw_combo_row_set_selected(ADW_COMBO_ROW(self->betti_row), 1);
  g_signal_connect_swapped(self->betti_row, "notify::selected", G_CALLBACK(on_betti), self);
  g = adw_preferences_group_new();
  adw_preferences_group_set_title(ADW_PREFERENCES_GROUP(g), "Epoch");
  adw_preferences_group_set_description(ADW_PREFERENCES_GROUP(g),
                                        "Scrub the probed epochs, or click a cell of the heat map for a layer and an epoch");
  gtk_box_append(GTK_BOX(side), g);
  self->epoch_scale = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, 0, 1, 1);
  gtk_scale_set_digits(GTK_SCALE(self->epoch_scale), 0);
  gtk_scale_set_draw_value(GTK_SCALE(self->epoch_scale), FALSE);
  gtk_widget_set_hexpand(self->epoch_scale, TRUE);
  g_signal_connect_swapped(self->epoch_scale, "value-changed", G_CALLBACK(on_epoch), self);
  adw_preferences_group_add(ADW_PREFERENCES_GROUP(g), self->epoch_scale);
  self->detail_label = gtk_label_new("");
  gtk_label_set_wrap(GTK_LABEL(self->detail_label), TRUE);
  gtk_label_set_xalign(GTK_LABEL(self->detail_label), 0);
  gtk_widget_set_margin_top(self->detail_label, 6);
  adw_preferences_group_add(ADW_PREFERENCES_GROUP(g), self->detail_label);

  GtkWidget *grid = ts_panel_grid(TRUE);
  self->heatmap = ts_panel_card(ts_heatmap_view_new());
  ts_heatmap_view_set_colormap(TS_HEATMAP_VIEW(self->heatmap), TS_CMAP_VIRIDIS);
  GtkGesture *click = gtk_gesture_click_new();
  g_signal_connect(click, "released", G_CALLBACK(on_map_click), self);
  gtk_widget_add_controller(self->heatmap, GTK_EVENT_CONTROLLER(click));
  GtkWidget *mapbox = gtk_box_new(GTK_ORIENTATION_VERTICAL, 4);
  gtk_box_append(GTK_BOX(mapbox), self->heatmap);
  self->map_caption = gtk_label_new("");
  gtk_label_set_wrap(GTK_LABEL(self->map_caption), TRUE);
  gtk_label_set_xalign(GTK_LABEL(self->map_caption), 0);
  gtk_widget_add_css_class(self->map_caption, "caption");
  gtk_widget_add_css_class(self->map_caption, "dim-label");
  gtk_box_append(GTK_BOX(mapbox), self->map_caption);
  gtk_grid_attach(GTK_GRID(grid), mapbox, 0, 0, 1, 1);
  self->layer_plot = ts_panel_card(ts_line_plot_new());
  ts_line_plot_set_show_controls(TS_LINE_PLOT(self->layer_plot), FALSE);
  gtk_grid_attach(GTK_GRID(grid), self->layer_plot, 1, 0, 1, 1);
  self->betti_plot = ts_panel_card(ts_line_plot_new());
  ts_line_plot_set_show_controls(TS_LINE_PLOT(self->betti_plot), FALSE);
  gtk_grid_attach(GTK_GRID(grid), self->betti_plot, 0, 1, 1, 1);
  self->life_plot = ts_panel_card(ts_line_plot_new());
  ts_line_plot_set_show_controls(TS_LINE_PLOT(self->life_plot), FALSE);
  gtk_grid_attach(GTK_GRID(grid), self->life_plot, 1, 1, 1, 1);
  self->layer_diagram = ts_panel_card(ts_diagram_view_new());
  ts_diagram_view_set_title(TS_DIAGRAM_VIEW(self->layer_diagram), "Click a cell of the map to see its diagram");
  gtk_grid_attach(GTK_GRID(grid), self->layer_diagram, 2, 0, 1, 1);
  self->graph_diagram = ts_panel_card(ts_diagram_view_new());
  ts_diagram_view_set_title(TS_DIAGRAM_VIEW(self->graph_diagram), "Choose an epoch to see the graph's diagram");
  gtk_grid_attach(GTK_GRID(grid), self->graph_diagram, 2, 1, 1, 1);
  self->stack = ts_panel_add_pages(GTK_BOX(self), grid, "view-list-symbolic", "No Probes", &self->status);
  adw_status_page_set_description(ADW_STATUS_PAGE(self->status), "Pick a run trained with --probe");
  ts_run_follower_attach_status(self->follow, ADW_STATUS_PAGE(self->status), "Reading the run's probes…",
                                "No training run yet. Train one with probes, e.g. toposcope train --model lenet-dnn "
                                "--probe lifespans,phdim,graph --probe-epochs 0,1,2");
  show_all(self);
}

void ts_layers_panel_set_reader(TsLayersPanel *self, TsStoreReader *reader) {
  ts_run_follower_set_reader(self->follow, reader);
}

void ts_layers_panel_show_run(TsLayersPanel *self, gint64 id) { ts_run_follower_show_run(self->follow, id); }

gint64 ts_layers_panel_get_run(TsLayersPanel *self) { return ts_run_follower_get_run(self->follow); }
void ts_layers_panel_set_measure(TsLayersPanel *self, int m) {
  adw_combo_row_set_selected(ADW_COMBO_ROW(self->measure_row), (guint)CLAMP(m, 0, 2));
}
void ts_layers_panel_set_betti_dim(TsLayersPanel *self, int dim) {
  adw_combo_row_set_selected(ADW_COMBO_ROW(self->betti_row), (guint)CLAMP(dim, 0, 2));
}

void ts_layers_panel_pick(TsLayersPanel *self, int layer, int epoch_index) {
  self->pick_layer = layer;
  self->pick_epoch = epoch_index;
  self->syncing = TRUE;
  gtk_range_set_value(GTK_RANGE(self->epoch_scale), epoch_index);
  self->syncing = FALSE;
  show_pick(self);
}

guint ts_layers_panel_get_n_epochs(TsLayersPanel *self) {
  LData *d = run_data(self);
  return d ? (guint)d->ne : 0;
}
guint ts_layers_panel_get_n_layers(TsLayersPanel *self) {
  LData *d = run_data(self);
  return d ? (guint)d->nl : 0;
}
guint ts_layers_panel_get_generation(TsLayersPanel *self) { return ts_run_follower_get_generation(self->follow); }
gboolean ts_layers_panel_is_busy(TsLayersPanel *self) { return ts_run_follower_is_busy(self->follow); }

double ts_layers_panel_get_value(TsLayersPanel *self, int layer, int e) {
  const double *v = measure_values(self);
  LData *d = run_data(self);
  if (!v || layer < 0 || e < 0 || (size_t)layer >= d->nl || (size_t)e >= d->ne) return NAN;
  return v[(size_t)layer * d->ne + (size_t)e];
}

const char *ts_layers_panel_get_detail(TsLayersPanel *self) { return self->detail ? self->detail : ""; }
TsHeatmapView *ts_layers_panel_get_heatmap(TsLayersPanel *self) { return TS_HEATMAP_VIEW(self->heatmap); }
TsLinePlot *ts_layers_panel_get_layer_plot(TsLayersPanel *self) { return TS_LINE_PLOT(self->layer_plot); }
TsLinePlot *ts_layers_panel_get_betti_plot(TsLayersPanel *self) { return TS_LINE_PLOT(self->betti_plot); }
TsLinePlot *ts_layers_panel_get_life_plot(TsLayersPanel *self) { return TS_LINE_PLOT(self->life_plot); }
TsDiagramView *ts_layers_panel_get_layer_diagram(TsLayersPanel *self) { return TS_DIAGRAM_VIEW(self->layer_diagram); }
TsDiagramView *ts_layers_panel_get_graph_diagram(TsLayersPanel *self) { return TS_DIAGRAM_VIEW(self->graph_diagram); }
