/* dataset.h — labelled image datasets for supervised training, in memory.
 *
 * Every source (IDX files, CIFAR binary batches, a folder of class folders,
 * generated images with PH labels) is read once into one TsDataset: `count`
 * samples of channels x height x width bytes (CHW, the layout the network
 * takes) and one class index each. Keeping bytes, not floats, keeps
 * FashionMNIST at 47 MB and CIFAR at 150 MB; the loader (loader.h) turns
 * them into normalised, augmented float batches.
 *
 * Specs, as `toposcope train --data` takes them:
 *   fashion-mnist            Debian's /usr/share/datasets/fashion-mnist
 *   fashion-mnist:DIR        the four *-idx?-ubyte[.gz] files in DIR
 *   idx:IMAGES,LABELS        any IDX image file (N x H x W) and label file (N)
 *   cifar:DIR                CIFAR-10 (data_batch_*.bin, test_batch.bin) or
 *                            CIFAR-100 (train.bin, test.bin; fine labels)
 *   folder:DIR               one subfolder per class (sorted names = classes);
 *                            if DIR has train/ and val/ (or test/) subfolders,
 *                            those are the two splits
 *   labels:DIR,CACHE         the pictures of a label cache (ph/label-cache.h,
 *                            written by `toposcope label DIR`) with their PH
 *                            labels as regression targets (no test split);
 *                            classes: the first folder of each picture's
 *                            path when all have one and there are two or
 *                            more (a labelled folder of class folders),
 *                            else one class
 *   generate:SIZE[,KEY=V...] synthetic FFT images and their PH labels made
 *                            on the fly (generate-stream.c; no files); the
 *                            test split is the generator's val stream
 * IDX and CIFAR files are read by core/image (image/idx.h, image/cifar.h);
 * this module only lays their pictures out CHW and names the classes.
 * Ownership: a TsDataset owns its arrays; ts_dataset_clear frees them. */
#ifndef TS_DATA_DATASET_H
#define TS_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "image/image.h"

/* A streamed dataset's pictures (and, when it has no targets array, its
 * labels), made on demand by the loader threads: decoded from files or
 * generated. fetch writes sample `index` of epoch `epoch` as channels x
 * height x width bytes (CHW) and, when the dataset has target_dims > 0 but
 * no targets array, its target_dims label values. It is called from
 * several threads at once, each with its own worker state (worker_new;
 * NULL when the source needs none). A source whose samples do not depend
 * on the epoch ignores it. */
typedef struct TsSampleStream {
  void *user;
  void *(*worker_new)(void *user, TsError *err);
  void (*worker_free)(void *user, void *worker);
  TsStatus (*fetch)(void *user, void *worker, int64_t epoch, int64_t index, uint8_t *pixels, float *target,
                    TsError *err);
  void (*free)(void *user);
} TsSampleStream;

typedef struct TsDataset {
  int64_t count;
  int channels, height, width;
  int num_classes;
  uint8_t *pixels;    /* count x channels x height x width, owned */
  int32_t *labels;    /* count, each in [0, num_classes), owned */
  char **class_names; /* num_classes names, or NULL */
  /* Regression targets (PH labels): count x target_dims floats, owned, or
   * NULL for a classification set. A set with targets has one class (every
   * label 0) unless its source names classes (labels: of class folders). */
  float *targets;
  int target_dims;
  /* Streamed sets: pixels is NULL and stream (owned) makes the pictures;
   * labels stay in memory, targets too when known up front (a label cache),
   * else target_dims > 0 and the stream computes them (generate:). */
  TsSampleStream *stream;
  /* Streamed sets cut to a subset (--per-class): sample i is the stream's
   * sample stream_index[i] (owned); NULL: sample i is the stream's i. */
  int64_t *stream_index;
  /* How the targets were computed (a label cache's parameters JSON, the
   * generate: recipe's label keys), owned, or NULL: sets compared by
   * training must agree. */
  char *label_params;
  char source[512];   /* where it came from, for messages and run parameters */
} TsDataset;

typedef enum TsSplit { TS_SPLIT_TRAIN = 0, TS_SPLIT_TEST = 1 } TsSplit;

