"""The run store across processes: a reader beside a writer, a writer killed
with -9, and `toposcope runs` against a store a test job wrote."""
import csv
import io
import os
import signal
import subprocess
import tempfile

from tstest import Checks, run

c = Checks()
WRITER = os.environ["STORE_WRITER"]
READER = os.environ["STORE_READER"]
tmp = tempfile.mkdtemp(prefix="ts-store-")

# 1. A writer and a reader at once: the reader sees every committed row, in
#    order, and never an error.
store = os.path.join(tmp, "concurrent.sqlite")
w = subprocess.Popen([WRITER, store, "20000", "7"], stdout=subprocess.PIPE, text=True)
first = w.stdout.readline().split()
c.check(first[:1] == ["run"], f"writer announced its run: {first}")
r = subprocess.run([READER, store, first[1], "20000"], capture_output=True, text=True, timeout=90)
w.stdout.read()
c.check(w.wait(timeout=60) == 0, "writer finished")
c.check(r.returncode == 0, f"reader saw every row in order: {r.stdout} {r.stderr}")

# 1b. Two writers at once, each writing a few rows then computing (a
#     training step's pattern, 20 ms apart) for longer than SQLite's busy
#     timeout (10 s): both finish with every row. A writer that held its
#     batch open across those gaps would starve the other, which then fails
#     with 'database is locked'.
store = os.path.join(tmp, "two-writers.sqlite")
ws = [subprocess.Popen([WRITER, store, "550", "100000", "20000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True) for _ in range(2)]
outs = [w.communicate(timeout=120) for w in ws]
c.check(all(w.returncode == 0 for w in ws), f"two writers of one store both finish: {[o[1] for o in outs]}")
p = run(["runs", "--store", store])
c.check(p.stdout.count("finished") == 2, f"two finished runs: {p.stdout}")

# 2. kill -9 mid-run: the store opens cleanly, every committed row is there,
#    and the run reads as interrupted.
store = os.path.join(tmp, "killed.sqlite")
w = subprocess.Popen([WRITER, store, "0", "50", "100"], stdout=subprocess.PIPE, text=True)
run_id = w.stdout.readline().split()[1]
committed = 0
while committed < 1000:
    line = w.stdout.readline()
    if not line:
        break
    committed = int(line.split()[1])
os.kill(w.pid, signal.SIGKILL)
w.wait()
c.check(committed >= 1000, f"writer committed {committed} rows before the kill")
p = run(["runs", "show", run_id, "--store", store], check=False)
c.check(p.returncode == 0 and "interrupted" in p.stdout, f"killed run shows as interrupted: {p.stdout} {p.stderr}")
p = run(["runs", "export", run_id, "--csv", "--store", store], check=False)
rows = list(csv.DictReader(io.StringIO(p.stdout)))
c.check(p.returncode == 0, f"export after kill: {p.stderr}")
c.check(len(rows) >= committed, f"{len(rows)} rows survived, {committed} were committed")
xs = [float(r["value"]) for r in rows]
c.check(xs == list(map(float, range(len(xs)))), "surviving rows are exactly 0..n-1")
p = run(["runs", "list", "--store", store])
c.check("interrupted" in p.stdout, "list shows interrupted")

# 3. `toposcope runs` against a finished job's store.
store = os.path.join(tmp, "finished.sqlite")
subprocess.run([WRITER, store, "250", "100"], check=True, capture_output=True)
p = run(["runs", "--store", store])
c.check("ID" in p.stdout and "finished" in p.stdout and "writer" in p.stdout, f"list: {p.stdout}")
p = run(["runs", "show", "1", "--store", store])
c.check('"what": "store test"' in p.stdout, f"show prints parameters: {p.stdout}")
c.check("x" in p.stdout and "250" in p.stdout and "/tmp/store-writer-output" in p.stdout, "show: metrics, artifacts")
out = os.path.join(tmp, "x.csv")
p = run(["runs", "export", "1", "--csv", "-o", out, "--store", store])
with open(out) as f:
    rows = list(csv.DictReader(f))
c.check(len(rows) == 250 and rows[-1]["value"] == "249", f"export -o wrote {len(rows)} rows")
p = run(["runs", "show", "99", "--store", store], check=False)
c.check(p.returncode == 1 and "no run 99" in p.stderr, f"unknown run: {p.stderr}")
p = run(["runs", "show", "abc", "--store", store], check=False)
c.check(p.returncode == 2, "a run ID that is not a number is a usage error")
p = run(["runs", "frob", "--store", store], check=False)
c.check(p.returncode == 2, "unknown subcommand is a usage error")
p = run(["runs", "delete", "1", "--store", store])
c.check("Deleted run 1" in p.stdout, "delete")
p = run(["runs", "--store", store])
c.check("No runs" in p.stdout, f"store empty after delete: {p.stdout}")

# A running run is not deleted without --force.
store = os.path.join(tmp, "live.sqlite")
w = subprocess.Popen([WRITER, store, "0", "10", "1000"], stdout=subprocess.PIPE, text=True)
run_id = w.stdout.readline().split()[1]
w.stdout.readline()
p = run(["runs", "delete", run_id, "--store", store], check=False)
c.check(p.returncode == 1 and "still running" in p.stderr, f"delete of a live run refused: {p.stderr}")
w.terminate()
w.wait()

# Files that are not stores: exit 1, a message naming the file, nothing written.
bad = os.path.join(tmp, "notes.txt")
with open(bad, "w") as f:
    f.write("not a database\n")
for sub in (["list"], ["delete", "1"]):
    p = run(["runs"] + sub + ["--store", bad], check=False)
    c.check(p.returncode == 1 and "notes.txt" in p.stderr, f"runs {sub} on a text file: {p.stderr}")
with open(bad) as f:
    c.check(f.read() == "not a database\n", "the text file is untouched")
p = run(["runs", "--store", os.path.join(tmp, "nope.sqlite")], check=False)
c.check(p.returncode == 1 and "does not exist" in p.stderr, "missing store")

# A new user's first `toposcope runs`: no default store yet is no error; it
# says where the store will be (and creates nothing).
fresh = os.path.join(tmp, "fresh-home")
env = dict(os.environ, XDG_DATA_HOME=fresh)
p = run(["runs"], check=False, env=env)
c.check(p.returncode == 0 and "No runs yet" in p.stdout and os.path.join(fresh, "toposcope", "runs.sqlite") in p.stdout,
        f"runs without a store: {p.returncode} {p.stdout} {p.stderr}")
c.check(not os.path.exists(fresh), "runs without a store creates nothing")
p = run(["runs", "show", "1"], check=False, env=env)
c.check(p.returncode == 1 and "does not exist" in p.stderr, f"show without a store is an error: {p.stderr}")

subprocess.run(["rm", "-rf", tmp])
c.finish()
