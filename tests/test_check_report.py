"""The class report: codes per question, a heatmap of the edges got wrong, grades.csv."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

import gradgraph as gg
from gradgraph import Graph
from gradgraph.check.heatmap import blamed_edges, heat_colour, heatmap
from gradgraph.check.report import _cell
from gradgraph.cli import cli
from gradgraph.render import find_dot

ROOT = Path(__file__).resolve().parents[1]
CLASS = ROOT / "lessons" / "answers" / "chain-class.toml"
CHAIN = Graph.from_text((ROOT / "lessons" / "graphs" / "chain.gg").read_text())


def test_report_files_counts_and_partial_credit(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["check", "--answers", str(CLASS), "--report", str(out)])
    assert result.exit_code == 0, result.output
    grades = list(csv.DictReader((out / "grades.csv").read_text(encoding="utf-8").splitlines()))
    assert [(g["student"], g["verdict"], g["codes"], g["score"]) for g in grades] == [
        ("ana", "correct", "", "1.00"), ("ben", "correct", "", "1.00"),
        ("chloe", "not equal", "DROPPED-CONSTANT", "0.67"),
        ("dev", "not equal", "OTHER-INPUT", "0.67"), ("eli", "invalid", "", "0.00")]
    codes = list(csv.DictReader((out / "codes.csv").read_text(encoding="utf-8").splitlines()))
    assert {(c["code"], c["count"], c["answers"]) for c in codes} == {
        ("DROPPED-CONSTANT", "1", "5"), ("OTHER-INPUT", "1", "5")}
    text = (out / "codes.txt").read_text(encoding="utf-8")
    assert "Question 1: ∂C₀/∂w⁽ᴸ⁾  (5 answers" in text  # eli's invalid one counted there
    if find_dot() is not None:
        svg = (out / "heatmap-1.svg").read_text(encoding="utf-8")
        assert "✗ 1 of 5" in svg and (out / "heatmap-1.png").read_bytes()[:4] == b"\x89PNG"


def test_an_unwritable_report_folder_is_refused_before_grading(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(cli, ["check", "--answers", str(CLASS), "--report",
                                      str(blocker / "out")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "ana" not in result.output  # nothing graded
    alone = CliRunner().invoke(cli, ["check", "--report", str(tmp_path), "x"])
    assert alone.exit_code == 2 and "--report needs --answers" in alone.output


def test_heatmap_colours_edges_by_id() -> None:
    picture = heatmap(CHAIN, {("a^(L)", "C_0"): 3, ("z^(L)", "a^(L)"): 1}, 4, "title <x>")
    lines = {line.split('id="')[1].split('"')[0]: line for line in picture.source.splitlines()
             if "->" in line}
    ac = f'e_{CHAIN["a^(L)"].id}_{CHAIN["C_0"].id}'
    assert heat_colour(0.75) in lines[ac] and "✗ 3 of 4" in lines[ac]
    untouched = f'e_{CHAIN["y"].id}_{CHAIN["C_0"].id}'
    assert heat_colour(0) in lines[untouched] and "✗" not in lines[untouched]
    assert "title &lt;x&gt;" in picture.source
    assert heat_colour(1 / 3) != heat_colour(5 / 12) != heat_colour(0)


# Two paths from w to C (through p and through q): the checker matches no factor rows on
# a sum of paths, so the slip's edge comes from the buggy answer it equals.
FORK = Graph.from_text("z = w*x; p = sigma(z); q = tanh(z); C = (p + q - y)^2")
UNITS = Graph.from_text((ROOT / "lessons" / "graphs" / "two-units.gg").read_text())


@pytest.mark.parametrize("graph, question, answer, edges", [
    (FORK, "dC/dw", "x*sigma'(z)*2*(p+q-y) + x*tanh'(z)*(p+q-y)", [("q", "C")]),
    (FORK, "dC/dw", "x*sigma(z)*2*(p+q-y) + x*tanh'(z)*2*(p+q-y)", [("z", "p")]),
    (FORK, "dC/dw", "x*sigma'(z)*2*(p+q-y)", [("z", "q"), ("q", "C")]),  # a path left out
    (UNITS, "dC_0/da_0^(L-1)",
     "w_01^(L)*sigma'(z_0^(L))*2*(a_0^(L) - y_0) + w_10^(L)*sigma'(z_1^(L))*2*(a_1^(L) - y_1)",
     [("a_0^(L-1)", "z_0^(L)")]),
    (UNITS, "dC_0/da_0^(L-1)", "w_00^(L)*sigma'(z_0^(L))*2*(a_0^(L) - y_0)",
     [("a_0^(L-1)", "z_1^(L)"), ("z_1^(L)", "a_1^(L)"), ("a_1^(L)", "C_0")]),
])
def test_a_slip_on_one_of_several_paths_blames_its_edges(graph, question, answer, edges):
    result = gg.check(graph, question, answer)
    assert result.correct is False and not result.factors
    assert blamed_edges(graph, result) == edges


def test_a_multi_path_answer_nothing_explains_blames_no_edge() -> None:
    result = gg.check(FORK, "dC/dw", "x*(p+q-y)")
    assert result.codes == ("WRONG-VALUE",) and blamed_edges(FORK, result) == []
    assert blamed_edges(FORK, gg.check(FORK, "dC/dw",
                                       "x*(sigma'(z)+tanh'(z))*2*(p+q-y)")) == []


def test_factor_rows_blame_their_edges_as_before() -> None:
    result = gg.check(CHAIN, "dC_0/dw^(L)", "a^(L-1)*sigma'(z^(L))*(a^(L) - y)")
    assert blamed_edges(CHAIN, result) == [("a^(L)", "C_0")]


def test_the_class_report_colours_a_multi_path_question() -> None:
    from gradgraph.check.report import tally
    answer = "x*sigma'(z)*2*(p+q-y) + x*tanh'(z)*(p+q-y)"
    rows = [({"question": "∂C/∂w", "verdict": "not equal"}, gg.check(FORK, "dC/dw", answer))]
    assert tally(rows, FORK)["∂C/∂w"].edges == {("q", "C"): 1}


@pytest.mark.parametrize("name", ["=HYPERLINK(1)", "+1", "-x", "@a"])
def test_csv_cells_never_run_as_formulas(name: str) -> None:
    assert _cell(name).startswith("'")
