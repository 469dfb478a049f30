/* test-filtration — Otsu (hand values and a plain reference), the exact
 * EDT against brute force on random masks (many sizes, empty and full),
 * gradients, Canny, resizing, and each filtration kind on small pictures
 * whose answer is known by hand. (test-image-ref.py compares with skimage
 * and scipy bit for bit.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../ts-test.h"
#include "base/rng.h"
#include "image/filtration.h"

static void test_otsu_hand(void) {
  double two[6] = {0, 1, 0, 1, 1, 0}, t;
  TS_CHECK(ts_otsu_threshold(two, 6, &t, NULL) == TS_OK);
  TS_CHECK(t == 1.0 / 512); /* first bin's centre: every split is equally good */
  double ramp[256];
  for (int i = 0; i < 256; i++) ramp[255 - i] = i;
  TS_CHECK(ts_otsu_threshold(ramp, 256, &t, NULL) == TS_OK);
  TS_CHECK(t == 127.5 * 255 / 256); /* the middle bin centre */
  TsError e = {0};
  double c[3] = {2, 2, 2};
  TS_CHECK(ts_otsu_threshold(c, 3, &t, &e) == TS_ERR_INVALID && strstr(e.message, "constant"));
  TS_CHECK(ts_otsu_threshold(c, 0, &t, NULL) == TS_ERR_INVALID);
  double nan[2] = {0, NAN};
  TS_CHECK(ts_otsu_threshold(nan, 2, &t, NULL) == TS_ERR_INVALID);
}

/* Textbook Otsu over the same 256 bins, computed directly per split. */
static double otsu_plain(const double *v, size_t n) {
  double lo = v[0], hi = v[0];
  for (size_t i = 0; i < n; i++) lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
  double cnt[256] = {0}, cen[256];
  for (int b = 0; b < 256; b++) cen[b] = lo + (b + 0.5) * (hi - lo) / 256;
  for (size_t i = 0; i < n; i++) {
    int b = (int)((v[i] - lo) / (hi - lo) * 256);
    cnt[b > 255 ? 255 : b]++;
  }
  double best = -1, bt = 0;
  for (int s = 0; s < 255; s++) {
    double w1 = 0, w2 = 0, m1 = 0, m2 = 0;
    for (int b = 0; b <= s; b++) w1 += cnt[b], m1 += cnt[b] * cen[b];
    for (int b = s + 1; b < 256; b++) w2 += cnt[b], m2 += cnt[b] * cen[b];
    double var = w1 * w2 * pow(m1 / w1 - m2 / w2, 2);
    if (var > best * (1 + 1e-12)) best = var, bt = cen[s];
  }
  return bt;
}

static void test_otsu_reference(void) {
  TsRng r;
  ts_rng_init(&r, 11, 0);
  for (int t = 0; t < 50; t++) {
    size_t n = 50 + ts_rng_below(&r, 2000);
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = t % 2 ? ts_rng_normal(&r) + (ts_rng_uniform(&r) < 0.3 ? 6 : 0) : ts_rng_uniform(&r);
    double got, want = otsu_plain(v, n);
    TS_CHECK(ts_otsu_threshold(v, n, &got, NULL) == TS_OK);
    /* bins straddling a tie may differ by one bin width */
    double lo = v[0], hi = v[0];
    for (size_t i = 0; i < n; i++) lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
    TS_CHECKF(fabs(got - want) <= (hi - lo) / 256 * 1.0001, "trial %d: %g vs %g", t, got, want);
    free(v);
  }
}

static void edt_brute(const uint8_t *m, int w, int h, double *out) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      double best = INFINITY;
      for (int yy = 0; yy < h; yy++)
        for (int xx = 0; xx < w; xx++)
          if (!m[yy * w + xx]) best = fmin(best, (double)(x - xx) * (x - xx) + (double)(y - yy) * (y - yy));
      out[y * w + x] = sqrt(best);
    }
}

static void test_edt_brute(void) {
  TsRng r;
  ts_rng_init(&r, 12, 0);
  for (int t = 0; t < 300; t++) {
    int w = 1 + (int)ts_rng_below(&r, 40), h = 1 + (int)ts_rng_below(&r, 40);
    double p = (double[]){0.0, 0.5, 0.9, 0.99, 1.0, 0.2}[t % 6];
    uint8_t *m = malloc((size_t)w * h);
    double *a = malloc(sizeof(double) * w * h), *b = malloc(sizeof(double) * w * h);
    for (int i = 0; i < w * h; i++) m[i] = ts_rng_uniform(&r) < p;
    TS_CHECK(ts_edt(m, w, h, a, NULL) == TS_OK);
    edt_brute(m, w, h, b);
    int bad = 0;
    for (int i = 0; i < w * h; i++) bad += !(a[i] == b[i] || (isinf(a[i]) && isinf(b[i])));
    TS_CHECKF(bad == 0, "%dx%d p=%g: %d pixels differ", w, h, p, bad);
    free(m), free(a), free(b);
  }
  /* empty mask: all zero distances; full mask: all +inf */
  uint8_t z[12] = {0}, o[12];
  memset(o, 1, sizeof o);
  double d[12];
  TS_CHECK(ts_edt(z, 4, 3, d, NULL) == TS_OK && d[0] == 0 && d[11] == 0);
  TS_CHECK(ts_edt(o, 4, 3, d, NULL) == TS_OK && isinf(d[0]) && isinf(d[11]));
  TS_CHECK(ts_edt(o, 0, 3, d, NULL) == TS_ERR_INVALID);
}

