"""End-to-end training throughput: `toposcope train` (reading the gzipped
IDX files, shuffling, batching in a background thread, writing every step's
loss to the run store, a checkpoint at the end) against the same job written
plainly in PyTorch (python3-torch: numpy decode of the same files,
torch.randperm shuffling, nn.Sequential LeNet-5, SGD with momentum), with
the same batch size and thread count. Times include start-up and data loading.
Run: bash tests/bench/run train"""
import gzip
import os
import subprocess
import sys
import tempfile
import time

from tsbench import run_cmd, table

FM = "/usr/share/datasets/fashion-mnist"
if not os.path.exists(f"{FM}/train-images-idx3-ubyte.gz"):
    print("SKIP: FashionMNIST is not installed")
    sys.exit(0)
exe = os.environ["TOPOSCOPE"]
THREADS, BATCH, N = 2, 64, int(os.environ.get("BENCH_TRAIN_N", "20000"))
tmp = tempfile.mkdtemp(prefix="ts-bench-train-")

TORCH = r'''
import gzip, sys, numpy as np, torch, torch.nn as nn
torch.set_num_threads(int(sys.argv[1])); torch.manual_seed(0)
B, N = int(sys.argv[2]), int(sys.argv[3])
def idx(p):
    with gzip.open(p) as f: raw = f.read()
    nd = raw[3]; dims = [int.from_bytes(raw[4+4*i:8+4*i], "big") for i in range(nd)]
    return np.frombuffer(raw[4+4*nd:], np.uint8).reshape(dims)
x = torch.from_numpy(idx(sys.argv[4])[:N].astype(np.float32) / 255).unsqueeze(1)
x = (x - x.mean()) / x.std()
y = torch.from_numpy(idx(sys.argv[5])[:N].astype(np.int64))
m = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                  nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                  nn.Linear(84, 10))
opt = torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9)
perm = torch.randperm(N)
for i in range(0, N, B):
    j = perm[i:i+B]
    opt.zero_grad(); loss = nn.functional.cross_entropy(m(x[j]), y[j]); loss.backward(); opt.step()
torch.save(m.state_dict(), sys.argv[6])
'''
script = os.path.join(tmp, "torch_lenet.py")
with open(script, "w") as f:
    f.write(TORCH)
ours = [exe, "train", "--model", "lenet5", "--data", "fashion-mnist", "--limit", str(N), "--val", "none",
        "--epochs", "1", "--batch", str(BATCH), "--lr", "0.05", "--threads", str(THREADS), "-q",
        "--store", os.path.join(tmp, "runs.sqlite"), "--save", os.path.join(tmp, "ck.safetensors")]
ref = ["/usr/bin/python3", script, str(THREADS), str(BATCH), str(N), f"{FM}/train-images-idx3-ubyte.gz",
       f"{FM}/train-labels-idx1-ubyte.gz", os.path.join(tmp, "ck.pt")]
t_ours, m_ours = run_cmd(ours, repeat=3)
t_ref, m_ref = run_cmd(ref, repeat=3)
table(f"LeNet-5, one epoch of {N} FashionMNIST images, batch {BATCH}, {THREADS} threads (best of 3, end to end)",
      [["toposcope train", f"{t_ours:.2f}", f"{N / t_ours:.0f}", f"{m_ours / 2**20:.0f}"],
       ["PyTorch (python3-torch)", f"{t_ref:.2f}", f"{N / t_ref:.0f}", f"{m_ref / 2**20:.0f}"]],
      ["", "wall s", "images/s", "peak MiB"])
print(f"\nratio (PyTorch time / toposcope time): {t_ref / t_ours:.2f}x")
subprocess.run(["rm", "-rf", tmp])
