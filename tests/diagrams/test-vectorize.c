/* test-vectorize.c — vectorisations on small cases computed by hand, and
 * Kaji's persistence-image grid sizes. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "ph/vectorize.h"
#include "ts-test.h"

static void test_kaji_grid(void) {
  int p, q;
  double s;
  /* [80, 60], signed distance, nd 200: 15 x 7 for both dimensions */
  TS_CHECK(ts_kaji_pi_grid(160, 80, 100, &p, &q, &s, NULL) == TS_OK);
  TS_CHECK(p == 15 && q == 7);
  TS_CHECK_CLOSE(s, 160.0 / 15, 1e-12);
  TS_CHECK(ts_kaji_pi_grid(120, 60, 100, &p, &q, &s, NULL) == TS_OK);
  TS_CHECK(p == 15 && q == 7);
  TS_CHECK_CLOSE(s, 8, 1e-12);
  /* [50, 50]: 100 / (100/15) floors to 14 without the tolerance */
  TS_CHECK(ts_kaji_pi_grid(100, 50, 100, &p, &q, &s, NULL) == TS_OK);
  TS_CHECK(p == 15 && q == 7);
  /* distance filtration (births from 0): B = L */
  TS_CHECK(ts_kaji_pi_grid(50, 50, 100, &p, &q, &s, NULL) == TS_OK);
  TS_CHECK(p == 10 && q == 10);
  TS_CHECK(ts_kaji_pi_grid(0, 50, 100, &p, &q, &s, NULL) == TS_ERR_INVALID);
  /* a sweep: always p*q >= nb, and one fewer in either axis is too few */
  for (int nb = 1; nb <= 300; nb += 7)
    for (double B = 10; B <= 200; B += 37)
      for (double L = 5; L <= 100; L += 19) {
        TS_CHECK(ts_kaji_pi_grid(B, L, nb, &p, &q, &s, NULL) == TS_OK);
        TS_CHECKF((long)p * q >= nb && p >= 1 && q >= 1, "B %g L %g nb %d -> %d x %d", B, L, nb, p, q);
      }
}

static void test_kaji_persistence_image(void) {
  TsKajiParams kp;
  ts_kaji_params_default(&kp, 1);
  TS_CHECK(kp.dims == 200 && kp.min_birth[0] == -50 && kp.max_birth[1] == 50 && kp.sigma == 1);
  TsDiagram d;
  ts_diagram_init(&d);
  ts_diagram_add(&d, 0, 0, 10, NULL);
  double out[200];
  TS_CHECK(ts_vec_kaji_persistence_image(&d, &kp, out, NULL) == TS_OK);
  /* squares add up to weight x Gaussian mass inside the grid (all of it) */
  double s0 = 0, s1 = 0;
  for (int i = 0; i < 100; i++) s0 += out[i] * out[i], s1 += out[100 + i] * out[100 + i];
  TS_CHECK_CLOSE(s0, 10, 1e-6);
  TS_CHECK(s1 == 0);
  /* the brightest pixel holds the point: birth 0 in column 7 ([-3.33, 3.33)), life 10 in row 1 */
  int arg = 0;
  for (int i = 1; i < 100; i++)
    if (out[i] > out[arg]) arg = i;
  TS_CHECK(arg == 7 * 7 + 1);
  /* an essential class weighs max_life, at persistence max_life */
  ts_diagram_add(&d, 1, -20, INFINITY, NULL);
  TS_CHECK(ts_vec_kaji_persistence_image(&d, &kp, out, NULL) == TS_OK);
  s1 = 0;
  for (int i = 0; i < 100; i++) s1 += out[100 + i] * out[100 + i];
  TS_CHECK(s1 > 0 && s1 < 50 && isfinite(s1));
  ts_diagram_clear(&d);
}

