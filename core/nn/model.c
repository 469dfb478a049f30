/* model.c — the layer graph engine: building nodes, allocating parameters
 * (one block), gradients (one block) and activations (one arena), PyTorch
 * default initialisation, forward, backward and the state dict. The model
 * definitions themselves are in zoo.c. */
#include "model-graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "ts-config.h"
#if TS_HAVE_CUDA
#include "nn/cuda/cuda.h"
#endif

/* ---- building ------------------------------------------------------------------- */

static void node_shape_of(const TsModel *m, int idx, int *c, int *h, int *w) {
  if (idx == NODE_INPUT) {
    *c = m->in_c, *h = m->in_h, *w = m->in_w;
  } else {
    *c = m->nodes[idx].c, *h = m->nodes[idx].h, *w = m->nodes[idx].w;
  }
}

static Node *new_node(TsModel *m, NodeKind kind, const char *name, int in0, TsError *err) {
  if (m->n_nodes == m->cap_nodes) {
    int cap = m->cap_nodes ? 2 * m->cap_nodes : 32;
    Node *nn = realloc(m->nodes, (size_t)cap * sizeof *nn);
    if (!nn) {
      ts_error_set(err, TS_ERR_NOMEM, "model: out of memory");
      return NULL;
    }
    m->nodes = nn;
    m->cap_nodes = cap;
  }
  Node *n = &m->nodes[m->n_nodes];
  memset(n, 0, sizeof *n);
  n->kind = kind;
  snprintf(n->name, sizeof n->name, "%s", name);
  n->in0 = in0;
  n->in1 = -1;
  n->t_w = n->t_b = n->t_rm = n->t_rv = n->t_nbt = -1;
  n->owner = m->n_nodes;
  n->rank = 4;
  node_shape_of(m, in0, &n->c, &n->h, &n->w);
  return n;
}

