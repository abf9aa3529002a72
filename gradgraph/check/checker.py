"""The entry points: :func:`check` one answer, :class:`Checker` for many on one graph."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import sympy as sp

from .. import sandbox
from ..derive import Derivation
from ..errors import CheckError, GradgraphError
from ..graph import Graph
from ..notation import partial_unicode
from .codes import ordered
from .display import echo_unicode
from .equivalence import judge
from .index_text import IndexedText, IndexProblem
from .index_values import Elements
from .layers import Layers
from .messages import factor_sentences, not_equal, result, stopped
from .prepare import Prepared, question_derivation
from .question import (
    check_answer_text,
    parse_answer,
    parse_question,
    resolve_limits,
    show_pair,
    split_answer,
)
from .result import CheckResult, FactorCheck, from_plain, reveal_texts, to_plain
from .typed import boundaries, conditions, domain_report, typed_answer

DEFAULT_DEADLINE = 3.0
DEFAULT_MEMORY_MB = 1024


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
    """Checks many answers on one graph (batch grading).

    The parent reads the question and the answer (the safe parser: bounded, and an
    unreadable one raises :class:`CheckError` before any process starts) and derives
    the chain once per question (one ``diff`` per edge). Everything else that touches
    the graph's or the learner's formulas runs in one child process per answer, killed
    at the deadline: preparing the question (points that straddle the answer's kinks,
    user ops evaluated, the true values), judging, simplifying, and writing the
    message. The child sends back plain data.
    """

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
        self._derivations: dict[Hashable, Derivation | None] = {}
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
        expr = parse_answer(self.graph, rhs, offset)
        typed = typed_answer(self.graph, rhs, offset)  # as typed: nothing cancelled
        d = self._derivation((of, wrt), lambda: question_derivation(self.graph, of, wrt))
        echo = echo_unicode(rhs)

        def work(start: float) -> CheckResult:
            conds = conditions(typed) if typed is not None else []
            edges = boundaries(self.graph, conds)  # straddled like the answer's kinks
            prep = Prepared.build(self.graph, of, wrt, self.limits, self.seed,
                                  [expr, *edges], d, self._kinks_until(start))
            return self._verdict(prep, expr, echo, start, typed=conds)

        return self._run(work, partial_unicode(of, wrt), echo, d)

    def _check_indexed(self, text: IndexedText, layers: Layers, question: str | None,
                       answer: str) -> CheckResult:
        q, rhs, offset = text.split(question, answer)
        expr = text.parse_answer(rhs, offset)
        d = self._derivation(q, lambda: layers.derivation(q))
        echo = echo_unicode(rhs)

        def work(start: float) -> CheckResult:
            prep = layers.prepare(q, self.seed, [expr], d, self._kinks_until(start))
            problem = text.problem(q, expr)
            if problem is None:
                return self._verdict(prep, expr, echo, start, text.notes(q, expr))
            return self._index_problem(prep, echo, problem, start)

        return self._run(work, q.text, echo, d)

    def _derivation(self, key: Hashable, build: Callable[[], Derivation | None]
                    ) -> Derivation | None:
        if key not in self._derivations:
            self._derivations[key] = build()
        return self._derivations[key]

    def _kinks_until(self, start: float) -> float:
        """Looking for kinks may use the first quarter of the deadline."""
        return start + 0.25 * self.deadline

    def _run(self, work: Callable[[float], CheckResult], question: str, echo: str,
             d: Derivation | None) -> CheckResult:
        """``work`` in the child, under the deadline; its plain-data result as a
        :class:`CheckResult` again, or "undecided" when the child was stopped."""
        if not sandbox.FORK_AVAILABLE:
            raise CheckError("checking answers needs the 'fork' start method (Linux, macOS)")
        try:
            data = sandbox.run(_in_child, (work, self.deadline), timeout=self.deadline,
                               memory_mb=self.memory_mb)
        except sandbox.SandboxTimeout:
            return stopped(question, echo, d, "timeout",
                           f"the check took too long (more than {self.deadline:g} s)")
        except sandbox.SandboxLimitError as e:
            return stopped(question, echo, d, "limit", f"the check was stopped: {e}")
        except GradgraphError:
            raise
        except Exception as e:  # a checker bug must not stop a class's grading
            raise CheckError(f"the checker failed on this answer ({type(e).__name__}: "
                             f"{e})") from e
        return from_plain(data, d)

    def _verdict(self, prep: Prepared, expr: sp.Expr, echo: str, start: float,
                 notes: Sequence[str] = (), typed: Sequence[Any] = ()) -> CheckResult:
        """The verdict; ``typed``: the answer's conditions as typed (its domain)."""
        report = judge(prep, expr, self.deadline, start)
        if typed and (report["status"] == "equal" or report["exact"]):
            left = start + 0.85 * self.deadline - time.monotonic()
            try:  # only a right-looking answer is held to the domain it was typed with
                with sandbox.soft_deadline(left):
                    report["typed_domain"] = domain_report(prep, list(typed))
            except Exception:  # noqa: BLE001 - out of time, or SymPy gave up: it stands
                report["typed_domain"] = None
        return result(prep, echo, report, notes)

    def _index_problem(self, prep: Prepared, echo: str, problem: IndexProblem,
                       start: float) -> CheckResult:
        """Not equal, whatever else: the sentence on the indices, then what the repaired
        answer shows (right as repaired, or which factor is still wrong)."""
        parts = [problem.sentence]
        factors: tuple[FactorCheck, ...] = ()
        codes = [problem.code]
        if problem.repaired is not None:
            report = judge(prep, problem.repaired, self.deadline, start)
            if report["status"] == "equal":
                parts.append(problem.fixed)
            else:
                factors = tuple(FactorCheck(**f) for f in report["factors"])
                parts += factor_sentences(prep, factors) + list(report["notes"])
                codes += report["codes"]
        return not_equal(prep, echo, parts, "index", factors=factors, codes=ordered(codes))


def _in_child(work: Callable[[float], CheckResult], deadline: float) -> dict[str, Any]:
    """The child's whole job: the verdict, and the reveal text, as plain data."""
    start = time.monotonic()
    with np.errstate(all="ignore"):  # overflow at ±1000 is expected, and handled
        res = work(start)
    return to_plain(res, reveal_texts(res.expected, start + 0.9 * deadline))
