"""Turning an update rule's SymPy equations into one straight-line numpy function.

The generated program is kept as the optimizer's ``.source``; it is built only from
the symbols of :mod:`.symbols`, never from user text, and runs with no builtins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import precedence

from .display import _eq_text
from .symbols import GRAD, STEP, THETA, Maximum, SafeDiv


@dataclass(frozen=True)
class _Rule:
    """An update rule: equations in order, the state they carry, their hyperparameters."""

    equations: tuple[sp.Eq, ...]
    lr: sp.Symbol
    state: tuple[tuple[sp.Symbol, float], ...] = ()  # (symbol, initial value)
    hyper: tuple[tuple[sp.Symbol, float], ...] = ()  # constant hyperparameters


def _safe_div(num: Any, den: Any) -> np.ndarray:
    """Element-wise ``num/den`` with 0 where ``den == 0`` (called by generated code)."""
    num, den = np.broadcast_arrays(np.asarray(num), np.asarray(den))
    out = np.zeros(num.shape, dtype=np.result_type(num, den, 1.0))
    np.divide(num, den, out=out, where=den != 0)
    return out


class _CodePrinter(NumPyPrinter):
    """numpy source; every function is an attribute of ``numpy`` (no builtins needed)."""

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": True})

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        # Positive terms first: "theta - rho*g" is two array operations, SymPy's own
        # order "-g*rho + theta" three (the negation makes a copy). This is the hot loop.
        terms = sorted(expr.args, key=lambda t: t.could_extract_minus_sign())
        out = self._print(terms[0])
        for t in terms[1:]:
            if t.could_extract_minus_sign():
                out += f" - {self.parenthesize(-t, precedence(expr))}"
            else:
                out += f" + {self.parenthesize(t, precedence(expr))}"
        return out

    def _print_Maximum(self, expr: Maximum) -> str:
        a, b = (self._print(x) for x in expr.args)
        return f"numpy.maximum({a}, {b})"

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"numpy.abs({self._print(expr.args[0])})"

    def _print_SafeDiv(self, expr: SafeDiv) -> str:
        num, den = (self._print(a) for a in expr.args)
        return f"_safe_div({num}, {den})"


def _versioned(
    rule: _Rule, args: list[sp.Symbol]
) -> tuple[list[sp.Symbol], list[sp.Expr], dict[sp.Symbol, sp.Symbol]]:
    """Each assignment's fresh target (``m_1``), its right side in versioned names, and
    the latest version of every symbol."""
    current = {s: s for s in args}
    versions: dict[sp.Symbol, int] = {}
    targets: list[sp.Symbol] = []
    rhss: list[sp.Expr] = []
    for eq in rule.equations:
        rhs = eq.rhs.xreplace(current)
        versions[eq.lhs] = versions.get(eq.lhs, 0) + 1
        target = sp.Symbol(f"{eq.lhs.name}_{versions[eq.lhs]}")
        current[eq.lhs] = target
        targets.append(target)
        rhss.append(rhs)
    return targets, rhss, current


def _body(rule: _Rule, targets: list[sp.Symbol], rhss: list[sp.Expr]) -> list[str]:
    """The function's lines: each equation as a comment, then its assignment, after the
    common subexpressions it is the first to need."""
    replacements, reduced = sp.cse(rhss, symbols=sp.numbered_symbols("_x"))
    pending = dict(replacements)
    printer = _CodePrinter()
    lines: list[str] = []

    def emit_needed(expr: sp.Expr) -> None:
        for sym in sorted(expr.free_symbols & pending.keys(), key=lambda s: s.name):
            if sym in pending:
                sub = pending.pop(sym)
                emit_needed(sub)
                lines.append(f"    {sym.name} = {printer.doprint(sub)}")

    for eq, target, expr in zip(rule.equations, targets, reduced, strict=True):
        emit_needed(expr)
        lines.append(f"    # {_eq_text(eq)}")
        lines.append(f"    {target.name} = {printer.doprint(expr)}")
    return lines


def _compile(rule: _Rule, fname: str) -> tuple[str, Callable[..., tuple]]:
    """Generate and compile ``fname(theta, g, *state, t, lr, *hyper) -> (theta, *state)``.

    Equations are sequential assignments (a later one sees the value an earlier one
    wrote), so each assignment gets a fresh versioned name (``m_1``); common
    subexpressions of the whole program are hoisted by ``cse`` and emitted just
    before their first use, where everything they read already exists.
    """
    state_syms = [s for s, _ in rule.state]
    args = [THETA, GRAD, *state_syms, STEP, rule.lr, *(s for s, _ in rule.hyper)]
    targets, rhss, current = _versioned(rule, args)
    lines = _body(rule, targets, rhss)
    outputs = [current[THETA], *(current[s] for s in state_syms)]
    header = f"def {fname}({', '.join(a.name for a in args)}):"
    footer = f"    return ({', '.join(o.name for o in outputs)},)"
    source = "\n".join([header, *lines, footer]) + "\n"
    # No builtins: the program may only call numpy and the 0/0 guard.
    namespace: dict[str, Any] = {"__builtins__": {}, "numpy": np, "_safe_div": _safe_div}
    exec(compile(source, f"<gradgraph.optim {fname}>", "exec"), namespace)
    return source, namespace[fname]
