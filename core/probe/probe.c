/* probe.c — a whole probe (lifespans, PH dimension, functional graph) and
 * its store rows. */
#include "probe/probe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/json.h"
#include "base/rng.h"
#include "ph/diagram-io.h"
#include "ph/phdim.h"
#include "probe/capture.h"
#include "run/dist.h"

int ts_probe_what_parse(const char *s) {
  int what = 0;
  const char *p = s;
  while (p && *p) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == 9 && !strncmp(p, "lifespans", n)) what |= TS_PROBE_LIFESPANS;
    else if (n == 5 && !strncmp(p, "phdim", n)) what |= TS_PROBE_PHDIM;
    else if (n == 5 && !strncmp(p, "graph", n)) what |= TS_PROBE_GRAPH;
    else return -1;
    p = e ? e + 1 : p + n;
  }
  return what ? what : -1;
}

void ts_probe_config_init(TsProbeConfig *c) {
  memset(c, 0, sizeof *c);
  c->what = TS_PROBE_LIFESPANS;
  c->samples = 3000;
  ts_lifespan_options_init(&c->life);
  c->phdim_start = 500;
  c->phdim_step = 350;
  ts_graph_options_init(&c->graph);
  c->graph_images = 1000;
  c->graph_max_nodes = 12000;
  c->batch = 100;
}

void ts_probe_result_clear(TsProbeResult *r) {
  for (size_t k = 0; r->layers && k < r->nlayers; k++) ts_diagram_clear(&r->layers[k].diagram);
  free(r->layers);
  free(r->graph_layer_names);
  free(r->graph_layer_units);
  ts_diagram_clear(&r->graph_diagram);
  memset(r, 0, sizeof *r);
}

void ts_probe_kmeans_positions(int h, int w, int k, int32_t *of) {
  int n = h * w;
  if (k > n) k = n;
  double *cy = malloc((size_t)k * sizeof *cy), *cx = malloc((size_t)k * sizeof *cx);
  double *sy = malloc((size_t)k * sizeof *sy), *sx = malloc((size_t)k * sizeof *sx);
  int *cnt = malloc((size_t)k * sizeof *cnt);
  if (!cy || !cx || !sy || !sx || !cnt) { /* fall back to contiguous row-major bands */
    for (int p = 0; p < n; p++) of[p] = (int32_t)((long)p * k / n);
    free(cy), free(cx), free(sy), free(sx), free(cnt);
    return;
  }
  for (int g = 0; g < k; g++) { /* start: evenly spaced positions in row-major order */
    int p = (int)(((long)g * n + n / 2) / k);
    cy[g] = p / w, cx[g] = p % w;
  }
  for (int it = 0; it < 50; it++) {
    int moved = 0;
    for (int p = 0; p < n; p++) {
      int best = 0;
      double bd = INFINITY;
      for (int g = 0; g < k; g++) {
        double dy = p / w - cy[g], dx = p % w - cx[g], d = dy * dy + dx * dx;
        if (d < bd) bd = d, best = g;
      }
      if (it == 0 || of[p] != best) moved = 1;
      of[p] = best;
    }
    if (!moved) break;
    memset(sy, 0, (size_t)k * sizeof *sy);
    memset(sx, 0, (size_t)k * sizeof *sx);
    memset(cnt, 0, (size_t)k * sizeof *cnt);
    for (int p = 0; p < n; p++) sy[of[p]] += p / w, sx[of[p]] += p % w, cnt[of[p]]++;
    for (int g = 0; g < k; g++)
      if (cnt[g]) cy[g] = sy[g] / cnt[g], cx[g] = sx[g] / cnt[g];
  }
  /* renumber so that every group in [0, k) is used (an empty cluster would leave a constant node) */
  int *map = cnt;
  for (int g = 0; g < k; g++) map[g] = -1;
  int next = 0;
  for (int p = 0; p < n; p++) {
    if (map[of[p]] < 0) map[of[p]] = next++;
    of[p] = map[of[p]];
  }
  free(cy), free(cx), free(sy), free(sx), free(cnt);
}

