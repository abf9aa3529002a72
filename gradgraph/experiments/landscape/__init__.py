"""Li et al. (2018) loss landscapes: filter-normalised slices around a trained minimum.

Protocol: MLP 64-256-256-10 ReLU trained with SGD momentum 0.9,
lr 0.02 divided by 10 at 50/75/90 % of 200 epochs, small batch (16) against large
batch (512), weight decay 0 or 5e−4. Around the trained θ, a random direction d is
drawn like θ and *filter-normalised* (Li §4; ``net_plotter.py``): each neuron's row
``d[j, :]`` of a weight matrix is rescaled to the norm of ``θ[j, :]``, and the
biases of d are zeroed. The 1-D curve is L(θ + αd) on the whole training set,
averaged over 5 directions, α ∈ [−1, 1]; the 2-D surface is L(θ + αδ + βη). Sharpness
is ΔL = L(θ ± 0.5d) − L(θ). Large-batch minima come out 3–8× sharper.

The optional trajectory uses Li §7's PCA directions of the iterates (random
directions are nearly orthogonal to an optimisation path) and draws the path of
θ at every epoch end on the loss contour of that plane.

Quick mode trains each batch size until its minimum is reached — the training loss
below 0.01, or less than 1 % lower over the last 20 epochs — at the constant lr (at
most 400 epochs; batch 512 needs about 175, batch 16 about 5), then runs Li's decay
scaled to that time: ÷10 at E, 1.5E, 1.8E, stopping at 2E. A fixed epoch count would
compare a small-batch minimum with a large-batch run still descending (60 epochs left
batch 512 at loss 0.16). At equal loss the large batch's minimum comes out about 1.5×
as sharp on the quick 64-64 net.

The package: :mod:`.training` (schedule, training to a minimum), :mod:`.slices`
(directions, curves, surfaces, the trajectory plane), :mod:`.report` (the result, its
verdict, table and figure); :func:`run` ties them together.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...errors import TrainingError
from ...examples import mlp_text
from ...graph import Graph
from ..common import Progress, Timer, digits, notify, rng_for, single_thread
from .report import SHARPER, LandscapeResult
from .slices import (
    _loss_fn,
    _minimum,
    _surface,
    _trajectory,
    curve,
    filter_normalized_direction,
    surface,
)
from .training import TARGET_LOSS, _MultiStep, _train, converged, with_weight_decay

__all__ = ["SHARPER", "TARGET_LOSS", "LandscapeResult", "_MultiStep", "_loss_fn", "_train",
           "converged", "curve", "digits", "filter_normalized_direction", "run", "surface",
           "with_weight_decay"]


def run(quick: bool = True, seed: int = 0, progress: Progress | None = None, *,
        batch_sizes: Sequence[int] = (16, 512), weight_decays: Sequence[float] | None = None,
        dims: int = 1, trajectory: bool = False, seeds: int | None = None,
        epochs: int | None = None, hidden: Sequence[int] | None = None, lr: float = 0.02,
        directions: int | None = None, points: int | None = None, grid: int | None = None,
        train_size: int | None = None, until_minimum: bool | None = None) -> LandscapeResult:
    """Train at each batch size (and weight decay), then slice the loss around each minimum.

    quick: 64-64-64-10, each run until its minimum (``until_minimum``: training loss
    < 0.01 or a plateau) within 400 epochs, 1 seed, 3 directions, 21 points, 11×11 grid,
    no weight decay; full: §4(c) (256-256, all 1527 images, 200 epochs, 3 seeds, weight
    decay 0 and 5e−4, 5 directions, 41 points, 25×25 grid).
    """
    if dims not in (1, 2):
        raise TrainingError(f"dims must be 1 or 2, got {dims!r}")
    if not batch_sizes or any(b < 1 for b in batch_sizes):
        raise TrainingError("batch sizes must be integers >= 1")
    if weight_decays is None:
        weight_decays = (0.0,) if quick else (0.0, 5e-4)
    if any(w < 0 for w in weight_decays):
        raise TrainingError("weight decay must be >= 0")
    hidden = list(hidden or ((64, 64) if quick else (256, 256)))
    n_seeds = seeds if seeds is not None else (1 if quick else 3)
    epochs = epochs or (400 if quick else 200)
    until_minimum = quick if until_minimum is None else until_minimum
    directions = directions or (3 if quick else 5)
    points = points or (21 if quick else 41)
    grid = grid or (11 if quick else 25)
    data = digits()
    train_size = min(train_size or len(data.X_train), len(data.X_train))
    pick = rng_for(seed, 2).permutation(len(data.X_train))[:train_size]
    train = {"x": data.X_train[pick], "y": data.Y_train[pick]}
    text = mlp_text([64, *hidden, 10], activation="relu")
    graph = Graph.from_text(text)  # the loss that is sliced: cross-entropy alone
    loss = _loss_fn(graph, train)
    alphas = np.linspace(-1, 1, points)
    timer = Timer()
    result = LandscapeResult(hidden=hidden, epochs=epochs, lr=lr, train_size=train_size,
                             directions=directions, minima=[], until_minimum=until_minimum)
    tasks = [(bs, wd, seed + i) for wd in weight_decays for bs in batch_sizes
             for i in range(n_seeds)]
    with single_thread():
        for k, (bs, wd, s) in enumerate(tasks):
            def report(msg: str, k: int = k, bs: int = bs, wd: float = wd, s: int = s) -> None:
                notify(progress, k, len(tasks), f"batch {bs}, wd {wd:g}, seed {s}: {msg}")

            first = s == seed
            trained_on = Graph.from_text(with_weight_decay(text, graph.params, wd)) if wd \
                else graph
            theta, path, settled = _train(trained_on, train, loss, bs, s, epochs, lr,
                                          trajectory and first, until_minimum, report)
            report("1-D slices")
            minimum = _minimum(graph, loss, theta, data, train, alphas, directions, s)
            result.minima.append({"batch_size": bs, "weight_decay": wd, "seed": s, **settled,
                                  **minimum})
            if dims == 2 and first:
                report("2-D surface")
                result.surfaces.append({"batch_size": bs, "weight_decay": wd, "seed": s,
                                        **_surface(loss, theta, grid, s)})
            if trajectory and first:
                report("trajectory")
                result.trajectories.append({"batch_size": bs, "weight_decay": wd, "seed": s,
                                            **_trajectory(loss, theta, path, grid)})
    notify(progress, len(tasks), len(tasks), "done")
    result.seconds = timer.seconds
    return result
