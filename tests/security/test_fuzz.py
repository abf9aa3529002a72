"""Fuzzing every entry point that reads user text (issue #11, "Beyond the list").

Hypothesis feeds the text parser, the checker's answer reader, lesson TOML and the CLI's
value options with token soups, hostile fragments and mutations of real inputs. Each
example runs under its own deadline (SIGALRM) and with a canary armed: an example may
succeed or raise :class:`gradgraph.GradgraphError` (at the CLI: exit 0, 1 or 2, never a
traceback), and nothing else — no other exception, no hang, no file created by a
payload, no process started by one.

The default run is quick (a handful of examples each); ``pytest -m slow`` runs the long
campaign over the same properties (``GRADGRAPH_FUZZ_EXAMPLES`` sets its length).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradgraph as gg
from gradgraph.check.question import parse_answer
from gradgraph.cli import cli
from gradgraph.errors import GradgraphError
from gradgraph.lesson.loader import load_lesson
from gradgraph.parse import parse_expression

QUICK = settings(max_examples=6, deadline=None, derandomize=True,
                 suppress_health_check=list(HealthCheck))
# A longer campaign: GRADGRAPH_FUZZ_EXAMPLES=5000 python -m pytest -m slow tests/security
LONG = settings(max_examples=int(os.environ.get("GRADGRAPH_FUZZ_EXAMPLES", "400")),
                deadline=None, derandomize=False,
                suppress_health_check=list(HealthCheck))
CASE_SECONDS = 10.0  # per example; generous, so a slow shared machine is not a "hang"

# One folder for the whole module: Hypothesis reuses a test's fixtures across examples.
WORK = Path(tempfile.mkdtemp(prefix="gradgraph-fuzz-"))
CANARY = WORK / "CANARY"
FIXTURE_LESSON = (Path(__file__).resolve().parents[1] / "lessons" / "tiny.toml").read_text(
    encoding="utf-8")


# --- the harness: deadline, canary, audit hook -----------------------------------------


class Hang(BaseException):  # noqa: N818 - not an Exception, so no code under test catches it
    """An example ran past its deadline."""


_WATCH: dict[str, Any] = {"on": False, "events": []}
_SPAWNS = ("os.system", "os.exec", "os.posix_spawn", "os.spawn", "pty.spawn")


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Record process starts and any open of the canary while an example runs."""
    if not _WATCH["on"]:
        return
    if event in _SPAWNS or (event == "open" and args and "CANARY" in str(args[0])):
        _WATCH["events"].append((event, repr(args)[:200]))


sys.addaudithook(_audit)  # hooks cannot be removed; this one is inert outside examples


@contextlib.contextmanager
def guarded(what: object = None, seconds: float = CASE_SECONDS) -> Iterator[None]:
    """Run one example under a deadline with the canary and the audit hook armed.

    A hang raises :class:`Hang` naming ``what``: it is not an Exception, so Hypothesis
    reports it at once instead of shrinking (each try would cost the whole deadline).
    """
    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"ran past {seconds:g} s: {what!r}"[:3000])

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    _WATCH["on"], _WATCH["events"] = True, []
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _WATCH["on"] = False
    assert not CANARY.exists(), "a payload ran: the canary file was created"
    assert not _WATCH["events"], f"a payload started something: {_WATCH['events']}"


def only_gradgraph_errors(fn: Callable[[], Any], what: object) -> None:
    """``fn()`` may return or raise GradgraphError (one line); anything else fails."""
    with guarded(what):
        try:
            fn()
        except GradgraphError as e:
            assert str(e).strip() and "\n" not in str(e).strip(), repr(str(e))


