#include "data/idx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Larger than any dataset we would hold in memory; catches garbage sizes. */
#define TS_IDX_MAX_BYTES ((size_t)1 << 34)

void ts_idx_clear(TsIdx *idx) {
  if (!idx) return;
  free(idx->data);
  memset(idx, 0, sizeof *idx);
}

/* Reads exactly n bytes; returns the count read (short at end of file) or -1. */
static long long read_full(gzFile f, uint8_t *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    size_t chunk = n - got > (1u << 30) ? (1u << 30) : n - got;
    int r = gzread(f, buf + got, (unsigned)chunk);
    if (r < 0) return -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (long long)got;
}

TsStatus ts_idx_read(const char *path, TsIdx *out, TsError *err) {
  memset(out, 0, sizeof *out);
  gzFile f = gzopen(path, "rb");
  if (!f) return ts_error_errno(err, errno ? errno : EIO, "cannot open '%s'", path);
  TsStatus st = TS_OK;
  uint8_t head[4];
  long long r = read_full(f, head, 4);
  if (r < 0) {
    int e;
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': %s", path, gzerror(f, &e));
    goto done;
  }
  if (r < 4 || head[0] != 0 || head[1] != 0 || head[3] < 1 || head[3] > TS_IDX_MAX_DIMS) {
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': not an IDX file (bad magic)", path);
    goto done;
  }
  if (head[2] != 0x08) {
    st = ts_error_set(err, TS_ERR_UNSUPPORTED, "cannot read '%s': IDX element type 0x%02x (only unsigned bytes, 0x08)",
                      path, head[2]);
    goto done;
  }
  out->ndim = head[3];
  uint8_t dimbuf[4 * TS_IDX_MAX_DIMS];
  if (read_full(f, dimbuf, 4u * (size_t)out->ndim) != 4ll * out->ndim) {
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated IDX header", path);
    goto done;
  }
  size_t total = 1;
  for (int i = 0; i < out->ndim; i++) {
    const uint8_t *b = dimbuf + 4 * i;
    out->dims[i] = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
    if (ts_mul_size(total, out->dims[i], &total) != 0 || total > TS_IDX_MAX_BYTES) {
      st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': IDX sizes too large", path);
      goto done;
    }
  }
  out->size = total;
  out->data = ts_alloc_array(total ? total : 1, 1, path, err);
  if (!out->data) {
    st = TS_ERR_NOMEM;
    goto done;
  }
  r = read_full(f, out->data, total);
  if (r < 0) {
    int e;
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': %s", path, gzerror(f, &e));
    goto done;
  }
  if ((size_t)r != total) {
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated IDX data (%lld of %zu bytes)", path, r, total);
    goto done;
  }
  uint8_t extra;
  if (read_full(f, &extra, 1) != 0) {
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': trailing bytes after the IDX data", path);
    goto done;
  }
done:
  gzclose(f);
  if (st != TS_OK) ts_idx_clear(out);
  return st;
}

TsStatus ts_idx_write(const char *path, int ndim, const uint32_t *dims, const uint8_t *data, TsError *err) {
  if (ndim < 1 || ndim > TS_IDX_MAX_DIMS) return ts_error_set(err, TS_ERR_INVALID, "'%s': IDX ndim %d", path, ndim);
  FILE *f = fopen(path, "wb");
  if (!f) return ts_error_errno(err, errno, "cannot create '%s'", path);
  uint8_t head[4 + 4 * TS_IDX_MAX_DIMS] = {0, 0, 0x08, (uint8_t)ndim};
  size_t total = 1;
  for (int i = 0; i < ndim; i++) {
    head[4 + 4 * i] = (uint8_t)(dims[i] >> 24);
    head[5 + 4 * i] = (uint8_t)(dims[i] >> 16);
    head[6 + 4 * i] = (uint8_t)(dims[i] >> 8);
    head[7 + 4 * i] = (uint8_t)dims[i];
    total *= dims[i];
  }
  int ok = fwrite(head, 1, 4 + 4 * (size_t)ndim, f) == 4 + 4 * (size_t)ndim && fwrite(data, 1, total, f) == total;
  ok = (fclose(f) == 0) && ok;
  if (!ok) return ts_error_errno(err, errno ? errno : EIO, "cannot write '%s'", path);
  return TS_OK;
}
