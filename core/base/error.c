#include "base/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <string.h>

TsStatus ts_error_set(TsError *err, TsStatus code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    err->code = code;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return code;
}

TsStatus ts_error_errno(TsError *err, int errnum, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    char what[TS_ERROR_MSG_MAX];
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    err->code = errnum == ENOMEM ? TS_ERR_NOMEM : TS_ERR_IO;
    /* truncating a long message is fine; the return value says so */
    if (snprintf(err->message, sizeof err->message, "%s: %s", what, strerror(errnum)) < 0) err->message[0] = '\0';
  }
  return errnum == ENOMEM ? TS_ERR_NOMEM : TS_ERR_IO;
}

void ts_error_prefix(TsError *err, const char *fmt, ...) {
  if (!err) return;
  char prefix[TS_ERROR_MSG_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  char joined[TS_ERROR_MSG_MAX];
  if (snprintf(joined, sizeof joined, "%s: %s", prefix, err->message) < 0) return;
  memcpy(err->message, joined, sizeof joined);
}

void ts_error_clear(TsError *err) {
  if (!err) return;
  err->code = TS_OK;
  err->message[0] = '\0';
}

const char *ts_status_name(TsStatus code) {
  switch (code) {
  case TS_OK: return "ok";
  case TS_ERR_IO: return "i/o error";
  case TS_ERR_FORMAT: return "format error";
  case TS_ERR_INVALID: return "invalid argument";
  case TS_ERR_NOMEM: return "out of memory";
  case TS_ERR_UNSUPPORTED: return "unsupported";
  case TS_ERR_CANCELLED: return "cancelled";
  case TS_ERR_DB: return "run store error";
  case TS_ERR_INTERNAL: return "internal error";
  }
  return "unknown error";
}

int ts_mul_size(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a) return -1;
  *out = a * b;
  return 0;
}

/* count * size in *bytes, or TS_ERR_NOMEM naming `what` if it overflows. */
static int array_bytes(size_t count, size_t size, const char *what, TsError *err, size_t *bytes) {
  if (ts_mul_size(count, size, bytes) == 0) return 0;
  ts_error_set(err, TS_ERR_NOMEM, "%s: %zu x %zu bytes overflows", what, count, size);
  return -1;
}

static void *nomem(const char *what, size_t bytes, TsError *err) {
  ts_error_set(err, TS_ERR_NOMEM, "%s: cannot allocate %zu bytes", what, bytes);
  return NULL;
}

void *ts_alloc_array(size_t count, size_t size, const char *what, TsError *err) {
  size_t bytes;
  if (array_bytes(count, size, what, err, &bytes)) return NULL;
  void *p = malloc(bytes ? bytes : 1);
  return p ? p : nomem(what, bytes, err);
}

void *ts_alloc_array_huge(size_t count, size_t size, const char *what, TsError *err) {
  size_t bytes;
  enum { HUGE_PAGE = 2 << 20 };
  if (array_bytes(count, size, what, err, &bytes)) return NULL;
  if (bytes < HUGE_PAGE) return ts_alloc_array(count, size, what, err);
  void *p = NULL;
  if (posix_memalign(&p, HUGE_PAGE, bytes) != 0) return nomem(what, bytes, err);
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE); /* advice only: failure changes nothing */
#endif
  return p;
}

void *ts_realloc_array(void *p, size_t count, size_t size, const char *what, TsError *err) {
  size_t bytes;
  if (array_bytes(count, size, what, err, &bytes)) return NULL;
  void *q = realloc(p, bytes ? bytes : 1);
  return q ? q : nomem(what, bytes, err);
}

void *ts_calloc_array(size_t count, size_t size, const char *what, TsError *err) {
  size_t bytes;
  if (array_bytes(count, size, what, err, &bytes)) return NULL;
  void *p = calloc(count ? count : 1, size ? size : 1);
  return p ? p : nomem(what, bytes, err);
}
