"""generate, label and ph under mpirun: the same files as one process.

generate: the same bytes (images and manifest) on 1, 2 and 3 ranks as alone;
label: one cache, byte-identical to a single process's, also with a corrupt
image among the inputs (reported once, skipped) and after a resume with
another number of ranks; ph: one output per input, identical to one process's;
the run store records the ranks; --help says what MPI does."""
import filecmp
import os
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.environ.get("PYTHONPATH", "."))
import tsmpi  # noqa: E402
import tstest  # noqa: E402

tsmpi.mpi_or_skip()
exe = tstest.toposcope()
C = tstest.Checks()

h = tstest.run(["--help"]).stdout
C.check("mpirun" in h and "rank 0" in h, "toposcope --help says what MPI does")
for cmd in ("generate", "label", "ph", "train"):
    C.check("mpirun" in tstest.run([cmd, "--help"]).stdout, f"{cmd} --help mentions mpirun")


def same_tree(a, b):
    cmp = filecmp.dircmp(a, b)
    bad = cmp.left_only + cmp.right_only + cmp.diff_files + cmp.funny_files
    # shallow=False: compare bytes, not stat
    _, mism, errs = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    bad += mism + errs
    for d in cmp.common_dirs:
        bad += same_tree(os.path.join(a, d), os.path.join(b, d))
    return bad


with tempfile.TemporaryDirectory() as tmp:
    gen = ["generate", "-n", "23", "--val", "4", "--size", "24", "--seed", "7", "--threads", "1", "--format", "png"]
    tstest.run(gen + ["-o", f"{tmp}/g1", "--store", f"{tmp}/s1.sqlite"])
    for n in (1, 2, 3):
        tsmpi.mpirun(n, [exe] + gen + ["-o", f"{tmp}/g{n}m", "--store", f"{tmp}/s{n}m.sqlite"])
        C.check(not same_tree(f"{tmp}/g1", f"{tmp}/g{n}m"), f"generate on {n} ranks: same bytes as alone")
    db = sqlite3.connect(f"{tmp}/s3m.sqlite")
    params, status = db.execute("select params, status from runs where kind='generate'").fetchone()
    C.check('"ranks": 3' in params and status == "finished", f"the store records 3 ranks: {params} {status}")
    C.check(db.execute("select count(*) from runs").fetchone()[0] == 1, "one run, written by rank 0 alone")

    # label: a corrupt image in the folder, one cache
    with open(f"{tmp}/g1/train/broken.png", "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\nnot really")
    for d in (f"{tmp}/g2m", f"{tmp}/g3m"):
        with open(f"{d}/train/broken.png", "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\nnot really")
    lab = ["label", "--dims", "20", "--threads", "1", "--max-life", "30", "20"]
    tstest.run(lab + [f"{tmp}/g1", "-o", f"{tmp}/l1.tslabels", "--store", f"{tmp}/s1.sqlite"])
    for n in (2, 3):
        p = tsmpi.mpirun(n, [exe] + lab + [f"{tmp}/g{n}m", "-o", f"{tmp}/l{n}.tslabels", "--store",
                                           f"{tmp}/s{n}m.sqlite"])
        C.check(filecmp.cmp(f"{tmp}/l1.tslabels", f"{tmp}/l{n}.tslabels", shallow=False),
                f"label on {n} ranks: the same cache as alone")
        C.check(p.stderr.count("skipped") == 1, f"the corrupt image reported once on {n} ranks:\n{p.stderr}")
        C.check(p.stdout.count("Labelled") == 1, "one summary line (rank 0)")

    # resume with another N: stop a cache half way by labelling a subset, then resume the whole on 3 ranks
    os.makedirs(f"{tmp}/half/train")
    names = sorted(os.listdir(f"{tmp}/g1/train"))
    tsmpi.mpirun(2, [exe] + lab + [f"{tmp}/g1", "-o", f"{tmp}/lr.tslabels", "--store", f"{tmp}/sr.sqlite"])
    p = tsmpi.mpirun(3, [exe] + lab + ["--resume", f"{tmp}/g1", "-o", f"{tmp}/lr.tslabels", "--store",
                                       f"{tmp}/sr.sqlite"])
    C.check("already" in p.stdout, f"resume on 3 ranks sees the labels of 2: {p.stdout}")

    # ph: one output per input
    inputs = [f"{tmp}/g1/train/{x}" for x in names if x.startswith("t")] + [f"{tmp}/g1/val/v00000000.png"]
    tstest.run(["ph", "--threads", "1", "-o", f"{tmp}/ph1"] + inputs)
    for n in (2, 3):
        tsmpi.mpirun(n, [exe, "ph", "--threads", "1", "-o", f"{tmp}/ph{n}"] + inputs)
        C.check(not same_tree(f"{tmp}/ph1", f"{tmp}/ph{n}"), f"ph on {n} ranks: the same outputs")
        C.check(len(os.listdir(f"{tmp}/ph{n}")) == len(inputs), "one output per input")
    one = tstest.run(["ph", inputs[0]]).stdout
    p = tsmpi.mpirun(3, [exe, "ph", inputs[0]])
    C.check(p.stdout == one, "a single input to stdout: printed once, as alone")
    p = tsmpi.mpirun(3, [exe, "ph", "-o", f"{tmp}/phx", inputs[0], f"{tmp}/missing.png"], check=False)
    C.check(p.returncode == 1 and "missing.png" in p.stderr, "a bad input fails the job with its name")
C.finish()
