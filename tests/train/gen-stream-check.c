/* gen-stream-check — the generate: stream against files: every picture and
 * label the stream makes for epochs 0 .. E-1 (and the val stream) must equal,
 * byte for byte and bit for bit, the PNG `toposcope generate` wrote and the
 * row `toposcope label` computed from it.
 *   gen-stream-check SPEC DIR CACHE EPOCHS
 * SPEC without "generate:"; DIR the generated folder, CACHE its labels
 * (labelled as a whole: names train/t%08d.png, val/v%08d.png). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "image/image.h"
#include "ph/label-cache.h"

static int check_split(const char *spec, TsSplit split, const char *dir, const TsLabelCache *cache, int epochs) {
  TsError err = {0};
  TsDataset ds;
  if (ts_dataset_open_generate(spec, split, &ds, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  size_t px = (size_t)ds.channels * (size_t)ds.height * (size_t)ds.width;
  uint8_t *a = malloc(px), *b = malloc(px);
  float *t = malloc(sizeof(float) * (size_t)ds.target_dims);
  void *w = ds.stream->worker_new(ds.stream->user, &err);
  int bad = 0, checked = 0;
  for (int e = 0; e < (split == TS_SPLIT_TEST ? 1 : epochs); e++)
    for (int64_t i = 0; i < ds.count; i++) {
      long long pic = split == TS_SPLIT_TEST ? i : e * ds.count + i;
      char name[64], path[4200];
      snprintf(name, sizeof name, "%s/%c%08lld.png", split == TS_SPLIT_TEST ? "val" : "train",
               split == TS_SPLIT_TEST ? 'v' : 't', pic);
      snprintf(path, sizeof path, "%s/%s", dir, name);
      TsImage img = {0};
      size_t row;
      if (ts_dataset_fetch(&ds, w, e, i, a, t, &err) || ts_image_load(path, &img, &err) ||
          ts_label_cache_find(cache, name, &row, &err)) {
        fprintf(stderr, "%s\n", err.message);
        bad++;
        ts_image_clear(&img);
        continue;
      }
      ts_dataset_image_to_chw(&img, ds.channels, b);
      const float *ref = ts_label_cache_values(cache, row);
      if (memcmp(a, b, px) != 0) fprintf(stderr, "%s: pixels differ\n", name), bad++;
      if (memcmp(t, ref, sizeof(float) * (size_t)ds.target_dims) != 0) fprintf(stderr, "%s: label differs\n", name), bad++;
      checked++;
      ts_image_clear(&img);
    }
  ds.stream->worker_free(ds.stream->user, w);
  free(a), free(b), free(t);
  ts_dataset_clear(&ds);
  printf("%d pictures compared, %d differences\n", checked, bad);
  return bad != 0 || checked == 0;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: gen-stream-check SPEC DIR CACHE EPOCHS\n");
    return 2;
  }
  TsError err = {0};
  TsLabelCache *cache;
  if (ts_label_cache_open(argv[3], &cache, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  int rc = check_split(argv[1], TS_SPLIT_TRAIN, argv[2], cache, atoi(argv[4]));
  rc |= check_split(argv[1], TS_SPLIT_TEST, argv[2], cache, 1);
  ts_label_cache_close(cache);
  return rc;
}
