/* train.h — the training loop: resumable, with metrics going into the run
 * store as they happen, for any objective (run/objective.h: classify, ph,
 * simultaneous, ...).
 *
 * A TsTrainer owns the model(s), the optimiser(s), the objective, the
 * loaders and the position (epoch, batch within the epoch, global step, the
 * running sums of the epoch). One step is four separate functions of
 * train.c, in this order:
 *   next_batch        the batch of this step (a data-parallel run takes its
 *                     shard of the global batch here);
 *   objective step    forward in train mode, loss, output gradients,
 *                     backward (the objective's step());
 *   reduce_gradients  the one point between backward and the optimiser
 *                     where every trainable gradient is final: the
 *                     gradient hook (ts_trainer_set_grad_hook) runs here,
 *                     e.g. to all-reduce across processes;
 *   optimizer_step    every optimiser at the schedule's learning rate.
 * The epoch's
 * batches come from a TsLoader (data/loader.h) whose contents depend only
 * on (seed, epoch, batch), and a step's own randomness (dropout) is seeded
 * from (seed, global step); so a run stopped anywhere and resumed from its
 * checkpoint continues bit-for-bit (in deterministic mode for any thread
 * count, otherwise for the same thread count).
 *
 * Checkpoints are one safetensors file (nn/safetensors.h):
 *   - the model's state dict under torchvision's names ("conv1.weight",
 *     "layer1.0.bn1.num_batches_tracked", "fc.bias"), so it loads into
 *     torchvision after dropping the optimiser entries;
 *   - the optimiser state under "optim.<param>.momentum_buffer",
 *     "optim.<param>.exp_avg", "optim.<param>.exp_avg_sq", "optim.step";
 *   - __metadata__ (strings): "format" = "toposcope-checkpoint-1",
 *     "model" and "model.*" (the model config), "train.*" (what the run was
 *     asked to do: optimiser, schedule, batch, seed, augmentation),
 *     "data.*" (datasets, normalisation, class names), "pos.*" (where it
 *     stands: epoch, batch, global_step, the epoch's sums) and
 *     "store.run_id";
 *   - since the objectives: "train.task", "train.ph_weight",
 *     "train.label_norm" (a checkpoint without them is a classify run),
 *     "obj.*" (the objective's fitted state: obj.label_dims,
 *     obj.label_mean, obj.label_std) and "pos.sums" (the objective's running
 *     sums, comma-separated %.17g; pos.loss_sum and pos.correct are still
 *     written, as sums 0 and 1, and read when pos.sums is absent);
 *   - fine-tuning: "train.init" (the --init checkpoint, "" from scratch),
 *     "train.freeze" ("backbone" or "none"), "data.per_class",
 *     "data.subset_seed" (absent in older checkpoints: none, 0);
 *   - an objective's extra models (run/objective.h) under their prefix:
 *     "<prefix><tensor>" and "<prefix>optim.<state>".
 * Writes go through PATH.tmp + rename: a checkpoint is never half written.
 *
 * The GUI can drive a trainer on a worker thread: ts_trainer_run polls the
 * stop flag after each step and calls the hooks (from the calling thread). */
#ifndef TS_RUN_TRAIN_H
#define TS_RUN_TRAIN_H

#include <stdint.h>

#include "base/error.h"
#include "base/pool.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "nn/model.h"
#include "nn/optim.h"
#include "nn/safetensors.h"
#include "run/objective.h"
#include "run/store.h"

#define TS_CHECKPOINT_FORMAT "toposcope-checkpoint-1"

