/* toposcope rips — Vietoris–Rips persistent homology of a point cloud, a
 * distance matrix or a weighted graph, in Ripser's input formats; and the
 * demo step "Rips homology". */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "base/rng.h"
#include "cli.h"
#include "commands.h"
#include "demo.h"
#include "ph/rips.h"

static void help(void) {
  printf("Usage: toposcope rips INPUT [OPTIONS]\n"
         "Vietoris-Rips persistent homology (Ripser's algorithm) of the points, distance\n"
         "matrix or graph in INPUT ('-' reads stdin), written as CSV: one line per pair,\n"
         "'dim,birth,death' (death 'inf' for an essential class), sorted by dim, birth, death.\n\n"
         "Options:\n"
         "  -f, --format F        input format (default: points):\n"
         "                          points (or point-cloud): one point a line\n"
         "                          distance: full n x n matrix\n"
         "                          lower-distance: lower triangle without diagonal, row by row\n"
         "                          upper-distance: upper triangle without diagonal, row by row\n"
         "                          sparse: 'i j d' lines, one edge each (0-based vertices)\n"
         "                          dipha: DIPHA binary distance matrix\n"
         "                        numbers are separated by commas or blanks; '#' starts a comment line\n"
         "  -m, --metric M        distance between points: euclidean (default), manhattan,\n"
         "                        chebyshev, cosine, correlation (1 - |Pearson r|)\n"
         "  -d, --maxdim K        highest homology dimension (default: 1)\n"
         "  -t, --threshold T     only simplices of diameter <= T (default: none, the\n"
         "                        filtration is cut at the enclosing radius, which loses nothing)\n"
         "  -p, --modulus P       coefficients in Z/P, P prime (default: 2)\n"
         "  -e, --edges           add the columns birth_i,birth_j,death_i,death_j: the longest\n"
         "                        edge of the simplex that creates / kills each class (H0: the\n"
         "                        vertex born, -1; essential classes: death -1,-1)\n"
         "  -o, --output FILE     write the CSV to FILE (default: stdout)\n");
  ts_cli_help_common(stdout, 1);
}

static int write_csv(FILE *f, const TsDiagram *d, int edges) {
  fprintf(f, edges ? "dim,birth,death,birth_i,birth_j,death_i,death_j\n" : "dim,birth,death\n");
  for (size_t i = 0; i < d->n; i++) {
    const TsPair *p = &d->pairs[i];
    char death[32];
    if (isinf(p->death)) snprintf(death, sizeof death, "inf");
    else snprintf(death, sizeof death, "%.9g", p->death);
    fprintf(f, "%d,%.9g,%s", p->dim, p->birth, death);
    if (edges)
      fprintf(f, ",%d,%d,%d,%d", (int)p->birth_at[0], (int)p->birth_at[1], (int)p->death_at[0],
              (int)p->death_at[1]);
    fputc('\n', f);
  }
  return ferror(f) ? -1 : 0;
}

