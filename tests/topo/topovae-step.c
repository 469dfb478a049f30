/* topovae-step.c — one lockstep TopoVAE step of the vae objective on a
 * random image batch, written for test-topovae-torch.py: the initial
 * weights, the batch, the noise (as z, mu, logvar), both models' gradients
 * and losses (safetensors), and the diagrams with edges plus the bottleneck
 * choices the topological loss used (CSV, JSON).
 * Usage: topovae-step DIR output|latent */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "nn/safetensors.h"
#include "ph/diagram-io.h"
#include "run/objective-vae.h"
#include "topo/topoloss.h"

enum { B = 24 };

static int fail(const TsError *e) {
  fprintf(stderr, "topovae-step: %s\n", e->message);
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: topovae-step DIR output|latent\n");
    return 2;
  }
  const char *dir = argv[1];
  const int latent = strcmp(argv[2], "latent") == 0;
  TsError err = {0};
  TsRng r;
  ts_rng_init(&r, 14, latent);
  TsDataset ds = {0};
  if (ts_dataset_alloc(&ds, B, 1, 28, 28, 10, &err)) return fail(&err);
  snprintf(ds.source, sizeof ds.source, "random");
  float *x = malloc(B * 784 * sizeof *x);
  for (int i = 0; i < B * 784; i++) {
    ds.pixels[i] = ts_rng_uniform(&r) < 0.5 ? 0 : (uint8_t)ts_rng_below(&r, 256);
    x[i] = ds.pixels[i] / 255.0f;
  }
  TsObjectiveConfig oc = ts_objective_config_default();
  snprintf(oc.task, sizeof oc.task, "vae");
  const double w[7] = {10, 10, 10, 10, 1, 1, 1};
  memcpy(oc.topo_weights, w, sizeof w);
  oc.topo_on_latent = latent;
  oc.lockstep = 1;
  TsObjective *o = ts_objective_new(&oc, &ds, NULL, &err);
  if (!o) return fail(&err);
  TsModelConfig mc = ts_model_config_default(TS_MODEL_TOPOVAE);
  TsModel *m = ts_model_new(&mc, B, 42, &err);
  if (!m || o->ops->attach(o, m, B, 42, &err)) return fail(&err);
  TsModel *plain = ts_objective_vae_plain(o);
  TsPool *pool = ts_pool_new(2, &err);
  TsNnCtx ctx;
  ts_nn_ctx_init(&ctx, pool, 1);
  int64_t ids[B];
  int32_t y[B];
  for (int i = 0; i < B; i++) ids[i] = i, y[i] = 0;
  TsBatch b = {.index = 0, .n = B, .c = 1, .h = 28, .w = 28, .x = x, .y = y, .ids = ids};
  ts_model_zero_grad(m);
  ts_model_zero_grad(plain);
  TsObjStep st = {.model = m, .ctx = &ctx, .batch = &b, .seed = 7};
  if (o->ops->step(o, &st, &err)) return fail(&err);

  /* the topological loss again, on the same data: its diagrams and choices */
  TsTopoDiagram target;
  ts_topo_diagram_init(&target);
  if (ts_topo_diagram_of_cloud(&target, x, B, 784, 1, NULL, &err)) return fail(&err);
  TsTopoWork *wk = ts_topo_work_new(NULL, &err);
  TsTopoConfig tc;
  ts_topo_config_init(&tc);
  memcpy(tc.weights, w, sizeof w);
  const TsTensor *X = ts_model_output(m, latent ? 1 : 0);
  TsTopoResult res;
  if (ts_topo_loss(wk, X->data, B, X->numel / B, &target, &tc, NULL, &res, &err)) return fail(&err);
  char path[4096];
  snprintf(path, sizeof path, "%s/x-diagram.csv", dir);
  if (ts_diagram_write(path, TS_DGM_CSV, &ts_topo_work_diagram(wk)->fin, &err)) return fail(&err);
  snprintf(path, sizeof path, "%s/y-diagram.csv", dir);
  if (ts_diagram_write(path, TS_DGM_CSV, &target.fin, &err)) return fail(&err);

  TsStWriter *sw = ts_st_writer_new(&err);
  size_t n;
  const TsNamedTensor *t = ts_model_tensors(m, &n);
  ts_st_writer_add_named(sw, "init.", t, n, &err);
  /* gradients as tensors of their own */
  for (size_t i = 0; i < n; i++)
    if (t[i].grad) {
      char name[300];
      snprintf(name, sizeof name, "grad.%s", t[i].name);
      ts_st_writer_add(sw, name, TS_ST_F32, t[i].ndim, t[i].shape, t[i].grad, &err);
    }
  const TsNamedTensor *pt = ts_model_tensors(plain, &n);
  for (size_t i = 0; i < n; i++)
    if (pt[i].grad) {
      char name[300];
      snprintf(name, sizeof name, "vgrad.%s", pt[i].name);
      ts_st_writer_add(sw, name, TS_ST_F32, pt[i].ndim, pt[i].shape, pt[i].grad, &err);
    }
  int64_t xs[4] = {B, 1, 28, 28}, ls[2] = {B, mc.latent};
  ts_st_writer_add(sw, "x", TS_ST_F32, 4, xs, x, &err);
  ts_st_writer_add(sw, "z", TS_ST_F32, 2, ls, ts_model_output(m, 3)->data, &err);
  ts_st_writer_add(sw, "mu", TS_ST_F32, 2, ls, ts_model_output(m, 1)->data, &err);
  ts_st_writer_add(sw, "logvar", TS_ST_F32, 2, ls, ts_model_output(m, 2)->data, &err);
  char meta[1024];
  snprintf(meta, sizeof meta,
           "{\"loss\": %.17g, \"topovae_bce\": %.17g, \"vae_bce\": %.17g, \"topo\": %.17g, \"depends\": %d, "
           "\"match0\": [%lld, %lld], \"match1\": [%lld, %lld], \"latent\": %d, \"weights\": [10,10,10,10,1,1,1]}",
           st.loss, ts_obj_metrics_get(&st.extra, "topovae/bce"), ts_obj_metrics_get(&st.extra, "vae/bce"),
           ts_obj_metrics_get(&st.extra, "topovae/topo"), res.depends, (long long)res.match[0][0],
           (long long)res.match[0][1], (long long)res.match[1][0], (long long)res.match[1][1], latent);
  ts_st_writer_meta(sw, "case", meta, &err);
  snprintf(path, sizeof path, "%s/step.safetensors", dir);
  if (ts_st_writer_write(sw, path, &err)) return fail(&err);
  ts_st_writer_free(sw);
  ts_topo_work_free(wk);
  ts_topo_diagram_clear(&target);
  ts_model_free(m);
  ts_objective_free(o);
  ts_pool_free(pool);
  ts_dataset_clear(&ds);
  free(x);
  return 0;
}
