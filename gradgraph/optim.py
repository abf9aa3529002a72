"""Optimizers whose numeric step is compiled from their SymPy update rule.

Each optimizer states its update for one parameter element as a list of
``sympy.Eq`` (read top to bottom, like the paper's algorithm box), shows it as
Unicode or LaTeX for lessons, and turns that very list into a numpy function
with :class:`~sympy.printing.numpy.NumPyPrinter`. The generated program is kept
as ``.source``; it is built only from symbols this module creates, never from
user text, and runs with no builtins.

Forms follow the papers, not the slides (shared/notes/seed-science.md §1-§2):
Adam divides by ``1 − β₁ᵗ`` and ``1 − β₂ᵗ`` with ``t`` counted from 1, has no
trailing ``·∇C``, and every accumulator is element-wise ``g⊙g``.
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pretty.pretty_symbology import pretty_symbol
from sympy.printing.str import StrPrinter

from .errors import TrainingError

__all__ = [
    "Optimizer",
    "SGD",
    "Momentum",
    "Nesterov",
    "Sign",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdaMax",
    "AdamW",
    "Schedule",
    "Constant",
    "StepDecay",
    "Exponential",
    "InverseTime",
    "LinearToFloor",
    "Cosine",
    "get",
    "names",
]

# --------------------------------------------------------------------------------------
# Symbols. Their names double as Python identifiers in the generated code, so they are
# fixed here and never taken from the user.
# --------------------------------------------------------------------------------------
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

# SymPy draws "gbar" with a combining overline; the precomposed letter reads better.
_UNICODE_NAMES = {"gbar": "ḡ"}


class SafeDiv(sp.Function):
    """``a/b`` shown as a plain fraction, computed as 0 where ``b == 0``.

    AdaMax divides by ``u = max(β₂u, |g|)``, which is 0 exactly when every gradient so
    far was 0 (then ``m`` is 0 too): the paper's 0/0 means "no step".
    """

    nargs = 2


class Maximum(sp.Function):
    """max(a, b) element-wise, kept in the paper's argument order (sp.Max sorts them)."""

    nargs = 2


def _safe_div(num: Any, den: Any) -> np.ndarray:
    """Element-wise ``num/den`` with 0 where ``den == 0`` (called by generated code)."""
    num, den = np.broadcast_arrays(np.asarray(num), np.asarray(den))
    out = np.zeros(num.shape, dtype=np.result_type(num, den, 1.0))
    np.divide(num, den, out=out, where=den != 0)
    return out


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


# --------------------------------------------------------------------------------------
# Printers
# --------------------------------------------------------------------------------------
_SUPERSCRIPT = str.maketrans("0123456789tn", "⁰¹²³⁴⁵⁶⁷⁸⁹ᵗⁿ")
_SUPERSCRIPT_CHARS = set("0123456789tn")


def _is_reciprocal(x: sp.Basic) -> bool:
    return x.is_Pow and x.exp == -1


def _split_neg(term: sp.Basic) -> tuple[bool, sp.Basic]:
    """(True, x) for a term built as ``_neg(x)``; (False, term) otherwise."""
    if term.is_Mul and term.args[0] is sp.S.NegativeOne:
        rest = term.args[1:]
        return True, rest[0] if len(rest) == 1 else sp.Mul(*rest, evaluate=False)
    return False, term


def _is_fraction(x: sp.Basic) -> bool:
    return isinstance(x, SafeDiv) or (x.is_Mul and any(_is_reciprocal(a) for a in x.args))


class _DisplayMixin:
    """Shared Add/Mul layout for the display printers.

    The display trees are built unevaluated in the paper's order; SymPy's own Add and
    Mul printers would negate or re-sort terms (and so re-evaluate them), so the
    layout is done here: signs from ``_neg``, fractions from ``_div``.
    """

    minus = "-"

    def _wrap(self, text: str) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _product(self, factors: list[str]) -> str:  # pragma: no cover - overridden
        raise NotImplementedError

    def _fraction(self, num: str, den: str, den_expr: sp.Basic) -> str:  # pragma: no cover
        raise NotImplementedError

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        out = ""
        for i, term in enumerate(expr.args):
            neg, body = _split_neg(term)
            text = self._print(body)
            if neg and body.is_Add:
                text = self._wrap(text)
            if i == 0:
                out = f"{self.minus}{text}" if neg else text
            else:
                out += f" {self.minus} {text}" if neg else f" + {text}"
        return out

    def _print_Mul(self, expr: sp.Mul) -> str:
        neg, body = _split_neg(expr)
        if neg:
            text = self._print(body)
            return self.minus + (self._wrap(text) if body.is_Add else text)
        num = [a for a in expr.args if not _is_reciprocal(a)]
        den = [a.base for a in expr.args if _is_reciprocal(a)]
        factors = []
        for a in num:
            text = self._print(a)
            factors.append(self._wrap(text) if a.is_Add else text)
        top = self._product(factors) if factors else "1"
        if not den:
            return top
        bottom_expr = den[0] if len(den) == 1 else sp.Mul(*den, evaluate=False)
        return self._fraction(top, self._print(bottom_expr), bottom_expr)


