"""The graph IR: nodes, roles, ids, and errors for graphs that cannot be."""

from __future__ import annotations

import pytest
import sympy as sp

from gradgraph import Graph, GraphError, ParseError, examples
from gradgraph.parse import symbol

SLIDE = "z = w*x + b; a = sigma(z); C = (a - y)^2"


def test_assignments_are_named_nodes_with_roles_and_topological_ids() -> None:
    g = Graph.from_text(SLIDE)
    assert [(n.id, n.name, n.role) for n in g.nodes] == [
        ("n0", "w", "param"), ("n1", "x", "input"), ("n2", "b", "param"),
        ("n3", "z", "intermediate"), ("n4", "a", "intermediate"), ("n5", "y", "input"),
        ("n6", "C", "cost"),
    ]
    assert g["a"].op == "sigma"
    assert g["z"].parents == ("w", "x", "b")
    assert g.children("z") == ("a",)
    assert g.definitions() == "z = w·x + b\na = σ(z)\nC = (a − y)²"


def test_same_text_same_graph() -> None:
    one, two = Graph.from_text(SLIDE), Graph.from_text(SLIDE)
    assert [(n.id, n.name, n.expr) for n in one] == [(n.id, n.name, n.expr) for n in two]


def test_unnamed_op_applications_get_short_names() -> None:
    g = Graph.from_text("C = (sigma(w*x + b) - y)^2")
    assert g.definitions() == "u₁ = w·x + b\nu₂ = σ(u₁)\nC = (u₂ − y)²"
    assert g["u_1"].generated and not g["C"].generated
    assert g["u1"] is g["u₁"] is g["u_1"]  # every spelling of the printed name


def test_generated_names_avoid_user_names() -> None:
    g = Graph.from_text("u1 = x^2; C = sigma(u1 + 1)")
    assert "u_2" in g and g["u_2"].expr == symbol("u1") + 1  # u1 keeps its spelling (#16)


def test_params_argument_and_declarations_set_roles() -> None:
    g = Graph.from_text("y = p*x + q", params="p q")
    assert g.params == ("p", "q") and g.inputs == ("x",)
    g = Graph.from_text("k: param\nx: input\nC = (k*x)^2")
    assert g.params == ("k",)


def test_user_defined_op_is_a_node_op() -> None:
    g = Graph.from_text("swish(x) = x*sigma(x)\nz = w*x + b\na = swish(z)\nC = (a - y)^2")
    assert g["a"].op == "swish"


def test_from_expr_adopts_sympy_functions() -> None:
    w, x = sp.symbols("w x")
    g = Graph.from_expr(sp.tanh(w * x) ** 2, params="w")
    assert g.cost == "C" and g.params == ("w",)
    assert [n.op for n in g if n.op] == ["tanh"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("z = a + 1; a = sigma(z)", "cycle in the definitions: z → a → z"),
        ("z = x; z = 2x", "'z' is defined twice on line 1"),
        ("x: input\nC = x*q", "'q' is used but never assigned or declared"),
        ("x: input\nx = 1", "'x' is declared as input and cannot be assigned"),
        ("W: param(2, 3)\nx: input(2)\nC = sum(W x)", "layer 'C' expects 3 inputs, got 2 (line 3)"),
        ("", "the text assigns nothing"),
    ],
)
def test_graphs_that_cannot_be(text: str, message: str) -> None:
    with pytest.raises(GraphError) as err:
        Graph.from_text(text)
    assert message in str(err.value)


def test_unknown_parameter_and_cost() -> None:
    with pytest.raises(GraphError, match="parameter 'v' is not a leaf"):
        Graph.from_text(SLIDE, params="w v")
    with pytest.raises(GraphError, match="the cost 'D' is not assigned"):
        Graph.from_text(SLIDE, cost="D")


def test_resolve_accepts_display_forms_and_suggests() -> None:
    g = examples.chain(1)
    assert g.resolve("b⁽ᴸ⁾") == "b^(L)"
    assert g.resolve("n0") == g.nodes[0].name
    with pytest.raises(GraphError, match="did you mean 'w\\^\\(L\\)'"):
        g.resolve("w^(K)")


def test_parse_errors_in_programs_name_the_line() -> None:
    with pytest.raises(ParseError, match="line 2, column 5"):
        Graph.from_text("z = w*x\na = sigmod(z)")


@pytest.mark.parametrize("depth", [1, 2, 5])
def test_chain_has_the_slides_layers(depth: int) -> None:
    g = examples.chain(depth)
    assert g.cost == "C_0"
    assert set(g.params) == {f"{p}^(L{'' if i == 0 else f'-{i}'})"
                             for p in "wb" for i in range(depth)}
    assert g.inputs == (f"a^(L-{depth})", "y")


def test_a_changed_graph_forgets_its_cached_partials_and_lookups() -> None:
    from gradgraph.derive import local_partial

    g = Graph.from_text("z = w*x\nC = z^2")
    assert local_partial(g, "z", "w") == symbol("x")
    assert g.evaluate({"w": 2.0, "x": 3.0})["C"] == 36.0
    g.nodes = Graph.from_text("z = w*q\nC = z^2").nodes
    assert "q" in g and "x" not in g and g.leaves == ("w", "q")
    assert local_partial(g, "z", "w") == symbol("q")
    assert g.evaluate({"w": 2.0, "q": 1.0})["C"] == 4.0


def test_the_partials_cache_is_a_declared_field_not_part_of_equality() -> None:
    import dataclasses

    cache = {f.name: f for f in dataclasses.fields(Graph)}["_partials"]
    assert not cache.init and not cache.compare and not cache.repr


def test_element_node_finds_a_layer_by_its_element_name() -> None:
    g = examples.mlp([2, 3, 2])
    assert g.element_node("W_ki^(1)") is g["W^(1)"] and g.element_node("x_i") is g["x"]
    assert g.element_node("W^(1)") is None and g.element_node("nope") is None
    scalar = Graph.from_text(SLIDE)
    assert scalar.element_node("w") is scalar["w"]


def test_graph_unicode_prints_as_to_unicode_in_the_users_order() -> None:
    from gradgraph.notation import to_unicode

    g = Graph.from_text("z = w3*x1 + b_2; a = sigma(z); C = (a - y)^2")
    for expr in [n.expr for n in g if n.expr is not None] + [n.symbol for n in g]:
        assert g.unicode(expr) == to_unicode(expr, g.order)
    assert g.unicode(g["z"].expr) == "w₃·x₁ + b₂" and g.unicode(symbol("a^(L)")) == "a⁽ᴸ⁾"


def test_many_undeclared_names_make_a_short_message() -> None:
    # 400 lines of five names each: no line is long, but 2,000 names go undeclared.
    sums = [" + ".join(f"q{5 * k + i}" for i in range(5)) for k in range(400)]
    text = "x: input\n" + "\n".join(f"u{k} = {s}" for k, s in enumerate(sums))
    text += "\nC = x*(" + " + ".join(f"u{k}" for k in range(400)[:300]) + ")"
    with pytest.raises(GraphError) as info:
        Graph.from_text(text)
    message = str(info.value)
    assert "more" in message and len(message) < 300 and "\n" not in message
