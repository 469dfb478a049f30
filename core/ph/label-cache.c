/* label-cache.c — the PH label cache file (see label-cache.h). */
#include "ph/label-cache.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "TSLABELS"
#define HEADER_BYTES 64

static uint32_t rd32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t rd64(const unsigned char *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void wr64(unsigned char *p, uint64_t v) {
  wr32(p, (uint32_t)v);
  wr32(p + 4, (uint32_t)(v >> 32));
}

typedef struct Header {
  uint32_t version, nd, name_bytes, params_len, complete, row_bytes;
  uint64_t count, data_offset;
} Header;

/* Parses and checks a header against the file size. */
static TsStatus parse_header(const unsigned char *b, uint64_t size, const char *path, Header *h, TsError *err) {
  if (size < HEADER_BYTES || memcmp(b, MAGIC, 8) != 0)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': not a Toposcope label cache", path);
  h->version = rd32(b + 8);
  h->nd = rd32(b + 12);
  h->name_bytes = rd32(b + 16);
  h->params_len = rd32(b + 20);
  h->count = rd64(b + 24);
  h->complete = rd32(b + 32);
  h->row_bytes = rd32(b + 36);
  h->data_offset = rd64(b + 40);
  if (h->version > TS_LABEL_CACHE_VERSION)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "cannot read '%s': label cache version %u is newer than this Toposcope (%d)",
                        path, h->version, TS_LABEL_CACHE_VERSION);
  if (h->version == 0 || h->nd == 0 || h->nd > (1u << 24) || h->name_bytes == 0 || h->name_bytes > 65536 ||
      h->name_bytes % 4 || h->row_bytes != h->name_bytes + 4ull * h->nd ||
      h->data_offset < HEADER_BYTES + (uint64_t)h->params_len || h->data_offset > size ||
      h->data_offset % 4 /* the values are read as floats in place: a misaligned row is refused (found by fuzzing) */)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': corrupt label cache header", path);
  uint64_t rows = (size - h->data_offset) / h->row_bytes;
  if (h->complete && h->count > rows)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': truncated label cache (%llu rows announced, %llu present)",
                        path, (unsigned long long)h->count, (unsigned long long)rows);
  if (!h->complete) h->count = rows;
  return TS_OK;
}

/* ---- reading --------------------------------------------------------- */

struct TsLabelCache {
  unsigned char *map;
  size_t map_len;
  Header h;
  char *params;
  size_t *sorted; /* row indices sorted by name */
};

static const TsLabelCache *sort_cache;
static int cmp_rows(const void *x, const void *y) {
  return strcmp(ts_label_cache_name(sort_cache, *(const size_t *)x), ts_label_cache_name(sort_cache, *(const size_t *)y));
}

TsStatus ts_label_cache_open(const char *path, TsLabelCache **out, TsError *err) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ts_error_errno(err, errno, "cannot open '%s'", path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return ts_error_errno(err, errno, "cannot read '%s'", path);
  }
  TsLabelCache *c = calloc(1, sizeof *c);
  if (!c) {
    close(fd);
    return ts_error_set(err, TS_ERR_NOMEM, "cannot open '%s': out of memory", path);
  }
  TsStatus s = TS_OK;
  c->map_len = (size_t)st.st_size;
  if (c->map_len < HEADER_BYTES) {
    close(fd);
    free(c);
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': not a Toposcope label cache (%zu bytes)", path,
                        (size_t)st.st_size);
  }
  c->map = mmap(NULL, c->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (c->map == MAP_FAILED) {
    free(c);
    return ts_error_errno(err, errno, "cannot map '%s'", path);
  }
  if ((s = parse_header(c->map, c->map_len, path, &c->h, err))) goto fail;
  c->params = malloc((size_t)c->h.params_len + 1);
  c->sorted = malloc(((size_t)c->h.count + 1) * sizeof *c->sorted);
  if (!c->params || !c->sorted) {
    s = ts_error_set(err, TS_ERR_NOMEM, "cannot open '%s': out of memory", path);
    goto fail;
  }
  memcpy(c->params, c->map + HEADER_BYTES, c->h.params_len);
  c->params[c->h.params_len] = '\0';
  for (size_t i = 0; i < c->h.count; i++) {
    const unsigned char *name = c->map + c->h.data_offset + i * (size_t)c->h.row_bytes;
    if (memchr(name, '\0', c->h.name_bytes) == NULL || name[0] == '\0') {
      s = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': row %zu has a malformed name", path, i);
      goto fail;
    }
    c->sorted[i] = i;
  }
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_lock(&lock);
  sort_cache = c;
  qsort(c->sorted, c->h.count, sizeof *c->sorted, cmp_rows);
  pthread_mutex_unlock(&lock);
  *out = c;
  return TS_OK;
fail:
  ts_label_cache_close(c);
  return s;
}

