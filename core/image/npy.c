/* npy.c — NumPy .npy files (see codec.h). The header is a Python dict
 * literal; we parse exactly the three keys NumPy writes and nothing more. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/codec.h"

typedef struct {
  const char *p, *end;
} Cursor;

static void skip_ws(Cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int eat(Cursor *c, char ch) {
  skip_ws(c);
  if (c->p < c->end && *c->p == ch) {
    c->p++;
    return 1;
  }
  return 0;
}

/* A '...' or "..." literal without escapes (NumPy never writes any). */
static int parse_str(Cursor *c, char *out, size_t n) {
  skip_ws(c);
  if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
  char q = *c->p++;
  size_t k = 0;
  while (c->p < c->end && *c->p != q) {
    if (*c->p == '\\' || k + 1 >= n) return 0;
    out[k++] = *c->p++;
  }
  if (c->p >= c->end) return 0;
  c->p++;
  out[k] = '\0';
  return 1;
}

static int parse_word(Cursor *c, const char *w) {
  skip_ws(c);
  size_t l = strlen(w);
  if ((size_t)(c->end - c->p) >= l && !memcmp(c->p, w, l)) {
    c->p += l;
    return 1;
  }
  return 0;
}

/* (a, b, ...) with 0..4 non-negative integers, trailing comma allowed. */
static int parse_shape(Cursor *c, size_t *shape, int *nd) {
  if (!eat(c, '(')) return 0;
  *nd = 0;
  for (;;) {
    if (eat(c, ')')) return 1;
    skip_ws(c);
    if (c->p >= c->end || !isdigit((unsigned char)*c->p)) return 0;
    size_t v = 0;
    while (c->p < c->end && isdigit((unsigned char)*c->p)) {
      size_t d = (size_t)(*c->p++ - '0');
      if (v > (SIZE_MAX - d) / 10) return 0;
      v = v * 10 + d;
    }
    if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2 longs */
    if (*nd >= TS_ARRAY_MAX_DIMS) return -1;
    shape[(*nd)++] = v;
    if (!eat(c, ',')) return eat(c, ')') ? 1 : 0;
  }
}

static void swap_bytes(uint8_t *p, size_t count, size_t esize) {
  for (size_t i = 0; i < count; i++, p += esize)
    for (size_t a = 0, b = esize - 1; a < b; a++, b--) {
      uint8_t t = p[a];
      p[a] = p[b];
      p[b] = t;
    }
}

static int host_little(void) {
  const uint16_t one = 1;
  uint8_t b;
  memcpy(&b, &one, 1);
  return b == 1;
}

