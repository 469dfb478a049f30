/* optim.c — SGD (momentum, dampening, Nesterov, weight decay), Adam and
 * AdamW, following torch.optim's single-tensor code path operation by
 * operation so that float32 results match. */
#include "nn/optim-internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ts-config.h"
#if TS_HAVE_CUDA
#include "nn/cuda/cuda.h"
#endif

TsOptimConfig ts_optim_config_default(TsOptimKind kind, float lr) {
  TsOptimConfig c = {0};
  c.kind = kind;
  c.lr = lr;
  c.beta1 = 0.9f;
  c.beta2 = 0.999f;
  c.eps = 1e-8f;
  if (kind == TS_OPTIM_ADAMW) c.weight_decay = 1e-2f;
  return c;
}

static const char *const kind_names[] = {"sgd", "adam", "adamw"};

int ts_optim_kind_from_name(const char *name) {
  for (int i = 0; i < 3; i++)
    if (name && strcmp(name, kind_names[i]) == 0) return i;
  return -1;
}

const char *ts_optim_kind_name(TsOptimKind kind) {
  return (unsigned)kind < 3 ? kind_names[kind] : "unknown";
}

static int uses_m(const TsOptimConfig *c) { return c->kind != TS_OPTIM_SGD || c->momentum != 0.0f; }

TsOptim *ts_optim_new(const TsOptimConfig *cfg, const TsNamedTensor *tensors, size_t n, TsError *err) {
  int adam = cfg->kind != TS_OPTIM_SGD;
  if (!(cfg->lr >= 0.0f) || !(cfg->weight_decay >= 0.0f) || !(cfg->momentum >= 0.0f) ||
      (adam && !(cfg->eps >= 0.0f && cfg->beta1 >= 0.0f && cfg->beta1 < 1.0f && cfg->beta2 >= 0.0f &&
                 cfg->beta2 < 1.0f))) {
    ts_error_set(err, TS_ERR_INVALID,
                 "optimiser %s: invalid hyper-parameter (lr %g, weight decay %g, momentum %g, betas %g %g, eps %g)",
                 ts_optim_kind_name(cfg->kind), cfg->lr, cfg->weight_decay, cfg->momentum, cfg->beta1, cfg->beta2,
                 cfg->eps);
    return NULL;
  }
  if (cfg->kind == TS_OPTIM_SGD && cfg->nesterov && (cfg->momentum <= 0.0f || cfg->dampening != 0.0f)) {
    ts_error_set(err, TS_ERR_INVALID, "optimiser sgd: Nesterov momentum needs momentum > 0 and dampening 0");
    return NULL;
  }
  if ((unsigned)cfg->kind > TS_OPTIM_ADAMW) {
    ts_error_set(err, TS_ERR_INVALID, "optimiser: unknown kind %d", (int)cfg->kind);
    return NULL;
  }
  TsOptim *o = calloc(1, sizeof *o);
  if (!o) goto nomem;
  o->cfg = *cfg;
  size_t np = 0, total = 0;
  for (size_t i = 0; i < n; i++)
    if (tensors[i].role == TS_ROLE_PARAM && tensors[i].trainable) {
      np++;
      total += tensors[i].numel;
    }
  int per = cfg->kind == TS_OPTIM_SGD ? (uses_m(cfg) ? 1 : 0) : 2;
  o->slots = calloc(np ? np : 1, sizeof *o->slots);
  o->named = calloc((size_t)per * np + 1, sizeof *o->named);
  o->state = calloc(total * (size_t)per + 2, sizeof(float));
  if (!o->slots || !o->named || !o->state) goto nomem;
  o->n_state = total;
  float *p = o->state;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (!(tensors[i].role == TS_ROLE_PARAM && tensors[i].trainable)) continue;
    TsOptimSlot *s = &o->slots[o->n_slots++];
    s->param = &tensors[i];
    for (int b = 0; b < per; b++) {
      float *buf = p;
      p += tensors[i].numel;
      if (b == 0) s->m = buf;
      else s->v = buf;
      TsNamedTensor *t = &o->named[k++];
      const char *suffix = cfg->kind == TS_OPTIM_SGD ? "momentum_buffer" : (b == 0 ? "exp_avg" : "exp_avg_sq");
      snprintf(t->name, sizeof t->name, "%s.%s", tensors[i].name, suffix);
      t->role = TS_ROLE_BUFFER;
      t->dtype = TS_NN_F32;
      t->ndim = tensors[i].ndim;
      memcpy(t->shape, tensors[i].shape, sizeof t->shape);
      t->numel = tensors[i].numel;
      t->data = buf;
    }
  }
  TsNamedTensor *st = &o->named[k++];
  snprintf(st->name, sizeof st->name, "step");
  st->role = TS_ROLE_BUFFER;
  st->dtype = TS_NN_I64;
  st->ndim = 1;
  st->shape[0] = 1;
  st->numel = 1;
  st->data = &o->step;
  o->n_named = k;
  return o;
