"""Topo-GEN's TopoVAE claim, measured: a lockstep TopoVAE (weights
10,10,10,10,0,0,0, batch 128, Adam 5e-4) against the plain VAE trained beside
it from the same weights on the same batches and noise, over several seeds,
topological losses on the outputs and on the latent means. Prints the mean
BCE per image of both over steps 1-50, 51-100, 101-200, over the whole first
epoch (training) and the validation BCE after it.
    python3 tests/bench/fidelity-topovae.py [SEEDS...]   (default 1234 1 2)
Environment: TOPOSCOPE (binary), FID_LIMIT (training images, default 48000 =
Topo-GEN's 80% split), FID_VAL (validation images, default 2000), FID_DIR."""
import os
import sqlite3
import statistics
import subprocess
import sys

EXE = os.environ.get("TOPOSCOPE", "build-release/app/toposcope")
LIMIT = os.environ.get("FID_LIMIT", "48000")
VAL = os.environ.get("FID_VAL", "2000")
DIR = os.environ.get("FID_DIR", "fidelity-topovae")
seeds = [int(s) for s in sys.argv[1:]] or [1234, 1, 2]
os.makedirs(DIR, exist_ok=True)
WINDOWS = [(1, 50), (51, 100), (101, 200)]


def run(seed, where):
    store = os.path.join(DIR, f"{where}-{seed}.sqlite")
    if not os.path.exists(store):
        subprocess.run([EXE, "train", "--task", "vae", "--data", "fashion-mnist", "--limit", LIMIT, "--val-limit", VAL,
                        "--epochs", "1", "--seed", str(seed), "--topo-weights", "10,10,10,10,0,0,0", "--topo-on",
                        where, "--lockstep", "--store", store, "--latent-points", "0", "-q",
                        "--save", os.path.join(DIR, f"{where}-{seed}.safetensors")], check=True)
    c = sqlite3.connect(store)
    get = lambda name: [r for r in c.execute("select step, value from metrics where name=? order by step", (name,))]
    out = {}
    for m in ("topovae", "vae"):
        s = dict(get(f"{m}/bce"))
        for a, b in WINDOWS:
            out[(m, f"{a}-{b}")] = statistics.mean(s[k] for k in range(a, b + 1) if k in s)
        out[(m, "epoch 1 train")] = get(f"{m}/epoch_bce")[-1][1]
        out[(m, "epoch 1 val")] = get(f"{m}/val_bce")[-1][1]
    return out


cols = [f"{a}-{b}" for a, b in WINDOWS] + ["epoch 1 train", "epoch 1 val"]
for where in ("output", "latent"):
    res = [run(s, where) for s in seeds]
    print(f"\ntopological losses on the {where}s, seeds {seeds}: mean BCE per image (mean over seeds, +- spread)")
    print("model     " + "  ".join(f"{c:>18}" for c in cols))
    for m in ("vae", "topovae"):
        cells = []
        for c in cols:
            v = [r[(m, c)] for r in res]
            cells.append(f"{statistics.mean(v):10.2f} +-{(max(v) - min(v)) / 2:5.2f}")
        print(f"{m:9} " + "  ".join(f"{x:>18}" for x in cells))
    d = [[r[("topovae", c)] - r[("vae", c)] for r in res] for c in cols]
    print("diff      " + "  ".join(f"{statistics.mean(v):>+18.2f}" for v in d) + "   (TopoVAE - VAE, per seed: "
          + "; ".join(",".join(f"{x:+.2f}" for x in v) for v in d) + ")")
