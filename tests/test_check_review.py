"""``gradgraph check`` as a student, a teacher and a practitioner met it: near misses,
graph paths, undecided hints, counterexamples, the batch table, verdict names, --help."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from gradgraph.check import VERDICTS, Checker, check, echo_unicode, named_sums_note
from gradgraph.check.display import pair
from gradgraph.cli import cli

ROOT = Path(__file__).resolve().parent.parent
SLIDE = "z = w*x + b; a = sigma(z); C = (a - y)^2"
RIGHT = "x*sigma'(z)*2*(a-y)"
LAYER = (ROOT / "lessons/graphs/layer.gg").read_text()
LA = "dC_0/da_k^(L-1)"


@pytest.fixture(scope="module")
def slide() -> Checker:
    return Checker(SLIDE)


# --- 1. near misses: a constant the tolerance hid ---------------------------------------


@pytest.mark.parametrize(("answer", "says"), [
    (RIGHT + " + 1e-12", "differs from the true value by the constant 1e−12"),
    (RIGHT + " - 1e-12", "differs from the true value by the constant −1e−12"),
    (RIGHT + "*(1+1e-12)", "the true value times the constant 1.000000000001"),
    (RIGHT + "*1.0000001", "Your factor ∂C/∂a = 2.0000002(a − y)"),  # the numbers see it
])
def test_a_near_miss_constant_is_not_equal(slide: Checker, answer: str, says: str) -> None:
    r = slide.check("dC/dw", answer)
    assert r.correct is False and says in r.message, r.message
    assert r.counterexample is not None
    mine, truth = re.search(r"yours is (\S+), the true value (\S+)\.$", r.message).groups()
    assert mine != truth


@pytest.mark.parametrize("answer", [
    "x*sigma'(z)*(a-y)/0.5",
    "x*sigma'(z)*(a-y)*0.3/0.1*2/3",  # 0.3/0.1 is 2.9999999999999996 in float64
    RIGHT + " + 0.1 + 0.2 - 0.3",  # 5.6e-17 after the parser folds it
    "0.5*x*sigma'(z)*4*(a-y)",
])
def test_float_noise_in_an_equal_form_is_still_correct(slide: Checker, answer: str) -> None:
    assert slide.check("dC/dw", answer).correct is True


def test_a_near_miss_on_layers_is_not_equal() -> None:
    r = check(LAYER, LA, "sum_j W_jk^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j) + 1e-12")
    assert r.correct is False and "by the constant 1e−12" in r.message


def test_numbers_never_lose_their_digits(slide: Checker) -> None:
    r = slide.check("dC/dw", RIGHT + " + 1e-12*x")
    assert r.correct is False
    assert "−0." not in r.message and "the true value −0" not in r.message
    assert pair(-3.6e-12, -0.0) == ("−3.6e−12", "0")
    a, b = pair(1.0000000000000002, 1.0)
    assert a != b


def test_the_echo_writes_an_exponent_with_a_unicode_minus() -> None:
    assert echo_unicode("x + 1e-12") == "x + 1e−12"


# --- 2. a graph path that does not exist --------------------------------------------------


@pytest.mark.parametrize(("graph", "says"), [
    ("nofile.gg", "graph file 'nofile.gg' does not exist"),
    ("lessons/graphs/", "graph file 'lessons/graphs/' is a directory"),
    ("lessons/graphs", "graph file 'lessons/graphs' is a directory"),
    ("lessons/nothing/here", "graph file 'lessons/nothing/here' does not exist"),
])
def test_a_missing_graph_path_is_said_to_be_missing(runner, monkeypatch, graph: str,
                                                    says: str) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(cli, ["check", "--graph", graph, "dC/dw = 1"])
    assert result.exit_code == 2 and says in result.output, result.output


def test_graph_text_with_a_slash_is_still_graph_text(runner) -> None:
    result = runner.invoke(cli, ["check", "--graph", "C = a/b", "dC/da = 1/b"])
    assert result.exit_code == 0, result.output


# --- 3. undecided says how to fix it ------------------------------------------------------


def test_undecided_names_the_limits_argument_and_the_variable() -> None:
    r = check("C = t*log(-p^2 - 1) + w*x", "dC/dt", "log(-p^2-1)")
    assert r.correct is None
    assert r.message.endswith("give p a range where it is defined with "
                              "limits={'p': (LOW, HIGH)}")
    assert r.to_dict()["needs_limits"] == ["p"]


def test_undecided_on_the_cli_names_the_limit_option(runner) -> None:
    args = ["check", "-g", "C = t*log(-x^2 - 1)", "dC/dt = log(-x^2-1)"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert result.output.rstrip().endswith("give x a range where it is defined with "
                                           "--limit x=LOW:HIGH")
    data = json.loads(runner.invoke(cli, [*args, "--json"]).output)
    assert "--limit x=LOW:HIGH" in data["message"] and data["needs_limits"] == ["x"]


# --- 4. counterexamples: one minus, the factor's leaves first, --reveal on layers ----------


def test_counterexample_uses_the_unicode_minus_only(slide: Checker) -> None:
    r = slide.check("dC/dw", "x*sigma'(z)*(a-y)")
    assert "-" not in r.message and "b=−0.4" in r.message


def test_a_layer_counterexample_shows_the_wrong_factors_leaves_first() -> None:
    r = check(LAYER, LA, "sum_j W_jk^(L)*sigma'(z_j^(L))*(a_j^(L) - y_j)")
    assert r.correct is False
    shown = r.message.split(" at ", 1)[1]
    assert "y₀=" in shown and "y₁=" in shown and "(2 more)" in shown
    assert shown.index("y₁=") < shown.index("…")


def test_reveal_on_layers_says_why_z_stays_named(runner) -> None:
    r = check(LAYER, LA, "sum_j W_jk^(L)")
    assert named_sums_note(r.expected) == "(zⱼ⁽ᴸ⁾ is the layer's sum, left named)"
    assert r.to_dict(reveal=True)["expected"]["note"] == named_sums_note(r.expected)
    assert named_sums_note(check(SLIDE, "dC/dw", RIGHT).expected) == ""
    result = runner.invoke(cli, ["check", "-g", LAYER, "-q", LA, "sum_j W_jk^(L)", "--reveal"])
    assert result.output.splitlines()[-1].endswith("(zⱼ⁽ᴸ⁾ is the layer's sum, left named)")


# --- 5. the batch table fits the terminal ------------------------------------------------

LONG = """
question = "dC_0/da_k^(L-1)"
[[answer]]
student = "ana"
answer = "sum_j W_jk^(L)*sigma'(z_j^(L))*(a_j^(L) - y_j)"
[[answer]]
student = "ben"
answer = "sum_j W_jk^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)"
"""


@pytest.mark.parametrize("columns", [60, 100, 140])
def test_table_lines_fit_the_terminal(runner, tmp_path, columns: int) -> None:
    f = tmp_path / "answers.toml"
    f.write_text(LONG)
    args = ["check", "-g", LAYER, "--answers", str(f)]
    result = runner.invoke(cli, [*args, "--reveal"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines[:-1]) <= columns
    assert lines[1].endswith("…")
    data = json.loads(runner.invoke(cli, [*args, "--json"], env={"COLUMNS": "60"}).output)
    assert data["results"][0]["message"].endswith("yours is 0.23, the true value 0.46.")


# --- 6. verdict names --------------------------------------------------------------------


def test_verdict_names_are_shared() -> None:
    assert VERDICTS == ("correct", "not equal", "undecided", "invalid")
    assert check("C = t*log(-x^2 - 1)", "dC/dt", "log(-x^2-1)").verdict == "undecided"


def test_an_unreadable_answer_is_invalid_in_text_and_json(runner) -> None:
    args = ["check", "-g", SLIDE, "dC/dw = x*(a-y"]
    text = runner.invoke(cli, args)
    assert text.exit_code == 2
    assert text.output.startswith("! invalid: cannot read the answer")
    data = json.loads(runner.invoke(cli, [*args, "--json"]).output)
    assert data["verdict"] == "invalid" and data["correct"] is None
    assert set(data) == set(check(SLIDE, "dC/dw", RIGHT).to_dict())


def test_batch_invalid_rows_read_like_the_others(runner, tmp_path) -> None:
    f = tmp_path / "answers.toml"
    f.write_text('question = "dC/dw"\n[[answer]]\nstudent = "cy"\nanswer = "x*(a-y"\n')
    data = json.loads(runner.invoke(cli, ["check", "-g", SLIDE, "--answers", str(f),
                                          "--json"]).output)
    row = data["results"][0]
    assert row["verdict"] == "invalid" and row["message"].startswith("! invalid: ")
    assert list(row)[0] == "student" and row["answer"] == "x*(a-y"
    assert list(data["summary"]) == ["total", *VERDICTS]


# --- 7. every --help example runs as written ---------------------------------------------


def _help_examples(help_text: str) -> list[list[str]]:
    """The example commands of ``check --help``, continuation lines joined."""
    block = help_text.split("Examples", 1)[1].split("\n\n", 1)[0]
    joined = re.sub(r"\\\n\s*", "", block)
    return [shlex.split(line.strip())[1:] for line in joined.splitlines()
            if line.strip().startswith("gradgraph check")]


def test_every_help_example_runs_from_the_repository_root(runner, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    examples = _help_examples(runner.invoke(cli, ["check", "--help"]).output)
    assert len(examples) >= 4
    assert any("lessons/graphs/chain.gg" in e for e in examples)
    for args in examples:
        result = runner.invoke(cli, args)
        assert result.exit_code in (0, 1), (args, result.output)
        assert not result.output.startswith(("Error", "! invalid")), (args, result.output)
        if "--json" in args:
            json.loads(result.output)
