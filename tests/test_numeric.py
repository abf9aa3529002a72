"""The same graph as numbers: one compiled numpy program, batches, stability."""

from __future__ import annotations

import numpy as np
import pytest

import gradgraph
from gradgraph import Graph, ValueInputError, examples

SLIDE = "z = w*x + b; a = sigma(z); C = (a - y)^2"


def reference(w: float, x: np.ndarray, b: float, y: np.ndarray) -> dict[str, np.ndarray]:
    """The slide's network by hand, per example."""
    a = 1 / (1 + np.exp(-(w * x + b)))
    dz = a * (1 - a) * 2 * (a - y)
    return {"C": (a - y) ** 2, "w": dz * x, "b": dz, "x": dz * w, "a": 2 * (a - y)}


def test_slides_numbers() -> None:
    values = examples.chain(1).evaluate(examples.SLIDES_VALUES)
    assert values["a^(L-1)"] == 0.48
    assert round(values["a^(L)"], 2) == 0.66


def test_parameter_adjoints_are_batch_means_and_data_adjoints_per_example() -> None:
    x = np.array([0.5, -1.0, 2.0, 0.1])
    y = np.array([1.0, 0.0, 1.0, 0.0])
    g = Graph.from_text(SLIDE)
    result = gradgraph.compile(g)({"w": 0.7, "x": x, "b": -0.2, "y": y})
    ref = reference(0.7, x, -0.2, y)
    assert result.loss == pytest.approx(ref["C"].mean(), rel=1e-14)
    assert result.gradients["w"] == pytest.approx(ref["w"].mean(), rel=1e-14)
    assert result.gradients["b"] == pytest.approx(ref["b"].mean(), rel=1e-14)
    np.testing.assert_allclose(result.gradients["x"], ref["x"], rtol=1e-14)
    np.testing.assert_allclose(result.gradients["a"], ref["a"], rtol=1e-14)


def test_gradients_uses_the_same_program() -> None:
    g = Graph.from_text(SLIDE)
    grads = g.gradients({"w": 0.7, "x": 0.5, "b": -0.2, "y": 1.0})
    assert grads["w"] == pytest.approx(reference(0.7, 0.5, -0.2, 1.0)["w"], rel=1e-14)
    assert gradgraph.compile(g) is gradgraph.compile(g)  # compiled once


def test_source_is_inspectable_and_holds_no_user_names() -> None:
    g = Graph.from_text("z^(L) = w^(L) a^(L-1) + b^(L); secret_name = sigma(z^(L))")
    source = gradgraph.compile(g).source
    assert "def program(" in source and "def step(" in source and "_k_sigma(" in source
    assert "secret" not in source and "^(" not in source


def test_partials_reuse_forward_values() -> None:
    source = gradgraph.compile(Graph.from_text(SLIDE)).source
    assert "n4*(1 - n4)" in source  # σ′(z) = a(1 − a) from the forward value a = σ(z)


def test_common_subexpressions_are_shared() -> None:
    g = Graph.from_text("C = (a - y)^2 + 3(a - y)^2")
    source = gradgraph.compile(g).source
    assert "t0 = " in source


@pytest.mark.parametrize("z", [1000.0, -1000.0])
def test_extreme_inputs_give_finite_values_without_warnings(z: float) -> None:
    g = Graph.from_text(SLIDE)
    with np.errstate(all="raise", under="ignore"):
        result = gradgraph.compile(g)({"w": 1.0, "x": z, "b": 0.0, "y": 1.0})
    assert np.isfinite(result.loss)
    assert all(np.all(np.isfinite(v)) for v in result.gradients.values())


def test_user_defined_ops_evaluate_through_their_definition() -> None:
    g = Graph.from_text("swish(t) = t*sigma(t)\na = swish(z)\nC = a^2")
    h = 1e-6
    grad = g.gradients({"z": 0.3})["z"]
    numeric = (g.evaluate({"z": 0.3 + h})["C"] - g.evaluate({"z": 0.3 - h})["C"]) / (2 * h)
    assert grad == pytest.approx(numeric, rel=1e-7)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"w": 1, "x": 1, "b": 0}, "no value given for 'y'"),
        ({"w": 1, "x": np.ones(3), "b": 0, "y": np.ones(4)},
         "different numbers of examples: \\[3, 4\\]"),
        ({"w": 1, "x": np.nan, "b": 0, "y": 1}, "'x' is not finite"),
        ({"w": 1, "x": np.ones((2, 2)), "b": 0, "y": 1}, "a number or a 1-D batch"),
    ],
)
def test_bad_values(values: dict, message: str) -> None:
    with pytest.raises(ValueInputError, match=message):
        Graph.from_text(SLIDE).gradients(values)