/* Writes n x cols floats as a float64 .npy into cfg->dump_dir (no-op without one). */
static TsStatus dump(const TsProbeConfig *cfg, const char *name, const float *vf, const int64_t *vi,
                     const int32_t *v32, size_t rows, size_t cols, TsError *err) {
  if (!cfg->dump_dir[0]) return TS_OK;
  double *v = ts_alloc_array_huge(rows * cols + 1, sizeof *v, "probe dump", err);
  if (!v) return TS_ERR_NOMEM;
  for (size_t i = 0; i < rows * cols; i++) v[i] = vf ? vf[i] : vi ? (double)vi[i] : (double)v32[i];
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", cfg->dump_dir, name);
  TsStatus s = ts_npy_write_f64(path, v, rows, cols, err);
  free(v);
  return s;
}

typedef struct StageCtx {
  TsProbeStage fn;
  void *user;
  const char *stage;
} StageCtx;

static void capture_progress(void *user, size_t done, size_t total) {
  StageCtx *s = user;
  if (s->fn) s->fn(s->user, s->stage, done, total);
}

static TsStatus run_lifespans(TsModel *m, const TsProbeConfig *cfg, const TsNnCtx *ctx, const TsDataset *ds,
                              const TsAugment *aug, StageCtx *sc, volatile int *stop, TsProbeResult *res,
                              TsError *err) {
  int *nodes = NULL;
  char **names = NULL;
  size_t nl = 0;
  TsStatus s = ts_probe_layers(m, cfg->layers, TS_PROBE_FOR_LIFESPANS, &nodes, &names, &nl, err);
  if (s) return s;
  size_t N = cfg->samples > 0 && (int64_t)cfg->samples < ds->count ? (size_t)cfg->samples : (size_t)ds->count;
  int64_t *idx = ts_alloc_array(N, sizeof *idx, "probe samples", err);
  uint32_t *perm = ts_alloc_array((size_t)ds->count, sizeof *perm, "probe samples", err);
  TsProbeGroups *groups = calloc(nl, sizeof *groups);
  res->layers = calloc(nl, sizeof *res->layers);
  TsProbeCapture cap = {0};
  if (!idx || !perm || !groups || !res->layers) {
    s = ts_error_set(err, TS_ERR_NOMEM, "probe: out of memory");
    goto done;
  }
  res->nlayers = nl;
  for (size_t k = 0; k < nl; k++) ts_diagram_init(&res->layers[k].diagram);
  /* a random subset without replacement, in the order drawn */
  for (int64_t i = 0; i < ds->count; i++) perm[i] = (uint32_t)i;
  TsRng rng;
  ts_rng_init(&rng, cfg->seed, 0x9e0be5u);
  ts_rng_shuffle_u32(&rng, perm, (size_t)ds->count);
  for (size_t i = 0; i < N; i++) idx[i] = perm[i];
  for (size_t k = 0; k < nl; k++) groups[k].ngroups = 1; /* global average pool */
  double t0 = ts_clock_monotonic();
  sc->stage = "embeddings";
  s = ts_probe_capture(m, ctx, ds, aug, idx, N, nodes, nl, groups, cfg->batch, stop, capture_progress, sc, &cap,
                       err);
  res->seconds_capture += ts_clock_monotonic() - t0;
  if (!s) s = dump(cfg, "labels.npy", NULL, NULL, cap.labels, N, 1, err);
  if (!s) s = dump(cfg, "samples.npy", NULL, idx, NULL, N, 1, err);
  for (size_t k = 0; k < nl && !s; k++) {
    char fn[32];
    snprintf(fn, sizeof fn, "emb-%zu.npy", k);
    s = dump(cfg, fn, cap.data[k], NULL, NULL, N, cap.dim[k], err);
  }
  if (s) goto done;
  for (size_t k = 0; k < nl && !s; k++) {
    TsProbeLayerResult *L = &res->layers[k];
    snprintf(L->name, sizeof L->name, "%s", names[k]);
    L->dim = (int)cap.dim[k];
    L->life[0] = L->life[1] = L->phdim = L->slope = NAN;
    if (stop && *stop) {
      s = ts_error_set(err, TS_ERR_CANCELLED, "probe stopped");
      break;
    }
    if (cfg->what & TS_PROBE_LIFESPANS) {
      if (sc->fn) sc->fn(sc->user, "lifespans", k, nl);
      t0 = ts_clock_monotonic();
      TsLifespanOptions lo = cfg->life;
      lo.pool = cfg->pool;
      double sums[2];
      s = ts_probe_lifespans(cap.data[k], N, cap.dim[k], cap.labels, ds->num_classes, &lo, sums, &L->diagram, err);
      res->seconds_lifespans += ts_clock_monotonic() - t0;
      if (s) {
        ts_error_prefix(err, "layer %s", names[k]);
        break;
      }
      L->life[0] = sums[0];
      if (lo.maxdim >= 1) L->life[1] = sums[1];
    }
    if (cfg->what & TS_PROBE_PHDIM) {
      if (sc->fn) sc->fn(sc->user, "phdim", k, nl);
      t0 = ts_clock_monotonic();
      double *pts = ts_alloc_array(N * cap.dim[k], sizeof(double), "phdim points", err);
      if (!pts) {
        s = TS_ERR_NOMEM;
        break;
      }
      for (size_t i = 0; i < N * cap.dim[k]; i++) pts[i] = cap.data[k][i];
      TsPhdimResult pr;
      s = ts_phdim_estimate(pts, N, cap.dim[k], cfg->life.alpha, (size_t)cfg->phdim_start, (size_t)cfg->phdim_step,
                            cfg->seed, cfg->pool, &pr, err);
      free(pts);
      res->seconds_phdim += ts_clock_monotonic() - t0;
      if (s) {
        ts_error_prefix(err, "layer %s: PH dimension of %zu samples", names[k], N);
        break;
      }
      L->phdim = pr.phdim, L->slope = pr.slope;
      ts_phdim_result_clear(&pr);
    }
  }
done:
  ts_probe_capture_clear(&cap);
  free(idx);
  free(perm);
  free(groups);
  free(nodes);
  ts_probe_names_free(names, nl);
  return s;
}

