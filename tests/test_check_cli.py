"""``gradgraph check`` as a user meets it: one answer, or a class's answers from TOML."""

from __future__ import annotations

import json

import pytest

from gradgraph.cli import cli

SLIDE = "z = w*x + b; a = sigma(z); C = (a - y)^2"


@pytest.fixture
def chain_file(tmp_path):  # noqa: ANN201 - a path
    f = tmp_path / "chain.gg"
    f.write_text("z = w*x + b\na = sigma(z)\nC = (a - y)^2\n")
    return f


def test_correct(runner) -> None:
    result = runner.invoke(cli, ["check", "--graph", SLIDE, "dC/dw = x*sigma'(z)*2*(a-y)"])
    assert result.exit_code == 0
    assert result.output == "✓ correct: ∂C/∂w = x · σ′(z) · 2(a − y)\n"


def test_wrong_from_a_graph_file(runner, chain_file) -> None:
    result = runner.invoke(cli, ["check", "--graph", str(chain_file),
                                 "dC/dw = x*sigma'(z)*(a-y)"])
    assert result.exit_code == 1
    assert result.output.startswith(
        "✗ not equal. Your factor ∂C/∂a = (a − y); it is 2(a − y). At w=")
    assert " yours is −" in result.output and ", the true value −" in result.output
    assert "expected:" not in result.output


