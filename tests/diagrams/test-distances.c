/* test-distances.c — bottleneck and Wasserstein against slow references:
 * brute force over every assignment of the diagonal-augmented problem for
 * tiny diagrams, and a plain sorted-candidates + Kuhn matching bottleneck
 * for larger ones; auction against Hungarian within its stated error. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "ph/bottleneck.h"
#include "ph/wasserstein.h"
#include "ts-test.h"

static uint64_t state = 12345;
static double urand(void) {
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(state >> 11) / 9007199254740992.0;
}

/* random diagram in dim 0; integer coordinates when grid > 0 (ties, multiplicity) */
static void random_diagram(TsDiagram *d, int n, int grid) {
  ts_diagram_init(d);
  for (int i = 0; i < n; i++) {
    double b, l;
    if (grid) {
      b = floor(urand() * grid);
      l = floor(urand() * grid);
    } else {
      b = urand() * 10;
      l = urand() * 5;
    }
    ts_diagram_add(d, 0, b, b + l, NULL);
  }
}

/* reduced cost matrix (finite points only, dim 0), INFINITY = forbidden */
static double *reduced(const TsDiagram *a, const TsDiagram *b, int l2, size_t *N) {
  size_t na = a->n, nb = b->n, n = na + nb;
  double *c = malloc(sizeof(double) * (n * n + 1));
  for (size_t u = 0; u < n; u++)
    for (size_t v = 0; v < n; v++) {
      double x;
      if (u < na && v < nb) {
        double dx = fabs(a->pairs[u].birth - b->pairs[v].birth), dy = fabs(a->pairs[u].death - b->pairs[v].death);
        x = l2 ? hypot(dx, dy) : fmax(dx, dy);
      } else if (u < na) {
        x = v - nb == u ? (a->pairs[u].death - a->pairs[u].birth) / (l2 ? M_SQRT2 : 2) : INFINITY;
      } else if (v < nb) {
        x = v == u - na ? (b->pairs[v].death - b->pairs[v].birth) / (l2 ? M_SQRT2 : 2) : INFINITY;
      } else {
        x = 0;
      }
      c[u * n + v] = x;
    }
  *N = n;
  return c;
}

static void brute(const double *c, size_t n, int *perm, size_t k, double p, double *best_b, double *best_w) {
  if (k == n) {
    double mb = 0, s = 0;
    for (size_t u = 0; u < n; u++) {
      double x = c[u * n + (size_t)perm[u]];
      if (isinf(x)) return;
      mb = fmax(mb, x);
      s += pow(x, p);
    }
    *best_b = fmin(*best_b, mb);
    *best_w = fmin(*best_w, s);
    return;
  }
  for (size_t i = k; i < n; i++) {
    int t = perm[k];
    perm[k] = perm[i];
    perm[i] = t;
    brute(c, n, perm, k + 1, p, best_b, best_w);
    perm[i] = perm[k];
    perm[k] = t;
  }
}

static void check_matching(const TsDiagram *a, const TsDiagram *b, const TsMatching *m, double dist, int bottleneck,
                           double p) {
  /* every pair appears once; the reported costs give the distance */
  int *seen_a = calloc(a->n + 1, sizeof(int)), *seen_b = calloc(b->n + 1, sizeof(int));
  double mx = 0, s = 0;
  for (size_t i = 0; i < m->n; i++) {
    const TsMatchEdge *e = &m->edges[i];
    if (e->a >= 0) seen_a[e->a]++;
    if (e->b >= 0) seen_b[e->b]++;
    mx = fmax(mx, e->cost);
    s += pow(e->cost, p);
  }
  int ok = 1;
  for (size_t i = 0; i < a->n; i++) ok &= seen_a[i] == 1;
  for (size_t i = 0; i < b->n; i++) ok &= seen_b[i] == 1;
  TS_CHECK(ok);
  if (bottleneck) TS_CHECK_CLOSE(mx, dist, 1e-12);
  else TS_CHECK_CLOSE(pow(s, 1 / p), dist, 1e-9);
  free(seen_a);
  free(seen_b);
}

