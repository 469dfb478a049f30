/* test-topo.c — the topological losses of core/topo against central finite
 * differences, against plain recomputations from the diagrams (the
 * bottleneck distance, the entropy and kernel formulas), and in the
 * degenerate cases the header defines (single point, coincident points,
 * empty H1 on either side, degree 0, all weights zero, push0). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "ph/bottleneck.h"
#include "ph/rips.h"
#include "topo/topoloss.h"
#include "ts-test.h"

static void random_cloud(TsRng *r, double *x, size_t n, size_t dim, double scale) {
  for (size_t k = 0; k < n * dim; k++) x[k] = scale * ts_rng_uniform(r);
}

static void to_float(const double *x, float *f, size_t n) {
  for (size_t k = 0; k < n; k++) f[k] = (float)x[k];
}

static void target_of(TsTopoDiagram *t, const double *y, size_t m, size_t dim) {
  float *f = malloc(m * dim * sizeof *f);
  to_float(y, f, m * dim);
  TsError err = {0};
  TS_CHECKF(ts_topo_diagram_of_cloud(t, f, m, dim, 1, NULL, &err) == TS_OK, "%s", err.message);
  free(f);
}

/* The pairing of X (edges) and the bottleneck choices, to tell a kink from
 * a wrong gradient in the finite differences. */
static int same_pairing(const TsTopoDiagram *a, const TsTopoResult *ra, const TsTopoDiagram *b,
                        const TsTopoResult *rb) {
  if (a->n0 != b->n0 || a->n1 != b->n1) return 0;
  if (a->n0 && memcmp(a->e0, b->e0, 2 * a->n0 * sizeof *a->e0)) return 0;
  if (a->n1 && memcmp(a->e1, b->e1, 4 * a->n1 * sizeof *a->e1)) return 0;
  return memcmp(ra->match, rb->match, sizeof ra->match) == 0;
}

static void copy_topo(TsTopoDiagram *dst, const TsTopoDiagram *src) {
  TsError err = {0};
  TS_CHECK(ts_topo_diagram_from(dst, &src->fin, &err) == TS_OK);
}

/* Central differences of the total on every coordinate; coordinates whose
 * step changes the pairing are skipped (and counted). */
static void check_fd(TsTopoWork *w, double *x, size_t n, size_t dim, const TsTopoDiagram *y, const TsTopoConfig *c,
                     const char *what, int *skipped, int *tested) {
  TsError err = {0};
  double *g = malloc(n * dim * sizeof *g);
  TsTopoResult r0, rp, rm;
  TS_CHECKF(ts_topo_loss_f64(w, x, n, dim, y, c, g, &r0, &err) == TS_OK, "%s", err.message);
  TsTopoDiagram d0, dp;
  ts_topo_diagram_init(&d0);
  ts_topo_diagram_init(&dp);
  copy_topo(&d0, ts_topo_work_diagram(w));
  double gmax = 0;
  for (size_t k = 0; k < n * dim; k++) gmax = fmax(gmax, fabs(g[k]));
  const double h = 1e-6;
  int bad = 0;
  for (size_t k = 0; k < n * dim; k++) {
    double x0 = x[k];
    x[k] = x0 + h;
    ts_topo_loss_f64(w, x, n, dim, y, c, NULL, &rp, &err);
    copy_topo(&dp, ts_topo_work_diagram(w));
    int same = same_pairing(&d0, &r0, &dp, &rp) && rp.depends == r0.depends;
    x[k] = x0 - h;
    ts_topo_loss_f64(w, x, n, dim, y, c, NULL, &rm, &err);
    same = same && same_pairing(&d0, &r0, ts_topo_work_diagram(w), &rm) && rm.depends == r0.depends;
    x[k] = x0;
    (*tested)++;
    if (!same) {
      (*skipped)++;
      continue;
    }
    double fd = (rp.total - rm.total) / (2 * h);
    if (r0.used_push0) fd = (rp.push0 - rm.push0) / (2 * h);
    if (!(fabs(fd - g[k]) <= 1e-6 * fmax(gmax, 1e-3) + 1e-9)) {
      if (bad++ < 3)
        fprintf(stderr, "%s: coordinate %zu: gradient %.12g, finite difference %.12g\n", what, k, g[k], fd);
      TS_CHECK(0);
    }
  }
  ts_topo_diagram_clear(&d0);
  ts_topo_diagram_clear(&dp);
  free(g);
}

