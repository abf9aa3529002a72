"""``gradgraph experiment …``: quick modes end to end, outputs, one-line errors."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from gradgraph import experiments
from gradgraph.cli import cli
from gradgraph.commands import experiment as experiment_cli
from gradgraph.experiments import common
from tests.test_cli_derive import help_examples, run_example

# Settings that make each quick mode take a second or two; the CLI's own quick defaults
# (the real ones) are what users get. A value the command line gave is kept.
TINY = {
    "vanishing": {"seeds": 1},
    "random_labels": {"train_size": 200},
    "landscape": {"train_size": 300, "epochs": 4, "directions": 1, "points": 5, "grid": 5},
    "optimizers": {"only": ["SGD 0.1", "Adam 0.01"]},
    # β₂ 0.9999 only, and α 0.1 where the uncorrected run diverges: 4 runs, not 12
    "adam_bias": {"epochs": 1, "beta_2s": [0.9999], "lrs": [0.01, 0.1]},
    "capacity": {"widths": [2, 16], "l2s": [0.0, 0.01], "epochs": 4},
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    """Run every experiment the CLI starts with TINY settings; record (name, options)."""
    calls: list[tuple[str, dict]] = []
    real = experiments.module

    def module(name: str) -> SimpleNamespace:
        mod = real(name)
        short = mod.__name__.rsplit(".", 1)[1]

        def run(**options: object) -> object:
            calls.append((short, dict(options)))
            extra = {k: v for k, v in TINY[short].items() if options.get(k) is None}
            return mod.run(**{**options, **extra})

        return SimpleNamespace(run=run)

    monkeypatch.setattr(experiments, "module", module)
    return calls


@pytest.fixture
def plain_plots(monkeypatch: pytest.MonkeyPatch) -> None:
    """Save an empty figure instead of drawing the experiment's (a second a figure).

    For tests about the CLI's wiring of --plot (the file, the JSON beside it, the order
    of the lines); each figure is drawn in full by its help example and its quick-mode
    test in test_experiments.py.
    """
    def plot(self: common.ExperimentResult, path: object) -> None:
        common.save_figure(common.new_figure((1.0, 1.0)), path)

    monkeypatch.setattr(common.ExperimentResult, "plot", plot)


def _ok(result) -> str:
    assert result.exit_code == 0, result.output + str(result.exception or "")
    return result.stdout


def test_experiment_help_lists_every_experiment(runner):
    out = _ok(runner.invoke(cli, ["experiment", "--help"]))
    for name in ("vanishing", "random-labels", "landscape", "optimizers",
                 "adam-bias-correction", "capacity"):
        assert name in out


def test_vanishing_writes_plot_and_json_beside_it(runner, tmp_path, tiny, plain_plots):
    plot = tmp_path / "vanishing.png"
    out = _ok(runner.invoke(cli, ["experiment", "vanishing", "--depth", "6", "--plot",
                                  str(plot)]))
    assert "sigmoid / He" in out and "first/last" in out
    assert "relu / PyTorch-default" in out  # the plot's legend's name, not "default"
    assert plot.read_bytes()[:4] == b"\x89PNG"
    data = json.loads((tmp_path / "vanishing.json").read_text(encoding="utf-8"))
    assert data["experiment"] == "vanishing" and data["depth"] == 6
    assert len(data["norms"]["relu/he"]) == 7


def test_progress_goes_to_stderr_and_quiet_silences_it(runner):
    loud = runner.invoke(cli, ["experiment", "vanishing", "--depth", "3"])
    assert "[0/" in loud.stderr and "[0/" not in loud.stdout
    quiet = runner.invoke(cli, ["experiment", "vanishing", "--depth", "3", "--quiet"])
    assert quiet.stderr == "" and "first/last" in quiet.stdout


def test_the_footer_times_the_whole_run_after_the_files(runner, tmp_path, plain_plots):
    plot = tmp_path / "v.png"
    out = _ok(runner.invoke(cli, ["experiment", "vanishing", "--depth", "3", "--plot",
                                  str(plot), "-q"]))
    last = out.splitlines()[-1]
    m = re.fullmatch(r"took (\d+\.\d) s in all \((\d+\.\d) s running the networks\)", last)
    assert m and float(m.group(1)) >= float(m.group(2)), last
    assert out.index(f"wrote {plot}") < out.index("took")


def test_progress_lines_show_the_current_epoch(runner, monkeypatch, tiny):
    result = runner.invoke(cli, ["experiment", "random-labels", "--corruption", "0"])
    epochs = [int(n) for n in re.findall(r"epoch (\d+),", result.stderr)]
    assert epochs[0] == 1 and max(epochs) > 1, result.stderr  # the epoch it stopped at
    assert re.search(r"\[0/1\] .*epoch \d+, train accuracy 1\.000", result.stderr)
    monkeypatch.setattr(experiment_cli, "HEARTBEAT_S", 0.0)  # a long unit: every epoch
    result = runner.invoke(cli, ["experiment", "random-labels", "--corruption", "0"])
    epochs = [int(n) for n in re.findall(r"epoch (\d+),", result.stderr)]
    assert epochs == list(range(1, len(epochs) + 1)) and len(epochs) > 2


def test_output_placeholders_read_file(runner):
    out = _ok(runner.invoke(cli, ["experiment", "vanishing", "--help"]))
    assert "--plot FILE" in out and "--json FILE" in out and "TEXT" not in out


# What each help example's output must show besides the plot it writes (the example is
# the one run of that experiment through the CLI in the default test run).
SHOWN = {
    "adam-bias-correction": ("α=0.1", "NaN"),  # an α column, a diverged run shown as NaN
}


@pytest.mark.parametrize("line", help_examples("experiment"))
def test_every_help_example_runs(line, tmp_path, monkeypatch, tiny):
    monkeypatch.setitem(TINY, "random_labels", {"train_size": 200, "max_epochs": 5})
    result = run_example(line, tmp_path, monkeypatch)
    plot = line.split("--plot ")[1].split()[0]
    assert (tmp_path / plot).is_file() and f"wrote {plot}" in result.stdout
    for text in SHOWN.get(line.split()[2], ()):
        assert text in result.stdout, (text, result.stdout)


def test_help_examples_cover_every_claim_in_shown():
    assert set(SHOWN) <= {line.split()[2] for line in help_examples("experiment")}


def test_random_labels_corruption_list_and_json_path(runner, tmp_path, tiny):
    out = _ok(runner.invoke(cli, ["experiment", "random-labels", "--corruption", "1",
                                  "--json", str(tmp_path / "z.json"), "-q"]))
    assert "1.0" in out and "epochs to 100 % train" in out
    data = json.loads((tmp_path / "z.json").read_text(encoding="utf-8"))
    assert [r["p"] for r in data["runs"]] == [1.0]
    assert data["runs"][0]["train_accuracy"] == 1.0


def test_landscape_two_batch_sizes(runner, tmp_path, tiny, plain_plots):
    out = _ok(runner.invoke(cli, ["experiment", "landscape", "--batch-sizes", "16,512",
                                  "--plot", str(tmp_path / "l.svg"), "-q"]))
    assert "ΔL at |α|=0.5" in out
    assert (tmp_path / "l.svg").is_file() and (tmp_path / "l.json").is_file()


def test_the_optimizer_race_runs_the_whole_list(runner):
    out = _ok(runner.invoke(cli, ["experiment", "optimizers", "--epochs", "1", "-q"]))
    assert "Adam 1e-3 (paper)" in out and "signSGD" in out


@pytest.mark.slow
def test_adam_bias_correction_on_the_quick_grid(runner, tmp_path):
    # Quick twin in the default run: the help example with TINY's grid (SHOWN above).
    out = _ok(runner.invoke(cli, ["experiment", "adam-bias-correction", "--epochs", "1",
                                  "--plot", str(tmp_path / "ablation.png"), "-q"]))
    assert "α=0.1" in out and "NaN" in out
    assert (tmp_path / "ablation.png").is_file()


@pytest.mark.parametrize("args, message", [
    (["vanishing", "--plot", "v.txt"], "--plot v.txt: use a file ending in .png"),
    (["vanishing", "--plot", "no/such/dir/v.png"], "does not exist"),
    (["vanishing", "--json", "v.csv"], "--json v.csv"),
    (["random-labels", "--corruption", "0,x"], "not a comma-separated list"),
    (["random-labels", "--corruption", "0,1.5"], "must be in [0, 1]"),
    (["landscape", "--batch-sizes", "16,0"], "whole numbers >= 1"),
    (["landscape", "--weight-decay", "-1"], ">= 0"),
    (["capacity", "--widths", "0,4"], "whole numbers >= 1"),
    (["capacity", "--l2", "0,-0.1"], "--l2: values must be >= 0"),
    (["vanishing", "--plot", "/proc/x.png"], "--plot: cannot write '/proc/x.png'"),
    (["capacity", "--json", "/proc/x.json"], "--json: cannot write '/proc/x.json'"),
    (["vanishing", "--plot", "/"], "use a file ending in"),
])
def test_user_errors_are_one_line_with_exit_code_2(runner, args, message, tiny):
    result = runner.invoke(cli, ["experiment", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert tiny == []  # refused before any experiment ran


@pytest.mark.parametrize("args, message", [
    (["capacity", "--label-noise", "2"], "'--label-noise': 2.0 is not in the range"),
    (["capacity", "--train-size", "5"], "'--train-size': 5 is not in the range"),
])
def test_out_of_range_options_are_usage_errors(runner, args, message, tiny):
    result = runner.invoke(cli, ["experiment", *args])
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.stderr and tiny == []


def test_an_unwritable_output_is_refused_before_the_experiment(runner, tmp_path, tiny):
    folder = tmp_path / "plots.png"
    folder.mkdir()  # a folder where the plot should go
    result = runner.invoke(cli, ["experiment", "capacity", "--plot", str(folder)])
    assert result.exit_code == 2 and "it is a folder" in result.stderr
    (tmp_path / "c.json").mkdir()  # the JSON that would go beside the plot
    result = runner.invoke(cli, ["experiment", "capacity", "--plot", str(tmp_path / "c.png")])
    assert result.exit_code == 2 and "c.json" in result.stderr
    assert tiny == []


def test_capacity_options_reach_the_experiment_and_the_verdict_is_printed(runner, tmp_path,
                                                                          tiny, plain_plots):
    out = _ok(runner.invoke(cli, ["experiment", "capacity", "--widths", "2,16", "--l2",
                                  "0,0.01", "--epochs", "3", "--train-size", "200",
                                  "--label-noise", "0", "--plot", str(tmp_path / "c.png"),
                                  "-q"]))
    name, options = tiny[0]
    assert name == "capacity" and options["widths"] == [2, 16] and options["l2s"] == [0, 0.01]
    assert (options["epochs"], options["train_size"], options["label_noise"]) == (3, 200, 0)
    assert "Optimum (chosen on validation)" in out and "Reproduced: " in out
    data = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert data["experiment"] == "capacity" and data["train_size"] == 200
    # two widths cannot show a U with its minimum inside: not judged, and said so
    assert data["reproduced"] is None and data["reason"].startswith("the sweep needs")
    assert "Reproduced: not judged — the sweep needs λ = 0, three widths" in out


def test_quick_defaults_are_the_real_ones(runner, tiny):
    runner.invoke(cli, ["experiment", "capacity", "-q"])
    runner.invoke(cli, ["experiment", "capacity", "--full", "-q", "--epochs", "1",
                        "--widths", "2", "--l2", "0"])
    (_, quick), (_, full) = tiny
    assert quick["quick"] is True and quick["widths"] is None and quick["l2s"] is None
    assert full["quick"] is False
