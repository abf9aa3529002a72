"""The optimizer's update, in the hot loop."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import sympy as sp

from .. import optim as _optim


class _Update:
    """The optimizer's compiled rule applied to the loop's working arrays.

    ``Optimizer.step`` validates every argument and writes in place on every call; the
    loop validates once (here) and swaps in the new arrays instead, which keeps the
    arrays of the step before as the fallback when a value turns out not finite. The
    arithmetic is the very function ``Optimizer.step`` runs.
    """

    def __init__(self, opt: _optim.Optimizer, params: Mapping[str, np.ndarray]):
        self.opt = opt
        rule = opt._rule  # noqa: SLF001 - same package; see the class docstring
        self.fn = opt._step_fn  # noqa: SLF001
        self.hyper = [v for _, v in rule.hyper]
        self.state_names = [s.name for s, _ in rule.state]
        self.names = list(params)
        for name, theta in params.items():
            state = opt.state.get(name)
            if state is None:
                state = opt.state[name] = opt._initial_state(theta)  # noqa: SLF001
            opt._check_state(name, theta, state)  # noqa: SLF001
        # sign(±inf) is finite: only there can a bad gradient give a finite update.
        self.check_grads = any(isinstance(e, sp.sign) for eq in opt.equations
                               for e in sp.preorder_traversal(eq.rhs))

    def apply(self, work: dict[str, Any], grads: Mapping[str, Any]) -> None:
        opt, fn, hyper, state_names = self.opt, self.fn, self.hyper, self.state_names
        t = opt.iterations + 1
        lr = opt.lr if opt.schedule is None else opt.lr_at(t)
        for name in self.names:
            if not state_names:
                work[name] = fn(work[name], grads[name], t, lr, *hyper)[0]
                continue
            state = opt.state[name]
            out = fn(work[name], grads[name], *[state[s] for s in state_names], t, lr, *hyper)
            work[name] = out[0]
            # A new dict: the one it replaces stays valid as the fallback.
            opt.state[name] = dict(zip(state_names, out[1:], strict=True))
        opt.iterations = t
