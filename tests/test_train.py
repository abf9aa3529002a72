"""fit/evaluate: the deck's example, a hand-written numpy reference, stops and callbacks."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradgraph as gg
from gradgraph import TrainingError, optim, regularize
from gradgraph.data import load_digits_split
from gradgraph.nn import Activation, BatchNormalization, Dense, Sequential
from gradgraph.train import (
    Callback,
    EarlyStopping,
    History,
    NonFiniteError,
    ProgressLogger,
    evaluate,
    fit,
)


@pytest.fixture(scope="module")
def digits():  # noqa: ANN201
    return load_digits_split()


# --- the deck's Keras example ---------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_deck_example_reaches_96_percent(digits, seed: int) -> None:  # noqa: ANN001
    model = Sequential([Dense(100, input_dim=64), Activation("tanh"), Dense(10),
                        Activation("softmax")], seed=seed)
    model.compile(optimizer=optim.SGD(lr=0.1), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(digits.X_train, digits.Y_train, epochs=15, batch_size=32,
                        validation_data=(digits.X_test, digits.Y_test), seed=seed)
    loss, acc = model.evaluate(digits.X_test, digits.Y_test)
    assert acc >= 0.96, acc
    assert acc == history.history["val_accuracy"][-1]
    assert history.history["accuracy"][-1] > 0.99  # the reference: 99.6–99.8 %
    assert 0.05 < loss < 0.15  # the reference: ≈ 0.086


# --- an independent numpy reference: 100 steps ----------------------------------------

N, H, K, BATCH, EPOCHS = 160, 16, 10, 16, 10  # 10 steps an epoch, 100 steps


def small_problem(digits):  # noqa: ANN001, ANN201
    X, Y = digits.X_train[:N], digits.Y_train[:N]
    rng = np.random.default_rng(5)
    lim1, lim2 = np.sqrt(6 / (64 + H)), np.sqrt(6 / (H + K))
    init = {"W^(1)": rng.uniform(-lim1, lim1, (H, 64)), "b^(1)": 0.1 * rng.normal(size=H),
            "W^(2)": rng.uniform(-lim2, lim2, (K, H)), "b^(2)": 0.1 * rng.normal(size=K)}
    return X, Y, init


def reference_grads(p: dict, x: np.ndarray, y: np.ndarray, l1: float = 0.0, l2: float = 0.0,
                    mask: np.ndarray | None = None, rate: float = 0.0) -> dict:
    """Forward and backward of tanh → softmax cross-entropy, by hand."""
    m = len(x)
    a1 = np.tanh(x @ p["W^(1)"].T + p["b^(1)"])
    d1 = a1 * mask / (1 - rate) if mask is not None else a1
    z2 = d1 @ p["W^(2)"].T + p["b^(2)"]
    e = np.exp(z2 - z2.max(1, keepdims=True))
    dz2 = (e / e.sum(1, keepdims=True) - y) / m
    dd1 = dz2 @ p["W^(2)"]
    da1 = dd1 * mask / (1 - rate) if mask is not None else dd1
    dz1 = da1 * (1 - a1**2)
    g = {"W^(1)": dz1.T @ x, "b^(1)": dz1.sum(0), "W^(2)": dz2.T @ d1, "b^(2)": dz2.sum(0)}
    for w in ("W^(1)", "W^(2)"):
        g[w] = g[w] + 2 * l2 * p[w] + l1 * np.sign(p[w])
    return g


def reference_update(name: str, hyper: dict):  # noqa: ANN201
    """Each optimizer's rule written out from its paper, one closure per run."""
    state: dict = {}

    def step(p: dict, g: dict, t: int) -> None:
        lr = hyper["lr"] / (1 + hyper.get("decay", 0.0) * (t - 1))
        for k in p:
            s = state.setdefault(k, {"v": np.zeros_like(p[k]), "m": np.zeros_like(p[k]),
                                     "u": np.zeros_like(p[k]), "gbar": np.zeros_like(p[k])})
            gk = g[k]
            if name == "sgd":
                p[k] = p[k] - lr * gk
            elif name == "momentum":
                s["v"] = hyper["mu"] * s["v"] - lr * gk
                p[k] = p[k] + s["v"]
            elif name == "nesterov":
                s["v"] = hyper["mu"] * s["v"] - lr * gk
                p[k] = p[k] + hyper["mu"] * s["v"] - lr * gk
            elif name == "sign":
                p[k] = p[k] - lr * np.sign(gk)
            elif name == "adagrad":
                s["v"] = s["v"] + gk**2
                p[k] = p[k] - lr * gk / (np.sqrt(s["v"]) + hyper["eps"])
            elif name.startswith("rmsprop"):
                rho = hyper["rho"]
                s["v"] = rho * s["v"] + (1 - rho) * gk**2
                r = s["v"]
                if name == "rmsprop_centered":
                    s["gbar"] = rho * s["gbar"] + (1 - rho) * gk
                    r = np.maximum(r - s["gbar"] ** 2, 0)
                if name == "rmsprop_torch":
                    p[k] = p[k] - lr * gk / (np.sqrt(r) + hyper["eps"])
                else:
                    p[k] = p[k] - lr * gk / np.sqrt(r + hyper["eps"])
            elif name in ("adam", "adam_nobc", "adamw"):
                b1, b2 = hyper["b1"], hyper["b2"]
                if name == "adamw":
                    p[k] = p[k] - lr * hyper["wd"] * p[k]
                s["m"] = b1 * s["m"] + (1 - b1) * gk
                s["v"] = b2 * s["v"] + (1 - b2) * gk**2
                mhat, vhat = s["m"], s["v"]
                if name != "adam_nobc":
                    mhat, vhat = s["m"] / (1 - b1**t), s["v"] / (1 - b2**t)
                p[k] = p[k] - lr * mhat / (np.sqrt(vhat) + hyper["eps"])
            elif name == "adamax":
                b1, b2 = hyper["b1"], hyper["b2"]
                s["m"] = b1 * s["m"] + (1 - b1) * gk
                s["u"] = np.maximum(b2 * s["u"], np.abs(gk))
                ratio = np.divide(s["m"], s["u"], out=np.zeros_like(gk), where=s["u"] != 0)
                p[k] = p[k] - lr / (1 - b1**t) * ratio
            else:  # pragma: no cover
                raise AssertionError(name)

    return step


