"""The reveal policy: lessons and --no-reveal name the wrong factor and the kind of slip,
show the learner's own value only, and the right form waits for a reveal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradgraph import Graph
from gradgraph.check import Checker, guided
from gradgraph.check.codes import why
from gradgraph.check.mutations import buggy_answers
from gradgraph.cli import cli
from gradgraph.lesson import RunOptions, grade, load_lesson, run_lesson
from gradgraph.lesson.model import Lesson

ROOT = Path(__file__).resolve().parents[1]
CHAIN = (ROOT / "lessons" / "graphs" / "chain.gg").read_text()
TINY = ROOT / "tests" / "lessons" / "tiny.toml"
QUESTION = "dC_0/dw^(L)"


class ListConsole:
    def __init__(self, replies: list[str]):
        self.replies, self.lines = list(replies), []

    def write(self, text: str = "") -> None:
        self.lines.append(text)

    def ask(self, prompt: str) -> str | None:  # noqa: ARG002 - same for every prompt
        return self.replies.pop(0) if self.replies else None


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADGRAPH_STATE_DIR", str(tmp_path / "state"))


def leaks(result_dict: dict, text: str) -> list[str]:
    """The right forms and true value the full message has that ``text`` shows."""
    shown = [f["expected"] for f in result_dict["factors"]
             if not f["ok"] and f["expected"] and f["expected"] != f["yours"]]
    return [s for s in shown if f"it is {s}" in text or f"= {s}" in text] + (
        ["true value"] if "true value" in text else [])


def test_every_buggy_answer_is_guided_without_the_right_form() -> None:
    checker = Checker(Graph.from_text(CHAIN))
    for code, answer in buggy_answers(checker.graph, QUESTION):
        r = checker.check(QUESTION, answer)
        full = r.to_dict()
        text = r.guidance()
        assert leaks(full, r.message), "the full message discloses (the library's default)"
        assert leaks(full, text) == [], text
        said = "not a factor of this chain" if code == "EXTRA-FACTOR" else why(code)
        assert said in text.lower(), (code, text)
        assert text.startswith("✗ not equal.") and "yours is" in text


def test_guided_dict_hides_expected_forms_and_the_true_value() -> None:
    r = Checker(Graph.from_text(CHAIN)).check(QUESTION, "a^(L-1)*sigma(z^(L))*2*(a^(L) - y)")
    data = guided(r.to_dict(reveal=True))
    assert "expected" not in data and data["codes"] == ["OP-NOT-DERIVATIVE"]
    assert all(f["expected"] is None for f in data["factors"])
    assert data["counterexample"]["expected"] is None
    assert "not its derivative" in data["message"]


def test_cli_no_reveal(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["check", "--graph", CHAIN, "-q", QUESTION, "a^(L-1)*sigma'(z^(L))*(a^(L)-y)"]
    full = runner.invoke(cli, args)
    assert "it is 2(a⁽ᴸ⁾ − y)" in full.output  # full disclosure by default
    quiet = runner.invoke(cli, [*args, "--no-reveal", "--json"])
    assert quiet.exit_code == 1
    data = json.loads(quiet.output)
    assert data["codes"] == ["DROPPED-CONSTANT"] and "2(a" not in data["message"]
    both = runner.invoke(cli, [*args, "--no-reveal", "--reveal"])
    assert both.exit_code == 2


def test_numbers_say_which_way_never_the_tolerance() -> None:
    lesson = load_lesson(TINY)
    ex = next(e for e in lesson.exercises if e.id == "cost")  # C = (1 − 2)² = 1
    assert grade(lesson, ex, "3").message == "not quite: 3 is too large"
    assert grade(lesson, ex, "0.5").message == "not quite: 0.5 is too small"
    assert grade(lesson, ex, "-1").message == "not quite: −1 has the wrong sign"


def run_tiny(replies: list[str], reveal_after: int | None = None) -> str:
    lesson: Lesson = load_lesson(TINY)
    if reveal_after is not None:
        lesson = Lesson(**{**lesson.__dict__, "reveal_after": reveal_after})
    console = ListConsole(replies)
    run_lesson(lesson, console, RunOptions())
    return "\n".join(console.lines)


def test_the_right_form_comes_after_reveal_after_tries() -> None:
    wrong = "x*(z - y)"  # the 2 dropped
    text = run_tiny(["", wrong, wrong, "skip", "skip", "skip", ""])
    assert "a constant factor was dropped" in text
    assert "it is 2(z − y)" not in text  # two tries: still guiding (default 3)
    text = run_tiny(["", wrong, wrong, wrong, "skip", "skip", "skip", ""])
    assert "after 3 tries:" in text and "it is 2(z − y)" in text
    text = run_tiny(["", wrong, "skip", "skip", "skip", ""], reveal_after=1)
    assert "after 1 tries:" in text or "after 1 try:" in text


def test_reveal_after_is_read_and_checked(tmp_path: Path) -> None:
    text = TINY.read_text().replace('summary = "One', 'reveal_after = 2\nsummary = "One')
    path = tmp_path / "tiny.toml"
    path.write_text(text)
    assert load_lesson(path).reveal_after == 2
    assert load_lesson(TINY).reveal_after == 3
    path.write_text(text.replace("reveal_after = 2", "reveal_after = 0"))
    with pytest.raises(Exception, match="reveal_after"):
        load_lesson(path)


def test_the_html_page_lists_slips_without_forms() -> None:
    import re

    from gradgraph.lesson import lesson_html

    page = lesson_html(load_lesson(ROOT / "lessons" / "01-chain-rule.toml"))
    slips = re.findall(r'<details class="slips">(.*?)</details>', page, re.S)
    assert slips and any("not its derivative" in s for s in slips)
    assert not any("σ′(z⁽ᴸ⁾)" in s or "2(a⁽ᴸ⁾ − y)" in s for s in slips)


def test_the_browser_tutor_uses_the_same_policy() -> None:
    from gradgraph.serve.checking import verdict, without_answer

    graph = Graph.from_text(CHAIN)
    out = without_answer(verdict(graph, QUESTION, "a^(L-1)*sigma(z^(L))*2*(a^(L) - y)", {}, 3.0))
    assert out["codes"] == ["OP-NOT-DERIVATIVE"] and out["wrong_edges"]
    assert "not its derivative" in out["message"] and "true value" not in out["message"]
    assert all(f["expected"] is None for f in out["factors"])
