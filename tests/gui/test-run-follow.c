/* test-run-follow.c — TsRunFollower against a real store reader, with a
 * query that waits at a gate the test opens, so that answers come back in
 * an order the test chooses: reload requests made while a read is in
 * flight make exactly one more read; an answer read from a store that has
 * since been switched away (the same run id in both) is dropped and freed,
 * and the run is read again from the new store; a read cancelled before it
 * ran is asked again; the picker lists the runs the predicate accepts,
 * newest first, follows the preferred one, keeps the one picked while it is
 * listed, re-reads it while it runs, and falls back to the preferred one
 * when it goes; the status page says why there is nothing to show (reading,
 * the read's error, no runs). The picker part needs a display (xvfb-run). */
#include <adwaita.h>
#include <glib/gstdio.h>

#include "run-follow.h"
#include "ts-test.h"

static char dir[64];

/* --- the gated query ------------------------------------------------------------ */

static GMutex gate_lock;
static GCond gate_cond;
static gboolean gate_open = TRUE;
static gint calls, live_answers, blocking;
static gint64 failing_run = -1; /* the query fails for this run */

typedef struct {
  gint64 run;
  char *path; /* the store it was read from */
  int seq;    /* which call of the query made it */
} Answer;

static void answer_free(gpointer p) {
  Answer *a = p;
  g_free(a->path);
  g_free(a);
  g_atomic_int_add(&live_answers, -1);
}

static void pass_gate(void) {
  g_mutex_lock(&gate_lock);
  while (!gate_open) g_cond_wait(&gate_cond, &gate_lock);
  g_mutex_unlock(&gate_lock);
}

static void set_gate(gboolean open) {
  g_mutex_lock(&gate_lock);
  gate_open = open;
  g_cond_broadcast(&gate_cond);
  g_mutex_unlock(&gate_lock);
}

static gpointer gated_query(TsStore *s, gpointer data, GError **error) {
  int seq = g_atomic_int_add(&calls, 1) + 1;
  pass_gate();
  if (*(gint64 *)data == failing_run) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "run %lld has nothing", (long long)failing_run);
    return NULL;
  }
  Answer *a = g_new0(Answer, 1);
  a->run = *(gint64 *)data;
  a->path = g_strdup(ts_store_path(s));
  a->seq = seq;
  g_atomic_int_inc(&live_answers);
  return a;
}

/* Holds the reader's worker until the gate opens (its answer is ignored). */
static gpointer blocker_query(TsStore *s, gpointer data, GError **error) {
  (void)s, (void)data, (void)error;
  g_atomic_int_set(&blocking, 1);
  pass_gate();
  return NULL;
}

static void ignore_answer(GObject *src, GAsyncResult *res, gpointer user) {
  (void)src, (void)user;
  ts_store_reader_query_finish(res, NULL);
}

/* --- what the follower told us ----------------------------------------------------- */

typedef struct {
  int loaded, firsts, run_changes;
  char *last_path; /* of the last answer delivered */
} Seen;

static void on_loaded(TsRunFollower *f, gboolean first, Seen *s) {
  Answer *a = ts_run_follower_get_result(f);
  s->loaded++;
  s->firsts += first;
  g_free(s->last_path);
  s->last_path = g_strdup(a ? a->path : NULL);
}
static void on_run_changed(TsRunFollower *f, Seen *s) {
  (void)f;
  s->run_changes++;
}

static gboolean is_train(const TsRunSummary *r) { return g_str_equal(r->info.kind, "train"); }
static gboolean named_p(const TsRunSummary *r) { return r->info.name[0] == 'p'; }

static TsRunFollower *follower(TsRunPredicate preferred, Seen *seen) {
  TsRunFollower *f = ts_run_follower_new(gated_query, answer_free, is_train, preferred);
  g_signal_connect(f, "loaded", G_CALLBACK(on_loaded), seen);
  g_signal_connect(f, "run-changed", G_CALLBACK(on_run_changed), seen);
  return f;
}

/* Iterates the main loop until done(f, want) holds (or 20 s pass). */
static gboolean iterate_until(gboolean (*done)(TsRunFollower *, gint64), TsRunFollower *f, gint64 want) {
  gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
  while (!done(f, want) && g_get_monotonic_time() < end) {
    g_main_context_iteration(NULL, FALSE);
    g_usleep(1000);
  }
  return done(f, want);
}
static gboolean answered(TsRunFollower *f, gint64 generation) {
  return !ts_run_follower_is_busy(f) && ts_run_follower_get_generation(f) >= (guint)generation;
}
static gboolean called(TsRunFollower *f, gint64 n) {
  (void)f;
  return g_atomic_int_get(&calls) >= n;
}
static gboolean worker_held(TsRunFollower *f, gint64 unused) {
  (void)f, (void)unused;
  return g_atomic_int_get(&blocking) != 0;
}
static gboolean following(TsRunFollower *f, gint64 run) {
  Answer *a = ts_run_follower_get_result(f);
  return ts_run_follower_get_run(f) == run && a && a->run == run && !ts_run_follower_is_busy(f);
}
/* Lets anything still on its way arrive. */
static void drain(void) {
  gint64 end = g_get_monotonic_time() + 300 * 1000;
  while (g_get_monotonic_time() < end) {
    g_main_context_iteration(NULL, FALSE);
    g_usleep(1000);
  }
}

