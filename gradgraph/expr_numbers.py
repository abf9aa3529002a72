"""Numbers for SymPy expressions: one walk over the tree with numpy kernels.

The one numeric evaluator of formulas that are not a compiled graph: the checker's
random points (:mod:`gradgraph.check`), the numbers on a diagram's edges
(:mod:`gradgraph.render`) and a lesson's typed numbers (:mod:`gradgraph.lesson`) all
come from here. Ops use the registry's stable kernels (``ops.numeric_kernels``), SymPy's
own functions the one head table :data:`HEADS`; user ops are evaluated through their
definitions. Nothing is lambdified or exec'd, so no user-chosen name reaches ``exec``.

Alongside each value the walk keeps *range flags*: where a value is infinite, NaN or
zero only because some part of the formula left float64's range (eˣ at x = 1000,
then ∞/∞; σ(−1000) = 0, then 1/0), not because the formula is undefined there (log of
a negative, 1/0 of a true zero). The checker leaves such points out; a diagram ignores
them. Imports only the op registry and the errors: it sits just above the IR.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import cache, reduce
from typing import Any, NamedTuple

import numpy as np
import sympy as sp

from . import ops
from .errors import GradgraphError

# SymPy's own functions, by head: everything else is an op, + × ^, or refused.
HEADS: dict[type, Callable[..., Any]] = {
    sp.exp: np.exp, sp.log: np.log, sp.tanh: np.tanh, sp.Abs: np.abs, sp.sign: np.sign,
    sp.sin: np.sin, sp.cos: np.cos,
}
_KERNELS = ops.numeric_kernels()


class NotNumeric(GradgraphError):
    """An expression with a head this evaluator has no kernel for, or a free symbol
    without a value; each caller says what that means for it."""


class Values(NamedTuple):
    """A formula's values, and where float range failed them (see the module's text)."""

    values: np.ndarray
    flags: np.ndarray

    @property
    def unusable(self) -> np.ndarray:
        """Where a value says nothing about the formula: not finite through range."""
        return self.flags & ~np.isfinite(self.values)


Lookup = Callable[[sp.Symbol], tuple[Any, Any]]  # a symbol -> (its value, its flags)


def evaluate_flagged(expr: sp.Expr, env: Mapping[sp.Symbol, Any], n: int,
                     flags: Mapping[sp.Symbol, Any] | None = None) -> Values:
    """``expr`` at ``n`` points, symbols bound by ``env`` (NaN/inf where undefined),
    and where float range failed it; ``flags`` marks where the symbols' own values did
    (forward values of intermediates). :class:`NotNumeric` as :func:`walk`."""
    known = flags or {}

    def lookup(s: sp.Symbol) -> tuple[Any, Any]:
        if s not in env:
            raise NotNumeric(f"'{s.name}' has no value")
        return env[s], known.get(s, False)

    with np.errstate(all="ignore"):
        val, flag = walk(sp.sympify(expr), lookup)
        values = np.broadcast_to(np.asarray(val, dtype=float), (n,)).copy()
        out = np.broadcast_to(np.asarray(flag, dtype=bool), (n,)).copy()
    return Values(values, out)


def value_by_name(expr: sp.Expr, env: Mapping[str, Any]) -> Any:
    """``expr`` with each symbol's value looked up by its name, in the values' own
    shape (floats, batches, matrices); :class:`NotNumeric` as :func:`walk`."""

    def lookup(s: sp.Symbol) -> tuple[Any, Any]:
        if s.name not in env:
            raise NotNumeric(f"'{s.name}' has no value")
        return env[s.name], False

    with np.errstate(all="ignore"):
        return walk(expr, lookup, flagged=False)[0]


def walk(expr: sp.Basic, lookup: Lookup, flagged: bool = True) -> tuple[Any, Any]:
    """(values, range flags) of ``expr``: children first, each shared part once, and
    iteratively, so a deep formula never meets Python's recursion limit. Without
    ``flagged`` the flags are all False (a diagram's labels need only the values)."""
    return ops.fold_dag(expr, lambda e, memo: _node(e, memo, lookup, flagged))


def _node(e: sp.Basic, memo: dict[sp.Basic, tuple[Any, Any]], lookup: Lookup,
          flagged: bool) -> tuple[Any, Any]:
    if isinstance(e, sp.Symbol):
        return lookup(e)
    if e.is_Number or isinstance(e, sp.NumberSymbol):
        return (float(e) if e.is_finite is not False else math.nan), False
    parts = [memo[a] for a in e.args]
    val = _apply(e, [p[0] for p in parts], lookup, flagged)
    if isinstance(val, Values):  # a user op: its body's own flags
        val, inner = val.values, val.flags
        parts.append((np.ones_like(val), inner))
    return val, _out_of_range(e, val, parts) if flagged else False


def _apply(e: sp.Basic, args: list[Any], lookup: Lookup, flagged: bool) -> Any:
    if isinstance(e, sp.Add):
        return reduce(np.add, args)
    if isinstance(e, sp.Mul):
        return reduce(np.multiply, args)
    if isinstance(e, sp.Pow):
        return np.power(np.asarray(args[0], dtype=float), args[1])
    if isinstance(e, ops.OpFunction | ops.PrimeFunction):
        return _op(e, args[0], lookup, flagged)
    if e.func in HEADS:
        return HEADS[e.func](*args)
    if isinstance(e, sp.Heaviside):
        return np.heaviside(args[0], args[1] if len(args) > 1 else 0.5)
    if isinstance(e, sp.Max | sp.Min):
        return reduce(np.maximum if isinstance(e, sp.Max) else np.minimum, args)
    raise NotNumeric(f"cannot evaluate {type(e).__name__} numerically")


def _op(e: sp.Expr, arg: Any, lookup: Lookup, flagged: bool) -> Any:
    spec = e.spec
    arg = np.asarray(arg, dtype=float)
    if not spec.user_defined:
        name = spec.name if isinstance(e, ops.OpFunction) else f"{spec.name}_prime"
        return _KERNELS[name](arg)
    param, body = spec.body  # a user op has no kernel: its definition, in registered ops
    if isinstance(e, ops.PrimeFunction):
        body = ops.prime_definition(spec, param)

    def inner(s: sp.Symbol) -> tuple[Any, Any]:
        return (arg, False) if s == param else lookup(s)

    val, flags = walk(body, inner, flagged)
    return Values(np.asarray(val, dtype=float), np.asarray(flags, dtype=bool))


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
