#include "run/train.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "data/loader.h"
#include "nn/loss.h"

/* Salt for the per-step randomness (dropout): distinct from the loader's. */
#define SALT_STEP 0x73746570736565ull

struct TsTrainer {
  TsTrainConfig cfg;
  const TsDataset *train, *val;
  TsPool *pool;
  TsNnCtx ctx;
  TsModel *model;
  TsOptim *optim;
  TsSchedule sched;
  TsLoader *loader;
  TsTrainPos pos;
};

TsTrainConfig ts_train_config_default(void) {
  TsTrainConfig c;
  memset(&c, 0, sizeof c);
  c.model = ts_model_config_default(TS_MODEL_LENET5);
  c.model.in_channels = c.model.in_h = c.model.in_w = c.model.num_outputs = 0;
  c.optim = ts_optim_config_default(TS_OPTIM_SGD, 0.01f);
  c.optim.momentum = 0.9f;
  snprintf(c.schedule, sizeof c.schedule, "constant");
  c.epochs = 10;
  c.batch = 64;
  c.loader_threads = 1;
  for (int k = 0; k < 4; k++) c.aug.std[k] = 1.0f;
  return c;
}

TsModel *ts_trainer_model(TsTrainer *t) { return t->model; }
const TsTrainPos *ts_trainer_pos(const TsTrainer *t) { return &t->pos; }
const TsTrainConfig *ts_trainer_config(const TsTrainer *t) { return &t->cfg; }

void ts_trainer_set_save_path(TsTrainer *t, const char *path) {
  snprintf(t->cfg.save_path, sizeof t->cfg.save_path, "%s", path ? path : "");
}

void ts_trainer_free(TsTrainer *t) {
  if (!t) return;
  ts_loader_free(t->loader);
  ts_optim_free(t->optim);
  ts_model_free(t->model);
  free(t);
}

TsTrainer *ts_trainer_new(const TsTrainConfig *cfg, const TsDataset *train, const TsDataset *val, TsPool *pool,
                          TsError *err) {
  if (cfg->epochs < 0 || cfg->batch < 1) {
    ts_error_set(err, TS_ERR_INVALID, "train: %d epochs of batch %d", cfg->epochs, cfg->batch);
    return NULL;
  }
  TsTrainer *t = calloc(1, sizeof *t);
  if (!t) {
    ts_error_set(err, TS_ERR_NOMEM, "trainer");
    return NULL;
  }
  t->cfg = *cfg;
  t->train = train;
  t->val = val;
  t->pool = pool;
  ts_nn_ctx_init(&t->ctx, pool, cfg->deterministic);
  TsModelConfig *mc = &t->cfg.model;
  if (train->targets || (val && val->targets)) {
    ts_error_set(err, TS_ERR_UNSUPPORTED, "%s holds regression targets (PH labels), not classes: this trains classifiers",
                 train->targets ? train->source : val->source);
    goto fail;
  }
  int oh, ow;
  ts_augment_out_size(&cfg->aug, train->height, train->width, &oh, &ow);
  if (!mc->in_channels) mc->in_channels = train->channels;
  if (!mc->in_h) mc->in_h = oh;
  if (!mc->in_w) mc->in_w = ow;
  if (!mc->num_outputs) mc->num_outputs = train->num_classes;
  if (mc->in_channels != train->channels || mc->in_h != oh || mc->in_w != ow) {
    ts_error_set(err, TS_ERR_INVALID, "%s: images of %d x %d x %d, the model takes %d x %d x %d", train->source,
                 train->channels, oh, ow, mc->in_channels, mc->in_h, mc->in_w);
    goto fail;
  }
  if (train->num_classes > mc->num_outputs) {
    ts_error_set(err, TS_ERR_INVALID, "%s has %d classes, the model %d outputs", train->source, train->num_classes,
                 mc->num_outputs);
    goto fail;
  }
  if (val) {
    int vh, vw;
    ts_augment_out_size(&cfg->aug, val->height, val->width, &vh, &vw);
    if (val->channels != mc->in_channels || vh != oh || vw != ow) {
      ts_error_set(err, TS_ERR_INVALID, "validation set %s: images of %d x %d x %d, training images %d x %d x %d",
                   val->source, val->channels, vh, vw, mc->in_channels, oh, ow);
      goto fail;
    }
  }
  if (ts_schedule_parse(cfg->schedule, &t->sched, err) != TS_OK) goto fail;
  t->sched.base_lr = cfg->optim.lr;
  if (!(t->model = ts_model_new(mc, cfg->batch, cfg->seed, err))) goto fail;
  size_t n;
  const TsNamedTensor *tensors = ts_model_tensors(t->model, &n);
  if (!(t->optim = ts_optim_new(&cfg->optim, tensors, n, err))) goto fail;
  TsLoaderConfig lc = {.batch = cfg->batch,
                       .shuffle = 1,
                       .drop_last = 0,
                       .seed = cfg->seed,
                       .workers = cfg->loader_threads,
                       .prefetch = 4,
                       .augment = cfg->augment,
                       .aug = cfg->aug};
  /* A last batch of one sample cannot train batch norm (PyTorch refuses it
   * too): drop it. */
  lc.drop_last = train->count > cfg->batch && train->count % cfg->batch == 1;
  if (ts_loader_new(train, &lc, &t->loader, err) != TS_OK) goto fail;
  return t;
fail:
  ts_trainer_free(t);
  return NULL;
}

