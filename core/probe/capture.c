/* capture.c — layer selection by name and batched capture of layer outputs. */
#include "probe/capture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int kind_is(const TsModel *m, int i, const char *k) { return strcmp(ts_model_layer_kind(m, i), k) == 0; }

/* exact layer name, else the last layer inside module `name` */
static int find_layer(const TsModel *m, const char *name) {
  int n = ts_model_n_layers(m), last = -1;
  size_t len = strlen(name);
  for (int i = 0; i < n; i++) {
    const char *ln = ts_model_layer_name(m, i);
    if (strcmp(ln, name) == 0) return i;
    if (strncmp(ln, name, len) == 0 && ln[len] == '.') last = i;
  }
  return last;
}

static char *dupstr(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

void ts_probe_names_free(char **names, size_t count) {
  if (!names) return;
  for (size_t i = 0; i < count; i++) free(names[i]);
  free(names);
}

typedef struct List {
  int *nodes;
  char **names;
  size_t n, cap;
} List;

static TsStatus push(List *l, int node, const char *name, TsError *err) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    int *nn = realloc(l->nodes, cap * sizeof *nn);
    if (nn) l->nodes = nn;
    char **ns = realloc(l->names, cap * sizeof *ns);
    if (ns) l->names = ns;
    if (!nn || !ns) return ts_error_set(err, TS_ERR_NOMEM, "probe: out of memory");
    l->cap = cap;
  }
  l->names[l->n] = dupstr(name);
  if (!l->names[l->n]) return ts_error_set(err, TS_ERR_NOMEM, "probe: out of memory");
  l->nodes[l->n++] = node;
  return TS_OK;
}

static TsStatus default_layers(const TsModel *m, TsProbeUse use, int all, List *l, TsError *err) {
  TsModelKind k = ts_model_config(m)->kind;
  int n = ts_model_n_layers(m);
  TsStatus s = TS_OK;
  if (!all && use == TS_PROBE_FOR_GRAPH && k == TS_MODEL_LENET_DNN) {
    static const char *const blocks[] = {"relu1", "relu2", "relu3", "log_softmax"};
    for (int i = 0; i < 4 && !s; i++) s = push(l, find_layer(m, blocks[i]), blocks[i], err);
    return s;
  }
  int resnet = k == TS_MODEL_RESNET18 || k == TS_MODEL_RESNET34 || k == TS_MODEL_RESNET50 ||
               (k >= TS_MODEL_RESNET20 && k <= TS_MODEL_RESNET110);
  if (!all && resnet) {
    char name[16];
    for (int st = 1; st <= 4 && !s; st++) {
      snprintf(name, sizeof name, "layer%d", st);
      int i = find_layer(m, name);
      if (i >= 0) s = push(l, i, name, err);
    }
    if (!s) s = push(l, find_layer(m, "fc"), "fc", err);
    return s;
  }
  for (int i = 0; i < n && !s; i++)
    if (kind_is(m, i, "conv2d") || kind_is(m, i, "linear") || (all && kind_is(m, i, "add")))
      s = push(l, i, ts_model_layer_name(m, i), err);
  if (!s && all && k == TS_MODEL_LENET_DNN) s = push(l, find_layer(m, "log_softmax"), "log_softmax", err);
  return s;
}

