"""Misconception codes: every buggy answer generated from a question's chain comes back
"not equal" with its own code (the bundled lessons' derivative questions, the README's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gradgraph import Graph
from gradgraph.check import Checker, check
from gradgraph.check.codes import CODES, NOTE_CODES, describe, ordered
from gradgraph.check.mutations import buggy_answers
from gradgraph.lesson.loader import load_lesson

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
README_GRAPH = "z = w*x + b; a = sigma(z); C = (a - y)^2"
CHAIN = (LESSONS / "graphs" / "chain.gg").read_text()


def derivative_questions() -> list[tuple[str, Graph, str, dict]]:
    out = []
    for path in sorted(LESSONS.glob("*.toml")):
        lesson = load_lesson(path)
        for ex in lesson.exercises:
            if ex.check == "derivative" and not lesson.graphs[ex.graph].graph.is_tensor:
                out.append((f"{lesson.name}:{ex.id}", lesson.graphs[ex.graph].graph,
                            ex.question, ex.limits))
    return out


def grade_bank(graph: Graph, question: str, limits: dict, one_per_code: bool = False
               ) -> list[str]:
    """The buggy answers whose verdict is not "not equal" with their code."""
    checker = Checker(graph, limits=limits or None)
    bank = buggy_answers(graph, question, limits)
    if one_per_code:  # a long chain's bank is large; each kind of slip once
        bank = list({code: text for code, text in reversed(bank)}.items())
    assert bank, "no buggy answers generated"
    bad = []
    for code, text in bank:
        r = checker.check(question, text)
        if r.correct is not False or code not in r.codes:
            bad.append(f"{question} = {text}: wanted {code}, got {r.verdict} {r.codes}")
    return bad


def test_every_code_is_described_once():
    assert all(c.description and c.why for c in CODES.values())
    assert set(NOTE_CODES.values()) <= set(CODES)
    assert describe("SIGN-FLIP").startswith("the sign")
    assert ordered(["WRONG-FACTOR", "SIGN-FLIP", "SIGN-FLIP"]) == ("SIGN-FLIP",)


def test_the_readme_question_bank_gets_its_codes():
    graph = Graph.from_text(README_GRAPH)
    bank = buggy_answers(graph, "dC/dw")
    kinds = {code for code, _ in bank}
    assert {"OP-NOT-DERIVATIVE", "PRIME-AT-OUTPUT", "DROPPED-CONSTANT", "SIGN-FLIP",
            "MISSING-FACTOR", "EXTRA-FACTOR", "SUM-NOT-PRODUCT"} <= kinds
    assert grade_bank(graph, "dC/dw", {}) == []


def test_the_chain_lesson_bank_names_wrong_layers():
    graph = Graph.from_text(CHAIN)
    kinds = {code for code, _ in buggy_answers(graph, "dC_0/dw^(L)")}
    assert "WRONG-LAYER" in kinds
    assert grade_bank(graph, "dC_0/dw^(L)", {}) == []


def test_several_paths_and_units():
    graph = Graph.from_text((LESSONS / "graphs" / "two-units.gg").read_text())
    question = "dC_0/da_0^(L-1)"
    kinds = {code for code, _ in buggy_answers(graph, question)}
    assert {"MISSING-SUM", "TRANSPOSED-INDEX"} <= kinds
    assert grade_bank(graph, question, {}) == []


def test_a_right_answer_has_no_codes_and_json_carries_them():
    r = check(README_GRAPH, "dC/dw", "x*sigma'(z)*2*(a - y)")
    assert r.correct and r.codes == () and r.to_dict()["codes"] == []
    r = check(README_GRAPH, "dC/dw", "x*sigma(z)*2*(a - y)")
    assert r.codes == ("OP-NOT-DERIVATIVE",)
    assert r.to_dict()["codes"] == ["OP-NOT-DERIVATIVE"]
    wrong = [f for f in r.to_dict()["factors"] if not f["ok"]]
    assert [f["code"] for f in wrong] == ["OP-NOT-DERIVATIVE"]


def test_two_slips_give_two_codes():
    r = check(README_GRAPH, "dC/dw", "x*sigma(z)*(a - y)")
    assert set(r.codes) == {"OP-NOT-DERIVATIVE", "DROPPED-CONSTANT"}


@pytest.mark.slow
@pytest.mark.parametrize("name,graph,question,limits", derivative_questions(),
                         ids=lambda v: v if isinstance(v, str) and ":" in v else "")
def test_every_bundled_question_bank(name, graph, question, limits):
    assert grade_bank(graph, question, limits, one_per_code=True) == []


def test_index_notation_answers_get_codes_too():
    checker = Checker(Graph.from_text((LESSONS / "graphs" / "layer.gg").read_text()))
    q = "dC_0/da_k^(L-1)"
    right = "W_jk^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)"
    cases = {f"sum_j {right}": (), right: ("MISSING-SUM",),
             f"sum_j {right.replace('W_jk', 'W_kj')}": ("TRANSPOSED-INDEX",),
             f"sum_j {right.replace(chr(39), '')}": ("OP-NOT-DERIVATIVE",),
             f"sum_j {right.replace('2*', '')}": ("DROPPED-CONSTANT",)}
    assert {a: checker.check(q, a).codes for a in cases} == cases
