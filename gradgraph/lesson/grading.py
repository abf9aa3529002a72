"""Grading an exercise answer: derivatives by :func:`gradgraph.check`, numbers, choices.

Derivatives go to the checker (:mod:`gradgraph.check`), whose message names the chain
factor that differs. Expected numbers are always computed from the graph, never typed
by the lesson author, so they cannot drift from the maths (:mod:`.values`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from ..check import check as check_answer
from ..check import echo_unicode
from ..check.question import parse_question
from ..errors import GradgraphError
from ..notation import partial_unicode, unicode_name
from ..parse import parse_expression
from .model import ExerciseStep, Lesson
from .values import node_value, real_value

LETTERS = "abcdefghijkl"
_LETTER = re.compile(r"^\(?([a-l])\s*[).:]?$")
_LETTER_AND_TEXT = re.compile(r"^\(?([a-l])[).:]\s+(.+)$")

_SUPERSCRIPT_DIGITS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
DEFAULT_RTOL = 0.01  # answers typed to 2–3 significant figures must pass
DEFAULT_ATOL = 5e-4
FALLBACK_POINTS = 24
MIN_VALID_POINTS = 8


@dataclass(frozen=True)
class Verdict:
    """``correct`` is True, False, or None when the answer could not be read or decided.

    ``invalid`` tells the two ``None`` cases apart, with the words ``gradgraph check``
    uses: "invalid" is input that cannot be read (a parse error, a letter that is not a
    choice, a number that is not real); "undecided" is a readable answer the checker
    could not judge (a timeout, too few points where both sides are defined).
    """

    correct: bool | None
    message: str  # what the learner sees now: never the right form of a wrong answer
    invalid: bool = False
    full: str = ""  # the checker's full message (the right form of the wrong factor),
    # shown after the lesson's ``reveal_after`` wrong tries; "" when ``message`` says all
    codes: tuple[str, ...] = ()  # the misconception codes (gradgraph.check.codes)

    @property
    def status(self) -> str:
        """``correct``, ``wrong``, ``invalid`` or ``undecided``."""
        if self.correct is None:
            return "invalid" if self.invalid else "undecided"
        return "correct" if self.correct else "wrong"


def invalid(message: str) -> Verdict:
    """The verdict on input that cannot be read; it is not counted as a try."""
    return Verdict(None, message, invalid=True)


def grade(lesson: Lesson, ex: ExerciseStep, answer: str) -> Verdict:
    """Grade ``answer`` to ``ex``; never raises for a learner's bad input."""
    answer = str(answer).strip()
    if not answer:
        return invalid("the answer is empty")
    try:
        if ex.check == "choice":
            return _grade_choice(ex, answer)
        if ex.check == "number":
            return _grade_number(lesson, ex, answer)
        return _grade_derivative(lesson, ex, answer)
    except GradgraphError as e:
        # The lesson's own parts were checked when it was loaded (and the number's
        # target is computed apart, below), so what is left to fail is the answer.
        text = str(e)
        return invalid(text if "answer" in text else f"in your answer: {text}")
    except RecursionError:
        return invalid("I could not read that answer: nested too deeply")


def expected(lesson: Lesson, ex: ExerciseStep) -> str:
    """The answer as the reveal shows it."""
    if ex.check == "choice":
        i = LETTERS.index(ex.answer)
        return f"{ex.answer}) {ex.choices[i]}"
    if ex.check == "number":
        return format_number(expected_number(lesson, ex))
    assert ex.question is not None and ex.graph is not None
    graph = lesson.graphs[ex.graph].graph
    return f"{partial_unicode(*parse_question(graph, ex.question))} = {echo(ex.answer)}"


def echo(answer: str) -> str:
    """The author's answer in Unicode, as written (the checker's echo)."""
    try:
        return echo_unicode(answer)
    except GradgraphError:
        return answer


def expected_number(lesson: Lesson, ex: ExerciseStep) -> float:
    assert ex.graph is not None and ex.value is not None and ex.values is not None
    graph = lesson.graphs[ex.graph].graph
    return node_value(graph, ex.value, lesson.values[ex.values])


def format_number(x: float) -> str:
    """Four significant figures, as a teacher would write them (0.66, −0.07324)."""
    if x == 0:
        return "0"
    if not math.isfinite(x):
        return str(x)
    text = f"{x:.4g}"
    if "e" in text:  # 1e-08 -> 1×10⁻⁸
        mantissa, exponent = text.split("e")
        power = str(int(exponent)).translate(_SUPERSCRIPT_DIGITS)
        text = f"10{power}" if mantissa == "1" else f"{mantissa}×10{power}"
    return text.replace("-", "−")


