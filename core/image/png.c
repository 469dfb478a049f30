/* png.c — PNG through libpng, with setjmp error handling (see codec.h).
 * libpng reports errors by longjmp: everything that must survive one lives
 * in the Ctx struct (not in locals), so no local needs to be volatile. */
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "image/codec.h"

typedef struct {
  const uint8_t *data;
  size_t n, pos;
  char msg[200];
  uint8_t *pixels;   /* output, freed on failure */
  png_bytep *rows;
  /* writer */
  uint8_t *out;
  size_t out_n, out_cap;
  int out_failed;
} Ctx;

static void on_error(png_structp png, png_const_charp msg) {
  Ctx *c = png_get_error_ptr(png);
  snprintf(c->msg, sizeof c->msg, "%s", msg);
  png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg; /* ancillary-chunk trouble: libpng recovers, so do we */
}

static void read_fn(png_structp png, png_bytep out, png_size_t len) {
  Ctx *c = png_get_io_ptr(png);
  if (len > c->n - c->pos) png_error(png, "truncated file");
  memcpy(out, c->data + c->pos, len);
  c->pos += len;
}

TsStatus ts_png_decode(const uint8_t *data, size_t n, const char *name, TsArray *arr, TsError *err) {
  memset(arr, 0, sizeof *arr);
  if (n < 8 || png_sig_cmp(data, 0, 8) != 0)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': not a PNG file", name);
  Ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.data = data;
  ctx.n = n;
  Ctx *c = &ctx;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, on_error, on_warning);
  if (!png) return ts_error_set(err, TS_ERR_NOMEM, "cannot read '%s': libpng failed to start", name);
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, NULL, NULL);
    return ts_error_set(err, TS_ERR_NOMEM, "cannot read '%s': libpng failed to start", name);
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, NULL);
    free(c->pixels);
    free(c->rows);
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': %s", name, c->msg[0] ? c->msg : "corrupt PNG");
  }
  png_set_user_limits(png, TS_IMAGE_MAX_DIM, TS_IMAGE_MAX_DIM);
  png_set_chunk_malloc_max(png, (png_alloc_size_t)8 << 20);
  png_set_read_fn(png, c, read_fn);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  int depth = png_get_bit_depth(png, info), ct = png_get_color_type(png, info);
  if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
  if (ct == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
  if (depth == 16) {
    const uint16_t one = 1;
    uint8_t lo;
    memcpy(&lo, &one, 1);
    if (lo) png_set_swap(png); /* PNG is big-endian; we want host order */
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int channels = png_get_channels(png, info);
  int out_depth = png_get_bit_depth(png, info);
  size_t rowbytes = png_get_rowbytes(png, info);
  size_t es = out_depth == 16 ? 2 : 1;
  if (channels < 1 || channels > 4 || (out_depth != 8 && out_depth != 16) ||
      rowbytes != (size_t)w * (size_t)channels * es)
    png_error(png, "unsupported pixel layout");
  size_t bytes = rowbytes * h;
  /* deflate cannot compress better than ~1032:1 */
  if (bytes > TS_DECODE_MAX_BYTES || bytes / 2048 > n) png_error(png, "image size is absurd for the file size");
  c->pixels = malloc(bytes ? bytes : 1);
  c->rows = malloc(sizeof *c->rows * (h ? h : 1));
  if (!c->pixels || !c->rows) png_error(png, "out of memory");
  for (png_uint_32 y = 0; y < h; y++) c->rows[y] = c->pixels + (size_t)y * rowbytes;
  png_read_image(png, c->rows);
  png_read_end(png, NULL);
  png_destroy_read_struct(&png, &info, NULL);
  free(c->rows);
  arr->ndim = channels == 1 ? 2 : 3;
  arr->shape[0] = h;
  arr->shape[1] = w;
  arr->shape[2] = (size_t)channels;
  arr->dtype = es == 2 ? TS_U16 : TS_U8;
  arr->data = c->pixels;
  return TS_OK;
}

static void write_fn(png_structp png, png_bytep d, png_size_t len) {
  Ctx *c = png_get_io_ptr(png);
  if (c->out_n + len > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap * 2 : 65536;
    while (cap < c->out_n + len) cap *= 2;
    uint8_t *nb = realloc(c->out, cap);
    if (!nb) png_error(png, "out of memory");
    c->out = nb;
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_n, d, len);
  c->out_n += len;
}

static void flush_fn(png_structp png) { (void)png; }

TsStatus ts_png_encode(const TsArray *arr, uint8_t **out, size_t *n, TsError *err) {
  *out = NULL;
  *n = 0;
  int channels = arr->ndim == 2 ? 1 : arr->ndim == 3 ? (int)arr->shape[2] : 0;
  if (channels < 1 || channels > 4 || (arr->dtype != TS_U8 && arr->dtype != TS_U16))
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "PNG holds uint8 or uint16 H x W or H x W x C (C 1..4) arrays");
  if (arr->shape[0] == 0 || arr->shape[1] == 0 || arr->shape[0] > TS_IMAGE_MAX_DIM ||
      arr->shape[1] > TS_IMAGE_MAX_DIM)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "PNG size %zu x %zu is out of range", arr->shape[1], arr->shape[0]);
  static const int types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
                              PNG_COLOR_TYPE_RGB_ALPHA};
  Ctx ctx;
  memset(&ctx, 0, sizeof ctx);
  Ctx *c = &ctx;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, c, on_error, on_warning);
  if (!png) return ts_error_set(err, TS_ERR_NOMEM, "libpng failed to start");
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, NULL);
    return ts_error_set(err, TS_ERR_NOMEM, "libpng failed to start");
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    free(c->out);
    free(c->rows);
    return ts_error_set(err, TS_ERR_INTERNAL, "PNG encoding failed: %s", c->msg);
  }
  png_uint_32 w = (png_uint_32)arr->shape[1], h = (png_uint_32)arr->shape[0];
  int wide = arr->dtype == TS_U16;
  png_set_write_fn(png, c, write_fn, flush_fn);
  png_set_IHDR(png, info, w, h, wide ? 16 : 8, types[channels], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 6);
  png_write_info(png, info);
  if (wide) {
    const uint16_t one = 1;
    uint8_t lo;
    memcpy(&lo, &one, 1);
    if (lo) png_set_swap(png);
  }
  size_t rowbytes = (size_t)w * (size_t)channels * (wide ? 2 : 1);
  c->rows = malloc(sizeof *c->rows * h);
  if (!c->rows) png_error(png, "out of memory");
  for (png_uint_32 y = 0; y < h; y++) c->rows[y] = (png_bytep)arr->data + (size_t)y * rowbytes;
  png_write_image(png, c->rows);
  png_write_end(png, NULL);
  png_destroy_write_struct(&png, &info);
  free(c->rows);
  *out = c->out;
  *n = c->out_n;
  return TS_OK;
}
