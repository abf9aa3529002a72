"""Whole-process start-up: `gradgraph --help`, `lesson list` and a small `derive`
against `python -c "import click"` and `python -c "import numpy"`.

Each command runs once per round, the rounds interleaved (so a burst of load hits
every command alike), and the best of the rounds is kept, both of the wall-clock time
and of the CPU time (user + system) the process used: on a loaded machine the CPU
time is the steadier of the two. Ratios are what to read: the target is
`gradgraph --help` ≤ 1.5× `import click`. A last column lists the heavy packages each
command imported (from one run under PYTHONPROFILEIMPORTTIME).

    python benchmarks/startup.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

HEAVY = ("numpy", "sympy", "matplotlib", "sklearn", "scipy", "starlette", "uvicorn")


def gradgraph_script() -> str:
    """The console script itself, not a version manager's shim in front of it."""
    beside = Path(sysconfig.get_path("scripts")) / "gradgraph"
    return str(beside) if beside.is_file() else (shutil.which("gradgraph") or "gradgraph")


def commands() -> dict[str, list[str]]:
    gg = gradgraph_script()
    return {
        'python -c "import click"': [sys.executable, "-c", "import click"],
        'python -c "import numpy"': [sys.executable, "-c", "import numpy"],
        "gradgraph --help": [gg, "--help"],
        "gradgraph lesson list": [gg, "lesson", "list"],
        'gradgraph derive "C = w*x" --wrt w': [gg, "derive", "C = w*x", "--wrt", "w"],
    }


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of one whole run of ``argv``."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} exited {code}")
    return elapsed, usage.ru_utime + usage.ru_stime


def heavy_imports(argv: list[str], env: dict[str, str]) -> list[str]:
    """The heavy top-level packages one run imports, read from -X importtime's log."""
    done = subprocess.run(argv, capture_output=True, text=True, check=False,
                          env={**env, "PYTHONPROFILEIMPORTTIME": "1"})
    names = set(re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)", done.stderr,
                           flags=re.M))
    return [h for h in HEAVY if any(n == h or n.startswith(h + ".") for n in names)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    rounds = parser.parse_args().rounds
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm-up run writes bytecode
    cmds = commands()
    for argv in cmds.values():  # warm the file cache and write bytecode first
        run_once(argv, env)
    wall = {label: float("inf") for label in cmds}
    cpu = dict(wall)
    for _ in range(rounds):
        for label, argv in cmds.items():
            w, c = run_once(argv, env)
            wall[label], cpu[label] = min(wall[label], w), min(cpu[label], c)
    click_label, numpy_label = 'python -c "import click"', 'python -c "import numpy"'
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"best of {rounds} interleaved rounds; load average {load:.2f}; "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    width = max(len(label) for label in cmds)
    print(f"{'command':<{width}} {'wall s':>7} {'÷ click':>8} {'÷ numpy':>8} "
          f"{'CPU s':>7} {'÷ click':>8} {'÷ numpy':>8}  imports")
    for label, argv in cmds.items():
        heavy = ", ".join(heavy_imports(argv, env)) or "-"
        print(f"{label:<{width}} {wall[label]:>7.3f} {wall[label] / wall[click_label]:>8.2f} "
              f"{wall[label] / wall[numpy_label]:>8.2f} {cpu[label]:>7.3f} "
              f"{cpu[label] / cpu[click_label]:>8.2f} {cpu[label] / cpu[numpy_label]:>8.2f}"
              f"  {heavy}")
    for what, best in (("wall", wall), ("CPU", cpu)):
        ratio = best["gradgraph --help"] / best[click_label]
        print(f"gradgraph --help ÷ import click ({what}) = {ratio:.2f} (target ≤ 1.50: "
              f"{'met' if ratio <= 1.5 else 'not met'})")


if __name__ == "__main__":
    main()
