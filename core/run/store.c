/* store.c — the run store on SQLite (see store.h for the contract).
 *
 * Writers batch rows in one transaction and commit it: when 1000 rows are
 * pending, when the batch is 0.25 s old at a write, or from a small flusher
 * thread once no row came for 5 ms (the end of a burst: a training step's
 * metrics) or the batch is 0.25 s old. The idle commit matters: the open
 * transaction holds SQLite's one write lock, and a writer that kept it
 * across the gaps between its bursts (a step's compute) would re-take it
 * microseconds after every commit, so another process writing the same
 * store (two trainings launched from the workbench) would poll in vain and
 * fail after its busy timeout. WAL mode lets readers see every committed
 * row without blocking us. */
#include "run/store.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"

/* The newest schema this build reads and writes. A test builds this file
 * with -DTS_STORE_KNOWN_VERSION=1 to act as a Toposcope from before v2. */
#ifndef TS_STORE_KNOWN_VERSION
#define TS_STORE_KNOWN_VERSION TS_STORE_SCHEMA_VERSION
#endif

#define APP_ID 0x54535331 /* "TSS1" in the SQLite header's application id */
#define BATCH_ROWS 1000
#define BATCH_SECONDS 0.25
#define IDLE_SECONDS 0.005

struct TsStore {
  sqlite3 *db;
  char *path;
  TsStoreMode mode;
  int version; /* the schema of the open file (an old one read-only stays old) */
  pthread_mutex_t lock;
  int in_txn;
  int pending;
  double txn_started;
  double last_write; /* monotonic time of the batch's newest row */
  pthread_t flusher;
  int flusher_running;
  int closing;
  pthread_cond_t wake;
  sqlite3_stmt *ins_metric, *ins_series, *ins_blob, *ins_artifact, *upd_progress;
};

/* Version 1; create_schema then applies the migrations. */
static const char *schema_sql =
    "CREATE TABLE runs(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  kind TEXT NOT NULL,\n"
    "  name TEXT NOT NULL DEFAULT '',\n"
    "  status TEXT NOT NULL,\n"
    "  started REAL NOT NULL,\n"
    "  ended REAL,\n"
    "  updated REAL,\n"
    "  pid INTEGER,\n"
    "  pid_start INTEGER,\n"
    "  host TEXT,\n"
    "  params TEXT,\n"
    "  message TEXT,\n"
    "  progress_done INTEGER NOT NULL DEFAULT 0,\n"
    "  progress_total INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE TABLE metrics(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "  step INTEGER NOT NULL,\n"
    "  epoch INTEGER NOT NULL,\n"
    "  name TEXT NOT NULL,\n"
    "  value REAL,\n"
    "  wall REAL NOT NULL);\n"
    "CREATE INDEX metrics_by_run ON metrics(run, name, id);\n"
    "CREATE TABLE series(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "  step INTEGER NOT NULL,\n"
    "  name TEXT NOT NULL,\n"
    "  rows INTEGER NOT NULL,\n"
    "  cols INTEGER NOT NULL,\n"
    "  data BLOB NOT NULL,\n"
    "  wall REAL NOT NULL);\n"
    "CREATE INDEX series_by_run ON series(run, name, step);\n"
    "CREATE TABLE blobs(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "  step INTEGER NOT NULL,\n"
    "  name TEXT NOT NULL,\n"
    "  type TEXT NOT NULL,\n"
    "  data BLOB NOT NULL,\n"
    "  wall REAL NOT NULL);\n"
    "CREATE INDEX blobs_by_run ON blobs(run, name, step);\n"
    "CREATE TABLE artifacts(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
    "  kind TEXT NOT NULL,\n"
    "  path TEXT NOT NULL,\n"
    "  wall REAL NOT NULL);\n"
    "CREATE INDEX artifacts_by_run ON artifacts(run);\n";

/* migrations[v] takes a store from version v to v + 1. 1 -> 2: experiments
 * (a named group of runs, e.g. one `toposcope experiment`), and on each run
 * the experiment it belongs to, its cell in the experiment ("init=...
 * per_class=... seed=...") and the run it continues from (a fine-tuning's
 * pretraining, --combined). Old rows get NULLs: runs of no experiment. */
static const char *const migrations[] = {
    NULL,
    "CREATE TABLE experiments(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  name TEXT NOT NULL UNIQUE,\n"
    "  kind TEXT NOT NULL DEFAULT '',\n"
    "  params TEXT,\n"
    "  created REAL NOT NULL);\n"
    "ALTER TABLE runs ADD COLUMN experiment INTEGER REFERENCES experiments(id) ON DELETE SET NULL;\n"
    "ALTER TABLE runs ADD COLUMN cell TEXT;\n"
    "ALTER TABLE runs ADD COLUMN parent INTEGER;\n"
    "CREATE INDEX runs_by_experiment ON runs(experiment);\n",
};

static const char *status_names[] = {"running", "finished", "failed", "stopped", "interrupted"};

const char *ts_run_status_name(TsRunStatus s) {
  return (unsigned)s < sizeof status_names / sizeof *status_names ? status_names[s] : "unknown";
}

int ts_run_status_parse(const char *name) {
  for (int i = 0; i < (int)(sizeof status_names / sizeof *status_names); i++)
    if (name && !strcmp(name, status_names[i])) return i;
  return -1;
}

static TsStatus db_error(TsStore *s, TsError *err, const char *what) {
  int code = sqlite3_errcode(s->db);
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
    return ts_error_set(err, TS_ERR_FORMAT, "run store '%s' is damaged (%s): %s", s->path, what,
                        sqlite3_errmsg(s->db));
  return ts_error_set(err, TS_ERR_DB, "run store '%s': %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

TsStatus ts_store_default_path(char *buf, size_t n, TsError *err) {
  const char *xdg = getenv("XDG_DATA_HOME");
  const char *home = getenv("HOME");
  int len;
  if (xdg && *xdg) len = snprintf(buf, n, "%s/toposcope/runs.sqlite", xdg);
  else if (home && *home) len = snprintf(buf, n, "%s/.local/share/toposcope/runs.sqlite", home);
  else return ts_error_set(err, TS_ERR_INVALID, "neither XDG_DATA_HOME nor HOME is set: pass --store PATH");
  if (len < 0 || (size_t)len >= n) return ts_error_set(err, TS_ERR_INVALID, "run store path too long");
  return TS_OK;
}

/* mkdir -p of the folder holding path. */
static TsStatus make_parent_dirs(const char *path, TsError *err) {
  char buf[PATH_MAX];
  if (strlen(path) >= sizeof buf) return ts_error_set(err, TS_ERR_INVALID, "path too long: '%s'", path);
  strcpy(buf, path);
  char *slash = strrchr(buf, '/');
  if (!slash || slash == buf) return TS_OK;
  *slash = '\0';
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) return ts_error_errno(err, errno, "cannot create folder '%s'", buf);
    *p = '/';
  }
  if (mkdir(buf, 0777) != 0 && errno != EEXIST) return ts_error_errno(err, errno, "cannot create folder '%s'", buf);
  return TS_OK;
}

