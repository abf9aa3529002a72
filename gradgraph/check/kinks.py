"""Points where a wrong answer hides from random ones: both sides of every kink and edge.

``x + relu(x − 50)`` equals x at every point below 50, so random points in [−10, 10]
never see the difference. The points therefore also straddle every zero of the
argument of a non-smooth function (relu, abs, relu′ = step, abs′ = sign, max) and of a
domain edge (log, sqrt, a division), in the answer and in the true derivative, both
written in the leaves. Each zero is found along a line through a random point, in one
leaf's direction, the other leaves held at that point's values: exactly when the
argument is a polynomial in that leaf (its roots), with ``sympy.solve`` when it is a
small elementary formula, else by bisection between sign changes on a grid out to
±10⁴. Points go on both sides of each zero, near and farther, never past a neighbouring
zero, and inside the leaf's ``limits``.

Runs in the child (it reads the learner's expression) under a soft deadline: zeros not
found in time are simply not straddled.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache

import numpy as np
import sympy as sp

from .. import ops
from ..sandbox import soft_deadline
from .numbers import evaluate

MAX_KINKS = 16  # arguments whose zeros are looked for
MAX_LEAVES = 3  # directions per argument
BASES = 3  # points the lines go through (see _line_bases)
MAX_POINTS = 64  # new points in all
MAX_ROOTS = 4  # zeros per line
MAX_DEGREE = 8  # polynomials solved by their roots
MAX_SOLVE_OPS = 30  # the size of an argument sympy.solve is tried on
BISECTIONS = 40
_GRID = np.concatenate([-np.logspace(4, -2, 60), [0.0], np.logspace(-2, 4, 60)])
_NONSMOOTH = (sp.Max, sp.Min, sp.Abs, sp.Heaviside, sp.sign, sp.Piecewise)
_T = sp.Dummy("t", real=True)

Points = dict[str, np.ndarray]


def kink_arguments(exprs: Iterable[sp.Expr]) -> list[sp.Expr]:
    """The arguments whose zeros are kinks or domain edges of ``exprs`` (in order, at
    most :data:`MAX_KINKS`): each shared subexpression is visited once."""
    found: dict[sp.Expr, None] = {}
    seen: set[sp.Basic] = set()
    for expr in exprs:
        _collect(expr, seen, found)
    return [g for g in found if not g.is_Number][:MAX_KINKS]


def _collect(e: sp.Basic, seen: set[sp.Basic], found: dict[sp.Expr, None]) -> None:
    stack = [e]
    while stack and len(found) <= 4 * MAX_KINKS:
        e = stack.pop()
        if e in seen or not e.args:
            continue
        seen.add(e)
        for g in _edges(e):
            found.setdefault(g, None)
        stack.extend(e.args)


def _edges(e: sp.Basic) -> list[sp.Expr]:
    """The arguments of ``e`` itself (not its parts) at whose zeros it kinks or ends."""
    if isinstance(e, ops.OpFunction | ops.PrimeFunction):
        return [g.xreplace({_T: e.args[0]}) for g in _op_edges(type(e))]
    if isinstance(e, sp.Heaviside | sp.Abs | sp.sign | sp.log):
        return [e.args[0]]
    if isinstance(e, sp.Max | sp.Min):
        return [a - b for a, b in zip(e.args, e.args[1:], strict=False)]
    if isinstance(e, sp.Pow) and not e.base.is_Number and not (
            e.exp.is_Integer and e.exp.is_nonnegative):
        return [e.base]
    return []


@cache
def _op_edges(func: type) -> tuple[sp.Expr, ...]:
    """An op's (or prime's) kinks and edges as formulas in its argument ``_T``: from a
    user op's body, or from a built-in's elementary definition and kernel."""
    spec = func.spec
    if spec.user_defined:
        param, body = spec.body
        if issubclass(func, ops.PrimeFunction):
            body = ops.prime_definition(spec, param)
        return tuple(g.xreplace({param: _T}) for g in kink_arguments([body]))
    form = ops.elementary(func(_T))
    if form.has(*_NONSMOOTH) or not _kernel_total(func):
        return (_T,)  # the registry's kinks and edges are at 0 (relu, abs, log, sqrt)
    return ()


def _kernel_total(func: type) -> bool:
    """Whether an op's kernel is finite on all of [−10, 10]."""
    probe = np.linspace(-10.0, 10.0, 81)
    try:
        return bool(np.all(np.isfinite(evaluate(func(_T), {_T: probe}, probe.size))))
    except Exception:  # noqa: BLE001 - an op we cannot probe: no edge to look for
        return True


