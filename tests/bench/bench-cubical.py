"""Cubical persistent homology: toposcope ph against GUDHI (python3-gudhi)
in the same run, on the issue's five cases. Toposcope is timed as a whole
command (process start, .npy read, homology with coordinates, .npy write);
GUDHI inside a Python process (persistence() plus
cofaces_of_persistence_pairs() for the locations), array already loaded.
Peak memory is the peak RSS of each process, taken with GNU time (GUDHI's
includes the Python interpreter and numpy, about 40 MB; toposcope's
includes its input and output arrays)."""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from tsbench import run_cmd, table

EXE = os.environ["TOPOSCOPE"]
# Files on tmpfs where there is one: on this project's ext4 /tmp, after many
# files were deleted, creating one took up to a few milliseconds, which
# turned the 1000-image case into a file-system benchmark.
tmp = tempfile.mkdtemp(prefix="bench-cubical-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
atexit.register(shutil.rmtree, tmp, True)
rng = np.random.default_rng(0)

GUDHI = r"""
import json, resource, sys, time, glob
import numpy as np, gudhi
paths = sys.argv[1:]
arrs = [np.load(p) for p in paths]
t0 = time.perf_counter()
n = 0
for a in arrs:
    cc = gudhi.CubicalComplex(top_dimensional_cells=a)
    cc.persistence(homology_coeff_field=2, min_persistence=0)
    cc.cofaces_of_persistence_pairs()
    n += len(cc.persistence_intervals_in_dimension(0)) + len(cc.persistence_intervals_in_dimension(1))
dt = time.perf_counter() - t0
print(json.dumps({"time": dt, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "pairs": n}))
"""


def smooth(shape, beta=2.0):
    k = np.meshgrid(*[np.fft.fftfreq(s) for s in shape], indexing="ij")
    r2 = sum(x * x for x in k)
    r2[(0,) * len(shape)] = 1
    spec = np.fft.fftn(rng.standard_normal(shape)) / r2 ** (beta / 2)
    return np.real(np.fft.ifftn(spec))


TIME = "/usr/bin/time"  # GNU time: the peak RSS of its own child, which
# a fork of this (large) Python process would inherit as its high-water mark


def peak_of(args):
    """Runs args under GNU time; returns (stdout, peak RSS in bytes or None)."""
    if not os.path.exists(TIME):
        p = subprocess.run(args, capture_output=True, text=True, check=True)
        return p.stdout, None
    rss_file = os.path.join(tmp, "rss")
    p = subprocess.run([TIME, "-f", "%M", "-o", rss_file] + args, capture_output=True, text=True, check=True)
    with open(rss_file) as f:
        return p.stdout, int(f.read().split()[-1]) * 1024


def ours(args, repeat):
    best, _ = run_cmd(args, repeat=repeat)
    _, rss = peak_of(args)
    return best, rss


def gudhi_time(paths):
    out, rss = peak_of([sys.executable, "-c", GUDHI] + paths)
    r = json.loads(out)
    return r["time"], rss or r["rss"]


def mb(b):
    return "?" if b is None else f"{b / 2**20:.0f} MB"


def per_px(b, n):
    return "?" if b is None else f"{b / n:.0f}"


cases = [
    ("1024^2 white noise", [rng.random((1024, 1024))]),
    ("1024^2 smooth 1/f^2", [smooth((1024, 1024))]),
    ("2048^2 white noise", [rng.random((2048, 2048))]),
    ("128^3 noise volume", [rng.random((128, 128, 128))]),
    ("1000 x 128^2 images", [rng.random((128, 128)) for _ in range(1000)]),
]
quick = os.environ.get("BENCH_QUICK") == "1"
rows = []
for name, arrays in cases:
    if quick:
        arrays = arrays[:50]
    folder = os.path.join(tmp, name.split()[0].replace("^", "").replace("x", ""))
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i, a in enumerate(arrays):
        paths.append(os.path.join(folder, f"a{i:04d}.npy"))
        np.save(paths[-1], a)
    npix = sum(a.size for a in arrays)
    out = os.path.join(tmp, "out") if len(paths) > 1 else os.path.join(tmp, "out.npy")
    res = {}
    for cons in ("v", "t"):
        args = [EXE, "ph", *paths, "-o", out, "--format", "npy", "--construction", cons]
        res[cons] = ours(args, 3 if npix <= 2**20 else 1)
        # one thread: a batch then runs one input at a time, a single 2D
        # input its two sweeps one after the other (the per-core goal)
        res[cons + "1"] = run_cmd(args + ["--threads", "1"], repeat=3 if npix <= 2**20 else 1)
    g_time, g_rss = gudhi_time(paths)
    tv, mv = res["v"]
    tt, mt = res["t"]
    big = len(paths) == 1  # bytes per pixel mean something for one large input
    tv1, tt1 = res["v1"][0], res["t1"][0]
    row = [name, f"{tv:.3f} s", f"{tt:.3f} s", f"{g_time:.2f} s", f"{g_time / tt:.1f}x",
           f"{1e3 * tv1 / (npix / 1e6):.0f}", f"{1e3 * tt1 / (npix / 1e6):.0f}",
           per_px(mv, npix) if big else "-", per_px(mt, npix) if big else "-", mb(mt), mb(g_rss)]
    if len(paths) > 1:
        row[0] += f" ({os.cpu_count()} threads; 1 thread: V {tv1:.2f} s, T {tt1:.2f} s)"
    rows.append(row)
    print(name, "done", flush=True)

table("Cubical persistent homology, H0..H(d-1) with birth/death coordinates (best of 3; 1 run for the large cases)",
      rows, ["case", "toposcope V", "toposcope T", "GUDHI T", "GUDHI/ours (T)", "V ms/MP 1 thread", "T ms/MP 1 thread",
             "V bytes/px", "T bytes/px", "peak T", "peak GUDHI"])
