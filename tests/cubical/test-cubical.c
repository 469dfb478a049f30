/* test-cubical.c — the cubical engine against a plain Z/2 boundary-matrix
 * reduction on thousands of small random grids (1D..4D, both
 * constructions, ties and constant regions, thresholds, superlevel sets),
 * plus Euler characteristic and duality identities on larger grids, the
 * batch API, and malformed input. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/pool.h"
#include "base/rng.h"
#include "ph/cubical.h"
#include "ts-test.h"

/* ---- the reference: every cell, sorted, boundary matrix reduced ---- */

typedef struct RefCell {
  double v;
  int dim;
  size_t idx;
} RefCell;

static int cmp_refcell(const void *a, const void *b) {
  const RefCell *x = a, *y = b;
  if (x->v != y->v) return x->v < y->v ? -1 : 1;
  if (x->dim != y->dim) return x->dim - y->dim;
  return (x->idx > y->idx) - (x->idx < y->idx);
}

typedef struct Trip {
  int dim;
  double b, d;
} Trip;

static int cmp_trip(const void *a, const void *b) {
  const Trip *x = a, *y = b;
  if (x->dim != y->dim) return x->dim - y->dim;
  if (x->b != y->b) return x->b < y->b ? -1 : 1;
  if (x->d != y->d) return x->d < y->d ? -1 : 1;
  return 0;
}

/* Value of the cell with doubled coordinates cc (in g = +-f). */
static double ref_cell_value(const double *g, int d, const size_t *n, int T, const size_t *cc) {
  size_t lo[4], hi[4], x[4];
  for (int i = 0; i < d; i++) {
    size_t c = cc[i];
    if (!T) {
      lo[i] = c / 2;
      hi[i] = (c + 1) / 2;
    } else if (c % 2) {
      lo[i] = hi[i] = c / 2;
    } else {
      lo[i] = c ? c / 2 - 1 : 0;
      hi[i] = c / 2 < n[i] ? c / 2 : c / 2 - 1;
    }
    x[i] = lo[i];
  }
  double best = T ? INFINITY : -INFINITY;
  for (;;) {
    size_t p = 0;
    for (int i = 0; i < d; i++) p = p * n[i] + x[i];
    if (T ? g[p] < best : g[p] > best) best = g[p];
    int i = d - 1;
    while (i >= 0 && x[i] == hi[i]) {
      x[i] = lo[i];
      i--;
    }
    if (i < 0) break;
    x[i]++;
  }
  return best;
}

