/* test-probe.c — core/probe against plain references: captured layer
 * outputs are the model's own forward (bit for bit), group means, layer
 * names, correlation distances, float16 rounding, lifespan sums (Kruskal),
 * Betti-curve summaries (direct counts), the k-means position groups and
 * the FGSM step (exactly eps sign(dCE/dx), clipped; the gradient as the
 * model's own backward gives it). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"
#include "base/rng.h"
#include "nn/model.h"
#include "nn/loss.h"
#include "probe/capture.h"
#include "probe/fgsm.h"
#include "probe/graph.h"
#include "probe/lifespan.h"
#include "probe/probe.h"
#include "ts-test.h"

static TsRng rng;

static void fill_dataset(TsDataset *ds, int n, int c, int h, int w) {
  TsError err;
  TS_CHECK(ts_dataset_alloc(ds, n, c, h, w, 10, &err) == TS_OK);
  for (size_t i = 0; i < (size_t)n * c * h * w; i++) ds->pixels[i] = (uint8_t)ts_rng_below(&rng, 256);
  for (int i = 0; i < n; i++) ds->labels[i] = (int32_t)ts_rng_below(&rng, 10);
}

static int layer_index(const TsModel *m, const char *name) {
  for (int i = 0; i < ts_model_n_layers(m); i++)
    if (!strcmp(ts_model_layer_name(m, i), name)) return i;
  return -1;
}

/* capture == the model's forward of the same batch, raw and pooled */
static void test_capture_is_forward(void) {
  TsError err;
  TsPool *pool = ts_pool_new(2, &err);
  TsNnCtx ctx;
  ts_nn_ctx_init(&ctx, pool, 1);
  TsModelConfig cfg = ts_model_config_default(TS_MODEL_LENET_DNN);
  TsModel *m = ts_model_new(&cfg, 8, 3, &err);
  TS_CHECK(m != NULL);
  TsDataset ds;
  fill_dataset(&ds, 29, 1, 28, 28);
  TsAugment aug = {0};
  aug.mean[0] = 0.25f, aug.std[0] = 0.5f;
  int *nodes;
  char **names;
  size_t nl;
  TS_CHECK(ts_probe_layers(m, NULL, TS_PROBE_FOR_GRAPH, &nodes, &names, &nl, &err) == TS_OK);
  TS_CHECK(nl == 4 && !strcmp(names[0], "relu1") && !strcmp(names[3], "log_softmax"));
  int64_t idx[29];
  for (int i = 0; i < 29; i++) idx[i] = (i * 7) % 29;
  TsProbeCapture raw, gap;
  TS_CHECK(ts_probe_capture(m, &ctx, &ds, &aug, idx, 29, nodes, nl, NULL, 8, NULL, NULL, NULL, &raw, &err) == TS_OK);
  TsProbeGroups g[4] = {{1, NULL}, {1, NULL}, {1, NULL}, {1, NULL}};
  TS_CHECK(ts_probe_capture(m, &ctx, &ds, &aug, idx, 29, nodes, nl, g, 8, NULL, NULL, NULL, &gap, &err) == TS_OK);
  size_t units = 0;
  for (size_t k = 0; k < nl; k++) units += raw.dim[k];
  TS_CHECK(units == 1820);
  TS_CHECK(gap.dim[0] == 10 && gap.dim[1] == 20 && gap.dim[2] == 50 && gap.dim[3] == 10);
  /* the same batches by hand */
  float x[8 * 784];
  for (int b0 = 0; b0 < 29; b0 += 8) {
    int nb = 29 - b0 < 8 ? 29 - b0 : 8;
    for (int i = 0; i < nb; i++) ts_augment_apply(&aug, ts_dataset_sample(&ds, idx[b0 + i]), 1, 28, 28, NULL, x + i * 784, NULL);
    ts_model_forward(m, &ctx, x, nb, 0, 0);
    for (size_t k = 0; k < nl; k++) {
      const TsTensor *t = ts_model_layer_output(m, nodes[k]);
      TS_CHECKF(memcmp(t->data, raw.data[k] + (size_t)b0 * raw.dim[k], (size_t)nb * raw.dim[k] * sizeof(float)) == 0,
                "layer %s batch at %d: capture differs from the forward", names[k], b0);
      int hw = raw.hw[k];
      for (int i = 0; i < nb; i++)
        for (int c = 0; c < raw.c[k]; c++) {
          double s = 0;
          for (int p = 0; p < hw; p++) s += t->data[(size_t)i * raw.dim[k] + (size_t)c * hw + p];
          TS_CHECK_CLOSE(gap.data[k][(size_t)(b0 + i) * gap.dim[k] + c], s / hw, 1e-6);
        }
    }
  }
  for (int i = 0; i < 29; i++) TS_CHECK(raw.labels[i] == ds.labels[idx[i]]);
  /* k-means groups of positions: means over each group's positions */
  int32_t of[144];
  ts_probe_kmeans_positions(12, 12, 5, of);
  TsProbeGroups gk[1] = {{5, of}};
  TsProbeCapture km;
  TS_CHECK(ts_probe_capture(m, &ctx, &ds, &aug, idx, 29, nodes, 1, gk, 8, NULL, NULL, NULL, &km, &err) == TS_OK);
  TS_CHECK(km.dim[0] == 50);
  for (int i = 0; i < 29; i += 5)
    for (int c = 0; c < 10; c++)
      for (int gi = 0; gi < 5; gi++) {
        double s = 0;
        int cnt = 0;
        for (int p = 0; p < 144; p++)
          if (of[p] == gi) s += raw.data[0][(size_t)i * 1440 + (size_t)c * 144 + p], cnt++;
        TS_CHECK(cnt > 0);
        TS_CHECK_CLOSE(km.data[0][(size_t)i * 50 + (size_t)c * 5 + gi], s / cnt, 1e-5);
      }
  ts_probe_capture_clear(&km);
  ts_probe_capture_clear(&raw);
  ts_probe_capture_clear(&gap);
  free(nodes);
  ts_probe_names_free(names, nl);
  ts_dataset_clear(&ds);
  ts_model_free(m);
  ts_pool_free(pool);
}

