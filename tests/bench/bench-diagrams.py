"""Benchmark: PH labelling throughput (Kaji's pipeline) and diagram distances,
Toposcope against the Python tools measured in the same run.

Labelling: `toposcope label` on a folder of PGM pictures (all cores) vs the
same steps in Python (NumPy grey, scikit-image Otsu, SciPy's exact EDT,
GUDHI cubical persistence on the V-construction's doubled array, Kaji's
persistence image with SciPy's normal CDF) over a multiprocessing pool of as
many processes as cores.

Distances: `toposcope distance` (times include process start and reading
the two CSV files) vs GUDHI in-process: gudhi.bottleneck_distance (exact),
gudhi.hera.bottleneck_distance (delta 0: exact), POT through
gudhi.wasserstein.wasserstein_distance (exact), gudhi.hera.wasserstein_distance
(delta 0.01). Never asserts on time."""
import multiprocessing
import os
import shutil
import sys
import tempfile
import time

import numpy as np
from tsbench import run_cmd, table, time_py

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "diagrams"))
import kajiref  # noqa: E402

EXE = os.environ.get("TOPOSCOPE", "build-release/app/toposcope")
tmp = tempfile.mkdtemp(prefix="bench-diagrams-")
rng = np.random.default_rng(2024)
cores = os.cpu_count() or 1


def read_pgm(path):
    with open(path, "rb") as f:
        raw = f.read()
    parts = raw.split(maxsplit=4)
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4][-w * h:], dtype=np.uint8).reshape(h, w).astype(float)


def py_label(path):
    return kajiref.label_image(read_pgm(path), 200, (80, 60))


def bench_labels():
    rows = []
    for size, count in ((128, 96), (256, 48)):
        d = os.path.join(tmp, f"pics{size}")
        os.makedirs(d)
        for k in range(count):
            kajiref.write_pgm(os.path.join(d, f"p{k:04d}.pgm"), kajiref.smooth_picture(rng, size, size, 1.0 + k % 5 * 0.25))
        cache = os.path.join(tmp, f"l{size}.tslabels")
        store = os.path.join(tmp, "runs.sqlite")
        t_ours, mem = run_cmd([EXE, "label", d, "-o", cache, "--store", store, "--max-life", "80", "60"], repeat=3)
        files = sorted(os.path.join(d, f) for f in os.listdir(d))
        with multiprocessing.Pool(cores) as pool:
            t_py, _ = time_py(lambda: pool.map(py_label, files), repeat=1)
        rows.append([f"{size}x{size}", count, f"{count / t_ours:.1f}", f"{count / t_py:.1f}", f"{t_py / t_ours:.1f}x",
                     f"{mem / 2**20:.0f} MiB"])
    table(f"PH labels (persistence image, [80, 60], nd 200), {cores} cores", rows,
          ["size", "images", "toposcope img/s", "python img/s", "speed-up", "toposcope peak RSS"])


def diagram(n):
    b = rng.uniform(0, 10, n)
    return np.stack([b, b + rng.exponential(1.0, n)], axis=1)


def write_csv(path, D):
    with open(path, "w") as f:
        f.write("dim,birth,death\n")
        for b, d in D:
            f.write(f"0,{b!r},{d!r}\n")


def bench_distances():
    import gudhi
    import gudhi.hera as hera
    try:
        from gudhi.wasserstein import wasserstein_distance as pot_w
    except Exception:
        pot_w = None
    rows = []
    for n in (1000, 10000):
        for kind in ("independent", "perturbed"):
            A = diagram(n)
            B = diagram(n) if kind == "independent" else A + rng.normal(0, 0.05, A.shape)
            pa, pb = os.path.join(tmp, "a.csv"), os.path.join(tmp, "b.csv")
            write_csv(pa, A)
            write_csv(pb, B)
            rep = 3 if n <= 1000 else 1
            t, _ = run_cmd([EXE, "distance", pa, pb], repeat=rep)
            th, _ = time_py(lambda: hera.bottleneck_distance(A, B, 0), repeat=rep)
            if n <= 1000:
                tg, _ = time_py(lambda: gudhi.bottleneck_distance(A, B), repeat=rep)
                g = f"{tg:.3f} s ({tg / t:.1f}x)"
            else:
                g = "(skipped: minutes)"
            rows.append([f"bottleneck {n} {kind}", f"{t:.3f} s", f"{th:.3f} s ({th / t:.1f}x)", g])
            t, _ = run_cmd([EXE, "distance", pa, pb, "--metric", "wasserstein", "-p", "2", "--relative-error", "0.01"],
                           repeat=rep)
            th, _ = time_py(lambda: hera.wasserstein_distance(A, B, order=2, internal_p=np.inf, delta=0.01), repeat=rep)
            rows.append([f"W2 rel. err. 0.01 {n} {kind}", f"{t:.3f} s", f"{th:.3f} s ({th / t:.1f}x)", "-"])
            if n <= 1000 and pot_w is not None:
                t, _ = run_cmd([EXE, "distance", pa, pb, "--metric", "wasserstein", "-p", "2"], repeat=1)
                tp, _ = time_py(lambda: pot_w(A, B, order=2, internal_p=np.inf), repeat=1)
                rows.append([f"W2 exact {n} {kind}", f"{t:.3f} s", "-", f"POT {tp:.3f} s ({tp / t:.2f}x)"])
    table("Distances (ratio = reference time / toposcope time; > 1: toposcope faster)", rows,
          ["case", "toposcope", "GUDHI hera", "GUDHI exact / POT"])


if __name__ == "__main__":
    t0 = time.time()
    try:
        bench_labels()
        bench_distances()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n(total {time.time() - t0:.0f} s)")
