/* cifar.c — CIFAR-10/100 binary batches (see cifar.h). */
#include "image/cifar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/codec.h"

enum { CIFAR_SIDE = 32, CIFAR_PIXELS = 32 * 32 * 3 };

void ts_image_set_clear(TsImageSet *set) {
  free(set->pixels);
  free(set->labels);
  memset(set, 0, sizeof *set);
}

TsImage ts_image_set_get(const TsImageSet *set, size_t i) {
  size_t per = (size_t)set->width * (size_t)set->height * (size_t)set->channels;
  TsImage img = {set->width, set->height, set->channels, set->pixels + i * per};
  return img;
}

static size_t record_size(TsCifarKind k) { return k == TS_CIFAR_10 ? 1 + CIFAR_PIXELS : 2 + CIFAR_PIXELS; }

TsStatus ts_cifar_decode(const uint8_t *data, size_t n, const char *name, TsCifarKind kind, size_t max_count,
                         TsImageSet *set, TsError *err) {
  memset(set, 0, sizeof *set);
  if (kind == TS_CIFAR_AUTO) {
    int is10 = n > 0 && n % record_size(TS_CIFAR_10) == 0;
    int is100 = n > 0 && n % record_size(TS_CIFAR_100_FINE) == 0;
    if (is10 == is100)
      return ts_error_set(err, TS_ERR_FORMAT,
                          "cannot read '%s': %zu bytes is not a whole number of CIFAR-10 (3073-byte) or "
                          "CIFAR-100 (3074-byte) records",
                          name, n);
    kind = is10 ? TS_CIFAR_10 : TS_CIFAR_100_FINE;
  }
  if (kind != TS_CIFAR_10 && kind != TS_CIFAR_100_FINE && kind != TS_CIFAR_100_COARSE)
    return ts_error_set(err, TS_ERR_INVALID, "cannot read '%s': unknown CIFAR kind %d", name, (int)kind);
  size_t rec = record_size(kind);
  if (n == 0 || n % rec != 0)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': %zu bytes is not a whole number of %zu-byte records",
                        name, n, rec);
  size_t count = n / rec;
  if (max_count > 0 && count > max_count) count = max_count;
  int n_classes = kind == TS_CIFAR_10 ? 10 : kind == TS_CIFAR_100_FINE ? 100 : 20;
  int label_at = kind == TS_CIFAR_100_FINE ? 1 : 0;
  uint8_t *px = ts_alloc_array(count, CIFAR_PIXELS, "CIFAR pictures", err);
  int32_t *lab = ts_alloc_array(count, sizeof *lab, "CIFAR labels", err);
  if (!px || !lab) {
    free(px);
    free(lab);
    return TS_ERR_NOMEM;
  }
  for (size_t i = 0; i < count; i++) {
    const uint8_t *r = data + i * rec;
    if (r[label_at] >= n_classes) {
      free(px);
      free(lab);
      return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': record %zu has label %d (expected 0..%d)", name, i,
                          r[label_at], n_classes - 1);
    }
    lab[i] = r[label_at];
    const uint8_t *planes = r + (kind == TS_CIFAR_10 ? 1 : 2);
    uint8_t *o = px + i * CIFAR_PIXELS;
    /* CHW planes to HWC */
    for (int p = 0; p < CIFAR_SIDE * CIFAR_SIDE; p++)
      for (int c = 0; c < 3; c++) o[p * 3 + c] = planes[c * CIFAR_SIDE * CIFAR_SIDE + p];
  }
  set->count = count;
  set->width = set->height = CIFAR_SIDE;
  set->channels = 3;
  set->pixels = px;
  set->labels = lab;
  set->n_classes = n_classes;
  return TS_OK;
}

TsStatus ts_cifar_read(const char *path, TsCifarKind kind, size_t max_count, TsImageSet *set, TsError *err) {
  memset(set, 0, sizeof *set);
  uint8_t *data;
  size_t n;
  TsStatus s = ts_file_read(path, (size_t)4 << 30, &data, &n, err);
  if (s) return s;
  s = ts_cifar_decode(data, n, path, kind, max_count, set, err);
  free(data);
  return s;
}

