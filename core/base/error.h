/* error.h — how core functions report failure.
 *
 * Every fallible core function returns a TsStatus and, when it fails, fills
 * the caller's TsError (which may be NULL) with a code and one human-readable
 * line that names the file or the argument and the problem, e.g.
 *   "cannot read 'x.jpg': not a JPEG file".
 * Core code never prints and never exits; the CLI prints the message, the GUI
 * shows it in a toast. */
#ifndef TS_BASE_ERROR_H
#define TS_BASE_ERROR_H

#include <stddef.h>

typedef enum TsStatus {
  TS_OK = 0,
  TS_ERR_IO,          /* open/read/write failed (errno-level) */
  TS_ERR_FORMAT,      /* a file's contents are malformed */
  TS_ERR_INVALID,     /* a bad argument: wrong shape, NaN, out of range */
  TS_ERR_NOMEM,       /* allocation failed or a size would overflow */
  TS_ERR_UNSUPPORTED, /* valid but not handled (a 5D array, a newer schema) */
  TS_ERR_CANCELLED,   /* the caller asked us to stop */
  TS_ERR_DB,          /* the run store (SQLite) failed */
  TS_ERR_INTERNAL     /* a bug: an invariant did not hold */
} TsStatus;

#define TS_ERROR_MSG_MAX 512

typedef struct TsError {
  TsStatus code;
  char message[TS_ERROR_MSG_MAX];
} TsError;

#if defined(__GNUC__)
#define TS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TS_PRINTF(f, a)
#endif

/* Fills err (if not NULL) and returns code, so a failure reads
 *   return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated", path); */
TsStatus ts_error_set(TsError *err, TsStatus code, const char *fmt, ...) TS_PRINTF(3, 4);

/* Sets the message from errno: "<what>: <strerror(errnum)>". */
TsStatus ts_error_errno(TsError *err, int errnum, const char *fmt, ...) TS_PRINTF(3, 4);

/* Prepends "<prefix>: " to an existing message (adding context on the way up). */
void ts_error_prefix(TsError *err, const char *fmt, ...) TS_PRINTF(2, 3);

void ts_error_clear(TsError *err);

/* A short name of a code ("format error"), for logs and tests. */
const char *ts_status_name(TsStatus code);

/* Overflow-checked allocation helpers: on failure they fill err with
 * TS_ERR_NOMEM naming `what` and return NULL. */
void *ts_alloc_array(size_t count, size_t size, const char *what, TsError *err);
void *ts_calloc_array(size_t count, size_t size, const char *what, TsError *err);
/* For large arrays read at random (union-finds, sort buffers): aligned to
 * and advised as transparent huge pages where the kernel offers them, so
 * random reads miss the TLB less and a fresh array takes 512 times fewer
 * page faults. Freed with free(). */
void *ts_alloc_array_huge(size_t count, size_t size, const char *what, TsError *err);
/* Grows (or shrinks) p to count elements; on failure p is left as it was. */
void *ts_realloc_array(void *p, size_t count, size_t size, const char *what, TsError *err);
/* a*b without overflow: returns 0 and sets *out, or returns -1. */
int ts_mul_size(size_t a, size_t b, size_t *out);

#endif