class _UnicodePrinter(_DisplayMixin, StrPrinter):
    """One-line Unicode: ``m ← β₁·m + (1 − β₁)·g``, ``√v̂``, ``β₁ᵗ``, ``|g|``."""

    _default_settings = {**StrPrinter._default_settings, "order": "none"}
    minus = "−"

    def _wrap(self, text: str) -> str:
        return f"({text})"

    def _product(self, factors: list[str]) -> str:
        return "·".join(factors)

    def _fraction(self, num: str, den: str, den_expr: sp.Basic) -> str:
        if den_expr.is_Add or den_expr.is_Mul or _is_fraction(den_expr):
            den = f"({den})"
        return f"{num}/{den}"

    def _print_Mul(self, expr: sp.Mul) -> str:
        # A fraction inside a product is the paper's grouping: (α/(1 − β₁ᵗ))·m/u.
        neg, _ = _split_neg(expr)
        if not neg and any(a.is_Mul and _is_fraction(a) for a in expr.args):
            parts = [
                f"({self._print(a)})" if a.is_Mul and _is_fraction(a) else self._print(a)
                for a in expr.args
            ]
            return "·".join(parts)
        return super()._print_Mul(expr)

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return _UNICODE_NAMES.get(expr.name) or pretty_symbol(expr.name)

    def _print_Pow(self, expr: sp.Pow, rational: bool = False) -> str:
        base, exp = expr.args
        if exp == sp.S.Half:
            inner = self._print(base)
            return f"√{inner}" if base.is_Atom else f"√({inner})"
        text = self._print(exp)
        if exp.is_Atom and set(text) <= _SUPERSCRIPT_CHARS:
            base_text = self._print(base)
            if not base.is_Atom:
                base_text = f"({base_text})"
            return base_text + text.translate(_SUPERSCRIPT)
        return super()._print_Pow(expr, rational)

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"|{self._print(expr.args[0])}|"

    def _print_Maximum(self, expr: Maximum) -> str:
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_sign(self, expr: sp.sign) -> str:
        return f"sign({self._print(expr.args[0])})"

    def _print_SafeDiv(self, expr: SafeDiv) -> str:
        num, den = expr.args
        return self._fraction(self._print(num), self._print(den), den)


class _LatexPrinter(_DisplayMixin, LatexPrinter):
    _default_settings = {**LatexPrinter._default_settings, "order": "none"}

    def _wrap(self, text: str) -> str:
        return rf"\left({text}\right)"

    def _product(self, factors: list[str]) -> str:
        # Juxtaposition, but a visible dot between fractions: \frac{α}{…} \cdot \frac{m}{u}.
        joiner = r" \cdot " if any(f.startswith(r"\frac") for f in factors) else " "
        return joiner.join(factors)

    def _fraction(self, num: str, den: str, den_expr: sp.Basic) -> str:
        return rf"\frac{{{num}}}{{{den}}}"

    def _print_SafeDiv(self, expr: SafeDiv) -> str:
        num, den = (self._print(a) for a in expr.args)
        return rf"\frac{{{num}}}{{{den}}}"

    def _print_Maximum(self, expr: Maximum) -> str:
        return r"\max\left(" + ", ".join(self._print(a) for a in expr.args) + r"\right)"


class _CodePrinter(NumPyPrinter):
    """numpy source; every function is an attribute of ``numpy`` (no builtins needed)."""

    def __init__(self) -> None:
        super().__init__({"fully_qualified_modules": True})

    def _print_Maximum(self, expr: Maximum) -> str:
        a, b = (self._print(x) for x in expr.args)
        return f"numpy.maximum({a}, {b})"

    def _print_Abs(self, expr: sp.Abs) -> str:
        return f"numpy.abs({self._print(expr.args[0])})"

    def _print_SafeDiv(self, expr: SafeDiv) -> str:
        num, den = (self._print(a) for a in expr.args)
        return f"_safe_div({num}, {den})"


def _eq_text(eq: sp.Eq) -> str:
    printer = _UnicodePrinter()
    return f"{printer.doprint(eq.lhs)} ← {printer.doprint(eq.rhs)}"


def _eq_latex(eq: sp.Eq) -> str:
    printer = _LatexPrinter()
    return f"{printer.doprint(eq.lhs)} \\leftarrow {printer.doprint(eq.rhs)}"


# --------------------------------------------------------------------------------------
# Compilation: equations -> straight-line numpy function
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Rule:
    """An update rule: equations in order, the state they carry, their hyperparameters."""

    equations: tuple[sp.Eq, ...]
    lr: sp.Symbol
    state: tuple[tuple[sp.Symbol, float], ...] = ()  # (symbol, initial value)
    hyper: tuple[tuple[sp.Symbol, float], ...] = ()  # constant hyperparameters


def _compile(rule: _Rule, fname: str) -> tuple[str, Callable[..., tuple]]:
    """Generate and compile ``fname(theta, g, *state, t, lr, *hyper) -> (theta, *state)``.

    Equations are sequential assignments (a later one sees the value an earlier one
    wrote), so each assignment gets a fresh versioned name (``m_1``); common
    subexpressions of the whole program are hoisted by ``cse`` and emitted just
    before their first use, where everything they read already exists.
    """
    state_syms = [s for s, _ in rule.state]
    args = [THETA, GRAD, *state_syms, STEP, rule.lr, *(s for s, _ in rule.hyper)]
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

    outputs = [current[THETA], *(current[s] for s in state_syms)]
    header = f"def {fname}({', '.join(a.name for a in args)}):"
    footer = f"    return ({', '.join(o.name for o in outputs)},)"
    source = "\n".join([header, *lines, footer]) + "\n"
    # No builtins: the program may only call numpy and the 0/0 guard.
    namespace: dict[str, Any] = {"__builtins__": {}, "numpy": np, "_safe_div": _safe_div}
    exec(compile(source, f"<gradgraph.optim {fname}>", "exec"), namespace)
    return source, namespace[fname]


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------
def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TrainingError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise TrainingError(f"{name} must be finite, got {value!r}")
    return value


