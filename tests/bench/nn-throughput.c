/* nn-throughput — training throughput of the CPU engine, for
 * tests/bench/bench-nn.py.
 *
 *   nn-throughput MODEL BATCH THREADS STEPS [deterministic]
 * MODEL: lenet5 (1x28x28, SGD momentum), resnet18 (small stem, 3x32x32,
 * SGD momentum + weight decay), topovae (1x28x28, Adam, BCE + KL).
 * Runs 1 warm-up step, then STEPS timed training steps (forward, loss,
 * backward, optimiser) on random data held in memory, and prints
 * "images_per_second N" and the mean milliseconds per step.
 *
 *   nn-throughput conv THREADS
 * times the convolution forward pass of the layer shapes of these models
 * two ways: the engine's (im2col + SGEMM, Winograd for the 3x3 stride-1
 * ResNet layers), and a direct kernel (loops over
 * output channel, input channel and kernel tap with the output row as the
 * vectorised inner loop), both split over images on the same pool. This is
 * the measurement behind the engine's choice of GEMM-based kernels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/pool.h"
#include "base/rng.h"
#include "nn/loss.h"
#include "nn/model.h"
#include "nn/ops.h"
#include "nn/optim.h"

static double cpu_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- direct convolution, for the comparison only ---------------------------- */
typedef struct DirectJob {
  const TsConv2dDesc *d;
  const float *x, *w;
  float *y;
} DirectJob;

static void direct_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const DirectJob *j = ctx;
  const TsConv2dDesc *d = j->d;
  for (size_t n = b; n < e; n++) {
    for (int k = 0; k < d->k; k++) {
      float *yk = j->y + ((size_t)n * d->k + k) * d->p * d->q;
      memset(yk, 0, sizeof(float) * (size_t)d->p * d->q);
      for (int c = 0; c < d->c; c++) {
        const float *xc = j->x + ((size_t)n * d->c + c) * d->h * d->w;
        for (int r = 0; r < d->r; r++)
          for (int s = 0; s < d->s; s++) {
            const float wv = j->w[(((size_t)k * d->c + c) * d->r + r) * d->s + s];
            for (int py = 0; py < d->p; py++) {
              int iy = py * d->stride_h - d->pad_h + r;
              if (iy < 0 || iy >= d->h) continue;
              const float *xr = xc + (size_t)iy * d->w;
              float *yr = yk + (size_t)py * d->q;
              int q0 = 0, q1 = d->q;
              while (q0 < q1 && q0 * d->stride_w - d->pad_w + s < 0) q0++;
              while (q1 > q0 && (q1 - 1) * d->stride_w - d->pad_w + s >= d->w) q1--;
              if (d->stride_w == 1) {
                const float *xs = xr - d->pad_w + s;
                for (int q = q0; q < q1; q++) yr[q] += wv * xs[q];
              } else {
                for (int q = q0; q < q1; q++) yr[q] += wv * xr[q * d->stride_w - d->pad_w + s];
              }
            }
          }
      }
    }
  }
}

