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
#include "run/dist.h"
#include "nn/device.h"
#include "run/objective-vae.h"
#include "run/train-options.h"
#include "run/train.h"
#include "topo/topoloss.h"
#include "train-probe.h"

static void help(void) {
  printf("Usage: toposcope train --model MODEL --data SPEC [OPTIONS]\n"
         "       toposcope train --resume CKPT [--epochs E] [OPTIONS]\n"
         "Trains an image model for a task: classify (cross-entropy on the classes),\n"
         "ph (regress the PH labels of labels:DIR,CACHE data: MSE), simultaneous (one\n"
         "head of classes + label values: CE + ph-weight x MSE), or vae (the TopoVAE,\n"
         "optionally beside a plain VAE in lockstep). Per-step loss and\n"
         "per-epoch train/validation loss, accuracy (classes), val/mse and per-dimension\n"
         "R^2 (labels) go into the run store as they happen.\n"
         "SIGINT/SIGTERM write a checkpoint (with --save), mark the run stopped and exit\n"
         "with 130/143 (128 + the signal);\n"
         "--resume continues it (bit-for-bit with --deterministic).\n\n"
         "Data specs: fashion-mnist | fashion-mnist:DIR | idx:IMAGES,LABELS | cifar:DIR | folder:DIR |\n"
         "            labels:DIR,CACHE (pictures + their PH labels) | generate:SIZE (made on the fly)\n"
         "Memory: folders and label caches whose pictures take more than --in-memory MB are\n"
         "decoded per batch by the loader threads instead of loaded: then the pictures use\n"
         "(prefetch 4 + loader threads) batches of floats (batch x C x H x W x 4 bytes) and one\n"
         "decoded picture per loader thread, whatever the set's size; labels (4 bytes a value)\n"
         "and file names (about 100 bytes a picture) stay in memory. generate: always streams.\n\n"
         "Options:\n");
  size_t n;
  const TsOptSpec *o = ts_train_options(&n);
  ts_opt_print_help(stdout, o, n);
  printf("\nSeveral processes: 'mpirun -np N toposcope train ...' (or srun) trains one model\n"
         "data-parallel: --batch stays the global batch, each rank takes its contiguous\n"
         "share of it (the first B %% N ranks one sample more), gradients are summed over\n"
         "the ranks in a fixed order (--deterministic: bit-identical for a given N) and\n"
         "every rank takes the same step. Batch norm uses each rank's share (running\n"
         "statistics copied from rank 0), or with --sync-bn the global batch. Rank 0\n"
         "alone writes the store and checkpoints; a checkpoint resumes with any N. A\n"
         "rank that dies stops the others within seconds (TOPOSCOPE_DIST_TIMEOUT bounds\n"
         "any wait, default 600 s).\n");
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

/* Per-channel mean and std of the stored bytes, on the [0, 1] scale; of the
 * first 1024 pictures (epoch 0) of a streamed set. */
static int auto_normalize(const TsDataset *ds, TsAugment *a) {
  size_t hw = (size_t)ds->height * (size_t)ds->width;
  int64_t count = ds->pixels || ds->count < 1024 ? ds->count : 1024;
  uint8_t *buf = ds->pixels ? NULL : malloc(hw * (size_t)ds->channels);
  void *worker = NULL;
  TsError err = {0};
  if (!ds->pixels && (!buf || (ds->stream->worker_new && !(worker = ds->stream->worker_new(ds->stream->user, &err))))) {
    free(buf);
    return buf ? ts_cli_fail("train", &err) : ts_cli_failf("train", "out of memory");
  }
  double sum[4] = {0}, sum2[4] = {0};
  for (int64_t i = 0; i < count; i++) {
    const uint8_t *px = ds->pixels ? ts_dataset_sample(ds, i) : buf;
    if (!ds->pixels && ts_dataset_fetch(ds, worker, 0, i, buf, NULL, &err)) {
      if (worker && ds->stream->worker_free) ds->stream->worker_free(ds->stream->user, worker);
      free(buf);
      return ts_cli_fail("train", &err);
    }
    for (int c = 0; c < ds->channels && c < 4; c++) {
      const uint8_t *p = px + (size_t)c * hw;
      uint64_t a1 = 0, a2 = 0;
      for (size_t k = 0; k < hw; k++) a1 += p[k], a2 += (uint64_t)p[k] * p[k];
      sum[c] += (double)a1;
      sum2[c] += (double)a2;
    }
  }
  if (worker && ds->stream->worker_free) ds->stream->worker_free(ds->stream->user, worker);
  free(buf);
  for (int c = 0; c < ds->channels && c < 4; c++) {
    double s = sum[c], s2 = sum2[c];
    double n = (double)count * (double)hw, m = s / n / 255.0, v = s2 / n / 65025.0 - m * m;
    a->mean[c] = (float)m;
    a->std[c] = (float)(v > 1e-12 ? sqrt(v) : 1.0);
  }
  for (int c = ds->channels; c < 4; c++) a->mean[c] = a->mean[0], a->std[c] = a->std[0];
  return 0;
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
  /* --task vae: the epoch's pictures and latent codes go into the store */
  TsTrainer *trainer;
  TsStore *store;
  int64_t run_id;
  const TsDataset *val;
  TsPool *pool;
  double last_val_acc; /* of the last epoch (NaN without) */
} Report;

/* --latent-points N of --task vae (the latent series' length). */
static int vae_latent_points = 1000;

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
  if (r->trainer && r->store && r->val && strcmp(ts_trainer_config(r->trainer)->obj.task, "vae") == 0) {
    TsError err = {0};
    TsNnCtx ctx;
    ts_nn_ctx_init(&ctx, r->pool, ts_trainer_config(r->trainer)->deterministic);
    if (ts_vae_epoch_report(ts_trainer_objective(r->trainer), ts_trainer_model(r->trainer), &ctx, r->val,
                            vae_latent_points, ts_trainer_config(r->trainer)->seed, r->store, r->run_id,
                            p->global_step, p->epoch, &err))
      fprintf(stderr, "toposcope: train: the epoch's VAE pictures were not stored: %s\n", err.message);
  }
  r->last_val_acc = p->val_acc;
  if (r->quiet) return;
  fprintf(r->out, "epoch %lld/%lld  train loss %.4f", (long long)p->epoch + 1, (long long)p->epochs, p->train_loss);
  if (!isnan(p->train_acc)) fprintf(r->out, " acc %.2f%%", 100 * p->train_acc);
  if (!isnan(p->val_loss)) fprintf(r->out, "  val loss %.4f", p->val_loss);
  if (!isnan(p->val_acc)) fprintf(r->out, " acc %.2f%%", 100 * p->val_acc);
  double mse = ts_obj_metrics_get(&p->val_metrics, "val/mse"), r2 = ts_obj_metrics_get(&p->val_metrics, "val/r2_mean");
  if (!isnan(mse)) fprintf(r->out, " mse %.4f", mse);
  if (!isnan(r2)) fprintf(r->out, " R2 %.3f", r2);
  double tb = ts_obj_metrics_get(&p->val_metrics, "topovae/val_bce"), vb = ts_obj_metrics_get(&p->val_metrics, "vae/val_bce");
  if (!isnan(tb)) fprintf(r->out, "  val BCE: TopoVAE %.3f", tb);
  if (!isnan(vb)) fprintf(r->out, " VAE %.3f", vb);
  fprintf(r->out, "  lr %.3g  %.0f img/s\n", p->lr, p->images_per_s);
  fflush(r->out);
}

