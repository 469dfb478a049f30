/* toposcope probe — the topology of trained networks: layer lifespans, PH
 * dimension and the functional graph of each checkpoint, and optionally
 * the correlation of those descriptors with test accuracy. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/pool.h"
#include "cli.h"
#include "commands.h"
#include "data/dataset.h"
#include "ph/diagram-io.h"
#include "probe-report.h"
#include "probe/fgsm.h"
#include "probe/probe.h"
#include "run/dist.h"
#include "run/train.h"

static void help(void) {
  printf("Usage: toposcope probe CKPT [CKPT ...] [--data SPEC] [OPTIONS]\n"
         "Looks inside trained classifiers. For each checkpoint:\n"
         "  lifespans  per layer, the embedding of --samples training images (conv layers\n"
         "             globally average-pooled), min-max scaled per feature, and the sums\n"
         "             of 0.5 (death - birth)^alpha over its Rips H0 (and H1) bars, per\n"
         "             class (<= --per-class images each) and averaged, or --global;\n"
         "  phdim      per layer, the PH dimension of the unscaled embedding (subsamples\n"
         "             of 500, 850, ... images; see `toposcope phdim`);\n"
         "  graph      the functional graph: every unit of the graph layers is a node, its\n"
         "             signal its activations over the first --graph-images test images,\n"
         "             edges 1 - |Pearson r| up to 2 x --graph-threshold, Rips H0..H2 with\n"
         "             values halved as DIPHA reports them; Betti curves, average life and\n"
         "             midlife per dimension.\n"
         "Prints a table per checkpoint and records a run of kind 'probe' in the store.\n\n"
         "Options:\n"
         "  --data SPEC           dataset (default: the checkpoint's training data); lifespans\n"
         "                        use its training split, the graph its test split (if any)\n"
         "  --what LIST           lifespans,phdim,graph (default: lifespans)\n"
         "  --layers L1,L2|all    lifespan/phdim layers by name (a module name such as\n"
         "                        layer2 or layer2.1 means its output; default: each ResNet\n"
         "                        stage and fc, every conv and linear layer otherwise)\n"
         "  --graph-layers LIST   graph layers (default: lenet-dnn's four block outputs;\n"
         "                        otherwise the lifespan defaults)\n"
         "  --samples N           images for the embeddings, drawn at random (default: 3000)\n"
         "  --hom-dim 0|1         lifespans of H0, or of H0 and H1 (default: 0)\n"
         "  --per-class N         images per class in local mode (default: 250)\n"
         "  --global              one Rips over all images instead of per class\n"
         "  --classes-0-8         local mode over classes 0..8 only (the original code's loop)\n"
         "  --alpha A             lifespan exponent (default: 1)\n"
         "  --phdim-start N, --phdim-step K  subsample sizes (default: 500, 350)\n"
         "  --graph-images N      signals' length (default: 1000)\n"
         "  --graph-threshold T   dnn-topology's MAX_EPSILON: edges up to 2T (default: 0.3)\n"
         "  --graph-maxdim D      homology up to dimension D (default: 2)\n"
         "  --min-persistence P   drop pairs with (halved) persistence <= P (default: 0.02)\n"
         "  --partition none|channel|K  nodes: every unit (default), each conv channel's\n"
         "                        mean, or K k-means groups of each channel's positions\n"
         "  --float16             cast the signals to float16 first (as dnn-topology)\n"
         "  --graph-max-nodes N   refuse bigger graphs (default: 12000; 0: no limit)\n"
         "  --midlife mean|original  mean((b + d)/2) (default) or mean(d + b/2) as the\n"
         "                        original code computes it\n"
         "  --correlate test-accuracy  also evaluate each checkpoint on the test split and\n"
         "                        print the Pearson r between accuracy and each descriptor\n"
         "  -o, --output OUT.json the results ({\"probes\": [...], \"correlation\": ...})\n"
         "  --graph-diagram OUT.csv  the functional graph's diagram (dim,birth,death in\n"
         "                        distance units, as `toposcope rips` writes; first CKPT)\n"
         "  --model NAME          architecture of a checkpoint without Toposcope metadata\n"
         "  --limit N             use the first N images of each split\n"
         "  --embeddings DIR      also write what was computed on as .npy files into DIR\n"
         "                        (emb-K.npy per lifespan layer, labels.npy, samples.npy,\n"
         "                        graph-signals.npy, graph-distances.npy; an existing folder)\n"
         "  --batch B             forward batch (default: 100)\n"
         "  --seed S              sample draws (default: 0)\n"
         "  --deterministic       thread-count-independent forwards\n"
         "  --fgsm EPS1,EPS2,...  targeted FGSM at each epsilon (> 0): --samples training\n"
         "                        images not of the target class, x - eps sign(dCE/dx) in\n"
         "                        the normalised input space, clipped to the normalised\n"
         "                        [0, 1] pixel range; prints the attack success rate (the\n"
         "                        fraction then classified as the target) and the H0\n"
         "                        lifespans of the adversarial images' embeddings per layer\n"
         "                        (store series probe/fgsm: rows = epsilons, cols = eps,\n"
         "                        success, L_0 per lifespan layer)\n"
         "  --fgsm-target CLASS   the attack's target class (required with --fgsm)\n\n"
         "Under mpirun the functional graph's correlation rows are shared out: rank 0 makes\n"
         "the signals and sends them, each rank computes a contiguous run of 128-row panels\n"
         "(about 1/N of the triangle), rank 0 gathers them and runs the Rips; the result is\n"
         "one process's bit for bit. Lifespans, phdim, --fgsm and --correlate run on rank 0;\n"
         "rank 0 alone prints and writes. The whole n x n distance triangle (2 n^2 bytes)\n"
         "lives on rank 0: a graph too big for one node's memory needs --partition.\n");
  ts_cli_help_common(stdout, 1);
}

typedef struct Opts {
  TsProbeConfig cfg;
  const char *data, *model, *out_json, *diagram, *correlate;
  int threads;
  long limit;
  double fgsm_eps[64];
  size_t fgsm_n;
  long fgsm_target; /* -1: none */
} Opts;