static int add_tensor(TsModel *m, const char *module, const char *field, TsTensorRole role, TsNnDType dtype,
                      int ndim, const int64_t *shape, InitKind ik, float a, TsError *err) {
  if (m->n_tensors == m->cap_tensors) {
    size_t cap = m->cap_tensors ? 2 * m->cap_tensors : 64;
    TsNamedTensor *t = realloc(m->tensors, cap * sizeof *t);
    if (t) m->tensors = t;
    size_t *o = realloc(m->offsets, cap * sizeof *o);
    if (o) m->offsets = o;
    TensorInit *in = realloc(m->inits, cap * sizeof *in);
    if (in) m->inits = in;
    if (!t || !o || !in) {
      ts_error_set(err, TS_ERR_NOMEM, "model: out of memory");
      return -1;
    }
    m->cap_tensors = cap;
  }
  size_t i = m->n_tensors++;
  TsNamedTensor *t = &m->tensors[i];
  memset(t, 0, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s.%s", module, field);
  t->role = role;
  t->dtype = dtype;
  t->ndim = ndim;
  t->numel = 1;
  for (int d = 0; d < ndim; d++) {
    t->shape[d] = shape[d];
    t->numel *= (size_t)shape[d];
  }
  t->trainable = role == TS_ROLE_PARAM;
  m->inits[i].kind = ik;
  m->inits[i].a = a;
  return (int)i;
}

static int finish_node(TsModel *m) { return m->n_nodes++; }

int ts_graph_conv(TsModel *m, const char *name, int in, int k, int r, int stride, int pad, int bias, int transposed,
                  TsError *err) {
  Node *n = new_node(m, NODE_CONV, name, in, err);
  if (!n) return -1;
  TsConv2dDesc *d = &n->conv;
  d->n = m->max_batch, d->c = n->c, d->h = n->h, d->w = n->w;
  d->k = k, d->r = r, d->s = r;
  d->stride_h = d->stride_w = stride;
  d->pad_h = d->pad_w = pad;
  d->dil_h = d->dil_w = 1;
  d->groups = 1;
  d->transposed = transposed;
  if (ts_conv2d_desc_init(d, err) != TS_OK) {
    ts_error_prefix(err, "layer %s", name);
    return -1;
  }
  n->c = k, n->h = d->p, n->w = d->q;
  int64_t shape[4] = {transposed ? d->c : k, transposed ? k : d->c, r, r};
  /* PyTorch: kaiming_uniform(a = sqrt 5) = U(+-1/sqrt(fan_in)); fan_in uses
   * weight dim 1 (for the transposed conv that is the output channels) */
  float bound = 1.0f / sqrtf((float)(shape[1] * r * r));
  int i = add_tensor(m, name, "weight", TS_ROLE_PARAM, TS_NN_F32, 4, shape, INIT_UNIFORM, bound, err);
  if (i < 0) return -1;
  m->nodes[m->n_nodes].t_w = i;
  if (bias) {
    int64_t bs[1] = {k};
    i = add_tensor(m, name, "bias", TS_ROLE_PARAM, TS_NN_F32, 1, bs, INIT_UNIFORM, bound, err);
    if (i < 0) return -1;
    m->nodes[m->n_nodes].t_b = i;
  }
  return finish_node(m);
}

int ts_graph_linear(TsModel *m, const char *name, int in, int out, int bias, TsError *err) {
  Node *n = new_node(m, NODE_LINEAR, name, in, err);
  if (!n) return -1;
  n->lin_in = n->c * n->h * n->w;
  n->lin_out = out;
  n->c = out, n->h = n->w = 1, n->rank = 2;
  int64_t shape[2] = {out, n->lin_in};
  float bound = 1.0f / sqrtf((float)n->lin_in);
  int i = add_tensor(m, name, "weight", TS_ROLE_PARAM, TS_NN_F32, 2, shape, INIT_UNIFORM, bound, err);
  if (i < 0) return -1;
  m->nodes[m->n_nodes].t_w = i;
  if (bias) {
    int64_t bs[1] = {out};
    i = add_tensor(m, name, "bias", TS_ROLE_PARAM, TS_NN_F32, 1, bs, INIT_UNIFORM, bound, err);
    if (i < 0) return -1;
    m->nodes[m->n_nodes].t_b = i;
  }
  return finish_node(m);
}

int ts_graph_bn(TsModel *m, const char *name, int in, TsError *err) {
  Node *n = new_node(m, NODE_BN, name, in, err);
  if (!n) return -1;
  if (in != NODE_INPUT) n->rank = m->nodes[in].rank;
  n->bn.n = m->max_batch, n->bn.c = n->c, n->bn.hw = n->h * n->w;
  n->bn.eps = 1e-5f, n->bn.momentum = 0.1f;
  int64_t cs[1] = {n->c};
  int idx = m->n_nodes;
  int t;
  if ((t = add_tensor(m, name, "weight", TS_ROLE_PARAM, TS_NN_F32, 1, cs, INIT_CONST, 1.0f, err)) < 0) return -1;
  m->nodes[idx].t_w = t;
  if ((t = add_tensor(m, name, "bias", TS_ROLE_PARAM, TS_NN_F32, 1, cs, INIT_CONST, 0.0f, err)) < 0) return -1;
  m->nodes[idx].t_b = t;
  if ((t = add_tensor(m, name, "running_mean", TS_ROLE_BUFFER, TS_NN_F32, 1, cs, INIT_CONST, 0.0f, err)) < 0)
    return -1;
  m->nodes[idx].t_rm = t;
  if ((t = add_tensor(m, name, "running_var", TS_ROLE_BUFFER, TS_NN_F32, 1, cs, INIT_CONST, 1.0f, err)) < 0)
    return -1;
  m->nodes[idx].t_rv = t;
  if ((t = add_tensor(m, name, "num_batches_tracked", TS_ROLE_BUFFER, TS_NN_I64, 0, NULL, INIT_CONST, 0.0f, err)) <
      0)
    return -1;
  m->nodes[idx].t_nbt = t;
  return finish_node(m);
}

int ts_graph_act(TsModel *m, NodeKind kind, const char *name, int in, float alpha, TsError *err) {
  Node *n = new_node(m, kind, name, in, err);
  if (!n) return -1;
  if (in != NODE_INPUT) n->rank = m->nodes[in].rank;
  n->alpha = alpha;
  return finish_node(m);
}

int ts_graph_pool(TsModel *m, NodeKind kind, const char *name, int in, int kernel, int stride, int pad,
                  TsError *err) {
  Node *n = new_node(m, kind, name, in, err);
  if (!n) return -1;
  TsPool2dDesc *d = &n->pool;
  d->n = m->max_batch, d->c = n->c, d->h = n->h, d->w = n->w;
  d->kernel_h = d->kernel_w = kernel;
  d->stride_h = d->stride_w = stride;
  d->pad_h = d->pad_w = pad;
  if (ts_pool2d_desc_init(d, err) != TS_OK) {
    ts_error_prefix(err, "layer %s", name);
    return -1;
  }
  n->h = d->p, n->w = d->q;
  return finish_node(m);
}

int ts_graph_gap(TsModel *m, const char *name, int in, TsError *err) {
  Node *n = new_node(m, NODE_GAP, name, in, err);
  if (!n) return -1;
  n->lin_in = n->h * n->w;
  n->h = n->w = 1;
  n->rank = 2;
  return finish_node(m);
}

int ts_graph_add(TsModel *m, const char *name, int a, int b, TsError *err) {
  int ca, ha, wa, cb, hb, wb;
  node_shape_of(m, a, &ca, &ha, &wa);
  node_shape_of(m, b, &cb, &hb, &wb);
  if (ca != cb || ha != hb || wa != wb) {
    ts_error_set(err, TS_ERR_INVALID, "layer %s: cannot add %dx%dx%d and %dx%dx%d", name, ca, ha, wa, cb, hb, wb);
    return -1;
  }
  Node *n = new_node(m, NODE_ADD, name, a, err);
  if (!n) return -1;
  n->in1 = b;
  if (a != NODE_INPUT) n->rank = m->nodes[a].rank;
  return finish_node(m);
}

int ts_graph_view(TsModel *m, const char *name, int in, int c, int h, int w, int rank, TsError *err) {
  Node *n = new_node(m, NODE_VIEW, name, in, err);
  if (!n) return -1;
  if ((size_t)c * h * w != (size_t)n->c * n->h * n->w) {
    ts_error_set(err, TS_ERR_INVALID, "layer %s: cannot view %dx%dx%d as %dx%dx%d", name, n->c, n->h, n->w, c, h, w);
    return -1;
  }
  n->c = c, n->h = h, n->w = w, n->rank = rank;
  n->owner = in == NODE_INPUT ? -1 : m->nodes[in].owner;
  return finish_node(m);
}

int ts_graph_dropout(TsModel *m, NodeKind kind, const char *name, int in, float p, TsError *err) {
  Node *n = new_node(m, kind, name, in, err);
  if (!n) return -1;
  if (in != NODE_INPUT) n->rank = m->nodes[in].rank;
  n->alpha = p;
  return finish_node(m);
}

int ts_graph_shortcut_a(TsModel *m, const char *name, int in, int out_c, TsError *err) {
  Node *n = new_node(m, NODE_SHORTCUT_A, name, in, err);
  if (!n) return -1;
  if (out_c < n->c || (out_c - n->c) % 2) {
    ts_error_set(err, TS_ERR_INVALID, "layer %s: cannot pad %d channels to %d on both sides", name, n->c, out_c);
    return -1;
  }
  n->lin_in = n->c; /* the input's channels */
  n->c = out_c;
  n->h = (n->h + 1) / 2, n->w = (n->w + 1) / 2;
  return finish_node(m);
}

/* Forward (back = 0): y[b, c, i, j] = x[b, c - pad, 2i, 2j] inside the
 * input's channels, 0 outside (src = x, dst = y). Backward (back = 1):
 * dx[b, c - pad, 2i, 2j] += dy[b, c, i, j] (src = dy, dst = dx). */
static void shortcut_a(const Node *n, int B, int ih, int iw, const float *src, float *dst, int back) {
  const int cin = n->lin_in, pad = (n->c - cin) / 2, oh = n->h, ow = n->w;
  for (int b = 0; b < B; b++)
    for (int c = 0; c < n->c; c++) {
      const size_t o = ((size_t)b * n->c + c) * oh * ow;
      const int ci = c - pad;
      if (ci < 0 || ci >= cin) {
        if (!back) memset(dst + o, 0, (size_t)oh * ow * sizeof(float));
        continue;
      }
      const size_t xo = ((size_t)b * cin + ci) * ih * iw;
      for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++) {
          size_t xi = xo + (size_t)2 * i * iw + 2 * j, yi = o + (size_t)i * ow + j;
          if (back) dst[xi] += src[yi];
          else dst[yi] = src[xi];
        }
    }
}