static void test_gradient(void) {
  enum { W = 9, H = 7 };
  double v[W * H], g[W * H];
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) v[y * W + x] = 3.0 * x; /* ramp along x, slope 3 */
  ts_gradient_magnitude(v, W, H, TS_GRADIENT_SOBEL, g);
  /* interior: gx = (3(x+1) - 3(x-1)) = 6 after [1,2,1]/4 smoothing; |g| = sqrt(36/2) */
  TS_CHECK_CLOSE(g[3 * W + 4], sqrt(18.0), 1e-12);
  ts_gradient_magnitude(v, W, H, TS_GRADIENT_SCHARR, g);
  TS_CHECK_CLOSE(g[3 * W + 4], sqrt(18.0), 1e-12);
  for (int i = 0; i < W * H; i++) v[i] = 5;
  ts_gradient_magnitude(v, W, H, TS_GRADIENT_SOBEL, g);
  double mx = 0;
  for (int i = 0; i < W * H; i++) mx = fmax(mx, g[i]);
  TS_CHECK(mx == 0);
}

static void test_canny(void) {
  enum { N = 32 };
  double v[N * N];
  uint8_t e[N * N];
  for (int y = 0; y < N; y++)
    for (int x = 0; x < N; x++) v[y * N + x] = (x >= 8 && x < 24 && y >= 8 && y < 24) ? 1.0 : 0.0;
  TS_CHECK(ts_canny(v, N, N, 1.0, 0.1, 0.2, e, NULL) == TS_OK);
  int on = 0, near = 0;
  for (int y = 0; y < N; y++)
    for (int x = 0; x < N; x++)
      if (e[y * N + x]) {
        on++;
        int dx = x < 16 ? abs(x - 8) : abs(x - 23), dy = y < 16 ? abs(y - 8) : abs(y - 23);
        near += (dx <= 1 && y >= 6 && y <= 25) || (dy <= 1 && x >= 6 && x <= 25);
      }
  TS_CHECKF(on >= 40 && near == on, "square edges: %d on, %d near the boundary", on, near);
  for (int i = 0; i < N * N; i++) v[i] = 0.5;
  TS_CHECK(ts_canny(v, N, N, 1.0, 0.1, 0.2, e, NULL) == TS_OK);
  on = 0;
  for (int i = 0; i < N * N; i++) on += e[i];
  TS_CHECK(on == 0);
}

static void test_resize(void) {
  double in[16], out[64], out2[4];
  for (int i = 0; i < 16; i++) in[i] = i;
  ts_resize_area(in, 4, 4, out2, 2, 2);
  TS_CHECK_CLOSE(out2[0], (0 + 1 + 4 + 5) / 4.0, 1e-12);
  TS_CHECK_CLOSE(out2[3], (10 + 11 + 14 + 15) / 4.0, 1e-12);
  ts_resize_bilinear(in, 4, 4, out, 4, 4);
  TS_CHECK(!memcmp(in, out, sizeof in)); /* same size: identity */
  ts_resize_bilinear(in, 4, 4, out, 8, 8);
  /* a linear ramp stays linear inside, with the border clamped */
  TS_CHECK_CLOSE(out[3 * 8 + 3] - out[3 * 8 + 2], 0.5, 1e-12);
  double c[9] = {7, 7, 7, 7, 7, 7, 7, 7, 7}, o[25];
  ts_resize_area(c, 3, 3, o, 5, 5);
  for (int i = 0; i < 25; i++) TS_CHECK_CLOSE(o[i], 7, 1e-12);
  TsImage img = {0}, small = {0};
  TS_CHECK(ts_image_alloc(&img, 6, 4, 3, NULL) == TS_OK);
  memset(img.pixels, 100, 72);
  TS_CHECK(ts_image_resize(&img, 3, 2, 1, &small, NULL) == TS_OK);
  TS_CHECK(small.width == 3 && small.height == 2 && small.pixels[17] == 100);
  ts_image_clear(&img);
  ts_image_clear(&small);
}