TsStatus ts_npy_decode(const uint8_t *data, size_t n, const char *name, TsArray *arr, TsError *err) {
  memset(arr, 0, sizeof *arr);
  if (n < 10 || memcmp(data, "\x93NUMPY", 6) != 0)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': not a .npy file (bad magic)", name);
  int major = data[6];
  size_t hlen, hstart;
  if (major == 1) {
    hlen = (size_t)data[8] | (size_t)data[9] << 8;
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (n < 12) return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated .npy header", name);
    hlen = (size_t)data[8] | (size_t)data[9] << 8 | (size_t)data[10] << 16 | (size_t)data[11] << 24;
    hstart = 12;
  } else {
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "cannot read '%s': .npy format version %d is not supported", name,
                        major);
  }
  if (hlen > n - hstart) return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated .npy header", name);
  Cursor c = {(const char *)data + hstart, (const char *)data + hstart + hlen};
  char descr[16] = "";
  int fortran = -1, nd = -1, have_descr = 0;
  size_t shape[TS_ARRAY_MAX_DIMS] = {0};
  if (!eat(&c, '{')) goto bad_header;
  for (;;) {
    if (eat(&c, '}')) break;
    char key[32];
    if (!parse_str(&c, key, sizeof key) || !eat(&c, ':')) goto bad_header;
    if (!strcmp(key, "descr")) {
      if (!parse_str(&c, descr, sizeof descr)) goto bad_header;
      have_descr = 1;
    } else if (!strcmp(key, "fortran_order")) {
      if (parse_word(&c, "True")) fortran = 1;
      else if (parse_word(&c, "False")) fortran = 0;
      else goto bad_header;
    } else if (!strcmp(key, "shape")) {
      int r = parse_shape(&c, shape, &nd);
      if (r < 0)
        return ts_error_set(err, TS_ERR_UNSUPPORTED, "cannot read '%s': more than %d axes are not supported", name,
                            TS_ARRAY_MAX_DIMS);
      if (r == 0) goto bad_header;
    } else {
      goto bad_header;
    }
    if (!eat(&c, ',')) {
      if (!eat(&c, '}')) goto bad_header;
      break;
    }
  }
  if (!have_descr || fortran < 0 || nd < 0) goto bad_header;

  TsDType dt;
  int big = 0;
  if (!strcmp(descr, "|u1") || !strcmp(descr, "u1") || !strcmp(descr, "|b1")) dt = TS_U8;
  else if (!strcmp(descr, "<u2") || !strcmp(descr, ">u2")) dt = TS_U16;
  else if (!strcmp(descr, "<f4") || !strcmp(descr, ">f4")) dt = TS_F32;
  else if (!strcmp(descr, "<f8") || !strcmp(descr, ">f8")) dt = TS_F64;
  else
    return ts_error_set(err, TS_ERR_UNSUPPORTED,
                        "cannot read '%s': dtype '%s' is not supported (uint8, uint16, float32, float64)", name, descr);
  if (descr[0] == '>') big = 1;
  size_t count = 1, bytes;
  for (int i = 0; i < nd; i++)
    if (ts_mul_size(count, shape[i], &count) != 0)
      return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': the shape overflows", name);
  size_t es = ts_dtype_size(dt);
  if (ts_mul_size(count, es, &bytes) != 0 || bytes > TS_DECODE_MAX_BYTES)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': the shape is absurdly large", name);
  size_t off = hstart + hlen;
  if (n - off < bytes)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated data (%zu of %zu bytes)", name, n - off,
                        bytes);
  TsStatus s = ts_array_alloc(arr, nd, shape, dt, err);
  if (s) return s;
  uint8_t *dst = arr->data;
  if (!fortran || nd <= 1) {
    if (bytes) memcpy(dst, data + off, bytes);
  } else {
    /* Fortran order: the first axis varies fastest. Walk the file in order
     * and put each element at its C-order position. */
    size_t idx[TS_ARRAY_MAX_DIMS] = {0}, cstride[TS_ARRAY_MAX_DIMS];
    cstride[nd - 1] = 1;
    for (int i = nd - 2; i >= 0; i--) cstride[i] = cstride[i + 1] * shape[i + 1];
    for (size_t k = 0; k < count; k++) {
      size_t pos = 0;
      for (int i = 0; i < nd; i++) pos += idx[i] * cstride[i];
      memcpy(dst + pos * es, data + off + k * es, es);
      for (int i = 0; i < nd; i++) {
        if (++idx[i] < shape[i]) break;
        idx[i] = 0;
      }
    }
  }
  if (es > 1 && big == host_little()) swap_bytes(dst, count, es);
  if (!strcmp(descr, "|b1"))
    for (size_t i = 0; i < count; i++) dst[i] = dst[i] != 0;
  return TS_OK;

bad_header:
  return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': malformed .npy header", name);
}

TsStatus ts_npy_encode(const TsArray *arr, uint8_t **out, size_t *n, TsError *err) {
  *out = NULL;
  *n = 0;
  const char *descr;
  switch (arr->dtype) {
  case TS_U8: descr = "|u1"; break;
  case TS_U16: descr = "<u2"; break;
  case TS_F32: descr = "<f4"; break;
  case TS_F64: descr = "<f8"; break;
  default: return ts_error_set(err, TS_ERR_INVALID, "unknown dtype");
  }
  if (arr->ndim < 0 || arr->ndim > TS_ARRAY_MAX_DIMS) return ts_error_set(err, TS_ERR_INVALID, "bad array rank");
  char head[256];
  int k = snprintf(head, sizeof head, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (int i = 0; i < arr->ndim; i++)
    k += snprintf(head + k, sizeof head - (size_t)k, "%zu%s", arr->shape[i], arr->ndim == 1 ? "," : (i + 1 < arr->ndim ? ", " : ""));
  k += snprintf(head + k, sizeof head - (size_t)k, "), }");
  /* Pad with spaces and a newline so the data starts on a 64-byte boundary. */
  size_t total_head = 10 + (size_t)k + 1;
  size_t pad = (64 - total_head % 64) % 64;
  size_t hlen = (size_t)k + pad + 1;
  size_t count = ts_array_count(arr), bytes;
  if (ts_mul_size(count, ts_dtype_size(arr->dtype), &bytes) != 0 || bytes > SIZE_MAX - 10 - hlen)
    return ts_error_set(err, TS_ERR_NOMEM, "array too large");
  uint8_t *b = malloc(10 + hlen + bytes);
  if (!b) return ts_error_set(err, TS_ERR_NOMEM, "cannot allocate %zu bytes for a .npy file", 10 + hlen + bytes);
  memcpy(b, "\x93NUMPY\x01\x00", 8);
  b[8] = (uint8_t)(hlen & 0xff);
  b[9] = (uint8_t)(hlen >> 8);
  memcpy(b + 10, head, (size_t)k);
  memset(b + 10 + k, ' ', pad);
  b[10 + hlen - 1] = '\n';
  if (bytes) memcpy(b + 10 + hlen, arr->data, bytes);
  if (!host_little() && ts_dtype_size(arr->dtype) > 1) swap_bytes(b + 10 + hlen, count, ts_dtype_size(arr->dtype));
  *out = b;
  *n = 10 + hlen + bytes;
  return TS_OK;
}
