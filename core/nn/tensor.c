/* tensor.c — arena, dtype sizes and the execution context. */
#include "nn/tensor.h"

#include <stdlib.h>
#include <string.h>

size_t ts_nn_dtype_size(TsNnDType t) { return t == TS_NN_I64 ? 8 : 4; }

size_t ts_arena_round(size_t n) { return (n + 15) & ~(size_t)15; }

TsStatus ts_arena_init(TsArena *a, size_t cap, TsError *err) {
  a->base = NULL;
  a->cap = 0;
  a->used = 0;
  cap = ts_arena_round(cap ? cap : 16);
  size_t bytes;
  if (ts_mul_size(cap, sizeof(float), &bytes) != 0)
    return ts_error_set(err, TS_ERR_NOMEM, "activation arena: size overflows");
  float *p = aligned_alloc(64, bytes);
  if (!p) return ts_error_set(err, TS_ERR_NOMEM, "activation arena: cannot allocate %zu bytes", bytes);
  memset(p, 0, bytes);
  a->base = p;
  a->cap = cap;
  return TS_OK;
}

float *ts_arena_alloc(TsArena *a, size_t n) {
  n = ts_arena_round(n);
  if (n > a->cap - a->used) return NULL;
  float *p = a->base + a->used;
  a->used += n;
  return p;
}

void ts_arena_clear(TsArena *a) {
  free(a->base);
  a->base = NULL;
  a->cap = a->used = 0;
}

void ts_nn_ctx_init(TsNnCtx *ctx, TsPool *pool, int deterministic) {
  ctx->pool = pool;
  ctx->deterministic = deterministic ? 1 : 0;
  ctx->sync_sum = NULL;
  ctx->sync_user = NULL;
  ctx->sync_weight = 1.0;
  /* (The BLAS is told to run one thread per call when it is loaded:
   * nn/blas.c.) */
}

int ts_nn_ctx_threads(const TsNnCtx *ctx) { return ctx ? ts_pool_threads(ctx->pool) : 1; }

void ts_nn_for(const TsNnCtx *ctx, size_t n, size_t grain, size_t cost_per_item, TsPoolTask fn, void *arg) {
  if (n == 0) return;
  TsPool *pool = ctx ? ctx->pool : NULL;
  size_t work = cost_per_item ? cost_per_item : 1;
  if (!pool || n == 1 || (n <= ((size_t)1 << 16) / work && n * work < ((size_t)1 << 16))) {
    fn(arg, 0, n, 0);
    return;
  }
  ts_pool_for(pool, n, grain, fn, arg);
}
