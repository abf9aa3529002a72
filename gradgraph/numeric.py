"""The graph as one straight-line numpy program: forward, then backward.

:func:`compile_graph` prints every node's definition and every edge's local partial
(the very expressions :mod:`gradgraph.derive` shows) as numpy code, shares common
subexpressions between the partials (``sympy.cse``), reuses forward values where a
partial mentions them (σ′(z) becomes a(1 − a) once a = σ(z) is known), and compiles
the result once. Layers run as whole arrays (``x @ W.T + b``). The source names nodes
by id (``n3``, ``g3``) and calls registry kernels, never user text, so nothing a user
typed is ever executed; ``compiled.source`` shows it.

Batches: data inputs may carry a leading batch axis (layers require one). The output
is averaged over the batch; every parameter's adjoint is the batch mean
(1/n) Σₖ ∂Cₖ/∂w, the slides' average over training examples; data-dependent nodes
keep one adjoint per example. Which nodes have a batch axis is the graph's static
``batched`` property: inputs and what is computed from them, except a ``batch_mean``
(batch normalisation's μ, σ²), whose value and adjoint are one per unit. Its pull-back
to a batched node is ∂C/∂μ · (1/m) for each example, broadcast; to a batch-free node it
is summed over the batch.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import ops
from .codecheck import check_generated, compile_checked  # noqa: F401 - public here too
from .codegen import _Generator
from .errors import ValueInputError
from .graph import Graph, Node


@dataclass
class Result:
    """What one run of a compiled graph gives."""

    loss: float  # the output, averaged over the batch
    values: dict[str, Any]  # every node's forward value
    gradients: dict[str, Any]  # adjoints (parameters: batch mean; data: per example)


def _reduce(g: Any, ndim: int) -> Any:
    """Sum a broadcast adjoint back to a parameter's number of axes."""
    g = np.asarray(g)
    return g.sum(axis=tuple(range(g.ndim - ndim))) if g.ndim > ndim else g


def _seed(out: Any) -> Any:
    """∂(mean of the output)/∂(output): 1/n for each of n examples."""
    out = np.asarray(out)
    return np.full_like(out, 1.0 / out.shape[0]) if out.ndim else np.ones_like(out)


def _tensor_kernels() -> dict[str, Any]:
    """``_k_<op>`` (forward), ``_k_<op>_vjp<k>`` and ``_k_<op>_fused`` per tensor op."""
    out: dict[str, Any] = {}
    for spec in ops.TENSOR_OPS.values():
        out[f"_k_{spec.name}"] = spec.forward
        out.update({f"_k_{spec.name}_vjp{k}": v for k, v in enumerate(spec.vjp) if v})
        if spec.fusion is not None:
            out[f"_k_{spec.name}_producer"] = spec.fusion.producer_forward
            out[f"_k_{spec.name}_fused"] = spec.fusion.forward
    return out


RUNTIME = {"numpy": np, "_reduce": _reduce, "_seed": _seed,
           **{f"_k_{k}": v for k, v in ops.numeric_kernels().items()}, **_tensor_kernels()}