/* ---- checkpoint metadata ---------------------------------------------- */

static TsStatus meta_f(TsStWriter *w, const char *key, const char *fmt, double v, TsError *err) {
  char buf[64];
  snprintf(buf, sizeof buf, fmt, v);
  return ts_st_writer_meta(w, key, buf, err);
}

static TsStatus meta_i(TsStWriter *w, const char *key, int64_t v, TsError *err) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRId64, v);
  return ts_st_writer_meta(w, key, buf, err);
}

static TsStatus meta_floats(TsStWriter *w, const char *key, const float *v, int n, TsError *err) {
  char buf[256];
  size_t k = 0;
  for (int i = 0; i < n; i++) k += (size_t)snprintf(buf + k, sizeof buf - k, i ? ",%.9g" : "%.9g", (double)v[i]);
  return ts_st_writer_meta(w, key, buf, err);
}

static TsStatus write_model_meta(TsStWriter *w, const TsModelConfig *m, TsError *err) {
  TsStatus s = ts_st_writer_meta(w, "format", TS_CHECKPOINT_FORMAT, err);
  if (!s) s = ts_st_writer_meta(w, "model", ts_model_kind_name(m->kind), err);
  if (!s) s = meta_i(w, "model.in_channels", m->in_channels, err);
  if (!s) s = meta_i(w, "model.in_h", m->in_h, err);
  if (!s) s = meta_i(w, "model.in_w", m->in_w, err);
  if (!s) s = meta_i(w, "model.num_outputs", m->num_outputs, err);
  if (!s) s = meta_i(w, "model.small_stem", m->small_stem, err);
  if (!s) s = meta_f(w, "model.width", "%.9g", m->width, err);
  if (!s) s = meta_i(w, "model.latent", m->latent, err);
  if (!s) {
    char buf[128] = "";
    size_t k = 0;
    for (int i = 0; i < m->n_hidden && i < TS_MLP_MAX_HIDDEN; i++)
      k += (size_t)snprintf(buf + k, sizeof buf - k, i ? ",%d" : "%d", m->hidden[i]);
    s = ts_st_writer_meta(w, "model.hidden", buf, err);
  }
  return s;
}

