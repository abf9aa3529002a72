"""The answer's domain as typed: where what the learner wrote is a real number.

SymPy cancels √(500 − x)/√(500 − x) as the answer is built, so the judge compares x
with x; as typed, the answer is undefined for every x > 500, where ∂C/∂w = x is
defined. The parent therefore reads the answer a second time, through the same safe
parser, under SymPy's ``evaluate(False)``: nothing cancels, and every square root,
log, op application, fractional power and denominator the text holds stays in the
tree as a *condition* (a node whose value may be undefined where its arguments are
not). The child evaluates each condition at the checker's points (their boundaries
are straddled like kinks): a condition that fails on a set of positive measure where
the true value is defined makes the answer wrong; one that fails only at isolated
points (a denominator's roots) is a note.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any, NamedTuple

import numpy as np
import sympy as sp
from sympy.core.parameters import evaluate as sympy_evaluate

from .. import ops
from ..graph import Graph
from ..notation import unicode_name
from .display import leaf_number
from .numbers import evaluate, evaluate_flagged
from .prepare import Prepared, canonical

MAX_CONDITIONS = 24  # nodes of the typed answer whose domain is checked
MAX_NODES = 5_000  # the typed tree's nodes visited looking for them
# The precision a failure in floats is confirmed in: 1 − σ(−3000) is 1 − e⁻³⁰⁰⁰,
# which is 0 in floats (and in SymPy's evalf at 60 digits).
DIGITS = 1500
MAX_CONFIRMED = 12  # points confirmed in that precision, per answer
PER_CONDITION = 3  # and per condition
MAX_NUDGED = 8  # failing points per condition tried for a set of positive measure
NUDGES = 4  # nearby points a failure must persist at to count as a set of positive measure
_D, _E = sp.Dummy("d", real=True), sp.Dummy("e", real=True)
_PROBE = np.concatenate([-np.logspace(4, -3, 80), [0.0], np.logspace(-3, 4, 80)])


class Condition(NamedTuple):
    """A node of the typed answer that may be undefined where its arguments are
    defined: ``kind`` is "power" (``base^exp``, exp not a whole number ≥ 0) or
    "function" (one argument: √, log, an op); ``node`` the node as typed."""

    kind: str
    node: sp.Expr


def typed_answer(graph: Graph, rhs: str, offset: int) -> sp.Expr | None:
    """The right side as typed (nothing cancelled), every name a node's symbol; None
    when the parser does not take it unevaluated (then no conditions are checked).

    Raises :class:`CheckError` for a name that is no node even if it cancels (``x/x``
    on a graph without x: the built answer has lost it)."""
    from .question import answer_name, parse_right_side  # the checker's own reading

    names = {n.name for n in graph.nodes}
    try:
        with sympy_evaluate(False):
            tree = parse_right_side(graph, rhs, offset, names)
    except Exception:  # noqa: BLE001 - any construct that breaks unevaluated: no conditions
        return None
    rename = {s: graph[answer_name(graph, s.name)].symbol
              for s in sorted(tree.free_symbols, key=lambda s: s.name) if s.name not in names}
    try:
        with sympy_evaluate(False):
            return tree.xreplace(rename) if rename else tree
    except Exception:  # noqa: BLE001 - as above
        return None


def conditions(typed: sp.Expr) -> list[Condition]:
    """The typed answer's nodes that restrict its domain, each once, at most
    :data:`MAX_CONDITIONS`: roots, logs and fractional powers first (undefined on
    intervals), then denominators (often on isolated points only)."""
    found: dict[sp.Expr, Condition] = {}
    for e in _nodes(typed):
        if isinstance(e, sp.Pow) and not _whole_nonnegative(e.exp):
            found.setdefault(e, Condition("power", e))
        elif isinstance(e, sp.Function) and len(e.args) == 1 and \
                not e.args[0].is_Number and _restricting(e.func):
            found.setdefault(e, Condition("function", e))
    ranked = sorted(found.values(), key=lambda c: c.kind == "power" and _whole(c.node.exp))
    return ranked[:MAX_CONDITIONS]


@cache
def _restricting(func: type) -> bool:
    """Whether a one-argument function is undefined somewhere on ±10⁴ (√, log, a user
    op built on them), not counting overflow (eˣ): σ, tanh, relu restrict nothing, and
    leave the room under :data:`MAX_CONDITIONS` to those that do."""
    try:
        out = evaluate_flagged(func(_D), {_D: _PROBE}, _PROBE.size)
    except Exception:  # noqa: BLE001 - a head we cannot probe: check it at the points
        return True
    return bool(np.any(~np.isfinite(out.values) & ~out.flags))


def _nodes(expr: sp.Expr) -> Iterator[sp.Basic]:
    """Each node once, at most :data:`MAX_NODES` (iteratively: a deep tree is fine)."""
    stack, seen = [expr], set()
    while stack and len(seen) < MAX_NODES:
        e = stack.pop()
        if e in seen or not e.args:
            continue
        seen.add(e)
        yield e
        stack.extend(e.args)


def _whole_nonnegative(exp: sp.Expr) -> bool:
    return _whole(exp) and bool(_number(exp) >= 0)  # type: ignore[operator]


def _whole(exp: sp.Expr) -> bool:
    """Whether a power's exponent is a constant whole number (1/x: a denominator)."""
    value = None if exp.free_symbols else _number(exp)
    return value is not None and value == int(value)


