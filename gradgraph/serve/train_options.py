"""TrainOptions: every option ``gradgraph train`` has, as the tutor's request reads it.

The fields, their types and defaults are read from :mod:`gradgraph.optim` (each
optimizer's and schedule's constructor), never listed by hand; :func:`options` checks a
request body against the caps, :func:`build` makes the model and optimizer exactly as
``gradgraph train`` does, :func:`catalogue` is ``GET /api/train/options`` and
:func:`step_options` turns a lesson's train step into a body the page can post.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .. import optim, regularize
from ..errors import GradgraphError, TrainingError
from .http import dumps

MAX_EPOCHS = 200
MAX_UNITS = 1024
MAX_LAYERS = 4
MAX_BATCH = 4096
DTYPES = ("float32", "float64")  # gradgraph train --dtype; float32 is its default
DECK_LR = 0.1  # sgd's rate when lr is omitted: the deck's, as gradgraph train uses
# The one setting whose values are a closed list (gradgraph train --eps-placement).
CHOICES = {"eps_placement": ("keras", "pytorch")}
_JSON_TYPE = {"float": float, "int": int, "bool": bool, "str": str}


def _signature(cls: type) -> list[tuple[str, Any, str]]:
    """(setting, default or None when required, annotation) for each of ``cls.settings``."""
    params = inspect.signature(cls.__init__).parameters
    return [(name, None if params[name].default is inspect.Parameter.empty
             else params[name].default, str(params[name].annotation))
            for name in cls.settings or ()]


def _schedule_classes() -> dict[str, type]:
    """Name -> class of every schedule :func:`gradgraph.optim.get_schedule` knows."""
    public = {cls.name: cls for cls in vars(optim).values()
              if isinstance(cls, type) and issubclass(cls, optim.Schedule)}
    return {name: public[name] for name in optim.schedule_names() if name in public}


def _setting_fields() -> dict[str, tuple[Any, bool]]:
    """Every optimizer's settings as request fields, typed from the constructors."""
    fields: dict[str, tuple[Any, bool]] = {}
    for name in optim.names():
        for setting, _, annotation in _signature(optim.get_class(name)):
            fields[setting] = (_JSON_TYPE.get(annotation, float), False)
    return fields


FIELDS: dict[str, tuple[Any, bool]] = {
    "data": (str, False), "hidden": (list, False), "activation": (str, False),
    "optimizer": (str, False), **_setting_fields(),
    "schedule": (dict, False), "l1": (float, False), "l2": (float, False),
    "dropout": (float, False), "batchnorm": (bool, False), "epochs": (int, False),
    "batch_size": (int, False), "seed": (int, False), "validation_split": (float, False),
    "dtype": (str, False),
}
DECK = {"data": "digits", "hidden": [100], "activation": "tanh", "optimizer": "sgd",
        "epochs": 15, "batch_size": 32, "seed": 0, "dtype": "float32"}


@dataclass
class Options:
    """TrainOptions, checked."""

    hidden: list[int]
    activation: str
    optimizer: str
    opt_kwargs: dict[str, Any]
    schedule: dict[str, Any] | None
    l1: float
    l2: float
    dropout: float
    batchnorm: bool
    epochs: int
    batch_size: int
    seed: int
    validation_split: float | None = None
    dtype: str = "float32"


def options(body: Mapping[str, Any]) -> Options:
    """TrainOptions from a request body; a one-line TrainingError for anything off."""
    merged = {**DECK, **{k: v for k, v in body.items() if v is not None}}
    if merged["data"] != "digits":
        raise TrainingError("the tutor trains on the bundled digits data only "
                            "(data: \"digits\")")
    hidden = merged["hidden"]
    if not (1 <= len(hidden) <= MAX_LAYERS) or not all(
            isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= MAX_UNITS
            for h in hidden):
        raise TrainingError(f"hidden is a list of 1 to {MAX_LAYERS} layer sizes from 1 to "
                            f"{MAX_UNITS}")
    for key, low, high in (("epochs", 1, MAX_EPOCHS), ("batch_size", 1, MAX_BATCH),
                           ("seed", 0, 2**32 - 1)):
        if not low <= merged[key] <= high:
            raise TrainingError(f"{key} must be from {low} to {high}")
    split = merged.get("validation_split")
    if split is not None and not 0 < split < 1:
        raise TrainingError(f"validation_split must be between 0 and 1 (a fraction of the "
                            f"training data), got {split:g}")
    if merged["dtype"] not in DTYPES:
        raise TrainingError(f"dtype must be {' or '.join(DTYPES)}, got {merged['dtype']!r}")
    return Options(hidden, merged["activation"], merged["optimizer"],
                   optimizer_settings(merged), merged.get("schedule"),
                   float(merged.get("l1", 0.0)), float(merged.get("l2", 0.0)),
                   float(merged.get("dropout", 0.0)), bool(merged.get("batchnorm", False)),
                   merged["epochs"], merged["batch_size"], merged["seed"],
                   None if split is None else float(split), merged["dtype"])


