/* cuda/conv.c — convolutions and transposed convolutions through cuDNN,
 * with the algorithm of every (direction, shape) chosen once by
 * cudnnFind* and cached in the device context (cuda.h: "Convolutions").
 *
 * cuDNN's own vocabulary is a convolution from an "A" tensor to a "B"
 * tensor with a filter [K, C/groups, R, S] (cudnnConvolutionForward A -> B,
 * BackwardData B -> A, BackwardFilter (A, B) -> filter). A conv2d has
 * A = x [n, c, h, w], B = y [n, k, p, q]; a conv_transpose2d, whose weight
 * is [c, k/groups, r, s], is the same convolution read backwards:
 * A = y [n, k, p, q], B = x [n, c, h, w]. So its forward is BackwardData,
 * its input gradient is Forward, and its weight gradient is BackwardFilter
 * with A = dy and B = x. cuDNN derives B's size from A's, so a transposed
 * convolution's output padding must stay below its stride (the CPU also
 * takes padding up to the dilation; the device refuses it by name). */
#include <stdlib.h>
#include <string.h>

#include "nn/cuda/cuda.h"

#define WS_LIMIT ((size_t)1 << 30)

enum { DIR_FWD = 0, DIR_DATA = 1, DIR_FILTER = 2 };

struct TsCudaAlgo {
  TsConv2dDesc key; /* n included */
  cudnnTensorDescriptor_t a, b, bias;
  cudnnFilterDescriptor_t w;
  cudnnConvolutionDescriptor_t conv;
  int found[3];
  int algo[3];
  cudnnMathType_t math[3];
  size_t ws[3];
};

static int same_key(const TsConv2dDesc *x, const TsConv2dDesc *y) {
  return x->n == y->n && x->c == y->c && x->h == y->h && x->w == y->w && x->k == y->k && x->r == y->r &&
         x->s == y->s && x->stride_h == y->stride_h && x->stride_w == y->stride_w && x->pad_h == y->pad_h &&
         x->pad_w == y->pad_w && x->dil_h == y->dil_h && x->dil_w == y->dil_w && x->groups == y->groups &&
         x->out_pad_h == y->out_pad_h && x->out_pad_w == y->out_pad_w && x->transposed == y->transposed;
}

static void entry_destroy(TsCudaAlgo *e) {
  if (e->a) cudnnDestroyTensorDescriptor(e->a);
  if (e->b) cudnnDestroyTensorDescriptor(e->b);
  if (e->bias) cudnnDestroyTensorDescriptor(e->bias);
  if (e->w) cudnnDestroyFilterDescriptor(e->w);
  if (e->conv) cudnnDestroyConvolutionDescriptor(e->conv);
}

void ts_cuda_algo_cache_free(TsDevice *d) {
  for (size_t i = 0; i < d->n_algos; i++) entry_destroy(&d->algos[i]);
  free(d->algos);
  d->algos = NULL;
  d->n_algos = d->cap_algos = 0;
}

