"""Training throughput of the CPU engine (core/nn) against PyTorch's CPU
build (python3-torch), same model, batch and thread count, data in memory,
measured in the same run: LeNet-5 on 1x28x28 at batch 64 (SGD momentum),
ResNet-18 with the small-image stem on 3x32x32 at batch 64 (SGD momentum +
weight decay), the TopoVAE on 1x28x28 at batch 128 (Adam, BCE + KL).
Each side runs one warm-up step, then STEPS timed training steps (forward,
loss, backward, optimiser); the two alternate ROUNDS times and the best
images/s of each is kept (the machine is shared). PyTorch runs both with
its default OpenMP wait policy and with OMP_WAIT_POLICY=PASSIVE (much faster
on a loaded machine) and keeps its better figure. Ratios > 1 mean faster
than PyTorch. Also prints the engine's (im2col + SGEMM, Winograd for 3x3
stride-1) vs a direct convolution's timings
(`nn-throughput conv`). Run: bash tests/bench/run nn"""
import os
import subprocess
import sys

from tsbench import table

exe = os.environ["TOPOSCOPE"]
driver = os.path.join(os.path.dirname(os.path.dirname(exe)), "tests", "nn", "nn-throughput")
THREADS = int(os.environ.get("BENCH_NN_THREADS", "2"))
ROUNDS = int(os.environ.get("BENCH_NN_ROUNDS", "2"))
CASES = [("lenet5", 64, 40), ("resnet18", 64, 2), ("topovae", 128, 10)]

TORCH = r'''
import sys, time, torch, torch.nn as nn, torch.nn.functional as F
import torchvision.models.resnet as tvr
name, B, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads); torch.manual_seed(1)
class VAE(nn.Module):
    def __init__(s, L=10):
        super().__init__()
        s.c1, s.c2 = nn.Conv2d(1, 32, 4, 2, 1), nn.Conv2d(32, 64, 4, 2, 1)
        s.fc, s.mu, s.lv = nn.Linear(3136, 256), nn.Linear(256, L), nn.Linear(256, L)
        s.d1, s.d2 = nn.Linear(L, 256), nn.Linear(256, 3136)
        s.t1, s.t2 = nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ConvTranspose2d(32, 1, 4, 2, 1)
    def forward(s, x):
        h = F.relu(s.fc(F.relu(s.c2(F.relu(s.c1(x)))).flatten(1)))
        mu, lv = s.mu(h), s.lv(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * lv)
        h = F.relu(s.d2(F.relu(s.d1(z)))).view(-1, 64, 7, 7)
        return torch.sigmoid(s.t2(F.relu(s.t1(h)))), mu, lv
if name == "lenet5":
    m = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                      nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                      nn.Linear(84, 10))
    x = torch.rand(B, 1, 28, 28)
elif name == "resnet18":
    m = tvr.resnet18(num_classes=10)
    m.conv1, m.maxpool = nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.Identity()
    x = torch.rand(B, 3, 32, 32)
else:
    m = VAE()
    x = torch.rand(B, 1, 28, 28)
y = torch.randint(0, 10, (B,))
if name == "topovae":
    opt = torch.optim.Adam(m.parameters(), lr=5e-4)
else:
    opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
m.train()
for s in range(steps + 1):
    if s == 1: t0, c0 = time.perf_counter(), time.process_time()
    opt.zero_grad()
    if name == "topovae":
        r, mu, lv = m(x)
        loss = (F.binary_cross_entropy(r, x, reduction="sum") - 0.5 * torch.sum(1 + lv - mu.pow(2) - lv.exp())) / B
    else:
        loss = F.cross_entropy(m(x), y)
    loss.backward(); opt.step()
dt, dc = time.perf_counter() - t0, time.process_time() - c0
print(f"images_per_second {B * steps / dt:.1f}")
print(f"images_per_cpu_second_x_threads {B * steps / dc * threads:.1f}")
'''


def measure(args, env=None):
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out, err = p.communicate()
    if p.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {err}")
    get = lambda key: float([l for l in out.splitlines() if l.startswith(key)][0].split()[1])
    return get("images_per_second"), get("images_per_cpu_second_x_threads")


def main():
    if not os.path.exists(driver):
        print(f"SKIP: {driver} is not built (tests are off?)")
        return
    rows = []
    for name, batch, steps in CASES:
        ours, ref = (0.0, 0.0), (0.0, 0.0)
        for _ in range(ROUNDS):
            o = measure([driver, name, str(batch), str(THREADS), str(steps)])
            ours = (max(ours[0], o[0]), max(ours[1], o[1]))
            for policy in (None, "PASSIVE"):
                env = dict(os.environ)
                if policy:
                    env["OMP_WAIT_POLICY"] = policy
                r = measure(["/usr/bin/python3", "-c", TORCH, name, str(batch), str(THREADS), str(steps)], env)
                ref = (max(ref[0], r[0]), max(ref[1], r[1]))
        rows.append([name, batch, f"{ours[0]:.1f}", f"{ref[0]:.1f}", f"{ours[0] / ref[0]:.2f}x",
                     f"{ours[1]:.1f}", f"{ref[1]:.1f}", f"{ours[1] / ref[1]:.2f}x"])
        print(f"{name}: toposcope {ours[0]:.1f} images/s, PyTorch {ref[0]:.1f} images/s", flush=True)
    table(f"Training throughput, {THREADS} threads, data in memory (best of {ROUNDS} alternating rounds); "
          f"'cpu' columns: images per CPU-second x {THREADS}, the rate of a dedicated {THREADS}-core machine "
          "estimated from CPU time, which other processes on a shared machine do not disturb", rows,
          ["model", "batch", "toposcope img/s", "PyTorch img/s", "ratio", "toposcope cpu", "PyTorch cpu", "ratio"])
    print(f"\nConvolution forward, the engine (im2col + SGEMM; Winograd on the 3x3 stride-1 layers) vs a direct kernel, "
          f"{THREADS} threads:")
    print(subprocess.run([driver, "conv", str(THREADS)], capture_output=True, text=True, check=True).stdout)


main()
sys.exit(0)
