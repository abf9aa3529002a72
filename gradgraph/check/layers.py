"""Preparing a question on layers: its instances on the scalar graph and the chain.

The verdict comes from the scalar graph (``expand_to_scalars``, one node per neuron):
the question's free letters are instantiated at every index (a sample for big layers),
the answer's ``sum_j`` expanded over the units j runs over, and the stacked values of
both sides are judged like a scalar answer. The layered derivation (Σⱼ Wⱼₖ · σ′(zⱼ) ·
2(aⱼ − yⱼ)), renamed to the question's letters, supplies the chain factors the
learner's term is matched against, and its paths for "missing the path …".
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp

from ..build import expand_to_scalars
from ..derive import Adjoints, Derivation, adjoints, derive
from ..errors import CheckError, GradgraphError, GraphError, ShapeError
from ..graph import Graph, Node
from ..notation import partial_unicode, unicode_name
from ..ops import TENSOR_OPS
from ..parse import IndexSum
from ..shapes import LETTERS, scalar_name
from .index_text import IndexedQuestion
from .index_values import Elements, index_of, index_values
from .numbers import evaluate
from .prepare import (
    ExpectedFactor,
    Instances,
    Points,
    Prepared,
    ancestors,
    canonical,
    expected_factor,
    path_values,
    points_for,
    shown_leaves,
)

MAX_INSTANCES = 12  # index values the verdict instantiates a question at
MAX_ASSIGNMENTS = 16  # index values the factor match instantiates the chain factors at
MAX_NAMED = 64  # values of the summed letters a counterexample's factor names are read at


class Indexed(Instances):
    """An indexed answer's instances: one scalar formula per index value."""

    def __init__(self, elements: Elements, letters: Mapping[str, int],
                 instances: list[dict[str, int]]):
        self.elements = elements
        self.letters = dict(letters)
        self.instances = instances
        self.summed: tuple[str, ...] = ()  # the chain's summed letters, as renamed
        self.assignments: list[dict[str, int]] = []  # where factors are compared
        self.extents: dict[str, int] = {}  # of the question's and the summed letters

    def formulas(self, answer: sp.Expr) -> list[sp.Expr]:
        extents = {**self.elements.extents(answer), **self.letters}
        return [self.elements.instantiate(answer, v, extents) for v in self.instances]

    def term(self, answer: sp.Expr) -> sp.Expr | None:
        """The product under the answer's Σ, its summed letters renamed to the chain's."""
        pulled = _pull_sums(answer)
        if pulled is None or len(pulled[0]) != len(self.summed):
            return None
        bound, product = pulled
        return self.elements.rename(product, dict(zip(bound, self.summed, strict=True)))

    def values(self, expr: sp.Expr, env: Mapping[sp.Symbol, np.ndarray], n: int
               ) -> np.ndarray:
        return np.concatenate([evaluate(self.elements.instantiate(expr, a, self.extents),
                                        env, n) for a in self.assignments])

    def names(self, expr: sp.Expr, instance: int) -> set[str]:
        """The scalar names a chain factor (aⱼ − yⱼ) mentions at one instance (k = 1),
        over every value of the chain's summed letters: a₀, y₀, a₁, y₁."""
        fixed = self.instances[instance]
        ranges = [range(self.extents.get(c, 0)) for c in self.summed]
        out: set[str] = set()
        for combo in itertools.islice(itertools.product(*ranges), MAX_NAMED):
            values = {**fixed, **dict(zip(self.summed, combo, strict=True))}
            out |= {s.name for s in self.elements.instantiate(expr, values,
                                                              self.extents).free_symbols}
        return out


