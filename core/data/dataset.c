#include "data/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/rng.h"
#include "image/cifar.h"
#include "image/idx.h"

static const char *const fashion_names[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

TsStatus ts_dataset_alloc(TsDataset *ds, int64_t count, int channels, int height, int width, int num_classes,
                          TsError *err) {
  memset(ds, 0, sizeof *ds);
  if (count < 0 || channels < 1 || height < 1 || width < 1 || num_classes < 1)
    return ts_error_set(err, TS_ERR_INVALID, "dataset of %lld x %d x %d x %d with %d classes", (long long)count,
                        channels, height, width, num_classes);
  size_t per = (size_t)channels * (size_t)height * (size_t)width, total;
  if (ts_mul_size(per, (size_t)count, &total) != 0)
    return ts_error_set(err, TS_ERR_NOMEM, "dataset of %lld samples is too large", (long long)count);
  ds->pixels = ts_calloc_array(total ? total : 1, 1, "dataset pixels", err);
  ds->labels = ts_calloc_array(count ? (size_t)count : 1, sizeof(int32_t), "dataset labels", err);
  if (!ds->pixels || !ds->labels) {
    ts_dataset_clear(ds);
    return TS_ERR_NOMEM;
  }
  ds->count = count;
  ds->channels = channels;
  ds->height = height;
  ds->width = width;
  ds->num_classes = num_classes;
  return TS_OK;
}

void ts_dataset_clear(TsDataset *ds) {
  if (!ds) return;
  free(ds->pixels);
  free(ds->labels);
  free(ds->targets);
  free(ds->label_params);
  free(ds->stream_index);
  if (ds->stream) {
    if (ds->stream->free) ds->stream->free(ds->stream->user);
    free(ds->stream);
  }
  if (ds->class_names) {
    for (int i = 0; i < ds->num_classes; i++) free(ds->class_names[i]);
    free(ds->class_names);
  }
  memset(ds, 0, sizeof *ds);
}

void ts_dataset_truncate(TsDataset *ds, int64_t n) {
  if (n >= 0 && n < ds->count) ds->count = n;
}

TsStatus ts_dataset_fetch(const TsDataset *ds, void *worker, int64_t epoch, int64_t i, uint8_t *pixels, float *target,
                          TsError *err) {
  size_t px = (size_t)ds->channels * (size_t)ds->height * (size_t)ds->width;
  if (ds->pixels) memcpy(pixels, ts_dataset_sample(ds, i), px);
  int need_target = target && ds->target_dims > 0;
  if (need_target && ds->targets) {
    memcpy(target, ds->targets + (size_t)i * (size_t)ds->target_dims, sizeof(float) * (size_t)ds->target_dims);
    need_target = 0;
  }
  if (!ds->pixels || need_target) {
    if (!ds->stream) return ts_error_set(err, TS_ERR_INTERNAL, "%s: no pixels and no stream", ds->source);
    return ds->stream->fetch(ds->stream->user, worker, epoch, ds->stream_index ? ds->stream_index[i] : i, pixels,
                             need_target ? target : NULL, err);
  }
  return TS_OK;
}

TsStatus ts_dataset_per_class(TsDataset *ds, int64_t n, uint64_t seed, TsError *err) {
  int nc = ds->num_classes;
  int64_t *count = ts_calloc_array((size_t)nc, sizeof(int64_t), "class counts", err);
  if (!count) return TS_ERR_NOMEM;
  for (int64_t i = 0; i < ds->count; i++) count[ds->labels[i]]++;
  /* Classes with no sample at all (an IDX file's num_classes is at least
   * 10) are not classes of this set. */
  for (int c = 0; c < nc; c++)
    if (count[c] && count[c] < n) {
      TsStatus s = ts_error_set(err, TS_ERR_INVALID, "%s: --per-class %lld, but class %d%s%s%s has %lld images",
                                ds->source, (long long)n, c, ds->class_names ? " ('" : "",
                                ds->class_names ? ds->class_names[c] : "", ds->class_names ? "')" : "",
                                (long long)count[c]);
      free(count);
      return s;
    }
  /* Indices by class (a counting sort keeps each class in dataset order). */
  int64_t *start = ts_calloc_array((size_t)nc + 1, sizeof(int64_t), "class offsets", err);
  int64_t *idx = ts_alloc_array(ds->count ? (size_t)ds->count : 1, sizeof(int64_t), "subset", err);
  uint8_t *keep = ts_calloc_array(ds->count ? (size_t)ds->count : 1, 1, "subset", err);
  /* A streamed set keeps its pictures where they are: the subset is a map
   * from the new sample numbers to the stream's. */
  int64_t *map = ds->pixels ? NULL : ts_alloc_array(ds->count ? (size_t)ds->count : 1, sizeof(int64_t), "subset", err);
  TsStatus s = start && idx && keep && (ds->pixels || map) ? TS_OK : TS_ERR_NOMEM;
  if (!s) {
    for (int c = 0; c < nc; c++) start[c + 1] = start[c] + count[c];
    memset(count, 0, sizeof(int64_t) * (size_t)nc);
    for (int64_t i = 0; i < ds->count; i++) idx[start[ds->labels[i]] + count[ds->labels[i]]++] = i;
    for (int c = 0; c < nc; c++) {
      int64_t *v = idx + start[c], m = start[c + 1] - start[c];
      TsRng r;
      ts_rng_init(&r, seed, (uint64_t)c);
      for (int64_t k = 0; k < n && k < m; k++) { /* partial Fisher-Yates: the first n of a uniform shuffle */
        int64_t j = k + (int64_t)ts_rng_below(&r, (uint64_t)(m - k)), tmp = v[k];
        v[k] = v[j];
        v[j] = tmp;
        keep[v[k]] = 1;
      }
    }
    size_t px = (size_t)ds->channels * (size_t)ds->height * (size_t)ds->width, nd = (size_t)ds->target_dims;
    int64_t o = 0;
    for (int64_t i = 0; i < ds->count; i++) {
      if (!keep[i]) continue;
      if (map) map[o] = ds->stream_index ? ds->stream_index[i] : i;
      if (o != i) {
        if (ds->pixels) memmove(ds->pixels + (size_t)o * px, ds->pixels + (size_t)i * px, px);
        ds->labels[o] = ds->labels[i];
        if (ds->targets) memmove(ds->targets + (size_t)o * nd, ds->targets + (size_t)i * nd, nd * sizeof(float));
      }
      o++;
    }
    ds->count = o;
    if (map) {
      free(ds->stream_index);
      ds->stream_index = map;
      map = NULL;
    }
  }
  free(map);
  free(count);
  free(start);
  free(idx);
  free(keep);
  return s;
}

TsStatus ts_dataset_validate(const TsDataset *ds, TsError *err) {
  if (ds->targets)
    for (size_t i = 0; i < (size_t)ds->count * (size_t)ds->target_dims; i++)
      if (!isfinite(ds->targets[i]))
        return ts_error_set(err, TS_ERR_FORMAT, "%s: sample %zu has a non-finite target", ds->source,
                            i / (size_t)ds->target_dims);
  for (int64_t i = 0; i < ds->count; i++)
    if (ds->labels[i] < 0 || ds->labels[i] >= ds->num_classes)
      return ts_error_set(err, TS_ERR_FORMAT, "%s: sample %lld has label %d, outside [0, %d)", ds->source,
                          (long long)i, ds->labels[i], ds->num_classes);
  return TS_OK;
}

static TsStatus set_names(TsDataset *ds, const char *const *names, int n, TsError *err) {
  ds->class_names = ts_calloc_array((size_t)n, sizeof(char *), "class names", err);
  if (!ds->class_names) return TS_ERR_NOMEM;
  for (int i = 0; i < n; i++)
    if (!(ds->class_names[i] = strdup(names[i]))) return ts_error_set(err, TS_ERR_NOMEM, "class names");
  return TS_OK;
}

/* Takes over a TsImageSet's arrays (labels are int32 in both): the HWC
 * pictures turn CHW in place, so a CIFAR training set (150 MB) is never held
 * twice. num_classes is at least min_classes (a small IDX file whose labels
 * stop short of 9 is still a 10-class set). */
static TsStatus take_image_set(TsImageSet *set, int min_classes, TsDataset *ds, TsError *err) {
  size_t hw = (size_t)set->height * (size_t)set->width, c = (size_t)set->channels;
  if (c > 1) {
    uint8_t *tmp = ts_alloc_array(hw, c, "picture", err);
    if (!tmp) {
      ts_image_set_clear(set);
      return TS_ERR_NOMEM;
    }
    for (size_t n = 0; n < set->count; n++) {
      uint8_t *px = set->pixels + n * hw * c;
      memcpy(tmp, px, hw * c);
      for (size_t p = 0; p < hw; p++)
        for (size_t k = 0; k < c; k++) px[k * hw + p] = tmp[p * c + k];
    }
    free(tmp);
  }
  memset(ds, 0, sizeof *ds);
  ds->count = (int64_t)set->count;
  ds->channels = set->channels;
  ds->height = set->height;
  ds->width = set->width;
  ds->num_classes = set->n_classes < min_classes ? min_classes : set->n_classes;
  ds->pixels = set->pixels;
  ds->labels = set->labels;
  memset(set, 0, sizeof *set);
  return TS_OK;
}

TsStatus ts_dataset_load_idx(const char *images_path, const char *labels_path, TsDataset *ds, TsError *err) {
  memset(ds, 0, sizeof *ds);
  TsImageSet set;
  TsStatus st = ts_idx_read_set(images_path, labels_path, 0, &set, err);
  if (st == TS_OK) st = take_image_set(&set, 10, ds, err);
  if (st == TS_OK) snprintf(ds->source, sizeof ds->source, "%s", images_path);
  return st;
}

static const char *const cifar10_names[] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                            "dog",      "frog",       "horse", "ship", "truck"};

