/* test-codecs — every decoder round-trips what its encoder wrote and fails
 * cleanly (an error with a message naming the file, no crash, no leak) on a
 * corpus of malformed files: every truncation, random byte corruptions, and
 * hand-made headers with wrong magic, absurd or overflowing sizes.
 *   test-codecs [CORPUS_DIR]   also writes the malformed corpus there
 *                              (seeds for the fuzz targets). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../ts-test.h"
#include "base/rng.h"
#include "image/cifar.h"
#include "image/codec.h"
#include "image/idx.h"

static const char *corpus_dir;
static int corpus_count;

static void corpus_add(const char *fmt, const uint8_t *d, size_t n) {
  if (!corpus_dir || corpus_count > 4000) return;
  char path[1024];
  snprintf(path, sizeof path, "%s/%s-%05d", corpus_dir, fmt, corpus_count++);
  FILE *f = fopen(path, "wb");
  if (f) {
    fwrite(d, 1, n, f);
    fclose(f);
  }
}

static void random_image(TsRng *r, TsImage *img, int w, int h, int c) {
  TS_CHECK(ts_image_alloc(img, w, h, c, NULL) == TS_OK);
  /* smooth-ish content so JPEG round trips are meaningful */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int k = 0; k < c; k++)
        img->pixels[((size_t)y * w + x) * c + k] = (uint8_t)((x * 7 + y * 3 + k * 50) % 256 / 2 + ts_rng_below(r, 16));
}

/* Decodes d as `fmt` through the array entry point; 0 on success. */
static int decode(const char *name, const uint8_t *d, size_t n, TsArray *a, TsError *e) {
  return ts_array_decode(d, n, name, a, e) != TS_OK;
}

/* Every truncation must fail with a message naming the file; corruptions
 * may decode, but then to a sane shape. */
static void malformed(const char *fmt, const char *name, const uint8_t *good, size_t n, TsRng *r, int all_trunc_fail) {
  uint8_t *buf = malloc(n + 16);
  size_t step = n > 400 ? n / 200 : 1;
  int trunc_ok = 0;
  for (size_t len = 0; len < n; len += step) {
    TsArray a;
    TsError e = {0};
    memcpy(buf, good, len);
    corpus_add(fmt, buf, len);
    if (decode(name, buf, len, &a, &e) == 0) {
      trunc_ok++;
      ts_array_clear(&a);
    } else {
      TS_CHECKF(strstr(e.message, name) != NULL, "%s truncated to %zu: message '%s' does not name the file", fmt, len,
                e.message);
    }
  }
  if (all_trunc_fail) TS_CHECKF(trunc_ok == 0, "%s: %d truncated files decoded", fmt, trunc_ok);
  for (int t = 0; t < 300; t++) {
    memcpy(buf, good, n);
    int flips = 1 + (int)ts_rng_below(r, 8);
    for (int k = 0; k < flips; k++) {
      size_t at = t % 3 == 0 ? ts_rng_below(r, n < 64 ? n : 64) : ts_rng_below(r, n); /* headers get hit often */
      buf[at] = (uint8_t)ts_rng_u64(r);
    }
    if (t < 40) corpus_add(fmt, buf, n);
    TsArray a;
    TsError e = {0};
    if (decode(name, buf, n, &a, &e) == 0) {
      TS_CHECK(a.ndim >= 0 && a.ndim <= 4);
      TS_CHECK(ts_array_count(&a) * ts_dtype_size(a.dtype) <= TS_DECODE_MAX_BYTES);
      ts_array_clear(&a);
    } else {
      TS_CHECK(e.message[0] != '\0');
    }
  }
  free(buf);
}

