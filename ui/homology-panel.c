/* homology-panel.c — Homology panel: worker, plots, teaching slider. */
#include "homology-panel.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "image/filtration.h"
#include "ph/cubical.h"
#include "ph/vectorize.h"
#include "compare-view.h"
#include "plot/plot-common.h"

/* The combo rows' order. */
static const TsFiltrationKind filtrations[4] = {TS_FILT_GREY, TS_FILT_DISTANCE, TS_FILT_SIGNED_DISTANCE,
                                                TS_FILT_GRADIENT};
static const char *const filtration_titles[4] = {"Grey value", "Distance", "Signed distance", "Gradient"};

struct _TsHomologyPanel {
  GtkBox parent;
  GtkWidget *image_row, *filtration_row, *construction_row, *maxdim_spin, *t_scale, *betti0_label, *betti1_label;
  GtkWidget *lifetime_switch, *sort_row, *selection_label, *content_stack, *status_page, *spinner;
  GtkWidget *image_view, *field_view, *diagram_view, *barcode_view, *pi_view, *life_plot;
  GtkWidget *compare_row, *compare_clear, *compare_view;
  /* what is shown */
  TsImage image;
  char *name;
  double *field;
  int fw, fh;
  TsDiagram diagram;
  int betti[2];
  guint generation, in_flight;
  GCancellable *cancel;
  gboolean syncing;
};

G_DEFINE_FINAL_TYPE(TsHomologyPanel, ts_homology_panel, GTK_TYPE_BOX)

enum { PROP_0, PROP_BUSY, N_PROPS };
static GParamSpec *props[N_PROPS];
enum { SIG_MESSAGE, SIG_PICK_SECOND, N_SIGNALS };
static guint signals[N_SIGNALS];

/* --- the worker ---------------------------------------------------------- */

typedef struct {
  char *path;   /* load this file, or … */
  TsImage image; /* … use this picture (owned) */
  char *name;
  TsFiltrationOptions fo;
  TsCubicalOptions co;
} Request;

typedef struct {
  TsImage image;
  char *name;
  double *field;
  int fw, fh, constant;
  TsDiagram diagram;
  TsKajiParams kp;
  double *pi, *life;
  int pi_p[2], pi_q[2];
  char vec_error[TS_ERROR_MSG_MAX];
  double seconds;
} Result;

static void request_free(gpointer p) {
  Request *r = p;
  g_free(r->path);
  g_free(r->name);
  ts_image_clear(&r->image);
  g_free(r);
}

