"""Training curves: train vs validation loss and accuracy per epoch (matplotlib, Agg).

The deck's under/over-fitting picture: training loss keeps falling while validation
loss levels off and turns up; the dotted line marks the epoch with the lowest
validation loss. matplotlib is imported only when a plot is drawn, with the Agg
backend through ``matplotlib.figure.Figure`` (no pyplot, no display needed), and the
file is written atomically (PNG, SVG or PDF by its suffix).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import GradgraphError
from .fileio import atomic_write_bytes

__all__ = ["plot_history"]

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
TRAIN, VALIDATION = "#1f77b4", "#d62728"


def _series(history: Any) -> Mapping[str, Sequence[float]]:
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping) or not logs.get("loss"):
        raise GradgraphError("nothing to plot: the history has no epochs")
    return logs


def _finite(values: Sequence[float | None]) -> list[float]:
    return [v if v is not None and math.isfinite(v) else math.nan for v in values]


def plot_history(history: Any, path: str | Path, title: str | None = None,
                 dpi: int = 150) -> Path:
    """Draw loss and accuracy per epoch (train and, if logged, validation) to ``path``.

    ``history`` is a :class:`gradgraph.train.History` or its ``.history`` dict.
    Returns the path written.
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise GradgraphError(f"cannot draw '{path.name}': use a .png, .svg or .pdf file name")
    logs = _series(history)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = [("loss", "loss (cross-entropy)" if "accuracy" in logs else "loss")]
    if "accuracy" in logs:
        panels.append(("accuracy", "accuracy"))
    fig = Figure(figsize=(5.2 * len(panels), 3.9), layout="constrained")
    FigureCanvasAgg(fig)
    epochs = list(range(1, len(logs["loss"]) + 1))
    best = _best_epoch(logs)
    for k, (key, label) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        _panel(ax, epochs, logs, key, label, best)
    fig.suptitle(title or "Training and validation, per epoch", fontsize=12)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=_metadata(fmt))
    atomic_write_bytes(path, buffer.getvalue())
    return path


def _panel(ax: Any, epochs: list[int], logs: Mapping[str, Sequence[float]], key: str,
           label: str, best: int | None) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

    train = _finite(logs[key])
    marker = "o-" if len(epochs) <= 40 else "-"
    ax.plot(epochs, train, marker, color=TRAIN, ms=3.5, lw=1.8,
            label=f"training ({_last(train, key)})")
    val = _finite(logs.get(f"val_{key}") or [])
    if val:
        ax.plot(epochs, val, marker.replace("o", "s"), color=VALIDATION, ms=3.5, lw=1.8,
                label=f"validation ({_last(val, key)})")
    if best is not None and best < len(epochs):
        # After the best validation loss the model fits the training set ever better
        # and generalises no better: the deck's over-fitting region.
        ax.axvspan(best, len(epochs), color="0.5", alpha=0.08, lw=0)
        ax.axvline(best, color="0.4", ls=":", lw=1.2,
                   label=f"lowest validation loss (epoch {best})")
    ax.set_xlabel("epoch")
    ax.set_ylabel(label)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)
    if key == "loss":
        values = [v for v in train + val if v > 0]
        if values and max(values) / min(values) > 30:
            ax.set_yscale("log")  # cross-entropy spans decades: show them all
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_ylim(top=1.005)
    ax.legend(frameon=False, fontsize=9, loc="best")
    ax.set_title(label.split(" (")[0], fontsize=11)


def _last(values: list[float], key: str) -> str:
    """The final value, for the legend: ``final 0.0914``, ``final 0.9704``."""
    last = next((v for v in reversed(values) if not math.isnan(v)), None)
    if last is None:
        return "final –"
    return f"final {last:.4f}" if key == "accuracy" else f"final {last:.4g}"


def _best_epoch(logs: Mapping[str, Sequence[float]]) -> int | None:
    val = logs.get("val_loss")
    if not val:
        return None
    finite = [(v, i) for i, v in enumerate(_finite(val)) if not math.isnan(v)]
    return min(finite)[1] + 1 if finite else None


def _metadata(fmt: str) -> dict[str, Any]:
    # Reproducible files: no creation date in PNG/SVG/PDF metadata.
    if fmt == "png":
        return {"Software": None}
    if fmt == "svg":
        return {"Date": None}
    return {"CreationDate": None}