static void test_jpeg(void) {
  TsRng r;
  ts_rng_init(&r, 1, 0);
  for (int c = 1; c <= 3; c += 2) {
    TsImage img = {0}, back = {0};
    random_image(&r, &img, 37, 23, c);
    uint8_t *d;
    size_t n;
    TS_CHECK(ts_image_encode(&img, TS_FORMAT_JPEG, 100, &d, &n, NULL) == TS_OK);
    TsError e = {0};
    TS_CHECK(ts_image_decode(d, n, "x.jpg", &back, &e) == TS_OK);
    TS_CHECK(back.width == 37 && back.height == 23 && back.channels == c);
    double diff = 0;
    for (size_t i = 0; back.pixels && i < (size_t)37 * 23 * c; i++) diff += abs(back.pixels[i] - img.pixels[i]);
    diff /= 37.0 * 23 * c;
    TS_CHECKF(diff < (c == 1 ? 1.5 : 8), "JPEG q100 mean error %.2f", diff);
    malformed("jpeg", "bad.jpg", d, n, &r, 1);
    /* a header claiming 60000 x 60000 in a few hundred bytes */
    uint8_t *big = malloc(n);
    memcpy(big, d, n);
    for (size_t i = 0; i + 8 < n; i++)
      if (big[i] == 0xFF && (big[i + 1] == 0xC0 || big[i + 1] == 0xC1 || big[i + 1] == 0xC2)) {
        big[i + 5] = 0xEA, big[i + 6] = 0x60, big[i + 7] = 0xEA, big[i + 8] = 0x60;
        break;
      }
    ts_image_clear(&back);
    TS_CHECK(ts_image_decode(big, n, "big.jpg", &back, &e) != TS_OK);
    TS_CHECKF(strstr(e.message, "absurd") != NULL, "%s", e.message);
    corpus_add("jpeg", big, n);
    free(big);
    free(d);
    ts_image_clear(&img);
    ts_image_clear(&back);
  }
  TsImage img = {0};
  TsError e = {0};
  TS_CHECK(ts_image_decode((const uint8_t *)"\xFF\xD8\xFF", 3, "tiny.jpg", &img, &e) != TS_OK);
  TS_CHECK(strstr(e.message, "tiny.jpg") != NULL);
}

static void test_png(void) {
  TsRng r;
  ts_rng_init(&r, 2, 0);
  for (int c = 1; c <= 4; c++)
    for (int wide = 0; wide <= 1; wide++) {
      size_t shape[3] = {19, 31, (size_t)c};
      TsArray a, b;
      TS_CHECK(ts_array_alloc(&a, c == 1 ? 2 : 3, shape, wide ? TS_U16 : TS_U8, NULL) == TS_OK);
      for (size_t i = 0; i < ts_array_count(&a); i++) {
        if (wide) ((uint16_t *)a.data)[i] = (uint16_t)ts_rng_u64(&r);
        else ((uint8_t *)a.data)[i] = (uint8_t)ts_rng_u64(&r);
      }
      uint8_t *d;
      size_t n;
      TS_CHECK(ts_png_encode(&a, &d, &n, NULL) == TS_OK);
      TsError e = {0};
      TS_CHECK(ts_png_decode(d, n, "x.png", &b, &e) == TS_OK);
      TS_CHECK(b.ndim == a.ndim && b.dtype == a.dtype && b.shape[0] == 19 && b.shape[1] == 31);
      TS_CHECKF(b.data && !memcmp(a.data, b.data, ts_array_count(&a) * ts_dtype_size(a.dtype)), "PNG c=%d wide=%d",
                c, wide);
      if (c == 3 && !wide) malformed("png", "bad.png", d, n, &r, 1);
      free(d);
      ts_array_clear(&a);
      ts_array_clear(&b);
    }
}

