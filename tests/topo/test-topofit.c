/* test-topofit.c — each of Topo-GEN's presets reaches the target's topology
 * (3 clusters, 4 clusters, one loop), with fewer steps than the paper's
 * where the topology is already there; the start does not have it. Adam's
 * update is checked against its formula on one step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topo/topofit.h"
#include "ts-test.h"

static int cmp_desc(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* k clusters: the k-1 largest H0 bars stand out by a factor 3 over the rest */
static int has_clusters(const TsTopoDiagram *d, size_t k) {
  if (d->n0 < k) return 0;
  double *b = malloc(d->n0 * sizeof *b);
  memcpy(b, d->d0, d->n0 * sizeof *b);
  qsort(b, d->n0, sizeof *b, cmp_desc);
  int ok = b[k - 2] > 3 * b[k - 1];
  printf("  H0 bars: %.3f %.3f | %.3f\n", b[0], b[k - 2], b[k - 1]);
  free(b);
  return ok;
}

/* one loop: one H1 bar of persistence > 3, every other < 0.5, connected at 2 */
static int has_one_loop(const TsTopoDiagram *d) {
  int big = 0, small_ok = 1;
  double maxh0 = 0;
  for (size_t k = 0; k < d->n1; k++) {
    double p = d->d1[k] - d->b1[k];
    if (p > 3) big++;
    else if (p >= 0.5) small_ok = 0;
  }
  for (size_t k = 0; k < d->n0; k++) maxh0 = fmax(maxh0, d->d0[k]);
  printf("  %d large loop(s), largest H0 bar %.3f\n", big, maxh0);
  return big == 1 && small_ok && maxh0 < 2;
}

static void run_preset(int preset, int64_t steps, uint64_t seed) {
  TsError err = {0};
  TsTopoFitPreset p;
  TS_CHECKF(ts_topofit_preset(preset, seed, &p, &err) == TS_OK, "%s", err.message);
  TsTopoDiagram target, now;
  ts_topo_diagram_init(&target);
  ts_topo_diagram_init(&now);
  TS_CHECK(ts_topo_diagram_of_cloud(&target, p.target, p.m, 2, 1, NULL, &err) == TS_OK);
  TsTopoConfig c;
  ts_topo_config_init(&c);
  memcpy(c.weights, p.weights, sizeof c.weights);
  TsTopoFit f;
  TS_CHECK(ts_topofit_init(&f, p.start, p.n, 2, &target, &c, p.lr, NULL, &err) == TS_OK);
  TS_CHECK(ts_topo_diagram_of_cloud(&now, f.x, f.n, 2, 1, NULL, &err) == TS_OK);
  int before = preset == 1 ? has_clusters(&now, 3) : preset == 2 ? has_clusters(&now, 4) : has_one_loop(&now);
  TS_CHECK(!before);
  int pushed = 0;
  for (int64_t s = 0; s < steps; s++) {
    TsTopoResult r;
    TS_CHECK(ts_topofit_step(&f, &r, &err) == TS_OK);
    pushed += r.used_push0;
  }
  TS_CHECK(ts_topo_diagram_of_cloud(&now, f.x, f.n, 2, 1, NULL, &err) == TS_OK);
  int after = preset == 1 ? has_clusters(&now, 3) : preset == 2 ? has_clusters(&now, 4) : has_one_loop(&now);
  printf("  preset %d: %lld of the paper's %lld steps, %d push0 steps\n", preset, (long long)steps,
         (long long)p.steps, pushed);
  TS_CHECK(after);
  ts_topofit_clear(&f);
  ts_topo_diagram_clear(&target);
  ts_topo_diagram_clear(&now);
  ts_topofit_preset_clear(&p);
}

static void test_preset1(void) { run_preset(1, 4000, 0); }
static void test_preset2(void) { run_preset(2, 1000, 0); }
static void test_preset3(void) {
  run_preset(3, 3000, 0);
}

/* One Adam step from zero moments moves every coordinate with a nonzero
 * gradient by lr * sign(g) (bias correction makes m/sqrt(v) = g/|g|). */
static void test_adam_first_step(void) {
  TsError err = {0};
  float x[8] = {0, 0, 1, 0, 1, 1.2f, 0, 1};
  TsTopoDiagram t;
  ts_topo_diagram_init(&t);
  float y[6] = {0, 0, 5, 0, 0, 7};
  TS_CHECK(ts_topo_diagram_of_cloud(&t, y, 3, 2, 1, NULL, &err) == TS_OK);
  TsTopoFit f;
  TS_CHECK(ts_topofit_init(&f, x, 4, 2, &t, NULL, 0.1, NULL, &err) == TS_OK);
  TsTopoResult r;
  TS_CHECK(ts_topofit_step(&f, &r, &err) == TS_OK);
  for (int k = 0; k < 8; k++) {
    double g = f.grad[k], expect = g > 0 ? x[k] - 0.1 : g < 0 ? x[k] + 0.1 : x[k];
    TS_CHECK_CLOSE(f.x[k], expect, 1e-5);
  }
  TS_CHECK(ts_topofit_preset(4, 0, &(TsTopoFitPreset){0}, &err) == TS_ERR_INVALID);
  ts_topofit_clear(&f);
  ts_topo_diagram_clear(&t);
}

int main(void) {
  TS_RUN(test_adam_first_step);
  TS_RUN(test_preset1);
  TS_RUN(test_preset2);
  TS_RUN(test_preset3);
  return ts_test_finish();
}