static TsStatus run_graph(TsModel *m, const TsProbeConfig *cfg, const TsNnCtx *ctx, const TsDataset *ds,
                          const TsAugment *aug, StageCtx *sc, volatile int *stop, TsProbeResult *res, TsError *err) {
  int *nodes = NULL;
  char **names = NULL;
  size_t nl = 0;
  TsStatus s = ts_probe_layers(m, cfg->graph_layers, TS_PROBE_FOR_GRAPH, &nodes, &names, &nl, err);
  if (s) return s;
  const int share = cfg->dist && ts_dist_size() > 1, lead = !share || ts_dist_rank() == 0;
  size_t N = cfg->graph_images > 0 && (int64_t)cfg->graph_images < ds->count ? (size_t)cfg->graph_images
                                                                              : (size_t)ds->count;
  int64_t *idx = ts_alloc_array(N, sizeof *idx, "graph images", err);
  TsProbeGroups *groups = calloc(nl, sizeof *groups);
  int32_t **of = calloc(nl, sizeof *of);
  res->graph_layer_names = calloc(nl, sizeof *res->graph_layer_names);
  res->graph_layer_units = calloc(nl, sizeof *res->graph_layer_units);
  TsProbeCapture cap = {0};
  float *sig = NULL;
  TsRipsDist dist;
  ts_rips_dist_init(&dist);
  if (!idx || !groups || !of || !res->graph_layer_names || !res->graph_layer_units) {
    s = ts_error_set(err, TS_ERR_NOMEM, "probe: out of memory");
    goto done;
  }
  res->ngraph_layers = nl;
  for (size_t i = 0; i < N; i++) idx[i] = (int64_t)i;
  for (size_t k = 0; k < nl; k++) {
    int c, h, w;
    int rank = ts_model_layer_shape(m, nodes[k], &c, &h, &w);
    if (rank != 4 || h * w == 1 || cfg->partition == 0) continue;
    if (cfg->partition < 0) {
      groups[k].ngroups = 1;
      continue;
    }
    int K = cfg->partition < h * w ? cfg->partition : h * w;
    of[k] = malloc((size_t)h * w * sizeof **of);
    if (!of[k]) {
      s = ts_error_set(err, TS_ERR_NOMEM, "probe: out of memory");
      goto done;
    }
    ts_probe_kmeans_positions(h, w, K, of[k]);
    int G = 0;
    for (int p = 0; p < h * w; p++)
      if (of[k][p] + 1 > G) G = of[k][p] + 1;
    groups[k].ngroups = G;
    groups[k].of = of[k];
  }
  if (cfg->partition == 0) snprintf(res->partition, sizeof res->partition, "none: every unit is a node");
  else if (cfg->partition < 0)
    snprintf(res->partition, sizeof res->partition, "channel: each conv channel's mean over its positions is a node");
  else
    snprintf(res->partition, sizeof res->partition,
             "k-means: each conv channel's positions in %d k-means groups, each group's mean a node", cfg->partition);
  /* Under MPI rank 0 alone runs the forward passes and sends the signals:
   * every rank must correlate the same floats, and the forward is cheap
   * next to the correlations (and may differ in its last bits with the
   * thread count, which differs between ranks and hosts). */
  size_t units = 0;
  double t0 = ts_clock_monotonic();
  if (!lead) goto signals_done;
  sc->stage = "graph signals";
  s = ts_probe_capture(m, ctx, ds, aug, idx, N, nodes, nl, groups, cfg->batch, stop, capture_progress, sc, &cap,
                       err);
  res->seconds_capture += ts_clock_monotonic() - t0;
  if (s) goto signals_done;
  for (size_t k = 0; k < nl; k++) {
    snprintf(res->graph_layer_names[k], sizeof res->graph_layer_names[k], "%s", names[k]);
    res->graph_layer_units[k] = (int)cap.dim[k];
    units += cap.dim[k];
  }
  res->graph_nodes = units;
  if (cfg->graph_max_nodes > 0 && units > (size_t)cfg->graph_max_nodes) {
    s = ts_error_set(err, TS_ERR_INVALID,
                     "functional graph of %zu nodes is beyond the limit of %d (its distances alone take %.1f GB): "
                     "use a partition (channel or K groups), fewer graph layers, or raise the limit",
                     units, cfg->graph_max_nodes, (double)units * (double)(units - 1) * 2.0 / 1e9);
    goto signals_done;
  }
  if (units < 2) {
    s = ts_error_set(err, TS_ERR_INVALID, "functional graph: %zu node(s)", units);
    goto signals_done;
  }
  sig = ts_alloc_array_huge(units * N, sizeof(float), "graph signals", err);
  if (!sig) {
    s = TS_ERR_NOMEM;
    goto signals_done;
  }
  size_t u0 = 0;
  for (size_t k = 0; k < nl; k++) {
    const size_t D = cap.dim[k];
    for (size_t i = 0; i < N; i++)
      for (size_t u = 0; u < D; u++) {
        float v = cap.data[k][i * D + u];
        sig[(u0 + u) * N + i] = cfg->float16 ? ts_probe_to_half(v) : v;
      }
    u0 += D;
  }
  ts_probe_capture_clear(&cap);
signals_done:
  if (share) {
    int64_t head[2] = {(int64_t)s, (int64_t)units};
    TsError derr = {0};
    TsStatus bs = ts_dist_bcast(head, sizeof head, 0, &derr);
    if (bs && !s) *err = derr, s = bs;
    if (!s && head[0])
      s = ts_error_set(err, (TsStatus)head[0], "functional graph: rank 0 could not make the signals (%s)",
                       ts_status_name((TsStatus)head[0]));
    if (s) goto done;
    units = (size_t)head[1];
    if (!lead) {
      res->graph_nodes = units;
      if (!(sig = ts_alloc_array_huge(units * N, sizeof(float), "graph signals", err))) {
        s = TS_ERR_NOMEM;
        goto done;
      }
    }
    if ((s = ts_dist_bcast(sig, units * N * sizeof(float), 0, err))) goto done;
  } else if (s) {
    goto done;
  }
  if (lead && (s = dump(cfg, "graph-signals.npy", sig, NULL, NULL, units, N, err))) goto done;
  if (sc->fn) sc->fn(sc->user, "correlations", 0, 1);
  t0 = ts_clock_monotonic();
  s = share ? ts_probe_correlation_dist(sig, units, N, cfg->pool, &dist, err)
            : ts_probe_correlation(sig, units, N, cfg->pool, &dist, err);
  res->seconds_correlation = ts_clock_monotonic() - t0;
  free(sig);
  sig = NULL;
  if (!s && lead) s = dump(cfg, "graph-distances.npy", dist.lower, NULL, NULL, units * (units - 1) / 2, 1, err);
  if (s || !lead) goto done; /* the Rips is rank 0's */
  if (sc->fn) sc->fn(sc->user, "rips", 0, 1);
  t0 = ts_clock_monotonic();
  TsGraphOptions go = cfg->graph;
  go.pool = cfg->pool;
  s = ts_probe_graph_ph(&dist, &go, &res->graph_diagram, &res->graph, err);
  res->seconds_rips = ts_clock_monotonic() - t0;
done:
  ts_rips_dist_clear(&dist);
  free(sig);
  ts_probe_capture_clear(&cap);
  for (size_t k = 0; of && k < nl; k++) free(of[k]);
  free(of);
  free(groups);
  free(idx);
  free(nodes);
  ts_probe_names_free(names, nl);
  return s;
}

