/* runs-panel.c — Runs panel: live list, overlay, parameter table, export, delete. */
#include "runs-panel.h"

#include <adwaita.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "base/json.h"
#include "plot/plot-export.h"
#include "run-follow.h"

/* --- one run as a list item ---------------------------------------------------------- */

#define TS_TYPE_RUN_ITEM (ts_run_item_get_type())
G_DECLARE_FINAL_TYPE(TsRunItem, ts_run_item, TS, RUN_ITEM, GObject)

struct _TsRunItem {
  GObject parent;
  TsRunSummary s; /* strings owned */
  guint version;  /* bumped on every change: bound cells listen to it */
};

G_DEFINE_FINAL_TYPE(TsRunItem, ts_run_item, G_TYPE_OBJECT)

static GParamSpec *item_version_pspec;

static void ts_run_item_finalize(GObject *o) {
  ts_run_info_clear(&TS_RUN_ITEM(o)->s.info);
  G_OBJECT_CLASS(ts_run_item_parent_class)->finalize(o);
}

static void ts_run_item_get_property(GObject *o, guint id, GValue *v, GParamSpec *ps) {
  if (id == 1) g_value_set_uint(v, TS_RUN_ITEM(o)->version);
  else G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, ps);
}

static void ts_run_item_class_init(TsRunItemClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->finalize = ts_run_item_finalize;
  oc->get_property = ts_run_item_get_property;
  item_version_pspec = g_param_spec_uint("version", NULL, NULL, 0, G_MAXUINT, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property(oc, 1, item_version_pspec);
}

static void ts_run_item_init(TsRunItem *self) { (void)self; }

static void item_set(TsRunItem *it, const TsRunSummary *s) {
  ts_run_info_clear(&it->s.info);
  it->s = *s;
  it->s.info.params_json = s->info.params_json ? g_strdup(s->info.params_json) : NULL;
  it->s.info.message = s->info.message ? g_strdup(s->info.message) : NULL;
  it->version++;
  g_object_notify_by_pspec(G_OBJECT(it), item_version_pspec);
}

static TsRunItem *item_new(const TsRunSummary *s) {
  TsRunItem *it = g_object_new(TS_TYPE_RUN_ITEM, NULL);
  item_set(it, s);
  return it;
}

static gboolean summary_equal(const TsRunSummary *a, const TsRunSummary *b) {
  return a->info.status == b->info.status && a->info.progress_done == b->info.progress_done &&
         a->info.progress_total == b->info.progress_total && a->info.ended == b->info.ended &&
         ((isnan(a->best) && isnan(b->best)) || a->best == b->best) && !strcmp(a->info.name, b->info.name);
}

/* --- the panel --------------------------------------------------------------------------- */

enum { COL_ID, COL_KIND, COL_NAME, COL_STATUS, COL_STARTED, COL_DURATION, COL_PROGRESS, COL_BEST, N_COLS };
static const char *const col_titles[N_COLS] = {"#", "Kind", "Name", "Status", "Started", "Time", "Progress", "Best"};

typedef struct OverlaySeries {
  gint64 run;
  guint watch;
  guint series;
  double started, steps_per_epoch;
  guint points;
} OverlaySeries;

struct _TsRunsPanel {
  GtkBox parent;
  GtkWidget *search_entry, *status_drop, *list_stack, *runs_view, *empty_page, *count_label, *export_button;
  GtkWidget *delete_button, *hint_label, *compare_stack, *metric_drop, *x_drop, *plot_card, *params_grid;
  GtkWidget *plot, *exp_box;
  GListStore *store;
  GtkFilterListModel *filtered;
  GtkCustomFilter *filter;
  GtkMultiSelection *selection;
  TsStoreSubscription sub; /* the reader and our two handlers */
  GArray *selected;  /* gint64, in list order */
  GArray *overlay;   /* OverlaySeries */
  GtkStringList *metrics; /* shared by the selected runs */
  char *metric;
  int x_axis;
  int n_diff;
  gboolean syncing;
  GCancellable *compare_cancel, *exp_cancel, *cancel;
  char *exp_key; /* the experiment runs (id:status) the table was made from */
  guint n_exp_groups;
};

G_DEFINE_FINAL_TYPE(TsRunsPanel, ts_runs_panel, GTK_TYPE_BOX)

enum { SIG_MESSAGE, N_SIGNALS };
static guint signals[N_SIGNALS];

static void message(TsRunsPanel *self, const char *text) { g_signal_emit(self, signals[SIG_MESSAGE], 0, text); }
static void selection_changed(TsRunsPanel *self);
static void rebuild_overlay(TsRunsPanel *self);
static void update_experiments(TsRunsPanel *self);

/* --- cells ------------------------------------------------------------------------------ */

static void format_duration(const TsRunInfo *r, char *buf, size_t n) {
  double end = r->ended > 0 ? r->ended : g_get_real_time() / 1e6;
  double d = end - r->started;
  if (r->status == TS_RUN_INTERRUPTED && r->ended <= 0) snprintf(buf, n, "—");
  else if (d < 60) snprintf(buf, n, "%.0f s", d);
  else if (d < 3600) snprintf(buf, n, "%d min %02d s", (int)d / 60, (int)d % 60);
  else snprintf(buf, n, "%d h %02d min", (int)d / 3600, (int)d / 60 % 60);
}

static char *cell_text(TsRunItem *it, int col) {
  const TsRunInfo *r = &it->s.info;
  char buf[64];
  switch (col) {
  case COL_ID: return g_strdup_printf("%" G_GINT64_FORMAT, r->id);
  case COL_KIND: return g_strdup(r->kind);
  case COL_NAME: return g_strdup(r->name[0] ? r->name : "—");
  case COL_STATUS: return g_strdup(ts_run_status_name(r->status));
  case COL_STARTED: {
    GDateTime *dt = g_date_time_new_from_unix_local((gint64)r->started);
    char *t = dt ? g_date_time_format(dt, "%Y-%m-%d %H:%M") : g_strdup("—");
    if (dt) g_date_time_unref(dt);
    return t;
  }
  case COL_DURATION: format_duration(r, buf, sizeof buf); return g_strdup(buf);
  case COL_PROGRESS:
    if (r->progress_total <= 0) return g_strdup("—");
    return g_strdup_printf("%.0f%%", 100.0 * (double)r->progress_done / (double)r->progress_total);
  case COL_BEST:
    if (!it->s.best_name) return g_strdup("—");
    if (!strcmp(it->s.best_name, "val/accuracy")) return g_strdup_printf("%.2f%% acc", 100 * it->s.best);
    return g_strdup_printf("%.4g loss", it->s.best);
  }
  return g_strdup("");
}

static void cell_refresh(GtkWidget *label, TsRunItem *it) {
  int col = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(label), "col"));
  char *t = cell_text(it, col);
  gtk_label_set_text(GTK_LABEL(label), t);
  g_free(t);
  if (col == COL_STATUS) {
    gtk_widget_remove_css_class(label, "run-interrupted");
    gtk_widget_remove_css_class(label, "run-failed");
    if (it->s.info.status == TS_RUN_INTERRUPTED) gtk_widget_add_css_class(label, "run-interrupted");
    if (it->s.info.status == TS_RUN_FAILED) gtk_widget_add_css_class(label, "run-failed");
  }
  if (col == COL_NAME || col == COL_STATUS) {
    const char *m = it->s.info.message;
    gtk_widget_set_tooltip_text(label, m && *m ? m : NULL);
  }
}

static void on_item_changed(TsRunItem *it, GParamSpec *ps, GtkWidget *label) {
  (void)ps;
  cell_refresh(label, it);
}