int ts_cmd_rips(int argc, char **argv) {
  static const struct option opts[] = {{"format", required_argument, 0, 'f'},
                                       {"metric", required_argument, 0, 'm'},
                                       {"maxdim", required_argument, 0, 'd'},
                                       {"dim", required_argument, 0, 'd'},
                                       {"threshold", required_argument, 0, 't'},
                                       {"modulus", required_argument, 0, 'p'},
                                       {"edges", no_argument, 0, 'e'},
                                       {"output", required_argument, 0, 'o'},
                                       {"threads", required_argument, 0, 'T'},
                                       {"store", required_argument, 0, 's'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int format = TS_RIPS_POINTS, metric = TS_RIPS_EUCLIDEAN, edges = 0, threads = 0, c, rc;
  long maxdim = 1, modulus = 2;
  double threshold = INFINITY;
  const char *out_path = NULL;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":f:m:d:t:p:eo:h", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      if ((format = ts_rips_format_parse(optarg)) < 0)
        return ts_cli_usage_error("rips", "unknown --format '%s' (points, distance, lower-distance, "
                                          "upper-distance, sparse, dipha)", optarg);
      break;
    case 'm':
      if ((metric = ts_rips_metric_parse(optarg)) < 0)
        return ts_cli_usage_error("rips", "unknown --metric '%s' (euclidean, manhattan, chebyshev, cosine, "
                                          "correlation)", optarg);
      break;
    case 'd':
      if ((rc = ts_cli_int("rips", "--maxdim", optarg, 0, 12, &maxdim))) return rc;
      break;
    case 't':
      if ((rc = ts_cli_double("rips", "--threshold", optarg, 0, INFINITY, &threshold))) return rc;
      break;
    case 'p':
      if ((rc = ts_cli_int("rips", "--modulus", optarg, 2, 32749, &modulus))) return rc;
      break;
    case 'e': edges = 1; break;
    case 'o': out_path = optarg; break;
    case 'T':
      if ((rc = ts_cli_threads("rips", optarg, &threads))) return rc;
      break;
    case 's': break; /* no store needed */
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option("rips", optopt, argv[optind - 1]);
    }
  }
  if (optind >= argc) return ts_cli_usage_error("rips", "missing INPUT");
  if (optind + 1 < argc) return ts_cli_usage_error("rips", "unexpected argument '%s'", argv[optind + 1]);
  const char *path = argv[optind];
  if (!strcmp(path, "-")) path = "/dev/stdin";

  TsError err = {0};
  TsPool *pool = ts_pool_new(threads, &err);
  if (!pool) return ts_cli_fail("rips", &err);
  TsRipsDist dist;
  TsDiagram dgm;
  ts_diagram_init(&dgm);
  int ret = TS_EXIT_OK;
  if (ts_rips_dist_read(&dist, path, (TsRipsFormat)format, (TsRipsMetric)metric, pool, &err)) {
    ret = ts_cli_fail("rips", &err);
    goto done;
  }
  TsRipsOptions o;
  ts_rips_options_init(&o);
  o.maxdim = (int)maxdim;
  o.threshold = threshold;
  o.modulus = (int)modulus;
  o.pool = pool;
  if (ts_rips_ph(&dist, &o, &dgm, &err)) {
    ret = ts_cli_fail("rips", &err);
    goto done;
  }
  FILE *f = out_path ? fopen(out_path, "w") : stdout;
  if (!f) {
    ret = ts_cli_failf("rips", "cannot write '%s'", out_path);
    goto done;
  }
  int bad = write_csv(f, &dgm, edges);
  if (out_path && fclose(f) != 0) bad = -1;
  if (bad) ret = ts_cli_failf("rips", "cannot write '%s'", out_path ? out_path : "stdout");
done:
  ts_diagram_clear(&dgm);
  ts_rips_dist_clear(&dist);
  ts_pool_free(pool);
  return ret;
}

/* Demo: 100 points on a noisy circle have one long H1 bar. */
int ts_demo_rips(TsDemo *demo) {
  enum { N = 100 };
  double pts[2 * N];
  TsRng rng;
  ts_rng_init(&rng, 6, 0);
  for (int i = 0; i < N; i++) {
    double t = 2 * M_PI * ts_rng_uniform(&rng);
    pts[2 * i] = cos(t) + 0.05 * ts_rng_normal(&rng);
    pts[2 * i + 1] = sin(t) + 0.05 * ts_rng_normal(&rng);
  }
  TsRipsOptions o;
  ts_rips_options_init(&o);
  TsDiagram d;
  ts_diagram_init(&d);
  TsError err = {0};
  if (ts_rips_ph_points(pts, N, 2, &o, &d, &err)) {
    fprintf(stderr, "toposcope: demo: rips: %s\n", err.message);
    return 1;
  }
  const TsPair *best = NULL;
  size_t h1 = 0;
  for (size_t i = 0; i < d.n; i++)
    if (d.pairs[i].dim == 1) {
      h1++;
      if (!best || d.pairs[i].death - d.pairs[i].birth > best->death - best->birth) best = &d.pairs[i];
    }
  fprintf(demo->out, "   %d points on a noisy circle (radius 1, noise 0.05): %zu H0 pairs, %zu H1 pairs\n", N,
          ts_diagram_count(&d, 0), h1);
  if (best)
    fprintf(demo->out,
            "   longest H1 bar [%.3f, %.3f): born with edge (%d, %d), killed by the triangle whose longest edge "
            "is (%d, %d)\n",
            best->birth, best->death, best->birth_at[0], best->birth_at[1], best->death_at[0], best->death_at[1]);
  int ok = best && best->death - best->birth > 1.0;
  ts_diagram_clear(&d);
  if (!ok) {
    fprintf(stderr, "toposcope: demo: rips: the circle's H1 bar is missing\n");
    return 1;
  }
  return 0;
}
