"""Cross-checks of Canny edges and resizing (core/image) against reference
implementations, on random inputs of many sizes:
- Canny against skimage.feature.canny (same sigma and thresholds): the same
  edge map, pixel for pixel;
- bilinear resizing against skimage.transform.resize(order=1, mode='edge',
  anti_aliasing=False), up and down;
- area resizing against a plain exact-coverage average written here (each
  output pixel the mean of the input over its box, pixels cut by the box
  weighted by the part inside), and against
  skimage.transform.downscale_local_mean for integer factors.
(PIL's BOX filter is not a reference: it differs from exact coverage by up
to half the value range on random data.)"""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile

from tstest import Checks, require

np = require("numpy")
feature = require("skimage.feature")
transform = require("skimage.transform")
ndi = require("scipy.ndimage")

PROBE = sys.argv[1]
c = Checks()
tmp = tempfile.mkdtemp(prefix="canny-resize-")
atexit.register(shutil.rmtree, tmp, True)
rng = np.random.default_rng(11)
IN, OUT = os.path.join(tmp, "in.npy"), os.path.join(tmp, "out.npy")


def probe(*args):
    subprocess.run([PROBE] + [str(a) for a in args], check=True, capture_output=True)
    return np.load(OUT)


# --- Canny: the same edges as skimage -------------------------------------
for trial in range(40):
    h, w = (int(x) for x in rng.integers(8, 120, 2))
    blur = float(rng.uniform(0.5, 4))
    a = ndi.gaussian_filter(rng.random((h, w)), blur) * float(rng.uniform(0.5, 50))
    if trial % 5 == 0:  # steps and flat regions: ties in the magnitudes
        a = np.round(a * 4) / 4
    sigma = float(rng.choice([0.7, 1.0, 1.5, 2.0, 3.0]))
    g = np.hypot(*np.gradient(ndi.gaussian_filter(a, sigma)))
    lo = float(np.quantile(g, rng.uniform(0.3, 0.7)))
    hi = float(np.quantile(g, rng.uniform(0.7, 0.95)))
    np.save(IN, a)
    ours = probe("canny", repr(sigma), repr(lo), repr(hi), IN, OUT).astype(bool)
    ref = feature.canny(a, sigma=sigma, low_threshold=lo, high_threshold=hi)
    c.check(np.array_equal(ours, ref),
            f"canny {h}x{w} sigma {sigma}: {int((ours != ref).sum())} of {h * w} pixels differ "
            f"({int(ref.sum())} edges in skimage's)")


# --- bilinear: skimage's order-1 resize, up and down ------------------------
for trial in range(30):
    h, w = (int(x) for x in rng.integers(2, 150, 2))
    oh, ow = (int(x) for x in rng.integers(1, 200, 2))
    a = rng.random((h, w))
    np.save(IN, a)
    ours = probe("resize", "bilinear", oh, ow, IN, OUT)
    ref = transform.resize(a, (oh, ow), order=1, mode="edge", anti_aliasing=False)
    err = float(np.abs(ours - ref).max())
    c.check(err < 1e-12, f"bilinear {h}x{w} -> {oh}x{ow}: max difference {err:g}")


# --- area: exact coverage -----------------------------------------------------
def coverage(n, on):
    """on x n matrix: row y averages the input over [y n/on, (y+1) n/on)."""
    m = np.zeros((on, n))
    s = n / on
    for y in range(on):
        lo, hi = y * s, (y + 1) * s
        for i in range(int(np.floor(lo)), min(n, int(np.ceil(hi)))):
            m[y, i] = max(0.0, min(hi, i + 1) - max(lo, i))
    return m / m.sum(1, keepdims=True)


for trial in range(30):
    h, w = (int(x) for x in rng.integers(2, 150, 2))
    oh, ow = int(rng.integers(1, h + 1)), int(rng.integers(1, w + 1))
    a = rng.random((h, w))
    np.save(IN, a)
    ours = probe("resize", "area", oh, ow, IN, OUT)
    ref = coverage(h, oh) @ a @ coverage(w, ow).T
    err = float(np.abs(ours - ref).max())
    c.check(err < 1e-12, f"area {h}x{w} -> {oh}x{ow}: max difference {err:g}")

for trial in range(10):
    fy, fx = (int(x) for x in rng.integers(1, 6, 2))
    oh, ow = (int(x) for x in rng.integers(1, 40, 2))
    a = rng.random((oh * fy, ow * fx))
    np.save(IN, a)
    ours = probe("resize", "area", oh, ow, IN, OUT)
    ref = transform.downscale_local_mean(a, (fy, fx))
    err = float(np.abs(ours - ref).max())
    c.check(err < 1e-12, f"area by ({fy}, {fx}) against downscale_local_mean: max difference {err:g}")

c.finish()
