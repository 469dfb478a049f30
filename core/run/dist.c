#include "run/dist.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "ts-config.h"

#if TS_HAVE_MPI
#include <mpi.h>
#endif

static int g_rank = 0, g_size = 1, g_started = 0, g_broken = 0;
static volatile int *g_stop = NULL;
static double g_timeout = 600.0;
/* After the stop flag rises, a collective still gets this long: when every
 * rank was told to stop at once they all arrive and the job stops cleanly;
 * when one is dead, the others give up after it. Short, because when a rank
 * dies mpirun sends SIGTERM to the rest and SIGKILL one second later
 * (odls_base_sigkill_timeout): rank 0 must have marked the run by then. */
#define STOP_GRACE_S 0.3

void ts_dist_set_stop_flag(volatile int *flag) { g_stop = flag; }
void ts_dist_set_timeout(double seconds) { g_timeout = seconds > 0 ? seconds : 600.0; }
int ts_dist_rank(void) { return g_rank; }
int ts_dist_size(void) { return g_size; }

int ts_dist_available(void) { return TS_HAVE_MPI; }

int ts_dist_launched(void) {
  static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
    if (getenv(vars[i])) return 1;
  return 0;
}

int ts_dist_local_size(void) {
  const char *v = getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  if (!v) v = getenv("SLURM_NTASKS_PER_NODE");
  int n = v ? atoi(v) : 1;
  return n > 0 ? n : 1;
}

void ts_dist_shard_of(int64_t n, int rank, int size, int64_t *begin, int64_t *end) {
  if (size < 1) size = 1;
  int64_t q = n / size, r = n % size;
  *begin = (int64_t)rank * q + (rank < r ? rank : r);
  *end = *begin + q + (rank < r ? 1 : 0);
}

void ts_dist_shard(int64_t n, int64_t *begin, int64_t *end) { ts_dist_shard_of(n, g_rank, g_size, begin, end); }

#if TS_HAVE_MPI

static TsStatus mpi_fail(TsError *err, int rc, const char *what) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "error %d", rc);
  g_broken = 1;
  return ts_error_set(err, TS_ERR_IO, "rank %d of %d: %s failed: %s (another rank has probably died)", g_rank, g_size,
                      what, msg);
}

/* Waits for a nonblocking collective by polling, so that a stop request or
 * the timeout ends the wait (see the top of dist.h). */
static TsStatus wait_req(MPI_Request *req, const char *what, TsError *err) {
  if (g_broken) /* an earlier collective failed: the ranks no longer meet */
    return ts_error_set(err, TS_ERR_IO, "rank %d of %d: %s after a failed collective", g_rank, g_size, what);
  double t0 = ts_clock_monotonic(), stop_seen = 0;
  long spins = 0;
  for (;;) {
    int done = 0;
    int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return mpi_fail(err, rc, what);
    if (done) return TS_OK;
    if (++spins < 2000) continue; /* the usual case: the others are a few microseconds away */
    double now = ts_clock_monotonic();
    if (g_stop && *g_stop) {
      if (!stop_seen) stop_seen = now;
      if (now - stop_seen > STOP_GRACE_S) {
        g_broken = 1;
        return ts_error_set(err, TS_ERR_IO,
                            "rank %d of %d: told to stop while waiting for the other ranks (%s), and they did not "
                            "answer within %.1f s: another rank has died, or the job is being ended",
                            g_rank, g_size, what, STOP_GRACE_S);
      }
    }
    if (now - t0 > g_timeout) {
      g_broken = 1;
      return ts_error_set(err, TS_ERR_IO,
                          "rank %d of %d: no answer from the other ranks for %.0f s (%s): one has died or hangs "
                          "(TOPOSCOPE_DIST_TIMEOUT sets the limit)",
                          g_rank, g_size, g_timeout, what);
    }
    struct timespec ts = {0, spins < 20000 ? 20000 : 200000};
    nanosleep(&ts, NULL);
  }
}

