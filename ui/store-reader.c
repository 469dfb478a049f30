/* store-reader.c — the shared live reader (see store-reader.h).
 *
 * Two halves share a mutex: the main-thread half (watches with their
 * callbacks, the published run snapshot) and the worker (its connection,
 * the watch cursors, the queue of queries). Results travel to the main loop
 * as Delivery records through g_main_context_invoke; each carries the
 * store generation it was read for, so rows read from a store that has
 * since been switched away are dropped. Deliveries reach the reader through
 * a small refcounted Link whose pointer the reader clears in dispose, so a
 * late delivery never touches a finished reader and the worker never holds
 * a reference (the reader's last unref always happens on the main thread). */
#include "store-reader.h"

#include <math.h>
#include <string.h>

#define DEFAULT_INTERVAL_MS 250
#define RELIST_S 2.0 /* re-read the list this often anyway: dead processes turn interrupted */

typedef struct Link {
  gint refs;
  TsStoreReader *reader; /* NULL once disposed (main thread only) */
} Link;

typedef struct WorkerWatch {
  guint id;
  gint64 run;
  char *name;
  gint64 cursor;
  gboolean primed; /* read at least once */
} WorkerWatch;

typedef struct MainWatch {
  guint id;
  gint64 run;
  char *name;
  TsMetricWatchFunc fn;
  gpointer user;
  GDestroyNotify notify;
} MainWatch;

/* Best-metric bookkeeping of one run on the worker (incremental, by cursor). */
typedef struct BestState {
  gint64 run;
  gint64 acc_cursor, loss_cursor;
  double best_acc, best_loss, updated;
} BestState;

typedef struct Query {
  TsStoreQueryFunc fn;
  gpointer data;
  GDestroyNotify data_free, result_free;
  GTask *task;
} Query;

struct _TsStoreReader {
  GObject parent;
  GMainContext *context;
  Link *link;
  guint interval_ms;
  /* main thread */
  GHashTable *watches; /* id -> MainWatch */
  TsRunSummary *runs;
  guint n_runs, generation;
  TsStoreState state;
  char *error;
  char *path_main;
  /* shared, under lock */
  GMutex lock;
  GCond wake;
  gboolean quit, poke;
  char *path;          /* the store the worker should read */
  guint store_gen;     /* bumped by set_path */
  GPtrArray *wwatches; /* WorkerWatch* */
  GQueue queries;      /* Query* */
  guint next_id;
  GThread *thread;
};

G_DEFINE_FINAL_TYPE(TsStoreReader, ts_store_reader, G_TYPE_OBJECT)

