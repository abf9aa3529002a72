"""The equivalence corpus: (graph, question, answer, verdict) cases.

The deck's three derivations (∂C₀/∂w⁽ᴸ⁾, ∂C₀/∂b⁽ᴸ⁾, ∂C₀/∂a⁽ᴸ⁻¹⁾) on the one-neuron chain,
deeper ones on the two-layer chain, the slide graph in plain names, in many correct forms
and with the typical mistakes; then the tricky pairs of reliability-security.md §2 and
§8 rows 15–18, where a checker either lies (numbers without a domain check) or gives up
(simplify alone). Verdict: True correct, False not equal, None undecided.
"""

from __future__ import annotations

import pytest

from gradgraph import Graph, examples
from gradgraph.check import Checker

SLIDE = "z = w*x + b; a = sigma(z); C = (a - y)^2"
GRAPHS = {
    "slide": SLIDE,
    "chain1": examples.chain_text(1),
    "chain2": examples.chain_text(2),
    "reg": "z = w*x + b; a = sigma(z); C = (a - y)^2 + lambda*w^2",
    "relu": "z = w*x + b; a = relu(z); C = (a - y)^2",
    "swish": "swish(u) = u*sigma(u); z = w*x + b; a = swish(z); C = (a - y)^2",
    "greek": "z = gamma*x + beta; C = (z - y)^2 + lambda*gamma^2",
    "consts": "C = E*I + N",
    "sigma": "a = sigma(z); C = a",
    "tanh": "a = tanh(z); C = a",
    "softplus": "C = softplus(2*x)/2",
    "linear": "C = t*x",
    "square": "C = t*x^2/2",
    "logpq": "C = t*log(p*q)",
    "empty": "C = t*log(-x^2 - 1)",
}
POSITIVE = {"p": (0.1, 5.0), "q": (0.1, 5.0)}

W, B, A = "dC0/dw^(L)", "dC0/db^(L)", "dC0/da^(L-1)"
W1, B1, A2 = "dC0/dw^(L-1)", "dC0/db^(L-1)", "dC0/da^(L-2)"
CHAIN2_W1 = "a^(L-2)*sigma'(z^(L-1))*w^(L)*sigma'(z^(L))*2*(a^(L)-y)"

