/* test-generate — the synthetic image generator:
 *  - the real-transform shortcut equals the published recipe computed with
 *    plain complex FFTs (Re(ifft2(fft2(noise) * W)), W not Hermitian);
 *  - pictures are a pure function of (seed, stream, index): identical for 1
 *    and several threads, different across indices;
 *  - fractions of binarised channels and colour pictures match pb and pc;
 *  - the radial spectrum's power falls off with log-log slope -2 beta. */
#include <fftw3.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ts-test.h"
#include "base/pool.h"
#include "base/rng.h"
#include "image/filtration.h"
#include "image/generate.h"
#include "image/minmax.h"

static void complex_reference(const double *noise, int n, double alpha, double beta, double *out) {
  fftw_complex *a = fftw_malloc(sizeof(fftw_complex) * n * n);
  fftw_plan f = fftw_plan_dft_2d(n, n, a, a, FFTW_FORWARD, FFTW_ESTIMATE);
  fftw_plan b = fftw_plan_dft_2d(n, n, a, a, FFTW_BACKWARD, FFTW_ESTIMATE);
  for (int i = 0; i < n * n; i++) a[i][0] = noise[i], a[i][1] = 0;
  fftw_execute(f);
  double *x = malloc(sizeof(double) * n);
  for (int i = 0; i < n; i++) x[i] = n > 1 ? 1 + i * (alpha * n / (n - 1)) : 1;
  for (int r = 0; r < n; r++)
    for (int c = 0; c < n; c++) {
      double w = pow(x[c] * x[c] + x[r] * x[r], -beta); /* indexed from DC, not symmetric */
      a[r * n + c][0] *= w;
      a[r * n + c][1] *= w;
    }
  fftw_execute(b);
  for (int i = 0; i < n * n; i++) out[i] = a[i][0] / ((double)n * n);
  fftw_destroy_plan(f);
  fftw_destroy_plan(b);
  fftw_free(a);
  free(x);
}

static void test_real_equals_complex(void) {
  TsRng r;
  ts_rng_init(&r, 21, 0);
  static const int sizes[] = {2, 7, 8, 15, 32, 64, 128};
  double worst = 0;
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    int n = sizes[s];
    TsGenerateParams p;
    ts_generate_params_default(&p);
    p.size = n;
    TsGenerator *g;
    TS_CHECK(ts_generator_new(&p, &g, NULL) == TS_OK);
    double *noise = malloc(sizeof(double) * n * n), *a = malloc(sizeof(double) * n * n),
           *b = malloc(sizeof(double) * n * n);
    for (int t = 0; t < 4; t++) {
      double alpha = t == 0 ? 1 : 0.01 + ts_rng_uniform(&r), beta = 0.5 + 1.5 * ts_rng_uniform(&r);
      for (int i = 0; i < n * n; i++) noise[i] = ts_rng_uniform(&r);
      ts_generator_field(g, alpha, beta, noise, a);
      complex_reference(noise, n, alpha, beta, b);
      /* float32 transforms: the error relative to the field's range (what
       * the 8-bit picture sees) stays far below one grey level (1/255) */
      double err = 0, lo = b[0], hi = b[0];
      for (int i = 0; i < n * n; i++) err = fmax(err, fabs(a[i] - b[i])), lo = fmin(lo, b[i]), hi = fmax(hi, b[i]);
      TS_CHECKF(err <= 2e-5 * (hi - lo), "n=%d alpha=%g beta=%g: max error %g of range %g", n, alpha, beta, err,
                hi - lo);
      worst = fmax(worst, err / (hi - lo));
    }
    free(noise), free(a), free(b);
    ts_generator_free(g);
  }
  printf("  float32 field vs double recipe: worst error %.2g of the range\n", worst);
}

/* Extreme parameters: the weight is scaled to a largest value of 1, so
 * float32 neither overflows (beta -16) nor flushes everything (beta 16). */
