"""Probing networks: Toposcope against the reference pipelines, same run.

1. The whole functional-graph probe of a trained lenet-dnn (1820 nodes:
   forward passes over 1000 test images, correlations, Rips H0..H2 at
   dnn-topology's defaults, summaries) against the `ripser` command alone on
   the same distance matrix (threshold 0.6, dim 2): wall time, CPU time and
   peak RSS. DIPHA, dnn-topology's own engine, cannot run this graph on a
   small machine at all (hundreds of millions of cells).
2. The correlation matrix against numpy.corrcoef on the same signals.
3. The 5070-node graph of a lenet-dnn with 30/40 conv channels and fc 100
   (ripser only with BENCH_PROBE_RIPSER_WIDE=1: it takes minutes).
4. Seed 002's per-layer lifespans (local: 250 images a class, H0) and PH
   dimension (500, 850, ... < 3000) of a ResNet-20 on 3000 images against
   a NumPy + SciPy transcription on the embeddings the probe dumps (H0 by
   SciPy's minimum spanning tree, which is what H0 Rips is, and faster than
   ripser's command): the topology part alone (the forward passes are timed
   and shown apart).
The networks are trained briefly here (FashionMNIST, Debian's package)."""
import json
import os
import subprocess
import sys
import tempfile
import time

from tsbench import table

EXE = os.environ.get("TOPOSCOPE", "toposcope")
RIPSER = "/usr/bin/ripser"


def run_cmd(args, repeat=1):
    best, cpu, peak = float("inf"), float("inf"), 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        p = subprocess.Popen(list(map(str, args)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        dt = time.perf_counter() - t0
        if status != 0:
            raise RuntimeError(f"{args} failed with status {status}: {p.stderr.read()[-400:]}")
        best = min(best, dt)
        cpu = min(cpu, ru.ru_utime + ru.ru_stime)
        peak = max(peak, ru.ru_maxrss * 1024)
    return best, cpu, peak


def child(what, *args):
    """Runs this file's helper in a child (numpy stays out of the timing process)."""
    out = subprocess.run([sys.executable, __file__, what, *map(str, args)], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def helper_ldm(dump, path):
    import numpy as np
    low = np.load(os.path.join(dump, "graph-distances.npy")).ravel()
    np.savetxt(path, low[None, :], fmt="%.9g")
    print(json.dumps({"entries": int(low.size), "dense": float((low <= 0.6).mean())}))


def helper_corr(dump):
    import numpy as np
    sig = np.load(os.path.join(dump, "graph-signals.npy")).astype(np.float32)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        d = 1 - np.abs(np.nan_to_num(np.corrcoef(sig)))
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"seconds": best, "nodes": int(sig.shape[0])}))


def helper_lifespans(dump, nlayers):
    """seed 002: min-max per feature, per class (first 250) H0 lifespan sums averaged; PH dimension of
    the unscaled embedding from subsamples 500, 850, ... < N."""
    import numpy as np
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial.distance import pdist, squareform

    def h0_sum(x):
        if len(x) < 2:
            return 0.0
        return 0.5 * minimum_spanning_tree(squareform(pdist(x))).sum()

    labels = np.load(os.path.join(dump, "labels.npy")).ravel().astype(int)
    t0 = time.perf_counter()
    out = []
    rng = np.random.default_rng(0)
    for k in range(int(nlayers)):
        emb = np.load(os.path.join(dump, f"emb-{k}.npy"))
        lo, hi = emb.min(0), emb.max(0)
        span = np.where(hi > lo, hi - lo, 1)
        x = np.where(hi > lo, (emb - lo) / span, 0)
        life = np.mean([h0_sum(x[np.nonzero(labels == c)[0][:250]]) for c in range(10)])
        ns = list(range(500, len(emb), 350))
        es = [h0_sum(emb[rng.choice(len(emb), n, replace=False)]) for n in ns]
        m = np.polyfit(np.log(ns), np.log(es), 1)[0]
        out.append({"life": float(life), "phdim": float(1 / (1 - m))})
    print(json.dumps({"seconds": time.perf_counter() - t0, "layers": out}))