/* Persistence (sublevel of g, cells with value > thr absent) by reduction. */
static size_t ref_ph(const double *g, int d, const size_t *n, int T, double thr, int maxdim, Trip *out) {
  size_t m[4], nc = 1;
  for (int i = 0; i < d; i++) {
    m[i] = T ? 2 * n[i] + 1 : 2 * n[i] - 1;
    nc *= m[i];
  }
  RefCell *cells = malloc(nc * sizeof *cells);
  size_t kept = 0;
  for (size_t c = 0; c < nc; c++) {
    size_t cc[4], r = c;
    int dim = 0;
    for (int i = d - 1; i >= 0; i--) {
      cc[i] = r % m[i];
      r /= m[i];
      dim += (int)(cc[i] % 2);
    }
    double v = ref_cell_value(g, d, n, T, cc);
    if (v > thr) continue;
    cells[kept++] = (RefCell){v, dim, c};
  }
  qsort(cells, kept, sizeof *cells, cmp_refcell);
  size_t *pos = malloc(nc * sizeof *pos);
  for (size_t i = 0; i < nc; i++) pos[i] = SIZE_MAX;
  for (size_t i = 0; i < kept; i++) pos[cells[i].idx] = i;
  /* columns: sorted arrays of row positions */
  size_t **col = calloc(kept, sizeof *col), *len = calloc(kept, sizeof *len);
  for (size_t j = 0; j < kept; j++) {
    size_t cc[4], r = cells[j].idx;
    for (int i = d - 1; i >= 0; i--) {
      cc[i] = r % m[i];
      r /= m[i];
    }
    col[j] = malloc(2 * 4 * sizeof(size_t));
    size_t stride = 1;
    for (int i = d - 1; i >= 0; i--) {
      if (cc[i] % 2) {
        col[j][len[j]++] = pos[cells[j].idx - stride];
        col[j][len[j]++] = pos[cells[j].idx + stride];
      }
      stride *= m[i];
    }
    for (size_t a = 1; a < len[j]; a++) /* insertion sort */
      for (size_t b = a; b > 0 && col[j][b - 1] > col[j][b]; b--) {
        size_t t = col[j][b];
        col[j][b] = col[j][b - 1];
        col[j][b - 1] = t;
      }
  }
  size_t *low_owner = malloc(kept * sizeof *low_owner);
  for (size_t i = 0; i < kept; i++) low_owner[i] = SIZE_MAX;
  char *paired = calloc(kept, 1);
  size_t np = 0;
  for (size_t j = 0; j < kept; j++) {
    while (len[j]) {
      size_t low = col[j][len[j] - 1], o = low_owner[low];
      if (o == SIZE_MAX) break;
      /* col[j] ^= col[o] */
      size_t *z = malloc((len[j] + len[o]) * sizeof *z), nz = 0, a = 0, b = 0;
      while (a < len[j] || b < len[o]) {
        if (b == len[o] || (a < len[j] && col[j][a] < col[o][b])) z[nz++] = col[j][a++];
        else if (a == len[j] || col[o][b] < col[j][a]) z[nz++] = col[o][b++];
        else a++, b++;
      }
      free(col[j]);
      col[j] = z;
      len[j] = nz;
    }
    if (len[j]) {
      size_t low = col[j][len[j] - 1];
      low_owner[low] = j;
      paired[low] = paired[j] = 1;
      if (cells[low].v != cells[j].v && cells[low].dim <= maxdim)
        out[np++] = (Trip){cells[low].dim, cells[low].v, cells[j].v};
    }
  }
  for (size_t j = 0; j < kept; j++)
    if (!paired[j] && cells[j].dim <= maxdim) out[np++] = (Trip){cells[j].dim, cells[j].v, INFINITY};
  for (size_t j = 0; j < kept; j++) free(col[j]);
  free(col);
  free(len);
  free(low_owner);
  free(paired);
  free(pos);
  free(cells);
  return np;
}

/* ---- comparisons ---- */

static size_t grid_count(int d, const size_t *n) {
  size_t c = 1;
  for (int i = 0; i < d; i++) c *= n[i];
  return c;
}

static double value_at(const double *f, int d, const size_t *n, const int32_t *at) {
  size_t p = 0;
  for (int i = 0; i < d; i++) p = p * n[i] + (size_t)at[i];
  return f[p];
}

static int coords_ok(const TsPair *p, int d, const size_t *n) {
  for (int i = 0; i < 4; i++) {
    if (i >= d) {
      if (p->birth_at[i] != -1 || p->death_at[i] != -1) return 0;
      continue;
    }
    if (p->birth_at[i] < 0 || (size_t)p->birth_at[i] >= n[i]) return 0;
    if (isinf(p->death)) {
      if (p->death_at[i] != -1) return 0;
    } else if (p->death_at[i] < 0 || (size_t)p->death_at[i] >= n[i]) return 0;
  }
  return 1;
}

static int g_failures_shown;

static void show_grid(const double *f, int d, const size_t *n) {
  fprintf(stderr, "  grid %dD", d);
  for (int i = 0; i < d; i++) fprintf(stderr, " %zu", n[i]);
  fprintf(stderr, ":");
  for (size_t i = 0; i < grid_count(d, n) && i < 100; i++) fprintf(stderr, " %g", f[i]);
  fprintf(stderr, "\n");
}

