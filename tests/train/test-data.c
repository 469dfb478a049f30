/* core/data: IDX and CIFAR readers (good and malformed files), the loader's
 * shuffling, coverage, prefetch determinism and restart, augmentations
 * against a plain reference. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/rng.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "image/image.h"
#include "ph/label-cache.h"
#include "ts-test.h"

static char tmpdir[256];

static const char *tmp(const char *name) {
  static char buf[8][512];
  static int k;
  k = (k + 1) % 8;
  snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
  return buf[k];
}

static void write_bytes(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(data, 1, n, f);
  fclose(f);
}

/* An unsigned-byte IDX file, written by core/image. */
static TsStatus write_idx(const char *path, int ndim, const size_t *shape, const uint8_t *data) {
  TsArray a;
  TsError err = {0};
  TsStatus st = ts_array_alloc(&a, ndim, shape, TS_U8, &err);
  if (st != TS_OK) return st;
  memcpy(a.data, data, ts_array_count(&a));
  st = ts_array_save(path, &a, &err);
  ts_array_clear(&a);
  return st;
}

static void test_idx(void) {
  uint8_t img[3 * 4 * 5];
  for (int i = 0; i < 60; i++) img[i] = (uint8_t)(i * 7);
  uint8_t lab[3] = {2, 0, 9};
  size_t dims[3] = {3, 4, 5}, ldim[1] = {3};
  TsError err = {0};
  TS_CHECK(write_idx(tmp("im.idx"), 3, dims, img) == TS_OK);
  TS_CHECK(write_idx(tmp("lb.idx"), 1, ldim, lab) == TS_OK);
  TsDataset ds;
  TS_CHECK(ts_dataset_load_idx(tmp("im.idx"), tmp("lb.idx"), &ds, &err) == TS_OK);
  TS_CHECK(ds.count == 3 && ds.height == 4 && ds.width == 5 && memcmp(ds.pixels, img, 60) == 0);
  ts_dataset_clear(&ds);
  /* gzip: same bytes through zlib */
  FILE *f = fopen(tmp("im.idx"), "rb");
  uint8_t raw[200];
  size_t n = fread(raw, 1, sizeof raw, f);
  fclose(f);
  gzFile g = gzopen(tmp("im.idx.gz"), "wb");
  gzwrite(g, raw, (unsigned)n);
  gzclose(g);

  char spec[1200];
  snprintf(spec, sizeof spec, "idx:%s,%s", tmp("im.idx.gz"), tmp("lb.idx"));
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &ds, &err) == TS_OK);
  TS_CHECK(ds.count == 3 && ds.channels == 1 && ds.height == 4 && ds.width == 5 && ds.num_classes == 10);
  TS_CHECK(ds.labels[2] == 9 && ts_dataset_sample(&ds, 1)[0] == img[20] && memcmp(ds.pixels, img, 60) == 0);
  ts_dataset_clear(&ds);
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TEST, NULL, &ds, &err) == TS_ERR_INVALID);

  /* HWC colour IDX becomes CHW */
  size_t d4[4] = {1, 2, 2, 3};
  uint8_t c4[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, l1[1] = {1};
  size_t one[1] = {1};
  write_idx(tmp("c.idx"), 4, d4, c4);
  write_idx(tmp("c1.idx"), 1, one, l1);
  TS_CHECK(ts_dataset_load_idx(tmp("c.idx"), tmp("c1.idx"), &ds, &err) == TS_OK);
  TS_CHECK(ds.channels == 3 && ds.pixels[0] == 1 && ds.pixels[1] == 4 && ds.pixels[4] == 2 && ds.pixels[11] == 12);
  ts_dataset_clear(&ds);

  /* malformed image files: the error names the file and the problem */
  uint8_t bad_magic[8] = {1, 0, 8, 1, 0, 0, 0, 1};
  write_bytes(tmp("bad1"), bad_magic, 8);
  TS_CHECK(ts_dataset_load_idx(tmp("bad1"), tmp("lb.idx"), &ds, &err) == TS_ERR_FORMAT &&
           strstr(err.message, "bad1") && strstr(err.message, "magic"));
  uint8_t float_type[20] = {0, 0, 0x0d, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x3f, 0x80, 0, 0};
  write_bytes(tmp("bad2"), float_type, 20);
  TS_CHECK(ts_dataset_load_idx(tmp("bad2"), tmp("lb.idx"), &ds, &err) == TS_ERR_FORMAT &&
           strstr(err.message, "bad2") && strstr(err.message, "unsigned bytes"));
  write_bytes(tmp("bad3"), raw, n - 1);
  TS_CHECK(ts_dataset_load_idx(tmp("bad3"), tmp("lb.idx"), &ds, &err) == TS_ERR_FORMAT &&
           strstr(err.message, "truncated"));
  raw[n] = 0;
  write_bytes(tmp("bad4"), raw, n + 1);
  TS_CHECK(ts_dataset_load_idx(tmp("bad4"), tmp("lb.idx"), &ds, &err) == TS_ERR_FORMAT &&
           strstr(err.message, "after the IDX data"));
  uint8_t huge[16] = {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  write_bytes(tmp("bad5"), huge, 16);
  TS_CHECK(ts_dataset_load_idx(tmp("bad5"), tmp("lb.idx"), &ds, &err) == TS_ERR_FORMAT &&
           strstr(err.message, "bad5") && strstr(err.message, "dimensions"));
  TS_CHECK(ts_dataset_load_idx(tmp("missing"), tmp("lb.idx"), &ds, &err) == TS_ERR_IO &&
           strstr(err.message, "missing"));
  /* label count mismatch */
  TS_CHECK(ts_dataset_load_idx(tmp("im.idx"), tmp("c1.idx"), &ds, &err) == TS_ERR_FORMAT &&
           strstr(err.message, "labels"));
  TS_CHECK(ts_dataset_open("nonsense", TS_SPLIT_TRAIN, NULL, &ds, &err) == TS_ERR_INVALID);

  /* fashion-mnist:DIR finds the plain or gzipped files of each split */
  char dir[600];
  snprintf(dir, sizeof dir, "%s/fmnist", tmpdir);
  mkdir(dir, 0777);
  TS_CHECK(write_idx(tmp("fmnist/train-images-idx3-ubyte"), 3, dims, img) == TS_OK);
  TS_CHECK(write_idx(tmp("fmnist/train-labels-idx1-ubyte"), 1, ldim, lab) == TS_OK);
  snprintf(spec, sizeof spec, "fashion-mnist:%s", dir);
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &ds, &err) == TS_OK);
  TS_CHECK(ds.count == 3 && ds.labels[2] == 9 && strcmp(ds.class_names[9], "Ankle boot") == 0);
  ts_dataset_clear(&ds);
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TEST, NULL, &ds, &err) == TS_ERR_IO && strstr(err.message, "t10k-images") &&
           strstr(err.message, "dataset-fashion-mnist"));
}

