/* toposcope train — supervised classification (core/run/train.h does the
 * work); and the demo's "train" step. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "base/pool.h"
#include "base/rng.h"
#include "cli.h"
#include "commands.h"
#include "data/dataset.h"
#include "demo.h"
#include "nn/blas.h"
#include "run/train-options.h"
#include "run/train.h"
#include "train-probe.h"

static void help(void) {
  printf("Usage: toposcope train --model MODEL --data SPEC [OPTIONS]\n"
         "       toposcope train --resume CKPT [--epochs E] [OPTIONS]\n"
         "Trains an image classifier with cross-entropy. Per-step loss and per-epoch\n"
         "train/validation loss and accuracy go into the run store as they happen.\n"
         "SIGINT/SIGTERM write a checkpoint (with --save), mark the run stopped and exit\n"
         "with 130/143 (128 + the signal);\n"
         "--resume continues it (bit-for-bit with --deterministic).\n\n"
         "Data specs: fashion-mnist | fashion-mnist:DIR | idx:IMAGES,LABELS | cifar:DIR | folder:DIR\n\n"
         "Options:\n");
  size_t n;
  const TsOptSpec *o = ts_train_options(&n);
  ts_opt_print_help(stdout, o, n);
  /* the probe's options are parsed here, not in the shared table */
  printf("  --probe WHAT          lifespans,phdim,graph: probe the network's topology (as\n"
         "                        `toposcope probe` with its defaults) between epochs, into\n"
         "                        the run's series probe/* at step = epoch\n"
         "  --probe-epochs LIST   after which epochs (0 = before the first step; default: 0)\n"
         "  --probe-layers LIST   lifespan/phdim layers (default: the architecture's)\n"
         "  --probe-samples N     images for the layer embeddings (default: 3000)\n");
  ts_cli_help_common(stdout, 1);
}

/* ---- options ---------------------------------------------------------------- */

static int parse_augment(const char *s, TsAugment *a, int *augment) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", s);
  *augment = 0;
  if (strcmp(s, "none") == 0) return 0;
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (strcmp(tok, "flip") == 0) {
      a->hflip = 1;
    } else if (strncmp(tok, "crop:", 5) == 0) {
      long v;
      int rc = ts_cli_int("train", "--augment crop:P", tok + 5, 1, 1024, &v);
      if (rc) return rc;
      a->crop_pad = (int)v;
    } else {
      return ts_cli_usage_error("train", "--augment: unknown step '%s' (expected crop:P or flip)", tok);
    }
    *augment = 1;
  }
  return 0;
}

static int parse_floats(const char *s, float *out, int max, int *n) {
  *n = 0;
  while (*s && *n < max) {
    char *end;
    out[(*n)++] = strtof(s, &end);
    if (end == s) return -1;
    s = end;
    if (*s == ',') s++;
    else if (*s) return -1;
  }
  return *s ? -1 : 0;
}

/* "auto", "none" or "M,M,M/S,S,S"; returns 1 for auto. */
static int parse_normalize(const char *s, TsAugment *a, int *is_auto) {
  *is_auto = 0;
  if (strcmp(s, "auto") == 0) {
    *is_auto = 1;
    return 0;
  }
  for (int k = 0; k < 4; k++) a->mean[k] = 0, a->std[k] = 1;
  if (strcmp(s, "none") == 0) return 0;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", s);
  char *slash = strchr(buf, '/');
  int nm, ns;
  if (!slash) return ts_cli_usage_error("train", "--normalize expects auto, none or MEANS/STDS, not '%s'", s);
  *slash = '\0';
  if (parse_floats(buf, a->mean, 4, &nm) || parse_floats(slash + 1, a->std, 4, &ns) || nm != ns || nm < 1)
    return ts_cli_usage_error("train", "--normalize expects MEANS/STDS with as many of each, not '%s'", s);
  for (int k = 0; k < ns; k++)
    if (!(a->std[k] > 0)) return ts_cli_usage_error("train", "--normalize: standard deviations must be > 0");
  for (int k = nm; k < 4; k++) a->mean[k] = a->mean[nm - 1], a->std[k] = a->std[nm - 1];
  return 0;
}