TsStatus ts_probe_run(TsModel *m, const TsProbeConfig *cfg, const TsDataset *embed_ds, const TsDataset *graph_ds,
                      const TsAugment *aug, TsProbeStage stage, void *user, volatile int *stop, TsProbeResult *res,
                      TsError *err) {
  memset(res, 0, sizeof *res);
  ts_diagram_init(&res->graph_diagram);
  res->what = cfg->what;
  TsNnCtx ctx;
  ts_nn_ctx_init(&ctx, cfg->pool, cfg->deterministic);
  StageCtx sc = {stage, user, ""};
  TsStatus s = TS_OK;
  /* Shared out (cfg->dist), the graph goes first, so that the other ranks,
   * which take part in its correlations only, are not left waiting in a
   * collective while rank 0 computes the lifespans alone. */
  const int share = cfg->dist && ts_dist_size() > 1, lead = !share || ts_dist_rank() == 0;
  if (share && (cfg->what & TS_PROBE_GRAPH)) {
    if (!graph_ds) return ts_error_set(err, TS_ERR_INVALID, "probe: no images for the functional graph");
    s = run_graph(m, cfg, &ctx, graph_ds, aug, &sc, stop, res, err);
  }
  if (!s && lead && (cfg->what & (TS_PROBE_LIFESPANS | TS_PROBE_PHDIM))) {
    if (!embed_ds) return ts_error_set(err, TS_ERR_INVALID, "probe: no images for the layer embeddings");
    s = run_lifespans(m, cfg, &ctx, embed_ds, aug, &sc, stop, res, err);
  }
  if (!s && !share && (cfg->what & TS_PROBE_GRAPH)) {
    if (!graph_ds) s = ts_error_set(err, TS_ERR_INVALID, "probe: no images for the functional graph");
    else s = run_graph(m, cfg, &ctx, graph_ds, aug, &sc, stop, res, err);
  }
  if (s) ts_probe_result_clear(res);
  return s;
}