static void result_free(gpointer p) {
  Result *r = p;
  ts_image_clear(&r->image);
  g_free(r->name);
  free(r->field);
  ts_diagram_clear(&r->diagram);
  g_free(r->pi);
  g_free(r->life);
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
  ts_diagram_init(&r->diagram);
  r->name = g_strdup(rq->name);
  if (rq->path) {
    if (ts_image_load(rq->path, &r->image, &err) != TS_OK) goto fail;
  } else {
    r->image = rq->image;
    memset(&rq->image, 0, sizeof rq->image);
  }
  if (g_cancellable_is_cancelled(cancel)) goto cancelled;
  if (ts_filtration_apply(&r->image, &rq->fo, &r->field, &r->fw, &r->fh, &r->constant, &err) != TS_OK) goto fail;
  if (g_cancellable_is_cancelled(cancel)) goto cancelled;
  if (!r->constant) {
    size_t shape[2] = {(size_t)r->fh, (size_t)r->fw}; /* axis 0 = rows */
    /* H0 and H1 on two threads: a pool of this request's own, since an
     * older request may still be running on its pool. */
    TsPool *pool = ts_pool_new(2, &err);
    rq->co.pool = pool; /* NULL on failure: one thread */
    /* a newer request cancels this one: the engine then stops within a few
     * milliseconds instead of finishing a picture nobody will see */
    int stop = 0;
    rq->co.cancel = &stop;
    gulong handler = g_cancellable_connect(cancel, G_CALLBACK(set_stop_flag), &stop, NULL);
    TsStatus st = ts_cubical_ph(r->field, 2, shape, &rq->co, &r->diagram, &err);
    g_cancellable_disconnect(cancel, handler);
    rq->co.cancel = NULL;
    ts_pool_free(pool);
    if (st == TS_ERR_CANCELLED) goto cancelled;
    if (st != TS_OK) goto fail;
  }
  if (g_cancellable_is_cancelled(cancel)) goto cancelled;
  /* Kaji's label vectors: failures here leave the diagram shown */
  ts_kaji_params_default(&r->kp, rq->fo.kind == TS_FILT_SIGNED_DISTANCE);
  r->pi = g_new0(double, r->kp.dims);
  r->life = g_new0(double, r->kp.dims);
  TsError verr = {0};
  if (ts_vec_kaji_persistence_image(&r->diagram, &r->kp, r->pi, &verr) != TS_OK ||
      ts_vec_kaji_life_curve(&r->diagram, &r->kp, r->life, &verr) != TS_OK) {
    g_strlcpy(r->vec_error, verr.message, sizeof r->vec_error);
    g_clear_pointer(&r->pi, g_free);
    g_clear_pointer(&r->life, g_free);
  } else {
    for (int k = 0; k < 2; k++) {
      double s;
      if (ts_kaji_pi_grid(r->kp.max_birth[k] - r->kp.min_birth[k], r->kp.max_life[k], r->kp.dims / 2, &r->pi_p[k],
                          &r->pi_q[k], &s, &verr) != TS_OK)
        r->pi_p[k] = r->pi_q[k] = 0;
    }
  }
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

/* --- showing a result ------------------------------------------------------ */

static void set_busy(TsHomologyPanel *self, int delta) {
  gboolean was = self->in_flight > 0;
  self->in_flight = (guint)((int)self->in_flight + delta);
  gboolean now = self->in_flight > 0;
  if (now) gtk_spinner_start(GTK_SPINNER(self->spinner));
  else gtk_spinner_stop(GTK_SPINNER(self->spinner));
  if (was != now) g_object_notify_by_pspec(G_OBJECT(self), props[PROP_BUSY]);
}

static gboolean same_size(TsHomologyPanel *self) {
  return self->field && self->fw == self->image.width && self->fh == self->image.height;
}

static void update_markers(TsHomologyPanel *self) {
  const uint8_t *sel = ts_diagram_view_get_selected(TS_DIAGRAM_VIEW(self->diagram_view));
  GArray *m = g_array_new(FALSE, TRUE, sizeof(TsHeatmapMarker));
  size_t nsel = 0;
  long last = -1;
  for (size_t i = 0; i < self->diagram.n && sel; i++) {
    if (!sel[i]) continue;
    nsel++;
    last = (long)i;
    if (m->len >= 400) continue; /* a rubber band over thousands: mark the first 200 */
    const TsPair *p = &self->diagram.pairs[i];
    TsHeatmapMarker mk = {0};
    ts_plot_dim_color(p->dim, mk.rgb);
    if (p->birth_at[0] >= 0) {
      mk.row = p->birth_at[0], mk.col = p->birth_at[1], mk.shape = TS_MARKER_BIRTH;
      g_array_append_val(m, mk);
    }
    if (p->death_at[0] >= 0) {
      mk.row = p->death_at[0], mk.col = p->death_at[1], mk.shape = TS_MARKER_DEATH;
      g_array_append_val(m, mk);
    }
  }
  const TsHeatmapMarker *mk = (const TsHeatmapMarker *)(void *)m->data;
  ts_heatmap_view_set_markers(TS_HEATMAP_VIEW(self->field_view), mk, m->len);
  ts_heatmap_view_set_markers(TS_HEATMAP_VIEW(self->image_view), same_size(self) ? mk : NULL,
                              same_size(self) ? m->len : 0);
  g_array_unref(m);
  char *text;
  if (nsel == 1) {
    const TsPair *p = &self->diagram.pairs[last];
    char death[64];
    if (isfinite(p->death))
      snprintf(death, sizeof death, "dies at %.4g (row %d, col %d)", p->death, p->death_at[0], p->death_at[1]);
    else snprintf(death, sizeof death, "never dies");
    text = g_strdup_printf("H%d class born at %.4g (row %d, col %d), %s.", p->dim, p->birth, p->birth_at[0],
                           p->birth_at[1], death);
  } else if (nsel > 1) {
    text = g_strdup_printf("%zu classes selected: rings mark births, crosses deaths.", nsel);
  } else {
    text = g_strdup("Click a point or a bar to mark where its class is born (ring) and dies (cross). "
                    "Right-click a plot to export it.");
  }
  gtk_label_set_text(GTK_LABEL(self->selection_label), text);
  g_free(text);
}

static void update_t(TsHomologyPanel *self) {
  if (!self->field) return;
  double t = gtk_range_get_value(GTK_RANGE(self->t_scale));
  size_t n = (size_t)self->fw * (size_t)self->fh;
  uint8_t *mask = g_malloc(n);
  for (size_t i = 0; i < n; i++) mask[i] = self->field[i] <= t;
  static const double rgba[4] = {0.21, 0.52, 0.89, 0.45}; /* GNOME blue */
  ts_heatmap_view_set_mask(TS_HEATMAP_VIEW(self->field_view), mask, rgba);
  ts_heatmap_view_set_mask(TS_HEATMAP_VIEW(self->image_view), same_size(self) ? mask : NULL, rgba);
  g_free(mask);
  self->betti[0] = self->betti[1] = 0;
  for (size_t i = 0; i < self->diagram.n; i++) {
    const TsPair *p = &self->diagram.pairs[i];
    if (p->dim >= 0 && p->dim < 2 && p->birth <= t && t < p->death) self->betti[p->dim]++;
  }
  char buf[32];
  snprintf(buf, sizeof buf, "%d", self->betti[0]);
  gtk_label_set_text(GTK_LABEL(self->betti0_label), buf);
  snprintf(buf, sizeof buf, "%d", self->betti[1]);
  gtk_label_set_text(GTK_LABEL(self->betti1_label), buf);
  ts_diagram_view_set_t(TS_DIAGRAM_VIEW(self->diagram_view), t);
  ts_barcode_view_set_t(TS_BARCODE_VIEW(self->barcode_view), t);
  ts_line_plot_set_vline(TS_LINE_PLOT(self->life_plot), t);
}

static void show_vectors(TsHomologyPanel *self, Result *r) {
  TsLinePlot *lp = TS_LINE_PLOT(self->life_plot);
  ts_line_plot_clear(lp);
  if (!r->pi || !r->life) {
    ts_heatmap_view_set_field(TS_HEATMAP_VIEW(self->pi_view), NULL, 0, 0);
    if (r->vec_error[0]) g_signal_emit(self, signals[SIG_MESSAGE], 0, r->vec_error);
    return;
  }
  /* PI_0 above PI_1 with a blank row between; persistence upwards, birth
   * to the right; the grid cells are square in (birth, persistence) */
  int nb = r->kp.dims / 2;
  int w = MAX(r->pi_p[0], r->pi_p[1]), h = r->pi_q[0] + 1 + r->pi_q[1];
  if (w > 0 && h > 1) {
    double *f = g_new(double, (size_t)w * h);
    for (int i = 0; i < w * h; i++) f[i] = NAN;
    for (int k = 0; k < 2; k++) {
      int top = k ? r->pi_q[0] + 1 : 0;
      for (int ib = 0; ib < r->pi_p[k]; ib++)
        for (int iq = 0; iq < r->pi_q[k]; iq++) {
          int idx = ib * r->pi_q[k] + iq; /* birth-major, first nb kept */
          if (idx < nb) f[(size_t)(top + r->pi_q[k] - 1 - iq) * w + ib] = r->pi[k * nb + idx];
        }
    }
    ts_heatmap_view_set_field(TS_HEATMAP_VIEW(self->pi_view), f, w, h);
    g_free(f);
  }
  double *x = g_new(double, nb);
  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < nb; i++)
      x[i] = r->kp.min_birth[k] + (nb > 1 ? (r->kp.max_birth[k] - r->kp.min_birth[k]) * i / (nb - 1) : 0);
    guint s = ts_line_plot_add_series(lp, k ? "H1" : "H0");
    ts_line_plot_set_points(lp, s, x, r->life + (size_t)k * nb, (size_t)nb);
  }
  g_free(x);
}

