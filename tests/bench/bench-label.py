"""Labelling alone: `toposcope label` (persistence image, 200 values, two
threads) on a folder of generated 128x128 grey PNGs against the same
pictures pushed through grey + Otsu (scikit-image) + SciPy's exact EDT +
GUDHI's cubical persistence (the V-construction, as the T-construction of
the doubled cell-value array) over a multiprocessing pool of two processes.
The Python side stops at the diagram: no Python vectoriser, so the ratio
measures the per-picture pipeline (decode, threshold, distance transform,
persistence), while Toposcope also computes and writes the labels. Times
include process start and decode (ours), the pool's start and the decode
(Python's; the libraries are imported before the pool forks).
Sizes: BENCH_LABEL_N pictures (default 300), BENCH_LABEL_SIZE (128).
Never asserts on time. Run: bash tests/bench/run label"""
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image
from tsbench import run_cmd, table, time_py

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "diagrams"))
import kajiref  # noqa: E402
# imported before the pool forks, so the workers start warm (kajiref imports lazily)
import gudhi  # noqa: E402,F401
import scipy.ndimage  # noqa: E402,F401
import skimage.filters  # noqa: E402,F401

EXE = os.environ.get("TOPOSCOPE", "build-release/app/toposcope")
N = int(os.environ.get("BENCH_LABEL_N", "300"))
SIZE = int(os.environ.get("BENCH_LABEL_SIZE", "128"))
THREADS = 2
tmp = tempfile.mkdtemp(prefix="bench-label-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)


def py_diagram(path):
    grey = np.asarray(Image.open(path).convert("L"), dtype=float)
    f = kajiref.signed_distance(grey)
    return 0 if f is None else len(kajiref.cubical_v(f))


def main():
    gen = os.path.join(tmp, "gen")
    subprocess.run([EXE, "generate", "-o", gen, "-n", str(N), "--val", "0", "--size", str(SIZE), "--prob-colour", "0",
                    "--format", "png", "--no-store", "--seed", "1", "--threads", str(THREADS)],
                   check=True, stdout=subprocess.DEVNULL)
    d = os.path.join(gen, "train")
    files = sorted(os.path.join(d, f) for f in os.listdir(d))
    store = os.path.join(tmp, "runs.sqlite")
    t_ours, mem = run_cmd([EXE, "label", d, "-o", os.path.join(tmp, "l.tslab"), "--store", store,
                           "--threads", str(THREADS)], repeat=3)

    def pool_run():
        with multiprocessing.Pool(THREADS) as pool:
            return pool.map(py_diagram, files, chunksize=8)
    t_py, pairs = time_py(pool_run, repeat=2)
    rows = [["toposcope label (persistence image)", N, f"{t_ours:.2f}", f"{N / t_ours:.1f}", f"{mem / 2**20:.0f}"],
            ["Otsu + SciPy EDT + GUDHI cubical (diagram only)", N, f"{t_py:.2f}", f"{N / t_py:.1f}", "-"]]
    table(f"Labelling {SIZE}x{SIZE} generated grey PNGs, {THREADS} threads / {THREADS} processes (best of runs; "
          f"mean {np.mean(pairs):.0f} H0+H1 pairs a picture)", rows,
          ["pipeline", "pictures", "wall s", "pictures/s", "peak MiB"])
    print(f"ratio (toposcope pictures/s over Python's): {t_py / t_ours:.1f}x")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