TsStatus ts_dist_init(int *argc, char ***argv, TsError *err) {
  if (g_started || !ts_dist_launched()) return TS_OK;
  int provided = 0;
  int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  if (rc != MPI_SUCCESS) return ts_error_set(err, TS_ERR_IO, "MPI_Init_thread failed (error %d)", rc);
  g_started = 1;
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
  const char *t = getenv("TOPOSCOPE_DIST_TIMEOUT");
  if (t && atof(t) > 0) g_timeout = atof(t);
  if (provided < MPI_THREAD_FUNNELED)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "this MPI offers no MPI_THREAD_FUNNELED (level %d)", provided);
  return TS_OK;
}

void ts_dist_finalize(void) {
  if (!g_started) return;
  g_started = 0;
  /* After a lost peer MPI_Finalize may wait for it forever: leave without
   * it (the launcher then ends the job and says which rank failed). */
  if (!g_broken) MPI_Finalize();
}

void ts_dist_abort(int code) {
  if (g_started && g_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
  exit(code);
}

void ts_dist_finish(int rc) {
  if (!g_started) return;
  if (g_size > 1 && !g_broken) {
    double keep = g_timeout;
    volatile int *stop = g_stop;
    /* A rank that failed gives the others 3 s: if they are stuck in a
     * collective waiting for it, they will never come. A rank that
     * succeeded waits as long as any collective may (rank 0 may still be
     * writing a large cache or checkpoint). */
    if (rc != 0) g_timeout = 3.0;
    g_stop = NULL;
    TsStatus s = ts_dist_barrier(NULL);
    g_timeout = keep;
    g_stop = stop;
    if (s) g_broken = 1;
  }
  if (g_broken && g_size > 1) {
    fflush(NULL);
    MPI_Abort(MPI_COMM_WORLD, rc ? rc : 1);
  }
  ts_dist_finalize();
}

TsStatus ts_dist_barrier(TsError *err) {
  if (g_size == 1) return TS_OK;
  MPI_Request req;
  int rc = MPI_Ibarrier(MPI_COMM_WORLD, &req);
  if (rc != MPI_SUCCESS) return mpi_fail(err, rc, "barrier");
  return wait_req(&req, "barrier", err);
}

TsStatus ts_dist_bcast(void *buf, size_t bytes, int root, TsError *err) {
  if (g_size == 1) return TS_OK;
  char *p = buf;
  /* MPI counts are int: large buffers go in pieces */
  while (bytes > 0) {
    int n = bytes > (size_t)INT_MAX / 2 ? INT_MAX / 2 : (int)bytes;
    MPI_Request req;
    int rc = MPI_Ibcast(p, n, MPI_BYTE, root, MPI_COMM_WORLD, &req);
    if (rc != MPI_SUCCESS) return mpi_fail(err, rc, "broadcast");
    TsStatus s = wait_req(&req, "broadcast", err);
    if (s) return s;
    p += n;
    bytes -= (size_t)n;
  }
  return TS_OK;
}

/* Scratch for the all-to-all: size chunks of this rank's share. */
static void *g_scratch = NULL;
static size_t g_scratch_bytes = 0;

static void *scratch(size_t bytes, TsError *err) {
  if (bytes <= g_scratch_bytes) return g_scratch;
  void *p = realloc(g_scratch, bytes);
  if (!p) {
    ts_error_set(err, TS_ERR_NOMEM, "allreduce: out of memory for %zu bytes", bytes);
    return NULL;
  }
  g_scratch = p;
  g_scratch_bytes = bytes;
  return p;
}

/* One fixed-order allreduce of n elements of `type` (elem bytes each); `add`
 * folds src into dst. Pieces of at most 64 Mi elements keep MPI's int counts
 * in range. */
static TsStatus allreduce_fixed(void *buf, size_t n, MPI_Datatype type, size_t elem,
                                void (*add)(void *dst, const void *src, size_t n), TsError *err) {
  int P = g_size;
  int *counts = malloc(sizeof(int) * 4 * (size_t)P);
  if (!counts) return ts_error_set(err, TS_ERR_NOMEM, "allreduce: out of memory");
  int *sdispl = counts + P, *rcounts = counts + 2 * P, *rdispl = counts + 3 * P;
  TsStatus s = TS_OK;
  const size_t piece_max = (size_t)1 << 26;
  for (size_t off = 0; off < n && !s; off += piece_max) {
    size_t m = n - off < piece_max ? n - off : piece_max;
    char *p = (char *)buf + off * elem;
    int64_t mb, me;
    ts_dist_shard_of((int64_t)m, g_rank, P, &mb, &me);
    size_t mine = (size_t)(me - mb);
    for (int k = 0; k < P; k++) {
      int64_t b, e;
      ts_dist_shard_of((int64_t)m, k, P, &b, &e);
      counts[k] = (int)(e - b);  /* I send my copy of chunk k to rank k */
      sdispl[k] = (int)b;
      rcounts[k] = (int)mine;    /* and receive every rank's copy of mine */
      rdispl[k] = (int)(mine * (size_t)k);
    }
    char *tmp = scratch(mine * (size_t)P * elem + 1, err);
    if (!tmp) {
      s = TS_ERR_NOMEM;
      break;
    }
    MPI_Request req;
    int rc = MPI_Ialltoallv(p, counts, sdispl, type, tmp, rcounts, rdispl, type, MPI_COMM_WORLD, &req);
    if (rc != MPI_SUCCESS) {
      s = mpi_fail(err, rc, "allreduce (all-to-all)");
      break;
    }
    if ((s = wait_req(&req, "allreduce", err))) break;
    /* the fixed order: rank 0's copy, plus rank 1's, plus rank 2's, ... */
    char *dst = p + (size_t)mb * elem;
    memcpy(dst, tmp, mine * elem);
    for (int k = 1; k < P; k++) add(dst, tmp + mine * (size_t)k * elem, mine);
    for (int k = 0; k < P; k++) {
      rcounts[k] = counts[k];
      rdispl[k] = sdispl[k];
    }
    rc = MPI_Iallgatherv(MPI_IN_PLACE, 0, type, p, rcounts, rdispl, type, MPI_COMM_WORLD, &req);
    if (rc != MPI_SUCCESS) {
      s = mpi_fail(err, rc, "allreduce (all-gather)");
      break;
    }
    s = wait_req(&req, "allreduce", err);
  }
  free(counts);
  return s;
}

static void add_f32(void *dst, const void *src, size_t n) {
  float *d = dst;
  const float *x = src;
  for (size_t i = 0; i < n; i++) d[i] += x[i];
}

static void add_f64(void *dst, const void *src, size_t n) {
  double *d = dst;
  const double *x = src;
  for (size_t i = 0; i < n; i++) d[i] += x[i];
}

static void max_i64(void *dst, const void *src, size_t n) {
  int64_t *d = dst;
  const int64_t *x = src;
  for (size_t i = 0; i < n; i++)
    if (x[i] > d[i]) d[i] = x[i];
}

/* ---- the same fixed-order sum, nonblocking: all-to-all, then (when it is
 * in) the rank-order sum and the all-gather ---- */
static MPI_Comm g_channels[TS_DIST_MAX_CHANNELS];
static int g_nchannels = 0;

TsStatus ts_dist_channels(int n, TsError *err) {
  if (g_size == 1) return TS_OK;
  if (n > TS_DIST_MAX_CHANNELS) n = TS_DIST_MAX_CHANNELS;
  while (g_nchannels < n) {
    int rc = MPI_Comm_dup(MPI_COMM_WORLD, &g_channels[g_nchannels]);
    if (rc != MPI_SUCCESS) return mpi_fail(err, rc, "MPI_Comm_dup");
    MPI_Comm_set_errhandler(g_channels[g_nchannels], MPI_ERRORS_RETURN);
    g_nchannels++;
  }
  return TS_OK;
}

struct TsDistOp {
  MPI_Comm comm;
  float *buf, *tmp;
  size_t n, mine, mb;
  int stage; /* 0: all-to-all in flight, 1: all-gather in flight, 2: done */
  MPI_Request req;
  int *counts, *displ, *rcounts, *rdispl;
};

static void op_free(TsDistOp *op) {
  if (!op) return;
  free(op->tmp);
  free(op->counts);
  free(op);
}

TsStatus ts_dist_iallreduce_f32(float *buf, size_t n, int channel, TsDistOp **out, TsError *err) {
  *out = NULL;
  if (g_size == 1 || n == 0) return TS_OK;
  if (channel < 0 || channel >= g_nchannels)
    return ts_error_set(err, TS_ERR_INTERNAL, "allreduce on channel %d of %d", channel, g_nchannels);
  if (g_broken) return ts_error_set(err, TS_ERR_IO, "rank %d of %d: allreduce after a failed collective", g_rank, g_size);
  if (n > ((size_t)1 << 26)) return ts_error_set(err, TS_ERR_UNSUPPORTED, "nonblocking allreduce of %zu floats", n);
  int P = g_size;
  TsDistOp *op = calloc(1, sizeof *op);
  if (!op) return ts_error_set(err, TS_ERR_NOMEM, "allreduce: out of memory");
  op->buf = buf;
  op->n = n;
  op->comm = g_channels[channel];
  op->counts = malloc(sizeof(int) * 4 * (size_t)P);
  int64_t mb, me;
  ts_dist_shard_of((int64_t)n, g_rank, P, &mb, &me);
  op->mb = (size_t)mb;
  op->mine = (size_t)(me - mb);
  op->tmp = malloc(sizeof(float) * (op->mine * (size_t)P + 1));
  if (!op->counts || !op->tmp) {
    op_free(op);
    return ts_error_set(err, TS_ERR_NOMEM, "allreduce: out of memory");
  }
  op->displ = op->counts + P, op->rcounts = op->counts + 2 * P, op->rdispl = op->counts + 3 * P;
  for (int k = 0; k < P; k++) {
    int64_t b, e;
    ts_dist_shard_of((int64_t)n, k, P, &b, &e);
    op->counts[k] = (int)(e - b);
    op->displ[k] = (int)b;
    op->rcounts[k] = (int)op->mine;
    op->rdispl[k] = (int)(op->mine * (size_t)k);
  }
  int rc = MPI_Ialltoallv(buf, op->counts, op->displ, MPI_FLOAT, op->tmp, op->rcounts, op->rdispl, MPI_FLOAT,
                          op->comm, &op->req);
  if (rc != MPI_SUCCESS) {
    op_free(op);
    return mpi_fail(err, rc, "allreduce (all-to-all)");
  }
  *out = op;
  return TS_OK;
}

/* The all-to-all is in: the rank-order sum of my chunk, then the all-gather. */
static TsStatus op_second_stage(TsDistOp *op, TsError *err) {
  float *dst = op->buf + op->mb;
  memcpy(dst, op->tmp, op->mine * sizeof(float));
  for (int k = 1; k < g_size; k++) add_f32(dst, op->tmp + op->mine * (size_t)k, op->mine);
  int rc = MPI_Iallgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, op->buf, op->counts, op->displ, MPI_FLOAT, op->comm,
                           &op->req);
  if (rc != MPI_SUCCESS) return mpi_fail(err, rc, "allreduce (all-gather)");
  op->stage = 1;
  return TS_OK;
}

