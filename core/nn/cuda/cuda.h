/* cuda.h — the CUDA backend of the network engine: a second implementation
 * of the ops of nn/ops.h on device memory, behind the same shapes and the
 * same conventions (forward writes, backward accumulates, NULL gradients
 * are skipped), and the device side of a model and an optimiser
 * (nn/device.h is the public face). Compiled only with -Dcuda=enabled.
 *
 * ---- Design.
 *
 * **Device context (TsDevice).** One per `--device cuda:K`: the device
 * ordinal, a compute stream on which every op of a step is queued in
 * order, a copy stream for batches, one cuBLAS and one cuDNN handle bound
 * to the compute stream, the cuDNN algorithm cache and workspace, and a
 * sticky error: kernels are asynchronous, so the first failure (a launch
 * error, a cuDNN status, out of memory) is recorded with its op's name and
 * reported at the next check (ts_model_device_status, once per step) rather
 * than returned by ops that return void on the CPU too. Ops never
 * synchronise, except the losses, which return their value.
 *
 * **Memory.** A device model mirrors the host model's allocation exactly:
 * one device block for the parameters, one for their gradients (same
 * offsets), one for the buffers (running statistics), one for the
 * optimiser state (same offsets as the host optimiser's block), and one
 * activation arena with the host arena's layout, so every host pointer of
 * the layer graph maps to its device twin by its offset (cuda/model.c).
 * The host activation arena is released when a model moves to the device
 * (the outputs keep small host buffers). num_batches_tracked counters stay
 * on the host (the device never reads them). Nothing is allocated during a
 * step, with one exception: the first time a convolution shape is seen its
 * algorithm is chosen and the workspace may grow (below).
 *
 * **Batches.** Each model has two pinned host staging buffers and two
 * device input buffers (the current step's input stays intact while the
 * next arrives). ts_model_prefetch copies the next batch into pinned
 * memory and queues its host-to-device copy on the copy stream, recorded
 * by an event; the forward of that batch makes the compute stream wait on
 * the event, so the copy overlaps the previous step's kernels. The
 * training loop calls it as soon as a step's backward kernels are queued,
 * with the batch a loader thread already has ready (ts_loader_peek), so
 * the copy runs under that step's backward pass and optimiser. A forward
 * without a prefetch copies through the other staging buffer, on the
 * compute stream.
 *
 * **Convolutions (cuDNN).** Forward, data gradient and filter gradient
 * are cudnnConvolutionForward / BackwardData / BackwardFilter (bias:
 * cudnnAddTensor / cudnnConvolutionBackwardBias); a transposed convolution
 * is the same three calls with the roles of x and y exchanged. The
 * algorithm of each (direction, shape) is picked once with cudnnFind*,
 * which times every algorithm, among those whose workspace fits 1 GiB
 * (and that are deterministic when --deterministic), and cached in the
 * device context; the workspace is one device buffer of the context, grown
 * to the largest chosen algorithm's need, so a step after the first never
 * allocates. Backward accumulates through cuDNN's beta = 1.
 *
 * **Batch norm (cuDNN).** Training forward and backward are cuDNN's
 * spatial batch norm (its running variance is updated with the unbiased
 * batch variance, as PyTorch's; its saved inverse deviation is 1/sqrt(var
 * + eps), as ours); evaluation forward is cuDNN's inference call; the
 * evaluation-mode backward (statistics as constants) and affine-off
 * batch norm (cuDNN needs a scale) are kernels of our own.
 *
 * **Linear layers (cuBLAS).** y = x wᵀ + b is one SGEMM on the row-major
 * arrays read as column-major transposes, preceded by a bias broadcast;
 * the gradients are two SGEMMs with beta = 1 and a column-sum kernel.
 *
 * **TF32.** Off by default: cuBLAS runs in its default (FP32) math mode and
 * cuDNN convolutions are set to CUDNN_FMA_MATH, so every product is a
 * float32 FMA and results agree with the CPU to about 1e-5 relative.
 * `--tf32` sets CUBLAS_TF32_TENSOR_OP_MATH and CUDNN_DEFAULT_MATH (TF32
 * tensor cores, 10-bit mantissas in the products: several times faster
 * on Ampere and later, about 1e-3 relative).
 *
 * **Our own kernels (.cu).** Element-wise activations, dropout (the same
 * counter-based hash as the CPU, so the masks are identical), residual add,
 * concat, softmax / log-softmax, pooling (max pool records the same flat
 * argmax index, ties to the first), global average pool, the losses
 * (cross-entropy, MSE, BCE, BCE with logits, Gaussian KL: sums in double,
 * value returned, gradient added with the CPU's scale) and the optimisers
 * (SGD with momentum, dampening, Nesterov and weight decay; Adam; AdamW:
 * torch.optim's single-tensor order of operations, element by element,
 * with the bias corrections computed in double on the host). The VAE's
 * noise is drawn on the host with the CPU's generator and copied (it is
 * batch x latent floats), so a device step equals a CPU step.
 *
 * **Checkpoints** are the host model's safetensors files: the device state
 * is copied to the host before a save and back after a load, so a run
 * trained on the GPU resumes or evaluates on the CPU, and the other way
 * round. */
