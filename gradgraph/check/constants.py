"""Near misses: an answer off by a constant too small for the numbers to show.

``x·σ′(z)·2(a − y) + 1e−12`` agrees with the true value to within the numeric
tolerance at every point, so the numbers alone would call it right. Exact algebra on
the learner's decimals, read as the exact decimals they wrote (0.1 is 1/10, not the
binary double nearest it), shows the difference is the constant 10⁻¹², or the ratio the
constant 1 + 10⁻¹²: not equal. A constant at the level of float rounding (what
``0.3/0.1`` leaves after the parser folds it) is noise, not a near miss.

Runs in the child (it touches the learner's expression), under the soft deadline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import sympy as sp

from .. import ops
from .display import factor_text
from .numbers import evaluate

# When float64 cannot tell (1 − σ(z) is 0 past z ≈ 37), a residual is evaluated at a
# few points in DIGITS digits: it sees differences down to 10^(10 − DIGITS) of the terms.
PRECISE_POINTS = 4
DIGITS = 150
# A constant this small relative to the values (or a factor this close to 1) is what
# float64 rounding of the learner's own decimals leaves: 16 units in the last place.
NOISE = 2.0 ** -48


def exact_decimals(expr: sp.Expr) -> sp.Expr:
    """``expr`` with each Float made the exact decimal it was written as: 0.1 -> 1/10.

    The parser made each Float with ``float(text)``, so the shortest repr of its
    value gives back the digits written (up to float64's 17).
    """
    floats = {f: _decimal(f) for f in expr.atoms(sp.Float)}
    return expr.xreplace(floats) if floats else expr


def _decimal(f: sp.Float) -> sp.Rational:
    value = float(f)
    if not math.isfinite(value):
        return f
    frac = Fraction(repr(value))  # a repr of a float, never the learner's text
    return sp.Rational(frac.numerator, frac.denominator)


def constant_offset(yours: sp.Expr, truth: sp.Expr, scale: float
                    ) -> dict[str, Any] | None:
    """``{"kind": "difference" | "factor", "value": c}`` when ``yours`` is ``truth + c``
    or ``c·truth`` identically, with c beyond rounding noise (``scale``: the largest
    true value); None otherwise.

    Both sides have each op application as one symbol (shared), so the algebra is on
    polynomials and rational functions of those symbols: a number that comes out is an
    identity, whatever values the symbols take.
    """
    memo: dict[sp.Expr, sp.Expr] = {}
    atoms: dict[sp.Expr, sp.Symbol] = {}
    mine, true = atomize(yours, memo, atoms), atomize(truth, memo, atoms)
    # Without expanding first: c·P⁶⁰ against P⁶⁰ is the number c at once, where
    # expanding P⁶⁰ could run out of time and let the near miss through.
    if true != 0:
        quick = mine / true
        if quick.is_Number and quick != 0 and abs(float(quick) - 1) > NOISE:
            return {"kind": "factor", "value": _plain(quick)}
    quick = mine - true
    if quick.is_Number:
        difference = quick
    else:
        difference = sp.expand(quick)
    if difference.is_Number:
        c = float(difference)
        if difference != 0 and abs(c) > NOISE * max(scale, 1e-300):
            return {"kind": "difference", "value": _plain(difference)}
        return None
    if true == 0:
        return None
    ratio = sp.cancel(mine / true)
    if ratio.is_Number and ratio != 0 and abs(float(ratio) - 1) > NOISE:
        return {"kind": "factor", "value": _plain(ratio)}
    return None


def residual(yours: sp.Expr, truth: sp.Expr, env: Mapping[sp.Symbol, np.ndarray], n: int,
             order: Mapping[str, int], magnitudes: np.ndarray | None,
             truth_values: np.ndarray) -> dict[str, Any] | None:
    """``{"kind": "term", "value": "10⁻⁴·x", "point": i}`` when ``yours − truth`` is, by
    exact algebra, a function that is nonzero on a set of positive measure though too
    small at the points for the tolerance (x³ + 10⁻⁴x for x³; x·σ′(z)·relu′(w − 250)
    where σ′(z) is 10⁻⁸⁷); None when algebra cannot tell.

    Two cases are sure: a nonzero rational function of the leaves (no op in it) is
    nonzero almost everywhere; so is one product whose every factor is nonzero at one
    of the points (each op application is continuous or locally constant there).
    Rounding noise is told by the coefficients, not the values: a difference whose
    numbers are all within float rounding of the two sides' own (what the parser's
    folding of 0.1·3 leaves) is noise. ``env`` holds the leaves' values at the ``n``
    points, ``truth_values`` the true values there (NaN: not to be used); point ``i``
    is where the difference stands out most.
    """
    memo: dict[sp.Expr, sp.Expr] = {}
    atoms: dict[sp.Expr, sp.Symbol] = {}
    mine, true = atomize(yours, memo, atoms), atomize(truth, memo, atoms)
    d = sp.expand(mine - true)
    if d == 0 or d.is_Number or _rounding(d, mine, true):
        return None
    dummies = set(atoms.values())
    if not d.free_symbols & dummies:
        if sp.cancel(d) == 0:
            return None
    else:
        d = sp.factor_terms(d)  # 2x·H(w − 250)·(…): one product, when it is one
        if not (d.is_Mul or d.is_Pow or d in dummies):
            return None
    original = d.xreplace({out: e for e, out in memo.items() if out in dummies})
    factors = [f for f in sp.Mul.make_args(original) if not f.is_Number]
    with np.errstate(all="ignore"):
        shows = np.all([_clearly_nonzero(f, env, n) for f in factors], axis=0)
        whole = np.broadcast_to(evaluate(original, env, n), (n,))
        shows &= np.isfinite(truth_values) & np.isfinite(whole) & (whole != 0)
        stands_out = np.abs(whole) / np.maximum(np.abs(truth_values), 1e-300)
    if np.any(shows):
        point = int(np.argmax(np.where(shows, stands_out, -1.0)))
    else:  # float64 cannot tell (1 − σ(60) is 0 there): a few points, in DIGITS digits
        point = _precisely_nonzero(factors, env, truth_values, magnitudes)
        if point is None:
            return None
    return {"kind": "term", "value": factor_text(original, order), "point": point}


def _precisely_nonzero(factors: list[sp.Expr], env: Mapping[sp.Symbol, np.ndarray],
                       truth_values: np.ndarray, magnitudes: np.ndarray | None
                       ) -> int | None:
    """A point where every factor is nonzero in :data:`DIGITS`-digit arithmetic (tried
    where the factors that are not sums are nonzero in float64, largest true value
    first: the fewest digits to see a difference), or None."""
    plain = [f for f in factors if not f.is_Add]
    sums = [ops.elementary(f) for f in factors if f.is_Add]
    n = truth_values.size
    with np.errstate(all="ignore"):
        ok = np.isfinite(truth_values) & np.all(
            [np.isfinite(v) & (v != 0) for v in (
                np.broadcast_to(evaluate(f, env, n), (n,)) for f in plain)], axis=0)
    # Largest true value first; then (where float64 made it 0: σ′(60)) the points whose
    # values (``magnitudes``: of every node) are smallest, nearest the ordinary ones.
    size = magnitudes if magnitudes is not None else np.max(
        [np.abs(np.broadcast_to(v, (n,))) for v in env.values()], axis=0)
    candidates = np.flatnonzero(ok)
    order = np.lexsort((size[candidates], -np.abs(truth_values[candidates])))
    for i in candidates[order][:PRECISE_POINTS]:
        at = {s: sp.Float(float(v[i]), DIGITS) for s, v in env.items()}
        if all(_nonzero_sum(f, at) for f in sums):
            return int(i)
    return None


def _nonzero_sum(f: sp.Expr, at: Mapping[sp.Symbol, sp.Float]) -> bool:
    """A sum at a point, in :data:`DIGITS` digits: nonzero beyond its terms' rounding?
    (Each term on its own first: substituted whole, SymPy would add them up before we
    see them.)"""
    terms = [sp.N(t.xreplace(at), DIGITS) for t in sp.Add.make_args(f)]
    if not all(t.is_number and sp.im(t) == 0 for t in terms):
        return False
    total = sp.Add(*terms)
    size = sp.Add(*(abs(t) for t in terms))
    return bool(abs(total) > sp.Float(10.0 ** (10 - DIGITS), DIGITS) * size)


def _clearly_nonzero(f: sp.Expr, env: Mapping[sp.Symbol, np.ndarray], n: int) -> np.ndarray:
    """Where ``f`` is finite and nonzero beyond doubt: a sum must stand clear of the
    rounding in adding up its terms (tanh(z) − (e²ᶻ − 1)/(e²ᶻ + 1) is 10⁻¹⁷, not
    nonzero)."""
    value = np.broadcast_to(evaluate(f, env, n), (n,))
    ok = np.isfinite(value) & (value != 0)
    if f.is_Add:
        size = sum(np.abs(np.broadcast_to(evaluate(t, env, n), (n,))) for t in f.args)
        ok &= np.abs(value) > 1e-8 * size
    return ok


def _rounding(d: sp.Expr, mine: sp.Expr, true: sp.Expr) -> bool:
    """Whether every coefficient of ``d`` is within float rounding of the largest
    coefficient of the two sides' terms."""
    def largest(e: sp.Expr) -> float:
        return max((abs(float(t.as_coeff_Mul()[0])) for t in sp.Add.make_args(e)),
                   default=0.0)

    reference = max(largest(mine), largest(true), 1e-300)
    return largest(d) <= NOISE * reference


