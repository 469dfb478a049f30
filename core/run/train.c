#include "run/train.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "data/loader.h"
#include "nn/device.h"
#include "nn/loss.h"
#include "run/dist.h"
#include "run/objective.h"

/* Salt for the per-step randomness (dropout): distinct from the loader's. */
#define SALT_STEP 0x73746570736565ull

/* A model the loop trains: the main one (index 0) or an objective's extra
 * one, with its optimiser and checkpoint prefix. */
typedef struct Trained {
  TsModel *model;
  TsOptim *optim;
  const char *prefix; /* "" for the main model */
} Trained;

struct TsTrainer {
  TsTrainConfig cfg;
  const TsDataset *train, *val;
  TsPool *pool;
  TsNnCtx ctx;
  TsModel *model;
  TsOptim *optim;
  TsObjective *obj;
  Trained trained[1 + TS_OBJ_MAX_EXTRA_MODELS];
  int n_trained;
  TsGradHook grad_hook;
  void *grad_user;
  TsSchedule sched;
  TsLoader *loader;
  TsTrainPos pos;
  /* data parallelism (ranks > 1): packed gradients and buffers */
  int ranks;
  int dp_failed; /* a synchronised batch norm's sum failed: dp_err says why */
  TsError dp_err;
  float *dp_grads, *dp_bufs;
  size_t dp_grads_n, dp_bufs_n;
  TsDevice *dev; /* cfg.device > 0: every trained model and optimiser is on it */
  /* the main model's gradient buckets, reduced while backward runs */
  struct DpBucket {
    size_t off, n;
    int pending; /* tensors not yet final this step */
    int total;
    TsDistOp *op;
    int started;
  } *dp_buckets;
  int dp_nbuckets, dp_next;  /* next bucket to start (all ranks start them in order) */
  long *dp_slot;             /* per main-model tensor: offset in dp_grads, -1 if not reduced */
  int *dp_bucket_of;
  size_t dp_main_n;          /* floats of the main model's buckets */
  float dp_weight;           /* this step's share / global batch */
};

TsTrainConfig ts_train_config_default(void) {
  TsTrainConfig c;
  memset(&c, 0, sizeof c);
  c.model = ts_model_config_default(TS_MODEL_LENET5);
  c.model.in_channels = c.model.in_h = c.model.in_w = c.model.num_outputs = 0;
  c.optim = ts_optim_config_default(TS_OPTIM_SGD, 0.01f);
  c.optim.momentum = 0.9f;
  c.obj = ts_objective_config_default();
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
TsObjective *ts_trainer_objective(TsTrainer *t) { return t->obj; }

void ts_trainer_set_grad_hook(TsTrainer *t, TsGradHook hook, void *user) {
  t->grad_hook = hook;
  t->grad_user = user;
}

void ts_trainer_set_save_path(TsTrainer *t, const char *path) {
  /* rank 0 alone writes checkpoints */
  snprintf(t->cfg.save_path, sizeof t->cfg.save_path, "%s", path && ts_dist_rank() == 0 ? path : "");
}

void ts_trainer_free(TsTrainer *t) {
  if (!t) return;
  ts_loader_free(t->loader);
  free(t->dp_grads);
  free(t->dp_bufs);
  for (int b = 0; t->dp_buckets && b < t->dp_nbuckets; b++) ts_dist_op_wait(t->dp_buckets[b].op, NULL);
  free(t->dp_buckets);
  free(t->dp_slot);
  free(t->dp_bucket_of);
  for (int i = 1; i < t->n_trained; i++) ts_optim_free(t->trained[i].optim); /* the objective owns the models */
  ts_optim_free(t->optim);
  ts_model_free(t->model);
  ts_objective_free(t->obj);
  ts_device_free(t->dev); /* after everything that lives on it */
  free(t);
}

/* ---- data parallelism (run/dist.h) ----------------------------------------
 * With ranks > 1 every rank runs the same loop on its shard of each global
 * batch (the loader cuts it: shard_rank/shard_count). After backward the
 * gradients of all ranks are summed in a fixed order (ts_dist_allreduce_f32)
 * so every rank takes the same optimiser step: each rank's gradient is of
 * the mean loss over its shard, so it is weighted by shard / global batch
 * first, which makes the sum the gradient of the mean over the global
 * batch, as one process computes it. The step's loss, the objective's
 * running sums and per-step metrics are summed the same way (metrics
 * weighted by shard size), and so is the stop request, so all ranks stop at
 * the same step. Batch norm normalises with each rank's own shard
 * (DDP's default); its running statistics (every buffer) are then copied
 * from rank 0 to all, as DDP's broadcast_buffers does, so every rank holds
 * the same state and rank 0's checkpoint is everyone's. */

/* Gradients go in buckets of about this many floats (1 MiB, the size of
 * DDP's first bucket), packed in reverse tensor order, the order backward
 * finishes them. The main model's
 * buckets are started as soon as backward has finished all their tensors
 * (ts_model_set_backward_hook) and proceed while backward goes on; an
 * objective's extra models are reduced after the step. */
#define DP_BUCKET ((size_t)1 << 18)

static int dp_reduced(const TsNamedTensor *x) { return x->role == TS_ROLE_PARAM && x->grad && x->trainable; }

static void dp_bwd_hook(void *user, const int *tensors, int n);

static TsStatus dp_alloc(TsTrainer *t, TsError *err) {
  size_t ng = 0, nb = 0, n0;
  const TsNamedTensor *m0 = ts_model_tensors(t->model, &n0);
  t->dp_slot = ts_alloc_array(n0 + 1, sizeof(long), "gradient buckets", err);
  t->dp_bucket_of = ts_alloc_array(n0 + 1, sizeof(int), "gradient buckets", err);
  t->dp_buckets = ts_calloc_array(n0 + 1, sizeof *t->dp_buckets, "gradient buckets", err);
  if (!t->dp_slot || !t->dp_bucket_of || !t->dp_buckets) return TS_ERR_NOMEM;
  /* at most one bucket per channel (dist.h): larger buckets for large models */
  size_t total = 0, cap = DP_BUCKET;
  for (size_t k = 0; k < n0; k++)
    if (dp_reduced(&m0[k])) total += m0[k].numel;
  if (total / TS_DIST_MAX_CHANNELS + 1 > cap) cap = total / (TS_DIST_MAX_CHANNELS / 2) + 1;
  int nbk = 0;
  for (size_t k = n0; k-- > 0;) {
    t->dp_slot[k] = -1;
    t->dp_bucket_of[k] = -1;
    if (!dp_reduced(&m0[k])) continue;
    if (nbk == 0 || (t->dp_buckets[nbk - 1].n > 0 && t->dp_buckets[nbk - 1].n + m0[k].numel > cap)) {
      t->dp_buckets[nbk].off = ng;
      nbk++;
    }
    t->dp_slot[k] = (long)ng;
    t->dp_bucket_of[k] = nbk - 1;
    t->dp_buckets[nbk - 1].n += m0[k].numel;
    t->dp_buckets[nbk - 1].total++;
    ng += m0[k].numel;
  }
  t->dp_nbuckets = nbk;
  t->dp_main_n = ng;
  if (nbk > TS_DIST_MAX_CHANNELS)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "%d gradient buckets (a tensor of more than %zu floats?)", nbk, cap);
  TsStatus cs = ts_dist_channels(nbk, err);
  if (cs) return cs;
  for (int i = 0; i < t->n_trained; i++) {
    size_t n;
    const TsNamedTensor *mt = ts_model_tensors(t->trained[i].model, &n);
    for (size_t k = 0; k < n; k++) {
      if (i > 0 && mt[k].role == TS_ROLE_PARAM && mt[k].grad) ng += mt[k].numel;
      else if (mt[k].role != TS_ROLE_PARAM && mt[k].dtype == TS_NN_F32) nb += mt[k].numel;
    }
  }
  t->dp_grads = ts_alloc_array(ng + 1, sizeof(float), "gradient buckets", err);
  t->dp_bufs = ts_alloc_array(nb + 1, sizeof(float), "buffer broadcast", err);
  t->dp_grads_n = ng;
  t->dp_bufs_n = nb;
  if (!t->dp_grads || !t->dp_bufs) return TS_ERR_NOMEM;
  ts_model_set_backward_hook(t->model, dp_bwd_hook, t);
  return TS_OK;
}

