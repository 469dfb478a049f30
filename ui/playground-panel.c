/* playground-panel.c — the Playground panel: controls, worker, views. */
#include "playground-panel.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

#include "panel-layout.h"
#include "ph/bottleneck.h"
#include "ph/rips.h"
#include "ph/wasserstein.h"
#include "plot/plot-common.h"
#include "plot/plot-export.h"
#include "topo/topoloss.h"

/* While playing, at most this many snapshots a second go to the screen
 * (the worker keeps stepping in between). */
#define PUBLISH_HZ 30.0
/* W2 by the auction to within this factor of the optimal cost: exact
 * assignment is cubic and the playground redraws it every frame. */
#define W2_RELATIVE_ERROR 0.01

/* --- the worker's side ------------------------------------------------------ */

typedef struct {
  int64_t step;
  double total;
} LossPoint;

/* What the worker shows: everything is the worker's own copy. */
typedef struct {
  TsCloud points;     /* the worker's cloud now: the diagrams belong to it */
  TsDiagram diag[2];  /* cloud, target (full Rips diagrams, essential classes included) */
  TsMatching matching;
  double distance;
  int64_t step;
  double loss, rate;
  double values[TS_PLAYGROUND_LOSSES];
  int used_push0;
  GArray *losses; /* LossPoint since the last snapshot shown */
  char error[TS_ERROR_MSG_MAX];
  guint seq; /* the request it answers */
} Snapshot;

typedef struct {
  gint ref;
  GMutex lock;
  GCond cond;
  GThread *thread;
  /* main -> worker (under lock) */
  int quit, playing, steps;
  int new_cloud, new_target, want_diagrams;
  TsCloud cloud_in, target_in;
  double lr, weights[TS_PLAYGROUND_LOSSES];
  int metric, dim;
  int64_t step_in; /* with new_cloud: the step counter to continue from */
  guint seq;       /* bumped by every request */
  /* worker -> main (under lock) */
  Snapshot *out;
  guint idle;
  gboolean busy; /* a request is being worked on or waits to be shown */
  GWeakRef panel;
} Shared;

static void snapshot_free(Snapshot *s) {
  if (!s) return;
  ts_cloud_clear(&s->points);
  ts_diagram_clear(&s->diag[0]);
  ts_diagram_clear(&s->diag[1]);
  ts_matching_clear(&s->matching);
  if (s->losses) g_array_unref(s->losses);
  g_free(s);
}

static Shared *shared_ref(Shared *s) {
  g_atomic_int_inc(&s->ref);
  return s;
}

static void shared_unref(gpointer p) {
  Shared *s = p;
  if (!g_atomic_int_dec_and_test(&s->ref)) return;
  snapshot_free(s->out);
  ts_cloud_clear(&s->cloud_in);
  ts_cloud_clear(&s->target_in);
  g_weak_ref_clear(&s->panel);
  g_mutex_clear(&s->lock);
  g_cond_clear(&s->cond);
  g_free(s);
}

static TsStatus rips_of(const TsCloud *c, TsDiagram *out, TsError *err) {
  ts_diagram_clear(out);
  ts_diagram_init(out);
  if (c->n == 0) return TS_OK;
  TsRipsOptions o;
  ts_rips_options_init(&o);
  o.maxdim = 1;
  return ts_rips_ph_points(c->xy, c->n, 2, &o, out, err);
}

static TsStatus match(const TsDiagram *a, const TsDiagram *b, int metric, int dim, double *dist, TsMatching *m,
                      TsError *err) {
  ts_matching_clear(m);
  if (metric == 1) {
    TsWassersteinOptions wo;
    ts_wasserstein_options_default(&wo);
    wo.p = 2;
    wo.relative_error = W2_RELATIVE_ERROR;
    return ts_wasserstein_distance(a, b, dim, &wo, dist, m, err);
  }
  return ts_bottleneck_distance(a, b, dim, dist, m, err);
}

/* The full diagram of the cloud the loss was just evaluated at: the finite
 * pairs the loss used and the essential component (a Rips complex of a
 * finite metric space is connected at its enclosing radius). */
static TsStatus display_diagram(const TsTopoWork *work, size_t n, TsDiagram *out, TsError *err) {
  ts_diagram_clear(out);
  ts_diagram_init(out);
  const TsTopoDiagram *t = ts_topo_work_diagram(work);
  TsStatus st = ts_diagram_copy(out, &t->fin, err);
  if (st) return st;
  if (n > 0) {
    TsPair p = {.birth = 0, .death = INFINITY, .dim = 0, .birth_at = {0, -1, -1, -1}, .death_at = {-1, -1, -1, -1}};
    if ((st = ts_diagram_push(out, &p, err))) return st;
  }
  out->maxdim = 1;
  out->loc = TS_LOC_EDGES;
  ts_diagram_sort(out);
  return TS_OK;
}

static gboolean apply_snapshot(gpointer data);

/* Replaces an unread snapshot (its loss points are kept) and makes sure
 * the main loop will look. */
static void publish(Shared *sh, Snapshot *s) {
  g_mutex_lock(&sh->lock);
  if (sh->out) {
    if (sh->out->losses && s->losses) g_array_prepend_vals(s->losses, sh->out->losses->data, sh->out->losses->len);
    snapshot_free(sh->out);
  }
  sh->out = s;
  if (!sh->idle) sh->idle = g_idle_add_full(G_PRIORITY_DEFAULT, apply_snapshot, shared_ref(sh), shared_unref);
  g_mutex_unlock(&sh->lock);
}