enum { SIG_RUNS_CHANGED, SIG_STORE_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static Link *link_ref(Link *l) {
  g_atomic_int_inc(&l->refs);
  return l;
}
static void link_unref(Link *l) {
  if (g_atomic_int_dec_and_test(&l->refs)) g_free(l);
}

static void worker_watch_free(gpointer p) {
  WorkerWatch *w = p;
  g_free(w->name);
  g_free(w);
}

static void main_watch_free(gpointer p) {
  MainWatch *w = p;
  if (w->notify) w->notify(w->user);
  g_free(w->name);
  g_free(w);
}

static void summaries_free(TsRunSummary *r, guint n) {
  for (guint i = 0; i < n; i++) ts_run_info_clear(&r[i].info);
  g_free(r);
}

/* --- deliveries (worker -> main) --------------------------------------------- */

typedef enum { D_RUNS, D_ROWS, D_STATE } DeliveryKind;

typedef struct Delivery {
  Link *link;
  DeliveryKind kind;
  guint store_gen;
  /* D_RUNS */
  TsRunSummary *runs;
  guint n_runs;
  /* D_ROWS */
  guint watch_id;
  TsMetricRow *rows;
  size_t n_rows;
  /* D_STATE */
  TsStoreState state;
  char *error;
} Delivery;

static void delivery_free(gpointer p) {
  Delivery *d = p;
  if (d->runs) summaries_free(d->runs, d->n_runs);
  free(d->rows);
  g_free(d->error);
  link_unref(d->link);
  g_free(d);
}

static guint current_store_gen(TsStoreReader *self) {
  g_mutex_lock(&self->lock);
  guint g = self->store_gen;
  g_mutex_unlock(&self->lock);
  return g;
}

static gboolean deliver(gpointer p) {
  Delivery *d = p;
  TsStoreReader *self = d->link->reader;
  if (!self || d->store_gen != current_store_gen(self)) return G_SOURCE_REMOVE;
  switch (d->kind) {
  case D_RUNS:
    summaries_free(self->runs, self->n_runs);
    self->runs = d->runs;
    self->n_runs = d->n_runs;
    d->runs = NULL;
    self->generation++;
    g_signal_emit(self, signals[SIG_RUNS_CHANGED], 0);
    break;
  case D_ROWS: {
    MainWatch *w = g_hash_table_lookup(self->watches, GUINT_TO_POINTER(d->watch_id));
    if (w) w->fn(self, w->run, w->name, d->rows, d->n_rows, w->user);
    break;
  }
  case D_STATE:
    if (self->state != d->state || g_strcmp0(self->error, d->error)) {
      self->state = d->state;
      g_free(self->error);
      self->error = g_steal_pointer(&d->error);
      if (self->state != TS_STORE_STATE_OPEN && self->n_runs) { /* the store went away */
        summaries_free(self->runs, self->n_runs);
        self->runs = NULL;
        self->n_runs = 0;
        self->generation++;
        g_signal_emit(self, signals[SIG_RUNS_CHANGED], 0);
      }
      g_signal_emit(self, signals[SIG_STORE_CHANGED], 0);
    }
    break;
  }
  return G_SOURCE_REMOVE;
}

static void post(TsStoreReader *self, Delivery *d) {
  g_main_context_invoke_full(self->context, G_PRIORITY_DEFAULT, deliver, d, delivery_free);
}

static Delivery *delivery_new(TsStoreReader *self, DeliveryKind kind, guint gen) {
  Delivery *d = g_new0(Delivery, 1);
  d->link = link_ref(self->link);
  d->kind = kind;
  d->store_gen = gen;
  return d;
}

/* --- the worker ---------------------------------------------------------------- */

typedef struct Worker {
  TsStore *store;
  char *path;
  guint gen;
  int64_t data_version;
  gboolean have_version;
  double last_list;
  TsStoreState state;
  char *error;
  GArray *best; /* BestState */
  TsRunSummary *last; /* what was sent last */
  guint n_last;
} Worker;

static void worker_reset(Worker *w) {
  ts_store_close(w->store);
  w->store = NULL;
  w->have_version = FALSE;
  w->last_list = 0;
  g_array_set_size(w->best, 0);
  summaries_free(w->last, w->n_last);
  w->last = NULL;
  w->n_last = 0;
}

static BestState *best_state(Worker *w, gint64 run) {
  for (guint i = 0; i < w->best->len; i++) {
    BestState *b = &g_array_index(w->best, BestState, i);
    if (b->run == run) return b;
  }
  BestState b = {.run = run, .best_acc = NAN, .best_loss = NAN};
  g_array_append_val(w->best, b);
  return &g_array_index(w->best, BestState, w->best->len - 1);
}

static void best_update(Worker *w, BestState *b) {
  TsMetricRow *rows;
  size_t n;
  if (ts_store_read_metric(w->store, b->run, "val/accuracy", &b->acc_cursor, &rows, &n, NULL) == TS_OK) {
    for (size_t i = 0; i < n; i++) {
      if (isfinite(rows[i].value) && !(rows[i].value <= b->best_acc)) b->best_acc = rows[i].value;
      b->updated = fmax(b->updated, rows[i].wall_time);
    }
    free(rows);
  }
  if (ts_store_read_metric(w->store, b->run, "val/loss", &b->loss_cursor, &rows, &n, NULL) == TS_OK) {
    for (size_t i = 0; i < n; i++) {
      if (isfinite(rows[i].value) && !(rows[i].value >= b->best_loss)) b->best_loss = rows[i].value;
      b->updated = fmax(b->updated, rows[i].wall_time);
    }
    free(rows);
  }
}

static gboolean summary_same(const TsRunSummary *a, const TsRunSummary *b) {
  return a->info.id == b->info.id && a->info.status == b->info.status &&
         a->info.progress_done == b->info.progress_done && a->info.progress_total == b->info.progress_total &&
         a->info.ended == b->info.ended && a->info.started == b->info.started &&
         ((isnan(a->best) && isnan(b->best)) || a->best == b->best) && !strcmp(a->info.name, b->info.name) &&
         !g_strcmp0(a->info.message, b->info.message);
}

static TsRunSummary *summaries_copy(const TsRunSummary *r, guint n) {
  TsRunSummary *c = g_new0(TsRunSummary, n ? n : 1);
  for (guint i = 0; i < n; i++) {
    c[i] = r[i];
    c[i].info.params_json = r[i].info.params_json ? strdup(r[i].info.params_json) : NULL;
    c[i].info.message = r[i].info.message ? strdup(r[i].info.message) : NULL;
  }
  return c;
}

static void worker_list(TsStoreReader *self, Worker *w) {
  TsRunInfo *runs;
  size_t n;
  TsError err = {0};
  w->last_list = g_get_monotonic_time() / 1e6;
  if (ts_store_list_runs(w->store, &runs, &n, &err) != TS_OK) return;
  TsRunSummary *s = g_new0(TsRunSummary, n ? n : 1);
  for (size_t i = 0; i < n; i++) {
    s[i].info = runs[i];
    BestState *b = best_state(w, runs[i].id);
    /* finished runs do not change: read their best once */
    if (runs[i].status == TS_RUN_RUNNING || (b->acc_cursor == 0 && b->loss_cursor == 0)) best_update(w, b);
    if (!isnan(b->best_acc)) s[i].best = b->best_acc, s[i].best_name = "val/accuracy";
    else if (!isnan(b->best_loss)) s[i].best = b->best_loss, s[i].best_name = "val/loss";
    else s[i].best = NAN;
    s[i].updated = b->updated;
  }
  free(runs);
  gboolean same = n == w->n_last;
  for (size_t i = 0; same && i < n; i++) same = summary_same(&s[i], &w->last[i]);
  if (same) {
    summaries_free(s, (guint)n);
    return;
  }
  summaries_free(w->last, w->n_last);
  w->last = s;
  w->n_last = (guint)n;
  Delivery *d = delivery_new(self, D_RUNS, w->gen);
  d->runs = summaries_copy(s, (guint)n);
  d->n_runs = (guint)n;
  post(self, d);
}

static void worker_set_state(TsStoreReader *self, Worker *w, TsStoreState st, const char *error) {
  if (w->state == st && !g_strcmp0(w->error, error)) return;
  w->state = st;
  g_free(w->error);
  w->error = g_strdup(error);
  Delivery *d = delivery_new(self, D_STATE, w->gen);
  d->state = st;
  d->error = g_strdup(error);
  post(self, d);
}

static gboolean worker_open(TsStoreReader *self, Worker *w) {
  if (w->store) return TRUE;
  TsError err = {0};
  if (!w->path) {
    worker_set_state(self, w, TS_STORE_STATE_ERROR, "no store path (neither XDG_DATA_HOME nor HOME is set)");
    return FALSE;
  }
  if (!g_file_test(w->path, G_FILE_TEST_EXISTS)) {
    worker_set_state(self, w, TS_STORE_STATE_MISSING, NULL);
    return FALSE;
  }
  if (ts_store_open(w->path, TS_STORE_READ, &w->store, &err) != TS_OK) {
    w->store = NULL;
    worker_set_state(self, w, TS_STORE_STATE_ERROR, err.message);
    return FALSE;
  }
  worker_set_state(self, w, TS_STORE_STATE_OPEN, NULL);
  return TRUE;
}

static void worker_watches(TsStoreReader *self, Worker *w, gboolean changed) {
  /* a copy of the watches to read, so the lock is not held during SQL */
  g_mutex_lock(&self->lock);
  guint n = self->wwatches->len;
  WorkerWatch *todo = g_new0(WorkerWatch, n ? n : 1);
  guint k = 0;
  for (guint i = 0; i < n; i++) {
    WorkerWatch *ww = g_ptr_array_index(self->wwatches, i);
    if (!changed && ww->primed) continue;
    todo[k] = *ww;
    todo[k].name = g_strdup(ww->name);
    k++;
  }
  g_mutex_unlock(&self->lock);
  for (guint i = 0; i < k; i++) {
    TsMetricRow *rows = NULL;
    size_t nr = 0;
    gint64 cursor = todo[i].cursor;
    TsStatus st = ts_store_read_metric(w->store, todo[i].run, todo[i].name, &cursor, &rows, &nr, NULL);
    g_mutex_lock(&self->lock);
    gboolean alive = FALSE;
    for (guint j = 0; j < self->wwatches->len; j++) {
      WorkerWatch *ww = g_ptr_array_index(self->wwatches, j);
      if (ww->id == todo[i].id && self->store_gen == w->gen) {
        if (st == TS_OK) ww->cursor = cursor, ww->primed = TRUE;
        alive = TRUE;
      }
    }
    g_mutex_unlock(&self->lock);
    if (alive && st == TS_OK && nr > 0) {
      Delivery *d = delivery_new(self, D_ROWS, w->gen);
      d->watch_id = todo[i].id;
      d->rows = rows;
      d->n_rows = nr;
      post(self, d);
    } else {
      free(rows);
    }
    g_free(todo[i].name);
  }
  g_free(todo);
}

static void worker_queries(TsStoreReader *self, Worker *w) {
  for (;;) {
    g_mutex_lock(&self->lock);
    Query *q = g_queue_pop_head(&self->queries);
    g_mutex_unlock(&self->lock);
    if (!q) return;
    GError *error = NULL;
    gpointer result = NULL;
    if (g_cancellable_is_cancelled(g_task_get_cancellable(q->task))) {
      g_task_return_error_if_cancelled(q->task);
    } else if (!w->store) {
      g_task_return_new_error(q->task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                              w->error ? w->error : "the run store does not exist yet");
    } else if ((result = q->fn(w->store, q->data, &error)) != NULL || !error) {
      g_task_return_pointer(q->task, result, q->result_free);
    } else {
      g_task_return_error(q->task, error);
    }
    if (q->data_free) q->data_free(q->data);
    g_object_unref(q->task);
    g_free(q);
  }
}

static gpointer worker_main(gpointer data) {
  TsStoreReader *self = data; /* alive until dispose joins this thread */
  Worker w = {.best = g_array_new(FALSE, FALSE, sizeof(BestState)), .state = TS_STORE_STATE_OPENING, .gen = G_MAXUINT};
  for (;;) {
    g_mutex_lock(&self->lock);
    if (!self->quit && !self->poke && g_queue_is_empty(&self->queries)) {
      gint64 until = g_get_monotonic_time() + (gint64)self->interval_ms * 1000;
      g_cond_wait_until(&self->wake, &self->lock, until);
    }
    gboolean quit = self->quit;
    self->poke = FALSE;
    if (w.gen != self->store_gen) {
      worker_reset(&w);
      g_free(w.path);
      w.path = g_strdup(self->path);
      w.gen = self->store_gen;
      g_free(w.error);
      w.error = NULL;
      w.state = TS_STORE_STATE_OPENING;
    }
    g_mutex_unlock(&self->lock);
    if (quit) break;
    if (worker_open(self, &w)) {
      int64_t version = 0;
      gboolean changed = TRUE;
      if (ts_store_data_version(w.store, &version, NULL) == TS_OK) {
        changed = !w.have_version || version != w.data_version;
        w.data_version = version;
        w.have_version = TRUE;
      }
      double now = g_get_monotonic_time() / 1e6;
      if (changed || now - w.last_list >= RELIST_S) worker_list(self, &w);
      worker_watches(self, &w, changed);
    }
    worker_queries(self, &w);
  }
  worker_queries(self, &w); /* none left waiting: they return cancelled or not-found */
  worker_reset(&w);
  g_free(w.path);
  g_free(w.error);
  g_array_unref(w.best);
  return NULL;
}

/* --- object -------------------------------------------------------------------- */

static void ts_store_reader_dispose(GObject *o) {
  TsStoreReader *self = TS_STORE_READER(o);
  if (self->thread) {
    g_mutex_lock(&self->lock);
    self->quit = TRUE;
    /* queries still queued answer "cancelled" */
    for (GList *l = self->queries.head; l; l = l->next) g_cancellable_cancel(g_task_get_cancellable(((Query *)l->data)->task));
    g_cond_signal(&self->wake);
    g_mutex_unlock(&self->lock);
    g_thread_join(self->thread);
    self->thread = NULL;
  }
  if (self->link) {
    self->link->reader = NULL;
    link_unref(self->link);
    self->link = NULL;
  }
  g_clear_pointer(&self->watches, g_hash_table_unref);
  G_OBJECT_CLASS(ts_store_reader_parent_class)->dispose(o);
}

static void ts_store_reader_finalize(GObject *o) {
  TsStoreReader *self = TS_STORE_READER(o);
  summaries_free(self->runs, self->n_runs);
  g_ptr_array_unref(self->wwatches);
  g_free(self->path);
  g_free(self->path_main);
  g_free(self->error);
  g_main_context_unref(self->context);
  g_mutex_clear(&self->lock);
  g_cond_clear(&self->wake);
  G_OBJECT_CLASS(ts_store_reader_parent_class)->finalize(o);
}

static void ts_store_reader_class_init(TsStoreReaderClass *klass) {
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  oc->dispose = ts_store_reader_dispose;
  oc->finalize = ts_store_reader_finalize;
  signals[SIG_RUNS_CHANGED] = g_signal_new("runs-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                           NULL, NULL, G_TYPE_NONE, 0);
  signals[SIG_STORE_CHANGED] = g_signal_new("store-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                            NULL, NULL, G_TYPE_NONE, 0);
}

static void ts_store_reader_init(TsStoreReader *self) {
  g_mutex_init(&self->lock);
  g_cond_init(&self->wake);
  self->context = g_main_context_ref_thread_default();
  self->link = g_new0(Link, 1);
  self->link->refs = 1;
  self->link->reader = self;
  self->watches = g_hash_table_new_full(NULL, NULL, NULL, main_watch_free);
  self->wwatches = g_ptr_array_new_with_free_func(worker_watch_free);
  g_queue_init(&self->queries);
}

static char *resolve_path(const char *path) {
  if (path) return g_strdup(path);
  char buf[4096];
  TsError err;
  return ts_store_default_path(buf, sizeof buf, &err) == TS_OK ? g_strdup(buf) : NULL;
}

TsStoreReader *ts_store_reader_new(const char *path, guint interval_ms) {
  TsStoreReader *self = g_object_new(TS_TYPE_STORE_READER, NULL);
  self->interval_ms = interval_ms ? interval_ms : DEFAULT_INTERVAL_MS;
  self->path = resolve_path(path);
  self->path_main = g_strdup(self->path);
  self->thread = g_thread_new("store-reader", worker_main, self);
  return self;
}

void ts_store_reader_set_path(TsStoreReader *self, const char *path) {
  char *p = resolve_path(path);
  g_mutex_lock(&self->lock);
  g_free(self->path);
  self->path = g_strdup(p);
  self->store_gen++;
  g_ptr_array_set_size(self->wwatches, 0);
  self->poke = TRUE;
  g_cond_signal(&self->wake);
  g_mutex_unlock(&self->lock);
  g_free(self->path_main);
  self->path_main = p;
  /* every watch ends; the panels watch again on "store-changed" */
  g_hash_table_remove_all(self->watches);
  summaries_free(self->runs, self->n_runs);
  self->runs = NULL;
  self->n_runs = 0;
  self->state = TS_STORE_STATE_OPENING;
  g_clear_pointer(&self->error, g_free);
  self->generation++;
  g_signal_emit(self, signals[SIG_STORE_CHANGED], 0);
  g_signal_emit(self, signals[SIG_RUNS_CHANGED], 0);
}

const char *ts_store_reader_get_path(TsStoreReader *self) { return self->path_main; }
TsStoreState ts_store_reader_get_state(TsStoreReader *self) { return self->state; }
const char *ts_store_reader_get_error(TsStoreReader *self) { return self->error; }
guint ts_store_reader_get_generation(TsStoreReader *self) { return self->generation; }

void ts_store_reader_poke(TsStoreReader *self) {
  g_mutex_lock(&self->lock);
  self->poke = TRUE;
  g_cond_signal(&self->wake);
  g_mutex_unlock(&self->lock);
}

const TsRunSummary *ts_store_reader_get_runs(TsStoreReader *self, guint *n) {
  *n = self->n_runs;
  return self->runs;
}

const TsRunSummary *ts_store_reader_find_run(TsStoreReader *self, gint64 id) {
  for (guint i = 0; i < self->n_runs; i++)
    if (self->runs[i].info.id == id) return &self->runs[i];
  return NULL;
}

guint ts_store_reader_watch_metric(TsStoreReader *self, gint64 run, const char *name, TsMetricWatchFunc fn,
                                   gpointer user_data, GDestroyNotify notify) {
  g_return_val_if_fail(fn && name, 0);
  MainWatch *mw = g_new0(MainWatch, 1);
  WorkerWatch *ww = g_new0(WorkerWatch, 1);
  g_mutex_lock(&self->lock);
  guint id = ++self->next_id;
  ww->id = id, ww->run = run, ww->name = g_strdup(name);
  g_ptr_array_add(self->wwatches, ww);
  self->poke = TRUE;
  g_cond_signal(&self->wake);
  g_mutex_unlock(&self->lock);
  mw->id = id, mw->run = run, mw->name = g_strdup(name), mw->fn = fn, mw->user = user_data, mw->notify = notify;
  g_hash_table_insert(self->watches, GUINT_TO_POINTER(id), mw);
  return id;
}

void ts_store_reader_unwatch(TsStoreReader *self, guint id) {
  if (!id) return;
  g_mutex_lock(&self->lock);
  for (guint i = 0; i < self->wwatches->len; i++)
    if (((WorkerWatch *)g_ptr_array_index(self->wwatches, i))->id == id) {
      g_ptr_array_remove_index(self->wwatches, i);
      break;
    }
  g_mutex_unlock(&self->lock);
  if (self->watches) g_hash_table_remove(self->watches, GUINT_TO_POINTER(id));
}

void ts_store_reader_query(TsStoreReader *self, TsStoreQueryFunc fn, gpointer data, GDestroyNotify data_free,
                           GDestroyNotify result_free, GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data) {
  /* no source object: the task must not keep the reader alive from the worker */
  GCancellable *c = cancellable ? g_object_ref(cancellable) : g_cancellable_new();
  GTask *task = g_task_new(NULL, c, callback, user_data);
  g_object_unref(c);
  Query *q = g_new0(Query, 1);
  q->fn = fn, q->data = data, q->data_free = data_free, q->result_free = result_free, q->task = task;
  g_mutex_lock(&self->lock);
  if (self->quit) g_cancellable_cancel(c);
  g_queue_push_tail(&self->queries, q);
  g_cond_signal(&self->wake);
  g_mutex_unlock(&self->lock);
}

gpointer ts_store_reader_query_finish(GAsyncResult *res, GError **error) {
  return g_task_propagate_pointer(G_TASK(res), error);
}

/* --- ready-made queries -------------------------------------------------------- */

static gpointer names_query(TsStore *store, gpointer data, GError **error) {
  gint64 run = *(gint64 *)data;
  char **names;
  size_t n;
  TsError err = {0};
  if (ts_store_metric_names(store, run, &names, &n, &err) != TS_OK) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
    return NULL;
  }
  char **v = g_new0(char *, n + 1);
  for (size_t i = 0; i < n; i++) v[i] = g_strdup(names[i]);
  ts_store_free_strings(names, n);
  return v;
}

void ts_store_reader_metric_names(TsStoreReader *self, gint64 run, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data) {
  gint64 *r = g_new(gint64, 1);
  *r = run;
  ts_store_reader_query(self, names_query, r, g_free, (GDestroyNotify)g_strfreev, cancellable, callback, user_data);
}

static gpointer delete_query(TsStore *store, gpointer data, GError **error) {
  gint64 run = *(gint64 *)data;
  TsStore *w = NULL;
  TsError err = {0};
  if (ts_store_open(ts_store_path(store), TS_STORE_WRITE, &w, &err) != TS_OK) w = NULL;
  if (!w || ts_store_delete_run(w, run, &err) != TS_OK) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", err.message);
    ts_store_close(w);
    return NULL;
  }
  ts_store_close(w);
  return GINT_TO_POINTER(1);
}

void ts_store_reader_delete_run(TsStoreReader *self, gint64 run, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data) {
  gint64 *r = g_new(gint64, 1);
  *r = run;
  ts_store_reader_query(self, delete_query, r, g_free, NULL, cancellable, callback, user_data);
  ts_store_reader_poke(self);
}
