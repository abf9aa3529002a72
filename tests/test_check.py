"""``gradgraph.check``: questions, answers, feedback wording, safety and the deadline."""

from __future__ import annotations

import json
import math
import re
import sys
import time

import numpy as np
import pytest

from gradgraph import Graph, examples
from gradgraph.check import Checker, CheckResult, check, echo_unicode, evaluate, parse_question
from gradgraph.errors import CheckError, GradgraphError
from gradgraph.parse import parse_expression

SLIDE = "z = w*x + b; a = sigma(z); C = (a - y)^2"
RIGHT = "x*sigma'(z)*2*(a-y)"


@pytest.fixture(scope="module")
def slide() -> Checker:
    return Checker(Graph.from_text(SLIDE))


@pytest.fixture(scope="module")
def chain1() -> Checker:
    return Checker(examples.chain(1))


@pytest.fixture(scope="module")
def chain2() -> Checker:
    return Checker(examples.chain(2))


# --- questions and answers as users write them ----------------------------------------


@pytest.mark.parametrize("question", ["dC0/dw^(L)", "∂C₀/∂w⁽ᴸ⁾", "dC_0/dw^(L)", "dC/dw^(L)",
                                      "d C0 / d w^(L)", "w^(L)", "w⁽ᴸ⁾", "dC/dw"])
def test_question_forms(question: str) -> None:
    assert parse_question(examples.chain(1), question) == ("C_0", "w^(L)")


def test_ambiguous_question_names_the_choices() -> None:
    with pytest.raises(CheckError, match="w⁽ᴸ⁻¹⁾ or w⁽ᴸ⁾"):
        parse_question(examples.chain(2), "dC/dw")


@pytest.mark.parametrize("question", ["dC/dq", "dC", "C/w", "d/dw", ""])
def test_bad_questions(question: str) -> None:
    with pytest.raises(CheckError):
        parse_question(Graph.from_text(SLIDE), question)


def test_the_library_call_of_the_issue() -> None:
    r = check(Graph.from_text(SLIDE), "dC/dw", "x*sigma(z)*(1-sigma(z))*2*(a-y)")
    assert isinstance(r, CheckResult)
    assert r.correct is True and r.proved and r.verdict == "correct"
    assert r.counterexample is None
    assert [f.symbol for f in r.factors] == ["∂z/∂w", "∂a/∂z", "∂C/∂a"]
    assert all(f.ok for f in r.factors)
    assert str(r.expected).startswith("∂C/∂w = ∂z/∂w · ∂a/∂z · ∂C/∂a")


def test_correct_message_echoes_the_answer_in_slide_typography(slide: Checker) -> None:
    r = slide.check(None, "dC/dw = " + RIGHT)
    assert r.message == "✓ correct: ∂C/∂w = x · σ′(z) · 2(a − y)"


def test_graph_may_be_text() -> None:
    assert check(SLIDE, "w", RIGHT).correct is True


@pytest.mark.parametrize(("text", "shown"), [
    ("x*sigma'(z)*2*(a-y)", "x · σ′(z) · 2(a − y)"),
    ("2x(a - y)a(1 - a)", "2x(a − y)·a(1 − a)"),
    ("-(a-y)^2", "−(a − y)²"),
    ("w^(L) * a^(L-1) ** 2", "w⁽ᴸ⁾ · a⁽ᴸ⁻¹⁾²"),
])
def test_echo_unicode(text: str, shown: str) -> None:
    assert echo_unicode(text) == shown


@pytest.mark.parametrize(("answer", "match"), [
    ("dC/db = sigma'(z)*2*(a-y)", "left side is ∂C/∂b, but the question asks for ∂C/∂w"),
    ("x = 1", "left side must be a derivative"),
    ("dC/dw = 1 = 1", "one equation"),
    ("dz/dw * da/dz * dC/da", "factors themselves"),
    ("∂z/∂w · ∂a/∂z · ∂C/∂a", "factors themselves"),
    ("x*sigma'(z)*2*(a-q)", "no node named 'q'"),
    ("x*sigmoidd(z)", "did you mean 'sigmoid'"),
    ("dC/dw = x*sigma'(z)*2*(a-y", r"end of the line at column 27"),
    ("   ", "empty"),
])
def test_answers_it_cannot_take(slide: Checker, answer: str, match: str) -> None:
    with pytest.raises(CheckError, match=match):
        slide.check("dC/dw", answer)


