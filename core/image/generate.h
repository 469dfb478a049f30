/* generate.h — synthetic FFT images (Kaji's random_image.py).
 *
 * Each image is a pure function of (params, stream, index): the generator
 * draws from the random stream (seed, stream * 2^40 + index), so a dataset
 * is identical whatever the thread count. One TsGenerator per thread: it
 * owns the FFTW plans and scratch buffers for one image size.
 *
 * ---- How an image is made (the algorithm, precision, FFTW plans).
 *
 * **The algorithm, per channel** (exactly `random_image.py`): alpha, beta
 * uniform; `x = linspace(1, 1 + alpha N, N)`; `W = 1 / (X^2 + Y^2)^beta`;
 * channel = `Re(ifft2(fft2(noise) * W))` for uniform noise; redraw if the
 * picture is constant; then binarise with Otsu (probability pb) or min-max
 * normalise; `uint8(255 x)`; grey with probability 1 - pc (PIL's `L`:
 * `(19595 R + 38470 G + 7471 B + 2^15) >> 16`).
 * *Why real FFTs suffice:* `W` is real but not symmetric under k -> -k (it is
 * indexed from DC, so negative frequencies are damped as if they were high).
 * For real noise `F = fft2(noise)` is Hermitian and
 * `Re(ifft2(F W)) = ifft2(F (W(k) + W(-k)) / 2)`, so an r2c transform, a
 * product with the symmetrised weight on the half spectrum and a c2r transform
 * give the same picture for about a third of the work. The real transform
 * itself is done as a complex one of half the size (the N x N real field read
 * as N x N/2 complex numbers, FFTW's SIMD complex codelets; its own r2c ones
 * are scalar), and the weight, the unpacking of the half-size spectrum and the
 * repacking for the inverse come down to one pass of four multiplications per
 * coefficient (the derivation is at the top of `core/image/generate.c`).
 * *Precision:* noise, transforms and weights are float32 (the output has 8
 * bits): `test-generate` checks the field against plain double-precision
 * complex FFTs of the recipe and `test-image-ref.py` against a NumPy
 * transcription, both to within 2e-5 of the field's range (measured: 3e-7
 * of the range, under a 10000th of a grey level). The weight is divided by its largest value (the
 * scale is kept in double for the "constant picture" test, so beta up to ±16
 * neither overflows nor underflows a float) and DC, a constant that min-max,
 * Otsu and that test ignore, is left out of the transform. The noise is 16
 * interleaved xoshiro128** streams seeded from the image's own stream (24-bit
 * uniform floats), so it vectorises. Pixels therefore differ from those of
 * the earlier double-precision generator (same algorithm and statistics, not
 * the same bytes): the manifest records `"pixel_arithmetic": 2`, and
 * `--resume` refuses a dataset begun with the other. The same seed gives the
 * same bytes whatever `--threads` is, and the AVX2 and SSE2 code paths give the
 * same bytes (`test-generate` checks both). Note that `kaji`'s
 * amplitude falls as 1/|k|^(2 beta) along the positive axes, while `radial`'s
 * falls as 1/|k|^beta in every direction (power slope -2 beta; alpha has no
 * effect on a pure power law, and DC is dropped).
 *
 * FFTW plans are made once per size and thread under one mutex (the planner is
 * not thread-safe; execution is) with `FFTW_PATIENT` up to 256^2 (1–3 s once
 * per size and machine at 128^2–256^2, for transforms ~10% faster than
 * `FFTW_MEASURE`'s at 256^2), `FFTW_MEASURE` up to 1024^2 (larger sizes are
 * estimated, as measuring them costs minutes), and the wisdom is cached in
 * `$XDG_CACHE_HOME/toposcope/fftwf-wisdom`, so later runs reuse the same
 * plans (and so the same bits) without measuring again
 * (`TOPOSCOPE_FFTW_PLANNER=estimate` or `measure` plans faster). Threads of one run
 * share the in-memory wisdom, so they always use the same plans; two runs agree
 * bit for bit when they share the wisdom file (or both use `estimate`). Where
 * the cache folder is not writable, measured plans may differ between runs and
 * a pixel could, very rarely, differ by one level.
 */
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
