"""Checking a hand derivation: is the learner's ∂C/∂w right, and if not, which factor?

``check(graph, "dC/dw", "x*sigma'(z)*2*(a - y)")`` decides equivalence the way the
tutoring systems that do not lie do it (WeBWorK, Khan KAS, STACK):

1. The answer is read by the safe parser; its names must be nodes of the graph.
2. Both sides are evaluated in float64 at ~30 random points (several ranges, tenths,
   integers, negatives, per-variable ``limits``). Intermediates (z, a) take their forward
   values at each point, which is the same as substituting their definitions, so answers
   in named intermediates, in leaves only, or mixed compare alike; ops use the registry's
   stable numpy kernels. Numbers come from a walk over the SymPy tree with our own
   kernels: nothing is lambdified or exec'd.
3. The sides must be defined (finite) at the same points and agree there (rtol 1e-8;
   atol 1e-12 times the largest true value, since a deep chain's derivative can be tiny
   everywhere). If the true derivative is defined at too few points the answer is
   "undecided" (``correct=None``), never "correct".
4. Exact algebra, as a check on the floats and for the message: the difference, with
   every definition substituted, σ′ written as σ(1 − σ) and each op application taken
   as one opaque symbol, is factored and expanded. An exact zero proves equality and
   overrules a float disagreement (cancellation in the learner's form); this step runs
   under the hard deadline, so a blow-up like (a + … + h)¹⁰⁰ ends "undecided". When the
   numbers agree, a soft-timed attempt (ops written in exp and cancelled, then
   ``simplify``) may still prove it; a right answer SymPy cannot prove is accepted on
   the numbers and says so.
5. On "not equal", the answer is split into multiplicative factors that are matched,
   numerically, against the chain's local partials; the message names the factor that
   differs, a missing or extra factor, a sign or constant error, a wrong layer
   superscript, or a missing path, and gives a counterexample point with both values.

Steps 2–5 touch the learner's expression, so they run in a child process
(:mod:`gradgraph.sandbox`) that is killed at the deadline (default 3 s) and limited in
memory and CPU time; a check that runs out of time is "undecided". This needs the
"fork" start method (Linux, macOS).
"""

from __future__ import annotations

import itertools
import math
import re
import signal
import threading
import time
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from functools import reduce
from typing import Any

import numpy as np
import sympy as sp

from . import ops, sandbox
from .derive import Derivation, derive
from .errors import CheckError, GradgraphError, GraphError, ParseError
from .graph import Graph
from .notation import SUPERSCRIPT, partial_unicode, split_name, to_unicode, unicode_name
from .parse import parse_expression, parse_name, tokenize

DEFAULT_DEADLINE = 3.0
DEFAULT_MEMORY_MB = 1024
MAX_ANSWER = 2_000
MAX_QUESTION = 200
# Relative tolerance, and an absolute one relative to the largest true value: a deep
# chain's derivative can be 1e-13 everywhere, and a plain atol would call 2x equal to x.
RTOL, ATOL = 1e-8, 1e-12
MIN_DEFINED = 10  # points where the true value is defined, below which we do not judge
MAX_FACTORS = 100  # learner factors we try to match
MAX_FREE_FOR_PAIRS = 24  # subsets of 2 (3) are tried among at most this many (12) factors
MAX_SHOWN = 8  # leaf values a counterexample message names
MAX_PATHS_MATCHED = 6  # paths whose subsets we test for "a missing path"

# (count, low, high, kind): the random points, nice ones first, so counterexamples
# read well ("at w=0.3, x=1.2"); integers and negatives catch sqrt(x²) = x.
RANGES = (
    (10, -2.0, 2.0, "tenths"),
    (6, -10.0, 10.0, "tenths"),
    (4, -5.0, 5.0, "integers"),
    (4, 0.1, 3.0, "tenths"),
    (3, -3.0, -0.1, "tenths"),
    (3, -2.0, 2.0, "real"),
)
# Extra points when the true value is rarely defined (logs, square roots of leaves).
POSITIVE = ((30, 0.1, 3.0, "tenths"),)


