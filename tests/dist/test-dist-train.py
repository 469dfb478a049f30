"""Data-parallel training under mpirun.

- A model without batch norm (LeNet-5, MLP) trained on 2 and 3 ranks (a
  global batch that 3 does not divide) ends within 1e-6 of the single-process
  run with the same global batch: parameters, optimiser state, loss metrics;
  so does --task ph on generate: data made per rank, and a global batch
  smaller than the ranks; --sync-bn matches one process.
- Ctrl-C on mpirun stops all ranks at one step with a checkpoint; the run
  is marked stopped and resumes on another N.
- --deterministic on 2 ranks, with batch norm (a small ResNet-18): two runs
  give the same bits.
- A checkpoint written by 2 ranks resumes on 3 (and on 1) and ends where the
  uninterrupted single-process run ends; the store and the checkpoint record
  the ranks; rank 0 alone writes (one run in the store).
- kill -9 of one rank: the job ends within seconds, the last checkpoint is
  intact, the run is failed or interrupted, never left running."""
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.environ.get("PYTHONPATH", "."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "train"))
import tsmpi  # noqa: E402
import tstest  # noqa: E402

tsmpi.mpi_or_skip()
np = tstest.require("numpy")
import tsdata  # noqa: E402

exe = tstest.toposcope()
C = tstest.Checks()