/* Per-channel mean and std of the stored bytes, on the [0, 1] scale. */
static void auto_normalize(const TsDataset *ds, TsAugment *a) {
  size_t hw = (size_t)ds->height * (size_t)ds->width;
  for (int c = 0; c < ds->channels && c < 4; c++) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < ds->count; i++) {
      const uint8_t *p = ts_dataset_sample(ds, i) + (size_t)c * hw;
      uint64_t a1 = 0, a2 = 0;
      for (size_t k = 0; k < hw; k++) a1 += p[k], a2 += (uint64_t)p[k] * p[k];
      s += (double)a1;
      s2 += (double)a2;
    }
    double n = (double)ds->count * (double)hw, m = s / n / 255.0, v = s2 / n / 65025.0 - m * m;
    a->mean[c] = (float)m;
    a->std[c] = (float)(v > 1e-12 ? sqrt(v) : 1.0);
  }
  for (int c = ds->channels; c < 4; c++) a->mean[c] = a->mean[0], a->std[c] = a->std[0];
}

/* Our schedule shorthands to ts_schedule_parse's grammar. */
static void normalize_schedule(const char *in, int epochs, char *out, size_t n) {
  if (strcmp(in, "cosine") == 0) snprintf(out, n, "cosine:%d", epochs > 0 ? epochs : 1);
  else if (strncmp(in, "warmup:", 7) == 0) snprintf(out, n, "constant+%s", in);
  else if (strncmp(in, "cosine+warmup:", 14) == 0) {
    /* cosine over the epochs after the warm-up */
    long w = strtol(in + 14, NULL, 10);
    long t = epochs - (w > 0 ? w : 0);
    snprintf(out, n, "cosine:%ld+%s", t > 0 ? t : 1, in + 7);
  }
  else snprintf(out, n, "%s", in);
}

/* ---- running ---------------------------------------------------------------- */

typedef struct Report {
  TsCliProgress bar;
  int quiet, bar_on;
  FILE *out;
  char label[64];
} Report;

static void on_step(void *user, const TsTrainProgress *p) {
  Report *r = user;
  if (!r->bar_on) {
    snprintf(r->label, sizeof r->label, "epoch %lld/%lld", (long long)p->epoch + 1, (long long)p->epochs);
    ts_cli_progress_begin(&r->bar, r->label, p->batches);
    r->bar_on = 1;
  }
  ts_cli_progress_update(&r->bar, p->batch);
}

static void on_epoch(void *user, const TsTrainProgress *p) {
  Report *r = user;
  if (r->bar_on) {
    ts_cli_progress_end(&r->bar, p->batches);
    r->bar_on = 0;
  }
  if (r->quiet) return;
  fprintf(r->out, "epoch %lld/%lld  train loss %.4f acc %.2f%%", (long long)p->epoch + 1, (long long)p->epochs,
          p->train_loss, 100 * p->train_acc);
  if (!isnan(p->val_loss)) fprintf(r->out, "  val loss %.4f acc %.2f%%", p->val_loss, 100 * p->val_acc);
  fprintf(r->out, "  lr %.3g  %.0f img/s\n", p->lr, p->images_per_s);
  fflush(r->out);
}

static char *params_json(const TsTrainConfig *c, const char *resumed_from) {
  TsJson j;
  ts_json_init(&j);
  ts_json_object_begin(&j);
  ts_json_kv_string(&j, "model", ts_model_kind_name(c->model.kind));
  ts_json_kv_string(&j, "data", c->data);
  ts_json_kv_string(&j, "val", c->val_data);
  ts_json_kv_int(&j, "epochs", c->epochs);
  ts_json_kv_int(&j, "batch", c->batch);
  ts_json_kv_string(&j, "optimizer", ts_optim_kind_name(c->optim.kind));
  ts_json_kv_number(&j, "lr", c->optim.lr);
  ts_json_kv_number(&j, "momentum", c->optim.momentum);
  ts_json_kv_number(&j, "weight_decay", c->optim.weight_decay);
  ts_json_kv_string(&j, "schedule", c->schedule);
  ts_json_kv_int(&j, "seed", (int64_t)c->seed);
  ts_json_kv_bool(&j, "deterministic", c->deterministic);
  ts_json_kv_int(&j, "crop_pad", c->aug.crop_pad);
  ts_json_kv_bool(&j, "hflip", c->aug.hflip);
  ts_json_kv_int(&j, "limit", c->limit);
  ts_json_kv_string(&j, "save", c->save_path);
  if (resumed_from) ts_json_kv_string(&j, "resumed_from", resumed_from);
  ts_json_kv_string(&j, "blas", ts_blas_name()); /* which SGEMM ran: speed (and the last bits) depend on it */
  ts_json_object_end(&j);
  return ts_json_steal(&j);
}

