/* generate.c — Kaji's FFT images (see generate.h) with FFTW3 real
 * transforms in single precision.
 *
 * Why real transforms are exact here: the published recipe computes
 * Re(ifft2(fft2(noise) * W)) with a real weight W that is not symmetric
 * under k -> -k. For real noise F = fft2(noise) is Hermitian, and
 *   Re(ifft2(G)) = ifft2((G(k) + conj(G(-k))) / 2) = ifft2(F(k) * Ws(k)),
 *   Ws(k) = (W(k) + W(-k)) / 2,
 * which is Hermitian, so a real-to-complex transform, a product with Ws and
 * a complex-to-real transform give the same picture for a third of the work
 * (test-generate checks this against plain complex FFTs).
 *
 * How the real transform is done (even N): FFTW's own r2c codelets are
 * scalar, its complex ones are SIMD, so the N x N real field f is read as
 * the N x N/2 complex array g[r][m] = f[r][2m] + i f[r][2m+1] (the same
 * bytes) and transformed with one complex FFT. With G = DFT(g), M = N/2,
 * w = exp(-2 pi i k1 / N), the field's spectrum is F[k] = A + w B and
 * F[k0][k1 + M] = A - w B, A = (G[k] + conj G[-k]) / 2, B = (G[k] -
 * conj G[-k]) / 2i. Multiplying by S1 = Ws[k0][k1], S2 = Ws[k0][k1 + M] and
 * folding back into the complex array of the new field works out to
 *   G'[k] = (P - Q sin) G[k] + i Q cos conj(G[-k]),
 *   P = (S1 + S2) / 2, Q = (S1 - S2) / 2, sin, cos of 2 pi k1 / N,
 * four multiplications per coefficient; the inverse complex FFT of G' is
 * the new field, again read as N x N reals. Odd N uses r2c/c2r.
 *
 * Precision: noise, transforms and weights are float32 (the output is 8-bit;
 * test-generate bounds the difference to the double-precision recipe). The
 * weight exp(-beta log(X^2 + Y^2)) is scaled so its largest value is 1 (a
 * float product with a table of log(X^2 + Y^2) minus its extreme, then a
 * vectorisable float exp), and the scale exp(max) is kept in double for the
 * "constant picture" test, so no parameter in range overflows a float. DC
 * is left out (a constant; see field()). Weights below e^-60 of the largest
 * are 0: they are far below float resolution, and denormals are slow.
 *
 * Speed: the per-pixel loops are written to vectorise, and where the CPU has
 * AVX2 an eight-lane copy runs instead of the SSE2 one. Every copy does the
 * same IEEE operations (no FMA, no reassociation), so the bytes do not
 * depend on which one ran (test-generate compares them).
 *
 * Plans: FFTW's planner is not thread-safe, so every plan is made under one
 * mutex; fftwf_execute on a generator's own buffers is. Plans are measured
 * (FFTW_PATIENT up to 256^2, FFTW_MEASURE to 1024^2) once per size; the
 * wisdom is kept in $XDG_CACHE_HOME/toposcope/fftwf-wisdom so later runs
 * reuse the same plans (and so produce the same bits) without measuring
 * again. */
#include "image/generate.h"

#include <errno.h>
#include <fftw3.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TS_GEN_AVX2 1 /* an AVX2 weight row, chosen at run time */
#endif

#include "base/rng.h"
#include "image/codec.h"
#include "image/filtration.h"
#include "image/minmax.h"

#define KERNEL_ATTR
#define KERNEL(name) name
#include "image/generate-kernels.h"
#undef KERNEL_ATTR
#undef KERNEL
#ifdef TS_GEN_AVX2
#define KERNEL_ATTR __attribute__((target("avx2")))
#define KERNEL(name) name##_avx2
#include "image/generate-kernels.h"
#undef KERNEL_ATTR
#undef KERNEL
#endif

/* Whether to take the AVX2 copies (the same bits as the others): the CPU
 * is asked once; TOPOSCOPE_NO_AVX2, read when a generator is made, lets the
 * tests compare both copies in one process. */
static pthread_once_t avx2_once = PTHREAD_ONCE_INIT;
static int cpu_avx2;
static void avx2_probe(void) {
#ifdef TS_GEN_AVX2
  cpu_avx2 = __builtin_cpu_supports("avx2");
#endif
}
static int use_avx2(void) {
  pthread_once(&avx2_once, avx2_probe);
  return cpu_avx2 && !getenv("TOPOSCOPE_NO_AVX2");
}

struct TsGenerator {
  TsGenerateParams p;
  int n, m, nh;          /* N, N/2 and N/2 + 1 */
  int even;              /* N even: the packed complex transform */
  float *x;              /* N x N, the noise (forward input) */
  fftwf_complex *y;      /* forward output: even N x M, odd N x (N/2 + 1) */
  fftwf_complex *z;      /* even: N x M, the weighted spectrum (inverse input) */
  fftwf_plan fwd, inv;
  float *chan[3];        /* N x N each: the three fields (fftwf_malloc'd: the inverse writes there) */
  float *dlo, *dhi;      /* N x N: L - min L and L - max L, L = kaji log(x_c^2 + x_r^2)
                            for cached_alpha, radial log |k|^2 (DC: 0) */
  double lmin, lmax;     /* extremes of L (radial: without DC) */
  float *wa, *wb, *srow; /* N each: weight rows k0 and -k0, symmetrised row */
  float *wtab;           /* N x N weights, AVX2 and N % 8 == 0 only (else NULL) */
  float *cs, *sn;        /* M each: cos and sin of 2 pi k1 / N */
  double cached_alpha;
  int have_logs;          /* 1: dlo, 2: dhi hold cached_alpha's table */
  double *xs;            /* N: scratch for make_logs */
  int avx2;              /* use weight_row_avx2 (same bits as the SSE2 one) */
};

const char *ts_spectrum_name(TsSpectrum s) { return s == TS_SPECTRUM_RADIAL ? "radial" : "kaji"; }

int ts_spectrum_parse(const char *name) {
  if (!strcmp(name, "kaji")) return TS_SPECTRUM_KAJI;
  if (!strcmp(name, "radial")) return TS_SPECTRUM_RADIAL;
  return -1;
}

void ts_generate_params_default(TsGenerateParams *p) {
  memset(p, 0, sizeof *p);
  p->size = 256;
  p->alpha_min = p->alpha_max = 1;
  p->beta_min = 1;
  p->beta_max = 2;
  p->prob_binary = 0.5;
  p->prob_colour = 0.5;
  p->spectrum = TS_SPECTRUM_KAJI;
  p->seed = 0;
}

