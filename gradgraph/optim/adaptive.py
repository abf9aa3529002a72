"""Per-element adaptive step sizes from accumulated squared gradients: Adagrad, RMSprop."""

from __future__ import annotations

import sympy as sp

from ..errors import TrainingError
from .base import Optimizer
from .codegen import _Rule
from .schedules import Schedule
from .symbols import (
    ACC,
    ALPHA,
    EPSILON,
    GBAR,
    GRAD,
    RHO,
    THETA,
    Maximum,
    R,
    _add,
    _assign,
    _div,
    _ema,
    _mul,
    _sub,
)
from .validate import _flag, _nonnegative, _unit


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011), PyTorch form: ``G ← G + g²; θ ← θ − ρ·g/(√G + ε)``.

    Defaults follow PyTorch: ``lr=1e-2``, ``epsilon=1e-10`` outside the root,
    ``initial_accumulator=0``. (Keras: lr 1e−3, initial accumulator 0.1, ε 1e−7.)
    """

    name = "adagrad"
    settings = ("lr", "epsilon", "initial_accumulator")

    def __init__(
        self,
        lr: float = 1e-2,
        epsilon: float = 1e-10,
        initial_accumulator: float = 0.0,
        schedule: Schedule | None = None,
    ):
        self.epsilon = _nonnegative("epsilon", epsilon)
        self.initial_accumulator = _nonnegative("initial_accumulator", initial_accumulator)
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        acc = _assign(ACC, _add(ACC, GRAD**2))
        theta = _assign(THETA, _sub(THETA, _div(_mul(RHO, GRAD), _add(sp.sqrt(ACC), EPSILON))))
        return _Rule(
            (acc, theta),
            lr=RHO,
            state=((ACC, self.initial_accumulator),),
            hyper=((EPSILON, self.epsilon),),
        )


class RMSprop(Optimizer):
    """RMSprop (Hinton lecture 6e): ``r ← ρ·r + (1 − ρ)·g²`` with the element-wise g².

    ``eps_placement`` chooses where ε goes, which matters for small gradients:

    - ``"keras"`` (default): ``θ ← θ − α·g/√(r + ε)``
    - ``"pytorch"``: ``θ ← θ − α·g/(√r + ε)``

    For g = 1e−4, lr 1e−3, ρ 0.9 the first step is 3.15e−4 (Keras, ε 1e−7) against
    3.16e−3 (PyTorch, ε 1e−8). ``centered=True`` replaces r by r − ḡ² with
    ``ḡ ← ρ·ḡ + (1 − ρ)·g``; that variance estimate is clamped at 0 so rounding
    cannot take a square root of a tiny negative number.

    Defaults follow Keras 3: ``lr=1e-3``, ``rho=0.9``, ``epsilon=1e-7``. (PyTorch:
    lr 1e−2, alpha 0.99, ε 1e−8.) The slides' ‖∇C‖² would be one global normaliser;
    this accumulator is per element, as in the papers.
    """

    name = "rmsprop"
    settings = ("lr", "rho", "epsilon", "eps_placement", "centered")

    def __init__(
        self,
        lr: float = 1e-3,
        rho: float = 0.9,
        epsilon: float = 1e-7,
        eps_placement: str = "keras",
        centered: bool = False,
        schedule: Schedule | None = None,
    ):
        self.rho = _unit("rho", rho)
        self.epsilon = _nonnegative("epsilon", epsilon)
        if eps_placement not in ("keras", "pytorch"):
            raise TrainingError(
                f"eps_placement must be 'keras' or 'pytorch', got {eps_placement!r}"
            )
        self.eps_placement = eps_placement
        self.centered = _flag("centered", centered)
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        eqs = []
        state: list[tuple[sp.Symbol, float]] = []
        if self.centered:
            eqs.append(_assign(GBAR, _ema(RHO, GBAR, GRAD)))
            state.append((GBAR, 0.0))
        eqs.append(_assign(R, _ema(RHO, R, GRAD**2)))
        state.append((R, 0.0))
        scale = Maximum(_sub(R, GBAR**2), sp.S.Zero) if self.centered else R
        if self.eps_placement == "keras":
            denom = sp.sqrt(_add(scale, EPSILON))
        else:
            denom = _add(sp.sqrt(scale), EPSILON)
        eqs.append(_assign(THETA, _sub(THETA, _div(_mul(ALPHA, GRAD), denom))))
        return _Rule(
            tuple(eqs),
            lr=ALPHA,
            state=tuple(state),
            hyper=((RHO, self.rho), (EPSILON, self.epsilon)),
        )
