"""Strong scaling from 1 to 2 ranks under MPI: `toposcope train` (ResNet-18,
small stem, width 0.25, 3x32x32 images, global batch 64) against PyTorch DDP
(gloo backend, the same network, the same global batch split in two), and
`toposcope label` (one folder of generated pictures). Every process runs one
thread, so 2 ranks use the machine's 2 cores; a single process with 2
threads is shown beside, the other way to use them. Training throughput is
that of the second epoch (after warm-up); label's is end to end.
Run: bash tests/bench/run dist"""
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

import numpy as np

from tsbench import table

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import tsmpi  # noqa: E402

if not shutil.which("mpirun"):
    print("SKIP: mpirun is not installed (openmpi-bin)")
    sys.exit(0)
exe = os.environ["TOPOSCOPE"]
N, BATCH = int(os.environ.get("BENCH_DIST_N", "1024")), 64
tmp = tempfile.mkdtemp(prefix="ts-bench-dist-")

# CIFAR-10 binary layout: label byte + 3072 pixel bytes (planar RGB)
rng = np.random.default_rng(0)
y = rng.integers(0, 10, N).astype(np.uint8)
x = rng.integers(0, 256, (N, 3, 32, 32)).astype(np.uint8)
for i in range(N):  # a little signal: a class-dependent bright band
    x[i, y[i] % 3, 3 * y[i]:3 * y[i] + 3, :] = 255
os.makedirs(f"{tmp}/cifar")
with open(f"{tmp}/cifar/data_batch_1.bin", "wb") as f:
    f.write(np.concatenate([y[:, None], x.reshape(N, -1)], axis=1).tobytes())
np.save(f"{tmp}/x.npy", x)
np.save(f"{tmp}/y.npy", y)


def ours(ranks, threads):
    store = f"{tmp}/s-{ranks}-{threads}.sqlite"
    cmd = [exe, "train", "--model", "resnet18", "--small-stem", "--width", "0.25", "--data", f"cifar:{tmp}/cifar",
           "--val", "none", "--epochs", "2", "--batch", str(BATCH), "--lr", "0.05", "--threads", str(threads),
           "--store", store, "--save", f"{tmp}/ck.st", "-q", "--normalize", "none"]
    if ranks > 1:
        tsmpi.mpirun(ranks, cmd)
    else:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    db = sqlite3.connect(store)
    v = db.execute("select value from metrics where name='images_per_s' order by epoch").fetchall()[-1][0]
    db.close()
    os.remove(store)
    return v


TORCH = r'''
import os, sys, time, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(1)
rank, world, B = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(sys.argv[2])
if world > 1:
    import torch.distributed as dist
    dist.init_process_group("gloo", rank=rank, world_size=world)
class Block(nn.Module):
    def __init__(s, i, o, st):
        super().__init__()
        s.c1 = nn.Conv2d(i, o, 3, st, 1, bias=False); s.b1 = nn.BatchNorm2d(o)
        s.c2 = nn.Conv2d(o, o, 3, 1, 1, bias=False); s.b2 = nn.BatchNorm2d(o)
        s.d = None if st == 1 and i == o else nn.Sequential(nn.Conv2d(i, o, 1, st, bias=False), nn.BatchNorm2d(o))
    def forward(s, x):
        r = x if s.d is None else s.d(x)
        return F.relu(s.b2(s.c2(F.relu(s.b1(s.c1(x))))) + r)
w = [16, 32, 64, 128]  # ResNet-18 at width 0.25, 3x3 stride-1 stem, no max pool
layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
cin = 16
for k, c in enumerate(w):
    layers += [Block(cin, c, 1 if k == 0 else 2), Block(c, c, 1)]
    cin = c
m = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))
if world > 1:
    m = nn.parallel.DistributedDataParallel(m)
opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
x = torch.from_numpy(np.load(sys.argv[1] + "/x.npy").astype(np.float32) / 255)
y = torch.from_numpy(np.load(sys.argv[1] + "/y.npy").astype(np.int64))
n = len(x)
for epoch in range(2):
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(epoch))
    t0 = time.perf_counter()
    for i in range(0, n, B):
        j = perm[i:i + B]
        q, r = divmod(len(j), world)
        lo = rank * q + min(rank, r); j = j[lo:lo + q + (rank < r)]
        opt.zero_grad(); F.cross_entropy(m(x[j]), y[j]).backward(); opt.step()
    dt = time.perf_counter() - t0
if rank == 0:
    print(n / dt)
'''
with open(f"{tmp}/ddp.py", "w") as f:
    f.write(TORCH)


