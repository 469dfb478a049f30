// cuda/pool.cu — max / average / global average pooling (nn/pool2d.c's
// definitions: -inf padding and the first maximum for max pool, the
// padding counted for average pool). The backward passes gather (each input
// element sums the windows that reach it) rather than scatter, so they
// need no atomics and give the same sums on every run.
#include "nn/cuda/cuda.h"
#include "nn/cuda/kernels.h"

namespace {

struct PoolGeom {
  int h, w, p, q, kh, kw, sh, sw, ph, pw;
};

PoolGeom geom(const TsPool2dDesc *d) {
  PoolGeom g = {d->h, d->w, d->p, d->q, d->kernel_h, d->kernel_w, d->stride_h, d->stride_w, d->pad_h, d->pad_w};
  return g;
}

__global__ void max_fwd(size_t total, PoolGeom g, const float *x, float *y, int32_t *argmax) {
  TS_CUDA_FOR(i, total) {
    size_t plane = i / ((size_t)g.p * g.q);
    int r = (int)(i % ((size_t)g.p * g.q)), oy = r / g.q, ox = r % g.q;
    const float *xp = x + plane * (size_t)g.h * g.w;
    int y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
    float best = -INFINITY;
    int arg = -1;
    for (int ky = 0; ky < g.kh; ky++) {
      int iy = y0 + ky;
      if (iy < 0 || iy >= g.h) continue;
      for (int kx = 0; kx < g.kw; kx++) {
        int ix = x0 + kx;
        if (ix < 0 || ix >= g.w) continue;
        float v = xp[iy * g.w + ix];
        if (arg < 0 || v > best || isnan(v)) {
          if (arg >= 0 && isnan(best)) continue; // the first NaN stays
          best = v;
          arg = iy * g.w + ix;
        }
      }
    }
    y[i] = best;
    argmax[i] = arg;
  }
}

// Output windows [lo, hi] along one axis that contain input coordinate i.
__device__ void covering(int i, int pad, int k, int stride, int outn, int *lo, int *hi) {
  int a = i + pad - k + 1; // the first window start that still reaches i
  *lo = a <= 0 ? 0 : (a + stride - 1) / stride;
  int b = (i + pad) / stride;
  *hi = b < outn - 1 ? b : outn - 1;
}

__global__ void max_bwd(size_t total, PoolGeom g, const int32_t *argmax, const float *dy, float *dx) {
  TS_CUDA_FOR(i, total) {
    size_t plane = i / ((size_t)g.h * g.w);
    int r = (int)(i % ((size_t)g.h * g.w)), iy = r / g.w, ix = r % g.w;
    int ylo, yhi, xlo, xhi;
    covering(iy, g.ph, g.kh, g.sh, g.p, &ylo, &yhi);
    covering(ix, g.pw, g.kw, g.sw, g.q, &xlo, &xhi);
    const size_t base = plane * (size_t)g.p * g.q;
    float s = 0.0f;
    for (int oy = ylo; oy <= yhi; oy++)
      for (int ox = xlo; ox <= xhi; ox++) {
        size_t k = base + (size_t)oy * g.q + ox;
        if (argmax[k] == r) s += dy[k];
      }
    dx[i] += s;
  }
}

__global__ void avg_fwd(size_t total, PoolGeom g, const float *x, float *y) {
  const float inv = 1.0f / (float)(g.kh * g.kw);
  TS_CUDA_FOR(i, total) {
    size_t plane = i / ((size_t)g.p * g.q);
    int r = (int)(i % ((size_t)g.p * g.q)), oy = r / g.q, ox = r % g.q;
    const float *xp = x + plane * (size_t)g.h * g.w;
    int y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
    float s = 0.0f;
    for (int ky = 0; ky < g.kh; ky++) {
      int iy = y0 + ky;
      if (iy < 0 || iy >= g.h) continue;
      for (int kx = 0; kx < g.kw; kx++) {
        int ix = x0 + kx;
        if (ix >= 0 && ix < g.w) s += xp[iy * g.w + ix];
      }
    }
    y[i] = s * inv;
  }
}

__global__ void avg_bwd(size_t total, PoolGeom g, const float *dy, float *dx) {
  const float inv = 1.0f / (float)(g.kh * g.kw);
  TS_CUDA_FOR(i, total) {
    size_t plane = i / ((size_t)g.h * g.w);
    int r = (int)(i % ((size_t)g.h * g.w)), iy = r / g.w, ix = r % g.w;
    int ylo, yhi, xlo, xhi;
    covering(iy, g.ph, g.kh, g.sh, g.p, &ylo, &yhi);
    covering(ix, g.pw, g.kw, g.sw, g.q, &xlo, &xhi);
    const size_t base = plane * (size_t)g.p * g.q;
    float s = 0.0f;
    for (int oy = ylo; oy <= yhi; oy++)
      for (int ox = xlo; ox <= xhi; ox++) s += dy[base + (size_t)oy * g.q + ox] * inv;
    dx[i] += s;
  }
}

__global__ void gap_fwd(size_t planes, int hw, const float *x, float *y) {
  const float inv = 1.0f / (float)hw;
  TS_CUDA_FOR(pl, planes) {
    const float *xp = x + pl * (size_t)hw;
    float s = 0.0f;
    for (int i = 0; i < hw; i++) s += xp[i];
    y[pl] = s * inv;
  }
}

__global__ void gap_bwd(size_t total, int hw, const float *dy, float *dx) {
  const float inv = 1.0f / (float)hw;
  TS_CUDA_FOR(i, total) dx[i] += dy[i / (size_t)hw] * inv;
}

} // namespace

