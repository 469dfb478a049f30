/* codec.h — the image decoders and encoders, from and to memory.
 *
 * image.c dispatches files to these; the fuzz targets (tests/image/fuzz-*.c)
 * and the tests call them directly. Every decoder takes the whole file in
 * memory plus a name used only in messages, checks every size it reads
 * before allocating (magic, truncation, overflow, absurd dimensions,
 * decompression bombs) and fails with "cannot read 'NAME': problem".
 * On failure the output is left empty (nothing to free). Encoders return a
 * malloc'd buffer that the caller frees. */
#ifndef TS_IMAGE_CODEC_H
#define TS_IMAGE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "base/array.h"
#include "base/error.h"
#include "image/image.h"

/* Largest decoded picture or array we accept, in bytes (1 GiB). Fuzz builds
 * lower it (-DTS_DECODE_MAX_BYTES=...) so libFuzzer's memory limit holds. */
#ifndef TS_DECODE_MAX_BYTES
#define TS_DECODE_MAX_BYTES ((size_t)1 << 30)
#endif
/* Largest width or height of a picture. */
#define TS_IMAGE_MAX_DIM 65535

/* JPEG (TurboJPEG): grey JPEGs decode to 1 channel, the rest to RGB. */
TsStatus ts_jpeg_decode(const uint8_t *data, size_t n, const char *name, TsImage *img, TsError *err);
/* 1 (grey) or 3 (RGB) channels; 4 drops alpha. quality 1..100; colour
 * uses 4:2:0 chroma subsampling, as PIL does by default. */
TsStatus ts_jpeg_encode(const TsImage *img, int quality, uint8_t **out, size_t *n, TsError *err);

/* PNG (libpng): 1/2/4/8/16-bit grey, grey+alpha, RGB, RGBA, palette.
 * Gives H x W (grey) or H x W x C (C = 2, 3, 4), uint8 or uint16 (16-bit
 * files). Palette and low-bit files expand to uint8. */
TsStatus ts_png_decode(const uint8_t *data, size_t n, const char *name, TsArray *arr, TsError *err);
/* uint8 or uint16 arrays of shape H x W or H x W x C (C 1..4). */
TsStatus ts_png_encode(const TsArray *arr, uint8_t **out, size_t *n, TsError *err);

/* PGM/PPM: P2, P3 (ASCII), P5, P6 (binary), maxval up to 65535 (uint16
 * above 255; values above maxval are rejected). Comments are allowed. */
TsStatus ts_pnm_decode(const uint8_t *data, size_t n, const char *name, TsArray *arr, TsError *err);
/* uint8/uint16 H x W (P5) or H x W x 3 (P6). */
TsStatus ts_pnm_encode(const TsArray *arr, uint8_t **out, size_t *n, TsError *err);

/* NumPy .npy, format versions 1.0, 2.0, 3.0: dtypes |u1 (and |b1), <u2
 * >u2 <f4 >f4 <f8 >f8, C or Fortran order (converted to C order), 0 to 4
 * axes. Big-endian data is swapped to native order. */
TsStatus ts_npy_decode(const uint8_t *data, size_t n, const char *name, TsArray *arr, TsError *err);
/* Writes a version 1.0 little-endian C-order file. */
TsStatus ts_npy_encode(const TsArray *arr, uint8_t **out, size_t *n, TsError *err);

/* IDX (MNIST, FashionMNIST), raw or gzip-compressed: unsigned byte data
 * gives uint8; signed byte, short, int give float64 (exact); float and
 * double give float32/float64. 1 to 4 axes. */
TsStatus ts_idx_decode(const uint8_t *data, size_t n, const char *name, TsArray *arr, TsError *err);
/* Writes an unsigned byte IDX file (uint8 arrays only). */
TsStatus ts_idx_encode(const TsArray *arr, uint8_t **out, size_t *n, TsError *err);

/* Converts a decoded array to a picture: uint8 H x W or H x W x {1,2,3,4}
 * (2 = grey+alpha drops alpha), uint16 scaled to 8 bits with rounding.
 * Takes over or frees arr's data. */
TsStatus ts_image_from_array(TsArray *arr, const char *name, TsImage *img, TsError *err);

/* Whole-file helpers. ts_file_read fails on files above max bytes. */
TsStatus ts_file_read(const char *path, size_t max, uint8_t **data, size_t *n, TsError *err);
/* Writes to "PATH.tmp-PID" then renames, so readers (and a Ctrl-C) only
 * ever see whole files. */
TsStatus ts_file_write_atomic(const char *path, const void *data, size_t n, TsError *err);
/* Writes name in the folder open as dirfd, in place (created or
 * truncated; removed again if writing fails): no temporary name and no
 * rename, for callers that make many files and know by other means which
 * are whole (`generate`: its manifest). path is only for messages. */
TsStatus ts_file_write_at(int dirfd, const char *name, const char *path, const void *data, size_t n, TsError *err);

/* Decodes a file held in memory, by its magic (IDX/CIFAR have none: by
 * name, ".idx*"/"-ubyte" and ".bin"). */
TsStatus ts_array_decode(const uint8_t *data, size_t n, const char *name, TsArray *arr, TsError *err);

#endif
