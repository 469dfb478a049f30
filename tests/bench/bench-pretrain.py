"""PH-label pretraining throughput: `toposcope train --task ph` on a labelled
folder of generated 28x28 grey PNGs (decoding the pictures, reading the
label cache, z-scoring the labels, Adam on the MSE, writing every step's
loss to the run store, a checkpoint per epoch) against the same job written
plainly in PyTorch (python3-torch: PIL decode of the same PNGs, the labels
read from the same cache with NumPy and z-scored, the same model, batch,
optimiser and thread count), measured in the same run. Models: LeNet-5 and
ResNet-18 with the small-image stem at width 0.25. Times include start-up
and data loading; images/s = epochs x images / wall time. The labels are
computed beforehand by `toposcope label` (its own benchmark: bench-generate
and the README); the `generate:` stream, which labels on the fly, is timed
as a third row for Toposcope alone. Ratios > 1 mean faster than PyTorch.
Run: bash tests/bench/run pretrain"""
import os
import subprocess
import sys
import tempfile

from tsbench import run_cmd, table

exe = os.environ["TOPOSCOPE"]
THREADS, BATCH = 2, 64
N = int(os.environ.get("BENCH_PRETRAIN_N", "4000"))
EPOCHS = int(os.environ.get("BENCH_PRETRAIN_EPOCHS", "2"))
DIMS = 200
tmp = tempfile.mkdtemp(prefix="ts-bench-pretrain-")

TORCH = r'''
import os, struct, sys, numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image
import torchvision.models.resnet as tvr
kind, folder, cache, B, threads, epochs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
torch.set_num_threads(threads); torch.manual_seed(0)
raw = open(cache, "rb").read()
nd, nb = struct.unpack_from("<II", raw, 12); count, = struct.unpack_from("<Q", raw, 24)
row, = struct.unpack_from("<I", raw, 36); off, = struct.unpack_from("<Q", raw, 40)
names = [raw[off + i * row: off + i * row + nb].rstrip(b"\0").decode() for i in range(count)]
y = np.stack([np.frombuffer(raw[off + i * row + nb: off + (i + 1) * row], np.float32) for i in range(count)])
x = np.stack([np.asarray(Image.open(os.path.join(folder, n)).convert("L")) for n in names]).astype(np.float32) / 255
x = torch.from_numpy(x).unsqueeze(1); x = (x - x.mean()) / x.std()
sd = y.std(0); sd = np.where(sd >= 0.01 * np.sqrt((sd ** 2).mean()), sd, 0.01 * np.sqrt((sd ** 2).mean()))
y = torch.from_numpy((y - y.mean(0)) / sd)
if kind == "lenet5":
    m = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                      nn.Linear(84, nd))
else:
    # width 0.25: 16/32/64/128 channels, the small-image stem (3x3 conv, no max pool)
    m = tvr.ResNet(tvr.BasicBlock, [2, 2, 2, 2], num_classes=nd)
    def narrow(mod):
        for name, ch in list(mod.named_children()):
            if isinstance(ch, nn.Conv2d):
                setattr(mod, name, nn.Conv2d(max(1, ch.in_channels // 4) if ch.in_channels != 3 else 1,
                                             ch.out_channels // 4, ch.kernel_size, ch.stride, ch.padding, bias=False))
            elif isinstance(ch, nn.BatchNorm2d):
                setattr(mod, name, nn.BatchNorm2d(ch.num_features // 4))
            elif isinstance(ch, nn.Linear):
                setattr(mod, name, nn.Linear(ch.in_features // 4, ch.out_features))
            else:
                narrow(ch)
    narrow(m)
    m.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False); m.maxpool = nn.Identity()
opt = torch.optim.Adam(m.parameters(), lr=0.002)
m.train()
for e in range(epochs):
    perm = torch.randperm(len(x))
    for i in range(0, len(x), B):
        idx = perm[i:i + B]
        if len(idx) < 2: continue
        opt.zero_grad(); loss = F.mse_loss(m(x[idx]), y[idx]); loss.backward(); opt.step()
torch.save(m.state_dict(), os.path.join(os.path.dirname(cache), "torch.pt"))
'''


def main():
    gen = os.path.join(tmp, "gen")
    subprocess.run([exe, "generate", "-o", gen, "-n", str(N), "--val", "10", "--size", "28", "--prob-colour", "0",
                    "--format", "png", "--no-store", "--threads", str(THREADS)], check=True, stdout=subprocess.DEVNULL)
    cache = os.path.join(tmp, "train.tslab")
    subprocess.run([exe, "label", os.path.join(gen, "train"), "-o", cache, "--dims", str(DIMS), "--store",
                    os.path.join(tmp, "s.sqlite"), "--threads", str(THREADS)], check=True, stdout=subprocess.DEVNULL)
    script = os.path.join(tmp, "torch_pretrain.py")
    open(script, "w").write(TORCH)
    rows = []
    imgs = N * EPOCHS
    for kind, extra in (("lenet5", []), ("resnet18", ["--small-stem", "--width", "0.25"])):
        ours = [exe, "train", "--task", "ph", "--model", kind] + extra + [
            "--data", f"labels:{os.path.join(gen, 'train')},{cache}", "--val", "none", "--epochs", str(EPOCHS),
            "--batch", str(BATCH), "--optimizer", "adam", "--lr", "0.002", "--threads", str(THREADS),
            "--store", os.path.join(tmp, "s.sqlite"), "--save", os.path.join(tmp, "ours.safetensors"), "-q"]
        torch_cmd = ["/usr/bin/python3", script, kind, os.path.join(gen, "train"), cache, BATCH, THREADS, EPOCHS]
        env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
        t_ours, m_ours = run_cmd(ours, repeat=2)
        t_torch, m_torch = run_cmd(torch_cmd, repeat=2, env=env)
        rows.append([f"{kind} (labels:)", f"{imgs / t_ours:.0f}", f"{imgs / t_torch:.0f}", f"{t_torch / t_ours:.2f}x",
                     f"{m_ours / 2**20:.0f} / {m_torch / 2**20:.0f}"])
        if kind == "resnet18":
            stream = [exe, "train", "--task", "ph", "--model", kind] + extra + [
                "--data", "generate:28", "--gen-count", str(N), "--prob-colour", "0", "--label-dims", str(DIMS),
                "--val", "none", "--epochs", str(EPOCHS), "--batch", str(BATCH), "--optimizer", "adam",
                "--threads", str(THREADS), "--loader-threads", "2", "--store", os.path.join(tmp, "s.sqlite"),
                "--save", os.path.join(tmp, "gen.safetensors"), "-q"]
            t_gen, m_gen = run_cmd(stream, repeat=1)
            rows.append([f"{kind} (generate:, labelled on the fly)", f"{imgs / t_gen:.0f}", "-", "-",
                         f"{m_gen / 2**20:.0f} / -"])
    table(f"PH-label pretraining, {N} 28x28 grey pictures x {EPOCHS} epochs, {DIMS}-value persistence images, "
          f"batch {BATCH}, Adam, {THREADS} threads", rows,
          ["model (data)", "toposcope img/s", "PyTorch img/s", "ratio", "peak MiB (ours / torch)"])


try:
    main()
finally:
    subprocess.run(["rm", "-rf", tmp])
