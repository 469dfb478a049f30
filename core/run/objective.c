/* objective.c — the registry of training objectives and what they share:
 * metric lists, label normalisation (fit, checkpoint, apply) and the
 * evaluation loop. The objectives themselves: objective-classify.c,
 * objective-ph.c (ph and simultaneous). */
#include "run/objective.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static const struct {
  const char *name;
  TsObjectiveCreate create;
} registry[] = {
    {"classify", ts_objective_classify_new},
    {"ph", ts_objective_ph_new},
    {"simultaneous", ts_objective_simultaneous_new},
};

const char *ts_objective_names(void) { return "classify, ph, simultaneous"; }

TsObjectiveConfig ts_objective_config_default(void) {
  TsObjectiveConfig c;
  memset(&c, 0, sizeof c);
  snprintf(c.task, sizeof c.task, "classify");
  c.ph_weight = 1.0f;
  c.label_norm = TS_LABEL_NORM_ZSCORE;
  return c;
}

int ts_label_norm_from_name(const char *name) {
  if (strcmp(name, "zscore") == 0) return TS_LABEL_NORM_ZSCORE;
  if (strcmp(name, "none") == 0) return TS_LABEL_NORM_NONE;
  return -1;
}

const char *ts_label_norm_name(TsLabelNorm n) { return n == TS_LABEL_NORM_NONE ? "none" : "zscore"; }

void ts_obj_metrics_add(TsObjMetrics *m, const char *name, double value) {
  if (m->n >= TS_OBJ_MAX_METRICS) return;
  snprintf(m->m[m->n].name, sizeof m->m[m->n].name, "%s", name);
  m->m[m->n].value = value;
  m->n++;
}

double ts_obj_metrics_get(const TsObjMetrics *m, const char *name) {
  for (int i = 0; i < m->n; i++)
    if (strcmp(m->m[i].name, name) == 0) return m->m[i].value;
  return NAN;
}

TsStatus ts_objective_check_targets(const TsDataset *ds, TsError *err) {
  if (!ds->targets) return TS_OK;
  size_t n = (size_t)ds->count * (size_t)ds->target_dims;
  for (size_t i = 0; i < n; i++)
    if (!isfinite(ds->targets[i]))
      return ts_error_set(err, TS_ERR_INVALID, "%s: the label of sample %zu has a non-finite value (%g) in dimension %zu",
                          ds->source, i / (size_t)ds->target_dims, (double)ds->targets[i],
                          i % (size_t)ds->target_dims);
  return TS_OK;
}

/* Mean and population std per dimension, in double over n rows. */
static void fit_zscore(const float *targets, int64_t n, int nd, float *mean, float *std) {
  for (int d = 0; d < nd; d++) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) s += targets[(size_t)i * (size_t)nd + (size_t)d];
    double m = s / (double)n;
    for (int64_t i = 0; i < n; i++) {
      double e = targets[(size_t)i * (size_t)nd + (size_t)d] - m;
      s2 += e * e;
    }
    mean[d] = (float)m;
    std[d] = (float)sqrt(s2 / (double)n);
  }
  /* A dimension that barely varies in the fitted labels (a persistence
   * image's corner, zero but for a few pictures) would turn later values
   * into huge targets: std is floored at 1% of the root-mean-square std. */
  double ms = 0;
  for (int d = 0; d < nd; d++) ms += (double)std[d] * std[d] / nd;
  double floor_sd = 0.01 * sqrt(ms);
  for (int d = 0; d < nd; d++)
    if (!(std[d] >= floor_sd) || !(std[d] > 1e-12)) std[d] = floor_sd > 1e-12 ? (float)floor_sd : 1.0f;
}

/* The labels of a set whose stream computes them: those of the first
 * TS_OBJ_NORM_SAMPLE samples of epoch 0 (malloc'd, *n rows). */
