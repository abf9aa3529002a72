"""What a generated program needs to run under ``jax.jit``: its namespace and the wrapper.

:mod:`gradgraph.numeric` prints one straight-line program (``numpy.`` calls, registry
kernels, node ids) and checks it against its AST whitelist; this module gives that very
program a namespace in which ``numpy`` is ``jax.numpy``. Tensor-op kernels take the
array namespace as their first argument already; the element-wise ops' kernels are
numpy code, so their JAX twins are printed here from each built-in op's stable
``numeric_form`` (registry formulas in one fixed symbol, never user text; a user-defined
op is inlined by the generator and needs no kernel).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import BackendError, load_jax


@functools.lru_cache(maxsize=1)
def _elementwise_kernels() -> dict[str, Callable[[Any], Any]]:
    """``_k_<op>`` and ``_k_<op>_prime`` in jax.numpy for every built-in op."""
    import sympy as sp

    from .. import ops

    x = sp.Symbol("x", real=True)
    out: dict[str, Callable[[Any], Any]] = {}
    for spec in ops.REGISTRY.values():
        if spec.user_defined:
            continue
        for key, fn in ((f"_k_{spec.name}", spec.func), (f"_k_{spec.name}_prime", spec.prime)):
            out[key] = sp.lambdify(x, fn(x).numeric_form(), "jax")
    return out


def _reduce(g: Any, ndim: int) -> Any:
    """Sum a broadcast adjoint back to a parameter's number of axes (jax twin)."""
    _, jnp = load_jax()
    g = jnp.asarray(g)
    return g.sum(axis=tuple(range(g.ndim - ndim))) if g.ndim > ndim else g


def _seed(out: Any) -> Any:
    """∂(mean of the output)/∂(output): 1/n for each of n examples (jax twin)."""
    _, jnp = load_jax()
    out = jnp.asarray(out)
    return jnp.full_like(out, 1.0 / out.shape[0]) if out.ndim else jnp.ones_like(out)


def runtime(numpy_runtime: Mapping[str, Any]) -> dict[str, Any]:
    """The numpy runtime of the generated programs with every numpy-bound entry replaced.

    Entries that call numpy directly and have no JAX twin are left out, so a program
    that needed one fails at trace time with a NameError rather than computing in numpy.
    """
    _, jnp = load_jax()
    from .. import ops

    bound = {f"_k_{name}": fn for name, fn in ops.TENSOR_KERNELS.items()}
    out = {k: v for k, v in numpy_runtime.items() if bound.get(k) is not v}
    out.update(_elementwise_kernels())
    out.update({"numpy": jnp, "_reduce": _reduce, "_seed": _seed})
    return out


def check_dtype(dtype: np.dtype) -> None:
    """float64 under JAX needs its 64-bit mode, which is process-wide: the user's choice."""
    jax, _ = load_jax()
    if dtype == np.float64 and not jax.config.read("jax_enable_x64"):
        raise BackendError("float64 on the JAX backend needs JAX's 64-bit mode: call "
                           "jax.config.update('jax_enable_x64', True) first, or use "
                           "dtype='float32'")


def jit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``jax.jit(fn)``: traced once per input shapes and dtypes, then compiled code."""
    jax, _ = load_jax()
    return jax.jit(fn)


def _safe_div(num: Any, den: Any) -> Any:
    """``num/den`` with 0 where ``den == 0``: the optimizers' 0/0 guard, in jax.numpy."""
    _, jnp = load_jax()
    nonzero = den != 0
    return jnp.where(nonzero, num / jnp.where(nonzero, den, 1), 0)


def optimizer_step(source: str, fname: str) -> Callable[..., tuple]:
    """An optimizer's generated update (``Optimizer.source``) as a pure jax function.

    The very program the numpy path runs, executed against jax.numpy: one source for
    each rule. Like the numpy path it runs with no builtins.
    """
    _, jnp = load_jax()
    namespace: dict[str, Any] = {"__builtins__": {}, "numpy": jnp, "_safe_div": _safe_div}
    exec(compile(source, f"<gradgraph.optim {fname} jax>", "exec"), namespace)  # noqa: S102
    return namespace[fname]
