/* image.c — TsImage, format detection, and files to and from the codecs. */
#include "image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/cifar.h"
#include "image/codec.h"

TsStatus ts_image_alloc(TsImage *img, int width, int height, int channels, TsError *err) {
  if (width <= 0 || height <= 0 || width > TS_IMAGE_MAX_DIM || height > TS_IMAGE_MAX_DIM ||
      (channels != 1 && channels != 3 && channels != 4))
    return ts_error_set(err, TS_ERR_INVALID, "bad picture shape %d x %d x %d", width, height, channels);
  size_t n = (size_t)width * (size_t)height * (size_t)channels;
  if (img->pixels && img->width == width && img->height == height && img->channels == channels) return TS_OK;
  uint8_t *p = ts_calloc_array(n, 1, "picture", err);
  if (!p) return TS_ERR_NOMEM;
  free(img->pixels);
  img->pixels = p;
  img->width = width;
  img->height = height;
  img->channels = channels;
  return TS_OK;
}

void ts_image_clear(TsImage *img) {
  free(img->pixels);
  memset(img, 0, sizeof *img);
}

static const char *extension(const char *path) {
  const char *slash = strrchr(path, '/');
  const char *dot = strrchr(slash ? slash : path, '.');
  return dot ? dot + 1 : "";
}

TsImageFormat ts_image_format_from_name(const char *path) {
  const char *e = extension(path);
  if (!strcasecmp(e, "gz")) {
    /* "train-images-idx3-ubyte.gz" */
    return strstr(path, "idx") || strstr(path, "ubyte") ? TS_FORMAT_IDX : TS_FORMAT_UNKNOWN;
  }
  if (!strcasecmp(e, "jpg") || !strcasecmp(e, "jpeg")) return TS_FORMAT_JPEG;
  if (!strcasecmp(e, "png")) return TS_FORMAT_PNG;
  if (!strcasecmp(e, "pgm") || !strcasecmp(e, "ppm") || !strcasecmp(e, "pnm")) return TS_FORMAT_PNM;
  if (!strcasecmp(e, "npy")) return TS_FORMAT_NPY;
  if (!strncasecmp(e, "idx", 3) || strstr(path, "-ubyte")) return TS_FORMAT_IDX;
  if (!strcasecmp(e, "bin")) return TS_FORMAT_CIFAR;
  return TS_FORMAT_UNKNOWN;
}

TsImageFormat ts_image_format_sniff(const uint8_t *h, size_t n) {
  if (n >= 3 && h[0] == 0xFF && h[1] == 0xD8 && h[2] == 0xFF) return TS_FORMAT_JPEG;
  if (n >= 8 && !memcmp(h, "\x89PNG\r\n\x1a\n", 8)) return TS_FORMAT_PNG;
  if (n >= 6 && !memcmp(h, "\x93NUMPY", 6)) return TS_FORMAT_NPY;
  if (n >= 2 && h[0] == 'P' && h[1] >= '2' && h[1] <= '6' && h[1] != '4') return TS_FORMAT_PNM;
  /* IDX: two zero bytes, a known type code, 1..4 dims (raw or gzip'd). */
  if (n >= 4 && h[0] == 0 && h[1] == 0 && (h[2] == 0x08 || h[2] == 0x09 || (h[2] >= 0x0B && h[2] <= 0x0E)) &&
      h[3] >= 1 && h[3] <= 4)
    return TS_FORMAT_IDX;
  return TS_FORMAT_UNKNOWN;
}

