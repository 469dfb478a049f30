/* toposcope distance — bottleneck or Wasserstein distance between two diagram files. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "ph/bottleneck.h"
#include "ph/diagram-io.h"
#include "ph/wasserstein.h"

static void help(void) {
  printf("Usage: toposcope distance A B [OPTIONS]\n"
         "Distance between two persistence diagrams (files in any format 'toposcope\n"
         "vectorize' reads: CSV, GUDHI/ripser text, .npy, DIPHA). Prints the distance.\n\n"
         "Options:\n"
         "  --metric NAME         bottleneck (default) or wasserstein\n"
         "  -p P                  Wasserstein order, >= 1 (default 2; 'inf' = bottleneck)\n"
         "  --ground NAME         ground metric: linf (default) or l2\n"
         "  --dim K               compare dimension K only (default: every dimension;\n"
         "                        bottleneck takes the largest, Wasserstein adds p-th powers)\n"
         "  --relative-error D    Wasserstein by auction to within a factor (1+D) of the\n"
         "                        optimal sum of p-th powers (default 0: exact, Hungarian)\n"
         "  --matching FILE       write the optimal matching as CSV\n"
         "                        (dim,a,b,a_birth,a_death,b_birth,b_death,cost; -1 = diagonal)\n"
         "  -h, --help            show this help\n");
}

int ts_cmd_distance(int argc, char **argv) {
  static const struct option opts[] = {{"metric", required_argument, 0, 'm'},
                                       {"ground", required_argument, 0, 'g'},
                                       {"dim", required_argument, 0, 'd'},
                                       {"relative-error", required_argument, 0, 'e'},
                                       {"matching", required_argument, 0, 'M'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int c, rc, bottleneck = 1, dim = -1;
  const char *matching = NULL;
  TsWassersteinOptions wo;
  ts_wasserstein_options_default(&wo);
  optind = 1;
  while ((c = getopt_long(argc, argv, ":p:h", opts, NULL)) != -1) {
    switch (c) {
    case 'm':
      if (strcmp(optarg, "bottleneck") == 0) bottleneck = 1;
      else if (strcmp(optarg, "wasserstein") == 0) bottleneck = 0;
      else return ts_cli_usage_error("distance", "--metric must be bottleneck or wasserstein, not '%s'", optarg);
      break;
    case 'p':
      if (strcmp(optarg, "inf") == 0) {
        wo.p = INFINITY;
        break;
      }
      if ((rc = ts_cli_double("distance", "-p", optarg, 1, 1e6, &wo.p))) return rc;
      break;
    case 'g':
      if (strcmp(optarg, "linf") == 0) wo.ground = TS_GROUND_LINF;
      else if (strcmp(optarg, "l2") == 0) wo.ground = TS_GROUND_L2;
      else return ts_cli_usage_error("distance", "--ground must be linf or l2, not '%s'", optarg);
      break;
    case 'd': {
      long v;
      if ((rc = ts_cli_int("distance", "--dim", optarg, 0, 64, &v))) return rc;
      dim = (int)v;
      break;
    }
    case 'e':
      if ((rc = ts_cli_double("distance", "--relative-error", optarg, 0, 1e6, &wo.relative_error))) return rc;
      break;
    case 'M': matching = optarg; break;
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option("distance", optopt, argv[optind - 1]);
    }
  }
  if (argc - optind != 2) return ts_cli_usage_error("distance", "expected two diagram files A and B");
  if (!bottleneck && isinf(wo.p)) bottleneck = 1;
  if (bottleneck && wo.ground != TS_GROUND_LINF)
    return ts_cli_usage_error("distance", "the bottleneck distance uses the L-inf ground metric");
  TsError err = {0};
  TsDiagram a, b;
  if (ts_diagram_read(argv[optind], TS_DGM_AUTO, &a, &err)) return ts_cli_fail("distance", &err);
  if (ts_diagram_read(argv[optind + 1], TS_DGM_AUTO, &b, &err)) {
    ts_diagram_clear(&a);
    return ts_cli_fail("distance", &err);
  }
  double d;
  TsMatching m;
  TsStatus st = bottleneck ? ts_bottleneck_distance(&a, &b, dim, &d, matching ? &m : NULL, &err)
                           : ts_wasserstein_distance(&a, &b, dim, &wo, &d, matching ? &m : NULL, &err);
  if (!st && matching) {
    st = ts_matching_write_csv(matching, &m, &a, &b, &err);
    ts_matching_clear(&m);
  }
  ts_diagram_clear(&a);
  ts_diagram_clear(&b);
  if (st) return ts_cli_fail("distance", &err);
  printf("%.17g\n", d);
  return TS_EXIT_OK;
}
