/* fuzz-decode — libFuzzer targets for the image decoders, one per format:
 * built with -DFUZZ_FORMAT=jpeg|png|pnm|npy|idx|cifar|any by fuzz.sh
 * (clang -fsanitize=fuzzer,address,undefined). Each input is decoded from
 * memory; a decoder may reject it, but must not crash, leak, read out of
 * bounds or allocate more than TS_DECODE_MAX_BYTES. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "image/cifar.h"
#include "image/codec.h"

#define STR2(x) #x
#define STR(x) STR2(x)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
  const char *f = STR(FUZZ_FORMAT);
  TsArray a;
  TsImage img;
  TsImageSet set;
  TsError e;
  if (!strcmp(f, "jpeg")) {
    if (ts_jpeg_decode(data, n, "fuzz.jpg", &img, &e) == TS_OK) ts_image_clear(&img);
  } else if (!strcmp(f, "png")) {
    if (ts_png_decode(data, n, "fuzz.png", &a, &e) == TS_OK) ts_array_clear(&a);
  } else if (!strcmp(f, "pnm")) {
    if (ts_pnm_decode(data, n, "fuzz.pgm", &a, &e) == TS_OK) ts_array_clear(&a);
  } else if (!strcmp(f, "npy")) {
    if (ts_npy_decode(data, n, "fuzz.npy", &a, &e) == TS_OK) ts_array_clear(&a);
  } else if (!strcmp(f, "idx")) {
    if (ts_idx_decode(data, n, "fuzz-idx3-ubyte", &a, &e) == TS_OK) ts_array_clear(&a);
  } else if (!strcmp(f, "cifar")) {
    if (ts_cifar_decode(data, n, "fuzz.bin", TS_CIFAR_AUTO, 0, &set, &e) == TS_OK) ts_image_set_clear(&set);
  } else {
    if (ts_image_decode(data, n, "fuzz", &img, &e) == TS_OK) ts_image_clear(&img);
    if (ts_array_decode(data, n, "fuzz", &a, &e) == TS_OK) ts_array_clear(&a);
  }
  return 0;
}
