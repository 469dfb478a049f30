/* The run store in one process: the write/read API, batching, bad files. */
#include <sqlite3.h>
#include <stdio.h>
#include <unistd.h>

#include "run/store.h"
#include "ts-test.h"

static char dir[64];

static void path_in(char *buf, size_t n, const char *name) { snprintf(buf, n, "%s/%s", dir, name); }

static void test_write_and_read(void) {
  char path[128];
  path_in(path, sizeof path, "sub/folder/a.sqlite"); /* folders are created */
  TsError err = {0};
  TsStore *s;
  TS_CHECK(ts_store_open(path, TS_STORE_WRITE, &s, &err) == TS_OK);
  int64_t run;
  TS_CHECK(ts_store_run_begin(s, "train", "lenet", "{\"lr\":0.1}", &run, &err) == TS_OK);
  for (int i = 0; i < 2500; i++) TS_CHECK(ts_store_metric(s, run, i, i / 1000, i % 2 ? "loss" : "acc", i, &err) == 0);
  TS_CHECK(ts_store_metric(s, run, 9999, 9, "nan", NAN, &err) == TS_OK);
  double v[6] = {1, 2, 3, 4, 5, 6};
  TS_CHECK(ts_store_series(s, run, 3, "diagram", v, 2, 3, &err) == TS_OK);
  v[0] = 7;
  TS_CHECK(ts_store_series(s, run, 5, "diagram", v, 3, 2, &err) == TS_OK);
  TS_CHECK(ts_store_blob(s, run, 0, "note", "text/plain", "hi", 2, &err) == TS_OK);
  TS_CHECK(ts_store_artifact(s, run, "checkpoint", "/tmp/x.safetensors", &err) == TS_OK);
  TS_CHECK(ts_store_progress(s, run, 5, 10, &err) == TS_OK);

  /* a second connection (as another process would) sees committed rows */
  TsStore *r;
  TS_CHECK(ts_store_flush(s, &err) == TS_OK);
  TS_CHECK(ts_store_open(path, TS_STORE_READ, &r, &err) == TS_OK);
  /* data_version moves only when the other connection commits */
  int64_t dv0, dv1, dv2;
  TS_CHECK(ts_store_data_version(r, &dv0, &err) == TS_OK);
  TS_CHECK(ts_store_data_version(r, &dv1, &err) == TS_OK && dv1 == dv0);
  TS_CHECK(ts_store_progress(s, run, 5, 10, &err) == TS_OK && ts_store_flush(s, &err) == TS_OK);
  TS_CHECK(ts_store_data_version(r, &dv2, &err) == TS_OK && dv2 != dv1);
  TsRunInfo info;
  TS_CHECK(ts_store_get_run(r, run, &info, &err) == TS_OK);
  TS_CHECK(info.status == TS_RUN_RUNNING && !strcmp(info.kind, "train") && !strcmp(info.name, "lenet"));
  TS_CHECK(info.progress_done == 5 && info.progress_total == 10);
  TS_CHECK(info.params_json && !strcmp(info.params_json, "{\"lr\":0.1}"));
  ts_run_info_clear(&info);
  int64_t cursor = 0;
  TsMetricRow *rows;
  size_t n;
  TS_CHECK(ts_store_read_metric(r, run, "loss", &cursor, &rows, &n, &err) == TS_OK && n == 1250);
  TS_CHECK(n == 1250 && rows[0].value == 1 && rows[1249].value == 2499 && rows[1249].epoch == 2);
  free(rows);
  TS_CHECK(ts_store_read_metric(r, run, "loss", &cursor, &rows, &n, &err) == TS_OK && n == 0);
  free(rows);
  TS_CHECK(ts_store_metric(s, run, 2500, 2, "loss", 0.5, &err) == TS_OK);
  TS_CHECK(ts_store_flush(s, &err) == TS_OK);
  TS_CHECK(ts_store_read_metric(r, run, "loss", &cursor, &rows, &n, &err) == TS_OK && n == 1 && rows[0].value == 0.5);
  free(rows);
  cursor = 0;
  TS_CHECK(ts_store_read_metric(r, run, "nan", &cursor, &rows, &n, &err) == TS_OK && n == 1 && isnan(rows[0].value));
  free(rows);
  /* in pieces: the same rows as at once */
  int64_t c1 = 0;
  size_t got = 0, pieces = 0;
  for (;;) {
    TsMetricRow *part;
    size_t np;
    TS_CHECK(ts_store_read_metric_limit(r, run, "loss", &c1, 300, &part, &np, &err) == TS_OK && np <= 300);
    if (np) TS_CHECK(part[0].value == (got < 1250 ? (double)(2 * got + 1) : 0.5));
    free(part);
    if (!np) break;
    got += np, pieces++;
  }
  TS_CHECK(got == 1251 && pieces == 5);
  TsMetricRow last;
  TS_CHECK(ts_store_last_metric(r, run, "loss", &last, &err) == TS_OK && last.step == 2500 && last.value == 0.5);
  TS_CHECK(ts_store_last_metric(r, run, "none", &last, &err) == TS_ERR_INVALID);
  char **names;
  TS_CHECK(ts_store_metric_names(r, run, &names, &n, &err) == TS_OK && n == 3 && !strcmp(names[0], "acc"));
  ts_store_free_strings(names, n);
  double *vals;
  int64_t nr, nc, step;
  TS_CHECK(ts_store_read_series(r, run, "diagram", -1, &vals, &nr, &nc, &step, &err) == TS_OK);
  TS_CHECK(nr == 3 && nc == 2 && step == 5 && vals[0] == 7 && vals[5] == 6);
  free(vals);
  TS_CHECK(ts_store_read_series(r, run, "diagram", 3, &vals, &nr, &nc, &step, &err) == TS_OK && nr == 2 && vals[0] == 1);
  free(vals);
  TS_CHECK(ts_store_read_series(r, run, "none", -1, &vals, &nr, &nc, &step, &err) == TS_ERR_INVALID);
  char **kinds, **paths;
  TS_CHECK(ts_store_artifacts(r, run, &kinds, &paths, &n, &err) == TS_OK && n == 1 && !strcmp(kinds[0], "checkpoint"));
  ts_store_free_strings(kinds, n);
  ts_store_free_strings(paths, n);
  /* the reader cannot write */
  int64_t other;
  TS_CHECK(ts_store_run_begin(r, "x", "y", NULL, &other, &err) == TS_ERR_INVALID);

  TS_CHECK(ts_store_run_end(s, run, TS_RUN_STOPPED, "asked to stop", &err) == TS_OK);
  TS_CHECK(ts_store_get_run(r, run, &info, &err) == TS_OK && info.status == TS_RUN_STOPPED && info.ended > 0);
  TS_CHECK(info.message && !strcmp(info.message, "asked to stop"));
  ts_run_info_clear(&info);
  TS_CHECK(ts_store_run_reopen(s, run, &err) == TS_OK);
  TS_CHECK(ts_store_get_run(r, run, &info, &err) == TS_OK && info.status == TS_RUN_RUNNING && info.ended == 0);
  ts_run_info_clear(&info);

  int64_t run2;
  TS_CHECK(ts_store_run_begin(s, "generate", "", NULL, &run2, &err) == TS_OK && run2 == run + 1);
  TsRunInfo *list;
  TS_CHECK(ts_store_list_runs(r, &list, &n, &err) == TS_OK && n == 2 && list[0].id == run2);
  for (size_t i = 0; i < n; i++) ts_run_info_clear(&list[i]);
  free(list);
  TS_CHECK(ts_store_delete_run(s, run, &err) == TS_OK);
  TS_CHECK(ts_store_get_run(r, run, &info, &err) == TS_ERR_INVALID && strstr(err.message, "no run"));
  cursor = 0;
  TS_CHECK(ts_store_read_metric(r, run, "loss", &cursor, &rows, &n, &err) == TS_OK && n == 0);
  free(rows);
  TS_CHECK(ts_store_delete_run(s, 12345, &err) == TS_ERR_INVALID);
  /* an experiment's name, read back by id (another writer's too); a long one truncated */
  int64_t ex;
  int existed;
  char name[16];
  TS_CHECK(ts_store_experiment_open(s, "kaji table 100/20", "finetune", "{}", &ex, &existed, &err) == TS_OK && !existed);
  TS_CHECK(ts_store_flush(s, &err) == TS_OK);
  TS_CHECK(ts_store_experiment_name(r, ex, name, sizeof name, &err) == TS_OK && !strcmp(name, "kaji table 100/"));
  TS_CHECK(ts_store_experiment_name(r, ex + 7, name, sizeof name, &err) == TS_ERR_INVALID && !name[0] &&
           strstr(err.message, "no experiment"));
  ts_store_close(r);
  ts_store_close(s);
}

