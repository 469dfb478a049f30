#include "nn/safetensors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

/* The reference implementation refuses headers over 100 MB. */
#define TS_ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000)

static const struct {
  const char *name;
  size_t size;
} dtypes[] = {{"F32", 4}, {"I64", 8}, {"F64", 8}, {"F16", 2}, {"BF16", 2},
              {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}};

const char *ts_st_dtype_name(TsStDType t) { return dtypes[t].name; }
size_t ts_st_dtype_size(TsStDType t) { return dtypes[t].size; }

/* ---- a small JSON reader for the header ------------------------------- */

typedef struct Parser {
  const char *s;
  size_t i, n;
  const char *path;
  TsError *err;
} Parser;

static TsStatus perr(Parser *p, const char *what) {
  return ts_error_set(p->err, TS_ERR_FORMAT, "'%s': bad safetensors header: %s at byte %zu", p->path, what,
                      p->i + 8);
}

static void ws(Parser *p) {
  while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
    p->i++;
}

static int eat(Parser *p, char c) {
  ws(p);
  if (p->i < p->n && p->s[p->i] == c) {
    p->i++;
    return 1;
  }
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* A JSON string into a malloc'd UTF-8 buffer (out may be NULL: skip). */
static TsStatus parse_string(Parser *p, char **out) {
  if (out) *out = NULL;
  if (!eat(p, '"')) return perr(p, "expected a string");
  char *buf = malloc(p->n - p->i + 1); /* the decoded text is never longer */
  if (!buf) return ts_error_set(p->err, TS_ERR_NOMEM, "'%s': header string", p->path);
  size_t k = 0;
  for (;;) {
    if (p->i >= p->n) {
      free(buf);
      return perr(p, "unterminated string");
    }
    unsigned char c = (unsigned char)p->s[p->i++];
    if (c == '"') break;
    if (c < 0x20) {
      free(buf);
      return perr(p, "control character in a string");
    }
    if (c != '\\') {
      buf[k++] = (char)c;
      continue;
    }
    if (p->i >= p->n) {
      free(buf);
      return perr(p, "unterminated escape");
    }
    char e = p->s[p->i++];
    switch (e) {
    case '"': buf[k++] = '"'; break;
    case '\\': buf[k++] = '\\'; break;
    case '/': buf[k++] = '/'; break;
    case 'b': buf[k++] = '\b'; break;
    case 'f': buf[k++] = '\f'; break;
    case 'n': buf[k++] = '\n'; break;
    case 'r': buf[k++] = '\r'; break;
    case 't': buf[k++] = '\t'; break;
    case 'u': {
      unsigned cp = 0;
      for (int j = 0; j < 4; j++) {
        int h = p->i < p->n ? hexval(p->s[p->i++]) : -1;
        if (h < 0) {
          free(buf);
          return perr(p, "bad \\u escape");
        }
        cp = cp * 16 + (unsigned)h;
      }
      if (cp >= 0xD800 && cp <= 0xDBFF && p->i + 6 <= p->n && p->s[p->i] == '\\' && p->s[p->i + 1] == 'u') {
        unsigned lo = 0;
        int ok = 1;
        for (int j = 0; j < 4; j++) {
          int h = hexval(p->s[p->i + 2 + (size_t)j]);
          ok &= h >= 0;
          lo = lo * 16 + (unsigned)(h < 0 ? 0 : h);
        }
        if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          p->i += 6;
        }
      }
      /* UTF-8 (at most 4 bytes; "\uXXXX" is 6, so the buffer bound holds) */
      if (cp < 0x80) {
        buf[k++] = (char)cp;
      } else if (cp < 0x800) {
        buf[k++] = (char)(0xC0 | (cp >> 6));
        buf[k++] = (char)(0x80 | (cp & 0x3F));
      } else if (cp < 0x10000) {
        buf[k++] = (char)(0xE0 | (cp >> 12));
        buf[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[k++] = (char)(0x80 | (cp & 0x3F));
      } else {
        buf[k++] = (char)(0xF0 | (cp >> 18));
        buf[k++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[k++] = (char)(0x80 | (cp & 0x3F));
      }
      break;
    }
    default: free(buf); return perr(p, "bad escape");
    }
  }
  buf[k] = '\0';
  if (out) *out = buf;
  else free(buf);
  return TS_OK;
}

/* A non-negative integer (shapes and offsets). */
static TsStatus parse_uint(Parser *p, uint64_t *out) {
  ws(p);
  if (p->i >= p->n || p->s[p->i] < '0' || p->s[p->i] > '9') return perr(p, "expected a non-negative integer");
  uint64_t v = 0;
  while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9') {
    unsigned d = (unsigned)(p->s[p->i] - '0');
    if (v > (UINT64_MAX - d) / 10) return perr(p, "integer too large");
    v = v * 10 + d;
    p->i++;
  }
  if (p->i < p->n && (p->s[p->i] == '.' || p->s[p->i] == 'e' || p->s[p->i] == 'E'))
    return perr(p, "expected an integer");
  *out = v;
  return TS_OK;
}

static TsStatus skip_value(Parser *p, int depth) {
  if (depth > 64) return perr(p, "nested too deeply");
  ws(p);
  if (p->i >= p->n) return perr(p, "expected a value");
  char c = p->s[p->i];
  if (c == '"') return parse_string(p, NULL);
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    p->i++;
    if (eat(p, close)) return TS_OK;
    do {
      if (c == '{') {
        TsStatus st = parse_string(p, NULL);
        if (st) return st;
        if (!eat(p, ':')) return perr(p, "expected ':'");
      }
      TsStatus st = skip_value(p, depth + 1);
      if (st) return st;
    } while (eat(p, ','));
    if (!eat(p, close)) return perr(p, c == '{' ? "expected ',' or '}'" : "expected ',' or ']'");
    return TS_OK;
  }
  size_t start = p->i;
  while (p->i < p->n && (strchr("+-.eE", p->s[p->i]) || (p->s[p->i] >= '0' && p->s[p->i] <= '9') ||
                         (p->s[p->i] >= 'a' && p->s[p->i] <= 'z')))
    p->i++;
  size_t len = p->i - start;
  if (len == 0) return perr(p, "unexpected character");
  if ((c >= 'a' && c <= 'z') && !((len == 4 && !memcmp(p->s + start, "true", 4)) ||
                                  (len == 5 && !memcmp(p->s + start, "false", 5)) ||
                                  (len == 4 && !memcmp(p->s + start, "null", 4))))
    return perr(p, "bad literal");
  return TS_OK;
}

