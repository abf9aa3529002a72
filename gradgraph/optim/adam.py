"""Adam (Kingma & Ba 2015) and its relatives: AdaMax and AdamW."""

from __future__ import annotations

import sympy as sp

from .base import Optimizer
from .codegen import _Rule
from .schedules import Schedule
from .symbols import (
    ALPHA,
    BETA_1,
    BETA_2,
    EPSILON,
    GRAD,
    LAMBDA,
    MHAT,
    STEP,
    THETA,
    VHAT,
    M,
    Maximum,
    SafeDiv,
    U,
    V,
    _add,
    _assign,
    _div,
    _ema,
    _mul,
    _sub,
)
from .validate import _flag, _nonnegative, _unit


def _adam_equations(bias_correction: bool) -> list[sp.Eq]:
    """Kingma & Ba Alg. 1 (or the §6.4 ablation without the 1 − βᵗ correction)."""
    eqs = [
        _assign(M, _ema(BETA_1, M, GRAD)),
        _assign(V, _ema(BETA_2, V, GRAD**2)),
    ]
    if bias_correction:
        eqs += [
            _assign(MHAT, _div(M, _sub(sp.S.One, BETA_1**STEP))),
            _assign(VHAT, _div(V, _sub(sp.S.One, BETA_2**STEP))),
        ]
        first, second = MHAT, VHAT
    else:
        first, second = M, V
    eqs.append(
        _assign(THETA, _sub(THETA, _div(_mul(ALPHA, first), _add(sp.sqrt(second), EPSILON))))
    )
    return eqs


def _betas(beta_1: float, beta_2: float) -> tuple[float, float]:
    """The decay rates of the first and second moment estimates, checked."""
    return _unit("beta_1", beta_1), _unit("beta_2", beta_2)


def _adam_rule(opt: Adam | AdamW, equations: list[sp.Eq], *extra: tuple[sp.Symbol, float]) -> _Rule:
    """Algorithm 1's rule: state m and v; hyperparameters β₁, β₂, ε, then ``extra``."""
    return _Rule(
        tuple(equations),
        lr=ALPHA,
        state=((M, 0.0), (V, 0.0)),
        hyper=((BETA_1, opt.beta_1), (BETA_2, opt.beta_2), (EPSILON, opt.epsilon), *extra),
    )


class Adam(Optimizer):
    """Adam, Kingma & Ba (arXiv 1412.6980) Algorithm 1, element-wise, t from 1::

        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        m̂ ← m/(1 − β₁ᵗ)
        v̂ ← v/(1 − β₂ᵗ)
        θ ← θ − α·m̂/(√v̂ + ε)

    Defaults are the paper's (= PyTorch): ``lr=1e-3``, ``beta_1=0.9``,
    ``beta_2=0.999``, ``epsilon=1e-8``. (Keras folds the correction into the step size
    and uses ε̂ = 1e−7; the slides' 1/(1 − β) correction and trailing ·∇C are errata.)
    ``bias_correction=False`` is the paper's §6.4 ablation: θ ← θ − α·m/(√v + ε), whose
    first step is about α(1 − β₁)/√(1 − β₂)·sign(g).
    """

    name = "adam"
    settings = ("lr", "beta_1", "beta_2", "epsilon", "bias_correction")

    def __init__(
        self,
        lr: float = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        bias_correction: bool = True,
        schedule: Schedule | None = None,
    ):
        self.beta_1, self.beta_2 = _betas(beta_1, beta_2)
        self.epsilon = _nonnegative("epsilon", epsilon)
        self.bias_correction = _flag("bias_correction", bias_correction)
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        return _adam_rule(self, _adam_equations(self.bias_correction))


class AdaMax(Optimizer):
    """AdaMax, Kingma & Ba Algorithm 2 (the infinity-norm Adam)::

        m ← β₁·m + (1 − β₁)·g
        u ← max(β₂·u, |g|)
        θ ← θ − (α/(1 − β₁ᵗ))·m/u

    No ε and no correction of u (paper §7.1). Where u = 0 the step is 0: that happens
    when every gradient so far was 0, so m = 0 too and the paper's 0/0 means "no
    step" (with β₂ = 0 it also covers a zero gradient after non-zero ones).
    Defaults are the paper's (= PyTorch): ``lr=2e-3``, ``beta_1=0.9``, ``beta_2=0.999``.
    (Keras: lr 1e−3 and ε 1e−7 added to u; PyTorch adds ε inside the max.)
    """

    name = "adamax"
    settings = ("lr", "beta_1", "beta_2")

    def __init__(
        self,
        lr: float = 2e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        schedule: Schedule | None = None,
    ):
        self.beta_1, self.beta_2 = _betas(beta_1, beta_2)
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        step_size = _div(ALPHA, _sub(sp.S.One, BETA_1**STEP))
        eqs = (
            _assign(M, _ema(BETA_1, M, GRAD)),
            _assign(U, Maximum(_mul(BETA_2, U), sp.Abs(GRAD))),
            _assign(THETA, _sub(THETA, _mul(step_size, SafeDiv(M, U)))),
        )
        return _Rule(
            eqs,
            lr=ALPHA,
            state=((M, 0.0), (U, 0.0)),
            hyper=((BETA_1, self.beta_1), (BETA_2, self.beta_2)),
        )


class AdamW(Optimizer):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019 Alg. 2; torch AdamW)::

        θ ← θ − α·λ·θ
        then Adam (Algorithm 1) on the loss gradient g only.

    Unlike Adam with an L2 term, the decay is not divided by √v̂. Defaults follow
    PyTorch: ``lr=1e-3``, ``beta_1=0.9``, ``beta_2=0.999``, ``epsilon=1e-8``,
    ``weight_decay=0.01`` (Keras uses 0.004). With a schedule, α is the scheduled rate.
    """

    name = "adamw"
    settings = ("lr", "beta_1", "beta_2", "epsilon", "weight_decay")

    def __init__(
        self,
        lr: float = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
        schedule: Schedule | None = None,
    ):
        self.beta_1, self.beta_2 = _betas(beta_1, beta_2)
        self.epsilon = _nonnegative("epsilon", epsilon)
        self.weight_decay = _nonnegative("weight_decay", weight_decay)
        super().__init__(lr, schedule=schedule)

    def _build_rule(self) -> _Rule:
        decay = _assign(THETA, _sub(THETA, _mul(ALPHA, LAMBDA, THETA)))
        return _adam_rule(self, [decay, *_adam_equations(True)], (LAMBDA, self.weight_decay))
