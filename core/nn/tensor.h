/* tensor.h — float32 tensors, named parameters and the execution context of
 * the CPU neural-network engine.
 *
 * Layout: every activation is a dense float32 array in NCHW order (batch,
 * channels, height, width; a dense layer's [N, F] is NCHW with H = W = 1).
 * There is no strided view: an op reads and writes flat arrays whose shapes
 * are stated in its signature (see ops.h), as in llm.c.
 *
 * Memory promises:
 *  - A model keeps all its parameters in ONE float allocation and all their
 *    gradients in a second one (same offsets), so an optimiser step is a loop
 *    over flat arrays and a checkpoint is a list of (name, shape, pointer).
 *  - Activations (and their gradients) of a model live in one arena sized
 *    once for the model's maximum batch; forward/backward never allocate
 *    (except once, to grow the convolution scratch, when a pool has more
 *    threads than the machine has processors).
 *
 * Backends: ops take a TsNnCtx. Today only the CPU backend exists; a CUDA
 * backend would be chosen through the context without changing layers,
 * models, losses or optimisers. */
#ifndef TS_NN_TENSOR_H
#define TS_NN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"

#define TS_TENSOR_MAX_DIMS 4
#define TS_TENSOR_NAME_MAX 96

/* An activation: data and (during training) its gradient, both owned by the
 * model's arena. grad is NULL for tensors that never need one. */
typedef struct TsTensor {
  float *data;
  float *grad;
  int ndim;
  int shape[TS_TENSOR_MAX_DIMS]; /* shape[0] is the batch axis */
  size_t numel;                  /* product of shape */
} TsTensor;

/* Element type of a named tensor. Parameters and running statistics are
 * float32; batch norm's num_batches_tracked is int64 as in PyTorch. */
typedef enum TsNnDType { TS_NN_F32 = 0, TS_NN_I64 = 1 } TsNnDType;

/* Parameter (learned, has a gradient) or buffer (state such as running
 * statistics, saved in checkpoints, no gradient). */
typedef enum TsTensorRole { TS_ROLE_PARAM = 0, TS_ROLE_BUFFER = 1 } TsTensorRole;

/* One entry of a model's state dict (or an optimiser's state), named as
 * torchvision names it: "conv1.weight", "layer1.0.bn1.running_mean",
 * "layer1.0.bn1.num_batches_tracked", "fc.bias". The pointers point into
 * the owner's single allocations; they stay valid until the owner is freed
 * or (for a model) its head is replaced. Writing through `data` (e.g. when
 * loading a checkpoint) is allowed. */
typedef struct TsNamedTensor {
  char name[TS_TENSOR_NAME_MAX];
  TsTensorRole role;
  TsNnDType dtype;
  int ndim;
  int64_t shape[TS_TENSOR_MAX_DIMS];
  size_t numel;
  void *data;    /* float * (TS_NN_F32) or int64_t * (TS_NN_I64) */
  float *grad;   /* parameters only; NULL for buffers */
  int trainable; /* parameters: 0 when frozen (no gradient, optimiser skips) */
} TsNamedTensor;

/* Bytes per element of a dtype (4 or 8). */
size_t ts_nn_dtype_size(TsNnDType t);

/* A bump allocator for activations: reserve sizes first, then allocate once.
 * All blocks are 64-byte aligned float arrays. */
typedef struct TsArena {
  float *base;
  size_t cap;  /* floats */
  size_t used; /* floats */
} TsArena;

/* Allocates cap floats (zeroed). */
TsStatus ts_arena_init(TsArena *a, size_t cap, TsError *err);
/* n floats from the arena, or NULL when it is exhausted (a sizing bug). */
float *ts_arena_alloc(TsArena *a, size_t n);
void ts_arena_clear(TsArena *a);
/* n rounded up to the arena's 64-byte (16-float) alignment. */
size_t ts_arena_round(size_t n);

/* Execution context shared by all ops: the thread pool (NULL = serial) and
 * the deterministic flag. The engine parallelises with the ONE TsPool and
 * keeps OpenBLAS single-threaded inside it (ts_nn_ctx_init sets this), so
 * --threads N means N threads in total.
 *
 * Determinism: with deterministic = 1 every reduction that crosses batch
 * items (weight gradients, batch-norm statistics) is summed in a fixed
 * order over a fixed partition that depends on the batch size only, so
 * results are bit-identical for any thread count and run to run. With 0,
 * reductions use one partial sum per thread (bit-identical run to run for a
 * fixed thread count, different across thread counts). */
typedef struct TsNnCtx {
  TsPool *pool;
  int deterministic;
  /* Synchronised batch norm (data parallelism; NULL: off). When set, batch
   * norm in training mode sums its per-channel statistics over every
   * process sharing the batch by calling sync_sum (in place; every process
   * must get the same sums), so it normalises with the global batch's
   * mean and variance. sync_weight is this process's share of the global
   * batch (n_local / n_global): the loss a process back-propagates is the
   * mean over its share, and batch norm's backward sums the processes'
   * terms in global-batch units. nn/ knows nothing of how the sum is done. */
  void (*sync_sum)(void *user, double *v, size_t n);
  void *sync_user;
  double sync_weight;
} TsNnCtx;

/* ts_pool_for on ctx's pool, except that a job smaller than about 64k
 * elementary operations (n * cost_per_item) runs serially on the caller's
 * thread as worker 0: waking the workers costs more than such a job takes,
 * and far more on a loaded machine. Callers must give the same result
 * either way (they do: work is partitioned by item, never by thread). */
void ts_nn_for(const TsNnCtx *ctx, size_t n, size_t grain, size_t cost_per_item, TsPoolTask fn, void *arg);

/* Fills ctx and sets OpenBLAS (when that is the CBLAS) to one thread. */
void ts_nn_ctx_init(TsNnCtx *ctx, TsPool *pool, int deterministic);
int ts_nn_ctx_threads(const TsNnCtx *ctx);

#endif