static void cell_setup(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data) {
  (void)f;
  int col = GPOINTER_TO_INT(data);
  GtkWidget *l = gtk_label_new(NULL);
  gtk_label_set_xalign(GTK_LABEL(l), col == COL_ID || col == COL_PROGRESS || col == COL_DURATION ? 1 : 0);
  if (col == COL_NAME) gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_END);
  if (col == COL_ID || col == COL_PROGRESS || col == COL_BEST || col == COL_DURATION) gtk_widget_add_css_class(l, "numeric");
  g_object_set_data(G_OBJECT(l), "col", data);
  gtk_list_item_set_child(li, l);
}

static void cell_bind(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data) {
  (void)f, (void)data;
  GtkWidget *l = gtk_list_item_get_child(li);
  TsRunItem *it = gtk_list_item_get_item(li);
  cell_refresh(l, it);
  gulong h = g_signal_connect(it, "notify::version", G_CALLBACK(on_item_changed), l);
  g_object_set_data(G_OBJECT(l), "handler", GSIZE_TO_POINTER(h));
}

static void cell_unbind(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data) {
  (void)f, (void)data;
  GtkWidget *l = gtk_list_item_get_child(li);
  TsRunItem *it = gtk_list_item_get_item(li);
  gulong h = GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(l), "handler"));
  if (h && it) g_signal_handler_disconnect(it, h);
  g_object_set_data(G_OBJECT(l), "handler", NULL);
}

/* --- the list --------------------------------------------------------------------------- */

static gboolean filter_func(gpointer item, gpointer user_data) {
  TsRunsPanel *self = user_data;
  TsRunItem *it = item;
  guint st = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->status_drop));
  static const int want[] = {-1, TS_RUN_RUNNING, TS_RUN_FINISHED, TS_RUN_STOPPED, TS_RUN_FAILED, TS_RUN_INTERRUPTED};
  if (st < G_N_ELEMENTS(want) && want[st] >= 0 && (int)it->s.info.status != want[st]) return FALSE;
  const char *q = gtk_editable_get_text(GTK_EDITABLE(self->search_entry));
  if (!q || !*q) return TRUE;
  char *needle = g_utf8_casefold(q, -1);
  char *hay = g_strdup_printf("%" G_GINT64_FORMAT " %s %s %s", it->s.info.id, it->s.info.kind, it->s.info.name,
                              ts_run_status_name(it->s.info.status));
  char *h = g_utf8_casefold(hay, -1);
  gboolean ok = strstr(h, needle) != NULL;
  g_free(needle), g_free(hay), g_free(h);
  return ok;
}

static void update_counts(TsRunsPanel *self) {
  guint total = g_list_model_get_n_items(G_LIST_MODEL(self->store));
  guint shown = g_list_model_get_n_items(G_LIST_MODEL(self->filtered));
  char *t = shown == total ? g_strdup_printf("%u run%s", total, total == 1 ? "" : "s")
                           : g_strdup_printf("%u of %u runs", shown, total);
  if (self->selected->len) {
    char *u = g_strdup_printf("%s · %u selected", t, self->selected->len);
    g_free(t);
    t = u;
  }
  gtk_label_set_text(GTK_LABEL(self->count_label), t);
  g_free(t);
  gtk_widget_set_sensitive(self->export_button, self->selected->len > 0);
  gtk_widget_set_sensitive(self->metric_drop, self->selected->len > 0);
  gtk_widget_set_sensitive(self->delete_button, self->selected->len > 0);
  TsStoreState st = self->sub.reader ? ts_store_reader_get_state(self->sub.reader) : TS_STORE_STATE_OPENING;
  gboolean empty = total == 0;
  gtk_stack_set_visible_child_name(GTK_STACK(self->list_stack), empty ? "empty" : "list");
  if (empty && self->sub.reader) {
    const char *path = ts_store_reader_get_path(self->sub.reader);
    char *desc;
    if (st == TS_STORE_STATE_ERROR) {
      adw_status_page_set_title(ADW_STATUS_PAGE(self->empty_page), "Cannot Read the Store");
      desc = g_strdup(ts_store_reader_get_error(self->sub.reader));
    } else if (st == TS_STORE_STATE_MISSING) {
      adw_status_page_set_title(ADW_STATUS_PAGE(self->empty_page), "No Runs Yet");
      desc = g_strdup_printf("The run store will be %s: the first dataset, labelling or training job creates it.",
                             path ? path : "?");
    } else {
      adw_status_page_set_title(ADW_STATUS_PAGE(self->empty_page), "No Runs Yet");
      desc = g_strdup_printf("%s has no runs. Start one from the Train or Generate panel, or open another store "
                             "(Ctrl+Shift+O or drop a file here).",
                             path ? path : "The store");
    }
    adw_status_page_set_description(ADW_STATUS_PAGE(self->empty_page), desc);
    g_free(desc);
  }
}

