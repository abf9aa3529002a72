"""Evaluation: metrics, which nodes are the prediction and the labels, :func:`evaluate`."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from ..errors import TrainingError
from ..graph import Graph
from ..numeric import compile_graph
from ..optim.validate import _count
from .inputs import _inputs

Metric = Callable[[np.ndarray, np.ndarray], float]

_NO_PREDICTION = ("cannot tell which node is the prediction for the metrics; "
                  "name it with output=... (or pass metrics=())")


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


def _loss_args(graph: Graph, of: str | None) -> tuple[Any, Any] | None:
    """(prediction, labels) of the loss op nearest the cost, if the cost has one.

    A loss op is a tensor op whose registry entry names those two arguments
    (``loss_args``: cross-entropy's a and y).
    """
    cost = graph[of or graph.cost]
    for name in (cost.name, *graph.ancestors(cost.name)):
        node = graph[name]
        spec = node.tspec
        if spec is not None and spec.loss_args is not None:
            args = node.tensor_expr.args
            return args[spec.loss_args[0]], args[spec.loss_args[1]]
    return None


def default_output(graph: Graph, of: str | None = None) -> str | None:
    """The prediction node: what the cost compares with the labels.

    A loss op's prediction (cross-entropy's softmax); otherwise the computed node
    nearest the cost whose shape is the labels' (``a`` in ``C = sum((a - y)^2)``).
    """
    cost = graph[of or graph.cost]
    loss_args = _loss_args(graph, of)
    if loss_args is not None:
        return loss_args[0].name
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
    """The labels: a loss op's labels (cross-entropy's y), else the input ``y``."""
    loss_args = _loss_args(graph, of)
    if loss_args is not None:
        return loss_args[1].name
    return "y" if "y" in graph and graph["y"].role == "input" else None


def _prediction(graph: Graph, of: str, output: str | None) -> tuple[str, str]:
    """(prediction, labels) that the metrics compare: ``output`` or the default one."""
    out = graph.resolve(output) if output else default_output(graph, of)
    target = default_target(graph, of)
    if out is None or target is None:
        raise TrainingError(_NO_PREDICTION)
    return out, target


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
    out_name: str | None = None
    target: str | None = None
    if metric_list:
        out_name, target = _prediction(graph, of_name, output)
        if target not in arrays:
            raise TrainingError(_NO_PREDICTION)
    values = {graph.resolve(k): v for k, v in {**params, **(constants or {})}.items()}
    chunk = _count("batch_size", batch_size, 1) if batch_size is not None else None
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