/* The filtration and complex the sidebar asks for. */
static void current_options(TsHomologyPanel *self, TsFiltrationOptions *fo, TsCubicalOptions *co) {
  int fi = (int)adw_combo_row_get_selected(ADW_COMBO_ROW(self->filtration_row));
  ts_filtration_options_default(fo);
  fo->kind = filtrations[fi < 4 ? fi : 2];
  ts_cubical_options_default(co);
  co->construction =
      adw_combo_row_get_selected(ADW_COMBO_ROW(self->construction_row)) == 1 ? TS_CONSTRUCTION_T : TS_CONSTRUCTION_V;
  co->maxdim = gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(self->maxdim_spin));
}

/* With a second image the plots give way to the comparison, recomputed for
 * the image and options shown. */
static void update_compare(TsHomologyPanel *self) {
  TsCompareView *cv = TS_COMPARE_VIEW(self->compare_view);
  gboolean on = ts_compare_view_has_second(cv);
  gtk_widget_set_visible(self->compare_clear, on);
  adw_action_row_set_subtitle(ADW_ACTION_ROW(self->compare_row),
                              on ? ts_compare_view_get_second_name(cv) : "none: open one, or pick a preview in Generate");
  if (on && self->image.pixels) {
    TsFiltrationOptions fo;
    TsCubicalOptions co;
    current_options(self, &fo, &co);
    ts_compare_view_compute(cv, &self->image, self->name, &fo, &co);
  }
  if (self->image.pixels || self->in_flight)
    gtk_stack_set_visible_child_name(GTK_STACK(self->content_stack), on && self->image.pixels ? "compare" : "plots");
}

