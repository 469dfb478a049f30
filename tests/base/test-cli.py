"""The command line: every command answers --help, bad usage exits 2."""
import re

from tstest import Checks, run

c = Checks()
top = run(["--help"])
commands = re.findall(r"^  (\w+)\s{2,}", top.stdout.split("Commands:")[1].split("\n\n")[0], re.M)
c.check(len(commands) >= 2, f"commands listed in --help: {commands}")
for cmd in commands:
    p = run([cmd, "--help"], check=False)
    c.check(p.returncode == 0, f"{cmd} --help exited {p.returncode}: {p.stderr}")
    c.check(p.stdout.startswith(f"Usage: toposcope {cmd}"), f"{cmd} --help starts with its usage line")
    p = run([cmd, "--no-such-option"], check=False)
    c.check(p.returncode == 2, f"{cmd} --no-such-option exited {p.returncode}")
    c.check("--help" in p.stderr, f"{cmd}: usage error points at --help: {p.stderr!r}")
    p = run(["help", cmd], check=False)
    c.check(p.returncode == 0 and f"toposcope {cmd}" in p.stdout, f"help {cmd}")

p = run(["frobnicate"], check=False)
c.check(p.returncode == 2 and "unknown command 'frobnicate'" in p.stderr, "unknown command exits 2")
p = run(["--version"])
c.check(re.match(r"toposcope \d+\.\d+\.\d+", p.stdout) is not None, "--version")
c.finish()
