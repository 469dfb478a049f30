/* Rips PH against a plain boundary-matrix reduction on many small random
 * clouds, matrices and graphs (with many equal distances), plus
 * representative edges, thread independence, the point and batch APIs, H0 by
 * Prim, the PH dimension, and bad input. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/pool.h"
#include "base/rng.h"
#include "ph/phdim.h"
#include "ph/rips.h"
#include "ts-test.h"

/* ---- the reference: every simplex, sorted, reduced column by column ---- */

typedef struct {
  int v[6];
  int dim;
  float diam;
} RSimplex;

static float rdist(const TsRipsDist *d, int i, int j) {
  if (i == j) return 0.0f;
  if (i < j) {
    int t = i;
    i = j;
    j = t;
  }
  if (d->lower) return d->lower[(size_t)i * (i - 1) / 2 + j];
  float best = INFINITY;
  for (size_t e = 0; e < d->nedges; e++)
    if ((d->ei[e] == i && d->ej[e] == j) || (d->ei[e] == j && d->ej[e] == i))
      if (d->ed[e] < best) best = d->ed[e];
  return best;
}

static int cmp_rs(const void *a, const void *b) {
  const RSimplex *x = a, *y = b;
  if (x->diam != y->diam) return x->diam < y->diam ? -1 : 1;
  if (x->dim != y->dim) return x->dim - y->dim;
  for (int k = 0; k <= x->dim; k++)
    if (x->v[k] != y->v[k]) return x->v[k] - y->v[k];
  return 0;
}

static int modinv(int a, int p) {
  for (int x = 1; x < p; x++)
    if (a * x % p == 1) return x;
  return 0;
}

typedef struct {
  int dim;
  float birth, death;
} RPair;

/* All pairs (zero-length ones dropped) of dims 0..maxdim, with simplices of
 * diameter <= thr (thr = INFINITY: all). Returns the count. */
static int reference(const TsRipsDist *d, int maxdim, float thr, int p, RPair *out) {
  int n = d->n, cap = 1 << n, ns = 0;
  RSimplex *s = malloc(sizeof *s * (size_t)cap);
  for (int mask = 1; mask < cap; mask++) {
    int dim = __builtin_popcount((unsigned)mask) - 1;
    if (dim > maxdim + 1) continue;
    RSimplex x = {.dim = dim, .diam = 0.0f};
    int k = 0;
    for (int i = 0; i < n; i++)
      if (mask >> i & 1) x.v[k++] = i;
    for (int a = 0; a < k; a++)
      for (int b = 0; b < a; b++) {
        float t = rdist(d, x.v[a], x.v[b]);
        if (t > x.diam) x.diam = t;
      }
    if (x.diam <= thr) s[ns++] = x;
  }
  qsort(s, (size_t)ns, sizeof *s, cmp_rs);
  /* boundary matrix, dense, mod p */
  int *M = calloc((size_t)ns * ns, sizeof *M), *low = malloc(sizeof *low * (size_t)ns);
  int *lowcol = malloc(sizeof *lowcol * (size_t)ns);
  for (int c = 0; c < ns; c++) {
    if (s[c].dim == 0) continue;
    for (int r = 0; r <= s[c].dim; r++) {
      RSimplex f = {.dim = s[c].dim - 1};
      for (int k = 0, q = 0; k <= s[c].dim; k++)
        if (k != r) f.v[q++] = s[c].v[k];
      for (int row = 0; row < c; row++)
        if (s[row].dim == f.dim && !memcmp(s[row].v, f.v, sizeof(int) * (size_t)(f.dim + 1))) {
          M[(size_t)c * ns + row] = (r & 1) ? p - 1 : 1;
          break;
        }
    }
  }
  for (int r = 0; r < ns; r++) lowcol[r] = -1;
  for (int c = 0; c < ns; c++) {
    int *col = M + (size_t)c * ns;
    for (;;) {
      int l = -1;
      for (int r = ns - 1; r >= 0; r--)
        if (col[r]) {
          l = r;
          break;
        }
      low[c] = l;
      if (l < 0 || lowcol[l] < 0) break;
      int *other = M + (size_t)lowcol[l] * ns;
      int f = col[l] * modinv(other[l], p) % p;
      for (int r = 0; r < ns; r++) col[r] = ((col[r] - f * other[r]) % p + p) % p;
    }
    if (low[c] >= 0) lowcol[low[c]] = c;
  }
  int np = 0;
  for (int c = 0; c < ns; c++) {
    if (low[c] >= 0) {
      RSimplex *b = &s[low[c]];
      if (b->dim <= maxdim && s[c].diam > b->diam) out[np++] = (RPair){b->dim, b->diam, s[c].diam};
    } else if (lowcol[c] < 0 && s[c].dim <= maxdim) {
      out[np++] = (RPair){s[c].dim, s[c].diam, INFINITY};
    }
  }
  free(M);
  free(low);
  free(lowcol);
  free(s);
  return np;
}

