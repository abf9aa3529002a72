"""Numbers: random points, a formula's values at them, and how two sets of values compare.

Values come from a walk over the SymPy tree with numpy kernels (the registry's stable
ones for ops): nothing is lambdified or exec'd, so no user-chosen name reaches ``exec``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import reduce
from typing import Any

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
# Extra points when the true value is rarely defined (logs, square roots of leaves).
POSITIVE = ((30, 0.1, 3.0, "tenths"),)


# --- evaluation ------------------------------------------------------------------------


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


def proportional(u: np.ndarray, v: np.ndarray) -> float | None:
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


def close(a: float, b: float) -> bool:
    """Equal to the precision factor matching works with."""
    return abs(a - b) <= 1e-7 * max(1.0, abs(b))