static void test_layer_names(void) {
  TsError err;
  TsModelConfig cfg = ts_model_config_default(TS_MODEL_RESNET20);
  cfg.in_channels = 3, cfg.in_h = cfg.in_w = 8;
  TsModel *m = ts_model_new(&cfg, 2, 1, &err);
  TS_CHECK(m != NULL);
  int *nodes;
  char **names;
  size_t nl;
  TS_CHECK(ts_probe_layers(m, NULL, TS_PROBE_FOR_LIFESPANS, &nodes, &names, &nl, &err) == TS_OK);
  TS_CHECK(nl == 4);
  TS_CHECK(nodes[0] == layer_index(m, "layer1.2.relu") && nodes[2] == layer_index(m, "layer3.2.relu"));
  TS_CHECK(nodes[3] == layer_index(m, "fc") && !strcmp(names[1], "layer2"));
  free(nodes);
  ts_probe_names_free(names, nl);
  TS_CHECK(ts_probe_layers(m, "layer2.1,conv1,layer3.0.shortcut", TS_PROBE_FOR_LIFESPANS, &nodes, &names, &nl, &err) ==
           TS_OK);
  TS_CHECK(nl == 3 && nodes[0] == layer_index(m, "layer2.1.relu") && nodes[1] == layer_index(m, "conv1"));
  TS_CHECK(nodes[2] == layer_index(m, "layer3.0.shortcut"));
  free(nodes);
  ts_probe_names_free(names, nl);
  TS_CHECK(ts_probe_layers(m, "layer9", TS_PROBE_FOR_LIFESPANS, &nodes, &names, &nl, &err) == TS_ERR_INVALID);
  TS_CHECK(strstr(err.message, "layer9") != NULL);
  TS_CHECK(ts_probe_layers(m, "layer1,", TS_PROBE_FOR_LIFESPANS, &nodes, &names, &nl, &err) == TS_OK);
  free(nodes);
  ts_probe_names_free(names, nl);
  ts_model_free(m);
}

