"""Before/after pictures of topofit's three presets (Topo-GEN's synthetic
tests, the paper's step counts): start, target and final cloud with the
final H0/H1 bars, into one PNG.
    python3 tests/bench/topofit-pictures.py OUT.png"""
import os
import subprocess
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

EXE = os.environ.get("TOPOSCOPE", "build-release/app/toposcope")
out = sys.argv[1] if len(sys.argv) > 1 else "topofit-presets.png"
fig, ax = plt.subplots(3, 3, figsize=(11, 10))
with tempfile.TemporaryDirectory() as d:
    for p in (1, 2, 3):
        store = os.path.join(d, f"s{p}.sqlite")
        r = subprocess.run([EXE, "topofit", "--preset", str(p), "--store", store, "--save-every", "100000", "-q",
                            "-o", os.path.join(d, f"f{p}.csv")], check=True)
        import sqlite3
        c = sqlite3.connect(store)
        def series(name, step=None):
            q = "select rows, cols, data, step from series where name=? order by step"
            rows = c.execute(q, (name,)).fetchall()
            row = rows[0] if step == "first" else rows[-1]
            return np.frombuffer(row[2], dtype="<f8").reshape(row[0], row[1]), row[3]
        X0, _ = series("topofit/cloud", "first")
        X1, s1 = series("topofit/cloud")
        Y, _ = series("topofit/target")
        D1, _ = series("topofit/diagram")
        loss = [v for (v,) in c.execute("select value from metrics where name='topofit/loss' order by step")]
        ax[p - 1][0].scatter(X0[:, 0], X0[:, 1], s=8)
        ax[p - 1][0].set_title(f"preset {p}: start ({len(X0)} points)")
        ax[p - 1][1].scatter(Y[:, 0], Y[:, 1], s=8, c="tab:green")
        ax[p - 1][1].set_title("target")
        ax[p - 1][2].scatter(X1[:, 0], X1[:, 1], s=8, c="tab:red")
        h0 = sorted(D1[D1[:, 0] == 0, 2], reverse=True)[:3]
        h1 = sorted(D1[D1[:, 0] == 1, 2] - D1[D1[:, 0] == 1, 1], reverse=True)[:2]
        ax[p - 1][2].set_title(f"after {s1} steps: loss {loss[0]:.2f} -> {loss[-1]:.2f}\n"
                               f"top H0 bars {', '.join(f'{v:.1f}' for v in h0)}; H1 {', '.join(f'{v:.1f}' for v in h1) or 'none'}",
                               fontsize=9)
        for a in ax[p - 1]:
            a.set_aspect("equal", adjustable="datalim")
fig.tight_layout()
fig.savefig(out, dpi=80)
print(out)
