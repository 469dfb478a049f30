// cuda/bn-kernels.cu — our batch-norm kernels, for what cuDNN's batch norm
// does not cover (cuda/batchnorm.c): one block per channel, sums in double,
// the CPU's formulas (nn/batchnorm.c) term for term.
#include "nn/cuda/cuda.h"
#include "nn/cuda/kernels.h"

namespace {

__device__ double block_sum(double v, double *sh) {
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  double r = sh[0];
  __syncthreads();
  return r;
}

// n = 0: the statistics are the running ones (evaluation).
__global__ void stats(int n, int c, int hw, const float *x, float eps, float momentum, float *rm, float *rv,
                      float *save_mean, float *save_invstd) {
  __shared__ double sh[TS_CUDA_THREADS];
  const int ch = blockIdx.x;
  if (n == 0) {
    if (threadIdx.x == 0) {
      save_mean[ch] = rm[ch];
      save_invstd[ch] = (float)(1.0 / sqrt((double)rv[ch] + eps));
    }
    return;
  }
  const size_t m = (size_t)n * hw, chw = (size_t)c * hw;
  double s = 0.0;
  for (size_t i = threadIdx.x; i < m; i += blockDim.x) s += x[(i / hw) * chw + (size_t)ch * hw + i % hw];
  const double mu = block_sum(s, sh) / (double)m;
  double q = 0.0;
  for (size_t i = threadIdx.x; i < m; i += blockDim.x) {
    double dv = x[(i / hw) * chw + (size_t)ch * hw + i % hw] - mu;
    q += dv * dv;
  }
  const double ss = block_sum(q, sh);
  if (threadIdx.x == 0) {
    double var = ss / (double)m;
    save_mean[ch] = (float)mu;
    save_invstd[ch] = (float)(1.0 / sqrt(var + eps));
    if (rm) {
      double unbiased = m > 1 ? ss / (double)(m - 1) : var;
      rm[ch] = (1.0f - momentum) * rm[ch] + momentum * (float)mu;
      rv[ch] = (1.0f - momentum) * rv[ch] + momentum * (float)unbiased;
    }
  }
}

__global__ void apply(size_t total, int c, int hw, const float *x, const float *gamma, const float *beta,
                      const float *mean, const float *invstd, float *y) {
  TS_CUDA_FOR(i, total) {
    int ch = (int)((i / (size_t)hw) % (size_t)c);
    float g = gamma ? gamma[ch] : 1.0f, bt = beta ? beta[ch] : 0.0f;
    float scale = g * invstd[ch], shift = bt - mean[ch] * scale;
    y[i] = x[i] * scale + shift;
  }
}

__global__ void backward(int train, int n, int c, int hw, const float *x, const float *gamma, const float *smean,
                         const float *sinv, const float *dy, float *dx, float *dgamma, float *dbeta, int into) {
  __shared__ double sh[TS_CUDA_THREADS];
  const int ch = blockIdx.x;
  const size_t m = (size_t)n * hw, chw = (size_t)c * hw;
  const float mean = smean[ch], invstd = sinv[ch];
  double a = 0.0, b = 0.0;
  for (size_t i = threadIdx.x; i < m; i += blockDim.x) {
    size_t k = (i / hw) * chw + (size_t)ch * hw + i % hw;
    a += dy[k];
    b += (double)dy[k] * (double)(x[k] - mean);
  }
  const double sdy = block_sum(a, sh), sdyx = block_sum(b, sh);
  if (threadIdx.x == 0) {
    if (dbeta) dbeta[ch] += (float)sdy;
    if (dgamma) dgamma[ch] += (float)(sdyx * invstd);
  }
  if (!dx) return;
  const float k1 = (gamma ? gamma[ch] : 1.0f) * invstd;
  const float mdy = train ? (float)(sdy / (double)m) : 0.0f;
  const float k2 = train ? (float)(sdyx / (double)m) * invstd * invstd : 0.0f;
  for (size_t i = threadIdx.x; i < m; i += blockDim.x) {
    size_t k = (i / hw) * chw + (size_t)ch * hw + i % hw;
    float g = train ? k1 * (dy[k] - mdy - (x[k] - mean) * k2) : k1 * dy[k];
    dx[k] = into ? g : dx[k] + g;
  }
}

} // namespace

extern "C" {

void ts_cuda_bn_apply(cudaStream_t s, int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                      const float *mean, const float *invstd, float *y) {
  size_t total = (size_t)n * c * hw;
  if (total) apply<<<ts_cuda_blocks(total), TS_CUDA_THREADS, 0, s>>>(total, c, hw, x, gamma, beta, mean, invstd, y);
}

void ts_cuda_bn_stats(cudaStream_t s, int n, int c, int hw, const float *x, float eps, float momentum,
                      float *running_mean, float *running_var, float *save_mean, float *save_invstd) {
  if (c > 0)
    stats<<<(unsigned)c, TS_CUDA_THREADS, 0, s>>>(n, c, hw, x, eps, momentum, running_mean, running_var, save_mean,
                                                  save_invstd);
}

void ts_cuda_bn_backward_own(cudaStream_t s, int train, int n, int c, int hw, const float *x, const float *gamma,
                             const float *mean, const float *invstd, const float *dy, float *dx, float *dgamma,
                             float *dbeta, int into) {
  if (c > 0 && (dx || dgamma || dbeta))
    backward<<<(unsigned)c, TS_CUDA_THREADS, 0, s>>>(train, n, c, hw, x, gamma, mean, invstd, dy, dx, dgamma, dbeta,
                                                     into);
}

} // extern "C"
