"""``gradgraph train``'s option table: the deck's defaults, ``--hidden``, the optimizer
settings (which optimizer takes which is read from its class's ``settings``), and
``--schedule``; each turned into the library's objects with one-line errors."""

from __future__ import annotations

from typing import Any

import click

from .common import CommandError

DECK = {"optimizer": "sgd", "lr": 0.1, "epochs": 15, "batch_size": 32, "hidden": "100",
        "activation": "tanh", "test_size": 0.15, "random_state": 37}


def _hidden(spec: str) -> list[int]:
    try:
        sizes = [int(s) for s in spec.replace(" ", "").split(",") if s]
    except ValueError:
        raise CommandError(f"--hidden takes layer sizes such as 100 or 100,50; got "
                           f"'{spec}'") from None
    if not sizes or any(s < 1 or s > 100_000 for s in sizes):
        raise CommandError(f"--hidden sizes must be whole numbers from 1 to 100000; got "
                           f"'{spec}'")
    return sizes


# The CLI's options for optimizer settings: (option, the setting it sets, the value a
# flag sets or None for an option taking a value, click's keywords). Which optimizer
# takes which is read from each class's ``settings``, not listed here.
SETTING_OPTIONS: list[tuple[str, str, Any, dict[str, Any]]] = [
    ("--momentum", "momentum", None,
     {"type": float, "help": "Momentum μ in [0, 1) (sgd, momentum, nesterov)."}),
    ("--nesterov", "nesterov", True, {"help": "Nesterov momentum (sgd)."}),
    ("--beta-1", "beta_1", None,
     {"type": float, "help": "β₁, decay of the mean gradient m (adam, adamax, adamw)."}),
    ("--beta-2", "beta_2", None,
     {"type": float, "help": "β₂, decay of v (of u in adamax) (adam, adamax, adamw)."}),
    ("--epsilon", "epsilon", None,
     {"type": float, "help": "ε in the denominator (adagrad, rmsprop, adam, adamw)."}),
    ("--rho", "rho", None, {"type": float, "help": "ρ, decay of the mean square (rmsprop)."}),
    ("--eps-placement", "eps_placement", None,
     {"type": click.Choice(["keras", "pytorch"]),
      "help": "Where ε goes: keras √(r + ε), pytorch √r + ε (rmsprop)."}),
    ("--centered", "centered", True, {"help": "Centred RMSprop: r − ḡ² (rmsprop)."}),
    ("--no-bias-correction", "bias_correction", False,
     {"help": "Adam without the 1 − βᵗ correction, the paper's §6.4 ablation (adam)."}),
    ("--weight-decay", "weight_decay", None,
     {"type": float, "help": "AdamW's decoupled weight decay λ: θ ← θ − αλθ (adamw)."}),
    ("--initial-accumulator", "initial_accumulator", None,
     {"type": float, "help": "Adagrad's starting G (adagrad)."}),
]
FLAG_OF = {"lr": "--lr", **{setting: opt for opt, setting, _, _ in SETTING_OPTIONS}}


def _dest(option: str) -> str:
    return option.lstrip("-").replace("-", "_")


def _setting_options(fn: Any) -> Any:
    """Add the optimizer-setting options to the command (in the table's order)."""
    for option, _, flag, kwargs in reversed(SETTING_OPTIONS):
        extra = {"is_flag": True} if flag is not None else {"default": None}
        fn = click.option(option, _dest(option), **extra, **kwargs)(fn)
    return fn


def _given_settings(values: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """{setting: (option, value)} of the setting options the user gave."""
    given = {}
    for option, setting, flag, _ in SETTING_OPTIONS:
        value = values.get(_dest(option))
        if flag is None and value is not None:
            given[setting] = (option, value)
        elif flag is not None and value:
            given[setting] = (option, flag)
    return given


def _schedule(spec: str | None) -> Any:
    """``--schedule NAME[:KEY=VALUE,...]`` → a schedule; names and values checked, no eval."""
    if spec is None:
        return None
    from .. import optim
    from ..errors import TrainingError

    name, _, rest = spec.partition(":")
    kwargs: dict[str, int | float] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, text = item.partition("=")
        if not eq or not key.strip().isidentifier():
            raise CommandError(f"--schedule: settings are KEY=VALUE, e.g. step:every=100,"
                               f"factor=0.5; got '{item}'")
        kwargs[key.strip()] = _number(text.strip(), key.strip())
    try:
        return optim.get_schedule(name, **kwargs)
    except TrainingError as e:
        raise CommandError(f"--schedule: {e}") from None


def _number(text: str, key: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise CommandError(f"--schedule: {key} needs a number, got '{text}'") from None


def _optimizer(name: str, lr: float | None, given: dict[str, tuple[str, Any]],
               schedule: Any) -> Any:
    """The optimizer; each setting checked against the optimizer's own ``settings``."""
    from .. import optim
    from ..errors import TrainingError

    cls = optim.get_class(name)
    kwargs: dict[str, Any] = {}
    if lr is not None:
        kwargs["lr"] = lr
    elif cls.name == "sgd":
        kwargs["lr"] = DECK["lr"]  # the deck's rate, not Keras's default 0.01
    for setting, (option, value) in given.items():
        if setting not in cls.settings:
            takes = ", ".join(FLAG_OF[s] for s in cls.settings if s in FLAG_OF)
            raise CommandError(f"{option} does not apply to {cls.name} (it takes {takes}, "
                               f"--schedule)")
        kwargs[setting] = value
    try:
        return optim.get(cls.name, **kwargs, schedule=schedule)
    except TrainingError as e:
        message = str(e)
        for setting in kwargs:  # "beta_1 must be …" → "--beta-1 must be …"
            if message.startswith(f"{setting} "):
                message = FLAG_OF[setting] + message[len(setting):]
        raise CommandError(message) from None
