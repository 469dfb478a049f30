/* generate.c — Kaji's FFT images (REFERENCE.md §1) with FFTW3 real
 * transforms.
 *
 * Why real transforms are exact here: the published recipe computes
 * Re(ifft2(fft2(noise) * W)) with a real weight W that is not symmetric
 * under k -> -k. For real noise F = fft2(noise) is Hermitian, and
 *   Re(ifft2(G)) = ifft2((G(k) + conj(G(-k))) / 2) = ifft2(F(k) * Ws(k)),
 *   Ws(k) = (W(k) + W(-k)) / 2,
 * which is Hermitian, so an r2c transform, a product with Ws on the half
 * spectrum and a c2r transform give the same picture for a third of the
 * work (test-generate checks this against plain complex FFTs).
 *
 * Plans: FFTW's planner is not thread-safe, so every plan is made under one
 * mutex; fftw_execute on a generator's own buffers is. Plans are measured
 * (FFTW_MEASURE) once per size; the wisdom is kept in
 * $XDG_CACHE_HOME/toposcope/fftw-wisdom so later runs reuse the same plans
 * (and so produce the same bits) without measuring again. */
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

#include "base/rng.h"
#include "image/codec.h"
#include "image/filtration.h"
#include "image/minmax.h"

struct TsGenerator {
  TsGenerateParams p;
  int n, nh;           /* N and N/2 + 1 */
  double *noise;       /* N x N, fftw_malloc'd, r2c input, c2r output */
  fftw_complex *spec;  /* N x (N/2 + 1) */
  fftw_plan fwd, inv;
  double *chan[3];     /* N x N each (fftw_malloc'd: c2r writes into them), the three fields */
  double *weight;      /* N x (N/2 + 1): the symmetrised weight of one channel */
  double *logs;        /* kaji: N x N, log(x_c^2 + x_r^2) for cached_alpha; radial: N x (N/2+1) log|k|^2 */
  double *full;        /* kaji: N x N, exp(-beta * logs) */
  double cached_alpha;
  int have_logs;
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
  return snprintf(buf, n, "%s/fftw-wisdom", dir) < (int)n ? 0 : -1;
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
  fftw_import_wisdom_from_string(s);
  free(s);
}

static void save_wisdom(void) {
  char path[4200];
  if (wisdom_path(path, sizeof path, 1) != 0) return;
  char *s = fftw_export_wisdom_to_string();
  if (!s) return;
  ts_file_write_atomic(path, s, strlen(s), NULL);
  free(s);
}

/* Measuring a plan costs seconds to minutes above ~1024^2, which a run of a
 * few huge pictures would never win back: estimate those. */
static unsigned planner_flags(int n) {
  const char *e = getenv("TOPOSCOPE_FFTW_PLANNER");
  if ((e && !strcmp(e, "estimate")) || n > 1024) return FFTW_ESTIMATE;
  return FFTW_MEASURE;
}

/* ---- generator ------------------------------------------------------- */

