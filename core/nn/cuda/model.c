/* cuda/model.c — a model on the device: its allocations mirrored there
 * (cuda.h: "Memory") and the forward and backward passes of nn/model.c over
 * the same layer graph, calling the device ops. The logic of the passes
 * (which gradients are needed, when a gradient buffer is zeroed or written
 * by its first contributor) is the CPU's, line for line, so both backends
 * compute the same thing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "nn/cuda/cuda.h"
#include "nn/model-graph.h"

typedef struct DevNode {
  float *data, *grad, *save_mean, *save_invstd, *aux;
  int32_t *argmax;
} DevNode;

struct TsCudaModel {
  TsDevice *d;
  float *params, *grads, *buffers, *arena;
  int32_t *argmax;
  size_t np, nb;
  float **tdata, **tgrad; /* per tensor: device twins (NULL for int64 counters) */
  DevNode *nodes;
  /* batches: two device input buffers and their pinned staging */
  size_t in_per; /* floats per image */
  float *in_dev[2], *in_pin[2];
  int cur;                      /* slot of the last forward's input */
  int pf_pending, pf_slot, pf_batch;
  const float *pf_x;
  cudaEvent_t pf_event;
  float *eps_pin; /* the VAE's noise, drawn on the host */
  size_t eps_n;
  float *out_data[4], *out_grad[4]; /* pinned host copies of the outputs */
  int out_pending;                  /* their copy is queued; ts_cuda_model_wait_outputs waits */
  int out_batch;
  cudaEvent_t out_event;
  const float *input;               /* device input of the last forward */
};

static size_t per_item(const Node *n) { return (size_t)n->c * n->h * n->w; }

void ts_cuda_model_free(TsCudaModel *cm) {
  if (!cm) return;
  cudaSetDevice(cm->d->ordinal);
  cudaStreamSynchronize(cm->d->stream);
  cudaStreamSynchronize(cm->d->copy_stream);
  cudaFree(cm->params);
  cudaFree(cm->grads);
  cudaFree(cm->buffers);
  cudaFree(cm->arena);
  cudaFree(cm->argmax);
  for (int i = 0; i < 2; i++) {
    cudaFree(cm->in_dev[i]);
    if (cm->in_pin[i]) cudaFreeHost(cm->in_pin[i]);
  }
  if (cm->pf_event) cudaEventDestroy(cm->pf_event);
  if (cm->out_event) cudaEventDestroy(cm->out_event);
  if (cm->eps_pin) cudaFreeHost(cm->eps_pin);
  for (int o = 0; o < 4; o++) {
    if (cm->out_data[o]) cudaFreeHost(cm->out_data[o]);
    if (cm->out_grad[o]) cudaFreeHost(cm->out_grad[o]);
  }
  free(cm->tdata);
  free(cm->tgrad);
  free(cm->nodes);
  free(cm);
}

static void *pinned(TsDevice *d, size_t bytes, const char *what) {
  void *p = NULL;
  if (ts_cuda_check(d, cudaMallocHost(&p, bytes ? bytes : 16), what)) return NULL;
  memset(p, 0, bytes ? bytes : 16);
  return p;
}

/* A host pointer inside [base, base + n) mapped to the same offset in dev. */
static float *map_f(const float *p, const float *base, size_t n, float *dev) {
  if (!p || !base || p < base || p >= base + n) return NULL;
  return dev + (p - base);
}

static size_t block_floats(const TsModel *m, int params) {
  size_t n = 0;
  for (size_t i = 0; i < m->n_tensors; i++) {
    const TsNamedTensor *t = &m->tensors[i];
    if (t->dtype != TS_NN_F32) continue;
    if ((t->role == TS_ROLE_PARAM) == (params != 0)) n += t->numel;
  }
  return n;
}

/* A blocking copy in the compute stream's order (the stream is
 * non-blocking, so a plain cudaMemcpy on the legacy stream would not wait
 * for its kernels, nor they for it). */
static TsStatus copy(TsDevice *d, void *dst, const void *src, size_t bytes, enum cudaMemcpyKind k, const char *what,
                     TsError *err) {
  ts_cuda_use(d);
  if (bytes && (ts_cuda_check(d, cudaMemcpyAsync(dst, src, bytes, k, d->stream), what) ||
                ts_cuda_check(d, cudaStreamSynchronize(d->stream), what))) {
    TsStatus s = ts_error_set(err, d->status, "%s", d->err.message);
    d->status = TS_OK;
    return s;
  }
  return TS_OK;
}