TsStatus ts_file_read(const char *path, size_t max, uint8_t **data, size_t *n, TsError *err) {
  *data = NULL;
  *n = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return ts_error_errno(err, errno, "cannot open '%s'", path);
  struct stat st;
  if (fstat(fileno(f), &st) != 0) {
    int e = errno;
    fclose(f);
    return ts_error_errno(err, e, "cannot read '%s'", path);
  }
  if (S_ISDIR(st.st_mode)) {
    fclose(f);
    return ts_error_set(err, TS_ERR_IO, "cannot read '%s': it is a folder", path);
  }
  if (st.st_size < 0 || (uint64_t)st.st_size > max) {
    fclose(f);
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': file too large (%lld bytes)", path,
                        (long long)st.st_size);
  }
  size_t size = (size_t)st.st_size;
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf) {
    fclose(f);
    return ts_error_set(err, TS_ERR_NOMEM, "cannot read '%s': out of memory for %zu bytes", path, size);
  }
  size_t got = fread(buf, 1, size, f);
  int bad = ferror(f);
  fclose(f);
  if (bad || got != size) {
    free(buf);
    return ts_error_set(err, TS_ERR_IO, "cannot read '%s': read error", path);
  }
  *data = buf;
  *n = size;
  return TS_OK;
}

/* Writes all n bytes to fd; 0 or the errno of the failure. */
static int write_all(int fd, const void *data, size_t n) {
  const uint8_t *p = data;
  size_t left = n;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return w < 0 ? errno : EIO;
    p += w;
    left -= (size_t)w;
  }
  return 0;
}

TsStatus ts_file_write_at(int dirfd, const char *name, const char *path, const void *data, size_t n, TsError *err) {
  int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return ts_error_errno(err, errno, "cannot write '%s'", path);
  int e = write_all(fd, data, n);
  if (e) {
    close(fd);
    unlinkat(dirfd, name, 0);
    return ts_error_errno(err, e, "cannot write '%s'", path);
  }
  if (close(fd) != 0) {
    e = errno;
    unlinkat(dirfd, name, 0);
    return ts_error_errno(err, e, "cannot write '%s'", path);
  }
  return TS_OK;
}

TsStatus ts_file_write_atomic(const char *path, const void *data, size_t n, TsError *err) {
  size_t len = strlen(path) + 32;
  char *tmp = malloc(len);
  if (!tmp) return ts_error_set(err, TS_ERR_NOMEM, "cannot write '%s': out of memory", path);
  snprintf(tmp, len, "%s.tmp-%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    TsStatus s = ts_error_errno(err, errno, "cannot write '%s'", path);
    free(tmp);
    return s;
  }
  int e = write_all(fd, data, n);
  if (e) {
    close(fd);
    unlink(tmp);
    free(tmp);
    return ts_error_errno(err, e, "cannot write '%s'", path);
  }
  if (close(fd) != 0 || rename(tmp, path) != 0) {
    e = errno;
    unlink(tmp);
    free(tmp);
    return ts_error_errno(err, e, "cannot write '%s'", path);
  }
  free(tmp);
  return TS_OK;
}

TsStatus ts_image_from_array(TsArray *arr, const char *name, TsImage *img, TsError *err) {
  memset(img, 0, sizeof *img);
  int c;
  if (arr->ndim == 2) c = 1;
  else if (arr->ndim == 3 && arr->shape[2] >= 1 && arr->shape[2] <= 4) c = (int)arr->shape[2];
  else {
    ts_array_clear(arr);
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "cannot read '%s' as a picture: shape is not H x W or H x W x C",
                        name);
  }
  if (arr->dtype != TS_U8 && arr->dtype != TS_U16) {
    TsDType t = arr->dtype;
    ts_array_clear(arr);
    return ts_error_set(err, TS_ERR_UNSUPPORTED,
                        "cannot read '%s' as a picture: %s data (only uint8 and uint16 are pictures)", name,
                        ts_dtype_name(t));
  }
  if (arr->shape[0] == 0 || arr->shape[1] == 0 || arr->shape[0] > TS_IMAGE_MAX_DIM ||
      arr->shape[1] > TS_IMAGE_MAX_DIM) {
    ts_array_clear(arr);
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "cannot read '%s' as a picture: empty or too large", name);
  }
  int w = (int)arr->shape[1], h = (int)arr->shape[0];
  int oc = c == 2 ? 1 : c; /* grey+alpha: keep the grey */
  size_t npx = (size_t)w * (size_t)h;
  if (arr->dtype == TS_U8 && c == oc) {
    img->pixels = arr->data; /* take over */
    arr->data = NULL;
  } else {
    img->pixels = ts_alloc_array(npx, (size_t)oc, "picture", err);
    if (!img->pixels) {
      ts_array_clear(arr);
      return TS_ERR_NOMEM;
    }
    for (size_t i = 0; i < npx; i++)
      for (int k = 0; k < oc; k++) {
        size_t src = i * (size_t)c + (size_t)k;
        if (arr->dtype == TS_U8) img->pixels[i * (size_t)oc + (size_t)k] = ((const uint8_t *)arr->data)[src];
        else
          img->pixels[i * (size_t)oc + (size_t)k] =
              (uint8_t)(((uint32_t)((const uint16_t *)arr->data)[src] * 255u + 32767u) / 65535u);
      }
  }
  ts_array_clear(arr);
  img->width = w;
  img->height = h;
  img->channels = oc;
  return TS_OK;
}

