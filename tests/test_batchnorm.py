"""Batch normalisation in the IR: batch_mean, the batched property, derived backward pass."""

from __future__ import annotations

import numpy as np
import pytest

import gradgraph as gg
from gradgraph import GraphError, ShapeError, TrainingError, derive, gradcheck, ops, optim
from gradgraph.nn import Activation, BatchNormalization, Dense, Sequential
from gradgraph.train import Callback

EPS = 1e-3

BN_TEXT = """x: input(3); y: input(2)
W^(1): param(4, 3); b^(1): param(4)
z^(1) = W^(1) x + b^(1)
mu^(1) = batch_mean(z^(1))
var^(1) = batch_mean((z^(1) - mu^(1))^2)
zhat^(1) = (z^(1) - mu^(1)) / sqrt(var^(1) + 0.001)
gamma^(1): param(4); beta^(1): param(4)
bn^(1) = gamma^(1) zhat^(1) + beta^(1)
a^(1) = tanh(bn^(1))
W^(2): param(2, 4); b^(2): param(2)
z^(2) = W^(2) a^(1) + b^(2)
a^(2) = softmax(z^(2))
C = cross_entropy(a^(2), y)
"""


def values(n: int = 6, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"W^(1)": rng.normal(size=(4, 3)), "b^(1)": rng.normal(size=4),
            "gamma^(1)": 1 + 0.3 * rng.normal(size=4), "beta^(1)": 0.3 * rng.normal(size=4),
            "W^(2)": rng.normal(size=(2, 4)), "b^(2)": rng.normal(size=2),
            "x": rng.normal(size=(n, 3)), "y": np.eye(2)[rng.integers(0, 2, n)]}


