/* Timing driver for tests/bench/bench-dist.py: run/dist.h's fixed-order
 * allreduce against MPI_Allreduce (whose order of summation is Open MPI's
 * choice) on the same buffers, for a range of sizes. Run under mpirun;
 * rank 0 prints "floats ours_us mpi_us" lines (best of the repetitions). */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "run/dist.h"

int main(int argc, char **argv) {
  TsError err = {0};
  if (ts_dist_init(&argc, &argv, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  static const size_t sizes[] = {1024, 16384, 262144, 1048576, 4194304};
  for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
    size_t n = sizes[k];
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    for (size_t i = 0; i < n; i++) a[i] = (float)(i % 7) * 0.5f;
    int reps = n > 1000000 ? 10 : 50;
    double best_ours = 1e30, best_mpi = 1e30;
    for (int r = 0; r < reps; r++) {
      ts_dist_barrier(NULL);
      double t0 = ts_clock_monotonic();
      ts_dist_allreduce_f32(a, n, &err);
      double t1 = ts_clock_monotonic();
      if (t1 - t0 < best_ours) best_ours = t1 - t0;
      ts_dist_barrier(NULL);
      t0 = ts_clock_monotonic();
      MPI_Allreduce(a, b, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      t1 = ts_clock_monotonic();
      if (t1 - t0 < best_mpi) best_mpi = t1 - t0;
    }
    if (ts_dist_rank() == 0) printf("%zu %.1f %.1f\n", n, best_ours * 1e6, best_mpi * 1e6);
    free(a), free(b);
  }
  ts_dist_finalize();
  return 0;
}
