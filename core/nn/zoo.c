/* zoo.c — the model definitions: LeNet-5, ResNet-18/34/50 (torchvision's
 * topology and names, optional small-image stem and width multiplier), the
 * TopoVAE, an MLP, the CIFAR ResNets and VGGs, and the functional-graph
 * LeNet (lenet-dnn). */
#include "model-graph.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[TS_MODEL_N_KINDS] = {
    "lenet5",   "resnet18", "resnet34", "resnet50",  "mlp",   "topovae",  "resnet20",
    "resnet32", "resnet56", "resnet110", "vgg11", "vgg16", "lenet-dnn"};

int ts_model_kind_from_name(const char *name) {
  for (int i = 0; i < TS_MODEL_N_KINDS; i++)
    if (name && strcmp(name, kind_names[i]) == 0) return i;
  return -1;
}

const char *ts_model_kind_name(TsModelKind kind) {
  return (unsigned)kind < TS_MODEL_N_KINDS ? kind_names[kind] : "unknown";
}

TsModelConfig ts_model_config_default(TsModelKind kind) {
  TsModelConfig c;
  memset(&c, 0, sizeof c);
  c.kind = kind;
  c.in_channels = 1;
  c.in_h = c.in_w = 28;
  c.num_outputs = 10;
  c.width = 1.0f;
  c.n_hidden = 2;
  c.hidden[0] = 256;
  c.hidden[1] = 128;
  c.latent = 10;
  if (kind == TS_MODEL_LENET_DNN) { /* conv1 channels, conv2 channels, fc1 units */
    c.n_hidden = 3;
    c.hidden[0] = 10, c.hidden[1] = 20, c.hidden[2] = 50;
  }
  return c;
}

#define TRY(x)                                                                                           \
  do {                                                                                                   \
    if ((x) < 0) return err ? err->code : TS_ERR_INVALID;                                                \
  } while (0)

static TsStatus build_lenet(TsModel *m, TsError *err) {
  int x;
  TRY(x = ts_graph_conv(m, "conv1", NODE_INPUT, 6, 5, 1, 2, 1, 0, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "relu1", x, 0, err));
  TRY(x = ts_graph_pool(m, NODE_MAXPOOL, "pool1", x, 2, 2, 0, err));
  TRY(x = ts_graph_conv(m, "conv2", x, 16, 5, 1, 0, 1, 0, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "relu2", x, 0, err));
  TRY(x = ts_graph_pool(m, NODE_MAXPOOL, "pool2", x, 2, 2, 0, err));
  const Node *n = &m->nodes[x];
  TRY(x = ts_graph_view(m, "flatten", x, n->c * n->h * n->w, 1, 1, 2, err));
  TRY(x = ts_graph_linear(m, "fc1", x, 120, 1, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "relu3", x, 0, err));
  TRY(x = ts_graph_linear(m, "fc2", x, 84, 1, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "relu4", x, 0, err));
  TRY(x = ts_graph_linear(m, "fc3", x, m->cfg.num_outputs, 1, err));
  m->head = x;
  m->outputs[m->n_outputs++] = x;
  return TS_OK;
}

static TsStatus build_mlp(TsModel *m, TsError *err) {
  if (m->cfg.n_hidden < 0 || m->cfg.n_hidden > TS_MLP_MAX_HIDDEN)
    return ts_error_set(err, TS_ERR_INVALID, "mlp: %d hidden layers (at most %d)", m->cfg.n_hidden, TS_MLP_MAX_HIDDEN);
  int x;
  TRY(x = ts_graph_view(m, "flatten", NODE_INPUT, m->in_c * m->in_h * m->in_w, 1, 1, 2, err));
  char name[32];
  for (int i = 0; i < m->cfg.n_hidden; i++) {
    if (m->cfg.hidden[i] < 1) return ts_error_set(err, TS_ERR_INVALID, "mlp: hidden layer %d has no units", i + 1);
    snprintf(name, sizeof name, "fc%d", i + 1);
    TRY(x = ts_graph_linear(m, name, x, m->cfg.hidden[i], 1, err));
    snprintf(name, sizeof name, "relu%d", i + 1);
    TRY(x = ts_graph_act(m, NODE_RELU, name, x, 0, err));
  }
  snprintf(name, sizeof name, "fc%d", m->cfg.n_hidden + 1);
  TRY(x = ts_graph_linear(m, name, x, m->cfg.num_outputs, 1, err));
  m->head = x;
  m->outputs[m->n_outputs++] = x;
  return TS_OK;
}

