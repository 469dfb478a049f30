/* imageset.h — a labelled set of equally sized pictures, as the classic
 * datasets (MNIST/FashionMNIST IDX files, CIFAR-10/100 batches) store them.
 *
 * pixels holds count pictures one after the other, each height x width x
 * channels bytes, interleaved (HWC) like TsImage; labels holds one class
 * index per picture (or is NULL when the set has none). */
#ifndef TS_IMAGE_IMAGESET_H
#define TS_IMAGE_IMAGESET_H

#include <stddef.h>
#include <stdint.h>

#include "image/image.h"

typedef struct TsImageSet {
  size_t count;
  int width, height, channels;
  uint8_t *pixels;  /* owned; count * height * width * channels bytes */
  int32_t *labels;  /* owned; count entries, or NULL */
  int n_classes;    /* labels lie in [0, n_classes); 0 without labels */
} TsImageSet;

void ts_image_set_clear(TsImageSet *set);
/* Picture i as a borrowed TsImage (do not clear it). */
TsImage ts_image_set_get(const TsImageSet *set, size_t i);

#endif
