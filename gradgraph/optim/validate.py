"""Checks of hyperparameters: each returns the value as a plain float/int/bool or raises
:class:`~gradgraph.errors.TrainingError` naming the argument."""

from __future__ import annotations

import math
import numbers
from typing import Any

from ..errors import TrainingError


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TrainingError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise TrainingError(f"{name} must be finite, got {value!r}")
    return value


def _positive(name: str, value: Any) -> float:
    v = _real(name, value)
    if v <= 0:
        raise TrainingError(f"{name} must be > 0, got {value!r}")
    return v


def _nonnegative(name: str, value: Any) -> float:
    v = _real(name, value)
    if v < 0:
        raise TrainingError(f"{name} must be >= 0, got {value!r}")
    return v


def _unit(name: str, value: Any) -> float:
    """A decay rate or momentum: in [0, 1) (1 would never forget, >1 diverges)."""
    v = _real(name, value)
    if not 0 <= v < 1:
        raise TrainingError(f"{name} must be in [0, 1), got {value!r}")
    return v


def _count(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise TrainingError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _flag(name: str, value: Any) -> bool:
    """A switch: exactly True or False (not a truthy string such as "yes")."""
    if not isinstance(value, bool):
        raise TrainingError(f"{name} must be True or False, got {value!r}")
    return value
