"""Keras-shaped models: building, losses, dropout, predict/evaluate, saving and loading."""

from __future__ import annotations

import json

import numpy as np
import pytest

import gradgraph as gg
from gradgraph import FileFormatError, TrainingError, derive, optim, regularize
from gradgraph.data import load_digits_split
from gradgraph.nn import Activation, BatchNormalization, Dense, Dropout, Sequential


@pytest.fixture(scope="module")
def digits():  # noqa: ANN201
    return load_digits_split()


def deck_model(seed: int = 0, **dense: object) -> Sequential:
    model = Sequential([Dense(100, input_dim=64, **dense), Activation("tanh"), Dense(10),
                        Activation("softmax")], seed=seed)
    model.compile(optimizer=optim.SGD(lr=0.1), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def test_the_deck_model_is_the_deck_graph() -> None:
    model = deck_model()
    expected = gg.Graph.from_text(gg.examples.mlp_text([64, 100, 10]))
    assert model.graph.definitions() == expected.definitions()
    assert model.graph.params == ("W^(1)", "b^(1)", "W^(2)", "b^(2)")
    d = derive(model.graph, wrt="W^(1)")
    assert str(d).startswith("∂C/∂Wₖᵢ⁽¹⁾ = Σⱼ ∂zₖ⁽¹⁾/∂Wₖᵢ⁽¹⁾")


def test_glorot_uniform_weights_and_zero_biases_from_the_seed() -> None:
    w = deck_model(seed=4).get_weights()
    limit = np.sqrt(6 / (64 + 100))
    assert np.abs(w["W^(1)"]).max() <= limit and np.abs(w["W^(1)"]).max() > 0.9 * limit
    assert w["W^(1)"].shape == (100, 64) and w["W^(2)"].shape == (10, 100)
    np.testing.assert_array_equal(w["b^(1)"], 0.0)
    again = deck_model(seed=4).get_weights()
    np.testing.assert_array_equal(w["W^(2)"], again["W^(2)"])
    assert not np.array_equal(w["W^(1)"], deck_model(seed=5).get_weights()["W^(1)"])


def test_l2_term_is_in_the_graph_and_the_derivation() -> None:
    model = deck_model(kernel_regularizer=regularize.l2(1e-4))
    g = model.graph
    assert g["C"].definition(g.order) == "C = C₀ + 0.0001·u₁"
    text = str(derive(g, wrt="W^(1)"))
    assert text.endswith("+ 2Wₖᵢ⁽¹⁾ · 0.0001")  # ∂(C₀ + λΣw²)/∂w = ∂C₀/∂w + 2λw


def test_shapes_are_checked_when_the_model_is_built() -> None:
    model = Sequential([Dense(100, input_dim=64), Dense(10, input_dim=64)])
    with pytest.raises(TrainingError, match="layer 2 expects 64 inputs, got 100"):
        model.compile("sgd", "mse")
    model = deck_model()
    with pytest.raises(TrainingError, match="layer 1 expects 64 inputs, got 32"):
        model.fit(np.zeros((5, 32)), np.zeros((5, 10)))
    with pytest.raises(TrainingError, match=r"Y must have shape \(5, 10\)"):
        model.fit(np.zeros((5, 64)), np.zeros((5, 3)))
    with pytest.raises(TrainingError, match="one_hot"):
        model.fit(np.zeros((5, 64)), np.zeros(5))


def test_input_size_can_come_from_the_data(digits) -> None:  # noqa: ANN001
    model = Sequential([Dense(8, activation="relu"), Dense(10, activation="softmax")])
    with pytest.raises(TrainingError, match="does not know its input size"):
        model.graph  # noqa: B018
    model.compile("adam", "categorical_crossentropy", ["accuracy"])
    model.fit(digits.X_train[:64], digits.Y_train[:64], epochs=1)
    assert model.graph["x"].shape == (64,)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: Dropout(1.0), r"in \[0, 1\)"),
    (lambda: Dropout(-0.1), r"in \[0, 1\)"),
    (lambda: Dense(0), "units must be a whole number"),
    (lambda: Dense(3, activation="sigmod"), "did you mean 'sigmoid'"),
    (lambda: Activation("swishh"), "unknown activation"),
    (lambda: Dense(3, kernel_initializer="orthogonal"), "unknown kernel_initializer"),
    (lambda: Dense(3, kernel_regularizer="l3"), "unknown regularizer"),
    (lambda: Sequential(["dense"]), "not a gradgraph.nn layer"),
])
def test_bad_layer_arguments(make, message: str) -> None:  # noqa: ANN001
    with pytest.raises(TrainingError, match=message):
        make()


