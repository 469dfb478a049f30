/* pnm.c — PGM and PPM, binary (P5/P6) and ASCII (P2/P3) (see codec.h).
 * Values are rescaled to the full 8- or 16-bit range when maxval is not
 * 255 or 65535, so a 4-bit PGM looks like what it shows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/codec.h"

typedef struct {
  const uint8_t *p, *end;
} Cur;

static int is_space(int ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f'; }

static void skip_space_comments(Cur *c) {
  while (c->p < c->end) {
    if (is_space(*c->p)) c->p++;
    else if (*c->p == '#') {
      while (c->p < c->end && *c->p != '\n') c->p++;
    } else break;
  }
}

/* A decimal number below 2^31; -1 on junk or overflow. */
static long read_uint(Cur *c) {
  skip_space_comments(c);
  if (c->p >= c->end || *c->p < '0' || *c->p > '9') return -1;
  long v = 0;
  while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
    v = v * 10 + (*c->p++ - '0');
    if (v > 0x7fffffffL) return -1;
  }
  return v;
}

TsStatus ts_pnm_decode(const uint8_t *data, size_t n, const char *name, TsArray *arr, TsError *err) {
  memset(arr, 0, sizeof *arr);
  if (n < 2 || data[0] != 'P' || (data[1] != '2' && data[1] != '3' && data[1] != '5' && data[1] != '6'))
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': not a PGM/PPM file (P2, P3, P5 or P6)", name);
  int kind = data[1] - '0';
  int ascii = kind == 2 || kind == 3;
  int channels = kind == 3 || kind == 6 ? 3 : 1;
  Cur c = {data + 2, data + n};
  if (c.p < c.end && !is_space(*c.p) && *c.p != '#')
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': malformed PGM/PPM magic", name);
  long w = read_uint(&c), h = read_uint(&c), maxval = read_uint(&c);
  if (w < 0 || h < 0 || maxval < 0)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': malformed or truncated PGM/PPM header", name);
  if (w == 0 || h == 0 || w > TS_IMAGE_MAX_DIM || h > TS_IMAGE_MAX_DIM)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': bad size %ld x %ld", name, w, h);
  if (maxval < 1 || maxval > 65535)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': maxval %ld is not in 1..65535", name, maxval);
  size_t count = (size_t)w * (size_t)h * (size_t)channels;
  int wide = maxval > 255;
  size_t es = wide ? 2 : 1;
  if (count * es > TS_DECODE_MAX_BYTES)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': %ld x %ld is absurdly large", name, w, h);
  if (!ascii) {
    /* exactly one whitespace byte after maxval */
    if (c.p >= c.end || !is_space(*c.p))
      return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': malformed PGM/PPM header", name);
    c.p++;
    if ((size_t)(c.end - c.p) < count * es)
      return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated pixel data (%zu of %zu bytes)", name,
                          (size_t)(c.end - c.p), count * es);
  } else if ((size_t)(c.end - c.p) < count) {
    /* every ASCII value takes at least two bytes (digit and separator) but the last */
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated pixel data", name);
  }
  size_t shape[3] = {(size_t)h, (size_t)w, 3};
  TsStatus s = ts_array_alloc(arr, channels == 1 ? 2 : 3, shape, wide ? TS_U16 : TS_U8, err);
  if (s) return s;
  long full = wide ? 65535 : 255;
  for (size_t i = 0; i < count; i++) {
    long v;
    if (ascii) {
      v = read_uint(&c);
      if (v < 0) {
        ts_array_clear(arr);
        return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated or malformed value %zu", name, i);
      }
    } else if (wide) {
      v = (long)c.p[0] << 8 | c.p[1];
      c.p += 2;
    } else {
      v = *c.p++;
    }
    if (v > maxval) {
      ts_array_clear(arr);
      return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': value %ld above maxval %ld", name, v, maxval);
    }
    if (maxval != full) v = (v * full + maxval / 2) / maxval;
    if (wide) ((uint16_t *)arr->data)[i] = (uint16_t)v;
    else ((uint8_t *)arr->data)[i] = (uint8_t)v;
  }
  return TS_OK;
}

TsStatus ts_pnm_encode(const TsArray *arr, uint8_t **out, size_t *n, TsError *err) {
  *out = NULL;
  *n = 0;
  int channels = arr->ndim == 2 ? 1 : arr->ndim == 3 ? (int)arr->shape[2] : 0;
  if ((channels != 1 && channels != 3) || (arr->dtype != TS_U8 && arr->dtype != TS_U16))
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "PGM/PPM hold uint8 or uint16 H x W or H x W x 3 arrays");
  if (arr->shape[0] == 0 || arr->shape[1] == 0 || arr->shape[0] > TS_IMAGE_MAX_DIM ||
      arr->shape[1] > TS_IMAGE_MAX_DIM)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "PGM/PPM size %zu x %zu is out of range", arr->shape[1],
                        arr->shape[0]);
  int wide = arr->dtype == TS_U16;
  char head[64];
  int k = snprintf(head, sizeof head, "P%c\n%zu %zu\n%d\n", channels == 1 ? '5' : '6', arr->shape[1], arr->shape[0],
                   wide ? 65535 : 255);
  size_t count = ts_array_count(arr), bytes = count * (wide ? 2 : 1);
  uint8_t *b = malloc((size_t)k + bytes);
  if (!b) return ts_error_set(err, TS_ERR_NOMEM, "cannot allocate a PGM/PPM file");
  memcpy(b, head, (size_t)k);
  if (!wide) memcpy(b + k, arr->data, count);
  else
    for (size_t i = 0; i < count; i++) {
      uint16_t v = ((const uint16_t *)arr->data)[i];
      b[k + 2 * i] = (uint8_t)(v >> 8);
      b[k + 2 * i + 1] = (uint8_t)v;
    }
  *out = b;
  *n = (size_t)k + bytes;
  return TS_OK;
}