TsStatus ts_generate_params_check(const TsGenerateParams *p, TsError *err) {
  if (p->size < 2 || p->size > 16384)
    return ts_error_set(err, TS_ERR_INVALID, "image size %d is not in 2..16384", p->size);
  if (!isfinite(p->alpha_min) || !isfinite(p->alpha_max) || p->alpha_min < 0 || p->alpha_min > p->alpha_max ||
      p->alpha_max > 1e6)
    return ts_error_set(err, TS_ERR_INVALID, "alpha range [%g, %g] must satisfy 0 <= min <= max <= 1e6",
                        p->alpha_min, p->alpha_max);
  if (!isfinite(p->beta_min) || !isfinite(p->beta_max) || p->beta_min > p->beta_max || p->beta_min < -16 ||
      p->beta_max > 16)
    return ts_error_set(err, TS_ERR_INVALID, "beta range [%g, %g] must satisfy -16 <= min <= max <= 16", p->beta_min,
                        p->beta_max);
  if (!(p->prob_binary >= 0 && p->prob_binary <= 1))
    return ts_error_set(err, TS_ERR_INVALID, "binarisation probability %g is not in [0, 1]", p->prob_binary);
  if (!(p->prob_colour >= 0 && p->prob_colour <= 1))
    return ts_error_set(err, TS_ERR_INVALID, "colour probability %g is not in [0, 1]", p->prob_colour);
  if (p->spectrum != TS_SPECTRUM_KAJI && p->spectrum != TS_SPECTRUM_RADIAL)
    return ts_error_set(err, TS_ERR_INVALID, "unknown spectrum %d", (int)p->spectrum);
  return TS_OK;
}

/* ---- FFTW planning: one mutex, wisdom cached on disk ------------------ */

static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
static int wisdom_loaded;

static int wisdom_path(char *buf, size_t n, int make_dir) {
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
  char dir[4096];
  if (xdg && *xdg) snprintf(dir, sizeof dir, "%s/toposcope", xdg);
  else if (home && *home) snprintf(dir, sizeof dir, "%s/.cache/toposcope", home);
  else return -1;
  if (make_dir) {
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
      *slash = '\0';
      mkdir(parent, 0777);
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) return -1;
  }
  return snprintf(buf, n, "%s/fftwf-wisdom", dir) < (int)n ? 0 : -1;
}

/* Called with plan_lock held. The wisdom is only a cache: a missing,
 * corrupt or unwritable file just means measuring again. */
static void load_wisdom(void) {
  if (wisdom_loaded) return;
  wisdom_loaded = 1;
  char path[4200];
  if (wisdom_path(path, sizeof path, 0) != 0) return;
  uint8_t *data;
  size_t n;
  if (ts_file_read(path, 1 << 24, &data, &n, NULL) != TS_OK) return;
  char *s = realloc(data, n + 1);
  if (!s) {
    free(data);
    return;
  }
  s[n] = '\0';
  fftwf_import_wisdom_from_string(s);
  free(s);
}

static void save_wisdom(void) {
  char path[4200];
  if (wisdom_path(path, sizeof path, 1) != 0) return;
  char *s = fftwf_export_wisdom_to_string();
  if (!s) return;
  ts_file_write_atomic(path, s, strlen(s), NULL);
  free(s);
}

/* Measuring a plan costs seconds to minutes above ~1024^2, which a run of a
 * few huge pictures would never win back: estimate those. Up to 256^2,
 * FFTW_PATIENT's wider search pays: ~10% faster transforms at 256^2 for
 * 1-3 s of planning, once per size and machine (the wisdom keeps it);
 * larger sizes plan much longer (not measured here), so they measure. */
static unsigned planner_flags(int n) {
  const char *e = getenv("TOPOSCOPE_FFTW_PLANNER");
  if ((e && !strcmp(e, "estimate")) || n > 1024) return FFTW_ESTIMATE;
  if (e && !strcmp(e, "measure")) return FFTW_MEASURE;
  return n <= 256 ? FFTW_PATIENT : FFTW_MEASURE;
}

/* ---- generator ------------------------------------------------------- */

void ts_generator_free(TsGenerator *g) {
  if (!g) return;
  pthread_mutex_lock(&plan_lock);
  if (g->fwd) fftwf_destroy_plan(g->fwd);
  if (g->inv) fftwf_destroy_plan(g->inv);
  pthread_mutex_unlock(&plan_lock);
  fftwf_free(g->x);
  fftwf_free(g->y);
  fftwf_free(g->z);
  for (int c = 0; c < 3; c++) fftwf_free(g->chan[c]);
  free(g->dlo);
  free(g->dhi);
  free(g->wa);
  free(g->wb);
  free(g->wtab);
  free(g->xs);
  free(g->srow);
  free(g->cs);
  free(g->sn);
  free(g);
}

static void make_plans(TsGenerator *g, unsigned flags) {
  int n = g->n;
  if (g->even) {
    g->fwd = fftwf_plan_dft_2d(n, g->m, (fftwf_complex *)g->x, g->y, FFTW_FORWARD, flags);
    g->inv = fftwf_plan_dft_2d(n, g->m, g->z, (fftwf_complex *)g->chan[0], FFTW_BACKWARD, flags);
  } else {
    g->fwd = fftwf_plan_dft_r2c_2d(n, n, g->x, g->y, flags);
    g->inv = fftwf_plan_dft_c2r_2d(n, n, g->y, g->chan[0], flags);
  }
}

/* The log tables for the cached alpha (kaji) or |k|^2 (radial), relative
 * to their extremes, so that the weight's exponent beta (L - Lref) is one
 * float product whose error is relative to itself (beta L itself reaches
 * several hundred at extreme parameters). */
static void make_logs(TsGenerator *g, double alpha, int which) {
  int n = g->n;
  double *x = g->xs;
  if (g->have_logs && g->cached_alpha != alpha) g->have_logs = 0;
  which &= ~g->have_logs; /* 1: dlo, 2: dhi, each only when a beta's sign asks for it */
  if (!which) return;
  if (g->p.spectrum == TS_SPECTRUM_RADIAL) {
    /* signed integer frequencies; log |k|^2 from 0 at |k| = 1 to 2 (N/2)^2 */
    for (int i = 0; i < n; i++) x[i] = i <= n / 2 ? i : i - n;
    g->lmin = 0;
    g->lmax = log(2.0 * (n / 2) * (n / 2));
  } else {
    /* x = linspace(1, 1 + alpha N, N) as numpy computes it, increasing */
    double stop = 1 + alpha * n;
    double step = n > 1 ? (stop - 1) / (n - 1) : 0;
    for (int i = 0; i < n; i++) x[i] = 1 + i * step;
    x[n - 1] = stop;
    g->lmin = log(x[0] * x[0] + x[0] * x[0]);
    g->lmax = log(x[n - 1] * x[n - 1] + x[n - 1] * x[n - 1]);
  }
  /* whole rows (x[c]^2 + x[r]^2 is the same sum both ways round, so the
   * tables come out exactly symmetric), vectorised */
  for (int t = 1; t <= 2; t++) {
    if (!(which & t)) continue;
    float *d = t == 1 ? g->dlo : g->dhi;
    double lref = t == 1 ? g->lmin : g->lmax;
    int sign = t == 1 ? 1 : -1;
    for (int r = 0; r < n; r++) {
#ifdef TS_GEN_AVX2
      if (g->avx2) {
        log_row_avx2(x, n, x[r] * x[r], lref, sign, d + (size_t)r * n);
        continue;
      }
#endif
      log_row(x, n, x[r] * x[r], lref, sign, d + (size_t)r * n);
    }
    if (g->p.spectrum == TS_SPECTRUM_RADIAL) d[0] = 0; /* log 0: DC's weight is 0 anyway */
  }
  g->cached_alpha = alpha;
  g->have_logs |= which;
}