static gpointer worker_main(gpointer data) {
  Shared *sh = data;
  TsError err = {0};
  TsCloud x, target;
  ts_cloud_init(&x);
  ts_cloud_init(&target);
  TsDiagram tdiag;
  ts_diagram_init(&tdiag);
  TsTopoDiagram ttopo;
  ts_topo_diagram_init(&ttopo);
  TsTopoWork *work = ts_topo_work_new(NULL, &err);
  double *grad = NULL, *m1 = NULL, *m2 = NULL;
  size_t cap = 0;
  int64_t step = 0, adam_t = 0;
  double lr = 0.01, weights[TS_PLAYGROUND_LOSSES] = {0};
  int metric = 0, dim = 1;
  gint64 last_publish = 0, rate_t0 = 0;
  int64_t rate_steps = 0;
  double rate = 0;
  GArray *losses = g_array_new(FALSE, FALSE, sizeof(LossPoint));
  TsTopoResult last = {0};
  int have_last = 0;
  for (;;) {
    g_mutex_lock(&sh->lock);
    while (!sh->quit && !sh->playing && sh->steps == 0 && !sh->want_diagrams && !sh->new_cloud && !sh->new_target)
      g_cond_wait(&sh->cond, &sh->lock);
    if (sh->quit) {
      g_mutex_unlock(&sh->lock);
      break;
    }
    int adopt = sh->new_cloud, retarget = sh->new_target, show = sh->want_diagrams || adopt || retarget;
    if (adopt) {
      ts_cloud_copy(&x, &sh->cloud_in, NULL);
      step = sh->step_in;
    }
    if (retarget) ts_cloud_copy(&target, &sh->target_in, NULL);
    sh->new_cloud = sh->new_target = sh->want_diagrams = 0;
    lr = sh->lr;
    memcpy(weights, sh->weights, sizeof weights);
    metric = sh->metric, dim = sh->dim;
    int stepping = sh->playing || sh->steps > 0;
    if (sh->steps > 0) sh->steps--;
    int playing = sh->playing;
    guint seq = sh->seq;
    g_mutex_unlock(&sh->lock);

    char error[TS_ERROR_MSG_MAX] = "";
    if (adopt || x.n * 2 > cap) {
      /* new points: Adam's moments start again */
      cap = x.cap * 2 + 2;
      g_free(grad), g_free(m1), g_free(m2);
      grad = g_new0(double, cap), m1 = g_new0(double, cap), m2 = g_new0(double, cap);
      adam_t = 0;
    }
    if (retarget) {
      if (rips_of(&target, &tdiag, &err) != TS_OK ||
          ts_topo_diagram_from(&ttopo, &tdiag, &err) != TS_OK)
        g_strlcpy(error, err.message, sizeof error);
    }
    if (stepping && work && x.n >= 2 && !error[0]) {
      TsTopoConfig cfg;
      ts_topo_config_init(&cfg);
      memcpy(cfg.weights, weights, sizeof cfg.weights);
      cfg.push0_fallback = 1; /* as Topo-GEN's synthetic tests */
      TsTopoResult res;
      gint64 t_now = g_get_monotonic_time();
      /* a frame is due: it shows the points the loss is evaluated at, with
       * the diagram the loss computed for them (no second Rips) */
      int frame = playing && t_now - last_publish >= G_USEC_PER_SEC / PUBLISH_HZ;
      if (ts_topo_loss_f64(work, x.xy, x.n, 2, &ttopo, &cfg, grad, &res, &err) != TS_OK) {
        g_strlcpy(error, err.message, sizeof error);
        g_mutex_lock(&sh->lock);
        sh->playing = 0, sh->steps = 0;
        g_mutex_unlock(&sh->lock);
        playing = 0;
      } else {
        if (frame) {
          Snapshot *s = g_new0(Snapshot, 1);
          ts_cloud_init(&s->points);
          ts_diagram_init(&s->diag[0]);
          ts_diagram_init(&s->diag[1]);
          ts_matching_init(&s->matching);
          s->seq = seq;
          ts_cloud_copy(&s->points, &x, NULL);
          s->step = step;
          s->rate = rate;
          s->loss = res.used_push0 ? res.push0 : res.total;
          memcpy(s->values, res.value, sizeof s->values);
          s->used_push0 = res.used_push0;
          s->losses = losses;
          losses = g_array_new(FALSE, FALSE, sizeof(LossPoint));
          TsError e2 = {0};
          if (display_diagram(work, x.n, &s->diag[0], &e2) != TS_OK || ts_diagram_copy(&s->diag[1], &tdiag, &e2) != TS_OK ||
              match(&s->diag[0], &s->diag[1], metric, dim, &s->distance, &s->matching, &e2) != TS_OK) {
            g_strlcpy(s->error, e2.message, sizeof s->error);
            s->distance = NAN;
          }
          last_publish = t_now;
          publish(sh, s);
        }
        /* Adam (PyTorch's defaults: betas 0.9, 0.999, eps 1e-8) */
        adam_t++;
        double b1 = 0.9, b2 = 0.999, c1 = 1 - pow(b1, (double)adam_t), c2 = 1 - pow(b2, (double)adam_t);
        for (size_t i = 0; i < 2 * x.n; i++) {
          m1[i] = b1 * m1[i] + (1 - b1) * grad[i];
          m2[i] = b2 * m2[i] + (1 - b2) * grad[i] * grad[i];
          x.xy[i] -= lr * (m1[i] / c1) / (sqrt(m2[i] / c2) + 1e-8);
        }
        LossPoint lp = {step, res.used_push0 ? res.push0 : res.total};
        step++;
        last = res, have_last = 1;
        g_array_append_val(losses, lp);
        gint64 now = g_get_monotonic_time();
        if (!rate_t0) rate_t0 = now, rate_steps = 0;
        rate_steps++;
        if (now - rate_t0 >= G_USEC_PER_SEC / 2) {
          rate = rate_steps / ((now - rate_t0) / 1e6);
          rate_t0 = now, rate_steps = 0;
        }
        show = !playing; /* while playing, frames go out before the update above */
      }
    } else if (stepping && x.n < 2 && !error[0]) {
      g_strlcpy(error, "training needs at least two points", sizeof error);
      g_mutex_lock(&sh->lock);
      sh->playing = 0, sh->steps = 0;
      g_mutex_unlock(&sh->lock);
      playing = 0;
    }
    if (!playing) rate_t0 = 0, rate = 0;
    gint64 now = g_get_monotonic_time();
    g_mutex_lock(&sh->lock);
    int more = sh->steps > 0 || sh->new_cloud || sh->new_target || sh->want_diagrams;
    g_mutex_unlock(&sh->lock);
    /* while playing, show at most PUBLISH_HZ frames a second; otherwise
     * show every answer the main side waits for */
    if (!show && !error[0]) continue;
    if (!playing && more && !error[0] && !adopt && !retarget) continue; /* a burst of Step: show its end */
    last_publish = now;
    Snapshot *s = g_new0(Snapshot, 1);
    ts_cloud_init(&s->points);
    ts_diagram_init(&s->diag[0]);
    ts_diagram_init(&s->diag[1]);
    ts_matching_init(&s->matching);
    s->seq = seq;
    ts_cloud_copy(&s->points, &x, NULL);
    s->step = step;
    s->rate = rate;
    s->loss = have_last ? (last.used_push0 ? last.push0 : last.total) : NAN;
    memcpy(s->values, last.value, sizeof s->values);
    s->used_push0 = last.used_push0;
    s->losses = losses;
    losses = g_array_new(FALSE, FALSE, sizeof(LossPoint));
    if (error[0]) g_strlcpy(s->error, error, sizeof s->error);
    TsError e2 = {0};
    if (rips_of(&x, &s->diag[0], &e2) != TS_OK || ts_diagram_copy(&s->diag[1], &tdiag, &e2) != TS_OK ||
        match(&s->diag[0], &s->diag[1], metric, dim, &s->distance, &s->matching, &e2) != TS_OK) {
      if (!s->error[0]) g_strlcpy(s->error, e2.message, sizeof s->error);
      s->distance = NAN;
    }
    publish(sh, s);
  }
  ts_topo_work_free(work);
  ts_topo_diagram_clear(&ttopo);
  ts_diagram_clear(&tdiag);
  ts_cloud_clear(&x);
  ts_cloud_clear(&target);
  g_free(grad), g_free(m1), g_free(m2);
  g_array_unref(losses);
  shared_unref(sh);
  return NULL;
}

/* --- the panel ----------------------------------------------------------------- */

struct _TsPlaygroundPanel {
  GtkBox parent;
  GtkWidget *edit_row, *preset_row, *seed_spin, *points_row;
  GtkWidget *r_scale, *beta0_label, *beta1_label, *complex_label;
  GtkWidget *metric_row, *dim_row, *distance_label;
  GtkWidget *weight_spin[TS_PLAYGROUND_LOSSES], *lr_spin, *play_button, *step_button, *train_label;
  GtkWidget *record_switch, *hint_label;
  GtkWidget *canvas, *matching_view, *barcode[2], *loss_plot;
  TsPlaygroundState st; /* clouds, weights, lr, step, r, metric */
  TsDiagram diag[2];
  double distance, loss, rate;
  int betti[2][2];
  guint generation, loss_series;
  gboolean playing, syncing;
  char *record_dir;
  guint frame_no;
  Shared *sh;
};