def cli_run(args: list[str]) -> None:
    """The CLI exits 0, 1 or 2 with at most one error line, never with a traceback."""
    with guarded(args):
        result = CliRunner().invoke(cli, args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        tb = "".join(traceback.format_exception(*result.exc_info))
        raise AssertionError(f"gradgraph {args!r} raised:\n{tb}")
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
    if result.exit_code == 2:
        errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error")]
        assert len(errors) == 1, (args, result.stderr)
    assert "Traceback" not in result.output


# --- strategies -------------------------------------------------------------------------

PAYLOADS = (
    f"__import__('os').system('touch {CANARY}')",
    f"__import__('pathlib').Path('{CANARY}').write_text('x')",
    f"open('{CANARY}', 'w')",
    f"sin(\"__import__('os').system('touch {CANARY}')\")",
    f"exec(\"open('{CANARY}','w')\")",
    f"eval(\"open('{CANARY}','w')\")",
    "().__class__.__base__.__subclasses__()",
    "x.__class__.__init__.__globals__",
    "lambda: 1", "[x for x in y]", "f'{x}'", "x if y else z", "x; y", "x := 1",
    "Symbol('x')", "S('x')", "N(1)", "E", "I", "oo", "zoo", "nan", "Float('1e100000000')",
    "factorial(10**10)", "gamma(10**20)", "9**9**9**9", "((9^9)^999)^999", "2^10^8",
    "1e999999999", "1e309", "9" * 60, "x" * 40, "\x00", "\\", '"', "х",  # Cyrillic х
    "<<TABLE><TR><TD HREF=\"javascript:alert(1)\">x</TD></TR></TABLE>>",
)
NAMES = ("w", "x", "b", "y", "z", "a", "C", "C_0", "w^(L)", "a^(L-1)", "W_jk", "sigma",
         "θ", "β", "λ", "lambda", "gamma", "E", "I", "N", "S", "Q", "O", "u1", "f")
FUNCS = ("sigma", "tanh", "relu", "softplus", "exp", "log", "sqrt", "abs", "max", "sum",
         "softmax", "cross_entropy", "step", "sign", "f", "sigmod")
SYMBOLS = ("+", "-", "*", "/", "^", "**", "(", ")", ",", "=", ";", "\n", " ", ".", "'",
           "[", "]", "{", "}", ":", "_", "′", "·", "∂", "/", "d", "⁽ᴸ⁾", "₀", "²", "−", "×")
NUMBERS = ("0", "1", "2", "0.5", "-1", "1e3", "1e-300", "1e308", "3" * 31, "0x1f", "1_000",
           ".5", "5.", "1/0", "0^0", "0/0")

tokens = st.one_of(st.sampled_from(NAMES), st.sampled_from(SYMBOLS), st.sampled_from(FUNCS),
                   st.sampled_from(NUMBERS), st.sampled_from(PAYLOADS))
soups = st.lists(tokens, max_size=24).map("".join)


@st.composite
def nested(draw: st.DrawFn) -> str:
    """Deep nesting, long sums and power towers: the shapes that exhaust parsers."""
    n = draw(st.integers(1, 3000))
    shape = draw(st.sampled_from(("parens", "sum", "tower", "unary", "calls")))
    if shape == "parens":
        return "(" * n + "x" + ")" * n
    if shape == "sum":
        return " + ".join(f"x{i}" for i in range(n))
    if shape == "tower":
        return "^".join(["9"] * min(n, 200))
    if shape == "unary":
        return "-" * n + "x"
    return "sigma(" * n + "x" + ")" * n


expressions = st.one_of(soups, nested(), st.text(max_size=40))


@st.composite
def programs(draw: st.DrawFn) -> str:
    """Graph programs: assignments, user ops (nested), declarations, garbage lines."""
    lines = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(("assign", "op", "declare", "soup")))
        if kind == "assign":
            lines.append(f"{draw(st.sampled_from(NAMES))} = {draw(soups)}")
        elif kind == "op":
            lines.append(f"f{i}(x) = {draw(soups)}")
        elif kind == "declare":
            kind_word = draw(st.sampled_from(("param", "input", "const", "tensor")))
            lines.append(f"{draw(st.sampled_from(NAMES))}: {kind_word}({draw(soups)})")
        else:
            lines.append(draw(soups))
    lines.append(f"C = {draw(soups)}")
    return draw(st.sampled_from(("\n", "; "))).join(lines)


