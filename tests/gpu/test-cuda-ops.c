/* test-cuda-ops.c — the CUDA backend against the CPU backend: every op of
 * nn/ops.h (forward and backward, with gradients that already hold values,
 * so that "backward adds" is checked too), the losses, the optimiser
 * updates, and whole training steps of LeNet-5, ResNet-18 and the TopoVAE
 * (outputs, loss and every parameter gradient of each step; then, the
 * CPU's gradients given to both optimisers, every parameter, buffer and
 * optimiser state after two steps), on random shapes, to 1e-4 relative (|gpu - cpu| <= 1e-4 (|cpu| + the
 * mean |cpu| of the tensor), so that elements near zero are judged on the
 * tensor's scale).
 *
 * Needs a build with -Dcuda=enabled; exits 77 (skipped) where no CUDA
 * device can be opened, which is every developer machine and CI. Run by
 * tests/gpu/run on a machine with a GPU. Options: --seed S, --trials N
 * (random shapes per op, default 6), --quick (fewer, smaller shapes). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "nn/cuda/cuda.h"
#include "nn/device.h"
#include "nn/loss.h"
#include "nn/model.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "ts-test.h"

#define TOL 1e-4

static TsRng rng;
static TsDevice *dev;
static TsNnCtx cpu = {NULL, 0};
static int trials = 6;

/* ---- helpers ----------------------------------------------------------------- */

static int irange(int lo, int hi) { return lo + (int)ts_rng_below(&rng, (uint64_t)(hi - lo + 1)); }

static float *randv(size_t n, float scale) {
  float *v = malloc((n + 1) * sizeof *v);
  for (size_t i = 0; i < n; i++) v[i] = (float)(ts_rng_uniform(&rng) * 2.0 - 1.0) * scale;
  return v;
}

static float *copyv(const float *x, size_t n) {
  float *v = malloc((n + 1) * sizeof *v);
  memcpy(v, x, n * sizeof *v);
  return v;
}

static void *up(const void *h, size_t bytes) {
  void *d = NULL;
  if (cudaMalloc(&d, bytes ? bytes : 4) != cudaSuccess) {
    fprintf(stderr, "cudaMalloc of %zu bytes failed\n", bytes);
    exit(1);
  }
  if (h && bytes) cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice);
  else cudaMemset(d, 0, bytes ? bytes : 4);
  /* the ops run on the device's non-blocking stream: finish the copy first */
  cudaDeviceSynchronize();
  return d;
}

static void h2d(void *d, const void *h, size_t bytes) {
  cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice);
  cudaDeviceSynchronize();
}

static float *upf(const float *h, size_t n) { return up(h, n * sizeof(float)); }

static float *down(const float *d, size_t n) {
  cudaDeviceSynchronize();
  float *h = malloc((n + 1) * sizeof *h);
  cudaMemcpy(h, d, n * sizeof(float), cudaMemcpyDeviceToHost);
  return h;
}

/* Compares a device array with the CPU's, prints the worst element. */
static void check_close(const char *what, const float *gpu_dev, const float *cpu_v, size_t n) {
  float *g = down(gpu_dev, n);
  double mean = 0.0;
  for (size_t i = 0; i < n; i++) mean += fabs(cpu_v[i]);
  mean = n ? mean / (double)n : 0.0;
  double worst = 0.0;
  size_t wi = 0;
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    double e = fabs((double)g[i] - cpu_v[i]) / (fabs(cpu_v[i]) + mean + 1e-30);
    if (!(e <= TOL) && !(g[i] == cpu_v[i])) bad++;
    if (e > worst || isnan(e)) worst = e, wi = i;
  }
  TS_CHECKF(bad == 0, "%s: %d of %zu elements off, worst [%zu] gpu %.9g cpu %.9g (%.2e)", what, bad, n, wi,
            n ? (double)g[wi] : 0.0, n ? (double)cpu_v[wi] : 0.0, worst);
  free(g);
}

static void check_status(const char *what) {
  cudaDeviceSynchronize();
  cudaError_t e = cudaGetLastError();
  TS_CHECKF(e == cudaSuccess, "%s: %s", what, cudaGetErrorString(e));
  TS_CHECKF(dev->status == TS_OK, "%s: %s", what, dev->err.message);
  dev->status = TS_OK;
}

/* ---- convolution --------------------------------------------------------------- */