G_DEFINE_FINAL_TYPE(TsPlaygroundPanel, ts_playground_panel, GTK_TYPE_BOX)

enum { SIG_MESSAGE, N_SIGNALS };
static guint signals[N_SIGNALS];

static void read_controls(TsPlaygroundPanel *self) {
  for (int k = 0; k < TS_PLAYGROUND_LOSSES; k++)
    self->st.weights[k] = gtk_spin_button_get_value(GTK_SPIN_BUTTON(self->weight_spin[k]));
  self->st.lr = gtk_spin_button_get_value(GTK_SPIN_BUTTON(self->lr_spin));
  self->st.metric = (int)adw_combo_row_get_selected(ADW_COMBO_ROW(self->metric_row));
  guint d = adw_combo_row_get_selected(ADW_COMBO_ROW(self->dim_row));
  self->st.dim = d == 0 ? 0 : d == 1 ? 1 : -1;
}

/* Hands the worker what changed. cloud/target: new points to adopt. */
static void request(TsPlaygroundPanel *self, gboolean cloud, gboolean target) {
  read_controls(self);
  Shared *sh = self->sh;
  g_mutex_lock(&sh->lock);
  if (cloud) {
    ts_cloud_copy(&sh->cloud_in, &self->st.cloud, NULL);
    sh->step_in = self->st.step;
    sh->new_cloud = 1;
  }
  if (target) {
    ts_cloud_copy(&sh->target_in, &self->st.target, NULL);
    sh->new_target = 1;
  }
  sh->want_diagrams = 1;
  sh->lr = self->st.lr;
  memcpy(sh->weights, self->st.weights, sizeof sh->weights);
  sh->metric = self->st.metric, sh->dim = self->st.dim;
  sh->playing = self->playing;
  sh->seq++;
  sh->busy = TRUE;
  g_cond_signal(&sh->cond);
  g_mutex_unlock(&sh->lock);
}

static void update_betti(TsPlaygroundPanel *self) {
  double r = self->st.r;
  for (int k = 0; k < 2; k++) {
    self->betti[k][0] = self->betti[k][1] = 0;
    for (size_t i = 0; i < self->diag[k].n; i++) {
      const TsPair *p = &self->diag[k].pairs[i];
      if (p->dim >= 0 && p->dim < 2 && p->birth <= r && r < p->death) self->betti[k][p->dim]++;
    }
  }
  char buf[96];
  snprintf(buf, sizeof buf, "%d  <span alpha=\"60%%\">(target %d)</span>", self->betti[0][0], self->betti[1][0]);
  gtk_label_set_markup(GTK_LABEL(self->beta0_label), buf);
  snprintf(buf, sizeof buf, "%d  <span alpha=\"60%%\">(target %d)</span>", self->betti[0][1], self->betti[1][1]);
  gtk_label_set_markup(GTK_LABEL(self->beta1_label), buf);
  int active = ts_point_canvas_get_active(TS_POINT_CANVAS(self->canvas));
  TsPointCanvasCounts c;
  ts_point_canvas_count(active ? &self->st.target : &self->st.cloud, r, &c);
  snprintf(buf, sizeof buf, "%zu edges, %zu triangles%s", c.edges, c.triangles,
           c.triangles > TS_POINT_CANVAS_MAX_TRIANGLES ? " (too many to draw)" : "");
  adw_action_row_set_subtitle(ADW_ACTION_ROW(self->complex_label), buf);
  ts_point_canvas_set_r(TS_POINT_CANVAS(self->canvas), r);
  for (int k = 0; k < 2; k++) ts_barcode_view_set_t(TS_BARCODE_VIEW(self->barcode[k]), r);
}

/* The scrubber spans the diagrams' finite values with some room. */
static void update_r_range(TsPlaygroundPanel *self) {
  double hi = 0;
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < self->diag[k].n; i++)
      if (isfinite(self->diag[k].pairs[i].death)) hi = fmax(hi, self->diag[k].pairs[i].death);
  if (!(hi > 0)) hi = 1;
  hi *= 1.15;
  GtkAdjustment *adj = gtk_range_get_adjustment(GTK_RANGE(self->r_scale));
  double lo_was = gtk_adjustment_get_lower(adj), hi_was = gtk_adjustment_get_upper(adj);
  /* while training the range only grows, so the slider does not run away */
  if (self->playing && hi <= hi_was && lo_was == 0) return;
  self->syncing = TRUE;
  gtk_adjustment_configure(adj, isfinite(self->st.r) ? fmin(self->st.r, hi) : hi / 4, 0, hi, hi / 200, hi / 20, 0);
  self->syncing = FALSE;
  self->st.r = gtk_adjustment_get_value(adj);
}

static void show_summary(TsPlaygroundPanel *self) {
  char *text;
  const char *name = self->st.metric == 1 ? "W₂" : "Bottleneck";
  const char *dims = self->st.dim == 0 ? "H0" : self->st.dim == 1 ? "H1" : "H0+H1";
  if (isfinite(self->distance))
    text = g_strdup_printf("<span size=\"x-large\" weight=\"bold\">%.4g</span>\n%s distance on %s, cloud to target",
                           self->distance, name, dims);
  else
    text = g_strdup_printf("<span size=\"x-large\" weight=\"bold\">—</span>\n%s distance on %s", name, dims);
  gtk_label_set_markup(GTK_LABEL(self->distance_label), text);
  g_free(text);
  char loss[32] = "—", rate[32] = "paused";
  if (isfinite(self->loss)) snprintf(loss, sizeof loss, "%.4g", self->loss);
  if (self->playing) snprintf(rate, sizeof rate, "%.0f steps/s", self->rate);
  char *t = g_strdup_printf("step %lld · loss %s · %s", (long long)self->st.step, loss, rate);
  gtk_label_set_text(GTK_LABEL(self->train_label), t);
  g_free(t);
  char *sub = g_strdup_printf("cloud %zu, target %zu", self->st.cloud.n, self->st.target.n);
  adw_action_row_set_subtitle(ADW_ACTION_ROW(self->points_row), sub);
  g_free(sub);
}

static void write_frame(TsPlaygroundPanel *self) {
  if (!self->record_dir) return;
  char name[32];
  snprintf(name, sizeof name, "frame-%06u.png", self->frame_no++);
  char *path = g_build_filename(self->record_dir, name, NULL);
  GError *error = NULL;
  if (!ts_playground_panel_export_frame(self, path, &error)) {
    g_signal_emit(self, signals[SIG_MESSAGE], 0, error->message);
    g_clear_error(&error);
    ts_playground_panel_record(self, NULL);
  }
  g_free(path);
}

