"""``gradgraph derive`` as a user meets it."""

from __future__ import annotations

import subprocess
import sys

from gradgraph.cli import cli

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
