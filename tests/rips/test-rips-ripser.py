"""`toposcope rips` against the `ripser` command on the same files: random
clouds, clouds with known homology (circle, sphere, torus), every distance
format; and the representative edges' lengths."""
import math
import os
import struct
import tempfile

from riputil import RIPSER, diagram, ripser, same, toposcope_rips
from tstest import Checks, require

np = require("numpy")
if not os.path.exists(RIPSER):
    import sys
    print("SKIP: the ripser command is not installed (Debian package ripser)")
    sys.exit(77)

c = Checks()
rng = np.random.default_rng(6)
_tmpdir = tempfile.TemporaryDirectory(prefix="rips-test-")  # removed at exit
tmp = _tmpdir.name


def compare(name, path, fmt_ts, fmt_rip, maxdim, thr=None, X=None):
    opts = ["--format", fmt_ts, "--maxdim", str(maxdim)] + (["--threshold", str(thr)] if thr else [])
    a = toposcope_rips(path, *opts)
    b = ripser(path, fmt_rip, maxdim, thr)
    for k in range(maxdim + 1):
        ok, why = same(diagram(a, k), diagram(b, k))
        c.check(ok, f"{name}: H{k} differs from ripser: {why}")
    if X is not None:  # representative edges: |x_i - x_j| = birth / death
        worst = 0.0
        for dim, b_, d_, bi, bj, di, dj in a:
            if dim > 0:
                worst = max(worst, abs(np.linalg.norm(X[bi] - X[bj]) - b_))
            if not math.isinf(d_):
                worst = max(worst, abs(np.linalg.norm(X[di] - X[dj]) - d_))
        c.check(worst < 1e-5, f"{name}: representative edge lengths off by {worst}")
    return a


def cloud(name, X, maxdim, thr=None):
    p = os.path.join(tmp, name + ".txt")
    np.savetxt(p, X, delimiter=",", fmt="%.9g")
    return compare(name, p, "points", "point-cloud", maxdim, thr, X)


def long_bars(pairs, dim, minlen):
    return [p for p in pairs if p[0] == dim and p[2] - p[1] > minlen]


for t in range(8):
    n, d = int(rng.integers(40, 160)), int(rng.integers(2, 5))
    X = rng.random((n, d))
    if t % 2:
        X = np.round(X * 4) / 4  # a grid: many equal distances
    cloud(f"random{t}", X, 2, None if t % 3 else 0.5)

theta = rng.random(200) * 2 * np.pi
circle = np.c_[np.cos(theta), np.sin(theta)] + 0.03 * rng.normal(size=(200, 2))
a = cloud("circle", circle, 1)
c.check(len(long_bars(a, 1, 1.0)) == 1, "circle: one long H1 bar")

S = rng.normal(size=(150, 3))
S /= np.linalg.norm(S, axis=1, keepdims=True)
a = cloud("sphere", S, 2)
c.check(len(long_bars(a, 2, 0.5)) == 1 and len(long_bars(a, 1, 0.5)) == 0, "sphere: one long H2 bar, no H1")

u, v = np.meshgrid(np.arange(24) * 2 * np.pi / 24, np.arange(12) * 2 * np.pi / 12)
u, v = u.ravel() + 0.02 * rng.normal(size=u.size), v.ravel() + 0.02 * rng.normal(size=u.size)
T = np.c_[(2 + np.cos(v)) * np.cos(u), (2 + np.cos(v)) * np.sin(u), np.sin(v)]
a = cloud("torus", T, 2)
c.check(len(long_bars(a, 1, 1.0)) == 2 and len(long_bars(a, 2, 0.5)) == 1,
        f"torus: two long H1 bars and one H2, got {long_bars(a, 1, 1.0)} {long_bars(a, 2, 0.5)}")

# batches as the TopoVAE sees them: 128 images of 784 pixels in [0, 1],
# half of them zero, each image one point
for t in range(3):
    B = rng.random((128, 784)) * (rng.random((128, 784)) < 0.5)
    cloud(f"batch784-{t}", B.astype(np.float32).astype(np.float64), 1)

# every distance-matrix format, on the same matrix
X = rng.random((60, 3))
D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
D[rng.random(D.shape) < 0.1] = 0  # ties at zero (symmetrised below)
D = np.minimum(D, D.T)
np.fill_diagonal(D, 0)
n = len(D)
p = os.path.join(tmp, "full.txt")
np.savetxt(p, D, fmt="%.9g")
compare("distance", p, "distance", "distance", 2)
lo = [D[i, j] for i in range(n) for j in range(i)]
p = os.path.join(tmp, "lower.txt")
with open(p, "w") as f:
    for i in range(1, n):
        f.write(",".join(f"{D[i, j]:.9g}" for j in range(i)) + "\n")
compare("lower-distance", p, "lower-distance", "lower-distance", 2)
compare("lower-distance thr", p, "lower-distance", "lower-distance", 2, 0.4)
p = os.path.join(tmp, "upper.txt")
with open(p, "w") as f:
    for i in range(n - 1):
        f.write(" ".join(f"{D[i, j]:.9g}" for j in range(i + 1, n)) + "\n")
compare("upper-distance", p, "upper-distance", "upper-distance", 2)
p = os.path.join(tmp, "m.dipha")
with open(p, "wb") as f:
    f.write(struct.pack("<qqq", 8067171840, 7, n))
    f.write(D.astype("<f8").tobytes())
compare("dipha", p, "dipha", "dipha", 2)
p = os.path.join(tmp, "graph.txt")
with open(p, "w") as f:
    for i in range(n):
        for j in range(i):
            if D[i, j] < 0.5:
                f.write(f"{i} {j} {D[i, j]:.9g}\n")
compare("sparse", p, "sparse", "sparse", 2)
c.finish()