void ts_label_cache_close(TsLabelCache *c) {
  if (!c) return;
  if (c->map && c->map != MAP_FAILED) munmap(c->map, c->map_len);
  free(c->params);
  free(c->sorted);
  free(c);
}

size_t ts_label_cache_count(const TsLabelCache *c) { return (size_t)c->h.count; }
int ts_label_cache_dims(const TsLabelCache *c) { return (int)c->h.nd; }
int ts_label_cache_complete(const TsLabelCache *c) { return c->h.complete != 0; }
const char *ts_label_cache_params(const TsLabelCache *c) { return c->params; }

const char *ts_label_cache_name(const TsLabelCache *c, size_t i) {
  if (i >= c->h.count) return NULL;
  return (const char *)(c->map + c->h.data_offset + i * (size_t)c->h.row_bytes);
}

const float *ts_label_cache_values(const TsLabelCache *c, size_t i) {
  if (i >= c->h.count) return NULL;
  /* data_offset is 64-aligned and name_bytes a multiple of 4: the floats are aligned */
  const void *p = c->map + c->h.data_offset + i * (size_t)c->h.row_bytes + c->h.name_bytes;
  return (const float *)p;
}

TsStatus ts_label_cache_row(const TsLabelCache *c, size_t i, float *out, TsError *err) {
  if (i >= c->h.count)
    return ts_error_set(err, TS_ERR_INVALID, "label cache: row %zu out of range (%llu rows)", i,
                        (unsigned long long)c->h.count);
  memcpy(out, ts_label_cache_values(c, i), 4 * (size_t)c->h.nd);
  return TS_OK;
}

TsStatus ts_label_cache_find(const TsLabelCache *c, const char *name, size_t *row, TsError *err) {
  size_t lo = 0, hi = (size_t)c->h.count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int r = strcmp(ts_label_cache_name(c, c->sorted[mid]), name);
    if (r == 0) {
      *row = c->sorted[mid];
      return TS_OK;
    }
    if (r < 0) lo = mid + 1;
    else hi = mid;
  }
  return ts_error_set(err, TS_ERR_INVALID, "label cache: no label for '%s'", name);
}

/* ---- writing --------------------------------------------------------- */

struct TsLabelCacheWriter {
  FILE *f;
  char *path;
  Header h;
  unsigned char *row;
  char **set; /* open addressing hash set of names */
  size_t set_cap, set_n;
};