static void done(GObject *source, GAsyncResult *res, gpointer user_data) {
  (void)user_data;
  TsHomologyPanel *self = TS_HOMOLOGY_PANEL(source);
  GError *error = NULL;
  Result *r = g_task_propagate_pointer(G_TASK(res), &error);
  if (!r) {
    if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_signal_emit(self, signals[SIG_MESSAGE], 0, error->message);
    g_clear_error(&error);
    set_busy(self, -1);
    return;
  }
  ts_image_clear(&self->image);
  self->image = r->image;
  memset(&r->image, 0, sizeof r->image);
  g_free(self->name);
  self->name = g_strdup(r->name);
  free(self->field);
  self->field = r->field, self->fw = r->fw, self->fh = r->fh;
  r->field = NULL;
  ts_diagram_clear(&self->diagram);
  self->diagram = r->diagram;
  ts_diagram_init(&r->diagram);

  int fi = (int)adw_combo_row_get_selected(ADW_COMBO_ROW(self->filtration_row));
  char *sub = g_strdup_printf("%d × %d, %s; %zu pairs in %.2f s", self->image.width, self->image.height,
                              self->image.channels >= 3 ? "colour" : "grey", self->diagram.n, r->seconds);
  adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->image_row), self->name ? self->name : "Image");
  adw_action_row_set_subtitle(ADW_ACTION_ROW(self->image_row), sub);
  g_free(sub);

  ts_heatmap_view_set_image(TS_HEATMAP_VIEW(self->image_view), self->image.pixels, self->image.width,
                            self->image.height, self->image.channels);
  ts_heatmap_view_set_field(TS_HEATMAP_VIEW(self->field_view), self->field, self->fw, self->fh);
  double lo, hi;
  ts_heatmap_field_range(self->field, (size_t)self->fw * self->fh, &lo, &hi);
  if (filtrations[fi] == TS_FILT_SIGNED_DISTANCE) {
    double m = fmax(fabs(lo), fabs(hi));
    ts_heatmap_view_set_colormap(TS_HEATMAP_VIEW(self->field_view), TS_CMAP_DIVERGING);
    ts_heatmap_view_set_range(TS_HEATMAP_VIEW(self->field_view), -m, m);
  } else {
    ts_heatmap_view_set_colormap(TS_HEATMAP_VIEW(self->field_view), TS_CMAP_VIRIDIS);
    ts_heatmap_view_set_range(TS_HEATMAP_VIEW(self->field_view), 0, 0);
  }
  char *title = g_strdup_printf("Filtration: %s", filtration_titles[fi]);
  ts_heatmap_view_set_title(TS_HEATMAP_VIEW(self->field_view), title);
  g_free(title);
  ts_diagram_view_set_diagram(TS_DIAGRAM_VIEW(self->diagram_view), &self->diagram);
  ts_barcode_view_set_diagram(TS_BARCODE_VIEW(self->barcode_view), &self->diagram);
  show_vectors(self, r);

  /* the slider spans the filtration; start where the picture is interesting */
  double step = (hi - lo) / 200.0;
  gtk_range_set_range(GTK_RANGE(self->t_scale), lo, hi > lo ? hi : lo + 1);
  gtk_range_set_increments(GTK_RANGE(self->t_scale), step > 0 ? step : 0.01, step > 0 ? step * 10 : 0.1);
  gtk_scale_set_digits(GTK_SCALE(self->t_scale), hi - lo > 20 ? 1 : 2);
  gtk_widget_set_sensitive(self->t_scale, TRUE);
  double t0 = (filtrations[fi] == TS_FILT_SIGNED_DISTANCE && lo < 0 && hi > 0) ? 0.0 : (lo + hi) / 2;
  if (gtk_range_get_value(GTK_RANGE(self->t_scale)) == t0) update_t(self);
  else gtk_range_set_value(GTK_RANGE(self->t_scale), t0);
  update_t(self);
  update_markers(self);
  self->generation++;
  update_compare(self);
  result_free(r);
  set_busy(self, -1);
}