static void on_filter_changed(TsRunsPanel *self) {
  gtk_filter_changed(GTK_FILTER(self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  update_counts(self);
}

static void on_runs_changed(TsStoreReader *reader, TsRunsPanel *self) {
  guint n;
  const TsRunSummary *runs = ts_store_reader_get_runs(reader, &n);
  self->syncing = TRUE;
  /* the snapshot and the list are both newest first: walk them together,
   * updating items in place so that the selection stays */
  guint pos = 0;
  for (guint k = 0; k < n; k++) {
    const TsRunSummary *s = &runs[k];
    for (;;) {
      TsRunItem *it = pos < g_list_model_get_n_items(G_LIST_MODEL(self->store))
                          ? g_list_model_get_item(G_LIST_MODEL(self->store), pos)
                          : NULL;
      if (it && it->s.info.id > s->info.id) { /* deleted */
        g_object_unref(it);
        g_list_store_remove(self->store, pos);
        continue;
      }
      if (it && it->s.info.id == s->info.id) {
        if (!summary_equal(&it->s, s)) item_set(it, s);
        g_object_unref(it);
      } else {
        if (it) g_object_unref(it);
        TsRunItem *ni = item_new(s);
        g_list_store_insert(self->store, pos, ni);
        g_object_unref(ni);
      }
      pos++;
      break;
    }
  }
  guint total = g_list_model_get_n_items(G_LIST_MODEL(self->store));
  if (pos < total) g_list_store_splice(self->store, pos, total - pos, NULL, 0);
  self->syncing = FALSE;
  /* the filter looks at status: re-run it (cheap for thousands of runs) */
  gtk_filter_changed(GTK_FILTER(self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  selection_changed(self);
  update_experiments(self);
}

/* --- selection, overlay and comparison ------------------------------------------------------ */

typedef struct CompareRun {
  gint64 id;
  char **names; /* metric names */
  double *last; /* last value of each */
} CompareRun;

typedef struct CompareResult {
  CompareRun *runs;
  guint n;
} CompareResult;

static void compare_result_free(gpointer p) {
  CompareResult *r = p;
  for (guint i = 0; i < r->n; i++) {
    g_strfreev(r->runs[i].names);
    g_free(r->runs[i].last);
  }
  g_free(r->runs);
  g_free(r);
}

static gpointer compare_query(TsStore *store, gpointer data, GError **error) {
  (void)error;
  GArray *ids = data;
  CompareResult *r = g_new0(CompareResult, 1);
  r->runs = g_new0(CompareRun, ids->len ? ids->len : 1);
  r->n = ids->len;
  for (guint i = 0; i < ids->len; i++) {
    CompareRun *c = &r->runs[i];
    c->id = g_array_index(ids, gint64, i);
    char **names;
    size_t n = 0;
    if (ts_store_metric_names(store, c->id, &names, &n, NULL) != TS_OK) names = NULL, n = 0;
    c->names = g_new0(char *, n + 1);
    c->last = g_new0(double, n + 1);
    for (size_t k = 0; k < n; k++) {
      c->names[k] = g_strdup(names[k]);
      TsMetricRow row;
      c->last[k] = ts_store_last_metric(store, c->id, names[k], &row, NULL) == TS_OK ? row.value : NAN;
    }
    ts_store_free_strings(names, n);
  }
  return r;
}

static char *json_value_text(const char *raw, size_t len) {
  if (len >= 2 && raw[0] == '"') {
    /* a string: unescape the common cases */
    GString *s = g_string_new(NULL);
    for (size_t i = 1; i + 1 < len; i++) {
      if (raw[i] == '\\' && i + 2 < len) i++;
      g_string_append_c(s, raw[i]);
    }
    return g_string_free(s, FALSE);
  }
  return g_strndup(raw, len);
}

static GtkWidget *grid_label(const char *text, const char *css, gboolean right) {
  GtkWidget *l = gtk_label_new(text);
  gtk_label_set_xalign(GTK_LABEL(l), right ? 1 : 0);
  gtk_label_set_selectable(GTK_LABEL(l), TRUE);
  gtk_label_set_ellipsize(GTK_LABEL(l), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars(GTK_LABEL(l), 40);
  if (css) gtk_widget_add_css_class(l, css);
  return l;
}

static void grid_clear(GtkWidget *grid) {
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child(grid))) gtk_grid_remove(GTK_GRID(grid), c);
}

/* One row of the table: key and a value per run; returns whether they differ. */
static gboolean grid_row(GtkWidget *grid, int row, const char *key, char **values, guint n) {
  gboolean differ = FALSE;
  for (guint i = 1; i < n; i++) differ |= g_strcmp0(values[i], values[0]) != 0;
  gtk_grid_attach(GTK_GRID(grid), grid_label(key, differ && n > 1 ? "param-diff" : "param-key", FALSE), 0, row, 1, 1);
  for (guint i = 0; i < n; i++)
    gtk_grid_attach(GTK_GRID(grid), grid_label(values[i] ? values[i] : "—", differ && n > 1 ? "param-diff" : NULL, FALSE),
                    1 + (int)i, row, 1, 1);
  return differ && n > 1;
}

static void build_params(TsRunsPanel *self, const CompareResult *cr) {
  grid_clear(self->params_grid);
  guint n = self->selected->len;
  self->n_diff = 0;
  if (!n || !self->sub.reader) return;
  const TsRunSummary **sums = g_new0(const TsRunSummary *, n);
  gtk_grid_attach(GTK_GRID(self->params_grid), grid_label("parameter", "param-head", FALSE), 0, 0, 1, 1);
  for (guint i = 0; i < n; i++) {
    sums[i] = ts_store_reader_find_run(self->sub.reader, g_array_index(self->selected, gint64, i));
    char *h = sums[i] ? g_strdup_printf("#%" G_GINT64_FORMAT " %s", sums[i]->info.id, sums[i]->info.name) : g_strdup("?");
    gtk_grid_attach(GTK_GRID(self->params_grid), grid_label(h, "param-head", FALSE), 1 + (int)i, 0, 1, 1);
    g_free(h);
  }
  /* the union of the parameter keys, in the order they first appear */
  GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < n; i++) {
    const char *json = sums[i] ? sums[i]->info.params_json : NULL;
    const char *k, *v;
    size_t kl, vl;
    for (size_t m = 0; json && ts_json_member_at(json, m, &k, &kl, &v, &vl, NULL) == TS_OK; m++) {
      char *key = g_strndup(k, kl);
      gboolean seen = FALSE;
      for (guint j = 0; j < keys->len && !seen; j++) seen = !strcmp(g_ptr_array_index(keys, j), key);
      if (seen) g_free(key);
      else g_ptr_array_add(keys, key);
    }
  }
  int row = 1;
  char **vals = g_new0(char *, n + 1);
  for (guint j = 0; j < keys->len; j++, row++) {
    const char *key = g_ptr_array_index(keys, j);
    for (guint i = 0; i < n; i++) {
      const char *json = sums[i] ? sums[i]->info.params_json : NULL;
      const char *v;
      size_t vl;
      vals[i] = json && ts_json_get_raw(json, key, &v, &vl, NULL) == TS_OK ? json_value_text(v, vl) : NULL;
    }
    self->n_diff += grid_row(self->params_grid, row, key, vals, n);
    for (guint i = 0; i < n; i++) g_clear_pointer(&vals[i], g_free);
  }
  /* status and final metrics */
  GtkWidget *sep = grid_label("final metrics", "param-head", FALSE);
  gtk_widget_set_margin_top(sep, 12);
  gtk_grid_attach(GTK_GRID(self->params_grid), sep, 0, row++, 1, 1);
  for (guint i = 0; i < n; i++) vals[i] = sums[i] ? g_strdup(ts_run_status_name(sums[i]->info.status)) : NULL;
  self->n_diff += grid_row(self->params_grid, row++, "status", vals, n);
  for (guint i = 0; i < n; i++) g_clear_pointer(&vals[i], g_free);
  GPtrArray *mnames = g_ptr_array_new();
  for (guint i = 0; cr && i < cr->n; i++)
    for (char **p = cr->runs[i].names; p && *p; p++) {
      gboolean seen = FALSE;
      for (guint j = 0; j < mnames->len && !seen; j++) seen = !strcmp(g_ptr_array_index(mnames, j), *p);
      if (!seen) g_ptr_array_add(mnames, *p);
    }
  for (guint j = 0; j < mnames->len; j++, row++) {
    const char *name = g_ptr_array_index(mnames, j);
    for (guint i = 0; i < n; i++) {
      vals[i] = NULL;
      for (guint r = 0; cr && r < cr->n; r++) {
        if (cr->runs[r].id != g_array_index(self->selected, gint64, i)) continue;
        for (guint k = 0; cr->runs[r].names[k]; k++)
          if (!strcmp(cr->runs[r].names[k], name)) vals[i] = g_strdup_printf("%.6g", cr->runs[r].last[k]);
      }
    }
    self->n_diff += grid_row(self->params_grid, row, name, vals, n);
    for (guint i = 0; i < n; i++) g_clear_pointer(&vals[i], g_free);
  }
  g_ptr_array_unref(mnames);
  g_free(vals);
  g_ptr_array_unref(keys);
  g_free(sums);
}

static void compare_done(GObject *src, GAsyncResult *res, gpointer user_data) {
  (void)src;
  GError *error = NULL;
  CompareResult *cr = ts_store_reader_query_finish(res, &error);
  if (!cr) {
    g_error_free(error); /* cancelled by a newer selection, or the store went away */
    return;
  }
  TsRunsPanel *self = user_data;
  /* the metrics every selected run has, for the overlay */
  GPtrArray *shared = g_ptr_array_new();
  for (char **p = cr->n ? cr->runs[0].names : NULL; p && *p; p++) {
    gboolean all = TRUE;
    for (guint i = 1; i < cr->n && all; i++) all = g_strv_contains((const char *const *)cr->runs[i].names, *p);
    if (all) g_ptr_array_add(shared, *p);
  }
  g_ptr_array_add(shared, NULL);
  char *keep = g_strdup(self->metric);
  self->syncing = TRUE;
  GtkStringList *l = gtk_string_list_new((const char *const *)shared->pdata);
  gtk_drop_down_set_model(GTK_DROP_DOWN(self->metric_drop), G_LIST_MODEL(l));
  g_clear_object(&self->metrics);
  self->metrics = l;
  guint pick = GTK_INVALID_LIST_POSITION;
  for (guint i = 0; i + 1 < shared->len; i++) {
    if (keep && !strcmp(shared->pdata[i], keep)) pick = i;
    if (pick == GTK_INVALID_LIST_POSITION && !strcmp(shared->pdata[i], "train/loss")) pick = i;
  }
  if (pick == GTK_INVALID_LIST_POSITION && shared->len > 1) pick = 0;
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->metric_drop), pick);
  self->syncing = FALSE;
  g_free(self->metric);
  self->metric = pick != GTK_INVALID_LIST_POSITION ? g_strdup(shared->pdata[pick]) : NULL;
  gboolean changed = g_strcmp0(keep, self->metric) != 0;
  g_free(keep);
  g_ptr_array_unref(shared);
  build_params(self, cr);
  compare_result_free(cr);
  if (changed || !self->overlay->len) rebuild_overlay(self);
  if (!self->metric && self->selected->len)
    gtk_label_set_text(GTK_LABEL(self->hint_label), "The selected runs have no metric in common.");
}

