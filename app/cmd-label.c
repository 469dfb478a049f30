/* toposcope label — Kaji's PHdict: the PH label of every image under a
 * folder, in one label cache (core/ph/label-cache.h), recorded in the store. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/pool.h"
#include "base/strlist.h"
#include "cli.h"
#include "commands.h"
#include "demo.h"
#include "ph/diagram-io.h"
#include "ph/label-cache.h"
#include "ph/label-input.h"
#include "ph/vectorize.h"
#include "run/dist.h"

static void help(void) {
  printf("Usage: toposcope label DIR -o CACHE [OPTIONS]\n"
         "Kaji's PH labels (PHdict): for every image under DIR (recursively, sorted by\n"
         "path: train/ and val/ of 'toposcope generate', or any folder of JPEG, PNG,\n"
         "PGM/PPM files; precomputed diagram files .csv/.npy/.dgm are read as they are):\n"
         "grey, Otsu, the filtration, cubical PH (V-construction, H0 and H1), the label.\n"
         "All labels go to one cache file (format in the README); a corrupt image is\n"
         "reported and skipped. The run is recorded in the run store (kind 'label').\n\n"
         "Options:\n"
         "  -o, --output CACHE    the label cache to write (required)\n"
         "  --type NAME           persistence-image (default), life-curve, betti-curve,\n"
         "                        landscape or histogram\n"
         "  --dims N              label length, split between H0 and H1 (default 200)\n"
         "  --max-life A [B]      max life of H0 and H1 (default 50 50; Kaji's README: 80 60)\n"
         "  --filtration NAME     signed-distance (default), distance, grey, raw, gradient,\n"
         "                        upward, downward, radial, radial-inv\n"
         "  --gradient            Kaji's -g: edges as the binary mask (births from 0)\n"
         "  --resize N            resize every image to N x N first (default 0: keep)\n"
         "  --sigma S             persistence image variance (default 1)\n"
         "  --weight-power N      persistence image weight (d - b)^N (default 1)\n"
         "  --resume              keep the labels already in CACHE (same parameters) and\n"
         "                        add the missing ones\n"
         "Under mpirun/srun the images are shared out by index and rank 0 writes the one\n"
         "cache (the same file one process writes) and the store.\n");
  ts_cli_help_common(stdout, 1);
}

/* ---- finding the inputs -------------------------------------------- */

static int labelled_file(const char *name) {
  if (ts_label_input_is_image(name)) return 1;
  TsDiagramFormat f = ts_diagram_format_from_name(name);
  const char *dot = strrchr(name, '.');
  return (f == TS_DGM_CSV || f == TS_DGM_NPY) || (dot && strcmp(dot, ".dgm") == 0);
}

/* Appends the files under root/rel (rel "" at the top), recursively. */
static TsStatus walk(const char *root, const char *rel, const char *skip, TsStrList *out, int depth, TsError *err) {
  char dir[PATH_MAX];
  if (snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel) >= (int)sizeof dir)
    return ts_error_set(err, TS_ERR_INVALID, "path too long under '%s'", root);
  TsStrList sub = {0};
  TsStatus st = ts_list_dir(dir, &sub, err);
  for (size_t i = 0; i < sub.n && !st; i++) {
    char r[PATH_MAX], full[PATH_MAX];
    if (snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", sub.v[i]) >= (int)sizeof r ||
        snprintf(full, sizeof full, "%s/%s", root, r) >= (int)sizeof full) {
      st = ts_error_set(err, TS_ERR_INVALID, "path too long under '%s'", root);
      break;
    }
    struct stat sb;
    if (stat(full, &sb) != 0) continue; /* vanished or a dangling link */
    if (S_ISDIR(sb.st_mode)) {
      if (depth < 32) st = walk(root, r, skip, out, depth + 1, err);
    } else if (S_ISREG(sb.st_mode) && labelled_file(sub.v[i]) && strcmp(full, skip) != 0) {
      if (ts_strlist_add(out, r)) st = ts_error_set(err, TS_ERR_NOMEM, "out of memory listing '%s'", dir);
    }
  }
  ts_strlist_clear(&sub);
  return st;
}

