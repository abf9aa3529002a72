"""What a run leaves behind: the per-epoch :class:`History` and the :class:`NonFiniteError`
that stopped it, if one did."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import TrainingError


class NonFiniteError(TrainingError):
    """Training met a loss, gradient or update that is not finite.

    Attributes: ``epoch`` (from 1), ``step`` (from 1, counted over the whole run),
    ``parameter`` (None for the loss), ``lr`` (the learning rate of that step) and
    ``what`` ("loss", "gradient" or "update").
    """

    def __init__(self, what: str, epoch: int, step: int, parameter: str | None, lr: float):
        self.what, self.epoch, self.step = what, epoch, step
        self.parameter, self.lr = parameter, lr
        subject = "the loss" if parameter is None else f"the {what} of '{parameter}'"
        super().__init__(
            f"training stopped at epoch {epoch}, step {step}: {subject} is not finite "
            f"(learning rate {lr:g}); parameters kept from before that step — try a "
            f"smaller learning rate")


@dataclass
class History:
    """Per-epoch logs, Keras-style: ``history.history["val_accuracy"][-1]``.

    ``epoch`` lists the epochs run (from 0, as Keras); ``epochs`` is how many.
    ``stopped`` is the :class:`NonFiniteError` that ended training, if one did;
    ``message`` says why training ended early (non-finite value or a callback).
    ``params`` records the run's settings.
    """

    history: dict[str, list[float]] = field(default_factory=dict)
    epoch: list[int] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    stopped: NonFiniteError | None = None
    message: str | None = None

    @property
    def epochs(self) -> int:
        return len(self.epoch)

    @property
    def diverged(self) -> str | None:
        """The non-finite report as text (None when training did not diverge)."""
        return str(self.stopped) if self.stopped is not None else None

    def record(self, epoch: int, logs: Mapping[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            if isinstance(value, numbers.Real):
                self.history.setdefault(key, []).append(float(value))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN and infinities become None)."""
        def clean(v: float) -> float | None:
            return v if math.isfinite(v) else None

        stopped = None
        if self.stopped is not None:
            s = self.stopped
            stopped = {"what": s.what, "epoch": s.epoch, "step": s.step,
                       "parameter": s.parameter, "lr": s.lr, "message": str(s)}
        return {"history": {k: [clean(v) for v in vs] for k, vs in self.history.items()},
                "epoch": list(self.epoch), "params": dict(self.params),
                "stopped": stopped, "message": self.message}

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        tail = f", stopped: {self.message}" if self.message else ""
        return f"History({self.epochs} epochs: {last}{tail})"