TsStatus ts_model_to_device(TsModel *m, TsDevice *d, TsError *err) {
  if (m->dev) return ts_error_set(err, TS_ERR_INVALID, "model: already on a device");
  if (d->status) return ts_error_set(err, d->status, "%s", d->err.message);
  ts_cuda_use(d);
  TsCudaModel *cm = calloc(1, sizeof *cm);
  if (!cm) return ts_error_set(err, TS_ERR_NOMEM, "model: out of memory");
  cm->d = d;
  cm->tdata = calloc(m->n_tensors + 1, sizeof *cm->tdata);
  cm->tgrad = calloc(m->n_tensors + 1, sizeof *cm->tgrad);
  cm->nodes = calloc((size_t)m->n_nodes + 1, sizeof *cm->nodes);
  if (!cm->tdata || !cm->tgrad || !cm->nodes) {
    ts_cuda_model_free(cm);
    return ts_error_set(err, TS_ERR_NOMEM, "model: out of memory");
  }
  cm->np = block_floats(m, 1);
  cm->nb = block_floats(m, 0);
  size_t nargmax = 0;
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].kind == NODE_MAXPOOL) nargmax += (size_t)m->max_batch * per_item(&m->nodes[i]);
  cm->in_per = (size_t)m->in_c * m->in_h * m->in_w;
  const size_t in_n = (size_t)m->max_batch * cm->in_per;
  cm->params = ts_cuda_alloc(d, cm->np * sizeof(float), "parameters");
  cm->grads = ts_cuda_alloc(d, cm->np * sizeof(float), "gradients");
  cm->buffers = ts_cuda_alloc(d, cm->nb * sizeof(float), "buffers");
  cm->arena = ts_cuda_alloc(d, m->arena.cap * sizeof(float), "activations");
  cm->argmax = ts_cuda_alloc(d, (nargmax + 1) * sizeof(int32_t), "max-pool indices");
  for (int i = 0; i < 2; i++) {
    cm->in_dev[i] = ts_cuda_alloc(d, in_n * sizeof(float), "input batch");
    cm->in_pin[i] = pinned(d, in_n * sizeof(float), "pinned input batch");
  }
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].kind == NODE_SAMPLE && (size_t)m->max_batch * per_item(&m->nodes[i]) > cm->eps_n)
      cm->eps_n = (size_t)m->max_batch * per_item(&m->nodes[i]);
  if (cm->eps_n) cm->eps_pin = pinned(d, cm->eps_n * sizeof(float), "pinned noise");
  for (int o = 0; o < m->n_outputs; o++) {
    size_t n = (size_t)m->max_batch * per_item(&m->nodes[m->outputs[o]]);
    cm->out_data[o] = pinned(d, n * sizeof(float), "pinned outputs");
    cm->out_grad[o] = pinned(d, n * sizeof(float), "pinned output gradients");
  }
  if (!d->status) ts_cuda_check(d, cudaEventCreateWithFlags(&cm->pf_event, cudaEventDisableTiming), "event");
  if (!d->status) ts_cuda_check(d, cudaEventCreateWithFlags(&cm->out_event, cudaEventDisableTiming), "event");
  if (d->status) {
    TsStatus s = ts_error_set(err, d->status, "%s", d->err.message);
    ts_cuda_model_free(cm);
    d->status = TS_OK; /* reported here; the device stays usable */
    return s;
  }
  /* tensors */
  for (size_t i = 0; i < m->n_tensors; i++) {
    const TsNamedTensor *t = &m->tensors[i];
    if (t->dtype != TS_NN_F32) continue;
    if (t->role == TS_ROLE_PARAM) {
      cm->tdata[i] = cm->params + m->offsets[i];
      cm->tgrad[i] = cm->grads + m->offsets[i];
    } else {
      cm->tdata[i] = cm->buffers + m->offsets[i];
    }
  }
  /* nodes: every arena pointer to its device twin */
  const float *ab = m->arena.base;
  const size_t ac = m->arena.cap;
  for (int i = 0; i < m->n_nodes; i++) {
    const Node *n = &m->nodes[i];
    DevNode *dn = &cm->nodes[i];
    dn->data = map_f(n->data, ab, ac, cm->arena);
    dn->grad = map_f(n->grad, ab, ac, cm->arena);
    dn->save_mean = map_f(n->save_mean, ab, ac, cm->arena);
    dn->save_invstd = map_f(n->save_invstd, ab, ac, cm->arena);
    dn->aux = map_f(n->aux, ab, ac, cm->arena);
    if (n->argmax) dn->argmax = cm->argmax + (n->argmax - m->argmax_block);
  }
  TsStatus s = copy(d, cm->params, m->params, cm->np * sizeof(float), cudaMemcpyHostToDevice, "parameters", err);
  if (!s) s = copy(d, cm->grads, m->grads, cm->np * sizeof(float), cudaMemcpyHostToDevice, "gradients", err);
  if (!s) s = copy(d, cm->buffers, m->buffers, cm->nb * sizeof(float), cudaMemcpyHostToDevice, "buffers", err);
  if (s) {
    ts_cuda_model_free(cm);
    return s;
  }
  /* The host keeps only what it reads: the outputs. */
  for (int i = 0; i < m->n_nodes; i++) {
    Node *n = &m->nodes[i];
    n->data = n->grad = n->save_mean = n->save_invstd = n->aux = NULL;
    n->argmax = NULL;
    memset(&n->out, 0, sizeof n->out);
  }
  for (int o = 0; o < m->n_outputs; o++) {
    Node *n = &m->nodes[m->outputs[o]];
    n->data = cm->out_data[o];
    n->grad = cm->out_grad[o];
  }
  ts_arena_clear(&m->arena);
  free(m->argmax_block);
  m->argmax_block = NULL;
  free(m->scratch);
  m->scratch = NULL;
  m->scratch_size = m->scratch_threads = 0;
  m->dev = cm;
  return TS_OK;
}

