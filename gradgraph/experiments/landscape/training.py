"""Training to a minimum: SGD momentum 0.9 with Li's step decay, fixed or sized to
the epoch the minimum is reached (see :func:`_train`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ... import optim
from ...errors import TrainingError
from ...graph import Graph
from ...train import fit
from ..common import EpochCallback, init_params, rng_for
from .slices import _flat


class _MultiStep(optim.Schedule):
    """ρₖ = ρ₀·0.1^(milestones passed) (torch ``MultiStepLR``; Li: ×0.1 at 150/225/275)."""

    def __init__(self, milestones: Sequence[int], factor: float = 0.1):
        self.milestones = sorted(int(m) for m in milestones)
        self.factor = factor

    def _factor(self, k: int) -> float:
        return self.factor ** sum(k >= m for m in self.milestones)

    def _body(self, lr0: str) -> str:
        return f"{lr0}·{self.factor:g}^(number of {self.milestones} passed by k)"

    def _body_latex(self, lr0: str) -> str:
        return rf"{lr0} \cdot {self.factor:g}^{{\#\{{m \le k\}}}}"


def with_weight_decay(text: str, params: Sequence[str], weight_decay: float) -> str:
    """The graph text with (λ/2)·Σθ² added to its cost (the last line).

    Its gradient λθ is PyTorch's ``weight_decay=λ`` (applied, as there, to every
    parameter, biases included), and it stays a term of the graph that ``derive`` can
    show. The landscape itself is sliced on the cross-entropy alone, as in Li et al.
    """
    penalty = " + ".join(f"sum({p}^2)" for p in params)
    lines = text.rstrip("\n").split("\n")
    lines[-1] += f" + {weight_decay / 2!r}*({penalty})"
    return "\n".join(lines) + "\n"


TARGET_LOSS = 0.01  # a training loss this low counts as a minimum reached


def converged(losses: Sequence[float], window: int) -> str | None:
    """Why training has reached its minimum (loss < TARGET_LOSS, or < 1 % lower than
    ``window`` epochs ago), or None while it is still descending."""
    if losses and losses[-1] < TARGET_LOSS:
        return f"loss < {TARGET_LOSS:g}"
    if len(losses) > window and losses[-window - 1] - losses[-1] < 0.01 * losses[-1]:
        return f"plateaued (< 1 % lower over the last {window} epochs)"
    return None


def _train(graph: Graph, train: dict[str, np.ndarray], loss: Any, batch_size: int, seed: int,
           epochs: int, lr: float, keep_path: bool, until_minimum: bool,
           report: Any) -> tuple[dict[str, np.ndarray], list[np.ndarray], dict[str, Any]]:
    """SGD momentum 0.9 with Li's step decay; returns θ, its path and how training ended.

    Fixed length (the protocol): ÷10 at 50/75/90 % of ``epochs``. ``until_minimum``:
    constant lr until :func:`converged` at epoch E (at most ``epochs``), then the same
    decay scaled to E — ÷10 at E, 1.5E and 1.8E, stopping at 2E — so each batch size gets
    Li's schedule sized to the time it needs to reach its minimum.
    """
    per_epoch = -(-len(train["x"]) // batch_size)
    schedule = _MultiStep([] if until_minimum else
                          [int(f * epochs) * per_epoch for f in (0.5, 0.75, 0.9)])
    opt = optim.SGD(lr=lr, momentum=0.9, schedule=schedule)
    params = init_params(graph, "default", rng_for(seed, 0))
    path = [_flat(params)] if keep_path else []
    losses: list[float] = []  # the cross-entropy on the whole training set, per epoch
    window = max(5, epochs // 20)
    reached: dict[str, Any] = {"epoch": None, "why": None}

    def on_epoch_end(epoch: int, logs: dict[str, float]) -> bool:
        if keep_path:
            path.append(_flat(params))
        losses.append(loss(params))
        done = epoch + 1
        if done % 10 == 0 or done == epochs:
            report(f"epoch {done}, loss {losses[-1]:.3g}")
        if not until_minimum:
            return False
        if reached["epoch"] is None:
            reached["why"] = converged(losses, window)
            if reached["why"] is None:
                return done >= epochs  # the cap: not at a minimum
            reached["epoch"] = done
            schedule.milestones = [int(f * done) * per_epoch for f in (1.0, 1.5, 1.8)]
        return done >= 2 * reached["epoch"]

    history = fit(graph, params, train, opt, 4 * epochs if until_minimum else epochs,
                  batch_size, seed=seed, metrics=(), callbacks=[EpochCallback(on_epoch_end)])
    if history.diverged:
        raise TrainingError(f"batch {batch_size}, seed {seed} diverged ({history.diverged}); "
                            "try a smaller lr")
    why = reached["why"] if until_minimum else converged(losses, window)
    if until_minimum and why is not None:
        decays = "/".join(str(m // per_epoch) for m in schedule.milestones)
        why += f" at epoch {reached['epoch']}, then lr ÷10 at epochs {decays}"
    return params, path, {"epochs_trained": history.epochs, "converged": why}