/* Checks an existing file before SQLite touches it, so that a file that is
 * not ours is never modified: the SQLite magic, and that the file holds all
 * the pages its header promises (a truncated copy fails here). */
static TsStatus check_file(const char *path, int *exists, TsError *err) {
  struct stat st;
  *exists = 0;
  if (stat(path, &st) != 0) {
    if (errno == ENOENT) return TS_OK;
    return ts_error_errno(err, errno, "cannot open run store '%s'", path);
  }
  if (!S_ISREG(st.st_mode)) return ts_error_set(err, TS_ERR_INVALID, "run store '%s' is not a regular file", path);
  *exists = 1;
  if (st.st_size == 0) return TS_OK; /* an empty file is an empty database */
  FILE *f = fopen(path, "rb");
  if (!f) return ts_error_errno(err, errno, "cannot open run store '%s'", path);
  unsigned char h[100];
  size_t got = fread(h, 1, sizeof h, f);
  fclose(f);
  if (got < 16 || memcmp(h, "SQLite format 3", 16) != 0)
    return ts_error_set(err, TS_ERR_FORMAT, "'%s' is not a Toposcope run store (not an SQLite database)", path);
  if (got < 100) return ts_error_set(err, TS_ERR_FORMAT, "run store '%s' is truncated (%zu bytes)", path, got);
  unsigned page = (unsigned)h[16] << 8 | h[17];
  if (page == 1) page = 65536;
  uint32_t pages = (uint32_t)h[28] << 24 | (uint32_t)h[29] << 16 | (uint32_t)h[30] << 8 | h[31];
  uint32_t change = (uint32_t)h[24] << 24 | (uint32_t)h[25] << 16 | (uint32_t)h[26] << 8 | h[27];
  uint32_t valid_for = (uint32_t)h[92] << 24 | (uint32_t)h[93] << 16 | (uint32_t)h[94] << 8 | h[95];
  if (page < 512 || (page & (page - 1)))
    return ts_error_set(err, TS_ERR_FORMAT, "run store '%s' is damaged (bad page size %u)", path, page);
  if (pages && change == valid_for && (uint64_t)pages * page > (uint64_t)st.st_size)
    return ts_error_set(err, TS_ERR_FORMAT,
                        "run store '%s' is truncated: its header promises %llu bytes, the file has %lld", path,
                        (unsigned long long)pages * page, (long long)st.st_size);
  return TS_OK;
}

static int exec_sql(TsStore *s, const char *sql, TsError *err, const char *what) {
  char *msg = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    sqlite3_free(msg);
    return db_error(s, err, what);
  }
  return TS_OK;
}

static int64_t pragma_int(TsStore *s, const char *sql, int *ok) {
  sqlite3_stmt *st;
  int64_t v = 0;
  *ok = 0;
  if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) return 0;
  if (sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_int64(st, 0);
    *ok = 1;
  }
  sqlite3_finalize(st);
  return v;
}

static TsStatus check_schema(TsStore *s, int *fresh, TsError *err) {
  int ok;
  int64_t tables = pragma_int(s, "SELECT count(*) FROM sqlite_master", &ok);
  if (!ok) return db_error(s, err, "cannot read the schema");
  int64_t version = pragma_int(s, "PRAGMA user_version", &ok);
  int64_t app = pragma_int(s, "PRAGMA application_id", &ok);
  *fresh = tables == 0 && version == 0;
  if (*fresh) return TS_OK;
  if (app != APP_ID)
    return ts_error_set(err, TS_ERR_FORMAT, "'%s' is an SQLite database but not a Toposcope run store", s->path);
  if (version > TS_STORE_KNOWN_VERSION)
    return ts_error_set(err, TS_ERR_UNSUPPORTED,
                        "run store '%s' was written by a newer Toposcope (schema version %lld; this one reads up "
                        "to %d): upgrade Toposcope",
                        s->path, (long long)version, TS_STORE_KNOWN_VERSION);
  if (version < 1)
    return ts_error_set(err, TS_ERR_FORMAT, "run store '%s' has an unknown schema version %lld", s->path,
                        (long long)version);
  s->version = (int)version;
  return TS_OK;
}

/* Applies the migrations from s->version up to this build's, inside the
 * caller's transaction. */
static TsStatus migrate_locked(TsStore *s, TsError *err) {
  char sql[64];
  for (int v = s->version; v < TS_STORE_KNOWN_VERSION; v++) {
    TsStatus st = exec_sql(s, migrations[v], err, "cannot migrate the store");
    if (st) return st;
    snprintf(sql, sizeof sql, "PRAGMA user_version=%d", v + 1);
    if ((st = exec_sql(s, sql, err, "cannot migrate the store"))) return st;
  }
  s->version = TS_STORE_KNOWN_VERSION;
  return TS_OK;
}

/* An older store opened for writing is migrated once, atomically: another
 * writer may be doing the same, so the version is read again under the
 * write lock. */
static TsStatus migrate(TsStore *s, TsError *err) {
  TsStatus st = exec_sql(s, "BEGIN IMMEDIATE", err, "cannot migrate the store");
  if (st) return st;
  int ok;
  int64_t v = pragma_int(s, "PRAGMA user_version", &ok);
  if (ok) s->version = (int)v;
  if (!ok) st = db_error(s, err, "cannot read the schema");
  if (!st && s->version < TS_STORE_KNOWN_VERSION) st = migrate_locked(s, err);
  if (st) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
  }
  return exec_sql(s, "COMMIT", err, "cannot migrate the store");
}

/* A fresh file gets the schema once: another writer may have opened the
 * same new file at the same moment (two runs started together), so it is
 * looked at again under the write lock and, when that writer won, checked
 * and migrated as any existing store. */
static TsStatus create_schema(TsStore *s, TsError *err) {
  char sql[64];
  TsStatus st = exec_sql(s, "BEGIN IMMEDIATE", err, "cannot create the schema");
  if (st) return st;
  int fresh;
  if ((st = check_schema(s, &fresh, err)) || !fresh) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    if (!st && s->version < TS_STORE_KNOWN_VERSION) st = migrate(s, err);
    return st;
  }
  snprintf(sql, sizeof sql, "PRAGMA application_id=%d", APP_ID);
  s->version = 1;
  if ((st = exec_sql(s, schema_sql, err, "cannot create the schema")) || (st = exec_sql(s, sql, err, "schema")) ||
      (st = exec_sql(s, "PRAGMA user_version=1", err, "schema")) || (st = migrate_locked(s, err))) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
  }
  return exec_sql(s, "COMMIT", err, "cannot create the schema");
}