/* "0.005,0.015,..." -> eps[], each > 0; -1 on a bad list. */
static int parse_eps(const char *s, double *eps, size_t cap, size_t *n) {
  *n = 0;
  const char *p = s;
  while (*p) {
    char *e;
    double v = strtod(p, &e);
    if (e == p || (*e && *e != ',') || !(v > 0.0) || !isfinite(v) || *n == cap) return -1;
    eps[(*n)++] = v;
    if (!*e) break;
    p = e + 1;
    if (!*p) return -1;
  }
  return *n ? 0 : -1;
}

static int parse_partition(const char *s, int *out) {
  if (!strcmp(s, "none")) *out = 0;
  else if (!strcmp(s, "channel")) *out = -1;
  else {
    char *e;
    long k = strtol(s, &e, 10);
    if (*e || k < 1 || k > 1 << 20) return -1;
    *out = (int)k;
  }
  return 0;
}

static double pearson(const double *x, const double *y, size_t n) {
  double mx = 0, my = 0;
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(x[i]) && !isnan(y[i])) mx += x[i], my += y[i], m++;
  if (m < 2) return NAN;
  mx /= (double)m, my /= (double)m;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(x[i]) && !isnan(y[i])) {
      sxy += (x[i] - mx) * (y[i] - my);
      sxx += (x[i] - mx) * (x[i] - mx);
      syy += (y[i] - my) * (y[i] - my);
    }
  return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : NAN;
}

typedef struct Probed {
  TsProbeResult res;
  double accuracy;
} Probed;