# --- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class FactorCheck:
    """One local partial of the chain, next to what the learner wrote for it.

    ``symbol`` is ``∂C/∂a`` (empty for an extra factor of the learner's); ``expected``
    the chain's factor, ``2(a − y)`` (None for an extra factor); ``yours`` the learner's
    matching factor(s) (None when missing); ``note`` says how they differ: "missing",
    "extra", "differs", "sign", "constant", "layer" or "" when ``ok``.
    """

    symbol: str
    expected: str | None
    yours: str | None
    ok: bool
    note: str = ""

    def to_dict(self, reveal: bool = False) -> dict[str, Any]:
        # A right factor's expected form equals the learner's; a wrong one's is
        # already named in the message. Everything else waits for --reveal.
        shown = self.expected if (reveal or not self.ok or self.note) else None
        return {"symbol": self.symbol, "yours": self.yours, "expected": shown,
                "ok": self.ok, "note": self.note}


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one answer.

    ``correct`` is True, False, or None for undecided (too few defined points, the
    deadline, a limit). ``message`` is one or two readable lines. ``counterexample`` is
    ``{"at": {leaf: value}, "yours": float | None, "expected": float | None}`` (None
    means undefined there). ``factors`` compares the chain's factors with the learner's.
    ``expected`` is the derivation (show it only when asked). ``reason`` is a short
    machine-readable tag; ``proved`` says whether algebra confirmed the verdict.
    """

    correct: bool | None
    message: str
    question: str
    answer: str
    reason: str
    counterexample: dict[str, Any] | None = None
    factors: tuple[FactorCheck, ...] = ()
    expected: Derivation | None = field(default=None, repr=False)
    proved: bool = False
    points: int = 0

    @property
    def verdict(self) -> str:
        return {True: "correct", False: "not equal", None: "undecided"}[self.correct]

    def __str__(self) -> str:
        return self.message

    def to_dict(self, reveal: bool = False) -> dict[str, Any]:
        """Plain data for JSON; the expected derivation only with ``reveal``."""
        out: dict[str, Any] = {
            "verdict": self.verdict, "correct": self.correct, "message": self.message,
            "question": self.question, "answer": self.answer, "reason": self.reason,
            "proved": self.proved, "points": self.points,
            "counterexample": self.counterexample,
            "factors": [f.to_dict(reveal) for f in self.factors],
        }
        if reveal:
            out["expected"] = _reveal(self.expected)
        return out


def _reveal(d: Derivation | None) -> dict[str, str]:
    if d is None:
        return {"chain": "0", "factors": "0", "expanded": "0"}
    return {"chain": d.chain_unicode(), "factors": d.factors_unicode(),
            "expanded": d.expanded_unicode()}


# --- the public entry points ---------------------------------------------------------


def check(graph: Graph | str, question: str | None, answer: str, *,
          limits: Mapping[str, tuple[float, float]] | None = None,
          deadline: float = DEFAULT_DEADLINE, memory_mb: int = DEFAULT_MEMORY_MB,
          seed: int = 0) -> CheckResult:
    """Check ``answer`` to ``question`` (``"dC/dw"``, ``"∂C₀/∂w⁽ᴸ⁾"``, or just ``"w"``).

    ``answer`` is ``"dC/dw = x*sigma'(z)*2*(a - y)"`` or just its right side; with a left
    side, ``question`` may be None. ``limits`` maps a leaf to the range its random values
    come from (``{"p": (0.1, 5)}``). ``deadline`` bounds the whole check in seconds.
    Raises :class:`CheckError` for a question or answer it cannot read.
    """
    return Checker(graph, limits=limits, deadline=deadline, memory_mb=memory_mb,
                   seed=seed).check(question, answer)


class Checker:
    """Checks many answers on one graph, preparing each question once (batch grading)."""

    def __init__(self, graph: Graph | str, *,
                 limits: Mapping[str, tuple[float, float]] | None = None,
                 deadline: float = DEFAULT_DEADLINE, memory_mb: int = DEFAULT_MEMORY_MB,
                 seed: int = 0):
        self.graph = Graph.from_text(graph) if isinstance(graph, str) else graph
        self.limits = _resolve_limits(self.graph, limits or {})
        if not (isinstance(deadline, int | float) and 0 < deadline <= 600):
            raise CheckError("the deadline is a number of seconds from 0 to 600")
        self.deadline = float(deadline)
        self.memory_mb = memory_mb
        self.seed = seed
        self._prepared: dict[tuple[str, str], _Prepared] = {}

    def check(self, question: str | None, answer: str) -> CheckResult:
        """The verdict on ``answer``; see :func:`check`."""
        if not isinstance(answer, str) or not answer.strip():
            raise CheckError("the answer is empty")
        if len(answer) > MAX_ANSWER:
            raise CheckError(f"the answer is too long (limit {MAX_ANSWER} characters)")
        of, wrt, rhs, offset = self._split(question, answer)
        prep = self._prepare(of, wrt)
        expr = _parse_answer(self.graph, rhs, offset)
        echo = echo_unicode(rhs)
        if not sandbox.FORK_AVAILABLE:
            raise CheckError("checking answers needs the 'fork' start method (Linux, macOS)")
        try:
            report = sandbox.run(_judge, (prep, expr, self.deadline), timeout=self.deadline,
                                 memory_mb=self.memory_mb)
        except sandbox.SandboxTimeout:
            return _undecided(prep, echo, "timeout",
                              f"the check took too long (more than {self.deadline:g} s)")
        except sandbox.SandboxLimitError as e:
            return _undecided(prep, echo, "limit", f"the check was stopped: {e}")
        except GradgraphError:
            raise
        except Exception as e:  # a checker bug must not stop a class's grading
            raise CheckError(f"the checker failed on this answer ({type(e).__name__}: "
                             f"{e})") from e
        return _result(prep, echo, report)

    # --- question and answer text -------------------------------------------------

    def _split(self, question: str | None, answer: str) -> tuple[str, str, str, int]:
        """(of, wrt, right side, column offset of the right side) for the answer."""
        if answer.count("=") > 1:
            raise CheckError("write one equation, dC/dw = …, or just its right side")
        lhs, eq, rhs = answer.partition("=")
        if not eq:
            lhs, rhs = "", answer
        asked = parse_question(self.graph, question) if question and question.strip() else None
        if eq and "/" not in lhs:  # "x = 1" is an assignment, not an answer
            raise CheckError("the left side must be a derivative, as in 'dC/dw = …'")
        given = parse_question(self.graph, lhs) if eq else None
        if asked is None and given is None:
            raise CheckError("say which derivative: write 'dC/dw = …' or give the question")
        if asked and given and asked != given:
            raise CheckError(f"the answer's left side is {partial_unicode(*given)}, but the "
                             f"question asks for {partial_unicode(*asked)}")
        of, wrt = asked or given  # type: ignore[misc]
        offset = len(lhs) + len(eq) + len(rhs) - len(rhs.lstrip())
        return of, wrt, rhs.strip(), offset

    def _prepare(self, of: str, wrt: str) -> _Prepared:
        key = (of, wrt)
        if key not in self._prepared:
            self._prepared[key] = _Prepared.build(self.graph, of, wrt, self.limits, self.seed)
        return self._prepared[key]


def parse_question(graph: Graph, text: str) -> tuple[str, str]:
    """``"dC/dw"``, ``"∂C₀/∂w⁽ᴸ⁾"``, ``"dC0/dw^(L)"`` or ``"w"`` -> (of, wrt) node names."""
    text = text.strip()
    if not text:
        raise CheckError("the question is empty; write it as dC/dw")
    if len(text) > MAX_QUESTION:
        raise CheckError(f"the question is too long (limit {MAX_QUESTION} characters)")
    if "/" not in text:
        return graph.cost, resolve_name(graph, text)
    top, _, bottom = text.partition("/")
    return _derivative_name(graph, top), _derivative_name(graph, bottom)


def _derivative_name(graph: Graph, part: str) -> str:
    """``∂C`` or ``dC`` -> the node name C."""
    part = part.strip()
    if part.startswith("∂"):
        return resolve_name(graph, part[1:])
    if part.startswith("d") and len(part) > 1:
        try:
            return resolve_name(graph, part[1:])
        except CheckError:
            if _exact(graph, part):  # a node really named "dC"
                return _exact(graph, part)  # type: ignore[return-value]
            raise
    raise CheckError(f"cannot read '{part}': write the question as dC/dw or ∂C/∂w")


def _exact(graph: Graph, text: str) -> str | None:
    try:
        return graph.resolve(text)
    except GraphError:
        return None


def resolve_name(graph: Graph, text: str) -> str:
    """The node a user means: exact, canonical (``b⁽ᴸ⁾``), ``C0`` for C₀, or the one
    node with that letter (``C`` for C₀, ``z`` for z⁽ᴸ⁾) when it is unambiguous."""
    text = text.strip()
    found = _exact(graph, text)
    if found is not None:
        return found
    try:
        name = parse_name(text)
    except ParseError:
        raise CheckError(f"'{text}' is not a name") from None
    matches = _loose_matches(graph, name)
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = " or ".join(unicode_name(m) for m in matches)
        raise CheckError(f"'{text}' could be {shown}; write which one, e.g. '{matches[0]}'")
    try:
        graph.resolve(name)
    except GraphError as e:
        raise CheckError(str(e)) from None
    raise CheckError(f"no node named '{text}'")  # pragma: no cover - resolve raised


def _loose_matches(graph: Graph, name: str) -> list[str]:
    base, sub, tag = split_name(name)
    out = []
    for node in graph.nodes:
        if node.generated:
            continue
        nbase, nsub, ntag = split_name(node.name)
        if nbase == base and (sub == nsub or not sub) and (tag == ntag or not tag):
            out.append(node.name)
    return out


def _parse_answer(graph: Graph, rhs: str, offset: int) -> sp.Expr:
    if not rhs:
        raise CheckError("the answer has no right side")
    if "∂" in rhs or re.search(r"(^|[^A-Za-z0-9_])d[A-Za-z]\w*\s*/\s*d[A-Za-z]", rhs):
        raise CheckError("write the factors themselves, e.g. x·σ′(z)·2(a − y), "
                         "not the chain ∂z/∂w · ∂a/∂z · …")
    names = {n.name for n in graph.nodes}
    try:
        expr = parse_expression(rhs, user_ops=graph.user_ops, names=names)
    except ParseError as e:
        raise _shifted(e, offset) from None
    rename = {}
    for s in sorted(expr.free_symbols, key=lambda s: s.name):
        if s.name not in names:
            try:
                rename[s] = graph[resolve_name(graph, s.name)].symbol
            except CheckError as e:
                raise CheckError(f"in the answer: {e}") from None
    return expr.xreplace(rename) if rename else expr


def _shifted(e: ParseError, offset: int) -> CheckError:
    text = str(e)
    if e.column is not None and offset:
        text = text.replace(f"column {e.column}", f"column {e.column + offset}", 1)
    err = CheckError(f"cannot read the answer: {text.replace('at line 1, column', 'at column')}")
    err.column = None if e.column is None else e.column + offset  # type: ignore[attr-defined]
    return err


def _resolve_limits(graph: Graph, limits: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    out = {}
    for name, bounds in limits.items():
        node = resolve_name(graph, name)
        try:
            lo, hi = (float(b) for b in bounds)
        except (TypeError, ValueError):
            raise CheckError(f"limits for '{name}' must be two numbers (low, high)") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise CheckError(f"limits for '{name}' must be finite with low < high")
        out[node] = (lo, hi)
    return out


# --- the Unicode echo of an answer ---------------------------------------------------


def echo_unicode(text: str) -> str:
    """The learner's own text, in the slides' typography: ``x*sigma'(z)*2*(a-y)`` ->
    ``x · σ′(z) · 2(a − y)`` (their order and grouping, not SymPy's)."""
    toks = [t for t in tokenize(text) if t.kind not in ("NL", "EOF")]
    out: list[str] = []
    for i, tok in enumerate(toks):
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        out.append(_echo_token(tok, prev, nxt))
    return "".join(out).strip()


def _echo_token(tok: Any, prev: Any, nxt: Any) -> str:
    if tok.kind == "NAME":
        spec = ops.lookup(tok.text)
        text = spec.unicode if spec is not None else unicode_name(tok.text)
        return ("·" if _juxtaposed(prev) else "") + text
    if tok.kind == "NUM":
        if prev is not None and prev.kind == "OP" and prev.text == "^" and tok.text.isdigit():
            return tok.text.translate(SUPERSCRIPT)
        return ("·" if _juxtaposed(prev) else "") + tok.text
    if tok.kind == "PRIME":
        return "′"
    t = tok.text
    if t == "(":
        return ("·" if prev is not None and prev.kind == "OP" and prev.text == ")" else "") + t
    if t == "*":
        return "" if prev is not None and prev.kind == "NUM" and nxt is not None \
            and (nxt.kind == "NAME" or nxt.text == "(") else " · "
    if t == "-":
        unary = prev is None or (prev.kind == "OP" and prev.text not in (")",))
        return "−" if unary else " − "
    if t == "^" and nxt is not None and nxt.kind == "NUM" and nxt.text.isdigit():
        return ""  # the exponent is written as superscript by the NUM that follows
    if t in ("+", "="):
        return f" {t} "
    return t


def _juxtaposed(prev: Any) -> bool:
    # "a (1 - a)" and "W x" are implicit products; "2x" needs no dot.
    return prev is not None and prev.kind in ("NAME", "PRIME") or (
        prev is not None and prev.kind == "OP" and prev.text == ")")


# --- numbers: sample points, forward values, evaluation ------------------------------


def evaluate(expr: sp.Expr, env: Mapping[sp.Symbol, np.ndarray], n: int) -> np.ndarray:
    """``expr`` at ``n`` points, symbols bound by ``env``; NaN/inf where undefined.

    A walk over the SymPy tree with numpy kernels (the registry's stable ones for ops):
    no code is generated, so no user-chosen name ever reaches ``exec``.
    """
    memo: dict[sp.Basic, Any] = {}
    with np.errstate(all="ignore"):
        out = _ev(sp.sympify(expr), env, memo)
        return np.broadcast_to(np.asarray(out, dtype=float), (n,)).copy()


_FUNCS = {sp.exp: np.exp, sp.log: np.log, sp.tanh: np.tanh, sp.Abs: np.abs,
          sp.sign: np.sign, sp.sin: np.sin, sp.cos: np.cos}


def _ev(e: sp.Basic, env: Mapping[sp.Symbol, np.ndarray], memo: dict[sp.Basic, Any]) -> Any:
    if e in memo:
        return memo[e]
    if isinstance(e, sp.Symbol):
        if e not in env:
            raise CheckError(f"'{e.name}' has no value")
        val = env[e]
    elif e.is_Number or isinstance(e, sp.NumberSymbol):
        val = float(e) if e.is_finite is not False else math.nan
    elif isinstance(e, sp.Add):
        val = reduce(np.add, (_ev(a, env, memo) for a in e.args))
    elif isinstance(e, sp.Mul):
        val = reduce(np.multiply, (_ev(a, env, memo) for a in e.args))
    elif isinstance(e, sp.Pow):
        base = np.asarray(_ev(e.base, env, memo), dtype=float)
        val = np.power(base, _ev(e.exp, env, memo))
    elif isinstance(e, ops.OpFunction | ops.PrimeFunction):
        val = _ev_op(e, _ev(e.args[0], env, memo))
    else:
        val = _ev_function(e, env, memo)
    memo[e] = val
    return val


def _ev_op(e: sp.Expr, arg: Any) -> Any:
    spec = e.spec
    arg = np.asarray(arg, dtype=float)
    if not spec.user_defined:
        name = spec.name if isinstance(e, ops.OpFunction) else f"{spec.name}_prime"
        return _KERNELS[name](arg)
    param, body = spec.body  # a user op: its definition, in registered ops
    if isinstance(e, ops.PrimeFunction):
        body = ops.prime_definition(spec, param)
    return evaluate(body, {param: arg}, arg.size if arg.ndim else 1)


_KERNELS = ops.numeric_kernels()


def _ev_function(e: sp.Basic, env: Mapping[sp.Symbol, np.ndarray],
                 memo: dict[sp.Basic, Any]) -> Any:
    args = [_ev(a, env, memo) for a in e.args]
    if e.func in _FUNCS:
        return _FUNCS[e.func](*args)
    if isinstance(e, sp.Heaviside):
        return np.heaviside(args[0], args[1] if len(args) > 1 else 0.5)
    if isinstance(e, sp.Max | sp.Min):
        return reduce(np.maximum if isinstance(e, sp.Max) else np.minimum, args)
    raise CheckError(f"cannot evaluate {type(e).__name__} numerically")


def sample_points(leaves: Iterable[str], limits: Mapping[str, tuple[float, float]],
                  rng: np.random.Generator,
                  ranges: tuple[tuple[int, float, float, str], ...] = RANGES
                  ) -> dict[str, np.ndarray]:
    """Random values for each leaf, one column per point, in the order of ``ranges``."""
    return {name: np.concatenate([_draw(rng, count, *limits.get(name, (lo, hi)), kind,
                                        name in limits)
                                  for count, lo, hi, kind in ranges])
            for name in leaves}


def _draw(rng: np.random.Generator, count: int, lo: float, hi: float, kind: str,
          limited: bool) -> np.ndarray:
    x = rng.uniform(lo, hi, count)
    if kind == "integers" and not limited:
        return np.round(x)
    if kind in ("tenths", "integers"):
        nice = np.round(x, 1)
        return np.where((nice >= lo) & (nice <= hi), nice, x)
    return x


# --- what the parent prepares once per question --------------------------------------


@dataclass
class _ExpectedFactor:
    symbol: str  # ∂C/∂a
    coeff: sp.Number  # 2 in 2(a − y)
    rest: sp.Expr  # (a − y)
    text: str  # 2(a − y)
    values: np.ndarray  # of ``rest`` at the points


@dataclass
class _Prepared:
    """One question on one graph: the derivation, the points, the true values."""

    graph: Graph
    of: str
    wrt: str
    derivation: Derivation | None
    n: int
    leaf_values: dict[str, np.ndarray]
    env: dict[sp.Symbol, np.ndarray]
    truth: np.ndarray
    factors: list[_ExpectedFactor] | None  # one path only
    paths: list[tuple[str, np.ndarray]]  # (w → z → a → C, values), several paths
    canonical: sp.Expr  # the true derivative, in leaves, primes written out
    shown: tuple[str, ...]  # leaves a counterexample shows

    @property
    def question(self) -> str:
        return partial_unicode(self.of, self.wrt)

    @classmethod
    def build(cls, graph: Graph, of: str, wrt: str, limits: Mapping[str, tuple[float, float]],
              seed: int) -> _Prepared:
        d = _derivation(graph, of, wrt)
        expected = d.expr if d is not None else sp.S.Zero
        rng = np.random.default_rng(seed)
        leaf_values = sample_points(graph.leaves, limits, rng)
        env, n = _forward(graph, leaf_values)
        truth = evaluate(expected, env, n)
        if np.isfinite(truth).sum() < MIN_DEFINED:  # logs, roots: try positive values
            extra = sample_points(graph.leaves, limits, rng, POSITIVE)
            leaf_values = {k: np.concatenate([v, extra[k]]) for k, v in leaf_values.items()}
            env, n = _forward(graph, leaf_values)
            truth = evaluate(expected, env, n)
        return cls(graph, of, wrt, d, n, leaf_values, env, truth,
                   _expected_factors(graph, d, env, n), _path_values(graph, d, env, n),
                   canonical(graph, expected), _shown_leaves(graph, of))


def _derivation(graph: Graph, of: str, wrt: str) -> Derivation | None:
    """The derivation, or None when ``wrt`` does not feed ``of`` (the derivative is 0)."""
    if wrt not in _ancestors(graph, of):
        return None
    return derive(graph, of, wrt)


def _ancestors(graph: Graph, name: str) -> set[str]:
    seen, stack = {name}, [name]
    while stack:
        for p in graph[stack.pop()].parents:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return seen


def _forward(graph: Graph, leaf_values: Mapping[str, np.ndarray]
             ) -> tuple[dict[sp.Symbol, np.ndarray], int]:
    n = len(next(iter(leaf_values.values()))) if leaf_values else 1
    env: dict[sp.Symbol, np.ndarray] = {}
    for node in graph.nodes:
        if node.expr is None:
            env[node.symbol] = leaf_values[node.name]
        else:
            env[node.symbol] = evaluate(node.expr, env, n)
    return env, n


def _expected_factors(graph: Graph, d: Derivation | None, env: Mapping[sp.Symbol, np.ndarray],
                      n: int) -> list[_ExpectedFactor] | None:
    if d is None or len(d.factors) != 1:
        return None
    out = []
    shown = _inline_generated(graph)
    for f in d.factors[0]:
        coeff, rest = f.expr.as_coeff_Mul()
        out.append(_ExpectedFactor(f.symbol_unicode, coeff, rest,
                                   _factor_text(f.expr.xreplace(shown), graph.order),
                                   evaluate(rest, env, n)))
    return out


def _inline_generated(graph: Graph) -> dict[sp.Symbol, sp.Expr]:
    """Generated nodes (u1 = p·q inside log(p·q)) -> their definitions, for messages:
    the learner never wrote u₁."""
    memo: dict[sp.Symbol, sp.Expr] = {}
    for node in graph.nodes:
        if node.generated and node.expr is not None:
            memo[node.symbol] = node.expr.xreplace(memo)
    return memo


def _path_values(graph: Graph, d: Derivation | None, env: Mapping[sp.Symbol, np.ndarray],
                 n: int) -> list[tuple[str, np.ndarray]]:
    if d is None or len(d.factors) < 2:
        return []
    return [(" → ".join(unicode_name(p) for p in path),
             evaluate(sp.Mul(*(f.expr for f in fs)), env, n))
            for path, fs in zip(d.paths, d.factors, strict=True)]


def _shown_leaves(graph: Graph, of: str) -> tuple[str, ...]:
    feeding = _ancestors(graph, of)
    return tuple(sorted((n for n in graph.leaves if n in feeding),
                        key=lambda n: graph.order.get(n, 10**6)))


def canonical(graph: Graph, expr: sp.Expr) -> sp.Expr:
    """``expr`` in the leaves, with every prime written out (σ′(u) -> σ(u)(1 − σ(u)))
    and ops kept as opaque functions: the form exact algebra compares."""
    memo: dict[sp.Symbol, sp.Expr] = {}
    for node in graph.nodes:
        if node.expr is not None:
            memo[node.symbol] = node.expr.xreplace(memo)
    return _write_primes(sp.sympify(expr).xreplace(memo), {})


def _write_primes(e: sp.Expr, memo: dict[sp.Expr, sp.Expr], depth: int = 0) -> sp.Expr:
    if e in memo:
        return memo[e]
    if isinstance(e, ops.PrimeFunction) and depth < 8:
        inner = _write_primes(e.args[0], memo, depth)
        out = _write_primes(ops.prime_definition(e.spec, inner), memo, depth + 1)
    elif e.args and not isinstance(e, sp.Symbol):
        out = e.func(*[_write_primes(a, memo, depth) for a in e.args])
    else:
        out = e
    memo[e] = out
    return out


# --- the child: everything that touches the learner's expression ---------------------


class _SoftTimeout(Exception):
    """The part of the child's budget given to ``simplify`` ran out."""


def _judge(prep: _Prepared, answer: sp.Expr, deadline: float) -> dict[str, Any]:
    """Runs in the sandbox: the verdict as plain data (see :func:`_result`)."""
    start = time.monotonic()
    yours = evaluate(answer, prep.env, prep.n)
    status, index, defined = compare(yours, prep.truth)
    report: dict[str, Any] = {
        "status": status, "index": index, "defined": defined,
        "yours": _value(yours, index), "truth": _value(prep.truth, index),
        "ratio": _proportional(yours, prep.truth), "factors": [], "notes": [],
        "exact": False, "proved": False,
    }
    if status == "few":
        return report
    try:  # for a right answer too: .factors shows what matched what
        report["factors"], report["notes"] = _feedback(prep, answer, yours)
    except Exception:  # noqa: BLE001 - feedback is a bonus; the verdict stands without it
        pass
    try:
        difference = canonical(prep.graph, answer) - prep.canonical
        report["exact"] = _exactly_zero(difference)  # hard deadline: may be killed
    except Exception:  # noqa: BLE001 - SymPy gave up (PolynomialError, ...): not proved
        return report
    budget = 0.6 * deadline - (time.monotonic() - start)
    report["proved"] = report["exact"] or (status == "equal" and _proves_zero(difference, budget))
    return report


def _exactly_zero(difference: sp.Expr) -> bool:
    """Exact algebra with ops as opaque functions: is ``difference`` identically 0?

    Each op application becomes one symbol (equal applications, equal symbols), so the
    algebra never descends into a deep chain's nested σ(w·σ(…) + b). The chain's common
    factors come out first (a wrong answer often differs from the right one by a
    factor, and expanding a 2ⁿ-term product would be wasted work); a product is zero
    when one of its factors is, so only those are expanded. A genuine blow-up such as
    (a + … + h)¹⁰⁰ runs into the deadline: "undecided".
    """
    if difference == 0:
        return True
    factored = sp.factor_terms(_atomize(difference, {}, {}))
    if factored == 0:
        return True
    for f in sp.Mul.make_args(factored):
        base = f.base if f.is_Pow and f.exp.is_positive else f
        if not base.is_Number and sp.expand(base) == 0:
            return True
    return False


def _atomize(e: sp.Expr, memo: dict[sp.Expr, sp.Expr], atoms: dict[sp.Expr, sp.Symbol]
             ) -> sp.Expr:
    """``e`` with every function application replaced by a symbol of its own."""
    if e in memo:
        return memo[e]
    if not e.args or isinstance(e, sp.Symbol):
        out = e
    elif isinstance(e, sp.Function):
        key = e.func(*[sp.expand(_atomize(a, memo, atoms)) for a in e.args])
        out = atoms.setdefault(key, sp.Dummy(f"f{len(atoms)}"))
    else:
        out = e.func(*[_atomize(a, memo, atoms) for a in e.args])
    memo[e] = out
    return out


def _value(values: np.ndarray, index: int | None) -> float | None:
    if index is None or not math.isfinite(values[index]):
        return None
    return float(values[index])


def compare(yours: np.ndarray, truth: np.ndarray) -> tuple[str, int | None, int]:
    """("equal" | "differ" | "domain" | "few", a counterexample index, defined points)."""
    fy, ft = np.isfinite(yours), np.isfinite(truth)
    both = fy & ft
    if ft.sum() < MIN_DEFINED:
        return "few", None, int(ft.sum())
    close = np.zeros_like(both)
    with np.errstate(all="ignore"):
        close[both] = np.abs(yours[both] - truth[both]) <= _atol(truth) + RTOL * np.maximum(
            np.abs(yours[both]), np.abs(truth[both]))
    differ = np.flatnonzero(both & ~close)
    if differ.size:
        return "differ", int(differ[0]), int(both.sum())
    pattern = np.flatnonzero(fy != ft)
    if pattern.size:
        return "domain", int(pattern[0]), int(both.sum())
    return "equal", None, int(both.sum())


def _atol(values: np.ndarray) -> float:
    """ATOL times the largest finite magnitude in ``values`` (1e-15 if all are zero)."""
    finite = np.abs(values[np.isfinite(values)])
    scale = float(finite.max()) if finite.size else 0.0
    return ATOL * scale if scale > 0 else 1e-15


def _proportional(u: np.ndarray, v: np.ndarray) -> float | None:
    """k when u = k·v at every point (same defined points, k ≠ 0), else None."""
    fu, fv = np.isfinite(u), np.isfinite(v)
    if not np.array_equal(fu, fv):
        return None
    ok = fu & fv
    with np.errstate(all="ignore"):
        zero_v = ok & (np.abs(v) <= _atol(v))
        if np.any(np.abs(u[zero_v]) > 1e3 * _atol(u)):
            return None
        use = ok & ~zero_v
        if use.sum() < 5:
            return None
        ratios = u[use] / v[use]
    k = float(np.median(ratios))
    if k == 0 or not math.isfinite(k):
        return None
    if np.all(np.abs(ratios - k) <= 1e-7 * max(1.0, abs(k))):
        return k
    return None


@contextmanager
def _soft_deadline(seconds: float):  # noqa: ANN202 - a context manager
    """Raise :class:`_SoftTimeout` after ``seconds`` (main thread of a POSIX child)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def alarm(signum: int, frame: Any) -> None:  # noqa: ARG001
        raise _SoftTimeout

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _proves_zero(difference: sp.Expr, budget: float) -> bool:
    """Try to prove ``difference`` = 0: ops written out in exp and cancelled, then
    ``simplify``. Only to say "proved": the verdict stands on the numbers, so slow
    algebra is cut short here (soft deadline) instead of costing the whole check."""
    if budget < 0.05:
        return False
    try:
        with _soft_deadline(budget):
            written = ops.elementary(difference).rewrite(sp.exp)
            return sp.cancel(sp.expand(written)) == 0 or sp.simplify(difference) == 0
    except Exception:  # noqa: BLE001 - _SoftTimeout or SymPy giving up: only "proved" is at stake
        return False


# --- factor feedback (in the child) --------------------------------------------------


def _feedback(prep: _Prepared, answer: sp.Expr, yours: np.ndarray
              ) -> tuple[list[dict[str, Any]], list[str]]:
    if prep.factors is not None:
        return _factor_feedback(prep, answer)
    if prep.paths:
        return [], _path_feedback(prep.paths, yours)
    return [], []


def _learner_factors(answer: sp.Expr, split_powers: bool) -> tuple[sp.Number, list[sp.Expr]]:
    """The numeric coefficient and the other factors: 2x(a − y)σ′(z) -> 2, [x, a − y, σ′(z)].

    A power is one factor ((a − y)² for 2(a − y) reads "your factor … = (a − y)²"), or,
    with ``split_powers``, its base repeated (w⁽ᴸ⁾² may be w⁽ᴸ⁾ written for w⁽ᴸ⁻¹⁾).
    """
    coeff, rest = sp.factor_terms(answer).as_coeff_Mul()
    out: list[sp.Expr] = []
    for f in sp.Mul.make_args(rest):
        if split_powers and f.is_Pow and f.exp.is_Integer and 2 <= f.exp <= 6:
            out.extend([f.base] * int(f.exp))
        elif f != 1:
            out.append(f)
    return coeff, out


def _factor_feedback(prep: _Prepared, answer: sp.Expr) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows for the reading of the answer's factors that leaves the fewest wrong."""
    readings = [_factor_rows(prep, *_learner_factors(answer, split)) for split in (False, True)]
    best = min(readings, key=lambda rows: sum(not r.ok for r in rows))
    return [r.__dict__ for r in best], []


def _factor_rows(prep: _Prepared, coeff: sp.Number, learner: list[sp.Expr]
                 ) -> list[FactorCheck]:
    expected = prep.factors or []
    if len(learner) > MAX_FACTORS:
        return []
    values = [evaluate(f, prep.env, prep.n) for f in learner]
    groups = _match(expected, values)
    used = {j for idx, _ in groups.values() for j in idx}
    left = [j for j in range(len(learner)) if j not in used]
    owner = _coefficient_owner(expected, groups, coeff)
    order = prep.graph.order
    unmatched = [i for i in range(len(expected)) if i not in groups]
    rows = [_factor_row(i, ef, groups.get(i), learner, left,
                        coeff if owner == i else sp.S.One, len(unmatched) == 1, order)
            for i, ef in enumerate(expected)]
    if left and len(unmatched) != 1:
        rows += [FactorCheck("", None, _factor_text(learner[j], order), False, "extra")
                 for j in left]
    if owner is None and coeff != 1:
        rows.append(FactorCheck("", None, _number_text(coeff), False, "extra"))
    return rows


def _match(expected: list[_ExpectedFactor], values: list[np.ndarray]
           ) -> dict[int, tuple[tuple[int, ...], float]]:
    """Expected factor -> (learner factors whose product is k × it, k); small groups first,
    exact matches (k = 1) before multiples."""
    groups: dict[int, tuple[tuple[int, ...], float]] = {
        i: ((), 1.0) for i, ef in enumerate(expected) if ef.rest == 1}
    used: set[int] = set()
    for size in (1, 2, 3):
        for exact in (True, False):
            for i, ef in enumerate(expected):
                if i in groups:
                    continue
                found = _find_group(ef, values, used, size, exact)
                if found is not None:
                    groups[i] = found
                    used.update(found[0])
    return groups


def _find_group(ef: _ExpectedFactor, values: list[np.ndarray], used: set[int], size: int,
                exact: bool) -> tuple[tuple[int, ...], float] | None:
    free = [j for j in range(len(values)) if j not in used]
    if len(free) > MAX_FREE_FOR_PAIRS // (size - 1 or 1) and size > 1:
        return None  # too many combinations to be worth it
    for combo in itertools.combinations(free, size):
        with np.errstate(all="ignore"):
            product = reduce(np.multiply, (values[j] for j in combo))
        k = _proportional(product, ef.values)
        if k is not None and (not exact or abs(k - 1) <= 1e-7):
            return combo, k
    return None


def _coefficient_owner(expected: list[_ExpectedFactor],
                       groups: Mapping[int, tuple[tuple[int, ...], float]],
                       coeff: sp.Number) -> int | None:
    """The chain factor the learner's loose number (the 2 of 2x…) belongs to: the one
    that leaves the fewest factors wrong; ties go to a factor with a number of its own."""
    c = float(coeff)

    def wrong(owner: int | None) -> tuple[int, int, int]:
        count = 0 if owner is not None or c == 1 else 1
        for i, ef in enumerate(expected):
            if i not in groups:
                count += 1
                continue
            k = groups[i][1] * (c if i == owner else 1.0)
            count += not _close(k, float(ef.coeff))
        has_own = owner is not None and expected[owner].coeff != 1
        return count, -has_own, -(owner if owner is not None else -1)

    candidates: list[int | None] = [None, *range(len(expected))]
    return min(candidates, key=wrong)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-7 * max(1.0, abs(b))


def _factor_row(i: int, ef: _ExpectedFactor, group: tuple[tuple[int, ...], float] | None,
                learner: list[sp.Expr], left: list[int], coeff: sp.Number, single: bool,
                order: Mapping[str, int]) -> FactorCheck:
    if group is None:
        if not left:
            return FactorCheck(ef.symbol, ef.text, None, False, "missing")
        if not single:  # several chain factors unmatched: no one-to-one story to tell
            return FactorCheck(ef.symbol, ef.text, None, False, "differs")
        mine = sp.Mul(*(learner[j] for j in left))
        note = "layer" if _layer_swap(mine, ef.rest) else "differs"
        return FactorCheck(ef.symbol, ef.text, _with_coeff(coeff, [mine], order), False, note)
    idx, k = group
    text = _with_coeff(coeff, [learner[j] for j in idx], order) if idx else _number_text(coeff)
    mine = k * float(coeff)
    if _close(mine, float(ef.coeff)):
        return FactorCheck(ef.symbol, ef.text, text, True)
    note = "sign" if _close(mine, -float(ef.coeff)) else "constant"
    return FactorCheck(ef.symbol, ef.text, text, False, note)


def _layer_swap(mine: sp.Expr, rest: sp.Expr) -> tuple[str, str] | None:
    """(yours, the right one) when ``mine`` is ``rest`` with one name's layer changed."""
    want = {split_name(s.name)[:2]: s for s in rest.free_symbols}
    for s in mine.free_symbols:
        right = want.get(split_name(s.name)[:2])
        if right is not None and right != s and mine.xreplace({s: right}) == rest:
            return unicode_name(s.name), unicode_name(right.name)
    return None


def _path_feedback(paths: list[tuple[str, np.ndarray]], yours: np.ndarray) -> list[str]:
    """"Missing the path …" when the answer is the sum over some of the paths only."""
    if len(paths) > MAX_PATHS_MATCHED:
        return []
    for size in range(len(paths) - 1, 0, -1):
        for combo in itertools.combinations(range(len(paths)), size):
            with np.errstate(all="ignore"):
                total = reduce(np.add, (paths[i][1] for i in combo))
            if _near_one(_proportional(yours, total)):
                missing = [paths[i][0] for i in range(len(paths)) if i not in combo]
                return [f"Missing the path{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(missing)}: the derivative sums over every path."]
    return []


def _near_one(k: float | None) -> bool:
    return k is not None and _close(k, 1.0)


def _factor_text(expr: sp.Expr, order: Mapping[str, int]) -> str:
    text = to_unicode(expr, order)
    return f"({text})" if isinstance(expr, sp.Add) else text


def _with_coeff(coeff: sp.Number, parts: list[sp.Expr], order: Mapping[str, int]) -> str:
    if coeff == 1:
        return _factor_text(sp.Mul(*parts), order) if len(parts) == 1 else \
            to_unicode(sp.Mul(*parts, evaluate=False), order)
    return to_unicode(sp.Mul(coeff, *parts, evaluate=False), order)


def _number_text(c: sp.Number) -> str:
    return to_unicode(c)


# --- messages (in the parent) --------------------------------------------------------


def _undecided(prep: _Prepared, echo: str, reason: str, why: str) -> CheckResult:
    return CheckResult(None, f"? undecided: {why}", prep.question, echo, reason,
                       expected=prep.derivation)


def _result(prep: _Prepared, echo: str, report: Mapping[str, Any]) -> CheckResult:
    status, exact = report["status"], report["exact"]
    factors = tuple(FactorCheck(**f) for f in report["factors"])
    if status == "equal" or (status == "differ" and exact):
        # An exact zero overrules a float disagreement (rounding in the learner's form).
        proved = bool(report["proved"])
        tail = "" if proved else \
            f" (equal at {report['defined']} points; SymPy could not prove it)"
        return CheckResult(True, f"✓ correct: {prep.question} = {echo}{tail}", prep.question,
                           echo, "equal", None, _all_ok(prep, factors), prep.derivation,
                           proved, report["defined"])
    if status == "few":
        why = (f"the true value is defined at only {report['defined']} of {prep.n} test "
               "points; give limits for the variables")
        return _undecided(prep, echo, "too few defined points", why)
    if status == "domain" and exact:
        why = "the two sides agree algebraically but are defined at different points"
        return _undecided(prep, echo, "domain", why)
    return _wrong(prep, echo, report, factors)


def _all_ok(prep: _Prepared, factors: tuple[FactorCheck, ...]) -> tuple[FactorCheck, ...]:
    """A right answer's factors: as matched, or unmatched but right (a sum, say)."""
    if prep.factors is None:
        return ()
    if factors and all(f.ok for f in factors):
        return factors
    return tuple(FactorCheck(ef.symbol, ef.text, None, True) for ef in prep.factors)


def _wrong(prep: _Prepared, echo: str, report: Mapping[str, Any],
           factors: tuple[FactorCheck, ...]) -> CheckResult:
    parts = _factor_sentences(prep, factors) + list(report["notes"])
    ratio = report["ratio"]
    if not parts and ratio is not None:
        parts.append(_ratio_sentence(ratio))
    if report["status"] == "domain":
        parts.append("The two sides are defined at different points (the domains differ).")
    index = report["index"]
    example = _counterexample(prep, index, report["yours"], report["truth"])
    parts.append(_example_sentence(prep, example))
    message = "✗ not equal. " + " ".join(p for p in parts if p)
    reason = "domain differs" if report["status"] == "domain" else "values differ"
    return CheckResult(False, message, prep.question, echo, reason, example, factors,
                       prep.derivation, bool(report["proved"]), report["defined"])


def _factor_sentences(prep: _Prepared, factors: tuple[FactorCheck, ...]) -> list[str]:
    """What the factor match says, revealing the right form of one factor at most:
    the rest of the derivation stays for --reveal."""
    wrong = [f for f in factors if not f.ok]
    if not wrong:
        return []
    if sum(1 for f in wrong if f.note == "differs" and f.yours is None) > 1:
        chain = " · ".join(ef.symbol for ef in prep.factors or [])
        return [f"Your answer does not split into the chain's factors {chain}."]
    if len(wrong) == 1:
        return [_factor_sentence(wrong[0])]
    missing = [f.symbol for f in wrong if f.note == "missing"]
    out = [f"Missing factors {', '.join(missing)}."] if len(missing) > 1 else []
    return out + [_short_sentence(f) for f in wrong if len(missing) < 2 or f.note != "missing"]


def _factor_sentence(f: FactorCheck) -> str:
    if f.note == "missing":
        return f"Missing factor {f.symbol} = {f.expected}."
    if f.note == "extra":
        return f"Extra factor {f.yours}: it is not in the chain."
    if f.yours is None:
        return f"Check the factor {f.symbol}."
    head = f"Your factor {f.symbol} = {f.yours}; it is {f.expected}"
    if f.note == "sign":
        return head + " (the sign is flipped)."
    if f.note == "layer":
        return head + " (check the layer superscripts)."
    return head + "."


def _short_sentence(f: FactorCheck) -> str:
    if f.note == "missing":
        return f"Missing factor {f.symbol}."
    if f.note == "extra":
        return f"Extra factor {f.yours}."
    if f.yours is None:
        return f"Check the factor {f.symbol}."
    tail = {"sign": " (the sign)", "layer": " (the layer superscripts)"}.get(f.note, "")
    return f"Your factor {f.symbol} = {f.yours} is not right{tail}."


def _ratio_sentence(ratio: float) -> str:
    if _close(ratio, -1.0):
        return "Sign error: yours is the negative of the true value."
    return f"Yours is {_nice_number(ratio)} × the true value."


def _nice_number(k: float) -> str:
    frac = Fraction(k).limit_denominator(100)
    if _close(float(frac), k):
        text = str(frac)
    else:
        text = f"{k:.3g}"
    return text.replace("-", "−")


def _counterexample(prep: _Prepared, index: int | None, yours: float | None,
                    truth: float | None) -> dict[str, Any] | None:
    if index is None:
        return None
    at = {name: float(prep.leaf_values[name][index]) for name in prep.shown}
    return {"at": at, "yours": yours, "expected": truth}


def _example_sentence(prep: _Prepared, example: dict[str, Any] | None) -> str:
    if example is None:
        return ""
    items = [f"{unicode_name(k)}={_leaf_number(v)}" for k, v in example["at"].items()]
    if len(items) > MAX_SHOWN:  # the full point is in .counterexample
        items = [*items[:MAX_SHOWN], f"… ({len(items) - MAX_SHOWN} more)"]
    where = ", ".join(items)
    mine, truth = _pair(example["yours"], example["expected"])
    return f"At {where} yours is {mine}, the true value {truth}."


def _leaf_number(v: float) -> str:
    return f"{v:.3g}"


def _pair(a: float | None, b: float | None) -> tuple[str, str]:
    """Both values with 2–3 significant digits, more only if needed to tell them apart."""
    if a is None or b is None:
        return _number(a, 2), _number(b, 2)
    for digits in range(2, 13):
        sa, sb = _number(a, digits), _number(b, digits)
        if sa != sb:
            return sa, sb
    return _number(a, 13), _number(b, 13)


def _number(v: float | None, digits: int) -> str:
    if v is None:
        return "undefined"
    return f"{v:.{digits}g}".replace("-", "−")


__all__ = ["CheckResult", "Checker", "FactorCheck", "check", "compare", "echo_unicode",
           "evaluate", "parse_question", "resolve_name", "sample_points"]