static void test_correlation(void) {
  TsError err;
  TsPool *pool = ts_pool_new(2, &err);
  for (int rep = 0; rep < 6; rep++) {
    size_t units = 2 + ts_rng_below(&rng, rep < 3 ? 40 : 300), n = 2 + ts_rng_below(&rng, 60);
    float *s = malloc(units * n * sizeof *s);
    for (size_t i = 0; i < units * n; i++) s[i] = (float)ts_rng_normal(&rng);
    for (size_t k = 0; k < n; k++) s[k] = 3.0f;                                       /* a constant signal */
    for (size_t k = 0; k < n; k++) s[(units - 1) * n + k] = -2.0f * s[(units / 2) * n + k] + 1; /* |r| = 1 */
    TsRipsDist d;
    TS_CHECK(ts_probe_correlation(s, units, n, rep % 2 ? pool : NULL, &d, &err) == TS_OK);
    double worst = 0;
    for (size_t i = 1; i < units; i++)
      for (size_t j = 0; j < i; j++) {
        double mi = 0, mj = 0, sij = 0, sii = 0, sjj = 0;
        for (size_t k = 0; k < n; k++) mi += s[i * n + k], mj += s[j * n + k];
        mi /= n, mj /= n;
        for (size_t k = 0; k < n; k++) {
          double a = s[i * n + k] - mi, b = s[j * n + k] - mj;
          sij += a * b, sii += a * a, sjj += b * b;
        }
        double r = sii > 0 && sjj > 0 ? sij / sqrt(sii * sjj) : 0.0;
        double want = 1 - fabs(r);
        double e = fabs(d.lower[i * (i - 1) / 2 + j] - want);
        if (e > worst) worst = e;
      }
    TS_CHECKF(worst < 2e-6, "units %zu n %zu: max error %g", units, n, worst);
    if (units > 2 && units / 2 != units - 1) {
      size_t i = units - 1, j = units / 2;
      TS_CHECK(d.lower[i * (i - 1) / 2 + j] < 1e-6);
    }
    ts_rips_dist_clear(&d);
    free(s);
  }
  ts_pool_free(pool);
}

static void test_half(void) {
  TS_CHECK(ts_probe_to_half(1.0f) == 1.0f);
  TS_CHECK(ts_probe_to_half(0.1f) == 0.0999755859375f);
  TS_CHECK(ts_probe_to_half(65504.0f) == 65504.0f);
  TS_CHECK(isinf(ts_probe_to_half(70000.0f)) && ts_probe_to_half(-70000.0f) < 0);
  TS_CHECK(ts_probe_to_half(1e-8f) == 0.0f);
  TS_CHECK(ts_probe_to_half(3e-8f) == 5.9604644775390625e-08f);
  TS_CHECK(ts_probe_to_half(1.0f + 1.0f / 2048) == 1.0f);                      /* tie: to even */
  TS_CHECK(ts_probe_to_half(1.0f + 3.0f / 2048) == 1.0f + 1.0f / 512);         /* tie: to even */
  TS_CHECK(ts_probe_to_half(-2.0f / 3) == -0.66650390625f);
  TS_CHECK(ts_probe_to_half(1e-5f) == 1.0013580322265625e-05f);                /* subnormal */
}

/* H0 lifespans by Kruskal on the min-max scaled cloud */
static double kruskal_sum(const double *x, size_t n, size_t dim) {
  size_t ne = n * (n - 1) / 2, e = 0;
  double *w = malloc(ne * sizeof *w);
  for (size_t i = 1; i < n; i++)
    for (size_t j = 0; j < i; j++) {
      double s = 0;
      for (size_t k = 0; k < dim; k++) s += (x[i * dim + k] - x[j * dim + k]) * (x[i * dim + k] - x[j * dim + k]);
      w[e++] = (float)sqrt(s); /* Rips distances are float32 */
    }
  /* Prim is Kruskal's answer; do the obvious O(n^2) Prim on the edge table */
  int *in = calloc(n, sizeof *in);
  double *best = malloc(n * sizeof *best), sum = 0;
  for (size_t i = 0; i < n; i++) best[i] = INFINITY;
  best[0] = 0;
  for (size_t it = 0; it < n; it++) {
    size_t u = n;
    for (size_t i = 0; i < n; i++)
      if (!in[i] && (u == n || best[i] < best[u])) u = i;
    in[u] = 1;
    sum += 0.5 * best[u];
    for (size_t v = 0; v < n; v++)
      if (!in[v]) {
        double d = u > v ? w[u * (u - 1) / 2 + v] : w[v * (v - 1) / 2 + u];
        if (d < best[v]) best[v] = d;
      }
  }
  free(w), free(in), free(best);
  return sum;
}

