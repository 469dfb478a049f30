/* device.h — where a model trains: the CPU (always) or a CUDA device (only
 * in a build configured with -Dcuda=enabled). The calls here exist in
 * every build; without the CUDA backend ts_device_open fails with a message
 * saying so, and nothing else here is reachable, so the CPU engine and its
 * speed are exactly those of a build without this file.
 *
 * A model is put on a device once, after it is created and (when resuming)
 * loaded: ts_model_to_device copies its parameters and buffers to the
 * device and from then on ts_model_forward / ts_model_backward /
 * ts_model_zero_grad run there (one test of the model per call, never per
 * element). The host copy of the state dict (ts_model_tensors) stays the
 * checkpoint view: call ts_model_sync_host before reading or saving it and
 * ts_model_sync_device after writing into it (loading a checkpoint).
 * Outputs (ts_model_output) are copied to the host after every forward and
 * their gradients to the device before every backward, so losses, metrics
 * and the topological losses (whose diagrams are computed on the CPU) work
 * unchanged; only a batch's outputs and their gradients cross. Other
 * layers' activations stay on the device: ts_model_layer_output reports
 * data = NULL for them.
 *
 * The optimiser follows its model: ts_optim_to_device(opt, model) after
 * ts_model_to_device, then ts_optim_step runs on the device, and
 * ts_optim_sync_host / ts_optim_sync_device move its state (momentum
 * buffers, moments) for checkpoints. The step counter stays on the host.
 *
 * The design of the backend itself (memory, streams, algorithm choice,
 * TF32) is in nn/cuda/cuda.h. */
#ifndef TS_NN_DEVICE_H
#define TS_NN_DEVICE_H

#include "base/error.h"
#include "nn/model.h"
#include "nn/optim.h"

/* "cpu" -> -1; "cuda" -> 0; "cuda:K" -> K (0 <= K < 64). Anything else is
 * TS_ERR_INVALID naming the text. Accepted in every build (whether the
 * device exists is ts_device_open's business). */
TsStatus ts_device_parse(const char *spec, int *ordinal, TsError *err);

/* 1 when this build has the CUDA backend. */
int ts_device_cuda_built(void);

typedef struct TsDevice TsDevice;

/* Whether CUDA device `ordinal` can be opened, without opening it (no
 * context is created): the same failures and messages as ts_device_open,
 * so a command can refuse `--device cuda` before it loads any data. */
TsStatus ts_device_probe(int ordinal, TsError *err);

/* Opens CUDA device `ordinal` (its stream, cuBLAS and cuDNN handles).
 * tf32 = 1 lets cuBLAS and cuDNN use TF32 tensor cores (faster, about
 * 1e-3 relative; off by default so that results match the CPU to 1e-4).
 * deterministic = 1 restricts cuDNN to deterministic algorithms.
 * Fails with TS_ERR_UNSUPPORTED and a message naming the cause: a build
 * without the backend, no CUDA driver, no device, ordinal out of range. */
TsDevice *ts_device_open(int ordinal, int tf32, int deterministic, TsError *err);
void ts_device_free(TsDevice *d);
/* "NVIDIA H100 80GB HBM3 (cuda:0, 80 GiB, compute 9.0)" */
const char *ts_device_describe(const TsDevice *d);

/* See the top comment. The device must outlive the model's use of it; free
 * the model (or the optimiser) before the device. */
TsStatus ts_model_to_device(TsModel *m, TsDevice *d, TsError *err);
/* NULL for a CPU model. */
TsDevice *ts_model_device(const TsModel *m);
TsStatus ts_model_sync_host(TsModel *m, TsError *err);   /* parameters + buffers, device -> host */
TsStatus ts_model_sync_device(TsModel *m, TsError *err); /* parameters + buffers, host -> device */
/* Parameter gradients device -> host (for a gradient hook) and back. */
TsStatus ts_model_grads_to_host(TsModel *m, TsError *err);
TsStatus ts_model_grads_to_device(TsModel *m, TsError *err);
/* Starts copying the next batch x [batch, c, h, w] (host memory) to the
 * device on the copy stream while the current step computes; a following
 * ts_model_forward with the same x pointer uses the copy. x is read before
 * this returns (it goes through a pinned staging buffer). No-op on the CPU. */
void ts_model_prefetch(TsModel *m, const float *x, int batch);
/* The first error the device met since the last call (a failed kernel, an
 * out-of-memory); TS_OK for a CPU model. Forward and backward record
 * errors rather than return them (they return void); check once a step. */
TsStatus ts_model_device_status(TsModel *m, TsError *err);

TsStatus ts_optim_to_device(TsOptim *o, TsModel *m, TsError *err);
TsStatus ts_optim_sync_host(TsOptim *o, TsError *err);
TsStatus ts_optim_sync_device(TsOptim *o, TsError *err);

#endif