TsDevice *ts_model_device(const TsModel *m) { return m->dev ? m->dev->d : NULL; }

TsStatus ts_model_sync_host(TsModel *m, TsError *err) {
  TsCudaModel *cm = m->dev;
  if (!cm) return TS_OK;
  TsStatus s = copy(cm->d, m->params, cm->params, cm->np * sizeof(float), cudaMemcpyDeviceToHost, "parameters", err);
  if (!s) s = copy(cm->d, m->buffers, cm->buffers, cm->nb * sizeof(float), cudaMemcpyDeviceToHost, "buffers", err);
  return s;
}

TsStatus ts_model_sync_device(TsModel *m, TsError *err) {
  TsCudaModel *cm = m->dev;
  if (!cm) return TS_OK;
  TsStatus s = copy(cm->d, cm->params, m->params, cm->np * sizeof(float), cudaMemcpyHostToDevice, "parameters", err);
  if (!s) s = copy(cm->d, cm->buffers, m->buffers, cm->nb * sizeof(float), cudaMemcpyHostToDevice, "buffers", err);
  return s;
}

TsStatus ts_model_grads_to_host(TsModel *m, TsError *err) {
  TsCudaModel *cm = m->dev;
  if (!cm) return TS_OK;
  return copy(cm->d, m->grads, cm->grads, cm->np * sizeof(float), cudaMemcpyDeviceToHost, "gradients", err);
}

TsStatus ts_model_grads_to_device(TsModel *m, TsError *err) {
  TsCudaModel *cm = m->dev;
  if (!cm) return TS_OK;
  return copy(cm->d, cm->grads, m->grads, cm->np * sizeof(float), cudaMemcpyHostToDevice, "gradients", err);
}

TsStatus ts_model_device_status(TsModel *m, TsError *err) {
  TsCudaModel *cm = m->dev;
  if (!cm) return TS_OK;
  ts_cuda_model_wait_outputs(m);
  TsDevice *d = cm->d;
  ts_cuda_check(d, cudaGetLastError(), "kernel launch");
  if (!d->status) return TS_OK;
  TsStatus s = ts_error_set(err, d->status, "%s", d->err.message);
  d->status = TS_OK;
  return s;
}

float *ts_cuda_model_param(TsModel *m, size_t tensor, float **grad) {
  TsCudaModel *cm = m->dev;
  if (!cm || tensor >= m->n_tensors) return NULL;
  if (grad) *grad = cm->tgrad[tensor];
  return cm->tdata[tensor];
}