static int load_data(const char *cmd, const char *spec, TsSplit split, int64_t limit, TsDataset *ds) {
  TsError err = {0};
  if (ts_dataset_open(spec, split, NULL, ds, &err)) return ts_cli_fail(cmd, &err);
  ts_dataset_truncate(ds, limit > 0 ? limit : -1);
  return 0;
}

/* --probe: set by ts_cmd_train, NULL without probing (kept out of
 * train_run's arguments so the demo's call stays as it is). */
static TsTrainProbe *train_probe;

/* Wires the probe's hooks around the reporting ones and probes epoch 0
 * when training starts from scratch. */
static TsTrainHooks probe_begin(TsTrainer *t, const TsDataset *train, const TsDataset *val, TsStore *store,
                                int64_t run_id, int quiet, FILE *out, TsPool *pool, TsTrainHooks hooks) {
  TsTrainProbe *p = train_probe;
  p->cfg.pool = pool;
  p->cfg.deterministic = ts_trainer_config(t)->deterministic;
  p->model = ts_trainer_model(t);
  p->embed = train;
  p->graph = val ? val : train;
  p->aug = ts_trainer_config(t)->aug;
  p->store = store, p->run_id = run_id, p->quiet = quiet, p->out = out;
  p->inner = hooks;
  const TsTrainPos *pos = ts_trainer_pos(t);
  if (pos->epoch == 0 && pos->batch == 0) ts_train_probe_at(p, 0);
  return ts_train_probe_hooks(p);
}

