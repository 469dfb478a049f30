/* structural.c — dropout, flatten, residual add, channel concat, softmax and
 * log-softmax. */
#include "nn/ops.h"

#include <math.h>
#include <string.h>

#define GRAIN 32768

/* ---- dropout: a counter-based generator, so the mask of element i depends
 * on (seed, i) only and threads may split the array any way. */
static uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

typedef struct DropJob {
  float p, scale;
  uint64_t key;
  const float *x, *dy, *cmask;
  float *y, *mask, *dx;
} DropJob;

static void drop_fwd(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const DropJob *j = ctx;
  for (size_t i = b; i < e; i++) {
    float u = (float)(mix64(j->key ^ (uint64_t)i * 0xd1342543de82ef95ULL) >> 40) * (1.0f / 16777216.0f);
    float m = u < j->p ? 0.0f : j->scale;
    j->mask[i] = m;
    j->y[i] = j->x[i] * m;
  }
}

void ts_dropout_forward(const TsNnCtx *ctx, size_t n, float p, int train, uint64_t seed, const float *x, float *y,
                        float *mask) {
  if (!train || p <= 0.0f) {
    if (y != x) memmove(y, x, n * sizeof(float));
    if (mask)
      for (size_t i = 0; i < n; i++) mask[i] = 1.0f;
    return;
  }
  DropJob j = {p, p >= 1.0f ? 0.0f : 1.0f / (1.0f - p), mix64(seed), x, NULL, NULL, y, mask, NULL};
  ts_nn_for(ctx, n, GRAIN, 4, drop_fwd, &j);
}

static void drop_bwd(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const DropJob *j = ctx;
  for (size_t i = b; i < e; i++) j->dx[i] += j->dy[i] * j->cmask[i];
}

void ts_dropout_backward(const TsNnCtx *ctx, size_t n, int train, const float *mask, const float *dy, float *dx) {
  if (!train) {
    for (size_t i = 0; i < n; i++) dx[i] += dy[i];
    return;
  }
  DropJob j = {0};
  j.cmask = mask, j.dy = dy, j.dx = dx;
  ts_nn_for(ctx, n, GRAIN, 4, drop_bwd, &j);
}

typedef struct Drop2dJob {
  float p, scale;
  uint64_t key;
  size_t hw;
  const float *x;
  float *y, *mask;
} Drop2dJob;

static void drop2d_fwd(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const Drop2dJob *j = ctx;
  for (size_t k = b; k < e; k++) {
    float u = (float)(mix64(j->key ^ (uint64_t)k * 0xd1342543de82ef95ULL) >> 40) * (1.0f / 16777216.0f);
    float m = u < j->p ? 0.0f : j->scale;
    for (size_t i = k * j->hw; i < (k + 1) * j->hw; i++) {
      j->mask[i] = m;
      j->y[i] = j->x[i] * m;
    }
  }
}

void ts_dropout2d_forward(const TsNnCtx *ctx, size_t nc, size_t hw, float p, int train, uint64_t seed,
                          const float *x, float *y, float *mask) {
  if (!train || p <= 0.0f) {
    ts_dropout_forward(ctx, nc * hw, p, 0, seed, x, y, mask);
    return;
  }
  Drop2dJob j = {p, p >= 1.0f ? 0.0f : 1.0f / (1.0f - p), mix64(seed), hw, x, y, mask};
  ts_nn_for(ctx, nc, GRAIN / (hw ? hw : 1) + 1, 4 * hw, drop2d_fwd, &j);
}

/* ---- flatten, add, concat ------------------------------------------------------ */
void ts_flatten_forward(size_t n, const float *x, float *y) {
  if (x != y) memmove(y, x, n * sizeof(float));
}

void ts_flatten_backward(size_t n, const float *dy, float *dx) {
  for (size_t i = 0; i < n; i++) dx[i] += dy[i];
}

typedef struct AddJob {
  const float *a, *b;
  float *y, *da, *db;
} AddJob;

static void add_fwd(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const AddJob *j = ctx;
  for (size_t i = b; i < e; i++) j->y[i] = j->a[i] + j->b[i];
}

static void add_bwd(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const AddJob *j = ctx;
  const float *dy = j->a;
  if (j->da)
    for (size_t i = b; i < e; i++) j->da[i] += dy[i];
  if (j->db)
    for (size_t i = b; i < e; i++) j->db[i] += dy[i];
}

