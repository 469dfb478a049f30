"""PH-label pretraining and fine-tuning end to end: --task ph metrics and
label normalisation (against NumPy on the label cache), bit-for-bit resume,
--init loads exactly the matching tensors (bytes compared), --freeze
backbone leaves them bit-identical, --per-class subsets, --task
simultaneous on a labelled folder of class folders, --combined, the errors
(another architecture, missing / truncated --init, a class too small, NaN
labels, a diverging loss keeping the last checkpoint), and `toposcope
experiment` on tiny data (2 seeds, 1 epoch: table, CSV, grouped runs,
resumed)."""
import csv
import math
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tstest import Checks, run  # noqa: E402
from tsdata import bars, read_safetensors, write_idx  # noqa: E402

c = Checks()
tmp = tempfile.mkdtemp(prefix="ts-test-pretrain-")
store = os.path.join(tmp, "runs.sqlite")
T = lambda *a: os.path.join(tmp, *a)  # noqa: E731


def read_cache(path):
    """A label cache (format in ph/label-cache.h): names and labels."""
    with open(path, "rb") as f:
        raw = f.read()
    nd, nb = struct.unpack_from("<II", raw, 12)
    count, = struct.unpack_from("<Q", raw, 24)
    row, = struct.unpack_from("<I", raw, 36)
    off, = struct.unpack_from("<Q", raw, 40)
    names, labels = [], np.zeros((count, nd), np.float32)
    for i in range(count):
        r = raw[off + i * row: off + (i + 1) * row]
        names.append(r[:nb].rstrip(b"\0").decode())
        labels[i] = np.frombuffer(r[nb:], np.float32)
    return names, labels, (off, row, nb)


def runs():
    with sqlite3.connect(store) as con:
        return con.execute("SELECT id, status, experiment, cell, parent FROM runs ORDER BY id").fetchall()


def metric(rid, name):
    with sqlite3.connect(store) as con:
        return [r[0] for r in con.execute("SELECT value FROM metrics WHERE run=? AND name=? ORDER BY id", (rid, name))]


# Pretraining data: generated 28x28 grey images and their PH labels.
run(["generate", "-o", T("gen"), "-n", "96", "--val", "32", "--size", "28", "--prob-colour", "0", "--seed", "3",
     "--no-store", "--threads", "2"])
run(["label", T("gen", "train"), "-o", T("tr.tslab"), "--dims", "24", "--store", store, "--threads", "2"])
run(["label", T("gen", "val"), "-o", T("va.tslab"), "--dims", "24", "--store", store, "--threads", "2"])
names, labels, _ = read_cache(T("tr.tslab"))
pre = ["train", "--task", "ph", "--model", "lenet5", "--data", f"labels:{T('gen', 'train')},{T('tr.tslab')}",
       "--val", f"labels:{T('gen', 'val')},{T('va.tslab')}", "--batch", "16", "--optimizer", "adam", "--lr", "0.002",
       "--seed", "5", "--deterministic", "--store", store, "-q"]

# 1. --task ph: metrics, and the z-score fitted on the training labels.
A = T("ph.safetensors")
run(pre + ["--epochs", "2", "--save", A, "--threads", "2"])
ta, ma = read_safetensors(A)
rid = runs()[-1][0]
c.check(len(metric(rid, "train/loss")) == 12, f"train/loss per step: {len(metric(rid, 'train/loss'))}")
for k in ("val/loss", "val/mse", "val/r2_mean", "val/r2_median", "val/r2_min", "val/r2_max", "train/epoch_loss"):
    c.check(len(metric(rid, k)) == 2, f"{k} per epoch: {metric(rid, k)}")
c.check(all(math.isfinite(v) for v in metric(rid, "val/mse")), "val/mse finite")
c.check(ma["train.task"] == "ph" and ma["train.label_norm"] == "zscore" and ma["model.num_outputs"] == "24",
        f"checkpoint task metadata: {ma.get('train.task')} {ma.get('model.num_outputs')}")