TsStatus ts_trainer_save(TsTrainer *t, const char *path, int64_t run_id, TsError *err) {
  TsStWriter *w = ts_st_writer_new(err);
  if (!w) return TS_ERR_NOMEM;
  const TsTrainConfig *c = &t->cfg;
  size_t n, no;
  const TsNamedTensor *mt = ts_model_tensors(t->model, &n);
  const TsNamedTensor *ot = ts_optim_state(t->optim, &no);
  TsStatus s = ts_st_writer_add_named(w, NULL, mt, n, err);
  if (!s) s = ts_st_writer_add_named(w, "optim.", ot, no, err);
  if (!s) s = write_model_meta(w, &c->model, err);
  if (!s) s = ts_st_writer_meta(w, "train.optimizer", ts_optim_kind_name(c->optim.kind), err);
  if (!s) s = meta_f(w, "train.lr", "%.9g", c->optim.lr, err);
  if (!s) s = meta_f(w, "train.weight_decay", "%.9g", c->optim.weight_decay, err);
  if (!s) s = meta_f(w, "train.momentum", "%.9g", c->optim.momentum, err);
  if (!s) s = meta_f(w, "train.dampening", "%.9g", c->optim.dampening, err);
  if (!s) s = meta_i(w, "train.nesterov", c->optim.nesterov, err);
  if (!s) s = meta_f(w, "train.beta1", "%.9g", c->optim.beta1, err);
  if (!s) s = meta_f(w, "train.beta2", "%.9g", c->optim.beta2, err);
  if (!s) s = meta_f(w, "train.eps", "%.9g", c->optim.eps, err);
  if (!s) s = ts_st_writer_meta(w, "train.schedule", c->schedule, err);
  if (!s) s = meta_i(w, "train.epochs", c->epochs, err);
  if (!s) s = meta_i(w, "train.batch", c->batch, err);
  if (!s) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, c->seed);
    s = ts_st_writer_meta(w, "train.seed", buf, err);
  }
  if (!s) s = meta_i(w, "train.deterministic", c->deterministic, err);
  if (!s) s = meta_i(w, "train.augment", c->augment, err);
  if (!s) s = meta_i(w, "train.crop_pad", c->aug.crop_pad, err);
  if (!s) s = meta_i(w, "train.hflip", c->aug.hflip, err);
  if (!s) s = meta_i(w, "data.resize_h", c->aug.resize_h, err);
  if (!s) s = meta_i(w, "data.resize_w", c->aug.resize_w, err);
  if (!s) s = meta_floats(w, "data.mean", c->aug.mean, 4, err);
  if (!s) s = meta_floats(w, "data.std", c->aug.std, 4, err);
  if (!s) s = ts_st_writer_meta(w, "data.train", c->data, err);
  if (!s) s = ts_st_writer_meta(w, "data.val", c->val_data, err);
  if (!s) s = meta_i(w, "data.limit", c->limit, err);
  if (!s) s = meta_i(w, "data.val_limit", c->val_limit, err);
  if (!s && t->train->class_names) {
    TsJson j;
    ts_json_init(&j);
    ts_json_array_begin(&j);
    for (int i = 0; i < t->train->num_classes; i++) ts_json_string(&j, t->train->class_names[i]);
    ts_json_array_end(&j);
    s = ts_json_text(&j) ? ts_st_writer_meta(w, "data.classes", ts_json_text(&j), err)
                         : ts_error_set(err, TS_ERR_NOMEM, "class names");
    ts_json_clear(&j);
  }
  if (!s) s = meta_i(w, "pos.epoch", t->pos.epoch, err);
  if (!s) s = meta_i(w, "pos.batch", t->pos.batch, err);
  if (!s) s = meta_i(w, "pos.global_step", t->pos.global_step, err);
  if (!s) s = meta_f(w, "pos.loss_sum", "%.17g", t->pos.loss_sum, err);
  if (!s) s = meta_i(w, "pos.correct", t->pos.correct, err);
  if (!s) s = meta_i(w, "pos.seen", t->pos.seen, err);
  if (!s) s = meta_i(w, "store.run_id", run_id, err);
  if (!s) s = ts_st_writer_write(w, path, err);
  ts_st_writer_free(w);
  return s;
}

/* Typed metadata lookups; errors name the file and the key. */
static TsStatus get_str(const TsSafetensors *st, const char *key, const char **out, TsError *err) {
  *out = ts_safetensors_meta(st, key);
  if (!*out) return ts_error_set(err, TS_ERR_FORMAT, "'%s': checkpoint metadata has no '%s'", st->path, key);
  return TS_OK;
}

static TsStatus get_i64(const TsSafetensors *st, const char *key, int64_t *out, TsError *err) {
  const char *v;
  TsStatus s = get_str(st, key, &v, err);
  if (s) return s;
  char *end;
  long long x = strtoll(v, &end, 10);
  if (end == v || *end) return ts_error_set(err, TS_ERR_FORMAT, "'%s': metadata '%s' = '%s' is not an integer", st->path, key, v);
  *out = x;
  return TS_OK;
}

static TsStatus get_int(const TsSafetensors *st, const char *key, int *out, TsError *err) {
  int64_t v = 0;
  TsStatus s = get_i64(st, key, &v, err);
  if (s) return s;
  if (v < INT32_MIN || v > INT32_MAX) return ts_error_set(err, TS_ERR_FORMAT, "'%s': metadata '%s' out of range", st->path, key);
  *out = (int)v;
  return TS_OK;
}

static TsStatus get_double(const TsSafetensors *st, const char *key, double *out, TsError *err) {
  const char *v;
  TsStatus s = get_str(st, key, &v, err);
  if (s) return s;
  char *end;
  *out = strtod(v, &end);
  if (end == v || *end) return ts_error_set(err, TS_ERR_FORMAT, "'%s': metadata '%s' = '%s' is not a number", st->path, key, v);
  return TS_OK;
}

static TsStatus get_float(const TsSafetensors *st, const char *key, float *out, TsError *err) {
  double d = 0;
  TsStatus s = get_double(st, key, &d, err);
  if (!s) *out = (float)d;
  return s;
}

