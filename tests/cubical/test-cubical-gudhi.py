"""toposcope ph against GUDHI's CubicalComplex (python3-gudhi 3.7), through
the command line: T-construction directly (top_dimensional_cells=), the
V-construction through the doubled array that holds every cell's value
(pixels at even positions, the cells between them at the max of their
pixels), whose T-construction has the same diagram. Also the output formats
and malformed input."""
import os
import struct
import tempfile

import numpy as np

from cubical_cells import doubled
from tstest import Checks, require, run

gudhi = require("gudhi")
c = Checks()
tmp = tempfile.mkdtemp(prefix="cubical-gudhi-")
rng = np.random.default_rng(42)


def smooth(shape, beta=2.0):
    """A 1/f^beta random field (smooth, few features)."""
    k = np.meshgrid(*[np.fft.fftfreq(s) for s in shape], indexing="ij")
    r = np.sqrt(sum(x * x for x in k))
    r[(0,) * len(shape)] = 1
    spec = np.fft.fftn(rng.standard_normal(shape)) / r ** (beta / 2)
    return np.real(np.fft.ifftn(spec))


def gudhi_pairs(a, superlevel=False):
    """Sublevel pairs of the T-construction of a; superlevel: of -a, negated back."""
    cc = gudhi.CubicalComplex(top_dimensional_cells=-a if superlevel else a)
    res = []
    for dim, (b, d) in cc.persistence(homology_coeff_field=2, min_persistence=0):
        if superlevel:
            b, d = -b, -d
        res.append((dim, float(b), float(d)))
    return sorted(res)


def ours(a, *opts):
    path = os.path.join(tmp, "in.npy")
    out = os.path.join(tmp, "out.npy")
    np.save(path, a)
    run(["ph", path, "-o", out] + list(opts))
    m = np.load(out)
    return m


def as_pairs(m):
    return sorted((int(r[0]), float(r[1]), float(r[2])) for r in m)


def check_locations(a, m, what):
    ok = True
    nd = a.ndim
    for r in m:
        bi = tuple(int(x) for x in r[3:3 + nd])
        if a[bi] != r[1]:
            ok = False
        if np.isfinite(r[2]):
            di = tuple(int(x) for x in r[6:6 + nd])
            if a[di] != r[2]:
                ok = False
    c.check(ok, f"{what}: birth/death coordinates give the birth/death values")


def compare(a, name):
    for cons in ("t", "v"):
        for sup in (False, True):
            opts = ["--construction", cons] + (["--superlevel"] if sup else [])
            m = ours(a, *opts)
            if cons == "t":
                ref = gudhi_pairs(a, sup)
            else:  # superlevel V of a is sublevel V of -a
                ref = gudhi_pairs(-doubled(-a) if sup else doubled(a), sup)
            got = as_pairs(m)
            what = f"{name} {a.shape} {cons}{' superlevel' if sup else ''}"
            c.check(got == ref, f"{what}: {len(got)} pairs, GUDHI {len(ref)}"
                    + ("" if got == ref else f"; first differences {sorted(set(got) ^ set(ref))[:4]}"))
            check_locations(a, m, what)


compare(rng.random((64, 80)), "noise")
compare(rng.integers(0, 6, (50, 40)).astype(np.float64), "ties")
compare(smooth((96, 96)), "smooth")
compare(rng.integers(0, 255, (1, 30)).astype(np.float64), "one row")
compare(rng.random((12, 13, 11)), "noise 3D")
compare(rng.integers(0, 4, (10, 9, 12)).astype(np.float64), "ties 3D")
compare(smooth((16, 16, 16)), "smooth 3D")
compare(rng.random(200), "noise 1D")

# The same picture as PNG and .npy give the same diagram (8-bit grey).
img = rng.integers(0, 256, (33, 47)).astype(np.uint8)
np.save(os.path.join(tmp, "img.npy"), img)
with open(os.path.join(tmp, "img.pgm"), "wb") as f:
    f.write(b"P5\n47 33\n255\n" + img.tobytes())
