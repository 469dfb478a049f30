"""toposcope generate end to end: byte-identical output for any --threads,
the manifest, refusal to overwrite or to resume with other parameters,
Ctrl-C leaving only whole files and a manifest saying how far it got,
--resume finishing the job identically, the run in the store, usage errors."""
import atexit
import filecmp
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from tstest import Checks, run, toposcope

c = Checks()
tmp = tempfile.mkdtemp(prefix="images-gen-")
atexit.register(shutil.rmtree, tmp, True)
os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")  # FFTW wisdom goes here
store = os.path.join(tmp, "runs.sqlite")


def gen(out, *extra, check=True):
    return run(["generate", "-o", os.path.join(tmp, out), "--store", store, "--size", "32", *extra], check=check)


def files(d):
    out = []
    for sub in ("train", "val"):
        p = os.path.join(tmp, d, sub)
        if os.path.isdir(p):
            out += [os.path.join(sub, f) for f in sorted(os.listdir(p))]
    return out


def manifest(d):
    with open(os.path.join(tmp, d, "manifest.json")) as f:
        return json.load(f)


# --- any thread count, same bytes ------------------------------------------
gen("a", "-n", "20", "--val", "5", "--threads", "1", "--seed", "3")
gen("b", "-n", "20", "--val", "5", "--threads", "3", "--seed", "3")
fa, fb = files("a"), files("b")
c.check(len(fa) == 25 and fa == fb, f"25 files each: {len(fa)} and {len(fb)}")
same = all(filecmp.cmp(os.path.join(tmp, "a", f), os.path.join(tmp, "b", f), shallow=False) for f in fa)
c.check(same, "1 thread and 3 threads give byte-identical files")
m = manifest("a")
c.check(m["complete"] and m["train_done"] == 20 and m["val_done"] == 5, f"manifest counts: {m}")
c.check(m["seed"] == "3" and m["spectrum"] == "kaji" and m["size"] == 32 and "version" in m, "manifest parameters")
gen("c", "-n", "20", "--val", "5", "--seed", "4")
c.check(not filecmp.cmp(os.path.join(tmp, "a", fa[0]), os.path.join(tmp, "c", fa[0]), shallow=False),
        "another seed gives other pictures")

# --- refusals ----------------------------------------------------------------
p = gen("a", "-n", "20", "--val", "5", "--seed", "3", check=False)
c.check(p.returncode == 1 and "--resume" in p.stderr, f"existing dataset refused without --resume: {p.stderr}")
p = gen("a", "-n", "20", "--val", "5", "--seed", "9", "--resume", check=False)
c.check(p.returncode == 1 and "seed" in p.stderr, f"--resume with another seed refused: {p.stderr}")
p = gen("a", "-n", "20", "--val", "5", "--seed", "3", "--resume")
c.check(p.returncode == 0, "--resume of a finished dataset is a no-op")
# a dataset begun by a build with other pixel arithmetic (older manifests
# have no pixel_arithmetic) is not continued with this one
c.check(m.get("pixel_arithmetic") == 2, f"manifest records the pixel arithmetic: {m.get('pixel_arithmetic')}")
old = dict(m)
del old["pixel_arithmetic"]
old["complete"], old["train_done"] = False, 10
with open(os.path.join(tmp, "a", "manifest.json"), "w") as f:
    json.dump(old, f)
p = gen("a", "-n", "20", "--val", "5", "--seed", "3", "--resume", check=False)
c.check(p.returncode == 1 and "pixel_arithmetic" in p.stderr, f"--resume of an older build's dataset refused: {p.stderr}")

# --- formats -------------------------------------------------------------------
gen("png", "-n", "3", "--val", "0", "--format", "png", "--spectrum", "radial")
gen("npy", "-n", "3", "--val", "0", "--format", "npy", "--prob-colour", "1")
c.check(files("png") == [f"train/t{i:08d}.png" for i in range(3)], "png files")
c.check(files("npy") == [f"train/t{i:08d}.npy" for i in range(3)], "npy files")

