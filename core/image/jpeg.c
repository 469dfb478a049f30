/* jpeg.c — JPEG through libjpeg-turbo's TurboJPEG API (see codec.h).
 * Warnings (a truncated scan, junk after the image) stop decoding and are
 * errors: a half-grey picture would silently poison a dataset. */
#include <pthread.h>
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

/* One compressor and output buffer per thread, kept between pictures:
 * `generate` encodes thousands of small pictures, and a fresh handle plus a
 * buffer above malloc's mmap threshold (a fresh mapping and its page faults)
 * cost about as much as encoding a 128^2 one. Freed when the thread ends. */
typedef struct {
  tjhandle tj;
  unsigned char *buf;
  unsigned long cap;
} JpegCache;

static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_ok;

static void cache_free(void *p) {
  JpegCache *c = p;
  if (!c) return;
  if (c->tj) tjDestroy(c->tj);
  tjFree(c->buf);
  free(c);
}

static void cache_init(void) { cache_ok = pthread_key_create(&cache_key, cache_free) == 0; }

static JpegCache *jpeg_cache(void) {
  pthread_once(&cache_once, cache_init);
  if (!cache_ok) return NULL;
  JpegCache *c = pthread_getspecific(cache_key);
  if (c) return c;
  c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->tj = tjInitCompress();
  if (!c->tj || pthread_setspecific(cache_key, c) != 0) {
    cache_free(c);
    return NULL;
  }
  return c;
}

TsStatus ts_jpeg_encode(const TsImage *img, int quality, uint8_t **out, size_t *n, TsError *err) {
  *out = NULL;
  *n = 0;
  if (quality < 1 || quality > 100) return ts_error_set(err, TS_ERR_INVALID, "JPEG quality %d is not in 1..100", quality);
  int pf = img->channels == 1 ? TJPF_GRAY : img->channels == 3 ? TJPF_RGB : img->channels == 4 ? TJPF_RGBX : -1;
  if (pf < 0 || !img->pixels) return ts_error_set(err, TS_ERR_INVALID, "JPEG holds grey or RGB pictures");
  JpegCache *c = jpeg_cache();
  if (!c) return ts_error_set(err, TS_ERR_NOMEM, "TurboJPEG failed to start");
  int samp = img->channels == 1 ? TJSAMP_GRAY : TJSAMP_420;
  unsigned long need = tjBufSize(img->width, img->height, samp);
  if (need == (unsigned long)-1) return ts_error_set(err, TS_ERR_INVALID, "picture too large for JPEG");
  if (c->cap < need) {
    tjFree(c->buf);
    c->cap = 0;
    c->buf = tjAlloc((int)need);
    if (!c->buf) return ts_error_set(err, TS_ERR_NOMEM, "out of memory for a JPEG file");
    c->cap = need;
  }
  /* tjBufSize is the worst case, so the buffer never has to grow */
  unsigned long size = c->cap;
  int rc = tjCompress2(c->tj, img->pixels, img->width, 0, img->height, pf, &c->buf, &size, samp, quality,
                       TJFLAG_ACCURATEDCT | TJFLAG_NOREALLOC);
  if (rc != 0) return ts_error_set(err, TS_ERR_INTERNAL, "JPEG encoding failed: %s", tjGetErrorStr2(c->tj));
  /* Hand back a malloc'd copy: callers free() what codecs return. */
  *out = malloc(size ? size : 1);
  if (!*out) return ts_error_set(err, TS_ERR_NOMEM, "out of memory for a JPEG file");
  memcpy(*out, c->buf, size);
  *n = size;
  return TS_OK;
}