static void test_cifar(void) {
  char dir[600];
  snprintf(dir, sizeof dir, "%s/cifar", tmpdir);
  mkdir(dir, 0777);
  uint8_t rec[2 * 3073];
  for (int r = 0; r < 2; r++) {
    rec[r * 3073] = (uint8_t)(r == 0 ? 3 : 7);
    for (int i = 0; i < 3072; i++) rec[r * 3073 + 1 + i] = (uint8_t)(i + r);
  }
  write_bytes(tmp("cifar/data_batch_1.bin"), rec, sizeof rec);
  write_bytes(tmp("cifar/data_batch_2.bin"), rec, 3073);
  write_bytes(tmp("cifar/test_batch.bin"), rec + 3073, 3073);
  TsDataset ds;
  TsError err = {0};
  char spec[700];
  snprintf(spec, sizeof spec, "cifar:%s", dir);
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &ds, &err) == TS_OK);
  TS_CHECK(ds.count == 3 && ds.channels == 3 && ds.height == 32 && ds.num_classes == 10);
  TS_CHECK(ds.labels[0] == 3 && ds.labels[1] == 7 && ds.labels[2] == 3);
  TS_CHECK(ts_dataset_sample(&ds, 1)[1024] == (uint8_t)(1024 + 1) && strcmp(ds.class_names[3], "cat") == 0);
  ts_dataset_clear(&ds);
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TEST, NULL, &ds, &err) == TS_OK);
  TS_CHECK(ds.count == 1 && ds.labels[0] == 7);
  ts_dataset_clear(&ds);
  write_bytes(tmp("cifar/data_batch_1.bin"), rec, 3000);
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &ds, &err) == TS_ERR_FORMAT &&
           strstr(err.message, "data_batch_1.bin") && strstr(err.message, "records"));
  rec[0] = 12; /* CIFAR-10 label out of range */
  write_bytes(tmp("cifar/data_batch_1.bin"), rec, 3073);
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &ds, &err) == TS_ERR_FORMAT && strstr(err.message, "label 12"));
  snprintf(spec, sizeof spec, "cifar:%s/none", tmpdir);
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &ds, &err) == TS_ERR_IO);
}