int ts_graph_sample(TsModel *m, const char *name, int mu, int logvar, TsError *err) {
  Node *n = new_node(m, NODE_SAMPLE, name, mu, err);
  if (!n) return -1;
  n->in1 = logvar;
  n->rank = 2;
  return finish_node(m);
}

/* ---- allocation ------------------------------------------------------------------- */

static size_t node_per_item(const Node *n) { return (size_t)n->c * n->h * n->w; }

static size_t scratch_need(const TsModel *m, int nthreads) {
  size_t need = 16;
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].kind == NODE_CONV) {
      size_t s = ts_conv2d_scratch_size(&m->nodes[i].conv, nthreads);
      if (s > need) need = s;
    }
  return need;
}

static TsStatus ensure_scratch(TsModel *m, int nthreads, TsError *err) {
  if (m->scratch && (size_t)nthreads <= m->scratch_threads) return TS_OK;
  size_t need = scratch_need(m, nthreads);
  float *s = aligned_alloc(64, ts_arena_round(need) * sizeof(float));
  if (!s) return ts_error_set(err, TS_ERR_NOMEM, "model: cannot allocate %zu bytes of scratch", need * sizeof(float));
  free(m->scratch);
  m->scratch = s;
  m->scratch_size = need;
  m->scratch_threads = (size_t)nthreads;
  return TS_OK;
}