static int cmp_rp(const void *a, const void *b) {
  const RPair *x = a, *y = b;
  if (x->dim != y->dim) return x->dim - y->dim;
  if (x->birth != y->birth) return x->birth < y->birth ? -1 : 1;
  if (x->death != y->death) return x->death < y->death ? -1 : 1;
  return 0;
}

/* The engine's diagram equals the reference exactly, and every location is
 * an edge of the reported length. */
static int check_against_reference(const TsRipsDist *d, int maxdim, double thr, int p, const char *what) {
  RPair ref[4096], got[4096];
  float fthr = isinf(thr) ? INFINITY : (float)thr;
  int nr = reference(d, maxdim, fthr, p, ref);
  TsRipsOptions o;
  ts_rips_options_init(&o);
  o.maxdim = maxdim;
  o.threshold = thr;
  o.modulus = p;
  TsDiagram dg;
  ts_diagram_init(&dg);
  TsError err = {0};
  TsStatus st = ts_rips_ph(d, &o, &dg, &err);
  TS_CHECKF(st == TS_OK, "%s: %s", what, err.message);
  int ok = st == TS_OK && dg.n == (size_t)nr && dg.loc == TS_LOC_EDGES;
  for (size_t i = 0; i < dg.n && i < 4096; i++) {
    const TsPair *q = &dg.pairs[i];
    got[i] = (RPair){q->dim, (float)q->birth, (float)q->death};
    if (q->dim == 0) {
      ok &= q->birth == 0 && q->birth_at[0] >= 0 && q->birth_at[0] < d->n;
    } else {
      ok &= rdist(d, q->birth_at[0], q->birth_at[1]) == (float)q->birth;
    }
    if (isinf(q->death)) ok &= q->death_at[0] == -1;
    else ok &= rdist(d, q->death_at[0], q->death_at[1]) == (float)q->death;
  }
  if (ok) {
    qsort(ref, (size_t)nr, sizeof *ref, cmp_rp);
    qsort(got, (size_t)nr, sizeof *got, cmp_rp);
    for (int i = 0; i < nr; i++) ok &= !cmp_rp(&ref[i], &got[i]);
  }
  TS_CHECKF(ok, "%s: %zu pairs vs %d in the reference", what, dg.n, nr);
  if (!ok) {
    for (int i = 0; i < nr; i++) fprintf(stderr, "  ref %d [%g, %g)\n", ref[i].dim, ref[i].birth, ref[i].death);
    for (size_t i = 0; i < dg.n; i++)
      fprintf(stderr, "  got %d [%g, %g)\n", dg.pairs[i].dim, dg.pairs[i].birth, dg.pairs[i].death);
  }
  ts_diagram_clear(&dg);
  return ok;
}

static void random_cloud(TsRng *rng, double *x, int n, int dim, int levels) {
  for (int i = 0; i < n * dim; i++)
    x[i] = levels ? (double)ts_rng_below(rng, (uint64_t)levels) : ts_rng_uniform(rng);
}

static void test_clouds_vs_reference(void) {
  TsRng rng;
  ts_rng_init(&rng, 42, 0);
  int fails = 0;
  for (int t = 0; t < 150 && fails < 3; t++) {
    int n = 4 + (int)ts_rng_below(&rng, 6), dim = 1 + (int)ts_rng_below(&rng, 3);
    int maxdim = (int)ts_rng_below(&rng, 4);
    double x[10 * 3];
    random_cloud(&rng, x, n, dim, t % 2 ? 3 : 0); /* odd: a grid, many ties */
    TsRipsDist d;
    TsError err = {0};
    TsRipsMetric m = (TsRipsMetric)(t % 3); /* euclidean, manhattan, chebyshev */
    TS_CHECK(ts_rips_dist_from_points(&d, x, (size_t)n, (size_t)dim, m, NULL, &err) == TS_OK);
    char what[96];
    snprintf(what, sizeof what, "cloud %d (n %d, dim %d, maxdim %d, %s)", t, n, dim, maxdim, ts_rips_metric_name(m));
    fails += !check_against_reference(&d, maxdim, INFINITY, 2, what);
    double thr = t % 2 ? 1.5 : 0.6;
    fails += !check_against_reference(&d, maxdim, thr, 2, what);
    if (t % 5 == 0) fails += !check_against_reference(&d, maxdim, INFINITY, 3, what);
    ts_rips_dist_clear(&d);
  }
}

