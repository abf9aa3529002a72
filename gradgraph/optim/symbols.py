"""The symbols of the update rules and the builders that keep the paper's term order.

The symbols' names double as Python identifiers in the generated code, so they are
fixed here and never taken from the user.
"""

from __future__ import annotations

import sympy as sp

THETA = sp.Symbol("theta")
GRAD = sp.Symbol("g")
STEP = sp.Symbol("t")
M = sp.Symbol("m")
V = sp.Symbol("v")
U = sp.Symbol("u")
ACC = sp.Symbol("G")
R = sp.Symbol("r")
GBAR = sp.Symbol("gbar")
MHAT = sp.Symbol("mhat")
VHAT = sp.Symbol("vhat")
ALPHA = sp.Symbol("alpha")
RHO = sp.Symbol("rho")
MU = sp.Symbol("mu")
BETA_1 = sp.Symbol("beta_1")
BETA_2 = sp.Symbol("beta_2")
EPSILON = sp.Symbol("epsilon")
LAMBDA = sp.Symbol("lamda")  # "lambda" is a Python keyword; SymPy still shows λ


class SafeDiv(sp.Function):
    """``a/b`` shown as a plain fraction, computed as 0 where ``b == 0``.

    AdaMax divides by ``u = max(β₂u, |g|)``, which is 0 exactly when every gradient so
    far was 0 (then ``m`` is 0 too): the paper's 0/0 means "no step".
    """

    nargs = 2


class Maximum(sp.Function):
    """max(a, b) element-wise, kept in the paper's argument order (sp.Max sorts them)."""

    nargs = 2


# Helpers that keep the paper's term order for display (evaluate=False); the maths
# is unchanged, and the code generator sees the same trees.
def _add(*terms: sp.Expr) -> sp.Expr:
    return sp.Add(*terms, evaluate=False)


def _mul(*factors: sp.Expr) -> sp.Expr:
    return sp.Mul(*factors, evaluate=False)


def _neg(x: sp.Expr) -> sp.Expr:
    return sp.Mul(sp.S.NegativeOne, x, evaluate=False)


def _sub(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    return _add(a, _neg(b))


def _div(a: sp.Expr, b: sp.Expr) -> sp.Expr:
    return sp.Mul(a, sp.Pow(b, -1, evaluate=False), evaluate=False)


def _assign(lhs: sp.Symbol, rhs: sp.Expr) -> sp.Eq:
    # evaluate=False: Eq(θ, θ − …) must stay an assignment, not be decided.
    return sp.Eq(lhs, rhs, evaluate=False)


def _ema(beta: sp.Symbol, acc: sp.Symbol, new: sp.Expr) -> sp.Expr:
    """β·acc + (1 − β)·new, in the paper's order."""
    return _add(_mul(beta, acc), _mul(_sub(sp.S.One, beta), new))