CORPUS = [
    # --- ∂C₀/∂w⁽ᴸ⁾ on the slides' chain: correct forms --------------------------------
    ("chain1", W, "a^(L-1)*sigma'(z^(L))*2*(a^(L)-y)", True),
    ("chain1", W, "a⁽ᴸ⁻¹⁾ · σ′(z⁽ᴸ⁾) · 2(a⁽ᴸ⁾ − y)", True),
    ("chain1", W, "2*a^(L-1)*a^(L)*(1-a^(L))*(a^(L)-y)", True),
    ("chain1", W, "a^(L-1)*sigma(z^(L))*(1-sigma(z^(L)))*2*(a^(L)-y)", True),
    ("chain1", W, "a^(L-1)*sigma'(w^(L)*a^(L-1)+b^(L))*2*(sigma(w^(L)*a^(L-1)+b^(L))-y)", True),
    ("chain1", W, "dC0/dw^(L) = 2(a^(L)-y) sigma'(z^(L)) a^(L-1)", True),
    ("chain1", W, "∂C₀/∂w⁽ᴸ⁾ = 2a⁽ᴸ⁻¹⁾(a⁽ᴸ⁾ − y)σ′(z⁽ᴸ⁾)", True),
    ("chain1", W, "2*a^(L-1)*sigma'(z^(L))*a^(L) - 2*a^(L-1)*sigma'(z^(L))*y", True),
    ("chain1", W, "a^(L-1) * exp(-z^(L))/(1+exp(-z^(L)))**2 * 2*(a^(L)-y)", True),
    ("chain1", "w^(L)", "(a^(L) - y)*2*a^(L-1)*sigma'(z^(L))", True),
    # --- ∂C₀/∂w⁽ᴸ⁾: typical mistakes ---------------------------------------------------
    ("chain1", W, "a^(L-1)*2*(a^(L)-y)", False),  # missing σ′
    ("chain1", W, "a^(L-1)*sigma'(z^(L))*(a^(L)-y)", False),  # missing 2
    ("chain1", W, "a^(L-1)*sigma'(z^(L))*2*(y-a^(L))", False),  # sign
    ("chain1", W, "a^(L)*sigma'(z^(L))*2*(a^(L)-y)", False),  # wrong layer superscript
    ("chain1", W, "w^(L)*a^(L-1)*sigma'(z^(L))*2*(a^(L)-y)", False),  # extra factor
    ("chain1", W, "a^(L-1)*sigma(z^(L))*2*(a^(L)-y)", False),  # σ for σ′
    ("chain1", W, "a^(L-1)*sigma'(z^(L))*(a^(L)-y)^2", False),  # cost not differentiated
    ("chain1", W, "a^(L-1)*sigma'(a^(L))*2*(a^(L)-y)", False),  # σ′ of the output
    ("chain1", W, "a^(L-1)*a^(L-1)*(1-a^(L-1))*2*(a^(L)-y)", False),  # a(1−a) of a layer down
    # --- ∂C₀/∂b⁽ᴸ⁾ --------------------------------------------------------------------
    ("chain1", B, "sigma'(z^(L))*2*(a^(L)-y)", True),
    ("chain1", B, "2*a^(L)*(1-a^(L))*(a^(L)-y)", True),
    ("chain1", B, "1*sigma'(z^(L))*2*(a^(L)-y)", True),
    ("chain1", B, "sigma'(z)*2*(a^(L)-y)", True),  # z is z⁽ᴸ⁾, the only z
    ("chain1", B, "a^(L-1)*sigma'(z^(L))*2*(a^(L)-y)", False),  # the ∂w answer
    ("chain1", B, "2*(a^(L)-y)", False),
    ("chain1", B, "sigma'(z^(L))*(a^(L)-y)", False),
    # --- ∂C₀/∂a⁽ᴸ⁻¹⁾ ------------------------------------------------------------------
    ("chain1", A, "w^(L)*sigma'(z^(L))*2*(a^(L)-y)", True),
    ("chain1", A, "2 w^(L) a^(L)(1 - a^(L))(a^(L) - y)", True),
    ("chain1", A, "w^(L)*sigma'(w^(L)*a^(L-1)+b^(L))*2*(sigma(w^(L)*a^(L-1)+b^(L))-y)", True),
    ("chain1", A, "a^(L-1)*sigma'(z^(L))*2*(a^(L)-y)", False),
    ("chain1", A, "w^(L)*2*(a^(L)-y)", False),
    # --- two layers: deeper chains ------------------------------------------------------
    ("chain2", W1, CHAIN2_W1, True),
    ("chain2", W1, "a^(L-2)*a^(L-1)*(1-a^(L-1))*w^(L)*a^(L)*(1-a^(L))*2*(a^(L)-y)", True),
    ("chain2", W1, "2 a^(L-2) w^(L) sigma'(z^(L-1)) sigma'(z^(L)) (a^(L) - y)", True),
    ("chain2", W1, "a^(L-2)*w^(L)*sigma'(z^(L))*2*(a^(L)-y)", False),  # one σ′ missing
    ("chain2", W1, "a^(L-1)*sigma'(z^(L-1))*w^(L)*sigma'(z^(L))*2*(a^(L)-y)", False),  # layer
    ("chain2", W1, "a^(L-2)*sigma'(z^(L-1))*w^(L-1)*sigma'(z^(L))*2*(a^(L)-y)", False),  # w layer
    ("chain2", W1, "a^(L-2)*sigma'(z^(L-1))*w^(L)*sigma'(z^(L))*(a^(L)-y)", False),  # no 2
    ("chain2", W1, "-" + CHAIN2_W1, False),  # sign
    ("chain2", B1, "sigma'(z^(L-1))*w^(L)*sigma'(z^(L))*2*(a^(L)-y)", True),
    ("chain2", B1, "a^(L-1)(1-a^(L-1)) w^(L) a^(L)(1-a^(L))·2(a^(L)-y)", True),
    ("chain2", B1, "sigma'(z^(L-1))*sigma'(z^(L))*2*(a^(L)-y)", False),  # missing w⁽ᴸ⁾
    ("chain2", A2, "w^(L-1)*sigma'(z^(L-1))*w^(L)*sigma'(z^(L))*2*(a^(L)-y)", True),
    ("chain2", A2, "w^(L)*sigma'(z^(L-1))*w^(L)*sigma'(z^(L))*2*(a^(L)-y)", False),
    ("chain2", "dC0/da^(L-1)", "w^(L)*sigma'(z^(L))*2*(a^(L)-y)", True),
    ("chain2", W, "a^(L-1)*sigma'(z^(L))*2*(a^(L)-y)", True),
    ("chain2", W, "a^(L-2)*sigma'(z^(L))*2*(a^(L)-y)", False),
    # --- the slide graph in plain names, every question form ---------------------------
    ("slide", "dC/dw", "dC/dw = x*sigma'(z)*2*(a-y)", True),
    ("slide", "∂C/∂w", "x*sigma(z)*(1-sigma(z))*2*(a-y)", True),
    ("slide", "w", "2x(a - y)a(1 - a)", True),
    ("slide", "dC/dw", "x*σ′(z)*2*(a−y)", True),
    ("slide", "dC/dw", "x * sigmoid'(z) * 2 * (a - y)**1", True),
    ("slide", "dC/dw", "x*sigma'(z)*(a-y)", False),
    ("slide", "dC/dw", "x*sigma'(z)*2*(a+y)", False),
    ("slide", "dC/db", "sigma'(z)*2*(a-y)", True),
    ("slide", "dC/dx", "w*sigma'(z)*2*(a-y)", True),
    ("slide", "dC/dy", "-2*(a-y)", True),
    ("slide", "dC/dy", "2*(a-y)", False),
    ("slide", "dC/da", "2*(a-y)", True),
    ("slide", "dC/dz", "sigma'(z)*2*(a-y)", True),
    ("slide", "dz/dw", "x", True),
    # --- several paths, other ops, user ops, Greek and SymPy-trap names ------------------
    ("reg", "dC/dw", "x*sigma'(z)*2*(a-y) + 2 lambda w", True),
    ("reg", "dC/dw", "x*sigma'(z)*2*(a-y)", False),  # missing the regulariser's path
    ("relu", "dC/dw", "x*relu'(z)*2*(a-y)", True),
    ("relu", "dC/dw", "x*2*(a-y)", False),  # relu′ is 0 for z < 0
    ("swish", "dC/dw", "x*swish'(z)*2*(a-y)", True),
    ("swish", "dC/dw", "x*(sigma(z) + z*sigma'(z))*2*(a-y)", True),
    ("swish", "dC/dw", "x*sigma'(z)*2*(a-y)", False),
    ("greek", "dC/dgamma", "2(z-y)*x + 2*lambda*gamma", True),
    ("greek", "dC/dbeta", "2(z - y)", True),
    ("consts", "dC/dE", "I", True),
    ("consts", "dC/dN", "1", True),
    # --- σ′ and its forms ---------------------------------------------------------------
    ("sigma", "dC/dz", "sigma(z)*(1-sigma(z))", True),
    ("sigma", "dC/dz", "exp(-z)/(1+exp(-z))^2", True),
    ("sigma", "dC/dz", "sigma(z)*sigma(-z)", True),
    ("sigma", "dC/dz", "sigma(z)^2", False),
    # --- §2 / §8 rows 15–18: the tricky pairs --------------------------------------------
    ("linear", "dC/dt", "sqrt(x^2)", False),  # row 15: √(x²) is |x|, not x
    ("linear", "dC/dt", "abs(x)", False),
    ("square", "dC/dt", "sqrt(x^2)^2/2", True),
    ("logpq", "dC/dt", "log(p) + log(q)", False),  # row 16: the domains differ
    ("logpq", "dC/dt", "log(p*q)", True),
    ("tanh", "dC/dz", "1 - ((exp(2z)-1)/(exp(2z)+1))^2", True),  # row 17: simplify can't
    ("tanh", "dC/dz", "1 - tanh(z)^2", True),
    ("tanh", "dC/dz", "tanh'(z)", True),
    ("tanh", "dC/dz", "1 - tanh(z)", False),
    ("softplus", "dC/dx", "(tanh(x) + 1)/2", True),  # σ(2x) = (1 + tanh x)/2
    ("softplus", "dC/dx", "sigma(x)", False),
    ("empty", "dC/dt", "sqrt(-x^2-1)", None),  # row 18: nowhere defined -> undecided
    ("empty", "dC/dt", "log(-x^2-1)", None),  # ... even when it is the same formula
    ("empty", "dC/dt", "x", None),
]