# --- the three kinds -------------------------------------------------------------------


def _grade_choice(ex: ExerciseStep, answer: str) -> Verdict:
    letters = LETTERS[: len(ex.choices)]
    given = choice_letter(ex.choices, answer)
    if given is None:
        return invalid(f"answer with a letter from a to {letters[-1]}, its number or its text")
    if given == ex.answer:
        return Verdict(True, "correct")
    return Verdict(False, f"not {given}) — think again about “{ex.choices[letters.index(given)]}”")


def choice_letter(choices: tuple[str, ...], answer: str) -> str | None:
    """The letter ``answer`` picks: ``b``, ``(b)``, ``2``, ``b) text`` or the text itself."""
    letters = LETTERS[: len(choices)]
    texts = [normalise_choice(c) for c in choices]
    given = normalise_choice(answer)
    hit = _LETTER.match(given)
    if hit and hit.group(1) in letters:
        return hit.group(1)
    if given.isdigit() and 1 <= int(given) <= len(choices):
        return letters[int(given) - 1]
    if given in texts:
        return letters[texts.index(given)]
    hit = _LETTER_AND_TEXT.match(given)  # a choice pasted with its letter
    if hit and hit.group(1) in letters and texts[letters.index(hit.group(1))] == hit.group(2):
        return hit.group(1)
    return None


def normalise_choice(text: str) -> str:
    """Choice text as compared: case, Unicode forms, markup, spacing and the
    punctuation at either end (“…learns faster.”) do not count."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("−", "-")
    text = re.sub(r"[`*]", "", text)
    return " ".join(text.split()).strip(" .,;:!…")


def _grade_number(lesson: Lesson, ex: ExerciseStep, answer: str) -> Verdict:
    given = _number_answer(answer)
    if isinstance(given, Verdict):
        return given
    try:
        target = expected_number(lesson, ex)
    except GradgraphError as e:  # the lesson's fault, never the learner's
        return Verdict(None, f"the lesson cannot compute this exercise's value ({ex.where}: "
                             f"{e}); please tell the lesson's author")
    tol = ex.tolerance if ex.tolerance is not None else max(DEFAULT_ATOL,
                                                            DEFAULT_RTOL * abs(target))
    if abs(given - target) <= tol:
        return Verdict(True, f"correct ({format_number(target)})")
    # Direction only: the tolerance (or the size of the miss) would give the value away.
    if target != 0 and given != 0 and (given > 0) != (target > 0):
        return Verdict(False, f"not quite: {format_number(given)} has the wrong sign")
    way = "too large" if given > target else "too small"
    return Verdict(False, f"not quite: {format_number(given)} is {way}")


def _number_answer(answer: str) -> float | Verdict:
    """The real number a learner typed, or the verdict saying why it is not one."""
    expr = parse_expression(answer.replace("−", "-"))
    if expr.free_symbols:
        names = ", ".join(sorted(unicode_name(s.name) for s in expr.free_symbols))
        return invalid(f"give a number (your answer still contains {names})")
    value = real_value(expr)
    if math.isnan(value):
        return invalid("that is not a real number; give a number")
    if not math.isfinite(value):
        return invalid("that is not a finite number; give a number")
    return value


def _grade_derivative(lesson: Lesson, ex: ExerciseStep, answer: str) -> Verdict:
    assert ex.graph is not None and ex.question is not None
    graph = lesson.graphs[ex.graph].graph
    result = check_answer(graph, ex.question, answer, limits=ex.limits or None)
    full = _bare(str(getattr(result, "message", "") or ""))
    guide = getattr(result, "guidance", None)
    # A wrong answer is told which factor and why, never the right form (check.guidance).
    message = _bare(guide()) if callable(guide) and result.correct is False else full
    return Verdict(getattr(result, "correct", None), message or "checked",
                   full=full if full != message else "",
                   codes=tuple(getattr(result, "codes", ())))


def _bare(message: str) -> str:
    """The checker's message without its own mark (✓/✗; the runner adds one) or the
    status the summary names itself ("undecided: …")."""
    message = message.lstrip("✓✗?· ").strip()
    return re.sub(r"^undecided:\s*", "", message)