def optimizer_settings(merged: Mapping[str, Any]) -> dict[str, Any]:
    """The optimizer's keyword arguments; a setting it does not take is refused by name,
    as ``gradgraph train`` refuses the option."""
    cls = optim.get_class(merged["optimizer"])
    kwargs: dict[str, Any] = {}
    for setting in _setting_fields():
        if merged.get(setting) is None:
            continue
        if setting not in cls.settings:
            raise TrainingError(f"{setting} does not apply to {cls.name} (it takes "
                                f"{', '.join(cls.settings)}, schedule)")
        kwargs[setting] = merged[setting]
    if "lr" not in kwargs and cls.name == "sgd":
        kwargs["lr"] = DECK_LR
    return kwargs


def schedule(spec: Mapping[str, Any] | None) -> optim.Schedule | None:
    """``{"kind": "step", "every": 5, "factor": 0.5}`` -> get_schedule("step", ...)."""
    if not spec:
        return None
    kind = spec.get("kind")
    if not isinstance(kind, str):
        raise TrainingError(f"schedule needs a kind: one of {', '.join(optim.schedule_names())}")
    args = {k: v for k, v in spec.items() if k != "kind"}
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
               for v in args.values()):
        raise TrainingError("schedule settings are numbers")
    return optim.get_schedule(kind, **args)


def catalogue() -> dict[str, Any]:
    """What ``GET /api/train/options`` answers: each optimizer's and schedule's settings
    with the defaults the server uses, read from the classes (never listed by hand)."""
    def described(cls: type, deck: Mapping[str, Any]) -> list[dict[str, Any]]:
        out = []
        for name, default, annotation in _signature(cls):
            item = {"name": name, "type": {"float": "number", "int": "integer", "bool":
                                           "boolean", "str": "choice"}.get(annotation,
                                                                           "number"),
                    "default": deck.get(name, default), "required": default is None}
            if name in CHOICES:
                item["choices"] = list(CHOICES[name])
            out.append(item)
        return out

    return {
        "optimizers": [{"name": n, "settings": described(
            optim.get_class(n), {"lr": DECK_LR} if n == "sgd" else {})} for n in optim.names()],
        "schedules": [{"name": n, "settings": described(cls, {})}
                      for n, cls in _schedule_classes().items()],
        "dtypes": list(DTYPES),
        "defaults": {**DECK, "lr": DECK_LR},
        "caps": {"epochs": MAX_EPOCHS, "units": MAX_UNITS, "layers": MAX_LAYERS,
                 "batch_size": MAX_BATCH},
    }


def build(opts: Options, n_in: int, n_out: int) -> tuple[Any, Any]:
    """(model, optimizer), compiled: the same construction as ``gradgraph train``."""
    from ..nn import Activation, BatchNormalization, Dense, Dropout, Sequential

    opt = optim.get(opts.optimizer, **opts.opt_kwargs, schedule=schedule(opts.schedule))
    reg = regularize.Regularizer(l1=opts.l1, l2=opts.l2) if (opts.l1 or opts.l2) else None
    layers: list[Any] = []
    for k, units in enumerate(opts.hidden):
        layers.append(Dense(units, input_dim=n_in if k == 0 else None, kernel_regularizer=reg))
        if opts.batchnorm:
            layers.append(BatchNormalization())
        layers.append(Activation(opts.activation))
        if opts.dropout:
            layers.append(Dropout(opts.dropout))
    layers += [Dense(n_out, kernel_regularizer=reg), Activation("softmax")]
    model = Sequential(layers, seed=opts.seed)
    model.compile(optimizer=opt, loss="categorical_crossentropy", metrics=["accuracy"],
                  dtype=opts.dtype)
    return model, opt


def step_options(step: Any) -> dict[str, Any] | None:
    """A lesson's train step as a TrainOptions body, when it is an MLP the page can run."""
    hidden: list[int] = []
    # float64: what a lesson's own run (gg.Sequential.compile's default) computes in.
    body: dict[str, Any] = {"data": step.data, "epochs": step.epochs,
                            "batch_size": step.batch_size, "dtype": "float64"}
    layers = list(step.model)
    for i, layer in enumerate(layers):
        kind = layer.get("layer")
        if kind == "Dense" and i < len(layers) - 2:
            hidden.append(int(layer.get("units", 0)))
        elif kind == "Activation" and i < len(layers) - 1:
            body["activation"] = layer.get("activation")
        elif kind == "Dropout":
            body["dropout"] = layer.get("rate")
        elif kind == "BatchNormalization":
            body["batchnorm"] = True
    opt = dict(step.optimizer)
    body["optimizer"] = opt.pop("name", "sgd")
    try:
        takes = optim.get_class(body["optimizer"]).settings
    except GradgraphError:
        return None
    body.update({k: v for k, v in opt.items() if k in takes})
    body["hidden"] = hidden
    try:
        options(body)
    except (GradgraphError, KeyError, TypeError):
        return None
    return json.loads(dumps(body))
