"""`toposcope probe` against a NumPy + SciPy + ripser-command transcription
of the original code, on the embeddings and signals the probe dumps
(--embeddings): lifespan sums (local and global, H0 and H1), the PH
dimension, the correlation distances (numpy.corrcoef), the functional
graph's diagram (the ripser command with the same threshold) and its Betti
curves, average life and midlife (bettis.py / visualise.py transcribed)."""
import json
import math
import os
import subprocess
import sys
import tempfile

from tstest import Checks, require, run

np = require("numpy")
ndimage = require("scipy.ndimage")
RIPSER = "/usr/bin/ripser"
if not os.path.exists(RIPSER):
    if os.environ.get("CI") == "true":
        print("FAIL (CI must have it): no ripser command")
        sys.exit(1)
    print("SKIP: no ripser command")
    sys.exit(77)
c = Checks()


def ripser(text, fmt, maxdim, threshold=None):
    args = [RIPSER, "--format", fmt, "--dim", str(maxdim)]
    if threshold is not None:
        args += ["--threshold", str(threshold)]
    out = subprocess.run(args, input=text, capture_output=True, text=True, check=True).stdout
    pairs, dim = [], None
    for line in out.splitlines():
        if line.startswith("persistence intervals in dim"):
            dim = int(line.split()[-1].rstrip(":"))
        elif line.strip().startswith("[") and dim is not None:
            b, d = line.strip()[1:-1].split(",")
            pairs.append((dim, float(b), math.inf if d.strip() == "" else float(d)))
    return pairs


def lifespans(x, maxdim, alpha=1.0):
    """seed 002: Rips of the point cloud, sum of 0.5 (d - b)^alpha over finite bars."""
    if len(x) < 2:
        return [0.0, 0.0]
    text = "\n".join(",".join(repr(float(v)) for v in row) for row in x)
    s = [0.0, 0.0]
    # ripser 1.2's --dim 0 trips an assertion on some clouds (binomial table), so always ask for H1
    for dim, b, d in ripser(text, "point-cloud", 1):
        if math.isfinite(d) and dim <= maxdim:
            s[dim] += 0.5 * (d - b) ** alpha
    return s


def minmax(x):
    lo, hi = x.min(0), x.max(0)
    span = hi - lo
    return np.where(span > 0, (x - lo) / np.where(span > 0, span, 1), 0.0)


def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-9)


tmp = tempfile.mkdtemp(prefix="probe-ref-")
store = os.path.join(tmp, "s.sqlite")
ck = os.path.join(tmp, "ld.safetensors")
run(["train", "--model", "lenet-dnn", "--data", "fashion-mnist", "--limit", "1500", "--val", "none", "--epochs", "1",
     "--batch", "64", "--seed", "3", "--save", ck, "--store", store, "--quiet"])

# ---- lifespans (local, H0 + H1), PH dimension -------------------------------------------------------
dump = os.path.join(tmp, "dump")
os.mkdir(dump)
out = os.path.join(tmp, "p.json")
run(["probe", ck, "--data", "fashion-mnist", "--limit", "500", "--samples", "400", "--what", "lifespans,phdim",
     "--hom-dim", "1", "--per-class", "30", "--phdim-start", "100", "--phdim-step", "70", "--seed", "5",
     "--embeddings", dump, "-o", out, "--store", store, "--threads", "2"])