static TsStatus tensor_err(Parser *p, const char *name, const char *what) {
  return ts_error_set(p->err, TS_ERR_FORMAT, "'%s': tensor '%s': %s", p->path, name, what);
}

static TsStatus parse_tensor(Parser *p, TsStTensor *t, uint64_t off[2]) {
  if (!eat(p, '{')) return tensor_err(p, t->name, "expected an object");
  int have_dtype = 0, have_shape = 0, have_off = 0;
  if (!eat(p, '}')) {
    do {
      char *key;
      TsStatus st = parse_string(p, &key);
      if (st) return st;
      if (!eat(p, ':')) {
        free(key);
        return perr(p, "expected ':'");
      }
      if (strcmp(key, "dtype") == 0) {
        char *dt;
        free(key);
        if ((st = parse_string(p, &dt))) return st;
        int found = -1;
        for (size_t k = 0; k < sizeof dtypes / sizeof dtypes[0]; k++)
          if (strcmp(dt, dtypes[k].name) == 0) found = (int)k;
        if (found < 0) {
          char msg[96];
          snprintf(msg, sizeof msg, "unknown dtype \"%.40s\"", dt);
          free(dt);
          return tensor_err(p, t->name, msg);
        }
        free(dt);
        t->dtype = (TsStDType)found;
        have_dtype = 1;
      } else if (strcmp(key, "shape") == 0) {
        free(key);
        if (!eat(p, '[')) return tensor_err(p, t->name, "shape is not an array");
        t->ndim = 0;
        if (!eat(p, ']')) {
          do {
            uint64_t d;
            if ((st = parse_uint(p, &d))) return st;
            if (t->ndim == TS_ST_MAX_DIMS) return tensor_err(p, t->name, "more than 8 axes");
            if (d > (uint64_t)INT64_MAX) return tensor_err(p, t->name, "axis too large");
            t->shape[t->ndim++] = (int64_t)d;
          } while (eat(p, ','));
          if (!eat(p, ']')) return perr(p, "expected ',' or ']' in a shape");
        }
        have_shape = 1;
      } else if (strcmp(key, "data_offsets") == 0) {
        free(key);
        if (!eat(p, '[')) return tensor_err(p, t->name, "data_offsets is not an array");
        if ((st = parse_uint(p, &off[0]))) return st;
        if (!eat(p, ',')) return tensor_err(p, t->name, "data_offsets needs two numbers");
        if ((st = parse_uint(p, &off[1]))) return st;
        if (!eat(p, ']')) return tensor_err(p, t->name, "data_offsets needs two numbers");
        have_off = 1;
      } else {
        free(key);
        if ((st = skip_value(p, 1))) return st;
      }
    } while (eat(p, ','));
    if (!eat(p, '}')) return perr(p, "expected ',' or '}'");
  }
  if (!have_dtype || !have_shape || !have_off)
    return tensor_err(p, t->name, !have_dtype ? "no dtype" : !have_shape ? "no shape" : "no data_offsets");
  return TS_OK;
}

