"""`toposcope probe --what graph` under mpirun: rank 0 makes the signals, each
rank its share of the correlation rows, rank 0 the Rips. On 1, 2 and 3 ranks
the diagram CSV, the JSON (Betti curves, lives) and the dumped distance
matrix are the single process's byte for byte; the other ranks write and
print nothing (one run in the store)."""
import json
import os
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.environ.get("PYTHONPATH", "."))
import tsmpi  # noqa: E402
import tstest  # noqa: E402

tsmpi.mpi_or_skip()
exe = tstest.toposcope()
C = tstest.Checks()

with tempfile.TemporaryDirectory() as tmp:
    ck = os.path.join(tmp, "a.safetensors")
    tstest.run(["train", "--model", "lenet-dnn", "--data", "fashion-mnist", "--limit", "200", "--val", "none",
                "--epochs", "1", "--batch", "50", "--quiet", "--threads", "1", "--save", ck])
    out = {}
    for n in (1, 2, 3):
        d = os.path.join(tmp, f"n{n}")
        os.mkdir(d)
        args = [exe, "probe", ck, "--what", "graph", "--graph-images", "150", "--limit", "200", "--threads", "1",
                "--deterministic", "--graph-diagram", f"{d}/g.csv", "-o", f"{d}/g.json", "--embeddings", d,
                "--store", f"{d}/s.sqlite"]
        p = tsmpi.mpirun(n, args) if n > 1 else tstest.run(args[1:])
        out[n] = p
        runs = sqlite3.connect(f"{d}/s.sqlite").execute("select kind, status from runs").fetchall()
        C.check(runs == [("probe", "finished")], f"{n} ranks: one finished probe run in the store: {runs}")
    read = lambda n, f: open(os.path.join(tmp, f"n{n}", f), "rb").read()  # noqa: E731
    C.check(len(read(1, "g.csv").splitlines()) > 5, "the diagram has pairs")
    for n in (2, 3):
        C.check(read(n, "g.csv") == read(1, "g.csv"), f"{n} ranks: the diagram CSV is one process's")
        C.check(read(n, "graph-distances.npy") == read(1, "graph-distances.npy"),
                f"{n} ranks: the distance matrix is one process's, bit for bit")
        a = json.loads(read(1, "g.json"))["probes"][0]["probe"]["graph"]
        b = json.loads(read(n, "g.json"))["probes"][0]["probe"]["graph"]
        for k in ("betti", "avglife", "midlife", "pairs"):
            C.check(a.get(k) == b.get(k) and a.get(k) is not None, f"{n} ranks: graph {k} as one process's")
        C.check(out[n].stdout.count("epoch") == out[1].stdout.count("epoch"),
                f"{n} ranks: one report (rank 0's), not {out[n].stdout.count('epoch')}")
C.finish()