static TsStatus get_floats(const TsSafetensors *st, const char *key, float *out, int n, TsError *err) {
  const char *v;
  TsStatus s = get_str(st, key, &v, err);
  if (s) return s;
  for (int i = 0; i < n; i++) {
    char *end;
    out[i] = strtof(v, &end);
    if (end == v || (i + 1 < n ? *end != ',' : *end != '\0'))
      return ts_error_set(err, TS_ERR_FORMAT, "'%s': metadata '%s' is not %d numbers", st->path, key, n);
    v = end + 1;
  }
  return TS_OK;
}

static void copy_str(char *dst, size_t n, const char *src) {
  size_t len = strlen(src);
  if (len >= n) len = n - 1;
  memcpy(dst, src, len);
  dst[len] = '\0';
}

static TsStatus model_config_from_meta(const TsSafetensors *st, TsModelConfig *m, TsError *err) {
  const char *kind;
  TsStatus s = get_str(st, "model", &kind, err);
  if (s) return s;
  int k = ts_model_kind_from_name(kind);
  if (k < 0) return ts_error_set(err, TS_ERR_FORMAT, "'%s': unknown model '%s'", st->path, kind);
  *m = ts_model_config_default((TsModelKind)k);
  const char *hidden = NULL;
  if (!s) s = get_int(st, "model.in_channels", &m->in_channels, err);
  if (!s) s = get_int(st, "model.in_h", &m->in_h, err);
  if (!s) s = get_int(st, "model.in_w", &m->in_w, err);
  if (!s) s = get_int(st, "model.num_outputs", &m->num_outputs, err);
  if (!s) s = get_int(st, "model.small_stem", &m->small_stem, err);
  if (!s) s = get_float(st, "model.width", &m->width, err);
  if (!s) s = get_int(st, "model.latent", &m->latent, err);
  if (!s) s = get_str(st, "model.hidden", &hidden, err);
  if (!s) {
    m->n_hidden = 0;
    const char *p = hidden;
    while (*p && m->n_hidden < TS_MLP_MAX_HIDDEN) {
      char *end;
      long v = strtol(p, &end, 10);
      if (end == p || v < 1 || v > 1 << 20) return ts_error_set(err, TS_ERR_FORMAT, "'%s': bad model.hidden '%s'", st->path, hidden);
      m->hidden[m->n_hidden++] = (int)v;
      p = *end == ',' ? end + 1 : end;
      if (*end && *end != ',') return ts_error_set(err, TS_ERR_FORMAT, "'%s': bad model.hidden '%s'", st->path, hidden);
    }
  }
  return s;
}

TsStatus ts_train_config_from_checkpoint(const TsSafetensors *st, TsTrainConfig *c, TsError *err) {
  const char *fmt = ts_safetensors_meta(st, "format");
  if (!fmt || strcmp(fmt, TS_CHECKPOINT_FORMAT) != 0)
    return ts_error_set(err, TS_ERR_FORMAT, "'%s' is not a Toposcope training checkpoint (no format '%s')", st->path,
                        TS_CHECKPOINT_FORMAT);
  *c = ts_train_config_default();
  TsStatus s = model_config_from_meta(st, &c->model, err);
  const char *v;
  if (!s) s = get_str(st, "train.optimizer", &v, err);
  if (!s) {
    int k = ts_optim_kind_from_name(v);
    if (k < 0) return ts_error_set(err, TS_ERR_FORMAT, "'%s': unknown optimizer '%s'", st->path, v);
    c->optim = ts_optim_config_default((TsOptimKind)k, 0.01f);
  }
  if (!s) s = get_float(st, "train.lr", &c->optim.lr, err);
  if (!s) s = get_float(st, "train.weight_decay", &c->optim.weight_decay, err);
  if (!s) s = get_float(st, "train.momentum", &c->optim.momentum, err);
  if (!s) s = get_float(st, "train.dampening", &c->optim.dampening, err);
  if (!s) s = get_int(st, "train.nesterov", &c->optim.nesterov, err);
  if (!s) s = get_float(st, "train.beta1", &c->optim.beta1, err);
  if (!s) s = get_float(st, "train.beta2", &c->optim.beta2, err);
  if (!s) s = get_float(st, "train.eps", &c->optim.eps, err);
  if (!s) s = get_str(st, "train.schedule", &v, err);
  if (!s) copy_str(c->schedule, sizeof c->schedule, v);
  if (!s) s = get_int(st, "train.epochs", &c->epochs, err);
  if (!s) s = get_int(st, "train.batch", &c->batch, err);
  if (!s) s = get_str(st, "train.seed", &v, err);
  if (!s) {
    char *end;
    c->seed = strtoull(v, &end, 10);
    if (end == v || *end) return ts_error_set(err, TS_ERR_FORMAT, "'%s': bad train.seed '%s'", st->path, v);
  }
  if (!s) s = get_int(st, "train.deterministic", &c->deterministic, err);
  if (!s) s = get_int(st, "train.augment", &c->augment, err);
  if (!s) s = get_int(st, "train.crop_pad", &c->aug.crop_pad, err);
  if (!s) s = get_int(st, "train.hflip", &c->aug.hflip, err);
  if (!s) s = get_int(st, "data.resize_h", &c->aug.resize_h, err);
  if (!s) s = get_int(st, "data.resize_w", &c->aug.resize_w, err);
  if (!s) s = get_floats(st, "data.mean", c->aug.mean, 4, err);
  if (!s) s = get_floats(st, "data.std", c->aug.std, 4, err);
  if (!s) s = get_str(st, "data.train", &v, err);
  if (!s) copy_str(c->data, sizeof c->data, v);
  if (!s) s = get_str(st, "data.val", &v, err);
  if (!s) copy_str(c->val_data, sizeof c->val_data, v);
  if (!s) s = get_i64(st, "data.limit", &c->limit, err);
  if (!s) s = get_i64(st, "data.val_limit", &c->val_limit, err);
  if (!s && (c->batch < 1 || c->epochs < 0))
    s = ts_error_set(err, TS_ERR_FORMAT, "'%s': bad train.batch or train.epochs", st->path);
  return s;
}