#ifndef TS_NN_CUDA_CUDA_H
#define TS_NN_CUDA_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "base/error.h"
#include "nn/device.h"
#include "nn/loss.h"
#include "nn/ops.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct TsCudaAlgo TsCudaAlgo; /* cuda/conv.c: one cached choice */

struct TsDevice {
  int ordinal, tf32, deterministic;
  char describe[256];
  cudaStream_t stream, copy_stream;
  cublasHandle_t blas;
  cudnnHandle_t dnn;
  void *ws;          /* cuDNN workspace */
  size_t ws_bytes;
  TsCudaAlgo *algos; /* cache, a small list */
  size_t n_algos, cap_algos;
  double *loss_acc;  /* device: the losses' accumulators */
  double *loss_host; /* pinned: their copy */
  float *ones;       /* device: max(ones_n, 1) ones (affine-off batch norm) */
  size_t ones_n;
  float *bn_scratch; /* device: dgamma/dbeta sink for affine-off batch norm */
  size_t bn_scratch_n;
  TsStatus status;   /* sticky first error */
  TsError err;
};

/* Frees the convolution algorithm cache (cuda/conv.c; ts_device_free). */
void ts_cuda_algo_cache_free(TsDevice *d);
/* Makes d the calling thread's current device (CUDA keeps it per thread,
 * and a trainer may be built on one thread and run on another); cheap. */
