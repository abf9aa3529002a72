"""``gradgraph train``: the deck's Keras example (or your data) trained on the graph."""

from __future__ import annotations

import json
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import click

from ..data import MIN_TRAIN, split_validation
from ..errors import DataError
from ..fileio import OutputPathError, check_writable
from .common import CommandError, run_safely
from .train_options import (
    DECK,
    _given_settings,
    _hidden,
    _optimizer,
    _schedule,
    _setting_options,
)

# FLAG_OF and SETTING_OPTIONS stay importable from here, as before the split.
from .train_options import FLAG_OF as FLAG_OF
from .train_options import SETTING_OPTIONS as SETTING_OPTIONS

MAX_TEST_SIZE = 0.9


def _load(data: str | None, test_size: float, random_state: int) -> tuple[Any, ...]:
    """(X_train, Y_train, X_test, Y_test, description), standardised on the train set."""
    from ..data import load_arrays, load_digits_split, one_hot

    if data is None:
        split = load_digits_split(test_size=test_size, random_state=random_state)
        return (split.X_train, split.Y_train, split.X_test, split.Y_test,
                "scikit-learn digits (8×8, 10 classes)")
    import numpy as np
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_arrays(data)
    classes = int(y.max()) + 1
    if classes < 2 or len(X) < 4:
        raise DataError(f"{data}: needs at least 4 samples and 2 classes (labels 0 … k−1)")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=random_state)
    # Features near the float64 limit overflow in the variance: say so in one line
    # instead of printing numpy's and scikit-learn's warnings.
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if not (np.isfinite(X_train).all() and np.isfinite(X_test).all()):
        raise DataError(f"{data}: features too large to standardise (up to "
                        f"{np.abs(X).max():.3g}); rescale the data")
    return (X_train, one_hot(y_train, classes), X_test, one_hot(y_test, classes),
            f"{Path(data).name} ({X.shape[1]} features, {classes} classes)")


def _model(n_in: int, n_out: int, hidden: list[int], activation: str, l1: float,
           l2: float, dropout: float, batchnorm: bool, seed: int) -> Any:
    from .. import regularize
    from ..nn import Activation, BatchNormalization, Dense, Dropout, Sequential

    reg = regularize.Regularizer(l1=l1, l2=l2) if (l1 or l2) else None
    layers: list[Any] = []
    for k, units in enumerate(hidden):
        layers.append(Dense(units, input_dim=n_in if k == 0 else None, kernel_regularizer=reg))
        if batchnorm:
            layers.append(BatchNormalization())
        layers.append(Activation(activation))
        if dropout:
            layers.append(Dropout(dropout))
    layers += [Dense(n_out, kernel_regularizer=reg), Activation("softmax")]
    return Sequential(layers, seed=seed)


class _Bar:
    """A progress bar for one epoch on stderr (only on a terminal), via click."""

    def __init__(self, total: int, quiet: bool):
        self.total, self.quiet = total, quiet
        self.bar: Any = None

    def start(self, epoch: int, epochs: int) -> None:
        if self.quiet or not sys.stderr.isatty():
            return
        self.bar = click.progressbar(length=self.total, label=f"Epoch {epoch}/{epochs}",
                                     file=sys.stderr, width=30)
        self.bar.__enter__()

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("train")
@click.option("--optimizer", default="sgd", show_default=True,
              help="sgd, momentum, nesterov, sign, adagrad, rmsprop, adam, adamax, adamw.")
@click.option("--lr", type=float, default=None,
              help="Learning rate (default: 0.1 for sgd, as in the deck; else the "
                   "optimizer's own default).")
@_setting_options
@click.option("--schedule", metavar="NAME[:K=V,...]", default=None,
              help="Learning-rate schedule: constant, step:every=N,factor=F, "
                   "exponential:rate=R, inverse-time:decay=D, linear:tau=N,floor=F, "
                   "cosine:total=N,floor=F (N counts steps).")
@click.option("--epochs", type=click.IntRange(1, 100_000), default=DECK["epochs"],
              show_default=True)
@click.option("--batch-size", type=click.IntRange(1, 1_000_000), default=DECK["batch_size"],
              show_default=True)
@click.option("--hidden", default=DECK["hidden"], show_default=True,
              help="Hidden layer sizes, e.g. 100 or 100,50.")
@click.option("--activation", default=DECK["activation"], show_default=True,
              help="Hidden activation: tanh, sigmoid, relu, softplus, …")
@click.option("--l1", type=float, default=0.0, help="L1 strength λ: C + λΣ|w| on every W.")
@click.option("--l2", type=float, default=0.0, help="L2 strength λ: C + λΣw² on every W.")
@click.option("--dropout", type=float, default=0.0,
              help="Dropout rate (drop probability) after each hidden layer.")
