/* CIFAR-10/100 binary batches: fixed-size records, label byte(s) then
 * 32x32 R, G, B planes (already the CHW layout the network takes). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/dataset.h"

#define CIFAR_PIXELS 3072

static const char *const cifar10_names[] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                            "dog",      "frog",       "horse", "ship", "truck"};

static int file_exists(const char *p) {
  struct stat sb;
  return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

TsStatus ts_dataset_append_cifar_file(const char *path, int label_bytes, TsDataset *ds, TsError *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return ts_error_errno(err, errno, "cannot open '%s'", path);
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0) {
    fclose(f);
    return ts_error_errno(err, errno, "cannot stat '%s'", path);
  }
  size_t rec = (size_t)label_bytes + CIFAR_PIXELS, size = (size_t)sb.st_size;
  if (size == 0 || size % rec != 0) {
    fclose(f);
    return ts_error_set(err, TS_ERR_FORMAT, "'%s': %zu bytes is not a whole number of %zu-byte CIFAR records", path,
                        size, rec);
  }
  size_t n = size / rec, old = (size_t)ds->count;
  uint8_t *px = realloc(ds->pixels, (old + n) * CIFAR_PIXELS);
  if (px) ds->pixels = px;
  int32_t *lb = px ? realloc(ds->labels, (old + n) * sizeof(int32_t)) : NULL;
  if (lb) ds->labels = lb;
  if (!px || !lb) {
    fclose(f);
    return ts_error_set(err, TS_ERR_NOMEM, "'%s': out of memory for %zu images", path, old + n);
  }
  uint8_t head[2];
  for (size_t i = 0; i < n; i++) {
    if (fread(head, 1, (size_t)label_bytes, f) != (size_t)label_bytes ||
        fread(ds->pixels + (old + i) * CIFAR_PIXELS, 1, CIFAR_PIXELS, f) != CIFAR_PIXELS) {
      fclose(f);
      return ts_error_set(err, TS_ERR_IO, "'%s': read failed at record %zu", path, i);
    }
    ds->labels[old + i] = head[label_bytes - 1];
  }
  fclose(f);
  ds->count = (int64_t)(old + n);
  return TS_OK;
}

TsStatus ts_dataset_load_cifar(const char *dir, TsSplit split, TsDataset *ds, TsError *err) {
  memset(ds, 0, sizeof *ds);
  /* The folder as unpacked from the archive, or the folder holding it. */
  const char *subs[] = {"", "/cifar-10-batches-bin", "/cifar-100-binary"};
  char base[4200], path[4300];
  int kind = 0; /* 10 or 100 */
  for (size_t s = 0; s < 3 && !kind; s++) {
    snprintf(base, sizeof base, "%s%s", dir, subs[s]);
    snprintf(path, sizeof path, "%s/data_batch_1.bin", base);
    if (file_exists(path)) kind = 10;
    snprintf(path, sizeof path, "%s/train.bin", base);
    if (!kind && file_exists(path)) kind = 100;
  }
  if (!kind)
    return ts_error_set(err, TS_ERR_IO, "'%s': no CIFAR-10 (data_batch_1.bin) or CIFAR-100 (train.bin) batches", dir);
  ds->channels = 3;
  ds->height = ds->width = 32;
  ds->num_classes = kind;
  TsStatus st = TS_OK;
  if (kind == 10 && split == TS_SPLIT_TRAIN) {
    for (int b = 1; b <= 5 && st == TS_OK; b++) {
      snprintf(path, sizeof path, "%s/data_batch_%d.bin", base, b);
      if (b > 1 && !file_exists(path)) break; /* a partial copy: use what is there */
      st = ts_dataset_append_cifar_file(path, 1, ds, err);
    }
  } else {
    snprintf(path, sizeof path, "%s/%s", base,
             kind == 10 ? "test_batch.bin" : (split == TS_SPLIT_TRAIN ? "train.bin" : "test.bin"));
    st = ts_dataset_append_cifar_file(path, kind == 10 ? 1 : 2, ds, err);
  }
  if (st == TS_OK && kind == 10) {
    ds->class_names = calloc(10, sizeof(char *));
    for (int i = 0; ds->class_names && i < 10; i++) ds->class_names[i] = strdup(cifar10_names[i]);
    if (!ds->class_names) st = ts_error_set(err, TS_ERR_NOMEM, "class names");
  }
  if (st == TS_OK && snprintf(ds->source, sizeof ds->source, "cifar%d:%s (%s)", kind, base,
                               split == TS_SPLIT_TRAIN ? "train" : "test") >= (int)sizeof ds->source)
    ds->source[sizeof ds->source - 1] = '\0'; /* a long path: keep its start */
  if (st != TS_OK) ts_dataset_clear(ds);
  return st;
}