TsStatus ts_dist_op_test(TsDistOp *op, int *done, TsError *err) {
  *done = 1;
  if (!op) return TS_OK;
  while (op->stage < 2) {
    int flag = 0;
    int rc = MPI_Test(&op->req, &flag, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return mpi_fail(err, rc, "allreduce");
    if (!flag) {
      *done = 0;
      return TS_OK;
    }
    if (op->stage == 0) {
      TsStatus s = op_second_stage(op, err);
      if (s) return s;
    } else {
      op->stage = 2;
    }
  }
  return TS_OK;
}

TsStatus ts_dist_op_wait(TsDistOp *op, TsError *err) {
  if (!op) return TS_OK;
  TsStatus s = TS_OK;
  if (op->stage == 0) s = wait_req(&op->req, "allreduce", err);
  if (!s && op->stage == 0) s = op_second_stage(op, err);
  if (!s && op->stage == 1) s = wait_req(&op->req, "allreduce", err);
  op_free(op);
  return s;
}

TsStatus ts_dist_allreduce_f32(float *buf, size_t n, TsError *err) {
  if (g_size == 1 || n == 0) return TS_OK;
  return allreduce_fixed(buf, n, MPI_FLOAT, sizeof(float), add_f32, err);
}

TsStatus ts_dist_allreduce_f64(double *buf, size_t n, TsError *err) {
  if (g_size == 1 || n == 0) return TS_OK;
  return allreduce_fixed(buf, n, MPI_DOUBLE, sizeof(double), add_f64, err);
}

TsStatus ts_dist_allreduce_max_i64(int64_t *buf, size_t n, TsError *err) {
  if (g_size == 1 || n == 0) return TS_OK;
  return allreduce_fixed(buf, n, MPI_INT64_T, sizeof(int64_t), max_i64, err);
}

TsStatus ts_dist_gather(const void *send, size_t send_bytes, void *recv, const size_t *recv_bytes, TsError *err) {
  if (g_size == 1) {
    if (send_bytes) memmove(recv, send, send_bytes);
    return TS_OK;
  }
  int P = g_size;
  int *counts = NULL, *displ = NULL;
  if (g_rank == 0) {
    counts = malloc(sizeof(int) * 2 * (size_t)P);
    if (!counts) return ts_error_set(err, TS_ERR_NOMEM, "gather: out of memory");
    displ = counts + P;
    size_t off = 0;
    for (int k = 0; k < P; k++) {
      if (recv_bytes[k] > INT_MAX || off > INT_MAX) {
        free(counts);
        return ts_error_set(err, TS_ERR_UNSUPPORTED, "gather: %zu bytes from one rank is too much", recv_bytes[k]);
      }
      counts[k] = (int)recv_bytes[k];
      displ[k] = (int)off;
      off += recv_bytes[k];
    }
  }
  if (send_bytes > INT_MAX) {
    free(counts);
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "gather: %zu bytes from one rank is too much", send_bytes);
  }
  MPI_Request req;
  int rc = MPI_Igatherv(send, (int)send_bytes, MPI_BYTE, recv, counts, displ, MPI_BYTE, 0, MPI_COMM_WORLD, &req);
  TsStatus s = rc != MPI_SUCCESS ? mpi_fail(err, rc, "gather") : wait_req(&req, "gather", err);
  free(counts);
  return s;
}

