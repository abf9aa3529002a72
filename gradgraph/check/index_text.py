"""Index notation as text: questions (∂C₀/∂Wⱼₖ⁽ᴸ⁾), answers (Σⱼ …), their letters.

Runs in the parent on the learner's text, through the safe parser only. Before any
number is computed, the answer's free letters are held against the question's: a
missing Σⱼ or a wrong free index is named as such (:class:`IndexProblem`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from .. import ops
from ..errors import CheckError, GradgraphError
from ..graph import Graph
from ..notation import SUBSCRIPT, partial_unicode, split_name, unicode_name
from ..parse import IndexSum, parse_name
from ..shapes import element_name
from .display import sum_letter
from .index_values import Elements, unbound_sum
from .question import (
    answer_name,
    derivative_part,
    exact_name,
    parse_right_side,
    question_text,
    resolve_name,
    split_answer,
)


@dataclass(frozen=True)
class IndexedQuestion:
    """∂(of element)/∂(wrt element): node names and one index character per axis.

    ``chosen`` is False when the question named a whole tensor (``dC/dW``): the graph's
    letters were filled in, and an answer may write its own on the left side.
    """

    of: str
    of_index: str
    wrt: str
    wrt_index: str
    chosen: bool = field(default=True, compare=False)

    @property
    def text(self) -> str:
        return partial_unicode(element_name(self.of, tuple(self.of_index)),
                               element_name(self.wrt, tuple(self.wrt_index)))

    def letters(self, graph: Graph) -> dict[str, int]:
        """The free letters and how many units each runs over."""
        out: dict[str, int] = {}
        for name, chars in ((self.of, self.of_index), (self.wrt, self.wrt_index)):
            for c, size in zip(chars, graph[name].shape, strict=True):
                if c.isalpha() and out.setdefault(c, size) != size:
                    raise CheckError(f"the index {c} runs over {out[c]} units on one side "
                                     f"of the question and {size} on the other")
        return out


@dataclass
class IndexProblem:
    """A wrong index structure: the sentence that names it, and the answer repaired
    (Σⱼ put in front, the free letter renamed), judged for what else is wrong."""

    sentence: str
    repaired: sp.Expr | None = None  # None: nothing to judge (the units do not match)
    fixed: str = ""  # said when the repaired answer is right
    code: str = "WRONG-INDEX"  # its misconception code (check.codes)


class IndexedText:
    """Reads questions and answers in index notation on one layered graph."""

    def __init__(self, graph: Graph, elements: Elements):
        self.graph = graph
        self.elements = elements

    def split(self, question: str | None, answer: str) -> tuple[IndexedQuestion, str, int]:
        return split_answer(question, answer, self.read_question, lambda q: q.text,
                            _agree)

    def read_question(self, text: str) -> IndexedQuestion:
        """``dC_0/dW_jk^(L)``, ``∂C₀/∂aₖ⁽ᴸ⁻¹⁾``, ``dC_0/dW^(L)`` (the graph's letters),
        ``dC_0/dW_01^(L)`` (one weight) or just ``W^(L)``."""
        text = question_text(text)
        if "/" in text:
            top, _, bottom = text.partition("/")
            of = derivative_part(self.graph, top, self._side)
            wrt = derivative_part(self.graph, bottom, self._side)
        else:
            of, wrt = self._side(self.graph, self.graph.cost), self._side(self.graph, text)
        return IndexedQuestion(of[0], of[1], wrt[0], wrt[1], of[2] and wrt[2])

    def _side(self, graph: Graph, text: str) -> tuple[str, str, bool]:
        """(node, index characters, whether they were written) for one side."""
        text = text.strip()
        name = exact_name(graph, text)
        if name is None:
            ref = self._element(text)
            if ref is not None:
                return ref[0], ref[1], True
            name = resolve_name(graph, text)
        node = graph[name]
        return name, "".join(node.letters), not node.shape

    def _element(self, text: str) -> tuple[str, str] | None:
        try:
            name = parse_name(text)
        except GradgraphError:
            return None
        found = self.elements.matches(name, loose=True)
        if len(found) > 1:
            shown = " or ".join(unicode_name(self.elements.element(r).name) for r in found)
            raise CheckError(f"'{text}' could be {shown}; write which one, e.g. "
                             f"'{self.elements.element(found[0]).name}'")
        if found:
            self.elements.check_range(found[0])
        return found[0] if found else None

    # --- the answer ------------------------------------------------------------------------

    def parse_answer(self, rhs: str, offset: int) -> sp.Expr:
        """The right side with every name an element, a scalar node, or an error."""
        names = {n.name for n in self.graph.nodes} | {n.element for n in self.graph.nodes}
        expr = _sums_from_sigma(parse_right_side(self.graph, rhs, offset, names), names)
        if any(isinstance(e, ops.TensorOpFunction) for e in sp.preorder_traversal(expr)):
            raise CheckError("in the answer: write sums with their index, as in "
                             "sum_j (a_j - y_j)^2, not sum(...) of a whole layer")
        bound = {s.args[1] for s in sp.preorder_traversal(expr) if isinstance(s, IndexSum)}
        rename = {s: self._answer_symbol(s.name) for s in expr.free_symbols - bound}
        expr = expr.xreplace(rename)
        unbound = sorted({str(b) for b in bound} - set(self.elements.extents(expr)))
        if unbound:
            raise unbound_sum(unbound[0])
        return expr

    def _answer_symbol(self, name: str) -> sp.Symbol:
        if name not in self.graph:
            try:
                ref = self._element(name)
            except CheckError as e:
                raise CheckError(f"in the answer: {e}") from None
            if ref is not None:
                return self.elements.element(ref)
            name = answer_name(self.graph, name)
        node = self.graph[name]
        if node.shape:
            raise CheckError(f"in the answer: {unicode_name(name)} is a whole layer; write one "
                             f"element with its index, e.g. {unicode_name(node.element)}")
        return node.symbol

    def problem(self, q: IndexedQuestion, expr: sp.Expr) -> IndexProblem | None:
        """A missing Σ, a wrong free index, or an index over the wrong number of units."""
        asked = q.letters(self.graph)
        free = self.elements.free_letters(expr)
        extents = self.elements.extents(expr)
        for c in sorted(free & set(asked)):
            if extents[c] != asked[c]:
                return IndexProblem(f"Your index {c} runs over {extents[c]} units, but in "
                                    f"{q.text} it runs over {asked[c]}.")
        extra, missing = sorted(free - set(asked)), sorted(set(asked) - free)
        if extra and missing:
            return self._wrong_index(q, expr, extra, missing)
        return self._missing_sum(q, expr, extra) if extra else None

    def _wrong_index(self, q: IndexedQuestion, expr: sp.Expr, extra: list[str],
                     missing: list[str]) -> IndexProblem:
        # Swapped both ways, so that Σₖ Wₖⱼ … for ∂C/∂aₖ is tried as Σⱼ Wⱼₖ ….
        swap = {**dict(zip(extra, missing, strict=False)),
                **dict(zip(missing, extra, strict=False))}
        asked = ", ".join(missing)
        return IndexProblem(f"Your answer is in {', '.join(extra)} where {q.text} asks about "
                            f"{asked}; write it in {asked}.", self.elements.rename(expr, swap),
                            f"Written in {asked} it is right.")

    def _missing_sum(self, q: IndexedQuestion, expr: sp.Expr, extra: list[str]
                     ) -> IndexProblem:
        repaired = expr
        for c in reversed(extra):
            repaired = IndexSum(repaired, sp.Symbol(c))
        units = " and ".join(f"every unit {c} of {self._layer(expr, c)}" for c in extra)
        return IndexProblem(f"Your answer does not sum over {', '.join(extra)}: {q.text} "
                            f"collects {units}.", repaired,
                            f"With {''.join(_sigma(c) for c in extra)} in front it is right.",
                            "MISSING-SUM")

    def notes(self, q: IndexedQuestion, expr: sp.Expr) -> list[str]:
        """A Σ over a letter the question fixes: ∂C/∂Wⱼₖ is about one unit j."""
        asked = q.letters(self.graph)
        bound = {str(s.args[1]) for s in sp.preorder_traversal(expr) if isinstance(s, IndexSum)}
        return [f"Your answer sums over {c}, but {q.text} is about one unit {c}."
                for c in sorted(bound & set(asked))]

    def _layer(self, expr: sp.Expr, letter: str) -> str:
        """"layer L" for the units a letter counts, or the tensor's name."""
        tensors = self.elements.tensors_with(expr, letter)
        tags = {split_name(t)[2] for t in tensors} - {""}
        if len(tags) == 1:
            return f"layer {tags.pop()}"
        return unicode_name(tensors[0]) if tensors else letter


def _agree(asked: IndexedQuestion, given: IndexedQuestion) -> IndexedQuestion | None:
    """The question, or the answer's own letters where the question left them open."""
    if asked == given:
        return asked
    same_nodes = (asked.of, asked.wrt) == (given.of, given.wrt)
    return given if same_nodes and not asked.chosen else None


def _sigma(letter: str) -> str:
    return f"Σ{SUBSCRIPT.get(letter, '_' + letter)}"


def _sums_from_sigma(expr: sp.Expr, names: set[str]) -> sp.Expr:
    """``Σⱼ`` reads as a name (Sigma_j) times the term: make it ``sum_j`` of the term."""
    sigmas = {s: sum_letter(s.name) for s in expr.free_symbols
              if s.name.startswith("Sigma_") and s.name not in names and sum_letter(s.name)}
    return _rewrite_sigma(expr, sigmas) if sigmas else expr


def _rewrite_sigma(e: sp.Expr, sigmas: Mapping[sp.Symbol, str | None]) -> sp.Expr:
    if e in sigmas:
        raise CheckError(f"in the answer: {_sigma(sigmas[e] or '')} needs a term after it")
    if not e.args:
        return e
    if isinstance(e, sp.Mul) and any(a in sigmas for a in e.args):
        out = sp.Mul(*(_rewrite_sigma(a, sigmas) for a in e.args if a not in sigmas))
        for a in reversed([a for a in e.args if a in sigmas]):
            out = IndexSum(out, sp.Symbol(sigmas[a] or ""))
        return out
    return e.func(*(_rewrite_sigma(a, sigmas) for a in e.args))