void ts_generator_free(TsGenerator *g) {
  if (!g) return;
  pthread_mutex_lock(&plan_lock);
  if (g->fwd) fftw_destroy_plan(g->fwd);
  if (g->inv) fftw_destroy_plan(g->inv);
  pthread_mutex_unlock(&plan_lock);
  fftw_free(g->noise);
  fftw_free(g->spec);
  for (int c = 0; c < 3; c++) fftw_free(g->chan[c]);
  free(g->weight);
  free(g->logs);
  free(g->full);
  free(g);
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
  g->nh = n / 2 + 1;
  size_t nn = (size_t)n * (size_t)n, nhalf = (size_t)n * (size_t)g->nh;
  g->noise = fftw_malloc(sizeof(double) * nn);
  g->spec = fftw_malloc(sizeof(fftw_complex) * nhalf);
  for (int c = 0; c < 3; c++) g->chan[c] = fftw_malloc(sizeof(double) * nn);
  g->weight = ts_alloc_array(nhalf, sizeof(double), "generator weight", err);
  g->logs = ts_alloc_array(p->spectrum == TS_SPECTRUM_KAJI ? nn : nhalf, sizeof(double), "generator table", err);
  g->full = p->spectrum == TS_SPECTRUM_KAJI ? ts_alloc_array(nn, sizeof(double), "generator table", err) : NULL;
  if (!g->noise || !g->spec || !g->chan[0] || !g->chan[1] || !g->chan[2] || !g->weight || !g->logs ||
      (p->spectrum == TS_SPECTRUM_KAJI && !g->full)) {
    ts_generator_free(g);
    return ts_error_set(err, TS_ERR_NOMEM, "out of memory for a %d x %d generator", n, n);
  }
  pthread_mutex_lock(&plan_lock);
  load_wisdom();
  unsigned flags = planner_flags(n);
  int had = 0;
  /* Probe whether the wisdom already knows this size: FFTW_WISDOM_ONLY gives
   * NULL if not, so we know whether to save the wisdom afterwards. */
  fftw_plan probe = fftw_plan_dft_r2c_2d(n, n, g->noise, g->spec, flags | FFTW_WISDOM_ONLY);
  if (probe) {
    had = 1;
    fftw_destroy_plan(probe);
  }
  g->fwd = fftw_plan_dft_r2c_2d(n, n, g->noise, g->spec, flags);
  g->inv = fftw_plan_dft_c2r_2d(n, n, g->spec, g->noise, flags);
  if (!had && flags != FFTW_ESTIMATE && g->fwd && g->inv) save_wisdom();
  pthread_mutex_unlock(&plan_lock);
  if (!g->fwd || !g->inv) {
    ts_generator_free(g);
    return ts_error_set(err, TS_ERR_INTERNAL, "FFTW could not plan a %d x %d transform", n, n);
  }
  if (p->spectrum == TS_SPECTRUM_RADIAL) {
    /* log |k|^2 with signed integer frequencies; DC gets weight 0 below. */
    for (int r = 0; r < n; r++) {
      double fy = r <= n / 2 ? r : r - n;
      for (int c = 0; c < g->nh; c++) {
        double k2 = fy * fy + (double)c * c;
        g->logs[(size_t)r * g->nh + c] = k2 > 0 ? log(k2) : 0;
      }
    }
    g->have_logs = 1;
  }
  *out = g;
  return TS_OK;
}

/* Kaji's weight W[r][c] = (x_c^2 + x_r^2)^-beta, x = linspace(1, 1 + alpha N, N),
 * symmetrised on the half spectrum: Ws = (W[r][c] + W[-r][-c]) / 2. */
static void kaji_weight(TsGenerator *g, double alpha, double beta) {
  int n = g->n;
  if (!g->have_logs || g->cached_alpha != alpha) {
    double *x = g->weight; /* borrow as scratch: n <= n * nh */
    double stop = 1 + alpha * n;
    double step = n > 1 ? (stop - 1) / (n - 1) : 0;
    for (int i = 0; i < n; i++) x[i] = 1 + i * step; /* numpy's linspace */
    x[n - 1] = stop;
    for (int r = 0; r < n; r++)
      for (int c = r; c < n; c++) {
        double v = log(x[c] * x[c] + x[r] * x[r]);
        g->logs[(size_t)r * n + c] = v;
        g->logs[(size_t)c * n + r] = v;
      }
    g->cached_alpha = alpha;
    g->have_logs = 1;
  }
  /* W is symmetric in (r, c): half the exponentials. */
  for (int r = 0; r < n; r++)
    for (int c = r; c < n; c++) {
      double v = exp(-beta * g->logs[(size_t)r * n + c]);
      g->full[(size_t)r * n + c] = v;
      g->full[(size_t)c * n + r] = v;
    }
  /* Ws = (W[r][c] + W[-r][-c]) / 2 times FFTW's 1/N^2, applied straight to
   * the half spectrum (one pass instead of a table and a second pass; the
   * same operations in the same order as before, so the same bits). */
  double scale = 1.0 / ((double)n * (double)n);
  for (int r = 0; r < n; r++) {
    int nr = r ? n - r : 0;
    const double *row = g->full + (size_t)r * n, *mrow = g->full + (size_t)nr * n;
    fftw_complex *sp = g->spec + (size_t)r * g->nh;
    double w0 = 0.5 * (row[0] + mrow[0]) * scale;
    sp[0][0] *= w0;
    sp[0][1] *= w0;
    int c = 1;
#ifdef __SSE2__
    /* two columns at a time: the same operations in the same order */
    __m128d half = _mm_set1_pd(0.5), vs = _mm_set1_pd(scale);
    for (; c + 2 <= g->nh; c += 2) {
      __m128d m = _mm_loadu_pd(mrow + n - c - 1); /* mrow[n-c-1], mrow[n-c] */
      m = _mm_shuffle_pd(m, m, 1);                /* mrow[n-c], mrow[n-c-1] */
      __m128d w = _mm_mul_pd(_mm_mul_pd(half, _mm_add_pd(_mm_loadu_pd(row + c), m)), vs);
      double *z = &sp[c][0];
      _mm_storeu_pd(z, _mm_mul_pd(_mm_loadu_pd(z), _mm_unpacklo_pd(w, w)));
      _mm_storeu_pd(z + 2, _mm_mul_pd(_mm_loadu_pd(z + 2), _mm_unpackhi_pd(w, w)));
    }
#endif
    for (; c < g->nh; c++) {
      double w = 0.5 * (row[c] + mrow[n - c]) * scale;
      sp[c][0] *= w;
      sp[c][1] *= w;
    }
  }
}

