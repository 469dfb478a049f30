/* test-store-reader.c — the shared live reader against a writer in the same
 * process (its own connection, as another process would have): every row
 * of a watched metric arrives exactly once and in order while the writer
 * commits in random batches (checked against reading the whole metric at
 * the end); two watches of one metric each get all rows; the run list
 * follows progress, status and the best validation value; a store that does
 * not exist yet is reported missing and picked up once a writer creates it;
 * switching stores ends the watches; queries (names, delete) come back on
 * the main loop. Needs no display. */
#include <glib/gstdio.h>
#include <math.h>

#include "store-reader.h"
#include "ts-test.h"

static char dir[64];

typedef struct {
  GArray *rows; /* TsMetricRow */
  int calls, ended;
} Got;

static void on_rows(TsStoreReader *r, gint64 run, const char *name, const TsMetricRow *rows, gsize n, gpointer user) {
  (void)r, (void)run, (void)name;
  Got *g = user;
  g_array_append_vals(g->rows, rows, (guint)n);
  g->calls++;
}

static void on_end(gpointer user) { ((Got *)user)->ended++; }

static gboolean wake(gpointer data) {
  (void)data;
  return G_SOURCE_CONTINUE;
}

static int wait_until(gboolean (*cond)(gpointer), gpointer data, double timeout_s) {
  gint64 end = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
  guint id = g_timeout_add(10, wake, NULL);
  int ok = 1;
  while (!cond(data)) {
    if (g_get_monotonic_time() > end) {
      ok = 0;
      break;
    }
    g_main_context_iteration(NULL, TRUE);
  }
  g_source_remove(id);
  return ok;
}

typedef struct {
  Got *got;
  guint want;
} RowsWait;
static gboolean have_rows(gpointer p) {
  RowsWait *w = p;
  return w->got->rows->len >= w->want;
}

typedef struct {
  TsStoreReader *r;
  gint64 run;
  TsRunStatus status;
  gint64 done;
} RunWait;
static gboolean run_is(gpointer p) {
  RunWait *w = p;
  const TsRunSummary *s = ts_store_reader_find_run(w->r, w->run);
  return s && s->info.status == w->status && s->info.progress_done == w->done;
}

static gboolean state_is(gpointer p) {
  void **a = p;
  return ts_store_reader_get_state(a[0]) == (TsStoreState)GPOINTER_TO_INT(a[1]);
}

static void test_rows_arrive_once_in_order(void) {
  char path[128];
  snprintf(path, sizeof path, "%s/live.sqlite", dir);
  TsError err = {0};
  TsStore *w;
  TS_CHECK(ts_store_open(path, TS_STORE_WRITE, &w, &err) == TS_OK);
  int64_t run;
  TS_CHECK(ts_store_run_begin(w, "train", "live", "{\"lr\":0.1}", &run, &err) == TS_OK);
  TS_CHECK(ts_store_flush(w, &err) == TS_OK);

  TsStoreReader *r = ts_store_reader_new(path, 20);
  Got a = {.rows = g_array_new(FALSE, FALSE, sizeof(TsMetricRow))};
  Got b = {.rows = g_array_new(FALSE, FALSE, sizeof(TsMetricRow))};
  guint wa = ts_store_reader_watch_metric(r, run, "train/loss", on_rows, &a, on_end);
  GRand *rng = g_rand_new_with_seed(7);
  int total = 0;
  for (int batch = 0; batch < 40; batch++) {
    int k = g_rand_int_range(rng, 0, 200);
    for (int i = 0; i < k; i++, total++) {
      TS_CHECK(ts_store_metric(w, run, total, total / 100, "train/loss", 1.0 / (total + 1), &err) == TS_OK);
      TS_CHECK(ts_store_metric(w, run, total, total / 100, "lr", 0.1, &err) == TS_OK); /* not watched */
    }
    if (batch % 3 == 0) TS_CHECK(ts_store_metric(w, run, total, batch, "val/accuracy", 0.5 + 0.01 * batch, &err) == TS_OK);
    TS_CHECK(ts_store_progress(w, run, total, 10000, &err) == TS_OK);
    TS_CHECK(ts_store_flush(w, &err) == TS_OK);
    if (batch == 20) ts_store_reader_watch_metric(r, run, "train/loss", on_rows, &b, on_end); /* a late second watch */
    /* let the reader run now and then, mid-stream */
    for (int spin = 0; spin < 5; spin++) g_main_context_iteration(NULL, FALSE);
    g_usleep(g_rand_int_range(rng, 0, 15000));
  }
  RowsWait ra = {&a, (guint)total}, rb = {&b, (guint)total};
  TS_CHECK(wait_until(have_rows, &ra, 20) && wait_until(have_rows, &rb, 20));
  g_usleep(100000); /* nothing more may come */
  for (int spin = 0; spin < 20; spin++) g_main_context_iteration(NULL, FALSE);
  TS_CHECK(a.rows->len == (guint)total && b.rows->len == (guint)total);
  /* the slow reference: the whole metric read at once */
  gint64 cursor = 0;
  TsMetricRow *ref;
  size_t nref;
  TS_CHECK(ts_store_read_metric(w, run, "train/loss", &cursor, &ref, &nref, &err) == TS_OK && nref == (size_t)total);
  int same = 1;
  for (size_t i = 0; i < nref && i < a.rows->len && i < b.rows->len; i++) {
    TsMetricRow *x = &g_array_index(a.rows, TsMetricRow, i), *y = &g_array_index(b.rows, TsMetricRow, i);
    same &= x->step == ref[i].step && x->value == ref[i].value && y->step == ref[i].step && y->value == ref[i].value;
  }
  TS_CHECK(same);
  free(ref);
  TS_CHECK(a.calls < total / 2 + 2); /* rows come in batches, not one call each */

  /* the run list: progress and the best validation accuracy */
  RunWait rw = {r, run, TS_RUN_RUNNING, total};
  TS_CHECK(wait_until(run_is, &rw, 10));
  const TsRunSummary *s = ts_store_reader_find_run(r, run);
  TS_CHECK(s && s->best_name && !strcmp(s->best_name, "val/accuracy") && fabs(s->best - (0.5 + 0.01 * 39)) < 1e-12);
  TS_CHECK(ts_store_run_end(w, run, TS_RUN_FINISHED, NULL, &err) == TS_OK);
  rw.status = TS_RUN_FINISHED;
  TS_CHECK(wait_until(run_is, &rw, 10));

  /* unwatch ends a watch once; switching stores ends the rest */
  ts_store_reader_unwatch(r, wa);
  TS_CHECK(a.ended == 1 && b.ended == 0);
  char other[128];
  snprintf(other, sizeof other, "%s/later/other.sqlite", dir);
  ts_store_reader_set_path(r, other);
  TS_CHECK(b.ended == 1);
  void *missing[2] = {r, GINT_TO_POINTER(TS_STORE_STATE_MISSING)};
  TS_CHECK(wait_until(state_is, missing, 10));
  guint n;
  ts_store_reader_get_runs(r, &n);
  TS_CHECK(n == 0);
  /* the first job creates it: the reader finds it by itself */
  TsStore *w2;
  TS_CHECK(ts_store_open(other, TS_STORE_WRITE, &w2, &err) == TS_OK);
  int64_t run2;
  TS_CHECK(ts_store_run_begin(w2, "generate", "later", NULL, &run2, &err) == TS_OK);
  TS_CHECK(ts_store_progress(w2, run2, 3, 9, &err) == TS_OK && ts_store_flush(w2, &err) == TS_OK);
  RunWait rw2 = {r, run2, TS_RUN_RUNNING, 3};
  TS_CHECK(wait_until(run_is, &rw2, 10));
  TS_CHECK(ts_store_reader_get_state(r) == TS_STORE_STATE_OPEN);
  ts_store_close(w2);
  ts_store_close(w);
  g_rand_free(rng);
  g_array_unref(a.rows);
  g_array_unref(b.rows);
  g_object_unref(r);
}

