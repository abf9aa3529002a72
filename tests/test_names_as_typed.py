"""Issue #16 item 2: results are keyed by names as the user typed them."""

import pickle

import gradgraph as gg

TEXT = "z = w1*x1 + b\nC = (z - y)^2"
VALUES = {"w1": 0.5, "x1": 2.0, "b": 0.1, "y": 1.0}


def test_gradients_keyed_as_typed():
    g = gg.Graph.from_text(TEXT)
    grads = g.gradients(VALUES)
    assert "w1" in list(grads) and "w_1" not in list(grads)
    assert grads["w1"] == grads["w_1"] == grads["w₁"]


def test_evaluate_keyed_as_typed_and_any_spelling_looks_up():
    g = gg.Graph.from_text(TEXT)
    out = g.evaluate({"w_1": 0.5, "x₁": 2.0, "b": 0.1, "y": 1.0})
    assert "x1" in list(out)
    assert out["x1"] == out["x_1"] == out.get("x₁") == 2.0
    assert "x₁" in out and "nope" not in out


def test_compiled_results_keyed_as_typed():
    g = gg.Graph.from_text(TEXT)
    res = gg.compile(g)(VALUES)
    assert set(res.gradients) >= {"w1", "x1", "b"}
    assert res.values["w_1"] == 0.5


def test_first_spelling_wins_and_canonical_spelling_stays():
    g = gg.Graph.from_text("z = w_1*x + w1\nC = z^2")
    assert "w_1" in list(g.evaluate({"w1": 1.0, "x": 2.0}))


def test_results_pickle_as_plain_dicts():
    g = gg.Graph.from_text(TEXT)
    back = pickle.loads(pickle.dumps(g.gradients(VALUES)))
    assert type(back) is dict and "w1" in back


def test_derive_and_render_accept_every_spelling():
    from gradgraph import derive
    from gradgraph.render import render

    g = gg.Graph.from_text(TEXT)
    assert derive(g, "C", "w_1").expr == derive(g, "C", "w₁").expr == derive(g, "C", "w1").expr
    assert "w1" in g and "w₁" in g and "w_1" in g and g["w_1"].name == "w1"
    render(g, values={"w_1": 0.5, "x₁": 2.0, "b": 0.1, "y": 1.0})


def test_an_answer_spelled_otherwise_means_the_node():
    from gradgraph.parse import parse_expression, symbol

    assert parse_expression("2*w₁ + w_1", names={"w1"}) == 3 * symbol("w1")


def test_from_expr_keeps_sympy_names_as_typed_and_every_spelling_looks_up():
    import sympy as sp

    from gradgraph import derive
    from gradgraph.render import render

    w1, x1, b, y = sp.symbols("w1 x1 b y")
    g = gg.Graph.from_expr((w1 * x1 + b - y) ** 2, params="w1 b")
    assert {"w1", "x1"} <= {n.name for n in g} and "w_1" not in {n.name for n in g}
    assert set(g.params) == {"w1", "b"}
    assert g["w_1"].name == g["w₁"].name == "w1" and "x₁" in g
    values = {"w_1": 0.5, "x₁": 2.0, "b": 0.1, "y": 1.0}
    grads = g.gradients(values)
    assert "w1" in list(grads) and grads["w1"] == grads["w_1"] == grads["w₁"]
    assert g.evaluate(values)["x1"] == 2.0
    assert set(gg.compile(g)({"w1": 0.5, "x1": 2.0, "b": 0.1, "y": 1.0}).gradients) >= {"w1"}
    assert derive(g, wrt="w_1").expr == derive(g, wrt="w1").expr
    assert "x₁" in str(derive(g, wrt="w₁"))
    render(g, wrt="w₁", values=values)


def test_from_expr_keeps_an_underscored_name_and_reads_a_subscript_as_canonical():
    import sympy as sp

    g = gg.Graph.from_expr(sp.Symbol("w_1") * sp.Symbol("x₂"))
    names = {n.name for n in g}
    assert {"w_1", "x_2"} <= names and g["w1"].name == "w_1" and g["x2"].name == "x_2"


def test_from_expr_text_and_cost_name_as_typed():
    g = gg.Graph.from_expr("w1*x + b", params="w1 b", name="L1")
    assert g.cost == "L1" and set(g.params) == {"w1", "b"} and g["L_1"].name == "L1"
    assert "w1" in list(g.gradients({"w₁": 1.0, "x": 2.0, "b": 0.0}))


def test_from_expr_two_spellings_of_one_name_are_one_node():
    import sympy as sp

    g = gg.Graph.from_expr(sp.Symbol("w1") * sp.Symbol("x") + sp.Symbol("w_1"))
    [w] = [n.name for n in g if n.name.startswith("w")]  # the first in SymPy's order
    assert g["w1"].name == g["w_1"].name == g["w₁"].name == w


def test_from_expr_check_questions_in_any_spelling():
    import sympy as sp

    g = gg.Graph.from_expr((sp.Symbol("w1") * sp.Symbol("x1")) ** 2)
    for question, answer in (("dC/dw1", "2*w1*x1^2"), ("dC/dw_1", "2*w₁*x_1^2"),
                             ("w₁", "2*w_1*x1^2")):
        assert gg.check(g, question, answer).correct
