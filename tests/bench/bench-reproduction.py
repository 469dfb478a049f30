"""The whole reproduction pipeline end to end on a small budget, Toposcope's
commands against a NumPy + SciPy + GUDHI + PyTorch transcription of the same
steps, measured in the same run, two threads (or two processes) each side:

1. generate: BENCH_REPRO_N grey 28x28 pictures written as PNG (ours:
   `toposcope generate --prob-colour 0 --format png`; Python: Kaji's
   random_image.py, FFT noise over (X^2 + Y^2)^beta, Otsu or min-max, PIL
   grey, over a pool of two processes);
2. label: the 200-value persistence image of every picture (ours:
   `toposcope label`; Python: tests/diagrams/kajiref.py, Otsu + SciPy's EDT +
   GUDHI cubical + Kaji's persistence image, pool of two);
3. pretrain: BENCH_REPRO_EPOCHS epochs of PH-label regression (z-scored
   labels, MSE, Adam lr 0.002, batch 64) of BENCH_REPRO_MODEL (resnet18:
   small stem, width 0.25; or lenet5), checkpoint saved;
4. fine-tune: the pretrained backbone, a new 10-class head, on
   BENCH_REPRO_PER_CLASS FashionMNIST images per class for BENCH_REPRO_FT_EPOCHS
   epochs (Adam lr 0.002, batch 32), the first BENCH_REPRO_TEST test images
   evaluated after every epoch (top-1 printed).
Every stage is its own process on both sides (start-up and imports count).
Prints each stage's wall time, both sides, and the end-to-end ratio (> 1:
Toposcope faster). Never asserts on time. Run: bash tests/bench/run reproduction"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from tsbench import table

EXE = os.environ.get("TOPOSCOPE", "build-release/app/toposcope")
N = int(os.environ.get("BENCH_REPRO_N", "1000"))
EPOCHS = int(os.environ.get("BENCH_REPRO_EPOCHS", "3"))
MODEL = os.environ.get("BENCH_REPRO_MODEL", "resnet18")
PER_CLASS = int(os.environ.get("BENCH_REPRO_PER_CLASS", "100"))
FT_EPOCHS = int(os.environ.get("BENCH_REPRO_FT_EPOCHS", "2"))
TEST = int(os.environ.get("BENCH_REPRO_TEST", "500"))
FMNIST = os.environ.get("BENCH_REPRO_FASHION", "/usr/share/datasets/fashion-mnist")
THREADS, BATCH, FT_BATCH, DIMS = 2, 64, 32, 200
HERE = os.path.dirname(os.path.abspath(__file__))
tmp = tempfile.mkdtemp(prefix="bench-repro-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)

# The Python side: one stage per process, `python3 SCRIPT STAGE ARGS...`.
PY = r'''
import gzip, json, os, sys, time
import numpy as np
sys.path.insert(0, os.path.join(sys.argv[1], "..", "diagrams"))
stage, work, n, threads = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
gen = os.path.join(work, "py-gen")


def picture(i):
    """random_image.py's generate_random_image for a grey picture: three FFT
    channels, each thresholded by Otsu (either side, p = 1/4 each) or min-max
    scaled, then PIL's grey conversion; seeded by the index."""
    from scipy.fft import fft2, ifft2
    from skimage.filters import threshold_otsu
    from PIL import Image
    rng = np.random.default_rng([1, i])
    size, sample = 28, np.zeros(1)
    while sample.max() - sample.min() < 1e-10:
        sample = []
        for _ in range(3):
            alpha, beta = rng.uniform(1, 1), rng.uniform(1, 2)
            x = np.linspace(1, 1 + alpha * size, size)
            X, Y = np.meshgrid(x, x)
            sample.append(ifft2(fft2(rng.uniform(0, 1, (size, size))) / (X**2 + Y**2) ** beta).real)
        sample = np.array(sample)
    for c in range(3):
        p = rng.uniform(0, 1)
        if p < 0.25:
            sample[c] = sample[c] >= threshold_otsu(sample[c])
        elif p < 0.5:
            sample[c] = sample[c] < threshold_otsu(sample[c])
        else:
            sample[c] = (sample[c] - sample[c].min()) / np.ptp(sample[c])
    img = Image.fromarray((255 * sample).astype(np.uint8).transpose(1, 2, 0)).convert("L")
    img.save(os.path.join(gen, f"t{i:08d}.png"))


def label(name):
    import kajiref
    from PIL import Image
    return kajiref.label_image(np.asarray(Image.open(os.path.join(gen, name)), dtype=float), 200, (50, 50))


