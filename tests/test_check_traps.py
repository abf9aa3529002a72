"""Traps: answers that agree with the true derivative at ordinary random points and
differ elsewhere (beyond a kink, at large magnitudes, across a domain edge, by a
tiny term), next to right answers written strangely that must stay right.

Verdict: True correct, False not equal, None undecided. An answer that differs from the
true value on a set of positive measure must never be "correct".
"""

from __future__ import annotations

import pytest

from gradgraph.check import Checker

W = "C = w*x"  # ∂C/∂w = x
T = "C = t*x"  # ∂C/∂t = x
SIGMA, TANH = "a = sigma(z); C = a", "a = tanh(z); C = a"
RELU_NET = "z = w*x + b; a = relu(z); C = (a - y)^2"
SLIDE, RIGHT = "z = w*x + b; a = sigma(z); C = (a - y)^2", "x*sigma'(z)*2*(a - y)"

TRAPS = [
    # --- kinks far from the ordinary points ----------------------------------------
    (W, "dC/dw", "x + relu(x - 50)", False),
    (W, "dC/dw", "x + relu(x - 500)", False),
    (W, "dC/dw", "x + relu(x - 2000)", False),
    (W, "dC/dw", "x - relu(-x - 300)", False),
    (W, "dC/dw", "x + abs(x - 200) - (x - 200)", False),
    (W, "dC/dw", "x + relu'(x - 500)", False),  # a step at 500
    (W, "dC/dw", "x*(1 + relu'(x - 700))", False),
    (W, "dC/dw", "x + relu(x-50) - 2*relu(x-50.5) + relu(x-51)", False),  # a bump 1 wide
    (W, "dC/dw", "x + relu'(w - 50)*relu'(60 - w)", False),  # a window in the other leaf
    (W, "dC/dw", "x + relu(w*x - 400)", False),  # a kink along a curve
    (W, "dC/dw", "x + relu'(w*w - 2500)", False),  # two kinks, |w| = 50
    (W, "dC/dw", "x + relu(w - 999)*0.001", False),
    (W, "dC/dw", "x + 1e-9*relu(x - 50)", False),  # beyond the kink, and tiny
    ("swish(u) = u*relu'(u - 30); C = w*x", "dC/dw", "x + swish(x)", False),  # in a user op
    (RELU_NET, "dC/dw", "x*relu'(z - 100)*2*(a - y)", False),
    # where σ′(w·x + b) underflows: found along a line with x, b near 0, or in 40 digits
    (SLIDE, "dC/dw", f"{RIGHT}*(1 + relu'(w - 250))", False),
    (SLIDE, "dC/dw", f"{RIGHT} + relu'(250 - w)*relu'(w - 249)", False),  # a window
    (SLIDE, "dC/dw", f"{RIGHT}*(1 + relu'(z - 60))", False),
    (SLIDE, "dC/dw", f"{RIGHT}*(1 + relu'(b - 250))", False),  # σ′ is 10⁻¹⁰⁹ there
    (SLIDE, "dC/dw", f"{RIGHT}*(1 + 1e-6*relu(x - 60))", False),
    ("C = t*relu(x - 100)", "dC/dt", "0", False),
    ("C = abs(w - 1000)", "dC/dw", "-1", False),
    # --- large magnitudes ------------------------------------------------------------
    (W, "dC/dw", "x + exp(-x^2/1000000)", False),
    (W, "dC/dw", "x + 1/(1 + (x - 300)^2)", False),
    (W, "dC/dw", "x + x^3/1e9", False),
    ("C = w*x^2/2", "dC/dw", "x^2/2 + x^4/1e12", False),
    # --- tiny differences: constants, factors, terms ---------------------------------
    (W, "dC/dw", "x + 1e-9", False),
    (W, "dC/dw", "x*(1 + 1e-10)", False),
    (W, "dC/dw", "x + 1e-12*x^2", False),
    ("C = w*x^3", "dC/dw", "x^3 + 1e-4*x", False),
    (W, "dC/dw", "sqrt(x^2 + 1e-20)", False),
    # --- branch cuts and domains -----------------------------------------------------
    (W, "dC/dw", "sqrt(x^2)", False),
    (T, "dC/dt", "sqrt(x)^2", False),
    (T, "dC/dt", "exp(log(x))", False),
    (T, "dC/dt", "x*sqrt(500 - x)^2/(500 - x)", False),  # undefined beyond 500 only
    ("C = t*log(x^2)", "dC/dt", "2*log(x)", False),
    ("C = t*sqrt(x)", "dC/dt", "sqrt(abs(x))", False),
    ("C = t*log(x)", "dC/dt", "log(abs(x))", False),
    ("C = t*log(p*q)", "dC/dt", "log(p) + log(q)", False),
    ("C = t*abs(x)", "dC/dt", "x", False),
    # --- the answer's domain as typed (SymPy cancels what the learner wrote) ----------
    (W, "dC/dw", "x*sqrt(500-x)/sqrt(500-x)", False),  # undefined for x > 500
    (W, "dC/dw", "x*sqrt(-x)/sqrt(-x)", False),  # undefined for x > 0
    (T, "dC/dt", "sqrt(x)*sqrt(x)", False),  # sqrt(x)^2 for x: undefined for x < 0
    (T, "dC/dt", "x*log(x)/log(x)", False),  # log of a negative number for x < 0
    ("C = t*log(x^2)/2", "dC/dt", "log(x)", False),  # 2 log vs log of a square, x < 0
    (T, "dC/dt", "x*(x - 700)^0.5/(x - 700)^0.5", False),  # a fractional power
    (W, "dC/dw", "x*relu(x)/relu(x)", False),  # 1/0 for every x < 0: positive measure
    (W, "dC/dw", "x*sqrt(2000 - x)/sqrt(2000 - x)", False),  # past the magnitudes
    ("C = w*x*y", "dC/dw", "x*y*log(x*y)/log(x*y)", False),  # where x·y < 0
    ("f(u) = sqrt(u); C = w*x", "dC/dw", "x*f(-x)/f(-x)", False),  # in a user op
    ("z = w*x + b; a = relu(z); C = a", "dC/dw", "x*relu'(z)*sqrt(z)/sqrt(z)", False),
    (W, "dC/dw", "x*abs(x - 600)/abs(x - 600)", True),  # one hole, at 600: a note
    ("C = t*y + x", "dC/dt", "x*y/x", True),  # x/x·y: one hole, x = 0: a note
    (W, "dC/dw", "x*(x - 3)/(x - 3)", True),  # a note
    ("C = t*sqrt(x)", "dC/dt", "sqrt(x)*sqrt(x)/sqrt(x)", True),  # the truth's own √
    ("C = t*relu(x)", "dC/dt", "relu(x)*sqrt(abs(x))/sqrt(abs(x))", True),  # |x| ≥ 0
    (W, "dC/dw", "x*(x^2 + 1)/(x^2 + 1)", True),  # never vanishes: no note
    # where floats round to a hole that is not there: 1 − σ(−849) is 1.0, log of it 0
    (W, "dC/dw", "x*log(1 - sigma(x))/log(1 - sigma(x))", True),
    (W, "dC/dw", "x*sqrt(1 - tanh(x)^2)/sqrt(1 - tanh(x)^2)", True),  # 0.0 at x = 999
    (SLIDE, "dC/dw", f"{RIGHT}*log(1 - a)/log(1 - a)", True),
    (SIGMA, "dC/dz", "sigma(z)*(1 + exp(-z))*exp(-z)/(1 + exp(-z))^2", True),
    # --- cancelling terms, right ------------------------------------------------------
    (W, "dC/dw", "x + (x - x)", True),
    (W, "dC/dw", "(x + 1)^2 - x^2 - x - 1", True),
    (W, "dC/dw", "x + relu(x - 50) - relu(x - 50)", True),
    (W, "dC/dw", "relu(x) - relu(-x)", True),
    (T, "dC/dt", "abs(x)*relu'(x) - abs(x)*relu'(-x)", True),
    # --- right answers written strangely ------------------------------------------------
    (SIGMA, "dC/dz", "sigma(z)*(1 - sigma(z))", True),
    (SIGMA, "dC/dz", "exp(-z)/(1 + exp(-z))^2", True),  # overflows at z = −1000
    (SIGMA, "dC/dz", "a*(1 - a)", True),
    (TANH, "dC/dz", "1 - ((exp(2z) - 1)/(exp(2z) + 1))^2", True),
    (TANH, "dC/dz", "4/(exp(z) + exp(-z))^2", True),
    (TANH, "dC/dz", "1 - tanh(z)^2", True),
    ("C = softplus(x)", "dC/dx", "exp(x)/(1 + exp(x))", True),
    ("C = relu(z)", "dC/dz", "relu'(z)", True),
    (RELU_NET, "dC/dw", "x*relu'(z)*2*(relu(z) - y)", True),
    (SLIDE, "dC/dw", "x*exp(-z)/(1 + exp(-z))^2*2*(a - y)", True),
    (SLIDE, "dC/dw", "2x(1/(1 + exp(-z)) - y)*exp(-z)/(1 + exp(-z))^2", True),
    (SLIDE, "dC/dw", f"{RIGHT}*(1 + relu'(a - 3))", True),  # a < 1: the kink is never met
    # --- undecided ----------------------------------------------------------------------
    ("C = t*log(-x^2 - 1)", "dC/dt", "sqrt(-x^2 - 1)", None),  # defined nowhere
]

