/* idx.c — IDX files (MNIST, FashionMNIST), raw or gzip'd (see idx.h, codec.h). */
#include "image/idx.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "image/codec.h"

/* Inflates a gzip stream fully, refusing to grow past TS_DECODE_MAX_BYTES
 * (a decompression bomb) and rejecting truncated or corrupt streams. */
static TsStatus gunzip(const uint8_t *data, size_t n, const char *name, uint8_t **out, size_t *out_n, TsError *err) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
    return ts_error_set(err, TS_ERR_NOMEM, "cannot read '%s': zlib failed to start", name);
  size_t cap = n < ((size_t)1 << 20) ? ((size_t)1 << 16) : n * 4, len = 0;
  if (cap > TS_DECODE_MAX_BYTES) cap = TS_DECODE_MAX_BYTES;
  uint8_t *buf = malloc(cap);
  if (!buf) {
    inflateEnd(&z);
    return ts_error_set(err, TS_ERR_NOMEM, "cannot read '%s': out of memory", name);
  }
  const uint8_t *in = data;
  size_t in_left = n;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    if (len == cap) {
      if (cap >= TS_DECODE_MAX_BYTES) {
        free(buf);
        inflateEnd(&z);
        return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': decompresses to more than %zu bytes", name,
                            (size_t)TS_DECODE_MAX_BYTES);
      }
      size_t ncap = cap * 2 > TS_DECODE_MAX_BYTES ? TS_DECODE_MAX_BYTES : cap * 2;
      uint8_t *nb = realloc(buf, ncap);
      if (!nb) {
        free(buf);
        inflateEnd(&z);
        return ts_error_set(err, TS_ERR_NOMEM, "cannot read '%s': out of memory", name);
      }
      buf = nb;
      cap = ncap;
    }
    uInt chunk_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
    uInt chunk_out = cap - len > UINT_MAX ? UINT_MAX : (uInt)(cap - len);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = chunk_in;
    z.next_out = buf + len;
    z.avail_out = chunk_out;
    rc = inflate(&z, Z_NO_FLUSH);
    size_t used = chunk_in - z.avail_in, made = chunk_out - z.avail_out;
    in += used;
    in_left -= used;
    len += made;
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      free(buf);
      inflateEnd(&z);
      return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': corrupt gzip data (%s)", name,
                          z.msg ? z.msg : "inflate failed");
    }
    if (in_left == 0 && made == 0) {
      free(buf);
      inflateEnd(&z);
      return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated gzip data", name);
    }
  }
  inflateEnd(&z);
  *out = buf;
  *out_n = len;
  return TS_OK;
}

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static TsStatus idx_raw(const uint8_t *data, size_t n, const char *name, TsArray *arr, TsError *err) {
  if (n < 4 || data[0] != 0 || data[1] != 0)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': not an IDX file (bad magic)", name);
  int type = data[2], nd = data[3];
  size_t esize;
  TsDType dt;
  switch (type) {
  case 0x08: esize = 1; dt = TS_U8; break;
  case 0x09: esize = 1; dt = TS_F64; break;
  case 0x0B: esize = 2; dt = TS_F64; break;
  case 0x0C: esize = 4; dt = TS_F64; break;
  case 0x0D: esize = 4; dt = TS_F32; break;
  case 0x0E: esize = 8; dt = TS_F64; break;
  default: return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': unknown IDX data type 0x%02x", name, type);
  }
  if (nd < 1 || nd > TS_ARRAY_MAX_DIMS)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "cannot read '%s': %d axes (1 to %d are supported)", name, nd,
                        TS_ARRAY_MAX_DIMS);
  size_t head = 4 + 4 * (size_t)nd;
  if (n < head) return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated IDX header", name);
  size_t shape[TS_ARRAY_MAX_DIMS], count = 1, bytes;
  for (int i = 0; i < nd; i++) {
    shape[i] = be32(data + 4 + 4 * i);
    if (ts_mul_size(count, shape[i], &count) != 0)
      return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': IDX dimensions overflow", name);
  }
  if (ts_mul_size(count, esize, &bytes) != 0 || bytes > TS_DECODE_MAX_BYTES)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': IDX dimensions are absurdly large", name);
  if (n - head < bytes)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated IDX data (%zu of %zu bytes)", name, n - head,
                        bytes);
  if (n - head > bytes)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': %zu bytes after the IDX data", name, n - head - bytes);
  TsStatus s = ts_array_alloc(arr, nd, shape, dt, err);
  if (s) return s;
  const uint8_t *p = data + head;
  for (size_t i = 0; i < count; i++, p += esize) {
    switch (type) {
    case 0x08: ((uint8_t *)arr->data)[i] = *p; break;
    case 0x09: ((double *)arr->data)[i] = (int8_t)*p; break;
    case 0x0B: ((double *)arr->data)[i] = (int16_t)(uint16_t)((unsigned)p[0] << 8 | p[1]); break;
    case 0x0C: ((double *)arr->data)[i] = (int32_t)be32(p); break;
    case 0x0D: {
      uint32_t u = be32(p);
      float f;
      memcpy(&f, &u, 4);
      ((float *)arr->data)[i] = f;
      break;
    }
    case 0x0E: {
      uint64_t u = (uint64_t)be32(p) << 32 | be32(p + 4);
      double d;
      memcpy(&d, &u, 8);
      ((double *)arr->data)[i] = d;
      break;
    }
    }
  }
  return TS_OK;
}