static void make_ds(TsDataset *ds, int64_t n, int c, int h, int w) {
  TsError err;
  ts_dataset_alloc(ds, n, c, h, w, 10, &err);
  TsRng r;
  ts_rng_init(&r, 5, 0);
  for (int64_t i = 0; i < n * c * h * w; i++) ds->pixels[i] = (uint8_t)ts_rng_below(&r, 256);
  for (int64_t i = 0; i < n; i++) ds->labels[i] = (int32_t)(i % 10);
}

/* All batches of one epoch concatenated: ids, labels and the inputs. */
typedef struct {
  int64_t *ids;
  float *x;
  int64_t n, nb;
} Epoch;

static Epoch run_epoch(TsLoader *l, int64_t epoch, int64_t first, size_t per) {
  Epoch e = {0};
  TsError err;
  ts_loader_begin_epoch(l, epoch, first, &err);
  e.ids = malloc(sizeof(int64_t) * 1000);
  e.x = malloc(sizeof(float) * 1000 * per);
  const TsBatch *b;
  while ((b = ts_loader_next(l))) {
    memcpy(e.ids + e.n, b->ids, sizeof(int64_t) * (size_t)b->n);
    memcpy(e.x + (size_t)e.n * per, b->x, sizeof(float) * per * (size_t)b->n);
    for (int j = 0; j < b->n; j++) TS_CHECK(b->y[j] == b->ids[j] % 10);
    e.n += b->n;
    e.nb++;
  }
  return e;
}

static void free_epoch(Epoch *e) {
  free(e->ids);
  free(e->x);
}

