"""The workbench's live store reading: a writer process commits 1000 metric
rows a second to a running training run while the Train panel shows it
(frame cost, the longest main-loop stall; goal under 50 ms), and a store of
a million metric rows opened in the Runs panel (list and first plot; goal
under 1 s). The reference in the same run: Python's sqlite3 reading the same
million rows with the panel's query (the floor for "read every row").
Needs a release build with the GUI (build-release-gui/, made here if absent)
and xvfb-run. Options by environment: BENCH_BUILD (another build folder),
LIVE_SECONDS (default 20),
LIVE_RATE (rows/s, default 1000), MILLION_ROWS (default 1000000)."""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

import tsbench

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
build = os.path.join(root, os.environ.get("BENCH_BUILD", "build-release-gui"))
if not shutil.which("xvfb-run"):
    print("SKIP: xvfb-run is not installed")
    sys.exit(0)
if not os.path.isdir(build):
    subprocess.run(["meson", "setup", build, "--buildtype=release"], cwd=root, check=True, stdout=subprocess.DEVNULL)
subprocess.run(["ninja", "-C", build, "tests/gui/bench-live"], check=True, stdout=subprocess.DEVNULL)
exe = os.path.join(build, "tests", "gui", "bench-live")
seconds = float(os.environ.get("LIVE_SECONDS", "20"))
rate = float(os.environ.get("LIVE_RATE", "1000"))
rows = int(os.environ.get("MILLION_ROWS", "1000000"))
env = dict(os.environ, GSK_RENDERER="cairo", GTK_A11Y="test", GSETTINGS_BACKEND="memory",
           GDK_DEBUG="default-settings,gl-disable", NO_AT_BRIDGE="1")
xvfb = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24"]


def bench(args):
    out = subprocess.run(xvfb + [exe] + args, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


with tempfile.TemporaryDirectory() as tmp:
    live = bench(["live", os.path.join(tmp, "live.sqlite"), str(seconds), str(rate)])
    store = os.path.join(tmp, "million.sqlite")
    big = bench(["million", store, str(rows)])
    con = sqlite3.connect(store)

    def read_all():
        return len(con.execute("SELECT id, step, epoch, value, wall FROM metrics WHERE run=1 AND name=? AND id>0 "
                               "ORDER BY id", ("train/loss",)).fetchall())

    t_ref, n_ref = tsbench.time_py(read_all, repeat=3)
    con.close()

tsbench.table(f"Live reading: a writer at {rate:.0f} rows/s for {seconds:.0f} s, Train panel open", [
    ["rows written / plotted", f"{live['rows']} / {live['points']}"],
    ["last row plotted after the writer's last (s)", f"{live['caught_up_s']:.2f}"],
    ["frames painted (median interval, ms)", f"{live['frames']} ({live['frame_interval_median_ms']:.0f})"],
    ["frame cost median / p99 / max (ms)",
     f"{live['frame_cost_median_ms']:.1f} / {live['frame_cost_p99_ms']:.1f} / {live['frame_cost_max_ms']:.1f}"],
    ["longest main-loop stall (ms, goal < 50)", f"{live['max_stall_ms']:.1f}"],
], ["measure", "value"])
tsbench.table(f"A store of {rows} metric rows in the Runs panel (wall seconds)", [
    ["window opened to the run listed", f"{big['list_s']:.3f}", "", ""],
    ["run selected to its first points drawn", f"{big['first_points_s']:.3f}", "", ""],
    ["window opened to every row plotted (goal < 1)", f"{big['first_plot_s']:.3f}", f"{t_ref:.3f}",
     f"{big['first_plot_s'] / t_ref:.2f}x"],
    ["longest main-loop stall while plotting (ms)", f"{big['max_stall_ms']:.1f}", "", ""],
], ["measure", "toposcope", "sqlite3 (Python) reads the rows", "ratio"])