static TsCudaAlgo *entry_for(TsDevice *d, const TsConv2dDesc *c) {
  for (size_t i = 0; i < d->n_algos; i++)
    if (same_key(&d->algos[i].key, c)) return &d->algos[i];
  if (d->n_algos == d->cap_algos) {
    size_t cap = d->cap_algos ? 2 * d->cap_algos : 32;
    TsCudaAlgo *na = realloc(d->algos, cap * sizeof *na);
    if (!na) {
      ts_cuda_fail(d, TS_ERR_NOMEM, "cuda:%d: convolution cache: out of memory", d->ordinal);
      return NULL;
    }
    d->algos = na;
    d->cap_algos = cap;
  }
  TsCudaAlgo *e = &d->algos[d->n_algos];
  memset(e, 0, sizeof *e);
  e->key = *c;
  const int T = c->transposed;
  const int an = c->n, ac = T ? c->k : c->c, ah = T ? c->p : c->h, aw = T ? c->q : c->w;
  const int bc = T ? c->c : c->k, bh = T ? c->h : c->p, bw = T ? c->w : c->q;
  const int fk = T ? c->c : c->k, fc = (T ? c->k : c->c) / c->groups;
  int bad = ts_cuda_check_dnn(d, cudnnCreateTensorDescriptor(&e->a), "tensor descriptor") ||
            ts_cuda_check_dnn(d, cudnnCreateTensorDescriptor(&e->b), "tensor descriptor") ||
            ts_cuda_check_dnn(d, cudnnCreateTensorDescriptor(&e->bias), "tensor descriptor") ||
            ts_cuda_check_dnn(d, cudnnCreateFilterDescriptor(&e->w), "filter descriptor") ||
            ts_cuda_check_dnn(d, cudnnCreateConvolutionDescriptor(&e->conv), "convolution descriptor");
  bad = bad ||
        ts_cuda_check_dnn(d, cudnnSetTensor4dDescriptor(e->a, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, an, ac, ah, aw),
                          "input shape") ||
        ts_cuda_check_dnn(d, cudnnSetTensor4dDescriptor(e->b, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, an, bc, bh, bw),
                          "output shape") ||
        ts_cuda_check_dnn(d, cudnnSetTensor4dDescriptor(e->bias, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, c->k, 1, 1),
                          "bias shape") ||
        ts_cuda_check_dnn(d, cudnnSetFilter4dDescriptor(e->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, fk, fc, c->r, c->s),
                          "filter shape") ||
        ts_cuda_check_dnn(d,
                          cudnnSetConvolution2dDescriptor(e->conv, c->pad_h, c->pad_w, c->stride_h, c->stride_w,
                                                          c->dil_h, c->dil_w, CUDNN_CROSS_CORRELATION,
                                                          CUDNN_DATA_FLOAT),
                          "convolution") ||
        ts_cuda_check_dnn(d, cudnnSetConvolutionGroupCount(e->conv, c->groups), "groups");
  if (!bad) {
    int on, oc, oh, ow;
    bad = ts_cuda_check_dnn(d, cudnnGetConvolution2dForwardOutputDim(e->conv, e->a, e->w, &on, &oc, &oh, &ow),
                            "output size");
    if (!bad && (on != an || oc != bc || oh != bh || ow != bw)) {
      if (T && (c->out_pad_h >= c->stride_h || c->out_pad_w >= c->stride_w))
        ts_cuda_fail(d, TS_ERR_UNSUPPORTED,
                     "cuda:%d: a transposed convolution's output padding must be below its stride on the device "
                     "(%dx%d with stride %dx%d)",
                     d->ordinal, c->out_pad_h, c->out_pad_w, c->stride_h, c->stride_w);
      else
        ts_cuda_fail(d, TS_ERR_INTERNAL, "cuda:%d: cuDNN sizes the convolution %dx%dx%d, we %dx%dx%d", d->ordinal, oc,
                     oh, ow, bc, bh, bw);
      bad = 1;
    }
  }
  if (bad) {
    entry_destroy(e);
    return NULL;
  }
  d->n_algos++;
  return e;
}

/* Whether a measured algorithm may be used: it ran, its workspace fits,
 * it is deterministic when asked, and without TF32 it is not a tensor-core
 * kernel. (cuDNN may report FMA-only kernels as CUDNN_DEFAULT_MATH even
 * when the descriptor asked for CUDNN_FMA_MATH; they are then run with
 * CUDNN_FMA_MATH set, as PyTorch does, so no TF32 can creep in.) */
static int acceptable(const TsDevice *d, cudnnStatus_t st, size_t mem, cudnnDeterminism_t det, cudnnMathType_t math) {
  if (st != CUDNN_STATUS_SUCCESS || mem > WS_LIMIT) return 0;
  if (d->deterministic && det != CUDNN_DETERMINISTIC) return 0;
  if (!d->tf32 && math != CUDNN_FMA_MATH && math != CUDNN_DEFAULT_MATH) return 0;
  return 1;
}

static cudnnMathType_t run_math(const TsDevice *d, cudnnMathType_t found) {
  return d->tf32 ? found : CUDNN_FMA_MATH;
}