static gboolean apply_snapshot(gpointer data) {
  Shared *sh = data;
  TsPlaygroundPanel *self = g_weak_ref_get(&sh->panel);
  g_mutex_lock(&sh->lock);
  Snapshot *s = sh->out;
  sh->out = NULL;
  sh->idle = 0;
  /* the newest request has been answered: nothing more to wait for */
  gboolean current = s && s->seq == sh->seq;
  if (current && !sh->playing && sh->steps == 0) sh->busy = FALSE;
  g_mutex_unlock(&sh->lock);
  if (!self || !s) {
    snapshot_free(s);
    if (self) g_object_unref(self);
    return G_SOURCE_REMOVE;
  }
  if (current) {
    /* the worker's points are the truth (moved by the optimiser, or the
     * edit it adopted); an edit made since is on its way and wins next time */
    ts_cloud_copy(&self->st.cloud, &s->points, NULL);
    self->st.step = s->step;
  }
  /* the diagrams belong to s->points: show them only when those are the
   * points on screen */
  gboolean match_ok = s->points.n == self->st.cloud.n &&
                      (s->points.n == 0 || memcmp(s->points.xy, self->st.cloud.xy, 2 * s->points.n * sizeof(double)) == 0);
  if (match_ok) {
    for (int k = 0; k < 2; k++) {
      ts_diagram_clear(&self->diag[k]);
      self->diag[k] = s->diag[k];
      ts_diagram_init(&s->diag[k]);
      ts_barcode_view_set_diagram(TS_BARCODE_VIEW(self->barcode[k]), &self->diag[k]);
    }
    self->distance = s->distance;
    ts_matching_view_set(TS_MATCHING_VIEW(self->matching_view), &self->diag[0], &self->diag[1], &s->matching);
    ts_matching_view_set_dims(TS_MATCHING_VIEW(self->matching_view), self->st.dim >= 0 ? 1u << self->st.dim : 0);
    char title[128];
    snprintf(title, sizeof title, "Matching: %s on %s = %.4g",
             self->st.metric == 1 ? "W₂" : "bottleneck", self->st.dim == 0 ? "H0" : self->st.dim == 1 ? "H1" : "H0+H1",
             self->distance);
    ts_matching_view_set_title(TS_MATCHING_VIEW(self->matching_view), title);
    self->generation++;
  }
  self->loss = s->loss;
  self->rate = s->rate;
  TsLinePlot *lp = TS_LINE_PLOT(self->loss_plot);
  for (guint i = 0; s->losses && i < s->losses->len; i++) {
    LossPoint *p = &g_array_index(s->losses, LossPoint, i);
    if (isfinite(p->total)) ts_line_plot_append(lp, self->loss_series, (double)p->step, p->total);
  }
  if (s->error[0]) {
    g_signal_emit(self, signals[SIG_MESSAGE], 0, s->error);
    g_mutex_lock(&sh->lock);
    gboolean still = sh->playing;
    g_mutex_unlock(&sh->lock);
    if (!still && self->playing) ts_playground_panel_play(self, FALSE);
  }
  ts_point_canvas_refresh(TS_POINT_CANVAS(self->canvas), FALSE);
  update_r_range(self);
  update_betti(self);
  show_summary(self);
  if (match_ok) write_frame(self);
  snapshot_free(s);
  g_object_unref(self);
  return G_SOURCE_REMOVE;
}

/* --- callbacks ------------------------------------------------------------- */

static void on_canvas_changed(TsPlaygroundPanel *self) {
  int active = ts_point_canvas_get_active(TS_POINT_CANVAS(self->canvas));
  if (active) self->st.target_preset[0] = '\0';
  else self->st.preset[0] = '\0';
  request(self, !active, active);
  show_summary(self);
}

static void on_edit_changed(TsPlaygroundPanel *self) {
  ts_point_canvas_set_active(TS_POINT_CANVAS(self->canvas), (int)adw_combo_row_get_selected(ADW_COMBO_ROW(self->edit_row)));
  update_betti(self);
}

static void on_r_changed(TsPlaygroundPanel *self) {
  if (self->syncing) return;
  self->st.r = gtk_range_get_value(GTK_RANGE(self->r_scale));
  update_betti(self);
}

static void on_options_changed(TsPlaygroundPanel *self) {
  if (self->syncing) return;
  request(self, FALSE, FALSE);
}

static void load_into(TsPlaygroundPanel *self, int which) {
  guint i = adw_combo_row_get_selected(ADW_COMBO_ROW(self->preset_row));
  const TsPlaygroundPreset *p = ts_playground_preset_get(i);
  if (p) ts_playground_panel_load_preset(self, p->id, which);
}
static void on_load_cloud(TsPlaygroundPanel *self) { load_into(self, 0); }
static void on_load_target(TsPlaygroundPanel *self) { load_into(self, 1); }

static void on_clear(TsPlaygroundPanel *self) {
  int active = ts_point_canvas_get_active(TS_POINT_CANVAS(self->canvas));
  ts_cloud_clear(active ? &self->st.target : &self->st.cloud);
  ts_point_canvas_refresh(TS_POINT_CANVAS(self->canvas), TRUE);
  on_canvas_changed(self);
}

static void on_delete(TsPlaygroundPanel *self) {
  if (ts_point_canvas_delete_selected(TS_POINT_CANVAS(self->canvas)) == 0)
    g_signal_emit(self, signals[SIG_MESSAGE], 0, "Select points first: Shift-click them or Shift-drag a box");
}

static void on_play(TsPlaygroundPanel *self) {
  ts_playground_panel_play(self, gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->play_button)));
}

static void on_step(TsPlaygroundPanel *self) { ts_playground_panel_step(self, 1); }

static void on_reset_loss(TsPlaygroundPanel *self) {
  ts_line_plot_clear(TS_LINE_PLOT(self->loss_plot));
  self->loss_series = ts_line_plot_add_series(TS_LINE_PLOT(self->loss_plot), "loss");
}

static void on_barcode_selection(TsPlaygroundPanel *self, TsBarcodeView *bv) {
  int which = GTK_WIDGET(bv) == self->barcode[1];
  const uint8_t *sel = ts_barcode_view_get_selected(bv);
  const TsDiagram *d = &self->diag[which];
  int hi = -1, hj = -1;
  for (size_t i = 0; sel && i < d->n; i++) {
    if (!sel[i]) continue;
    const TsPair *p = &d->pairs[i];
    /* H0: the edge that merges the component; H1: the edge that closes the loop */
    const int32_t *e = p->dim == 0 ? p->death_at : p->birth_at;
    if (e[0] >= 0) hi = e[0], hj = e[1];
    break;
  }
  if (which != ts_point_canvas_get_active(TS_POINT_CANVAS(self->canvas)) && hi >= 0)
    adw_combo_row_set_selected(ADW_COMBO_ROW(self->edit_row), (guint)which);
  ts_point_canvas_set_highlight(TS_POINT_CANVAS(self->canvas), hi, hj);
}

static void file_dialog(TsPlaygroundPanel *self, gboolean save);

static void on_save(TsPlaygroundPanel *self) { file_dialog(self, TRUE); }
static void on_open(TsPlaygroundPanel *self) { file_dialog(self, FALSE); }

