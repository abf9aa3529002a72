"""``gradgraph render`` through click's CliRunner: exit codes, files, one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gradgraph import examples
from gradgraph.cli import cli
from gradgraph.render import MAX_DRAWN_NODES, find_dot
from tests.test_cli_derive import help_examples, run_example

needs_dot = pytest.mark.skipif(find_dot() is None, reason="Graphviz dot is not installed")
SIMPLE = "z = w*x + b; a = sigma(z); C = (a - y)^2"
VALUES = "w=2,x=0.48,b=-0.2967,y=1"


@pytest.fixture
def chain_file(tmp_path):
    path = tmp_path / "chain.gg"
    path.write_text(examples.SLIDES, encoding="utf-8")
    return path


def one_line_error(result) -> str:  # noqa: ANN001
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


@needs_dot
def test_writes_svg_with_the_chain_lit(runner, tmp_path):
    out = tmp_path / "chain.svg"
    result = runner.invoke(cli, ["render", SIMPLE, "--wrt", "w", "--values", VALUES,
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {out}\n"
    svg = out.read_text(encoding="utf-8")
    assert 'class="edge on"' in svg and "∂z/∂w = x" in svg and "−0.07324" in svg


@needs_dot
@pytest.mark.parametrize(("suffix", "magic"), [("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_format_comes_from_the_suffix(runner, chain_file, tmp_path, suffix, magic):
    out = tmp_path / f"net.{suffix}"
    result = runner.invoke(cli, ["render", "--file", str(chain_file), "--view", "network",
                                 "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(magic)
    assert sorted(os.listdir(tmp_path)) == sorted(["chain.gg", f"net.{suffix}"])


def test_format_dot_prints_dot_text(runner, chain_file):
    result = runner.invoke(cli, ["render", "--file", str(chain_file), "--format", "dot"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("digraph gradgraph {\n")
    assert result.output.endswith("}\n")


def test_without_output_or_format_dot_text_goes_to_stdout(runner):
    result = runner.invoke(cli, ["render", SIMPLE])
    assert result.exit_code == 0
    assert result.output.startswith("digraph gradgraph {")


@needs_dot
def test_format_svg_to_stdout(runner):
    result = runner.invoke(cli, ["render", SIMPLE, "--format", "svg"])
    assert result.exit_code == 0
    assert "<svg" in result.output


def test_binary_format_needs_a_file(runner):
    assert "write it to a file" in one_line_error(
        runner.invoke(cli, ["render", SIMPLE, "--format", "png"]))


def test_suffix_and_format_must_agree(runner, tmp_path):
    line = one_line_error(runner.invoke(
        cli, ["render", SIMPLE, "--format", "png", "-o", str(tmp_path / "x.svg")]))
    assert "ends in .svg but --format is png" in line


def test_unknown_suffix_is_refused(runner, tmp_path):
    line = one_line_error(runner.invoke(cli, ["render", SIMPLE, "-o", str(tmp_path / "x.gif")]))
    assert "cannot tell the format" in line


def test_missing_dot_is_one_line_and_dot_text_still_works(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    line = one_line_error(runner.invoke(cli, ["render", SIMPLE, "-o", str(tmp_path / "g.svg")]))
    assert "install Graphviz" in line and "brew install graphviz" in line
    assert not (tmp_path / "g.svg").exists()
    result = runner.invoke(cli, ["render", SIMPLE, "--format", "dot"])
    assert result.exit_code == 0 and result.output.startswith("digraph")
    result = runner.invoke(cli, ["render", SIMPLE, "-o", str(tmp_path / "g.dot")])
    assert result.exit_code == 0 and (tmp_path / "g.dot").read_text().startswith("digraph")


@needs_dot
def test_steps_writes_one_frame_per_edge(runner, tmp_path):
    frames = tmp_path / "frames"
    result = runner.invoke(cli, ["render", SIMPLE, "--values", VALUES, "--steps", str(frames)])
    assert result.exit_code == 0, result.output
    assert sorted(os.listdir(frames)) == [f"step-{i:03d}.svg" for i in range(1, 7)]
    assert result.output == f"wrote 6 frames to {frames}\n"


def test_steps_as_dot_text_needs_no_graphviz(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    frames = tmp_path / "frames"
    result = runner.invoke(cli, ["render", SIMPLE, "--steps", str(frames), "--format", "dot"])
    assert result.exit_code == 0, result.output
    assert len(os.listdir(frames)) == 6


def test_network_view_of_a_graph_without_neurons(runner):
    line = one_line_error(runner.invoke(cli, ["render", "C = (w*x - y)^2", "--view",
                                              "network"]))
    assert "neurons" in line


def test_bad_show_and_bad_values(runner):
    assert "cannot show 'colours'" in one_line_error(
        runner.invoke(cli, ["render", SIMPLE, "--show", "names,colours"]))
    assert "not a number" in one_line_error(
        runner.invoke(cli, ["render", SIMPLE, "--values", "w=two"]))
    assert "no value given for" in one_line_error(
        runner.invoke(cli, ["render", SIMPLE, "--values", "w=2"]))


def test_bad_graph_text_is_one_line(runner):
    assert "column" in one_line_error(runner.invoke(cli, ["render", "C = (w*x"]))


def test_too_large_to_lay_out_says_collapse_and_collapse_works(runner, tmp_path):
    big = tmp_path / "big.gg"
    big.write_text(examples.chain_text(MAX_DRAWN_NODES // 4 + 1), encoding="utf-8")
    for args in (["-o", str(tmp_path / "big.svg")], ["--format", "svg"]):
        line = one_line_error(runner.invoke(cli, ["render", "--file", str(big), *args]))
        assert "graph too large to lay out" in line and "--collapse" in line
        assert "collapse=True" not in line  # the CLI's words, not the Python argument's
    assert not (tmp_path / "big.svg").exists()
    result = runner.invoke(cli, ["render", "--file", str(big), "--collapse", "--format", "dot"])
    assert result.exit_code == 0, result.output
    assert 'class="layer"' in result.output


def test_dot_text_of_a_large_graph_needs_no_layout(runner, tmp_path, monkeypatch):
    big = tmp_path / "big.gg"
    big.write_text(examples.chain_text(MAX_DRAWN_NODES // 4 + 1), encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path))  # no Graphviz: DOT text must not need it
    result = runner.invoke(cli, ["render", "--file", str(big), "--format", "dot"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("digraph gradgraph {") and result.output.endswith("}\n")
    result = runner.invoke(cli, ["render", "--file", str(big), "-o", str(tmp_path / "b.dot")])
    assert result.exit_code == 0 and (tmp_path / "b.dot").read_text().startswith("digraph")


def test_collapse_needs_layer_tags(runner, tmp_path):
    line = one_line_error(runner.invoke(cli, ["render", SIMPLE, "--collapse"]))
    assert "no layer tags to collapse by" in line
    wide = tmp_path / "wide.gg"
    wide.write_text("\n".join(["h1 = w1*x", *(f"h{i} = w{i}*h{i - 1}" for i in range(2, 251)),
                               "C = h250"]), encoding="utf-8")
    line = one_line_error(runner.invoke(cli, ["render", "--file", str(wide), "--format", "svg"]))
    assert "(502 nodes, 501 edges" in line and "no layer tags" in line
    assert "--collapse" not in line and "--format dot" in line


@pytest.mark.parametrize(("args", "message"), [
    (["--view", "network", "--collapse"], "cannot be combined with --view network"),
    (["--steps", "frames", "--wrt", "w"], "--wrt applies to the picture given with -o FILE"),
    (["--steps", "frames", "--collapse"], "--collapse applies to the picture"),
    (["--steps", "frames", "--view", "network"], "--view network applies to the picture"),
])
def test_options_that_would_be_ignored_are_refused(runner, tmp_path, monkeypatch, args,
                                                   message):
    monkeypatch.chdir(tmp_path)
    assert message in one_line_error(runner.invoke(cli, ["render", SIMPLE, *args]))
    assert not (tmp_path / "frames").exists()  # refused before any work


@pytest.mark.parametrize(("values", "message"), [
    ("w=2,w=3,x=0.48,b=-0.2967,y=1", "Error: --values gives w more than once"),
    ("w^(L)=2,w⁽ᴸ⁾=3", "Error: --values gives w^(L) more than once"),
    ("z=5,w=2,x=0.48,b=-0.2967,y=1", "Error: z is computed from its inputs; give values for "
                                     "the leaves: w, x, b, y"),
    ("w=2", "Error: no value given for x, b, y"),
])
def test_values_are_each_leaf_once_and_only_leaves(runner, values, message):
    text = SIMPLE if "L" not in values else "C = (w^(L)*x - y)^2"
    assert one_line_error(runner.invoke(cli, ["render", text, "--values", values])) == message


def test_values_errors_name_the_bundled_chain_leaves(runner):
    line = one_line_error(runner.invoke(cli, ["render", "--file", CHAIN_FILE, "--values",
                                              "z^(L)=5,w^(L)=2"]))
    assert line.endswith("give values for the leaves: w^(L), a^(L-1), b^(L), y")


def test_wrt_unknown_node(runner):
    assert "no node named 'q'" in one_line_error(runner.invoke(cli, ["render", SIMPLE,
                                                                     "--wrt", "q"]))


def test_help_lists_the_options(runner):
    result = runner.invoke(cli, ["render", "--help"])
    assert result.exit_code == 0
    for option in ("--wrt", "--values", "--show", "--view", "--collapse", "--format",
                   "--output", "--steps"):
        assert option in result.output
    for placeholder in ("--file FILE", "--output FILE", "--steps DIR"):
        assert placeholder in result.output


@needs_dot
@pytest.mark.parametrize("line", help_examples("render"))
def test_every_help_example_runs(line, tmp_path, monkeypatch):
    result = run_example(line, tmp_path, monkeypatch)
    written = [p.name for p in tmp_path.iterdir() if p.name != "lessons"]
    assert written, result.output  # each example makes a picture, text or frames
    for path in tmp_path.iterdir():
        if path.suffix in (".svg", ".dot"):
            assert path.read_text(encoding="utf-8").lstrip().startswith(("<?xml", "digraph"))


LAYER_FILE = str(Path(__file__).resolve().parent.parent / "lessons" / "graphs" / "layer.gg")
CHAIN_FILE = str(Path(__file__).resolve().parent.parent / "lessons" / "graphs" / "chain.gg")
LAYER_VALUES = ("a_0^(L-1)=0.48,a_1^(L-1)=0.8,W_00^(L)=2,W_01^(L)=-1,W_10^(L)=0.5,"
                "W_11^(L)=1.5,b_0^(L)=0.1,b_1^(L)=-0.5,y_0=1,y_1=0")


def test_a_layers_values_are_given_entry_by_entry(runner):
    result = runner.invoke(cli, ["render", "--file", LAYER_FILE, "--wrt",
                                 "W^(L)", "--values", LAYER_VALUES, "--format", "dot"])
    assert result.exit_code == 0, result.output
    assert "<B>W⁽ᴸ⁾</B> ∈ ℝ²ˣ²" in result.output
    assert "label=<<B>∂zⱼ⁽ᴸ⁾/∂Wⱼₖ⁽ᴸ⁾ = aₖ⁽ᴸ⁻¹⁾<BR/>= [0.48, 0.8]ₖ</B>>" in result.output
    network = runner.invoke(cli, ["render", "--file", LAYER_FILE, "--view",
                                  "network", "--values", LAYER_VALUES, "--format", "dot"])
    assert network.exit_code == 0, network.output
    assert "W₀₁⁽ᴸ⁾ = −1" in network.output and "<B>0.48</B>" in network.output


@pytest.mark.parametrize(("values", "message"), [
    ("a_0^(L-1)=0.48", "a⁽ᴸ⁻¹⁾ needs all its entries; a_1^(L-1) is missing"),
    ("a_0^(L-1)=0.48,a_1^(L-1)=0.8", "no value given for W^(L) (W_00^(L) … W_11^(L)), "
                                     "b^(L) (b_0^(L), b_1^(L)), y (y_0, y_1)"),
    ("z_0^(L)=1", "z_0^(L) is an entry of z^(L), which is computed from its inputs"),
    ("z^(L)=1", "z^(L) is computed from its inputs; give values for the leaves: W^(L), "
                "b^(L), a^(L-1), y"),
    ("a_00^(L-1)=1", "name its entries with one digit per axis, like a_0^(L-1)"),
    ("a_5^(L-1)=1", "has shape (2,)"),
    ("q_0=1", "'q_0' is neither a node nor an entry of a layer"),
])
def test_bad_layer_entries_are_one_line_errors(runner, values, message):
    result = runner.invoke(cli, ["render", "--file", LAYER_FILE, "--values",
                                 values, "--format", "dot"])
    assert message in one_line_error(result)