def _number(e: sp.Expr) -> float | None:
    """A constant exponent's value (typed unevaluated: ``1/2`` is 1·2⁻¹)."""
    try:
        value = float(evaluate(e, {}, 1)[0])
    except Exception:  # noqa: BLE001 - a head without a kernel: not a number we know
        return None
    return value if math.isfinite(value) else None


def rebuilt(e: sp.Expr) -> sp.Expr:
    """``e`` built again with SymPy's evaluation on (the typed tree's parts, cancelled
    where they cancel: each inner restriction is its own condition)."""
    return ops.fold_dag(e, lambda n, memo: n.func(*[memo[a] for a in n.args])
                        if n.args else n)


def boundaries(graph: Graph, conds: list[Condition]) -> list[sp.Expr]:
    """Formulas whose kinks are the conditions' boundaries (a radicand's zero, a
    denominator's roots), for the points to straddle them."""
    out = []
    for c in conds:
        arg = c.node.base if c.kind == "power" else c.node.args[0]
        out.append(sp.Heaviside(rebuilt(arg)))
    return [canonical(graph, b) for b in out]


# --- in the child: the conditions at the points -------------------------------------


class _Node:
    """One condition in the child: its arguments built again, and (when asked) the
    node in the leaves, for the nudged points."""

    def __init__(self, prep: Prepared, c: Condition):
        self.prep, self.kind, self.func = prep, c.kind, c.node.func
        self.exp = c.node.exp if c.kind == "power" else None
        self.args = [rebuilt(a) for a in c.node.args]
        self._in_leaves: list[sp.Expr] | None = None

    def in_leaves(self) -> list[sp.Expr]:
        if self._in_leaves is None:
            self._in_leaves = [canonical(self.prep.graph, a) for a in self.args]
        return self._in_leaves

    def failing(self, args: list[sp.Expr], env: Mapping[sp.Symbol, np.ndarray], n: int,
                flags: Mapping[sp.Symbol, np.ndarray] | None = None) -> np.ndarray:
        """Where the node is undefined although what it is applied to is defined and
        in float range (an underflowed denominator is no hole)."""
        parts = [evaluate_flagged(a, env, n, flags) for a in args]
        ok = np.ones(n, dtype=bool)
        for p in parts:
            ok &= np.isfinite(p.values) & ~p.flags
        # The node applied to dummies: its range flags tell overflow (e¹⁰⁰⁰) from a hole.
        if self.kind == "power":
            node = sp.Pow(_D, _E, evaluate=False)
            env_d = {_D: parts[0].values, _E: parts[1].values}
        else:
            node, env_d = self.func(_D), {_D: parts[0].values}
        out = evaluate_flagged(node, env_d, n)
        return ok & ~np.isfinite(out.values) & ~out.flags

    def persists(self, i: int) -> bool:
        """Whether the node is undefined at points near point ``i`` too (every leaf
        nudged a little, at random): a set of positive measure, not an isolated root."""
        rng = np.random.default_rng(i)
        env = {}
        for name, values in self.prep.leaf_values.items():
            v = float(values[i])
            size = 1e-4 * max(1.0, abs(v))
            env[self.prep.graph[name].symbol] = v + size * rng.uniform(-1, 1, NUDGES)
        return bool(np.all(self.failing(self.in_leaves(), env, NUDGES)))

    def confirmed(self, i: int) -> bool:
        """Whether the node is undefined at point ``i`` in :data:`DIGITS` digits too:
        1 − σ(−62) is 1.0 in floats, and log of it 0, but not in fact."""
        env = {self.prep.graph[n].symbol: float(v[i]) for n, v in self.prep.leaf_values.items()}
        args = [_precise(a, env) for a in self.in_leaves()]
        if any(a is None for a in args):
            return False
        if self.kind == "power":
            base, exp = args
            if not (base.is_real and exp.is_real):
                return False
            if base == 0:
                return bool(exp < 0)
            return bool(base < 0 and not float(exp).is_integer())
        value = _precise(self.func(_D), {_D: args[0]})
        return value is not None and not (value.is_real and value.is_finite)

    def leaves(self) -> list[str]:
        """The leaves the node depends on (what the message names), in written order."""
        free = {s.name for a in self.in_leaves() for s in a.free_symbols}
        return sorted((n for n in self.prep.leaf_values if n in free),
                      key=lambda n: (self.prep.order.get(n, 10**6), n))