static void test_finite_differences(void) {
  TsError err = {0};
  TsTopoWork *w = ts_topo_work_new(NULL, &err);
  TsRng r;
  ts_rng_init(&r, 14, 1);
  static const double wsets[][TS_TOPO_NLOSS] = {
      {1, 1, 0, 0, 0, 0, 0}, {15, 15, 0, 0, 0, 0, 0}, {10, 10, 10, 10, 0, 0, 0}, {0.5, 2, 1, 3, 0.7, 1.5, 4},
      {0, 0, 0, 0, 1, 1, 0}, {0, 0, 0, 0, 0, 0, 1}};
  int skipped = 0, tested = 0;
  for (int trial = 0; trial < 6; trial++) {
    size_t n = 14 + (size_t)ts_rng_below(&r, 14), m = 10 + (size_t)ts_rng_below(&r, 14);
    size_t dim = 2 + (size_t)ts_rng_below(&r, 3);
    double scale = trial % 2 ? 1.0 : 6.0;
    double *x = malloc(n * dim * sizeof *x), *y = malloc(m * dim * sizeof *y);
    random_cloud(&r, x, n, dim, scale);
    random_cloud(&r, y, m, dim, scale);
    TsTopoDiagram t;
    ts_topo_diagram_init(&t);
    target_of(&t, y, m, dim);
    char what[96];
    for (int id = 0; id < TS_TOPO_NLOSS; id++) {
      for (int deg = 0; deg <= 1; deg++) {
        TsTopoConfig c;
        ts_topo_config_init(&c);
        c.deg = deg;
        for (int k = 0; k < TS_TOPO_NLOSS; k++) c.weights[k] = k == id;
        snprintf(what, sizeof what, "trial %d %s deg %d", trial, ts_topo_loss_name(id), deg);
        check_fd(w, x, n, dim, &t, &c, what, &skipped, &tested);
      }
    }
    for (size_t s = 0; s < sizeof wsets / sizeof *wsets; s++) {
      TsTopoConfig c;
      ts_topo_config_init(&c);
      memcpy(c.weights, wsets[s], sizeof c.weights);
      c.deg = (int)(s % 2);
      snprintf(what, sizeof what, "trial %d weights %zu", trial, s);
      check_fd(w, x, n, dim, &t, &c, what, &skipped, &tested);
    }
    /* push0 by the fallback */
    TsTopoConfig c;
    ts_topo_config_init(&c);
    memset(c.weights, 0, sizeof c.weights);
    c.push0_fallback = 1;
    check_fd(w, x, n, dim, &t, &c, "push0", &skipped, &tested);
    ts_topo_diagram_clear(&t);
    free(x);
    free(y);
  }
  printf("  %d coordinates tested, %d skipped (pairing changed)\n", tested, skipped);
  TS_CHECK(skipped * 50 < tested);
  ts_topo_work_free(w);
}