mean = np.array([float(v) for v in ma["obj.label_mean"].split(",")])
std = np.array([float(v) for v in ma["obj.label_std"].split(",")])
ref_std = labels.astype(np.float64).std(0)
floor = 0.01 * np.sqrt(np.mean(ref_std ** 2))
ref_std[(ref_std < floor) | (ref_std <= 1e-12)] = floor
c.check(np.allclose(mean, labels.astype(np.float64).mean(0), rtol=1e-5, atol=1e-6), "label mean = NumPy's")
c.check(np.allclose(std, ref_std, rtol=1e-5, atol=1e-6), "label std = NumPy's (population)")

e = run(["eval", "--checkpoint", A, "--json"])
ej = __import__("json").loads(e.stdout)
c.check(ej["task"] == "ph" and abs(ej["val/mse"] - metric(rid, "val/mse")[-1]) < 1e-9 * max(1, ej["val/mse"]),
        f"eval of a ph checkpoint = its last val/mse: {ej} vs {metric(rid, 'val/mse')}")

# 2. Resume bit-for-bit: one epoch, then --resume to two (another thread count).
B = T("ph-half.safetensors")
run(pre + ["--epochs", "1", "--save", B, "--threads", "1"])
run(["train", "--resume", B, "--epochs", "2", "--threads", "2", "--store", store, "-q"])
tb, mb = read_safetensors(B)
c.check(all(np.array_equal(ta[k], tb[k]) for k in ta) and set(ta) == set(tb), "ph resume is bit-for-bit")
c.check(mb["obj.label_mean"] == ma["obj.label_mean"], "resume keeps the label normalisation")

# 3. --label-norm none: raw labels.
N = T("ph-raw.safetensors")
run(pre + ["--epochs", "1", "--save", N, "--label-norm", "none", "--threads", "2"])
_, mn = read_safetensors(N)
c.check(mn["train.label_norm"] == "none" and set(mn["obj.label_mean"].split(",")) == {"0"}
        and set(mn["obj.label_std"].split(",")) == {"1"}, "--label-norm none: identity")

# Fine-tuning data: bars, four classes.
x, y = bars(256, 1)
write_idx(T("im.idx"), x)
write_idx(T("lb.idx"), y)
vx, vy = bars(64, 2)
write_idx(T("vim.idx"), vx)
write_idx(T("vlb.idx"), vy)
spec, vspec = f"idx:{T('im.idx')},{T('lb.idx')}", f"idx:{T('vim.idx')},{T('vlb.idx')}"
ft = ["train", "--data", spec, "--val", vspec, "--epochs", "1", "--batch", "16", "--seed", "2", "--deterministic",
      "--store", store, "--threads", "2"]

# 4. --init loads exactly the matching tensors: with a zero learning rate
#    every non-head tensor is A's, byte for byte; the head is fresh.
Z = T("ft-lr0.safetensors")
p = run(ft + ["--init", A, "--optimizer", "sgd", "--lr", "0", "--momentum", "0", "--save", Z])
c.check("loaded 8 tensors" in p.stdout and "re-initialised 2: fc3.weight, fc3.bias" in p.stdout,
        f"--init says what it loaded: {p.stdout!r}")
tz, mz = read_safetensors(Z)
body = [k for k in tz if not k.startswith(("fc3.", "optim."))]
c.check(len(body) == 8 and all(tz[k].tobytes() == ta[k].tobytes() for k in body), "--init: matching tensors are A's bytes")
c.check(tz["fc3.weight"].shape == (10, 84) and mz["train.init"] == A, "--init: a fresh head for the IDX set's 10 classes, recorded")
fresh = T("ft-fresh.safetensors")
run(ft + ["--optimizer", "sgd", "--lr", "0", "--momentum", "0", "--save", fresh, "-q"])
tf, _ = read_safetensors(fresh)
c.check(np.array_equal(tf["fc3.weight"], tz["fc3.weight"]), "the head is initialised as a scratch run's")

