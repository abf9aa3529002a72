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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from .. import optim
from ..errors import TrainingError
from ..examples import mlp_text
from ..graph import Graph
from ..numeric import compile_graph
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


@dataclass
class LandscapeResult(ExperimentResult):
    """``minima``: one dict per trained network; ``surfaces`` and ``trajectories``: 2-D grids."""

    name: ClassVar[str] = "landscape"
    hidden: list[int]
    epochs: int
    lr: float
    train_size: int
    directions: int
    minima: list[dict[str, Any]]
    surfaces: list[dict[str, Any]] = field(default_factory=list)
    trajectories: list[dict[str, Any]] = field(default_factory=list)
    until_minimum: bool = False  # True: ``epochs`` caps the constant-lr phase (see _train)
    seconds: float = 0.0

    def configs(self) -> list[tuple[int, float]]:
        seen: list[tuple[int, float]] = []
        for m in self.minima:
            key = (m["batch_size"], m["weight_decay"])
            if key not in seen:
                seen.append(key)
        return seen

    def summary(self) -> list[dict[str, Any]]:
        """Per (batch size, weight decay): means over seeds of ΔL(0.5), accuracies, ‖θ‖."""
        out = []
        for bs, wd in self.configs():
            rows = [m for m in self.minima if (m["batch_size"], m["weight_decay"]) == (bs, wd)]

            def mean(key: str, rows: list[dict[str, Any]] = rows) -> float:
                return float(np.mean([r[key] for r in rows]))

            out.append({"batch_size": bs, "weight_decay": wd, "seeds": len(rows),
                        "sharpness": mean("sharpness"), "train_loss": mean("train_loss"),
                        "train_accuracy": mean("train_accuracy"),
                        "test_accuracy": mean("test_accuracy"),
                        "weight_norm": mean("weight_norm"),
                        "epochs_trained": [r.get("epochs_trained") for r in rows],
                        "curve": np.mean([r["curve"] for r in rows], axis=0).tolist()})
        return out

    def sharpness(self, batch_size: int, weight_decay: float = 0.0) -> float:
        """Mean ΔL = L(θ ± 0.5d) − L(θ) over seeds and directions for one config."""
        for s in self.summary():
            if (s["batch_size"], s["weight_decay"]) == (batch_size, weight_decay):
                return s["sharpness"]
        raise KeyError((batch_size, weight_decay))

    def verdict(self) -> Verdict:
        """Li §5: trained to a minimum, the largest batch's is sharper than the smallest's
        at every weight decay — by more than SHARPER (the full protocol's reference runs
        give 3–8×; the quick 64-64 net, both at loss ≈ 0.01, about 1.5×)."""
        sizes = sorted({m["batch_size"] for m in self.minima})
        if len(sizes) < 2:
            return None, "the sweep needs two batch sizes"
        unsettled = [m for m in self.minima if not m.get("converged")]
        if unsettled:
            m = unsettled[0]
            return False, (f"batch {m['batch_size']} stopped at training loss "
                           f"{m['train_loss']:.2g}, not at a minimum (neither < 0.01 nor "
                           f"plateaued)")
        parts, ok = [], True
        for wd in dict.fromkeys(m["weight_decay"] for m in self.minima):
            small, large = self.sharpness(sizes[0], wd), self.sharpness(sizes[-1], wd)
            ratio = large / small if small > 0 else float("inf")
            ok = ok and ratio > SHARPER
            parts.append(f"batch {sizes[-1]}'s minimum is {ratio:.1f}× as sharp as batch "
                         f"{sizes[0]}'s (ΔL {large:.2g} vs {small:.2g})"
                         + (f" at wd {wd:g}" if wd else ""))
        losses = ", ".join(f"{m['train_loss']:.1g}" for m in self.minima)
        return ok, "; ".join(parts) + f"; training losses {losses}"

    def table_body(self) -> str:
        rows = [[str(s["batch_size"]), fmt(s["weight_decay"], "g"),
                 "/".join(str(e) for e in s["epochs_trained"] if e is not None) or "-",
                 fmt(s["sharpness"], ".2g"), fmt(s["train_loss"], ".2g"),
                 fmt(s["train_accuracy"], ".3f"), fmt(s["test_accuracy"], ".4f"),
                 fmt(s["weight_norm"], ".1f")]
                for s in self.summary()]
        seeds = len({m["seed"] for m in self.minima})
        title = (f"Loss landscape (Li et al. 2018): MLP 64-{'-'.join(map(str, self.hidden))}-10"
                 f" ReLU, SGD momentum 0.9, lr {self.lr:g}, {self._length()}, "
                 f"{seeds} seed(s), {self.directions} filter-normalised directions")
        header = ["batch", "weight decay", "epochs", "ΔL at |α|=0.5", "train loss",
                  "train acc", "test acc", "‖θ‖"]
        return title + "\n" + text_table(header, rows)

    def _length(self) -> str:
        if self.until_minimum:
            return (f"lr constant until a minimum (≤ {self.epochs} epochs), then ÷10 three "
                    "times over as many epochs again")
        return f"{self.epochs} epochs, lr ÷10 at 50/75/90 %"

    def _columns(self) -> int:
        return max(2, len(self.surfaces), len(self.trajectories))

    @property
    def figsize(self) -> tuple[float, float]:  # type: ignore[override]
        rows = 1 + bool(self.surfaces) + bool(self.trajectories)
        return (5.4 * self._columns(), 4.6 * rows)

    def draw(self, fig: Any) -> None:
        # Rows: 1-D slices and the sharpness they give; 2-D slices; trajectories.
        rows = [fig.add_gridspec(1 + bool(self.surfaces) + bool(self.trajectories), 1)[i]
                for i in range(1 + bool(self.surfaces) + bool(self.trajectories))]
        top = rows[0].subgridspec(1, 2)
        self._draw_curves(fig.add_subplot(top[0, 0]))
        self._draw_sharpness(fig.add_subplot(top[0, 1]))
        if self.surfaces:
            self._draw_surfaces(fig, rows[1].subgridspec(1, self._columns()))
        if self.trajectories:
            row = rows[-1].subgridspec(1, self._columns())
            levels = _log_levels([t["losses"] for t in self.trajectories])
            for i, traj in enumerate(self.trajectories):
                self._draw_path(fig.add_subplot(row[0, i]), traj, levels)
        fig.suptitle(f"Loss landscape around trained minima (Li et al. 2018): MLP "
                     f"64-{'-'.join(map(str, self.hidden))}-10, small vs large batch")

    def _draw_surfaces(self, fig: Any, row: Any) -> None:
        from matplotlib.colors import LogNorm

        # The rise above each minimum, on shared levels: what "sharper" means here.
        rises = [np.asarray(s["losses"], dtype=float) - s["base"] for s in self.surfaces]
        top = min(max((float(np.nanmax(r)) for r in rises), default=1.0), 5.0)
        levels = np.geomspace(top / 3000, top, 15)
        for i, (surface, rise) in enumerate(zip(self.surfaces, rises, strict=True)):
            ax = fig.add_subplot(row[0, i])
            _contour(ax, surface["alphas"], surface["betas"], rise, levels, LogNorm(),
                     "L(θ + αδ + βη) − L(θ)  (log scale)")
            ax.set_xticks([-1, -0.5, 0, 0.5, 1])
            ax.set_yticks([-1, -0.5, 0, 0.5, 1])
            ax.set(xlabel="α (filter-normalised direction δ)",
                   ylabel="β (filter-normalised direction η)",
                   title=f"2-D slice, {_label(surface)}")

    def _draw_sharpness(self, ax: Any) -> None:
        summary = self.summary()
        y = np.arange(len(summary))
        ax.barh(y, [s["sharpness"] for s in summary],
                color=[_PALETTE[i % len(_PALETTE)] for i in range(len(summary))], alpha=0.8)
        for i, s in enumerate(summary):
            each = [m["sharpness"] for m in self.minima
                    if (m["batch_size"], m["weight_decay"]) == (s["batch_size"],
                                                                s["weight_decay"])]
            ax.plot(each, [i] * len(each), "o", color="black", mfc="white", ms=4)
            ax.text(max(s["sharpness"], *each), i, f"  {s['sharpness']:.2g}; test acc "
                    f"{s['test_accuracy']:.1%}, ‖θ‖ {s['weight_norm']:.1f}",
                    va="center", fontsize="x-small")
        ax.set_yticks(y, [_label(s) for s in summary], fontsize="small")
        ax.invert_yaxis()
        ax.set_xlim(0, max(s["sharpness"] for s in summary) * 1.9)
        ax.set(xlabel="ΔL = L(θ ± 0.5d) − L(θ)  (bar: mean; circles: seeds)",
               title="Sharpness: the rise half-way out")

    def _draw_path(self, ax: Any, traj: dict[str, Any], levels: np.ndarray) -> None:
        from matplotlib.colors import LogNorm

        _contour(ax, traj["alphas"], traj["betas"], np.asarray(traj["losses"], dtype=float),
                 levels, LogNorm(), "training cross-entropy (log scale)")
        path = np.asarray(traj["path"])
        ax.plot(path[:, 0], path[:, 1], ".-", color="red", ms=3, lw=1, label="θ after each epoch")
        ax.plot(path[0, 0], path[0, 1], "o", color="red", ms=6, label="initial θ")
        ax.plot(path[-1, 0], path[-1, 1], "*", color="white", mec="red", ms=12, label="final θ")
        var = traj["explained"]
        ax.set(xlabel=f"1st PCA direction of the path ({var[0]:.0%} of its variance)",
               ylabel=f"2nd PCA direction ({var[1]:.0%})",
               title=f"Optimizer trajectory, {_label(traj)}")
        ax.legend(fontsize="small", loc="best")

    def _draw_curves(self, ax: Any) -> None:
        alphas = self.minima[0]["alphas"]
        for i, s in enumerate(self.summary()):
            key = (s["batch_size"], s["weight_decay"])
            colour = _PALETTE[i % len(_PALETTE)]
            for m in self.minima:
                if (m["batch_size"], m["weight_decay"]) == key:
                    ax.plot(alphas, np.asarray(m["curve"]) - m["train_loss"], color=colour,
                            lw=0.6, alpha=0.4)
            base = np.mean([m["train_loss"] for m in self.minima
                            if (m["batch_size"], m["weight_decay"]) == key])
            ax.plot(alphas, np.asarray(s["curve"]) - base, color=colour, lw=2,
                    label=f"{_label(s)} (L(θ) = {s['train_loss']:.2g})")
        ax.axvline(-0.5, color="grey", lw=0.5, ls=":")
        ax.axvline(0.5, color="grey", lw=0.5, ls=":")
        ax.set(xlabel="α (step along a filter-normalised direction d)",
               ylabel="rise of the training loss  L(θ + αd) − L(θ)",
               title="1-D slices (mean over directions; thin: each seed)")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", loc="upper center")