/* ---- labelling in parallel ------------------------------------------- */

typedef struct Job {
  const char *root;
  char **names;
  const TsLabelInputOptions *in;
  TsLabelType type;
  const TsKajiParams *kp;
  float *labels;   /* chunk x nd */
  TsError *errors; /* per item; code != TS_OK means failed */
  size_t *npairs;
} Job;

static void label_task(void *ctx, size_t begin, size_t end, int worker) {
  (void)worker;
  Job *j = ctx;
  int nd = j->kp->dims;
  double *tmp = malloc(sizeof(double) * (size_t)nd);
  for (size_t i = begin; i < end; i++) {
    TsError *err = &j->errors[i];
    ts_error_clear(err);
    if (!tmp) {
      ts_error_set(err, TS_ERR_NOMEM, "out of memory");
      continue;
    }
    char full[PATH_MAX];
    snprintf(full, sizeof full, "%s/%s", j->root, j->names[i]);
    TsDiagram d;
    if (ts_label_input_diagram(full, j->in, &d, err)) continue;
    j->npairs[i] = d.n;
    if (!ts_kaji_label(&d, j->type, j->kp, tmp, err)) {
      for (int k = 0; k < nd; k++) j->labels[i * (size_t)nd + (size_t)k] = (float)tmp[k];
    }
    ts_diagram_clear(&d);
  }
  free(tmp);
}

typedef struct LabelArgs {
  const char *dir, *output, *store_path;
  TsLabelType type;
  TsKajiParams kp;
  TsLabelInputOptions in;
  int threads, resume;
  const char *filtration_name;
  FILE *out; /* summary lines */
} LabelArgs;

static char *params_json(const LabelArgs *a) {
  TsJson j;
  ts_json_init(&j);
  ts_json_object_begin(&j);
  ts_json_kv_string(&j, "type", ts_label_type_name(a->type));
  ts_json_kv_int(&j, "dims", a->kp.dims);
  ts_json_key(&j, "max_life");
  ts_json_array_begin(&j);
  ts_json_number(&j, a->kp.max_life[0]);
  ts_json_number(&j, a->kp.max_life[1]);
  ts_json_array_end(&j);
  ts_json_key(&j, "min_birth");
  ts_json_array_begin(&j);
  ts_json_number(&j, a->kp.min_birth[0]);
  ts_json_number(&j, a->kp.min_birth[1]);
  ts_json_array_end(&j);
  ts_json_kv_number(&j, "sigma", a->kp.sigma);
  ts_json_kv_number(&j, "weight_power", a->kp.weight_power);
  ts_json_kv_string(&j, "filtration", a->filtration_name);
  ts_json_kv_bool(&j, "gradient", a->in.filtration.edges);
  ts_json_kv_int(&j, "resize", a->in.filtration.resize);
  ts_json_kv_string(&j, "homology", "cubical V-construction, sublevel, H0 H1");
  ts_json_object_end(&j);
  return ts_json_steal(&j);
}

/* The whole job; prints its own errors; returns an exit code.
 * Under MPI (run/dist.h) every chunk of images is shared out by index; the
 * labels, errors and pair counts come back to rank 0 in index order, and
 * rank 0 alone writes the cache and the store: the cache is the one a
 * single process writes. */