void ts_cuda_use(TsDevice *d);
/* Records the first failure on d (later ones are dropped). */
void ts_cuda_fail(TsDevice *d, TsStatus s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* cudaError_t -> ts_cuda_fail when not cudaSuccess; returns 0 on success. */
int ts_cuda_check(TsDevice *d, cudaError_t e, const char *what);
int ts_cuda_check_dnn(TsDevice *d, cudnnStatus_t s, const char *what);
int ts_cuda_check_blas(TsDevice *d, cublasStatus_t s, const char *what);
/* Device allocation through d (zeroed); NULL after ts_cuda_fail. */
void *ts_cuda_alloc(TsDevice *d, size_t bytes, const char *what);
/* A device buffer of at least n ones / n floats of scratch. */
const float *ts_cuda_ones(TsDevice *d, size_t n);
float *ts_cuda_bn_scratch(TsDevice *d, size_t n);

/* ---- the ops (device pointers; queued on d->stream). Shapes and
 * conventions: nn/ops.h. `into` = 1 writes dx instead of adding (the _into
 * variants). */
void ts_cuda_conv2d_forward(TsDevice *d, const TsConv2dDesc *c, const float *x, const float *w, const float *b,
                            float *y);
void ts_cuda_conv2d_backward(TsDevice *d, const TsConv2dDesc *c, const float *x, const float *w, const float *dy,
                             float *dx, float *dw, float *db);
void ts_cuda_linear_forward(TsDevice *d, int n, int in, int out, const float *x, const float *w, const float *b,
                            float *y);
void ts_cuda_linear_backward(TsDevice *d, int n, int in, int out, const float *x, const float *w, const float *dy,
                             float *dx, float *dw, float *db);
void ts_cuda_batchnorm_forward(TsDevice *d, const TsBatchNormDesc *c, int train, const float *x, const float *gamma,
                               const float *beta, float *running_mean, float *running_var, float *y, float *save_mean,
                               float *save_invstd);
void ts_cuda_batchnorm_backward(TsDevice *d, const TsBatchNormDesc *c, int train, const float *x, const float *gamma,
                                const float *save_mean, const float *save_invstd, const float *dy, float *dx,
                                float *dgamma, float *dbeta, int into);

/* element-wise (cuda/elementwise.cu) */
typedef enum TsCudaAct { TS_CUDA_RELU, TS_CUDA_LEAKY, TS_CUDA_ELU, TS_CUDA_SIGMOID, TS_CUDA_TANH } TsCudaAct;
void ts_cuda_act_forward(cudaStream_t s, TsCudaAct a, size_t n, float alpha, const float *x, float *y);
void ts_cuda_act_backward(cudaStream_t s, TsCudaAct a, size_t n, float alpha, const float *x, const float *y,
                          const float *dy, float *dx, int into);
void ts_cuda_dropout_forward(cudaStream_t s, size_t n, float p, int train, uint64_t seed, const float *x, float *y,
                             float *mask);
void ts_cuda_dropout_backward(cudaStream_t s, size_t n, int train, const float *mask, const float *dy, float *dx);
/* nc = samples x channels, each channel's hw values kept or dropped together
 * (the CPU's draws); the backward is ts_cuda_dropout_backward with the mask. */
void ts_cuda_dropout2d_forward(cudaStream_t s, size_t nc, size_t hw, float p, int train, uint64_t seed,
                               const float *x, float *y, float *mask);
/* Option-A shortcut: x [n, cin, ih, iw] -> y [n, c, oh, ow] (stride 2, zero
 * channels either side); the backward adds into dx. */
void ts_cuda_shortcut_a_forward(cudaStream_t s, int n, int c, int cin, int oh, int ow, int ih, int iw, const float *x,
                                float *y);
void ts_cuda_shortcut_a_backward(cudaStream_t s, int n, int c, int cin, int oh, int ow, int ih, int iw,
                                 const float *dy, float *dx);
void ts_cuda_add_forward(cudaStream_t s, size_t n, const float *a, const float *b, float *y);
void ts_cuda_add_backward(cudaStream_t s, size_t n, const float *dy, float *da, float *db);
void ts_cuda_concat_forward(cudaStream_t s, int n, int ca, int cb, int hw, const float *a, const float *b, float *y);
void ts_cuda_concat_backward(cudaStream_t s, int n, int ca, int cb, int hw, const float *dy, float *da, float *db);
void ts_cuda_softmax_forward(cudaStream_t s, int n, int c, int log, const float *x, float *y);
void ts_cuda_softmax_backward(cudaStream_t s, int n, int c, int log, const float *y, const float *dy, float *dx);
/* VAE sampling: y = mu + eps exp(lv / 2); backward dmu += dy, dlv += dy eps exp(lv/2) / 2. */
void ts_cuda_sample_forward(cudaStream_t s, size_t n, const float *mu, const float *lv, const float *eps, float *y);
void ts_cuda_sample_backward(cudaStream_t s, size_t n, const float *lv, const float *eps, const float *dy,
                             float *dmu, float *dlv);
/* y[i, j] = b[j] over [n, out] (the linear layer's bias, before its GEMM). */
void ts_cuda_bias_rows(cudaStream_t s, int n, int out, const float *b, float *y);
/* db[j] += sum_i dy[i, j] */
void ts_cuda_colsum_add(cudaStream_t s, int n, int out, const float *dy, float *db);
/* eval-mode / affine-off batch norm */
void ts_cuda_bn_apply(cudaStream_t s, int n, int c, int hw, const float *x, const float *gamma, const float *beta,
                      const float *mean, const float *invstd, float *y);
void ts_cuda_bn_stats(cudaStream_t s, int n, int c, int hw, const float *x, float eps, float momentum,
                      float *running_mean, float *running_var, float *save_mean, float *save_invstd);
/* train = 0: dx (+)= dy gamma invstd; train = 1: the full batch-statistics
 * backward. dgamma += sum dy xhat, dbeta += sum dy (either may be NULL). */
void ts_cuda_bn_backward_own(cudaStream_t s, int train, int n, int c, int hw, const float *x, const float *gamma,
                             const float *mean, const float *invstd, const float *dy, float *dx, float *dgamma,
                             float *dbeta, int into);

/* pooling (cuda/pool.cu) */
void ts_cuda_maxpool_forward(cudaStream_t s, const TsPool2dDesc *d, const float *x, float *y, int32_t *argmax);
void ts_cuda_maxpool_backward(cudaStream_t s, const TsPool2dDesc *d, const int32_t *argmax, const float *dy,
                              float *dx);
void ts_cuda_avgpool_forward(cudaStream_t s, const TsPool2dDesc *d, const float *x, float *y);
void ts_cuda_avgpool_backward(cudaStream_t s, const TsPool2dDesc *d, const float *dy, float *dx);
void ts_cuda_gap_forward(cudaStream_t s, int n, int c, int hw, const float *x, float *y);
void ts_cuda_gap_backward(cudaStream_t s, int n, int c, int hw, const float *dy, float *dx);

/* losses (cuda/loss.cu): queue the sum into acc[0] (a device double,
 * zeroed first) and add scale * gradient into grad (may be NULL). The
 * host wrappers in cuda/loss-host.c copy acc back and apply the reduction,
 * so they synchronise. Labels are device int32; out-of-range labels give
 * NAN as on the CPU. */
void ts_cuda_mse_queue(cudaStream_t s, size_t n, const float *x, const float *t, float gscale, float *grad,
                       double *acc);
void ts_cuda_ce_queue(cudaStream_t s, int n, int c, const float *logits, const int32_t *labels, float gscale,
                      float *grad, double *acc);
void ts_cuda_bce_queue(cudaStream_t s, size_t n, const float *x, const float *t, float gscale, float *grad,
                       double *acc);
void ts_cuda_bce_logits_queue(cudaStream_t s, size_t n, const float *x, const float *t, float gscale, float *grad,
                              double *acc);
void ts_cuda_kl_queue(cudaStream_t s, size_t n, const float *mu, const float *lv, float scale, float *dmu,
                      float *dlv, double *acc);
void ts_cuda_correct_queue(cudaStream_t s, int n, int c, const float *logits, const int32_t *labels, double *acc);

double ts_cuda_loss_mse(TsDevice *d, size_t n, const float *x, const float *t, TsReduction red, float scale,
                        float *grad);
double ts_cuda_loss_cross_entropy(TsDevice *d, int n, int c, const float *logits, const int32_t *labels,
                                  TsReduction red, float scale, float *grad);
double ts_cuda_loss_bce(TsDevice *d, size_t n, const float *x, const float *t, TsReduction red, float scale,
                        float *grad);
double ts_cuda_loss_bce_logits(TsDevice *d, size_t n, const float *x, const float *t, TsReduction red, float scale,
                               float *grad);
double ts_cuda_loss_gaussian_kl(TsDevice *d, size_t n, const float *mu, const float *lv, float scale, float *dmu,
                                float *dlv);
int ts_cuda_count_correct(TsDevice *d, int n, int c, const float *logits, const int32_t *labels);

/* optimisers (cuda/optim.cu), one launch per parameter tensor; config and
 * order as nn/optim.c. */
void ts_cuda_sgd_step(cudaStream_t s, size_t n, float *p, const float *g, float *buf, float lr, float wd, float mom,
                      float damp, int nesterov, int first);
void ts_cuda_adam_step(cudaStream_t s, size_t n, float *p, const float *g, float *m, float *v, float lr, float wd,
                       float b1, float b2, float eps, float step_size, float bc2_sqrt, int decoupled);

/* The device side of a model / an optimiser (cuda/model.c, cuda/optim-device.c). */
typedef struct TsCudaModel TsCudaModel;
typedef struct TsCudaOptim TsCudaOptim;
void ts_cuda_model_free(TsCudaModel *cm);
void ts_cuda_model_forward(TsModel *m, const float *x, int batch, int train, uint64_t seed);
void ts_cuda_model_backward(TsModel *m);
/* Waits for the last forward's outputs to reach the host (ts_model_output
 * calls it; a no-op once they have). */
void ts_cuda_model_wait_outputs(TsModel *m);
void ts_cuda_model_zero_grad(TsModel *m);
/* Device twins of a host parameter tensor (index into ts_model_tensors). */
float *ts_cuda_model_param(TsModel *m, size_t tensor, float **grad);
void ts_cuda_optim_free(TsCudaOptim *co);
void ts_cuda_optim_step(TsCudaOptim *co, int64_t step, float lr);

#ifdef __cplusplus
}
#endif

#endif