static void test_pnm(void) {
  TsRng r;
  ts_rng_init(&r, 3, 0);
  for (int c = 1; c <= 3; c += 2)
    for (int wide = 0; wide <= 1; wide++) {
      size_t shape[3] = {13, 7, 3};
      TsArray a, b;
      TS_CHECK(ts_array_alloc(&a, c == 1 ? 2 : 3, shape, wide ? TS_U16 : TS_U8, NULL) == TS_OK);
      for (size_t i = 0; i < ts_array_count(&a); i++) {
        if (wide) ((uint16_t *)a.data)[i] = (uint16_t)ts_rng_u64(&r);
        else ((uint8_t *)a.data)[i] = (uint8_t)ts_rng_u64(&r);
      }
      uint8_t *d;
      size_t n;
      TS_CHECK(ts_pnm_encode(&a, &d, &n, NULL) == TS_OK);
      TS_CHECK(ts_pnm_decode(d, n, "x.pgm", &b, NULL) == TS_OK);
      TS_CHECK(b.data && !memcmp(a.data, b.data, ts_array_count(&a) * ts_dtype_size(a.dtype)));
      if (!wide) malformed("pnm", "bad.pgm", d, n, &r, 1);
      free(d);
      ts_array_clear(&a);
      ts_array_clear(&b);
    }
  /* ASCII with comments, maxval 15 scaled to 255 */
  const char *p2 = "P2\n# a comment\n3 2\n15\n0 1 2\n3 15 7\n";
  TsArray b;
  TS_CHECK(ts_pnm_decode((const uint8_t *)p2, strlen(p2), "a.pgm", &b, NULL) == TS_OK);
  static const uint8_t want[6] = {0, 17, 34, 51, 255, 119};
  TS_CHECK(b.data && b.shape[0] == 2 && b.shape[1] == 3 && !memcmp(b.data, want, 6));
  ts_array_clear(&b);
  const char *p3 = "P3 1 1 255 1 2 3";
  TS_CHECK(ts_pnm_decode((const uint8_t *)p3, strlen(p3), "a.ppm", &b, NULL) == TS_OK);
  TS_CHECK(b.ndim == 3 && b.shape[2] == 3 && ((uint8_t *)b.data)[2] == 3);
  ts_array_clear(&b);
  static const char *const bad[] = {"P5\n99999 99999\n255\n", "P5\n65535 65535\n255\nabc", "P5\n4 4\n0\n",
                                    "P5\n4 4\n70000\n", "P6\n-1 2\n255\n", "P2\n2 1\n10\n3 11\n", "P7\n1 1\n255\n",
                                    "P5\n99999999999999999999 1\n255\n", "P5 2 2 255", "P2\n2 2\n255\n1 2 3"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    TsError e = {0};
    TS_CHECKF(ts_array_decode((const uint8_t *)bad[i], strlen(bad[i]), "bad.pgm", &b, &e) != TS_OK, "case %zu", i);
    TS_CHECKF(strstr(e.message, "bad.pgm") != NULL, "case %zu: %s", i, e.message);
    corpus_add("pnm", (const uint8_t *)bad[i], strlen(bad[i]));
  }
}