static int run_label(const LabelArgs *a) {
  TsError err = {0};
  const int rank = ts_dist_rank(), ranks = ts_dist_size();
  struct stat sb;
  if (stat(a->dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return ts_cli_failf("label", "'%s' is not a folder", a->dir);
  TsStrList names = {0};
  if (walk(a->dir, "", a->output, &names, 0, &err)) {
    ts_strlist_clear(&names);
    return ts_cli_fail("label", &err);
  }
  if (names.n == 0) {
    ts_strlist_clear(&names);
    return ts_cli_failf("label", "no images under '%s'", a->dir);
  }
  char *params = params_json(a);
  TsLabelCacheWriter *w = NULL;
  TsStore *store = NULL;
  TsPool *pool = NULL;
  int64_t run = 0;
  int rc = TS_EXIT_OK;
  const int nd = a->kp.dims;
  char **pending = NULL;
  unsigned char *todo = NULL;
  float *labels = NULL, *my_labels = NULL;
  TsError *errors = NULL, *my_errors = NULL;
  size_t *npairs = NULL, *my_npairs = NULL, *sizes = NULL;
  if (!params) rc = ts_cli_failf("label", "out of memory");
  if (!rc && rank == 0) {
    if (ts_label_cache_create(a->output, nd, params, a->resume, &w, &err)) rc = ts_cli_fail("label", &err);
    if (!rc) rc = ts_cli_open_store("label", a->store_path, TS_STORE_WRITE, &store);
    if (!rc && ranks > 1) { /* the run's parameters record the ranks */
      char *close = strrchr(params, '}'), *more = malloc(strlen(params) + 32);
      if (close && more) {
        *close = '\0';
        sprintf(more, "%s,\"ranks\":%d}", params, ranks);
        free(params);
        params = more;
      } else {
        free(more);
      }
    }
    if (!rc && (ts_store_run_begin(store, "label", a->dir, params, &run, &err) ||
                ts_store_artifact(store, run, "labels", a->output, &err)))
      rc = ts_cli_fail("label", &err);
  }
  /* what is left to do (a resumed cache already holds some): rank 0 knows */
  todo = malloc(names.n);
  pending = malloc(names.n * sizeof *pending);
  if (!todo || !pending) rc = ts_cli_failf("label", "out of memory");
  if (todo && rank == 0)
    for (size_t i = 0; i < names.n; i++) todo[i] = !rc && !ts_label_cache_writer_has(w, names.v[i]);
  int64_t head = rc;
  if (ts_dist_allreduce_max_i64(&head, 1, &err) || (todo && ts_dist_bcast(todo, names.n, 0, &err)))
    rc = ts_cli_fail("label", &err);
  else if (head && !rc)
    rc = TS_EXIT_FAILURE; /* rank 0 said why */
  if (rc) goto done;
  if (!(pool = ts_pool_new(a->threads, &err))) {
    rc = ts_cli_fail("label", &err);
    goto done;
  }
  /* one chunk size for all ranks: the largest pool's share, times the ranks */
  int64_t per_rank = 64 * (int64_t)ts_pool_threads(pool);
  if (ts_dist_allreduce_max_i64(&per_rank, 1, &err)) {
    rc = ts_cli_fail("label", &err);
    goto done;
  }
  size_t chunk = (size_t)per_rank * (size_t)ranks, mine_max = (size_t)per_rank;
  my_labels = malloc(mine_max * (size_t)nd * sizeof *my_labels);
  my_errors = malloc(mine_max * sizeof *my_errors);
  my_npairs = calloc(mine_max, sizeof *my_npairs);
  sizes = malloc(3 * (size_t)ranks * sizeof *sizes);
  if (rank == 0) {
    labels = malloc(chunk * (size_t)nd * sizeof *labels);
    errors = malloc(chunk * sizeof *errors);
    npairs = calloc(chunk, sizeof *npairs);
  }
  if (!my_labels || !my_errors || !my_npairs || !sizes || (rank == 0 && (!labels || !errors || !npairs))) {
    rc = ts_cli_failf("label", "out of memory");
    goto done;
  }
  size_t pending_n = 0;
  for (size_t i = 0; i < names.n; i++)
    if (todo[i]) pending[pending_n++] = names.v[i];
  size_t already = names.n - pending_n, failed = 0, done_n = 0, pairs = 0;
  if (already && rank == 0)
    fprintf(a->out, "Resuming: %zu of %zu labels are already in %s\n", already, names.n, a->output);
  TsCliProgress prog;
  if (rank == 0) ts_cli_progress_begin(&prog, "label", (int64_t)names.n);
  double t0 = ts_clock_monotonic();
  int stopped = 0;
  for (size_t base = 0; base < pending_n; base += chunk) {
    /* go on only if no rank was asked to stop and rank 0 could write */
    int64_t flags[2] = {ts_cli_stop_requested(), rc != TS_EXIT_OK};
    if (ts_dist_allreduce_max_i64(flags, 2, &err)) {
      if (!rc) rc = ts_cli_fail("label", &err);
      break;
    }
    if (flags[1]) {
      if (!rc) rc = TS_EXIT_FAILURE;
      break;
    }
    if (flags[0]) {
      stopped = 1;
      break;
    }
    size_t n = pending_n - base < chunk ? pending_n - base : chunk;
    int64_t b0, b1;
    ts_dist_shard((int64_t)n, &b0, &b1);
    Job job = {.root = a->dir, .names = pending + base + b0, .in = &a->in, .type = a->type, .kp = &a->kp,
               .labels = my_labels, .errors = my_errors, .npairs = my_npairs};
    ts_pool_for(pool, (size_t)(b1 - b0), 1, label_task, &job);
    size_t m = (size_t)(b1 - b0);
    for (int k = 0; k < ranks; k++) {
      int64_t e0, e1;
      ts_dist_shard_of((int64_t)n, k, ranks, &e0, &e1);
      sizes[k] = (size_t)(e1 - e0) * (size_t)nd * sizeof(float);
      sizes[ranks + k] = (size_t)(e1 - e0) * sizeof(TsError);
      sizes[2 * ranks + k] = (size_t)(e1 - e0) * sizeof(size_t);
    }
    if (ts_dist_gather(my_labels, m * (size_t)nd * sizeof(float), labels, sizes, &err) ||
        ts_dist_gather(my_errors, m * sizeof(TsError), errors, sizes + ranks, &err) ||
        ts_dist_gather(my_npairs, m * sizeof(size_t), npairs, sizes + 2 * ranks, &err)) {
      if (!rc) rc = ts_cli_fail("label", &err);
      break;
    }
    if (rank == 0) {
      for (size_t i = 0; i < n && !rc; i++) {
        if (errors[i].code != TS_OK) {
          failed++;
          fprintf(stderr, "toposcope: label: skipped '%s': %s\n", pending[base + i], errors[i].message);
          ts_store_metric(store, run, (int64_t)(already + done_n + i), 0, "failed", 1, NULL);
          continue;
        }
        pairs += npairs[i];
        if (ts_label_cache_append(w, pending[base + i], labels + i * (size_t)nd, &err))
          rc = ts_cli_fail("label", &err);
      }
      if (!rc) {
        ts_cli_progress_update(&prog, (int64_t)(already + done_n + n));
        if (ts_store_progress(store, run, (int64_t)(already + done_n + n), (int64_t)names.n, &err))
          rc = ts_cli_fail("label", &err);
      }
    }
    done_n += n;
  }
  if (rank != 0) goto done; /* rank 0 writes and reports */
  ts_cli_progress_end(&prog, (int64_t)(already + done_n));
  double secs = ts_clock_monotonic() - t0;
  size_t ok = done_n - failed;
  if (rc == TS_EXIT_OK) {
    ts_store_metric(store, run, 0, 0, "images_per_second", secs > 0 ? (double)done_n / secs : 0, NULL);
    ts_store_metric(store, run, 0, 0, "labelled", (double)ok, NULL);
    ts_store_metric(store, run, 0, 0, "skipped", (double)failed, NULL);
    ts_store_metric(store, run, 0, 0, "mean_pairs", ok ? (double)pairs / (double)ok : 0, NULL);
  }
  char msg[256];
  snprintf(msg, sizeof msg, "%zu labelled, %zu skipped, %zu already there", ok, failed, already);
  if (rc != TS_EXIT_OK) {
    ts_store_run_end(store, run, TS_RUN_FAILED, err.message[0] ? err.message : "another rank failed", NULL);
  } else if (stopped) {
    ts_label_cache_writer_abort(w);
    w = NULL;
    ts_store_run_end(store, run, TS_RUN_STOPPED, msg, NULL);
    ts_cli_failf("label", "stopped after %zu of %zu images; continue with --resume", already + done_n, names.n);
    rc = ts_cli_stop_exit_code();
  } else {
    TsLabelCacheWriter *ww = w;
    w = NULL;
    if (ts_label_cache_finish(ww, &err)) {
      ts_store_run_end(store, run, TS_RUN_FAILED, err.message, NULL);
      rc = ts_cli_fail("label", &err);
    } else {
      ts_store_run_end(store, run, TS_RUN_FINISHED, msg, NULL);
      char on[32] = "";
      if (ranks > 1) snprintf(on, sizeof on, " on each of %d ranks", ranks);
      fprintf(a->out, "Labelled %zu images in %.2f s (%.1f images/s, %d threads%s): %s -> %s (run %lld)\n", ok, secs,
              secs > 0 ? (double)done_n / secs : 0.0, ts_pool_threads(pool), on, a->dir, a->output, (long long)run);
      if (failed) fprintf(a->out, "Skipped %zu unreadable files (listed above)\n", failed);
    }
  }
done:
  if (rank != 0 && !rc && ts_cli_stop_requested()) rc = ts_cli_stop_exit_code();
  free(pending), free(todo), free(labels), free(errors), free(npairs);
  free(my_labels), free(my_errors), free(my_npairs), free(sizes);
  ts_label_cache_writer_abort(w);
  ts_pool_free(pool);
  ts_store_close(store);
  free(params);
  ts_strlist_clear(&names);
  return rc;
}

int ts_cmd_label(int argc, char **argv) {
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"type", required_argument, 0, 'T'},
                                       {"dims", required_argument, 0, 'n'},
                                       {"max-life", required_argument, 0, 'L'},
                                       {"filtration", required_argument, 0, 'f'},
                                       {"gradient", no_argument, 0, 'g'},
                                       {"resize", required_argument, 0, 'z'},
                                       {"sigma", required_argument, 0, 's'},
                                       {"weight-power", required_argument, 0, 'w'},
                                       {"resume", no_argument, 0, 'r'},
                                       {"store", required_argument, 0, 'S'},
                                       {"threads", required_argument, 0, 't'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  LabelArgs a = {.type = TS_LABEL_PERSISTENCE_IMAGE, .filtration_name = "signed-distance", .out = stdout};
  ts_label_input_options_default(&a.in);
  double life[2] = {50, 50}, sigma = 1, wp = 1;
  long dims = 200;
  int c, rc;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': a.output = optarg; break;
    case 'T': {
      int t = ts_label_type_parse(optarg);
      if (t < 0) return ts_cli_usage_error("label", "unknown --type '%s'", optarg);
      a.type = (TsLabelType)t;
      break;
    }
    case 'n':
      if ((rc = ts_cli_int("label", "--dims", optarg, 4, 1 << 20, &dims))) return rc;
      break;
    case 'L':
      if ((rc = ts_cli_double("label", "--max-life", optarg, 1e-9, 1e12, &life[0]))) return rc;
      life[1] = life[0];
      if (optind < argc && argv[optind][0] != '-') {
        if ((rc = ts_cli_double("label", "--max-life", argv[optind], 1e-9, 1e12, &life[1]))) return rc;
        optind++;
      }
      break;
    case 'f':
      if (ts_label_input_set_filtration(&a.in, optarg)) return ts_cli_usage_error("label", "unknown --filtration '%s'", optarg);
      a.filtration_name = optarg;
      break;
    case 'g': a.in.filtration.edges = 1; break;
    case 'z': {
      long v;
      if ((rc = ts_cli_int("label", "--resize", optarg, 0, 1 << 15, &v))) return rc;
      a.in.filtration.resize = (int)v;
      break;
    }
    case 's':
      if ((rc = ts_cli_double("label", "--sigma", optarg, 1e-12, 1e12, &sigma))) return rc;
      break;
    case 'w':
      if ((rc = ts_cli_double("label", "--weight-power", optarg, 0, 100, &wp))) return rc;
      break;
    case 'r': a.resume = 1; break;
    case 'S': a.store_path = optarg; break;
    case 't':
      if ((rc = ts_cli_threads("label", optarg, &a.threads))) return rc;
      break;
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option("label", optopt, argv[optind - 1]);
    }
  }
  if (optind >= argc) return ts_cli_usage_error("label", "no folder DIR given");
  if (argc - optind > 1) return ts_cli_usage_error("label", "unexpected argument '%s'", argv[optind + 1]);
  if (!a.output) return ts_cli_usage_error("label", "-o CACHE is required");
  a.dir = argv[optind];
  int sd = ts_label_input_signed(&a.in);
  ts_kaji_params_default(&a.kp, sd);
  a.kp.dims = (int)dims;
  ts_kaji_params_set_max_life(&a.kp, life[0], life[1], sd);
  a.kp.sigma = sigma;
  a.kp.weight_power = wp;
  ts_cli_install_stop_handlers();
  return run_label(&a);
}

