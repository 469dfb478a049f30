/* test-label-cache.c — the label cache: write, read by row and by name,
 * resume after an interrupted writer (a partial last row), refusal of other
 * parameters, corrupt files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ph/label-cache.h"
#include "ts-test.h"

static char path[] = "/tmp/diagrams-cache-XXXXXX";

static void fill(float *v, int nd, int k) {
  for (int i = 0; i < nd; i++) v[i] = (float)(k * 1000 + i) * 0.5f;
}

static void test_write_read_resume(void) {
  TsLabelCacheWriter *w;
  TsError err;
  float v[7], got[7];
  TS_CHECK(ts_label_cache_create(path, 7, "{\"type\":\"x\"}", 0, &w, &err) == TS_OK);
  const char *names[] = {"train/b.jpg", "train/a.jpg", "val/c.jpg"};
  for (int k = 0; k < 3; k++) {
    fill(v, 7, k);
    TS_CHECK(ts_label_cache_append(w, names[k], v, &err) == TS_OK);
  }
  TS_CHECK(ts_label_cache_writer_has(w, "train/a.jpg") && !ts_label_cache_writer_has(w, "x"));
  char longname[300];
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  TS_CHECK(ts_label_cache_append(w, longname, v, &err) == TS_ERR_INVALID);
  /* readable while the writer is still open (complete = 0, count from the size) */
  fflush(NULL);
  ts_label_cache_writer_abort(w);
  TsLabelCache *c;
  TS_CHECK(ts_label_cache_open(path, &c, &err) == TS_OK);
  TS_CHECK(ts_label_cache_count(c) == 3 && !ts_label_cache_complete(c) && ts_label_cache_dims(c) == 7);
  ts_label_cache_close(c);
  /* a partial row left by a killed writer is cut off on resume */
  FILE *f = fopen(path, "ab");
  fwrite("garbage", 1, 7, f);
  fclose(f);
  TS_CHECK(ts_label_cache_create(path, 7, "{\"type\":\"y\"}", 1, &w, &err) == TS_ERR_INVALID);
  TS_CHECK(strstr(err.message, "other parameters") != NULL);
  TS_CHECK(ts_label_cache_create(path, 8, "{\"type\":\"x\"}", 1, &w, &err) == TS_ERR_INVALID);
  TS_CHECK(ts_label_cache_create(path, 7, "{\"type\":\"x\"}", 1, &w, &err) == TS_OK);
  TS_CHECK(ts_label_cache_writer_count(w) == 3 && ts_label_cache_writer_has(w, "val/c.jpg"));
  fill(v, 7, 3);
  TS_CHECK(ts_label_cache_append(w, "val/d.jpg", v, &err) == TS_OK);
  TS_CHECK(ts_label_cache_finish(w, &err) == TS_OK);
  TS_CHECK(ts_label_cache_open(path, &c, &err) == TS_OK);
  TS_CHECK(ts_label_cache_count(c) == 4 && ts_label_cache_complete(c));
  TS_CHECK(strcmp(ts_label_cache_params(c), "{\"type\":\"x\"}") == 0);
  const char *all[] = {"train/b.jpg", "train/a.jpg", "val/c.jpg", "val/d.jpg"};
  for (int k = 0; k < 4; k++) {
    size_t row;
    TS_CHECK(ts_label_cache_find(c, all[k], &row, &err) == TS_OK && row == (size_t)k);
    TS_CHECK(strcmp(ts_label_cache_name(c, (size_t)k), all[k]) == 0);
    TS_CHECK(ts_label_cache_row(c, (size_t)k, got, &err) == TS_OK);
    fill(v, 7, k);
    TS_CHECK(memcmp(got, v, sizeof v) == 0);
  }
  size_t row;
  TS_CHECK(ts_label_cache_find(c, "nope", &row, &err) == TS_ERR_INVALID);
  TS_CHECK(ts_label_cache_row(c, 4, got, &err) == TS_ERR_INVALID && ts_label_cache_values(c, 4) == NULL);
  ts_label_cache_close(c);
}

static void test_corrupt(void) {
  TsLabelCache *c;
  TsError err;
  FILE *f = fopen(path, "wb");
  fputs("not a cache at all, but long enough to have a header of sixty-four bytes....", f);
  fclose(f);
  TS_CHECK(ts_label_cache_open(path, &c, &err) == TS_ERR_FORMAT && strstr(err.message, path));
  /* a complete cache whose rows were cut */
  TsLabelCacheWriter *w;
  float v[3] = {1, 2, 3};
  TS_CHECK(ts_label_cache_create(path, 3, "{}", 0, &w, &err) == TS_OK);
  TS_CHECK(ts_label_cache_append(w, "a", v, &err) == TS_OK && ts_label_cache_append(w, "b", v, &err) == TS_OK);
  TS_CHECK(ts_label_cache_finish(w, &err) == TS_OK);
  TS_CHECK(truncate(path, 64 + 64 + 268) == 0);
  TS_CHECK(ts_label_cache_open(path, &c, &err) == TS_ERR_FORMAT && strstr(err.message, "truncated"));
  TS_CHECK(ts_label_cache_open("/nonexistent/x.tslabels", &c, &err) == TS_ERR_IO);
}

int main(void) {
  int fd = mkstemp(path);
  if (fd < 0) TS_SKIP("no temporary file");
  close(fd);
  TS_RUN(test_write_read_resume);
  TS_RUN(test_corrupt);
  unlink(path);
  return ts_test_finish();
}
