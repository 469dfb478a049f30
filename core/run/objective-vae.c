/* objective-vae.c — the VAE and Topo-GEN's TopoVAE as a training objective.
 *
 * Per step, for the main model (the TopoVAE):
 *   loss = (BCE_sum(recon, x) + KLD_sum(mu, logvar) + topo) / B
 * where topo = sum_k w_k L_k(X, D(x)) over the topological losses that
 * depend on X (topo/topoloss.h, Topo-GEN's TopologicalLoss), X being the
 * batch of reconstructions flattened to B points of 784 values (topo_on
 * output) or the batch of latent means (B points of `latent` values,
 * topo_on latent — the variant Topo-GEN describes but never built), and
 * D(x) the Rips diagram of the input batch (784-dimensional points).
 * Topo-GEN computes the input batches' diagrams once before training (no
 * shuffling); here batches are shuffled each epoch, so each step computes
 * its input batch's diagram (it is counted in the topological time).
 *
 * With lockstep, a plain VAE (the extra model, checkpoint prefix "vae.")
 * starts from the main model's initial weights and trains on the same
 * batches with the same noise eps (the same step seed): Topo-GEN's
 * comparison, with the noise shared to take one source of variance out.
 *
 * Metrics per step (a run without weights or lockstep, a plain VAE, names
 * its main model's metrics vae/ instead): topovae/bce, topovae/kld (sums
 * / B), topovae/topo (the
 * weighted topological total, before the / B), topovae/topo_ms; with
 * lockstep vae/bce, vae/kld. Per epoch: train/epoch_loss, topovae/epoch_bce
 * (vae/epoch_bce); validation (z = mu): val/loss (BCE + KLD per image of the
 * main model), topovae/val_bce, vae/val_bce. Sums: 0 = loss, 1 = main BCE,
 * 2 = plain BCE, each summed over samples. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "nn/loss.h"
#include "run/objective.h"
#include "run/objective-vae.h"
#include "topo/topoloss.h"

typedef struct Vae {
  TsObjective base;
  TsModel *plain; /* lockstep plain VAE (owned) or NULL */
  TsTopoWork *work;
  TsTopoDiagram target;
  TsTopoConfig tcfg;
  int topo; /* some topological weight is nonzero */
  float *tgrad;
  size_t tcap;
} Vae;

/* The main model's metric prefix: "vae" for a plain VAE run (no weights,
 * no lockstep), else "topovae". */
static const char *main_name(const Vae *v) { return v->topo || v->plain ? "topovae" : "vae"; }

static int head_outputs(const TsObjective *o, const TsDataset *train) {
  (void)o;
  (void)train;
  return 0;
}

static TsStatus attach(TsObjective *o, TsModel *main, int max_batch, uint64_t seed, TsError *err) {
  Vae *v = (Vae *)o;
  const TsModelConfig *mc = ts_model_config(main);
  if (mc->kind != TS_MODEL_TOPOVAE)
    return ts_error_set(err, TS_ERR_INVALID, "--task vae trains --model topovae, not %s", ts_model_kind_name(mc->kind));
  if (!o->cfg.lockstep) return TS_OK;
  if (!(v->plain = ts_model_new(mc, max_batch, seed, err))) return err ? err->code : TS_ERR_NOMEM;
  /* the same initial weights, whatever initialised the main model */
  size_t na, nb;
  const TsNamedTensor *a = ts_model_tensors(main, &na);
  const TsNamedTensor *b = ts_model_tensors(v->plain, &nb);
  if (na != nb) return ts_error_set(err, TS_ERR_INTERNAL, "lockstep VAE: %zu tensors, main model %zu", nb, na);
  for (size_t i = 0; i < na; i++) memcpy(b[i].data, a[i].data, a[i].numel * ts_nn_dtype_size(a[i].dtype));
  return TS_OK;
}

static int extra_models(TsObjective *o, TsModel **models, const char **prefixes) {
  Vae *v = (Vae *)o;
  if (!v->plain) return 0;
  models[0] = v->plain;
  prefixes[0] = "vae.";
  return 1;
}

