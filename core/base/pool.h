/* pool.h — one small thread pool for every parallel loop in core/.
 *
 * Commands take --threads N and build one TsPool; core functions that
 * parallelise take a TsPool* (NULL means: run serially on the caller's
 * thread). Work is handed out in dynamic chunks of `grain` items, so uneven
 * items (images of different difficulty) balance themselves. The calling
 * thread works too, as worker 0; `worker` indices are dense in
 * [0, ts_pool_threads(pool)) so callers can keep per-thread scratch space.
 * A ts_pool_for called from inside a pool task runs serially (no deadlock).
 * One thread at a time drives a pool: share a pool, not its calls. */
#ifndef TS_BASE_POOL_H
#define TS_BASE_POOL_H

#include <stddef.h>

#include "base/error.h"

typedef struct TsPool TsPool;

/* Online processors (sched_getaffinity aware), at least 1. */
int ts_cpu_count(void);
/* This process shares the CPUs it may use with k - 1 others on the host
 * (ranks of one MPI job that the launcher did not bind apart): from now on
 * ts_cpu_count() returns the affinity's count / k (at least 1). */
void ts_cpu_set_share(int k);

/* nthreads <= 0 means ts_cpu_count(). Returns NULL and fills err on failure. */
TsPool *ts_pool_new(int nthreads, TsError *err);
void ts_pool_free(TsPool *pool);
/* 1 for a NULL pool. */
int ts_pool_threads(const TsPool *pool);

typedef void (*TsPoolTask)(void *ctx, size_t begin, size_t end, int worker);

/* Calls fn(ctx, b, e, worker) over disjoint [b, e) covering [0, n); returns
 * when all are done. grain 0 picks a chunk size from n and the thread count. */
void ts_pool_for(TsPool *pool, size_t n, size_t grain, TsPoolTask fn, void *ctx);

#endif
