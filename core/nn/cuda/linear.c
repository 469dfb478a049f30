/* cuda/linear.c — linear layers through cuBLAS. The arrays are row-major
 * (x [n, in], w [out, in], y [n, out]); cuBLAS is column-major, so each is
 * read as its transpose: y^T = w x^T is SGEMM(T, N) with m = out, n = n,
 * k = in. Gradients: dx^T += w^T dy^T (SGEMM(N, N)), dw^T += x^T dy
 * (SGEMM(N, T)), db += column sums of dy (our kernel). */
#include "nn/cuda/cuda.h"

void ts_cuda_linear_forward(TsDevice *d, int n, int in, int out, const float *x, const float *w, const float *b,
                            float *y) {
  if (d->status) return;
  const float one = 1.0f, zero = 0.0f;
  if (b) ts_cuda_bias_rows(d->stream, n, out, b, y);
  ts_cuda_check_blas(d, cublasSgemm(d->blas, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, &one, w, in, x, in, b ? &one : &zero,
                                    y, out),
                     "linear forward");
}

void ts_cuda_linear_backward(TsDevice *d, int n, int in, int out, const float *x, const float *w, const float *dy,
                             float *dx, float *dw, float *db) {
  if (d->status) return;
  const float one = 1.0f;
  if (dx)
    ts_cuda_check_blas(d, cublasSgemm(d->blas, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, &one, w, in, dy, out, &one, dx, in),
                       "linear input gradient");
  if (dw)
    ts_cuda_check_blas(d, cublasSgemm(d->blas, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, &one, x, in, dy, out, &one, dw, in),
                       "linear weight gradient");
  if (db) ts_cuda_colsum_add(d->stream, n, out, dy, db);
}