static void json_number_list(TsJson *j, const double *v, size_t n) {
  ts_json_array_begin(j);
  for (size_t i = 0; i < n; i++) ts_json_number(j, v[i]);
  ts_json_array_end(j);
}

static void layers_json(TsJson *j, const TsProbeResult *r) {
  ts_json_key(j, "lifespan_layers");
  ts_json_array_begin(j);
  for (size_t k = 0; k < r->nlayers; k++) {
    ts_json_object_begin(j);
    ts_json_kv_string(j, "name", r->layers[k].name);
    ts_json_kv_int(j, "dim", r->layers[k].dim);
    ts_json_object_end(j);
  }
  ts_json_array_end(j);
  ts_json_key(j, "graph_layers");
  ts_json_array_begin(j);
  for (size_t k = 0; k < r->ngraph_layers; k++) {
    ts_json_object_begin(j);
    ts_json_kv_string(j, "name", r->graph_layer_names[k]);
    ts_json_kv_int(j, "nodes", r->graph_layer_units[k]);
    ts_json_object_end(j);
  }
  ts_json_array_end(j);
  if (r->what & TS_PROBE_GRAPH) {
    ts_json_kv_int(j, "graph_nodes", (int64_t)r->graph_nodes);
    ts_json_kv_string(j, "partition", r->partition);
    ts_json_kv_int(j, "graph_maxdim", r->graph.maxdim);
  }
}

