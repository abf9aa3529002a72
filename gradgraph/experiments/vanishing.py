"""Vanishing gradients at initialisation: per-layer ‖∂C/∂W⁽ˡ⁾‖ of deep sigmoid and ReLU nets.

Protocol: ``depth`` hidden layers of ``width`` units on the
digits, softmax + cross-entropy, the batch-mean gradient of 256 training images at
initialisation, the Frobenius norm of each layer's ∂C/∂W averaged over seeds. A
sigmoid's σ′ ≤ ¼ shrinks the backward signal at every layer whatever the init; ReLU
with Glorot or He keeps it within a few times from the output to the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ..errors import TrainingError
from ..examples import mlp_text
from ..graph import Graph
from ..numeric import compile_graph
from .common import (
    INITS,
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

ACTIVATIONS = {"sigmoid": "sigma", "relu": "relu", "tanh": "tanh"}
# One name per init in the table and the plot ("default" alone would not say whose).
INIT_NAMES = {"default": "PyTorch-default", "glorot": "Glorot", "he": "He"}


@dataclass
class VanishingResult(ExperimentResult):
    """``norms["sigmoid/he"][l - 1]``: mean ‖∂C/∂W⁽ˡ⁾‖ over seeds, l = 1 (input) … depth + 1."""

    name: ClassVar[str] = "vanishing"
    depth: int
    width: int
    examples: int
    seeds: list[int]
    norms: dict[str, list[float]]
    seconds: float = 0.0

    def ratio(self, key: str) -> float:
        """First over last layer's gradient norm: ≪ 1 means vanishing."""
        norms = self.norms[key]
        return norms[0] / norms[-1]

    def per_layer(self, key: str) -> float:
        """The mean factor by which the norm shrinks (< 1) or grows per layer, input-wards."""
        return self.ratio(key) ** (1.0 / self.depth)

    def verdict(self) -> Verdict:
        """Sigmoid nets lose more than half the gradient per layer whatever the init, while
        ReLU with Glorot or He init keeps it within 0.7–1.4× per layer."""
        sigmoid = [k for k in self.norms if k.startswith("sigmoid/")]
        relu = [k for k in ("relu/glorot", "relu/he") if k in self.norms]
        if not sigmoid or not relu:
            return None, "the sweep needs sigmoid and ReLU with Glorot or He init"
        worst = max(sigmoid, key=self.per_layer)
        best = min(relu, key=lambda k: abs(np.log(self.per_layer(k))))
        shrinks = self.per_layer(worst) < 0.5
        flat = 0.7 <= self.per_layer(best) <= 1.4
        reason = (f"per layer, {_label(worst)} keeps {self.per_layer(worst):.2f}× of the "
                  f"gradient at best (first/last {self.ratio(worst):.1g}), {_label(best)} "
                  f"{self.per_layer(best):.2f}× (first/last {self.ratio(best):.2g})")
        return shrinks and flat, reason

    def table_body(self) -> str:
        mid = (self.depth + 2) // 2
        header = ["activation / init", "l=1", f"l={mid}", f"l={self.depth + 1}", "first/last"]
        rows = [[_label(key), fmt(v[0], ".2g"), fmt(v[mid - 1], ".2g"),
                 fmt(v[-1], ".2g"), fmt(self.ratio(key), ".2g")]
                for key, v in self.norms.items()]
        title = (f"‖∂C/∂W‖ per layer at initialisation: {self.depth} hidden layers × "
                 f"{self.width}, {self.examples} digits, mean of {len(self.seeds)} seeds")
        return title + "\n" + text_table(header, rows)

    def draw(self, fig: Any) -> None:
        ax = fig.add_subplot()
        colours = {"default": "tab:blue", "glorot": "tab:orange", "he": "tab:green"}
        styles = {"sigmoid": "-", "relu": "--", "tanh": ":"}
        markers = {"sigmoid": "o", "relu": "s", "tanh": "^"}
        for key, norms in self.norms.items():
            act, init = key.split("/")
            layers = np.arange(1, len(norms) + 1)
            ax.semilogy(layers, norms, styles.get(act, "-"), marker=markers.get(act, "o"),
                        color=colours.get(init), label=f"{act}, {INIT_NAMES.get(init, init)} init",
                        ms=4)
        ax.set_xlabel("layer l  (1 = input layer … output layer)")
        ax.set_ylabel("‖∂C/∂W⁽ˡ⁾‖  (log scale)")
        ax.set_title(f"Gradient norm per layer at initialisation — {self.depth} hidden layers"
                     f" × {self.width}, mean of {len(self.seeds)} seeds")
        ax.set_xticks(np.arange(1, self.depth + 2))
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(ncols=2, fontsize="small")


def _label(key: str) -> str:
    """``sigmoid/default`` -> ``sigmoid / PyTorch-default``, as the plot's legend says it."""
    act, init = key.split("/")
    return f"{act} / {INIT_NAMES.get(init, init)}"


def run(quick: bool = True, seed: int = 0, progress: Progress | None = None, *,
        depth: int = 10, width: int = 100, examples: int = 256,
        activations: Sequence[str] = ("sigmoid", "relu"), inits: Sequence[str] = INITS,
        seeds: int | None = None) -> VanishingResult:
    """Per-layer gradient norms at initialisation; quick: 2 seeds, full: 5 (seconds either way)."""
    if depth < 1 or width < 1 or examples < 1:
        raise TrainingError("depth, width and examples must be at least 1")
    for act in activations:
        if act not in ACTIVATIONS:
            raise TrainingError(f"unknown activation {act!r} (known: {', '.join(ACTIVATIONS)})")
    n_seeds = seeds if seeds is not None else (2 if quick else 5)
    seed_list = [seed + i for i in range(n_seeds)]
    data = digits()
    examples = min(examples, len(data.X_train))
    timer = Timer()
    total = len(activations) * len(inits) * n_seeds
    norms: dict[str, list[float]] = {}
    with single_thread():
        for act in activations:
            graph = Graph.from_text(mlp_text([64] + [width] * depth + [10],
                                             activation=ACTIVATIONS[act]))
            compiled = compile_graph(graph)
            weights = [p for p in graph.params if p.startswith("W")]
            for init in inits:
                per_seed = []
                for s in seed_list:
                    notify(progress, len(norms) * n_seeds + len(per_seed), total,
                           f"{act}, {init} init, seed {s}")
                    per_seed.append(_layer_norms(compiled, weights, init, s, data, examples))
                norms[f"{act}/{init}"] = np.mean(per_seed, axis=0).tolist()
    notify(progress, total, total, "done")
    return VanishingResult(depth=depth, width=width, examples=examples, seeds=seed_list,
                           norms=norms, seconds=timer.seconds)


def _layer_norms(compiled: Any, weights: list[str], init: str, seed: int, data: Any,
                 examples: int) -> list[float]:
    rng = rng_for(seed, 0)
    params = init_params(compiled.graph, init, rng)
    pick = rng.choice(len(data.X_train), size=examples, replace=False)
    _, grads = compiled.step({"x": data.X_train[pick], "y": data.Y_train[pick], **params})
    return [float(np.linalg.norm(grads[w])) for w in weights]
