"""Every op of the registry, checked the same way (OpInfo style)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from gradgraph import ops

SPECS = list(ops.REGISTRY.values())
t = sp.Symbol("t", real=True)

# Points inside each op's domain (log and sqrt need positive arguments; relu/abs
# avoid their kink at 0, where only a subgradient exists).
POSITIVE = {"log", "sqrt"}


def points(spec: ops.OpSpec) -> np.ndarray:
    if spec.name in POSITIVE:
        return np.array([0.05, 0.3, 1.0, 2.5, 7.0])
    return np.array([-3.0, -0.7, 0.2, 1.1, 4.0])


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_local_partial_equals_sympy_diff_of_the_definition(spec: ops.OpSpec) -> None:
    shown = ops.elementary(sp.diff(spec.func(t), t))
    truth = sp.diff(spec.define(t), t)
    for v in points(spec):
        assert float(shown.subs(t, v)) == pytest.approx(float(truth.subs(t, v)), rel=1e-12)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_prime_definition_equals_sympy_diff(spec: ops.OpSpec) -> None:
    prime = ops.elementary(ops.prime_definition(spec, t))
    truth = sp.diff(spec.define(t), t)
    for v in points(spec):
        assert float(prime.subs(t, v)) == pytest.approx(float(truth.subs(t, v)), rel=1e-12)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_numpy_forward_equals_evalf(spec: ops.OpSpec) -> None:
    xs = points(spec)
    expected = [float(spec.define(sp.Float(v)).evalf(30)) for v in xs]
    np.testing.assert_allclose(spec.forward(xs), expected, rtol=1e-13)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_numpy_backward_matches_central_differences(spec: ops.OpSpec) -> None:
    xs = points(spec)
    h = 1e-6
    numeric = (spec.forward(xs + h) - spec.forward(xs - h)) / (2 * h)
    np.testing.assert_allclose(spec.backward(xs), numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", ["sigma", "tanh", "relu", "softplus"])
def test_activations_are_finite_without_warnings_at_extremes(name: str) -> None:
    spec = ops.REGISTRY[name]
    xs = np.array([-1000.0, -710.0, 0.0, 710.0, 1000.0])
    with np.errstate(all="raise", under="ignore"):  # underflow to 0 is the right answer
        assert np.all(np.isfinite(spec.forward(xs)))
        assert np.all(np.isfinite(spec.backward(xs)))


def test_aliases_and_suggestions() -> None:
    assert ops.get("sigmoid") is ops.SIGMA
    assert ops.get("σ") is ops.SIGMA
    assert ops.suggest("tahn") == "tanh"
    with pytest.raises(ops.UnknownOpError, match="did you mean 'softplus'"):
        ops.get("softpuls")


def test_registering_a_name_twice_is_refused() -> None:
    with pytest.raises(ops.GradgraphError, match="already registered"):
        ops.register(ops.OpSpec("sigmoid", sp.exp, "s", "s", np.exp, np.exp))


def test_user_op_derives_like_a_builtin() -> None:
    x = sp.Symbol("x", real=True)
    swish = ops.user_op("swish", x, x * ops.SIGMA.func(x))
    shown = ops.elementary(sp.diff(swish.func(t), t))
    truth = sp.diff(t / (1 + sp.exp(-t)), t)
    assert float((shown - truth).subs(t, 0.7)) == pytest.approx(0.0, abs=1e-14)


@pytest.mark.parametrize(("name", "reach"), [("sigma", 700.0), ("tanh", 350.0)])
def test_primes_keep_their_digits_far_out(name: str, reach: float) -> None:
    # σ(1 − σ) is exactly 0 past |z| ≈ 37 and 1 − tanh² past ≈ 19; the true values stay
    # normal floats out to `reach`.
    spec = ops.REGISTRY[name]
    xs = np.array([-reach, -100.0, -37.5, -20.0, 20.0, 37.5, 100.0, reach])
    expected = [float(spec.prime(sp.Float(v)).evalf(30)) for v in xs]
    assert all(e > 0 for e in expected)
    np.testing.assert_allclose(spec.backward(xs), expected, rtol=1e-13)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_op_and_prime_evalf_agree_with_the_kernels(spec: ops.OpSpec) -> None:
    xs = points(spec)
    np.testing.assert_allclose(spec.forward(xs), [float(spec.func(v).evalf()) for v in xs],
                               rtol=1e-13)
    np.testing.assert_allclose(spec.backward(xs), [float(spec.prime(v).evalf()) for v in xs],
                               rtol=1e-13)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("kernel", ["forward", "backward"])
def test_kernels_keep_the_float_dtype_they_are_given(spec: ops.OpSpec, kernel: str) -> None:
    fn = getattr(spec, kernel)
    x = points(spec)
    for dtype in (np.float32, np.float64):
        out = fn(x.astype(dtype))
        assert out.dtype == dtype
        np.testing.assert_allclose(out, fn(x), rtol=1e-6 if dtype == np.float32 else 0)
    ints = np.array([1, 2, 3]) * (1 if spec.name in POSITIVE else -1)
    assert fn(ints).dtype == np.float64  # integers and Python floats compute in float64
    assert np.asarray(fn(float(x[0]))).dtype == np.float64


def test_float32_kernels_stay_stable_far_out() -> None:
    far = np.array([-800.0, -90.0, 90.0, 800.0], dtype=np.float32)
    for spec in SPECS:
        if spec.name in POSITIVE or spec.name == "exp":  # exp overflows by definition
            continue
        for fn in (spec.forward, spec.backward):
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                out = fn(far)
            assert out.dtype == np.float32 and np.all(np.isfinite(out))
    assert ops.SIGMA.backward(np.float32([60.0]))[0] > 0  # σ′ keeps its digits in float32


# relu′ and abs′ are steps: differentiating them again gave SymPy's DiracDelta, which the
# generated program cannot print, so C = relu'(w), or f'(w) with f(x) = relu(x), did not
# compile (found by tests/test_user_op_properties.py). Away from the kink it is 0.
@pytest.mark.parametrize("text", ["C = relu'(w)", "C = abs'(w)", "f(x) = relu(x)\nC = f'(w)",
                                  "f(x) = abs(x)^2 + relu(x)\nC = f'(w)*w"])
@pytest.mark.parametrize("w", [-0.7, 0.4])
def test_primes_of_kinked_ops_differentiate_to_zero_off_the_kink(text: str, w: float) -> None:
    from gradgraph.graph import Graph
    g = Graph.from_text(text)
    exact = ops.elementary(g.expand("C"))
    at = {g["w"].symbol: sp.Rational(w)}
    assert g.evaluate({"w": w})["C"] == pytest.approx(float(exact.xreplace(at)))
    assert g.gradients({"w": w})["w"] == pytest.approx(
        float(sp.diff(exact, g["w"].symbol).xreplace(at)))
    assert not sp.diff(g["C"].expr, g["w"].symbol).has(sp.DiracDelta)