/* One grid, one option set: engine vs reference, and locations. */
static void check_against_reference(const double *f, int d, const size_t *n, TsConstruction cons, int super,
                                    double thr) {
  size_t N = grid_count(d, n);
  double *g = malloc(N * sizeof *g);
  for (size_t i = 0; i < N; i++) g[i] = super ? -f[i] : f[i];
  size_t m = 1;
  for (int i = 0; i < d; i++) m *= 2 * n[i] + 1;
  Trip *want = malloc(m * sizeof *want);
  double gthr = isinf(thr) ? INFINITY : (super ? -thr : thr);
  size_t nw = ref_ph(g, d, n, cons == TS_CONSTRUCTION_T, gthr, d - 1, want);

  TsCubicalOptions o;
  ts_cubical_options_default(&o);
  o.construction = cons;
  o.superlevel = super;
  o.threshold = thr;
  TsDiagram dg;
  ts_diagram_init(&dg);
  TsError err;
  TsStatus st = ts_cubical_ph(f, d, n, &o, &dg, &err);
  TS_CHECKF(st == TS_OK, "%s", err.message);
  Trip *got = malloc((dg.n + 1) * sizeof *got);
  int loc_ok = 1;
  for (size_t i = 0; i < dg.n; i++) {
    const TsPair *p = &dg.pairs[i];
    got[i] = (Trip){p->dim, super ? -p->birth : p->birth, super ? -p->death : p->death};
    if (!coords_ok(p, d, n) || value_at(f, d, n, p->birth_at) != p->birth ||
        (!isinf(p->death) && value_at(f, d, n, p->death_at) != p->death))
      loc_ok = 0;
  }
  qsort(want, nw, sizeof *want, cmp_trip);
  qsort(got, dg.n, sizeof *got, cmp_trip);
  int same = nw == dg.n;
  for (size_t i = 0; same && i < nw; i++) same = cmp_trip(&want[i], &got[i]) == 0;
  TS_CHECKF(same, "%s %s thr=%g: %zu pairs, reference %zu", cons ? "T" : "V", super ? "super" : "sub", thr, dg.n,
            nw);
  TS_CHECKF(loc_ok, "locations do not reproduce the values (%s)", cons ? "T" : "V");
  if ((!same || !loc_ok) && g_failures_shown++ < 5) {
    show_grid(f, d, n);
    for (size_t i = 0; i < nw; i++) fprintf(stderr, "  want %d %g %g\n", want[i].dim, want[i].b, want[i].d);
    for (size_t i = 0; i < dg.n; i++) fprintf(stderr, "  got  %d %g %g\n", got[i].dim, got[i].b, got[i].d);
  }
  free(got);
  free(want);
  free(g);
  ts_diagram_clear(&dg);
}

static void random_grid(TsRng *r, int d, size_t maxside, size_t *n, double **f) {
  for (int i = 0; i < d; i++) n[i] = 1 + ts_rng_below(r, maxside);
  size_t N = grid_count(d, n);
  *f = malloc(N * sizeof **f);
  int levels = 1 + (int)ts_rng_below(r, 6);
  int kind = (int)ts_rng_below(r, 4);
  for (size_t i = 0; i < N; i++) {
    if (kind == 0) (*f)[i] = ts_rng_uniform(r); /* distinct reals */
    else if (kind == 1) (*f)[i] = (double)ts_rng_below(r, 3 * N + 1); /* mostly distinct integers */
    else (*f)[i] = (double)ts_rng_below(r, (uint64_t)levels) - 2; /* heavy ties, constant regions */
  }
}

static void run_random(int d, size_t maxside, int count, uint64_t seed) {
  TsRng r;
  ts_rng_init(&r, seed, 0);
  for (int t = 0; t < count; t++) {
    size_t n[4];
    double *f;
    random_grid(&r, d, maxside, n, &f);
    int super = ts_rng_below(&r, 4) == 0;
    double thr = INFINITY;
    if (ts_rng_below(&r, 4) == 0) thr = f[ts_rng_below(&r, grid_count(d, n))];
    check_against_reference(f, d, n, TS_CONSTRUCTION_V, super, thr);
    check_against_reference(f, d, n, TS_CONSTRUCTION_T, super, thr);
    free(f);
  }
}

static void test_random_1d(void) { run_random(1, 14, 400, 1); }
static void test_random_2d(void) { run_random(2, 8, 1500, 2); }
static void test_random_3d(void) { run_random(3, 4, 500, 3); }
static void test_random_4d(void) { run_random(4, 3, 60, 4); }