static void submit(TsHomologyPanel *self, Request *rq) {
  current_options(self, &rq->fo, &rq->co);
  /* the newest request wins: the stale one stops at its next check and its
   * result, if any, is dropped */
  if (self->cancel) g_cancellable_cancel(self->cancel);
  g_clear_object(&self->cancel);
  self->cancel = g_cancellable_new();
  GTask *task = g_task_new(self, self->cancel, done, NULL);
  g_task_set_task_data(task, rq, request_free);
  set_busy(self, +1);
  g_task_run_in_thread(task, worker);
  g_object_unref(task);
}

static void recompute(TsHomologyPanel *self) {
  if (!self->image.pixels) return;
  Request *rq = g_new0(Request, 1);
  if (ts_image_alloc(&rq->image, self->image.width, self->image.height, self->image.channels, NULL) != TS_OK) {
    g_free(rq);
    return;
  }
  memcpy(rq->image.pixels, self->image.pixels,
         (size_t)self->image.width * self->image.height * self->image.channels);
  rq->name = g_strdup(self->name);
  submit(self, rq);
}

/* --- callbacks ------------------------------------------------------------- */

static void on_options_changed(TsHomologyPanel *self) { recompute(self); }
static void on_t_changed(TsHomologyPanel *self) { update_t(self); }

static void on_display_changed(TsHomologyPanel *self) {
  ts_diagram_view_set_lifetime(TS_DIAGRAM_VIEW(self->diagram_view),
                               gtk_switch_get_active(GTK_SWITCH(self->lifetime_switch)));
  ts_barcode_view_set_sort(TS_BARCODE_VIEW(self->barcode_view),
                           adw_combo_row_get_selected(ADW_COMBO_ROW(self->sort_row)) == 1 ? TS_BARCODE_SORT_LIFESPAN
                                                                                           : TS_BARCODE_SORT_BIRTH);
  /* re-sorting keeps the selection flags (they are per pair, not per row) */
  ts_barcode_view_set_selected(TS_BARCODE_VIEW(self->barcode_view),
                               ts_diagram_view_get_selected(TS_DIAGRAM_VIEW(self->diagram_view)), FALSE);
}

