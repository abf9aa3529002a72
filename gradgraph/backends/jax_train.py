"""Training on the JAX backend: forward, backward and optimizer update as one jitted step.

The step is the graph's generated program (:meth:`CompiledGraph.step_function` on the
JAX backend) followed by the optimizer's own generated update (``Optimizer.source``,
run against jax.numpy: one source for each rule). An epoch's full-size batches run under
``lax.scan`` in one call, so Python is not in the loop; a last, smaller batch is one
more call. Per-step callbacks that only observe (``on_batch_end`` of a callback marked
``observes_batches``) are replayed after the scan with the same logs; any other
``on_batch_end`` hook makes each step its own call, so the hook can stop training or set
parameters between steps as on numpy.

Non-finite values: every step reports whether its loss, gradient (for sign-based rules)
or update is finite. The fast scan keeps no fallback; when a step was not finite, the
group runs again from its start with one (that step and every later one leave the
parameters as they were), and the run stops and reports that step, as the numpy loop
does, with the last finite weights.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from . import load_jax
from .jax_runtime import jit, optimizer_step

if TYPE_CHECKING:
    from ..train.loop import Trainer

_WHAT = {1: "loss", 2: "gradient", 3: "update"}


class JaxTraining:
    """The jitted step and epoch runner of one :class:`~gradgraph.train.loop.Trainer`."""

    def __init__(self, trainer: Trainer):
        from ..numeric import compile_graph

        t = trainer
        self.trainer = t
        compiled = compile_graph(t.graph, t.of, dtype=t.dtype, backend="jax")
        self.keep = ((t.output,) if t.metrics else ()) + t.batch_means
        self.param_names = list(compiled.graph.params)
        self.leaf_names = list(compiled.graph.leaves)
        opt = t.optimizer
        self.state_names = list(opt._state_names)
        self._runner = functools.partial(_runner, compiled, self.keep, opt, t.check_grads)
        _, jnp = load_jax()
        self.data = {name: jnp.asarray(arr) for name, arr in t.data.items()}
        self.states = {name: tuple(jnp.asarray(opt.state[name][s]) for s in self.state_names)
                       for name in self.param_names}
        self._device: dict[str, tuple[Any, Any]] = {}  # name -> (host array, device copy)
        # A hook that may stop or change parameters must run between the steps.
        self.stepwise = any(not getattr(cb, "observes_batches", False)
                            for cb in t.callbacks if _has_batch_hook(cb))

    # --- one epoch --------------------------------------------------------------------

    def epoch(self, epoch: int) -> bool:
        """One pass over the data, as ``Trainer._epoch``; True to stop."""
        t = self.trainer
        t._call("on_epoch_begin", epoch, {})
        order = t.shuffler.permutation(t.n) if t.shuffle else np.arange(t.n)
        fed = self._fed(epoch, order)
        groups = _groups(t.bounds) if not self.stepwise else [[b] for b in
                                                              range(len(t.bounds))]
        _, jnp = load_jax()
        params = self._params()
        consts = {n: jnp.asarray(t.work[n]) for n in self.leaf_names
                  if n not in params and n not in self.data and n not in fed}
        totals = [0.0] * (1 + len(t.metrics))
        seen = 0
        for group in groups:
            bounds = [t.bounds[b] for b in group]
            rows = np.concatenate([order[s:e] for s, e in bounds]).astype(np.int32)
            steps = range(t.step_count + 1, t.step_count + len(group) + 1)
            dtype = t.dtype
            ts = jnp.asarray(np.array(list(steps), dtype=dtype))
            lrs = jnp.asarray(np.array([t.optimizer.lr_at(k) for k in steps], dtype=dtype))
            group_fed = {n: jnp.asarray(np.stack([v[b] for b in group])) for n, v in fed.items()}
            args = (consts, self.data, jnp.asarray(rows), group_fed, ts, lrs)
            start = (params, self.states)
            params, self.states, outs = self._runner(guard=False)(*start, *args)
            if np.any(np.asarray(outs[1])):
                # A step went non-finite: run the group again from its start, this time
                # keeping the last finite values (the fast path carries no fallback).
                params, self.states, outs = self._runner(guard=True)(*start, *args)
            self._write_back(params)
            done = self._record(epoch, group, order, outs, totals)
            seen += sum(e - s for s, e in bounds[:done])
            if done < len(group) or t.stop_training:
                if done < len(group):
                    return True
                break
            if self.stepwise:
                params = self._params()
        t._sync()
        return t._end_epoch(epoch, totals, seen)

    def _fed(self, epoch: int, order: np.ndarray) -> dict[str, list[np.ndarray]]:
        """Every batch's fed inputs (dropout masks), drawn in the numpy loop's order."""
        t = self.trainer
        if t.feed is None:
            return {}
        from ..train.feed import _feed

        out: dict[str, list[np.ndarray]] = {}
        for b, (start, stop) in enumerate(t.bounds):
            for name, arr in t.data.items():
                t.work[name] = arr[order[start:stop]]
            for name in _feed(t, epoch, b, stop - start, ahead=b):
                out.setdefault(name, []).append(np.asarray(t.work[name], dtype=t.dtype))
        return out

    def _record(self, epoch: int, group: list[int], order: np.ndarray, outs: tuple,
                totals: list[float]) -> int:
        """Fold the group's steps into the epoch; the number of steps that were taken."""
        t = self.trainer
        bounds = [t.bounds[b] for b in group]
        losses, codes, which = (np.asarray(o) for o in outs[:3])
        kept = outs[3]
        bad = np.flatnonzero(codes)
        done = int(bad[0]) if bad.size else len(group)
        kept_np = {name: np.asarray(v) for name, v in zip(self.keep, kept, strict=True)}
        hooks = [cb.on_batch_end for cb in t.callbacks if hasattr(cb, "on_batch_end")]
        for i in range(done):
            start, stop = bounds[i]
            size = stop - start
            t.step_count += 1
            t.optimizer.iterations += 1
            totals[0] += float(losses[i]) * size
            if t.metrics:
                target = t.data[t.target][order[start:stop]]
                for k, (_, fn) in enumerate(t.metrics, start=1):
                    totals[k] += fn(kept_np[t.output][i], target) * size
            if hooks:
                logs_kept = {k: kept_np[k][i] for k in t.batch_means}
                t._batch_end(hooks, epoch, group[i], float(losses[i]), size, logs_kept)
        if done < len(group):
            self._fail(epoch, int(codes[done]), int(which[done]))
        return done

    def _fail(self, epoch: int, code: int, which: int) -> None:
        from ..train.history import NonFiniteError

        t = self.trainer
        what = _WHAT[code]
        name = None if code == 1 else self.param_names[which]
        step = t.step_count + 1
        error = NonFiniteError(what, epoch + 1, step, name, t.optimizer.lr_at(step))
        t.history.stopped = error
        t.history.message = str(error)

    def _params(self) -> dict[str, Any]:
        """The parameters on the device: the copies made last time, unless a callback
        has replaced the trainer's arrays since (``set_params``)."""
        _, jnp = load_jax()
        work = self.trainer.work
        out = {}
        for name in self.param_names:
            host, device = self._device.get(name, (None, None))
            if host is not work[name]:
                device = jnp.asarray(work[name])
                self._device[name] = (work[name], device)
            out[name] = device
        return out

    def _write_back(self, params: Mapping[str, Any]) -> None:
        """Parameters into the caller's arrays, which become the work arrays again."""
        t = self.trainer
        for name, value in params.items():
            host = t.caller_params[name]
            np.copyto(host, np.asarray(value))
            t.work[name] = host
            self._device[name] = (host, value)

    def finish(self) -> None:
        """The optimizer's state back in the optimizer, as numpy arrays (once, at the end)."""
        for name, values in self.states.items():
            self.trainer.optimizer.state[name] = {s: np.array(v) for s, v in
                                                  zip(self.state_names, values, strict=True)}