def test_no_question_and_no_left_side(slide: Checker) -> None:
    with pytest.raises(CheckError, match="say which derivative"):
        slide.check(None, RIGHT)


def test_zero_derivative_when_the_node_does_not_feed_the_output() -> None:
    checker = Checker("z = w*x + b; C = z^2; D = q*x")
    assert checker.check("dC/dq", "0").correct is True
    assert checker.check("dC/dq", "x").correct is False


# --- feedback that teaches -------------------------------------------------------------


def test_missing_two_names_the_factor_and_gives_a_counterexample(slide: Checker) -> None:
    r = slide.check("dC/dw", "x*sigma'(z)*(a-y)")
    assert r.correct is False
    assert r.message.startswith("✗ not equal. Your factor ∂C/∂a = (a − y); it is 2(a − y). At w=")
    # One minus sign, the Unicode one, in every number of the message.
    assert re.search(r"At w=−?[\d.]+, x=−?[\d.]+, b=−?[\d.]+, y=−?[\d.]+ yours is −?[\d.]+, "
                     r"the true value −?[\d.]+\.$", r.message)
    assert "-" not in r.message
    bad = [f for f in r.factors if not f.ok]
    assert [(f.symbol, f.yours, f.expected, f.note) for f in bad] == [
        ("∂C/∂a", "(a − y)", "2(a − y)", "constant")]


def test_counterexample_values_are_the_real_ones(slide: Checker) -> None:
    r = slide.check("dC/dw", "x*sigma'(z)*(a-y)")
    at = r.counterexample["at"]
    assert list(at) == ["w", "x", "b", "y"]
    z = at["w"] * at["x"] + at["b"]
    a = 1 / (1 + math.exp(-z))
    true = at["x"] * a * (1 - a) * 2 * (a - at["y"])
    assert r.counterexample["expected"] == pytest.approx(true, rel=1e-12)
    assert r.counterexample["yours"] == pytest.approx(true / 2, rel=1e-12)


@pytest.mark.parametrize(("answer", "sentence"), [
    ("x*2*(a-y)", "Missing factor ∂a/∂z = σ′(z)."),
    ("x*sigma'(z)*2*(y-a)", "Your factor ∂C/∂a = 2(y − a); it is 2(a − y) (the sign is flipped)."),
    ("-x*sigma'(z)*2*(a-y)",
     "Your factor ∂C/∂a = −2(a − y); it is 2(a − y) (the sign is flipped)."),
    ("4*x*sigma'(z)*(a-y)", "Your factor ∂C/∂a = 4(a − y); it is 2(a − y)."),
    ("x*sigma(z)*2*(a-y)", "Your factor ∂a/∂z = σ(z); it is σ′(z)."),
    ("w*x*sigma'(z)*2*(a-y)", "Extra factor w: it is not in the chain."),
    ("x*sigma(z)*(a-y)", "Your factor ∂a/∂z = σ(z) is not right. Your factor ∂C/∂a = (a − y) "
                         "is not right."),
    ("x", "Missing factors ∂a/∂z, ∂C/∂a."),
])
def test_feedback_wording(slide: Checker, answer: str, sentence: str) -> None:
    r = slide.check("dC/dw", answer)
    assert r.correct is False
    assert r.message.startswith(f"✗ not equal. {sentence} At "), r.message


def test_wrong_layer_superscript(chain1: Checker) -> None:
    r = chain1.check("dC0/dw^(L)", "a^(L)*sigma'(z^(L))*2*(a^(L)-y)")
    assert r.message.startswith("✗ not equal. Your factor ∂z⁽ᴸ⁾/∂w⁽ᴸ⁾ = a⁽ᴸ⁾; it is a⁽ᴸ⁻¹⁾ "
                                "(check the layer superscripts). At w⁽ᴸ⁾=")
    assert [f.note for f in r.factors] == ["layer", "", ""]


def test_deep_chain_missing_sigma_prime(chain2: Checker) -> None:
    r = chain2.check("dC0/dw^(L-1)", "a^(L-2)*w^(L)*sigma'(z^(L))*2*(a^(L)-y)")
    assert "Missing factor ∂a⁽ᴸ⁻¹⁾/∂z⁽ᴸ⁻¹⁾ = σ′(z⁽ᴸ⁻¹⁾)." in r.message


