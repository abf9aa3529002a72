"""Saving and loading a :class:`~gradgraph.nn.Sequential`: weights as .npz (never
pickle), the architecture as JSON beside it, both written atomically by
:mod:`gradgraph.fileio`; anything off in a file refuses the whole file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..errors import FileFormatError, TrainingError
from ..fileio import load_npz, save_npz
from . import losses as _losses
from .fitting import float_dtype
from .layers import from_config

FORMAT = "gradgraph.nn.Sequential"
FORMAT_VERSION = 1

M = TypeVar("M")


def save_model(path: str | Path, arrays: Mapping[str, np.ndarray],
               config: Mapping[str, Any]) -> None:
    """``arrays`` to ``path`` and ``config`` (the model's ``get_config()``) beside it."""
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": dict(config)}
    save_npz(path, dict(arrays), meta)


def read_weights(path: str | Path, shapes: Mapping[str, tuple[int, ...]]
                 ) -> dict[str, np.ndarray]:
    """The arrays of a saved model, each checked against ``shapes`` and finite."""
    arrays, _ = load_npz(path, expected_shapes=dict(shapes))
    extra = [k for k in arrays if k not in shapes]
    if extra:
        raise FileFormatError(f"{path}: has weights this model does not ('{extra[0]}')")
    for key, arr in arrays.items():
        if arr.dtype.kind != "f" or not np.all(np.isfinite(arr)):
            raise FileFormatError(f"{path}: weight '{key}' is not finite float data")
    return arrays


def model_from_file(cls: type[M], path: str | Path) -> M:
    """A built model of class ``cls`` from the architecture saved beside ``path`` (the
    weights are the caller's to load: ``model.load_weights(path)``)."""
    _, meta = load_npz(path)
    if meta.get("format") != FORMAT:
        raise FileFormatError(f"{path}: not a saved gradgraph Sequential model (its "
                              f"{Path(str(path) + '.json').name} is missing or foreign)")
    config = meta.get("config")
    try:
        model: Any = cls([from_config(c) for c in config["layers"]],  # type: ignore[call-arg]
                         seed=config.get("seed"), name=config.get("name", "sequential"))
        model.loss = _losses.canonical(config["loss"]) if config.get("loss") else None
        model.metrics = list(config.get("metrics") or [])
        model.dtype = float_dtype(config.get("dtype", "float64"))
        model.build(config.get("input_dim"))
    except (TypeError, KeyError) as exc:
        raise FileFormatError(f"{path}: corrupt model description ({exc})") from None
    except TrainingError as exc:
        raise FileFormatError(f"{path}: corrupt model description ({exc})") from None
    return model
