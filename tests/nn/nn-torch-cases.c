/* nn-torch-cases — writes what the engine computes, for test-nn-torch.py to
 * recompute with PyTorch and compare.
 *
 *   nn-torch-cases DIR SEED
 * writes DIR/ops.safetensors + DIR/ops.json (every op and loss, forward and
 * backward, on random shapes drawn from SEED) and DIR/<model>.safetensors +
 * DIR/models.json (training steps of LeNet-5, ResNet-18 (small stem, narrow),
 * ResNet-50 (narrow), the TopoVAE and an MLP from the weights written there;
 * for the classifiers also the first step's input gradient).
 * The files are safetensors (8-byte header length, JSON header, raw data),
 * so the Python side needs no extra package. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "base/rng.h"
#include "nn/loss.h"
#include "nn/model.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "run/objective.h"

/* ---- a minimal safetensors writer ------------------------------------------------ */
typedef struct Entry {
  char name[128];
  int i64;
  int ndim;
  long shape[4];
  size_t bytes;
  void *data;
} Entry;

typedef struct Writer {
  Entry *e;
  size_t n, cap;
} Writer;

static void put(Writer *w, const char *name, int i64, int ndim, const long *shape, const void *data) {
  if (w->n == w->cap) {
    w->cap = w->cap ? 2 * w->cap : 256;
    w->e = realloc(w->e, w->cap * sizeof *w->e);
    if (!w->e) abort();
  }
  Entry *e = &w->e[w->n++];
  if (strlen(name) >= sizeof e->name) abort(); /* the names here are short; a long one is a bug */
  memcpy(e->name, name, strlen(name) + 1);
  e->i64 = i64;
  e->ndim = ndim;
  size_t count = 1;
  for (int i = 0; i < ndim; i++) {
    e->shape[i] = shape[i];
    count *= (size_t)shape[i];
  }
  e->bytes = count * (i64 ? 8 : 4);
  e->data = malloc(e->bytes + 1);
  if (!e->data) abort();
  memcpy(e->data, data, e->bytes);
}

static void putf(Writer *w, const char *name, const float *data, int ndim, long d0, long d1, long d2, long d3) {
  long s[4] = {d0, d1, d2, d3};
  put(w, name, 0, ndim, s, data);
}

static int save(Writer *w, const char *path) {
  size_t hcap = 256 + w->n * 200, hl = 0, off = 0;
  char *h = malloc(hcap);
  hl += (size_t)snprintf(h + hl, hcap - hl, "{");
  for (size_t i = 0; i < w->n; i++) {
    Entry *e = &w->e[i];
    hl += (size_t)snprintf(h + hl, hcap - hl, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", i ? "," : "", e->name,
                           e->i64 ? "I64" : "F32");
    for (int d = 0; d < e->ndim; d++) hl += (size_t)snprintf(h + hl, hcap - hl, "%s%ld", d ? "," : "", e->shape[d]);
    hl += (size_t)snprintf(h + hl, hcap - hl, "],\"data_offsets\":[%zu,%zu]}", off, off + e->bytes);
    off += e->bytes;
  }
  hl += (size_t)snprintf(h + hl, hcap - hl, "}");
  while (hl % 8) h[hl++] = ' ';
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  uint64_t len = hl;
  fwrite(&len, 8, 1, f);
  fwrite(h, 1, hl, f);
  for (size_t i = 0; i < w->n; i++) fwrite(w->e[i].data, 1, w->e[i].bytes, f);
  free(h);
  for (size_t i = 0; i < w->n; i++) free(w->e[i].data);
  free(w->e);
  memset(w, 0, sizeof *w);
  return fclose(f);
}