static uint64_t fnv(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static int set_has(const TsLabelCacheWriter *w, const char *name) {
  if (!w->set_cap) return 0;
  for (size_t i = fnv(name) & (w->set_cap - 1);; i = (i + 1) & (w->set_cap - 1)) {
    if (!w->set[i]) return 0;
    if (strcmp(w->set[i], name) == 0) return 1;
  }
}

static int set_add(TsLabelCacheWriter *w, const char *name) {
  if (2 * (w->set_n + 1) > w->set_cap) {
    size_t cap = w->set_cap ? w->set_cap * 2 : 1024;
    char **s = calloc(cap, sizeof *s);
    if (!s) return -1;
    for (size_t k = 0; k < w->set_cap; k++) {
      if (!w->set[k]) continue;
      size_t i = fnv(w->set[k]) & (cap - 1);
      while (s[i]) i = (i + 1) & (cap - 1);
      s[i] = w->set[k];
    }
    free(w->set);
    w->set = s;
    w->set_cap = cap;
  }
  char *copy = strdup(name);
  if (!copy) return -1;
  size_t i = fnv(name) & (w->set_cap - 1);
  while (w->set[i]) i = (i + 1) & (w->set_cap - 1);
  w->set[i] = copy;
  w->set_n++;
  return 0;
}

static void writer_free(TsLabelCacheWriter *w) {
  if (w->f) fclose(w->f);
  for (size_t i = 0; i < w->set_cap; i++) free(w->set[i]);
  free(w->set);
  free(w->row);
  free(w->path);
  free(w);
}

static void encode_header(const Header *h, unsigned char *b) {
  memset(b, 0, HEADER_BYTES);
  memcpy(b, MAGIC, 8);
  wr32(b + 8, h->version);
  wr32(b + 12, h->nd);
  wr32(b + 16, h->name_bytes);
  wr32(b + 20, h->params_len);
  wr64(b + 24, h->count);
  wr32(b + 32, h->complete);
  wr32(b + 36, h->row_bytes);
  wr64(b + 40, h->data_offset);
}

static TsStatus reopen(TsLabelCacheWriter *w, int nd, const char *params, TsError *err) {
  unsigned char b[HEADER_BYTES];
  struct stat st;
  if (fstat(fileno(w->f), &st) != 0) return ts_error_errno(err, errno, "cannot read '%s'", w->path);
  if (fread(b, 1, HEADER_BYTES, w->f) != HEADER_BYTES)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot resume '%s': not a Toposcope label cache", w->path);
  TsStatus s = parse_header(b, (uint64_t)st.st_size, w->path, &w->h, err);
  if (s) return s;
  if (w->h.nd != (uint32_t)nd)
    return ts_error_set(err, TS_ERR_INVALID, "cannot resume '%s': it holds labels of %u values, not %d", w->path, w->h.nd,
                        nd);
  char *old = malloc((size_t)w->h.params_len + 1);
  if (!old) return ts_error_set(err, TS_ERR_NOMEM, "cannot resume '%s': out of memory", w->path);
  int same = fread(old, 1, w->h.params_len, w->f) == w->h.params_len;
  old[w->h.params_len] = '\0';
  same = same && strcmp(old, params) == 0;
  if (!same) {
    s = ts_error_set(err, TS_ERR_INVALID, "cannot resume '%s': it was written with other parameters (%.200s)", w->path, old);
    free(old);
    return s;
  }
  free(old);
  uint64_t rows = ((uint64_t)st.st_size - w->h.data_offset) / w->h.row_bytes;
  if (w->h.complete) rows = w->h.count;
  char *name = malloc(w->h.name_bytes);
  if (!name) return ts_error_set(err, TS_ERR_NOMEM, "cannot resume '%s': out of memory", w->path);
  for (uint64_t i = 0; i < rows; i++) {
    if (fseeko(w->f, (off_t)(w->h.data_offset + i * w->h.row_bytes), SEEK_SET) != 0 ||
        fread(name, 1, w->h.name_bytes, w->f) != w->h.name_bytes || !memchr(name, '\0', w->h.name_bytes)) {
      free(name);
      return ts_error_set(err, TS_ERR_FORMAT, "cannot resume '%s': row %llu is unreadable", w->path,
                          (unsigned long long)i);
    }
    if (set_add(w, name)) {
      free(name);
      return ts_error_set(err, TS_ERR_NOMEM, "cannot resume '%s': out of memory", w->path);
    }
  }
  free(name);
  /* cut a partial row an interrupted writer left behind */
  off_t end = (off_t)(w->h.data_offset + rows * w->h.row_bytes);
  fflush(w->f);
  if (ftruncate(fileno(w->f), end) != 0) return ts_error_errno(err, errno, "cannot resume '%s'", w->path);
  w->h.count = rows;
  w->h.complete = 0;
  encode_header(&w->h, b);
  if (fseeko(w->f, 0, SEEK_SET) != 0 || fwrite(b, 1, HEADER_BYTES, w->f) != HEADER_BYTES || fseeko(w->f, end, SEEK_SET))
    return ts_error_errno(err, errno, "cannot resume '%s'", w->path);
  return TS_OK;
}

TsStatus ts_label_cache_create(const char *path, int nd, const char *params_json, int resume,
                               TsLabelCacheWriter **out, TsError *err) {
  *out = NULL;
  if (nd < 1 || nd > (1 << 24)) return ts_error_set(err, TS_ERR_INVALID, "label cache: %d values per label", nd);
  if (!params_json) params_json = "{}";
  TsLabelCacheWriter *w = calloc(1, sizeof *w);
  if (!w || !(w->path = strdup(path))) {
    free(w);
    return ts_error_set(err, TS_ERR_NOMEM, "label cache: out of memory");
  }
  TsStatus s = TS_OK;
  if (resume && access(path, F_OK) == 0) {
    w->f = fopen(path, "r+b");
    if (!w->f) s = ts_error_errno(err, errno, "cannot open '%s'", path);
    else s = reopen(w, nd, params_json, err);
  } else {
    w->f = fopen(path, "w+b");
    if (!w->f) {
      s = ts_error_errno(err, errno, "cannot write '%s'", path);
    } else {
      size_t plen = strlen(params_json);
      w->h = (Header){.version = TS_LABEL_CACHE_VERSION, .nd = (uint32_t)nd, .name_bytes = TS_LABEL_NAME_BYTES,
                      .params_len = (uint32_t)plen, .row_bytes = TS_LABEL_NAME_BYTES + 4u * (uint32_t)nd,
                      .data_offset = (HEADER_BYTES + plen + 63) / 64 * 64};
      unsigned char b[HEADER_BYTES];
      encode_header(&w->h, b);
      fwrite(b, 1, HEADER_BYTES, w->f);
      fwrite(params_json, 1, plen, w->f);
      for (uint64_t i = HEADER_BYTES + plen; i < w->h.data_offset; i++) fputc(0, w->f);
      if (ferror(w->f)) s = ts_error_set(err, TS_ERR_IO, "cannot write '%s': write error", path);
    }
  }
  if (!s && !(w->row = malloc(w->h.row_bytes))) s = ts_error_set(err, TS_ERR_NOMEM, "label cache: out of memory");
  if (s) {
    writer_free(w);
    return s;
  }
  *out = w;
  return TS_OK;
}

size_t ts_label_cache_writer_count(const TsLabelCacheWriter *w) { return (size_t)w->h.count; }
int ts_label_cache_writer_has(const TsLabelCacheWriter *w, const char *name) { return set_has(w, name); }

TsStatus ts_label_cache_append(TsLabelCacheWriter *w, const char *name, const float *values, TsError *err) {
  size_t n = strlen(name);
  if (n == 0 || n >= w->h.name_bytes)
    return ts_error_set(err, TS_ERR_INVALID, "label cache: name '%.80s' is empty or longer than %u bytes", name,
                        w->h.name_bytes - 1);
  memset(w->row, 0, w->h.name_bytes);
  memcpy(w->row, name, n);
  for (uint32_t i = 0; i < w->h.nd; i++) {
    uint32_t u;
    memcpy(&u, &values[i], 4);
    wr32(w->row + w->h.name_bytes + 4 * i, u);
  }
  if (fwrite(w->row, 1, w->h.row_bytes, w->f) != w->h.row_bytes)
    return ts_error_errno(err, errno, "cannot write '%s'", w->path);
  if (set_add(w, name)) return ts_error_set(err, TS_ERR_NOMEM, "label cache: out of memory");
  w->h.count++;
  return TS_OK;
}

TsStatus ts_label_cache_finish(TsLabelCacheWriter *w, TsError *err) {
  unsigned char b[HEADER_BYTES];
  w->h.complete = 1;
  encode_header(&w->h, b);
  TsStatus s = TS_OK;
  if (fflush(w->f) != 0 || fseeko(w->f, 0, SEEK_SET) != 0 || fwrite(b, 1, HEADER_BYTES, w->f) != HEADER_BYTES ||
      fflush(w->f) != 0)
    s = ts_error_errno(err, errno, "cannot write '%s'", w->path);
  int bad = fclose(w->f);
  w->f = NULL;
  if (!s && bad) s = ts_error_set(err, TS_ERR_IO, "cannot write '%s': close failed", w->path);
  writer_free(w);
  return s;
}

void ts_label_cache_writer_abort(TsLabelCacheWriter *w) {
  if (!w) return;
  if (w->f) fflush(w->f);
  writer_free(w);
}