/* torchvision: kaiming_normal_(mode="fan_out", nonlinearity="relu") */
static void resnet_conv_init(TsModel *m, int node) {
  const Node *n = &m->nodes[node];
  TensorInit *in = &m->inits[n->t_w];
  in->kind = INIT_NORMAL;
  in->a = sqrtf(2.0f / (float)(n->conv.k * n->conv.r * n->conv.s));
}

static int conv_bn(TsModel *m, const char *prefix, const char *conv, const char *bn, int in, int k, int r, int stride,
                   int pad, TsError *err) {
  char cn[TS_TENSOR_NAME_MAX], bnn[TS_TENSOR_NAME_MAX];
  snprintf(cn, sizeof cn, "%s%s", prefix, conv);
  snprintf(bnn, sizeof bnn, "%s%s", prefix, bn);
  int x = ts_graph_conv(m, cn, in, k, r, stride, pad, 0, 0, err);
  if (x < 0) return -1;
  resnet_conv_init(m, x);
  return ts_graph_bn(m, bnn, x, err);
}

static int basic_block(TsModel *m, const char *p, int in, int planes, int stride, TsError *err) {
  char name[TS_TENSOR_NAME_MAX];
  int c_in = in == NODE_INPUT ? m->in_c : m->nodes[in].c;
  int x = conv_bn(m, p, "conv1", "bn1", in, planes, 3, stride, 1, err);
  if (x < 0) return -1;
  snprintf(name, sizeof name, "%srelu1", p);
  if ((x = ts_graph_act(m, NODE_RELU, name, x, 0, err)) < 0) return -1;
  if ((x = conv_bn(m, p, "conv2", "bn2", x, planes, 3, 1, 1, err)) < 0) return -1;
  int id = in;
  if (stride != 1 || c_in != planes)
    if ((id = conv_bn(m, p, "downsample.0", "downsample.1", in, planes, 1, stride, 0, err)) < 0) return -1;
  snprintf(name, sizeof name, "%sadd", p);
  if ((x = ts_graph_add(m, name, x, id, err)) < 0) return -1;
  snprintf(name, sizeof name, "%srelu", p);
  return ts_graph_act(m, NODE_RELU, name, x, 0, err);
}

static int bottleneck(TsModel *m, const char *p, int in, int planes, int stride, TsError *err) {
  char name[TS_TENSOR_NAME_MAX];
  int c_in = in == NODE_INPUT ? m->in_c : m->nodes[in].c;
  int x = conv_bn(m, p, "conv1", "bn1", in, planes, 1, 1, 0, err);
  if (x < 0) return -1;
  snprintf(name, sizeof name, "%srelu1", p);
  if ((x = ts_graph_act(m, NODE_RELU, name, x, 0, err)) < 0) return -1;
  if ((x = conv_bn(m, p, "conv2", "bn2", x, planes, 3, stride, 1, err)) < 0) return -1;
  snprintf(name, sizeof name, "%srelu2", p);
  if ((x = ts_graph_act(m, NODE_RELU, name, x, 0, err)) < 0) return -1;
  if ((x = conv_bn(m, p, "conv3", "bn3", x, planes * 4, 1, 1, 0, err)) < 0) return -1;
  int id = in;
  if (stride != 1 || c_in != planes * 4)
    if ((id = conv_bn(m, p, "downsample.0", "downsample.1", in, planes * 4, 1, stride, 0, err)) < 0) return -1;
  snprintf(name, sizeof name, "%sadd", p);
  if ((x = ts_graph_add(m, name, x, id, err)) < 0) return -1;
  snprintf(name, sizeof name, "%srelu", p);
  return ts_graph_act(m, NODE_RELU, name, x, 0, err);
}

