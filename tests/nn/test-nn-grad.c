/* test-nn-grad.c — finite-difference gradient checks for every op and loss
 * of core/nn, and for whole models (tiny ResNet, LeNet-5, TopoVAE, MLP);
 * plus determinism across thread counts, optimiser and schedule formulas,
 * head replacement and state-dict names.
 *
 * Each op check takes L = sum(y * r) for a fixed random r, runs backward
 * with dy = r, and compares every input gradient with the central
 * difference (L(x + h) - L(x - h)) / 2h accumulated in double. Inputs of
 * non-smooth ops are kept away from their kinks (|x| >= 0.1, maxima
 * separated by more than 2h). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "base/rng.h"
#include "nn/loss.h"
#include "nn/model.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "ts-test.h"

static TsRng rng;
static TsNnCtx ctx1; /* serial */
static TsNnCtx ctx3; /* 3 threads */

static float *randv(size_t n, float scale) {
  float *v = malloc((n + 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = (float)(ts_rng_uniform(&rng) * 2.0 - 1.0) * scale;
  return v;
}

/* values with |x| in [0.1, 1.1]: away from the kinks of relu & co */
static float *rand_away(size_t n) {
  float *v = malloc((n + 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) {
    float u = 0.1f + (float)ts_rng_uniform(&rng);
    v[i] = ts_rng_uniform(&rng) < 0.5 ? -u : u;
  }
  return v;
}

/* distinct values spaced 0.05 apart (max pool without near ties) */
static float *rand_distinct(size_t n) {
  uint32_t *perm = malloc(n * sizeof *perm);
  for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
  ts_rng_shuffle_u32(&rng, perm, n);
  float *v = malloc((n + 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = 0.05f * (float)perm[i] - 0.025f * (float)n;
  free(perm);
  return v;
}

typedef struct Case Case;
struct Case {
  const char *name;
  int n_in;
  float *in[4];
  size_t len[4];
  float *grad[4];
  float *y, *r;
  size_t ylen;
  void (*fwd)(Case *);
  void (*bwd)(Case *); /* dy = r; accumulates into grad[k] */
  const TsNnCtx *ctx;
  void *p;
  float scratch_pad[1];
  float *scratch;
  double (*loss)(Case *, int with_grad); /* losses: returns L, grads into grad[] */
};

static double objective(Case *c) {
  if (c->loss) return c->loss(c, 0);
  c->fwd(c);
  double s = 0.0;
  for (size_t i = 0; i < c->ylen; i++) s += (double)c->y[i] * c->r[i];
  return s;
}

static void check_case(Case *c, float h, double tol) {
  for (int k = 0; k < c->n_in; k++) {
    c->grad[k] = calloc(c->len[k] + 1, sizeof(float));
  }
  if (c->loss) {
    c->loss(c, 1);
  } else {
    c->fwd(c);
    c->bwd(c);
  }
  int bad = 0, checked = 0;
  for (int k = 0; k < c->n_in; k++) {
    size_t step = c->len[k] > 200 ? c->len[k] / 150 : 1;
    for (size_t i = 0; i < c->len[k]; i += step) {
      float v = c->in[k][i];
      c->in[k][i] = v + h;
      double lp = objective(c);
      c->in[k][i] = v - h;
      double lm = objective(c);
      c->in[k][i] = v;
      double num = (lp - lm) / (2.0 * h), ana = c->grad[k][i];
      double scale = fmax(0.1, fmax(fabs(num), fabs(ana)));
      checked++;
      if (fabs(num - ana) > tol * scale) {
        if (bad < 5)
          fprintf(stderr, "%s: input %d element %zu: numeric %.6g analytic %.6g\n", c->name, k, i, num, ana);
        bad++;
      }
    }
  }
  TS_CHECKF(bad == 0, "%s: %d of %d gradient entries differ from finite differences", c->name, bad, checked);
  for (int k = 0; k < c->n_in; k++) free(c->grad[k]);
}

static void free_case(Case *c) {
  for (int k = 0; k < c->n_in; k++) free(c->in[k]);
  free(c->y);
  free(c->r);
  free(c->scratch);
}

/* ---- conv ------------------------------------------------------------------- */
static void conv_fwd(Case *c) {
  TsConv2dDesc *d = c->p;
  ts_conv2d_forward(c->ctx, d, c->in[0], c->in[1], c->in[2], c->y, c->scratch);
}
static void conv_bwd(Case *c) {
  TsConv2dDesc *d = c->p;
  ts_conv2d_backward(c->ctx, d, c->in[0], c->in[1], c->r, c->grad[0], c->grad[1], c->grad[2], c->scratch);
}

static void run_conv(TsConv2dDesc d, const TsNnCtx *ctx, const char *name) {
  TsError err;
  if (ts_conv2d_desc_init(&d, &err) != TS_OK) {
    TS_CHECKF(0, "%s: %s", name, err.message);
    return;
  }
  Case c = {0};
  c.name = name;
  c.ctx = ctx;
  c.p = &d;
  c.n_in = 3;
  c.len[0] = (size_t)d.n * d.c * d.h * d.w;
  c.len[1] = (size_t)d.c * (d.k / d.groups) * d.r * d.s;
  c.len[2] = (size_t)d.k;
  c.in[0] = randv(c.len[0], 1);
  c.in[1] = randv(c.len[1], 0.5f);
  c.in[2] = randv(c.len[2], 0.5f);
  c.ylen = (size_t)d.n * d.k * d.p * d.q;
  c.y = malloc(c.ylen * sizeof(float));
  c.r = randv(c.ylen, 1);
  c.scratch = malloc(ts_conv2d_scratch_size(&d, ts_nn_ctx_threads(ctx)) * sizeof(float));
  c.fwd = conv_fwd;
  c.bwd = conv_bwd;
  check_case(&c, 1e-2f, 2e-3);
  free_case(&c);
}

static void test_conv2d(void) {
  TsConv2dDesc d = {.n = 2, .c = 3, .h = 7, .w = 6, .k = 4, .r = 3, .s = 2, .stride_h = 2, .stride_w = 1,
                    .pad_h = 1, .pad_w = 2, .dil_h = 1, .dil_w = 2, .groups = 1};
  run_conv(d, &ctx1, "conv2d");
  run_conv(d, &ctx3, "conv2d threads");
  TsConv2dDesc g = {.n = 3, .c = 4, .h = 5, .w = 5, .k = 6, .r = 3, .s = 3, .stride_h = 1, .stride_w = 1,
                    .pad_h = 1, .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 2};
  run_conv(g, &ctx3, "conv2d groups");
  TsConv2dDesc one = {.n = 2, .c = 5, .h = 4, .w = 3, .k = 3, .r = 1, .s = 1, .stride_h = 1, .stride_w = 1,
                      .dil_h = 1, .dil_w = 1, .groups = 1};
  run_conv(one, &ctx1, "conv2d 1x1");
  TsConv2dDesc wino = {.n = 2, .c = 3, .h = 5, .w = 6, .k = 4, .r = 3, .s = 3, .stride_h = 1, .stride_w = 1,
                       .pad_h = 1, .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1};
  run_conv(wino, &ctx3, "conv2d 3x3 winograd");
  TsConv2dDesc five = {.n = 2, .c = 3, .h = 6, .w = 5, .k = 2, .r = 5, .s = 3, .stride_h = 1, .stride_w = 1,
                       .pad_h = 2, .pad_w = 0, .dil_h = 1, .dil_w = 1, .groups = 1};
  run_conv(five, &ctx1, "conv2d 5x3 stride 1");
}

/* The paths of conv2d (Winograd F(2x2,3x3) for 3x3 stride-1 pad-1,
 * im2col + SGEMM for the rest, 1x1 without im2col; images
 * grouped side by side on small planes) against plain loops in double:
 * forward, input and weight gradient, serial and on 3 threads. */
static void direct_conv(const TsConv2dDesc *d, const float *x, const float *w, const float *dy, double *y,
                        double *dx, double *dw) {
  const int cg = d->c / d->groups, kg = d->k / d->groups;
  for (int n = 0; n < d->n; n++)
    for (int k = 0; k < d->k; k++)
      for (int py = 0; py < d->p; py++)
        for (int qx = 0; qx < d->q; qx++) {
          const size_t yi = (((size_t)n * d->k + k) * d->p + py) * d->q + qx;
          double acc = 0.0;
          for (int ci = 0; ci < cg; ci++) {
            const int c = k / kg * cg + ci;
            for (int r = 0; r < d->r; r++)
              for (int s = 0; s < d->s; s++) {
                int iy = py * d->stride_h - d->pad_h + r * d->dil_h, ix = qx * d->stride_w - d->pad_w + s * d->dil_w;
                if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w) continue;
                const size_t xi = (((size_t)n * d->c + c) * d->h + iy) * d->w + ix;
                const size_t wi = (((size_t)k * cg + ci) * d->r + r) * d->s + s;
                acc += (double)x[xi] * w[wi];
                dx[xi] += (double)dy[yi] * w[wi];
                dw[wi] += (double)dy[yi] * x[xi];
              }
          }
          y[yi] = acc;
        }
}

static double max_rel(const float *a, const double *b, size_t n) {
  double m = 0.0, e = 0.0;
  for (size_t i = 0; i < n; i++) {
    m = fmax(m, fabs(b[i]));
    e = fmax(e, fabs((double)a[i] - b[i]));
  }
  return e / fmax(m, 1e-3);
}

static void conv_fast_path(TsConv2dDesc d, const char *name) {
  TsError err;
  TS_CHECKF(ts_conv2d_desc_init(&d, &err) == TS_OK, "%s: %s", name, err.message);
  size_t nx = (size_t)d.n * d.c * d.h * d.w, nw = (size_t)d.k * (d.c / d.groups) * d.r * d.s;
  size_t ny = (size_t)d.n * d.k * d.p * d.q;
  float *x = randv(nx, 1), *w = randv(nw, 0.5f), *dy = randv(ny, 1);
  double *ry = calloc(ny, sizeof(double)), *rdx = calloc(nx, sizeof(double)), *rdw = calloc(nw, sizeof(double));
  direct_conv(&d, x, w, dy, ry, rdx, rdw);
  const TsNnCtx *ctxs[2] = {&ctx1, &ctx3};
  for (int t = 0; t < 2; t++) {
    float *y = calloc(ny, sizeof(float)), *dx = calloc(nx, sizeof(float)), *dw = calloc(nw, sizeof(float));
    float *scratch = malloc(ts_conv2d_scratch_size(&d, ts_nn_ctx_threads(ctxs[t])) * sizeof(float));
    ts_conv2d_forward(ctxs[t], &d, x, w, NULL, y, scratch);
    ts_conv2d_backward(ctxs[t], &d, x, w, dy, dx, dw, NULL, scratch);
    double ey = max_rel(y, ry, ny), ex = max_rel(dx, rdx, nx), ew = max_rel(dw, rdw, nw);
    TS_CHECKF(ey < 1e-5 && ex < 1e-5 && ew < 1e-5, "%s (%d threads): relative error y %.3g dx %.3g dw %.3g", name,
              ts_nn_ctx_threads(ctxs[t]), ey, ex, ew);
    free(y), free(dx), free(dw), free(scratch);
  }
  free(x), free(w), free(dy), free(ry), free(rdx), free(rdw);
}

static void test_conv_fast_paths(void) {
  const TsConv2dDesc base = {.n = 3, .c = 5, .h = 7, .w = 9, .k = 4, .r = 3, .s = 3, .stride_h = 1, .stride_w = 1,
                             .pad_h = 1, .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1};
  TsConv2dDesc d = base;
  conv_fast_path(d, "winograd odd plane");
  d.h = 1, d.w = 2;
  conv_fast_path(d, "winograd 1x2 plane");
  d = base, d.n = 37, d.h = d.w = 4, d.c = 24, d.k = 20;
  conv_fast_path(d, "winograd grouped images");
  d = base, d.n = 2, d.h = d.w = 16, d.c = 16, d.k = 32;
  conv_fast_path(d, "winograd 16x16");
  d = base, d.r = d.s = 5, d.pad_h = 2, d.pad_w = 1;
  conv_fast_path(d, "5x5 stride 1");
  d = base, d.n = 9, d.h = d.w = 5, d.dil_h = 2, d.pad_w = 0, d.groups = 1;
  conv_fast_path(d, "dilated, grouped images");
  d = base, d.c = 4, d.k = 6, d.groups = 2;
  conv_fast_path(d, "3x3 groups 2");
  d = base, d.stride_h = 2, d.stride_w = 2;
  conv_fast_path(d, "stride 2 (col2im)");
  d = base, d.r = d.s = 1, d.pad_h = d.pad_w = 0;
  conv_fast_path(d, "1x1");
}

/* The _into backward ops (dx written, not added to; the model uses them for
 * a gradient's first contribution) give the bits of the accumulating ops
 * on a zeroed dx, and leave no element unwritten. */
static void test_backward_into(void) {
  const size_t n = 3 * 5 * 37;
  float *x = randv(n, 1), *y = malloc(n * sizeof(float)), *dy = randv(n, 1);
  float *acc = calloc(n, sizeof(float)), *into = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) into[i] = NAN;
  ts_relu_forward(&ctx3, n, x, y);
  ts_relu_backward(&ctx3, n, x, y, dy, acc);
  ts_relu_backward_into(&ctx3, n, y, dy, into);
  TS_CHECK(memcmp(acc, into, n * sizeof(float)) == 0);
  TsBatchNormDesc d = {3, 5, 37, 1e-5f, 0.1f};
  float *gamma = randv(5, 1), *beta = randv(5, 1), *rm = calloc(5, sizeof(float)), *rv = calloc(5, sizeof(float));
  float sm[5], si[5], dg[2][5], db[2][5];
  for (int train = 0; train <= 1; train++) {
    for (int c = 0; c < 5; c++) rv[c] = 1.0f;
    ts_batchnorm_forward(&ctx3, &d, train, x, gamma, beta, rm, rv, NULL, y, sm, si);
    memset(acc, 0, n * sizeof(float));
    for (size_t i = 0; i < n; i++) into[i] = NAN;
    memset(dg, 0, sizeof dg), memset(db, 0, sizeof db);
    ts_batchnorm_backward(&ctx3, &d, train, x, gamma, sm, si, dy, acc, dg[0], db[0]);
    ts_batchnorm_backward_into(&ctx3, &d, train, x, gamma, sm, si, dy, into, dg[1], db[1]);
    TS_CHECKF(memcmp(acc, into, n * sizeof(float)) == 0 && memcmp(dg[0], dg[1], sizeof dg[0]) == 0 &&
                  memcmp(db[0], db[1], sizeof db[0]) == 0,
              "batch norm backward_into (train %d)", train);
  }
  free(x), free(y), free(dy), free(acc), free(into), free(gamma), free(beta), free(rm), free(rv);
}

static void test_conv_transpose2d(void) {
  TsConv2dDesc d = {.n = 2, .c = 3, .h = 4, .w = 3, .k = 2, .r = 4, .s = 3, .stride_h = 2, .stride_w = 2,
                    .pad_h = 1, .pad_w = 0, .dil_h = 1, .dil_w = 1, .groups = 1, .out_pad_h = 1, .transposed = 1};
  run_conv(d, &ctx1, "conv_transpose2d");
  run_conv(d, &ctx3, "conv_transpose2d threads");
  TsConv2dDesc g = {.n = 2, .c = 4, .h = 3, .w = 3, .k = 6, .r = 3, .s = 3, .stride_h = 1, .stride_w = 2,
                    .pad_h = 1, .pad_w = 1, .dil_h = 2, .dil_w = 1, .groups = 2, .transposed = 1};
  run_conv(g, &ctx1, "conv_transpose2d groups dilation");
}

/* ---- linear ------------------------------------------------------------------- */
typedef struct { int n, in, out; } LinP;
static void lin_fwd(Case *c) {
  LinP *p = c->p;
  ts_linear_forward(c->ctx, p->n, p->in, p->out, c->in[0], c->in[1], c->in[2], c->y);
}
static void lin_bwd(Case *c) {
  LinP *p = c->p;
  ts_linear_backward(c->ctx, p->n, p->in, p->out, c->in[0], c->in[1], c->r, c->grad[0], c->grad[1], c->grad[2]);
}

static void test_linear(void) {
  LinP shapes[2] = {{5, 7, 3}, {2, 9, 11}};
  for (int s = 0; s < 2; s++) {
    LinP p = shapes[s];
    Case c = {0};
    c.name = "linear";
    c.ctx = s ? &ctx3 : &ctx1;
    c.p = &p;
    c.n_in = 3;
    c.len[0] = (size_t)p.n * p.in, c.len[1] = (size_t)p.out * p.in, c.len[2] = (size_t)p.out;
    for (int k = 0; k < 3; k++) c.in[k] = randv(c.len[k], 1);
    c.ylen = (size_t)p.n * p.out;
    c.y = malloc(c.ylen * sizeof(float));
    c.r = randv(c.ylen, 1);
    c.fwd = lin_fwd, c.bwd = lin_bwd;
    check_case(&c, 1e-2f, 2e-3);
    free_case(&c);
  }
}

/* ---- batch norm ----------------------------------------------------------------- */
typedef struct {
  TsBatchNormDesc d;
  int train;
  float *rm, *rv, *sm, *si;
} BnP;
static void bn_fwd(Case *c) {
  BnP *p = c->p;
  ts_batchnorm_forward(c->ctx, &p->d, p->train, c->in[0], c->in[1], c->in[2], p->rm, p->rv, NULL, c->y, p->sm,
                       p->si);
}
static void bn_bwd(Case *c) {
  BnP *p = c->p;
  ts_batchnorm_backward(c->ctx, &p->d, p->train, c->in[0], c->in[1], p->sm, p->si, c->r, c->grad[0], c->grad[1],
                        c->grad[2]);
}

static void test_batchnorm(void) {
  for (int variant = 0; variant < 3; variant++) {
    BnP p = {0};
    p.d = (TsBatchNormDesc){variant == 1 ? 6 : 3, 4, variant == 1 ? 1 : 5, 1e-5f, 0.1f};
    p.train = variant != 2;
    int c_ = p.d.c;
    p.rm = randv((size_t)c_, 0.3f);
    p.rv = malloc(sizeof(float) * c_);
    for (int i = 0; i < c_; i++) p.rv[i] = 0.5f + (float)ts_rng_uniform(&rng);
    p.sm = malloc(sizeof(float) * c_);
    p.si = malloc(sizeof(float) * c_);
    Case c = {0};
    c.name = variant == 0 ? "batchnorm2d train" : variant == 1 ? "batchnorm1d train" : "batchnorm2d eval";
    c.ctx = &ctx3;
    c.p = &p;
    c.n_in = 3;
    c.len[0] = (size_t)p.d.n * c_ * p.d.hw, c.len[1] = c.len[2] = (size_t)c_;
    c.in[0] = randv(c.len[0], 2);
    c.in[1] = randv(c.len[1], 1.5f);
    c.in[2] = randv(c.len[2], 1);
    c.ylen = c.len[0];
    c.y = malloc(c.ylen * sizeof(float));
    c.r = randv(c.ylen, 1);
    c.fwd = bn_fwd, c.bwd = bn_bwd;
    /* running stats drift while the check re-runs forward; eval mode must
     * see fixed ones, so keep a copy */
    float *rm0 = malloc(sizeof(float) * c_), *rv0 = malloc(sizeof(float) * c_);
    memcpy(rm0, p.rm, sizeof(float) * c_);
    memcpy(rv0, p.rv, sizeof(float) * c_);
    check_case(&c, 1e-2f, 5e-3);
    if (p.train) {
      /* one more forward from the saved running stats: PyTorch's update */
      memcpy(p.rm, rm0, sizeof(float) * c_);
      memcpy(p.rv, rv0, sizeof(float) * c_);
      bn_fwd(&c);
      size_t m = (size_t)p.d.n * p.d.hw;
      for (int ch = 0; ch < c_; ch++) {
        double s = 0, ss = 0;
        for (int n = 0; n < p.d.n; n++)
          for (int i = 0; i < p.d.hw; i++) s += c.in[0][((size_t)n * c_ + ch) * p.d.hw + i];
        double mu = s / (double)m;
        for (int n = 0; n < p.d.n; n++)
          for (int i = 0; i < p.d.hw; i++) {
            double t = c.in[0][((size_t)n * c_ + ch) * p.d.hw + i] - mu;
            ss += t * t;
          }
        TS_CHECK_CLOSE(p.rm[ch], 0.9 * rm0[ch] + 0.1 * mu, 1e-5);
        TS_CHECK_CLOSE(p.rv[ch], 0.9 * rv0[ch] + 0.1 * ss / (double)(m - 1), 1e-5);
      }
    }
    free(rm0), free(rv0);
    free(p.rm), free(p.rv), free(p.sm), free(p.si);
    free_case(&c);
  }
}

/* ---- element-wise activations -------------------------------------------------- */
typedef struct { int kind; float a; } ActP;
static void act_fwd(Case *c) {
  ActP *p = c->p;
  switch (p->kind) {
  case 0: ts_relu_forward(c->ctx, c->ylen, c->in[0], c->y); break;
  case 1: ts_leaky_relu_forward(c->ctx, c->ylen, p->a, c->in[0], c->y); break;
  case 2: ts_elu_forward(c->ctx, c->ylen, p->a, c->in[0], c->y); break;
  case 3: ts_sigmoid_forward(c->ctx, c->ylen, c->in[0], c->y); break;
  case 4: ts_tanh_forward(c->ctx, c->ylen, c->in[0], c->y); break;
  }
}
static void act_bwd(Case *c) {
  ActP *p = c->p;
  switch (p->kind) {
  case 0: ts_relu_backward(c->ctx, c->ylen, c->in[0], c->y, c->r, c->grad[0]); break;
  case 1: ts_leaky_relu_backward(c->ctx, c->ylen, p->a, c->in[0], c->y, c->r, c->grad[0]); break;
  case 2: ts_elu_backward(c->ctx, c->ylen, p->a, c->in[0], c->y, c->r, c->grad[0]); break;
  case 3: ts_sigmoid_backward(c->ctx, c->ylen, c->in[0], c->y, c->r, c->grad[0]); break;
  case 4: ts_tanh_backward(c->ctx, c->ylen, c->in[0], c->y, c->r, c->grad[0]); break;
  }
}

static void test_activations(void) {
  static const char *names[] = {"relu", "leaky_relu", "elu", "sigmoid", "tanh"};
  for (int k = 0; k < 5; k++) {
    ActP p = {k, k == 1 ? 0.2f : 1.3f};
    Case c = {0};
    c.name = names[k];
    c.ctx = &ctx3;
    c.p = &p;
    c.n_in = 1;
    c.len[0] = c.ylen = 97;
    c.in[0] = rand_away(c.len[0]);
    c.y = malloc(c.ylen * sizeof(float));
    c.r = randv(c.ylen, 1);
    c.fwd = act_fwd, c.bwd = act_bwd;
    check_case(&c, 1e-2f, 2e-3);
    free_case(&c);
  }
}

/* ---- pooling ---------------------------------------------------------------------- */
typedef struct { TsPool2dDesc d; int kind; int32_t *am; } PoolP;
static void pool_fwd(Case *c) {
  PoolP *p = c->p;
  if (p->kind == 0) ts_maxpool2d_forward(c->ctx, &p->d, c->in[0], c->y, p->am);
  else if (p->kind == 1) ts_avgpool2d_forward(c->ctx, &p->d, c->in[0], c->y);
  else ts_global_avgpool_forward(c->ctx, p->d.n, p->d.c, p->d.h * p->d.w, c->in[0], c->y);
}
static void pool_bwd(Case *c) {
  PoolP *p = c->p;
  if (p->kind == 0) ts_maxpool2d_backward(c->ctx, &p->d, p->am, c->r, c->grad[0]);
  else if (p->kind == 1) ts_avgpool2d_backward(c->ctx, &p->d, c->r, c->grad[0]);
  else ts_global_avgpool_backward(c->ctx, p->d.n, p->d.c, p->d.h * p->d.w, c->r, c->grad[0]);
}

static void test_pooling(void) {
  static const char *names[] = {"maxpool2d", "avgpool2d", "global_avgpool"};
  for (int k = 0; k < 3; k++) {
    PoolP p = {0};
    p.kind = k;
    p.d = (TsPool2dDesc){.n = 2, .c = 3, .h = 7, .w = 6, .kernel_h = 3, .kernel_w = 2, .stride_h = 2,
                         .stride_w = 2, .pad_h = 1, .pad_w = 1};
    TsError err;
    TS_CHECK(ts_pool2d_desc_init(&p.d, &err) == TS_OK);
    size_t out = k == 2 ? (size_t)p.d.n * p.d.c : (size_t)p.d.n * p.d.c * p.d.p * p.d.q;
    p.am = malloc(out * sizeof(int32_t));
    Case c = {0};
    c.name = names[k];
    c.ctx = &ctx3;
    c.p = &p;
    c.n_in = 1;
    c.len[0] = (size_t)p.d.n * p.d.c * p.d.h * p.d.w;
    c.in[0] = rand_distinct(c.len[0]);
    c.ylen = out;
    c.y = malloc(c.ylen * sizeof(float));
    c.r = randv(c.ylen, 1);
    c.fwd = pool_fwd, c.bwd = pool_bwd;
    check_case(&c, 1e-2f, 2e-3);
    free(p.am);
    free_case(&c);
  }
}

/* ---- dropout, add, concat, flatten, softmax ----------------------------------------- */
typedef struct { int kind; float *mask; } MiscP;
static void misc_fwd(Case *c) {
  MiscP *p = c->p;
  size_t n = c->len[0];
  switch (p->kind) {
  case 0: ts_dropout_forward(c->ctx, n, 0.3f, 1, 77, c->in[0], c->y, p->mask); break;
  case 1: ts_add_forward(c->ctx, n, c->in[0], c->in[1], c->y); break;
  case 2: ts_concat_forward(2, 3, 2, 5, c->in[0], c->in[1], c->y); break;
  case 3: ts_flatten_forward(n, c->in[0], c->y); break;
  case 4: ts_softmax_forward(c->ctx, 3, 7, c->in[0], c->y); break;
  case 5: ts_log_softmax_forward(c->ctx, 3, 7, c->in[0], c->y); break;
  }
}
static void misc_bwd(Case *c) {
  MiscP *p = c->p;
  size_t n = c->len[0];
  switch (p->kind) {
  case 0: ts_dropout_backward(c->ctx, n, 1, p->mask, c->r, c->grad[0]); break;
  case 1: ts_add_backward(c->ctx, n, c->r, c->grad[0], c->grad[1]); break;
  case 2: ts_concat_backward(2, 3, 2, 5, c->r, c->grad[0], c->grad[1]); break;
  case 3: ts_flatten_backward(n, c->r, c->grad[0]); break;
  case 4: ts_softmax_backward(c->ctx, 3, 7, c->y, c->r, c->grad[0]); break;
  case 5: ts_log_softmax_backward(c->ctx, 3, 7, c->y, c->r, c->grad[0]); break;
  }
}

static void test_misc_ops(void) {
  static const char *names[] = {"dropout", "add", "concat", "flatten", "softmax", "log_softmax"};
  for (int k = 0; k < 6; k++) {
    MiscP p = {k, NULL};
    Case c = {0};
    c.name = names[k];
    c.ctx = &ctx3;
    c.p = &p;
    c.n_in = (k == 1 || k == 2) ? 2 : 1;
    c.len[0] = k == 2 ? 30 : k >= 4 ? 21 : 40;
    c.len[1] = k == 2 ? 20 : c.len[0];
    for (int i = 0; i < c.n_in; i++) c.in[i] = randv(c.len[i], 2);
    c.ylen = k == 2 ? 50 : c.len[0];
    c.y = malloc(c.ylen * sizeof(float));
    c.r = randv(c.ylen, 1);
    p.mask = malloc(c.ylen * sizeof(float));
    c.fwd = misc_fwd, c.bwd = misc_bwd;
    check_case(&c, 1e-2f, 2e-3);
    if (k == 0) {
      /* inverted dropout: each factor is 0 or 1/(1-p), same mask for the same seed */
      int zeros = 0, ok = 1;
      for (size_t i = 0; i < c.ylen; i++) {
        zeros += p.mask[i] == 0.0f;
        ok &= p.mask[i] == 0.0f || fabsf(p.mask[i] - 1.0f / 0.7f) < 1e-6f;
      }
      TS_CHECK(ok);
      TS_CHECK(zeros > 0 && zeros < (int)c.ylen);
    }
    free(p.mask);
    free_case(&c);
  }
  /* dropout's zero fraction is p over many elements, for any thread count */
  size_t n = 100000;
  float *x = randv(n, 1), *y1 = malloc(n * sizeof(float)), *y3 = malloc(n * sizeof(float));
  float *m1 = malloc(n * sizeof(float)), *m3 = malloc(n * sizeof(float));
  ts_dropout_forward(&ctx1, n, 0.25f, 1, 5, x, y1, m1);
  ts_dropout_forward(&ctx3, n, 0.25f, 1, 5, x, y3, m3);
  size_t zeros = 0;
  for (size_t i = 0; i < n; i++) zeros += m1[i] == 0.0f;
  TS_CHECK(fabs((double)zeros / (double)n - 0.25) < 0.01);
  TS_CHECK(memcmp(m1, m3, n * sizeof(float)) == 0);
  free(x), free(y1), free(y3), free(m1), free(m3);
}

/* ---- losses ------------------------------------------------------------------------------- */
typedef struct { int kind; TsReduction red; float *t; int32_t *labels; int n, c; } LossP;
static double loss_eval(Case *c, int with_grad) {
  LossP *p = c->p;
  float *g0 = with_grad ? c->grad[0] : NULL;
  size_t n = c->len[0];
  switch (p->kind) {
  case 0: return ts_loss_mse(n, c->in[0], p->t, p->red, 1.0f, g0);
  case 1: return ts_loss_cross_entropy(p->n, p->c, c->in[0], p->labels, p->red, 1.0f, g0);
  case 2: return ts_loss_bce(n, c->in[0], p->t, p->red, 1.0f, g0);
  case 3: return ts_loss_bce_logits(n, c->in[0], p->t, p->red, 1.0f, g0);
  default: return ts_loss_gaussian_kl(n, c->in[0], c->in[1], 1.0f, g0, with_grad ? c->grad[1] : NULL);
  }
}

static void test_losses(void) {
  static const char *names[] = {"mse", "cross_entropy", "bce", "bce_logits", "gaussian_kl"};
  for (int k = 0; k < 5; k++) {
    for (int red = 0; red < 2; red++) {
      LossP p = {k, red ? TS_REDUCE_SUM : TS_REDUCE_MEAN, NULL, NULL, 4, 5};
      Case c = {0};
      c.name = names[k];
      c.p = &p;
      c.n_in = k == 4 ? 2 : 1;
      c.len[0] = c.len[1] = 20;
      c.in[0] = randv(20, 2);
      if (k == 2)
        for (int i = 0; i < 20; i++) c.in[0][i] = 0.1f + 0.8f * (float)ts_rng_uniform(&rng);
      if (k == 4) c.in[1] = randv(20, 1);
      p.t = randv(20, 1);
      if (k == 2 || k == 3)
        for (int i = 0; i < 20; i++) p.t[i] = (float)ts_rng_uniform(&rng);
      p.labels = malloc(4 * sizeof(int32_t));
      for (int i = 0; i < 4; i++) p.labels[i] = (int32_t)ts_rng_below(&rng, 5);
      c.loss = loss_eval;
      check_case(&c, 1e-3f, 2e-3);
      free(p.t), free(p.labels);
      free_case(&c);
    }
  }
  /* closed forms */
  float x[2] = {0.5f, -1.0f}, t[2] = {1.0f, 0.0f};
  TS_CHECK_CLOSE(ts_loss_mse(2, x, t, TS_REDUCE_MEAN, 1, NULL), (0.25 + 1.0) / 2, 1e-7);
  float p0[2] = {0.0f, 1.0f}, t0[2] = {1.0f, 0.0f};
  TS_CHECK_CLOSE(ts_loss_bce(2, p0, t0, TS_REDUCE_SUM, 1, NULL), 200.0, 1e-9); /* log clamped at -100 */
  int32_t lab[1] = {7};
  TS_CHECK(isnan(ts_loss_cross_entropy(1, 2, x, lab, TS_REDUCE_MEAN, 1, NULL)));
  float logits[6] = {1, 3, 2, 0, 0, 5};
  int32_t l2[2] = {1, 0};
  TS_CHECK(ts_count_correct(2, 3, logits, l2) == 1);
}

/* ---- models ---------------------------------------------------------------------------------- */

/* Finite differences of a model's loss on a sample of parameters. */
static double model_loss(TsModel *m, const TsNnCtx *ctx, const float *x, int batch, const int32_t *labels,
                         int with_grad) {
  ts_model_forward(m, ctx, x, batch, 1, 99);
  TsTensor *out = ts_model_output(m, 0);
  if (ts_model_config(m)->kind == TS_MODEL_TOPOVAE) {
    /* (BCE_sum + KLD_sum) / B as Topo-GEN's VAE loss */
    double l = ts_loss_bce(out->numel, out->data, x, TS_REDUCE_SUM, 1.0f / batch, with_grad ? out->grad : NULL);
    TsTensor *mu = ts_model_output(m, 1), *lv = ts_model_output(m, 2);
    l += ts_loss_gaussian_kl(mu->numel, mu->data, lv->data, 1.0f / batch, with_grad ? mu->grad : NULL,
                             with_grad ? lv->grad : NULL);
    return l / batch;
  }
  return ts_loss_cross_entropy(batch, out->shape[1], out->data, labels, TS_REDUCE_MEAN, 1.0f,
                               with_grad ? out->grad : NULL);
}

static void check_model(const char *what, TsModelConfig cfg, int batch, double tol) {
  TsError err;
  TsModel *m = ts_model_new(&cfg, batch, 3, &err);
  TS_CHECKF(m != NULL, "%s: %s", what, m ? "" : err.message);
  if (!m) return;
  size_t nx = (size_t)batch * cfg.in_channels * cfg.in_h * cfg.in_w;
  float *x = randv(nx, 1);
  if (cfg.kind == TS_MODEL_TOPOVAE)
    for (size_t i = 0; i < nx; i++) x[i] = (float)ts_rng_uniform(&rng);
  int32_t labels[16];
  for (int i = 0; i < batch; i++) labels[i] = (int32_t)ts_rng_below(&rng, (uint64_t)cfg.num_outputs);
  ts_model_zero_grad(m);
  model_loss(m, &ctx3, x, batch, labels, 1);
  ts_model_backward(m, &ctx3);
  size_t nt;
  const TsNamedTensor *ts = ts_model_tensors(m, &nt);
  int checked = 0, bad = 0;
  for (size_t t = 0; t < nt; t++) {
    if (ts[t].role != TS_ROLE_PARAM) continue;
    for (int s = 0; s < 3; s++) {
      size_t i = (size_t)ts_rng_below(&rng, ts[t].numel);
      float *v = (float *)ts[t].data;
      float old = v[i];
      const float h = 1e-3f;
      v[i] = old + h;
      double lp = model_loss(m, &ctx1, x, batch, labels, 0);
      v[i] = old - h;
      double lm = model_loss(m, &ctx1, x, batch, labels, 0);
      v[i] = old;
      double num = (lp - lm) / (2 * h), ana = ts[t].grad[i];
      checked++;
      if (fabs(num - ana) > tol * fmax(0.02, fmax(fabs(num), fabs(ana)))) {
        if (bad < 5) fprintf(stderr, "%s: %s[%zu]: numeric %.6g analytic %.6g\n", what, ts[t].name, i, num, ana);
        bad++;
      }
    }
  }
  TS_CHECKF(bad == 0, "%s: %d of %d parameter gradients differ from finite differences", what, bad,
            checked);
  free(x);
  ts_model_free(m);
}

/* Model-level finite differences in float32 only work where the loss is
 * smooth and small: in deep ReLU/max-pool nets a step h crosses kinks and
 * the float32 loss noise divided by 2h swamps small gradients. So the
 * models themselves are checked against PyTorch (test-nn-torch.py, to
 * 1e-4), and here the graph engine (views, fan-out, zeroing of activation
 * gradients, frozen parameters) is checked on an MLP. */
static void test_model_gradients(void) {
  TsModelConfig mlp = ts_model_config_default(TS_MODEL_MLP);
  mlp.in_h = mlp.in_w = 5, mlp.hidden[0] = 7, mlp.hidden[1] = 6, mlp.num_outputs = 4;
  check_model("mlp", mlp, 4, 1e-2);
  mlp.n_hidden = 3, mlp.hidden[2] = 5;
  check_model("mlp 3 hidden", mlp, 3, 1e-2);
}

/* dLoss/dInput (ts_model_set_input_grad) against central differences of
 * the eval-mode loss, with the parameters trainable and with all of them
 * frozen (then nothing but the input asks for gradients). Element by
 * element on the MLP (smooth enough for float32 differences); on the conv
 * nets a single element's difference is swamped by float32 loss noise and
 * ReLU/max-pool kinks (see above), so there the check is directional: the
 * derivative along v, (L(x + h v) - L(x - h v)) / 2h, against dx . v, for
 * random sign vectors v and for v = sign(dx), the direction FGSM steps. */
static double input_loss(TsModel *m, const float *x, int batch, const int32_t *labels, int with_grad) {
  ts_model_forward(m, &ctx1, x, batch, 0, 0);
  TsTensor *out = ts_model_output(m, 0);
  return ts_loss_cross_entropy(batch, out->shape[1], out->data, labels, TS_REDUCE_MEAN, 1.0f,
                               with_grad ? out->grad : NULL);
}

static void check_input_grad(const char *what, TsModelConfig cfg, int batch, int frozen, double tol) {
  TsError err;
  TsModel *m = ts_model_new(&cfg, batch, 5, &err);
  TS_CHECKF(m != NULL, "%s: %s", what, m ? "" : err.message);
  if (!m) return;
  if (frozen) ts_model_set_trainable(m, "", 0);
  size_t nx = (size_t)batch * cfg.in_channels * cfg.in_h * cfg.in_w;
  float *x = randv(nx, 1);
  float *dx = malloc(nx * sizeof *dx), *xd = malloc(nx * sizeof *xd);
  double *d = malloc(nx * sizeof *d);
  for (size_t i = 0; i < nx; i++) dx[i] = 123.0f; /* backward must overwrite it */
  int32_t labels[16];
  for (int i = 0; i < batch; i++) labels[i] = (int32_t)ts_rng_below(&rng, (uint64_t)cfg.num_outputs);
  TS_CHECK(ts_model_set_input_grad(m, dx, &err) == TS_OK);
  ts_model_zero_grad(m);
  input_loss(m, x, batch, labels, 1);
  ts_model_backward(m, &ctx3);
  /* the same gradient from a serial backward (up to reordered sums) */
  float *dx1 = malloc(nx * sizeof *dx1);
  TS_CHECK(ts_model_set_input_grad(m, dx1, &err) == TS_OK);
  ts_model_zero_grad(m);
  input_loss(m, x, batch, labels, 1);
  ts_model_backward(m, &ctx1);
  double dmax = 0.0, amax = 0.0;
  for (size_t i = 0; i < nx; i++) dmax = fmax(dmax, fabs(dx1[i] - dx[i])), amax = fmax(amax, fabs(dx1[i]));
  TS_CHECKF(dmax <= 1e-5 * amax, "%s: 3 threads and 1 thread differ by %g (max %g)", what, dmax, amax);
  free(dx1);
  TS_CHECK(ts_model_set_input_grad(m, NULL, &err) == TS_OK);
  double norm = 0.0;
  for (size_t i = 0; i < nx; i++) norm += (double)dx[i] * dx[i];
  norm = sqrt(norm);
  TS_CHECKF(norm > 0.0 && norm < 100.0, "%s: |input gradient| %g", what, norm);
  /* Per-element differences drown in float32 noise (one pixel's gradient
   * is ~1e-4) and cross kinks, so the check is on directional derivatives,
   * along dx itself and along random unit directions d:
   * (L(x + h d) - L(x - h d)) / 2h against <dx, d>, to tol |dx| (|dx| is
   * the largest directional derivative there is). */
  int checked = 0, bad = 0;
  for (int t = 0; t < 6; t++) {
    double dn = 0.0, ana = 0.0;
    for (size_t i = 0; i < nx; i++) {
      d[i] = t == 0 ? dx[i] : ts_rng_normal(&rng);
      dn += d[i] * d[i];
    }
    dn = sqrt(dn);
    for (size_t i = 0; i < nx; i++) d[i] /= dn, ana += d[i] * dx[i];
    const double h = 1e-2;
    for (size_t i = 0; i < nx; i++) xd[i] = (float)(x[i] + h * d[i]);
    double lp = input_loss(m, xd, batch, labels, 0);
    for (size_t i = 0; i < nx; i++) xd[i] = (float)(x[i] - h * d[i]);
    double lm = input_loss(m, xd, batch, labels, 0);
    double num = (lp - lm) / (2 * h);
    checked++;
    if (fabs(num - ana) > tol * fmax(norm, fabs(num))) {
      fprintf(stderr, "%s: direction %d: numeric %.6g analytic %.6g (|dx| %.3g)\n", what, t, num, ana, norm);
      bad++;
    }
  }
  TS_CHECKF(bad == 0, "%s: %d of %d directional input derivatives differ from finite differences", what, bad,
            checked);
  /* switched off again: backward leaves the caller's buffer alone */
  for (size_t i = 0; i < nx; i++) dx[i] = 7.0f;
  input_loss(m, x, batch, labels, 1);
  ts_model_backward(m, &ctx3);
  int kept = 1;
  for (size_t i = 0; i < nx; i++) kept &= dx[i] == 7.0f;
  TS_CHECKF(kept, "%s: backward wrote the input gradient after it was switched off", what);
  free(x);
  free(dx);
  free(xd);
  free(d);
  ts_model_free(m);
}

static void test_input_gradients(void) {
  TsModelConfig mlp = ts_model_config_default(TS_MODEL_MLP); /* flatten = a view of the input */
  mlp.in_h = mlp.in_w = 5, mlp.hidden[0] = 7, mlp.hidden[1] = 6, mlp.num_outputs = 4;
  TsModelConfig lenet = ts_model_config_default(TS_MODEL_LENET5);
  lenet.in_h = lenet.in_w = 12, lenet.num_outputs = 5;
  TsModelConfig dnn = ts_model_config_default(TS_MODEL_LENET_DNN);
  dnn.in_h = dnn.in_w = 16, dnn.num_outputs = 4;
  TsModelConfig res = ts_model_config_default(TS_MODEL_RESNET20); /* residual adds, option-A shortcuts */
  res.in_channels = 3, res.in_h = res.in_w = 8, res.width = 0.25f, res.num_outputs = 3;
  for (int frozen = 0; frozen < 2; frozen++) {
    check_input_grad("mlp input", mlp, 3, frozen, 2e-2);
    check_input_grad("lenet5 input", lenet, 2, frozen, 2e-2);
    check_input_grad("lenet-dnn input", dnn, 2, frozen, 2e-2);
    check_input_grad("resnet20 input", res, 2, frozen, 2e-2);
  }
}

static void test_model_structure(void) {
  TsError err;
  TsModelConfig cfg = ts_model_config_default(TS_MODEL_RESNET18);
  cfg.in_channels = 3, cfg.in_h = cfg.in_w = 32, cfg.num_outputs = 1000;
  TsModel *m = ts_model_new(&cfg, 2, 1, &err);
  TS_CHECK(m != NULL);
  if (!m) return;
  TS_CHECK(ts_model_n_params(m) == 11689512); /* torchvision resnet18 */
  size_t n;
  const TsNamedTensor *t = ts_model_tensors(m, &n);
  TS_CHECK(n == 122); /* len(resnet18().state_dict()) */
  TS_CHECK(strcmp(t[0].name, "conv1.weight") == 0);
  TS_CHECK(strcmp(t[n - 1].name, "fc.bias") == 0);
  TsNamedTensor *nbt = ts_model_find(m, "layer1.0.bn1.num_batches_tracked");
  TS_CHECK(nbt && nbt->dtype == TS_NN_I64 && nbt->ndim == 0);
  TsNamedTensor *ds = ts_model_find(m, "layer2.0.downsample.0.weight");
  TS_CHECK(ds && ds->shape[0] == 128 && ds->shape[1] == 64 && ds->shape[2] == 1);
  TS_CHECK(ts_model_find(m, "layer1.0.downsample.0.weight") == NULL);
  /* fine-tuning head */
  TS_CHECK(ts_model_replace_head(m, 7, 1, 5, &err) == TS_OK);
  TsNamedTensor *fc = ts_model_find(m, "fc.weight");
  TS_CHECK(fc && fc->shape[0] == 7 && fc->shape[1] == 512 && fc->trainable);
  TS_CHECK(!ts_model_find(m, "conv1.weight")->trainable);
  ts_model_free(m);

  cfg.kind = TS_MODEL_RESNET50;
  m = ts_model_new(&cfg, 1, 1, &err);
  TS_CHECK(m && ts_model_n_params(m) == 25557032); /* torchvision resnet50 */
  if (m) {
    ts_model_tensors(m, &n);
    TS_CHECK(n == 320);
  }
  ts_model_free(m);
  cfg.kind = TS_MODEL_RESNET34;
  m = ts_model_new(&cfg, 1, 1, &err);
  TS_CHECK(m && ts_model_n_params(m) == 21797672);
  ts_model_free(m);

  TsModelConfig v = ts_model_config_default(TS_MODEL_TOPOVAE);
  m = ts_model_new(&v, 4, 1, &err);
  TS_CHECK(m && ts_model_n_outputs(m) == 4);
  if (m) TS_CHECK(ts_model_find(m, "encoder.fc.weight")->shape[1] == 3136);
  ts_model_free(m);
  v.in_h = 32;
  m = ts_model_new(&v, 4, 1, &err);
  TS_CHECK(m == NULL && err.code == TS_ERR_INVALID && strstr(err.message, "28x28"));
  TsModelConfig bad = ts_model_config_default(TS_MODEL_RESNET18);
  bad.in_h = bad.in_w = 4; /* too small for the 7x7 stem + 4 halvings? still valid: check a hard failure */
  bad.in_h = 0;
  TS_CHECK(ts_model_new(&bad, 4, 1, &err) == NULL);
  TS_CHECK(ts_model_kind_from_name("resnet34") == TS_MODEL_RESNET34 && ts_model_kind_from_name("vgg") == -1);
}

/* The same step with 1 and 3 threads in deterministic mode gives identical bits. */
static void test_determinism(void) {
  TsError err;
  TsModelConfig cfg = ts_model_config_default(TS_MODEL_RESNET18);
  cfg.in_channels = 3, cfg.in_h = cfg.in_w = 12, cfg.small_stem = 1, cfg.width = 0.125f;
  int B = 9;
  float *x = randv((size_t)B * 3 * 12 * 12, 1);
  int32_t labels[9];
  for (int i = 0; i < B; i++) labels[i] = i % 10;
  float *grads[3] = {0};
  size_t np = 0;
  TsPool *p3 = ts_pool_new(3, &err);
  TsPool *p2 = ts_pool_new(2, &err);
  TsNnCtx c[3];
  ts_nn_ctx_init(&c[0], NULL, 1);
  ts_nn_ctx_init(&c[1], p3, 1);
  ts_nn_ctx_init(&c[2], p2, 1);
  for (int run = 0; run < 3; run++) {
    TsModel *m = ts_model_new(&cfg, B, 11, &err);
    ts_model_zero_grad(m);
    ts_model_forward(m, &c[run], x, B, 1, 1);
    TsTensor *o = ts_model_output(m, 0);
    ts_loss_cross_entropy(B, 10, o->data, labels, TS_REDUCE_MEAN, 1.0f, o->grad);
    ts_model_backward(m, &c[run]);
    size_t nt;
    const TsNamedTensor *t = ts_model_tensors(m, &nt);
    np = ts_model_n_params(m);
    grads[run] = malloc(np * sizeof(float));
    size_t k = 0;
    for (size_t i = 0; i < nt; i++)
      if (t[i].role == TS_ROLE_PARAM) {
        memcpy(grads[run] + k, t[i].grad, t[i].numel * sizeof(float));
        k += t[i].numel;
      }
    ts_model_free(m);
  }
  TS_CHECK(memcmp(grads[0], grads[1], np * sizeof(float)) == 0);
  TS_CHECK(memcmp(grads[0], grads[2], np * sizeof(float)) == 0);
  for (int i = 0; i < 3; i++) free(grads[i]);
  free(x);
  ts_pool_free(p3);
  ts_pool_free(p2);
}

static void test_optim(void) {
  TsError err;
  float w[3] = {1.0f, -2.0f, 0.5f}, g[3] = {0.1f, 0.2f, -0.3f};
  TsNamedTensor t = {.name = "w", .role = TS_ROLE_PARAM, .dtype = TS_NN_F32, .ndim = 1, .shape = {3}, .numel = 3,
                     .data = w, .grad = g, .trainable = 1};
  /* SGD momentum 0.9, Nesterov, weight decay 0.01, two steps by hand */
  TsOptimConfig c = ts_optim_config_default(TS_OPTIM_SGD, 0.1f);
  c.momentum = 0.9f, c.nesterov = 1, c.weight_decay = 0.01f;
  TsOptim *o = ts_optim_new(&c, &t, 1, &err);
  TS_CHECK(o != NULL);
  double ref[3], buf[3] = {0, 0, 0}; /* read only after step 0 set it; gcc -O3 cannot tell */
  for (int i = 0; i < 3; i++) ref[i] = w[i];
  for (int step = 0; step < 2; step++) {
    for (int i = 0; i < 3; i++) {
      double d = g[i] + 0.01 * ref[i];
      buf[i] = step == 0 ? d : 0.9 * buf[i] + d;
      ref[i] -= 0.1 * (d + 0.9 * buf[i]);
    }
    ts_optim_step(o, NULL, 0.1f);
  }
  for (int i = 0; i < 3; i++) TS_CHECK_CLOSE(w[i], ref[i], 1e-6);
  size_t ns;
  const TsNamedTensor *st = ts_optim_state(o, &ns);
  TS_CHECK(ns == 2 && strcmp(st[0].name, "w.momentum_buffer") == 0 && *(int64_t *)st[1].data == 2);
  ts_optim_free(o);
  /* AdamW: one step moves each weight by about lr against the gradient's sign */
  float w2[3] = {1.0f, -2.0f, 0.5f};
  t.data = w2;
  c = ts_optim_config_default(TS_OPTIM_ADAMW, 0.01f);
  o = ts_optim_new(&c, &t, 1, &err);
  ts_optim_step(o, NULL, 0.01f);
  for (int i = 0; i < 3; i++) {
    double expect = (double)(i == 0 ? 1.0f : i == 1 ? -2.0f : 0.5f) * (1 - 0.01 * 0.01) - 0.01 * (g[i] > 0 ? 1 : -1);
    TS_CHECK_CLOSE(w2[i], expect, 1e-5);
  }
  ts_optim_free(o);
  c = ts_optim_config_default(TS_OPTIM_SGD, 0.1f);
  c.nesterov = 1;
  TS_CHECK(ts_optim_new(&c, &t, 1, &err) == NULL && err.code == TS_ERR_INVALID);
  TS_CHECK(ts_optim_kind_from_name("adamw") == TS_OPTIM_ADAMW && ts_optim_kind_from_name("rmsprop") == -1);
}

static void test_schedules(void) {
  TsError err;
  TsSchedule s = {.base_lr = 0.1f};
  TS_CHECK(ts_schedule_parse("multistep:30,60", &s, &err) == TS_OK);
  TS_CHECK_CLOSE(ts_schedule_lr(&s, 29), 0.1, 1e-7);
  TS_CHECK_CLOSE(ts_schedule_lr(&s, 30), 0.01, 1e-7);
  TS_CHECK_CLOSE(ts_schedule_lr(&s, 89), 0.001, 1e-7);
  s.base_lr = 1.0f;
  TS_CHECK(ts_schedule_parse("cosine:10:0.1+warmup:2:0.5", &s, &err) == TS_OK);
  TS_CHECK_CLOSE(ts_schedule_lr(&s, 0), 0.5, 1e-7);
  TS_CHECK_CLOSE(ts_schedule_lr(&s, 1), 0.75, 1e-7);
  TS_CHECK_CLOSE(ts_schedule_lr(&s, 2), 1.0, 1e-7);
  TS_CHECK_CLOSE(ts_schedule_lr(&s, 7), 0.1 + 0.9 * (1 + cos(M_PI * 5 / 10)) / 2, 1e-6);
  TS_CHECK_CLOSE(ts_schedule_lr(&s, 50), 0.1, 1e-6);
  TS_CHECK(ts_schedule_parse("multistep:60,30", &s, &err) == TS_ERR_INVALID);
  TS_CHECK(ts_schedule_parse("step:3", &s, &err) == TS_ERR_INVALID && strstr(err.message, "step:3"));
  TS_CHECK(ts_schedule_parse("constant", &s, &err) == TS_OK && ts_schedule_lr(&s, 5) == s.base_lr);
}

int main(void) {
  TsError err;
  ts_rng_init(&rng, 2024, 0);
  TsPool *pool = ts_pool_new(3, &err);
  ts_nn_ctx_init(&ctx1, NULL, 0);
  ts_nn_ctx_init(&ctx3, pool, 0);
  TS_RUN(test_conv2d);
  TS_RUN(test_conv_fast_paths);
  TS_RUN(test_backward_into);
  TS_RUN(test_conv_transpose2d);
  TS_RUN(test_linear);
  TS_RUN(test_batchnorm);
  TS_RUN(test_activations);
  TS_RUN(test_pooling);
  TS_RUN(test_misc_ops);
  TS_RUN(test_losses);
  TS_RUN(test_model_structure);
  TS_RUN(test_model_gradients);
  TS_RUN(test_input_gradients);
  TS_RUN(test_determinism);
  TS_RUN(test_optim);
  TS_RUN(test_schedules);
  ts_pool_free(pool);
  return ts_test_finish();
}
