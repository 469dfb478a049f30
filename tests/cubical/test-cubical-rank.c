/* test-cubical-rank.c — the pixel sort of the cubical engine
 * (cub_rank_pixels) against qsort by (value, flat index) on inputs chosen
 * to reach every path: the counting sort (integers), the packed radix sort
 * with whole keys, and with truncated keys whose ties must be put in order
 * afterwards (a wide range of values, many of which differ only in their
 * last bits), plus -0.0, infinities, constant arrays and superlevel order. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "ph/cubical-internal.h"
#include "ts-test.h"

static const double *g_vals;
static int g_super;

static int cmp_index(const void *a, const void *b) {
  uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
  double x = g_vals[i], y = g_vals[j];
  if (g_super) {
    x = -x;
    y = -y;
  }
  if (x < y) return -1;
  if (x > y) return 1;
  return (i > j) - (i < j);
}

static void check_sort(const double *v, size_t n, int super, const char *what) {
  uint32_t *want = malloc(n * sizeof *want), *order = malloc(n * sizeof *order), *rank = malloc(n * sizeof *rank);
  double *sorted = malloc(n * sizeof *sorted);
  TS_CHECK(want && order && rank && sorted);
  for (size_t i = 0; i < n; i++) want[i] = (uint32_t)i;
  g_vals = v;
  g_super = super;
  qsort(want, n, sizeof *want, cmp_index);
  TsError err = {0};
  TS_CHECKF(cub_rank_pixels(v, n, super, 0, order, rank, sorted, NULL, &err) == TS_OK, "%s: %s", what, err.message);
  size_t bad = 0;
  for (size_t r = 0; r < n; r++) {
    bad += order[r] != want[r];
    bad += rank[order[r]] != r;
    bad += memcmp(&sorted[r], &v[order[r]], sizeof(double)) != 0;
  }
  TS_CHECKF(bad == 0, "%s (n %zu, %s): %zu mismatches", what, n, super ? "superlevel" : "sublevel", bad);
  free(want);
  free(order);
  free(rank);
  free(sorted);
}

static void test_sort_kinds(void) {
  TsRng rng;
  ts_rng_init(&rng, 42, 0);
  size_t sizes[] = {1, 2, 3, 17, 1000, 70000, 200000};
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
    size_t n = sizes[si];
    double *v = malloc(n * sizeof *v);
    TS_CHECK(v != NULL);
    for (int kind = 0; kind < 7; kind++) {
      for (size_t i = 0; i < n; i++) {
        double u = ts_rng_uniform(&rng);
        switch (kind) {
        case 0: v[i] = u; break;                                     /* noise in [0, 1) */
        case 1: v[i] = floor(u * 200) - 50; break;                   /* integers: counting sort */
        case 2: v[i] = (double)(float)u; break;                      /* float32 data: whole keys */
        case 3: /* huge range (keys truncated) and values one ulp apart (truncated ties) */
          v[i] = ts_rng_below(&rng, 4) == 0 ? ldexp(u - 0.5, (int)ts_rng_below(&rng, 2000) - 1000)
                                             : 1.0 + (double)ts_rng_below(&rng, 64) * DBL_EPSILON;
          break;
        case 4: /* zeros of both signs, infinities, and equal values */
          v[i] = (double[]){0.0, -0.0, INFINITY, -INFINITY, 1.5, -2.25}[ts_rng_below(&rng, 6)];
          break;
        case 5: v[i] = 7.25; break; /* constant */
        case 6: v[i] = u * 1e9 + (double)i * 1e-7; break;
        }
      }
      char what[32];
      snprintf(what, sizeof what, "kind %d", kind);
      check_sort(v, n, 0, what);
      check_sort(v, n, 1, what);
    }
    free(v);
  }
}

/* 2D grids: order and rank in padded coordinates (a frame of one pixel). */
static void test_sort_padded(void) {
  TsRng rng;
  ts_rng_init(&rng, 9, 0);
  size_t shapes[][2] = {{1, 1}, {1, 7}, {7, 1}, {5, 9}, {300, 211}};
  for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
    size_t H = shapes[si][0], W = shapes[si][1], n = H * W, pw = W + 2;
    double *v = malloc(n * sizeof *v);
    uint32_t *order = malloc(n * sizeof *order), *rank = malloc((H + 2) * pw * sizeof *rank);
    uint32_t *order0 = malloc(n * sizeof *order0), *rank0 = malloc(n * sizeof *rank0);
    double *sorted = malloc(n * sizeof *sorted);
    for (int ints = 0; ints < 2; ints++) {
      for (size_t i = 0; i < n; i++) v[i] = ints ? (double)ts_rng_below(&rng, 9) : ts_rng_uniform(&rng);
      TsError err = {0};
      TS_CHECK(cub_rank_pixels(v, n, 0, 0, order0, rank0, sorted, NULL, &err) == TS_OK);
      TS_CHECK(cub_rank_pixels(v, n, 0, W, order, rank, sorted, NULL, &err) == TS_OK);
      size_t bad = 0;
      for (size_t r = 0; r < n; r++) {
        size_t p = order0[r], q = (p / W + 1) * pw + p % W + 1;
        bad += order[r] != q || rank[q] != r;
      }
      TS_CHECKF(bad == 0, "%zux%zu: %zu mismatches", H, W, bad);
    }
    free(v);
    free(order);
    free(rank);
    free(order0);
    free(rank0);
    free(sorted);
  }
}

int main(void) {
  TS_RUN(test_sort_kinds);
  TS_RUN(test_sort_padded);
  return ts_test_finish();
}