def domain_report(prep: Prepared, conds: list[Condition]) -> dict[str, Any] | None:
    """Where the typed answer is undefined and the true value is not, as plain data:
    ``{"index", "why", "truth", "names"}`` for a set of positive measure (the answer
    is wrong), ``{"note"}`` for isolated points only; None when the typed domain is
    no problem."""
    if not conds or prep.truth.size != prep.n:  # layers: one block per instance, not here
        return None
    flags = prep.flags()
    defined = np.isfinite(prep.truth) & ~prep.truth_overflow()
    holes: list[sp.Expr] = []
    tries = MAX_CONFIRMED
    for c in conds:
        node = _Node(prep, c)
        failing = node.failing(node.args, prep.env, prep.n, flags) & defined
        mine = PER_CONDITION  # rounding noise in one condition leaves tries for the next
        for i in np.flatnonzero(failing)[:MAX_NUDGED]:
            if min(tries, mine) <= 0 or not node.persists(int(i)):
                continue
            tries, mine = tries - 1, mine - 1
            if node.confirmed(int(i)):
                return {"index": int(i), "why": _why(node, prep, int(i)),
                        "truth": float(prep.truth[i]), "names": node.leaves()}
        if c.kind == "power" and _negative(c.node.exp):
            holes.append(node.args[0])
    note = _holes_note(prep, holes)
    return {"note": note} if note else None


def _precise(expr: sp.Expr, env: Mapping[sp.Symbol, Any]) -> sp.Expr | None:
    """``expr`` (ops written out) at one point: the points' floats as the exact
    rationals they are (so a hole is an exact 0), then :data:`DIGITS` digits. None
    when SymPy cannot say."""
    try:
        exact = {s: v if isinstance(v, sp.Basic) else sp.Rational(v) for s, v in env.items()}
        value = ops.elementary(expr).xreplace(exact).evalf(DIGITS)
    except Exception:  # noqa: BLE001 - SymPy gave up: not confirmed
        return None
    return value if value.is_number else None


def _why(node: _Node, prep: Prepared, i: int) -> str:
    """What goes wrong at point ``i``, in words."""
    if node.kind == "power":
        base = float(evaluate(node.args[0], prep.env, prep.n)[i])
        if base == 0:
            return "division by zero"
        if _number(node.args[1]) == 0.5:
            return "√ of a negative number"
        return "a negative number to a fractional power"
    spec = getattr(node.func, "spec", None)
    name = spec.name if spec is not None else node.func.__name__
    if name == "sqrt":
        return "√ of a negative number"
    if name == "log":
        return "log of a number ≤ 0"
    return f"{name} is undefined there"


def _negative(exp: sp.Expr) -> bool:
    value = None if exp.free_symbols else _number(exp)
    return value is not None and value < 0


# --- isolated holes: a note ----------------------------------------------------------