/* Synchronised batch norm's sums (TsNnCtx.sync_sum): batch norm cannot
 * fail, so a failure is kept for the step to report. */
static void dp_sync_sum(void *user, double *v, size_t n) {
  TsTrainer *t = user;
  if (t->dp_failed) return;
  if (ts_dist_allreduce_f64(v, n, &t->dp_err)) t->dp_failed = 1;
}

/* A new step: every bucket waits for all its tensors again. */
static void dp_begin_step(TsTrainer *t, float weight) {
  t->dp_weight = weight;
  t->dp_next = 0;
  for (int b = 0; b < t->dp_nbuckets; b++) {
    t->dp_buckets[b].pending = t->dp_buckets[b].total;
    t->dp_buckets[b].started = 0;
    t->dp_buckets[b].op = NULL;
  }
}

static void dp_fail(TsTrainer *t, const TsError *e) {
  if (!t->dp_failed) t->dp_err = *e;
  t->dp_failed = 1;
}

/* Starts the ready buckets, in order, and lets the ones in flight move. */
static void dp_progress(TsTrainer *t) {
  TsError e = {0};
  while (!t->dp_failed && t->dp_next < t->dp_nbuckets && t->dp_buckets[t->dp_next].pending == 0) {
    struct DpBucket *bk = &t->dp_buckets[t->dp_next];
    if (ts_dist_iallreduce_f32(t->dp_grads + bk->off, bk->n, t->dp_next, &bk->op, &e)) dp_fail(t, &e);
    bk->started = 1;
    t->dp_next++;
  }
  for (int b = 0; b < t->dp_next && !t->dp_failed; b++) {
    int done;
    if (t->dp_buckets[b].op && ts_dist_op_test(t->dp_buckets[b].op, &done, &e)) dp_fail(t, &e);
  }
}

/* Copies one final tensor's weighted gradient into its bucket. */
static void dp_pack(TsTrainer *t, const TsNamedTensor *x, int k) {
  if (t->dp_slot[k] < 0 || t->dp_bucket_of[k] < 0) return;
  struct DpBucket *bk = &t->dp_buckets[t->dp_bucket_of[k]];
  if (bk->started) return;
  float *dst = t->dp_grads + t->dp_slot[k];
  const float w = t->dp_weight;
  for (size_t e = 0; e < x->numel; e++) dst[e] = x->grad[e] * w;
  bk->pending--;
}

static void dp_bwd_hook(void *user, const int *tensors, int n) {
  TsTrainer *t = user;
  size_t nt;
  const TsNamedTensor *mt = ts_model_tensors(t->model, &nt);
  for (int i = 0; i < n; i++)
    if (tensors[i] >= 0 && (size_t)tensors[i] < nt) dp_pack(t, &mt[tensors[i]], tensors[i]);
  dp_progress(t);
}

/* After the step: buckets no backward finished (an empty shard: no
 * backward ran) are packed and started, all are waited for in order and
 * unpacked; the extra models' gradients are summed bucket by bucket. */