static void test_matrices_vs_reference(void) {
  TsRng rng;
  ts_rng_init(&rng, 43, 0);
  int fails = 0;
  for (int t = 0; t < 150 && fails < 3; t++) {
    int n = 3 + (int)ts_rng_below(&rng, 7), maxdim = (int)ts_rng_below(&rng, 4);
    double m[10 * 10];
    for (int i = 0; i < n; i++)
      for (int j = 0; j <= i; j++)
        m[i * n + j] = m[j * n + i] = i == j ? 0 : 1 + (double)ts_rng_below(&rng, t % 2 ? 3 : 50);
    TsRipsDist d;
    TsError err = {0};
    TS_CHECK(ts_rips_dist_from_matrix(&d, m, (size_t)n, &err) == TS_OK);
    char what[64];
    snprintf(what, sizeof what, "matrix %d (n %d, maxdim %d)", t, n, maxdim);
    fails += !check_against_reference(&d, maxdim, INFINITY, 2, what);
    fails += !check_against_reference(&d, maxdim, t % 2 ? 2 : 30, 2, what);
    fails += !check_against_reference(&d, maxdim, INFINITY, 5, what);
    ts_rips_dist_clear(&d);
  }
}

static void test_graphs_vs_reference(void) {
  TsRng rng;
  ts_rng_init(&rng, 44, 0);
  int fails = 0;
  for (int t = 0; t < 150 && fails < 3; t++) {
    int n = 3 + (int)ts_rng_below(&rng, 7), maxdim = (int)ts_rng_below(&rng, 4);
    TsRipsDist d;
    ts_rips_dist_init(&d);
    d.n = n;
    size_t cap = (size_t)n * n;
    d.ei = malloc(cap * sizeof *d.ei);
    d.ej = malloc(cap * sizeof *d.ej);
    d.ed = malloc(cap * sizeof *d.ed);
    for (int i = 0; i < n; i++)
      for (int j = 0; j < i; j++)
        if (ts_rng_uniform(&rng) < 0.7) {
          d.ei[d.nedges] = t % 2 ? i : j; /* either orientation */
          d.ej[d.nedges] = t % 2 ? j : i;
          d.ed[d.nedges++] = (float)(1 + ts_rng_below(&rng, 4));
        }
    char what[64];
    snprintf(what, sizeof what, "graph %d (n %d, %zu edges, maxdim %d)", t, n, d.nedges, maxdim);
    fails += !check_against_reference(&d, maxdim, INFINITY, 2, what);
    fails += !check_against_reference(&d, maxdim, 2.5, 3, what);
    ts_rips_dist_clear(&d);
  }
}