TsStatus ts_cifar_read_files(const char *const *paths, size_t npaths, TsCifarKind kind, size_t max_count,
                             TsImageSet *set, TsError *err) {
  memset(set, 0, sizeof *set);
  for (size_t f = 0; f < npaths; f++) {
    size_t left = max_count ? max_count - set->count : 0;
    if (max_count && left == 0) break;
    TsImageSet one;
    TsStatus s = ts_cifar_read(paths[f], kind, left, &one, err);
    if (s) {
      ts_image_set_clear(set);
      return s;
    }
    if (set->count == 0) {
      *set = one;
      continue;
    }
    if (one.n_classes != set->n_classes) {
      ts_image_set_clear(&one);
      ts_image_set_clear(set);
      return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': a different CIFAR kind from the files before it",
                          paths[f]);
    }
    size_t total = set->count + one.count;
    uint8_t *px = realloc(set->pixels, total * CIFAR_PIXELS);
    if (px) set->pixels = px;
    int32_t *lab = px ? realloc(set->labels, total * sizeof *lab) : NULL;
    if (lab) set->labels = lab;
    if (!px || !lab) {
      ts_image_set_clear(&one);
      ts_image_set_clear(set);
      return ts_error_set(err, TS_ERR_NOMEM, "cannot read '%s': out of memory", paths[f]);
    }
    memcpy(set->pixels + set->count * CIFAR_PIXELS, one.pixels, one.count * CIFAR_PIXELS);
    memcpy(set->labels + set->count, one.labels, one.count * sizeof *lab);
    set->count = total;
    ts_image_set_clear(&one);
  }
  return TS_OK;
}

static int is_file(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

TsStatus ts_cifar_read_dir(const char *dir, int test, TsCifarKind kind, size_t max_count, TsImageSet *set,
                           TsError *err) {
  memset(set, 0, sizeof *set);
  static const char *const subs[] = {"", "/cifar-10-batches-bin", "/cifar-100-binary"};
  char base[4096], paths[5][4200];
  int found = 0; /* 10 or 100 */
  for (size_t s = 0; s < sizeof subs / sizeof *subs && !found; s++) {
    snprintf(base, sizeof base, "%s%s", dir, subs[s]);
    snprintf(paths[0], sizeof paths[0], "%s/data_batch_1.bin", base);
    if (is_file(paths[0])) found = 10;
    snprintf(paths[0], sizeof paths[0], "%s/train.bin", base);
    if (!found && is_file(paths[0])) found = 100;
  }
  if (!found)
    return ts_error_set(err, TS_ERR_IO, "cannot find CIFAR-10 (data_batch_1.bin) or CIFAR-100 (train.bin) batches in '%s'",
                        dir);
  if (kind == TS_CIFAR_AUTO) kind = found == 10 ? TS_CIFAR_10 : TS_CIFAR_100_FINE;
  if ((kind == TS_CIFAR_10) != (found == 10))
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': it holds CIFAR-%d batches, not CIFAR-%d", base, found,
                        found == 10 ? 100 : 10);
  size_t npaths = 1;
  if (found == 10 && !test) {
    for (npaths = 1; npaths < 5; npaths++) {
      snprintf(paths[npaths], sizeof paths[npaths], "%s/data_batch_%zu.bin", base, npaths + 1);
      if (!is_file(paths[npaths])) break;
    }
    snprintf(paths[0], sizeof paths[0], "%s/data_batch_1.bin", base);
  } else {
    snprintf(paths[0], sizeof paths[0], "%s/%s", base,
             found == 10 ? "test_batch.bin" : test ? "test.bin" : "train.bin");
  }
  const char *names[5];
  for (size_t i = 0; i < npaths; i++) names[i] = paths[i];
  return ts_cifar_read_files(names, npaths, kind, max_count, set, err);
}

TsStatus ts_cifar_encode(const TsImageSet *set, TsCifarKind kind, uint8_t **out, size_t *n, TsError *err) {
  *out = NULL;
  *n = 0;
  if (kind == TS_CIFAR_AUTO) kind = TS_CIFAR_10;
  if (set->width != CIFAR_SIDE || set->height != CIFAR_SIDE || set->channels != 3 || !set->labels)
    return ts_error_set(err, TS_ERR_INVALID, "CIFAR batches hold labelled 32 x 32 x 3 pictures");
  size_t rec = record_size(kind);
  uint8_t *buf = ts_alloc_array(set->count, rec, "CIFAR batch", err);
  if (!buf) return TS_ERR_NOMEM;
  for (size_t i = 0; i < set->count; i++) {
    uint8_t *r = buf + i * rec;
    int32_t l = set->labels[i];
    if (l < 0 || l > 255) {
      free(buf);
      return ts_error_set(err, TS_ERR_INVALID, "label %d of picture %zu does not fit a byte", (int)l, i);
    }
    if (kind == TS_CIFAR_10) r[0] = (uint8_t)l;
    else {
      r[0] = kind == TS_CIFAR_100_COARSE ? (uint8_t)l : 0;
      r[1] = kind == TS_CIFAR_100_FINE ? (uint8_t)l : 0;
    }
    uint8_t *planes = r + (kind == TS_CIFAR_10 ? 1 : 2);
    const uint8_t *p = set->pixels + i * CIFAR_PIXELS;
    for (int k = 0; k < CIFAR_SIDE * CIFAR_SIDE; k++)
      for (int c = 0; c < 3; c++) planes[c * CIFAR_SIDE * CIFAR_SIDE + k] = p[k * 3 + c];
  }
  *out = buf;
  *n = set->count * rec;
  return TS_OK;
}
