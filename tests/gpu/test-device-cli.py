"""toposcope train --device: a run that cannot have its device fails
cleanly (exit 1, one line naming the cause, nothing written) in every
build -- without the CUDA backend, and with it on a machine without a GPU
(or with a device number the machine does not have) -- and the option's
own errors are usage errors (exit 2). argv[1] is "1" when the build has
the CUDA backend."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from tstest import Checks, run  # noqa: E402

cuda_built = sys.argv[1] == "1"
c = Checks()
tmp = tempfile.mkdtemp(prefix="ts-test-device-")
store = os.path.join(tmp, "runs.sqlite")
ck = os.path.join(tmp, "ck.safetensors")


def fails_cleanly(args, want_rc, want_text, what):
    p = run(["train"] + args + ["--store", store, "--save", ck], check=False)
    err = p.stderr.strip()
    c.check(p.returncode == want_rc, f"{what}: exit {p.returncode}, want {want_rc}: {err}")
    c.check(any(w in err for w in want_text), f"{what}: message {err!r} lacks {want_text}")
    c.check("Segmentation" not in err and "Sanitizer" not in err and "runtime error" not in err,
            f"{what}: crashed: {err}")
    c.check(not os.path.exists(ck) and not os.path.exists(store), f"{what}: wrote files")
    return err


built_off = "built without the CUDA backend (configure with -Dcuda=enabled)"
no_gpu = "no CUDA device can be used here"
gpu_present = False
if cuda_built:
    # Does this machine have a device? (A bad data spec stops the run right after the device check.)
    p = run(["train", "--device", "cuda", "--data", "none:", "--store", store], check=False)
    gpu_present = no_gpu not in p.stderr
    if gpu_present:
        print(f"a CUDA device answers ({p.stderr.strip()[:120]}): checking cuda:63 instead")
for dev in ["cuda", "cuda:0", "cuda:3"]:
    args = ["--device", dev, "--model", "lenet5", "--data", "fashion-mnist", "--epochs", "1"]
    if not cuda_built:
        e = fails_cleanly(args, 1, [built_off], f"--device {dev}, no backend")
        c.check(e.startswith("toposcope: train: device cuda:"), f"one line naming the device: {e!r}")
    elif not gpu_present:
        e = fails_cleanly(args, 1, [no_gpu], f"--device {dev}, no GPU")
        c.check(e.startswith("toposcope: train: device cuda:"), f"one line naming the device: {e!r}")
    else:  # nobody has cuda:63
        fails_cleanly(["--device", "cuda:63"] + args[2:], 1, ["CUDA device"], "--device cuda:63")
# The device is refused before anything else is looked at: no --data needed.
if not gpu_present:
    fails_cleanly(["--device", "cuda"], 1, [built_off if not cuda_built else no_gpu], "--device cuda alone")
fails_cleanly(["--device", "gpu", "--data", "fashion-mnist"], 2, ["expected cpu, cuda or cuda:K"], "--device gpu")
fails_cleanly(["--device", "cuda:x", "--data", "fashion-mnist"], 2, ["expected cpu, cuda or cuda:K"], "--device cuda:x")
fails_cleanly(["--tf32", "--data", "fashion-mnist"], 2, ["--tf32 is for --device cuda"], "--tf32 on the CPU")
p = run(["train", "--help"])
c.check("--device DEV" in p.stdout and "--tf32" in p.stdout, "--help documents --device and --tf32")
os.rmdir(tmp) if not os.listdir(tmp) else None
c.finish()
