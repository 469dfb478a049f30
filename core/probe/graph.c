/* graph.c — correlation distances, their Rips persistence and dnn-topology's
 * summaries.
 *
 * Under MPI (ts_probe_correlation_dist) the rows are shared out, not the
 * images: sharding the images and all-reducing sums of products would
 * change the summation order of every entry (and send n^2 floats from
 * every rank), while rows split at panel boundaries give each entry the
 * exact SGEMM call one process makes, and only rank 0 needs the matrix.
 * Every rank holds all the signals (units x images, small next to the
 * triangle). */
#include "probe/graph.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/blas.h"
#include "run/dist.h"

float ts_probe_to_half(float x) {
  if (!isfinite(x)) return x;
  float a = fabsf(x);
  if (a >= 65520.0f) return copysignf(INFINITY, x); /* beyond 65504 + half an ulp */
  if (a < 6.103515625e-05f) {                       /* subnormal half: steps of 2^-24 */
    float q = nearbyintf(a * 16777216.0f) / 16777216.0f;
    return copysignf(q, x);
  }
  int e;
  frexpf(a, &e);                      /* a = m 2^e, m in [0.5, 1) */
  float step = ldexpf(1.0f, e - 11);  /* 10 mantissa bits after the leading one */
  return copysignf(nearbyintf(a / step) * step, x);
}

typedef struct CorrJob {
  const float *z; /* units x n, rows centred and of unit norm (or zero) */
  size_t units, n, panel, first; /* first: the first panel of the block */
  float *lower;   /* the block: lower-triangle elements from index `base` on */
  size_t base;
  float *scratch; /* per worker: panel x units */
} CorrJob;

static void corr_task(void *ctx, size_t b, size_t e, int worker) {
  CorrJob *j = ctx;
  float *c = j->scratch + (size_t)worker * j->panel * j->units;
  for (size_t p = j->first + b; p < j->first + e; p++) {
    size_t i0 = p * j->panel, i1 = i0 + j->panel < j->units ? i0 + j->panel : j->units;
    if (i1 < 2) continue;
    /* rows i0..i1 against rows 0..i1 (the lower triangle needs j < i) */
    ts_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(i1 - i0), (int)i1, (int)j->n, 1.0f,
             j->z + i0 * j->n, (int)j->n, j->z, (int)j->n, 0.0f, c, (int)i1);
    for (size_t i = i0 > 0 ? i0 : 1; i < i1; i++) {
      float *row = j->lower + (i * (i - 1) / 2 - j->base);
      const float *ci = c + (i - i0) * i1;
      for (size_t k = 0; k < i; k++) {
        float d = 1.0f - fabsf(ci[k]);
        row[k] = d < 0.0f ? 0.0f : d > 1.0f ? 1.0f : d;
      }
    }
  }
}

/* Every computation below goes panel by panel, and a panel is always the
 * same SGEMM call (rows i0..i1 against rows 0..i1), whoever makes it: that
 * is why the shared-out matrix is the single process's bit for bit. */
#define CORR_PANEL 128

/* Elements of the lower triangle before row i. */
static size_t tri_before(size_t i) { return i ? i * (i - 1) / 2 : 0; }

void ts_probe_correlation_split(size_t units, int rank, int size, size_t *row_begin, size_t *row_end) {
  const size_t panels = (units + CORR_PANEL - 1) / CORR_PANEL, nl = tri_before(units);
  size_t bound[2];
  for (int q = 0; q < 2; q++) {
    int r = rank + q;
    if (r <= 0) bound[q] = 0;
    else if (r >= size) bound[q] = units;
    else {
      /* the first panel boundary with at least r/size of the elements before it */
      double target = (double)nl * (double)r / (double)size;
      size_t p = 0;
      while (p < panels && (double)tri_before(p * CORR_PANEL) < target) p++;
      bound[q] = p * CORR_PANEL < units ? p * CORR_PANEL : units;
    }
  }
  *row_begin = bound[0], *row_end = bound[1];
}

