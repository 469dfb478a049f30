// cuda/loss.cu — the losses of nn/loss.h on device arrays: each kernel adds
// its gradient (the CPU's float formula) and sums its loss terms in double
// (one atomic add per block into acc[0]); the host wrappers below copy the
// sum back, apply the reduction and return it, as the CPU functions do.
#include <math.h>

#include "nn/cuda/cuda.h"
#include "nn/cuda/kernels.h"

namespace {

__device__ void block_add(double v, double *acc) {
  __shared__ double sh[TS_CUDA_THREADS];
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) atomicAdd(acc, sh[0]);
}

__global__ void mse(size_t n, const float *x, const float *t, float gs, float *grad, double *acc) {
  double s = 0.0;
  TS_CUDA_FOR(i, n) {
    float d = x[i] - t[i];
    s += (double)d * d;
    if (grad) grad[i] += gs * 2.0f * d;
  }
  block_add(s, acc);
}

__global__ void labels_ok(int n, int c, const int32_t *labels, double *acc) {
  TS_CUDA_FOR(i, (size_t)n) if (labels[i] < 0 || labels[i] >= c) acc[1] = 1.0;
}

__global__ void ce(int n, int c, const float *logits, const int32_t *labels, float gs, float *grad, double *acc) {
  double s = 0.0;
  TS_CUDA_FOR(i, (size_t)n) {
    const float *z = logits + i * (size_t)c;
    float mx = -INFINITY;
    for (int k = 0; k < c; k++) mx = fmaxf(mx, z[k]);
    double e = 0.0;
    for (int k = 0; k < c; k++) e += exp((double)(z[k] - mx));
    double lse = mx + log(e);
    int y = labels[i];
    s += lse - z[y];
    if (grad) {
      float *g = grad + i * (size_t)c;
      for (int k = 0; k < c; k++) {
        float p = (float)exp((double)z[k] - lse);
        g[k] += gs * (p - (k == y ? 1.0f : 0.0f));
      }
    }
  }
  block_add(s, acc);
}

__global__ void bce(size_t n, const float *x, const float *t, float gs, float *grad, double *acc) {
  double s = 0.0;
  TS_CUDA_FOR(i, n) {
    double p = x[i], tt = t[i];
    double lp = p > 0 ? fmax(log(p), -100.0) : -100.0;
    double l1p = p < 1 ? fmax(log1p(-p), -100.0) : -100.0;
    s -= tt * lp + (1.0 - tt) * l1p;
    if (grad) grad[i] += gs * (float)((p - tt) / fmax((1.0 - p) * p, 1e-12));
  }
  block_add(s, acc);
}

__global__ void bce_logits(size_t n, const float *x, const float *t, float gs, float *grad, double *acc) {
  double s = 0.0;
  TS_CUDA_FOR(i, n) {
    double v = x[i], tt = t[i];
    s += fmax(v, 0.0) - v * tt + log1p(exp(-fabs(v)));
    if (grad) grad[i] += gs * (float)(1.0 / (1.0 + exp(-v)) - tt);
  }
  block_add(s, acc);
}

__global__ void kl(size_t n, const float *mu, const float *lv, float scale, float *dmu, float *dlv, double *acc) {
  double s = 0.0;
  TS_CUDA_FOR(i, n) {
    double m = mu[i], l = lv[i], ev = exp(l);
    s += 1.0 + l - m * m - ev;
    if (dmu) dmu[i] += scale * mu[i];
    if (dlv) dlv[i] += scale * 0.5f * (float)(ev - 1.0);
  }
  block_add(s, acc);
}

__global__ void correct(int n, int c, const float *logits, const int32_t *labels, double *acc) {
  double s = 0.0;
  TS_CUDA_FOR(i, (size_t)n) {
    const float *z = logits + i * (size_t)c;
    int best = 0;
    for (int k = 1; k < c; k++)
      if (z[k] > z[best]) best = k;
    s += best == labels[i] ? 1.0 : 0.0;
  }
  block_add(s, acc);
}

// Small grids: the losses act on a batch's outputs.
unsigned blocks(size_t n) {
  unsigned b = ts_cuda_blocks(n);
  return b > 256 ? 256 : b;
}

float norm_of(TsReduction red, size_t n) { return red == TS_REDUCE_MEAN && n ? 1.0f / (float)n : 1.0f; }

// Zeroes the accumulators, queues `launch`, copies the sums back.
template <typename F> double run(TsDevice *d, F launch, double *second) {
  if (d->status) return NAN;
  if (ts_cuda_check(d, cudaMemsetAsync(d->loss_acc, 0, 2 * sizeof(double), d->stream), "loss")) return NAN;
  launch();
  if (ts_cuda_check(d, cudaGetLastError(), "loss kernel")) return NAN;
  if (ts_cuda_check(d, cudaMemcpyAsync(d->loss_host, d->loss_acc, 2 * sizeof(double), cudaMemcpyDeviceToHost,
                                       d->stream),
                    "loss copy") ||
      ts_cuda_check(d, cudaStreamSynchronize(d->stream), "loss"))
    return NAN;
  if (second) *second = d->loss_host[1];
  return d->loss_host[0];
}

} // namespace

