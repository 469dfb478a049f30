/* generate-stream.c — the `generate:` dataset: synthetic FFT images
 * (image/generate.h) and their PH labels (ph/label-input.h,
 * ph/vectorize.h) made by the loader threads as batches are needed, no
 * files (Kaji's `-t generate`).
 *
 * Spec: generate:SIZE[,KEY=VALUE...] with the keys (defaults in brackets)
 *   count=N [10000] training images per epoch; val=N [1000] validation images
 *   alpha=A:B [1:1] beta=A:B [1:2] pb=P [0.5] pc=P [0.5] spectrum=kaji|radial
 *   seed=S [0]      as `toposcope generate`
 *   type=NAME [persistence-image] dims=N [200] life=A:B [50:50]
 *   filtration=NAME [signed-distance] gradient=0|1 [0] sigma=S [1] wp=N [1]
 *                   as `toposcope label`
 * Sample i of epoch e of the training split is the generator's picture
 * e * count + i of stream 0 (train), validation sample i is picture i of
 * stream 1; so epoch e is exactly the pictures t(e*count) .. of
 * `toposcope generate -n ((e+1)*count) --size SIZE --format png` with the
 * same generator options, and its labels those `toposcope label` computes
 * from them (PNG is lossless; a JPEG's decoded pixels differ). Pictures are
 * one channel when pc = 0, else three (grey ones repeated). The dataset's
 * source is the spec with every key written out, so a checkpoint records
 * the whole recipe. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "image/generate.h"
#include "ph/label-input.h"
#include "ph/vectorize.h"

typedef struct GenSpec {
  TsGenerateParams gen;
  int64_t count, val;
  TsLabelType type;
  TsKajiParams kp;
  TsLabelInputOptions in;
  char filtration[48];
  double life[2];
} GenSpec;

typedef struct GenStream {
  GenSpec spec;
  uint64_t stream; /* 0 train, 1 val */
  int channels;
} GenStream;

typedef struct GenWorker {
  TsGenerator *g;
  TsImage rgb, grey;
  double *label;
} GenWorker;

static int parse_pair(const char *v, double *a, double *b) {
  char *end;
  *a = strtod(v, &end);
  if (end == v || *end != ':') return -1;
  const char *w = end + 1;
  *b = strtod(w, &end);
  return end == w || *end ? -1 : 0;
}

static int parse_num(const char *v, double *out) {
  char *end;
  *out = strtod(v, &end);
  return end == v || *end || !isfinite(*out) ? -1 : 0;
}

static TsStatus parse_spec(const char *spec, GenSpec *g, TsError *err) {
  memset(g, 0, sizeof *g);
  ts_generate_params_default(&g->gen);
  g->count = 10000;
  g->val = 1000;
  g->type = TS_LABEL_PERSISTENCE_IMAGE;
  ts_label_input_options_default(&g->in);
  snprintf(g->filtration, sizeof g->filtration, "signed-distance");
  g->life[0] = g->life[1] = 50;
  double sigma = 1, wp = 1, dims = 200;
  char buf[1024];
  if (strlen(spec) >= sizeof buf) return ts_error_set(err, TS_ERR_INVALID, "generate:%.40s...: spec too long", spec);
  snprintf(buf, sizeof buf, "%s", spec);
  char *sv = NULL, *tok = strtok_r(buf, ",", &sv);
  double size;
  if (!tok || parse_num(tok, &size) || size != floor(size))
    return ts_error_set(err, TS_ERR_INVALID, "'generate:%s': expected generate:SIZE[,KEY=VALUE...]", spec);
  g->gen.size = (int)size;
  while ((tok = strtok_r(NULL, ",", &sv))) {
    char *eq = strchr(tok, '=');
    if (!eq) return ts_error_set(err, TS_ERR_INVALID, "'generate:%s': '%s' is not KEY=VALUE", spec, tok);
    *eq = '\0';
    const char *k = tok, *v = eq + 1;
    double x;
    int bad = 0;
    if (!strcmp(k, "count")) bad = parse_num(v, &x) || x < 1 || x > 1e12 || (g->count = (int64_t)x) != x;
    else if (!strcmp(k, "val")) bad = parse_num(v, &x) || x < 1 || x > 1e12 || (g->val = (int64_t)x) != x;
    else if (!strcmp(k, "alpha")) bad = parse_pair(v, &g->gen.alpha_min, &g->gen.alpha_max);
    else if (!strcmp(k, "beta")) bad = parse_pair(v, &g->gen.beta_min, &g->gen.beta_max);
    else if (!strcmp(k, "pb")) bad = parse_num(v, &g->gen.prob_binary);
    else if (!strcmp(k, "pc")) bad = parse_num(v, &g->gen.prob_colour);
    else if (!strcmp(k, "spectrum")) {
      int sp = ts_spectrum_parse(v);
      bad = sp < 0;
      if (!bad) g->gen.spectrum = (TsSpectrum)sp;
    } else if (!strcmp(k, "seed")) {
      char *end;
      g->gen.seed = strtoull(v, &end, 10);
      bad = end == v || *end;
    } else if (!strcmp(k, "type")) {
      int t = ts_label_type_parse(v);
      bad = t < 0;
      if (!bad) g->type = (TsLabelType)t;
    } else if (!strcmp(k, "dims")) bad = parse_num(v, &dims) || dims < 4 || dims > 1 << 20 || dims != floor(dims);
    else if (!strcmp(k, "life")) bad = parse_pair(v, &g->life[0], &g->life[1]) || !(g->life[0] > 0 && g->life[1] > 0);
    else if (!strcmp(k, "filtration")) {
      bad = ts_label_input_set_filtration(&g->in, v) != 0 || strlen(v) >= sizeof g->filtration;
      if (!bad) snprintf(g->filtration, sizeof g->filtration, "%s", v);
    } else if (!strcmp(k, "gradient")) bad = parse_num(v, &x) || (x != 0 && x != 1) || ((g->in.filtration.edges = (int)x), 0);
    else if (!strcmp(k, "sigma")) bad = parse_num(v, &sigma) || !(sigma > 0);
    else if (!strcmp(k, "wp")) bad = parse_num(v, &wp) || wp < 0;
    else return ts_error_set(err, TS_ERR_INVALID, "'generate:%s': unknown key '%s'", spec, k);
    if (bad) return ts_error_set(err, TS_ERR_INVALID, "'generate:%s': bad value '%s' for %s", spec, v, k);
  }
  TsStatus s = ts_generate_params_check(&g->gen, err);
  if (s) return s;
  int sd = ts_label_input_signed(&g->in);
  ts_kaji_params_default(&g->kp, sd);
  g->kp.dims = (int)dims;
  ts_kaji_params_set_max_life(&g->kp, g->life[0], g->life[1], sd);
  g->kp.sigma = sigma;
  g->kp.weight_power = wp;
  return TS_OK;
}