static char *params_json(const TsTrainConfig *c, const char *resumed_from) {
  TsJson j;
  ts_json_init(&j);
  ts_json_object_begin(&j);
  ts_json_kv_string(&j, "model", ts_model_kind_name(c->model.kind));
  ts_json_kv_string(&j, "task", c->obj.task);
  ts_json_kv_string(&j, "label_norm", ts_label_norm_name(c->obj.label_norm));
  if (strcmp(c->obj.task, "simultaneous") == 0) ts_json_kv_number(&j, "ph_weight", c->obj.ph_weight);
  if (strcmp(c->obj.task, "vae") == 0) {
    ts_json_key(&j, "topo_weights");
    ts_json_array_begin(&j);
    for (int k = 0; k < 7; k++) ts_json_number(&j, c->obj.topo_weights[k]);
    ts_json_array_end(&j);
    ts_json_kv_int(&j, "topo_deg", c->obj.topo_deg);
    ts_json_kv_string(&j, "topo_on", c->obj.topo_on_latent ? "latent" : "output");
    ts_json_kv_bool(&j, "lockstep", c->obj.lockstep);
    ts_json_kv_int(&j, "latent", c->model.latent);
  }
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
  ts_json_kv_int(&j, "per_class", c->per_class);
  ts_json_kv_int(&j, "subset_seed", (int64_t)c->subset_seed);
  ts_json_kv_string(&j, "init", c->init);
  ts_json_kv_bool(&j, "freeze_backbone", c->freeze_backbone);
  ts_json_kv_string(&j, "save", c->save_path);
  if (resumed_from) ts_json_kv_string(&j, "resumed_from", resumed_from);
  ts_json_kv_int(&j, "ranks", ts_dist_size());
  if (ts_dist_size() > 1) ts_json_kv_bool(&j, "sync_bn", c->sync_bn); /* processes sharing each batch (mpirun -np) */
  ts_json_kv_string(&j, "blas", ts_blas_name()); /* which SGEMM ran: speed (and the last bits) depend on it */
  ts_json_object_end(&j);
  return ts_json_steal(&j);
}

/* Sets whose pictures take more than this stream from disk (--in-memory). */
static int64_t in_memory_bytes = (int64_t)1024 << 20;

static int load_data(const char *cmd, const char *spec, TsSplit split, int64_t limit, int64_t per_class,
                     uint64_t subset_seed, TsDataset *ds) {
  TsError err = {0};
  TsDatasetOptions o = {.max_bytes = in_memory_bytes};
  if (ts_dataset_open(spec, split, &o, ds, &err)) return ts_cli_fail(cmd, &err);
  ts_dataset_truncate(ds, limit > 0 ? limit : -1);
  if (per_class > 0 && ts_dataset_per_class(ds, per_class, subset_seed, &err)) {
    ts_dataset_clear(ds);
    return ts_cli_fail(cmd, &err);
  }
  return 0;
}

/* Where a new run goes in the store: an experiment's cell, the run it
 * continues from (0: none). */