TsStatus ts_trainer_load(TsTrainer *t, const TsSafetensors *st, TsError *err) {
  size_t n, no;
  const TsNamedTensor *mt = ts_model_tensors(t->model, &n);
  TsStatus s = ts_safetensors_load_all(st, NULL, mt, n, 1, err);
  const TsNamedTensor *ot = ts_optim_state(t->optim, &no);
  if (!s) s = ts_safetensors_load_all(st, "optim.", ot, no, 1, err);
  TsTrainPos p = {0};
  if (!s) s = get_i64(st, "pos.epoch", &p.epoch, err);
  if (!s) s = get_i64(st, "pos.batch", &p.batch, err);
  if (!s) s = get_i64(st, "pos.global_step", &p.global_step, err);
  if (!s) s = get_double(st, "pos.loss_sum", &p.loss_sum, err);
  if (!s) s = get_i64(st, "pos.correct", &p.correct, err);
  if (!s) s = get_i64(st, "pos.seen", &p.seen, err);
  if (!s && (p.epoch < 0 || p.batch < 0 || p.batch > ts_loader_batches(t->loader) || p.global_step < 0))
    s = ts_error_set(err, TS_ERR_FORMAT, "'%s': position epoch %lld batch %lld does not fit %lld batches per epoch",
                     st->path, (long long)p.epoch, (long long)p.batch, (long long)ts_loader_batches(t->loader));
  if (!s) t->pos = p;
  return s;
}

/* ---- the loop ----------------------------------------------------------- */

static uint64_t step_seed(uint64_t seed, int64_t step) {
  TsRng r;
  ts_rng_init(&r, seed ^ SALT_STEP, (uint64_t)step);
  return ts_rng_u64(&r);
}

void ts_eval_result_clear(TsEvalResult *r) {
  if (!r) return;
  free(r->confusion);
  free(r->logits);
  memset(r, 0, sizeof *r);
}

