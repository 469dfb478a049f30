/* cuda/device.c — the device context: opening a CUDA device (streams,
 * cuBLAS, cuDNN, TF32 policy), the sticky error, device allocations and
 * the small shared buffers. See cuda.h for the design. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/cuda/cuda.h"

void ts_cuda_use(TsDevice *d) { ts_cuda_check(d, cudaSetDevice(d->ordinal), "cudaSetDevice"); }

void ts_cuda_fail(TsDevice *d, TsStatus s, const char *fmt, ...) {
  if (d->status != TS_OK) return;
  d->status = s;
  d->err.code = s;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->err.message, sizeof d->err.message, fmt, ap);
  va_end(ap);
}

int ts_cuda_check(TsDevice *d, cudaError_t e, const char *what) {
  if (e == cudaSuccess) return 0;
  ts_cuda_fail(d, e == cudaErrorMemoryAllocation ? TS_ERR_NOMEM : TS_ERR_INTERNAL, "cuda:%d: %s: %s", d->ordinal,
               what, cudaGetErrorString(e));
  return 1;
}

int ts_cuda_check_dnn(TsDevice *d, cudnnStatus_t s, const char *what) {
  if (s == CUDNN_STATUS_SUCCESS) return 0;
  ts_cuda_fail(d, s == CUDNN_STATUS_ALLOC_FAILED ? TS_ERR_NOMEM : TS_ERR_INTERNAL, "cuda:%d: cuDNN %s: %s",
               d->ordinal, what, cudnnGetErrorString(s));
  return 1;
}

int ts_cuda_check_blas(TsDevice *d, cublasStatus_t s, const char *what) {
  if (s == CUBLAS_STATUS_SUCCESS) return 0;
  ts_cuda_fail(d, s == CUBLAS_STATUS_ALLOC_FAILED ? TS_ERR_NOMEM : TS_ERR_INTERNAL, "cuda:%d: cuBLAS %s: %s",
               d->ordinal, what, cublasGetStatusString(s));
  return 1;
}

void *ts_cuda_alloc(TsDevice *d, size_t bytes, const char *what) {
  void *p = NULL;
  if (ts_cuda_check(d, cudaMalloc(&p, bytes ? bytes : 16), what)) return NULL;
  if (ts_cuda_check(d, cudaMemsetAsync(p, 0, bytes ? bytes : 16, d->stream), what)) {
    cudaFree(p);
    return NULL;
  }
  return p;
}

/* Grows a device buffer between steps (sizes only grow, so a steady state
 * never allocates). */
static float *grow(TsDevice *d, float **buf, size_t *have, size_t n, float fill, const char *what) {
  if (*have >= n && *buf) return *buf;
  cudaStreamSynchronize(d->stream);
  cudaFree(*buf);
  *buf = NULL;
  *have = 0;
  float *p = ts_cuda_alloc(d, n * sizeof(float), what);
  if (!p) return NULL;
  if (fill != 0.0f) {
    float *h = malloc(n * sizeof(float));
    if (!h) {
      ts_cuda_fail(d, TS_ERR_NOMEM, "cuda:%d: %s: out of host memory", d->ordinal, what);
      cudaFree(p);
      return NULL;
    }
    for (size_t i = 0; i < n; i++) h[i] = fill;
    int bad = ts_cuda_check(d, cudaMemcpyAsync(p, h, n * sizeof(float), cudaMemcpyHostToDevice, d->stream), what) ||
              ts_cuda_check(d, cudaStreamSynchronize(d->stream), what);
    free(h);
    if (bad) {
      cudaFree(p);
      return NULL;
    }
  }
  *buf = p;
  *have = n;
  return p;
}

const float *ts_cuda_ones(TsDevice *d, size_t n) { return grow(d, &d->ones, &d->ones_n, n, 1.0f, "ones"); }
float *ts_cuda_bn_scratch(TsDevice *d, size_t n) {
  return grow(d, &d->bn_scratch, &d->bn_scratch_n, n, 0.0f, "batch-norm scratch");
}