static void test_life_and_betti_curves(void) {
  TsKajiParams kp;
  ts_kaji_params_default(&kp, 1);
  kp.dims = 10;
  ts_kaji_params_set_max_life(&kp, 10, 10, 1);
  TsDiagram d;
  ts_diagram_init(&d);
  ts_diagram_add(&d, 0, -5, -1, NULL);
  ts_diagram_add(&d, 0, -3, INFINITY, NULL);
  ts_diagram_add(&d, 1, 1, 3, NULL);
  double out[10];
  TS_CHECK(ts_vec_kaji_life_curve(&d, &kp, out, NULL) == TS_OK);
  /* thresholds -10, -5, 0, 5, 10 */
  double want[10] = {0, 0, sqrt(10), sqrt(10), sqrt(10), 0, 0, 0, 0, 0};
  for (int i = 0; i < 10; i++) TS_CHECK_CLOSE(out[i], want[i], 1e-12);
  double bc[5];
  TS_CHECK(ts_vec_betti_curve(&d, 0, -5, -1, 5, bc, NULL) == TS_OK); /* t = -5..-1 */
  double wb[5] = {1, 1, 2, 2, 1};
  for (int i = 0; i < 5; i++) TS_CHECK(bc[i] == wb[i]);
  TS_CHECK(ts_vec_betti_curve(&d, -1, 2, 2, 1, bc, NULL) == TS_OK);
  TS_CHECK(bc[0] == 2); /* (1,3) and the essential class */
  ts_diagram_clear(&d);
}

static void test_landscape_silhouette(void) {
  TsDiagram d;
  ts_diagram_init(&d);
  ts_diagram_add(&d, 1, 0, 4, NULL);
  ts_diagram_add(&d, 1, 1, 3, NULL);
  ts_diagram_add(&d, 1, 0, INFINITY, NULL); /* skipped */
  double l[10];
  TS_CHECK(ts_vec_landscape(&d, 1, 2, 0, 4, 5, l, NULL) == TS_OK);
  double w[10] = {0, 1, 2, 1, 0, 0, 0, 1, 0, 0};
  for (int i = 0; i < 10; i++) TS_CHECK_CLOSE(l[i], w[i], 1e-15);
  double s[5];
  TS_CHECK(ts_vec_silhouette(&d, 1, 0, 0, 4, 5, s, NULL) == TS_OK); /* power 0: the mean tent */
  double ws[5] = {0, 0.5, 1.5, 0.5, 0};
  for (int i = 0; i < 5; i++) TS_CHECK_CLOSE(s[i], ws[i], 1e-15);
  TS_CHECK(ts_vec_silhouette(&d, 1, 1, 0, 4, 5, s, NULL) == TS_OK); /* weights 4 and 2 */
  TS_CHECK_CLOSE(s[2], (4 * 2 + 2 * 1) / 6.0, 1e-15);
  ts_diagram_clear(&d);
}

static void test_histograms_and_stats(void) {
  TsKajiParams kp;
  ts_kaji_params_default(&kp, 1);
  kp.dims = 8;
  ts_kaji_params_set_max_life(&kp, 4, 4, 1);
  TsDiagram d;
  ts_diagram_init(&d);
  ts_diagram_add(&d, 0, 0, 2, NULL);
  ts_diagram_add(&d, 0, 0, 4, NULL);
  ts_diagram_add(&d, 0, -1, INFINITY, NULL); /* dropped */
  double h[8];
  TS_CHECK(ts_vec_kaji_histogram(&d, &kp, h, NULL) == TS_OK);
  /* lifetimes 2, 4 over [0,4] in 2 bins -> [0, 2] x (1 + [0, 4]); births 0, 0 over [-4,4] weighted 2 + 4 */
  double w[8] = {0, log(11), 0, 0, 0, log(7), 0, 0};
  for (int i = 0; i < 8; i++) TS_CHECK_CLOSE(h[i], w[i], 1e-12);

  TsDiagram e;
  ts_diagram_init(&e);
  ts_diagram_add(&e, 1, 1, 3, NULL);
  ts_diagram_add(&e, 1, 2, 6, NULL);
  ts_diagram_add(&e, 1, 0, INFINITY, NULL);
  ts_diagram_add(&e, 0, 0, 100, NULL);
  TsDiagramStats s;
  ts_diagram_stats(&e, 1, 2, 2, 0, &s);
  TS_CHECK(s.count == 3 && s.essential == 1);
  TS_CHECK_CLOSE(s.total_persistence, 4 + 16, 1e-15);
  TS_CHECK_CLOSE(s.lifespan_sum, 0.5 * (4 + 16), 1e-15);
  TS_CHECK_CLOSE(s.average_life, 3, 1e-15);
  TS_CHECK_CLOSE(s.midlife, (2 + 4) / 2.0, 1e-15); /* mean of (b + d) / 2, not mean(b + d / 2) */
  TS_CHECK_CLOSE(s.max_life, 4, 1e-15);
  TS_CHECK_CLOSE(s.entropy, -(1 / 3.0 * log(1 / 3.0) + 2 / 3.0 * log(2 / 3.0)), 1e-12);
  TS_CHECK_CLOSE(ts_vec_entropy(&e, 1, 2.5), 0, 1e-15); /* only the lifetime 4 is kept */
  ts_diagram_clear(&d);
  ts_diagram_clear(&e);
}

