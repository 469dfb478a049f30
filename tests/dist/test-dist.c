/* run/dist.h under mpirun (any number of ranks) or alone (rank 0 of 1).
 *
 * The fixed-order allreduce is checked bit for bit against a plain
 * reference: every rank regenerates every rank's buffer from its seed and
 * adds them in rank order itself. Shards, broadcast, gather and max are
 * checked the same way, and every rank must end with the same bytes. */
#include <stdint.h>

#include "base/rng.h"
#include "run/dist.h"
#include "ts-test.h"

static int R, P;

static void fill(float *v, size_t n, int rank, uint64_t salt) {
  TsRng r;
  ts_rng_init(&r, 1234 + salt, (uint64_t)rank);
  /* magnitudes over many decades, so that the order of summation shows */
  for (size_t i = 0; i < n; i++) v[i] = (float)((ts_rng_uniform(&r) - 0.5) * pow(10.0, 8 * ts_rng_uniform(&r) - 4));
}

static void test_shard(void) {
  for (int64_t n = 0; n < 50; n++)
    for (int size = 1; size <= 7; size++) {
      int64_t next = 0;
      for (int k = 0; k < size; k++) {
        int64_t b, e;
        ts_dist_shard_of(n, k, size, &b, &e);
        TS_CHECK(b == next && e >= b);
        TS_CHECK(e - b == n / size + (k < n % size));
        next = e;
      }
      TS_CHECK(next == n);
    }
}

static void test_allreduce_f32(void) {
  static const size_t sizes[] = {0, 1, 2, 3, 7, 100, 4097, 300001};
  for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
    size_t n = sizes[t];
    float *v = malloc(sizeof(float) * (n + 1)), *ref = malloc(sizeof(float) * (n + 1)),
          *tmp = malloc(sizeof(float) * (n + 1));
    fill(v, n, R, t);
    fill(ref, n, 0, t);
    for (int k = 1; k < P; k++) {
      fill(tmp, n, k, t);
      for (size_t i = 0; i < n; i++) ref[i] += tmp[i];
    }
    TsError err = {0};
    TS_CHECK(ts_dist_allreduce_f32(v, n, &err) == TS_OK);
    TS_CHECKF(n == 0 || memcmp(v, ref, n * sizeof(float)) == 0, "n %zu: not the rank-order sum", n);
    /* twice: the same bytes */
    fill(tmp, n, R, t);
    TS_CHECK(ts_dist_allreduce_f32(tmp, n, &err) == TS_OK);
    TS_CHECK(n == 0 || memcmp(v, tmp, n * sizeof(float)) == 0);
    free(v), free(ref), free(tmp);
  }
}

static void test_allreduce_f64_max(void) {
  double d[5], ref[5] = {0};
  int64_t m[3] = {R, -R, R == P - 1 ? 99 : 0};
  for (int i = 0; i < 5; i++) d[i] = 0.1 * (R + 1) * (i + 1);
  for (int k = 0; k < P; k++)
    for (int i = 0; i < 5; i++) ref[i] = k ? ref[i] + 0.1 * (k + 1) * (i + 1) : 0.1 * (i + 1);
  TsError err = {0};
  TS_CHECK(ts_dist_allreduce_f64(d, 5, &err) == TS_OK);
  TS_CHECK(memcmp(d, ref, sizeof d) == 0);
  TS_CHECK(ts_dist_allreduce_max_i64(m, 3, &err) == TS_OK);
  TS_CHECK(m[0] == P - 1 && m[1] == 0 && m[2] == 99);
}

static void test_bcast_gather(void) {
  TsError err = {0};
  char buf[32];
  snprintf(buf, sizeof buf, "from rank %d", R);
  TS_CHECK(ts_dist_bcast(buf, sizeof buf, P - 1, &err) == TS_OK);
  char want[32];
  snprintf(want, sizeof want, "from rank %d", P - 1);
  TS_CHECK(strcmp(buf, want) == 0);
  /* rank k sends k + 1 ints k*100 .. */
  int send[16];
  for (int i = 0; i <= R; i++) send[i] = R * 100 + i;
  size_t *sizes = malloc(sizeof(size_t) * (size_t)P), total = 0;
  for (int k = 0; k < P; k++) total += sizes[k] = sizeof(int) * (size_t)(k + 1);
  int *all = malloc(total);
  TS_CHECK(ts_dist_gather(send, sizeof(int) * (size_t)(R + 1), all, sizes, &err) == TS_OK);
  if (R == 0) {
    size_t at = 0;
    for (int k = 0; k < P; k++)
      for (int i = 0; i <= k; i++) TS_CHECK(all[at++] == k * 100 + i);
  }
  free(sizes), free(all);
  TS_CHECK(ts_dist_barrier(&err) == TS_OK);
}

int main(int argc, char **argv) {
  TsError err = {0};
  if (ts_dist_init(&argc, &argv, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  R = ts_dist_rank();
  P = ts_dist_size();
  const char *want = getenv("TS_TEST_RANKS");
  if (want && atoi(want) != P) {
    fprintf(stderr, "expected %s ranks, got %d (is MPI in this build?)\n", want, P);
    return 1;
  }
  TS_RUN(test_shard);
  TS_RUN(test_allreduce_f32);
  TS_RUN(test_allreduce_f64_max);
  TS_RUN(test_bcast_gather);
  int rc = ts_test_finish();
  /* every rank's verdict: any failure fails all */
  int64_t bad = rc != 0;
  ts_dist_allreduce_max_i64(&bad, 1, &err);
  ts_dist_finalize();
  return bad ? 1 : 0;
}