res = json.load(open(out))["probes"][0]["probe"]
labels = np.load(os.path.join(dump, "labels.npy")).ravel().astype(int)
c.check(len(labels) == 400, f"400 samples, not {len(labels)}")
for k, layer in enumerate(res["layers"]):
    emb = np.load(os.path.join(dump, f"emb-{k}.npy"))
    x = minmax(emb)
    per = []
    for cl in range(10):
        rows = np.nonzero(labels == cl)[0][:30]
        if len(rows):
            per.append(lifespans(x[rows], 1))
    want = np.mean(np.array(per), axis=0)
    c.check(rel(layer["lifespan_h0"], want[0]) < 1e-4, f"{layer['name']}: local L0 {layer['lifespan_h0']} vs {want[0]}")
    c.check(rel(layer["lifespan_h1"], want[1]) < 1e-3, f"{layer['name']}: local L1 {layer['lifespan_h1']} vs {want[1]}")
    # the probe's PH dimension is toposcope phdim's on the same (unscaled) embedding and seed ...
    pts = os.path.join(tmp, f"emb-{k}.csv")
    np.savetxt(pts, emb, delimiter=",", fmt="%.9g")
    ph = run(["phdim", pts, "--n-start", "100", "--step", "70", "--seed", "5"]).stdout
    phdim = float([l for l in ph.splitlines() if l.startswith("phdim:")][0].split()[1])
    c.check(rel(layer["phdim"], phdim) < 1e-5, f"{layer['name']}: phdim {layer['phdim']} vs toposcope phdim {phdim}")
    # ... and agrees with seed 002's recipe on its own random draws up to sampling noise
    rng = np.random.default_rng(11)
    ns, es = list(range(100, 400, 70)), []
    for n in ns:
        sub = emb[rng.choice(len(emb), n, replace=False)]
        es.append(lifespans(sub, 0)[0])
    m = np.polyfit(np.log(ns), np.log(es), 1)[0]
    ref = 1.0 / (1.0 - m)
    c.check(abs(layer["phdim"] - ref) < 0.25 * abs(ref), f"{layer['name']}: phdim {layer['phdim']} vs transcription {ref}")
    print(f"{layer['name']}: L0 {layer['lifespan_h0']:.6g} (ref {want[0]:.6g}), L1 {layer['lifespan_h1']:.6g} "
          f"(ref {want[1]:.6g}), phdim {layer['phdim']:.4f} (own draws {ref:.4f})")

# global mode, classes 0..8 option
run(["probe", ck, "--data", "fashion-mnist", "--limit", "300", "--samples", "300", "--global",
     "--embeddings", dump, "-o", out, "--store", store])
res = json.load(open(out))["probes"][0]["probe"]
for k, layer in enumerate(res["layers"]):
    x = minmax(np.load(os.path.join(dump, f"emb-{k}.npy")))
    want = lifespans(x, 0)[0]
    c.check(rel(layer["lifespan_h0"], want) < 1e-4, f"{layer['name']}: global L0 {layer['lifespan_h0']} vs {want}")
run(["probe", ck, "--data", "fashion-mnist", "--limit", "300", "--samples", "300", "--classes-0-8", "--per-class",
     "20", "--embeddings", dump, "-o", out, "--store", store])
res = json.load(open(out))["probes"][0]["probe"]
labels = np.load(os.path.join(dump, "labels.npy")).ravel().astype(int)
x = minmax(np.load(os.path.join(dump, "emb-0.npy")))
want = np.mean([lifespans(x[np.nonzero(labels == cl)[0][:20]], 0)[0] for cl in range(9)])
c.check(rel(res["layers"][0]["lifespan_h0"], want) < 1e-4, f"classes 0..8: {res['layers'][0]['lifespan_h0']} vs {want}")

