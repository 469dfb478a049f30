// cuda/elementwise.cu — activations, dropout, residual add, concat, softmax,
// the VAE's sampling and the linear layer's bias helpers, each the CPU's
// formula (nn/activation.c, nn/structural.c) element for element.
#include "nn/cuda/cuda.h"
#include "nn/cuda/kernels.h"

namespace {

__global__ void act_fwd(TsCudaAct a, size_t n, float alpha, const float *x, float *y) {
  TS_CUDA_FOR(i, n) {
    float v = x[i];
    switch (a) {
    case TS_CUDA_RELU: y[i] = v > 0.0f ? v : 0.0f; break;
    case TS_CUDA_LEAKY: y[i] = v > 0.0f ? v : v * alpha; break;
    case TS_CUDA_ELU: y[i] = v > 0.0f ? v : alpha * expm1f(v); break;
    case TS_CUDA_SIGMOID: y[i] = 1.0f / (1.0f + expf(-v)); break;
    case TS_CUDA_TANH: y[i] = tanhf(v); break;
    }
  }
}

__global__ void act_bwd(TsCudaAct a, size_t n, float alpha, const float *x, const float *y, const float *dy, float *dx,
                        int into) {
  TS_CUDA_FOR(i, n) {
    float g = 0.0f;
    switch (a) {
    case TS_CUDA_RELU: g = y[i] > 0.0f ? dy[i] : 0.0f; break;
    case TS_CUDA_LEAKY: g = x[i] > 0.0f ? dy[i] : dy[i] * alpha; break;
    case TS_CUDA_ELU: g = x[i] > 0.0f ? dy[i] : dy[i] * (y[i] + alpha); break;
    case TS_CUDA_SIGMOID: g = dy[i] * y[i] * (1.0f - y[i]); break;
    case TS_CUDA_TANH: g = dy[i] * (1.0f - y[i] * y[i]); break;
    }
    dx[i] = into ? g : dx[i] + g;
  }
}

__device__ uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t mix64_host(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

__global__ void drop_fwd(size_t n, float p, float scale, uint64_t key, const float *x, float *y, float *mask) {
  TS_CUDA_FOR(i, n) {
    float u = (float)(mix64(key ^ (uint64_t)i * 0xd1342543de82ef95ULL) >> 40) * (1.0f / 16777216.0f);
    float m = u < p ? 0.0f : scale;
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

// Channel dropout: one draw per (sample, channel), keyed as the CPU's
// ts_dropout2d_forward keys it, so both backends drop the same channels.
__global__ void drop2d_fwd(size_t total, size_t hw, float p, float scale, uint64_t key, const float *x, float *y,
                           float *mask) {
  TS_CUDA_FOR(i, total) {
    const size_t k = i / hw;
    float u = (float)(mix64(key ^ (uint64_t)k * 0xd1342543de82ef95ULL) >> 40) * (1.0f / 16777216.0f);
    float m = u < p ? 0.0f : scale;
    mask[i] = m;
    y[i] = x[i] * m;
  }
}

// The CIFAR ResNets' option-A shortcut: the input subsampled with stride 2
// and (c - cin) / 2 zero channels either side. One thread per output
// element; the backward adds each output gradient into its one source, and
// no two outputs share a source, so no atomics.
__global__ void shortcut_a_fwd(size_t total, int c, int cin, int oh, int ow, int ih, int iw, const float *x, float *y) {
  const int pad = (c - cin) / 2;
  TS_CUDA_FOR(i, total) {
    const int j = (int)(i % ow), r = (int)((i / ow) % oh), ch = (int)((i / ((size_t)ow * oh)) % c);
    const size_t b = i / ((size_t)ow * oh * c);
    const int ci = ch - pad;
    y[i] = (ci < 0 || ci >= cin) ? 0.0f : x[((b * cin + ci) * ih + 2 * r) * iw + 2 * j];
  }
}

__global__ void shortcut_a_bwd(size_t total, int c, int cin, int oh, int ow, int ih, int iw, const float *dy,
                               float *dx) {
  const int pad = (c - cin) / 2;
  TS_CUDA_FOR(i, total) {
    const int j = (int)(i % ow), r = (int)((i / ow) % oh), ch = (int)((i / ((size_t)ow * oh)) % c);
    const size_t b = i / ((size_t)ow * oh * c);
    const int ci = ch - pad;
    if (ci >= 0 && ci < cin) dx[((b * cin + ci) * ih + 2 * r) * iw + 2 * j] += dy[i];
  }
}

__global__ void fill(size_t n, float v, float *y) {
  TS_CUDA_FOR(i, n) y[i] = v;
}

__global__ void mul_add(size_t n, const float *a, const float *b, float *y) {
  TS_CUDA_FOR(i, n) y[i] += a[i] * b[i];
}

__global__ void add2(size_t n, const float *a, const float *b, float *y) {
  TS_CUDA_FOR(i, n) y[i] = a[i] + b[i];
}

__global__ void acc(size_t n, const float *a, float *y) {
  TS_CUDA_FOR(i, n) y[i] += a[i];
}

__global__ void concat_fwd(size_t total, size_t sa, size_t sb, const float *a, const float *b, float *y) {
  TS_CUDA_FOR(i, total) {
    size_t item = i / (sa + sb), k = i % (sa + sb);
    y[i] = k < sa ? a[item * sa + k] : b[item * sb + (k - sa)];
  }
}

__global__ void concat_bwd(size_t total, size_t sa, size_t sb, const float *dy, float *da, float *db) {
  TS_CUDA_FOR(i, total) {
    size_t item = i / (sa + sb), k = i % (sa + sb);
    if (k < sa) {
      if (da) da[item * sa + k] += dy[i];
    } else if (db) {
      db[item * sb + (k - sa)] += dy[i];
    }
  }
}

// One block per row; the sums in double as on the CPU.
__global__ void softmax_fwd(int c, int log, const float *x, float *y) {
  __shared__ float smax[TS_CUDA_THREADS];
  __shared__ double ssum[TS_CUDA_THREADS];
  const float *xr = x + (size_t)blockIdx.x * c;
  float *yr = y + (size_t)blockIdx.x * c;
  float mx = -INFINITY;
  for (int i = threadIdx.x; i < c; i += blockDim.x) mx = fmaxf(mx, xr[i]);
  smax[threadIdx.x] = mx;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) smax[threadIdx.x] = fmaxf(smax[threadIdx.x], smax[threadIdx.x + s]);
    __syncthreads();
  }
  mx = smax[0];
  double sum = 0.0;
  for (int i = threadIdx.x; i < c; i += blockDim.x) sum += exp((double)(xr[i] - mx));
  ssum[threadIdx.x] = sum;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) ssum[threadIdx.x] += ssum[threadIdx.x + s];
    __syncthreads();
  }
  sum = ssum[0];
  if (log) {
    float lse = (float)::log(sum);
    for (int i = threadIdx.x; i < c; i += blockDim.x) yr[i] = xr[i] - mx - lse;
  } else {
    float inv = (float)(1.0 / sum);
    for (int i = threadIdx.x; i < c; i += blockDim.x) yr[i] = expf(xr[i] - mx) * inv;
  }
}

