/* optim-internal.h — the optimiser's record, shared by nn/optim.c and the
 * CUDA backend's device optimiser (nn/cuda/optim-device.c). Not public. */
#ifndef TS_NN_OPTIM_INTERNAL_H
#define TS_NN_OPTIM_INTERNAL_H

#include "nn/optim.h"

typedef struct TsOptimSlot {
  const TsNamedTensor *param;
  float *m; /* momentum buffer / exp_avg */
  float *v; /* exp_avg_sq */
} TsOptimSlot;

struct TsOptim {
  TsOptimConfig cfg;
  TsOptimSlot *slots;
  size_t n_slots;
  float *state; /* one block for every buffer */
  int64_t step;
  size_t n_state; /* trainable scalars */
  TsNamedTensor *named;
  size_t n_named;
  struct TsCudaOptim *dev; /* the device side, or NULL (nn/device.h) */
};

#endif
