/* fgsm.c — targeted FGSM over a dataset, success rates and the lifespans of
 * the adversarial embeddings. */
#include "probe/fgsm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rng.h"
#include "nn/loss.h"
#include "probe/capture.h"

TsStatus ts_probe_fgsm_batch(TsModel *m, const TsNnCtx *ctx, const float *x, int nb, int target, float eps,
                             const float *lo, const float *hi, float *grad, float *xadv, TsError *err) {
  const TsModelConfig *mc = ts_model_config(m);
  const size_t hw = (size_t)mc->in_h * mc->in_w, per = (size_t)mc->in_channels * hw;
  TsStatus s = ts_model_set_input_grad(m, grad, err);
  if (s) return s;
  int32_t *tl = malloc((size_t)(nb > 0 ? nb : 1) * sizeof *tl);
  if (!tl) {
    ts_model_set_input_grad(m, NULL, err);
    return ts_error_set(err, TS_ERR_NOMEM, "fgsm: out of memory");
  }
  for (int i = 0; i < nb; i++) tl[i] = target;
  ts_model_forward(m, ctx, x, nb, 0, 0);
  TsTensor *out = ts_model_output(m, 0);
  ts_loss_cross_entropy(nb, out->shape[1], out->data, tl, TS_REDUCE_MEAN, 1.0f, out->grad);
  ts_model_backward(m, ctx);
  ts_model_set_input_grad(m, NULL, err);
  free(tl);
  for (int i = 0; i < nb; i++)
    for (int c = 0; c < mc->in_channels; c++)
      for (size_t p = 0; p < hw; p++) {
        size_t k = (size_t)i * per + (size_t)c * hw + p;
        float g = grad[k], sg = g > 0.0f ? 1.0f : g < 0.0f ? -1.0f : 0.0f;
        float v = x[k] - eps * sg; /* descend the loss towards the target */
        xadv[k] = v < lo[c] ? lo[c] : v > hi[c] ? hi[c] : v;
      }
  return TS_OK;
}

void ts_fgsm_result_clear(TsFgsmResult *r) {
  free(r->eps);
  free(r->success);
  free(r->names);
  free(r->life0);
  memset(r, 0, sizeof *r);
}

static int argmax(const float *v, int n) {
  int b = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[b]) b = i;
  return b;
}