static void test_extreme_beta(void) {
  TsRng r;
  ts_rng_init(&r, 5, 0);
  int n = 16;
  double *noise = malloc(sizeof(double) * n * n), *a = malloc(sizeof(double) * n * n),
         *b = malloc(sizeof(double) * n * n);
  for (int i = 0; i < n * n; i++) noise[i] = ts_rng_uniform(&r);
  static const double betas[] = {-16, -4, 4, 16};
  for (size_t t = 0; t < sizeof betas / sizeof *betas; t++) {
    TsGenerateParams p;
    ts_generate_params_default(&p);
    p.size = n;
    p.beta_min = p.beta_max = betas[t];
    TsGenerator *g;
    TS_CHECK(ts_generator_new(&p, &g, NULL) == TS_OK);
    ts_generator_field(g, 1, betas[t], noise, a);
    complex_reference(noise, n, 1, betas[t], b);
    double err = 0, lo = b[0], hi = b[0];
    for (int i = 0; i < n * n; i++) err = fmax(err, fabs(a[i] - b[i])), lo = fmin(lo, b[i]), hi = fmax(hi, b[i]);
    TS_CHECKF(isfinite(err) && err <= 2e-5 * (hi - lo), "beta=%g: max error %g of range %g", betas[t], err, hi - lo);
    /* the recipe redraws pictures whose range is below 1e-10 (beta 16 here:
     * ~2e-13), and gives up after 100 draws; the scaled weight must not
     * change that */
    TsImage img = {0};
    TsStatus st = ts_generator_make(g, 0, 0, &img, NULL, NULL);
    if (hi - lo > 1e-8) TS_CHECKF(st == TS_OK, "beta=%g: no picture", betas[t]);
    if (hi - lo < 1e-12) TS_CHECKF(st == TS_ERR_INVALID, "beta=%g: a picture of range %g", betas[t], hi - lo);
    ts_image_clear(&img);
    ts_generator_free(g);
  }
  free(noise), free(a), free(b);
}

typedef struct {
  TsGenerator **g;
  TsImage *img;
  uint64_t *hash;
  int *grey_ok, *bin_ok;
} Ctx;

