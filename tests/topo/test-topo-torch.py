"""`toposcope topoloss` against a PyTorch transcription of Topo-GEN's losses
(tests/python/topogen_ref.py) on the same diagram pairs: every loss's value,
the total and dL/dX to 1e-5 relative, for deg 0 and 1 and several weight
vectors; the bottleneck's chosen edge against GUDHI's exact distance; X's
diagram against the ripser command on 784-dimensional batches."""
import json
import math
import os
import sys
import tempfile

from tstest import Checks, require, run

np = require("numpy")
torch = require("torch")
gudhi = require("gudhi")
import topogen_ref as ref  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rips"))
from riputil import same  # noqa: E402

torch.set_default_dtype(torch.float64)
TOL = 1e-5
c = Checks()
rng = np.random.default_rng(14)
_tmp = tempfile.TemporaryDirectory(prefix="topo-torch-")
tmp = _tmp.name


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    s = max(np.abs(b).max(initial=0.0), 1e-12)
    return float(np.abs(a - b).max(initial=0.0) / s)


def save(name, X):
    p = os.path.join(tmp, name)
    np.savetxt(p, X, delimiter=",", fmt="%.9g")
    return p


def check_match(name, dgm, dgm2, dim, match):
    """The chosen longest edge costs exactly the bottleneck distance."""
    A = dgm["dgms"][dim][:-1] if dim == 0 else dgm["dgms"][dim]
    B = dgm2["dgms"][dim][:-1] if dim == 0 else dgm2["dgms"][dim]
    exact = gudhi.bottleneck_distance(np.asarray(A).reshape(-1, 2), np.asarray(B).reshape(-1, 2), 0)
    i, j = match
    if i >= 0 and j >= 0:
        cost = max(abs(A[i][0] - B[j][0]), abs(A[i][1] - B[j][1]))
    elif i >= 0:
        cost = (A[i][1] - A[i][0]) / 2
    else:
        cost = (B[j][1] - B[j][0]) / 2
    c.check(abs(cost - exact) <= 1e-9 * max(1, exact), f"{name}: H{dim} edge {match} costs {cost}, bottleneck {exact}")


def case(name, X, Y, weights, deg):
    X = X.astype(np.float32)
    px, py = save(name + "-x.csv", X), save(name + "-y.csv", Y.astype(np.float32))
    pg, pre = os.path.join(tmp, name + "-g.csv"), os.path.join(tmp, name)
    w = ",".join(str(v) for v in weights)
    out = run(["topoloss", px, py, "--weights", w, "--deg", str(deg), "--grad", pg, "--diagrams", pre, "--json"])
    res = json.loads(out.stdout)
    dgm = ref.dgm_from_csv(pre + "-x.csv", deg)
    dgm2 = ref.dgm_from_csv(pre + "-y.csv", 1)
    matches = {0: tuple(res.get("bottleneck0", {}).get("match", (-1, -1))),
               1: tuple(res.get("bottleneck1", {}).get("match", (-1, -1)))}

    def matcher(A, B, dim):
        return matches[dim]

    pc = torch.tensor(X.astype(np.float64), requires_grad=True)
    losses, total, got = ref.all_losses(pc, dgm, dgm2, weights, deg, matcher)
    for k, (v, dep) in losses.items():
        ours = res[k]
        c.check(bool(ours["depends"]) == bool(dep), f"{name}: {k} depends {ours['depends']} vs torch {dep}")
        tv = float(v) if dep else 0.0
        c.check(abs(ours["value"] - tv) <= TOL * max(abs(tv), 1e-9) + 1e-12,
                f"{name}: {k} = {ours['value']!r}, torch {tv!r}")
    for dim in (0, 1):
        if weights[dim] != 0 and not (dim == 1 and deg == 0) and matches[dim] != (-1, -1):
            check_match(name, dgm, dgm2, dim, matches[dim])
    c.check(abs(res["total"] - float(total)) <= TOL * max(abs(float(total)), 1e-9),
            f"{name}: total {res['total']!r}, torch {float(total)!r}")
    G = np.loadtxt(pg, delimiter=",", ndmin=2)
    if got:
        total.backward()
        tg = pc.grad.numpy()
        c.check(rel(G, tg) <= TOL, f"{name}: gradient off by {rel(G, tg):.3g} relative")
    else:
        c.check(np.abs(G).max() == 0, f"{name}: no loss depends on X but the gradient is not zero")
    return res


WEIGHTS = [[1, 1, 0, 0, 0, 0, 0], [15, 15, 0, 0, 0, 0, 0], [10, 10, 10, 10, 0, 0, 0], [0, 0, 1, 1, 1, 1, 1],
           [0.5, 2, 1, 3, 0.7, 1.5, 4]]