#else /* no MPI: one process, rank 0 of 1 */

TsStatus ts_dist_init(int *argc, char ***argv, TsError *err) {
  (void)argc, (void)argv, (void)err;
  return TS_OK;
}
void ts_dist_finish(int rc) { (void)rc; }
void ts_dist_finalize(void) { (void)g_started, (void)g_broken, (void)g_timeout, (void)g_stop; }
void ts_dist_abort(int code) { exit(code); }
TsStatus ts_dist_barrier(TsError *err) {
  (void)err;
  return TS_OK;
}
TsStatus ts_dist_bcast(void *buf, size_t bytes, int root, TsError *err) {
  (void)buf, (void)bytes, (void)root, (void)err;
  return TS_OK;
}
TsStatus ts_dist_allreduce_f32(float *buf, size_t n, TsError *err) {
  (void)buf, (void)n, (void)err;
  return TS_OK;
}
TsStatus ts_dist_allreduce_f64(double *buf, size_t n, TsError *err) {
  (void)buf, (void)n, (void)err;
  return TS_OK;
}
TsStatus ts_dist_allreduce_max_i64(int64_t *buf, size_t n, TsError *err) {
  (void)buf, (void)n, (void)err;
  return TS_OK;
}
TsStatus ts_dist_channels(int n, TsError *err) {
  (void)n, (void)err;
  return TS_OK;
}
TsStatus ts_dist_iallreduce_f32(float *buf, size_t n, int channel, TsDistOp **op, TsError *err) {
  (void)buf, (void)n, (void)channel, (void)err;
  *op = NULL;
  return TS_OK;
}
TsStatus ts_dist_op_test(TsDistOp *op, int *done, TsError *err) {
  (void)op, (void)err;
  *done = 1;
  return TS_OK;
}
TsStatus ts_dist_op_wait(TsDistOp *op, TsError *err) {
  (void)op, (void)err;
  return TS_OK;
}
TsStatus ts_dist_gather(const void *send, size_t send_bytes, void *recv, const size_t *recv_bytes, TsError *err) {
  (void)recv_bytes, (void)err;
  if (send_bytes) memmove(recv, send, send_bytes);
  return TS_OK;
}

#endif
