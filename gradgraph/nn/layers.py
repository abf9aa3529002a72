"""Keras-shaped layers that write gradgraph text.

Each layer adds lines to two programs: the training graph (what ``fit`` differentiates)
and the inference graph (what ``predict``/``evaluate`` run). They differ only where
Keras layers behave differently in training and inference:

- ``Dropout(rate)`` — inverted dropout, in the graph: training has
  ``d^(k) = a^(k) mask^(k) / (1 - rate)`` with ``mask^(k): input(units)``, fed by ``fit``
  with fresh Bernoulli(1 − rate) masks each step (reproducible from the seed), so
  ``derive`` shows ∂d/∂a = mask/(1 − rate). Inference has no dropout node at all
  (y = x, the same expectation).
- ``BatchNormalization`` — training normalises with the batch's statistics, written
  with ``batch_mean`` so that the graph derives Ioffe & Szegedy's backward pass::

      mu^(k) = batch_mean(z^(k))
      var^(k) = batch_mean((z^(k) - mu^(k))^2)          # biased, as Keras
      zhat^(k) = (z^(k) - mu^(k)) / sqrt(var^(k) + epsilon)
      bn^(k) = gamma^(k) zhat^(k) + beta^(k)

  Inference uses the running statistics instead, as const leaves
  ``runmean^(k)``, ``runvar^(k)`` (Keras's moving_mean/moving_variance: moving ← momentum·moving +
  (1 − momentum)·batch, initial 0 and 1; momentum 0.99, epsilon 1e−3 by default).

Weights are stored as in the slides, W of shape (units out, units in), so a layer
computes ``x @ W.T + b``; Keras's kernel is the transpose.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import ops
from .. import regularize as _regularize
from ..errors import TrainingError

Initializer = Callable[[tuple[int, int], np.random.Generator], np.ndarray]


def _glorot_uniform(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    fan_out, fan_in = shape
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


def _glorot_normal(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    fan_out, fan_in = shape
    return rng.normal(0.0, np.sqrt(2.0 / (fan_in + fan_out)), size=shape)


def _he_uniform(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    limit = np.sqrt(6.0 / shape[1])
    return rng.uniform(-limit, limit, size=shape)


def _he_normal(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0.0, np.sqrt(2.0 / shape[1]), size=shape)


def _zeros(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    return np.zeros(shape)


INITIALIZERS: dict[str, Initializer] = {
    "glorot_uniform": _glorot_uniform,  # U(±√(6/(fan_in + fan_out))), Keras's default
    "glorot_normal": _glorot_normal,  # N(0, 2/(fan_in + fan_out)) (not truncated)
    "he_uniform": _he_uniform,
    "he_normal": _he_normal,
    "zeros": _zeros,
}


def _units(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise TrainingError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def _tensor_activations() -> tuple[str, ...]:
    """The tensor ops the registry marks usable as an activation (softmax)."""
    return tuple(spec.name for spec in ops.TENSOR_OPS.values() if spec.activation)


def _activation_name(name: Any) -> str | None:
    """Canonical registry name; None for "linear"; TrainingError for unknown names."""
    if name is None or name == "linear":
        return None
    if not isinstance(name, str):
        raise TrainingError(f"an activation is a name such as 'tanh', got {name!r}")
    tspec = ops.tensor_op(name)
    if tspec is not None and tspec.activation:  # a tensor op marked usable as one: softmax
        return tspec.name
    spec = ops.lookup(name) if tspec is None else None
    if spec is None or spec.user_defined:
        hint = ops.suggest(name, (*_tensor_activations(), "linear"))
        tail = f"; did you mean '{hint}'?" if hint else ""
        raise TrainingError(f"unknown activation '{name}'{tail}")
    return spec.name


@dataclass
class Block:
    """What a layer sees while the model is written: names, units, the two programs."""

    train: list[str] = field(default_factory=list)  # statements of the training graph
    infer: list[str] = field(default_factory=list)  # statements of the inference graph
    params: dict[str, tuple[int, ...]] = field(default_factory=dict)
    inits: dict[str, Callable[[np.random.Generator], np.ndarray]] = field(default_factory=dict)
    masks: dict[str, tuple[int, float]] = field(default_factory=dict)  # name -> units, rate
    # batch mean μ -> (batch variance σ², running-mean const, running-var const, momentum)
    stats: dict[str, tuple[str, str, str, float]] = field(default_factory=dict)
    consts: dict[str, tuple[int, float]] = field(default_factory=dict)  # name -> units, start
    penalties: list[str] = field(default_factory=list)
    used: set[str] = field(default_factory=lambda: {"x", "y", "C", "C_0"})
    current: str = "x"  # the training graph's node that feeds the next layer
    current_infer: str = "x"  # the same in the inference graph
    units: int = 0
    activation: str | None = None  # the op that made ``current``, if an activation did
    logits: str | None = None  # the node that activation was applied to
    tag: int = 0  # layer superscript: the number of Dense layers so far
    nodes: list[list[str]] = field(default_factory=list)  # node names per layer

    def fresh(self, base: str) -> str:
        """``base^(tag)``, or ``base2^(tag)``, … if the name is taken."""
        k = 1
        while True:
            name = f"{base}{k if k > 1 else ''}^({self.tag})"
            if name not in self.used:
                self.used.add(name)
                return name
            k += 1

    def both(self, line: str) -> None:
        self.train.append(line)
        self.infer.append(line)


class Layer:
    """Base class: a layer writes its nodes into a :class:`Block`."""

    name = "layer"

    def output_units(self, units: int) -> int:
        return units

    def write(self, block: Block) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__


class Dense(Layer):
    """A fully connected layer z = W a + b, optionally followed by an activation.

    ``kernel_regularizer`` is a :mod:`gradgraph.regularize` object (or "l1"/"l2") whose
    term joins the cost; ``kernel_initializer`` a name from ``INITIALIZERS`` or a function
    ``(shape, rng) -> array``. Biases start at zero.
    """

    name = "dense"

    def __init__(self, units: int, input_dim: int | None = None, activation: str | None = None,
                 kernel_regularizer: Any = None, kernel_initializer: str | Initializer =
                 "glorot_uniform", use_bias: bool = True):
        self.units = _units("units", units)
        self.input_dim = None if input_dim is None else _units("input_dim", input_dim)
        self.activation = _activation_name(activation)
        self.kernel_regularizer = _regularize.get(kernel_regularizer)
        if isinstance(kernel_initializer, str):
            if kernel_initializer not in INITIALIZERS:
                raise TrainingError(f"unknown kernel_initializer '{kernel_initializer}' "
                                    f"(known: {', '.join(INITIALIZERS)})")
        elif not callable(kernel_initializer):
            raise TrainingError("kernel_initializer is a name or a function (shape, rng)")
        self.kernel_initializer = kernel_initializer
        self.use_bias = bool(use_bias)

    def output_units(self, units: int) -> int:
        return self.units

    def write(self, block: Block) -> None:
        block.tag += 1
        w, b, z = block.fresh("W"), block.fresh("b"), block.fresh("z")
        shape = (self.units, block.units)
        block.params[w] = shape
        init = self.kernel_initializer
        make = INITIALIZERS[init] if isinstance(init, str) else init
        block.inits[w] = lambda rng, make=make, shape=shape: _checked_init(make, shape, rng)
        declare = f"{w}: param({self.units}, {block.units})"
        bias = ""
        if self.use_bias:
            block.params[b] = (self.units,)
            block.inits[b] = lambda rng, n=self.units: np.zeros(n)
            declare += f"; {b}: param({self.units})"
            bias = f" + {b}"
        block.both(declare)
        block.train.append(f"{z} = {w} {block.current}{bias}")
        block.infer.append(f"{z} = {w} {block.current_infer}{bias}")
        block.current = block.current_infer = z
        block.units = self.units
        block.activation = None
        names = [w, b, z] if self.use_bias else [w, z]
        if self.kernel_regularizer:
            block.penalties.append(self.kernel_regularizer.term(w))
        if self.activation is not None:
            names.append(_apply_activation(block, self.activation))
        block.nodes.append(names)

    def get_config(self) -> dict[str, Any]:
        init = self.kernel_initializer
        return {"class": "Dense", "units": self.units, "input_dim": self.input_dim,
                "activation": self.activation,
                "kernel_regularizer": (self.kernel_regularizer.get_config()
                                       if self.kernel_regularizer else None),
                "kernel_initializer": init if isinstance(init, str) else "custom",
                "use_bias": self.use_bias}

    def describe(self) -> str:
        act = f", {self.activation}" if self.activation else ""
        reg = f", {self.kernel_regularizer!r}" if self.kernel_regularizer else ""
        return f"Dense({self.units}{act}{reg})"


def _checked_init(make: Initializer, shape: tuple[int, int],
                  rng: np.random.Generator) -> np.ndarray:
    arr = np.array(make(shape, rng), dtype=np.float64)
    if arr.shape != shape or not np.all(np.isfinite(arr)):
        raise TrainingError(f"kernel_initializer gave shape {arr.shape} (or non-finite "
                            f"values); expected {shape}")
    return arr


def _apply_activation(block: Block, act: str) -> str:
    a = block.fresh("a")
    block.train.append(f"{a} = {act}({block.current})")
    block.infer.append(f"{a} = {act}({block.current_infer})")
    block.logits = block.current if block.current == block.current_infer else None
    block.current = block.current_infer = a
    block.activation = act
    return a


class Activation(Layer):
    """An element-wise op from the registry (σ, tanh, relu, softplus, …) or softmax."""

    name = "activation"

    def __init__(self, activation: str):
        self.activation = _activation_name(activation)

    def write(self, block: Block) -> None:
        if self.activation is None:
            block.nodes.append([])
            return
        block.nodes.append([_apply_activation(block, self.activation)])

    def get_config(self) -> dict[str, Any]:
        return {"class": "Activation", "activation": self.activation or "linear"}

    def describe(self) -> str:
        return f"Activation({self.activation or 'linear'})"


class Dropout(Layer):
    """Inverted dropout: keep each unit with probability 1 − rate, scale by 1/(1 − rate).

    ``rate`` is the drop probability, as in Keras and PyTorch, in [0, 1). Training only;
    the inference graph passes its input through.
    """

    name = "dropout"

    def __init__(self, rate: float):
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) \
                or not 0 <= float(rate) < 1:
            raise TrainingError(f"Dropout rate is the probability of dropping a unit, in "
                                f"[0, 1); got {rate!r}")
        self.rate = float(rate)

    def write(self, block: Block) -> None:
        if self.rate == 0:
            block.nodes.append([])
            return
        mask, d = block.fresh("mask"), block.fresh("d")
        block.train.append(f"{mask}: input({block.units})")
        block.train.append(f"{d} = {block.current} {mask} / (1 - {self.rate!r})")
        block.masks[mask] = (block.units, self.rate)
        block.current = d
        block.activation = None
        block.nodes.append([mask, d])

    def get_config(self) -> dict[str, Any]:
        return {"class": "Dropout", "rate": self.rate}

    def describe(self) -> str:
        return f"Dropout({self.rate:g})"


class BatchNormalization(Layer):
    """Batch normalisation (Ioffe & Szegedy 2015) with Keras's defaults.

    Training: per unit, the batch mean μ and biased variance σ², ẑ = (z − μ)/√(σ² + ε),
    output γẑ + β (γ starts at 1, β at 0). Inference: the running mean and variance
    (moving ← momentum·moving + (1 − momentum)·batch statistic; start 0 and 1).
    Keras: momentum 0.99, epsilon 1e−3. (PyTorch's momentum 0.1 is Keras's 0.9, and
    PyTorch keeps the unbiased running variance, as Ioffe & Szegedy's Algorithm 2 does.)
    """

    name = "batch_normalization"

    def __init__(self, momentum: float = 0.99, epsilon: float = 1e-3):
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) \
                or not 0 <= float(momentum) <= 1:
            raise TrainingError(f"BatchNormalization momentum must be in [0, 1], "
                                f"got {momentum!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) \
                or not float(epsilon) > 0 or not np.isfinite(float(epsilon)):
            raise TrainingError(f"BatchNormalization epsilon must be > 0 (it keeps "
                                f"1/√(σ² + ε) finite on constant features), got {epsilon!r}")
        self.momentum, self.epsilon = float(momentum), float(epsilon)

    def write(self, block: Block) -> None:
        n, eps = block.units, repr(self.epsilon)
        mu, var, zhat = block.fresh("mu"), block.fresh("var"), block.fresh("zhat")
        gamma, beta, out = block.fresh("gamma"), block.fresh("beta"), block.fresh("bn")
        mean, variance = block.fresh("runmean"), block.fresh("runvar")
        z, zi = block.current, block.current_infer
        block.both(f"{gamma}: param({n}); {beta}: param({n})")
        block.train += [f"{mu} = batch_mean({z})",
                        f"{var} = batch_mean(({z} - {mu})^2)",
                        f"{zhat} = ({z} - {mu}) / sqrt({var} + {eps})"]
        block.infer += [f"{mean}: const({n}); {variance}: const({n})",
                        f"{zhat} = ({zi} - {mean}) / sqrt({variance} + {eps})"]
        block.both(f"{out} = {gamma} {zhat} + {beta}")
        block.params[gamma], block.params[beta] = (n,), (n,)
        block.inits[gamma] = lambda rng, n=n: np.ones(n)
        block.inits[beta] = lambda rng, n=n: np.zeros(n)
        block.stats[mu] = (var, mean, variance, self.momentum)
        block.consts[mean], block.consts[variance] = (n, 0.0), (n, 1.0)
        block.current = block.current_infer = out
        block.activation = None
        block.nodes.append([mu, var, zhat, gamma, beta, out])

    def get_config(self) -> dict[str, Any]:
        return {"class": "BatchNormalization", "momentum": self.momentum,
                "epsilon": self.epsilon}

    def describe(self) -> str:
        return f"BatchNormalization(momentum={self.momentum:g}, epsilon={self.epsilon:g})"


LAYERS: dict[str, type[Layer]] = {
    "Dense": Dense, "Activation": Activation, "Dropout": Dropout,
    "BatchNormalization": BatchNormalization,
}


def from_config(config: dict[str, Any]) -> Layer:
    """A layer from :meth:`Layer.get_config`'s dict (as saved with a model)."""
    if not isinstance(config, dict) or config.get("class") not in LAYERS:
        raise TrainingError(f"not a layer description: {config!r}")
    kwargs = {k: v for k, v in config.items() if k != "class"}
    if config["class"] == "Dense" and kwargs.get("kernel_initializer") == "custom":
        kwargs["kernel_initializer"] = "glorot_uniform"  # weights come from the file
    try:
        return LAYERS[config["class"]](**kwargs)
    except TypeError as exc:
        raise TrainingError(f"bad layer description {config!r}: {exc}") from None
