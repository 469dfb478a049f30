/* filtration.h — from a picture to the scalar field homology is computed on.
 *
 * Kaji's PH-label preprocessing (REFERENCE.md §2) and the other filtrations
 * of `toposcope ph --filtration` and the GUI: grey, Otsu binarisation,
 * (signed) exact Euclidean distance, gradient magnitude. */
#ifndef TS_IMAGE_FILTRATION_H
#define TS_IMAGE_FILTRATION_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "image/image.h"

typedef enum TsFiltrationKind {
  TS_FILT_RAW = 0,         /* channel mean, no scaling */
  TS_FILT_GREY,            /* 0.2989 R + 0.5870 G + 0.1140 B */
  TS_FILT_DISTANCE,        /* edt(~bw), bw = grey >= otsu */
  TS_FILT_SIGNED_DISTANCE, /* edt(~bw) - edt(bw)  (Kaji's default) */
  TS_FILT_GRADIENT,        /* Sobel gradient magnitude of grey */
  TS_FILT_UPWARD,          /* height x mask (Kaji's 'upward') */
  TS_FILT_DOWNWARD,
  TS_FILT_RADIAL,
  TS_FILT_RADIAL_INV
} TsFiltrationKind;

const char *ts_filtration_name(TsFiltrationKind k); /* "signed-distance" */
int ts_filtration_parse(const char *name);          /* -1 if unknown */

typedef struct TsFiltrationOptions {
  TsFiltrationKind kind; /* default signed distance */
  int resize;            /* 0: keep size; else bilinear resize to resize x resize first */
  int kaji_scale;        /* 1 (default): distances *= 256 / height, as PHdict.py */
  int edges;             /* 1: Kaji's -g: Canny edges as the binary mask */
} TsFiltrationOptions;

void ts_filtration_options_default(TsFiltrationOptions *o);

/* Grey conversion with the weights above; channels 1, 3 or 4 (alpha ignored). */
void ts_image_to_grey(const TsImage *img, double *out);
/* Otsu threshold as scikit-image computes it (256-bin histogram over [min, max]).
 * Fails on an empty or constant input. */
TsStatus ts_otsu_threshold(const double *v, size_t n, double *threshold, TsError *err);
/* Exact Euclidean distance transform (Felzenszwalb–Huttenlocher, linear time):
 * out[i] = distance from pixel i to the nearest pixel with mask == 0 (0 where
 * mask == 0), as scipy.ndimage.distance_transform_edt. With no zero pixel at
 * all every value is +INFINITY. */
TsStatus ts_edt(const uint8_t *mask, int width, int height, double *out, TsError *err);

/* Applies o to img. *out is a malloc'd out_w x out_h float64 field (row-major).
 * *constant is set to 1 for a constant image (no threshold exists; Kaji's
 * pipeline gives an empty diagram), and then *out is all zeros. */
TsStatus ts_filtration_apply(const TsImage *img, const TsFiltrationOptions *o, double **out, int *out_w, int *out_h,
                             int *constant, TsError *err);

#endif