def _has_batch_hook(cb: Any) -> bool:
    """True when ``cb`` does something at the end of a batch (the base class does not)."""
    from ..train.callbacks import Callback

    hook = getattr(type(cb), "on_batch_end", None) or getattr(cb, "on_batch_end", None)
    return hook is not None and hook is not Callback.on_batch_end


def _groups(bounds: list[tuple[int, int]]) -> list[list[int]]:
    """Batches in runs of equal size: each run is one scan."""
    out: list[list[int]] = []
    for b, (s, e) in enumerate(bounds):
        if out and bounds[out[-1][0]][1] - bounds[out[-1][0]][0] == e - s:
            out[-1].append(b)
        else:
            out.append([b])
    return out


def _runner(compiled: Any, keep: tuple[str, ...], opt: Any, check_grads: bool,
            guard: bool) -> Callable[..., tuple]:
    """The jitted scan of steps, made once per (graph, kept nodes, update rule, guard):
    later fits of the same model reuse its compiled code. ``guard``: keep the last
    finite values through a non-finite step (a select per array per step, so only
    when a run without it found one)."""
    cache = compiled.__dict__.setdefault("_jax_runners", {})
    key = (keep, opt.source, tuple(opt._hyper), check_grads, guard)
    if key not in cache:
        names = list(compiled.graph.params)
        step = _train_step(compiled.step_function(keep),
                           optimizer_step(opt.source, opt.step_name), tuple(opt._hyper),
                           list(compiled.graph.leaves), names, check_grads, guard)
        cache[key] = jit(functools.partial(_run, step))
    return cache[key]


