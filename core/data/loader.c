#include "data/loader.h"

#include "run/dist.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Distinct seed salts so the permutation and the augmentation streams never
 * coincide with other users of the same --seed (weight init, dropout). */
#define SALT_PERM 0x7065726d75746531ull
#define SALT_AUG 0x6175676d656e7431ull

enum { SLOT_FREE = 0, SLOT_FILLING, SLOT_READY, SLOT_LENT };

typedef struct Slot {
  int state;
  TsBatch b;
  float *scratch;
  uint8_t *bytes; /* streamed sets: one sample's CHW bytes */
  int failed;     /* the batch could not be made (l->error says why) */
} Slot;

struct TsLoader {
  const TsDataset *ds;
  TsLoaderConfig cfg;
  int oc, oh, ow;
  int64_t nbatches, epoch;
  uint32_t *order;
  int nslots;
  Slot *slots;
  size_t scratch_n;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int active, stop;
  int64_t next_produce, next_consume, held; /* held: slot index lent to the consumer, -1 none */
  int nthreads;
  pthread_t *threads;
  void *sync_worker;     /* the stream's state for batches made on the caller's thread */
  int sync_worker_made;
  int failed;            /* a batch failed: the epoch ends, l->error holds the first message */
  TsError error;
};

/* The first failure wins (called with or without the lock: it takes it). */
static void record_error(TsLoader *l, const TsError *e) {
  pthread_mutex_lock(&l->mu);
  if (!l->failed) {
    l->failed = 1;
    l->error = *e;
  }
  pthread_mutex_unlock(&l->mu);
}

static void fill_batch(TsLoader *l, Slot *s, int64_t b, void *worker) {
  const TsDataset *ds = l->ds;
  s->failed = 0;
  int64_t start = b * l->cfg.batch, end = start + l->cfg.batch;
  if (end > ds->count) end = ds->count;
  size_t per = (size_t)l->oc * (size_t)l->oh * (size_t)l->ow;
  s->b.index = b;
  s->b.global_n = (int)(end - start);
  s->b.offset = 0;
  if (l->cfg.shard_count > 1) {
    int64_t lo, hi;
    ts_dist_shard_of(end - start, l->cfg.shard_rank, l->cfg.shard_count, &lo, &hi);
    s->b.offset = (int)lo;
    end = start + hi;
    start += lo;
  }
  s->b.n = (int)(end - start);
  for (int64_t k = start; k < end; k++) {
    int64_t id = l->order[k], j = k - start;
    TsRng rng;
    ts_rng_init(&rng, l->cfg.seed ^ SALT_AUG, ((uint64_t)l->epoch << 32) ^ (uint64_t)id);
    const uint8_t *src;
    float *t = s->b.t ? s->b.t + (size_t)j * (size_t)ds->target_dims : NULL;
    if (ds->pixels && (!t || ds->targets)) {
      src = ts_dataset_sample(ds, id);
      if (t) memcpy(t, ds->targets + (size_t)id * (size_t)ds->target_dims, sizeof(float) * (size_t)ds->target_dims);
    } else {
      TsError e = {0};
      if (ts_dataset_fetch(ds, worker, l->epoch, id, s->bytes, t, &e) != TS_OK) {
        s->failed = 1;
        record_error(l, &e);
        return;
      }
      src = s->bytes;
    }
    ts_augment_apply(&l->cfg.aug, src, ds->channels, ds->height, ds->width, l->cfg.augment ? &rng : NULL,
                     s->b.x + (size_t)j * per, s->scratch);
    s->b.y[j] = ds->labels[id];
    s->b.ids[j] = id;
  }
}

static void *worker_main(void *arg) {
  TsLoader *l = arg;
  void *worker = NULL;
  const TsSampleStream *st = l->ds->stream;
  if (st && st->worker_new) {
    TsError e = {0};
    if (!(worker = st->worker_new(st->user, &e))) record_error(l, &e);
  }
  pthread_mutex_lock(&l->mu);
  while (!l->stop) {
    if (l->active && l->next_produce < l->nbatches) {
      int64_t b = l->next_produce;
      Slot *s = &l->slots[b % l->nslots];
      if (s->state == SLOT_FREE) {
        l->next_produce++;
        s->state = SLOT_FILLING;
        pthread_mutex_unlock(&l->mu);
        fill_batch(l, s, b, worker);
        pthread_mutex_lock(&l->mu);
        s->state = SLOT_READY;
        pthread_cond_broadcast(&l->cv);
        continue;
      }
    }
    pthread_cond_wait(&l->cv, &l->mu);
  }
  pthread_mutex_unlock(&l->mu);
  if (worker && st->worker_free) st->worker_free(st->user, worker);
  return NULL;
}