static TsStatus parse_metadata(Parser *p, TsSafetensors *st) {
  if (!eat(p, '{')) return perr(p, "__metadata__ is not an object");
  if (eat(p, '}')) return TS_OK;
  do {
    char *k = NULL, *v = NULL;
    TsStatus s = parse_string(p, &k);
    if (s) return s;
    if (!eat(p, ':')) {
      free(k);
      return perr(p, "expected ':'");
    }
    ws(p);
    if (p->i < p->n && p->s[p->i] != '"') {
      free(k);
      return perr(p, "__metadata__ values must be strings");
    }
    if ((s = parse_string(p, &v))) {
      free(k);
      return s;
    }
    char **nk = realloc(st->meta_keys, (st->n_meta + 1) * sizeof *nk);
    if (nk) st->meta_keys = nk;
    char **nv = nk ? realloc(st->meta_values, (st->n_meta + 1) * sizeof *nv) : NULL;
    if (nv) st->meta_values = nv;
    if (!nk || !nv) {
      free(k);
      free(v);
      return ts_error_set(p->err, TS_ERR_NOMEM, "'%s': metadata", p->path);
    }
    st->meta_keys[st->n_meta] = k;
    st->meta_values[st->n_meta++] = v;
  } while (eat(p, ','));
  if (!eat(p, '}')) return perr(p, "expected ',' or '}' in __metadata__");
  return TS_OK;
}

typedef struct Range {
  uint64_t begin, end;
  size_t index;
} Range;

static int cmp_range(const void *a, const void *b) {
  const Range *x = a, *y = b;
  if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(((const TsStTensor *)a)->name, ((const TsStTensor *)b)->name);
}

void ts_safetensors_clear(TsSafetensors *st) {
  if (!st) return;
  for (size_t i = 0; i < st->n; i++) free(st->tensors[i].name);
  free(st->tensors);
  for (size_t i = 0; i < st->n_meta; i++) {
    free(st->meta_keys[i]);
    free(st->meta_values[i]);
  }
  free(st->meta_keys);
  free(st->meta_values);
  free(st->buf);
  free(st->path);
  memset(st, 0, sizeof *st);
}

