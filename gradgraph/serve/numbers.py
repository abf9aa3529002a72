"""Numbers between JSON and numpy: leaf values in, node values and adjoints out.

Values sent by a page are numbers or nested lists of numbers, capped in size so one
request cannot allocate much; values sent back are plain floats and lists, with
non-finite numbers as ``null`` (JSON has no NaN or infinity).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ValueInputError
from ..graph import Graph

MAX_ELEMENTS = 100_000  # numbers in one request's values, all leaves together
MAX_DEPTH = 6


def leaf_values(graph: Graph, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` as floats and float64 arrays, keyed by the graph's canonical names."""
    out: dict[str, Any] = {}
    total = 0
    for key, value in values.items():
        name = graph.resolve(key)
        if not graph[name].is_leaf:
            raise ValueInputError(f"'{key}' is computed by the graph; give values for its "
                                  f"inputs and parameters only ({', '.join(graph.leaves)})")
        arr = _array(key, value)
        total += arr.size
        if total > MAX_ELEMENTS:
            raise ValueInputError(f"too many numbers in the values (more than {MAX_ELEMENTS})")
        out[name] = float(arr) if arr.ndim == 0 else arr
    return out


def _array(key: str, value: Any) -> np.ndarray:
    if isinstance(value, bool) or not _numeric(value, 0):
        raise ValueInputError(f"the value of '{key}' must be a number or a nested list of "
                              "numbers")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise ValueInputError(f"the value of '{key}' is a ragged list (rows of different "
                              "lengths)") from None
    if not np.all(np.isfinite(arr)):
        raise ValueInputError(f"the value of '{key}' is not finite")
    return arr


def _numeric(value: Any, depth: int) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, list) and depth < MAX_DEPTH:
        return all(_numeric(v, depth + 1) for v in value)
    return False


def plain(value: Any) -> Any:
    """A float or nested list of floats; NaN and ±inf become ``None``."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        x = float(arr)
        return x if math.isfinite(x) else None
    return [plain(v) for v in arr]


def batch_size(graph: Graph, values: Mapping[str, Any]) -> int | None:
    """The length of the leading batch axis of the inputs, or None without one."""
    for name in graph.inputs:
        arr = np.asarray(values.get(name, 0.0))
        if arr.ndim == len(graph[name].shape) + 1:
            return int(arr.shape[0])
    return None


def defaults(graph: Graph) -> dict[str, Any]:
    """Suggested leaf values: the same for the same name, two decimals; tensor inputs
    get a batch of one example."""
    out: dict[str, Any] = {}
    for name in graph.leaves:
        node = graph[name]
        rng = np.random.default_rng(zlib.crc32(name.encode("utf-8")))
        shape = ((1,) + node.shape) if node.shape and node.role == "input" else node.shape
        scale = 0.5 if node.shape else 1.0
        value = np.round(rng.uniform(-scale, scale, size=shape), 2)
        if not node.shape:
            value = np.round(rng.uniform(0.1, 1.0), 2)  # positive: logs and roots stay defined
        out[name] = plain(value)
    return out