static uint64_t fnv(const uint8_t *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

static void make_task(void *vctx, size_t b, size_t e, int worker) {
  Ctx *c = vctx;
  for (size_t i = b; i < e; i++) {
    TsGenerateInfo info;
    TsImage *img = &c->img[worker];
    if (ts_generator_make(c->g[worker], 0, i, img, &info, NULL) != TS_OK) continue;
    size_t n = (size_t)img->width * img->height;
    c->hash[i] = fnv(img->pixels, n * 3);
    int grey = 1, bin = 1;
    for (size_t k = 0; k < n; k++) {
      const uint8_t *px = img->pixels + 3 * k;
      grey &= px[0] == px[1] && px[1] == px[2];
      for (int ch = 0; ch < 3; ch++)
        if (info.binarised[ch] && info.colour) bin &= px[ch] == 0 || px[ch] == 255;
    }
    c->grey_ok[i] = info.colour || grey;
    c->bin_ok[i] = bin;
  }
}

static void run_pool(int threads, size_t count, uint64_t *hash, int *grey_ok, int *bin_ok) {
  TsGenerateParams p;
  ts_generate_params_default(&p);
  p.size = 48;
  p.seed = 99;
  p.alpha_min = 0.2;
  TsPool *pool = ts_pool_new(threads, NULL);
  int nt = ts_pool_threads(pool);
  TsGenerator **g = calloc((size_t)nt, sizeof *g);
  TsImage *img = calloc((size_t)nt, sizeof *img);
  for (int t = 0; t < nt; t++) TS_CHECK(ts_generator_new(&p, &g[t], NULL) == TS_OK);
  Ctx c = {g, img, hash, grey_ok, bin_ok};
  ts_pool_for(pool, count, 1, make_task, &c);
  for (int t = 0; t < nt; t++) ts_generator_free(g[t]), ts_image_clear(&img[t]);
  free(g), free(img);
  ts_pool_free(pool);
}

/* The AVX2 copies of the loops (where the CPU has them) give the same
 * pictures as the SSE2/plain ones, at even and odd sizes, both spectra
 * (16: the weight table with a scalar combine; 32, 72: the vector combine
 * whose last step overlaps). ts_generator_make_stored gives the same
 * pictures, grey ones with one channel. */
static void test_avx2_same_bits(void) {
  static const int sizes[] = {9, 16, 32, 50, 72};
  int same = 1;
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
    for (int spec = 0; spec < 2; spec++) {
      TsGenerateParams p;
      ts_generate_params_default(&p);
      p.size = sizes[si];
      p.spectrum = spec ? TS_SPECTRUM_RADIAL : TS_SPECTRUM_KAJI;
      p.alpha_min = 0.3;
      TsGenerator *a, *b;
      TS_CHECK(ts_generator_new(&p, &a, NULL) == TS_OK);
      setenv("TOPOSCOPE_NO_AVX2", "1", 1);
      TS_CHECK(ts_generator_new(&p, &b, NULL) == TS_OK);
      unsetenv("TOPOSCOPE_NO_AVX2");
      TsImage ia = {0}, ib = {0}, rgb = {0}, grey = {0};
      size_t nn = (size_t)p.size * p.size;
      for (uint64_t i = 0; i < 12; i++) {
        TsGenerateInfo info;
        TS_CHECK(ts_generator_make(a, 0, i, &ia, &info, NULL) == TS_OK);
        TS_CHECK(ts_generator_make(b, 0, i, &ib, NULL, NULL) == TS_OK);
        same &= memcmp(ia.pixels, ib.pixels, nn * 3) == 0;
        for (int k = 0; k < 2; k++) {
          TsImage *made = NULL;
          TS_CHECK(ts_generator_make_stored(k ? b : a, 0, i, &rgb, &grey, &made, NULL, NULL) == TS_OK);
          if (info.colour) {
            same &= made == &rgb && rgb.channels == 3 && memcmp(rgb.pixels, ia.pixels, nn * 3) == 0;
          } else {
            same &= made == &grey && grey.channels == 1;
            for (size_t j = 0; j < nn && made == &grey; j++) same &= grey.pixels[j] == ia.pixels[3 * j];
          }
        }
      }
      ts_image_clear(&ia), ts_image_clear(&ib), ts_image_clear(&rgb), ts_image_clear(&grey);
      ts_generator_free(a), ts_generator_free(b);
    }
  TS_CHECK(same);
}

static void test_threads_reproducible(void) {
  enum { N = 30 };
  uint64_t h1[N] = {0}, h3[N] = {0};
  int g1[N], b1[N], g3[N], b3[N];
  run_pool(1, N, h1, g1, b1);
  run_pool(3, N, h3, g3, b3);
  int same = 0, distinct = 1;
  for (int i = 0; i < N; i++) {
    same += h1[i] == h3[i];
    for (int j = 0; j < i; j++) distinct &= h1[i] != h1[j];
    TS_CHECKF(g1[i] && b1[i], "picture %d: grey pictures have R=G=B, binarised channels are 0/255", i);
  }
  TS_CHECKF(same == N, "%d of %d pictures identical across thread counts", same, N);
  TS_CHECK(distinct);
}

static void test_statistics(void) {
  TsGenerateParams p;
  ts_generate_params_default(&p);
  p.size = 8;
  p.prob_binary = 0.3;
  p.prob_colour = 0.7;
  p.seed = 5;
  TsGenerator *g;
  TS_CHECK(ts_generator_new(&p, &g, NULL) == TS_OK);
  TsImage img = {0};
  enum { N = 3000 };
  int colour = 0, above = 0, below = 0;
  double bmin = 9, bmax = -9;
  for (int i = 0; i < N; i++) {
    TsGenerateInfo info;
    TS_CHECK(ts_generator_make(g, 1, i, &img, &info, NULL) == TS_OK);
    colour += info.colour;
    for (int c = 0; c < 3; c++) {
      above += info.binarised[c] == 1;
      below += info.binarised[c] == 2;
      bmin = fmin(bmin, info.beta[c]), bmax = fmax(bmax, info.beta[c]);
      TS_CHECK(info.alpha[c] == 1);
    }
  }
  /* binomial tolerances: 4.5 standard deviations */
  double pc = (double)colour / N, pb = (double)(above + below) / (3.0 * N);
  TS_CHECKF(fabs(pc - 0.7) < 4.5 * sqrt(0.7 * 0.3 / N), "colour fraction %.4f, expected 0.7", pc);
  TS_CHECKF(fabs(pb - 0.3) < 4.5 * sqrt(0.3 * 0.7 / (3.0 * N)), "binarised fraction %.4f, expected 0.3", pb);
  double half = (double)above / (above + below);
  TS_CHECKF(fabs(half - 0.5) < 4.5 * sqrt(0.25 / (above + below)), "ch >= otsu in %.3f of binarised", half);
  TS_CHECK(bmin >= 1 && bmax < 2 && bmin < 1.01 && bmax > 1.99);
  ts_image_clear(&img);
  ts_generator_free(g);
  /* the extremes */
  p.prob_binary = 1;
  p.prob_colour = 0;
  TS_CHECK(ts_generator_new(&p, &g, NULL) == TS_OK);
  for (int i = 0; i < 20; i++) {
    TsGenerateInfo info;
    ts_generator_make(g, 0, i, &img, &info, NULL);
    TS_CHECK(!info.colour && info.binarised[0] && info.binarised[1] && info.binarised[2]);
  }
  ts_image_clear(&img);
  ts_generator_free(g);
}

static void test_radial_slope(void) {
  enum { N = 128 };
  static const double betas[] = {0.8, 1.5};
  for (int bi = 0; bi < 2; bi++) {
    double beta = betas[bi];
    TsGenerateParams p;
    ts_generate_params_default(&p);
    p.size = N;
    p.spectrum = TS_SPECTRUM_RADIAL;
    TsGenerator *g;
    TS_CHECK(ts_generator_new(&p, &g, NULL) == TS_OK);
    TsRng r;
    ts_rng_init(&r, 31, (uint64_t)bi);
    double *noise = malloc(sizeof(double) * N * N), *field = malloc(sizeof(double) * N * N);
    fftw_complex *spec = fftw_malloc(sizeof(fftw_complex) * N * (N / 2 + 1));
    fftw_plan f = fftw_plan_dft_r2c_2d(N, N, field, spec, FFTW_ESTIMATE);
    double power[N] = {0};
    int count[N] = {0};
    for (int t = 0; t < 8; t++) {
      for (int i = 0; i < N * N; i++) noise[i] = ts_rng_uniform(&r);
      ts_generator_field(g, 1, beta, noise, field);
      fftw_execute(f);
      for (int y = 0; y < N; y++)
        for (int x = 0; x <= N / 2; x++) {
          double ky = y <= N / 2 ? y : y - N, k = sqrt(ky * ky + (double)x * x);
          int b = (int)(k + 0.5);
          if (b < N) {
            power[b] += spec[y * (N / 2 + 1) + x][0] * spec[y * (N / 2 + 1) + x][0] +
                        spec[y * (N / 2 + 1) + x][1] * spec[y * (N / 2 + 1) + x][1];
            count[b]++;
          }
        }
    }
    /* least squares of log power on log k over k in [3, 50] */
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int m = 0;
    for (int k = 3; k <= 50; k++) {
      double lx = log(k), ly = log(power[k] / count[k]);
      sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly, m++;
    }
    double slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
    TS_CHECKF(fabs(slope + 2 * beta) < 0.15, "beta %.2f: slope %.3f, expected %.3f", beta, slope, -2 * beta);
    fftw_destroy_plan(f);
    fftw_free(spec);
    free(noise), free(field);
    ts_generator_free(g);
  }
}

/* xoshiro128** one number at a time, as its authors write it. */
static uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }
static uint32_t xoshiro128ss(uint32_t s[4]) {
  uint32_t result = rotl32(s[1] * 5, 7) * 9, t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl32(s[3], 11);
  return result;
}

