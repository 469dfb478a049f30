/* objective-ph.c — regression on PH labels, alone ("ph") or beside the
 * classes ("simultaneous", one head of num_classes + label dims outputs).
 *
 *   ph:            loss = MSE(head, z(label)), the mean over batch x dims
 *                  (F.mse_loss's default), z the label normalisation.
 *   simultaneous:  loss = CE(head[:, :C], class) + ph_weight *
 *                  MSE(head[:, C:], z(label)), CE the mean over the batch.
 * Sums: 0 = loss x samples; simultaneous also 1 = correct, 2 = CE x
 * samples, 3 = MSE x samples. Evaluation gives val/loss, val/mse (on the
 * normalised scale) and the per-dimension R^2 = 1 - SSE_d / SST_d
 * summarised as val/r2_mean, val/r2_median, val/r2_min, val/r2_max (over the
 * dimensions whose label varies in the evaluated set: variance at least
 * 1e-4 of the mean over dimensions); simultaneous adds
 * val/accuracy, val/top5 and val/ce. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/loss.h"
#include "run/objective.h"

void ts_objective_classify_accumulate(const float *out, int stride, int classes, const TsBatch *b, double *loss_sum,
                                      int64_t *correct, int64_t *top5);

typedef struct Ph {
  TsObjective base;
  int simultaneous;
  float *z;       /* normalised targets of a batch */
  float *logits;  /* simultaneous: the class part, contiguous */
  float *dlogits;
  float *pred;    /* simultaneous: the label part, contiguous */
  float *dz;      /* simultaneous: its gradient */
  size_t cap;     /* batch rows the buffers hold */
} Ph;

typedef struct PhAcc {
  double *sse, *sy, *syy; /* per dim */
  double ce_sum;
  int64_t correct, top5;
} PhAcc;

static int head_outputs(const TsObjective *o, const TsDataset *train) {
  const Ph *p = (const Ph *)o;
  return (p->simultaneous ? train->num_classes : 0) + train->target_dims;
}

static TsStatus grow(Ph *p, int n, TsError *err) {
  if ((size_t)n <= p->cap) return TS_OK;
  int nd = p->base.label_dims, c = p->base.num_classes;
  free(p->z), free(p->logits), free(p->dlogits), free(p->dz), free(p->pred);
  p->pred = ts_alloc_array((size_t)n * (size_t)nd, sizeof(float), "label predictions", err);
  p->z = ts_alloc_array((size_t)n * (size_t)nd, sizeof(float), "label targets", err);
  p->dz = ts_alloc_array((size_t)n * (size_t)nd, sizeof(float), "label gradient", err);
  p->logits = ts_alloc_array((size_t)n * (size_t)c, sizeof(float), "logits", err);
  p->dlogits = ts_alloc_array((size_t)n * (size_t)c, sizeof(float), "logits", err);
  p->cap = 0;
  if (!p->z || !p->pred || !p->dz || !p->logits || !p->dlogits) return TS_ERR_NOMEM;
  p->cap = (size_t)n;
  return TS_OK;
}

/* Splits rows of [C | D] into the two contiguous parts. */
static void split_head(const float *out, int n, int c, int nd, float *logits, float *rest) {
  for (int i = 0; i < n; i++) {
    const float *row = out + (size_t)i * (size_t)(c + nd);
    memcpy(logits + (size_t)i * (size_t)c, row, sizeof(float) * (size_t)c);
    if (rest) memcpy(rest + (size_t)i * (size_t)nd, row + c, sizeof(float) * (size_t)nd);
  }
}

