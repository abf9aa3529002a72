"""``gradgraph train`` through click's CliRunner."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from gradgraph.cli import cli
from gradgraph.nn import Sequential
from tests.test_cli_derive import REPO, help_examples, run_example


def run(runner: CliRunner, *args: str):  # noqa: ANN201
    return runner.invoke(cli, ["train", *args], catch_exceptions=False)


def test_the_deck_example_by_default(runner: CliRunner) -> None:
    result = run(runner)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("data: scikit-learn digits") and "1527 train, 270 test" in lines[0]
    epochs = [ln for ln in lines if ln.startswith("Epoch ")]
    assert len(epochs) == 15 and epochs[-1].startswith("Epoch 15/15 - ")
    assert re.search(r"loss: \d\.\d{4} - accuracy: \d\.\d{4} - val_loss: .* - val_accuracy: ",
                     epochs[0])
    m = re.match(r"test accuracy (\d\.\d{4}) \((\d+)/270\), test loss", result.stdout)
    assert m and float(m.group(1)) >= 0.96, result.stdout


def test_json_plot_and_save(runner: CliRunner, tmp_path) -> None:  # noqa: ANN001
    plot, save = tmp_path / "history.png", tmp_path / "model.npz"
    result = run(runner, "--optimizer", "adam", "--lr", "1e-3", "--l2", "1e-4", "--dropout",
                 "0.2", "--batchnorm", "--epochs", "3", "--plot", str(plot), "--save",
                 str(save), "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # --json: nothing but the document
    doc = json.loads(result.stdout)
    assert len(doc["history"]["val_accuracy"]) == 3 and doc["stopped"] is None
    assert 0 < doc["test"]["accuracy"] <= 1 and doc["saved"] == str(save)
    assert "Adam(lr=0.001" in doc["optimizer"] and "Dropout(0.2)" in doc["model"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = Sequential.load(save)
    assert "mu^(1)" in model.graph and "mask^(1)" in model.graph


def test_user_data(runner: CliRunner, tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    path = tmp_path / "data.npz"
    np.savez(path, X=X, y=y)
    result = run(runner, "--data", str(path), "--hidden", "8,8", "--activation", "relu",
                 "--epochs", "5", "--optimizer", "momentum", "--lr", "0.05", "--momentum", "0.8",
                 "-q")
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and "test accuracy" in result.stdout
    csv = tmp_path / "data.csv"
    csv.write_text("a,b,label\n1,2,0\n3,nan,1\n")
    result = run(runner, "--data", str(csv), "-q")
    assert result.exit_code == 2
    assert "row 3, column 2" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--dropout", "1.0"], "Dropout rate is the probability of dropping a unit"),
    (["--lr", "-1"], "lr must be > 0"),
    (["--batchnorm", "--batch-size", "1"], "at least 2 examples per batch"),
    (["--optimizer", "adamm"], "did you mean 'adam'"),
    (["--optimizer", "adam", "--momentum", "0.9"], "--momentum does not apply to adam"),
    (["--hidden", "100,x"], "--hidden takes layer sizes"),
    (["--activation", "sigmod"], "did you mean 'sigmoid'"),
    (["--l2", "-1"], "l2 must be a finite number >= 0"),
    (["--data", "missing.npz"], "no such data file"),
    (["--data", "/dev/zero"], "/dev/zero: is not a regular file"),
    (["--hidden", "100000,100000"], "parameters; the limit is 50,000,000"),
    (["--plot", "out.txt"], "--plot needs a .png, .svg or .pdf"),
    (["--save", "model.pkl"], "--save needs a .npz file name"),
    (["--test-size", "0.99"], "--test-size 0.99 leaves too little to train on; use at most 0.9"),
])
def test_one_line_errors(runner: CliRunner, args: list[str], message: str) -> None:
    result = run(runner, *args, "-q")
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def output_cases(tmp_path):  # noqa: ANN001, ANN201
    (tmp_path / "plain").write_text("x")
    (tmp_path / "m.npz.json").mkdir()
    return [
        (["--save", "/proc/m.npz"], "--save: cannot write '/proc/m.npz': folder '/proc' "
                                    "does not accept new files"),
        (["--plot", "/proc/x.png"], "--plot: cannot write '/proc/x.png'"),
        (["--save", f"{tmp_path}/plain/m.npz"], "plain' is not a folder"),
        (["--save", f"{tmp_path}/none/m.npz"], "none' does not exist"),
        (["--save", f"{tmp_path}/m.npz"], "m.npz.json': it is a folder"),
    ]


def test_output_paths_are_refused_before_any_work(runner: CliRunner, tmp_path) -> None:  # noqa: ANN001
    for args, message in output_cases(tmp_path):
        result = run(runner, *args, "--epochs", "1")  # not quiet: no "data:" line yet
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"Error: {args[0]}: ") and message in result.stderr
        assert result.stderr.count("\n") == 1  # the error only: no data or model lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz.json", "plain"]


def test_divergence_is_reported_and_nothing_is_saved(runner: CliRunner, tmp_path) -> None:  # noqa: ANN001
    save = tmp_path / "model.npz"
    save.write_bytes(b"the previous checkpoint")
    result = run(runner, "--lr", "1e6", "--activation", "relu", "--save", str(save), "-q")
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert re.match(r"Error: training stopped at epoch 1, step \d+: the (gradient|update|loss)"
                    r".* \(learning rate 1e\+06\)", line), line
    assert line.endswith("model not saved")
    assert save.read_bytes() == b"the previous checkpoint"


def test_a_test_size_that_leaves_too_few_training_examples(runner: CliRunner,
                                                           tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 3))
    path = tmp_path / "small.npz"
    np.savez(path, X=X, y=(X[:, 0] > 0).astype(int))
    result = run(runner, "--data", str(path), "--test-size", "0.6", "-q")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "--test-size 0.6 leaves 8 training examples; at least 10 are needed" in result.stderr
    assert run(runner, "--data", str(path), "--test-size", "0.5", "--epochs", "1",
               "-q").exit_code == 0


def test_features_too_large_to_standardise(runner: CliRunner, tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    path = tmp_path / "huge.npz"
    np.savez(path, X=rng.random((40, 3)) * 1e300, y=np.arange(40) % 2)
    result = run(runner, "--data", str(path), "-q")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "features too large to standardise (up to 9.97e+299); rescale" in result.stderr


def test_help(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["train", "--help"])
    assert result.exit_code == 0 and "--batchnorm" in result.output
    assert "deck's Keras example" in result.output
    for placeholder in ("--plot FILE", "--save FILE", "--data FILE"):
        assert placeholder in result.output


@pytest.mark.parametrize("line", help_examples("train"))
def test_every_help_example_runs(line: str, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    result = run_example(line, tmp_path, monkeypatch)
    assert result.stdout.startswith("test accuracy")
    if "--save" in line:
        assert (tmp_path / "model.npz").is_file() and (tmp_path / "history.png").is_file()


# --- optimizer settings, schedules, validation split (the CLI has what the API has) ---
MOONS = str(REPO / "lessons" / "data" / "two_moons.csv")


@pytest.mark.parametrize(("args", "message"), [
    (["--optimizer", "sgd", "--beta-1", "0.8"], "--beta-1 does not apply to sgd (it takes "
                                                "--lr, --momentum, --nesterov, --schedule)"),
    (["--optimizer", "momentum", "--nesterov"], "--nesterov does not apply to momentum"),
    (["--optimizer", "adam", "--weight-decay", "0.1"], "--weight-decay does not apply to adam"),
    (["--optimizer", "adamw", "--no-bias-correction"], "--no-bias-correction does not apply "
                                                        "to adamw"),
    (["--optimizer", "adam", "--rho", "0.9"], "--rho does not apply to adam"),
    (["--optimizer", "sign", "--epsilon", "1e-8"], "--epsilon does not apply to sign"),
    (["--optimizer", "adam", "--beta-1", "1.5"], "--beta-1 must be in [0, 1), got 1.5"),
    (["--optimizer", "rmsprop", "--epsilon", "nan"], "--epsilon must be finite"),
    (["--optimizer", "adamw", "--weight-decay", "-1"], "--weight-decay must be >= 0"),
    (["--schedule", "stp"], "--schedule: unknown schedule 'stp'"),
    (["--schedule", "stp"], "did you mean 'step'?"),
    (["--schedule", "step"], "--schedule: schedule step: "),
    (["--schedule", "step:every=0"], "--schedule: every must be an integer >= 1, got 0"),
    (["--schedule", "step:every=1.5"], "--schedule: every must be an integer >= 1, got 1.5"),
    (["--schedule", "step:rate=1"], "schedule step has no setting 'rate' (it takes: every, "
                                    "factor)"),
    (["--schedule", "cosine:total=x"], "--schedule: total needs a number, got 'x'"),
    (["--schedule", "cosine:total"], "--schedule: settings are KEY=VALUE"),
    (["--schedule", "__import__('os'):x=1"], "--schedule: unknown schedule"),
    (["--data", MOONS, "--validation-split", "0.95"], "--validation-split 0.95 leaves 8 "
                                                       "training examples"),
])
def test_optimizer_setting_errors_are_one_line(runner: CliRunner, args: list[str],
                                               message: str) -> None:
    result = run(runner, *args, "-q")
    assert result.exit_code == 2, result.output
    assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output


def test_the_help_names_exactly_the_optimizers_that_take_each_setting() -> None:
    from gradgraph import optim
    from gradgraph.commands.train import SETTING_OPTIONS

    for option, setting, _, kwargs in SETTING_OPTIONS:
        named = re.search(r"\(([a-z, ]+)\)\.$", kwargs["help"]).group(1).split(", ")
        takers = [n for n in optim.names() if setting in optim.get_class(n).settings]
        assert sorted(named) == sorted(takers), option


def test_every_setting_and_the_schedule_reach_the_optimizer(runner: CliRunner) -> None:
    cases = [
        (["--optimizer", "adam", "--beta-1", "0.8", "--beta-2", "0.99", "--epsilon", "1e-7",
          "--no-bias-correction", "--schedule", "step:every=20,factor=0.5"],
         "Adam(lr=0.001, beta_1=0.8, beta_2=0.99, epsilon=1e-07, bias_correction=False, "
         "schedule=StepDecay(every=20, factor=0.5))"),
        (["--optimizer", "rmsprop", "--rho", "0.95", "--eps-placement", "pytorch",
          "--centered", "--schedule", "inverse-time:decay=0.01"],
         "RMSprop(lr=0.001, rho=0.95, epsilon=1e-07, eps_placement='pytorch', centered=True, "
         "schedule=InverseTime(decay=0.01))"),
        (["--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.5", "--nesterov",
          "--schedule", "linear:tau=10,floor=0.1"],
         "SGD(lr=0.05, momentum=0.5, nesterov=True, schedule=LinearToFloor(tau=10, floor=0.1))"),
        (["--optimizer", "adamw", "--weight-decay", "0.05", "--schedule", "exponential:rate=0.01"],
         "weight_decay=0.05, schedule=Exponential(rate=0.01))"),
        (["--optimizer", "adagrad", "--initial-accumulator", "0.1", "--schedule", "constant"],
         "Adagrad(lr=0.01, epsilon=1e-10, initial_accumulator=0.1, schedule=Constant())"),
        (["--optimizer", "adamax", "--beta-2", "0.9", "--schedule", "cosine:total=30"],
         "AdaMax(lr=0.002, beta_1=0.9, beta_2=0.9, schedule=Cosine(total=30, floor=0.0))"),
    ]
    for args, want in cases:
        result = run(runner, "--data", MOONS, "--hidden", "4", "--epochs", "1", "--json", *args)
        assert result.exit_code == 0, result.output
        assert want in json.loads(result.stdout)["optimizer"]


def test_validation_split_is_carved_from_the_training_data(runner: CliRunner) -> None:
    result = run(runner, "--data", MOONS, "--hidden", "8", "--epochs", "3",
                 "--validation-split", "0.25")
    assert result.exit_code == 0, result.output
    assert "two_moons.csv (2 features, 2 classes): 127 train, 43 validation, 30 test" \
        in result.stderr
    epochs = [ln for ln in result.stderr.splitlines() if ln.startswith("Epoch ")]
    assert len(epochs) == 3 and "val_loss: " in epochs[0] and "val_accuracy: " in epochs[0]
    doc = json.loads(run(runner, "--data", MOONS, "--hidden", "8", "--epochs", "3",
                         "--validation-split", "0.25", "--json").stdout)
    assert doc["validation"] == {"examples": 43, "of": "training data"}
    assert len(doc["history"]["val_loss"]) == 3
    assert doc["history"]["val_loss"][-1] != doc["test"]["loss"]  # not the test set


def test_the_validation_rows_are_neither_training_nor_test_rows() -> None:
    from gradgraph.commands.train import _load
    from gradgraph.data import split_validation

    X, Y, Xt, _, _ = _load(MOONS, 0.15, 37)
    Xtr, _, Xv, _ = split_validation(X, Y, 0.25, 37)
    rows = [{tuple(r) for r in a} for a in (Xtr, Xv, Xt)]
    assert (len(rows[0]), len(rows[1]), len(rows[2])) == (127, 43, 30)
    assert not (rows[0] & rows[1]) and not (rows[1] & rows[2]) and not (rows[0] & rows[2])


def test_the_shipped_csv_is_what_the_script_makes(tmp_path) -> None:  # noqa: ANN001
    import subprocess
    import sys

    from gradgraph.data import load_arrays

    out = tmp_path / "moons.csv"
    subprocess.run([sys.executable, str(REPO / "scripts" / "make_two_moons.py"), str(out)],
                   check=True)
    assert out.read_bytes() == (REPO / "lessons" / "data" / "two_moons.csv").read_bytes()
    X, y = load_arrays(out)
    assert X.shape == (200, 2) and np.bincount(y).tolist() == [100, 100]
    assert out.stat().st_size < 5000


def test_dtype_float32_by_default_float64_on_request(runner: CliRunner) -> None:
    docs = {}
    for extra in ([], ["--dtype", "float64"]):
        result = run(runner, "--data", MOONS, "--hidden", "8", "--epochs", "3", "--json", *extra)
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        docs[doc["dtype"]] = doc["history"]["loss"]
    assert set(docs) == {"float32", "float64"}
    np.testing.assert_allclose(docs["float32"], docs["float64"], rtol=1e-5)
    assert docs["float32"] != docs["float64"]  # really computed in different precisions
    result = run(runner, "--dtype", "float16", "-q")
    assert result.exit_code == 2 and "Traceback" not in result.output