/* Probes one checkpoint; 0 on success, else the exit code. */
static int probe_one(const char *path, const Opts *o, TsPool *pool, TsStore *store, Probed *out, TsJson *json) {
  TsError err = {0};
  TsSafetensors st;
  if (ts_safetensors_read(path, &st, &err)) return ts_cli_fail("probe", &err);
  const char *spec = o->data;
  if (!spec) {
    spec = ts_safetensors_meta(&st, "data.train");
    if (!spec || !*spec || !strcmp(spec, "generated")) {
      ts_safetensors_clear(&st);
      return ts_cli_usage_error("probe", "--data is required ('%s' names no dataset)", path);
    }
  }
  int rc = 0;
  TsDataset train = {0}, test = {0};
  int have_test = ts_dataset_has_split(spec, TS_SPLIT_TEST);
  TsModelConfig mc;
  TsAugment aug;
  TsModel *m = NULL;
  int64_t run_id = -1;
  TsProbeBar bar = {0};
  TsFgsmResult fg = {0};
  const int lead = ts_dist_rank() == 0; /* under mpirun rank 0 alone reports and writes */
  if (ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &train, &err) ||
      (have_test && ts_dataset_open(spec, TS_SPLIT_TEST, NULL, &test, &err)) ||
      ts_checkpoint_model_config(&st, o->model, train.height, train.width, &mc, &aug, &err)) {
    rc = ts_cli_fail("probe", &err);
    goto done;
  }
  if (o->limit > 0) {
    ts_dataset_truncate(&train, o->limit);
    if (have_test) ts_dataset_truncate(&test, o->limit);
  }
  if (o->fgsm_n && o->fgsm_target >= mc.num_outputs) {
    rc = ts_cli_usage_error("probe", "--fgsm-target %ld: %s has classes 0..%d", o->fgsm_target, path,
                            mc.num_outputs - 1);
    goto done;
  }
  if (mc.in_h != train.height || mc.in_w != train.width) aug.resize_h = mc.in_h, aug.resize_w = mc.in_w;
  int batch = o->cfg.batch > 0 ? o->cfg.batch : 100;
  if (ts_checkpoint_load_model(&st, &mc, batch, &m, &err)) {
    rc = ts_cli_fail("probe", &err);
    goto done;
  }
  const TsDataset *gds = have_test ? &test : &train;
  out->accuracy = NAN;
  if (o->correlate && lead) {
    TsEvalResult ev;
    if (ts_evaluate(m, pool, o->cfg.deterministic, gds, &aug, batch, 0, ts_cli_stop_flag(), &ev, &err)) {
      rc = ts_cli_fail("probe", &err);
      goto done;
    }
    out->accuracy = ev.accuracy;
    ts_eval_result_clear(&ev);
  }
  const char *ep = ts_safetensors_meta(&st, "pos.epoch");
  int64_t epoch = ep ? atoll(ep) : 0;
  if (store) {
    TsJson pj;
    ts_json_init(&pj);
    ts_json_object_begin(&pj);
    ts_json_kv_string(&pj, "checkpoint", path);
    ts_json_kv_string(&pj, "data", spec);
    ts_json_kv_string(&pj, "model", ts_model_kind_name(mc.kind));
    ts_json_kv_int(&pj, "epoch", epoch);
    ts_json_object_end(&pj);
    char name[160];
    snprintf(name, sizeof name, "probe: %s", strrchr(path, '/') ? strrchr(path, '/') + 1 : path);
    TsStatus s = ts_store_run_begin(store, "probe", name, ts_json_text(&pj), &run_id, &err);
    ts_json_clear(&pj);
    if (s) {
      rc = ts_cli_fail("probe", &err);
      goto done;
    }
  }
  TsProbeConfig cfg = o->cfg;
  cfg.pool = pool;
  cfg.dist = 1; /* every rank runs this: the graph's correlation rows are shared out */
  TsStatus s = ts_probe_run(m, &cfg, &train, gds, &aug, lead ? ts_probe_bar_stage : NULL, &bar, ts_cli_stop_flag(),
                            &out->res, &err);
  ts_probe_bar_end(&bar);
  if (!s && o->fgsm_n && lead) /* on rank 0 alone, as the lifespans */
    s = ts_probe_fgsm(m, &cfg, &train, &aug, o->fgsm_eps, o->fgsm_n, (int)o->fgsm_target, &fg, &err);
  if (!s && store) s = ts_probe_store(store, run_id, epoch, &out->res, &err);
  if (!s && store && o->fgsm_n) s = ts_fgsm_store(store, run_id, epoch, &fg, &err);
  if (store) ts_store_run_end(store, run_id, s == TS_OK ? TS_RUN_FINISHED : s == TS_ERR_CANCELLED ? TS_RUN_STOPPED : TS_RUN_FAILED,
                              s ? err.message : NULL, NULL);
  if (s) {
    rc = s == TS_ERR_CANCELLED ? ts_cli_stop_exit_code() : ts_cli_fail("probe", &err);
    goto done;
  }
  if (!lead) goto done;
  printf("%s: %s, epoch %lld\n", path, ts_model_kind_name(mc.kind), (long long)epoch);
  if (o->correlate) printf("test accuracy %.2f%%\n", 100 * out->accuracy);
  ts_probe_print(stdout, &out->res, &cfg);
  if (o->fgsm_n) {
    printf("\nTargeted FGSM towards class %ld (%zu images not of that class; eps on the normalised input):\n",
           o->fgsm_target, fg.attacked);
    printf("  classified as %ld before the attack: %.2f%%\n", o->fgsm_target, 100 * fg.clean);
    printf("  %-10s %-9s", "eps", "success");
    for (size_t k = 0; k < fg.nlayers; k++) printf(" %14.14s", fg.names[k]);
    printf("\n");
    for (size_t e = 0; e < fg.neps; e++) {
      printf("  %-10g %7.2f%% ", fg.eps[e], 100 * fg.success[e]);
      for (size_t k = 0; k < fg.nlayers; k++) printf(" %14.6g", fg.life0[e * fg.nlayers + k]);
      printf("\n");
    }
  }
  if (json) {
    ts_json_object_begin(json);
    ts_json_kv_string(json, "checkpoint", path);
    ts_json_kv_string(json, "model", ts_model_kind_name(mc.kind));
    ts_json_kv_int(json, "epoch", epoch);
    if (store) ts_json_kv_int(json, "run_id", run_id);
    if (o->correlate) ts_json_kv_number(json, "test_accuracy", out->accuracy);
    ts_json_key(json, "probe");
    ts_probe_result_json(json, &out->res, &cfg);
    if (o->fgsm_n) {
      ts_json_key(json, "fgsm");
      ts_json_object_begin(json);
      ts_json_kv_int(json, "target", o->fgsm_target);
      ts_json_kv_int(json, "attacked", (int64_t)fg.attacked);
      ts_json_kv_number(json, "clean_rate", fg.clean);
      ts_json_kv_string(json, "space", "normalised input, clipped to the normalised [0, 1] pixel range");
      ts_json_key(json, "rows");
      ts_json_array_begin(json);
      for (size_t e = 0; e < fg.neps; e++) {
        ts_json_object_begin(json);
        ts_json_kv_number(json, "eps", fg.eps[e]);
        ts_json_kv_number(json, "success", fg.success[e]);
        ts_json_key(json, "lifespan_h0");
        ts_json_object_begin(json);
        for (size_t k = 0; k < fg.nlayers; k++) ts_json_kv_number(json, fg.names[k], fg.life0[e * fg.nlayers + k]);
        ts_json_object_end(json);
        ts_json_object_end(json);
      }
      ts_json_array_end(json);
      ts_json_object_end(json);
    }
    ts_json_object_end(json);
  }