static void test_tiny_vs_brute_force(void) {
  for (int trial = 0; trial < 300; trial++) {
    TsDiagram a, b;
    int grid = trial % 3 == 0 ? 4 : 0;
    random_diagram(&a, (int)(urand() * 4.999), grid);
    random_diagram(&b, (int)(urand() * 4.999), grid);
    size_t n;
    double *c = reduced(&a, &b, trial % 2, &n);
    int perm[16];
    for (size_t i = 0; i < n; i++) perm[i] = (int)i;
    double bb = n ? INFINITY : 0, bw = n ? INFINITY : 0, p = trial % 4 == 1 ? 1 : 2;
    brute(c, n, perm, 0, p, &bb, &bw);
    TsMatching m;
    double d;
    TsError err;
    if (trial % 2 == 0) {
      TS_CHECK(ts_bottleneck_distance(&a, &b, 0, &d, &m, &err) == TS_OK);
      TS_CHECKF(d == bb, "trial %d: bottleneck %.17g, brute force %.17g", trial, d, bb);
      check_matching(&a, &b, &m, d, 1, 1);
      ts_matching_clear(&m);
    }
    TsWassersteinOptions o;
    ts_wasserstein_options_default(&o);
    o.p = p;
    o.ground = trial % 2 ? TS_GROUND_L2 : TS_GROUND_LINF;
    TS_CHECK(ts_wasserstein_distance(&a, &b, 0, &o, &d, &m, &err) == TS_OK);
    TS_CHECK_CLOSE(d, pow(bw, 1 / p), 1e-9);
    check_matching(&a, &b, &m, d, 0, p);
    ts_matching_clear(&m);
    free(c);
    ts_diagram_clear(&a);
    ts_diagram_clear(&b);
  }
}

/* plain reference: every candidate value sorted, Kuhn's matching on the
 * full reduced matrix at each probe of a binary search. */
static int kuhn_try(const double *c, size_t n, double r, size_t u, int *mr, char *vis) {
  for (size_t v = 0; v < n; v++) {
    if (vis[v] || !(c[u * n + v] <= r)) continue;
    vis[v] = 1;
    if (mr[v] < 0 || kuhn_try(c, n, r, (size_t)mr[v], mr, vis)) {
      mr[v] = (int)u;
      return 1;
    }
  }
  return 0;
}

static int perfect(const double *c, size_t n, double r) {
  int *mr = malloc(n * sizeof(int));
  char *vis = malloc(n);
  for (size_t v = 0; v < n; v++) mr[v] = -1;
  size_t got = 0;
  for (size_t u = 0; u < n; u++) {
    memset(vis, 0, n);
    got += (size_t)kuhn_try(c, n, r, u, mr, vis);
  }
  free(mr);
  free(vis);
  return got == n;
}

static int cmp_d(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

static double reference_bottleneck(const TsDiagram *a, const TsDiagram *b) {
  size_t n;
  double *c = reduced(a, b, 0, &n);
  double *cand = malloc(sizeof(double) * (n * n + 1));
  size_t k = 0;
  for (size_t i = 0; i < n * n; i++)
    if (isfinite(c[i])) cand[k++] = c[i];
  qsort(cand, k, sizeof *cand, cmp_d);
  size_t lo = 0, hi = k - 1;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (perfect(c, n, cand[mid])) hi = mid;
    else lo = mid + 1;
  }
  double r = cand[lo];
  free(c);
  free(cand);
  return r;
}

static void test_medium_vs_reference(void) {
  for (int trial = 0; trial < 12; trial++) {
    TsDiagram a, b;
    random_diagram(&a, 20 + trial * 3, trial % 3 == 0 ? 6 : 0);
    random_diagram(&b, 25 + trial * 2, trial % 3 == 0 ? 6 : 0);
    double d, ref = reference_bottleneck(&a, &b);
    TsMatching m;
    TS_CHECK(ts_bottleneck_distance(&a, &b, 0, &d, &m, NULL) == TS_OK);
    TS_CHECKF(d == ref, "trial %d: %.17g vs reference %.17g", trial, d, ref);
    check_matching(&a, &b, &m, d, 1, 1);
    ts_matching_clear(&m);
    ts_diagram_clear(&a);
    ts_diagram_clear(&b);
  }
}