def test_compile_is_needed_and_checked() -> None:
    model = Sequential([Dense(3, input_dim=2), Activation("softmax")])
    with pytest.raises(TrainingError, match="compile the model before fit"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(TrainingError, match="unknown loss"):
        model.compile("sgd", "hinge")
    with pytest.raises(TrainingError, match="lr must be > 0"):
        model.compile(optim.SGD(lr=-1), "mse")
    plain = Sequential([Dense(3, input_dim=2)])
    with pytest.raises(TrainingError, match="needs a softmax output"):
        plain.compile("sgd", "categorical_crossentropy")


def test_evaluate_and_predict(digits) -> None:  # noqa: ANN001
    model = deck_model()
    model.fit(digits.X_train, digits.Y_train, epochs=2)
    loss, acc = model.evaluate(digits.X_test, digits.Y_test)
    p = model.predict(digits.X_test)
    assert p.shape == (270, 10)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-12)
    assert acc == pytest.approx(np.mean(p.argmax(1) == digits.y_test))
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(270), digits.y_test])), rel=1e-10)
    assert model.evaluate(digits.X_test, digits.Y_test, batch_size=50)[0] == pytest.approx(loss)
    np.testing.assert_allclose(model.predict(digits.X_test, batch_size=64), p, rtol=1e-13)
    no_metrics = deck_model()
    no_metrics.compile("sgd", "categorical_crossentropy")
    assert isinstance(no_metrics.evaluate(digits.X_test, digits.Y_test), float)


def test_mse_and_binary_crossentropy_train() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] - 0.5 * X[:, 1] > 0).astype(float)
    for loss, layers in [
        ("binary_crossentropy", [Dense(8, input_dim=3, activation="tanh"), Dense(1),
                                 Activation("sigmoid")]),
        ("binary_crossentropy", [Dense(8, input_dim=3, activation="tanh"), Dense(1)]),
        ("mse", [Dense(8, input_dim=3, activation="tanh"), Dense(1, activation="sigmoid")]),
    ]:
        model = Sequential(layers)
        model.compile(optim.Adam(lr=0.05), loss, ["accuracy"])
        h = model.fit(X, y, epochs=20, batch_size=20)
        assert h.history["loss"][-1] < 0.5 * h.history["loss"][0], loss
        assert model.evaluate(X, y)[1] > 0.9, loss
    # from logits: softplus(z) - y z, stable for huge logits
    g = Sequential([Dense(1, input_dim=3), Activation("sigmoid")])
    g.compile("sgd", "binary_crossentropy")
    assert "softplus(z^(1))" in str(g.graph.nodes) or any(
        n.op == "softplus" for n in g.graph.nodes)


def test_dropout_in_the_graph(digits) -> None:  # noqa: ANN001
    model = Sequential([Dense(20, input_dim=64, activation="relu"), Dropout(0.5),
                        Dense(10, activation="softmax")])
    model.compile(optim.SGD(lr=0.05), "categorical_crossentropy", ["accuracy"])
    g = model.graph
    assert g["mask^(1)"].role == "input" and "d^(1)" not in model.eval_graph
    assert g["d^(1)"].definition() == "dₖ⁽¹⁾ = 2aₖ⁽¹⁾·maskₖ⁽¹⁾"
    factor = gg.adjoints(g)["a^(1)"].terms[0]
    mask = g["mask^(1)"].element_symbol
    assert (factor.expr - 2 * mask).simplify() == 0  # ∂d/∂a = mask/(1 − rate)
    X, Y = digits.X_train[:200], digits.Y_train[:200]
    first = model.get_weights()
    h1 = model.fit(X, Y, epochs=2, seed=3)
    w1 = model.get_weights()
    model.set_weights(first)
    h2 = model.fit(X, Y, epochs=2, seed=3)
    assert h1.history == h2.history  # the masks come from the seed
    np.testing.assert_array_equal(w1["W^(1)"], model.get_weights()["W^(1)"])
    model.set_weights(first)
    assert model.fit(X, Y, epochs=2, seed=4).history != h1.history
    # inference: no dropout, deterministic
    np.testing.assert_array_equal(model.predict(X[:5]), model.predict(X[:5]))