def main():
    if len(sys.argv) > 1:
        {"ldm": helper_ldm, "corr": helper_corr, "lifespans": helper_lifespans}[sys.argv[1]](*sys.argv[2:])
        return
    tmpdir = tempfile.TemporaryDirectory(prefix="probe-bench-")
    tmp = tmpdir.name
    j = lambda name: os.path.join(tmp, name)  # noqa: E731
    store = j("s.sqlite")
    train = [EXE, "train", "--data", "fashion-mnist", "--limit", "10000", "--val", "none", "--epochs", "2",
             "--batch", "128", "--weight-decay", "5e-4", "--store", store, "--quiet", "--threads", "2"]
    subprocess.run(train + ["--model", "lenet-dnn", "--save", j("ld.safetensors")], check=True)
    rows = []
    for name, ck, wide in (("lenet-dnn 1820 nodes", j("ld.safetensors"), False),
                           ("lenet-dnn 30/40/100, 5070 nodes", j("wide.safetensors"), True)):
        if wide:
            subprocess.run(train + ["--model", "lenet-dnn", "--hidden", "30,40,100", "--save", ck], check=True)
        dump = j("dump-wide" if wide else "dump")
        os.mkdir(dump)
        probe = [EXE, "probe", ck, "--what", "graph", "--store", store, "--threads", "2"]
        subprocess.run(probe + ["--embeddings", dump, "-o", j("g.json")], check=True, capture_output=True)
        g = json.load(open(j("g.json")))["probes"][0]["probe"]["graph"]
        t2, c2, m2 = run_cmd(probe)
        ldm = j("g.ldm")
        info = child("ldm", dump, ldm)
        if not wide or os.environ.get("BENCH_PROBE_RIPSER_WIDE") == "1":
            tr, cr, mr = run_cmd([RIPSER, "--format", "lower-distance", "--dim", "2", "--threshold", "0.6", ldm])
            rat = [f"{tr:.2f} ({cr:.2f})", f"{t2 / tr:.2f}", f"{c2 / cr:.2f}", f"{mr / 2**20:.0f}",
                   f"{m2 / mr:.2f}"]
        else:
            rat = ["not run", "-", "-", "-", "-"]
        corr = child("corr", dump)
        rows.append([name, f"{info['dense']:.1%}", f"{t2:.2f} ({c2:.2f})", f"{m2 / 2**20:.0f}"] + rat +
                    [f"{g['seconds_correlation']:.3f}", f"{corr['seconds']:.3f}",
                     f"{corr['seconds'] / max(g['seconds_correlation'], 1e-9):.1f}"])
        print(f"  {name}: done", flush=True)
    table("Functional graph: whole probe (2 threads) vs ripser alone on the same matrix; wall s (CPU s), "
          "peak MiB; correlations vs numpy.corrcoef (s)", rows,
          ["graph", "edges<=0.6", "probe", "probe MiB", "ripser", "wall ratio", "cpu ratio", "ripser MiB",
           "mem ratio", "corr ours", "corr numpy", "numpy/ours"])

    # ResNet-20 lifespans and PH dimension
    subprocess.run([EXE, "train", "--model", "resnet20", "--data", "fashion-mnist", "--limit", "2000", "--val",
                    "none", "--epochs", "1", "--batch", "64", "--store", store, "--quiet", "--threads", "2",
                    "--save", j("r20.safetensors")], check=True)
    dump = j("dump-r20")
    os.mkdir(dump)
    t0 = time.perf_counter()
    subprocess.run([EXE, "probe", j("r20.safetensors"), "--what", "lifespans,phdim", "--samples", "3000",
                    "--store", store, "--threads", "2", "--embeddings", dump, "-o", j("l.json")], check=True,
                   capture_output=True)
    whole = time.perf_counter() - t0
    res = json.load(open(j("l.json")))["probes"][0]["probe"]
    ours = res["seconds_lifespans"] + res["seconds_phdim"]
    ref = child("lifespans", dump, len(res["layers"]))
    rows = [[L["name"], L["dim"], f"{L['lifespan_h0']:.5g}", f"{R['life']:.5g}", f"{L['phdim']:.3f}",
             f"{R['phdim']:.3f}"] for L, R in zip(res["layers"], ref["layers"])]
    table("ResNet-20, 3000 images: per-layer lifespans (local, H0) and PH dimension, ours vs the transcription "
          "(PH dimension: each side's own random subsamples)", rows,
          ["layer", "dim", "L0 ours", "L0 ref", "phdim ours", "phdim ref"])
    print(f"\ntopology part: ours {ours:.2f} s (2 threads), NumPy + SciPy {ref['seconds']:.2f} s, "
          f"ratio {ref['seconds'] / ours:.1f}x; our forward passes {res['seconds_capture']:.2f} s, "
          f"whole probe command {whole:.2f} s")


main()
