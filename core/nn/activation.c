/* activation.c — element-wise activations, forward and backward, split into
 * large chunks over the pool (each element is independent). */
#include "nn/ops.h"
#include "nn/simd.h"

#include <math.h>

#define GRAIN 32768

typedef enum Act { RELU, LEAKY, ELU, SIGMOID, TANH } Act;

typedef struct ActJob {
  Act act;
  float a; /* slope or alpha */
  const float *x, *y, *dy;
  float *out;
  int into; /* backward (ReLU only): dx = (not +=) */
} ActJob;

TS_NN_CLONES
static void fwd_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const ActJob *j = ctx;
  const float *x = j->x;
  float *y = j->out, a = j->a;
  switch (j->act) {
  case RELU:
    for (size_t i = b; i < e; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    break;
  case LEAKY:
    for (size_t i = b; i < e; i++) y[i] = x[i] > 0.0f ? x[i] : x[i] * a;
    break;
  case ELU:
    for (size_t i = b; i < e; i++) y[i] = x[i] > 0.0f ? x[i] : a * expm1f(x[i]);
    break;
  case SIGMOID:
    for (size_t i = b; i < e; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
    break;
  case TANH:
    for (size_t i = b; i < e; i++) y[i] = tanhf(x[i]);
    break;
  }
}

TS_NN_CLONES
static void bwd_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const ActJob *j = ctx;
  const float *x = j->x, *y = j->y, *dy = j->dy;
  float *dx = j->out, a = j->a;
  switch (j->act) {
  case RELU: /* PyTorch: gradient 0 at x == 0; uses the output */
    if (j->into)
      for (size_t i = b; i < e; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    else
      for (size_t i = b; i < e; i++) dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
    break;
  case LEAKY:
    for (size_t i = b; i < e; i++) dx[i] += x[i] > 0.0f ? dy[i] : dy[i] * a;
    break;
  case ELU: /* for x <= 0: d/dx alpha (e^x - 1) = y + alpha */
    for (size_t i = b; i < e; i++) dx[i] += x[i] > 0.0f ? dy[i] : dy[i] * (y[i] + a);
    break;
  case SIGMOID:
    for (size_t i = b; i < e; i++) dx[i] += dy[i] * y[i] * (1.0f - y[i]);
    break;
  case TANH:
    for (size_t i = b; i < e; i++) dx[i] += dy[i] * (1.0f - y[i] * y[i]);
    break;
  }
}

static void run_fwd(const TsNnCtx *ctx, Act act, float a, size_t n, const float *x, float *y) {
  ActJob j = {act, a, x, NULL, NULL, y};
  ts_nn_for(ctx, n, GRAIN, 4, fwd_task, &j);
}

static void run_bwd(const TsNnCtx *ctx, Act act, float a, size_t n, const float *x, const float *y,
                    const float *dy, float *dx) {
  ActJob j = {act, a, x, y, dy, dx};
  ts_nn_for(ctx, n, GRAIN, 4, bwd_task, &j);
}

void ts_relu_forward(const TsNnCtx *ctx, size_t n, const float *x, float *y) { run_fwd(ctx, RELU, 0, n, x, y); }
void ts_relu_backward(const TsNnCtx *ctx, size_t n, const float *x, const float *y, const float *dy, float *dx) {
  run_bwd(ctx, RELU, 0, n, x, y, dy, dx);
}
void ts_relu_backward_into(const TsNnCtx *ctx, size_t n, const float *y, const float *dy, float *dx) {
  ActJob j = {RELU, 0, NULL, y, dy, dx, 1};
  ts_nn_for(ctx, n, GRAIN, 4, bwd_task, &j);
}
void ts_leaky_relu_forward(const TsNnCtx *ctx, size_t n, float slope, const float *x, float *y) {
  run_fwd(ctx, LEAKY, slope, n, x, y);
}
void ts_leaky_relu_backward(const TsNnCtx *ctx, size_t n, float slope, const float *x, const float *y,
                            const float *dy, float *dx) {
  run_bwd(ctx, LEAKY, slope, n, x, y, dy, dx);
}
void ts_elu_forward(const TsNnCtx *ctx, size_t n, float alpha, const float *x, float *y) {
  run_fwd(ctx, ELU, alpha, n, x, y);
}
void ts_elu_backward(const TsNnCtx *ctx, size_t n, float alpha, const float *x, const float *y, const float *dy,
                     float *dx) {
  run_bwd(ctx, ELU, alpha, n, x, y, dy, dx);
}
void ts_sigmoid_forward(const TsNnCtx *ctx, size_t n, const float *x, float *y) {
  run_fwd(ctx, SIGMOID, 0, n, x, y);
}
void ts_sigmoid_backward(const TsNnCtx *ctx, size_t n, const float *x, const float *y, const float *dy,
                         float *dx) {
  run_bwd(ctx, SIGMOID, 0, n, x, y, dy, dx);
}
void ts_tanh_forward(const TsNnCtx *ctx, size_t n, const float *x, float *y) { run_fwd(ctx, TANH, 0, n, x, y); }
void ts_tanh_backward(const TsNnCtx *ctx, size_t n, const float *x, const float *y, const float *dy, float *dx) {
  run_bwd(ctx, TANH, 0, n, x, y, dy, dx);
}
