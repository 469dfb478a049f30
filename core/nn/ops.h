/* ops.h — the layer kernels of the CPU engine: a forward and a backward
 * function per op over flat float32 arrays whose shapes are stated here
 * (llm.c style). Everything is NCHW; "[n, c, h, w]" means a dense C-order
 * array.
 *
 * Conventions every op keeps:
 *  - forward WRITES its output (=).
 *  - backward ACCUMULATES (+=) into every gradient it is given: dx, dw, db.
 *    So gradients of a tensor used twice (a residual branch) add up, and
 *    parameter gradients must be zeroed between steps (ts_model_zero_grad).
 *    Any gradient pointer may be NULL: that gradient is not computed (a frozen
 *    weight, the network input).
 *  - Ops with a `scratch` argument need a caller-owned float buffer of at
 *    least the size returned by the matching *_scratch_size(desc, nthreads)
 *    for nthreads = ts_nn_ctx_threads(ctx); they never allocate.
 *  - Results agree with PyTorch's CPU functions (same definitions, same
 *    defaults) to float32 rounding; the tests check every op against
 *    torch.nn.functional, forward and backward.
 *  - Threads come from ctx->pool; see tensor.h for the determinism promise.
 * Shapes are validated once, by the *_desc_init functions and the model
 * builder; the kernels trust them. */
#ifndef TS_NN_OPS_H
#define TS_NN_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "nn/tensor.h"

/* ---- convolution ---------------------------------------------------------
 * conv2d:  x [n, c, h, w], w [k, c/groups, r, s], b [k] or NULL
 *          -> y [n, k, p, q] with p = (h + 2 pad_h - dil_h (r-1) - 1)/stride_h + 1.
 * conv_transpose2d (PyTorch's ConvTranspose2d): x [n, c, h, w],
 *          w [c, k/groups, r, s], b [k] or NULL -> y [n, k, p, q] with
 *          p = (h-1) stride_h - 2 pad_h + dil_h (r-1) + out_pad_h + 1.
 * Implementation: im2col/col2im over groups of images + cblas_sgemm; 1x1
 * stride-1 unpadded convolutions skip im2col; 3x3 stride-1 pad-1 ones (no
 * groups, no dilation) use Winograd F(2x2, 3x3) for all three products. */
typedef struct TsConv2dDesc {
  int n, c, h, w;         /* input */
  int k, r, s;            /* output channels, kernel height, kernel width */
  int stride_h, stride_w; /* >= 1 */
  int pad_h, pad_w;       /* >= 0 */
  int dil_h, dil_w;       /* >= 1 */
  int groups;             /* >= 1, divides c and k */
  int out_pad_h, out_pad_w; /* transposed only: < max(stride, dilation) */
  int transposed;         /* 0 conv2d, 1 conv_transpose2d */
  int p, q;               /* output height, width: set by ts_conv2d_desc_init */
} TsConv2dDesc;

/* Checks the fields and computes p, q. Fails (TS_ERR_INVALID) on a
 * non-positive output size, groups not dividing c and k, etc. */
TsStatus ts_conv2d_desc_init(TsConv2dDesc *d, TsError *err);
size_t ts_conv2d_scratch_size(const TsConv2dDesc *d, int nthreads);
/* Works for both d->transposed = 0 and 1. */
void ts_conv2d_forward(const TsNnCtx *ctx, const TsConv2dDesc *d, const float *x, const float *w,
                       const float *b, float *y, float *scratch);
void ts_conv2d_backward(const TsNnCtx *ctx, const TsConv2dDesc *d, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *db, float *scratch);

/* ---- linear --------------------------------------------------------------
 * x [n, in], w [out, in] (PyTorch layout), b [out] or NULL -> y [n, out],
 * y = x w^T + b. */
void ts_linear_forward(const TsNnCtx *ctx, int n, int in, int out, const float *x, const float *w,
                       const float *b, float *y);
void ts_linear_backward(const TsNnCtx *ctx, int n, int in, int out, const float *x, const float *w,
                        const float *dy, float *dx, float *dw, float *db);