typedef struct TsTrainConfig {
  TsModelConfig model;   /* in_channels/in_h/in_w/num_outputs: from the data when 0 */
  TsOptimConfig optim;
  TsObjectiveConfig obj; /* task, ph_weight, label normalisation */
  char schedule[128];    /* ts_schedule_parse text ("constant", "multistep:30,60", "cosine:90+warmup:5"),
                            stepped once per epoch */
  int epochs;            /* total, counting epochs already done when resuming */
  int batch;
  uint64_t seed;
  int deterministic;
  int loader_threads;    /* background batch preparation (0: on the training thread) */
  int augment;           /* apply aug's random crop / flip in training */
  TsAugment aug;         /* also resize and normalisation (used for evaluation too) */
  int64_t limit;         /* use the first N training samples (0: all) */
  int64_t val_limit;     /* use the first N validation samples (0: all) */
  int64_t per_class;     /* keep N training samples per class (0: all), drawn from subset_seed */
  uint64_t subset_seed;
  char init[4096];       /* fine-tuning: the checkpoint ts_trainer_init_from loaded ("" = scratch) */
  int freeze_backbone;   /* train the head only (other parameters frozen) */
  char data[512];        /* dataset specs, recorded in the checkpoint */
  char val_data[512];
  char save_path[4096];  /* checkpoint after every epoch and on stop ("" = none) */
} TsTrainConfig;

/* Defaults: LeNet-5, SGD lr 0.01 momentum 0.9, constant schedule, 10
 * epochs, batch 64, seed 0, no augmentation, normalisation mean 0 std 1. */
TsTrainConfig ts_train_config_default(void);

typedef struct TsTrainPos {
  int64_t epoch;       /* the epoch in progress (or next to start) */
  int64_t batch;       /* batches of it done */
  int64_t global_step; /* optimiser steps done in the whole run */
  double sums[TS_OBJ_MAX_SUMS]; /* the objective's running sums of this epoch
                                   (sums[0]: sum of per-sample losses) */
  int64_t seen;                 /* samples of this epoch so far */
} TsTrainPos;

/* What the hooks see. */
typedef struct TsTrainProgress {
  int64_t epoch, epochs, batch, batches, global_step, total_steps;
  double loss, lr;                  /* this step */
  double train_loss, train_acc;     /* epoch so far / at epoch end (acc: NaN without classes) */
  double val_loss, val_acc;         /* at epoch end (NaN when no validation set / no classes) */
  double images_per_s;              /* this epoch so far */
  TsObjMetrics train_metrics;       /* the objective's epoch metrics (epoch so far / at its end) */
  TsObjMetrics val_metrics;         /* at epoch end ("val/loss", "val/mse", ...; n = 0 without) */
} TsTrainProgress;

typedef struct TsTrainHooks {
  void *user;
  void (*on_step)(void *user, const TsTrainProgress *p);
  void (*on_epoch)(void *user, const TsTrainProgress *p);
} TsTrainHooks;

typedef struct TsTrainer TsTrainer;

/* Builds the objective (cfg->obj), the model (fresh, initialised from seed;
 * its head sized by the objective when cfg->model.num_outputs is 0) and the
 * optimiser for the training set (and optional validation set; both must
 * outlive the trainer). pool may be NULL (serial). */
TsTrainer *ts_trainer_new(const TsTrainConfig *cfg, const TsDataset *train, const TsDataset *val, TsPool *pool,
                          TsError *err);
void ts_trainer_free(TsTrainer *t);
TsModel *ts_trainer_model(TsTrainer *t);
const TsTrainPos *ts_trainer_pos(const TsTrainer *t);
const TsTrainConfig *ts_trainer_config(const TsTrainer *t);
TsObjective *ts_trainer_objective(TsTrainer *t);

/* Called once per step after backward, before the optimisers, for each
 * trained model (index 0 the main one, then the objective's extra models)
 * with its state dict (parameters with .grad; frozen ones have
 * trainable = 0). A data-parallel run averages the gradients here. */
typedef TsStatus (*TsGradHook)(void *user, int model_index, const TsNamedTensor *tensors, size_t n, TsError *err);
void ts_trainer_set_grad_hook(TsTrainer *t, TsGradHook hook, void *user);

