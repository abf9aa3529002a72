"""The training loop: :class:`Trainer` (one run) and :func:`fit`, which makes and runs one."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import sympy as sp

from .. import optim as _optim
from ..backends import check_backend
from ..errors import TrainingError
from ..graph import Graph
from ..numeric import CompiledGraph, compile_graph
from ..optim.validate import _count
from .callbacks import Callback
from .evaluation import Metric, _evaluate, _metric_list, _prediction, default_output
from .feed import Feed, _feed
from .history import History, NonFiniteError
from .inputs import _inputs, _param_arrays


class Trainer:
    """One run of :func:`fit`; callbacks see it as ``callback.trainer``.

    ``params`` are the current parameter arrays (two sets used in turn: each step writes
    into the arrays of the step before, so copy what you keep), ``history`` the History
    so far, ``constants`` the const leaves (e.g. running statistics); set
    ``stop_training`` (and ``stop_reason``) to stop after this batch.
    """

    def __init__(self, graph: Graph, params: Mapping[str, Any], data: Mapping[str, Any],
                 optimizer: Any, epochs: int, batch_size: int, *, seed: int | None,
                 validation: Mapping[str, Any] | None, metrics: Iterable[Any] | None,
                 callbacks: Iterable[Any], feed: Feed | None, of: str | None,
                 output: str | None, eval_graph: Graph | None,
                 constants: Mapping[str, Any] | None, on_nonfinite: str, shuffle: bool,
                 backend: str = "numpy"):
        if not isinstance(graph, Graph):
            raise TrainingError("fit needs a gradgraph Graph")
        if on_nonfinite not in ("stop", "raise"):
            raise TrainingError(f"on_nonfinite must be 'stop' or 'raise', got {on_nonfinite!r}")
        self.graph = graph
        self.of = graph.resolve(of or graph.cost)
        self.backend = check_backend(backend)
        self.compiled: CompiledGraph = compile_graph(graph, self.of)
        self.optimizer = _optim.get(optimizer)
        self.epochs = _count("epochs", epochs, 1)
        self.batch_size = _count("batch_size", batch_size, 1)
        if seed is not None:
            _count("seed", seed, 0)
        self.caller_params = _param_arrays(graph, params)
        # Training computes in the parameters' dtype: data, constants and state follow it.
        self.dtype = np.result_type(*self.caller_params.values()) if self.caller_params \
            else np.dtype(np.float64)
        self.data = _inputs(graph, data, "data", self.dtype)
        self.n = len(next(iter(self.data.values())))
        self.constants = dict(constants or {})
        self.feed = feed
        self.on_nonfinite = on_nonfinite
        self.shuffle = bool(shuffle)
        self.metrics = _metric_list(metrics)
        self.output, self.target = self._prediction(output)
        # Nodes whose value is one per batch (batch norm's μ, σ²), read from the registry.
        self.batch_means = tuple(n.name for n in graph.nodes
                                 if n.tspec is not None and n.tspec.reduces_batch)
        self.eval_graph = eval_graph or graph
        if not isinstance(self.eval_graph, Graph):
            raise TrainingError("eval_graph must be a gradgraph Graph")
        self._check_leaves()
        self.bounds = self._batches()
        self.eval_output = self.output
        if self.output is not None and self.output not in self.eval_graph:
            self.eval_output = default_output(self.eval_graph)
        self.validation = self._validation_data(validation)
        self.callbacks = list(callbacks or ())
        self.shuffler = np.random.default_rng(seed)
        self.feed_rng = np.random.default_rng(None if seed is None else [seed, 1])
        self.history = History(params={"epochs": self.epochs, "batch_size": self.batch_size,
                                       "steps": len(self.bounds), "examples": self.n,
                                       "seed": seed, "optimizer": repr(self.optimizer)})
        self.work: dict[str, Any] = {**self.caller_params, **self.constants}
        self.optimizer.prepare(self.caller_params)
        # sign(±inf) is finite: only there can a bad gradient give a finite update.
        self.check_grads = any(isinstance(e, sp.sign) for eq in self.optimizer.equations
                               for e in sp.preorder_traversal(eq.rhs))
        self.stop_training = False
        self.stop_reason: str | None = None
        self.step_count = 0
        self._next: dict[str, np.ndarray] = {}  # what the next update writes into

    # --- setup ----------------------------------------------------------------------

    def _prediction(self, output: str | None) -> tuple[str | None, str | None]:
        if not self.metrics:
            return None, None
        out, target = _prediction(self.graph, self.of, output)
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
                arr = np.asarray(value, dtype=self.dtype)
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

    def _validation_data(self, validation: Mapping[str, Any] | None
                         ) -> dict[str, np.ndarray] | None:
        if validation is None:
            return None
        arrays = _inputs(self.eval_graph, validation, "validation data", self.dtype)
        have = set(self.caller_params) | set(self.constants) | set(arrays)
        missing = [n for n in self.eval_graph.leaves if n not in have]
        if missing:
            raise TrainingError(f"validation: no value for '{missing[0]}' (give it in "
                                f"constants, or evaluate on an eval_graph without it)")
        return arrays

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
            self.work[name] = np.array(value, dtype=self.caller_params[name].dtype)
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
        epoch_fn, finish = self._epoch, None
        if self.backend == "jax":
            from ..backends.jax_train import JaxTraining

            runner = JaxTraining(self)
            epoch_fn, finish = runner.epoch, runner.finish
        try:
            # Overflow in a diverging run is detected and reported, not warned about.
            with np.errstate(all="ignore"):
                for epoch in range(self.epochs):
                    if epoch_fn(epoch):
                        break
        finally:
            if finish is not None:
                finish()
            self._sync()
        self._call("on_train_end", {"history": self.history})
        self._sync()
        if self.history.stopped is not None and self.on_nonfinite == "raise":
            raise self.history.stopped
        return self.history

    def _epoch(self, epoch: int) -> bool:
        """One pass over the data; True to stop."""
        self._call("on_epoch_begin", epoch, {})
        # One gather per epoch (none without shuffling); each batch is then a view.
        if self.shuffle:
            order = self.shuffler.permutation(self.n)
            epoch_data = {name: arr[order] for name, arr in self.data.items()}
        else:
            epoch_data = self.data
        totals = [0.0] * (1 + len(self.metrics))
        seen = 0
        keep = ((self.output,) if self.metrics else ()) + self.batch_means
        batch_hooks = [cb.on_batch_end for cb in self.callbacks if hasattr(cb, "on_batch_end")]
        work = self.work
        opt = self.optimizer
        states = opt.state
        params = self.params
        spare = self._spare(params)
        previous: tuple[dict, dict, Mapping] | None = None
        for b, (start, stop) in enumerate(self.bounds):
            size = stop - start
            loss, grads, kept = self._gradients(epoch, b, epoch_data, start, stop, keep)
            if not math.isfinite(loss) or (self.check_grads and not _finite(grads)):
                self._fail(epoch, previous, grads)
                return True
            self.step_count += 1
            # Double buffer: update() writes into the spare arrays (and the optimizer's
            # spare state), so the arrays held here stay the last good values (the
            # fallback) until the next update, at no copying or allocation cost.
            previous = (params, dict(states), grads)
            params, self._next = opt.update(params, grads, out=spare), params
            spare = self._next
            work.update(params)
            seen += size
            totals[0] += loss * size
            for i, (_, fn) in enumerate(self.metrics, start=1):
                totals[i] += fn(kept[self.output], work[self.target]) * size
            if batch_hooks:
                self._batch_end(batch_hooks, epoch, b, loss, size, kept)
                params = self.params  # a hook may have set new parameters
                spare = self._spare(params)
            if self.stop_training:
                break
        if not _finite(self.params):
            # An update that the loss did not see (the last one, or an unused weight).
            self._fail(epoch, previous, previous[2] if previous else {}, after=True)
            return True
        self._sync()
        return self._end_epoch(epoch, totals, seen)

    def _spare(self, params: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Arrays for the next update to write into: last step's spare where it fits and
        is not the parameter itself, else (first step, after set_params) a new one."""
        spare = {}  # a new dict: the last one is also the fallback's
        for name, theta in params.items():
            buf = self._next.get(name)
            if buf is None or buf is theta or buf.shape != theta.shape \
                    or buf.dtype != theta.dtype:
                buf = np.empty_like(theta)
            spare[name] = buf
        return spare

    def _gradients(self, epoch: int, b: int, data: Mapping[str, np.ndarray], start: int,
                   stop: int, keep: tuple[str, ...]
                   ) -> tuple[float, Mapping[str, Any], Mapping[str, Any]]:
        """Loss, gradients and the ``keep`` nodes' values of batch ``b`` (rows start:stop
        of this epoch's order)."""
        work = self.work
        for name, arr in data.items():
            work[name] = arr[start:stop]
        if self.feed is not None:
            _feed(self, epoch, b, stop - start)
        if keep:
            return self.compiled.step_keeping(work, keep, check=False)
        loss, grads = self.compiled.step(work, check=False)
        return loss, grads, {}

    def _batch_end(self, hooks: list[Callable[..., Any]], epoch: int, b: int, loss: float,
                   size: int, kept: Mapping[str, Any]) -> None:
        logs = {"loss": loss, "size": size, "batch": b, "epoch": epoch,
                "batch_stats": {k: kept[k] for k in self.batch_means}}
        if any([hook(self.step_count, logs) for hook in hooks]):
            self.stop_training = True

    def _end_epoch(self, epoch: int, totals: list[float], seen: int) -> bool:
        """The epoch's logs, with validation, to the callbacks and the History; True to stop."""
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

    def _fail(self, epoch: int, previous: tuple[dict, dict, Mapping] | None,
              grads: Mapping[str, Any], after: bool = False) -> None:
        """Report the first non-finite value and go back to the last finite parameters."""
        current = self.params
        bad_param = _first_nonfinite(current)
        if previous is not None and (bad_param is not None or after):
            # The update of the step before went wrong: blame that step.
            params, state, old_grads = previous
            bad_grad = _first_nonfinite(old_grads)
            what, name = ("gradient", bad_grad) if bad_grad else ("update", bad_param)
            step = self.step_count
            self.work.update(params)
            self.optimizer.state.update(state)
            self.optimizer.iterations -= 1
        else:
            bad_grad = _first_nonfinite(grads)
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