static TsStatus dp_reduce_gradients(TsTrainer *t, TsError *err) {
  size_t n0;
  const TsNamedTensor *m0 = ts_model_tensors(t->model, &n0);
  for (size_t k = n0; k-- > 0;)
    if (t->dp_bucket_of[k] >= 0 && !t->dp_buckets[t->dp_bucket_of[k]].started) {
      /* its bucket did not fill during backward: pack it now (again if need be) */
      float *dst = t->dp_grads + t->dp_slot[k];
      for (size_t e = 0; e < m0[k].numel; e++) dst[e] = m0[k].grad[e] * t->dp_weight;
    }
  for (int b = 0; b < t->dp_nbuckets; b++) t->dp_buckets[b].pending = 0;
  dp_progress(t);
  TsStatus s = TS_OK;
  for (int b = 0; b < t->dp_nbuckets; b++) {
    TsError e = {0};
    if (ts_dist_op_wait(t->dp_buckets[b].op, &e) && !t->dp_failed) dp_fail(t, &e);
    t->dp_buckets[b].op = NULL;
  }
  if (t->dp_failed) {
    if (err) *err = t->dp_err;
    return t->dp_err.code ? t->dp_err.code : TS_ERR_IO;
  }
  for (size_t k = 0; k < n0; k++)
    if (t->dp_slot[k] >= 0) memcpy(m0[k].grad, t->dp_grads + t->dp_slot[k], sizeof(float) * m0[k].numel);
  /* the extra models, after the main one's buckets */
  size_t at = t->dp_main_n, first = at;
  for (int i = 1; i < t->n_trained; i++) {
    size_t n;
    const TsNamedTensor *mt = ts_model_tensors(t->trained[i].model, &n);
    for (size_t k = n; k-- > 0;)
      if (dp_reduced(&mt[k])) {
        for (size_t e = 0; e < mt[k].numel; e++) t->dp_grads[at + e] = mt[k].grad[e] * t->dp_weight;
        at += mt[k].numel;
      }
  }
  for (size_t off = first; off < at && !s; off += DP_BUCKET)
    s = ts_dist_allreduce_f32(t->dp_grads + off, at - off < DP_BUCKET ? at - off : DP_BUCKET, err);
  at = first;
  for (int i = 1; i < t->n_trained && !s; i++) {
    size_t n;
    const TsNamedTensor *mt = ts_model_tensors(t->trained[i].model, &n);
    for (size_t k = n; k-- > 0;)
      if (dp_reduced(&mt[k])) {
        memcpy(mt[k].grad, t->dp_grads + at, sizeof(float) * mt[k].numel);
        at += mt[k].numel;
      }
  }
  return s;
}

/* Rank 0's buffers (batch-norm running statistics) to every rank. */
static TsStatus dp_broadcast_buffers(TsTrainer *t, TsError *err) {
  for (int pass = 0; pass < 2; pass++) {
    size_t at = 0;
    for (int i = 0; i < t->n_trained; i++) {
      size_t n;
      const TsNamedTensor *mt = ts_model_tensors(t->trained[i].model, &n);
      for (size_t k = 0; k < n; k++)
        if (mt[k].role != TS_ROLE_PARAM && mt[k].dtype == TS_NN_F32) {
          float *d = mt[k].data;
          if (pass == 0) memcpy(t->dp_bufs + at, d, sizeof(float) * mt[k].numel);
          else memcpy(d, t->dp_bufs + at, sizeof(float) * mt[k].numel);
          at += mt[k].numel;
        }
    }
    if (pass == 0 && at) {
      TsStatus s = ts_dist_bcast(t->dp_bufs, at * sizeof(float), 0, err);
      if (s) return s;
    }
  }
  return TS_OK;
}

/* The step's numbers over all ranks: loss and metrics weighted by shard
 * size, sums summed, and whether any rank was asked to stop. */
static TsStatus dp_reduce_step(TsObjStep *st, int n_local, int n_global, int *stop_any,
                               TsError *err) {
  enum { NV = 2 + TS_OBJ_MAX_SUMS + TS_OBJ_MAX_METRICS };
  double v[NV] = {0};
  v[0] = st->loss * n_local;
  v[1] = *stop_any ? 1 : 0;
  for (int k = 0; k < TS_OBJ_MAX_SUMS; k++) v[2 + k] = st->sums[k];
  for (int k = 0; k < st->extra.n && k < TS_OBJ_MAX_METRICS; k++)
    v[2 + TS_OBJ_MAX_SUMS + k] = st->extra.m[k].value * n_local;
  TsStatus s = ts_dist_allreduce_f64(v, NV, err);
  if (s) return s;
  st->loss = v[0] / n_global;
  *stop_any = v[1] > 0;
  for (int k = 0; k < TS_OBJ_MAX_SUMS; k++) st->sums[k] = v[2 + k];
  for (int k = 0; k < st->extra.n && k < TS_OBJ_MAX_METRICS; k++)
    st->extra.m[k].value = v[2 + TS_OBJ_MAX_SUMS + k] / n_global;
  return TS_OK;
}