static void test_lifespans(void) {
  TsError err;
  for (int rep = 0; rep < 5; rep++) {
    size_t n = 20 + ts_rng_below(&rng, 60), dim = 1 + ts_rng_below(&rng, 6);
    float *emb = malloc(n * dim * sizeof *emb);
    int32_t *lab = malloc(n * sizeof *lab);
    for (size_t i = 0; i < n * dim; i++) emb[i] = (float)(ts_rng_normal(&rng) * (1 + i % dim));
    for (size_t i = 0; i < n; i++) emb[i * dim] = 7.0f * (rep == 0), lab[i] = (int32_t)ts_rng_below(&rng, 3);
    double *x = malloc(n * dim * sizeof *x);
    for (size_t i = 0; i < n * dim; i++) x[i] = emb[i];
    ts_probe_minmax(x, n, dim);
    for (size_t i = 0; i < n * dim; i++) TS_CHECK(x[i] >= 0 && x[i] <= 1);
    TsLifespanOptions o;
    ts_lifespan_options_init(&o);
    o.local = 0;
    double sums[2];
    TS_CHECK(ts_probe_lifespans(emb, n, dim, lab, 3, &o, sums, NULL, &err) == TS_OK);
    TS_CHECK_CLOSE(sums[0], kruskal_sum(x, n, dim), 1e-6);
    { /* the diagram handed back is the one the sum comes from: n bars, one essential */
      TsDiagram dg;
      ts_diagram_init(&dg);
      double again[2], half = 0;
      TS_CHECK(ts_probe_lifespans(emb, n, dim, lab, 3, &o, again, &dg, &err) == TS_OK);
      TS_CHECK(dg.n == n && ts_diagram_count_essential(&dg, 0) == 1);
      for (size_t i = 0; i < dg.n; i++)
        if (isfinite(dg.pairs[i].death)) half += 0.5 * (dg.pairs[i].death - dg.pairs[i].birth);
      TS_CHECK_CLOSE(half, sums[0], 1e-9);
      ts_diagram_clear(&dg);
    }
    o.local = 1, o.per_class = 9;
    TS_CHECK(ts_probe_lifespans(emb, n, dim, lab, 3, &o, sums, NULL, &err) == TS_OK);
    double want = 0;
    int used = 0;
    double *sub = malloc(n * dim * sizeof *sub);
    for (int c = 0; c < 3; c++) {
      size_t m = 0;
      for (size_t i = 0; i < n && m < 9; i++)
        if (lab[i] == c) memcpy(sub + m++ * dim, x + i * dim, dim * sizeof *sub);
      if (m) want += m > 1 ? kruskal_sum(sub, m, dim) : 0.0, used++;
    }
    TS_CHECK_CLOSE(sums[0], want / used, 1e-6);
    free(sub), free(x), free(emb), free(lab);
  }
}