/* Trains with store recording; returns an exit code. run_id < 0: begin a new run. */
static int train_run(TsTrainConfig *cfg, const TsDataset *train, const TsDataset *val, const TsSafetensors *resume,
                     TsStore *store, const char *run_name, int threads, int quiet, FILE *out) {
  TsError err = {0};
  TsPool *pool = ts_pool_new(threads, &err);
  if (!pool) return ts_cli_fail("train", &err);
  TsTrainer *t = ts_trainer_new(cfg, train, val, pool, &err);
  if (!t) {
    ts_pool_free(pool);
    return ts_cli_fail("train", &err);
  }
  int64_t run_id = -1;
  if (resume) {
    if (ts_trainer_load(t, resume, &err)) {
      ts_trainer_free(t);
      ts_pool_free(pool);
      return ts_cli_fail("train", &err);
    }
    /* Continue the same run in the store when it is there. */
    const char *rid = ts_safetensors_meta(resume, "store.run_id");
    TsRunInfo info;
    if (store && rid && atoll(rid) > 0 && ts_store_get_run(store, atoll(rid), &info, NULL) == TS_OK) {
      if (strcmp(info.kind, "train") == 0 && ts_store_run_reopen(store, info.id, NULL) == TS_OK) run_id = info.id;
      ts_run_info_clear(&info);
    }
  }
  if (store && run_id < 0) {
    char *params = params_json(ts_trainer_config(t), resume ? resume->path : NULL);
    TsStatus s = ts_store_run_begin(store, "train", run_name, params, &run_id, &err);
    free(params);
    if (s) {
      ts_trainer_free(t);
      ts_pool_free(pool);
      return ts_cli_fail("train", &err);
    }
  }
  /* Without --save, checkpoints go beside the store (checkpoints/run-ID),
   * so a stopped run can always be resumed; the store lists them. */
  if (!cfg->save_path[0] && store && run_id > 0) {
    char path[3900], file[sizeof cfg->save_path];
    const char *sp = ts_store_path(store), *slash = strrchr(sp, '/');
    int dl = slash ? (int)(slash - sp) : 1;
    if (snprintf(path, sizeof path, "%.*s/checkpoints", dl, slash ? sp : ".") >= (int)sizeof path) {
      fprintf(stderr, "toposcope: train: the store's path is too long for a checkpoint folder (no checkpoints)\n");
    } else if (mkdir(path, 0777) != 0 && errno != EEXIST) {
      fprintf(stderr, "toposcope: train: cannot create '%s': %s (no checkpoints)\n", path, strerror(errno));
    } else {
      snprintf(file, sizeof file, "%s/run-%lld.safetensors", path, (long long)run_id);
      memcpy(cfg->save_path, file, sizeof file);
      ts_trainer_set_save_path(t, file);
    }
  }
  const TsTrainPos *pos = ts_trainer_pos(t);
  if (!quiet) {
    fprintf(out, "%s: %zu parameters; %lld training images%s", ts_model_kind_name(cfg->model.kind),
            ts_model_n_params(ts_trainer_model(t)), (long long)train->count, val ? "" : "\n");
    if (val) fprintf(out, ", %lld validation images\n", (long long)val->count);
    if (resume) fprintf(out, "resuming at epoch %lld, step %lld\n", (long long)pos->epoch + 1, (long long)pos->global_step);
    fflush(out);
  }
  Report rep = {.quiet = quiet, .out = out};
  TsTrainHooks hooks = {.user = &rep, .on_step = on_step, .on_epoch = on_epoch};
  if (train_probe) hooks = probe_begin(t, train, val, store, run_id, quiet, out, pool, hooks);
  TsStatus s = ts_trainer_run(t, store, run_id, &hooks, ts_cli_stop_flag(), &err);
  if (train_probe && !quiet) fprintf(out, "probing took %.1f s\n", train_probe->seconds);
  if (rep.bar_on) ts_cli_progress_end(&rep.bar, rep.bar.total);
  int rc = TS_EXIT_OK;
  if (s == TS_OK) {
    if (store) ts_store_run_end(store, run_id, TS_RUN_FINISHED, NULL, NULL);
    if (!quiet && cfg->save_path[0]) fprintf(out, "checkpoint: %s\n", cfg->save_path);
  } else if (s == TS_ERR_CANCELLED) {
    if (store) ts_store_run_end(store, run_id, TS_RUN_STOPPED, err.message, NULL);
    if (cfg->save_path[0])
      fprintf(stderr, "toposcope: train: %s; checkpoint written to %s (continue with --resume %s)\n", err.message,
              cfg->save_path, cfg->save_path);
    else fprintf(stderr, "toposcope: train: %s (no --save: nothing written)\n", err.message);
    rc = ts_cli_stop_exit_code();
  } else {
    if (store) ts_store_run_end(store, run_id, TS_RUN_FAILED, err.message, NULL);
    rc = ts_cli_fail("train", &err);
  }
  if (rc == TS_EXIT_OK && train_probe && train_probe->failed) rc = TS_EXIT_FAILURE;
  ts_trainer_free(t);
  ts_pool_free(pool);
  return rc;
}

