/* playground-state.c — clouds, presets and the playground's JSON file. */
#include "playground-state.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/rng.h"

const char *const ts_playground_loss_names[TS_PLAYGROUND_LOSSES] = {
    "bottleneck0", "bottleneck1", "persentropy0", "persentropy1", "dsigma0", "dsigma1", "density"};

void ts_cloud_init(TsCloud *c) { memset(c, 0, sizeof *c); }

void ts_cloud_clear(TsCloud *c) {
  free(c->xy);
  ts_cloud_init(c);
}

TsStatus ts_cloud_add(TsCloud *c, double x, double y, TsError *err) {
  if (!isfinite(x) || !isfinite(y)) return ts_error_set(err, TS_ERR_INVALID, "a point must have finite coordinates");
  if (c->n >= TS_PLAYGROUND_MAX_POINTS)
    return ts_error_set(err, TS_ERR_INVALID, "a playground cloud holds at most %d points", TS_PLAYGROUND_MAX_POINTS);
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 64;
    double *xy = realloc(c->xy, cap * 2 * sizeof *xy);
    if (!xy) return ts_error_set(err, TS_ERR_NOMEM, "out of memory for %zu points", cap);
    c->xy = xy, c->cap = cap;
  }
  c->xy[2 * c->n] = x;
  c->xy[2 * c->n + 1] = y;
  c->n++;
  return TS_OK;
}

void ts_cloud_remove(TsCloud *c, size_t i) {
  if (i >= c->n) return;
  memmove(c->xy + 2 * i, c->xy + 2 * i + 2, (c->n - i - 1) * 2 * sizeof *c->xy);
  c->n--;
}

TsStatus ts_cloud_copy(TsCloud *dst, const TsCloud *src, TsError *err) {
  ts_cloud_clear(dst);
  for (size_t i = 0; i < src->n; i++)
    if (ts_cloud_add(dst, src->xy[2 * i], src->xy[2 * i + 1], err) != TS_OK) return err ? err->code : TS_ERR_NOMEM;
  return TS_OK;
}

void ts_playground_state_init(TsPlaygroundState *s) {
  memset(s, 0, sizeof *s);
  ts_cloud_init(&s->cloud);
  ts_cloud_init(&s->target);
  s->seed = 1;
  s->lr = 0.01;
  s->weights[0] = s->weights[1] = 1; /* Topo-GEN's synthetic tests */
  s->r = NAN;
  s->dim = 1;
}

void ts_playground_state_clear(TsPlaygroundState *s) {
  ts_cloud_clear(&s->cloud);
  ts_cloud_clear(&s->target);
  ts_playground_state_init(s);
}

/* --- presets --------------------------------------------------------------- */

static const TsPlaygroundPreset presets[] = {
    {"clusters", "Three clusters", 0, 0},
    {"circle", "Circle", 0, 0},
    {"two-segments", "Two segments", 0, 0},
    {"figure-eight", "Figure eight", 0, 0},
    {"noisy-annulus", "Noisy annulus", 0, 0},
    {"topogen-1", "Topo-GEN test 1: five clusters → three points", 1, 0.01},
    {"topogen-2", "Topo-GEN test 2: two clusters → four", 1, 0.05},
    {"topogen-3", "Topo-GEN test 3: two segments → circle", 1, 0.1},
};

size_t ts_playground_preset_count(void) { return sizeof presets / sizeof presets[0]; }
const TsPlaygroundPreset *ts_playground_preset_get(size_t i) {
  return i < ts_playground_preset_count() ? &presets[i] : NULL;
}

int ts_playground_preset_find(const char *id) {
  for (size_t i = 0; id && i < ts_playground_preset_count(); i++)
    if (strcmp(presets[i].id, id) == 0) return (int)i;
  return -1;
}

static double unif(TsRng *r, double h) { return (2 * ts_rng_uniform(r) - 1) * h; }

/* count points uniform in the square of half-side h around (cx, cy). */
static TsStatus box(TsCloud *c, TsRng *r, int count, double cx, double cy, double h, TsError *err) {
  for (int i = 0; i < count; i++) {
    double x = cx + unif(r, h), y = cy + unif(r, h);
    TsStatus st = ts_cloud_add(c, x, y, err);
    if (st) return st;
  }
  return TS_OK;
}

