"""The optimizer base class: validation, per-parameter state, the step and minimize."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import sympy as sp
from sympy.printing.pretty.pretty_symbology import pretty_symbol

from ..errors import TrainingError
from .codegen import _compile, _Rule
from .display import _eq_latex, _eq_text
from .inplace import compile_inplace
from .schedules import Schedule, _check_schedule
from .validate import _count, _positive


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
    # The settings the constructor takes besides ``schedule`` (which every optimizer
    # takes), in its order: what repr shows and what a CLI may offer for this optimizer.
    settings: ClassVar[tuple[str, ...]] = ("lr",)

    def __init__(self, lr: float, *, schedule: Schedule | None = None):
        self.lr = _positive("lr", lr)
        self.schedule = _check_schedule(schedule)
        self._rule = self._build_rule()
        self.equations: list[sp.Eq] = list(self._rule.equations)
        # The generated function's name: a backend runs ``source`` and looks it up.
        self.step_name = f"{type(self).__name__.lower()}_step"
        self.source, self._step_fn = _compile(self._rule, self.step_name)
        self._hyper = [value for _, value in self._rule.hyper]
        self._state_names = [s.name for s, _ in self._rule.state]
        # The same program with every array result written into buffers (update(out=)).
        self.inplace_source, self._n_scratch, self._into_fn = compile_inplace(
            self.source, self.step_name, len(self._state_names))
        self.state: dict[str, dict[str, np.ndarray]] = {}
        # Per parameter: the state arrays update(out=) writes next, scratch arrays, and
        # the dtype and shape they were made for.
        self._buffers: dict[str, tuple] = {}
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
        return ", ".join(f"{name}={getattr(self, name)!r}" for name in self.settings)

    def __repr__(self) -> str:
        sched = f", schedule={self.schedule!r}" if self.schedule is not None else ""
        return f"{type(self).__name__}({self._hyper_repr()}{sched})"

    # -- state ------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget all per-parameter state and the step count."""
        self.state = {}
        self._buffers = {}
        self.iterations = 0

    def lr_at(self, t: int) -> float:
        """The learning rate used at step ``t`` (counted from 1)."""
        t = _count("t", t)
        return self.lr if self.schedule is None else self.lr * self.schedule(t - 1)

    # -- stepping: prepare once, update every step ---------------------------------
    def prepare(self, params: Mapping[str, np.ndarray]) -> None:
        """Check ``params`` and create the state of every parameter not seen yet.

        Call once before a run of :meth:`update`; state follows each parameter's
        dtype (float32 parameters get float32 moments).
        """
        for name, theta in params.items():
            _check_param(name, theta)
            # update(out=)'s spare arrays must be like the parameter: else made anew.
            buffers = self._buffers.get(name, ())
            if any(b.shape != theta.shape or b.dtype != theta.dtype for b in buffers):
                del self._buffers[name]
            state = self.state.get(name)
            if state is None:
                self.state[name] = self._initial_state(theta)
                continue
            for arr in state.values():
                if arr.shape != theta.shape:
                    raise TrainingError(
                        f"parameter {name!r} changed shape from {arr.shape} to "
                        f"{theta.shape}; call reset() first"
                    )
            # update(out=) later writes into these arrays: each of the parameter's dtype
            # and writeable (state handed back from elsewhere may be read-only).
            if any(arr.dtype != theta.dtype or not arr.flags.writeable
                   for arr in state.values()):
                self.state[name] = {k: v.astype(theta.dtype) for k, v in state.items()}

    def update(
        self,
        params: Mapping[str, np.ndarray],
        grads: Mapping[str, Any],
        out: Mapping[str, np.ndarray] | None = None,
    ) -> dict[str, np.ndarray]:
        """One compiled update of every parameter at step ``t = iterations + 1``.

        The hot-loop form of :meth:`step`: no checks beyond :meth:`prepare`'s, nothing
        written into ``params``; non-finite values are the caller's to detect (as step()
        does), and numpy's overflow warnings the caller's ``np.errstate`` to silence.
        Returns the new values, each parameter's state dict replaced by a new one.

        Without ``out``, the results are new arrays and the replaced state dicts stay
        valid for good. With ``out`` (arrays like ``params``, none of them one of
        ``params``), the new values are written into ``out`` and the new state into the
        arrays of the dict replaced the update before: nothing is allocated, the same
        values come out bit for bit, and the dict this update replaces stays valid until
        the next update with ``out`` (a double buffer: one step of fallback).
        """
        t = self.iterations + 1
        lr = self.lr if self.schedule is None else self.lr * self.schedule(t - 1)
        new = self._new_arrays(params, grads, t, lr) if out is None else \
            self._into(params, grads, out, t, lr)
        self.iterations = t
        return new

    def _gradient(self, name: str, theta: np.ndarray, grads: Mapping[str, Any]) -> Any:
        if name not in self.state:
            raise TrainingError(f"no state for parameter {name!r}: call prepare() first")
        g = grads[name]
        # The state and the result follow the parameter's dtype, not the gradient's.
        if type(g) is not np.ndarray or g.dtype != theta.dtype:
            g = np.asarray(g, dtype=theta.dtype)
        return g

    def _new_arrays(self, params: Mapping[str, np.ndarray], grads: Mapping[str, Any],
                    t: int, lr: float) -> dict[str, np.ndarray]:
        names, hyper, new = self._state_names, self._hyper, {}
        for name, theta in params.items():
            g = self._gradient(name, theta, grads)
            state = self.state[name]
            res = self._step_fn(theta, g, *[state[s] for s in names], t, lr, *hyper)
            new[name] = res[0]
            if names:
                self.state[name] = dict(zip(names, res[1:], strict=True))
        return new

    def _into(self, params: Mapping[str, np.ndarray], grads: Mapping[str, Any],
              out: Mapping[str, np.ndarray], t: int, lr: float) -> dict[str, np.ndarray]:
        # The hot loop of training: a few dict look-ups and one call per parameter.
        names, hyper, fn, pool, new = (self._state_names, self._hyper, self._into_fn,
                                       self._buffers, {})
        n = len(names)
        for name, theta in params.items():
            g = self._gradient(name, theta, grads)
            new[name] = dest = out[name]
            buffers = pool.get(name)
            if not n:
                if buffers is None:
                    buffers = self._new_buffers(name, theta)
                fn(theta, g, t, lr, *hyper, dest, *buffers)
                continue
            state = self.state[name]
            current = [state[s] for s in names]
            if buffers is None or buffers[0] is current[0]:
                buffers = self._new_buffers(name, theta)
            fn(theta, g, *current, t, lr, *hyper, dest, *buffers)
            self.state[name] = dict(zip(names, buffers[:n], strict=True))
            pool[name] = (*current, *buffers[n:])
        return new

    def _new_buffers(self, name: str, theta: np.ndarray) -> tuple[np.ndarray, ...]:
        """``(*spare state, *scratch)`` of ``name``: the arrays update(out=) writes into.
        Made when missing or holding the current state itself (state put back after a
        failed step is the spare as well); prepare() drops those not like the parameter."""
        arrays = tuple(np.empty_like(theta)
                       for _ in range(len(self._state_names) + self._n_scratch))
        self._buffers[name] = arrays
        return arrays

    def step(self, params: Mapping[str, np.ndarray], grads: Mapping[str, Any]) -> None:
        """Apply one update to every array in ``params``, in place.

        All-or-nothing: new values are computed for every parameter first and written
        only if all are finite, so a failing step leaves parameters and state as they
        were and raises :class:`TrainingError` naming the parameter and step.
        """
        _check_names(params, grads)
        for name, theta in params.items():
            _check_param(name, theta)
        checked = {name: _checked_grad(name, theta, grads[name])
                   for name, theta in params.items()}
        state, t0 = dict(self.state), self.iterations
        try:
            self.prepare(params)
            # Non-finite results are detected below and reported, not warned about.
            with np.errstate(all="ignore"):
                new = self.update(params, checked)
            self._check_finite(params, new)
        except TrainingError:
            self.state.clear()
            self.state.update(state)
            self.iterations = t0
            raise
        for name, theta in params.items():
            np.copyto(theta, new[name], casting="same_kind")

    def _check_finite(self, params: Mapping[str, np.ndarray],
                      new: Mapping[str, np.ndarray]) -> None:
        """Raise naming the first parameter (and value) of the last update that is not finite."""
        t = self.iterations
        for name in params:
            values = [("theta", new[name]), *self.state[name].items()]
            for label, value in values:
                if not np.all(np.isfinite(value)):
                    raise TrainingError(
                        f"step {t}: update of parameter {name!r} ({label}) is not finite "
                        f"at lr={self.lr_at(t):g}; parameters left unchanged"
                    )

    def _initial_state(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        return {
            s.name: np.full(theta.shape, init, dtype=theta.dtype) for s, init in self._rule.state
        }

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


def _check_param(name: str, theta: Any) -> None:
    """A parameter is a writeable float numpy array (it is updated in place)."""
    if not isinstance(theta, np.ndarray) or not np.issubdtype(theta.dtype, np.floating):
        raise TrainingError(
            f"parameter {name!r} must be a float numpy array (updated in place), "
            f"got {type(theta).__name__}"
            + (f" of {theta.dtype}" if isinstance(theta, np.ndarray) else "")
        )
    if not theta.flags.writeable:
        raise TrainingError(f"parameter {name!r} is read-only; it is updated in place")


def _checked_grad(name: str, theta: np.ndarray, grad: Any) -> np.ndarray:
    """The gradient as an array of the parameter's dtype and shape, finite."""
    try:
        g = np.asarray(grad, dtype=theta.dtype)
    except (TypeError, ValueError) as exc:
        raise TrainingError(f"gradient of {name!r} is not numeric: {exc}") from None
    if g.shape != theta.shape:
        raise TrainingError(
            f"gradient of {name!r} has shape {g.shape}, parameter has {theta.shape}"
        )
    if not np.all(np.isfinite(g)):
        raise TrainingError(f"gradient of {name!r} is not finite")
    return g


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