/* Larger volumes, so that the cohomology keeps and reuses long reduced
 * columns (hundreds of cofaces: the compressed store, its two-pass
 * decoding and the working column's merging of its small part into the
 * big one are all exercised; grids of side 4 never get there). */
static void run_sized(int d, size_t lo, size_t hi, int count, uint64_t seed) {
  TsRng r;
  ts_rng_init(&r, seed, 0);
  for (int t = 0; t < count; t++) {
    size_t n[4], N = 1;
    for (int i = 0; i < d; i++) {
      n[i] = lo + ts_rng_below(&r, hi - lo + 1);
      N *= n[i];
    }
    double *f = malloc(N * sizeof *f);
    int kind = t % 3;
    for (size_t i = 0; i < N; i++)
      f[i] = kind == 0 ? ts_rng_uniform(&r) : kind == 1 ? (double)ts_rng_below(&r, 3 * N) : (double)ts_rng_below(&r, 5);
    int super = t % 4 == 3;
    double thr = t % 5 == 4 ? f[ts_rng_below(&r, N)] : INFINITY;
    check_against_reference(f, d, n, TS_CONSTRUCTION_V, super, thr);
    check_against_reference(f, d, n, TS_CONSTRUCTION_T, super, thr);
    free(f);
  }
}

/* Images wide enough for the 2D sweeps' eight-pixel raster loops, with the
 * widths that leave every tail length (and, under TOPOSCOPE_NO_AVX2, the
 * scalar loop alone). */
static void test_larger_2d(void) { run_sized(2, 8, 27, 60, 21); }
static void test_larger_3d(void) { run_sized(3, 13, 16, 6, 31); }
static void test_larger_4d(void) { run_sized(4, 5, 6, 4, 41); }

/* Betti numbers from the diagram at every value match the Euler
 * characteristic of the sublevel complex (counted cell by cell). */
static void euler_check(const double *f, int d, const size_t *n, TsConstruction cons) {
  TsCubicalOptions o;
  ts_cubical_options_default(&o);
  o.construction = cons;
  TsDiagram dg;
  ts_diagram_init(&dg);
  TsError err;
  TS_CHECKF(ts_cubical_ph(f, d, n, &o, &dg, &err) == TS_OK, "%s", err.message);
  size_t N = grid_count(d, n), m[4], nc = 1;
  for (int i = 0; i < d; i++) {
    m[i] = cons == TS_CONSTRUCTION_T ? 2 * n[i] + 1 : 2 * n[i] - 1;
    nc *= m[i];
  }
  /* cell values once */
  double *cv = malloc(nc * sizeof *cv);
  int *cd = malloc(nc * sizeof *cd);
  for (size_t c = 0; c < nc; c++) {
    size_t cc[4], r = c;
    cd[c] = 0;
    for (int i = d - 1; i >= 0; i--) {
      cc[i] = r % m[i];
      r /= m[i];
      cd[c] += (int)(cc[i] % 2);
    }
    cv[c] = ref_cell_value(f, d, n, cons == TS_CONSTRUCTION_T, cc);
  }
  int bad = 0;
  for (size_t s = 0; s < N; s += 1 + N / 40) {
    double t = f[s];
    long chi = 0, betti = 0;
    for (size_t c = 0; c < nc; c++)
      if (cv[c] <= t) chi += cd[c] % 2 ? -1 : 1;
    for (size_t i = 0; i < dg.n; i++) {
      const TsPair *p = &dg.pairs[i];
      if (p->birth <= t && t < p->death) betti += p->dim % 2 ? -1 : 1;
    }
    bad += chi != betti;
  }
  TS_CHECKF(bad == 0, "%dD %s: Euler characteristic differs at %d levels", d, cons ? "T" : "V", bad);
  free(cv);
  free(cd);
  ts_diagram_clear(&dg);
}