static void make_store(const char *path, const char *const *kinds, const char *const *names, int n, gint64 *ids) {
  TsError err = {0};
  TsStore *w;
  TS_CHECK(ts_store_open(path, TS_STORE_WRITE, &w, &err) == TS_OK);
  for (int i = 0; i < n; i++) {
    int64_t id;
    TS_CHECK(ts_store_run_begin(w, kinds[i], names[i], NULL, &id, &err) == TS_OK);
    TS_CHECK(ts_store_run_end(w, id, TS_RUN_FINISHED, NULL, &err) == TS_OK);
    if (ids) ids[i] = id;
  }
  ts_store_close(w);
}

static void test_reads(void) {
  char one[128], two[128];
  snprintf(one, sizeof one, "%s/one.sqlite", dir);
  snprintf(two, sizeof two, "%s/two.sqlite", dir);
  static const char *const kinds[] = {"train"};
  static const char *const na[] = {"a"}, *const nb[] = {"b"};
  gint64 ra, rb;
  make_store(one, kinds, na, 1, &ra);
  make_store(two, kinds, nb, 1, &rb);
  TS_CHECK(ra == rb); /* the same id in both stores */
  TsStoreReader *r = ts_store_reader_new(one, 20);
  Seen seen = {0};
  TsRunFollower *f = follower(NULL, &seen);

  /* reloads while a read is in flight: exactly one more read */
  set_gate(FALSE);
  ts_run_follower_set_reader(f, r);
  TS_CHECK(iterate_until(called, f, 1));
  TS_CHECK(ts_run_follower_get_run(f) == ra && ts_run_follower_is_busy(f));
  for (int i = 0; i < 5; i++) ts_run_follower_reload(f);
  set_gate(TRUE);
  TS_CHECK(iterate_until(answered, f, 2));
  drain();
  Answer *a = ts_run_follower_get_result(f);
  TS_CHECKF(g_atomic_int_get(&calls) == 2 && seen.loaded == 2, "%d reads, %d answers", calls, seen.loaded);
  TS_CHECK(a && a->run == ra && a->seq == 2 && seen.firsts == 1 && !ts_run_follower_get_error(f));

  /* an answer from the store switched away is dropped; the new store's run
   * (the same id) is read afresh */
  set_gate(FALSE);
  ts_run_follower_reload(f);
  TS_CHECK(iterate_until(called, f, 3));
  int changes = seen.run_changes;
  ts_store_reader_set_path(r, two);
  TS_CHECK(seen.run_changes > changes && ts_run_follower_get_result(f) == NULL && ts_run_follower_get_run(f) == -1);
  set_gate(TRUE);
  TS_CHECK(iterate_until(following, f, rb));
  drain();
  a = ts_run_follower_get_result(f);
  TS_CHECKF(seen.loaded == 3, "%d answers", seen.loaded);
  TS_CHECK(a && a->seq == 4 && !g_strcmp0(a->path, two) && !g_strcmp0(seen.last_path, two));
  TS_CHECKF(g_atomic_int_get(&live_answers) == 1, "%d answers alive", live_answers);

  /* a read cancelled before it ran is asked again */
  set_gate(FALSE);
  g_atomic_int_set(&blocking, 0);
  ts_store_reader_query(r, blocker_query, NULL, NULL, NULL, NULL, ignore_answer, NULL);
  TS_CHECK(iterate_until(worker_held, f, 0));
  int before = g_atomic_int_get(&calls);
  ts_run_follower_reload(f);
  g_cancellable_cancel(ts_run_follower_get_cancellable(f)); /* as the reader does when it goes */
  set_gate(TRUE);
  TS_CHECK(iterate_until(answered, f, 4));
  drain();
  a = ts_run_follower_get_result(f);
  TS_CHECKF(g_atomic_int_get(&calls) == before + 1 && seen.loaded == 4, "%d reads, %d answers", calls - before,
            seen.loaded);
  TS_CHECK(a && a->seq == before + 1 && !g_cancellable_is_cancelled(ts_run_follower_get_cancellable(f)));

  /* without a reader an answer in flight is dropped */
  set_gate(FALSE);
  ts_run_follower_reload(f);
  TS_CHECK(iterate_until(called, f, before + 2));
  ts_run_follower_set_reader(f, NULL);
  set_gate(TRUE);
  drain();
  TS_CHECK(seen.loaded == 4 && !ts_run_follower_is_busy(f));
  g_object_unref(f);
  g_object_unref(r);
  TS_CHECKF(g_atomic_int_get(&live_answers) == 0, "%d answers alive", live_answers);
  g_free(seen.last_path);
}

