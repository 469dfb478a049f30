/* linear.c — y = x w^T + b with cblas_sgemm, split over threads by rows of
 * the output (forward, dx) or by output features (dw, db), so every element
 * is reduced by one single-threaded GEMM. A GEMM's rounding may depend on
 * the block it is given (edge kernels), so in deterministic mode the blocks
 * have a fixed size whatever the thread count, and every task walks its
 * range in those blocks. */
#include "nn/ops.h"

#include "nn/blas.h"

typedef struct LinJob {
  int n, in, out;
  size_t block; /* rows (features) per GEMM call */
  const float *x, *w, *b, *dy;
  float *y, *dx, *dw, *db;
} LinJob;

static void fwd_task_block(LinJob *j, size_t b, size_t e) {
  int rows = (int)(e - b);
  float *y = j->y + b * (size_t)j->out;
  if (j->b) {
    for (int i = 0; i < rows; i++)
      for (int o = 0; o < j->out; o++) y[(size_t)i * j->out + o] = j->b[o];
  }
  ts_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, j->out, j->in, 1.0f, j->x + b * (size_t)j->in,
              j->in, j->w, j->in, j->b ? 1.0f : 0.0f, y, j->out);
}

/* forward split over output features when the batch is too small to share */
static void fwd_cols_task_block(LinJob *j, size_t b, size_t e) {
  int cols = (int)(e - b);
  for (int i = 0; i < j->n; i++)
    for (size_t o = b; o < e; o++) j->y[(size_t)i * j->out + o] = j->b ? j->b[o] : 0.0f;
  ts_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->n, cols, j->in, 1.0f, j->x, j->in,
              j->w + b * (size_t)j->in, j->in, 1.0f, j->y + b, j->out);
}


#define BLOCKED(name)                                                                                  \
  static void name(void *ctx, size_t b, size_t e, int worker) {                                        \
    (void)worker;                                                                                      \
    LinJob *j = ctx;                                                                                   \
    for (size_t s = b; s < e; s += j->block) name##_block(j, s, s + j->block < e ? s + j->block : e);  \
  }
BLOCKED(fwd_task)
BLOCKED(fwd_cols_task)

/* Sets the pool grain and the GEMM block of j for `total` rows. */
static void grain_for(const TsNnCtx *ctx, size_t total, size_t *grain, LinJob *j) {
  int nt = ts_nn_ctx_threads(ctx);
  size_t g = (total + (size_t)nt - 1) / (size_t)nt;
  if (ctx && ctx->deterministic) g = 32;
  *grain = g ? g : 1;
  j->block = *grain;
}

void ts_linear_forward(const TsNnCtx *ctx, int n, int in, int out, const float *x, const float *w,
                       const float *b, float *y) {
  LinJob j = {n, in, out, 0, x, w, b, NULL, y, NULL, NULL, NULL};
  size_t g;
  if (n >= 4 * ts_nn_ctx_threads(ctx) || (ctx && ctx->deterministic)) {
    grain_for(ctx, (size_t)n, &g, &j);
    ts_nn_for(ctx, (size_t)n, g, (size_t)in * out, fwd_task, &j);
  } else {
    grain_for(ctx, (size_t)out, &g, &j);
    ts_nn_for(ctx, (size_t)out, g, (size_t)in * n, fwd_cols_task, &j);
  }
}

static void dx_task_block(LinJob *j, size_t b, size_t e) {
  /* dx [rows, in] += dy [rows, out] * w [out, in] */
  ts_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)(e - b), j->in, j->out, 1.0f,
              j->dy + b * (size_t)j->out, j->out, j->w, j->in, 1.0f, j->dx + b * (size_t)j->in, j->in);
}

static void dw_task_block(LinJob *j, size_t b, size_t e) {
  int rows = (int)(e - b);
  if (j->dw) /* dw [rows, in] += dy^T [rows, n] * x [n, in] */
    ts_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rows, j->in, j->n, 1.0f, j->dy + b, j->out, j->x,
                j->in, 1.0f, j->dw + b * (size_t)j->in, j->in);
  if (j->db) {
    for (size_t o = b; o < e; o++) {
      float s = 0.0f;
      for (int i = 0; i < j->n; i++) s += j->dy[(size_t)i * j->out + o];
      j->db[o] += s;
    }
  }
}

BLOCKED(dx_task)
BLOCKED(dw_task)

void ts_linear_backward(const TsNnCtx *ctx, int n, int in, int out, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *db) {
  LinJob j = {n, in, out, 0, x, w, NULL, dy, NULL, dx, dw, db};
  size_t g;
  if (dx) {
    grain_for(ctx, (size_t)n, &g, &j);
    ts_nn_for(ctx, (size_t)n, g, (size_t)in * out, dx_task, &j);
  }
  if (dw || db) {
    grain_for(ctx, (size_t)out, &g, &j);
    ts_nn_for(ctx, (size_t)out, g, (size_t)in * n, dw_task, &j);
  }
}
