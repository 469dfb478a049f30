/* objective-classify.c — the classification objective: cross-entropy on
 * the model's logits (head = the number of classes), accuracy and top-5
 * accuracy. Sums: 0 = loss x samples, 1 = correct (top-1). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/loss.h"
#include "run/objective.h"

typedef struct Classify {
  TsObjective base;
} Classify;

typedef struct ClassifyAcc {
  double loss_sum;
  int64_t correct, top5;
} ClassifyAcc;

static int head_outputs(const TsObjective *o, const TsDataset *train) {
  (void)o;
  return train->num_classes;
}

static TsStatus step(TsObjective *o, TsObjStep *s, TsError *err) {
  (void)o;
  (void)err;
  const TsBatch *b = s->batch;
  int classes = ts_model_config(s->model)->num_outputs;
  ts_model_forward(s->model, s->ctx, b->x, b->n, 1, s->seed);
  TsTensor *out = ts_model_output(s->model, 0);
  int correct = ts_count_correct(b->n, classes, out->data, b->y);
  s->loss = ts_loss_cross_entropy(b->n, classes, out->data, b->y, TS_REDUCE_MEAN, 1.0f, out->grad);
  if (!isfinite(s->loss)) return TS_OK; /* the loop names the step */
  ts_model_backward(s->model, s->ctx);
  s->sums[0] = s->loss * b->n;
  s->sums[1] = correct;
  return TS_OK;
}

static void epoch_metrics(const TsObjective *o, const double *sums, int64_t seen, TsObjMetrics *out) {
  (void)o;
  ts_obj_metrics_add(out, "train/epoch_loss", seen ? sums[0] / (double)seen : NAN);
  ts_obj_metrics_add(out, "train/accuracy", seen ? sums[1] / (double)seen : NAN);
}

static void *eval_begin(TsObjective *o, TsError *err) {
  (void)o;
  ClassifyAcc *a = calloc(1, sizeof *a);
  if (!a) ts_error_set(err, TS_ERR_NOMEM, "evaluation");
  return a;
}

/* 1 when label's logit is among the k largest (ties: earlier indices
 * rank first, as a stable sort would). */
static int in_top_k(const float *row, int c, int label, int k) {
  int above = 0;
  for (int j = 0; j < c; j++)
    if (row[j] > row[label] || (row[j] == row[label] && j < label)) above++;
  return above < k;
}

/* Shared with the simultaneous objective (its first num_classes outputs). */
void ts_objective_classify_accumulate(const float *out, int stride, int classes, const TsBatch *b, double *loss_sum,
                                      int64_t *correct, int64_t *top5);
void ts_objective_classify_accumulate(const float *out, int stride, int classes, const TsBatch *b, double *loss_sum,
                                      int64_t *correct, int64_t *top5) {
  for (int i = 0; i < b->n; i++) {
    const float *row = out + (size_t)i * (size_t)stride;
    *loss_sum += ts_loss_cross_entropy(1, classes, row, b->y + i, TS_REDUCE_SUM, 1.0f, NULL);
    *correct += in_top_k(row, classes, b->y[i], 1);
    *top5 += in_top_k(row, classes, b->y[i], 5);
  }
}

static TsStatus eval_batch(TsObjective *o, void *acc, TsModel *m, const TsNnCtx *ctx, const TsBatch *b,
                           TsError *err) {
  ClassifyAcc *a = acc;
  int c = ts_model_config(m)->num_outputs;
  for (int i = 0; i < b->n; i++)
    if (b->y[i] < 0 || b->y[i] >= c)
      return ts_error_set(err, TS_ERR_INVALID, "sample %lld has label %d, the model has %d outputs",
                          (long long)b->ids[i], b->y[i], c);
  (void)o;
  ts_model_forward(m, ctx, b->x, b->n, 0, 0);
  const TsTensor *out = ts_model_output(m, 0);
  ts_objective_classify_accumulate(out->data, c, c, b, &a->loss_sum, &a->correct, &a->top5);
  return TS_OK;
}

static void eval_end(TsObjective *o, void *acc, int64_t count, TsObjMetrics *out) {
  (void)o;
  ClassifyAcc *a = acc;
  double n = count ? (double)count : NAN;
  ts_obj_metrics_add(out, "val/loss", a->loss_sum / n);
  ts_obj_metrics_add(out, "val/accuracy", (double)a->correct / n);
  ts_obj_metrics_add(out, "val/top5", (double)a->top5 / n);
  free(a);
}

static const TsObjectiveOps ops = {
    .name = "classify",
    .n_sums = 2,
    .head_outputs = head_outputs,
    .step = step,
    .epoch_metrics = epoch_metrics,
    .eval_begin = eval_begin,
    .eval_batch = eval_batch,
    .eval_end = eval_end,
};

TsObjective *ts_objective_classify_new(const TsObjectiveConfig *cfg, const TsDataset *train, const TsDataset *val,
                                       TsError *err) {
  (void)cfg;
  const TsDataset *bad = train->num_classes < 2 && ts_dataset_has_targets(train) ? train
                         : val && val->num_classes < 2 && ts_dataset_has_targets(val) ? val : NULL;
  if (bad) {
    ts_error_set(err, TS_ERR_UNSUPPORTED,
                 "%s holds regression targets (PH labels), not classes: train it with --task ph", bad->source);
    return NULL;
  }
  Classify *o = calloc(1, sizeof *o);
  if (!o) {
    ts_error_set(err, TS_ERR_NOMEM, "objective");
    return NULL;
  }
  o->base.ops = &ops;
  return &o->base;
}