TsStatus ts_safetensors_parse(const char *path, uint8_t *buf, size_t size, TsSafetensors *st, TsError *err) {
  memset(st, 0, sizeof *st);
  st->buf = buf;
  st->size = size;
  st->path = strdup(path);
  if (!st->path) {
    ts_safetensors_clear(st);
    return ts_error_set(err, TS_ERR_NOMEM, "'%s'", path);
  }
  TsStatus s = TS_OK;
  Range *ranges = NULL;
  uint64_t *offs = NULL;
  if (size < 8) {
    s = ts_error_set(err, TS_ERR_FORMAT, "'%s': not a safetensors file (%zu bytes, shorter than the 8-byte header length)",
                     path, size);
    goto done;
  }
  uint64_t hlen = 0;
  for (int k = 7; k >= 0; k--) hlen = (hlen << 8) | buf[k];
  if (hlen == 0 || hlen > TS_ST_MAX_HEADER || hlen > size - 8) {
    s = ts_error_set(err, TS_ERR_FORMAT,
                     "'%s': not a safetensors file: header length %llu does not fit the file of %zu bytes", path,
                     (unsigned long long)hlen, size);
    goto done;
  }
  Parser p = {.s = (const char *)buf + 8, .i = 0, .n = (size_t)hlen, .path = path, .err = err};
  size_t data_len = size - 8 - (size_t)hlen;
  const uint8_t *data = buf + 8 + hlen;
  if (!eat(&p, '{')) {
    s = perr(&p, "not a JSON object");
    goto done;
  }
  size_t cap = 0;
  if (!eat(&p, '}')) {
    do {
      char *name;
      if ((s = parse_string(&p, &name))) goto done;
      if (!eat(&p, ':')) {
        free(name);
        s = perr(&p, "expected ':'");
        goto done;
      }
      if (strcmp(name, "__metadata__") == 0) {
        free(name);
        if ((s = parse_metadata(&p, st))) goto done;
        continue;
      }
      if (st->n == cap) {
        cap = cap ? 2 * cap : 64;
        TsStTensor *nt = realloc(st->tensors, cap * sizeof *nt);
        uint64_t *no = nt ? realloc(offs, cap * 2 * sizeof *no) : NULL;
        if (nt) st->tensors = nt;
        if (no) offs = no;
        if (!nt || !no) {
          free(name);
          s = ts_error_set(err, TS_ERR_NOMEM, "'%s': header", path);
          goto done;
        }
      }
      TsStTensor *t = &st->tensors[st->n];
      memset(t, 0, sizeof *t);
      t->name = name;
      st->n++;
      if ((s = parse_tensor(&p, t, offs + 2 * (st->n - 1)))) goto done;
    } while (eat(&p, ','));
    if (!eat(&p, '}')) {
      s = perr(&p, "expected ',' or '}'");
      goto done;
    }
  }
  ws(&p);
  if (p.i != p.n) {
    s = perr(&p, "text after the JSON object");
    goto done;
  }
  /* Each tensor: its byte count, its range inside the data. */
  ranges = calloc(st->n ? st->n : 1, sizeof *ranges);
  if (!ranges) {
    s = ts_error_set(err, TS_ERR_NOMEM, "'%s': header", path);
    goto done;
  }
  for (size_t i = 0; i < st->n; i++) {
    TsStTensor *t = &st->tensors[i];
    size_t numel = 1, nbytes;
    for (int d = 0; d < t->ndim; d++)
      if (ts_mul_size(numel, (size_t)t->shape[d], &numel) != 0) {
        s = ts_error_set(err, TS_ERR_FORMAT, "'%s': tensor '%s': shape too large", path, t->name);
        goto done;
      }
    if (ts_mul_size(numel, dtypes[t->dtype].size, &nbytes) != 0) {
      s = ts_error_set(err, TS_ERR_FORMAT, "'%s': tensor '%s': shape too large", path, t->name);
      goto done;
    }
    uint64_t b = offs[2 * i], e = offs[2 * i + 1];
    if (b > e || e > data_len) {
      s = ts_error_set(err, TS_ERR_FORMAT, "'%s': tensor '%s': data_offsets [%llu, %llu] outside the %zu data bytes",
                       path, t->name, (unsigned long long)b, (unsigned long long)e, data_len);
      goto done;
    }
    if (e - b != nbytes) {
      s = ts_error_set(err, TS_ERR_FORMAT,
                       "'%s': tensor '%s': data_offsets hold %llu bytes but %s with %zu elements needs %zu", path,
                       t->name, (unsigned long long)(e - b), dtypes[t->dtype].name, numel, nbytes);
      goto done;
    }
    t->numel = numel;
    t->nbytes = nbytes;
    t->data = data + b;
    ranges[i] = (Range){b, e, i};
  }
  if (st->n > 1) qsort(ranges, st->n, sizeof *ranges, cmp_range);
  uint64_t at = 0;
  for (size_t i = 0; i < st->n; i++) {
    if (ranges[i].begin != at) {
      s = ts_error_set(err, TS_ERR_FORMAT, "'%s': tensor '%s': data %s the previous tensor's", path,
                       st->tensors[ranges[i].index].name, ranges[i].begin < at ? "overlaps" : "leaves a gap after");
      goto done;
    }
    at = ranges[i].end;
  }
  if (at != data_len) {
    s = ts_error_set(err, TS_ERR_FORMAT, "'%s': %llu bytes after the last tensor's data", path,
                     (unsigned long long)(data_len - at));
    goto done;
  }
  /* Sorted by name for lookup; duplicates are an error. */
  if (st->n > 1) qsort(st->tensors, st->n, sizeof *st->tensors, cmp_name);
  for (size_t i = 1; i < st->n; i++)
    if (strcmp(st->tensors[i - 1].name, st->tensors[i].name) == 0) {
      s = ts_error_set(err, TS_ERR_FORMAT, "'%s': tensor '%s' appears twice", path, st->tensors[i].name);
      goto done;
    }
done:
  free(ranges);
  free(offs);
  if (s != TS_OK) ts_safetensors_clear(st);
  return s;
}

