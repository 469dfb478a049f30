"""Rips PH: `toposcope rips` against the `ripser` command (Debian's ripser
1.2.1) on the same files, in the same run: best wall time of 3 and peak RSS.
Cases: 192 points on S^3 (dim 2); 1024 random rotation matrices as points of
R^9 (dim 3, threshold 1.8, the shape of Ripser's o3_1024); 2000 uniform points
in the unit cube of R^3 (dim 1); the correlation distance matrix 1 - |r| of
1500 signals driven by shared latent factors (dim 2, threshold 0.6)."""
import os
import sys
import tempfile

import numpy as np

from tsbench import run_cmd, table

EXE = os.environ["TOPOSCOPE"]
RIPSER = "/usr/bin/ripser"


def rotations(rng, n):
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    m = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
                  2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
                  2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], axis=1)
    return m


def main():
    rng = np.random.default_rng(0)
    tmp = tempfile.mkdtemp(prefix="rips-bench-")
    cases = []

    s3 = rng.normal(size=(192, 4))
    s3 /= np.linalg.norm(s3, axis=1, keepdims=True)
    p = os.path.join(tmp, "sphere_3_192.txt")
    np.savetxt(p, s3, fmt="%.9g")
    cases.append(("sphere_3_192, dim 2", p, "point-cloud", "points", 2, None))

    p = os.path.join(tmp, "o3_1024.txt")
    np.savetxt(p, rotations(rng, 1024), fmt="%.9g")
    cases.append(("o3_1024, dim 3, t 1.8", p, "point-cloud", "points", 3, 1.8))

    p = os.path.join(tmp, "cube_2000.txt")
    np.savetxt(p, rng.random((2000, 3)), fmt="%.9g")
    cases.append(("random R^3 2000, dim 1", p, "point-cloud", "points", 1, None))

    latent = rng.normal(size=(1000, 12))
    mix = rng.normal(size=(12, 1500)) * (rng.random((12, 1500)) < 0.25)
    sig = latent @ mix + 0.8 * rng.normal(size=(1000, 1500))
    d = 1 - np.abs(np.corrcoef(sig.T))
    np.fill_diagonal(d, 0)
    d = np.clip(d, 0, None)
    iu = np.tril_indices(1500, -1)
    p = os.path.join(tmp, "corr_1500.ldm")
    np.savetxt(p, d[iu][None, :], fmt="%.7g")
    print(f"corr_1500: {np.mean(d[iu] <= 0.6):.1%} of the entries <= 0.6")
    cases.append(("correlation 1500, dim 2, t 0.6", p, "lower-distance", "lower-distance", 2, 0.6))

    rows = []
    for name, path, rfmt, tfmt, dim, thr in cases:
        extra = ["--threshold", str(thr)] if thr is not None else []
        tr, mr = run_cmd([RIPSER, "--format", rfmt, "--dim", str(dim), *extra, path])
        t1, m1 = run_cmd([EXE, "rips", path, "--format", tfmt, "--maxdim", str(dim), *extra, "--threads", "1"])
        t2, m2 = run_cmd([EXE, "rips", path, "--format", tfmt, "--maxdim", str(dim), *extra, "--threads", "2"])
        rows.append([name, f"{tr:.3f}", f"{t1:.3f}", f"{t2:.3f}", f"{t1 / tr:.2f}", f"{t2 / tr:.2f}",
                     f"{mr / 2**20:.1f}", f"{m1 / 2**20:.1f}", f"{m2 / 2**20:.1f}", f"{max(m1, m2) / mr:.2f}"])
        sys.stdout.flush()
    table("Rips PH: wall time (s, best of 3) and peak RSS (MiB); ratios toposcope / ripser",
          rows, ["case", "ripser", "ts 1 thr", "ts 2 thr", "ratio 1", "ratio 2",
                 "ripser MiB", "ts1 MiB", "ts2 MiB", "mem ratio"])


main()
