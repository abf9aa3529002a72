"""``Sequential``: a Keras-shaped model whose forward and backward pass is a gradgraph graph.

    model = Sequential([Dense(100, input_dim=64), Activation("tanh"), Dense(10),
                        Activation("softmax")])
    model.compile(optimizer=optim.SGD(lr=0.1), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(X, Y, epochs=15, batch_size=32, validation_data=(Xt, Yt))
    model.evaluate(Xt, Yt)      # [loss, accuracy], as Keras returns with metrics
    model.predict(Xt)           # the softmax probabilities
    model.graph                 # the training graph: gradgraph.derive(model.graph, wrt="W^(1)")

Differences from Keras, on purpose: weights are ``W^(k)`` of shape (units out, units in)
(the slides' w_jk; Keras's kernel is the transpose) and come back from
:meth:`Sequential.get_weights` as a dict by node name; the initial weights are drawn
from ``numpy.random.default_rng(seed)`` (``Sequential(seed=...)``), and ``fit(seed=...)``
seeds the shuffling and the dropout masks. Nothing is printed: ``verbose`` > 0 sends the
epoch lines to the ``gradgraph.train`` logger.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .. import optim as _optim
from .. import train as _train
from ..backends import check_backend
from ..errors import GradgraphError, TrainingError
from ..graph import Graph
from ..notation import unicode_name
from ..numeric import compile_graph
from . import losses as _losses
from .fitting import RunningStats, cost_lines, float_dtype, mask_feed, shared_graph
from .layers import Block, Layer
from .saving import FORMAT as FORMAT  # importable from here, as before the split
from .saving import FORMAT_VERSION as FORMAT_VERSION
from .saving import model_from_file, read_weights, save_model

MAX_PARAMS = 50_000_000  # 400 MB of float64 weights, before gradients and optimizer state
logger = logging.getLogger("gradgraph.train")


class Sequential:
    """A stack of layers; see the module docstring."""

    def __init__(self, layers: Iterable[Layer] | None = None, seed: int | None = 0,
                 name: str = "sequential"):
        self.layers: list[Layer] = []
        for layer in layers or ():
            self.add(layer)
        self.seed = seed
        self.name = name
        self.optimizer: _optim.Optimizer | None = None
        self.loss: str | None = None
        self.metrics: list[str] = []
        # The training dtype (compile's ``dtype``); weights are drawn in float64 and cast.
        self.dtype: np.dtype = np.dtype(np.float32)
        self.backend = "numpy"  # compile's ``backend``: where fit runs the step
        self._weights: dict[str, np.ndarray] = {}
        self._constants: dict[str, np.ndarray] = {}
        self._built: tuple[Block, _losses.Cost, Graph, Graph] | None = None
        self._input_dim: int | None = None

    def add(self, layer: Layer) -> None:
        if not isinstance(layer, Layer):
            raise TrainingError(f"layer {len(self.layers) + 1} is not a gradgraph.nn layer: "
                                f"{layer!r}")
        self.layers.append(layer)
        self._built = None

    # --- building -------------------------------------------------------------------

    def compile(self, optimizer: _optim.Optimizer | str = "sgd",
                loss: str = "categorical_crossentropy",
                metrics: Iterable[str] | None = None, dtype: Any = "float32",
                backend: str = "numpy") -> None:
        """Choose the optimizer (instance or name), the loss, the metrics, dtype and backend.

        ``dtype`` is what training computes in: ``"float32"`` (the default, as in Keras
        and PyTorch) or ``"float64"`` (for exact digits, as the derivations and lessons
        use). The weights are cast now; optimizer state and each fit's data follow them,
        cast once. ``backend`` is ``"numpy"`` or ``"jax"`` (``pip install
        gradgraph[jax]``): on JAX, fit runs forward, backward and the optimizer update as
        one jitted step, an epoch's batches under one ``lax.scan``.
        """
        dt = float_dtype(dtype)
        self.backend = check_backend(backend)
        if self.backend == "jax":
            from ..backends import jax_runtime

            jax_runtime.check_dtype(dt)
        self.optimizer = _optim.get(optimizer)
        self.loss = _losses.canonical(loss)
        self.dtype = dt
        self._cast_weights()
        self.metrics = [m for m, _ in _train._metric_list(metrics)]  # noqa: SLF001
        self._built = None
        if self._input_dim or self._first_input_dim():
            self.build()

    def _first_input_dim(self) -> int | None:
        dense = [layer for layer in self.layers if getattr(layer, "input_dim", None)]
        return dense[0].input_dim if dense else None

    def build(self, input_dim: int | None = None) -> None:
        """Write the graphs (and draw the initial weights the first time)."""
        if not self.layers:
            raise TrainingError("the model has no layers")
        input_dim = input_dim or self._input_dim or self._first_input_dim()
        if input_dim is None:
            raise TrainingError("the model does not know its input size: give "
                                "input_dim to the first layer, or call fit first")
        block = Block(units=input_dim)
        for i, layer in enumerate(self.layers, start=1):
            expected = getattr(layer, "input_dim", None)
            if expected is not None and expected != block.units:
                raise TrainingError(f"layer {i} expects {expected} inputs, got {block.units}")
            layer.write(block)
        loss = self.loss or ("categorical_crossentropy" if block.activation == "softmax"
                             else "mse")
        cost = _losses.cost(loss, block)
        head = f"x: input({input_dim}); y: input({block.units})"
        train_text = "\n".join([head, *block.train, *cost_lines(cost.train, block)]) + "\n"
        infer_text = "\n".join([head, *block.infer, *cost_lines(cost.infer, block)]) + "\n"
        try:
            train, infer = shared_graph(train_text), shared_graph(infer_text)
        except GradgraphError as exc:  # a bug here, not the user's: say where
            raise TrainingError(f"the model's graph cannot be built: {exc}") from None
        count = sum(math.prod(shape) for shape in block.params.values())
        if count > MAX_PARAMS:  # refuse before numpy tries to allocate gigabytes
            raise TrainingError(f"the model would have {count:,} parameters; the limit is "
                                f"{MAX_PARAMS:,} (use fewer or smaller layers)")
        self._input_dim = input_dim
        self._initialise(block)
        self._built = (block, cost, train, infer)

    def _initialise(self, block: Block) -> None:
        """Draw weights the model does not have yet (in layer order, from the seed)."""
        fresh = [n for n in block.params if n not in self._weights
                 or self._weights[n].shape != block.params[n]]
        if fresh:
            rng = np.random.default_rng(self.seed)
            for name, make in block.inits.items():
                value = make(rng)  # every draw happens, so each layer's values are stable
                if name in fresh:
                    self._weights[name] = np.asarray(value, dtype=self.dtype)
        for name in [n for n in self._weights if n not in block.params]:
            del self._weights[name]
        for name, (units, start) in block.consts.items():
            if name not in self._constants or self._constants[name].shape != (units,):
                self._constants[name] = np.full(units, start, dtype=self.dtype)
        for name in [n for n in self._constants if n not in block.consts]:
            del self._constants[name]

    def _require_built(self, input_dim: int | None = None) -> tuple[Block, _losses.Cost,
                                                                    Graph, Graph]:
        if self._built is None or (input_dim is not None and input_dim != self._input_dim
                                   and self._first_input_dim() is None):
            self.build(input_dim)
        assert self._built is not None
        return self._built

    @property
    def graph(self) -> Graph:
        """The training graph (dropout masks and batch statistics as written above)."""
        return self._require_built()[2]

    @property
    def eval_graph(self) -> Graph:
        """The inference graph: no dropout, batch norm with the running statistics."""
        return self._require_built()[3]

    # --- weights --------------------------------------------------------------------

    def get_weights(self) -> dict[str, np.ndarray]:
        """Copies of every parameter, and of batch norm's running statistics."""
        self._require_built()
        return {k: v.copy() for k, v in {**self._weights, **self._constants}.items()}

    def set_weights(self, weights: Mapping[str, Any]) -> None:
        """Replace weights by name; all are checked (shape, finiteness) before any is set."""
        block = self._require_built()[0]
        shapes = {**block.params, **{k: v.shape for k, v in self._constants.items()}}
        new = {}
        for key, value in weights.items():
            if key not in shapes:
                raise TrainingError(f"'{key}' is not a weight of this model "
                                    f"(weights: {', '.join(shapes)})")
            try:
                arr = np.array(value, dtype=self.dtype)
            except (TypeError, ValueError):
                raise TrainingError(f"weight '{key}' is not numeric") from None
            if arr.shape != shapes[key]:
                raise TrainingError(f"weight '{key}' must have shape {shapes[key]}, "
                                    f"got {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise TrainingError(f"weight '{key}' is not finite")
            new[key] = arr
        for key, arr in new.items():
            (self._constants if key in self._constants else self._weights)[key] = arr

    def _cast_weights(self) -> None:
        """Weights and running statistics in the training dtype (no copy if they are)."""
        for store in (self._weights, self._constants):
            for key, arr in store.items():
                if arr.dtype != self.dtype:
                    store[key] = arr.astype(self.dtype)

    def count_params(self) -> int:
        block = self._require_built()[0]
        return int(sum(np.prod(s) for s in block.params.values()))

    # --- data -----------------------------------------------------------------------

    def _x(self, X: Any) -> np.ndarray:
        try:
            # Straight to the training dtype: float32 data is not copied at all.
            X = np.asarray(X, dtype=self.dtype)
        except (TypeError, ValueError):
            raise TrainingError("X must be a numeric array (examples × features)") from None
        if X.ndim != 2:
            raise TrainingError(f"X must be 2-D (examples × features), got shape {X.shape}")
        expected = self._input_dim or self._first_input_dim()
        if expected is not None and X.shape[1] != expected:
            raise TrainingError(f"layer 1 expects {expected} inputs, got {X.shape[1]}")
        return X

    def _y(self, Y: Any, n: int, units: int) -> np.ndarray:
        try:
            Y = np.asarray(Y, dtype=self.dtype)
        except (TypeError, ValueError):
            raise TrainingError("Y must be a numeric array") from None
        if Y.ndim == 1 and units == 1:
            Y = Y[:, None]
        if Y.ndim == 1 and self.loss == "categorical_crossentropy":
            raise TrainingError(f"categorical_crossentropy needs one-hot targets of shape "
                                f"(n, {units}); convert labels with "
                                f"gradgraph.data.one_hot(y, {units})")
        if Y.shape != (n, units):
            raise TrainingError(f"Y must have shape ({n}, {units}) for this model, "
                                f"got {Y.shape}")
        return Y

    def _xy(self, X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray]:
        X = self._x(X)
        block = self._require_built(X.shape[1])[0]
        return X, self._y(Y, len(X), block.units)

    # --- training and inference -----------------------------------------------------

    def fit(self, X: Any, Y: Any, epochs: int = 1, batch_size: int = 32,
            validation_data: tuple[Any, Any] | None = None, verbose: int = 0,
            callbacks: Iterable[Any] | None = None, seed: int | None = 0,
            shuffle: bool = True, on_nonfinite: str = "stop") -> _train.History:
        """Train on (X, Y); returns the :class:`~gradgraph.train.History`.

        A non-finite loss, gradient or update stops training (``history.stopped`` says
        where; the weights are the last finite ones); ``on_nonfinite="raise"`` raises.
        """
        if self.optimizer is None or self.loss is None:
            raise TrainingError("compile the model before fit: "
                                "model.compile(optimizer=..., loss=...)")
        dt = self.dtype
        X, Y = (a.astype(dt, copy=False) for a in self._xy(X, Y))  # cast once per fit
        block, cost, train_graph, infer_graph = self._require_built()
        self._cast_weights()
        validation = None
        if validation_data is not None:
            if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
                raise TrainingError("validation_data must be a pair (X_val, Y_val)")
            Xv, Yv = (a.astype(dt, copy=False) for a in self._xy(*validation_data))
            validation = {"x": Xv, "y": Yv}
        extra = list(callbacks or ())
        if block.stats:
            extra.append(RunningStats(block.stats, self._constants))
        if verbose:
            extra.append(_train.ProgressLogger(write=logger.info))
        metrics = [cost.accuracy or m for m in self.metrics]
        history = _train.fit(
            train_graph, self._weights, {"x": X, "y": Y}, self.optimizer, epochs,
            batch_size, seed=seed, validation=validation, metrics=metrics,
            callbacks=extra, feed=mask_feed(block, dt) if block.masks else None,
            output=cost.output, eval_graph=infer_graph, constants=self._constants,
            on_nonfinite=on_nonfinite, shuffle=shuffle, backend=self.backend)
        return history

    def evaluate(self, X: Any, Y: Any, batch_size: int | None = None,
                 verbose: int = 0) -> list[float] | float:
        """``[loss, metric, …]`` on the inference graph (just the loss without metrics).

        The loss includes the regularisation terms, as Keras's does.
        """
        if self.loss is None:
            raise TrainingError("compile the model before evaluate")
        X, Y = self._xy(X, Y)
        _, cost, _, infer = self._require_built()
        metrics = [cost.accuracy or m for m in self.metrics]
        result = _train.evaluate(infer, self._weights, {"x": X, "y": Y}, batch_size,
                                 output=cost.output_infer, metrics=metrics,
                                 constants=self._constants)
        values = list(result.values())
        return values if self.metrics else values[0]

    def predict(self, X: Any, batch_size: int | None = None) -> np.ndarray:
        """The output layer's values on the inference graph (softmax probabilities, …)."""
        X = self._x(X)
        block, cost, _, infer = self._require_built(X.shape[1])
        compiled = compile_graph(infer)
        chunk = batch_size or 4096
        outs = []
        for start in range(0, len(X), chunk):
            part = X[start:start + chunk]
            # The cost needs labels; predictions do not depend on them.
            values = {**self._weights, **self._constants, "x": part,
                      "y": np.zeros((len(part), block.units))}
            outs.append(compiled.forward(values)[cost.output_infer])
        return np.concatenate(outs) if outs else np.zeros((0, block.units))

    # --- description ----------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed, "input_dim": self._input_dim,
                "loss": self.loss, "metrics": list(self.metrics), "dtype": self.dtype.name,
                "layers": [layer.get_config() for layer in self.layers]}

    def summary(self) -> str:
        """A table of the layers with their graph nodes, then the cost; returns the text."""
        block, cost, train, _ = self._require_built()
        rows = [("#", "Layer", "Output", "Params", "Graph nodes")]
        units = self._input_dim or 0
        for i, (layer, names) in enumerate(zip(self.layers, block.nodes, strict=True), 1):
            units = layer.output_units(units)
            params = sum(int(np.prod(block.params[n])) for n in names if n in block.params)
            rows.append((str(i), layer.describe(), f"({units},)", f"{params:,}",
                         " ".join(unicode_name(n) for n in names)))
        widths = [max(len(r[k]) for r in rows) for k in range(5)]
        lines = [f"Model: {self.name} — {len(train)} graph nodes"]
        lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                  for r in rows]
        stats = sum(v.size for v in self._constants.values())
        lines.append(f"Total params: {self.count_params():,}"
                     + (f" (+ {stats:,} running statistics)" if stats else ""))
        lines.append(f"Cost: {train[train.cost].definition(train.order)}"
                     + (f"   [{self.loss}]" if self.loss else ""))
        if self.optimizer is not None:
            lines.append(f"Optimizer: {self.optimizer!r}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Sequential([{', '.join(layer.describe() for layer in self.layers)}])"

    # --- saving ---------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Weights to ``path`` (.npz, never pickle) and the architecture to ``path.json``.

        Both are written atomically. The optimizer's state is not saved.
        """
        self._require_built()
        save_model(path, {**self._weights, **self._constants}, self.get_config())

    def load_weights(self, path: str | Path) -> None:
        """Weights from a file saved by :meth:`save`; refused whole if anything is off."""
        block = self._require_built()[0]
        shapes = {**block.params, **{k: v.shape for k, v in self._constants.items()}}
        self.set_weights(read_weights(path, shapes))

    @classmethod
    def load(cls, path: str | Path) -> Sequential:
        """A model saved by :meth:`save`: the architecture from the JSON, then the weights."""
        model = model_from_file(cls, path)
        model.load_weights(path)
        return model
