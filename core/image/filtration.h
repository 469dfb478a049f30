/* filtration.h — from a picture to the scalar field homology is computed on.
 *
 * Kaji's PH-label preprocessing (PHdict.py; README, Methods) and the other filtrations
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
  TS_FILT_DISTANCE,        /* edt(~bw), bw = grey >= otsu: background >= 1, foreground 0 */
  TS_FILT_SIGNED_DISTANCE, /* edt(bw) - edt(~bw) (Kaji's default, as PHdict.py and
                              CubicalRipser's 'signed_distance' compute it):
                              foreground >= +1, background <= -1 */
  TS_FILT_GRADIENT,        /* Sobel gradient magnitude of grey (as skimage.filters.sobel) */
  TS_FILT_UPWARD,          /* foreground: -row, background: max (= 0) (CubicalRipser 'upward') */
  TS_FILT_DOWNWARD,        /* foreground: row, background: the largest foreground row */
  TS_FILT_RADIAL,          /* foreground: distance to pixel (0,0), background: the largest distance */
  TS_FILT_RADIAL_INV       /* foreground: -distance to (0,0), background: 0 */
} TsFiltrationKind;

/* Names: raw, grey, distance, signed-distance, gradient, upward, downward,
 * radial, radial-inv (the parser also takes '_' for '-'). */
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
/* The same threshold for float pixels whose smallest and largest values the
 * caller already knows (lo < hi, both finite): the same double arithmetic on
 * (double)v[i], so it equals ts_otsu_threshold of the converted array. */
void ts_otsu_threshold_f32(const float *v, size_t n, float lo, float hi, double *threshold);
/* Exact Euclidean distance transform (Felzenszwalb–Huttenlocher, linear time):
 * out[i] = distance from pixel i to the nearest pixel with mask == 0 (0 where
 * mask == 0), as scipy.ndimage.distance_transform_edt. With no zero pixel at
 * all every value is +INFINITY. */
TsStatus ts_edt(const uint8_t *mask, int width, int height, double *out, TsError *err);

/* Gradient magnitude as skimage.filters.sobel / scharr compute it:
 * sqrt((gx^2 + gy^2) / 2) with normalised 3x3 kernels, 'reflect' borders. */
typedef enum TsGradientOp { TS_GRADIENT_SOBEL = 0, TS_GRADIENT_SCHARR } TsGradientOp;
void ts_gradient_magnitude(const double *in, int width, int height, TsGradientOp op, double *out);

/* Canny edges (as skimage.feature.canny): Gaussian smoothing (sigma),
 * Sobel gradients, non-maximum suppression, hysteresis between low and high
 * (absolute gradient magnitudes). edges[i] = 1 on an edge, else 0. */
TsStatus ts_canny(const double *in, int width, int height, double sigma, double low, double high, uint8_t *edges,
                  TsError *err);

/* Resizing a float field: bilinear (pixel centres at +0.5, like PIL and
 * OpenCV without antialiasing) or area (each output pixel is the mean of the
 * input area it covers, fractional pixels weighted; best for shrinking). */
void ts_resize_bilinear(const double *in, int w, int h, double *out, int ow, int oh);
void ts_resize_area(const double *in, int w, int h, double *out, int ow, int oh);
/* The same for pictures (per channel, rounded to 8 bits). out is allocated. */
TsStatus ts_image_resize(const TsImage *in, int ow, int oh, int area, TsImage *out, TsError *err);

/* Applies o to img. *out is a malloc'd out_w x out_h float64 field (row-major).
 * *constant is set to 1 for a constant image (no threshold exists; Kaji's
 * pipeline gives an empty diagram), and then *out is all zeros. */
TsStatus ts_filtration_apply(const TsImage *img, const TsFiltrationOptions *o, double **out, int *out_w, int *out_h,
                             int *constant, TsError *err);

#endif