TsStatus ts_array_decode(const uint8_t *data, size_t n, const char *name, TsArray *arr, TsError *err) {
  memset(arr, 0, sizeof *arr);
  TsImageFormat f = ts_image_format_sniff(data, n);
  if (f == TS_FORMAT_UNKNOWN) {
    TsImageFormat byname = ts_image_format_from_name(name);
    if (byname == TS_FORMAT_IDX || byname == TS_FORMAT_CIFAR) f = byname;
  }
  switch (f) {
  case TS_FORMAT_JPEG: {
    TsImage img = {0};
    TsStatus s = ts_jpeg_decode(data, n, name, &img, err);
    if (s) return s;
    size_t shape[3] = {(size_t)img.height, (size_t)img.width, (size_t)img.channels};
    arr->ndim = img.channels == 1 ? 2 : 3;
    memcpy(arr->shape, shape, sizeof shape);
    arr->dtype = TS_U8;
    arr->data = img.pixels;
    return TS_OK;
  }
  case TS_FORMAT_PNG: return ts_png_decode(data, n, name, arr, err);
  case TS_FORMAT_PNM: return ts_pnm_decode(data, n, name, arr, err);
  case TS_FORMAT_NPY: return ts_npy_decode(data, n, name, arr, err);
  case TS_FORMAT_IDX: return ts_idx_decode(data, n, name, arr, err);
  case TS_FORMAT_CIFAR: {
    /* A batch as an N x 32 x 32 x 3 array; labels are read by ts_cifar_read. */
    TsImageSet set = {0};
    TsStatus s = ts_cifar_decode(data, n, name, TS_CIFAR_AUTO, 0, &set, err);
    if (s) return s;
    size_t shape[4] = {set.count, (size_t)set.height, (size_t)set.width, (size_t)set.channels};
    arr->ndim = 4;
    memcpy(arr->shape, shape, sizeof shape);
    arr->dtype = TS_U8;
    arr->data = set.pixels;
    set.pixels = NULL;
    ts_image_set_clear(&set);
    return TS_OK;
  }
  default: break;
  }
  /* gzip'd IDX files have no IDX magic outside the compressed stream. */
  if (n >= 2 && data[0] == 0x1f && data[1] == 0x8b) return ts_idx_decode(data, n, name, arr, err);
  return ts_error_set(err, TS_ERR_FORMAT,
                      "cannot read '%s': not a JPEG, PNG, PGM/PPM, .npy, IDX or CIFAR file", name);
}

TsStatus ts_array_load(const char *path, TsArray *arr, TsError *err) {
  memset(arr, 0, sizeof *arr);
  uint8_t *data;
  size_t n;
  TsStatus s = ts_file_read(path, (size_t)4 << 30, &data, &n, err);
  if (s) return s;
  s = ts_array_decode(data, n, path, arr, err);
  free(data);
  return s;
}

TsStatus ts_image_decode(const uint8_t *data, size_t n, const char *name, TsImage *img, TsError *err) {
  memset(img, 0, sizeof *img);
  TsImageFormat f = ts_image_format_sniff(data, n);
  if (f == TS_FORMAT_JPEG) return ts_jpeg_decode(data, n, name, img, err);
  if (f != TS_FORMAT_PNG && f != TS_FORMAT_PNM && f != TS_FORMAT_NPY)
    return ts_error_set(err, TS_ERR_FORMAT, "cannot read '%s': not a JPEG, PNG, PGM/PPM or .npy picture", name);
  TsArray arr;
  TsStatus s = ts_array_decode(data, n, name, &arr, err);
  if (s) return s;
  return ts_image_from_array(&arr, name, img, err);
}

