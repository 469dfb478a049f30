/* cubical-timing — the engine alone (ts_cubical_ph, no file I/O), for
 * profiling and best-of-N timings of the 2D sweeps:
 *   cubical-timing noise|smooth|bytes SIZE v|t REPEATS
 * noise: uniform white noise; smooth: white noise blurred by four passes of
 * a 9x9 box filter (a smooth field with few critical points); bytes: noise
 * rounded to 0..255 (the counting sort). Prints the best time, ms per
 * megapixel (thread CPU time), the pair count and a hash of the diagram's
 * multiset of pairs (to check that a change leaves the output identical,
 * whatever order the pairs come in), then the best time of the pixel sort
 * alone (cub_rank_pixels), the sweeps' share being the rest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cubical-bench-util.h"
#include "ph/cubical-internal.h"
#include "ph/cubical.h"

static double *make(const char *kind, size_t n) {
  double *v = malloc(n * n * sizeof *v), *t = malloc(n * n * sizeof *t);
  if (!v || !t) exit(1);
  uint64_t s = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < n * n; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    v[i] = (double)(s >> 11) / 9007199254740992.0;
  }
  if (!strcmp(kind, "bytes"))
    for (size_t i = 0; i < n * n; i++) v[i] = (double)(int)(v[i] * 256);
  if (!strcmp(kind, "smooth"))
    for (int pass = 0; pass < 4; pass++) {
      for (size_t y = 0; y < n; y++) /* rows, then columns, clamped at the edges */
        for (size_t x = 0; x < n; x++) {
          double a = 0;
          for (int k = -4; k <= 4; k++) {
            long xx = (long)x + k;
            xx = xx < 0 ? 0 : xx >= (long)n ? (long)n - 1 : xx;
            a += v[y * n + (size_t)xx];
          }
          t[y * n + x] = a / 9;
        }
      for (size_t y = 0; y < n; y++)
        for (size_t x = 0; x < n; x++) {
          double a = 0;
          for (int k = -4; k <= 4; k++) {
            long yy = (long)y + k;
            yy = yy < 0 ? 0 : yy >= (long)n ? (long)n - 1 : yy;
            a += t[(size_t)yy * n + x];
          }
          v[y * n + x] = a / 9;
        }
    }
  free(t);
  return v;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: cubical-timing noise|smooth|bytes SIZE v|t REPEATS\n");
    return 2;
  }
  size_t n = (size_t)atol(argv[2]);
  int reps = atoi(argv[4]);
  if (n < 1 || reps < 1) return 2;
  double *v = make(argv[1], n);
  TsCubicalOptions o;
  ts_cubical_options_default(&o);
  o.construction = argv[3][0] == 't' ? TS_CONSTRUCTION_T : TS_CONSTRUCTION_V;
  TsDiagram d;
  ts_diagram_init(&d);
  TsError err;
  double best = 1e30;
  size_t shape[2] = {n, n};
  for (int i = 0; i < reps; i++) {
    double t0 = bench_cpu_now();
    if (ts_cubical_ph(v, 2, shape, &o, &d, &err)) {
      fprintf(stderr, "cubical-timing: %s\n", err.message);
      return 1;
    }
    double dt = bench_cpu_now() - t0;
    if (dt < best) best = dt;
  }
  uint64_t h = bench_diagram_hash(&d);
  uint32_t *order = malloc(n * n * sizeof *order), *rank = malloc((n + 2) * (n + 2) * sizeof *rank);
  double sort_best = 1e30;
  if (!order || !rank) return 1;
  for (int i = 0; i < reps; i++) {
    double t0 = bench_cpu_now();
    if (cub_rank_pixels(v, n * n, 0, n, order, rank, NULL, NULL, &err)) return 1;
    double dt = bench_cpu_now() - t0;
    if (dt < sort_best) sort_best = dt;
  }
  free(order);
  free(rank);
  double mp = (double)(n * n) / 1e6;
  printf("%s %zux%zu %s: best of %d %.2f ms, %.1f ms/MP, %zu pairs, hash %016llx; sort %.1f ms/MP\n", argv[1], n, n,
         argv[3], reps, best * 1e3, best * 1e3 / mp, d.n, (unsigned long long)h, sort_best * 1e3 / mp);
  ts_diagram_clear(&d);
  free(v);
  return 0;
}
