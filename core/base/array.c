#include "base/array.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t ts_dtype_size(TsDType t) {
  switch (t) {
  case TS_U8: return 1;
  case TS_U16: return 2;
  case TS_F32: return 4;
  case TS_F64: return 8;
  }
  return 0;
}

const char *ts_dtype_name(TsDType t) {
  switch (t) {
  case TS_U8: return "uint8";
  case TS_U16: return "uint16";
  case TS_F32: return "float32";
  case TS_F64: return "float64";
  }
  return "?";
}

size_t ts_array_count(const TsArray *a) {
  size_t n = 1;
  for (int i = 0; i < a->ndim; i++) n *= a->shape[i];
  return n;
}

TsStatus ts_array_alloc(TsArray *a, int ndim, const size_t *shape, TsDType dtype, TsError *err) {
  memset(a, 0, sizeof *a);
  if (ndim < 0 || ndim > TS_ARRAY_MAX_DIMS)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "%d-dimensional arrays are not supported (at most %d)", ndim,
                        TS_ARRAY_MAX_DIMS);
  size_t n = 1;
  for (int i = 0; i < ndim; i++) {
    if (ts_mul_size(n, shape[i], &n) != 0)
      return ts_error_set(err, TS_ERR_NOMEM, "array shape overflows the address space");
    a->shape[i] = shape[i];
  }
  a->data = ts_calloc_array(n, ts_dtype_size(dtype), "array", err);
  if (!a->data) return TS_ERR_NOMEM;
  a->ndim = ndim;
  a->dtype = dtype;
  return TS_OK;
}

void ts_array_clear(TsArray *a) {
  free(a->data);
  memset(a, 0, sizeof *a);
}

TsStatus ts_array_to_f64(const TsArray *a, double **out, TsError *err) {
  size_t n = ts_array_count(a);
  double *v = ts_alloc_array(n, sizeof *v, "array", err);
  if (!v) return TS_ERR_NOMEM;
  for (size_t i = 0; i < n; i++) {
    switch (a->dtype) {
    case TS_U8: v[i] = ((const uint8_t *)a->data)[i]; break;
    case TS_U16: v[i] = ((const uint16_t *)a->data)[i]; break;
    case TS_F32: v[i] = ((const float *)a->data)[i]; break;
    case TS_F64: v[i] = ((const double *)a->data)[i]; break;
    }
    if (isnan(v[i])) {
      free(v);
      return ts_error_set(err, TS_ERR_INVALID, "value at flat index %zu is NaN", i);
    }
  }
  *out = v;
  return TS_OK;
}