static TsDevice *open_fail(TsDevice *d, TsError *err) {
  ts_error_set(err, d->status ? d->status : TS_ERR_UNSUPPORTED, "%s", d->err.message);
  ts_device_free(d);
  return NULL;
}

TsStatus ts_device_probe(int ordinal, TsError *err) {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    cudaGetLastError(); /* clear it */
    const char *why = e == cudaErrorInsufficientDriver ? "no NVIDIA driver is loaded, or it is older than this CUDA runtime"
                      : e == cudaErrorNoDevice || e == cudaSuccess ? "the driver reports no device"
                                                                   : cudaGetErrorString(e);
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "device cuda:%d: no CUDA device can be used here (%s)", ordinal, why);
  }
  if (ordinal < 0 || ordinal >= count)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "device cuda:%d: this machine has %d CUDA device%s (cuda:0%s)",
                        ordinal, count, count == 1 ? "" : "s", count == 1 ? "" : " to cuda:N-1");
  return TS_OK;
}

TsDevice *ts_device_open(int ordinal, int tf32, int deterministic, TsError *err) {
  if (ts_device_probe(ordinal, err)) return NULL;
  TsDevice *d = calloc(1, sizeof *d);
  if (!d) {
    ts_error_set(err, TS_ERR_NOMEM, "device: out of memory");
    return NULL;
  }
  d->ordinal = ordinal;
  d->tf32 = tf32 ? 1 : 0;
  d->deterministic = deterministic ? 1 : 0;
  if (ts_cuda_check(d, cudaSetDevice(ordinal), "cudaSetDevice")) return open_fail(d, err);
  struct cudaDeviceProp prop;
  if (ts_cuda_check(d, cudaGetDeviceProperties(&prop, ordinal), "cudaGetDeviceProperties")) return open_fail(d, err);
  snprintf(d->describe, sizeof d->describe, "%.160s (cuda:%d, %.0f GiB, compute %d.%d%s)", prop.name, ordinal,
           (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), prop.major, prop.minor, d->tf32 ? ", TF32" : "");
  if (ts_cuda_check(d, cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking), "stream")) return open_fail(d, err);
  if (ts_cuda_check(d, cudaStreamCreateWithFlags(&d->copy_stream, cudaStreamNonBlocking), "copy stream"))
    return open_fail(d, err);
  if (ts_cuda_check_blas(d, cublasCreate(&d->blas), "create")) return open_fail(d, err);
  if (ts_cuda_check_blas(d, cublasSetStream(d->blas, d->stream), "set stream")) return open_fail(d, err);
  if (ts_cuda_check_blas(d, cublasSetMathMode(d->blas, d->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
                         "math mode"))
    return open_fail(d, err);
  if (ts_cuda_check_dnn(d, cudnnCreate(&d->dnn), "create")) return open_fail(d, err);
  if (ts_cuda_check_dnn(d, cudnnSetStream(d->dnn, d->stream), "set stream")) return open_fail(d, err);
  d->loss_acc = ts_cuda_alloc(d, 4 * sizeof(double), "loss accumulator");
  if (!d->loss_acc) return open_fail(d, err);
  if (ts_cuda_check(d, cudaMallocHost((void **)&d->loss_host, 4 * sizeof(double)), "pinned loss buffer"))
    return open_fail(d, err);
  if (ts_cuda_check(d, cudaStreamSynchronize(d->stream), "open")) return open_fail(d, err);
  return d;
}

void ts_device_free(TsDevice *d) {
  if (!d) return;
  cudaSetDevice(d->ordinal);
  if (d->stream) cudaStreamSynchronize(d->stream);
  ts_cuda_algo_cache_free(d);
  cudaFree(d->ws);
  cudaFree(d->loss_acc);
  cudaFree(d->ones);
  cudaFree(d->bn_scratch);
  if (d->loss_host) cudaFreeHost(d->loss_host);
  if (d->dnn) cudnnDestroy(d->dnn);
  if (d->blas) cublasDestroy(d->blas);
  if (d->copy_stream) cudaStreamDestroy(d->copy_stream);
  if (d->stream) cudaStreamDestroy(d->stream);
  free(d);
}

const char *ts_device_describe(const TsDevice *d) { return d ? d->describe : "cpu"; }