# --- 1. the text parser ------------------------------------------------------------------


def parser_property(text: str) -> None:
    only_gradgraph_errors(lambda: parse_expression(text), text)
    only_gradgraph_errors(lambda: gg.Graph.from_text(f"C = {text}"), text)


def program_property(text: str) -> None:
    only_gradgraph_errors(lambda: gg.Graph.from_text(text), text)


@QUICK
@given(expressions)
def test_parser_quick(text: str) -> None:
    parser_property(text)


@QUICK
@given(programs())
def test_programs_quick(text: str) -> None:
    program_property(text)


@pytest.mark.slow
@LONG
@given(expressions)
def test_parser_long(text: str) -> None:
    parser_property(text)


@pytest.mark.slow
@LONG
@given(programs())
def test_programs_long(text: str) -> None:
    program_property(text)


def test_every_payload_is_refused_and_runs_nothing() -> None:
    # The canary and the audit hook are real: this control proves they can fail.
    with pytest.raises(AssertionError, match="canary"), guarded("control"):
        CANARY.touch()
    CANARY.unlink()
    for payload in PAYLOADS:
        parser_property(payload)


# --- 2. the checker's answer reader ------------------------------------------------------

GRAPH = gg.Graph.from_text("z = w*x + b; a = sigma(z); C = (a - y)^2")


def answer_property(answer: str, question: str) -> None:
    only_gradgraph_errors(lambda: parse_answer(GRAPH, answer, 0), answer)
    only_gradgraph_errors(lambda: gg.check(GRAPH, question, answer, deadline=0.5),
                          (question, answer))


questions = st.one_of(st.sampled_from(("dC/dw", "dC/db", "∂C/∂x", "dC/dz", "w", "dC/dq")),
                      soups)


@QUICK
@given(expressions, questions)
def test_answers_quick(answer: str, question: str) -> None:
    answer_property(answer, question)


@pytest.mark.slow
@LONG
@given(expressions, questions)
def test_answers_long(answer: str, question: str) -> None:
    answer_property(answer, question)


