/* store.h — the run store: the contract between workers and the GUI.
 *
 * One SQLite database in WAL mode records every long job (generation,
 * labelling, training): a row in `runs` per job, its metrics, series and
 * blobs (diagrams, curves, images) keyed by (run, step, name), and its
 * artifacts (checkpoints, output folders). A writer batches inserts in
 * transactions (ts_store_flush commits; writes also commit by themselves
 * every ~0.25 s or 1000 rows), so a reader — the GUI, `toposcope runs` —
 * never blocks it and sees every committed row. A run whose process died
 * (pid gone on this host, status still 'running') reads as 'interrupted'.
 *
 * The schema is versioned (PRAGMA user_version); a store written by a newer
 * Toposcope, a truncated file or a non-SQLite file is refused with a clear
 * error and never modified. The schema is documented in the README.
 *
 * Thread-safety: one TsStore per thread (SQLite connections are not shared). */
#ifndef TS_RUN_STORE_H
#define TS_RUN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Version 2 added experiments: a table `experiments(id, name UNIQUE, kind,
 * params, created)` and on `runs` the columns `experiment` (the group it
 * belongs to, or NULL), `cell` (its place in the group, e.g. "init=scratch
 * per_class=20 seed=1") and `parent` (the run it continues from, e.g. the
 * pretraining of a fine-tuning). Migration: a version-1 store opened for
 * writing is migrated in place, in one transaction (the table is created,
 * the columns added with NULLs: old runs belong to no experiment); opened
 * read-only it is read as it is (no experiments). A build that knows only
 * version 1 refuses a version-2 store as newer. */
#define TS_STORE_SCHEMA_VERSION 2

typedef struct TsStore TsStore;

typedef enum TsRunStatus {
  TS_RUN_RUNNING = 0,
  TS_RUN_FINISHED,
  TS_RUN_FAILED,
  TS_RUN_STOPPED,     /* asked to stop (SIGINT/SIGTERM, GUI cancel); resumable */
  TS_RUN_INTERRUPTED  /* the process died without saying so (derived on read) */
} TsRunStatus;

const char *ts_run_status_name(TsRunStatus s);
/* Parses a status name; returns -1 if unknown. */
int ts_run_status_parse(const char *name);

typedef enum TsStoreMode {
  TS_STORE_READ = 0,   /* never creates or migrates; fails if absent */
  TS_STORE_WRITE = 1   /* creates the file (and its folder) if absent */
} TsStoreMode;

/* Writes "$XDG_DATA_HOME/toposcope/runs.sqlite" (or ~/.local/share/…) into buf. */
TsStatus ts_store_default_path(char *buf, size_t n, TsError *err);

TsStatus ts_store_open(const char *path, TsStoreMode mode, TsStore **out, TsError *err);
/* Flushes pending rows and closes. NULL is fine. */
void ts_store_close(TsStore *store);
const char *ts_store_path(const TsStore *store);

/* --- writing a run ---------------------------------------------------- */

/* Creates a run (status running, pid and host of this process). kind is
 * "generate", "label", "train", …; params_json is a JSON object or NULL. */
TsStatus ts_store_run_begin(TsStore *s, const char *kind, const char *name, const char *params_json,
                            int64_t *run_id, TsError *err);
/* Reopens an existing run for writing (resume): status back to running,
 * pid/host updated. */
TsStatus ts_store_run_reopen(TsStore *s, int64_t run_id, TsError *err);
/* Final status, optional message (error text for failed runs). Flushes. */
TsStatus ts_store_run_end(TsStore *s, int64_t run_id, TsRunStatus status, const char *message, TsError *err);
/* Progress of the whole job (items done of total), for progress bars in the GUI. */
TsStatus ts_store_progress(TsStore *s, int64_t run_id, int64_t done, int64_t total, TsError *err);
TsStatus ts_store_metric(TsStore *s, int64_t run_id, int64_t step, int64_t epoch, const char *name, double value,
                         TsError *err);
/* A float64 series (a curve, a diagram as n x 3, latent points as n x k):
 * stored as little-endian float64 with its shape. */
TsStatus ts_store_series(TsStore *s, int64_t run_id, int64_t step, const char *name, const double *values,
                         int64_t rows, int64_t cols, TsError *err);
/* Any bytes with a MIME-ish type ("image/png", "application/json"). */
TsStatus ts_store_blob(TsStore *s, int64_t run_id, int64_t step, const char *name, const char *type,
                       const void *data, size_t size, TsError *err);
/* kind: "checkpoint", "dataset", "labels", "output", …; path as given. */
TsStatus ts_store_artifact(TsStore *s, int64_t run_id, const char *kind, const char *path, TsError *err);
/* Commits the pending batch now. */
TsStatus ts_store_flush(TsStore *s, TsError *err);
/* A number that changes whenever another connection has committed to the
 * store since the last call (SQLite's data_version): a reader polls it and
 * reads nothing while it stays the same. */
TsStatus ts_store_data_version(TsStore *s, int64_t *version, TsError *err);

/* --- reading ---------------------------------------------------------- */

typedef struct TsRunInfo {
  int64_t id;
  char kind[32];
  char name[128];
  TsRunStatus status; /* running ones whose process is gone read as interrupted */
  double started, ended; /* Unix seconds; ended 0 while running */
  int64_t pid;
  char host[64];
  int64_t progress_done, progress_total;
  char *params_json; /* malloc'd, may be NULL */
  char *message;     /* malloc'd, may be NULL */
  int64_t experiment, parent; /* 0 when none (and in version-1 stores) */
  char cell[256];
} TsRunInfo;

void ts_run_info_clear(TsRunInfo *info);

/* All runs, newest first. *runs is a malloc'd array; free each with
 * ts_run_info_clear and the array with free. */
TsStatus ts_store_list_runs(TsStore *s, TsRunInfo **runs, size_t *count, TsError *err);
TsStatus ts_store_get_run(TsStore *s, int64_t run_id, TsRunInfo *info, TsError *err);
/* Deletes a run and all its rows (not its artifacts' files). */
TsStatus ts_store_delete_run(TsStore *s, int64_t run_id, TsError *err);

typedef struct TsMetricRow {
  int64_t step, epoch;
  double value, wall_time;
} TsMetricRow;

/* Distinct metric names of a run (malloc'd array of malloc'd strings). */
TsStatus ts_store_metric_names(TsStore *s, int64_t run_id, char ***names, size_t *count, TsError *err);
/* Rows of one metric with rowid > *cursor, ordered; *cursor advances so the
 * GUI can poll for new rows cheaply. Pass a cursor of 0 to read from the start. */
TsStatus ts_store_read_metric(TsStore *s, int64_t run_id, const char *name, int64_t *cursor, TsMetricRow **rows,
                              size_t *count, TsError *err);
/* The same, at most max_rows of them (0: all): a reader catching up with a
 * long run reads it in pieces. */
TsStatus ts_store_read_metric_limit(TsStore *s, int64_t run_id, const char *name, int64_t *cursor, size_t max_rows,
                                    TsMetricRow **rows, size_t *count, TsError *err);
/* The newest row of one metric (by row id); TS_ERR_INVALID if it has none. */
TsStatus ts_store_last_metric(TsStore *s, int64_t run_id, const char *name, TsMetricRow *row, TsError *err);
/* The newest series row of `name` (step -1: newest step). values malloc'd. */
TsStatus ts_store_read_series(TsStore *s, int64_t run_id, const char *name, int64_t step, double **values,
                              int64_t *rows, int64_t *cols, int64_t *step_out, TsError *err);
/* The distinct steps at which a run has series `name`, ascending (malloc'd;
 * *count 0 and no error when there are none). */
TsStatus ts_store_series_steps(TsStore *s, int64_t run_id, const char *name, int64_t **steps, size_t *count,
                               TsError *err);
/* The newest blob row of `name` at step (step -1: the newest step): its
 * bytes (malloc'd, with a zero byte after the last so text reads as a C
 * string), their count, and its type (copied into type, type_n bytes). */
TsStatus ts_store_read_blob(TsStore *s, int64_t run_id, const char *name, int64_t step, void **data, size_t *size,
                            char *type, size_t type_n, int64_t *step_out, TsError *err);
/* Artifacts as (kind, path) pairs; malloc'd arrays of malloc'd strings. */
TsStatus ts_store_artifacts(TsStore *s, int64_t run_id, char ***kinds, char ***paths, size_t *count, TsError *err);
void ts_store_free_strings(char **v, size_t n);

/* --- experiments (schema version 2) ------------------------------------ */

/* The schema version of the open file. */
int ts_store_schema_version(const TsStore *s);
/* Finds the experiment called name or creates it (kind e.g. "finetune").
 * An existing one with other params_json is an error (so a resumed
 * experiment is the same experiment). *existed tells which. */
TsStatus ts_store_experiment_open(TsStore *s, const char *name, const char *kind, const char *params_json,
                                  int64_t *id, int *existed, TsError *err);
/* Puts a run in an experiment (0: none) at cell (may be NULL), and records
 * the run it continues from (0: none). */
TsStatus ts_store_run_group(TsStore *s, int64_t run_id, int64_t experiment, const char *cell, int64_t parent,
                            TsError *err);
/* The name of experiment `experiment` into name (n bytes, truncated). */
TsStatus ts_store_experiment_name(TsStore *s, int64_t experiment, char *name, size_t n, TsError *err);
/* The runs of an experiment, oldest first (as ts_store_list_runs). */
TsStatus ts_store_experiment_runs(TsStore *s, int64_t experiment, TsRunInfo **runs, size_t *count, TsError *err);

#endif
