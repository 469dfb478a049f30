"""Workbench figures: the Homology panel's worker on a 1024x1024 noise image
(filtration, cubical PH, Kaji labels: what the UI waits for, off the main
loop) and drawing the ~300k-point diagram and barcode, against matplotlib
drawing the same points (Agg, same pixel size) in the same run. Needs a
release build with the GUI: build-release-gui/ (made here if absent)."""
import json
import os
import subprocess
import sys
import tempfile

import tsbench

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
build = os.path.join(root, "build-release-gui")
if not os.path.isdir(build):
    subprocess.run(["meson", "setup", build, "--buildtype=release"], cwd=root, check=True, stdout=subprocess.DEVNULL)
subprocess.run(["ninja", "-C", build, "tests/gui/bench-plot"], check=True, stdout=subprocess.DEVNULL)
exe = os.path.join(build, "tests", "gui", "bench-plot")

with tempfile.TemporaryDirectory() as tmp:
    csv = os.path.join(tmp, "points.csv")
    out = subprocess.run([exe, csv], check=True, capture_output=True, text=True).stdout
    ours = json.loads(out.strip().splitlines()[-1])
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import numpy as np
    except ImportError as e:
        print(f"SKIP reference: {e}")
        sys.exit(0)
    pts = np.loadtxt(csv, delimiter=",")
    png = os.path.join(tmp, "mpl.png")

    def mpl_diagram():
        fig = plt.figure(figsize=(8, 8), dpi=100)  # 800 x 800 like ours
        ax = fig.add_subplot()
        for k in (0, 1):
            sel = pts[:, 0] == k
            ax.scatter(pts[sel, 1], pts[sel, 2], s=4, marker="s", linewidths=0)
        ax.plot([0, 256], [0, 256], "k-")
        fig.savefig(png)
        plt.close(fig)

    t_mpl, _ = tsbench.time_py(mpl_diagram, repeat=3)

    def mpl_barcode():
        fig = plt.figure(figsize=(8, 8), dpi=100)
        ax = fig.add_subplot()
        order = np.lexsort((pts[:, 1], pts[:, 0]))
        ax.hlines(np.arange(len(order)), pts[order, 1], pts[order, 2], linewidth=1)
        fig.savefig(png)
        plt.close(fig)

    t_mpl_bar, _ = tsbench.time_py(mpl_barcode, repeat=3)

rows = [
    ["homology worker (1024² noise: grey filtration, V, H0+H1, Kaji PI + life curve)", f"{ours['homology_s']:.3f}", "—", "—"],
    [f"draw diagram, {ours['pairs']} points, 800x800", f"{ours['draw_diagram_s']:.4f}", f"{t_mpl:.3f}",
     f"{t_mpl / ours['draw_diagram_s']:.0f}x"],
    [f"draw barcode, {ours['pairs']} bars, 800x800", f"{ours['draw_barcode_s']:.4f}", f"{t_mpl_bar:.3f}",
     f"{t_mpl_bar / ours['draw_barcode_s']:.0f}x"],
]
tsbench.table("Workbench (wall seconds, best of 3-5)", rows, ["task", "toposcope", "matplotlib", "speed-up"])