static void on_file_response(GtkNativeDialog *d, int response, gpointer user_data) {
  TsPlaygroundPanel *self = user_data;
  int save = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(d), "save"));
  int folder = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(d), "folder"));
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
    char *path = f ? g_file_get_path(f) : NULL;
    GError *error = NULL;
    if (path && folder) ts_playground_panel_record(self, path);
    else if (path && !(save ? ts_playground_panel_save(self, path, &error) : ts_playground_panel_load(self, path, &error))) {
      g_signal_emit(self, signals[SIG_MESSAGE], 0, error->message);
      g_clear_error(&error);
    }
    g_free(path);
    if (f) g_object_unref(f);
  } else if (folder) {
    gtk_switch_set_active(GTK_SWITCH(self->record_switch), FALSE);
  }
  g_object_unref(d);
  g_object_unref(self);
}

static GtkFileChooserNative *chooser(TsPlaygroundPanel *self, const char *title, GtkFileChooserAction action,
                                     const char *accept) {
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  GtkFileChooserNative *d =
      gtk_file_chooser_native_new(title, GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, action, accept, "_Cancel");
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(d), TRUE);
  g_signal_connect(d, "response", G_CALLBACK(on_file_response), g_object_ref(self));
  return d;
}

static void file_dialog(TsPlaygroundPanel *self, gboolean save) {
  GtkFileChooserNative *d = chooser(self, save ? "Save Playground" : "Open Playground",
                                    save ? GTK_FILE_CHOOSER_ACTION_SAVE : GTK_FILE_CHOOSER_ACTION_OPEN,
                                    save ? "_Save" : "_Open");
  g_object_set_data(G_OBJECT(d), "save", GINT_TO_POINTER(save));
  GtkFileFilter *f = gtk_file_filter_new();
  gtk_file_filter_set_name(f, "Playground states (JSON)");
  gtk_file_filter_add_pattern(f, "*.json");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(d), f);
  g_object_unref(f);
  if (save) gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d), "playground.json");
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void on_record(TsPlaygroundPanel *self) {
  if (self->syncing) return;
  if (!gtk_switch_get_active(GTK_SWITCH(self->record_switch))) {
    ts_playground_panel_record(self, NULL);
    return;
  }
  GtkFileChooserNative *d = chooser(self, "Record Frames Into", GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, "_Record");
  g_object_set_data(G_OBJECT(d), "folder", GINT_TO_POINTER(1));
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void on_export_frame_response(GtkNativeDialog *d, int response, gpointer user_data) {
  TsPlaygroundPanel *self = user_data;
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
    char *path = f ? g_file_get_path(f) : NULL;
    GError *error = NULL;
    if (path && !ts_playground_panel_export_frame(self, path, &error)) {
      g_signal_emit(self, signals[SIG_MESSAGE], 0, error->message);
      g_clear_error(&error);
    }
    g_free(path);
    if (f) g_object_unref(f);
  }
  g_object_unref(d);
  g_object_unref(self);
}

static void on_export_frame(TsPlaygroundPanel *self) {
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  GtkFileChooserNative *d = gtk_file_chooser_native_new("Export Frame", GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                                        GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(d), TRUE);
  gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d), "playground.png");
  g_signal_connect(d, "response", G_CALLBACK(on_export_frame_response), g_object_ref(self));
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

/* --- building the sidebar ------------------------------------------------- */

static GtkWidget *combo(GtkWidget *g, const char *title, const char *const *items, guint selected) {
  GtkWidget *row = ts_panel_combo(g, title, items);
  adw_combo_row_set_selected(ADW_COMBO_ROW(row), selected);
  return row;
}

static GtkWidget *row_with(GtkWidget *g, const char *title, const char *subtitle, GtkWidget *suffix) {
  GtkWidget *row = adw_action_row_new();
  adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
  adw_preferences_row_set_use_underline(ADW_PREFERENCES_ROW(row), TRUE);
  if (subtitle) adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle);
  if (suffix) {
    gtk_widget_set_valign(suffix, GTK_ALIGN_CENTER);
    adw_action_row_add_suffix(ADW_ACTION_ROW(row), suffix);
  }
  adw_preferences_group_add(ADW_PREFERENCES_GROUP(g), row);
  return row;
}

static GtkWidget *button(const char *label, const char *tooltip, GCallback cb, gpointer data) {
  GtkWidget *b = gtk_button_new_with_mnemonic(label);
  if (tooltip) gtk_widget_set_tooltip_text(b, tooltip);
  g_signal_connect_swapped(b, "clicked", cb, data);
  return b;
}

static GtkWidget *spin(double lo, double hi, double step, int digits, double value) {
  GtkWidget *s = gtk_spin_button_new_with_range(lo, hi, step);
  gtk_spin_button_set_digits(GTK_SPIN_BUTTON(s), (guint)digits);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(s), value);
  gtk_widget_set_valign(s, GTK_ALIGN_CENTER);
  return s;
}