def torch_ddp(world):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for r in range(world):
        env = dict(os.environ, RANK=str(r), WORLD_SIZE=str(world), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                   OMP_NUM_THREADS="1")
        procs.append(subprocess.Popen(["/usr/bin/python3", f"{tmp}/ddp.py", tmp, str(BATCH)], env=env,
                                      stdout=subprocess.PIPE, text=True))
    out = [p.communicate()[0] for p in procs]
    if any(p.returncode for p in procs):
        raise RuntimeError("the DDP script failed")
    return float(out[0].strip())


# interleaved, best of 2, so load from elsewhere hits both alike
res = {}
for _ in range(2):
    for key, fn in (("ours1", lambda: ours(1, 1)), ("ours2", lambda: ours(2, 1)), ("ours1t2", lambda: ours(1, 2)),
                    ("ddp1", lambda: torch_ddp(1)), ("ddp2", lambda: torch_ddp(2))):
        res[key] = max(res.get(key, 0), fn())
rows = [["toposcope, 1 process, 1 thread", f"{res['ours1']:.0f}", "", ""],
        ["toposcope, mpirun -np 2, 1 thread each", f"{res['ours2']:.0f}", f"{res['ours2'] / res['ours1']:.2f}",
         f"{res['ours2'] / (2 * res['ours1']):.0%}"],
        ["toposcope, 1 process, 2 threads", f"{res['ours1t2']:.0f}", f"{res['ours1t2'] / res['ours1']:.2f}",
         f"{res['ours1t2'] / (2 * res['ours1']):.0%}"],
        ["PyTorch, 1 process, 1 thread", f"{res['ddp1']:.0f}", "", ""],
        ["PyTorch DDP gloo, 2 processes, 1 thread each", f"{res['ddp2']:.0f}", f"{res['ddp2'] / res['ddp1']:.2f}",
         f"{res['ddp2'] / (2 * res['ddp1']):.0%}"]]
table(f"ResNet-18 (small stem, width 0.25), 3x32x32, global batch {BATCH}, {N} images: 2nd epoch",
      rows, ["", "images/s", "speed-up", "efficiency"])
print(f"\nratio 2 ranks (toposcope / PyTorch DDP): {res['ours2'] / res['ddp2']:.2f}x; "
      f"1 process (toposcope / PyTorch): {res['ours1'] / res['ddp1']:.2f}x")

# label: 1 process vs 2 ranks, same folder
subprocess.run([exe, "generate", "-o", f"{tmp}/img", "-n", "1200", "--val", "0", "--size", "128", "--no-store",
                "--threads", "2"], check=True, stdout=subprocess.DEVNULL)
lab = {}
for _ in range(2):
    for key, ranks, threads in (("1", 1, 1), ("2", 2, 1), ("1t2", 1, 2)):
        out = f"{tmp}/l-{key}.tslabels"
        cmd = [exe, "label", f"{tmp}/img", "-o", out, "--threads", str(threads), "--store", f"{tmp}/l.sqlite"]
        t0 = time.perf_counter()
        if ranks > 1:
            tsmpi.mpirun(ranks, cmd)
        else:
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        lab[key] = max(lab.get(key, 0), 1200 / (time.perf_counter() - t0))
        os.remove(out)
table("label: 1200 generated 128x128 pictures (end to end, best of 2)",
      [["1 process, 1 thread", f"{lab['1']:.0f}", "", ""],
       ["mpirun -np 2, 1 thread each", f"{lab['2']:.0f}", f"{lab['2'] / lab['1']:.2f}", f"{lab['2'] / (2 * lab['1']):.0%}"],
       ["1 process, 2 threads", f"{lab['1t2']:.0f}", f"{lab['1t2'] / lab['1']:.2f}", f"{lab['1t2'] / (2 * lab['1']):.0%}"]],
      ["", "images/s", "speed-up", "efficiency"])

# the allreduce alone: run/dist.h's fixed order against MPI_Allreduce
drv = os.path.join(os.path.dirname(os.path.dirname(exe)), "tests", "dist", "dist-allreduce")
if os.path.exists(drv):
    out = tsmpi.mpirun(2, [drv]).stdout.split("\n")
    rows = []
    for line in out:
        if line.strip():
            n, a, b = line.split()
            mb = int(n) * 4 / 1e6
            rows.append([f"{mb:.3f}", f"{float(a):.0f}", f"{float(b):.0f}", f"{float(b) / float(a):.2f}",
                         f"{mb / (float(a) * 1e-6) / 1e3:.2f}"])
    table("allreduce of float32 buffers on 2 ranks (shared memory, best of 10-50)", rows,
          ["MB", "fixed order us", "MPI_Allreduce us", "ratio (MPI / ours)", "ours GB/s"])
shutil.rmtree(tmp)