static void radial_weight(TsGenerator *g, double beta) {
  size_t m = (size_t)g->n * g->nh;
  for (size_t i = 0; i < m; i++) g->weight[i] = exp(-0.5 * beta * g->logs[i]);
  g->weight[0] = 0; /* no DC: a pure power law has none, and min-max removes it anyway */
  double scale = 1.0 / ((double)g->n * (double)g->n); /* FFTW's inverse is unnormalised */
  for (size_t i = 0; i < m; i++) {
    double w = g->weight[i] * scale;
    g->spec[i][0] *= w;
    g->spec[i][1] *= w;
  }
}

/* The field of the noise already in g->noise, into out (an fftw_malloc'd
 * array, so the inverse transform can write there directly: same alignment
 * as the planned arrays, which new-array execution requires). */
static void field(TsGenerator *g, double alpha, double beta, double *out) {
  fftw_execute(g->fwd);
  if (g->p.spectrum == TS_SPECTRUM_KAJI) kaji_weight(g, alpha, beta);
  else radial_weight(g, beta);
  fftw_execute_dft_c2r(g->inv, g->spec, out);
}

TsStatus ts_generator_field(TsGenerator *g, double alpha, double beta, const double *noise, double *out) {
  size_t bytes = (size_t)g->n * g->n * sizeof(double);
  memcpy(g->noise, noise, bytes);
  field(g, alpha, beta, g->chan[0]);
  memcpy(out, g->chan[0], bytes);
  return TS_OK;
}

/* px[3 i] = uint8(255 * ((v[i] - lo) / ptp)) for v in [lo, lo + ptp]:
 * two lanes at a time where SSE2 is there (the same IEEE operations, and
 * truncation to int32 equals the C conversion for 0..255, so the same
 * bytes as the scalar loop, which handles the rest). */
static void to_bytes(const double *v, size_t nn, double lo, double ptp, uint8_t *px) {
  size_t i = 0;
#ifdef __SSE2__
  __m128d vlo = _mm_set1_pd(lo), vptp = _mm_set1_pd(ptp), k255 = _mm_set1_pd(255.0);
  for (; i + 2 <= nn; i += 2) {
    __m128d x = _mm_mul_pd(k255, _mm_div_pd(_mm_sub_pd(_mm_loadu_pd(v + i), vlo), vptp));
    __m128i q = _mm_cvttpd_epi32(x);
    px[3 * i] = (uint8_t)_mm_cvtsi128_si32(q);
    px[3 * i + 3] = (uint8_t)_mm_cvtsi128_si32(_mm_srli_si128(q, 4));
  }
#endif
  for (; i < nn; i++) px[3 * i] = (uint8_t)(255.0 * ((v[i] - lo) / ptp));
}

static double uniform_in(TsRng *rng, double lo, double hi) { return lo + (hi - lo) * ts_rng_uniform(rng); }

/* ts_rng_uniform, inlined for the N^2 noise draws per channel (a fifth of
 * the run time through a call). Same xoshiro256** step and the same 53-bit
 * conversion as base/rng.c: test-generate checks the two agree. */
