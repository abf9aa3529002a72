"""Optimizer race on the deck's task: every optimizer of gradgraph.optim, one plot.

Protocol: the deck's Keras example — digits, Dense(100, tanh) →
Dense(10, softmax), Glorot-uniform kernels, zero biases, batch 32, 15 epochs — with
each optimizer at the paper/framework defaults and at the slides' settings. Reported:
training cross-entropy after each epoch (on the whole training set) and test accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import optim
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

# (label, factory, colour, line style): the deck's, the papers' and the frameworks'
# settings of §4(e); one colour per family, dashed for its second setting.
RACE: tuple[tuple[str, Callable[[], optim.Optimizer], str, str], ...] = (
    ("SGD 0.1 (slides)", lambda: optim.SGD(lr=0.1), "tab:blue", "-"),
    ("SGD 0.01 (Keras default)", lambda: optim.SGD(lr=0.01), "tab:blue", "--"),
    ("Momentum 0.9, lr 0.01", lambda: optim.Momentum(lr=0.01, momentum=0.9), "tab:orange", "-"),
    ("Nesterov 0.9, lr 0.01", lambda: optim.Nesterov(lr=0.01, momentum=0.9), "tab:green", "--"),
    ("Adagrad 0.01", lambda: optim.Adagrad(lr=0.01), "tab:purple", "-"),
    ("RMSprop 1e-3, ρ 0.9 (Keras)", lambda: optim.RMSprop(lr=1e-3, rho=0.9, epsilon=1e-7),
     "tab:brown", "--"),
    ("RMSprop 0.01, ρ 0.9 (slides)", lambda: optim.RMSprop(lr=0.01, rho=0.9, epsilon=1e-7),
     "tab:brown", "-"),
    ("Adam 1e-3 (paper)", lambda: optim.Adam(lr=1e-3), "tab:red", "-"),
    ("Adam 0.01, β₂ 0.99 (slides)", lambda: optim.Adam(lr=0.01, beta_2=0.99), "tab:red", "--"),
    ("AdaMax 2e-3 (paper)", lambda: optim.AdaMax(lr=2e-3), "tab:pink", "-"),
    ("signSGD 1e-3", lambda: optim.Sign(lr=1e-3), "tab:gray", "-"),
)
_STYLE = {label: (colour, ls) for label, _, colour, ls in RACE}
# What the verdict compares: §4(e)'s fastest, its slowest, and a pair that should match.
_SLIDES_ADAPTIVE = ("RMSprop 0.01, ρ 0.9 (slides)", "Adam 0.01, β₂ 0.99 (slides)")
_SLOWEST = "SGD 0.01 (Keras default)"
_EQUIVALENT = ("SGD 0.1 (slides)", "Momentum 0.9, lr 0.01")


@dataclass
class OptimizersResult(ExperimentResult):
    """``runs``: one dict per (optimizer, seed) with per-epoch train loss and test accuracy."""

    name: ClassVar[str] = "optimizers"
    epochs: int
    batch_size: int
    seeds: list[int]
    runs: list[dict[str, Any]]
    seconds: float = 0.0

    def labels(self) -> list[str]:
        return list(dict.fromkeys(r["optimizer"] for r in self.runs))

    def summary(self) -> list[dict[str, Any]]:
        """Per optimizer: mean train loss per epoch (over seeds) and each seed's test acc."""
        out = []
        for label in self.labels():
            rows = [r for r in self.runs if r["optimizer"] == label]
            length = min(len(r["train_loss"]) for r in rows)
            out.append({
                "optimizer": label,
                "train_loss": np.mean([r["train_loss"][:length] for r in rows], axis=0).tolist(),
                "test_accuracy": [r["test_accuracy"] for r in rows],
                "diverged": [r["diverged"] for r in rows if r["diverged"]],
            })
        return out

    def verdict(self) -> Verdict:
        """§4(e): the slides' adaptive settings fit fastest, Keras's default SGD 0.01
        slowest, no run diverges; momentum μ at lr ρ tracks SGD at ρ/(1 − μ)."""
        final = {s["optimizer"]: s["train_loss"][-1] for s in self.summary()}
        fast = [label for label in _SLIDES_ADAPTIVE if label in final]
        if _SLOWEST not in final or not fast:
            return None, (f"the sweep needs '{_SLOWEST}' and one of "
                          f"{', '.join(repr(x) for x in _SLIDES_ADAPTIVE)}")
        diverged = [s["optimizer"] for s in self.summary() if s["diverged"]]
        if diverged:
            return False, f"{diverged[0]} diverged"
        fastest, slowest = min(final, key=final.get), max(final, key=final.get)
        ok = fastest in fast and slowest == _SLOWEST
        reason = (f"after {self.epochs} epoch(s) {fastest} fits fastest (train CE "
                  f"{final[fastest]:.2g}) and {slowest} slowest ({final[slowest]:.2g})")
        pair = [final.get(label) for label in _EQUIVALENT]
        if None not in pair:
            ratio = pair[1] / pair[0]
            ok = ok and 1 / 1.5 <= ratio <= 1.5
            reason += f"; momentum 0.9 at 0.01 ends at {ratio:.2f}× SGD 0.1's loss"
        return ok, reason

    def table_body(self) -> str:
        marks = sorted({1, min(5, self.epochs), self.epochs})
        summary = self.summary()
        header = ["optimizer", *(f"train CE, epoch {m}" for m in marks),
                  "test acc" + (" (per seed)" if len(self.seeds) > 1 else "")]
        columns = [_loss_column([s["train_loss"][m - 1] if m <= len(s["train_loss"])
                                 else math.nan for s in summary]) for m in marks]
        rows = [[s["optimizer"], *(col[i] for col in columns),
                 " / ".join(fmt(a, ".3f") for a in s["test_accuracy"])]
                for i, s in enumerate(summary)]
        title = (f"Optimizer race: digits, 64-100(tanh)-10 softmax, Glorot init, batch "
                 f"{self.batch_size}, {self.epochs} epochs, {len(self.seeds)} seed(s)")
        return title + "\n" + text_table(header, rows)

    figsize: ClassVar[tuple[float, float]] = (12.0, 5.0)

    def draw(self, fig: Any) -> None:
        ax_loss, ax_acc = fig.subplots(1, 2, width_ratios=[1.6, 1])
        summary = self.summary()
        colours = [_STYLE.get(s["optimizer"], ("black", "-"))[0] for s in summary]
        for s, colour in zip(summary, colours, strict=True):
            epochs = np.arange(1, len(s["train_loss"]) + 1)
            ax_loss.semilogy(epochs, s["train_loss"], color=colour,
                             ls=_STYLE.get(s["optimizer"], ("", "-"))[1], marker=".", ms=4,
                             label=s["optimizer"])
        seeds = (f"mean of {len(self.seeds)} seeds" if len(self.seeds) > 1
                 else f"seed {self.seeds[0]}")
        ax_loss.set(xlabel="epoch", ylabel="training cross-entropy (log scale)",
                    title=f"Training loss on all 1527 training images ({seeds})")
        ax_loss.grid(True, which="major", alpha=0.3)
        ax_loss.legend(fontsize="x-small", ncols=2)
        names = [s["optimizer"] for s in summary]
        y = np.arange(len(names))
        means = [np.mean(s["test_accuracy"]) for s in summary]
        ax_acc.barh(y, means, color=colours, alpha=0.8)
        low = min(0.9, min(means) - 0.01) if means else 0.9
        for i, s in enumerate(summary):
            ax_acc.plot(s["test_accuracy"], [i] * len(s["test_accuracy"]), "o", color="black",
                        mfc="white", ms=4)
            ax_acc.text(low + 0.003, i, f"{means[i]:.1%}", va="center", fontsize="x-small",
                        color="white", fontweight="bold")
        ax_acc.set_yticks(y, names, fontsize="x-small")
        ax_acc.invert_yaxis()
        ax_acc.set(xlim=(low, 1.0), xlabel="test accuracy (bar: mean; circles: seeds)",
                   title="Test accuracy after training")
        fig.suptitle("Optimizer race on the deck's digits task")


