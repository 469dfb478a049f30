/* objective.h — what a training run optimises, as a small interface the one
 * training loop (run/train.h) drives.
 *
 * The loop owns the schedule, the data, the position, checkpoints and the
 * store. An objective owns the rest of a step:
 *
 *   step:  forward the batch through the model(s) in train mode, compute
 *          the loss and the step's metrics, write dLoss/doutput into the
 *          outputs' .grad and back-propagate (ts_model_backward). It must not
 *          touch the optimisers: the loop steps them after the gradient
 *          reduction point (the place a data-parallel run averages
 *          gradients across processes).
 *   eval:  forward a batch in evaluation mode and accumulate; at the end,
 *          the evaluation metrics ("val/loss", "val/accuracy", "val/mse", ...).
 *   sums:  a step adds to at most TS_OBJ_MAX_SUMS running sums of the epoch
 *          (sums[0] is always the sum of per-sample losses); the loop keeps
 *          them in its position, checkpoints them (pos.sums), and at the end
 *          of the epoch the objective turns them into the epoch's training
 *          metrics ("train/epoch_loss", "train/accuracy").
 *   extra models: an objective may train further models beside the main one
 *          (the lockstep plain VAE trained next to the TopoVAE on the same
 *          batches). It creates them in attach() and lists them in
 *          extra_models(); the loop gives each an optimiser of the run's
 *          configuration, zeroes, reduces and steps its gradients with the
 *          main model's, and checkpoints it under its prefix
 *          ("<prefix><tensor>", "<prefix>optim.<state>").
 *   state: an objective's own settings and fitted state (label
 *          normalisation) go into the checkpoint's metadata under "obj.*"
 *          (save_meta) and come back with load_meta, so resume and
 *          evaluation see exactly what training saw.
 *
 * Adding an objective: one file with its TsObjectiveOps and a constructor
 * (like ts_objective_ph_new), declared below and listed in objective.c's
 * registry; the loop, checkpoints, store and CLI need nothing else beyond
 * accepting its --task name.
 *
 * Objectives now (ts_objective_new by name):
 *   classify      cross-entropy on the classes; head = num_classes.
 *   ph            mean-squared error on the PH label (targets) after the
 *                 label normalisation; head = label dims.
 *   simultaneous  one head of num_classes + label dims: cross-entropy on
 *                 the first num_classes outputs plus ph_weight x the MSE of
 *                 the rest against the normalised label.
 * Each objective's loss and gradient are compared with PyTorch in
 * tests/nn/test-nn-torch.py.
 *
 * Label normalisation (TS_LABEL_NORM_ZSCORE, the default): each label
 * dimension d is mapped to (y_d - mean_d) / std_d with mean and std fitted
 * on the training labels (population std, floored at 1% of the
 * root-mean-square std over the dimensions so that a dimension that barely
 * varies does not blow up; 1 when every dimension is constant); a set whose labels are computed as it
 * streams (generate:) is fitted on its first TS_OBJ_NORM_SAMPLE samples of
 * epoch 0. NONE trains on the raw labels. Metrics
 * (val/mse, R^2) are on the normalised scale; R^2 is per dimension
 * 1 - SSE_d / SST_d and so does not depend on the normalisation. */
#ifndef TS_RUN_OBJECTIVE_H
#define TS_RUN_OBJECTIVE_H

#include <stdint.h>

#include "base/error.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "nn/model.h"
#include "nn/safetensors.h"

#define TS_OBJ_MAX_SUMS 8
#define TS_OBJ_MAX_METRICS 24
#define TS_OBJ_MAX_EXTRA_MODELS 2
#define TS_OBJ_NORM_SAMPLE 1024

typedef enum TsLabelNorm { TS_LABEL_NORM_ZSCORE = 0, TS_LABEL_NORM_NONE = 1 } TsLabelNorm;

/* What the run asks of its objective (part of TsTrainConfig, in the
 * checkpoint as "train.task", "train.ph_weight", "train.label_norm"). */
typedef struct TsObjectiveConfig {
  char task[32];        /* "classify" (default), "ph", "simultaneous", ... */
  float ph_weight;      /* simultaneous: lambda of CE + lambda * MSE (default 1) */
  TsLabelNorm label_norm;
} TsObjectiveConfig;

TsObjectiveConfig ts_objective_config_default(void);
/* "zscore" | "none" -> value; -1 when unknown. */
int ts_label_norm_from_name(const char *name);
const char *ts_label_norm_name(TsLabelNorm n);

/* A short list of named values (metric names as the store records them). */
typedef struct TsObjMetrics {
  int n;
  struct {
    char name[48];
    double value;
  } m[TS_OBJ_MAX_METRICS];
} TsObjMetrics;

void ts_obj_metrics_add(TsObjMetrics *m, const char *name, double value);
/* The value of a name, or NAN. */
double ts_obj_metrics_get(const TsObjMetrics *m, const char *name);

