/* cuda/kernels.h — what the .cu files share: grid-stride launch sizes. */
#ifndef TS_NN_CUDA_KERNELS_H
#define TS_NN_CUDA_KERNELS_H

#include <cuda_runtime.h>
#include <stddef.h>

#define TS_CUDA_THREADS 256

/* Blocks for a grid-stride loop over n items: enough to fill any current
 * GPU, never more than the items need. */
static inline unsigned ts_cuda_blocks(size_t n) {
  size_t b = (n + TS_CUDA_THREADS - 1) / TS_CUDA_THREADS;
  if (b > 8192) b = 8192;
  return b ? (unsigned)b : 1u;
}

#define TS_CUDA_FOR(i, n) for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

#endif
