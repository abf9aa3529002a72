"""Adam's bias correction (Kingma & Ba §6.4, Fig. 4): with and without, as β₂ → 1.

Protocol: the paper's VAE written as a gradgraph graph — 64 →
500 softplus → a 50-d Gaussian latent (μ, log σ²) → 500 softplus → 64 Bernoulli
logits — on all 1797 digits scaled to [0, 1], batch 100; the loss is −ELBO per image
(nats): Σ softplus(l) − x·l for the reconstruction plus the Gaussian KL term. Adam
runs over β₁ ∈ {0, 0.9}, β₂ ∈ {0.99, 0.999, 0.9999}, α ∈ {1e−5 … 1e−1}, with and
without the 1 − βᵗ correction. Without it the first steps are α(1 − β₁)/√(1 − β₂)
(up to 100α at β₂ = 0.9999), so large α and β₂ near 1 end in NaN or a much worse
loss; the best losses come from corrected runs.

Quick mode: β₁ 0.9, β₂ ∈ {0.99, 0.9999}, α ∈ {1e−3, 1e−2, 1e−1}, 10 epochs (Fig. 4's
first mark; 12 runs, about 30 s): at β₂ = 0.9999 the uncorrected runs at α ≥ 1e−2 end
2–3× worse or NaN while the corrected ones train.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .. import optim
from ..errors import TrainingError
from ..graph import Graph
from ..train import StepInfo, evaluate, fit
from .common import (
    EpochCallback,
    ExperimentResult,
    Progress,
    Timer,
    Verdict,
    fmt,
    init_params,
    notify,
    rng_for,
    single_thread,
    text_table,
)

LATENT = 50

VAE_TEXT = """\
x: input(64); eps: input(50)
W^(1): param(500, 64); b^(1): param(500)
h^(1) = softplus(W^(1) x + b^(1))
W_mu: param(50, 500); b_mu: param(50)
mu = W_mu h^(1) + b_mu
W_lv: param(50, 500); b_lv: param(50)
lv = W_lv h^(1) + b_lv
z = mu + exp(lv/2)*eps
W^(2): param(500, 50); b^(2): param(500)
h^(2) = softplus(W^(2) z + b^(2))
W^(3): param(64, 500); b^(3): param(64)
l = W^(3) h^(2) + b^(3)
C = sum(softplus(l) - x*l) - sum(1 + lv - mu^2 - exp(lv))/2
"""
# lv is log σ²; z = μ + σ·ε is the reparametrisation trick; C is −ELBO of one image:
# Bernoulli negative log-likelihood of the logits l plus KL(N(μ, σ²) ‖ N(0, I)).


def vae_graph() -> Graph:
    """The §6.4 VAE as a gradgraph graph (inputs ``x`` and the noise ``eps``)."""
    return Graph.from_text(VAE_TEXT)


@dataclass
class AdamBiasResult(ExperimentResult):
    """``runs``: one dict per (β₁, β₂, α, correction).

    Each run has ``loss`` {epoch: −ELBO on all images} at the epochs the plot shows
    (10 and the last; NaN: diverged by then) and ``train_loss``, the mean batch loss
    of every epoch (free to record; the full evaluation costs as much as an epoch).
    """

    name: ClassVar[str] = "adam_bias_correction"
    epochs: int
    batch_size: int
    examples: int
    runs: list[dict[str, Any]]
    seconds: float = 0.0

    def loss(self, beta_1: float, beta_2: float, lr: float, corrected: bool,
             epoch: int | None = None) -> float:
        """The loss after ``epoch`` epochs (default: the last); NaN if it diverged."""
        for r in self.runs:
            if (r["beta_1"], r["beta_2"], r["lr"], r["bias_correction"]) == (
                    beta_1, beta_2, lr, corrected):
                return r["loss"].get(str(self.epochs if epoch is None else epoch), math.nan)
        raise KeyError((beta_1, beta_2, lr, corrected))

    def _axes(self) -> tuple[list[float], list[float], list[float]]:
        def values(key: str) -> list[float]:
            return sorted({r[key] for r in self.runs})

        return values("beta_1"), values("beta_2"), values("lr")

    def verdict(self) -> Verdict:
        """Fig. 4: at β₂ near 1 (the grid's largest, ≥ 0.999) and α ≥ 1e−2, every run without
        the correction diverges or ends > 10 % worse than its corrected twin, which trains."""
        beta_1s, beta_2s, lrs = self._axes()
        b2, large = beta_2s[-1], [lr for lr in lrs if lr >= 1e-2]
        if b2 < 0.999 or not large:
            return None, "the sweep needs β₂ ≥ 0.999 and α ≥ 0.01"
        cells = [(b1, lr) for b1 in beta_1s for lr in large]
        worse, pairs = 0, []
        for b1, lr in cells:
            fixed, raw = self.loss(b1, b2, lr, True), self.loss(b1, b2, lr, False)
            worse += math.isfinite(fixed) and (not math.isfinite(raw) or raw > 1.1 * fixed)
            pairs.append(f"{_nats(raw)} vs {_nats(fixed)}" + (f" at β₁ {b1:g}" if len(
                beta_1s) > 1 else "") + f", α {lr:g}")
        reason = (f"after {self.epochs} epochs at β₂ = {b2:g}, {worse} of {len(cells)} runs "
                  f"without correction diverged or ended > 10 % worse than with it (−ELBO "
                  f"without vs with: {'; '.join(pairs)})")
        return worse == len(cells), reason

    def table_body(self) -> str:
        beta_1s, beta_2s, lrs = self._axes()
        header = ["β₁", "β₂", "correction", *(f"α={lr:g}" for lr in lrs)]
        rows = []
        for b1 in beta_1s:
            for b2 in beta_2s:
                for corrected in (True, False):
                    rows.append([f"{b1:g}", f"{b2:g}", "yes" if corrected else "no",
                                 *(_nats(self.loss(b1, b2, lr, corrected)) for lr in lrs)])
        title = (f"Adam bias correction (Kingma & Ba §6.4): VAE on {self.examples} digits, "
                 f"−ELBO per image (nats) after {self.epochs} epochs; NaN = diverged")
        return title + "\n" + text_table(header, rows)

    @property
    def figsize(self) -> tuple[float, float]:  # type: ignore[override]
        beta_1s, _, _ = self._axes()
        return (max(6.0 * len(beta_1s), 8.0), 4.6 * len(self._epoch_marks()) + 1.4)

    def _epoch_marks(self) -> list[int]:
        return epoch_marks(self.epochs)

    def draw(self, fig: Any) -> None:
        beta_1s, beta_2s, lrs = self._axes()
        marks = self._epoch_marks()
        axes = fig.subplots(len(marks), len(beta_1s), squeeze=False)
        for row, epoch in enumerate(marks):
            finite = [v for r in self.runs if np.isfinite(v := r["loss"].get(str(epoch), np.nan))]
            best = min(finite, default=1.0)
            # Fig. 4's view: the good region in detail; worse runs leave through the top.
            top = min(max(finite, default=2.0), 2.0 * best) * 1.04
            for col, b1 in enumerate(beta_1s):
                self._panel(axes[row, col], b1, beta_2s, lrs, epoch, best, top)
        handles, labels = axes[0, 0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center",
                   ncols=min(len(labels), 2 * len(beta_1s)),
                   fontsize="small",
                   title=f"×: diverged (NaN)   ▲: blew up (> {_BLEW_UP:g}× the best)   "
                         "off the top: > 2× the best", title_fontsize="small")
        fig.suptitle("Adam with and without bias correction (Kingma & Ba §6.4, Fig. 4): "
                     f"VAE on {self.examples} digits")

    def _panel(self, ax: Any, b1: float, beta_2s: list[float], lrs: list[float], epoch: int,
               best: float, top: float) -> None:
        colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
        for i, (colour, b2) in enumerate(zip(colours, beta_2s, strict=False)):
            # Markers at the top edge are nudged apart so each β₂ stays visible.
            nudge = 1.12 ** (i - (len(beta_2s) - 1) / 2)
            for corrected, ls, marker in ((True, "-", "o"), (False, "--", "s")):
                ys = np.array([self.loss(b1, b2, lr, corrected, epoch) for lr in lrs])
                huge = np.isfinite(ys) & (ys > _BLEW_UP * best)
                ax.plot(lrs, np.where(huge, np.nan, ys), ls=ls, marker=marker, color=colour,
                        ms=5, mfc=colour if corrected else "white",
                        label=f"β₂ = {b2:g}, {'with' if corrected else 'without'} correction")
                for kind, where in (("x", ~np.isfinite(ys)), ("^", huge)):
                    xs = [lr * nudge for lr, w in zip(lrs, where, strict=True) if w]
                    if xs:  # (an empty unclipped line breaks constrained layout)
                        ax.plot(xs, [top] * len(xs), kind, color=colour, ms=9, mew=2.5,
                                mfc=colour if corrected else "white", clip_on=False)
        ax.set_xscale("log")
        ax.set_ylim(best * 0.98, top)
        ax.set(xlabel="learning rate α (log scale)", ylabel="−ELBO per image (nats)",
               title=f"β₁ = {b1:g}, after {epoch} epochs")
        ax.grid(True, alpha=0.3)


# A finite loss this many times the best is a run that blew up without overflowing.
_BLEW_UP = 100.0


def _nats(x: float) -> str:
    # A run that blew up without overflowing float64 can end at 1e200 nats.
    return fmt(x, ".2f") if not math.isfinite(x) or abs(x) < 1e4 else fmt(x, ".1e")


def epoch_marks(epochs: int) -> list[int]:
    """The epochs at which the loss on all images is measured (Fig. 4: 10 and 100)."""
    return [10, epochs] if epochs >= 20 else [epochs]


def run(quick: bool = True, seed: int = 0, progress: Progress | None = None, *,
        beta_1s: Sequence[float] | None = None, beta_2s: Sequence[float] | None = None,
        lrs: Sequence[float] | None = None, epochs: int | None = None,
        batch_size: int = 100) -> AdamBiasResult:
    """The ablation grid; quick: β₁ 0.9, β₂ ∈ {0.99, 0.9999}, α ∈ {1e−3, 1e−2, 1e−1},
    10 epochs; full: §4(f) (2 × 3 × 5 × 2 = 60 runs of 100 epochs)."""
    beta_1s = list(beta_1s or ((0.9,) if quick else (0.0, 0.9)))
    beta_2s = list(beta_2s or ((0.99, 0.9999) if quick else (0.99, 0.999, 0.9999)))
    lrs = list(lrs or ((1e-3, 1e-2, 1e-1) if quick else (1e-5, 1e-4, 1e-3, 1e-2, 1e-1)))
    epochs = epochs or (10 if quick else 100)
    if epochs < 1 or batch_size < 1:
        raise TrainingError("epochs and batch size must be at least 1")
    from sklearn.datasets import load_digits

    X = np.asarray(load_digits().data, dtype=float) / 16.0  # Bernoulli targets in [0, 1]
    graph = vae_graph()
    # One fixed noise draw for evaluation, so every run is scored on the same estimate.
    eval_eps = rng_for(seed, 7).standard_normal((len(X), LATENT))
    tasks = [(b1, b2, lr, bc) for b1 in beta_1s for b2 in beta_2s for lr in lrs
             for bc in (True, False)]
    timer = Timer()
    runs = []
    with single_thread():
        for k, (b1, b2, lr, bc) in enumerate(tasks):
            label = f"β₁ {b1:g}, β₂ {b2:g}, α {lr:g}, {'with' if bc else 'no'} correction"
            notify(progress, k, len(tasks), label)
            runs.append(_one_run(graph, X, eval_eps, b1, b2, lr, bc, epochs, batch_size, seed))
    notify(progress, len(tasks), len(tasks), "done")
    return AdamBiasResult(epochs=epochs, batch_size=batch_size, examples=len(X), runs=runs,
                          seconds=timer.seconds)


def _one_run(graph: Graph, X: np.ndarray, eval_eps: np.ndarray, beta_1: float, beta_2: float,
             lr: float, corrected: bool, epochs: int, batch_size: int,
             seed: int) -> dict[str, Any]:
    # Same init and batches for every cell of the grid: only the optimizer differs.
    params = init_params(graph, "default", rng_for(seed, 0))
    opt = optim.Adam(lr=lr, beta_1=beta_1, beta_2=beta_2, bias_correction=corrected)
    marks = epoch_marks(epochs)
    losses: dict[str, float] = {}

    def on_epoch_end(epoch: int, logs: dict[str, float]) -> None:
        if epoch + 1 in marks:
            losses[str(epoch + 1)] = evaluate(graph, params, {"x": X, "eps": eval_eps},
                                              metrics=())["loss"]

    def noise(step: StepInfo, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {"eps": step.rng.standard_normal((step.size, LATENT))}

    history = fit(graph, params, {"x": X}, opt, epochs, batch_size, seed=seed, feed=noise,
                  metrics=(), callbacks=[EpochCallback(on_epoch_end)])
    # A run that diverged has no loss at the marks it did not reach.
    losses = {str(m): losses.get(str(m), math.nan) for m in marks}
    return {"beta_1": beta_1, "beta_2": beta_2, "lr": lr, "bias_correction": corrected,
            "loss": losses, "train_loss": history.history.get("loss", []),
            "diverged": history.diverged}
