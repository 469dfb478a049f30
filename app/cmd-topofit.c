/* toposcope topofit — Adam on a point cloud's coordinates under Topo-GEN's
 * topological losses (core/topo/topofit.h), recorded in the store. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/pool.h"
#include "cli.h"
#include "commands.h"
#include "demo.h"
#include "ph/diagram-io.h"
#include "topo/topofit.h"
#include "topo/topoloss.h"

static void help(void) {
  printf("Usage: toposcope topofit --preset 1|2|3 [OPTIONS]\n"
         "       toposcope topofit --points FILE --target FILE [OPTIONS]\n"
         "Moves the points of a cloud by Adam so that its persistence diagram approaches\n"
         "the target's under Topo-GEN's topological losses; a step where no weighted loss\n"
         "depends on the cloud follows push0 (clusters pushed apart). Per-step losses and\n"
         "the cloud every K steps go into the run store (kind 'topofit').\n\n"
         "Presets (Topo-GEN's synthetic tests, 2-D, weights 1,1,0,0,0,0,0):\n"
         "  1  5 clusters -> the 3 points (5,5), (10,10), (20,6)  (lr 0.01, 15000 steps)\n"
         "  2  2 clusters -> 4 clusters                            (lr 0.05, 2500 steps)\n"
         "  3  two segments -> a circle of radius 5                (lr 0.1, 7500 steps)\n\n"
         "Options:\n"
         "  --preset N            one of the presets above\n"
         "  --points FILE         the starting cloud (CSV/text, one point a row, or .npy)\n"
         "  --target FILE         the target cloud (or a diagram file with --target-diagram)\n"
         "  --target-diagram      --target is a diagram file\n"
         "  --weights W0,...,W6   loss weights (default: the preset's, else 1,1,0,0,0,0,0)\n"
         "  --deg 0|1             homology degree (default: 1)\n"
         "  --lr LR               Adam's learning rate (default: the preset's, else 0.01)\n"
         "  --steps N             steps (default: the preset's, else 1000)\n"
         "  --seed S              seed of the preset's random draws (default: 0)\n"
         "  --save-every K        store the cloud and its diagram every K steps (default: 50)\n"
         "  -o, --output OUT.csv  write the final cloud\n"
         "  --name NAME           the run's name in the store\n"
         "  --no-store            do not record the run\n"
         "  -q, --quiet           no summary lines\n");
  ts_cli_help_common(stdout, 1);
}

typedef struct {
  double *v;
  size_t cap;
} Buf;

static TsStatus buf_reserve(Buf *b, size_t n, TsError *err) {
  if (n <= b->cap) return TS_OK;
  double *v = realloc(b->v, n * sizeof *v);
  if (!v) return ts_error_set(err, TS_ERR_NOMEM, "topofit: %zu values", n);
  b->v = v;
  b->cap = n;
  return TS_OK;
}

/* A diagram as rows (dim, birth, death) for the store. */
static TsStatus store_diagram(TsStore *s, int64_t run, int64_t step, const char *name, const TsTopoDiagram *d, Buf *b,
                              TsError *err) {
  TsStatus st = buf_reserve(b, 3 * d->fin.n + 3, err);
  if (st) return st;
  for (size_t k = 0; k < d->fin.n; k++) {
    b->v[3 * k] = d->fin.pairs[k].dim;
    b->v[3 * k + 1] = d->fin.pairs[k].birth;
    b->v[3 * k + 2] = d->fin.pairs[k].death;
  }
  return ts_store_series(s, run, step, name, b->v, (int64_t)d->fin.n, 3, err);
}

static TsStatus store_points(TsStore *s, int64_t run, int64_t step, const char *name, const float *x, size_t n,
                             size_t dim, Buf *b, TsError *err) {
  TsStatus st = buf_reserve(b, n * dim, err);
  if (st) return st;
  for (size_t k = 0; k < n * dim; k++) b->v[k] = x[k];
  return ts_store_series(s, run, step, name, b->v, (int64_t)n, (int64_t)dim, err);
}

