#include "data/augment.h"

#include <math.h>
#include <string.h>

void ts_augment_out_size(const TsAugment *a, int h, int w, int *oh, int *ow) {
  *oh = a->resize_h > 0 ? a->resize_h : h;
  *ow = a->resize_w > 0 ? a->resize_w : w;
}

size_t ts_augment_scratch(const TsAugment *a, int c, int h, int w) {
  int oh, ow;
  ts_augment_out_size(a, h, w, &oh, &ow);
  return (oh != h || ow != w) ? (size_t)c * (size_t)oh * (size_t)ow : 0;
}

/* Bilinear, half-pixel centres, edge clamped (torch align_corners=False). */
static void resize_plane(const uint8_t *src, int h, int w, float *dst, int oh, int ow) {
  float sy = (float)h / (float)oh, sx = (float)w / (float)ow;
  for (int y = 0; y < oh; y++) {
    float fy = ((float)y + 0.5f) * sy - 0.5f;
    if (fy < 0) fy = 0;
    int y0 = (int)fy, y1 = y0 + 1 < h ? y0 + 1 : h - 1;
    float wy = fy - (float)y0;
    for (int x = 0; x < ow; x++) {
      float fx = ((float)x + 0.5f) * sx - 0.5f;
      if (fx < 0) fx = 0;
      int x0 = (int)fx, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
      float wx = fx - (float)x0;
      float top = (float)src[y0 * w + x0] * (1 - wx) + (float)src[y0 * w + x1] * wx;
      float bot = (float)src[y1 * w + x0] * (1 - wx) + (float)src[y1 * w + x1] * wx;
      dst[y * ow + x] = top * (1 - wy) + bot * wy;
    }
  }
}

void ts_augment_apply(const TsAugment *a, const uint8_t *src, int c, int h, int w, TsRng *rng, float *dst,
                      float *scratch) {
  int oh, ow;
  ts_augment_out_size(a, h, w, &oh, &ow);
  int resized = oh != h || ow != w;
  if (resized)
    for (int k = 0; k < c; k++)
      resize_plane(src + (size_t)k * h * w, h, w, scratch + (size_t)k * oh * ow, oh, ow);
  /* Crop offset in padded coordinates: output (y, x) reads input (y + dy, x + dx). */
  int dy = 0, dx = 0, flip = 0;
  if (rng && a->crop_pad > 0) {
    dy = (int)ts_rng_below(rng, (uint64_t)(2 * a->crop_pad + 1)) - a->crop_pad;
    dx = (int)ts_rng_below(rng, (uint64_t)(2 * a->crop_pad + 1)) - a->crop_pad;
  }
  if (rng && a->hflip) flip = (ts_rng_u64(rng) >> 63) != 0;
  for (int k = 0; k < c; k++) {
    float m = a->mean[k < 4 ? k : 3], s = a->std[k < 4 ? k : 3];
    float scale = 1.0f / (255.0f * (s > 0 ? s : 1.0f)), shift = m / (s > 0 ? s : 1.0f);
    float zero = -shift; /* a padded pixel is 0 before normalisation */
    const uint8_t *sb = src + (size_t)k * h * w;
    const float *sf = resized ? scratch + (size_t)k * oh * ow : NULL;
    float *d = dst + (size_t)k * oh * ow;
    for (int y = 0; y < oh; y++) {
      int yy = y + dy;
      for (int x = 0; x < ow; x++) {
        int xx = (flip ? ow - 1 - x : x) + dx;
        float v;
        if (yy < 0 || yy >= oh || xx < 0 || xx >= ow) v = zero;
        else v = (sf ? sf[yy * ow + xx] : (float)sb[yy * w + xx]) * scale - shift;
        d[y * ow + x] = v;
      }
    }
  }
}