static void conv_case(TsConv2dDesc d, const char *label) {
  TsError err = {0};
  if (ts_conv2d_desc_init(&d, &err) != TS_OK) return;
  const int T = d.transposed;
  size_t nx = (size_t)d.n * d.c * d.h * d.w, ny = (size_t)d.n * d.k * d.p * d.q;
  size_t nw = T ? (size_t)d.c * (d.k / d.groups) * d.r * d.s : (size_t)d.k * (d.c / d.groups) * d.r * d.s;
  float *x = randv(nx, 1.0f), *w = randv(nw, 0.5f), *b = randv((size_t)d.k, 0.5f), *dy = randv(ny, 1.0f);
  float *y = malloc(ny * sizeof *y);
  float *dx = randv(nx, 0.1f), *dw = randv(nw, 0.1f), *db = randv((size_t)d.k, 0.1f);
  float *gx = upf(x, nx), *gw = upf(w, nw), *gb = upf(b, (size_t)d.k), *gdy = upf(dy, ny), *gy = upf(NULL, ny);
  float *gdx = upf(dx, nx), *gdw = upf(dw, nw), *gdb = upf(db, (size_t)d.k);
  float *scratch = malloc(ts_conv2d_scratch_size(&d, 1) * sizeof(float) + 64);
  ts_conv2d_forward(&cpu, &d, x, w, b, y, scratch);
  ts_conv2d_backward(&cpu, &d, x, w, dy, dx, dw, db, scratch);
  ts_cuda_conv2d_forward(dev, &d, gx, gw, gb, gy);
  ts_cuda_conv2d_backward(dev, &d, gx, gw, gdy, gdx, gdw, gdb);
  check_status(label);
  char what[256];
  snprintf(what, sizeof what, "%s n%d c%d %dx%d k%d %dx%d s%d p%d d%d g%d%s y", label, d.n, d.c, d.h, d.w, d.k, d.r,
           d.s, d.stride_h, d.pad_h, d.dil_h, d.groups, T ? " transposed" : "");
  check_close(what, gy, y, ny);
  what[strlen(what) - 1] = 'x';
  check_close(what, gdx, dx, nx);
  snprintf(what + strlen(what) - 1, 3, "w");
  check_close(what, gdw, dw, nw);
  snprintf(what + strlen(what) - 1, 3, "b");
  check_close(what, gdb, db, (size_t)d.k);
  free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db), free(scratch);
  cudaFree(gx), cudaFree(gw), cudaFree(gb), cudaFree(gdy), cudaFree(gy), cudaFree(gdx), cudaFree(gdw), cudaFree(gdb);
}

static void test_conv(void) {
  /* the shapes of the three models, then random ones */
  TsConv2dDesc fixed[] = {
      {.n = 4, .c = 1, .h = 28, .w = 28, .k = 6, .r = 5, .s = 5, .stride_h = 1, .stride_w = 1, .pad_h = 2, .pad_w = 2},
      {.n = 4, .c = 64, .h = 8, .w = 8, .k = 64, .r = 3, .s = 3, .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1},
      {.n = 4, .c = 64, .h = 8, .w = 8, .k = 128, .r = 1, .s = 1, .stride_h = 2, .stride_w = 2},
      {.n = 4, .c = 3, .h = 32, .w = 32, .k = 16, .r = 7, .s = 7, .stride_h = 2, .stride_w = 2, .pad_h = 3, .pad_w = 3},
      {.n = 4, .c = 32, .h = 7, .w = 7, .k = 16, .r = 4, .s = 4, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1,
       .transposed = 1},
  };
  for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
    TsConv2dDesc d = fixed[i];
    d.dil_h = d.dil_w = d.groups = 1;
    conv_case(d, "conv model shape");
  }
  for (int t = 0; t < 4 * trials; t++) {
    TsConv2dDesc d = {0};
    d.groups = irange(1, 3) == 3 ? 2 : 1;
    d.n = irange(1, 5);
    d.c = d.groups * irange(1, 6);
    d.k = d.groups * irange(1, 6);
    d.h = irange(4, 14), d.w = irange(4, 14);
    d.r = irange(1, 4), d.s = irange(1, 4);
    d.stride_h = irange(1, 3), d.stride_w = irange(1, 3);
    d.pad_h = irange(0, 2), d.pad_w = irange(0, 2);
    d.dil_h = irange(1, 2), d.dil_w = irange(1, 2);
    d.transposed = irange(0, 3) == 0;
    if (d.transposed) { /* cuDNN takes output padding below the stride (cuda/conv.c) */
      d.out_pad_h = irange(0, d.stride_h - 1);
      d.out_pad_w = irange(0, d.stride_w - 1);
    }
    conv_case(d, "conv random");
  }
}

/* ---- linear ------------------------------------------------------------------------ */

static void test_linear(void) {
  for (int t = 0; t < trials; t++) {
    int n = irange(1, 40), in = irange(1, 300), out = irange(1, 130);
    size_t nx = (size_t)n * in, nw = (size_t)out * in, ny = (size_t)n * out;
    float *x = randv(nx, 1), *w = randv(nw, 0.3f), *b = randv((size_t)out, 0.3f), *dy = randv(ny, 1);
    float *y = malloc(ny * sizeof *y), *dx = randv(nx, 0.1f), *dw = randv(nw, 0.1f), *db = randv((size_t)out, 0.1f);
    float *gx = upf(x, nx), *gw = upf(w, nw), *gb = upf(b, (size_t)out), *gdy = upf(dy, ny), *gy = upf(NULL, ny);
    float *gdx = upf(dx, nx), *gdw = upf(dw, nw), *gdb = upf(db, (size_t)out);
    ts_linear_forward(&cpu, n, in, out, x, w, b, y);
    ts_linear_backward(&cpu, n, in, out, x, w, dy, dx, dw, db);
    ts_cuda_linear_forward(dev, n, in, out, gx, gw, gb, gy);
    ts_cuda_linear_backward(dev, n, in, out, gx, gw, gdy, gdx, gdw, gdb);
    check_status("linear");
    check_close("linear y", gy, y, ny);
    check_close("linear dx", gdx, dx, nx);
    check_close("linear dw", gdw, dw, nw);
    check_close("linear db", gdb, db, (size_t)out);
    free(x), free(w), free(b), free(dy), free(y), free(dx), free(dw), free(db);
    cudaFree(gx), cudaFree(gw), cudaFree(gb), cudaFree(gdy), cudaFree(gy), cudaFree(gdx), cudaFree(gdw),
        cudaFree(gdb);
  }
}

/* ---- batch norm -------------------------------------------------------------------- */

