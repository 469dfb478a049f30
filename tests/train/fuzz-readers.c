/* fuzz-readers — libFuzzer targets for the readers of files people
 * download: checkpoints (safetensors, nn/safetensors.h) and label caches
 * (ph/label-cache.h). Built by tests/train/fuzz.sh with FUZZ_READER set to
 * safetensors or labelcache. Each input is parsed as a whole file; when it
 * parses, everything a trainer then touches is touched too (every tensor's
 * bytes and metadata; every row's name, values and lookup), so a reader
 * that accepts a file it should refuse shows up under ASan. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/safetensors.h"
#include "ph/label-cache.h"

#define STR(x) #x
#define XSTR(x) STR(x)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

#if defined(FUZZ_READER_SAFETENSORS)
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) return 0;
  memcpy(buf, data, size);
  TsSafetensors st;
  TsError err = {0};
  if (ts_safetensors_parse("fuzz.safetensors", buf, size, &st, &err) == TS_OK) {
    for (size_t i = 0; i < st.n; i++) {
      const TsStTensor *t = &st.tensors[i];
      for (size_t k = 0; k < t->nbytes; k++) sink += t->data[k];
      sink += ts_safetensors_find(&st, t->name) == t;
    }
    for (size_t i = 0; i < st.n_meta; i++) sink += strlen(st.meta_keys[i]) + strlen(st.meta_values[i]);
    ts_safetensors_clear(&st);
  }
  return 0;
}
#elif defined(FUZZ_READER_LABELCACHE)
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* the reader maps a file: the input goes through one */
  char path[] = "/tmp/fuzz-labelcache-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  if (write(fd, data, size) != (ssize_t)size) {
    close(fd);
    unlink(path);
    return 0;
  }
  close(fd);
  TsLabelCache *c;
  TsError err = {0};
  if (ts_label_cache_open(path, &c, &err) == TS_OK) {
    size_t n = ts_label_cache_count(c);
    int nd = ts_label_cache_dims(c);
    float *row = nd > 0 && nd < (1 << 20) ? malloc(sizeof(float) * (size_t)nd) : NULL;
    sink += strlen(ts_label_cache_params(c));
    for (size_t i = 0; i < n; i++) {
      const char *name = ts_label_cache_name(c, i);
      const float *v = ts_label_cache_values(c, i);
      if (name) sink += strlen(name);
      for (int k = 0; v && k < nd; k++) sink += (uint64_t)(v[k] == v[k]);
      if (row) sink += ts_label_cache_row(c, i, row, &err) == TS_OK;
      size_t at;
      if (name) sink += ts_label_cache_find(c, name, &at, &err) == TS_OK;
    }
    sink += ts_label_cache_name(c, n) == NULL;
    free(row);
    ts_label_cache_close(c);
  }
  unlink(path);
  return 0;
}
#else
#error "FUZZ_READER_SAFETENSORS or FUZZ_READER_LABELCACHE"
#endif