typedef struct Group {
  int64_t experiment, parent;
  const char *cell;
  int64_t *run_id_out; /* the run's id, when asked */
  double *val_acc_out;  /* the last epoch's validation accuracy, when asked */
} Group;
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
                     TsStore *store, const char *run_name, int threads, int quiet, FILE *out, const Group *group) {
  TsError err = {0};
  TsPool *pool = ts_pool_new(threads, &err);
  if (!pool) return ts_cli_fail("train", &err);
  TsTrainer *t = ts_trainer_new(cfg, train, val, pool, &err);
  if (!t) {
    ts_pool_free(pool);
    return ts_cli_fail("train", &err);
  }
  if (!resume && cfg->init[0]) {
    char *report = NULL;
    if (ts_trainer_init_from(t, cfg->init, &report, &err)) {
      ts_trainer_free(t);
      ts_pool_free(pool);
      return ts_cli_fail("train", &err);
    }
    if (!quiet && report) fprintf(out, "%s\n", report);
    free(report);
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
    if (!s && group && (group->experiment > 0 || group->parent > 0))
      s = ts_store_run_group(store, run_id, group->experiment, group->cell, group->parent, &err);
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
  if (group && group->run_id_out) *group->run_id_out = run_id;
  Report rep = {.quiet = quiet, .out = out, .trainer = t, .store = store, .run_id = run_id, .val = val, .pool = pool, .last_val_acc = NAN};
  TsTrainHooks hooks = {.user = &rep, .on_step = on_step, .on_epoch = on_epoch};
  if (train_probe) hooks = probe_begin(t, train, val, store, run_id, quiet, out, pool, hooks);
  TsStatus s = ts_trainer_run(t, store, run_id, &hooks, ts_cli_stop_flag(), &err);
  if (train_probe && !quiet) fprintf(out, "probing took %.1f s\n", train_probe->seconds);
  if (rep.bar_on) ts_cli_progress_end(&rep.bar, rep.bar.total);
  if (group && group->val_acc_out) *group->val_acc_out = rep.last_val_acc;
  int rc = TS_EXIT_OK;
  if (s == TS_OK) {
    if (store) ts_store_run_end(store, run_id, TS_RUN_FINISHED, NULL, NULL);
    if (!quiet && cfg->save_path[0]) fprintf(out, "checkpoint: %s\n", cfg->save_path);
  } else if (s == TS_ERR_CANCELLED && ts_dist_rank() != 0) {
    rc = ts_cli_stop_exit_code();
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
    O_STORE, O_THREADS, O_TASK, O_LNORM, O_PHW, O_INIT, O_FREEZE, O_PERCLASS, O_SUBSEED, O_EXPID, O_CELL, O_PARENT, O_COMBINED, O_PDATA, O_PVAL, O_PEPOCHS, O_PTASK, O_GEN,
    O_SYNCBN, O_DEVICE, O_TF32,
    O_TOPOW, O_TOPODEG, O_TOPOON, O_LATENT, O_LOCKSTEP, O_LATPTS,
    O_PROBE, O_PROBE_EPOCHS, O_PROBE_LAYERS, O_PROBE_SAMPLES, O_INMEM
  };
  static const struct option opts[] = {
      {"model", required_argument, 0, O_MODEL},     {"data", required_argument, 0, O_DATA},
      {"val", required_argument, 0, O_VAL},         {"epochs", required_argument, 0, O_EPOCHS},
      {"batch", required_argument, 0, O_BATCH},     {"optimizer", required_argument, 0, O_OPT},
      {"lr", required_argument, 0, O_LR},           {"momentum", required_argument, 0, O_MOM},
      {"nesterov", no_argument, 0, O_NEST},         {"weight-decay", required_argument, 0, O_WD},
      {"schedule", required_argument, 0, O_SCHED},  {"seed", required_argument, 0, O_SEED},
      {"deterministic", no_argument, 0, O_DET},     {"sync-bn", no_argument, 0, O_SYNCBN},     {"augment", required_argument, 0, O_AUG},
      {"resize", required_argument, 0, O_RESIZE},   {"normalize", required_argument, 0, O_NORM},
      {"small-stem", no_argument, 0, O_STEM},       {"width", required_argument, 0, O_WIDTH},
      {"hidden", required_argument, 0, O_HIDDEN},   {"limit", required_argument, 0, O_LIMIT},
      {"val-limit", required_argument, 0, O_VLIMIT}, {"save", required_argument, 0, O_SAVE},
      {"resume", required_argument, 0, O_RESUME},   {"loader-threads", required_argument, 0, O_LTHREADS},
      {"name", required_argument, 0, O_NAME},       {"store", required_argument, 0, O_STORE},
      {"threads", required_argument, 0, O_THREADS}, {"quiet", no_argument, 0, 'q'},
      {"task", required_argument, 0, O_TASK},       {"label-norm", required_argument, 0, O_LNORM},
      {"ph-weight", required_argument, 0, O_PHW},   {"init", required_argument, 0, O_INIT},
      {"freeze", required_argument, 0, O_FREEZE},   {"per-class", required_argument, 0, O_PERCLASS},
      {"subset-seed", required_argument, 0, O_SUBSEED}, {"experiment-id", required_argument, 0, O_EXPID},
      {"cell", required_argument, 0, O_CELL},       {"parent-run", required_argument, 0, O_PARENT},
      {"combined", no_argument, 0, O_COMBINED},     {"pretrain-data", required_argument, 0, O_PDATA},
      {"pretrain-val", required_argument, 0, O_PVAL}, {"pretrain-epochs", required_argument, 0, O_PEPOCHS},
      {"pretrain-task", required_argument, 0, O_PTASK},
      {"gen-count", required_argument, 0, O_GEN},   {"gen-val", required_argument, 0, O_GEN},
      {"gen-seed", required_argument, 0, O_GEN},    {"alpha-range", required_argument, 0, O_GEN},
      {"beta-range", required_argument, 0, O_GEN},  {"prob-binary", required_argument, 0, O_GEN},
      {"prob-colour", required_argument, 0, O_GEN}, {"spectrum", required_argument, 0, O_GEN},
      {"label-type", required_argument, 0, O_GEN},  {"label-dims", required_argument, 0, O_GEN},
      {"max-life", required_argument, 0, O_GEN},    {"filtration", required_argument, 0, O_GEN},
      {"gradient", no_argument, 0, O_GEN},          {"sigma", required_argument, 0, O_GEN},
      {"weight-power", required_argument, 0, O_GEN},
      {"device", required_argument, 0, O_DEVICE}, {"tf32", no_argument, 0, O_TF32},
      {"topo-weights", required_argument, 0, O_TOPOW}, {"topo-deg", required_argument, 0, O_TOPODEG},
      {"topo-on", required_argument, 0, O_TOPOON},  {"latent", required_argument, 0, O_LATENT},
      {"lockstep", no_argument, 0, O_LOCKSTEP},     {"latent-points", required_argument, 0, O_LATPTS},
      {"probe", required_argument, 0, O_PROBE},     {"probe-epochs", required_argument, 0, O_PROBE_EPOCHS},
      {"probe-layers", required_argument, 0, O_PROBE_LAYERS},
      {"probe-samples", required_argument, 0, O_PROBE_SAMPLES},
      {"in-memory", required_argument, 0, O_INMEM},
      {"help", no_argument, 0, 'h'},                {0, 0, 0, 0}};
  TsTrainConfig cfg = ts_train_config_default();
  const char *model = NULL, *data = NULL, *val = NULL, *opt = NULL, *sched = NULL, *save = NULL, *resume = NULL;
  const char *store_path = NULL, *name = NULL, *norm = "auto", *augment = NULL, *resize = NULL, *hidden = NULL;
  const char *task = NULL, *lnorm = NULL, *init = NULL, *freeze = NULL, *device = "cpu";
  long per_class = -1, experiment = 0, parent = 0, pretrain_epochs = -1;
  const char *pretrain_data = NULL, *pretrain_val = NULL, *pretrain_task = NULL;
  int combined = 0, lockstep = 0, have_topow = 0;
  long topo_deg = -1, latent = -1;
  double topow[7] = {0};
  const char *cell = NULL, *topo_on = NULL, *norm_given = NULL;
  char gen_keys[1024] = "";
  size_t gen_len = 0;
  uint64_t subset_seed = 0;
  int have_subset_seed = 0;
  double lr = -1, mom = -1, wd = -1, width = -1, phw = -1;
  long epochs = -1, batch = -1, limit = -1, vlimit = -1, lthreads = -1;
  TsError err0 = {0};
  uint64_t seed = 0;
  int sync_bn = 0, have_seed = 0, nesterov = 0, det = 0, stem = 0, threads = 0, quiet = 0, tf32 = 0, c, rc;
  static TsTrainProbe tp;
  const char *probe_epochs = NULL;
  memset(&tp, 0, sizeof tp);
  ts_probe_config_init(&tp.cfg);
  tp.cfg.what = 0;
  train_probe = NULL;
  optind = 1;
  int oi = 0;
  while ((c = getopt_long(argc, argv, ":qh", opts, &oi)) != -1) {
    switch (c) {
    case O_GEN: {
      /* generate: options become keys of the spec (core/data/generate-stream.c) */
      static const char *const map[][2] = {
          {"gen-count", "count"},     {"gen-val", "val"},       {"gen-seed", "seed"},     {"alpha-range", "alpha"},
          {"beta-range", "beta"},     {"prob-binary", "pb"},    {"prob-colour", "pc"},    {"spectrum", "spectrum"},
          {"label-type", "type"},     {"label-dims", "dims"},   {"max-life", "life"},     {"filtration", "filtration"},
          {"gradient", "gradient"},   {"sigma", "sigma"},       {"weight-power", "wp"}};
      const char *key = NULL;
      for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(opts[oi].name, map[i][0]) == 0) key = map[i][1];
      char gval[256];
      snprintf(gval, sizeof gval, "%s", optarg ? optarg : "1");
      /* two-number ranges: "A B" (as toposcope generate) or "A:B" */
      int pair = !strcmp(key, "alpha") || !strcmp(key, "beta") || !strcmp(key, "life");
      if (pair && !strchr(gval, ':')) {
        if (optind < argc && argv[optind][0] && (argv[optind][0] != '-' || (argv[optind][1] >= '0' && argv[optind][1] <= '9')))
          snprintf(gval + strlen(gval), sizeof gval - strlen(gval), ":%s", argv[optind++]);
        else snprintf(gval + strlen(gval), sizeof gval - strlen(gval), ":%s", optarg);
      }
      int k = snprintf(gen_keys + gen_len, sizeof gen_keys - gen_len, ",%s=%s", key, gval);
      if (k < 0 || (size_t)k >= sizeof gen_keys - gen_len) return ts_cli_usage_error("train", "too many generation options");
      gen_len += (size_t)k;
      break;
    }
    case O_MODEL: model = optarg; break;
    case O_INMEM: {
      long mb;
      if ((rc = ts_cli_int("train", "--in-memory", optarg, 0, 1L << 30, &mb))) return rc;
      in_memory_bytes = mb ? (int64_t)mb << 20 : 1; /* 0: stream every folder and label cache */
      break;
    }
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
    case O_SYNCBN: sync_bn = 1; break;
    case O_AUG: augment = optarg; break;
    case O_RESIZE: resize = optarg; break;
    case O_NORM: norm = norm_given = optarg; break;
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
    case O_TASK: task = optarg; break;
    case O_INIT: init = optarg; break;
    case O_EXPID: if ((rc = ts_cli_int("train", "--experiment-id", optarg, 1, LONG_MAX, &experiment))) return rc; break;
    case O_PARENT: if ((rc = ts_cli_int("train", "--parent-run", optarg, 1, LONG_MAX, &parent))) return rc; break;
    case O_CELL: cell = optarg; break;
    case O_COMBINED: combined = 1; break;
    case O_PDATA: pretrain_data = optarg; break;
    case O_PVAL: pretrain_val = optarg; break;
    case O_PTASK: pretrain_task = optarg; break;
    case O_PEPOCHS: if ((rc = ts_cli_int("train", "--pretrain-epochs", optarg, 0, 1000000, &pretrain_epochs))) return rc; break;
    case O_FREEZE: freeze = optarg; break;
    case O_PERCLASS: if ((rc = ts_cli_int("train", "--per-class", optarg, 1, LONG_MAX, &per_class))) return rc; break;
    case O_SUBSEED: if ((rc = ts_cli_u64("train", "--subset-seed", optarg, &subset_seed))) return rc; have_subset_seed = 1; break;
    case O_LNORM: lnorm = optarg; break;
    case O_PHW: if ((rc = ts_cli_double("train", "--ph-weight", optarg, 0, 1e6, &phw))) return rc; break;
    case O_DEVICE: device = optarg; break;
    case O_TF32: tf32 = 1; break;
    case O_TOPOW:
      if (ts_topo_weights_parse(optarg, "--topo-weights", topow, &err0)) return ts_cli_usage_error("train", "%s", err0.message);
      have_topow = 1;
      break;
    case O_TOPODEG: if ((rc = ts_cli_int("train", "--topo-deg", optarg, 0, 1, &topo_deg))) return rc; break;
    case O_TOPOON: topo_on = optarg; break;
    case O_LATENT: if ((rc = ts_cli_int("train", "--latent", optarg, 1, 4096, &latent))) return rc; break;
    case O_LOCKSTEP: lockstep = 1; break;
    case O_LATPTS: {
      long v;
      if ((rc = ts_cli_int("train", "--latent-points", optarg, 0, 1000000, &v))) return rc;
      vae_latent_points = (int)v;
      break;
    }
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
  if (combined != (pretrain_data != NULL))
    return ts_cli_usage_error("train", combined ? "--combined needs --pretrain-data SPEC"
                                                : "--pretrain-data is for --combined");
  if (combined && (resume || init))
    return ts_cli_usage_error("train", "--combined pretrains its own --init; resume each of its runs with --resume");
  if (pretrain_task && strcmp(pretrain_task, "ph") && strcmp(pretrain_task, "simultaneous"))
    return ts_cli_usage_error("train", "--pretrain-task must be ph or simultaneous, not '%s'", pretrain_task);
  if (tp.cfg.what > 0) {
    if (ts_train_probe_parse_epochs(&tp, probe_epochs ? probe_epochs : "0") < 0)
      return ts_cli_usage_error("train", "--probe-epochs expects epochs such as 0,1,5,10, not '%s'", probe_epochs);
    train_probe = &tp;
  } else if (probe_epochs) {
    return ts_cli_usage_error("train", "--probe-epochs needs --probe");
  }

  TsError err = {0};
  /* The device first: a run that cannot have it fails before any data is read. */
  int ordinal;
  if (ts_device_parse(device, &ordinal, &err)) return ts_cli_usage_error("train", "--device: %s", err.message);
  if (tf32 && ordinal < 0) return ts_cli_usage_error("train", "--tf32 is for --device cuda");
  if (ordinal >= 0 && ts_device_probe(ordinal, &err)) return ts_cli_fail("train", &err);
  TsSafetensors ck = {0};
  int have_ck = 0;
  if (resume) {
    /* The run's own settings come from the checkpoint; only the length,
     * the output and the machine-side options may change. */
    if (model || opt || lr >= 0 || mom >= 0 || wd >= 0 || sched || have_seed || augment || resize || stem ||
        width > 0 || hidden || limit > 0 || batch > 0 || nesterov || gen_len || task || lnorm || phw >= 0 || init || freeze ||
        per_class > 0 || have_subset_seed || have_topow || topo_deg >= 0 || topo_on || latent > 0 || lockstep)
      return ts_cli_usage_error("train", "--resume takes the run's settings from the checkpoint: only --epochs, "
                                         "--data, --val, --save, --threads, --loader-threads, --device, --tf32, --sync-bn, --in-memory, --store, --name may change");
    if (ts_safetensors_read(resume, &ck, &err) || ts_train_config_from_checkpoint(&ck, &cfg, &err)) {
      ts_safetensors_clear(&ck);
      return ts_cli_fail("train", &err);
    }
    have_ck = 1;
    if (det) cfg.deterministic = 1;
    cfg.sync_bn = sync_bn;
    if (epochs >= 0) cfg.epochs = (int)epochs;
    if (data) snprintf(cfg.data, sizeof cfg.data, "%s", data);
    if (val) snprintf(cfg.val_data, sizeof cfg.val_data, "%s", val);
    snprintf(cfg.save_path, sizeof cfg.save_path, "%s", save ? save : resume);
  } else {
    if (!data) return ts_cli_usage_error("train", "--data is required");
    const int vae = task && strcmp(task, "vae") == 0;
    int kind = ts_model_kind_from_name(model ? model : vae ? "topovae" : "lenet5");
    if (vae && kind != TS_MODEL_TOPOVAE)
      return ts_cli_usage_error("train", "--task vae trains --model topovae, not '%s'", model);
    if (!vae && (kind < 0 || kind == TS_MODEL_TOPOVAE))
      return ts_cli_usage_error("train", "--model must be lenet5, resnet18/34/50, mlp, resnet20/32/56/110, vgg11, "
                                "vgg16 or lenet-dnn, not '%s'%s",
                                model, kind == TS_MODEL_TOPOVAE ? " (topovae is for --task vae)" : "");
    if (task) {
      if (strcmp(task, "classify") && strcmp(task, "ph") && strcmp(task, "simultaneous") && !vae)
        return ts_cli_usage_error("train", "--task must be classify, ph, simultaneous or vae, not '%s'", task);
      snprintf(cfg.obj.task, sizeof cfg.obj.task, "%s", task);
    }
    if (!vae && (have_topow || topo_deg >= 0 || topo_on || latent > 0 || lockstep))
      return ts_cli_usage_error("train", "--topo-weights, --topo-deg, --topo-on, --latent and --lockstep are for --task vae");
    if (vae) {
      memcpy(cfg.obj.topo_weights, topow, sizeof topow);
      if (topo_deg >= 0) cfg.obj.topo_deg = (int)topo_deg;
      if (topo_on && strcmp(topo_on, "output") && strcmp(topo_on, "latent"))
        return ts_cli_usage_error("train", "--topo-on must be output or latent, not '%s'", topo_on);
      cfg.obj.topo_on_latent = topo_on && strcmp(topo_on, "latent") == 0;
      cfg.obj.lockstep = lockstep;
      /* the BCE compares with the pixels in [0, 1] */
      if (norm_given && strcmp(norm_given, "none") != 0)
        return ts_cli_usage_error("train", "--task vae reconstructs pixels in [0, 1]: --normalize none only");
      norm = "none";
      /* Topo-GEN's settings unless asked otherwise */
      if (!opt) opt = "adam";
      if (lr < 0 && strcmp(opt, "adam") == 0) lr = 5e-4;
      if (batch < 0) batch = 128;
    }
    if (lnorm) {
      int k = ts_label_norm_from_name(lnorm);
      if (k < 0) return ts_cli_usage_error("train", "--label-norm must be zscore or none, not '%s'", lnorm);
      cfg.obj.label_norm = (TsLabelNorm)k;
    }
    if (phw >= 0) {
      if (strcmp(cfg.obj.task, "simultaneous") != 0)
        return ts_cli_usage_error("train", "--ph-weight is for --task simultaneous");
      cfg.obj.ph_weight = (float)phw;
    }
    cfg.model = ts_model_config_default((TsModelKind)kind);
    cfg.model.small_stem = stem;
    if (latent > 0) {
      if (kind != TS_MODEL_TOPOVAE) return ts_cli_usage_error("train", "--latent is for --model topovae");
      cfg.model.latent = (int)latent;
    }
    if (init && !model) {
      /* The architecture of the checkpoint to fine-tune (its head aside). */
      TsSafetensors ist = {0};
      TsAugment inorm;
      if (ts_safetensors_read(init, &ist, &err) ||
          ts_checkpoint_model_config(&ist, NULL, 0, 0, &cfg.model, &inorm, &err)) {
        ts_safetensors_clear(&ist);
        return ts_cli_fail("train", &err);
      }
      ts_safetensors_clear(&ist);
      if (stem) cfg.model.small_stem = 1;
    }
    cfg.model.in_channels = cfg.model.in_h = cfg.model.in_w = cfg.model.num_outputs = 0;
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
    cfg.sync_bn = sync_bn;
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
    cfg.per_class = per_class > 0 ? per_class : 0;
    cfg.subset_seed = subset_seed;
    if (init) snprintf(cfg.init, sizeof cfg.init, "%s", init);
    if (freeze) {
      if (strcmp(freeze, "backbone") && strcmp(freeze, "none"))
        return ts_cli_usage_error("train", "--freeze must be backbone or none, not '%s'", freeze);
      cfg.freeze_backbone = strcmp(freeze, "backbone") == 0;
    }
    if (gen_len && strncmp(data, "generate:", 9) != 0)
      return ts_cli_usage_error("train", "the generation and label options are for --data generate:SIZE");
    if (snprintf(cfg.data, sizeof cfg.data, "%s%s", data, gen_keys) >= (int)sizeof cfg.data)
      return ts_cli_usage_error("train", "--data: too long");
    if (val) snprintf(cfg.val_data, sizeof cfg.val_data, "%s", val);
    else if (ts_dataset_has_split(data, TS_SPLIT_TEST)) snprintf(cfg.val_data, sizeof cfg.val_data, "%s", cfg.data);
    if (save) snprintf(cfg.save_path, sizeof cfg.save_path, "%s", save);
  }
  if (vlimit > 0) cfg.val_limit = vlimit;
  if (lthreads >= 0) cfg.loader_threads = (int)lthreads;
  cfg.device = ordinal + 1;
  cfg.tf32 = tf32;
  if (strcmp(cfg.val_data, "none") == 0) cfg.val_data[0] = '\0';

  TsDataset train = {0}, valds = {0};
  if ((rc = load_data("train", cfg.data, TS_SPLIT_TRAIN, cfg.limit, cfg.per_class, cfg.subset_seed, &train))) {
    ts_safetensors_clear(&ck);
    return rc;
  }
  /* The validation set is the test split of its spec, unless it is another
   * spec that only has a training split (idx:, a plain folder). */
  if (cfg.val_data[0]) {
    TsSplit sp = ts_dataset_has_split(cfg.val_data, TS_SPLIT_TEST) ? TS_SPLIT_TEST : TS_SPLIT_TRAIN;
    if ((rc = load_data("train", cfg.val_data, sp, cfg.val_limit, 0, 0, &valds))) {
      ts_dataset_clear(&train);
      ts_safetensors_clear(&ck);
      return rc;
    }
  }
  if (!have_ck && norm && (rc = auto_normalize(&train, &cfg.aug))) {
    ts_dataset_clear(&train);
    ts_dataset_clear(&valds);
    return rc;
  }
  /* generate: the recipe with every key, so the checkpoint (and --resume) has it all */
  if (!have_ck && strncmp(cfg.data, "generate:", 9) == 0) {
    snprintf(cfg.data, sizeof cfg.data, "%s", train.source);
    if (strncmp(cfg.val_data, "generate:", 9) == 0) snprintf(cfg.val_data, sizeof cfg.val_data, "%s", valds.source);
  }

  TsStore *store = NULL;
  ts_cli_install_stop_handlers();
  ts_dist_set_stop_flag(ts_cli_stop_flag()); /* a wait for a dead rank ends on SIGTERM */
  if (ts_dist_rank() != 0) quiet = 1; /* rank 0 alone reports and writes */
  if (ts_dist_rank() == 0 && (rc = ts_cli_open_store("train", store_path, TS_STORE_WRITE, &store))) {
    ts_dataset_clear(&train);
    ts_dataset_clear(&valds);
    ts_safetensors_clear(&ck);
    return rc;
  }
  char run_name[128];
  if (name) snprintf(run_name, sizeof run_name, "%s", name);
  else snprintf(run_name, sizeof run_name, "%s on %.100s", ts_model_kind_name(cfg.model.kind), cfg.data);
  Group group = {.experiment = experiment, .parent = parent, .cell = cell};
  if (pretrain_data) {
    /* --combined: the pretraining is a run of its own; the fine-tuning
     * starts from its checkpoint and points at it. */
    TsTrainConfig pc = cfg;
    snprintf(pc.obj.task, sizeof pc.obj.task, "%s", pretrain_task ? pretrain_task : "ph");
    snprintf(pc.data, sizeof pc.data, "%s", pretrain_data);
    snprintf(pc.val_data, sizeof pc.val_data, "%s", pretrain_val ? pretrain_val : "");
    if (pretrain_epochs >= 0) pc.epochs = (int)pretrain_epochs;
    pc.per_class = 0;
    pc.limit = pc.val_limit = 0;
    pc.init[0] = '\0';
    pc.freeze_backbone = 0;
    pc.model.num_outputs = 0;
    if (cfg.save_path[0]) snprintf(pc.save_path, sizeof pc.save_path, "%.4000s.pretrain", cfg.save_path);
    TsDataset ptrain = {0}, pval = {0};
    int64_t prun = 0;
    rc = load_data("train", pc.data, TS_SPLIT_TRAIN, 0, 0, 0, &ptrain);
    if (!rc && pc.val_data[0]) rc = load_data("train", pc.val_data, TS_SPLIT_TRAIN, 0, 0, 0, &pval);
    if (!rc) {
      if (norm) rc = auto_normalize(&ptrain, &pc.aug);
      char pname[160];
      snprintf(pname, sizeof pname, "pretrain (%s): %.100s", pc.obj.task, run_name);
      Group pg = {.experiment = experiment, .run_id_out = &prun}; /* in the experiment, at no cell */
      if (!quiet) fprintf(stdout, "pretraining (%s) on %s\n", pc.obj.task, pc.data);
      if (!rc) rc = train_run(&pc, &ptrain, pc.val_data[0] ? &pval : NULL, NULL, store, pname, threads, quiet, stdout, &pg);
    }
    ts_dataset_clear(&ptrain);
    ts_dataset_clear(&pval);
    if (!rc && !pc.save_path[0]) rc = ts_cli_failf("train", "--combined: the pretraining wrote no checkpoint");
    if (rc) {
      ts_store_close(store);
      ts_dataset_clear(&train);
      ts_dataset_clear(&valds);
      return rc;
    }
    snprintf(cfg.init, sizeof cfg.init, "%s", pc.save_path);
    group.parent = prun;
    if (!quiet) fprintf(stdout, "fine-tuning (%s) on %s\n", cfg.obj.task, cfg.data);
  }
  rc = train_run(&cfg, &train, cfg.val_data[0] ? &valds : NULL, have_ck ? &ck : NULL, store, run_name, threads,
                 quiet, stdout, &group);
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

/* The demo's training data: the first n_train / n_val FashionMNIST images
 * (cfg's data and limits say so), or, where the dataset is not installed,
 * generated bars (cfg->limit stays 0). Prints its error and returns 1. */
static int demo_data(TsTrainConfig *cfg, TsDataset *train, TsDataset *val, int64_t n_train, int64_t n_val,
                     int64_t bars_train, int64_t bars_val) {
  TsError err = {0};
  if (ts_dataset_open("fashion-mnist", TS_SPLIT_TRAIN, NULL, train, &err) == TS_OK &&
      ts_dataset_open("fashion-mnist", TS_SPLIT_TEST, NULL, val, &err) == TS_OK) {
    ts_dataset_truncate(train, n_train);
    ts_dataset_truncate(val, n_val);
    snprintf(cfg->data, sizeof cfg->data, "fashion-mnist");
    cfg->limit = n_train;
    cfg->val_limit = n_val;
    return 0;
  }
  ts_dataset_clear(train);
  if (make_bars(train, bars_train, 1) || make_bars(val, bars_val, 2)) {
    ts_dataset_clear(train);
    fprintf(stderr, "toposcope: demo: out of memory\n");
    return 1;
  }
  snprintf(cfg->data, sizeof cfg->data, "generated");
  return 0;
}

/* The store the demo records into: its own, or one opened from its path
 * (*own = 1: the caller closes it); NULL when neither can be had. */
static TsStore *demo_store(TsDemo *demo, int *own) {
  TsStore *store = demo->store;
  TsError err = {0};
  *own = 0;
  if (!store && demo->store_path) {
    if (ts_store_open(demo->store_path, TS_STORE_WRITE, &store, &err) != TS_OK) store = NULL;
    else *own = 1;
  }
  return store;
}

int ts_demo_train(TsDemo *demo) {
  FILE *out = demo->out;
  TsDataset train = {0}, val = {0};
  TsTrainConfig cfg = ts_train_config_default();
  if (demo_data(&cfg, &train, &val, 600, 200, 400, 100)) return 1;
  fprintf(out, cfg.limit ? "   LeNet-5 on 600 FashionMNIST images (200 to validate), 4 epochs of Adam\n"
                         : "   FashionMNIST is not installed: LeNet-5 on 400 generated 28x28 images of bars, 4 epochs of Adam\n");
  cfg.epochs = 4;
  cfg.batch = 32;
  cfg.optim = ts_optim_config_default(TS_OPTIM_ADAM, 0.002f);
  cfg.loader_threads = 1;
  if (auto_normalize(&train, &cfg.aug)) {
    ts_dataset_clear(&train);
    ts_dataset_clear(&val);
    return 1;
  }
  snprintf(cfg.save_path, sizeof cfg.save_path, "%s/lenet5.safetensors", demo->workdir);
  int own_store = 0;
  TsStore *store = demo_store(demo, &own_store);
  int rc = train_run(&cfg, &train, &val, NULL, store, "demo: lenet5", demo->threads, 0, out, NULL);
  if (own_store) ts_store_close(store);
  ts_dataset_clear(&train);
  ts_dataset_clear(&val);
  return rc == 0 ? 0 : 1;
}

/* The demo's TopoVAE: a few lockstep steps (TopoVAE beside a plain VAE). */
int ts_demo_topovae(TsDemo *demo) {
  FILE *out = demo->out;
  TsDataset train = {0}, val = {0};
  TsTrainConfig cfg = ts_train_config_default();
  if (demo_data(&cfg, &train, &val, 384, 128, 384, 128)) return 1;
  fprintf(out, cfg.limit ? "   TopoVAE (weights 10,10,10,10,0,0,0) beside a plain VAE, lockstep, on 384 FashionMNIST images (3 steps)\n"
                         : "   FashionMNIST is not installed: TopoVAE beside a plain VAE on 384 generated 28x28 images\n");
  cfg.model = ts_model_config_default(TS_MODEL_TOPOVAE);
  cfg.model.in_channels = cfg.model.in_h = cfg.model.in_w = cfg.model.num_outputs = 0;
  snprintf(cfg.obj.task, sizeof cfg.obj.task, "vae");
  const double w[7] = {10, 10, 10, 10, 0, 0, 0};
  memcpy(cfg.obj.topo_weights, w, sizeof w);
  cfg.obj.lockstep = 1;
  cfg.epochs = 1;
  cfg.batch = 128;
  cfg.optim = ts_optim_config_default(TS_OPTIM_ADAM, 5e-4f);
  cfg.loader_threads = 1;
  snprintf(cfg.save_path, sizeof cfg.save_path, "%s/topovae.safetensors", demo->workdir);
  int own_store = 0;
  TsStore *store = demo_store(demo, &own_store);
  int saved = vae_latent_points;
  vae_latent_points = 128;
  int rc = train_run(&cfg, &train, &val, NULL, store, "demo: topovae lockstep", demo->threads, 0, out, NULL);
  vae_latent_points = saved;
  if (own_store) ts_store_close(store);
  ts_dataset_clear(&train);
  ts_dataset_clear(&val);
  return rc == 0 ? 0 : 1;
}

/* The demo's pretrain -> fine-tune step: LeNet-5 regresses the PH labels of
 * 256 generated 28x28 pictures (generate:, made on the fly), then two
 * fine-tunings on the same 100 training images, from scratch and from the
 * pretrained weights, and a two-row table of their validation accuracy. */
int ts_demo_pretrain(TsDemo *demo) {
  FILE *out = demo->out;
  TsDataset gen = {0}, genval = {0}, train = {0}, val = {0};
  TsError err = {0};
  const char *spec = "generate:28,count=256,val=64,pc=0,dims=32,seed=7";
  if (ts_dataset_open(spec, TS_SPLIT_TRAIN, NULL, &gen, &err) ||
      ts_dataset_open(spec, TS_SPLIT_TEST, NULL, &genval, &err)) {
    fprintf(stderr, "toposcope: demo: %s\n", err.message);
    return 1;
  }
  int fashion = ts_dataset_open("fashion-mnist", TS_SPLIT_TRAIN, NULL, &train, &err) == TS_OK &&
                ts_dataset_open("fashion-mnist", TS_SPLIT_TEST, NULL, &val, &err) == TS_OK;
  int rc = 0;
  if (fashion) {
    rc = ts_dataset_per_class(&train, 10, 0, &err) ? 1 : 0;
    ts_dataset_truncate(&val, 500);
  } else {
    ts_dataset_clear(&train);
    rc = make_bars(&train, 100, 3) || make_bars(&val, 200, 4);
  }
  TsTrainConfig pc = ts_train_config_default();
  snprintf(pc.obj.task, sizeof pc.obj.task, "ph");
  snprintf(pc.data, sizeof pc.data, "%s", gen.source);
  snprintf(pc.val_data, sizeof pc.val_data, "%s", genval.source);
  pc.epochs = 2;
  pc.batch = 32;
  pc.optim = ts_optim_config_default(TS_OPTIM_ADAM, 0.002f);
  snprintf(pc.save_path, sizeof pc.save_path, "%s/pretrain-ph.safetensors", demo->workdir);
  if (!rc) rc = auto_normalize(&gen, &pc.aug);
  int own_store = 0;
  TsStore *store = demo_store(demo, &own_store);
  double acc[2] = {NAN, NAN};
  int64_t pre_run = 0;
  if (!rc) {
    fprintf(out, "   pretrain: LeNet-5 regresses the PH labels (32 values) of 256 generated pictures, 2 epochs\n");
    Group g = {.run_id_out = &pre_run};
    rc = train_run(&pc, &gen, &genval, NULL, store, "demo: pretrain (ph)", demo->threads, 1, out, &g);
  }
  for (int k = 0; k < 2 && !rc; k++) {
    TsTrainConfig fc = ts_train_config_default();
    snprintf(fc.data, sizeof fc.data, "%s", fashion ? "fashion-mnist" : "generated bars");
    fc.per_class = fashion ? 10 : 0;
    fc.epochs = 4;
    fc.batch = 20;
    fc.optim = ts_optim_config_default(TS_OPTIM_ADAM, 0.002f);
    if ((rc = auto_normalize(&train, &fc.aug))) break;
    if (k) snprintf(fc.init, sizeof fc.init, "%s", pc.save_path);
    snprintf(fc.save_path, sizeof fc.save_path, "%s/finetune-%s.safetensors", demo->workdir, k ? "ph" : "scratch");
    Group g = {.parent = k ? pre_run : 0, .val_acc_out = &acc[k]};
    rc = train_run(&fc, &train, &val, NULL, store, k ? "demo: fine-tune (PH-pretrained)" : "demo: fine-tune (scratch)",
                   demo->threads, 1, out, &g);
  }
  if (!rc) {
    fprintf(out, "   fine-tune on %lld %s images, 4 epochs:\n", (long long)train.count,
            fashion ? "FashionMNIST (10 per class)" : "generated bar");
    fprintf(out, "     init             val accuracy\n");
    fprintf(out, "     scratch          %6.2f%%\n", 100 * acc[0]);
    fprintf(out, "     PH-pretrained    %6.2f%%\n", 100 * acc[1]);
    fprintf(out, "   (one seed on 100 images: either row may win; toposcope experiment measures it properly)\n");
  }
  if (own_store) ts_store_close(store);
  ts_dataset_clear(&gen);
  ts_dataset_clear(&genval);
  ts_dataset_clear(&train);
  ts_dataset_clear(&val);
  return rc == 0 ? 0 : 1;
}