static void test_batchnorm(void) {
  for (int t = 0; t < 2 * trials; t++) {
    /* at least 8 values per channel: the statistics of fewer are ill-conditioned */
    TsBatchNormDesc d = {irange(2, 9), irange(1, 20), irange(1, 3) == 1 ? 1 : irange(4, 60), 1e-5f, 0.1f};
    if (d.hw == 1) d.n = irange(8, 32);
    const int train = t % 2 == 0, affine = t % 4 != 3, into = t % 3 == 0;
    const size_t nx = (size_t)d.n * d.c * d.hw, c = (size_t)d.c;
    float *x = randv(nx, 2), *g = affine ? randv(c, 1) : NULL, *be = affine ? randv(c, 1) : NULL;
    float *rm = randv(c, 0.5f), *rv = randv(c, 0.5f);
    for (size_t i = 0; i < c; i++) rv[i] = 1.0f + rv[i];
    float *dy = randv(nx, 1), *dx = randv(nx, 0.1f), *dg = randv(c, 0.1f), *db = randv(c, 0.1f);
    float *y = malloc(nx * sizeof *y), *sm = malloc(c * sizeof *sm), *si = malloc(c * sizeof *si);
    float *gx = upf(x, nx), *gg = g ? upf(g, c) : NULL, *gbe = be ? upf(be, c) : NULL, *grm = upf(rm, c),
          *grv = upf(rv, c), *gdy = upf(dy, nx), *gdx = upf(dx, nx), *gdg = upf(dg, c), *gdb = upf(db, c),
          *gy = upf(NULL, nx), *gsm = upf(NULL, c), *gsi = upf(NULL, c);
    ts_batchnorm_forward(&cpu, &d, train, x, g, be, rm, rv, NULL, y, sm, si);
    (into ? ts_batchnorm_backward_into : ts_batchnorm_backward)(&cpu, &d, train, x, g, sm, si, dy, dx,
                                                                affine ? dg : NULL, affine ? db : NULL);
    ts_cuda_batchnorm_forward(dev, &d, train, gx, gg, gbe, grm, grv, gy, gsm, gsi);
    ts_cuda_batchnorm_backward(dev, &d, train, gx, gg, gsm, gsi, gdy, gdx, affine ? gdg : NULL, affine ? gdb : NULL,
                               into);
    check_status("batch norm");
    char what[160];
    snprintf(what, sizeof what, "batchnorm n%d c%d hw%d %s%s%s", d.n, d.c, d.hw, train ? "train" : "eval",
             affine ? "" : " no-affine", into ? " into" : "");
    char w2[200];
#define BN_CHECK(tag, gd, hv, n)                         \
  do {                                                   \
    snprintf(w2, sizeof w2, "%s %s", what, tag);         \
    check_close(w2, gd, hv, n);                          \
  } while (0)
    BN_CHECK("y", gy, y, nx);
    BN_CHECK("save_mean", gsm, sm, c);
    BN_CHECK("save_invstd", gsi, si, c);
    BN_CHECK("running_mean", grm, rm, c);
    BN_CHECK("running_var", grv, rv, c);
    BN_CHECK("dx", gdx, dx, nx);
    if (affine) {
      BN_CHECK("dgamma", gdg, dg, c);
      BN_CHECK("dbeta", gdb, db, c);
    }
#undef BN_CHECK
    free(x), free(g), free(be), free(rm), free(rv), free(dy), free(dx), free(dg), free(db), free(y), free(sm),
        free(si);
    cudaFree(gx), cudaFree(gg), cudaFree(gbe), cudaFree(grm), cudaFree(grv), cudaFree(gdy), cudaFree(gdx),
        cudaFree(gdg), cudaFree(gdb), cudaFree(gy), cudaFree(gsm), cudaFree(gsi);
  }
}

/* ---- element-wise -------------------------------------------------------------------- */

static void test_activations(void) {
  const char *names[] = {"relu", "leaky_relu", "elu", "sigmoid", "tanh"};
  for (int a = 0; a < 5; a++)
    for (int into = 0; into <= (a == 0); into++) {
      size_t n = (size_t)irange(1, 100000);
      float alpha = a == 1 ? 0.01f : 1.0f;
      float *x = randv(n, 3), *dy = randv(n, 1), *dx = randv(n, 0.1f), *y = malloc(n * sizeof *y);
      float *gx = upf(x, n), *gdy = upf(dy, n), *gdx = upf(dx, n), *gy = upf(NULL, n);
      switch (a) {
      case 0:
        ts_relu_forward(&cpu, n, x, y);
        if (into) ts_relu_backward_into(&cpu, n, y, dy, dx);
        else ts_relu_backward(&cpu, n, x, y, dy, dx);
        break;
      case 1:
        ts_leaky_relu_forward(&cpu, n, alpha, x, y);
        ts_leaky_relu_backward(&cpu, n, alpha, x, y, dy, dx);
        break;
      case 2:
        ts_elu_forward(&cpu, n, alpha, x, y);
        ts_elu_backward(&cpu, n, alpha, x, y, dy, dx);
        break;
      case 3:
        ts_sigmoid_forward(&cpu, n, x, y);
        ts_sigmoid_backward(&cpu, n, x, y, dy, dx);
        break;
      case 4:
        ts_tanh_forward(&cpu, n, x, y);
        ts_tanh_backward(&cpu, n, x, y, dy, dx);
        break;
      }
      ts_cuda_act_forward(dev->stream, (TsCudaAct)a, n, alpha, gx, gy);
      ts_cuda_act_backward(dev->stream, (TsCudaAct)a, n, alpha, gx, gy, gdy, gdx, into);
      check_status(names[a]);
      char what[64];
      snprintf(what, sizeof what, "%s%s y", names[a], into ? " into" : "");
      check_close(what, gy, y, n);
      snprintf(what, sizeof what, "%s%s dx", names[a], into ? " into" : "");
      check_close(what, gdx, dx, n);
      free(x), free(dy), free(dx), free(y);
      cudaFree(gx), cudaFree(gdy), cudaFree(gdx), cudaFree(gy);
    }
}