static void test_euler(void) {
  TsRng r;
  ts_rng_init(&r, 5, 0);
  size_t shapes[][4] = {{60, 70}, {1, 50}, {13, 11, 9}, {5, 6, 4, 5}, {500}};
  int dims[] = {2, 2, 3, 4, 1};
  for (int s = 0; s < 5; s++) {
    for (int rep = 0; rep < 3; rep++) {
      size_t N = grid_count(dims[s], shapes[s]);
      double *f = malloc(N * sizeof *f);
      for (size_t i = 0; i < N; i++) f[i] = rep == 0 ? ts_rng_uniform(&r) : (double)ts_rng_below(&r, 4 * rep);
      euler_check(f, dims[s], shapes[s], TS_CONSTRUCTION_V);
      euler_check(f, dims[s], shapes[s], TS_CONSTRUCTION_T);
      free(f);
    }
  }
}

/* Duality (Alexander, in the d-sphere): the pairs of construction X of f in
 * dimension k are those of the other construction of -f, framed by a value
 * m below everything, in dimension d-1-k, with (b, d) -> (-d, -b); X's
 * essential H0 class (b, inf) becomes (m, -b), and the frame adds (m, inf). */
static void duality_check(const double *f, int d, const size_t *n, TsConstruction cons) {
  size_t N = grid_count(d, n), pn[4];
  for (int i = 0; i < d; i++) pn[i] = n[i] + 2;
  size_t PN = grid_count(d, pn);
  double mn = INFINITY;
  for (size_t i = 0; i < N; i++) mn = fmin(mn, -f[i]);
  double fr = mn - 1;
  double *pf = malloc(PN * sizeof *pf);
  for (size_t q = 0; q < PN; q++) {
    size_t r = q, p = 0, inside = 1, x[4];
    for (int i = d - 1; i >= 0; i--) {
      x[i] = r % pn[i];
      r /= pn[i];
      if (x[i] == 0 || x[i] == pn[i] - 1) inside = 0;
    }
    if (inside)
      for (int i = 0; i < d; i++) p = p * n[i] + x[i] - 1;
    pf[q] = inside ? -f[p] : fr;
  }
  TsCubicalOptions o;
  ts_cubical_options_default(&o);
  o.construction = cons;
  TsDiagram a, b;
  ts_diagram_init(&a);
  ts_diagram_init(&b);
  TsError err;
  TS_CHECK(ts_cubical_ph(f, d, n, &o, &a, &err) == TS_OK);
  o.construction = cons == TS_CONSTRUCTION_V ? TS_CONSTRUCTION_T : TS_CONSTRUCTION_V;
  TS_CHECK(ts_cubical_ph(pf, d, pn, &o, &b, &err) == TS_OK);
  Trip *x = malloc((a.n + 1) * sizeof *x), *y = malloc((b.n + 1) * sizeof *y);
  size_t nx = 0, ny = 0;
  for (size_t i = 0; i < a.n; i++) {
    const TsPair *p = &a.pairs[i];
    if (isinf(p->death)) x[nx++] = (Trip){d - 1, fr, -p->birth};
    else x[nx++] = (Trip){d - 1 - p->dim, -p->death, -p->birth};
  }
  x[nx++] = (Trip){0, fr, INFINITY};
  for (size_t i = 0; i < b.n; i++) y[ny++] = (Trip){b.pairs[i].dim, b.pairs[i].birth, b.pairs[i].death};
  qsort(x, nx, sizeof *x, cmp_trip);
  qsort(y, ny, sizeof *y, cmp_trip);
  int same = nx == ny;
  for (size_t i = 0; same && i < nx; i++) same = cmp_trip(&x[i], &y[i]) == 0;
  TS_CHECKF(same, "duality %dD %s: %zu vs %zu pairs", d, cons ? "T" : "V", nx, ny);
  if (!same && g_failures_shown++ < 3) {
    show_grid(f, d, n);
    for (size_t i = 0; i < nx; i++) fprintf(stderr, "  X %d %g %g\n", x[i].dim, x[i].b, x[i].d);
    for (size_t i = 0; i < ny; i++) fprintf(stderr, "  Y %d %g %g\n", y[i].dim, y[i].b, y[i].d);
  }
  free(x);
  free(y);
  free(pf);
  ts_diagram_clear(&a);
  ts_diagram_clear(&b);
}

