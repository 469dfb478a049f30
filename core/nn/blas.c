/* blas.c — SGEMM from the first CBLAS that loads (see blas.h). */
#include "nn/blas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef __typeof__(&cblas_sgemm) SgemmFn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static SgemmFn sgemm_fn;
static const char *blas_name = "built-in";

static void load(void) {
  /* TOPOSCOPE_BLAS=builtin: the plain loop (the tests run the engine's
   * checks through it too). */
  const char *want = getenv("TOPOSCOPE_BLAS");
  if (want && strcmp(want, "builtin") == 0) return;
  /* OpenBLAS first (what Debian's libopenblas-dev installs), then any
   * CBLAS the alternatives system provides. */
  static const char *const names[] = {"libopenblas.so.0", "libopenblas.so", "libcblas.so.3", "libblas.so.3"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    void *h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) continue;
    void *f = dlsym(h, "cblas_sgemm");
    if (!f) {
      dlclose(h);
      continue;
    }
    /* POSIX guarantees a data pointer from dlsym converts to a function
     * pointer; ISO C does not, hence the copy through memory. */
    __builtin_memcpy(&sgemm_fn, &f, sizeof f);
    blas_name = names[i];
    /* Our pool is the only source of threads: a multi-threaded BLAS inside
     * pool tasks would oversubscribe the cores (half the speed on ResNet). */
    void *set = dlsym(h, "openblas_set_num_threads");
    if (set) {
      void (*set_threads)(int);
      __builtin_memcpy(&set_threads, &set, sizeof set);
      set_threads(1);
    }
    return; /* kept loaded for the life of the process */
  }
}

/* C = alpha op(A) op(B) + beta C, row- or column-major, as CBLAS has it. */
static void plain_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int m, int n,
                        int k, float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c,
                        int ldc) {
  if (order == CblasColMajor) { /* C^T = op(B)^T op(A)^T in row-major terms */
    plain_sgemm(CblasRowMajor, tb, ta, n, m, k, alpha, b, ldb, a, lda, beta, c, ldc);
    return;
  }
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      float s = 0;
      for (int p = 0; p < k; p++) {
        float x = ta == CblasNoTrans ? a[(size_t)i * lda + p] : a[(size_t)p * lda + i];
        float y = tb == CblasNoTrans ? b[(size_t)p * ldb + j] : b[(size_t)j * ldb + p];
        s += x * y;
      }
      float *cij = &c[(size_t)i * ldc + j];
      *cij = beta == 0 ? alpha * s : alpha * s + beta * *cij; /* beta 0: C may hold garbage, as in BLAS */
    }
}

void ts_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int m, int n, int k,
              float alpha, const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
  pthread_once(&once, load);
  if (sgemm_fn) sgemm_fn(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  else plain_sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

const char *ts_blas_name(void) {
  pthread_once(&once, load);
  return blas_name;
}