static void test_dropout_add_concat_softmax(void) {
  for (int t = 0; t < trials; t++) {
    size_t n = (size_t)irange(1, 50000);
    float p = (float)ts_rng_uniform(&rng) * 0.9f;
    uint64_t seed = ts_rng_u64(&rng);
    int train = t % 3 != 2;
    float *x = randv(n, 1), *dy = randv(n, 1), *dx = randv(n, 0.1f), *y = malloc(n * sizeof *y),
          *mask = malloc(n * sizeof *mask);
    float *gx = upf(x, n), *gdy = upf(dy, n), *gdx = upf(dx, n), *gy = upf(NULL, n), *gm = upf(NULL, n);
    ts_dropout_forward(&cpu, n, p, train, seed, x, y, mask);
    ts_dropout_backward(&cpu, n, train, mask, dy, dx);
    ts_cuda_dropout_forward(dev->stream, n, p, train, seed, gx, gy, gm);
    ts_cuda_dropout_backward(dev->stream, n, train, gm, gdy, gdx);
    check_status("dropout");
    check_close("dropout mask (the same counter-based hash)", gm, mask, n);
    check_close("dropout y", gy, y, n);
    check_close("dropout dx", gdx, dx, n);
    /* channel dropout: n split into channels of hw values */
    {
      size_t hw = (size_t)irange(1, 64), nc = n / hw ? n / hw : 1, m2 = nc * hw;
      if (m2 > n) m2 = n, hw = n, nc = 1;
      float *dx2 = randv(m2, 0.1f), *gdx2 = upf(dx2, m2);
      ts_dropout2d_forward(&cpu, nc, hw, p, train, seed, x, y, mask);
      ts_dropout_backward(&cpu, m2, train, mask, dy, dx2);
      ts_cuda_dropout2d_forward(dev->stream, nc, hw, p, train, seed, gx, gy, gm);
      ts_cuda_dropout_backward(dev->stream, m2, train, gm, gdy, gdx2);
      check_status("dropout2d");
      check_close("dropout2d mask (one draw a channel, the CPU's)", gm, mask, m2);
      check_close("dropout2d y", gy, y, m2);
      check_close("dropout2d dx", gdx2, dx2, m2);
      free(dx2);
      cudaFree(gdx2);
    }
    /* add */
    float *b = randv(n, 1), *da = randv(n, 0.1f), *dbb = randv(n, 0.1f);
    float *gb = upf(b, n), *gda = upf(da, n), *gdbb = upf(dbb, n);
    ts_add_forward(&cpu, n, x, b, y);
    ts_add_backward(&cpu, n, dy, da, dbb);
    ts_cuda_add_forward(dev->stream, n, gx, gb, gy);
    ts_cuda_add_backward(dev->stream, n, gdy, gda, gdbb);
    check_status("add");
    check_close("add y", gy, y, n);
    check_close("add da", gda, da, n);
    check_close("add db", gdbb, dbb, n);
    free(x), free(dy), free(dx), free(y), free(mask), free(b), free(da), free(dbb);
    cudaFree(gx), cudaFree(gdy), cudaFree(gdx), cudaFree(gy), cudaFree(gm), cudaFree(gb), cudaFree(gda),
        cudaFree(gdbb);
    /* concat */
    int nn = irange(1, 6), ca = irange(1, 5), cb = irange(1, 5), hw = irange(1, 50);
    size_t sa = (size_t)nn * ca * hw, sb = (size_t)nn * cb * hw, sy = sa + sb;
    float *a1 = randv(sa, 1), *b1 = randv(sb, 1), *y1 = malloc(sy * sizeof *y1), *dy1 = randv(sy, 1),
          *da1 = randv(sa, 0.1f), *db1 = randv(sb, 0.1f);
    float *ga1 = upf(a1, sa), *gb1 = upf(b1, sb), *gy1 = upf(NULL, sy), *gdy1 = upf(dy1, sy), *gda1 = upf(da1, sa),
          *gdb1 = upf(db1, sb);
    ts_concat_forward(nn, ca, cb, hw, a1, b1, y1);
    ts_concat_backward(nn, ca, cb, hw, dy1, da1, db1);
    ts_cuda_concat_forward(dev->stream, nn, ca, cb, hw, ga1, gb1, gy1);
    ts_cuda_concat_backward(dev->stream, nn, ca, cb, hw, gdy1, gda1, gdb1);
    check_status("concat");
    check_close("concat y", gy1, y1, sy);
    check_close("concat da", gda1, da1, sa);
    check_close("concat db", gdb1, db1, sb);
    free(a1), free(b1), free(y1), free(dy1), free(da1), free(db1);
    cudaFree(ga1), cudaFree(gb1), cudaFree(gy1), cudaFree(gdy1), cudaFree(gda1), cudaFree(gdb1);
    /* softmax, log-softmax */
    for (int lg = 0; lg < 2; lg++) {
      int rows = irange(1, 40), c = irange(1, 1200);
      size_t m = (size_t)rows * c;
      float *sx = randv(m, 4), *sy2 = malloc(m * sizeof *sy2), *sdy = randv(m, 1), *sdx = randv(m, 0.1f);
      float *gsx = upf(sx, m), *gsy = upf(NULL, m), *gsdy = upf(sdy, m), *gsdx = upf(sdx, m);
      if (lg) {
        ts_log_softmax_forward(&cpu, rows, c, sx, sy2);
        ts_log_softmax_backward(&cpu, rows, c, sy2, sdy, sdx);
      } else {
        ts_softmax_forward(&cpu, rows, c, sx, sy2);
        ts_softmax_backward(&cpu, rows, c, sy2, sdy, sdx);
      }
      ts_cuda_softmax_forward(dev->stream, rows, c, lg, gsx, gsy);
      ts_cuda_softmax_backward(dev->stream, rows, c, lg, gsy, gsdy, gsdx);
      check_status("softmax");
      check_close(lg ? "log_softmax y" : "softmax y", gsy, sy2, m);
      check_close(lg ? "log_softmax dx" : "softmax dx", gsdx, sdx, m);
      free(sx), free(sy2), free(sdy), free(sdx);
      cudaFree(gsx), cudaFree(gsy), cudaFree(gsdy), cudaFree(gsdx);
    }
  }
}

