/* image-probe — exposes the image module's building blocks to the Python
 * cross-checks (test-image-ref.py), reading and writing .npy files:
 *   image-probe otsu IN.npy                    prints the threshold
 *   image-probe edt MASK.npy OUT.npy           distance to the nearest 0
 *   image-probe sobel|scharr IN.npy OUT.npy    gradient magnitude
 *   image-probe grey PICTURE OUT.npy           0.2989 R + 0.5870 G + 0.1140 B
 *   image-probe filtration KIND PICTURE OUT.npy
 *   image-probe field kaji|radial ALPHA BETA NOISE.npy OUT.npy
 *   image-probe decode FILE OUT.npy            any supported file as an array
 *   image-probe encode IN.npy FILE [QUALITY]   uint8 HxW[xC] array as a picture
 *   image-probe canny SIGMA LOW HIGH IN.npy OUT.npy   edges (0/1)
 *   image-probe resize area|bilinear OH OW IN.npy OUT.npy */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/filtration.h"
#include "image/generate.h"
#include "image/codec.h"
#include "image/image.h"

static int fail(const TsError *e) {
  fprintf(stderr, "image-probe: %s\n", e->message);
  return 1;
}

static int load_f64(const char *path, double **v, size_t *n, size_t *h, size_t *w, TsError *e) {
  TsArray a;
  if (ts_array_load(path, &a, e)) return 1;
  *n = ts_array_count(&a);
  *h = a.ndim >= 1 ? a.shape[0] : 1;
  *w = a.ndim >= 2 ? a.shape[1] : 1;
  TsStatus s = ts_array_to_f64(&a, v, e);
  ts_array_clear(&a);
  return s != TS_OK;
}

static int save_f64(const char *path, const double *v, size_t h, size_t w, TsError *e) {
  TsArray a = {.ndim = 2, .shape = {h, w}, .dtype = TS_F64, .data = (void *)(uintptr_t)v};
  return ts_array_save(path, &a, e) != TS_OK;
}

int main(int argc, char **argv) {
  TsError e = {0};
  if (argc < 3) {
    fprintf(stderr, "usage: see the header of image-probe.c\n");
    return 2;
  }
  const char *cmd = argv[1];
  double *v = NULL;
  size_t n, h, w;
  if (!strcmp(cmd, "otsu")) {
    if (load_f64(argv[2], &v, &n, &h, &w, &e)) return fail(&e);
    double t;
    if (ts_otsu_threshold(v, n, &t, &e)) return fail(&e);
    printf("%.17g\n", t);
  } else if (!strcmp(cmd, "edt") || !strcmp(cmd, "sobel") || !strcmp(cmd, "scharr")) {
    if (argc < 4 || load_f64(argv[2], &v, &n, &h, &w, &e)) return argc < 4 ? 2 : fail(&e);
    double *out = malloc(n * sizeof *out);
    if (!strcmp(cmd, "edt")) {
      uint8_t *m = malloc(n);
      for (size_t i = 0; i < n; i++) m[i] = v[i] != 0;
      if (ts_edt(m, (int)w, (int)h, out, &e)) return fail(&e);
      free(m);
    } else {
      ts_gradient_magnitude(v, (int)w, (int)h, !strcmp(cmd, "sobel") ? TS_GRADIENT_SOBEL : TS_GRADIENT_SCHARR, out);
    }
    if (save_f64(argv[3], out, h, w, &e)) return fail(&e);
    free(out);
  } else if (!strcmp(cmd, "canny")) {
    if (argc < 7 || load_f64(argv[5], &v, &n, &h, &w, &e)) return argc < 7 ? 2 : fail(&e);
    uint8_t *edges = malloc(n);
    double *out = malloc(n * sizeof *out);
    if (ts_canny(v, (int)w, (int)h, atof(argv[2]), atof(argv[3]), atof(argv[4]), edges, &e)) return fail(&e);
    for (size_t i = 0; i < n; i++) out[i] = edges[i];
    if (save_f64(argv[6], out, h, w, &e)) return fail(&e);
    free(edges);
    free(out);
  } else if (!strcmp(cmd, "resize")) {
    if (argc < 7 || load_f64(argv[5], &v, &n, &h, &w, &e)) return argc < 7 ? 2 : fail(&e);
    int oh = atoi(argv[3]), ow = atoi(argv[4]);
    if (oh < 1 || ow < 1) return 2;
    double *out = malloc((size_t)oh * (size_t)ow * sizeof *out);
    if (!strcmp(argv[2], "area")) ts_resize_area(v, (int)w, (int)h, out, ow, oh);
    else ts_resize_bilinear(v, (int)w, (int)h, out, ow, oh);
    if (save_f64(argv[6], out, (size_t)oh, (size_t)ow, &e)) return fail(&e);
    free(out);
  } else if (!strcmp(cmd, "grey") || !strcmp(cmd, "filtration")) {
    int f = !strcmp(cmd, "filtration");
    if (argc < 4 + f) return 2;
    TsImage img;
    if (ts_image_load(argv[2 + f], &img, &e)) return fail(&e);
    TsFiltrationOptions o;
    ts_filtration_options_default(&o);
    if (f) {
      int k = ts_filtration_parse(argv[2]);
      if (k < 0) return 2;
      o.kind = (TsFiltrationKind)k;
    } else {
      o.kind = TS_FILT_GREY;
    }
    double *out;
    int ow, oh, constant;
    if (ts_filtration_apply(&img, &o, &out, &ow, &oh, &constant, &e)) return fail(&e);
    if (save_f64(argv[3 + f], out, (size_t)oh, (size_t)ow, &e)) return fail(&e);
    if (constant) printf("constant\n");
    free(out);
    ts_image_clear(&img);
  } else if (!strcmp(cmd, "field")) {
    if (argc < 7) return 2;
    if (load_f64(argv[5], &v, &n, &h, &w, &e)) return fail(&e);
    TsGenerateParams p;
    ts_generate_params_default(&p);
    p.size = (int)h;
    p.spectrum = (TsSpectrum)ts_spectrum_parse(argv[2]);
    p.alpha_min = p.alpha_max = atof(argv[3]);
    p.beta_min = p.beta_max = atof(argv[4]);
    TsGenerator *g;
    if (ts_generator_new(&p, &g, &e)) return fail(&e);
    double *out = malloc(n * sizeof *out);
    ts_generator_field(g, p.alpha_min, p.beta_min, v, out);
    if (save_f64(argv[6], out, h, w, &e)) return fail(&e);
    free(out);
    ts_generator_free(g);
  } else if (!strcmp(cmd, "decode")) {
    if (argc < 4) return 2;
    TsArray a;
    if (ts_array_load(argv[2], &a, &e)) return fail(&e);
    if (ts_array_save(argv[3], &a, &e)) return fail(&e);
    ts_array_clear(&a);
  } else if (!strcmp(cmd, "encode")) {
    if (argc < 4) return 2;
    TsArray a;
    if (ts_array_load(argv[2], &a, &e)) return fail(&e);
    TsImage img;
    if (ts_image_from_array(&a, argv[2], &img, &e)) return fail(&e);
    if (ts_image_save(argv[3], &img, argc > 4 ? atoi(argv[4]) : 75, &e)) return fail(&e);
    ts_image_clear(&img);
  } else {
    return 2;
  }
  free(v);
  return 0;
}