static void test_betti_summary(void) {
  for (int rep = 0; rep < 20; rep++) {
    TsDiagram d;
    ts_diagram_init(&d);
    int np = (int)ts_rng_below(&rng, rep < 5 ? 8 : 300);
    for (int i = 0; i < np; i++) {
      double b = 0.01 * (double)ts_rng_below(&rng, 50); /* ties on purpose */
      double e = b + 0.01 * (double)(1 + ts_rng_below(&rng, 30));
      ts_diagram_add(&d, (int)ts_rng_below(&rng, 3), b, i % 17 == 3 ? INFINITY : e, NULL);
    }
    TsGraphOptions o;
    ts_graph_options_init(&o);
    o.midlife_original = rep % 2;
    TsGraphSummary s;
    ts_probe_graph_summarize(&d, &o, &s);
    for (int q = 0; q < 3; q++) {
      double b[400], e[400], x[800];
      int m = 0;
      for (size_t i = 0; i < d.n; i++) {
        const TsPair *p = &d.pairs[i];
        if (p->dim != q || isinf(p->death)) continue;
        double pb = round(p->birth / 2 * 1e4) / 1e4, pd = round(p->death / 2 * 1e4) / 1e4;
        if (pd - pb > 0.02) b[m] = pb, e[m++] = pd;
      }
      TS_CHECK(s.pairs[q] == (size_t)m);
      if (!m) {
        TS_CHECK(isnan(s.avglife[q]) && s.betti[q][100] == 0);
        continue;
      }
      double life = 0, mid = 0;
      for (int i = 0; i < m; i++) life += e[i] - b[i], mid += o.midlife_original ? e[i] + b[i] / 2 : (b[i] + e[i]) / 2;
      TS_CHECK_CLOSE(s.avglife[q], life / m, 1e-12);
      TS_CHECK_CLOSE(s.midlife[q], mid / m, 1e-12);
      for (int i = 0; i < m; i++) x[i] = b[i], x[m + i] = e[i];
      int n2 = 2 * m;
      for (int i = 1; i < n2; i++) /* insertion sort */
        for (int j = i; j > 0 && x[j - 1] > x[j]; j--) {
          double t = x[j];
          x[j] = x[j - 1], x[j - 1] = t;
        }
      double beta[800], sm[800];
      for (int k = 0; k < n2; k++) {
        int cb = 0, cd = 0;
        for (int i = 0; i < m; i++) cb += b[i] <= x[k], cd += e[i] <= x[k];
        beta[k] = cb - cd;
      }
      int size = n2 / 10 < 1 ? 1 : n2 / 10;
      for (int k = 0; k < n2; k++) {
        double a = 0;
        for (int t = k - size / 2; t < k - size / 2 + size; t++) a += t >= 0 && t < n2 ? beta[t] : 0;
        sm[k] = a / size;
      }
      for (int j = 0; j < TS_GRAPH_GRID; j++) {
        double g = ts_graph_grid(j);
        int best = 0;
        for (int k = 1; k < n2; k++)
          if (fabs(g - x[k]) < fabs(g - x[best])) best = k;
        TS_CHECKF(fabs(s.betti[q][j] - sm[best]) < 1e-12, "rep %d dim %d grid %d: %g vs %g", rep, q, j,
                  s.betti[q][j], sm[best]);
      }
    }
    ts_diagram_clear(&d);
  }
}

static void test_graph_ph(void) {
  /* a 4-cycle of signals: a square in correlation distance gives one H1 class */
  TsError err;
  size_t n = 400, units = 8;
  float *s = malloc(units * n * sizeof *s);
  for (size_t u = 0; u < units; u++)
    for (size_t k = 0; k < n; k++) s[u * n + k] = (float)cos(2 * M_PI * (double)k / 50 + M_PI * (double)u / units);
  TsRipsDist d;
  TS_CHECK(ts_probe_correlation(s, units, n, NULL, &d, &err) == TS_OK);
  TsGraphOptions o;
  ts_graph_options_init(&o);
  o.min_persistence = 0.0;
  TsDiagram dg;
  ts_diagram_init(&dg);
  TsGraphSummary sum;
  TS_CHECK(ts_probe_graph_ph(&d, &o, &dg, &sum, &err) == TS_OK);
  /* |cos| correlation of phases pi u / 8: distances 1 - |cos(pi (u - v) / 8)|, a cycle of 8 */
  TS_CHECK(ts_diagram_count(&dg, 0) == units);
  size_t h1 = ts_diagram_count(&dg, 1);
  TS_CHECKF(h1 >= 1, "H1 pairs: %zu", h1);
  o.max_epsilon = -1;
  TS_CHECK(ts_probe_graph_ph(&d, &o, &dg, &sum, &err) == TS_ERR_INVALID);
  ts_diagram_clear(&dg);
  ts_rips_dist_clear(&d);
  free(s);
}

/* The FGSM step: x_adv - x is exactly -eps sign(g) where no bound is hit,
 * the bound where one is; g is the input gradient of the mean target
 * cross-entropy as a separate forward + backward computes it; and a small
 * step lowers that loss. */
static double target_loss(TsModel *m, const TsNnCtx *ctx, const float *x, int nb, const int32_t *t) {
  ts_model_forward(m, ctx, x, nb, 0, 0);
  TsTensor *out = ts_model_output(m, 0);
  return ts_loss_cross_entropy(nb, out->shape[1], out->data, t, TS_REDUCE_MEAN, 1.0f, NULL);
}