static void test_loader(void) {
  TsDataset ds;
  make_ds(&ds, 103, 3, 8, 6);
  TsLoaderConfig cfg = {.batch = 10, .shuffle = 1, .seed = 42, .augment = 1,
                        .aug = {.crop_pad = 2, .hflip = 1, .mean = {0.5f, 0.4f, 0.3f}, .std = {0.2f, 0.3f, 0.25f}}};
  TsLoader *a, *b;
  TsError err;
  TS_CHECK(ts_loader_new(&ds, &cfg, &a, &err) == TS_OK);
  cfg.workers = 3;
  cfg.prefetch = 2;
  TS_CHECK(ts_loader_new(&ds, &cfg, &b, &err) == TS_OK);
  TS_CHECK(ts_loader_batches(a) == 11);
  size_t per = 3 * 8 * 6;
  Epoch e0 = run_epoch(a, 0, 0, per), e0b = run_epoch(b, 0, 0, per), e1 = run_epoch(a, 1, 0, per);
  TS_CHECK(e0.n == 103 && e0.nb == 11 && e0b.n == 103);
  /* every sample once */
  int seen[103] = {0};
  for (int i = 0; i < 103; i++) seen[e0.ids[i]]++;
  int once = 1;
  for (int i = 0; i < 103; i++) once &= seen[i] == 1;
  TS_CHECK(once);
  /* same with prefetch threads, bit for bit */
  TS_CHECK(memcmp(e0.ids, e0b.ids, sizeof(int64_t) * 103) == 0);
  TS_CHECK(memcmp(e0.x, e0b.x, sizeof(float) * per * 103) == 0);
  /* another epoch, another order; shuffled at all */
  TS_CHECK(memcmp(e0.ids, e1.ids, sizeof(int64_t) * 103) != 0);
  int identity = 1;
  for (int i = 0; i < 103; i++) identity &= e0.ids[i] == i;
  TS_CHECK(!identity);
  /* restart mid-epoch (resume): the tail is identical */
  Epoch t = run_epoch(b, 0, 4, per);
  TS_CHECK(t.n == 63 && memcmp(t.ids, e0.ids + 40, sizeof(int64_t) * 63) == 0 &&
           memcmp(t.x, e0.x + 40 * per, sizeof(float) * per * 63) == 0);
  /* restart while a batch is lent and the ring is full */
  ts_loader_begin_epoch(b, 0, 0, &err);
  ts_loader_next(b);
  usleep(2000);
  Epoch again = run_epoch(b, 0, 0, per);
  TS_CHECK(again.n == 103 && memcmp(again.x, e0.x, sizeof(float) * per * 103) == 0);
  /* peek: the next batch once a worker made it, the current one untouched,
   * and next() hands out the very same batch; never a batch without workers */
  ts_loader_begin_epoch(b, 0, 0, &err);
  const TsBatch *cur = ts_loader_next(b), *ahead = NULL;
  float first_x = cur->x[0];
  int64_t cur_index = cur->index;
  for (int tries = 0; tries < 2000 && !(ahead = ts_loader_peek(b)); tries++) usleep(1000);
  TS_CHECK(ahead && ahead->index == cur_index + 1 && cur->index == cur_index && cur->x[0] == first_x);
  TS_CHECK(ahead && memcmp(ahead->x, e0.x + 10 * per, sizeof(float) * per * 10) == 0);
  TS_CHECK(ts_loader_peek(b) == ahead && ts_loader_next(b) == ahead);
  ts_loader_begin_epoch(a, 0, 0, &err);
  TS_CHECK(ts_loader_next(a) && !ts_loader_peek(a));
  for (int k = 2; k < 11; k++) ts_loader_next(b);
  TS_CHECK(!ts_loader_peek(b) && !ts_loader_next(b)); /* the end of the epoch */
  /* different seed, different order */
  ts_loader_free(b);
  cfg.seed = 43;
  TS_CHECK(ts_loader_new(&ds, &cfg, &b, &err) == TS_OK);
  Epoch s = run_epoch(b, 0, 0, per);
  TS_CHECK(memcmp(s.ids, e0.ids, sizeof(int64_t) * 103) != 0);
  /* each output is the reference augmentation of its sample */
  int ok = 1;
  float *ref = malloc(sizeof(float) * per);
  for (int k = 0; k < 103; k++) {
    int64_t id = e0.ids[k];
    const uint8_t *src = ts_dataset_sample(&ds, id);
    /* Find the crop/flip that reproduces the output among all candidates: the
     * output must equal one of them exactly, with the normalisation applied. */
    int found = 0;
    for (int dy = -2; dy <= 2 && !found; dy++)
      for (int dx = -2; dx <= 2 && !found; dx++)
        for (int fl = 0; fl < 2 && !found; fl++) {
          int match = 1;
          for (int c = 0; c < 3 && match; c++)
            for (int y = 0; y < 8 && match; y++)
              for (int x = 0; x < 6 && match; x++) {
                int sy = y + dy, sx = (fl ? 5 - x : x) + dx;
                float v = (sy < 0 || sy >= 8 || sx < 0 || sx >= 6) ? 0.f : src[(c * 8 + sy) * 6 + sx] / 255.f;
                float want = (v - cfg.aug.mean[c]) / cfg.aug.std[c];
                match = fabsf(want - e0.x[(size_t)k * per + (size_t)(c * 8 + y) * 6 + (size_t)x]) < 1e-5f;
              }
          found = match;
        }
    ok &= found;
  }
  TS_CHECK(ok);
  free(ref);
  free_epoch(&s);
  free_epoch(&again);
  free_epoch(&t);
  free_epoch(&e0);
  free_epoch(&e0b);
  free_epoch(&e1);
  ts_loader_free(a);
  ts_loader_free(b);
  /* no shuffle, drop_last, no augmentation: identity order, plain normalisation */
  TsLoaderConfig ev = {.batch = 25, .drop_last = 1, .aug = {.mean = {0, 0, 0}, .std = {1, 1, 1}}};
  TS_CHECK(ts_loader_new(&ds, &ev, &a, &err) == TS_OK);
  Epoch p = run_epoch(a, 3, 0, per);
  TS_CHECK(p.n == 100 && p.nb == 4 && p.ids[57] == 57 && fabsf(p.x[per * 5 + 7] - ds.pixels[per * 5 + 7] / 255.f) < 1e-7f);
  free_epoch(&p);
  ts_loader_free(a);
  ts_dataset_clear(&ds);
}

static void test_resize(void) {
  /* 2x upscale of a ramp, half-pixel centres, against torch's known values:
   * F.interpolate([[0, 100]], size=4, mode='bilinear', align_corners=False)
   * gives 0, 25, 75, 100 along a row. */
  uint8_t src[2] = {0, 100};
  TsAugment a = {.resize_h = 1, .resize_w = 4, .std = {1}};
  float scratch[4], out[4];
  ts_augment_apply(&a, src, 1, 1, 2, NULL, out, scratch);
  TS_CHECK_CLOSE(out[0] * 255, 0, 1e-5);
  TS_CHECK_CLOSE(out[1] * 255, 25, 1e-5);
  TS_CHECK_CLOSE(out[2] * 255, 75, 1e-5);
  TS_CHECK_CLOSE(out[3] * 255, 100, 1e-5);
  TS_CHECK(ts_augment_scratch(&a, 1, 1, 2) == 4);
}