static TsStatus allocate(TsModel *m, TsError *err) {
  size_t np = 0, nb = 0, nc = 0;
  for (size_t i = 0; i < m->n_tensors; i++) {
    TsNamedTensor *t = &m->tensors[i];
    if (t->dtype == TS_NN_I64) m->offsets[i] = nc++;
    else if (t->role == TS_ROLE_PARAM) m->offsets[i] = np, np += t->numel;
    else m->offsets[i] = nb, nb += t->numel;
  }
  m->params = calloc(np + 1, sizeof(float));
  m->grads = calloc(np + 1, sizeof(float));
  m->buffers = calloc(nb + 1, sizeof(float));
  m->counters = calloc(nc + 1, sizeof(int64_t));
  m->zeroed = calloc((size_t)m->n_nodes + 1, sizeof(unsigned));
  m->needs = calloc((size_t)m->n_nodes + 1, 1);
  if (!m->params || !m->grads || !m->buffers || !m->counters || !m->zeroed || !m->needs)
    return ts_error_set(err, TS_ERR_NOMEM, "model: cannot allocate %zu parameters", np);
  for (size_t i = 0; i < m->n_tensors; i++) {
    TsNamedTensor *t = &m->tensors[i];
    if (t->dtype == TS_NN_I64) t->data = m->counters + m->offsets[i];
    else if (t->role == TS_ROLE_PARAM) {
      t->data = m->params + m->offsets[i];
      t->grad = m->grads + m->offsets[i];
    } else t->data = m->buffers + m->offsets[i];
  }
  /* activations */
  size_t B = (size_t)m->max_batch, total = 0, nargmax = 0;
  for (int i = 0; i < m->n_nodes; i++) {
    const Node *n = &m->nodes[i];
    size_t per = ts_arena_round(B * node_per_item(n));
    if (n->kind != NODE_VIEW) total += 2 * per;
    if (n->kind == NODE_BN) total += 2 * ts_arena_round((size_t)n->c);
    if (n->kind == NODE_DROPOUT || n->kind == NODE_DROPOUT2D || n->kind == NODE_SAMPLE) total += per;
    if (n->kind == NODE_MAXPOOL) nargmax += B * node_per_item(n);
  }
  if (ts_arena_init(&m->arena, total, err) != TS_OK) return TS_ERR_NOMEM;
  m->argmax_block = calloc(nargmax + 1, sizeof(int32_t));
  if (!m->argmax_block) return ts_error_set(err, TS_ERR_NOMEM, "model: out of memory");
  int32_t *am = m->argmax_block;
  for (int i = 0; i < m->n_nodes; i++) {
    Node *n = &m->nodes[i];
    size_t per = B * node_per_item(n);
    if (n->kind == NODE_VIEW) {
      if (n->in0 == NODE_INPUT) continue; /* set per forward */
      n->data = m->nodes[n->in0].data;
      n->grad = m->nodes[n->in0].grad;
    } else {
      n->data = ts_arena_alloc(&m->arena, per);
      n->grad = ts_arena_alloc(&m->arena, per);
    }
    if (n->kind == NODE_BN) {
      n->save_mean = ts_arena_alloc(&m->arena, (size_t)n->c);
      n->save_invstd = ts_arena_alloc(&m->arena, (size_t)n->c);
    }
    if (n->kind == NODE_DROPOUT || n->kind == NODE_DROPOUT2D || n->kind == NODE_SAMPLE)
      n->aux = ts_arena_alloc(&m->arena, per);
    if (n->kind == NODE_MAXPOOL) {
      n->argmax = am;
      am += per;
    }
  }
  return ensure_scratch(m, ts_cpu_count(), err);
}

/* ---- public: life cycle ---------------------------------------------------------------- */

static void free_internals(TsModel *m) {
  free(m->nodes);
  free(m->tensors);
  free(m->offsets);
  free(m->inits);
  free(m->params);
  free(m->grads);
  free(m->buffers);
  free(m->counters);
  free(m->zeroed);
  free(m->needs);
  free(m->argmax_block);
  free(m->scratch);
  ts_arena_clear(&m->arena);
}

void ts_model_free(TsModel *m) {
  if (!m) return;
#if TS_HAVE_CUDA
  ts_cuda_model_free(m->dev);
#endif
  free_internals(m);
  free(m);
}

TsModel *ts_model_new(const TsModelConfig *cfg, int max_batch, uint64_t seed, TsError *err) {
  if (max_batch < 1 || max_batch > 1 << 20) {
    ts_error_set(err, TS_ERR_INVALID, "model: batch size %d out of range", max_batch);
    return NULL;
  }
  if (cfg->in_channels < 1 || cfg->in_h < 1 || cfg->in_w < 1 || cfg->in_h > 4096 || cfg->in_w > 4096) {
    ts_error_set(err, TS_ERR_INVALID, "model %s: input %dx%dx%d is not valid", ts_model_kind_name(cfg->kind),
                 cfg->in_channels, cfg->in_h, cfg->in_w);
    return NULL;
  }
  TsModel *m = calloc(1, sizeof *m);
  if (!m) {
    ts_error_set(err, TS_ERR_NOMEM, "model: out of memory");
    return NULL;
  }
  m->cfg = *cfg;
  m->max_batch = max_batch;
  m->head = -1;
  m->in_c = cfg->in_channels, m->in_h = cfg->in_h, m->in_w = cfg->in_w;
  if (ts_zoo_build(m, err) != TS_OK || allocate(m, err) != TS_OK) {
    ts_model_free(m);
    return NULL;
  }
  ts_model_init(m, seed);
  return m;
}

const TsModelConfig *ts_model_config(const TsModel *m) { return &m->cfg; }
int ts_model_max_batch(const TsModel *m) { return m->max_batch; }

void ts_model_init(TsModel *m, uint64_t seed) {
  for (size_t i = 0; i < m->n_tensors; i++) {
    TsNamedTensor *t = &m->tensors[i];
    if (t->dtype == TS_NN_I64) {
      int64_t *v = t->data;
      for (size_t k = 0; k < t->numel; k++) v[k] = (int64_t)m->inits[i].a;
      continue;
    }
    float *v = t->data;
    TsRng rng;
    ts_rng_init(&rng, seed, (uint64_t)i);
    const float a = m->inits[i].a;
    for (size_t k = 0; k < t->numel; k++) {
      switch (m->inits[i].kind) {
      case INIT_UNIFORM: v[k] = (float)((2.0 * ts_rng_uniform(&rng) - 1.0) * a); break;
      case INIT_NORMAL: v[k] = (float)(ts_rng_normal(&rng) * a); break;
      case INIT_CONST: v[k] = a; break;
      }
    }
  }
}

