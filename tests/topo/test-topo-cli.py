"""toposcope topofit and train --task vae end to end: the store rows the
workbench reads (names, shapes, steps), the final cloud file, and the
one-line errors for bad options."""
import os
import sqlite3
import tempfile

from tstest import Checks, require, run

np = require("numpy")
c = Checks()
tmp = tempfile.TemporaryDirectory(prefix="topo-cli-")
d = tmp.name

# topofit: 60 steps of preset 3, the cloud every 20
store = os.path.join(d, "s.sqlite")
out = os.path.join(d, "final.csv")
p = run(["topofit", "--preset", "3", "--steps", "60", "--save-every", "20", "--store", store, "-o", out])
c.check("bottleneck0" in p.stdout, f"topofit summary: {p.stdout!r}")
db = sqlite3.connect(store)
kind, status = db.execute("select kind, status from runs").fetchone()
c.check((kind, status) == ("topofit", "finished"), f"run {kind} {status}")
steps = [s for (s,) in db.execute("select step from series where name='topofit/cloud' order by step")]
c.check(steps == [0, 20, 40, 60], f"cloud steps {steps}")
rows, cols = db.execute("select rows, cols from series where name='topofit/cloud' limit 1").fetchone()
c.check((rows, cols) == (64, 2), f"cloud shape {rows}x{cols}")
r, k = db.execute("select rows, cols from series where name='topofit/target'").fetchone()
c.check((r, k) == (100, 2), f"target shape {r}x{k}")
dg = db.execute("select rows, cols, data from series where name='topofit/diagram' and step=60").fetchone()
D = np.frombuffer(dg[2], dtype="<f8").reshape(dg[0], dg[1])
c.check(dg[1] == 3 and (D[:, 0] == 0).sum() == 63, f"final diagram {dg[0]}x{dg[1]}")
n = db.execute("select count(*) from metrics where name='topofit/loss'").fetchone()[0]
c.check(n == 61, f"{n} loss rows (60 steps + the final cloud)")
names = {x for (x,) in db.execute("select distinct name from metrics")}
c.check({"topofit/bottleneck0", "topofit/bottleneck1", "topofit/push0_used"} <= names, f"metric names {names}")
last = np.frombuffer(db.execute("select data from series where name='topofit/cloud' and step=60").fetchone()[0], "<f8")
c.check(np.allclose(np.loadtxt(out, delimiter=",").ravel(), last, atol=1e-6), "-o holds the last stored cloud")

# bad options: one line, exit 2 (usage) or 1 (a bad file)
p = run(["topofit", "--preset", "4"], check=False)
c.check(p.returncode == 2, f"--preset 4: exit {p.returncode}")
p = run(["topofit", "--points", os.path.join(d, "missing.csv"), "--target", out, "--no-store"], check=False)
c.check(p.returncode == 1 and "missing.csv" in p.stderr, f"missing file: {p.stderr!r}")

# train --task vae: two lockstep steps on FashionMNIST
if os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
    vs = os.path.join(d, "v.sqlite")
    run(["train", "--task", "vae", "--data", "fashion-mnist", "--limit", "256", "--val-limit", "64", "--epochs", "1",
         "--topo-weights", "10,10,10,10,0,0,0", "--lockstep", "--latent-points", "50", "--store", vs, "-q",
         "--save", os.path.join(d, "v.safetensors"), "--threads", "2"])
    db = sqlite3.connect(vs)
    names = {x for (x,) in db.execute("select distinct name from metrics")}
    want = {"topovae/bce", "vae/bce", "topovae/topo", "topovae/val_bce", "vae/val_bce", "topovae/epoch_bce"}
    c.check(want <= names, f"vae metrics missing: {want - names}")
    n = db.execute("select count(*) from metrics where name='vae/bce'").fetchone()[0]
    c.check(n == 2, f"{n} vae/bce rows for 2 steps")
    blob = db.execute("select type, data from blobs where name='vae/grid'").fetchone()
    c.check(blob and blob[0] == "image/png" and blob[1][:8] == b"\x89PNG\r\n\x1a\n", "the grid is a PNG")
    for nm in ("topovae/latent", "vae/latent"):
        r = db.execute("select rows, cols, data from series where name=?", (nm,)).fetchone()
        c.check(r is not None and (r[0], r[1]) == (50, 11), f"{nm}: {r and (r[0], r[1])}")
        if r:
            L = np.frombuffer(r[2], "<f8").reshape(r[0], r[1])
            c.check(set(L[:, 10]) <= set(range(10)) and np.isfinite(L).all(), f"{nm}: classes in the last column")
    p = run(["train", "--task", "vae", "--model", "lenet5", "--data", "fashion-mnist"], check=False)
    c.check(p.returncode == 2 and "topovae" in p.stderr, f"vae with lenet5: {p.stderr!r}")
    p = run(["train", "--task", "vae", "--data", "fashion-mnist", "--normalize", "auto"], check=False)
    c.check(p.returncode == 2, f"vae with --normalize auto: exit {p.returncode}")
    p = run(["train", "--data", "fashion-mnist", "--lockstep"], check=False)
    c.check(p.returncode == 2 and "--task vae" in p.stderr, f"--lockstep without vae: {p.stderr!r}")
else:
    print("note: FashionMNIST is not installed; train --task vae not exercised here")
c.finish()
