"""One derivation ∂(of)/∂(wrt) and how it reads: chain-rule paths, products of local
partials, Σ over summed index letters, the matrix form (δ = ∂C/∂z, ∂C/∂W = δ xᵀ,
worked out in :mod:`gradgraph.matrix_form`).

:mod:`gradgraph.derive` computes the partials and adjoints; this module holds the
:class:`Factor` on each edge and everything that prints them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import sympy as sp

from .graph import Graph, checked_expansion
from .matrix_form import MatrixForm, matrix_lines
from .notation import (
    FROM_SUBSCRIPT,
    SUBSCRIPT,
    partial_latex,
    partial_unicode,
    to_latex,
    to_unicode,
)

if TYPE_CHECKING:
    from .derive import Adjoints


@dataclass(frozen=True)
class Factor:
    """One local partial ∂child/∂parent on an edge of the graph.

    For layers the partial is between elements (∂zⱼ/∂Wⱼₖ = xₖ); ``child_el`` and
    ``parent_el`` name them. ``via`` names a node the edge passes over when two ops
    are taken together (softmax then cross-entropy: ∂C/∂zⱼ = aⱼ − yⱼ).
    """

    child: str
    parent: str
    expr: sp.Expr
    child_el: str = ""
    parent_el: str = ""
    via: str = ""
    sums: tuple[str, ...] = ()  # letters the partial itself sums over (a Jacobian's i)

    @property
    def symbol_unicode(self) -> str:
        return partial_unicode(self.child_el or self.child, self.parent_el or self.parent)

    @property
    def symbol_latex(self) -> str:
        return partial_latex(self.child_el or self.child, self.parent_el or self.parent)


@dataclass
class Derivation:
    """∂(of)/∂(wrt) by the chain rule, path by path.

    ``paths`` are node-name tuples from ``wrt`` up to ``of``; ``factors`` the local
    partials along each path in the slides' order (∂z/∂w, ∂a/∂z, ∂C/∂a); ``expr`` the
    sum over paths of their products in named intermediates; ``expanded`` the same in
    the leaves only.
    """

    graph: Graph = field(repr=False)
    of: str
    wrt: str
    _all: Adjoints = field(repr=False)

    def __repr__(self) -> str:
        return f"<Derivation {self.head_unicode}: {len(self.factors)} path(s)>"

    @property
    def factors(self) -> tuple[tuple[Factor, ...], ...]:
        return tuple(self._all.factor_lists(self.wrt))

    @property
    def paths(self) -> tuple[tuple[str, ...], ...]:
        return tuple((self.wrt, *(f.child for f in fs)) for fs in self.factors)

    @cached_property
    def expr(self) -> sp.Expr:
        return sp.Add(*(sp.Mul(*(f.expr for f in fs)) for fs in self.factors))

    @cached_property
    def expanded(self) -> sp.Expr:
        """``expr`` with intermediates replaced by their definitions (leaves only).

        In layered graphs only element-wise definitions are substituted (aⱼ = σ(zⱼ));
        a layer's sum over k stays named (zⱼ), as a teacher would leave it. Past
        :data:`gradgraph.graph.MAX_EXPANDED` nodes it raises :class:`GraphError`.
        """
        return checked_expansion(self.expr.xreplace(self._definitions),
                                 f"{self.head_unicode} in the leaves")

    @cached_property
    def _definitions(self) -> dict[sp.Symbol, sp.Expr]:
        memo: dict[sp.Symbol, sp.Expr] = {}
        for node in self.graph.nodes:
            if node.expr is None or (self.graph.is_tensor and node.tspec is not None):
                continue
            memo[node.element_symbol] = node.expr.xreplace(memo)
        return memo

    @property
    def reuses(self) -> tuple[str, ...]:
        """Cached adjoints this derivation reuses (the slides' "caching")."""
        adj = self._all.adjoints.get(self.wrt)
        return adj.reuses if adj else ()

    def value(self, values: Mapping[str, Any]) -> Any:
        """The derivative's number(s) at ``values``, from the compiled graph."""
        return self.graph.gradients(values, of=self.of)[self.wrt]

    # --- display --------------------------------------------------------------------

    def _order(self) -> Mapping[str, int]:
        return self.graph.order

    def _sigma(self, fs: tuple[Factor, ...]) -> str:
        return path_sigma(self.graph, fs, self.wrt, self.of)

    @property
    def head_unicode(self) -> str:
        """``∂C/∂w``; for layers, between elements: ``∂C/∂Wⱼₖ``."""
        return partial_unicode(self.graph[self.of].element, self.graph[self.wrt].element)

    def chain_terms(self) -> list[str]:
        """One ``∂z/∂w · ∂a/∂z · ∂C/∂a`` a path (Σⱼ where an index is summed)."""
        return [self._sigma(fs) + (" · ".join(f.symbol_unicode for f in fs) or "1")
                for fs in self.factors] or ["0"]

    def chain_unicode(self) -> str:
        """``∂z/∂w · ∂a/∂z · ∂C/∂a`` (+ … for several paths; Σⱼ where an index is summed)."""
        return _join_terms(self.chain_terms())

    def factor_terms(self) -> list[str]:
        """One ``x · σ′(z) · 2(a − y)`` a path."""
        order = self._order()
        return [
            self._sigma(fs) + (" · ".join(
                _unicode_factor(f.expr, order, len(fs) > 1 or len(self.factors) > 1)
                for f in fs) or "1")
            for fs in self.factors
        ] or ["0"]

    def factors_unicode(self) -> str:
        """``x · σ′(z) · 2(a − y)``."""
        return _join_terms(self.factor_terms())

    def __str__(self) -> str:
        """``∂C/∂w = chain = factors``, one side a line; a long sum broken after its + signs."""
        head = self.head_unicode
        sides = [t for t in (self.chain_terms(), self.factor_terms()) if t != [head]]
        sides = [t for i, t in enumerate(sides) if i == 0 or t != sides[i - 1]]
        pad = " " * len(head)
        lines: list[str] = []
        for terms in sides:
            rows = broken_rows(terms)
            lines.append(f"{pad if lines else head} = {rows[0]}")
            lines.extend(f"{pad}   {r}" for r in rows[1:])
        return "\n".join(lines)

    def expanded_unicode(self) -> str:
        """``expanded`` in Unicode; for layers each path keeps its Σ over summed indices."""
        expanded = self.expanded  # checks the size before anything is printed
        if not self.graph.is_tensor:
            return to_unicode(expanded, self._order())
        return _join_terms([
            self._sigma(fs) + to_unicode(sp.Mul(*(f.expr for f in fs)).xreplace(
                self._definitions), self._order()) for fs in self.factors] or ["0"])

    def cached_unicode(self) -> str:
        """``∂C/∂b = ∂z/∂b · ∂C/∂z``: the form that reuses a child's adjoint."""
        adj = self._all.adjoints.get(self.wrt)
        rhs = adj.cached_unicode() if adj else "0"
        return f"{self.head_unicode} = {rhs}"

    def latex_sides(self) -> tuple[str, list[list[str]]]:
        """(head, [chain terms, product terms]) in LaTeX, a side left out where it would
        repeat the one before (∂C/∂y = ∂C/∂y)."""
        head = partial_latex(self.graph[self.of].element, self.graph[self.wrt].element)
        if not self.factors:
            return head, [["0"]]
        order = self._order()
        sums = [_sigma_latex(self._sigma(fs)) for fs in self.factors]
        chain = [s + (" ".join(f.symbol_latex for f in fs) or "1")
                 for s, fs in zip(sums, self.factors, strict=True)]
        prod = [s + (r" \cdot ".join(_latex_factor(f.expr, order) for f in fs) or "1")
                for s, fs in zip(sums, self.factors, strict=True)]
        sides = [t for t in (chain, prod) if t != [head]]
        return head, [t for i, t in enumerate(sides) if i == 0 or t != sides[i - 1]]

    def latex(self) -> str:
        """One line, or an ``aligned`` block when a long sum of paths is broken up."""
        head, sides = self.latex_sides()
        if not any(needs_break(t) for t in sides):
            return " = ".join([head, *(" + ".join(t) for t in sides)])
        return aligned(aligned_rows(head, sides))

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def matrix_unicode(self) -> str:
        """The same derivative for whole layers: δ = ∂C/∂z, ∂C/∂W = δ xᵀ, ∂C/∂x = Wᵀ δ.

        One line per affine layer on the way down (its δ), then the result. For a
        graph without layers this is the scalar chain rule again.
        """
        return "\n".join(matrix_lines(self, latex=False))

    def matrix_latex(self) -> str:
        r"""``matrix_unicode`` in LaTeX, its lines in one ``\begin{aligned}`` block."""
        rows = [line.replace(" = ", " &= ", 1) for line in matrix_lines(self, latex=True)]
        return aligned(rows)

    @property
    def matrix(self) -> MatrixForm:
        """The matrix form as an object: ``str`` gives Unicode, Jupyter shows the LaTeX."""
        return MatrixForm(self)


def path_sigma(graph: Graph, fs: tuple[Factor, ...], wrt: str, of: str) -> str:
    """``Σⱼ `` for one chain-rule path: the letters it sums over (see _sigma_prefix)."""
    names = tuple(f.child for f in fs) + tuple(f.via for f in fs if f.via)
    return _sigma_prefix(graph, names, wrt, of, tuple(c for f in fs for c in f.sums))


def _sigma_prefix(graph: Graph, names: tuple[str, ...], wrt: str, of: str,
                  extra: tuple[str, ...] = ()) -> str:
    """``Σⱼ `` for the index letters on a path that ``wrt`` and ``of`` do not carry,
    and for ``extra`` letters its partials sum over themselves (a Jacobian's i)."""
    free = set(graph[wrt].letters) | set(graph[of].letters)
    summed = sorted(({c for n in names for c in graph[n].letters} | set(extra)) - free)
    return "".join(f"Σ{SUBSCRIPT.get(c, '_' + c)} " for c in summed)


def _sigma_latex(prefix: str) -> str:
    letters = [FROM_SUBSCRIPT.get(part[1:], part[2:]) for part in prefix.split()]
    return "".join(rf"\sum_{{{c}}} " for c in letters)


BREAK_TERMS = 4  # a sum of more paths than this prints one path a line
BREAK_WIDTH = 100  # ... and so does a sum whose line would be wider than this


_LATEX_MARKUP = re.compile(r"\\(?:left|right|frac|partial|cdot|quad)|\\|[{}_^]")


def needs_break(terms: list[str]) -> bool:
    """Whether a sum of paths is long enough to break after its + signs (LaTeX counted
    by what it shows, not by its markup)."""
    width = sum(len(_LATEX_MARKUP.sub("", t)) + 3 for t in terms)
    return len(terms) > 1 and (len(terms) > BREAK_TERMS or width > BREAK_WIDTH)


def broken_rows(terms: list[str]) -> list[str]:
    """Unicode terms joined on one row, or one a row each ending in the next sign (a +)."""
    if not needs_break(terms):
        return [_join_terms(terms)]
    rows = [terms[0]]
    for t in terms[1:]:
        minus = t.startswith("−")
        rows[-1] += " −" if minus else " +"
        rows.append(t[1:] if minus else t)
    return rows


def aligned_rows(head: str, sides: list[list[str]], mark: str = "") -> list[str]:
    r"""LaTeX rows for ``\begin{aligned}``: ``head &= …``, ``&= …``, broken sums
    continuing on ``&\quad …`` rows after their + signs; ``mark`` ends the last row."""
    rows: list[str] = []
    for terms in sides:
        lead = f"{head} &= " if not rows else "&= "
        if not needs_break(terms):
            rows.append(lead + " + ".join(terms))
            continue
        rows.extend((lead if i == 0 else r"&\quad ") + t + (" +" if i < len(terms) - 1 else "")
                    for i, t in enumerate(terms))
    if mark:
        rows[-1] += mark
    return rows


def aligned(rows: list[str]) -> str:
    return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"


def _join_terms(terms: list[str]) -> str:
    """``a + b`` but ``a − b`` for a term that starts with a minus sign."""
    out = terms[0]
    for t in terms[1:]:
        out += f" − {t[1:]}" if t.startswith("−") else f" + {t}"
    return out


def _unicode_factor(expr: sp.Expr, order: Mapping[str, int], grouped: bool) -> str:
    text = to_unicode(expr, order)
    return f"({text})" if grouped and isinstance(expr, sp.Add) else text


def _latex_factor(expr: sp.Expr, order: Mapping[str, int]) -> str:
    text = to_latex(expr, order)
    return f"\\left({text}\\right)" if isinstance(expr, sp.Add) else text