static void build_sidebar(TsPlaygroundPanel *self, GtkWidget *box) {
  /* Points */
  GtkWidget *g = ts_panel_group(box, "Points", "Click to add · drag to move · Shift-click or Shift-drag to select · Delete or right-click to remove");
  static const char *edit_items[] = {"Cloud (blue dots)", "Target (orange rings)", NULL};
  self->edit_row = combo(g, "_Edit", edit_items, 0);
  g_signal_connect_swapped(self->edit_row, "notify::selected", G_CALLBACK(on_edit_changed), self);
  size_t np = ts_playground_preset_count();
  const char **titles = g_new0(const char *, np + 1);
  for (size_t i = 0; i < np; i++) titles[i] = ts_playground_preset_get(i)->title;
  self->preset_row = combo(g, "_Preset", titles, 1);
  g_free(titles);
  GtkWidget *bb = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append(GTK_BOX(bb), button("_Cloud", "Load the preset into the cloud (a Topo-GEN test fills both)",
                                     G_CALLBACK(on_load_cloud), self));
  gtk_box_append(GTK_BOX(bb), button("_Target", "Load the preset into the target", G_CALLBACK(on_load_target), self));
  row_with(g, "Load preset into", NULL, bb);
  self->seed_spin = spin(0, 1e9, 1, 0, 1);
  row_with(g, "Seed", "presets are a function of it", self->seed_spin);
  GtkWidget *pb = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *del = button("_Delete", "Delete the Selected Points (Delete key)", G_CALLBACK(on_delete), self);
  GtkWidget *clr = button("C_lear", "Remove Every Point of the Cloud Being Edited", G_CALLBACK(on_clear), self);
  gtk_box_append(GTK_BOX(pb), del);
  gtk_box_append(GTK_BOX(pb), clr);
  self->points_row = row_with(g, "Points", "", pb);

  /* Filtration */
  g = ts_panel_group(box, "Scale r", "Points closer than r are joined: discs of radius r/2 touch, edges and filled triangles form the Rips complex; the bars alive at r cross the line");
  self->r_scale = gtk_scale_new_with_range(GTK_ORIENTATION_HORIZONTAL, 0, 1, 0.01);
  gtk_scale_set_draw_value(GTK_SCALE(self->r_scale), TRUE);
  gtk_scale_set_value_pos(GTK_SCALE(self->r_scale), GTK_POS_RIGHT);
  gtk_scale_set_digits(GTK_SCALE(self->r_scale), 2);
  g_signal_connect_swapped(self->r_scale, "value-changed", G_CALLBACK(on_r_changed), self);
  gtk_widget_set_hexpand(self->r_scale, TRUE);
  gtk_widget_set_size_request(self->r_scale, 190, -1);
  row_with(g, "r", NULL, self->r_scale);
  self->beta0_label = gtk_label_new("—");
  gtk_widget_add_css_class(self->beta0_label, "betti-value");
  row_with(g, "β₀(r)", "connected components", self->beta0_label);
  self->beta1_label = gtk_label_new("—");
  gtk_widget_add_css_class(self->beta1_label, "betti-value");
  row_with(g, "β₁(r)", "holes", self->beta1_label);
  self->complex_label = row_with(g, "Complex at r", "", NULL);

  /* Distance */
  g = ts_panel_group(box, "Distance", NULL);
  static const char *metrics[] = {"Bottleneck", "Wasserstein W₂", NULL};
  static const char *dims[] = {"H0 (components)", "H1 (holes)", "H0 and H1", NULL};
  self->metric_row = combo(g, "_Distance", metrics, 0);
  self->dim_row = combo(g, "C_lasses", dims, 1);
  g_signal_connect_swapped(self->metric_row, "notify::selected", G_CALLBACK(on_options_changed), self);
  g_signal_connect_swapped(self->dim_row, "notify::selected", G_CALLBACK(on_options_changed), self);
  self->distance_label = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(self->distance_label), 0);
  gtk_label_set_wrap(GTK_LABEL(self->distance_label), TRUE);
  gtk_widget_set_margin_top(self->distance_label, 6);
  adw_preferences_group_add(ADW_PREFERENCES_GROUP(g), self->distance_label);

  /* Training */
  g = ts_panel_group(box, "Training", "Adam moves the cloud's points down the weighted sum of Topo-GEN's losses against the target (push0 when none depends on the points)");
  GtkWidget *tb = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  self->play_button = gtk_toggle_button_new();
  gtk_button_set_icon_name(GTK_BUTTON(self->play_button), "media-playback-start-symbolic");
  gtk_widget_set_tooltip_text(self->play_button, "Play / Pause");
  g_signal_connect_swapped(self->play_button, "toggled", G_CALLBACK(on_play), self);
  self->step_button = button(NULL, "One Step", G_CALLBACK(on_step), self);
  gtk_button_set_icon_name(GTK_BUTTON(self->step_button), "media-skip-forward-symbolic");
  GtkWidget *rl = button(NULL, "Clear the Loss Curve", G_CALLBACK(on_reset_loss), self);
  gtk_button_set_icon_name(GTK_BUTTON(rl), "view-refresh-symbolic");
  gtk_box_append(GTK_BOX(tb), self->play_button);
  gtk_box_append(GTK_BOX(tb), self->step_button);
  gtk_box_append(GTK_BOX(tb), rl);
  row_with(g, "Optimise", "play / pause, one step, clear the curve", tb);
  self->train_label = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(self->train_label), 0);
  gtk_widget_add_css_class(self->train_label, "caption");
  gtk_widget_add_css_class(self->train_label, "dim-label");
  gtk_widget_add_css_class(self->train_label, "betti-value");
  adw_preferences_group_add(ADW_PREFERENCES_GROUP(g), self->train_label);
  self->lr_spin = spin(0.0001, 10, 0.001, 4, 0.01);
  g_signal_connect_swapped(self->lr_spin, "value-changed", G_CALLBACK(on_options_changed), self);
  row_with(g, "Learning rate", NULL, self->lr_spin);
  static const char *subtitles[TS_PLAYGROUND_LOSSES] = {
      "longest bottleneck edge, H0", "longest bottleneck edge, H1", "persistence entropy, H0",
      "persistence entropy, H1",     "scale-space kernel, H0",       "scale-space kernel, H1",
      "density of H0 deaths"};
  for (int k = 0; k < TS_PLAYGROUND_LOSSES; k++) {
    self->weight_spin[k] = spin(0, 1000, 0.5, 2, k < 2 ? 1 : 0);
    g_signal_connect_swapped(self->weight_spin[k], "value-changed", G_CALLBACK(on_options_changed), self);
    row_with(g, ts_playground_loss_names[k], subtitles[k], self->weight_spin[k]);
  }

  /* File */
  g = ts_panel_group(box, "File", NULL);
  GtkWidget *fb = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append(GTK_BOX(fb), button("_Open…", "Open a Saved Playground", G_CALLBACK(on_open), self));
  gtk_box_append(GTK_BOX(fb), button("_Save…", "Save Points, Target, Losses and Step", G_CALLBACK(on_save), self));
  row_with(g, "State", "a small JSON file", fb);
  row_with(g, "Frame", "canvas and matching as PNG",
           button("E_xport…", "Export the Canvas and the Matching as One PNG", G_CALLBACK(on_export_frame), self));
  self->record_switch = gtk_switch_new();
  g_signal_connect_swapped(self->record_switch, "notify::active", G_CALLBACK(on_record), self);
  row_with(g, "_Record frames", "every frame shown, as numbered PNGs", self->record_switch);
}

/* --- object ---------------------------------------------------------------- */

static void ts_playground_panel_dispose(GObject *o) {
  TsPlaygroundPanel *self = TS_PLAYGROUND_PANEL(o);
  if (self->sh) {
    g_mutex_lock(&self->sh->lock);
    self->sh->quit = 1;
    g_cond_signal(&self->sh->cond);
    g_mutex_unlock(&self->sh->lock);
    g_thread_join(self->sh->thread);
    g_weak_ref_set(&self->sh->panel, NULL);
    shared_unref(self->sh);
    self->sh = NULL;
  }
  G_OBJECT_CLASS(ts_playground_panel_parent_class)->dispose(o);
}

static void ts_playground_panel_finalize(GObject *o) {
  TsPlaygroundPanel *self = TS_PLAYGROUND_PANEL(o);
  ts_playground_state_clear(&self->st);
  ts_diagram_clear(&self->diag[0]);
  ts_diagram_clear(&self->diag[1]);
  g_free(self->record_dir);
  G_OBJECT_CLASS(ts_playground_panel_parent_class)->finalize(o);
}