static void test_duality(void) {
  TsRng r;
  ts_rng_init(&r, 6, 0);
  for (int t = 0; t < 300; t++) {
    int d = 1 + (int)ts_rng_below(&r, 3);
    size_t n[4];
    double *f;
    random_grid(&r, d, d == 1 ? 20 : d == 2 ? 12 : 5, n, &f);
    duality_check(f, d, n, TS_CONSTRUCTION_V);
    duality_check(f, d, n, TS_CONSTRUCTION_T);
    free(f);
  }
}

static void test_batch(void) {
  enum { COUNT = 40 };
  size_t n[2] = {17, 23}, N = 17 * 23;
  double *f[COUNT];
  TsRng r;
  ts_rng_init(&r, 7, 0);
  for (int i = 0; i < COUNT; i++) {
    f[i] = malloc(N * sizeof(double));
    for (size_t j = 0; j < N; j++) f[i][j] = (double)ts_rng_below(&r, 50);
  }
  TsError err;
  TsPool *pool = ts_pool_new(3, &err);
  TS_CHECK(pool != NULL);
  TsDiagram outs[COUNT];
  for (int i = 0; i < COUNT; i++) ts_diagram_init(&outs[i]);
  TS_CHECKF(ts_cubical_ph_batch((const double *const *)f, COUNT, 2, n, NULL, outs, pool, &err) == TS_OK, "%s",
            err.message);
  int same = 1;
  for (int i = 0; i < COUNT; i++) {
    TsDiagram one;
    ts_diagram_init(&one);
    TS_CHECK(ts_cubical_ph(f[i], 2, n, NULL, &one, &err) == TS_OK);
    same &= one.n == outs[i].n && memcmp(one.pairs, outs[i].pairs, one.n * sizeof(TsPair)) == 0;
    ts_diagram_clear(&one);
  }
  TS_CHECK(same);
  /* a NaN in grid 7 is reported with its index */
  f[7][5] = NAN;
  TS_CHECK(ts_cubical_ph_batch((const double *const *)f, COUNT, 2, n, NULL, outs, pool, &err) == TS_ERR_INVALID);
  TS_CHECKF(strstr(err.message, "grid 7") && strstr(err.message, "NaN"), "%s", err.message);
  for (int i = 0; i < COUNT; i++) {
    ts_diagram_clear(&outs[i]);
    free(f[i]);
  }
  ts_pool_free(pool);
}

static void test_malformed(void) {
  TsDiagram dg;
  ts_diagram_init(&dg);
  TsError err;
  double v[6] = {1, 2, NAN, 4, 5, 6};
  size_t n2[2] = {2, 3};
  TS_CHECK(ts_cubical_ph(v, 2, n2, NULL, &dg, &err) == TS_ERR_INVALID);
  TS_CHECKF(strstr(err.message, "(0, 2) is NaN") != NULL, "%s", err.message);
  v[2] = 3;
  size_t n0[2] = {0, 3};
  TS_CHECK(ts_cubical_ph(v, 2, n0, NULL, &dg, &err) == TS_ERR_INVALID);
  TS_CHECKF(strstr(err.message, "empty") != NULL, "%s", err.message);
  size_t n5[5] = {1, 1, 2, 3, 1};
  TS_CHECK(ts_cubical_ph(v, 5, n5, NULL, &dg, &err) == TS_ERR_UNSUPPORTED);
  TS_CHECKF(strstr(err.message, "5-dimensional") != NULL, "%s", err.message);
  TS_CHECK(ts_cubical_ph(v, 0, n5, NULL, &dg, &err) == TS_ERR_UNSUPPORTED);
  TsCubicalOptions o;
  ts_cubical_options_default(&o);
  o.min_persistence = -1;
  TS_CHECK(ts_cubical_ph(v, 2, n2, &o, &dg, &err) == TS_ERR_INVALID);
  /* a 1x1 image: one essential class at its value, located at (0, 0) */
  double one = 7;
  size_t n1[2] = {1, 1};
  for (int c = 0; c < 2; c++) {
    ts_cubical_options_default(&o);
    o.construction = c ? TS_CONSTRUCTION_T : TS_CONSTRUCTION_V;
    TS_CHECK(ts_cubical_ph(&one, 2, n1, &o, &dg, &err) == TS_OK);
    TS_CHECK(dg.n == 1 && dg.pairs[0].dim == 0 && dg.pairs[0].birth == 7 && isinf(dg.pairs[0].death));
    TS_CHECK(dg.n == 1 && dg.pairs[0].birth_at[0] == 0 && dg.pairs[0].birth_at[1] == 0 &&
             dg.pairs[0].birth_at[2] == -1 && dg.pairs[0].death_at[0] == -1);
  }
  /* infinite values are fine: 0 joins the rest only at +inf */
  double w[5] = {0, INFINITY, 1, -INFINITY, 2};
  size_t n1d[1] = {5};
  TS_CHECK(ts_cubical_ph(w, 1, n1d, NULL, &dg, &err) == TS_OK);
  TS_CHECK(dg.n == 2 && ts_diagram_count_essential(&dg, 0) == 2);
  ts_diagram_clear(&dg);
}

