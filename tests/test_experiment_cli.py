"""``gradgraph experiment …``: quick modes end to end, outputs, one-line errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gradgraph.cli import cli


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
    assert "sigmoid / he" in out and "first/last" in out
    assert plot.read_bytes()[:4] == b"\x89PNG"
    data = json.loads((tmp_path / "vanishing.json").read_text(encoding="utf-8"))
    assert data["experiment"] == "vanishing" and data["depth"] == 6
    assert len(data["norms"]["relu/he"]) == 7


def test_progress_goes_to_stderr_and_quiet_silences_it(runner):
    loud = runner.invoke(cli, ["experiment", "vanishing", "--depth", "3"])
    assert "[0/" in loud.stderr and "[0/" not in loud.stdout
    quiet = runner.invoke(cli, ["experiment", "vanishing", "--depth", "3", "--quiet"])
    assert quiet.stderr == "" and "first/last" in quiet.stdout


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
