"""`toposcope probe` and `toposcope train --probe` from the outside: the store
series and their documented layouts, the JSON, the diagram CSV, bad input
(one line naming the problem, exit 1 or 2) and --correlate."""
import json
import math
import os
import sqlite3
import struct
import tempfile

from tstest import Checks, run

c = Checks()
tmp = tempfile.mkdtemp(prefix="probe-cli-")
store = os.path.join(tmp, "s.sqlite")


def series(run_id, name):
    db = sqlite3.connect(store)
    rows = db.execute("select step, rows, cols, data from series where run = ? and name = ? order by step",
                      (run_id, name)).fetchall()
    db.close()
    return [(s, r, k, struct.unpack(f"<{r * k}d", d)) for s, r, k, d in rows]


def blob(run_id, name, step):
    db = sqlite3.connect(store)
    row = db.execute("select type, data from blobs where run = ? and name = ? and step = ?",
                     (run_id, name, step)).fetchone()
    db.close()
    return row


def last_run():
    db = sqlite3.connect(store)
    row = db.execute("select id, kind, status from runs order by id desc limit 1").fetchone()
    db.close()
    return row


common = ["--data", "fashion-mnist", "--limit", "400", "--val-limit", "300", "--batch", "50", "--store", store,
          "--quiet", "--threads", "2"]
# training with probes after epochs 0, 1, 2
p = run(["train", "--model", "lenet-dnn", "--epochs", "2", "--probe", "lifespans,graph", "--probe-epochs", "0,1,2",
         "--probe-samples", "300", "--save", os.path.join(tmp, "a.safetensors"), *common])
rid, kind, status = last_run()
c.check(kind == "train" and status == "finished", f"train run {kind} {status}")
life = series(rid, "probe/lifespans")
c.check([s for s, *_ in life] == [0, 1, 2], f"lifespans at steps {[s for s, *_ in life]}")
c.check(all(r == 4 and k == 2 for _, r, k, _ in life), "lifespans: 4 layers x (L0, L1)")
c.check(all(v[0] > 0 and math.isnan(v[1]) for *_, v in life), "L0 > 0, L1 NaN without --hom-dim 1")
for q in range(3):
    b = series(rid, f"probe/betti/dim{q}")
    c.check(len(b) == 3 and all(r == 200 and k == 2 for _, r, k, _ in b), f"betti dim{q}: 3 epochs of 200 x 2")
    c.check(abs(b[0][3][0] - 0.05) < 1e-12 and abs(b[0][3][2 * 199] - 0.4) < 1e-12, "grid 0.05 .. 0.4")
for name in ("probe/avglife", "probe/midlife"):
    s = series(rid, name)
    c.check(len(s) == 3 and all(r == 1 and k == 3 for _, r, k, _ in s), f"{name}: 1 x 3 per epoch")
t, data = blob(rid, "probe/layers", 1)
lay = json.loads(data)
c.check(t == "application/json" and [l["name"] for l in lay["lifespan_layers"]] == ["conv1", "conv2", "fc1", "fc2"],
        f"layers blob {lay}")
c.check(lay["graph_nodes"] == 1820 and [l["nodes"] for l in lay["graph_layers"]] == [1440, 320, 50, 10],
        "graph: 1820 nodes from the four blocks")
c.check(series(rid, "probe/phdim") == [], "no phdim series when not asked")
# each lifespan layer's diagram and the graph's, n x 3 (dim, birth, death), at every probed epoch
for name in ["probe/diagram/" + l["name"] for l in json.loads(blob(rid, "probe/layers", 0)[1])["lifespan_layers"]] + \
        ["probe/graph_diagram"]:
    dg = series(rid, name)
    c.check([s for s, *_ in dg] == [0, 1, 2] and all(k == 3 and r > 0 for _, r, k, _ in dg),
            f"{name}: {[(s, r, k) for s, r, k, _ in dg]}")
    for s, r, k, v in dg:
        dims, births, deaths = v[0::3], v[1::3], v[2::3]
        c.check(all(d in (0, 1, 2) for d in dims) and all(b <= e for b, e in zip(births, deaths)),
                f"{name} at {s}: dims and births <= deaths")
        c.check(any(math.isinf(e) for e in deaths), f"{name} at {s}: an essential class stored as +inf")

