"""The entry points: :func:`check` one answer, :class:`Checker` for many on one graph."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import sympy as sp

from .. import sandbox
from ..errors import CheckError, GradgraphError
from ..graph import Graph
from .display import echo_unicode
from .equivalence import judge
from .indexed import IndexedText, IndexProblem
from .indices import Elements
from .layers import Layers
from .messages import factor_sentences, not_equal, result, undecided
from .prepare import Prepared
from .question import (
    check_answer_text,
    parse_answer,
    parse_question,
    resolve_limits,
    show_pair,
    split_answer,
)
from .result import CheckResult, FactorCheck

DEFAULT_DEADLINE = 3.0
DEFAULT_MEMORY_MB = 1024

Report = dict[str, Any]


def check(graph: Graph | str, question: str | None, answer: str, *,
          limits: Mapping[str, tuple[float, float]] | None = None,
          deadline: float = DEFAULT_DEADLINE, memory_mb: int = DEFAULT_MEMORY_MB,
          seed: int = 0) -> CheckResult:
    """Check ``answer`` to ``question`` (``"dC/dw"``, ``"∂C₀/∂w⁽ᴸ⁾"``, or just ``"w"``).

    ``answer`` is ``"dC/dw = x*sigma'(z)*2*(a - y)"`` or just its right side; with a left
    side, ``question`` may be None. On a graph with layers, questions name an element
    (``"dC_0/dW_jk^(L)"``, ``"dC_0/dW_01^(L)"``) or a whole tensor (``"dC_0/dW^(L)"``,
    the graph's letters), and answers use index notation (``"sum_j W_jk^(L)*…"``).
    ``limits`` maps a leaf to the range its random values come from
    (``{"p": (0.1, 5)}``). ``deadline`` bounds the whole check in seconds.
    Raises :class:`CheckError` for a question or answer it cannot read (the verdict
    "invalid" of the CLI and batch grading); an answer it reads but cannot judge is
    "undecided" (``correct=None``), its message naming the ``limits`` that would help.
    """
    return Checker(graph, limits=limits, deadline=deadline, memory_mb=memory_mb,
                   seed=seed).check(question, answer)


class Checker:
    """Checks many answers on one graph, preparing each question once (batch grading)."""

    def __init__(self, graph: Graph | str, *,
                 limits: Mapping[str, tuple[float, float]] | None = None,
                 deadline: float = DEFAULT_DEADLINE, memory_mb: int = DEFAULT_MEMORY_MB,
                 seed: int = 0):
        self.graph = Graph.from_text(graph) if isinstance(graph, str) else graph
        self.limits = resolve_limits(self.graph, limits or {})
        if not (isinstance(deadline, int | float) and 0 < deadline <= 600):
            raise CheckError("the deadline is a number of seconds from 0 to 600")
        self.deadline = float(deadline)
        self.memory_mb = memory_mb
        self.seed = seed
        self._prepared: dict[Hashable, Prepared] = {}
        # Layers: index notation, checked on the same network with one node per neuron.
        self._layers: tuple[IndexedText, Layers] | None = None
        if self.graph.is_tensor:
            elements = Elements(self.graph)
            self._layers = (IndexedText(self.graph, elements),
                            Layers(self.graph, elements, self.limits))

    def check(self, question: str | None, answer: str) -> CheckResult:
        """The verdict on ``answer``; see :func:`check`."""
        check_answer_text(answer)
        if self._layers is not None:
            return self._check_indexed(*self._layers, question, answer)
        (of, wrt), rhs, offset = split_answer(
            question, answer, lambda text: parse_question(self.graph, text), show_pair)
        prep = self._prepare((of, wrt), lambda: Prepared.build(self.graph, of, wrt,
                                                               self.limits, self.seed))
        expr = parse_answer(self.graph, rhs, offset)
        return self._verdict(prep, expr, echo_unicode(rhs))

    def _check_indexed(self, text: IndexedText, layers: Layers, question: str | None,
                       answer: str) -> CheckResult:
        q, rhs, offset = text.split(question, answer)
        prep = self._prepare(q, lambda: layers.prepare(q, self.seed))
        expr = text.parse_answer(rhs, offset)
        echo = echo_unicode(rhs)
        problem = text.problem(q, expr)
        if problem is None:
            return self._verdict(prep, expr, echo, text.notes(q, expr))
        return self._index_problem(prep, echo, problem)

    def _prepare(self, key: Hashable, build: Callable[[], Prepared]) -> Prepared:
        if key not in self._prepared:
            self._prepared[key] = build()
        return self._prepared[key]

    def _verdict(self, prep: Prepared, expr: sp.Expr, echo: str,
                 notes: Sequence[str] = ()) -> CheckResult:
        report = self._judge(prep, expr, echo)
        return report if isinstance(report, CheckResult) else result(prep, echo, report, notes)

    def _judge(self, prep: Prepared, expr: sp.Expr, echo: str) -> Report | CheckResult:
        """The child's report, or an "undecided" result when it was stopped."""
        if not sandbox.FORK_AVAILABLE:
            raise CheckError("checking answers needs the 'fork' start method (Linux, macOS)")
        try:
            return sandbox.run(judge, (prep, expr, self.deadline), timeout=self.deadline,
                               memory_mb=self.memory_mb)
        except sandbox.SandboxTimeout:
            return undecided(prep, echo, "timeout",
                             f"the check took too long (more than {self.deadline:g} s)")
        except sandbox.SandboxLimitError as e:
            return undecided(prep, echo, "limit", f"the check was stopped: {e}")
        except GradgraphError:
            raise
        except Exception as e:  # a checker bug must not stop a class's grading
            raise CheckError(f"the checker failed on this answer ({type(e).__name__}: "
                             f"{e})") from e

    def _index_problem(self, prep: Prepared, echo: str, problem: IndexProblem) -> CheckResult:
        """Not equal, whatever else: the sentence on the indices, then what the repaired
        answer shows (right as repaired, or which factor is still wrong)."""
        parts = [problem.sentence]
        factors: tuple[FactorCheck, ...] = ()
        if problem.repaired is not None:
            report = self._judge(prep, problem.repaired, echo)
            if isinstance(report, dict) and report["status"] == "equal":
                parts.append(problem.fixed)
            elif isinstance(report, dict):
                factors = tuple(FactorCheck(**f) for f in report["factors"])
                parts += factor_sentences(prep, factors) + list(report["notes"])
        return not_equal(prep, echo, parts, "index", factors=factors)