/* ---- forward ---------------------------------------------------------------------------- */

static const float *in_data(const TsModel *m, int idx) {
  if (idx == NODE_INPUT || m->nodes[idx].owner < 0) return m->input;
  return m->nodes[idx].data;
}

static float *tparam(const TsModel *m, int t) { return t < 0 ? NULL : (float *)m->tensors[t].data; }

static uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

static void set_out(TsModel *m, Node *n) {
  n->out.data = n->data;
  n->out.grad = n->grad;
  n->out.ndim = n->rank;
  n->out.shape[0] = m->batch;
  n->out.shape[1] = n->c;
  n->out.shape[2] = n->rank == 4 ? n->h : 0;
  n->out.shape[3] = n->rank == 4 ? n->w : 0;
  n->out.numel = (size_t)m->batch * node_per_item(n);
}

/* A context whose thread count the scratch buffer can serve. */
static TsNnCtx usable_ctx(TsModel *m, const TsNnCtx *ctx) {
  TsNnCtx c = {NULL, 0};
  if (ctx) c = *ctx;
  if (ensure_scratch(m, ts_nn_ctx_threads(&c), NULL) != TS_OK) c.pool = NULL; /* serial fallback */
  return c;
}

void ts_model_forward(TsModel *m, const TsNnCtx *ctx0, const float *x, int batch, int train, uint64_t seed) {
#if TS_HAVE_CUDA
  if (m->dev) { /* on the device (nn/device.h): one test per call */
    ts_cuda_model_forward(m, x, batch, train, seed);
    return;
  }
#endif
  TsNnCtx ctx = usable_ctx(m, ctx0);
  if (batch > m->max_batch) batch = m->max_batch;
  m->batch = batch;
  m->train = train;
  m->input = x;
  const int B = batch;
  for (int i = 0; i < m->n_nodes; i++) {
    Node *n = &m->nodes[i];
    const float *xin = in_data(m, n->in0);
    const size_t cnt = (size_t)B * node_per_item(n);
    switch (n->kind) {
    case NODE_CONV: {
      TsConv2dDesc d = n->conv;
      d.n = B;
      ts_conv2d_forward(&ctx, &d, xin, tparam(m, n->t_w), tparam(m, n->t_b), n->data, m->scratch);
      break;
    }
    case NODE_LINEAR:
      ts_linear_forward(&ctx, B, n->lin_in, n->lin_out, xin, tparam(m, n->t_w), tparam(m, n->t_b), n->data);
      break;
    case NODE_BN: {
      TsBatchNormDesc d = n->bn;
      d.n = B;
      ts_batchnorm_forward(&ctx, &d, train, xin, tparam(m, n->t_w), tparam(m, n->t_b), tparam(m, n->t_rm),
                           tparam(m, n->t_rv), train ? (int64_t *)m->tensors[n->t_nbt].data : NULL, n->data,
                           n->save_mean, n->save_invstd);
      break;
    }
    case NODE_RELU: ts_relu_forward(&ctx, cnt, xin, n->data); break;
    case NODE_LEAKY: ts_leaky_relu_forward(&ctx, cnt, n->alpha, xin, n->data); break;
    case NODE_ELU: ts_elu_forward(&ctx, cnt, n->alpha, xin, n->data); break;
    case NODE_SIGMOID: ts_sigmoid_forward(&ctx, cnt, xin, n->data); break;
    case NODE_TANH: ts_tanh_forward(&ctx, cnt, xin, n->data); break;
    case NODE_MAXPOOL: {
      TsPool2dDesc d = n->pool;
      d.n = B;
      ts_maxpool2d_forward(&ctx, &d, xin, n->data, n->argmax);
      break;
    }
    case NODE_AVGPOOL: {
      TsPool2dDesc d = n->pool;
      d.n = B;
      ts_avgpool2d_forward(&ctx, &d, xin, n->data);
      break;
    }
    case NODE_GAP: ts_global_avgpool_forward(&ctx, B, n->c, n->lin_in, xin, n->data); break;
    case NODE_DROPOUT:
      ts_dropout_forward(&ctx, cnt, n->alpha, train, mix64(seed ^ mix64((uint64_t)i)), xin, n->data, n->aux);
      break;
    case NODE_DROPOUT2D:
      ts_dropout2d_forward(&ctx, (size_t)B * n->c, (size_t)n->h * n->w, n->alpha, train,
                           mix64(seed ^ mix64((uint64_t)i)), xin, n->data, n->aux);
      break;
    case NODE_LOGSOFTMAX: ts_log_softmax_forward(&ctx, B, n->c * n->h * n->w, xin, n->data); break;
    case NODE_SHORTCUT_A: {
      int ic, ih, iw;
      node_shape_of(m, n->in0, &ic, &ih, &iw);
      shortcut_a(n, B, ih, iw, xin, n->data, 0);
      break;
    }
    case NODE_ADD: ts_add_forward(&ctx, cnt, xin, in_data(m, n->in1), n->data); break;
    case NODE_VIEW:
      break; /* in_data() resolves views of the input to the input itself */
    case NODE_SAMPLE: {
      const float *mu = xin, *lv = in_data(m, n->in1);
      if (m->z_override) {
        memcpy(n->data, m->z_override, cnt * sizeof(float));
      } else if (train) {
        TsRng rng;
        ts_rng_init(&rng, seed, 0x5a3b1e00u + (uint64_t)i);
        for (size_t k = 0; k < cnt; k++) {
          n->aux[k] = (float)ts_rng_normal(&rng);
          n->data[k] = mu[k] + n->aux[k] * expf(0.5f * lv[k]);
        }
      } else {
        memcpy(n->data, mu, cnt * sizeof(float));
      }
      break;
    }
    }
    set_out(m, n);
  }
  for (int o = 0; o < m->n_outputs; o++) {
    Node *n = &m->nodes[m->outputs[o]];
    if (n->grad) memset(n->grad, 0, (size_t)B * node_per_item(n) * sizeof(float));
  }
}