/* A diagram as an n x 3 series (dim, birth, death), values times scale;
 * +inf stays +inf (the store keeps the float64 bytes as they are). */
static TsStatus store_diagram(TsStore *st, int64_t run_id, int64_t epoch, const char *name, const TsDiagram *d,
                              double scale, TsError *err) {
  double *v = malloc((d->n ? d->n : 1) * 3 * sizeof *v);
  if (!v) return ts_error_set(err, TS_ERR_NOMEM, "probe: out of memory");
  for (size_t i = 0; i < d->n; i++)
    v[3 * i] = d->pairs[i].dim, v[3 * i + 1] = d->pairs[i].birth * scale, v[3 * i + 2] = d->pairs[i].death * scale;
  TsStatus s = ts_store_series(st, run_id, epoch, name, v, (int64_t)d->n, 3, err);
  free(v);
  return s;
}

TsStatus ts_probe_store(TsStore *st, int64_t run_id, int64_t epoch, const TsProbeResult *r, TsError *err) {
  TsStatus s = TS_OK;
  size_t nl = r->nlayers;
  if (nl && (r->what & (TS_PROBE_LIFESPANS | TS_PROBE_PHDIM))) {
    double *v = malloc(nl * 2 * sizeof *v);
    if (!v) return ts_error_set(err, TS_ERR_NOMEM, "probe: out of memory");
    if (r->what & TS_PROBE_LIFESPANS) {
      for (size_t k = 0; k < nl; k++) v[2 * k] = r->layers[k].life[0], v[2 * k + 1] = r->layers[k].life[1];
      s = ts_store_series(st, run_id, epoch, "probe/lifespans", v, (int64_t)nl, 2, err);
    }
    if (!s && (r->what & TS_PROBE_PHDIM)) {
      for (size_t k = 0; k < nl; k++) v[2 * k] = r->layers[k].phdim, v[2 * k + 1] = r->layers[k].slope;
      s = ts_store_series(st, run_id, epoch, "probe/phdim", v, (int64_t)nl, 2, err);
    }
    free(v);
  }
  for (size_t k = 0; k < nl && !s && (r->what & TS_PROBE_LIFESPANS); k++) {
    char name[96];
    snprintf(name, sizeof name, "probe/diagram/%s", r->layers[k].name);
    s = store_diagram(st, run_id, epoch, name, &r->layers[k].diagram, 1.0, err);
  }
  if (!s && (r->what & TS_PROBE_GRAPH))
    s = store_diagram(st, run_id, epoch, "probe/graph_diagram", &r->graph_diagram, 0.5, err);
  if (!s && (r->what & TS_PROBE_GRAPH)) {
    double curve[2 * TS_GRAPH_GRID];
    char name[64];
    for (int q = 0; q <= r->graph.maxdim && !s; q++) {
      for (int j = 0; j < TS_GRAPH_GRID; j++) curve[2 * j] = ts_graph_grid(j), curve[2 * j + 1] = r->graph.betti[q][j];
      snprintf(name, sizeof name, "probe/betti/dim%d", q);
      s = ts_store_series(st, run_id, epoch, name, curve, TS_GRAPH_GRID, 2, err);
    }
    if (!s) s = ts_store_series(st, run_id, epoch, "probe/avglife", r->graph.avglife, 1, r->graph.maxdim + 1, err);
    if (!s) s = ts_store_series(st, run_id, epoch, "probe/midlife", r->graph.midlife, 1, r->graph.maxdim + 1, err);
  }
  if (!s) {
    TsJson j;
    ts_json_init(&j);
    ts_json_object_begin(&j);
    layers_json(&j, r);
    ts_json_object_end(&j);
    const char *t = ts_json_text(&j);
    if (!t) s = ts_error_set(err, TS_ERR_NOMEM, "probe: out of memory");
    else s = ts_store_blob(st, run_id, epoch, "probe/layers", "application/json", t, strlen(t), err);
    ts_json_clear(&j);
  }
  return s;
}