/* ---- pooling ---------------------------------------------------------------------------- */

static void test_pool(void) {
  for (int t = 0; t < 3 * trials; t++) {
    TsPool2dDesc d = {0};
    d.n = irange(1, 4), d.c = irange(1, 5), d.h = irange(2, 20), d.w = irange(2, 20);
    d.kernel_h = irange(1, 4), d.kernel_w = irange(1, 4);
    if (d.kernel_h > d.h) d.kernel_h = d.h;
    if (d.kernel_w > d.w) d.kernel_w = d.w;
    d.stride_h = irange(1, 3), d.stride_w = irange(1, 3);
    d.pad_h = irange(0, d.kernel_h / 2), d.pad_w = irange(0, d.kernel_w / 2);
    TsError err = {0};
    if (ts_pool2d_desc_init(&d, &err) != TS_OK) continue;
    size_t nx = (size_t)d.n * d.c * d.h * d.w, ny = (size_t)d.n * d.c * d.p * d.q;
    float *x = randv(nx, 1), *dy = randv(ny, 1), *y = malloc(ny * sizeof *y), *dx = randv(nx, 0.1f);
    int32_t *am = malloc(ny * sizeof *am);
    float *gx = upf(x, nx), *gdy = upf(dy, ny), *gy = upf(NULL, ny), *gdx = upf(dx, nx);
    int32_t *gam = up(NULL, ny * sizeof(int32_t));
    ts_maxpool2d_forward(&cpu, &d, x, y, am);
    ts_maxpool2d_backward(&cpu, &d, am, dy, dx);
    ts_cuda_maxpool_forward(dev->stream, &d, gx, gy, gam);
    ts_cuda_maxpool_backward(dev->stream, &d, gam, gdy, gdx);
    check_status("max pool");
    check_close("maxpool y", gy, y, ny);
    check_close("maxpool dx", gdx, dx, nx);
    int32_t *ham = malloc(ny * sizeof *ham);
    cudaMemcpy(ham, gam, ny * sizeof(int32_t), cudaMemcpyDeviceToHost);
    TS_CHECK(memcmp(ham, am, ny * sizeof(int32_t)) == 0);
    free(ham);
    float *dx2 = randv(nx, 0.1f);
    h2d(gdx, dx2, nx * sizeof(float));
    ts_avgpool2d_forward(&cpu, &d, x, y);
    ts_avgpool2d_backward(&cpu, &d, dy, dx2);
    ts_cuda_avgpool_forward(dev->stream, &d, gx, gy);
    ts_cuda_avgpool_backward(dev->stream, &d, gdy, gdx);
    check_status("avg pool");
    check_close("avgpool y", gy, y, ny);
    check_close("avgpool dx", gdx, dx2, nx);
    free(x), free(dy), free(y), free(dx), free(dx2), free(am);
    cudaFree(gx), cudaFree(gdy), cudaFree(gy), cudaFree(gdx), cudaFree(gam);
  }
  for (int t = 0; t < trials; t++) {
    int n = irange(1, 8), c = irange(1, 70), hw = irange(1, 100);
    size_t nx = (size_t)n * c * hw, ny = (size_t)n * c;
    float *x = randv(nx, 1), *y = malloc(ny * sizeof *y), *dy = randv(ny, 1), *dx = randv(nx, 0.1f);
    float *gx = upf(x, nx), *gy = upf(NULL, ny), *gdy = upf(dy, ny), *gdx = upf(dx, nx);
    ts_global_avgpool_forward(&cpu, n, c, hw, x, y);
    ts_global_avgpool_backward(&cpu, n, c, hw, dy, dx);
    ts_cuda_gap_forward(dev->stream, n, c, hw, gx, gy);
    ts_cuda_gap_backward(dev->stream, n, c, hw, gdy, gdx);
    check_status("global average pool");
    check_close("gap y", gy, y, ny);
    check_close("gap dx", gdx, dx, nx);
    free(x), free(y), free(dy), free(dx);
    cudaFree(gx), cudaFree(gy), cudaFree(gdy), cudaFree(gdx);
  }
}

/* ---- losses ----------------------------------------------------------------------------- */

static void check_value(const char *what, double g, double c) {
  TS_CHECKF(fabs(g - c) <= TOL * fmax(1.0, fabs(c)), "%s: gpu %.12g cpu %.12g", what, g, c);
}