def reference_fit(init: dict, X: np.ndarray, Y: np.ndarray, update, seed: int,  # noqa: ANN001
                  masks: list | None = None, rate: float = 0.0, **reg: float) -> dict:
    p = {k: v.copy() for k, v in init.items()}
    rng = np.random.default_rng(seed)
    t = 0
    for _ in range(EPOCHS):
        order = rng.permutation(len(X))
        for start in range(0, len(X), BATCH):
            idx = order[start:start + BATCH]
            mask = masks[t] if masks is not None else None
            t += 1
            update(p, reference_grads(p, X[idx], Y[idx], mask=mask, rate=rate, **reg), t)
    return p


OPTIMIZERS = [
    ("sgd", optim.SGD(lr=0.1), {"lr": 0.1}),
    ("sgd", optim.SGD(lr=0.2, schedule=optim.InverseTime(0.05)), {"lr": 0.2, "decay": 0.05}),
    ("momentum", optim.Momentum(lr=0.02, momentum=0.9), {"lr": 0.02, "mu": 0.9}),
    ("nesterov", optim.Nesterov(lr=0.02, momentum=0.9), {"lr": 0.02, "mu": 0.9}),
    ("sign", optim.Sign(lr=1e-3), {"lr": 1e-3}),
    ("adagrad", optim.Adagrad(lr=0.05), {"lr": 0.05, "eps": 1e-10}),
    ("rmsprop", optim.RMSprop(lr=1e-3), {"lr": 1e-3, "rho": 0.9, "eps": 1e-7}),
    ("rmsprop_torch", optim.RMSprop(lr=1e-3, rho=0.99, epsilon=1e-8, eps_placement="pytorch"),
     {"lr": 1e-3, "rho": 0.99, "eps": 1e-8}),
    ("rmsprop_centered", optim.RMSprop(lr=1e-3, centered=True),
     {"lr": 1e-3, "rho": 0.9, "eps": 1e-7}),
    ("adam", optim.Adam(lr=1e-2), {"lr": 1e-2, "b1": 0.9, "b2": 0.999, "eps": 1e-8}),
    ("adam_nobc", optim.Adam(lr=1e-3, bias_correction=False),
     {"lr": 1e-3, "b1": 0.9, "b2": 0.999, "eps": 1e-8}),
    ("adamax", optim.AdaMax(), {"lr": 2e-3, "b1": 0.9, "b2": 0.999}),
    ("adamw", optim.AdamW(lr=1e-2, weight_decay=0.1),
     {"lr": 1e-2, "b1": 0.9, "b2": 0.999, "eps": 1e-8, "wd": 0.1}),
]


