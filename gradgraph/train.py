"""Training on the graph: shuffled minibatches, History, callbacks, a stop on non-finite.

:func:`fit` runs the compiled graph's training step (:meth:`CompiledGraph.step`) and the
optimizer's compiled update rule over minibatches drawn without replacement, freshly
shuffled every epoch: epoch ``e``'s order is the ``e``-th ``permutation(n)`` of
``numpy.random.default_rng(seed)``, so a hand-written reference can replay it.
:func:`evaluate` gives the mean loss and metrics over a data set.

What fit guarantees:

- ``params`` (name -> float array) is updated in place: the arrays you pass hold the
  trained values when fit returns (and after every epoch). During an epoch the loop
  works on fresh arrays, which :attr:`Trainer.params` shows to callbacks.
- Every step's loss is checked, and every update through the next step's loss and an
  exact check after each epoch: the first loss, gradient or update that is not finite
  stops training with a :class:`NonFiniteError` (epoch, step, parameter, learning rate)
  in ``history.stopped``, and the parameters (and optimizer state) are left at the
  values the failing step started from — the last ones whose loss, gradients and
  update were all finite. ``on_nonfinite="raise"`` raises it instead.
- Callbacks are any objects with some of ``on_train_begin(logs)``,
  ``on_epoch_begin(epoch, logs)``, ``on_batch_end(step, logs)``,
  ``on_epoch_end(epoch, logs)``, ``on_train_end(logs)`` (epochs counted from 0, as in
  Keras). One stops training by returning True or by setting
  ``trainer.stop_training = True`` (``callback.trainer`` is set before training).
  Keys a callback adds to an epoch's ``logs`` are recorded in the History too.
- Nothing is printed: :class:`ProgressLogger` hands lines to a function you give.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from . import optim as _optim
from .errors import GraphError, TrainingError
from .graph import Graph
from .numeric import CompiledGraph, compile_graph

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "NonFiniteError",
    "ProgressLogger",
    "StepInfo",
    "Trainer",
    "evaluate",
    "fit",
]

Metric = Callable[[np.ndarray, np.ndarray], float]
Feed = Callable[["StepInfo", dict[str, np.ndarray]], Mapping[str, Any]]


class NonFiniteError(TrainingError):
    """Training met a loss, gradient or update that is not finite.

    Attributes: ``epoch`` (from 1), ``step`` (from 1, counted over the whole run),
    ``parameter`` (None for the loss), ``lr`` (the learning rate of that step) and
    ``what`` ("loss", "gradient" or "update").
    """

    def __init__(self, what: str, epoch: int, step: int, parameter: str | None, lr: float):
        self.what, self.epoch, self.step = what, epoch, step
        self.parameter, self.lr = parameter, lr
        subject = "the loss" if parameter is None else f"the {what} of '{parameter}'"
        super().__init__(
            f"training stopped at epoch {epoch}, step {step}: {subject} is not finite "
            f"(learning rate {lr:g}); parameters kept from before that step — try a "
            f"smaller learning rate")


@dataclass
class StepInfo:
    """What a ``feed`` function knows about the step it feeds.

    ``rng`` draws masks and noise; it is seeded from fit's ``seed`` but separate from
    the shuffling, so adding dropout does not change the batch order.
    """

    epoch: int  # from 1
    step: int  # from 1, over the whole run
    batch: int  # index within the epoch, from 0
    size: int  # examples in this batch
    rng: np.random.Generator
    training: bool = True


@dataclass
class History:
    """Per-epoch logs, Keras-style: ``history.history["val_accuracy"][-1]``.

    ``epoch`` lists the epochs run (from 0, as Keras); ``epochs`` is how many.
    ``stopped`` is the :class:`NonFiniteError` that ended training, if one did;
    ``message`` says why training ended early (non-finite value or a callback).
    ``params`` records the run's settings.
    """

    history: dict[str, list[float]] = field(default_factory=dict)
    epoch: list[int] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    stopped: NonFiniteError | None = None
    message: str | None = None

    @property
    def epochs(self) -> int:
        return len(self.epoch)

    @property
    def diverged(self) -> str | None:
        """The non-finite report as text (None when training did not diverge)."""
        return str(self.stopped) if self.stopped is not None else None

    def record(self, epoch: int, logs: Mapping[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            if isinstance(value, numbers.Real):
                self.history.setdefault(key, []).append(float(value))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (NaN and infinities become None)."""
        def clean(v: float) -> float | None:
            return v if math.isfinite(v) else None

        stopped = None
        if self.stopped is not None:
            s = self.stopped
            stopped = {"what": s.what, "epoch": s.epoch, "step": s.step,
                       "parameter": s.parameter, "lr": s.lr, "message": str(s)}
        return {"history": {k: [clean(v) for v in vs] for k, vs in self.history.items()},
                "epoch": list(self.epoch), "params": dict(self.params),
                "stopped": stopped, "message": self.message}

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.history.items() if v)
        tail = f", stopped: {self.message}" if self.message else ""
        return f"History({self.epochs} epochs: {last}{tail})"