TsStatus ts_idx_decode(const uint8_t *data, size_t n, const char *name, TsArray *arr, TsError *err) {
  memset(arr, 0, sizeof *arr);
  if (n >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    uint8_t *raw = NULL;
    size_t rn = 0;
    TsStatus s = gunzip(data, n, name, &raw, &rn, err);
    if (s) return s;
    s = idx_raw(raw, rn, name, arr, err);
    free(raw);
    return s;
  }
  return idx_raw(data, n, name, arr, err);
}

TsStatus ts_idx_encode(const TsArray *arr, uint8_t **out, size_t *n, TsError *err) {
  *out = NULL;
  *n = 0;
  if (arr->dtype != TS_U8 || arr->ndim < 1)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "IDX files are written from uint8 arrays with 1 to 4 axes");
  size_t count = ts_array_count(arr), head = 4 + 4 * (size_t)arr->ndim;
  for (int i = 0; i < arr->ndim; i++)
    if (arr->shape[i] > UINT32_MAX) return ts_error_set(err, TS_ERR_UNSUPPORTED, "an axis is too long for IDX");
  uint8_t *b = ts_alloc_array(head + count, 1, "IDX file", err);
  if (!b) return TS_ERR_NOMEM;
  b[0] = b[1] = 0;
  b[2] = 0x08;
  b[3] = (uint8_t)arr->ndim;
  for (int i = 0; i < arr->ndim; i++) {
    uint32_t d = (uint32_t)arr->shape[i];
    uint8_t *p = b + 4 + 4 * i;
    p[0] = (uint8_t)(d >> 24);
    p[1] = (uint8_t)(d >> 16);
    p[2] = (uint8_t)(d >> 8);
    p[3] = (uint8_t)d;
  }
  if (count) memcpy(b + head, arr->data, count);
  *out = b;
  *n = head + count;
  return TS_OK;
}

static TsStatus load_idx(const char *path, TsArray *arr, TsError *err) {
  uint8_t *data;
  size_t n;
  TsStatus s = ts_file_read(path, (size_t)4 << 30, &data, &n, err);
  if (s) return s;
  s = ts_idx_decode(data, n, path, arr, err);
  free(data);
  return s;
}

TsStatus ts_idx_read_set(const char *images, const char *labels, size_t max_count, TsImageSet *set, TsError *err) {
  memset(set, 0, sizeof *set);
  TsArray im = {0}, lb = {0};
  TsStatus s = load_idx(images, &im, err);
  if (s) return s;
  if (im.dtype != TS_U8 || im.ndim < 3 || (im.ndim == 4 && (im.shape[3] < 1 || im.shape[3] > 4)) ||
      im.shape[1] == 0 || im.shape[2] == 0 || im.shape[1] > TS_IMAGE_MAX_DIM || im.shape[2] > TS_IMAGE_MAX_DIM) {
    ts_array_clear(&im);
    return ts_error_set(err, TS_ERR_FORMAT,
                        "cannot read '%s': expected unsigned bytes of N x H x W or N x H x W x C pictures", images);
  }
  size_t count = im.shape[0];
  if (labels) {
    s = load_idx(labels, &lb, err);
    if (s) {
      ts_array_clear(&im);
      return s;
    }
    if (lb.dtype != TS_U8 || lb.ndim != 1 || lb.shape[0] != count) {
      ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': expected %zu unsigned-byte labels for '%s'", labels, count,
                   images);
      ts_array_clear(&im);
      ts_array_clear(&lb);
      return TS_ERR_FORMAT;
    }
  }
  if (max_count > 0 && count > max_count) count = max_count;
  set->count = count;
  set->height = (int)im.shape[1];
  set->width = (int)im.shape[2];
  set->channels = im.ndim == 4 ? (int)im.shape[3] : 1;
  set->pixels = im.data; /* the first `count` pictures are what we keep */
  im.data = NULL;
  if (labels) {
    set->labels = ts_alloc_array(count, sizeof *set->labels, "labels", err);
    if (!set->labels) {
      ts_array_clear(&lb);
      ts_image_set_clear(set);
      return TS_ERR_NOMEM;
    }
    int maxl = -1;
    for (size_t i = 0; i < count; i++) {
      set->labels[i] = ((const uint8_t *)lb.data)[i];
      if (set->labels[i] > maxl) maxl = set->labels[i];
    }
    set->n_classes = maxl + 1;
    ts_array_clear(&lb);
  }
  return TS_OK;
}

TsStatus ts_idx_read_dir(const char *dir, int test, size_t max_count, TsImageSet *set, TsError *err) {
  const char *pre = test ? "t10k" : "train";
  char im[4096], lb[4096];
  for (int gz = 1; gz >= 0; gz--) {
    snprintf(im, sizeof im, "%s/%s-images-idx3-ubyte%s", dir, pre, gz ? ".gz" : "");
    snprintf(lb, sizeof lb, "%s/%s-labels-idx1-ubyte%s", dir, pre, gz ? ".gz" : "");
    FILE *f = fopen(im, "rb");
    if (f) {
      fclose(f);
      return ts_idx_read_set(im, lb, max_count, set, err);
    }
  }
  return ts_error_set(err, TS_ERR_IO, "cannot find '%s/%s-images-idx3-ubyte[.gz]'", dir, pre);
}
