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


# --- LaTeX of everything (#16 item 4) ---------------------------------------------------


def balanced_aligned(text: str) -> bool:
    depth = 0
    for m in re.finditer(r"\\(begin|end)\{aligned\}", text):
        depth += 1 if m[1] == "begin" else -1
        if depth not in (0, 1):
            return False
    return depth == 0


def test_derive_all_latex_is_one_aligned_block_with_reuse_marks_and_where(runner) -> None:
    result = runner.invoke(cli, ["derive", "C = (sigma(w*x + b) - y)^2", "--all", "--latex"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "\\begin{aligned}\n"
        r"&\text{where } u_{1} = w x + b,\; u_{2} = \sigma\left(u_{1}\right) \\" "\n"
        r"\frac{\partial C}{\partial y} &= 2 \left(y - u_{2}\right) \\" "\n"
        r"\frac{\partial C}{\partial u_{2}} &= 2 \left(u_{2} - y\right) \\" "\n"
        r"\frac{\partial C}{\partial u_{1}} &= \frac{\partial u_{2}}{\partial u_{1}} "
        r"\frac{\partial C}{\partial u_{2}} \\" "\n"
        r"&= \sigma'\left(u_{1}\right) \cdot 2 \left(u_{2} - y\right) \qquad "
        r"\circlearrowleft \text{ reuses } \frac{\partial C}{\partial u_{2}} \\" "\n"
        r"\frac{\partial C}{\partial b} &= \frac{\partial u_{1}}{\partial b} "
        r"\frac{\partial C}{\partial u_{1}} \\" "\n"
        r"&= 1 \cdot \sigma'\left(u_{1}\right) \cdot 2 \left(u_{2} - y\right) \qquad "
        r"\circlearrowleft \text{ reuses } \frac{\partial C}{\partial u_{1}} \\" "\n"
        r"\frac{\partial C}{\partial x} &= \frac{\partial u_{1}}{\partial x} "
        r"\frac{\partial C}{\partial u_{1}} \\" "\n"
        r"&= w \cdot \sigma'\left(u_{1}\right) \cdot 2 \left(u_{2} - y\right) \qquad "
        r"\circlearrowleft \text{ reuses } \frac{\partial C}{\partial u_{1}} \\" "\n"
        r"\frac{\partial C}{\partial w} &= \frac{\partial u_{1}}{\partial w} "
        r"\frac{\partial C}{\partial u_{1}} \\" "\n"
        r"&= x \cdot \sigma'\left(u_{1}\right) \cdot 2 \left(u_{2} - y\right) \qquad "
        r"\circlearrowleft \text{ reuses } \frac{\partial C}{\partial u_{1}}" "\n"
        "\\end{aligned}\n")
    assert balanced_aligned(result.output)
    assert "where" not in result.output.split("\\begin{aligned}")[0]  # inside, not before


def test_an_edge_into_the_output_is_not_repeated_in_latex(runner) -> None:
    result = runner.invoke(cli, ["derive", SLIDE, "--wrt", "a", "--latex"])
    assert result.output == "\\frac{\\partial C}{\\partial a} = 2 \\left(a - y\\right)\n"
    unicode = runner.invoke(cli, ["derive", SLIDE, "--all"]).output
    assert unicode.splitlines()[0] == "∂C/∂y = 2(y − a)"


def test_derive_matrix_latex(runner) -> None:
    result = runner.invoke(cli, ["derive", "--file", str(REPO / "lessons/graphs/layer.gg"),
                                 "--wrt", "W^(L)", "--matrix", "--latex"])
    assert result.exit_code == 0, result.output
    assert result.output.split("\\text{in matrix form:}\n")[1] == (
        "\\begin{aligned}\n"
        r"\delta^{(L)} &= \frac{\partial C_{0}}{\partial z^{(L)}} = \sigma'\left(z^{(L)}\right)"
        r" \odot 2 \left(a^{(L)} - y\right) \\" "\n"
        r"\frac{\partial C_{0}}{\partial W^{(L)}} &= \delta^{(L)} {a^{(L-1)}}^{\top}" "\n"
        "\\end{aligned}\n")
    assert balanced_aligned(result.output)


FIVE_PATHS = "a = w*x; b1 = a^2; b2 = 2*a; b3 = sigma(a); b4 = tanh(a); b5 = a^3; " \
             "C = b1 + b2 + b3 + b4 + b5"


def test_a_long_sum_of_paths_breaks_after_its_plus_signs(runner) -> None:
    text = runner.invoke(cli, ["derive", FIVE_PATHS, "--wrt", "w"]).output
    assert text.splitlines()[5:] == [
        "      = x · 2a · 1 +",
        "        x · 2 · 1 +",
        "        x · σ′(a) · 1 +",
        "        x · tanh′(a) · 1 +",
        "        x · 3a² · 1",
    ]
    assert max(map(len, text.splitlines())) < 100
    latex = runner.invoke(cli, ["derive", FIVE_PATHS, "--wrt", "w", "--latex"]).output
    assert balanced_aligned(latex) and latex.startswith("\\begin{aligned}\n")
    assert latex.splitlines()[-2:] == [r"&\quad x \cdot 3 a^{2} \cdot 1", "\\end{aligned}"]
    assert latex.count(r"&\quad ") == 8 and latex.count(" + \\\\\n") == 8