static int ensure_ws(TsDevice *d, size_t bytes) {
  if (bytes <= d->ws_bytes) return 0;
  cudaStreamSynchronize(d->stream);
  cudaFree(d->ws);
  d->ws = NULL;
  d->ws_bytes = 0;
  if (ts_cuda_check(d, cudaMalloc(&d->ws, bytes), "convolution workspace")) return 1;
  d->ws_bytes = bytes;
  return 0;
}

/* Picks (once) the algorithm of direction dir for entry e. */
static int choose(TsDevice *d, TsCudaAlgo *e, int dir) {
  if (e->found[dir]) return 0;
  enum { MAXA = 16 };
  int got = 0, pick = -1;
  cudnnMathType_t want = d->tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
  if (ts_cuda_check_dnn(d, cudnnSetConvolutionMathType(e->conv, want), "math type")) return 1;
  if (dir == DIR_FWD) {
    cudnnConvolutionFwdAlgoPerf_t r[MAXA];
    if (ts_cuda_check_dnn(d, cudnnFindConvolutionForwardAlgorithm(d->dnn, e->a, e->w, e->conv, e->b, MAXA, &got, r),
                          "find forward algorithm"))
      return 1;
    for (int i = 0; i < got && pick < 0; i++)
      if (acceptable(d, r[i].status, r[i].memory, r[i].determinism, r[i].mathType)) pick = i;
    if (pick >= 0) e->algo[dir] = r[pick].algo, e->math[dir] = run_math(d, r[pick].mathType), e->ws[dir] = r[pick].memory;
    else e->algo[dir] = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, e->math[dir] = CUDNN_FMA_MATH;
    if (pick < 0 &&
        ts_cuda_check_dnn(d, cudnnGetConvolutionForwardWorkspaceSize(d->dnn, e->a, e->w, e->conv, e->b,
                                                                     (cudnnConvolutionFwdAlgo_t)e->algo[dir],
                                                                     &e->ws[dir]),
                          "forward workspace"))
      return 1;
  } else if (dir == DIR_DATA) {
    cudnnConvolutionBwdDataAlgoPerf_t r[MAXA];
    if (ts_cuda_check_dnn(d, cudnnFindConvolutionBackwardDataAlgorithm(d->dnn, e->w, e->b, e->conv, e->a, MAXA, &got,
                                                                        r),
                          "find data-gradient algorithm"))
      return 1;
    for (int i = 0; i < got && pick < 0; i++)
      if (acceptable(d, r[i].status, r[i].memory, r[i].determinism, r[i].mathType)) pick = i;
    if (pick >= 0) e->algo[dir] = r[pick].algo, e->math[dir] = run_math(d, r[pick].mathType), e->ws[dir] = r[pick].memory;
    else e->algo[dir] = CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, e->math[dir] = CUDNN_FMA_MATH;
    if (pick < 0 &&
        ts_cuda_check_dnn(d, cudnnGetConvolutionBackwardDataWorkspaceSize(d->dnn, e->w, e->b, e->conv, e->a,
                                                                          (cudnnConvolutionBwdDataAlgo_t)e->algo[dir],
                                                                          &e->ws[dir]),
                          "data-gradient workspace"))
      return 1;
  } else {
    cudnnConvolutionBwdFilterAlgoPerf_t r[MAXA];
    if (ts_cuda_check_dnn(d, cudnnFindConvolutionBackwardFilterAlgorithm(d->dnn, e->a, e->b, e->conv, e->w, MAXA,
                                                                          &got, r),
                          "find weight-gradient algorithm"))
      return 1;
    for (int i = 0; i < got && pick < 0; i++)
      if (acceptable(d, r[i].status, r[i].memory, r[i].determinism, r[i].mathType)) pick = i;
    if (pick >= 0) e->algo[dir] = r[pick].algo, e->math[dir] = run_math(d, r[pick].mathType), e->ws[dir] = r[pick].memory;
    else e->algo[dir] = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, e->math[dir] = CUDNN_FMA_MATH;
    if (pick < 0 && ts_cuda_check_dnn(d,
                                      cudnnGetConvolutionBackwardFilterWorkspaceSize(
                                          d->dnn, e->a, e->b, e->conv, e->w,
                                          (cudnnConvolutionBwdFilterAlgo_t)e->algo[dir], &e->ws[dir]),
                                      "weight-gradient workspace"))
      return 1;
  }
  if (ensure_ws(d, e->ws[dir])) return 1;
  e->found[dir] = 1;
  return 0;
}