void ts_probe_result_json(TsJson *j, const TsProbeResult *r, const TsProbeConfig *cfg) {
  ts_json_object_begin(j);
  layers_json(j, r);
  ts_json_key(j, "layers");
  ts_json_array_begin(j);
  for (size_t k = 0; k < r->nlayers; k++) {
    const TsProbeLayerResult *L = &r->layers[k];
    ts_json_object_begin(j);
    ts_json_kv_string(j, "name", L->name);
    ts_json_kv_int(j, "dim", L->dim);
    if (r->what & TS_PROBE_LIFESPANS) {
      ts_json_kv_number(j, "lifespan_h0", L->life[0]);
      ts_json_kv_number(j, "lifespan_h1", L->life[1]);
    }
    if (r->what & TS_PROBE_PHDIM) {
      ts_json_kv_number(j, "phdim", L->phdim);
      ts_json_kv_number(j, "phdim_slope", L->slope);
    }
    ts_json_object_end(j);
  }
  ts_json_array_end(j);
  if (r->what & (TS_PROBE_LIFESPANS | TS_PROBE_PHDIM)) {
    ts_json_kv_string(j, "lifespan_mode", cfg->life.local ? "local" : "global");
    ts_json_kv_int(j, "samples", cfg->samples);
    ts_json_kv_number(j, "alpha", cfg->life.alpha);
  }
  if (r->what & TS_PROBE_GRAPH) {
    ts_json_key(j, "graph");
    ts_json_object_begin(j);
    ts_json_kv_int(j, "images", cfg->graph_images);
    ts_json_kv_number(j, "max_epsilon", cfg->graph.max_epsilon);
    ts_json_kv_bool(j, "float16", cfg->float16);
    ts_json_kv_string(j, "midlife", cfg->graph.midlife_original ? "original: mean(d + b/2)" : "mean((b + d)/2)");
    ts_json_key(j, "pairs");
    ts_json_array_begin(j);
    for (int q = 0; q <= r->graph.maxdim; q++) ts_json_int(j, (int64_t)r->graph.pairs[q]);
    ts_json_array_end(j);
    ts_json_key(j, "avglife");
    json_number_list(j, r->graph.avglife, (size_t)r->graph.maxdim + 1);
    ts_json_key(j, "midlife");
    json_number_list(j, r->graph.midlife, (size_t)r->graph.maxdim + 1);
    ts_json_key(j, "grid");
    double grid[TS_GRAPH_GRID];
    for (int q = 0; q < TS_GRAPH_GRID; q++) grid[q] = ts_graph_grid(q);
    json_number_list(j, grid, TS_GRAPH_GRID);
    ts_json_key(j, "betti");
    ts_json_array_begin(j);
    for (int q = 0; q <= r->graph.maxdim; q++) json_number_list(j, r->graph.betti[q], TS_GRAPH_GRID);
    ts_json_array_end(j);
    ts_json_kv_number(j, "seconds_correlation", r->seconds_correlation);
    ts_json_kv_number(j, "seconds_rips", r->seconds_rips);
    ts_json_object_end(j);
  }
  ts_json_kv_number(j, "seconds_capture", r->seconds_capture);
  ts_json_kv_number(j, "seconds_lifespans", r->seconds_lifespans);
  ts_json_kv_number(j, "seconds_phdim", r->seconds_phdim);
  ts_json_object_end(j);
}
