"""The answer's domain as typed (issue #11, item 5): SymPy cancels √(500 − x)/√(500 − x)
when the answer is built, but as typed it is undefined for every x > 500, where the
true value is defined. Such an answer is not "correct"; one undefined only at isolated
points (a denominator's roots) stays correct, with a note.
"""

from __future__ import annotations

import re

import pytest

from gradgraph.check import Checker
from gradgraph.check.typed import conditions, typed_answer

W = "C = w*x"


@pytest.fixture(scope="module")
def w() -> Checker:
    return Checker(W)


def test_a_cancelled_square_root_is_not_correct(w: Checker) -> None:
    r = w.check("dC/dw", "x*sqrt(500-x)/sqrt(500-x)")
    assert r.correct is False, r.message
    assert "not defined" in r.message and "√ of a negative number" in r.message
    at = r.counterexample["at"]["x"]
    assert at > 500
    assert r.counterexample["yours"] is None
    assert r.counterexample["expected"] == pytest.approx(at)
    assert r.reason == "domain differs"


def test_the_message_names_the_point_and_the_true_value(w: Checker) -> None:
    r = w.check("dC/dw", "x*sqrt(500-x)/sqrt(500-x)")
    x = r.counterexample["at"]["x"]
    m = re.search(r"your answer is not defined at x = (\S+) \(√ of a negative number\), "
                  r"where ∂C/∂w = (\S+?)\.", r.message, re.IGNORECASE)
    assert m is not None, r.message
    assert float(m.group(1)) == pytest.approx(x, rel=1e-2)


def test_an_isolated_hole_keeps_the_verdict_and_adds_a_note(w: Checker) -> None:
    r = w.check("dC/dw", "x*(x-3)/(x-3)")
    assert r.correct is True, r.message
    assert "(not defined at x = 3)" in r.message


def test_a_denominator_that_never_vanishes_gives_no_note(w: Checker) -> None:
    r = w.check("dC/dw", "x*(x^2+1)/(x^2+1)")
    assert r.correct is True, r.message
    assert "not defined" not in r.message


def test_conditions_are_read_from_the_text_before_simplification() -> None:
    from gradgraph import Graph

    g = Graph.from_text(W)
    typed = typed_answer(g, "x*sqrt(500-x)/sqrt(500-x)", 0)
    assert typed is not None
    kinds = sorted(c.kind for c in conditions(typed))
    assert kinds == ["function", "power"]  # √(500 − x) once (twice typed), 1/√ once


def test_an_unreadable_answer_has_no_typed_form() -> None:
    from gradgraph import Graph

    assert typed_answer(Graph.from_text(W), "x +* 2", 0) is None


def test_the_same_restriction_as_the_truth_is_no_fault() -> None:
    r = Checker("C = t*sqrt(x)").check("dC/dt", "sqrt(x)*sqrt(x)/sqrt(x)")
    assert r.correct is True, r.message


def test_a_name_that_cancels_is_still_read() -> None:
    """x/x·y on a graph without x: SymPy's y would be accepted; x is no node."""
    from gradgraph.errors import CheckError

    with pytest.raises(CheckError, match="'?x'?"):
        Checker("C = t*y").check("dC/dt", "x*y/x")


def test_a_right_answer_without_holes_is_unchanged(w: Checker) -> None:
    r = w.check("dC/dw", "x")
    assert r.correct is True and r.message == "✓ correct: ∂C/∂w = x"


def test_the_typed_answer_is_the_same_formula_where_both_are_defined() -> None:
    """The safe parser under evaluate(False) reads what it reads evaluated: the typed
    tree (and its parts built again) has the built answer's values wherever both are
    defined, on every answer of the trap corpus."""
    import numpy as np

    from gradgraph import Graph
    from gradgraph.check.numbers import evaluate
    from gradgraph.check.question import parse_answer
    from gradgraph.check.typed import rebuilt

    from .test_check_traps import TRAPS

    rng = np.random.default_rng(0)
    for graph, _, answer, _ in TRAPS:
        g = Graph.from_text(graph)
        built, typed = parse_answer(g, answer, 0), typed_answer(g, answer, 0)
        assert typed is not None, answer
        env = {s: rng.uniform(-3, 3, 50) for s in built.free_symbols | typed.free_symbols}
        want = evaluate(built, env, 50)
        for got in (evaluate(typed, env, 50), evaluate(rebuilt(typed), env, 50)):
            both = np.isfinite(want) & np.isfinite(got)
            assert np.allclose(got[both], want[both], rtol=1e-9, atol=1e-12), answer


@pytest.mark.parametrize("answer", ["x*log(1 - sigma(x))/log(1 - sigma(x))",
                                    "x*sqrt(1 - tanh(x)^2)/sqrt(1 - tanh(x)^2)"])
def test_a_hole_that_only_rounding_makes_is_no_hole(w: Checker, answer: str) -> None:
    """1 − σ(−849) is 1.0 in floats (log of it 0: "division by zero"), 1 − tanh(999)²
    is 0.0; in exact arithmetic neither is: right, and no note."""
    r = w.check("dC/dw", answer)
    assert r.correct is True, r.message
    assert "not defined" not in r.message


def test_rounding_noise_in_one_term_does_not_hide_a_real_hole_in_another(w: Checker) -> None:
    r = w.check("dC/dw", "x*sqrt(500 - x)/sqrt(500 - x)*log(1 - sigma(x))/log(1 - sigma(x))")
    assert r.correct is False, r.message
    assert "√ of a negative number" in r.message


def test_a_long_answer_is_checked_for_its_roots_before_its_denominators(w: Checker) -> None:
    """40 cancelled σ-denominators (total functions, no holes) do not crowd out the one
    cancelled square root before them."""
    many = "".join(f"*sigma(x + {i})/sigma(x + {i})" for i in range(40))
    r = w.check("dC/dw", f"x*sqrt(500 - x)/sqrt(500 - x){many}")
    assert r.correct is False, r.message
    assert "√ of a negative number" in r.message