static float *stream_targets(const TsDataset *ds, int64_t *n, TsError *err) {
  *n = ds->count < TS_OBJ_NORM_SAMPLE ? ds->count : TS_OBJ_NORM_SAMPLE;
  size_t nd = (size_t)ds->target_dims, px = (size_t)ds->channels * (size_t)ds->height * (size_t)ds->width;
  float *t = ts_alloc_array((size_t)*n, nd * sizeof(float), "label sample", err);
  uint8_t *pix = ts_alloc_array(px ? px : 1, 1, "label sample", err);
  void *w = NULL;
  TsStatus s = t && pix ? TS_OK : TS_ERR_NOMEM;
  if (!s && ds->stream->worker_new && !(w = ds->stream->worker_new(ds->stream->user, err))) s = TS_ERR_NOMEM;
  for (int64_t i = 0; i < *n && !s; i++) s = ts_dataset_fetch(ds, w, 0, i, pix, t + (size_t)i * nd, err);
  for (size_t i = 0; !s && i < (size_t)*n * nd; i++)
    if (!isfinite(t[i]))
      s = ts_error_set(err, TS_ERR_INVALID, "%s: the label of sample %zu has a non-finite value (%g) in dimension %zu",
                       ds->source, i / nd, (double)t[i], i % nd);
  if (w && ds->stream->worker_free) ds->stream->worker_free(ds->stream->user, w);
  free(pix);
  if (s) {
    free(t);
    return NULL;
  }
  return t;
}

TsObjective *ts_objective_new(const TsObjectiveConfig *cfg, const TsDataset *train, const TsDataset *val,
                              TsError *err) {
  TsObjectiveCreate create = NULL;
  for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++)
    if (strcmp(cfg->task, registry[i].name) == 0) create = registry[i].create;
  if (!create) {
    ts_error_set(err, TS_ERR_INVALID, "unknown task '%s' (known: %s)", cfg->task, ts_objective_names());
    return NULL;
  }
  if (ts_objective_check_targets(train, err) || (val && ts_objective_check_targets(val, err))) return NULL;
  if (train->count < 1) {
    ts_error_set(err, TS_ERR_INVALID, "%s holds no samples", train->source);
    return NULL;
  }
  if (val && train->target_dims > 0 && val->target_dims > 0 && val->target_dims != train->target_dims) {
    ts_error_set(err, TS_ERR_INVALID, "validation set %s has labels of %d values, the training set %s of %d",
                 val->source, val->target_dims, train->source, train->target_dims);
    return NULL;
  }
  if (val && train->label_params && val->label_params && strcmp(train->label_params, val->label_params) != 0) {
    ts_error_set(err, TS_ERR_INVALID, "the labels of %s were computed with other parameters (%s) than those of %s (%s)",
                 val->source, val->label_params, train->source, train->label_params);
    return NULL;
  }
  TsObjective *o = create(cfg, train, val, err);
  if (!o) return NULL;
  o->cfg = *cfg;
  o->num_classes = train->num_classes;
  if (train->target_dims > 0) {
    int nd = train->target_dims;
    o->label_dims = nd;
    o->label_mean = ts_alloc_array((size_t)nd, sizeof(float), "label normalisation", err);
    o->label_std = ts_alloc_array((size_t)nd, sizeof(float), "label normalisation", err);
    if (!o->label_mean || !o->label_std) {
      ts_objective_free(o);
      return NULL;
    }
    if (cfg->label_norm == TS_LABEL_NORM_ZSCORE && train->targets) {
      fit_zscore(train->targets, train->count, nd, o->label_mean, o->label_std);
    } else if (cfg->label_norm == TS_LABEL_NORM_ZSCORE) {
      int64_t n;
      float *t = stream_targets(train, &n, err);
      if (!t) {
        ts_objective_free(o);
        return NULL;
      }
      fit_zscore(t, n, nd, o->label_mean, o->label_std);
      free(t);
    } else {
      for (int d = 0; d < nd; d++) o->label_mean[d] = 0, o->label_std[d] = 1;
    }
  }
  return o;
}

void ts_objective_free(TsObjective *o) {
  if (!o) return;
  free(o->label_mean);
  free(o->label_std);
  if (o->ops && o->ops->free) o->ops->free(o);
  else free(o);
}

void ts_objective_norm_targets(const TsObjective *o, const TsBatch *b, float *out) {
  int nd = o->label_dims;
  for (int i = 0; i < b->n; i++)
    for (int d = 0; d < nd; d++) {
      size_t k = (size_t)i * (size_t)nd + (size_t)d;
      out[k] = (b->t[k] - o->label_mean[d]) / o->label_std[d];
    }
}

/* ---- checkpoint metadata ---------------------------------------------------- */

static TsStatus meta_floats(TsStWriter *w, const char *key, const float *v, int n, TsError *err) {
  size_t cap = (size_t)n * 18 + 2, k = 0;
  char *buf = malloc(cap);
  if (!buf) return ts_error_set(err, TS_ERR_NOMEM, "checkpoint metadata");
  buf[0] = '\0';
  for (int i = 0; i < n; i++) k += (size_t)snprintf(buf + k, cap - k, i ? ",%.9g" : "%.9g", (double)v[i]);
  TsStatus s = ts_st_writer_meta(w, key, buf, err);
  free(buf);
  return s;
}

