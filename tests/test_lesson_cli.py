"""``gradgraph lesson``: list, show, run (interactive and scripted), export."""

from __future__ import annotations

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
    for command in ("list", "show", "run", "export", "check"):
        assert command in result.output


def test_list_shows_every_lesson_in_order(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["lesson", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 15
    assert lines[0].split()[:2] == ["1", "chain-rule"]
    assert lines[-1].split()[:2] == ["15", "adam-bias-correction"]


def test_list_counts_exercises_in_good_english(runner: CliRunner, tmp_path: Path) -> None:
    body = (FIXTURES / "tiny.toml").read_text(encoding="utf-8")
    one = body[: body.index('[[steps]]\nkind = "exercise"\nid = "cost"')]
    (tmp_path / "01-one.toml").write_text(one, encoding="utf-8")
    result = runner.invoke(cli, ["lesson", "list", "--dir", str(tmp_path)])
    assert "(1 exercise)" in result.output, result.output
    keys = "\n".join(["", "2*x*(z-y)"]) + "\n"
    run = runner.invoke(cli, ["lesson", "run", "one", "--dir", str(tmp_path)], input=keys)
    assert "1 of 1 exercise correct" in run.output, run.output


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
    assert "warning" not in result.output
    assert not (state_dir / "progress.json").exists()  # grading a file is not a learner's run


def test_a_scripted_run_leaves_the_learners_progress_alone(runner: CliRunner, tiny_dir: Path,
                                                           tmp_path: Path,
                                                           state_dir: Path) -> None:
    mine = runner.invoke(cli, ["lesson", "run", "tiny", "--dir", str(tiny_dir)], input="\nq\n")
    assert mine.exit_code == 0
    before = (state_dir / "progress.json").read_text(encoding="utf-8")
    answers = tmp_path / "answers.toml"
    answers.write_text('pick = "a"\n', encoding="utf-8")  # 0 of 3 correct
    result = runner.invoke(cli, ["lesson", "run", "tiny", "--dir", str(tiny_dir),
                                 "--answers", str(answers)])
    assert result.exit_code == 1 and "Resume" not in result.output
    assert (state_dir / "progress.json").read_text(encoding="utf-8") == before
    listing = runner.invoke(cli, ["lesson", "list", "--dir", str(tiny_dir)])
    assert listing.output.split()[-1] == "1/5" and "✓" not in listing.output


def test_unknown_ids_in_an_answers_file_are_warned_about(runner: CliRunner,
                                                         tmp_path: Path) -> None:
    answers = tmp_path / "answers.toml"
    answers.write_text('dc-dw-vlue = -0.0732\n[bias-and-caching]\nfoo = 1\n'
                       '[chain-rul]\nwhich-way = "a"\n', encoding="utf-8")
    result = runner.invoke(cli, ["lesson", "run", "chain-rule", "--answers", str(answers),
                                 "--no-train", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: {answers}, line 1: 'dc-dw-vlue' is not an exercise of chain-rule "
        "(ignored); did you mean 'dc-dw-value'?",
        f"warning: {answers}, line 3: 'foo' is not an exercise of bias-and-caching (ignored)",
        f"warning: {answers}, line 4: [chain-rul] is not a lesson (ignored); "
        "did you mean 'chain-rule'?",
    ]


def test_a_numeric_answer_that_is_not_a_real_number(runner: CliRunner, tmp_path: Path) -> None:
    answers = tmp_path / "answers.toml"
    for text, verdict in [("(sigma(0.6633)-1)^2", "✓ correct (0.1156)"),
                          ("1/0", "! invalid: that is not a real number"),
                          ("log(-1)", "! invalid: that is not a real number"),
                          ("0^-1", "! invalid: that is not a real number")]:
        answers.write_text(f'cost-value = "{text}"\n', encoding="utf-8")
        result = runner.invoke(cli, ["lesson", "run", "chain-rule", "--answers", str(answers),
                                     "--no-train", "--out", str(tmp_path / "out")])
        assert result.exception is None or isinstance(result.exception, SystemExit), text
        assert "Traceback" not in result.output and verdict in result.output, result.output


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


def test_lesson_check_grades_every_model_answer(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["lesson", "check"])
    assert result.exit_code == 0, result.output
    assert result.output.count("✓ ") == 15 and "✗" not in result.output


def test_lesson_check_finds_a_wrong_model_answer(runner: CliRunner, tiny_dir: Path) -> None:
    path = tiny_dir / "01-tiny.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'answer = "2*(z - y)*x"', 'answer = "(z - y)*x"'), encoding="utf-8")
    loads = runner.invoke(cli, ["lesson", "show", "tiny", "--dir", str(tiny_dir)])
    assert loads.exit_code == 0  # it parses and names real nodes: only the checker can tell
    result = runner.invoke(cli, ["lesson", "check", str(path)])
    assert result.exit_code == 1
    assert f"✗ {path}" in result.output
    assert f"{path}, line 26: step 2 (exercise): exercise 'dcdw': the model answer " \
           "'(z - y)*x' is wrong for dC/dw" in result.output, result.output
