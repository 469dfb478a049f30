/* gpu-throughput.c — training throughput of a model on a CUDA device (or,
 * with --cpu, on the CPU for a baseline): images per second of whole steps
 * (batch copy, forward, cross-entropy on the host, backward, SGD with
 * momentum), after warm-up steps that also let cuDNN choose its
 * algorithms; the convolution and linear FLOPs of a step (3 x 2 x the
 * forward multiply-adds) per second beside the GPU's FP32 peak (SMs x FP32
 * lanes x 2 x clock). Exits 77 without a device.
 *
 *   gpu-throughput --model resnet18 --size 32 --batch 128 [--steps 30] [--tf32] [--cpu] [--threads N] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/pool.h"
#include "base/rng.h"
#include "nn/cuda/cuda.h"
#include "nn/device.h"
#include "nn/loss.h"
#include "nn/model-graph.h"
#include "nn/optim.h"

static double forward_macs_per_image(const TsModel *m) {
  double s = 0.0;
  for (int i = 0; i < m->n_nodes; i++) {
    const Node *n = &m->nodes[i];
    if (n->kind == NODE_CONV) {
      const TsConv2dDesc *d = &n->conv;
      if (d->transposed) s += (double)d->c * d->h * d->w * (d->k / d->groups) * d->r * d->s;
      else s += (double)d->k * d->p * d->q * (d->c / d->groups) * d->r * d->s;
    } else if (n->kind == NODE_LINEAR) {
      s += (double)n->lin_in * n->lin_out;
    }
  }
  return s;
}

static double fp32_peak(int ordinal) {
  int sms = 0, khz = 0, major = 0, minor = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, ordinal);
  cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, ordinal);
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, ordinal);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, ordinal);
  int lanes = major >= 9 || (major == 8 && minor > 0) ? 128 : 64;
  return (double)sms * lanes * 2.0 * khz * 1e3;
}

int main(int argc, char **argv) {
  const char *model = "resnet18";
  int size = 32, batch = 128, steps = 30, warm = 5, tf32 = 0, on_cpu = 0, threads = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
    else if (!strcmp(argv[i], "--size") && i + 1 < argc) size = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warm = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--tf32")) tf32 = 1;
    else if (!strcmp(argv[i], "--cpu")) on_cpu = 1;
    else {
      fprintf(stderr, "gpu-throughput: unknown option '%s'\n", argv[i]);
      return 2;
    }
  }
  int kind = ts_model_kind_from_name(model);
  if (kind < 0 || batch < 1 || steps < 1 || size < 8) {
    fprintf(stderr, "gpu-throughput: bad --model, --batch, --steps or --size\n");
    return 2;
  }
  TsError err = {0};
  TsDevice *dev = NULL;
  if (!on_cpu) {
    if (ts_device_probe(0, &err)) {
      printf("SKIP: %s\n", err.message);
      return 77;
    }
    if (!(dev = ts_device_open(0, tf32, 0, &err))) {
      fprintf(stderr, "gpu-throughput: %s\n", err.message);
      return 1;
    }
  }
  TsModelConfig cfg = ts_model_config_default((TsModelKind)kind);
  cfg.in_channels = 3, cfg.in_h = cfg.in_w = size;
  cfg.num_outputs = size >= 128 ? 1000 : 10;
  TsModel *m = ts_model_new(&cfg, batch, 1, &err);
  if (!m) {
    fprintf(stderr, "gpu-throughput: %s\n", err.message);
    return 1;
  }
  size_t nt;
  TsOptimConfig oc = ts_optim_config_default(TS_OPTIM_SGD, 0.01f);
  oc.momentum = 0.9f, oc.weight_decay = 5e-4f;
  TsOptim *o = ts_optim_new(&oc, ts_model_tensors(m, &nt), nt, &err);
  TsPool *pool = on_cpu ? ts_pool_new(threads, &err) : NULL;
  TsNnCtx ctx;
  ts_nn_ctx_init(&ctx, pool, 0);
  if (dev && (ts_model_to_device(m, dev, &err) || ts_optim_to_device(o, m, &err))) {
    fprintf(stderr, "gpu-throughput: %s\n", err.message);
    return 1;
  }
  const size_t in = (size_t)batch * 3 * size * size;
  float *x[2];
  int32_t *lab = malloc((size_t)batch * sizeof *lab);
  TsRng rng;
  ts_rng_init(&rng, 7, 0);
  for (int k = 0; k < 2; k++) {
    x[k] = malloc(in * sizeof(float));
    for (size_t i = 0; i < in; i++) x[k][i] = (float)ts_rng_normal(&rng);
  }
  for (int i = 0; i < batch; i++) lab[i] = (int32_t)ts_rng_below(&rng, (uint64_t)cfg.num_outputs);
  double t0 = 0.0, loss = 0.0;
  for (int s = 0; s < warm + steps; s++) {
    if (s == warm) t0 = ts_clock_monotonic();
    const float *xb = x[s & 1];
    ts_model_zero_grad(m);
    ts_model_forward(m, &ctx, xb, batch, 1, (uint64_t)s);
    ts_model_prefetch(m, x[(s + 1) & 1], batch); /* the next batch crosses while this step computes */
    TsTensor *out = ts_model_output(m, 0);
    loss = ts_loss_cross_entropy(batch, cfg.num_outputs, out->data, lab, TS_REDUCE_MEAN, 1.0f, out->grad);
    ts_model_backward(m, &ctx);
    ts_optim_step(o, &ctx, 0.01f);
    if (ts_model_device_status(m, &err)) {
      fprintf(stderr, "gpu-throughput: %s\n", err.message);
      return 1;
    }
  }
  if (dev) cudaStreamSynchronize(dev->stream);
  double dt = ts_clock_monotonic() - t0;
  double ips = (double)steps * batch / dt;
  double flops = 6.0 * forward_macs_per_image(m) * ips;
  if (dev) {
    double peak = fp32_peak(0);
    printf("%s %dx%dx%d batch %d on %s: %.1f images/s (%.1f ms/step), %.2f TFLOP/s = %.0f%% of the FP32 peak %.1f "
           "TFLOP/s%s; last loss %.4f\n",
           model, 3, size, size, batch, ts_device_describe(dev), ips, 1e3 * dt / steps, flops * 1e-12,
           100.0 * flops / peak, peak * 1e-12, tf32 ? " (TF32 on: the peak of its tensor cores is higher)" : "",
           loss);
  } else {
    printf("%s %dx%dx%d batch %d on the CPU (%d threads): %.2f images/s (%.0f ms/step), %.3f TFLOP/s; last loss "
           "%.4f\n",
           model, 3, size, size, batch, ts_nn_ctx_threads(&ctx), ips, 1e3 * dt / steps, flops * 1e-12, loss);
  }
  ts_optim_free(o);
  ts_model_free(m);
  ts_device_free(dev);
  ts_pool_free(pool);
  free(x[0]), free(x[1]), free(lab);
  return 0;
}
