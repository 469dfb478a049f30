/* cubical-timing3d — the engine alone on a 3D (or 4D) noise volume, for
 * best-of-N timings and a check that a change leaves the output identical:
 *   cubical-timing3d SIZE v|t REPEATS [NDIM]
 * Prints the best thread CPU time, the pair count and a hash of the
 * diagram's multiset of pairs (bench_diagram_hash), so that algorithms
 * emitting pairs in another order hash alike. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cubical-bench-util.h"
#include "ph/cubical.h"

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: cubical-timing3d SIZE v|t REPEATS [NDIM]\n");
    return 2;
  }
  size_t n = (size_t)atol(argv[1]);
  int reps = atoi(argv[3]), ndim = argc == 5 ? atoi(argv[4]) : 3;
  if (n < 1 || reps < 1 || ndim < 1 || ndim > 4) return 2;
  size_t shape[4], total = 1;
  for (int i = 0; i < ndim; i++) {
    shape[i] = n;
    total *= n;
  }
  double *v = malloc(total * sizeof *v);
  if (!v) return 1;
  uint64_t s = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < total; i++) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    v[i] = (double)(s >> 11) / 9007199254740992.0;
  }
  TsCubicalOptions o;
  ts_cubical_options_default(&o);
  o.construction = argv[2][0] == 't' ? TS_CONSTRUCTION_T : TS_CONSTRUCTION_V;
  TsDiagram d;
  ts_diagram_init(&d);
  TsError err;
  double best = 1e30;
  for (int i = 0; i < reps; i++) {
    double t0 = bench_cpu_now();
    if (ts_cubical_ph(v, ndim, shape, &o, &d, &err)) {
      fprintf(stderr, "cubical-timing3d: %s\n", err.message);
      return 1;
    }
    double dt = bench_cpu_now() - t0;
    if (dt < best) best = dt;
  }
  uint64_t h = bench_diagram_hash(&d);
  printf("noise %zu^%d %s: best of %d %.3f s, %zu pairs, hash %016llx\n", n, ndim, argv[2], reps, best, d.n,
         (unsigned long long)h);
  ts_diagram_clear(&d);
  free(v);
  return 0;
}
