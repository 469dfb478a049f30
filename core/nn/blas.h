/* blas.h — the one BLAS routine the engine uses, SGEMM, taken from the
 * system's CBLAS when it is first needed.
 *
 * Why not link it: Debian's default OpenBLAS (the pthread build) starts a
 * thread pool as soon as it is loaded, and its threads spin for about 0.1 s
 * of CPU, in every command, BLAS-free ones (generate, ph, label, ...)
 * included. Our own pool does the threading, so only the commands that run
 * the network engine load it. Where no CBLAS can be loaded, or the
 * environment says TOPOSCOPE_BLAS=builtin, a plain loop (right, and slow)
 * stands in. */
#ifndef TS_NN_BLAS_H
#define TS_NN_BLAS_H

#include <cblas.h>

/* cblas_sgemm's arguments and meaning. */
void ts_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int m, int n, int k,
              float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* The library SGEMM comes from ("libopenblas.so.0", ...), or "built-in";
 * loads it if that has not happened yet. */
const char *ts_blas_name(void);

#endif