static void on_diagram_selection(TsHomologyPanel *self) {
  if (self->syncing) return;
  self->syncing = TRUE;
  ts_barcode_view_set_selected(TS_BARCODE_VIEW(self->barcode_view),
                               ts_diagram_view_get_selected(TS_DIAGRAM_VIEW(self->diagram_view)), FALSE);
  self->syncing = FALSE;
  update_markers(self);
}

static void on_barcode_selection(TsHomologyPanel *self) {
  if (self->syncing) return;
  self->syncing = TRUE;
  ts_diagram_view_set_selected(TS_DIAGRAM_VIEW(self->diagram_view),
                               ts_barcode_view_get_selected(TS_BARCODE_VIEW(self->barcode_view)), FALSE);
  self->syncing = FALSE;
  update_markers(self);
}

static void on_compare_open_response(GtkNativeDialog *d, int response, gpointer user_data) {
  TsHomologyPanel *self = user_data;
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
    char *path = f ? g_file_get_path(f) : NULL;
    if (path) ts_homology_panel_open_second_file(self, path);
    g_free(path);
    if (f) g_object_unref(f);
  }
  g_object_unref(d);
  g_object_unref(self);
}

static void on_compare_open(TsHomologyPanel *self) {
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  GtkFileChooserNative *d = gtk_file_chooser_native_new("Open a Second Image", GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                                        GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(d), TRUE);
  GtkFileFilter *f = gtk_file_filter_new();
  gtk_file_filter_set_name(f, "Images (JPEG, PNG, PGM/PPM, NumPy)");
  const char *pats[] = {"*.jpg", "*.jpeg", "*.png", "*.pgm", "*.ppm", "*.pnm", "*.npy", "*.JPG", "*.PNG"};
  for (size_t i = 0; i < G_N_ELEMENTS(pats); i++) gtk_file_filter_add_pattern(f, pats[i]);
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
  g_object_unref(f);
  g_signal_connect(d, "response", G_CALLBACK(on_compare_open_response), g_object_ref(self));
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void on_compare_pick(TsHomologyPanel *self) { g_signal_emit(self, signals[SIG_PICK_SECOND], 0); }

static void on_compare_clear(TsHomologyPanel *self) {
  ts_compare_view_clear_second(TS_COMPARE_VIEW(self->compare_view));
  update_compare(self);
}

static void on_compare_message(TsHomologyPanel *self, const char *text) {
  g_signal_emit(self, signals[SIG_MESSAGE], 0, text);
  update_compare(self); /* an unreadable second image was dropped */
}

static gboolean on_drop(GtkDropTarget *t, const GValue *value, double x, double y, TsHomologyPanel *self) {
  (void)t, (void)x, (void)y;
  if (!G_VALUE_HOLDS(value, GDK_TYPE_FILE_LIST)) return FALSE;
  GSList *files = gdk_file_list_get_files(g_value_get_boxed(value));
  if (!files) return FALSE;
  char *path = g_file_get_path(files->data);
  g_slist_free(files);
  if (!path) return FALSE;
  ts_homology_panel_open_file(self, path);
  g_free(path);
  return TRUE;
}

/* --- object ---------------------------------------------------------------- */

static void ts_homology_panel_get_property(GObject *o, guint id, GValue *v, GParamSpec *ps) {
  TsHomologyPanel *self = TS_HOMOLOGY_PANEL(o);
  if (id == PROP_BUSY) g_value_set_boolean(v, self->in_flight > 0);
  else G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, ps);
}