TsStatus ts_evaluate(TsModel *m, TsPool *pool, int deterministic, const TsDataset *ds, const TsAugment *aug,
                     int batch, int want_logits, volatile int *stop, TsEvalResult *res, TsError *err) {
  memset(res, 0, sizeof *res);
  const TsModelConfig *mc = ts_model_config(m);
  int c = mc->num_outputs;
  if (batch > ts_model_max_batch(m)) batch = ts_model_max_batch(m);
  int oh, ow;
  ts_augment_out_size(aug, ds->height, ds->width, &oh, &ow);
  if (ds->channels != mc->in_channels || oh != mc->in_h || ow != mc->in_w)
    return ts_error_set(err, TS_ERR_INVALID, "%s: images of %d x %d x %d, the model takes %d x %d x %d", ds->source,
                        ds->channels, oh, ow, mc->in_channels, mc->in_h, mc->in_w);
  for (int64_t i = 0; i < ds->count; i++)
    if (ds->labels[i] >= c)
      return ts_error_set(err, TS_ERR_INVALID, "%s: sample %lld has label %d, the model has %d outputs", ds->source,
                          (long long)i, ds->labels[i], c);
  TsNnCtx ctx;
  ts_nn_ctx_init(&ctx, pool, deterministic);
  TsLoaderConfig lc = {.batch = batch, .workers = 1, .prefetch = 2, .aug = *aug};
  TsLoader *l;
  TsStatus s = ts_loader_new(ds, &lc, &l, err);
  if (s) return s;
  res->num_classes = c;
  res->confusion = ts_calloc_array((size_t)c * (size_t)c, sizeof(int64_t), "confusion matrix", err);
  if (want_logits) res->logits = ts_alloc_array((size_t)ds->count * (size_t)c, sizeof(float), "logits", err);
  if (!res->confusion || (want_logits && !res->logits)) {
    ts_loader_free(l);
    ts_eval_result_clear(res);
    return TS_ERR_NOMEM;
  }
  ts_loader_begin_epoch(l, 0, 0, err);
  const TsBatch *b;
  double loss_sum = 0;
  int64_t correct = 0;
  while ((b = ts_loader_next(l))) {
    if (stop && *stop) {
      ts_loader_free(l);
      ts_eval_result_clear(res);
      return ts_error_set(err, TS_ERR_CANCELLED, "evaluation stopped");
    }
    ts_model_forward(m, &ctx, b->x, b->n, 0, 0);
    const TsTensor *out = ts_model_output(m, 0);
    loss_sum += ts_loss_cross_entropy(b->n, c, out->data, b->y, TS_REDUCE_SUM, 1.0f, NULL);
    for (int i = 0; i < b->n; i++) {
      const float *row = out->data + (size_t)i * (size_t)c;
      int best = 0;
      for (int k = 1; k < c; k++)
        if (row[k] > row[best]) best = k;
      correct += best == b->y[i];
      res->confusion[(size_t)b->y[i] * (size_t)c + (size_t)best]++;
      if (res->logits) memcpy(res->logits + (size_t)b->ids[i] * (size_t)c, row, sizeof(float) * (size_t)c);
    }
    res->count += b->n;
  }
  ts_loader_free(l);
  res->loss = loss_sum / (double)res->count;
  res->accuracy = (double)correct / (double)res->count;
  return TS_OK;
}