static void test_npy(void) {
  TsRng r;
  ts_rng_init(&r, 4, 0);
  for (int dt = 0; dt < 4; dt++)
    for (int nd = 0; nd <= 4; nd++) {
      size_t shape[4] = {3, 1, 4, 2};
      TsArray a, b;
      TS_CHECK(ts_array_alloc(&a, nd, shape, (TsDType)dt, NULL) == TS_OK);
      uint8_t *p = a.data;
      for (size_t i = 0; i < ts_array_count(&a) * ts_dtype_size(a.dtype); i++) p[i] = (uint8_t)ts_rng_u64(&r);
      if (dt >= 2) /* keep floats finite: clear exponent bits' top */
        for (size_t i = 0; i < ts_array_count(&a); i++) {
          if (dt == 2) ((float *)a.data)[i] = (float)ts_rng_uniform(&r);
          else ((double *)a.data)[i] = ts_rng_normal(&r);
        }
      uint8_t *d;
      size_t n;
      TS_CHECK(ts_npy_encode(&a, &d, &n, NULL) == TS_OK);
      TS_CHECK(n % 64 == (ts_array_count(&a) * ts_dtype_size(a.dtype)) % 64); /* header padded to 64 */
      TS_CHECK(ts_npy_decode(d, n, "x.npy", &b, NULL) == TS_OK);
      TS_CHECK(b.ndim == nd && b.dtype == a.dtype);
      TS_CHECK(!memcmp(a.data, b.data, ts_array_count(&a) * ts_dtype_size(a.dtype)));
      if (dt == 3 && nd == 3) malformed("npy", "bad.npy", d, n, &r, 1);
      free(d);
      ts_array_clear(&a);
      ts_array_clear(&b);
    }
  /* Fortran order, big endian, by hand */
  static const char hdr[] = "{'descr': '>u2', 'fortran_order': True, 'shape': (2, 3), }";
  uint8_t f[128];
  size_t hl = sizeof hdr - 1;
  memcpy(f, "\x93NUMPY\x01\x00", 8);
  f[8] = (uint8_t)(hl + 1), f[9] = 0;
  memcpy(f + 10, hdr, hl);
  f[10 + hl] = '\n';
  /* column-major values 0..5 as big-endian u16: C order [[0,2,4],[1,3,5]] */
  for (int i = 0; i < 6; i++) f[11 + hl + 2 * i] = 0, f[11 + hl + 2 * i + 1] = (uint8_t)i;
  TsArray b;
  TS_CHECK(ts_npy_decode(f, 11 + hl + 12, "f.npy", &b, NULL) == TS_OK);
  static const uint16_t want[6] = {0, 2, 4, 1, 3, 5};
  TS_CHECK(b.data && b.dtype == TS_U16 && !memcmp(b.data, want, sizeof want));
  ts_array_clear(&b);
  static const char *const bad[] = {
      "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551615, 2), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1), }",
      "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1,), }",
      "{'descr': '<f8', 'shape': (1,), }",
      "{'descr': '<f8', 'fortran_order': False, 'shape': (1,",
      "not a dict at all"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    size_t l = strlen(bad[i]);
    uint8_t *buf = calloc(1, 10 + l + 64);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)l, buf[9] = 0;
    memcpy(buf + 10, bad[i], l);
    TsError e = {0};
    TS_CHECKF(ts_npy_decode(buf, 10 + l + 16, "bad.npy", &b, &e) != TS_OK, "case %zu", i);
    TS_CHECKF(strstr(e.message, "bad.npy") != NULL, "case %zu: %s", i, e.message);
    corpus_add("npy", buf, 10 + l + 16);
    free(buf);
  }
}

static uint8_t *gzip_bytes(const uint8_t *d, size_t n, size_t *out_n) {
  z_stream z;
  memset(&z, 0, sizeof z);
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  size_t cap = deflateBound(&z, n) + 32;
  uint8_t *o = malloc(cap);
  z.next_in = (Bytef *)(uintptr_t)d;
  z.avail_in = (uInt)n;
  z.next_out = o;
  z.avail_out = (uInt)cap;
  deflate(&z, Z_FINISH);
  *out_n = cap - z.avail_out;
  deflateEnd(&z);
  return o;
}