void ts_model_prefetch(TsModel *m, const float *x, int batch) {
  TsCudaModel *cm = m->dev;
  if (!cm || !x || batch < 1) return;
  if (batch > m->max_batch) batch = m->max_batch;
  TsDevice *d = cm->d;
  ts_cuda_model_wait_outputs(m); /* the staging buffer's last copy ran before that forward ended */
  ts_cuda_use(d);
  if (cm->pf_pending) cudaEventSynchronize(cm->pf_event);
  const int slot = 1 - cm->cur; /* the current step's input stays intact */
  const size_t bytes = (size_t)batch * cm->in_per * sizeof(float);
  memcpy(cm->in_pin[slot], x, bytes);
  if (ts_cuda_check(d, cudaMemcpyAsync(cm->in_dev[slot], cm->in_pin[slot], bytes, cudaMemcpyHostToDevice, d->copy_stream),
                    "batch copy") ||
      ts_cuda_check(d, cudaEventRecord(cm->pf_event, d->copy_stream), "batch copy")) {
    cm->pf_pending = 0;
    return;
  }
  cm->pf_pending = 1;
  cm->pf_slot = slot;
  cm->pf_x = x;
  cm->pf_batch = batch;
}

/* ---- forward ---------------------------------------------------------------------- */

static const float *din(const TsModel *m, int idx) {
  if (idx == NODE_INPUT || m->nodes[idx].owner < 0) return m->dev->input;
  return m->dev->nodes[idx].data;
}

static float *dparam(const TsModel *m, int t) { return t < 0 ? NULL : m->dev->tdata[t]; }

/* The height and width of node idx's output (or of the model's input). */
static void in_hw(const TsModel *m, int idx, int *h, int *w) {
  if (idx == NODE_INPUT) *h = m->in_h, *w = m->in_w;
  else *h = m->nodes[idx].h, *w = m->nodes[idx].w;
}

static uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void set_shape(TsModel *m, Node *n, float *data, float *grad) {
  n->out.data = data;
  n->out.grad = grad;
  n->out.ndim = n->rank;
  n->out.shape[0] = m->batch;
  n->out.shape[1] = n->c;
  n->out.shape[2] = n->rank == 4 ? n->h : 0;
  n->out.shape[3] = n->rank == 4 ? n->w : 0;
  n->out.numel = (size_t)m->batch * per_item(n);
}

static void take_input(TsModel *m, const float *x, int batch) {
  TsCudaModel *cm = m->dev;
  TsDevice *d = cm->d;
  if (cm->pf_pending && cm->pf_x == x && cm->pf_batch == batch) {
    ts_cuda_check(d, cudaStreamWaitEvent(d->stream, cm->pf_event, 0), "batch copy");
    cm->cur = cm->pf_slot;
  } else {
    if (cm->pf_pending) cudaEventSynchronize(cm->pf_event);
    cm->cur = 1 - cm->cur;
    const size_t bytes = (size_t)batch * cm->in_per * sizeof(float);
    memcpy(cm->in_pin[cm->cur], x, bytes);
    ts_cuda_check(d, cudaMemcpyAsync(cm->in_dev[cm->cur], cm->in_pin[cm->cur], bytes, cudaMemcpyHostToDevice, d->stream),
                  "batch copy");
  }
  cm->pf_pending = 0;
  cm->input = cm->in_dev[cm->cur];
}

