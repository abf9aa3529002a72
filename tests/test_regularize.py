"""L1/L2 as graph terms with Keras semantics (the squared norm: gradient 2λw)."""

from __future__ import annotations

import numpy as np
import pytest

import gradgraph as gg
from gradgraph import TrainingError, derive, regularize


def test_terms_are_graph_text() -> None:
    assert regularize.l2(1e-4).term("W^(1)") == "0.0001*sum(W^(1)^2)"
    assert regularize.l1(0.5).term("W") == "0.5*sum(abs(W))"
    assert regularize.l1_l2(1e-5, 2e-3).term("W") == "0.002*sum(W^2) + 1e-05*sum(abs(W))"
    assert regularize.Regularizer().term("W") == "" and not regularize.Regularizer()
    assert regularize.l1_l2(0.1, 0.2).term("w", scalar=True) == "0.2*w^2 + 0.1*abs(w)"


def test_keras_defaults_and_values() -> None:
    assert regularize.l2().l2 == 0.01 and regularize.l1().l1 == 0.01
    w = np.array([[1.0, -2.0], [0.0, 3.0]])
    assert regularize.l2(0.1)(w) == pytest.approx(0.1 * 14)
    assert regularize.l1(0.1)(w) == pytest.approx(0.1 * 6)
    np.testing.assert_allclose(regularize.l2(0.1).gradient(w), 0.2 * w)  # 2λw, not λw
    np.testing.assert_allclose(regularize.l1(0.1).gradient(w), 0.1 * np.sign(w))


@pytest.mark.parametrize(("reg", "factor"), [
    (regularize.l2(0.001), "0.002·w"),  # 2λw
    (regularize.l1(0.001), "sign(w) · 0.001"),
])
def test_derive_shows_the_penalty_gradient(reg: regularize.Regularizer, factor: str) -> None:
    g = gg.Graph.from_text(f"C = (sigma(w*x + b) - y)^2 + {reg.term('w', scalar=True)}")
    text = str(derive(g, wrt="w"))
    assert text.splitlines()[-1].endswith(f"+ {factor}")


def test_graph_gradient_is_dC_plus_2_lambda_w() -> None:
    base = gg.examples.mlp_text([3, 4, 2])
    reg = regularize.l2(0.05)
    plain = gg.Graph.from_text(base)
    penalised = gg.Graph.from_text(base.replace(
        "C = cross_entropy(a^(2), y)", f"C = cross_entropy(a^(2), y) + {reg.term('W^(1)')}"))
    rng = np.random.default_rng(0)
    v = {"W^(1)": rng.normal(size=(4, 3)), "b^(1)": rng.normal(size=4),
         "W^(2)": rng.normal(size=(2, 4)), "b^(2)": rng.normal(size=2),
         "x": rng.normal(size=(5, 3)), "y": np.eye(2)[[0, 1, 1, 0, 1]]}
    loss0, g0 = gg.compile(plain).step(v)
    loss1, g1 = gg.compile(penalised).step(v)
    assert loss1 == pytest.approx(loss0 + reg(v["W^(1)"]), rel=1e-13)
    np.testing.assert_allclose(g1["W^(1)"], g0["W^(1)"] + reg.gradient(v["W^(1)"]),
                               rtol=1e-12)
    np.testing.assert_allclose(g1["W^(2)"], g0["W^(2)"], rtol=1e-14)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_strength_is_validated(bad: object) -> None:
    with pytest.raises(TrainingError):
        regularize.l2(bad)  # type: ignore[arg-type]


def test_get() -> None:
    assert regularize.get(None) is None
    assert regularize.get("L2") == regularize.l2()
    assert regularize.get({"l1": 0.1, "l2": 0.0}) == regularize.l1(0.1)
    assert repr(regularize.l1_l2(0.1, 0.2)) == "l1_l2(l1=0.1, l2=0.2)"
    with pytest.raises(TrainingError, match="unknown regularizer"):
        regularize.get("l3")
    with pytest.raises(TrainingError):
        regularize.get(3)  # type: ignore[arg-type]