static TsStatus ring(TsCloud *c, TsRng *r, int count, double cx, double cy, double radius, double noise,
                     TsError *err) {
  for (int i = 0; i < count; i++) {
    double a = 2 * M_PI * i / count;
    double x = cx + radius * cos(a) + noise * ts_rng_normal(r), y = cy + radius * sin(a) + noise * ts_rng_normal(r);
    TsStatus st = ts_cloud_add(c, x, y, err);
    if (st) return st;
  }
  return TS_OK;
}

/* Topo-GEN's third test starts from these: (U, 0.7 i + U) and (0.2 i + 5 + U, 0.9 i + U), U ~ U(-0.1, 0.1). */
static TsStatus segments(TsCloud *c, TsRng *r, TsError *err) {
  TsStatus st = TS_OK;
  for (int i = 0; i < 32 && !st; i++) st = ts_cloud_add(c, unif(r, 0.1), 0.7 * i + unif(r, 0.1), err);
  for (int i = 0; i < 32 && !st; i++) st = ts_cloud_add(c, 0.2 * i + 5 + unif(r, 0.1), 0.9 * i + unif(r, 0.1), err);
  return st;
}

TsStatus ts_playground_preset_fill(const char *id, uint64_t seed, TsCloud *out, TsCloud *target, TsError *err) {
  int k = ts_playground_preset_find(id);
  if (k < 0) return ts_error_set(err, TS_ERR_INVALID, "unknown playground preset '%s'", id ? id : "");
  TsRng r;
  ts_rng_init(&r, seed, (uint64_t)k);
  ts_cloud_clear(out);
  if (target && presets[k].pair) ts_cloud_clear(target);
  TsStatus st = TS_OK;
  switch (k) {
  case 0:
    st = box(out, &r, 20, 0, 0, 0.6, err);
    if (!st) st = box(out, &r, 20, 4, 0, 0.6, err);
    if (!st) st = box(out, &r, 20, 2, 3.5, 0.6, err);
    break;
  case 1: st = ring(out, &r, 40, 0, 0, 3, 0.05, err); break;
  case 2: st = segments(out, &r, err); break;
  case 3:
    st = ring(out, &r, 30, -1.6, 0, 1.6, 0.04, err);
    if (!st) st = ring(out, &r, 30, 1.6, 0, 1.6, 0.04, err);
    /* the two circles share the point (0, 0): drop one copy */
    if (!st) ts_cloud_remove(out, 45);
    break;
  case 4:
    for (int i = 0; i < 80 && !st; i++) {
      double a = 2 * M_PI * ts_rng_uniform(&r), rad = 2 + ts_rng_uniform(&r);
      st = ts_cloud_add(out, rad * cos(a), rad * sin(a), err);
    }
    break;
  case 5: {
    static const double c[5][2] = {{0, 0}, {10, 0}, {0, 20}, {30, 30}, {10, -25}};
    static const int m[5] = {10, 10, 10, 10, 24};
    for (int i = 0; i < 5 && !st; i++) st = box(out, &r, m[i], c[i][0], c[i][1], 0.5, err);
    if (!st && target) {
      static const double t[3][2] = {{5, 5}, {10, 10}, {20, 6}};
      for (int i = 0; i < 3 && !st; i++) st = ts_cloud_add(target, t[i][0], t[i][1], err);
    }
    break;
  }
  case 6: {
    st = box(out, &r, 30, 0, 0, 0.4, err);
    if (!st) st = box(out, &r, 34, 10, 5, 0.4, err);
    static const double c[4][2] = {{0, 0}, {10, 0}, {-5, 4}, {8, 13}};
    static const int m[4] = {30, 20, 30, 48};
    for (int i = 0; i < 4 && !st && target; i++) st = box(target, &r, m[i], c[i][0], c[i][1], 0.3, err);
    break;
  }
  case 7:
    st = segments(out, &r, err);
    if (!st && target) st = ring(target, &r, 100, 0, 0, 5, 0, err);
    break;
  default: break;
  }
  return st;
}

/* --- JSON ------------------------------------------------------------------ */

static void put_cloud(TsJson *j, const char *key, const TsCloud *c) {
  ts_json_key(j, key);
  ts_json_array_begin(j);
  for (size_t i = 0; i < 2 * c->n; i++) ts_json_number(j, c->xy[i]);
  ts_json_array_end(j);
}

