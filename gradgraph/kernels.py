"""The numpy kernels of the element-wise ops: stable where the textbook formula
overflows, and in the dtype they are given (float32 stays float32; integers and Python
numbers compute in float64). Generated code calls them as ``_k_sigma(x)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import tensor_ops as _tensor_ops
from .errors import GradgraphError

Kernel = Callable[[np.ndarray], np.ndarray]


def _floating(x: np.ndarray) -> np.ndarray:
    """``x`` as an array in its own float dtype (float32 stays float32: training runs
    in it); integers, bools and Python numbers become float64."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp(-|x|) never overflows; pick the form that divides by 1 + small.
    x = _floating(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_prime(x: np.ndarray) -> np.ndarray:
    # e^(−|x|)/(1 + e^(−|x|))², σ′ being even: σ(1 − σ) is exactly 0 past |x| ≈ 37,
    # this keeps every digit until e^(−|x|) underflows (|x| ≈ 745).
    e = np.exp(-np.abs(_floating(x)))
    return e / ((1.0 + e) * (1.0 + e))


def _tanh_prime(x: np.ndarray) -> np.ndarray:
    # sech² x = 4e^(−2|x|)/(1 + e^(−2|x|))²: 1 − tanh² is exactly 0 past |x| ≈ 19.
    e = np.exp(-2.0 * np.abs(_floating(x)))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(_floating(x), 0.0)


def _step(x: np.ndarray) -> np.ndarray:
    # relu′(0) := 0, the subgradient every framework uses. (np.heaviside is ~15×
    # slower than a comparison and a cast.)
    x = _floating(x)
    return (x > 0).astype(x.dtype)


def _softplus(x: np.ndarray) -> np.ndarray:
    # log(1 + eˣ) = max(x, 0) + log1p(e^(−|x|)): never overflows, and ~2.6× faster
    # than np.logaddexp(0, x) (it is the VAE's hottest kernel).
    x = _floating(x)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _sqrt_prime(x: np.ndarray) -> np.ndarray:
    return 0.5 / np.sqrt(_floating(x))


def _reciprocal(x: np.ndarray) -> np.ndarray:
    return 1.0 / _floating(x)


def _elementwise(fn: Kernel) -> Kernel:
    """A numpy ufunc as a kernel: integers in, float64 out (np.abs(int) stays int);
    float and complex dtypes pass through as the ufunc alone would take them."""

    def kernel(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        return fn(x if x.dtype.kind in "fc" else x.astype(np.float64))

    kernel.__name__ = kernel.__qualname__ = f"_{fn.__name__}"
    return kernel


_tanh, _exp, _log, _sqrt, _abs, _sign = map(
    _elementwise, (np.tanh, np.exp, np.log, np.sqrt, np.abs, np.sign))


def _unavailable(x: np.ndarray) -> np.ndarray:  # pragma: no cover - never called
    raise GradgraphError("user-defined ops are evaluated through their definition")


# --- tensor ops: one registry entry each, in gradgraph.tensor_ops (re-exported) ----

# numpy-bound tensor kernels under their former names, for callers outside the registry.
TENSOR_KERNELS: dict[str, Kernel] = {
    "softmax": lambda z: _tensor_ops._softmax(np, z),
    "log_softmax": lambda z: _tensor_ops._log_softmax(np, z),
    "cross_entropy_logits": lambda z, y: -(y * _tensor_ops._log_softmax(np, z)).sum(axis=-1),
    "softmax_vjp": lambda a, g: _tensor_ops._softmax_vjp(np, g, a, None),
}
