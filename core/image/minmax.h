/* minmax.h — smallest and largest of a double array, two lanes at a time.
 *
 * Private to core/image. Promises the same answer as the plain loop
 * `l = v[i] < l ? v[i] : l` from l = v[0] (min and max are exact, so lane
 * order cannot change the result; a NaN element is skipped, as that loop
 * skips it unless it comes first). GCC does not vectorise that reduction
 * without -ffast-math, and it is a tenth of `generate`'s run time. */
#ifndef TS_IMAGE_MINMAX_H
#define TS_IMAGE_MINMAX_H

#include <stddef.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static inline void ts_minmax(const double *v, size_t n, double *lo, double *hi) {
  double l = v[0], h = v[0];
  size_t i = 1;
#ifdef __SSE2__
  if (n >= 9) {
    /* _mm_min_pd(x, m) is `x < m ? x : m`: a NaN in x leaves m */
    __m128d l0 = _mm_set1_pd(l), l1 = l0, h0 = l0, h1 = l0;
    for (; i + 4 <= n; i += 4) {
      __m128d a = _mm_loadu_pd(v + i), b = _mm_loadu_pd(v + i + 2);
      l0 = _mm_min_pd(a, l0);
      l1 = _mm_min_pd(b, l1);
      h0 = _mm_max_pd(a, h0);
      h1 = _mm_max_pd(b, h1);
    }
    double t[2];
    l0 = _mm_min_pd(l0, l1);
    h0 = _mm_max_pd(h0, h1);
    _mm_storeu_pd(t, l0);
    l = t[0] < t[1] ? t[0] : t[1];
    _mm_storeu_pd(t, h0);
    h = t[0] > t[1] ? t[0] : t[1];
  }
#endif
  for (; i < n; i++) {
    l = v[i] < l ? v[i] : l;
    h = v[i] > h ? v[i] : h;
  }
  *lo = l;
  *hi = h;
}

/* The same promise for float arrays, four lanes at a time. */
static inline void ts_minmax_f32(const float *v, size_t n, float *lo, float *hi) {
  float l = v[0], h = v[0];
  size_t i = 1;
#ifdef __SSE2__
  if (n >= 17) {
    __m128 l0 = _mm_set1_ps(l), l1 = l0, h0 = l0, h1 = l0;
    for (; i + 8 <= n; i += 8) {
      __m128 a = _mm_loadu_ps(v + i), b = _mm_loadu_ps(v + i + 4);
      l0 = _mm_min_ps(a, l0);
      l1 = _mm_min_ps(b, l1);
      h0 = _mm_max_ps(a, h0);
      h1 = _mm_max_ps(b, h1);
    }
    float t[4];
    _mm_storeu_ps(t, _mm_min_ps(l0, l1));
    for (int k = 0; k < 4; k++) l = t[k] < l ? t[k] : l;
    _mm_storeu_ps(t, _mm_max_ps(h0, h1));
    for (int k = 0; k < 4; k++) h = t[k] > h ? t[k] : h;
  }
#endif
  for (; i < n; i++) {
    l = v[i] < l ? v[i] : l;
    h = v[i] > h ? v[i] : h;
  }
  *lo = l;
  *hi = h;
}

#endif
