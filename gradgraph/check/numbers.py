"""Numbers: random points, a formula's values at them, and how two sets of values compare.

Values come from :mod:`gradgraph.expr_numbers`, the one walk over the SymPy tree with
numpy kernels: nothing is lambdified or exec'd, so no user-chosen name reaches ``exec``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np
import sympy as sp

from .. import expr_numbers
from ..errors import CheckError
from ..expr_numbers import Values

Flags = Mapping[sp.Symbol, np.ndarray]

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


# --- evaluation: the one evaluator (gradgraph.expr_numbers), its errors the checker's ---


def evaluate(expr: sp.Expr, env: Mapping[sp.Symbol, np.ndarray], n: int) -> np.ndarray:
    """``expr`` at ``n`` points, symbols bound by ``env``; NaN/inf where undefined.

    A walk over the SymPy tree with numpy kernels (the registry's stable ones for ops):
    no code is generated, so no user-chosen name ever reaches ``exec``.
    """
    return evaluate_flagged(expr, env, n).values


def evaluate_flagged(expr: sp.Expr, env: Mapping[sp.Symbol, np.ndarray], n: int,
                     flags: Flags | None = None) -> Values:
    """:func:`gradgraph.expr_numbers.evaluate_flagged`; :class:`CheckError` for a head
    with no kernel or a name with no value."""
    try:
        return expr_numbers.evaluate_flagged(expr, env, n, flags)
    except expr_numbers.NotNumeric as e:
        raise CheckError(str(e)) from None


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