/* threads, the point APIs and the batch give the same diagrams */
static void test_apis_agree(void) {
  TsRng rng;
  ts_rng_init(&rng, 45, 0);
  enum { N = 120, K = 5 };
  float xf[K][N * 3];
  double x[N * 3];
  for (int k = 0; k < K; k++)
    for (int i = 0; i < N * 3; i++) xf[k][i] = (float)ts_rng_normal(&rng);
  for (int i = 0; i < N * 3; i++) x[i] = xf[0][i];
  TsError err = {0};
  TsPool *pool = ts_pool_new(3, &err);
  TS_CHECK(pool != NULL);
  TsRipsOptions o;
  ts_rips_options_init(&o);
  o.maxdim = 2;
  TsDiagram a, b, batch[K];
  ts_diagram_init(&a);
  ts_diagram_init(&b);
  TS_CHECK(ts_rips_ph_points(x, N, 3, &o, &a, &err) == TS_OK);
  o.pool = pool;
  TS_CHECK(ts_rips_ph_pointsf(xf[0], N, 3, &o, &b, &err) == TS_OK);
  TS_CHECK(a.n == b.n && a.n > N);
  for (size_t i = 0; i < a.n && a.n == b.n; i++) {
    TS_CHECK(a.pairs[i].birth == b.pairs[i].birth && a.pairs[i].death == b.pairs[i].death);
    TS_CHECK(!memcmp(a.pairs[i].birth_at, b.pairs[i].birth_at, sizeof a.pairs[i].birth_at));
    TS_CHECK(!memcmp(a.pairs[i].death_at, b.pairs[i].death_at, sizeof a.pairs[i].death_at));
  }
  /* Euclidean lengths of the representative edges */
  for (size_t i = 0; i < a.n; i++) {
    const TsPair *p = &a.pairs[i];
    if (isinf(p->death)) continue;
    const double *u = x + 3 * p->death_at[0], *v = x + 3 * p->death_at[1];
    double l = sqrt((u[0] - v[0]) * (u[0] - v[0]) + (u[1] - v[1]) * (u[1] - v[1]) + (u[2] - v[2]) * (u[2] - v[2]));
    TS_CHECK_CLOSE(l, p->death, 1e-6);
    if (p->dim > 0) {
      u = x + 3 * p->birth_at[0];
      v = x + 3 * p->birth_at[1];
      l = sqrt((u[0] - v[0]) * (u[0] - v[0]) + (u[1] - v[1]) * (u[1] - v[1]) + (u[2] - v[2]) * (u[2] - v[2]));
      TS_CHECK_CLOSE(l, p->birth, 1e-6);
    }
  }
  const float *clouds[K];
  size_t ns[K];
  for (int k = 0; k < K; k++) {
    clouds[k] = xf[k];
    ns[k] = N - 10 * (size_t)k;
  }
  TS_CHECK(ts_rips_ph_batchf(clouds, ns, K, 3, &o, pool, batch, &err) == TS_OK);
  TS_CHECK(batch[0].n == a.n);
  for (int k = 0; k < K; k++) {
    TsDiagram one;
    ts_diagram_init(&one);
    TS_CHECK(ts_rips_ph_pointsf(xf[k], ns[k], 3, &o, &one, &err) == TS_OK);
    TS_CHECK(one.n == batch[k].n);
    for (size_t i = 0; i < one.n && one.n == batch[k].n; i++)
      TS_CHECK(one.pairs[i].death == batch[k].pairs[i].death);
    ts_diagram_clear(&one);
    ts_diagram_clear(&batch[k]);
  }
  /* H0 by Prim = H0 of the engine */
  double deaths[N];
  TS_CHECK(ts_rips_h0_deaths(x, N, 3, deaths, &err) == TS_OK);
  double sum_prim = 0, sum_rips = 0;
  for (int i = 0; i < N - 1; i++) sum_prim += deaths[i];
  for (size_t i = 0; i < a.n; i++)
    if (a.pairs[i].dim == 0 && !isinf(a.pairs[i].death)) sum_rips += a.pairs[i].death;
  TS_CHECK_CLOSE(sum_prim, sum_rips, 1e-5);
  ts_diagram_clear(&a);
  ts_diagram_clear(&b);
  ts_pool_free(pool);
}

/* big enough for the parallel sorts (>= 65536 edges) and several blocks */
static void test_threads_large(void) {
  enum { N = 420 };
  static double x[N * 3];
  TsRng rng;
  ts_rng_init(&rng, 46, 0);
  for (int i = 0; i < N * 3; i++) x[i] = (double)(ts_rng_below(&rng, 6));
  for (int i = 0; i < N * 3; i++) x[i] += 0.01 * ts_rng_uniform(&rng);
  TsError err = {0};
  TsPool *pool = ts_pool_new(2, &err);
  TsRipsOptions o;
  ts_rips_options_init(&o);
  TsDiagram a, b;
  ts_diagram_init(&a);
  ts_diagram_init(&b);
  TS_CHECK(ts_rips_ph_points(x, N, 3, &o, &a, &err) == TS_OK);
  o.pool = pool;
  TS_CHECK(ts_rips_ph_points(x, N, 3, &o, &b, &err) == TS_OK);
  TS_CHECK(a.n == b.n && ts_diagram_count(&a, 1) > 10);
  for (size_t i = 0; i < a.n && a.n == b.n; i++) {
    TS_CHECK(a.pairs[i].birth == b.pairs[i].birth && a.pairs[i].death == b.pairs[i].death);
    TS_CHECK(!memcmp(a.pairs[i].death_at, b.pairs[i].death_at, sizeof a.pairs[i].death_at));
  }
  ts_diagram_clear(&a);
  ts_diagram_clear(&b);
  ts_pool_free(pool);
}