static void canonical(const GenSpec *g, char *out, size_t n) {
  snprintf(out, n,
           "generate:%d,count=%lld,val=%lld,alpha=%.17g:%.17g,beta=%.17g:%.17g,pb=%.17g,pc=%.17g,spectrum=%s,"
           "seed=%llu,type=%s,dims=%d,life=%.17g:%.17g,filtration=%s,gradient=%d,sigma=%.17g,wp=%.17g",
           g->gen.size, (long long)g->count, (long long)g->val, g->gen.alpha_min, g->gen.alpha_max, g->gen.beta_min,
           g->gen.beta_max, g->gen.prob_binary, g->gen.prob_colour, ts_spectrum_name(g->gen.spectrum),
           (unsigned long long)g->gen.seed, ts_label_type_name(g->type), g->kp.dims, g->life[0], g->life[1],
           g->filtration, g->in.filtration.edges, g->kp.sigma, g->kp.weight_power);
}

static void *worker_new(void *user, TsError *err) {
  GenStream *gs = user;
  GenWorker *w = calloc(1, sizeof *w);
  if (!w) {
    ts_error_set(err, TS_ERR_NOMEM, "generator");
    return NULL;
  }
  w->label = malloc(sizeof(double) * (size_t)gs->spec.kp.dims);
  if (!w->label || ts_generator_new(&gs->spec.gen, &w->g, err) != TS_OK) {
    if (!w->label) ts_error_set(err, TS_ERR_NOMEM, "generator");
    free(w->label);
    free(w);
    return NULL;
  }
  return w;
}

static void worker_free(void *user, void *worker) {
  (void)user;
  GenWorker *w = worker;
  if (!w) return;
  ts_generator_free(w->g);
  ts_image_clear(&w->rgb);
  ts_image_clear(&w->grey);
  free(w->label);
  free(w);
}

static TsStatus fetch(void *user, void *worker, int64_t epoch, int64_t index, uint8_t *pixels, float *target,
                      TsError *err) {
  GenStream *gs = user;
  GenWorker *w = worker;
  uint64_t pic = gs->stream == 0 ? (uint64_t)epoch * (uint64_t)gs->spec.count + (uint64_t)index : (uint64_t)index;
  TsImage *made = NULL;
  TsStatus s = ts_generator_make_stored(w->g, gs->stream, pic, &w->rgb, &w->grey, &made, NULL, err);
  if (s) return s;
  ts_dataset_image_to_chw(made, gs->channels, pixels);
  if (!target) return TS_OK;
  TsDiagram d;
  s = ts_label_input_image_diagram(made, &gs->spec.in, &d, err);
  if (!s) s = ts_kaji_label(&d, gs->spec.type, &gs->spec.kp, w->label, err);
  ts_diagram_clear(&d);
  if (s) {
    ts_error_prefix(err, "generated picture %llu", (unsigned long long)pic);
    return s;
  }
  for (int k = 0; k < gs->spec.kp.dims; k++) target[k] = (float)w->label[k];
  return TS_OK;
}

static void stream_free(void *user) { free(user); }

TsStatus ts_dataset_open_generate(const char *spec, TsSplit split, TsDataset *ds, TsError *err) {
  memset(ds, 0, sizeof *ds);
  GenStream *gs = calloc(1, sizeof *gs);
  TsSampleStream *st = calloc(1, sizeof *st);
  if (!gs || !st) {
    free(gs);
    free(st);
    return ts_error_set(err, TS_ERR_NOMEM, "generate stream");
  }
  TsStatus s = parse_spec(spec, &gs->spec, err);
  if (s) {
    free(gs);
    free(st);
    return s;
  }
  gs->stream = split == TS_SPLIT_TEST ? 1 : 0;
  gs->channels = gs->spec.gen.prob_colour > 0 ? 3 : 1;
  st->user = gs;
  st->worker_new = worker_new;
  st->worker_free = worker_free;
  st->fetch = fetch;
  st->free = stream_free;
  ds->stream = st;
  ds->count = split == TS_SPLIT_TEST ? gs->spec.val : gs->spec.count;
  ds->channels = gs->channels;
  ds->height = ds->width = gs->spec.gen.size;
  ds->num_classes = 1;
  ds->target_dims = gs->spec.kp.dims;
  ds->labels = ts_calloc_array((size_t)ds->count, sizeof(int32_t), "dataset labels", err);
  if (!ds->labels) {
    ts_dataset_clear(ds);
    return TS_ERR_NOMEM;
  }
  canonical(&gs->spec, ds->source, sizeof ds->source);
  return TS_OK;
}
