"""The README's examples stay true: its console sessions print what they show, and its
Python snippets run."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def sessions() -> list[tuple[str, list[str]]]:
    """(command, expected lines) for each `$ gradgraph …` in a console block."""
    out = []
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            if not lines[i].startswith("$ "):
                i += 1
                continue
            command = lines[i][2:]
            while command.endswith("\\"):
                i += 1
                command = command[:-1] + lines[i].strip()
            i += 1
            expected = []
            while i < len(lines) and not lines[i].startswith("$ "):
                expected.append(lines[i])
                i += 1
            command = command.split("  #")[0].strip()
            if command.startswith("gradgraph") and "train " not in command + " ":
                out.append((command, [e for e in expected if e.strip()]))
    return out


@pytest.mark.parametrize(("command", "expected"), sessions(), ids=lambda c: str(c)[:40])
def test_console_sessions_print_what_the_readme_shows(command: str, expected: list[str],
                                                      tmp_path: Path) -> None:
    args = shlex.split(command)
    env = dict(os.environ, COLUMNS="100", GRADGRAPH_STATE_DIR=str(tmp_path))
    run = subprocess.run([sys.executable, "-m", "gradgraph", *args[1:]], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    got = [line.rstrip() for line in (run.stdout + run.stderr).splitlines()]
    for line in expected:
        assert line.rstrip() in got, f"{command!r} no longer prints {line!r}"


def snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, re.S)


@pytest.mark.parametrize("code", snippets(), ids=lambda c: c.splitlines()[0][:40])
def test_python_snippets_run(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec("import gradgraph as gg\n" + code, {})  # noqa: S102 - the project's own README