n_dep = 0
for t in range(10):
    n, m, d = int(rng.integers(15, 45)), int(rng.integers(10, 45)), int(rng.integers(2, 4))
    scale = [1.0, 4.0, 8.0][t % 3]
    X, Y = rng.random((n, d)) * scale, rng.random((m, d)) * scale
    for deg in (0, 1):
        wv = WEIGHTS[(t + deg) % len(WEIGHTS)]
        r = case(f"r{t}d{deg}", X, Y, wv, deg)
        n_dep += r["depends"]
c.check(n_dep >= 15, f"only {n_dep} of 20 random cases depend on X")

# a TopoVAE-like batch: 64 images of 784 pixels against another batch
B1 = rng.random((64, 784)) * (rng.random((64, 784)) < 0.5)
B2 = rng.random((64, 784)) * (rng.random((64, 784)) < 0.5)
case("batch784", B1, B2, [10, 10, 10, 10, 0, 0, 0], 1)
case("batch784-all", B1[:40], B2[:40], [1, 1, 1, 1, 1, 1, 1], 1)

# X's diagram (the losses' own Rips call) against the ripser command
RIPSER = "/usr/bin/ripser"
if os.path.exists(RIPSER):
    import subprocess
    for t in range(2):
        B = (rng.random((128, 784)) * (rng.random((128, 784)) < 0.5)).astype(np.float32)
        p = save(f"rb{t}.csv", B)
        pre = os.path.join(tmp, f"rb{t}")
        run(["topoloss", p, p, "--weights", "1,1,0,0,0,0,0", "--diagrams", pre])
        dgm = ref.dgm_from_csv(pre + "-x.csv", 1)
        out = subprocess.run([RIPSER, "--format", "point-cloud", "--dim", "1", p], capture_output=True, text=True).stdout
        rip, dim = {0: [], 1: []}, None
        for line in out.splitlines():
            if line.startswith("persistence intervals in dim"):
                dim = int(line.split()[-1].rstrip(":"))
            elif line.strip().startswith("[") and dim is not None:
                b, e = line.strip()[1:-1].split(",")
                if e.strip() not in ("", "inf"):
                    rip[dim].append((float(b), float(e)))
        for k in (0, 1):
            ours = sorted(map(tuple, dgm["dgms"][k][:-1] if k == 0 else dgm["dgms"][k]))
            ok, why = same(ours, sorted(rip[k]))
            c.check(ok, f"784-dim batch {t}: H{k} differs from ripser: {why}")
        # representative edges carry the values
        worst = 0.0
        for (bd, g) in zip(dgm["dgms"][0][:-1], dgm["gens"][0]):
            worst = max(worst, abs(np.linalg.norm(B[g[1]].astype(np.float64) - B[g[2]]) - bd[1]) / bd[1])
        for (bd, g) in zip(dgm["dgms"][1], dgm["gens"][1][0]):
            worst = max(worst, abs(np.linalg.norm(B[g[0]].astype(np.float64) - B[g[1]]) - bd[0]) / bd[0])
            worst = max(worst, abs(np.linalg.norm(B[g[2]].astype(np.float64) - B[g[3]]) - bd[1]) / bd[1])
        c.check(worst < 1e-6, f"784-dim batch {t}: edge lengths off by {worst:.3g} relative")
else:
    print("note: the ripser command is not installed; 784-dim diagrams not cross-checked here")

# a diagram file as the target gives the same result as the cloud it came from
X, Y = rng.random((30, 2)) * 4, rng.random((25, 2)) * 4
px, py = save("tx.csv", X.astype(np.float32)), save("ty.csv", Y.astype(np.float32))
pre = os.path.join(tmp, "td")
a = json.loads(run(["topoloss", px, py, "--weights", "1,1,1,1,1,1,1", "--diagrams", pre, "--json"]).stdout)
b = json.loads(run(["topoloss", px, pre + "-y.csv", "--target-diagram", "--weights", "1,1,1,1,1,1,1", "--json"]).stdout)
c.check(abs(a["total"] - b["total"]) <= 1e-12 * max(1, abs(a["total"])), "target diagram file != target cloud")

# bad input: one line naming the file, exit 1
bad = save("bad.csv", np.array([[0, 1], [2, 3]]))
with open(bad, "a") as f:
    f.write("1,nan\n")
p = run(["topoloss", bad, py], check=False)
c.check(p.returncode == 1 and "bad.csv" in p.stderr and p.stderr.count("\n") == 1, f"bad file: {p.stderr!r}")
p = run(["topoloss", px, py, "--weights", "1,2"], check=False)
c.check(p.returncode == 2 and "7 weights" in p.stderr, f"short weights: {p.stderr!r}")
c.finish()
