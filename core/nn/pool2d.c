/* pool2d.c — max, average and global average pooling over NCHW planes.
 * Threads split the n*c planes; planes are independent. */
#include "nn/ops.h"

#include <math.h>
#include <string.h>

TsStatus ts_pool2d_desc_init(TsPool2dDesc *d, TsError *err) {
  if (d->n < 1 || d->c < 1 || d->h < 1 || d->w < 1 || d->kernel_h < 1 || d->kernel_w < 1 || d->stride_h < 1 ||
      d->stride_w < 1 || d->pad_h < 0 || d->pad_w < 0)
    return ts_error_set(err, TS_ERR_INVALID, "pool2d: sizes, kernel and stride must be positive, padding >= 0");
  if (d->pad_h > d->kernel_h / 2 || d->pad_w > d->kernel_w / 2)
    return ts_error_set(err, TS_ERR_INVALID, "pool2d: padding %dx%d exceeds half the kernel %dx%d", d->pad_h,
                        d->pad_w, d->kernel_h, d->kernel_w);
  int eh = d->h + 2 * d->pad_h - d->kernel_h, ew = d->w + 2 * d->pad_w - d->kernel_w;
  if (eh < 0 || ew < 0)
    return ts_error_set(err, TS_ERR_INVALID, "pool2d: kernel %dx%d larger than the padded %dx%d input", d->kernel_h,
                        d->kernel_w, d->h, d->w);
  d->p = eh / d->stride_h + 1;
  d->q = ew / d->stride_w + 1;
  return TS_OK;
}

typedef struct PoolJob {
  const TsPool2dDesc *d;
  const float *x, *dy;
  float *y, *dx;
  int32_t *argmax;
  const int32_t *cargmax;
  int hw; /* global pool */
  int c;
} PoolJob;

static void max_fwd(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const PoolJob *j = ctx;
  const TsPool2dDesc *d = j->d;
  const size_t hw = (size_t)d->h * d->w, pq = (size_t)d->p * d->q;
  for (size_t pl = b; pl < e; pl++) {
    const float *x = j->x + pl * hw;
    float *y = j->y + pl * pq;
    int32_t *am = j->argmax + pl * pq;
    for (int oy = 0; oy < d->p; oy++) {
      int y0 = oy * d->stride_h - d->pad_h;
      for (int ox = 0; ox < d->q; ox++) {
        int x0 = ox * d->stride_w - d->pad_w;
        float best = -INFINITY;
        int32_t bi = -1;
        for (int ky = 0; ky < d->kernel_h; ky++) {
          int iy = y0 + ky;
          if (iy < 0 || iy >= d->h) continue;
          for (int kx = 0; kx < d->kernel_w; kx++) {
            int ix = x0 + kx;
            if (ix < 0 || ix >= d->w) continue;
            float v = x[iy * d->w + ix];
            if (v > best || bi < 0 || isnan(v)) {
              best = v;
              bi = iy * d->w + ix;
              if (isnan(v)) goto done;
            }
          }
        }
      done:
        y[oy * d->q + ox] = best;
        am[oy * d->q + ox] = bi;
      }
    }
  }
}

void ts_maxpool2d_forward(const TsNnCtx *ctx, const TsPool2dDesc *d, const float *x, float *y, int32_t *argmax) {
  PoolJob j = {.d = d, .x = x, .y = y, .argmax = argmax};
  ts_nn_for(ctx, (size_t)d->n * d->c, 0, (size_t)d->h * d->w * 2, max_fwd, &j);
}

static void max_bwd(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const PoolJob *j = ctx;
  const TsPool2dDesc *d = j->d;
  const size_t hw = (size_t)d->h * d->w, pq = (size_t)d->p * d->q;
  for (size_t pl = b; pl < e; pl++) {
    float *dx = j->dx + pl * hw;
    const float *dy = j->dy + pl * pq;
    const int32_t *am = j->cargmax + pl * pq;
    for (size_t i = 0; i < pq; i++)
      if (am[i] >= 0) dx[am[i]] += dy[i];
  }
}

void ts_maxpool2d_backward(const TsNnCtx *ctx, const TsPool2dDesc *d, const int32_t *argmax, const float *dy,
                           float *dx) {
  PoolJob j = {.d = d, .dy = dy, .dx = dx, .cargmax = argmax};
  ts_nn_for(ctx, (size_t)d->n * d->c, 0, (size_t)d->h * d->w * 2, max_bwd, &j);
}