def check_cli_property(question: str, answer: str) -> None:
    """``gradgraph check --question Q A``: 0, 1, or 2 with one safe line on stderr."""
    args = ["check", "--graph", "C = w*x", f"--question={question}", "--deadline", "0.5", "--",
            answer]  # "--": an answer may start with "-"
    with guarded(args):
        result = CliRunner().invoke(cli, args, catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        (args, result.exception)
    assert result.exit_code in (0, 1, 2), (args, result.exit_code, result.output)
    if result.exit_code == 2:
        line = result.stderr.rstrip("\n")
        assert line and "\n" not in line and line.isprintable(), (args, result.stderr)


@QUICK
@given(questions, expressions)
def test_check_cli_questions_quick(question: str, answer: str) -> None:
    check_cli_property(question, answer)


@pytest.mark.slow
@LONG
@given(questions, expressions)
def test_check_cli_questions_long(question: str, answer: str) -> None:
    check_cli_property(question, answer)


@pytest.mark.parametrize("question", ["w\nw", "dC/d\nw", "w\x1b[2J", "dC/dw\u202e", "d\rC/dw"])
def test_a_question_that_is_not_one_line_is_one_line_error(question: str) -> None:
    # gradgraph check --graph "C = w*x" --question $'w\nw' "x" said "'w<newline>w' is not
    # a name" over two lines (and read "dC/d<newline>w" as dC/dw).
    result = CliRunner().invoke(cli, ["check", "--graph", "C = w*x", "--question", question,
                                      "x"])
    assert result.exit_code == 2 and result.stdout == "", result.output
    assert result.stderr.count("\n") == 1
    assert result.stderr.rstrip("\n").isprintable(), result.stderr
    assert "write it on one line" in result.stderr


# --- 3. lesson TOML -----------------------------------------------------------------------

toml_values = st.one_of(
    st.text(max_size=30).map(lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"')
                             .replace("\n", "\\n") + '"'),
    soups.map(lambda s: '"""' + s.replace('"""', "") + '"""'),
    st.sampled_from(PAYLOADS).map(lambda s: "'''" + s + "'''"),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(("nan", "inf", "-inf", "1e308", "-0.0", "true", "false", "1979-05-27",
                     "[]", "[[[[]]]]", "[1, \"a\"]", "{}", "{ a = 1 }", "[" * 40 + "]" * 40,
                     '"../../../etc/passwd"', '"/dev/zero"', '"graphs/../../x.gg"')),
)
toml_keys = st.sampled_from(("title", "summary", "kind", "text", "id", "prompt", "question",
                             "answer", "value", "values", "choices", "hints", "graph", "file",
                             "tolerance", "limits", "model", "epochs", "optimizer", "name",
                             "options", "requires", "steps", "graphs", "unknown"))


@st.composite
def lesson_texts(draw: st.DrawFn) -> str:
    """The tiny fixture lesson with a few lines replaced, deleted, doubled or added."""
    lines = FIXTURE_LESSON.splitlines()
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(("value", "delete", "double", "insert", "header",
                                       "truncate")))
        if action == "value" and "=" in lines[i]:
            lines[i] = lines[i].split("=")[0] + "= " + draw(toml_values)
        elif action == "delete":
            del lines[i]
        elif action == "double":
            lines.insert(i, lines[i])
        elif action == "insert":
            lines.insert(i, f"{draw(toml_keys)} = {draw(toml_values)}")
        elif action == "header":
            lines.insert(i, draw(st.sampled_from(("[[steps]]", "[graphs.h]", "[values.w]",
                                                  "[graphs]", "[[graphs]]", "[steps]"))))
        else:
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        if not lines:
            lines = [""]
    return "\n".join(lines) + "\n"


def lesson_property(text: str) -> None:
    path = WORK / "01-fuzz.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    only_gradgraph_errors(lambda: load_lesson(path), text)


@QUICK
@given(lesson_texts())
def test_lessons_quick(text: str) -> None:
    lesson_property(text)


@pytest.mark.slow
@LONG
@given(lesson_texts())
def test_lessons_long(text: str) -> None:
    lesson_property(text)


# --- 4. the CLI's value options ----------------------------------------------------------

value_specs = st.one_of(
    soups,
    st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(NUMBERS + ("nan", "inf",
             "-inf", "1e999", "", "x", "1,2")))).map(
        lambda pairs: ",".join(f"{n}={v}" for n, v in pairs)),
)
limit_specs = st.one_of(
    soups,
    st.tuples(st.sampled_from(NAMES), st.sampled_from(NUMBERS + ("nan", "inf", "1e308")),
              st.sampled_from(NUMBERS + ("nan", "-inf", "1.7e308"))).map(
        lambda t: f"{t[0]}={t[1]}:{t[2]}"),
)
numbers_as_text = st.one_of(st.sampled_from(NUMBERS + ("nan", "inf", "-inf", "1e999", "",
                                                       "0", "-0", "1e-320", "100000000"))
                            , soups)


def tiny_data() -> str:
    """A 40-example, 3-feature, 2-class .npz, written once into the work folder."""
    import numpy as np

    path = WORK / "tiny.npz"
    if not path.exists():
        X = np.random.default_rng(0).normal(size=(40, 3))
        np.savez(path, X=X, y=(X[:, 0] > 0).astype(int))
    return str(path)


