"""Every tensor op's registry entry, checked against itself.

Parametrised over ``ops.TENSOR_OPS``: an op added to the registry is tested here
without a line of test code. The forward kernel must equal the op's index form
evaluated exactly (SymPy rationals, small shapes); each pull-back kernel, or the
generic rule (the adjoint times the index form's partial), must equal float64 central
differences of the forward kernel.
"""

from __future__ import annotations

import itertools
import random
from types import SimpleNamespace

import numpy as np
import pytest
import sympy as sp

import gradgraph as gg
from gradgraph import ops
from gradgraph.node import _has_letters
from gradgraph.shapes import _Axes, _unify, element_name
from gradgraph.tensor_ops import IndexContext, TensorOpSpec

SPECS = list(ops.TENSOR_OPS.values())
BATCH = 2  # examples, for an op that averages over the batch


def _to_sympy(e: sp.Expr) -> sp.Expr:
    e = e.replace(lambda x: isinstance(x, ops.PrimeFunction),
                  lambda x: ops.prime_definition(x.spec, x.args[0]))
    return e.replace(lambda x: isinstance(x, ops.OpFunction), lambda x: x.spec.define(x.args[0]))


class Setting:
    """One op applied to arguments A0, A1, … of its example shapes, with index letters."""

    def __init__(self, spec: TensorOpSpec):
        self.spec = spec
        self.names = [f"A{k}" for k in range(spec.arity)]
        self.shapes = dict(zip(self.names, spec.example, strict=True))
        self.out_shape = spec.shape(list(spec.example), _fail)
        self.shapes["out"] = self.out_shape
        args = tuple(gg.parse.symbol(n) for n in self.names)
        axes = _Axes()
        _unify(SimpleNamespace(name="out", tensor_expr=spec.func(*args)), self.shapes, axes)
        roots = sorted({axes.find((n, i)) for n, s in self.shapes.items() for i in range(len(s))})
        letter = {r: "jkhg"[i] for i, r in enumerate(roots)}
        self.letters = {n: tuple(letter[axes.find((n, i))] for i in range(len(s)))
                        for n, s in self.shapes.items()}
        context = IndexContext(self.el, self.elements, self.letters, self.shapes,
                               lambda name: ops.lookup(name).func)
        self.form, self.summed = spec.index_form(args, context)
        self.scalars = {n: {i: sp.Symbol(f"{n}_{'_'.join(map(str, i))}")
                            for i in np.ndindex(*s)} for n, s in self.shapes.items()}

    def el(self, s: sp.Expr) -> sp.Expr:
        return gg.parse.symbol(element_name(s.name, self.letters[s.name]))

    def elements(self, e: sp.Expr) -> sp.Expr:
        return e.xreplace({s: self.el(s) for s in e.free_symbols})

    def extent(self, c: str) -> int:
        return next(self.shapes[n][ls.index(c)] for n, ls in self.letters.items() if c in ls)

    def at(self, form: sp.Expr, values: dict[str, int]) -> sp.Expr:
        """The index form with its letters set, in the arguments' scalars."""
        subs = {self.el(gg.parse.symbol(n)): self.scalars[n][tuple(values[c] for c in ls)]
                for n, ls in self.letters.items()
                if n != "out" and all(c in values for c in ls)}
        return form.xreplace(subs)

    def exact(self) -> dict[tuple[int, ...], sp.Expr]:
        """Each output element as a formula in the arguments' scalars (one example)."""
        out = {}
        for index in np.ndindex(*self.out_shape):
            values = dict(zip(self.letters["out"], index, strict=True))
            ranges = [range(self.extent(c)) for c in self.summed]
            # As the graph reads it: Σ covers the terms that carry its letters (Σₖ Wⱼₖxₖ + bⱼ).
            terms = self.form.args if isinstance(self.form, sp.Add) else (self.form,)
            inner = sp.Add(*(t for t in terms if _has_letters(t, self.summed)))
            outer = sp.Add(*(t for t in terms if not _has_letters(t, self.summed)))
            out[index] = self.at(outer, values) + sp.Add(*(
                self.at(inner, {**values, **dict(zip(self.summed, s, strict=True))})
                for s in itertools.product(*ranges)))
        if self.spec.display.normaliser:  # the index form is a numerator over its sum
            total = sp.Add(*out.values())
            out = {i: e / total for i, e in out.items()}
        return out


