/* optim.h — optimisers (SGD, Adam, AdamW) and learning-rate schedules,
 * step-for-step identical to torch.optim (same update order, same defaults).
 *
 * An optimiser is bound to a list of named tensors (normally all of a
 * model's tensors: ts_model_tensors); it updates the entries with role
 * TS_ROLE_PARAM and trainable = 1 and ignores the rest. Bind it AFTER
 * ts_model_replace_head (which reallocates parameters).
 *
 * Its state (momentum buffers; Adam's moments and step count) is exposed as
 * named tensors for checkpoints: "<param>.momentum_buffer",
 * "<param>.exp_avg", "<param>.exp_avg_sq" (float32, the parameter's shape)
 * and "step" (int64, shape [1]). PyTorch's SGD skips the momentum buffer on
 * the first step (buf = grad); `step` records whether that happened, so a
 * resumed run continues bit-for-bit. */
#ifndef TS_NN_OPTIM_H
#define TS_NN_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "nn/tensor.h"

typedef enum TsOptimKind { TS_OPTIM_SGD = 0, TS_OPTIM_ADAM = 1, TS_OPTIM_ADAMW = 2 } TsOptimKind;

typedef struct TsOptimConfig {
  TsOptimKind kind;
  float lr;           /* initial; ts_optim_step takes the current one */
  float weight_decay; /* SGD/Adam: L2 added to the gradient; AdamW: decoupled */
  /* SGD */
  float momentum;     /* 0 = plain SGD */
  float dampening;    /* 0 (PyTorch default) */
  int nesterov;       /* needs momentum > 0 and dampening = 0 */
  /* Adam / AdamW */
  float beta1, beta2; /* 0.9, 0.999 */
  float eps;          /* 1e-8 */
} TsOptimConfig;

/* PyTorch's defaults for a kind (SGD: momentum 0; Adam: wd 0; AdamW: wd 1e-2),
 * with the given learning rate. */
TsOptimConfig ts_optim_config_default(TsOptimKind kind, float lr);
/* "sgd" | "adam" | "adamw" -> kind; -1 when unknown. */
int ts_optim_kind_from_name(const char *name);
const char *ts_optim_kind_name(TsOptimKind kind);

typedef struct TsOptim TsOptim;

/* Binds to tensors[0..n) (not copied: the pointers must stay valid).
 * Fails on an invalid config (negative lr, nesterov without momentum). */
TsOptim *ts_optim_new(const TsOptimConfig *cfg, const TsNamedTensor *tensors, size_t n, TsError *err);
void ts_optim_free(TsOptim *opt);
/* One update of every trainable parameter from its .grad, with learning
 * rate lr (from a schedule). Does not zero the gradients. */
void ts_optim_step(TsOptim *opt, const TsNnCtx *ctx, float lr);
/* Number of steps taken. */
int64_t ts_optim_steps(const TsOptim *opt);
const TsOptimConfig *ts_optim_config(const TsOptim *opt);
/* State tensors for checkpoints (see the top comment); valid until freed.
 * Writing into their data restores a saved state. */
const TsNamedTensor *ts_optim_state(const TsOptim *opt, size_t *n);

/* ---- learning-rate schedules ----------------------------------------------
 * lr(t) for t = 0, 1, 2, ... counted in whatever unit the caller steps the
 * schedule (epochs, as PyTorch's schedulers usually are, or steps):
 *  - warmup > 0: for t < warmup, LinearLR:
 *      lr = base * (start + (1 - start) * t / warmup)
 *    then the main schedule runs on t - warmup (SequentialLR).
 *  - CONSTANT: base.
 *  - MULTISTEP (MultiStepLR): base * gamma^(number of milestones <= t).
 *  - COSINE (CosineAnnealingLR, closed form):
 *      min_lr + (base - min_lr) (1 + cos(pi * min(t, total) / total)) / 2. */
typedef enum TsScheduleKind {
  TS_SCHEDULE_CONSTANT = 0,
  TS_SCHEDULE_MULTISTEP = 1,
  TS_SCHEDULE_COSINE = 2
} TsScheduleKind;

#define TS_SCHEDULE_MAX_MILESTONES 16

typedef struct TsSchedule {
  TsScheduleKind kind;
  float base_lr;
  int milestones[TS_SCHEDULE_MAX_MILESTONES]; /* MULTISTEP, increasing */
  int n_milestones;
  float gamma;        /* MULTISTEP: 0.1 */
  int total;          /* COSINE: T_max (after warm-up) */
  float min_lr;       /* COSINE: eta_min */
  int warmup;         /* 0 = none */
  float warmup_start; /* start factor, e.g. 0.1 */
} TsSchedule;

float ts_schedule_lr(const TsSchedule *s, int t);

/* Parses "constant", "multistep:30,60[:0.1]", "cosine:T[:min_lr]",
 * optionally followed by "+warmup:W[:start]" (e.g. "cosine:90+warmup:5:0.1").
 * Fills s (base_lr is left to the caller). Errors name the text. */
TsStatus ts_schedule_parse(const char *text, TsSchedule *s, TsError *err);

#endif
