"""toposcope train / eval end to end: metrics in the store, SIGTERM writes a
loadable checkpoint and marks the run stopped, --resume continues
bit-for-bit (mid-epoch and at an epoch boundary, with another thread count),
overfitting 64 FashionMNIST images, and clear errors."""
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tstest import Checks, run, toposcope  # noqa: E402
from tsdata import bars, read_safetensors, write_idx  # noqa: E402

c = Checks()
tmp = tempfile.mkdtemp(prefix="ts-test-train-")
store = os.path.join(tmp, "runs.sqlite")
x, y = bars(1024, 1)
write_idx(os.path.join(tmp, "im.idx"), x)
write_idx(os.path.join(tmp, "lb.idx"), y)
vx, vy = bars(200, 2)
write_idx(os.path.join(tmp, "vim.idx"), vx)
write_idx(os.path.join(tmp, "vlb.idx"), vy)
spec = f"idx:{tmp}/im.idx,{tmp}/lb.idx"
vspec = f"idx:{tmp}/vim.idx,{tmp}/vlb.idx"
common = ["train", "--model", "lenet5", "--data", spec, "--val", vspec, "--epochs", "3", "--batch", "16",
          "--optimizer", "sgd", "--lr", "0.02", "--momentum", "0.9", "--augment", "crop:2",
          "--seed", "11", "--deterministic", "--store", store, "-q"]


def db():
    con = sqlite3.connect(store, timeout=10)
    return con


def runs():
    with db() as con:
        return con.execute("SELECT id, status, progress_done, progress_total FROM runs ORDER BY id").fetchall()


# 1. The reference: three epochs without interruption.
ref = os.path.join(tmp, "ref.safetensors")
run(common + ["--save", ref, "--threads", "2"])
ref_t, ref_m = read_safetensors(ref)
rid = runs()[-1][0]
with db() as con:
    steps = [r[0] for r in con.execute("SELECT step FROM metrics WHERE run=? AND name='train/loss' ORDER BY step", (rid,))]
    vacc = [r[0] for r in con.execute("SELECT value FROM metrics WHERE run=? AND name='val/accuracy' ORDER BY step", (rid,))]
    arts = con.execute("SELECT kind, path FROM artifacts WHERE run=?", (rid,)).fetchall()
    status = con.execute("SELECT status, progress_done, progress_total FROM runs WHERE id=?", (rid,)).fetchone()
c.check(steps == list(range(1, 193)), f"one train/loss row per step (192): {len(steps)}")
c.check(len(vacc) == 3 and vacc[-1] > 0.9, f"val/accuracy per epoch, learning the bars: {vacc}")
c.check(("checkpoint", ref) in arts, f"checkpoint artifact: {arts}")
c.check(status == ("finished", 192, 192), f"run finished with full progress: {status}")
c.check(ref_m["pos.epoch"] == "3" and ref_m["pos.global_step"] == "192", f"position {ref_m}")