extern "C" {

void ts_cuda_maxpool_forward(cudaStream_t s, const TsPool2dDesc *d, const float *x, float *y, int32_t *argmax) {
  size_t total = (size_t)d->n * d->c * d->p * d->q;
  if (total) max_fwd<<<ts_cuda_blocks(total), TS_CUDA_THREADS, 0, s>>>(total, geom(d), x, y, argmax);
}

void ts_cuda_maxpool_backward(cudaStream_t s, const TsPool2dDesc *d, const int32_t *argmax, const float *dy,
                              float *dx) {
  size_t total = (size_t)d->n * d->c * d->h * d->w;
  if (total && dx) max_bwd<<<ts_cuda_blocks(total), TS_CUDA_THREADS, 0, s>>>(total, geom(d), argmax, dy, dx);
}

void ts_cuda_avgpool_forward(cudaStream_t s, const TsPool2dDesc *d, const float *x, float *y) {
  size_t total = (size_t)d->n * d->c * d->p * d->q;
  if (total) avg_fwd<<<ts_cuda_blocks(total), TS_CUDA_THREADS, 0, s>>>(total, geom(d), x, y);
}

void ts_cuda_avgpool_backward(cudaStream_t s, const TsPool2dDesc *d, const float *dy, float *dx) {
  size_t total = (size_t)d->n * d->c * d->h * d->w;
  if (total && dx) avg_bwd<<<ts_cuda_blocks(total), TS_CUDA_THREADS, 0, s>>>(total, geom(d), dy, dx);
}

void ts_cuda_gap_forward(cudaStream_t s, int n, int c, int hw, const float *x, float *y) {
  size_t planes = (size_t)n * c;
  if (planes) gap_fwd<<<ts_cuda_blocks(planes), TS_CUDA_THREADS, 0, s>>>(planes, hw, x, y);
}

void ts_cuda_gap_backward(cudaStream_t s, int n, int c, int hw, const float *dy, float *dx) {
  size_t total = (size_t)n * c * hw;
  if (total && dx) gap_bwd<<<ts_cuda_blocks(total), TS_CUDA_THREADS, 0, s>>>(total, hw, dy, dx);
}

} // extern "C"