static void save_png(const char *rel, int w, int h, int c, uint8_t base) {
  TsImage img = {0};
  TsError err;
  ts_image_alloc(&img, w, h, c, &err);
  for (int i = 0; i < w * h * c; i++) img.pixels[i] = (uint8_t)(base + i % 7);
  TS_CHECKF(ts_image_save(tmp(rel), &img, 90, &err) == TS_OK, "%s", err.message);
  ts_image_clear(&img);
}

static void test_folder(void) {
  const char *dirs[] = {"f", "f/train", "f/train/cat", "f/train/dog", "f/train/emu", "f/val", "f/val/cat",
                        "f/val/dog", "f/val/emu"};
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) mkdir(tmp(dirs[i]), 0777);
  save_png("f/train/cat/a.png", 6, 4, 3, 10);
  save_png("f/train/cat/b.png", 12, 8, 3, 20); /* resized to the first picture's 6 x 4 */
  save_png("f/train/dog/a.png", 6, 4, 1, 30);  /* grey becomes RGB */
  save_png("f/train/emu/z.png", 6, 4, 4, 40);  /* RGBA becomes RGB */
  save_png("f/val/dog/x.png", 6, 4, 3, 50);
  FILE *f = fopen(tmp("f/train/dog/notes.txt"), "w"); /* not a picture: ignored */
  fputs("hi", f);
  fclose(f);
  TsDataset ds;
  TsError err = {0};
  char spec[700];
  snprintf(spec, sizeof spec, "folder:%s", tmp("f"));
  TS_CHECKF(ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &ds, &err) == TS_OK, "%s", err.message);
  TS_CHECK(ds.count == 4 && ds.channels == 3 && ds.width == 6 && ds.height == 4 && ds.num_classes == 3);
  TS_CHECK(ds.labels[0] == 0 && ds.labels[1] == 0 && ds.labels[2] == 1 && ds.labels[3] == 2);
  TS_CHECK(ds.class_names && strcmp(ds.class_names[2], "emu") == 0);
  /* HWC -> CHW: pixel 1 of channel 0 is the file's byte 3 */
  TS_CHECK(ts_dataset_sample(&ds, 0)[1] == 10 + 3 % 7 && ts_dataset_sample(&ds, 0)[24] == 10 + 1);
  const uint8_t *g = ts_dataset_sample(&ds, 2);
  TS_CHECK(g[5] == g[24 + 5] && g[5] == g[48 + 5] && g[5] == 30 + 5 % 7);
  ts_dataset_clear(&ds);
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TEST, NULL, &ds, &err) == TS_OK && ds.count == 1 && ds.labels[0] == 1 &&
           ds.num_classes == 3);
  ts_dataset_clear(&ds);
  TsDatasetOptions o = {.height = 8, .width = 8, .channels = 1};
  snprintf(spec, sizeof spec, "folder:%s", tmp("f/train"));
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TRAIN, &o, &ds, &err) == TS_OK && ds.channels == 1 && ds.height == 8);
  ts_dataset_clear(&ds);
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TEST, NULL, &ds, &err) == TS_ERR_INVALID);
  f = fopen(tmp("f/train/emu/broken.png"), "w");
  fputs("\x89PNG\r\n\x1a\n garbage", f);
  fclose(f);
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &ds, &err) != TS_OK && strstr(err.message, "broken.png"));
  snprintf(spec, sizeof spec, "folder:%s", tmp("f/train/cat"));
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &ds, &err) == TS_ERR_INVALID && strstr(err.message, "class"));
}