def model(kind, outputs):
    import torch.nn as nn
    import torchvision.models.resnet as tvr
    if kind == "lenet5":
        return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84),
                             nn.ReLU(), nn.Linear(84, outputs))
    # width 0.25: 16/32/64/128 channels, the small-image stem (3x3 conv, no max pool)
    m = tvr.ResNet(tvr.BasicBlock, [2, 2, 2, 2], num_classes=outputs)
    def narrow(mod):
        for nm, ch in list(mod.named_children()):
            if isinstance(ch, nn.Conv2d):
                setattr(mod, nm, nn.Conv2d(max(1, ch.in_channels // 4), ch.out_channels // 4, ch.kernel_size,
                                           ch.stride, ch.padding, bias=False))
            elif isinstance(ch, nn.BatchNorm2d):
                setattr(mod, nm, nn.BatchNorm2d(ch.num_features // 4))
            elif isinstance(ch, nn.Linear):
                setattr(mod, nm, nn.Linear(ch.in_features // 4, ch.out_features))
            else:
                narrow(ch)
    narrow(m)
    m.conv1 = nn.Conv2d(1, 16, 3, 1, 1, bias=False)
    m.maxpool = nn.Identity()
    return m


def idx(path):
    raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion(d, split):
    for ext in ("", ".gz"):
        if os.path.exists(os.path.join(d, f"{split}-images-idx3-ubyte{ext}")):
            return (idx(os.path.join(d, f"{split}-images-idx3-ubyte{ext}")),
                    idx(os.path.join(d, f"{split}-labels-idx1-ubyte{ext}")))
    raise SystemExit(f"{d}: no FashionMNIST files")


if stage == "generate":
    from multiprocessing import Pool
    os.makedirs(gen, exist_ok=True)
    with Pool(threads) as pool:
        pool.map(picture, range(n), chunksize=16)
elif stage == "label":
    from multiprocessing import Pool
    names = sorted(os.listdir(gen))
    with Pool(threads) as pool:
        y = np.stack(pool.map(label, names, chunksize=16)).astype(np.float32)
    np.save(os.path.join(work, "py-labels.npy"), y)
    with open(os.path.join(work, "py-names.json"), "w") as f:
        json.dump(names, f)
elif stage == "pretrain":
    import torch, torch.nn.functional as F
    from PIL import Image
    kind, epochs, B = sys.argv[6], int(sys.argv[7]), int(sys.argv[8])
    torch.set_num_threads(threads); torch.manual_seed(0)
    names = json.load(open(os.path.join(work, "py-names.json")))
    y = np.load(os.path.join(work, "py-labels.npy"))
    x = np.stack([np.asarray(Image.open(os.path.join(gen, nm)).convert("L")) for nm in names]).astype(np.float32) / 255
    x = torch.from_numpy(x).unsqueeze(1); x = (x - x.mean()) / x.std()
    sd = y.std(0); floor = 0.01 * np.sqrt((sd ** 2).mean()); sd = np.where(sd >= floor, sd, floor)
    y = torch.from_numpy((y - y.mean(0)) / sd)
    m = model(kind, y.shape[1])
    opt = torch.optim.Adam(m.parameters(), lr=0.002)
    m.train()
    for e in range(epochs):
        perm = torch.randperm(len(x))
        for i in range(0, len(x), B):
            b = perm[i:i + B]
            if len(b) < 2: continue
            opt.zero_grad(); loss = F.mse_loss(m(x[b]), y[b]); loss.backward(); opt.step()
        print(f"pretrain epoch {e + 1}: loss {loss.item():.4f}", file=sys.stderr)
    torch.save(m.state_dict(), os.path.join(work, "py-pre.pt"))
elif stage == "finetune":
    import torch, torch.nn.functional as F
    kind, epochs, B, per_class, test, fdir = sys.argv[6], int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9]), \
        int(sys.argv[10]), sys.argv[11]
    torch.set_num_threads(threads); torch.manual_seed(0)
    xi, yi = fashion(fdir, "train"); xt, yt = fashion(fdir, "t10k")
    rng = np.random.default_rng(1)
    keep = np.concatenate([rng.choice(np.flatnonzero(yi == c), per_class, replace=False) for c in range(10)])
    def prep(a):
        return torch.from_numpy(a.astype(np.float32) / 255).unsqueeze(1)
    x, y = prep(xi[keep]), torch.from_numpy(yi[keep].astype(np.int64))
    mu, sg = x.mean(), x.std()
    x = (x - mu) / sg
    xv, yv = (prep(xt[:test]) - mu) / sg, torch.from_numpy(yt[:test].astype(np.int64))
    m = model(kind, 10)
    pre = torch.load(os.path.join(work, "py-pre.pt"))
    own = m.state_dict()
    m.load_state_dict({k: v for k, v in pre.items() if k in own and own[k].shape == v.shape}, strict=False)
    opt = torch.optim.Adam(m.parameters(), lr=0.002)
    for e in range(epochs):
        m.train()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), B):
            b = perm[i:i + B]
            if len(b) < 2: continue
            opt.zero_grad(); loss = F.cross_entropy(m(x[b]), y[b]); loss.backward(); opt.step()
        m.eval()
        with torch.no_grad():
            acc = sum((m(xv[i:i + 256]).argmax(1) == yv[i:i + 256]).sum().item() for i in range(0, test, 256))
        print(f"fine-tune epoch {e + 1}: top-1 {100 * acc / test:.1f} %")
'''


def timed(args, env=None):
    t0 = time.perf_counter()
    p = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed (exit {p.returncode}): {p.stderr[-800:]}")
    return dt, p.stdout + p.stderr


def main():
    extra = ["--small-stem", "--width", "0.25"] if MODEL == "resnet18" else []
    store = os.path.join(tmp, "runs.sqlite")
    gen = os.path.join(tmp, "gen")
    cache = os.path.join(tmp, "train.tslab")
    common = ["--threads", THREADS, "--store", store]
    ours = [
        ("generate", [EXE, "generate", "-o", gen, "-n", N, "--val", "0", "--size", "28", "--prob-colour", "0",
                      "--format", "png", "--seed", "1", "--threads", THREADS, "--no-store"]),
        ("label", [EXE, "label", os.path.join(gen, "train"), "-o", cache, "--dims", DIMS] + common),
        ("pretrain", [EXE, "train", "--task", "ph", "--model", MODEL] + extra +
         ["--data", f"labels:{os.path.join(gen, 'train')},{cache}", "--val", "none", "--epochs", EPOCHS,
          "--batch", BATCH, "--optimizer", "adam", "--lr", "0.002", "--save", os.path.join(tmp, "pre.safetensors"),
          "-q"] + common),
        ("fine-tune", [EXE, "train", "--init", os.path.join(tmp, "pre.safetensors"), "--model", MODEL] + extra +
         ["--data", f"fashion-mnist:{FMNIST}", "--per-class", PER_CLASS, "--subset-seed", "1",
          "--val-limit", TEST, "--epochs", FT_EPOCHS, "--batch", FT_BATCH, "--optimizer", "adam", "--lr", "0.002",
          "--save", os.path.join(tmp, "ft.safetensors")] + common),
    ]
    script = os.path.join(tmp, "repro_ref.py")
    with open(script, "w") as f:
        f.write(PY)
    py = ["/usr/bin/python3", script, HERE, "STAGE", tmp, N, THREADS]
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
    ref = [("generate", []), ("label", []), ("pretrain", [MODEL, EPOCHS, BATCH]),
           ("fine-tune", [MODEL, FT_EPOCHS, FT_BATCH, PER_CLASS, TEST, FMNIST])]
    rows, tot_ours, tot_py = [], 0.0, 0.0
    for (stage, cmd), (_, args) in zip(ours, ref):
        t_o, out_o = timed(cmd)
        py_cmd = py.copy()
        py_cmd[3] = "finetune" if stage == "fine-tune" else stage
        t_p, out_p = timed(py_cmd + args, env=env)
        tot_ours += t_o
        tot_py += t_p
        rows.append([stage, f"{t_o:.2f}", f"{t_p:.2f}", f"{t_p / t_o:.1f}x"])
        if stage == "fine-tune":
            acc_o = [ln.strip() for ln in out_o.splitlines() if "acc" in ln.lower()][-1:]
            acc_p = [ln.strip() for ln in out_p.splitlines() if "top-1" in ln][-1:]
            print("toposcope fine-tune, last lines:", *acc_o, sep="\n  ")
            print("PyTorch fine-tune, last epoch:", *acc_p, sep="\n  ")
    rows.append(["end to end", f"{tot_ours:.2f}", f"{tot_py:.2f}", f"{tot_py / tot_ours:.1f}x"])
    table(f"Reproduction pipeline: {N} grey 28x28 pictures, {DIMS}-value persistence images, {MODEL}"
          f"{' (small stem, width 0.25)' if extra else ''} pretrained {EPOCHS} epochs (batch {BATCH}), fine-tuned "
          f"{FT_EPOCHS} epochs on {PER_CLASS}/class FashionMNIST (batch {FT_BATCH}), {TEST} test images; "
          f"{THREADS} threads / processes; wall s", rows,
          ["stage", "toposcope", "NumPy/SciPy/GUDHI/PyTorch", "ratio"])


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
