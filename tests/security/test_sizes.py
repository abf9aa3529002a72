"""Size limits come before the costly work, and the work is linear (issue #11, items
2–4). No timings here: each test shows the mechanism (a refusal before any algebra, a
whole-graph scan done once), and benchmarks/render_scaling.py prints the ratios."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

import gradgraph as gg
from gradgraph import ops
from gradgraph.cli import cli
from gradgraph.errors import DerivationError, ParseError
from gradgraph.graph import Graph
from gradgraph.parse import count_assignments
from gradgraph.render import MAX_DRAWN_NODES, check_size

# gradgraph's __init__ rebinds the names derive and render to the functions.
derive_module = sys.modules["gradgraph.derive"]
partials_module = sys.modules["gradgraph.partials"]  # each edge's partial is worked out here
render_module = sys.modules["gradgraph.render"]


def chain(n: int) -> str:
    return "\n".join(["u1 = x*w"] + [f"u{i + 1} = u{i}*w" for i in range(1, n)])


def nested_ops(levels: int) -> str:
    lines = ["f0(x) = x*x"] + [f"f{i}(x) = f{i - 1}(f{i - 1}(x))" for i in range(1, levels)]
    return "\n".join([*lines, f"C = f{levels - 1}(w)"])


# --- user ops that explode ------------------------------------------------------------


def test_nested_user_ops_are_refused_when_defined() -> None:
    with pytest.raises(ParseError, match=r"f11\(\.\.\.\) would expand to 16,383 "
                                         r"operations \(the limit is 10,000\)") as e:
        Graph.from_text(nested_ops(40))
    assert "line 13" in str(e.value) and "\n" not in str(e.value)


def test_nested_user_ops_below_the_limit_still_work() -> None:
    g = Graph.from_text(nested_ops(5))
    assert "∂C/∂w" in str(gg.derive(g, wrt="w"))


def test_expanded_size_is_counted_not_expanded() -> None:
    x = ops.SIGMA.func  # a built-in op counts one operation
    t = gg.parse.symbol("t")
    square = ops.user_op("sq", t, t * t)
    assert ops.expanded_size(square.func(x(t)), t) == (1 + 2 + 1, 1)
    four = ops.user_op("four", t, square.func(square.func(t)))
    assert four.size[0] > square.size[0]


def test_applying_an_op_to_a_big_argument_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ops, "MAX_OP_SIZE", 50)
    text = "g(x) = x*x*x + x*x + x\nC = g(" + " + ".join(f"a{i}" for i in range(30)) + ")"
    with pytest.raises(ParseError, match=r"g\(\.\.\.\) would expand"):
        Graph.from_text(text)


@pytest.mark.parametrize("args", [["derive", "--wrt", "w"], ["render", "--format", "dot"]])
def test_nested_user_ops_at_the_cli(args: list[str], runner, tmp_path: Path) -> None:
    path = tmp_path / "ops.gg"
    path.write_text(nested_ops(40))
    result = runner.invoke(cli, [args[0], "--file", str(path), *args[1:]])
    assert result.exit_code == 2
    assert "would expand to" in result.output and "Traceback" not in result.output


# --- building is linear ----------------------------------------------------------------


class _NoScan(tuple):
    """Node tuple that fails when a per-node query scans the whole graph again."""

    def __iter__(self):  # noqa: ANN204
        raise AssertionError("whole-graph scan")


def test_whole_graph_properties_are_computed_once() -> None:
    g = Graph.from_text("W: param(2, 2); x: input(2); y: input(2)\n"
                        "z = W x\nC = sum((z - y)^2)")
    expected = (g.is_tensor, g.params, g.inputs, g.leaves, g.intermediates,
                g.children("W"), g.batched, g.resolve("n0"))
    object.__setattr__(g, "nodes", _NoScan(g.nodes))
    assert (g.is_tensor, g.params, g.inputs, g.leaves, g.intermediates,
            g.children("W"), g.batched, g.resolve("n0")) == expected


def test_a_long_chain_written_backwards_builds() -> None:
    """The topological sort is iterative: 3,000 lines in reverse once hit the
    recursion limit (reported as 'input nested too deeply')."""
    text = "\n".join(reversed(chain(3_000).splitlines()))
    g = Graph.from_text(text)
    assert len(g) == 3_002 and g.cost == "u3000"


def test_cycles_are_still_named() -> None:
    with pytest.raises(gg.GraphError, match="cycle in the definitions: a → b → a"):
        Graph.from_text("a = b + 1; b = a*2; C = a")


def test_generated_names_count_on_from_the_last() -> None:
    g = Graph.from_text("a = sigma(x)*2; b = tanh(a)*3; C = exp(b)*4")
    assert [n.name for n in g if n.generated] == ["u_1", "u_2", "u_3"]


# --- derive: refused before the algebra, --all linear -----------------------------------


def test_a_long_chain_is_refused_before_any_partial(monkeypatch: pytest.MonkeyPatch) -> None:
    g = Graph.from_text(chain(1_200))

    def no_algebra(*_: object) -> None:
        raise AssertionError("a partial was computed")

    monkeypatch.setattr(partials_module, "local_partial", no_algebra)
    monkeypatch.setattr(partials_module, "_diff", no_algebra)
    with pytest.raises(DerivationError, match="more than 1,000 factors.*--all"):
        derive_module.check_chain(g, None, "x")
    with pytest.raises(DerivationError, match="more than 256 chain-rule paths.*--all"):
        derive_module.check_chain(g, None, "w")


def test_derive_at_the_cli_refuses_a_long_chain(runner, tmp_path: Path) -> None:
    path = tmp_path / "n.gg"
    path.write_text(chain(1_200))
    result = runner.invoke(cli, ["derive", "--file", str(path), "--wrt", "x"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "cached form" in result.output


def test_derive_all_with_many_paths_prints_the_cached_form(runner) -> None:
    """512 paths lead to w: --all used to fail telling the user to use --all."""
    lines = ["h0 = w*x"] + [f"h{i} = sigma(h{i - 1}) + tanh(h{i - 1})" for i in range(1, 10)]
    text = "; ".join(lines) + "; C = h9"
    out = str(gg.adjoints(Graph.from_text(text)))
    assert "∂C/∂w = ∂h₀/∂w · ∂C/∂h₀" in out
    result = runner.invoke(cli, ["derive", text, "--all"])
    assert result.exit_code == 0, result.output
    assert "(--all) instead" not in result.output
    latex = runner.invoke(cli, ["derive", text, "--all", "--latex"])
    assert latex.exit_code == 0 and r"\frac{\partial h_{0}}{\partial w}" in latex.output


def test_derive_all_never_lists_paths_of_a_long_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    """Listing every node's paths on a chain is quadratic (n²/2 factors)."""
    adj = gg.adjoints(Graph.from_text(chain(300)))
    listed = []
    real = type(adj).factor_lists

    def counting(self, name: str) -> list:  # noqa: ANN001
        out = real(self, name)
        listed.append(sum(len(fs) for fs in out))
        return out

    monkeypatch.setattr(type(adj), "factor_lists", counting)
    text = str(adj)
    assert "∂u₃₀₀/∂x = ∂u₁/∂x · ∂u₃₀₀/∂u₁" in text
    assert sum(listed) < 300 * 50  # only short products are built; all would be ~45,000