static int conv_compare(int threads) {
  struct {
    const char *what;
    int n, c, h, k, r, stride, pad;
  } shapes[] = {
      {"lenet5 conv1", 64, 1, 28, 6, 5, 1, 2},      {"lenet5 conv2", 64, 6, 14, 16, 5, 1, 0},
      {"topovae conv1", 128, 1, 28, 32, 4, 2, 1},   {"topovae conv2", 128, 32, 14, 64, 4, 2, 1},
      {"resnet18 stem", 64, 3, 32, 64, 3, 1, 1},    {"resnet18 layer1", 64, 64, 32, 64, 3, 1, 1},
      {"resnet18 layer3", 64, 256, 8, 256, 3, 1, 1}, {"resnet18 layer4", 64, 512, 4, 512, 3, 1, 1},
  };
  TsError err;
  TsPool *pool = ts_pool_new(threads, &err);
  TsNnCtx ctx;
  ts_nn_ctx_init(&ctx, pool, 0);
  TsRng rng;
  ts_rng_init(&rng, 3, 0);
  printf("%-16s %12s %12s %8s %10s\n", "layer", "engine ms", "direct ms", "ratio", "max diff");
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    TsConv2dDesc d = {.n = shapes[i].n, .c = shapes[i].c, .h = shapes[i].h, .w = shapes[i].h, .k = shapes[i].k,
                      .r = shapes[i].r, .s = shapes[i].r, .stride_h = shapes[i].stride, .stride_w = shapes[i].stride,
                      .pad_h = shapes[i].pad, .pad_w = shapes[i].pad, .dil_h = 1, .dil_w = 1, .groups = 1};
    if (ts_conv2d_desc_init(&d, &err) != TS_OK) return 1;
    size_t nx = (size_t)d.n * d.c * d.h * d.w, nw = (size_t)d.k * d.c * d.r * d.s, ny = (size_t)d.n * d.k * d.p * d.q;
    float *x = malloc(nx * sizeof *x), *w = malloc(nw * sizeof *w), *y1 = malloc(ny * sizeof *y1),
          *y2 = malloc(ny * sizeof *y2);
    float *scratch = malloc(ts_conv2d_scratch_size(&d, threads) * sizeof(float));
    for (size_t k = 0; k < nx; k++) x[k] = ts_rng_uniformf(&rng) - 0.5f;
    for (size_t k = 0; k < nw; k++) w[k] = ts_rng_uniformf(&rng) - 0.5f;
    double best1 = 1e30, best2 = 1e30;
    DirectJob j = {&d, x, w, y2};
    for (int rep = 0; rep < 3; rep++) {
      double t0 = ts_clock_monotonic();
      ts_conv2d_forward(&ctx, &d, x, w, NULL, y1, scratch);
      double t1 = ts_clock_monotonic();
      ts_pool_for(pool, (size_t)d.n, 1, direct_task, &j);
      double t2 = ts_clock_monotonic();
      if (t1 - t0 < best1) best1 = t1 - t0;
      if (t2 - t1 < best2) best2 = t2 - t1;
    }
    double md = 0;
    for (size_t k = 0; k < ny; k++) md = fmax(md, fabs((double)y1[k] - y2[k]));
    printf("%-16s %12.2f %12.2f %7.2fx %10.2g\n", shapes[i].what, 1e3 * best1, 1e3 * best2, best2 / best1, md);
    free(x), free(w), free(y1), free(y2), free(scratch);
  }
  ts_pool_free(pool);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "conv") == 0) return conv_compare(atoi(argv[2]) > 0 ? atoi(argv[2]) : 1);
  if (argc < 5) {
    fprintf(stderr, "usage: nn-throughput lenet5|resnet18|topovae BATCH THREADS STEPS [deterministic]\n");
    return 2;
  }
  const char *name = argv[1];
  int batch = atoi(argv[2]), threads = atoi(argv[3]), steps = atoi(argv[4]);
  int det = argc > 5 && strcmp(argv[5], "deterministic") == 0;
  int kind = ts_model_kind_from_name(name);
  if (kind < 0 || batch < 1 || threads < 1 || steps < 1) {
    fprintf(stderr, "nn-throughput: bad arguments\n");
    return 2;
  }
  TsModelConfig cfg = ts_model_config_default((TsModelKind)kind);
  if (kind == TS_MODEL_RESNET18) cfg.in_channels = 3, cfg.in_h = cfg.in_w = 32, cfg.small_stem = 1;
  TsError err;
  TsPool *pool = ts_pool_new(threads, &err);
  TsModel *m = pool ? ts_model_new(&cfg, batch, 1, &err) : NULL;
  if (!m) {
    fprintf(stderr, "nn-throughput: %s\n", err.message);
    return 1;
  }
  TsNnCtx ctx;
  ts_nn_ctx_init(&ctx, pool, det);
  TsOptimConfig oc;
  if (kind == TS_MODEL_TOPOVAE) {
    oc = ts_optim_config_default(TS_OPTIM_ADAM, 5e-4f);
  } else {
    oc = ts_optim_config_default(TS_OPTIM_SGD, 0.01f);
    oc.momentum = 0.9f;
    oc.weight_decay = 1e-4f;
  }
  size_t nt;
  const TsNamedTensor *tensors = ts_model_tensors(m, &nt);
  TsOptim *opt = ts_optim_new(&oc, tensors, nt, &err);
  size_t nx = (size_t)batch * cfg.in_channels * cfg.in_h * cfg.in_w;
  float *x = malloc(nx * sizeof *x);
  int32_t *labels = malloc((size_t)batch * sizeof *labels);
  TsRng rng;
  ts_rng_init(&rng, 1, 0);
  for (size_t i = 0; i < nx; i++) x[i] = ts_rng_uniformf(&rng);
  for (int i = 0; i < batch; i++) labels[i] = (int32_t)ts_rng_below(&rng, 10);
  double t0 = 0, c0 = 0;
  double loss = 0;
  for (int s = 0; s < steps + 1; s++) {
    if (s == 1) {
      t0 = ts_clock_monotonic();
      c0 = cpu_seconds();
    }
    ts_model_zero_grad(m);
    ts_model_forward(m, &ctx, x, batch, 1, (uint64_t)s);
    TsTensor *o = ts_model_output(m, 0);
    if (kind == TS_MODEL_TOPOVAE) {
      TsTensor *mu = ts_model_output(m, 1), *lv = ts_model_output(m, 2);
      loss = ts_loss_bce(o->numel, o->data, x, TS_REDUCE_SUM, 1.0f / batch, o->grad);
      loss += ts_loss_gaussian_kl(mu->numel, mu->data, lv->data, 1.0f / batch, mu->grad, lv->grad);
      loss /= batch;
    } else {
      loss = ts_loss_cross_entropy(batch, cfg.num_outputs, o->data, labels, TS_REDUCE_MEAN, 1.0f, o->grad);
    }
    ts_model_backward(m, &ctx);
    ts_optim_step(opt, &ctx, oc.lr);
  }
  double dt = ts_clock_monotonic() - t0, dc = cpu_seconds() - c0;
  printf("model %s batch %d threads %d steps %d\n", name, batch, threads, steps);
  printf("ms_per_step %.3f\n", 1000.0 * dt / steps);
  printf("images_per_second %.1f\n", (double)batch * steps / dt);
  /* images per second of a dedicated machine with THREADS cores, estimated
   * from the CPU time used (robust against other processes) */
  printf("images_per_cpu_second_x_threads %.1f\n", (double)batch * steps / dc * threads);
  printf("final_loss %.5f\n", loss);
  free(x);
  free(labels);
  ts_optim_free(opt);
  ts_model_free(m);
  ts_pool_free(pool);
  return 0;
}
