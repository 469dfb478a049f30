#include "base/json.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ts_json_init(TsJson *j) {
  memset(j, 0, sizeof *j);
  j->first[0] = 1;
}

void ts_json_clear(TsJson *j) {
  free(j->buf);
  ts_json_init(j);
}

static void put(TsJson *j, const char *s, size_t n) {
  if (j->failed) return;
  if (j->len + n + 1 > j->cap) {
    size_t cap = j->cap ? j->cap : 256;
    while (cap < j->len + n + 1) cap *= 2;
    char *b = realloc(j->buf, cap);
    if (!b) {
      j->failed = 1;
      return;
    }
    j->buf = b;
    j->cap = cap;
  }
  memcpy(j->buf + j->len, s, n);
  j->len += n;
  j->buf[j->len] = '\0';
}

static void puts_(TsJson *j, const char *s) { put(j, s, strlen(s)); }

/* Before any value: a comma if this is not the first element of the
 * container, unless the value follows a key. */
static void before_value(TsJson *j) {
  if (j->after_key) {
    j->after_key = 0;
    return;
  }
  if (!j->first[j->depth]) put(j, ",", 1);
  j->first[j->depth] = 0;
}

static void open_(TsJson *j, const char *c) {
  before_value(j);
  puts_(j, c);
  if (j->depth + 1 >= TS_JSON_MAX_DEPTH) {
    j->failed = 1;
    return;
  }
  j->depth++;
  j->first[j->depth] = 1;
}

static void close_(TsJson *j, const char *c) {
  if (j->depth == 0) {
    j->failed = 1;
    return;
  }
  j->depth--;
  puts_(j, c);
}

void ts_json_object_begin(TsJson *j) { open_(j, "{"); }
void ts_json_object_end(TsJson *j) { close_(j, "}"); }
void ts_json_array_begin(TsJson *j) { open_(j, "["); }
void ts_json_array_end(TsJson *j) { close_(j, "]"); }

static void put_escaped(TsJson *j, const char *s) {
  put(j, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    char tmp[8];
    switch (*p) {
    case '"': puts_(j, "\\\""); break;
    case '\\': puts_(j, "\\\\"); break;
    case '\n': puts_(j, "\\n"); break;
    case '\r': puts_(j, "\\r"); break;
    case '\t': puts_(j, "\\t"); break;
    default:
      if (*p < 0x20) {
        snprintf(tmp, sizeof tmp, "\\u%04x", *p);
        puts_(j, tmp);
      } else {
        put(j, (const char *)p, 1);
      }
    }
  }
  put(j, "\"", 1);
}

void ts_json_key(TsJson *j, const char *key) {
  before_value(j);
  put_escaped(j, key);
  put(j, ":", 1);
  j->after_key = 1;
}

void ts_json_string(TsJson *j, const char *s) {
  before_value(j);
  put_escaped(j, s);
}

void ts_json_number(TsJson *j, double v) {
  before_value(j);
  if (!isfinite(v)) {
    puts_(j, "null");
    return;
  }
  char tmp[32];
  snprintf(tmp, sizeof tmp, "%.17g", v);
  puts_(j, tmp);
}

void ts_json_int(TsJson *j, int64_t v) {
  before_value(j);
  char tmp[32];
  snprintf(tmp, sizeof tmp, "%" PRId64, v);
  puts_(j, tmp);
}

void ts_json_bool(TsJson *j, int v) {
  before_value(j);
  puts_(j, v ? "true" : "false");
}

void ts_json_null(TsJson *j) {
  before_value(j);
  puts_(j, "null");
}

void ts_json_kv_string(TsJson *j, const char *k, const char *s) { ts_json_key(j, k); ts_json_string(j, s); }
void ts_json_kv_number(TsJson *j, const char *k, double v) { ts_json_key(j, k); ts_json_number(j, v); }
void ts_json_kv_int(TsJson *j, const char *k, int64_t v) { ts_json_key(j, k); ts_json_int(j, v); }
void ts_json_kv_bool(TsJson *j, const char *k, int v) { ts_json_key(j, k); ts_json_bool(j, v); }

const char *ts_json_text(const TsJson *j) {
  if (j->failed) return NULL;
  return j->buf ? j->buf : "";
}

