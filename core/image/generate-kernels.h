/* generate-kernels.h — generate.c's per-pixel loops, written plainly so
 * that GCC vectorises them. Private to generate.c, which includes this file
 * twice: once as is (SSE2 on x86-64) and once with KERNEL_ATTR set to
 * target("avx2") and KERNEL(name) to name_avx2, chosen at run time. The
 * loops use no floating-point reduction or contraction, so both copies give
 * the same bits. */

/* px[i] = uint8(255 * ((v[i] - lo) / ptp)) in float, as multiplication by
 * k = 255 / ptp (v >= lo, so the product is in [0, 255 (1 + 2^-22)]; the
 * clamp makes 255 the most, truncation the rest). */
KERNEL_ATTR static void KERNEL(to_bytes)(const float *restrict v, size_t nn, float lo, float k, uint8_t *restrict px) {
  for (size_t i = 0; i < nn; i++) {
    float x = (v[i] - lo) * k;
    x = x < 255.0f ? x : 255.0f;
    px[i] = (uint8_t)(int32_t)x;
  }
}

KERNEL_ATTR static void KERNEL(binarise)(const float *restrict v, size_t nn, float t, uint8_t on,
                                         uint8_t *restrict px) {
  uint8_t off = (uint8_t)(255 - on);
  for (size_t i = 0; i < nn; i++) px[i] = v[i] >= t ? on : off;
}

/* Three planes into RGB pixels, or PIL's convert('L') of them (ITU-R 601
 * luma in 16-bit fixed point, rounded) into R = G = B. */
KERNEL_ATTR static void KERNEL(interleave)(const uint8_t *restrict pr, const uint8_t *restrict pg,
                                           const uint8_t *restrict pb, size_t nn, int colour,
                                           uint8_t *restrict px) {
  if (colour) {
    for (size_t i = 0; i < nn; i++) {
      px[3 * i] = pr[i];
      px[3 * i + 1] = pg[i];
      px[3 * i + 2] = pb[i];
    }
  } else {
    for (size_t i = 0; i < nn; i++) {
      uint32_t l = ((uint32_t)pr[i] * 19595u + (uint32_t)pg[i] * 38470u + (uint32_t)pb[i] * 7471u + 0x8000u) >> 16;
      px[3 * i] = (uint8_t)l;
      px[3 * i + 1] = (uint8_t)l;
      px[3 * i + 2] = (uint8_t)l;
    }
  }
}

/* interleave's grey case into a one-channel picture. */
KERNEL_ATTR static void KERNEL(luma)(const uint8_t *restrict pr, const uint8_t *restrict pg,
                                     const uint8_t *restrict pb, size_t nn, uint8_t *restrict px) {
  for (size_t i = 0; i < nn; i++)
    px[i] = (uint8_t)(((uint32_t)pr[i] * 19595u + (uint32_t)pg[i] * 38470u + (uint32_t)pb[i] * 7471u + 0x8000u) >> 16);
}

/* d[c] = log(x[c]^2 + xr2) in float for c < n (Cephes' logf on the float
 * of the double sum: ~1e-6 absolute for the values here), less lref,
 * clamped to the sign the table promises (sign +1: >= 0, -1: <= 0).
 * Branch-free so that it vectorises; the same bits in both copies. */
KERNEL_ATTR static void KERNEL(log_row)(const double *restrict x, int n, double xr2, double lref, int sign,
                                        float *restrict d) {
  for (int c = 0; c < n; c++) {
    float u = (float)(x[c] * x[c] + xr2);
    int32_t b;
    memcpy(&b, &u, 4);
    int32_t e = ((b >> 23) & 0xff) - 126; /* u = m 2^e, m in [0.5, 1) */
    int32_t mb = (b & 0x007fffff) | 0x3f000000;
    float m;
    memcpy(&m, &mb, 4);
    /* m < sqrt(1/2) as an integer comparison (a float one is a branch
     * to GCC, which keeps it from vectorising); then f = 2m - 1 or m - 1 */
    int32_t small = mb < 0x3f3504f3;
    e -= small;
    float f = m * (1.0f + (float)small) - 1.0f;
    float z = f * f;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    float ef = (float)e;
    float y = f * z * p;
    y = y + ef * -2.12194440e-4f;
    y = y - 0.5f * z;
    float l = f + y;
    l = l + ef * 0.693359375f;
    float v = (float)((double)l - lref);
    int32_t vb;
    memcpy(&vb, &v, 4);
    vb = sign > 0 ? vb & ~(vb >> 31) : vb & (vb >> 31); /* the wrong sign (rounding) becomes 0 */
    memcpy(&d[c], &vb, 4);
  }
}
