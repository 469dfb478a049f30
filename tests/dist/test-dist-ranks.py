"""run/dist.h on 1, 2 and 3 ranks: test-dist under mpirun (an odd size too)."""
import os
import subprocess
import sys

sys.path.insert(0, os.environ.get("PYTHONPATH", "."))
import tsmpi  # noqa: E402

tsmpi.mpi_or_skip()
exe = sys.argv[1]
failed = 0
for n in (1, 2, 3):
    e = tsmpi.env()
    e["TS_TEST_RANKS"] = str(n)
    p = subprocess.run(tsmpi.mpirun_args(n, [exe]), capture_output=True, text=True, env=e, timeout=300)
    print(f"-np {n}: exit {p.returncode}")
    if p.returncode != 0:
        print(p.stdout, p.stderr)
        failed += 1
sys.exit(1 if failed else 0)