static void ts_playground_panel_class_init(TsPlaygroundPanelClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->dispose = ts_playground_panel_dispose;
  oc->finalize = ts_playground_panel_finalize;
  signals[SIG_MESSAGE] = g_signal_new("message", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                      G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void ts_playground_panel_init(TsPlaygroundPanel *self) {
  gtk_orientable_set_orientation(GTK_ORIENTABLE(self), GTK_ORIENTATION_HORIZONTAL);
  ts_playground_state_init(&self->st);
  ts_diagram_init(&self->diag[0]);
  ts_diagram_init(&self->diag[1]);
  self->distance = self->loss = NAN;

  build_sidebar(self, ts_panel_add_sidebar(GTK_BOX(self)));

  GtkWidget *grid = ts_panel_grid(FALSE);
  gtk_widget_set_hexpand(grid, TRUE);
  self->canvas = ts_panel_card(ts_point_canvas_new());
  ts_point_canvas_set_clouds(TS_POINT_CANVAS(self->canvas), &self->st.cloud, &self->st.target);
  ts_point_canvas_set_title(TS_POINT_CANVAS(self->canvas), "Points at scale r");
  g_signal_connect_swapped(self->canvas, "changed", G_CALLBACK(on_canvas_changed), self);
  gtk_grid_attach(GTK_GRID(grid), self->canvas, 0, 0, 1, 2);
  self->matching_view = ts_panel_card(ts_matching_view_new());
  ts_matching_view_set_title(TS_MATCHING_VIEW(self->matching_view), "Persistence diagrams and their matching");
  ts_matching_view_set_labels(TS_MATCHING_VIEW(self->matching_view), "cloud", "target");
  gtk_grid_attach(GTK_GRID(grid), self->matching_view, 1, 0, 1, 1);
  GtkWidget *bars = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_set_homogeneous(GTK_BOX(bars), TRUE);
  for (int k = 0; k < 2; k++) {
    self->barcode[k] = ts_panel_card(ts_barcode_view_new());
    ts_barcode_view_set_title(TS_BARCODE_VIEW(self->barcode[k]), k ? "Barcode: target" : "Barcode: cloud");
    g_signal_connect_swapped(self->barcode[k], "selection-changed", G_CALLBACK(on_barcode_selection), self);
    gtk_box_append(GTK_BOX(bars), self->barcode[k]);
  }
  gtk_grid_attach(GTK_GRID(grid), bars, 1, 1, 1, 1);
  self->loss_plot = ts_line_plot_new();
  gtk_widget_add_css_class(self->loss_plot, "card");
  gtk_widget_add_css_class(self->loss_plot, "plot-card");
  gtk_widget_set_size_request(self->loss_plot, -1, 170);
  ts_line_plot_set_labels(TS_LINE_PLOT(self->loss_plot), "Loss while training", "step", "weighted loss");
  ts_line_plot_set_show_controls(TS_LINE_PLOT(self->loss_plot), FALSE);
  self->loss_series = ts_line_plot_add_series(TS_LINE_PLOT(self->loss_plot), "loss");
  gtk_grid_attach(GTK_GRID(grid), self->loss_plot, 0, 2, 2, 1);
  gtk_box_append(GTK_BOX(self), grid);

  Shared *sh = g_new0(Shared, 1);
  sh->ref = 1;
  g_mutex_init(&sh->lock);
  g_cond_init(&sh->cond);
  ts_cloud_init(&sh->cloud_in);
  ts_cloud_init(&sh->target_in);
  g_weak_ref_init(&sh->panel, self);
  sh->thread = g_thread_new("playground", worker_main, shared_ref(sh));
  self->sh = sh;

  /* a teacher opens the panel on something to look at */
  ts_playground_panel_load_preset(self, "circle", 0);
  ts_playground_panel_load_preset(self, "clusters", 1);
}

/* --- public ------------------------------------------------------------------ */

void ts_playground_panel_load_preset(TsPlaygroundPanel *self, const char *id, int which) {
  int k = ts_playground_preset_find(id);
  if (k < 0) return;
  const TsPlaygroundPreset *p = ts_playground_preset_get((size_t)k);
  self->st.seed = (uint64_t)gtk_spin_button_get_value(GTK_SPIN_BUTTON(self->seed_spin));
  TsError err = {0};
  TsCloud *dst = which && !p->pair ? &self->st.target : &self->st.cloud;
  if (ts_playground_preset_fill(id, self->st.seed, dst, p->pair ? &self->st.target : NULL, &err) != TS_OK) {
    g_signal_emit(self, signals[SIG_MESSAGE], 0, err.message);
    return;
  }
  if (p->pair) {
    g_strlcpy(self->st.preset, id, sizeof self->st.preset);
    g_strlcpy(self->st.target_preset, id, sizeof self->st.target_preset);
    self->syncing = TRUE;
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->lr_spin), p->lr);
    for (int i = 0; i < TS_PLAYGROUND_LOSSES; i++)
      gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->weight_spin[i]), i < 2 ? 1 : 0);
    self->syncing = FALSE;
  } else {
    g_strlcpy(which ? self->st.target_preset : self->st.preset, id, sizeof self->st.preset);
  }
  adw_combo_row_set_selected(ADW_COMBO_ROW(self->preset_row), (guint)k);
  if (which == 0 || p->pair) self->st.step = 0;
  if (which == 0 || p->pair) on_reset_loss(self);
  ts_point_canvas_refresh(TS_POINT_CANVAS(self->canvas), TRUE);
  self->st.r = NAN; /* the scrubber re-fits to the new diagrams */
  self->syncing = TRUE;
  gtk_range_set_range(GTK_RANGE(self->r_scale), 0, 1);
  self->syncing = FALSE;
  request(self, which == 0 || p->pair, which == 1 || p->pair);
  show_summary(self);
}

void ts_playground_panel_get_state(TsPlaygroundPanel *self, TsPlaygroundState *out) {
  read_controls(self);
  ts_playground_state_init(out);
  ts_cloud_copy(&out->cloud, &self->st.cloud, NULL);
  ts_cloud_copy(&out->target, &self->st.target, NULL);
  g_strlcpy(out->preset, self->st.preset, sizeof out->preset);
  g_strlcpy(out->target_preset, self->st.target_preset, sizeof out->target_preset);
  out->seed = (uint64_t)gtk_spin_button_get_value(GTK_SPIN_BUTTON(self->seed_spin));
  out->step = self->st.step;
  out->lr = self->st.lr;
  memcpy(out->weights, self->st.weights, sizeof out->weights);
  out->r = self->st.r;
  out->metric = self->st.metric;
  out->dim = self->st.dim;
}

void ts_playground_panel_set_state(TsPlaygroundPanel *self, const TsPlaygroundState *s) {
  ts_playground_panel_play(self, FALSE);
  ts_cloud_copy(&self->st.cloud, &s->cloud, NULL);
  ts_cloud_copy(&self->st.target, &s->target, NULL);
  g_strlcpy(self->st.preset, s->preset, sizeof self->st.preset);
  g_strlcpy(self->st.target_preset, s->target_preset, sizeof self->st.target_preset);
  self->st.step = s->step;
  self->syncing = TRUE;
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->seed_spin), (double)s->seed);
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->lr_spin), s->lr);
  for (int i = 0; i < TS_PLAYGROUND_LOSSES; i++) gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->weight_spin[i]), s->weights[i]);
  adw_combo_row_set_selected(ADW_COMBO_ROW(self->metric_row), s->metric == 1 ? 1 : 0);
  adw_combo_row_set_selected(ADW_COMBO_ROW(self->dim_row), s->dim == 0 ? 0 : s->dim == 1 ? 1 : 2);
  int k = ts_playground_preset_find(s->preset);
  if (k >= 0) adw_combo_row_set_selected(ADW_COMBO_ROW(self->preset_row), (guint)k);
  self->syncing = FALSE;
  self->st.r = s->r;
  on_reset_loss(self);
  ts_point_canvas_refresh(TS_POINT_CANVAS(self->canvas), TRUE);
  request(self, TRUE, TRUE);
  show_summary(self);
}

gboolean ts_playground_panel_save(TsPlaygroundPanel *self, const char *path, GError **error) {
  TsPlaygroundState s;
  ts_playground_panel_get_state(self, &s);
  TsError err = {0};
  TsStatus st = ts_playground_state_save(path, &s, &err);
  ts_playground_state_clear(&s);
  if (st != TS_OK) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
    return FALSE;
  }
  return TRUE;
}