static void finalize_all(TsStore *s) {
  sqlite3_finalize(s->ins_metric);
  sqlite3_finalize(s->ins_series);
  sqlite3_finalize(s->ins_blob);
  sqlite3_finalize(s->ins_artifact);
  sqlite3_finalize(s->upd_progress);
  s->ins_metric = s->ins_series = s->ins_blob = s->ins_artifact = s->upd_progress = NULL;
}

static void mark_dead_runs(TsStore *s);

TsStatus ts_store_open(const char *path, TsStoreMode mode, TsStore **out, TsError *err) {
  *out = NULL;
  if (!path || !*path) return ts_error_set(err, TS_ERR_INVALID, "no run store path given");
  int exists;
  TsStatus st = check_file(path, &exists, err);
  if (st) return st;
  if (!exists && mode == TS_STORE_READ)
    return ts_error_set(err, TS_ERR_IO, "run store '%s' does not exist", path);
  if (!exists && (st = make_parent_dirs(path, err))) return st;

  TsStore *s = calloc(1, sizeof *s);
  if (!s || !(s->path = strdup(path))) {
    free(s);
    return ts_error_set(err, TS_ERR_NOMEM, "out of memory");
  }
  s->mode = mode;
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->wake, NULL);
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (mode == TS_STORE_WRITE ? SQLITE_OPEN_CREATE : 0);
  int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
  if (rc != SQLITE_OK && mode == TS_STORE_READ) {
    /* a store on a read-only medium can still be read */
    sqlite3_close(s->db);
    s->db = NULL;
    rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL);
  }
  if (rc != SQLITE_OK) {
    st = ts_error_set(err, TS_ERR_DB, "cannot open run store '%s': %s", path,
                      s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    ts_store_close(s);
    return st;
  }
  sqlite3_busy_timeout(s->db, 10000);
  int fresh;
  if ((st = check_schema(s, &fresh, err))) {
    ts_store_close(s);
    return st;
  }
  if (fresh && mode == TS_STORE_READ) {
    ts_store_close(s);
    return ts_error_set(err, TS_ERR_FORMAT, "'%s' is an empty database, not a Toposcope run store", path);
  }
  if (mode == TS_STORE_WRITE) {
    if ((st = exec_sql(s, "PRAGMA journal_mode=WAL", err, "cannot switch to WAL")) ||
        (st = exec_sql(s, "PRAGMA synchronous=NORMAL", err, "pragma")) ||
        (st = exec_sql(s, "PRAGMA foreign_keys=ON", err, "pragma")) ||
        (fresh && (st = create_schema(s, err))) ||
        (!fresh && s->version < TS_STORE_KNOWN_VERSION && (st = migrate(s, err)))) {
      ts_store_close(s);
      return st;
    }
    mark_dead_runs(s);
  } else {
    exec_sql(s, "PRAGMA foreign_keys=ON", NULL, "pragma");
  }
  *out = s;
  return TS_OK;
}

const char *ts_store_path(const TsStore *s) { return s->path; }

/* ---- batching -------------------------------------------------------- */

static TsStatus commit_locked(TsStore *s, TsError *err) {
  if (!s->in_txn) return TS_OK;
  if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) return db_error(s, err, "cannot commit");
  s->in_txn = 0;
  s->pending = 0;
  return TS_OK;
}

static void *flusher_main(void *arg) {
  TsStore *s = arg;
  pthread_mutex_lock(&s->lock);
  while (!s->closing) {
    /* with a batch open: wake at its idle or age deadline; else sleep until
     * a batch begins (begin_write signals) */
    double wait = 1.0;
    if (s->in_txn) {
      double now = ts_clock_monotonic();
      wait = fmin(s->txn_started + BATCH_SECONDS, s->last_write + IDLE_SECONDS) - now;
      if (wait < 0) wait = 0;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long ns = ts.tv_nsec + (long long)(wait * 1e9);
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec = (long)(ns % 1000000000LL);
    pthread_cond_timedwait(&s->wake, &s->lock, &ts);
    if (s->in_txn) {
      double now = ts_clock_monotonic();
      if (now - s->txn_started >= BATCH_SECONDS || now - s->last_write >= IDLE_SECONDS) commit_locked(s, NULL);
    }
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* Called with the lock held before every write. */
static TsStatus begin_write(TsStore *s, TsError *err) {
  if (s->mode != TS_STORE_WRITE) return ts_error_set(err, TS_ERR_INVALID, "run store '%s' is open read-only", s->path);
  if (!s->flusher_running) {
    if (pthread_create(&s->flusher, NULL, flusher_main, s) == 0) s->flusher_running = 1;
  }
  if (!s->in_txn) {
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
      return db_error(s, err, "cannot start a transaction");
    s->in_txn = 1;
    s->txn_started = s->last_write = ts_clock_monotonic();
    pthread_cond_signal(&s->wake); /* the flusher now watches this batch's deadlines */
  }
  return TS_OK;
}

static TsStatus end_write(TsStore *s, TsError *err) {
  s->pending++;
  s->last_write = ts_clock_monotonic();
  if (s->pending >= BATCH_ROWS || s->last_write - s->txn_started >= BATCH_SECONDS) return commit_locked(s, err);
  return TS_OK;
}

static TsStatus prepare(TsStore *s, sqlite3_stmt **st, const char *sql, TsError *err) {
  if (*st) {
    sqlite3_reset(*st);
    sqlite3_clear_bindings(*st);
    return TS_OK;
  }
  if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) return db_error(s, err, "cannot prepare a statement");
  return TS_OK;
}

static TsStatus step_done(TsStore *s, sqlite3_stmt *st, TsError *err, const char *what) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return db_error(s, err, what);
  return TS_OK;
}

TsStatus ts_store_flush(TsStore *s, TsError *err) {
  pthread_mutex_lock(&s->lock);
  TsStatus st = commit_locked(s, err);
  pthread_mutex_unlock(&s->lock);
  return st;
}

void ts_store_close(TsStore *s) {
  if (!s) return;
  pthread_mutex_lock(&s->lock);
  if (s->db) commit_locked(s, NULL);
  s->closing = 1;
  pthread_cond_broadcast(&s->wake);
  pthread_mutex_unlock(&s->lock);
  if (s->flusher_running) pthread_join(s->flusher, NULL);
  finalize_all(s);
  if (s->db) sqlite3_close(s->db);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->wake);
  free(s->path);
  free(s);
}

/* ---- process identity ------------------------------------------------ */

/* Start time of a process in clock ticks since boot (field 22 of
 * /proc/PID/stat), so a recycled pid is not mistaken for our run. */