TsStatus ts_generator_new(const TsGenerateParams *p, TsGenerator **out, TsError *err) {
  *out = NULL;
  TsStatus s = ts_generate_params_check(p, err);
  if (s) return s;
  TsGenerator *g = calloc(1, sizeof *g);
  if (!g) return ts_error_set(err, TS_ERR_NOMEM, "out of memory for a generator");
  g->p = *p;
  int n = p->size;
  g->n = n;
  g->m = n / 2;
  g->nh = n / 2 + 1;
  g->even = n % 2 == 0;
  size_t nn = (size_t)n * (size_t)n, nspec = (size_t)n * (size_t)(g->even ? g->m : g->nh);
  g->x = fftwf_malloc(sizeof(float) * nn);
  g->y = fftwf_malloc(sizeof(fftwf_complex) * nspec);
  if (g->even) g->z = fftwf_malloc(sizeof(fftwf_complex) * nspec);
  for (int c = 0; c < 3; c++) g->chan[c] = fftwf_malloc(sizeof(float) * nn);
  g->dlo = ts_alloc_array(nn, sizeof(float), "generator table", err);
  g->dhi = ts_alloc_array(nn, sizeof(float), "generator table", err);
  g->wa = ts_alloc_array((size_t)n, sizeof(float), "generator row", err);
  g->wb = ts_alloc_array((size_t)n, sizeof(float), "generator row", err);
  g->srow = ts_alloc_array((size_t)n, sizeof(float), "generator row", err);
  g->xs = ts_alloc_array((size_t)n, sizeof(double), "generator row", err);
  g->cs = ts_alloc_array((size_t)g->nh, sizeof(float), "generator row", err);
  g->sn = ts_alloc_array((size_t)g->nh, sizeof(float), "generator row", err);
  if (!g->x || !g->y || (g->even && !g->z) || !g->chan[0] || !g->chan[1] || !g->chan[2] || !g->dlo || !g->dhi || !g->wa ||
      !g->wb || !g->srow || !g->xs || !g->cs || !g->sn) {
    ts_generator_free(g);
    return ts_error_set(err, TS_ERR_NOMEM, "out of memory for a %d x %d generator", n, n);
  }
  g->avx2 = use_avx2();
  if (g->avx2 && n % 8 == 0) {
    g->wtab = ts_alloc_array(nn, sizeof(float), "generator table", err);
    if (!g->wtab) {
      ts_generator_free(g);
      return TS_ERR_NOMEM;
    }
  }
  for (int k = 0; k < g->nh; k++) {
    g->cs[k] = (float)cos(2 * M_PI * k / n);
    g->sn[k] = (float)sin(2 * M_PI * k / n);
  }
  pthread_mutex_lock(&plan_lock);
  load_wisdom();
  unsigned flags = planner_flags(n);
  /* Probe whether the wisdom already knows this size: FFTW_WISDOM_ONLY gives
   * NULL plans if not, so we know whether to save the wisdom afterwards. */
  make_plans(g, flags | FFTW_WISDOM_ONLY);
  int had = g->fwd && g->inv;
  if (g->fwd) fftwf_destroy_plan(g->fwd);
  if (g->inv) fftwf_destroy_plan(g->inv);
  g->fwd = g->inv = NULL;
  make_plans(g, flags);
  if (!had && flags != FFTW_ESTIMATE && g->fwd && g->inv) save_wisdom();
  pthread_mutex_unlock(&plan_lock);
  if (!g->fwd || !g->inv) {
    ts_generator_free(g);
    return ts_error_set(err, TS_ERR_INTERNAL, "FFTW could not plan a %d x %d transform", n, n);
  }
  if (p->spectrum == TS_SPECTRUM_RADIAL) make_logs(g, 0, 3);
  *out = g;
  return TS_OK;
}

/* e^x for x <= 0 in float, 0 below -60 (Cephes' expf polynomial on
 * x - n ln 2, |error| ~1 ulp). Branch-free, so GCC vectorises the loops
 * that call it; the same IEEE operations in every lane, so the same bits
 * vectorised or not. */
static inline float exp_nonpos(float x) {
  float xc = x < -60.0f ? -60.0f : x;
  xc = xc > 0.0f ? 0.0f : xc;
  const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
  float t = xc * 1.44269504088896341f + magic;
  float nf = t - magic;
  int32_t ti, mi;
  memcpy(&ti, &t, 4);
  memcpy(&mi, &magic, 4);
  int32_t ni = ti - mi; /* round(x / ln 2), -87..0 */
  float r = xc - nf * 0.693359375f;
  r = r - nf * -2.12194440e-4f;
  float q = 1.9875691500e-4f;
  q = q * r + 1.3981999507e-3f;
  q = q * r + 8.3334519073e-3f;
  q = q * r + 4.1665795894e-2f;
  q = q * r + 1.6666665459e-1f;
  q = q * r + 5.0000001201e-1f;
  float e = q * (r * r) + r + 1.0f;
  int32_t eb;
  memcpy(&eb, &e, 4);
  eb += (int32_t)((uint32_t)ni << 23); /* times 2^n: e in [0.7, 1.5], 2^n >= 2^-87, no underflow */
  float v;
  memcpy(&v, &eb, 4);
  return x < -60.0f ? 0.0f : v;
}

#ifdef __SSE2__
/* exp_nonpos four lanes at a time: the same operations in the same order. */
static inline __m128 exp_nonpos4(__m128 x) {
  const __m128 magic = _mm_set1_ps(12582912.0f), lim = _mm_set1_ps(-60.0f);
  __m128 xc = _mm_min_ps(_mm_max_ps(x, lim), _mm_setzero_ps());
  __m128 t = _mm_add_ps(_mm_mul_ps(xc, _mm_set1_ps(1.44269504088896341f)), magic);
  __m128 nf = _mm_sub_ps(t, magic);
  __m128i ni = _mm_sub_epi32(_mm_castps_si128(t), _mm_castps_si128(magic));
  __m128 r = _mm_sub_ps(xc, _mm_mul_ps(nf, _mm_set1_ps(0.693359375f)));
  r = _mm_sub_ps(r, _mm_mul_ps(nf, _mm_set1_ps(-2.12194440e-4f)));
  __m128 q = _mm_set1_ps(1.9875691500e-4f);
  q = _mm_add_ps(_mm_mul_ps(q, r), _mm_set1_ps(1.3981999507e-3f));
  q = _mm_add_ps(_mm_mul_ps(q, r), _mm_set1_ps(8.3334519073e-3f));
  q = _mm_add_ps(_mm_mul_ps(q, r), _mm_set1_ps(4.1665795894e-2f));
  q = _mm_add_ps(_mm_mul_ps(q, r), _mm_set1_ps(1.6666665459e-1f));
  q = _mm_add_ps(_mm_mul_ps(q, r), _mm_set1_ps(5.0000001201e-1f));
  __m128 e = _mm_add_ps(_mm_add_ps(_mm_mul_ps(q, _mm_mul_ps(r, r)), r), _mm_set1_ps(1.0f));
  __m128i eb = _mm_add_epi32(_mm_castps_si128(e), _mm_slli_epi32(ni, 23));
  return _mm_andnot_ps(_mm_cmplt_ps(x, lim), _mm_castsi128_ps(eb));
}
#endif