static void write_file(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(data, 1, n, f);
  fclose(f);
}

static void read_file(const char *path, char *buf, size_t cap, size_t *n) {
  FILE *f = fopen(path, "rb");
  *n = f ? fread(buf, 1, cap, f) : 0;
  if (f) fclose(f);
}

static void test_bad_files(void) {
  char path[128];
  TsError err = {0};
  TsStore *s;
  /* missing file, read mode */
  path_in(path, sizeof path, "missing.sqlite");
  TS_CHECK(ts_store_open(path, TS_STORE_READ, &s, &err) == TS_ERR_IO && strstr(err.message, "does not exist"));
  TS_CHECK(access(path, F_OK) != 0);

  /* not SQLite: refused, untouched */
  path_in(path, sizeof path, "text.sqlite");
  const char *text = "this is not a database, and must survive\n";
  write_file(path, text, strlen(text));
  for (int mode = 0; mode < 2; mode++) {
    TS_CHECK(ts_store_open(path, (TsStoreMode)mode, &s, &err) == TS_ERR_FORMAT);
    TS_CHECK(strstr(err.message, "not a Toposcope run store") && strstr(err.message, "text.sqlite"));
  }
  char buf[256];
  size_t n;
  read_file(path, buf, sizeof buf, &n);
  TS_CHECK(n == strlen(text) && !memcmp(buf, text, n));

  /* a newer schema version: refused, untouched */
  path_in(path, sizeof path, "newer.sqlite");
  TS_CHECK(ts_store_open(path, TS_STORE_WRITE, &s, &err) == TS_OK);
  int64_t run;
  TS_CHECK(ts_store_run_begin(s, "x", "y", NULL, &run, &err) == TS_OK);
  ts_store_close(s);
  sqlite3 *db;
  sqlite3_open(path, &db);
  sqlite3_exec(db, "PRAGMA journal_mode=DELETE; PRAGMA user_version=7", NULL, NULL, NULL);
  sqlite3_close(db);
  static char before[1 << 16], after[1 << 16];
  size_t nb, na;
  read_file(path, before, sizeof before, &nb);
  for (int mode = 0; mode < 2; mode++) {
    TS_CHECK(ts_store_open(path, (TsStoreMode)mode, &s, &err) == TS_ERR_UNSUPPORTED);
    TS_CHECK(strstr(err.message, "newer Toposcope") && strstr(err.message, "version 7"));
  }
  read_file(path, after, sizeof after, &na);
  TS_CHECK(na == nb && !memcmp(before, after, na));

  /* another application's SQLite database */
  path_in(path, sizeof path, "other.sqlite");
  sqlite3_open(path, &db);
  sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1)", NULL, NULL, NULL);
  sqlite3_close(db);
  TS_CHECK(ts_store_open(path, TS_STORE_WRITE, &s, &err) == TS_ERR_FORMAT && strstr(err.message, "not a Toposcope"));

  /* truncated: a store cut in half */
  path_in(path, sizeof path, "big.sqlite");
  TS_CHECK(ts_store_open(path, TS_STORE_WRITE, &s, &err) == TS_OK);
  TS_CHECK(ts_store_run_begin(s, "x", "y", NULL, &run, &err) == TS_OK);
  for (int i = 0; i < 5000; i++) ts_store_metric(s, run, i, 0, "m", i, &err);
  ts_store_close(s);
  sqlite3_open(path, &db);
  sqlite3_exec(db, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL); /* checkpoint the WAL into the file */
  sqlite3_close(db);
  static char whole[1 << 20];
  read_file(path, whole, sizeof whole, &n);
  TS_CHECK(n > 8192);
  char cut[128];
  path_in(cut, sizeof cut, "cut.sqlite");
  write_file(cut, whole, n / 2);
  for (int mode = 0; mode < 2; mode++) {
    TS_CHECK(ts_store_open(cut, (TsStoreMode)mode, &s, &err) == TS_ERR_FORMAT);
    TS_CHECKF(strstr(err.message, "truncated") != NULL, "%s", err.message);
  }
  read_file(cut, buf, sizeof buf, &na);
  write_file(cut, whole, 50); /* shorter than the header */
  TS_CHECK(ts_store_open(cut, TS_STORE_READ, &s, &err) == TS_ERR_FORMAT && strstr(err.message, "truncated"));
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/ts-store-test-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  TS_RUN(test_write_and_read);
  TS_RUN(test_bad_files);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return ts_test_finish();
}