gboolean ts_playground_panel_load(TsPlaygroundPanel *self, const char *path, GError **error) {
  TsPlaygroundState s;
  ts_playground_state_init(&s);
  TsError err = {0};
  if (ts_playground_state_load(path, &s, &err) != TS_OK) {
    ts_playground_state_clear(&s);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
    return FALSE;
  }
  ts_playground_panel_set_state(self, &s);
  ts_playground_state_clear(&s);
  return TRUE;
}

typedef struct {
  TsPointCanvasData canvas;
  TsMatchingViewData matching;
  int cw;
} Frame;

static void draw_frame(cairo_t *cr, const void *data, int w, int h) {
  const Frame *f = data;
  ts_point_canvas_draw(cr, &f->canvas, f->cw, h);
  cairo_save(cr);
  cairo_translate(cr, f->cw, 0);
  ts_matching_view_draw(cr, &f->matching, w - f->cw, h);
  cairo_restore(cr);
}

gboolean ts_playground_panel_export_frame(TsPlaygroundPanel *self, const char *path, GError **error) {
  Frame f = {.canvas = ts_point_canvas_get_data(TS_POINT_CANVAS(self->canvas)), .cw = 600};
  f.canvas.band_w = f.canvas.band_h = 0;
  TsMatchingView *mv = TS_MATCHING_VIEW(self->matching_view);
  char title[96];
  snprintf(title, sizeof title, "step %lld, %s distance %.4g", (long long)self->st.step,
           self->st.metric == 1 ? "W₂" : "bottleneck", self->distance);
  f.matching = (TsMatchingViewData){.a = &self->diag[0],
                                    .b = &self->diag[1],
                                    .m = ts_matching_view_get_matching(mv),
                                    .side_by_side = 0,
                                    .dims = self->st.dim >= 0 ? 1u << self->st.dim : 0,
                                    .selected = -1,
                                    .title = title,
                                    .label_a = "cloud",
                                    .label_b = "target"};
  return ts_plot_export_file(draw_frame, &f, 1100, 600, path, error);
}

void ts_playground_panel_record(TsPlaygroundPanel *self, const char *folder) {
  g_free(self->record_dir);
  self->record_dir = g_strdup(folder);
  self->frame_no = 0;
  self->syncing = TRUE;
  gtk_switch_set_active(GTK_SWITCH(self->record_switch), folder != NULL);
  self->syncing = FALSE;
  if (folder) write_frame(self);
}

void ts_playground_panel_set_r(TsPlaygroundPanel *self, double r) {
  GtkAdjustment *adj = gtk_range_get_adjustment(GTK_RANGE(self->r_scale));
  if (r > gtk_adjustment_get_upper(adj)) gtk_adjustment_set_upper(adj, r);
  gtk_range_set_value(GTK_RANGE(self->r_scale), r);
  self->st.r = r;
  update_betti(self);
}

void ts_playground_panel_set_metric(TsPlaygroundPanel *self, int w2) {
  adw_combo_row_set_selected(ADW_COMBO_ROW(self->metric_row), w2 ? 1 : 0);
}

void ts_playground_panel_set_weights(TsPlaygroundPanel *self, const double w[TS_PLAYGROUND_LOSSES]) {
  self->syncing = TRUE;
  for (int i = 0; i < TS_PLAYGROUND_LOSSES; i++) gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->weight_spin[i]), w[i]);
  self->syncing = FALSE;
  request(self, FALSE, FALSE);
}

void ts_playground_panel_set_lr(TsPlaygroundPanel *self, double lr) {
  gtk_spin_button_set_value(GTK_SPIN_BUTTON(self->lr_spin), lr);
}

void ts_playground_panel_play(TsPlaygroundPanel *self, gboolean on) {
  self->playing = !!on;
  if (gtk_toggle_button_get_active(GTK_TOGGLE_BUTTON(self->play_button)) != self->playing)
    gtk_toggle_button_set_active(GTK_TOGGLE_BUTTON(self->play_button), self->playing);
  gtk_button_set_icon_name(GTK_BUTTON(self->play_button),
                           self->playing ? "media-playback-pause-symbolic" : "media-playback-start-symbolic");
  gtk_widget_set_sensitive(self->step_button, !self->playing);
  read_controls(self);
  g_mutex_lock(&self->sh->lock);
  self->sh->playing = self->playing;
  self->sh->lr = self->st.lr;
  memcpy(self->sh->weights, self->st.weights, sizeof self->sh->weights);
  self->sh->seq++;
  self->sh->busy = TRUE;
  /* pausing: one last snapshot, so what is shown is where the points stopped */
  if (!self->playing) self->sh->want_diagrams = 1;
  g_cond_signal(&self->sh->cond);
  g_mutex_unlock(&self->sh->lock);
  show_summary(self);
}

gboolean ts_playground_panel_is_playing(TsPlaygroundPanel *self) { return self->playing; }

void ts_playground_panel_step(TsPlaygroundPanel *self, int n) {
  if (n <= 0 || self->playing) return;
  read_controls(self);
  g_mutex_lock(&self->sh->lock);
  self->sh->steps += n;
  self->sh->lr = self->st.lr;
  memcpy(self->sh->weights, self->st.weights, sizeof self->sh->weights);
  self->sh->seq++;
  self->sh->busy = TRUE;
  g_cond_signal(&self->sh->cond);
  g_mutex_unlock(&self->sh->lock);
}

int64_t ts_playground_panel_get_step(TsPlaygroundPanel *self) { return self->st.step; }
guint ts_playground_panel_get_generation(TsPlaygroundPanel *self) { return self->generation; }

gboolean ts_playground_panel_is_busy(TsPlaygroundPanel *self) {
  g_mutex_lock(&self->sh->lock);
  gboolean b = self->sh->busy || self->sh->out != NULL;
  g_mutex_unlock(&self->sh->lock);
  return b;
}

double ts_playground_panel_get_distance(TsPlaygroundPanel *self) { return self->distance; }
double ts_playground_panel_get_loss(TsPlaygroundPanel *self) { return self->loss; }
double ts_playground_panel_get_rate(TsPlaygroundPanel *self) { return self->playing ? self->rate : 0; }
int ts_playground_panel_get_betti(TsPlaygroundPanel *self, int which, int k) {
  return which >= 0 && which < 2 && k >= 0 && k < 2 ? self->betti[which][k] : 0;
}
const TsDiagram *ts_playground_panel_get_diagram(TsPlaygroundPanel *self, int which) { return &self->diag[which ? 1 : 0]; }
const TsCloud *ts_playground_panel_get_cloud(TsPlaygroundPanel *self, int which) {
  return which ? &self->st.target : &self->st.cloud;
}
TsPointCanvas *ts_playground_panel_get_canvas(TsPlaygroundPanel *self) { return TS_POINT_CANVAS(self->canvas); }
TsMatchingView *ts_playground_panel_get_matching_view(TsPlaygroundPanel *self) {
  return TS_MATCHING_VIEW(self->matching_view);
}
TsBarcodeView *ts_playground_panel_get_barcode_view(TsPlaygroundPanel *self, int which) {
  return TS_BARCODE_VIEW(self->barcode[which ? 1 : 0]);
}
TsLinePlot *ts_playground_panel_get_loss_plot(TsPlaygroundPanel *self) { return TS_LINE_PLOT(self->loss_plot); }
