"""toposcope generate vs a NumPy/SciPy implementation of the same algorithm
(random_image.py: scipy.fft, skimage's threshold_otsu, PIL JPEG at quality
75), both writing JPEG files, at 128^2 and 256^2. Prints images/s, peak
memory and the ratio per core (toposcope single-threaded vs NumPy in one
process, and all threads vs NumPy x cores)."""
import os
import re
import shutil
import subprocess
import tempfile
import time

import numpy as np
from PIL import Image
from scipy.fft import fft2, ifft2
from skimage.filters import threshold_otsu

from tsbench import peak_rss_self, run_cmd, table

exe = os.environ["TOPOSCOPE"]
tmp = tempfile.mkdtemp(prefix="bench-generate-")
env = dict(os.environ, XDG_CACHE_HOME=os.path.join(tmp, "cache"), TOPOSCOPE_NO_PROGRESS="1")
cores = os.cpu_count() or 1


def numpy_image(size, rng, alpha_range=(1, 1), beta_range=(1, 2), pb=0.5, pc=0.5):
    """random_image.py's generate_random_image, with an explicit generator."""
    sample = np.zeros(1)
    while sample.max() - sample.min() < 1e-10:
        sample = []
        for _ in range(3):
            alpha = rng.uniform(*alpha_range)
            beta = rng.uniform(*beta_range)
            x = np.linspace(1, 1 + alpha * size, size)
            X, Y = np.meshgrid(x, x)
            noise = rng.uniform(0, 1, (size, size))
            f = fft2(noise) / (X**2 + Y**2) ** beta
            sample.append(ifft2(f).real)
        sample = np.array(sample)
    for i in range(3):
        p = rng.uniform(0, 1)
        if p < pb / 2:
            sample[i] = sample[i] >= threshold_otsu(sample[i])
        elif p < pb:
            sample[i] = sample[i] < threshold_otsu(sample[i])
        else:
            sample[i] = (sample[i] - sample[i].min()) / np.ptp(sample[i])
    img = Image.fromarray((255 * sample).astype(np.uint8).transpose(1, 2, 0))
    if rng.uniform(0, 1) > pc:
        img = img.convert("L")
    return img


def numpy_rate(size, n):
    rng = np.random.default_rng(0)
    best = float("inf")
    for rep in range(2):
        # a fresh folder each pass, as toposcope gets: overwriting the files
        # of the first pass would skip creating inodes on the second
        out = os.path.join(tmp, f"np{size}-{rep}")
        os.makedirs(out)
        t0 = time.perf_counter()
        for i in range(n):
            numpy_image(size, rng).save(os.path.join(out, f"t{i:08d}.jpg"))
        best = min(best, time.perf_counter() - t0)
    return n / best, best


rows = []
for size, n_ours, n_np in ((128, 2000, 60), (256, 600, 20)):
    np_rate, np_wall = numpy_rate(size, n_np)
    rows.append([f"{size}^2", "NumPy/SciPy (1 process)", 1, n_np, f"{np_wall:.2f}", f"{np_rate:.1f}",
                 f"{peak_rss_self() / 2**20:.0f}", "1.0"])
    for threads in sorted({1, cores}):
        def args(d):
            return [exe, "generate", "-o", d, "--no-store", "--size", str(size), "-n", str(n_ours), "--val", "0",
                    "--threads", str(threads), "--seed", "1"]
        # Every run writes into a fresh folder and nothing is deleted until
        # the end: on ext4, creating files right after deleting thousands
        # makes the inode allocator step over each recently deleted inode
        # (~1 ms a file on the build machine), which would measure the
        # benchmark's own clean-up rather than the generator.
        warm = os.path.join(tmp, f"warm{size}-{threads}")
        run_cmd(args(warm)[:-4] + ["--threads", "1", "--seed", "1"], repeat=1, env=env)  # FFTW wisdom
        best, peak = float("inf"), 0
        for rep in range(3):
            d = os.path.join(tmp, f"ours{size}-{threads}-{rep}")
            t0 = time.perf_counter()
            p = subprocess.run(args(d), env=env, capture_output=True, text=True, check=True)
            best = min(best, time.perf_counter() - t0)
            # the command's own peak RSS (a forked child's rusage would include Python's)
            m = re.search(r"peak memory (\d+) MiB", p.stdout)
            peak = max(peak, int(m.group(1)) * 2**20 if m else 0)
        rate = n_ours / best
        rows.append([f"{size}^2", "toposcope generate", threads, n_ours, f"{best:.2f}", f"{rate:.1f}",
                     f"{peak / 2**20:.0f}", f"{rate / threads / np_rate:.1f}x per core"])
table("generate: images/s writing JPEG (best of runs; ratio = toposcope per core / NumPy)", rows,
      ["size", "tool", "threads", "images", "wall s", "images/s", "peak MiB", "ratio"])
shutil.rmtree(tmp, ignore_errors=True)