static TsStatus build_resnet(TsModel *m, TsError *err) {
  static const int depth18[4] = {2, 2, 2, 2}, depth34[4] = {3, 4, 6, 3};
  const int *depth = m->cfg.kind == TS_MODEL_RESNET18 ? depth18 : depth34; /* 50 has 34's depths */
  const int bottle = m->cfg.kind == TS_MODEL_RESNET50;
  float wm = m->cfg.width;
  if (!(wm > 0.0f && wm <= 16.0f)) return ts_error_set(err, TS_ERR_INVALID, "resnet: width multiplier %g out of (0, 16]", wm);
  int widths[4];
  for (int i = 0; i < 4; i++) {
    widths[i] = (int)lroundf(64.0f * (float)(1 << i) * wm);
    if (widths[i] < 1) widths[i] = 1;
  }
  int x;
  if (m->cfg.small_stem) TRY(x = conv_bn(m, "", "conv1", "bn1", NODE_INPUT, widths[0], 3, 1, 1, err));
  else TRY(x = conv_bn(m, "", "conv1", "bn1", NODE_INPUT, widths[0], 7, 2, 3, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "relu", x, 0, err));
  if (!m->cfg.small_stem) TRY(x = ts_graph_pool(m, NODE_MAXPOOL, "maxpool", x, 3, 2, 1, err));
  char p[48];
  for (int l = 0; l < 4; l++) {
    for (int b = 0; b < depth[l]; b++) {
      snprintf(p, sizeof p, "layer%d.%d.", l + 1, b);
      int stride = (b == 0 && l > 0) ? 2 : 1;
      TRY(x = bottle ? bottleneck(m, p, x, widths[l], stride, err) : basic_block(m, p, x, widths[l], stride, err));
    }
  }
  TRY(x = ts_graph_gap(m, "avgpool", x, err));
  TRY(x = ts_graph_linear(m, "fc", x, m->cfg.num_outputs, 1, err));
  m->head = x;
  m->outputs[m->n_outputs++] = x;
  return TS_OK;
}

static TsStatus build_lenet_dnn(TsModel *m, TsError *err) {
  const int *h = m->cfg.hidden;
  if (m->cfg.n_hidden != 3 || h[0] < 1 || h[1] < 1 || h[2] < 1)
    return ts_error_set(err, TS_ERR_INVALID, "sizes must be three positive numbers (conv1, conv2, fc1)");
  int x;
  TRY(x = ts_graph_conv(m, "conv1", NODE_INPUT, h[0], 5, 1, 0, 1, 0, err));
  TRY(x = ts_graph_pool(m, NODE_MAXPOOL, "pool1", x, 2, 2, 0, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "relu1", x, 0, err));
  TRY(x = ts_graph_conv(m, "conv2", x, h[1], 5, 1, 0, 1, 0, err));
  TRY(x = ts_graph_dropout(m, NODE_DROPOUT2D, "conv2_drop", x, 0.5f, err));
  TRY(x = ts_graph_pool(m, NODE_MAXPOOL, "pool2", x, 2, 2, 0, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "relu2", x, 0, err));
  const Node *n = &m->nodes[x];
  TRY(x = ts_graph_view(m, "flatten", x, n->c * n->h * n->w, 1, 1, 2, err));
  TRY(x = ts_graph_linear(m, "fc1", x, h[2], 1, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "relu3", x, 0, err));
  TRY(x = ts_graph_linear(m, "fc2", x, m->cfg.num_outputs, 1, err));
  m->head = x;
  TRY(x = ts_graph_act(m, NODE_LOGSOFTMAX, "log_softmax", x, 0, err));
  m->outputs[m->n_outputs++] = x;
  return TS_OK;
}

/* He et al.'s CIFAR block: the shortcut is the identity, or option A where
 * the shape changes (no parameters). */
