/* model.h — networks built from the ops: a model is a list of layers run in
 * order (a DAG in topological order: a residual add or the VAE's sampling
 * names earlier layers as inputs), with named parameters and buffers.
 *
 * Names follow torchvision (so a ResNet state dict loads both ways):
 *   ResNet: conv1.weight, bn1.{weight,bias,running_mean,running_var,
 *           num_batches_tracked}, layer{1..4}.{i}.conv{1,2[,3]}.weight,
 *           layer{L}.{i}.bn{1,2[,3]}.*, layer{L}.0.downsample.0.weight,
 *           layer{L}.0.downsample.1.*, fc.weight, fc.bias
 *   LeNet-5 (ReLU + max pool; conv1 has padding 2 so 28x28 works):
 *           conv1 (1->6 k5 p2), conv2 (6->16 k5), fc1 (->120), fc2 (120->84), fc3 (84->n)
 *   MLP:    fc1, fc2, ..., fcL (ReLU between)
 *   CIFAR ResNet-20/32/56/110 (6n+2 layers, n = 3/5/9/18): conv1 (3x3,
 *           16), bn1, relu, layer{1,2,3}.{0..n-1}.{conv1,bn1,relu1,conv2,
 *           bn2,add,relu} with 16/32/64 channels, the first block of layers
 *           2 and 3 at stride 2 with the parameter-free "option A" shortcut
 *           layer{L}.0.shortcut (x[:, :, ::2, ::2] zero-padded by a quarter
 *           of the new width on either side of the channels, as He et al.);
 *           avgpool, fc. `width` scales 16/32/64.
 *   VGG-11/16 with batch norm (the CIFAR variant): features.{i} numbered as
 *           a PyTorch nn.Sequential of conv (3x3 p1, bias), bn, relu and
 *           max pools (2x2), then classifier (512 -> n) on the flattened
 *           1x1 map; needs at least 32x32 input.
 *   lenet-dnn: conv1 (1->10 k5), pool1 (max 2), relu1, conv2 (10->20 k5),
 *           conv2_drop (Dropout2d 0.5), pool2, relu2, flatten, fc1 (->50),
 *           relu3, fc2 (50->n), log_softmax. Output 0 is the log-softmax:
 *           cross-entropy on it equals cross-entropy on fc2's logits, with
 *           the same gradient, so the trainer's loss serves unchanged.
 *           The sizes 10, 20, 50 are hidden[0..2] (n_hidden 3), so the
 *           wider variants of the functional-graph studies (30, 40, 100)
 *           are the same model.
 *   TopoVAE (Topo-GEN's FashionMNIST VAE): encoder.conv1 (1->32 k4 s2 p1),
 *           encoder.conv2 (32->64 k4 s2 p1), encoder.fc (3136->256),
 *           encoder.fc_mu, encoder.fc_logvar (256->latent),
 *           decoder.fc (latent->256), decoder.fc2 (256->3136),
 *           decoder.deconv1 (64->32 k4 s2 p1), decoder.deconv2 (32->1 k4 s2 p1),
 *           ReLU after each hidden layer, sigmoid at the end.
 * Initialisation follows PyTorch's defaults (ts_model_init): conv/linear
 * kaiming-uniform(a = sqrt 5) weights and U(+-1/sqrt(fan_in)) biases; for
 * ResNets torchvision's kaiming-normal(fan_out) convs, BN weight 1, bias 0.
 *
 * Usage of one training step:
 *   ts_model_zero_grad(m);
 *   ts_model_forward(m, ctx, x, batch, 1, seed_for_this_step);
 *   TsTensor *out = ts_model_output(m, 0);           // logits [batch, classes]
 *   loss = ts_loss_cross_entropy(batch, classes, out->data, labels,
 *                                TS_REDUCE_MEAN, 1.0f, out->grad);
 *   ts_model_backward(m, ctx);
 *   ts_optim_step(opt, ctx, lr);
 * forward zeroes every output's grad, so the loss only adds to it. */
#ifndef TS_NN_MODEL_H
#define TS_NN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "nn/tensor.h"