# --- the zeros, along lines ------------------------------------------------------------


class Lines:
    """Zeros of kink arguments along lines through random points, and the points that
    straddle them."""

    def __init__(self, symbols: Mapping[sp.Symbol, str], base: Points,
                 limits: Mapping[str, tuple[float, float]], order: Mapping[str, int],
                 until: float):
        self.symbols = symbols  # leaf symbol -> leaf name
        self.base = base
        self.limits = limits
        self.order = order
        self.until = until  # time.monotonic() after which nothing more is looked for
        self.bases = min(BASES, len(next(iter(base.values())))) if base else 0
        # (base point, leaf) -> the zeros found along that line, of every argument: a
        # point beside one zero must not jump past a neighbouring one (a window 1 wide).
        self.roots: dict[tuple[int, str], list[float]] = {}
        self.rows: list[tuple[int, str, float]] = []  # (base point, leaf, its new value)

    def points(self, kinks: Sequence[sp.Expr]) -> Points:
        """Leaf values of the new points (possibly none)."""
        for g in kinks:
            left = self.until - time.monotonic()
            if left <= 0:
                break
            try:
                with soft_deadline(left):
                    self._straddle(g)
            except Exception:  # noqa: BLE001 - out of time, or SymPy gave up on this one
                continue
        return self._assemble()

    def _straddle(self, g: sp.Expr) -> None:
        free = g.free_symbols
        if not free or not free <= set(self.symbols):
            return
        leaves = sorted(free, key=lambda s: (self.order.get(self.symbols[s], 10**6), s.name))
        for v in leaves[:MAX_LEAVES]:
            roots = self._exact(g, v)
            if roots is None:
                roots = self._bisect(g, v)
            for b, rs in enumerate(roots):
                self.roots.setdefault((b, self.symbols[v]), []).extend(rs.tolist())

    def _env(self, g: sp.Expr, v: sp.Symbol, values: np.ndarray, b: np.ndarray
             ) -> dict[sp.Symbol, np.ndarray]:
        env = {s: self.base[self.symbols[s]][b] for s in g.free_symbols}
        env[v] = values
        return env

    # --- exactly -------------------------------------------------------------------

    def _exact(self, g: sp.Expr, v: sp.Symbol) -> list[np.ndarray] | None:
        """Each base point's real zeros in ``v``; None when no formula gives them."""
        if g.is_polynomial(v):
            return self._polynomial_roots(g, v)
        if sp.count_ops(g) <= MAX_SOLVE_OPS and not any(
                isinstance(f, ops.OpFunction | ops.PrimeFunction) for f in g.atoms(sp.Function)):
            return self._solved(g, v)
        return None

    def _polynomial_roots(self, g: sp.Expr, v: sp.Symbol) -> list[np.ndarray] | None:
        poly = sp.Poly(g, v)
        if poly.degree() > MAX_DEGREE:
            return None
        idx = np.arange(self.bases)
        coeffs = np.array([evaluate(c, self._env(c, v, np.zeros(0), idx), self.bases)
                           for c in poly.all_coeffs()])
        out = []
        for b in range(self.bases):
            c = np.trim_zeros(coeffs[:, b], "f")
            if c.size < 2 or not np.all(np.isfinite(c)):
                out.append(np.zeros(0))
                continue
            r = np.roots(c)
            out.append(np.real(r[np.abs(np.imag(r)) <= 1e-9 * np.maximum(1, np.abs(r))]))
        return out

    def _solved(self, g: sp.Expr, v: sp.Symbol) -> list[np.ndarray] | None:
        solutions = sp.solve(g, v)
        if not isinstance(solutions, list):
            return None
        idx = np.arange(self.bases)
        out: list[list[float]] = [[] for _ in range(self.bases)]
        for s in solutions:
            if s.has(sp.I) or not s.free_symbols <= set(self.symbols) - {v}:
                continue
            vals = evaluate(s, self._env(s, v, np.zeros(0), idx), self.bases)
            for b in range(self.bases):
                if math.isfinite(vals[b]):
                    out[b].append(float(vals[b]))
        return [np.array(r) for r in out]

    # --- numerically ---------------------------------------------------------------

    def _bisect(self, g: sp.Expr, v: sp.Symbol) -> list[np.ndarray]:
        """Each base point's zeros of ``g`` in ``v``: sign changes on a grid, bisected."""
        grid = self._grid(self.symbols[v])
        b = np.repeat(np.arange(self.bases), grid.size)
        t = np.tile(grid, self.bases)
        vals = evaluate(g, self._env(g, v, t, b), t.size).reshape(self.bases, grid.size)
        lo, hi, owner = [], [], []
        for k in range(self.bases):
            y = vals[k]
            change = np.isfinite(y[:-1]) & np.isfinite(y[1:]) & (np.sign(y[:-1]) != np.sign(y[1:]))
            for i in np.flatnonzero(change)[:MAX_ROOTS]:
                lo.append(grid[i])
                hi.append(grid[i + 1])
                owner.append(k)
        if not lo:
            return [np.zeros(0)] * self.bases
        lo_a, hi_a, who = np.array(lo), np.array(hi), np.array(owner)
        sign_lo = np.sign(evaluate(g, self._env(g, v, lo_a, who), lo_a.size))
        for _ in range(BISECTIONS):
            mid = 0.5 * (lo_a + hi_a)
            same = np.sign(evaluate(g, self._env(g, v, mid, who), mid.size)) == sign_lo
            lo_a, hi_a = np.where(same, mid, lo_a), np.where(same, hi_a, mid)
        roots = 0.5 * (lo_a + hi_a)
        return [roots[who == k] for k in range(self.bases)]

    def _grid(self, name: str) -> np.ndarray:
        if name in self.limits:
            low, high = self.limits[name]
            return np.linspace(low, high, _GRID.size)
        return _GRID

    # --- the points ----------------------------------------------------------------

    def _around(self, b: int, name: str, roots: np.ndarray) -> None:
        """Points on both sides of each zero: near (1 % of its size) and farther (half
        its size), never past the neighbouring zero, inside the leaf's limits."""
        rs = np.unique(roots[np.isfinite(roots)])[:4 * MAX_ROOTS]
        low, high = self.limits.get(name, (-math.inf, math.inf))
        for i, r in enumerate(rs):
            left = r - rs[i - 1] if i > 0 else math.inf
            right = rs[i + 1] - r if i + 1 < rs.size else math.inf
            size = max(1.0, abs(float(r)))
            for t in (r - min(0.01 * size, left / 3), r + min(0.01 * size, right / 3),
                      r - min(0.5 * size, left / 2), r + min(0.5 * size, right / 2)):
                if low <= t <= high and math.isfinite(t):
                    self.rows.append((b, name, float(t)))

    def _assemble(self) -> Points:
        for (b, name), roots in self.roots.items():
            self._around(b, name, np.array(roots, dtype=float))
        rows = list(dict.fromkeys(self.rows))  # in order, without repeats
        if len(rows) > MAX_POINTS:  # an even spread over every argument's points
            rows = [rows[i] for i in np.linspace(0, len(rows) - 1, MAX_POINTS).astype(int)]
        out = {name: np.array([vals[b] for b, _, _ in rows], dtype=float)
               for name, vals in self.base.items()}
        for i, (_, name, t) in enumerate(rows):
            out[name][i] = t
        return out