static void avg_fwd(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const PoolJob *j = ctx;
  const TsPool2dDesc *d = j->d;
  const size_t hw = (size_t)d->h * d->w, pq = (size_t)d->p * d->q;
  const float inv = 1.0f / (float)(d->kernel_h * d->kernel_w);
  for (size_t pl = b; pl < e; pl++) {
    const float *x = j->x + pl * hw;
    float *y = j->y + pl * pq;
    for (int oy = 0; oy < d->p; oy++) {
      int y0 = oy * d->stride_h - d->pad_h;
      for (int ox = 0; ox < d->q; ox++) {
        int x0 = ox * d->stride_w - d->pad_w;
        float s = 0.0f;
        for (int ky = 0; ky < d->kernel_h; ky++) {
          int iy = y0 + ky;
          if (iy < 0 || iy >= d->h) continue;
          for (int kx = 0; kx < d->kernel_w; kx++) {
            int ix = x0 + kx;
            if (ix >= 0 && ix < d->w) s += x[iy * d->w + ix];
          }
        }
        y[oy * d->q + ox] = s * inv;
      }
    }
  }
}

void ts_avgpool2d_forward(const TsNnCtx *ctx, const TsPool2dDesc *d, const float *x, float *y) {
  PoolJob j = {.d = d, .x = x, .y = y};
  ts_nn_for(ctx, (size_t)d->n * d->c, 0, (size_t)d->h * d->w * 2, avg_fwd, &j);
}

static void avg_bwd(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const PoolJob *j = ctx;
  const TsPool2dDesc *d = j->d;
  const size_t hw = (size_t)d->h * d->w, pq = (size_t)d->p * d->q;
  const float inv = 1.0f / (float)(d->kernel_h * d->kernel_w);
  for (size_t pl = b; pl < e; pl++) {
    float *dx = j->dx + pl * hw;
    const float *dy = j->dy + pl * pq;
    for (int oy = 0; oy < d->p; oy++) {
      int y0 = oy * d->stride_h - d->pad_h;
      for (int ox = 0; ox < d->q; ox++) {
        int x0 = ox * d->stride_w - d->pad_w;
        float g = dy[oy * d->q + ox] * inv;
        for (int ky = 0; ky < d->kernel_h; ky++) {
          int iy = y0 + ky;
          if (iy < 0 || iy >= d->h) continue;
          for (int kx = 0; kx < d->kernel_w; kx++) {
            int ix = x0 + kx;
            if (ix >= 0 && ix < d->w) dx[iy * d->w + ix] += g;
          }
        }
      }
    }
  }
}

void ts_avgpool2d_backward(const TsNnCtx *ctx, const TsPool2dDesc *d, const float *dy, float *dx) {
  PoolJob j = {.d = d, .dy = dy, .dx = dx};
  ts_nn_for(ctx, (size_t)d->n * d->c, 0, (size_t)d->h * d->w * 2, avg_bwd, &j);
}

static void gap_fwd(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const PoolJob *j = ctx;
  const float inv = 1.0f / (float)j->hw;
  for (size_t pl = b; pl < e; pl++) {
    const float *x = j->x + pl * (size_t)j->hw;
    float s = 0.0f;
    for (int i = 0; i < j->hw; i++) s += x[i];
    j->y[pl] = s * inv;
  }
}

void ts_global_avgpool_forward(const TsNnCtx *ctx, int n, int c, int hw, const float *x, float *y) {
  PoolJob j = {.x = x, .y = y, .hw = hw, .c = c};
  ts_nn_for(ctx, (size_t)n * c, 0, (size_t)hw, gap_fwd, &j);
}

static void gap_bwd(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const PoolJob *j = ctx;
  const float inv = 1.0f / (float)j->hw;
  for (size_t pl = b; pl < e; pl++) {
    float *dx = j->dx + pl * (size_t)j->hw;
    float g = j->dy[pl] * inv;
    for (int i = 0; i < j->hw; i++) dx[i] += g;
  }
}

void ts_global_avgpool_backward(const TsNnCtx *ctx, int n, int c, int hw, const float *dy, float *dx) {
  PoolJob j = {.dy = dy, .dx = dx, .hw = hw, .c = c};
  ts_nn_for(ctx, (size_t)n * c, 0, (size_t)hw, gap_bwd, &j);
}
