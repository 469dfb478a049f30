/* core/nn/safetensors: round trip, what a loader checks, malformed files
 * (each with an error naming the file and the tensor), random corruption. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/rng.h"
#include "nn/safetensors.h"
#include "ts-test.h"

static char dir[256];

static const char *tmp(const char *name) {
  static char buf[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
  return buf[k];
}

static void write_raw(const char *path, const char *header, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  uint64_t len = strlen(header);
  fwrite(&len, 8, 1, f);
  fwrite(header, 1, len, f);
  if (n) fwrite(data, 1, n, f);
  fclose(f);
}

/* Expects reading `header`+data to fail with a message holding both words. */
static void expect_bad(const char *header, size_t ndata, const char *w1, const char *w2) {
  static uint8_t zeros[256];
  write_raw(tmp("bad.safetensors"), header, zeros, ndata);
  TsSafetensors st;
  TsError err = {0};
  TsStatus s = ts_safetensors_read(tmp("bad.safetensors"), &st, &err);
  TS_CHECKF(s == TS_ERR_FORMAT, "header %s: status %d", header, s);
  TS_CHECKF(strstr(err.message, "bad.safetensors") && strstr(err.message, w1) && (!w2 || strstr(err.message, w2)),
            "header %s: message '%s'", header, err.message);
}

