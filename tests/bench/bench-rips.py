"""Rips PH: `toposcope rips` against the `ripser` command (Debian's ripser
1.2.1) on the same files, in the same run: best wall time of 3 and peak RSS.
Cases: 192 points on S^3 (dim 2); 1024 random rotation matrices as points of
R^9 (dim 3, threshold 1.8, the shape of Ripser's o3_1024); 2000 uniform points
in the unit cube of R^3 (dim 1); the correlation distance matrix 1 - |r| of
1500 signals driven by shared latent factors (dim 2, threshold 0.6).

The data are made by a child process: peak RSS of a command is measured by
wait4, which counts the forked parent's pages too, so the timing process
must stay small (no numpy)."""
import os
import subprocess
import sys
import tempfile

import time

from tsbench import table

EXE = os.environ.get("TOPOSCOPE", "toposcope")
RIPSER = "/usr/bin/ripser"


def run_cmd(args, repeat=3):
    """Best wall time, best CPU time (user + sys) and peak RSS of a command.
    CPU time is reported beside wall time because the benchmark machine may
    be shared: wall time then includes waiting for a core."""
    best, cpu, peak = float("inf"), float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t0
        if status != 0:
            raise RuntimeError(f"{args} failed with status {status}")
        best = min(best, dt)
        cpu = min(cpu, ru.ru_utime + ru.ru_stime)
        peak = max(peak, ru.ru_maxrss * 1024)
    return best, cpu, peak


def orthogonal(rng, n):
    """n random elements of O(3) (half of them reflections) as rows of R^9."""
    import numpy as np
    q = rng.normal(size=(n, 4))
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    m = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
                  2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
                  2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], axis=1)
    m[n // 2:] *= -1
    return m


def generate(tmp):
    import numpy as np
    rng = np.random.default_rng(0)

    s3 = rng.normal(size=(192, 4))
    s3 /= np.linalg.norm(s3, axis=1, keepdims=True)
    np.savetxt(os.path.join(tmp, "sphere_3_192.txt"), s3, fmt="%.9g")
    np.savetxt(os.path.join(tmp, "o3_1024.txt"), orthogonal(rng, 1024), fmt="%.9g")
    np.savetxt(os.path.join(tmp, "cube_2000.txt"), rng.random((2000, 3)), fmt="%.9g")

    latent = rng.normal(size=(1000, 12))
    mix = rng.normal(size=(12, 1500)) * (rng.random((12, 1500)) < 0.25)
    sig = latent @ mix + 0.8 * rng.normal(size=(1000, 1500))
    d = 1 - np.abs(np.corrcoef(sig.T))
    np.fill_diagonal(d, 0)
    d = np.clip(d, 0, None)
    iu = np.tril_indices(1500, -1)
    np.savetxt(os.path.join(tmp, "corr_1500.ldm"), d[iu][None, :], fmt="%.7g")
    print(f"corr_1500: {np.mean(d[iu] <= 0.6):.1%} of the entries <= 0.6")


def main():
    if sys.argv[1:2] == ["generate"]:
        generate(sys.argv[2])
        return
    tmpdir = tempfile.TemporaryDirectory(prefix="rips-bench-")  # removed at exit
    tmp = tmpdir.name
    subprocess.run([sys.executable, __file__, "generate", tmp], check=True)
    j = lambda name: os.path.join(tmp, name)  # noqa: E731
    cases = [("sphere_3_192, dim 2", j("sphere_3_192.txt"), "point-cloud", "points", 2, None),
             ("o3_1024, dim 3, t 1.8", j("o3_1024.txt"), "point-cloud", "points", 3, 1.8),
             ("random R^3 2000, dim 1", j("cube_2000.txt"), "point-cloud", "points", 1, None),
             ("correlation 1500, dim 2, t 0.6", j("corr_1500.ldm"), "lower-distance", "lower-distance", 2, 0.6)]

    rows = []
    for name, path, rfmt, tfmt, dim, thr in cases:
        extra = ["--threshold", str(thr)] if thr is not None else []
        tr, cr, mr = run_cmd([RIPSER, "--format", rfmt, "--dim", str(dim), *extra, path])
        t1, c1, m1 = run_cmd([EXE, "rips", path, "--format", tfmt, "--maxdim", str(dim), *extra, "--threads", "1"])
        t2, c2, m2 = run_cmd([EXE, "rips", path, "--format", tfmt, "--maxdim", str(dim), *extra, "--threads", "2"])
        rows.append([name, f"{tr:.2f} ({cr:.2f})", f"{t1:.2f} ({c1:.2f})", f"{t2:.2f}", f"{t1 / tr:.2f}",
                     f"{c1 / cr:.2f}", f"{t2 / tr:.2f}", f"{mr / 2**20:.1f}", f"{m1 / 2**20:.1f}",
                     f"{m2 / 2**20:.1f}", f"{max(m1, m2) / mr:.2f}"])
        print(f"  {name}: done", flush=True)
    table("Rips PH: wall time s (CPU s), best of 3, peak RSS MiB; ratios toposcope / ripser",
          rows, ["case", "ripser", "ts 1 thread", "ts 2 threads", "wall 1", "cpu 1", "wall 2",
                 "ripser MiB", "ts1 MiB", "ts2 MiB", "mem"])


main()
