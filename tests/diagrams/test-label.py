"""`toposcope label`: the cache format as the README documents it (read here
with plain struct/NumPy), labels equal to `toposcope vectorize` of the same
inputs, corrupt inputs skipped, --resume, the run in the store."""
import os
import shutil
import struct
import tempfile

import numpy as np
from tstest import Checks, require, run

np = require("numpy")
C = Checks()
tmp = tempfile.mkdtemp(prefix="diagrams-label-")
data = os.path.join(tmp, "data")
store = os.path.join(tmp, "runs.sqlite")
rng = np.random.default_rng(3)


def write_diagram(path, n):
    b = rng.uniform(-30, 20, n)
    d = b + rng.exponential(8, n)
    with open(path, "w") as f:
        f.write("dim,birth,death\n0,-40,inf\n")
        for i in range(n):
            f.write(f"{i % 2},{b[i]!r},{d[i]!r}\n")


def read_cache(path):
    raw = open(path, "rb").read()
    magic, version, nd, name_bytes, plen, count, complete, row_bytes, off = struct.unpack_from("<8sIIIIQIIQ", raw, 0)
    assert magic == b"TSLABELS" and row_bytes == name_bytes + 4 * nd
    params = raw[64:64 + plen].decode()
    rows = (len(raw) - off) // row_bytes if not complete else count
    names, vals = [], []
    for i in range(rows):
        r = raw[off + i * row_bytes: off + (i + 1) * row_bytes]
        names.append(r[:name_bytes].split(b"\0")[0].decode())
        vals.append(np.frombuffer(r[name_bytes:], dtype="<f4"))
    return version, nd, params, complete, names, np.array(vals)


os.makedirs(os.path.join(data, "train"))
os.makedirs(os.path.join(data, "val"))
for k in range(6):
    write_diagram(os.path.join(data, "train", f"t{k:03d}.csv"), 30 + k)
write_diagram(os.path.join(data, "val", "v000.csv"), 12)
with open(os.path.join(data, "train", "t999.csv"), "w") as f:
    f.write("dim,birth,death\n0,oops,1\n")  # corrupt: reported and skipped
with open(os.path.join(data, "notes.txt"), "w") as f:
    f.write("not an input\n")

cache = os.path.join(tmp, "labels.tslabels")
p = run(["label", data, "-o", cache, "--store", store, "--max-life", "80", "60", "--threads", "2"])
C.check("t999.csv" in p.stderr and "line 2" in p.stderr, f"corrupt file reported: {p.stderr!r}")
version, nd, params, complete, names, vals = read_cache(cache)
C.check(version == 1 and nd == 200 and complete == 1, f"header {version} {nd} {complete}")
C.check(names == [f"train/t{k:03d}.csv" for k in range(6)] + ["val/v000.csv"], f"names {names}")
C.check('"max_life":[80,60]' in params and '"type":"persistence-image"' in params, params)
ref = run(["vectorize", "--max-life", "80", "60"] + [os.path.join(data, n) for n in names]).stdout.splitlines()
ref = np.array([[float(x) for x in line.split(",")[1:]] for line in ref])
C.check(np.allclose(vals, ref.astype(np.float32), rtol=1e-6, atol=1e-7), "labels = vectorize (float32)")

# resume: only new inputs are computed; other parameters are refused
write_diagram(os.path.join(data, "val", "v001.csv"), 20)
p = run(["label", data, "-o", cache, "--store", store, "--max-life", "80", "60", "--resume"])
C.check("Resuming: 7 of 9" in p.stdout, p.stdout)
_, _, _, _, names2, vals2 = read_cache(cache)
C.check(names2 == names + ["val/v001.csv"] and np.array_equal(vals2[:7], vals), "resumed cache keeps old rows")
p = run(["label", data, "-o", cache, "--store", store, "--resume"], check=False)
C.check(p.returncode == 1 and "other parameters" in p.stderr, p.stderr)
# a partial row from a killed writer is cut off
with open(cache, "ab") as f:
    f.write(b"\0" * 100)
p = run(["label", data, "-o", cache, "--store", store, "--max-life", "80", "60", "--resume"])
C.check("Resuming: 8 of 9" in p.stdout and len(read_cache(cache)[4]) == 8, p.stdout)

# other label types have the documented lengths
for t, n in (("life-curve", 100), ("landscape", 100), ("histogram", 100), ("betti-curve", 100)):
    c2 = os.path.join(tmp, f"{t}.tslabels")
    run(["label", data, "-o", c2, "--store", store, "--type", t, "--dims", str(n)])
    _, nd2, _, _, _, v = read_cache(c2)
    C.check(nd2 == n and v.shape == (8, n) and np.all(np.isfinite(v)), f"{t}: {v.shape}")

# recorded in the run store
p = run(["runs", "list", "--store", store])
C.check(p.stdout.count("label") >= 6 and "finished" in p.stdout, p.stdout)
p = run(["label", os.path.join(tmp, "nope"), "-o", cache, "--store", store], check=False)
C.check(p.returncode == 1 and "nope" in p.stderr, p.stderr)
p = run(["label", data, "--store", store], check=False)
C.check(p.returncode == 2, "-o is required")
shutil.rmtree(tmp)
C.finish()