def test_squared_cost_factor(chain1: Checker) -> None:
    r = chain1.check("dC0/dw^(L)", "a^(L-1)*sigma'(z^(L))*(a^(L)-y)^2")
    assert "Your factor ∂C₀/∂a⁽ᴸ⁾ = (a⁽ᴸ⁾ − y)²; it is 2(a⁽ᴸ⁾ − y)." in r.message


def test_repeated_weight_reads_as_a_layer_error(chain2: Checker) -> None:
    r = chain2.check("dC0/da^(L-2)", "w^(L)*sigma'(z^(L-1))*w^(L)*sigma'(z^(L))*2*(a^(L)-y)")
    assert ("Your factor ∂z⁽ᴸ⁻¹⁾/∂a⁽ᴸ⁻²⁾ = w⁽ᴸ⁾; it is w⁽ᴸ⁻¹⁾ (check the layer superscripts)."
            in r.message)


def test_deep_chain_with_tiny_values_is_still_compared() -> None:
    # A 20-layer chain's derivative is ~1e-15 at every point: an absolute tolerance
    # would call x equal to 2x.
    graph = examples.chain(20)
    factors = examples_factors(graph, "w^(L-19)")
    checker = Checker(graph)
    assert checker.check("dC/dw^(L-19)", "*".join(factors)).correct is True
    wrong = checker.check("dC/dw^(L-19)", "*".join(factors[:-1] + ["(a^(L) - y)"]))
    assert wrong.correct is False
    assert "Your factor ∂C₀/∂a⁽ᴸ⁾ = (a⁽ᴸ⁾ − y); it is 2(a⁽ᴸ⁾ − y)." in wrong.message


def examples_factors(graph: Graph, wrt: str) -> list[str]:
    from gradgraph import derive

    return [f"({f.expr})" for f in derive(graph, None, wrt).factors[0]]


def test_missing_path() -> None:
    r = check("z = w*x + b; a = sigma(z); C = (a - y)^2 + lambda*w^2", "dC/dw", RIGHT)
    assert "Missing the path w → C: the derivative sums over every path." in r.message


def test_whole_answer_sign_error_without_factors() -> None:
    r = check("z = w*x + b; a = sigma(z); C = (a - y)^2 + lambda*w^2", "dC/dw",
              "-(x*sigma'(z)*2*(a-y) + 2 lambda w)")
    assert "Sign error: yours is the negative of the true value." in r.message


def test_domain_difference_is_named() -> None:
    r = check("C = t*log(p*q)", "dC/dt", "log(p) + log(q)")
    assert r.correct is False and r.reason == "domain differs"
    assert "defined at different points" in r.message
    assert "yours is undefined" in r.message
    assert r.counterexample["yours"] is None


def test_exact_algebra_proves_and_overrules_float_cancellation() -> None:
    expanded = check(SLIDE, "dC/dw", "2*x*sigma'(z)*a - 2*x*sigma'(z)*y")
    assert expanded.correct is True and expanded.proved
    # float64 loses x² next to 10²⁰; the exact expansion shows the answer is right.
    r = check("C = t*x^2", "dC/dt", "(x + 10^10)^2 - 10^20 - 2*10^10*x")
    assert r.correct is True and r.proved


def test_unprovable_but_right_is_accepted_and_says_so() -> None:
    r = check("C = t*relu(x)", "dC/dt", "(x + abs(x))/2")
    assert r.correct is True and not r.proved
    assert re.search(r"\(equal at \d+ points; SymPy could not prove it\)$", r.message)


def test_tanh_identity_that_simplify_cannot_prove_is_accepted() -> None:  # row 17
    r = check("a = tanh(z); C = a", "dC/dz", "1 - ((exp(2z)-1)/(exp(2z)+1))^2")
    assert r.correct is True
    assert r.message == "✓ correct: ∂C/∂z = 1 − ((exp(2z) − 1)/(exp(2z) + 1))²"


def test_too_few_points_is_undecided_never_correct() -> None:
    r = check("C = t*log(-x^2 - 1)", "dC/dt", "log(-x^2-1)")
    assert r.correct is None and r.reason == "too few defined points"
    assert r.message.startswith("? undecided: the true value is defined at only 0 of")