/* Fine-tuning: loads every tensor of the checkpoint at path whose name and
 * shape match the model's, except the head (ts_model_head_name), which stays
 * freshly initialised like every tensor the checkpoint lacks. The file's
 * optimiser entries ("optim.*") and tensors under a prefix that names no
 * part of this model (an objective's extra models) are ignored. Another
 * architecture (a tensor of the same name with another shape, or one this
 * model does not have) fails listing the first mismatches, and leaves the
 * model as it was. On success *report (malloc'd, may be NULL when out of
 * memory) says what was loaded and what was re-initialised. Records path
 * as cfg.init. Call before ts_trainer_run on a fresh run. */
TsStatus ts_trainer_init_from(TsTrainer *t, const char *path, char **report, TsError *err);

/* Changes where checkpoints go ("" = none), e.g. once the run id is known. */
void ts_trainer_set_save_path(TsTrainer *t, const char *path);

/* Reads the training configuration a checkpoint was made with (to rebuild
 * its trainer before ts_trainer_load). */
TsStatus ts_train_config_from_checkpoint(const TsSafetensors *st, TsTrainConfig *cfg, TsError *err);
/* Restores model, optimiser and position from a checkpoint of this config. */
TsStatus ts_trainer_load(TsTrainer *t, const TsSafetensors *st, TsError *err);
/* Writes a checkpoint (model, optimiser, position, run id). */
TsStatus ts_trainer_save(TsTrainer *t, const char *path, int64_t run_id, TsError *err);

/* Trains until cfg.epochs are done (TS_OK) or *stop becomes nonzero
 * (a checkpoint is written to save_path if set, then TS_ERR_CANCELLED).
 * store may be NULL; otherwise per-step "train/loss" (and the objective's
 * per-step extras), per-epoch "lr", the objective's epoch metrics
 * ("train/epoch_loss", "train/accuracy", ...), its validation metrics
 * ("val/loss", "val/accuracy", "val/mse", "val/r2_mean", ...),
 * "images_per_s", progress (steps) and checkpoint artifacts go to run_id.
 * A loss that is not finite fails the run naming the epoch and step; the
 * checkpoint of the last finished epoch is left as it was. */
TsStatus ts_trainer_run(TsTrainer *t, TsStore *store, int64_t run_id, const TsTrainHooks *hooks,
                        volatile int *stop, TsError *err);

/* ---- evaluation ------------------------------------------------------- */

typedef struct TsEvalResult {
  int64_t count;
  int num_classes;
  double loss;        /* mean cross-entropy */
  double accuracy;
  int64_t *confusion; /* num_classes x num_classes, [true][predicted], malloc'd */
  float *logits;      /* count x num_classes when asked for, malloc'd */
} TsEvalResult;

void ts_eval_result_clear(TsEvalResult *r);
/* Runs the model in evaluation mode over ds (in order, aug's resize and
 * normalisation only). Labels >= the model's outputs are an error. */
TsStatus ts_evaluate(TsModel *m, TsPool *pool, int deterministic, const TsDataset *ds, const TsAugment *aug,
                     int batch, int want_logits, volatile int *stop, TsEvalResult *res, TsError *err);

/* ---- models from checkpoints ---------------------------------------------- */

/* The model config of a checkpoint: from its metadata when Toposcope wrote it;
 * otherwise (a state dict from PyTorch) kind_name must say the architecture
 * and the rest is read off the tensors (input channels from the first conv,
 * outputs from the last linear layer, ResNet stem and width from conv1),
 * with in_h x in_w as given. Also returns the normalisation (mean/std; 0/1
 * for foreign files). */
TsStatus ts_checkpoint_model_config(const TsSafetensors *st, const char *kind_name, int in_h, int in_w,
                                    TsModelConfig *cfg, TsAugment *norm, TsError *err);
/* Builds the model of a checkpoint for batches up to max_batch and loads its
 * state dict (strictly: every tensor must match, optimiser entries aside). */
TsStatus ts_checkpoint_load_model(const TsSafetensors *st, const TsModelConfig *cfg, int max_batch, TsModel **out,
                                  TsError *err);

#endif