static void on_overlay_rows(TsStoreReader *reader, gint64 run, const char *name, const TsMetricRow *rows, gsize n,
                            gpointer user_data) {
  (void)reader, (void)name;
  TsRunsPanel *self = user_data;
  for (guint i = 0; i < self->overlay->len; i++) {
    OverlaySeries *o = &g_array_index(self->overlay, OverlaySeries, i);
    if (o->run != run) continue;
    double *x = g_new(double, n), *y = g_new(double, n);
    for (gsize k = 0; k < n; k++) {
      const TsMetricRow *r = &rows[k];
      x[k] = self->x_axis == 0   ? (double)r->step
             : self->x_axis == 1 ? (o->steps_per_epoch > 0 ? (double)r->step / o->steps_per_epoch : (double)r->epoch + 1)
                                 : r->wall_time - o->started;
      y[k] = r->value;
    }
    ts_line_plot_append_points(TS_LINE_PLOT(self->plot), o->series, x, y, n);
    o->points += (guint)n;
    g_free(x), g_free(y);
  }
}

static void overlay_unwatch(TsRunsPanel *self) {
  for (guint i = 0; i < self->overlay->len; i++) {
    OverlaySeries *o = &g_array_index(self->overlay, OverlaySeries, i);
    if (self->sub.reader) ts_store_reader_unwatch(self->sub.reader, o->watch);
  }
  g_array_set_size(self->overlay, 0);
}

#define MAX_OVERLAY 12

static void rebuild_overlay(TsRunsPanel *self) {
  overlay_unwatch(self);
  ts_line_plot_clear(TS_LINE_PLOT(self->plot));
  static const char *xlabels[] = {"step", "epoch", "seconds since the run started"};
  ts_line_plot_set_labels(TS_LINE_PLOT(self->plot), self->metric ? self->metric : "", xlabels[self->x_axis],
                          self->metric ? self->metric : "");
  if (!self->metric || !self->sub.reader) return;
  guint n = MIN(self->selected->len, MAX_OVERLAY);
  for (guint i = 0; i < n; i++) {
    gint64 id = g_array_index(self->selected, gint64, i);
    const TsRunSummary *s = ts_store_reader_find_run(self->sub.reader, id);
    OverlaySeries o = {.run = id, .started = s ? s->info.started : 0};
    /* epochs as a fraction: steps per epoch from the run's length */
    int64_t epochs = 0;
    if (s && s->info.params_json && ts_json_get_int(s->info.params_json, "epochs", &epochs, NULL) == TS_OK && epochs > 0 &&
        s->info.progress_total > 0)
      o.steps_per_epoch = (double)s->info.progress_total / (double)epochs;
    char *label = s ? g_strdup_printf("#%" G_GINT64_FORMAT " %s", id, s->info.name) : g_strdup_printf("#%" G_GINT64_FORMAT, id);
    o.series = ts_line_plot_add_series(TS_LINE_PLOT(self->plot), label);
    g_free(label);
    o.watch = ts_store_reader_watch_metric(self->sub.reader, id, self->metric, on_overlay_rows, self, NULL);
    g_array_append_val(self->overlay, o);
  }
  if (self->selected->len > MAX_OVERLAY) {
    char *t = g_strdup_printf("The plot shows the first %d of the %u selected runs.", MAX_OVERLAY, self->selected->len);
    gtk_label_set_text(GTK_LABEL(self->hint_label), t);
    g_free(t);
  }
}

static void on_overlay_changed(TsRunsPanel *self) {
  if (self->syncing) return;
  self->x_axis = (int)gtk_drop_down_get_selected(GTK_DROP_DOWN(self->x_drop));
  if (self->x_axis < 0 || self->x_axis > 2) self->x_axis = 0;
  guint pick = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->metric_drop));
  g_free(self->metric);
  self->metric = self->metrics && pick != GTK_INVALID_LIST_POSITION
                     ? g_strdup(gtk_string_list_get_string(self->metrics, pick))
                     : NULL;
  rebuild_overlay(self);
}

static void selection_changed(TsRunsPanel *self) {
  if (self->syncing) return;
  GArray *now = g_array_new(FALSE, FALSE, sizeof(gint64));
  guint n = g_list_model_get_n_items(G_LIST_MODEL(self->filtered));
  for (guint i = 0; i < n; i++) {
    if (!gtk_selection_model_is_selected(GTK_SELECTION_MODEL(self->selection), i)) continue;
    TsRunItem *it = g_list_model_get_item(G_LIST_MODEL(self->filtered), i);
    g_array_append_val(now, it->s.info.id);
    g_object_unref(it);
  }
  gboolean same = now->len == self->selected->len &&
                  (!now->len || !memcmp(now->data, self->selected->data, now->len * sizeof(gint64)));
  update_counts(self);
  if (same) {
    g_array_unref(now);
    return;
  }
  g_array_unref(self->selected);
  self->selected = now;
  update_counts(self);
  gtk_label_set_text(GTK_LABEL(self->hint_label),
                     now->len ? "" : "Select runs in the list to compare them (Ctrl+click or Shift+click for several).");
  if (self->compare_cancel) g_cancellable_cancel(self->compare_cancel);
  g_clear_object(&self->compare_cancel);
  self->n_diff = -1;
  if (!now->len || !self->sub.reader) {
    overlay_unwatch(self);
    ts_line_plot_clear(TS_LINE_PLOT(self->plot));
    grid_clear(self->params_grid);
    return;
  }
  self->compare_cancel = g_cancellable_new();
  GArray *ids = g_array_copy(now);
  /* the overlay follows the selection at once with the metric it has; the
   * query then checks the metric is shared and fills the table */
  rebuild_overlay(self);
  ts_store_reader_query(self->sub.reader, compare_query, ids, (GDestroyNotify)g_array_unref, compare_result_free,
                        self->compare_cancel, compare_done, self);
}

static void on_selection_changed(GtkSelectionModel *m, guint pos, guint n, TsRunsPanel *self) {
  (void)m, (void)pos, (void)n;
  selection_changed(self);
}

/* --- export and delete ------------------------------------------------------------------------ */

typedef struct ExportRq {
  GArray *ids;
  char *path;
} ExportRq;

static void export_rq_free(gpointer p) {
  ExportRq *r = p;
  g_array_unref(r->ids);
  g_free(r->path);
  g_free(r);
}