def _plain(c: sp.Expr) -> tuple[int, int] | float:
    """A constant as plain data for the parent: (p, q) for a rational, else a float."""
    if isinstance(c, sp.Rational):
        return int(c.p), int(c.q)
    return float(c)


def constant_text(value: tuple[int, int] | float | str) -> str:
    """``(1, 10**12)`` -> ``1e−12``; ``(2, 3)`` -> ``2/3``: a decimal as the learner
    would write it (every digit it needs), a small fraction as a fraction; a term
    (already text) as it is."""
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        p, q = value
        if q == 1 or (q <= 1000 and not _decimal_denominator(q)):
            return (f"{p}" if q == 1 else f"{p}/{q}").replace("-", "−")
        value = p / q
    return repr(float(value)).replace("-", "−")


def _decimal_denominator(q: int) -> bool:
    """Whether 1/q has a finite decimal expansion (q = 2ᵃ·5ᵇ)."""
    for prime in (2, 5):
        while q % prime == 0:
            q //= prime
    return q == 1


def atomize(e: sp.Expr, memo: dict[sp.Expr, sp.Expr], atoms: dict[sp.Expr, sp.Symbol]
            ) -> sp.Expr:
    """``e`` with every function application replaced by a symbol of its own (equal
    applications, equal symbols): exact algebra never descends into σ(w·σ(…) + b)."""
    if e in memo:
        return memo[e]
    if not e.args or isinstance(e, sp.Symbol):
        out = e
    elif isinstance(e, sp.Function):
        key = e.func(*[sp.expand(atomize(a, memo, atoms)) for a in e.args])
        out = atoms.setdefault(key, sp.Dummy(f"f{len(atoms)}"))
    else:
        out = e.func(*[atomize(a, memo, atoms) for a in e.args])
    memo[e] = out
    return out


def clearest_point(yours: np.ndarray, truth: np.ndarray) -> int | None:
    """The point where the two sides differ most, relative to their size (the fewest
    digits to show it); None when every value is the same double."""
    with np.errstate(all="ignore"):
        gap = np.abs(yours - truth)
        relative = gap / np.maximum(np.abs(yours) + np.abs(truth), np.finfo(float).tiny)
    relative[~(np.isfinite(relative) & (gap > 0))] = -1.0
    best = int(np.argmax(relative)) if relative.size else 0
    return best if relative.size and relative[best] > 0 else None
