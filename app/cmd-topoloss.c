/* toposcope topoloss — the topological losses of one cloud against a target
 * cloud or diagram, with the gradient (core/topo/topoloss.h). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "cli.h"
#include "commands.h"
#include "ph/diagram-io.h"
#include "topo/topofit.h"
#include "topo/topoloss.h"

static void help(void) {
  printf("Usage: toposcope topoloss X Y [OPTIONS]\n"
         "Topo-GEN's topological losses of the point cloud X against the cloud Y (or,\n"
         "with --target-diagram, against the diagram file Y): every weighted loss's\n"
         "value and whether it depends on X, the weighted total, and push0.\n"
         "Point files: CSV or blank-separated text (one point a row) or .npy.\n"
         "Diagram files: any format 'toposcope distance' reads (CSV, text, .npy, DIPHA).\n\n"
         "Options:\n"
         "  --weights W0,...,W6   weights of bottleneck0, bottleneck1, persentropy0,\n"
         "                        persentropy1, dsigma0, dsigma1, density\n"
         "                        (default: 15,15,0,0,0,0,0)\n"
         "  --deg 0|1             homology up to this degree (default: 1)\n"
         "  --grad OUT            write dL/dX (of the total; of push0 with --push0) as CSV\n"
         "  --push0               when no weighted loss depends on X, the gradient is push0's\n"
         "  --target-diagram      Y is a diagram file, not a point cloud\n"
         "  --diagrams PREFIX     write X's and Y's bars as PREFIX-x.csv / PREFIX-y.csv (CSV\n"
         "                        diagrams with edges, in the order the losses index them)\n"
         "  --json                print the result as one JSON object\n"
         "  -h, --help            show this help\n");
}

static int write_bars(const char *prefix, const char *side, const TsTopoDiagram *t, TsError *err) {
  char path[4096];
  if (snprintf(path, sizeof path, "%s-%s.csv", prefix, side) >= (int)sizeof path)
    return ts_error_set(err, TS_ERR_INVALID, "--diagrams: prefix too long");
  return ts_diagram_write(path, TS_DGM_CSV, &t->fin, err);
}

int ts_cmd_topoloss(int argc, char **argv) {
  static const struct option opts[] = {{"weights", required_argument, 0, 'w'},
                                       {"deg", required_argument, 0, 'd'},
                                       {"grad", required_argument, 0, 'g'},
                                       {"push0", no_argument, 0, 'p'},
                                       {"target-diagram", no_argument, 0, 't'},
                                       {"diagrams", required_argument, 0, 'D'},
                                       {"json", no_argument, 0, 'j'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  TsTopoConfig cfg;
  ts_topo_config_init(&cfg);
  const char *grad_path = NULL, *prefix = NULL;
  int c, rc, target_dgm = 0, json = 0;
  TsError err = {0};
  optind = 1;
  while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
    switch (c) {
    case 'w':
      if (ts_topo_weights_parse(optarg, "--weights", cfg.weights, &err))
        return ts_cli_usage_error("topoloss", "%s", err.message);
      break;
    case 'd': {
      long v;
      if ((rc = ts_cli_int("topoloss", "--deg", optarg, 0, 1, &v))) return rc;
      cfg.deg = (int)v;
      break;
    }
    case 'g': grad_path = optarg; break;
    case 'p': cfg.push0_fallback = 1; break;
    case 't': target_dgm = 1; break;
    case 'D': prefix = optarg; break;
    case 'j': json = 1; break;
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option("topoloss", optopt, argv[optind - 1]);
    }
  }
  if (argc - optind != 2) return ts_cli_usage_error("topoloss", "expected a point file X and a target Y");
  const char *xpath = argv[optind], *ypath = argv[optind + 1];
  float *x = NULL, *y = NULL, *g = NULL;
  size_t n, dim, m, ydim;
  TsTopoDiagram target;
  ts_topo_diagram_init(&target);
  TsTopoWork *w = NULL;
  rc = TS_EXIT_FAILURE;
  if (ts_cloud_read(xpath, &x, &n, &dim, &err)) goto fail;
  if (target_dgm) {
    TsDiagram d;
    if (ts_diagram_read(ypath, TS_DGM_AUTO, &d, &err)) goto fail;
    TsStatus st = ts_topo_diagram_from(&target, &d, &err);
    ts_diagram_clear(&d);
    if (st) {
      ts_error_prefix(&err, "'%s'", ypath);
      goto fail;
    }
  } else {
    if (ts_cloud_read(ypath, &y, &m, &ydim, &err)) goto fail;
    if (ts_topo_diagram_of_cloud(&target, y, m, ydim, cfg.deg, NULL, &err)) {
      ts_error_prefix(&err, "'%s'", ypath);
      goto fail;
    }
  }
  if (!(w = ts_topo_work_new(NULL, &err))) goto fail;
  if (grad_path && !(g = ts_alloc_array(n * dim, sizeof *g, "gradient", &err))) goto fail;
  TsTopoResult res;
  if (ts_topo_loss(w, x, n, dim, &target, &cfg, g, &res, &err)) {
    ts_error_prefix(&err, "'%s'", xpath);
    goto fail;
  }
  if (grad_path && ts_cloud_write_csv(grad_path, g, n, dim, &err)) goto fail;
  if (prefix && (write_bars(prefix, "x", ts_topo_work_diagram(w), &err) || write_bars(prefix, "y", &target, &err)))
    goto fail;
  if (json) {
    TsJson j;
    ts_json_init(&j);
    ts_json_object_begin(&j);
    for (int k = 0; k < TS_TOPO_NLOSS; k++) {
      if (cfg.weights[k] == 0) continue;
      ts_json_key(&j, ts_topo_loss_name(k));
      ts_json_object_begin(&j);
      ts_json_kv_number(&j, "value", res.value[k]);
      ts_json_kv_bool(&j, "depends", res.dep[k]);
      if (k <= 1) {
        ts_json_key(&j, "match");
        ts_json_array_begin(&j);
        ts_json_int(&j, res.match[k][0]);
        ts_json_int(&j, res.match[k][1]);
        ts_json_array_end(&j);
      }
      ts_json_object_end(&j);
    }
    ts_json_kv_number(&j, "total", res.total);
    ts_json_kv_bool(&j, "depends", res.depends);
    ts_json_kv_number(&j, "push0", res.push0);
    ts_json_kv_bool(&j, "used_push0", res.used_push0);
    ts_json_kv_int(&j, "h0_bars", (int64_t)res.n0);
    ts_json_kv_int(&j, "h1_bars", (int64_t)res.n1);
    ts_json_object_end(&j);
    printf("%s\n", ts_json_text(&j));
    ts_json_clear(&j);
  } else {
    for (int k = 0; k < TS_TOPO_NLOSS; k++)
      if (cfg.weights[k] != 0)
        printf("%-13s %.10g%s\n", ts_topo_loss_name(k), res.value[k], res.dep[k] ? "" : "  (does not depend on X)");
    printf("%-13s %.10g%s\n", "total", res.total, res.depends ? "" : "  (does not depend on X)");
    printf("%-13s %.10g\n", "push0", res.push0);
  }
  rc = TS_EXIT_OK;
fail:
  if (rc) ts_cli_fail("topoloss", &err);
  ts_topo_work_free(w);
  ts_topo_diagram_clear(&target);
  free(x);
  free(y);
  free(g);
  return rc;
}