static void test_fgsm_step(void) {
  TsError err;
  TsModelConfig cfg = ts_model_config_default(TS_MODEL_LENET5);
  cfg.in_h = cfg.in_w = 12, cfg.num_outputs = 5;
  const int nb = 6, target = 3;
  TsModel *m = ts_model_new(&cfg, nb, 7, &err);
  TS_CHECK(m != NULL);
  if (!m) return;
  TsNnCtx ctx;
  ts_nn_ctx_init(&ctx, NULL, 0);
  size_t n = (size_t)nb * 144;
  float *x = malloc(n * sizeof *x), *g = malloc(n * sizeof *g), *g2 = malloc(n * sizeof *g2);
  float *xa = malloc(n * sizeof *xa);
  for (size_t i = 0; i < n; i++) x[i] = (float)(ts_rng_uniform(&rng) * 2.0 - 1.0);
  int32_t t[6];
  for (int i = 0; i < nb; i++) t[i] = target;
  /* the reference gradient */
  TS_CHECK(ts_model_set_input_grad(m, g2, &err) == TS_OK);
  ts_model_forward(m, &ctx, x, nb, 0, 0);
  TsTensor *out = ts_model_output(m, 0);
  ts_loss_cross_entropy(nb, out->shape[1], out->data, t, TS_REDUCE_MEAN, 1.0f, out->grad);
  ts_model_backward(m, &ctx);
  ts_model_set_input_grad(m, NULL, &err);
  const float eps = 0.03f;
  float lo[1] = {-0.9f}, hi[1] = {0.95f};
  TS_CHECK(ts_probe_fgsm_batch(m, &ctx, x, nb, target, eps, lo, hi, g, xa, &err) == TS_OK);
  TS_CHECK(memcmp(g, g2, n * sizeof *g) == 0);
  size_t clipped = 0, moved = 0, bad = 0;
  for (size_t i = 0; i < n; i++) {
    float sg = g[i] > 0 ? 1.0f : g[i] < 0 ? -1.0f : 0.0f, v = x[i] - eps * sg;
    float want = v < lo[0] ? lo[0] : v > hi[0] ? hi[0] : v;
    clipped += want != v;
    moved += sg != 0.0f;
    bad += xa[i] != want || !(xa[i] >= lo[0] && xa[i] <= hi[0]) ||
           (want == v && fabsf((x[i] - xa[i]) - eps * sg) > 1e-6f);
  }
  TS_CHECKF(bad == 0, "%zu of %zu FGSM values are not clip(x - eps sign(g))", bad, n);
  TS_CHECKF(clipped > 0 && moved > n / 2, "clipped %zu moved %zu of %zu", clipped, moved, n);
  /* wide bounds: no clipping, and a small step towards the target lowers its loss */
  float wlo[1] = {-100.0f}, whi[1] = {100.0f};
  TS_CHECK(ts_probe_fgsm_batch(m, &ctx, x, nb, target, 1e-3f, wlo, whi, g, xa, &err) == TS_OK);
  double l0 = target_loss(m, &ctx, x, nb, t), l1 = target_loss(m, &ctx, xa, nb, t);
  TS_CHECKF(l1 < l0, "target loss %.9g after the step, %.9g before", l1, l0);
  double gl1 = 0.0;
  for (size_t i = 0; i < n; i++) gl1 += fabs(g[i]);
  /* first order: the loss drops by eps |g|_1 */
  TS_CHECKF(fabs((l0 - l1) - 1e-3 * gl1) < 0.1 * 1e-3 * gl1, "drop %.6g, first order %.6g", l0 - l1, 1e-3 * gl1);
  free(x);
  free(g);
  free(g2);
  free(xa);
  ts_model_free(m);
}

int main(void) {
  ts_rng_init(&rng, 15, 0);
  TS_RUN(test_capture_is_forward);
  TS_RUN(test_layer_names);
  TS_RUN(test_correlation);
  TS_RUN(test_half);
  TS_RUN(test_lifespans);
  TS_RUN(test_betti_summary);
  TS_RUN(test_graph_ph);
  TS_RUN(test_fgsm_step);
  return ts_test_finish();
}