TsStatus ts_safetensors_read(const char *path, TsSafetensors *st, TsError *err) {
  memset(st, 0, sizeof *st);
  FILE *f = fopen(path, "rb");
  if (!f) return ts_error_errno(err, errno, "cannot open '%s'", path);
  struct stat sb;
  if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
    fclose(f);
    return ts_error_set(err, TS_ERR_IO, "cannot read '%s': not a regular file", path);
  }
  size_t size = (size_t)sb.st_size;
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) {
    fclose(f);
    return ts_error_set(err, TS_ERR_NOMEM, "'%s': cannot allocate %zu bytes", path, size);
  }
  if (fread(buf, 1, size, f) != size) {
    fclose(f);
    free(buf);
    return ts_error_set(err, TS_ERR_IO, "cannot read '%s': short read", path);
  }
  fclose(f);
  return ts_safetensors_parse(path, buf, size, st, err);
}

const TsStTensor *ts_safetensors_find(const TsSafetensors *st, const char *name) {
  size_t lo = 0, hi = st->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(st->tensors[mid].name, name);
    if (c == 0) return &st->tensors[mid];
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return NULL;
}

const char *ts_safetensors_meta(const TsSafetensors *st, const char *key) {
  for (size_t i = 0; i < st->n_meta; i++)
    if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
  return NULL;
}

static void shape_text(char *buf, size_t n, int ndim, const int64_t *shape) {
  size_t k = (size_t)snprintf(buf, n, "[");
  for (int d = 0; d < ndim && k < n; d++) k += (size_t)snprintf(buf + k, n - k, d ? ", %lld" : "%lld", (long long)shape[d]);
  if (k < n) snprintf(buf + k, n - k, "]");
}

TsStatus ts_safetensors_load_into(const TsSafetensors *st, const char *prefix, const TsNamedTensor *dst,
                                  TsError *err) {
  char full[TS_TENSOR_NAME_MAX + 64];
  snprintf(full, sizeof full, "%s%s", prefix ? prefix : "", dst->name);
  const TsStTensor *t = ts_safetensors_find(st, full);
  if (!t) return ts_error_set(err, TS_ERR_FORMAT, "'%s': no tensor '%s'", st->path, full);
  TsStDType want = dst->dtype == TS_NN_I64 ? TS_ST_I64 : TS_ST_F32;
  if (t->dtype != want)
    return ts_error_set(err, TS_ERR_FORMAT, "'%s': tensor '%s' is %s, expected %s", st->path, full,
                        dtypes[t->dtype].name, dtypes[want].name);
  /* Same shape, where a scalar [] and [1] count as equal (PyTorch accepts both). */
  int same = t->numel == dst->numel;
  if (same && !(dst->numel == 1 && t->ndim <= 1 && dst->ndim <= 1)) {
    same = t->ndim == dst->ndim;
    for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == dst->shape[d];
  }
  if (!same) {
    char a[128], b[128];
    shape_text(a, sizeof a, t->ndim, t->shape);
    shape_text(b, sizeof b, dst->ndim, dst->shape);
    return ts_error_set(err, TS_ERR_FORMAT, "'%s': tensor '%s' has shape %s, the model expects %s", st->path, full, a,
                        b);
  }
  memcpy(dst->data, t->data, t->nbytes);
  if (want == TS_ST_F32) {
    const float *v = dst->data;
    for (size_t i = 0; i < dst->numel; i++)
      if (v[i] != v[i]) return ts_error_set(err, TS_ERR_FORMAT, "'%s': tensor '%s' holds NaN at %zu", st->path, full, i);
  }
  return TS_OK;
}

