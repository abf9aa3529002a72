"""Gradient descent: plain SGD, momentum, Nesterov momentum and signSGD."""

from __future__ import annotations

import sympy as sp

from .base import Optimizer
from .codegen import _Rule
from .schedules import Schedule
from .symbols import GRAD, MU, RHO, THETA, V, _add, _assign, _mul, _neg, _sub
from .validate import _flag, _unit


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum or Nesterov momentum.

    - plain: ``θ ← θ − ρ·g``
    - momentum (the deck's form = Sutskever et al. 2013 eq. 1-2 = Keras):
      ``v ← μ·v − ρ·g; θ ← θ + v``
    - Nesterov (Keras form, a reparametrisation of Sutskever's look-ahead):
      ``v ← μ·v − ρ·g; θ ← θ + μ·v − ρ·g``

    Defaults follow Keras 3 ``SGD``: ``lr=0.01``, ``momentum=0``. PyTorch's buffer form
    (``b ← μb + g; θ −= ρb``) equals this one only at a constant learning rate; under a
    ``schedule`` this class keeps the Keras/Sutskever form.

    Parameters
    ----------
    lr : float
        ρ₀ > 0.
    momentum : float
        μ in [0, 1).
    nesterov : bool
        Use the Nesterov form (with ``momentum=0`` it is plain SGD).
    schedule : Schedule, optional
        ρₜ = lr·schedule(t − 1).
    """

    name = "sgd"
    settings = ("lr", "momentum", "nesterov")

    def __init__(
        self,
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        schedule: Schedule | None = None,
    ):
        self.momentum = _unit("momentum", momentum)
        self.nesterov = _flag("nesterov", nesterov)
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        if self.momentum == 0 and not self.nesterov:
            return _Rule((_assign(THETA, _sub(THETA, _mul(RHO, GRAD))),), lr=RHO)
        velocity = _assign(V, _sub(_mul(MU, V), _mul(RHO, GRAD)))
        if self.nesterov:
            theta = _assign(THETA, _add(THETA, _mul(MU, V), _neg(_mul(RHO, GRAD))))
        else:
            theta = _assign(THETA, _add(THETA, V))
        return _Rule((velocity, theta), lr=RHO, state=((V, 0.0),), hyper=((MU, self.momentum),))


class Momentum(SGD):
    """SGD with momentum ``v ← μ·v − ρ·g; θ ← θ + v`` (Sutskever/Keras form; μ = 0.9)."""

    name = "momentum"
    settings = ("lr", "momentum")

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, schedule: Schedule | None = None):
        super().__init__(lr, momentum=momentum, nesterov=False, schedule=schedule)


class Nesterov(SGD):
    """SGD with Nesterov momentum ``v ← μ·v − ρ·g; θ ← θ + μ·v − ρ·g`` (Keras form; μ = 0.9)."""

    name = "nesterov"
    settings = ("lr", "momentum")

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, schedule: Schedule | None = None):
        super().__init__(lr, momentum=momentum, nesterov=True, schedule=schedule)


class Sign(Optimizer):
    """signSGD (Bernstein et al. 2018): ``θ ← θ − ρ·sign(g)``, with sign(0) = 0.

    This is the deck's "sign-of-gradient hack" made to work on mini-batches. The
    original full-batch method is Rprop (Hinton lecture 6e: a per-weight step grown
    ×1.2 when successive signs agree and shrunk ×0.5 when they differ, kept in
    [1e−6, 50]); Rprop fails on mini-batches, which is what led to RMSprop.
    Default ``lr=1e-3``.
    """

    name = "sign"
    settings = ("lr",)

    def __init__(self, lr: float = 1e-3, schedule: Schedule | None = None):
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        return _Rule((_assign(THETA, _sub(THETA, _mul(RHO, sp.sign(GRAD)))),), lr=RHO)
