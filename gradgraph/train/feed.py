"""Feeding per-step inputs (dropout masks, noise) through fit's ``feed`` function."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import TrainingError

if TYPE_CHECKING:
    from .loop import Trainer

Feed = Callable[["StepInfo", dict[str, np.ndarray]], Mapping[str, Any]]


@dataclass
class StepInfo:
    """What a ``feed`` function knows about the step it feeds.

    ``rng`` draws masks and noise; it is seeded from fit's ``seed`` but separate from
    the shuffling, so adding dropout does not change the batch order.
    """

    epoch: int  # from 1
    step: int  # from 1, over the whole run
    batch: int  # index within the epoch, from 0
    size: int  # examples in this batch
    rng: np.random.Generator
    training: bool = True


def _feed(trainer: Trainer, epoch: int, b: int, size: int, ahead: int = 0) -> list[str]:
    """Call the trainer's ``feed`` for batch ``b`` and put what it gives in the work arrays.

    ``ahead``: steps between the last one taken and this one (a backend that draws a
    whole epoch's inputs before running it). Returns the names it set.
    """
    step = trainer.step_count + ahead
    info = StepInfo(epoch + 1, step + 1, b, size, trainer.feed_rng)
    batch = {name: trainer.work[name] for name in trainer.data}
    extra = trainer.feed(info, batch)  # type: ignore[misc]
    names = []
    for key, value in extra.items():
        name = key if key in trainer.work and key not in trainer.caller_params \
            else trainer.graph.resolve(key)
        trainer.work[name] = value
        names.append(name)
    if step == 0:  # checked once: the loop trusts feed afterwards
        _check_first_feed(trainer, extra, size)
    return names


def _check_first_feed(trainer: Trainer, extra: Mapping[str, Any], size: int) -> None:
    """Every leaf left to feed has a value, and every fed input the batch's shape."""
    missing = [n for n in trainer.fed if n not in trainer.work]
    if missing:
        raise TrainingError(f"no values for '{missing[0]}': feed did not give it")
    graph = trainer.graph
    for key in extra:
        name = graph.resolve(key)
        arr, shape = np.asarray(trainer.work[name]), graph[name].shape
        if graph[name].role == "input" and arr.shape != (size, *shape):
            raise TrainingError(f"feed gave '{name}' of shape {arr.shape}; this batch "
                                f"needs {(size, *shape)}")