static void test_round_trip(void) {
  float w[2 * 3] = {1, -2, 3.5f, 1e-30f, -0.f, 7};
  float b[3] = {0.25f, 0.5f, 0.75f};
  int64_t nbt = 12345678901ll;
  TsNamedTensor t[3] = {
      {.name = "layer1.0.conv1.weight", .dtype = TS_NN_F32, .ndim = 2, .shape = {2, 3}, .numel = 6, .data = w},
      {.name = "fc.bias", .dtype = TS_NN_F32, .ndim = 1, .shape = {3}, .numel = 3, .data = b},
      {.name = "bn1.num_batches_tracked", .dtype = TS_NN_I64, .ndim = 0, .numel = 1, .data = &nbt},
  };
  TsError err = {0};
  TsStWriter *wr = ts_st_writer_new(&err);
  TS_CHECK(ts_st_writer_add_named(wr, NULL, t, 3, &err) == TS_OK);
  TS_CHECK(ts_st_writer_add_named(wr, "optim.", t + 1, 1, &err) == TS_OK);
  TS_CHECK(ts_st_writer_add(wr, "fc.bias", TS_ST_F32, 1, (int64_t[]){3}, b, &err) == TS_ERR_INVALID);
  TS_CHECK(ts_st_writer_meta(wr, "epoch", "3", &err) == TS_OK);
  TS_CHECK(ts_st_writer_meta(wr, "note", "quote \" and \xc3\xa9", &err) == TS_OK);
  TS_CHECK(ts_st_writer_meta(wr, "epoch", "4", &err) == TS_OK);
  TS_CHECK(ts_st_writer_write(wr, tmp("a.safetensors"), &err) == TS_OK);
  ts_st_writer_free(wr);
  TS_CHECK(access(tmp("a.safetensors.tmp"), F_OK) != 0);

  TsSafetensors st;
  TS_CHECK(ts_safetensors_read(tmp("a.safetensors"), &st, &err) == TS_OK);
  uint64_t hlen;
  memcpy(&hlen, st.buf, 8);
  TS_CHECK(st.n == 4 && hlen % 8 == 0 && st.size == 8 + hlen + (6 + 3 + 3) * 4 + 8);
  TS_CHECK(strcmp(ts_safetensors_meta(&st, "epoch"), "4") == 0);
  TS_CHECK(strcmp(ts_safetensors_meta(&st, "note"), "quote \" and \xc3\xa9") == 0);
  const TsStTensor *x = ts_safetensors_find(&st, "bn1.num_batches_tracked");
  TS_CHECK(x && x->dtype == TS_ST_I64 && x->ndim == 0 && x->numel == 1);
  x = ts_safetensors_find(&st, "layer1.0.conv1.weight");
  TS_CHECK(x && x->ndim == 2 && x->shape[1] == 3 && memcmp(x->data, w, sizeof w) == 0);
  TS_CHECK(ts_safetensors_find(&st, "nope") == NULL);

  float w2[6] = {0}, b2[3] = {0};
  int64_t nbt2 = 0;
  TsNamedTensor d[3] = {t[0], t[1], t[2]};
  d[0].data = w2;
  d[1].data = b2;
  d[2].data = &nbt2;
  d[2].ndim = 1; /* [1] accepts a stored scalar [] */
  d[2].shape[0] = 1;
  TS_CHECK(ts_safetensors_load_all(&st, NULL, d, 3, 1, &err) == TS_OK);
  TS_CHECK(memcmp(w, w2, sizeof w) == 0 && memcmp(b, b2, sizeof b) == 0 && nbt2 == nbt);
  memset(b2, 0, sizeof b2);
  TS_CHECK(ts_safetensors_load_into(&st, "optim.", &d[1], &err) == TS_OK && b2[2] == 0.75f);
  /* strict: a tensor the model lacks */
  TS_CHECK(ts_safetensors_load_all(&st, NULL, d, 2, 1, &err) == TS_ERR_FORMAT &&
           strstr(err.message, "bn1.num_batches_tracked") && strstr(err.message, "unexpected"));
  TS_CHECK(ts_safetensors_load_all(&st, NULL, d, 2, 0, &err) == TS_OK);
  /* shape and dtype mismatches, missing tensors */
  TsNamedTensor bad = d[0];
  bad.shape[0] = 3;
  bad.shape[1] = 2;
  TS_CHECK(ts_safetensors_load_into(&st, NULL, &bad, &err) == TS_ERR_FORMAT && strstr(err.message, "[2, 3]") &&
           strstr(err.message, "[3, 2]") && strstr(err.message, "layer1.0.conv1.weight") &&
           strstr(err.message, "a.safetensors"));
  bad = d[2];
  bad.dtype = TS_NN_F32;
  TS_CHECK(ts_safetensors_load_into(&st, NULL, &bad, &err) == TS_ERR_FORMAT && strstr(err.message, "is I64"));
  snprintf(bad.name, sizeof bad.name, "fc.weight");
  TS_CHECK(ts_safetensors_load_into(&st, NULL, &bad, &err) == TS_ERR_FORMAT && strstr(err.message, "no tensor 'fc.weight'"));
  ts_safetensors_clear(&st);

  /* An empty file (no tensors) is valid. */
  wr = ts_st_writer_new(&err);
  TS_CHECK(ts_st_writer_write(wr, tmp("empty.safetensors"), &err) == TS_OK);
  ts_st_writer_free(wr);
  TS_CHECK(ts_safetensors_read(tmp("empty.safetensors"), &st, &err) == TS_OK && st.n == 0);
  ts_safetensors_clear(&st);
  TS_CHECK(ts_safetensors_read(tmp("none.safetensors"), &st, &err) == TS_ERR_IO && strstr(err.message, "none.safetensors"));
}

