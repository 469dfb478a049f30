/* idx.h — MNIST and FashionMNIST (IDX files, raw or .gz) as datasets.
 *
 *   TsImageSet train;
 *   ts_idx_read_set("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", 0, &train, &err);
 *
 * gives count x 28 x 28 x 1 pictures and labels 0..9. Any IDX file reads as
 * an array through ts_array_load (image.h). */
#ifndef TS_IMAGE_IDX_H
#define TS_IMAGE_IDX_H

#include <stddef.h>

#include "base/error.h"
#include "image/imageset.h"

/* images: an unsigned-byte IDX file of N x H x W (or N x H x W x C, C 1..4);
 * labels: an unsigned-byte IDX file of N entries, or NULL. max_count > 0
 * keeps only the first max_count pictures. The counts must agree.
 * n_classes is max label + 1 (10 for MNIST). */
TsStatus ts_idx_read_set(const char *images, const char *labels, size_t max_count, TsImageSet *set, TsError *err);

/* The files of a dataset folder laid out as the originals ship them
 * ("train-images-idx3-ubyte[.gz]" + "train-labels-idx1-ubyte[.gz]", or the
 * "t10k-" pair when test is 1), e.g. /usr/share/datasets/fashion-mnist. */
TsStatus ts_idx_read_dir(const char *dir, int test, size_t max_count, TsImageSet *set, TsError *err);

#endif