# A checkpoint from before the objectives (none of their keys) still resumes, as classify.
tz_, mz_ = read_safetensors(Z)
old_meta = {k: v for k, v in mz_.items() if not k.startswith(("train.task", "train.ph_weight", "train.label_norm",
                                                             "train.init", "train.freeze", "data.per_class",
                                                             "data.subset_seed", "obj.", "pos.sums"))}
from tsdata import write_safetensors  # noqa: E402
write_safetensors(T("old.safetensors"), tz_, old_meta)
p = run(["train", "--resume", T("old.safetensors"), "--epochs", "2", "--store", store, "-q", "--threads", "2"],
        check=False)
_, mo = read_safetensors(T("old.safetensors"))
c.check(p.returncode == 0 and mo["pos.epoch"] == "2" and mo["train.task"] == "classify",
        f"an old checkpoint resumes: {p.stderr!r}")

# 5. --freeze backbone: the backbone's parameters stay bit-identical, the head learns.
F_ = T("ft-freeze.safetensors")
run(ft + ["--init", A, "--freeze", "backbone", "--optimizer", "sgd", "--lr", "0.05", "--save", F_, "-q"])
tfz, mfz = read_safetensors(F_)
c.check(all(tfz[k].tobytes() == ta[k].tobytes() for k in body), "--freeze backbone: backbone bit-identical")
c.check(not np.array_equal(tfz["fc3.weight"], tz["fc3.weight"]) and mfz["train.freeze"] == "backbone",
        "--freeze backbone: the head trained")
run(["train", "--resume", F_, "--epochs", "2", "--store", store, "-q", "--threads", "2"])
tfz2, _ = read_safetensors(F_)
c.check(all(tfz2[k].tobytes() == ta[k].tobytes() for k in body), "--freeze survives --resume")

# 6. --per-class: N of each class, reproducibly.
p = run(ft + ["--per-class", "5", "--subset-seed", "7", "--save", T("pc1.safetensors")])
c.check("20 training images" in p.stdout, f"--per-class 5 of 4 classes: {p.stdout!r}")
run(ft + ["--per-class", "5", "--subset-seed", "7", "--save", T("pc2.safetensors"), "-q"])
run(ft + ["--per-class", "5", "--subset-seed", "8", "--save", T("pc3.safetensors"), "-q"])
p1, p2, p3 = (read_safetensors(T(f"pc{i}.safetensors"))[0] for i in (1, 2, 3))
c.check(all(np.array_equal(p1[k], p2[k]) for k in p1), "same subset seed: same run")
c.check(not np.array_equal(p1["fc3.weight"], p3["fc3.weight"]), "another subset seed: another subset")

# 7. Errors: one line naming the file, exit 1, nothing written.
before = len(runs())
p = run(ft + ["--init", A, "--model", "mlp"], check=False)
c.check(p.returncode == 1 and "ph.safetensors" in p.stderr and "lenet5" in p.stderr and "fc1.weight" in p.stderr,
        f"another architecture: {p.stderr!r}")
p = run(ft + ["--init", T("nope.safetensors")], check=False)
c.check(p.returncode == 1 and "nope.safetensors" in p.stderr, f"missing --init: {p.stderr!r}")
with open(A, "rb") as f:
    half = f.read()[:3000]
with open(T("trunc.safetensors"), "wb") as f:
    f.write(half)
p = run(ft + ["--init", T("trunc.safetensors"), "--model", "lenet5"], check=False)
c.check(p.returncode == 1 and "trunc.safetensors" in p.stderr, f"truncated --init: {p.stderr!r}")
p = run(ft + ["--per-class", "100"], check=False)
c.check(p.returncode == 1 and "--per-class 100" in p.stderr and "64 images" in p.stderr, f"class too small: {p.stderr!r}")
c.check(len(runs()) == before, "no run recorded for refused inputs")
# NaN labels: a copy of the cache with one value NaN.
_, _, (off, row, nb) = read_cache(T("tr.tslab"))
raw = bytearray(open(T("tr.tslab"), "rb").read())
struct.pack_into("<f", raw, off + 3 * row + nb + 4 * 5, float("nan"))
open(T("nan.tslab"), "wb").write(bytes(raw))
p = run(["train", "--task", "ph", "--data", f"labels:{T('gen', 'train')},{T('nan.tslab')}", "--store", store],
        check=False)
