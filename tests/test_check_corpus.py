"""The equivalence corpus: (graph, question, answer, verdict) cases.

The deck's three derivations (∂C₀/∂w⁽ᴸ⁾, ∂C₀/∂b⁽ᴸ⁾, ∂C₀/∂a⁽ᴸ⁻¹⁾) on the one-neuron chain,
deeper ones on the two-layer chain, the slide graph in plain names, in many correct forms
and with the typical mistakes; then the tricky pairs (√(x²) vs x, log(pq) vs
log p + log q, the tanh identity, an empty domain), where a checker either lies
(numbers without a domain check) or gives up (simplify alone).
Verdict: True correct, False not equal, None undecided.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gradgraph import Graph, examples
from gradgraph.check import Checker
from gradgraph.errors import CheckError

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
    # Layers (index notation): the deck's two units in layer L fed by two in L-1.
    "layer": (Path(__file__).parent.parent / "lessons/graphs/layer.gg").read_text(),
    "softmax": "W: param(3, 2); b: param(3); x: input(2); y: input(3)\n"
               "z = W x + b\na = softmax(z)\nC = cross_entropy(a, y)",
    "mlp": examples.mlp_text([2, 3, 2], activation="sigma", output="sigma", loss="squared"),
}
POSITIVE = {"p": (0.1, 5.0), "q": (0.1, 5.0)}

W, B, A = "dC0/dw^(L)", "dC0/db^(L)", "dC0/da^(L-1)"
W1, B1, A2 = "dC0/dw^(L-1)", "dC0/db^(L-1)", "dC0/da^(L-2)"
LA, LW, LB = "dC_0/da_k^(L-1)", "dC_0/dW_jk^(L)", "dC_0/db_j^(L)"
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
    # --- layers: ∂C₀/∂aₖ⁽ᴸ⁻¹⁾ = Σⱼ Wⱼₖ⁽ᴸ⁾ · σ′(zⱼ⁽ᴸ⁾) · 2(aⱼ⁽ᴸ⁾ − yⱼ), in index notation --------
    ("layer", LA, "sum_j W_jk^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)", True),
    ("layer", "∂C₀/∂aₖ⁽ᴸ⁻¹⁾", "Σⱼ Wⱼₖ⁽ᴸ⁾ · σ′(zⱼ⁽ᴸ⁾) · 2(aⱼ⁽ᴸ⁾ − yⱼ)", True),
    ("layer", LA, "2 sum_j W_jk^(L) a_j^(L)(1 - a_j^(L))(a_j^(L) - y_j)", True),
    ("layer", LA, "sum_i W_ik^(L)*sigma'(z_i^(L))*2*(a_i^(L) - y_i)", True),  # any summed letter
    ("layer", "dC_0/da_j^(L-1)", "sum_k W_kj^(L)*sigma'(z_k^(L))*2*(a_k^(L) - y_k)", True),
    ("layer", LA, "sum_j W_jk^(L)*sigma'(sum_i W_ji^(L)*a_i^(L-1) + b_j^(L))*2*(a_j^(L) - y_j)",
     True),  # z written out, with a Σ of its own
    ("layer", LA, "W_0k^(L)*sigma'(z_0^(L))*2*(a_0^(L) - y_0) + "
                  "W_1k^(L)*sigma'(z_1^(L))*2*(a_1^(L) - y_1)", True),  # the Σ written out
    ("layer", "dC_0/da_0^(L-1)", "W_00^(L)*sigma'(z_0^(L))*2*(a_0^(L) - y_0) + "
                                 "W_10^(L)*sigma'(z_1^(L))*2*(a_1^(L) - y_1)", True),  # scalars
    ("layer", LW, "a_k^(L-1)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)", True),
    ("layer", "dC_0/dW^(L)", "dC_0/dW_jk^(L) = 2(a_j^(L) - y_j) sigma'(z_j) a_k^(L-1)", True),
    ("layer", "dC_0/dW_01^(L)", "a_1^(L-1)*sigma'(z_0^(L))*2*(a_0^(L) - y_0)", True),
    ("layer", LB, "sigma'(z_j^(L))*2*(a_j^(L) - y_j)", True),
    ("layer", "dC_0/dz_j^(L)", "2*a_j^(L)*(1 - a_j^(L))*(a_j^(L) - y_j)", True),
    ("layer", LA, "W_jk^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)", False),  # missing Σⱼ
    ("layer", LA, "sum_k W_kj^(L)*sigma'(z_k^(L))*2*(a_k^(L) - y_k)", False),  # free j, not k
    ("layer", LA, "sum_j W_jk^(L)*2*(a_j^(L) - y_j)", False),  # missing σ′
    ("layer", LA, "sum_j W_jk^(L)*sigma'(z_j^(L))*(a_j^(L) - y_j)", False),  # missing 2
    ("layer", LA, "sum_j W_kj^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)", False),  # W transposed
    ("layer", LA, "sum_j W_jk^(L)*sigma'(z_j^(L))*2*(y_j - a_j^(L))", False),  # sign
    ("layer", LW, "a_k^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)", False),  # layer superscript
    ("layer", LW, "a_j^(L-1)*sigma'(z_k^(L))*2*(a_k^(L) - y_k)", False),  # j and k swapped
    ("layer", LW, "sum_j a_k^(L-1)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)", False),  # Σ over a fixed j
    ("layer", LW, "a_k^(L-1)*2*(a_j^(L) - y_j)", False),  # missing σ′
    ("layer", LB, "sum_j sigma'(z_j^(L))*2*(a_j^(L) - y_j)", False),
    ("layer", "dC_0/da_0^(L-1)", "W_00^(L)*sigma'(z_0^(L))*2*(a_0^(L) - y_0)", False),  # a path
    # softmax then cross-entropy (targets drawn as probabilities), two sigmoid layers
    ("softmax", "dC/dz_j", "a_j - y_j", True),
    ("softmax", "dC/dW_jk", "x_k*(a_j - y_j)", True),
    ("softmax", "dC/dx_k", "sum_j W_jk*(a_j - y_j)", True),
    ("softmax", "dC/dW_jk", "x_k*(y_j - a_j)", False),
    ("mlp", "dC/dW^(1)", "x_i*sigma'(z_k^(1))*sum_j W_jk^(2)*sigma'(z_j^(2))*(a_j^(2) - y_j)",
     True),
    ("mlp", "dC/dW^(1)", "x_i*sigma'(z_k^(1))*sum_j W_jk^(2)*(a_j^(2) - y_j)", False),
    ("mlp", "dC/da_k^(1)", "sum_j W_jk^(2)*sigma'(z_j^(2))*(a_j^(2) - y_j)", True),
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
    layers = [c for c in CORPUS if c[0] in ("layer", "softmax", "mlp")]
    assert len(layers) >= 15 and {True, False} <= {v for *_, v in layers}
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


# --- indexed answers: what the feedback says, and what cannot be read -----------------------

LAYER_FEEDBACK = [
    (LA, "W_jk^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)",
     "Your answer does not sum over j: ∂C₀/∂aₖ⁽ᴸ⁻¹⁾ collects every unit j of layer L. "
     "With Σⱼ in front it is right."),
    (LA, "W_jk^(L)*sigma'(z_j^(L))*(a_j^(L) - y_j)",
     "does not sum over j: ∂C₀/∂aₖ⁽ᴸ⁻¹⁾ collects every unit j of layer L. "
     "Your factor ∂C₀/∂aⱼ⁽ᴸ⁾ = (aⱼ⁽ᴸ⁾ − yⱼ); it is 2(aⱼ⁽ᴸ⁾ − yⱼ)."),
    (LA, "sum_k W_kj^(L)*sigma'(z_k^(L))*2*(a_k^(L) - y_k)",
     "Your answer is in j where ∂C₀/∂aₖ⁽ᴸ⁻¹⁾ asks about k; write it in k."),
    (LA, "sum_j W_jk^(L)*2*(a_j^(L) - y_j)",
     "Missing factor ∂aⱼ⁽ᴸ⁾/∂zⱼ⁽ᴸ⁾ = σ′(zⱼ⁽ᴸ⁾). For k = 0, at W₀₀⁽ᴸ⁾="),
    (LA, "sum_j W_jk^(L)*sigma'(z_j^(L))*(a_j^(L) - y_j)",
     "Your factor ∂C₀/∂aⱼ⁽ᴸ⁾ = (aⱼ⁽ᴸ⁾ − yⱼ); it is 2(aⱼ⁽ᴸ⁾ − yⱼ)."),
    (LA, "sum_i W_ki^(L)*sigma'(z_i^(L))*2*(a_i^(L) - y_i)",
     "Your factor ∂zⱼ⁽ᴸ⁾/∂aₖ⁽ᴸ⁻¹⁾ = Wₖⱼ⁽ᴸ⁾; it is Wⱼₖ⁽ᴸ⁾."),
    (LW, "a_k^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)", "(check the layer superscripts)"),
    (LW, "sum_j a_k^(L-1)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)",
     "Your answer sums over j, but ∂C₀/∂Wⱼₖ⁽ᴸ⁾ is about one unit j."),
    ("dC_0/da_0^(L-1)", "W_00^(L)*sigma'(z_0^(L))*2*(a_0^(L) - y_0)",
     "Missing the path a₀⁽ᴸ⁻¹⁾ → z₁⁽ᴸ⁾ → a₁⁽ᴸ⁾ → C₀"),
]


@pytest.mark.parametrize(("question", "answer", "says"), LAYER_FEEDBACK)
def test_layer_feedback(question: str, answer: str, says: str) -> None:
    r = _checker("layer").check(question, answer)
    assert r.correct is False and says in r.message, r.message


def test_layer_verdicts_name_the_index() -> None:
    r = _checker("layer").check(LA, "W_jk^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)")
    assert r.reason == "index" and r.counterexample is None
    r = _checker("layer").check(LW, "a_k^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)")
    assert r.counterexample is not None and r.counterexample["index"] == "j = 0, k = 0"
    assert r.question == "∂C₀/∂Wⱼₖ⁽ᴸ⁾"
    r = _checker("layer").check(LA, "sum_j W_jk^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)")
    assert r.message == "✓ correct: ∂C₀/∂aₖ⁽ᴸ⁻¹⁾ = Σⱼ Wⱼₖ⁽ᴸ⁾ · σ′(zⱼ⁽ᴸ⁾) · 2(aⱼ⁽ᴸ⁾ − yⱼ)"
    assert r.proved and [f.ok for f in r.factors] == [True, True, True]


@pytest.mark.parametrize(("question", "answer", "match"), [
    (LA, "sum_j W^(L)*sigma'(z_j^(L))", "W⁽ᴸ⁾ is a whole layer; write one element"),
    (LA, "sum_j W_jk^(L)*sigma'(z_j)*2*(a_j - y_j)", "'a_j' could be aⱼ⁽ᴸ⁻¹⁾ or aⱼ⁽ᴸ⁾"),
    (LA, "W_j5^(L)", "index 5 is past the end"),
    (LA, "sum_i W_jk^(L)", "'sum_i' sums over i, but no name in its term carries the index i"),
    (LA, "Σⱼ", "Σⱼ needs a term after it"),
    (LA, "sum((a^(L) - y)^2)", "write sums with their index"),
    ("dC_0/da_5^(L-1)", "1", "index 5 is past the end"),
    ("dC_0/da_k", "1", "could be"),
])
def test_layer_answers_that_cannot_be_read(question: str, answer: str, match: str) -> None:
    with pytest.raises(CheckError, match=match):
        _checker("layer").check(question, answer)


def test_layer_blow_up_is_undecided_within_the_deadline() -> None:
    checker = Checker(Graph.from_text(GRAPHS["layer"]), deadline=1.0)
    start = time.monotonic()
    r = checker.check(LA, "sum_j (W_jk^(L) + a_k^(L-1) + b_j^(L) + y_j + z_j^(L) + a_j^(L) "
                          "+ W_jj^(L) + C_0)**100")
    assert r.correct is None and r.reason == "timeout"
    assert time.monotonic() - start < 2.5
