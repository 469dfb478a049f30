/* rips.c — the Vietoris–Rips engine's entry point (Ripser's algorithm, see
 * rips.h and rips-engine.h): checks the options, builds the binomial table,
 * picks the threshold (given, or the enclosing radius) and the dense or
 * sparse enumeration, then runs dimension 0 and the cohomology. */
#include <float.h>

#include "ph/rips-engine.h"

/* ---- setup ---- */

void ts_rips_options_init(TsRipsOptions *o) {
  memset(o, 0, sizeof *o);
  o->maxdim = 1;
  o->threshold = INFINITY;
  o->modulus = 2;
}

static int is_prime(int p) {
  if (p < 2) return 0;
  for (int q = 2; q * q <= p; q++)
    if (p % q == 0) return 0;
  return 1;
}

static TsStatus build_neighbours(Rips *r, const TsRipsDist *d, TsError *err) {
  int64_t n = r->n;
  r->nb_off = calloc((size_t)n + 1, sizeof *r->nb_off);
  if (!r->nb_off) return ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for neighbour lists");
  if (d->lower) {
    for (int64_t i = 1; i < n; i++) {
      const float *row = d->lower + i * (i - 1) / 2;
      for (int64_t j = 0; j < i; j++)
        if (row[j] <= r->threshold) {
          r->nb_off[i + 1]++;
          r->nb_off[j + 1]++;
        }
    }
  } else {
    for (size_t e = 0; e < d->nedges; e++)
      if (d->ed[e] <= r->threshold && d->ei[e] != d->ej[e]) {
        r->nb_off[d->ei[e] + 1]++;
        r->nb_off[d->ej[e] + 1]++;
      }
  }
  for (int64_t i = 0; i < n; i++) r->nb_off[i + 1] += r->nb_off[i];
  size_t m = (size_t)r->nb_off[n];
  r->nb_idx = malloc((m ? m : 1) * sizeof *r->nb_idx);
  r->nb_val = malloc((m ? m : 1) * sizeof *r->nb_val);
  int64_t *fill = malloc((size_t)n * sizeof *fill);
  if (!r->nb_idx || !r->nb_val || !fill) {
    free(fill);
    return ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory for %zu neighbours", m);
  }
  memcpy(fill, r->nb_off, (size_t)n * sizeof *fill);
  if (d->lower) {
    /* row by row in j order keeps every list sorted: for vertex v, first
     * the j < v (row v), then the i > v (rows after) */
    for (int64_t i = 1; i < n; i++) {
      const float *row = d->lower + i * (i - 1) / 2;
      for (int64_t j = 0; j < i; j++)
        if (row[j] <= r->threshold) {
          r->nb_idx[fill[i]] = (int32_t)j;
          r->nb_val[fill[i]++] = row[j];
        }
      for (int64_t j = 0; j < i; j++)
        if (row[j] <= r->threshold) {
          r->nb_idx[fill[j]] = (int32_t)i;
          r->nb_val[fill[j]++] = row[j];
        }
    }
  } else {
    for (size_t e = 0; e < d->nedges; e++)
      if (d->ed[e] <= r->threshold && d->ei[e] != d->ej[e]) {
        int32_t a = d->ei[e], b = d->ej[e];
        r->nb_idx[fill[a]] = b;
        r->nb_val[fill[a]++] = d->ed[e];
        r->nb_idx[fill[b]] = a;
        r->nb_val[fill[b]++] = d->ed[e];
      }
    /* sort each list by vertex; a repeated edge keeps its smallest length */
    for (int64_t v = 0; v < n; v++) {
      int64_t lo = r->nb_off[v], hi = r->nb_off[v + 1];
      for (int64_t q = lo + 1; q < hi; q++) {
        int32_t ki = r->nb_idx[q];
        float kv = r->nb_val[q];
        int64_t t = q;
        while (t > lo && (r->nb_idx[t - 1] > ki || (r->nb_idx[t - 1] == ki && r->nb_val[t - 1] > kv))) {
          r->nb_idx[t] = r->nb_idx[t - 1];
          r->nb_val[t] = r->nb_val[t - 1];
          t--;
        }
        r->nb_idx[t] = ki;
        r->nb_val[t] = kv;
      }
    }
    /* drop duplicates (compact in place, then rebuild offsets) */
    int64_t o = 0, start = 0;
    for (int64_t v = 0; v < n; v++) {
      int64_t lo = start, hi = r->nb_off[v + 1];
      start = hi;
      r->nb_off[v] = o;
      for (int64_t q = lo; q < hi; q++)
        if (q == lo || r->nb_idx[q] != r->nb_idx[q - 1]) {
          r->nb_idx[o] = r->nb_idx[q];
          r->nb_val[o++] = r->nb_val[q];
        }
    }
    r->nb_off[n] = o;
  }
  free(fill);
  return TS_OK;
}

typedef struct {
  const float *lower;
  float *full;
  int64_t n;
} FullCtx;

static void full_rows_task(void *ctx, size_t b, size_t e, int worker) {
  (void)worker;
  const FullCtx *c = ctx;
  for (int64_t i = (int64_t)b; i < (int64_t)e; i++) {
    float *row = c->full + i * c->n;
    const float *tri = c->lower + i * (i - 1) / 2;
    for (int64_t j = 0; j < i; j++) row[j] = tri[j];
    row[i] = 0.0f;
    for (int64_t j = i + 1; j < c->n; j++) row[j] = c->lower[j * (j - 1) / 2 + i];
  }
}

