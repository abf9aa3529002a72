"""The landscape experiment's result: summary, verdict, table and figure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from ..common import ExperimentResult, Verdict, fmt, text_table

# Sharper "beyond noise": the spread of ΔL over 3 directions is about 10 %.
SHARPER = 1.25


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