TsStatus ts_probe_fgsm(TsModel *m, const TsProbeConfig *cfg, const TsDataset *ds, const TsAugment *aug,
                       const double *eps, size_t neps, int target, TsFgsmResult *res, TsError *err) {
  memset(res, 0, sizeof *res);
  const TsModelConfig *mc = ts_model_config(m);
  if (target < 0 || target >= mc->num_outputs)
    return ts_error_set(err, TS_ERR_INVALID, "fgsm: target class %d out of range 0..%d", target, mc->num_outputs - 1);
  for (size_t e = 0; e < neps; e++)
    if (!(eps[e] > 0.0)) return ts_error_set(err, TS_ERR_INVALID, "fgsm: epsilon %g must be > 0", eps[e]);
  int oh, ow;
  ts_augment_out_size(aug, ds->height, ds->width, &oh, &ow);
  if (ds->channels != mc->in_channels || oh != mc->in_h || ow != mc->in_w || mc->in_channels > 4)
    return ts_error_set(err, TS_ERR_INVALID, "%s: images of %d x %d x %d, the model takes %d x %d x %d", ds->source,
                        ds->channels, oh, ow, mc->in_channels, mc->in_h, mc->in_w);
  int *nodes = NULL;
  char **names = NULL;
  size_t nl = 0;
  TsStatus s = ts_probe_layers(m, cfg->layers, TS_PROBE_FOR_LIFESPANS, &nodes, &names, &nl, err);
  if (s) return s;
  TsNnCtx ctx;
  ts_nn_ctx_init(&ctx, cfg->pool, cfg->deterministic);
  int batch = cfg->batch > 0 && cfg->batch <= ts_model_max_batch(m) ? cfg->batch : ts_model_max_batch(m);
  const size_t per = (size_t)mc->in_channels * oh * ow;
  /* the images: a random draw (as the lifespan probe), those not of the target class */
  uint32_t *perm = ts_alloc_array((size_t)ds->count, sizeof *perm, "fgsm samples", err);
  int64_t *idx = ts_alloc_array((size_t)ds->count, sizeof *idx, "fgsm samples", err);
  float *x = ts_alloc_array((size_t)batch * per, sizeof(float), "fgsm batch", err);
  float *g = ts_alloc_array((size_t)batch * per, sizeof(float), "fgsm batch", err);
  float *xa = ts_alloc_array((size_t)batch * per, sizeof(float), "fgsm batch", err);
  float *scratch = ts_alloc_array(ts_augment_scratch(aug, ds->channels, ds->height, ds->width) + 1, sizeof(float),
                                  "fgsm scratch", err);
  float **emb = calloc(nl, sizeof *emb);
  size_t *dim = calloc(nl, sizeof *dim);
  int32_t *labels = NULL;
  res->eps = calloc(neps ? neps : 1, sizeof *res->eps);
  res->success = calloc(neps ? neps : 1, sizeof *res->success);
  res->names = calloc(nl, sizeof *res->names);
  res->life0 = calloc(neps * nl + 1, sizeof *res->life0);
  if (!perm || !idx || !x || !g || !xa || !scratch || !emb || !dim || !res->eps || !res->success || !res->names ||
      !res->life0) {
    s = ts_error_set(err, TS_ERR_NOMEM, "fgsm: out of memory");
    goto done;
  }
  for (int64_t i = 0; i < ds->count; i++) perm[i] = (uint32_t)i;
  TsRng rng;
  ts_rng_init(&rng, cfg->seed, 0x9e0be5u);
  ts_rng_shuffle_u32(&rng, perm, (size_t)ds->count);
  size_t want = cfg->samples > 0 ? (size_t)cfg->samples : (size_t)ds->count, N = 0;
  for (int64_t i = 0; i < ds->count && N < want; i++)
    if (ds->labels[perm[i]] != target) idx[N++] = perm[i];
  if (N == 0) {
    s = ts_error_set(err, TS_ERR_INVALID, "%s: no image outside class %d to attack", ds->source, target);
    goto done;
  }
  labels = calloc(N, sizeof *labels);
  if (!labels) {
    s = ts_error_set(err, TS_ERR_NOMEM, "fgsm: out of memory");
    goto done;
  }
  for (size_t i = 0; i < N; i++) labels[i] = ds->labels[idx[i]];
  for (size_t k = 0; k < nl; k++) {
    int c, h, w;
    ts_model_layer_shape(m, nodes[k], &c, &h, &w);
    dim[k] = (size_t)c; /* global average pool of conv outputs; dense outputs as they are */
    emb[k] = ts_alloc_array(N * dim[k], sizeof(float), "fgsm embeddings", err);
    if (!emb[k]) {
      s = TS_ERR_NOMEM;
      goto done;
    }
    snprintf(res->names[k], sizeof res->names[k], "%s", names[k]);
  }
  float lo[4], hi[4];
  for (int c = 0; c < mc->in_channels; c++) {
    float sd = aug->std[c] != 0.0f ? aug->std[c] : 1.0f;
    lo[c] = (0.0f - aug->mean[c]) / sd, hi[c] = (1.0f - aug->mean[c]) / sd;
  }
  res->neps = neps, res->nlayers = nl, res->attacked = N;
  size_t clean = 0;
  for (size_t e = 0; e < neps && !s; e++) {
    size_t hits = 0;
    for (size_t b0 = 0; b0 < N; b0 += (size_t)batch) {
      int nb = (int)(N - b0 < (size_t)batch ? N - b0 : (size_t)batch);
      for (int i = 0; i < nb; i++)
        ts_augment_apply(aug, ts_dataset_sample(ds, idx[b0 + (size_t)i]), ds->channels, ds->height, ds->width, NULL,
                         x + (size_t)i * per, scratch);
      s = ts_probe_fgsm_batch(m, &ctx, x, nb, target, (float)eps[e], lo, hi, g, xa, err);
      if (s) break;
      const TsTensor *out = ts_model_output(m, 0); /* still the clean forward's logits */
      int nc = out->shape[1];
      if (e == 0)
        for (int i = 0; i < nb; i++) clean += argmax(out->data + (size_t)i * nc, nc) == target;
      ts_model_forward(m, &ctx, xa, nb, 0, 0);
      for (int i = 0; i < nb; i++) hits += argmax(out->data + (size_t)i * nc, nc) == target;
      for (size_t k = 0; k < nl; k++) {
        const TsTensor *t = ts_model_layer_output(m, nodes[k]);
        const float *src = t->data ? t->data : xa;
        size_t lper = t->numel / (size_t)nb, HW = lper / dim[k];
        for (int i = 0; i < nb; i++)
          for (size_t c = 0; c < dim[k]; c++) {
            double a = 0.0;
            for (size_t p = 0; p < HW; p++) a += src[(size_t)i * lper + c * HW + p];
            emb[k][(b0 + (size_t)i) * dim[k] + c] = (float)(a / (double)HW);
          }
      }
    }
    if (s) break;
    res->eps[e] = eps[e];
    res->success[e] = (double)hits / (double)N;
    if (e == 0) res->clean = (double)clean / (double)N;
    for (size_t k = 0; k < nl && !s; k++) {
      TsLifespanOptions lo2 = cfg->life;
      lo2.pool = cfg->pool;
      lo2.maxdim = 0;
      double sums[2];
      s = ts_probe_lifespans(emb[k], N, dim[k], labels, ds->num_classes, &lo2, sums, NULL, err);
      if (s) ts_error_prefix(err, "fgsm eps %g, layer %s", eps[e], names[k]);
      else res->life0[e * nl + k] = sums[0];
    }
  }
done:
  if (emb)
    for (size_t k = 0; k < nl; k++) free(emb[k]);
  free(emb);
  free(dim);
  free(labels);
  free(perm);
  free(idx);
  free(x);
  free(g);
  free(xa);
  free(scratch);
  free(nodes);
  ts_probe_names_free(names, nl);
  if (s) ts_fgsm_result_clear(res);
  return s;
}

TsStatus ts_fgsm_store(TsStore *st, int64_t run_id, int64_t epoch, const TsFgsmResult *r, TsError *err) {
  size_t cols = 2 + r->nlayers;
  double *v = malloc((r->neps * cols + 1) * sizeof *v);
  if (!v) return ts_error_set(err, TS_ERR_NOMEM, "fgsm: out of memory");
  for (size_t e = 0; e < r->neps; e++) {
    v[e * cols] = r->eps[e], v[e * cols + 1] = r->success[e];
    for (size_t k = 0; k < r->nlayers; k++) v[e * cols + 2 + k] = r->life0[e * r->nlayers + k];
  }
  TsStatus s = ts_store_series(st, run_id, epoch, "probe/fgsm", v, (int64_t)r->neps, (int64_t)cols, err);
  free(v);
  return s;
}