/* ---- batch norm (1d: hw = 1; 2d: hw = h*w) --------------------------------
 * x, y [n, c, hw]; gamma, beta [c] (NULL = affine off); running_mean/var [c].
 * Training: normalise with the batch mean and biased variance, then
 *   running = (1 - momentum) running + momentum batch_stat
 * with the UNBIASED batch variance for running_var (PyTorch's convention,
 * momentum 0.1 default), and (*num_batches_tracked)++ when not NULL.
 * save_mean / save_invstd [c] receive the batch mean and 1/sqrt(var+eps) for
 * the backward pass. Evaluation: normalise with the running statistics (and
 * still fill save_mean/save_invstd with them, so backward works in eval). */
typedef struct TsBatchNormDesc {
  int n, c, hw;
  float eps;      /* 1e-5 */
  float momentum; /* 0.1 */
} TsBatchNormDesc;

void ts_batchnorm_forward(const TsNnCtx *ctx, const TsBatchNormDesc *d, int train, const float *x,
                          const float *gamma, const float *beta, float *running_mean,
                          float *running_var, int64_t *num_batches_tracked, float *y,
                          float *save_mean, float *save_invstd);
/* train must match the forward call (eval-mode backward treats the
 * statistics as constants). */
void ts_batchnorm_backward(const TsNnCtx *ctx, const TsBatchNormDesc *d, int train, const float *x,
                           const float *gamma, const float *save_mean, const float *save_invstd,
                           const float *dy, float *dx, float *dgamma, float *dbeta);
/* As ts_batchnorm_backward, but dx is written (=), not added to: for the
 * first gradient into a buffer, which then needs no zeroing. */
void ts_batchnorm_backward_into(const TsNnCtx *ctx, const TsBatchNormDesc *d, int train, const float *x,
                                const float *gamma, const float *save_mean, const float *save_invstd,
                                const float *dy, float *dx, float *dgamma, float *dbeta);

/* ---- element-wise activations: x, y, dy, dx are [n] -----------------------
 * Backward takes both the input x and the output y of the forward call;
 * each uses whichever it needs. y may alias x in forward (in place). */
void ts_relu_forward(const TsNnCtx *ctx, size_t n, const float *x, float *y);
void ts_relu_backward(const TsNnCtx *ctx, size_t n, const float *x, const float *y, const float *dy,
                      float *dx);
/* dx = (not +=) the ReLU gradient; see ts_batchnorm_backward_into. */
void ts_relu_backward_into(const TsNnCtx *ctx, size_t n, const float *y, const float *dy, float *dx);
/* negative_slope 0.01 in PyTorch */
void ts_leaky_relu_forward(const TsNnCtx *ctx, size_t n, float slope, const float *x, float *y);
void ts_leaky_relu_backward(const TsNnCtx *ctx, size_t n, float slope, const float *x, const float *y,
                            const float *dy, float *dx);
/* alpha 1.0 in PyTorch */
void ts_elu_forward(const TsNnCtx *ctx, size_t n, float alpha, const float *x, float *y);
void ts_elu_backward(const TsNnCtx *ctx, size_t n, float alpha, const float *x, const float *y,
                     const float *dy, float *dx);
void ts_sigmoid_forward(const TsNnCtx *ctx, size_t n, const float *x, float *y);
void ts_sigmoid_backward(const TsNnCtx *ctx, size_t n, const float *x, const float *y, const float *dy,
                         float *dx);
void ts_tanh_forward(const TsNnCtx *ctx, size_t n, const float *x, float *y);
void ts_tanh_backward(const TsNnCtx *ctx, size_t n, const float *x, const float *y, const float *dy,
                      float *dx);

/* ---- pooling --------------------------------------------------------------
 * x [n, c, h, w] -> y [n, c, p, q], p = (h + 2 pad - kernel)/stride + 1
 * (floor mode, no dilation). Max pool pads with -inf and records the flat
 * index (within the h*w plane) of each maximum in argmax [n, c, p, q]; ties
 * take the first, as PyTorch. Average pool counts the padding
 * (count_include_pad = True, PyTorch's default). */