/* A 6x4 grey picture: left half dark, right half bright. */
static void two_tone(TsImage *img) {
  ts_image_alloc(img, 6, 4, 1, NULL);
  for (int y = 0; y < 4; y++)
    for (int x = 0; x < 6; x++) img->pixels[y * 6 + x] = x >= 3 ? 200 : 10;
}

static void test_filtrations(void) {
  TsImage img = {0};
  two_tone(&img);
  TsFiltrationOptions o;
  ts_filtration_options_default(&o);
  TS_CHECK(o.kind == TS_FILT_SIGNED_DISTANCE && o.kaji_scale == 1);
  double *f;
  int w, h, constant;
  TS_CHECK(ts_filtration_apply(&img, &o, &f, &w, &h, &constant, NULL) == TS_OK && !constant && w == 6 && h == 4);
  /* foreground (bright, x >= 3) positive: edt(bw) - edt(~bw), x 256/4 = 64 */
  static const double sd[6] = {-3, -2, -1, 1, 2, 3};
  for (int x = 0; x < 6; x++) TS_CHECK_CLOSE(f[2 * 6 + x], sd[x] * 64, 1e-12);
  free(f);
  o.kind = TS_FILT_DISTANCE;
  o.kaji_scale = 0;
  TS_CHECK(ts_filtration_apply(&img, &o, &f, &w, &h, &constant, NULL) == TS_OK);
  static const double d[6] = {3, 2, 1, 0, 0, 0};
  for (int x = 0; x < 6; x++) TS_CHECK_CLOSE(f[x], d[x], 1e-12);
  free(f);
  o.kind = TS_FILT_DOWNWARD;
  TS_CHECK(ts_filtration_apply(&img, &o, &f, &w, &h, &constant, NULL) == TS_OK);
  TS_CHECK(f[1 * 6 + 4] == 1 && f[3 * 6 + 4] == 3 && f[0] == 3); /* background = largest foreground row */
  free(f);
  o.kind = TS_FILT_UPWARD;
  TS_CHECK(ts_filtration_apply(&img, &o, &f, &w, &h, &constant, NULL) == TS_OK);
  TS_CHECK(f[1 * 6 + 4] == -1 && f[3 * 6 + 4] == -3 && f[0] == 0);
  free(f);
  o.kind = TS_FILT_RADIAL;
  TS_CHECK(ts_filtration_apply(&img, &o, &f, &w, &h, &constant, NULL) == TS_OK);
  TS_CHECK_CLOSE(f[1 * 6 + 4], sqrt(17.0), 1e-12);
  TS_CHECK_CLOSE(f[0], sqrt(25.0 + 9.0), 1e-12); /* background: the largest distance */
  free(f);
  o.kind = TS_FILT_RADIAL_INV;
  TS_CHECK(ts_filtration_apply(&img, &o, &f, &w, &h, &constant, NULL) == TS_OK);
  TS_CHECK_CLOSE(f[1 * 6 + 4], -sqrt(17.0), 1e-12);
  TS_CHECK(f[0] == 0);
  free(f);
  o.kind = TS_FILT_GREY;
  o.resize = 12;
  TS_CHECK(ts_filtration_apply(&img, &o, &f, &w, &h, &constant, NULL) == TS_OK && w == 12 && h == 12);
  TS_CHECK(f[0] == 10 && f[11] == 200);
  free(f);
  /* a constant picture: flagged, all zero */
  memset(img.pixels, 9, 24);
  o.kind = TS_FILT_SIGNED_DISTANCE;
  o.resize = 0;
  TS_CHECK(ts_filtration_apply(&img, &o, &f, &w, &h, &constant, NULL) == TS_OK && constant == 1 && f[5] == 0);
  free(f);
  ts_image_clear(&img);
  /* names */
  for (int k = 0; k <= TS_FILT_RADIAL_INV; k++) TS_CHECK(ts_filtration_parse(ts_filtration_name((TsFiltrationKind)k)) == k);
  TS_CHECK(ts_filtration_parse("signed_distance") == TS_FILT_SIGNED_DISTANCE);
  TS_CHECK(ts_filtration_parse("nope") == -1);
  /* RGB grey weights */
  TsImage rgb = {0};
  ts_image_alloc(&rgb, 1, 1, 3, NULL);
  rgb.pixels[0] = 100, rgb.pixels[1] = 50, rgb.pixels[2] = 200;
  double g;
  ts_image_to_grey(&rgb, &g);
  TS_CHECK_CLOSE(g, 0.2989 * 100 + 0.5870 * 50 + 0.1140 * 200, 1e-15);
  ts_image_clear(&rgb);
}

int main(void) {
  TS_RUN(test_otsu_hand);
  TS_RUN(test_otsu_reference);
  TS_RUN(test_edt_brute);
  TS_RUN(test_gradient);
  TS_RUN(test_canny);
  TS_RUN(test_resize);
  TS_RUN(test_filtrations);
  return ts_test_finish();
}