TsStatus ts_safetensors_load_all(const TsSafetensors *st, const char *prefix, const TsNamedTensor *dst, size_t n,
                                 int strict, TsError *err) {
  for (size_t i = 0; i < n; i++) {
    TsStatus s = ts_safetensors_load_into(st, prefix, &dst[i], err);
    if (s) return s;
  }
  if (!strict) return TS_OK;
  size_t plen = prefix ? strlen(prefix) : 0;
  for (size_t i = 0; i < st->n; i++) {
    const char *name = st->tensors[i].name;
    if (plen && strncmp(name, prefix, plen) != 0) continue;
    int found = 0;
    for (size_t j = 0; j < n && !found; j++) found = strcmp(name + plen, dst[j].name) == 0;
    if (!found && (plen || strncmp(name, "optim.", 6) != 0))
      return ts_error_set(err, TS_ERR_FORMAT, "'%s': unexpected tensor '%s' (not in the model)", st->path, name);
  }
  return TS_OK;
}

/* ---- writer ------------------------------------------------------------ */

typedef struct WItem {
  char *name;
  TsStDType dtype;
  int ndim;
  int64_t shape[TS_ST_MAX_DIMS];
  const void *data;
  size_t nbytes;
} WItem;

struct TsStWriter {
  WItem *items;
  size_t n, cap;
  char **mk, **mv;
  size_t nm;
};

TsStWriter *ts_st_writer_new(TsError *err) {
  TsStWriter *w = calloc(1, sizeof *w);
  if (!w) ts_error_set(err, TS_ERR_NOMEM, "safetensors writer");
  return w;
}

void ts_st_writer_free(TsStWriter *w) {
  if (!w) return;
  for (size_t i = 0; i < w->n; i++) free(w->items[i].name);
  free(w->items);
  for (size_t i = 0; i < w->nm; i++) {
    free(w->mk[i]);
    free(w->mv[i]);
  }
  free(w->mk);
  free(w->mv);
  free(w);
}

TsStatus ts_st_writer_add(TsStWriter *w, const char *name, TsStDType dtype, int ndim, const int64_t *shape,
                          const void *data, TsError *err) {
  if (ndim < 0 || ndim > TS_ST_MAX_DIMS || !name || !*name || strcmp(name, "__metadata__") == 0)
    return ts_error_set(err, TS_ERR_INVALID, "safetensors: bad tensor '%s'", name ? name : "(null)");
  size_t nbytes = dtypes[dtype].size;
  for (int d = 0; d < ndim; d++)
    if (shape[d] < 0 || ts_mul_size(nbytes, (size_t)shape[d], &nbytes) != 0)
      return ts_error_set(err, TS_ERR_INVALID, "safetensors: tensor '%s' has a bad shape", name);
  for (size_t i = 0; i < w->n; i++)
    if (strcmp(w->items[i].name, name) == 0)
      return ts_error_set(err, TS_ERR_INVALID, "safetensors: tensor '%s' added twice", name);
  if (w->n == w->cap) {
    size_t cap = w->cap ? 2 * w->cap : 64;
    WItem *ni = realloc(w->items, cap * sizeof *ni);
    if (!ni) return ts_error_set(err, TS_ERR_NOMEM, "safetensors writer");
    w->items = ni;
    w->cap = cap;
  }
  WItem *it = &w->items[w->n];
  memset(it, 0, sizeof *it);
  if (!(it->name = strdup(name))) return ts_error_set(err, TS_ERR_NOMEM, "safetensors writer");
  it->dtype = dtype;
  it->ndim = ndim;
  for (int d = 0; d < ndim; d++) it->shape[d] = shape[d];
  it->data = data;
  it->nbytes = nbytes;
  w->n++;
  return TS_OK;
}

TsStatus ts_st_writer_add_named(TsStWriter *w, const char *prefix, const TsNamedTensor *t, size_t n, TsError *err) {
  for (size_t i = 0; i < n; i++) {
    char full[TS_TENSOR_NAME_MAX + 64];
    snprintf(full, sizeof full, "%s%s", prefix ? prefix : "", t[i].name);
    TsStatus s = ts_st_writer_add(w, full, t[i].dtype == TS_NN_I64 ? TS_ST_I64 : TS_ST_F32, t[i].ndim, t[i].shape,
                                  t[i].data, err);
    if (s) return s;
  }
  return TS_OK;
}