# ---- functional graph -------------------------------------------------------------------------------
dg = os.path.join(tmp, "g.csv")
for f16 in (False, True):
    args = ["probe", ck, "--data", "fashion-mnist", "--limit", "400", "--what", "graph", "--graph-images", "300",
            "--graph-layers", "relu2,relu3,log_softmax", "--embeddings", dump, "-o", out, "--graph-diagram", dg,
            "--store", store, "--threads", "2"]
    if f16:
        args += ["--float16", "--midlife", "original"]
    run(args)
    g = json.load(open(out))["probes"][0]["probe"]["graph"]
    sig = np.load(os.path.join(dump, "graph-signals.npy"))
    c.check(sig.shape == (380, 300), f"signals shape {sig.shape}")
    if f16:
        c.check(np.array_equal(sig, sig.astype(np.float16).astype(np.float64)), "float16 signals are float16 values")
    r = np.nan_to_num(np.corrcoef(sig))
    dist = 1 - np.abs(r)
    low = np.load(os.path.join(dump, "graph-distances.npy")).ravel()
    n = sig.shape[0]
    ii, jj = np.tril_indices(n, -1)
    order = np.lexsort((jj, ii))
    want_low = dist[ii[order], jj[order]]
    err = np.abs(low - want_low).max()
    # a float32 SGEMM against float64: ~1e-6 typical over a few hundred samples
    c.check(err < 1e-5, f"correlation distances vs numpy.corrcoef: max error {err:.3g}")
    print(f"correlation distances: max |ours - numpy.corrcoef| = {err:.3g}")
    # the diagram against ripser on the same (float32) distances, same threshold (edges up to 2 x 0.3)
    text = " ".join(f"{v:.9g}" for v in low)
    ref = ripser(text, "lower-distance", 2, 0.6)
    ours = []
    with open(dg) as f:
        next(f)
        for line in f:
            d, b, e = line.strip().split(",")[:3]
            ours.append((int(d), float(b), math.inf if e == "inf" else float(e)))
    for q in range(3):
        a = sorted((b, d) for dd, b, d in ours if dd == q and d - b > 1e-6)
        w = sorted((b, d) for dd, b, d in ref if dd == q and d - b > 1e-6)
        ok = len(a) == len(w) and all((abs(x[0] - y[0]) < 1e-5 and (x[1] == y[1] or abs(x[1] - y[1]) < 1e-5))
                                      for x, y in zip(a, w))
        c.check(ok, f"graph H{q}: {len(a)} pairs vs ripser's {len(w)}")
    # summaries of our diagram (distance units, 9 digits): transcription of read_pd, pd2betti (as a
    # direct count), uniform_filter1d, norm_x_axis, pd2life, pd2midlife
    grid = np.linspace(0.05, 0.4, 200)
    for q in range(3):
        b = [float("{0:.4f}".format(x / 2)) for dd, x, y in ours if dd == q and math.isfinite(y)]
        d = [float("{0:.4f}".format(y / 2)) for dd, x, y in ours if dd == q and math.isfinite(y)]
        keep = [i for i in range(len(b)) if d[i] - b[i] > 0.02]
        b, d = [b[i] for i in keep], [d[i] for i in keep]
        c.check(g["pairs"][q] == len(b), f"H{q}: {g['pairs'][q]} pairs after the filters vs {len(b)}")
        if not b:
            continue
        life = np.mean(np.array(d) - np.array(b))
        mid = np.mean(np.array(d) + np.array(b) / 2) if f16 else np.mean((np.array(d) + np.array(b)) / 2)
        c.check(rel(g["avglife"][q], life) < 1e-6, f"H{q} avg life {g['avglife'][q]} vs {life}")
        c.check(rel(g["midlife"][q], mid) < 1e-6, f"H{q} midlife {g['midlife'][q]} vs {mid}")
        x = sorted(b + d)
        # direct count at each event value, then the original's smoothing and resampling
        beta = np.array([sum(v <= t for v in b) - sum(v <= t for v in d) for t in x], dtype=float)
        size = int(len(beta) / 10)
        sm = ndimage.uniform_filter1d(beta, size=size, mode="constant") if size >= 1 else beta
        curve = np.array([sm[np.argmin([abs(a - t) for t in x])] for a in grid])
        err = np.abs(np.array(g["betti"][q]) - curve).max()
        c.check(err < 1e-9, f"H{q} Betti curve: max error {err:.3g}")
    print(f"graph (float16={f16}): pairs {g['pairs']}, avg life {g['avglife']}, midlife {g['midlife']}")
c.finish()