/* Whether any rank was asked to stop (one process: the flag). */
static TsStatus dp_stop_agreed(TsTrainer *t, volatile int *stop, int *out, TsError *err) {
  *out = stop && *stop;
  if (t->ranks == 1) return TS_OK;
  int64_t v = *out;
  TsStatus s = ts_dist_allreduce_max_i64(&v, 1, err);
  *out = v != 0;
  return s;
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
  t->ranks = ts_dist_size();
  if (ts_dist_rank() != 0) t->cfg.save_path[0] = '\0'; /* rank 0 alone writes */
  t->train = train;
  t->val = val;
  t->pool = pool;
  ts_nn_ctx_init(&t->ctx, pool, cfg->deterministic);
  TsModelConfig *mc = &t->cfg.model;
  if (!(t->obj = ts_objective_new(&cfg->obj, train, val, err))) goto fail;
  int oh, ow;
  ts_augment_out_size(&cfg->aug, train->height, train->width, &oh, &ow);
  if (!mc->in_channels) mc->in_channels = train->channels;
  if (!mc->in_h) mc->in_h = oh;
  if (!mc->in_w) mc->in_w = ow;
  int head = t->obj->ops->head_outputs(t->obj, train);
  if (!mc->num_outputs) mc->num_outputs = head;
  if (mc->in_channels != train->channels || mc->in_h != oh || mc->in_w != ow) {
    ts_error_set(err, TS_ERR_INVALID, "%s: images of %d x %d x %d, the model takes %d x %d x %d", train->source,
                 train->channels, oh, ow, mc->in_channels, mc->in_h, mc->in_w);
    goto fail;
  }
  /* A classifier may have spare outputs; a regression head must fit the labels. */
  if (head > mc->num_outputs || (t->obj->label_dims && head != mc->num_outputs)) {
    if (t->obj->label_dims)
      ts_error_set(err, TS_ERR_INVALID, "%s: --task %s needs %d outputs, the model has %d", train->source,
                   cfg->obj.task, head, mc->num_outputs);
    else
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
  if (cfg->freeze_backbone) {
    const char *hname = ts_model_head_name(t->model);
    if (!hname) {
      ts_error_set(err, TS_ERR_UNSUPPORTED, "--freeze backbone: model %s has no head", ts_model_kind_name(mc->kind));
      goto fail;
    }
    char prefix[TS_TENSOR_NAME_MAX + 2];
    snprintf(prefix, sizeof prefix, "%s.", hname);
    ts_model_set_trainable(t->model, "", 0);
    ts_model_set_trainable(t->model, prefix, 1);
  }
  size_t n;
  const TsNamedTensor *tensors = ts_model_tensors(t->model, &n);
  if (!(t->optim = ts_optim_new(&cfg->optim, tensors, n, err))) goto fail;
  t->trained[0] = (Trained){t->model, t->optim, ""};
  t->n_trained = 1;
  if (t->obj->ops->attach && t->obj->ops->attach(t->obj, t->model, cfg->batch, cfg->seed, err)) goto fail;
  if (t->obj->ops->extra_models) {
    TsModel *extra[TS_OBJ_MAX_EXTRA_MODELS];
    const char *prefixes[TS_OBJ_MAX_EXTRA_MODELS];
    int ne = t->obj->ops->extra_models(t->obj, extra, prefixes);
    for (int i = 0; i < ne && i < TS_OBJ_MAX_EXTRA_MODELS; i++) {
      const TsNamedTensor *et = ts_model_tensors(extra[i], &n);
      TsOptim *eo = ts_optim_new(&cfg->optim, et, n, err);
      if (!eo) goto fail;
      t->trained[t->n_trained++] = (Trained){extra[i], eo, prefixes[i]};
    }
  }
  if (cfg->device > 0) {
    if (!(t->dev = ts_device_open(cfg->device - 1, cfg->tf32, cfg->deterministic, err))) goto fail;
    for (int i = 0; i < t->n_trained; i++)
      if (ts_model_to_device(t->trained[i].model, t->dev, err) ||
          ts_optim_to_device(t->trained[i].optim, t->trained[i].model, err))
        goto fail;
  }
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
  if (t->ranks > 1) { /* this rank reads its shard of every global batch only */
    lc.shard_rank = ts_dist_rank();
    lc.shard_count = t->ranks;
    if (cfg->sync_bn) {
      /* every rank must run every batch norm (their sums meet): no empty shard */
      if (cfg->batch < t->ranks) {
        ts_error_set(err, TS_ERR_INVALID, "--sync-bn: a batch of %d cannot be shared by %d ranks", cfg->batch,
                     t->ranks);
        goto fail;
      }
      int64_t last = train->count % cfg->batch;
      if (last && last < t->ranks && train->count > cfg->batch) lc.drop_last = 1;
      t->ctx.sync_sum = dp_sync_sum;
      t->ctx.sync_user = t;
    }
  }
  if (ts_loader_new(train, &lc, &t->loader, err) != TS_OK) goto fail;
  if (t->ranks > 1 && dp_alloc(t, err)) goto fail;
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

/* A device run's state is copied to the host before a save and back after a
 * load (nn/device.h); on the CPU these do nothing. */
static TsStatus sync_state(TsTrainer *t, int to_host, TsError *err) {
  TsStatus s = TS_OK;
  for (int i = 0; i < t->n_trained && !s && t->dev; i++) {
    Trained *r = &t->trained[i];
    s = to_host ? ts_model_sync_host(r->model, err) : ts_model_sync_device(r->model, err);
    if (!s) s = to_host ? ts_optim_sync_host(r->optim, err) : ts_optim_sync_device(r->optim, err);
  }
  return s;
}

TsStatus ts_trainer_save(TsTrainer *t, const char *path, int64_t run_id, TsError *err) {
  TsStatus s0 = sync_state(t, 1, err);
  if (s0) return s0;
  TsStWriter *w = ts_st_writer_new(err);
  if (!w) return TS_ERR_NOMEM;
  const TsTrainConfig *c = &t->cfg;
  size_t n, no;
  const TsNamedTensor *mt = ts_model_tensors(t->model, &n);
  const TsNamedTensor *ot = ts_optim_state(t->optim, &no);
  TsStatus s = ts_st_writer_add_named(w, NULL, mt, n, err);
  if (!s) s = ts_st_writer_add_named(w, "optim.", ot, no, err);
  char prefix[96];
  for (int i = 1; i < t->n_trained && !s; i++) {
    mt = ts_model_tensors(t->trained[i].model, &n);
    ot = ts_optim_state(t->trained[i].optim, &no);
    snprintf(prefix, sizeof prefix, "%soptim.", t->trained[i].prefix);
    s = ts_st_writer_add_named(w, t->trained[i].prefix, mt, n, err);
    if (!s) s = ts_st_writer_add_named(w, prefix, ot, no, err);
  }
  if (!s) s = write_model_meta(w, &c->model, err);
  if (!s) s = ts_st_writer_meta(w, "train.task", c->obj.task, err);
  if (!s) s = meta_f(w, "train.ph_weight", "%.9g", c->obj.ph_weight, err);
  if (!s) s = ts_st_writer_meta(w, "train.label_norm", ts_label_norm_name(c->obj.label_norm), err);
  if (!s && strcmp(c->obj.task, "vae") == 0) {
    char buf[7 * 26];
    size_t k = 0;
    for (int i = 0; i < 7; i++) k += (size_t)snprintf(buf + k, sizeof buf - k, i ? ",%.17g" : "%.17g", c->obj.topo_weights[i]);
    s = ts_st_writer_meta(w, "train.topo_weights", buf, err);
    if (!s) s = meta_f(w, "train.topo_deg", "%.0f", c->obj.topo_deg, err);
    if (!s) s = ts_st_writer_meta(w, "train.topo_on", c->obj.topo_on_latent ? "latent" : "output", err);
    if (!s) s = meta_f(w, "train.lockstep", "%.0f", c->obj.lockstep, err);
  }
  if (!s) s = ts_objective_save_meta(t->obj, w, err);
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
  if (!s) s = meta_i(w, "train.ranks", t->ranks, err);
  if (!s) s = meta_i(w, "train.sync_bn", c->sync_bn && t->ranks > 1, err); /* a record only: any number of ranks may resume */
  if (!s) s = meta_i(w, "train.augment", c->augment, err);
  if (!s) s = meta_i(w, "train.crop_pad", c->aug.crop_pad, err);
  if (!s) s = meta_i(w, "train.hflip", c->aug.hflip, err);
  if (!s) s = meta_i(w, "data.resize_h", c->aug.resize_h, err);
  if (!s) s = meta_i(w, "data.resize_w", c->aug.resize_w, err);
  if (!s) s = meta_floats(w, "data.mean", c->aug.mean, 4, err);
  if (!s) s = meta_floats(w, "data.std", c->aug.std, 4, err);
  if (!s) s = ts_st_writer_meta(w, "data.train", c->data, err);
  if (!s) s = ts_st_writer_meta(w, "data.val", c->val_data, err);
  if (!s) s = ts_st_writer_meta(w, "train.init", c->init, err);
  if (!s) s = ts_st_writer_meta(w, "train.freeze", c->freeze_backbone ? "backbone" : "none", err);
  if (!s) s = meta_i(w, "data.per_class", c->per_class, err);
  if (!s) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, c->subset_seed);
    s = ts_st_writer_meta(w, "data.subset_seed", buf, err);
  }
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
  if (!s) s = meta_f(w, "pos.loss_sum", "%.17g", t->pos.sums[0], err);
  if (!s) s = meta_i(w, "pos.correct", (int64_t)t->pos.sums[1], err);
  if (!s) {
    char buf[TS_OBJ_MAX_SUMS * 26];
    size_t k = 0;
    for (int i = 0; i < t->obj->ops->n_sums; i++)
      k += (size_t)snprintf(buf + k, sizeof buf - k, i ? ",%.17g" : "%.17g", t->pos.sums[i]);
    s = ts_st_writer_meta(w, "pos.sums", buf, err);
  }
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

static TsStatus get_doubles(const TsSafetensors *st, const char *key, double *out, int n, TsError *err) {
  const char *v;
  TsStatus s = get_str(st, key, &v, err);
  if (s) return s;
  for (int i = 0; i < n; i++) {
    char *end;
    out[i] = strtod(v, &end);
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
  /* Checkpoints from before the objectives are classify runs. */
  if (!s && (v = ts_safetensors_meta(st, "train.task"))) copy_str(c->obj.task, sizeof c->obj.task, v);
  if (!s && ts_safetensors_meta(st, "train.ph_weight")) s = get_float(st, "train.ph_weight", &c->obj.ph_weight, err);
  if (!s && (v = ts_safetensors_meta(st, "train.label_norm"))) {
    int k = ts_label_norm_from_name(v);
    if (k < 0) return ts_error_set(err, TS_ERR_FORMAT, "'%s': unknown train.label_norm '%s'", st->path, v);
    c->obj.label_norm = (TsLabelNorm)k;
  }
  if (!s && (v = ts_safetensors_meta(st, "train.topo_weights"))) {
    for (int i = 0; i < 7 && !s; i++) {
      char *end;
      c->obj.topo_weights[i] = strtod(v, &end);
      if (end == v || (i < 6 ? *end != ',' : *end != '\0'))
        s = ts_error_set(err, TS_ERR_FORMAT, "'%s': train.topo_weights is not 7 numbers", st->path);
      v = end + 1;
    }
  }
  if (!s && (v = ts_safetensors_meta(st, "train.topo_deg"))) c->obj.topo_deg = atoi(v);
  if (!s && (v = ts_safetensors_meta(st, "train.topo_on"))) c->obj.topo_on_latent = strcmp(v, "latent") == 0;
  if (!s && (v = ts_safetensors_meta(st, "train.lockstep"))) c->obj.lockstep = atoi(v) != 0;
  if (!s && (v = ts_safetensors_meta(st, "train.init"))) copy_str(c->init, sizeof c->init, v);
  if (!s && (v = ts_safetensors_meta(st, "train.freeze"))) c->freeze_backbone = strcmp(v, "backbone") == 0;
  if (!s && ts_safetensors_meta(st, "data.per_class")) s = get_i64(st, "data.per_class", &c->per_class, err);
  if (!s && (v = ts_safetensors_meta(st, "data.subset_seed"))) {
    char *end;
    c->subset_seed = strtoull(v, &end, 10);
    if (end == v || *end) return ts_error_set(err, TS_ERR_FORMAT, "'%s': bad data.subset_seed '%s'", st->path, v);
  }
  if (!s && (c->batch < 1 || c->epochs < 0))
    s = ts_error_set(err, TS_ERR_FORMAT, "'%s': bad train.batch or train.epochs", st->path);
  return s;
}

TsStatus ts_trainer_load(TsTrainer *t, const TsSafetensors *st, TsError *err) {
  size_t n, no;
  const TsNamedTensor *mt = ts_model_tensors(t->model, &n);
  /* Strict on the main model's names would reject the extra models'
   * tensors: those carry a prefix and are checked by their own loads. */
  TsStatus s = ts_safetensors_load_all(st, NULL, mt, n, t->n_trained == 1, err);
  const TsNamedTensor *ot = ts_optim_state(t->optim, &no);
  if (!s) s = ts_safetensors_load_all(st, "optim.", ot, no, 1, err);
  char prefix[96];
  for (int i = 1; i < t->n_trained && !s; i++) {
    mt = ts_model_tensors(t->trained[i].model, &n);
    ot = ts_optim_state(t->trained[i].optim, &no);
    snprintf(prefix, sizeof prefix, "%soptim.", t->trained[i].prefix);
    s = ts_safetensors_load_all(st, t->trained[i].prefix, mt, n, 0, err);
    if (!s) s = ts_safetensors_load_all(st, prefix, ot, no, 1, err);
  }
  if (!s) s = ts_objective_load_meta(t->obj, st, err);
  TsTrainPos p = {0};
  if (!s) s = get_i64(st, "pos.epoch", &p.epoch, err);
  if (!s) s = get_i64(st, "pos.batch", &p.batch, err);
  if (!s) s = get_i64(st, "pos.global_step", &p.global_step, err);
  if (!s && ts_safetensors_meta(st, "pos.sums")) {
    s = get_doubles(st, "pos.sums", p.sums, t->obj->ops->n_sums, err);
  } else if (!s) {
    int64_t correct = 0;
    s = get_double(st, "pos.loss_sum", &p.sums[0], err);
    if (!s) s = get_i64(st, "pos.correct", &correct, err);
    p.sums[1] = (double)correct;
  }
  if (!s) s = get_i64(st, "pos.seen", &p.seen, err);
  if (!s && (p.epoch < 0 || p.batch < 0 || p.batch > ts_loader_batches(t->loader) || p.global_step < 0))
    s = ts_error_set(err, TS_ERR_FORMAT, "'%s': position epoch %lld batch %lld does not fit %lld batches per epoch",
                     st->path, (long long)p.epoch, (long long)p.batch, (long long)ts_loader_batches(t->loader));
  if (!s) t->pos = p;
  if (!s) s = sync_state(t, 0, err);
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
  TsStatus ls = ts_loader_status(l, err);
  ts_loader_free(l);
  if (ls) {
    ts_eval_result_clear(res);
    return ls;
  }
  res->loss = loss_sum / (double)res->count;
  res->accuracy = (double)correct / (double)res->count;
  return TS_OK;
}

/* ---- fine-tuning -------------------------------------------------------------- */

static void shape_text(char *buf, size_t n, int ndim, const int64_t *shape) {
  size_t k = (size_t)snprintf(buf, n, "[");
  for (int i = 0; i < ndim && k < n; i++) k += (size_t)snprintf(buf + k, n - k, i ? ", %lld" : "%lld", (long long)shape[i]);
  if (k < n) snprintf(buf + k, n - k, "]");
}

/* Whether name's first dotted component is that of some model tensor. */
static int names_part_of(const TsNamedTensor *mt, size_t n, const char *name) {
  const char *dot = strchr(name, '.');
  size_t len = dot ? (size_t)(dot - name) : strlen(name);
  for (size_t i = 0; i < n; i++)
    if (strncmp(mt[i].name, name, len) == 0 && (mt[i].name[len] == '.' || mt[i].name[len] == '\0')) return 1;
  return 0;
}

typedef struct Text {
  char *buf;
  size_t len, cap;
} Text;

static void text_add(Text *t, const char *fmt, const char *a, const char *b) {
  char line[600];
  int k = snprintf(line, sizeof line, fmt, a, b);
  if (k < 0) return;
  if (t->len + (size_t)k + 1 > t->cap) {
    size_t cap = (t->cap + (size_t)k + 1) * 2;
    char *nb = realloc(t->buf, cap);
    if (!nb) return;
    t->buf = nb;
    t->cap = cap;
  }
  memcpy(t->buf + t->len, line, (size_t)k + 1);
  t->len += (size_t)k;
}

TsStatus ts_trainer_init_from(TsTrainer *t, const char *path, char **report, TsError *err) {
  if (report) *report = NULL;
  TsSafetensors st = {0};
  TsStatus s = ts_safetensors_read(path, &st, err);
  if (s) return s;
  size_t n;
  const TsNamedTensor *mt = ts_model_tensors(t->model, &n);
  const char *head = ts_model_head_name(t->model);
  char hp[TS_TENSOR_NAME_MAX + 2] = "";
  if (head) snprintf(hp, sizeof hp, "%s.", head);
  size_t hl = strlen(hp);
  /* First pass: check; nothing is written unless everything fits. */
  Text mis = {0};
  int n_mis = 0, loadable = 0;
  for (size_t i = 0; i < n; i++) {
    if (hl && strncmp(mt[i].name, hp, hl) == 0) continue;
    const TsStTensor *f = ts_safetensors_find(&st, mt[i].name);
    if (!f) continue;
    int same = f->numel == mt[i].numel && (int)f->ndim == mt[i].ndim &&
               (f->dtype == TS_ST_F32 ? mt[i].dtype == TS_NN_F32 : f->dtype == TS_ST_I64 && mt[i].dtype == TS_NN_I64);
    for (int d = 0; same && d < f->ndim; d++) same = f->shape[d] == mt[i].shape[d];
    /* a scalar [] and [1] are the same (num_batches_tracked) */
    if (!same && f->numel == 1 && mt[i].numel == 1 && (f->dtype == TS_ST_I64) == (mt[i].dtype == TS_NN_I64)) same = 1;
    if (same) {
      loadable++;
    } else if (n_mis++ < 4) {
      char a[96], b[96];
      shape_text(a, sizeof a, f->ndim, f->shape);
      shape_text(b, sizeof b, mt[i].ndim, mt[i].shape);
      char both[240];
      snprintf(both, sizeof both, "%s %s, the model %s", ts_st_dtype_name(f->dtype), a, b);
      text_add(&mis, "%s%s", n_mis > 1 ? "; " : "", mt[i].name);
      text_add(&mis, " (the file %s%s)", both, "");
    }
  }
  for (size_t i = 0; i < st.n; i++) {
    const char *name = st.tensors[i].name;
    if (strncmp(name, "optim.", 6) == 0 || (hl && strncmp(name, hp, hl) == 0)) continue;
    if (!names_part_of(mt, n, name)) continue; /* another model's tensors (an objective's extra model) */
    if (ts_model_find(t->model, name)) continue;
    if (n_mis++ < 4) {
      text_add(&mis, "%s%s", n_mis > 1 ? "; " : "", name);
      text_add(&mis, " (not in this %s)%s", ts_model_kind_name(t->cfg.model.kind), "");
    }
  }
  const char *kind = ts_safetensors_meta(&st, "model"), *ours = ts_model_kind_name(t->cfg.model.kind);
  if (kind && strcmp(kind, ours) != 0) {
    s = ts_error_set(err, TS_ERR_INVALID, "--init '%s' holds a %s, this model is a %s%s%s", path, kind, ours,
                     n_mis ? "; first mismatched tensors: " : "", n_mis ? mis.buf : "");
    free(mis.buf);
    ts_safetensors_clear(&st);
    return s;
  }
  if (n_mis || !loadable) {
    if (!loadable && !n_mis)
      s = ts_error_set(err, TS_ERR_INVALID, "--init '%s' shares no tensor with this %s: another architecture", path,
                       ts_model_kind_name(t->cfg.model.kind));
    else
      s = ts_error_set(err, TS_ERR_INVALID, "--init '%s' holds another architecture: %d mismatched tensor%s: %s%s", path,
                       n_mis, n_mis == 1 ? "" : "s", mis.buf ? mis.buf : "", n_mis > 4 ? "; ..." : "");
    free(mis.buf);
    ts_safetensors_clear(&st);
    return s;
  }
  free(mis.buf);
  Text rep = {0}, re = {0};
  int n_loaded = 0, n_re = 0;
  for (size_t i = 0; i < n && !s; i++) {
    const TsStTensor *f = hl && strncmp(mt[i].name, hp, hl) == 0 ? NULL : ts_safetensors_find(&st, mt[i].name);
    if (f) {
      s = ts_safetensors_load_into(&st, NULL, &mt[i], err);
      n_loaded++;
    } else {
      text_add(&re, "%s%s", n_re++ ? ", " : "", mt[i].name);
    }
  }
  if (!s) s = sync_state(t, 0, err); /* a device run: the loaded weights to the device */
  if (!s) {
    char num[64];
    snprintf(num, sizeof num, "%d", n_loaded);
    text_add(&rep, "--init %s: loaded %s tensors", path, num);
    snprintf(num, sizeof num, "%d", n_re);
    text_add(&rep, "; re-initialised %s: %s", num, re.buf ? re.buf : "");
    copy_str(t->cfg.init, sizeof t->cfg.init, path);
  }
  free(re.buf);
  if (report && !s) *report = rep.buf;
  else free(rep.buf);
  ts_safetensors_clear(&st);
  return s;
}

/* ---- the loop: one step in four parts ------------------------------------ */

/* The batch of this step (NULL at the end of the epoch, or when the loader
 * failed: the loop asks ts_loader_status). A data-parallel run takes its
 * shard of the global batch here (the loader's contents depend on (seed,
 * epoch, batch) only, so every process can cut the same global batch). */
static const TsBatch *next_batch(TsTrainer *t) { return ts_loader_next(t->loader); }

/* A device run copies the next batch to every trained model's device
 * while this step's backward and optimiser still run there (the backward
 * kernels are queued when the objective's step returns). Only a batch that
 * a loader thread has already made is taken: the step never waits for it. */
static void prefetch_next_batch(TsTrainer *t) {
  const TsBatch *nb = ts_loader_peek(t->loader);
  if (!nb || nb->n < 1) return;
  for (int i = 0; i < t->n_trained; i++) ts_model_prefetch(t->trained[i].model, nb->x, nb->n);
}

/* Every trained model's gradients are final here (after backward, before
 * any optimiser): the one place to reduce them across processes. */
static TsStatus reduce_gradients(TsTrainer *t, TsObjStep *st, const TsBatch *b, int *stop_any, TsError *err) {
  if (t->ranks > 1) {
    TsStatus s = dp_reduce_step(st, b->n, b->global_n, stop_any, err);
    if (!s) s = dp_reduce_gradients(t, err);
    if (!s) s = dp_broadcast_buffers(t, err);
    if (s) return s;
  }
  if (!t->grad_hook) return TS_OK;
  for (int i = 0; i < t->n_trained; i++) {
    size_t n;
    const TsNamedTensor *mt = ts_model_tensors(t->trained[i].model, &n);
    TsStatus s = ts_model_grads_to_host(t->trained[i].model, err); /* a device run's: the hook reads the host */
    if (!s) s = t->grad_hook(t->grad_user, i, mt, n, err);
    if (!s) s = ts_model_grads_to_device(t->trained[i].model, err);
    if (s) return s;
  }
  return TS_OK;
}

static void optimizer_step(TsTrainer *t, double lr) {
  for (int i = 0; i < t->n_trained; i++) ts_optim_step(t->trained[i].optim, &t->ctx, (float)lr);
}

static void zero_grads(TsTrainer *t) {
  for (int i = 0; i < t->n_trained; i++) ts_model_zero_grad(t->trained[i].model);
}

/* The progress fields the hooks print, from the objective's metrics. */
static void fill_progress(TsTrainer *t, TsTrainProgress *pr) {
  memset(&pr->train_metrics, 0, sizeof pr->train_metrics);
  t->obj->ops->epoch_metrics(t->obj, t->pos.sums, t->pos.seen, &pr->train_metrics);
  pr->train_loss = ts_obj_metrics_get(&pr->train_metrics, "train/epoch_loss");
  pr->train_acc = ts_obj_metrics_get(&pr->train_metrics, "train/accuracy");
}

static TsStatus store_metrics(TsStore *store, int64_t run_id, int64_t step, int64_t epoch, const TsObjMetrics *m,
                              TsError *err) {
  for (int i = 0; i < m->n; i++) {
    TsStatus s = ts_store_metric(store, run_id, step, epoch, m->m[i].name, m->m[i].value, err);
    if (s) return s;
  }
  return TS_OK;
}

TsStatus ts_trainer_run(TsTrainer *t, TsStore *store, int64_t run_id, const TsTrainHooks *hooks,
                        volatile int *stop, TsError *err) {
  const TsTrainConfig *c = &t->cfg;
  int64_t nb = ts_loader_batches(t->loader), total = (int64_t)c->epochs * nb;
  int n_sums = t->obj->ops->n_sums;
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
    while ((b = next_batch(t))) {
      zero_grads(t);
      TsObjStep st = {.model = t->model, .ctx = &t->ctx, .batch = b, .seed = step_seed(c->seed, t->pos.global_step)};
      /* a shard may be empty (a global batch smaller than the ranks): its gradient is zero */
      t->ctx.sync_weight = b->global_n > 0 ? (double)b->n / (double)b->global_n : 1.0;
      if (t->ranks > 1) dp_begin_step(t, (float)b->n / (float)b->global_n);
      if (b->n > 0 && (s = t->obj->ops->step(t->obj, &st, err))) return s;
      if (t->dev) prefetch_next_batch(t);
      if (t->dp_failed) {
        if (err) *err = t->dp_err;
        return t->dp_err.code;
      }
      int stop_now = stop && *stop;
      if ((s = reduce_gradients(t, &st, b, &stop_now, err))) return s;
      if (t->dev && (s = ts_model_device_status(t->model, err))) return s; /* a device failure, not a NaN loss */
      if (!isfinite(st.loss))
        return ts_error_set(err, TS_ERR_INVALID,
                            "the loss became %g at epoch %lld step %lld (learning rate %g too high?)%s", st.loss,
                            (long long)t->pos.epoch + 1, (long long)t->pos.global_step + 1, lr,
                            c->save_path[0] ? "; the last epoch's checkpoint is kept" : "");
      optimizer_step(t, lr);
      t->pos.batch++;
      t->pos.global_step++;
      for (int k = 0; k < n_sums; k++) t->pos.sums[k] += st.sums[k];
      t->pos.seen += b->global_n;
      images += b->global_n;
      if (store) {
        s = ts_store_metric(store, run_id, t->pos.global_step, t->pos.epoch, "train/loss", st.loss, err);
        if (!s) s = store_metrics(store, run_id, t->pos.global_step, t->pos.epoch, &st.extra, err);
        if (!s) s = ts_store_progress(store, run_id, t->pos.global_step, total, err);
        if (s) return s;
      }
      pr.epoch = t->pos.epoch;
      pr.batch = t->pos.batch;
      pr.global_step = t->pos.global_step;
      pr.loss = st.loss;
      pr.lr = lr;
      fill_progress(t, &pr);
      pr.images_per_s = (double)images / fmax(ts_clock_monotonic() - t0, 1e-9);
      if (hooks && hooks->on_step) hooks->on_step(hooks->user, &pr);
      if (stop_now && t->pos.batch < nb) {
        if (c->save_path[0]) {
          if ((s = ts_trainer_save(t, c->save_path, run_id, err))) return s;
          if (store) ts_store_artifact(store, run_id, "checkpoint", c->save_path, NULL);
        }
        return ts_error_set(err, TS_ERR_CANCELLED, "stopped at epoch %lld step %lld", (long long)t->pos.epoch,
                            (long long)t->pos.global_step);
      }
    }
    /* The loader ends an epoch early when a batch could not be made. */
    if ((s = ts_loader_status(t->loader, err))) return s;
    double elapsed = ts_clock_monotonic() - t0;
    fill_progress(t, &pr);
    pr.images_per_s = (double)images / fmax(elapsed, 1e-9);
    pr.val_loss = pr.val_acc = NAN;
    memset(&pr.val_metrics, 0, sizeof pr.val_metrics);
    if (t->val) {
      s = ts_objective_evaluate(t->obj, t->model, &t->ctx, t->val, &c->aug, c->batch, NULL, &pr.val_metrics, err);
      if (s) return s;
      pr.val_loss = ts_obj_metrics_get(&pr.val_metrics, "val/loss");
      pr.val_acc = ts_obj_metrics_get(&pr.val_metrics, "val/accuracy");
    }
    if (store) {
      int64_t gs = t->pos.global_step, ep = t->pos.epoch;
      s = store_metrics(store, run_id, gs, ep, &pr.train_metrics, err);
      if (!s) s = store_metrics(store, run_id, gs, ep, &pr.val_metrics, err);
      if (!s) s = ts_store_metric(store, run_id, gs, ep, "images_per_s", pr.images_per_s, err);
      if (s) return s;
    }
    /* The epoch is done: the position moves to the start of the next. */
    t->pos.batch = 0;
    memset(t->pos.sums, 0, sizeof t->pos.sums);
    t->pos.seen = 0;
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
    int stop_now = 0;
    if ((s = dp_stop_agreed(t, stop, &stop_now, err))) return s;
    if (stop_now && t->pos.epoch + 1 < c->epochs) {
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
