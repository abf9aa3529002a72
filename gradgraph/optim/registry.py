"""Optimizers by name: :func:`get` and :func:`names`."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from ..errors import TrainingError
from .adam import Adam, AdaMax, AdamW
from .adaptive import Adagrad, RMSprop
from .base import Optimizer
from .sgd import SGD, Momentum, Nesterov, Sign

_REGISTRY: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (SGD, Momentum, Nesterov, Sign, Adagrad, RMSprop, Adam, AdaMax, AdamW)
}


def get(name_or_instance: str | Optimizer, **kwargs: Any) -> Optimizer:
    """Return an optimizer from its name (case-insensitive) or pass an instance through.

    Names: ``sgd``, ``momentum``, ``nesterov``, ``sign``, ``adagrad``, ``rmsprop``,
    ``adam``, ``adamax``, ``adamw``. Keyword arguments go to the constructor.
    """
    if isinstance(name_or_instance, Optimizer):
        if kwargs:
            raise TrainingError("pass hyperparameters to the optimizer, not to get(instance)")
        return name_or_instance
    cls = get_class(name_or_instance)
    try:
        return cls(**kwargs)
    except TypeError as exc:  # an unknown keyword: say which, in one line
        raise TrainingError(f"{cls.name}: {exc}") from None


def get_class(name: str) -> type[Optimizer]:
    """The optimizer class of a name (case-insensitive); its ``settings`` say what it takes."""
    if not isinstance(name, str):
        raise TrainingError(f"optimizer must be a name or an Optimizer, got {name!r}")
    key = name.strip().lower()
    if key not in _REGISTRY:
        close = difflib.get_close_matches(key, list(_REGISTRY), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(_REGISTRY)
        raise TrainingError(f"unknown optimizer {name!r} (known: {known}){hint}")
    return _REGISTRY[key]


def names() -> Iterable[str]:
    """The names :func:`get` accepts."""
    return tuple(_REGISTRY)
