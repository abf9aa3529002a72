"""No code runs through the library: every public entry point that takes a string or a
SymPy object, given a payload that would create a file, raises a GradgraphError and
leaves no file (issue #11, item 1)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sympy as sp

import gradgraph as gg
from gradgraph import notation, ops, regularize
from gradgraph.check.question import parse_question
from gradgraph.errors import GradgraphError, GraphError
from gradgraph.graph import Graph, Node
from gradgraph.lesson.values import node_value
from gradgraph.optim import SGD
from gradgraph.parse import symbol

SIMPLE = "z = w*x + b; a = sigma(z); C = (a - y)^2"
VALUES = {"w": 2.0, "x": 0.48, "b": -0.3, "y": 1.0}


def payload(marker: Path) -> str:
    return f"__import__('os').system('touch {marker}')"


def graph() -> Graph:
    return Graph.from_text(SIMPLE)


# Each entry point, called with the payload text in the place a user string goes.
STRING_ENTRY_POINTS: dict[str, Callable[[str], object]] = {
    "Graph.from_expr(str)": lambda p: Graph.from_expr(f"{p} + w"),
    "Graph.from_expr(name=)": lambda p: Graph.from_expr(symbol("w"), name=p),
    "Graph.from_expr(params=)": lambda p: Graph.from_expr(symbol("w"), params=p),
    "Graph.from_text": lambda p: Graph.from_text(f"C = {p}"),
    "Graph.from_text(params=)": lambda p: Graph.from_text(SIMPLE, params=p),
    "Graph.from_text(cost=)": lambda p: Graph.from_text(SIMPLE, cost=p),
    "Graph[...]": lambda p: graph()[p],
    "Graph.expand": lambda p: graph().expand(p),
    "derive(of=)": lambda p: gg.derive(graph(), of=p, wrt="w"),
    "derive(wrt=)": lambda p: gg.derive(graph(), wrt=p),
    "adjoints(of=)": lambda p: gg.adjoints(graph(), of=p),
    "notation.to_unicode(str)": lambda p: notation.to_unicode(p),
    "notation.to_latex(str)": lambda p: notation.to_latex(p),
    "ops.elementary(str)": lambda p: ops.elementary(p),
    "render(wrt=)": lambda p: gg.render(graph(), wrt=p),
    "render(of=)": lambda p: gg.render(graph(), of=p),
    "render(show=)": lambda p: gg.render(graph(), show=p),
    "render(view=)": lambda p: gg.render(graph(), view=p),
    "render(rankdir=)": lambda p: gg.render(graph(), rankdir=p),
    "render(values= key)": lambda p: gg.render(graph(), values={**VALUES, p: 1.0}),
    "Rendering.save(format=)": lambda p: gg.render(graph()).save("x.svg", format=p),
    "compile_graph(of=)": lambda p: gg.compile_graph(graph(), of=p),
    "Graph.evaluate(values= key)": lambda p: graph().evaluate({**VALUES, p: 1.0}),
    "Graph.gradients(of=)": lambda p: graph().gradients(VALUES, of=p),
    "gradcheck(of=)": lambda p: gg.gradcheck(graph(), VALUES, of=p),
    "minimize(of=)": lambda p: SGD(lr=0.1).minimize(graph(), of=p, start={"w": 1.0},
                                                    inputs={"x": 1, "b": 0, "y": 1}),
    "minimize(start= key)": lambda p: SGD(lr=0.1).minimize(graph(), start={p: 1.0},
                                                           inputs=VALUES),
    "regularize.get": lambda p: regularize.get(p),
    "check.parse_question": lambda p: parse_question(graph(), f"dC/d{p}"),
    "check.parse_question(of)": lambda p: parse_question(graph(), f"d{p}/dw"),
    "lesson node_value(what=)": lambda p: node_value(graph(), p, VALUES),
    "lesson node_value(dC/d…)": lambda p: node_value(graph(), f"dC/d{p}", VALUES),
    "Regularizer.term": lambda p: regularize.l2(0.1).term(p),
}


@pytest.mark.parametrize("entry", sorted(STRING_ENTRY_POINTS))
def test_string_payload_never_runs(entry: str, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "pwned"
    with pytest.raises(GradgraphError):
        STRING_ENTRY_POINTS[entry](payload(marker))
    assert not marker.exists()


def hostile_objects(marker: Path) -> dict[str, object]:
    p = payload(marker)
    w = symbol("w")
    return {
        "symbol named with Python": sp.Symbol(p) + w,
        "undefined function": sp.Function("evil")(w),
        "unregistered SymPy function": sp.sin(w),
        "Dummy": sp.Dummy("w") * w,
        "pi": sp.pi * w,
        "infinity": sp.oo + w,
        "huge integer": sp.Integer(10) ** 200 * w,
        "Lambda": sp.Lambda(w, w),
        "Matrix": sp.Matrix([w]),
        "Python object": object(),
        "a list": [w],
    }


@pytest.mark.parametrize("name", sorted(hostile_objects(Path("m"))))
def test_from_expr_walks_sympy_objects_against_the_registry(
        name: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    with pytest.raises(GraphError):
        Graph.from_expr(hostile_objects(marker)[name])
    assert not marker.exists()


def test_from_expr_still_takes_what_gradgraph_knows() -> None:
    w, x, b, y = (symbol(n) for n in "wxby")
    expr = (ops.SIGMA.func(w * x + b) - y) ** 2 + sp.exp(w) + sp.Rational(1, 2) * sp.Abs(b)
    g = Graph.from_expr(expr)
    assert g.params == ("b", "w") or set(g.params) == {"w", "b"}
    assert str(gg.derive(g, wrt="x"))  # derives


def test_from_expr_parses_a_string_safely() -> None:
    g = Graph.from_expr("(sigma(w*x + b) - y)^2")
    assert set(g.leaves) == {"w", "x", "b", "y"}


def test_from_expr_counts_a_shared_expression_without_expanding_it() -> None:
    # 2⁴⁰ nodes as a tree, 40 as a DAG: refused at once, never walked as a tree.
    e = symbol("w")
    for _ in range(40):
        e = ops.SIGMA.func(e) + ops.TANH.func(e)
    with pytest.raises(GraphError, match="too large"):
        Graph.from_expr(e)


def test_display_functions_parse_strings_instead_of_sympify() -> None:
    assert notation.to_unicode("sigma(z)*2") == "2σ(z)"
    with pytest.raises(GraphError):
        notation.to_unicode(object())  # type: ignore[arg-type]


def test_a_graph_built_by_hand_never_runs_its_names(tmp_path: Path) -> None:
    """Graph(nodes) is public: a symbol or id holding Python must not reach exec."""
    marker = tmp_path / "pwned"
    evil = sp.Symbol(payload(marker), real=True)
    nodes = (Node("n0", "w", "param"),
             Node("n1", "C", "cost", symbol("w") * evil, ("w",)))
    g = Graph(nodes, "C")
    with pytest.raises(GraphError, match="refusing to compile"):
        g.evaluate({"w": 1.0})
    assert not marker.exists()
    bad_id = (Node(f"n0; {payload(marker)}", "w", "param"),
              Node("n1", "C", "cost", symbol("w") ** 2, ("w",)))
    with pytest.raises(GradgraphError):
        Graph(bad_id, "C").gradients({"w": 1.0})
    assert not marker.exists()


def test_user_op_body_is_checked() -> None:
    t = symbol("t")
    with pytest.raises(GradgraphError):
        ops.user_op("evil", t, sp.sin(t))