def test_limits_are_used_and_checked() -> None:
    graph = Graph.from_text("C = t*log(p*q)")
    assert check(graph, "dC/dt", "log(p)+log(q)", limits={"p": (0.1, 5), "q": (1, 2)}).correct
    with pytest.raises(CheckError, match="low < high"):
        check(graph, "dC/dt", "log(p)", limits={"p": (5, 1)})
    with pytest.raises(CheckError, match="no node named"):
        check(graph, "dC/dt", "log(p)", limits={"r": (0, 1)})


def test_two_to_three_significant_digits_unless_more_are_needed(slide: Checker) -> None:
    r = slide.check("dC/dw", RIGHT + " + 1e-6")
    m = re.search(r"yours is (\S+), the true value (\S+)\.$", r.message)
    assert m and m.group(1) != m.group(2)
    r = slide.check("dC/dw", "x*sigma'(z)*(a-y)")
    m = re.search(r"yours is (\S+), the true value (\S+)\.$", r.message)
    assert len(m.group(2).strip("−0.")) <= 3


def test_to_dict_is_json_and_reveals_only_on_request(slide: Checker) -> None:
    r = slide.check("dC/dw", "x*sigma'(z)*(a-y)")
    plain = r.to_dict()
    json.dumps(plain, allow_nan=False)
    assert "expected" not in plain
    assert [f["expected"] for f in plain["factors"]] == [None, None, "2(a − y)"]
    revealed = r.to_dict(reveal=True)
    assert revealed["expected"]["factors"] == "x · σ′(z) · 2(a − y)"
    assert revealed["verdict"] == "not equal" and revealed["reason"] == "values differ"


def test_same_answer_same_verdict_and_point(slide: Checker) -> None:
    a = slide.check("dC/dw", "x*sigma'(z)*(a-y)")
    b = check(SLIDE, "dC/dw", "x*sigma'(z)*(a-y)")
    assert a.message == b.message


def test_evaluate_never_generates_code() -> None:
    x = parse_expression("sigma'(x) + relu(x) + abs(x) + log(x)")
    sym = next(iter(x.free_symbols))
    values = evaluate(x, {sym: np.array([-1.0, 0.5])}, 2)
    assert math.isnan(values[0]) and math.isfinite(values[1])


# --- safety: §8 rows 1–11 are refused, quickly, and run nothing -------------------------

PAYLOADS = [
    "__import__('os').system('touch {canary}')",  # 1
    "().__class__.__base__.__subclasses__()",  # 2
    "sin(\"__import__('os').system('touch {canary}')\")",  # 3
    "lambda:1", "[x for x in y]", "f'{{x}}'", "x if y else z", "x;y", "x=1",  # 4
    "9**9**9**9", "((9**9)**999)**999",  # 5
    "1e999999999", "1e309",  # 6
    "factorial(10**10)", "gamma(10**20)",  # 7
    "(" * 5000 + "x" + ")" * 5000, "+".join(["x"] * 20_000), "x" * 10_000_000,  # 8
    "(" * 60 + "x" + ")" * 60,
    "х + 1", "x\x00", "x\ny", "x\"", "x\\",  # 11: Cyrillic х, NUL, newline, quote, backslash
    "open('{canary}', 'w')", "exec('import os')", "eval('1')",
    "__builtins__", "x.__class__", "sigma'(z).func",
]

_audit: list[str] | None = None
_WATCHED = ("os.system", "subprocess.Popen", "os.posix_spawn", "os.exec", "os.spawn",
            "os.fork", "exec", "compile", "open")


def _hook(event: str, args: tuple) -> None:
    if _audit is not None and event.startswith(_WATCHED):
        _audit.append(event)


@pytest.fixture
def audited():  # noqa: ANN201 - yields the list of watched events seen
    global _audit
    if not getattr(sys, "_gradgraph_check_hook", False):
        sys.addaudithook(_hook)  # stays for the session; records only while armed
        sys._gradgraph_check_hook = True  # type: ignore[attr-defined]
    _audit = []
    try:
        yield _audit
    finally:
        _audit = None