int ts_cmd_train(int argc, char **argv) {
  enum {
    O_MODEL = 256, O_DATA, O_VAL, O_EPOCHS, O_BATCH, O_OPT, O_LR, O_MOM, O_NEST, O_WD, O_SCHED, O_SEED, O_DET,
    O_AUG, O_RESIZE, O_NORM, O_STEM, O_WIDTH, O_HIDDEN, O_LIMIT, O_VLIMIT, O_SAVE, O_RESUME, O_LTHREADS, O_NAME,
    O_STORE, O_THREADS, O_PROBE, O_PROBE_EPOCHS, O_PROBE_LAYERS, O_PROBE_SAMPLES
  };
  static const struct option opts[] = {
      {"model", required_argument, 0, O_MODEL},     {"data", required_argument, 0, O_DATA},
      {"val", required_argument, 0, O_VAL},         {"epochs", required_argument, 0, O_EPOCHS},
      {"batch", required_argument, 0, O_BATCH},     {"optimizer", required_argument, 0, O_OPT},
      {"lr", required_argument, 0, O_LR},           {"momentum", required_argument, 0, O_MOM},
      {"nesterov", no_argument, 0, O_NEST},         {"weight-decay", required_argument, 0, O_WD},
      {"schedule", required_argument, 0, O_SCHED},  {"seed", required_argument, 0, O_SEED},
      {"deterministic", no_argument, 0, O_DET},     {"augment", required_argument, 0, O_AUG},
      {"resize", required_argument, 0, O_RESIZE},   {"normalize", required_argument, 0, O_NORM},
      {"small-stem", no_argument, 0, O_STEM},       {"width", required_argument, 0, O_WIDTH},
      {"hidden", required_argument, 0, O_HIDDEN},   {"limit", required_argument, 0, O_LIMIT},
      {"val-limit", required_argument, 0, O_VLIMIT}, {"save", required_argument, 0, O_SAVE},
      {"resume", required_argument, 0, O_RESUME},   {"loader-threads", required_argument, 0, O_LTHREADS},
      {"name", required_argument, 0, O_NAME},       {"store", required_argument, 0, O_STORE},
      {"threads", required_argument, 0, O_THREADS}, {"quiet", no_argument, 0, 'q'},
      {"probe", required_argument, 0, O_PROBE},     {"probe-epochs", required_argument, 0, O_PROBE_EPOCHS},
      {"probe-layers", required_argument, 0, O_PROBE_LAYERS},
      {"probe-samples", required_argument, 0, O_PROBE_SAMPLES},
      {"help", no_argument, 0, 'h'},                {0, 0, 0, 0}};
  TsTrainConfig cfg = ts_train_config_default();
  const char *model = NULL, *data = NULL, *val = NULL, *opt = NULL, *sched = NULL, *save = NULL, *resume = NULL;
  const char *store_path = NULL, *name = NULL, *norm = "auto", *augment = NULL, *resize = NULL, *hidden = NULL;
  double lr = -1, mom = -1, wd = -1, width = -1;
  long epochs = -1, batch = -1, limit = -1, vlimit = -1, lthreads = -1;
  uint64_t seed = 0;
  int have_seed = 0, nesterov = 0, det = 0, stem = 0, threads = 0, quiet = 0, c, rc;
  static TsTrainProbe tp;
  const char *probe_epochs = NULL;
  memset(&tp, 0, sizeof tp);
  ts_probe_config_init(&tp.cfg);
  tp.cfg.what = 0;
  train_probe = NULL;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":qh", opts, NULL)) != -1) {
    switch (c) {
    case O_MODEL: model = optarg; break;
    case O_DATA: data = optarg; break;
    case O_VAL: val = optarg; break;
    case O_EPOCHS: if ((rc = ts_cli_int("train", "--epochs", optarg, 0, 1000000, &epochs))) return rc; break;
    case O_BATCH: if ((rc = ts_cli_int("train", "--batch", optarg, 1, 65536, &batch))) return rc; break;
    case O_OPT: opt = optarg; break;
    case O_LR: if ((rc = ts_cli_double("train", "--lr", optarg, 0, 1e6, &lr))) return rc; break;
    case O_MOM: if ((rc = ts_cli_double("train", "--momentum", optarg, 0, 1, &mom))) return rc; break;
    case O_NEST: nesterov = 1; break;
    case O_WD: if ((rc = ts_cli_double("train", "--weight-decay", optarg, 0, 1e3, &wd))) return rc; break;
    case O_SCHED: sched = optarg; break;
    case O_SEED: if ((rc = ts_cli_u64("train", "--seed", optarg, &seed))) return rc; have_seed = 1; break;
    case O_DET: det = 1; break;
    case O_AUG: augment = optarg; break;
    case O_RESIZE: resize = optarg; break;
    case O_NORM: norm = optarg; break;
    case O_STEM: stem = 1; break;
    case O_WIDTH: if ((rc = ts_cli_double("train", "--width", optarg, 0.01, 64, &width))) return rc; break;
    case O_HIDDEN: hidden = optarg; break;
    case O_LIMIT: if ((rc = ts_cli_int("train", "--limit", optarg, 1, LONG_MAX, &limit))) return rc; break;
    case O_VLIMIT: if ((rc = ts_cli_int("train", "--val-limit", optarg, 1, LONG_MAX, &vlimit))) return rc; break;
    case O_SAVE: save = optarg; break;
    case O_RESUME: resume = optarg; break;
    case O_LTHREADS: if ((rc = ts_cli_int("train", "--loader-threads", optarg, 0, 64, &lthreads))) return rc; break;
    case O_NAME: name = optarg; break;
    case O_STORE: store_path = optarg; break;
    case O_THREADS: if ((rc = ts_cli_threads("train", optarg, &threads))) return rc; break;
    case 'q': quiet = 1; break;
    case O_PROBE:
      if ((tp.cfg.what = ts_probe_what_parse(optarg)) < 0)
        return ts_cli_usage_error("train", "--probe takes lifespans, phdim and graph, not '%s'", optarg);
      break;
    case O_PROBE_EPOCHS: probe_epochs = optarg; break;
    case O_PROBE_LAYERS: snprintf(tp.cfg.layers, sizeof tp.cfg.layers, "%s", optarg); break;
    case O_PROBE_SAMPLES: {
      long v;
      if ((rc = ts_cli_int("train", "--probe-samples", optarg, 2, 10000000, &v))) return rc;
      tp.cfg.samples = (int)v;
      break;
    }
    case 'h': help(); return TS_EXIT_OK;
    default: return ts_cli_bad_option("train", optopt, argv[optind - 1]);
    }
  }
  if (optind < argc) return ts_cli_usage_error("train", "unexpected argument '%s'", argv[optind]);
  if (tp.cfg.what > 0) {
    if (ts_train_probe_parse_epochs(&tp, probe_epochs ? probe_epochs : "0") < 0)
      return ts_cli_usage_error("train", "--probe-epochs expects epochs such as 0,1,5,10, not '%s'", probe_epochs);
    train_probe = &tp;
  } else if (probe_epochs) {
    return ts_cli_usage_error("train", "--probe-epochs needs --probe");
  }

  TsError err = {0};
  TsSafetensors ck = {0};
  int have_ck = 0;
  if (resume) {
    /* The run's own settings come from the checkpoint; only the length,
     * the output and the machine-side options may change. */
    if (model || opt || lr >= 0 || mom >= 0 || wd >= 0 || sched || have_seed || augment || resize || stem ||
        width > 0 || hidden || limit > 0 || batch > 0 || nesterov)
      return ts_cli_usage_error("train", "--resume takes the run's settings from the checkpoint: only --epochs, "
                                         "--data, --val, --save, --threads, --loader-threads, --store, --name may change");
    if (ts_safetensors_read(resume, &ck, &err) || ts_train_config_from_checkpoint(&ck, &cfg, &err)) {
      ts_safetensors_clear(&ck);
      return ts_cli_fail("train", &err);
    }
    have_ck = 1;
    if (det) cfg.deterministic = 1;
    if (epochs >= 0) cfg.epochs = (int)epochs;
    if (data) snprintf(cfg.data, sizeof cfg.data, "%s", data);
    if (val) snprintf(cfg.val_data, sizeof cfg.val_data, "%s", val);
    snprintf(cfg.save_path, sizeof cfg.save_path, "%s", save ? save : resume);
  } else {
    if (!data) return ts_cli_usage_error("train", "--data is required");
    int kind = ts_model_kind_from_name(model ? model : "lenet5");
    if (kind < 0 || kind == TS_MODEL_TOPOVAE)
      return ts_cli_usage_error("train", "--model must be lenet5, resnet18/34/50, mlp, resnet20/32/56/110, vgg11, "
                                         "vgg16 or lenet-dnn, not '%s'", model);
    cfg.model = ts_model_config_default((TsModelKind)kind);
    cfg.model.in_channels = cfg.model.in_h = cfg.model.in_w = cfg.model.num_outputs = 0;
    cfg.model.small_stem = stem;
    if (width > 0) cfg.model.width = (float)width;
    if (hidden) {
      cfg.model.n_hidden = 0;
      char buf[256];
      snprintf(buf, sizeof buf, "%s", hidden);
      for (char *sv = NULL, *tok = strtok_r(buf, ",", &sv); tok; tok = strtok_r(NULL, ",", &sv)) {
        long v;
        if (cfg.model.n_hidden == TS_MLP_MAX_HIDDEN)
          return ts_cli_usage_error("train", "--hidden: at most %d layers", TS_MLP_MAX_HIDDEN);
        if ((rc = ts_cli_int("train", "--hidden", tok, 1, 1 << 20, &v))) return rc;
        cfg.model.hidden[cfg.model.n_hidden++] = (int)v;
      }
    }
    int okind = ts_optim_kind_from_name(opt ? opt : "sgd");
    if (okind < 0) return ts_cli_usage_error("train", "--optimizer must be sgd, adam or adamw, not '%s'", opt);
    cfg.optim = ts_optim_config_default((TsOptimKind)okind, okind == TS_OPTIM_SGD ? 0.01f : 0.001f);
    if (okind == TS_OPTIM_SGD) cfg.optim.momentum = 0.9f;
    if (lr >= 0) cfg.optim.lr = (float)lr;
    if (mom >= 0) cfg.optim.momentum = (float)mom;
    if (wd >= 0) cfg.optim.weight_decay = (float)wd;
    cfg.optim.nesterov = nesterov;
    if (nesterov && okind != TS_OPTIM_SGD) return ts_cli_usage_error("train", "--nesterov is for --optimizer sgd");
    if (epochs >= 0) cfg.epochs = (int)epochs;
    if (batch > 0) cfg.batch = (int)batch;
    cfg.seed = seed;
    cfg.deterministic = det;
    normalize_schedule(sched ? sched : "constant", cfg.epochs, cfg.schedule, sizeof cfg.schedule);
    TsSchedule probe;
    if (ts_schedule_parse(cfg.schedule, &probe, &err)) return ts_cli_usage_error("train", "--schedule: %s", err.message);
    if (augment && (rc = parse_augment(augment, &cfg.aug, &cfg.augment))) return rc;
    if (resize) {
      int h, w;
      char tail;
      if (sscanf(resize, "%dx%d%c", &h, &w, &tail) != 2 || h < 1 || w < 1 || h > 8192 || w > 8192)
        return ts_cli_usage_error("train", "--resize expects HxW, not '%s'", resize);
      cfg.aug.resize_h = h;
      cfg.aug.resize_w = w;
    }
    int is_auto = 0;
    if ((rc = parse_normalize(norm, &cfg.aug, &is_auto))) return rc;
    if (!is_auto) norm = NULL;
    cfg.limit = limit > 0 ? limit : 0;
    snprintf(cfg.data, sizeof cfg.data, "%s", data);
    if (val) snprintf(cfg.val_data, sizeof cfg.val_data, "%s", val);
    else if (ts_dataset_has_split(data, TS_SPLIT_TEST)) snprintf(cfg.val_data, sizeof cfg.val_data, "%s", data);
    if (save) snprintf(cfg.save_path, sizeof cfg.save_path, "%s", save);
  }
  if (vlimit > 0) cfg.val_limit = vlimit;
  if (lthreads >= 0) cfg.loader_threads = (int)lthreads;
  if (strcmp(cfg.val_data, "none") == 0) cfg.val_data[0] = '\0';

  TsDataset train = {0}, valds = {0};
  if ((rc = load_data("train", cfg.data, TS_SPLIT_TRAIN, cfg.limit, &train))) {
    ts_safetensors_clear(&ck);
    return rc;
  }
  /* The validation set is the test split of its spec, unless it is another
   * spec that only has a training split (idx:, a plain folder). */
  if (cfg.val_data[0]) {
    TsSplit sp = ts_dataset_has_split(cfg.val_data, TS_SPLIT_TEST) ? TS_SPLIT_TEST : TS_SPLIT_TRAIN;
    if ((rc = load_data("train", cfg.val_data, sp, cfg.val_limit, &valds))) {
      ts_dataset_clear(&train);
      ts_safetensors_clear(&ck);
      return rc;
    }
  }
  if (!have_ck && norm) auto_normalize(&train, &cfg.aug);

  TsStore *store = NULL;
  ts_cli_install_stop_handlers();
  if ((rc = ts_cli_open_store("train", store_path, TS_STORE_WRITE, &store))) {
    ts_dataset_clear(&train);
    ts_dataset_clear(&valds);
    ts_safetensors_clear(&ck);
    return rc;
  }
  char run_name[128];
  if (name) snprintf(run_name, sizeof run_name, "%s", name);
  else snprintf(run_name, sizeof run_name, "%s on %.100s", ts_model_kind_name(cfg.model.kind), cfg.data);
  rc = train_run(&cfg, &train, cfg.val_data[0] ? &valds : NULL, have_ck ? &ck : NULL, store, run_name, threads,
                 quiet, stdout);
  ts_store_close(store);
  ts_dataset_clear(&train);
  ts_dataset_clear(&valds);
  ts_safetensors_clear(&ck);
  return rc;
}

