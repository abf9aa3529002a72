"""Under- and over-fitting: validation error's U-curve in capacity and in training length.

Protocol: the deck's network 64 → h (tanh) → 10 softmax, Glorot init, SGD 0.1, batch
32 (its Keras example), with the hidden width h swept over 1, 2, 4, … 128 (full: … 256)
and the L2 penalty λ·ΣW² on both weight matrices (Keras ``kernel_regularizer``) as a third
axis. The deck's training split is cut into a *small* training set (300 images) and a
validation set (500 other images); the deck's 270 test images are the test set, used
once, at the optimum the validation set chose. Training, validation and test error
(1 − accuracy) and cross-entropy are measured after every epoch.

A fifth of the training labels are replaced by random classes (Zhang §2.1), because
overfitting is fitting noise: on the clean digits a 300-image training set is not
enough to make a wide MLP overfit in error (measured here: validation error falls with
width up to 128 units and then stays flat), while with noisy labels the classic
picture appears — narrow nets underfit, wide ones trained long memorise the noise, and
validation error is U-shaped in width and in epochs. ``label_noise=0`` shows the clean
case. The validation and test labels are always the true ones.

quick: widths 1 … 128, λ ∈ {0, 0.01, 0.03}, 100 epochs, 1 seed (15 s of CPU). Without
L2 the validation optimum is 16 units after 19 epochs (validation error 0.136; 0.81 at 1
unit, 0.21 at 128; 0.21 after 100 epochs); chosen over λ too: λ = 0.03, 16 units, 37
epochs, test error 0.133.
full: widths 1 … 256, λ ∈ {0, 0.001, 0.003, 0.01, 0.03, 0.1}, 300 epochs, 3 seeds,
errors averaged over seeds before the optimum is chosen (5 min of CPU). Without L2: 64
units after 11 epochs (0.135; 0.162 at 256 units — a shallow U, its floor spans 16–64
units; 0.22 after 300 epochs); over λ: λ = 0.03, 16 units, 37 epochs, validation 0.109,
test 0.102.

The verdict asks for a U without L2 — the minimum strictly inside the sweep of widths
(at the optimum's training length) and of epochs (at the optimum's width), each end
higher by more than two standard errors of the validation error — and for training
error that falls along both.
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
from ..numeric import compile_graph
from ..regularize import l2
from ..train import fit
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

WIDTHS = (1, 2, 4, 8, 16, 32, 64, 128)
FULL_WIDTHS = (*WIDTHS, 256)
L2S = (0.0, 0.01, 0.03)
FULL_L2S = (0.0, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)
VALIDATION_SIZE = 500
# Training error may rise at most this far above its lowest value so far and still count
# as falling (SGD at lr 0.1 is noisy from epoch to epoch).
RISE_TOLERANCE = 0.03
SERIES = ("train_error", "val_error", "test_error", "train_loss", "val_loss")


@dataclass
class CapacityResult(ExperimentResult):
    """``curves``: one dict per (λ, width) with each series of :data:`SERIES` per epoch
    (index e − 1 after epoch e), averaged over the seeds."""

    name: ClassVar[str] = "capacity"
    widths: list[int]
    l2s: list[float]
    epochs: int
    train_size: int
    validation_size: int
    test_size: int
    label_noise: float
    seeds: list[int]
    curves: list[dict[str, Any]]
    seconds: float = 0.0

    def curve(self, lam: float, width: int) -> dict[str, Any]:
        for c in self.curves:
            if (c["l2"], c["width"]) == (lam, width):
                return c
        raise KeyError((lam, width))

    def grid(self, series: str, lam: float) -> np.ndarray:
        """``out[i, e - 1]``: ``series`` at width ``widths[i]`` after epoch e."""
        return np.array([self.curve(lam, w)[series] for w in self.widths], dtype=float)

    def optimum(self, lam: float | None = None) -> dict[str, Any]:
        """The (λ, width, epochs) with the lowest validation error (ties: lower validation
        cross-entropy), over every λ or at ``lam``; with its train, validation and test error."""
        best: tuple[float, float] | None = None
        out: dict[str, Any] = {}
        for candidate in self.l2s if lam is None else [lam]:
            err, ce = self.grid("val_error", candidate), self.grid("val_loss", candidate)
            i, e = np.unravel_index(np.lexsort((ce.ravel(), err.ravel()))[0], err.shape)
            if best is None or (err[i, e], ce[i, e]) < best:
                best = (err[i, e], ce[i, e])
                c = self.curve(candidate, self.widths[i])
                out = {"l2": candidate, "width": self.widths[i], "epochs": int(e) + 1,
                       **{k: c[k][e] for k in ("train_error", "val_error", "test_error")}}
        return out

    def verdict(self) -> Verdict:
        """Without L2: validation error U-shaped in width (at the optimum's training
        length) and in epochs (at the optimum's width), the minimum inside the sweep and
        both ends above it by more than the noise (:meth:`margin`); training error falling
        along both."""
        if 0.0 not in self.l2s or len(self.widths) < 3 or self.epochs < 3:
            return None, "the sweep needs λ = 0, three widths and three epochs"
        o = self.optimum(0.0)
        i, e = self.widths.index(o["width"]), o["epochs"] - 1
        by_width = self.grid("val_error", 0.0)[:, e]
        by_epoch = np.asarray(self.curve(0.0, o["width"])["val_error"])
        margin = self.margin(o["val_error"])
        u_width, u_epoch = _u_shaped(by_width, i, margin), _u_shaped(by_epoch, e, margin)
        falls = (_falls(self.grid("train_error", 0.0)[:, e])
                 and _falls(self.curve(0.0, o["width"])["train_error"]))
        reason = (f"without L2, validation error is {'' if u_width else 'not '}U-shaped in "
                  f"width (lowest {o['val_error']:.3f} at {o['width']} units, "
                  f"{by_width[0]:.3f} at {self.widths[0]}, {by_width[-1]:.3f} at "
                  f"{self.widths[-1]}, after {o['epochs']} epochs) and "
                  f"{'' if u_epoch else 'not '}in epochs ({by_epoch[-1]:.3f} after "
                  f"{self.epochs}; a U's ends must rise > {margin:.3f}, two standard errors); "
                  f"training error {'falls' if falls else 'does not fall'}")
        return bool(u_width and u_epoch and falls), reason

    def margin(self, error: float) -> float:
        """Two standard errors of a validation error near ``error`` (binomial, over the
        validation images of every seed; at least one image): a rise smaller than this
        could be the luck of the split."""
        n = self.validation_size * len(self.seeds)
        return max(2.0 * math.sqrt(error * (1.0 - error) / n), 1.0 / self.validation_size)

    def table_body(self) -> str:
        o0, best = self.optimum(0.0) if 0.0 in self.l2s else None, self.optimum()
        lam0 = 0.0 if o0 else self.l2s[0]
        at = o0["epochs"] if o0 else self.epochs
        train, val = self.grid("train_error", lam0), self.grid("val_error", lam0)
        rows = [[str(w), fmt(train[i, at - 1], ".3f"), fmt(val[i, at - 1], ".3f"),
                 fmt(train[i, -1], ".3f"), fmt(val[i, -1], ".3f"),
                 f"{val[i].min():.3f} ({int(val[i].argmin()) + 1})"]
                for i, w in enumerate(self.widths)]
        seeds = f"mean of {len(self.seeds)} seeds" if len(self.seeds) > 1 else \
            f"seed {self.seeds[0]}"
        title = (f"Under/over-fitting on digits: 64-h(tanh)-10, SGD 0.1, batch 32; "
                 f"{self.train_size} training images ({self.label_noise:.0%} of labels "
                 f"random), {self.validation_size} validation, {self.test_size} test; {seeds}")
        first = text_table(["width h", f"train err @{at}", f"val err @{at}",
                            f"train err @{self.epochs}", f"val err @{self.epochs}",
                            "best val err (epoch)"], rows)
        per_l2 = []
        for lam in self.l2s:
            o = self.optimum(lam)
            per_l2.append([fmt(lam, "g"), str(o["width"]), str(o["epochs"]),
                           fmt(o["train_error"], ".3f"), fmt(o["val_error"], ".3f"),
                           fmt(o["test_error"], ".3f")])
        second = text_table(["L2 λ", "best width", "epochs", "train err", "val err",
                             "test err"], per_l2)
        chosen = (f"Optimum (chosen on validation): λ = {best['l2']:g}, width {best['width']}, "
                  f"{best['epochs']} epochs — validation error {best['val_error']:.3f}, "
                  f"test error {best['test_error']:.3f} (accuracy {1 - best['test_error']:.3f})")
        return "\n".join([title, f"λ = {lam0:g}: errors after {at} epochs (the validation "
                          f"optimum's length) and after {self.epochs}", first, "",
                          "Each L2 strength at its own best width and length", second,
                          chosen])

    figsize: ClassVar[tuple[float, float]] = (16.0, 5.0)

    def draw(self, fig: Any) -> None:
        axes = fig.subplots(1, 3)
        lam0 = 0.0 if 0.0 in self.l2s else self.l2s[0]
        o = self.optimum(lam0)
        self._draw_capacity(axes[0], lam0, o)
        self._draw_epochs(axes[1], lam0, o)
        self._draw_l2(axes[2])
        best = self.optimum()
        fig.suptitle(f"Underfitting, optimum, overfitting on digits ({self.train_size} training "
                     f"images, {self.label_noise:.0%} of their labels random): optimum chosen "
                     f"on validation λ = {best['l2']:g}, width {best['width']}, "
                     f"{best['epochs']} epochs → test error {best['test_error']:.3f}")

    def _draw_capacity(self, ax: Any, lam: float, o: dict[str, Any]) -> None:
        e = o["epochs"] - 1
        train, val = self.grid("train_error", lam), self.grid("val_error", lam)
        ax.plot(self.widths, train[:, e], "o-", color="tab:green", label="training error")
        ax.plot(self.widths, val[:, e], "o-", color="tab:red", label="validation error")
        ax.plot(self.widths, train[:, -1], "s--", color="tab:green", alpha=0.45, ms=4,
                label=f"training error after all {self.epochs} epochs")
        ax.plot(self.widths, val[:, -1], "s--", color="tab:red", alpha=0.45, ms=4,
                label=f"validation error after all {self.epochs} epochs")
        _mark(ax, o["width"], o["val_error"], o["test_error"])
        _regions(ax, o["width"])
        ax.set_xscale("log", base=2)
        ax.set_xticks(self.widths, [str(w) for w in self.widths])
        ax.set(xlabel="capacity: hidden units h (log scale)", ylabel="error (1 − accuracy)",
               title=f"vs capacity, after {o['epochs']} epochs" + _no_l2(lam), ylim=(0, None))
        ax.legend(fontsize="small", loc="upper right")
        ax.grid(True, alpha=0.3)

    def _draw_epochs(self, ax: Any, lam: float, o: dict[str, Any]) -> None:
        c = self.curve(lam, o["width"])
        epochs = np.arange(1, self.epochs + 1)
        ax.plot(epochs, c["train_error"], color="tab:green", label="training error")
        ax.plot(epochs, c["val_error"], color="tab:red", label="validation error")
        widest = self.curve(lam, self.widths[-1])
        if widest is not c:
            ax.plot(epochs, widest["val_error"], "--", color="tab:red", alpha=0.45,
                    label=f"validation error, {self.widths[-1]} units")
        _mark(ax, o["epochs"], o["val_error"], o["test_error"])
        _regions(ax, o["epochs"])
        ax.set(xlabel="training length: epochs", ylabel="error (1 − accuracy)",
               title=f"vs training length, {o['width']} hidden units" + _no_l2(lam),
               ylim=(0, None))
        ax.legend(fontsize="small", loc="upper right")
        ax.grid(True, alpha=0.3)

    def _draw_l2(self, ax: Any) -> None:
        from matplotlib import colormaps

        cmap = colormaps["viridis"]
        for k, lam in enumerate(self.l2s):
            colour = cmap(k / max(len(self.l2s) - 1, 1) * 0.9)
            ax.plot(self.widths, self.grid("val_error", lam)[:, -1], "o-", color=colour,
                    label=f"validation, λ = {lam:g}")
            ax.plot(self.widths, self.grid("train_error", lam)[:, -1], ":", color=colour,
                    label=f"training, λ = {lam:g}")
        best = self.optimum()
        ax.axhline(best["val_error"], color="black", lw=0.8, ls="--",
                   label=f"best validation error ({best['val_error']:.3f})")
        ax.set_xscale("log", base=2)
        ax.set_xticks(self.widths, [str(w) for w in self.widths])
        ax.set(xlabel="hidden units h (log scale)", ylabel="error (1 − accuracy)",
               title=f"L2 λ·ΣW²: after all {self.epochs} epochs", ylim=(0, None))
        ax.legend(fontsize="x-small", ncols=2, loc="upper right")
        ax.grid(True, alpha=0.3)


def _no_l2(lam: float) -> str:
    return ", no L2" if lam == 0 else f", λ = {lam:g}"


def _mark(ax: Any, x: float, val: float, test: float) -> None:
    ax.plot([x], [val], "*", color="black", ms=14, zorder=5,
            label=f"optimum on validation ({val:.3f}; test {test:.3f})")


def _regions(ax: Any, x: float) -> None:
    """Label the two sides of the optimum as the deck's slides do."""
    ax.axvline(x, color="grey", lw=0.8, ls=":")
    ax.text(0.02, 0.03, "← underfitting", transform=ax.transAxes, fontsize="small",
            color="grey")
    ax.text(0.98, 0.03, "overfitting →", transform=ax.transAxes, fontsize="small",
            color="grey", ha="right")


def _u_shaped(values: Sequence[float], at: int, margin: float) -> bool:
    """The minimum at index ``at`` is inside, and both ends lie more than ``margin`` above it."""
    v = np.asarray(values, dtype=float)
    return bool(0 < at < len(v) - 1 and min(v[0], v[-1]) - v[at] > margin)


def _falls(values: Sequence[float]) -> bool:
    """Monotonically, give or take RISE_TOLERANCE: never that far above the lowest so far,
    and lower at the end than at the start."""
    v = np.asarray(values, dtype=float)
    return bool(np.all(v <= np.minimum.accumulate(v) + RISE_TOLERANCE) and v[-1] < v[0])


def _check(widths: Sequence[int], l2s: Sequence[float], epochs: int, train_size: int,
           label_noise: float, seeds: int) -> None:
    if not widths or any(int(w) != w or w < 1 for w in widths):
        raise TrainingError("widths must be whole numbers >= 1")
    if not l2s or any(not math.isfinite(lam) or lam < 0 for lam in l2s):
        raise TrainingError("L2 strengths must be finite numbers >= 0")
    if epochs < 1 or seeds < 1:
        raise TrainingError("epochs and seeds must be at least 1")
    if not 0 <= label_noise <= 1:
        raise TrainingError(f"label noise must be in [0, 1], got {label_noise!r}")
    available = len(digits().X_train) - VALIDATION_SIZE
    if not 10 <= train_size <= available:
        raise TrainingError(f"train size must be between 10 and {available} (the deck's "
                            f"training split less {VALIDATION_SIZE} validation images)")


def run(quick: bool = True, seed: int = 0, progress: Progress | None = None, *,
        widths: Sequence[int] | None = None, l2s: Sequence[float] | None = None,
        epochs: int | None = None, train_size: int = 300, label_noise: float = 0.2,
        seeds: int | None = None, lr: float = 0.1, batch_size: int = 32) -> CapacityResult:
    """Train every (λ, width) for ``epochs``, recording the errors after each epoch.

    quick: widths 1 … 128, λ ∈ {0, 0.01, 0.03}, 100 epochs, 1 seed; full: widths 1 … 256,
    six λ from 0 to 0.1, 300 epochs, 3 seeds.
    """
    widths = sorted({int(w) for w in (widths or (WIDTHS if quick else FULL_WIDTHS))})
    l2s = sorted({float(x) for x in (l2s if l2s is not None else (L2S if quick else FULL_L2S))})
    epochs = epochs or (100 if quick else 300)
    n_seeds = seeds if seeds is not None else (1 if quick else 3)
    _check(widths, l2s, epochs, train_size, label_noise, n_seeds)
    seed_list = [seed + k for k in range(n_seeds)]
    tasks = [(s, lam, w) for s in seed_list for lam in l2s for w in widths]
    sums: dict[tuple[float, int], dict[str, np.ndarray]] = {}
    timer = Timer()
    with single_thread():
        for k, (s, lam, w) in enumerate(tasks):
            def report(epoch: int, err: float, k: int = k, s: int = s, lam: float = lam,
                       w: int = w) -> None:
                notify(progress, k, len(tasks), f"seed {s}, λ {lam:g}, {w} units: epoch "
                       f"{epoch}, validation error {err:.3f}")

            curves = _one_run(_split(s, train_size, label_noise), w, lam, s, epochs, lr,
                              batch_size, report)
            total = sums.setdefault((lam, w), {k: np.zeros(epochs) for k in SERIES})
            for key in SERIES:
                total[key] += curves[key]
    notify(progress, len(tasks), len(tasks), "done")
    data = digits()
    # 6 decimals keep every error exact (multiples of 1/300, 1/500, 1/270 averaged over a
    # few seeds, to 1e-6) and the JSON a third of the size.
    curves_out = [{"l2": lam, "width": w, **{k: np.round(v / n_seeds, 6).tolist()
                                            for k, v in sums[(lam, w)].items()}}
                  for lam in l2s for w in widths]
    return CapacityResult(widths=widths, l2s=l2s, epochs=epochs, train_size=train_size,
                          validation_size=VALIDATION_SIZE, test_size=len(data.X_test),
                          label_noise=label_noise, seeds=seed_list, curves=curves_out,
                          seconds=timer.seconds)


def _split(seed: int, train_size: int, label_noise: float) -> dict[str, dict[str, np.ndarray]]:
    """Training and validation images from the deck's training split, never overlapping;
    the deck's test split as the test set. Only the training labels get noise."""
    data = digits()
    order = rng_for(seed, 2).permutation(len(data.X_train))
    train, val = order[:train_size], order[train_size:train_size + VALIDATION_SIZE]
    labels = corrupt_labels(data.y_train[train], label_noise, 10, rng_for(seed, 3))
    return {"train": {"x": data.X_train[train], "y": one_hot(labels, 10)},
            "val": {"x": data.X_train[val], "y": data.Y_train[val]},
            "test": {"x": data.X_test, "y": data.Y_test}}


def _graphs(width: int, lam: float) -> tuple[Graph, Graph]:
    """The graph trained (cross-entropy + λ·ΣW² over both weight matrices) and the one
    evaluated (cross-entropy alone), with the same parameter names."""
    text = mlp_text([64, width, 10], activation="tanh")
    plain = Graph.from_text(text)
    if not lam:
        return plain, plain
    penalty = " + ".join(l2(lam).term(w) for w in plain.params if w.startswith("W"))
    lines = text.rstrip("\n").split("\n")
    lines[-1] += f" + {penalty}"
    return Graph.from_text("\n".join(lines) + "\n"), plain


def _scorer(plain: Graph, split: dict[str, dict[str, np.ndarray]]) -> Any:
    """scores(params) -> {"train_error": …, "val_loss": …}: one forward pass over the
    three sets together (a third of the time of three :func:`evaluate` calls)."""
    compiled = compile_graph(plain)
    names = ("train", "val", "test")
    feed = {k: np.concatenate([split[n][k] for n in names]) for k in ("x", "y")}
    cuts = np.cumsum([len(split[n]["x"]) for n in names])[:-1]
    labels = np.split(feed["y"].argmax(axis=1), cuts)
    output = plain.resolve("a^(2)")

    def scores(params: dict[str, np.ndarray]) -> dict[str, float]:
        values = compiled.forward({**feed, **params})
        out: dict[str, float] = {}
        for name, pred, ce, y in zip(names, np.split(values[output], cuts),
                                     np.split(np.asarray(values[plain.cost]), cuts), labels,
                                     strict=True):
            out[f"{name}_error"] = float(np.mean(pred.argmax(axis=1) != y))
            out[f"{name}_loss"] = float(np.mean(ce))
        return out

    return scores


def _one_run(split: dict[str, dict[str, np.ndarray]], width: int, lam: float, seed: int,
             epochs: int, lr: float, batch_size: int, report: Any) -> dict[str, np.ndarray]:
    trained, plain = _graphs(width, lam)
    params = init_params(trained, "glorot", rng_for(seed, 0))
    scores = _scorer(plain, split)
    out: dict[str, list[float]] = {k: [] for k in SERIES}

    def on_epoch_end(epoch: int, logs: dict[str, float]) -> None:
        now = scores(params)
        for key in SERIES:
            out[key].append(now[key])
        if (epoch + 1) % 20 == 0 or epoch + 1 == epochs:
            report(epoch + 1, out["val_error"][-1])

    history = fit(trained, params, split["train"], optim.SGD(lr=lr), epochs, batch_size,
                  seed=seed, metrics=(), callbacks=[EpochCallback(on_epoch_end)])
    if history.diverged:
        raise TrainingError(f"width {width}, λ {lam:g}, seed {seed} diverged "
                            f"({history.diverged}); try a smaller lr")
    return {k: np.asarray(v) for k, v in out.items()}
