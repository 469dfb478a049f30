/* generate.h — synthetic FFT images (Kaji's random_image.py, REFERENCE.md §1).
 *
 * Each image is a pure function of (params, stream, index): the generator
 * draws from the random stream (seed, stream * 2^40 + index), so a dataset
 * is identical whatever the thread count. One TsGenerator per thread: it
 * owns the FFTW plans and scratch buffers for one image size. */
#ifndef TS_IMAGE_GENERATE_H
#define TS_IMAGE_GENERATE_H

#include <stdint.h>

#include "base/error.h"
#include "base/rng.h"
#include "image/image.h"

typedef enum TsSpectrum {
  TS_SPECTRUM_KAJI = 0, /* the published weight 1/(X^2+Y^2)^beta, indexed from DC
                           linearly (amplitude ~ 1/|k|^(2 beta) at positive k) */
  TS_SPECTRUM_RADIAL    /* a correct radially symmetric amplitude 1/|f|^beta (power
                           slope -2 beta; alpha has no effect: a power law is scale free) */
} TsSpectrum;

const char *ts_spectrum_name(TsSpectrum s);
int ts_spectrum_parse(const char *name); /* -1 if unknown */

typedef struct TsGenerateParams {
  int size;                     /* N: images are N x N (default 256) */
  double alpha_min, alpha_max;  /* default 1, 1 */
  double beta_min, beta_max;    /* default 1, 2 */
  double prob_binary;           /* pb, default 0.5 */
  double prob_colour;           /* pc, default 0.5 */
  TsSpectrum spectrum;          /* default kaji */
  uint64_t seed;                /* default 0 */
} TsGenerateParams;

void ts_generate_params_default(TsGenerateParams *p);
/* Checks ranges (size 2..16384, 0 <= pb, pc <= 1, 0 <= alpha_min <= alpha_max,
 * -16 <= beta_min <= beta_max <= 16, finite). */
TsStatus ts_generate_params_check(const TsGenerateParams *p, TsError *err);

/* What was drawn for one image (for statistics, manifests and tests). */
typedef struct TsGenerateInfo {
  double alpha[3], beta[3];
  int binarised[3]; /* 0 normalised, 1 ch >= otsu, 2 ch < otsu */
  int colour;       /* 1 RGB, 0 converted to grey */
} TsGenerateInfo;

typedef struct TsGenerator TsGenerator;

TsStatus ts_generator_new(const TsGenerateParams *p, TsGenerator **out, TsError *err);
void ts_generator_free(TsGenerator *g);
/* Makes image `index` of `stream` (0 = train, 1 = val). img is allocated
 * (or reused if already N x N x 3). Always 3 channels; grey images have
 * R = G = B. info may be NULL. */
TsStatus ts_generator_make(TsGenerator *g, uint64_t stream, uint64_t index, TsImage *img, TsGenerateInfo *info,
                           TsError *err);
/* The same picture as a dataset stores it: colour pictures into rgb
 * (N x N x 3), grey ones into grey with one channel (the R of
 * ts_generator_make's R = G = B), each reused between calls; *made points
 * at the one filled. Saves `generate` the three-channel interleave and the
 * copy back out of it. */
TsStatus ts_generator_make_stored(TsGenerator *g, uint64_t stream, uint64_t index, TsImage *rgb, TsImage *grey,
                                  TsImage **made, TsGenerateInfo *info, TsError *err);

/* One channel's field before quantisation: Re(ifft2(fft2(noise) * W)) for
 * the generator's spectrum with the given alpha and beta (noise and out are
 * N x N; they may be the same array). Computed in float32 as the
 * generator does, returned in double. For tests and previews. */
TsStatus ts_generator_field(TsGenerator *g, double alpha, double beta, const double *noise, double *out);

/* The generator's noise: 16 interleaved xoshiro128** generators seeded
 * from rng (32 draws), v[16 q + j] = generator j's q-th number as a 24-bit
 * float in [0, 1). Exposed for the test that checks it against a plain
 * one-generator-at-a-time transcription. */
void ts_generate_fill_uniform(TsRng *rng, float *v, size_t n);

#endif