typedef enum TsModelKind {
  TS_MODEL_LENET5 = 0,
  TS_MODEL_RESNET18,
  TS_MODEL_RESNET34,
  TS_MODEL_RESNET50,
  TS_MODEL_MLP,
  TS_MODEL_TOPOVAE,
  TS_MODEL_RESNET20, /* CIFAR ResNets (He et al. 2016, section 4.2) */
  TS_MODEL_RESNET32,
  TS_MODEL_RESNET56,
  TS_MODEL_RESNET110,
  TS_MODEL_VGG11,    /* CIFAR VGGs with batch norm */
  TS_MODEL_VGG16,
  TS_MODEL_LENET_DNN /* the LeNet of the functional-graph studies (1820 units) */
} TsModelKind;
#define TS_MODEL_N_KINDS 13

#define TS_MLP_MAX_HIDDEN 8

typedef struct TsModelConfig {
  TsModelKind kind;
  int in_channels; /* 1 (FashionMNIST) or 3 (CIFAR, RGB) */
  int in_h, in_w;  /* input size, e.g. 28 x 28 */
  int num_outputs; /* classes or regression dims (head size); VAE: ignored */
  /* ResNet */
  int small_stem;  /* 1: conv1 is 3x3 stride 1 pad 1 and there is no max pool */
  float width;     /* channel multiplier on 64/128/256/512 (1.0 = torchvision) */
  /* MLP */
  int n_hidden;
  int hidden[TS_MLP_MAX_HIDDEN];
  /* TopoVAE */
  int latent;      /* 10 */
} TsModelConfig;

/* Defaults for a kind: 1x28x28 input, 10 outputs, width 1, small_stem 0,
 * MLP hidden {256, 128}, latent 10 (the VAE needs 1x28x28). */
TsModelConfig ts_model_config_default(TsModelKind kind);
/* "lenet5" | "resnet18" | "resnet34" | "resnet50" | "mlp" | "topovae" |
 * "resnet20" | "resnet32" | "resnet56" | "resnet110" | "vgg11" | "vgg16" |
 * "lenet-dnn" -> kind; -1 when unknown. */
int ts_model_kind_from_name(const char *name);
const char *ts_model_kind_name(TsModelKind kind);

typedef struct TsModel TsModel;

/* Builds the model for batches of up to max_batch images, allocating the
 * parameters (one block), gradients (one block) and the activation arena.
 * Parameters are initialised with ts_model_init(m, seed). Fails on a bad
 * config (an input too small for the network, ...) with a clear message. */
TsModel *ts_model_new(const TsModelConfig *cfg, int max_batch, uint64_t seed, TsError *err);
void ts_model_free(TsModel *m);
const TsModelConfig *ts_model_config(const TsModel *m);
int ts_model_max_batch(const TsModel *m);

/* Re-initialises every parameter and buffer (PyTorch defaults, see top),
 * reproducibly from seed (independent of threads). */
void ts_model_init(TsModel *m, uint64_t seed);

/* Runs the network on x [batch, in_channels, in_h, in_w] (batch <=
 * max_batch). train = 1: batch norm uses batch statistics and updates the
 * running ones, dropout is active, the VAE samples z = mu + eps exp(logvar/2);
 * train = 0: evaluation (running statistics, no dropout, z = mu).
 * `seed` drives this call's randomness (dropout masks, VAE eps). Zeroes the
 * outputs' gradients. x must stay valid until backward. */
void ts_model_forward(TsModel *m, const TsNnCtx *ctx, const float *x, int batch, int train,
                      uint64_t seed);
/* TopoVAE: the decoder on latent codes z [batch, latent] (evaluation mode;
 * the encoder runs on zeros and its codes are replaced): output 0 holds the
 * images. Not for backward. TS_ERR_UNSUPPORTED for a model without latent
 * sampling. */
TsStatus ts_model_decode(TsModel *m, const TsNnCtx *ctx, const float *z, int batch, TsError *err);
/* Back-propagates the gradients the caller put into the outputs' .grad,
 * accumulating into the parameters' gradients (frozen ones are skipped). */