TsStatus ts_rips_ph(const TsRipsDist *d, const TsRipsOptions *opts, TsDiagram *out, TsError *err) {
  TsRipsOptions def;
  if (!opts) {
    ts_rips_options_init(&def);
    opts = &def;
  }
  ts_diagram_clear(out);
  out->loc = TS_LOC_EDGES;
  out->maxdim = opts->maxdim;
  if (!d || d->n < 1) return ts_error_set(err, TS_ERR_INVALID, "Rips: no points");
  if (opts->maxdim < 0 || opts->maxdim > MAXV - 3)
    return ts_error_set(err, TS_ERR_INVALID, "Rips: maximal dimension %d is outside 0..%d", opts->maxdim, MAXV - 3);
  if (!is_prime(opts->modulus) || opts->modulus >= 32768)
    return ts_error_set(err, TS_ERR_INVALID, "Rips: modulus %d is not a prime below 32768", opts->modulus);
  if (isnan(opts->threshold) || opts->threshold < 0)
    return ts_error_set(err, TS_ERR_INVALID, "Rips: threshold must be >= 0");

  Rips r;
  memset(&r, 0, sizeof r);
  r.n = d->n;
  r.maxdim = opts->maxdim;
  r.p = opts->modulus;
  r.lower = d->lower;
  TsStatus st = TS_OK;
  SimplexVec simplices = {0}, cols = {0};
  float *full = NULL;
  Cob *cobs = NULL;
  int nt = ts_pool_threads(opts->pool);

  /* binomials C(i, k) for i <= n, k <= maxdim + 2, overflow-checked where
   * the largest simplex index of dimension maxdim + 1 must fit */
  int kmax = r.maxdim + 2;
  r.bstride = r.n + 1;
  r.binom = ts_alloc_array((size_t)(kmax + 1) * (size_t)(r.n + 1), sizeof *r.binom, "binomial table", err);
  if (!r.binom) return TS_ERR_NOMEM;
  for (int64_t i = 0; i <= r.n; i++) {
    for (int k = 0; k <= kmax; k++) {
      int64_t v;
      if (k == 0 || k == i) v = 1;
      else if (k > i) v = 0;
      else {
        int64_t a = r.binom[(int64_t)(k - 1) * r.bstride + i - 1], b = r.binom[(int64_t)k * r.bstride + i - 1];
        if (a > INT64_MAX / 4 - b) {
          st = ts_error_set(err, TS_ERR_INVALID,
                            "Rips: %lld points are too many to number the %d-simplices in 64 bits",
                            (long long)r.n, kmax - 1);
          goto done;
        }
        v = a + b;
      }
      r.binom[(int64_t)k * r.bstride + i] = v;
    }
  }
  r.inv = malloc((size_t)r.p * sizeof *r.inv);
  cobs = calloc((size_t)nt * 2, sizeof *cobs);
  if (!r.inv || !cobs) {
    st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory");
    goto done;
  }
  r.inv[0] = 0;
  r.inv[1] = 1;
  for (int a = 2; a < r.p; a++) r.inv[a] = (uint16_t)(r.p - (r.p / a) * (uint32_t)r.inv[r.p % a] % r.p);

  /* threshold: as given, or the enclosing radius for dense input (the
   * smallest over vertices of the largest distance from it), one pass */
  float maxd = 0.0f, enc = INFINITY;
  if (d->lower) {
    float *rmax = calloc((size_t)r.n, sizeof *rmax);
    if (!rmax) {
      st = ts_error_set(err, TS_ERR_NOMEM, "Rips: out of memory");
      goto done;
    }
    for (int64_t i = 1; i < r.n; i++) {
      const float *row = d->lower + i * (i - 1) / 2;
      float ri = 0.0f;
      for (int64_t j = 0; j < i; j++) {
        float x = row[j];
        if (x > ri) ri = x;
        if (x > rmax[j]) rmax[j] = x;
      }
      rmax[i] = ri;
      if (ri > maxd) maxd = ri;
    }
    for (int64_t i = 0; i < r.n; i++)
      if (rmax[i] < enc) enc = rmax[i];
    free(rmax);
  }
  if (isinf(opts->threshold)) r.threshold = d->lower ? enc : INFINITY;
  else r.threshold = (float)opts->threshold;
  /* an infinite distance is no edge at all */
  if (!(r.threshold <= FLT_MAX)) r.threshold = FLT_MAX;
  r.sparse = !d->lower || (!isinf(opts->threshold) && r.threshold < maxd);
  if (r.sparse && (st = build_neighbours(&r, d, err))) goto done;
  if (!r.sparse && r.n <= TS_RIPS_FULL_MAX && r.maxdim >= 1) {
    full = malloc((size_t)r.n * (size_t)r.n * sizeof *full);
    if (full) { /* without it the engine still works, from the triangle */
      FullCtx fc = {d->lower, full, r.n};
      ts_pool_for(opts->pool, (size_t)r.n, 32, full_rows_task, &fc);
      r.full = full;
    }
  }

  if ((st = ts_rips_collect_edges(&r, &simplices, opts->pool, err))) goto done;
  if ((st = ts_rips_h0(&r, &simplices, &cols, cobs, opts->pool, out, err))) goto done;
  if ((st = ts_rips_cohomology(&r, &simplices, &cols, cobs, opts->pool, out, err))) goto done;
  ts_diagram_sort(out);
  out->maxdim = r.maxdim;
done:
  free(simplices.a);
  free(cols.a);
  free(cobs);
  free(r.inv);
  free(r.binom);
  free(full);
  free(r.nb_off);
  free(r.nb_idx);
  free(r.nb_val);
  if (st) ts_diagram_clear(out);
  return st;
}
