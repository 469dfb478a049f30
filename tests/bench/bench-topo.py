"""core/topo against a PyTorch transcription of Topo-GEN's training step, in
the same run: its per-pair Python loops (tests/python/topogen_ref.py), with
GUDHI's flag_persistence_generators standing in for giotto-ph and an exact
bottleneck matching (bisection + maximum bipartite matching) standing in for
persim, neither being in Debian.

  1. the lockstep TopoVAE step at batch 128 on FashionMNIST, weights
     10,10,10,10,0,0,0: the topological part (the output batch's diagram, the
     four losses and their backward to the points; ours also computes the
     input batch's diagram, which Topo-GEN precomputes) and the whole step
     (both models' forward and backward, Adam, the topological part);
  2. topofit on preset 3 (64 points, weights 1,1,0,...): steps per second;
  3. the playground's case, 64-200 points in 2-D against a circle: steps/s.
Both sides on one thread (Topo-GEN's figures were taken on one); ours also
with every core. Never asserts on time.
    BENCH_REF_STEPS=N  reference TopoVAE steps timed (default 3)
"""
import gzip
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import numpy as np  # noqa: E402
import torch  # noqa: E402

import topogen_ref as ref  # noqa: E402
from tsbench import table  # noqa: E402

F = torch.nn.functional
nn = torch.nn
torch.set_num_threads(1)
EXE = os.environ.get("TOPOSCOPE", "build-release/app/toposcope")
REF_STEPS = int(os.environ.get("BENCH_REF_STEPS", "3"))
FM = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"
tmp = tempfile.TemporaryDirectory(prefix="bench-topo-")
W4 = [10, 10, 10, 10, 0, 0, 0]


def fashion(n):
    with gzip.open(FM, "rb") as f:
        f.read(16)
        a = np.frombuffer(f.read(n * 784), dtype=np.uint8)
    return torch.from_numpy(a.reshape(n, 1, 28, 28).astype(np.float32) / 255)


class VAE(nn.Module):
    def __init__(self, latent=10):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 32, 4, 2, 1), nn.Conv2d(32, 64, 4, 2, 1)
        self.fc, self.mu, self.lv = nn.Linear(3136, 256), nn.Linear(256, latent), nn.Linear(256, latent)
        self.d1, self.d2 = nn.Linear(latent, 256), nn.Linear(256, 3136)
        self.t1, self.t2 = nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ConvTranspose2d(32, 1, 4, 2, 1)

    def forward(self, x):
        h = F.relu(self.fc(F.relu(self.c2(F.relu(self.c1(x)))).flatten(1)))
        mu, lv = self.mu(h), self.lv(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * lv)
        h = F.relu(self.d2(F.relu(self.d1(z)))).view(-1, 64, 7, 7)
        return torch.sigmoid(self.t2(F.relu(self.t1(h)))), mu, lv


def ref_topovae(steps):
    """Topo-GEN's lockstep step; returns (topological part s, whole step s), medians."""
    torch.manual_seed(1234)
    m0, m1 = VAE(), VAE()
    m1.load_state_dict(m0.state_dict())
    o0, o1 = torch.optim.Adam(m0.parameters(), 5e-4), torch.optim.Adam(m1.parameters(), 5e-4)
    X = fashion(128 * steps)
    batches = [X[i * 128:(i + 1) * 128] for i in range(steps)]
    dgms_true = [ref.dgm_from_gudhi(b.view(128, -1).numpy(), 1) for b in batches]  # precomputed, as Topo-GEN
    topo_t, step_t = [], []
    for b, dt in zip(batches, dgms_true):
        t0 = time.perf_counter()
        o0.zero_grad()
        r0, mu0, lv0 = m0(b)
        l0 = (F.binary_cross_entropy(r0, b, reduction="sum") - 0.5 * torch.sum(1 + lv0 - mu0 ** 2 - lv0.exp())) / 128
        l0.backward()
        o0.step()
        o1.zero_grad()
        r1, mu1, lv1 = m1(b)
        l1 = (F.binary_cross_entropy(r1, b, reduction="sum") - 0.5 * torch.sum(1 + lv1 - mu1 ** 2 - lv1.exp())) / 128
        # the topological part, with its backward to the points alone
        ta = time.perf_counter()
        pts = r1.detach().view(128, -1).requires_grad_(True)
        dg = ref.dgm_from_gudhi(pts.detach().numpy(), 1)
        _, topo, got = ref.all_losses(pts, dg, dt, W4, 1, ref.exact_matcher)
        if got:
            topo.backward()
        tb = time.perf_counter()
        if got:
            l1 = l1 + (pts.grad.view_as(r1) * r1).sum() / 128  # the same gradient into the network
        l1.backward()
        o1.step()
        t1 = time.perf_counter()
        topo_t.append(tb - ta)
        step_t.append(t1 - t0)
    return statistics.median(topo_t), statistics.median(step_t)