typedef struct {
  int done;
  char **names;
  gboolean deleted;
  GError *error;
} QueryOut;

static void names_done(GObject *src, GAsyncResult *res, gpointer user) {
  (void)src;
  QueryOut *q = user;
  q->names = ts_store_reader_query_finish(res, &q->error);
  q->done = 1;
}
static void delete_done(GObject *src, GAsyncResult *res, gpointer user) {
  (void)src;
  QueryOut *q = user;
  q->deleted = ts_store_reader_query_finish(res, &q->error) != NULL;
  q->done = 1;
}
static gboolean query_done(gpointer p) { return ((QueryOut *)p)->done; }
static gboolean no_runs(gpointer p) {
  guint n;
  ts_store_reader_get_runs(p, &n);
  return n == 0 && ts_store_reader_get_generation(p) > 1;
}

static void test_queries(void) {
  char path[128];
  snprintf(path, sizeof path, "%s/q.sqlite", dir);
  TsError err = {0};
  TsStore *w;
  TS_CHECK(ts_store_open(path, TS_STORE_WRITE, &w, &err) == TS_OK);
  int64_t run;
  TS_CHECK(ts_store_run_begin(w, "train", "q", NULL, &run, &err) == TS_OK);
  TS_CHECK(ts_store_metric(w, run, 0, 0, "b", 1, &err) == TS_OK && ts_store_metric(w, run, 0, 0, "a", 1, &err) == TS_OK);
  TS_CHECK(ts_store_run_end(w, run, TS_RUN_FINISHED, NULL, &err) == TS_OK);
  ts_store_close(w);
  TsStoreReader *r = ts_store_reader_new(path, 20);
  QueryOut q = {0};
  ts_store_reader_metric_names(r, run, NULL, names_done, &q);
  TS_CHECK(wait_until(query_done, &q, 10) && q.names && g_strv_length(q.names) == 2 && !strcmp(q.names[0], "a"));
  g_strfreev(q.names);
  QueryOut d = {0};
  ts_store_reader_delete_run(r, run, NULL, delete_done, &d);
  TS_CHECK(wait_until(query_done, &d, 10) && d.deleted && !d.error);
  TS_CHECK(wait_until(no_runs, r, 10));
  /* a cancelled query answers "cancelled" */
  GCancellable *c = g_cancellable_new();
  g_cancellable_cancel(c);
  QueryOut x = {0};
  ts_store_reader_metric_names(r, run, c, names_done, &x);
  TS_CHECK(wait_until(query_done, &x, 10) && g_error_matches(x.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  g_clear_error(&x.error);
  g_object_unref(c);
  /* disposing with a query queued: it still answers (cancelled), nothing leaks */
  QueryOut y = {0};
  ts_store_reader_metric_names(r, run, NULL, names_done, &y);
  g_object_unref(r);
  TS_CHECK(wait_until(query_done, &y, 10));
  g_strfreev(y.names);
  g_clear_error(&y.error);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/ts-reader-XXXXXX");
  if (!g_mkdtemp(dir)) return 1;
  TS_RUN(test_rows_arrive_once_in_order);
  TS_RUN(test_queries);
  char *cmd = g_strdup_printf("rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  g_free(cmd);
  return ts_test_finish();
}