done:
  ts_fgsm_result_clear(&fg);
  ts_model_free(m);
  ts_dataset_clear(&train);
  ts_dataset_clear(&test);
  ts_safetensors_clear(&st);
  return rc;
}

/* Pearson r over the checkpoints between test accuracy and each descriptor. */
static void correlate(const Probed *p, size_t n, TsJson *json) {
  double *acc = malloc(n * sizeof *acc), *v = malloc(n * sizeof *v);
  if (!acc || !v) {
    free(acc), free(v);
    return;
  }
  for (size_t i = 0; i < n; i++) acc[i] = p[i].accuracy;
  printf("\nPearson r with test accuracy over %zu checkpoints:\n", n);
  if (json) {
    ts_json_key(json, "correlation");
    ts_json_object_begin(json);
  }
  const TsProbeResult *r0 = &p[0].res;
  static const char *const what[4] = {"lifespan_h0", "lifespan_h1", "phdim", "phdim_slope"};
  for (size_t k = 0; k < r0->nlayers; k++) {
    for (int d = 0; d < 4; d++) {
      int ok = 1;
      for (size_t i = 0; i < n; i++) {
        const TsProbeResult *r = &p[i].res;
        if (k >= r->nlayers || strcmp(r->layers[k].name, r0->layers[k].name)) ok = 0;
        else v[i] = d == 0 ? r->layers[k].life[0] : d == 1 ? r->layers[k].life[1] : d == 2 ? r->layers[k].phdim
                                                                                            : r->layers[k].slope;
      }
      if (!ok || isnan(v[0])) continue;
      double c = pearson(acc, v, n);
      printf("  %-20s %-12s r = %.4f\n", r0->layers[k].name, what[d], c);
      if (json) {
        char key[128];
        snprintf(key, sizeof key, "%s/%s", r0->layers[k].name, what[d]);
        ts_json_kv_number(json, key, c);
      }
    }
  }
  if (r0->what & TS_PROBE_GRAPH)
    for (int q = 0; q <= r0->graph.maxdim; q++)
      for (int d = 0; d < 2; d++) {
        for (size_t i = 0; i < n; i++) v[i] = d == 0 ? p[i].res.graph.avglife[q] : p[i].res.graph.midlife[q];
        double c = pearson(acc, v, n);
        printf("  %-20s %-12s r = %.4f\n", "graph", d == 0 ? "avglife" : "midlife", c);
        if (json) {
          char key[64];
          snprintf(key, sizeof key, "graph/%s_dim%d", d == 0 ? "avglife" : "midlife", q);
          ts_json_kv_number(json, key, c);
        }
      }
  if (json) ts_json_object_end(json);
  free(acc), free(v);
}

