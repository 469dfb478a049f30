/* cuda/optim-device.c — an optimiser whose model is on the device: its
 * state block mirrored there with the host block's offsets, one update
 * kernel per parameter tensor (cuda/optim.cu), the bias corrections in
 * double on the host as in nn/optim.c. The step counter stays in the host
 * record (nn/optim.c increments it). */
#include <math.h>
#include <stdlib.h>

#include "nn/cuda/cuda.h"
#include "nn/model-graph.h"
#include "nn/optim-internal.h"

typedef struct DevSlot {
  float *p, *g, *m, *v;
  size_t n;
} DevSlot;

struct TsCudaOptim {
  TsDevice *d;
  TsOptim *o;
  float *state;
  size_t state_n;
  DevSlot *slots;
};

void ts_cuda_optim_free(TsCudaOptim *co) {
  if (!co) return;
  cudaSetDevice(co->d->ordinal);
  cudaStreamSynchronize(co->d->stream);
  cudaFree(co->state);
  free(co->slots);
  free(co);
}

static size_t state_floats(const TsOptim *o) {
  int per = o->cfg.kind == TS_OPTIM_SGD ? (o->cfg.momentum != 0.0f ? 1 : 0) : 2;
  return o->n_state * (size_t)per;
}

TsStatus ts_optim_to_device(TsOptim *o, TsModel *m, TsError *err) {
  if (o->dev) return ts_error_set(err, TS_ERR_INVALID, "optimiser: already on a device");
  if (!m->dev) return ts_error_set(err, TS_ERR_INVALID, "optimiser: its model is not on a device");
  TsDevice *d = ts_model_device(m);
  TsCudaOptim *co = calloc(1, sizeof *co);
  if (!co || !(co->slots = calloc(o->n_slots + 1, sizeof *co->slots))) {
    free(co);
    return ts_error_set(err, TS_ERR_NOMEM, "optimiser: out of memory");
  }
  co->d = d;
  co->o = o;
  co->state_n = state_floats(o);
  co->state = ts_cuda_alloc(d, (co->state_n + 1) * sizeof(float), "optimiser state");
  for (size_t i = 0; i < o->n_slots && co->state; i++) {
    const TsOptimSlot *s = &o->slots[i];
    const uintptr_t pa = (uintptr_t)s->param, base = (uintptr_t)m->tensors;
    if (pa < base || pa >= base + m->n_tensors * sizeof *m->tensors) {
      ts_cuda_optim_free(co);
      return ts_error_set(err, TS_ERR_INVALID, "optimiser: bound to tensors that are not this model's");
    }
    DevSlot *ds = &co->slots[i];
    ds->p = ts_cuda_model_param(m, (pa - base) / sizeof *m->tensors, &ds->g);
    ds->n = s->param->numel;
    if (s->m) ds->m = co->state + (s->m - o->state);
    if (s->v) ds->v = co->state + (s->v - o->state);
  }
  if (!co->state) {
    TsStatus s = ts_error_set(err, d->status, "%s", d->err.message);
    d->status = TS_OK;
    ts_cuda_optim_free(co);
    return s;
  }
  o->dev = co;
  TsStatus s = ts_optim_sync_device(o, err);
  if (s) {
    ts_cuda_optim_free(co);
    o->dev = NULL;
  }
  return s;
}

static TsStatus copy(TsDevice *d, void *dst, const void *src, size_t bytes, enum cudaMemcpyKind k, TsError *err) {
  ts_cuda_use(d);
  /* in the compute stream's order (see cuda/model.c) */
  if (bytes && (ts_cuda_check(d, cudaMemcpyAsync(dst, src, bytes, k, d->stream), "optimiser state") ||
                ts_cuda_check(d, cudaStreamSynchronize(d->stream), "optimiser state"))) {
    TsStatus s = ts_error_set(err, d->status, "%s", d->err.message);
    d->status = TS_OK;
    return s;
  }
  return TS_OK;
}

TsStatus ts_optim_sync_host(TsOptim *o, TsError *err) {
  TsCudaOptim *co = o->dev;
  if (!co) return TS_OK;
  return copy(co->d, o->state, co->state, co->state_n * sizeof(float), cudaMemcpyDeviceToHost, err);
}

TsStatus ts_optim_sync_device(TsOptim *o, TsError *err) {
  TsCudaOptim *co = o->dev;
  if (!co) return TS_OK;
  return copy(co->d, co->state, o->state, co->state_n * sizeof(float), cudaMemcpyHostToDevice, err);
}

void ts_cuda_optim_step(TsCudaOptim *co, int64_t step, float lr) {
  const TsOptimConfig *c = &co->o->cfg;
  TsDevice *d = co->d;
  if (d->status) return;
  ts_cuda_use(d);
  if (c->kind == TS_OPTIM_SGD) {
    for (size_t i = 0; i < co->o->n_slots; i++) {
      DevSlot *s = &co->slots[i];
      ts_cuda_sgd_step(d->stream, s->n, s->p, s->g, s->m, lr, c->weight_decay, c->momentum, 1.0f - c->dampening,
                       c->nesterov, step == 0);
    }
    return;
  }
  const double t = (double)(step + 1);
  const double bc1 = 1.0 - pow(c->beta1, t), bc2_sqrt = sqrt(1.0 - pow(c->beta2, t));
  const float step_size = (float)(lr / bc1), bc2s = (float)bc2_sqrt;
  for (size_t i = 0; i < co->o->n_slots; i++) {
    DevSlot *s = &co->slots[i];
    ts_cuda_adam_step(d->stream, s->n, s->p, s->g, s->m, s->v, lr, c->weight_decay, c->beta1, c->beta2, c->eps,
                      step_size, bc2s, c->kind == TS_OPTIM_ADAMW);
  }
}