static int64_t process_start(long pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')'); /* the command name may contain spaces */
  if (!p) return -1;
  long long v = -1;
  int field = 2;
  for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
    if (++field == 22) {
      v = atoll(tok);
      break;
    }
  }
  return v;
}

static void this_host(char *buf, size_t n) {
  if (gethostname(buf, n) != 0) snprintf(buf, n, "unknown");
  buf[n - 1] = '\0';
}

/* 1 if a run recorded as running on this host has no live process. */
static int run_is_dead(const char *host, int64_t pid, int64_t pid_start) {
  char me[64];
  this_host(me, sizeof me);
  if (!host || strcmp(host, me) != 0 || pid <= 0) return 0;
  if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) return 1;
  int64_t start = process_start((long)pid);
  return start >= 0 && pid_start > 0 && start != pid_start;
}

/* Writers record what readers only derive: dead runs become interrupted. */
static void mark_dead_runs(TsStore *s) {
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(s->db, "SELECT id, host, pid, pid_start FROM runs WHERE status='running'", -1, &q, NULL) !=
      SQLITE_OK)
    return;
  int64_t dead[256];
  int nd = 0;
  while (sqlite3_step(q) == SQLITE_ROW && nd < 256) {
    if (run_is_dead((const char *)sqlite3_column_text(q, 1), sqlite3_column_int64(q, 2), sqlite3_column_int64(q, 3)))
      dead[nd++] = sqlite3_column_int64(q, 0);
  }
  sqlite3_finalize(q);
  for (int i = 0; i < nd; i++) {
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE runs SET status='interrupted' WHERE id=%lld AND status='running'",
             (long long)dead[i]);
    sqlite3_exec(s->db, sql, NULL, NULL, NULL);
  }
}

/* ---- writing --------------------------------------------------------- */

TsStatus ts_store_run_begin(TsStore *s, const char *kind, const char *name, const char *params_json, int64_t *run_id,
                            TsError *err) {
  pthread_mutex_lock(&s->lock);
  TsStatus st = begin_write(s, err);
  sqlite3_stmt *q = NULL;
  if (!st && sqlite3_prepare_v2(s->db,
                                "INSERT INTO runs(kind,name,status,started,updated,pid,pid_start,host,params) "
                                "VALUES(?,?,'running',?,?,?,?,?,?)",
                                -1, &q, NULL) != SQLITE_OK)
    st = db_error(s, err, "cannot record a run");
  if (!st) {
    char host[64];
    this_host(host, sizeof host);
    double now = ts_clock_wall();
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 2, name ? name : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(q, 3, now);
    sqlite3_bind_double(q, 4, now);
    sqlite3_bind_int64(q, 5, (int64_t)getpid());
    sqlite3_bind_int64(q, 6, process_start((long)getpid()));
    sqlite3_bind_text(q, 7, host, -1, SQLITE_TRANSIENT);
    if (params_json) sqlite3_bind_text(q, 8, params_json, -1, SQLITE_TRANSIENT);
    st = step_done(s, q, err, "cannot record a run");
    if (!st) *run_id = sqlite3_last_insert_rowid(s->db);
  }
  sqlite3_finalize(q);
  /* a new run is visible at once */
  if (!st) st = commit_locked(s, err);
  pthread_mutex_unlock(&s->lock);
  return st;
}

static TsStatus run_exists_locked(TsStore *s, int64_t id, TsError *err) {
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM runs WHERE id=?", -1, &q, NULL) != SQLITE_OK)
    return db_error(s, err, "cannot look up a run");
  sqlite3_bind_int64(q, 1, id);
  int rc = sqlite3_step(q);
  sqlite3_finalize(q);
  if (rc == SQLITE_ROW) return TS_OK;
  if (rc == SQLITE_DONE) return ts_error_set(err, TS_ERR_INVALID, "run store '%s' has no run %lld", s->path, (long long)id);
  return db_error(s, err, "cannot look up a run");
}

