/* jpeg.c — JPEG through libjpeg-turbo's TurboJPEG API (see codec.h).
 * Warnings (a truncated scan, junk after the image) stop decoding and are
 * errors: a half-grey picture would silently poison a dataset. */
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "image/codec.h"

TsStatus ts_jpeg_decode(const uint8_t *data, size_t n, const char *name, TsImage *img, TsError *err) {
  memset(img, 0, sizeof *img);
  if (n < 4 || data[0] != 0xFF || data[1] != 0xD8)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': not a JPEG file", name);
  if (n > (size_t)0x7fffffff) return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': JPEG file too large", name);
  tjhandle tj = tjInitDecompress();
  if (!tj) return ts_error_set(err, TS_ERR_NOMEM, "cannot read '%s': TurboJPEG failed to start", name);
  int w, h, subsamp, cs;
  TsStatus st = TS_OK;
  if (tjDecompressHeader3(tj, data, (unsigned long)n, &w, &h, &subsamp, &cs) != 0) {
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': %s", name, tjGetErrorStr2(tj));
    goto done;
  }
  if (w <= 0 || h <= 0 || w > TS_IMAGE_MAX_DIM || h > TS_IMAGE_MAX_DIM) {
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': bad JPEG size %d x %d", name, w, h);
    goto done;
  }
  int channels = cs == TJCS_GRAY ? 1 : 3;
  size_t bytes = (size_t)w * (size_t)h * (size_t)channels;
  /* A JPEG needs at least ~2 bits per 8x8 block: a file that claims more
   * than 4096 output bytes per input byte is lying or a bomb. */
  if (bytes > TS_DECODE_MAX_BYTES || bytes / 4096 > n) {
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': JPEG size %d x %d is absurd for a %zu-byte file", name,
                      w, h, n);
    goto done;
  }
  img->pixels = malloc(bytes);
  if (!img->pixels) {
    st = ts_error_set(err, TS_ERR_NOMEM, "cannot read '%s': out of memory", name);
    goto done;
  }
  if (tjDecompress2(tj, data, (unsigned long)n, img->pixels, w, 0, h, channels == 1 ? TJPF_GRAY : TJPF_RGB,
                    TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS | TJFLAG_ACCURATEDCT) != 0) {
    st = ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': %s", name, tjGetErrorStr2(tj));
    free(img->pixels);
    img->pixels = NULL;
    goto done;
  }
  img->width = w;
  img->height = h;
  img->channels = channels;
done:
  tjDestroy(tj);
  return st;
}

TsStatus ts_jpeg_encode(const TsImage *img, int quality, uint8_t **out, size_t *n, TsError *err) {
  *out = NULL;
  *n = 0;
  if (quality < 1 || quality > 100) return ts_error_set(err, TS_ERR_INVALID, "JPEG quality %d is not in 1..100", quality);
  int pf = img->channels == 1 ? TJPF_GRAY : img->channels == 3 ? TJPF_RGB : img->channels == 4 ? TJPF_RGBX : -1;
  if (pf < 0 || !img->pixels) return ts_error_set(err, TS_ERR_INVALID, "JPEG holds grey or RGB pictures");
  tjhandle tj = tjInitCompress();
  if (!tj) return ts_error_set(err, TS_ERR_NOMEM, "TurboJPEG failed to start");
  unsigned char *buf = NULL;
  unsigned long size = 0;
  int rc = tjCompress2(tj, img->pixels, img->width, 0, img->height, pf, &buf, &size,
                       img->channels == 1 ? TJSAMP_GRAY : TJSAMP_420, quality, TJFLAG_ACCURATEDCT);
  TsStatus st = TS_OK;
  if (rc != 0) {
    st = ts_error_set(err, TS_ERR_INTERNAL, "JPEG encoding failed: %s", tjGetErrorStr2(tj));
  } else {
    /* Hand back a malloc'd copy: callers free() what codecs return. */
    *out = malloc(size ? size : 1);
    if (!*out) st = ts_error_set(err, TS_ERR_NOMEM, "out of memory for a JPEG file");
    else {
      memcpy(*out, buf, size);
      *n = size;
    }
  }
  tjFree(buf);
  tjDestroy(tj);
  return st;
}
