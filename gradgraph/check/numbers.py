"""Numbers: random points, a formula's values at them, and how two sets of values compare.

Values come from a walk over the SymPy tree with numpy kernels (the registry's stable
ones for ops): nothing is lambdified or exec'd, so no user-chosen name reaches ``exec``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import cache, reduce
from typing import Any, NamedTuple

import numpy as np
import sympy as sp

from .. import ops
from ..errors import CheckError

# Relative tolerance, and an absolute one relative to the largest true value: a deep
# chain's derivative can be 1e-13 everywhere, and a plain atol would call 2x equal to x.
RTOL, ATOL = 1e-8, 1e-12
MIN_DEFINED = 10  # points where the true value is defined, below which we do not judge

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
# Large magnitudes, as Khan's KAS samples: an answer can agree with the true value on
# [−10, 10] and part from it only at |x| in the hundreds (x vs x + e^(−x²/10⁶)). Each
# value is ± a draw from [low, high]; half of them integers.
MAGNITUDES = (
    (4, 10.0, 100.0, "magnitude"),
    (4, 100.0, 1000.0, "magnitude"),
)
# Extra points when the true value is rarely defined (logs, square roots of leaves).
POSITIVE = ((30, 0.1, 3.0, "tenths"), (6, 3.0, 1000.0, "positive"))


# --- evaluation ------------------------------------------------------------------------


class Values(NamedTuple):
    """A formula's values at the points, and where float range failed them.

    ``flags`` marks the points where a value is infinite, NaN or zero only because
    some part of the formula left float64's range (eˣ at x = 1000, then ∞/∞; σ(−1000)
    = 0, then 1/0), not because the formula is undefined there (log of a negative,
    1/0 of a true zero). Where such a value is not finite the point says nothing about
    the formula: comparisons leave it out (:attr:`unusable`).
    """

    values: np.ndarray
    flags: np.ndarray

    @property
    def unusable(self) -> np.ndarray:
        return self.flags & ~np.isfinite(self.values)


Flags = Mapping[sp.Symbol, np.ndarray]


def evaluate(expr: sp.Expr, env: Mapping[sp.Symbol, np.ndarray], n: int) -> np.ndarray:
    """``expr`` at ``n`` points, symbols bound by ``env``; NaN/inf where undefined.

    A walk over the SymPy tree with numpy kernels (the registry's stable ones for ops):
    no code is generated, so no user-chosen name ever reaches ``exec``.
    """
    return evaluate_flagged(expr, env, n).values


def evaluate_flagged(expr: sp.Expr, env: Mapping[sp.Symbol, np.ndarray], n: int,
                     flags: Flags | None = None) -> Values:
    """:func:`evaluate`, and where float range failed it; ``flags`` marks where the
    symbols' own values did (forward values of intermediates)."""
    memo: dict[sp.Basic, tuple[Any, Any]] = {}
    with np.errstate(all="ignore"):
        val, flag = _ev(sp.sympify(expr), env, flags or {}, memo)
        values = np.broadcast_to(np.asarray(val, dtype=float), (n,)).copy()
        out = np.broadcast_to(np.asarray(flag, dtype=bool), (n,)).copy()
    return Values(values, out)


_FUNCS = {sp.exp: np.exp, sp.log: np.log, sp.tanh: np.tanh, sp.Abs: np.abs,
          sp.sign: np.sign, sp.sin: np.sin, sp.cos: np.cos}


def _ev(e: sp.Basic, env: Mapping[sp.Symbol, np.ndarray], flags: Flags,
        memo: dict[sp.Basic, tuple[Any, Any]]) -> tuple[Any, Any]:
    """(values, range flags) of ``e``."""
    if e in memo:
        return memo[e]
    if isinstance(e, sp.Symbol):
        if e not in env:
            raise CheckError(f"'{e.name}' has no value")
        out = (env[e], flags.get(e, False))
    elif e.is_Number or isinstance(e, sp.NumberSymbol):
        out = (float(e) if e.is_finite is not False else math.nan, False)
    else:
        parts = [_ev(a, env, flags, memo) for a in e.args]
        val = _apply(e, [p[0] for p in parts])
        if isinstance(val, Values):  # a user op: its body's own flags
            val, inner = val.values, val.flags
            parts.append((np.ones_like(val), inner))
        out = (val, _out_of_range(e, val, parts))
    memo[e] = out
    return out


def _apply(e: sp.Basic, args: list[Any]) -> Any:
    if isinstance(e, sp.Add):
        return reduce(np.add, args)
    if isinstance(e, sp.Mul):
        return reduce(np.multiply, args)
    if isinstance(e, sp.Pow):
        return np.power(np.asarray(args[0], dtype=float), args[1])
    if isinstance(e, ops.OpFunction | ops.PrimeFunction):
        return _ev_op(e, args[0])
    return _ev_function(e, args)


def _out_of_range(e: sp.Basic, val: Any, parts: list[tuple[Any, Any]]) -> Any:
    """Where ``val`` is what float range made it: infinite from finite, nonzero inputs
    (overflow; 1/0 and log 0 have a zero input: undefined), zero from them where ``e``
    is never zero otherwise (underflow: a product, a power, eˣ, σ), or non-finite or
    zero with such an input (∞ − ∞, 1/σ(−1000))."""
    suspect = ~np.isfinite(val) | (val == 0)
    if not np.any(suspect):
        return False
    inherited = reduce(np.logical_or, (f for _, f in parts), False)
    ordinary = reduce(np.logical_and, (np.isfinite(v) & (v != 0) for v, _ in parts), True)
    made = np.isinf(val) | ((val == 0) & _never_zero(e))
    return suspect & ((made & ordinary) | inherited)


def _never_zero(e: sp.Basic) -> bool:
    """Whether ``e`` is nonzero whenever its inputs are finite and nonzero (so a zero
    is underflow)."""
    if isinstance(e, sp.Mul | sp.Pow | sp.exp):
        return True
    if isinstance(e, ops.OpFunction | ops.PrimeFunction) and not e.spec.user_defined:
        return _kernel_never_zero(type(e))
    return False


@cache
def _kernel_never_zero(func: type) -> bool:
    """Whether an op's kernel is nonzero at every nonzero point of [−10, 10]
    (σ, exp, softplus: yes; relu, log: no)."""
    spec = func.spec
    kernel = _KERNELS[spec.name if issubclass(func, ops.OpFunction) else f"{spec.name}_prime"]
    probe = np.linspace(-10.0, 10.0, 81)
    with np.errstate(all="ignore"):
        values = np.asarray(kernel(probe[probe != 0]), dtype=float)
    return bool(np.all(values[np.isfinite(values)] != 0))


def _ev_op(e: sp.Expr, arg: Any) -> Any:
    spec = e.spec
    arg = np.asarray(arg, dtype=float)
    if not spec.user_defined:
        name = spec.name if isinstance(e, ops.OpFunction) else f"{spec.name}_prime"
        return _KERNELS[name](arg)
    param, body = spec.body  # a user op: its definition, in registered ops
    if isinstance(e, ops.PrimeFunction):
        body = ops.prime_definition(spec, param)
    return evaluate_flagged(body, {param: arg}, arg.size if arg.ndim else 1)


_KERNELS = ops.numeric_kernels()


def _ev_function(e: sp.Basic, args: list[Any]) -> Any:
    if e.func in _FUNCS:
        return _FUNCS[e.func](*args)
    if isinstance(e, sp.Heaviside):
        return np.heaviside(args[0], args[1] if len(args) > 1 else 0.5)
    if isinstance(e, sp.Max | sp.Min):
        return reduce(np.maximum if isinstance(e, sp.Max) else np.minimum, args)
    raise CheckError(f"cannot evaluate {type(e).__name__} numerically")


# --- random points ---------------------------------------------------------------------


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
    if kind == "magnitude" and not limited:
        sign = np.where(rng.uniform(size=count) < 0.5, -1.0, 1.0)
        x = np.where(np.arange(count) % 2 == 0, np.round(x), x)
        return sign * x
    if kind == "positive" and not limited:
        return np.round(np.exp(rng.uniform(math.log(lo), math.log(hi), count)), 1)
    if kind == "integers" and not limited:
        return np.round(x)
    if kind in ("tenths", "integers"):
        nice = np.round(x, 1)
        return np.where((nice >= lo) & (nice <= hi), nice, x)
    return x


# --- comparing values ------------------------------------------------------------------


def value_at(values: np.ndarray, index: int | None) -> float | None:
    """One value as a float, None where it is undefined (or there is no index)."""
    if index is None or not math.isfinite(values[index]):
        return None
    return float(values[index])


def compare(yours: np.ndarray, truth: np.ndarray, unusable: np.ndarray | None = None,
            magnitudes: np.ndarray | None = None) -> tuple[str, int | None, int]:
    """("equal" | "differ" | "domain" | "few", a counterexample index, defined points).

    ``unusable`` points (float overflow on either side) are left out; ``magnitudes``
    (the size of the values a point computes with) bound the absolute tolerance there.
    """
    use = np.ones(truth.shape, dtype=bool) if unusable is None else ~unusable
    fy, ft = np.isfinite(yours), np.isfinite(truth)
    both = fy & ft & use
    if (ft & use).sum() < MIN_DEFINED:
        return "few", None, int((ft & use).sum())
    close = np.zeros_like(both)
    atol = absolute_tolerance(truth, use, magnitudes)
    with np.errstate(all="ignore"):
        close[both] = np.abs(yours[both] - truth[both]) <= atol[both] + RTOL * np.maximum(
            np.abs(yours[both]), np.abs(truth[both]))
    differ = np.flatnonzero(both & ~close)
    if differ.size:
        return "differ", int(differ[0]), int(both.sum())
    pattern = np.flatnonzero((fy != ft) & use)
    if pattern.size:
        return "domain", int(pattern[0]), int(both.sum())
    return "equal", None, int(both.sum())


def absolute_tolerance(truth: np.ndarray, use: np.ndarray,
                       magnitudes: np.ndarray | None = None) -> np.ndarray:
    """ATOL per point: times the largest true value (a deep chain's derivative can be
    1e-13 everywhere), but never more than times the size of what the point computes
    with, so a value of 10³⁰⁰ at x = 700 does not hide a difference of 0.5 at x = 0.5."""
    finite = np.abs(truth[np.isfinite(truth) & use])
    scale = float(finite.max()) if finite.size else 0.0
    if scale == 0:
        return np.full(truth.shape, 1e-15)
    if magnitudes is None:
        return np.full(truth.shape, ATOL * scale)
    return ATOL * np.maximum(np.minimum(magnitudes, scale), 1e-3 * np.finfo(float).tiny)


def _atol(values: np.ndarray) -> float:
    """ATOL times the largest finite magnitude in ``values`` (1e-15 if all are zero)."""
    finite = np.abs(values[np.isfinite(values)])
    scale = float(finite.max()) if finite.size else 0.0
    return ATOL * scale if scale > 0 else 1e-15


def proportional(u: np.ndarray, v: np.ndarray, ignore: np.ndarray | None = None
                 ) -> float | None:
    """k when u = k·v at every point (same defined points, k ≠ 0), else None;
    ``ignore``d points (overflow, large magnitudes) are left out."""
    if ignore is not None and u.shape == v.shape and ignore.size and \
            u.size % ignore.size == 0:  # one mask per point, tiled over stacked blocks
        keep = ~np.tile(ignore, u.size // ignore.size)
        u, v = u[keep], v[keep]
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


def close(a: float, b: float) -> bool:
    """Equal to the precision factor matching works with."""
    return abs(a - b) <= 1e-7 * max(1.0, abs(b))
