"""Cross-checks of core/image against the reference tools (Debian's python3):
Otsu vs skimage.filters.threshold_otsu, EDT vs scipy.ndimage, Sobel/Scharr
vs skimage.filters, Kaji's field vs a NumPy transcription of
random_image.py, JPEG/PNG/PGM/.npy decoding vs PIL and NumPy, and the grey
and signed-distance filtrations vs PHdict.py's recipe."""
import atexit
import os
import shutil
import subprocess
import sys
import tempfile

from tstest import Checks, require

np = require("numpy")
filters = require("skimage.filters")
ndi = require("scipy.ndimage")
Image = require("PIL.Image")

PROBE = sys.argv[1]
c = Checks()
tmp = tempfile.mkdtemp(prefix="images-ref-")
atexit.register(shutil.rmtree, tmp, True)
rng = np.random.default_rng(7)


def probe(*args):
    p = subprocess.run([PROBE] + [str(a) for a in args], capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"image-probe {' '.join(map(str, args))}: {p.stderr}")
    return p.stdout


def path(name):
    return os.path.join(tmp, name)


# --- Otsu: bit-identical to skimage on many random inputs -------------------
for trial in range(60):
    kind = trial % 4
    shape = (int(rng.integers(2, 70)), int(rng.integers(2, 70)))
    if kind == 0:
        a = rng.random(shape)
    elif kind == 1:
        a = rng.normal(size=shape) * 1e3
    elif kind == 2:  # few distinct values: ties on bin edges
        a = rng.integers(0, 5, size=shape).astype(np.float64) / 4
    else:  # bimodal with outliers
        a = np.where(rng.random(shape) < 0.3, rng.normal(0, 1, shape), rng.normal(10, 2, shape))
    if a.max() == a.min():
        continue
    np.save(path("o.npy"), a)
    got = float(probe("otsu", path("o.npy")))
    want = float(filters.threshold_otsu(a))
    c.check(got == want, f"otsu trial {trial}: {got!r} vs skimage {want!r}")

# --- EDT vs scipy (exact) ---------------------------------------------------
for trial in range(30):
    shape = (int(rng.integers(1, 60)), int(rng.integers(1, 60)))
    m = (rng.random(shape) < rng.choice([0.02, 0.3, 0.9, 0.995])).astype(np.uint8)
    if trial == 0:
        m[:] = 1
        m[0, 0] = 0
    np.save(path("m.npy"), m)
    probe("edt", path("m.npy"), path("d.npy"))
    got = np.load(path("d.npy"))
    if m.all():
        c.check(np.isinf(got).all(), "edt of a mask with no zero is +inf")
        continue
    want = ndi.distance_transform_edt(m)
    c.check(np.array_equal(got, want), f"edt trial {trial} {shape}: max diff {np.abs(got - want).max()}")

# --- Sobel / Scharr magnitudes vs skimage -----------------------------------
for op in ["sobel", "scharr"]:
    a = rng.random((37, 53)) * 255
    np.save(path("g.npy"), a)
    probe(op, path("g.npy"), path("go.npy"))
    got = np.load(path("go.npy"))
    want = getattr(filters, op)(a)
    c.check(np.allclose(got, want, rtol=1e-12, atol=1e-9), f"{op}: max diff {np.abs(got - want).max()}")

# --- Kaji's field vs random_image.py's recipe --------------------------------
from scipy.fft import fft2, ifft2  # noqa: E402

for n, alpha, beta in [(64, 1.0, 1.5), (33, 0.01, 0.5), (128, 0.7, 2.0), (16, 1.0, 1.0)]:
    noise = rng.random((n, n))
    np.save(path("noise.npy"), noise)
    probe("field", "kaji", alpha, beta, path("noise.npy"), path("f.npy"))
    got = np.load(path("f.npy"))
    x = np.linspace(1, 1 + alpha * n, n)
    X, Y = np.meshgrid(x, x)
    want = ifft2(fft2(noise) / (X**2 + Y**2) ** beta).real
    # float32 transforms: the error relative to the field's range (what the
    # 8-bit picture sees) must stay far below one grey level (1/255)
    err = np.abs(got - want).max() / np.ptp(want)
    c.check(err < 2e-5, f"kaji field n={n} alpha={alpha} beta={beta}: error {err:.3g} of the range")

# radial: amplitude exactly |k|^-beta, no DC
n, beta = 64, 1.3
noise = rng.random((n, n))
np.save(path("noise.npy"), noise)
probe("field", "radial", 1, beta, path("noise.npy"), path("f.npy"))
got = np.load(path("f.npy"))
k = np.fft.fftfreq(n) * n
K = np.sqrt(k[None, :] ** 2 + k[:, None] ** 2)
W = np.zeros_like(K)
W[K > 0] = K[K > 0] ** -beta
want = np.fft.ifft2(np.fft.fft2(noise) * W).real
err = np.abs(got - want).max() / np.ptp(want)
c.check(err < 2e-5, f"radial field = ifft2(fft2(noise) |k|^-beta): error {err:.3g} of the range")