# 2. SIGTERM mid-run: a loadable checkpoint, the run marked stopped.
ck = os.path.join(tmp, "ck.safetensors")
before = len(runs())
p = subprocess.Popen([toposcope()] + common + ["--save", ck, "--threads", "2"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.time() + 120
while time.time() < deadline and p.poll() is None:
    r = runs()
    if len(r) > before and r[-1][2] and r[-1][2] >= 5:
        break
    time.sleep(0.01)
p.send_signal(signal.SIGTERM)
out, err = p.communicate(timeout=120)
stopped_id, st, done, total = runs()[-1]
c.check(p.returncode == 143 and "checkpoint written" in err, f"stopped: exit {p.returncode}, stderr {err!r}")
c.check(st == "stopped", f"run status after SIGTERM: {st}")
t, m = read_safetensors(ck)
c.check(0 < int(m["pos.global_step"]) < 192, f"stopped mid-run at step {m['pos.global_step']}")
e = run(["eval", "--checkpoint", ck, "--data", vspec, "--json"], check=False)
c.check(e.returncode == 0 and '"accuracy"' in e.stdout, f"the stopped checkpoint evaluates: {e.stderr}")

# 3. Resume to the end of epoch 2 (another thread count), then to 3: bit-for-bit the reference.
stop_step = int(m["pos.global_step"])
if stop_step < 128:
    run(["train", "--resume", ck, "--epochs", "2", "--threads", "1", "--store", store, "-q"])
    t, m = read_safetensors(ck)
    c.check(m["pos.epoch"] == "2" and m["pos.batch"] == "0", f"at the epoch boundary: {m['pos.epoch']} {m['pos.batch']}")
run(["train", "--resume", ck, "--epochs", "3", "--threads", "2", "--store", store, "-q"])
t, m = read_safetensors(ck)
same = sorted(t) == sorted(ref_t) and all(np.array_equal(t[k], ref_t[k]) for k in ref_t)
diff = [k for k in ref_t if k in t and not np.array_equal(t[k], ref_t[k])]
c.check(same, f"resumed run equals the uninterrupted one bit for bit (differing: {diff[:5]})")
c.check(all(m[k] == ref_m[k] for k in ref_m if k.startswith("pos.")), "same final position and sums")
with db() as con:
    st2 = con.execute("SELECT status FROM runs WHERE id=?", (stopped_id,)).fetchone()[0]
    steps2 = [r[0] for r in con.execute("SELECT step FROM metrics WHERE run=? AND name='train/loss' ORDER BY step",
                                       (stopped_id,))]
    losses = {r[0]: r[1] for r in con.execute("SELECT step, value FROM metrics WHERE run=? AND name='train/loss'", (rid,))}
    losses2 = {r[0]: r[1] for r in con.execute("SELECT step, value FROM metrics WHERE run=? AND name='train/loss'",
                                              (stopped_id,))}
c.check(st2 == "finished" and len(runs()) == before + 1, f"resume continues the same run: {st2}, {len(runs())} runs")
c.check(steps2 == list(range(1, 193)), f"the resumed run's steps are 1..192 once each ({len(steps2)})")
c.check(losses == losses2, "per-step losses equal the reference's")

# Without --save, checkpoints go to checkpoints/run-ID.safetensors beside the store.
run(["train", "--data", spec, "--val", "none", "--limit", "64", "--epochs", "1", "--store", store, "-q"])
last_id = runs()[-1][0]
auto = os.path.join(tmp, "checkpoints", f"run-{last_id}.safetensors")
with db() as con:
    arts = con.execute("SELECT kind, path FROM artifacts WHERE run=?", (last_id,)).fetchall()
c.check(os.path.exists(auto) and ("checkpoint", auto) in arts, f"default checkpoint {auto}: {arts}")

# 4. Overfitting 64 FashionMNIST images.
if os.path.exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"):
    of = os.path.join(tmp, "of.safetensors")
    run(["train", "--data", "fashion-mnist", "--limit", "64", "--val", "none", "--epochs", "60", "--batch", "64",
         "--optimizer", "adam", "--lr", "0.003", "--save", of, "--store", store, "-q"])
    e = run(["eval", "--checkpoint", of, "--split", "train", "--limit", "64", "--json"])
    import json
    r = json.loads(e.stdout)
    c.check(r["count"] == 64 and r["loss"] < 0.05 and r["accuracy"] == 1.0, f"overfit 64 images: {r}")
else:
    print("SKIP (part): FashionMNIST is not installed (apt install dataset-fashion-mnist)")

# 5. Errors.
p = run(["train", "--data", "nonsense"], check=False)
c.check(p.returncode == 1 and "unknown dataset 'nonsense'" in p.stderr, f"bad data spec: {p.stderr!r}")
p = run(["train", "--data", spec, "--model", "vgg"], check=False)
c.check(p.returncode == 2 and "--model" in p.stderr, f"bad model: {p.stderr!r}")
p = run(["train", "--resume", ck, "--lr", "0.1"], check=False)
c.check(p.returncode == 2 and "--resume" in p.stderr, f"--resume with a setting: {p.stderr!r}")
p = run(["train", "--data", spec, "--schedule", "sawtooth", "--store", store], check=False)
c.check(p.returncode == 2 and "sawtooth" in p.stderr, f"bad schedule: {p.stderr!r}")
with open(os.path.join(tmp, "junk.safetensors"), "wb") as f:
    f.write(b"\xff" * 64)
p = run(["eval", "--checkpoint", os.path.join(tmp, "junk.safetensors"), "--data", spec], check=False)
c.check(p.returncode == 1 and "junk.safetensors" in p.stderr and "header length" in p.stderr, f"junk: {p.stderr!r}")
p = run(["train", "--resume", os.path.join(tmp, "junk.safetensors")], check=False)
c.check(p.returncode == 1 and "junk.safetensors" in p.stderr, f"resume junk: {p.stderr!r}")
p = run(["train", "--data", spec, "--lr", "1e5", "--epochs", "1", "--store", store, "--val", "none"], check=False)
c.check(p.returncode == 1 and "loss became" in p.stderr, f"diverging run fails clearly: {p.stderr!r}")
with db() as con:
    last = con.execute("SELECT status, message FROM runs ORDER BY id DESC LIMIT 1").fetchone()
c.check(last[0] == "failed" and "loss became" in (last[1] or ""), f"failed run recorded: {last}")
subprocess.run(["rm", "-rf", tmp])
c.finish()