TsStatus ts_image_load(const char *path, TsImage *img, TsError *err) {
  memset(img, 0, sizeof *img);
  uint8_t *data;
  size_t n;
  TsStatus s = ts_file_read(path, (size_t)4 << 30, &data, &n, err);
  if (s) return s;
  s = ts_image_decode(data, n, path, img, err);
  free(data);
  return s;
}

static void image_as_array(const TsImage *img, TsArray *a) {
  memset(a, 0, sizeof *a);
  a->ndim = img->channels == 1 ? 2 : 3;
  a->shape[0] = (size_t)img->height;
  a->shape[1] = (size_t)img->width;
  a->shape[2] = (size_t)img->channels;
  a->dtype = TS_U8;
  a->data = img->pixels; /* borrowed */
}

TsStatus ts_image_encode(const TsImage *img, TsImageFormat format, int quality, uint8_t **out, size_t *n,
                         TsError *err) {
  *out = NULL;
  *n = 0;
  if (!img->pixels || img->width <= 0 || img->height <= 0 ||
      (img->channels != 1 && img->channels != 3 && img->channels != 4))
    return ts_error_set(err, TS_ERR_INVALID, "cannot encode an empty or malformed picture");
  TsArray a;
  image_as_array(img, &a);
  switch (format) {
  case TS_FORMAT_JPEG: return ts_jpeg_encode(img, quality, out, n, err);
  case TS_FORMAT_PNG: return ts_png_encode(&a, out, n, err);
  case TS_FORMAT_PNM:
    if (img->channels == 4) return ts_error_set(err, TS_ERR_UNSUPPORTED, "PGM/PPM cannot hold an alpha channel");
    return ts_pnm_encode(&a, out, n, err);
  case TS_FORMAT_NPY: return ts_npy_encode(&a, out, n, err);
  default: return ts_error_set(err, TS_ERR_UNSUPPORTED, "pictures are written as JPEG, PNG, PGM/PPM or .npy");
  }
}

TsStatus ts_image_save(const char *path, const TsImage *img, int quality, TsError *err) {
  TsImageFormat f = ts_image_format_from_name(path);
  if (f != TS_FORMAT_JPEG && f != TS_FORMAT_PNG && f != TS_FORMAT_PNM && f != TS_FORMAT_NPY)
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "cannot write '%s': unknown extension (jpg, png, pgm, ppm, npy)",
                        path);
  uint8_t *buf;
  size_t n;
  TsStatus s = ts_image_encode(img, f, quality, &buf, &n, err);
  if (s) {
    ts_error_prefix(err, "cannot write '%s'", path);
    return s;
  }
  s = ts_file_write_atomic(path, buf, n, err);
  free(buf);
  return s;
}

TsStatus ts_array_save(const char *path, const TsArray *arr, TsError *err) {
  TsImageFormat f = ts_image_format_from_name(path);
  uint8_t *buf = NULL;
  size_t n = 0;
  TsStatus s;
  switch (f) {
  case TS_FORMAT_NPY: s = ts_npy_encode(arr, &buf, &n, err); break;
  case TS_FORMAT_PNG: s = ts_png_encode(arr, &buf, &n, err); break;
  case TS_FORMAT_PNM: s = ts_pnm_encode(arr, &buf, &n, err); break;
  case TS_FORMAT_IDX: s = ts_idx_encode(arr, &buf, &n, err); break;
  default:
    return ts_error_set(err, TS_ERR_UNSUPPORTED, "cannot write '%s' as an array: use .npy, .png, .pgm/.ppm or .idx",
                        path);
  }
  if (s) {
    ts_error_prefix(err, "cannot write '%s'", path);
    return s;
  }
  s = ts_file_write_atomic(path, buf, n, err);
  free(buf);
  return s;
}