void ts_cuda_model_forward(TsModel *m, const float *x, int batch, int train, uint64_t seed) {
  TsCudaModel *cm = m->dev;
  TsDevice *d = cm->d;
  cudaStream_t st = d->stream;
  if (batch > m->max_batch) batch = m->max_batch;
  m->batch = batch;
  m->train = train;
  m->input = x;
  const int B = batch;
  ts_cuda_use(d);
  /* The pinned buffers this forward refills (input staging, noise, outputs)
   * must be done with the previous forward's copies. */
  ts_cuda_model_wait_outputs(m);
  take_input(m, x, batch);
  for (int i = 0; i < m->n_nodes && !d->status; i++) {
    Node *n = &m->nodes[i];
    DevNode *dn = &cm->nodes[i];
    const float *xin = din(m, n->in0);
    const size_t cnt = (size_t)B * per_item(n);
    switch ((int)n->kind) {
    case NODE_CONV: {
      TsConv2dDesc c = n->conv;
      c.n = B;
      ts_cuda_conv2d_forward(d, &c, xin, dparam(m, n->t_w), dparam(m, n->t_b), dn->data);
      break;
    }
    case NODE_LINEAR:
      ts_cuda_linear_forward(d, B, n->lin_in, n->lin_out, xin, dparam(m, n->t_w), dparam(m, n->t_b), dn->data);
      break;
    case NODE_BN: {
      TsBatchNormDesc c = n->bn;
      c.n = B;
      ts_cuda_batchnorm_forward(d, &c, train, xin, dparam(m, n->t_w), dparam(m, n->t_b), dparam(m, n->t_rm),
                                dparam(m, n->t_rv), dn->data, dn->save_mean, dn->save_invstd);
      if (train && n->t_nbt >= 0) (*(int64_t *)m->tensors[n->t_nbt].data)++;
      break;
    }
    case NODE_RELU: ts_cuda_act_forward(st, TS_CUDA_RELU, cnt, 0.0f, xin, dn->data); break;
    case NODE_LEAKY: ts_cuda_act_forward(st, TS_CUDA_LEAKY, cnt, n->alpha, xin, dn->data); break;
    case NODE_ELU: ts_cuda_act_forward(st, TS_CUDA_ELU, cnt, n->alpha, xin, dn->data); break;
    case NODE_SIGMOID: ts_cuda_act_forward(st, TS_CUDA_SIGMOID, cnt, 0.0f, xin, dn->data); break;
    case NODE_TANH: ts_cuda_act_forward(st, TS_CUDA_TANH, cnt, 0.0f, xin, dn->data); break;
    case NODE_MAXPOOL: {
      TsPool2dDesc c = n->pool;
      c.n = B;
      ts_cuda_maxpool_forward(st, &c, xin, dn->data, dn->argmax);
      break;
    }
    case NODE_AVGPOOL: {
      TsPool2dDesc c = n->pool;
      c.n = B;
      ts_cuda_avgpool_forward(st, &c, xin, dn->data);
      break;
    }
    case NODE_GAP: ts_cuda_gap_forward(st, B, n->c, n->lin_in, xin, dn->data); break;
    case NODE_DROPOUT:
      ts_cuda_dropout_forward(st, cnt, n->alpha, train, mix64(seed ^ mix64((uint64_t)i)), xin, dn->data, dn->aux);
      break;
    case NODE_DROPOUT2D:
      ts_cuda_dropout2d_forward(st, (size_t)B * n->c, (size_t)n->h * n->w, n->alpha, train,
                                mix64(seed ^ mix64((uint64_t)i)), xin, dn->data, dn->aux);
      break;
    case NODE_LOGSOFTMAX: ts_cuda_softmax_forward(st, B, (int)per_item(n), 1, xin, dn->data); break;
    case NODE_SHORTCUT_A: {
      int ih, iw;
      in_hw(m, n->in0, &ih, &iw);
      ts_cuda_shortcut_a_forward(st, B, n->c, n->lin_in, n->h, n->w, ih, iw, xin, dn->data);
      break;
    }
    case NODE_ADD: ts_cuda_add_forward(st, cnt, xin, din(m, n->in1), dn->data); break;
    case NODE_VIEW: break;
    case NODE_SAMPLE:
      if (train) {
        /* the CPU's generator, so that both backends draw the same noise */
        TsRng rng;
        ts_rng_init(&rng, seed, 0x5a3b1e00u + (uint64_t)i);
        for (size_t k = 0; k < cnt; k++) cm->eps_pin[k] = (float)ts_rng_normal(&rng);
        ts_cuda_check(d, cudaMemcpyAsync(dn->aux, cm->eps_pin, cnt * sizeof(float), cudaMemcpyHostToDevice, st),
                      "noise copy");
        ts_cuda_sample_forward(st, cnt, xin, din(m, n->in1), dn->aux, dn->data);
      } else {
        ts_cuda_check(d, cudaMemcpyAsync(dn->data, xin, cnt * sizeof(float), cudaMemcpyDeviceToDevice, st), "copy");
      }
      break;
    }
    set_shape(m, n, NULL, NULL);
  }
  for (int o = 0; o < m->n_outputs; o++) {
    Node *n = &m->nodes[m->outputs[o]];
    const size_t cnt = (size_t)B * per_item(n);
    ts_cuda_check(d, cudaMemcpyAsync(cm->out_data[o], cm->nodes[m->outputs[o]].data, cnt * sizeof(float),
                                     cudaMemcpyDeviceToHost, st),
                  "output copy");
    set_shape(m, n, cm->out_data[o], cm->out_grad[o]);
  }
  /* The host does not wait here: the outputs' copy is recorded by an event
   * and ts_model_output waits for it, so work on the host that does not
   * need them (the input batch's diagram of a TopoVAE) runs meanwhile. */
  ts_cuda_check(d, cudaEventRecord(cm->out_event, st), "forward");
  cm->out_pending = 1;
  cm->out_batch = B;
}