def assert_close(params: dict, ref: dict) -> None:
    for k in ref:
        np.testing.assert_allclose(params[k], ref[k], rtol=0, atol=1e-10, err_msg=k)


@pytest.mark.parametrize(("name", "opt", "hyper"), OPTIMIZERS,
                         ids=[f"{o[0]}-{i}" for i, o in enumerate(OPTIMIZERS)])
def test_100_steps_match_numpy_for_every_optimizer(digits, name: str, opt, hyper) -> None:  # noqa: ANN001
    X, Y, init = small_problem(digits)
    params = {k: v.copy() for k, v in init.items()}
    history = fit(gg.examples.mlp([64, H, K]), params, {"x": X, "y": Y}, opt, EPOCHS, BATCH,
                  seed=3)
    assert history.stopped is None and opt.iterations == 100
    assert_close(params, reference_fit(init, X, Y, reference_update(name, hyper), seed=3))


def fresh(opt: optim.Optimizer) -> optim.Optimizer:
    """A new optimizer with the same settings (``settings`` lists the constructor's)."""
    return type(opt)(**{k: getattr(opt, k) for k in opt.settings}, schedule=opt.schedule)


@pytest.mark.parametrize(("name", "opt", "hyper"), OPTIMIZERS,
                         ids=[f"{o[0]}-{i}" for i, o in enumerate(OPTIMIZERS)])
def test_100_float32_steps_match_a_float32_numpy_reference(digits, name: str, opt,  # noqa: ANN001
                                                           hyper) -> None:
    X, Y, init = small_problem(digits)
    init = {k: v.astype(np.float32) for k, v in init.items()}
    params = {k: v.copy() for k, v in init.items()}
    opt = fresh(opt)
    history = fit(gg.examples.mlp([64, H, K]), params, {"x": X, "y": Y}, opt, EPOCHS, BATCH,
                  seed=3)  # float64 data: cast once to the parameters' float32
    assert history.stopped is None and opt.iterations == 100
    assert all(v.dtype == np.float32 for v in params.values())
    assert all(a.dtype == np.float32 for st in opt.state.values() for a in st.values())
    ref = reference_fit(init, X.astype(np.float32), Y.astype(np.float32),
                        reference_update(name, hyper), seed=3)
    for k in ref:
        assert ref[k].dtype == np.float32  # the reference really ran in float32
        np.testing.assert_allclose(params[k], ref[k], rtol=0, atol=2e-5, err_msg=k)
    # ...and float32 is not float64 in disguise: the float64 run differs by more.
    ref64 = reference_fit({k: v.astype(np.float64) for k, v in init.items()}, X, Y,
                          reference_update(name, hyper), seed=3)
    assert max(np.abs(params[k] - ref64[k]).max() for k in ref) > 1e-9


def test_model_compile_dtype(digits) -> None:  # noqa: ANN001
    X, Y, _ = small_problem(digits)
    model = Sequential([Dense(H, input_dim=64), Activation("tanh"), Dense(K),
                        Activation("softmax")])
    model.compile(optim.Adam(lr=1e-2), "categorical_crossentropy", dtype="float32")
    assert all(v.dtype == np.float32 for v in model.get_weights().values())
    history = model.fit(X, Y, epochs=2, batch_size=BATCH)
    assert history.stopped is None
    assert all(v.dtype == np.float32 for v in model.get_weights().values())
    assert all(a.dtype == np.float32 for st in model.optimizer.state.values()
               for a in st.values())
    model.compile(optim.Adam(lr=1e-2), "categorical_crossentropy", dtype=np.float64)
    assert all(v.dtype == np.float64 for v in model.get_weights().values())
    for bad in ("float16", "int32", 3, None, "complex128"):
        with pytest.raises(TrainingError, match="dtype must be 'float32' or 'float64'"):
            model.compile("sgd", "categorical_crossentropy", dtype=bad)
    assert model.dtype == np.float64  # a refused compile changes nothing