#ifdef TS_GEN_AVX2
/* exp_nonpos eight lanes at a time, for weight_row's loop (a fifth of the
 * run time at 128^2 with four lanes): the same operations as exp_nonpos4
 * (no FMA), so the same bits. */
__attribute__((target("avx2"))) static inline __m256 exp_nonpos8(__m256 x) {
  const __m256 magic = _mm256_set1_ps(12582912.0f), lim = _mm256_set1_ps(-60.0f);
  __m256 xc = _mm256_min_ps(_mm256_max_ps(x, lim), _mm256_setzero_ps());
  __m256 t = _mm256_add_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)), magic);
  __m256 nf = _mm256_sub_ps(t, magic);
  __m256i ni = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(magic));
  __m256 r = _mm256_sub_ps(xc, _mm256_mul_ps(nf, _mm256_set1_ps(0.693359375f)));
  r = _mm256_sub_ps(r, _mm256_mul_ps(nf, _mm256_set1_ps(-2.12194440e-4f)));
  __m256 q = _mm256_set1_ps(1.9875691500e-4f);
  q = _mm256_add_ps(_mm256_mul_ps(q, r), _mm256_set1_ps(1.3981999507e-3f));
  q = _mm256_add_ps(_mm256_mul_ps(q, r), _mm256_set1_ps(8.3334519073e-3f));
  q = _mm256_add_ps(_mm256_mul_ps(q, r), _mm256_set1_ps(4.1665795894e-2f));
  q = _mm256_add_ps(_mm256_mul_ps(q, r), _mm256_set1_ps(1.6666665459e-1f));
  q = _mm256_add_ps(_mm256_mul_ps(q, r), _mm256_set1_ps(5.0000001201e-1f));
  __m256 e = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(q, _mm256_mul_ps(r, r)), r), _mm256_set1_ps(1.0f));
  __m256i eb = _mm256_add_epi32(_mm256_castps_si256(e), _mm256_slli_epi32(ni, 23));
  return _mm256_andnot_ps(_mm256_cmp_ps(x, lim, _CMP_LT_OQ), _mm256_castsi256_ps(eb));
}

/* exp_nonpos8 of x[0..3] in place, the four written out step by step side
 * by side: each exp is a chain of ~20 dependent operations, and one after
 * another they fill the scheduler with operations that wait, so that only
 * about two ran at once. The same operations per lane, so the same bits. */
#define EXP4_STEP(stmt)                                                                                                \
  for (int j = 0; j < 4; j++) stmt
__attribute__((target("avx2"))) static inline void exp_nonpos8x4(__m256 x[4]) {
  const __m256 magic = _mm256_set1_ps(12582912.0f), lim = _mm256_set1_ps(-60.0f);
  __m256 xc[4], t[4], nf[4], r[4], q[4], e[4];
  __m256i ni[4];
  EXP4_STEP(xc[j] = _mm256_min_ps(_mm256_max_ps(x[j], lim), _mm256_setzero_ps()));
  EXP4_STEP(t[j] = _mm256_add_ps(_mm256_mul_ps(xc[j], _mm256_set1_ps(1.44269504088896341f)), magic));
  EXP4_STEP(nf[j] = _mm256_sub_ps(t[j], magic));
  EXP4_STEP(ni[j] = _mm256_sub_epi32(_mm256_castps_si256(t[j]), _mm256_castps_si256(magic)));
  EXP4_STEP(r[j] = _mm256_sub_ps(xc[j], _mm256_mul_ps(nf[j], _mm256_set1_ps(0.693359375f))));
  EXP4_STEP(r[j] = _mm256_sub_ps(r[j], _mm256_mul_ps(nf[j], _mm256_set1_ps(-2.12194440e-4f))));
  EXP4_STEP(q[j] = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(1.9875691500e-4f), r[j]),
                                 _mm256_set1_ps(1.3981999507e-3f)));
  EXP4_STEP(q[j] = _mm256_add_ps(_mm256_mul_ps(q[j], r[j]), _mm256_set1_ps(8.3334519073e-3f)));
  EXP4_STEP(q[j] = _mm256_add_ps(_mm256_mul_ps(q[j], r[j]), _mm256_set1_ps(4.1665795894e-2f)));
  EXP4_STEP(q[j] = _mm256_add_ps(_mm256_mul_ps(q[j], r[j]), _mm256_set1_ps(1.6666665459e-1f)));
  EXP4_STEP(q[j] = _mm256_add_ps(_mm256_mul_ps(q[j], r[j]), _mm256_set1_ps(5.0000001201e-1f)));
  EXP4_STEP(e[j] = _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(q[j], _mm256_mul_ps(r[j], r[j])), r[j]),
                                 _mm256_set1_ps(1.0f)));
  EXP4_STEP(ni[j] = _mm256_add_epi32(_mm256_castps_si256(e[j]), _mm256_slli_epi32(ni[j], 23)));
  EXP4_STEP(x[j] = _mm256_andnot_ps(_mm256_cmp_ps(x[j], lim, _CMP_LT_OQ), _mm256_castsi256_ps(ni[j])));
}
#undef EXP4_STEP

__attribute__((target("avx2"))) static int weight_row_avx2(const float *d, int n, float k, float *out) {
  const __m256 vk = _mm256_set1_ps(k);
  int j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(out + j, exp_nonpos8(_mm256_mul_ps(vk, _mm256_loadu_ps(d + j))));
  return j;
}

/* The whole N x N weight table (N a multiple of 8) from its upper triangle:
 * W is symmetric (d is), so each 8 x 8 block above the diagonal is also
 * stored transposed below it; half the exponentials, the same values. */