static void ts_homology_panel_dispose(GObject *o) {
  TsHomologyPanel *self = TS_HOMOLOGY_PANEL(o);
  if (self->cancel) g_cancellable_cancel(self->cancel);
  g_clear_object(&self->cancel);
  gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_HOMOLOGY_PANEL);
  G_OBJECT_CLASS(ts_homology_panel_parent_class)->dispose(o);
}

static void ts_homology_panel_finalize(GObject *o) {
  TsHomologyPanel *self = TS_HOMOLOGY_PANEL(o);
  ts_image_clear(&self->image);
  g_free(self->name);
  free(self->field);
  ts_diagram_clear(&self->diagram);
  G_OBJECT_CLASS(ts_homology_panel_parent_class)->finalize(o);
}

static void ts_homology_panel_class_init(TsHomologyPanelClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->get_property = ts_homology_panel_get_property;
  oc->dispose = ts_homology_panel_dispose;
  oc->finalize = ts_homology_panel_finalize;
  props[PROP_BUSY] = g_param_spec_boolean("busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(oc, N_PROPS, props);
  signals[SIG_MESSAGE] = g_signal_new("message", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                      G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIG_PICK_SECOND] = g_signal_new("pick-second", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                          NULL, G_TYPE_NONE, 0);
  g_type_ensure(TS_TYPE_COMPARE_VIEW);
  g_type_ensure(TS_TYPE_HEATMAP_VIEW);
  g_type_ensure(TS_TYPE_DIAGRAM_VIEW);
  g_type_ensure(TS_TYPE_BARCODE_VIEW);
  g_type_ensure(TS_TYPE_LINE_PLOT);
  gtk_widget_class_set_template_from_resource(wc, "/org/toposcope/Toposcope/ui/homology-panel.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, TsHomologyPanel, name)
  CHILD(image_row);
  CHILD(filtration_row);
  CHILD(construction_row);
  CHILD(maxdim_spin);
  CHILD(t_scale);
  CHILD(betti0_label);
  CHILD(betti1_label);
  CHILD(lifetime_switch);
  CHILD(sort_row);
  CHILD(selection_label);
  CHILD(content_stack);
  CHILD(status_page);
  CHILD(spinner);
  CHILD(image_view);
  CHILD(field_view);
  CHILD(diagram_view);
  CHILD(barcode_view);
  CHILD(pi_view);
  CHILD(life_plot);
  CHILD(compare_row);
  CHILD(compare_clear);
  CHILD(compare_view);
#undef CHILD
  gtk_widget_class_bind_template_callback(wc, on_options_changed);
  gtk_widget_class_bind_template_callback(wc, on_t_changed);
  gtk_widget_class_bind_template_callback(wc, on_display_changed);
  gtk_widget_class_bind_template_callback(wc, on_diagram_selection);
  gtk_widget_class_bind_template_callback(wc, on_barcode_selection);
  gtk_widget_class_bind_template_callback(wc, on_compare_open);
  gtk_widget_class_bind_template_callback(wc, on_compare_pick);
  gtk_widget_class_bind_template_callback(wc, on_compare_clear);
  gtk_widget_class_bind_template_callback(wc, on_compare_message);
}

static void ts_homology_panel_init(TsHomologyPanel *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  ts_diagram_init(&self->diagram);
  ts_heatmap_view_set_title(TS_HEATMAP_VIEW(self->image_view), "Image and sublevel set {f ≤ t}");
  ts_heatmap_view_set_colorbar(TS_HEATMAP_VIEW(self->image_view), FALSE);
  ts_heatmap_view_set_title(TS_HEATMAP_VIEW(self->field_view), "Filtration");
  ts_heatmap_view_set_title(TS_HEATMAP_VIEW(self->pi_view), "Persistence image: H0 over H1");
  ts_heatmap_view_set_colormap(TS_HEATMAP_VIEW(self->pi_view), TS_CMAP_MAGMA);
  ts_diagram_view_set_title(TS_DIAGRAM_VIEW(self->diagram_view), "Persistence diagram");
  ts_barcode_view_set_title(TS_BARCODE_VIEW(self->barcode_view), "Barcode");
  ts_line_plot_set_labels(TS_LINE_PLOT(self->life_plot), "Life curve", "filtration value t", "√ Σ lifespans alive");
  GtkDropTarget *drop = gtk_drop_target_new(GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect(drop, "drop", G_CALLBACK(on_drop), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));
}

void ts_homology_panel_set_image(TsHomologyPanel *self, const TsImage *img, const char *name) {
  Request *rq = g_new0(Request, 1);
  if (ts_image_alloc(&rq->image, img->width, img->height, img->channels, NULL) != TS_OK) {
    g_free(rq);
    return;
  }
  memcpy(rq->image.pixels, img->pixels, (size_t)img->width * img->height * img->channels);
  rq->name = g_strdup(name);
  submit(self, rq);
}

void ts_homology_panel_open_file(TsHomologyPanel *self, const char *path) {
  Request *rq = g_new0(Request, 1);
  rq->path = g_strdup(path);
  rq->name = g_path_get_basename(path);
  submit(self, rq);
}

gboolean ts_homology_panel_has_image(TsHomologyPanel *self) { return self->image.pixels != NULL || self->in_flight; }
gboolean ts_homology_panel_is_busy(TsHomologyPanel *self) { return self->in_flight > 0; }
guint ts_homology_panel_get_generation(TsHomologyPanel *self) { return self->generation; }

void ts_homology_panel_set_t(TsHomologyPanel *self, double t) { gtk_range_set_value(GTK_RANGE(self->t_scale), t); }

int ts_homology_panel_get_betti(TsHomologyPanel *self, int k) { return k >= 0 && k < 2 ? self->betti[k] : 0; }

void ts_homology_panel_select_pair(TsHomologyPanel *self, long i) {
  uint8_t *flags = g_malloc0(self->diagram.n + 1);
  if (i >= 0 && (size_t)i < self->diagram.n) flags[i] = 1;
  ts_diagram_view_set_selected(TS_DIAGRAM_VIEW(self->diagram_view), flags, TRUE);
  g_free(flags);
}

void ts_homology_panel_toggle_lifetime(TsHomologyPanel *self) {
  gtk_switch_set_active(GTK_SWITCH(self->lifetime_switch), !gtk_switch_get_active(GTK_SWITCH(self->lifetime_switch)));
}

void ts_homology_panel_set_filtration(TsHomologyPanel *self, int index) {
  adw_combo_row_set_selected(ADW_COMBO_ROW(self->filtration_row), (guint)index);
}

TsDiagramView *ts_homology_panel_get_diagram_view(TsHomologyPanel *self) { return TS_DIAGRAM_VIEW(self->diagram_view); }
TsBarcodeView *ts_homology_panel_get_barcode_view(TsHomologyPanel *self) { return TS_BARCODE_VIEW(self->barcode_view); }
TsHeatmapView *ts_homology_panel_get_image_view(TsHomologyPanel *self) { return TS_HEATMAP_VIEW(self->image_view); }
TsHeatmapView *ts_homology_panel_get_field_view(TsHomologyPanel *self) { return TS_HEATMAP_VIEW(self->field_view); }
TsLinePlot *ts_homology_panel_get_life_plot(TsHomologyPanel *self) { return TS_LINE_PLOT(self->life_plot); }

void ts_homology_panel_set_second_image(TsHomologyPanel *self, const TsImage *img, const char *name) {
  ts_compare_view_set_second_image(TS_COMPARE_VIEW(self->compare_view), img, name);
  update_compare(self);
}

void ts_homology_panel_open_second_file(TsHomologyPanel *self, const char *path) {
  ts_compare_view_set_second_file(TS_COMPARE_VIEW(self->compare_view), path);
  update_compare(self);
}

void ts_homology_panel_clear_second(TsHomologyPanel *self) { on_compare_clear(self); }

TsCompareView *ts_homology_panel_get_compare_view(TsHomologyPanel *self) { return TS_COMPARE_VIEW(self->compare_view); }