/* ---- random data -------------------------------------------------------------------- */
static TsRng rng;
static int ri(int lo, int hi) { return lo + (int)ts_rng_below(&rng, (uint64_t)(hi - lo + 1)); }
static float *randv(size_t n, float scale) {
  float *v = malloc((n + 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = (float)(ts_rng_uniform(&rng) * 2.0 - 1.0) * scale;
  return v;
}
static float *zeros(size_t n) { return calloc(n + 1, sizeof(float)); }

static FILE *json;
static int first_case = 1;
static void case_begin(int id, const char *op) {
  fprintf(json, "%s\n{\"id\": %d, \"op\": \"%s\"", first_case ? "" : ",", id, op);
  first_case = 0;
}
static void case_end(void) { fprintf(json, "}"); }

static TsNnCtx ctx;

/* ---- op cases ---------------------------------------------------------------------------- */
/* fixed: 0 random; 1 ResNet's 3x3 stride-1 pad-1 (Winograd in conv.c);
 * 2 a stride-1 conv with groups and dilation (im2col) */
static void conv_case(Writer *w, int id, int transposed, int fixed) {
  TsConv2dDesc d;
  TsError err;
  if (fixed == 1) {
    d = (TsConv2dDesc){.n = 3, .c = 6, .h = 9, .w = 7, .k = 5, .r = 3, .s = 3, .stride_h = 1, .stride_w = 1,
                       .pad_h = 1, .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1};
  } else if (fixed == 2) {
    d = (TsConv2dDesc){.n = 4, .c = 4, .h = 6, .w = 7, .k = 6, .r = 5, .s = 3, .stride_h = 1, .stride_w = 1,
                       .pad_h = 2, .pad_w = 0, .dil_h = 1, .dil_w = 2, .groups = 2};
  }
  if (fixed) {
    if (ts_conv2d_desc_init(&d, &err) != TS_OK) abort();
  } else {
    do {
      memset(&d, 0, sizeof d);
      d.groups = ri(1, 2);
      d.n = ri(1, 3), d.c = d.groups * ri(1, 3), d.k = d.groups * ri(1, 3);
      d.h = ri(3, 9), d.w = ri(3, 9), d.r = ri(1, 3), d.s = ri(1, 3);
      d.stride_h = ri(1, 2), d.stride_w = ri(1, 2), d.dil_h = ri(1, 2), d.dil_w = ri(1, 2);
      d.pad_h = ri(0, 2), d.pad_w = ri(0, 2);
      d.transposed = transposed;
      if (transposed) {
        d.out_pad_h = ri(0, 1) < d.stride_h ? ri(0, d.stride_h - 1) : 0;
        d.out_pad_w = d.stride_w > 1 ? ri(0, 1) : 0;
      }
    } while (ts_conv2d_desc_init(&d, &err) != TS_OK);
  }
  int bias = ri(0, 1);
  size_t nx = (size_t)d.n * d.c * d.h * d.w, nw = (size_t)d.c * (d.k / d.groups) * d.r * d.s;
  size_t ny = (size_t)d.n * d.k * d.p * d.q;
  float *x = randv(nx, 1), *wt = randv(nw, 0.5f), *b = bias ? randv((size_t)d.k, 0.5f) : NULL;
  float *y = zeros(ny), *dy = randv(ny, 1), *dx = zeros(nx), *dw = zeros(nw), *db = zeros((size_t)d.k);
  float *scratch = malloc(ts_conv2d_scratch_size(&d, ts_nn_ctx_threads(&ctx)) * sizeof(float));
  ts_conv2d_forward(&ctx, &d, x, wt, b, y, scratch);
  ts_conv2d_backward(&ctx, &d, x, wt, dy, dx, dw, bias ? db : NULL, scratch);
  char nm[64];
#define PUT(arr, nd, a, b_, c, e)                                                                                   \
  do {                                                                                                              \
    snprintf(nm, sizeof nm, "%d.%s", id, #arr);                                                                     \
    putf(w, nm, arr, nd, a, b_, c, e);                                                                              \
  } while (0)
  PUT(x, 4, d.n, d.c, d.h, d.w);
  if (transposed) PUT(wt, 4, d.c, d.k / d.groups, d.r, d.s);
  else PUT(wt, 4, d.k, d.c / d.groups, d.r, d.s);
  PUT(y, 4, d.n, d.k, d.p, d.q);
  PUT(dy, 4, d.n, d.k, d.p, d.q);
  PUT(dx, 4, d.n, d.c, d.h, d.w);
  if (transposed) PUT(dw, 4, d.c, d.k / d.groups, d.r, d.s);
  else PUT(dw, 4, d.k, d.c / d.groups, d.r, d.s);
  if (bias) {
    PUT(b, 1, d.k, 0, 0, 0);
    PUT(db, 1, d.k, 0, 0, 0);
  }
  case_begin(id, transposed ? "conv_transpose2d" : "conv2d");
  fprintf(json, ", \"stride\": [%d, %d], \"padding\": [%d, %d], \"dilation\": [%d, %d], \"groups\": %d, \"bias\": %d",
          d.stride_h, d.stride_w, d.pad_h, d.pad_w, d.dil_h, d.dil_w, d.groups, bias);
  if (transposed) fprintf(json, ", \"output_padding\": [%d, %d]", d.out_pad_h, d.out_pad_w);
  case_end();
  free(x), free(wt), free(b), free(y), free(dy), free(dx), free(dw), free(db), free(scratch);
}

static void linear_case(Writer *w, int id) {
  int n = ri(1, 9), in = ri(1, 40), out = ri(1, 20);
  float *x = randv((size_t)n * in, 1), *wt = randv((size_t)out * in, 0.5f), *b = randv((size_t)out, 0.5f);
  float *y = zeros((size_t)n * out), *dy = randv((size_t)n * out, 1);
  float *dx = zeros((size_t)n * in), *dw = zeros((size_t)out * in), *db = zeros((size_t)out);
  ts_linear_forward(&ctx, n, in, out, x, wt, b, y);
  ts_linear_backward(&ctx, n, in, out, x, wt, dy, dx, dw, db);
  char nm[64];
  PUT(x, 2, n, in, 0, 0);
  PUT(wt, 2, out, in, 0, 0);
  PUT(b, 1, out, 0, 0, 0);
  PUT(y, 2, n, out, 0, 0);
  PUT(dy, 2, n, out, 0, 0);
  PUT(dx, 2, n, in, 0, 0);
  PUT(dw, 2, out, in, 0, 0);
  PUT(db, 1, out, 0, 0, 0);
  case_begin(id, "linear");
  fprintf(json, ", \"bias\": 1");
  case_end();
  free(x), free(wt), free(b), free(y), free(dy), free(dx), free(dw), free(db);
}

static void bn_case(Writer *w, int id, int train, int one_d) {
  TsBatchNormDesc d = {ri(2, 5), ri(1, 5), one_d ? 1 : ri(1, 12), 1e-5f, 0.1f};
  size_t nx = (size_t)d.n * d.c * d.hw;
  float *x = randv(nx, 2), *wt = randv((size_t)d.c, 1.5f), *b = randv((size_t)d.c, 1);
  float *rm = randv((size_t)d.c, 0.5f), *rv = randv((size_t)d.c, 0.5f);
  for (int i = 0; i < d.c; i++) rv[i] += 1.0f;
  float *rm0 = malloc(sizeof(float) * d.c), *rv0 = malloc(sizeof(float) * d.c);
  memcpy(rm0, rm, sizeof(float) * d.c);
  memcpy(rv0, rv, sizeof(float) * d.c);
  float *sm = zeros((size_t)d.c), *si = zeros((size_t)d.c);
  float *y = zeros(nx), *dy = randv(nx, 1), *dx = zeros(nx), *dw = zeros((size_t)d.c), *db = zeros((size_t)d.c);
  int64_t nbt = 0;
  ts_batchnorm_forward(&ctx, &d, train, x, wt, b, rm, rv, &nbt, y, sm, si);
  ts_batchnorm_backward(&ctx, &d, train, x, wt, sm, si, dy, dx, dw, db);
  char nm[64];
  int h = one_d ? 0 : d.hw;
  if (one_d) {
    PUT(x, 2, d.n, d.c, 0, 0);
    PUT(y, 2, d.n, d.c, 0, 0);
    PUT(dy, 2, d.n, d.c, 0, 0);
    PUT(dx, 2, d.n, d.c, 0, 0);
  } else {
    PUT(x, 4, d.n, d.c, h, 1);
    PUT(y, 4, d.n, d.c, h, 1);
    PUT(dy, 4, d.n, d.c, h, 1);
    PUT(dx, 4, d.n, d.c, h, 1);
  }
  PUT(wt, 1, d.c, 0, 0, 0);
  PUT(b, 1, d.c, 0, 0, 0);
  PUT(dw, 1, d.c, 0, 0, 0);
  PUT(db, 1, d.c, 0, 0, 0);
  PUT(rm0, 1, d.c, 0, 0, 0);
  PUT(rv0, 1, d.c, 0, 0, 0);
  PUT(rm, 1, d.c, 0, 0, 0);
  PUT(rv, 1, d.c, 0, 0, 0);
  case_begin(id, one_d ? "batch_norm1d" : "batch_norm2d");
  fprintf(json, ", \"train\": %d", train);
  case_end();
  free(x), free(wt), free(b), free(rm), free(rv), free(rm0), free(rv0), free(sm), free(si);
  free(y), free(dy), free(dx), free(dw), free(db);
}

static void act_case(Writer *w, int id, int kind) {
  static const char *names[] = {"relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "log_softmax"};
  int n = ri(1, 6), c = ri(2, 30);
  size_t len = (size_t)n * c;
  float a = kind == 1 ? 0.01f * (float)ri(1, 30) : 0.5f * (float)ri(1, 4);
  float *x = randv(len, 3), *y = zeros(len), *dy = randv(len, 1), *dx = zeros(len);
  switch (kind) {
  case 0: ts_relu_forward(&ctx, len, x, y), ts_relu_backward(&ctx, len, x, y, dy, dx); break;
  case 1: ts_leaky_relu_forward(&ctx, len, a, x, y), ts_leaky_relu_backward(&ctx, len, a, x, y, dy, dx); break;
  case 2: ts_elu_forward(&ctx, len, a, x, y), ts_elu_backward(&ctx, len, a, x, y, dy, dx); break;
  case 3: ts_sigmoid_forward(&ctx, len, x, y), ts_sigmoid_backward(&ctx, len, x, y, dy, dx); break;
  case 4: ts_tanh_forward(&ctx, len, x, y), ts_tanh_backward(&ctx, len, x, y, dy, dx); break;
  case 5: ts_softmax_forward(&ctx, n, c, x, y), ts_softmax_backward(&ctx, n, c, y, dy, dx); break;
  case 6: ts_log_softmax_forward(&ctx, n, c, x, y), ts_log_softmax_backward(&ctx, n, c, y, dy, dx); break;
  }
  char nm[64];
  PUT(x, 2, n, c, 0, 0);
  PUT(y, 2, n, c, 0, 0);
  PUT(dy, 2, n, c, 0, 0);
  PUT(dx, 2, n, c, 0, 0);
  case_begin(id, names[kind]);
  fprintf(json, ", \"alpha\": %.9g", a);
  case_end();
  free(x), free(y), free(dy), free(dx);
}

static void pool_case(Writer *w, int id, int kind) {
  TsPool2dDesc d;
  TsError err;
  do {
    memset(&d, 0, sizeof d);
    d.n = ri(1, 3), d.c = ri(1, 4), d.h = ri(2, 9), d.w = ri(2, 9);
    d.kernel_h = ri(1, 3), d.kernel_w = ri(1, 3), d.stride_h = ri(1, 3), d.stride_w = ri(1, 3);
    d.pad_h = ri(0, d.kernel_h / 2), d.pad_w = ri(0, d.kernel_w / 2);
  } while (ts_pool2d_desc_init(&d, &err) != TS_OK);
  size_t nx = (size_t)d.n * d.c * d.h * d.w;
  size_t ny = kind == 2 ? (size_t)d.n * d.c : (size_t)d.n * d.c * d.p * d.q;
  float *x = randv(nx, 1), *y = zeros(ny), *dy = randv(ny, 1), *dx = zeros(nx);
  int32_t *am = calloc(ny + 1, sizeof *am);
  if (kind == 0) {
    ts_maxpool2d_forward(&ctx, &d, x, y, am);
    ts_maxpool2d_backward(&ctx, &d, am, dy, dx);
  } else if (kind == 1) {
    ts_avgpool2d_forward(&ctx, &d, x, y);
    ts_avgpool2d_backward(&ctx, &d, dy, dx);
  } else {
    ts_global_avgpool_forward(&ctx, d.n, d.c, d.h * d.w, x, y);
    ts_global_avgpool_backward(&ctx, d.n, d.c, d.h * d.w, dy, dx);
  }
  char nm[64];
  PUT(x, 4, d.n, d.c, d.h, d.w);
  PUT(dx, 4, d.n, d.c, d.h, d.w);
  if (kind == 2) {
    PUT(y, 2, d.n, d.c, 0, 0);
    PUT(dy, 2, d.n, d.c, 0, 0);
  } else {
    PUT(y, 4, d.n, d.c, d.p, d.q);
    PUT(dy, 4, d.n, d.c, d.p, d.q);
  }
  case_begin(id, kind == 0 ? "max_pool2d" : kind == 1 ? "avg_pool2d" : "global_avg_pool");
  fprintf(json, ", \"kernel\": [%d, %d], \"stride\": [%d, %d], \"padding\": [%d, %d]", d.kernel_h, d.kernel_w,
          d.stride_h, d.stride_w, d.pad_h, d.pad_w);
  case_end();
  free(x), free(y), free(dy), free(dx), free(am);
}

static void concat_add_case(Writer *w, int id, int concat) {
  int n = ri(1, 3), ca = ri(1, 4), cb = ri(1, 4), hw = ri(1, 9);
  if (!concat) cb = ca;
  size_t na = (size_t)n * ca * hw, nb = (size_t)n * cb * hw, ny = concat ? na + nb : na;
  float *a = randv(na, 1), *b = randv(nb, 1), *y = zeros(ny), *dy = randv(ny, 1), *da = zeros(na), *dbb = zeros(nb);
  if (concat) {
    ts_concat_forward(n, ca, cb, hw, a, b, y);
    ts_concat_backward(n, ca, cb, hw, dy, da, dbb);
  } else {
    ts_add_forward(&ctx, na, a, b, y);
    ts_add_backward(&ctx, na, dy, da, dbb);
  }
  char nm[64];
  PUT(a, 3, n, ca, hw, 0);
  PUT(b, 3, n, cb, hw, 0);
  PUT(y, 3, n, concat ? ca + cb : ca, hw, 0);
  PUT(dy, 3, n, concat ? ca + cb : ca, hw, 0);
  PUT(da, 3, n, ca, hw, 0);
  PUT(dbb, 3, n, cb, hw, 0);
  case_begin(id, concat ? "concat" : "add");
  case_end();
  free(a), free(b), free(y), free(dy), free(da), free(dbb);
}

/* A training objective's step on a small MLP (16 -> 8 -> head): the batch,
 * the weights, the fitted label normalisation, the loss, the head's
 * gradient and fc1's weight gradient, for PyTorch to recompute. kind: 0
 * classify, 1 ph, 2 simultaneous. The training set (whose labels the
 * normalisation is fitted on) is the batch itself plus extra rows. */
static void objective_case(Writer *w, int id, int kind) {
  static const char *tasks[] = {"classify", "ph", "simultaneous"};
  int n = ri(2, 8), nc = ri(2, 6), nd = ri(1, 7), extra = ri(0, 5), total = n + extra;
  int head = kind == 0 ? nc : kind == 1 ? nd : nc + nd;
  TsDataset ds;
  memset(&ds, 0, sizeof ds);
  ds.count = total;
  ds.channels = 1, ds.height = ds.width = 4;
  ds.num_classes = kind == 1 ? 1 : nc;
  ds.labels = calloc((size_t)total, sizeof(int32_t));
  ds.pixels = calloc((size_t)total * 16, 1);
  if (kind) {
    ds.targets = randv((size_t)total * nd, 4);
    ds.target_dims = nd;
    for (int i = 0; i < total * nd; i++) ds.targets[i] += (float)(i % nd); /* a mean per dimension */
  }
  for (int i = 0; i < total; i++) ds.labels[i] = kind == 1 ? 0 : ri(0, nc - 1);
  snprintf(ds.source, sizeof ds.source, "objective case %d", id);
  TsObjectiveConfig oc = ts_objective_config_default();
  snprintf(oc.task, sizeof oc.task, "%s", tasks[kind]);
  oc.ph_weight = (float)ts_rng_uniform(&rng) * 2.0f + 0.1f;
  oc.label_norm = ri(0, 3) ? TS_LABEL_NORM_ZSCORE : TS_LABEL_NORM_NONE;
  TsError err = {0};
  TsObjective *o = ts_objective_new(&oc, &ds, NULL, &err);
  if (!o) {
    fprintf(stderr, "objective case: %s\n", err.message);
    abort();
  }
  TsModelConfig mc = ts_model_config_default(TS_MODEL_MLP);
  mc.in_channels = 1, mc.in_h = mc.in_w = 4, mc.num_outputs = head;
  mc.n_hidden = 1, mc.hidden[0] = 8;
  TsModel *m = ts_model_new(&mc, n, (uint64_t)id, &err);
  if (!m) abort();
  float *x = randv((size_t)n * 16, 1);
  int64_t ids[8];
  for (int i = 0; i < n; i++) ids[i] = i;
  TsBatch b = {.n = n, .c = 1, .h = 4, .w = 4, .x = x, .y = ds.labels, .t = ds.targets, .dims = kind ? nd : 0,
               .ids = ids};
  TsObjStep st = {.model = m, .ctx = &ctx, .batch = &b, .seed = 1};
  ts_model_zero_grad(m);
  if (o->ops->step(o, &st, &err)) abort();
  char nm[64];
  size_t nt;
  const TsNamedTensor *t = ts_model_tensors(m, &nt);
  for (size_t i = 0; i < nt; i++) {
    snprintf(nm, sizeof nm, "%d.w.%s", id, t[i].name);
    long sh[2] = {(long)t[i].shape[0], t[i].ndim > 1 ? (long)t[i].shape[1] : 1};
    put(w, nm, 0, t[i].ndim, sh, t[i].data);
  }
  const TsNamedTensor *w1 = ts_model_find(m, "fc1.weight");
  snprintf(nm, sizeof nm, "%d.dfc1", id);
  putf(w, nm, w1->grad, 2, (long)w1->shape[0], (long)w1->shape[1], 0, 0);
  TsTensor *out = ts_model_output(m, 0);
  float *dhead = out->grad;
  PUT(x, 2, n, 16, 0, 0);
  PUT(dhead, 2, n, head, 0, 0);
  float lossf = (float)st.loss;
  putf(w, (snprintf(nm, sizeof nm, "%d.loss", id), nm), &lossf, 1, 1, 0, 0, 0);
  int64_t lab64[8];
  for (int i = 0; i < n; i++) lab64[i] = ds.labels[i];
  long ls[1] = {n};
  snprintf(nm, sizeof nm, "%d.labels", id);
  put(w, nm, 1, 1, ls, lab64);
  if (kind) {
    float *targets = ds.targets, *mean = o->label_mean, *std = o->label_std;
    PUT(targets, 2, total, nd, 0, 0);
    PUT(mean, 1, nd, 0, 0, 0);
    PUT(std, 1, nd, 0, 0, 0);
  }
  case_begin(id, "objective");
  fprintf(json, ", \"task\": \"%s\", \"n\": %d, \"classes\": %d, \"dims\": %d, \"ph_weight\": %.9g, \"norm\": \"%s\"",
          tasks[kind], n, nc, nd, (double)oc.ph_weight, ts_label_norm_name(oc.label_norm));
  case_end();
  ts_model_free(m);
  ts_objective_free(o);
  free(x);
  ts_dataset_clear(&ds);
}

static void loss_case(Writer *w, int id, int kind) {
  static const char *names[] = {"mse", "cross_entropy", "bce", "bce_with_logits", "gaussian_kl"};
  int n = ri(1, 8), c = ri(2, 12);
  size_t len = (size_t)n * c;
  TsReduction red = ri(0, 1) ? TS_REDUCE_SUM : TS_REDUCE_MEAN;
  float *x = randv(len, 3), *t = randv(len, 1), *dx = zeros(len), *dt = zeros(len);
  int64_t *lab64 = calloc((size_t)n, sizeof *lab64);
  int32_t *lab = calloc((size_t)n, sizeof *lab);
  for (int i = 0; i < n; i++) lab64[i] = lab[i] = ri(0, c - 1);
  if (kind == 2)
    for (size_t i = 0; i < len; i++) x[i] = (float)ts_rng_uniform(&rng) * 0.98f + 0.01f;
  if (kind == 2 || kind == 3)
    for (size_t i = 0; i < len; i++) t[i] = (float)ts_rng_uniform(&rng);
  double loss = 0;
  float scale = 0.5f;
  switch (kind) {
  case 0: loss = ts_loss_mse(len, x, t, red, scale, dx); break;
  case 1: loss = ts_loss_cross_entropy(n, c, x, lab, red, scale, dx); break;
  case 2: loss = ts_loss_bce(len, x, t, red, scale, dx); break;
  case 3: loss = ts_loss_bce_logits(len, x, t, red, scale, dx); break;
  case 4: loss = ts_loss_gaussian_kl(len, x, t, scale, dx, dt); break;
  }
  float lossf = (float)loss;
  char nm[64];
  PUT(x, 2, n, c, 0, 0);
  PUT(t, 2, n, c, 0, 0);
  PUT(dx, 2, n, c, 0, 0);
  PUT(dt, 2, n, c, 0, 0);
  putf(w, (snprintf(nm, sizeof nm, "%d.loss", id), nm), &lossf, 1, 1, 0, 0, 0);
  long ls[1] = {n};
  snprintf(nm, sizeof nm, "%d.labels", id);
  put(w, nm, 1, 1, ls, lab64);
  case_begin(id, names[kind]);
  fprintf(json, ", \"reduction\": \"%s\", \"scale\": %.9g", red == TS_REDUCE_SUM ? "sum" : "mean", scale);
  case_end();
  free(x), free(t), free(dx), free(dt), free(lab64), free(lab);
}

/* ---- model training steps ------------------------------------------------------------------ */
static void put_state(Writer *w, const char *prefix, TsModel *m, int grads) {
  size_t n;
  const TsNamedTensor *t = ts_model_tensors(m, &n);
  char nm[200];
  for (size_t i = 0; i < n; i++) {
    long s[4];
    for (int d = 0; d < t[i].ndim; d++) s[d] = (long)t[i].shape[d];
    snprintf(nm, sizeof nm, "%s.%s", prefix, t[i].name);
    if (grads) {
      if (t[i].role == TS_ROLE_PARAM) put(w, nm, 0, t[i].ndim, s, t[i].grad);
    } else {
      put(w, nm, t[i].dtype == TS_NN_I64, t[i].ndim, s, t[i].data);
    }
  }
}

static int model_case(const char *dir, const char *name, TsModelConfig cfg, int batch, TsOptimConfig oc, int steps,
                      int train) {
  TsError err;
  Writer w = {0};
  TsModel *m = ts_model_new(&cfg, batch, 42, &err);
  if (!m) {
    fprintf(stderr, "%s: %s\n", name, err.message);
    return 1;
  }
  int vae = cfg.kind == TS_MODEL_TOPOVAE;
  size_t nx = (size_t)batch * cfg.in_channels * cfg.in_h * cfg.in_w;
  float *x = randv(nx, 1);
  if (vae)
    for (size_t i = 0; i < nx; i++) x[i] = (float)ts_rng_uniform(&rng);
  int64_t lab64[64];
  int32_t lab[64];
  for (int i = 0; i < batch; i++) lab64[i] = lab[i] = ri(0, cfg.num_outputs - 1);
  put_state(&w, "init", m, 0);
  putf(&w, "x", x, 4, batch, cfg.in_channels, cfg.in_h, cfg.in_w);
  long ls[1] = {batch};
  put(&w, "labels", 1, 1, ls, lab64);
  size_t nt;
  const TsNamedTensor *tensors = ts_model_tensors(m, &nt);
  TsOptim *opt = ts_optim_new(&oc, tensors, nt, &err);
  float losses[8];
  /* classifiers: dLoss/dx of the first step too (the VAE's loss also reads x
   * as its target, which the engine's input gradient leaves out) */
  float *dx = vae ? NULL : zeros(nx);
  for (int s = 0; s < steps; s++) {
    if (dx) ts_model_set_input_grad(m, s == 0 ? dx : NULL, &err);
    ts_model_zero_grad(m);
    ts_model_forward(m, &ctx, x, batch, train, 7);
    TsTensor *o = ts_model_output(m, 0);
    double loss;
    if (vae) {
      TsTensor *mu = ts_model_output(m, 1), *lv = ts_model_output(m, 2);
      loss = ts_loss_bce(o->numel, o->data, x, TS_REDUCE_SUM, 1.0f / batch, o->grad);
      loss += ts_loss_gaussian_kl(mu->numel, mu->data, lv->data, 1.0f / batch, mu->grad, lv->grad);
      loss /= batch;
    } else {
      loss = ts_loss_cross_entropy(batch, cfg.num_outputs, o->data, lab, TS_REDUCE_MEAN, 1.0f, o->grad);
    }
    losses[s] = (float)loss;
    if (s == 0) {
      putf(&w, "out0", o->data, o->ndim, o->shape[0], o->shape[1], o->shape[2], o->shape[3]);
    }
    ts_model_backward(m, &ctx);
    if (s == 0) put_state(&w, "grad", m, 1);
    if (s == 0 && dx) putf(&w, "xgrad", dx, 4, batch, cfg.in_channels, cfg.in_h, cfg.in_w);
    ts_optim_step(opt, &ctx, oc.lr);
  }
  putf(&w, "losses", losses, 1, steps, 0, 0, 0);
  put_state(&w, "final", m, 0);
  char path[1024];
  snprintf(path, sizeof path, "%s/%s.safetensors", dir, name);
  int rc = save(&w, path);
  fprintf(json, "%s\n{\"name\": \"%s\", \"kind\": \"%s\", \"in\": [%d, %d, %d], \"classes\": %d, \"small_stem\": %d, "
                "\"width\": %.9g, \"hidden\": [%d, %d], \"latent\": %d, \"batch\": %d, \"steps\": %d, \"train\": %d, "
                "\"optim\": \"%s\", \"lr\": %.9g, \"momentum\": %.9g, \"nesterov\": %d, \"weight_decay\": %.9g}",
          first_case ? "" : ",", name, ts_model_kind_name(cfg.kind), cfg.in_channels, cfg.in_h, cfg.in_w,
          cfg.num_outputs, cfg.small_stem, cfg.width, cfg.hidden[0], cfg.hidden[1], cfg.latent, batch, steps, train,
          ts_optim_kind_name(oc.kind), oc.lr, oc.momentum, oc.nesterov, oc.weight_decay);
  first_case = 0;
  ts_optim_free(opt);
  ts_model_free(m);
  free(x);
  free(dx);
  return rc != 0;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: nn-torch-cases DIR SEED\n");
    return 2;
  }
  const char *dir = argv[1];
  ts_rng_init(&rng, strtoull(argv[2], NULL, 10), 0);
  TsError err;
  TsPool *pool = ts_pool_new(2, &err);
  ts_nn_ctx_init(&ctx, pool, 0);
  char path[1024];
  snprintf(path, sizeof path, "%s/ops.json", dir);
  json = fopen(path, "w");
  if (!json) return 1;
  fprintf(json, "[");
  Writer w = {0};
  int id = 0;
  for (int rep = 0; rep < 3; rep++) {
    conv_case(&w, id++, 0, 0);
    conv_case(&w, id++, 0, 0);
    conv_case(&w, id++, 1, 0);
    conv_case(&w, id++, 1, 0);
    linear_case(&w, id++);
    bn_case(&w, id++, 1, 0);
    bn_case(&w, id++, 0, 0);
    bn_case(&w, id++, 1, 1);
    for (int k = 0; k < 7; k++) act_case(&w, id++, k);
    for (int k = 0; k < 3; k++) pool_case(&w, id++, k);
    concat_add_case(&w, id++, 0);
    concat_add_case(&w, id++, 1);
    for (int k = 0; k < 5; k++) loss_case(&w, id++, k);
  }
  { /* the fixed conv cases on a stream of their own: the random cases and models stay as they were */
    TsRng keep = rng;
    ts_rng_init(&rng, strtoull(argv[2], NULL, 10), 7);
    conv_case(&w, id++, 0, 1);
    conv_case(&w, id++, 0, 2);
    conv_case(&w, id++, 0, 1);
    rng = keep;
  }
  { /* the training objectives, on a stream of their own too */
    TsRng keep = rng;
    ts_rng_init(&rng, strtoull(argv[2], NULL, 10), 8);
    for (int rep = 0; rep < 4; rep++)
      for (int k = 0; k < 3; k++) objective_case(&w, id++, k);
    rng = keep;
  }
  fprintf(json, "\n]\n");
  fclose(json);
  snprintf(path, sizeof path, "%s/ops.safetensors", dir);
  int rc = save(&w, path);

  snprintf(path, sizeof path, "%s/models.json", dir);
  json = fopen(path, "w");
  if (!json) return 1;
  fprintf(json, "[");
  first_case = 1;
  TsOptimConfig sgd = ts_optim_config_default(TS_OPTIM_SGD, 0.05f);
  sgd.momentum = 0.9f, sgd.weight_decay = 5e-4f;
  TsModelConfig lenet = ts_model_config_default(TS_MODEL_LENET5);
  rc |= model_case(dir, "lenet5", lenet, 8, sgd, 2, 1);
  TsModelConfig r18 = ts_model_config_default(TS_MODEL_RESNET18);
  r18.in_channels = 3, r18.in_h = r18.in_w = 16, r18.small_stem = 1, r18.width = 0.25f;
  TsOptimConfig nest = sgd;
  nest.nesterov = 1;
  rc |= model_case(dir, "resnet18", r18, 4, nest, 2, 1);
  TsModelConfig r50 = ts_model_config_default(TS_MODEL_RESNET50);
  r50.in_channels = 3, r50.in_h = r50.in_w = 32, r50.width = 0.5f, r50.num_outputs = 5;
  /* a narrow deep net with batch norm is ill-conditioned: with smaller
   * widths or batches some pre-ReLU value lies within float32 rounding of 0
   * and the two float32 results legitimately take different branches */
  rc |= model_case(dir, "resnet50", r50, 16, sgd, 1, 1);
  TsModelConfig vae = ts_model_config_default(TS_MODEL_TOPOVAE);
  TsOptimConfig adam = ts_optim_config_default(TS_OPTIM_ADAM, 5e-4f);
  rc |= model_case(dir, "topovae", vae, 4, adam, 2, 0);
  TsModelConfig mlp = ts_model_config_default(TS_MODEL_MLP);
  TsOptimConfig adamw = ts_optim_config_default(TS_OPTIM_ADAMW, 1e-3f);
  rc |= model_case(dir, "mlp", mlp, 6, adamw, 3, 1);
  TsModelConfig r20 = ts_model_config_default(TS_MODEL_RESNET20);
  r20.in_channels = 3, r20.in_h = r20.in_w = 16;
  rc |= model_case(dir, "resnet20", r20, 8, sgd, 2, 1);
  TsModelConfig vgg = ts_model_config_default(TS_MODEL_VGG11);
  vgg.in_channels = 3, vgg.in_h = vgg.in_w = 32;
  rc |= model_case(dir, "vgg11", vgg, 8, sgd, 1, 1);
  /* the deeper variants: five blocks a stage (resnet56/110 only repeat the
   * same block more), and VGG-16's three-conv stages */
  TsModelConfig r32 = ts_model_config_default(TS_MODEL_RESNET32);
  r32.in_channels = 3, r32.in_h = r32.in_w = 16;
  rc |= model_case(dir, "resnet32", r32, 8, sgd, 1, 1);
  TsModelConfig vgg16 = ts_model_config_default(TS_MODEL_VGG16);
  vgg16.in_channels = 3, vgg16.in_h = vgg16.in_w = 32;
  rc |= model_case(dir, "vgg16", vgg16, 8, sgd, 1, 1);
  /* evaluation mode: Dropout2d's masks cannot be PyTorch's; the gradients still flow */
  TsModelConfig ld = ts_model_config_default(TS_MODEL_LENET_DNN);
  rc |= model_case(dir, "lenet-dnn", ld, 8, sgd, 2, 0);
  fprintf(json, "\n]\n");
  fclose(json);
  ts_pool_free(pool);
  return rc;
}