/* Options for sources whose images vary in size (folders): every image is
 * resized (bilinear) to height x width; 0 means the first image's size. */
typedef struct TsDatasetOptions {
  int height, width;
  int channels; /* 1 or 3; 0 means the first image's (RGBA becomes RGB) */
  /* Folders and label caches whose pictures would take more than this many
   * bytes are streamed (TsSampleStream: decoded per batch by the loader
   * threads; labels and file names stay in memory). 0: always in memory. */
  int64_t max_bytes;
} TsDatasetOptions;

#define TS_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

/* Opens a dataset from a spec (above). opts may be NULL. A spec with no such
 * split (a folder without train/ and val/, asked for TEST) fails with
 * TS_ERR_INVALID. */
TsStatus ts_dataset_open(const char *spec, TsSplit split, const TsDatasetOptions *opts, TsDataset *ds,
                         TsError *err);
/* Whether the spec names a test split (so --val can default to it). */
int ts_dataset_has_split(const char *spec, TsSplit split);

/* Allocates arrays for count samples of c x h x w (zeroed). */
TsStatus ts_dataset_alloc(TsDataset *ds, int64_t count, int channels, int height, int width, int num_classes,
                          TsError *err);
void ts_dataset_clear(TsDataset *ds);
/* Keeps the first n samples (n >= count: no change). */
void ts_dataset_truncate(TsDataset *ds, int64_t n);
/* Keeps n samples of every class (in memory or streamed), drawn reproducibly from seed (each class's
 * indices shuffled by its own stream (seed, class), the first n kept), in
 * their original order. A class with fewer than n samples (but some) is
 * an error naming it and its count. */
TsStatus ts_dataset_per_class(TsDataset *ds, int64_t n, uint64_t seed, TsError *err);
/* Checks labels lie in [0, num_classes); names the first bad sample. */
TsStatus ts_dataset_validate(const TsDataset *ds, TsError *err);
/* Sample i of epoch `epoch` into pixels (CHW bytes) and target (target_dims
 * floats, may be NULL), from memory or from the stream with the caller's
 * worker state (see TsSampleStream; NULL for in-memory sets). */
TsStatus ts_dataset_fetch(const TsDataset *ds, void *worker, int64_t epoch, int64_t i, uint8_t *pixels, float *target,
                          TsError *err);
/* Whether the set carries PH labels (in memory or computed by its stream). */
static inline int ts_dataset_has_targets(const TsDataset *ds) { return ds->target_dims > 0; }
/* A picture (HWC, 1 to 4 channels) as channels (1 or 3) x h x w bytes: grey
 * from colour by 0.299 R + 0.587 G + 0.114 B rounded, colour from grey by
 * repetition. */
void ts_dataset_image_to_chw(const TsImage *img, int channels, uint8_t *dst);
/* In-memory sets only (pixels != NULL). */
static inline const uint8_t *ts_dataset_sample(const TsDataset *ds, int64_t i) {
  return ds->pixels + (size_t)i * (size_t)ds->channels * (size_t)ds->height * (size_t)ds->width;
}

/* Per-source readers (used by ts_dataset_open, public for tests and tools). */
/* generate:SPEC without the "generate:" (the keys in generate-stream.c). */
TsStatus ts_dataset_open_generate(const char *spec, TsSplit split, TsDataset *ds, TsError *err);
TsStatus ts_dataset_load_idx(const char *images_path, const char *labels_path, TsDataset *ds, TsError *err);
/* CIFAR-10 or CIFAR-100 (fine labels) from a folder, as ts_cifar_read_dir. */
TsStatus ts_dataset_load_cifar(const char *dir, TsSplit split, TsDataset *ds, TsError *err);
TsStatus ts_dataset_load_folder(const char *dir, const TsDatasetOptions *opts, TsDataset *ds, TsError *err);
/* The pictures named by a complete label cache, read from dir, with the
 * cache's rows as targets. A row that names no readable picture (a diagram
 * file, a missing image) is an error naming it. */
TsStatus ts_dataset_load_label_cache(const char *dir, const char *cache_path, const TsDatasetOptions *opts,
                                     TsDataset *ds, TsError *err);

#endif