static void test_options(void) {
  /* two basins: 0 and 1 separated by a wall of 5, a hole in 2D */
  double f[25] = {0, 0, 5, 1, 1, 0, 0, 5, 1, 1, 5, 5, 5, 5, 5, 2, 2, 9, 3, 3, 2, 9, 9, 9, 3};
  size_t n[2] = {5, 5};
  TsCubicalOptions o;
  ts_cubical_options_default(&o);
  TsDiagram dg;
  ts_diagram_init(&dg);
  TsError err;
  TS_CHECK(ts_cubical_ph(f, 2, n, &o, &dg, &err) == TS_OK);
  size_t all = dg.n;
  TS_CHECK(ts_diagram_count(&dg, 0) == 4 && ts_diagram_count_essential(&dg, 0) == 1);
  o.min_persistence = 2.5; /* keeps (0, inf), (1, 5), (2, 5); drops (3, 5) */
  TS_CHECK(ts_cubical_ph(f, 2, n, &o, &dg, &err) == TS_OK);
  TS_CHECK(dg.n < all && ts_diagram_count(&dg, 0) == 3);
  o.min_persistence = 0;
  o.maxdim = 0;
  TS_CHECK(ts_cubical_ph(f, 2, n, &o, &dg, &err) == TS_OK);
  TS_CHECK(ts_diagram_count(&dg, 1) == 0 && dg.maxdim == 0);
  o.maxdim = -1;
  o.threshold = 4; /* the wall is absent: four essential components */
  TS_CHECK(ts_cubical_ph(f, 2, n, &o, &dg, &err) == TS_OK);
  TS_CHECK(ts_diagram_count_essential(&dg, 0) == 4 && ts_diagram_count(&dg, 0) == 4);
  ts_diagram_clear(&dg);
}

/* A 2D grid's two sweeps on a pool's threads give the serial diagram,
 * byte for byte, in both constructions, with thresholds and superlevel sets. */
static void test_pool_2d(void) {
  TsError err;
  TsPool *pool = ts_pool_new(3, &err);
  TS_CHECK(pool != NULL);
  TsRng r;
  ts_rng_init(&r, 11, 0);
  for (int it = 0; it < 60; it++) {
    size_t n[2] = {1 + ts_rng_below(&r, 40), 1 + ts_rng_below(&r, 40)}, N = n[0] * n[1];
    double *f = malloc(N * sizeof *f);
    int ties = it % 2;
    for (size_t j = 0; j < N; j++) f[j] = ties ? (double)ts_rng_below(&r, 6) : ts_rng_uniform(&r);
    TsCubicalOptions o;
    ts_cubical_options_default(&o);
    o.construction = it % 4 < 2 ? TS_CONSTRUCTION_V : TS_CONSTRUCTION_T;
    o.superlevel = it % 3 == 0;
    if (it % 5 == 0) o.threshold = ties ? 3 : 0.5;
    if (o.superlevel && it % 5 == 0) o.threshold = ties ? 2 : 0.5;
    TsDiagram a, b;
    ts_diagram_init(&a);
    ts_diagram_init(&b);
    TS_CHECKF(ts_cubical_ph(f, 2, n, &o, &a, &err) == TS_OK, "%s", err.message);
    o.pool = pool;
    TS_CHECKF(ts_cubical_ph(f, 2, n, &o, &b, &err) == TS_OK, "%s", err.message);
    TS_CHECKF(a.n == b.n && memcmp(a.pairs, b.pairs, a.n * sizeof(TsPair)) == 0, "grid %zux%zu, case %d", n[0], n[1],
              it);
    /* H0 first, then H1, whichever sweep finished first */
    for (size_t k = 1; k < b.n; k++)
      TS_CHECKF(b.pairs[k - 1].dim <= b.pairs[k].dim, "grid %zux%zu, case %d: H%d after H%d", n[0], n[1], it,
                b.pairs[k].dim, b.pairs[k - 1].dim);
    ts_diagram_clear(&a);
    ts_diagram_clear(&b);
    free(f);
  }
  ts_pool_free(pool);
}