class Callback:
    """Base class for callbacks (optional: any object with these methods will do)."""

    trainer: Trainer | None = None

    def on_train_begin(self, logs: dict[str, Any]) -> bool | None:
        return None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> bool | None:
        return None

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> bool | None:
        return None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> bool | None:
        return None

    def on_train_end(self, logs: dict[str, Any]) -> bool | None:
        return None


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Keras semantics: ``mode="auto"`` minimises losses and maximises accuracies;
    ``restore_best_weights`` (alias ``restore_best``) puts back the parameters of the
    best epoch when training stops (by this callback or at the end of the epochs).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 0, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False, *,
                 restore_best: bool | None = None):
        if not isinstance(patience, numbers.Integral) or isinstance(patience, bool) \
                or patience < 0:
            raise TrainingError(f"patience must be an integer >= 0, got {patience!r}")
        if not isinstance(min_delta, numbers.Real) or min_delta < 0:
            raise TrainingError(f"min_delta must be a number >= 0, got {min_delta!r}")
        if mode not in ("auto", "min", "max"):
            raise TrainingError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        maximise = mode == "max" or (mode == "auto" and "acc" in monitor)
        self.sign = -1.0 if maximise else 1.0  # compare sign·value: smaller is better
        self.restore = bool(restore_best if restore_best is not None else restore_best_weights)
        self.best: float = math.inf
        self.best_epoch: int | None = None
        self.wait = 0
        self.stopped_epoch: int | None = None
        self._best_params: dict[str, np.ndarray] | None = None

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        names = logs.get("metrics", ())
        if names and self.monitor not in names:
            raise TrainingError(f"EarlyStopping monitors '{self.monitor}', which this run "
                                f"does not log (it logs {', '.join(names)})")
        self.best, self.best_epoch, self.wait, self.stopped_epoch = math.inf, None, 0, None
        self._best_params = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> bool:
        value = logs.get(self.monitor)
        if value is None or not math.isfinite(value):
            return False
        if self.sign * value < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = self.sign * value, epoch, 0
            if self.restore and self.trainer is not None:
                self._best_params = {k: v.copy() for k, v in self.trainer.params.items()}
            return False
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            if self.trainer is not None:
                self.trainer.stop_reason = (
                    f"early stopping: {self.monitor} has not improved for {self.wait} "
                    f"epochs (best {self.sign * self.best:.4g} at epoch {self.best_epoch + 1})")
            return True
        return False

    def on_train_end(self, logs: dict[str, Any]) -> None:
        if self.restore and self._best_params is not None and self.trainer is not None:
            self.trainer.set_params(self._best_params)


class ProgressLogger(Callback):
    """Keras-like epoch lines and an optional per-batch progress hook; prints nothing.

    ``write(line)`` gets ``Epoch 3/15 - 0.1s - loss: 0.1234 - accuracy: 0.9712 - …``;
    ``advance(examples)`` is called after every batch (drive a progress bar with it).
    """

    def __init__(self, write: Callable[[str], None] | None = None,
                 advance: Callable[[int], None] | None = None):
        self.write, self.advance = write, advance
        self._start = 0.0
        self._epochs = 0

    def on_train_begin(self, logs: dict[str, Any]) -> None:
        self._epochs = int(logs.get("epochs", 0))

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self._start = time.perf_counter()

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> None:
        if self.advance is not None:
            self.advance(int(logs.get("size", 1)))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> None:
        if self.write is None:
            return
        took = time.perf_counter() - self._start
        parts = [f"Epoch {epoch + 1}/{self._epochs}", f"{took:.2f}s"]
        parts += [f"{k}: {v:.4f}" for k, v in logs.items() if isinstance(v, numbers.Real)]
        self.write(" - ".join(parts))