static void test_auction_within_error(void) {
  for (int trial = 0; trial < 6; trial++) {
    TsDiagram a, b;
    random_diagram(&a, 40 + 10 * trial, 0);
    random_diagram(&b, 50 + 5 * trial, 0);
    TsWassersteinOptions o;
    ts_wasserstein_options_default(&o);
    o.ground = trial % 2 ? TS_GROUND_L2 : TS_GROUND_LINF;
    double exact, approx;
    TS_CHECK(ts_wasserstein_distance(&a, &b, 0, &o, &exact, NULL, NULL) == TS_OK);
    o.relative_error = 0.01;
    TsMatching m;
    TS_CHECK(ts_wasserstein_distance(&a, &b, 0, &o, &approx, &m, NULL) == TS_OK);
    TS_CHECKF(approx >= exact * (1 - 1e-12) && approx * approx <= exact * exact * 1.01 * (1 + 1e-12),
              "exact %.17g auction %.17g", exact, approx);
    check_matching(&a, &b, &m, approx, 0, 2);
    ts_matching_clear(&m);
    ts_diagram_clear(&a);
    ts_diagram_clear(&b);
  }
}

static void test_essential_diagonal_multiplicity(void) {
  TsDiagram a, b;
  ts_diagram_init(&a);
  ts_diagram_init(&b);
  /* 2000 copies of one point against 2000 copies shifted by 0.25 */
  for (int i = 0; i < 2000; i++) {
    ts_diagram_add(&a, 1, 1, 3, NULL);
    ts_diagram_add(&b, 1, 1.25, 3, NULL);
  }
  /* diagonal points cost nothing */
  for (int i = 0; i < 50; i++) ts_diagram_add(&a, 1, 2, 2, NULL);
  double d;
  TsMatching m;
  TS_CHECK(ts_bottleneck_distance(&a, &b, 1, &d, &m, NULL) == TS_OK);
  TS_CHECK(d == 0.25);
  TS_CHECK(m.n == 2050);
  ts_matching_clear(&m);
  TsWassersteinOptions o;
  ts_wasserstein_options_default(&o);
  o.p = 1;
  o.relative_error = 1e-3;
  TS_CHECK(ts_wasserstein_distance(&a, &b, 1, &o, &d, NULL, NULL) == TS_OK);
  TS_CHECK_CLOSE(d, 2000 * 0.25, 1e-3);
  /* essential classes: matched by sorted births */
  ts_diagram_add(&a, 0, 0, INFINITY, NULL);
  ts_diagram_add(&a, 0, 5, INFINITY, NULL);
  ts_diagram_add(&b, 0, 4, INFINITY, NULL);
  TS_CHECK(ts_bottleneck_distance(&a, &b, 0, &d, NULL, NULL) == TS_OK);
  TS_CHECK(isinf(d));
  ts_diagram_add(&b, 0, 1, INFINITY, NULL);
  TS_CHECK(ts_bottleneck_distance(&a, &b, 0, &d, &m, NULL) == TS_OK);
  TS_CHECK(d == 1);
  TS_CHECK(m.n == 2);
  ts_matching_clear(&m);
  o.p = 2;
  o.relative_error = 0;
  TS_CHECK(ts_wasserstein_distance(&a, &b, 0, &o, &d, NULL, NULL) == TS_OK);
  TS_CHECK_CLOSE(d, sqrt(2), 1e-12);
  /* all dimensions: the largest */
  TS_CHECK(ts_bottleneck_distance(&a, &b, -1, &d, NULL, NULL) == TS_OK);
  TS_CHECK(d == 1);
  /* empty against empty, and a NaN refused */
  TsDiagram e;
  ts_diagram_init(&e);
  TS_CHECK(ts_bottleneck_distance(&e, &e, -1, &d, NULL, NULL) == TS_OK && d == 0);
  ts_diagram_add(&e, 0, NAN, 1, NULL);
  TsError err;
  TS_CHECK(ts_bottleneck_distance(&e, &b, -1, &d, NULL, &err) == TS_ERR_INVALID);
  ts_diagram_clear(&e);
  ts_diagram_clear(&a);
  ts_diagram_clear(&b);
}

int main(void) {
  TS_RUN(test_tiny_vs_brute_force);
  TS_RUN(test_medium_vs_reference);
  TS_RUN(test_auction_within_error);
  TS_RUN(test_essential_diagonal_multiplicity);
  return ts_test_finish();
}