@click.option("--batchnorm", is_flag=True,
              help="Batch normalisation before each hidden activation.")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1), default=0, show_default=True,
              help="Seeds the initial weights, the shuffling and the dropout masks.")
@click.option("--data", "data", type=click.Path(dir_okay=False),
              help="Your data: .npz with arrays X, y, or .csv with the label last "
                   "(try lessons/data/two_moons.csv).")
@click.option("--test-size", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=DECK["test_size"], show_default=True,
              help=f"Fraction held out for testing (at most {MAX_TEST_SIZE}).")
@click.option("--validation-split", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=None, metavar="F",
              help="Hold out this fraction of the training data as a validation set, "
                   "reported per epoch as val_loss/val_accuracy (default: the test set "
                   "is reported there).")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32",
              show_default=True,
              help="What training computes in (weights, optimizer state, data); float32 "
                   "as in Keras and PyTorch, float64 for the lessons' exact numbers.")
@click.option("--backend", type=click.Choice(["numpy", "jax"]), default="numpy",
              show_default=True,
              help="Where the training step runs: numpy, or jax (pip install "
                   "gradgraph[jax]): forward, backward and update jitted as one step.")
@click.option("--plot", type=click.Path(dir_okay=False),
              help="Write train/validation curves to this .png, .svg or .pdf.")
@click.option("--save", type=click.Path(dir_okay=False),
              help="Save the trained model here (.npz, plus .npz.json beside it).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No epoch lines or progress bar.")
@run_safely
def train_command(optimizer: str, lr: float | None, schedule: str | None, epochs: int,
                  batch_size: int, hidden: str, activation: str, l1: float, l2: float,
                  dropout: float, batchnorm: bool, seed: int, data: str | None,
                  test_size: float, validation_split: float | None, dtype: str,
                  backend: str, plot: str | None,
                  save: str | None, as_json: bool, quiet: bool, **settings: Any) -> None:
    """Train a network on the graph; by default the deck's Keras example.

    \b
    Default: scikit-learn digits (1527 train / 270 test, StandardScaler),
    Dense(100) tanh → Dense(10) softmax, cross-entropy, SGD lr 0.1, batch 32,
    15 epochs. Epoch lines and a progress bar go to stderr, results to stdout.
    An optimizer refuses, in one line, a setting it does not take.

    \b
    Data to try at once: lessons/data/two_moons.csv (200 points, 2 features,
    2 classes; label last) in a source checkout, or
    <prefix>/share/gradgraph/lessons/data/two_moons.csv after an install.

    \b
    Examples:
      gradgraph train
      gradgraph train --optimizer adam --lr 1e-3 --l2 1e-4 --dropout 0.2 --batchnorm \\
          --epochs 30 --plot history.png --save model.npz
    Your data, with a validation set carved from the training data:
      gradgraph train --data lessons/data/two_moons.csv --hidden 16 --epochs 20 \\
          --validation-split 0.2
    Optimizer settings:
      gradgraph train --data lessons/data/two_moons.csv --optimizer sgd --momentum 0.9 \\
          --nesterov --epochs 5
      gradgraph train --data lessons/data/two_moons.csv --optimizer adam --beta-1 0.8 \\
          --beta-2 0.99 --epsilon 1e-7 --no-bias-correction --epochs 5
      gradgraph train --data lessons/data/two_moons.csv --optimizer adamw --weight-decay 0.05 \\
          --epochs 5
      gradgraph train --data lessons/data/two_moons.csv --optimizer rmsprop --rho 0.95 \\
          --eps-placement pytorch --centered --epochs 5
    Learning-rate schedules:
      gradgraph train --data lessons/data/two_moons.csv --schedule step:every=20,factor=0.5 \\
          --epochs 5
      gradgraph train --data lessons/data/two_moons.csv --optimizer adam \\
          --schedule cosine:total=30,floor=0.01 --epochs 5
    On JAX (pip install gradgraph[jax]):
      gradgraph train --backend jax --optimizer adam --epochs 5
    """
    from .. import train as _train

    sizes = _hidden(hidden)
    opt = _optimizer(optimizer, lr, _given_settings(settings), _schedule(schedule))
    if plot and Path(plot).suffix.lower() not in (".png", ".svg", ".pdf"):
        raise CommandError("--plot needs a .png, .svg or .pdf file name")
    if save and Path(save).suffix.lower() != ".npz":  # the file is numpy's, whatever its name
        raise CommandError(f"--save needs a .npz file name (the model is saved as numpy "
                           f"arrays); got '{save}'")
    _check_outputs(plot, save)
    if test_size > MAX_TEST_SIZE:
        raise CommandError(f"--test-size {test_size:g} leaves too little to train on; use at "
                           f"most {MAX_TEST_SIZE:g}")
    X, Y, Xt, Yt, source = _load(data, test_size, DECK["random_state"])
    if len(X) < MIN_TRAIN:
        raise CommandError(f"--test-size {test_size:g} leaves {len(X)} training examples; "
                           f"at least {MIN_TRAIN} are needed")
    try:
        X, Y, Xv, Yv = split_validation(X, Y, validation_split, DECK["random_state"])
    except DataError as e:  # the library's words, under the option's name
        raise CommandError(str(e).replace("a validation split of", "--validation-split")) from None
    validation = (Xt, Yt) if Xv is None else (Xv, Yv)
    model = _model(X.shape[1], Y.shape[1], sizes, activation, l1, l2, dropout, batchnorm, seed)
    model.compile(optimizer=opt, loss="categorical_crossentropy", metrics=["accuracy"],
                  dtype=dtype, backend=backend)
    bar = _Bar(len(X), quiet or as_json)
    lines = [] if (quiet or as_json) else [_Lines(bar, epochs)]
    progress = _train.ProgressLogger(write=lambda s: click.echo(s, err=True),
                                     advance=bar.advance)
    callbacks = [*lines, progress] if lines else []
    if not (quiet or as_json):
        held = "" if Xv is None else f", {len(Xv)} validation"
        click.echo(f"data: {source}: {len(X)} train{held}, {len(Xt)} test", err=True)
        click.echo(f"model: {model!r}; optimizer {opt!r}", err=True)
    try:
        history = model.fit(X, Y, epochs=epochs, batch_size=batch_size,
                            validation_data=validation, callbacks=callbacks, seed=seed)
    finally:
        bar.finish()
    if plot and history.epochs:
        from ..plots import plot_history

        plot_history(history, plot, title=_title(sizes, activation, batchnorm, dropout, l1,
                                                  l2, opt, batch_size))
    if history.stopped is not None:
        raise CommandError(str(history.stopped) + ("; model not saved" if save else ""))
    loss, acc = model.evaluate(Xt, Yt)
    if save:
        model.save(save)
    _report(as_json, history, loss, acc, len(Xt), plot, save, opt, model,
            None if Xv is None else len(Xv))


