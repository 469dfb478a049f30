/* label-cache.h — one file holding the PH label of every image of a
 * dataset, written by `toposcope label` and read by training.
 *
 * Format (all integers little-endian), version 1:
 *   offset  size  field
 *   0       8     magic "TSLABELS"
 *   8       4     u32 version (1)
 *   12      4     u32 nd: values per label
 *   16      4     u32 name_bytes: bytes of the name field of a row (256)
 *   20      4     u32 params_len: bytes of the parameters JSON
 *   24      8     u64 count: rows (valid when complete = 1)
 *   32      4     u32 complete: 1 once the writer finished, 0 while writing
 *   36      4     u32 row_bytes = name_bytes + 4 * nd
 *   40      8     u64 data_offset: where row 0 starts (64-byte aligned)
 *   48      16    reserved (0)
 *   64      ...   parameters JSON (type, dims, max_life, filtration, ...)
 *   data_offset + i * row_bytes: row i =
 *           name_bytes bytes: the image's path relative to the labelled
 *           folder, '/'-separated, NUL-padded; then nd float32 values.
 * Rows are fixed-size, so row i is one seek (the reader maps the file) and
 * an interrupted writer leaves at most one partial row, which a resumed
 * writer cuts off. A reader trusts the file size, not `count`, while
 * complete = 0, so a cache can be read while it is being written.
 * Images that failed are not in the cache (the run store lists them).
 *
 * Thread-safety: a TsLabelCache is read-only after open and may be shared
 * by threads; a writer belongs to one thread. */
#ifndef TS_PH_LABEL_CACHE_H
#define TS_PH_LABEL_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define TS_LABEL_CACHE_VERSION 1
#define TS_LABEL_NAME_BYTES 256

typedef struct TsLabelCache TsLabelCache;

/* Opens (maps) a cache for reading. */
TsStatus ts_label_cache_open(const char *path, TsLabelCache **out, TsError *err);
void ts_label_cache_close(TsLabelCache *c);
size_t ts_label_cache_count(const TsLabelCache *c);
int ts_label_cache_dims(const TsLabelCache *c);
int ts_label_cache_complete(const TsLabelCache *c);
/* The parameters JSON (NUL-terminated, owned by c). */
const char *ts_label_cache_params(const TsLabelCache *c);
/* Name of row i (NUL-terminated, owned by c); NULL if i is out of range. */
const char *ts_label_cache_name(const TsLabelCache *c, size_t i);
/* Values of row i, nd floats (inside the mapping; valid until close). */
const float *ts_label_cache_values(const TsLabelCache *c, size_t i);
/* Copies row i into out (nd floats). */
TsStatus ts_label_cache_row(const TsLabelCache *c, size_t i, float *out, TsError *err);
/* Finds the row of a name (binary search over a sorted index). */
TsStatus ts_label_cache_find(const TsLabelCache *c, const char *name, size_t *row, TsError *err);

typedef struct TsLabelCacheWriter TsLabelCacheWriter;

/* Creates path (replacing it), or with resume = 1 reopens an existing cache
 * written with the same nd and the same parameters JSON (else fails
 * naming the difference) and appends to it. */
TsStatus ts_label_cache_create(const char *path, int nd, const char *params_json, int resume,
                               TsLabelCacheWriter **out, TsError *err);
/* Rows already in the cache (those found when resuming, plus appended ones). */
size_t ts_label_cache_writer_count(const TsLabelCacheWriter *w);
/* 1 if a row with this name is already in the cache. */
int ts_label_cache_writer_has(const TsLabelCacheWriter *w, const char *name);
TsStatus ts_label_cache_append(TsLabelCacheWriter *w, const char *name, const float *values, TsError *err);
/* Writes the header's count and complete flag, flushes and frees w. */
TsStatus ts_label_cache_finish(TsLabelCacheWriter *w, TsError *err);
/* Closes without marking the cache complete (it stays resumable). NULL ok. */
void ts_label_cache_writer_abort(TsLabelCacheWriter *w);

#endif