void ts_model_backward(TsModel *m, const TsNnCtx *ctx);
/* The gradient of the loss with respect to the network input: with dx
 * non-NULL (caller-owned, max_batch x in_channels x in_h x in_w floats),
 * every later ts_model_backward first zeroes dx[0 .. batch x C x H x W) and
 * then writes dLoss/dx there, through every path that reads the input (the
 * first layer, a flatten view of it, a residual add). NULL (the default)
 * turns it off, so training computes nothing extra. Works in train and in
 * eval mode (the adversarial probes back-propagate in eval mode); parameter
 * gradients still accumulate as usual. TS_ERR_UNSUPPORTED on a model that
 * runs on the device. */
TsStatus ts_model_set_input_grad(TsModel *m, float *dx, TsError *err);
/* Zeroes all parameter gradients. */
void ts_model_zero_grad(TsModel *m);

/* Called during ts_model_backward as soon as a layer's parameter gradients
 * are final (layers in reverse order; a layer that received no gradient is
 * reported too), with the state-dict indices (ts_model_tensors) of its
 * parameters: a data-parallel trainer starts reducing them while backward
 * goes on. NULL: none. */
typedef void (*TsModelBackwardHook)(void *user, const int *tensors, int n);
void ts_model_set_backward_hook(TsModel *m, TsModelBackwardHook hook, void *user);

/* Outputs of the last forward, shaped for its batch:
 *   classifiers: 0 = logits / head values [batch, num_outputs]
 *   TopoVAE:     0 = reconstruction [batch, 1, 28, 28] (after the sigmoid),
 *                1 = mu [batch, latent], 2 = logvar [batch, latent],
 *                3 = z [batch, latent] (the sampled latent code)
 * Write dLoss/doutput into ->grad before ts_model_backward. */
int ts_model_n_outputs(const TsModel *m);
TsTensor *ts_model_output(TsModel *m, int index);

/* The state dict: every parameter and buffer, in a fixed order (PyTorch's
 * state_dict order). The array is owned by the model. */
const TsNamedTensor *ts_model_tensors(const TsModel *m, size_t *n);
/* By exact name, or NULL. */
TsNamedTensor *ts_model_find(TsModel *m, const char *name);
size_t ts_model_n_params(const TsModel *m); /* scalar count of parameters */

/* Layers, for probes and printing: name ("layer1.0.relu", "fc"), kind
 * ("conv2d", "batchnorm", "relu", "add", "view", ...) and the activation of
 * the last forward (shape for that batch). A "view" of the network input
 * itself (the MLP's flatten) reports data = NULL. */
int ts_model_n_layers(const TsModel *m);
const char *ts_model_layer_name(const TsModel *m, int i);
const char *ts_model_layer_kind(const TsModel *m, int i);
const TsTensor *ts_model_layer_output(const TsModel *m, int i);
/* Per-item output shape of layer i (dense outputs: c features, h = w = 1),
 * known from construction on; returns its rank (2 or 4). */
int ts_model_layer_shape(const TsModel *m, int i, int *c, int *h, int *w);

/* Fine-tuning: replaces the final linear layer (classifiers: "fc" / "fc3" /
 * the last MLP layer) with a fresh one of n_outputs (PyTorch default init
 * from seed) and, when freeze = 1, marks every other parameter frozen
 * (trainable = 0; batch-norm running statistics still update in train mode,
 * as in PyTorch). Pointers from ts_model_tensors/ts_model_find become
 * invalid: fetch them again (and create the optimiser afterwards). Not for
 * the TopoVAE. */
TsStatus ts_model_replace_head(TsModel *m, int n_outputs, int freeze, uint64_t seed, TsError *err);

/* The final linear layer's name ("fc", "fc3", "fc2" of a one-hidden MLP):
 * its tensors are "<name>.weight" and "<name>.bias". NULL for the TopoVAE. */
const char *ts_model_head_name(const TsModel *m);

/* Freezes/unfreezes every parameter whose name starts with prefix ("" = all). */
void ts_model_set_trainable(TsModel *m, const char *prefix, int trainable);

#endif