TsStatus ts_model_decode(TsModel *m, const TsNnCtx *ctx, const float *z, int batch, TsError *err) {
  int has_sample = 0;
  for (int i = 0; i < m->n_nodes; i++) has_sample |= m->nodes[i].kind == NODE_SAMPLE;
  if (!has_sample) return ts_error_set(err, TS_ERR_UNSUPPORTED, "decode: the model has no latent sampling layer");
  if (batch > m->max_batch) batch = m->max_batch;
  size_t nx = (size_t)batch * (size_t)m->cfg.in_channels * (size_t)m->cfg.in_h * (size_t)m->cfg.in_w;
  float *x = calloc(nx ? nx : 1, sizeof *x);
  if (!x) return ts_error_set(err, TS_ERR_NOMEM, "decode: %zu inputs", nx);
  /* the encoder runs on zeros and its codes are replaced by z */
  m->z_override = z;
  ts_model_forward(m, ctx, x, batch, 0, 0);
  m->z_override = NULL;
  m->input = NULL;
  free(x);
  return TS_OK;
}

/* ---- backward ------------------------------------------------------------------------- */

static int tensor_trainable(const TsModel *m, int t) { return t >= 0 && m->tensors[t].trainable; }

static float *tgrad(const TsModel *m, int t) { return tensor_trainable(m, t) ? m->tensors[t].grad : NULL; }

/* Zeroes the gradient storage behind node idx once per backward pass. With
 * fresh non-NULL, a caller that writes every element (the _into ops) gets
 * *fresh = 1 instead of a zeroing when it is the first contributor: on
 * ResNets that spares the zeroing and the read of two thirds of the
 * activation gradients. */
static void zero_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  memset((float *)ctx + b, 0, (e - b) * sizeof(float));
}

static float *grad_for_ex(TsModel *m, const TsNnCtx *ctx, int idx, const unsigned char *needs, int *fresh) {
  if (fresh) *fresh = 0;
  /* the network input and views of it: the caller's buffer (zeroed when
   * backward starts, so every op accumulates into it) */
  if (idx == NODE_INPUT) return m->input_grad;
  if (!needs[idx]) return NULL;
  Node *n = &m->nodes[idx];
  int o = n->owner;
  if (o < 0) return m->input_grad;
  if (m->zeroed[o] != m->gen) {
    Node *s = &m->nodes[o];
    if (fresh && s->grad == n->grad)
      *fresh = 1;
    else /* on the pool: a serial memset of a large gradient leaves the other threads idle */
      ts_nn_for(ctx, (size_t)m->batch * node_per_item(s), 1 << 16, 1, zero_task, s->grad);
    m->zeroed[o] = m->gen;
  }
  return n->grad;
}

static float *grad_for(TsModel *m, const TsNnCtx *ctx, int idx, const unsigned char *needs) {
  return grad_for_ex(m, ctx, idx, needs, NULL);
}

/* in1 is -1 both when unused and when it is the network input: only the
 * two-input nodes read it */
static int two_inputs(const Node *n) { return n->kind == NODE_ADD || n->kind == NODE_SAMPLE; }

TsStatus ts_model_set_input_grad(TsModel *m, float *dx, TsError *err) {
  if (dx && m->dev)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "model: the input gradient is computed on the CPU engine only");
  m->input_grad = dx;
  return TS_OK;
}

void ts_model_set_backward_hook(TsModel *m, TsModelBackwardHook hook, void *user) {
  m->bwd_hook = hook;
  m->bwd_user = user;
}

static void report_done(TsModel *m, const Node *n) {
  int t[2], k = 0;
  if (n->t_w >= 0 && m->tensors[n->t_w].role == TS_ROLE_PARAM) t[k++] = n->t_w;
  if (n->t_b >= 0 && m->tensors[n->t_b].role == TS_ROLE_PARAM) t[k++] = n->t_b;
  if (k) m->bwd_hook(m->bwd_user, t, k);
}

