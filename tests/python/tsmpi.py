"""Running toposcope (or a test program) under mpirun from the Python tests.

mpi_or_skip() skips a test (exit 77) when this build has no MPI or mpirun is
missing -- except in CI (CI=true), where .ci/setup installs Open MPI and a
missing one is a failure. mpirun() adds what this machine needs: root is
allowed, ranks may outnumber cores, shared memory and TCP on loopback only."""
import os
import shutil
import subprocess
import sys

SKIP = 77


def mpi_or_skip():
    why = None
    if os.environ.get("TS_HAVE_MPI") != "1":
        why = "this build has no MPI (meson -Dmpi=enabled)"
    elif not shutil.which("mpirun"):
        why = "mpirun is not installed (openmpi-bin)"
    if why:
        if os.environ.get("CI") == "true":
            print("FAIL (CI must have it): " + why)
            sys.exit(1)
        print("SKIP: " + why)
        sys.exit(SKIP)


def env():
    e = dict(os.environ)
    e.update({
        "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        # Open MPI's own allocations outlive MPI_Finalize: not ours to report.
        "ASAN_OPTIONS": e.get("ASAN_OPTIONS", "") + ":detect_leaks=0",
        "OMPI_MCA_btl": "self,vader,tcp", "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
        "OMPI_MCA_btl_tcp_if_include": "lo", "OMPI_MCA_oob_tcp_if_include": "lo",
        "OMPI_MCA_rmaps_base_oversubscribe": "1", "PMIX_MCA_gds": "hash",
    })
    return e


def mpirun_args(n, args):
    return ["mpirun", "--oversubscribe", "--allow-run-as-root", "-np", str(n)] + list(args)


def mpirun(n, args, check=True, timeout=600, **kw):
    """Runs args on n ranks; returns CompletedProcess (text mode)."""
    p = subprocess.run(mpirun_args(n, args), capture_output=True, text=True, env=env(), timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"mpirun -np {n} {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p
