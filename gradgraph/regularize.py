"""L1 and L2 penalties as terms of the graph, so diagrams and derivations show them.

A regulariser is a small object that writes its term for one weight node in
gradgraph's text language; the term is added to the cost, so ``gradgraph.derive``
shows ∂(C + λΣw²)/∂w = ∂C/∂w + 2λw and the compiled step computes exactly that.

Semantics are Keras's (the slides' C + λΣ‖W‖₂ is a slip for the squared norm): ``l2(λ)`` adds
λ·Σw² (the squared norm; gradient 2λw — PyTorch's ``weight_decay=wd`` is the gradient
of (wd/2)Σw², i.e. λ = wd/2); ``l1(λ)`` adds λ·Σ|w| (subgradient λ·sign(w), 0 at 0).
The deck's unsquared λ‖W‖₂ is a different (group-lasso) penalty. Keras's default
strength is 0.01 for both. The penalty is added once to each example's cost, so the
batch-mean loss is mean(C) + λΣw², as Keras reports it.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import TrainingError

__all__ = ["Regularizer", "l1", "l2", "l1_l2", "get"]


def _strength(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TrainingError(f"{name} must be a number >= 0, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value < 0:
        raise TrainingError(f"{name} must be a finite number >= 0, got {value!r}")
    return value


def _number(x: float) -> str:
    """A float as the parser reads it back exactly (repr is the shortest round trip)."""
    return repr(float(x))


@dataclass(frozen=True)
class Regularizer:
    """λ₁Σ|w| + λ₂Σw² for one weight tensor; build with :func:`l1`, :func:`l2`, :func:`l1_l2`."""

    l1: float = 0.0
    l2: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "l1", _strength("l1", self.l1))
        object.__setattr__(self, "l2", _strength("l2", self.l2))

    def term(self, weight: str, scalar: bool = False) -> str:
        """The penalty in graph text, e.g. ``0.0001*sum(W^(1)^2)``; "" when it is zero.

        ``scalar=True`` for a weight without a declared shape (``w`` in
        ``z = w*x + b``): ``0.0001*w^2``, as ``sum`` belongs to graphs with layers.
        """
        # The term is graph text: a weight that is not one name would splice other
        # text (even statements) into the user's graph.
        from .errors import ParseError
        from .parse import parse_name

        try:
            ok = isinstance(weight, str) and bool(parse_name(weight))
        except ParseError:
            ok = False
        if not ok:
            raise TrainingError(f"a regularizer's weight must be the name of one node, "
                                f"got {str(weight)[:40]!r}")

        def total(e: str) -> str:
            return e if scalar else f"sum({e})"

        parts = []
        if self.l2:
            parts.append(f"{_number(self.l2)}*{total(f'{weight}^2')}")
        if self.l1:
            parts.append(f"{_number(self.l1)}*{total(f'abs({weight})')}")
        return " + ".join(parts)

    def __call__(self, w: Any) -> float:
        """The penalty's value for an array of weights (Keras regularizers are callables)."""
        w = np.asarray(w, dtype=float)
        return float(self.l1 * np.abs(w).sum() + self.l2 * np.square(w).sum())

    def gradient(self, w: Any) -> np.ndarray:
        """∂(penalty)/∂w = λ₁·sign(w) + 2λ₂·w (sign(0) = 0, the subgradient at 0)."""
        w = np.asarray(w, dtype=float)
        return self.l1 * np.sign(w) + 2.0 * self.l2 * w

    def __bool__(self) -> bool:
        return bool(self.l1 or self.l2)

    def get_config(self) -> dict[str, float]:
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self) -> str:
        if self.l1 and self.l2:
            return f"l1_l2(l1={self.l1!r}, l2={self.l2!r})"
        return f"l1({self.l1!r})" if self.l1 else f"l2({self.l2!r})"


def l1(lam: float = 0.01) -> Regularizer:
    """λ·Σ|w| (Keras ``L1``; default λ = 0.01)."""
    return Regularizer(l1=lam)


def l2(lam: float = 0.01) -> Regularizer:
    """λ·Σw², gradient 2λw (Keras ``L2``; default λ = 0.01)."""
    return Regularizer(l2=lam)


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> Regularizer:  # noqa: A002 - Keras names
    """λ₁·Σ|w| + λ₂·Σw² (Keras ``L1L2``)."""
    return Regularizer(l1=l1, l2=l2)


def get(spec: Regularizer | str | dict | None) -> Regularizer | None:
    """A regulariser from an instance, a name ("l1", "l2", "l1_l2"), a config dict or None."""
    if spec is None or isinstance(spec, Regularizer):
        return spec
    if isinstance(spec, str):
        makers = {"l1": l1, "l2": l2, "l1_l2": l1_l2}
        key = spec.strip().lower()
        if key not in makers:
            raise TrainingError(f"unknown regularizer {spec!r}; use 'l1', 'l2' or 'l1_l2'")
        return makers[key]()
    if isinstance(spec, dict) and set(spec) <= {"l1", "l2"}:
        return Regularizer(**spec)
    raise TrainingError(f"a regularizer is gradgraph.regularize.l1(...)/l2(...) or a name, "
                        f"got {spec!r}")
