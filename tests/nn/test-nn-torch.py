"""Every op, loss and optimiser of core/nn against PyTorch.

nn-torch-cases (a C driver) runs each op forward and backward on random
shapes and a few training steps of LeNet-5, a narrow small-stem ResNet-18,
a narrow ResNet-50, the TopoVAE, an MLP, the CIFAR ResNet-20 (option-A
shortcuts), VGG-11 with batch norm and dnn-topology's LeNet (in evaluation
mode: Dropout2d's masks are not PyTorch's), and writes inputs, weights and
results as safetensors; this script recomputes all of it with torch and
compares to 1e-4 relative (max |ours - torch| / max |torch|)."""
import json
import os
import struct
import subprocess
import sys
import tempfile

from tstest import Checks, require

np = require("numpy")
torch = require("torch")
tvr = require("torchvision.models.resnet")
F = torch.nn.functional
nn = torch.nn
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

TOL = 1e-4
c = Checks()


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
    return out


def close(what, ours, ref, tol=TOL):
    ours = ours.detach().double()
    ref = ref.detach().double().reshape(ours.shape)
    scale = max(ref.abs().max().item() if ref.numel() else 0.0, 1e-3)
    err = (ours - ref).abs().max().item() / scale if ref.numel() else 0.0
    c.check(err <= tol, f"{what}: relative error {err:.3g} > {tol:g}")


def objective_case(case, t):
    """A training objective's loss and gradients (run/objective.h): classify
    = CE, ph = MSE on z-scored labels, simultaneous = CE on the first C
    outputs + ph_weight * MSE of the rest; z-score fitted (population std,
    floored at 1% of its root mean square) on the training labels."""
    i = case["id"]
    g = lambda k: t[f"{i}.{k}"]
    task, n, nc, nd = case["task"], case["n"], case["classes"], case["dims"]
    head = nc if task == "classify" else nd if task == "ph" else nc + nd
    m = MLP(16, [8], head)
    m.load_state_dict({k.split(".", 2)[2]: v for k, v in t.items() if k.startswith(f"{i}.w.")})
    m = m.double()
    x = g("x").double()
    out = m(x)
    out.retain_grad()
    labels = g("labels")
    if task != "classify":
        y = g("targets").double()
        if case["norm"] == "zscore":
            mean, std = y.mean(0), y.std(0, unbiased=False)
            fl = 0.01 * std.pow(2).mean().sqrt()
            std = torch.where((std >= fl) & (std > 1e-12), std, fl if fl > 1e-12 else torch.ones_like(std))
        else:
            mean, std = torch.zeros(nd, dtype=torch.float64), torch.ones(nd, dtype=torch.float64)
        close(f"objective #{i} {task} label mean", g("mean"), mean)
        close(f"objective #{i} {task} label std", g("std"), std)
        z = (y[:n] - mean) / std
    if task == "classify":
        loss = F.cross_entropy(out, labels)
    elif task == "ph":
        loss = F.mse_loss(out, z)
    else:
        loss = F.cross_entropy(out[:, :nc], labels) + case["ph_weight"] * F.mse_loss(out[:, nc:], z)
    loss.backward()
    close(f"objective #{i} {task} loss", g("loss"), loss.reshape(1))
    close(f"objective #{i} {task} d head", g("dhead"), out.grad)
    close(f"objective #{i} {task} d fc1.weight", g("dfc1"), m.fc1.weight.grad)