__global__ void softmax_bwd(int c, int log, const float *y, const float *dy, float *dx) {
  __shared__ double ssum[TS_CUDA_THREADS];
  const size_t off = (size_t)blockIdx.x * c;
  double sum = 0.0;
  for (int i = threadIdx.x; i < c; i += blockDim.x) sum += log ? (double)dy[off + i] : (double)dy[off + i] * y[off + i];
  ssum[threadIdx.x] = sum;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) ssum[threadIdx.x] += ssum[threadIdx.x + s];
    __syncthreads();
  }
  float fs = (float)ssum[0];
  for (int i = threadIdx.x; i < c; i += blockDim.x) {
    size_t k = off + i;
    dx[k] += log ? dy[k] - expf(y[k]) * fs : y[k] * (dy[k] - fs);
  }
}

__global__ void sample_fwd(size_t n, const float *mu, const float *lv, const float *eps, float *y) {
  TS_CUDA_FOR(i, n) y[i] = mu[i] + eps[i] * expf(0.5f * lv[i]);
}

__global__ void sample_bwd(size_t n, const float *lv, const float *eps, const float *dy, float *dmu, float *dlv) {
  TS_CUDA_FOR(i, n) {
    if (dmu) dmu[i] += dy[i];
    if (dlv) dlv[i] += dy[i] * eps[i] * 0.5f * expf(0.5f * lv[i]);
  }
}