def _fail(message: str) -> None:
    raise AssertionError(message)


def _rationals(shape: tuple[int, ...], rng: random.Random) -> np.ndarray:
    count = int(np.prod(shape))
    values = [sp.Rational(rng.randint(1, 19), rng.randint(2, 9)) for _ in range(count)]
    return np.array(values, dtype=object).reshape(shape)


def _forward(spec: TensorOpSpec, arrays: list[np.ndarray]) -> np.ndarray:
    if spec.keep_inline:
        return spec.forward(np, arrays[0], len(spec.example[0]))
    return spec.forward(np, *arrays)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_forward_kernel_is_the_index_form(spec: TensorOpSpec) -> None:
    s = Setting(spec)
    rng = random.Random(spec.name)
    batch = (BATCH,) if spec.reduces_batch else ()
    values = [_rationals(batch + s.shapes[n], rng) for n in s.names]
    exact = s.exact()
    got = _forward(spec, [v.astype(float) for v in values])
    assert got.shape == s.out_shape
    for index, formula in exact.items():
        examples = range(BATCH) if spec.reduces_batch else [None]
        total = sp.S.Zero
        for b in examples:
            subs = {s.scalars[n][i]: (v[b] if b is not None else v)[i]
                    for n, v in zip(s.names, values, strict=True) for i in s.scalars[n]}
            total += _to_sympy(formula).xreplace(subs).subs(ops.BATCH_SIZE, BATCH)
        assert float(got[index]) == pytest.approx(float(sp.N(total, 30)), rel=1e-12)


def _central(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        grad[i] = (f(up) - f(down)) / (2 * h)
    return grad


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_pullbacks_match_central_differences(spec: TensorOpSpec) -> None:
    s = Setting(spec)
    rng = np.random.default_rng(len(spec.name))
    batch = (BATCH,) if spec.reduces_batch else ()
    arrays = [rng.uniform(0.2, 1.5, batch + s.shapes[n]) for n in s.names]
    g = rng.normal(size=s.out_shape)
    out = _forward(spec, arrays)
    exact = s.exact()
    for k in range(spec.arity):
        def loss(x: np.ndarray, k: int = k) -> float:
            return float(np.sum(g * _forward(spec, [*arrays[:k], x, *arrays[k + 1:]])))

        numeric = _central(loss, arrays[k])
        vjp = spec.vjp[k] if k < len(spec.vjp) else None
        if vjp is not None:
            got = vjp(np, g, out, *arrays)
        else:  # generic: the adjoint times the index form's partial, summed over outputs
            subs = {s.scalars[n][i]: v[i] for n, v in zip(s.names, arrays, strict=True)
                    for i in s.scalars[n]}
            got = np.zeros_like(arrays[k])
            for i, x in s.scalars[s.names[k]].items():
                got[i] = sum(g[o] * float(_to_sympy(sp.diff(e, x)).xreplace(subs))
                             for o, e in exact.items())
        np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_entry_is_complete(spec: TensorOpSpec) -> None:
    assert ops.lookup(spec.name) is None  # no element-wise op of the same name
    assert len(spec.example) == spec.arity and spec.label
    assert spec.vjp and len(spec.vjp) == spec.arity
    assert not spec.keep_inline or spec.arity == 1


def test_mean_is_one_block_of_the_registry() -> None:
    """``mean`` was added as one entry: parsing, shapes, derivation and code all follow."""
    g = gg.Graph.from_text("W: param(3, 2); x: input(2); y: input(3)\n"
                           "z = W x\na = sigma(z)\nC = mean((a - y)^2)")
    assert str(gg.derive(g, "C", "a")).splitlines()[-1].endswith("2(aⱼ − yⱼ)/3")
    rng = np.random.default_rng(0)
    values = {"W": rng.normal(size=(3, 2)), "x": rng.normal(size=(4, 2)),
              "y": rng.normal(size=(4, 3))}
    result = gg.compile(g)(values)
    a = 1 / (1 + np.exp(-(values["x"] @ values["W"].T)))
    assert result.loss == pytest.approx(np.mean((a - values["y"]) ** 2))
    delta = 2 * (a - values["y"]) / 3 * a * (1 - a) / 4
    np.testing.assert_allclose(result.gradients["W"], delta.T @ values["x"], rtol=1e-10)