nomem:
  ts_optim_free(o);
  ts_error_set(err, TS_ERR_NOMEM, "optimiser: out of memory");
  return NULL;
}

void ts_optim_free(TsOptim *o) {
  if (!o) return;
#if TS_HAVE_CUDA
  ts_cuda_optim_free(o->dev);
#endif
  free(o->slots);
  free(o->named);
  free(o->state);
  free(o);
}

int64_t ts_optim_steps(const TsOptim *o) { return o->step; }
const TsOptimConfig *ts_optim_config(const TsOptim *o) { return &o->cfg; }

const TsNamedTensor *ts_optim_state(const TsOptim *o, size_t *n) {
  *n = o->n_named;
  return o->named;
}

typedef struct StepJob {
  TsOptim *o;
  float lr;
  double bc1, bc2_sqrt;
} StepJob;

static void sgd_slot(const TsOptimConfig *c, TsOptimSlot *s, float lr, int first) {
  float *p = s->param->data, *g = s->param->grad, *buf = s->m;
  const float wd = c->weight_decay, mom = c->momentum, damp = 1.0f - c->dampening;
  for (size_t i = 0; i < s->param->numel; i++) {
    float d = g[i];
    if (wd != 0.0f) d = d + wd * p[i];
    if (mom != 0.0f) {
      float b = first ? d : buf[i] * mom + damp * d;
      buf[i] = b;
      d = c->nesterov ? d + mom * b : b;
    }
    p[i] = p[i] - lr * d;
  }
}

static void adam_slot(const TsOptimConfig *c, TsOptimSlot *s, float lr, double bc1, double bc2_sqrt) {
  float *p = s->param->data, *g = s->param->grad, *m = s->m, *v = s->v;
  const float wd = c->weight_decay, b1 = c->beta1, b2 = c->beta2, eps = c->eps;
  const float step_size = (float)(lr / bc1);
  const float bc2s = (float)bc2_sqrt;
  const int decoupled = c->kind == TS_OPTIM_ADAMW;
  for (size_t i = 0; i < s->param->numel; i++) {
    float gi = g[i];
    if (decoupled) p[i] = p[i] * (1.0f - lr * wd);
    else if (wd != 0.0f) gi = gi + wd * p[i];
    m[i] = m[i] + (1.0f - b1) * (gi - m[i]);
    v[i] = v[i] * b2 + (1.0f - b2) * gi * gi;
    float denom = sqrtf(v[i]) / bc2s + eps;
    p[i] = p[i] - step_size * (m[i] / denom);
  }
}

static void step_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  StepJob *j = ctx;
  TsOptim *o = j->o;
  for (size_t i = b; i < e; i++) {
    TsOptimSlot *s = &o->slots[i];
    if (o->cfg.kind == TS_OPTIM_SGD) sgd_slot(&o->cfg, s, j->lr, o->step == 0);
    else adam_slot(&o->cfg, s, j->lr, j->bc1, j->bc2_sqrt);
  }
}

void ts_optim_step(TsOptim *o, const TsNnCtx *ctx, float lr) {
#if TS_HAVE_CUDA
  if (o->dev) { /* on the device (nn/device.h): once per step, not per element */
    ts_cuda_optim_step(o->dev, o->step, lr);
    o->step++;
    return;
  }
#endif
  StepJob j = {o, lr, 1.0, 1.0};
  if (o->cfg.kind != TS_OPTIM_SGD) {
    double t = (double)(o->step + 1);
    /* PyTorch computes these in Python floats (double) */
    j.bc1 = 1.0 - pow(o->cfg.beta1, t);
    j.bc2_sqrt = sqrt(1.0 - pow(o->cfg.beta2, t));
  }
  ts_nn_for(ctx, o->n_slots, 1, 8 * (o->n_state / (o->n_slots ? o->n_slots : 1) + 1), step_task, &j);
  o->step++;
}
