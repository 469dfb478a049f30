/* toposcope phdim — the PH dimension of a point cloud (README, Methods). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "cli.h"
#include "commands.h"
#include "ph/phdim.h"
#include "ph/rips.h"

static void help(void) {
  printf("Usage: toposcope phdim POINTS [OPTIONS]\n"
         "PH dimension of the point cloud in POINTS (one point a line, numbers separated by\n"
         "commas or blanks): for n = n-start, n-start + step, ... < N draw n points at random,\n"
         "E(n) = sum over the finite H0 bars of 0.5 (death - birth)^alpha (Euclidean Rips),\n"
         "fit log E = m log n + c, PHdim = alpha / (alpha - m). Prints the slope, PHdim and\n"
         "the (n, E) table.\n\n"
         "Options:\n"
         "  -a, --alpha A         exponent of the lifespans (default: 1)\n"
         "  -n, --n-start N       smallest sample size (default: 500)\n"
         "  -k, --step K          sample size increment (default: 350)\n"
         "  -S, --seed S          random seed of the subsamples (default: 0)\n");
  ts_cli_help_common(stdout, 1);
}

int ts_cmd_phdim(int argc, char **argv) {
  static const struct option opts[] = {{"alpha", required_argument, 0, 'a'},
                                       {"n-start", required_argument, 0, 'n'},
                                       {"step", required_argument, 0, 'k'},
                                       {"seed", required_argument, 0, 'S'},
                                       {"threads", required_argument, 0, 'T'},
                                       {"store", required_argument, 0, 's'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  double alpha = 1.0;
  long n_start = 500, step = 350;
  uint64_t seed = 0;
  int threads = 0, c, rc;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":a:n:k:S:h", opts, NULL)) != -1) {
    switch (c) {
    case 'a':
      if ((rc = ts_cli_double("phdim", "--alpha", optarg, 1e-6, 100, &alpha))) return rc;
      break;
    case 'n':
      if ((rc = ts_cli_int("phdim", "--n-start", optarg, 2, 100000000, &n_start))) return rc;
      break;
    case 'k':
      if ((rc = ts_cli_int("phdim", "--step", optarg, 1, 100000000, &step))) return rc;
      break;
    case 'S':
      if ((rc = ts_cli_u64("phdim", "--seed", optarg, &seed))) return rc;
      break;
    case 'T':
      if ((rc = ts_cli_threads("phdim", optarg, &threads))) return rc;
      break;
    case 's': break;
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option("phdim", optopt, argv[optind - 1]);
    }
  }
  if (optind >= argc) return ts_cli_usage_error("phdim", "missing POINTS");
  if (optind + 1 < argc) return ts_cli_usage_error("phdim", "unexpected argument '%s'", argv[optind + 1]);
  TsError err = {0};
  double *pts = NULL;
  size_t n, dim;
  if (ts_rips_points_read(argv[optind], &pts, &n, &dim, &err)) return ts_cli_fail("phdim", &err);
  TsPool *pool = ts_pool_new(threads, &err);
  if (!pool) {
    free(pts);
    return ts_cli_fail("phdim", &err);
  }
  TsPhdimResult res;
  int ret = TS_EXIT_OK;
  if (ts_phdim_estimate(pts, n, dim, alpha, (size_t)n_start, (size_t)step, seed, pool, &res, &err)) {
    ret = ts_cli_fail("phdim", &err);
  } else {
    printf("points: %zu in dimension %zu, alpha %g, seed %llu\n", n, dim, alpha, (unsigned long long)seed);
    printf("n,E\n");
    for (size_t k = 0; k < res.nsizes; k++) printf("%zu,%.9g\n", res.n[k], res.e[k]);
    printf("slope: %.6f\n", res.slope);
    printf("phdim: %.6f\n", res.phdim);
    ts_phdim_result_clear(&res);
  }
  ts_pool_free(pool);
  free(pts);
  return ret;
}
