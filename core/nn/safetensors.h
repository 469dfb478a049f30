/* safetensors.h — reading and writing safetensors files (checkpoints).
 *
 * The format (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length N, N bytes of JSON
 *   {"__metadata__": {"key": "value", ...},            (optional, strings only)
 *    "conv1.weight": {"dtype": "F32", "shape": [64, 3, 7, 7],
 *                     "data_offsets": [BEGIN, END]}, ...}
 * (padded with spaces to a multiple of 8), then the raw little-endian data;
 * offsets are relative to the end of the header. Tensors are named as
 * torchvision names them, so a file written here is a PyTorch state dict.
 *
 * The reader checks everything before anyone uses a byte: the header length
 * against the file size, the JSON, each dtype and shape, that each tensor's
 * byte range has exactly numel * element size bytes, lies inside the data,
 * and that the ranges tile the data with no gap or overlap (as the reference
 * implementation demands). Errors name the file and the tensor.
 *
 * The writer lays tensors out in the order they were added, writes to
 * PATH.tmp, fsyncs and renames, so an interrupted write never leaves a
 * half-written checkpoint under the real name. */
#ifndef TS_NN_SAFETENSORS_H
#define TS_NN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "nn/tensor.h"

#define TS_ST_MAX_DIMS 8

typedef enum TsStDType {
  TS_ST_F32 = 0,
  TS_ST_I64,
  TS_ST_F64,
  TS_ST_F16,
  TS_ST_BF16,
  TS_ST_I32,
  TS_ST_I16,
  TS_ST_I8,
  TS_ST_U8,
  TS_ST_BOOL
} TsStDType;

const char *ts_st_dtype_name(TsStDType t);
size_t ts_st_dtype_size(TsStDType t);

typedef struct TsStTensor {
  char *name;
  TsStDType dtype;
  int ndim;
  int64_t shape[TS_ST_MAX_DIMS];
  size_t numel;
  const uint8_t *data; /* into the file's buffer: little-endian, maybe unaligned */
  size_t nbytes;
} TsStTensor;

typedef struct TsSafetensors {
  char *path;
  TsStTensor *tensors;
  size_t n;
  char **meta_keys, **meta_values;
  size_t n_meta;
  uint8_t *buf; /* the whole file */
  size_t size;
} TsSafetensors;

TsStatus ts_safetensors_read(const char *path, TsSafetensors *st, TsError *err);
/* Parses a file already in memory (takes ownership of buf, malloc'd). */
TsStatus ts_safetensors_parse(const char *path, uint8_t *buf, size_t size, TsSafetensors *st, TsError *err);
void ts_safetensors_clear(TsSafetensors *st);
const TsStTensor *ts_safetensors_find(const TsSafetensors *st, const char *name);
/* A metadata value, or NULL. */
const char *ts_safetensors_meta(const TsSafetensors *st, const char *key);

/* Copies the file's tensor `prefix``dst->name` into dst->data, checking the
 * dtype (F32 or I64 as dst says) and the shape (a scalar [] and [1] are the
 * same). Errors name the file and the tensor. */
TsStatus ts_safetensors_load_into(const TsSafetensors *st, const char *prefix, const TsNamedTensor *dst,
                                  TsError *err);
/* Loads every tensor of dst[0..n) (all must be present). When strict, a file
 * tensor under `prefix` that matches none of dst is an error too (like
 * PyTorch's load_state_dict(strict=True)). */
TsStatus ts_safetensors_load_all(const TsSafetensors *st, const char *prefix, const TsNamedTensor *dst, size_t n,
                                 int strict, TsError *err);

/* --- writing ---------------------------------------------------------- */

typedef struct TsStWriter TsStWriter;

TsStWriter *ts_st_writer_new(TsError *err);
void ts_st_writer_free(TsStWriter *w);
/* Adds a tensor; data is NOT copied and must stay valid until write. */
TsStatus ts_st_writer_add(TsStWriter *w, const char *name, TsStDType dtype, int ndim, const int64_t *shape,
                          const void *data, TsError *err);
/* Adds each named tensor as prefix + name (prefix may be NULL). */
TsStatus ts_st_writer_add_named(TsStWriter *w, const char *prefix, const TsNamedTensor *t, size_t n, TsError *err);
TsStatus ts_st_writer_meta(TsStWriter *w, const char *key, const char *value, TsError *err);
TsStatus ts_st_writer_write(TsStWriter *w, const char *path, TsError *err);

#endif