p1 = run(["ph", os.path.join(tmp, "img.npy")]).stdout
p2 = run(["ph", os.path.join(tmp, "img.pgm")]).stdout
c.check(p1 == p2, "PGM and .npy of one picture give one CSV")
lines = p1.splitlines()
c.check(lines[0] == "dim,birth,death,birth_x,birth_y,birth_z,death_x,death_y,death_z", "CSV header")
c.check(sum(1 for l in lines if ",inf," in l) == 1, "one essential class with death inf")

# Several inputs: one file each in the folder, all three formats agree.
a = rng.random((20, 30))
b = rng.random((7, 8, 9))
np.save(os.path.join(tmp, "a.npy"), a)
np.save(os.path.join(tmp, "b.npy"), b)
for fmt in ("csv", "npy", "dipha"):
    run(["ph", os.path.join(tmp, "a.npy"), os.path.join(tmp, "b.npy"), "-o", os.path.join(tmp, "many"),
         "--format", fmt, "--threads", "2"])
for stem, arr in (("a", a), ("b", b)):
    ref = gudhi_pairs(doubled(arr))
    csv = np.genfromtxt(os.path.join(tmp, "many", stem + ".csv"), delimiter=",", skip_header=1)
    c.check(as_pairs(csv) == ref, f"{stem}.csv matches GUDHI")
    c.check(as_pairs(np.load(os.path.join(tmp, "many", stem + ".npy"))) == ref, f"{stem}.npy matches GUDHI")
    with open(os.path.join(tmp, "many", stem + ".dipha"), "rb") as f:
        magic, kind, n = struct.unpack("<qqq", f.read(24))
        rows = [struct.unpack("<qdd", f.read(24)) for _ in range(n)]
    c.check(magic == 8067171840 and kind == 2, "DIPHA header")
    dip = sorted((d if d >= 0 else -d - 1, bb, dd) for d, bb, dd in rows)
    c.check(dip == ref, f"{stem}.dipha matches GUDHI")

# Options: threshold, min persistence, maxdim.
a = rng.random((30, 30))
full = as_pairs(ours(a))
m = as_pairs(ours(a, "--min-persistence", "0.3"))
c.check(m == [p for p in full if p[2] - p[1] > 0.3], "--min-persistence drops the short pairs")
m = as_pairs(ours(a, "--maxdim", "0"))
c.check(m == [p for p in full if p[0] == 0], "--maxdim 0 keeps H0 only")
m = as_pairs(ours(a, "--threshold", "0.5"))
ref = []
for dim, bb, dd in full:  # the sublevel complex at 0.5: deaths beyond it become essential
    if bb <= 0.5:
        ref.append((dim, bb, dd if dd <= 0.5 else float("inf")))
c.check(m == sorted(ref), "--threshold: pairs of the complex up to T")

# Malformed input: a clear error naming the file, never a crash.
def fails(arr_or_bytes, name, needle):
    path = os.path.join(tmp, name)
    if isinstance(arr_or_bytes, bytes):
        with open(path, "wb") as f:
            f.write(arr_or_bytes)
    else:
        np.save(path, arr_or_bytes)
    p = run(["ph", path], check=False)
    c.check(p.returncode == 1 and name in p.stderr and needle in p.stderr,
            f"{name}: exit {p.returncode}, stderr {p.stderr.strip()!r} (wanted {needle!r})")


nan = rng.random((5, 5))
nan[2, 3] = np.nan
fails(nan, "nan.npy", "NaN")
fails(np.zeros((0, 4)), "empty.npy", "")
fails(np.zeros((2, 2, 2, 2, 2)), "five.npy", "")
fails(b"\x93NUMPY garbage", "broken.npy", "")
p = run(["ph", os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")], check=False)
c.check(p.returncode == 2, "several inputs without -o is a usage error")
np.save(os.path.join(tmp, "one.npy"), np.array([[3.5]]))
p = run(["ph", os.path.join(tmp, "one.npy")])
c.check(p.stdout.splitlines()[1:] == ["0,3.5,inf,0,0,-1,-1,-1,-1"], f"1x1 image: {p.stdout!r}")
c.finish()