TsStatus ts_trainer_run(TsTrainer *t, TsStore *store, int64_t run_id, const TsTrainHooks *hooks,
                        volatile int *stop, TsError *err) {
  const TsTrainConfig *c = &t->cfg;
  TsModel *m = t->model;
  int classes = c->model.num_outputs;
  int64_t nb = ts_loader_batches(t->loader), total = (int64_t)c->epochs * nb;
  TsStatus s = TS_OK;
  TsTrainProgress pr = {.epochs = c->epochs, .batches = nb, .total_steps = total, .val_loss = NAN, .val_acc = NAN};
  for (; t->pos.epoch < c->epochs; t->pos.epoch++) {
    double lr = ts_schedule_lr(&t->sched, (int)t->pos.epoch);
    if ((s = ts_loader_begin_epoch(t->loader, t->pos.epoch, t->pos.batch, err))) return s;
    double t0 = ts_clock_monotonic();
    int64_t images = 0;
    if (store && (s = ts_store_metric(store, run_id, t->pos.global_step, t->pos.epoch, "lr", lr, err)))
      return s;
    const TsBatch *b;
    while ((b = ts_loader_next(t->loader))) {
      ts_model_zero_grad(m);
      ts_model_forward(m, &t->ctx, b->x, b->n, 1, step_seed(c->seed, t->pos.global_step));
      TsTensor *out = ts_model_output(m, 0);
      int correct = ts_count_correct(b->n, classes, out->data, b->y);
      double loss = ts_loss_cross_entropy(b->n, classes, out->data, b->y, TS_REDUCE_MEAN, 1.0f, out->grad);
      if (!isfinite(loss))
        return ts_error_set(err, TS_ERR_INVALID,
                            "the loss became %g at epoch %lld step %lld (learning rate %g too high?)", loss,
                            (long long)t->pos.epoch, (long long)t->pos.global_step, lr);
      ts_model_backward(m, &t->ctx);
      ts_optim_step(t->optim, &t->ctx, (float)lr);
      t->pos.batch++;
      t->pos.global_step++;
      t->pos.loss_sum += loss * b->n;
      t->pos.correct += correct;
      t->pos.seen += b->n;
      images += b->n;
      if (store) {
        s = ts_store_metric(store, run_id, t->pos.global_step, t->pos.epoch, "train/loss", loss, err);
        if (!s) s = ts_store_progress(store, run_id, t->pos.global_step, total, err);
        if (s) return s;
      }
      pr.epoch = t->pos.epoch;
      pr.batch = t->pos.batch;
      pr.global_step = t->pos.global_step;
      pr.loss = loss;
      pr.lr = lr;
      pr.train_loss = t->pos.loss_sum / (double)t->pos.seen;
      pr.train_acc = (double)t->pos.correct / (double)t->pos.seen;
      pr.images_per_s = (double)images / fmax(ts_clock_monotonic() - t0, 1e-9);
      if (hooks && hooks->on_step) hooks->on_step(hooks->user, &pr);
      if (stop && *stop && t->pos.batch < nb) {
        if (c->save_path[0]) {
          if ((s = ts_trainer_save(t, c->save_path, run_id, err))) return s;
          if (store) ts_store_artifact(store, run_id, "checkpoint", c->save_path, NULL);
        }
        return ts_error_set(err, TS_ERR_CANCELLED, "stopped at epoch %lld step %lld", (long long)t->pos.epoch,
                            (long long)t->pos.global_step);
      }
    }
    double elapsed = ts_clock_monotonic() - t0;
    pr.train_loss = t->pos.seen ? t->pos.loss_sum / (double)t->pos.seen : NAN;
    pr.train_acc = t->pos.seen ? (double)t->pos.correct / (double)t->pos.seen : NAN;
    pr.images_per_s = (double)images / fmax(elapsed, 1e-9);
    pr.val_loss = pr.val_acc = NAN;
    if (t->val) {
      TsEvalResult r;
      s = ts_evaluate(m, t->pool, c->deterministic, t->val, &c->aug, c->batch, 0, NULL, &r, err);
      if (s) return s;
      pr.val_loss = r.loss;
      pr.val_acc = r.accuracy;
      ts_eval_result_clear(&r);
    }
    if (store) {
      int64_t gs = t->pos.global_step, ep = t->pos.epoch;
      s = ts_store_metric(store, run_id, gs, ep, "train/epoch_loss", pr.train_loss, err);
      if (!s) s = ts_store_metric(store, run_id, gs, ep, "train/accuracy", pr.train_acc, err);
      if (!s && t->val) s = ts_store_metric(store, run_id, gs, ep, "val/loss", pr.val_loss, err);
      if (!s && t->val) s = ts_store_metric(store, run_id, gs, ep, "val/accuracy", pr.val_acc, err);
      if (!s) s = ts_store_metric(store, run_id, gs, ep, "images_per_s", pr.images_per_s, err);
      if (s) return s;
    }
    /* The epoch is done: the position moves to the start of the next. */
    t->pos.batch = 0;
    t->pos.loss_sum = 0;
    t->pos.correct = t->pos.seen = 0;
    int64_t done_epoch = t->pos.epoch;
    t->pos.epoch++;
    if (c->save_path[0]) {
      s = ts_trainer_save(t, c->save_path, run_id, err);
      if (!s && store) s = ts_store_artifact(store, run_id, "checkpoint", c->save_path, err);
    }
    t->pos.epoch--; /* the for loop increments it */
    if (s) return s;
    pr.epoch = done_epoch;
    if (hooks && hooks->on_epoch) hooks->on_epoch(hooks->user, &pr);
    if (store && (s = ts_store_flush(store, err))) return s;
    if (stop && *stop && t->pos.epoch + 1 < c->epochs) {
      t->pos.epoch++;
      return ts_error_set(err, TS_ERR_CANCELLED, "stopped after epoch %lld", (long long)done_epoch);
    }
  }
  return TS_OK;
}

/* ---- models from checkpoints -------------------------------------------- */