/* Same columns as `toposcope runs export --csv`. */
static gpointer export_query(TsStore *store, gpointer data, GError **error) {
  ExportRq *rq = data;
  FILE *f = fopen(rq->path, "w");
  if (!f) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write '%s': %s", rq->path, g_strerror(errno));
    return NULL;
  }
  fprintf(f, "run,step,epoch,name,value,wall_time\n");
  gint64 rows_out = 0;
  TsError err = {0};
  gboolean ok = TRUE;
  for (guint i = 0; i < rq->ids->len && ok; i++) {
    gint64 id = g_array_index(rq->ids, gint64, i);
    char **names;
    size_t nn;
    if (ts_store_metric_names(store, id, &names, &nn, &err) != TS_OK) {
      ok = FALSE;
      break;
    }
    for (size_t k = 0; k < nn && ok; k++) {
      int64_t cursor = 0;
      TsMetricRow *rows;
      size_t count;
      if (ts_store_read_metric(store, id, names[k], &cursor, &rows, &count, &err) != TS_OK) {
        ok = FALSE;
        break;
      }
      for (size_t r = 0; r < count; r++) {
        fprintf(f, "%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",\"%s\",", id, rows[r].step,
                rows[r].epoch, names[k]);
        if (isnan(rows[r].value)) fprintf(f, "nan");
        else fprintf(f, "%.17g", rows[r].value);
        fprintf(f, ",%.3f\n", rows[r].wall_time);
      }
      rows_out += (gint64)count;
      free(rows);
    }
    ts_store_free_strings(names, nn);
  }
  if (fclose(f) != 0 && ok) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write '%s'", rq->path);
    return NULL;
  }
  if (!ok) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
    return NULL;
  }
  gint64 *out = g_new(gint64, 1);
  *out = rows_out;
  return out;
}

static void export_done(GObject *src, GAsyncResult *res, gpointer user_data) {
  (void)src;
  GError *error = NULL;
  gint64 *rows = ts_store_reader_query_finish(res, &error);
  if (error && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free(error);
    return;
  }
  TsRunsPanel *self = user_data;
  char *m = rows ? g_strdup_printf("Exported %" G_GINT64_FORMAT " metric rows", *rows)
                 : g_strdup_printf("Export failed: %s", error->message);
  message(self, m);
  g_free(m);
  g_free(rows);
  g_clear_error(&error);
}

static void on_export_response(GtkNativeDialog *d, int response, gpointer user_data) {
  TsRunsPanel *self = user_data;
  if (response == GTK_RESPONSE_ACCEPT && self->sub.reader) {
    GFile *f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
    char *path = f ? g_file_get_path(f) : NULL;
    if (path) {
      ExportRq *rq = g_new0(ExportRq, 1);
      rq->ids = g_array_copy(self->selected);
      rq->path = path;
      ts_store_reader_query(self->sub.reader, export_query, rq, export_rq_free, g_free, self->cancel, export_done, self);
    }
    if (f) g_object_unref(f);
  }
  g_object_unref(d);
  g_object_unref(self);
}

static void on_export_csv(TsRunsPanel *self) {
  if (!self->selected->len) return;
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  GtkFileChooserNative *d = gtk_file_chooser_native_new("Export Metrics as CSV", GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                                        GTK_FILE_CHOOSER_ACTION_SAVE, "_Export", "_Cancel");
  gtk_native_dialog_set_modal(GTK_NATIVE_DIALOG(d), TRUE);
  GString *name = g_string_new("runs");
  for (guint i = 0; i < self->selected->len && i < 6; i++)
    g_string_append_printf(name, "-%" G_GINT64_FORMAT, g_array_index(self->selected, gint64, i));
  g_string_append(name, ".csv");
  gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d), name->str);
  g_string_free(name, TRUE);
  g_signal_connect(d, "response", G_CALLBACK(on_export_response), g_object_ref(self));
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void delete_done(GObject *src, GAsyncResult *res, gpointer user_data) {
  (void)src;
  GError *error = NULL;
  gpointer ok = ts_store_reader_query_finish(res, &error);
  if (error && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free(error);
    return;
  }
  if (!ok) {
    char *m = g_strdup_printf("Cannot delete: %s", error ? error->message : "unknown error");
    message(TS_RUNS_PANEL(user_data), m);
    g_free(m);
  }
  g_clear_error(&error);
}

static void on_delete_response(AdwMessageDialog *d, const char *response, gpointer user_data) {
  TsRunsPanel *self = user_data;
  GArray *ids = g_object_get_data(G_OBJECT(d), "ids");
  if (!strcmp(response, "delete") && self->sub.reader) {
    for (guint i = 0; i < ids->len; i++)
      ts_store_reader_delete_run(self->sub.reader, g_array_index(ids, gint64, i), self->cancel, delete_done, self);
    char *m = g_strdup_printf("Deleted %u run%s", ids->len, ids->len == 1 ? "" : "s");
    message(self, m);
    g_free(m);
  }
  g_object_unref(self);
}

static void on_delete(TsRunsPanel *self) {
  if (!self->selected->len || !self->sub.reader) return;
  GArray *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
  guint running = 0;
  for (guint i = 0; i < self->selected->len; i++) {
    gint64 id = g_array_index(self->selected, gint64, i);
    const TsRunSummary *s = ts_store_reader_find_run(self->sub.reader, id);
    if (s && s->info.status == TS_RUN_RUNNING) running++;
    else g_array_append_val(ids, id);
  }
  if (!ids->len) {
    message(self, "A running run cannot be deleted: stop it first");
    g_array_unref(ids);
    return;
  }
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  char *heading = ids->len == 1 ? g_strdup_printf("Delete Run %" G_GINT64_FORMAT "?", g_array_index(ids, gint64, 0))
                                : g_strdup_printf("Delete %u Runs?", ids->len);
  char *body = g_strdup_printf("Their metrics and records are removed from %s. Files they wrote (checkpoints, "
                               "datasets) stay on disk.%s",
                               ts_store_reader_get_path(self->sub.reader),
                               running ? " Running runs are kept: stop them first." : "");
  GtkWidget *d = adw_message_dialog_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL, heading, body);
  g_free(heading);
  g_free(body);
  adw_message_dialog_add_responses(ADW_MESSAGE_DIALOG(d), "cancel", "_Cancel", "delete", "_Delete", NULL);
  adw_message_dialog_set_response_appearance(ADW_MESSAGE_DIALOG(d), "delete", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response(ADW_MESSAGE_DIALOG(d), "cancel");
  adw_message_dialog_set_close_response(ADW_MESSAGE_DIALOG(d), "cancel");
  g_object_set_data_full(G_OBJECT(d), "ids", ids, (GDestroyNotify)g_array_unref);
  g_signal_connect(d, "response", G_CALLBACK(on_delete_response), g_object_ref(self));
  gtk_window_present(GTK_WINDOW(d));
}

static void on_export_plot(TsRunsPanel *self) {
  gtk_widget_activate_action(self->plot, "plot.export-image", NULL);
}

/* --- experiments (runs grouped by `toposcope experiment`) ------------------------------ */

typedef struct ExpRun {
  gint64 id, experiment;
  char cell[256];
  double top1;         /* the run's last val/accuracy (NaN: none yet) */
  char exp_name[128];  /* its experiment's name (the worker fills it) */
} ExpRun;

static gpointer exp_query(TsStore *store, gpointer data, GError **error) {
  (void)error;
  GArray *runs = data; /* ExpRun, filled in place and handed back */
  for (guint i = 0; i < runs->len; i++) {
    ExpRun *r = &g_array_index(runs, ExpRun, i);
    TsMetricRow row;
    r->top1 = ts_store_last_metric(store, r->id, "val/accuracy", &row, NULL) == TS_OK ? row.value : NAN;
    if (i > 0 && r->experiment == r[-1].experiment) memcpy(r->exp_name, r[-1].exp_name, sizeof r->exp_name);
    else ts_store_experiment_name(store, r->experiment, r->exp_name, sizeof r->exp_name, NULL);
  }
  return g_array_ref(runs);
}