static int cifar_block(TsModel *m, const char *p, int in, int planes, int stride, TsError *err) {
  char name[TS_TENSOR_NAME_MAX];
  int c_in = in == NODE_INPUT ? m->in_c : m->nodes[in].c;
  int x = conv_bn(m, p, "conv1", "bn1", in, planes, 3, stride, 1, err);
  if (x < 0) return -1;
  snprintf(name, sizeof name, "%srelu1", p);
  if ((x = ts_graph_act(m, NODE_RELU, name, x, 0, err)) < 0) return -1;
  if ((x = conv_bn(m, p, "conv2", "bn2", x, planes, 3, 1, 1, err)) < 0) return -1;
  int id = in;
  if (stride != 1 || c_in != planes) {
    snprintf(name, sizeof name, "%sshortcut", p);
    if (stride != 2) {
      ts_error_set(err, TS_ERR_INVALID, "layer %s: option A needs stride 2", name);
      return -1;
    }
    if ((id = ts_graph_shortcut_a(m, name, in, planes, err)) < 0) return -1;
  }
  snprintf(name, sizeof name, "%sadd", p);
  if ((x = ts_graph_add(m, name, x, id, err)) < 0) return -1;
  snprintf(name, sizeof name, "%srelu", p);
  return ts_graph_act(m, NODE_RELU, name, x, 0, err);
}

static TsStatus build_cifar_resnet(TsModel *m, TsError *err) {
  int nb = m->cfg.kind == TS_MODEL_RESNET20 ? 3 : m->cfg.kind == TS_MODEL_RESNET32 ? 5
         : m->cfg.kind == TS_MODEL_RESNET56 ? 9 : 18;
  float wm = m->cfg.width;
  if (!(wm > 0.0f && wm <= 16.0f)) return ts_error_set(err, TS_ERR_INVALID, "resnet: width multiplier %g out of (0, 16]", wm);
  int widths[3];
  for (int i = 0; i < 3; i++) {
    widths[i] = 2 * (int)lroundf(8.0f * (float)(1 << i) * wm); /* even: option A pads both sides equally */
    if (widths[i] < 2) widths[i] = 2;
  }
  int x;
  TRY(x = conv_bn(m, "", "conv1", "bn1", NODE_INPUT, widths[0], 3, 1, 1, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "relu", x, 0, err));
  char p[48];
  for (int l = 0; l < 3; l++)
    for (int b = 0; b < nb; b++) {
      snprintf(p, sizeof p, "layer%d.%d.", l + 1, b);
      TRY(x = cifar_block(m, p, x, widths[l], (b == 0 && l > 0) ? 2 : 1, err));
    }
  TRY(x = ts_graph_gap(m, "avgpool", x, err));
  TRY(x = ts_graph_linear(m, "fc", x, m->cfg.num_outputs, 1, err));
  m->head = x;
  m->outputs[m->n_outputs++] = x;
  return TS_OK;
}

static TsStatus build_vgg(TsModel *m, TsError *err) {
  static const int cfg11[] = {64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0, -1};
  static const int cfg16[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0, -1};
  const int *cfg = m->cfg.kind == TS_MODEL_VGG11 ? cfg11 : cfg16;
  if (m->in_h < 32 || m->in_w < 32)
    return ts_error_set(err, TS_ERR_INVALID, "needs at least 32x32 input, not %dx%d (resize the data to 32x32)",
                        m->in_h, m->in_w);
  int x = NODE_INPUT, idx = 0;
  char name[32];
  for (const int *c = cfg; *c >= 0; c++) {
    snprintf(name, sizeof name, "features.%d", idx++);
    if (*c == 0) {
      TRY(x = ts_graph_pool(m, NODE_MAXPOOL, name, x, 2, 2, 0, err));
      continue;
    }
    TRY(x = ts_graph_conv(m, name, x, *c, 3, 1, 1, 1, 0, err));
    snprintf(name, sizeof name, "features.%d", idx++);
    TRY(x = ts_graph_bn(m, name, x, err));
    snprintf(name, sizeof name, "features.%d", idx++);
    TRY(x = ts_graph_act(m, NODE_RELU, name, x, 0, err));
  }
  const Node *n = &m->nodes[x];
  TRY(x = ts_graph_view(m, "flatten", x, n->c * n->h * n->w, 1, 1, 2, err));
  TRY(x = ts_graph_linear(m, "classifier", x, m->cfg.num_outputs, 1, err));
  m->head = x;
  m->outputs[m->n_outputs++] = x;
  return TS_OK;
}