def _check_outputs(plot: str | None, save: str | None) -> None:
    """Every output path is writable before minutes of training, not after them."""
    outputs = [("--plot", plot), ("--save", save), ("--save", f"{save}.json" if save else None)]
    for what, path in outputs:
        if path:
            try:
                check_writable(path)
            except OutputPathError as e:
                raise CommandError(f"{what}: {e}") from None


def _title(sizes: list[int], activation: str, batchnorm: bool, dropout: float, l1: float,
           l2: float, opt: Any, batch_size: int) -> str:
    """``hidden 100 tanh, batch norm, dropout 0.2, L2 0.0001 · Adam lr 0.001, batch 32``."""
    parts = [f"hidden {','.join(map(str, sizes))} {activation}"]
    parts += ["batch norm"] if batchnorm else []
    parts += [f"dropout {dropout:g}"] if dropout else []
    parts += [f"L1 {l1:g}"] if l1 else []
    parts += [f"L2 {l2:g}"] if l2 else []
    return f"{', '.join(parts)} · {type(opt).__name__} lr {opt.lr:g}, batch {batch_size}"


class _Lines:
    """Starts and stops the per-epoch bar around the ProgressLogger's lines."""

    def __init__(self, bar: _Bar, epochs: int):
        self.bar, self.epochs = bar, epochs

    def on_epoch_begin(self, epoch: int, logs: dict) -> None:
        self.bar.start(epoch + 1, self.epochs)

    def on_epoch_end(self, epoch: int, logs: dict) -> None:
        self.bar.finish()


def _report(as_json: bool, history: Any, loss: float, acc: float, n_test: int,
            plot: str | None, save: str | None, opt: Any, model: Any,
            n_val: int | None) -> None:
    if as_json:
        doc = {"test": {"loss": _num(loss), "accuracy": _num(acc), "examples": n_test},
               "validation": {"examples": n_val or n_test,
                              "of": "training data" if n_val else "test set"},
               "model": repr(model), "optimizer": repr(opt), "dtype": model.dtype.name,
               "backend": model.backend,
               "plot": plot, "saved": save,
               **history.to_dict()}
        click.echo(json.dumps(doc, indent=1, allow_nan=False))
        return
    right = int(round(acc * n_test))
    click.echo(f"test accuracy {acc:.4f} ({right}/{n_test}), test loss {loss:.4f}")
    if plot:
        click.echo(f"plot: {plot}")
    if save:
        click.echo(f"saved: {save} (+ {Path(save).name}.json)")


def _num(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None

