"""``gradgraph experiment …``: quick modes end to end, outputs, one-line errors."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from gradgraph.cli import cli
from gradgraph.commands import experiment as experiment_cli
from tests.test_cli_derive import help_examples, run_example


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def _ok(result) -> str:
    assert result.exit_code == 0, result.output + str(result.exception or "")
    return result.stdout


def test_experiment_help_lists_every_experiment(runner):
    out = _ok(runner.invoke(cli, ["experiment", "--help"]))
    for name in ("vanishing", "random-labels", "landscape", "optimizers",
                 "adam-bias-correction"):
        assert name in out


def test_vanishing_writes_plot_and_json_beside_it(runner, tmp_path):
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


def test_the_footer_times_the_whole_run_after_the_files(runner, tmp_path):
    plot = tmp_path / "v.png"
    out = _ok(runner.invoke(cli, ["experiment", "vanishing", "--depth", "3", "--plot",
                                  str(plot), "-q"]))
    last = out.splitlines()[-1]
    m = re.fullmatch(r"took (\d+\.\d) s in all \((\d+\.\d) s running the networks\)", last)
    assert m and float(m.group(1)) >= float(m.group(2)), last
    assert out.index(f"wrote {plot}") < out.index("took")


def test_progress_lines_show_the_current_epoch(runner, monkeypatch):
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


@pytest.mark.parametrize("line", help_examples("experiment"))
def test_every_help_example_runs(line, tmp_path, monkeypatch):
    result = run_example(line, tmp_path, monkeypatch)
    plot = line.split("--plot ")[1].split()[0]
    assert (tmp_path / plot).is_file() and f"wrote {plot}" in result.stdout


def test_random_labels_corruption_list_and_json_path(runner, tmp_path):
    out = _ok(runner.invoke(cli, ["experiment", "random-labels", "--corruption", "1",
                                  "--json", str(tmp_path / "z.json"), "-q"]))
    assert "1.0" in out and "epochs to 100 % train" in out
    data = json.loads((tmp_path / "z.json").read_text(encoding="utf-8"))
    assert [r["p"] for r in data["runs"]] == [1.0]
    assert data["runs"][0]["train_accuracy"] == 1.0


def test_landscape_two_batch_sizes(runner, tmp_path):
    out = _ok(runner.invoke(cli, ["experiment", "landscape", "--batch-sizes", "16,512",
                                  "--plot", str(tmp_path / "l.svg"), "-q"]))
    assert "ΔL at |α|=0.5" in out
    assert (tmp_path / "l.svg").is_file() and (tmp_path / "l.json").is_file()


def test_optimizers_and_adam_bias_correction(runner, tmp_path):
    out = _ok(runner.invoke(cli, ["experiment", "optimizers", "--epochs", "1", "-q"]))
    assert "Adam 1e-3 (paper)" in out and "signSGD" in out
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
])
def test_user_errors_are_one_line_with_exit_code_2(runner, args, message):
    result = runner.invoke(cli, ["experiment", *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