static TsStatus store_cloud(TsStore *s, int64_t run, int64_t step, const float *x, size_t n, size_t dim,
                            const TsTopoDiagram *d, Buf *b, TsError *err) {
  TsStatus st = store_points(s, run, step, "topofit/cloud", x, n, dim, b, err);
  return st ? st : store_diagram(s, run, step, "topofit/diagram", d, b, err);
}

static char *params_json(int preset, const char *points, const char *target, size_t n, size_t dim,
                         const TsTopoConfig *cfg, double lr, long steps, uint64_t seed, long every) {
  TsJson j;
  ts_json_init(&j);
  ts_json_object_begin(&j);
  if (preset) ts_json_kv_int(&j, "preset", preset);
  if (points) ts_json_kv_string(&j, "points", points);
  if (target) ts_json_kv_string(&j, "target", target);
  ts_json_kv_int(&j, "n", (int64_t)n);
  ts_json_kv_int(&j, "dim", (int64_t)dim);
  ts_json_key(&j, "weights");
  ts_json_array_begin(&j);
  for (int k = 0; k < TS_TOPO_NLOSS; k++) ts_json_number(&j, cfg->weights[k]);
  ts_json_array_end(&j);
  ts_json_kv_int(&j, "deg", cfg->deg);
  ts_json_kv_number(&j, "lr", lr);
  ts_json_kv_int(&j, "steps", steps);
  ts_json_kv_int(&j, "seed", (int64_t)seed);
  ts_json_kv_int(&j, "save_every", every);
  ts_json_object_end(&j);
  return ts_json_steal(&j);
}