__global__ void bias_rows(size_t total, int out, const float *b, float *y) {
  TS_CUDA_FOR(i, total) y[i] = b[i % (size_t)out];
}

// One thread per output feature, rows in order (as the CPU's sum).
__global__ void colsum_add(int n, int out, const float *dy, float *db) {
  TS_CUDA_FOR(j, (size_t)out) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += dy[(size_t)i * out + j];
    db[j] += s;
  }
}

} // namespace

extern "C" {

void ts_cuda_act_forward(cudaStream_t s, TsCudaAct a, size_t n, float alpha, const float *x, float *y) {
  if (n) act_fwd<<<ts_cuda_blocks(n), TS_CUDA_THREADS, 0, s>>>(a, n, alpha, x, y);
}

void ts_cuda_act_backward(cudaStream_t s, TsCudaAct a, size_t n, float alpha, const float *x, const float *y,
                          const float *dy, float *dx, int into) {
  if (n && dx) act_bwd<<<ts_cuda_blocks(n), TS_CUDA_THREADS, 0, s>>>(a, n, alpha, x, y, dy, dx, into);
}

void ts_cuda_dropout_forward(cudaStream_t s, size_t n, float p, int train, uint64_t seed, const float *x, float *y,
                             float *mask) {
  if (!n) return;
  if (!train || p <= 0.0f) {
    if (y != x) cudaMemcpyAsync(y, x, n * sizeof(float), cudaMemcpyDeviceToDevice, s);
    if (mask) fill<<<ts_cuda_blocks(n), TS_CUDA_THREADS, 0, s>>>(n, 1.0f, mask);
    return;
  }
  float scale = p >= 1.0f ? 0.0f : 1.0f / (1.0f - p);
  drop_fwd<<<ts_cuda_blocks(n), TS_CUDA_THREADS, 0, s>>>(n, p, scale, mix64_host(seed), x, y, mask);
}

void ts_cuda_dropout_backward(cudaStream_t s, size_t n, int train, const float *mask, const float *dy, float *dx) {
  if (!n || !dx) return;
  if (!train) acc<<<ts_cuda_blocks(n), TS_CUDA_THREADS, 0, s>>>(n, dy, dx);
  else mul_add<<<ts_cuda_blocks(n), TS_CUDA_THREADS, 0, s>>>(n, dy, mask, dx);
}

void ts_cuda_dropout2d_forward(cudaStream_t s, size_t nc, size_t hw, float p, int train, uint64_t seed,
                               const float *x, float *y, float *mask) {
  if (!train || p <= 0.0f) {
    ts_cuda_dropout_forward(s, nc * hw, p, 0, seed, x, y, mask);
    return;
  }
  const size_t total = nc * hw;
  if (!total) return;
  float scale = p >= 1.0f ? 0.0f : 1.0f / (1.0f - p);
  drop2d_fwd<<<ts_cuda_blocks(total), TS_CUDA_THREADS, 0, s>>>(total, hw, p, scale, mix64_host(seed), x, y, mask);
}

void ts_cuda_shortcut_a_forward(cudaStream_t s, int n, int c, int cin, int oh, int ow, int ih, int iw, const float *x,
                                float *y) {
  const size_t total = (size_t)n * c * oh * ow;
  if (total) shortcut_a_fwd<<<ts_cuda_blocks(total), TS_CUDA_THREADS, 0, s>>>(total, c, cin, oh, ow, ih, iw, x, y);
}

void ts_cuda_shortcut_a_backward(cudaStream_t s, int n, int c, int cin, int oh, int ow, int ih, int iw,
                                 const float *dy, float *dx) {
  const size_t total = (size_t)n * c * oh * ow;
  if (total && dx)
    shortcut_a_bwd<<<ts_cuda_blocks(total), TS_CUDA_THREADS, 0, s>>>(total, c, cin, oh, ow, ih, iw, dy, dx);
}

void ts_cuda_add_forward(cudaStream_t s, size_t n, const float *a, const float *b, float *y) {
  if (n) add2<<<ts_cuda_blocks(n), TS_CUDA_THREADS, 0, s>>>(n, a, b, y);
}

void ts_cuda_add_backward(cudaStream_t s, size_t n, const float *dy, float *da, float *db) {
  if (n && da) acc<<<ts_cuda_blocks(n), TS_CUDA_THREADS, 0, s>>>(n, dy, da);
  if (n && db) acc<<<ts_cuda_blocks(n), TS_CUDA_THREADS, 0, s>>>(n, dy, db);
}

void ts_cuda_concat_forward(cudaStream_t s, int n, int ca, int cb, int hw, const float *a, const float *b, float *y) {
  size_t sa = (size_t)ca * hw, sb = (size_t)cb * hw, total = (size_t)n * (sa + sb);
  if (total) concat_fwd<<<ts_cuda_blocks(total), TS_CUDA_THREADS, 0, s>>>(total, sa, sb, a, b, y);
}

void ts_cuda_concat_backward(cudaStream_t s, int n, int ca, int cb, int hw, const float *dy, float *da, float *db) {
  size_t sa = (size_t)ca * hw, sb = (size_t)cb * hw, total = (size_t)n * (sa + sb);
  if (total) concat_bwd<<<ts_cuda_blocks(total), TS_CUDA_THREADS, 0, s>>>(total, sa, sb, dy, da, db);
}

void ts_cuda_softmax_forward(cudaStream_t s, int n, int c, int log, const float *x, float *y) {
  if (n > 0 && c > 0) softmax_fwd<<<(unsigned)n, TS_CUDA_THREADS, 0, s>>>(c, log, x, y);
}

void ts_cuda_softmax_backward(cudaStream_t s, int n, int c, int log, const float *y, const float *dy, float *dx) {
  if (n > 0 && c > 0 && dx) softmax_bwd<<<(unsigned)n, TS_CUDA_THREADS, 0, s>>>(c, log, y, dy, dx);
}

void ts_cuda_sample_forward(cudaStream_t s, size_t n, const float *mu, const float *lv, const float *eps, float *y) {
  if (n) sample_fwd<<<ts_cuda_blocks(n), TS_CUDA_THREADS, 0, s>>>(n, mu, lv, eps, y);
}

void ts_cuda_sample_backward(cudaStream_t s, size_t n, const float *lv, const float *eps, const float *dy, float *dmu,
                             float *dlv) {
  if (n && (dmu || dlv)) sample_bwd<<<ts_cuda_blocks(n), TS_CUDA_THREADS, 0, s>>>(n, lv, eps, dy, dmu, dlv);
}

void ts_cuda_bias_rows(cudaStream_t s, int n, int out, const float *b, float *y) {
  size_t total = (size_t)n * out;
  if (total) bias_rows<<<ts_cuda_blocks(total), TS_CUDA_THREADS, 0, s>>>(total, out, b, y);
}

void ts_cuda_colsum_add(cudaStream_t s, int n, int out, const float *dy, float *db) {
  if (out > 0) colsum_add<<<ts_cuda_blocks((size_t)out), TS_CUDA_THREADS, 0, s>>>(n, out, dy, db);
}

} // extern "C"