static TsStatus step(TsObjective *o, TsObjStep *s, TsError *err) {
  Ph *p = (Ph *)o;
  const TsBatch *b = s->batch;
  int nd = o->label_dims, c = o->num_classes;
  TsStatus st = grow(p, b->n, err);
  if (st) return st;
  ts_model_forward(s->model, s->ctx, b->x, b->n, 1, s->seed);
  TsTensor *out = ts_model_output(s->model, 0);
  ts_objective_norm_targets(o, b, p->z);
  size_t ne = (size_t)b->n * (size_t)nd;
  if (!p->simultaneous) {
    s->loss = ts_loss_mse(ne, out->data, p->z, TS_REDUCE_MEAN, 1.0f, out->grad);
    if (!isfinite(s->loss)) return TS_OK;
    s->sums[0] = s->loss * b->n;
  } else {
    split_head(out->data, b->n, c, nd, p->logits, p->pred);
    memset(p->dlogits, 0, sizeof(float) * (size_t)b->n * (size_t)c);
    memset(p->dz, 0, sizeof(float) * ne);
    int correct = ts_count_correct(b->n, c, p->logits, b->y);
    double ce = ts_loss_cross_entropy(b->n, c, p->logits, b->y, TS_REDUCE_MEAN, 1.0f, p->dlogits);
    double mse = ts_loss_mse(ne, p->pred, p->z, TS_REDUCE_MEAN, o->cfg.ph_weight, p->dz);
    s->loss = ce + (double)o->cfg.ph_weight * mse;
    for (int i = 0; i < b->n; i++) {
      float *row = out->grad + (size_t)i * (size_t)(c + nd);
      memcpy(row, p->dlogits + (size_t)i * (size_t)c, sizeof(float) * (size_t)c);
      memcpy(row + c, p->dz + (size_t)i * (size_t)nd, sizeof(float) * (size_t)nd);
    }
    if (!isfinite(s->loss)) return TS_OK;
    s->sums[0] = s->loss * b->n;
    s->sums[1] = correct;
    s->sums[2] = ce * b->n;
    s->sums[3] = mse * b->n;
    ts_obj_metrics_add(&s->extra, "train/ce", ce);
    ts_obj_metrics_add(&s->extra, "train/mse", mse);
  }
  ts_model_backward(s->model, s->ctx);
  return TS_OK;
}

static void epoch_metrics(const TsObjective *o, const double *sums, int64_t seen, TsObjMetrics *out) {
  const Ph *p = (const Ph *)o;
  double n = seen ? (double)seen : NAN;
  ts_obj_metrics_add(out, "train/epoch_loss", sums[0] / n);
  if (p->simultaneous) {
    ts_obj_metrics_add(out, "train/accuracy", sums[1] / n);
    ts_obj_metrics_add(out, "train/epoch_ce", sums[2] / n);
    ts_obj_metrics_add(out, "train/epoch_mse", sums[3] / n);
  } else {
    ts_obj_metrics_add(out, "train/epoch_mse", sums[0] / n);
  }
}

static void acc_free(PhAcc *a) {
  if (!a) return;
  free(a->sse), free(a->sy), free(a->syy);
  free(a);
}

static void *eval_begin(TsObjective *o, TsError *err) {
  PhAcc *a = calloc(1, sizeof *a);
  size_t nd = (size_t)o->label_dims;
  if (a) {
    a->sse = calloc(nd, sizeof(double));
    a->sy = calloc(nd, sizeof(double));
    a->syy = calloc(nd, sizeof(double));
  }
  if (!a || !a->sse || !a->sy || !a->syy) {
    acc_free(a);
    ts_error_set(err, TS_ERR_NOMEM, "evaluation");
    return NULL;
  }
  return a;
}