def _run(step: Callable[..., tuple], params: dict, states: dict, consts: dict, data: dict,
         order: Any, fed: dict, ts: Any, lrs: Any) -> tuple:
    """``len(ts)`` steps of equal batches (rows ``order``) under ``lax.scan``."""
    jax, jnp = load_jax()
    steps = ts.shape[0]
    size = order.shape[0] // steps
    batches = {n: jnp.take(a, order, axis=0).reshape(steps, size, *a.shape[1:])
               for n, a in data.items()}
    batches.update(fed)

    def body(carry: tuple, xs: tuple) -> tuple:
        return step(carry, xs, consts)

    carry = (params, states, jnp.asarray(False))
    (params, states, _), outs = jax.lax.scan(body, carry, (batches, ts, lrs))
    return params, states, outs


def _train_step(step_fn: Callable[..., tuple], update: Callable[..., tuple],
                hyper: tuple[float, ...], leaf_names: list[str], param_names: list[str],
                check_grads: bool, guard: bool) -> Callable[..., tuple]:
    """The pure step ``(carry, xs, consts) -> (carry, outputs)`` that the scan runs."""

    def step(carry: tuple, xs: tuple, consts: dict) -> tuple:
        _, jnp = load_jax()
        params, states, failed = carry
        batch, t, lr = xs
        leaves = [params[n] if n in params else batch[n] if n in batch else consts[n]
                  for n in leaf_names]
        loss, grads, kept = step_fn(*leaves)
        loss = jnp.mean(loss)
        new_params, new_states = {}, {}
        for name, g in zip(param_names, grads, strict=True):
            theta = params[name]
            res = update(theta, jnp.asarray(g, dtype=theta.dtype), *states[name], t, lr, *hyper)
            new_params[name], new_states[name] = res[0], tuple(res[1:])
        code, which = _verdict(jnp, loss, grads, new_params, param_names, check_grads)
        if guard:
            ok = (code == 0) & ~failed
            params = {n: jnp.where(ok, new_params[n], params[n]) for n in param_names}
            states = {n: tuple(jnp.where(ok, a, b) for a, b in zip(new_states[n], states[n],
                                                                   strict=True))
                      for n in param_names}
        else:
            params, states = new_params, new_states
        code = jnp.where(failed, 0, code)
        return (params, states, failed | (code != 0)), (loss, code, which, kept)

    return step


def _verdict(jnp: Any, loss: Any, grads: tuple, new: Mapping[str, Any],
             names: list[str], check_grads: bool) -> tuple[Any, Any]:
    """(0 fine, 1 loss, 2 gradient, 3 update not finite; the parameter's index)."""
    bad_update = jnp.stack([~jnp.all(jnp.isfinite(new[n])) for n in names])
    code = jnp.where(jnp.any(bad_update), 3, 0)
    which = jnp.argmax(bad_update)
    if check_grads:
        bad_grad = jnp.stack([~jnp.all(jnp.isfinite(jnp.asarray(g))) for g in grads])
        code = jnp.where(jnp.any(bad_grad), 2, code)
        which = jnp.where(jnp.any(bad_grad), jnp.argmax(bad_grad), which)
    code = jnp.where(jnp.isfinite(loss), code, 1)
    return code, which