/* "init=NAME per_class=N seed=S": the init may hold spaces (a path), so the
 * keys are found from the right. */
static gboolean parse_cell(const char *cell, char *init, size_t n, long *per_class) {
  const char *pc = strstr(cell, " per_class="), *sd = pc ? strstr(pc, " seed=") : NULL;
  if (strncmp(cell, "init=", 5) != 0 || !pc || !sd) return FALSE;
  g_strlcpy(init, cell + 5, MIN(n, (size_t)(pc - cell - 5) + 1));
  *per_class = strtol(pc + 11, NULL, 10);
  return TRUE;
}

typedef struct ExpCell {
  char init[200];
  long per_class;
  double mean, std;
  int n;
} ExpCell;

typedef struct ExpChart {
  ExpCell *cells;
  guint n;
  char **inits;   /* distinct, in order */
  long *pcs;      /* distinct per-class values, ascending */
  guint n_inits, n_pcs;
} ExpChart;

static void exp_chart_free(gpointer p) {
  ExpChart *c = p;
  g_free(c->cells);
  g_strfreev(c->inits);
  g_free(c->pcs);
  g_free(c);
}

/* Grouped bars: one group per subset size, one bar per initialisation, the
 * sample standard deviation as a whisker. */
static void draw_exp_chart(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data) {
  ExpChart *c = data;
  ts_plot_set_dark(ts_plot_widget_is_dark(GTK_WIDGET(area)));
  TsPlotFrame f;
  memset(&f, 0, sizeof f);
  ts_plot_frame_layout(&f, w, h, 1);
  f.x0 = 0, f.x1 = c->n_pcs ? c->n_pcs : 1;
  double ymax = 0;
  for (guint i = 0; i < c->n; i++)
    if (isfinite(c->cells[i].mean)) ymax = fmax(ymax, c->cells[i].mean + (isfinite(c->cells[i].std) ? c->cells[i].std : 0));
  f.y0 = 0, f.y1 = ymax > 0 ? fmin(100, ymax * 1.3) : 100; /* room for the legend */
  f.no_xticks = 1;
  ts_plot_draw_background(cr, w, h);
  /* x ticks are the groups: no numeric ticks on x */
  TsPlotFrame axes = f;
  ts_plot_draw_axes(cr, &axes, "Top-1 accuracy (%) by subset size, mean ± std over seeds", NULL, "top-1 %");
  double gw = f.width / (c->n_pcs ? c->n_pcs : 1), bw = gw * 0.8 / (c->n_inits ? c->n_inits : 1);
  for (guint i = 0; i < c->n; i++) {
    ExpCell *e = &c->cells[i];
    guint gi = 0, ii = 0;
    for (guint k = 0; k < c->n_pcs; k++) if (c->pcs[k] == e->per_class) gi = k;
    for (guint k = 0; k < c->n_inits; k++) if (!strcmp(c->inits[k], e->init)) ii = k;
    if (!isfinite(e->mean)) continue;
    double rgb[3];
    ts_plot_series_color((int)ii, rgb);
    double x = f.left + gi * gw + gw * 0.1 + ii * bw, y = ts_plot_frame_y(&f, e->mean), y0 = ts_plot_frame_y(&f, 0);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_rectangle(cr, x + 1, y, bw - 2, y0 - y);
    cairo_fill(cr);
    if (isfinite(e->std) && e->n > 1) {
      ts_plot_ink(cr, 0.8);
      cairo_set_line_width(cr, 1.5);
      double ya = ts_plot_frame_y(&f, e->mean - e->std), yb = ts_plot_frame_y(&f, e->mean + e->std), xm = x + bw / 2;
      cairo_move_to(cr, xm, ya), cairo_line_to(cr, xm, yb);
      cairo_move_to(cr, xm - 4, ya), cairo_line_to(cr, xm + 4, ya);
      cairo_move_to(cr, xm - 4, yb), cairo_line_to(cr, xm + 4, yb);
      cairo_stroke(cr);
    }
  }
  ts_plot_ink(cr, 0.8);
  for (guint k = 0; k < c->n_pcs; k++) {
    char label[48];
    if (c->pcs[k] > 0) snprintf(label, sizeof label, "%ld per class", c->pcs[k]);
    else snprintf(label, sizeof label, "all");
    ts_plot_text(cr, f.left + (k + 0.5) * gw, f.top + f.height + 6, label, 0.5, 0, TS_PLOT_FONT_SIZE - 1, 0);
  }
  double ly = f.top + 6;
  for (guint k = 0; k < c->n_inits; k++) {
    double rgb[3];
    ts_plot_series_color((int)k, rgb);
    ts_plot_ink(cr, 0.8);
    double tw = ts_plot_text(cr, f.left + f.width - 8, ly, c->inits[k], 1, 0, TS_PLOT_FONT_SIZE - 1, 0);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_rectangle(cr, f.left + f.width - 8 - tw - 18, ly + 3, 12, 10);
    cairo_fill(cr);
    ly += 16;
  }
  ts_plot_set_dark(0);
}