def test_summary_lists_layers_and_graph_nodes() -> None:
    model = Sequential([Dense(100, input_dim=64), BatchNormalization(), Activation("tanh"),
                        Dropout(0.2), Dense(10), Activation("softmax")])
    model.compile(optim.Adam(), "categorical_crossentropy", ["accuracy"])
    text = model.summary()
    assert "Dense(100)" in text and "μ⁽¹⁾ var⁽¹⁾ zhat⁽¹⁾ γ⁽¹⁾ β⁽¹⁾ bn⁽¹⁾" in text
    assert "mask⁽¹⁾ d⁽¹⁾" in text and "Total params: 7,710 (+ 200 running statistics)" in text
    assert "Cost: C = −Σⱼ yⱼ·log(aⱼ⁽²⁾)" in text and "Optimizer: Adam(" in text


# --- saving ---------------------------------------------------------------------------


def trained(digits) -> Sequential:  # noqa: ANN001
    model = Sequential([Dense(16, input_dim=64), BatchNormalization(), Activation("relu"),
                        Dense(10, activation="softmax", kernel_regularizer=regularize.l2(1e-3))])
    model.compile(optim.Adam(lr=1e-2), "categorical_crossentropy", ["accuracy"])
    model.fit(digits.X_train[:300], digits.Y_train[:300], epochs=2)
    return model


def test_save_and_load_round_trip(digits, tmp_path) -> None:  # noqa: ANN001
    model = trained(digits)
    path = tmp_path / "model.npz"
    model.save(path)
    meta = json.loads((tmp_path / "model.npz.json").read_text())
    assert meta["metadata"]["format"] == "gradgraph.nn.Sequential"
    loaded = Sequential.load(path)
    np.testing.assert_array_equal(loaded.predict(digits.X_test), model.predict(digits.X_test))
    assert loaded.graph.definitions() == model.graph.definitions()
    assert loaded.evaluate(digits.X_test, digits.Y_test) == \
        model.evaluate(digits.X_test, digits.Y_test)
    other = trained(digits)
    other.load_weights(path)
    for k, v in model.get_weights().items():
        np.testing.assert_array_equal(other.get_weights()[k], v)
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize("damage", ["truncate", "empty", "garbage", "sidecar", "pickle"])
def test_corrupt_files_are_refused_and_the_model_is_untouched(digits, tmp_path,  # noqa: ANN001
                                                              damage: str) -> None:
    model = trained(digits)
    path = tmp_path / "m.npz"
    model.save(path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(b"not a zip file at all")
    elif damage == "sidecar":
        path.with_name("m.npz.json").write_text("{ not json")
    else:
        import pickle

        path.write_bytes(pickle.dumps({"W^(1)": np.zeros(3)}))
    target = trained(digits)
    before = target.get_weights()
    with pytest.raises(FileFormatError):
        target.load_weights(path)
    with pytest.raises(FileFormatError):
        Sequential.load(path)
    for k, v in target.get_weights().items():
        np.testing.assert_array_equal(v, before[k])


def test_wrong_shapes_are_refused(digits, tmp_path) -> None:  # noqa: ANN001
    small = Sequential([Dense(8, input_dim=64, activation="tanh"),
                        Dense(10, activation="softmax")])
    small.compile("sgd", "categorical_crossentropy")
    path = tmp_path / "small.npz"
    small.save(path)
    model = deck_model()
    before = model.get_weights()
    with pytest.raises(FileFormatError, match="has shape"):
        model.load_weights(path)
    for k, v in model.get_weights().items():
        np.testing.assert_array_equal(v, before[k])
    with pytest.raises(TrainingError, match="must have shape"):
        model.set_weights({"W^(1)": np.zeros((3, 3))})
    with pytest.raises(TrainingError, match="not a weight"):
        model.set_weights({"Q": np.zeros(3)})


def test_load_needs_the_architecture(tmp_path) -> None:
    from gradgraph.fileio import save_npz

    path = tmp_path / "plain.npz"
    save_npz(path, {"W^(1)": np.zeros((2, 2))}, {"format": "something else"})
    with pytest.raises(FileFormatError, match="not a saved gradgraph Sequential"):
        Sequential.load(path)
