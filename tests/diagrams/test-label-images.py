"""Kaji's label pipeline on pictures, end to end, against the NumPy + SciPy
EDT + scikit-image Otsu + GUDHI transcription in kajiref.py: the labels of
`toposcope label` and `toposcope vectorize IMAGE` equal the reference."""
import os
import shutil
import struct
import tempfile

from tstest import Checks, require, run

np = require("numpy")
require("gudhi")
require("scipy.ndimage")
require("skimage.filters")
import kajiref  # noqa: E402

C = Checks()
rng = np.random.default_rng(11)
tmp = tempfile.mkdtemp(prefix="diagrams-labimg-")
data = os.path.join(tmp, "imgs")
os.makedirs(os.path.join(data, "train"))
pics = {}
for k in range(5):
    h, w = (40, 56) if k % 2 else (48, 48)
    pic = kajiref.smooth_picture(rng, h, w, beta=1.5 + 0.3 * k)
    name = f"train/p{k}.pgm"
    kajiref.write_pgm(os.path.join(data, name), pic)
    pics[name] = pic
kajiref.write_pgm(os.path.join(data, "train", "flat.pgm"), np.full((20, 20), 7))  # constant: empty diagram
pics["train/flat.pgm"] = np.full((20, 20), 7)
with open(os.path.join(data, "train", "broken.pgm"), "wb") as f:
    f.write(b"P5\n40 40\n255\n" + b"\0" * 100)  # truncated: reported, skipped

cache = os.path.join(tmp, "l.tslabels")
p = run(["label", data, "-o", cache, "--store", os.path.join(tmp, "s.sqlite"), "--max-life", "80", "60"])
C.check("broken.pgm" in p.stderr, f"truncated picture reported: {p.stderr!r}")
raw = open(cache, "rb").read()
_, _, nd, nb, plen, count, complete, rowb, off = struct.unpack_from("<8sIIIIQIIQ", raw, 0)
rows = {}
for i in range(count):
    r = raw[off + i * rowb: off + (i + 1) * rowb]
    rows[r[:nb].split(b"\0")[0].decode()] = np.frombuffer(r[nb:], "<f4")
C.check(sorted(rows) == sorted(pics), f"rows {sorted(rows)}")
for name, pic in pics.items():
    ref = kajiref.label_image(pic.astype(float), 200, (80, 60))
    got = rows.get(name)
    C.check(got is not None and np.allclose(got, ref, rtol=1e-5, atol=1e-5),
            f"{name}: max diff {np.max(np.abs(got - ref)) if got is not None else 'missing'}")
# vectorize IMAGE gives the same label, in double precision
out = run(["vectorize", os.path.join(data, "train", "p0.pgm"), "--max-life", "80", "60"]).stdout
v = np.array([float(x) for x in out.strip().split(",")[1:]])
C.check(np.allclose(v, kajiref.label_image(pics["train/p0.pgm"].astype(float), 200, (80, 60)), rtol=1e-9, atol=1e-9),
        "vectorize on a picture")
shutil.rmtree(tmp)
C.finish()