static void test_idx(void) {
  TsRng r;
  ts_rng_init(&r, 5, 0);
  size_t shape[3] = {5, 6, 7};
  TsArray a, b;
  TS_CHECK(ts_array_alloc(&a, 3, shape, TS_U8, NULL) == TS_OK);
  for (size_t i = 0; i < 210; i++) ((uint8_t *)a.data)[i] = (uint8_t)ts_rng_u64(&r);
  uint8_t *d;
  size_t n, gn;
  TS_CHECK(ts_idx_encode(&a, &d, &n, NULL) == TS_OK);
  TS_CHECK(ts_idx_decode(d, n, "x-idx3-ubyte", &b, NULL) == TS_OK);
  TS_CHECK(b.ndim == 3 && b.shape[2] == 7 && !memcmp(a.data, b.data, 210));
  ts_array_clear(&b);
  uint8_t *gz = gzip_bytes(d, n, &gn);
  TS_CHECK(ts_array_decode(gz, gn, "x-idx3-ubyte.gz", &b, NULL) == TS_OK);
  TS_CHECK(b.data && !memcmp(a.data, b.data, 210));
  ts_array_clear(&b);
  malformed("idx", "bad-idx3-ubyte", d, n, &r, 1);
  malformed("idxgz", "bad-idx3-ubyte.gz", gz, gn, &r, 1);
  /* int32 big-endian -> float64, exact */
  static const uint8_t i32[] = {0, 0, 0x0C, 1, 0, 0, 0, 2, 0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 1, 0};
  TS_CHECK(ts_idx_decode(i32, sizeof i32, "i.idx", &b, NULL) == TS_OK);
  TS_CHECK(b.dtype == TS_F64 && ((double *)b.data)[0] == -2 && ((double *)b.data)[1] == 256);
  ts_array_clear(&b);
  static const uint8_t huge[] = {0, 0, 8, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1};
  TsError e = {0};
  TS_CHECK(ts_idx_decode(huge, sizeof huge, "huge.idx", &b, &e) != TS_OK && strstr(e.message, "huge.idx"));
  corpus_add("idx", huge, sizeof huge);
  static const uint8_t badtype[] = {0, 0, 0x0A, 1, 0, 0, 0, 1, 0};
  TS_CHECK(ts_idx_decode(badtype, sizeof badtype, "t.idx", &b, NULL) != TS_OK);
  free(gz);
  free(d);
  ts_array_clear(&a);
}

static void test_fashion_mnist(void) {
  const char *dir = "/usr/share/datasets/fashion-mnist";
  struct stat st;
  if (stat(dir, &st) != 0) {
    printf("  (no %s: skipped)\n", dir);
    return;
  }
  TsImageSet s;
  TsError e = {0};
  TS_CHECKF(ts_idx_read_dir(dir, 1, 0, &s, &e) == TS_OK, "%s", e.message);
  TS_CHECK(s.count == 10000 && s.width == 28 && s.height == 28 && s.channels == 1 && s.n_classes == 10);
  int hist[10] = {0};
  for (size_t i = 0; i < s.count && s.labels; i++) hist[s.labels[i]]++;
  TS_CHECK(hist[0] == 1000 && hist[9] == 1000); /* the test set is balanced */
  ts_image_set_clear(&s);
  TS_CHECK(ts_idx_read_dir(dir, 0, 100, &s, &e) == TS_OK && s.count == 100);
  ts_image_set_clear(&s);
}

static void test_cifar(void) {
  TsRng r;
  ts_rng_init(&r, 6, 0);
  for (int kind = TS_CIFAR_10; kind <= TS_CIFAR_100_COARSE; kind++) {
    TsImageSet s = {.count = 3, .width = 32, .height = 32, .channels = 3};
    s.pixels = malloc(3 * 3072);
    s.labels = malloc(3 * sizeof *s.labels);
    for (int i = 0; i < 3 * 3072; i++) s.pixels[i] = (uint8_t)ts_rng_u64(&r);
    for (int i = 0; i < 3; i++) s.labels[i] = i * 3 + 1;
    uint8_t *d;
    size_t n;
    TS_CHECK(ts_cifar_encode(&s, (TsCifarKind)kind, &d, &n, NULL) == TS_OK);
    TsImageSet b;
    TS_CHECK(ts_cifar_decode(d, n, "c.bin", (TsCifarKind)kind, 0, &b, NULL) == TS_OK);
    TS_CHECK(b.count == 3 && !memcmp(b.pixels, s.pixels, 3 * 3072) && b.labels[2] == 7);
    ts_image_set_clear(&b);
    TsCifarKind autok = kind == TS_CIFAR_10 ? TS_CIFAR_10 : TS_CIFAR_100_FINE;
    TS_CHECK(ts_cifar_decode(d, n, "c.bin", TS_CIFAR_AUTO, 2, &b, NULL) == TS_OK);
    TS_CHECK(b.count == 2 && b.n_classes == (autok == TS_CIFAR_10 ? 10 : 100));
    ts_image_set_clear(&b);
    TsError e = {0};
    TS_CHECK(ts_cifar_decode(d, n - 1, "c.bin", (TsCifarKind)kind, 0, &b, &e) != TS_OK && strstr(e.message, "c.bin"));
    d[0] = 200; /* a label out of range */
    TS_CHECK(ts_cifar_decode(d, n, "c.bin", TS_CIFAR_10, 0, &b, &e) != TS_OK);
    free(d);
    ts_image_set_clear(&s);
  }
}