# a second checkpoint, another seed; then probe both, with a diagram and JSON
run(["train", "--model", "lenet-dnn", "--epochs", "1", "--seed", "4", "--save", os.path.join(tmp, "b.safetensors"),
     *common])
run(["train", "--model", "lenet-dnn", "--epochs", "1", "--seed", "5", "--lr", "0.002", "--save",
     os.path.join(tmp, "c.safetensors"), *common])
out, dg = os.path.join(tmp, "p.json"), os.path.join(tmp, "g.csv")
cks = [os.path.join(tmp, f) for f in ("a.safetensors", "b.safetensors", "c.safetensors")]
p = run(["probe", *cks, "--data", "fashion-mnist", "--limit", "1000", "--samples", "900", "--what",
         "lifespans,phdim,graph", "--graph-images", "200", "--graph-layers", "relu3,log_softmax", "--correlate",
         "test-accuracy", "-o", out, "--graph-diagram", dg, "--store", store, "--threads", "2"])
c.check("Pearson r with test accuracy over 3 checkpoints" in p.stdout, "correlation table printed")
j = json.load(open(out))
c.check(len(j["probes"]) == 3 and all(0 <= pr["test_accuracy"] <= 1 for pr in j["probes"]), "three probes")
c.check(j["probes"][0]["epoch"] == 2 and j["probes"][1]["epoch"] == 1, "epochs from the checkpoints")
c.check("fc1/lifespan_h0" in j["correlation"], f"correlation keys {list(j['correlation'])[:4]}")
g = j["probes"][0]["probe"]["graph"]
lines = open(dg).read().splitlines()
c.check(lines[0] == "dim,birth,death,birth_i,birth_j,death_i,death_j", f"diagram header {lines[0]}")
h0 = [l.split(",") for l in lines[1:] if l.startswith("0,")]
c.check(0 < len(h0) <= 60 and sum(1 for f in h0 if f[2] == "inf") >= 1, "H0: at most 60 bars, essential ones")
c.check(all(float(f[2]) <= 0.6 for f in h0 if f[2] != "inf"), "H0 deaths within the threshold 0.6 (distance units)")
rid, kind, status = last_run()
c.check(kind == "probe" and status == "finished", f"probe run {kind} {status}")
ph = series(rid, "probe/phdim")
c.check(len(ph) == 1 and ph[0][0] == 1 and ph[0][1] == 4 and all(v > 0 for v in ph[0][3][0::2]),
        f"phdim series at the checkpoint's epoch, 4 layers: {ph[:1]}")

# partitions on a conv layer, stated in the output
p = run(["probe", cks[0], "--data", "fashion-mnist", "--limit", "300", "--what", "graph", "--graph-images", "200",
         "--graph-layers", "relu1,relu2", "--partition", "channel", "--store", store])
c.check("30 nodes" in p.stdout and "channel" in p.stdout, "channel partition: 10 + 20 nodes")
p = run(["probe", cks[0], "--data", "fashion-mnist", "--limit", "300", "--what", "graph", "--graph-images", "200",
         "--graph-layers", "relu1", "--partition", "4", "--store", store])
c.check("40 nodes" in p.stdout and "k-means" in p.stdout, "k-means partition: 10 channels x 4 groups")

# bad input
for args, code, text in ((["probe", cks[0], "--layers", "conv9", "--data", "fashion-mnist", "--limit", "50"], 1,
                           "no layer 'conv9'"),
                          (["probe", cks[0], "--what", "betti"], 2, "--what"),
                          (["probe", cks[0], "--what", "graph", "--graph-max-nodes", "1000", "--data", "fashion-mnist",
                            "--limit", "50"], 1, "1820 nodes is beyond the limit of 1000"),
                          (["probe", os.path.join(tmp, "none.safetensors")], 1, "none.safetensors"),
                          (["probe", cks[0], "--correlate", "test-accuracy"], 2, "three"),
                          (["probe", cks[0], "--graph-diagram", dg], 2, "graph"),
                          (["train", "--model", "lenet-dnn", "--data", "fashion-mnist", "--probe-epochs", "1"], 2,
                           "--probe"),
                          (["train", "--model", "lenet-dnn", "--data", "fashion-mnist", "--probe", "graph",
                            "--probe-epochs", "1,x"], 2, "--probe-epochs")):
    p = run(args + ["--store", store], check=False)
    c.check(p.returncode == code and text in p.stderr, f"{args}: exit {p.returncode}, {p.stderr.strip()}")
c.finish()