void ts_add_forward(const TsNnCtx *ctx, size_t n, const float *a, const float *b, float *y) {
  AddJob j = {a, b, y, NULL, NULL};
  ts_nn_for(ctx, n, GRAIN, 4, add_fwd, &j);
}

void ts_add_backward(const TsNnCtx *ctx, size_t n, const float *dy, float *da, float *db) {
  AddJob j = {dy, NULL, NULL, da, db};
  ts_nn_for(ctx, n, GRAIN, 4, add_bwd, &j);
}

void ts_concat_forward(int n, int ca, int cb, int hw, const float *a, const float *b, float *y) {
  size_t sa = (size_t)ca * hw, sb = (size_t)cb * hw;
  for (int i = 0; i < n; i++) {
    memcpy(y + i * (sa + sb), a + i * sa, sa * sizeof(float));
    memcpy(y + i * (sa + sb) + sa, b + i * sb, sb * sizeof(float));
  }
}

void ts_concat_backward(int n, int ca, int cb, int hw, const float *dy, float *da, float *db) {
  size_t sa = (size_t)ca * hw, sb = (size_t)cb * hw;
  for (int i = 0; i < n; i++) {
    const float *g = dy + i * (sa + sb);
    if (da)
      for (size_t k = 0; k < sa; k++) da[i * sa + k] += g[k];
    if (db)
      for (size_t k = 0; k < sb; k++) db[i * sb + k] += g[sa + k];
  }
}

/* ---- softmax / log-softmax over rows ---------------------------------------------- */
typedef struct SmJob {
  int c, log;
  const float *x, *y, *dy;
  float *out;
} SmJob;

static void sm_fwd(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const SmJob *j = ctx;
  for (size_t r = b; r < e; r++) {
    const float *x = j->x + r * (size_t)j->c;
    float *y = j->out + r * (size_t)j->c;
    float mx = -INFINITY;
    for (int i = 0; i < j->c; i++) mx = fmaxf(mx, x[i]);
    double s = 0.0;
    for (int i = 0; i < j->c; i++) s += exp((double)(x[i] - mx));
    if (j->log) {
      float lse = (float)log(s);
      for (int i = 0; i < j->c; i++) y[i] = x[i] - mx - lse;
    } else {
      float inv = (float)(1.0 / s);
      for (int i = 0; i < j->c; i++) y[i] = expf(x[i] - mx) * inv;
    }
  }
}

static void sm_bwd(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const SmJob *j = ctx;
  for (size_t r = b; r < e; r++) {
    const float *y = j->y + r * (size_t)j->c, *dy = j->dy + r * (size_t)j->c;
    float *dx = j->out + r * (size_t)j->c;
    double s = 0.0;
    if (j->log) {
      for (int i = 0; i < j->c; i++) s += dy[i];
      for (int i = 0; i < j->c; i++) dx[i] += dy[i] - expf(y[i]) * (float)s;
    } else {
      for (int i = 0; i < j->c; i++) s += (double)dy[i] * y[i];
      for (int i = 0; i < j->c; i++) dx[i] += y[i] * (dy[i] - (float)s);
    }
  }
}

void ts_softmax_forward(const TsNnCtx *ctx, int n, int c, const float *x, float *y) {
  SmJob j = {c, 0, x, NULL, NULL, y};
  ts_nn_for(ctx, (size_t)n, 0, 4 * (size_t)c, sm_fwd, &j);
}
void ts_softmax_backward(const TsNnCtx *ctx, int n, int c, const float *y, const float *dy, float *dx) {
  SmJob j = {c, 0, NULL, y, dy, dx};
  ts_nn_for(ctx, (size_t)n, 0, 4 * (size_t)c, sm_bwd, &j);
}
void ts_log_softmax_forward(const TsNnCtx *ctx, int n, int c, const float *x, float *y) {
  SmJob j = {c, 1, x, NULL, NULL, y};
  ts_nn_for(ctx, (size_t)n, 0, 4 * (size_t)c, sm_fwd, &j);
}
void ts_log_softmax_backward(const TsNnCtx *ctx, int n, int c, const float *y, const float *dy, float *dx) {
  SmJob j = {c, 1, NULL, y, dy, dx};
  ts_nn_for(ctx, (size_t)n, 0, 4 * (size_t)c, sm_bwd, &j);
}