static TsStatus build_vae(TsModel *m, TsError *err) {
  if (m->in_c != 1 || m->in_h != 28 || m->in_w != 28)
    return ts_error_set(err, TS_ERR_INVALID, "topovae: needs 1x28x28 input, not %dx%dx%d", m->in_c, m->in_h, m->in_w);
  int L = m->cfg.latent;
  if (L < 1 || L > 4096) return ts_error_set(err, TS_ERR_INVALID, "topovae: latent size %d out of range", L);
  int x, mu, lv, z;
  TRY(x = ts_graph_conv(m, "encoder.conv1", NODE_INPUT, 32, 4, 2, 1, 1, 0, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "encoder.relu1", x, 0, err));
  TRY(x = ts_graph_conv(m, "encoder.conv2", x, 64, 4, 2, 1, 1, 0, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "encoder.relu2", x, 0, err));
  TRY(x = ts_graph_view(m, "encoder.flatten", x, 64 * 7 * 7, 1, 1, 2, err));
  TRY(x = ts_graph_linear(m, "encoder.fc", x, 256, 1, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "encoder.relu3", x, 0, err));
  TRY(mu = ts_graph_linear(m, "encoder.fc_mu", x, L, 1, err));
  TRY(lv = ts_graph_linear(m, "encoder.fc_logvar", x, L, 1, err));
  TRY(z = ts_graph_sample(m, "sample", mu, lv, err));
  TRY(x = ts_graph_linear(m, "decoder.fc", z, 256, 1, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "decoder.relu1", x, 0, err));
  TRY(x = ts_graph_linear(m, "decoder.fc2", x, 64 * 7 * 7, 1, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "decoder.relu2", x, 0, err));
  TRY(x = ts_graph_view(m, "decoder.unflatten", x, 64, 7, 7, 4, err));
  TRY(x = ts_graph_conv(m, "decoder.deconv1", x, 32, 4, 2, 1, 1, 1, err));
  TRY(x = ts_graph_act(m, NODE_RELU, "decoder.relu3", x, 0, err));
  TRY(x = ts_graph_conv(m, "decoder.deconv2", x, 1, 4, 2, 1, 1, 1, err));
  TRY(x = ts_graph_act(m, NODE_SIGMOID, "decoder.sigmoid", x, 0, err));
  m->outputs[0] = x;
  m->outputs[1] = mu;
  m->outputs[2] = lv;
  m->outputs[3] = z;
  m->n_outputs = 4;
  return TS_OK;
}

TsStatus ts_zoo_build(TsModel *m, TsError *err) {
  if (m->cfg.kind != TS_MODEL_TOPOVAE && (m->cfg.num_outputs < 1 || m->cfg.num_outputs > 1000000))
    return ts_error_set(err, TS_ERR_INVALID, "model %s: %d outputs is out of range", ts_model_kind_name(m->cfg.kind),
                        m->cfg.num_outputs);
  TsStatus st;
  switch (m->cfg.kind) {
  case TS_MODEL_LENET5: st = build_lenet(m, err); break;
  case TS_MODEL_RESNET18:
  case TS_MODEL_RESNET34:
  case TS_MODEL_RESNET50: st = build_resnet(m, err); break;
  case TS_MODEL_MLP: st = build_mlp(m, err); break;
  case TS_MODEL_TOPOVAE: st = build_vae(m, err); break;
  case TS_MODEL_RESNET20:
  case TS_MODEL_RESNET32:
  case TS_MODEL_RESNET56:
  case TS_MODEL_RESNET110: st = build_cifar_resnet(m, err); break;
  case TS_MODEL_VGG11:
  case TS_MODEL_VGG16: st = build_vgg(m, err); break;
  case TS_MODEL_LENET_DNN: st = build_lenet_dnn(m, err); break;
  default: return ts_error_set(err, TS_ERR_INVALID, "model: unknown kind %d", (int)m->cfg.kind);
  }
  if (st != TS_OK) ts_error_prefix(err, "model %s", ts_model_kind_name(m->cfg.kind));
  return st;
}