/* The generator's 16-lane noise against a plain transcription: lane j is
 * xoshiro128** seeded with the j-th pair of 64-bit draws, v[16 q + j] its
 * q-th number >> 8, times 2^-24. Lengths with and without a partial block. */
static void test_noise(void) {
  static const size_t lens[] = {1, 15, 16, 17, 1000, 4096};
  for (size_t t = 0; t < sizeof lens / sizeof *lens; t++) {
    size_t n = lens[t];
    TsRng a, b;
    ts_rng_init(&a, 77, 5 + t);
    ts_rng_init(&b, 77, 5 + t);
    float *v = malloc(sizeof(float) * n);
    ts_generate_fill_uniform(&a, v, n);
    uint32_t st[16][4];
    for (int j = 0; j < 16; j++) {
      uint64_t x = ts_rng_u64(&b), y = ts_rng_u64(&b);
      st[j][0] = (uint32_t)x, st[j][1] = (uint32_t)(x >> 32), st[j][2] = (uint32_t)y, st[j][3] = (uint32_t)(y >> 32);
    }
    int same = 1;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
      float want = (float)(xoshiro128ss(st[i % 16]) >> 8) / 16777216.0f;
      same &= v[i] == want && v[i] >= 0 && v[i] < 1;
      sum += v[i];
    }
    TS_CHECKF(same, "length %zu: lanes differ from the plain transcription", n);
    /* and the same numbers without AVX2 */
    float *w = malloc(sizeof(float) * n);
    ts_rng_init(&b, 77, 5 + t);
    setenv("TOPOSCOPE_NO_AVX2", "1", 1);
    ts_generate_fill_uniform(&b, w, n);
    unsetenv("TOPOSCOPE_NO_AVX2");
    TS_CHECKF(memcmp(v, w, sizeof(float) * n) == 0, "length %zu: AVX2 and plain lanes differ", n);
    free(w);
    ts_rng_init(&b, 77, 5 + t);
    for (int j = 0; j < 32; j++) ts_rng_u64(&b);
    if (n >= 1000) TS_CHECKF(fabs(sum / n - 0.5) < 5 * sqrt(1.0 / 12 / n), "mean %.4f", sum / n);
    TS_CHECK(ts_rng_u64(&a) == ts_rng_u64(&b)); /* 32 draws for the seeds, in both */
    free(v);
  }
}

