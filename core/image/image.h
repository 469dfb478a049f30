/* image.h — 8-bit pictures and the file formats they come in.
 *
 * TsImage is what the generator makes, the codecs read and write and the GUI
 * shows: width x height x channels (1 grey, 3 RGB, 4 RGBA) bytes, row-major,
 * interleaved (HWC). Higher bit depths and volumes go through TsArray
 * (base/array.h): ts_array_load reads any supported file as an array.
 *
 * Every decoder checks what it reads (magic, sizes that overflow or are
 * absurd, truncation) and fails with a message that names the file. */
#ifndef TS_IMAGE_IMAGE_H
#define TS_IMAGE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "base/array.h"
#include "base/error.h"

typedef struct TsImage {
  int width, height, channels;
  uint8_t *pixels; /* owned; width*height*channels bytes */
} TsImage;

TsStatus ts_image_alloc(TsImage *img, int width, int height, int channels, TsError *err);
void ts_image_clear(TsImage *img);

typedef enum TsImageFormat {
  TS_FORMAT_UNKNOWN = 0,
  TS_FORMAT_JPEG,
  TS_FORMAT_PNG,
  TS_FORMAT_PNM, /* PGM (P5/P2) and PPM (P6/P3) */
  TS_FORMAT_NPY,
  TS_FORMAT_IDX,
  TS_FORMAT_CIFAR
} TsImageFormat;

/* From a file name's extension ("jpg", "jpeg", "png", "pgm", "ppm", "npy",
 * "idx*"/"*-ubyte[.gz]", CIFAR "bin"). */
TsImageFormat ts_image_format_from_name(const char *path);
/* From the first bytes of a file (magic numbers). */
TsImageFormat ts_image_format_sniff(const uint8_t *head, size_t n);

/* Reads a JPEG/PNG/PNM/.npy picture (2D or HxWx{1,2,3,4}; uint8, or uint16
 * rounded to 8 bits; grey+alpha keeps the grey). img needs no set-up. */
TsStatus ts_image_load(const char *path, TsImage *img, TsError *err);
/* Writes by the extension of path; quality is for JPEG (1..100). The file
 * appears whole or not at all (temporary file, then rename). */
TsStatus ts_image_save(const char *path, const TsImage *img, int quality, TsError *err);

/* Reads any supported file as an array: pictures as HxW (grey) or HxWxC,
 * 16-bit PNG/PGM as uint16, .npy as stored (1–4 axes), IDX (also .gz) as
 * stored, a CIFAR batch (.bin) as N x 32 x 32 x 3 uint8. */
TsStatus ts_array_load(const char *path, TsArray *arr, TsError *err);

/* The same from a file already in memory; name is for messages (and, for
 * IDX/CIFAR, which have no magic number, for the format). */
TsStatus ts_image_decode(const uint8_t *data, size_t n, const char *name, TsImage *img, TsError *err);
/* Encodes to a malloc'd buffer (JPEG, PNG, PNM or NPY). */
TsStatus ts_image_encode(const TsImage *img, TsImageFormat format, int quality, uint8_t **out, size_t *n,
                         TsError *err);
/* Writes an array by the extension of path: .npy (any dtype, 0–4 axes),
 * .png and .pgm/.ppm (uint8/uint16 H x W or H x W x C), .idx (uint8).
 * Files are written atomically (temporary file, then rename). */
TsStatus ts_array_save(const char *path, const TsArray *arr, TsError *err);

#endif