TsStatus ts_st_writer_meta(TsStWriter *w, const char *key, const char *value, TsError *err) {
  for (size_t i = 0; i < w->nm; i++)
    if (strcmp(w->mk[i], key) == 0) {
      char *v = strdup(value);
      if (!v) return ts_error_set(err, TS_ERR_NOMEM, "safetensors metadata");
      free(w->mv[i]);
      w->mv[i] = v;
      return TS_OK;
    }
  char **nk = realloc(w->mk, (w->nm + 1) * sizeof *nk);
  if (nk) w->mk = nk;
  char **nv = nk ? realloc(w->mv, (w->nm + 1) * sizeof *nv) : NULL;
  if (nv) w->mv = nv;
  if (!nk || !nv) return ts_error_set(err, TS_ERR_NOMEM, "safetensors metadata");
  w->mk[w->nm] = strdup(key);
  w->mv[w->nm] = strdup(value);
  w->nm++;
  if (!w->mk[w->nm - 1] || !w->mv[w->nm - 1]) return ts_error_set(err, TS_ERR_NOMEM, "safetensors metadata");
  return TS_OK;
}

TsStatus ts_st_writer_write(TsStWriter *w, const char *path, TsError *err) {
  TsJson j;
  ts_json_init(&j);
  ts_json_object_begin(&j);
  if (w->nm) {
    ts_json_key(&j, "__metadata__");
    ts_json_object_begin(&j);
    for (size_t i = 0; i < w->nm; i++) ts_json_kv_string(&j, w->mk[i], w->mv[i]);
    ts_json_object_end(&j);
  }
  uint64_t at = 0;
  for (size_t i = 0; i < w->n; i++) {
    const WItem *it = &w->items[i];
    ts_json_key(&j, it->name);
    ts_json_object_begin(&j);
    ts_json_kv_string(&j, "dtype", dtypes[it->dtype].name);
    ts_json_key(&j, "shape");
    ts_json_array_begin(&j);
    for (int d = 0; d < it->ndim; d++) ts_json_int(&j, it->shape[d]);
    ts_json_array_end(&j);
    ts_json_key(&j, "data_offsets");
    ts_json_array_begin(&j);
    ts_json_int(&j, (int64_t)at);
    ts_json_int(&j, (int64_t)(at + it->nbytes));
    ts_json_array_end(&j);
    ts_json_object_end(&j);
    at += it->nbytes;
  }
  ts_json_object_end(&j);
  const char *text = ts_json_text(&j);
  if (!text) {
    ts_json_clear(&j);
    return ts_error_set(err, TS_ERR_NOMEM, "'%s': header", path);
  }
  size_t hlen = strlen(text), padded = (hlen + 7) / 8 * 8;
  char tmp[4200];
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
    ts_json_clear(&j);
    return ts_error_set(err, TS_ERR_INVALID, "'%s': path too long", path);
  }
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    ts_json_clear(&j);
    return ts_error_errno(err, errno, "cannot create '%s'", tmp);
  }
  uint8_t len8[8];
  for (int k = 0; k < 8; k++) len8[k] = (uint8_t)((uint64_t)padded >> (8 * k));
  int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(text, 1, hlen, f) == hlen;
  for (size_t k = hlen; ok && k < padded; k++) ok = fputc(' ', f) != EOF;
  for (size_t i = 0; ok && i < w->n; i++)
    ok = w->items[i].nbytes == 0 || fwrite(w->items[i].data, 1, w->items[i].nbytes, f) == w->items[i].nbytes;
  ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
  int e = errno;
  ok = (fclose(f) == 0) && ok;
  ts_json_clear(&j);
  if (!ok) {
    unlink(tmp);
    return ts_error_errno(err, e ? e : EIO, "cannot write '%s'", tmp);
  }
  if (rename(tmp, path) != 0) {
    e = errno;
    unlink(tmp);
    return ts_error_errno(err, e, "cannot rename '%s' to '%s'", tmp, path);
  }
  return TS_OK;
}
