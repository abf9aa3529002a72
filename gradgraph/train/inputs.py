"""Checks of fit's and evaluate's arguments: the data arrays and the parameters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import GraphError, TrainingError
from ..graph import Graph


def _inputs(graph: Graph, data: Mapping[str, Any], what: str,
            dtype: Any = np.float64) -> dict[str, np.ndarray]:
    """{input node: ``dtype`` array with a leading batch axis}, checked and cast once.

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
            arr = np.asarray(value, dtype=dtype)
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