/* Loss values against plain recomputations from the two diagrams. */
static void test_values(void) {
  TsError err = {0};
  TsTopoWork *w = ts_topo_work_new(NULL, &err);
  TsRng r;
  ts_rng_init(&r, 99, 2);
  for (int trial = 0; trial < 10; trial++) {
    size_t n = 20 + (size_t)ts_rng_below(&r, 30), m = 15 + (size_t)ts_rng_below(&r, 30), dim = 2;
    double *x = malloc(n * dim * sizeof *x), *y = malloc(m * dim * sizeof *y);
    random_cloud(&r, x, n, dim, 5.0);
    random_cloud(&r, y, m, dim, 5.0);
    float *xf = malloc(n * dim * sizeof *xf);
    to_float(x, xf, n * dim);
    TsTopoDiagram t;
    ts_topo_diagram_init(&t);
    target_of(&t, y, m, dim);
    TsTopoConfig c;
    ts_topo_config_init(&c);
    for (int k = 0; k < TS_TOPO_NLOSS; k++) c.weights[k] = 1;
    TsTopoResult res;
    TS_CHECKF(ts_topo_loss(w, xf, n, dim, &t, &c, NULL, &res, &err) == TS_OK, "%s", err.message);
    const TsTopoDiagram *xd = ts_topo_work_diagram(w);
    TS_CHECK(xd->n0 == n - 1); /* general position: every merge is a bar */
    /* bottleneck: the value is the bottleneck distance whenever it depends on X */
    for (int dim_ = 0; dim_ <= 1; dim_++) {
      double db;
      TS_CHECK(ts_bottleneck_distance(&xd->fin, &t.fin, dim_, &db, NULL, &err) == TS_OK);
      if (res.dep[dim_]) TS_CHECK_CLOSE(res.value[dim_], db, 1e-5);
      else TS_CHECK(res.match[dim_][0] == -1);
    }
    /* persentropy: plain entropy of the float diagram values */
    for (int dim_ = 0; dim_ <= 1; dim_++) {
      double e[2] = {0, 0};
      const TsTopoDiagram *s[2] = {xd, &t};
      for (int side = 0; side < 2; side++) {
        size_t nb = dim_ ? s[side]->n1 : s[side]->n0;
        double L = 0;
        for (size_t k = 0; k < nb; k++) {
          double l = dim_ ? s[side]->d1[k] - s[side]->b1[k] : s[side]->d0[k];
          if (l > 0.001) L += l;
        }
        for (size_t k = 0; k < nb && L > 0; k++) {
          double l = dim_ ? s[side]->d1[k] - s[side]->b1[k] : s[side]->d0[k];
          if (l > 0.001) e[side] -= (l / L) * log(l / L);
        }
      }
      if (res.dep[2 + dim_]) TS_CHECK_CLOSE(res.value[2 + dim_], (e[0] - e[1]) * (e[0] - e[1]), 1e-5);
    }
    /* dsigma1: the full double sum as written */
    {
      double kxx = 0, kxy = 0, s8 = 8 * 0.05;
      for (size_t i = 0; i < xd->n1; i++) {
        for (size_t j = 0; j < xd->n1; j++) {
          double a = xd->b1[i] - xd->b1[j], b = xd->d1[i] - xd->d1[j];
          double a2 = xd->b1[i] - xd->d1[j], b2 = xd->d1[i] - xd->b1[j];
          kxx += exp(-(a * a + b * b) / s8) - exp(-(a2 * a2 + b2 * b2) / s8);
        }
        for (size_t j = 0; j < t.n1; j++) {
          double a = xd->b1[i] - t.b1[j], b = xd->d1[i] - t.d1[j];
          double a2 = xd->b1[i] - t.d1[j], b2 = xd->d1[i] - t.b1[j];
          kxy += exp(-(a * a + b * b) / s8) - exp(-(a2 * a2 + b2 * b2) / s8);
        }
      }
      double v = (kxx - 2 * kxy) / (8 * M_PI * 0.05);
      if (xd->n1) TS_CHECK_CLOSE(res.value[5], v, 1e-4);
    }
    /* density */
    {
      double loss = 0;
      for (int k = 0; k < 30; k++) {
        double tt = 35.0 * k / 29, fx = 0, fy = 0;
        for (size_t i = 0; i < xd->n0; i++)
          fx += pow(xd->d0[i], 4) * exp(-pow((xd->d0[i] - tt) / 0.2, 2));
        for (size_t i = 0; i < t.n0; i++) fy += pow(t.d0[i], 4) * exp(-pow((t.d0[i] - tt) / 0.2, 2));
        loss += pow(0.002 * (fx - fy), 2);
      }
      TS_CHECK_CLOSE(res.value[6], loss / 30, 1e-4);
    }
    double total = 0;
    for (int k = 0; k < TS_TOPO_NLOSS; k++) total += res.dep[k] ? res.value[k] : 0;
    TS_CHECK_CLOSE(res.total, total, 1e-12);
    double push0 = 0;
    for (size_t k = 0; k < xd->n0; k++) push0 -= xd->d0[k] / 2;
    TS_CHECK_CLOSE(res.push0, push0, 1e-5);
    /* ts_topo_loss_one agrees with the combined loss */
    for (int id = 0; id < TS_TOPO_NLOSS; id++) {
      double v;
      int dep;
      TS_CHECK(ts_topo_loss_one(w, (TsTopoLossId)id, xf, n, dim, &t, NULL, NULL, &v, &dep, &err) == TS_OK);
      TS_CHECK(dep == res.dep[id]);
      TS_CHECK_CLOSE(v, res.value[id], 1e-12);
    }
    ts_topo_diagram_clear(&t);
    free(x);
    free(y);
    free(xf);
  }
  ts_topo_work_free(w);
}

