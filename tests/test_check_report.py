"""The class report: codes per question, a heatmap of the edges got wrong, grades.csv."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradgraph import Graph
from gradgraph.check.heatmap import heat_colour, heatmap
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


@pytest.mark.parametrize("name", ["=HYPERLINK(1)", "+1", "-x", "@a"])
def test_csv_cells_never_run_as_formulas(name: str) -> None:
    assert _cell(name).startswith("'")