@pytest.mark.parametrize(("l1", "l2"), [(0.0, 1e-3), (1e-3, 0.0), (1e-3, 1e-2)])
def test_100_steps_with_l1_and_l2_match_numpy(digits, l1: float, l2: float) -> None:  # noqa: ANN001
    X, Y, init = small_problem(digits)
    reg = regularize.Regularizer(l1=l1, l2=l2)
    text = gg.examples.mlp_text([64, H, K]).replace(
        "C = cross_entropy(a^(2), y)",
        f"C = cross_entropy(a^(2), y) + {reg.term('W^(1)')} + {reg.term('W^(2)')}")
    params = {k: v.copy() for k, v in init.items()}
    fit(gg.Graph.from_text(text), params, {"x": X, "y": Y}, optim.SGD(lr=0.1), EPOCHS, BATCH,
        seed=4)
    ref = reference_fit(init, X, Y, reference_update("sgd", {"lr": 0.1}), seed=4, l1=l1, l2=l2)
    assert_close(params, ref)


def test_100_steps_with_dropout_masks_match_numpy(digits) -> None:  # noqa: ANN001
    X, Y, init = small_problem(digits)
    rate = 0.25
    masks = [(np.random.default_rng(100 + t).random((BATCH, H)) >= rate).astype(float)
             for t in range(100)]
    text = gg.examples.mlp_text([64, H, K]).replace(
        "z^(2) = W^(2) a^(1) + b^(2)",
        f"mask^(1): input({H})\nd^(1) = a^(1) mask^(1) / (1 - {rate})\n"
        "z^(2) = W^(2) d^(1) + b^(2)")

    def feed(info, batch):  # noqa: ANN001, ANN202
        assert info.size == len(batch["x"]) == BATCH
        return {"mask^(1)": masks[info.step - 1]}

    params = {k: v.copy() for k, v in init.items()}
    fit(gg.Graph.from_text(text), params, {"x": X, "y": Y}, optim.Adam(lr=1e-2), EPOCHS,
        BATCH, seed=6, feed=feed, metrics=())
    update = reference_update("adam", {"lr": 1e-2, "b1": 0.9, "b2": 0.999, "eps": 1e-8})
    assert_close(params, reference_fit(init, X, Y, update, seed=6, masks=masks, rate=rate))


def test_100_steps_with_batch_norm_match_numpy(digits) -> None:  # noqa: ANN001
    X, Y, init = small_problem(digits)
    model = Sequential([Dense(H, input_dim=64), BatchNormalization(),
                        Activation("tanh"), Dense(K), Activation("softmax")])
    model.compile(optim.Momentum(lr=0.05, momentum=0.9), "categorical_crossentropy",
                  dtype="float64")
    model.set_weights(init)
    history = model.fit(X, Y, epochs=EPOCHS, batch_size=BATCH, seed=8)
    assert history.stopped is None
    p = {**{k: v.copy() for k, v in init.items()}, "gamma^(1)": np.ones(H),
         "beta^(1)": np.zeros(H)}
    run_mean, run_var = np.zeros(H), np.ones(H)
    velocity = {k: np.zeros_like(v) for k, v in p.items()}
    rng = np.random.default_rng(8)
    for _ in range(EPOCHS):
        order = rng.permutation(N)
        for start in range(0, N, BATCH):
            x, y = X[order[start:start + BATCH]], Y[order[start:start + BATCH]]
            m = len(x)
            z = x @ p["W^(1)"].T + p["b^(1)"]
            mu, var = z.mean(0), ((z - z.mean(0)) ** 2).mean(0)
            run_mean = 0.99 * run_mean + 0.01 * mu
            run_var = 0.99 * run_var + 0.01 * var
            zhat = (z - mu) / np.sqrt(var + 1e-3)
            a1 = np.tanh(p["gamma^(1)"] * zhat + p["beta^(1)"])
            z2 = a1 @ p["W^(2)"].T + p["b^(2)"]
            e = np.exp(z2 - z2.max(1, keepdims=True))
            dz2 = (e / e.sum(1, keepdims=True) - y) / m
            dbn = (dz2 @ p["W^(2)"]) * (1 - a1**2)
            dz = p["gamma^(1)"] / (m * np.sqrt(var + 1e-3)) * (
                m * dbn - dbn.sum(0) - zhat * (dbn * zhat).sum(0))
            g = {"W^(1)": dz.T @ x, "b^(1)": dz.sum(0), "gamma^(1)": (dbn * zhat).sum(0),
                 "beta^(1)": dbn.sum(0), "W^(2)": dz2.T @ a1, "b^(2)": dz2.sum(0)}
            for k in p:
                velocity[k] = 0.9 * velocity[k] - 0.05 * g[k]
                p[k] = p[k] + velocity[k]
    got = model.get_weights()
    assert_close(got, p)
    np.testing.assert_allclose(got["runmean^(1)"], run_mean, rtol=0, atol=1e-10)
    np.testing.assert_allclose(got["runvar^(1)"], run_var, rtol=0, atol=1e-10)