/* ---- demo step --------------------------------------------------------------- */

/* Four classes of 28x28 grey images: a bright bar, horizontal, vertical or
 * along either diagonal, at a random offset, over noise. */
static int make_bars(TsDataset *ds, int64_t n, uint64_t seed) {
  TsError err;
  if (ts_dataset_alloc(ds, n, 1, 28, 28, 4, &err)) return -1;
  TsRng r;
  for (int64_t i = 0; i < n; i++) {
    ts_rng_init(&r, seed, (uint64_t)i);
    int cls = (int)(i % 4), off = (int)ts_rng_below(&r, 16) - 8;
    uint8_t *p = ds->pixels + i * 784;
    for (int y = 0; y < 28; y++)
      for (int x = 0; x < 28; x++) {
        int d = cls == 0 ? y - 14 - off : cls == 1 ? x - 14 - off : cls == 2 ? x - y - off : x + y - 27 - off;
        int v = (int)ts_rng_below(&r, 90) + (abs(d) <= 1 ? 150 : 0);
        p[y * 28 + x] = (uint8_t)(v > 255 ? 255 : v);
      }
    ds->labels[i] = cls;
  }
  snprintf(ds->source, sizeof ds->source, "generated bars (seed %llu)", (unsigned long long)seed);
  return 0;
}

