/* array.h — a small owned N-d array (up to 4 axes), C order.
 *
 * What the decoders hand to homology: a .npy volume, a 16-bit PNG, a
 * greyscale JPEG as H x W. shape[0] is the slowest axis. */
#ifndef TS_BASE_ARRAY_H
#define TS_BASE_ARRAY_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define TS_ARRAY_MAX_DIMS 4

typedef enum TsDType { TS_U8 = 0, TS_U16, TS_F32, TS_F64 } TsDType;

typedef struct TsArray {
  int ndim;
  size_t shape[TS_ARRAY_MAX_DIMS];
  TsDType dtype;
  void *data; /* owned; ts_array_clear frees it */
} TsArray;

size_t ts_dtype_size(TsDType t);
const char *ts_dtype_name(TsDType t);
/* Product of the shape (1 for ndim 0). */
size_t ts_array_count(const TsArray *a);
/* Allocates zeroed data for the given shape; checks the size for overflow. */
TsStatus ts_array_alloc(TsArray *a, int ndim, const size_t *shape, TsDType dtype, TsError *err);
void ts_array_clear(TsArray *a);
/* Converts every element to float64 into a malloc'd buffer (caller frees).
 * Fails with TS_ERR_INVALID naming the first index holding a NaN. */
TsStatus ts_array_to_f64(const TsArray *a, double **out, TsError *err);

#endif
