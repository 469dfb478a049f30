"""`toposcope probe --fgsm`: targeted FGSM on a small trained LeNet-5. A
tiny epsilon barely changes the predictions (success close to the share
already classified as the target), success grows with epsilon, the table,
the JSON and the store series probe/fgsm follow their documented layouts,
and bad epsilons or targets are usage errors."""
import json
import os
import sqlite3
import struct
import tempfile

from tstest import Checks, run

c = Checks()
tmp = tempfile.mkdtemp(prefix="probe-fgsm-")
store = os.path.join(tmp, "s.sqlite")
ck = os.path.join(tmp, "a.safetensors")
run(["train", "--model", "lenet5", "--data", "fashion-mnist", "--limit", "2000", "--val-limit", "300", "--epochs",
     "2", "--batch", "50", "--threads", "2", "--quiet", "--save", ck, "--store", store])
eps = [0.001, 0.02, 0.1, 0.3, 0.6]
out = os.path.join(tmp, "p.json")
p = run(["probe", ck, "--data", "fashion-mnist", "--limit", "2000", "--samples", "500", "--fgsm",
         ",".join(map(str, eps)), "--fgsm-target", "3", "--threads", "2", "-o", out, "--store", store])
c.check("Targeted FGSM towards class 3" in p.stdout, "table printed")
f = json.load(open(out))["probes"][0]["fgsm"]
rows = f["rows"]
c.check(f["target"] == 3 and f["attacked"] == 500 and len(rows) == len(eps), f"fgsm header {f['target']} {f['attacked']}")
c.check([r["eps"] for r in rows] == eps, "one row per epsilon, in order")
succ = [r["success"] for r in rows]
c.check(abs(succ[0] - f["clean_rate"]) <= 0.02, f"tiny eps: success {succ[0]} near the clean rate {f['clean_rate']}")
c.check(all(b >= a - 0.02 for a, b in zip(succ, succ[1:])), f"success grows with eps: {succ}")
c.check(succ[-1] >= succ[0] + 0.2, f"a large eps fools the network: {succ}")
layers = list(rows[0]["lifespan_h0"])
c.check(layers == ["conv1", "conv2", "fc1", "fc2", "fc3"], f"lifespan layers {layers}")
c.check(all(v > 0 for r in rows for v in r["lifespan_h0"].values()), "lifespans > 0")

db = sqlite3.connect(store)
rid = db.execute("select id from runs where kind = 'probe' order by id desc limit 1").fetchone()[0]
row = db.execute("select rows, cols, data from series where run = ? and name = 'probe/fgsm'", (rid,)).fetchone()
db.close()
c.check(row is not None and row[0] == len(eps) and row[1] == 2 + len(layers), f"probe/fgsm shape {row and row[:2]}")
if row:
    v = struct.unpack(f"<{row[0] * row[1]}d", row[2])
    k = row[1]
    c.check([v[i * k] for i in range(len(eps))] == eps, "col 0: eps")
    c.check(all(abs(v[i * k + 1] - succ[i]) < 1e-12 for i in range(len(eps))), "col 1: success")
    c.check(all(abs(v[i * k + 2 + j] - rows[i]["lifespan_h0"][n]) <= 1e-9 * abs(v[i * k + 2 + j])
                for i in range(len(eps)) for j, n in enumerate(layers)), "cols 2..: L0 per layer")

base = ["probe", ck, "--data", "fashion-mnist", "--limit", "200", "--store", store]
for args, text in ((["--fgsm", "0", "--fgsm-target", "3"], "--fgsm"),
                   (["--fgsm", "0.1,-0.2", "--fgsm-target", "3"], "--fgsm"),
                   (["--fgsm", "0.1,", "--fgsm-target", "3"], "--fgsm"),
                   (["--fgsm", "0.1", "--fgsm-target", "10"], "--fgsm-target 10"),
                   (["--fgsm", "0.1"], "--fgsm-target"),
                   (["--fgsm-target", "2"], "--fgsm")):
    p = run(base + args, check=False)
    c.check(p.returncode == 2 and text in p.stderr,
            f"{args}: exit {p.returncode}, {p.stderr.strip()}")
c.finish()