static void test_known_shapes(void) {
  /* a regular hexagon: one H1 class [1, sqrt 3) */
  double x[12];
  for (int i = 0; i < 6; i++) {
    x[2 * i] = cos(i * M_PI / 3);
    x[2 * i + 1] = sin(i * M_PI / 3);
  }
  TsRipsOptions o;
  ts_rips_options_init(&o);
  TsDiagram d;
  ts_diagram_init(&d);
  TsError err = {0};
  TS_CHECK(ts_rips_ph_points(x, 6, 2, &o, &d, &err) == TS_OK);
  TS_CHECK(ts_diagram_count(&d, 0) == 6 && ts_diagram_count_essential(&d, 0) == 1);
  TS_CHECK(ts_diagram_count(&d, 1) == 1);
  for (size_t i = 0; i < d.n; i++)
    if (d.pairs[i].dim == 1) {
      TS_CHECK_CLOSE(d.pairs[i].birth, 1.0, 1e-6);
      TS_CHECK_CLOSE(d.pairs[i].death, sqrt(3.0), 1e-6);
    }
  /* a single point; two far points with a threshold: two essential H0 */
  TS_CHECK(ts_rips_ph_points(x, 1, 2, &o, &d, &err) == TS_OK && d.n == 1 && isinf(d.pairs[0].death));
  o.threshold = 0.5;
  TS_CHECK(ts_rips_ph_points(x, 2, 2, &o, &d, &err) == TS_OK && ts_diagram_count_essential(&d, 0) == 2);
  o.threshold = INFINITY;
  o.modulus = 4;
  TS_CHECK(ts_rips_ph_points(x, 6, 2, &o, &d, &err) == TS_ERR_INVALID && strstr(err.message, "prime"));
  ts_diagram_clear(&d);
}