@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"p{i}" for i in range(len(PAYLOADS))])
def test_hostile_answers_are_refused_fast_and_run_nothing(payload: str, tmp_path, slide,
                                                          audited) -> None:
    canary = tmp_path / "canary"
    text = payload.replace("{canary}", str(canary))
    start = time.monotonic()
    with pytest.raises(CheckError) as info:
        slide.check("dC/dw", text)
    elapsed = time.monotonic() - start
    assert not canary.exists()
    assert audited == []  # refused before any process, file or code object
    assert elapsed < 0.25
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


@pytest.mark.parametrize("payload", PAYLOADS[:8], ids=[f"q{i}" for i in range(8)])
def test_hostile_questions_are_refused(payload: str, tmp_path, slide) -> None:
    canary = tmp_path / "canary"
    with pytest.raises(GradgraphError):
        slide.check(payload.replace("{canary}", str(canary)), RIGHT)
    assert not canary.exists()


def test_sympy_trap_names_are_plain_variables() -> None:  # row 10
    checker = Checker("z = gamma*x + beta; C = (z - y)^2 + lambda*gamma^2 + E*I*N")
    assert checker.check("dC/dgamma", "2(z - y) x + 2 lambda gamma").correct is True
    assert checker.check("dC/dE", "I*N").correct is True
    assert checker.check("dC/dN", "E*I").correct is True


def test_blow_up_answer_is_undecided_within_the_deadline() -> None:  # row 9
    graph = Graph.from_text("s = a+b+c+d+e+f+g+h; C = s^2")
    start = time.monotonic()
    r = check(graph, "dC/da", "(a+b+c+d+e+f+g+h)**100", deadline=1.0)
    elapsed = time.monotonic() - start
    assert r.correct is None and r.reason == "timeout"
    assert r.message == "? undecided: the check took too long (more than 1 s)"
    assert elapsed < 2.5


def test_the_deadline_is_validated() -> None:
    with pytest.raises(CheckError, match="deadline"):
        Checker(SLIDE, deadline=0)


# --- the deadline holds for every step on untrusted formulas (issue 11, item 2) --------

BIG = "(a+b+c+d+e+f+g+h)**60"


def _nested_ops(levels: int) -> str:
    """f0(x) = x*x; fᵢ(x) = fᵢ₋₁(fᵢ₋₁(x)): fₙ inlines to 2ⁿ operations."""
    lines = ["f0(x) = x*x"] + [f"f{i}(x) = f{i - 1}(f{i - 1}(x))" for i in range(1, levels)]
    return "\n".join([*lines, f"C = f{levels - 1}(w)"])


def _within_deadline(graph: Graph | str, question: str, answer: str, deadline: float = 1.0
                     ) -> CheckResult:
    start = time.monotonic()
    r = check(graph, question, answer, deadline=deadline)
    assert time.monotonic() - start < deadline + 1.5, r.message
    return r


def test_nested_user_ops_are_undecided_within_the_deadline(monkeypatch) -> None:
    # The parser may refuse such a nest up front; the checker must hold without that.
    monkeypatch.setattr("gradgraph.ops.MAX_OP_SIZE", 10**30, raising=False)
    graph = Graph.from_text(_nested_ops(40))
    r = _within_deadline(graph, "dC/dw", "2*w")
    assert r.correct is None and r.reason == "timeout"
    assert r.message == "? undecided: the check took too long (more than 1 s)"


@pytest.mark.parametrize(("graph", "question", "answer"), [
    (f"C = w*{BIG}", "dC/dw", f"{BIG} + 1"),  # in the graph and the answer
    ("p(u) = (u + 1)**60; C = w*p(a+b+c+d+e+f+g+h)", "dC/dw", f"{BIG} + 1"),  # a user op
    (f"C = t*log(-{BIG} - 1)", "dC/dt", "log(-a^2 - 1)"),  # undecided, its domain message
    (f"C = w*{BIG}", "dC/dw", f"{BIG}*(1 + 1e-12)"),  # the numbers agree: near-miss algebra
])
def test_big_polynomials_end_within_the_deadline(graph: str, question: str,
                                                  answer: str) -> None:
    r = _within_deadline(graph, question, answer)
    assert r.correct is not True