void ts_model_backward(TsModel *m, const TsNnCtx *ctx0) {
#if TS_HAVE_CUDA
  if (m->dev) {
    ts_cuda_model_backward(m);
    return;
  }
#endif
  TsNnCtx ctx = usable_ctx(m, ctx0);
  const int B = m->batch, train = m->train;
  if (++m->gen == 0) {
    memset(m->zeroed, 0, (size_t)m->n_nodes * sizeof(unsigned));
    m->gen = 1;
  }
  unsigned char *needs = m->needs;
  /* needs[i]: the gradient of node i's output leads to a trainable parameter */
  const int want_input = m->input_grad != NULL;
  for (int i = 0; i < m->n_nodes; i++) {
    const Node *n = &m->nodes[i];
    needs[i] = tensor_trainable(m, n->t_w) || tensor_trainable(m, n->t_b) ||
               (n->in0 >= 0 ? needs[n->in0] : n->in0 == NODE_INPUT && want_input) ||
               (n->in1 >= 0 ? needs[n->in1] : two_inputs(n) && want_input);
  }
  if (want_input) {
    size_t nx = (size_t)B * (size_t)m->in_c * (size_t)m->in_h * (size_t)m->in_w;
    ts_nn_for(&ctx, nx, 1 << 16, 1, zero_task, m->input_grad);
  }
  for (int o = 0; o < m->n_outputs; o++) m->zeroed[m->nodes[m->outputs[o]].owner] = m->gen;
  for (int i = m->n_nodes - 1; i >= -1; i--) {
    /* node i + 1 is done, whichever way its iteration ended */
    if (m->bwd_hook && i + 1 < m->n_nodes) report_done(m, &m->nodes[i + 1]);
    if (i < 0) break;
    Node *n = &m->nodes[i];
    if (!needs[i] || n->kind == NODE_VIEW) continue;
    if (m->zeroed[i] != m->gen) continue; /* nothing flows into this node */
    const float *xin = in_data(m, n->in0);
    const float *dy = n->grad;
    const size_t cnt = (size_t)B * node_per_item(n);
    int fresh = 0;
    float *dx = grad_for_ex(m, &ctx, n->in0, needs, n->kind == NODE_RELU || n->kind == NODE_BN ? &fresh : NULL);
    switch (n->kind) {
    case NODE_CONV: {
      TsConv2dDesc d = n->conv;
      d.n = B;
      ts_conv2d_backward(&ctx, &d, xin, tparam(m, n->t_w), dy, dx, tgrad(m, n->t_w), tgrad(m, n->t_b), m->scratch);
      break;
    }
    case NODE_LINEAR:
      ts_linear_backward(&ctx, B, n->lin_in, n->lin_out, xin, tparam(m, n->t_w), dy, dx, tgrad(m, n->t_w),
                         tgrad(m, n->t_b));
      break;
    case NODE_BN: {
      TsBatchNormDesc d = n->bn;
      d.n = B;
      (fresh ? ts_batchnorm_backward_into : ts_batchnorm_backward)(&ctx, &d, train, xin, tparam(m, n->t_w),
                                                                   n->save_mean, n->save_invstd, dy, dx,
                                                                   tgrad(m, n->t_w), tgrad(m, n->t_b));
      break;
    }
    case NODE_RELU:
      if (dx && fresh)
        ts_relu_backward_into(&ctx, cnt, n->data, dy, dx);
      else if (dx)
        ts_relu_backward(&ctx, cnt, xin, n->data, dy, dx);
      break;
    case NODE_LEAKY:
      if (dx) ts_leaky_relu_backward(&ctx, cnt, n->alpha, xin, n->data, dy, dx);
      break;
    case NODE_ELU:
      if (dx) ts_elu_backward(&ctx, cnt, n->alpha, xin, n->data, dy, dx);
      break;
    case NODE_SIGMOID:
      if (dx) ts_sigmoid_backward(&ctx, cnt, xin, n->data, dy, dx);
      break;
    case NODE_TANH:
      if (dx) ts_tanh_backward(&ctx, cnt, xin, n->data, dy, dx);
      break;
    case NODE_MAXPOOL:
      if (dx) {
        TsPool2dDesc d = n->pool;
        d.n = B;
        ts_maxpool2d_backward(&ctx, &d, n->argmax, dy, dx);
      }
      break;
    case NODE_AVGPOOL:
      if (dx) {
        TsPool2dDesc d = n->pool;
        d.n = B;
        ts_avgpool2d_backward(&ctx, &d, dy, dx);
      }
      break;
    case NODE_GAP:
      if (dx) ts_global_avgpool_backward(&ctx, B, n->c, n->lin_in, dy, dx);
      break;
    case NODE_DROPOUT:
    case NODE_DROPOUT2D:
      if (dx) ts_dropout_backward(&ctx, cnt, train, n->aux, dy, dx);
      break;
    case NODE_LOGSOFTMAX:
      if (dx) ts_log_softmax_backward(&ctx, B, n->c * n->h * n->w, n->data, dy, dx);
      break;
    case NODE_SHORTCUT_A:
      if (dx) {
        int ic, ih, iw;
        node_shape_of(m, n->in0, &ic, &ih, &iw);
        shortcut_a(n, B, ih, iw, dy, dx, 1);
      }
      break;
    case NODE_ADD: {
      float *db = grad_for(m, &ctx, n->in1, needs);
      ts_add_backward(&ctx, cnt, dy, dx, db);
      break;
    }
    case NODE_SAMPLE: {
      float *dlv = grad_for(m, &ctx, n->in1, needs);
      const float *lv = in_data(m, n->in1);
      for (size_t k = 0; k < cnt; k++) {
        if (dx) dx[k] += dy[k];
        if (dlv && train) dlv[k] += dy[k] * n->aux[k] * 0.5f * expf(0.5f * lv[k]);
      }
      break;
    }
    case NODE_VIEW: break;
    }
  }
}