/* Centres each signal and scales it to unit norm (z, units x n). */
static float *normalise(const float *signals, size_t units, size_t n, TsError *err) {
  float *z = ts_alloc_array(units * n, sizeof(float), "normalised signals", err);
  if (!z) return NULL;
  for (size_t i = 0; i < units; i++) {
    const float *x = signals + i * n;
    double mean = 0.0, ss = 0.0;
    for (size_t k = 0; k < n; k++) mean += x[k];
    mean /= (double)n;
    for (size_t k = 0; k < n; k++) ss += (x[k] - mean) * (x[k] - mean);
    /* a signal constant up to rounding has no correlation (numpy gives NaN -> 0) */
    double inv = ss > 0.0 && isfinite(ss) ? 1.0 / sqrt(ss) : 0.0;
    for (size_t k = 0; k < n; k++) z[i * n + k] = (float)((x[k] - mean) * inv);
  }
  return z;
}

/* Rows [r0, r1) (panel boundaries, or units) of the triangle into block
 * (tri_before(r1) - tri_before(r0) elements). */
static TsStatus corr_rows(const float *z, size_t units, size_t n, TsPool *pool, size_t r0, size_t r1, float *block,
                          TsError *err) {
  if (r1 <= r0) return TS_OK;
  int workers = pool ? ts_pool_threads(pool) : 1;
  if (workers < 1) workers = 1;
  float *scratch = ts_alloc_array((size_t)workers * CORR_PANEL * units, sizeof(float), "correlation panel", err);
  if (!scratch) return TS_ERR_NOMEM;
  CorrJob j = {z, units, n, CORR_PANEL, r0 / CORR_PANEL, block, tri_before(r0), scratch};
  size_t panels = (r1 - r0 + CORR_PANEL - 1) / CORR_PANEL;
  if (pool) ts_pool_for(pool, panels, 1, corr_task, &j);
  else corr_task(&j, 0, panels, 0);
  free(scratch);
  return TS_OK;
}

TsStatus ts_probe_correlation(const float *signals, size_t units, size_t n, TsPool *pool, TsRipsDist *out,
                              TsError *err) {
  ts_rips_dist_init(out);
  if (units < 1 || n < 1) return ts_error_set(err, TS_ERR_INVALID, "functional graph: no units or no signals");
  float *z = normalise(signals, units, n, err);
  if (!z) return TS_ERR_NOMEM;
  out->n = (int32_t)units;
  out->lower = ts_alloc_array_huge(tri_before(units) + 1, sizeof(float), "correlation distances", err);
  TsStatus s = out->lower ? corr_rows(z, units, n, pool, 0, units, out->lower, err) : TS_ERR_NOMEM;
  free(z);
  if (s) ts_rips_dist_clear(out);
  return s;
}

/* The other ranks' blocks to rank 0, in place after rank 0's own. MPI
 * counts are int, so a block goes in rounds of at most INT_MAX / size
 * bytes per rank; with more than one round, through a buffer of one
 * round's size. */
static TsStatus gather_blocks(const float *mine, float *lower, size_t units, int rank, int size, TsError *err) {
  size_t *bytes = calloc((size_t)size, sizeof *bytes), *off = calloc((size_t)size, sizeof *off);
  if (!bytes || !off) {
    free(bytes), free(off);
    return ts_error_set(err, TS_ERR_NOMEM, "correlation gather: out of memory");
  }
  size_t most = 0;
  for (int k = 0; k < size; k++) {
    size_t b, e;
    ts_probe_correlation_split(units, k, size, &b, &e);
    off[k] = tri_before(b) * sizeof(float);
    bytes[k] = k == 0 ? 0 : (tri_before(e) - tri_before(b)) * sizeof(float); /* rank 0's is in place */
    if (bytes[k] > most) most = bytes[k];
  }
  const size_t round = ((size_t)INT_MAX / (size_t)size) & ~(size_t)15;
  const size_t rounds = (most + round - 1) / round;
  size_t *piece = calloc((size_t)size, sizeof *piece);
  char *tmp = NULL;
  TsStatus s = piece ? TS_OK : ts_error_set(err, TS_ERR_NOMEM, "correlation gather: out of memory");
  if (!s && rank == 0 && rounds > 1 && !(tmp = malloc(round * (size_t)size)))
    s = ts_error_set(err, TS_ERR_NOMEM, "correlation gather: out of memory for a %zu-byte buffer", round * (size_t)size);
  for (size_t q = 0; q < rounds && !s; q++) {
    for (int k = 0; k < size; k++) {
      size_t from = q * round;
      piece[k] = bytes[k] > from ? (bytes[k] - from < round ? bytes[k] - from : round) : 0;
    }
    const char *send = rank == 0 ? NULL : (const char *)mine + q * round;
    char *recv = rank != 0 ? NULL : rounds == 1 ? (char *)lower + off[1] : tmp;
    s = ts_dist_gather(send, piece[rank], recv, piece, err);
    if (!s && rank == 0 && rounds > 1) {
      size_t at = 0;
      for (int k = 1; k < size; k++) {
        if (piece[k]) memcpy((char *)lower + off[k] + q * round, tmp + at, piece[k]);
        at += piece[k];
      }
    }
  }
  free(tmp);
  free(piece);
  free(bytes);
  free(off);
  return s;
}

