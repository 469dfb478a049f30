/* idx.h — IDX files (the MNIST / FashionMNIST container), plain or gzipped.
 *
 * An IDX file is a 4-byte magic (0, 0, type, ndim), ndim big-endian uint32
 * sizes, then the data in C order. Only unsigned bytes (type 0x08) are read:
 * that is what every image and label file of the MNIST family holds. The
 * reader checks the magic, the sizes (no overflow, nothing absurd) and that
 * the data is complete, and names the file in every error. Files ending in
 * .gz are inflated with zlib (plain files are read through the same path). */
#ifndef TS_DATA_IDX_H
#define TS_DATA_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define TS_IDX_MAX_DIMS 4

typedef struct TsIdx {
  int ndim;
  uint32_t dims[TS_IDX_MAX_DIMS];
  uint8_t *data; /* owned: product of dims bytes */
  size_t size;
} TsIdx;

TsStatus ts_idx_read(const char *path, TsIdx *out, TsError *err);
void ts_idx_clear(TsIdx *idx);
/* Writes an uncompressed IDX file of unsigned bytes (tests, small exports). */
TsStatus ts_idx_write(const char *path, int ndim, const uint32_t *dims, const uint8_t *data, TsError *err);

#endif