static void test_picker(void) {
  char path[128];
  snprintf(path, sizeof path, "%s/picker.sqlite", dir);
  static const char *const kinds[] = {"train", "train", "generate", "train"};
  static const char *const names[] = {"x1", "p2", "g3", "x4"};
  gint64 ids[4];
  make_store(path, kinds, names, 4, ids);
  TsStoreReader *r = ts_store_reader_new(path, 20);
  Seen seen = {0};
  TsRunFollower *f = follower(named_p, &seen);
  GtkWidget *row = g_object_ref_sink(adw_combo_row_new());
  GtkWidget *page = g_object_ref_sink(adw_status_page_new());
  ts_run_follower_attach(f, ADW_COMBO_ROW(row));
  ts_run_follower_attach_status(f, ADW_STATUS_PAGE(page), "reading", "no runs");
  ts_run_follower_set_reader(f, r);
  /* newest first, the generate run left out; the preferred one followed */
  TS_CHECK(iterate_until(following, f, ids[1]));
  GListModel *m = adw_combo_row_get_model(ADW_COMBO_ROW(row));
  TS_CHECK(ts_run_follower_get_n_runs(f) == 3 && g_list_model_get_n_items(m) == 3);
  char *want = g_strdup_printf("%lld · x4", (long long)ids[3]);
  TS_CHECK(!g_strcmp0(gtk_string_list_get_string(GTK_STRING_LIST(m), 0), want));
  g_free(want);
  TS_CHECK(adw_combo_row_get_selected(ADW_COMBO_ROW(row)) == 1);
  /* picking in the row follows that run */
  adw_combo_row_set_selected(ADW_COMBO_ROW(row), 2);
  TS_CHECK(iterate_until(following, f, ids[0]));
  /* a new run: the picked one stays followed and selected; while it runs,
   * every commit re-reads it */
  TsError err = {0};
  TsStore *w;
  TS_CHECK(ts_store_open(path, TS_STORE_WRITE, &w, &err) == TS_OK);
  int64_t fresh;
  TS_CHECK(ts_store_run_begin(w, "train", "x5", NULL, &fresh, &err) == TS_OK && ts_store_flush(w, &err) == TS_OK);
  TS_CHECK(ts_store_run_reopen(w, ids[0], &err) == TS_OK && ts_store_flush(w, &err) == TS_OK);
  guint gen = ts_run_follower_get_generation(f);
  TS_CHECK(iterate_until(answered, f, gen + 1));
  TS_CHECK(ts_run_follower_get_run(f) == ids[0] && ts_run_follower_get_n_runs(f) == 4);
  TS_CHECK(adw_combo_row_get_selected(ADW_COMBO_ROW(row)) == 3);
  gen = ts_run_follower_get_generation(f);
  TS_CHECK(ts_store_progress(w, ids[0], 1, 2, &err) == TS_OK && ts_store_flush(w, &err) == TS_OK);
  TS_CHECK(iterate_until(answered, f, gen + 1));
  /* the followed run goes: the preferred one again */
  TS_CHECK(ts_store_delete_run(w, ids[0], &err) == TS_OK && ts_store_flush(w, &err) == TS_OK);
  TS_CHECK(iterate_until(following, f, ids[1]));
  TS_CHECK(adw_combo_row_get_selected(ADW_COMBO_ROW(row)) == 2 && ts_run_follower_get_n_runs(f) == 3);
  ts_store_close(w);
  /* a read that fails: no result, and the page says why */
  failing_run = ids[3];
  gen = ts_run_follower_get_generation(f);
  adw_combo_row_set_selected(ADW_COMBO_ROW(row), 1);
  TS_CHECK(ts_run_follower_get_run(f) == ids[3] && !ts_run_follower_get_result(f));
  TS_CHECK(!g_strcmp0(adw_status_page_get_description(ADW_STATUS_PAGE(page)), "reading"));
  TS_CHECK(iterate_until(answered, f, gen + 1));
  char *why = g_strdup_printf("run %lld has nothing", (long long)ids[3]);
  TS_CHECK(!ts_run_follower_get_result(f) && !g_strcmp0(ts_run_follower_get_error(f), why));
  TS_CHECK(!g_strcmp0(adw_status_page_get_description(ADW_STATUS_PAGE(page)), why));
  g_free(why);
  failing_run = -1;
  /* a store with no runs yet */
  char missing[128];
  snprintf(missing, sizeof missing, "%s/missing.sqlite", dir);
  ts_store_reader_set_path(r, missing);
  TS_CHECK(ts_run_follower_get_run(f) == -1 && ts_run_follower_get_n_runs(f) == 0);
  TS_CHECK(!g_strcmp0(adw_status_page_get_description(ADW_STATUS_PAGE(page)), "no runs"));
  g_object_unref(f);
  g_object_unref(page);
  g_object_unref(row);
  g_object_unref(r);
  g_free(seen.last_path);
  TS_CHECKF(g_atomic_int_get(&live_answers) == 0, "%d answers alive", live_answers);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/ts-follow-XXXXXX");
  if (!g_mkdtemp(dir)) return 1;
  TS_RUN(test_reads);
  if (gtk_init_check()) {
    adw_init();
    TS_RUN(test_picker);
  } else {
    printf("no display: the picker is not checked\n");
  }
  char *cmd = g_strdup_printf("rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  g_free(cmd);
  return ts_test_finish();
}
