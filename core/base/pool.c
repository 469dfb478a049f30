#include "base/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

struct TsPool {
  int nthreads;
  pthread_t *threads;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_cond_t done;
  /* the current job; guarded by lock except the atomics */
  unsigned long generation;
  int shutdown;
  TsPoolTask fn;
  void *ctx;
  size_t n, grain;
  atomic_size_t next;
  int busy; /* workers still inside the current job */
};

static _Thread_local int in_pool_task;

static int cpu_share = 1;

void ts_cpu_set_share(int k) { cpu_share = k > 1 ? k : 1; }

static int cpu_count_all(void) {
#ifdef CPU_COUNT
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int c = CPU_COUNT(&set);
    if (c > 0) return c;
  }
#endif
  long c = sysconf(_SC_NPROCESSORS_ONLN);
  return c > 0 ? (int)c : 1;
}

int ts_cpu_count(void) {
  int c = cpu_count_all() / cpu_share;
  return c > 0 ? c : 1;
}

static void run_chunks(TsPool *p, int worker) {
  for (;;) {
    size_t b = atomic_fetch_add(&p->next, p->grain);
    if (b >= p->n) break;
    size_t e = b + p->grain < p->n ? b + p->grain : p->n;
    p->fn(p->ctx, b, e, worker);
  }
}

typedef struct {
  TsPool *pool;
  int worker;
} WorkerArg;

static void *worker_main(void *arg) {
  WorkerArg *wa = arg;
  TsPool *p = wa->pool;
  int worker = wa->worker;
  free(wa);
  in_pool_task = 1;
  unsigned long seen = 0;
  pthread_mutex_lock(&p->lock);
  for (;;) {
    while (!p->shutdown && p->generation == seen) pthread_cond_wait(&p->wake, &p->lock);
    if (p->shutdown) break;
    seen = p->generation;
    pthread_mutex_unlock(&p->lock);
    run_chunks(p, worker);
    pthread_mutex_lock(&p->lock);
    if (--p->busy == 0) pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

TsPool *ts_pool_new(int nthreads, TsError *err) {
  if (nthreads <= 0) nthreads = ts_cpu_count();
  TsPool *p = calloc(1, sizeof *p);
  if (!p) {
    ts_error_set(err, TS_ERR_NOMEM, "thread pool: out of memory");
    return NULL;
  }
  p->nthreads = nthreads;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->done, NULL);
  atomic_init(&p->next, 0);
  if (nthreads > 1) {
    p->threads = calloc((size_t)nthreads - 1, sizeof *p->threads);
    if (!p->threads) {
      ts_pool_free(p);
      ts_error_set(err, TS_ERR_NOMEM, "thread pool: out of memory");
      return NULL;
    }
    for (int i = 1; i < nthreads; i++) {
      WorkerArg *wa = malloc(sizeof *wa);
      if (wa) {
        wa->pool = p;
        wa->worker = i;
      }
      if (!wa || pthread_create(&p->threads[i - 1], NULL, worker_main, wa) != 0) {
        free(wa);
        p->nthreads = i; /* only i-1 workers exist; free joins those */
        ts_pool_free(p);
        ts_error_set(err, TS_ERR_INTERNAL, "thread pool: cannot start thread %d", i);
        return NULL;
      }
    }
  }
  return p;
}

void ts_pool_free(TsPool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->lock);
  p->shutdown = 1;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);
  for (int i = 1; i < p->nthreads; i++) pthread_join(p->threads[i - 1], NULL);
  free(p->threads);
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->wake);
  pthread_cond_destroy(&p->done);
  free(p);
}

int ts_pool_threads(const TsPool *p) { return p ? p->nthreads : 1; }

void ts_pool_for(TsPool *p, size_t n, size_t grain, TsPoolTask fn, void *ctx) {
  if (n == 0) return;
  if (!p || p->nthreads == 1 || in_pool_task || n == 1) {
    fn(ctx, 0, n, 0);
    return;
  }
  if (grain == 0) {
    grain = n / ((size_t)p->nthreads * 8);
    if (grain == 0) grain = 1;
  }
  pthread_mutex_lock(&p->lock);
  p->fn = fn;
  p->ctx = ctx;
  p->n = n;
  p->grain = grain;
  atomic_store(&p->next, 0);
  p->busy = p->nthreads - 1;
  p->generation++;
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->lock);

  in_pool_task = 1;
  run_chunks(p, 0);
  in_pool_task = 0;

  pthread_mutex_lock(&p->lock);
  while (p->busy > 0) pthread_cond_wait(&p->done, &p->lock);
  pthread_mutex_unlock(&p->lock);
}
