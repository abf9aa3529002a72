"""Losses as cost formulas in graph text, with the prediction node and accuracy rule.

- ``categorical_crossentropy``: ``C = cross_entropy(a, y)`` after a softmax; the graph
  computes it from the logits (log-softmax) and ∂C/∂z = a − y.
- ``mse`` / ``mean_squared_error``: ``C = sum((a - y)^2) / units`` (Keras averages over
  the output units).
- ``binary_crossentropy``: from the logits z, ``C = sum(softplus(z) - y*z) / units``
  (= −y log σ(z) − (1 − y) log(1 − σ(z)), stable for any z). After a final sigmoid the
  logits are its input; without one the model's output is taken as logits (and
  accuracy thresholds it at 0 instead of 0.5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .. import ops
from ..errors import TrainingError
from .layers import Block

# categorical_crossentropy is the registry's cross-entropy, taken after the op it fuses
# with (softmax: the graph computes it from the logits and ∂C/∂z = a − y).
_XENT = ops.CROSS_ENTROPY
_XENT_AFTER = _XENT.fusion.producer if _XENT.fusion is not None else "softmax"

LOSSES = ("categorical_crossentropy", "mse", "mean_squared_error", "binary_crossentropy")


@dataclass(frozen=True)
class Cost:
    """The cost line of each graph and what the metrics compare with the labels."""

    train: str
    infer: str
    output: str  # the prediction node in the training graph
    output_infer: str  # … and in the inference graph
    accuracy: Callable[[np.ndarray, np.ndarray], float] | None = None  # None: the default


def canonical(name: str) -> str:
    if not isinstance(name, str) or name.strip().lower() not in LOSSES:
        raise TrainingError(f"unknown loss {name!r}; use one of {', '.join(LOSSES)}")
    key = name.strip().lower()
    return "mse" if key == "mean_squared_error" else key


def logit_accuracy(pred: np.ndarray, target: np.ndarray) -> float:
    """Binary accuracy for logits: z > 0 means class 1 (σ(z) > 0.5)."""
    return np.count_nonzero((pred > 0) == (target > 0.5)) / len(pred)


logit_accuracy.__name__ = "accuracy"


def cost(name: str, block: Block) -> Cost:
    """The cost formulas for loss ``name`` on the model written into ``block``."""
    name = canonical(name)
    cur, cur_i, units = block.current, block.current_infer, block.units
    if name == "categorical_crossentropy":
        op = _XENT.name
        if block.activation != _XENT_AFTER:
            raise TrainingError(f"categorical_crossentropy needs a {_XENT_AFTER} output: end "
                                f"the model with Activation('{_XENT_AFTER}') (or "
                                f"Dense(..., activation='{_XENT_AFTER}'))")
        return Cost(f"{op}({cur}, y)", f"{op}({cur_i}, y)", cur, cur_i)
    if name == "mse":
        return Cost(f"sum(({cur} - y)^2) / {units}", f"sum(({cur_i} - y)^2) / {units}",
                    cur, cur_i)
    if block.activation == "sigma" and block.logits is not None:
        z = block.logits
        text = f"sum(softplus({z}) - y*{z}) / {units}"
        return Cost(text, text, cur, cur_i)
    return Cost(f"sum(softplus({cur}) - y*{cur}) / {units}",
                f"sum(softplus({cur_i}) - y*{cur_i}) / {units}", cur, cur_i, logit_accuracy)
