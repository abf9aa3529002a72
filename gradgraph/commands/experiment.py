"""``gradgraph experiment``: re-run the papers' results on a laptop and see a plot."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..fileio import OutputPathError, check_writable
from .common import CommandError, run_safely

PLOT_FORMATS = (".png", ".svg", ".pdf")


HEARTBEAT_S = 10.0  # without a terminal, the longest silence within one unit of work


class _Progress:
    """progress(done, total, message) on stderr: one rewritten line on a terminal.

    Otherwise (logs, CI) a line when a unit of work starts, the unit's last message
    when it ends (say, the epoch it stopped at), and the current one every
    HEARTBEAT_S seconds in between, so a log shows where a long unit is.
    """

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.last_done = -1
        self.pending: str | None = None  # the latest line not yet written (no terminal)
        self.start = time.perf_counter()
        self.last_write = self.start
        self.width = shutil.get_terminal_size((100, 20)).columns - 1

    def __call__(self, done: int, total: int, message: str) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        line = f"[{done}/{total}] {now - self.start:5.0f}s  {message}"
        if self.tty:
            click.echo("\r" + line[: self.width].ljust(self.width), err=True, nl=False)
        elif done != self.last_done:
            self._flush()
            self._write(line, now)
        elif now - self.last_write >= HEARTBEAT_S:
            self._write(line, now)
        else:
            self.pending = line
        self.last_done = done

    def _write(self, line: str, now: float) -> None:
        click.echo(line, err=True)
        self.pending, self.last_write = None, now

    def _flush(self) -> None:
        if self.pending is not None:
            self._write(self.pending, time.perf_counter())

    def close(self) -> None:
        if self.quiet:
            return
        if self.tty:
            click.echo("\r" + " " * self.width + "\r", err=True, nl=False)
        else:
            self._flush()


def _floats(option: str, text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise CommandError(f"{option}: '{text}' is not a comma-separated list of numbers") \
            from None
    if not values:
        raise CommandError(f"{option}: give at least one number")
    return values


def _ints(option: str, text: str) -> list[int]:
    values = _floats(option, text)
    if any(v != int(v) or v < 1 for v in values):
        raise CommandError(f"{option}: '{text}' must be whole numbers >= 1")
    return [int(v) for v in values]


def _check_output(path: str | None, suffixes: tuple[str, ...], option: str) -> Path | None:
    """Refuse an unusable output path before minutes of training, not after: a wrong
    suffix, a missing or read-only folder, a folder or device where the file should go."""
    if path is None:
        return None
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise CommandError(f"{option} {path}: use a file ending in {', '.join(suffixes)}")
    try:
        return check_writable(p)
    except OutputPathError as e:
        raise CommandError(f"{option}: {e}") from None


def _experiment_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--full, --seed, --plot, --json, --quiet on every experiment."""
    options = [
        click.option("--full", is_flag=True,
                     help="The documented protocol (minutes) instead of the quick mode."),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                      help="First seed (more seeds count up from it)."),
        click.option("--plot", "plot", type=str, metavar="FILE",
                     help="Write the figure to this .png, .svg or .pdf."),
        click.option("--json", "json_path", type=str, metavar="FILE",
                     help="Write the results as JSON (default: beside --plot)."),
        click.option("--quiet", "-q", is_flag=True, help="No progress display on stderr."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _run(module: str, plot: str | None, json_path: str | None, quiet: bool,
         **kwargs: Any) -> None:
    """Run ``gradgraph.experiments.<module>``, print its table, write plot and JSON."""
    started = time.perf_counter()
    from .. import experiments

    plot_path = _check_output(plot, PLOT_FORMATS, "--plot")
    json_out = _check_output(json_path, (".json",), "--json")
    if json_out is None and plot_path is not None:
        json_out = _check_output(str(plot_path.with_suffix(".json")), (".json",),
                                 "--plot (the JSON beside it)")
    experiment = experiments.module(module)
    progress = _Progress(quiet)
    try:
        result = experiment.run(progress=progress, **kwargs)
    finally:
        progress.close()
    click.echo(result.table())
    try:
        if plot_path is not None:
            result.plot(plot_path)
            click.echo(f"wrote {plot_path}")
        if json_out is not None:
            result.save_json(json_out)
            click.echo(f"wrote {json_out}")
    except OSError as exc:
        raise CommandError(f"cannot write results: {exc.strerror or exc}") from None
    # The result's own seconds time its runs only; loading, plot and JSON count too.
    click.echo(f"took {time.perf_counter() - started:.1f} s in all "
               f"({result.seconds:.1f} s running the networks)")


@click.group("experiment")
def experiment_group() -> None:
    """Re-run the papers' experiments the deck cites (quick by default; --full: protocol).

    Each table ends with whether the paper's qualitative result was reproduced, and why
    (in the JSON: "reproduced" true/false, or null where the sweep cannot show it, and
    "reason").

    \b
    Examples:
      gradgraph experiment vanishing --depth 10 --plot vanishing.png
      gradgraph experiment random-labels --corruption 0,0.2,0.4,0.6,0.8,1 --plot zhang.png
      gradgraph experiment landscape --batch-sizes 16,512 --dims 2 --plot landscape.png
      gradgraph experiment optimizers --plot race.png
      gradgraph experiment adam-bias-correction --plot ablation.png
      gradgraph experiment capacity --plot capacity.png
    """


@experiment_group.command("vanishing",
                          short_help="Gradient norms per layer at init: sigmoid vs ReLU.")
@click.option("--depth", type=click.IntRange(1, 100), default=10, show_default=True,
              help="Hidden layers.")
@click.option("--width", type=click.IntRange(1, 2000), default=100, show_default=True,
              help="Units per hidden layer.")
@_experiment_options
@run_safely
def vanishing_command(depth: int, width: int, full: bool, seed: int, plot: str | None,
                      json_path: str | None, quiet: bool) -> None:
    """Per-layer gradient norms at initialisation: sigmoid vs ReLU, PyTorch-default/Glorot/He
    init."""
    _run("vanishing", plot, json_path, quiet, quick=not full, seed=seed, depth=depth,
         width=width)


@experiment_group.command("random-labels",
                          short_help="Zhang 2017: fit random labels; test falls to chance.")
@click.option("--corruption", default="0,0.2,0.4,0.6,0.8,1", show_default=True,
              help="Label-corruption probabilities p, comma-separated.")
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default="adam",
              show_default=True, help="Adam 1e-3, or SGD momentum 0.9 lr 0.01.")