# --- shuffling, History, reproducibility ----------------------------------------------


def identity_problem(n: int = 10):  # noqa: ANN201
    """Inputs that carry their own index, to see which examples a batch holds."""
    g = gg.Graph.from_text("x: input(1); y: input(1); W: param(1, 1); b: param(1)\n"
                           "z = W x + b\nC = sum((z - y)^2)")
    X = np.arange(n, dtype=float)[:, None]
    return g, {"x": X, "y": np.zeros((n, 1))}


def test_minibatches_without_replacement_in_the_documented_order() -> None:
    g, data = identity_problem(10)
    seen: list[list[int]] = []

    def feed(info, batch):  # noqa: ANN001, ANN202
        seen.append([int(v) for v in batch["x"][:, 0]])
        return {}

    params = {"W": np.zeros((1, 1)), "b": np.zeros(1)}
    fit(g, params, data, optim.SGD(lr=1e-3), 3, 4, seed=11, feed=feed, metrics=())
    rng = np.random.default_rng(11)
    expected = []
    for _ in range(3):
        order = rng.permutation(10)
        expected += [list(order[s:s + 4]) for s in range(0, 10, 4)]
    assert seen == expected
    assert [len(b) for b in seen[:3]] == [4, 4, 2]


def test_same_seed_same_history_different_seed_different(digits) -> None:  # noqa: ANN001
    X, Y, init = small_problem(digits)
    g = gg.examples.mlp([64, H, K])

    def run(seed: int) -> History:
        return fit(g, {k: v.copy() for k, v in init.items()}, {"x": X, "y": Y},
                   optim.SGD(lr=0.1), 2, BATCH, seed=seed)

    assert run(1).history == run(1).history
    assert run(1).history != run(2).history


