/* train.h — supervised classification training, resumable, with metrics
 * going into the run store as they happen.
 *
 * A TsTrainer owns the model, the optimiser, the loaders and the position
 * (epoch, batch within the epoch, global step, the running sums of the
 * epoch). One step: forward in train mode, cross-entropy, backward, the
 * optimiser at the schedule's learning rate for the epoch. The epoch's
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
 *     "store.run_id".
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
#include "run/store.h"

#define TS_CHECKPOINT_FORMAT "toposcope-checkpoint-1"

typedef struct TsTrainConfig {
  TsModelConfig model;   /* in_channels/in_h/in_w/num_outputs: from the data when 0 */
  TsOptimConfig optim;
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
  double loss_sum;     /* sum of per-sample losses so far in this epoch */
  int64_t correct, seen;
} TsTrainPos;

/* What the hooks see. */
typedef struct TsTrainProgress {
  int64_t epoch, epochs, batch, batches, global_step, total_steps;
  double loss, lr;                  /* this step */
  double train_loss, train_acc;     /* epoch so far / at epoch end */
  double val_loss, val_acc;         /* at epoch end (NaN when no validation set) */
  double images_per_s;              /* this epoch so far */
} TsTrainProgress;

typedef struct TsTrainHooks {
  void *user;
  void (*on_step)(void *user, const TsTrainProgress *p);
  void (*on_epoch)(void *user, const TsTrainProgress *p);
} TsTrainHooks;

typedef struct TsTrainer TsTrainer;

/* Builds the model (fresh, initialised from seed) and the optimiser for the
 * training set (and optional validation set; both must outlive the trainer).
 * pool may be NULL (serial). */
TsTrainer *ts_trainer_new(const TsTrainConfig *cfg, const TsDataset *train, const TsDataset *val, TsPool *pool,
                          TsError *err);
void ts_trainer_free(TsTrainer *t);
TsModel *ts_trainer_model(TsTrainer *t);
const TsTrainPos *ts_trainer_pos(const TsTrainer *t);
const TsTrainConfig *ts_trainer_config(const TsTrainer *t);

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
 * store may be NULL; otherwise per-step "train/loss" and "lr", per-epoch
 * "train/epoch_loss", "train/accuracy", "val/loss", "val/accuracy",
 * "images_per_s", progress (steps) and checkpoint artifacts go to run_id. */
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
