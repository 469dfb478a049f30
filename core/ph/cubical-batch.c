/* cubical-batch.c — many grids at once: one grid per pool task, each with
 * its own scratch (the engine keeps no global state), so a batch of small
 * images scales with the cores. */
#include <pthread.h>
#include <stdio.h>

#include "ph/cubical.h"

typedef struct BatchCtx {
  const double *const *values;
  int ndim;
  const size_t *shape;
  const TsCubicalOptions *o;
  TsDiagram *outs;
  pthread_mutex_t lock;
  size_t first_bad;
  TsError first_err;
} BatchCtx;

static void batch_task(void *ctx, size_t begin, size_t end, int worker) {
  (void)worker;
  BatchCtx *c = ctx;
  for (size_t i = begin; i < end; i++) {
    TsError e;
    ts_error_clear(&e);
    if (ts_cubical_ph(c->values[i], c->ndim, c->shape, c->o, &c->outs[i], &e) == TS_OK) continue;
    pthread_mutex_lock(&c->lock);
    if (i < c->first_bad) {
      c->first_bad = i;
      c->first_err = e;
    }
    pthread_mutex_unlock(&c->lock);
  }
}

TsStatus ts_cubical_ph_batch(const double *const *values, size_t count, int ndim, const size_t *shape,
                             const TsCubicalOptions *o, TsDiagram *outs, TsPool *pool, TsError *err) {
  if (count == 0) return TS_OK;
  if (!values || !outs) return ts_error_set(err, TS_ERR_INVALID, "cubical batch: no values or no outputs");
  BatchCtx c = {.values = values, .ndim = ndim, .shape = shape, .o = o, .outs = outs, .first_bad = count};
  ts_error_clear(&c.first_err);
  pthread_mutex_init(&c.lock, NULL);
  ts_pool_for(pool, count, 1, batch_task, &c);
  pthread_mutex_destroy(&c.lock);
  if (c.first_bad == count) return TS_OK;
  ts_error_set(err, c.first_err.code, "grid %zu: %s", c.first_bad, c.first_err.message);
  return c.first_err.code;
}