int ts_cmd_probe(int argc, char **argv) {
  enum {
    O_DATA = 256, O_WHAT, O_LAYERS, O_GLAYERS, O_SAMPLES, O_HOMDIM, O_PERCLASS, O_GLOBAL, O_C08, O_ALPHA, O_PSTART,
    O_PSTEP, O_GIMAGES, O_GTHRESH, O_GMAXDIM, O_MINPERS, O_PART, O_F16, O_MIDLIFE, O_CORR, O_DIAG, O_MODEL,
    O_BATCH, O_SEED, O_DET, O_THREADS, O_STORE, O_LIMIT, O_DUMP, O_GMAX, O_FGSM, O_FGSM_T
  };
  static const struct option opts[] = {
      {"data", required_argument, 0, O_DATA},          {"what", required_argument, 0, O_WHAT},
      {"layers", required_argument, 0, O_LAYERS},      {"graph-layers", required_argument, 0, O_GLAYERS},
      {"samples", required_argument, 0, O_SAMPLES},    {"hom-dim", required_argument, 0, O_HOMDIM},
      {"per-class", required_argument, 0, O_PERCLASS}, {"global", no_argument, 0, O_GLOBAL},
      {"classes-0-8", no_argument, 0, O_C08},          {"alpha", required_argument, 0, O_ALPHA},
      {"phdim-start", required_argument, 0, O_PSTART}, {"phdim-step", required_argument, 0, O_PSTEP},
      {"graph-images", required_argument, 0, O_GIMAGES}, {"graph-threshold", required_argument, 0, O_GTHRESH},
      {"graph-maxdim", required_argument, 0, O_GMAXDIM}, {"min-persistence", required_argument, 0, O_MINPERS},
      {"partition", required_argument, 0, O_PART},     {"float16", no_argument, 0, O_F16},
      {"midlife", required_argument, 0, O_MIDLIFE},    {"correlate", required_argument, 0, O_CORR},
      {"output", required_argument, 0, 'o'},           {"graph-diagram", required_argument, 0, O_DIAG},
      {"model", required_argument, 0, O_MODEL},        {"batch", required_argument, 0, O_BATCH},
      {"seed", required_argument, 0, O_SEED},          {"deterministic", no_argument, 0, O_DET},
      {"threads", required_argument, 0, O_THREADS},    {"store", required_argument, 0, O_STORE},
      {"limit", required_argument, 0, O_LIMIT},        {"embeddings", required_argument, 0, O_DUMP},
      {"graph-max-nodes", required_argument, 0, O_GMAX},
      {"fgsm", required_argument, 0, O_FGSM},          {"fgsm-target", required_argument, 0, O_FGSM_T},
      {"help", no_argument, 0, 'h'},                   {0, 0, 0, 0}};
  Opts o;
  memset(&o, 0, sizeof o);
  ts_probe_config_init(&o.cfg);
  o.fgsm_target = -1;
  const char *store_path = NULL;
  long v;
  double dv;
  int c, rc;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
    switch (c) {
    case O_DATA: o.data = optarg; break;
    case O_WHAT:
      if ((o.cfg.what = ts_probe_what_parse(optarg)) < 0)
        return ts_cli_usage_error("probe", "--what takes lifespans, phdim and graph, not '%s'", optarg);
      break;
    case O_LAYERS: snprintf(o.cfg.layers, sizeof o.cfg.layers, "%s", optarg); break;
    case O_GLAYERS: snprintf(o.cfg.graph_layers, sizeof o.cfg.graph_layers, "%s", optarg); break;
    case O_SAMPLES:
      if ((rc = ts_cli_int("probe", "--samples", optarg, 2, 10000000, &v))) return rc;
      o.cfg.samples = (int)v;
      break;
    case O_HOMDIM:
      if ((rc = ts_cli_int("probe", "--hom-dim", optarg, 0, 1, &v))) return rc;
      o.cfg.life.maxdim = (int)v;
      break;
    case O_PERCLASS:
      if ((rc = ts_cli_int("probe", "--per-class", optarg, 1, 10000000, &v))) return rc;
      o.cfg.life.per_class = (int)v;
      break;
    case O_GLOBAL: o.cfg.life.local = 0; break;
    case O_C08: o.cfg.life.classes_0_8 = 1; break;
    case O_ALPHA:
      if ((rc = ts_cli_double("probe", "--alpha", optarg, 1e-6, 100, &o.cfg.life.alpha))) return rc;
      break;
    case O_PSTART:
      if ((rc = ts_cli_int("probe", "--phdim-start", optarg, 2, 10000000, &v))) return rc;
      o.cfg.phdim_start = (int)v;
      break;
    case O_PSTEP:
      if ((rc = ts_cli_int("probe", "--phdim-step", optarg, 1, 10000000, &v))) return rc;
      o.cfg.phdim_step = (int)v;
      break;
    case O_GIMAGES:
      if ((rc = ts_cli_int("probe", "--graph-images", optarg, 2, 10000000, &v))) return rc;
      o.cfg.graph_images = (int)v;
      break;
    case O_GTHRESH:
      if ((rc = ts_cli_double("probe", "--graph-threshold", optarg, 1e-9, 0.5, &o.cfg.graph.max_epsilon))) return rc;
      break;
    case O_GMAXDIM:
      if ((rc = ts_cli_int("probe", "--graph-maxdim", optarg, 0, TS_GRAPH_MAXDIM - 1, &v))) return rc;
      o.cfg.graph.maxdim = (int)v;
      break;
    case O_MINPERS:
      if ((rc = ts_cli_double("probe", "--min-persistence", optarg, 0, 1, &dv))) return rc;
      o.cfg.graph.min_persistence = dv;
      break;
    case O_PART:
      if (parse_partition(optarg, &o.cfg.partition))
        return ts_cli_usage_error("probe", "--partition takes none, channel or a group count, not '%s'", optarg);
      break;
    case O_F16: o.cfg.float16 = 1; break;
    case O_MIDLIFE:
      if (strcmp(optarg, "mean") && strcmp(optarg, "original"))
        return ts_cli_usage_error("probe", "--midlife takes mean or original, not '%s'", optarg);
      o.cfg.graph.midlife_original = !strcmp(optarg, "original");
      break;
    case O_CORR:
      if (strcmp(optarg, "test-accuracy"))
        return ts_cli_usage_error("probe", "--correlate takes test-accuracy, not '%s'", optarg);
      o.correlate = optarg;
      break;
    case 'o': o.out_json = optarg; break;
    case O_DIAG: o.diagram = optarg; break;
    case O_MODEL: o.model = optarg; break;
    case O_BATCH:
      if ((rc = ts_cli_int("probe", "--batch", optarg, 1, 65536, &v))) return rc;
      o.cfg.batch = (int)v;
      break;
    case O_SEED:
      if ((rc = ts_cli_u64("probe", "--seed", optarg, &o.cfg.seed))) return rc;
      break;
    case O_DET: o.cfg.deterministic = 1; break;
    case O_THREADS:
      if ((rc = ts_cli_threads("probe", optarg, &o.threads))) return rc;
      break;
    case O_STORE: store_path = optarg; break;
    case O_LIMIT:
      if ((rc = ts_cli_int("probe", "--limit", optarg, 1, 1L << 40, &v))) return rc;
      o.limit = v;
      break;
    case O_DUMP: snprintf(o.cfg.dump_dir, sizeof o.cfg.dump_dir, "%s", optarg); break;
    case O_GMAX:
      if ((rc = ts_cli_int("probe", "--graph-max-nodes", optarg, 0, 1 << 30, &v))) return rc;
      o.cfg.graph_max_nodes = (int)v;
      break;
    case O_FGSM:
      if (parse_eps(optarg, o.fgsm_eps, sizeof o.fgsm_eps / sizeof o.fgsm_eps[0], &o.fgsm_n))
        return ts_cli_usage_error("probe", "--fgsm takes up to 64 comma-separated epsilons > 0, not '%s'", optarg);
      break;
    case O_FGSM_T:
      if ((rc = ts_cli_int("probe", "--fgsm-target", optarg, 0, 1 << 20, &o.fgsm_target))) return rc;
      break;
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option("probe", optopt, argv[optind - 1]);
    }
  }
  if (optind >= argc) return ts_cli_usage_error("probe", "missing CKPT");
  if (o.fgsm_n && o.fgsm_target < 0) return ts_cli_usage_error("probe", "--fgsm needs --fgsm-target CLASS");
  if (!o.fgsm_n && o.fgsm_target >= 0) return ts_cli_usage_error("probe", "--fgsm-target needs --fgsm EPS,...");
  size_t n = (size_t)(argc - optind);
  if (o.correlate && n < 3) return ts_cli_usage_error("probe", "--correlate needs at least three checkpoints");
  if (o.diagram && !(o.cfg.what & TS_PROBE_GRAPH))
    return ts_cli_usage_error("probe", "--graph-diagram needs --what with graph");
  TsError err = {0};
  TsStore *store = NULL;
  const int lead = ts_dist_rank() == 0;
  ts_dist_set_stop_flag(ts_cli_stop_flag()); /* a wait for a dead rank ends on SIGTERM */
  if (lead && (rc = ts_cli_open_store("probe", store_path, TS_STORE_WRITE, &store))) return rc;
  TsPool *pool = ts_pool_new(o.threads, &err);
  Probed *p = calloc(n, sizeof *p);
  if (!pool || !p) {
    ts_store_close(store);
    free(p);
    ts_pool_free(pool);
    return pool ? ts_cli_failf("probe", "out of memory") : ts_cli_fail("probe", &err);
  }
  ts_cli_install_stop_handlers();
  TsJson json;
  ts_json_init(&json);
  ts_json_object_begin(&json);
  ts_json_key(&json, "probes");
  ts_json_array_begin(&json);
  rc = TS_EXIT_OK;
  size_t done = 0;
  for (size_t i = 0; i < n && rc == TS_EXIT_OK; i++, done++) {
    if (i && lead) printf("\n");
    rc = probe_one(argv[optind + (int)i], &o, pool, store, &p[i], o.out_json ? &json : NULL);
  }
  ts_json_array_end(&json);
  if (rc == TS_EXIT_OK && o.correlate && lead) correlate(p, n, o.out_json ? &json : NULL);
  ts_json_object_end(&json);
  if (rc == TS_EXIT_OK && lead && o.diagram && ts_diagram_write(o.diagram, TS_DGM_CSV, &p[0].res.graph_diagram, &err))
    rc = ts_cli_fail("probe", &err);
  if (rc == TS_EXIT_OK && lead && o.out_json) {
    FILE *f = fopen(o.out_json, "w");
    const char *t = ts_json_text(&json);
    int bad = !f || !t || fputs(t, f) == EOF || fputc('\n', f) == EOF;
    if (f && fclose(f) != 0) bad = 1;
    if (bad) rc = ts_cli_failf("probe", "cannot write '%s'", o.out_json);
  }
  ts_json_clear(&json);
  for (size_t i = 0; i < done; i++) ts_probe_result_clear(&p[i].res);
  free(p);
  ts_pool_free(pool);
  ts_store_close(store);
  return rc;
}