__attribute__((target("avx2"))) static void weight_table_avx2(const float *d, int n, float k, float *w) {
  const __m256 vk = _mm256_set1_ps(k);
  for (int bi = 0; bi < n; bi += 8)
    for (int bj = bi; bj < n; bj += 8) {
      __m256 v[8];
      for (int t = 0; t < 8; t++) v[t] = _mm256_mul_ps(vk, _mm256_loadu_ps(d + (size_t)(bi + t) * n + bj));
      exp_nonpos8x4(v);
      exp_nonpos8x4(v + 4);
      for (int t = 0; t < 8; t++) _mm256_storeu_ps(w + (size_t)(bi + t) * n + bj, v[t]);
      if (bj == bi) continue;
      __m256 a[8], b[8];
      for (int t = 0; t < 8; t += 2) {
        a[t] = _mm256_unpacklo_ps(v[t], v[t + 1]);
        a[t + 1] = _mm256_unpackhi_ps(v[t], v[t + 1]);
      }
      for (int t = 0; t < 8; t += 4) {
        b[t] = _mm256_shuffle_ps(a[t], a[t + 2], 0x44);
        b[t + 1] = _mm256_shuffle_ps(a[t], a[t + 2], 0xEE);
        b[t + 2] = _mm256_shuffle_ps(a[t + 1], a[t + 3], 0x44);
        b[t + 3] = _mm256_shuffle_ps(a[t + 1], a[t + 3], 0xEE);
      }
      for (int t = 0; t < 4; t++) {
        _mm256_storeu_ps(w + (size_t)(bj + t) * n + bi, _mm256_permute2f128_ps(b[t], b[t + 4], 0x20));
        _mm256_storeu_ps(w + (size_t)(bj + t + 4) * n + bi, _mm256_permute2f128_ps(b[t], b[t + 4], 0x31));
      }
    }
}
#endif

/* out[j] = exp(k d[r][j]) for one row of d (dlo or dhi: k d <= 0). */
static void weight_row(const TsGenerator *g, const float *table, int r, float k, float *out) {
  const float *d = table + (size_t)r * g->n;
  int j = 0, n = g->n;
#ifdef TS_GEN_AVX2
  if (g->avx2) j = weight_row_avx2(d, n, k, out);
#endif
#ifdef __SSE2__
  __m128 vk = _mm_set1_ps(k);
  for (; j + 4 <= n; j += 4) _mm_storeu_ps(out + j, exp_nonpos4(_mm_mul_ps(vk, _mm_loadu_ps(d + j))));
#endif
  for (; j < n; j++) out[j] = exp_nonpos(k * d[j]);
  if (r == 0 && g->p.spectrum == TS_SPECTRUM_RADIAL) out[0] = 0; /* no DC: a power law has none */
}

#ifdef TS_GEN_AVX2
/* Eight k1 from k1 on, given the symmetrised weights s1 = Ws[k0][k1..],
 * s2 = Ws[k0][k1 + M..]: G'[k] = (P - Q sin) G[k] + i Q cos conj(G[-k]),
 * written to o (both AVX2 combines share it, so the same bits). */
__attribute__((target("avx2"))) static inline void combine8(const float *gy, const float *hy, float *o, __m256 s1,
                                                           __m256 s2, const float *cs, const float *sn, int k1,
                                                           int m, __m256 vsc) {
  const __m256 half = _mm256_set1_ps(0.5f);
  const __m256i lo = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3), hi = _mm256_setr_epi32(4, 4, 5, 5, 6, 6, 7, 7),
                rev = _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0);
  __m256 p = _mm256_mul_ps(half, _mm256_add_ps(s1, s2)), q = _mm256_mul_ps(half, _mm256_sub_ps(s1, s2));
  __m256 a = _mm256_mul_ps(_mm256_sub_ps(p, _mm256_mul_ps(q, _mm256_loadu_ps(sn + k1))), vsc);
  __m256 b = _mm256_mul_ps(_mm256_mul_ps(q, _mm256_loadu_ps(cs + k1)), vsc);
  for (int h = 0; h < 2; h++) {
    int kk = k1 + 4 * h;
    __m256 ad = _mm256_permutevar8x32_ps(a, h ? hi : lo), bd = _mm256_permutevar8x32_ps(b, h ? hi : lo);
    __m256 gv = _mm256_loadu_ps(gy + 2 * kk);
    __m256 hv = _mm256_permutevar8x32_ps(_mm256_loadu_ps(hy + 2 * m - 6 - 2 * kk), rev); /* columns M-kk..M-kk-3 */
    _mm256_storeu_ps(o + 2 * kk, _mm256_add_ps(_mm256_mul_ps(ad, gv), _mm256_mul_ps(bd, hv)));
  }
}

/* combine_uv: combine_row with the symmetrised row s[j] = (u[j] + v[-j]) / 2
 * formed on the fly from the weight rows u = W[k0] and v = W[-k0] (the
 * table's), eight k1 at a time, instead of written out and read back (a
 * reversed-index loop that GCC leaves scalar). The same float operations
 * as field()'s s[] and combine_row, so the same bits. dc_zero: s[0] = 0. */
__attribute__((target("avx2"))) static void combine_uv(const float *gy, const float *hy, float *o, const float *u,
                                                       const float *v, int dc_zero, const float *cs,
                                                       const float *sn, int m, float scale) {
  const int n = 2 * m;
  const __m256 half = _mm256_set1_ps(0.5f), vsc = _mm256_set1_ps(scale);
  const __m256i rev = _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0);
  {
    float s0 = dc_zero ? 0 : 0.5f * (u[0] + v[0]), sm = 0.5f * (u[m] + v[m]);
    float p = 0.5f * (s0 + sm), q = 0.5f * (s0 - sm);
    float a = p * scale, b = q * scale; /* sin 0 = 0, cos 0 = 1 */
    o[0] = a * gy[0] + b * hy[1];
    o[1] = a * gy[1] + b * hy[0];
  }
  /* k1 = 1.. in steps of 8, the last step moved back to end at M - 1: it
   * redoes a few k1 with the same operations (the same values) rather than
   * leave up to seven to a scalar tail that costs as much as the rest */
  for (int k1 = 1; m >= 9; k1 = k1 + 16 <= m ? k1 + 8 : m - 8) {
    /* v[n - k1 - j] and v[m - k1 - j], j = 0..7: eight floats read backwards */
    __m256 v1 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(v + n - k1 - 7), rev);
    __m256 v2 = _mm256_permutevar8x32_ps(_mm256_loadu_ps(v + m - k1 - 7), rev);
    __m256 s1 = _mm256_mul_ps(half, _mm256_add_ps(_mm256_loadu_ps(u + k1), v1));
    __m256 s2 = _mm256_mul_ps(half, _mm256_add_ps(_mm256_loadu_ps(u + k1 + m), v2));
    combine8(gy, hy, o, s1, s2, cs, sn, k1, m, vsc);
    if (k1 == m - 8) break;
  }
  for (int k1 = 1; k1 < m && m < 9; k1++) {
    float s1 = 0.5f * (u[k1] + v[n - k1]), s2 = 0.5f * (u[k1 + m] + v[m - k1]);
    float p = 0.5f * (s1 + s2), q = 0.5f * (s1 - s2);
    float a = (p - q * sn[k1]) * scale, b = q * cs[k1] * scale;
    o[2 * k1] = a * gy[2 * k1] + b * hy[2 * m + 1 - 2 * k1];
    o[2 * k1 + 1] = a * gy[2 * k1 + 1] + b * hy[2 * m - 2 * k1];
  }
}

/* combine_row's loop eight k1 at a time (the same operations, so the same
 * bits); returns the first k1 left to do. */