void ts_model_zero_grad(TsModel *m) {
#if TS_HAVE_CUDA
  if (m->dev) {
    ts_cuda_model_zero_grad(m);
    return;
  }
#endif
  size_t np = 0;
  for (size_t i = 0; i < m->n_tensors; i++)
    if (m->tensors[i].role == TS_ROLE_PARAM && m->tensors[i].dtype == TS_NN_F32) np += m->tensors[i].numel;
  memset(m->grads, 0, np * sizeof(float));
}

/* ---- accessors ------------------------------------------------------------------------ */

int ts_model_n_outputs(const TsModel *m) { return m->n_outputs; }

TsTensor *ts_model_output(TsModel *m, int index) {
  if (index < 0 || index >= m->n_outputs) return NULL;
#if TS_HAVE_CUDA
  if (m->dev) ts_cuda_model_wait_outputs(m); /* a device forward does not wait for its outputs' copy */
#endif
  return &m->nodes[m->outputs[index]].out;
}

const TsNamedTensor *ts_model_tensors(const TsModel *m, size_t *n) {
  *n = m->n_tensors;
  return m->tensors;
}

TsNamedTensor *ts_model_find(TsModel *m, const char *name) {
  for (size_t i = 0; i < m->n_tensors; i++)
    if (strcmp(m->tensors[i].name, name) == 0) return &m->tensors[i];
  return NULL;
}

size_t ts_model_n_params(const TsModel *m) {
  size_t s = 0;
  for (size_t i = 0; i < m->n_tensors; i++)
    if (m->tensors[i].role == TS_ROLE_PARAM) s += m->tensors[i].numel;
  return s;
}

int ts_model_n_layers(const TsModel *m) { return m->n_nodes; }
const char *ts_model_layer_name(const TsModel *m, int i) { return m->nodes[i].name; }

const char *ts_model_layer_kind(const TsModel *m, int i) {
  static const char *const names[] = {"conv2d",  "linear", "batchnorm", "relu",    "leaky_relu",
                                      "elu",     "sigmoid", "tanh",     "maxpool", "avgpool",
                                      "global_avgpool", "dropout", "add", "view", "sample",
                                      "dropout2d", "log_softmax", "shortcut"};
  const Node *n = &m->nodes[i];
  if (n->kind == NODE_CONV && n->conv.transposed) return "conv_transpose2d";
  return names[n->kind];
}

const TsTensor *ts_model_layer_output(const TsModel *m, int i) { return &m->nodes[i].out; }

int ts_model_layer_shape(const TsModel *m, int i, int *c, int *h, int *w) {
  const Node *n = &m->nodes[i];
  *c = n->c, *h = n->h, *w = n->w;
  return n->rank;
}

void ts_model_set_trainable(TsModel *m, const char *prefix, int trainable) {
  size_t len = strlen(prefix);
  for (size_t i = 0; i < m->n_tensors; i++)
    if (m->tensors[i].role == TS_ROLE_PARAM && strncmp(m->tensors[i].name, prefix, len) == 0)
      m->tensors[i].trainable = trainable ? 1 : 0;
}

const char *ts_model_head_name(const TsModel *m) { return m->head < 0 ? NULL : m->nodes[m->head].name; }

TsStatus ts_model_replace_head(TsModel *m, int n_outputs, int freeze, uint64_t seed, TsError *err) {
  if (m->dev)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "replace head: the model is on a device (replace it first)");
  if (m->head < 0)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "model %s has no classification head to replace",
                        ts_model_kind_name(m->cfg.kind));
  if (n_outputs < 1 || n_outputs > 1000000)
    return ts_error_set(err, TS_ERR_INVALID, "replace head: %d outputs is out of range", n_outputs);
  TsModelConfig cfg = m->cfg;
  cfg.num_outputs = n_outputs;
  TsModel *nm = ts_model_new(&cfg, m->max_batch, seed, err);
  if (!nm) return err ? err->code : TS_ERR_NOMEM;
  char head[TS_TENSOR_NAME_MAX + 2];
  snprintf(head, sizeof head, "%s.", nm->nodes[nm->head].name);
  for (size_t i = 0; i < nm->n_tensors; i++) {
    TsNamedTensor *t = &nm->tensors[i];
    if (strncmp(t->name, head, strlen(head)) == 0) continue;
    const TsNamedTensor *o = ts_model_find(m, t->name);
    if (o && o->numel == t->numel && o->dtype == t->dtype) {
      memcpy(t->data, o->data, t->numel * ts_nn_dtype_size(t->dtype));
      t->trainable = freeze ? 0 : o->trainable;
    }
  }
  free_internals(m);
  *m = *nm;
  free(nm);
  return TS_OK;
}