static void exp_done(GObject *src, GAsyncResult *res, gpointer user_data) {
  (void)src;
  GError *error = NULL;
  GArray *runs = ts_store_reader_query_finish(res, &error);
  if (!runs) {
    g_error_free(error);
    return;
  }
  TsRunsPanel *self = user_data;
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child(self->exp_box))) gtk_box_remove(GTK_BOX(self->exp_box), c);
  self->n_exp_groups = 0;
  /* experiments in order of their first run */
  GArray *exps = g_array_new(FALSE, FALSE, sizeof(gint64));
  for (guint i = 0; i < runs->len; i++) {
    gint64 e = g_array_index(runs, ExpRun, i).experiment;
    gboolean seen = FALSE;
    for (guint k = 0; k < exps->len && !seen; k++) seen = g_array_index(exps, gint64, k) == e;
    if (!seen) g_array_append_val(exps, e);
  }
  for (guint x = 0; x < exps->len; x++) {
    gint64 eid = g_array_index(exps, gint64, x);
    GArray *cells = g_array_new(FALSE, TRUE, sizeof(ExpCell));
    GPtrArray *inits = g_ptr_array_new();
    GArray *pcs = g_array_new(FALSE, FALSE, sizeof(long));
    for (guint i = 0; i < runs->len; i++) {
      ExpRun *r = &g_array_index(runs, ExpRun, i);
      char init[200];
      long pc;
      if (r->experiment != eid || !parse_cell(r->cell, init, sizeof init, &pc)) continue;
      ExpCell *cell = NULL;
      for (guint k = 0; k < cells->len && !cell; k++) {
        ExpCell *e = &g_array_index(cells, ExpCell, k);
        if (!strcmp(e->init, init) && e->per_class == pc) cell = e;
      }
      if (!cell) {
        ExpCell e = {.per_class = pc};
        g_strlcpy(e.init, init, sizeof e.init);
        g_array_append_val(cells, e);
        cell = &g_array_index(cells, ExpCell, cells->len - 1);
        gboolean seen = FALSE;
        for (guint k = 0; k < inits->len && !seen; k++) seen = !strcmp(g_ptr_array_index(inits, k), init);
        if (!seen) g_ptr_array_add(inits, g_strdup(init));
        seen = FALSE;
        for (guint k = 0; k < pcs->len && !seen; k++) seen = g_array_index(pcs, long, k) == pc;
        if (!seen) g_array_append_val(pcs, pc);
      }
      if (isfinite(r->top1)) { /* Welford: mean and sample std in one pass */
        double v = 100 * r->top1, d = v - cell->mean;
        cell->n++;
        cell->mean += d / cell->n;
        cell->std += d * (v - cell->mean); /* the sum of squares until the end */
      }
    }
    for (guint k = 0; k < cells->len; k++) {
      ExpCell *e = &g_array_index(cells, ExpCell, k);
      e->std = e->n > 1 ? sqrt(e->std / (e->n - 1)) : NAN;
      if (!e->n) e->mean = NAN;
    }
    /* per class ascending, "all" (0) last */
    for (guint a = 0; a < pcs->len; a++)
      for (guint b = a + 1; b < pcs->len; b++) {
        long *pa = &g_array_index(pcs, long, a), *pb = &g_array_index(pcs, long, b);
        if ((*pa == 0 && *pb != 0) || (*pb != 0 && *pb < *pa)) {
          long t = *pa;
          *pa = *pb, *pb = t;
        }
      }
    const char *ename = "";
    for (guint i = 0; i < runs->len && !*ename; i++)
      if (g_array_index(runs, ExpRun, i).experiment == eid) ename = g_array_index(runs, ExpRun, i).exp_name;
    char *title = *ename ? g_strdup_printf("%s (experiment %" G_GINT64_FORMAT ")", ename, eid)
                         : g_strdup_printf("Experiment %" G_GINT64_FORMAT, eid);
    GtkWidget *head = gtk_label_new(title);
    g_free(title);
    gtk_label_set_xalign(GTK_LABEL(head), 0);
    gtk_widget_add_css_class(head, "title-4");
    gtk_box_append(GTK_BOX(self->exp_box), head);
    GtkWidget *grid = gtk_grid_new();
    gtk_grid_set_column_spacing(GTK_GRID(grid), 18);
    gtk_grid_set_row_spacing(GTK_GRID(grid), 2);
    gtk_widget_add_css_class(grid, "params-table");
    gtk_grid_attach(GTK_GRID(grid), grid_label("initialisation", "param-head", FALSE), 0, 0, 1, 1);
    for (guint p = 0; p < pcs->len; p++) {
      long pc = g_array_index(pcs, long, p);
      char *t = pc > 0 ? g_strdup_printf("%ld per class", pc) : g_strdup("all images");
      gtk_grid_attach(GTK_GRID(grid), grid_label(t, "param-head", TRUE), 1 + (int)p, 0, 1, 1);
      g_free(t);
    }
    for (guint i = 0; i < inits->len; i++) {
      gtk_grid_attach(GTK_GRID(grid), grid_label(g_ptr_array_index(inits, i), "param-key", FALSE), 0, 1 + (int)i, 1, 1);
      for (guint p = 0; p < pcs->len; p++)
        for (guint k = 0; k < cells->len; k++) {
          ExpCell *e = &g_array_index(cells, ExpCell, k);
          if (strcmp(e->init, g_ptr_array_index(inits, i)) || e->per_class != g_array_index(pcs, long, p)) continue;
          char *t = !e->n ? g_strdup("—")
                    : e->n > 1 ? g_strdup_printf("%.2f ± %.2f (%d)", e->mean, e->std, e->n)
                               : g_strdup_printf("%.2f (1)", e->mean);
          GtkWidget *l = grid_label(t, NULL, TRUE);
          gtk_widget_add_css_class(l, "numeric");
          gtk_grid_attach(GTK_GRID(grid), l, 1 + (int)p, 1 + (int)i, 1, 1);
          g_free(t);
        }
    }
    gtk_box_append(GTK_BOX(self->exp_box), grid);
    ExpChart *chart = g_new0(ExpChart, 1);
    chart->n = cells->len;
    chart->cells = (ExpCell *)(void *)g_array_free(cells, FALSE);
    chart->n_inits = inits->len;
    g_ptr_array_add(inits, NULL);
    chart->inits = (char **)g_ptr_array_free(inits, FALSE);
    chart->n_pcs = pcs->len;
    chart->pcs = (long *)(void *)g_array_free(pcs, FALSE);
    GtkWidget *card = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    gtk_widget_add_css_class(card, "plot-card");
    gtk_widget_add_css_class(card, "card");
    GtkWidget *area = gtk_drawing_area_new();
    gtk_widget_set_size_request(area, -1, 300);
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(area), draw_exp_chart, chart, exp_chart_free);
    gtk_box_append(GTK_BOX(card), area);
    gtk_box_append(GTK_BOX(self->exp_box), card);
    self->n_exp_groups++;
  }
  g_array_unref(exps);
  g_array_unref(runs);
}

static void update_experiments(TsRunsPanel *self) {
  guint n;
  const TsRunSummary *runs = self->sub.reader ? ts_store_reader_get_runs(self->sub.reader, &n) : NULL;
  if (!runs) n = 0;
  GString *key = g_string_new(NULL);
  GArray *todo = g_array_new(FALSE, TRUE, sizeof(ExpRun));
  for (guint i = n; i-- > 0;) { /* oldest first */
    const TsRunInfo *r = &runs[i].info;
    if (r->experiment <= 0) continue;
    ExpRun e = {.id = r->id, .experiment = r->experiment};
    g_strlcpy(e.cell, r->cell, sizeof e.cell);
    g_array_append_val(todo, e);
    g_string_append_printf(key, "%" G_GINT64_FORMAT ":%d:%" G_GINT64_FORMAT ",", r->id, r->status, r->progress_done);
  }
  if (!g_strcmp0(key->str, self->exp_key) && self->exp_key) {
    g_string_free(key, TRUE);
    g_array_unref(todo);
    return;
  }
  g_free(self->exp_key);
  self->exp_key = g_string_free(key, FALSE);
  if (self->exp_cancel) g_cancellable_cancel(self->exp_cancel);
  g_clear_object(&self->exp_cancel);
  if (!todo->len) {
    g_array_unref(todo);
    GtkWidget *c;
    while ((c = gtk_widget_get_first_child(self->exp_box))) gtk_box_remove(GTK_BOX(self->exp_box), c);
    self->n_exp_groups = 0;
    GtkWidget *l = gtk_label_new("No experiments in this store. toposcope experiment groups its fine-tunings "
                                 "(scratch and pretrained, several subset sizes and seeds) here, as a table of "
                                 "mean ± std and a bar chart.");
    gtk_label_set_wrap(GTK_LABEL(l), TRUE);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_widget_add_css_class(l, "dim-label");
    gtk_box_append(GTK_BOX(self->exp_box), l);
    return;
  }
  self->exp_cancel = g_cancellable_new();
  ts_store_reader_query(self->sub.reader, exp_query, todo, (GDestroyNotify)g_array_unref, (GDestroyNotify)g_array_unref,
                        self->exp_cancel, exp_done, self);
}

/* --- object ---------------------------------------------------------------------------------- */

static void on_store_changed(TsStoreReader *reader, TsRunsPanel *self) {
  (void)reader;
  /* the old store's watches are gone */
  g_array_set_size(self->overlay, 0);
  update_counts(self);
}

void ts_runs_panel_set_reader(TsRunsPanel *self, TsStoreReader *reader) {
  if (self->sub.reader) overlay_unwatch(self);
  ts_store_subscription_set(&self->sub, reader, G_CALLBACK(on_runs_changed), G_CALLBACK(on_store_changed), self);
  if (reader) on_runs_changed(reader, self);
  update_counts(self);
}