def ours_topovae(threads, steps=12):
    store = os.path.join(tmp.name, f"vae{threads}.sqlite")
    subprocess.run([EXE, "train", "--task", "vae", "--data", "fashion-mnist", "--limit", str(128 * steps),
                    "--val", "none", "--epochs", "1", "--topo-weights", ",".join(map(str, W4)), "--lockstep",
                    "--threads", str(threads), "--store", store, "-q", "--latent-points", "0"], check=True,
                   stdout=subprocess.DEVNULL)
    c = sqlite3.connect(store)
    topo = [r[0] / 1e3 for r in c.execute("select value from metrics where name='topovae/topo_ms' order by step")]
    walls = [r[0] for r in c.execute("select wall from metrics where name='train/loss' order by step")]
    steps_t = [b - a for a, b in zip(walls, walls[1:])]
    return statistics.median(topo[1:]), statistics.median(steps_t)


def circle_target(m):
    a = np.random.default_rng(0).random(m) * 2 * np.pi
    return np.c_[5 * np.cos(a), 5 * np.sin(a)]


def ref_topofit(X0, Y, steps, lr=0.1):
    pc = torch.tensor(X0, dtype=torch.float32, requires_grad=True)
    dt = ref.dgm_from_gudhi(Y, 1)
    opt = torch.optim.Adam([pc], lr=lr)
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        dg = ref.dgm_from_gudhi(pc.detach().numpy(), 1)
        _, loss, got = ref.all_losses(pc, dg, dt, [1, 1, 0, 0, 0, 0, 0], 1, ref.exact_matcher)
        if not got:
            loss = ref.loss_push0(pc, dg)
        loss.backward()
        opt.step()
    return steps / (time.perf_counter() - t0)


def ours_topofit(args, steps, threads=1):
    t0 = time.perf_counter()
    subprocess.run([EXE, "topofit", *args, "--steps", str(steps), "--no-store", "-q", "--threads", str(threads)],
                   check=True)
    return steps / (time.perf_counter() - t0)


def preset3_start():
    rng = np.random.default_rng(3)
    X = np.zeros((64, 2))
    for i in range(32):
        X[i] = [rng.uniform(-.1, .1), 0.7 * i + rng.uniform(-.1, .1)]
        X[i + 32] = [0.2 * i + rng.uniform(-.1, .1) + 5, 0.9 * i + rng.uniform(-.1, .1)]
    return X


rows, summary = [], {}
have_fm = os.path.exists(FM)
if have_fm:
    rt, rs = ref_topovae(REF_STEPS)
    ot1, os1 = ours_topovae(1)
    ot2, os2 = ours_topovae(0)
    rows += [["TopoVAE step: topological part", f"{rt * 1e3:.1f} ms", f"{ot1 * 1e3:.1f} ms", f"{rt / ot1:.1f}x",
              f"{ot2 * 1e3:.1f} ms", f"{rt / ot2:.1f}x"],
             ["TopoVAE step: whole lockstep step", f"{rs * 1e3:.1f} ms", f"{os1 * 1e3:.1f} ms", f"{rs / os1:.1f}x",
              f"{os2 * 1e3:.1f} ms", f"{rs / os2:.1f}x"]]
    summary.update(topo_ratio=rt / ot1, step_ratio=rs / os1, topo_share=ot1 / os1, topo_share_all=ot2 / os2)
else:
    print(f"note: {FM} is missing: the TopoVAE rows are skipped")

X3 = preset3_start()
Y3 = circle_target(100)
p3s = os.path.join(tmp.name, "p3-start.csv")
p3t = os.path.join(tmp.name, "p3-target.csv")
np.savetxt(p3s, X3, delimiter=",")
np.savetxt(p3t, Y3, delimiter=",")
r3 = ref_topofit(X3, Y3, 40)
o3 = ours_topofit(["--points", p3s, "--target", p3t, "--lr", "0.1"], 3000)
rows.append(["topofit preset 3 (64 points)", f"{r3:.1f} steps/s", f"{o3:.0f} steps/s", f"{o3 / r3:.0f}x", "", ""])
summary["topofit3_ratio"] = o3 / r3
for n in (64, 128, 200):
    rng = np.random.default_rng(n)
    X = rng.random((n, 2)) * 10
    px = os.path.join(tmp.name, f"pg{n}.csv")
    np.savetxt(px, X, delimiter=",")
    rr = ref_topofit(X, Y3, 10 if n > 64 else 20)
    oo = ours_topofit(["--points", px, "--target", p3t, "--lr", "0.05"], 1500)
    rows.append([f"playground: {n} points 2-D vs circle", f"{rr:.1f} steps/s", f"{oo:.0f} steps/s", f"{oo / rr:.0f}x",
                 "", ""])
    summary[f"playground{n}_steps_per_s"] = oo

table("core/topo vs Topo-GEN's step (PyTorch transcription, GUDHI + exact matching stand-ins), one thread",
      rows, ["case", "Topo-GEN (ref)", "ours 1 thread", "ratio", "ours all cores", "ratio"])
print("\nsummary:", json.dumps({k: round(v, 3) for k, v in summary.items()}))
if have_fm:
    print(f"topological part / our step (1 thread): {100 * summary['topo_share']:.0f}%  "
          f"(all cores: {100 * summary['topo_share_all']:.0f}%)")
