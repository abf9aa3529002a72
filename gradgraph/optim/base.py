"""The optimizer base class: validation, per-parameter state, the step and minimize."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import sympy as sp
from sympy.printing.pretty.pretty_symbology import pretty_symbol

from ..errors import TrainingError
from .checks import _count, _positive
from .codegen import _compile, _Rule
from .display import _eq_latex, _eq_text
from .schedules import Schedule, _check_schedule


class Optimizer:
    """Base class: equations → compiled numpy step, per-parameter state, schedules.

    Attributes
    ----------
    equations : list of sympy.Eq
        The update for one parameter element, in order.
    source : str
        The generated numpy program (compiled once, in ``__init__``).
    state : dict
        ``name -> {state symbol name: array}`` for every parameter seen.
    iterations : int
        Steps taken; step ``t`` (from 1) is ``iterations + 1``.
    """

    name: ClassVar[str] = "optimizer"
    # The hyperparameters repr shows, in the constructor's order (the schedule follows).
    _repr_fields: ClassVar[tuple[str, ...]] = ("lr",)

    def __init__(self, lr: float, *, schedule: Schedule | None = None):
        self.lr = _positive("lr", lr)
        self.schedule = _check_schedule(schedule)
        self._rule = self._build_rule()
        self.equations: list[sp.Eq] = list(self._rule.equations)
        self.source, self._step_fn = _compile(self._rule, f"{type(self).__name__.lower()}_step")
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.iterations = 0

    # -- to be provided by subclasses -------------------------------------------------
    def _build_rule(self) -> _Rule:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- display ----------------------------------------------------------------------
    def equations_text(self) -> list[str]:
        """The update as Unicode lines, e.g. ``m ← β₁·m + (1 − β₁)·g``."""
        lines = [_eq_text(eq) for eq in self.equations]
        if self.schedule is not None:
            lines.append(self.schedule.formula(pretty_symbol(self._rule.lr.name)))
        return lines

    def equations_latex(self) -> list[str]:
        r"""The update as LaTeX lines, e.g. ``m \leftarrow \beta_{1} m + …``."""
        lines = [_eq_latex(eq) for eq in self.equations]
        if self.schedule is not None:
            lines.append(self.schedule.latex(sp.latex(self._rule.lr)))
        return lines

    def _hyper_repr(self) -> str:
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self._repr_fields)

    def __repr__(self) -> str:
        sched = f", schedule={self.schedule!r}" if self.schedule is not None else ""
        return f"{type(self).__name__}({self._hyper_repr()}{sched})"

    # -- state ------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget all per-parameter state and the step count."""
        self.state = {}
        self.iterations = 0

    def lr_at(self, t: int) -> float:
        """The learning rate used at step ``t`` (counted from 1)."""
        t = _count("t", t)
        return self.lr if self.schedule is None else self.lr * self.schedule(t - 1)

    # -- stepping ---------------------------------------------------------------------
    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, Any]) -> None:
        """Apply one update to every array in ``params``, in place.

        All-or-nothing: new values are computed for every parameter first and written
        only if all are finite, so a failing step leaves parameters and state as they
        were and raises :class:`TrainingError` naming the parameter and step.
        """
        _check_names(params, grads)
        t = self.iterations + 1
        lr_t = self.lr_at(t)
        state_names = [s.name for s, _ in self._rule.state]
        results = [
            (name, theta, *self._update_of(name, theta, grads[name], t, lr_t))
            for name, theta in params.items()
        ]
        for name, theta, state, out in results:
            np.copyto(theta, out[0], casting="same_kind")
            for s, value in zip(state_names, out[1:], strict=True):
                np.copyto(state[s], value, casting="same_kind")
            self.state[name] = state
        self.iterations = t

    def _update_of(
        self, name: str, theta: Any, grad: Any, t: int, lr_t: float
    ) -> tuple[dict[str, np.ndarray], tuple]:
        """(the state to update, the new values) of one parameter; nothing is written."""
        hyper = [value for _, value in self._rule.hyper]
        state_names = [s.name for s, _ in self._rule.state]
        g = self._check_pair(name, theta, grad)
        state = self.state.get(name) or self._initial_state(theta)
        self._check_state(name, theta, state)
        # Non-finite results are detected below and reported, not warned about.
        with np.errstate(all="ignore"):
            out = self._step_fn(theta, g, *(state[s] for s in state_names), t, lr_t, *hyper)
        for label, value in zip(["theta", *state_names], out, strict=True):
            if not np.all(np.isfinite(value)):
                raise TrainingError(
                    f"step {t}: update of parameter {name!r} ({label}) is not finite "
                    f"at lr={lr_t:g}; parameters left unchanged"
                )
        return state, out

    def _initial_state(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        return {
            s.name: np.full(theta.shape, init, dtype=theta.dtype) for s, init in self._rule.state
        }

    @staticmethod
    def _check_pair(name: str, theta: Any, grad: Any) -> np.ndarray:
        if not isinstance(theta, np.ndarray) or not np.issubdtype(theta.dtype, np.floating):
            raise TrainingError(
                f"parameter {name!r} must be a float numpy array (updated in place), "
                f"got {type(theta).__name__}"
                + (f" of {theta.dtype}" if isinstance(theta, np.ndarray) else "")
            )
        if not theta.flags.writeable:
            raise TrainingError(f"parameter {name!r} is read-only; it is updated in place")
        try:
            g = np.asarray(grad, dtype=np.result_type(theta.dtype, np.float64))
        except (TypeError, ValueError) as exc:
            raise TrainingError(f"gradient of {name!r} is not numeric: {exc}") from None
        if g.shape != theta.shape:
            raise TrainingError(
                f"gradient of {name!r} has shape {g.shape}, parameter has {theta.shape}"
            )
        if not np.all(np.isfinite(g)):
            raise TrainingError(f"gradient of {name!r} is not finite")
        return g

    @staticmethod
    def _check_state(name: str, theta: np.ndarray, state: dict[str, np.ndarray]) -> None:
        for arr in state.values():
            if arr.shape != theta.shape:
                raise TrainingError(
                    f"parameter {name!r} changed shape from {arr.shape} to {theta.shape}; "
                    "call reset() first"
                )

    # -- minimising a scalar graph ----------------------------------------------------
    def minimize(
        self,
        graph: Any,
        of: str = "C",
        start: Mapping[str, Any] | None = None,
        steps: int = 50,
        inputs: Mapping[str, Any] | None = None,
    ) -> list[dict[str, float | np.ndarray]]:
        """Minimise ``of`` over the leaves named in ``start``; return the trajectory.

        Works with any object that has ``gradients(values, of=...) -> {leaf: value}``.
        State is reset first, so every call is a fresh run.

        Parameters
        ----------
        graph : object with ``gradients(values: dict, of: str) -> dict``
        of : str
            The scalar node to minimise.
        start : dict
            Starting value of each leaf to optimise (floats or arrays).
        steps : int
            Number of updates.
        inputs : dict, optional
            Values of leaves that stay fixed (data), passed to the graph every step.

        Returns
        -------
        list of dict
            ``steps + 1`` fresh dicts, the start point first; scalars come back as floats.
        """
        if not callable(getattr(graph, "gradients", None)):
            raise TrainingError("minimize needs a graph with a gradients(values, of=...) method")
        if not start:
            raise TrainingError("minimize needs start values, e.g. start={'w': 0.5}")
        steps = _count("steps", steps, minimum=0)
        fixed = dict(inputs or {})
        params = _start_arrays(start)
        scalar = {name: arr.ndim == 0 for name, arr in params.items()}

        def snapshot() -> dict[str, float | np.ndarray]:
            return {n: float(a) if scalar[n] else a.copy() for n, a in params.items()}

        self.reset()
        trajectory = [snapshot()]
        for _ in range(steps):
            # The graph gets copies: it must not be able to alter our iterate.
            all_grads = graph.gradients({**fixed, **snapshot()}, of=of)
            self.step(params, _gradients_of(all_grads, params, of))
            trajectory.append(snapshot())
        return trajectory


def _check_names(params: Mapping[str, Any], grads: Mapping[str, Any]) -> None:
    missing = [n for n in params if n not in grads]
    extra = [n for n in grads if n not in params]
    if missing or extra:
        what = f"no gradient for {missing}" if missing else f"gradient for unknown {extra}"
        raise TrainingError(f"params and grads must have the same names: {what}")


def _start_arrays(start: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Fresh float64 arrays of ``minimize``'s start values, checked."""
    params: dict[str, np.ndarray] = {}
    for name, value in start.items():
        try:
            params[name] = np.array(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise TrainingError(f"start value of {name!r} is not numeric: {value!r}") from None
        if not np.all(np.isfinite(params[name])):
            raise TrainingError(f"start value of {name!r} is not finite")
    return params


def _gradients_of(
    all_grads: Mapping[str, Any], params: Mapping[str, np.ndarray], of: str
) -> dict[str, Any]:
    """The gradients of the leaves being optimised, out of all the graph gave."""
    grads = {}
    for name in params:
        if name not in all_grads:
            raise TrainingError(f"the graph gave no gradient of {of!r} for {name!r}")
        grads[name] = all_grads[name]
    return grads
