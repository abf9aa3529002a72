"""What every experiment shares: seeds, initialisation, results, plots.

Training is :func:`gradgraph.train.fit`, the project's one training loop.

Experiments run in float64 on one BLAS thread: the networks are small, and on a
laptop's few busy cores OpenBLAS's threads cost more than they save (on a shared
2-core machine: 5 ms against 0.3 ms per batch-16 step of a 64-256-256-10 net).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import TrainingError
from ..fileio import atomic_write_bytes, atomic_write_text
from ..graph import Graph

__all__ = [
    "Progress",
    "ExperimentResult",
    "INITS",
    "init_params",
    "EpochCallback",
    "digits",
    "rng_for",
    "single_thread",
    "json_beside",
    "Verdict",
    "verdict_line",
]

# progress(done, total, message): ``done`` of ``total`` units of work are finished;
# ``message`` says what runs now. Called often; a display decides what to show.
Progress = Callable[[int, int, str], None]

INITS = ("default", "glorot", "he")


def notify(progress: Progress | None, done: int, total: int, message: str) -> None:
    if progress is not None:
        progress(done, total, message)


def rng_for(seed: int, *stream: int) -> np.random.Generator:
    """An independent generator per (seed, stream…): init, batches, labels never share one."""
    return np.random.default_rng([int(seed), *(int(s) for s in stream)])


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Limit BLAS to one thread for the duration (no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on it
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@lru_cache(maxsize=1)
def _digits() -> Any:
    from ..data import load_digits_split

    return load_digits_split()


def digits() -> Any:
    """The deck's digits split (1527/270, standardised, one-hot ``Y``), loaded once."""
    return _digits()


# --------------------------------------------------------------------------------------
# Initialisation
# --------------------------------------------------------------------------------------
def init_params(graph: Graph, scheme: str = "default",
                rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Fresh parameters for every layer ``W x + b`` (or ``W x``) of ``graph``; W is (out, in).

    - ``default``: PyTorch ``nn.Linear`` — W and b ~ U(±1/√fan_in)
      (kaiming_uniform with a = √5).
    - ``glorot``: Glorot/Xavier uniform (Keras default) — W ~ U(±√(6/(fan_in + fan_out))),
      b = 0.
    - ``he``: He/Kaiming normal — W ~ N(0, 2/fan_in), b = 0.
    """
    if scheme not in INITS:
        raise TrainingError(f"unknown initialisation {scheme!r} (known: {', '.join(INITS)})")
    rng = rng if rng is not None else np.random.default_rng(0)
    params: dict[str, np.ndarray] = {}
    for node in graph:
        layer = node.tspec.layer_args if node.tspec is not None else None
        if layer is None:  # not a layer op (affine W x + b, matvec W x)
            continue
        w_name = node.tensor_expr.args[layer[0]].name
        b_name = node.tensor_expr.args[layer[2]].name if layer[2] is not None else None
        fan_out, fan_in = graph[w_name].shape
        if scheme == "default":
            bound = 1.0 / math.sqrt(fan_in)
            params[w_name] = rng.uniform(-bound, bound, size=(fan_out, fan_in))
            bias = rng.uniform(-bound, bound, size=fan_out)
        elif scheme == "glorot":
            bound = math.sqrt(6.0 / (fan_in + fan_out))
            params[w_name] = rng.uniform(-bound, bound, size=(fan_out, fan_in))
            bias = np.zeros(fan_out)
        else:
            params[w_name] = rng.normal(0.0, math.sqrt(2.0 / fan_in), size=(fan_out, fan_in))
            bias = np.zeros(fan_out)
        if b_name is not None:  # W x + b (a layer may have no bias: W x)
            params[b_name] = bias
    missing = [p for p in graph.params if p not in params]
    if missing:
        raise TrainingError(f"init_params: {missing[0]!r} is not the W or b of a layer W x + b")
    return {p: params[p] for p in graph.params}


# --------------------------------------------------------------------------------------
# Training: gradgraph.train.fit does the loop; these adapt the experiments to it
# --------------------------------------------------------------------------------------
class EpochCallback:
    """``fn(epoch, logs) -> bool | None`` as a :func:`gradgraph.train.fit` callback.

    ``fit`` has written the epoch's parameters into the caller's arrays before it calls
    ``on_epoch_end``, so ``fn`` may evaluate them; returning True stops training.
    """

    def __init__(self, fn: Callable[[int, dict[str, float]], bool | None]):
        self.fn = fn

    def on_epoch_end(self, epoch: int, logs: dict[str, float]) -> bool:
        return bool(self.fn(epoch, logs))


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
def _jsonable(x: Any) -> Any:
    """numpy and NaN-free JSON: arrays -> lists, NaN/inf -> None (JSON has no NaN)."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


# (reproduced, reason): see ExperimentResult.verdict.
Verdict = tuple[bool | None, str]


def verdict_line(reproduced: bool | None, reason: str) -> str:
    """``Reproduced: yes — …`` for the end of a table."""
    word = {True: "yes", False: "NO", None: "not judged"}[reproduced]
    return f"Reproduced: {word} — {reason}"


def json_beside(plot: str | Path) -> Path:
    """Where results go by default: ``zhang.png`` -> ``zhang.json``."""
    return Path(plot).with_suffix(".json")


@dataclass
class ExperimentResult:
    """Base of every experiment's result: JSON, a text table and a plot."""

    name: ClassVar[str] = "experiment"

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-ready (arrays as lists, NaN as None), with the verdict:
        ``reproduced`` (true, false, or null where the sweep cannot judge) and ``reason``."""
        body = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        reproduced, reason = self.verdict()
        return _jsonable({"experiment": self.name, "reproduced": reproduced, "reason": reason,
                          **body})

    def save_json(self, path: str | Path) -> None:
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False, ensure_ascii=False)
        atomic_write_text(path, text + "\n")

    def table(self) -> str:
        """The results as text, ending with whether the paper's result was reproduced."""
        return self.table_body() + "\n" + verdict_line(*self.verdict())

    def table_body(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def verdict(self) -> Verdict:  # pragma: no cover - abstract
        """(reproduced, one-line reason): True/False, or None where the sweep (a subset
        of the protocol's settings) lacks what the qualitative result is about."""
        raise NotImplementedError

    def draw(self, fig: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    figsize: ClassVar[tuple[float, float]] = (10.0, 4.5)

    def plot(self, path: str | Path) -> None:
        """Draw the figure to ``path`` (format from the suffix: .png, .svg, .pdf)."""
        fig = new_figure(self.figsize)
        self.draw(fig)
        save_figure(fig, path)


def new_figure(size: tuple[float, float]) -> Any:
    """A matplotlib Figure on the Agg canvas, without pyplot's global state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Any, path: str | Path) -> None:
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=120)
    atomic_write_bytes(path, buffer.getvalue())


class Timer:
    """Wall time of a run, for the results and the README."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return round(time.perf_counter() - self.start, 2)


def fmt(x: float | None, spec: str = ".3g") -> str:
    """A number for a table; NaN/None as 'NaN'."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "NaN"
    return format(x, spec)


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain aligned table (first column left, the rest right)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [str(c).ljust(w) if i == 0 else str(c).rjust(w)
                 for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])