char *ts_json_steal(TsJson *j) {
  char *s = NULL;
  if (!j->failed) s = j->buf ? j->buf : strdup("");
  else free(j->buf);
  ts_json_init(j);
  return s;
}

/* ---- reader ---------------------------------------------------------- */

static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}

/* Returns the end of the string starting at p (p points at the quote), or NULL. */
static const char *skip_string(const char *p) {
  p++;
  while (*p && *p != '"') {
    if (*p == '\\') {
      p++;
      if (!*p) return NULL;
    }
    p++;
  }
  return *p == '"' ? p + 1 : NULL;
}

static const char *skip_value(const char *p, int depth) {
  p = skip_ws(p);
  if (depth > 256) return NULL;
  if (*p == '"') return skip_string(p);
  if (*p == '{' || *p == '[') {
    char close = *p == '{' ? '}' : ']';
    p = skip_ws(p + 1);
    if (*p == close) return p + 1;
    for (;;) {
      if (close == '}') {
        p = skip_ws(p);
        if (*p != '"') return NULL;
        p = skip_string(p);
        if (!p) return NULL;
        p = skip_ws(p);
        if (*p != ':') return NULL;
        p++;
      }
      p = skip_value(p, depth + 1);
      if (!p) return NULL;
      p = skip_ws(p);
      if (*p == ',') {
        p++;
        continue;
      }
      if (*p == close) return p + 1;
      return NULL;
    }
  }
  const char *start = p;
  while (*p && (isalnum((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.')) p++;
  return p > start ? p : NULL;
}

/* Compare the JSON string at p (escapes taken literally, which is fine for
 * the plain ASCII keys we look up) with key. */
static int key_equals(const char *p, const char *end, const char *key) {
  size_t n = (size_t)(end - p) - 2;
  return strlen(key) == n && memcmp(p + 1, key, n) == 0;
}

TsStatus ts_json_get_raw(const char *json, const char *key, const char **val, size_t *len, TsError *err) {
  const char *p = skip_ws(json ? json : "");
  if (*p != '{') return ts_error_set(err, TS_ERR_FORMAT, "not a JSON object");
  p = skip_ws(p + 1);
  if (*p == '}') return ts_error_set(err, TS_ERR_INVALID, "missing key '%s'", key);
  for (;;) {
    if (*p != '"') return ts_error_set(err, TS_ERR_FORMAT, "malformed JSON near '%.20s'", p);
    const char *kend = skip_string(p);
    if (!kend) return ts_error_set(err, TS_ERR_FORMAT, "unterminated JSON string");
    int match = key_equals(p, kend, key);
    p = skip_ws(kend);
    if (*p != ':') return ts_error_set(err, TS_ERR_FORMAT, "malformed JSON: expected ':'");
    const char *v = skip_ws(p + 1);
    const char *vend = skip_value(v, 0);
    if (!vend) return ts_error_set(err, TS_ERR_FORMAT, "malformed JSON value for '%s'", key);
    if (match) {
      *val = v;
      *len = (size_t)(vend - v);
      return TS_OK;
    }
    p = skip_ws(vend);
    if (*p == ',') {
      p = skip_ws(p + 1);
      continue;
    }
    if (*p == '}') return ts_error_set(err, TS_ERR_INVALID, "missing key '%s'", key);
    return ts_error_set(err, TS_ERR_FORMAT, "malformed JSON near '%.20s'", p);
  }
}

TsStatus ts_json_member_at(const char *json, size_t index, const char **key, size_t *key_len, const char **val,
                           size_t *len, TsError *err) {
  const char *p = skip_ws(json ? json : "");
  if (*p != '{') return ts_error_set(err, TS_ERR_FORMAT, "not a JSON object");
  p = skip_ws(p + 1);
  for (size_t i = 0; *p != '}'; i++) {
    if (*p != '"') return ts_error_set(err, TS_ERR_FORMAT, "malformed JSON near '%.20s'", p);
    const char *kend = skip_string(p);
    if (!kend) return ts_error_set(err, TS_ERR_FORMAT, "unterminated JSON string");
    const char *k = p;
    p = skip_ws(kend);
    if (*p != ':') return ts_error_set(err, TS_ERR_FORMAT, "malformed JSON: expected ':'");
    const char *v = skip_ws(p + 1);
    const char *vend = skip_value(v, 0);
    if (!vend) return ts_error_set(err, TS_ERR_FORMAT, "malformed JSON value");
    if (i == index) {
      *key = k + 1;
      *key_len = (size_t)(kend - k) - 2;
      *val = v;
      *len = (size_t)(vend - v);
      return TS_OK;
    }
    p = skip_ws(vend);
    if (*p == ',') p = skip_ws(p + 1);
    else if (*p != '}') return ts_error_set(err, TS_ERR_FORMAT, "malformed JSON near '%.20s'", p);
  }
  return ts_error_set(err, TS_ERR_INVALID, "no member %zu", index);
}

TsStatus ts_json_get_number(const char *json, const char *key, double *out, TsError *err) {
  const char *v;
  size_t n;
  TsStatus st = ts_json_get_raw(json, key, &v, &n, err);
  if (st) return st;
  if (n == 4 && memcmp(v, "null", 4) == 0) {
    *out = NAN;
    return TS_OK;
  }
  char tmp[64];
  if (n >= sizeof tmp) return ts_error_set(err, TS_ERR_FORMAT, "'%s' is not a number", key);
  memcpy(tmp, v, n);
  tmp[n] = '\0';
  char *end;
  double d = strtod(tmp, &end);
  if (end == tmp || *end) return ts_error_set(err, TS_ERR_FORMAT, "'%s' is not a number", key);
  *out = d;
  return TS_OK;
}

TsStatus ts_json_get_int(const char *json, const char *key, int64_t *out, TsError *err) {
  const char *v;
  size_t n;
  TsStatus st = ts_json_get_raw(json, key, &v, &n, err);
  if (st) return st;
  char tmp[32];
  if (n >= sizeof tmp) return ts_error_set(err, TS_ERR_FORMAT, "'%s' is not an integer", key);
  memcpy(tmp, v, n);
  tmp[n] = '\0';
  char *end;
  long long x = strtoll(tmp, &end, 10);
  if (end == tmp || *end) return ts_error_set(err, TS_ERR_FORMAT, "'%s' is not an integer", key);
  *out = x;
  return TS_OK;
}

TsStatus ts_json_get_string(const char *json, const char *key, char *out, size_t n, TsError *err) {
  const char *v;
  size_t len;
  TsStatus st = ts_json_get_raw(json, key, &v, &len, err);
  if (st) return st;
  if (*v != '"') return ts_error_set(err, TS_ERR_FORMAT, "'%s' is not a string", key);
  size_t o = 0;
  for (const char *p = v + 1; p < v + len - 1 && o + 1 < n; p++) {
    char c = *p;
    if (c == '\\') {
      p++;
      switch (*p) {
      case 'n': c = '\n'; break;
      case 't': c = '\t'; break;
      case 'r': c = '\r'; break;
      case 'u': c = '?'; p += 4; break; /* non-ASCII escapes are not used by our writers */
      default: c = *p;
      }
    }
    out[o++] = c;
  }
  if (n) out[o] = '\0';
  return TS_OK;
}

char *ts_json_pretty(const char *json) {
  TsJson j;
  ts_json_init(&j);
  int depth = 0;
  for (const char *p = json; *p; p++) {
    if (*p == '"') {
      const char *e = skip_string(p);
      if (!e) e = p + strlen(p);
      put(&j, p, (size_t)(e - p));
      p = e - 1;
    } else if (*p == '{' || *p == '[') {
      put(&j, p, 1);
      const char *q = skip_ws(p + 1);
      if (*q == '}' || *q == ']') {
        put(&j, q, 1);
        p = q;
        continue;
      }
      depth++;
      put(&j, "\n", 1);
      for (int i = 0; i < depth; i++) put(&j, "  ", 2);
    } else if (*p == '}' || *p == ']') {
      depth--;
      put(&j, "\n", 1);
      for (int i = 0; i < depth; i++) put(&j, "  ", 2);
      put(&j, p, 1);
    } else if (*p == ',') {
      put(&j, ",\n", 2);
      for (int i = 0; i < depth; i++) put(&j, "  ", 2);
    } else if (*p == ':') {
      put(&j, ": ", 2);
    } else if (!isspace((unsigned char)*p)) {
      put(&j, p, 1);
    }
  }
  return ts_json_steal(&j);
}