def test_a_deep_graph_whose_leaf_form_explodes_ends_within_the_deadline() -> None:
    # uᵢ₊₁ = uᵢ² + uᵢ: written in the leaves the true derivative is a 2⁴⁰-leaf tree; the
    # "undecided" message walks it for the variables to give ranges to.
    lines = ["u1 = x*x + x"] + [f"u{i + 1} = u{i}*u{i} + u{i}" for i in range(1, 40)]
    graph = Graph.from_text("\n".join([*lines, "C = t*log(-u40^2 - 1)"]))
    r = _within_deadline(graph, "dC/dt", "log(-u40^2 - 1)")
    assert r.correct is None


def test_the_parent_evaluates_nothing(monkeypatch, slide) -> None:
    """Every number on the graph's and the answer's formulas is computed in the child
    (killed at the deadline): calls in the child do not reach the parent's list."""
    import os

    from gradgraph import expr_numbers

    calls: list[int] = []
    original = expr_numbers.walk

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(os.getpid())
        return original(*args, **kwargs)

    monkeypatch.setattr(expr_numbers, "walk", spy)
    assert slide.check("dC/dw", RIGHT).correct is True
    assert slide.check("dC/dw", "x*(a-y)").correct is False
    assert calls == []


def test_what_crosses_the_process_boundary_is_plain_data(monkeypatch, slide) -> None:
    from gradgraph import sandbox

    seen: list[object] = []
    original = sandbox.run

    def spy(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        seen.append(original(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(sandbox, "run", spy)
    slide.check("dC/dw", "x*(a-y)")
    slide.check("dC/dw", RIGHT)

    def plain(v: object) -> bool:
        if isinstance(v, dict):
            return all(isinstance(k, str) and plain(x) for k, x in v.items())
        if isinstance(v, list):
            return all(plain(x) for x in v)
        return v is None or type(v) in (str, int, float, bool)

    assert len(seen) == 2 and all(plain(v) for v in seen)


def test_reveal_text_is_written_in_the_child(slide) -> None:
    r = slide.check("dC/dw", "x*(a-y)")
    assert r.revealed is not None and r.revealed["factors"] == "x · σ′(z) · 2(a − y)"
    assert r.to_dict(reveal=True)["expected"]["expanded"] == r.revealed["expanded"]


@pytest.mark.parametrize("bounds", [(1e308, 1.7e308), (-1e13, 0.0), (0.0, math.inf)])
def test_absurd_limits_are_refused(bounds: tuple[float, float]) -> None:
    with pytest.raises(CheckError, match="limits for 'x'"):
        Checker("C = w*x", limits={"x": bounds})


def test_an_answer_undefined_where_the_truth_is_defined_is_not_correct() -> None:
    """Issue #11 item 5: SymPy cancels √(500 − x)/√(500 − x) as the answer is built;
    as typed it is undefined for every x > 500, where ∂C/∂w = x is defined."""
    r = check("C = w*x", "dC/dw", "x*sqrt(500-x)/sqrt(500-x)")
    assert r.correct is False, r.message
    assert r.message.startswith("✗ not equal. Your answer is not defined at x = ")
    assert r.counterexample["at"]["x"] > 500 and r.counterexample["yours"] is None
    note = check("C = w*x", "dC/dw", "x*(x-3)/(x-3)")
    assert note.correct is True and note.message.endswith("(not defined at x = 3)")


def test_rounding_at_large_magnitudes_never_makes_a_right_answer_wrong() -> None:
    """SymPy's form of this derivative divides by log(1 + e^w): 0 in floats once w < -36,
    so at the checker's large-magnitude points it looked wrong (x2) or undefined. Such
    points are confirmed in exact arithmetic and, agreeing there, left out."""
    g = Graph.from_text("f(x) = sigma(x)/x\nv0 = f(softplus(w))\nC = v0 + w*v0")
    d, e = "(exp(w) + 1)", "log(exp(w) + 1)"
    q = f"(1 + 1/{d})"
    answer = (f"-w*exp(w)/({q}*{d}*{e}^2) + w*exp(w)/({q}^2*{d}^2*{e}) + 1/({q}*{e})"
              f" - exp(w)/({q}*{d}*{e}^2) + exp(w)/({q}^2*{d}^2*{e})")
    # Right on the numbers (True), or out of time on a loaded machine: never wrong.
    assert check(g, "dC/dw", answer).correct is not False
    # A real difference at an ordinary point is still found at once.
    assert check(g, "dC/dw", answer + " + 1/(1000*(1 + w^2))").correct is False