TsStatus ts_loader_new(const TsDataset *ds, const TsLoaderConfig *cfg, TsLoader **out, TsError *err) {
  *out = NULL;
  if (cfg->batch < 1) return ts_error_set(err, TS_ERR_INVALID, "batch size %d", cfg->batch);
  if (ds->count < 1) return ts_error_set(err, TS_ERR_INVALID, "%s: the dataset is empty", ds->source);
  if (ds->count > UINT32_MAX) return ts_error_set(err, TS_ERR_UNSUPPORTED, "%s: too many samples", ds->source);
  if (cfg->workers < 0 || cfg->workers > 64) return ts_error_set(err, TS_ERR_INVALID, "%d loader threads", cfg->workers);
  if (cfg->shard_count > 1 && (cfg->shard_rank < 0 || cfg->shard_rank >= cfg->shard_count))
    return ts_error_set(err, TS_ERR_INVALID, "shard %d of %d", cfg->shard_rank, cfg->shard_count);
  TsLoader *l = calloc(1, sizeof *l);
  if (!l) return ts_error_set(err, TS_ERR_NOMEM, "loader");
  l->ds = ds;
  l->cfg = *cfg;
  l->held = -1;
  l->oc = ds->channels;
  ts_augment_out_size(&cfg->aug, ds->height, ds->width, &l->oh, &l->ow);
  l->nbatches = cfg->drop_last && ds->count >= cfg->batch ? ds->count / cfg->batch
                                                           : (ds->count + cfg->batch - 1) / cfg->batch;
  l->nslots = cfg->prefetch > 0 ? cfg->prefetch : 4;
  if (cfg->workers == 0) l->nslots = 1;
  l->scratch_n = ts_augment_scratch(&cfg->aug, ds->channels, ds->height, ds->width);
  l->order = ts_alloc_array((size_t)ds->count, sizeof(uint32_t), "loader order", err);
  l->slots = ts_calloc_array((size_t)l->nslots, sizeof(Slot), "loader slots", err);
  if (!l->order || !l->slots) goto nomem;
  for (int64_t i = 0; i < ds->count; i++) l->order[i] = (uint32_t)i;
  size_t per = (size_t)l->oc * (size_t)l->oh * (size_t)l->ow;
  /* a shard holds at most ceil(batch / shards) samples */
  int cap = cfg->shard_count > 1 ? (cfg->batch + cfg->shard_count - 1) / cfg->shard_count : cfg->batch;
  for (int i = 0; i < l->nslots; i++) {
    Slot *s = &l->slots[i];
    s->b.c = l->oc;
    s->b.h = l->oh;
    s->b.w = l->ow;
    s->b.x = ts_alloc_array(per * (size_t)cap, sizeof(float), "batch", err);
    s->b.y = ts_alloc_array((size_t)cap, sizeof(int32_t), "batch labels", err);
    s->b.ids = ts_alloc_array((size_t)cap, sizeof(int64_t), "batch ids", err);
    s->scratch = l->scratch_n ? ts_alloc_array(l->scratch_n, sizeof(float), "resize scratch", err) : NULL;
    int nd = ds->target_dims > 0 ? ds->target_dims : 0;
    s->b.dims = nd;
    s->b.t = nd ? ts_alloc_array((size_t)cap * (size_t)nd, sizeof(float), "batch targets", err) : NULL;
    int streamed = !ds->pixels || (nd && !ds->targets);
    s->bytes = streamed ? ts_alloc_array((size_t)ds->channels * (size_t)ds->height * (size_t)ds->width, 1, "sample", err)
                        : NULL;
    if (!s->b.x || !s->b.y || !s->b.ids || (l->scratch_n && !s->scratch) || (nd && !s->b.t) || (streamed && !s->bytes))
      goto nomem;
  }
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->cv, NULL);
  if (cfg->workers > 0) {
    l->threads = calloc((size_t)cfg->workers, sizeof(pthread_t));
    if (!l->threads) goto nomem_sync;
    for (int i = 0; i < cfg->workers; i++) {
      if (pthread_create(&l->threads[i], NULL, worker_main, l) != 0) {
        ts_loader_free(l);
        return ts_error_set(err, TS_ERR_INTERNAL, "cannot start loader thread");
      }
      l->nthreads++;
    }
  }
  *out = l;
  return TS_OK;
nomem_sync:
  ts_loader_free(l);
  return ts_error_set(err, TS_ERR_NOMEM, "loader threads");
nomem:
  /* the mutex is not initialised yet: free by hand */
  if (l->slots)
    for (int i = 0; i < l->nslots; i++) {
      free(l->slots[i].b.x);
      free(l->slots[i].b.y);
      free(l->slots[i].b.ids);
      free(l->slots[i].b.t);
      free(l->slots[i].scratch);
      free(l->slots[i].bytes);
    }
  free(l->slots);
  free(l->order);
  free(l);
  return TS_ERR_NOMEM;
}