LAYER = ("W: param(3, 2); b: param(3); x: input(2); y: input(3)\n"
         "z = W x + b\na = tanh(z)\nC = mean((a - y)^2)")


def _layer_values() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=3),
            "x": rng.normal(size=(5, 2)), "y": rng.normal(size=(5, 3))}


def test_a_float32_compile_computes_in_float32_and_matches_float64() -> None:
    g = Graph.from_text(LAYER)
    values = _layer_values()
    wide = gradgraph.compile(g, dtype=np.float64)
    narrow = gradgraph.compile(g, dtype=np.float32)
    assert narrow is not wide and narrow is gradgraph.compile(g, dtype="float32")
    assert wide is gradgraph.compile(g)  # float64 stays the default
    low, high = narrow(values), wide(values)
    assert low.values["C"].dtype == np.float32 and high.values["C"].dtype == np.float64
    assert low.loss == pytest.approx(high.loss, rel=1e-5)
    for name in ("W", "b"):
        assert low.gradients[name].dtype == np.float32  # not upcast by the value check
        np.testing.assert_allclose(low.gradients[name], high.gradients[name], rtol=1e-4,
                                   atol=1e-6)
    loss, grads = narrow.step(values)
    assert loss == pytest.approx(high.loss, rel=1e-5)
    assert all(g.dtype == np.float32 for g in grads.values())


@pytest.mark.parametrize("act", ["sigma", "relu", "softplus"])
def test_float32_survives_every_elementwise_kernel(act: str) -> None:
    g = Graph.from_text(LAYER.replace("tanh", act))
    result = gradgraph.compile(g, dtype=np.float32)(_layer_values())
    assert all(v.dtype == np.float32 for v in result.gradients.values())


def test_a_float32_compile_shares_the_program_and_refuses_other_dtypes() -> None:
    g = Graph.from_text(SLIDE)
    assert gradgraph.compile(g, dtype=np.float32).source == gradgraph.compile(g).source
    with pytest.raises(ValueInputError, match="float32 or float64"):
        gradgraph.compile(g, dtype=np.int64)


def test_compiled_chains_keep_the_finite_difference_gradient() -> None:
    g = examples.chain(40)  # long enough for every group of pull-backs to be cse'd apart
    values = {name: 0.3 + 0.01 * i for i, name in enumerate(g.leaves)}
    grads = gradgraph.compile(g)(values).gradients
    w = g.params[0]
    h = 1e-6
    up = gradgraph.compile(g)({**values, w: values[w] + h}).loss
    down = gradgraph.compile(g)({**values, w: values[w] - h}).loss
    assert grads[w] == pytest.approx((up - down) / (2 * h), rel=1e-5)


# A user op inside another's body is printed inline in the generated program; unbracketed,
# 2*f(x) with f(x) = x + 1 ran as 2*x + 1, and (x**2)**2 as x**(2**2) (a tower that hung).
@pytest.mark.parametrize("text, value, grad", [
    ("f(x) = x + 1\ng(x) = 2*f(x)\nC = g(w)", 2 * (0.7 + 1), 2.0),
    ("f(x) = x - 1\ng(x) = f(x)^2\nC = g(w)", (0.7 - 1) ** 2, 2 * (0.7 - 1)),
    ("f(x) = x*x\ng(x) = f(f(x))\nh(x) = g(g(x))\nk(x) = h(h(x))\nC = k(w)",
     0.7 ** 256, 256 * 0.7 ** 255),
    ("f(x) = x + 1\ng(x) = f'(x)*f(x)^3\nC = g(w)", (0.7 + 1) ** 3, 3 * (0.7 + 1) ** 2),
    ("s(x) = sigma(x) - 1\ng(x) = s(x)/s(2*x)\nC = g(w)", None, None),
])
def test_nested_user_ops_compute_what_they_say(text, value, grad):
    import sympy as sp

    from gradgraph import ops
    g = Graph.from_text(text)
    if value is None:  # the exact value of the expanded expression
        w = g["w"].symbol
        exact = ops.elementary(g.expand("C"))
        value = float(exact.subs(w, 0.7))
        grad = float(sp.diff(exact, w).subs(w, 0.7))
    assert g.evaluate({"w": 0.7})["C"] == pytest.approx(value, rel=1e-12)
    assert g.gradients({"w": 0.7})["w"] == pytest.approx(grad, rel=1e-10)
