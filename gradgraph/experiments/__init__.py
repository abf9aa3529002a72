"""The papers' experiments, each runnable in seconds (quick) or as the documented protocol.

Each module has ``run(quick=True, seed=0, progress=None, ...) -> Result``; a result has
``.to_dict()``, ``.table()`` and ``.plot(path)``. Each module's docstring gives its
protocol; the README gives the full-mode figures beside independent reference runs.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import TrainingError

# Command-line name -> module; each module's ``run`` takes the knobs as keywords.
EXPERIMENTS = {
    "vanishing": "vanishing",
    "random-labels": "random_labels",
    "landscape": "landscape",
    "optimizers": "optimizers",
    "adam-bias-correction": "adam_bias",
    "capacity": "capacity",
}


def module(name: str) -> Any:
    """The module that runs experiment ``name`` (``random-labels`` or ``random_labels``)."""
    modules = {**EXPERIMENTS, **{m: m for m in EXPERIMENTS.values()}}
    if name not in modules:
        raise TrainingError(f"no experiment called '{name}' (known: {', '.join(EXPERIMENTS)})")
    return importlib.import_module(f"{__name__}.{modules[name]}")


def run(name: str, quick: bool = True, **options: Any) -> Any:
    """Run experiment ``name``; ``options`` are its ``run`` function's keywords."""
    return module(name).run(quick=quick, **options)
