"""toposcope generate vs a NumPy/SciPy implementation of the same algorithm
(random_image.py: scipy.fft, skimage's threshold_otsu, PIL JPEG at quality
75), both writing JPEG files, at 128^2 and 256^2. Prints images/s, peak
memory and the ratio per core (toposcope single-threaded vs NumPy in one
process, and all threads vs NumPy x cores). Also CPU time per image (user +
system, best run): on a machine shared with other work, wall time counts the
waits for a core and the CPU time does not, so the CPU ratio is the steadier
of the two (both sides pay the same file-system work)."""
import resource
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
# Both sides write their files on tmpfs where there is one: on this project's
# ext4 /tmp, creating a file after many were deleted cost up to a few
# milliseconds of kernel time, more than making the picture.
tmp = tempfile.mkdtemp(prefix="bench-generate-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
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


def cpu_self():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def numpy_rate(size, n):
    rng = np.random.default_rng(0)
    best, best_cpu = float("inf"), float("inf")
    for rep in range(3):
        # a fresh folder each pass, as toposcope gets: overwriting the files
        # of the first pass would skip creating inodes on the second
        out = os.path.join(tmp, f"np{size}-{rep}")
        os.makedirs(out)
        t0, c0 = time.perf_counter(), cpu_self()
        for i in range(n):
            numpy_image(size, rng).save(os.path.join(out, f"t{i:08d}.jpg"))
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, cpu_self() - c0)
    return n / best, best, best_cpu / n


rows = []
for size, n_ours, n_np in ((128, 2000, 60), (256, 600, 20)):
    np_rate, np_wall, np_cpu = numpy_rate(size, n_np)
    rows.append([f"{size}^2", "NumPy/SciPy (1 process)", 1, n_np, f"{np_wall:.2f}", f"{np_rate:.1f}",
                 f"{peak_rss_self() / 2**20:.0f}", "1.0", f"{np_cpu * 1e3:.2f}", "1.0"])
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
        best, best_cpu, peak = float("inf"), float("inf"), 0
        for rep in range(3):
            d = os.path.join(tmp, f"ours{size}-{threads}-{rep}")
            t0, c0 = time.perf_counter(), cpu_children()
            p = subprocess.run(args(d), env=env, capture_output=True, text=True, check=True)
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, cpu_children() - c0)
            # the command's own peak RSS (a forked child's rusage would include Python's)
            m = re.search(r"peak memory (\d+) MiB", p.stdout)
            peak = max(peak, int(m.group(1)) * 2**20 if m else 0)
        rate = n_ours / best
        cpu = best_cpu / n_ours
        rows.append([f"{size}^2", "toposcope generate", threads, n_ours, f"{best:.2f}", f"{rate:.1f}",
                     f"{peak / 2**20:.0f}", f"{rate / threads / np_rate:.1f}x per core", f"{cpu * 1e3:.3f}",
                     f"{np_cpu / cpu:.1f}x"])
table("generate: images/s writing JPEG (best of runs; ratio = toposcope per core / NumPy; "
      "CPU ms = user + system CPU time per image, CPU ratio = NumPy's / toposcope's)", rows,
      ["size", "tool", "threads", "images", "wall s", "images/s", "peak MiB", "ratio", "CPU ms/image", "CPU ratio"])
shutil.rmtree(tmp, ignore_errors=True)