extern "C" {

void ts_cuda_mse_queue(cudaStream_t s, size_t n, const float *x, const float *t, float gscale, float *grad,
                       double *acc) {
  if (n) mse<<<blocks(n), TS_CUDA_THREADS, 0, s>>>(n, x, t, gscale, grad, acc);
}
void ts_cuda_ce_queue(cudaStream_t s, int n, int c, const float *logits, const int32_t *labels, float gscale,
                      float *grad, double *acc) {
  if (n > 0) ce<<<blocks((size_t)n), TS_CUDA_THREADS, 0, s>>>(n, c, logits, labels, gscale, grad, acc);
}
void ts_cuda_bce_queue(cudaStream_t s, size_t n, const float *x, const float *t, float gscale, float *grad,
                       double *acc) {
  if (n) bce<<<blocks(n), TS_CUDA_THREADS, 0, s>>>(n, x, t, gscale, grad, acc);
}
void ts_cuda_bce_logits_queue(cudaStream_t s, size_t n, const float *x, const float *t, float gscale, float *grad,
                              double *acc) {
  if (n) bce_logits<<<blocks(n), TS_CUDA_THREADS, 0, s>>>(n, x, t, gscale, grad, acc);
}
void ts_cuda_kl_queue(cudaStream_t s, size_t n, const float *mu, const float *lv, float scale, float *dmu,
                      float *dlv, double *acc) {
  if (n) kl<<<blocks(n), TS_CUDA_THREADS, 0, s>>>(n, mu, lv, scale, dmu, dlv, acc);
}
void ts_cuda_correct_queue(cudaStream_t s, int n, int c, const float *logits, const int32_t *labels, double *acc) {
  if (n > 0) correct<<<blocks((size_t)n), TS_CUDA_THREADS, 0, s>>>(n, c, logits, labels, acc);
}

double ts_cuda_loss_mse(TsDevice *d, size_t n, const float *x, const float *t, TsReduction red, float scale,
                        float *grad) {
  double s = run(d, [&] { ts_cuda_mse_queue(d->stream, n, x, t, scale * norm_of(red, n), grad, d->loss_acc); }, NULL);
  return red == TS_REDUCE_MEAN && n ? s / (double)n : s;
}

double ts_cuda_loss_cross_entropy(TsDevice *d, int n, int c, const float *logits, const int32_t *labels,
                                  TsReduction red, float scale, float *grad) {
  double bad = 0.0;
  run(d, [&] { labels_ok<<<blocks((size_t)n), TS_CUDA_THREADS, 0, d->stream>>>(n, c, labels, d->loss_acc); }, &bad);
  if (bad != 0.0 || d->status) return NAN;
  double s = run(d,
                 [&] {
                   ts_cuda_ce_queue(d->stream, n, c, logits, labels, scale * norm_of(red, (size_t)n), grad,
                                    d->loss_acc);
                 },
                 NULL);
  return red == TS_REDUCE_MEAN && n ? s / n : s;
}

double ts_cuda_loss_bce(TsDevice *d, size_t n, const float *x, const float *t, TsReduction red, float scale,
                        float *grad) {
  double s = run(d, [&] { ts_cuda_bce_queue(d->stream, n, x, t, scale * norm_of(red, n), grad, d->loss_acc); }, NULL);
  return red == TS_REDUCE_MEAN && n ? s / (double)n : s;
}

double ts_cuda_loss_bce_logits(TsDevice *d, size_t n, const float *x, const float *t, TsReduction red, float scale,
                               float *grad) {
  double s = run(
      d, [&] { ts_cuda_bce_logits_queue(d->stream, n, x, t, scale * norm_of(red, n), grad, d->loss_acc); }, NULL);
  return red == TS_REDUCE_MEAN && n ? s / (double)n : s;
}

double ts_cuda_loss_gaussian_kl(TsDevice *d, size_t n, const float *mu, const float *lv, float scale, float *dmu,
                                float *dlv) {
  return -0.5 * run(d, [&] { ts_cuda_kl_queue(d->stream, n, mu, lv, scale, dmu, dlv, d->loss_acc); }, NULL);
}

int ts_cuda_count_correct(TsDevice *d, int n, int c, const float *logits, const int32_t *labels) {
  double s = run(d, [&] { ts_cuda_correct_queue(d->stream, n, c, logits, labels, d->loss_acc); }, NULL);
  return isnan(s) ? -1 : (int)(s + 0.5);
}

} // extern "C"
