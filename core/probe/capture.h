/* capture.h — reading named layer outputs of a network over a dataset.
 *
 * The model keeps the activations of one batch only (its arena); a capture
 * runs evaluation-mode forwards batch by batch over the chosen samples and
 * copies out, per chosen layer, a reduction of that layer's output per
 * sample, so nothing else of the network's activations is kept:
 *   - raw: every element of the output (conv: channels x positions, dense:
 *     units), bit-identical to the model's own forward of that batch;
 *   - groups: the output's positions (h x w) split into G groups; each
 *     (channel, group) becomes the mean over its positions (G = 1 is the
 *     global average pool of a conv output; dense outputs have one
 *     position and pass through).
 * Layers are named as the model names them ("conv2", "layer2.1.relu",
 * "fc"); a module name ("layer2.1", "layer3") stands for the last layer
 * inside it, i.e. the module's output. */
#ifndef TS_PROBE_CAPTURE_H
#define TS_PROBE_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "data/augment.h"
#include "data/dataset.h"
#include "nn/model.h"

typedef enum TsProbeUse {
  TS_PROBE_FOR_LIFESPANS = 0, /* embeddings: seed 002's layers */
  TS_PROBE_FOR_GRAPH          /* functional graphs: block outputs */
} TsProbeUse;

/* Resolves a comma-separated list of layer names (module names allowed,
 * see top), "all" (every conv, linear and residual-add layer and the
 * output) or NULL / "" (the default of the architecture for `use`):
 *   lifespans: ResNets: each stage's output (layer1, layer2, ...) and fc;
 *              LeNet, VGG, MLP, lenet-dnn: every conv and linear layer;
 *   graph:     lenet-dnn: the four block outputs relu1, relu2, relu3,
 *              log_softmax (10x12x12 + 320 + 50 + 10 = 1820 units);
 *              others: as for lifespans.
 * *nodes (malloc'd) receives layer indices (ts_model_layer_*) and *names
 * (malloc'd array of malloc'd strings; ts_probe_names_free) the names as
 * given (module names stay module names: "layer2", not "layer2.1.relu").
 * Unknown names fail naming the layer and listing a few valid ones. */
TsStatus ts_probe_layers(const TsModel *m, const char *spec, TsProbeUse use, int **nodes, char ***names,
                         size_t *count, TsError *err);
void ts_probe_names_free(char **names, size_t count);

typedef struct TsProbeGroups {
  int ngroups;        /* G; 0 = raw (every position its own group) */
  const int32_t *of;  /* h x w entries in [0, G) (NULL with G = 1: all one group) */
} TsProbeGroups;

typedef struct TsProbeCapture {
  size_t nlayers;
  size_t count;     /* samples */
  int *nodes;       /* nlayers */
  size_t *dim;      /* per layer: values per sample */
  int *c, *hw;      /* per layer: channels and positions of the output */
  float **data;     /* per layer: count x dim, row = sample (order of idx) */
  int32_t *labels;  /* count */
} TsProbeCapture;

void ts_probe_capture_clear(TsProbeCapture *c);

typedef void (*TsProbeProgress)(void *user, size_t done, size_t total);

/* Runs m in evaluation mode over samples idx[0..count) of ds (aug's resize
 * and normalisation; no random steps), batch at a time (<= the model's max
 * batch), and captures the layers nodes[0..nlayers) with groups[k]
 * (groups NULL: all raw). ctx: threads and determinism of the forwards.
 * progress (may be NULL) after every batch. stop: polled per batch. */
TsStatus ts_probe_capture(TsModel *m, const TsNnCtx *ctx, const TsDataset *ds, const TsAugment *aug,
                          const int64_t *idx, size_t count, const int *nodes, size_t nlayers,
                          const TsProbeGroups *groups, int batch, volatile int *stop, TsProbeProgress progress,
                          void *user, TsProbeCapture *out, TsError *err);

#endif