/* A cancel flag: set before the call, every construction and dimension
 * stops with TS_ERR_CANCELLED and no pairs; left clear, nothing changes; set
 * from another thread during a large 2D run on two threads, the run stops
 * cleanly (the sanitizers watch for leaks). */
static volatile int g_cancel_flag;

static void *cancel_later(void *arg) {
  (void)arg;
  struct timespec ts = {0, 20 * 1000 * 1000};
  nanosleep(&ts, NULL);
  g_cancel_flag = 1;
  return NULL;
}

static void test_cancel(void) {
  TsError err;
  TsRng r;
  ts_rng_init(&r, 21, 0);
  size_t n2[2] = {300, 301}, n3[3] = {20, 21, 22};
  double *f = malloc(300 * 301 * sizeof *f);
  for (size_t i = 0; i < 300 * 301; i++) f[i] = ts_rng_uniform(&r);
  TsPool *pool = ts_pool_new(2, &err);
  for (int c = 0; c < 8; c++) {
    TsCubicalOptions o;
    ts_cubical_options_default(&o);
    o.construction = c & 1 ? TS_CONSTRUCTION_T : TS_CONSTRUCTION_V;
    o.pool = c & 2 ? pool : NULL;
    int three = c >= 4;
    TsDiagram d;
    ts_diagram_init(&d);
    g_cancel_flag = 0;
    o.cancel = &g_cancel_flag;
    TS_CHECK(ts_cubical_ph(f, three ? 3 : 2, three ? n3 : n2, &o, &d, &err) == TS_OK && d.n > 0);
    g_cancel_flag = 1;
    TsStatus st = ts_cubical_ph(f, three ? 3 : 2, three ? n3 : n2, &o, &d, &err);
    TS_CHECKF(st == TS_ERR_CANCELLED && d.n == 0 && strstr(err.message, "cancelled"), "case %d: %s", c,
              err.message);
    ts_diagram_clear(&d);
  }
  /* from another thread, mid-run */
  size_t big[2] = {1500, 1500};
  double *g = malloc(big[0] * big[1] * sizeof *g);
  for (size_t i = 0; i < big[0] * big[1]; i++) g[i] = ts_rng_uniform(&r);
  TsCubicalOptions o;
  ts_cubical_options_default(&o);
  o.pool = pool;
  o.cancel = &g_cancel_flag;
  g_cancel_flag = 0;
  pthread_t th;
  TS_CHECK(pthread_create(&th, NULL, cancel_later, NULL) == 0);
  TsDiagram d;
  ts_diagram_init(&d);
  TsStatus st = ts_cubical_ph(g, 2, big, &o, &d, &err);
  pthread_join(th, NULL);
  TS_CHECK((st == TS_ERR_CANCELLED && d.n == 0) || st == TS_OK);
  ts_diagram_clear(&d);
  free(g);
  free(f);
  ts_pool_free(pool);
}

int main(void) {
  TS_RUN(test_malformed);
  TS_RUN(test_options);
  TS_RUN(test_random_1d);
  TS_RUN(test_random_2d);
  TS_RUN(test_random_3d);
  TS_RUN(test_random_4d);
  TS_RUN(test_larger_2d);
  TS_RUN(test_larger_3d);
  TS_RUN(test_larger_4d);
  TS_RUN(test_euler);
  TS_RUN(test_duality);
  TS_RUN(test_batch);
  TS_RUN(test_pool_2d);
  TS_RUN(test_cancel);
  return ts_test_finish();
}