def _positive(name: str, value: Any) -> float:
    v = _real(name, value)
    if v <= 0:
        raise TrainingError(f"{name} must be > 0, got {value!r}")
    return v


def _nonnegative(name: str, value: Any) -> float:
    v = _real(name, value)
    if v < 0:
        raise TrainingError(f"{name} must be >= 0, got {value!r}")
    return v


def _unit(name: str, value: Any) -> float:
    """A decay rate or momentum: in [0, 1) (1 would never forget, >1 diverges)."""
    v = _real(name, value)
    if not 0 <= v < 1:
        raise TrainingError(f"{name} must be in [0, 1), got {value!r}")
    return v


def _count(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise TrainingError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _fmt(x: float) -> str:
    return f"{x:g}"


# --------------------------------------------------------------------------------------
# Learning-rate schedules: factors of the base rate ρ₀, as functions of k = steps taken
# --------------------------------------------------------------------------------------
class Schedule:
    """A learning-rate schedule: ``schedule(k)`` is the factor ρₖ/ρ₀.

    ``k`` is the number of updates already made (0 for the first step), as in
    Goodfellow et al. §8.3.1 (ρₖ, ρ₀ at k = 0), Keras (``step``) and PyTorch
    (``last_epoch``). An optimizer's ``lr_at(t)`` for step ``t`` (from 1) is
    ``lr · schedule(t − 1)``.
    """

    def __call__(self, k: int) -> float:
        k = _count("k", k, minimum=0)
        return float(self._factor(k))

    def _factor(self, k: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _body(self, lr0: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _body_latex(self, lr0: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def formula(self, lr: str = "ρ") -> str:
        """Unicode formula, e.g. ``ρₖ = ρ₀·0.5^⌊k/10⌋``."""
        return f"{lr}ₖ = {self._body(f'{lr}₀')}"

    def latex(self, lr: str = r"\rho") -> str:
        r"""LaTeX formula, e.g. ``\rho_{k} = \rho_{0} \cdot 0.5^{\lfloor k/10 \rfloor}``."""
        return f"{lr}_{{k}} = {self._body_latex(f'{lr}_{{0}}')}"

    def __str__(self) -> str:
        return self.formula()


class Constant(Schedule):
    """ρₖ = ρ₀."""

    def _factor(self, k: int) -> float:
        return 1.0

    def _body(self, lr0: str) -> str:
        return lr0

    def _body_latex(self, lr0: str) -> str:
        return lr0

    def __repr__(self) -> str:
        return "Constant()"


class StepDecay(Schedule):
    """ρₖ = ρ₀·factor^⌊k/every⌋ (Keras ``ExponentialDecay(staircase=True)``, torch ``StepLR``)."""

    def __init__(self, every: int, factor: float = 0.5):
        self.every = _count("every", every)
        self.factor = _positive("factor", factor)
        if self.factor > 1:
            raise TrainingError(f"factor must be in (0, 1], got {factor!r}")

    def _factor(self, k: int) -> float:
        return self.factor ** (k // self.every)

    def _body(self, lr0: str) -> str:
        return f"{lr0}·{_fmt(self.factor)}^⌊k/{self.every}⌋"

    def _body_latex(self, lr0: str) -> str:
        return rf"{lr0} \cdot {_fmt(self.factor)}^{{\lfloor k/{self.every} \rfloor}}"

    def __repr__(self) -> str:
        return f"StepDecay(every={self.every}, factor={self.factor!r})"


class Exponential(Schedule):
    """ρₖ = ρ₀·e^(−rate·k) (the usual "exponential decay" α₀e^(−kt))."""

    def __init__(self, rate: float):
        self.rate = _nonnegative("rate", rate)

    def _factor(self, k: int) -> float:
        return math.exp(-self.rate * k)

    def _body(self, lr0: str) -> str:
        return f"{lr0}·e^(−{_fmt(self.rate)}·k)"

    def _body_latex(self, lr0: str) -> str:
        return rf"{lr0} \, e^{{-{_fmt(self.rate)} k}}"

    def __repr__(self) -> str:
        return f"Exponential(rate={self.rate!r})"


class InverseTime(Schedule):
    """ρₖ = ρ₀/(1 + decay·k) (1/t decay; Keras ``InverseTimeDecay`` with decay_steps 1)."""

    def __init__(self, decay: float):
        self.decay = _nonnegative("decay", decay)

    def _factor(self, k: int) -> float:
        return 1.0 / (1.0 + self.decay * k)

    def _body(self, lr0: str) -> str:
        return f"{lr0}/(1 + {_fmt(self.decay)}·k)"

    def _body_latex(self, lr0: str) -> str:
        return rf"\frac{{{lr0}}}{{1 + {_fmt(self.decay)} k}}"

    def __repr__(self) -> str:
        return f"InverseTime(decay={self.decay!r})"


class LinearToFloor(Schedule):
    """Goodfellow et al. §8.3.1: ρₖ = (1 − k/τ)·ρ₀ + (k/τ)·ρ_τ for k ≤ τ, then ρ_τ.

    ``floor`` is ρ_τ as a fraction of ρ₀ (the book suggests about 0.01).
    """

    def __init__(self, tau: int, floor: float = 0.01):
        self.tau = _count("tau", tau)
        self.floor = _nonnegative("floor", floor)
        if self.floor > 1:
            raise TrainingError(f"floor must be in [0, 1] (a fraction of lr), got {floor!r}")

    def _factor(self, k: int) -> float:
        frac = min(k, self.tau) / self.tau
        return (1.0 - frac) + frac * self.floor

    def _body(self, lr0: str) -> str:
        tau = self.tau
        low = f"{_fmt(self.floor)}·{lr0}"
        return f"(1 − k/{tau})·{lr0} + (k/{tau})·{low} for k ≤ {tau}, then {low}"

    def _body_latex(self, lr0: str) -> str:
        tau, low = self.tau, f"{_fmt(self.floor)} \\, {lr0}"
        first = rf"\left(1 - \frac{{k}}{{{tau}}}\right) {lr0} + \frac{{k}}{{{tau}}} {low}"
        return rf"\begin{{cases}} {first} & k \le {tau} \\ {low} & k > {tau} \end{{cases}}"

    def __repr__(self) -> str:
        return f"LinearToFloor(tau={self.tau}, floor={self.floor!r})"


class Cosine(Schedule):
    """ρₖ = ρ_min + (ρ₀ − ρ_min)·½(1 + cos(π·min(k, total)/total)) (SGDR without restarts).

    ``floor`` is ρ_min as a fraction of ρ₀ (0 by default, like torch ``eta_min=0``).
    """

    def __init__(self, total: int, floor: float = 0.0):
        self.total = _count("total", total)
        self.floor = _nonnegative("floor", floor)
        if self.floor > 1:
            raise TrainingError(f"floor must be in [0, 1] (a fraction of lr), got {floor!r}")

    def _factor(self, k: int) -> float:
        cos = math.cos(math.pi * min(k, self.total) / self.total)
        return self.floor + (1.0 - self.floor) * 0.5 * (1.0 + cos)

    def _body(self, lr0: str) -> str:
        wave = f"½(1 + cos(π·min(k, {self.total})/{self.total}))"
        if self.floor == 0:
            return f"{lr0}·{wave}"
        low = f"{_fmt(self.floor)}·{lr0}"
        return f"{low} + ({lr0} − {low})·{wave}"

    def _body_latex(self, lr0: str) -> str:
        n = self.total
        wave = rf"\frac{{1}}{{2}}\left(1 + \cos\frac{{\pi \min(k, {n})}}{{{n}}}\right)"
        if self.floor == 0:
            return f"{lr0} {wave}"
        low = f"{_fmt(self.floor)} \\, {lr0}"
        return rf"{low} + \left({lr0} - {low}\right) {wave}"

    def __repr__(self) -> str:
        return f"Cosine(total={self.total}, floor={self.floor!r})"


def _check_schedule(schedule: Any) -> Schedule | None:
    if schedule is None or isinstance(schedule, Schedule):
        return schedule
    raise TrainingError(
        f"schedule must be a gradgraph.optim schedule (Constant, StepDecay, ...), got {schedule!r}"
    )


# --------------------------------------------------------------------------------------
# Optimizer base
# --------------------------------------------------------------------------------------
class Optimizer:
    """Base class: equations → compiled numpy step, per-parameter state, schedules.

    Attributes
    ----------
    equations : list of sympy.Eq
        The update for one parameter element, in order.
    source : str
        The generated numpy program (compiled once, in ``__init__``).
    state : dict
        ``name -> {state symbol name: array}`` for every parameter seen.
    iterations : int
        Steps taken; step ``t`` (from 1) is ``iterations + 1``.
    """

    name: ClassVar[str] = "optimizer"

    def __init__(self, lr: float, *, schedule: Schedule | None = None):
        self.lr = _positive("lr", lr)
        self.schedule = _check_schedule(schedule)
        self._rule = self._build_rule()
        self.equations: list[sp.Eq] = list(self._rule.equations)
        self.source, self._step_fn = _compile(self._rule, f"{type(self).__name__.lower()}_step")
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.iterations = 0

    # -- to be provided by subclasses -------------------------------------------------
    def _build_rule(self) -> _Rule:  # pragma: no cover - abstract
        raise NotImplementedError

    def _hyper_repr(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- display ----------------------------------------------------------------------
    def equations_text(self) -> list[str]:
        """The update as Unicode lines, e.g. ``m ← β₁·m + (1 − β₁)·g``."""
        lines = [_eq_text(eq) for eq in self.equations]
        if self.schedule is not None:
            lines.append(self.schedule.formula(pretty_symbol(self._rule.lr.name)))
        return lines

    def equations_latex(self) -> list[str]:
        r"""The update as LaTeX lines, e.g. ``m \leftarrow \beta_{1} m + …``."""
        lines = [_eq_latex(eq) for eq in self.equations]
        if self.schedule is not None:
            lines.append(self.schedule.latex(sp.latex(self._rule.lr)))
        return lines

    def __repr__(self) -> str:
        sched = f", schedule={self.schedule!r}" if self.schedule is not None else ""
        return f"{type(self).__name__}({self._hyper_repr()}{sched})"

    # -- state ------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget all per-parameter state and the step count."""
        self.state = {}
        self.iterations = 0

    def lr_at(self, t: int) -> float:
        """The learning rate used at step ``t`` (counted from 1)."""
        t = _count("t", t)
        return self.lr if self.schedule is None else self.lr * self.schedule(t - 1)

    # -- stepping ---------------------------------------------------------------------
    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, Any]) -> None:
        """Apply one update to every array in ``params``, in place.

        All-or-nothing: new values are computed for every parameter first and written
        only if all are finite, so a failing step leaves parameters and state as they
        were and raises :class:`TrainingError` naming the parameter and step.
        """
        missing = [n for n in params if n not in grads]
        extra = [n for n in grads if n not in params]
        if missing or extra:
            what = f"no gradient for {missing}" if missing else f"gradient for unknown {extra}"
            raise TrainingError(f"params and grads must have the same names: {what}")
        t = self.iterations + 1
        lr_t = self.lr_at(t)
        hyper = [value for _, value in self._rule.hyper]
        state_names = [s.name for s, _ in self._rule.state]
        results = []
        for name, theta in params.items():
            g = self._check_pair(name, theta, grads[name])
            state = self.state.get(name) or self._initial_state(theta)
            self._check_state(name, theta, state)
            # Non-finite results are detected below and reported, not warned about.
            with np.errstate(all="ignore"):
                out = self._step_fn(theta, g, *(state[s] for s in state_names), t, lr_t, *hyper)
            for label, value in zip(["theta", *state_names], out, strict=True):
                if not np.all(np.isfinite(value)):
                    raise TrainingError(
                        f"step {t}: update of parameter {name!r} ({label}) is not finite "
                        f"at lr={lr_t:g}; parameters left unchanged"
                    )
            results.append((name, theta, state, out))
        for name, theta, state, out in results:
            np.copyto(theta, out[0], casting="same_kind")
            for s, value in zip(state_names, out[1:], strict=True):
                np.copyto(state[s], value, casting="same_kind")
            self.state[name] = state
        self.iterations = t

    def _initial_state(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        return {
            s.name: np.full(theta.shape, init, dtype=theta.dtype) for s, init in self._rule.state
        }

    @staticmethod
    def _check_pair(name: str, theta: Any, grad: Any) -> np.ndarray:
        if not isinstance(theta, np.ndarray) or not np.issubdtype(theta.dtype, np.floating):
            raise TrainingError(
                f"parameter {name!r} must be a float numpy array (updated in place), "
                f"got {type(theta).__name__}"
                + (f" of {theta.dtype}" if isinstance(theta, np.ndarray) else "")
            )
        if not theta.flags.writeable:
            raise TrainingError(f"parameter {name!r} is read-only; it is updated in place")
        try:
            g = np.asarray(grad, dtype=np.result_type(theta.dtype, np.float64))
        except (TypeError, ValueError) as exc:
            raise TrainingError(f"gradient of {name!r} is not numeric: {exc}") from None
        if g.shape != theta.shape:
            raise TrainingError(
                f"gradient of {name!r} has shape {g.shape}, parameter has {theta.shape}"
            )
        if not np.all(np.isfinite(g)):
            raise TrainingError(f"gradient of {name!r} is not finite")
        return g

    @staticmethod
    def _check_state(name: str, theta: np.ndarray, state: dict[str, np.ndarray]) -> None:
        for arr in state.values():
            if arr.shape != theta.shape:
                raise TrainingError(
                    f"parameter {name!r} changed shape from {arr.shape} to {theta.shape}; "
                    "call reset() first"
                )

    # -- minimising a scalar graph ----------------------------------------------------
    def minimize(
        self,
        graph: Any,
        of: str = "C",
        start: Mapping[str, Any] | None = None,
        steps: int = 50,
        inputs: Mapping[str, Any] | None = None,
    ) -> list[dict[str, float | np.ndarray]]:
        """Minimise ``of`` over the leaves named in ``start``; return the trajectory.

        Works with any object that has ``gradients(values, of=...) -> {leaf: value}``.
        State is reset first, so every call is a fresh run.

        Parameters
        ----------
        graph : object with ``gradients(values: dict, of: str) -> dict``
        of : str
            The scalar node to minimise.
        start : dict
            Starting value of each leaf to optimise (floats or arrays).
        steps : int
            Number of updates.
        inputs : dict, optional
            Values of leaves that stay fixed (data), passed to the graph every step.

        Returns
        -------
        list of dict
            ``steps + 1`` fresh dicts, the start point first; scalars come back as floats.
        """
        if not callable(getattr(graph, "gradients", None)):
            raise TrainingError("minimize needs a graph with a gradients(values, of=...) method")
        if not start:
            raise TrainingError("minimize needs start values, e.g. start={'w': 0.5}")
        steps = _count("steps", steps, minimum=0)
        fixed = dict(inputs or {})
        params: dict[str, np.ndarray] = {}
        for name, value in start.items():
            try:
                params[name] = np.array(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise TrainingError(f"start value of {name!r} is not numeric: {value!r}") from None
            if not np.all(np.isfinite(params[name])):
                raise TrainingError(f"start value of {name!r} is not finite")
        scalar = {name: arr.ndim == 0 for name, arr in params.items()}

        def snapshot() -> dict[str, float | np.ndarray]:
            return {n: float(a) if scalar[n] else a.copy() for n, a in params.items()}

        self.reset()
        trajectory = [snapshot()]
        for _ in range(steps):
            # The graph gets copies: it must not be able to alter our iterate.
            all_grads = graph.gradients({**fixed, **snapshot()}, of=of)
            grads = {}
            for name in params:
                if name not in all_grads:
                    raise TrainingError(f"the graph gave no gradient of {of!r} for {name!r}")
                grads[name] = all_grads[name]
            self.step(params, grads)
            trajectory.append(snapshot())
        return trajectory


# --------------------------------------------------------------------------------------
# Optimizers
# --------------------------------------------------------------------------------------
class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum or Nesterov momentum.

    - plain: ``θ ← θ − ρ·g``
    - momentum (the deck's form = Sutskever et al. 2013 eq. 1-2 = Keras):
      ``v ← μ·v − ρ·g; θ ← θ + v``
    - Nesterov (Keras form, a reparametrisation of Sutskever's look-ahead):
      ``v ← μ·v − ρ·g; θ ← θ + μ·v − ρ·g``

    Defaults follow Keras 3 ``SGD``: ``lr=0.01``, ``momentum=0``. PyTorch's buffer form
    (``b ← μb + g; θ −= ρb``) equals this one only at a constant learning rate; under a
    ``schedule`` this class keeps the Keras/Sutskever form.

    Parameters
    ----------
    lr : float
        ρ₀ > 0.
    momentum : float
        μ in [0, 1).
    nesterov : bool
        Use the Nesterov form (with ``momentum=0`` it is plain SGD).
    schedule : Schedule, optional
        ρₜ = lr·schedule(t − 1).
    """

    name = "sgd"

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        schedule: Schedule | None = None,
    ):
        self.momentum = _unit("momentum", momentum)
        if not isinstance(nesterov, bool):
            raise TrainingError(f"nesterov must be True or False, got {nesterov!r}")
        self.nesterov = nesterov
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        if self.momentum == 0 and not self.nesterov:
            return _Rule((_assign(THETA, _sub(THETA, _mul(RHO, GRAD))),), lr=RHO)
        velocity = _assign(V, _sub(_mul(MU, V), _mul(RHO, GRAD)))
        if self.nesterov:
            theta = _assign(THETA, _add(THETA, _mul(MU, V), _neg(_mul(RHO, GRAD))))
        else:
            theta = _assign(THETA, _add(THETA, V))
        return _Rule((velocity, theta), lr=RHO, state=((V, 0.0),), hyper=((MU, self.momentum),))

    def _hyper_repr(self) -> str:
        return f"lr={self.lr!r}, momentum={self.momentum!r}, nesterov={self.nesterov!r}"


class Momentum(SGD):
    """SGD with momentum ``v ← μ·v − ρ·g; θ ← θ + v`` (Sutskever/Keras form; μ = 0.9)."""

    name = "momentum"

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, schedule: Schedule | None = None):
        super().__init__(lr, momentum=momentum, nesterov=False, schedule=schedule)


class Nesterov(SGD):
    """SGD with Nesterov momentum ``v ← μ·v − ρ·g; θ ← θ + μ·v − ρ·g`` (Keras form; μ = 0.9)."""

    name = "nesterov"

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, schedule: Schedule | None = None):
        super().__init__(lr, momentum=momentum, nesterov=True, schedule=schedule)


class Sign(Optimizer):
    """signSGD (Bernstein et al. 2018): ``θ ← θ − ρ·sign(g)``, with sign(0) = 0.

    This is the deck's "sign-of-gradient hack" made to work on mini-batches. The
    original full-batch method is Rprop (Hinton lecture 6e: a per-weight step grown
    ×1.2 when successive signs agree and shrunk ×0.5 when they differ, kept in
    [1e−6, 50]); Rprop fails on mini-batches, which is what led to RMSprop.
    Default ``lr=1e-3``.
    """

    name = "sign"

    def __init__(self, lr: float = 1e-3, schedule: Schedule | None = None):
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        return _Rule((_assign(THETA, _sub(THETA, _mul(RHO, sp.sign(GRAD)))),), lr=RHO)

    def _hyper_repr(self) -> str:
        return f"lr={self.lr!r}"


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011), PyTorch form: ``G ← G + g²; θ ← θ − ρ·g/(√G + ε)``.

    Defaults follow PyTorch: ``lr=1e-2``, ``epsilon=1e-10`` outside the root,
    ``initial_accumulator=0``. (Keras: lr 1e−3, initial accumulator 0.1, ε 1e−7.)
    """

    name = "adagrad"

    def __init__(
        self,
        lr: float = 1e-2,
        epsilon: float = 1e-10,
        initial_accumulator: float = 0.0,
        schedule: Schedule | None = None,
    ):
        self.epsilon = _nonnegative("epsilon", epsilon)
        self.initial_accumulator = _nonnegative("initial_accumulator", initial_accumulator)
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        acc = _assign(ACC, _add(ACC, GRAD**2))
        theta = _assign(THETA, _sub(THETA, _div(_mul(RHO, GRAD), _add(sp.sqrt(ACC), EPSILON))))
        return _Rule(
            (acc, theta),
            lr=RHO,
            state=((ACC, self.initial_accumulator),),
            hyper=((EPSILON, self.epsilon),),
        )

    def _hyper_repr(self) -> str:
        return (
            f"lr={self.lr!r}, epsilon={self.epsilon!r}, "
            f"initial_accumulator={self.initial_accumulator!r}"
        )


class RMSprop(Optimizer):
    """RMSprop (Hinton lecture 6e): ``r ← ρ·r + (1 − ρ)·g²`` with the element-wise g².

    ``eps_placement`` chooses where ε goes, which matters for small gradients:

    - ``"keras"`` (default): ``θ ← θ − α·g/√(r + ε)``
    - ``"pytorch"``: ``θ ← θ − α·g/(√r + ε)``

    For g = 1e−4, lr 1e−3, ρ 0.9 the first step is 3.15e−4 (Keras, ε 1e−7) against
    3.16e−3 (PyTorch, ε 1e−8). ``centered=True`` replaces r by r − ḡ² with
    ``ḡ ← ρ·ḡ + (1 − ρ)·g``; that variance estimate is clamped at 0 so rounding
    cannot take a square root of a tiny negative number.

    Defaults follow Keras 3: ``lr=1e-3``, ``rho=0.9``, ``epsilon=1e-7``. (PyTorch:
    lr 1e−2, alpha 0.99, ε 1e−8.) The slides' ‖∇C‖² would be one global normaliser;
    this accumulator is per element, as in the papers.
    """

    name = "rmsprop"

    def __init__(
        self,
        lr: float = 1e-3,
        rho: float = 0.9,
        epsilon: float = 1e-7,
        eps_placement: str = "keras",
        centered: bool = False,
        schedule: Schedule | None = None,
    ):
        self.rho = _unit("rho", rho)
        self.epsilon = _nonnegative("epsilon", epsilon)
        if eps_placement not in ("keras", "pytorch"):
            raise TrainingError(
                f"eps_placement must be 'keras' or 'pytorch', got {eps_placement!r}"
            )
        self.eps_placement = eps_placement
        if not isinstance(centered, bool):
            raise TrainingError(f"centered must be True or False, got {centered!r}")
        self.centered = centered
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        eqs = []
        state: list[tuple[sp.Symbol, float]] = []
        if self.centered:
            eqs.append(_assign(GBAR, _ema(RHO, GBAR, GRAD)))
            state.append((GBAR, 0.0))
        eqs.append(_assign(R, _ema(RHO, R, GRAD**2)))
        state.append((R, 0.0))
        scale = Maximum(_sub(R, GBAR**2), sp.S.Zero) if self.centered else R
        if self.eps_placement == "keras":
            denom = sp.sqrt(_add(scale, EPSILON))
        else:
            denom = _add(sp.sqrt(scale), EPSILON)
        eqs.append(_assign(THETA, _sub(THETA, _div(_mul(ALPHA, GRAD), denom))))
        return _Rule(
            tuple(eqs),
            lr=ALPHA,
            state=tuple(state),
            hyper=((RHO, self.rho), (EPSILON, self.epsilon)),
        )

    def _hyper_repr(self) -> str:
        return (
            f"lr={self.lr!r}, rho={self.rho!r}, epsilon={self.epsilon!r}, "
            f"eps_placement={self.eps_placement!r}, centered={self.centered!r}"
        )


def _adam_equations(bias_correction: bool) -> list[sp.Eq]:
    """Kingma & Ba Alg. 1 (or the §6.4 ablation without the 1 − βᵗ correction)."""
    eqs = [
        _assign(M, _ema(BETA_1, M, GRAD)),
        _assign(V, _ema(BETA_2, V, GRAD**2)),
    ]
    if bias_correction:
        eqs += [
            _assign(MHAT, _div(M, _sub(sp.S.One, BETA_1**STEP))),
            _assign(VHAT, _div(V, _sub(sp.S.One, BETA_2**STEP))),
        ]
        first, second = MHAT, VHAT
    else:
        first, second = M, V
    eqs.append(
        _assign(THETA, _sub(THETA, _div(_mul(ALPHA, first), _add(sp.sqrt(second), EPSILON))))
    )
    return eqs


class Adam(Optimizer):
    """Adam, Kingma & Ba (arXiv 1412.6980) Algorithm 1, element-wise, t from 1::

        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        m̂ ← m/(1 − β₁ᵗ)
        v̂ ← v/(1 − β₂ᵗ)
        θ ← θ − α·m̂/(√v̂ + ε)

    Defaults are the paper's (= PyTorch): ``lr=1e-3``, ``beta_1=0.9``,
    ``beta_2=0.999``, ``epsilon=1e-8``. (Keras folds the correction into the step size
    and uses ε̂ = 1e−7; the slides' 1/(1 − β) correction and trailing ·∇C are errata.)
    ``bias_correction=False`` is the paper's §6.4 ablation: θ ← θ − α·m/(√v + ε), whose
    first step is about α(1 − β₁)/√(1 − β₂)·sign(g).
    """

    name = "adam"

    def __init__(
        self,
        lr: float = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        bias_correction: bool = True,
        schedule: Schedule | None = None,
    ):
        self.beta_1 = _unit("beta_1", beta_1)
        self.beta_2 = _unit("beta_2", beta_2)
        self.epsilon = _nonnegative("epsilon", epsilon)
        if not isinstance(bias_correction, bool):
            raise TrainingError(f"bias_correction must be True or False, got {bias_correction!r}")
        self.bias_correction = bias_correction
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        return _Rule(
            tuple(_adam_equations(self.bias_correction)),
            lr=ALPHA,
            state=((M, 0.0), (V, 0.0)),
            hyper=((BETA_1, self.beta_1), (BETA_2, self.beta_2), (EPSILON, self.epsilon)),
        )

    def _hyper_repr(self) -> str:
        return (
            f"lr={self.lr!r}, beta_1={self.beta_1!r}, beta_2={self.beta_2!r}, "
            f"epsilon={self.epsilon!r}, bias_correction={self.bias_correction!r}"
        )


class AdaMax(Optimizer):
    """AdaMax, Kingma & Ba Algorithm 2 (the infinity-norm Adam)::

        m ← β₁·m + (1 − β₁)·g
        u ← max(β₂·u, |g|)
        θ ← θ − (α/(1 − β₁ᵗ))·m/u

    No ε and no correction of u (paper §7.1). Where u = 0 the step is 0: that happens
    when every gradient so far was 0, so m = 0 too and the paper's 0/0 means "no
    step" (with β₂ = 0 it also covers a zero gradient after non-zero ones).
    Defaults are the paper's (= PyTorch): ``lr=2e-3``, ``beta_1=0.9``, ``beta_2=0.999``.
    (Keras: lr 1e−3 and ε 1e−7 added to u; PyTorch adds ε inside the max.)
    """

    name = "adamax"

    def __init__(
        self,
        lr: float = 2e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        schedule: Schedule | None = None,
    ):
        self.beta_1 = _unit("beta_1", beta_1)
        self.beta_2 = _unit("beta_2", beta_2)
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        step_size = _div(ALPHA, _sub(sp.S.One, BETA_1**STEP))
        eqs = (
            _assign(M, _ema(BETA_1, M, GRAD)),
            _assign(U, Maximum(_mul(BETA_2, U), sp.Abs(GRAD))),
            _assign(THETA, _sub(THETA, _mul(step_size, SafeDiv(M, U)))),
        )
        return _Rule(
            eqs,
            lr=ALPHA,
            state=((M, 0.0), (U, 0.0)),
            hyper=((BETA_1, self.beta_1), (BETA_2, self.beta_2)),
        )

    def _hyper_repr(self) -> str:
        return f"lr={self.lr!r}, beta_1={self.beta_1!r}, beta_2={self.beta_2!r}"


class AdamW(Optimizer):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019 Alg. 2; torch AdamW)::

        θ ← θ − α·λ·θ
        then Adam (Algorithm 1) on the loss gradient g only.

    Unlike Adam with an L2 term, the decay is not divided by √v̂. Defaults follow
    PyTorch: ``lr=1e-3``, ``beta_1=0.9``, ``beta_2=0.999``, ``epsilon=1e-8``,
    ``weight_decay=0.01`` (Keras uses 0.004). With a schedule, α is the scheduled rate.
    """

    name = "adamw"

    def __init__(
        self,
        lr: float = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
        schedule: Schedule | None = None,
    ):
        self.beta_1 = _unit("beta_1", beta_1)
        self.beta_2 = _unit("beta_2", beta_2)
        self.epsilon = _nonnegative("epsilon", epsilon)
        self.weight_decay = _nonnegative("weight_decay", weight_decay)
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        decay = _assign(THETA, _sub(THETA, _mul(ALPHA, LAMBDA, THETA)))
        return _Rule(
            (decay, *_adam_equations(True)),
            lr=ALPHA,
            state=((M, 0.0), (V, 0.0)),
            hyper=(
                (BETA_1, self.beta_1),
                (BETA_2, self.beta_2),
                (EPSILON, self.epsilon),
                (LAMBDA, self.weight_decay),
            ),
        )

    def _hyper_repr(self) -> str:
        return (
            f"lr={self.lr!r}, beta_1={self.beta_1!r}, beta_2={self.beta_2!r}, "
            f"epsilon={self.epsilon!r}, weight_decay={self.weight_decay!r}"
        )


_REGISTRY: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Nesterov, Sign, Adagrad, RMSprop, Adam, AdaMax, AdamW)
}


def get(name_or_instance: str | Optimizer, **kwargs: Any) -> Optimizer:
    """Return an optimizer from its name (case-insensitive) or pass an instance through.

    Names: ``sgd``, ``momentum``, ``nesterov``, ``sign``, ``adagrad``, ``rmsprop``,
    ``adam``, ``adamax``, ``adamw``. Keyword arguments go to the constructor.
    """
    if isinstance(name_or_instance, Optimizer):
        if kwargs:
            raise TrainingError("pass hyperparameters to the optimizer, not to get(instance)")
        return name_or_instance
    if not isinstance(name_or_instance, str):
        raise TrainingError(f"optimizer must be a name or an Optimizer, got {name_or_instance!r}")
    key = name_or_instance.strip().lower()
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, list(_REGISTRY), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(_REGISTRY)
        raise TrainingError(f"unknown optimizer {name_or_instance!r} (known: {known}){hint}")
    try:
        return _REGISTRY[key](**kwargs)
    except TypeError as exc:  # an unknown keyword: say which, in one line
        raise TrainingError(f"{key}: {exc}") from None


def names() -> Iterable[str]:
    """The names :func:`get` accepts."""
    return tuple(_REGISTRY)