static void test_label_cache(void) {
  mkdir(tmp("g"), 0777);
  mkdir(tmp("g/train"), 0777);
  save_png("g/train/a.png", 5, 3, 1, 10);
  save_png("g/train/b.png", 5, 3, 1, 60);
  save_png("g/train/c.png", 10, 6, 3, 90);
  TsLabelCacheWriter *w;
  TsError err = {0};
  TS_CHECK(ts_label_cache_create(tmp("g.tslabels"), 2, "{\"type\":\"test\"}", 0, &w, &err) == TS_OK);
  float v[3][2] = {{1, 2}, {3, 4}, {5, 6}};
  ts_label_cache_append(w, "train/b.png", v[1], &err);
  ts_label_cache_append(w, "train/a.png", v[0], &err);
  ts_label_cache_append(w, "train/c.png", v[2], &err);
  TS_CHECK(ts_label_cache_finish(w, &err) == TS_OK);
  char spec[1200];
  snprintf(spec, sizeof spec, "labels:%s,%s", tmp("g"), tmp("g.tslabels"));
  TsDataset ds;
  TS_CHECKF(ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &ds, &err) == TS_OK, "%s", err.message);
  TS_CHECK(ds.count == 3 && ds.target_dims == 2 && ds.channels == 1 && ds.width == 5 && ds.num_classes == 1);
  /* rows in the cache's order, each picture with its own label */
  for (int i = 0; i < 3; i++) {
    const char *name = i == 0 ? "train/b.png" : i == 1 ? "train/a.png" : "train/c.png";
    const float *want = i == 0 ? v[1] : i == 1 ? v[0] : v[2];
    TS_CHECKF(ds.targets[2 * i] == want[0] && ds.targets[2 * i + 1] == want[1], "row %d %s", i, name);
  }
  TS_CHECK(ts_dataset_sample(&ds, 0)[0] == 60 && ts_dataset_sample(&ds, 1)[0] == 10);
  /* the loader carries the targets */
  TsLoaderConfig lc = {.batch = 2, .shuffle = 1, .seed = 3, .aug = {.std = {1}}};
  TsLoader *l;
  TS_CHECK(ts_loader_new(&ds, &lc, &l, &err) == TS_OK);
  ts_loader_begin_epoch(l, 0, 0, &err);
  const TsBatch *b;
  int ok = 1, seen = 0;
  while ((b = ts_loader_next(l))) {
    ok &= b->dims == 2 && b->t != NULL;
    for (int j = 0; j < b->n; j++, seen++) ok &= b->t[2 * j] == ds.targets[2 * b->ids[j]];
  }
  TS_CHECK(ok && seen == 3);
  ts_loader_free(l);
  ts_dataset_clear(&ds);
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TEST, NULL, &ds, &err) == TS_ERR_INVALID);
  /* a row whose picture is missing */
  remove(tmp("g/train/c.png"));
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &ds, &err) != TS_OK && strstr(err.message, "c.png") &&
           strstr(err.message, "row 2"));
  /* an unfinished cache */
  TS_CHECK(ts_label_cache_create(tmp("h.tslabels"), 2, "{}", 0, &w, &err) == TS_OK);
  ts_label_cache_append(w, "train/a.png", v[0], &err);
  ts_label_cache_writer_abort(w);
  snprintf(spec, sizeof spec, "labels:%s,%s", tmp("g"), tmp("h.tslabels"));
  TS_CHECK(ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &ds, &err) == TS_ERR_INVALID && strstr(err.message, "incomplete"));
}

static void test_fashion_mnist(void) {
  if (access(TS_FASHION_MNIST_DIR "/train-labels-idx1-ubyte.gz", R_OK) != 0) {
    printf("(FashionMNIST not installed: skipped)\n");
    return;
  }
  TsDataset ds;
  TsError err;
  TS_CHECK(ts_dataset_open("fashion-mnist", TS_SPLIT_TEST, NULL, &ds, &err) == TS_OK);
  TS_CHECK(ds.count == 10000 && ds.height == 28 && ds.width == 28 && ds.channels == 1 && ds.num_classes == 10);
  int hist[10] = {0};
  for (int64_t i = 0; i < ds.count; i++) hist[ds.labels[i]]++;
  TS_CHECK(hist[0] == 1000 && hist[9] == 1000);
  TS_CHECK(strcmp(ds.class_names[9], "Ankle boot") == 0);
  ts_dataset_clear(&ds);
}

/* ts_dataset_per_class: exactly n of each class (empty classes skipped), the
 * kept samples unchanged and in their order, a function of the seed, and
 * every sample of a class about equally likely (n / m) over many seeds. */