void ts_cuda_model_wait_outputs(TsModel *m) {
  TsCudaModel *cm = m->dev;
  if (!cm || !cm->out_pending) return;
  TsDevice *d = cm->d;
  cm->out_pending = 0;
  ts_cuda_use(d);
  ts_cuda_check(d, cudaEventSynchronize(cm->out_event), "forward");
  ts_cuda_check(d, cudaGetLastError(), "forward kernels");
  /* Only now: the previous backward's copy of these buffers to the device
   * ran before the event. */
  for (int o = 0; o < m->n_outputs; o++)
    memset(cm->out_grad[o], 0, (size_t)cm->out_batch * per_item(&m->nodes[m->outputs[o]]) * sizeof(float));
  if (!d->status) return;
  /* a failed step shows as NaN outputs, and ts_model_device_status says why */
  for (int o = 0; o < m->n_outputs; o++) {
    const size_t cnt = (size_t)cm->out_batch * per_item(&m->nodes[m->outputs[o]]);
    for (size_t k = 0; k < cnt; k++) cm->out_data[o][k] = NAN;
  }
}

/* ---- backward ------------------------------------------------------------------- */

static int trainable(const TsModel *m, int t) { return t >= 0 && m->tensors[t].trainable; }
static float *dgrad(const TsModel *m, int t) { return trainable(m, t) ? m->dev->tgrad[t] : NULL; }

/* nn/model.c's grad_for_ex on device buffers. */
static float *grad_for(TsModel *m, int idx, int *fresh) {
  if (fresh) *fresh = 0;
  if (idx == NODE_INPUT || !m->needs[idx]) return NULL;
  const Node *n = &m->nodes[idx];
  int o = n->owner;
  if (o < 0) return NULL;
  TsCudaModel *cm = m->dev;
  if (m->zeroed[o] != m->gen) {
    if (fresh && cm->nodes[o].grad == cm->nodes[idx].grad)
      *fresh = 1;
    else
      ts_cuda_check(cm->d,
                    cudaMemsetAsync(cm->nodes[o].grad, 0, (size_t)m->batch * per_item(&m->nodes[o]) * sizeof(float),
                                    cm->d->stream),
                    "gradient zeroing");
    m->zeroed[o] = m->gen;
  }
  return cm->nodes[idx].grad;
}