TsStatus ts_dataset_load_cifar(const char *dir, TsSplit split, TsDataset *ds, TsError *err) {
  memset(ds, 0, sizeof *ds);
  TsImageSet set;
  TsStatus st = ts_cifar_read_dir(dir, split == TS_SPLIT_TEST, TS_CIFAR_AUTO, 0, &set, err);
  if (st == TS_OK) st = take_image_set(&set, 1, ds, err);
  if (st == TS_OK && ds->num_classes == 10) st = set_names(ds, cifar10_names, 10, err);
  if (st == TS_OK && snprintf(ds->source, sizeof ds->source, "cifar%d:%s (%s)", ds->num_classes, dir,
                              split == TS_SPLIT_TRAIN ? "train" : "test") >= (int)sizeof ds->source)
    ds->source[sizeof ds->source - 1] = '\0'; /* a long path: keep its start */
  if (st != TS_OK) ts_dataset_clear(ds);
  return st;
}

static int dir_exists(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static TsStatus open_fashion(const char *dir, TsSplit split, TsDataset *ds, TsError *err) {
  memset(ds, 0, sizeof *ds);
  TsImageSet set;
  TsStatus st = ts_idx_read_dir(dir, split == TS_SPLIT_TEST, 0, &set, err);
  if (st == TS_ERR_IO) ts_error_prefix(err, "FashionMNIST (Debian: apt install dataset-fashion-mnist)");
  if (st == TS_OK) st = take_image_set(&set, 10, ds, err);
  if (st == TS_OK && ds->num_classes == 10) st = set_names(ds, fashion_names, 10, err);
  if (st == TS_OK)
    snprintf(ds->source, sizeof ds->source, "fashion-mnist:%s (%s)", dir, split == TS_SPLIT_TRAIN ? "train" : "t10k");
  if (st != TS_OK) ts_dataset_clear(ds);
  return st;
}

/* folder:DIR with DIR/train and DIR/val|test: the split's folder, else NULL. */
static int folder_split(const char *dir, TsSplit split, char *out, size_t n) {
  snprintf(out, n, "%s/train", dir);
  if (!dir_exists(out)) {
    if (split == TS_SPLIT_TRAIN) {
      snprintf(out, n, "%s", dir);
      return 1;
    }
    return 0;
  }
  if (split == TS_SPLIT_TRAIN) return 1;
  snprintf(out, n, "%s/val", dir);
  if (dir_exists(out)) return 1;
  snprintf(out, n, "%s/test", dir);
  return dir_exists(out);
}

int ts_dataset_has_split(const char *spec, TsSplit split) {
  if (split == TS_SPLIT_TRAIN) return 1;
  if (strncmp(spec, "folder:", 7) == 0) {
    char p[4200];
    return folder_split(spec + 7, split, p, sizeof p);
  }
  return strncmp(spec, "idx:", 4) != 0 && strncmp(spec, "labels:", 7) != 0;
}

TsStatus ts_dataset_open(const char *spec, TsSplit split, const TsDatasetOptions *opts, TsDataset *ds,
                         TsError *err) {
  memset(ds, 0, sizeof *ds);
  TsStatus st;
  if (strcmp(spec, "fashion-mnist") == 0) {
    st = open_fashion(TS_FASHION_MNIST_DIR, split, ds, err);
  } else if (strncmp(spec, "fashion-mnist:", 14) == 0) {
    st = open_fashion(spec + 14, split, ds, err);
  } else if (strncmp(spec, "cifar:", 6) == 0) {
    st = ts_dataset_load_cifar(spec + 6, split, ds, err);
  } else if (strncmp(spec, "idx:", 4) == 0) {
    if (split != TS_SPLIT_TRAIN)
      return ts_error_set(err, TS_ERR_INVALID, "'%s' has no test split: give --val idx:IMAGES,LABELS", spec);
    const char *comma = strchr(spec + 4, ',');
    if (!comma) return ts_error_set(err, TS_ERR_INVALID, "'%s': expected idx:IMAGES,LABELS", spec);
    char images[4096];
    size_t n = (size_t)(comma - (spec + 4));
    if (n >= sizeof images) return ts_error_set(err, TS_ERR_INVALID, "'%s': path too long", spec);
    memcpy(images, spec + 4, n);
    images[n] = '\0';
    st = ts_dataset_load_idx(images, comma + 1, ds, err);
  } else if (strncmp(spec, "generate:", 9) == 0) {
    st = ts_dataset_open_generate(spec + 9, split, ds, err);
  } else if (strncmp(spec, "labels:", 7) == 0) {
    if (split != TS_SPLIT_TRAIN)
      return ts_error_set(err, TS_ERR_INVALID, "'%s' has no test split: give --val labels:DIR,CACHE", spec);
    const char *comma = strrchr(spec + 7, ',');
    if (!comma) return ts_error_set(err, TS_ERR_INVALID, "'%s': expected labels:DIR,CACHE", spec);
    char dir[4096];
    size_t n = (size_t)(comma - (spec + 7));
    if (n >= sizeof dir) return ts_error_set(err, TS_ERR_INVALID, "'%s': path too long", spec);
    memcpy(dir, spec + 7, n);
    dir[n] = '\0';
    st = ts_dataset_load_label_cache(dir, comma + 1, opts, ds, err);
  } else if (strncmp(spec, "folder:", 7) == 0) {
    char dir[4200];
    if (!folder_split(spec + 7, split, dir, sizeof dir))
      return ts_error_set(err, TS_ERR_INVALID, "'%s' has no val/ or test/ folder beside train/: give --val", spec);
    st = ts_dataset_load_folder(dir, opts, ds, err);
  } else {
    return ts_error_set(err, TS_ERR_INVALID,
                        "unknown dataset '%s' (expected fashion-mnist, fashion-mnist:DIR, idx:IMAGES,LABELS, "
                        "cifar:DIR, folder:DIR, labels:DIR,CACHE or generate:SIZE)",
                        spec);
  }
  if (st == TS_OK) st = ts_dataset_validate(ds, err);
  if (st != TS_OK) ts_dataset_clear(ds);
  return st;
}