static TsCudaAlgo *ready(TsDevice *d, const TsConv2dDesc *c, int dir) {
  if (d->status) return NULL;
  TsCudaAlgo *e = entry_for(d, c);
  if (!e || choose(d, e, dir)) return NULL;
  if (ts_cuda_check_dnn(d, cudnnSetConvolutionMathType(e->conv, e->math[dir]), "math type")) return NULL;
  return e;
}

/* A -> B (cuDNN forward); beta 0 writes, 1 adds. */
static void run_fwd(TsDevice *d, TsCudaAlgo *e, const float *a, const float *w, float *b, float beta) {
  const float one = 1.0f;
  ts_cuda_check_dnn(d,
                    cudnnConvolutionForward(d->dnn, &one, e->a, a, e->w, w, e->conv,
                                            (cudnnConvolutionFwdAlgo_t)e->algo[DIR_FWD], d->ws, e->ws[DIR_FWD], &beta,
                                            e->b, b),
                    "convolution forward");
}

static void run_data(TsDevice *d, TsCudaAlgo *e, const float *w, const float *b, float *a, float beta) {
  const float one = 1.0f;
  ts_cuda_check_dnn(d,
                    cudnnConvolutionBackwardData(d->dnn, &one, e->w, w, e->b, b, e->conv,
                                                 (cudnnConvolutionBwdDataAlgo_t)e->algo[DIR_DATA], d->ws,
                                                 e->ws[DIR_DATA], &beta, e->a, a),
                    "convolution data gradient");
}

static void run_filter(TsDevice *d, TsCudaAlgo *e, const float *a, const float *b, float *dw) {
  const float one = 1.0f;
  ts_cuda_check_dnn(d,
                    cudnnConvolutionBackwardFilter(d->dnn, &one, e->a, a, e->b, b, e->conv,
                                                   (cudnnConvolutionBwdFilterAlgo_t)e->algo[DIR_FILTER], d->ws,
                                                   e->ws[DIR_FILTER], &one, e->w, dw),
                    "convolution weight gradient");
}

void ts_cuda_conv2d_forward(TsDevice *d, const TsConv2dDesc *c, const float *x, const float *w, const float *b,
                            float *y) {
  TsCudaAlgo *e = ready(d, c, c->transposed ? DIR_DATA : DIR_FWD);
  if (!e) return;
  if (c->transposed) run_data(d, e, w, x, y, 0.0f);
  else run_fwd(d, e, x, w, y, 0.0f);
  if (b) {
    const float one = 1.0f;
    ts_cuda_check_dnn(d, cudnnAddTensor(d->dnn, &one, e->bias, b, &one, c->transposed ? e->a : e->b, y), "bias");
  }
}

void ts_cuda_conv2d_backward(TsDevice *d, const TsConv2dDesc *c, const float *x, const float *w, const float *dy,
                             float *dx, float *dw, float *db) {
  const float one = 1.0f;
  if (db) {
    TsCudaAlgo *e = entry_for(d, c);
    if (!e) return;
    ts_cuda_check_dnn(d, cudnnConvolutionBackwardBias(d->dnn, &one, c->transposed ? e->a : e->b, dy, &one, e->bias, db),
                      "bias gradient");
  }
  if (dw) {
    TsCudaAlgo *e = ready(d, c, DIR_FILTER);
    if (!e) return;
    if (c->transposed) run_filter(d, e, dy, x, dw);
    else run_filter(d, e, x, dy, dw);
  }
  if (dx) {
    TsCudaAlgo *e = ready(d, c, c->transposed ? DIR_FWD : DIR_DATA);
    if (!e) return;
    if (c->transposed) run_fwd(d, e, dy, w, dx, 1.0f);
    else run_data(d, e, w, dy, dx, 1.0f);
  }
}