int ts_demo_train(TsDemo *demo) {
  FILE *out = demo->out;
  TsDataset train = {0}, val = {0};
  TsError err = {0};
  TsTrainConfig cfg = ts_train_config_default();
  int fashion = ts_dataset_open("fashion-mnist", TS_SPLIT_TRAIN, NULL, &train, &err) == TS_OK &&
                ts_dataset_open("fashion-mnist", TS_SPLIT_TEST, NULL, &val, &err) == TS_OK;
  if (fashion) {
    ts_dataset_truncate(&train, 600);
    ts_dataset_truncate(&val, 200);
    snprintf(cfg.data, sizeof cfg.data, "fashion-mnist");
    cfg.limit = 600;
    cfg.val_limit = 200;
    fprintf(out, "   LeNet-5 on 600 FashionMNIST images (200 to validate), 4 epochs of Adam\n");
  } else {
    ts_dataset_clear(&train);
    if (make_bars(&train, 400, 1) || make_bars(&val, 100, 2)) {
      ts_dataset_clear(&train);
      fprintf(stderr, "toposcope: demo: out of memory\n");
      return 1;
    }
    snprintf(cfg.data, sizeof cfg.data, "generated");
    fprintf(out, "   FashionMNIST is not installed: LeNet-5 on 400 generated 28x28 images of bars, 4 epochs of Adam\n");
  }
  cfg.epochs = 4;
  cfg.batch = 32;
  cfg.optim = ts_optim_config_default(TS_OPTIM_ADAM, 0.002f);
  cfg.loader_threads = 1;
  auto_normalize(&train, &cfg.aug);
  snprintf(cfg.save_path, sizeof cfg.save_path, "%s/lenet5.safetensors", demo->workdir);
  TsStore *store = demo->store;
  int own_store = 0;
  if (!store && demo->store_path) {
    if (ts_store_open(demo->store_path, TS_STORE_WRITE, &store, &err) != TS_OK) store = NULL;
    else own_store = 1;
  }
  int rc = train_run(&cfg, &train, &val, NULL, store, "demo: lenet5", demo->threads, 0, out);
  if (own_store) ts_store_close(store);
  ts_dataset_clear(&train);
  ts_dataset_clear(&val);
  return rc == 0 ? 0 : 1;
}