static void test_per_class(void) {
  enum { N = 90, C = 4 };
  TsDataset ref;
  TsError err = {0};
  TS_CHECK(ts_dataset_alloc(&ref, N, 1, 2, 2, C + 1, &err) == TS_OK); /* class C has no sample */
  ref.targets = calloc(N * 2, sizeof(float));
  ref.target_dims = 2;
  int m[C] = {0};
  for (int i = 0; i < N; i++) {
    ref.labels[i] = (i * 7) % C == 3 && i % 3 ? 2 : (i * 7) % C;
    m[ref.labels[i]]++;
    for (int k = 0; k < 4; k++) ref.pixels[i * 4 + k] = (uint8_t)(i + k);
    ref.targets[i * 2] = (float)i, ref.targets[i * 2 + 1] = (float)-i;
  }
  int n = 5;
  static int hits[N];
  uint64_t prev = 0;
  int repeats = 0;
  for (uint64_t seed = 0; seed < 400; seed++) {
    TsDataset d;
    TS_CHECK(ts_dataset_alloc(&d, N, 1, 2, 2, C + 1, &err) == TS_OK);
    memcpy(d.pixels, ref.pixels, N * 4);
    memcpy(d.labels, ref.labels, N * sizeof(int32_t));
    d.targets = malloc(N * 2 * sizeof(float));
    memcpy(d.targets, ref.targets, N * 2 * sizeof(float));
    d.target_dims = 2;
    TS_CHECK(ts_dataset_per_class(&d, n, seed, &err) == TS_OK);
    TS_CHECK(d.count == n * C);
    int per[C + 1] = {0}, last = -1, ok = 1;
    uint64_t sig = 0;
    for (int64_t j = 0; j < d.count; j++) {
      int i = d.pixels[j * 4]; /* pixel 0 is the original index */
      ok &= i > last && d.labels[j] == ref.labels[i] && memcmp(d.pixels + j * 4, ref.pixels + i * 4, 4) == 0 &&
            d.targets[j * 2] == (float)i && d.targets[j * 2 + 1] == (float)-i;
      per[d.labels[j]]++;
      hits[i]++;
      last = i;
      sig = sig * 131 + (uint64_t)i;
    }
    TS_CHECK(ok);
    for (int c = 0; c < C; c++) TS_CHECK(per[c] == n);
    repeats += seed && sig == prev; /* consecutive seeds drawing the same subset (5 of ~22 per class: never) */
    prev = sig;
    ts_dataset_clear(&d);
  }
  TS_CHECK(repeats == 0);
  for (int i = 0; i < N; i++) {
    double expect = 400.0 * n / m[ref.labels[i]];
    TS_CHECK(fabs(hits[i] - expect) < 6 * sqrt(expect)); /* binomial, 6 sigma */
  }
  TsDataset d;
  TS_CHECK(ts_dataset_alloc(&d, N, 1, 2, 2, C, &err) == TS_OK);
  memcpy(d.labels, ref.labels, N * sizeof(int32_t));
  TS_CHECK(ts_dataset_per_class(&d, 1000, 0, &err) == TS_ERR_INVALID && strstr(err.message, "--per-class 1000"));
  ts_dataset_clear(&d);
  ts_dataset_clear(&ref);
}

/* A streamed dataset gives the loader the same batches as the same data in
 * memory, for any worker count, and a fetch that fails ends the epoch with
 * its error. */
typedef struct FakeStream {
  int fail_at;
  int workers_made;
} FakeStream;

static void *fake_worker_new(void *user, TsError *err) {
  (void)err;
  FakeStream *f = user;
  __atomic_add_fetch(&f->workers_made, 1, __ATOMIC_RELAXED);
  return malloc(16);
}
static void fake_worker_free(void *user, void *w) {
  (void)user;
  free(w);
}
static TsStatus fake_fetch(void *user, void *worker, int64_t epoch, int64_t index, uint8_t *pixels, float *target,
                           TsError *err) {
  FakeStream *f = user;
  if (!worker) return ts_error_set(err, TS_ERR_INTERNAL, "no worker state");
  if (index == f->fail_at) return ts_error_set(err, TS_ERR_IO, "cannot decode picture %lld", (long long)index);
  for (int k = 0; k < 12; k++) pixels[k] = (uint8_t)(index * 3 + k + epoch);
  if (target) target[0] = (float)index + 0.5f, target[1] = (float)epoch;
  return TS_OK;
}