c.check(p.returncode == 1 and "sample 3" in p.stderr and "non-finite" in p.stderr, f"NaN label: {p.stderr!r}")
# A label cache whose rows would be read misaligned (found by fuzzing): refused.
raw = bytearray(open(T("tr.tslab"), "rb").read())
struct.pack_into("<Q", raw, 40, off + 1)
open(T("odd.tslab"), "wb").write(bytes(raw))
p = run(["train", "--task", "ph", "--data", f"labels:{T('gen', 'train')},{T('odd.tslab')}", "--store", store],
        check=False)
c.check(p.returncode == 1 and "odd.tslab" in p.stderr and "corrupt" in p.stderr, f"misaligned cache: {p.stderr!r}")
# Validation labels computed with other parameters than the training labels.
run(["label", T("gen", "val"), "-o", T("va-other.tslab"), "--dims", "24", "--max-life", "30", "--store", store])
p = run(pre + ["--val", f"labels:{T('gen', 'val')},{T('va-other.tslab')}", "--epochs", "1"], check=False)
c.check(p.returncode == 1 and "other parameters" in p.stderr and "va-other.tslab" in p.stderr,
        f"labels of other parameters: {p.stderr!r}")
# A diverging loss: the run fails naming the step; the checkpoint already there stays.
shutil.copy(A, T("keep.safetensors"))
keep = open(T("keep.safetensors"), "rb").read()
p = run(["train", "--resume", T("keep.safetensors"), "--epochs", "3", "--store", store, "--threads", "2"],
        check=False)
c.check(p.returncode == 0, "resumed a third epoch")
good = open(T("keep.safetensors"), "rb").read()
p = run(pre + ["--epochs", "3", "--save", T("keep.safetensors"), "--optimizer", "sgd", "--lr", "1e5"], check=False)
c.check(p.returncode == 1 and "loss became" in p.stderr and "step" in p.stderr, f"diverging: {p.stderr!r}")
c.check(open(T("keep.safetensors"), "rb").read() == good, "the last good checkpoint is kept")

# 8. --task simultaneous on a labelled folder of class folders.
for k in range(4):
    os.makedirs(T("cls", f"c{k}"), exist_ok=True)
for i in range(48):
    with open(T("cls", f"c{y[i]}", f"{i:03d}.pgm"), "wb") as f:
        f.write(b"P5 28 28 255\n" + x[i].tobytes())
run(["label", T("cls"), "-o", T("cls.tslab"), "--dims", "12", "--store", store, "--threads", "2"])
S = T("sim.safetensors")
p = run(["train", "--task", "simultaneous", "--ph-weight", "0.5", "--data", f"labels:{T('cls')},{T('cls.tslab')}",
         "--val", f"labels:{T('cls')},{T('cls.tslab')}", "--epochs", "1", "--batch", "16", "--save", S,
         "--store", store, "--threads", "2"])
ts_, ms = read_safetensors(S)
rid = runs()[-1][0]
c.check(ms["model.num_outputs"] == "16" and ms["train.task"] == "simultaneous" and ms["train.ph_weight"] == "0.5",
        f"simultaneous head 4 classes + 12 dims: {ms.get('model.num_outputs')}")
c.check(all(len(metric(rid, k)) == 1 for k in ("val/accuracy", "val/mse", "val/ce", "val/r2_mean", "train/accuracy")),
        "simultaneous: accuracy and mse metrics")
c.check(len(metric(rid, "train/mse")) == 3 and len(metric(rid, "train/ce")) == 3, "per-step ce and mse")
p = run(["train", "--task", "ph", "--data", spec, "--store", store], check=False)
c.check(p.returncode == 1 and "PH labels" in p.stderr, f"ph on a set without labels: {p.stderr!r}")

