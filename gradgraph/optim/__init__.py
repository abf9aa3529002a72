"""Optimizers whose numeric step is compiled from their SymPy update rule.

Each optimizer states its update for one parameter element as a list of
``sympy.Eq`` (read top to bottom, like the paper's algorithm box), shows it as
Unicode or LaTeX for lessons, and turns that very list into a numpy function
with :class:`~sympy.printing.numpy.NumPyPrinter`. The generated program is kept
as ``.source``; it is built only from symbols this package creates, never from
user text, and runs with no builtins.

Forms follow the papers (Kingma & Ba 2015, Algorithms 1 and 2), not the slides:
Adam divides by ``1 − β₁ᵗ`` and ``1 − β₂ᵗ`` with ``t`` counted from 1, has no
trailing ``·∇C``, and every accumulator is element-wise ``g⊙g``.
"""

from __future__ import annotations

from .adam import Adam, AdaMax, AdamW
from .adaptive import Adagrad, RMSprop
from .base import Optimizer
from .registry import _REGISTRY as _REGISTRY
from .registry import get, get_class, names
from .schedules import (
    Constant,
    Cosine,
    Exponential,
    InverseTime,
    LinearToFloor,
    Schedule,
    StepDecay,
    get_schedule,
    schedule_names,
)
from .sgd import SGD, Momentum, Nesterov, Sign

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
    "get_schedule",
    "schedule_names",
    "get_class",
    "names",
]
