"""The chain rule on a graph: adjoints, paths, derivations (each edge's local partial
comes from :mod:`gradgraph.partials`).

Reverse mode, node by node: the adjoint of a node is the sum over its children of
(local partial) × (the child's adjoint). Each adjoint is kept in *cached* form,
``∂C/∂z = σ′(z) · ∂C/∂a``, so deriving every adjoint costs one ``sympy.diff`` per edge
and grows linearly with the graph; the full chain-rule product along each path is
assembled only for the node a user asks about. Nothing here differentiates one big
nested expression (its size would grow exponentially with depth).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .derivation import (  # noqa: F401 - Derivation, Factor, path_sigma: public here too
    Derivation,
    Factor,
    _join_terms,
    _sigma_latex,
    _sigma_prefix,
    aligned,
    aligned_rows,
    path_sigma,
)
from .errors import DerivationError
from .graph import Graph, Node
from .notation import (
    partial_latex,
    partial_unicode,
)
from .partials import (  # noqa: F401 - local_partial, fused_consumer: public here too
    _downstream,
    _edge,
    fused_consumer,
    fused_cross_entropy,
    local_partial,
)

MAX_PATHS = 256
# A chain-rule product past this many factors (over all paths) is not worth printing:
# a 10,000-node chain would print 10,000 factors. The cached form (adjoints, --all)
# stays linear at any size, so the refusal points there.
MAX_FACTORS = 1_000
MAX_LINE = 160  # characters of a product worth printing in the all-adjoints view




@dataclass
class Adjoint:
    """∂(of)/∂node in cached form: Σ over children of local partial × child's adjoint."""

    of: str
    node: str
    terms: tuple[Factor, ...]  # one per child; factor.child is the child
    graph: Graph | None = field(default=None, repr=False)

    def _el(self, name: str) -> str:
        return self.graph[name].element if self.graph is not None else name

    def _sum(self, t: Factor) -> str:
        return (_sigma_prefix(self.graph, (t.child,), self.node, self.of, t.sums)
                if self.graph else "")

    @property
    def reuses(self) -> tuple[str, ...]:
        """Children whose (already computed) adjoints this one reuses."""
        return tuple(t.child for t in self.terms if t.child != self.of)

    def cached_unicode(self, order: Mapping[str, int] | None = None) -> str:
        """``∂z/∂b · ∂C/∂z`` — local partial times the cached adjoint."""
        if not self.terms:
            return "1" if self.node == self.of else "0"
        return " + ".join(
            self._sum(t) + (
                t.symbol_unicode if t.child == self.of
                else f"{t.symbol_unicode} · {partial_unicode(self._el(self.of), t.child_el)}")
            for t in self.terms
        )