guint ts_runs_panel_get_n_shown(TsRunsPanel *self) { return g_list_model_get_n_items(G_LIST_MODEL(self->filtered)); }

void ts_runs_panel_select_runs(TsRunsPanel *self, const gint64 *ids, guint n) {
  GtkBitset *sel = gtk_bitset_new_empty(), *mask = gtk_bitset_new_range(0, ts_runs_panel_get_n_shown(self));
  guint shown = ts_runs_panel_get_n_shown(self);
  for (guint i = 0; i < shown; i++) {
    TsRunItem *it = g_list_model_get_item(G_LIST_MODEL(self->filtered), i);
    for (guint k = 0; k < n; k++)
      if (it->s.info.id == ids[k]) gtk_bitset_add(sel, i);
    g_object_unref(it);
  }
  gtk_selection_model_set_selection(GTK_SELECTION_MODEL(self->selection), sel, mask);
  gtk_bitset_unref(sel);
  gtk_bitset_unref(mask);
}

void ts_runs_panel_set_search(TsRunsPanel *self, const char *text) {
  gtk_editable_set_text(GTK_EDITABLE(self->search_entry), text ? text : "");
  on_filter_changed(self);
}

void ts_runs_panel_set_overlay(TsRunsPanel *self, const char *metric, int x_axis) {
  self->syncing = TRUE;
  gtk_drop_down_set_selected(GTK_DROP_DOWN(self->x_drop), (guint)CLAMP(x_axis, 0, 2));
  if (metric && self->metrics)
    for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(self->metrics)); i++)
      if (!strcmp(gtk_string_list_get_string(self->metrics, i), metric))
        gtk_drop_down_set_selected(GTK_DROP_DOWN(self->metric_drop), i);
  self->syncing = FALSE;
  on_overlay_changed(self);
}

const char *ts_runs_panel_get_overlay_metric(TsRunsPanel *self) { return self->metric; }
guint ts_runs_panel_get_overlay_series(TsRunsPanel *self) { return self->overlay->len; }
guint ts_runs_panel_get_overlay_points(TsRunsPanel *self, guint i) {
  return i < self->overlay->len ? g_array_index(self->overlay, OverlaySeries, i).points : 0;
}
TsLinePlot *ts_runs_panel_get_overlay_plot(TsRunsPanel *self) { return TS_LINE_PLOT(self->plot); }
int ts_runs_panel_get_n_differences(TsRunsPanel *self) { return self->n_diff; }
guint ts_runs_panel_get_n_experiments(TsRunsPanel *self) { return self->n_exp_groups; }
void ts_runs_panel_show_page(TsRunsPanel *self, const char *name) {
  gtk_stack_set_visible_child_name(GTK_STACK(self->compare_stack), name);
}

static void ts_runs_panel_dispose(GObject *o) {
  TsRunsPanel *self = TS_RUNS_PANEL(o);
  if (self->compare_cancel) g_cancellable_cancel(self->compare_cancel);
  if (self->exp_cancel) g_cancellable_cancel(self->exp_cancel);
  if (self->cancel) g_cancellable_cancel(self->cancel);
  ts_runs_panel_set_reader(self, NULL);
  if (self->selection) g_signal_handlers_disconnect_by_data(self->selection, self);
  gtk_widget_dispose_template(GTK_WIDGET(self), TS_TYPE_RUNS_PANEL);
  g_clear_object(&self->selection);
  g_clear_object(&self->metrics);
  G_OBJECT_CLASS(ts_runs_panel_parent_class)->dispose(o);
}

static void ts_runs_panel_finalize(GObject *o) {
  TsRunsPanel *self = TS_RUNS_PANEL(o);
  g_array_unref(self->selected);
  g_array_unref(self->overlay);
  g_clear_object(&self->compare_cancel);
  g_clear_object(&self->exp_cancel);
  g_clear_object(&self->cancel);
  g_free(self->exp_key);
  g_free(self->metric);
  G_OBJECT_CLASS(ts_runs_panel_parent_class)->finalize(o);
}

static void ts_runs_panel_class_init(TsRunsPanelClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  oc->dispose = ts_runs_panel_dispose;
  oc->finalize = ts_runs_panel_finalize;
  signals[SIG_MESSAGE] = g_signal_new("message", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                      G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_set_template_from_resource(wc, "/org/toposcope/Toposcope/ui/runs-panel.ui");
#define CHILD(name) gtk_widget_class_bind_template_child(wc, TsRunsPanel, name)
  CHILD(search_entry);
  CHILD(status_drop);
  CHILD(list_stack);
  CHILD(runs_view);
  CHILD(empty_page);
  CHILD(count_label);
  CHILD(export_button);
  CHILD(delete_button);
  CHILD(hint_label);
  CHILD(compare_stack);
  CHILD(metric_drop);
  CHILD(x_drop);
  CHILD(plot_card);
  CHILD(params_grid);
  CHILD(exp_box);
#undef CHILD
  gtk_widget_class_bind_template_callback(wc, on_filter_changed);
  gtk_widget_class_bind_template_callback(wc, on_overlay_changed);
  gtk_widget_class_bind_template_callback(wc, on_export_csv);
  gtk_widget_class_bind_template_callback(wc, on_delete);
  gtk_widget_class_bind_template_callback(wc, on_export_plot);
}

static void ts_runs_panel_init(TsRunsPanel *self) {
  self->syncing = TRUE; /* the template's signals fire while it is built */
  gtk_widget_init_template(GTK_WIDGET(self));
  self->selected = g_array_new(FALSE, FALSE, sizeof(gint64));
  self->overlay = g_array_new(FALSE, FALSE, sizeof(OverlaySeries));
  self->cancel = g_cancellable_new();
  self->n_diff = -1;
  self->store = g_list_store_new(TS_TYPE_RUN_ITEM);
  self->filter = gtk_custom_filter_new(filter_func, self, NULL);
  self->filtered = gtk_filter_list_model_new(G_LIST_MODEL(self->store), GTK_FILTER(self->filter));
  self->selection = gtk_multi_selection_new(G_LIST_MODEL(self->filtered));
  gtk_column_view_set_model(GTK_COLUMN_VIEW(self->runs_view), GTK_SELECTION_MODEL(self->selection));
  g_signal_connect(self->selection, "selection-changed", G_CALLBACK(on_selection_changed), self);
  for (int c = 0; c < N_COLS; c++) {
    GtkListItemFactory *f = gtk_signal_list_item_factory_new();
    g_signal_connect(f, "setup", G_CALLBACK(cell_setup), GINT_TO_POINTER(c));
    g_signal_connect(f, "bind", G_CALLBACK(cell_bind), GINT_TO_POINTER(c));
    g_signal_connect(f, "unbind", G_CALLBACK(cell_unbind), GINT_TO_POINTER(c));
    GtkColumnViewColumn *col = gtk_column_view_column_new(col_titles[c], f);
    gtk_column_view_column_set_resizable(col, TRUE);
    if (c == COL_NAME) gtk_column_view_column_set_expand(col, TRUE);
    gtk_column_view_append_column(GTK_COLUMN_VIEW(self->runs_view), col);
    g_object_unref(col);
  }
  self->plot = ts_line_plot_new();
  gtk_widget_set_vexpand(self->plot, TRUE);
  gtk_box_append(GTK_BOX(self->plot_card), self->plot);
  ts_line_plot_set_smoothing(TS_LINE_PLOT(self->plot), 0.6);
  gtk_label_set_text(GTK_LABEL(self->hint_label), "Select runs in the list to compare them (Ctrl+click or Shift+click for several).");
  self->syncing = FALSE;
  update_counts(self);
}
