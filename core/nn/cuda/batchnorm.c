/* cuda/batchnorm.c — batch norm on the device: cuDNN's spatial batch norm
 * for the training forward and backward and the evaluation forward; our own
 * kernels (cuda/bn-kernels.cu) where cuDNN does not define what nn/ops.h
 * promises: the evaluation-mode backward (statistics held constant),
 * affine-off batch norm, an eps below cuDNN's minimum, and a weight-only
 * gradient (no dx). */
#include "nn/cuda/cuda.h"

typedef struct BnDescs {
  cudnnTensorDescriptor_t x, p;
} BnDescs;

static int descs(TsDevice *d, const TsBatchNormDesc *c, BnDescs *b) {
  b->x = b->p = NULL;
  if (ts_cuda_check_dnn(d, cudnnCreateTensorDescriptor(&b->x), "batch-norm descriptor") ||
      ts_cuda_check_dnn(d, cudnnCreateTensorDescriptor(&b->p), "batch-norm descriptor") ||
      ts_cuda_check_dnn(d, cudnnSetTensor4dDescriptor(b->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, c->n, c->c, c->hw, 1),
                        "batch-norm shape") ||
      ts_cuda_check_dnn(d, cudnnSetTensor4dDescriptor(b->p, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, c->c, 1, 1),
                        "batch-norm shape"))
    return 1;
  return 0;
}

static void descs_free(BnDescs *b) {
  if (b->x) cudnnDestroyTensorDescriptor(b->x);
  if (b->p) cudnnDestroyTensorDescriptor(b->p);
}

static int cudnn_ok(const TsBatchNormDesc *c, const float *gamma, const float *beta) {
  return gamma && beta && (double)c->eps >= CUDNN_BN_MIN_EPSILON;
}

void ts_cuda_batchnorm_forward(TsDevice *d, const TsBatchNormDesc *c, int train, const float *x, const float *gamma,
                               const float *beta, float *running_mean, float *running_var, float *y, float *save_mean,
                               float *save_invstd) {
  if (d->status) return;
  if (!cudnn_ok(c, gamma, beta)) {
    if (train)
      ts_cuda_bn_stats(d->stream, c->n, c->c, c->hw, x, c->eps, c->momentum, running_mean, running_var, save_mean,
                       save_invstd);
    else /* n = 0: statistics from the running ones */
      ts_cuda_bn_stats(d->stream, 0, c->c, 1, NULL, c->eps, 0.0f, running_mean, running_var, save_mean, save_invstd);
    ts_cuda_bn_apply(d->stream, c->n, c->c, c->hw, x, gamma, beta, save_mean, save_invstd, y);
    return;
  }
  BnDescs b;
  const float one = 1.0f, zero = 0.0f;
  if (!descs(d, c, &b)) {
    if (train)
      ts_cuda_check_dnn(d,
                        cudnnBatchNormalizationForwardTraining(d->dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, b.x, x,
                                                               b.x, y, b.p, gamma, beta, (double)c->momentum,
                                                               running_mean, running_var, (double)c->eps, save_mean,
                                                               save_invstd),
                        "batch norm (training)");
    else {
      ts_cuda_check_dnn(d,
                        cudnnBatchNormalizationForwardInference(d->dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, b.x, x,
                                                                b.x, y, b.p, gamma, beta, running_mean, running_var,
                                                                (double)c->eps),
                        "batch norm (evaluation)");
      ts_cuda_bn_stats(d->stream, 0, c->c, 1, NULL, c->eps, 0.0f, running_mean, running_var, save_mean, save_invstd);
    }
  }
  descs_free(&b);
}

void ts_cuda_batchnorm_backward(TsDevice *d, const TsBatchNormDesc *c, int train, const float *x, const float *gamma,
                                const float *save_mean, const float *save_invstd, const float *dy, float *dx,
                                float *dgamma, float *dbeta, int into) {
  if (d->status) return;
  if (!train || !dx || !gamma || (double)c->eps < CUDNN_BN_MIN_EPSILON) {
    ts_cuda_bn_backward_own(d->stream, train, c->n, c->c, c->hw, x, gamma, save_mean, save_invstd, dy, dx, dgamma,
                            dbeta, into);
    return;
  }
  float *sink = (!dgamma || !dbeta) ? ts_cuda_bn_scratch(d, 2 * (size_t)c->c) : NULL;
  if ((!dgamma || !dbeta) && !sink) return;
  BnDescs b;
  const float one = 1.0f, zero = 0.0f;
  if (!descs(d, c, &b))
    ts_cuda_check_dnn(d,
                      cudnnBatchNormalizationBackward(d->dnn, CUDNN_BATCHNORM_SPATIAL, &one, into ? &zero : &one, &one,
                                                      &one, b.x, x, b.x, dy, b.x, dx, b.p, gamma,
                                                      dgamma ? dgamma : sink, dbeta ? dbeta : sink + c->c,
                                                      (double)c->eps, save_mean, save_invstd),
                      "batch norm backward");
  descs_free(&b);
}