TsStatus ts_probe_correlation_dist(const float *signals, size_t units, size_t n, TsPool *pool, TsRipsDist *out,
                                   TsError *err) {
  const int rank = ts_dist_rank(), size = ts_dist_size();
  if (size == 1) return ts_probe_correlation(signals, units, n, pool, out, err);
  ts_rips_dist_init(out);
  if (units < 1 || n < 1) return ts_error_set(err, TS_ERR_INVALID, "functional graph: no units or no signals");
  size_t r0, r1;
  ts_probe_correlation_split(units, rank, size, &r0, &r1);
  float *z = normalise(signals, units, n, err);
  float *block = NULL;
  TsStatus s = z ? TS_OK : TS_ERR_NOMEM;
  if (!s && rank == 0) {
    out->n = (int32_t)units;
    out->lower = ts_alloc_array_huge(tri_before(units) + 1, sizeof(float), "correlation distances", err);
    block = out->lower;
    if (!block) s = TS_ERR_NOMEM;
  } else if (!s && r1 > r0) {
    block = ts_alloc_array_huge(tri_before(r1) - tri_before(r0) + 1, sizeof(float), "correlation rows", err);
    if (!block) s = TS_ERR_NOMEM;
  }
  if (!s) s = corr_rows(z, units, n, pool, r0, r1, block, err);
  free(z);
  /* every rank learns whether any failed before the gather waits on it */
  int64_t failed = s != TS_OK;
  TsError derr = {0};
  if (ts_dist_allreduce_max_i64(&failed, 1, &derr)) {
    if (!s) s = ts_error_set(err, derr.code ? derr.code : TS_ERR_IO, "%s", derr.message);
  } else if (failed && !s) {
    s = ts_error_set(err, TS_ERR_NOMEM, "functional graph: another rank could not compute its correlation rows");
  }
  if (!s) s = gather_blocks(rank == 0 ? NULL : block, out->lower, units, rank, size, err);
  if (rank != 0) free(block);
  if (s) ts_rips_dist_clear(out);
  return s;
}

void ts_graph_options_init(TsGraphOptions *o) {
  memset(o, 0, sizeof *o);
  o->max_epsilon = 0.3;
  o->maxdim = 2;
  o->min_persistence = 0.02;
}

double ts_graph_grid(int j) {
  return TS_GRAPH_GRID_LO + (TS_GRAPH_GRID_HI - TS_GRAPH_GRID_LO) * (double)j / (double)(TS_GRAPH_GRID - 1);
}