_PALETTE = ["tab:blue", "tab:red", "tab:green", "tab:orange", "tab:purple", "tab:brown"]


def _label(d: dict[str, Any]) -> str:
    wd = d["weight_decay"]
    return f"batch {d['batch_size']}" + (f", wd {wd:g}" if wd else "")


def _log_levels(grids: list[Any]) -> np.ndarray:
    """Shared log-spaced contour levels, so the panels compare."""
    values = np.concatenate([np.asarray(g, dtype=float).ravel() for g in grids])
    values = values[np.isfinite(values) & (values > 0)]
    low, high = max(values.min(), 1e-4), min(values.max(), 20.0)
    return np.geomspace(low, max(high, low * 10), 14)


def _contour(ax: Any, alphas: Any, betas: Any, z: np.ndarray, levels: np.ndarray,
             norm: Any, label: str) -> None:
    z = np.clip(np.nan_to_num(z, nan=levels[-1]), levels[0], levels[-1])
    cs = ax.contourf(alphas, betas, z.T, levels=levels, norm=norm, cmap="viridis")
    ax.contour(alphas, betas, z.T, levels=levels, colors="white", linewidths=0.3)
    ax.figure.colorbar(cs, ax=ax, label=label, format="%.2g")
    ax.plot(0, 0, "+", color="white", ms=10)


