"""The JAX backend: the same generated program under jax.jit, and training with it.

Skipped cleanly where jax is not installed. Small nets and few steps: the numbers are
compared with the numpy backend's within float32 tolerance.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gradgraph as gg
from gradgraph import examples
from gradgraph.backends import BackendError

jax = pytest.importorskip("jax")


def _values(graph: gg.Graph, n: int = 7, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = {}
    for name in graph.leaves:
        node = graph[name]
        shape = (n, *node.shape) if node.role == "input" else node.shape
        values[name] = rng.normal(size=shape)
    return values


def _mlp_values(sizes: list[int], n: int = 7) -> tuple[gg.Graph, dict[str, np.ndarray]]:
    graph = examples.mlp(sizes)
    values = _values(graph, n)
    values["y"] = np.eye(sizes[-1])[np.random.default_rng(1).integers(0, sizes[-1], n)]
    return graph, values


@pytest.mark.parametrize("make", [
    lambda: _mlp_values([4, 5, 3]),
    lambda: examples.mazur(),
    lambda: (examples.chain(3), _values(examples.chain(3))),
], ids=["mlp-softmax", "mazur-sigma", "scalar-chain"])
def test_jax_matches_numpy_values_and_gradients(make) -> None:
    graph, values = make()
    ref = gg.compile(graph, dtype="float32")(values)
    got = gg.compile(graph, backend="jax")(values)
    assert got.loss == pytest.approx(ref.loss, rel=1e-5)
    assert set(got.gradients) == set(ref.gradients)
    for name, g in ref.gradients.items():
        np.testing.assert_allclose(got.gradients[name], g, rtol=2e-4, atol=2e-5)
    for name, v in ref.values.items():
        np.testing.assert_allclose(got.values[name], v, rtol=2e-4, atol=2e-5)


def test_the_jax_program_is_the_numpy_source_jitted() -> None:
    graph, values = _mlp_values([4, 5, 3])
    compiled = gg.compile(graph, backend="jax")
    assert compiled.source == gg.compile(graph).source
    assert compiled.backend == "jax" and compiled.dtype == np.float32
    loss, grads = compiled.step(values)
    ref_loss, ref_grads = gg.compile(graph, dtype="float32").step(values)
    assert loss == pytest.approx(ref_loss, rel=1e-5)
    for name, g in ref_grads.items():
        np.testing.assert_allclose(np.asarray(grads[name]), g, rtol=2e-4, atol=2e-5)


def test_step_keeping_runs_under_jax() -> None:
    graph, values = _mlp_values([4, 5, 3])
    loss, _, kept = gg.compile(graph, backend="jax").step_keeping(values, ("a^(2)",))
    ref = gg.compile(graph, dtype="float32").step_keeping(values, ("a^(2)",))
    assert loss == pytest.approx(ref[0], rel=1e-5)
    np.testing.assert_allclose(np.asarray(kept["a^(2)"]), ref[2]["a^(2)"], rtol=1e-5)


def test_every_builtin_op_has_a_jax_kernel_equal_to_numpy() -> None:
    from gradgraph import ops
    from gradgraph.backends.jax_runtime import _elementwise_kernels

    kernels = _elementwise_kernels()
    x = np.linspace(-30, 30, 61).astype(np.float32)
    for spec in ops.REGISTRY.values():
        if spec.user_defined:
            continue
        arg = np.abs(x) + 0.5 if spec.name in ("log", "sqrt") else x
        for key, ref in ((f"_k_{spec.name}", spec.forward),
                         (f"_k_{spec.name}_prime", spec.backward)):
            got = np.asarray(jax.jit(kernels[key])(arg))
            np.testing.assert_allclose(got, ref(arg.astype(np.float64)), rtol=2e-6,
                                       atol=1e-30, err_msg=key)


def test_an_unknown_backend_is_refused_listing_the_choices() -> None:
    graph, _ = _mlp_values([4, 5, 3])
    with pytest.raises(BackendError, match="numpy, jax"):
        gg.compile(graph, backend="torch")


def test_float64_needs_jax_64_bit_mode() -> None:
    graph, _ = _mlp_values([4, 5, 3])
    with pytest.raises(BackendError, match="jax_enable_x64"):
        gg.compile(graph, dtype="float64", backend="jax")


def test_missing_jax_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradgraph.backends import load_jax

    monkeypatch.setitem(sys.modules, "jax", None)
    with pytest.raises(BackendError, match=r"pip install gradgraph\[jax\]"):
        load_jax()


def test_the_numpy_backend_never_imports_jax() -> None:
    code = ("import gradgraph as gg, sys; from gradgraph import examples; "
            "g = examples.mlp([2, 3, 2]); gg.compile(g, backend='numpy'); "
            "assert 'jax' not in sys.modules, 'jax imported'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


# --- training ---------------------------------------------------------------------------

def _data(n: int = 48, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    return X, np.eye(3)[(X[:, 0] > 0).astype(int) + (X[:, 1] > 1)]


def _fit(backend: str, opt, layers=None, epochs: int = 3, **fit):
    from gradgraph.nn import Activation, Dense, Sequential

    X, Y = _data()
    model = Sequential(layers() if layers else
                       [Dense(8, input_dim=6), Activation("tanh"), Dense(3),
                        Activation("softmax")], seed=3)
    model.compile(optimizer=opt(), loss="categorical_crossentropy", metrics=["accuracy"],
                  backend=backend)
    history = model.fit(X, Y, epochs=epochs, batch_size=16, seed=5,
                        validation_data=(X[:20], Y[:20]), **fit)
    return model, history


def _same_run(opt, layers=None, **fit) -> None:
    ref_model, ref = _fit("numpy", opt, layers, **fit)
    model, got = _fit("jax", opt, layers, **fit)
    assert got.stopped is None and ref.stopped is None
    assert set(got.history) == set(ref.history)
    for key, values in ref.history.items():
        np.testing.assert_allclose(got.history[key], values, rtol=2e-5, atol=2e-6,
                                   err_msg=key)
    for name, w in ref_model.get_weights().items():
        np.testing.assert_allclose(model.get_weights()[name], w, rtol=1e-4, atol=1e-5,
                                   err_msg=name)
    assert model.optimizer.iterations == ref_model.optimizer.iterations


SLOW = pytest.mark.slow  # the same machinery with another rule: full runs only


@pytest.mark.parametrize("opt", [
    pytest.param(lambda: gg.optim.SGD(0.1, schedule=gg.optim.StepDecay(every=3)),
                 id="sgd-step-schedule"),
    pytest.param(lambda: gg.optim.Sign(0.01), id="sign"),
    pytest.param(lambda: gg.optim.SGD(0.05, momentum=0.9, nesterov=True), id="nesterov",
                 marks=SLOW),
    pytest.param(lambda: gg.optim.Adagrad(0.05, schedule=gg.optim.Cosine(total=9)),
                 id="adagrad-cosine", marks=SLOW),
    pytest.param(lambda: gg.optim.RMSprop(0.01, centered=True), id="rmsprop-centered"),
    pytest.param(lambda: gg.optim.Adam(0.01), id="adam"),
    pytest.param(lambda: gg.optim.AdaMax(0.01), id="adamax", marks=SLOW),
    pytest.param(lambda: gg.optim.AdamW(0.01), id="adamw", marks=SLOW),
])
def test_training_on_jax_matches_numpy_step_by_step(opt) -> None:
    _same_run(opt)


def _regularised_layers():
    from gradgraph import regularize
    from gradgraph.nn import Activation, BatchNormalization, Dense, Dropout

    return [Dense(8, input_dim=6, kernel_regularizer=regularize.l2(0.01)),
            BatchNormalization(momentum=0.9), Activation("relu"), Dropout(0.25),
            Dense(3, kernel_regularizer=regularize.l1(0.01)), Activation("softmax")]


def test_dropout_batch_norm_and_penalties_train_the_same_on_jax() -> None:
    """Masks drawn in the numpy loop's order; running statistics replayed after the scan.

    (Not Adam: the bias before batch norm has a gradient of rounding noise, ~1e-9, which
    Adam scales up to steps of size lr, differently in each backend.)
    """
    _same_run(lambda: gg.optim.SGD(0.1, momentum=0.9), _regularised_layers)


def test_a_batch_hook_that_stops_runs_step_by_step() -> None:
    class StopAfterTwo(gg.train.Callback):
        def on_batch_end(self, step: int, logs: dict) -> bool:
            return step == 2

    _, ref = _fit("numpy", lambda: gg.optim.SGD(0.1), callbacks=[StopAfterTwo()])
    model, got = _fit("jax", lambda: gg.optim.SGD(0.1), callbacks=[StopAfterTwo()])
    assert model.optimizer.iterations == 2
    np.testing.assert_allclose(got.history["loss"], ref.history["loss"], rtol=2e-5)


def test_a_diverging_run_stops_with_the_last_finite_weights() -> None:
    ref_model, ref = _fit("numpy", lambda: gg.optim.SGD(1e38))
    model, got = _fit("jax", lambda: gg.optim.SGD(1e38))
    assert got.stopped is not None and ref.stopped is not None
    assert (got.stopped.what, got.stopped.epoch, got.stopped.step, got.stopped.parameter) \
        == (ref.stopped.what, ref.stopped.epoch, ref.stopped.step, ref.stopped.parameter)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights().values())
    assert model.optimizer.iterations == ref_model.optimizer.iterations


def test_gradgraph_train_on_jax_matches_numpy(runner) -> None:
    import json

    from gradgraph.cli import cli

    args = ["train", "--data", "lessons/data/two_moons.csv", "--hidden", "8", "--epochs",
            "2", "--optimizer", "adam", "--dropout", "0.1", "--json"]
    docs = []
    for backend in ("numpy", "jax"):
        done = runner.invoke(cli, [*args, "--backend", backend])
        assert done.exit_code == 0, done.output
        docs.append(json.loads(done.output))
    ref, got = docs
    assert got["backend"] == "jax" and ref["backend"] == "numpy"
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(got["history"][key], ref["history"][key], rtol=2e-5,
                                   atol=2e-6, err_msg=key)


def test_model_compile_refuses_an_unknown_backend_and_float64_without_x64() -> None:
    from gradgraph.nn import Dense, Sequential

    model = Sequential([Dense(2, input_dim=3)])
    with pytest.raises(BackendError, match="numpy, jax"):
        model.compile(backend="tensorflow")
    with pytest.raises(BackendError, match="jax_enable_x64"):
        model.compile(dtype="float64", backend="jax")


def test_gradgraph_train_without_jax_says_how_to_install_it(runner, monkeypatch) -> None:
    from gradgraph.cli import cli

    monkeypatch.setitem(sys.modules, "jax", None)
    done = runner.invoke(cli, ["train", "--data", "lessons/data/two_moons.csv", "--epochs",
                               "1", "--backend", "jax", "--quiet"])
    assert done.exit_code != 0
    assert "pip install gradgraph[jax]" in done.output
    assert "Traceback" not in done.output


def test_the_jax_program_reuses_the_numpy_source(monkeypatch: pytest.MonkeyPatch) -> None:
    from gradgraph import numeric

    graph, values = _mlp_values([4, 5, 3])
    gg.compile(graph)
    monkeypatch.setattr(numeric, "_Generator", None)  # generating again would fail
    assert gg.compile(graph, backend="jax")(values).loss == pytest.approx(
        gg.compile(graph)(values).loss, rel=1e-5)