/* One training step, as the loop hands it to the objective. */
typedef struct TsObjStep {
  TsModel *model;          /* the main model */
  const TsNnCtx *ctx;
  const TsBatch *batch;
  uint64_t seed;           /* this step's randomness (dropout, VAE eps) */
  /* filled by the objective */
  double loss;             /* the batch's mean loss: the "train/loss" metric */
  double sums[TS_OBJ_MAX_SUMS]; /* added to the epoch's running sums */
  TsObjMetrics extra;      /* further per-step metrics, stored under their names */
} TsObjStep;

typedef struct TsObjective TsObjective;

typedef struct TsObjectiveOps {
  const char *name;
  /* Running sums used (1 .. TS_OBJ_MAX_SUMS). */
  int n_sums;
  /* Head size for the model on this training set (0: the model decides,
   * e.g. a VAE). */
  int (*head_outputs)(const TsObjective *o, const TsDataset *train);
  /* Called once the main model exists (a fresh one, before any load): an
   * objective that trains further models builds them here. NULL: nothing. */
  TsStatus (*attach)(TsObjective *o, TsModel *main, int max_batch, uint64_t seed, TsError *err);
  /* The extra models and their checkpoint prefixes; returns how many
   * (<= TS_OBJ_MAX_EXTRA_MODELS). NULL: none. */
  int (*extra_models)(TsObjective *o, TsModel **models, const char **prefixes);
  TsStatus (*step)(TsObjective *o, TsObjStep *s, TsError *err);
  /* Training metrics of an epoch from its sums over `seen` samples. */
  void (*epoch_metrics)(const TsObjective *o, const double *sums, int64_t seen, TsObjMetrics *out);
  /* Evaluation: begin allocates an accumulator (NULL with *err set on
   * failure), batch runs the model(s) in eval mode on b and accumulates,
   * end writes the metrics over `count` samples and frees the accumulator. */
  void *(*eval_begin)(TsObjective *o, TsError *err);
  TsStatus (*eval_batch)(TsObjective *o, void *acc, TsModel *m, const TsNnCtx *ctx, const TsBatch *b,
                         TsError *err);
  void (*eval_end)(TsObjective *o, void *acc, int64_t count, TsObjMetrics *out);
  void (*free)(TsObjective *o);
} TsObjectiveOps;

/* The common part every objective starts with (objectives allocate a
 * larger struct whose first member this is). */
struct TsObjective {
  const TsObjectiveOps *ops;
  TsObjectiveConfig cfg;
  int num_classes;         /* of the training set (classify, simultaneous) */
  int label_dims;          /* of its targets (ph, simultaneous); 0 without */
  float *label_mean;       /* label_dims each; identity (0, 1) for NONE */
  float *label_std;
};

/* Builds the objective named by cfg->task for a training set (and optional
 * validation set), checking that the data carry what it needs (classes,
 * label targets of the same dims, finite labels) and fitting the label
 * normalisation on train. Unknown task names list the known ones. */
TsObjective *ts_objective_new(const TsObjectiveConfig *cfg, const TsDataset *train, const TsDataset *val,
                              TsError *err);
void ts_objective_free(TsObjective *o);

/* Checkpoint metadata: "obj.label_dims", "obj.label_mean", "obj.label_std"
 * (comma-separated %.9g) when the objective has labels. load_meta replaces
 * the fitted normalisation by the checkpoint's (dims must agree). */
TsStatus ts_objective_save_meta(const TsObjective *o, TsStWriter *w, TsError *err);
TsStatus ts_objective_load_meta(TsObjective *o, const TsSafetensors *st, TsError *err);

/* Runs eval over ds in order (aug's resize and normalisation only). */
TsStatus ts_objective_evaluate(TsObjective *o, TsModel *m, const TsNnCtx *ctx, const TsDataset *ds,
                               const TsAugment *aug, int batch, volatile int *stop, TsObjMetrics *out,
                               TsError *err);

/* ---- helpers the objectives share (objective.c) --------------------------- */

/* Normalised targets of a batch: out[i * dims + d] = (t - mean_d) / std_d. */
void ts_objective_norm_targets(const TsObjective *o, const TsBatch *b, float *out);
/* Checks every target of a dataset is finite; names the first bad one. */
TsStatus ts_objective_check_targets(const TsDataset *ds, TsError *err);

/* Registry: the constructors by task name. A constructor allocates its
 * struct (calloc, the TsObjective first), sets ops and checks the data;
 * the common fields are filled by ts_objective_new before it is called. */
typedef TsObjective *(*TsObjectiveCreate)(const TsObjectiveConfig *cfg, const TsDataset *train,
                                          const TsDataset *val, TsError *err);
TsObjective *ts_objective_classify_new(const TsObjectiveConfig *cfg, const TsDataset *train, const TsDataset *val,
                                       TsError *err);
TsObjective *ts_objective_ph_new(const TsObjectiveConfig *cfg, const TsDataset *train, const TsDataset *val,
                                 TsError *err);
TsObjective *ts_objective_simultaneous_new(const TsObjectiveConfig *cfg, const TsDataset *train,
                                           const TsDataset *val, TsError *err);
/* Comma-separated known task names, for messages and --help. */
const char *ts_objective_names(void);

#endif