typedef struct TsPool2dDesc {
  int n, c, h, w;
  int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w; /* pad <= kernel/2 */
  int p, q; /* set by ts_pool2d_desc_init */
} TsPool2dDesc;

TsStatus ts_pool2d_desc_init(TsPool2dDesc *d, TsError *err);
void ts_maxpool2d_forward(const TsNnCtx *ctx, const TsPool2dDesc *d, const float *x, float *y,
                          int32_t *argmax);
void ts_maxpool2d_backward(const TsNnCtx *ctx, const TsPool2dDesc *d, const int32_t *argmax,
                           const float *dy, float *dx);
void ts_avgpool2d_forward(const TsNnCtx *ctx, const TsPool2dDesc *d, const float *x, float *y);
void ts_avgpool2d_backward(const TsNnCtx *ctx, const TsPool2dDesc *d, const float *dy, float *dx);

/* Global average pool (AdaptiveAvgPool2d(1) + flatten): x [n, c, hw] -> y [n, c]. */
void ts_global_avgpool_forward(const TsNnCtx *ctx, int n, int c, int hw, const float *x, float *y);
void ts_global_avgpool_backward(const TsNnCtx *ctx, int n, int c, int hw, const float *dy, float *dx);

/* ---- dropout ---------------------------------------------------------------
 * Inverted dropout (PyTorch): in training each element is zeroed with
 * probability p and the others scaled by 1/(1-p); mask [n] receives the
 * factor used (0 or 1/(1-p)). The mask is a function of (seed, element
 * index) only (counter-based), so it does not depend on threads; it cannot
 * reproduce PyTorch's own random stream. In evaluation (train = 0) y = x. */
void ts_dropout_forward(const TsNnCtx *ctx, size_t n, float p, int train, uint64_t seed, const float *x,
                        float *y, float *mask);
void ts_dropout_backward(const TsNnCtx *ctx, size_t n, int train, const float *mask, const float *dy,
                         float *dx);

/* Channel dropout (PyTorch Dropout2d) on x [n, c, hw] given as nc = n * c
 * planes of hw: each plane is zeroed with probability p or scaled by
 * 1/(1-p), one draw per plane from (seed, plane index); mask [nc * hw]
 * holds the factor per element, so ts_dropout_backward serves it. */
void ts_dropout2d_forward(const TsNnCtx *ctx, size_t nc, size_t hw, float p, int train, uint64_t seed,
                          const float *x, float *y, float *mask);

/* ---- structural ---------------------------------------------------------------
 * Flatten [n, c, h, w] -> [n, c*h*w] is the identity on flat NCHW arrays: the
 * model reuses the buffer. These copy (forward) and accumulate (backward)
 * for when a distinct buffer is wanted. */
void ts_flatten_forward(size_t n, const float *x, float *y);
void ts_flatten_backward(size_t n, const float *dy, float *dx);
/* Residual add: y = a + b over [n]; backward: da += dy, db += dy. */
void ts_add_forward(const TsNnCtx *ctx, size_t n, const float *a, const float *b, float *y);
void ts_add_backward(const TsNnCtx *ctx, size_t n, const float *dy, float *da, float *db);
/* Channel concat: a [n, ca, hw], b [n, cb, hw] -> y [n, ca+cb, hw]. */
void ts_concat_forward(int n, int ca, int cb, int hw, const float *a, const float *b, float *y);
void ts_concat_backward(int n, int ca, int cb, int hw, const float *dy, float *da, float *db);

/* ---- softmax over the last axis: x, y [n, c] --------------------------------- */
void ts_softmax_forward(const TsNnCtx *ctx, int n, int c, const float *x, float *y);
/* dx += y * (dy - sum(dy * y)) */
void ts_softmax_backward(const TsNnCtx *ctx, int n, int c, const float *y, const float *dy, float *dx);
void ts_log_softmax_forward(const TsNnCtx *ctx, int n, int c, const float *x, float *y);
/* dx += dy - exp(y) * sum(dy) */
void ts_log_softmax_backward(const TsNnCtx *ctx, int n, int c, const float *y, const float *dy,
                             float *dx);

#endif