static void test_phdim(void) {
  /* uniform points in the unit square: PH dimension about 2 */
  enum { N = 2000 };
  static double x[N * 2];
  TsRng rng;
  ts_rng_init(&rng, 7, 0);
  for (int i = 0; i < N * 2; i++) x[i] = ts_rng_uniform(&rng);
  TsPhdimResult r;
  TsError err = {0};
  TS_CHECK(ts_phdim_estimate(x, N, 2, 1.0, 300, 300, 1, NULL, &r, &err) == TS_OK);
  TS_CHECK(r.nsizes == 6 && r.n[0] == 300 && r.n[5] == 1800);
  TS_CHECKF(fabs(r.phdim - 2.0) < 0.3, "phdim %g", r.phdim);
  TS_CHECK_CLOSE(r.slope, 1.0 - 1.0 / r.phdim, 1e-9);
  ts_phdim_result_clear(&r);
  TS_CHECK(ts_phdim_estimate(x, 400, 2, 1.0, 300, 300, 1, NULL, &r, &err) == TS_ERR_INVALID);
  TS_CHECK(strstr(err.message, "at least 2") != NULL);
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static void expect_error(const char *text, TsRipsFormat fmt, const char *needle) {
  char path[] = "/tmp/rips-test-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  write_file(path, text);
  TsRipsDist d;
  TsError err = {0};
  TsStatus st = ts_rips_dist_read(&d, path, fmt, TS_RIPS_EUCLIDEAN, NULL, &err);
  TS_CHECKF(st != TS_OK && strstr(err.message, needle) && strstr(err.message, path), "%s: got '%s'", needle,
            err.message);
  if (st == TS_OK) ts_rips_dist_clear(&d);
  unlink(path);
}

static void test_bad_input(void) {
  expect_error("0 0\n1 1 1\n", TS_RIPS_POINTS, "ragged");
  expect_error("0 0\n1 nan\n", TS_RIPS_POINTS, "NaN");
  expect_error("0 0\n1 x\n", TS_RIPS_POINTS, "not a number");
  expect_error("", TS_RIPS_POINTS, "no points");
  expect_error("0 1 2\n1 0 2\n", TS_RIPS_DISTANCE, "not square");
  expect_error("0 1\n-1 0\n", TS_RIPS_DISTANCE, "negative");
  expect_error("0 1\n2 0\n", TS_RIPS_DISTANCE, "not symmetric");
  expect_error("0 1\n1 3\n", TS_RIPS_DISTANCE, "diagonal");
  expect_error("1\n2 3\n4\n", TS_RIPS_LOWER, "not a triangle");
  expect_error("1, -2, 3\n", TS_RIPS_UPPER, "negative");
  expect_error("0 1 nan\n", TS_RIPS_SPARSE, "NaN");
  expect_error("0 1\n", TS_RIPS_SPARSE, "expected 'i j distance'");
  expect_error("0 -1 2\n", TS_RIPS_SPARSE, "integers");
  expect_error("not dipha at all, not at all!!!", TS_RIPS_DIPHA, "magic");
  TsRipsDist d;
  TsError err = {0};
  TS_CHECK(ts_rips_dist_read(&d, "/nonexistent/x.txt", TS_RIPS_POINTS, 0, NULL, &err) == TS_ERR_IO);
  TS_CHECK(strstr(err.message, "/nonexistent/x.txt") != NULL);
  double bad[4] = {0, 1, NAN, 0};
  TS_CHECK(ts_rips_dist_from_points(&d, bad, 2, 2, TS_RIPS_EUCLIDEAN, NULL, &err) == TS_ERR_INVALID);
  TS_CHECK(strstr(err.message, "NaN") != NULL);
  double zero[4] = {0, 0, 1, 1};
  TS_CHECK(ts_rips_dist_from_points(&d, zero, 2, 2, TS_RIPS_COSINE, NULL, &err) == TS_ERR_INVALID);
}

static void test_formats_agree(void) {
  /* the same 4-point space in every format */
  const char *full = "0 1 2 3\n1 0 4 5\n2 4 0 6\n3 5 6 0\n";
  const char *lower = "1\n2 4\n3 5 6\n";
  const char *upper = "1,2,3\n4,5\n6\n";
  const char *sparse = "1 0 1\n2 0 2\n2 1 4\n3 0 3\n3 1 5\n3 2 6\n";
  const char *texts[4] = {full, lower, upper, sparse};
  TsRipsFormat fmts[4] = {TS_RIPS_DISTANCE, TS_RIPS_LOWER, TS_RIPS_UPPER, TS_RIPS_SPARSE};
  char path[] = "/tmp/rips-test-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  TsRipsOptions o;
  ts_rips_options_init(&o);
  o.maxdim = 2;
  o.threshold = 100;
  double deaths[4][8];
  size_t counts[4];
  for (int k = 0; k < 5; k++) {
    TsRipsDist d;
    TsError err = {0};
    if (k < 4) {
      write_file(path, texts[k]);
      TS_CHECKF(ts_rips_dist_read(&d, path, fmts[k], 0, NULL, &err) == TS_OK, "%s", err.message);
    } else { /* DIPHA */
      FILE *f = fopen(path, "wb");
      int64_t head[3] = {8067171840LL, 7, 4};
      double m[16] = {0, 1, 2, 3, 1, 0, 4, 5, 2, 4, 0, 6, 3, 5, 6, 0};
      fwrite(head, sizeof head[0], 3, f);
      fwrite(m, sizeof m[0], 16, f);
      fclose(f);
      TS_CHECKF(ts_rips_dist_read(&d, path, TS_RIPS_DIPHA, 0, NULL, &err) == TS_OK, "%s", err.message);
    }
    TS_CHECK(d.n == 4);
    TsDiagram g;
    ts_diagram_init(&g);
    TS_CHECK(ts_rips_ph(&d, &o, &g, &err) == TS_OK);
    size_t c = g.n < 8 ? g.n : 8;
    if (k < 4) counts[k] = c;
    for (size_t i = 0; i < c; i++) {
      if (k < 4) deaths[k][i] = g.pairs[i].death;
      TS_CHECK(g.pairs[i].death == deaths[0][i]);
    }
    TS_CHECK(c == counts[0]);
    ts_diagram_clear(&g);
    ts_rips_dist_clear(&d);
  }
  unlink(path);
}

int main(void) {
  TS_RUN(test_clouds_vs_reference);
  TS_RUN(test_matrices_vs_reference);
  TS_RUN(test_graphs_vs_reference);
  TS_RUN(test_apis_agree);
  TS_RUN(test_threads_large);
  TS_RUN(test_known_shapes);
  TS_RUN(test_phdim);
  TS_RUN(test_bad_input);
  TS_RUN(test_formats_agree);
  return ts_test_finish();
}