def op_case(case, t):
    i = case["id"]
    g = lambda k: t[f"{i}.{k}"]
    op = case["op"]
    if op == "objective":
        return objective_case(case, t)
    if op in ("conv2d", "conv_transpose2d"):
        x = g("x").requires_grad_()
        w = g("wt").requires_grad_()
        b = g("b").requires_grad_() if case["bias"] else None
        kw = dict(stride=case["stride"], padding=case["padding"], dilation=case["dilation"], groups=case["groups"])
        if op == "conv2d":
            y = F.conv2d(x, w, b, **kw)
        else:
            y = F.conv_transpose2d(x, w, b, output_padding=case["output_padding"], **kw)
        y.backward(g("dy"))
        close(f"{op} #{i} y", g("y"), y)
        close(f"{op} #{i} dx", g("dx"), x.grad)
        close(f"{op} #{i} dw", g("dw"), w.grad)
        if b is not None:
            close(f"{op} #{i} db", g("db"), b.grad)
    elif op == "linear":
        x, w, b = (g(k).requires_grad_() for k in ("x", "wt", "b"))
        y = F.linear(x, w, b)
        y.backward(g("dy"))
        close(f"linear #{i} y", g("y"), y)
        for k, v in (("dx", x), ("dw", w), ("db", b)):
            close(f"linear #{i} {k}", g(k), v.grad)
    elif op.startswith("batch_norm"):
        x, w, b = (g(k).requires_grad_() for k in ("x", "wt", "b"))
        rm, rv = g("rm0").clone(), g("rv0").clone()
        y = F.batch_norm(x, rm, rv, w, b, training=bool(case["train"]), momentum=0.1, eps=1e-5)
        y.backward(g("dy"))
        close(f"{op} #{i} y", g("y"), y)
        close(f"{op} #{i} dx", g("dx"), x.grad)
        close(f"{op} #{i} dgamma", g("dw"), w.grad)
        close(f"{op} #{i} dbeta", g("db"), b.grad)
        close(f"{op} #{i} running_mean", g("rm"), rm)
        close(f"{op} #{i} running_var", g("rv"), rv)
    elif op in ("relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "log_softmax"):
        x = g("x").requires_grad_()
        a = case["alpha"]
        fn = {"relu": F.relu, "leaky_relu": lambda v: F.leaky_relu(v, a), "elu": lambda v: F.elu(v, a),
              "sigmoid": torch.sigmoid, "tanh": torch.tanh, "softmax": lambda v: F.softmax(v, 1),
              "log_softmax": lambda v: F.log_softmax(v, 1)}[op]
        y = fn(x)
        y.backward(g("dy"))
        close(f"{op} #{i} y", g("y"), y)
        close(f"{op} #{i} dx", g("dx"), x.grad)
    elif op in ("max_pool2d", "avg_pool2d", "global_avg_pool"):
        x = g("x").requires_grad_()
        kw = dict(kernel_size=case["kernel"], stride=case["stride"], padding=case["padding"])
        if op == "max_pool2d":
            y = F.max_pool2d(x, **kw)
        elif op == "avg_pool2d":
            y = F.avg_pool2d(x, **kw)
        else:
            y = F.adaptive_avg_pool2d(x, 1).flatten(1)
        y.backward(g("dy"))
        close(f"{op} #{i} y", g("y"), y)
        close(f"{op} #{i} dx", g("dx"), x.grad)
    elif op in ("add", "concat"):
        a, b = g("a").requires_grad_(), g("b").requires_grad_()
        y = a + b if op == "add" else torch.cat([a, b], 1)
        y.backward(g("dy"))
        close(f"{op} #{i} y", g("y"), y)
        close(f"{op} #{i} da", g("da"), a.grad)
        close(f"{op} #{i} db", g("dbb"), b.grad)
    else:  # losses
        x, t_ = g("x").requires_grad_(), g("t").requires_grad_()
        red = case["reduction"]
        if op == "mse":
            loss = F.mse_loss(x, t_.detach(), reduction=red)
        elif op == "cross_entropy":
            loss = F.cross_entropy(x, g("labels"), reduction=red)
        elif op == "bce":
            loss = F.binary_cross_entropy(x, t_.detach(), reduction=red)
        elif op == "bce_with_logits":
            loss = F.binary_cross_entropy_with_logits(x, t_.detach(), reduction=red)
        else:
            loss = -0.5 * torch.sum(1 + t_ - x.pow(2) - t_.exp())
        (loss * case["scale"]).backward()
        close(f"{op} #{i} loss", g("loss"), loss.reshape(1))
        close(f"{op} #{i} dx", g("dx"), x.grad)
        if op == "gaussian_kl":
            close(f"{op} #{i} dlogvar", g("dt"), t_.grad)


# ---- models ------------------------------------------------------------------------
class LeNet5(nn.Module):
    def __init__(self, cin, classes, hw):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        s = ((hw // 2) - 4) // 2
        self.fc1 = nn.Linear(16 * s * s, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc3(F.relu(self.fc2(x)))


class MLP(nn.Module):
    def __init__(self, nin, hidden, classes):
        super().__init__()
        sizes = [nin] + hidden + [classes]
        for k in range(len(sizes) - 1):
            setattr(self, f"fc{k + 1}", nn.Linear(sizes[k], sizes[k + 1]))
        self.n = len(sizes) - 1

    def forward(self, x):
        x = x.flatten(1)
        for k in range(1, self.n + 1):
            x = getattr(self, f"fc{k}")(x)
            if k < self.n:
                x = F.relu(x)
        return x


def resnet(kind, cin, classes, width, small_stem):
    """torchvision's ResNet with widths scaled and an optional small stem,
    built from torchvision's own blocks (same module names)."""
    block, depth = {"resnet18": (tvr.BasicBlock, [2, 2, 2, 2]), "resnet34": (tvr.BasicBlock, [3, 4, 6, 3]),
                    "resnet50": (tvr.Bottleneck, [3, 4, 6, 3])}[kind]
    widths = [max(1, round(64 * (1 << i) * width)) for i in range(4)]
    m = tvr.ResNet(block, depth, num_classes=classes)
    m.inplanes = widths[0]
    if small_stem:
        m.conv1 = nn.Conv2d(cin, widths[0], 3, 1, 1, bias=False)
        m.maxpool = nn.Identity()
    else:
        m.conv1 = nn.Conv2d(cin, widths[0], 7, 2, 3, bias=False)
    m.bn1 = nn.BatchNorm2d(widths[0])
    for i in range(4):
        setattr(m, f"layer{i + 1}", m._make_layer(block, widths[i], depth[i], stride=1 if i == 0 else 2))
    m.fc = nn.Linear(widths[3] * block.expansion, classes)
    return m


class CifarBlock(nn.Module):
    """He et al.'s CIFAR basic block with the option-A shortcut."""
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = (planes - cin) // 2 if (stride != 1 or cin != planes) else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = x if self.pad is None else F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + sc)


class CifarResNet(nn.Module):
    def __init__(self, depth, cin, classes):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(cin, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        c = 16
        for i, w in enumerate((16, 32, 64)):
            blocks = []
            for b in range(n):
                blocks.append(CifarBlock(c, w, 2 if (b == 0 and i > 0) else 1))
                c = w
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(x.mean((2, 3)))


class VGG(nn.Module):
    CFG = {"vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
           "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]}

    def __init__(self, kind, cin, classes):
        super().__init__()
        layers = []
        for v in self.CFG[kind]:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(cin, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU()]
                cin = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(512, classes)

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class LeNetDnn(nn.Module):
    """dnn-topology's LeNet (models/lenet.py)."""
    def __init__(self, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, classes)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = F.relu(self.fc1(x.flatten(1)))
        return F.log_softmax(self.fc2(x), dim=1)


class Encoder(nn.Module):
    def __init__(self, latent):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4, 2, 1)
        self.conv2 = nn.Conv2d(32, 64, 4, 2, 1)
        self.fc = nn.Linear(3136, 256)
        self.fc_mu = nn.Linear(256, latent)
        self.fc_logvar = nn.Linear(256, latent)


class Decoder(nn.Module):
    def __init__(self, latent):
        super().__init__()
        self.fc = nn.Linear(latent, 256)
        self.fc2 = nn.Linear(256, 3136)
        self.deconv1 = nn.ConvTranspose2d(64, 32, 4, 2, 1)
        self.deconv2 = nn.ConvTranspose2d(32, 1, 4, 2, 1)


class TopoVAE(nn.Module):
    def __init__(self, latent):
        super().__init__()
        self.encoder = Encoder(latent)
        self.decoder = Decoder(latent)

    def forward(self, x):  # evaluation mode: z = mu
        e = self.encoder
        h = F.relu(e.conv2(F.relu(e.conv1(x)))).flatten(1)
        h = F.relu(e.fc(h))
        mu, logvar = e.fc_mu(h), e.fc_logvar(h)
        d = self.decoder
        h = F.relu(d.fc2(F.relu(d.fc(mu)))).view(-1, 64, 7, 7)
        return torch.sigmoid(d.deconv2(F.relu(d.deconv1(h)))), mu, logvar


def relerr(ours, ref):
    ours, ref = ours.detach().double(), ref.detach().double().reshape(ours.shape)
    return (ours - ref).abs().max().item() / max(ref.abs().max().item(), 1e-3)


def build(spec):
    kind = spec["kind"]
    cin, h, w = spec["in"]
    if kind == "lenet5":
        return LeNet5(cin, spec["classes"], h)
    if kind in ("resnet20", "resnet32", "resnet56", "resnet110"):
        return CifarResNet(int(kind[6:]), cin, spec["classes"])
    if kind.startswith("vgg"):
        return VGG(kind, cin, spec["classes"])
    if kind == "lenet-dnn":
        return LeNetDnn(spec["classes"])
    if kind.startswith("resnet"):
        return resnet(kind, cin, spec["classes"], spec["width"], spec["small_stem"])
    if kind == "topovae":
        return TopoVAE(spec["latent"])
    return MLP(cin * h * w, spec["hidden"], spec["classes"])


def run_steps(m, spec, x, labels):
    """The training steps in torch; returns (first output, first grads, losses, final state)."""
    m.train(bool(spec["train"]))
    if spec["optim"] == "sgd":
        opt = torch.optim.SGD(m.parameters(), lr=spec["lr"], momentum=spec["momentum"],
                              weight_decay=spec["weight_decay"], nesterov=bool(spec["nesterov"]))
    elif spec["optim"] == "adam":
        opt = torch.optim.Adam(m.parameters(), lr=spec["lr"])
    else:
        opt = torch.optim.AdamW(m.parameters(), lr=spec["lr"])
    losses, out0, grads, xgrad = [], None, None, None
    for s in range(spec["steps"]):
        opt.zero_grad()
        x = x.detach().requires_grad_(s == 0 and spec["kind"] != "topovae")
        if spec["kind"] == "topovae":
            rec, mu, logvar = m(x)
            bce = F.binary_cross_entropy(rec, x, reduction="sum")
            kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = (bce + kld) / x.shape[0]
            out = rec
        else:
            out = m(x)
            loss = F.cross_entropy(out, labels)
        losses.append(loss.item())
        loss.backward()
        if s == 0:
            out0 = out.detach().clone()
            grads = {k: p.grad.detach().clone() for k, p in m.named_parameters()}
            if x.grad is not None:
                xgrad = x.grad.detach().clone()
        opt.step()
    return (out0, grads, torch.tensor(losses, dtype=torch.float64), {k: v.clone() for k, v in m.state_dict().items()},
            xgrad)


def model_case(spec, t):
    """Ours against torch in float64. The tolerance is 1e-4, or 4x PyTorch's
    own float32 error where the case is ill-conditioned (a deep narrow net's
    gradients: PyTorch's float32 result differs from float64 by more)."""
    name = spec["name"]
    m = build(spec)
    init = {k[5:]: v for k, v in t.items() if k.startswith("init.")}
    sd = m.state_dict()
    c.check(list(sd.keys()) == list(init.keys()), f"{name}: state-dict names and order match PyTorch's")
    for k, v in sd.items():
        if k in init:
            c.check(tuple(v.shape) == tuple(init[k].shape), f"{name}: {k} shape {tuple(init[k].shape)} vs {tuple(v.shape)}")
    m.load_state_dict(init)
    m64 = build(spec).double()
    m64.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in init.items()})
    x, labels = t["x"], t["labels"]
    r32 = run_steps(m, spec, x, labels)
    r64 = run_steps(m64, spec, x.double(), labels)

    def cmp(what, ours, ref32, ref64):
        tol = max(TOL, 4 * relerr(ref32, ref64))
        close(f"{name}: {what}", ours, ref64, tol)

    cmp("output of step 1", t["out0"], r32[0], r64[0])
    for k in r64[1]:
        cmp(f"gradient of {k}", t["grad." + k], r32[1][k], r64[1][k])
    cmp("losses", t["losses"], r32[2], r64[2])
    if "xgrad" in t:  # ts_model_set_input_grad
        cmp("input gradient of step 1", t["xgrad"], r32[4], r64[4])
    else:
        c.check(spec["kind"] == "topovae", f"{name}: no input gradient written")
    for k, v in r64[3].items():
        if v.dtype == torch.int64:
            c.check(torch.equal(t["final." + k], v), f"{name}: {k} after the steps")
        else:
            cmp(f"{k} after {spec['steps']} step(s)", t["final." + k], r32[3][k], v)


def main():
    tool = sys.argv[1]
    # torchvision's names are the contract: our builder must reproduce them at width 1
    for kind in ("resnet18", "resnet50"):
        ours = resnet(kind, 3, 1000, 1.0, False).state_dict()
        ref = getattr(tvr, kind)().state_dict()
        c.check(list(ours) == list(ref) and all(ours[k].shape == ref[k].shape for k in ref),
                f"test builder reproduces torchvision {kind}")
    with tempfile.TemporaryDirectory(prefix="nn-ops-torch-") as d:
        seed = os.environ.get("NN_TORCH_SEED", "1")
        p = subprocess.run([tool, d, seed], capture_output=True, text=True)
        if p.returncode != 0:
            print(p.stderr)
            c.check(False, "nn-torch-cases ran")
            c.finish()
        t = load(os.path.join(d, "ops.safetensors"))
        cases = json.load(open(os.path.join(d, "ops.json")))
        for case in cases:
            op_case(case, t)
        print(f"{len(cases)} op cases compared")
        for spec in json.load(open(os.path.join(d, "models.json"))):
            model_case(spec, load(os.path.join(d, spec["name"] + ".safetensors")))
            print(f"model {spec['name']} compared")
    c.finish()


main()