# 9. --combined: two runs, the second pointing at the first.
p = run(["train", "--combined", "--pretrain-data", f"labels:{T('gen', 'train')},{T('tr.tslab')}",
         "--pretrain-epochs", "1", "--data", spec, "--val", vspec, "--epochs", "1", "--batch", "16",
         "--store", store, "--threads", "2", "-q"])
r = runs()
c.check(r[-1][4] == r[-2][0] and r[-1][1] == r[-2][1] == "finished", f"--combined runs: {r[-2:]}")

# 10. toposcope experiment on tiny data: 2 inits x 1 subset x 2 seeds, 1 epoch.
exp = ["experiment", "--data", spec, "--val", vspec, "--init", f"scratch,{A}", "--per-class", "10", "--seeds", "2",
       "--model", "lenet5", "--epochs", "1", "--batch", "16", "--optimizer", "adam", "--lr", "0.002",
       "--store", store, "--threads", "2", "--jobs", "2", "-o", T("table")]
p = run(exp)
c.check("scratch" in p.stdout and "ph" in p.stdout and "+-" in p.stdout, f"table printed: {p.stdout!r}")
rows = list(csv.DictReader(open(T("table.csv"))))
c.check(len(rows) == 4 and {r["init"] for r in rows} == {"scratch", "ph"}, f"CSV rows: {rows}")
c.check(all(0 <= float(r["top1"]) <= float(r["top5"]) <= 1 for r in rows), "top-1 <= top-5")
md = open(T("table.md")).read()
c.check(md.startswith("| init |") and md.count("\n") == 4, f"Markdown table: {md!r}")
grouped = [r for r in runs() if r[2]]
c.check(len(grouped) == 4 and len({r[3] for r in grouped}) == 4 and len({r[2] for r in grouped}) == 1,
        f"runs grouped under one experiment: {grouped}")
p = run(exp)
c.check("4 already done" in p.stdout and len([r for r in runs() if r[2]]) == 4, f"resumed: {p.stdout!r}")

# 11. generate: equals generate + label, and is the same with any loader thread count.
gs = "32,count=6,val=3,pc=0.5,pb=0.5,dims=16,seed=5,life=40:30"
run(["generate", "-o", T("gfiles"), "-n", "12", "--val", "3", "--size", "32", "--prob-colour", "0.5",
     "--prob-binary", "0.5", "--seed", "5", "--format", "png", "--no-store", "--threads", "2"])
run(["label", T("gfiles"), "-o", T("gfiles.tslab"), "--dims", "16", "--max-life", "40", "30", "--store", store])
p = subprocess.run([os.environ["GEN_STREAM_CHECK"], gs, T("gfiles"), T("gfiles.tslab"), "2"], capture_output=True,
                   text=True, timeout=120)
c.check(p.returncode == 0 and "12 pictures compared, 0 differences" in p.stdout,
        f"generate: stream = generate + label files: {p.stdout} {p.stderr}")
gen = ["train", "--task", "ph", "--data", "generate:28", "--gen-count", "64", "--gen-val", "16", "--prob-colour", "0",
       "--label-dims", "16", "--model", "lenet5", "--epochs", "2", "--batch", "16", "--optimizer", "adam",
       "--deterministic", "--store", store, "-q", "--threads", "2"]
run(gen + ["--loader-threads", "0", "--save", T("g0.safetensors")])
run(gen + ["--loader-threads", "3", "--save", T("g3.safetensors")])
g0, m0 = read_safetensors(T("g0.safetensors"))
g3, _ = read_safetensors(T("g3.safetensors"))
c.check(all(np.array_equal(g0[k], g3[k]) for k in g0), "generate: the same run with 0 and 3 loader threads")
c.check(m0["data.train"].startswith("generate:28,count=64,val=16,") and "dims=16" in m0["data.train"],
        f"the checkpoint records the whole recipe: {m0['data.train']}")