def training_runs() -> st.SearchStrategy[list[str]]:
    """Real (one-epoch, tiny) training runs with fuzzed hyperparameters: slower."""
    options = st.sampled_from(("--lr", "--momentum", "--dropout", "--l1", "--l2",
                               "--batch-size", "--hidden", "--activation", "--optimizer"))
    return st.lists(st.tuples(options, numbers_as_text | st.sampled_from(NAMES)),
                    max_size=3).map(
        lambda pairs: ["train", "--data", tiny_data(), "--epochs", "1", "-q",
                       *[x for pair in pairs for x in pair]])


def cli_cases(train: bool = False) -> st.SearchStrategy[list[str]]:
    return st.one_of(
        training_runs() if train else st.nothing(),
        value_specs.map(lambda v: ["render", "z = w*x + b; C = (z - y)^2", "--values", v,
                                   "--format", "dot"]),
        limit_specs.map(lambda v: ["check", "--graph", "C = w*x", "dC/dw = x", "--limit", v,
                                   "--deadline", "0.5"]),
        st.tuples(expressions, st.sampled_from(NAMES)).map(
            lambda t: ["derive", f"C = {t[0]}", "--wrt", t[1]]),
        st.tuples(numbers_as_text, numbers_as_text, numbers_as_text).map(
            lambda t: ["train", "--hidden", t[0], "--lr", t[1], "--momentum", t[2],
                       "--save", "/proc/gradgraph-fuzz.npz", "-q"]),
        st.tuples(st.sampled_from(("--epochs", "--batch-size", "--dropout", "--l1", "--l2",
                                   "--test-size", "--seed")), numbers_as_text).map(
            lambda t: ["train", t[0], t[1], "--plot", "/proc/gradgraph-fuzz.png", "-q"]),
        st.one_of(soups, st.sampled_from(("../../etc/passwd", "/dev/zero", "/", "a/b",
                                          "chain-rule/../chain-rule", "\x00", "-1", "99")))
        .map(lambda name: ["lesson", "show", name]),
    )


@QUICK
@given(cli_cases())
def test_cli_values_quick(args: list[str]) -> None:
    cli_run(args)


@pytest.mark.slow
@LONG
@given(cli_cases(train=True))
def test_cli_values_long(args: list[str]) -> None:
    cli_run(args)


def test_cli_values_that_are_not_finite_are_one_line_errors() -> None:
    for spec in ("w=nan,x=1,b=0,y=1", "w=inf,x=1,b=0,y=1", "w=1e999,x=1,b=0,y=1"):
        result = CliRunner().invoke(cli, ["render", "z = w*x + b; C = (z - y)^2",
                                          "--values", spec, "--format", "dot"])
        assert result.exit_code == 2 and "is not a finite number" in result.stderr


@pytest.fixture(autouse=True, scope="module")
def _clean_work() -> Iterator[None]:
    yield
    for path in WORK.iterdir():
        path.unlink()
    os.rmdir(WORK)


# --- regressions the fuzz found ------------------------------------------------------------


def test_messages_that_echo_control_characters_stay_one_safe_line() -> None:
    # Every command's one-line error escapes what it echoes (a newline, a terminal escape).
    result = CliRunner().invoke(cli, ["lesson", "show", "w\nw\u202e"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "'w\\nw\\u202e'" in result.stderr
    escape = CliRunner().invoke(cli, ["derive", "C = w*x", "--wrt", "\x1b[2Jq"])
    assert escape.exit_code == 2 and "\x1b" not in escape.stderr and "\\x1b" in escape.stderr


def test_lesson_errors_that_echo_a_newline_stay_one_line() -> None:
    path = WORK / "01-kind.toml"
    path.write_text(FIXTURE_LESSON.replace('kind = "text"\ntext = "Bye."',
                                           'kind = """w\n"""\ntext = "Bye."'), encoding="utf-8")
    with pytest.raises(GradgraphError, match=r"unknown step kind 'w\\n'") as info:
        load_lesson(path)
    assert "\n" not in str(info.value)