/* The float Otsu (vectorised bins, exact path near edges) equals the double
 * one on the converted pixels. */
static void test_otsu_f32(void) {
  TsRng rng;
  ts_rng_init(&rng, 8, 0);
  int ok = 1;
  for (int trial = 0; trial < 50; trial++) {
    size_t n = 10 + ts_rng_below(&rng, 3000);
    float *f = malloc(sizeof(float) * n);
    double *d = malloc(sizeof(double) * n);
    for (size_t i = 0; i < n; i++) {
      double u = ts_rng_uniform(&rng);
      /* smooth values, a long tail, and levels that sit on the bin edges */
      f[i] = trial % 3 == 0   ? (float)(sin(40 * u) + 0.3 * u)
             : trial % 3 == 1 ? (float)(u * u * 1e3 - 7)
                              : (float)ts_rng_below(&rng, 256) * 0.25f - 3;
      d[i] = f[i];
    }
    float lo, hi;
    ts_minmax_f32(f, n, &lo, &hi);
    double t1, t2, t3;
    ts_otsu_threshold_f32(f, n, lo, hi, &t1);
    setenv("TOPOSCOPE_NO_AVX2", "1", 1); /* the SSE2 bins too */
    ts_otsu_threshold_f32(f, n, lo, hi, &t3);
    unsetenv("TOPOSCOPE_NO_AVX2");
    ok &= ts_otsu_threshold(d, n, &t2, NULL) == TS_OK && t1 == t2 && t3 == t2;
    free(f), free(d);
  }
  TS_CHECK(ok);
}