static int all_finite(const float *g, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (!isfinite(g[k])) return 0;
  return 1;
}

static int all_zero(const float *g, size_t n) {
  for (size_t k = 0; k < n; k++)
    if (g[k] != 0) return 0;
  return 1;
}

static void test_degenerate(void) {
  TsError err = {0};
  TsTopoWork *w = ts_topo_work_new(NULL, &err);
  TsTopoConfig c;
  ts_topo_config_init(&c);
  for (int k = 0; k < TS_TOPO_NLOSS; k++) c.weights[k] = 1;
  /* target: a square (one H1 bar) and 3 more points */
  double ysq[] = {0, 0, 3, 0, 3, 3, 0, 3, 10, 10, 12, 10, 20, 0};
  TsTopoDiagram t;
  ts_topo_diagram_init(&t);
  target_of(&t, ysq, 7, 2);
  TS_CHECK(t.n1 == 1 && t.n0 == 6);
  float g[64];
  TsTopoResult res;

  /* a single point: nothing depends on X, the gradient is zero */
  float one[2] = {1, 2};
  TS_CHECK(ts_topo_loss(w, one, 1, 2, &t, &c, g, &res, &err) == TS_OK);
  TS_CHECK(!res.depends && res.total == 0 && res.push0 == 0 && all_zero(g, 2));
  c.push0_fallback = 1;
  TS_CHECK(ts_topo_loss(w, one, 1, 2, &t, &c, g, &res, &err) == TS_OK);
  TS_CHECK(res.used_push0 && all_zero(g, 2));
  c.push0_fallback = 0;

  /* all points coincident: no finite bar, zero gradient */
  float same[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  TS_CHECK(ts_topo_loss(w, same, 5, 2, &t, &c, g, &res, &err) == TS_OK);
  TS_CHECK(!res.depends && res.n0 == 0 && all_zero(g, 10));

  /* some coincident points: finite gradients; zero-length edges give none */
  float dup[16] = {0, 0, 0, 0, 4, 0, 4, 4, 0, 4, 0, 4, 2, 9, 2, 9};
  TS_CHECK(ts_topo_loss(w, dup, 8, 2, &t, &c, g, &res, &err) == TS_OK);
  TS_CHECK(res.depends && res.n0 == 4 && all_finite(g, 16));

  /* X with empty H1 (collinear): the H1 losses do not depend on X */
  float line[12] = {0, 0, 1, 0, 2.5f, 0, 4, 0, 7, 0, 7.5f, 0};
  TS_CHECK(ts_topo_loss(w, line, 6, 2, &t, &c, g, &res, &err) == TS_OK);
  TS_CHECK(res.n1 == 0 && !res.dep[1] && !res.dep[3] && !res.dep[5]);
  TS_CHECK(res.dep[2] && res.dep[4] && res.dep[6] && all_finite(g, 12));

  /* target with empty H1: bottleneck1 = max half-persistence of X, dsigma1 =
   * k(X, X), persentropy1 = E(X)^2 */
  TsTopoDiagram tl;
  ts_topo_diagram_init(&tl);
  double yline[] = {0, 0, 1, 0, 3, 0};
  target_of(&tl, yline, 3, 2);
  TS_CHECK(tl.n1 == 0 && tl.has_h1);
  float sq[8] = {0, 0, 2, 0, 2, 2, 0, 2.2f};
  TS_CHECK(ts_topo_loss(w, sq, 4, 2, &tl, &c, g, &res, &err) == TS_OK);
  const TsTopoDiagram *xd = ts_topo_work_diagram(w);
  TS_CHECK(xd->n1 == 1);
  if (xd->n1 == 1) {
    double b = xd->b1[0], d = xd->d1[0];
    TS_CHECK(res.dep[1] && res.match[1][1] == -1);
    TS_CHECK_CLOSE(res.value[1], (d - b) / 2, 1e-6);
    TS_CHECK(res.dep[3] && res.value[3] == 0); /* one bar: entropy 0 on both sides */
    double k = (1 - exp(-2 * (d - b) * (d - b) / 0.4)) / (8 * M_PI * 0.05);
    TS_CHECK_CLOSE(res.value[5], k, 1e-6);
  }
  TS_CHECK(all_finite(g, 8));

  /* degree 0: the H1 losses are not evaluated */
  c.deg = 0;
  TS_CHECK(ts_topo_loss(w, sq, 4, 2, &t, &c, g, &res, &err) == TS_OK);
  TS_CHECK(!res.dep[1] && !res.dep[3] && !res.dep[5] && res.n1 == 0);
  c.deg = 1;

  /* all weights zero: total 0, gradient zero (push0 when asked) */
  TsTopoConfig z = c;
  memset(z.weights, 0, sizeof z.weights);
  TS_CHECK(ts_topo_loss(w, sq, 4, 2, &t, &z, g, &res, &err) == TS_OK);
  TS_CHECK(!res.depends && res.total == 0 && all_zero(g, 8));
  double p0;
  TS_CHECK(ts_topo_push0(w, sq, 4, 2, g, &p0, &err) == TS_OK);
  TS_CHECK_CLOSE(p0, -(2 + 2 + sqrt(4.04)) / 2.0, 1e-6); /* the MST of the square */
  TS_CHECK(!all_zero(g, 8));

  /* bottleneck0 when the longest edge is a target point on the diagonal:
   * X = two points at distance 1, target = points 0, 10, 30 apart on a line
   * (bars 10 and 20): X's bar matches the 10 (cost 9), the 20 goes to the
   * diagonal at cost 10 -> no loss. */
  TsTopoDiagram t2;
  ts_topo_diagram_init(&t2);
  double y2[] = {0, 0, 10, 0, 30, 0};
  target_of(&t2, y2, 3, 2);
  float two[4] = {0, 0, 1, 0};
  double v;
  int dep;
  TS_CHECK(ts_topo_loss_one(w, TS_TOPO_BOTTLENECK0, two, 2, 2, &t2, NULL, g, &v, &dep, &err) == TS_OK);
  TS_CHECK(!dep && v == 0 && all_zero(g, 4));

  /* bad input */
  float nan[4] = {0, NAN, 1, 1};
  TS_CHECK(ts_topo_loss(w, nan, 2, 2, &t, &c, g, &res, &err) == TS_ERR_INVALID);
  TS_CHECK(strstr(err.message, "not finite") != NULL);
  TS_CHECK(ts_topo_loss(w, sq, 0, 2, &t, &c, g, &res, &err) == TS_ERR_INVALID);
  TsTopoConfig bad = c;
  bad.deg = 2;
  TS_CHECK(ts_topo_loss(w, sq, 4, 2, &t, &bad, g, &res, &err) == TS_ERR_INVALID);
  double wts[TS_TOPO_NLOSS];
  TS_CHECK(ts_topo_weights_parse("1,2,3,4,5,6,7", "--weights", wts, &err) == TS_OK && wts[6] == 7);
  TS_CHECK(ts_topo_weights_parse("1,2,3", "--weights", wts, &err) == TS_ERR_INVALID);
  TS_CHECK(ts_topo_weights_parse("1,2,3,4,5,6,x", "--weights", wts, &err) == TS_ERR_INVALID);
  TS_CHECK(ts_topo_weights_parse("1,2,3,4,5,6,7,8", "--weights", wts, &err) == TS_ERR_INVALID);

  ts_topo_diagram_clear(&t);
  ts_topo_diagram_clear(&tl);
  ts_topo_diagram_clear(&t2);
  ts_topo_work_free(w);
}

/* The batch entry point matches one cloud at a time; a workspace survives
 * clouds of changing sizes; a 784-dimensional batch works. */
static void test_batch_and_reuse(void) {
  TsError err = {0};
  TsRng r;
  ts_rng_init(&r, 5, 3);
  enum { K = 5, D = 784 };
  size_t n[K];
  float *clouds[K];
  for (int k = 0; k < K; k++) {
    n[k] = 20 + 25 * (size_t)k;
    clouds[k] = malloc(n[k] * D * sizeof(float));
    for (size_t i = 0; i < n[k] * D; i++) clouds[k][i] = ts_rng_uniformf(&r);
  }
  TsPool *pool = ts_pool_new(2, &err);
  TsTopoDiagram bat[K];
  for (int k = 0; k < K; k++) ts_topo_diagram_init(&bat[k]);
  TS_CHECK(ts_topo_diagram_batch(bat, (const float *const *)clouds, n, K, D, 1, pool, &err) == TS_OK);
  TsTopoWork *w = ts_topo_work_new(pool, &err);
  TsTopoConfig c;
  ts_topo_config_init(&c);
  for (int rep = 0; rep < 2; rep++)
    for (int k = K - 1; k >= 0; k--) {
      TsTopoDiagram one;
      ts_topo_diagram_init(&one);
      TS_CHECK(ts_topo_diagram_of_cloud(&one, clouds[k], n[k], D, 1, NULL, &err) == TS_OK);
      TS_CHECK(one.n0 == bat[k].n0 && one.n1 == bat[k].n1);
      TS_CHECK(one.n0 == bat[k].n0 && one.n0 > 0 && !memcmp(one.d0, bat[k].d0, one.n0 * sizeof *one.d0));
      float *g = malloc(n[k] * D * sizeof *g);
      TsTopoResult res;
      /* a cloud against its own diagram: bottleneck 0 from matched pairs */
      TS_CHECK(ts_topo_loss(w, clouds[k], n[k], D, &one, &c, g, &res, &err) == TS_OK);
      TS_CHECK(res.value[0] < 1e-5 && all_finite(g, n[k] * D));
      free(g);
      ts_topo_diagram_clear(&one);
    }
  ts_topo_work_free(w);
  for (int k = 0; k < K; k++) {
    ts_topo_diagram_clear(&bat[k]);
    free(clouds[k]);
  }
  ts_pool_free(pool);
}

int main(void) {
  TS_RUN(test_finite_differences);
  TS_RUN(test_values);
  TS_RUN(test_degenerate);
  TS_RUN(test_batch_and_reuse);
  return ts_test_finish();
}