/* Python's float("{0:.4f}".format(x)) */
static double round4(double x) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.4f", x);
  return strtod(buf, NULL);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void summarize_dim(const double *b, const double *d, size_t np, int midlife_original, double *avglife,
                          double *midlife, double *curve) {
  memset(curve, 0, TS_GRAPH_GRID * sizeof *curve);
  if (np == 0) {
    *avglife = *midlife = NAN;
    return;
  }
  double life = 0, mid = 0;
  for (size_t i = 0; i < np; i++) {
    life += d[i] - b[i];
    mid += midlife_original ? d[i] + b[i] / 2 : (b[i] + d[i]) / 2;
  }
  *avglife = life / (double)np, *midlife = mid / (double)np;
  size_t m = 2 * np;
  double *x = malloc(m * sizeof *x), *bs = malloc(np * sizeof *bs), *ds = malloc(np * sizeof *ds);
  double *beta = malloc(m * sizeof *beta), *sm = malloc(m * sizeof *sm);
  if (!x || !bs || !ds || !beta || !sm) {
    free(x), free(bs), free(ds), free(beta), free(sm);
    for (int j = 0; j < TS_GRAPH_GRID; j++) curve[j] = NAN;
    return;
  }
  memcpy(x, b, np * sizeof *x);
  memcpy(x + np, d, np * sizeof *x);
  memcpy(bs, b, np * sizeof *bs);
  memcpy(ds, d, np * sizeof *ds);
  qsort(x, m, sizeof *x, cmp_double);
  qsort(bs, np, sizeof *bs, cmp_double);
  qsort(ds, np, sizeof *ds, cmp_double);
  size_t ib = 0, id = 0;
  for (size_t k = 0; k < m; k++) {
    while (ib < np && bs[ib] <= x[k]) ib++;
    while (id < np && ds[id] <= x[k]) id++;
    beta[k] = (double)ib - (double)id;
  }
  size_t s = m / 10; /* int(len / 10) */
  if (s < 1) s = 1;
  /* uniform_filter1d(size s, mode constant): window [k - s/2, k - s/2 + s) */
  for (size_t k = 0; k < m; k++) {
    double acc = 0;
    long lo = (long)k - (long)(s / 2);
    for (long t = lo; t < lo + (long)s; t++)
      if (t >= 0 && t < (long)m) acc += beta[t];
    sm[k] = acc / (double)s;
  }
  /* nearest event value to each grid point (the first on ties), by a merge */
  size_t k = 0;
  for (int j = 0; j < TS_GRAPH_GRID; j++) {
    double a = ts_graph_grid(j);
    for (;;) { /* k stays the first index of its run of equal values, as argmin returns */
      size_t nx = k + 1;
      while (nx < m && x[nx] == x[k]) nx++;
      if (nx < m && fabs(a - x[nx]) < fabs(a - x[k])) k = nx;
      else break;
    }
    curve[j] = sm[k];
  }
  free(x), free(bs), free(ds), free(beta), free(sm);
}

void ts_probe_graph_summarize(const TsDiagram *diag, const TsGraphOptions *o, TsGraphSummary *sum) {
  memset(sum, 0, sizeof *sum);
  int maxdim = o->maxdim < TS_GRAPH_MAXDIM - 1 ? o->maxdim : TS_GRAPH_MAXDIM - 1;
  sum->maxdim = maxdim;
  double *b = malloc((diag->n + 1) * sizeof *b), *d = malloc((diag->n + 1) * sizeof *d);
  for (int q = 0; q <= maxdim; q++) {
    size_t np = 0;
    for (size_t i = 0; b && d && i < diag->n; i++) {
      const TsPair *p = &diag->pairs[i];
      if (p->dim != q || !isfinite(p->death)) continue;
      double pb = round4(p->birth / 2), pd = round4(p->death / 2);
      if (pd - pb > o->min_persistence) b[np] = pb, d[np++] = pd;
    }
    sum->pairs[q] = np;
    summarize_dim(b, d, np, o->midlife_original, &sum->avglife[q], &sum->midlife[q], sum->betti[q]);
  }
  free(b);
  free(d);
}

TsStatus ts_probe_graph_ph(const TsRipsDist *dist, const TsGraphOptions *o, TsDiagram *diag, TsGraphSummary *sum,
                           TsError *err) {
  if (o->maxdim < 0 || o->maxdim >= TS_GRAPH_MAXDIM)
    return ts_error_set(err, TS_ERR_INVALID, "functional graph: homology dimension %d (0..%d)", o->maxdim,
                        TS_GRAPH_MAXDIM - 1);
  if (!(o->max_epsilon > 0))
    return ts_error_set(err, TS_ERR_INVALID, "functional graph: threshold %g is not positive", o->max_epsilon);
  TsRipsOptions ro;
  ts_rips_options_init(&ro);
  ro.maxdim = o->maxdim;
  ro.threshold = 2 * o->max_epsilon;
  ro.pool = o->pool;
  TsStatus s = ts_rips_ph(dist, &ro, diag, err);
  if (s) return s;
  if (sum) ts_probe_graph_summarize(diag, o, sum);
  return TS_OK;
}