_CHECKERS: dict[str, Checker] = {}


def _checker(graph: str) -> Checker:
    if graph not in _CHECKERS:
        _CHECKERS[graph] = Checker(graph)
    return _CHECKERS[graph]


@pytest.mark.parametrize(("graph", "question", "answer", "verdict"), TRAPS,
                         ids=[f"{i:02d}" for i in range(len(TRAPS))])
def test_trap(graph: str, question: str, answer: str, verdict: bool | None) -> None:
    r = _checker(graph).check(question, answer)
    assert r.correct is verdict, r.message
    if verdict is False:  # a wrong answer is shown wrong at a point
        assert r.counterexample is not None, r.message


def test_the_corpus_is_big_and_mostly_traps() -> None:
    assert len(TRAPS) >= 30
    assert sum(v is not True for *_, v in TRAPS) >= 30


@pytest.mark.parametrize("answer", ["x + relu(x - 50)", "x + relu'(x - 500)"])
def test_a_kink_beyond_the_limits_is_not_sampled(answer: str) -> None:
    """The user's ranges hold: a kink outside them is not looked at (there the
    answer does equal the true value)."""
    r = Checker(W, limits={"x": (-10, 10)}).check("dC/dw", answer)
    assert r.correct is True, r.message


def test_the_counterexample_of_a_kink_is_beyond_it() -> None:
    r = _checker(W).check("dC/dw", "x + relu(x - 50)")
    assert r.counterexample["at"]["x"] > 50
