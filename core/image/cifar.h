/* cifar.h — CIFAR-10 and CIFAR-100 binary batches as datasets.
 *
 * CIFAR-10 records are 1 label byte + 3072 bytes (R, G, B planes of 32x32);
 * CIFAR-100 records are 2 label bytes (coarse, fine) + 3072. Pictures come
 * out as 32 x 32 x 3 HWC.
 *
 *   TsImageSet s;
 *   ts_cifar_read("cifar-10-batches-bin/data_batch_1.bin", TS_CIFAR_AUTO, 0, &s, &err);
 *
 * ts_cifar_read_files concatenates several batches (data_batch_1..5);
 * ts_cifar_read_dir finds them in a folder as the archives unpack. */
#ifndef TS_IMAGE_CIFAR_H
#define TS_IMAGE_CIFAR_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "image/imageset.h"

typedef enum TsCifarKind {
  TS_CIFAR_AUTO = 0,     /* from the file size: a multiple of 3073 or of 3074 */
  TS_CIFAR_10,           /* 10 classes */
  TS_CIFAR_100_FINE,     /* 100 fine classes */
  TS_CIFAR_100_COARSE    /* 20 coarse classes */
} TsCifarKind;

/* AUTO reads a CIFAR-100 file with its fine labels. max_count > 0 keeps the
 * first max_count records. Labels out of range are a format error. */
TsStatus ts_cifar_read(const char *path, TsCifarKind kind, size_t max_count, TsImageSet *set, TsError *err);
TsStatus ts_cifar_read_files(const char *const *paths, size_t npaths, TsCifarKind kind, size_t max_count,
                             TsImageSet *set, TsError *err);
/* The batches of a dataset folder as the archives unpack them: DIR, or
 * DIR/cifar-10-batches-bin or DIR/cifar-100-binary, holding CIFAR-10's
 * data_batch_1..5.bin (those present from 1 on: a partial copy reads) and
 * test_batch.bin, or CIFAR-100's train.bin and test.bin; test 1 reads the
 * test batch. kind AUTO takes what the folder holds (CIFAR-100 with fine
 * labels); another kind must match it (TS_CIFAR_100_COARSE for the 20 coarse
 * labels). A folder with neither is TS_ERR_IO. */
TsStatus ts_cifar_read_dir(const char *dir, int test, TsCifarKind kind, size_t max_count, TsImageSet *set,
                           TsError *err);
TsStatus ts_cifar_decode(const uint8_t *data, size_t n, const char *name, TsCifarKind kind, size_t max_count,
                         TsImageSet *set, TsError *err);
/* Writes a set of 32 x 32 x 3 pictures as a batch (for tests and exports). */
TsStatus ts_cifar_encode(const TsImageSet *set, TsCifarKind kind, uint8_t **out, size_t *n, TsError *err);

#endif
