// cuda/optim.cu — the optimiser updates of nn/optim.c, element by element
// in the same order of float operations (torch.optim's single-tensor path).
#include "nn/cuda/cuda.h"
#include "nn/cuda/kernels.h"

namespace {

__global__ void sgd(size_t n, float *p, const float *g, float *buf, float lr, float wd, float mom, float damp,
                    int nesterov, int first) {
  TS_CUDA_FOR(i, n) {
    float d = g[i];
    if (wd != 0.0f) d = d + wd * p[i];
    if (mom != 0.0f) {
      float b = first ? d : buf[i] * mom + damp * d;
      buf[i] = b;
      d = nesterov ? d + mom * b : b;
    }
    p[i] = p[i] - lr * d;
  }
}

__global__ void adam(size_t n, float *p, const float *g, float *m, float *v, float lr, float wd, float b1, float b2,
                     float eps, float step_size, float bc2s, int decoupled) {
  TS_CUDA_FOR(i, n) {
    float gi = g[i];
    if (decoupled) p[i] = p[i] * (1.0f - lr * wd);
    else if (wd != 0.0f) gi = gi + wd * p[i];
    m[i] = m[i] + (1.0f - b1) * (gi - m[i]);
    v[i] = v[i] * b2 + (1.0f - b2) * gi * gi;
    float denom = sqrtf(v[i]) / bc2s + eps;
    p[i] = p[i] - step_size * (m[i] / denom);
  }
}

} // namespace

extern "C" {

// damp is 1 - dampening, as in nn/optim.c.
void ts_cuda_sgd_step(cudaStream_t s, size_t n, float *p, const float *g, float *buf, float lr, float wd, float mom,
                      float damp, int nesterov, int first) {
  if (n) sgd<<<ts_cuda_blocks(n), TS_CUDA_THREADS, 0, s>>>(n, p, g, buf, lr, wd, mom, damp, nesterov, first);
}

void ts_cuda_adam_step(cudaStream_t s, size_t n, float *p, const float *g, float *m, float *v, float lr, float wd,
                       float b1, float b2, float eps, float step_size, float bc2_sqrt, int decoupled) {
  if (n)
    adam<<<ts_cuda_blocks(n), TS_CUDA_THREADS, 0, s>>>(n, p, g, m, v, lr, wd, b1, b2, eps, step_size, bc2_sqrt,
                                                       decoupled);
}

} // extern "C"
