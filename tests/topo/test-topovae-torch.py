"""One lockstep TopoVAE step (tests/topo/topovae-step.c: the vae objective
with topological weights 10,10,10,10,1,1,1, on the outputs and on the latent
means) against PyTorch from the same weights, batch and noise: both models'
losses and every parameter gradient to 1e-4 relative. The topological term
is the transcription of Topo-GEN's losses (tests/python/topogen_ref.py) on
the pairs the C step used, autograd through the edge lengths."""
import json
import os
import struct
import subprocess
import sys
import tempfile

from tstest import Checks, require

np = require("numpy")
torch = require("torch")
import topogen_ref as ref  # noqa: E402

F = torch.nn.functional
torch.set_num_threads(1)
TOL = 1e-4
c = Checks()
DRIVER = sys.argv[1] if len(sys.argv) > 1 else None


def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        dt = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dt).reshape(v["shape"]).copy())
    return out, header.get("__metadata__", {})


def relerr(ours, theirs):
    ours, theirs = ours.double(), theirs.double().reshape(ours.shape)
    return (ours - theirs).abs().max().item() / max(theirs.abs().max().item(), 1e-6)


def forward(P, x, eps):
    """Train-mode TopoVAE with the given noise (float64)."""
    h = F.relu(F.conv2d(x, P["encoder.conv1.weight"], P["encoder.conv1.bias"], 2, 1))
    h = F.relu(F.conv2d(h, P["encoder.conv2.weight"], P["encoder.conv2.bias"], 2, 1)).flatten(1)
    h = F.relu(F.linear(h, P["encoder.fc.weight"], P["encoder.fc.bias"]))
    mu = F.linear(h, P["encoder.fc_mu.weight"], P["encoder.fc_mu.bias"])
    lv = F.linear(h, P["encoder.fc_logvar.weight"], P["encoder.fc_logvar.bias"])
    z = mu + eps * torch.exp(0.5 * lv)
    h = F.relu(F.linear(z, P["decoder.fc.weight"], P["decoder.fc.bias"]))
    h = F.relu(F.linear(h, P["decoder.fc2.weight"], P["decoder.fc2.bias"])).view(-1, 64, 7, 7)
    h = F.relu(F.conv_transpose2d(h, P["decoder.deconv1.weight"], P["decoder.deconv1.bias"], 2, 1))
    rec = torch.sigmoid(F.conv_transpose2d(h, P["decoder.deconv2.weight"], P["decoder.deconv2.bias"], 2, 1))
    return rec, mu, lv


if not DRIVER:
    print("FAIL: give the topovae-step driver as the argument (run through meson test)")
    sys.exit(1)
for where in ("output", "latent"):
    with tempfile.TemporaryDirectory(prefix="topovae-") as d:
        subprocess.run([DRIVER, d, where], check=True)
        T, meta = load(os.path.join(d, "step.safetensors"))
        case = json.loads(meta["case"])
        dgm = ref.dgm_from_csv(os.path.join(d, "x-diagram.csv"), 1)
        dgm2 = ref.dgm_from_csv(os.path.join(d, "y-diagram.csv"), 1)
    x = T["x"].double()
    mu0, lv0 = T["mu"].double(), T["logvar"].double()
    eps = (T["z"].double() - mu0) / torch.exp(0.5 * lv0)
    B = x.shape[0]
    matches = {0: tuple(case["match0"]), 1: tuple(case["match1"])}
    c.check(case["depends"], f"{where}: the topological term does not depend on the batch (the test would be weak)")
    for model in ("topovae", "vae"):
        P = {k[5:]: v.double().requires_grad_(True) for k, v in T.items() if k.startswith("init.")}
        rec, mu, lv = forward(P, x, eps)
        bce = F.binary_cross_entropy(rec, x, reduction="sum")
        kld = -0.5 * torch.sum(1 + lv - mu ** 2 - lv.exp())
        loss = bce + kld
        if model == "topovae":
            pc = (mu if where == "latent" else rec).reshape(B, -1)
            _, topo, got = ref.all_losses(pc, dgm, dgm2, case["weights"], 1, lambda A, Bd, dim: matches[dim])
            c.check(bool(got) == bool(case["depends"]), f"{where}: depends {case['depends']} vs torch {got}")
            if got:
                c.check(abs(float(topo) - case["topo"]) <= TOL * max(1, abs(float(topo))),
                        f"{where}: topo {case['topo']} vs torch {float(topo)}")
                loss = loss + topo
            loss = loss / B
            c.check(abs(loss.item() - case["loss"]) <= TOL * abs(loss.item()), f"{where}: loss {case['loss']} vs {loss.item()}")
            c.check(abs(bce.item() / B - case["topovae_bce"]) <= TOL * bce.item() / B, f"{where}: topovae bce")
            prefix = "grad."
        else:
            loss = loss / B
            c.check(abs(bce.item() / B - case["vae_bce"]) <= TOL * bce.item() / B, f"{where}: vae bce")
            prefix = "vgrad."
        loss.backward()
        worst = 0.0
        for k, p in P.items():
            g = T.get(prefix + k)
            if g is None:
                continue
            e = relerr(g, p.grad)
            worst = max(worst, e)
            c.check(e <= TOL, f"{where} {model}: gradient of {k} off by {e:.3g}")
        print(f"{where} {model}: worst gradient error {worst:.2e}")
c.finish()
