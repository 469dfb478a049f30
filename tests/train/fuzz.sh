#!/usr/bin/env bash
# Builds the libFuzzer targets for the checkpoint (safetensors) and label
# cache readers (tests/train/fuzz-readers.c) and fuzzes each for a while,
# seeded with a real checkpoint and a real label cache made by the build.
#   bash tests/train/fuzz.sh [SECONDS_PER_TARGET] [safetensors|labelcache ...]
# Needs clang with libFuzzer (Debian: clang-14, libclang-rt-14-dev) and a
# build in build/ (for the seeds).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
shift || true
readers=${*:-safetensors labelcache}
out=${FUZZ_OUT:-/tmp/toposcope-fuzz-readers}
mkdir -p "$out"
CC=${CC_FUZZ:-clang}
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -D_GNU_SOURCE -Icore -pthread"
if [ ! -d "$out/seeds" ]; then
  T=build/app/toposcope
  [ -x $T ] || { echo "build first: ninja -C build" >&2; exit 1; }
  s="$out/seeds"
  mkdir -p "$s/safetensors" "$s/labelcache"
  $T generate -o "$s/gen" -n 8 --val 2 --size 16 --prob-colour 0 --no-store --threads 1 >/dev/null
  $T label "$s/gen/train" -o "$s/labelcache/train.tslab" --dims 8 --store "$s/runs.sqlite" >/dev/null
  $T train --task ph --model mlp --hidden 4 --data "labels:$s/gen/train,$s/labelcache/train.tslab" --val none \
    --epochs 1 --batch 4 --optimizer adam --save "$s/safetensors/ph.safetensors" --store "$s/runs.sqlite" -q
fi
for r in $readers; do
  case $r in
    safetensors) def=FUZZ_READER_SAFETENSORS; srcs="core/nn/safetensors.c core/base/json.c" ;;
    labelcache) def=FUZZ_READER_LABELCACHE; srcs="core/ph/label-cache.c" ;;
    *) echo "unknown reader $r" >&2; exit 2 ;;
  esac
  $CC $flags "-D$def" tests/train/fuzz-readers.c $srcs core/base/error.c core/base/array.c -lm -o "$out/fuzz-$r"
  mkdir -p "$out/corpus-$r"
  cp -n "$out/seeds/$r"/* "$out/corpus-$r/"
  echo "== fuzz-$r for ${secs}s"
  (cd "$out" && "./fuzz-$r" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    "corpus-$r" 2>&1 | grep -E "^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::peak_rss_mb)|ERROR|SUMMARY" || true)
  if compgen -G "$out/crash-*" >/dev/null || compgen -G "$out/leak-*" >/dev/null || compgen -G "$out/oom-*" >/dev/null; then
    ls "$out"/crash-* "$out"/leak-* "$out"/oom-* 2>/dev/null
    echo "fuzz-$r found a problem" >&2
    exit 1
  fi
done
echo "no crashes, leaks or out-of-memory in $readers"