def _loss_column(losses: list[float]) -> list[str]:
    """One format for a whole column: fixed point while every loss reads well in it,
    else scientific for all (losses of the fast optimizers reach 1e-5)."""
    finite = [x for x in losses if math.isfinite(x)]
    spec = ".3f" if all(x >= 0.01 for x in finite) else ".2e"
    return [fmt(x, spec) for x in losses]


def run(quick: bool = True, seed: int = 0, progress: Progress | None = None, *,
        epochs: int | None = None, seeds: int | None = None, batch_size: int = 32,
        only: Sequence[str] | None = None) -> OptimizersResult:
    """Train the deck's net with each optimizer; quick: 1 seed × 15 epochs, full: 3 seeds."""
    race = [(label, make) for label, make, _, _ in RACE
            if only is None or any(o.lower() in label.lower() for o in only)]
    if not race:
        raise TrainingError(f"no optimizer matches {list(only or [])!r}")
    epochs = epochs or 15
    n_seeds = seeds if seeds is not None else (1 if quick else 3)
    seed_list = [seed + i for i in range(n_seeds)]
    data = digits()
    graph = Graph.from_text(mlp_text([64, 100, 10], activation="tanh"))
    train = {"x": data.X_train, "y": data.Y_train}
    test = {"x": data.X_test, "y": data.Y_test}
    tasks = [(label, make, s) for s in seed_list for label, make in race]
    timer = Timer()
    runs = []
    with single_thread():
        for k, (label, make, s) in enumerate(tasks):
            notify(progress, k, len(tasks), f"{label}, seed {s}")
            params = init_params(graph, "glorot", rng_for(s, 0))
            losses: list[float] = []

            def on_epoch_end(epoch: int, logs: dict[str, float],
                             params: dict[str, np.ndarray] = params,
                             losses: list[float] = losses) -> None:
                losses.append(evaluate(graph, params, train)["loss"])

            history = fit(graph, params, train, make(), epochs, batch_size, seed=s,
                          metrics=(), callbacks=[EpochCallback(on_epoch_end)])
            runs.append({"optimizer": label, "seed": s, "train_loss": losses,
                         "test_accuracy": evaluate(graph, params, test)["accuracy"],
                         "diverged": history.diverged})
    notify(progress, len(tasks), len(tasks), "done")
    return OptimizersResult(epochs=epochs, batch_size=batch_size, seeds=seed_list, runs=runs,
                            seconds=timer.seconds)