int ts_cmd_topofit(int argc, char **argv) {
  static const struct option opts[] = {{"preset", required_argument, 0, 'P'},
                                       {"points", required_argument, 0, 'p'},
                                       {"target", required_argument, 0, 't'},
                                       {"target-diagram", no_argument, 0, 'D'},
                                       {"weights", required_argument, 0, 'w'},
                                       {"deg", required_argument, 0, 'd'},
                                       {"lr", required_argument, 0, 'l'},
                                       {"steps", required_argument, 0, 'n'},
                                       {"seed", required_argument, 0, 's'},
                                       {"save-every", required_argument, 0, 'k'},
                                       {"output", required_argument, 0, 'o'},
                                       {"name", required_argument, 0, 'N'},
                                       {"no-store", no_argument, 0, 'X'},
                                       {"store", required_argument, 0, 'S'},
                                       {"threads", required_argument, 0, 'T'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  TsTopoConfig cfg;
  ts_topo_config_init(&cfg);
  long preset = 0, steps = -1, every = 50, v;
  double lr = -1;
  uint64_t seed = 0;
  int c, rc, target_dgm = 0, have_weights = 0, no_store = 0, quiet = 0, threads = 1;
  const char *points = NULL, *target_path = NULL, *out_path = NULL, *name = NULL, *store_path = NULL;
  TsError err = {0};
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:qh", opts, NULL)) != -1) {
    switch (c) {
    case 'P':
      if ((rc = ts_cli_int("topofit", "--preset", optarg, 1, 3, &preset))) return rc;
      break;
    case 'p': points = optarg; break;
    case 't': target_path = optarg; break;
    case 'D': target_dgm = 1; break;
    case 'w':
      if (ts_topo_weights_parse(optarg, "--weights", cfg.weights, &err))
        return ts_cli_usage_error("topofit", "%s", err.message);
      have_weights = 1;
      break;
    case 'd':
      if ((rc = ts_cli_int("topofit", "--deg", optarg, 0, 1, &v))) return rc;
      cfg.deg = (int)v;
      break;
    case 'l':
      if ((rc = ts_cli_double("topofit", "--lr", optarg, 1e-12, 1e6, &lr))) return rc;
      break;
    case 'n':
      if ((rc = ts_cli_int("topofit", "--steps", optarg, 0, 100000000, &steps))) return rc;
      break;
    case 's':
      if ((rc = ts_cli_u64("topofit", "--seed", optarg, &seed))) return rc;
      break;
    case 'k':
      if ((rc = ts_cli_int("topofit", "--save-every", optarg, 1, 100000000, &every))) return rc;
      break;
    case 'o': out_path = optarg; break;
    case 'N': name = optarg; break;
    case 'X': no_store = 1; break;
    case 'S': store_path = optarg; break;
    case 'T':
      if ((rc = ts_cli_threads("topofit", optarg, &threads))) return rc;
      break;
    case 'q': quiet = 1; break;
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option("topofit", optopt, argv[optind - 1]);
    }
  }
  if (optind != argc) return ts_cli_usage_error("topofit", "unexpected argument '%s'", argv[optind]);
  if (!preset && (!points || !target_path))
    return ts_cli_usage_error("topofit", "give --preset N, or --points FILE and --target FILE");
  if (preset && (points || target_path))
    return ts_cli_usage_error("topofit", "--preset and --points/--target exclude each other");
  if (target_dgm && !target_path) return ts_cli_usage_error("topofit", "--target-diagram needs --target FILE");

  float *x = NULL, *y = NULL, *x_before = NULL;
  size_t n = 0, dim = 2, m = 0, ydim = 2;
  TsTopoDiagram target;
  ts_topo_diagram_init(&target);
  TsTopoFit fit;
  memset(&fit, 0, sizeof fit);
  TsStore *store = NULL;
  TsPool *pool = NULL;
  Buf buf = {0};
  int64_t run = -1, done = 0;
  int stopped = 0;
  rc = TS_EXIT_FAILURE;
  if (preset) {
    TsTopoFitPreset p;
    if (ts_topofit_preset((int)preset, seed, &p, &err)) goto fail;
    x = p.start;
    y = p.target;
    n = p.n;
    m = p.m;
    if (lr < 0) lr = p.lr;
    if (steps < 0) steps = (long)p.steps;
    if (!have_weights) memcpy(cfg.weights, p.weights, sizeof cfg.weights);
  } else {
    if (ts_cloud_read(points, &x, &n, &dim, &err)) goto fail;
    if (!have_weights) {
      memset(cfg.weights, 0, sizeof cfg.weights);
      cfg.weights[0] = cfg.weights[1] = 1;
    }
    if (lr < 0) lr = 0.01;
    if (steps < 0) steps = 1000;
  }
  if (target_dgm) {
    TsDiagram d;
    if (ts_diagram_read(target_path, TS_DGM_AUTO, &d, &err)) goto fail;
    TsStatus st = ts_topo_diagram_from(&target, &d, &err);
    ts_diagram_clear(&d);
    if (st) goto fail;
  } else {
    if (!y && ts_cloud_read(target_path, &y, &m, &ydim, &err)) goto fail;
    if (ts_topo_diagram_of_cloud(&target, y, m, ydim, cfg.deg, NULL, &err)) goto fail;
  }
  if (!(pool = ts_pool_new(threads, &err))) goto fail;
  if (ts_topofit_init(&fit, x, n, dim, &target, &cfg, lr, threads > 1 ? pool : NULL, &err)) goto fail;
  if (!(x_before = ts_alloc_array(n * dim, sizeof *x_before, "topofit cloud", &err))) goto fail;
  if (!no_store) {
    if ((rc = ts_cli_open_store("topofit", store_path, TS_STORE_WRITE, &store))) goto done;
    rc = TS_EXIT_FAILURE;
    char *params = params_json((int)preset, points, target_path, n, dim, &cfg, lr, steps, seed, every);
    char rname[160];
    if (!name) {
      if (preset) snprintf(rname, sizeof rname, "preset %ld", preset);
      else snprintf(rname, sizeof rname, "%.150s", points);
      name = rname;
    }
    TsStatus st = ts_store_run_begin(store, "topofit", name, params, &run, &err);
    free(params);
    if (st) goto fail;
    if (y && store_points(store, run, 0, "topofit/target", y, m, ydim, &buf, &err)) goto fail;
    if (store_diagram(store, run, 0, "topofit/target_diagram", &target, &buf, &err)) goto fail;
  }
  ts_cli_install_stop_handlers();
  TsCliProgress bar;
  ts_cli_progress_begin(&bar, "topofit", steps);
  TsTopoResult res, first;
  memset(&first, 0, sizeof first);
  for (done = 0; done < steps; done++) {
    if (ts_cli_stop_requested()) {
      stopped = 1;
      break;
    }
    if (store && done % every == 0) memcpy(x_before, fit.x, n * dim * sizeof *x_before);
    if (ts_topofit_step(&fit, &res, &err)) goto fail;
    if (done == 0) first = res;
    if (store) {
      const TsTopoDiagram *d = ts_topo_work_diagram(fit.work);
      /* X's diagram is of the cloud before this step, i.e. after `done` steps */
      if (done % every == 0 && store_cloud(store, run, done, x_before, n, dim, d, &buf, &err)) goto fail;
      TsStatus st = ts_store_metric(store, run, done, 0, "topofit/loss", res.total, &err);
      for (int k = 0; k < TS_TOPO_NLOSS && !st; k++)
        if (cfg.weights[k] != 0) {
          char mname[48];
          snprintf(mname, sizeof mname, "topofit/%s", ts_topo_loss_name(k));
          st = ts_store_metric(store, run, done, 0, mname, res.value[k], &err);
        }
      if (!st) st = ts_store_metric(store, run, done, 0, "topofit/push0_used", res.used_push0, &err);
      if (st) goto fail;
      if (done % 100 == 0) ts_store_progress(store, run, done, steps, NULL);
    }
    ts_cli_progress_update(&bar, done + 1);
  }
  ts_cli_progress_end(&bar, done);
  /* the final cloud, evaluated once more (no step) */
  TsTopoResult last;
  if (ts_topo_loss(fit.work, fit.x, n, dim, &fit.target, &fit.cfg, NULL, &last, &err)) goto fail;
  if (store) {
    const TsTopoDiagram *d = ts_topo_work_diagram(fit.work);
    if (store_cloud(store, run, done, fit.x, n, dim, d, &buf, &err) ||
        ts_store_metric(store, run, done, 0, "topofit/loss", last.total, &err))
      goto fail;
    ts_store_progress(store, run, done, steps, NULL);
  }
  if (out_path && ts_cloud_write_csv(out_path, fit.x, n, dim, &err)) goto fail;
  if (!quiet) {
    printf("topofit: %lld steps on %zu points in %zu-D", (long long)done, n, dim);
    if (run > 0) printf(" (run %lld)", (long long)run);
    printf("\n");
    for (int k = 0; k < TS_TOPO_NLOSS; k++)
      if (cfg.weights[k] != 0)
        printf("  %-13s %.6g -> %.6g\n", ts_topo_loss_name(k), done ? first.value[k] : last.value[k], last.value[k]);
    printf("  %-13s %.6g -> %.6g\n", "total", done ? first.total : last.total, last.total);
    printf("  final cloud: %zu H0 bars, %zu H1 bars\n", last.n0, last.n1);
  }
  if (store) ts_store_run_end(store, run, stopped ? TS_RUN_STOPPED : TS_RUN_FINISHED, stopped ? "stopped" : NULL, NULL);
  rc = stopped ? ts_cli_stop_exit_code() : TS_EXIT_OK;
  goto done;
fail:
  ts_cli_fail("topofit", &err);
  if (store && run > 0) ts_store_run_end(store, run, TS_RUN_FAILED, err.message, NULL);
  rc = TS_EXIT_FAILURE;
done:
  ts_store_close(store);
  ts_topofit_clear(&fit);
  ts_topo_diagram_clear(&target);
  ts_pool_free(pool);
  free(buf.v);
  free(x_before);
  free(x);
  free(y);
  return rc;
}

/* The demo's topofit: preset 3 for a few hundred steps. */
int ts_demo_topofit(TsDemo *demo) {
  char out[4200];
  snprintf(out, sizeof out, "%s/topofit-preset3.csv", demo->workdir);
  fprintf(demo->out, "   Topo-GEN's preset 3 (two segments -> a circle), 400 of its 7500 steps\n");
  fflush(demo->out);
  char store[4200], a0[] = "topofit", a1[] = "--preset", a2[] = "3", a3[] = "--steps", a4[] = "400",
                    a5[] = "--store", a7[] = "-o", a9[] = "--name", a10[] = "demo: topofit preset 3";
  snprintf(store, sizeof store, "%s", demo->store_path);
  char *argv[] = {a0, a1, a2, a3, a4, a5, store, a7, out, a9, a10, NULL};
  return ts_cmd_topofit(11, argv) == 0 ? 0 : 1;
}