# --- Ctrl-C, then --resume -----------------------------------------------------
args = ["generate", "-o", os.path.join(tmp, "big"), "--store", store, "--size", "32", "-n", "1500", "--val", "50",
        "--threads", "2", "--seed", "7"]
proc = subprocess.Popen([toposcope()] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.time() + 60
while time.time() < deadline:
    time.sleep(0.2)
    mp = os.path.join(tmp, "big", "manifest.json")
    if os.path.exists(mp) and manifest("big")["train_done"] > 0:
        break
proc.send_signal(signal.SIGINT)
out, err = proc.communicate(timeout=120)
m = manifest("big")
c.check(proc.returncode == 130, f"stopped run exits 130, got {proc.returncode}: {err}")
c.check(0 < m["train_done"] < 1500 and not m["complete"], f"manifest says how far it got: {m['train_done']}")
names = files("big")
c.check(not any(".tmp-" in f for f in names), "no temporary files left")
c.check(len(names) == m["train_done"] + m["val_done"], f"{len(names)} files for {m['train_done']} done")
p = run(args + ["--resume"])
m = manifest("big")
c.check(m["complete"] and len(files("big")) == 1550, "--resume finishes the job")
ref = ["generate", "-o", os.path.join(tmp, "ref"), "--no-store", "--size", "32", "-n", "1500", "--val", "50",
       "--threads", "1", "--seed", "7"]
run(ref)
diff = [f for f in files("big") if not filecmp.cmp(os.path.join(tmp, "big", f), os.path.join(tmp, "ref", f),
                                                   shallow=False)]
c.check(not diff, f"interrupted + resumed = uninterrupted, byte for byte ({len(diff)} differ)")

# --- a second Ctrl-C: the pictures in hand are finished, the batch dropped -------
# Files are written in place (no rename), so this is what keeps them whole.
big2 = os.path.join(tmp, "big2")
proc = subprocess.Popen([toposcope(), "generate", "-o", big2, "--no-store", "--size", "1024", "-n", "64", "--val",
                         "0", "--threads", "2", "--seed", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        text=True, env=dict(os.environ, TOPOSCOPE_FFTW_PLANNER="estimate"))
deadline = time.time() + 60
while time.time() < deadline and not (os.path.isdir(os.path.join(big2, "train"))
                                      and os.listdir(os.path.join(big2, "train"))):
    time.sleep(0.02)
proc.send_signal(signal.SIGINT)
time.sleep(0.05)
proc.send_signal(signal.SIGINT)
out, err = proc.communicate(timeout=120)
m = manifest("big2")
names = files("big2")
c.check(proc.returncode == 130, f"twice stopped run exits 130, got {proc.returncode}: {err}")
c.check(m["train_done"] <= len(names) and not m["complete"], f"{m['train_done']} counted, {len(names)} files")
whole = []
for f in names:
    with open(os.path.join(big2, f), "rb") as fh:
        whole.append(fh.read()[-2:] == b"\xff\xd9")  # JPEG's end-of-image marker
c.check(names and all(whole), f"{whole.count(False)} of {len(names)} files cut short")

# --- the store -----------------------------------------------------------------
p = run(["runs", "list", "--store", store])
c.check(p.stdout.count("generate") >= 5, f"generate runs listed in the store:\n{p.stdout}")

# --- usage errors ----------------------------------------------------------------
for bad in (["--alpha-range", "2", "1"], ["--format", "gif"], ["--spectrum", "pink"], ["--size", "1"],
            ["--beta-range", "1"], ["--prob-binary", "1.5"]):
    p = gen("u", *bad, check=False)
    c.check(p.returncode == 2, f"{bad} exits 2, got {p.returncode}: {p.stderr}")
p = run(["generate", "--size", "32"], check=False)
c.check(p.returncode == 2 and "-o" in p.stderr, "the output folder is required")
c.finish()