static TsStatus eval_batch(TsObjective *o, void *acc, TsModel *m, const TsNnCtx *ctx, const TsBatch *b,
                           TsError *err) {
  Ph *p = (Ph *)o;
  PhAcc *a = acc;
  int nd = o->label_dims, c = p->simultaneous ? o->num_classes : 0;
  if (!b->t || b->dims != nd)
    return ts_error_set(err, TS_ERR_INVALID, "the evaluated set has %s, the model predicts labels of %d values",
                        b->t ? "labels of another size" : "no PH labels", nd);
  if (ts_model_config(m)->num_outputs != c + nd)
    return ts_error_set(err, TS_ERR_INVALID, "the model has %d outputs, this objective needs %d",
                        ts_model_config(m)->num_outputs, c + nd);
  TsStatus st = grow(p, b->n, err);
  if (st) return st;
  ts_model_forward(m, ctx, b->x, b->n, 0, 0);
  const TsTensor *out = ts_model_output(m, 0);
  ts_objective_norm_targets(o, b, p->z);
  for (int i = 0; i < b->n; i++)
    for (int d = 0; d < nd; d++) {
      double y = p->z[(size_t)i * (size_t)nd + (size_t)d];
      double e = out->data[(size_t)i * (size_t)(c + nd) + (size_t)(c + d)] - y;
      a->sse[d] += e * e;
      a->sy[d] += y;
      a->syy[d] += y * y;
    }
  if (p->simultaneous) {
    for (int i = 0; i < b->n; i++)
      if (b->y[i] < 0 || b->y[i] >= c)
        return ts_error_set(err, TS_ERR_INVALID, "sample %lld has class %d, the model has %d", (long long)b->ids[i],
                            b->y[i], c);
    ts_objective_classify_accumulate(out->data, c + nd, c, b, &a->ce_sum, &a->correct, &a->top5);
  }
  return TS_OK;
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static void eval_end(TsObjective *o, void *acc, int64_t count, TsObjMetrics *out) {
  Ph *p = (Ph *)o;
  PhAcc *a = acc;
  int nd = o->label_dims;
  double n = count ? (double)count : NAN, sse = 0;
  double *r2 = malloc(sizeof(double) * (size_t)nd);
  int nr = 0;
  /* A dimension (nearly) constant over the evaluated set has no meaningful
   * R^2: those with a variance below 1e-4 of the mean variance are left out. */
  double mean_sst = 0;
  for (int d = 0; d < nd; d++) mean_sst += fmax(a->syy[d] - a->sy[d] * a->sy[d] / n, 0) / nd;
  for (int d = 0; d < nd; d++) {
    sse += a->sse[d];
    double sst = a->syy[d] - a->sy[d] * a->sy[d] / n;
    if (r2 && count && sst > 1e-4 * mean_sst && sst > 0) r2[nr++] = 1.0 - a->sse[d] / sst;
  }
  double mse = sse / (n * nd);
  if (p->simultaneous) {
    double ce = a->ce_sum / n;
    ts_obj_metrics_add(out, "val/loss", ce + (double)o->cfg.ph_weight * mse);
    ts_obj_metrics_add(out, "val/ce", ce);
    ts_obj_metrics_add(out, "val/accuracy", (double)a->correct / n);
    ts_obj_metrics_add(out, "val/top5", (double)a->top5 / n);
  } else {
    ts_obj_metrics_add(out, "val/loss", mse);
  }
  ts_obj_metrics_add(out, "val/mse", mse);
  if (r2 && nr) {
    double s = 0;
    for (int i = 0; i < nr; i++) s += r2[i];
    qsort(r2, (size_t)nr, sizeof *r2, cmp_double);
    ts_obj_metrics_add(out, "val/r2_mean", s / nr);
    ts_obj_metrics_add(out, "val/r2_median", nr % 2 ? r2[nr / 2] : 0.5 * (r2[nr / 2 - 1] + r2[nr / 2]));
    ts_obj_metrics_add(out, "val/r2_min", r2[0]);
    ts_obj_metrics_add(out, "val/r2_max", r2[nr - 1]);
  }
  free(r2);
  acc_free(a);
}

static void ph_free(TsObjective *o) {
  Ph *p = (Ph *)o;
  free(p->z), free(p->logits), free(p->dlogits), free(p->dz), free(p->pred);
  free(p);
}

static const TsObjectiveOps ph_ops = {
    .name = "ph",
    .n_sums = 1,
    .head_outputs = head_outputs,
    .step = step,
    .epoch_metrics = epoch_metrics,
    .eval_begin = eval_begin,
    .eval_batch = eval_batch,
    .eval_end = eval_end,
    .free = ph_free,
};

static const TsObjectiveOps sim_ops = {
    .name = "simultaneous",
    .n_sums = 4,
    .head_outputs = head_outputs,
    .step = step,
    .epoch_metrics = epoch_metrics,
    .eval_begin = eval_begin,
    .eval_batch = eval_batch,
    .eval_end = eval_end,
    .free = ph_free,
};

static TsObjective *make(int simultaneous, const TsObjectiveConfig *cfg, const TsDataset *train,
                         const TsDataset *val, TsError *err) {
  const char *task = simultaneous ? "simultaneous" : "ph";
  const TsDataset *bad = !ts_dataset_has_targets(train) ? train : val && !ts_dataset_has_targets(val) ? val : NULL;
  if (bad) {
    ts_error_set(err, TS_ERR_INVALID, "--task %s needs PH labels: %s has none (give labels:DIR,CACHE)", task,
                 bad->source);
    return NULL;
  }
  if (simultaneous && train->num_classes < 2) {
    ts_error_set(err, TS_ERR_INVALID,
                 "--task simultaneous needs classes beside the labels: %s has one class (label a folder of class folders)",
                 train->source);
    return NULL;
  }
  if (simultaneous && !(cfg->ph_weight >= 0 && isfinite(cfg->ph_weight))) {
    ts_error_set(err, TS_ERR_INVALID, "--ph-weight %g: must be a finite number >= 0", (double)cfg->ph_weight);
    return NULL;
  }
  Ph *p = calloc(1, sizeof *p);
  if (!p) {
    ts_error_set(err, TS_ERR_NOMEM, "objective");
    return NULL;
  }
  p->simultaneous = simultaneous;
  p->base.ops = simultaneous ? &sim_ops : &ph_ops;
  return &p->base;
}

TsObjective *ts_objective_ph_new(const TsObjectiveConfig *cfg, const TsDataset *train, const TsDataset *val,
                                 TsError *err) {
  return make(0, cfg, train, val, err);
}

TsObjective *ts_objective_simultaneous_new(const TsObjectiveConfig *cfg, const TsDataset *train,
                                           const TsDataset *val, TsError *err) {
  return make(1, cfg, train, val, err);
}
