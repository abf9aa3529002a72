"""Array backends for compiled graphs and training: numpy (always) and JAX (an extra).

The generated program is the same for both; only the array namespace it runs against
changes. Nothing here imports jax until a JAX backend is asked for, so ``import
gradgraph`` stays light.
"""

from __future__ import annotations

from types import ModuleType

from ..errors import ValueInputError

BACKENDS = ("numpy", "jax")


class BackendError(ValueInputError):
    """An unknown backend, or one whose package is not installed."""


def check_backend(name: object) -> str:
    """``name`` if it is a backend gradgraph has; else :class:`BackendError` listing them."""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {str(name)[:40]!r}; choose one of "
                           f"{', '.join(BACKENDS)}")
    return str(name)


def load_jax() -> tuple[ModuleType, ModuleType]:
    """(jax, jax.numpy), imported now; :class:`BackendError` when jax is not installed."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise BackendError("the JAX backend needs jax: pip install gradgraph[jax]") from None
    return jax, jnp
