"""The one numeric evaluator (gradgraph.expr_numbers) as the checker and the diagrams use it."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from gradgraph import expr_numbers
from gradgraph.check import evaluate
from gradgraph.errors import CheckError
from gradgraph.graph import Graph
from gradgraph.parse import parse_expression, symbol
from gradgraph.render.scene import numeric_value

GRAPH = Graph.from_text("swish(x) = x*sigma(x)\nz = w*x\nC = swish(z)")
CASES = ["sigma(w)*x", "relu(w - 1) + abs(x)", "swish(w)", "swish'(w)", "exp(w)/x",
         "log(x)", "sigma'(w)^2", "max(w, x)"]


@pytest.mark.parametrize("text", CASES)
def test_the_checker_and_a_diagram_get_the_same_number(text: str) -> None:
    expr = parse_expression(text, user_ops=GRAPH.user_ops)
    w, x = symbol("w"), symbol("x")
    at = {"w": np.array([0.3, -1.5]), "x": np.array([2.0, 0.5])}
    checked = evaluate(expr, {w: at["w"], x: at["x"]}, 2)
    drawn = numeric_value(expr, at)
    np.testing.assert_allclose(drawn, checked)


def test_a_deep_formula_does_not_meet_the_recursion_limit() -> None:
    w = sp.Symbol("w")
    expr: sp.Expr = w
    for _ in range(5000):
        expr = sp.exp(sp.Mul(sp.Rational(1, 2), expr, evaluate=False), evaluate=False)
    assert numeric_value(expr, {"w": 0.0}) is not None


def test_what_has_no_number_is_none_in_a_diagram_and_an_error_in_the_checker() -> None:
    w = sp.Symbol("w")
    expr = sp.gamma(w)
    assert numeric_value(expr, {"w": 1.0}) is None
    assert numeric_value(w + 1, {}) is None  # no value for w
    with pytest.raises(CheckError, match="cannot evaluate gamma"):
        evaluate(expr, {w: np.ones(1)}, 1)
    with pytest.raises(CheckError, match="'w' has no value"):
        evaluate(w + 1, {}, 1)


def test_range_flags_mark_overflow_not_undefined_points() -> None:
    x = sp.Symbol("x")
    ratio = sp.Mul(sp.exp(x), sp.Pow(sp.exp(x), -1, evaluate=False), evaluate=False)
    got = expr_numbers.evaluate_flagged(ratio, {x: np.array([1000.0, 1.0])}, 2)
    assert got.unusable.tolist() == [True, False]
    undefined = expr_numbers.evaluate_flagged(sp.log(x), {x: np.array([-1.0])}, 1)
    assert undefined.unusable.tolist() == [False]