def _first_nonfinite(arrays: Mapping[str, Any]) -> str | None:
    """The name of the first array with a value that is not finite (None: all finite)."""
    return next((k for k, v in arrays.items() if not np.all(np.isfinite(v))), None)


def fit(graph: Graph, params: dict[str, np.ndarray], data: Mapping[str, Any],
        optimizer: _optim.Optimizer | str, epochs: int, batch_size: int, *,
        seed: int | None = 0, validation: Mapping[str, Any] | None = None,
        metrics: Iterable[str | Metric] | None = ("accuracy",),
        callbacks: Iterable[Any] = (), feed: Feed | None = None, of: str | None = None,
        output: str | None = None, eval_graph: Graph | None = None,
        constants: Mapping[str, Any] | None = None, on_nonfinite: str = "stop",
        shuffle: bool = True, backend: str = "numpy") -> History:
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
    callbacks : see :mod:`gradgraph.train`; :class:`EarlyStopping`, :class:`ProgressLogger`.
    feed : ``feed(step_info, batch) -> {input: array}`` adds inputs per step (dropout
        masks, noise); ``batch`` holds this step's data arrays.
    constants : values of const leaves (and of inputs shared by every step).
    on_nonfinite : "stop" (default: report in ``history.stopped``) or "raise".
    shuffle : False keeps the data's order (for tests and curricula).
    backend : "numpy" (default) or "jax": the whole step (forward, backward, optimizer
        update) jitted, an epoch's equal batches under one ``lax.scan``.

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
                      constants=constants, on_nonfinite=on_nonfinite, shuffle=shuffle,
                      backend=backend)
    return trainer.run()
