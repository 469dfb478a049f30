"""Shared helpers for the Python cross-check tests (run with Debian's /usr/bin/python3).

require("gudhi") imports a reference tool or skips the test with a visible
reason (exit 77 for meson) -- except in CI (CI=true), where every reference
tool is installed by .ci/setup and a missing one is a failure.
"""
import importlib
import os
import subprocess
import sys

SKIP = 77


def require(module):
    try:
        return importlib.import_module(module)
    except Exception as e:  # ImportError, or a broken install
        msg = f"{module} is not available: {e}"
        if os.environ.get("CI") == "true":
            print("FAIL (CI must have it): " + msg)
            sys.exit(1)
        print("SKIP: " + msg)
        sys.exit(SKIP)


def toposcope():
    """Path of the toposcope binary under test (meson passes it in TOPOSCOPE)."""
    exe = os.environ.get("TOPOSCOPE")
    if not exe:
        print("FAIL: TOPOSCOPE is not set (run through meson test)")
        sys.exit(1)
    return exe


def run(args, check=True, **kw):
    """Runs toposcope with args; returns CompletedProcess (text mode)."""
    p = subprocess.run([toposcope()] + list(args), capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise AssertionError(f"toposcope {' '.join(args)} exited {p.returncode}:\n{p.stderr}")
    return p


class Checks:
    """Collects failures so one run reports all of them; finish() exits."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, cond, msg):
        self.n += 1
        if not cond:
            self.failed += 1
            print("check failed: " + msg)

    def finish(self):
        print(f"{self.n} checks, {self.failed} failed")
        sys.exit(1 if self.failed else 0)