TsStatus ts_store_run_reopen(TsStore *s, int64_t run_id, TsError *err) {
  pthread_mutex_lock(&s->lock);
  TsStatus st = begin_write(s, err);
  if (!st) st = run_exists_locked(s, run_id, err);
  sqlite3_stmt *q = NULL;
  if (!st && sqlite3_prepare_v2(s->db,
                                "UPDATE runs SET status='running', ended=NULL, message=NULL, updated=?, pid=?, "
                                "pid_start=?, host=? WHERE id=?",
                                -1, &q, NULL) != SQLITE_OK)
    st = db_error(s, err, "cannot reopen a run");
  if (!st) {
    char host[64];
    this_host(host, sizeof host);
    sqlite3_bind_double(q, 1, ts_clock_wall());
    sqlite3_bind_int64(q, 2, (int64_t)getpid());
    sqlite3_bind_int64(q, 3, process_start((long)getpid()));
    sqlite3_bind_text(q, 4, host, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 5, run_id);
    st = step_done(s, q, err, "cannot reopen a run");
  }
  sqlite3_finalize(q);
  if (!st) st = commit_locked(s, err);
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_run_end(TsStore *s, int64_t run_id, TsRunStatus status, const char *message, TsError *err) {
  pthread_mutex_lock(&s->lock);
  TsStatus st = begin_write(s, err);
  sqlite3_stmt *q = NULL;
  if (!st && sqlite3_prepare_v2(s->db, "UPDATE runs SET status=?, ended=?, updated=?, message=? WHERE id=?", -1, &q,
                                NULL) != SQLITE_OK)
    st = db_error(s, err, "cannot end a run");
  if (!st) {
    double now = ts_clock_wall();
    sqlite3_bind_text(q, 1, ts_run_status_name(status), -1, SQLITE_STATIC);
    sqlite3_bind_double(q, 2, now);
    sqlite3_bind_double(q, 3, now);
    if (message) sqlite3_bind_text(q, 4, message, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 5, run_id);
    st = step_done(s, q, err, "cannot end a run");
  }
  sqlite3_finalize(q);
  if (!st) st = commit_locked(s, err);
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_progress(TsStore *s, int64_t run_id, int64_t done, int64_t total, TsError *err) {
  pthread_mutex_lock(&s->lock);
  TsStatus st = begin_write(s, err);
  if (!st) st = prepare(s, &s->upd_progress, "UPDATE runs SET progress_done=?, progress_total=?, updated=? WHERE id=?", err);
  if (!st) {
    sqlite3_bind_int64(s->upd_progress, 1, done);
    sqlite3_bind_int64(s->upd_progress, 2, total);
    sqlite3_bind_double(s->upd_progress, 3, ts_clock_wall());
    sqlite3_bind_int64(s->upd_progress, 4, run_id);
    st = step_done(s, s->upd_progress, err, "cannot record progress");
  }
  if (!st) st = end_write(s, err);
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_metric(TsStore *s, int64_t run_id, int64_t step, int64_t epoch, const char *name, double value,
                         TsError *err) {
  pthread_mutex_lock(&s->lock);
  TsStatus st = begin_write(s, err);
  if (!st) st = prepare(s, &s->ins_metric, "INSERT INTO metrics(run,step,epoch,name,value,wall) VALUES(?,?,?,?,?,?)", err);
  if (!st) {
    sqlite3_stmt *q = s->ins_metric;
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_int64(q, 2, step);
    sqlite3_bind_int64(q, 3, epoch);
    sqlite3_bind_text(q, 4, name, -1, SQLITE_TRANSIENT);
    if (value == value) sqlite3_bind_double(q, 5, value); /* NaN is stored as NULL */
    sqlite3_bind_double(q, 6, ts_clock_wall());
    st = step_done(s, q, err, "cannot record a metric");
  }
  if (!st) st = end_write(s, err);
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_series(TsStore *s, int64_t run_id, int64_t step, const char *name, const double *values,
                         int64_t rows, int64_t cols, TsError *err) {
  if (rows < 0 || cols < 0 || (cols > 0 && rows > INT64_MAX / 8 / cols))
    return ts_error_set(err, TS_ERR_INVALID, "series '%s': bad shape %lld x %lld", name, (long long)rows,
                        (long long)cols);
  pthread_mutex_lock(&s->lock);
  TsStatus st = begin_write(s, err);
  if (!st)
    st = prepare(s, &s->ins_series, "INSERT INTO series(run,step,name,rows,cols,data,wall) VALUES(?,?,?,?,?,?,?)", err);
  if (!st) {
    sqlite3_stmt *q = s->ins_series;
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_int64(q, 2, step);
    sqlite3_bind_text(q, 3, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 4, rows);
    sqlite3_bind_int64(q, 5, cols);
    /* float64 little-endian, which x86-64 and arm64 hosts are natively */
    sqlite3_bind_blob64(q, 6, values ? (const void *)values : "", (sqlite3_uint64)(rows * cols * 8), SQLITE_TRANSIENT);
    sqlite3_bind_double(q, 7, ts_clock_wall());
    st = step_done(s, q, err, "cannot record a series");
  }
  if (!st) st = end_write(s, err);
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_blob(TsStore *s, int64_t run_id, int64_t step, const char *name, const char *type,
                       const void *data, size_t size, TsError *err) {
  pthread_mutex_lock(&s->lock);
  TsStatus st = begin_write(s, err);
  if (!st) st = prepare(s, &s->ins_blob, "INSERT INTO blobs(run,step,name,type,data,wall) VALUES(?,?,?,?,?,?)", err);
  if (!st) {
    sqlite3_stmt *q = s->ins_blob;
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_int64(q, 2, step);
    sqlite3_bind_text(q, 3, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 4, type ? type : "application/octet-stream", -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob64(q, 5, data ? data : "", (sqlite3_uint64)size, SQLITE_TRANSIENT);
    sqlite3_bind_double(q, 6, ts_clock_wall());
    st = step_done(s, q, err, "cannot record a blob");
  }
  if (!st) st = end_write(s, err);
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_artifact(TsStore *s, int64_t run_id, const char *kind, const char *path, TsError *err) {
  pthread_mutex_lock(&s->lock);
  TsStatus st = begin_write(s, err);
  if (!st) st = prepare(s, &s->ins_artifact, "INSERT INTO artifacts(run,kind,path,wall) VALUES(?,?,?,?)", err);
  if (!st) {
    sqlite3_stmt *q = s->ins_artifact;
    sqlite3_bind_int64(q, 1, run_id);
    sqlite3_bind_text(q, 2, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 3, path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(q, 4, ts_clock_wall());
    st = step_done(s, q, err, "cannot record an artifact");
  }
  if (!st) st = commit_locked(s, err);
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_data_version(TsStore *s, int64_t *version, TsError *err) {
  pthread_mutex_lock(&s->lock);
  int ok;
  *version = pragma_int(s, "PRAGMA data_version", &ok);
  TsStatus st = ok ? TS_OK : db_error(s, err, "cannot read the data version");
  pthread_mutex_unlock(&s->lock);
  return st;
}

/* ---- reading --------------------------------------------------------- */

void ts_run_info_clear(TsRunInfo *info) {
  free(info->params_json);
  free(info->message);
  memset(info, 0, sizeof *info);
}

static char *dup_col(sqlite3_stmt *q, int i) {
  const unsigned char *t = sqlite3_column_text(q, i);
  return t ? strdup((const char *)t) : NULL;
}

static void copy_col(sqlite3_stmt *q, int i, char *buf, size_t n) {
  const unsigned char *t = sqlite3_column_text(q, i);
  snprintf(buf, n, "%s", t ? (const char *)t : "");
}

#define RUN_COLUMNS "id,kind,name,status,started,ended,pid,pid_start,host,params,message,progress_done,progress_total"
/* The grouping columns of version 2 (NULLs in a version-1 store read as it is). */
#define RUN_COLUMNS_V2 RUN_COLUMNS ",experiment,cell,parent"
#define RUN_COLUMNS_V1 RUN_COLUMNS ",NULL,NULL,NULL"
#define RUN_COLS(s) ((s)->version >= 2 ? RUN_COLUMNS_V2 : RUN_COLUMNS_V1)

static void read_run_row(sqlite3_stmt *q, TsRunInfo *r) {
  memset(r, 0, sizeof *r);
  r->id = sqlite3_column_int64(q, 0);
  copy_col(q, 1, r->kind, sizeof r->kind);
  copy_col(q, 2, r->name, sizeof r->name);
  int status = ts_run_status_parse((const char *)sqlite3_column_text(q, 3));
  r->status = status < 0 ? TS_RUN_FAILED : (TsRunStatus)status;
  r->started = sqlite3_column_double(q, 4);
  r->ended = sqlite3_column_double(q, 5);
  r->pid = sqlite3_column_int64(q, 6);
  int64_t pid_start = sqlite3_column_int64(q, 7);
  copy_col(q, 8, r->host, sizeof r->host);
  r->params_json = dup_col(q, 9);
  r->message = dup_col(q, 10);
  r->progress_done = sqlite3_column_int64(q, 11);
  r->progress_total = sqlite3_column_int64(q, 12);
  r->experiment = sqlite3_column_int64(q, 13);
  copy_col(q, 14, r->cell, sizeof r->cell);
  r->parent = sqlite3_column_int64(q, 15);
  if (r->status == TS_RUN_RUNNING && run_is_dead(r->host, r->pid, pid_start)) r->status = TS_RUN_INTERRUPTED;
}

TsStatus ts_store_list_runs(TsStore *s, TsRunInfo **runs, size_t *count, TsError *err) {
  *runs = NULL;
  *count = 0;
  pthread_mutex_lock(&s->lock);
  sqlite3_stmt *q;
  TsStatus st = TS_OK;
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT %s FROM runs ORDER BY id DESC", RUN_COLS(s));
  if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
    st = db_error(s, err, "cannot list runs");
    pthread_mutex_unlock(&s->lock);
    return st;
  }
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (*count == cap) {
      cap = cap ? cap * 2 : 16;
      TsRunInfo *n = realloc(*runs, cap * sizeof *n);
      if (!n) {
        st = ts_error_set(err, TS_ERR_NOMEM, "out of memory listing runs");
        break;
      }
      *runs = n;
    }
    read_run_row(q, &(*runs)[(*count)++]);
  }
  if (!st && rc != SQLITE_DONE) st = db_error(s, err, "cannot list runs");
  sqlite3_finalize(q);
  pthread_mutex_unlock(&s->lock);
  if (st) {
    for (size_t i = 0; i < *count; i++) ts_run_info_clear(&(*runs)[i]);
    free(*runs);
    *runs = NULL;
    *count = 0;
  }
  return st;
}

TsStatus ts_store_get_run(TsStore *s, int64_t run_id, TsRunInfo *info, TsError *err) {
  memset(info, 0, sizeof *info);
  pthread_mutex_lock(&s->lock);
  sqlite3_stmt *q;
  TsStatus st = TS_OK;
  char sql[256];
  snprintf(sql, sizeof sql, "SELECT %s FROM runs WHERE id=?", RUN_COLS(s));
  if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
    st = db_error(s, err, "cannot read a run");
  } else {
    sqlite3_bind_int64(q, 1, run_id);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) read_run_row(q, info);
    else if (rc == SQLITE_DONE)
      st = ts_error_set(err, TS_ERR_INVALID, "run store '%s' has no run %lld", s->path, (long long)run_id);
    else st = db_error(s, err, "cannot read a run");
    sqlite3_finalize(q);
  }
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_delete_run(TsStore *s, int64_t run_id, TsError *err) {
  pthread_mutex_lock(&s->lock);
  TsStatus st = begin_write(s, err);
  if (!st) st = run_exists_locked(s, run_id, err);
  static const char *tables[] = {"metrics", "series", "blobs", "artifacts", "runs"};
  for (size_t i = 0; !st && i < sizeof tables / sizeof *tables; i++) {
    char sql[96];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s=?", tables[i], i == 4 ? "id" : "run");
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
      st = db_error(s, err, "cannot delete a run");
      break;
    }
    sqlite3_bind_int64(q, 1, run_id);
    st = step_done(s, q, err, "cannot delete a run");
    sqlite3_finalize(q);
  }
  if (!st) st = commit_locked(s, err);
  else if (s->in_txn) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_txn = 0;
    s->pending = 0;
  }
  pthread_mutex_unlock(&s->lock);
  return st;
}

/* ---- experiments (schema 2) ------------------------------------------ */

int ts_store_schema_version(const TsStore *s) { return s->version; }

static TsStatus need_v2(TsStore *s, TsError *err) {
  if (s->version >= 2) return TS_OK;
  return ts_error_set(err, TS_ERR_UNSUPPORTED,
                      "run store '%s' is of schema version %d, without experiments (open it for writing to migrate it)",
                      s->path, s->version);
}

TsStatus ts_store_experiment_open(TsStore *s, const char *name, const char *kind, const char *params_json,
                                  int64_t *id, int *existed, TsError *err) {
  *id = 0;
  if (existed) *existed = 0;
  pthread_mutex_lock(&s->lock);
  TsStatus st = need_v2(s, err);
  if (!st) st = begin_write(s, err);
  sqlite3_stmt *q = NULL;
  if (!st && sqlite3_prepare_v2(s->db, "SELECT id, params FROM experiments WHERE name=?", -1, &q, NULL) != SQLITE_OK)
    st = db_error(s, err, "cannot look up an experiment");
  if (!st) {
    sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
      const char *old = (const char *)sqlite3_column_text(q, 1);
      if (params_json && old && strcmp(old, params_json) != 0)
        st = ts_error_set(err, TS_ERR_INVALID,
                          "run store '%s' already has an experiment '%s' with other settings (%s): give another --name",
                          s->path, name, old);
      else {
        *id = sqlite3_column_int64(q, 0);
        if (existed) *existed = 1;
      }
    } else if (rc != SQLITE_DONE) {
      st = db_error(s, err, "cannot look up an experiment");
    }
    sqlite3_finalize(q);
    q = NULL;
  }
  if (!st && !*id) {
    if (sqlite3_prepare_v2(s->db, "INSERT INTO experiments(name,kind,params,created) VALUES(?,?,?,?)", -1, &q, NULL) !=
        SQLITE_OK)
      st = db_error(s, err, "cannot record an experiment");
    if (!st) {
      sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text(q, 2, kind ? kind : "", -1, SQLITE_TRANSIENT);
      if (params_json) sqlite3_bind_text(q, 3, params_json, -1, SQLITE_TRANSIENT);
      sqlite3_bind_double(q, 4, ts_clock_wall());
      st = step_done(s, q, err, "cannot record an experiment");
      if (!st) *id = sqlite3_last_insert_rowid(s->db);
    }
    sqlite3_finalize(q);
  }
  if (!st) st = commit_locked(s, err);
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_run_group(TsStore *s, int64_t run_id, int64_t experiment, const char *cell, int64_t parent,
                            TsError *err) {
  pthread_mutex_lock(&s->lock);
  TsStatus st = need_v2(s, err);
  if (!st) st = begin_write(s, err);
  if (!st) st = run_exists_locked(s, run_id, err);
  sqlite3_stmt *q = NULL;
  if (!st && sqlite3_prepare_v2(s->db, "UPDATE runs SET experiment=?, cell=?, parent=? WHERE id=?", -1, &q, NULL) !=
                 SQLITE_OK)
    st = db_error(s, err, "cannot group a run");
  if (!st) {
    if (experiment > 0) sqlite3_bind_int64(q, 1, experiment);
    if (cell) sqlite3_bind_text(q, 2, cell, -1, SQLITE_TRANSIENT);
    if (parent > 0) sqlite3_bind_int64(q, 3, parent);
    sqlite3_bind_int64(q, 4, run_id);
    st = step_done(s, q, err, "cannot group a run");
  }
  sqlite3_finalize(q);
  if (!st) st = commit_locked(s, err);
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_experiment_name(TsStore *s, int64_t experiment, char *name, size_t n, TsError *err) {
  if (n) name[0] = '\0';
  pthread_mutex_lock(&s->lock);
  TsStatus st = need_v2(s, err);
  sqlite3_stmt *q = NULL;
  if (!st && sqlite3_prepare_v2(s->db, "SELECT name FROM experiments WHERE id=?", -1, &q, NULL) != SQLITE_OK)
    st = db_error(s, err, "cannot read an experiment");
  if (!st) {
    sqlite3_bind_int64(q, 1, experiment);
    int rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
      const char *v = (const char *)sqlite3_column_text(q, 0);
      if (n) snprintf(name, n, "%s", v ? v : "");
    } else if (rc == SQLITE_DONE) {
      st = ts_error_set(err, TS_ERR_INVALID, "run store '%s' has no experiment %lld", s->path, (long long)experiment);
    } else {
      st = db_error(s, err, "cannot read an experiment");
    }
  }
  sqlite3_finalize(q);
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_experiment_runs(TsStore *s, int64_t experiment, TsRunInfo **runs, size_t *count, TsError *err) {
  *runs = NULL;
  *count = 0;
  pthread_mutex_lock(&s->lock);
  TsStatus st = need_v2(s, err);
  sqlite3_stmt *q = NULL;
  if (!st && sqlite3_prepare_v2(s->db, "SELECT " RUN_COLUMNS_V2 " FROM runs WHERE experiment=? ORDER BY id", -1, &q,
                                NULL) != SQLITE_OK)
    st = db_error(s, err, "cannot list an experiment's runs");
  if (!st) {
    sqlite3_bind_int64(q, 1, experiment);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
      if (*count == cap) {
        cap = cap ? cap * 2 : 16;
        TsRunInfo *n = realloc(*runs, cap * sizeof *n);
        if (!n) {
          st = ts_error_set(err, TS_ERR_NOMEM, "out of memory listing runs");
          break;
        }
        *runs = n;
      }
      read_run_row(q, &(*runs)[(*count)++]);
    }
    if (!st && rc != SQLITE_DONE) st = db_error(s, err, "cannot list an experiment's runs");
  }
  sqlite3_finalize(q);
  pthread_mutex_unlock(&s->lock);
  if (st) {
    for (size_t i = 0; i < *count; i++) ts_run_info_clear(&(*runs)[i]);
    free(*runs);
    *runs = NULL;
    *count = 0;
  }
  return st;
}

void ts_store_free_strings(char **v, size_t n) {
  if (!v) return;
  for (size_t i = 0; i < n; i++) free(v[i]);
  free(v);
}

/* Runs a query whose column(s) are text and collects them (ncols 1 or 2). */
static TsStatus collect_strings(TsStore *s, const char *sql, int64_t run_id, char ***a, char ***b, size_t *count,
                                TsError *err) {
  *a = NULL;
  if (b) *b = NULL;
  *count = 0;
  pthread_mutex_lock(&s->lock);
  sqlite3_stmt *q;
  TsStatus st = TS_OK;
  if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
    st = db_error(s, err, "cannot read the store");
    pthread_mutex_unlock(&s->lock);
    return st;
  }
  sqlite3_bind_int64(q, 1, run_id);
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (*count == cap) {
      cap = cap ? cap * 2 : 16;
      char **na = realloc(*a, cap * sizeof *na);
      if (na) *a = na;
      char **nb = b ? realloc(*b, cap * sizeof *nb) : NULL;
      if (nb) *b = nb;
      if (!na || (b && !nb)) {
        st = ts_error_set(err, TS_ERR_NOMEM, "out of memory");
        break;
      }
    }
    (*a)[*count] = dup_col(q, 0);
    if (b) (*b)[*count] = dup_col(q, 1);
    (*count)++;
  }
  if (!st && rc != SQLITE_DONE) st = db_error(s, err, "cannot read the store");
  sqlite3_finalize(q);
  pthread_mutex_unlock(&s->lock);
  if (st) {
    ts_store_free_strings(*a, *count);
    if (b) ts_store_free_strings(*b, *count);
    *a = NULL;
    if (b) *b = NULL;
    *count = 0;
  }
  return st;
}

TsStatus ts_store_metric_names(TsStore *s, int64_t run_id, char ***names, size_t *count, TsError *err) {
  return collect_strings(s, "SELECT DISTINCT name FROM metrics WHERE run=? ORDER BY name", run_id, names, NULL, count,
                         err);
}

TsStatus ts_store_series_steps(TsStore *s, int64_t run_id, const char *name, int64_t **steps, size_t *count,
                               TsError *err) {
  *steps = NULL;
  *count = 0;
  pthread_mutex_lock(&s->lock);
  sqlite3_stmt *q;
  if (sqlite3_prepare_v2(s->db, "SELECT DISTINCT step FROM series WHERE run=? AND name=? ORDER BY step", -1, &q,
                         NULL) != SQLITE_OK) {
    TsStatus st = db_error(s, err, "cannot list a series' steps");
    pthread_mutex_unlock(&s->lock);
    return st;
  }
  sqlite3_bind_int64(q, 1, run_id);
  sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
  TsStatus st = TS_OK;
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (*count == cap) {
      cap = cap ? 2 * cap : 16;
      int64_t *v = realloc(*steps, cap * sizeof *v);
      if (!v) {
        st = ts_error_set(err, TS_ERR_NOMEM, "out of memory listing a series' steps");
        break;
      }
      *steps = v;
    }
    (*steps)[(*count)++] = sqlite3_column_int64(q, 0);
  }
  if (!st && rc != SQLITE_DONE) st = db_error(s, err, "cannot list a series' steps");
  if (st) {
    free(*steps);
    *steps = NULL;
    *count = 0;
  }
  sqlite3_finalize(q);
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_read_blob(TsStore *s, int64_t run_id, const char *name, int64_t step, void **data, size_t *size,
                            char *type, size_t type_n, int64_t *step_out, TsError *err) {
  *data = NULL;
  *size = 0;
  pthread_mutex_lock(&s->lock);
  sqlite3_stmt *q;
  TsStatus st = TS_OK;
  const char *sql = step < 0 ? "SELECT type, data, step FROM blobs WHERE run=? AND name=? ORDER BY step DESC, id DESC "
                               "LIMIT 1"
                             : "SELECT type, data, step FROM blobs WHERE run=? AND name=? AND step=? ORDER BY id DESC "
                               "LIMIT 1";
  if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
    st = db_error(s, err, "cannot read a blob");
    pthread_mutex_unlock(&s->lock);
    return st;
  }
  sqlite3_bind_int64(q, 1, run_id);
  sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
  if (step >= 0) sqlite3_bind_int64(q, 3, step);
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    const unsigned char *t = sqlite3_column_text(q, 0);
    const void *blob = sqlite3_column_blob(q, 1);
    int bytes = sqlite3_column_bytes(q, 1);
    /* one byte more, zero: JSON and text blobs read as C strings */
    *data = malloc((size_t)bytes + 1);
    if (!*data) st = ts_error_set(err, TS_ERR_NOMEM, "out of memory reading a blob");
    else {
      if (bytes) memcpy(*data, blob, (size_t)bytes);
      ((char *)*data)[bytes] = '\0';
      *size = (size_t)bytes;
      if (type && type_n) snprintf(type, type_n, "%s", t ? (const char *)t : "");
      if (step_out) *step_out = sqlite3_column_int64(q, 2);
    }
  } else if (rc == SQLITE_DONE) {
    st = ts_error_set(err, TS_ERR_INVALID, "run %lld has no blob '%s'", (long long)run_id, name);
  } else {
    st = db_error(s, err, "cannot read a blob");
  }
  sqlite3_finalize(q);
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_artifacts(TsStore *s, int64_t run_id, char ***kinds, char ***paths, size_t *count, TsError *err) {
  return collect_strings(s, "SELECT kind, path FROM artifacts WHERE run=? ORDER BY id", run_id, kinds, paths, count,
                         err);
}

TsStatus ts_store_read_metric(TsStore *s, int64_t run_id, const char *name, int64_t *cursor, TsMetricRow **rows,
                              size_t *count, TsError *err) {
  return ts_store_read_metric_limit(s, run_id, name, cursor, 0, rows, count, err);
}

TsStatus ts_store_read_metric_limit(TsStore *s, int64_t run_id, const char *name, int64_t *cursor, size_t max_rows,
                                    TsMetricRow **rows, size_t *count, TsError *err) {
  *rows = NULL;
  *count = 0;
  pthread_mutex_lock(&s->lock);
  sqlite3_stmt *q;
  TsStatus st = TS_OK;
  if (sqlite3_prepare_v2(s->db,
                         "SELECT id, step, epoch, value, wall FROM metrics WHERE run=? AND name=? AND id>? ORDER BY id "
                         "LIMIT ?",
                         -1, &q, NULL) != SQLITE_OK) {
    st = db_error(s, err, "cannot read metrics");
    pthread_mutex_unlock(&s->lock);
    return st;
  }
  sqlite3_bind_int64(q, 1, run_id);
  sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(q, 3, *cursor);
  sqlite3_bind_int64(q, 4, max_rows ? (sqlite3_int64)max_rows : -1);
  size_t cap = 0;
  int rc;
  int64_t last = *cursor;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (*count == cap) {
      cap = cap ? cap * 2 : 256;
      TsMetricRow *n = realloc(*rows, cap * sizeof *n);
      if (!n) {
        st = ts_error_set(err, TS_ERR_NOMEM, "out of memory reading metrics");
        break;
      }
      *rows = n;
    }
    TsMetricRow *r = &(*rows)[(*count)++];
    last = sqlite3_column_int64(q, 0);
    r->step = sqlite3_column_int64(q, 1);
    r->epoch = sqlite3_column_int64(q, 2);
    r->value = sqlite3_column_type(q, 3) == SQLITE_NULL ? (double)NAN : sqlite3_column_double(q, 3);
    r->wall_time = sqlite3_column_double(q, 4);
  }
  if (!st && rc != SQLITE_DONE) st = db_error(s, err, "cannot read metrics");
  sqlite3_finalize(q);
  pthread_mutex_unlock(&s->lock);
  if (st) {
    free(*rows);
    *rows = NULL;
    *count = 0;
  } else {
    *cursor = last;
  }
  return st;
}

