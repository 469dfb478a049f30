"""Cubical persistent homology: toposcope ph against GUDHI (python3-gudhi)
in the same run, on the issue's five cases. Toposcope is timed as a whole
command (process start, .npy read, homology with coordinates, .npy write);
GUDHI inside a Python process (persistence() plus
cofaces_of_persistence_pairs() for the locations), array already loaded.
Peak memory is the peak RSS of each process (GUDHI's includes the Python
interpreter and numpy, about 40 MB)."""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from tsbench import run_cmd, table

EXE = os.environ["TOPOSCOPE"]
tmp = tempfile.mkdtemp(prefix="bench-cubical-")
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


def gudhi_time(paths):
    p = subprocess.run([sys.executable, "-c", GUDHI] + paths, capture_output=True, text=True, check=True)
    r = json.loads(p.stdout)
    return r["time"], r["rss"]


def mb(b):
    return f"{b / 2**20:.0f} MB"


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
        args = [EXE, "ph", *paths, "-o", out, "--construction", cons]
        res[cons] = run_cmd(args, repeat=3 if npix <= 2**22 else 1)
        if len(paths) > 1:
            res[cons + "1"] = run_cmd(args + ["--threads", "1"], repeat=1)
    g_time, g_rss = gudhi_time(paths)
    tv, mv = res["v"]
    tt, mt = res["t"]
    row = [name, f"{tv:.3f} s", f"{tt:.3f} s", f"{g_time:.2f} s", f"{g_time / tt:.1f}x",
           f"{1e3 * tv / (npix / 1e6):.0f}", f"{mv / npix:.0f}", mb(mt), mb(g_rss)]
    if len(paths) > 1:
        row[0] += f" ({os.cpu_count()} threads; 1 thread: V {res['v1'][0]:.2f} s, T {res['t1'][0]:.2f} s)"
    rows.append(row)
    print(name, "done", flush=True)

table("Cubical persistent homology, H0..H(d-1) with birth/death coordinates (best of 3; 1 run for the large cases)",
      rows, ["case", "toposcope V", "toposcope T", "GUDHI T", "GUDHI/ours (T)", "V ms/MP", "V bytes/px",
             "peak T", "peak GUDHI"])