static void fill_uniform(TsRng *rng, double *v, size_t n) {
  uint64_t s0 = rng->s[0], s1 = rng->s[1], s2 = rng->s[2], s3 = rng->s[3];
  for (size_t i = 0; i < n; i++) {
    uint64_t x = s1 * 5;
    uint64_t r = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s1 << 17;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = (s3 << 45) | (s3 >> 19);
    /* r >> 11 < 2^53 fits a signed integer, whose conversion is one
     * instruction (the unsigned one is a branchy sequence); same value */
    v[i] = (double)(int64_t)(r >> 11) * 0x1.0p-53;
  }
  rng->s[0] = s0, rng->s[1] = s1, rng->s[2] = s2, rng->s[3] = s3;
}

void ts_generate_fill_uniform(TsRng *rng, double *v, size_t n) { fill_uniform(rng, v, n); }

TsStatus ts_generator_make(TsGenerator *g, uint64_t stream, uint64_t index, TsImage *img, TsGenerateInfo *info,
                           TsError *err) {
  int n = g->n;
  size_t nn = (size_t)n * n;
  TsStatus s = ts_image_alloc(img, n, n, 3, err);
  if (s) return s;
  TsRng rng;
  ts_rng_init(&rng, g->p.seed, (stream << 40) + index);
  TsGenerateInfo inf;
  memset(&inf, 0, sizeof inf);
  double clo[3], chi[3]; /* per-channel range, reused for the normalisation */
  for (int attempt = 0;; attempt++) {
    double lo = INFINITY, hi = -INFINITY;
    for (int ch = 0; ch < 3; ch++) {
      inf.alpha[ch] = uniform_in(&rng, g->p.alpha_min, g->p.alpha_max);
      inf.beta[ch] = uniform_in(&rng, g->p.beta_min, g->p.beta_max);
      double *noise = g->chan[ch];
      fill_uniform(&rng, g->noise, nn); /* straight into the r2c input */
      field(g, inf.alpha[ch], inf.beta[ch], noise);
      double l, h;
      ts_minmax(noise, nn, &l, &h);
      clo[ch] = l, chi[ch] = h;
      lo = l < lo ? l : lo;
      hi = h > hi ? h : hi;
    }
    if (hi - lo >= 1e-10 && isfinite(hi - lo)) break;
    if (attempt >= 100)
      return ts_error_set(err, TS_ERR_INVALID,
                          "image %llu: 100 draws in a row gave a constant picture (check alpha and beta)",
                          (unsigned long long)index);
  }
  for (int ch = 0; ch < 3; ch++) {
    double *v = g->chan[ch];
    double p = ts_rng_uniform(&rng);
    uint8_t *px = img->pixels + ch;
    if (p < g->p.prob_binary) {
      int above = p < g->p.prob_binary / 2;
      double t;
      if (ts_otsu_threshold(v, nn, &t, NULL) != TS_OK) t = v[0]; /* constant: skimage returns the value */
      inf.binarised[ch] = above ? 1 : 2;
      uint8_t on = above ? 255 : 0, off = (uint8_t)(255 - on);
      for (size_t i = 0; i < nn; i++) px[3 * i] = v[i] >= t ? on : off;
    } else {
      double lo = clo[ch], ptp = chi[ch] - clo[ch];
      /* numpy: uint8(255 * ((v - min) / ptp)), truncating; a constant
       * channel (0/0 in numpy) becomes 0 rather than undefined behaviour */
      if (ptp > 0) to_bytes(v, nn, lo, ptp, px);
      else for (size_t i = 0; i < nn; i++) px[3 * i] = 0;
    }
  }
  double pc = ts_rng_uniform(&rng);
  inf.colour = !(pc > g->p.prob_colour);
  if (!inf.colour) {
    /* PIL's convert('L'): ITU-R 601 luma in 16-bit fixed point, rounded. */
    uint8_t *px = img->pixels;
    for (size_t i = 0; i < nn; i++, px += 3) {
      uint32_t l = ((uint32_t)px[0] * 19595u + (uint32_t)px[1] * 38470u + (uint32_t)px[2] * 7471u + 0x8000u) >> 16;
      px[0] = px[1] = px[2] = (uint8_t)l;
    }
  }
  if (info) *info = inf;
  return TS_OK;
}
