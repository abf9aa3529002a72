"""Training runs and the papers' experiments inside a lesson.

They run :mod:`gradgraph.nn` and :mod:`gradgraph.experiments`. ``quick`` caps a
training run at one epoch and asks an experiment for its quick mode, for tests and
impatient learners.
"""

from __future__ import annotations

from typing import Any

from .. import optim
from ..errors import GradgraphError, LessonError
from .blocks import Block, Math, Note, Table
from .model import ExperimentStep, TrainStep

# The first positional argument of each Keras-shaped layer, as Keras names it.
_POSITIONAL = {"Dense": "units", "Activation": "activation", "Dropout": "rate"}
_MAX_EPOCH_ROWS = 16


def run_train(step: TrainStep, quick: bool = False) -> list[Block]:
    """Build the lesson's Keras-shaped model, fit it on the digits and report."""
    try:
        return _train(step, quick)
    except GradgraphError as e:
        return [Note(f"training stopped: {e}", "warn")]
    except TypeError as e:  # a layer option gradgraph.nn does not take
        raise LessonError(f"the training step's model: {e}") from None


def _train(step: TrainStep, quick: bool) -> list[Block]:
    from .. import nn
    from ..data import load_digits_split, one_hot

    layers = []
    for spec in step.model:
        kind = spec["layer"]
        kwargs = {k: v for k, v in spec.items() if k != "layer"}
        args = [kwargs.pop(_POSITIONAL[kind])] if _POSITIONAL.get(kind) in kwargs else []
        layers.append(getattr(nn, kind)(*args, **kwargs))
    model = nn.Sequential(layers)
    hyper = {k: v for k, v in step.optimizer.items() if k != "name"}
    model.compile(optimizer=optim.get(str(step.optimizer.get("name", "sgd")), **hyper),
                  loss=step.loss, metrics=list(step.metrics))
    split = load_digits_split()
    Y_train, Y_test = one_hot(split.y_train, 10), one_hot(split.y_test, 10)
    epochs = 1 if quick else step.epochs
    history = model.fit(split.X_train, Y_train, epochs=epochs, batch_size=step.batch_size,
                        validation_data=(split.X_test, Y_test))
    blocks: list[Block] = [_history_table(getattr(history, "history", {}))]
    scores = model.evaluate(split.X_test, Y_test)
    blocks.append(Math((f"test set: {scores_text(scores, step.metrics)}",)))
    if quick and step.epochs > 1:
        blocks.append(Note(f"quick mode: 1 epoch instead of {step.epochs}"))
    return blocks


def _history_table(history: dict[str, list[float]]) -> Table:
    keys = sorted(history)
    epochs = max((len(v) for v in history.values()), default=0)
    first = max(0, epochs - _MAX_EPOCH_ROWS)
    rows = tuple(
        (str(e + 1), *(f"{history[k][e]:.4f}" if e < len(history[k]) else "" for k in keys))
        for e in range(first, epochs)
    )
    return Table(("epoch", *keys), rows)


def scores_text(scores: Any, metrics: tuple[str, ...] = ()) -> str:
    """``loss 0.0914, accuracy 0.9704``: ``evaluate`` returns ``[loss, *metrics]`` (just
    the loss without metrics), unlabelled, so the labels come from the step."""
    if isinstance(scores, dict):
        return ", ".join(f"{k} {v:.4f}" for k, v in scores.items())
    if isinstance(scores, int | float):
        return f"loss {scores:.4f}"
    if isinstance(scores, list | tuple):
        names = ("loss", *metrics)
        if len(names) != len(scores):  # not the shape we know: numbers without labels
            return ", ".join(f"{v:.4f}" for v in scores)
        return ", ".join(f"{k} {v:.4f}" for k, v in zip(names, scores, strict=True))
    return str(scores)


def run_experiment(step: ExperimentStep, quick: bool = False) -> list[Block]:
    """Run one of the papers' experiments (gradgraph.experiments) and show its table."""
    from .. import experiments

    try:
        result = experiments.run(step.name, quick=quick, **step.options)
    except GradgraphError as e:
        return [Note(f"the experiment stopped: {e}", "warn")]
    except TypeError as e:  # a lesson option the experiment does not take
        raise LessonError(f"experiment '{step.name}': {e}") from None
    return [Math(tuple(_result_text(result).splitlines()))]


def _result_text(result: Any) -> str:
    # An experiment's summary() is data (a list of dicts); its table() is the text.
    for attr in ("table", "report", "summary"):
        fn = getattr(result, attr, None)
        if callable(fn):
            return str(fn())
        if isinstance(fn, str):
            return fn
    return str(result)
