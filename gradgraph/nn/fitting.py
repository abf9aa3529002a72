"""What :class:`~gradgraph.nn.Sequential` hands to the graph and to the trainer: the
shared graph of a model text, the cost lines, the dtype check, dropout masks and batch
normalisation's running statistics."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import train as _train
from ..errors import TrainingError
from ..graph import Graph
from .layers import Block


@functools.lru_cache(maxsize=64)
def shared_graph(text: str) -> Graph:
    """Graphs are immutable: models with the same text share one (and its compiled code)."""
    return Graph.from_text(text, cost="C")


class RunningStats(_train.Callback):
    """Keras's moving averages of batch normalisation, updated after every step."""

    # Reads the step's batch statistics only: replayable after a whole jitted epoch.
    observes_batches = True

    def __init__(self, stats: Mapping[str, tuple[str, str, str, float]],
                 constants: dict[str, np.ndarray]):
        self.stats, self.constants = stats, constants

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> None:
        batch = logs["batch_stats"]
        for mu, (var, mean, variance, momentum) in self.stats.items():
            # In place: the trainer's copy of the constants is these very arrays.
            for running, value in ((self.constants[mean], batch[mu]),
                                   (self.constants[variance], batch[var])):
                running *= momentum
                running += (1.0 - momentum) * value


def cost_lines(loss: str, block: Block) -> list[str]:
    """``C = loss``; with penalties the loss is the slides' C₀ and C = C₀ + λΣw²."""
    if not block.penalties:
        return [f"C = {loss}"]
    return [f"C_0 = {loss}", "C = C_0 + " + " + ".join(block.penalties)]


def float_dtype(dtype: Any) -> np.dtype:
    """float32 or float64, from a name or a numpy dtype; anything else is refused."""
    try:
        dt = np.dtype(dtype) if isinstance(dtype, str | type | np.dtype) else None
    except TypeError:
        dt = None
    # (np.dtype == None is True: numpy reads None as float64, so test "is None" first.)
    if dt is None or dt.name not in ("float32", "float64"):
        raise TrainingError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return dt


def mask_feed(block: Block, dtype: np.dtype) -> _train.Feed:
    """Fresh inverted-dropout masks each step: 1 with probability 1 − rate, else 0."""
    masks = dict(block.masks)

    def feed(info: _train.StepInfo, batch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        # In the training dtype: a float64 mask would upcast every float32 activation.
        return {name: (info.rng.random((info.size, units)) >= rate).astype(dtype)
                for name, (units, rate) in masks.items()}

    return feed