class Layers:
    """What a question on a layered graph needs once: its instances on the scalar graph,
    their true values, and the layered chain's factors and paths in its letters."""

    def __init__(self, graph: Graph, elements: Elements,
                 limits: Mapping[str, tuple[float, float]]):
        self.graph = graph
        self.elements = elements
        try:
            self.scalars = expand_to_scalars(graph)
        except (ShapeError, GraphError) as e:  # too many units to write out one by one
            raise CheckError(f"cannot check answers on this graph: {e}") from None
        self.limits = {scalar_name(name, index): bounds for name, bounds in limits.items()
                       for index in itertools.product(*(range(d) for d in graph[name].shape))}
        self._adjoints: dict[str, tuple[Adjoints, dict[str, sp.Expr]]] = {}
        # Generated element-wise nodes, written out in messages: the learner never
        # wrote u₁ⱼ (a node with a Σ of its own stays named).
        self._inline = {n.element_symbol: n.expr for n in graph.nodes
                        if n.generated and n.expr is not None and not n.sums}

    def prepare(self, q: IndexedQuestion, seed: int, answers: Sequence[sp.Expr] = (),
                derivation: Derivation | None = None, until: float = math.inf) -> Prepared:
        """The question at its instances; the points also straddle the kinks of the
        ``answers`` (indexed, instantiated here). ``derivation``: the parent's, if any."""
        letters = q.letters(self.graph)
        instances = index_values(letters, MAX_INSTANCES, seed)
        expected, shown = [], []
        for v in instances:
            of = scalar_name(q.of, index_of(q.of_index, v))
            expected.append(self._truth(of, scalar_name(q.wrt, index_of(q.wrt_index, v))))
            shown.append(shown_leaves(self.scalars, of))
        indexed = Indexed(self.elements, letters, instances)
        canonicals = tuple(canonical(self.scalars, e) for e in expected)
        kinks = [*self._instantiated(indexed, answers), *canonicals]  # the answer's first
        sample = points_for(self.scalars, expected, self.limits, seed, self._distributions,
                            kinks, until)
        env, n = sample.env, sample.n
        d = derivation if derivation is not None else self.derivation(q)
        labels = tuple(", ".join(f"{c} = {v[c]}" for c in letters) for v in instances)
        paths = self._paths(q, instances[0], env, n) if len(instances) == 1 else \
            self._tensor_paths(q, d, indexed, env, n)
        return Prepared(self.scalars, q.text, d, n, sample.leaf_values, env,
                        np.concatenate(sample.truths),
                        self._factors(q, d, indexed, env, n, seed), paths, canonicals,
                        tuple(shown), self.graph.order, indexed, labels, self._limit_names(),
                        sample, any(_target_arg(n) is not None for n in self.graph.nodes))

    def _instantiated(self, indexed: Indexed, answers: Sequence[sp.Expr]) -> list[sp.Expr]:
        """The answers at the question's instances, in the leaves (for their kinks);
        one whose indices do not fit the question (a missing Σ) has none to give."""
        out = []
        for a in answers:
            try:
                out += [canonical(self.scalars, f) for f in indexed.formulas(a)]
            except GradgraphError:
                continue
        return out

    def _limit_names(self) -> dict[str, str]:
        """Each neuron's leaf -> its layer's name: ``limits`` are given per tensor."""
        return {scalar_name(node.name, index): node.name for node in self.graph.nodes
                if node.expr is None and node.shape
                for index in itertools.product(*(range(d) for d in node.shape))}

    def _distributions(self, points: Points) -> Points:
        """Cross-entropy targets made probabilities (positive, summing to 1) at each
        point: softmax then cross-entropy's ∂C/∂zⱼ = aⱼ − yⱼ holds only then."""
        out = dict(points)
        for node in self.graph.nodes:
            arg = _target_arg(node)
            if arg is None:
                continue
            target = self.graph[node.tensor_expr.args[arg].name]
            if target.expr is None and len(target.shape) == 1:
                names = [scalar_name(target.name, (i,)) for i in range(target.shape[0])]
                stacked = np.stack([out[name] for name in names])
                e = np.exp(stacked - stacked.max(axis=0))  # no overflow at ±1000
                for name, row in zip(names, e / e.sum(axis=0), strict=True):
                    out[name] = row
        return out

    def _truth(self, of: str, wrt: str) -> sp.Expr:
        """∂of/∂wrt on the scalar graph: Σ over children of local partial × their adjoint
        (nested, so the paths are never listed one by one)."""
        if wrt not in ancestors(self.scalars, of):
            return sp.S.Zero
        if of not in self._adjoints:
            self._adjoints[of] = (adjoints(self.scalars, of), {of: sp.S.One})
        adj, memo = self._adjoints[of]
        for node in reversed(self.scalars.nodes):  # children before parents
            if node.name in adj.adjoints and node.name not in memo:
                memo[node.name] = sp.Add(*(t.expr * memo[t.child]
                                           for t in adj.adjoints[node.name].terms))
        return memo[wrt]

    def _paths(self, q: IndexedQuestion, values: dict[str, int],
               env: Mapping[sp.Symbol, np.ndarray], n: int) -> list[tuple[str, np.ndarray]]:
        """One weight's or unit's paths on the scalar graph, for "missing the path …"."""
        of = scalar_name(q.of, index_of(q.of_index, values))
        wrt = scalar_name(q.wrt, index_of(q.wrt_index, values))
        if of not in self._adjoints:
            return []
        try:
            return path_values(self.scalars, self._adjoints[of][0].derivation(wrt), env, n)
        except GradgraphError:  # more paths than are listed one by one
            return []

    def _tensor_paths(self, q: IndexedQuestion, d: Derivation | None, indexed: Indexed,
                      env: Mapping[sp.Symbol, np.ndarray], n: int
                      ) -> list[tuple[str, np.ndarray]]:
        """The layered chain's paths (each with its own Σ), valued like the answer."""
        if d is None or len(d.factors) < 2:
            return []
        out = []
        for path, chain in zip(d.paths, d.factors, strict=True):
            product = sp.Mul(*(f.expr for f in chain))
            letters = self._chain_letters(q, [product])
            if letters is None or product.has(sp.KroneckerDelta):
                return []
            body = self.elements.rename(product, letters)
            for c in sorted(set(self.elements.extents(body)) - set(indexed.letters)):
                body = IndexSum(body, sp.Symbol(c))
            values = [evaluate(f, env, n) for f in indexed.formulas(body)]
            out.append((" → ".join(unicode_name(p) for p in path), np.concatenate(values)))
        return out

    def derivation(self, q: IndexedQuestion) -> Derivation | None:
        """The layered derivation (None when ``q.wrt`` does not feed ``q.of``, or it has
        too many paths to list: the verdict does not need it)."""
        if q.wrt not in ancestors(self.graph, q.of):
            return None
        try:
            return derive(self.graph, q.of, q.wrt)
        except GradgraphError:  # too many paths, say: the verdict does not need it
            return None

    def _factors(self, q: IndexedQuestion, d: Derivation | None, indexed: Indexed,
                 env: Mapping[sp.Symbol, np.ndarray], n: int, seed: int
                 ) -> list[ExpectedFactor] | None:
        """The chain's factors in the question's letters, valued over the letters'
        values (the summed ones too), for the factor match; None for several paths."""
        if d is None or len(d.factors) != 1:
            return None
        chain = d.factors[0]
        if any(f.expr.has(sp.KroneckerDelta) for f in chain):
            return None  # softmax's Jacobian: no element-wise story to tell
        letters = self._chain_letters(q, [f.expr for f in chain])
        if letters is None:
            return None
        # Renaming rebuilds 2(aⱼ − yⱼ) as 2aⱼ − 2yⱼ; factor_terms puts the 2 back in front.
        exprs = [sp.factor_terms(self.elements.rename(f.expr, letters)) for f in chain]
        extents = {**self.elements.extents(sp.Add(*exprs)), **indexed.letters}
        indexed.summed = tuple(sorted(set(extents) - set(indexed.letters)))
        indexed.extents = extents
        indexed.assignments = index_values(extents, MAX_ASSIGNMENTS, seed)

        def show(name: str) -> str:
            return self.elements.rename(sp.Symbol(name), letters).name \
                if self.elements.ref(name) else name

        return [expected_factor(partial_unicode(show(f.child_el or f.child),
                                                show(f.parent_el or f.parent)),
                                e, self._inline, self.graph.order,
                                lambda rest: indexed.values(rest, env, n))
                for f, e in zip(chain, exprs, strict=True)]

    def _chain_letters(self, q: IndexedQuestion, exprs: list[sp.Expr]) -> dict[str, str] | None:
        """The graph's letters -> the question's; summed letters to ones it leaves free."""
        out: dict[str, str] = {}
        for name, chars in ((q.of, q.of_index), (q.wrt, q.wrt_index)):
            for g, c in zip(self.graph[name].letters, chars, strict=True):
                if out.setdefault(g, c) != c:
                    return None  # ∂a_0/∂z_1 of an element-wise layer: the graph says j = j
        summed = sorted(set(self.elements.extents(sp.Add(*exprs))) - set(out))
        taken = set(out.values())
        for g in summed:
            out[g] = g if g not in taken else next(c for c in LETTERS if c not in taken)
            taken.add(out[g])
        return out


def _pull_sums(expr: sp.Expr) -> tuple[list[str], sp.Expr] | None:
    """(summed letters, the product under them): xₕ Σⱼ Wⱼₖ … is Σⱼ xₕ Wⱼₖ …, since a
    factor outside a Σ does not carry its letter. None for a sum of Σs."""
    parts = sp.Mul.make_args(expr)
    sums = [p for p in parts if isinstance(p, IndexSum)]
    if not sums:
        return ([], expr) if not expr.has(IndexSum) else None
    inner = _pull_sums(sums[0].args[0]) if len(sums) == 1 else None
    if inner is None:
        return None
    outside = sp.Mul(*(p for p in parts if p is not sums[0]))
    return [str(sums[0].args[1]), *inner[0]], outside * inner[1]


def _target_arg(node: Node) -> int | None:
    """Which argument of ``node``'s tensor op is a target that must be a probability
    vector (cross-entropy's y), read from the registry; None for any other node."""
    spec = TENSOR_OPS.get(node.kind)
    if spec is None or not spec.target_distribution or spec.loss_args is None:
        return None
    return spec.loss_args[1]