class CompiledGraph:
    """A graph compiled for one output: ``compiled(values)`` -> :class:`Result`.

    ``compiled.step(values)`` is the training hot path: (loss, parameter gradients),
    computing only the adjoints that parameters need.
    """

    def __init__(self, graph: Graph, of: str, dtype: Any = np.float64,
                 backend: str = "numpy"):
        self.graph = graph
        self.of = graph.resolve(of)
        self.dtype = np.dtype(dtype)  # leaves are cast to it once; the code keeps it
        self.backend = backend
        gen = _Generator(graph, self.of)
        self.source = gen.source()
        self._backed = gen.backed
        self._step_parts = gen.step_parts
        self._leaf_names = graph.leaves
        self._param_names = graph.params
        self._load()

    def _load(self) -> None:
        """Run the source in this backend's namespace (once per backend)."""
        namespace = _runtime(self.backend)
        # The source holds only ids, kernel names and printed numbers (see _Generator);
        # check_generated makes sure of it before anything runs, whatever the backend.
        exec(compile_checked(self.source), namespace)  # noqa: S102
        wrap = _wrapper(self.backend)
        self._program = wrap(namespace["program"])
        self._forward = wrap(namespace["forward"])
        self._step = wrap(namespace["step"])
        self._keeping: dict[tuple[str, ...], tuple[tuple[str, ...], Any]] = {}

    def with_backend(self, backend: str, dtype: np.dtype) -> CompiledGraph:
        """The same generated source, run on ``backend`` in ``dtype`` (not generated again)."""
        twin = copy.copy(self)
        twin.__dict__.pop("_jax_runners", None)
        twin.backend, twin.dtype = backend, np.dtype(dtype)
        twin._load()
        return twin

    def with_dtype(self, dtype: np.dtype) -> CompiledGraph:
        """The same compiled program, computing in ``dtype``."""
        twin = copy.copy(self)
        twin.dtype = np.dtype(dtype)
        twin._keeping = {}
        return twin

    def _leaf_values(self, values: Mapping[str, Any]) -> list[Any]:
        given = {self.graph.resolve(k): v for k, v in values.items()}
        missing = [n for n in self.graph.leaves if n not in given]
        if missing:
            raise ValueInputError(f"no value given for '{missing[0]}'")
        leaves = [self.graph[n] for n in self.graph.leaves]
        out = [_checked(node, given[node.name], self.dtype) for node in leaves]
        sizes = {len(v) for node, v in zip(leaves, out, strict=True)
                 if _batched(node, v)}
        if len(sizes) > 1:
            raise ValueInputError(f"inputs have different numbers of examples: "
                                  f"{sorted(sizes)}")
        return out

    def forward(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Every node's value."""
        results = self._forward(*self._leaf_values(values))
        return self.graph.named({n.name: _plain(v)
                                 for n, v in zip(self.graph.nodes, results, strict=True)})

    def __call__(self, values: Mapping[str, Any]) -> Result:
        fwd, grads = self._program(*self._leaf_values(values))
        nodes = self.graph.nodes
        value = {n.name: _plain(v) for n, v in zip(nodes, fwd, strict=True)}
        out = np.asarray(fwd[[n.name for n in nodes].index(self.of)])
        count = out.shape[0] if out.ndim else 1
        gradient = {}
        for node, g in zip(nodes, grads, strict=True):
            if g is None:
                continue
            per_example = np.ndim(g) > len(node.shape)
            gradient[node.name] = _plain(g * count if per_example else g)
        # Any spelling of a name looks up (w1, w_1, w₁: graph.Names).
        return Result(float(np.mean(value[self.of])), self.graph.named(value),
                      self.graph.named(gradient))

    def step(self, values: Mapping[str, Any], check: bool = True
             ) -> tuple[float, dict[str, Any]]:
        """(mean loss, batch-mean gradient of every parameter) — the training hot path.

        ``check=False`` skips validating the values (names, shapes, finiteness): for a
        training loop that validated its data once, with values keyed by node name.
        """
        leaves = (self._leaf_values(values) if check
                  else [values[name] for name in self._leaf_names])
        loss, grads = self._step(*leaves)
        return _mean(loss), dict(zip(self._param_names, grads, strict=True))

    def step_keeping(self, values: Mapping[str, Any], keep: tuple[str, ...],
                     check: bool = True) -> tuple[float, dict[str, Any], dict[str, Any]]:
        """:meth:`step`, plus the forward values of the nodes in ``keep``.

        For a training loop that needs more of the same forward pass: the batch
        statistics μ and σ² of batch normalisation (for running averages) or the
        predictions (for a training metric), without running the forward twice.
        """
        cached = self._keeping.get(keep)
        if cached is None:
            names = tuple(self.graph.resolve(k) for k in keep)
            cached = self._keeping[keep] = (names, self._compile_keeping(names))
        names, fn = cached
        leaves = (self._leaf_values(values) if check
                  else [values[name] for name in self._leaf_names])
        loss, grads, kept = fn(*leaves)
        return (_mean(loss), dict(zip(self._param_names, grads, strict=True)),
                dict(zip(names, kept, strict=True)))

    def step_function(self, keep: tuple[str, ...] = ()) -> Any:
        """The training step as one function of the leaves, in ``graph.leaves`` order:
        ``(per-example loss, parameter gradients, kept values)``; for a backend that
        composes it with the optimizer update (under ``jax.jit``, one program)."""
        names = tuple(self.graph.resolve(k) for k in keep)
        return self._compile_keeping(names)

    def _compile_keeping(self, names: tuple[str, ...]) -> Any:
        leaves, body, ret = self._step_parts
        kept = "".join(f"{self.graph[n].id}, " for n in names)
        source = f"def step_keeping({leaves}):\n{body}\n    return {ret}, ({kept})\n"
        namespace = _runtime(self.backend)
        namespace["forward"] = self._forward
        exec(compile_checked(source), namespace)  # noqa: S102
        return _wrapper(self.backend)(namespace["step_keeping"])


def _runtime(backend: str) -> dict[str, Any]:
    """A fresh namespace for a generated program: numpy's, or its JAX twin."""
    if backend == "numpy":
        return dict(RUNTIME)
    from .backends import jax_runtime

    return jax_runtime.runtime(RUNTIME)


def _wrapper(backend: str) -> Any:
    """How a generated function is made callable: as it is (numpy) or ``jax.jit``-ed."""
    if backend == "numpy":
        return lambda fn: fn
    from .backends import jax_runtime

    return jax_runtime.jit


def _mean(loss: Any) -> float:
    """The batch mean of a loss, as ``np.mean`` computes it but without its overhead."""
    if isinstance(loss, np.ndarray) and loss.ndim == 1 and loss.size:
        return float(np.add.reduce(loss)) / loss.shape[0]
    return float(np.mean(loss))


def _batched(node: Node, v: Any) -> bool:
    return node.role == "input" and np.ndim(v) > len(node.shape)


def _checked(node: Node, value: Any, dtype: np.dtype) -> Any:
    arr = np.asarray(value, dtype=dtype)
    if not np.all(np.isfinite(arr)):
        raise ValueInputError(f"the value of '{node.name}' is not finite")
    shape = node.shape
    if not shape:
        if arr.ndim > 1:
            raise ValueInputError(f"'{node.name}' must be a number or a 1-D batch, "
                                  f"got shape {arr.shape}")
        if arr.ndim:
            return arr
        return float(arr) if dtype == np.float64 else arr[()]  # keep a float32 scalar
    if arr.shape == shape and node.role == "input":
        return arr[np.newaxis]  # one example
    expected = shape if node.role != "input" else ("n", *shape)
    if arr.shape[-len(shape):] != shape or arr.ndim != len(expected):
        raise ValueInputError(f"'{node.name}' must have shape {_show(expected)}, "
                              f"got {arr.shape}")
    return arr


def _show(shape: tuple) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _plain(v: Any) -> Any:
    """A Python float for a 0-d result, the array otherwise."""
    arr = np.asarray(v)
    return float(arr) if arr.ndim == 0 else arr


DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def compile_graph(graph: Graph, of: str | None = None, dtype: Any = None,
                  backend: str = "numpy") -> CompiledGraph:
    """Compile ``graph`` for output ``of`` once; later calls reuse the program.

    ``dtype`` (float32 or float64) is what the program computes in: leaves are cast to
    it (default float64 on numpy, float32 on JAX, whose 64-bit mode is off unless the
    user turns it on). ``backend`` is ``"numpy"`` or ``"jax"``: the same checked source,
    run against jax.numpy under ``jax.jit``. One source serves every dtype; each
    (dtype, backend) gets its own cached :class:`CompiledGraph`.
    """
    from .backends import check_backend

    backend = check_backend(backend)
    name = graph.resolve(of or graph.cost)
    kind = _dtype(dtype, np.float64 if backend == "numpy" else np.float32)
    if backend == "jax":
        from .backends import jax_runtime

        jax_runtime.check_dtype(kind)
    cache = graph._compiled
    tail = "" if backend == "numpy" else "\0jax"
    key = (name if kind == np.float64 else f"{name}\0{kind}") + tail  # float64 as before
    if key not in cache:
        other = cache.get(name + tail) or cache.get(f"{name}\0float32{tail}")
        source = next((cache[k] for k in (name, f"{name}\0float32", f"{name}\0jax",
                                          f"{name}\0float32\0jax") if k in cache), None)
        if other is not None:
            cache[key] = other.with_dtype(kind)
        elif source is not None:
            cache[key] = source.with_backend(backend, kind)
        else:
            cache[key] = CompiledGraph(graph, name, kind, backend)
    return cache[key]


def _dtype(dtype: Any, default: Any) -> np.dtype:
    """float32 or float64 (``None``: ``default``); else :class:`ValueInputError`."""
    try:
        kind = np.dtype(default if dtype is None else dtype)
    except TypeError:
        kind = None
    if kind not in DTYPES:
        raise ValueInputError(f"dtype must be float32 or float64, not {str(dtype)[:40]}")
    return kind