static TsStatus parse_floats(const TsSafetensors *st, const char *key, float *out, int n, TsError *err) {
  const char *v = ts_safetensors_meta(st, key);
  if (!v) return ts_error_set(err, TS_ERR_FORMAT, "'%s': checkpoint metadata has no '%s'", st->path, key);
  for (int i = 0; i < n; i++) {
    char *end;
    out[i] = strtof(v, &end);
    if (end == v || (i + 1 < n ? *end != ',' : *end != '\0') || !isfinite(out[i]))
      return ts_error_set(err, TS_ERR_FORMAT, "'%s': metadata '%s' is not %d finite numbers", st->path, key, n);
    v = end + 1;
  }
  return TS_OK;
}

TsStatus ts_objective_save_meta(const TsObjective *o, TsStWriter *w, TsError *err) {
  if (!o->label_dims) return TS_OK;
  char buf[32];
  snprintf(buf, sizeof buf, "%d", o->label_dims);
  TsStatus s = ts_st_writer_meta(w, "obj.label_dims", buf, err);
  if (!s) s = meta_floats(w, "obj.label_mean", o->label_mean, o->label_dims, err);
  if (!s) s = meta_floats(w, "obj.label_std", o->label_std, o->label_dims, err);
  return s;
}

TsStatus ts_objective_load_meta(TsObjective *o, const TsSafetensors *st, TsError *err) {
  if (!o->label_dims) return TS_OK;
  const char *v = ts_safetensors_meta(st, "obj.label_dims");
  if (!v) return ts_error_set(err, TS_ERR_FORMAT, "'%s': checkpoint metadata has no 'obj.label_dims'", st->path);
  if (atoi(v) != o->label_dims)
    return ts_error_set(err, TS_ERR_INVALID, "'%s' was trained on labels of %s values, these have %d", st->path, v,
                        o->label_dims);
  TsStatus s = parse_floats(st, "obj.label_mean", o->label_mean, o->label_dims, err);
  if (!s) s = parse_floats(st, "obj.label_std", o->label_std, o->label_dims, err);
  for (int d = 0; !s && d < o->label_dims; d++)
    if (!(o->label_std[d] > 0)) s = ts_error_set(err, TS_ERR_FORMAT, "'%s': obj.label_std[%d] is not > 0", st->path, d);
  return s;
}

/* ---- evaluation --------------------------------------------------------------- */

TsStatus ts_objective_evaluate(TsObjective *o, TsModel *m, const TsNnCtx *ctx, const TsDataset *ds,
                               const TsAugment *aug, int batch, volatile int *stop, TsObjMetrics *out,
                               TsError *err) {
  memset(out, 0, sizeof *out);
  const TsModelConfig *mc = ts_model_config(m);
  if (batch > ts_model_max_batch(m)) batch = ts_model_max_batch(m);
  int oh, ow;
  ts_augment_out_size(aug, ds->height, ds->width, &oh, &ow);
  if (ds->channels != mc->in_channels || oh != mc->in_h || ow != mc->in_w)
    return ts_error_set(err, TS_ERR_INVALID, "%s: images of %d x %d x %d, the model takes %d x %d x %d", ds->source,
                        ds->channels, oh, ow, mc->in_channels, mc->in_h, mc->in_w);
  TsLoaderConfig lc = {.batch = batch, .workers = 1, .prefetch = 2, .aug = *aug};
  TsLoader *l;
  TsStatus s = ts_loader_new(ds, &lc, &l, err);
  if (s) return s;
  void *acc = o->ops->eval_begin(o, err);
  if (!acc) {
    ts_loader_free(l);
    return err ? err->code : TS_ERR_NOMEM;
  }
  s = ts_loader_begin_epoch(l, 0, 0, err);
  const TsBatch *b;
  int64_t count = 0;
  while (!s && (b = ts_loader_next(l))) {
    if (stop && *stop) {
      s = ts_error_set(err, TS_ERR_CANCELLED, "evaluation stopped");
      break;
    }
    s = o->ops->eval_batch(o, acc, m, ctx, b, err);
    count += b->n;
  }
  if (!s) s = ts_loader_status(l, err);
  ts_loader_free(l);
  TsObjMetrics tmp = {0};
  o->ops->eval_end(o, acc, count, &tmp);
  if (!s) *out = tmp;
  return s;
}