# --- decoders vs PIL / NumPy --------------------------------------------------
pic = (rng.random((45, 61, 3)) * 255).astype(np.uint8)
pic[10:30, 10:40] = [200, 30, 90]
grey = (rng.random((29, 17)) * 255).astype(np.uint8)
for arr, ext in [(pic, "png"), (grey, "png"), (pic, "ppm"), (grey, "pgm")]:
    f = path(f"pil.{ext}")
    Image.fromarray(arr).save(f)
    probe("decode", f, path("dec.npy"))
    c.check(np.array_equal(np.load(path("dec.npy")), arr), f"decode PIL-written {ext} {arr.shape}")
for q in (75, 95):
    for arr in (pic, grey):
        f = path("pil.jpg")
        Image.fromarray(arr).save(f, quality=q)
        probe("decode", f, path("dec.npy"))
        got = np.load(path("dec.npy"))
        want = np.asarray(Image.open(f))
        c.check(got.shape == want.shape and np.abs(got.astype(int) - want).max() <= 1,
                f"decode PIL-written JPEG q{q} {arr.shape}: vs PIL max diff "
                f"{np.abs(got.astype(int) - want).max() if got.shape == want.shape else 'shape'}")
# 16-bit PNG and PGM, and .npy variants
w16 = (rng.random((20, 30)) * 65535).astype(np.uint16)
Image.fromarray(w16).save(path("w16.png"))
probe("decode", path("w16.png"), path("dec.npy"))
c.check(np.array_equal(np.load(path("dec.npy")), w16), "decode 16-bit PNG")
for dt in ["<u2", ">u2", "<f4", ">f4", "<f8", ">f8", "u1"]:
    for order in "CF":
        for shape in [(7,), (5, 6), (3, 4, 2), (2, 3, 4, 5)]:
            a = np.asarray(rng.random(shape) * 200, dtype=dt, order=order)
            np.save(path("v.npy"), a)
            probe("decode", path("v.npy"), path("dec.npy"))
            got = np.load(path("dec.npy"))
            c.check(got.shape == a.shape and np.array_equal(got, a.astype(got.dtype)),
                    f".npy {dt} order {order} shape {shape}")
# our encoders, read by PIL (a smooth picture, so JPEG's error is small)
yy, xx = np.mgrid[0:45, 0:61]
pic = np.stack([xx * 4, yy * 5, (xx + yy) * 2], axis=-1).astype(np.uint8)
np.save(path("pic.npy"), pic)
for ext in ["png", "ppm", "jpg"]:
    probe("encode", path("pic.npy"), path(f"ours.{ext}"), 95)
    got = np.asarray(Image.open(path(f"ours.{ext}")).convert("RGB")).astype(int)
    err = np.abs(got - pic)
    c.check(err.max() == 0 if ext != "jpg" else err.mean() < 2, f"PIL reads our {ext}: mean error {err.mean():.3f}")

# --- filtrations vs PHdict.py's recipe ------------------------------------------
pic = (rng.random((45, 61, 3)) * 255).astype(np.uint8)
pic[10:30, 10:40] = [200, 30, 90]
Image.fromarray(pic).save(path("f.png"))
probe("grey", path("f.png"), path("grey.npy"))
g = np.dot(pic[..., :3].astype(np.float64), [0.2989, 0.5870, 0.1140])
c.check(np.allclose(np.load(path("grey.npy")), g, rtol=0, atol=1e-9), "grey = 0.2989 R + 0.5870 G + 0.1140 B")
bw = g >= filters.threshold_otsu(g)
sd = (ndi.distance_transform_edt(bw) - ndi.distance_transform_edt(~bw)) * 256 / pic.shape[0]
probe("filtration", "signed-distance", path("f.png"), path("sd.npy"))
c.check(np.allclose(np.load(path("sd.npy")), sd, rtol=0, atol=1e-9), "signed distance as PHdict.py")
probe("filtration", "distance", path("f.png"), path("d.npy"))
c.check(np.allclose(np.load(path("d.npy")), ndi.distance_transform_edt(~bw) * 256 / pic.shape[0], atol=1e-9),
        "distance = edt(~bw) x 256/height")
Image.fromarray(np.full((9, 9), 77, np.uint8)).save(path("const.png"))
out = probe("filtration", "signed-distance", path("const.png"), path("c.npy"))
c.check("constant" in out and not np.load(path("c.npy")).any(), "a constant picture is flagged and all zero")
# --- the generator's grey is PIL's convert('L') of its colour picture ------------
# The colour draw happens either way, so --prob-colour 1 and 0 give the same
# RGB picture, stored as RGB in one run and as grey in the other.
from tstest import run  # noqa: E402

os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")
for pc in ("1", "0"):
    run(["generate", "-o", path(f"gen{pc}"), "--no-store", "--size", "40", "-n", "12", "--val", "0", "--seed", "5",
         "--format", "png", "--prob-colour", pc, "--alpha-range", "0.2", "1"])
same = 0
for i in range(12):
    rgb = Image.open(path(f"gen1/train/t{i:08d}.png"))
    grey = Image.open(path(f"gen0/train/t{i:08d}.png"))
    same += rgb.mode == "RGB" and grey.mode == "L" and np.array_equal(np.asarray(rgb.convert("L")), np.asarray(grey))
c.check(same == 12, f"grey pictures equal PIL's convert('L') of the colour ones ({same} of 12)")
c.finish()