static void test_general_image(void) {
  TsDiagram d;
  ts_diagram_init(&d);
  ts_diagram_add(&d, 0, 5, 8, NULL);
  TsPiParams p;
  ts_pi_params_default(&p);
  p.birth_min = -5, p.birth_max = 15, p.pers_min = -5, p.pers_max = 15;
  p.nbirth = 40, p.npers = 30;
  p.sigma = 0.5;
  p.weight_power = 2;
  double img[1200];
  TS_CHECK(ts_vec_persistence_image(&d, 0, &p, img, NULL) == TS_OK);
  double sum = 0;
  for (int i = 0; i < 1200; i++) sum += img[i];
  TS_CHECK_CLOSE(sum, 9, 1e-9); /* weight 3^2, the whole mass inside */
  p.sample = 1;
  TS_CHECK(ts_vec_persistence_image(&d, 0, &p, img, NULL) == TS_OK);
  /* grid points: birth -5 + 20 i / 39, persistence -5 + 20 j / 29; the density's peak is 9 / (2 pi 0.25) */
  double mx = 0;
  for (int i = 0; i < 1200; i++) mx = fmax(mx, img[i]);
  TS_CHECK(mx <= 9 / (2 * M_PI * 0.25) && mx > 0.5 * 9 / (2 * M_PI * 0.25));
  p.nbirth = 0;
  TsError err;
  TS_CHECK(ts_vec_persistence_image(&d, 0, &p, img, &err) == TS_ERR_INVALID);
  ts_diagram_clear(&d);
}

static void test_label_types(void) {
  TS_CHECK(ts_label_type_parse("persistence-image") == TS_LABEL_PERSISTENCE_IMAGE);
  TS_CHECK(ts_label_type_parse("betticurve") == TS_LABEL_LIFE_CURVE);
  TS_CHECK(ts_label_type_parse("nope") == -1);
  TS_CHECK(strcmp(ts_label_type_name(TS_LABEL_HISTOGRAM), "histogram") == 0);
  TsKajiParams kp;
  ts_kaji_params_default(&kp, 0);
  TS_CHECK(kp.min_birth[0] == 0);
  TsDiagram d;
  ts_diagram_init(&d);
  ts_diagram_add(&d, 0, 1, 9, NULL);
  ts_diagram_add(&d, 1, 3, 5, NULL);
  double out[200];
  for (int t = 0; t <= TS_LABEL_HISTOGRAM; t++) {
    for (int i = 0; i < 200; i++) out[i] = NAN;
    TS_CHECK(ts_kaji_label(&d, (TsLabelType)t, &kp, out, NULL) == TS_OK);
    int finite = 1;
    for (int i = 0; i < 200; i++) finite &= isfinite(out[i]);
    TS_CHECKF(finite, "label %s has non-finite values", ts_label_type_name((TsLabelType)t));
  }
  ts_diagram_clear(&d);
}

int main(void) {
  TS_RUN(test_kaji_grid);
  TS_RUN(test_kaji_persistence_image);
  TS_RUN(test_life_and_betti_curves);
  TS_RUN(test_landscape_silhouette);
  TS_RUN(test_histograms_and_stats);
  TS_RUN(test_general_image);
  TS_RUN(test_label_types);
  return ts_test_finish();
}