TsStatus ts_store_last_metric(TsStore *s, int64_t run_id, const char *name, TsMetricRow *row, TsError *err) {
  pthread_mutex_lock(&s->lock);
  sqlite3_stmt *q;
  TsStatus st = TS_OK;
  /* the (run, name, id) index gives the newest row without a scan */
  if (sqlite3_prepare_v2(s->db,
                         "SELECT step, epoch, value, wall FROM metrics WHERE run=? AND name=? ORDER BY id DESC LIMIT 1",
                         -1, &q, NULL) != SQLITE_OK) {
    st = db_error(s, err, "cannot read metrics");
    pthread_mutex_unlock(&s->lock);
    return st;
  }
  sqlite3_bind_int64(q, 1, run_id);
  sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    row->step = sqlite3_column_int64(q, 0);
    row->epoch = sqlite3_column_int64(q, 1);
    row->value = sqlite3_column_type(q, 2) == SQLITE_NULL ? (double)NAN : sqlite3_column_double(q, 2);
    row->wall_time = sqlite3_column_double(q, 3);
  } else if (rc == SQLITE_DONE) {
    st = ts_error_set(err, TS_ERR_INVALID, "run %lld has no metric '%s'", (long long)run_id, name);
  } else {
    st = db_error(s, err, "cannot read metrics");
  }
  sqlite3_finalize(q);
  pthread_mutex_unlock(&s->lock);
  return st;
}