__attribute__((target("avx2"))) static int combine_avx2(const float *gy, const float *hy, float *o, const float *s,
                                                        const float *cs, const float *sn, int m, float scale) {
  const __m256 vsc = _mm256_set1_ps(scale);
  int k1 = 1;
  for (; k1 + 8 <= m; k1 += 8)
    combine8(gy, hy, o, _mm256_loadu_ps(s + k1), _mm256_loadu_ps(s + k1 + m), cs, sn, k1, m, vsc);
  return k1;
}
#endif

/* Even N, row k0 of the packed spectrum: z[k] = a y[k] + i b conj(y[-k])
 * with a = (P - Q sin) scale, b = Q cos scale from the symmetrised weight
 * row s (length N, see the top of the file). */
static void combine_row(TsGenerator *g, int k0, const float *s, float scale) {
  int n = g->n, m = g->m, nk0 = k0 ? n - k0 : 0;
  const float *gy = (const float *)(g->y + (size_t)k0 * m), *hy = (const float *)(g->y + (size_t)nk0 * m);
  float *o = (float *)(g->z + (size_t)k0 * m);
  const float *cs = g->cs, *sn = g->sn;
  /* k1 = 0 pairs with column 0; k1 >= 1 with column M - k1, whose floats
   * (re, im) sit at hy[2M + 1 - 2 k1] reversed: (im, re) read backwards. */
  {
    float p = 0.5f * (s[0] + s[m]), q = 0.5f * (s[0] - s[m]);
    float a = p * scale, b = q * scale; /* sin 0 = 0, cos 0 = 1 */
    o[0] = a * gy[0] + b * hy[1];
    o[1] = a * gy[1] + b * hy[0];
  }
  int k1 = 1;
#ifdef TS_GEN_AVX2
  if (g->avx2) k1 = combine_avx2(gy, hy, o, s, cs, sn, m, scale);
#endif
#ifdef __SSE2__
  /* four k1 at a time: a, b as four lanes, then duplicated over (re, im) */
  const __m128 half = _mm_set1_ps(0.5f), vsc = _mm_set1_ps(scale);
  for (; k1 + 4 <= m; k1 += 4) {
    __m128 s1 = _mm_loadu_ps(s + k1), s2 = _mm_loadu_ps(s + k1 + m);
    __m128 p = _mm_mul_ps(half, _mm_add_ps(s1, s2)), q = _mm_mul_ps(half, _mm_sub_ps(s1, s2));
    __m128 a = _mm_mul_ps(_mm_sub_ps(p, _mm_mul_ps(q, _mm_loadu_ps(sn + k1))), vsc);
    __m128 b = _mm_mul_ps(_mm_mul_ps(q, _mm_loadu_ps(cs + k1)), vsc);
    for (int h = 0; h < 2; h++) {
      int kk = k1 + 2 * h;
      __m128 ad = h ? _mm_unpackhi_ps(a, a) : _mm_unpacklo_ps(a, a);
      __m128 bd = h ? _mm_unpackhi_ps(b, b) : _mm_unpacklo_ps(b, b);
      __m128 gv = _mm_loadu_ps(gy + 2 * kk);
      __m128 hv = _mm_loadu_ps(hy + 2 * m - 2 - 2 * kk); /* columns M-kk-1, M-kk */
      hv = _mm_shuffle_ps(hv, hv, _MM_SHUFFLE(0, 1, 2, 3));
      _mm_storeu_ps(o + 2 * kk, _mm_add_ps(_mm_mul_ps(ad, gv), _mm_mul_ps(bd, hv)));
    }
  }
#endif
  for (; k1 < m; k1++) {
    float p = 0.5f * (s[k1] + s[k1 + m]), q = 0.5f * (s[k1] - s[k1 + m]);
    float a = (p - q * sn[k1]) * scale, b = q * cs[k1] * scale;
    o[2 * k1] = a * gy[2 * k1] + b * hy[2 * m + 1 - 2 * k1];
    o[2 * k1 + 1] = a * gy[2 * k1 + 1] + b * hy[2 * m - 2 * k1];
  }
}

/* Odd N: the half spectrum row k0 times the symmetrised weight row s. */
static void multiply_row(TsGenerator *g, int k0, const float *s, float scale) {
  float *o = (float *)(g->y + (size_t)k0 * g->nh);
  for (int c = 0; c < g->nh; c++) {
    float w = s[c] * scale;
    o[2 * c] *= w;
    o[2 * c + 1] *= w;
  }
}

/* The field of the noise already in g->x, into out (an fftwf_malloc'd N x N
 * array, so the inverse transform can write there directly). Returns the
 * scale the field must be multiplied by to be the recipe's (the weight was
 * divided by its largest value), in double: may be 0 or inf at absurd
 * parameters, which the caller treats as a failed draw. */
static double field(TsGenerator *g, double alpha, double beta, float *out) {
  int n = g->n;
  /* kaji: W = (X^2 + Y^2)^-beta = exp(-beta L); radial: |k|^-beta = exp(-beta L / 2) */
  double k = g->p.spectrum == TS_SPECTRUM_KAJI ? -beta : -0.5 * beta;
  if (g->p.spectrum == TS_SPECTRUM_KAJI) make_logs(g, alpha, k > 0 ? 2 : 1);
  fftwf_execute(g->fwd);
  /* W / max W = exp(k (L - Lref)), Lref where k L is largest */
  double shift = k > 0 ? k * g->lmax : k * g->lmin;
  const float *table = k > 0 ? g->dhi : g->dlo;
  float kf = (float)k;
  float scale = g->even ? (float)(1.0 / ((double)n * g->m)) : (float)(1.0 / ((double)n * n));
  float *s = g->srow;
#ifdef TS_GEN_AVX2
  if (g->wtab) {
    weight_table_avx2(table, n, kf, g->wtab);
    if (g->p.spectrum == TS_SPECTRUM_RADIAL) g->wtab[0] = 0; /* as weight_row */
  }
#endif
  /* Rows k0 and -k0 together: both weight rows give Ws on both rows. */
  for (int k0 = 0; k0 <= n / 2; k0++) {
    int nk0 = k0 ? n - k0 : 0;
    const float *wa = g->wa, *wb = g->wb;
    if (g->wtab) {
      wa = g->wtab + (size_t)k0 * n;
      wb = g->wtab + (size_t)nk0 * n;
    } else {
      weight_row(g, table, k0, kf, g->wa);
      if (nk0 != k0) weight_row(g, table, nk0, kf, g->wb);
      else wb = wa;
    }
    for (int pass = 0; pass < (nk0 != k0 ? 2 : 1); pass++) {
      const float *u = pass ? wb : wa, *v = pass ? wa : wb;
#ifdef TS_GEN_AVX2
      if (g->wtab && g->even) {
        int row = pass ? nk0 : k0, nrow = row ? n - row : 0;
        combine_uv((const float *)(g->y + (size_t)row * g->m), (const float *)(g->y + (size_t)nrow * g->m),
                   (float *)(g->z + (size_t)row * g->m), u, v, k0 == 0 && pass == 0, g->cs, g->sn, g->m, scale);
        continue;
      }
#endif
      /* Ws[row][j] = (W[row][j] + W[-row][-j]) / 2 */
      s[0] = 0.5f * (u[0] + v[0]);
      for (int j = 1; j < n; j++) s[j] = 0.5f * (u[j] + v[n - j]);
      /* DC only adds a constant, to which min-max, Otsu and the range test
       * are blind, and in float32 it would swamp the picture's variation
       * (at beta 16 that is 4e-7 of it): leave it out. */
      if (k0 == 0 && pass == 0) s[0] = 0;
      if (g->even) combine_row(g, pass ? nk0 : k0, s, scale);
      else multiply_row(g, pass ? nk0 : k0, s, scale);
    }
  }
  if (g->even) fftwf_execute_dft(g->inv, g->z, (fftwf_complex *)out);
  else fftwf_execute_dft_c2r(g->inv, g->y, out);
  return exp(shift);
}

