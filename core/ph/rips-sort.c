/* rips-sort.c — sorting simplices into the reduction order: an introspective
 * quicksort without a comparison callback, and a two-way parallel split. */
#include "ph/rips-engine.h"

/* Hoare partition around piv (a value present in a[0, n)): afterwards
 * a[0, j] come no later than piv and a[j+1, n) no earlier; returns j. */
static size_t partition(Simplex *a, size_t n, const Simplex *piv) {
  size_t i = 0, j = n - 1;
  for (;;) {
    while (later(&a[i], piv)) i++;
    while (later(piv, &a[j])) j--;
    if (i >= j) return j;
    Simplex t = a[i];
    a[i] = a[j];
    a[j] = t;
    i++;
    j--;
  }
}

void ts_rips_sort(Simplex *a, size_t n) {
  while (n > 24) {
    Simplex *x = &a[0], *y = &a[n / 2], *z = &a[n - 1], *m;
    if (later(x, y)) m = later(y, z) ? y : (later(x, z) ? z : x);
    else m = later(x, z) ? x : (later(y, z) ? z : y);
    Simplex piv = *m;
    size_t j = partition(a, n, &piv);
    /* [0, j] and [j+1, n): recurse on the smaller */
    size_t left = j + 1;
    if (left < n - left) {
      ts_rips_sort(a, left);
      a += left;
      n -= left;
    } else {
      ts_rips_sort(a + left, n - left);
      n = left;
    }
  }
  for (size_t i = 1; i < n; i++) {
    Simplex t = a[i];
    size_t j = i;
    while (j > 0 && later(&t, &a[j - 1])) {
      a[j] = a[j - 1];
      j--;
    }
    a[j] = t;
  }
}

/* With threads: one partition step around the median of 9 samples, then the
 * two sides sorted side by side (in place: no extra memory). */
typedef struct {
  Simplex *part[2];
  size_t len[2];
} SortCtx;

static void sort_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  SortCtx *c = ctx;
  for (size_t q = b; q < e; q++) ts_rips_sort(c->part[q], c->len[q]);
}

void ts_rips_sort_par(Simplex *a, size_t n, TsPool *pool) {
  if (ts_pool_threads(pool) < 2 || n < 65536) {
    ts_rips_sort(a, n);
    return;
  }
  Simplex smp[9];
  for (int k = 0; k < 9; k++) smp[k] = a[(n - 1) / 8 * (size_t)k];
  ts_rips_sort(smp, 9);
  Simplex piv = smp[4];
  size_t j = partition(a, n, &piv);
  SortCtx c = {{a, a + j + 1}, {j + 1, n - j - 1}};
  ts_pool_for(pool, 2, 1, sort_task, &c);
}