/* BCE_sum + KLD_sum of a forward pass already made, gradients scaled 1/B. */
static void vae_loss(TsModel *m, const float *x, int B, double *bce, double *kld) {
  TsTensor *out = ts_model_output(m, 0), *mu = ts_model_output(m, 1), *lv = ts_model_output(m, 2);
  *bce = ts_loss_bce(out->numel, out->data, x, TS_REDUCE_SUM, 1.0f / (float)B, out->grad);
  *kld = ts_loss_gaussian_kl(mu->numel, mu->data, lv->data, 1.0f / (float)B, mu->grad, lv->grad);
}

static TsStatus step(TsObjective *o, TsObjStep *s, TsError *err) {
  Vae *v = (Vae *)o;
  const TsBatch *b = s->batch;
  const int B = b->n;
  const size_t D = (size_t)b->c * (size_t)b->h * (size_t)b->w;
  ts_model_forward(s->model, s->ctx, b->x, B, 1, s->seed);
  double bce, kld, topo = 0, topo_ms = 0, t0 = ts_clock_monotonic();
  /* The input batch's diagram needs only the input: on a device it is
   * computed while the forward still runs (its outputs are waited for by
   * ts_model_output, in vae_loss). */
  if (v->topo) {
    if (!v->work && !(v->work = ts_topo_work_new(s->ctx->pool, err))) return err ? err->code : TS_ERR_NOMEM;
    TsStatus st = ts_topo_diagram_of_cloud(&v->target, b->x, (size_t)B, D, o->cfg.topo_deg, s->ctx->pool, err);
    if (st) return st;
    topo_ms = 1e3 * (ts_clock_monotonic() - t0);
  }
  vae_loss(s->model, b->x, B, &bce, &kld);
  if (v->topo) {
    t0 = ts_clock_monotonic();
    TsTensor *xt = ts_model_output(s->model, o->cfg.topo_on_latent ? 1 : 0);
    const size_t dim = xt->numel / (size_t)B;
    TsStatus st;
    if (xt->numel > v->tcap) {
      float *g = realloc(v->tgrad, xt->numel * sizeof *g);
      if (!g) return ts_error_set(err, TS_ERR_NOMEM, "topological gradient");
      v->tgrad = g;
      v->tcap = xt->numel;
    }
    TsTopoResult r;
    if ((st = ts_topo_loss(v->work, xt->data, (size_t)B, dim, &v->target, &v->tcfg, v->tgrad, &r, err))) return st;
    if (r.depends) {
      topo = r.total;
      for (size_t k = 0; k < xt->numel; k++) xt->grad[k] += v->tgrad[k] / (float)B;
    }
    topo_ms += 1e3 * (ts_clock_monotonic() - t0);
  }
  s->loss = (bce + kld + topo) / B;
  if (!isfinite(s->loss)) return TS_OK; /* the loop names the step */
  ts_model_backward(s->model, s->ctx);
  s->sums[0] = s->loss * B;
  s->sums[1] = bce;
  const char *me = main_name(v);
  char name[48];
  snprintf(name, sizeof name, "%s/bce", me);
  ts_obj_metrics_add(&s->extra, name, bce / B);
  snprintf(name, sizeof name, "%s/kld", me);
  ts_obj_metrics_add(&s->extra, name, kld / B);
  if (v->topo) {
    ts_obj_metrics_add(&s->extra, "topovae/topo", topo);
    ts_obj_metrics_add(&s->extra, "topovae/topo_ms", topo_ms);
  }
  if (v->plain) {
    double bce2, kld2;
    ts_model_forward(v->plain, s->ctx, b->x, B, 1, s->seed);
    vae_loss(v->plain, b->x, B, &bce2, &kld2);
    ts_model_backward(v->plain, s->ctx);
    s->sums[2] = bce2;
    ts_obj_metrics_add(&s->extra, "vae/bce", bce2 / B);
    ts_obj_metrics_add(&s->extra, "vae/kld", kld2 / B);
  }
  return TS_OK;
}

static void epoch_metrics(const TsObjective *o, const double *sums, int64_t seen, TsObjMetrics *out) {
  const Vae *v = (const Vae *)o;
  double n = seen ? (double)seen : NAN;
  ts_obj_metrics_add(out, "train/epoch_loss", sums[0] / n);
  char name[48];
  snprintf(name, sizeof name, "%s/epoch_bce", main_name(v));
  ts_obj_metrics_add(out, name, sums[1] / n);
  if (v->plain) ts_obj_metrics_add(out, "vae/epoch_bce", sums[2] / n);
}