static void test_stream(void) {
  enum { N = 37 };
  TsError err = {0};
  for (int workers = 0; workers <= 3; workers += 3) {
    TsDataset mem, st;
    TS_CHECK(ts_dataset_alloc(&mem, N, 3, 2, 2, 1, &err) == TS_OK);
    mem.targets = malloc(N * 2 * sizeof(float));
    mem.target_dims = 2;
    memset(&st, 0, sizeof st);
    st.count = N, st.channels = 3, st.height = st.width = 2, st.num_classes = 1, st.target_dims = 2;
    st.labels = calloc(N, sizeof(int32_t));
    FakeStream fs = {.fail_at = -1};
    TsSampleStream stream = {.user = &fs, .worker_new = fake_worker_new, .worker_free = fake_worker_free, .fetch = fake_fetch};
    st.stream = &stream;
    TsLoaderConfig lc = {.batch = 8, .shuffle = 1, .seed = 3, .workers = workers, .prefetch = 3};
    for (int epoch = 0; epoch < 2; epoch++) {
      void *w = malloc(16);
      for (int i = 0; i < N; i++) TS_CHECK(fake_fetch(&fs, w, epoch, i, mem.pixels + i * 12, mem.targets + i * 2, &err) == TS_OK);
      free(w);
      TsLoader *a, *b;
      TS_CHECK(ts_loader_new(&mem, &lc, &a, &err) == TS_OK && ts_loader_new(&st, &lc, &b, &err) == TS_OK);
      TS_CHECK(ts_loader_begin_epoch(a, epoch, 0, &err) == TS_OK && ts_loader_begin_epoch(b, epoch, 0, &err) == TS_OK);
      const TsBatch *x, *y;
      int same = 1, batches = 0;
      while ((x = ts_loader_next(a))) {
        y = ts_loader_next(b);
        same &= y && x->n == y->n && memcmp(x->x, y->x, sizeof(float) * 12 * (size_t)x->n) == 0 &&
                memcmp(x->t, y->t, sizeof(float) * 2 * (size_t)x->n) == 0;
        batches++;
      }
      TS_CHECK(same && batches == 5 && !ts_loader_next(b) && ts_loader_status(b, &err) == TS_OK);
      ts_loader_free(a);
      ts_loader_free(b);
    }
    /* --per-class on the streamed set: the same subset, the same batches,
     * as the in-memory set cut the same way (the stream is asked for the
     * original sample numbers); a second cut composes with the first */
    for (int i = 0; i < N; i++) mem.labels[i] = st.labels[i] = (int32_t)(i * 5 % 3);
    mem.num_classes = st.num_classes = 3;
    {
      void *w = malloc(16);
      for (int i = 0; i < N; i++) fake_fetch(&fs, w, 0, i, mem.pixels + i * 12, mem.targets + i * 2, &err);
      free(w);
    }
    st.targets = malloc(N * 2 * sizeof(float)); /* known up front, as a label cache's */
    memcpy(st.targets, mem.targets, N * 2 * sizeof(float));
    for (int cut = 0; cut < 2; cut++) {
      TS_CHECK(ts_dataset_per_class(&mem, 7 - 3 * cut, 11, &err) == TS_OK &&
               ts_dataset_per_class(&st, 7 - 3 * cut, 11, &err) == TS_OK);
      TS_CHECK(st.count == 3 * (7 - 3 * cut) && mem.count == st.count && st.stream_index);
      TsLoaderConfig pc = {.batch = 4, .shuffle = 1, .seed = 5, .workers = workers, .prefetch = 2};
      TsLoader *a, *b;
      TS_CHECK(ts_loader_new(&mem, &pc, &a, &err) == TS_OK && ts_loader_new(&st, &pc, &b, &err) == TS_OK);
      TS_CHECK(ts_loader_begin_epoch(a, 0, 0, &err) == TS_OK && ts_loader_begin_epoch(b, 0, 0, &err) == TS_OK);
      const TsBatch *x, *y;
      int same = 1;
      while ((x = ts_loader_next(a))) {
        y = ts_loader_next(b);
        same &= y && x->n == y->n && memcmp(x->x, y->x, sizeof(float) * 12 * (size_t)x->n) == 0 &&
                memcmp(x->t, y->t, sizeof(float) * 2 * (size_t)x->n) == 0 &&
                memcmp(x->y, y->y, sizeof(int32_t) * (size_t)x->n) == 0;
      }
      TS_CHECK(same && !ts_loader_next(b));
      ts_loader_free(a);
      ts_loader_free(b);
    }
    /* a picture that fails: the epoch ends there, with its message */
    free(st.stream_index);
    st.stream_index = NULL;
    free(st.targets);
    st.targets = NULL;
    st.count = N;
    fs.fail_at = 20;
    TsLoader *b;
    TS_CHECK(ts_loader_new(&st, &lc, &b, &err) == TS_OK && ts_loader_begin_epoch(b, 0, 0, &err) == TS_OK);
    int got = 0;
    while (ts_loader_next(b)) got++;
    TsError e2 = {0};
    TS_CHECK(got < 5 && ts_loader_status(b, &e2) == TS_ERR_IO && strstr(e2.message, "picture 20"));
    ts_loader_free(b);
    TS_CHECK(fs.workers_made >= 1);
    st.stream = NULL; /* on the stack */
    ts_dataset_clear(&st);
    ts_dataset_clear(&mem);
  }
}

int main(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/ts-test-data-XXXXXX");
  if (!mkdtemp(tmpdir)) return 1;
  TS_RUN(test_idx);
  TS_RUN(test_cifar);
  TS_RUN(test_loader);
  TS_RUN(test_resize);
  TS_RUN(test_folder);
  TS_RUN(test_label_cache);
  TS_RUN(test_fashion_mnist);
  TS_RUN(test_per_class);
  TS_RUN(test_stream);
  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return ts_test_finish();
}