MAX_HOLE_DEGREE = 6  # denominators solved by their roots
MAX_HOLES = 4  # zeros named per denominator
_HALVES = np.arange(-1000.0, 1000.5, 0.5)  # where a typed hole usually sits


def _holes_note(prep: Prepared, denominators: list[sp.Expr]) -> str:
    """"(not defined at x = 3)" for denominators that vanish at isolated points where
    the true value is defined; "" when none is known to vanish there."""
    said: list[str] = []
    for den in denominators:
        text = _hole_text(prep, canonical(prep.graph, den))
        if text and text not in said:
            said.append(text)
    return f"(not defined {' and '.join(said)})" if said else ""


def _hole_text(prep: Prepared, den: sp.Expr) -> str:
    """Where one denominator vanishes: "at x = 3", "where x·y − 1 = 0", or ""."""
    free = sorted(den.free_symbols, key=lambda s: s.name)
    roots = _roots(den, free[0]) if len(free) == 1 else None
    if roots is not None:
        roots = [r for r in sorted(set(roots)) if _truth_defined(prep, free[0], r)]
        if not roots:
            return ""
        name = unicode_name(free[0].name)
        return "at " + " or ".join(f"{name} = {leaf_number(r)}" for r in roots[:4])
    values = evaluate(den, {prep.graph[n].symbol: v for n, v in prep.leaf_values.items()},
                      prep.n)
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() < 0 < finite.max():
        return f"where {formula_text(den)} = 0"
    leaves = {n: prep.graph[n].symbol for n in prep.leaf_values}
    for i in np.flatnonzero(values == 0)[:2]:  # 0.0 in floats: exactly?
        if _precise(den, {s: float(prep.leaf_values[n][i]) for n, s in leaves.items()}) == 0:
            return f"where {formula_text(den)} = 0"
    return ""


def _roots(den: sp.Expr, leaf: sp.Symbol) -> list[float] | None:
    """The real zeros of a denominator in one leaf: a polynomial's roots, else those
    a grid of halves on [−1000, 1000] hits exactly or brackets (bisected); None for a
    polynomial of too high a degree."""
    if den.is_polynomial(leaf):
        poly = sp.Poly(den, leaf)
        if not 0 < poly.degree() <= MAX_HOLE_DEGREE:
            return None
        return [float(r.real) for r in np.roots([float(c) for c in poly.all_coeffs()])
                if abs(r.imag) <= 1e-9 * max(1.0, abs(r))]
    f = _along(den, leaf)
    y = f(_HALVES)
    hit = [float(r) for r in _HALVES[y == 0][:2 * MAX_HOLES]
           if _precise(den, {leaf: float(r)}) == 0]  # 1 − tanh(x)² is 0.0 at x = 999
    change = np.flatnonzero(np.isfinite(y[:-1]) & np.isfinite(y[1:])
                            & (np.sign(y[:-1]) * np.sign(y[1:]) < 0))
    lo, hi = _HALVES[change], _HALVES[change + 1]
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        left = np.sign(f(lo)) == np.sign(f(mid))
        lo, hi = np.where(left, mid, lo), np.where(left, hi, mid)
    mid = 0.5 * (lo + hi)
    small = np.abs(f(mid)) <= 1e-9  # a zero, not a pole where the sign flips
    return [float(r) for r in (hit + list(mid[small]))[:MAX_HOLES]]


def _along(den: sp.Expr, leaf: sp.Symbol):  # noqa: ANN202 - a local function
    return lambda t: evaluate(den, {leaf: t}, t.size)


def _truth_defined(prep: Prepared, leaf: sp.Symbol, value: float) -> bool:
    """Whether the true value is defined with ``leaf`` at ``value`` (the other leaves
    at the first point's values)."""
    env = {prep.graph[n].symbol: v[:1].copy() for n, v in prep.leaf_values.items()}
    env[leaf] = np.array([value])
    try:
        truth = evaluate(prep.canonicals[0], env, 1)
    except Exception:  # noqa: BLE001 - cannot tell: say nothing
        return False
    return bool(np.isfinite(truth[0]))


def formula_text(e: sp.Expr) -> str:
    """A denominator as text for the note."""
    from ..notation import to_unicode

    try:
        return to_unicode(e)
    except Exception:  # noqa: BLE001 - the note is a bonus
        return str(e)