char *ts_playground_state_to_json(const TsPlaygroundState *s, TsError *err) {
  TsJson j;
  ts_json_init(&j);
  ts_json_object_begin(&j);
  ts_json_kv_string(&j, "format", "toposcope-playground");
  ts_json_kv_int(&j, "version", 1);
  ts_json_kv_int(&j, "seed", (int64_t)s->seed);
  ts_json_kv_string(&j, "preset", s->preset);
  ts_json_kv_string(&j, "target_preset", s->target_preset);
  ts_json_kv_int(&j, "step", s->step);
  ts_json_kv_number(&j, "lr", s->lr);
  ts_json_kv_number(&j, "r", s->r);
  ts_json_kv_string(&j, "metric", s->metric == 1 ? "w2" : "bottleneck");
  ts_json_kv_int(&j, "dim", s->dim);
  ts_json_key(&j, "weights");
  ts_json_array_begin(&j);
  for (int i = 0; i < TS_PLAYGROUND_LOSSES; i++) ts_json_number(&j, s->weights[i]);
  ts_json_array_end(&j);
  put_cloud(&j, "points", &s->cloud);
  put_cloud(&j, "target", &s->target);
  ts_json_object_end(&j);
  char *text = ts_json_steal(&j);
  ts_json_clear(&j);
  if (!text) ts_error_set(err, TS_ERR_NOMEM, "out of memory writing the playground state");
  return text;
}

/* A JSON array of numbers into vals (malloc'd); null reads as NaN. */
static TsStatus get_numbers(const char *json, const char *key, double **vals, size_t *n, TsError *err) {
  const char *v;
  size_t len;
  TsStatus st = ts_json_get_raw(json, key, &v, &len, err);
  if (st) return st;
  *vals = NULL;
  *n = 0;
  if (len < 2 || v[0] != '[') return ts_error_set(err, TS_ERR_FORMAT, "'%s' is not an array of numbers", key);
  size_t cap = 0;
  const char *p = v + 1, *end = v + len - 1; /* end: the closing bracket */
  for (;;) {
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')) p++;
    if (p >= end) break;
    double x;
    if (end - p >= 4 && strncmp(p, "null", 4) == 0) {
      x = NAN;
      p += 4;
    } else {
      char *q;
      errno = 0;
      x = strtod(p, &q);
      if (q == p || q > end) {
        free(*vals);
        *vals = NULL;
        return ts_error_set(err, TS_ERR_FORMAT, "'%s' holds something that is not a number", key);
      }
      p = q;
    }
    if (*n == cap) {
      cap = cap ? 2 * cap : 64;
      double *nv = realloc(*vals, cap * sizeof *nv);
      if (!nv) {
        free(*vals);
        *vals = NULL;
        return ts_error_set(err, TS_ERR_NOMEM, "out of memory reading '%s'", key);
      }
      *vals = nv;
    }
    (*vals)[(*n)++] = x;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')) p++;
    if (p < end && *p == ',') p++;
    else if (p < end) {
      free(*vals);
      *vals = NULL;
      return ts_error_set(err, TS_ERR_FORMAT, "'%s' is not an array of numbers", key);
    }
  }
  return TS_OK;
}

static TsStatus get_cloud(const char *json, const char *key, TsCloud *c, TsError *err) {
  double *v;
  size_t n;
  TsStatus st = get_numbers(json, key, &v, &n, err);
  if (st) return st;
  if (n % 2) st = ts_error_set(err, TS_ERR_FORMAT, "'%s' holds %zu numbers: not x, y pairs", key, n);
  for (size_t i = 0; !st && i < n / 2; i++) {
    st = ts_cloud_add(c, v[2 * i], v[2 * i + 1], err);
    if (st) ts_error_prefix(err, "'%s', point %zu", key, i);
  }
  free(v);
  return st;
}