# --------------------------------------------------------------------------------------
# metrics
# --------------------------------------------------------------------------------------
def accuracy(pred: np.ndarray, target: np.ndarray) -> float:
    """Fraction right: argmax for one-hot targets, threshold 0.5 for one output unit."""
    if pred.ndim > 1 and pred.shape[-1] > 1:
        right = np.count_nonzero(pred.argmax(axis=-1) == target.argmax(axis=-1))
    else:
        right = np.count_nonzero((pred > 0.5) == (target > 0.5))
    return right / len(pred)


def _metric_list(metrics: Iterable[str | Metric] | None) -> list[tuple[str, Metric]]:
    out = []
    for m in metrics or ():
        if isinstance(m, str):
            if m.lower() not in ("accuracy", "acc"):
                raise TrainingError(f"unknown metric {m!r}; use 'accuracy' or a function "
                                    f"(predictions, targets) -> number")
            out.append(("accuracy", accuracy))
        elif callable(m):
            out.append((getattr(m, "__name__", "metric"), m))
        else:
            raise TrainingError(f"a metric is 'accuracy' or a function, got {m!r}")
    return out


# --------------------------------------------------------------------------------------
# validation of the arguments
# --------------------------------------------------------------------------------------
def _int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise TrainingError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _inputs(graph: Graph, data: Mapping[str, Any], what: str) -> dict[str, np.ndarray]:
    """{input node: float64 array with a leading batch axis}, checked once.

    A pair ``(X, Y)`` is read as ``{"x": X, "y": Y}``.
    """
    if isinstance(data, tuple | list) and len(data) == 2:
        data = {"x": data[0], "y": data[1]}
    if not isinstance(data, Mapping) or not data:
        raise TrainingError(f"{what} must be a dict of arrays keyed by input name, "
                            f"e.g. {{'x': X, 'y': Y}}")
    out: dict[str, np.ndarray] = {}
    for key, value in data.items():
        try:
            name = graph.resolve(key)
        except GraphError:
            raise TrainingError(f"{what}: '{key}' is not an input of the graph") from None
        node = graph[name]
        if node.role != "input":
            raise TrainingError(f"{what}: '{name}' is a {node.role} of the graph, not an input")
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TrainingError(f"{what}: '{name}' is not numeric") from None
        if arr.ndim != len(node.shape) + 1 or arr.shape[1:] != node.shape:
            want = ", ".join(["n", *map(str, node.shape)])
            raise TrainingError(f"{what}: '{name}' must have shape ({want}), got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            row = int(np.argwhere(~np.isfinite(arr))[0][0])
            raise TrainingError(f"{what}: '{name}' is not finite in row {row + 1}")
        out[name] = arr
    sizes = {len(a) for a in out.values()}
    if len(sizes) > 1:
        raise TrainingError(f"{what}: arrays have different numbers of examples: {sorted(sizes)}")
    if sizes == {0}:
        raise TrainingError(f"{what} has no examples")
    return out


def _param_arrays(graph: Graph, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    if not isinstance(params, Mapping):
        raise TrainingError("params must be a dict of name -> float numpy array")
    given = {graph.resolve(k): v for k, v in params.items()}
    out: dict[str, np.ndarray] = {}
    for name in graph.params:
        if name not in given:
            raise TrainingError(f"no value for parameter '{name}'")
        arr = given[name]
        if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
            raise TrainingError(f"parameter '{name}' must be a float numpy array "
                                f"(it is updated in place)")
        if arr.shape != graph[name].shape:
            raise TrainingError(f"parameter '{name}' has shape {arr.shape}, the graph "
                                f"declares {graph[name].shape}")
        if not arr.flags.writeable:
            raise TrainingError(f"parameter '{name}' is read-only; it is updated in place")
        if not np.all(np.isfinite(arr)):
            raise TrainingError(f"parameter '{name}' is not finite before training")
        out[name] = arr
    extra = [k for k in given if k not in out]
    if extra:
        raise TrainingError(f"'{extra[0]}' is not a parameter of the graph")
    return out


def default_output(graph: Graph, of: str | None = None) -> str | None:
    """The prediction node: what the cost compares with the labels.

    A cross-entropy's first argument (the softmax); otherwise the computed node nearest
    the cost whose shape is the labels' (``a`` in ``C = sum((a - y)^2)``).
    """
    cost = graph[of or graph.cost]
    for name in (cost.name, *graph.ancestors(cost.name)):
        node = graph[name]
        if node.kind == "cross_entropy":
            return node.tensor_expr.args[0].name
    target = default_target(graph, of)
    if target is None:
        return None
    shape = graph[target].shape
    for name in graph.ancestors(cost.name):
        node = graph[name]
        if not node.is_leaf and node.shape == shape and graph.is_batched(name):
            return name
    return None


def default_target(graph: Graph, of: str | None = None) -> str | None:
    """The labels: a cross-entropy's second argument, else the input ``y``."""
    cost = graph[of or graph.cost]
    for name in (cost.name, *graph.ancestors(cost.name)):
        node = graph[name]
        if node.kind == "cross_entropy":
            return node.tensor_expr.args[1].name
    return "y" if "y" in graph and graph["y"].role == "input" else None


# --------------------------------------------------------------------------------------
# the optimizer's update, in the hot loop
# --------------------------------------------------------------------------------------
class _Update:
    """The optimizer's compiled rule applied to the loop's working arrays.

    ``Optimizer.step`` validates every argument and writes in place on every call; the
    loop validates once (here) and swaps in the new arrays instead, which keeps the
    arrays of the step before as the fallback when a value turns out not finite. The
    arithmetic is the very function ``Optimizer.step`` runs.
    """

    def __init__(self, opt: _optim.Optimizer, params: Mapping[str, np.ndarray]):
        self.opt = opt
        rule = opt._rule  # noqa: SLF001 - same package; see the class docstring
        self.fn = opt._step_fn  # noqa: SLF001
        self.hyper = [v for _, v in rule.hyper]
        self.state_names = [s.name for s, _ in rule.state]
        self.names = list(params)
        for name, theta in params.items():
            state = opt.state.get(name)
            if state is None:
                state = opt.state[name] = opt._initial_state(theta)  # noqa: SLF001
            opt._check_state(name, theta, state)  # noqa: SLF001
        # sign(±inf) is finite: only there can a bad gradient give a finite update.
        self.check_grads = any(isinstance(e, sp.sign) for eq in opt.equations
                               for e in sp.preorder_traversal(eq.rhs))

    def apply(self, work: dict[str, Any], grads: Mapping[str, Any]) -> None:
        opt, fn, hyper, state_names = self.opt, self.fn, self.hyper, self.state_names
        t = opt.iterations + 1
        lr = opt.lr if opt.schedule is None else opt.lr_at(t)
        for name in self.names:
            if not state_names:
                work[name] = fn(work[name], grads[name], t, lr, *hyper)[0]
                continue
            state = opt.state[name]
            out = fn(work[name], grads[name], *[state[s] for s in state_names], t, lr, *hyper)
            work[name] = out[0]
            # A new dict: the one it replaces stays valid as the fallback.
            opt.state[name] = dict(zip(state_names, out[1:], strict=True))
        opt.iterations = t


# --------------------------------------------------------------------------------------
# the loop
# --------------------------------------------------------------------------------------
class Trainer:
    """One run of :func:`fit`; callbacks see it as ``callback.trainer``.

    ``params`` are the current parameter arrays (replaced, not mutated, at each step),
    ``history`` the History so far, ``constants`` the const leaves (e.g. running
    statistics); set ``stop_training`` (and ``stop_reason``) to stop after this batch.
    """

    def __init__(self, graph: Graph, params: Mapping[str, Any], data: Mapping[str, Any],
                 optimizer: Any, epochs: int, batch_size: int, *, seed: int | None,
                 validation: Mapping[str, Any] | None, metrics: Iterable[Any] | None,
                 callbacks: Iterable[Any], feed: Feed | None, of: str | None,
                 output: str | None, eval_graph: Graph | None,
                 constants: Mapping[str, Any] | None, on_nonfinite: str, shuffle: bool):
        if not isinstance(graph, Graph):
            raise TrainingError("fit needs a gradgraph Graph")
        if on_nonfinite not in ("stop", "raise"):
            raise TrainingError(f"on_nonfinite must be 'stop' or 'raise', got {on_nonfinite!r}")
        self.graph = graph
        self.of = graph.resolve(of or graph.cost)
        self.compiled: CompiledGraph = compile_graph(graph, self.of)
        self.optimizer = _optim.get(optimizer)
        self.epochs = _int("epochs", epochs, 1)
        self.batch_size = _int("batch_size", batch_size, 1)
        if seed is not None:
            _int("seed", seed, 0)
        self.caller_params = _param_arrays(graph, params)
        self.data = _inputs(graph, data, "data")
        self.n = len(next(iter(self.data.values())))
        self.constants = dict(constants or {})
        self.feed = feed
        self.on_nonfinite = on_nonfinite
        self.shuffle = bool(shuffle)
        self.metrics = _metric_list(metrics)
        self.output, self.target = self._prediction(output)
        self.batch_means = tuple(n.name for n in graph.nodes if n.kind == "batch_mean")
        self.eval_graph = eval_graph or graph
        if not isinstance(self.eval_graph, Graph):
            raise TrainingError("eval_graph must be a gradgraph Graph")
        self._check_leaves()
        self.bounds = self._batches()
        self.eval_output = self.output
        if self.output is not None and self.output not in self.eval_graph:
            self.eval_output = default_output(self.eval_graph)
        self.validation = (_inputs(self.eval_graph, validation, "validation data")
                           if validation is not None else None)
        if self.validation is not None:
            have = set(self.caller_params) | set(self.constants) | set(self.validation)
            missing = [n for n in self.eval_graph.leaves if n not in have]
            if missing:
                raise TrainingError(f"validation: no value for '{missing[0]}' (give it in "
                                    f"constants, or evaluate on an eval_graph without it)")
        self.callbacks = list(callbacks or ())
        self.shuffler = np.random.default_rng(seed)
        self.feed_rng = np.random.default_rng(None if seed is None else [seed, 1])
        self.history = History(params={"epochs": self.epochs, "batch_size": self.batch_size,
                                       "steps": len(self.bounds), "examples": self.n,
                                       "seed": seed, "optimizer": repr(self.optimizer)})
        self.work: dict[str, Any] = {**self.caller_params, **self.constants}
        self.update = _Update(self.optimizer, self.caller_params)
        self.stop_training = False
        self.stop_reason: str | None = None
        self.step_count = 0

    # --- setup ----------------------------------------------------------------------

    def _prediction(self, output: str | None) -> tuple[str | None, str | None]:
        if not self.metrics:
            return None, None
        out = self.graph.resolve(output) if output else default_output(self.graph, self.of)
        target = default_target(self.graph, self.of)
        if out is None or target is None:
            raise TrainingError("cannot tell which node is the prediction for the metrics; "
                                "name it with output=... (or pass metrics=())")
        if target not in self.data:
            raise TrainingError(f"the metrics compare '{out}' with the labels '{target}', "
                                f"which are not in the data")
        return out, target

    def _check_leaves(self) -> None:
        constants = {}
        for key, value in self.constants.items():
            # Running statistics may exist only in the inference graph.
            name = key if key in self.eval_graph else self.graph.resolve(key)
            try:
                # No copy for float arrays: a callback may update them in place.
                arr = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                raise TrainingError(f"constant '{name}' is not numeric") from None
            if not np.all(np.isfinite(arr)):
                raise TrainingError(f"constant '{name}' is not finite")
            constants[name] = arr
        self.constants = constants
        given = set(self.caller_params) | set(self.data) | set(constants)
        missing = [n for n in self.graph.leaves if n not in given]
        if missing and self.feed is None:
            raise TrainingError(f"no values for '{missing[0]}': give it in data, constants "
                                f"or through feed")
        self.fed = missing

    def _batches(self) -> list[tuple[int, int]]:
        size = min(self.batch_size, self.n)
        bounds = [(s, min(s + size, self.n)) for s in range(0, self.n, size)]
        if self.batch_means:
            if size < 2:
                raise TrainingError(
                    "batch normalisation needs at least 2 examples per batch (the variance "
                    f"of one example is 0); got batch_size={self.batch_size} with "
                    f"{self.n} examples")
            if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
                # A lone last example would be normalised by its own mean: fold it in.
                bounds[-2:] = [(bounds[-2][0], self.n)]
        return bounds

    # --- callbacks ------------------------------------------------------------------

    def _call(self, hook: str, *args: Any) -> bool:
        stop = False
        for cb in self.callbacks:
            fn = getattr(cb, hook, None)
            if fn is not None and fn(*args):
                stop = True
        return stop

    @property
    def params(self) -> dict[str, np.ndarray]:
        """The current parameters (the loop's working arrays)."""
        return {name: self.work[name] for name in self.caller_params}

    def set_params(self, values: Mapping[str, np.ndarray]) -> None:
        """Replace the current parameters (e.g. to restore the best epoch's)."""
        for name, value in values.items():
            name = self.graph.resolve(name)
            self.work[name] = np.array(value, dtype=np.float64)
        self._sync()

    def _sync(self) -> None:
        """Copy the working arrays into the caller's arrays (the in-place contract)."""
        for name, arr in self.caller_params.items():
            if self.work[name] is not arr:
                np.copyto(arr, self.work[name])

    # --- running --------------------------------------------------------------------

    def run(self) -> History:
        for cb in self.callbacks:
            if hasattr(cb, "trainer") or isinstance(cb, Callback):
                cb.trainer = self
        names = ["loss", *(m for m, _ in self.metrics)]
        if self.validation is not None:
            names += [f"val_{m}" for m in names]
        self._call("on_train_begin", {"epochs": self.epochs, "steps": len(self.bounds),
                                      "metrics": names})
        try:
            # Overflow in a diverging run is detected and reported, not warned about.
            with np.errstate(all="ignore"):
                for epoch in range(self.epochs):
                    if self._epoch(epoch):
                        break
        finally:
            self._sync()
        self._call("on_train_end", {"history": self.history})
        self._sync()
        if self.history.stopped is not None and self.on_nonfinite == "raise":
            raise self.history.stopped
        return self.history

    def _epoch(self, epoch: int) -> bool:
        """One pass over the data; True to stop."""
        self._call("on_epoch_begin", epoch, {})
        order = self.shuffler.permutation(self.n) if self.shuffle else np.arange(self.n)
        totals = [0.0] * (1 + len(self.metrics))
        seen = 0
        keep = ((self.output,) if self.metrics else ()) + self.batch_means
        batch_hooks = [cb.on_batch_end for cb in self.callbacks if hasattr(cb, "on_batch_end")]
        work, data = self.work, self.data
        states = self.optimizer.state if self.update.state_names else None
        previous: tuple[dict, dict, Mapping] | None = None
        for b, (start, stop) in enumerate(self.bounds):
            idx = order[start:stop]
            size = stop - start
            for name, arr in data.items():
                work[name] = arr[idx]
            if self.feed is not None:
                self._feed(epoch, b, size)
            if keep:
                loss, grads, kept = self.compiled.step_keeping(work, keep, check=False)
            else:
                loss, grads = self.compiled.step(work, check=False)
                kept = {}
            if not math.isfinite(loss) or (self.update.check_grads and not _finite(grads)):
                self._fail(epoch, previous, grads)
                return True
            self.step_count += 1
            previous = ({k: work[k] for k in grads},
                        {k: states[k] for k in grads} if states else {}, grads)
            self.update.apply(work, grads)
            seen += size
            totals[0] += loss * size
            for i, (_, fn) in enumerate(self.metrics, start=1):
                totals[i] += fn(kept[self.output], work[self.target]) * size
            if batch_hooks:
                logs = {"loss": loss, "size": size, "batch": b, "epoch": epoch,
                        "batch_stats": {k: kept[k] for k in self.batch_means}}
                if any([hook(self.step_count, logs) for hook in batch_hooks]):
                    self.stop_training = True
            if self.stop_training:
                break
        if not _finite(self.params):
            # An update that the loss did not see (the last one, or an unused weight).
            self._fail(epoch, previous, previous[2] if previous else {}, after=True)
            return True
        self._sync()
        logs = {"loss": totals[0] / seen}
        logs.update({m: totals[i] / seen for i, (m, _) in enumerate(self.metrics, start=1)})
        if self.validation is not None:
            val = self.evaluate(self.validation)
            logs.update({f"val_{k}": v for k, v in val.items()})
        stop = self._call("on_epoch_end", epoch, logs)
        self.history.record(epoch, logs)
        if stop or self.stop_training:
            self.history.message = self.stop_reason or f"stopped by a callback after epoch " \
                                                       f"{epoch + 1}"
            return True
        return False

    def _feed(self, epoch: int, b: int, size: int) -> None:
        info = StepInfo(epoch + 1, self.step_count + 1, b, size, self.feed_rng)
        batch = {name: self.work[name] for name in self.data}
        extra = self.feed(info, batch)  # type: ignore[misc]
        for key, value in extra.items():
            name = key if key in self.work and key not in self.caller_params \
                else self.graph.resolve(key)
            self.work[name] = value
        if self.step_count == 0:  # checked once: the loop trusts feed afterwards
            missing = [n for n in self.fed if n not in self.work]
            if missing:
                raise TrainingError(f"no values for '{missing[0]}': feed did not give it")
            for key in extra:
                name = self.graph.resolve(key)
                arr, shape = np.asarray(self.work[name]), self.graph[name].shape
                if self.graph[name].role == "input" and arr.shape != (size, *shape):
                    raise TrainingError(f"feed gave '{name}' of shape {arr.shape}; this batch "
                                        f"needs {(size, *shape)}")

    def _fail(self, epoch: int, previous: tuple[dict, dict, Mapping] | None,
              grads: Mapping[str, Any], after: bool = False) -> None:
        """Report the first non-finite value and go back to the last finite parameters."""
        current = self.params
        bad_param = next((k for k, v in current.items() if not np.all(np.isfinite(v))), None)
        if previous is not None and (bad_param is not None or after):
            # The update of the step before went wrong: blame that step.
            params, state, old_grads = previous
            bad_grad = next((k for k, g in old_grads.items() if not np.all(np.isfinite(g))),
                            None)
            what, name = ("gradient", bad_grad) if bad_grad else ("update", bad_param)
            step = self.step_count
            self.work.update(params)
            self.optimizer.state.update(state)
            self.optimizer.iterations -= 1
        else:
            bad_grad = next((k for k, g in grads.items() if not np.all(np.isfinite(g))), None)
            what, name = ("gradient", bad_grad) if bad_grad else ("loss", None)
            step = self.step_count + 1
        lr = self.optimizer.lr_at(max(step, 1))
        error = NonFiniteError(what, epoch + 1, step, name, lr)
        self.history.stopped = error
        self.history.message = str(error)

    def evaluate(self, data: Mapping[str, np.ndarray]) -> dict[str, float]:
        values = {**self.params, **self.constants}
        return _evaluate(self.eval_graph, values, data, self.eval_graph.cost, self.metrics,
                         self.eval_output, self.target)


def _finite(arrays: Mapping[str, Any]) -> bool:
    return all(np.all(np.isfinite(v)) for v in arrays.values())


def fit(graph: Graph, params: dict[str, np.ndarray], data: Mapping[str, Any],
        optimizer: _optim.Optimizer | str, epochs: int, batch_size: int, *,
        seed: int | None = 0, validation: Mapping[str, Any] | None = None,
        metrics: Iterable[str | Metric] | None = ("accuracy",),
        callbacks: Iterable[Any] = (), feed: Feed | None = None, of: str | None = None,
        output: str | None = None, eval_graph: Graph | None = None,
        constants: Mapping[str, Any] | None = None, on_nonfinite: str = "stop",
        shuffle: bool = True) -> History:
    """Train ``graph``'s parameters on ``data`` by minibatch gradient descent.

    Parameters
    ----------
    graph : the network with its cost (``of``, default the graph's cost).
    params : {parameter name: float array}, updated in place.
    data : {input name: array with a leading example axis}, e.g. ``{"x": X, "y": Y}``
        (a pair ``(X, Y)`` means exactly that).
    optimizer : a :mod:`gradgraph.optim` optimizer or its name.
    epochs, batch_size : passes over the data; examples per step (the last batch of an
        epoch may be smaller).
    seed : seeds the shuffling (and, separately, ``StepInfo.rng`` for ``feed``).
    validation : data evaluated after every epoch (``val_loss``, ``val_accuracy``) on
        ``eval_graph`` (default ``graph``), e.g. the inference graph without dropout.
    metrics : "accuracy" and/or functions ``(predictions, targets) -> number``; the
        prediction is ``output`` (default: the softmax feeding the cross-entropy, or the
        node nearest the cost shaped like the labels ``y``).
    callbacks : see the module docstring; :class:`EarlyStopping`, :class:`ProgressLogger`.
    feed : ``feed(step_info, batch) -> {input: array}`` adds inputs per step (dropout
        masks, noise); ``batch`` holds this step's data arrays.
    constants : values of const leaves (and of inputs shared by every step).
    on_nonfinite : "stop" (default: report in ``history.stopped``) or "raise".
    shuffle : False keeps the data's order (for tests and curricula).

    Returns
    -------
    History
        Per epoch: ``loss`` (the mean of the batch losses, weighted by batch size, as
        Keras reports it), the metrics over the epoch's batches, and with validation
        ``val_loss`` and ``val_<metric>``.
    """
    trainer = Trainer(graph, params, data, optimizer, epochs, batch_size, seed=seed,
                      validation=validation, metrics=metrics, callbacks=callbacks,
                      feed=feed, of=of, output=output, eval_graph=eval_graph,
                      constants=constants, on_nonfinite=on_nonfinite, shuffle=shuffle)
    return trainer.run()


def evaluate(graph: Graph, params: Mapping[str, Any], data: Mapping[str, Any],
             batch_size: int | None = None, *, of: str | None = None,
             output: str | None = None, metrics: Iterable[str | Metric] | None = ("accuracy",),
             constants: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Mean loss and metrics of ``graph`` over ``data`` (in chunks of ``batch_size``).

    Returns ``{"loss": …, "accuracy": …}``; NaN where the network gives non-finite
    values (a diverged run), never an exception for that.
    """
    of_name = graph.resolve(of or graph.cost)
    metric_list = _metric_list(metrics)
    arrays = _inputs(graph, data, "data")
    out_name, target = (None, None)
    if metric_list:
        out_name = graph.resolve(output) if output else default_output(graph, of_name)
        target = default_target(graph, of_name)
        if out_name is None or target is None or target not in arrays:
            raise TrainingError("cannot tell which node is the prediction for the metrics; "
                                "name it with output=... (or pass metrics=())")
    values = {graph.resolve(k): v for k, v in {**params, **(constants or {})}.items()}
    chunk = _int("batch_size", batch_size, 1) if batch_size is not None else None
    return _evaluate(graph, values, arrays, of_name, metric_list, out_name, target, chunk)


def _evaluate(graph: Graph, values: Mapping[str, Any], data: Mapping[str, np.ndarray],
              of: str, metrics: list[tuple[str, Metric]], output: str | None,
              target: str | None, chunk: int | None = None) -> dict[str, float]:
    compiled = compile_graph(graph, of)
    n = len(next(iter(data.values())))
    if chunk is None:
        chunk = n if n <= 8192 else 4096
    missing = [name for name in graph.leaves if name not in data and name not in values]
    if missing:
        raise TrainingError(f"no value for '{missing[0]}' to evaluate the graph with")
    totals = [0.0] * (1 + len(metrics))
    with np.errstate(all="ignore"):
        for start in range(0, n, chunk):
            part = {k: v[start:start + chunk] for k, v in data.items()}
            leaves = [part[name] if name in part else values[name] for name in graph.leaves]
            fwd = dict(zip((nd.name for nd in graph.nodes),
                           compiled._forward(*leaves), strict=True))  # noqa: SLF001
            size = len(next(iter(part.values())))
            totals[0] += float(np.mean(fwd[of])) * size
            for i, (_, fn) in enumerate(metrics, start=1):
                totals[i] += fn(fwd[output], part[target]) * size
    result = {"loss": totals[0] / n}
    result.update({m: totals[i] / n for i, (m, _) in enumerate(metrics, start=1)})
    return {k: (float(v) if math.isfinite(v) else math.nan) for k, v in result.items()}