static void test_losses(void) {
  for (int t = 0; t < trials; t++) {
    TsReduction red = t % 2 ? TS_REDUCE_SUM : TS_REDUCE_MEAN;
    float scale = 0.5f + (float)ts_rng_uniform(&rng);
    int n = irange(1, 300), c = irange(2, 20);
    size_t m = (size_t)n * c;
    /* cross-entropy */
    float *z = randv(m, 5), *gz = randv(m, 0.1f);
    int32_t *lab = malloc((size_t)n * sizeof *lab);
    for (int i = 0; i < n; i++) lab[i] = (int32_t)irange(0, c - 1);
    float *dz = upf(z, m), *dgz = upf(gz, m);
    int32_t *dlab = up(lab, (size_t)n * sizeof(int32_t));
    double lc = ts_loss_cross_entropy(n, c, z, lab, red, scale, gz);
    double lg = ts_cuda_loss_cross_entropy(dev, n, c, dz, dlab, red, scale, dgz);
    check_status("cross-entropy");
    check_value("cross-entropy value", lg, lc);
    check_close("cross-entropy grad", dgz, gz, m);
    TS_CHECK(ts_cuda_count_correct(dev, n, c, dz, dlab) == ts_count_correct(n, c, z, lab));
    lab[0] = c; /* out of range: NAN, grad untouched */
    h2d(dlab, lab, sizeof(int32_t));
    TS_CHECK(isnan(ts_cuda_loss_cross_entropy(dev, n, c, dz, dlab, red, scale, dgz)));
    check_close("cross-entropy grad untouched by bad labels", dgz, gz, m);
    free(z), free(gz), free(lab);
    cudaFree(dz), cudaFree(dgz), cudaFree(dlab);
    /* mse, bce, bce with logits, kl */
    size_t k = (size_t)irange(1, 20000);
    float *x = randv(k, 3), *tg = randv(k, 1), *g = randv(k, 0.1f);
    float *p = malloc(k * sizeof *p), *tp = malloc(k * sizeof *tp);
    for (size_t i = 0; i < k; i++) {
      p[i] = 0.001f + 0.998f * (float)ts_rng_uniform(&rng);
      tp[i] = (float)ts_rng_uniform(&rng);
    }
    float *dx = upf(x, k), *dt = upf(tg, k), *dg = upf(g, k), *dp = upf(p, k), *dtp = upf(tp, k);
    check_value("mse value", ts_cuda_loss_mse(dev, k, dx, dt, red, scale, dg), ts_loss_mse(k, x, tg, red, scale, g));
    check_close("mse grad", dg, g, k);
    check_value("bce value", ts_cuda_loss_bce(dev, k, dp, dtp, red, scale, dg), ts_loss_bce(k, p, tp, red, scale, g));
    check_close("bce grad", dg, g, k);
    check_value("bce-logits value", ts_cuda_loss_bce_logits(dev, k, dx, dtp, red, scale, dg),
                ts_loss_bce_logits(k, x, tp, red, scale, g));
    check_close("bce-logits grad", dg, g, k);
    float *dmu = randv(k, 0.1f), *dlv = randv(k, 0.1f);
    float *gdmu = upf(dmu, k), *gdlv = upf(dlv, k);
    check_value("kl value", ts_cuda_loss_gaussian_kl(dev, k, dx, dt, scale, gdmu, gdlv),
                ts_loss_gaussian_kl(k, x, tg, scale, dmu, dlv));
    check_close("kl dmu", gdmu, dmu, k);
    check_close("kl dlogvar", gdlv, dlv, k);
    check_status("losses");
    free(x), free(tg), free(g), free(p), free(tp), free(dmu), free(dlv);
    cudaFree(dx), cudaFree(dt), cudaFree(dg), cudaFree(dp), cudaFree(dtp), cudaFree(gdmu), cudaFree(gdlv);
  }
}

/* ---- optimisers: three steps of the kernels against nn/optim.c ------------------------------- */

static void optim_case(TsOptimConfig cfg, const char *what) {
  size_t n = (size_t)irange(1, 5000);
  float *p = randv(n, 1), *g = randv(n, 1);
  int64_t shape[1] = {(int64_t)n};
  TsNamedTensor t = {0};
  snprintf(t.name, sizeof t.name, "w");
  t.role = TS_ROLE_PARAM, t.dtype = TS_NN_F32, t.ndim = 1, t.shape[0] = shape[0], t.numel = n;
  t.data = p, t.grad = g, t.trainable = 1;
  TsError err = {0};
  TsOptim *o = ts_optim_new(&cfg, &t, 1, &err);
  TS_CHECKF(o != NULL, "%s", err.message);
  if (!o) return;
  float *gp = upf(p, n), *gg = upf(g, n), *gm = upf(NULL, n), *gv = upf(NULL, n);
  for (int step = 0; step < 3; step++) {
    float lr = cfg.lr * (1.0f - 0.2f * (float)step);
    ts_optim_step(o, &cpu, lr);
    if (cfg.kind == TS_OPTIM_SGD) {
      ts_cuda_sgd_step(dev->stream, n, gp, gg, gm, lr, cfg.weight_decay, cfg.momentum, 1.0f - cfg.dampening,
                       cfg.nesterov, step == 0);
    } else {
      double tt = step + 1.0, bc1 = 1.0 - pow(cfg.beta1, tt), bc2 = sqrt(1.0 - pow(cfg.beta2, tt));
      ts_cuda_adam_step(dev->stream, n, gp, gg, gm, gv, lr, cfg.weight_decay, cfg.beta1, cfg.beta2, cfg.eps,
                        (float)(lr / bc1), (float)bc2, cfg.kind == TS_OPTIM_ADAMW);
    }
  }
  check_status(what);
  check_close(what, gp, p, n);
  ts_optim_free(o);
  free(p), free(g);
  cudaFree(gp), cudaFree(gg), cudaFree(gm), cudaFree(gv);
}

