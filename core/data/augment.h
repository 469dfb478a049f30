/* augment.h — turning a stored sample (CHW bytes) into a network input.
 *
 * The steps, in torchvision's usual order: resize (bilinear, half-pixel
 * centres like torch's interpolate with align_corners=False and no
 * antialiasing), random crop back to the resized size after zero padding
 * (RandomCrop(size, padding=p)), random horizontal flip (p = 1/2), then
 * x/255 and per-channel (x - mean) / std. The random steps draw from the rng
 * given, which the loader seeds per (seed, epoch, sample), so the result
 * does not depend on threads or batch order. rng NULL means evaluation:
 * no crop offset, no flip. */
#ifndef TS_DATA_AUGMENT_H
#define TS_DATA_AUGMENT_H

#include <stdint.h>

#include "base/rng.h"

typedef struct TsAugment {
  int resize_h, resize_w; /* 0: keep the stored size */
  int crop_pad;           /* > 0: pad by this many zero pixels, crop at random */
  int hflip;              /* flip left-right with probability 1/2 */
  float mean[4], std[4];  /* per channel, on the [0, 1] scale; std 0 means 1 */
} TsAugment;

/* Output size for a stored h x w sample. */
void ts_augment_out_size(const TsAugment *a, int h, int w, int *oh, int *ow);
/* Floats needed for `scratch` (0 if none). */
size_t ts_augment_scratch(const TsAugment *a, int c, int h, int w);
/* src: c x h x w bytes; dst: c x oh x ow floats. */
void ts_augment_apply(const TsAugment *a, const uint8_t *src, int c, int h, int w, TsRng *rng, float *dst,
                      float *scratch);

#endif