def test_history_is_keras_shaped(digits) -> None:  # noqa: ANN001
    X, Y, init = small_problem(digits)
    h = fit(gg.examples.mlp([64, H, K]), {k: v.copy() for k, v in init.items()},
            {"x": X, "y": Y}, "sgd", 3, BATCH, validation={"x": X[:40], "y": Y[:40]})
    assert list(h.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert h.epoch == [0, 1, 2] and h.epochs == 3 and h.stopped is None
    assert h.params["steps"] == 10 and h.params["examples"] == N
    d = h.to_dict()
    assert d["history"]["loss"] == h.history["loss"] and d["stopped"] is None
    assert "3 epochs" in repr(h)


def test_library_prints_nothing(digits, capsys) -> None:  # noqa: ANN001
    X, Y, init = small_problem(digits)
    lines: list[str] = []
    steps: list[int] = []
    fit(gg.examples.mlp([64, H, K]), {k: v.copy() for k, v in init.items()}, {"x": X, "y": Y},
        "sgd", 2, BATCH, validation={"x": X, "y": Y},
        callbacks=[ProgressLogger(write=lines.append, advance=steps.append)])
    out, err = capsys.readouterr()
    assert out == err == ""
    assert len(lines) == 2 and lines[0].startswith("Epoch 1/2 - ")
    assert "val_accuracy: " in lines[1] and sum(steps) == 2 * N


# --- stopping -------------------------------------------------------------------------


def diverging(digits):  # noqa: ANN001, ANN201
    X, Y, init = small_problem(digits)
    return gg.examples.mlp([64, H, K], activation="relu"), init, {"x": X, "y": Y}


def test_non_finite_stop_reports_and_keeps_the_last_good_parameters(digits) -> None:  # noqa: ANN001
    g, init, data = diverging(digits)
    params = {k: v.copy() for k, v in init.items()}
    h = fit(g, params, data, optim.SGD(lr=1e6), 5, BATCH, seed=0)
    s = h.stopped
    assert isinstance(s, NonFiniteError) and isinstance(s, TrainingError)
    assert s.what in ("loss", "gradient", "update") and s.lr == 1e6
    assert s.epoch >= 1 and s.step >= 1
    assert s.parameter is None or s.parameter in g.params
    assert f"epoch {s.epoch}, step {s.step}" in str(s) and "1e+06" in str(s)
    assert h.message == str(s) and h.diverged == str(s)
    assert all(np.all(np.isfinite(v)) for v in params.values())

    # The parameters are those the failing step started from: replay up to it.
    class StopAt(Callback):
        def on_batch_end(self, step: int, logs: dict) -> bool:
            return step == s.step - 1

    again = {k: v.copy() for k, v in init.items()}
    if s.step > 1:
        fit(g, again, data, optim.SGD(lr=1e6), 5, BATCH, seed=0, callbacks=[StopAt()])
    for k in params:
        np.testing.assert_array_equal(params[k], again[k])


def test_non_finite_can_raise(digits) -> None:  # noqa: ANN001
    g, init, data = diverging(digits)
    with pytest.raises(NonFiniteError, match="is not finite"):
        fit(g, {k: v.copy() for k, v in init.items()}, data, optim.SGD(lr=1e6), 5, BATCH,
            on_nonfinite="raise")


def test_a_non_finite_loss_is_reported_as_the_loss() -> None:
    # the log of a negative number
    g = gg.Graph.from_text("x: input(1); W: param(1, 1)\nz = W x\nC = sum(log(z))")
    params = {"W": np.array([[1.0]])}
    h = fit(g, params, {"x": np.array([[1.0], [-2.0]])}, optim.SGD(lr=0.1), 1, 2,
            metrics=())
    assert h.stopped.what == "loss" and h.stopped.parameter is None
    assert h.stopped.step == 1 and h.epochs == 0
    np.testing.assert_array_equal(params["W"], [[1.0]])


def test_sign_optimizer_still_sees_an_infinite_gradient() -> None:
    # sign(inf) = 1 is finite: the gradient itself must be checked (d√u/du = ∞ at u = 0).
    g = gg.Graph.from_text("x: input(1); W: param(1, 1)\nz = W x\nC = sum(sqrt(z*z))")
    h = fit(g, {"W": np.array([[0.0]])}, {"x": np.ones((2, 1))}, optim.Sign(lr=0.1), 1, 2,
            metrics=())
    assert h.stopped is not None and h.stopped.what == "gradient"
    assert h.stopped.parameter == "W"


def test_early_stopping_restores_the_best_weights(digits) -> None:  # noqa: ANN001
    X, Y, init = small_problem(digits)
    params = {k: v.copy() for k, v in init.items()}
    best: dict = {}

    class Keep(Callback):
        def on_epoch_end(self, epoch: int, logs: dict) -> None:
            if logs["val_loss"] <= min(logs_all + [math.inf]):
                best.update({k: v.copy() for k, v in self.trainer.params.items()})
            logs_all.append(logs["val_loss"])

    logs_all: list[float] = []
    stopper = EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    h = fit(gg.examples.mlp([64, H, K]), params, {"x": X, "y": Y}, optim.Adam(lr=0.05), 60,
            BATCH, validation={"x": digits.X_test[:60], "y": digits.Y_test[:60]},
            callbacks=[Keep(), stopper])
    assert h.epochs < 60 and "early stopping" in h.message
    assert stopper.best_epoch == int(np.argmin(h.history["val_loss"]))
    for k in params:
        np.testing.assert_array_equal(params[k], best[k])


def test_early_stopping_checks_its_monitor(digits) -> None:  # noqa: ANN001
    X, Y, init = small_problem(digits)
    with pytest.raises(TrainingError, match="monitors 'val_loss'"):
        fit(gg.examples.mlp([64, H, K]), {k: v.copy() for k, v in init.items()},
            {"x": X, "y": Y}, "sgd", 2, BATCH, callbacks=[EarlyStopping()])


def test_a_callback_returning_true_stops(digits) -> None:  # noqa: ANN001
    X, Y, init = small_problem(digits)

    class Once:
        def on_epoch_end(self, epoch: int, logs: dict) -> bool:
            logs["extra"] = 1.0  # recorded in the History too
            return True

    h = fit(gg.examples.mlp([64, H, K]), {k: v.copy() for k, v in init.items()},
            {"x": X, "y": Y}, "sgd", 5, BATCH, callbacks=[Once()])
    assert h.epochs == 1 and h.history["extra"] == [1.0]


# --- evaluate and argument checks ------------------------------------------------------


def test_evaluate_matches_numpy(digits) -> None:  # noqa: ANN001
    X, Y, init = small_problem(digits)
    g = gg.examples.mlp([64, H, K])
    a1 = np.tanh(X @ init["W^(1)"].T + init["b^(1)"])
    z2 = a1 @ init["W^(2)"].T + init["b^(2)"]
    logp = z2 - z2.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    for batch in (None, 7):
        out = evaluate(g, init, {"x": X, "y": Y}, batch)
        assert out["loss"] == pytest.approx(-(Y * logp).sum(1).mean(), rel=1e-12)
        assert out["accuracy"] == pytest.approx(np.mean(logp.argmax(1) == Y.argmax(1)))


def good_args(digits):  # noqa: ANN001, ANN201
    X, Y, init = small_problem(digits)
    return dict(graph=gg.examples.mlp([64, H, K]), params={k: v.copy() for k, v in init.items()},
                data={"x": X, "y": Y}, optimizer="sgd", epochs=1, batch_size=BATCH)


@pytest.mark.parametrize(("change", "message"), [
    ({"epochs": 0}, "epochs must be an integer >= 1"),
    ({"batch_size": -3}, "batch_size must be an integer >= 1"),
    ({"optimizer": "adamm"}, "did you mean 'adam'"),
    ({"optimizer": optim.SGD}, "optimizer must be a name or an Optimizer"),
    ({"on_nonfinite": "ignore"}, "on_nonfinite must be"),
    ({"metrics": ["precision"]}, "unknown metric"),
    ({"seed": -1}, "seed must be"),
])
def test_bad_arguments(digits, change: dict, message: str) -> None:  # noqa: ANN001
    args = good_args(digits)
    args.update(change)
    with pytest.raises(TrainingError, match=message):
        fit(**args)


def test_bad_data_and_params(digits) -> None:  # noqa: ANN001
    args = good_args(digits)
    X, Y = args["data"]["x"], args["data"]["y"]
    cases = [
        ({"data": {"x": X[:, :10], "y": Y}}, r"'x' must have shape \(n, 64\)"),
        ({"data": {"x": X, "y": Y[:50]}}, "different numbers of examples"),
        ({"data": {"x": np.where(X > 1, np.nan, X), "y": Y}}, "not finite in row"),
        ({"data": {"x": X}}, "the labels 'y', which are not in the data"),
        ({"data": {"x": X, "y": Y, "q": Y}}, "'q' is not an input of the graph"),
        ({"params": {"W^(1)": args["params"]["W^(1)"]}}, r"no value for parameter 'b\^"),
        ({"params": {**args["params"], "W^(2)": np.zeros((3, 3))}}, "has shape"),
        ({"params": {**args["params"], "b^(1)": np.zeros(H, dtype=int)}}, "float numpy array"),
        ({"params": {**args["params"], "x": np.zeros(64)}}, "'x' is not a parameter"),
    ]
    for change, message in cases:
        with pytest.raises(TrainingError, match=message):
            fit(**{**good_args(digits), **change})


def test_inputs_missing_without_feed(digits) -> None:  # noqa: ANN001
    args = good_args(digits)
    text = gg.examples.mlp_text([64, H, K]).replace(
        "z^(2) = W^(2) a^(1) + b^(2)",
        f"mask^(1): input({H})\nd^(1) = a^(1) mask^(1)\nz^(2) = W^(2) d^(1) + b^(2)")
    args["graph"] = gg.Graph.from_text(text)
    with pytest.raises(TrainingError, match="no values for 'mask\\^\\(1\\)'"):
        fit(**args)
    with pytest.raises(TrainingError, match="feed did not give it"):
        fit(**args, feed=lambda info, batch: {})
    with pytest.raises(TrainingError, match=r"feed gave 'mask\^\(1\)' of shape \(3,\)"):
        fit(**args, feed=lambda info, batch: {"mask^(1)": np.ones(3)})


def test_history_plot(digits, tmp_path) -> None:  # noqa: ANN001
    from gradgraph import GradgraphError
    from gradgraph.plots import plot_history

    X, Y, init = small_problem(digits)
    h = fit(gg.examples.mlp([64, H, K]), {k: v.copy() for k, v in init.items()},
            {"x": X, "y": Y}, "sgd", 3, BATCH, validation={"x": X[:40], "y": Y[:40]})
    png = plot_history(h, tmp_path / "h.png")
    assert png.read_bytes()[:4] == b"\x89PNG"
    svg = plot_history(h.history, tmp_path / "h.svg", title="deck")
    assert b"<svg" in svg.read_bytes()[:500]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.png", "h.svg"]  # atomic
    with pytest.raises(GradgraphError, match="use a .png, .svg or .pdf"):
        plot_history(h, tmp_path / "h.jpg")
    with pytest.raises(GradgraphError, match="no epochs"):
        plot_history(History(), tmp_path / "e.png")


def test_steps_write_into_two_sets_of_arrays_and_allocate_none() -> None:
    g, data = identity_problem(12)
    seen: dict[str, set[int]] = {"W": set(), "b": set(), "state": set()}
    keep = []  # hold every array seen, so that no id is reused by a new one

    class Watch(Callback):
        def on_batch_end(self, step: int, logs: dict) -> None:
            for name, arr in self.trainer.params.items():
                seen[name].add(id(arr))
                keep.append(arr)
            for arrays in self.trainer.optimizer.state.values():
                seen["state"].update(id(a) for a in arrays.values())
                keep.extend(arrays.values())

    params = {"W": np.ones((1, 1)), "b": np.zeros(1)}
    fit(g, params, data, optim.Adam(lr=1e-3), 3, 2, seed=0, metrics=(), callbacks=[Watch()])
    assert len(keep) > 30
    assert len(seen["W"]) == len(seen["b"]) == 2  # the caller's array and one spare
    assert len(seen["state"]) == 2 * 2 * 2  # m and v of W and b, two of each


@pytest.mark.parametrize("opt", [optim.SGD(lr=1e6), optim.Momentum(lr=1e5),
                                 optim.Nesterov(lr=1e5)], ids=["sgd", "momentum", "nesterov"])
def test_non_finite_keeps_the_last_good_parameters_with_any_optimizer(digits, opt) -> None:  # noqa: ANN001
    g, init, data = diverging(digits)
    params = {k: v.copy() for k, v in init.items()}
    h = fit(g, params, data, fresh(opt), 5, BATCH, seed=0)
    s = h.stopped
    assert s is not None and all(np.all(np.isfinite(v)) for v in params.values())

    class StopAt(Callback):
        def on_batch_end(self, step: int, logs: dict) -> bool:
            return step == s.step - 1

    again = {k: v.copy() for k, v in init.items()}
    if s.step > 1:
        fit(g, again, data, fresh(opt), 5, BATCH, seed=0, callbacks=[StopAt()])
    for k in params:
        np.testing.assert_array_equal(params[k], again[k])