def numpy_bn(v: dict[str, np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
    """The same network by hand: BN forward and Ioffe & Szegedy's backward (§3)."""
    x, y = v["x"], v["y"]
    m = len(x)
    z = x @ v["W^(1)"].T + v["b^(1)"]
    mu = z.mean(axis=0)
    var = ((z - mu) ** 2).mean(axis=0)
    zhat = (z - mu) / np.sqrt(var + EPS)
    a1 = np.tanh(v["gamma^(1)"] * zhat + v["beta^(1)"])
    z2 = a1 @ v["W^(2)"].T + v["b^(2)"]
    logp = z2 - z2.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    loss = -(y * logp).sum(1).mean()
    dz2 = (np.exp(logp) - y) / m
    dbn = (dz2 @ v["W^(2)"]) * (1 - a1**2)
    dzhat = dbn * v["gamma^(1)"]
    dvar = (dzhat * (z - mu)).sum(0) * -0.5 * (var + EPS) ** -1.5
    dmu = (dzhat * -1 / np.sqrt(var + EPS)).sum(0) + dvar * (-2 * (z - mu)).sum(0) / m
    dz = dzhat / np.sqrt(var + EPS) + dvar * 2 * (z - mu) / m + dmu / m
    # the compact form must agree with the step-by-step one
    compact = v["gamma^(1)"] / (m * np.sqrt(var + EPS)) * (
        m * dbn - dbn.sum(0) - zhat * (dbn * zhat).sum(0))
    np.testing.assert_allclose(dz, compact, rtol=1e-10, atol=1e-14)
    grads = {"W^(1)": dz.T @ x, "b^(1)": dz.sum(0), "gamma^(1)": (dbn * zhat).sum(0),
             "beta^(1)": dbn.sum(0), "W^(2)": dz2.T @ a1, "b^(2)": dz2.sum(0),
             "z^(1)": dz, "mu^(1)": dmu, "var^(1)": dvar}
    return loss, grads


@pytest.fixture(scope="module")
def graph() -> gg.Graph:
    return gg.Graph.from_text(BN_TEXT)


def test_batch_mean_has_no_batch_axis(graph: gg.Graph) -> None:
    assert graph["mu^(1)"].shape == (4,) and graph["var^(1)"].shape == (4,)
    assert not graph.is_batched("mu^(1)") and not graph.is_batched("var^(1)")
    assert not graph.is_batched("u2")  # √(σ² + ε): computed from batch statistics only
    assert graph.is_batched("z^(1)") and graph.is_batched("zhat^(1)")
    assert not graph.is_batched("gamma^(1)")


def test_batch_mean_reads_like_the_paper(graph: gg.Graph) -> None:
    assert graph["mu^(1)"].definition() == "μₖ⁽¹⁾ = (1/m) Σ_B zₖ⁽¹⁾"
    assert graph["var^(1)"].definition() == "varₖ⁽¹⁾ = (1/m) Σ_B (zₖ⁽¹⁾ − μₖ⁽¹⁾)²"
    assert r"\frac{1}{m} \sum_{\mathcal{B}}" in graph["mu^(1)"].definition_latex()


def test_forward_and_backward_match_numpy(graph: gg.Graph) -> None:
    v = values()
    loss, ref = numpy_bn(v)
    result = gg.compile(graph)(v)
    assert result.loss == pytest.approx(loss, rel=1e-13)
    n = len(v["x"])
    for name, g in ref.items():
        got = result.gradients[name]
        if graph.is_batched(name):
            got = got / n  # per-example adjoints are shown as n·∂(mean C)/∂node
        np.testing.assert_allclose(got, g, rtol=1e-10, atol=1e-13, err_msg=name)
    step_loss, step_grads = gg.compile(graph).step(v)
    assert step_loss == pytest.approx(loss, rel=1e-13)
    for name in graph.params:
        np.testing.assert_allclose(step_grads[name], ref[name], rtol=1e-10, atol=1e-13)


def test_gradcheck_passes(graph: gg.Graph) -> None:
    report = gradcheck(graph, values(n=5, seed=3))
    assert report.ok, str(report)
    assert {r.node for r in report.rows} >= {"mu^(1)", "var^(1)", "gamma^(1)", "z^(1)"}


def test_bias_before_batch_norm_gets_no_gradient(graph: gg.Graph) -> None:
    _, grads = gg.compile(graph).step(values())
    np.testing.assert_allclose(grads["b^(1)"], 0.0, atol=1e-15)


def test_derivation_shows_the_ioffe_szegedy_backward_pass(graph: gg.Graph) -> None:
    adj = gg.adjoints(graph)
    # ∂ℓ/∂μ = ∂σ²/∂μ·∂ℓ/∂σ² + ∂x̂/∂μ·∂ℓ/∂x̂ ; ∂ℓ/∂x = ∂μ/∂x·∂ℓ/∂μ + ∂σ²/∂x·∂ℓ/∂σ² + ∂x̂/∂x·∂ℓ/∂x̂
    assert set(adj["mu^(1)"].reuses) == {"var^(1)", "zhat^(1)"}
    assert set(adj["z^(1)"].reuses) == {"mu^(1)", "var^(1)", "zhat^(1)"}
    factors = {t.child: t.expr for t in adj["z^(1)"].terms}
    m = ops.BATCH_SIZE
    z, mu = graph["z^(1)"].element_symbol, graph["mu^(1)"].element_symbol
    assert factors["mu^(1)"] == 1 / m
    assert (factors["var^(1)"] - 2 * (z - mu) / m).simplify() == 0
    d = derive(graph, wrt="gamma^(1)")
    assert "zhatₖ⁽¹⁾ · tanh′(bnₖ⁽¹⁾)" in str(d)


def test_training_step_source_binds_the_batch_size(graph: gg.Graph) -> None:
    source = gg.compile(graph).source
    assert "_m = n0.shape[0]" in source and "_k_batch_mean(numpy, " in source
    assert "numpy.broadcast_to(" in source  # ∂μ/∂z = 1/m reaches every example


@pytest.mark.parametrize(("text", "message"), [
    ("x: input; mu = batch_mean(x); C = mu^2", "needs layers"),
    ("x: input(2); W: param(2); mu = batch_mean(W); C = sum((x - mu)^2)",
     "does not depend on any input"),
])
def test_batch_mean_needs_a_batch(text: str, message: str) -> None:
    with pytest.raises(GraphError, match=message):
        gg.Graph.from_text(text)


def test_scalar_expansion_is_refused(graph: gg.Graph) -> None:
    with pytest.raises(ShapeError, match="mean over the batch"):
        gg.expand_to_scalars(graph)


def test_regularised_cost_works_on_the_hot_path() -> None:
    """C = CE + λΣW²: the λ term's adjoint sums n seeds (it once failed in step())."""
    text = gg.examples.mlp_text([3, 4, 2]).replace(
        "C = cross_entropy(a^(2), y)",
        "C = cross_entropy(a^(2), y) + 0.01*sum(W^(1)^2) + 0.02*sum(abs(W^(2)))")
    g = gg.Graph.from_text(text)
    v = {k: val for k, val in values().items() if k in g}
    full = gg.compile(g)(v)
    loss, grads = gg.compile(g).step(v)
    assert loss == pytest.approx(full.loss, rel=1e-14)
    for name in g.params:
        np.testing.assert_allclose(grads[name], full.gradients[name], rtol=1e-13)
    assert gradcheck(g, v).ok


# --- the layer ------------------------------------------------------------------------


def test_layer_training_and_inference_graphs() -> None:
    model = Sequential([Dense(4, input_dim=3), BatchNormalization(), Activation("tanh"),
                        Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    assert "mu^(1)" in model.graph and "mu^(1)" not in model.eval_graph
    assert model.eval_graph["runmean^(1)"].role == "const"
    assert model.eval_graph["runvar^(1)"].role == "const"
    weights = model.get_weights()
    np.testing.assert_array_equal(weights["gamma^(1)"], np.ones(4))
    np.testing.assert_array_equal(weights["runmean^(1)"], np.zeros(4))
    np.testing.assert_array_equal(weights["runvar^(1)"], np.ones(4))


def test_running_statistics_follow_keras() -> None:
    """moving ← 0.9·moving + 0.1·batch (biased variance), and predict uses them."""
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(8, 3)) * 2 + 1, np.eye(2)[rng.integers(0, 2, 8)]
    model = Sequential([Dense(4, input_dim=3), BatchNormalization(momentum=0.9, epsilon=0.01),
                        Dense(2, activation="softmax")], seed=2)
    model.compile(optim.SGD(lr=0.05), "categorical_crossentropy", dtype="float64")
    w = model.get_weights()
    model.fit(X, Y, epochs=1, batch_size=4, shuffle=False)
    mean, var = np.zeros(4), np.ones(4)
    W, b = w["W^(1)"].copy(), w["b^(1)"].copy()
    gamma, beta, W2, b2 = w["gamma^(1)"], w["beta^(1)"], w["W^(2)"].copy(), w["b^(2)"].copy()
    for start in (0, 4):
        x, y = X[start:start + 4], Y[start:start + 4]
        z = x @ W.T + b
        mu, s2 = z.mean(0), z.var(0)
        mean, var = 0.9 * mean + 0.1 * mu, 0.9 * var + 0.1 * s2
        zhat = (z - mu) / np.sqrt(s2 + 0.01)
        h = gamma * zhat + beta
        z2 = h @ W2.T + b2
        p = np.exp(z2 - z2.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        d2 = (p - y) / 4
        dh = d2 @ W2
        dz = gamma / (4 * np.sqrt(s2 + 0.01)) * (4 * dh - dh.sum(0) - zhat * (dh * zhat).sum(0))
        W2, b2 = W2 - 0.05 * d2.T @ h, b2 - 0.05 * d2.sum(0)
        gamma, beta = gamma - 0.05 * (dh * zhat).sum(0), beta - 0.05 * dh.sum(0)
        W, b = W - 0.05 * dz.T @ x, b - 0.05 * dz.sum(0)
    got = model.get_weights()
    np.testing.assert_allclose(got["runmean^(1)"], mean, rtol=1e-12)
    np.testing.assert_allclose(got["runvar^(1)"], var, rtol=1e-12)
    np.testing.assert_allclose(got["W^(1)"], W, rtol=1e-12)
    np.testing.assert_allclose(got["gamma^(1)"], gamma, rtol=1e-12)
    h = gamma * (X @ W.T + b - mean) / np.sqrt(var + 0.01) + beta
    z2 = h @ W2.T + b2
    expected = np.exp(z2 - z2.max(1, keepdims=True))
    np.testing.assert_allclose(model.predict(X), expected / expected.sum(1, keepdims=True),
                               rtol=1e-12)


def test_batch_of_one_is_refused_up_front() -> None:
    model = Sequential([Dense(4, input_dim=3), BatchNormalization(),
                        Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    X, Y = np.ones((5, 3)), np.eye(2)[[0, 1, 0, 1, 0]]
    before = model.get_weights()
    with pytest.raises(TrainingError, match="at least 2 examples per batch"):
        model.fit(X, Y, batch_size=1)
    for k, v in model.get_weights().items():
        np.testing.assert_array_equal(v, before[k])


def test_a_lone_last_example_joins_the_previous_batch() -> None:
    seen: list[int] = []
    model = Sequential([Dense(4, input_dim=3), BatchNormalization(),
                        Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    X, Y = np.random.default_rng(0).normal(size=(9, 3)), np.eye(2)[[0, 1] * 4 + [0]]

    class Sizes(Callback):
        def on_batch_end(self, step: int, logs: dict) -> None:
            seen.append(logs["size"])

    model.fit(X, Y, batch_size=4, callbacks=[Sizes()])
    assert seen == [4, 5]


@pytest.mark.parametrize("kwargs", [{"momentum": 1.5}, {"epsilon": 0}, {"epsilon": -1e-3},
                                    {"momentum": "high"}])
def test_bad_hyperparameters(kwargs: dict) -> None:
    with pytest.raises(TrainingError):
        BatchNormalization(**kwargs)