def test_reveal_shows_the_derivation(runner) -> None:
    result = runner.invoke(cli, ["check", "-g", SLIDE, "-q", "dC/dw", "x*2*(a-y)", "--reveal"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith("✗ not equal. Missing factor ∂a/∂z = σ′(z).")
    assert lines[1] == "expected: ∂C/∂w = ∂z/∂w · ∂a/∂z · ∂C/∂a"
    assert lines[2].endswith("= x · σ′(z) · 2(a − y)")


def test_json(runner) -> None:
    result = runner.invoke(cli, ["check", "-g", SLIDE, "-q", "w", "x*sigma'(z)*(a-y)", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["verdict"] == "not equal" and data["correct"] is False
    assert set(data["counterexample"]["at"]) == {"w", "x", "b", "y"}
    assert "expected" not in data


def test_undecided_exits_1(runner) -> None:
    result = runner.invoke(cli, ["check", "-g", "C = t*log(-x^2 - 1)", "dC/dt = log(-x^2-1)"])
    assert result.exit_code == 1
    assert result.output.startswith("? undecided:")


def test_limit_option(runner) -> None:
    args = ["check", "-g", "C = t*log(p*q)", "dC/dt = log(p) + log(q)"]
    assert runner.invoke(cli, args).exit_code == 1
    limited = runner.invoke(cli, [*args, "--limit", "p=0.1:5", "--limit", "q=0.1:5"])
    assert limited.exit_code == 0, limited.output
    bad = runner.invoke(cli, [*args, "--limit", "p=5"])
    assert bad.exit_code == 2 and "NAME=LOW:HIGH" in bad.output


@pytest.mark.parametrize("args", [
    ["--graph", SLIDE, "dC/dw = __import__('os').system('touch x')"],
    ["--graph", SLIDE, "x*sigma'(z)*2*(a-y)"],  # no question
    ["--graph", SLIDE, "-q", "dC/dq", "1"],
    ["--graph", "z = = 1", "dC/dw = 1"],
    ["dC/dw = 1"],  # no graph
    [],
])
def test_bad_input_exits_2_in_one_line(runner, args) -> None:
    result = runner.invoke(cli, ["check", *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_canary_through_the_cli(runner, tmp_path) -> None:
    canary = tmp_path / "canary"
    for payload in [f"__import__('os').system('touch {canary}')",
                    f"sin(\"__import__('os').system('touch {canary}')\")"]:
        result = runner.invoke(cli, ["check", "-g", SLIDE, "-q", "dC/dw", payload])
        assert result.exit_code == 2
    assert not canary.exists()


def test_help_documents_the_answers_file_and_exit_codes(runner) -> None:
    result = runner.invoke(cli, ["check", "--help"])
    assert result.exit_code == 0
    assert "[[answer]]" in result.output and "0 correct, 1 not equal or undecided" in result.output


# --- batch grading ---------------------------------------------------------------------

ANSWERS = """
question = "dC/dw"
[[answer]]
student = "ana"
answer = "x*sigma'(z)*2*(a-y)"
[[answer]]
student = "ben"
answer = "x*sigma'(z)*(a-y)"
[[answer]]
student = "cy"
answer = "x*sigma'(z)*2*(a-y"
[[answer]]
student = "dee"
question = "dC/db"
answer = "sigma'(z)*2*(a-y)"
[[answer]]
student = "eve"
answer = 3
[[answer]]
student = "fay"
answer = "dC/db = sigma'(z)*2*(a-y)"
[[answer]]
answer = "dC/dw = __import__('os').system('touch CANARY')"
[[answer]]
student = "hal"
answer = "x"
colour = "red"
"""


def _answers(tmp_path, text: str = ANSWERS):  # noqa: ANN202 - a path
    f = tmp_path / "answers.toml"
    f.write_text(text.replace("CANARY", str(tmp_path / "canary")))
    return f


def test_batch_table(runner, tmp_path, chain_file) -> None:
    result = runner.invoke(cli, ["check", "--graph", str(chain_file),
                                 "--answers", str(_answers(tmp_path))])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["student", "question", "verdict", "message"]
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert "correct" in rows["ana"] and "✓ correct" in rows["ana"]
    assert "not equal" in rows["ben"] and "Your factor ∂C/∂a = (a − y)" in rows["ben"]
    assert "invalid" in rows["cy"] and "cannot read the answer" in rows["cy"]
    assert "∂C/∂b" in rows["dee"] and "✓ correct" in rows["dee"]
    assert "invalid" in rows["eve"] and "no 'answer' string" in rows["eve"]
    assert "invalid" in rows["fay"] and "left side is ∂C/∂b" in rows["fay"]
    assert "invalid" in rows["#7"]
    assert "invalid" in rows["hal"] and "unknown key 'colour'" in rows["hal"]
    assert lines[-1] == "8 answers: 2 correct, 1 not equal, 0 undecided, 5 invalid"
    assert not (tmp_path / "canary").exists()


def test_batch_json_with_graph_in_the_file(runner, tmp_path) -> None:
    text = f'graph = "{SLIDE}"\n' + ANSWERS + "\n[limits]\nx = [0.5, 2.0]\n"
    result = runner.invoke(cli, ["check", "--answers", str(_answers(tmp_path, text)), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["summary"] == {"total": 8, "correct": 2, "not equal": 1, "undecided": 0,
                               "invalid": 5}
    ben = data["results"][1]
    assert ben["student"] == "ben" and ben["verdict"] == "not equal"
    assert 0.5 <= ben["counterexample"]["at"]["x"] <= 2.0
    assert "expected" not in ben


@pytest.mark.parametrize(("text", "match"), [
    ("[[answer]\nanswer = 1", "not valid TOML"),
    ("x = " + "[" * 10_000 + "]" * 10_000, "nested too deeply|not valid TOML"),
    ('a = 1\na = 2', "not valid TOML"),
    ('[[answers]]\nanswer = "x"', "unknown key 'answers'"),
    ('answer = "x"', "each answer as an \\[\\[answer\\]\\] table"),
    ('[limits]\nx = "wide"\n[[answer]]\nanswer = "x"', "not two numbers"),
])
def test_batch_file_that_cannot_be_used(runner, tmp_path, chain_file, text, match) -> None:
    result = runner.invoke(cli, ["check", "-g", str(chain_file), "-q", "dC/dw",
                                 "--answers", str(_answers(tmp_path, text))])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert __import__("re").search(match, result.output), result.output


def test_batch_needs_a_graph_and_no_answer_argument(runner, tmp_path) -> None:
    f = _answers(tmp_path)
    assert runner.invoke(cli, ["check", "--answers", str(f)]).exit_code == 2
    both = runner.invoke(cli, ["check", "-g", SLIDE, "--answers", str(f), "x"])
    assert both.exit_code == 2
    missing = runner.invoke(cli, ["check", "-g", SLIDE, "--answers", str(tmp_path / "no.toml")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_invalid_answer_is_an_error_on_stderr(runner) -> None:
    result = runner.invoke(cli, ["check", "-g", SLIDE, "dC/dw = x*(a-"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("! invalid: cannot read the answer")
    assert result.stderr.count("\n") == 1


def test_invalid_answer_with_json_is_a_verdict_on_stdout(runner) -> None:
    result = runner.invoke(cli, ["check", "-g", SLIDE, "dC/dw = x*(a-", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["verdict"] == "invalid"


@pytest.mark.parametrize("spec", ["x=1e308:1.7e308", "x=-1e20:1", "x=0:inf", "x=nan:1"])
def test_absurd_limits_are_refused_in_one_line(runner, spec: str) -> None:
    result = runner.invoke(cli, ["check", "-g", "C = w*x", "dC/dw = x", "--limit", spec])
    assert result.exit_code == 2
    assert result.stdout == "" and result.stderr.count("\n") == 1
    assert "limits for 'x'" in result.stderr and "Warning" not in result.output


def test_a_wrong_answer_beyond_a_kink_is_not_equal(runner) -> None:
    result = runner.invoke(cli, ["check", "--graph", "C = w*x", "dC/dw = x + relu(x-50)"])
    assert result.exit_code == 1
    assert result.output.startswith("✗ not equal.")