@dataclass
class Adjoints:
    """Every node's adjoint of one output, computed once, in reverse topological order."""

    graph: Graph
    of: str
    adjoints: dict[str, Adjoint]

    def __getitem__(self, name: str) -> Adjoint:
        return self.adjoints[self.graph.resolve(name)]

    def __iter__(self):  # noqa: ANN204 - iterator of Adjoint
        return iter(self.adjoints.values())

    def factor_lists(self, name: str) -> list[tuple[Factor, ...]]:
        """``name``'s chain-rule products, one per path, built from its children's.

        Only the nodes between ``name`` and the output are visited, and each once, so
        a wide graph elsewhere costs nothing.
        """
        _refuse_long_chains(name, *self.path_counts(name))
        def paths(terms: tuple, memo: dict) -> list[tuple[Factor, ...]]:
            return [(t, *_downstream(self.graph, t, rest))
                    for t in terms for rest in memo[t.child]]

        return self._children_first(name, "_paths", [()], paths)

    def path_counts(self, name: str) -> tuple[int, int]:
        """(paths, factors over all paths) from ``name`` to the output, as integers.

        Counted child by child, without listing a path, so asking is linear in the
        graph; the counts stop growing past the limits (a wide graph has 2ⁿ paths).
        """
        cap = MAX_FACTORS + MAX_PATHS + 1

        def counts(terms: tuple, memo: dict) -> tuple[int, int]:
            kids = [memo[t.child] for t in terms]
            return (min(sum(p for p, _ in kids), cap), min(sum(p + f for p, f in kids), cap))

        return self._children_first(name, "_counts", (1, 0), counts)

    def _children_first(self, name: str, key: str, at_output: Any,
                        combine: Callable[[tuple, dict], Any]) -> Any:
        """``combine(terms, memo)`` for ``name`` and every node between it and the
        output, children first, each once (iterative: deep chains meet no recursion
        limit), memoised on this object under ``key``."""
        memo = self.__dict__.setdefault(key, {self.of: at_output})
        todo = [name]
        while todo:
            node = todo[-1]
            adj = self.adjoints.get(node)
            terms = adj.terms if adj else ()
            pending = [t.child for t in terms if t.child not in memo]
            if pending:
                todo.extend(pending)
                continue
            todo.pop()
            if node not in memo:
                memo[node] = combine(terms, memo)
        return memo[name]

    def __str__(self) -> str:
        """One line a node, backwards from the output, in cached form then in factors."""
        lines = []
        for name, adj in self.adjoints.items():
            if name == self.of:
                continue
            head = partial_unicode(self.graph[self.of].element, self.graph[name].element)
            cached = adj.cached_unicode()
            # Each factor prints as at least "x · ": past MAX_LINE/4 factors the product
            # would be dropped below anyway, so it is never built (linear at any size).
            paths, count = self.path_counts(name)
            small = paths <= MAX_PATHS and count <= MAX_LINE // 4
            factors = self.derivation(name).factors_unicode() if small else head
            # No tautologies (∂C/∂a = ∂C/∂a), and no 600-character products: past
            # MAX_LINE the cached form, with what it reuses, is the readable one.
            parts = [head] + [p for p in (cached, factors) if p != head]
            if len(parts) == 3 and (parts[1] == parts[2] or len(parts[2]) > MAX_LINE):
                parts.pop()
            line = " = ".join(parts)
            if adj.reuses:
                reused = ", ".join(partial_unicode(self.graph[self.of].element,
                                                   self.graph[c].element) for c in adj.reuses)
                line += f"   ↻ reuses {reused}"
            lines.append(line)
        return "\n".join(lines)

    def _latex_rows(self, name: str) -> list[str]:
        """``∂C/∂z &= ∂a/∂z ∂C/∂a = σ′(z) · 2(a − y)`` with its reuse mark: the cached
        form, then the chain-rule product when it is small (linear at any size)."""
        of = self.graph[self.of].element
        head = partial_latex(of, self.graph[name].element)
        adj = self.adjoints[name]
        cached = [_sigma_latex(adj._sum(t)) + (
            t.symbol_latex if t.child == self.of
            else f"{t.symbol_latex} {partial_latex(of, t.child_el)}") for t in adj.terms]
        sides = [cached or ["0"]]
        paths, count = self.path_counts(name)
        if paths <= MAX_PATHS and count <= MAX_LINE // 4:
            prod = self.derivation(name).latex_sides()[1][-1]
            if prod != sides[0] and sum(map(len, prod)) <= 4 * MAX_LINE:
                sides.append(prod)
        sides = [t for t in sides if t != [head]] or [["1"]]
        mark = ""
        if adj.reuses:
            reused = ", ".join(partial_latex(of, self.graph[c].element) for c in adj.reuses)
            mark = rf" \qquad \circlearrowleft \text{{ reuses }} {reused}"
        return aligned_rows(head, sides, mark)

    def derivation(self, wrt: str) -> Derivation:
        return Derivation(self.graph, self.of, self.graph.resolve(wrt), self)

    def latex(self) -> str:
        r"""Every adjoint in one ``\begin{aligned}`` block, after a ``where u_{1} = …``
        row naming the ops given names inside formulas."""
        rows = []
        generated = [n.definition_latex(self.graph.order) for n in self.graph.nodes
                     if n.generated]
        if generated:
            rows.append(r"&\text{where } " + r",\; ".join(generated))
        for n in self.adjoints:
            if n != self.of:
                rows.extend(self._latex_rows(n))
        return aligned(rows)

    def _repr_latex_(self) -> str:
        return f"$$ {self.latex()} $$"


def adjoints(graph: Graph, of: str | None = None, wrt: str | None = None) -> Adjoints:
    """Every node's adjoint ∂(of)/∂node; one ``diff`` per edge (linear in the graph).

    With ``wrt``, only the nodes on some path from ``wrt`` to ``of`` (what one
    derivation needs).
    """
    target = graph.resolve(of or graph.cost)
    relevant = {target, *graph.ancestors(target)}
    if wrt is not None:
        relevant &= {wrt, *_descendants(graph, wrt)}
    out: dict[str, Adjoint] = {}
    for node in reversed(graph.nodes):
        if node.name not in relevant:
            continue
        terms = tuple(_terms(graph, node, out))
        out[node.name] = Adjoint(target, node.name, terms, graph)
    return Adjoints(graph, target, out)