def _line_bases(base: Points, limits: Mapping[str, tuple[float, float]]) -> Points:
    """The points the lines go through: the first two random points, and the first one
    shrunk to 1 % (inside each leaf's limits), so that along w a pre-activation w·x + b
    stays moderate (at w = 250 and x = 0.8, σ′ underflows and hides everything)."""
    out = {}
    for name, values in base.items():
        first, second = values[0], values[min(1, values.size - 1)]
        low, high = limits.get(name, (-math.inf, math.inf))
        out[name] = np.array([first, second, min(max(0.01 * first, low), high)])
    return out


def straddling_points(exprs: Iterable[sp.Expr], symbols: Mapping[sp.Symbol, str],
                      base: Points, limits: Mapping[str, tuple[float, float]],
                      order: Mapping[str, int], until: float,
                      adjust: Callable[[Points], Points] = lambda p: p) -> Points | None:
    """Points on both sides of the kinks and edges of ``exprs`` (formulas in the leaves
    ``symbols`` names), through ``base``'s first points; None when there are none."""
    if not base or time.monotonic() > until:
        return None
    kinks = kink_arguments(exprs)
    if not kinks:
        return None
    points = Lines(symbols, _line_bases(base, limits), limits, order, until).points(kinks)
    if not points or not len(next(iter(points.values()))):
        return None
    return adjust(points)