typedef struct VaeAcc {
  double bce, kld, bce2;
} VaeAcc;

static void *eval_begin(TsObjective *o, TsError *err) {
  (void)o;
  VaeAcc *a = calloc(1, sizeof *a);
  if (!a) ts_error_set(err, TS_ERR_NOMEM, "evaluation");
  return a;
}

static TsStatus eval_batch(TsObjective *o, void *acc, TsModel *m, const TsNnCtx *ctx, const TsBatch *b,
                           TsError *err) {
  (void)err;
  Vae *v = (Vae *)o;
  VaeAcc *a = acc;
  ts_model_forward(m, ctx, b->x, b->n, 0, 0);
  TsTensor *out = ts_model_output(m, 0), *mu = ts_model_output(m, 1), *lv = ts_model_output(m, 2);
  a->bce += ts_loss_bce(out->numel, out->data, b->x, TS_REDUCE_SUM, 1.0f, NULL);
  a->kld += ts_loss_gaussian_kl(mu->numel, mu->data, lv->data, 1.0f, NULL, NULL);
  if (v->plain) {
    ts_model_forward(v->plain, ctx, b->x, b->n, 0, 0);
    out = ts_model_output(v->plain, 0);
    a->bce2 += ts_loss_bce(out->numel, out->data, b->x, TS_REDUCE_SUM, 1.0f, NULL);
  }
  return TS_OK;
}

static void eval_end(TsObjective *o, void *acc, int64_t count, TsObjMetrics *out) {
  Vae *v = (Vae *)o;
  VaeAcc *a = acc;
  double n = count ? (double)count : NAN;
  ts_obj_metrics_add(out, "val/loss", (a->bce + a->kld) / n);
  char name[48];
  snprintf(name, sizeof name, "%s/val_bce", main_name(v));
  ts_obj_metrics_add(out, name, a->bce / n);
  if (v->plain) ts_obj_metrics_add(out, "vae/val_bce", a->bce2 / n);
  free(a);
}

static void vae_free(TsObjective *o) {
  Vae *v = (Vae *)o;
  ts_model_free(v->plain);
  ts_topo_work_free(v->work);
  ts_topo_diagram_clear(&v->target);
  free(v->tgrad);
  free(v);
}

static const TsObjectiveOps ops = {
    .name = "vae",
    .n_sums = 3,
    .head_outputs = head_outputs,
    .attach = attach,
    .extra_models = extra_models,
    .step = step,
    .epoch_metrics = epoch_metrics,
    .eval_begin = eval_begin,
    .eval_batch = eval_batch,
    .eval_end = eval_end,
    .free = vae_free,
};

TsObjective *ts_objective_vae_new(const TsObjectiveConfig *cfg, const TsDataset *train, const TsDataset *val,
                                  TsError *err) {
  const TsDataset *ds[2] = {train, val};
  for (int k = 0; k < 2; k++)
    if (ds[k] && ds[k]->channels != 1) {
      ts_error_set(err, TS_ERR_INVALID, "%s: the VAE takes grey images (1 channel), not %d channels", ds[k]->source,
                   ds[k]->channels);
      return NULL;
    }
  if (cfg->topo_deg != 0 && cfg->topo_deg != 1) {
    ts_error_set(err, TS_ERR_INVALID, "--topo-deg must be 0 or 1, not %d", cfg->topo_deg);
    return NULL;
  }
  Vae *v = calloc(1, sizeof *v);
  if (!v) {
    ts_error_set(err, TS_ERR_NOMEM, "objective");
    return NULL;
  }
  v->base.ops = &ops;
  ts_topo_diagram_init(&v->target);
  ts_topo_config_init(&v->tcfg);
  for (int k = 0; k < TS_TOPO_NLOSS; k++) {
    v->tcfg.weights[k] = cfg->topo_weights[k];
    v->topo |= cfg->topo_weights[k] != 0;
  }
  v->tcfg.deg = cfg->topo_deg;
  v->tcfg.push0_fallback = 0; /* Topo-GEN's TopoVAE adds nothing when no loss depends on the batch */
  return &v->base; /* the workspace comes with the first step (and its pool) */
}

/* ---- the epoch's pictures and latent codes ------------------------------------ */

TsModel *ts_objective_vae_plain(TsObjective *o) {
  return o && o->ops == &ops ? ((Vae *)o)->plain : NULL;
}