/* Writes a CIFAR batch of count records whose label bytes are (coarse, fine)
 * = (i % 20, 50 + i) for CIFAR-100, i % 10 for CIFAR-10, pixels i + byte. */
static void write_batch(const char *dir, const char *name, int is100, int count, int first) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  size_t rec = is100 ? 3074 : 3073;
  uint8_t *b = malloc(rec * (size_t)count);
  for (int i = 0; i < count; i++) {
    uint8_t *r = b + rec * (size_t)i;
    int k = first + i;
    if (is100) {
      r[0] = (uint8_t)(k % 20);
      r[1] = (uint8_t)(50 + k);
    } else {
      r[0] = (uint8_t)(k % 10);
    }
    for (size_t j = is100 ? 2 : 1; j < rec; j++) r[j] = (uint8_t)(k + j);
  }
  FILE *f = fopen(path, "wb");
  fwrite(b, 1, rec * (size_t)count, f);
  fclose(f);
  free(b);
}

static void test_cifar_dir(void) {
  char dir[256], sub[300];
  snprintf(dir, sizeof dir, "/tmp/ts-test-cifar-%d", (int)getpid());
  mkdir(dir, 0777);
  TsImageSet s;
  TsError e = {0};
  TS_CHECK(ts_cifar_read_dir(dir, 0, TS_CIFAR_AUTO, 0, &s, &e) == TS_ERR_IO && strstr(e.message, dir));
  /* CIFAR-10 in the folder itself: batches 1 and 2 of 5 (a partial copy) */
  write_batch(dir, "data_batch_1.bin", 0, 3, 0);
  write_batch(dir, "data_batch_2.bin", 0, 2, 3);
  write_batch(dir, "test_batch.bin", 0, 1, 7);
  TS_CHECKF(ts_cifar_read_dir(dir, 0, TS_CIFAR_AUTO, 0, &s, &e) == TS_OK, "%s", e.message);
  TS_CHECK(s.count == 5 && s.n_classes == 10 && s.labels[4] == 4 && s.pixels[4 * 3072 + 1] == (uint8_t)(4 + 1025));
  ts_image_set_clear(&s);
  TS_CHECK(ts_cifar_read_dir(dir, 0, TS_CIFAR_10, 4, &s, &e) == TS_OK && s.count == 4);
  ts_image_set_clear(&s);
  TS_CHECK(ts_cifar_read_dir(dir, 1, TS_CIFAR_AUTO, 0, &s, &e) == TS_OK && s.count == 1 && s.labels[0] == 7);
  ts_image_set_clear(&s);
  TS_CHECK(ts_cifar_read_dir(dir, 0, TS_CIFAR_100_FINE, 0, &s, &e) == TS_ERR_FORMAT && strstr(e.message, "CIFAR-10"));
  /* CIFAR-100 below the folder, as the archive unpacks */
  snprintf(sub, sizeof sub, "%s/cifar-100-binary", dir);
  mkdir(sub, 0777);
  write_batch(sub, "train.bin", 1, 4, 0);
  write_batch(sub, "test.bin", 1, 2, 30);
  char path[400];
  snprintf(path, sizeof path, "%s/data_batch_1.bin", dir);
  remove(path); /* the folder itself holds CIFAR-10 no more */
  TS_CHECKF(ts_cifar_read_dir(dir, 0, TS_CIFAR_AUTO, 0, &s, &e) == TS_OK, "%s", e.message);
  TS_CHECK(s.count == 4 && s.n_classes == 100 && s.labels[3] == 53);
  ts_image_set_clear(&s);
  TS_CHECK(ts_cifar_read_dir(dir, 1, TS_CIFAR_100_COARSE, 0, &s, &e) == TS_OK);
  TS_CHECK(s.count == 2 && s.n_classes == 20 && s.labels[1] == 31 % 20);
  ts_image_set_clear(&s);
  TS_CHECK(ts_cifar_read_dir(dir, 0, TS_CIFAR_10, 0, &s, &e) == TS_ERR_FORMAT && strstr(e.message, "CIFAR-100"));
  /* a bad batch: the error names it */
  write_batch(sub, "test.bin", 1, 1, 200);
  TS_CHECK(ts_cifar_read_dir(dir, 1, TS_CIFAR_AUTO, 0, &s, &e) == TS_ERR_FORMAT && strstr(e.message, "test.bin") &&
           strstr(e.message, "label"));
  static const char *const left[] = {"cifar-100-binary/train.bin", "cifar-100-binary/test.bin", "data_batch_2.bin",
                                     "test_batch.bin", "cifar-100-binary", ""};
  for (int i = 0; i < 6; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, left[i]);
    remove(path);
  }
}