def make_data(d, n, seed):
    """Class-dependent 28x28 pictures (a bright row or column by class) over noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.integers(0, 90, (n, 28, 28))
    for i in range(n):
        k = 4 + 5 * y[i]
        if y[i] % 2:
            x[i, k:k + 3, :] += 150
        else:
            x[i, :, k:k + 3] += 150
    tsdata.write_idx(f"{d}/img-{n}", np.clip(x, 0, 255))
    tsdata.write_idx(f"{d}/lab-{n}", y)
    return f"idx:{d}/img-{n},{d}/lab-{n}"


def rel(a, b):
    return max(float(np.max(np.abs(a[k].astype(np.float64) - b[k]) / np.maximum(1, np.abs(a[k])))) for k in a)


def train(n, args, ck, store, check=True):
    cmd = [exe, "train", "--threads", "1", "--save", ck, "--store", store, "-q", "--val", "none"] + args
    if n == 0:
        return tstest.run(cmd[1:], check=check)
    return tsmpi.mpirun(n, cmd, check=check)


with tempfile.TemporaryDirectory() as tmp:
    data = make_data(tmp, 300, 1)
    # Adam divides by sqrt(v): on gradients near zero it turns the last-bit
    # differences of a sum in another order into visible ones (measured
    # 1.3e-5 after 12 steps), so it gets a looser bound; SGD must hold 1e-6.
    for model, tol in ((["--model", "lenet5"], 1e-6),
                       (["--model", "mlp", "--hidden", "32,16", "--nesterov", "--weight-decay", "1e-3"], 1e-6),
                       (["--model", "mlp", "--hidden", "32,16", "--optimizer", "adam", "--lr", "0.003"], 1e-4)):
        base = model + ["--data", data, "--epochs", "2", "--batch", "50", "--seed", "3", "--deterministic"]
        train(0, base, f"{tmp}/one.st", f"{tmp}/one.sqlite")
        ref, _ = tsdata.read_safetensors(f"{tmp}/one.st")
        for n in (2, 3):
            train(n, base, f"{tmp}/n{n}.st", f"{tmp}/n{n}.sqlite")
            got, meta = tsdata.read_safetensors(f"{tmp}/n{n}.st")
            d = rel(ref, got)
            C.check(set(ref) == set(got) and d < tol, f"{' '.join(model)} on {n} ranks: {d:.2e} from one process")
            print(f"{' '.join(model)} on {n} ranks: {d:.2e} from one process")
            C.check(meta.get("train.ranks") == str(n), f"the checkpoint records {n} ranks")
            db = sqlite3.connect(f"{tmp}/n{n}.sqlite")
            runs = db.execute("select params, status from runs").fetchall()
            C.check(len(runs) == 1 and f'"ranks":{n}' in runs[0][0].replace(" ", "") and runs[0][1] == "finished",
                    f"one finished run recording {n} ranks: {runs}")
            l1 = sqlite3.connect(f"{tmp}/one.sqlite").execute(
                "select value from metrics where name='train/loss' order by step").fetchall()
            ln = db.execute("select value from metrics where name='train/loss' order by step").fetchall()
            C.check(len(l1) == len(ln) and max(abs(a[0] - b[0]) for a, b in zip(l1, ln)) < 1e-5,
                    f"per-step losses on {n} ranks match one process")
            db.close()
            os.remove(f"{tmp}/n{n}.sqlite")
        os.remove(f"{tmp}/one.sqlite")

    # --task ph on generate: data (pictures and PH labels made on the fly): each
    # rank makes only its shares, from the same (seed, epoch, index) streams
    gen = ["--task", "ph", "--data", "generate:28", "--gen-count", "48", "--gen-val", "8", "--prob-colour", "0",
           "--label-dims", "16", "--model", "lenet5", "--epochs", "2", "--batch", "16", "--deterministic"]
    train(0, gen, f"{tmp}/g1.st", f"{tmp}/g1.sqlite")
    train(3, gen, f"{tmp}/g3.st", f"{tmp}/g3.sqlite")
    d = rel(tsdata.read_safetensors(f"{tmp}/g1.st")[0], tsdata.read_safetensors(f"{tmp}/g3.st")[0])
    C.check(d < 1e-6, f"--task ph on generate: data, 3 ranks: {d:.2e} from one process")

    # a global batch smaller than the ranks: one rank's share is empty every step
    tiny = ["--model", "lenet5", "--data", data, "--limit", "20", "--epochs", "1", "--batch", "2", "--deterministic"]
    train(0, tiny, f"{tmp}/t1.st", f"{tmp}/t1.sqlite")
    train(3, tiny, f"{tmp}/t3.st", f"{tmp}/t3.sqlite")
    d = rel(tsdata.read_safetensors(f"{tmp}/t1.st")[0], tsdata.read_safetensors(f"{tmp}/t3.st")[0])
    C.check(d < 1e-6, f"batch 2 on 3 ranks (an empty share each step): {d:.2e} from one process")

    # bit-identical run to run for a given N, with batch norm
    rn = ["--model", "resnet18", "--small-stem", "--width", "0.125", "--data", data, "--limit", "96", "--epochs", "1",
          "--batch", "32", "--deterministic", "--augment", "crop:2,flip"]
    train(2, rn, f"{tmp}/r1.st", f"{tmp}/r1.sqlite")
    train(2, rn, f"{tmp}/r2.st", f"{tmp}/r2.sqlite")
    a, _ = tsdata.read_safetensors(f"{tmp}/r1.st")
    b, _ = tsdata.read_safetensors(f"{tmp}/r2.st")
    C.check(all(np.array_equal(a[k], b[k]) for k in a), "ResNet-18 (batch norm) on 2 ranks: the same bits twice")

    # --sync-bn: batch norm over the global batch, as one process computes it
    # (one step: this small ResNet on noise turns last-bit differences into
    # 1e-3 within five steps, as one process with another summation order
    # does too); without it each rank normalises its own share.
    rn1 = ["--model", "resnet18", "--small-stem", "--width", "0.125", "--data", data, "--limit", "40", "--epochs",
           "1", "--batch", "40", "--deterministic"]
    train(0, rn1, f"{tmp}/b1.st", f"{tmp}/b1.sqlite")
    train(3, rn1 + ["--sync-bn"], f"{tmp}/b3.st", f"{tmp}/b3.sqlite")
    train(3, rn1, f"{tmp}/p3.st", f"{tmp}/p3.sqlite")
    ref, _ = tsdata.read_safetensors(f"{tmp}/b1.st")
    got, meta = tsdata.read_safetensors(f"{tmp}/b3.st")
    per, _ = tsdata.read_safetensors(f"{tmp}/p3.st")
    d, dp = rel(ref, got), rel(ref, per)
    print(f"ResNet-18, one step of 40 on 3 ranks: --sync-bn {d:.2e}, per-rank batch norm {dp:.2e} from one process")
    C.check(d < 1e-6 and meta.get("train.sync_bn") == "1", f"--sync-bn on 3 ranks (14/13/13): {d:.2e}")
    C.check(dp > 1e-4, f"per-rank batch norm differs from the global one: {dp:.2e}")

    # resume with another N: 2 ranks for epoch 1, then 3 ranks (and 1) for epoch 2
    base = ["--model", "lenet5", "--data", data, "--batch", "40", "--seed", "5", "--deterministic"]
    train(0, base + ["--epochs", "2"], f"{tmp}/full.st", f"{tmp}/full.sqlite")
    train(2, base + ["--epochs", "1"], f"{tmp}/half.st", f"{tmp}/half.sqlite")
    for n in (3, 0):
        ck = f"{tmp}/half{n}.st"
        with open(f"{tmp}/half.st", "rb") as f, open(ck, "wb") as g:
            g.write(f.read())
        cmd = [exe, "train", "--threads", "1", "--resume", ck, "--epochs", "2", "--store", f"{tmp}/half.sqlite", "-q"]
        p = tsmpi.mpirun(n, cmd) if n else tstest.run(cmd[1:])
        full, _ = tsdata.read_safetensors(f"{tmp}/full.st")
        got, _ = tsdata.read_safetensors(ck)
        d = rel(full, got)
        C.check(d < 1e-6, f"written on 2 ranks, resumed on {n or 1}: {d:.2e} from the uninterrupted run")

    # Ctrl-C on mpirun: every rank stops at the same step, rank 0 writes the
    # checkpoint and marks the run stopped; it resumes on another N
    data = make_data(tmp, 8000, 2)
    ck, store = f"{tmp}/int.st", f"{tmp}/int.sqlite"
    cmd = tsmpi.mpirun_args(2, [exe, "train", "--threads", "1", "--model", "lenet5", "--data", data, "--val", "none",
                                "--epochs", "50", "--batch", "32", "--save", ck, "--store", store, "-q"])
    job = subprocess.Popen(cmd, env=tsmpi.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not os.path.exists(store) and time.time() - t0 < 60 and job.poll() is None:
        time.sleep(0.1)
    time.sleep(1.5)
    job.send_signal(signal.SIGINT)
    try:
        out, err = job.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        job.kill()
        out, err = job.communicate()
    status = tstest.run(["runs", "--store", store, "list"]).stdout.split("\n")[1].split()[2]
    C.check(status == "stopped" and os.path.exists(ck), f"Ctrl-C: the run is {status}:\n{err}")
    if os.path.exists(ck):
        _, meta = tsdata.read_safetensors(ck)
        step = int(meta.get("pos.global_step", "0"))
        p = tsmpi.mpirun(3, [exe, "train", "--threads", "1", "--resume", ck, "--epochs",
                             str(int(meta["pos.epoch"]) + 1), "--store", store, "-q"], check=False)
        _, meta2 = tsdata.read_safetensors(ck)
        C.check(p.returncode == 0 and int(meta2["pos.global_step"]) > step,
                f"stopped on 2 ranks at step {step}, resumed on 3 to {meta2.get('pos.global_step')}: {p.stderr}")

    # kill -9 of one rank
    data = make_data(tmp, 8000, 2)
    ck, store = f"{tmp}/kill.st", f"{tmp}/kill.sqlite"
    cmd = tsmpi.mpirun_args(2, [exe, "train", "--threads", "1", "--model", "lenet5", "--data", data, "--val", "none",
                                "--epochs", "50", "--batch", "32", "--save", ck, "--store", store, "-q"])
    job = subprocess.Popen(cmd, env=tsmpi.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not os.path.exists(ck) and time.time() - t0 < 120 and job.poll() is None:
        time.sleep(0.1)
    time.sleep(0.5)
    kids = subprocess.run(["pgrep", "-P", str(job.pid)], capture_output=True, text=True).stdout.split()
    C.check(len(kids) == 2 and os.path.exists(ck), f"two ranks running with a checkpoint: {kids}")
    if len(kids) == 2:
        os.kill(int(kids[-1]), signal.SIGKILL)
        t1 = time.time()
        try:
            out, err = job.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            job.kill()
            out, err = job.communicate()
        took = time.time() - t1
        C.check(took < 30 and job.returncode != 0, f"the job ended in {took:.1f} s, exit {job.returncode}")
        C.check("signal 9" in err or "died" in err, f"a clear message:\n{err}")
        st, meta = tsdata.read_safetensors(ck)
        C.check(meta.get("format") == "toposcope-checkpoint-1" and all(np.all(np.isfinite(v)) for v in st.values()),
                "the last checkpoint is intact")
        status = None
        for _ in range(50):  # rank 0 may outlive mpirun by a moment
            status = tstest.run(["runs", "--store", store, "list"]).stdout.split("\n")[1].split()[2]
            if status != "running":
                break
            time.sleep(0.1)
        C.check(status in ("failed", "interrupted"), f"the run is {status}")
    else:
        job.kill()
        job.communicate()
C.finish()