void ts_cuda_model_backward(TsModel *m) {
  TsCudaModel *cm = m->dev;
  TsDevice *d = cm->d;
  cudaStream_t st = d->stream;
  const int B = m->batch, train = m->train;
  ts_cuda_model_wait_outputs(m); /* the host wrote the output gradients after reading the outputs */
  ts_cuda_use(d);
  if (++m->gen == 0) {
    memset(m->zeroed, 0, (size_t)m->n_nodes * sizeof(unsigned));
    m->gen = 1;
  }
  unsigned char *needs = m->needs;
  for (int i = 0; i < m->n_nodes; i++) {
    const Node *n = &m->nodes[i];
    needs[i] = trainable(m, n->t_w) || trainable(m, n->t_b) || (n->in0 >= 0 && needs[n->in0]) ||
               (n->in1 >= 0 && needs[n->in1]);
  }
  for (int o = 0; o < m->n_outputs; o++) {
    const Node *n = &m->nodes[m->outputs[o]];
    m->zeroed[n->owner] = m->gen;
    ts_cuda_check(d, cudaMemcpyAsync(cm->nodes[m->outputs[o]].grad, cm->out_grad[o],
                                     (size_t)B * per_item(n) * sizeof(float), cudaMemcpyHostToDevice, st),
                  "output gradient copy");
  }
  for (int i = m->n_nodes - 1; i >= 0 && !d->status; i--) {
    Node *n = &m->nodes[i];
    DevNode *dn = &cm->nodes[i];
    if (!needs[i] || n->kind == NODE_VIEW) continue;
    if (m->zeroed[i] != m->gen) continue;
    const float *xin = din(m, n->in0);
    const float *dy = dn->grad;
    const size_t cnt = (size_t)B * per_item(n);
    int fresh = 0;
    float *dx = grad_for(m, n->in0, n->kind == NODE_RELU || n->kind == NODE_BN ? &fresh : NULL);
    switch ((int)n->kind) {
    case NODE_CONV: {
      TsConv2dDesc c = n->conv;
      c.n = B;
      ts_cuda_conv2d_backward(d, &c, xin, dparam(m, n->t_w), dy, dx, dgrad(m, n->t_w), dgrad(m, n->t_b));
      break;
    }
    case NODE_LINEAR:
      ts_cuda_linear_backward(d, B, n->lin_in, n->lin_out, xin, dparam(m, n->t_w), dy, dx, dgrad(m, n->t_w),
                              dgrad(m, n->t_b));
      break;
    case NODE_BN: {
      TsBatchNormDesc c = n->bn;
      c.n = B;
      ts_cuda_batchnorm_backward(d, &c, train, xin, dparam(m, n->t_w), dn->save_mean, dn->save_invstd, dy, dx,
                                 dgrad(m, n->t_w), dgrad(m, n->t_b), fresh);
      break;
    }
    case NODE_RELU: ts_cuda_act_backward(st, TS_CUDA_RELU, cnt, 0.0f, xin, dn->data, dy, dx, fresh); break;
    case NODE_LEAKY: ts_cuda_act_backward(st, TS_CUDA_LEAKY, cnt, n->alpha, xin, dn->data, dy, dx, 0); break;
    case NODE_ELU: ts_cuda_act_backward(st, TS_CUDA_ELU, cnt, n->alpha, xin, dn->data, dy, dx, 0); break;
    case NODE_SIGMOID: ts_cuda_act_backward(st, TS_CUDA_SIGMOID, cnt, 0.0f, xin, dn->data, dy, dx, 0); break;
    case NODE_TANH: ts_cuda_act_backward(st, TS_CUDA_TANH, cnt, 0.0f, xin, dn->data, dy, dx, 0); break;
    case NODE_MAXPOOL: {
      TsPool2dDesc c = n->pool;
      c.n = B;
      ts_cuda_maxpool_backward(st, &c, dn->argmax, dy, dx);
      break;
    }
    case NODE_AVGPOOL: {
      TsPool2dDesc c = n->pool;
      c.n = B;
      ts_cuda_avgpool_backward(st, &c, dy, dx);
      break;
    }
    case NODE_GAP: ts_cuda_gap_backward(st, B, n->c, n->lin_in, dy, dx); break;
    case NODE_DROPOUT:
    case NODE_DROPOUT2D: ts_cuda_dropout_backward(st, cnt, train, dn->aux, dy, dx); break;
    case NODE_LOGSOFTMAX: ts_cuda_softmax_backward(st, B, (int)per_item(n), 1, dn->data, dy, dx); break;
    case NODE_SHORTCUT_A: {
      int ih, iw;
      in_hw(m, n->in0, &ih, &iw);
      ts_cuda_shortcut_a_backward(st, B, n->c, n->lin_in, n->h, n->w, ih, iw, dy, dx);
      break;
    }
    case NODE_ADD: {
      float *db = grad_for(m, n->in1, NULL);
      ts_cuda_add_backward(st, cnt, dy, dx, db);
      break;
    }
    case NODE_SAMPLE: {
      float *dlv = grad_for(m, n->in1, NULL);
      /* in evaluation z = mu: only dmu */
      ts_cuda_sample_backward(st, cnt, din(m, n->in1), dn->aux, dy, dx, train ? dlv : NULL);
      break;
    }
    case NODE_VIEW: break;
    }
  }
  ts_cuda_check(d, cudaGetLastError(), "backward kernels");
}

void ts_cuda_model_zero_grad(TsModel *m) {
  TsCudaModel *cm = m->dev;
  ts_cuda_use(cm->d);
  ts_cuda_check(cm->d, cudaMemsetAsync(cm->grads, 0, cm->np * sizeof(float), cm->d->stream), "gradient zeroing");
}
