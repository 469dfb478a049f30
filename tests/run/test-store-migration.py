"""Store schema 1 -> 2: a version-1 store written by a Toposcope that knows
only version 1 (store-writer-v1: store.c built with TS_STORE_KNOWN_VERSION=1)
is migrated in place by the current build, keeping every row; a read-only
open does not migrate it; and the version-1 build then refuses the
version-2 store as newer, leaving it untouched."""
import os
import sqlite3
import subprocess
import tempfile

from tstest import Checks, run

c = Checks()
WRITER = os.environ["STORE_WRITER"]
WRITER_V1 = os.environ["STORE_WRITER_V1"]
tmp = tempfile.mkdtemp(prefix="ts-store-mig-")
store = os.path.join(tmp, "v1.sqlite")


def version(path):
    con = sqlite3.connect(path)
    try:
        return con.execute("PRAGMA user_version").fetchone()[0]
    finally:
        con.close()


def columns(path, table):
    con = sqlite3.connect(path)
    try:
        return [r[1] for r in con.execute(f"PRAGMA table_info({table})")]
    finally:
        con.close()


# 1. The old build writes a version-1 store.
p = subprocess.run([WRITER_V1, store, "50", "10"], capture_output=True, text=True, timeout=60)
c.check(p.returncode == 0, f"v1 writer ran: {p.stderr}")
c.check(version(store) == 1, f"the old build writes schema 1: {version(store)}")
c.check("experiment" not in columns(store, "runs"), "no experiment column in v1")
con = sqlite3.connect(store)
before = con.execute("SELECT id, kind, name, status, params FROM runs").fetchall()
metrics_before = con.execute("SELECT run, step, name, value FROM metrics ORDER BY id").fetchall()
con.close()

# 2. Reading it with the current build leaves it at version 1.
r = run(["runs", "--store", store], check=False)
c.check(r.returncode == 0 and "writer" in r.stdout, f"current build lists a v1 store: {r.stdout} {r.stderr}")
c.check(version(store) == 1, "a read-only open does not migrate")

# 3. Writing to it with the current build migrates it; every row is kept.
p = subprocess.run([WRITER, store, "5", "5"], capture_output=True, text=True, timeout=60)
c.check(p.returncode == 0, f"current writer on a v1 store: {p.stderr}")
c.check(version(store) == 2, f"migrated to schema 2: {version(store)}")
cols = columns(store, "runs")
c.check(all(k in cols for k in ("experiment", "cell", "parent")), f"run grouping columns: {cols}")
c.check(columns(store, "experiments")[:3] == ["id", "name", "kind"], "experiments table")
con = sqlite3.connect(store)
after = con.execute("SELECT id, kind, name, status, params FROM runs").fetchall()
grouped = con.execute("SELECT experiment, cell, parent FROM runs WHERE id=?", (before[0][0],)).fetchone()
metrics_after = con.execute("SELECT run, step, name, value FROM metrics ORDER BY id").fetchall()
con.close()
c.check(after[:len(before)] == before and len(after) == len(before) + 1, f"runs kept: {before} -> {after}")
c.check(metrics_after[:len(metrics_before)] == metrics_before, "metrics kept")
c.check(grouped == (None, None, None), f"old runs belong to no experiment: {grouped}")

# 4. The old build refuses the v2 store and does not touch it.
size = os.path.getsize(store)
with open(store, "rb") as f:
    head = f.read(100)
p = subprocess.run([WRITER_V1, store, "5", "5"], capture_output=True, text=True, timeout=60)
c.check(p.returncode == 1 and "newer Toposcope" in p.stderr and "version 2" in p.stderr,
        f"v1 build refuses v2: {p.returncode} {p.stderr!r}")
with open(store, "rb") as f:
    c.check(f.read(100) == head and os.path.getsize(store) == size, "refused store untouched")
c.check(version(store) == 2, "still version 2")

# 5. A fresh store from the current build is version 2 at once.
fresh = os.path.join(tmp, "fresh.sqlite")
p = subprocess.run([WRITER, fresh, "3", "3"], capture_output=True, text=True, timeout=60)
c.check(p.returncode == 0 and version(fresh) == 2, f"fresh store: {version(fresh)}")

subprocess.run(["rm", "-rf", tmp])
c.finish()