/* ---- demo step ---------------------------------------------------------- */

/* Without generated images (no generate step before this one) the demo
 * labels a few random diagrams, written as CSV files. */
static int demo_diagrams(TsDemo *demo, char *dir, size_t n) {
  snprintf(dir, n, "%s/ph-diagrams", demo->workdir);
  if (mkdir(dir, 0777) != 0 && errno != EEXIST) return -1;
  uint64_t s = 42;
  for (int k = 0; k < 16; k++) {
    TsDiagram d;
    ts_diagram_init(&d);
    ts_diagram_add(&d, 0, -20, INFINITY, NULL);
    for (int i = 0; i < 40; i++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      double u = (double)(s >> 11) / 9007199254740992.0, v = (double)((s >> 3) & 0xffff) / 65536.0;
      int dim = i % 2;
      double b = dim ? 40 * u - 10 : -30 * u, l = 20 * v * v;
      ts_diagram_add(&d, dim, b, b + l, NULL);
    }
    char p[PATH_MAX + 32];
    snprintf(p, sizeof p, "%s/d%02d.csv", dir, k);
    TsError err;
    TsStatus st = ts_diagram_write(p, TS_DGM_CSV, &d, &err);
    ts_diagram_clear(&d);
    if (st) return -1;
  }
  return 0;
}