def test_small_derivations_are_unchanged() -> None:
    g = Graph.from_text("z = w*x + b; a = sigma(z); C = (a - y)^2")
    assert str(gg.derive(g, wrt="w")) == ("∂C/∂w = ∂z/∂w · ∂a/∂z · ∂C/∂a\n"
                                          "      = x · σ′(z) · 2(a − y)")


# --- render: the picture cap before any drawing -----------------------------------------


def test_count_assignments() -> None:
    text = "f(x) = x*x; a^(L) = sigma(z^(L)); W: param(2,2)\n# x = 1\nC = f(a^(L)) # c=2"
    assert count_assignments(text) == 2
    assert count_assignments(chain(500)) == 500


def test_check_size_needs_no_drawing(monkeypatch: pytest.MonkeyPatch) -> None:
    g = Graph.from_text(chain(MAX_DRAWN_NODES))
    monkeypatch.setattr(render_module, "build_scene", None)  # would fail if called
    too_big = check_size(g)
    assert too_big is not None and too_big.nodes == MAX_DRAWN_NODES + 2
    assert check_size(Graph.from_text(chain(10))) is None


@pytest.mark.parametrize("how", [["-o", "n.svg"], ["--format", "svg"], ["-o", "n.png"]])
def test_render_refuses_a_huge_picture_before_parsing(
        how: list[str], runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "n.gg"
    path.write_text(chain(MAX_DRAWN_NODES + 1))
    monkeypatch.chdir(tmp_path)

    def no_parse(*_: object, **__: object) -> None:
        raise AssertionError("the text was parsed")

    monkeypatch.setattr(Graph, "from_text", no_parse)
    result = runner.invoke(cli, ["render", "--file", str(path), *how])
    assert result.exit_code == 2
    assert "too large to lay out" in result.output and "--format dot" in result.output
    assert not (tmp_path / "n.svg").exists()


def test_render_dot_text_of_a_big_graph_still_works(runner, tmp_path: Path) -> None:
    path = tmp_path / "n.gg"
    path.write_text(chain(MAX_DRAWN_NODES + 1))
    result = runner.invoke(cli, ["render", "--file", str(path), "--format", "dot"])
    assert result.exit_code == 0 and result.output.startswith("digraph")


# --- compiling: no line nests thousands deep --------------------------------------------


def test_a_parameter_with_many_children_compiles_in_short_lines() -> None:
    """w in a chain has one pull-back per node; one line of 4,000 of them made Python's
    compiler raise RecursionError (mechanism checked at 200; the slow twin at 4,000)."""
    numeric = importlib.import_module("gradgraph.numeric")  # not loaded until a compile
    codegen = importlib.import_module("gradgraph.codegen")
    g = Graph.from_text(chain(200))
    compiled = numeric.compile_graph(g)
    widest = max(line.count(" + ") for line in compiled.source.splitlines())
    assert widest < codegen.SUM_CHUNK + 1
    assert g.gradients({"x": 1.0, "w": 1.0})["w"] == pytest.approx(200.0)


@pytest.mark.slow
def test_a_parameter_with_4000_children_compiles() -> None:
    g = Graph.from_text(chain(4_000))
    assert g.gradients({"x": 1.0, "w": 1.0})["w"] == pytest.approx(4000.0)


# --- expansions into the leaves: counted on the shared form -----------------------------


def doubling(levels: int) -> Graph:
    lines = ["h0 = w*x"] + [f"h{i} = sigma(h{i - 1}) + tanh(h{i - 1})"
                            for i in range(1, levels)]
    return Graph.from_text("; ".join(lines) + f"; C = h{levels - 1}")


def test_expanding_a_doubling_graph_is_refused(runner) -> None:
    g = doubling(30)  # 2³⁰ nodes as a tree; printing it never returned
    with pytest.raises(gg.GraphError, match="more than 10,000"):
        g.expand("C")
    with pytest.raises(gg.GraphError, match="drop --expand"):
        _ = gg.derive(g, wrt="h25").expanded
    text = "; ".join(["h0 = w*x"] + [f"h{i} = sigma(h{i - 1}) + tanh(h{i - 1})"
                                     for i in range(1, 30)]) + "; C = h29"
    result = runner.invoke(cli, ["derive", text, "--wrt", "h27", "--expand"])
    assert result.exit_code == 2 and result.output.count("\n") == 1


def test_small_expansions_still_work() -> None:
    assert str(doubling(3).expand("C")).count("w*x") == 4


# --- gradcheck: one compile per checked node, so the caller picks past the cap ----------


def test_gradcheck_refuses_a_big_graph_unless_told_which_nodes() -> None:
    from gradgraph.gradcheck import MAX_CHECKED

    g = Graph.from_text(chain(MAX_CHECKED))
    with pytest.raises(gg.GraphError, match=r"nodes=\[\.\.\.\]"):
        gg.gradcheck(g, {"x": 1.0, "w": 1.0})
    report = gg.gradcheck(g, {"x": 1.0, "w": 1.0}, nodes=["w", "u2"])
    assert report.ok and [r.node for r in report.rows] == ["w", "u2"]


def test_jupyter_shows_a_huge_graph_without_drawing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    g = Graph.from_text(chain(MAX_DRAWN_NODES + 1))
    monkeypatch.setattr(render_module, "build_scene", None)  # would fail if called
    bundle = g._repr_mimebundle_()
    assert "too large to lay out" in bundle["text/plain"]
    assert "digraph" not in bundle["text/plain"]