# Cases that need lesson-given limits (log p + log q is right when p, q > 0).
LIMITED = [
    ("logpq", "dC/dt", "log(p) + log(q)", True),
    ("logpq", "dC/dt", "log(p) + log(q) + 1e-3", False),
]

_checkers: dict[tuple[str, bool], Checker] = {}


def _checker(key: str, limited: bool = False) -> Checker:
    if (key, limited) not in _checkers:
        limits = POSITIVE if limited else None
        _checkers[key, limited] = Checker(Graph.from_text(GRAPHS[key]), limits=limits)
    return _checkers[key, limited]


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) + len(LIMITED) >= 60
    verdicts = [v for *_, v in CORPUS]
    assert verdicts.count(True) >= 20 and verdicts.count(False) >= 20 and None in verdicts


@pytest.mark.parametrize(("graph", "question", "answer", "verdict"), CORPUS)
def test_corpus(graph: str, question: str, answer: str, verdict: bool | None) -> None:
    result = _checker(graph).check(question, answer)
    assert result.correct is verdict, result.message


@pytest.mark.parametrize(("graph", "question", "answer", "verdict"), LIMITED)
def test_corpus_with_limits(graph: str, question: str, answer: str, verdict: bool) -> None:
    result = _checker(graph, limited=True).check(question, answer)
    assert result.correct is verdict, result.message


@pytest.mark.parametrize(("graph", "question", "answer", "verdict"),
                         [c for c in CORPUS if c[3] is not True])
def test_never_correct_when_it_is_not(graph: str, question: str, answer: str,
                                      verdict: bool | None) -> None:
    # The property that matters most: a wrong or undecidable answer is never "correct",
    # whatever seed draws the points.
    for seed in (1,):
        checker = Checker(Graph.from_text(GRAPHS[graph]), seed=seed)
        assert checker.check(question, answer).correct is not True