def _refuse_long_chains(name: str, paths: int, factors: int) -> None:
    """The chain-rule products of one node are listed only when they are few and short."""
    cached = ("its adjoint in cached form reuses its children's instead (gradgraph "
              "derive --all, or gradgraph.adjoints)")
    if paths > MAX_PATHS:
        raise DerivationError(f"more than {MAX_PATHS} chain-rule paths lead to '{name}'; "
                              f"{cached}")
    if factors > MAX_FACTORS:
        raise DerivationError(f"the chain rule for '{name}' is a product of more than "
                              f"{MAX_FACTORS:,} factors; {cached}")


def check_chain(graph: Graph, of: str | None, wrt: str) -> None:
    """Refuse, before any algebra, a derivation whose chain-rule products are too many
    or too long to list (:data:`MAX_PATHS`, :data:`MAX_FACTORS`).

    :func:`derive` itself stays lazy (a diagram still captions the cached form), so a
    caller that will print the products asks here first: counting is linear and takes
    no ``diff``, while the partials of a 10,000-node chain take seconds.
    """
    target = graph.resolve(of or graph.cost)
    name = graph.resolve(wrt)
    relevant = {target, *graph.ancestors(target)} & {name, *_descendants(graph, name)}
    _refuse_long_chains(name, *_count_paths(graph, name, target, relevant))


def _count_paths(graph: Graph, wrt: str, of: str, relevant: set[str]) -> tuple[int, int]:
    """(paths, factors) from ``wrt`` to ``of`` on the graph's edges, before any ``diff``.

    The same counts as :meth:`Adjoints.path_counts`, from the structure alone (a fused
    softmax and cross-entropy counts one edge more).
    """
    cap = MAX_FACTORS + MAX_PATHS + 1
    counts: dict[str, tuple[int, int]] = {of: (1, 0)}
    for node in reversed(graph.nodes):
        if node.name not in relevant or node.name == of:
            continue
        kids = [counts[c] for c in graph.children(node.name) if c in counts]
        counts[node.name] = (min(sum(p for p, _ in kids), cap),
                             min(sum(p + f for p, f in kids), cap))
    return counts.get(wrt, (0, 0))


def _descendants(graph: Graph, name: str) -> set[str]:
    seen: set[str] = set()
    todo = [name]
    while todo:
        for child in graph.children(todo.pop()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def _terms(graph: Graph, node: Node, done: Mapping[str, Adjoint]) -> list[Factor]:
    terms = []
    for child in graph.children(node.name):
        if child not in done:
            continue
        xent = fused_consumer(graph, graph[child])
        if xent is not None and xent.name in done:
            # softmax then cross-entropy: Σ_i a_i(δ_ij − a_j)(−y_i/a_i) = a_j − y_j, since
            # Σ_i y_i = 1; the graph takes the two edges together, as frameworks do.
            y = graph[xent.tensor_expr.args[1].name]
            a = graph[child]
            expr = xent.tspec.fusion.partial(a.element_symbol, y.element_symbol)
            terms.append(Factor(xent.name, node.name, expr, xent.element, node.element,
                                via=child))
        else:
            terms.append(_edge(graph, child, node.name))
    return terms


def derive(graph: Graph, of: str | None = None, wrt: str | None = None) -> Derivation:
    """∂(of)/∂(wrt) on ``graph``; ``of`` defaults to the cost node.

    >>> g = Graph.from_text("z = w*x + b; a = sigma(z); C = (a - y)^2")
    >>> print(derive(g, "C", "w"))
    ∂C/∂w = ∂z/∂w · ∂a/∂z · ∂C/∂a
          = x · σ′(z) · 2(a − y)
    """
    if wrt is None:
        raise DerivationError("say which node to differentiate with respect to (wrt=...)")
    name = graph.resolve(wrt)
    everything = adjoints(graph, of, wrt=name)
    if name not in everything.adjoints:
        raise DerivationError(
            f"{partial_unicode(everything.of, name)} = 0: '{name}' does not feed into "
            f"'{everything.of}'"
        )
    return Derivation(graph, everything.of, name, everything)