int ts_demo_labels(TsDemo *demo) {
  LabelArgs a = {.type = TS_LABEL_PERSISTENCE_IMAGE, .filtration_name = "signed-distance", .out = demo->out,
                 .threads = demo->threads, .store_path = demo->store_path};
  ts_label_input_options_default(&a.in);
  ts_kaji_params_default(&a.kp, 1);
  ts_kaji_params_set_max_life(&a.kp, 80, 60, 1);
  char dir[PATH_MAX];
  if (demo->images_dir[0]) {
    a.dir = demo->images_dir;
  } else {
    if (demo_diagrams(demo, dir, sizeof dir)) {
      fprintf(stderr, "toposcope: demo: cannot write diagrams under '%s'\n", demo->workdir);
      return 1;
    }
    a.dir = dir;
    fprintf(demo->out, "   (no generated images: labelling 16 random diagrams in %s)\n", dir);
  }
  snprintf(demo->labels_path, sizeof demo->labels_path, "%s/labels.tslabels", demo->workdir);
  a.output = demo->labels_path;
  if (run_label(&a) != TS_EXIT_OK) return 1;
  TsLabelCache *c;
  TsError err;
  if (ts_label_cache_open(demo->labels_path, &c, &err)) {
    fprintf(stderr, "toposcope: demo: %s\n", err.message);
    return 1;
  }
  size_t count = ts_label_cache_count(c);
  int dims = ts_label_cache_dims(c);
  fprintf(demo->out, "   %zu persistence-image labels of %d values ([80, 60], 15 x 7 grids)\n", count, dims);
  if (count == 0) {
    ts_label_cache_close(c);
    fprintf(stderr, "toposcope: demo: no image could be labelled\n");
    return 1;
  }
  /* What a label looks like: how much of each half (PI_0, PI_1) is lit, and how brightly. */
  const float *v = ts_label_cache_values(c, 0);
  for (int half = 0; half < 2; half++) {
    int lit = 0;
    float peak = 0;
    for (int i = half * dims / 2; i < (half + 1) * dims / 2; i++) {
      lit += v[i] > 0;
      if (v[i] > peak) peak = v[i];
    }
    fprintf(demo->out, "   %s: H%d image has %d of %d pixels lit, peak %.3f\n", ts_label_cache_name(c, 0), half, lit,
            dims / 2, peak);
  }
  ts_label_cache_close(c);
  return 0;
}
