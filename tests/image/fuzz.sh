#!/usr/bin/env bash
# Builds the libFuzzer targets for the image decoders and fuzzes each for a
# while, seeded with the malformed corpus that test-codecs writes.
#   bash tests/image/fuzz.sh [SECONDS_PER_TARGET] [FORMATS...]
# Needs clang with libFuzzer (Debian: clang-14, libclang-rt-14-dev).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
shift || true
formats=${*:-jpeg png pnm npy idx cifar any}
out=${FUZZ_OUT:-/tmp/toposcope-fuzz}
mkdir -p "$out"
CC=${CC_FUZZ:-clang}
srcs="core/base/error.c core/base/array.c core/image/image.c core/image/jpeg.c core/image/png.c core/image/pnm.c
      core/image/npy.c core/image/idx.c core/image/cifar.c"
# 64 MiB decode limit keeps every allocation inside libFuzzer's memory limit
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE
       -DTS_DECODE_MAX_BYTES=((size_t)1<<26) -Icore $(pkg-config --cflags libpng)"
libs="-lturbojpeg $(pkg-config --libs libpng) -lz -lm"
# seeds: valid files and the malformed corpus from the codec tests
if [ ! -d "$out/seeds" ]; then
  [ -x build/tests/image/test-codecs ] || { echo "build first: ninja -C build" >&2; exit 1; }
  build/tests/image/test-codecs "$out/seeds" >/dev/null
fi
for f in $formats; do
  $CC $flags "-DFUZZ_FORMAT=$f" tests/image/fuzz-decode.c $srcs $libs -o "$out/fuzz-$f"
  mkdir -p "$out/corpus-$f"
  case $f in
    jpeg) pat='jpeg-*' ;; png) pat='png-*' ;; pnm) pat='pnm-*' ;; npy) pat='npy-*' ;;
    idx) pat='idx*' ;; *) pat='*' ;;
  esac
  find "$out/seeds" -name "$pat" -exec cp -n {} "$out/corpus-$f/" \; 2>/dev/null || true
  echo "== fuzz-$f for ${secs}s"
  "$out/fuzz-$f" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    "$out/corpus-$f" 2>&1 | grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)|ERROR|SUMMARY" || true
  # ls fails when any one pattern matches nothing, so test each pattern on its own
  if compgen -G "$out/crash-*" >/dev/null || compgen -G "$out/leak-*" >/dev/null || compgen -G "$out/oom-*" >/dev/null; then
    ls "$out"/crash-* "$out"/leak-* "$out"/oom-* 2>/dev/null
    echo "fuzz-$f found a problem" >&2
    exit 1
  fi
done
echo "no crashes, leaks or out-of-memory in $formats"