TsStatus ts_checkpoint_model_config(const TsSafetensors *st, const char *kind_name, int in_h, int in_w,
                                    TsModelConfig *cfg, TsAugment *norm, TsError *err) {
  memset(norm, 0, sizeof *norm);
  for (int k = 0; k < 4; k++) norm->std[k] = 1.0f;
  const char *fmt = ts_safetensors_meta(st, "format");
  if (fmt && strcmp(fmt, TS_CHECKPOINT_FORMAT) == 0 && !kind_name) {
    TsStatus s = model_config_from_meta(st, cfg, err);
    if (!s) s = get_floats(st, "data.mean", norm->mean, 4, err);
    if (!s) s = get_floats(st, "data.std", norm->std, 4, err);
    if (!s) s = get_int(st, "data.resize_h", &norm->resize_h, err);
    if (!s) s = get_int(st, "data.resize_w", &norm->resize_w, err);
    return s;
  }
  if (!kind_name)
    return ts_error_set(err, TS_ERR_INVALID, "'%s' has no Toposcope metadata: say which model it holds (--model)",
                        st->path);
  int kind = ts_model_kind_from_name(kind_name);
  if (kind < 0) return ts_error_set(err, TS_ERR_INVALID, "unknown model '%s'", kind_name);
  *cfg = ts_model_config_default((TsModelKind)kind);
  if (in_h > 0) cfg->in_h = in_h;
  if (in_w > 0) cfg->in_w = in_w;
  const char *first = NULL, *last = NULL;
  switch ((TsModelKind)kind) {
  case TS_MODEL_RESNET18:
  case TS_MODEL_RESNET34:
  case TS_MODEL_RESNET50: first = "conv1.weight"; last = "fc.weight"; break;
  case TS_MODEL_LENET5: first = "conv1.weight"; last = "fc3.weight"; break;
  case TS_MODEL_RESNET20:
  case TS_MODEL_RESNET32:
  case TS_MODEL_RESNET56:
  case TS_MODEL_RESNET110: first = "conv1.weight"; last = "fc.weight"; break;
  case TS_MODEL_VGG11:
  case TS_MODEL_VGG16: first = "features.0.weight"; last = "classifier.weight"; break;
  case TS_MODEL_LENET_DNN: first = "conv1.weight"; last = "fc2.weight"; break;
  case TS_MODEL_MLP: first = "fc1.weight"; break;
  case TS_MODEL_TOPOVAE: return TS_OK;
  }
  const TsStTensor *f = ts_safetensors_find(st, first);
  if (!f || f->ndim < 2)
    return ts_error_set(err, TS_ERR_FORMAT, "'%s': no tensor '%s' for a %s", st->path, first, kind_name);
  if (kind == TS_MODEL_MLP) {
    /* fc1 .. fcL: hidden sizes are the outputs of all but the last */
    int L = 0;
    char name[64];
    for (;;) {
      snprintf(name, sizeof name, "fc%d.weight", L + 1);
      const TsStTensor *x = ts_safetensors_find(st, name);
      if (!x || x->ndim != 2) break;
      if (L > 0 && L - 1 < TS_MLP_MAX_HIDDEN) cfg->hidden[L - 1] = (int)x->shape[1];
      cfg->num_outputs = (int)x->shape[0];
      L++;
    }
    if (L < 1 || L - 1 > TS_MLP_MAX_HIDDEN) return ts_error_set(err, TS_ERR_FORMAT, "'%s': not an MLP state dict", st->path);
    cfg->n_hidden = L - 1;
    int64_t in = f->shape[1];
    if (in_h > 0 && in_w > 0 && in % ((int64_t)in_h * in_w) == 0) cfg->in_channels = (int)(in / ((int64_t)in_h * in_w));
    return TS_OK;
  }
  cfg->in_channels = (int)f->shape[1];
  const TsStTensor *l = ts_safetensors_find(st, last);
  if (!l || l->ndim != 2) return ts_error_set(err, TS_ERR_FORMAT, "'%s': no tensor '%s' for a %s", st->path, last, kind_name);
  cfg->num_outputs = (int)l->shape[0];
  if (kind == TS_MODEL_LENET_DNN) {
    const TsStTensor *c2 = ts_safetensors_find(st, "conv2.weight"), *f1 = ts_safetensors_find(st, "fc1.weight");
    if (!c2 || !f1) return ts_error_set(err, TS_ERR_FORMAT, "'%s': not a lenet-dnn state dict", st->path);
    cfg->hidden[0] = (int)f->shape[0], cfg->hidden[1] = (int)c2->shape[0], cfg->hidden[2] = (int)f1->shape[0];
  } else if (kind >= TS_MODEL_RESNET20 && kind <= TS_MODEL_RESNET110) {
    cfg->width = (float)f->shape[0] / 16.0f;
  } else if (kind == TS_MODEL_RESNET18 || kind == TS_MODEL_RESNET34 || kind == TS_MODEL_RESNET50) {
    cfg->small_stem = f->ndim == 4 && f->shape[2] == 3;
    cfg->width = (float)f->shape[0] / 64.0f;
  }
  return TS_OK;
}

TsStatus ts_checkpoint_load_model(const TsSafetensors *st, const TsModelConfig *cfg, int max_batch, TsModel **out,
                                  TsError *err) {
  *out = ts_model_new(cfg, max_batch, 0, err);
  if (!*out) return err ? err->code : TS_ERR_INVALID;
  size_t n;
  const TsNamedTensor *mt = ts_model_tensors(*out, &n);
  TsStatus s = ts_safetensors_load_all(st, NULL, mt, n, 1, err);
  if (s) {
    ts_model_free(*out);
    *out = NULL;
  }
  return s;
}