TsStatus ts_generator_field(TsGenerator *g, double alpha, double beta, const double *noise, double *out) {
  size_t nn = (size_t)g->n * g->n;
  double sum = 0;
  for (size_t i = 0; i < nn; i++) g->x[i] = (float)noise[i], sum += noise[i];
  double sc = field(g, alpha, beta, g->chan[0]);
  /* the constant field() leaves out: mean(noise) W(0) */
  double dc = g->p.spectrum == TS_SPECTRUM_KAJI ? sum / (double)nn * pow(2.0, -beta) : 0;
  for (size_t i = 0; i < nn; i++) out[i] = g->chan[0][i] * sc + dc;
  return TS_OK;
}

static double uniform_in(TsRng *rng, double lo, double hi) { return lo + (hi - lo) * ts_rng_uniform(rng); }

/* The noise: 16 interleaved xoshiro128** generators (v[16 q + j] from
 * generator j), seeded from the image's stream, 24-bit floats in [0, 1).
 * Sixteen independent lanes make the loop vectorise (xoshiro256**'s 64-bit
 * multiply does not, with SSE2); the numbers are a pure function of the
 * image's stream, whatever the thread count or instruction set. */
/* xoshiro128** in 16 interleaved lanes: blocks x 16 numbers into v, as
 * 24-bit floats in [0, 1). */
static void lanes_run(uint32_t s[4][16], float *v, size_t blocks) {
  for (size_t q = 0; q < blocks; q++, v += 16) {
    for (int j = 0; j < 16; j++) {
      uint32_t s0 = s[0][j], s1 = s[1][j], s2 = s[2][j], s3 = s[3][j];
      uint32_t x = s1 * 5;
      uint32_t r = ((x << 7) | (x >> 25)) * 9;
      uint32_t t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >> 21);
      s[0][j] = s0, s[1][j] = s1, s[2][j] = s2, s[3][j] = s3;
      v[j] = (float)(int32_t)(r >> 8) * 0x1.0p-24f;
    }
  }
}

#ifdef TS_GEN_AVX2
/* lanes_run with the sixteen states in eight registers (GCC's vectorised
 * lanes_run reloads them from memory every block): the same integers. */
__attribute__((target("avx2"))) static inline void lanes8(__m256i *s0, __m256i *s1, __m256i *s2, __m256i *s3,
                                                          float *v) {
  __m256i x = _mm256_add_epi32(_mm256_slli_epi32(*s1, 2), *s1); /* s1 * 5 */
  x = _mm256_or_si256(_mm256_slli_epi32(x, 7), _mm256_srli_epi32(x, 25));
  __m256i r = _mm256_add_epi32(_mm256_slli_epi32(x, 3), x); /* * 9 */
  __m256i t = _mm256_slli_epi32(*s1, 9);
  *s2 = _mm256_xor_si256(*s2, *s0);
  *s3 = _mm256_xor_si256(*s3, *s1);
  *s1 = _mm256_xor_si256(*s1, *s2);
  *s0 = _mm256_xor_si256(*s0, *s3);
  *s2 = _mm256_xor_si256(*s2, t);
  *s3 = _mm256_or_si256(_mm256_slli_epi32(*s3, 11), _mm256_srli_epi32(*s3, 21));
  _mm256_storeu_ps(v, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(r, 8)), _mm256_set1_ps(0x1.0p-24f)));
}

__attribute__((target("avx2"))) static void lanes_run_avx2(uint32_t s[4][16], float *v, size_t blocks) {
  __m256i a0 = _mm256_loadu_si256((const __m256i *)s[0]), a1 = _mm256_loadu_si256((const __m256i *)s[1]),
          a2 = _mm256_loadu_si256((const __m256i *)s[2]), a3 = _mm256_loadu_si256((const __m256i *)s[3]);
  __m256i b0 = _mm256_loadu_si256((const __m256i *)(s[0] + 8)), b1 = _mm256_loadu_si256((const __m256i *)(s[1] + 8)),
          b2 = _mm256_loadu_si256((const __m256i *)(s[2] + 8)), b3 = _mm256_loadu_si256((const __m256i *)(s[3] + 8));
  for (size_t q = 0; q < blocks; q++, v += 16) {
    lanes8(&a0, &a1, &a2, &a3, v);
    lanes8(&b0, &b1, &b2, &b3, v + 8);
  }
  _mm256_storeu_si256((__m256i *)s[0], a0), _mm256_storeu_si256((__m256i *)s[1], a1);
  _mm256_storeu_si256((__m256i *)s[2], a2), _mm256_storeu_si256((__m256i *)s[3], a3);
  _mm256_storeu_si256((__m256i *)(s[0] + 8), b0), _mm256_storeu_si256((__m256i *)(s[1] + 8), b1);
  _mm256_storeu_si256((__m256i *)(s[2] + 8), b2), _mm256_storeu_si256((__m256i *)(s[3] + 8), b3);
}
#endif

#ifdef TS_GEN_AVX2
/* ts_minmax_f32 (same promise: min and max are exact, a NaN is skipped as
 * `x < m ? x : m` skips it) 32 floats at a time in four independent pairs
 * of accumulators: the SSE2 one waits on its two per side. */
__attribute__((target("avx2"))) static void minmax_avx2(const float *v, size_t n, float *lo, float *hi) {
  size_t i = 1;
  float l = v[0], h = v[0];
  if (n >= 33) {
    __m256 l0 = _mm256_set1_ps(l), l1 = l0, l2 = l0, l3 = l0, h0 = l0, h1 = l0, h2 = l0, h3 = l0;
    for (; i + 32 <= n; i += 32) {
      __m256 a = _mm256_loadu_ps(v + i), b = _mm256_loadu_ps(v + i + 8), c = _mm256_loadu_ps(v + i + 16),
             d = _mm256_loadu_ps(v + i + 24);
      l0 = _mm256_min_ps(a, l0), l1 = _mm256_min_ps(b, l1), l2 = _mm256_min_ps(c, l2), l3 = _mm256_min_ps(d, l3);
      h0 = _mm256_max_ps(a, h0), h1 = _mm256_max_ps(b, h1), h2 = _mm256_max_ps(c, h2), h3 = _mm256_max_ps(d, h3);
    }
    float t[8];
    _mm256_storeu_ps(t, _mm256_min_ps(_mm256_min_ps(l0, l1), _mm256_min_ps(l2, l3)));
    for (int k = 0; k < 8; k++) l = t[k] < l ? t[k] : l;
    _mm256_storeu_ps(t, _mm256_max_ps(_mm256_max_ps(h0, h1), _mm256_max_ps(h2, h3)));
    for (int k = 0; k < 8; k++) h = t[k] > h ? t[k] : h;
  }
  for (; i < n; i++) {
    l = v[i] < l ? v[i] : l;
    h = v[i] > h ? v[i] : h;
  }
  *lo = l;
  *hi = h;
}
#endif