static void test_malformed(void) {
  /* header length larger than the file */
  FILE *f = fopen(tmp("bad.safetensors"), "wb");
  uint64_t big = 1000;
  fwrite(&big, 8, 1, f);
  fputs("{}", f);
  fclose(f);
  TsSafetensors st;
  TsError err = {0};
  TS_CHECK(ts_safetensors_read(tmp("bad.safetensors"), &st, &err) == TS_ERR_FORMAT &&
           strstr(err.message, "header length 1000"));
  f = fopen(tmp("bad.safetensors"), "wb");
  fputs("abc", f);
  fclose(f);
  TS_CHECK(ts_safetensors_read(tmp("bad.safetensors"), &st, &err) == TS_ERR_FORMAT && strstr(err.message, "shorter"));

  expect_bad("[1, 2]", 0, "not a JSON object", NULL);
  expect_bad("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]", 8, "expected", NULL);
  expect_bad("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}} x", 8, "after the JSON", NULL);
  expect_bad("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 16]}}", 8, "'a'", "outside");
  expect_bad("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8, "'a'", "needs 12");
  expect_bad("{\"a\": {\"dtype\": \"F33\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8, "'a'", "unknown dtype");
  expect_bad("{\"a\": {\"dtype\": \"F32\", \"shape\": [2]}}", 8, "'a'", "no data_offsets");
  expect_bad("{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8, "non-negative", NULL);
  expect_bad("{\"a\": {\"dtype\": \"F32\", \"shape\": [2.5], \"data_offsets\": [0, 8]}}", 8, "integer", NULL);
  expect_bad("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 8, "'a'", "outside");
  expect_bad("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
             " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}",
             12, "'b'", "overlaps");
  expect_bad("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8, "'a'", "gap");
  expect_bad("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 8, "4 bytes after", NULL);
  expect_bad("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
             " \"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
             8, "'a'", "twice");
  expect_bad("{\"__metadata__\": {\"x\": 3}}", 0, "strings", NULL);
  expect_bad("{\"a\": {\"dtype\": \"F32\", \"shape\": [99999999999, 99999999999, 99999999999], \"data_offsets\": [0, 4]}}",
             4, "'a'", "too large");
  expect_bad("{\"a\001\": 1}", 0, "control", NULL);
  /* unknown members inside a tensor entry are skipped, like the reference */
  write_raw(tmp("ok.safetensors"), "{\"a\": {\"x\": [1, {\"y\": null}], \"dtype\": \"I64\", \"shape\": [], \"data_offsets\": [0, 8]}}",
            (int64_t[]){7}, 8);
  TS_CHECK(ts_safetensors_read(tmp("ok.safetensors"), &st, &err) == TS_OK && st.n == 1 && st.tensors[0].numel == 1);
  ts_safetensors_clear(&st);
}

/* Random corruption of a valid file never crashes (ASan watches) and either
 * reads or fails with a format error. */
static void test_fuzz(void) {
  float w[40];
  for (int i = 0; i < 40; i++) w[i] = (float)i;
  TsError err = {0};
  TsStWriter *wr = ts_st_writer_new(&err);
  ts_st_writer_add(wr, "w", TS_ST_F32, 2, (int64_t[]){4, 10}, w, &err);
  ts_st_writer_add(wr, "n", TS_ST_I64, 0, NULL, w, &err);
  ts_st_writer_meta(wr, "k", "v", &err);
  ts_st_writer_write(wr, tmp("f.safetensors"), &err);
  ts_st_writer_free(wr);
  FILE *f = fopen(tmp("f.safetensors"), "rb");
  uint8_t orig[1024];
  size_t n = fread(orig, 1, sizeof orig, f);
  fclose(f);
  TsRng r;
  ts_rng_init(&r, 1, 0);
  int ok = 1, accepted = 0;
  for (int trial = 0; trial < 3000; trial++) {
    size_t len = trial % 7 == 0 ? (size_t)ts_rng_below(&r, n) : n;
    uint8_t *buf = malloc(n);
    memcpy(buf, orig, n);
    int flips = 1 + (int)ts_rng_below(&r, 3);
    for (int k = 0; k < flips; k++) {
      size_t at = (size_t)ts_rng_below(&r, len ? len : 1);
      if (len) buf[at] = (uint8_t)ts_rng_below(&r, 256);
    }
    TsSafetensors st;
    TsStatus s = ts_safetensors_parse("fuzz", buf, len, &st, &err);
    if (s == TS_OK) {
      accepted++;
      for (size_t i = 0; i < st.n; i++) ok &= st.tensors[i].data + st.tensors[i].nbytes <= st.buf + st.size;
      ts_safetensors_clear(&st);
    } else {
      ok &= s == TS_ERR_FORMAT || s == TS_ERR_NOMEM;
    }
  }
  TS_CHECK(ok);
  TS_CHECK(accepted > 0); /* flips in the data bytes are harmless */
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/ts-test-st-XXXXXX");
  if (!mkdtemp(dir)) return 1;
  TS_RUN(test_round_trip);
  TS_RUN(test_malformed);
  TS_RUN(test_fuzz);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return ts_test_finish();
}