run(["train", "--resume", T("g0.safetensors"), "--epochs", "3", "--store", store, "-q", "--threads", "2"])
c.check(read_safetensors(T("g0.safetensors"))[1]["pos.epoch"] == "3", "a generate: run resumes from its recipe")

# 12. A folder larger than --in-memory streams from disk: the same run,
#     bit for bit, in far less memory (peak RSS of the process).
rng = np.random.default_rng(4)
nbig = 2000
for k in range(2):
    os.makedirs(T("big", f"k{k}"), exist_ok=True)
for i in range(nbig):
    img = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    img[:, :, i % 2] //= 4
    with open(T("big", f"k{i % 2}", f"{i:05d}.ppm"), "wb") as f:
        f.write(b"P6 64 64 255\n" + img.tobytes())
big = ["train", "--data", f"folder:{T('big')}", "--val", "none", "--model", "lenet5", "--epochs", "1", "--batch", "32",
       "--deterministic", "--normalize", "0.5/0.25", "--store", store, "-q", "--threads", "2", "--loader-threads", "2"]


def peak_rss(args):
    """Peak RSS of a run, measured by GNU time when it is there (a child
    forked straight from Python inherits Python's high-water mark), else
    by wait4."""
    timer = ["/usr/bin/time", "-f", "maxrss %M"] if os.path.exists("/usr/bin/time") else []
    p = subprocess.Popen(timer + [os.environ["TOPOSCOPE"]] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    _, status, usage = os.wait4(p.pid, 0)
    _, err = p.communicate()
    c.check(os.waitstatus_to_exitcode(status) == 0, f"toposcope {' '.join(args[:3])} ran: {err[-300:]}")
    lines = [x for x in err.splitlines() if x.startswith("maxrss ")]
    return int(lines[-1].split()[1]) * 1024 if timer and lines else usage.ru_maxrss * 1024


mem = peak_rss(big + ["--save", T("big-mem.safetensors")])
streamed = peak_rss(big + ["--save", T("big-stream.safetensors"), "--in-memory", "4"])
pix = nbig * 64 * 64 * 3
print(f"peak RSS: in memory {mem / 2**20:.1f} MiB, streamed {streamed / 2**20:.1f} MiB ({pix / 2**20:.1f} MiB of pictures)")
c.check(streamed < mem - pix // 2, f"streaming keeps the pictures out of memory: {streamed} vs {mem} bytes")
bm, _ = read_safetensors(T("big-mem.safetensors"))
bs, _ = read_safetensors(T("big-stream.safetensors"))
c.check(all(np.array_equal(bm[k], bs[k]) for k in bm), "a streamed folder trains exactly as in memory")
# --per-class on the streamed folder: the subset and the run of the same folder in memory.
sub = ["--per-class", "40", "--subset-seed", "3"]
run(big + sub + ["--save", T("big-mem-pc.safetensors")])
run(big + sub + ["--save", T("big-stream-pc.safetensors"), "--in-memory", "4", "--loader-threads", "1"])
bm, _ = read_safetensors(T("big-mem-pc.safetensors"))
bs, _ = read_safetensors(T("big-stream-pc.safetensors"))
c.check(all(np.array_equal(bm[k], bs[k]) for k in bm) and not np.array_equal(bm["fc3.weight"], read_safetensors(
    T("big-mem.safetensors"))[0]["fc3.weight"]), "--per-class on a streamed folder: the in-memory subset's run")
# A label cache whose folder lost a picture: refused when it is opened, streamed or not.
shutil.copytree(T("gen", "train"), T("gen-lost"))
os.remove(T("gen-lost", names[5]))
for mem_opt in ("0", "1024"):
    p = run(["train", "--task", "ph", "--data", f"labels:{T('gen-lost')},{T('tr.tslab')}", "--in-memory", mem_opt,
             "--store", store], check=False)
    c.check(p.returncode == 1 and names[5] in p.stderr and "tr.tslab" in p.stderr,
            f"a label cache that does not match its folder (--in-memory {mem_opt}): {p.stderr!r}")

subprocess.run(["rm", "-rf", tmp])
c.finish()