/* The two-lane min/max against the plain loop, on every short length (the
 * scalar tail) and with the extremes at either end and in the middle. */
static void test_minmax(void) {
  TsRng rng;
  ts_rng_init(&rng, 3, 0);
  double v[1031];
  int ok = 1;
  for (size_t n = 1; n <= 1031; n += n < 40 ? 1 : 99) {
    for (int trial = 0; trial < 4; trial++) {
      for (size_t i = 0; i < n; i++) v[i] = ts_rng_uniform(&rng) * 2 - 1;
      if (trial == 1) v[0] = -5, v[n - 1] = 5;
      if (trial == 2) v[n - 1] = -5, v[n / 2] = 5;
      if (trial == 3 && n > 2) v[n / 2] = NAN; /* skipped, as the plain loop skips it */
      double l = v[0], h = v[0];
      for (size_t i = 1; i < n; i++) {
        l = v[i] < l ? v[i] : l;
        h = v[i] > h ? v[i] : h;
      }
      double l2, h2;
      ts_minmax(v, n, &l2, &h2);
      ok &= l == l2 && h == h2;
      float f[1031], fl, fh;
      for (size_t i = 0; i < n; i++) f[i] = (float)v[i];
      float el = f[0], eh = f[0];
      for (size_t i = 1; i < n; i++) {
        el = f[i] < el ? f[i] : el;
        eh = f[i] > eh ? f[i] : eh;
      }
      ts_minmax_f32(f, n, &fl, &fh);
      ok &= el == fl && eh == fh;
    }
  }
  TS_CHECK(ok);
}

static void test_params(void) {
  TsGenerateParams p;
  ts_generate_params_default(&p);
  TS_CHECK(p.size == 256 && p.alpha_min == 1 && p.alpha_max == 1 && p.beta_min == 1 && p.beta_max == 2);
  TS_CHECK(p.prob_binary == 0.5 && p.prob_colour == 0.5 && p.spectrum == TS_SPECTRUM_KAJI);
  TS_CHECK(ts_generate_params_check(&p, NULL) == TS_OK);
  TsError e = {0};
  p.size = 1;
  TS_CHECK(ts_generate_params_check(&p, &e) == TS_ERR_INVALID && strstr(e.message, "size"));
  ts_generate_params_default(&p);
  p.beta_min = 3;
  TS_CHECK(ts_generate_params_check(&p, NULL) == TS_ERR_INVALID);
  ts_generate_params_default(&p);
  p.prob_colour = NAN;
  TS_CHECK(ts_generate_params_check(&p, NULL) == TS_ERR_INVALID);
  ts_generate_params_default(&p);
  p.alpha_min = -1;
  TS_CHECK(ts_generate_params_check(&p, NULL) == TS_ERR_INVALID);
  TS_CHECK(ts_spectrum_parse("radial") == TS_SPECTRUM_RADIAL && ts_spectrum_parse("kaji") == TS_SPECTRUM_KAJI);
  TS_CHECK(ts_spectrum_parse("pink") == -1);
}

int main(void) {
  setenv("TOPOSCOPE_FFTW_PLANNER", "estimate", 1); /* fast plans for tests */
  TS_RUN(test_params);
  TS_RUN(test_noise);
  TS_RUN(test_otsu_f32);
  TS_RUN(test_minmax);
  TS_RUN(test_real_equals_complex);
  TS_RUN(test_extreme_beta);
  TS_RUN(test_avx2_same_bits);
  TS_RUN(test_threads_reproducible);
  TS_RUN(test_statistics);
  TS_RUN(test_radial_slope);
  fftw_cleanup();
  return ts_test_finish();
}