static void fill_uniform(TsRng *rng, float *v, size_t n, int avx2) {
  uint32_t s[4][16];
  for (int j = 0; j < 16; j++) {
    uint64_t a = ts_rng_u64(rng), b = ts_rng_u64(rng);
    s[0][j] = (uint32_t)a, s[1][j] = (uint32_t)(a >> 32), s[2][j] = (uint32_t)b, s[3][j] = (uint32_t)(b >> 32);
    if (!(s[0][j] | s[1][j] | s[2][j] | s[3][j])) s[0][j] = 1; /* xoshiro's one bad state */
  }
  void (*run)(uint32_t[4][16], float *, size_t) = lanes_run;
#ifdef TS_GEN_AVX2
  if (avx2) run = lanes_run_avx2;
#else
  (void)avx2;
#endif
  size_t q = n / 16 * 16;
  run(s, v, n / 16);
  if (q < n) {
    float t[16];
    run(s, t, 1);
    memcpy(v + q, t, sizeof(float) * (n - q));
  }
}

void ts_generate_fill_uniform(TsRng *rng, float *v, size_t n) { fill_uniform(rng, v, n, use_avx2()); }

/* Both entry points: grey NULL, every picture into img with three
 * channels; else grey pictures into grey with one. */
static TsStatus make(TsGenerator *g, uint64_t stream, uint64_t index, TsImage *img, TsImage *grey, TsImage **made,
                     TsGenerateInfo *info, TsError *err) {
  int n = g->n;
  size_t nn = (size_t)n * n;
  TsRng rng;
  ts_rng_init(&rng, g->p.seed, (stream << 40) + index);
  TsGenerateInfo inf;
  memset(&inf, 0, sizeof inf);
  float clo[3], chi[3]; /* per-channel range, reused for the normalisation */
  for (int attempt = 0;; attempt++) {
    double lo = INFINITY, hi = -INFINITY;
    for (int ch = 0; ch < 3; ch++) {
      inf.alpha[ch] = uniform_in(&rng, g->p.alpha_min, g->p.alpha_max);
      inf.beta[ch] = uniform_in(&rng, g->p.beta_min, g->p.beta_max);
      fill_uniform(&rng, g->x, nn, g->avx2); /* straight into the forward input */
      double sc = field(g, inf.alpha[ch], inf.beta[ch], g->chan[ch]);
#ifdef TS_GEN_AVX2
      if (g->avx2) minmax_avx2(g->chan[ch], nn, &clo[ch], &chi[ch]);
      else
#endif
        ts_minmax_f32(g->chan[ch], nn, &clo[ch], &chi[ch]);
      /* the recipe's range in double, over all three channels */
      double l = clo[ch] * sc, h = chi[ch] * sc;
      lo = l < lo ? l : lo;
      hi = h > hi ? h : hi;
      if (!(sc > 0) || !isfinite(clo[ch]) || !isfinite(chi[ch])) hi = NAN;
    }
    if (hi - lo >= 1e-10 && isfinite(hi - lo)) break;
    if (attempt >= 100)
      return ts_error_set(err, TS_ERR_INVALID,
                          "image %llu: 100 draws in a row gave a constant picture (check alpha and beta)",
                          (unsigned long long)index);
  }
  /* Each channel to bytes in g->x (free now), planes of N^2, then interleaved. */
  uint8_t *planes = (uint8_t *)g->x;
  for (int ch = 0; ch < 3; ch++) {
    const float *v = g->chan[ch];
    double p = ts_rng_uniform(&rng);
    uint8_t *px = planes + (size_t)ch * nn;
    if (p < g->p.prob_binary) {
      int above = p < g->p.prob_binary / 2;
      double t = v[0]; /* constant: skimage returns the value */
      if (clo[ch] < chi[ch]) ts_otsu_threshold_f32(v, nn, clo[ch], chi[ch], &t);
      inf.binarised[ch] = above ? 1 : 2;
      /* v >= t (double) is v >= the least float not below t */
      float tf = (float)t;
      if ((double)tf < t) tf = nextafterf(tf, INFINITY);
#ifdef TS_GEN_AVX2
      if (g->avx2) binarise_avx2(v, nn, tf, above ? 255 : 0, px);
      else
#endif
        binarise(v, nn, tf, above ? 255 : 0, px);
    } else {
      /* numpy: uint8(255 * ((v - min) / ptp)), truncating; a constant
       * channel (0/0 in numpy) becomes 0 rather than undefined behaviour */
      float ptp = chi[ch] - clo[ch];
      if (!(ptp > 0)) memset(px, 0, nn);
#ifdef TS_GEN_AVX2
      else if (g->avx2) to_bytes_avx2(v, nn, clo[ch], 255.0f / ptp, px);
#endif
      else to_bytes(v, nn, clo[ch], 255.0f / ptp, px);
    }
  }
  double pc = ts_rng_uniform(&rng);
  inf.colour = !(pc > g->p.prob_colour);
  TsStatus s = ts_image_alloc(inf.colour || !grey ? img : grey, n, n, inf.colour || !grey ? 3 : 1, err);
  if (s) return s;
  if (made) *made = inf.colour || !grey ? img : grey;
  if (info) *info = inf;
  if (!inf.colour && grey) {
#ifdef TS_GEN_AVX2
    if (g->avx2) luma_avx2(planes, planes + nn, planes + 2 * nn, nn, grey->pixels);
    else
#endif
      luma(planes, planes + nn, planes + 2 * nn, nn, grey->pixels);
    return TS_OK;
  }
#ifdef TS_GEN_AVX2
  if (g->avx2) interleave_avx2(planes, planes + nn, planes + 2 * nn, nn, inf.colour, img->pixels);
  else
#endif
    interleave(planes, planes + nn, planes + 2 * nn, nn, inf.colour, img->pixels);
  return TS_OK;
}

TsStatus ts_generator_make(TsGenerator *g, uint64_t stream, uint64_t index, TsImage *img, TsGenerateInfo *info,
                           TsError *err) {
  return make(g, stream, index, img, NULL, NULL, info, err);
}

TsStatus ts_generator_make_stored(TsGenerator *g, uint64_t stream, uint64_t index, TsImage *rgb, TsImage *grey,
                                  TsImage **made, TsGenerateInfo *info, TsError *err) {
  return make(g, stream, index, rgb, grey, made, info, err);
}
