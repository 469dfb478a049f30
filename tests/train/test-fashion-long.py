"""A short real training: LeNet-5 on all of FashionMNIST, two epochs of SGD
with a cosine schedule, must reach over 85% test accuracy (the test set is
never trained on). Skips where Debian's dataset-fashion-mnist is absent."""
import json
import os
import subprocess
import sys
import tempfile

from tstest import Checks, run

if not os.path.exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"):
    print("SKIP: FashionMNIST is not installed (apt install dataset-fashion-mnist)")
    sys.exit(77)
c = Checks()
tmp = tempfile.mkdtemp(prefix="ts-test-fashion-")
ck = os.path.join(tmp, "lenet5.safetensors")
p = run(["train", "--model", "lenet5", "--data", "fashion-mnist", "--val", "none", "--epochs", "2",
         "--batch", "64", "--lr", "0.05", "--momentum", "0.9", "--schedule", "cosine", "--seed", "1",
         "--save", ck, "--store", os.path.join(tmp, "runs.sqlite")])
print(p.stdout)
e = run(["eval", "--checkpoint", ck, "--data", "fashion-mnist", "--split", "test", "--json"])
r = json.loads(e.stdout)
print(f"test accuracy {100 * r['accuracy']:.2f}%, loss {r['loss']:.4f}")
c.check(r["count"] == 10000, f"the whole test set: {r['count']}")
c.check(r["accuracy"] > 0.85, f"test accuracy over 85%: {r['accuracy']}")
c.check(sum(map(sum, r["confusion"])) == 10000, "the confusion matrix counts every image")
subprocess.run(["rm", "-rf", tmp])
c.finish()
