/* loader.h — batches for training and evaluation, prepared in background.
 *
 * A TsLoader walks a dataset in batches. With shuffling, epoch e visits the
 * samples in a permutation drawn from (seed, e); sample i of epoch e is
 * augmented with its own random stream (seed, e, i). So a batch's contents
 * are a function of (seed, epoch, batch index) alone: the same with 0 or 4
 * prefetch threads, and an epoch can be restarted at any batch (resume).
 *
 * Prefetch: `workers` threads fill a ring of `prefetch` batch slots ahead
 * of the consumer; batch b always lands in slot b % prefetch and is handed
 * out in order, so the order is deterministic. workers 0 means every batch
 * is made on the caller's thread when asked for.
 *
 * Streamed datasets (dataset.h: TsSampleStream) are fetched by the threads
 * that make the batches, each with its own stream state; memory is then
 * `prefetch` batches of floats plus one sample of bytes per slot, whatever
 * the dataset's size.
 *
 * One thread consumes a loader. The TsBatch returned by ts_loader_next is
 * owned by the loader and valid until the next call (or begin_epoch/free). */
#ifndef TS_DATA_LOADER_H
#define TS_DATA_LOADER_H

#include <stdint.h>

#include "base/error.h"
#include "data/augment.h"
#include "data/dataset.h"

typedef struct TsLoaderConfig {
  int batch;      /* samples per batch, >= 1 */
  int shuffle;    /* a fresh permutation every epoch */
  int drop_last;  /* skip a last, smaller batch */
  uint64_t seed;
  int workers;    /* background threads (0: synchronous) */
  int prefetch;   /* ready batches kept ahead (>= 1; default 4 when 0) */
  int augment;    /* apply the random steps of aug (else only resize + normalise) */
  TsAugment aug;
  /* Data parallelism: with shard_count > 1 each batch holds only this
   * shard's part of the global batch (ts_dist_shard_of: contiguous, in
   * order, the first n % count shards one sample more), and only those
   * samples are read and augmented. The global batches, their order and
   * every sample's augmentation stream are the same as without shards. */
  int shard_rank, shard_count;
} TsLoaderConfig;

typedef struct TsBatch {
  int64_t index;     /* batch number within the epoch */
  int n;             /* samples in this batch (the last may be smaller); a shard's: may be 0 */
  int global_n;      /* samples in the global batch (= n without shards) */
  int offset;        /* this shard's first sample within the global batch */
  int c, h, w;       /* per-sample shape of x */
  float *x;          /* n x c x h x w */
  int32_t *y;        /* n labels */
  float *t;          /* n x dims regression targets (datasets with targets), else NULL */
  int dims;
  int64_t *ids;      /* n dataset indices */
} TsBatch;

typedef struct TsLoader TsLoader;

/* The dataset must outlive the loader. */
TsStatus ts_loader_new(const TsDataset *ds, const TsLoaderConfig *cfg, TsLoader **out, TsError *err);
void ts_loader_free(TsLoader *l);
int64_t ts_loader_batches(const TsLoader *l); /* per epoch */
/* The sample order of an epoch: a pointer to count indices owned by the loader
 * (valid until the next begin_epoch). */
const uint32_t *ts_loader_order(const TsLoader *l);
/* Starts (or restarts) epoch `epoch` at batch `first_batch`. */
TsStatus ts_loader_begin_epoch(TsLoader *l, int64_t epoch, int64_t first_batch, TsError *err);
/* The next batch of the epoch, or NULL at its end or when a batch could not
 * be made (a streamed picture that fails to decode): ts_loader_status says
 * which. */
const TsBatch *ts_loader_next(TsLoader *l);
/* The batch the next ts_loader_next will return, when a worker has already
 * made it; else NULL (never waits, never makes one; always NULL without
 * workers). The batch stays where it is: the current one remains valid and
 * ts_loader_next then returns this same pointer. For copying the next
 * batch to a device while the current step computes. */
const TsBatch *ts_loader_peek(TsLoader *l);
/* TS_OK, or the first error of the epoch (copied into err). */
TsStatus ts_loader_status(TsLoader *l, TsError *err);

#endif
