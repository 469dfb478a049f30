/* model-graph.h — internal: the layer graph behind TsModel, shared by the
 * engine (model.c) and the model builders (zoo.c). Not a public header. */
#ifndef TS_NN_MODEL_GRAPH_H
#define TS_NN_MODEL_GRAPH_H

#include "nn/model.h"
#include "nn/ops.h"

typedef enum NodeKind {
  NODE_CONV,    /* conv2d or conv_transpose2d (desc.transposed) */
  NODE_LINEAR,
  NODE_BN,
  NODE_RELU,
  NODE_LEAKY,
  NODE_ELU,
  NODE_SIGMOID,
  NODE_TANH,
  NODE_MAXPOOL,
  NODE_AVGPOOL,
  NODE_GAP,     /* global average pool: [c, h, w] -> [c] */
  NODE_DROPOUT,
  NODE_ADD,
  NODE_VIEW,    /* flatten / reshape: aliases its input */
  NODE_SAMPLE,  /* VAE: z = mu + eps exp(logvar / 2); in0 = mu, in1 = logvar */
  NODE_DROPOUT2D, /* channel dropout (PyTorch Dropout2d): one keep/drop draw per (item, channel) */
  NODE_LOGSOFTMAX, /* over the features of a dense output */
  NODE_SHORTCUT_A  /* CIFAR ResNet "option A" shortcut: x[:, :, ::2, ::2] zero-padded to c channels */
} NodeKind;

#define NODE_INPUT (-1) /* the model input as a node's input */

typedef struct Node {
  NodeKind kind;
  char name[TS_TENSOR_NAME_MAX];
  int in0, in1;      /* input node indices (NODE_INPUT = model input; in1 -1 if unused) */
  int c, h, w;       /* per-item output shape (dense layers: c = features, h = w = 1) */
  int rank;          /* 2 for [n, c], 4 for [n, c, h, w] */
  TsConv2dDesc conv; /* n = max batch; set per call */
  TsBatchNormDesc bn;
  TsPool2dDesc pool;
  int lin_in, lin_out;
  float alpha;       /* leaky slope / elu alpha / dropout p */
  /* indices into the model's tensor list, -1 when absent */
  int t_w, t_b, t_rm, t_rv, t_nbt;
  int owner;         /* node whose storage this one uses (itself unless a view) */
  /* storage (set when the model allocates) */
  float *data, *grad;
  float *save_mean, *save_invstd, *aux; /* BN stats; dropout mask / VAE eps */
  int32_t *argmax;
  TsTensor out;      /* the last forward's view of data/grad */
} Node;

typedef enum InitKind { INIT_UNIFORM, INIT_NORMAL, INIT_CONST } InitKind;
typedef struct TensorInit {
  InitKind kind;
  float a; /* uniform bound, normal std or the constant */
} TensorInit;

struct TsModel {
  TsModelConfig cfg;
  int max_batch;
  TsModelBackwardHook bwd_hook; /* ts_model_set_backward_hook */
  void *bwd_user;
  Node *nodes;
  int n_nodes, cap_nodes;
  int outputs[4];
  int n_outputs;
  int head;              /* node index of the replaceable final linear, -1 if none */
  TsNamedTensor *tensors;
  size_t n_tensors, cap_tensors;
  size_t *offsets;       /* per tensor: offset in its block */
  TensorInit *inits;     /* per tensor: how ts_model_init fills it */
  float *params, *grads, *buffers;
  int64_t *counters;     /* num_batches_tracked */
  TsArena arena;
  int32_t *argmax_block;
  float *scratch;
  size_t scratch_size, scratch_threads;
  /* the last forward */
  int batch, train;
  const float *input;
  float *input_grad;       /* ts_model_set_input_grad, or NULL */
  const float *z_override; /* ts_model_decode: the sample node's output */
  unsigned *zeroed;      /* per node, generation of the last grad zeroing */
  unsigned char *needs;  /* per node, scratch of the backward pass */
  unsigned gen;
  int in_c, in_h, in_w;
  struct TsCudaModel *dev; /* the device side, or NULL (nn/device.h) */
};

/* Builder helpers (zoo.c uses them; each returns the new node's index or
 * -1 after filling err). */
int ts_graph_conv(TsModel *m, const char *name, int in, int k, int r, int stride, int pad, int bias,
                  int transposed, TsError *err);
int ts_graph_linear(TsModel *m, const char *name, int in, int out, int bias, TsError *err);
int ts_graph_bn(TsModel *m, const char *name, int in, TsError *err);
int ts_graph_act(TsModel *m, NodeKind kind, const char *name, int in, float alpha, TsError *err);
int ts_graph_pool(TsModel *m, NodeKind kind, const char *name, int in, int kernel, int stride, int pad,
                  TsError *err);
int ts_graph_gap(TsModel *m, const char *name, int in, TsError *err);
int ts_graph_add(TsModel *m, const char *name, int a, int b, TsError *err);
int ts_graph_view(TsModel *m, const char *name, int in, int c, int h, int w, int rank, TsError *err);
/* kind NODE_DROPOUT or NODE_DROPOUT2D with drop probability p. */
int ts_graph_dropout(TsModel *m, NodeKind kind, const char *name, int in, float p, TsError *err);
/* Option-A shortcut to out_c channels (out_c - in_c even, >= 0): the input
 * subsampled with stride 2, (out_c - in_c) / 2 zero channels either side. */
int ts_graph_shortcut_a(TsModel *m, const char *name, int in, int out_c, TsError *err);
int ts_graph_sample(TsModel *m, const char *name, int mu, int logvar, TsError *err);

/* Builds the layers of cfg into an empty model (zoo.c). */
TsStatus ts_zoo_build(TsModel *m, TsError *err);

#endif
