"""Zhang et al. (2017) randomisation test: an MLP memorises digits with random labels.

Protocol: the deck's digits split; each *training* label is
replaced with probability p by a uniformly drawn class (Zhang §2.1); an MLP 3×512
ReLU with PyTorch's default init and no regularisation is trained with Adam 1e−3,
batch 128, until it classifies every (corrupted) training label correctly (cap 300
epochs); test accuracy is measured on the *true* test labels. Training accuracy
reaches 100 % at every p while test accuracy falls to chance.

Quick mode trains a 2×256 net on 1000 training images, one seed (the same picture in
about 20 s; Zhang's point needs enough images that memorising them is work).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import optim
from ..data import corrupt_labels, one_hot
from ..errors import TrainingError
from ..examples import mlp_text
from ..graph import Graph
from ..train import evaluate, fit
from .common import (
    EpochCallback,
    ExperimentResult,
    Progress,
    Timer,
    Verdict,
    digits,
    fmt,
    init_params,
    notify,
    rng_for,
    single_thread,
    text_table,
)

CORRUPTIONS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
OPTIMIZERS = {
    "adam": lambda: optim.Adam(lr=1e-3),
    "sgd": lambda: optim.SGD(lr=0.01, momentum=0.9),  # Zhang's SGD-momentum, constant lr
}
DESCRIPTIONS = {"adam": "Adam lr 1e-3", "sgd": "SGD momentum 0.9, lr 0.01"}


@dataclass
class RandomLabelsResult(ExperimentResult):
    """One row per (p, seed) in ``runs``; ``summary()`` aggregates over seeds."""

    name: ClassVar[str] = "random_labels"
    hidden: list[int]
    optimizer: str
    train_size: int
    test_size: int
    max_epochs: int
    runs: list[dict[str, Any]]  # p, seed, epochs_to_fit (None: not reached), accuracies, curves
    seconds: float = 0.0

    def corruptions(self) -> list[float]:
        return sorted({r["p"] for r in self.runs})

    def summary(self) -> list[dict[str, Any]]:
        """Per p: epochs-to-fit range, mean final train and test accuracy."""
        out = []
        for p in self.corruptions():
            rows = [r for r in self.runs if r["p"] == p]
            fitted = [r["epochs_to_fit"] for r in rows if r["epochs_to_fit"] is not None]
            out.append({
                "p": p,
                "epochs_to_fit": fitted,
                "all_fitted": len(fitted) == len(rows),
                "train_accuracy": float(np.mean([r["train_accuracy"] for r in rows])),
                "test_accuracy": float(np.mean([r["test_accuracy"] for r in rows])),
            })
        return out

    def verdict(self) -> Verdict:
        """Zhang's result: every p is fitted to 100 %, random labels take longer than true
        ones, and test accuracy falls with p from the clean value to chance."""
        summary = {s["p"]: s for s in self.summary()}
        if 0.0 not in summary or 1.0 not in summary:
            return None, "the sweep needs p = 0 and p = 1"
        unfitted = [p for p, s in summary.items() if not s["all_fitted"]]
        if unfitted:
            return False, (f"p = {unfitted[0]:g} was not fitted to 100 % within "
                           f"{self.max_epochs} epochs")
        clean, noise = summary[0.0], summary[1.0]
        tests = [summary[p]["test_accuracy"] for p in sorted(summary)]
        falls = all(b <= a + 0.03 for a, b in zip(tests, tests[1:], strict=False))
        slower = np.mean(noise["epochs_to_fit"]) > np.mean(clean["epochs_to_fit"])
        ok = falls and slower and clean["test_accuracy"] >= 0.9 and \
            noise["test_accuracy"] <= 0.2
        reason = (f"100 % training accuracy at every p; test accuracy {clean['test_accuracy']:.3f}"
                  f" at p = 0 → {noise['test_accuracy']:.3f} at p = 1 (chance 0.1)"
                  f"{'' if falls else ', not falling with p'}; random labels took "
                  f"{np.mean(noise['epochs_to_fit']):.0f} epochs, true ones "
                  f"{np.mean(clean['epochs_to_fit']):.0f}")
        return bool(ok), reason

    def table_body(self) -> str:
        rows = []
        for s in self.summary():
            fitted = s["epochs_to_fit"]
            span = "-" if not fitted else (
                str(min(fitted)) if min(fitted) == max(fitted) else f"{min(fitted)}–{max(fitted)}")
            if not s["all_fitted"]:
                span += f" (cap {self.max_epochs})"
            rows.append([fmt(s["p"], ".1f"), span, fmt(s["train_accuracy"], ".3f"),
                         fmt(s["test_accuracy"], ".3f")])
        seeds = len({r["seed"] for r in self.runs})
        title = (f"Random labels (Zhang et al. 2017): MLP {'×'.join(map(str, self.hidden))} "
                 f"ReLU, {DESCRIPTIONS.get(self.optimizer, self.optimizer)}, {self.train_size} "
                 f"training images, {seeds} seed(s)")
        header = ["p (label corruption)", "epochs to 100 % train", "train acc", "test acc"]
        return title + "\n" + text_table(header, rows)

    def draw(self, fig: Any) -> None:
        axes = fig.subplots(1, 3)
        cmap = _colours(len(self.corruptions()))
        for colour, p in zip(cmap, self.corruptions(), strict=True):
            rows = [r for r in self.runs if r["p"] == p]
            for i, r in enumerate(rows):
                axes[0].semilogy(np.arange(1, len(r["loss"]) + 1), r["loss"], color=colour,
                                 lw=1.2, label=f"p = {p:g}" if i == 0 else None)
        axes[0].set(xlabel="epoch", ylabel="training loss (cross-entropy, log scale)",
                    title="Training loss")
        axes[0].legend(fontsize="small")
        summary = self.summary()
        ps = [s["p"] for s in summary]
        fitted = [(r["p"], r["epochs_to_fit"]) for r in self.runs if r["epochs_to_fit"]]
        if fitted:
            axes[1].plot(*zip(*fitted, strict=True), "o", color="tab:blue", alpha=0.5,
                         label="each seed")
        means = [np.mean(s["epochs_to_fit"]) if s["epochs_to_fit"] else np.nan for s in summary]
        axes[1].plot(ps, means, "-", color="tab:blue", label="mean over seeds")
        axes[1].set(xlabel="label corruption p", ylabel="epochs to 100 % training accuracy",
                    title="Time to fit", ylim=(0, None))
        axes[1].legend(fontsize="small")
        test = [s["test_accuracy"] for s in summary]
        train = [s["train_accuracy"] for s in summary]
        axes[2].plot(ps, train, "o-", color="tab:green", label="train (corrupted labels)")
        axes[2].plot(ps, test, "o-", color="tab:red", label="test (true labels)")
        if 0.0 in ps:
            clean = test[ps.index(0.0)]
            axes[2].plot([0, 1], [clean, 0.1], ":", color="grey",
                         label="(1 − p)·clean + p·chance")
        axes[2].axhline(0.1, color="black", lw=0.8, ls="--", label="chance (10 %)")
        axes[2].set(xlabel="label corruption p", ylabel="accuracy", ylim=(0, 1.05),
                    title="Accuracy after fitting")
        axes[2].legend(fontsize="small", loc="center left")
        fig.suptitle(f"Random labels on digits (Zhang et al. 2017): MLP "
                     f"{'×'.join(map(str, self.hidden))} ReLU, "
                     f"{DESCRIPTIONS.get(self.optimizer, self.optimizer)}, "
                     f"{self.train_size} training images")

    figsize: ClassVar[tuple[float, float]] = (14.0, 4.5)


def _colours(n: int) -> list[Any]:
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    return [cmap(i / max(n - 1, 1) * 0.9) for i in range(n)]


def run(quick: bool = True, seed: int = 0, progress: Progress | None = None, *,
        corruptions: Sequence[float] = CORRUPTIONS, optimizer: str = "adam",
        seeds: int | None = None, hidden: Sequence[int] | None = None,
        train_size: int | None = None, max_epochs: int | None = None,
        batch_size: int = 128) -> RandomLabelsResult:
    """Fit corrupted labels at each p; quick: 2×256 on 1000 images, 1 seed; full: §4(b)."""
    if optimizer not in OPTIMIZERS:
        raise TrainingError(f"unknown optimizer {optimizer!r} (known: {', '.join(OPTIMIZERS)})")
    for p in corruptions:
        if not 0 <= p <= 1:
            raise TrainingError(f"corruption p must be in [0, 1], got {p!r}")
    hidden = list(hidden or ((256, 256) if quick else (512, 512, 512)))
    n_seeds = seeds if seeds is not None else (1 if quick else 3)
    max_epochs = max_epochs or (150 if quick else 300)
    data = digits()
    train_size = min(train_size or (1000 if quick else len(data.X_train)), len(data.X_train))
    graph = Graph.from_text(mlp_text([64, *hidden, 10], activation="relu"))
    timer = Timer()
    runs: list[dict[str, Any]] = []
    tasks = [(p, seed + i) for p in corruptions for i in range(n_seeds)]
    with single_thread():
        for k, (p, s) in enumerate(tasks):
            def report(epoch: int, acc: float, k: int = k, p: float = p, s: int = s) -> None:
                notify(progress, k, len(tasks),
                       f"p = {p:g}, seed {s}: epoch {epoch}, train accuracy {acc:.3f}")

            runs.append(_one_run(graph, data, p, s, optimizer, train_size, max_epochs,
                                 batch_size, report))
    notify(progress, len(tasks), len(tasks), "done")
    return RandomLabelsResult(hidden=hidden, optimizer=optimizer, train_size=train_size,
                              test_size=len(data.X_test), max_epochs=max_epochs, runs=runs,
                              seconds=timer.seconds)


def _one_run(graph: Graph, data: Any, p: float, seed: int, optimizer: str, train_size: int,
             max_epochs: int, batch_size: int, report: Any) -> dict[str, Any]:
    # The subset and the corruption depend on the seed only, not on p's position.
    pick = rng_for(seed, 2).permutation(len(data.X_train))[:train_size]
    labels = corrupt_labels(data.y_train[pick], p, 10, rng_for(seed, 3, int(round(p * 1000))))
    train = {"x": data.X_train[pick], "y": one_hot(labels, 10)}
    params = init_params(graph, "default", rng_for(seed, 0))
    accuracy: list[float] = []

    def on_epoch_end(epoch: int, logs: dict[str, float]) -> bool:
        acc = evaluate(graph, params, train)["accuracy"]
        logs["accuracy"] = acc
        accuracy.append(acc)
        report(epoch + 1, acc)
        return acc >= 1.0

    # Accuracy on the whole training set after each epoch (not the running mean over
    # the epoch's batches that fit's metrics report): "100 %" means every label.
    history = fit(graph, params, train, OPTIMIZERS[optimizer](), max_epochs, batch_size,
                  seed=seed, metrics=(), callbacks=[EpochCallback(on_epoch_end)])
    fitted = bool(accuracy) and accuracy[-1] >= 1.0
    test = evaluate(graph, params, {"x": data.X_test, "y": data.Y_test})
    return {
        "p": float(p),
        "seed": seed,
        "epochs_to_fit": history.epochs if fitted else None,
        "train_accuracy": accuracy[-1] if accuracy else math.nan,
        "test_accuracy": test["accuracy"],
        "test_loss": test["loss"],
        "loss": history.history["loss"],
        "accuracy": accuracy,
        "diverged": history.diverged,
    }
