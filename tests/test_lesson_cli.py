"""``gradgraph lesson``: list, show, run (interactive and scripted), export."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gradgraph.cli import cli
from gradgraph.render import find_dot

FIXTURES = Path(__file__).resolve().parent / "lessons"


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    state = tmp_path / "state"
    monkeypatch.setenv("GRADGRAPH_STATE_DIR", str(state))
    return state


@pytest.fixture
def tiny_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "01-tiny.toml").write_text((FIXTURES / "tiny.toml").read_text(encoding="utf-8"),
                                         encoding="utf-8")
    return folder


def test_lesson_help(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["lesson", "--help"])
    assert result.exit_code == 0
    for command in ("list", "show", "run", "export"):
        assert command in result.output


def test_list_shows_every_lesson_in_order(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["lesson", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 15
    assert lines[0].split()[:2] == ["1", "chain-rule"]
    assert lines[-1].split()[:2] == ["15", "adam-bias-correction"]


def test_show_by_name_and_by_number(runner: CliRunner) -> None:
    by_name = runner.invoke(cli, ["lesson", "show", "chain-rule"])
    by_number = runner.invoke(cli, ["lesson", "show", "1"])
    assert by_name.exit_code == 0, by_name.output
    assert by_name.output == by_number.output
    assert "The chain rule on one neuron" in by_name.output
    assert "0.48" in by_name.output and "answer:" not in by_name.output
    solutions = runner.invoke(cli, ["lesson", "show", "chain-rule", "--solutions"])
    assert "answer: −0.07324" in solutions.output


def test_an_unknown_lesson_is_one_line_with_a_suggestion(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["lesson", "show", "chain-rul"])
    assert result.exit_code == 2
    assert "no lesson called 'chain-rul'; did you mean 'chain-rule'?" in result.output
    assert "Traceback" not in result.output


def test_scripted_run_all_correct(runner: CliRunner, tiny_dir: Path, tmp_path: Path,
                                  state_dir: Path) -> None:
    answers = tmp_path / "answers.toml"
    answers.write_text('dcdw = "2*x*(z - y)"\ncost = 1\npick = "b"\n', encoding="utf-8")
    result = runner.invoke(cli, ["lesson", "run", "tiny", "--dir", str(tiny_dir),
                                 "--answers", str(answers)])
    assert result.exit_code == 0, result.output
    assert "3 of 3 exercises correct" in result.output
    saved = json.loads((state_dir / "progress.json").read_text(encoding="utf-8"))
    assert saved["lessons"]["tiny"]["exercises"] == {"dcdw": "correct", "cost": "correct",
                                                    "pick": "correct"}


def test_scripted_run_with_a_wrong_answer_exits_1_with_feedback(runner: CliRunner,
                                                                tmp_path: Path) -> None:
    answers = tmp_path / "answers.toml"
    answers.write_text('[chain-rule]\ndc-dw = "a^(L-1)*sigma\'(z^(L))*(a^(L) - y)"\n',
                       encoding="utf-8")
    result = runner.invoke(cli, ["lesson", "run", "chain-rule", "--answers", str(answers),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "✗ not equal. Your factor ∂C₀/∂a⁽ᴸ⁾ = (a⁽ᴸ⁾ − y); it is 2(a⁽ᴸ⁾ − y)" in result.output
    assert "0 of 7 exercises correct" in result.output


def test_interactive_run(runner: CliRunner, tiny_dir: Path) -> None:
    # Enter past the text, a wrong answer, a hint, the right answer, then the rest.
    keys = "\n".join(["", "x*(z-y)", "?", "2*x*(z-y)", "1", "b"]) + "\n"
    result = runner.invoke(cli, ["lesson", "run", "tiny", "--dir", str(tiny_dir)], input=keys)
    assert result.exit_code == 0, result.output
    assert "✗" in result.output and "hint 1: First hint." in result.output
    assert "3 of 3 exercises correct" in result.output and "after 2 tries" in result.output


def test_interactive_quit_then_resume(runner: CliRunner, tiny_dir: Path) -> None:
    first = runner.invoke(cli, ["lesson", "run", "tiny", "--dir", str(tiny_dir)], input="\nq\n")
    assert first.exit_code == 0 and "lesson not finished" in first.output
    listing = runner.invoke(cli, ["lesson", "list", "--dir", str(tiny_dir)])
    assert listing.output.split()[-1] == "1/5"
    second = runner.invoke(cli, ["lesson", "run", "tiny", "--dir", str(tiny_dir)],
                           input="\nskip\n1\nb\n")
    assert "Resume at step 2 of 5" in second.output and "Hello." not in second.output
    restart = runner.invoke(cli, ["lesson", "run", "tiny", "--dir", str(tiny_dir), "--restart"],
                            input="")
    assert "Hello." in restart.output


def test_export_one_and_all(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "site"
    one = runner.invoke(cli, ["lesson", "export", "adam", "--html", str(out)])
    assert one.exit_code == 0, one.output
    page = (out / "adam.html").read_text(encoding="utf-8")
    assert "Kingma &amp; Ba" in page and "<script" not in page.lower()
    if find_dot() is None:
        return
    everything = runner.invoke(cli, ["lesson", "export", "--all", "--html", str(out)])
    assert everything.exit_code == 0, everything.output
    assert len(list(out.glob("*.html"))) == 16  # 15 lessons and the index
    assert 'href="chain-rule.html"' in (out / "index.html").read_text(encoding="utf-8")


def test_export_needs_names_or_all(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["lesson", "export", "--html", str(tmp_path)])
    assert result.exit_code == 2 and "give lesson NAMEs, or --all" in result.output


@pytest.mark.parametrize(("name", "line"), [("bad-syntax", 6), ("unknown-key", 11),
                                            ("bad-graph", 5), ("duplicate-key", 4)])
def test_a_malformed_lesson_is_one_line_with_file_and_line(runner: CliRunner, name: str,
                                                           line: int) -> None:
    result = runner.invoke(cli, ["lesson", "show", name, "--dir", str(FIXTURES)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    message = result.output.strip()
    assert message.startswith("Error: ") and len(message.splitlines()) == 1
    assert f"{name}.toml, line {line}:" in message


def test_a_malformed_answers_file(runner: CliRunner, tiny_dir: Path, tmp_path: Path) -> None:
    answers = tmp_path / "answers.toml"
    answers.write_text('dcdw = "2*x*(z - y)"\ndcdw = "again"\n', encoding="utf-8")
    result = runner.invoke(cli, ["lesson", "run", "tiny", "--dir", str(tiny_dir),
                                 "--answers", str(answers)])
    assert result.exit_code == 2 and "answers.toml, line 2" in result.output