TsStatus ts_playground_state_from_json(const char *json, TsPlaygroundState *s, TsError *err) {
  ts_playground_state_clear(s);
  char fmt[64];
  TsStatus st = ts_json_get_string(json, "format", fmt, sizeof fmt, err);
  if (st) return st;
  if (strcmp(fmt, "toposcope-playground") != 0)
    return ts_error_set(err, TS_ERR_FORMAT, "not a playground state (format '%s')", fmt);
  int64_t version, seed, step, dim;
  if ((st = ts_json_get_int(json, "version", &version, err))) return st;
  if (version != 1)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "playground state version %lld (this Toposcope reads 1)",
                        (long long)version);
  if ((st = ts_json_get_int(json, "seed", &seed, err))) return st;
  if ((st = ts_json_get_int(json, "step", &step, err))) return st;
  if ((st = ts_json_get_number(json, "lr", &s->lr, err))) return st;
  if ((st = ts_json_get_number(json, "r", &s->r, err))) return st;
  if ((st = ts_json_get_int(json, "dim", &dim, err))) return st;
  if (dim < -1 || dim > 1) return ts_error_set(err, TS_ERR_FORMAT, "'dim' must be 0, 1 or -1, not %lld", (long long)dim);
  if (!(s->lr > 0) || !isfinite(s->lr)) return ts_error_set(err, TS_ERR_FORMAT, "'lr' must be a positive number");
  char metric[32];
  if ((st = ts_json_get_string(json, "metric", metric, sizeof metric, err))) return st;
  if (strcmp(metric, "w2") != 0 && strcmp(metric, "bottleneck") != 0)
    return ts_error_set(err, TS_ERR_FORMAT, "unknown metric '%s' (bottleneck or w2)", metric);
  if ((st = ts_json_get_string(json, "preset", s->preset, sizeof s->preset, err))) return st;
  if ((st = ts_json_get_string(json, "target_preset", s->target_preset, sizeof s->target_preset, err))) return st;
  double *w;
  size_t nw;
  if ((st = get_numbers(json, "weights", &w, &nw, err))) return st;
  if (nw != TS_PLAYGROUND_LOSSES) {
    free(w);
    return ts_error_set(err, TS_ERR_FORMAT, "'weights' holds %zu numbers, not %d", nw, TS_PLAYGROUND_LOSSES);
  }
  for (int i = 0; i < TS_PLAYGROUND_LOSSES; i++) {
    if (!isfinite(w[i]) || w[i] < 0) {
      free(w);
      return ts_error_set(err, TS_ERR_FORMAT, "weight %d (%s) must be a number >= 0", i, ts_playground_loss_names[i]);
    }
    s->weights[i] = w[i];
  }
  free(w);
  if ((st = get_cloud(json, "points", &s->cloud, err)) || (st = get_cloud(json, "target", &s->target, err))) {
    ts_cloud_clear(&s->cloud);
    ts_cloud_clear(&s->target);
    return st;
  }
  s->seed = (uint64_t)seed;
  s->step = step;
  s->metric = strcmp(metric, "w2") == 0;
  s->dim = (int)dim;
  return TS_OK;
}

TsStatus ts_playground_state_save(const char *path, const TsPlaygroundState *s, TsError *err) {
  char *text = ts_playground_state_to_json(s, err);
  if (!text) return err ? err->code : TS_ERR_NOMEM;
  char *pretty = ts_json_pretty(text);
  free(text);
  if (!pretty) return ts_error_set(err, TS_ERR_NOMEM, "out of memory writing '%s'", path);
  /* whole or not at all: a temporary file renamed over the old one */
  size_t n = strlen(path) + 8;
  char *tmp = malloc(n);
  if (!tmp) {
    free(pretty);
    return ts_error_set(err, TS_ERR_NOMEM, "out of memory writing '%s'", path);
  }
  snprintf(tmp, n, "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  TsStatus st = TS_OK;
  if (!f) st = ts_error_errno(err, errno, "cannot write '%s'", path);
  else {
    size_t len = strlen(pretty);
    int bad = fwrite(pretty, 1, len, f) != len || fputc('\n', f) == EOF;
    if (fclose(f) != 0 || bad) st = ts_error_errno(err, errno ? errno : EIO, "cannot write '%s'", path);
    else if (rename(tmp, path) != 0) st = ts_error_errno(err, errno, "cannot write '%s'", path);
    if (st) remove(tmp);
  }
  free(tmp);
  free(pretty);
  return st;
}

TsStatus ts_playground_state_load(const char *path, TsPlaygroundState *s, TsError *err) {
  FILE *f = fopen(path, "rb");
  if (!f) return ts_error_errno(err, errno, "cannot read '%s'", path);
  char *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 + 1 > cap) {
      cap = cap ? 2 * cap : 65536;
      if (cap > ((size_t)64 << 20)) {
        free(buf);
        fclose(f);
        return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': too large for a playground state", path);
      }
      char *nb = realloc(buf, cap);
      if (!nb) {
        free(buf);
        fclose(f);
        return ts_error_set(err, TS_ERR_NOMEM, "out of memory reading '%s'", path);
      }
      buf = nb;
    }
    size_t got = fread(buf + len, 1, 4096, f);
    len += got;
    if (got < 4096) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return ts_error_errno(err, EIO, "cannot read '%s'", path);
  }
  buf[len] = '\0';
  TsStatus st = ts_playground_state_from_json(buf, s, err);
  if (st) ts_error_prefix(err, "'%s'", path);
  free(buf);
  return st;
}
