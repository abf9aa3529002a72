"""Learning-rate schedules: factors of the base rate ρ₀, as functions of k = steps taken."""

from __future__ import annotations

import difflib
import math
from typing import Any, ClassVar

from ..errors import TrainingError
from .validate import _count, _nonnegative, _positive


def _fmt(x: float) -> str:
    return f"{x:g}"


def _floor(value: Any) -> float:
    """A schedule's lowest rate as a fraction of lr: in [0, 1]."""
    floor = _nonnegative("floor", value)
    if floor > 1:
        raise TrainingError(f"floor must be in [0, 1] (a fraction of lr), got {value!r}")
    return floor


class Schedule:
    """A learning-rate schedule: ``schedule(k)`` is the factor ρₖ/ρ₀.

    ``k`` is the number of updates already made (0 for the first step), as in
    Goodfellow et al. §8.3.1 (ρₖ, ρ₀ at k = 0), Keras (``step``) and PyTorch
    (``last_epoch``). An optimizer's ``lr_at(t)`` for step ``t`` (from 1) is
    ``lr · schedule(t − 1)``.
    """

    # The name get_schedule() knows it by (None: a schedule defined elsewhere).
    name: ClassVar[str | None] = None
    # The constructor's arguments, in order, as repr shows them; None (a schedule defined
    # elsewhere that lists none) keeps the default object repr.
    settings: ClassVar[tuple[str, ...] | None] = None

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

    def __repr__(self) -> str:
        if self.settings is None:
            return super().__repr__()
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.settings)
        return f"{type(self).__name__}({args})"


class Constant(Schedule):
    """ρₖ = ρ₀."""

    name = "constant"
    settings = ()

    def _factor(self, k: int) -> float:
        return 1.0

    def _body(self, lr0: str) -> str:
        return lr0

    def _body_latex(self, lr0: str) -> str:
        return lr0


class StepDecay(Schedule):
    """ρₖ = ρ₀·factor^⌊k/every⌋ (Keras ``ExponentialDecay(staircase=True)``, torch ``StepLR``)."""

    name = "step"
    settings = ("every", "factor")

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


class Exponential(Schedule):
    """ρₖ = ρ₀·e^(−rate·k) (the usual "exponential decay" α₀e^(−kt))."""

    name = "exponential"
    settings = ("rate",)

    def __init__(self, rate: float):
        self.rate = _nonnegative("rate", rate)

    def _factor(self, k: int) -> float:
        return math.exp(-self.rate * k)

    def _body(self, lr0: str) -> str:
        return f"{lr0}·e^(−{_fmt(self.rate)}·k)"

    def _body_latex(self, lr0: str) -> str:
        return rf"{lr0} \, e^{{-{_fmt(self.rate)} k}}"


class InverseTime(Schedule):
    """ρₖ = ρ₀/(1 + decay·k) (1/t decay; Keras ``InverseTimeDecay`` with decay_steps 1)."""

    name = "inverse-time"
    settings = ("decay",)

    def __init__(self, decay: float):
        self.decay = _nonnegative("decay", decay)

    def _factor(self, k: int) -> float:
        return 1.0 / (1.0 + self.decay * k)

    def _body(self, lr0: str) -> str:
        return f"{lr0}/(1 + {_fmt(self.decay)}·k)"

    def _body_latex(self, lr0: str) -> str:
        return rf"\frac{{{lr0}}}{{1 + {_fmt(self.decay)} k}}"


class LinearToFloor(Schedule):
    """Goodfellow et al. §8.3.1: ρₖ = (1 − k/τ)·ρ₀ + (k/τ)·ρ_τ for k ≤ τ, then ρ_τ.

    ``floor`` is ρ_τ as a fraction of ρ₀ (the book suggests about 0.01).
    """

    name = "linear"
    settings = ("tau", "floor")

    def __init__(self, tau: int, floor: float = 0.01):
        self.tau = _count("tau", tau)
        self.floor = _floor(floor)

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


class Cosine(Schedule):
    """ρₖ = ρ_min + (ρ₀ − ρ_min)·½(1 + cos(π·min(k, total)/total)) (SGDR without restarts).

    ``floor`` is ρ_min as a fraction of ρ₀ (0 by default, like torch ``eta_min=0``).
    """

    name = "cosine"
    settings = ("total", "floor")

    def __init__(self, total: int, floor: float = 0.0):
        self.total = _count("total", total)
        self.floor = _floor(floor)

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


def _check_schedule(schedule: Any) -> Schedule | None:
    if schedule is None or isinstance(schedule, Schedule):
        return schedule
    raise TrainingError(
        f"schedule must be a gradgraph.optim schedule (Constant, StepDecay, ...), got {schedule!r}"
    )


_SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, StepDecay, Exponential, InverseTime, LinearToFloor, Cosine)
    if cls.name is not None
}


def schedule_names() -> tuple[str, ...]:
    """The names :func:`get_schedule` knows: constant, step, exponential, inverse-time,
    linear, cosine."""
    return tuple(_SCHEDULES)


def get_schedule(name: str, **kwargs: Any) -> Schedule:
    """A schedule from its name (case-insensitive) and its settings, e.g.
    ``get_schedule("step", every=10, factor=0.5)``; each class's ``settings`` lists them."""
    key = name.strip().lower() if isinstance(name, str) else None
    if key not in _SCHEDULES:
        close = difflib.get_close_matches(str(key), list(_SCHEDULES), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise TrainingError(f"unknown schedule {name!r} (known: {', '.join(_SCHEDULES)}){hint}")
    cls = _SCHEDULES[key]
    unknown = [k for k in kwargs if k not in (cls.settings or ())]
    if unknown:
        takes = ", ".join(cls.settings or ()) or "no settings"
        raise TrainingError(f"schedule {key} has no setting {unknown[0]!r} (it takes: {takes})")
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a missing setting: say which, in one line
        raise TrainingError(f"schedule {key}: {exc}") from None