static void test_optimisers(void) {
  TsOptimConfig c = ts_optim_config_default(TS_OPTIM_SGD, 0.1f);
  optim_case(c, "sgd");
  c.momentum = 0.9f, c.weight_decay = 5e-4f;
  optim_case(c, "sgd momentum wd");
  c.dampening = 0.3f;
  optim_case(c, "sgd momentum dampening");
  c.dampening = 0.0f, c.nesterov = 1;
  optim_case(c, "sgd nesterov wd");
  c = ts_optim_config_default(TS_OPTIM_ADAM, 1e-3f);
  optim_case(c, "adam");
  c.weight_decay = 1e-2f;
  optim_case(c, "adam l2");
  c = ts_optim_config_default(TS_OPTIM_ADAMW, 1e-3f);
  optim_case(c, "adamw");
}

/* ---- whole training steps: a CPU model and its device twin --------------------------------- */

static void compare_tensors(const char *model, TsModel *a, TsModel *b) {
  TsError err = {0};
  TS_CHECKF(ts_model_sync_host(b, &err) == TS_OK, "%s", err.message);
  size_t na, nb;
  const TsNamedTensor *ta = ts_model_tensors(a, &na), *tb = ts_model_tensors(b, &nb);
  TS_CHECK(na == nb);
  for (size_t i = 0; i < na && i < nb; i++) {
    if (ta[i].dtype == TS_NN_I64) {
      TS_CHECKF(*(int64_t *)ta[i].data == *(int64_t *)tb[i].data, "%s %s", model, ta[i].name);
      continue;
    }
    /* compare on the host: upload b's then check (reuses check_close) */
    float *tmp = upf(tb[i].data, ta[i].numel);
    char what[200];
    snprintf(what, sizeof what, "%s step: %s", model, ta[i].name);
    check_close(what, tmp, ta[i].data, ta[i].numel);
    cudaFree(tmp);
  }
}

static void model_step(TsModelConfig cfg, int batch, TsOptimConfig ocfg, const char *label) {
  TsError err = {0};
  TsModel *a = ts_model_new(&cfg, batch, 42, &err), *b = ts_model_new(&cfg, batch, 42, &err);
  TS_CHECKF(a && b, "%s: %s", label, err.message);
  if (!a || !b) return;
  size_t n;
  TsOptim *oa = ts_optim_new(&ocfg, ts_model_tensors(a, &n), n, &err);
  TsOptim *ob = ts_optim_new(&ocfg, ts_model_tensors(b, &n), n, &err);
  TS_CHECKF(ts_model_to_device(b, dev, &err) == TS_OK, "%s: %s", label, err.message);
  TS_CHECKF(ts_optim_to_device(ob, b, &err) == TS_OK, "%s: %s", label, err.message);
  const int vae = cfg.kind == TS_MODEL_TOPOVAE;
  const size_t in = (size_t)batch * cfg.in_channels * cfg.in_h * cfg.in_w;
  float *x = randv(in, 1);
  if (vae)
    for (size_t i = 0; i < in; i++) x[i] = 0.5f + 0.5f * x[i];
  int32_t *lab = malloc((size_t)batch * sizeof *lab);
  for (int i = 0; i < batch; i++) lab[i] = (int32_t)irange(0, cfg.num_outputs - 1);
  for (int step = 0; step < 2; step++) {
    double loss[2];
    TsModel *ms[2] = {a, b};
    TsOptim *os[2] = {oa, ob};
    for (int k = 0; k < 2; k++) {
      TsModel *m = ms[k];
      ts_model_zero_grad(m);
      ts_model_forward(m, &cpu, x, batch, 1, 1000 + (uint64_t)step);
      TsTensor *out = ts_model_output(m, 0);
      if (vae) {
        TsTensor *mu = ts_model_output(m, 1), *lv = ts_model_output(m, 2);
        loss[k] = ts_loss_bce(out->numel, out->data, x, TS_REDUCE_SUM, 1.0f / batch, out->grad) +
                  ts_loss_gaussian_kl(mu->numel, mu->data, lv->data, 1.0f / batch, mu->grad, lv->grad) / batch;
      } else {
        loss[k] = ts_loss_cross_entropy(batch, cfg.num_outputs, out->data, lab, TS_REDUCE_MEAN, 1.0f, out->grad);
      }
      if (k == 1) {
        float *tmp = upf(out->data, out->numel);
        char what[160];
        snprintf(what, sizeof what, "%s step %d forward output", label, step);
        check_close(what, tmp, ts_model_output(a, 0)->data, out->numel);
        cudaFree(tmp);
      }
      ts_model_backward(m, &cpu);
    }
    TS_CHECKF(ts_model_device_status(b, &err) == TS_OK, "%s: %s", label, err.message);
    /* The gradients of the step, then the CPU's given to both optimisers:
     * an optimiser (Adam's first steps above all) turns a gradient near
     * zero into a step of about lr whatever its sign, so feeding each its
     * own would compare float noise, not the optimisers. */
    TS_CHECKF(ts_model_grads_to_host(b, &err) == TS_OK, "%s", err.message);
    size_t nta, ntb;
    const TsNamedTensor *ta = ts_model_tensors(a, &nta), *tb = ts_model_tensors(b, &ntb);
    for (size_t i = 0; i < nta && i < ntb; i++) {
      if (!ta[i].grad || !ta[i].trainable) continue;
      float *tmp = upf(tb[i].grad, ta[i].numel);
      char gw[200];
      snprintf(gw, sizeof gw, "%s step %d gradient of %s", label, step, ta[i].name);
      check_close(gw, tmp, ta[i].grad, ta[i].numel);
      cudaFree(tmp);
      memcpy(tb[i].grad, ta[i].grad, ta[i].numel * sizeof(float));
    }
    TS_CHECKF(ts_model_grads_to_device(b, &err) == TS_OK, "%s", err.message);
    for (int k = 0; k < 2; k++) ts_optim_step(os[k], &cpu, ocfg.lr);
    char what[160];
    snprintf(what, sizeof what, "%s loss at step %d", label, step);
    check_value(what, loss[1], loss[0]);
  }
  compare_tensors(label, a, b);
  /* the checkpoint view both ways: host -> device -> host is the identity */
  TS_CHECKF(ts_optim_sync_host(ob, &err) == TS_OK, "%s", err.message);
  size_t ns_a, ns_b;
  const TsNamedTensor *sa = ts_optim_state(oa, &ns_a), *sb = ts_optim_state(ob, &ns_b);
  for (size_t i = 0; i < ns_a && i < ns_b; i++)
    if (sa[i].dtype == TS_NN_F32) {
      float *tmp = upf(sb[i].data, sa[i].numel);
      char what[200];
      snprintf(what, sizeof what, "%s optimiser state %s", label, sa[i].name);
      check_close(what, tmp, sa[i].data, sa[i].numel);
      cudaFree(tmp);
    } else {
      TS_CHECK(*(int64_t *)sa[i].data == *(int64_t *)sb[i].data);
    }
  ts_optim_free(oa), ts_optim_free(ob);
  ts_model_free(a), ts_model_free(b);
  free(x), free(lab);
}

