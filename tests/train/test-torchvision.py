"""Checkpoints and torchvision's ResNet-18, both ways: a checkpoint written
by `toposcope train` loads into torchvision.models.resnet18 with
load_state_dict(strict=True) and gives the same logits as `toposcope eval`;
a torchvision state dict written as safetensors loads here and gives the
same logits as PyTorch."""
import os
import subprocess
import tempfile

import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tstest import Checks, require, run
from tsdata import read_safetensors, write_idx, write_safetensors

torch = require("torch")
torchvision = require("torchvision")
c = Checks()
tmp = tempfile.mkdtemp(prefix="ts-test-tv-")
store = os.path.join(tmp, "runs.sqlite")
rng = np.random.default_rng(7)
N = 12
imgs = rng.integers(0, 256, size=(N, 32, 32, 3), dtype=np.uint8)
labels = rng.integers(0, 10, size=N).astype(np.uint8)
im_path, lb_path = os.path.join(tmp, "im.idx"), os.path.join(tmp, "lb.idx")
write_idx(im_path, imgs)
write_idx(lb_path, labels)
spec = f"idx:{im_path},{lb_path}"
x = torch.from_numpy(imgs.transpose(0, 3, 1, 2).astype(np.float32) / 255.0)


def close(a, b, what):
    err = np.max(np.abs(a - b)) / max(1.0, np.max(np.abs(b)))
    c.check(a.shape == b.shape and err < 1e-4, f"{what}: shapes {a.shape} {b.shape}, max rel error {err:.3g}")


def ours_logits(ckpt, extra=()):
    out = os.path.join(tmp, "logits.npy")
    run(["eval", "--checkpoint", ckpt, "--data", spec, "--batch", "5", "--logits", out, "--threads", "2", *extra])
    return np.load(out)


def torch_logits(model):
    model.eval()
    with torch.no_grad():
        return model(x).numpy()


# 1. Toposcope -> torchvision (standard stem, and the small-image stem).
for stem in ([], ["--small-stem"]):
    ck = os.path.join(tmp, "here.safetensors")
    run(["train", "--model", "resnet18", *stem, "--data", spec, "--val", "none", "--epochs", "1", "--batch", "6",
         "--normalize", "none", "--lr", "0.05", "--save", ck, "--store", store, "--threads", "2", "-q"])
    tensors, meta = read_safetensors(ck)
    c.check(meta.get("format") == "toposcope-checkpoint-1" and meta.get("model") == "resnet18", f"metadata {meta}")
    c.check(tensors["bn1.num_batches_tracked"].dtype == np.int64 and int(tensors["bn1.num_batches_tracked"]) == 2,
            "num_batches_tracked is I64 and counts the 2 steps")
    c.check(any(k.startswith("optim.") for k in tensors), "optimiser state is in the checkpoint")
    sd = {k: torch.from_numpy(v) for k, v in tensors.items() if not k.startswith("optim.")}
    model = torchvision.models.resnet18(num_classes=10)
    if stem:
        model.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        model.maxpool = torch.nn.Identity()
    missing = model.load_state_dict(sd, strict=True)
    c.check(not missing.missing_keys and not missing.unexpected_keys, f"load_state_dict: {missing}")
    c.check(float(sd["bn1.running_var"].std()) > 0, "batch-norm running statistics were trained")
    close(ours_logits(ck), torch_logits(model), f"toposcope -> torchvision {stem}")

# 2. torchvision -> Toposcope: random weights and non-trivial batch-norm state.
torch.manual_seed(3)
model = torchvision.models.resnet18(num_classes=10)
with torch.no_grad():
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
            m.num_batches_tracked.fill_(17)
want = torch_logits(model)
sd = {k: v.numpy() for k, v in model.state_dict().items()}
ck2 = os.path.join(tmp, "torch.safetensors")
write_safetensors(ck2, sd)
close(ours_logits(ck2, ["--model", "resnet18"]), want, "torchvision -> toposcope")

# 3. A state dict with a wrong shape is refused with the tensor's name.
sd["layer2.0.conv1.weight"] = sd["layer2.0.conv1.weight"][:, :32].copy()
write_safetensors(ck2, sd)
p = run(["eval", "--checkpoint", ck2, "--model", "resnet18", "--data", spec], check=False)
c.check(p.returncode == 1 and "layer2.0.conv1.weight" in p.stderr and "torch.safetensors" in p.stderr,
        f"shape mismatch names the tensor: {p.stderr!r}")
p = run(["eval", "--checkpoint", ck2, "--data", spec], check=False)
c.check(p.returncode == 1 and "--model" in p.stderr, f"foreign file without --model: {p.stderr!r}")
subprocess.run(["rm", "-rf", tmp])
c.finish()