static void test_files(void) {
  /* ts_image_save / ts_image_load through real files, atomically */
  TsRng r;
  ts_rng_init(&r, 7, 0);
  TsImage img = {0}, back = {0};
  random_image(&r, &img, 20, 10, 3);
  char path[256];
  static const char *const exts[] = {"png", "ppm", "npy", "jpg"};
  for (int i = 0; i < 4; i++) {
    snprintf(path, sizeof path, "/tmp/ts-test-codecs-%d.%s", (int)getpid(), exts[i]);
    TsError e = {0};
    TS_CHECKF(ts_image_save(path, &img, 95, &e) == TS_OK, "%s", e.message);
    TS_CHECKF(ts_image_load(path, &back, &e) == TS_OK, "%s", e.message);
    TS_CHECK(back.width == 20 && back.height == 10 && back.channels == 3);
    if (i < 3) TS_CHECK(back.pixels && !memcmp(back.pixels, img.pixels, 600));
    ts_image_clear(&back);
    remove(path);
  }
  TsError e = {0};
  TS_CHECK(ts_image_load("/nonexistent/x.png", &back, &e) != TS_OK && strstr(e.message, "/nonexistent/x.png"));
  TS_CHECK(ts_image_save("/tmp/x.unknown", &img, 75, &e) == TS_ERR_UNSUPPORTED);
  TS_CHECK(ts_image_format_from_name("a/B.JPEG") == TS_FORMAT_JPEG);
  TS_CHECK(ts_image_format_from_name("train-images-idx3-ubyte.gz") == TS_FORMAT_IDX);
  TS_CHECK(ts_image_format_from_name("data_batch_1.bin") == TS_FORMAT_CIFAR);
  ts_image_clear(&img);
}

int main(int argc, char **argv) {
  if (argc > 1) {
    corpus_dir = argv[1];
    mkdir(corpus_dir, 0777);
  }
  TS_RUN(test_jpeg);
  TS_RUN(test_png);
  TS_RUN(test_pnm);
  TS_RUN(test_npy);
  TS_RUN(test_idx);
  TS_RUN(test_fashion_mnist);
  TS_RUN(test_cifar);
  TS_RUN(test_cifar_dir);
  TS_RUN(test_files);
  if (corpus_dir) printf("wrote %d malformed files to %s\n", corpus_count, corpus_dir);
  return ts_test_finish();
}