static void test_lenet5_step(void) {
  TsModelConfig c = ts_model_config_default(TS_MODEL_LENET5);
  TsOptimConfig o = ts_optim_config_default(TS_OPTIM_SGD, 0.05f);
  o.momentum = 0.9f, o.weight_decay = 5e-4f, o.nesterov = 1;
  model_step(c, 32, o, "lenet5");
}

static void test_resnet18_step(void) {
  TsModelConfig c = ts_model_config_default(TS_MODEL_RESNET18);
  c.in_channels = 3, c.in_h = c.in_w = 32, c.small_stem = 1;
  TsOptimConfig o = ts_optim_config_default(TS_OPTIM_SGD, 0.1f);
  o.momentum = 0.9f, o.weight_decay = 5e-4f;
  model_step(c, 16, o, "resnet18");
  o = ts_optim_config_default(TS_OPTIM_ADAMW, 1e-3f);
  c.small_stem = 0; /* the 7x7 stem and the max pool too */
  model_step(c, 8, o, "resnet18 (stem, adamw)");
}

/* The CIFAR ResNet's option-A shortcut (a stride-2 subsample padded with
 * zero channels), through a model step since it has no op of its own. */
static void test_resnet20_step(void) {
  TsModelConfig c = ts_model_config_default(TS_MODEL_RESNET20);
  TsOptimConfig o = ts_optim_config_default(TS_OPTIM_SGD, 0.1f);
  o.momentum = 0.9f, o.weight_decay = 1e-4f;
  model_step(c, 8, o, "resnet20 (option-A shortcuts)");
}

/* dnn-topology's LeNet: channel dropout, dropout and log-softmax. */
static void test_lenet_dnn_step(void) {
  TsModelConfig c = ts_model_config_default(TS_MODEL_LENET_DNN);
  TsOptimConfig o = ts_optim_config_default(TS_OPTIM_SGD, 0.01f);
  o.momentum = 0.9f;
  model_step(c, 16, o, "lenet-dnn (dropout2d, log-softmax)");
}

static void test_topovae_step(void) {
  TsModelConfig c = ts_model_config_default(TS_MODEL_TOPOVAE);
  model_step(c, 16, ts_optim_config_default(TS_OPTIM_ADAM, 1e-3f), "topovae");
}

int main(int argc, char **argv) {
  uint64_t seed = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
    else if (strcmp(argv[i], "--trials") == 0 && i + 1 < argc) trials = atoi(argv[++i]);
    else if (strcmp(argv[i], "--quick") == 0) trials = 2;
  }
  TsError err = {0};
  if (ts_device_probe(0, &err) != TS_OK) {
    printf("SKIP: %s\n", err.message);
    return 77;
  }
  if (!(dev = ts_device_open(0, 0, 0, &err))) {
    printf("FAIL: %s\n", err.message);
    return 1;
  }
  printf("device: %s, seed %llu, %d trials\n", ts_device_describe(dev), (unsigned long long)seed, trials);
  ts_rng_init(&rng, seed, 19);
  TS_RUN(test_conv);
  TS_RUN(test_linear);
  TS_RUN(test_batchnorm);
  TS_RUN(test_activations);
  TS_RUN(test_dropout_add_concat_softmax);
  TS_RUN(test_pool);
  TS_RUN(test_losses);
  TS_RUN(test_optimisers);
  TS_RUN(test_lenet5_step);
  TS_RUN(test_resnet18_step);
  TS_RUN(test_resnet20_step);
  TS_RUN(test_lenet_dnn_step);
  TS_RUN(test_topovae_step);
  ts_device_free(dev);
  return ts_test_finish();
}