TsStatus ts_probe_layers(const TsModel *m, const char *spec, TsProbeUse use, int **nodes, char ***names,
                         size_t *count, TsError *err) {
  List l = {0};
  TsStatus s = TS_OK;
  *nodes = NULL, *names = NULL, *count = 0;
  if (!spec || !*spec || strcmp(spec, "all") == 0) {
    s = default_layers(m, use, spec && strcmp(spec, "all") == 0, &l, err);
  } else {
    const char *p = spec;
    while (*p && !s) {
      const char *e = strchr(p, ',');
      size_t len = e ? (size_t)(e - p) : strlen(p);
      char name[TS_TENSOR_NAME_MAX];
      if (len == 0 || len >= sizeof name) {
        s = ts_error_set(err, TS_ERR_INVALID, "probe: bad layer list '%s'", spec);
        break;
      }
      memcpy(name, p, len);
      name[len] = '\0';
      int i = find_layer(m, name);
      if (i < 0 || kind_is(m, i, "view") || (ts_model_layer_output(m, i)->data == NULL && kind_is(m, i, "view"))) {
        char some[256] = "";
        for (int j = 0, w = 0; j < ts_model_n_layers(m) && w < 6; j++)
          if (kind_is(m, j, "conv2d") || kind_is(m, j, "linear") || kind_is(m, j, "relu")) {
            size_t o = strlen(some);
            snprintf(some + o, sizeof some - o, "%s%s", w ? ", " : "", ts_model_layer_name(m, j));
            w++;
          }
        s = ts_error_set(err, TS_ERR_INVALID, "probe: model %s has no layer '%s' (layers are named like %s, ...)",
                         ts_model_kind_name(ts_model_config(m)->kind), name, some);
        break;
      }
      s = push(&l, i, name, err);
      p = e ? e + 1 : p + len;
    }
  }
  for (size_t i = 0; i < l.n && !s; i++)
    if (l.nodes[i] < 0) s = ts_error_set(err, TS_ERR_INVALID, "probe: model has no layer '%s'", l.names[i]);
  if (!s && l.n == 0) s = ts_error_set(err, TS_ERR_INVALID, "probe: no layers chosen");
  if (s) {
    free(l.nodes);
    ts_probe_names_free(l.names, l.n);
    return s;
  }
  *nodes = l.nodes, *names = l.names, *count = l.n;
  return TS_OK;
}

void ts_probe_capture_clear(TsProbeCapture *c) {
  if (c->data)
    for (size_t i = 0; i < c->nlayers; i++) free(c->data[i]);
  free(c->data);
  free(c->nodes);
  free(c->dim);
  free(c->c);
  free(c->hw);
  free(c->labels);
  memset(c, 0, sizeof *c);
}

/* Per-item shape of a layer's output. */
static void layer_shape(const TsModel *m, int node, int *c, int *hw) {
  int h, w;
  ts_model_layer_shape(m, node, c, &h, &w);
  *hw = h * w;
}

