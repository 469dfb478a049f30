/* store-reader.h — the one live reader of the run store that every panel
 * shares.
 *
 * A TsStoreReader owns a worker thread with its own read-only connection.
 * The main loop never runs SQL: panels subscribe, the worker polls, and the
 * results arrive on the main loop (in the thread-default context of the
 * thread that created the reader).
 *
 * Each poll (every interval_ms, or at once when a panel asks for something)
 * first reads SQLite's data_version; while no other connection has
 * committed, it reads nothing. When something was committed:
 *   - the run list is re-read and, if any run changed (status, progress,
 *     end, best metric), "runs-changed" is emitted with the new snapshot;
 *   - every metric watch reads only the rows with a row id above its cursor
 *     (the (run, name, id) index makes that a range scan), and its callback
 *     gets just those rows, in order, at most once per poll.
 * A run whose process died still shows as interrupted within ~2 s: the list
 * is re-read every 2 s even when nothing was committed.
 *
 * Other reads (series, artifacts, metric names) and writes (delete) go
 * through ts_store_reader_query: the function runs on the worker with its
 * connection and the callback comes back on the main loop.
 *
 * A store that does not exist yet is not an error: the reader says so
 * (ts_store_reader_get_state) and keeps looking for it, so the first run a
 * new user starts appears by itself. Switching stores (set_path) drops
 * every watch (their notify functions run) and emits "store-changed"; the
 * panels then watch again.
 *
 * Signals (main loop):
 *   "runs-changed" ()      the snapshot of ts_store_reader_get_runs changed
 *   "store-changed" ()     another store was opened, or its state changed */
#ifndef TS_UI_STORE_READER_H
#define TS_UI_STORE_READER_H

#include <gio/gio.h>

#include "run/store.h"

G_BEGIN_DECLS

typedef enum TsStoreState {
  TS_STORE_STATE_OPENING = 0, /* not polled yet */
  TS_STORE_STATE_OPEN,
  TS_STORE_STATE_MISSING,     /* no file yet: the first job creates it */
  TS_STORE_STATE_ERROR        /* not a store, damaged, newer schema: see get_error */
} TsStoreState;

/* One run of the snapshot. */
typedef struct TsRunSummary {
  TsRunInfo info;      /* params_json and message owned by the reader */
  double best;         /* best validation value so far (NaN: none) */
  const char *best_name; /* "val/accuracy" (max) or "val/loss" (min); NULL with NaN */
  double updated;      /* wall time of the newest metric row seen (0: none) */
} TsRunSummary;

#define TS_TYPE_STORE_READER (ts_store_reader_get_type())
G_DECLARE_FINAL_TYPE(TsStoreReader, ts_store_reader, TS, STORE_READER, GObject)

/* path NULL: the default store ($XDG_DATA_HOME/toposcope/runs.sqlite).
 * interval_ms 0: 250 ms. */
TsStoreReader *ts_store_reader_new(const char *path, guint interval_ms);
void ts_store_reader_set_path(TsStoreReader *self, const char *path);
const char *ts_store_reader_get_path(TsStoreReader *self);
TsStoreState ts_store_reader_get_state(TsStoreReader *self);
/* The open error (state ERROR), or NULL. */
const char *ts_store_reader_get_error(TsStoreReader *self);
/* Polls now instead of at the next tick (after starting a run, say). */
void ts_store_reader_poke(TsStoreReader *self);

/* The newest snapshot, newest run first; valid until the next "runs-changed". */
const TsRunSummary *ts_store_reader_get_runs(TsStoreReader *self, guint *n);
const TsRunSummary *ts_store_reader_find_run(TsStoreReader *self, gint64 id);
/* Number of run snapshots delivered so far (tests wait on it). */
guint ts_store_reader_get_generation(TsStoreReader *self);

/* Called on the main loop with the rows of one metric newer than the last
 * call's (the first call: all rows so far). rows is valid during the call. */
typedef void (*TsMetricWatchFunc)(TsStoreReader *reader, gint64 run, const char *name, const TsMetricRow *rows,
                                  gsize n, gpointer user_data);
/* Returns an id > 0 for ts_store_reader_unwatch. notify (may be NULL) runs
 * when the watch ends (unwatch, store switch, reader disposed). */
guint ts_store_reader_watch_metric(TsStoreReader *self, gint64 run, const char *name, TsMetricWatchFunc fn,
                                   gpointer user_data, GDestroyNotify notify);
void ts_store_reader_unwatch(TsStoreReader *self, guint id);

/* Runs fn(store, data) on the worker; its result (or error) reaches
 * callback on the main loop through ts_store_reader_query_finish. store is
 * the worker's read-only connection (writers open their own from
 * ts_store_path(store)). Cancel with cancellable (the callback then gets
 * G_IO_ERROR_CANCELLED and must not touch what was cancelled). */
typedef gpointer (*TsStoreQueryFunc)(TsStore *store, gpointer data, GError **error);
void ts_store_reader_query(TsStoreReader *self, TsStoreQueryFunc fn, gpointer data, GDestroyNotify data_free,
                           GDestroyNotify result_free, GCancellable *cancellable, GAsyncReadyCallback callback,
                           gpointer user_data);
gpointer ts_store_reader_query_finish(GAsyncResult *res, GError **error);

/* Ready-made queries. metric_names' result is a NULL-terminated strv
 * (free with g_strfreev). */
void ts_store_reader_metric_names(TsStoreReader *self, gint64 run, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
/* Deletes a run (opens a writing connection on the worker); result: non-NULL on success. */
void ts_store_reader_delete_run(TsStoreReader *self, gint64 run, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);

G_END_DECLS

#endif
