/* dist.h — several toposcope processes on one job (MPI), or one.
 *
 * The only place that knows about MPI. A toposcope started by `mpirun` or
 * `srun` (the launcher's environment says so: OMPI_COMM_WORLD_SIZE,
 * PMIX_RANK, PMI_RANK) initialises MPI here and learns its rank and the
 * number of ranks; a toposcope started alone, or built without MPI (meson
 * -Dmpi=disabled), never touches MPI and is rank 0 of 1: every call below
 * then returns at once, having done what a single process would (an
 * allreduce leaves the buffer as it is, a gather copies). So callers write
 * one code path.
 *
 * Promises:
 *  - ts_dist_shard: item i of n belongs to one rank; ranks hold contiguous
 *    blocks in rank order; the first n % size ranks hold one item more.
 *  - ts_dist_allreduce_*: a sum with a fixed order. MPI_Allreduce may add
 *    the ranks' contributions in any order (it depends on the algorithm Open
 *    MPI picks for the message size and on arrival), so float sums would
 *    differ from run to run in the last bits. Here the buffer is cut into
 *    `size` chunks (ts_dist_shard of its length); rank k receives chunk k of
 *    every rank (an all-to-all), adds them as ((x_0 + x_1) + x_2) + ... in
 *    rank order, and the summed chunks are gathered back to all (an
 *    all-gather). Every element is therefore the same left fold over ranks
 *    whatever the timing, and every rank ends with the same bytes. The
 *    traffic per rank is 2 (size-1)/size of the buffer, as a ring's.
 *  - Every collective waits by polling (MPI_Test), so a wait ends with an
 *    error, never hangs, when the stop flag (ts_dist_set_stop_flag: SIGTERM
 *    or SIGINT, which mpirun and srun send to all ranks when one dies) is
 *    raised, or when nothing arrives for the timeout (default 600 s,
 *    TOPOSCOPE_DIST_TIMEOUT seconds). MPI errors come back as TsError
 *    (MPI_ERRORS_RETURN) instead of aborting the process.
 *  - Only the main thread calls these (MPI_THREAD_FUNNELED).
 *
 * Not thread-safe; the state is process-wide (there is one MPI world). */
#ifndef TS_RUN_DIST_H
#define TS_RUN_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* 1 when this build can run under MPI. */
int ts_dist_available(void);
/* 1 when the environment says a launcher (mpirun, srun) started us. */
int ts_dist_launched(void);

/* Initialises MPI when launched by an MPI launcher (argc/argv may be NULL);
 * otherwise (or in a build without MPI) does nothing. Idempotent. */
TsStatus ts_dist_init(int *argc, char ***argv, TsError *err);
/* Finalises MPI if ts_dist_init started it. */
void ts_dist_finalize(void);
/* The end of a command with exit status rc: when every rank gets here MPI
 * is finalised. A rank that failed (rc != 0) waits 3 s for the others:
 * if they do not come they are waiting in a collective for it, and the
 * whole job is ended (MPI_Abort with rc) rather than left hanging. A rank
 * that succeeded waits up to the collective timeout. Alone: nothing. */
void ts_dist_finish(int rc);
/* Ends every rank at once (after a fatal error on one): MPI_Abort, or
 * exit(code) alone. */
void ts_dist_abort(int code);

int ts_dist_rank(void);  /* 0 alone */
int ts_dist_size(void);  /* 1 alone */
/* Ranks on this host (OMPI_COMM_WORLD_LOCAL_SIZE), for thread counts. */
int ts_dist_local_size(void);

/* Collectives wait until *flag becomes nonzero (NULL: no flag) or the
 * timeout passes, then fail. */
void ts_dist_set_stop_flag(volatile int *flag);
void ts_dist_set_timeout(double seconds);

/* [*begin, *end): this rank's share of n items (see the top). */
void ts_dist_shard(int64_t n, int64_t *begin, int64_t *end);
/* Any rank's share. */
void ts_dist_shard_of(int64_t n, int rank, int size, int64_t *begin, int64_t *end);

TsStatus ts_dist_barrier(TsError *err);
/* bytes from root to every rank. */
TsStatus ts_dist_bcast(void *buf, size_t bytes, int root, TsError *err);
/* In place, sum over ranks in a fixed order (top). */
TsStatus ts_dist_allreduce_f32(float *buf, size_t n, TsError *err);
TsStatus ts_dist_allreduce_f64(double *buf, size_t n, TsError *err);
/* The same sum, started now and finished later, so that it proceeds
 * while the caller computes (the gradient buckets during backward).
 * Each operation runs on a channel of its own (a duplicate of the world
 * communicator, made by ts_dist_channels at the same point on every rank):
 * its second half (the all-gather) starts whenever a test finds the first
 * done, which differs from rank to rank, and collectives on one
 * communicator must be issued in the same order everywhere. So a channel
 * carries one operation at a time, and channels are started in the same
 * order on every rank. ts_dist_op_test lets MPI progress and says whether
 * op is done (MPI moves only inside its calls); ts_dist_op_wait finishes it
 * (polling, as every wait here) and frees it. buf must stay untouched until
 * then. n <= 64 Mi floats. Alone: *op is NULL and there is nothing to do. */
#define TS_DIST_MAX_CHANNELS 64
TsStatus ts_dist_channels(int n, TsError *err);
typedef struct TsDistOp TsDistOp;
TsStatus ts_dist_iallreduce_f32(float *buf, size_t n, int channel, TsDistOp **op, TsError *err);
TsStatus ts_dist_op_test(TsDistOp *op, int *done, TsError *err);
TsStatus ts_dist_op_wait(TsDistOp *op, TsError *err);
/* In place, the maximum over ranks (flags: "did any rank fail / stop"). */
TsStatus ts_dist_allreduce_max_i64(int64_t *buf, size_t n, TsError *err);
/* Gathers every rank's send_bytes to rank 0, in rank order, into recv
 * (rank 0: room for the sum of recv_bytes[0..size); others: ignored, may be
 * NULL, as may recv_bytes). */
TsStatus ts_dist_gather(const void *send, size_t send_bytes, void *recv, const size_t *recv_bytes, TsError *err);

#endif