TsStatus ts_probe_capture(TsModel *m, const TsNnCtx *ctx, const TsDataset *ds, const TsAugment *aug,
                          const int64_t *idx, size_t count, const int *nodes, size_t nlayers,
                          const TsProbeGroups *groups, int batch, volatile int *stop, TsProbeProgress progress,
                          void *user, TsProbeCapture *out, TsError *err) {
  memset(out, 0, sizeof *out);
  const TsModelConfig *mc = ts_model_config(m);
  int oh, ow;
  ts_augment_out_size(aug, ds->height, ds->width, &oh, &ow);
  if (ds->channels != mc->in_channels || oh != mc->in_h || ow != mc->in_w)
    return ts_error_set(err, TS_ERR_INVALID, "%s: images of %d x %d x %d, the model takes %d x %d x %d", ds->source,
                        ds->channels, oh, ow, mc->in_channels, mc->in_h, mc->in_w);
  if (count == 0 || nlayers == 0) return ts_error_set(err, TS_ERR_INVALID, "probe: nothing to capture");
  for (size_t i = 0; i < count; i++)
    if (idx[i] < 0 || idx[i] >= ds->count)
      return ts_error_set(err, TS_ERR_INVALID, "%s: sample %lld does not exist", ds->source, (long long)idx[i]);
  if (batch < 1 || batch > ts_model_max_batch(m)) batch = ts_model_max_batch(m);
  const size_t in_per = (size_t)mc->in_channels * oh * ow;
  float *x = ts_alloc_array((size_t)batch * in_per, sizeof(float), "probe input batch", err);
  float *scratch = ts_alloc_array(ts_augment_scratch(aug, ds->channels, ds->height, ds->width) + 1, sizeof(float),
                                  "probe scratch", err);
  out->nlayers = nlayers;
  out->count = count;
  out->nodes = calloc(nlayers, sizeof *out->nodes);
  out->dim = calloc(nlayers, sizeof *out->dim);
  out->c = calloc(nlayers, sizeof *out->c);
  out->hw = calloc(nlayers, sizeof *out->hw);
  out->data = calloc(nlayers, sizeof *out->data);
  out->labels = calloc(count, sizeof *out->labels);
  int32_t *gcount = NULL;
  TsStatus s = TS_OK;
  if (!x || !scratch || !out->nodes || !out->dim || !out->c || !out->hw || !out->data || !out->labels) {
    s = ts_error_set(err, TS_ERR_NOMEM, "probe: out of memory");
    goto done;
  }
  size_t maxg = 1;
  for (size_t k = 0; k < nlayers; k++) {
    out->nodes[k] = nodes[k];
    layer_shape(m, nodes[k], &out->c[k], &out->hw[k]);
    int G = groups && groups[k].ngroups > 0 ? groups[k].ngroups : out->hw[k];
    if (out->hw[k] == 1) G = 1;
    if (G > out->hw[k]) {
      s = ts_error_set(err, TS_ERR_INVALID, "probe: %d groups for %d positions of layer %s", G, out->hw[k],
                       ts_model_layer_name(m, nodes[k]));
      goto done;
    }
    if ((size_t)G > maxg) maxg = (size_t)G;
    out->dim[k] = (size_t)out->c[k] * (size_t)G;
    out->data[k] = ts_alloc_array(count * out->dim[k], sizeof(float), "probe activations", err);
    if (!out->data[k]) {
      s = TS_ERR_NOMEM;
      goto done;
    }
  }
  gcount = calloc(maxg, sizeof *gcount);
  if (!gcount) {
    s = ts_error_set(err, TS_ERR_NOMEM, "probe: out of memory");
    goto done;
  }
  for (size_t b0 = 0; b0 < count; b0 += (size_t)batch) {
    if (stop && *stop) {
      s = ts_error_set(err, TS_ERR_CANCELLED, "probe stopped");
      goto done;
    }
    int nb = (int)(count - b0 < (size_t)batch ? count - b0 : (size_t)batch);
    for (int i = 0; i < nb; i++) {
      int64_t id = idx[b0 + (size_t)i];
      ts_augment_apply(aug, ts_dataset_sample(ds, id), ds->channels, ds->height, ds->width, NULL,
                       x + (size_t)i * in_per, scratch);
      out->labels[b0 + (size_t)i] = ds->labels[id];
    }
    ts_model_forward(m, ctx, x, nb, 0, 0);
    for (size_t k = 0; k < nlayers; k++) {
      const TsTensor *t = ts_model_layer_output(m, nodes[k]);
      const int C = out->c[k], HW = out->hw[k];
      const size_t D = out->dim[k], per = (size_t)C * HW;
      const float *src = t->data ? t->data : x; /* a view of the input itself */
      float *dst = out->data[k] + b0 * D;
      if (D == per) { /* raw */
        memcpy(dst, src, (size_t)nb * per * sizeof(float));
        continue;
      }
      const int G = (int)(D / (size_t)C);
      const int32_t *of = groups[k].of;
      memset(gcount, 0, (size_t)G * sizeof *gcount);
      for (int p = 0; p < HW; p++) gcount[of ? of[p] : 0]++;
      for (int i = 0; i < nb; i++)
        for (int c = 0; c < C; c++) {
          const float *pl = src + (size_t)i * per + (size_t)c * HW;
          float *o = dst + (size_t)i * D + (size_t)c * G;
          if (G == 1) { /* the global average pool */
            double a = 0.0;
            for (int p = 0; p < HW; p++) a += pl[p];
            o[0] = (float)(a / HW);
            continue;
          }
          for (int g = 0; g < G; g++) o[g] = 0.0f;
          for (int p = 0; p < HW; p++) o[of[p]] += pl[p];
          for (int g = 0; g < G; g++) o[g] = gcount[g] ? o[g] / (float)gcount[g] : 0.0f;
        }
    }
    if (progress) progress(user, b0 + (size_t)nb, count);
  }
done:
  free(x);
  free(scratch);
  free(gcount);
  if (s) ts_probe_capture_clear(out);
  return s;
}
