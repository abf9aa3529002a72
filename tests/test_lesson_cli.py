"""``gradgraph lesson``: list, show, run (interactive and scripted), export."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gradgraph.cli import cli
from gradgraph.lesson.catalog import lesson_files
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
    assert len(lines) == len(lesson_files()) >= 15  # the course may grow
    assert lines[0].split()[:2] == ["1", "chain-rule"]
    assert lines[14].split()[:2] == ["15", "adam-bias-correction"]


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
    # Which factor and why, never its right form (that waits for the reveal).
    assert ("✗ not equal. Your factor ∂C₀/∂a⁽ᴸ⁾ = (a⁽ᴸ⁾ − y): a constant factor was "
            "dropped." in result.output)
    assert "it is 2(a⁽ᴸ⁾ − y)" not in result.output and "true value" not in result.output
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
    assert len(list(out.glob("*.html"))) == len(lesson_files()) + 1  # and the index
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
    assert result.output.count("✓ ") == len(lesson_files()) and "✗" not in result.output


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


# --- hardening (issue #11): output folders, files that are not lessons, Ctrl-C -----------


def test_output_folders_are_refused_before_the_lesson_runs(runner: CliRunner,
                                                           tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    cases = [
        (["show", "chain-rule", "--out", "/proc/diagrams"], "--out: cannot write into "
         "'/proc/diagrams': folder '/proc' does not accept new files"),
        (["run", "chain-rule", "--out", f"{tmp_path}/plain/d"], "plain' is not a folder"),
        (["export", "chain-rule", "--html", "/proc/site"], "--html: cannot write into"),
    ]
    for args, message in cases:
        result = runner.invoke(cli, ["lesson", *args], input="")
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("Error: ") and message in result.stderr
        assert result.stdout == ""  # refused before the lesson's first line
    assert [p.name for p in tmp_path.iterdir() if p.name != "state"] == ["plain"]


def test_an_unwritable_default_diagram_folder_names_the_way_out(runner: CliRunner,
                                                                monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("GRADGRAPH_STATE_DIR", "/proc/gradgraph-state")
    result = runner.invoke(cli, ["lesson", "run", "chain-rule"], input="")
    assert result.exit_code == 2 and "(choose another with --out)" in result.stderr


@pytest.mark.parametrize(("content", "message"), [
    (b"\x89PNG\r\n\x1a\n\x00\xff\xfe garbage", "not a lesson file: it is not UTF-8 text "
                                               "(line 1), so it cannot be read as TOML"),
    (b"hello there\n", "invalid TOML"),
])
def test_an_existing_file_that_is_not_a_lesson_is_named_as_such(
        runner: CliRunner, tmp_path: Path, monkeypatch, content: bytes,  # noqa: ANN001
        message: str) -> None:
    monkeypatch.chdir(tmp_path)
    Path("garbage.bin").write_bytes(content)
    for command in ("check", "show"):
        result = runner.invoke(cli, ["lesson", command, "garbage.bin"])
        assert message in result.output and "no lesson called" not in result.output
        assert result.exit_code == (1 if command == "check" else 2)


@pytest.mark.parametrize("name", ["₀", "²", "9" * 5000, "01", "1.0"])
def test_names_that_look_like_numbers(runner: CliRunner, name: str) -> None:
    result = runner.invoke(cli, ["lesson", "show", name])
    if name == "01":  # a number with a leading zero is still lesson 1
        assert result.exit_code == 0 and "1. " in result.output.splitlines()[0]
    else:
        assert result.exit_code == 2 and "no lesson called" in result.stderr


def test_devices_pipes_and_folders_are_not_lessons(runner: CliRunner, tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)  # reading it would wait for a writer for ever
    for path, message in [("/dev/zero", "is not a regular file"), (str(fifo), "is not a "
                          "regular file"), (str(tmp_path), "is a folder, not a lesson file")]:
        result = runner.invoke(cli, ["lesson", "show", path])
        assert result.exit_code == 2 and message in result.stderr, result.output


def test_ctrl_c_at_a_prompt_exits_130_and_q_exits_0(runner: CliRunner, tiny_dir: Path,
                                                    monkeypatch) -> None:  # noqa: ANN001
    import click

    def ctrl_c(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise click.Abort() from None  # exactly what click.prompt does

    monkeypatch.setattr(click, "prompt", ctrl_c)
    result = runner.invoke(cli, ["lesson", "run", "tiny", "--dir", str(tiny_dir)])
    assert result.exit_code == 130 and "interrupted" in result.stderr
    monkeypatch.undo()
    quit_ = runner.invoke(cli, ["lesson", "run", "tiny", "--dir", str(tiny_dir)], input="\nq\n")
    end_of_input = runner.invoke(cli, ["lesson", "run", "tiny", "--dir", str(tiny_dir),
                                       "--restart"], input="")
    assert quit_.exit_code == 0 and end_of_input.exit_code == 0


def test_a_real_sigint_in_lesson_run_exits_130(tiny_dir: Path, state_dir: Path) -> None:
    import os
    import select
    import signal
    import subprocess
    import sys
    import time

    # Started as an interactive shell starts a command, with SIGINT at its default: a test
    # run started in the background by a non-interactive shell ignores SIGINT and SIGQUIT
    # (POSIX; seen as SigIgn 0x1001006), a child inherits that across exec, and the lesson
    # then rightly never sees Ctrl-C.
    shell_like = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                  "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])")
    child = subprocess.Popen([sys.executable, "-c", shell_like, "-m", "gradgraph", "lesson",
                              "run", "tiny", "--dir", str(tiny_dir)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**os.environ, "GRADGRAPH_STATE_DIR": str(state_dir)})
    # Wait for the prompt, generously: on a loaded machine start-up can take many seconds,
    # and a signal sent before the prompt would test something else.
    seen, deadline = b"", time.monotonic() + 120
    while "›".encode() not in seen and time.monotonic() < deadline:
        if select.select([child.stdout], [], [], 0.1)[0]:
            seen += os.read(child.stdout.fileno(), 4096)
    assert "›".encode() in seen, seen.decode(errors="replace")[-500:]
    status = Path(f"/proc/{child.pid}/status")  # Linux: for the message, if it fails
    masks = [line for line in status.read_text().splitlines()
             if line.startswith(("SigBlk", "SigIgn"))] if status.exists() else []
    child.send_signal(signal.SIGINT)
    # Its stdin stays open until it has exited: closing it at once raced the signal on a
    # loaded machine (end of input seen first is a quiet exit 0, as it should be).
    try:
        child.wait(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130, (err.decode(), masks)
    assert err.decode().strip() == "interrupted"