# --------------------------------------------------------------------------------------
# Directions and slices
# --------------------------------------------------------------------------------------
def filter_normalized_direction(params: dict[str, np.ndarray],
                                rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Li et al. §4: d ~ N(0, I) like θ; each row d[j, :] of a weight matrix scaled to
    ‖θ[j, :]‖ (a neuron's incoming weights, PyTorch's filter); 1-D tensors zeroed."""
    d = {}
    for name, theta in params.items():
        if theta.ndim <= 1:
            d[name] = np.zeros_like(theta)  # ignore='biasbn'
            continue
        r = rng.standard_normal(theta.shape)
        rows = theta.reshape(theta.shape[0], -1)
        scale = np.linalg.norm(rows, axis=1) / (np.linalg.norm(r.reshape(rows.shape), axis=1)
                                                + 1e-10)
        d[name] = r * scale.reshape((-1,) + (1,) * (theta.ndim - 1))
    return d


def _loss_fn(graph: Graph, feed: dict[str, np.ndarray]) -> Any:
    compiled = compile_graph(graph)

    def loss(params: dict[str, np.ndarray]) -> float:
        with np.errstate(all="ignore"):
            value = float(np.mean(compiled.forward({**feed, **params})[graph.cost]))
        return value if np.isfinite(value) else np.nan

    return loss


def _shifted(theta: dict[str, np.ndarray], *steps: tuple[float, dict[str, np.ndarray]]
             ) -> dict[str, np.ndarray]:
    return {k: v + sum(a * d[k] for a, d in steps) for k, v in theta.items()}


def curve(loss: Any, theta: dict[str, np.ndarray], d: dict[str, np.ndarray],
          alphas: np.ndarray) -> np.ndarray:
    """L(θ + αd) for each α."""
    return np.array([loss(_shifted(theta, (a, d))) for a in alphas])


def surface(loss: Any, theta: dict[str, np.ndarray], d1: dict[str, np.ndarray],
            d2: dict[str, np.ndarray], alphas: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """``out[i, j] = L(θ + αᵢd₁ + βⱼd₂)``."""
    return np.array([[loss(_shifted(theta, (a, d1), (b, d2))) for b in betas] for a in alphas])


# --------------------------------------------------------------------------------------
# The experiment
# --------------------------------------------------------------------------------------
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
# Sharper "beyond noise": the spread of ΔL over 3 directions is about 10 %.
SHARPER = 1.25


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


def _flat(params: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([v.ravel() for v in params.values()])


def _unflat(vector: np.ndarray, like: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out, start = {}, 0
    for k, v in like.items():
        out[k] = vector[start:start + v.size].reshape(v.shape)
        start += v.size
    return out


def _minimum(graph: Graph, loss: Any, theta: dict[str, np.ndarray], data: Any,
             train: dict[str, np.ndarray], alphas: np.ndarray, directions: int,
             seed: int) -> dict[str, Any]:
    rng = rng_for(seed, 4)
    curves = [curve(loss, theta, filter_normalized_direction(theta, rng), alphas)
              for _ in range(directions)]
    mean = np.mean(curves, axis=0)
    at = np.interp([-0.5, 0.5], alphas, mean)
    base = loss(theta)
    fitted = evaluate(graph, theta, train)
    return {
        "train_loss": base,
        "train_accuracy": fitted["accuracy"],
        "test_accuracy": evaluate(graph, theta, {"x": data.X_test, "y": data.Y_test})["accuracy"],
        "weight_norm": float(np.linalg.norm(_flat(theta))),
        "sharpness": float(np.mean(at) - base),
        "alphas": alphas.tolist(),
        "curve": mean.tolist(),
    }


def _surface(loss: Any, theta: dict[str, np.ndarray], grid: int, seed: int) -> dict[str, Any]:
    rng = rng_for(seed, 5)
    d1 = filter_normalized_direction(theta, rng)
    d2 = filter_normalized_direction(theta, rng)
    axis = np.linspace(-1, 1, grid)
    return {"alphas": axis.tolist(), "betas": axis.tolist(), "base": loss(theta),
            "losses": surface(loss, theta, d1, d2, axis, axis).tolist()}


def _trajectory(loss: Any, theta: dict[str, np.ndarray], path: list[np.ndarray],
                grid: int) -> dict[str, Any]:
    """Li §7: the two principal directions of θ_epoch − θ_final; path and contour there."""
    final = _flat(theta)
    diffs = np.array(path) - final
    _, sv, vt = np.linalg.svd(diffs, full_matrices=False)
    explained = (sv**2 / np.sum(sv**2))[:2]
    basis = vt[:2]
    coords = diffs @ basis.T  # basis rows are orthonormal
    span = np.abs(coords).max(axis=0) * 1.25
    alphas = np.linspace(-span[0], span[0], grid)
    betas = np.linspace(-span[1], span[1], grid)
    d1, d2 = _unflat(basis[0], theta), _unflat(basis[1], theta)
    return {"alphas": alphas.tolist(), "betas": betas.tolist(),
            "losses": surface(loss, theta, d1, d2, alphas, betas).tolist(),
            "path": coords.tolist(), "explained": explained.tolist()}
