"""Callbacks: the base class, :class:`EarlyStopping` and :class:`ProgressLogger`.

Any object with some of the ``on_…`` methods will do as a callback; see
:mod:`gradgraph.train` for when each is called.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import TrainingError

if TYPE_CHECKING:
    from .loop import Trainer


class Callback:
    """Base class for callbacks (optional: any object with these methods will do)."""

    trainer: Trainer | None = None

    def on_train_begin(self, logs: dict[str, Any]) -> bool | None:
        return None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> bool | None:
        return None

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> bool | None:
        return None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> bool | None:
        return None

    def on_train_end(self, logs: dict[str, Any]) -> bool | None:
        return None


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Keras semantics: ``mode="auto"`` minimises losses and maximises accuracies;
    ``restore_best_weights`` (alias ``restore_best``) puts back the parameters of the
    best epoch when training stops (by this callback or at the end of the epochs).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 0, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False, *,
                 restore_best: bool | None = None):
        if not isinstance(patience, numbers.Integral) or isinstance(patience, bool) \
                or patience < 0:
            raise TrainingError(f"patience must be an integer >= 0, got {patience!r}")
        if not isinstance(min_delta, numbers.Real) or min_delta < 0:
            raise TrainingError(f"min_delta must be a number >= 0, got {min_delta!r}")
        if mode not in ("auto", "min", "max"):
            raise TrainingError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        maximise = mode == "max" or (mode == "auto" and "acc" in monitor)
        self.sign = -1.0 if maximise else 1.0  # compare sign·value: smaller is better
        self.restore = bool(restore_best if restore_best is not None else restore_best_weights)
        self.best: float = math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self._best_params: dict[str, np.ndarray] | None = None

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        names = logs.get("metrics", ())
        if names and self.monitor not in names:
            raise TrainingError(f"EarlyStopping monitors '{self.monitor}', which this run "
                                f"does not log (it logs {', '.join(names)})")
        self.best, self.best_epoch, self.wait, self.stopped_epoch = math.inf, None, 0, None
        self._best_params = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> bool:
        value = logs.get(self.monitor)
        if value is None or not math.isfinite(value):
            return False
        if self.sign * value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = self.sign * value, epoch, 0
            if self.restore and self.trainer is not None:
                self._best_params = {k: v.copy() for k, v in self.trainer.params.items()}
            return False
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            if self.trainer is not None:
                self.trainer.stop_reason = (
                    f"early stopping: {self.monitor} has not improved for {self.wait} "
                    f"epochs (best {self.sign * self.best:.4g} at epoch {self.best_epoch + 1})")
            return True
        return False

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.restore and self._best_params is not None and self.trainer is not None:
            self.trainer.set_params(self._best_params)


class ProgressLogger(Callback):
    """Keras-like epoch lines and an optional per-batch progress hook; prints nothing.

    ``write(line)`` gets ``Epoch 3/15 - 0.1s - loss: 0.1234 - accuracy: 0.9712 - …``;
    ``advance(examples)`` is called after every batch (drive a progress bar with it).
    """

    # on_batch_end only reports: a backend may replay it after running a whole epoch.
    observes_batches = True

    def __init__(self, write: Callable[[str], None] | None = None,
                 advance: Callable[[int], None] | None = None):
        self.write, self.advance = write, advance
        self._start = 0.0
        self._epochs = 0

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self._epochs = int(logs.get("epochs", 0))

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self._start = time.perf_counter()

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> None:
        if self.advance is not None:
            self.advance(int(logs.get("size", 1)))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.write is None:
            return
        took = time.perf_counter() - self._start
        parts = [f"Epoch {epoch + 1}/{self._epochs}", f"{took:.2f}s"]
        parts += [f"{k}: {v:.4f}" for k, v in logs.items() if isinstance(v, numbers.Real)]
        self.write(" - ".join(parts))
