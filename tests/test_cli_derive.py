"""``gradgraph derive`` as a user meets it."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from gradgraph.cli import cli

REPO = Path(__file__).resolve().parent.parent

SLIDE = "z = w*x + b; a = sigma(z); C = (a - y)^2"


def test_derive_wrt(runner) -> None:
    result = runner.invoke(cli, ["derive", SLIDE, "--wrt", "w"])
    assert result.exit_code == 0
    assert result.output == "∂C/∂w = ∂z/∂w · ∂a/∂z · ∂C/∂a\n      = x · σ′(z) · 2(a − y)\n"


def test_derive_from_file_latex(runner, tmp_path) -> None:
    f = tmp_path / "chain.gg"
    f.write_text("z^(L) = w^(L) a^(L-1) + b^(L)\na^(L) = sigma(z^(L))\nC_0 = (a^(L) - y)^2\n")
    result = runner.invoke(cli, ["derive", "--file", str(f), "--wrt", "b^(L)", "--latex"])
    assert result.exit_code == 0
    assert result.output.startswith(r"\frac{\partial C_{0}}{\partial b^{(L)}} = ")
    assert r"1 \cdot \sigma'\left(z^{(L)}\right)" in result.output


def test_derive_all_says_what_it_reuses(runner) -> None:
    result = runner.invoke(cli, ["derive", "C = (sigma(w*x + b) - y)^2", "--all"])
    assert result.exit_code == 0
    assert "where u₁ = w·x + b, u₂ = σ(u₁)" in result.output
    assert "∂C/∂w = ∂u₁/∂w · ∂C/∂u₁ = x · σ′(u₁) · 2(u₂ − y)   ↻ reuses ∂C/∂u₁" in result.output


def test_derive_expand(runner) -> None:
    result = runner.invoke(cli, ["derive", SLIDE, "--wrt", "b", "--expand"])
    assert result.output.splitlines()[-1] == "      = 2(σ(w·x + b) − y)·σ′(w·x + b)"


def test_bad_input_is_one_line_and_exit_2(runner) -> None:
    cases = [
        (["derive", "z = w*x + b; a = sigmod(z)", "--wrt", "w"],
         "Error: unknown function 'sigmod' at line 1, column 18; did you mean 'sigmoid'?"),
        (["derive", SLIDE, "--wrt", "q"], "Error: no node named 'q' in the graph"),
        (["derive", "--file", "missing.gg", "--wrt", "w"],
         "Error: graph file 'missing.gg' does not exist"),
        (["derive", "__import__('os')", "--wrt", "w"], "Error: unexpected character _"),
    ]
    for args, message in cases:
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, args
        assert result.output.startswith(message), result.output
        assert len(result.output.strip().splitlines()) == 1
        assert "Traceback" not in result.output


def test_neither_wrt_nor_all_is_a_usage_error(runner) -> None:
    result = runner.invoke(cli, ["derive", SLIDE])
    assert result.exit_code == 2 and "--wrt" in result.output


@pytest.mark.parametrize(("flags", "message"), [
    (["--wrt", "w", "--all"], "Error: --wrt and --all cannot be combined"),
    (["--all", "--expand"], "Error: --expand applies to one derivative (--wrt NODE), not to "
                            "--all"),
    (["--all", "--matrix"], "Error: --matrix applies to one derivative"),
    (["--wrt", "w", "--latex", "--matrix"], "Error: --matrix has no LaTeX form"),
])
def test_options_that_would_be_ignored_are_one_line_errors(runner, flags, message) -> None:
    result = runner.invoke(cli, ["derive", SLIDE, *flags])
    assert result.exit_code == 2
    assert result.output.startswith(message), result.output
    assert len(result.output.strip().splitlines()) == 1


# --- every example in a --help runs as written (shared with the other commands' tests) ---


def help_examples(*command: str) -> list[str]:
    """The example command lines of ``gradgraph COMMAND --help``, continuations joined."""
    text = CliRunner().invoke(cli, [*command, "--help"]).output
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line.strip() for line in joined.splitlines()
            if line.strip().startswith("gradgraph ")]


def run_example(line: str, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Result:
    """Run one example as a user would from the repository root, but in ``folder``
    (which sees the repository's lessons/), so whatever it writes lands there.
    ``> FILE`` becomes FILE holding the standard output."""
    (folder / "lessons").symlink_to(REPO / "lessons")
    monkeypatch.chdir(folder)
    args = shlex.split(line)
    redirect = None
    if ">" in args:
        at = args.index(">")
        args, redirect = args[:at], args[at + 1]
    assert args[0] == "gradgraph"
    result = CliRunner().invoke(cli, args[1:])
    assert result.exit_code == 0, f"{line}\n{result.output}"
    if redirect is not None:
        (folder / redirect).write_text(result.stdout, encoding="utf-8")
    return result


@pytest.mark.parametrize("line", help_examples("derive"))
def test_every_help_example_runs(line, tmp_path, monkeypatch) -> None:
    result = run_example(line, tmp_path, monkeypatch)
    assert result.stdout.startswith(("∂", "\\frac", "where"))


def test_the_help_has_examples() -> None:
    assert len(help_examples("derive")) == 4


def test_python_dash_m_entry_point() -> None:
    out = subprocess.run([sys.executable, "-m", "gradgraph", "derive", SLIDE, "--wrt", "w"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "σ′(z)" in out.stdout


def test_files_that_are_not_graphs(runner, tmp_path) -> None:
    big = tmp_path / "big.gg"
    big.write_bytes(b"#" * 1_000_001)
    bad = tmp_path / "bad.gg"
    bad.write_bytes(b"\xff\xfe")
    cases = [
        ("/dev/zero", "is not a regular file"),
        (str(big), "is larger than 1000000 bytes"),
        (str(bad), "is not UTF-8 text"),
        (str(tmp_path), "is a directory"),
    ]
    for path, message in cases:
        result = runner.invoke(cli, ["derive", "--file", path, "--wrt", "w"])
        assert result.exit_code == 2 and message in result.output, path