TsStatus ts_store_read_series(TsStore *s, int64_t run_id, const char *name, int64_t step, double **values,
                              int64_t *rows, int64_t *cols, int64_t *step_out, TsError *err) {
  *values = NULL;
  pthread_mutex_lock(&s->lock);
  sqlite3_stmt *q;
  TsStatus st = TS_OK;
  const char *sql = step < 0 ? "SELECT rows, cols, data, step FROM series WHERE run=? AND name=? ORDER BY step DESC, id "
                               "DESC LIMIT 1"
                             : "SELECT rows, cols, data, step FROM series WHERE run=? AND name=? AND step=? ORDER BY "
                               "id DESC LIMIT 1";
  if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
    st = db_error(s, err, "cannot read a series");
    pthread_mutex_unlock(&s->lock);
    return st;
  }
  sqlite3_bind_int64(q, 1, run_id);
  sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
  if (step >= 0) sqlite3_bind_int64(q, 3, step);
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    int64_t r = sqlite3_column_int64(q, 0), c = sqlite3_column_int64(q, 1);
    const void *blob = sqlite3_column_blob(q, 2);
    int bytes = sqlite3_column_bytes(q, 2);
    if (r < 0 || c < 0 || (c && r > INT64_MAX / 8 / c) || (int64_t)bytes != r * c * 8) {
      st = ts_error_set(err, TS_ERR_FORMAT, "run store '%s': series '%s' of run %lld is damaged", s->path, name,
                        (long long)run_id);
    } else {
      *values = malloc(bytes ? (size_t)bytes : 1);
      if (!*values) st = ts_error_set(err, TS_ERR_NOMEM, "out of memory reading a series");
      else {
        if (bytes) memcpy(*values, blob, (size_t)bytes);
        *rows = r;
        *cols = c;
        if (step_out) *step_out = sqlite3_column_int64(q, 3);
      }
    }
  } else if (rc == SQLITE_DONE) {
    st = ts_error_set(err, TS_ERR_INVALID, "run %lld has no series '%s'", (long long)run_id, name);
  } else {
    st = db_error(s, err, "cannot read a series");
  }
  sqlite3_finalize(q);
  pthread_mutex_unlock(&s->lock);
  return st;
}