void ts_loader_free(TsLoader *l) {
  if (!l) return;
  pthread_mutex_lock(&l->mu);
  l->stop = 1;
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
  for (int i = 0; i < l->nthreads; i++) pthread_join(l->threads[i], NULL);
  free(l->threads);
  for (int i = 0; i < l->nslots; i++) {
    free(l->slots[i].b.x);
    free(l->slots[i].b.y);
    free(l->slots[i].b.ids);
    free(l->slots[i].b.t);
    free(l->slots[i].scratch);
    free(l->slots[i].bytes);
  }
  if (l->sync_worker && l->ds->stream && l->ds->stream->worker_free)
    l->ds->stream->worker_free(l->ds->stream->user, l->sync_worker);
  free(l->slots);
  free(l->order);
  pthread_cond_destroy(&l->cv);
  pthread_mutex_destroy(&l->mu);
  free(l);
}

int64_t ts_loader_batches(const TsLoader *l) { return l->nbatches; }

TsStatus ts_loader_status(TsLoader *l, TsError *err) {
  pthread_mutex_lock(&l->mu);
  TsStatus s = TS_OK;
  if (l->failed) {
    if (err) *err = l->error;
    s = l->error.code ? l->error.code : TS_ERR_IO;
  }
  pthread_mutex_unlock(&l->mu);
  return s;
}

const uint32_t *ts_loader_order(const TsLoader *l) { return l->order; }

TsStatus ts_loader_begin_epoch(TsLoader *l, int64_t epoch, int64_t first_batch, TsError *err) {
  if (epoch < 0 || first_batch < 0 || first_batch > l->nbatches)
    return ts_error_set(err, TS_ERR_INVALID, "epoch %lld batch %lld (of %lld)", (long long)epoch,
                        (long long)first_batch, (long long)l->nbatches);
  pthread_mutex_lock(&l->mu);
  /* Quiesce: no new work, wait for batches in flight (they read the order). */
  l->active = 0;
  for (;;) {
    int filling = 0;
    for (int i = 0; i < l->nslots; i++) filling |= l->slots[i].state == SLOT_FILLING;
    if (!filling) break;
    pthread_cond_wait(&l->cv, &l->mu);
  }
  for (int i = 0; i < l->nslots; i++) l->slots[i].state = SLOT_FREE;
  l->held = -1;
  l->epoch = epoch;
  l->failed = 0;
  int64_t n = l->ds->count;
  for (int64_t i = 0; i < n; i++) l->order[i] = (uint32_t)i;
  if (l->cfg.shuffle) {
    TsRng rng;
    ts_rng_init(&rng, l->cfg.seed ^ SALT_PERM, (uint64_t)epoch);
    ts_rng_shuffle_u32(&rng, l->order, (size_t)n);
  }
  l->next_produce = l->next_consume = first_batch;
  l->active = 1;
  pthread_cond_broadcast(&l->cv);
  pthread_mutex_unlock(&l->mu);
  return TS_OK;
}

const TsBatch *ts_loader_peek(TsLoader *l) {
  const TsBatch *out = NULL;
  pthread_mutex_lock(&l->mu);
  if (l->nthreads > 0 && l->active && !l->failed && l->next_consume < l->nbatches) {
    const Slot *s = &l->slots[l->next_consume % l->nslots];
    if (s->state == SLOT_READY && s->b.index == l->next_consume && !s->failed) out = &s->b;
  }
  pthread_mutex_unlock(&l->mu);
  return out;
}

const TsBatch *ts_loader_next(TsLoader *l) {
  pthread_mutex_lock(&l->mu);
  if (l->held >= 0) {
    l->slots[l->held].state = SLOT_FREE;
    l->held = -1;
    pthread_cond_broadcast(&l->cv);
  }
  if (!l->active || l->failed || l->next_consume >= l->nbatches) {
    pthread_mutex_unlock(&l->mu);
    return NULL;
  }
  int64_t b = l->next_consume++;
  Slot *s = &l->slots[b % l->nslots];
  if (l->nthreads == 0) {
    l->next_produce = l->next_consume;
    pthread_mutex_unlock(&l->mu);
    const TsSampleStream *st = l->ds->stream;
    if (st && st->worker_new && !l->sync_worker_made) {
      TsError e = {0};
      l->sync_worker_made = 1;
      if (!(l->sync_worker = st->worker_new(st->user, &e))) record_error(l, &e);
    }
    if (!l->failed) fill_batch(l, s, b, l->sync_worker);
    else s->failed = 1;
    pthread_mutex_lock(&l->mu);
  } else {
    while (!(s->state == SLOT_READY && s->b.index == b) && !l->failed) pthread_cond_wait(&l->cv, &l->mu);
  }
  if (l->failed || s->failed) {
    pthread_mutex_unlock(&l->mu);
    return NULL;
  }
  s->state = SLOT_LENT;
  l->held = b % l->nslots;
  pthread_mutex_unlock(&l->mu);
  return &s->b;
}
