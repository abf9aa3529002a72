"""The papers' experiments: quick modes reproduce the papers' qualitative results.

Full protocols (minutes each) are marked slow; run them with ``pytest -m slow``.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

import gradgraph as gg
from gradgraph import optim
from gradgraph.examples import mlp_text
from gradgraph.experiments import (
    adam_bias,
    capacity,
    landscape,
    optimizers,
    random_labels,
    vanishing,
)
from gradgraph.experiments.common import init_params, new_figure, rng_for


def _png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _json_roundtrip(result, tmp_path):
    path = tmp_path / "result.json"
    result.save_json(path)
    data = json.loads(path.read_text(encoding="utf-8"))  # strict JSON: no NaN tokens
    assert data["experiment"] == result.name
    # the verdict travels with the numbers, and the table ends with it
    assert (data["reproduced"], data["reason"]) == result.verdict()
    assert result.table().splitlines()[-1].startswith("Reproduced: ")
    return data


# --------------------------------------------------------------------------------------
# shared machinery
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("scheme", ["default", "glorot", "he"])
def test_init_params_follows_the_named_scheme(scheme):
    graph = gg.Graph.from_text(mlp_text([300, 200, 10], activation="relu"))
    params = init_params(graph, scheme, np.random.default_rng(0))
    W, b = params["W^(1)"], params["b^(1)"]
    assert W.shape == (200, 300) and b.shape == (200,)
    if scheme == "default":  # PyTorch nn.Linear: U(±1/√fan_in) for W and b
        bound = 1 / math.sqrt(300)
        assert np.abs(W).max() <= bound and np.abs(W).max() > 0.95 * bound
        assert np.abs(b).max() <= bound and np.any(b != 0)
    elif scheme == "glorot":
        bound = math.sqrt(6 / (300 + 200))
        assert np.abs(W).max() <= bound and np.abs(W).max() > 0.95 * bound
        assert not np.any(b)
    else:
        assert W.std() == pytest.approx(math.sqrt(2 / 300), rel=0.02)
        assert not np.any(b)


def test_init_params_rejects_an_unknown_scheme():
    graph = gg.Graph.from_text(mlp_text([4, 3, 2]))
    with pytest.raises(gg.TrainingError, match="unknown initialisation"):
        init_params(graph, "lecun")


def test_init_params_initialises_every_layer_op_the_registry_names():
    # matvec (W x, no bias) is a layer op too: its entry names the weight argument.
    graph = gg.Graph.from_text("x: input(3)\nV: param(2, 3)\nW: param(4, 2)\nc: param(4)\n"
                               "h = V x\nz = W h + c\ny: input(4)\nC = sum((z - y)^2)")
    params = init_params(graph, "glorot", np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == {"V": (2, 3), "W": (4, 2), "c": (4,)}
    assert np.abs(params["V"]).max() <= math.sqrt(6 / 5) and np.any(params["V"])


def test_seeded_streams_are_reproducible_and_independent():
    assert rng_for(3, 1).random() == rng_for(3, 1).random()
    assert rng_for(3, 1).random() != rng_for(3, 2).random()


def test_filter_normalised_direction_matches_each_rows_norm_and_zeroes_biases():
    rng = np.random.default_rng(0)
    theta = {"W": rng.normal(size=(5, 7)) * np.arange(1, 6)[:, None], "b": rng.normal(size=5)}
    d = landscape.filter_normalized_direction(theta, np.random.default_rng(1))
    np.testing.assert_allclose(np.linalg.norm(d["W"], axis=1), np.linalg.norm(theta["W"], axis=1))
    assert not np.any(d["b"])
    # rows keep a random direction, not θ's own
    assert abs(np.sum(d["W"][0] * theta["W"][0])) < np.linalg.norm(theta["W"][0]) ** 2


def test_weight_decay_term_has_gradient_lambda_theta():
    text = mlp_text([4, 3, 2], activation="relu")
    plain = gg.Graph.from_text(text)
    decayed = gg.Graph.from_text(landscape.with_weight_decay(text, plain.params, 0.01))
    rng = np.random.default_rng(0)
    values = {n: rng.normal(size=plain[n].shape) for n in plain.params}
    values.update(x=rng.normal(size=(6, 4)), y=np.eye(2)[rng.integers(0, 2, 6)])
    loss0, g0 = gg.compile(plain).step(values)
    loss1, g1 = gg.compile(decayed).step(values)
    assert loss1 - loss0 == pytest.approx(0.005 * sum(np.sum(values[p] ** 2) for p in g0))
    for name in g0:
        np.testing.assert_allclose(g1[name] - g0[name], 0.01 * values[name], atol=1e-12)


def test_multistep_schedule_divides_by_ten_at_each_milestone():
    schedule = landscape._MultiStep([3, 5])
    assert [schedule(k) for k in range(7)] == pytest.approx([1, 1, 1, 0.1, 0.1, 0.01, 0.01])
    opt = optim.SGD(lr=0.02, momentum=0.9, schedule=schedule)
    assert opt.lr_at(4) == pytest.approx(0.002)


def test_vae_graph_gradient_matches_finite_differences():
    graph = adam_bias.vae_graph()
    rng = np.random.default_rng(0)
    values = {n: rng.normal(size=graph[n].shape) * 0.05 for n in graph.params}
    values.update(x=rng.random((5, 64)), eps=rng.normal(size=(5, 50)))
    compiled = gg.compile(graph)
    _, grads = compiled.step(values)
    for name, idx in (("b_mu", (1,)), ("b_lv", (2,)), ("W^(1)", (3, 4)), ("b^(3)", (0,))):
        h = 1e-6
        up = {k: np.array(v, copy=True) for k, v in values.items()}
        up[name][idx] += h
        down = {k: np.array(v, copy=True) for k, v in values.items()}
        down[name][idx] -= h
        numeric = (compiled.step(up)[0] - compiled.step(down)[0]) / (2 * h)
        assert grads[name][idx] == pytest.approx(numeric, rel=1e-5, abs=1e-8)


# --------------------------------------------------------------------------------------
# quick modes: the qualitative results
# --------------------------------------------------------------------------------------
def test_vanishing_sigmoid_decays_while_relu_he_stays_flat(tmp_path):
    result = vanishing.run(quick=True)
    for init in ("default", "glorot", "he"):
        assert result.ratio(f"sigmoid/{init}") < 1e-3
    assert 0.1 < result.ratio("relu/he") < 10
    assert result.verdict()[0] is True
    assert len(result.norms["relu/he"]) == result.depth + 1
    assert "first/last" in result.table()
    result.plot(tmp_path / "v.png")
    assert _png(tmp_path / "v.png")
    assert _json_roundtrip(result, tmp_path)["depth"] == 10


def test_random_labels_are_memorised_and_test_accuracy_falls_to_chance(tmp_path):
    # tiny: 400 images (the quick mode's 1000 take three times as long)
    result = random_labels.run(quick=True, corruptions=(0.0, 1.0), train_size=400)
    assert result.verdict()[0] is True, result.verdict()
    clean, random = result.summary()
    assert random["p"] == 1.0 and random["all_fitted"]
    assert random["train_accuracy"] >= 0.99
    assert random["test_accuracy"] <= 0.20
    assert clean["test_accuracy"] >= 0.90
    # random labels take longer to fit than true ones (Zhang: a small constant factor)
    assert random["epochs_to_fit"][0] > clean["epochs_to_fit"][0]
    result.plot(tmp_path / "z.svg")
    assert (tmp_path / "z.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    data = _json_roundtrip(result, tmp_path)
    assert [r["p"] for r in data["runs"]] == [0.0, 1.0]


def test_large_batch_minimum_is_sharper_than_small_batch():
    # tiny: 400 images, batch 16 vs 200 (the quick mode: all 1527, 16 vs 512)
    result = landscape.run(quick=True, train_size=400, batch_sizes=(16, 200))
    assert result.sharpness(200) > result.sharpness(16) > 0
    for m in result.minima:  # both trained to a minimum, not stopped on the way down
        assert m["train_loss"] < landscape.TARGET_LOSS and m["converged"].startswith("loss <")
    small, large = result.summary()
    assert small["batch_size"] == 16 and small["train_accuracy"] == 1.0
    assert large["epochs_trained"][0] > 5 * small["epochs_trained"][0]
    curve = np.asarray(small["curve"])
    assert np.argmin(curve) == len(curve) // 2  # the trained θ is the minimum of its slice
    assert result.verdict()[0] is True, result.verdict()


def test_until_minimum_then_decays_the_lr_and_stops_at_twice_the_epoch():
    graph = gg.Graph.from_text(mlp_text([64, 16, 10], activation="relu"))
    data = landscape.digits()
    train = {"x": data.X_train[:200], "y": data.Y_train[:200]}
    _, _, settled = landscape._train(graph, train, landscape._loss_fn(graph, train), 16, 0,
                                     100, 0.02, False, True, lambda message: None)
    e = int(re.search(r"loss < 0.01 at epoch (\d+)", settled["converged"]).group(1))
    assert settled["epochs_trained"] == 2 * e
    assert settled["converged"].endswith(f"at epochs {e}/{int(1.5 * e)}/{int(1.8 * e)}")
    # the optimizer reads the schedule at every step, so moving the milestones takes effect
    schedule = landscape._MultiStep([])
    opt = optim.SGD(lr=0.02, momentum=0.9, schedule=schedule)
    assert opt.lr_at(6) == pytest.approx(0.02)
    schedule.milestones = [5]
    assert opt.lr_at(6) == pytest.approx(0.002)


def test_converged_means_a_low_loss_or_a_plateau():
    assert landscape.converged([1.0, 0.5, 0.009], 5).startswith("loss < 0.01")
    assert landscape.converged([0.1] * 3, 5) is None  # too short to call a plateau
    assert landscape.converged([0.2] + [0.1] * 6, 5).startswith("plateaued")
    assert landscape.converged([0.2, 0.19, 0.18, 0.17, 0.16, 0.15, 0.14], 5) is None


def test_landscape_surfaces_trajectory_and_plot(tmp_path):
    result = landscape.run(quick=True, dims=2, trajectory=True, epochs=3, directions=1,
                           points=5, grid=5, batch_sizes=(64, 512), train_size=300)
    assert len(result.surfaces) == 2 and len(result.trajectories) == 2
    assert np.asarray(result.surfaces[0]["losses"]).shape == (5, 5)
    path = np.asarray(result.trajectories[0]["path"])
    assert path.shape == (4, 2)  # the start and each of 3 epochs
    np.testing.assert_allclose(path[-1], 0, atol=1e-12)  # coordinates relative to final θ
    result.plot(tmp_path / "l.png")
    assert _png(tmp_path / "l.png")
    _json_roundtrip(result, tmp_path)


def test_adam_without_bias_correction_is_worse_at_beta2_near_one(tmp_path):
    result = adam_bias.run(quick=True, beta_2s=(0.9999,), lrs=(0.01,), epochs=3)
    corrected = result.loss(0.9, 0.9999, 0.01, True)
    uncorrected = result.loss(0.9, 0.9999, 0.01, False)
    assert math.isfinite(corrected)
    assert not math.isfinite(uncorrected) or uncorrected > corrected + 10
    assert result.verdict()[0] is True, result.verdict()


def test_adam_ablation_records_divergence_as_nan_and_json_null(tmp_path):
    result = adam_bias.run(quick=True, beta_2s=(0.9999,), lrs=(0.1,), epochs=1)
    assert math.isnan(result.loss(0.9, 0.9999, 0.1, False))
    diverged = [r for r in result.runs if not r["bias_correction"]][0]
    assert "not finite" in diverged["diverged"]
    assert "NaN" in result.table()
    data = _json_roundtrip(result, tmp_path)
    assert [r["loss"]["1"] for r in data["runs"] if not r["bias_correction"]] == [None]
    result.plot(tmp_path / "a.png")
    assert _png(tmp_path / "a.png")


def test_optimizer_race_table_is_complete(tmp_path):
    result = optimizers.run(quick=True, epochs=2)
    summary = result.summary()
    assert [s["optimizer"] for s in summary] == [label for label, *_ in optimizers.RACE]
    for s in summary:
        assert len(s["train_loss"]) == 2 and all(map(math.isfinite, s["train_loss"]))
        assert s["test_accuracy"][0] > 0.5 and not s["diverged"]
    table = result.table()
    assert all(label in table for label, *_ in optimizers.RACE)
    result.plot(tmp_path / "race.png")
    assert _png(tmp_path / "race.png")


def test_optimizer_race_table_has_one_format_per_column():
    def run(label: str, losses: list[float], acc: float) -> dict:
        return {"optimizer": label, "seed": 0, "train_loss": losses, "test_accuracy": acc,
                "diverged": None}

    result = optimizers.OptimizersResult(epochs=5, batch_size=32, seeds=[0], runs=[
        run("slow", [0.9, 0.5, 0.4, 0.3, 0.2], 0.9),
        run("fast", [0.086, 0.01, 0.001, 1e-4, 5.4e-5], 0.97),
    ])
    lines = result.table_body().splitlines()
    assert lines[1].split("  ")[1:4] == ["train CE, epoch 1", "train CE, epoch 5", "test acc"]
    rows = [line.split() for line in lines[3:]]
    assert [r[1:] for r in rows] == [["0.900", "2.00e-01", "0.900"],
                                     ["0.086", "5.40e-05", "0.970"]]
    assert len({len(line) for line in lines[1:]}) == 1  # right-aligned columns


def test_vanishing_table_and_plot_use_one_name_per_init():
    result = vanishing.VanishingResult(depth=1, width=2, examples=3, seeds=[0], norms={
        "sigmoid/default": [1.0, 2.0], "relu/he": [1.0, 1.0]})
    table = result.table()
    assert "sigmoid / PyTorch-default" in table and "relu / He" in table
    assert " default" not in table.replace("PyTorch-default", "")
    fig = new_figure(result.figsize)
    result.draw(fig)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["sigmoid, PyTorch-default init", "relu, He init"]


def test_experiments_are_reproducible():
    a = optimizers.run(quick=True, epochs=1, only=["signSGD"]).to_dict()
    b = optimizers.run(quick=True, epochs=1, only=["signSGD"]).to_dict()
    a.pop("seconds"), b.pop("seconds")
    assert a == b


def test_progress_is_reported_and_nothing_printed(capsys):
    seen = []
    vanishing.run(quick=True, seeds=1, progress=lambda d, t, m: seen.append((d, t, m)))
    assert seen[0][0] == 0 and seen[-1][:2] == (6, 6)
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("call, message", [
    (lambda: vanishing.run(activations=("swish",)), "unknown activation"),
    (lambda: random_labels.run(corruptions=(1.5,)), "corruption"),
    (lambda: random_labels.run(optimizer="lbfgs"), "unknown optimizer"),
    (lambda: landscape.run(dims=3), "dims"),
    (lambda: optimizers.run(only=["nothing"]), "no optimizer"),
    (lambda: capacity.run(widths=(0, 4)), "widths"),
    (lambda: capacity.run(l2s=(-1.0,)), "L2"),
    (lambda: capacity.run(label_noise=1.5), "label noise"),
    (lambda: capacity.run(train_size=5000), "train size"),
])
def test_bad_arguments_raise_training_errors(call, message):
    with pytest.raises(gg.TrainingError, match=message):
        call()


# --------------------------------------------------------------------------------------
# under/over-fitting
# --------------------------------------------------------------------------------------
def test_capacity_shows_underfitting_an_optimum_and_overfitting(tmp_path):
    # tiny: 3 widths, 2 strengths, 60 epochs (quick: 8 widths, 3 strengths, 100 epochs)
    # (too short for the verdict's margin in epochs: the slow test below checks it)
    result = capacity.run(quick=True, widths=(2, 16, 128), l2s=(0.0, 0.03), epochs=60)
    o = result.optimum(0.0)
    assert o["width"] == 16 and 1 < o["epochs"] < 60
    val = result.grid("val_error", 0.0)
    margin = result.margin(o["val_error"])  # two standard errors: 0.03 here
    assert capacity._u_shaped(val[:, o["epochs"] - 1], 1, margin)  # U in width, 16 inside
    assert val[1, -1] > o["val_error"] + 0.02  # and 16 units overfit when trained longer
    assert capacity._falls(result.curve(0.0, 16)["train_error"])
    train = result.grid("train_error", 0.0)
    assert train[2, -1] < 0.05 < train[0, -1]  # the wide net memorises the noisy labels
    # chosen on validation, reported on test: a held-out number close to it
    assert abs(o["test_error"] - o["val_error"]) < 0.1
    best = result.optimum()
    assert best["val_error"] <= o["val_error"] and best["l2"] in (0.0, 0.03)
    # L2 keeps the wide net from fitting the noise: its training error stays near 20 %
    assert result.grid("train_error", 0.03)[2, -1] > 0.1
    assert "Optimum (chosen on validation)" in result.table()
    result.plot(tmp_path / "c.png")
    assert _png(tmp_path / "c.png")
    data = _json_roundtrip(result, tmp_path)
    assert len(data["curves"]) == 6
    assert len(data["curves"][0]["val_error"]) == 60


def test_capacity_split_keeps_validation_and_test_apart_and_noise_in_training_only():
    split = capacity._split(0, 300, 0.2)
    train, val = split["train"]["x"], split["val"]["x"]
    assert len(train) == 300 and len(val) == capacity.VALIDATION_SIZE
    rows = {r.tobytes() for r in train}
    assert not rows & {r.tobytes() for r in val}
    assert not rows & {r.tobytes() for r in split["test"]["x"]}
    data = capacity.digits()
    order = capacity.rng_for(0, 2).permutation(len(data.X_train))
    flipped = np.mean(split["train"]["y"].argmax(1) != data.y_train[order[:300]])
    assert 0.1 < flipped < 0.25  # p = 0.2, of which 1/10 land on the true class
    np.testing.assert_array_equal(split["val"]["y"].argmax(1),
                                  data.y_train[order[300:300 + capacity.VALIDATION_SIZE]])


def test_capacity_l2_term_is_on_the_weights_only():
    trained, plain = capacity._graphs(4, 0.01)
    assert trained.params == plain.params
    rng = np.random.default_rng(0)
    values = {n: rng.normal(size=plain[n].shape) for n in plain.params}
    values.update(x=rng.normal(size=(3, 64)), y=np.eye(10)[[1, 2, 3]])
    loss1, g1 = gg.compile(trained).step(values)
    loss0, g0 = gg.compile(plain).step(values)
    weights = sum(np.sum(values[w] ** 2) for w in ("W^(1)", "W^(2)"))
    assert loss1 - loss0 == pytest.approx(0.01 * weights)
    np.testing.assert_allclose(g1["W^(1)"] - g0["W^(1)"], 0.02 * values["W^(1)"], atol=1e-12)
    np.testing.assert_allclose(g1["b^(1)"], g0["b^(1)"])


def _capacity_result(val_by_width, val_by_epoch, train_by_width, l2s=(0.0,)):
    """A result whose λ = 0 grid is val_by_width at epoch 2 (the optimum's) and whose
    optimum's width follows val_by_epoch."""
    widths = list(range(1, len(val_by_width) + 1))
    best = int(np.argmin(val_by_width))
    curves = []
    for lam in l2s:
        for i, w in enumerate(widths):
            val = list(val_by_epoch) if i == best else [val_by_width[i] + 0.01] * len(
                val_by_epoch)
            val[1] = val_by_width[i]
            train = [train_by_width[i] + 0.1 * (len(val) - e) / len(val) for e in range(
                len(val))]
            curves.append({"l2": lam, "width": w, "val_error": val, "val_loss": val,
                           "train_error": train, "train_loss": train, "test_error": val})
    return capacity.CapacityResult(widths=widths, l2s=list(l2s), epochs=len(val_by_epoch),
                                   train_size=300, validation_size=500, test_size=270,
                                   label_noise=0.2, seeds=[0], curves=curves)


@pytest.mark.parametrize("by_width, by_epoch, expected", [
    ([0.8, 0.2, 0.1, 0.2], [0.3, 0.1, 0.2, 0.3], True),
    ([0.8, 0.2, 0.1, 0.12], [0.3, 0.1, 0.2, 0.3], False),  # flat on the overfitting side
    ([0.8, 0.2, 0.15, 0.1], [0.3, 0.1, 0.2, 0.3], False),  # minimum at the sweep's end
    ([0.8, 0.2, 0.1, 0.2], [0.3, 0.1, 0.11, 0.12], False),  # no overfitting in epochs
])
def test_capacity_verdict_needs_a_u_inside_the_sweep(by_width, by_epoch, expected):
    result = _capacity_result(by_width, by_epoch, [0.7, 0.3, 0.1, 0.0])
    assert result.verdict()[0] is expected, result.verdict()


def test_capacity_margin_is_two_standard_errors_of_the_validation_error():
    result = _capacity_result([0.8, 0.2, 0.1, 0.2], [0.3, 0.1, 0.2, 0.3], [0.7, 0.3, 0.1, 0])
    assert result.margin(0.1) == pytest.approx(2 * math.sqrt(0.09 / 500))
    result.seeds = [0, 1, 2]  # three splits' validation images
    assert result.margin(0.1) == pytest.approx(2 * math.sqrt(0.09 / 1500))
    assert result.margin(0.0) == pytest.approx(1 / 500)


def test_capacity_verdict_needs_falling_training_error_and_lambda_zero():
    rising = _capacity_result([0.8, 0.2, 0.1, 0.2], [0.3, 0.1, 0.2, 0.3], [0.1, 0.3, 0.5, 0.7])
    assert rising.verdict()[0] is False and "does not fall" in rising.verdict()[1]
    no_zero = _capacity_result([0.8, 0.2, 0.1, 0.2], [0.3, 0.1, 0.2, 0.3], [0.7, 0.3, 0.1, 0],
                               l2s=(0.01,))
    assert no_zero.verdict()[0] is None and "λ = 0" in no_zero.verdict()[1]
    assert "Reproduced: not judged" in no_zero.table()


def test_capacity_optimum_breaks_ties_on_validation_cross_entropy():
    result = _capacity_result([0.8, 0.1, 0.1, 0.2], [0.3, 0.1, 0.2, 0.3], [0.7, 0.3, 0.1, 0])
    result.curve(0.0, 3)["val_loss"][1] = 0.05  # same error as width 2, lower CE
    assert result.optimum(0.0)["width"] == 3


# --------------------------------------------------------------------------------------
# verdicts of the other experiments, on made-up results (each side of the line)
# --------------------------------------------------------------------------------------
def test_vanishing_verdict():
    norms = {"sigmoid/he": [1e-5] + [1.0] * 10, "relu/he": [0.3] + [1.0] * 10}
    result = vanishing.VanishingResult(depth=10, width=2, examples=3, seeds=[0], norms=norms)
    assert result.verdict()[0] is True
    norms["sigmoid/he"][0] = 0.1  # 0.79× per layer: not vanishing
    assert result.verdict()[0] is False
    del norms["relu/he"]
    assert result.verdict()[0] is None


def _labels_run(p, fit_epochs, test):
    return {"p": p, "seed": 0, "epochs_to_fit": fit_epochs, "train_accuracy": 1.0,
            "test_accuracy": test, "loss": [1.0], "accuracy": [1.0]}


@pytest.mark.parametrize("runs, expected", [
    ([_labels_run(0.0, 8, 0.98), _labels_run(0.5, 30, 0.6), _labels_run(1.0, 35, 0.1)], True),
    ([_labels_run(0.0, 8, 0.98), _labels_run(1.0, 35, 0.4)], False),  # not down to chance
    ([_labels_run(0.0, 40, 0.98), _labels_run(1.0, 35, 0.1)], False),  # noise fitted faster
    ([_labels_run(0.0, 8, 0.98), _labels_run(1.0, None, 0.1)], False),  # not fitted
    ([_labels_run(0.0, 8, 0.98), _labels_run(0.5, 30, 0.6)], None),  # no p = 1
])
def test_random_labels_verdict(runs, expected):
    result = random_labels.RandomLabelsResult(hidden=[4], optimizer="adam", train_size=10,
                                              test_size=10, max_epochs=50, runs=runs)
    assert result.verdict()[0] is expected, result.verdict()


def _minimum(bs, sharpness, loss=0.005, converged="loss < 0.01"):
    return {"batch_size": bs, "weight_decay": 0.0, "seed": 0, "sharpness": sharpness,
            "train_loss": loss, "train_accuracy": 1.0, "test_accuracy": 0.9,
            "weight_norm": 1.0, "curve": [0.0], "alphas": [0.0], "epochs_trained": 10,
            "converged": converged}


@pytest.mark.parametrize("minima, expected", [
    ([_minimum(16, 0.01), _minimum(512, 0.03)], True),
    ([_minimum(16, 0.01), _minimum(512, 0.011)], False),  # not sharper beyond noise
    ([_minimum(16, 0.01), _minimum(512, 0.03, 0.16, None)], False),  # not at a minimum
    ([_minimum(16, 0.01)], None),
])
def test_landscape_verdict(minima, expected):
    result = landscape.LandscapeResult(hidden=[4], epochs=10, lr=0.02, train_size=10,
                                       directions=1, minima=minima)
    assert result.verdict()[0] is expected, result.verdict()


def _adam_result(uncorrected_loss):
    runs = [{"beta_1": 0.9, "beta_2": 0.9999, "lr": 0.01, "bias_correction": bc,
             "loss": {"10": 27.0 if bc else uncorrected_loss}} for bc in (True, False)]
    return adam_bias.AdamBiasResult(epochs=10, batch_size=100, examples=10, runs=runs)


def test_adam_verdict():
    assert _adam_result(math.nan).verdict()[0] is True
    assert _adam_result(75.0).verdict()[0] is True
    assert _adam_result(27.5).verdict()[0] is False
    small = _adam_result(75.0)
    for r in small.runs:
        r["beta_2"] = 0.99
    assert small.verdict()[0] is None


def test_optimizer_verdict():
    def run(label, losses, diverged=None):
        return {"optimizer": label, "seed": 0, "train_loss": losses, "test_accuracy": 0.9,
                "diverged": diverged}

    runs = [run("SGD 0.01 (Keras default)", [1.6, 0.3]),
            run("Adam 0.01, β₂ 0.99 (slides)", [0.1, 0.01]),
            run("SGD 0.1 (slides)", [0.35, 0.04]), run("Momentum 0.9, lr 0.01", [0.35, 0.045])]
    result = optimizers.OptimizersResult(epochs=2, batch_size=32, seeds=[0], runs=runs)
    assert result.verdict()[0] is True
    runs[3]["train_loss"] = [0.35, 0.2]  # momentum no longer tracks SGD at ρ/(1 − μ)
    assert result.verdict()[0] is False
    assert optimizers.OptimizersResult(epochs=2, batch_size=32, seeds=[0],
                                       runs=runs[2:]).verdict()[0] is None


# --------------------------------------------------------------------------------------
# full protocols (each module's docstring): minutes each
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_full_vanishing_matches_the_reference_orders_of_magnitude():
    result = vanishing.run(quick=False)
    assert 1e-10 < result.ratio("sigmoid/default") < 1e-7  # reference 7e-9
    assert 1e-6 < result.ratio("sigmoid/he") < 1e-4  # reference 1e-5
    assert 0.5 < result.ratio("relu/glorot") < 3  # reference 1.6


@pytest.mark.slow
def test_full_random_labels_curve():
    result = random_labels.run(quick=False)
    summary = {s["p"]: s for s in result.summary()}
    assert all(s["all_fitted"] for s in summary.values())
    assert summary[0.0]["test_accuracy"] > 0.97  # reference 0.989
    assert summary[1.0]["test_accuracy"] < 0.15  # reference 0.088
    tests = [summary[p]["test_accuracy"] for p in sorted(summary)]
    assert tests == sorted(tests, reverse=True)


@pytest.mark.slow
def test_full_landscape_large_batch_sharper():
    result = landscape.run(quick=False, weight_decays=(0.0,))
    assert result.sharpness(512) > 2 * result.sharpness(16)  # reference 3-8×


@pytest.mark.slow
def test_full_optimizer_race_sgd_matches_reference():
    result = optimizers.run(quick=False)
    sgd = result.summary()[0]
    assert sgd["train_loss"][-1] == pytest.approx(0.041, abs=0.01)
    assert np.mean(sgd["test_accuracy"]) >= 0.96


@pytest.mark.slow
def test_full_adam_ablation_best_is_corrected():
    result = adam_bias.run(quick=False)
    finite = [(r["loss"]["100"], r["bias_correction"]) for r in result.runs
              if r["loss"]["100"] is not None and math.isfinite(r["loss"]["100"])]
    assert min(finite)[1] is True
    for b1 in (0.0, 0.9):
        for lr in (0.01, 0.1):
            uncorrected = result.loss(b1, 0.9999, lr, False)
            assert not math.isfinite(uncorrected) or uncorrected > result.loss(b1, 0.9999, lr,
                                                                                True)


@pytest.mark.slow
def test_quick_capacity_reproduces_the_u_curve():
    result = capacity.run(quick=True)
    assert result.verdict()[0] is True, result.verdict()


@pytest.mark.slow
def test_full_capacity_u_curve():
    result = capacity.run(quick=False)
    assert result.verdict()[0] is True, result.verdict()
    best = result.optimum()
    assert best["width"] not in (1, 256) and best["test_error"] < 0.2