@_experiment_options
@run_safely
def random_labels_command(corruption: str, optimizer: str, full: bool, seed: int,
                          plot: str | None, json_path: str | None, quiet: bool) -> None:
    """Zhang et al. 2017: an MLP fits random labels; test accuracy falls to chance."""
    ps = _floats("--corruption", corruption)
    if any(not 0 <= p <= 1 for p in ps):
        raise CommandError("--corruption: probabilities must be in [0, 1]")
    _run("random_labels", plot, json_path, quiet, quick=not full, seed=seed, corruptions=ps,
         optimizer=optimizer)


@experiment_group.command("landscape",
                          short_help="Li 2018: loss slices, small vs large batch.")
@click.option("--batch-sizes", default="16,512", show_default=True,
              help="Batch sizes to compare, comma-separated.")
@click.option("--dims", type=click.Choice(["1", "2"]), default="1", show_default=True,
              help="1: 1-D curves; 2: also 2-D contours.")
@click.option("--weight-decay", "weight_decay", type=str,
              help="Weight decays λ, comma-separated (default: 0; --full: 0,5e-4).")
@click.option("--trajectory", is_flag=True,
              help="Also draw the training path on the loss contour (PCA directions).")
@_experiment_options
@run_safely
def landscape_command(batch_sizes: str, dims: str, weight_decay: str | None, trajectory: bool,
                      full: bool, seed: int, plot: str | None, json_path: str | None,
                      quiet: bool) -> None:
    """Li et al. 2018: filter-normalised loss slices, small vs large batch."""
    decays = _floats("--weight-decay", weight_decay) if weight_decay is not None else None
    if decays is not None and any(w < 0 for w in decays):
        raise CommandError("--weight-decay: values must be >= 0")
    _run("landscape", plot, json_path, quiet, quick=not full, seed=seed,
         batch_sizes=_ints("--batch-sizes", batch_sizes), dims=int(dims),
         weight_decays=decays, trajectory=trajectory)


@experiment_group.command("optimizers",
                          short_help="Every optimizer on the deck's digits task.")
@click.option("--epochs", type=click.IntRange(1, 1000), default=15, show_default=True)
@_experiment_options
@run_safely
def optimizers_command(epochs: int, full: bool, seed: int, plot: str | None,
                       json_path: str | None, quiet: bool) -> None:
    """Every optimizer on the deck's digits task: loss curves and test accuracy."""
    _run("optimizers", plot, json_path, quiet, quick=not full, seed=seed, epochs=epochs)


@experiment_group.command("adam-bias-correction",
                          short_help="Kingma & Ba §6.4: Adam with/without bias correction.")
@click.option("--epochs", type=click.IntRange(1, 1000),
              help="Epochs per run (default: 10; --full: 100).")
@_experiment_options
@run_safely
def adam_bias_command(epochs: int | None, full: bool, seed: int, plot: str | None,
                      json_path: str | None, quiet: bool) -> None:
    """Kingma & Ba §6.4: Adam with vs without bias correction as β₂ → 1 (a VAE)."""
    _run("adam_bias", plot, json_path, quiet, quick=not full, seed=seed, epochs=epochs)


@experiment_group.command("capacity",
                          short_help="Under/over-fitting: validation error's U-curve.")
@click.option("--widths", type=str,
              help="Hidden widths (capacity), comma-separated (default: 1,2,4,…,128; "
                   "--full: 1,2,4,…,256).")
@click.option("--l2", "l2s", type=str,
              help="L2 strengths λ (λ·ΣW²), comma-separated (default: 0,0.01,0.03; --full: "
                   "0,0.001,0.003,0.01,0.03,0.1).")
@click.option("--epochs", type=click.IntRange(1, 5000),
              help="Training length; errors are recorded after every epoch (default: 100; "
                   "--full: 300).")
@click.option("--train-size", type=click.IntRange(10, 1027), default=300, show_default=True,
              help="Training images (the validation set is 500 others).")
@click.option("--label-noise", type=click.FloatRange(0, 1), default=0.2, show_default=True,
              help="Fraction of training labels replaced by random classes.")
@_experiment_options
@run_safely
def capacity_command(widths: str | None, l2s: str | None, epochs: int | None, train_size: int,
                     label_noise: float, full: bool, seed: int, plot: str | None,
                     json_path: str | None, quiet: bool) -> None:
    """Underfitting, optimum, overfitting: training and validation error against hidden
    width, epochs and L2; the optimum chosen on validation, reported on test."""
    lams = _floats("--l2", l2s) if l2s is not None else None
    if lams is not None and any(lam < 0 for lam in lams):
        raise CommandError("--l2: values must be >= 0")
    sizes = _ints("--widths", widths) if widths is not None else None
    _run("capacity", plot, json_path, quiet, quick=not full, seed=seed, widths=sizes,
         l2s=lams, epochs=epochs, train_size=train_size, label_noise=label_noise)
