"""Lessons: the bundled lessons run end to end, files are loaded safely, pages are inert."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gradgraph.errors import GradgraphError, GraphError, LessonError
from gradgraph.lesson import (
    Progress,
    RunOptions,
    catalog,
    expected,
    export_html,
    grade,
    grading,
    lesson_files,
    lesson_html,
    load_lesson,
    markup,
    run_lesson,
    show_lesson,
)
from gradgraph.lesson.authoring import check_lesson
from gradgraph.lesson.extras import scores_text
from gradgraph.lesson.grading import expected_number
from gradgraph.lesson.html_export import prose as lesson_html_prose
from gradgraph.lesson.model import ExerciseStep, Lesson
from gradgraph.lesson.runner import Outcome, Summary
from gradgraph.lesson.toml_source import MAX_LESSON_BYTES, KeyLines
from gradgraph.render import find_dot

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "lessons"
FIXTURES = Path(__file__).resolve().parent / "lessons"
LESSON_FILES = lesson_files(BUNDLED)


class ListConsole:
    """A console that answers from a list (None = end of input) and records output."""

    def __init__(self, replies: list[str | None] | None = None):
        self.replies = list(replies or [])
        self.lines: list[str] = []
        self.prompts: list[str] = []

    def write(self, text: str = "") -> None:
        self.lines.append(text)

    def ask(self, prompt: str) -> str | None:
        self.prompts.append(prompt)
        return self.replies.pop(0) if self.replies else None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Progress goes to a temporary folder, never to the real home directory."""
    state = tmp_path / "state"
    monkeypatch.setenv("GRADGRAPH_STATE_DIR", str(state))
    return state


def correct_answer(lesson: Lesson, ex: ExerciseStep) -> str:
    """What a learner who got it right would type."""
    if ex.check == "number":
        return repr(expected_number(lesson, ex))
    return ex.answer


def write_lesson(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


MINIMAL = 'title = "T"\nsummary = "S"\n'


# --- the bundled lessons ------------------------------------------------------------


def test_the_deck_is_covered_in_order() -> None:
    names = [load_lesson(p).name for p in LESSON_FILES]
    assert names[:15] == [  # the deck in order; lessons beyond it may follow
        "chain-rule", "bias-and-caching", "backwards-through-layers", "many-units",
        "why-relu", "minibatch-sgd", "sign-momentum-rmsprop", "adam", "l1-l2", "dropout",
        "batch-norm", "keras-digits", "random-labels", "loss-landscape",
        "adam-bias-correction",
    ]
    assert all(load_lesson(p).exercises for p in LESSON_FILES)


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_every_lesson_runs_with_correct_answers(path: Path, state_dir: Path) -> None:
    lesson = load_lesson(path)
    answers = {ex.id: correct_answer(lesson, ex) for ex in lesson.exercises}
    console = ListConsole()
    progress = Progress.load()
    summary = run_lesson(lesson, console, RunOptions(answers=answers, run_extras=False),
                         progress)
    wrong = [(o.id, o.message) for o in summary.outcomes if o.status != "correct"]
    assert not wrong, wrong
    assert summary.finished and summary.all_correct
    assert "could not be shown" not in console.text
    assert not (state_dir / "progress.json").exists()  # a scripted run is not the learner's


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_every_lessons_model_answers_pass_the_checker(path: Path) -> None:
    assert check_lesson(load_lesson(path)) == []


def test_a_wrong_answer_gets_the_checkers_feedback() -> None:
    lesson = load_lesson(BUNDLED / "01-chain-rule.toml")
    answers = {"dc-dw": "a^(L-1)*sigma'(z^(L))*(a^(L) - y)"}  # the 2 is missing
    console = ListConsole()
    summary = run_lesson(lesson, console, RunOptions(answers=answers, run_extras=False))
    outcome = next(o for o in summary.outcomes if o.id == "dc-dw")
    assert outcome.status == "wrong"
    assert "∂C₀/∂a⁽ᴸ⁾" in outcome.message  # the checker names the factor that differs
    assert "✗" in console.text and "hint 1:" in console.text
    assert "Summary" in console.lines[-1] and "skipped" in console.lines[-1]


def test_expected_answers_are_shown_as_written() -> None:
    lesson = load_lesson(BUNDLED / "01-chain-rule.toml")
    by_id = {ex.id: ex for ex in lesson.exercises}
    assert expected(lesson, by_id["dc-dw"]) == "∂C₀/∂w⁽ᴸ⁾ = a⁽ᴸ⁻¹⁾ · σ′(z⁽ᴸ⁾) · 2(a⁽ᴸ⁾ − y)"
    assert expected(lesson, by_id["dc-dw-value"]) == "−0.07324"  # the slides' numbers
    assert expected(lesson, by_id["cost-value"]) == "0.1156"


def test_show_prints_the_whole_lesson_with_solutions() -> None:
    lesson = load_lesson(BUNDLED / "08-adam.toml")
    out: list[str] = []
    show_lesson(lesson, out.append, RunOptions(solutions=True))
    text = "\n".join(out)
    assert "On the slides" in text and "1 − β₁ᵗ" in text  # the erratum side by side
    assert "answer: −1.01" in text  # the slide's Adam walks away from the minimum


# --- grading ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny() -> Lesson:
    return load_lesson(FIXTURES / "tiny.toml")


def _ex(lesson: Lesson, ex_id: str) -> ExerciseStep:
    return next(ex for ex in lesson.exercises if ex.id == ex_id)


@pytest.mark.parametrize(("ex_id", "answer", "status"), [
    ("cost", "1", "correct"), ("cost", "0.5*2", "correct"), ("cost", "-1", "wrong"),
    ("cost", "w", "invalid"), ("cost", "sigma(0)*2", "correct"), ("cost", "relu'(3)", "correct"),
    ("pick", "b", "correct"), ("pick", "2", "correct"), ("pick", "yes", "correct"),
    ("pick", "a", "wrong"), ("pick", "z", "invalid"), ("pick", "c", "invalid"),
    ("dcdw", "x*2*(z-y)", "correct"), ("dcdw", "(z-y)*x", "wrong"), ("dcdw", "x*(", "invalid"),
    ("dcdw", "__import__('os')", "invalid"), ("dcdw", "", "invalid"),
])
def test_grade(tiny: Lesson, ex_id: str, answer: str, status: str) -> None:
    verdict = grade(tiny, _ex(tiny, ex_id), answer)
    assert verdict.status == status, verdict.message
    assert verdict.correct is {"correct": True, "wrong": False}.get(status), verdict.message
    assert verdict.message


@pytest.mark.parametrize(("answer", "words"), [
    ("1/0", "not a real number"), ("0^-1", "not a real number"), ("0/0", "not a real number"),
    ("log(-1)", "not a real number"), ("sqrt(-1)", "not a real number"),
    ("exp(1000)", "not a finite number"), ("q + 1", "give a number"),
])
def test_a_number_that_is_not_real_is_invalid_not_a_crash(tiny: Lesson, answer: str,
                                                          words: str) -> None:
    verdict = grade(tiny, _ex(tiny, "cost"), answer)
    assert verdict.status == "invalid" and words in verdict.message, verdict.message


def test_numbers_with_ops_are_evaluated_with_the_registry_kernels() -> None:
    lesson = load_lesson(BUNDLED / "01-chain-rule.toml")
    verdict = grade(lesson, _ex(lesson, "cost-value"), "(sigma(0.6633)-1)^2")
    assert verdict.correct is True, verdict.message
    assert grade(lesson, _ex(lesson, "cost-value"), "(σ(0.6633) − 1)²").correct is True


@pytest.mark.parametrize(("lesson_file", "ex_id", "answer"), [
    ("01-chain-rule.toml", "which-way", "It increases w⁽ᴸ⁾: the cost falls as w⁽ᴸ⁾ grows."),
    ("01-chain-rule.toml", "which-way", "it increases w⁽ᴸ⁾: the cost falls as w⁽ᴸ⁾ grows"),
    ("01-chain-rule.toml", "which-way", "a) It increases w⁽ᴸ⁾: the cost falls as w⁽ᴸ⁾ grows."),
    ("01-chain-rule.toml", "which-way", "(a)"),
    ("05-why-relu.toml", "dead-relu", "…gets zero gradient and stops learning (a dead unit)."),
    ("07-sign-momentum-rmsprop.toml", "momentum-speed", "ρ·g/(1 − μ)"),
    ("07-sign-momentum-rmsprop.toml", "momentum-speed", "ρ·g/(1 - μ)"),
])
def test_a_choice_can_be_answered_by_its_text(lesson_file: str, ex_id: str,
                                              answer: str) -> None:
    lesson = load_lesson(BUNDLED / lesson_file)
    verdict = grade(lesson, _ex(lesson, ex_id), answer)
    assert verdict.correct is True, verdict.message


def test_summaries_say_invalid_for_unreadable_and_undecided_for_undecidable(
        tiny: Lesson) -> None:
    answers = {"dcdw": "x*(", "cost": "log(-1)", "pick": "d"}
    console = ListConsole()
    summary = run_lesson(tiny, console, RunOptions(answers=answers, run_extras=False))
    assert {o.id: o.status for o in summary.outcomes} == dict.fromkeys(answers, "invalid")
    assert "undecided" not in console.text
    assert "! pick  invalid: answer with a letter from a to b" in summary.text()
    undecided = Summary(tiny, [Outcome("dcdw", "undecided", 1, "the check timed out")])
    assert "? dcdw  undecided: the check timed out" in undecided.text()
    assert "0 of 3 exercises correct" in undecided.text()


# --- the interactive runner ---------------------------------------------------------


def test_hints_come_before_the_reveal(tiny: Lesson) -> None:
    replies = ["", "reveal", "?", "reveal", "4", "1", "b"]
    console = ListConsole(replies)
    summary = run_lesson(tiny, console, RunOptions(), Progress.load())
    text = console.text
    assert text.index("hint 1: First hint.") < text.index("hint 2: Second hint.")
    assert "(hints first: 1 more before the answer)" in text
    assert text.index("hint 2: Second hint.") < text.index("answer: ∂C/∂w = 2(z − y) · x")
    statuses = {o.id: o.status for o in summary.outcomes}
    assert statuses == {"dcdw": "revealed", "cost": "correct", "pick": "correct"}
    assert summary.finished


def test_interactive_answers_that_cannot_be_read_are_invalid_and_not_tries(
        tiny: Lesson) -> None:
    replies = ["", "skip", "1/0", "(sigma(0)*2)", "d", "yes"]
    console = ListConsole(replies)
    summary = run_lesson(tiny, console, RunOptions(), Progress.load())
    assert "! invalid: that is not a real number; give a number" in console.text
    assert "! invalid: answer with a letter from a to b" in console.text
    assert [(o.status, o.tries) for o in summary.outcomes] == [
        ("skipped", 0), ("correct", 1), ("correct", 1)]


def test_a_lesson_error_at_grading_is_not_blamed_on_the_answer(
        tiny: Lesson, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(lesson: Lesson, ex: ExerciseStep) -> float:
        raise GraphError("no node named 'w' in the graph")

    monkeypatch.setattr(grading, "expected_number", broken)
    verdict = grade(tiny, _ex(tiny, "cost"), "1")
    assert verdict.status == "undecided" and "your answer" not in verdict.message
    assert "the lesson cannot compute" in verdict.message and "tiny.toml, line" in verdict.message


def test_quitting_saves_progress_and_the_next_run_resumes(tiny: Lesson, state_dir: Path) -> None:
    console = ListConsole(["", "q"])  # read step 1, quit at the first exercise
    summary = run_lesson(tiny, console, RunOptions(), Progress.load())
    assert not summary.finished and "not finished" in console.lines[-1]
    saved = json.loads((state_dir / "progress.json").read_text(encoding="utf-8"))
    assert saved["lessons"]["tiny"]["step"] == 1

    console = ListConsole(["y", "skip", "1", "b"])
    summary = run_lesson(tiny, console, RunOptions(), Progress.load())
    assert console.prompts[0].startswith("Resume at step 2 of 5")
    assert "Hello." not in console.text  # step 1 was not shown again
    assert [o.status for o in summary.outcomes] == ["skipped", "correct", "correct"]


def test_end_of_input_stops_cleanly(tiny: Lesson) -> None:
    summary = run_lesson(tiny, ListConsole([]), RunOptions())
    assert not summary.finished and summary.outcomes == []


def test_a_corrupt_progress_file_is_set_aside(state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    (state_dir / "progress.json").write_text("{not json", encoding="utf-8")
    progress = Progress.load()
    assert "could not be read" in progress.warning
    assert (state_dir / "progress.json.corrupt").read_text(encoding="utf-8") == "{not json"
    progress.record("x", 1, 2)
    progress.save()
    assert json.loads((state_dir / "progress.json").read_text(encoding="utf-8"))["schema"] == 1
    assert sorted(p.name for p in state_dir.iterdir()) == ["progress.json",
                                                          "progress.json.corrupt"]


@pytest.mark.skipif(find_dot() is None, reason="Graphviz dot is not installed")
def test_diagrams_are_written_and_the_stepper_gives_one_frame_per_edge(tmp_path: Path) -> None:
    lesson = load_lesson(BUNDLED / "01-chain-rule.toml")
    opened: list[Path] = []
    options = RunOptions(answers={}, out_dir=tmp_path / "out", opener=opened.append)
    summary = run_lesson(lesson, ListConsole(), options)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert "chain-rule-step04.svg" in names
    frames = [n for n in names if n.startswith("chain-rule-step13-")]
    assert len(frames) == 6  # one per edge of the backward pass
    assert opened[0].name == "chain-rule-step04.svg" and len(summary.files) == 7


def test_without_graphviz_a_lesson_still_runs(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    # gradgraph.render is the function; the module is reached through importlib.
    output = importlib.import_module("gradgraph.render.output")
    monkeypatch.setattr(output, "find_dot", lambda: None)
    lesson = load_lesson(BUNDLED / "01-chain-rule.toml")
    console = ListConsole()
    run_lesson(lesson, console, RunOptions(answers={}, out_dir=tmp_path))
    assert "diagram not drawn" in console.text
    assert (tmp_path / "chain-rule-step04.dot").read_text(encoding="utf-8").startswith("digraph")
    page = lesson_html(lesson)
    assert "Diagram not drawn" in page and "<svg" not in page


# --- training and experiment steps --------------------------------------------------


def test_train_steps_train_the_lessons_model() -> None:
    lesson = load_lesson(BUNDLED / "12-keras-digits.toml")
    console = ListConsole()
    run_lesson(lesson, console, RunOptions(answers={}, quick=True))
    assert "test set: loss " in console.text and ", accuracy " in console.text
    assert "quick mode: 1 epoch" in console.text


def test_experiment_steps_run_the_papers_experiment() -> None:
    lesson = load_lesson(BUNDLED / "05-why-relu.toml")
    console = ListConsole()
    run_lesson(lesson, console, RunOptions(answers={}, quick=True))
    assert "sigmoid" in console.text and "relu" in console.text.lower()


# --- loading safely -----------------------------------------------------------------


@pytest.mark.parametrize(("name", "where", "words"), [
    ("bad-syntax.toml", "line 6", "not closed"),
    ("unknown-key.toml", "line 11", "did you mean 'hints'"),
    ("bad-graph.toml", "line 5", "graph 'g'"),
    ("duplicate-key.toml", "line 4", "defined twice"),
])
def test_a_malformed_lesson_gives_one_clear_error(name: str, where: str, words: str) -> None:
    with pytest.raises(LessonError) as info:
        load_lesson(FIXTURES / name)
    message = str(info.value)
    assert message.startswith(f"{FIXTURES / name}, {where}:"), message
    assert words in message and "\n" not in message


@pytest.mark.parametrize("rel", ["../../.bashrc", "/etc/passwd", "graphs/../../outside.gg",
                                 "link.gg", "notes.py"])
def test_asset_paths_must_stay_inside_the_lesson_folder(tmp_path: Path, rel: str) -> None:
    (tmp_path / "outside.gg").write_text("C = w*x\n", encoding="utf-8")
    folder = tmp_path / "course" / "lessons"
    folder.mkdir(parents=True)
    (folder / "link.gg").symlink_to(tmp_path / "outside.gg")
    (folder / "notes.py").write_text("C = w*x\n", encoding="utf-8")
    path = write_lesson(folder, "evil.toml", MINIMAL + f'[graphs.g]\nfile = "{rel}"\n'
                        '[[steps]]\nkind = "text"\ntext = "x"\n')
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    assert "line 4" in str(info.value)
    assert "outside the lesson folder" in str(info.value) or "graph files end in" in str(info.value)


def test_a_huge_lesson_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "huge.toml", MINIMAL + "# " + "x" * MAX_LESSON_BYTES + "\n")
    start = time.perf_counter()
    with pytest.raises(LessonError, match="too large"):
        load_lesson(path)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize("payload", ["a = " + "[" * 10_000 + "]" * 10_000,
                                     "a = " + "{b = " * 2_000 + "1" + "}" * 2_000])
def test_deep_nesting_is_refused_quickly(tmp_path: Path, payload: str) -> None:
    path = write_lesson(tmp_path, "deep.toml", MINIMAL + payload + "\n")
    start = time.perf_counter()
    with pytest.raises(LessonError, match="nested too deeply"):
        load_lesson(path)
    assert time.perf_counter() - start < 1.0


def test_recursion_error_from_the_parser_is_caught(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from gradgraph.lesson import toml_source

    monkeypatch.setattr(toml_source, "MAX_NESTING", 10**6)  # let the parser itself recurse
    path = write_lesson(tmp_path, "deep.toml", MINIMAL + "a = " + "[" * 5000 + "]" * 5000)
    with pytest.raises(LessonError, match="nested too deeply"):
        load_lesson(path)


@pytest.mark.parametrize(("body", "words"), [
    ('[[steps]]\nkind = "lecture"\n', "unknown step kind 'lecture'"),
    ('[[steps]]\nkind = "text"\n', "missing key 'text'"),
    ('[graphs.g]\ntext = "C = w*x"\n[[steps]]\nkind = "derive"\nwrt = "q"\n', "no node named 'q'"),
    ('[[steps]]\nkind = "equations"\noptimizer = "adamm"\n', "did you mean 'adam'"),
    ('[[steps]]\nkind = "equations"\noptimizer = "adam"\noptions = { lr = -1 }\n', "lr"),
    ('[[steps]]\nkind = "experiment"\nname = "rm -rf"\n', "unknown experiment"),
    ('[graphs.g]\ntext = "C = w*x"\n[[steps]]\nkind = "exercise"\nid = "e"\nprompt = "p"\n'
     'question = "dC/dw"\nanswer = "__import__(1)"\n', "does not parse"),
    ('[graphs.g]\ntext = "C = w*x"\n[values.v]\nw = inf\n[[steps]]\nkind = "text"\ntext = "t"\n',
     "finite"),
    ('[[steps]]\nkind = "text"\ntext = "a\\u0000b"\n', "NUL"),
])
def test_content_errors_name_the_file_and_line(tmp_path: Path, body: str, words: str) -> None:
    path = write_lesson(tmp_path, "x.toml", MINIMAL + body)
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line "), message
    assert words in message


CHAIN = ('[graphs.chain]\ntext = "z^(L) = w^(L) a^(L-1) + b^(L); a^(L) = sigma(z^(L)); '
         'C_0 = (a^(L) - y)^2"\n')


@pytest.mark.parametrize(("body", "line", "words"), [
    # a misspelt name in a value set is the author's error, at its own line
    ('[values.slides]\n"a^(L-1)" = 0.48\n"w" = 2.0\n"b^(L)" = 0.1\ny = 1.0\n'
     '[[steps]]\nkind = "exercise"\nid = "v"\nprompt = "p"\nvalue = "C_0"\n'
     'values = "slides"\n',
     7, "value set 'slides' (graph 'chain'): no node named 'w' in the graph; "
        "did you mean 'w^(L)'?"),
    # … even in a value set that no step uses yet
    ('[values.spare]\nq = 1.0\n[[steps]]\nkind = "text"\ntext = "t"\n',
     6, "value set 'spare' (graph 'chain'): no node named 'q'"),
    # an inline value set points at the step's values key
    ('[[steps]]\nkind = "graph"\nvalues = { "w" = 2.0 }\n',
     7, "this step's values (graph 'chain'): no node named 'w'"),
    # a leaf without a value: the graph cannot be evaluated, nor the exercise graded
    ('[values.some]\n"w^(L)" = 2.0\n[[steps]]\nkind = "exercise"\nid = "v"\n'
     'prompt = "p"\nvalue = "C_0"\nvalues = "some"\n',
     12, "step 1 (exercise): graph 'chain' cannot be evaluated at these values: "
         "no value given for"),
    ('[[steps]]\nkind = "derive"\nwrt = "w"\n', 7, "'wrt' of step 1 (graph 'chain'): "
     "no node named 'w' in the graph; did you mean 'w^(L)'?"),
    # the question is read as `gradgraph check` reads it: w is w^(L), a is ambiguous
    ('[[steps]]\nkind = "exercise"\nid = "e"\nprompt = "p"\nquestion = "dC_0/da"\n'
     'answer = "1"\n', 9, "'question' of step 1 (graph 'chain'): 'a' could be a⁽ᴸ⁻¹⁾ or "
                          "a⁽ᴸ⁾"),
    ('[[steps]]\nkind = "diagram"\nshow = "names,valus"\n',
     7, "'show': 'valus' is not one of names, defs, values, grads, partials; "
        "did you mean 'values'?"),
    ('[[steps]]\nkind = "train"\nmodel = [{ layer = "Dens", units = 10 }]\n',
     7, "unknown layer 'Dens' (one of Dense, Activation, Dropout, BatchNormalization); "
        "did you mean 'Dense'?"),
])
def test_references_are_checked_when_the_lesson_loads(tmp_path: Path, body: str, line: int,
                                                      words: str) -> None:
    path = write_lesson(tmp_path, "x.toml", MINIMAL + CHAIN + body)
    with pytest.raises(LessonError) as info:
        load_lesson(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line {line}: "), message
    assert words in message, message


def test_show_may_be_written_as_a_comma_separated_string(tmp_path: Path) -> None:
    path = write_lesson(tmp_path, "x.toml", MINIMAL + CHAIN
                        + '[[steps]]\nkind = "diagram"\nshow = "names, values"\n')
    assert load_lesson(path).steps[0].show == ("names", "values")


def test_key_lines_skip_multiline_strings() -> None:
    lines = KeyLines('a = 1\ntext = """\nb = 2\n"""\n[[steps]]\nkind = "x"\n[[steps]]\nid = 3\n')
    assert lines.line((), "a") == 1 and lines.line((), "b") is None
    assert lines.line(("steps", 0), "kind") == 6 and lines.line(("steps", 1), "id") == 8


def test_a_broken_file_does_not_hide_the_others(tmp_path: Path) -> None:
    write_lesson(tmp_path, "01-good.toml", MINIMAL + '[[steps]]\nkind = "text"\ntext = "t"\n')
    write_lesson(tmp_path, "02-bad.toml", "title = ")
    entries = catalog(tmp_path)
    assert [e.lesson is not None for e in entries] == [True, False]
    assert "02-bad.toml, line 1" in entries[1].error


# --- HTML export --------------------------------------------------------------------


def test_html_export_escapes_every_lesson_string(tmp_path: Path) -> None:
    page = export_html(load_lesson(FIXTURES / "hostile.toml"), tmp_path).read_text(
        encoding="utf-8")
    lowered = page.lower()
    for tag in ("<script", "<iframe", "<img", "<svg", "<a ", "<i>", "<b "):
        assert tag not in lowered, tag
    assert "&lt;script&gt;alert(&quot;text&quot;)&lt;/script&gt;" in page
    assert "<strong>bold &lt;i&gt;tag&lt;/i&gt;</strong>" in page  # markup still works
    assert "&lt;/details&gt;&lt;script&gt;" in page  # cannot close our <details>
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_markup_escapes_before_it_formats() -> None:
    html = markup.to_html("**a** *b* `c<d>`\n\n- one\n- two\n\n    x = 1")
    assert html == ('<p><strong>a</strong> <em>b</em> <code>c&lt;d&gt;</code></p>\n'
                    "<ul><li>one</li><li>two</li></ul>\n"
                    '<pre class="math">x = 1</pre>')
    assert markup.to_terminal("**a** and `b`") == "a and b"


def test_fenced_code_is_shown_verbatim_not_aligned_like_equations() -> None:
    text = ("Equations:\n\n    a = b + c\n\nCode:\n\n```python\n"
            "model.add(Dense(H, input_dim=N))      # N = 64 pixels\n```\n")
    page = lesson_html_prose(text)
    assert '<pre class="code">model.add(Dense(H, input_dim=N))      # N = 64 pixels</pre>' \
        in page
    assert page.count('<td class="rel">=</td>') == 1  # only the equation is aligned
    assert "model.add" in markup.to_terminal(text)


def test_the_keras_code_block_is_not_split_at_equals_signs() -> None:
    page = lesson_html(load_lesson(BUNDLED / "12-keras-digits.toml"))
    code = page.split('<pre class="code">', 1)[1].split("</pre>", 1)[0]
    assert "loss=&#x27;categorical_crossentropy&#x27;, metrics=[&#x27;accuracy&#x27;])" in code
    assert "<td" not in code and "history = model.fit(" in code


def test_training_scores_are_labelled() -> None:
    assert scores_text([0.0914, 0.9704], ("accuracy",)) == "loss 0.0914, accuracy 0.9704"
    assert scores_text(0.25) == "loss 0.2500"


@pytest.mark.skipif(find_dot() is None, reason="Graphviz dot is not installed")
def test_html_export_inlines_the_diagrams(tmp_path: Path) -> None:
    lesson = load_lesson(BUNDLED / "01-chain-rule.toml")
    page = export_html(lesson, tmp_path).read_text(encoding="utf-8")
    assert page.count("<svg") == 7  # one diagram and the six stepper frames
    assert 'type="radio"' in page and "<script" not in page.lower()
    assert "http://" not in page.split("<svg", 1)[0]  # nothing fetched before the diagrams
    assert "∂C₀/∂w⁽ᴸ⁾" in page  # math readable as Unicode text


@pytest.mark.parametrize("values", ["w = 1e308\nx = 0.5\nb = 0.0\ny = 2.0",
                                    "w = 1.0\nx = 1e200\nb = 0.0\ny = 2.0"])
def test_values_that_overflow_are_the_authors_error_at_load(tmp_path: Path,
                                                            values: str) -> None:
    # Found by tests/security/test_fuzz.py: scalar programs raise OverflowError.
    text = (Path(__file__).parent / "lessons" / "tiny.toml").read_text(encoding="utf-8")
    start = text.index("[values.v]\n") + len("[values.v]\n")
    end = text.index("\n\n", start)
    path = write_lesson(tmp_path, "01-tiny.toml", text[:start] + values + text[end:])
    with pytest.raises(LessonError, match=r"line \d+: step 3 .*cannot be evaluated at these "
                                          r"values: computing C at these values overflows"):
        load_lesson(path)


def test_a_progress_file_that_is_a_pipe_is_set_aside_not_waited_on(state_dir: Path) -> None:
    import os

    state_dir.mkdir(parents=True)
    os.mkfifo(state_dir / "progress.json")  # no writer: reading it would block for ever
    progress = Progress.load()
    assert "is not a regular file" in progress.warning and progress.lessons == {}
    assert (state_dir / "progress.json.corrupt").exists()


def test_a_graph_asset_that_is_a_pipe_is_refused(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "g.gg")
    path = write_lesson(tmp_path, "01-x.toml", MINIMAL + '[graphs.g]\nfile = "g.gg"\n'
                        '[[steps]]\nkind = "text"\ntext = "hi"\n')
    with pytest.raises(LessonError, match="g.gg: is not a regular file"):
        load_lesson(path)


@pytest.mark.parametrize(("body", "where", "char"), [
    ('title = "Red \\u001b[31m"\nsummary = "S"\n', "line 1: title", "001B"),
    ('title = "T"\nsummary = "\\u001b]0;pwned\\u0007"\n', "line 2: summary", "001B"),
    (MINIMAL + '[[steps]]\nkind = "text"\ntext = "abc \\u202e cba"\n', "line 5: steps.0.text",
     "202E"),
    (MINIMAL + '[[steps]]\nkind = "text"\ntext = "a\\rb"\n', "steps.0.text", "000D"),
])
def test_terminal_control_codes_in_a_lesson_are_refused(tmp_path: Path, body: str,
                                                        where: str, char: str) -> None:
    path = write_lesson(tmp_path, "01-x.toml", body)
    with pytest.raises(LessonError, match=rf"{where} contains the control character "
                                          rf"U\+{char} \(.+\); lesson text must be printable"):
        load_lesson(path)


# --- no spoilers (issue #15): nothing before an exercise shows what it asks for ------------


def _planted(tmp_path: Path, name: str, edit) -> Lesson:  # noqa: ANN001 - str -> str
    source = BUNDLED / name if (BUNDLED / name).exists() else FIXTURES / name
    (tmp_path / "graphs").mkdir(exist_ok=True)
    for g in (BUNDLED / "graphs").glob("*.gg"):
        (tmp_path / "graphs" / g.name).write_text(g.read_text(encoding="utf-8"))
    path = tmp_path / name
    text = source.read_text(encoding="utf-8")
    planted = edit(text)
    assert planted != text, "the plant did not take"
    path.write_text(planted, encoding="utf-8")
    return load_lesson(path)


def _spoiler_messages(lesson: Lesson) -> list[str]:
    return [p.message for p in check_lesson(lesson) if "which exercise" in p.message]


def test_a_diagram_showing_the_adjoint_before_the_exercise_is_a_spoiler(tmp_path: Path) -> None:
    lesson = _planted(tmp_path, "01-chain-rule.toml", lambda t: t.replace(
        'show = ["names", "defs", "values", "partials"]\n', ""))
    assert _spoiler_messages(lesson) == [
        "step 4 (diagram): shows the adjoint ∂C₀/∂w⁽ᴸ⁾ = −0.07324, which exercise "
        "'dc-dw-value' (step 10) asks for; move it after the exercise or hide it"]


def test_a_number_in_the_text_and_a_derivation_before_the_exercise_are_spoilers(
        tmp_path: Path) -> None:
    derive_first = ('[[steps]]\nkind = "derive"\nwrt = "w"\nforms = ["chain"]\n\n'
                    '[[steps]]\nkind = "exercise"\nid = "dcdw"')
    lesson = _planted(tmp_path, "tiny.toml", lambda t: t.replace(
        'text = "Hello."', 'text = "Hello: C is 1.0 here."').replace(
        '[[steps]]\nkind = "exercise"\nid = "dcdw"', derive_first))
    found = _spoiler_messages(lesson)
    assert any(m.startswith("step 1 (text): shows the number 1.0 in its text, which "
                            "exercise 'cost'") for m in found), found
    assert any(m.startswith("step 2 (derive): shows the derivation of ∂C/∂w, which "
                            "exercise 'dcdw' (step 3)") for m in found), found


def test_numbers_match_only_to_the_figures_written() -> None:
    from gradgraph.lesson.spoilers import _same_number

    assert _same_number("−0.0732", -0.07324) and _same_number("0.07324", -0.07324)
    assert not _same_number("0.073", -0.07354) and not _same_number("1", 1.0)
    assert _same_number("0.48", 0.4849) and not _same_number("0.49", 0.4849)


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda p: p.stem)
def test_no_bundled_lesson_gives_an_answer_away(path: Path) -> None:
    from gradgraph.lesson.spoilers import spoilers

    assert spoilers(load_lesson(path)) == []


# --- one question reader: a lesson's question = … and `gradgraph check` ------------------

SPELLING_GRAPH = "z_1 = w_1*x + b; z^(2) = w^(2)*z_1; C = (z^(2) - y)^2"
SPELLINGS = [
    ("dC/dw_1", ("C", "w_1")), ("∂C/∂w₁", ("C", "w_1")), ("dC/dw1", ("C", "w_1")),
    ("d C / d w_1", ("C", "w_1")), (" dC/dw_1 ", ("C", "w_1")), ("dC/dw^(2)", ("C", "w^(2)")),
    ("∂C/∂w⁽²⁾", ("C", "w^(2)")), ("d C / d w^(2)", ("C", "w^(2)")),
    ("dz^(2)/dz1", ("z^(2)", "z_1")),
]
BAD_SPELLINGS = [
    ("dC/dw", "'w' could be w₁ or w⁽²⁾"), ("dC/dq", "no node named 'q'"),
    ("dC/dw_1/dx", "more than one '/'"), ("w\nw", "holds a line break"),
    ("dC/dw\u202e", "control character"),
]


def _question_lesson(tmp_path: Path, question: str) -> Path:
    text = json.dumps(question)  # a TOML basic string is a JSON string
    return write_lesson(tmp_path, "q.toml", MINIMAL + f'[graphs.g]\ntext = "{SPELLING_GRAPH}"\n'
                        f'[[steps]]\nkind = "exercise"\nid = "e"\nprompt = "p"\n'
                        f'question = {text}\nanswer = "1"\n')


def _check_cli(*args: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from gradgraph.cli import cli

    result = CliRunner().invoke(cli, ["check", "--graph", SPELLING_GRAPH, *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(("spelling", "pair"), SPELLINGS)
def test_a_lesson_and_gradgraph_check_read_a_question_alike(
        tmp_path: Path, spelling: str, pair: tuple[str, str]) -> None:
    from gradgraph.notation import partial_unicode

    ex = _ex(load_lesson(_question_lesson(tmp_path, spelling)), "e")
    assert ex.question == f"d{pair[0]}/d{pair[1]}"
    code, out, _ = _check_cli("--json", f"{spelling} = 1")
    assert code in (0, 1) and json.loads(out)["question"] == partial_unicode(*pair)


@pytest.mark.parametrize(("spelling", "words"), BAD_SPELLINGS)
def test_a_lesson_and_gradgraph_check_refuse_a_bad_question_in_one_line(
        tmp_path: Path, spelling: str, words: str) -> None:
    with pytest.raises(LessonError) as info:
        load_lesson(_question_lesson(tmp_path, spelling))
    assert words in str(info.value) and "\n" not in str(info.value)
    code, out, err = _check_cli("--question", spelling, "1")
    assert code == 2 and out == "" and err.count("\n") == 1 and words in err, err


# --- bounded work on a lesson's own formulas (#11) ------------------------------------------

NESTED_OPS = "\n".join(["f0(x) = x*x"] + [f"f{i}(x) = f{i - 1}(f{i - 1}(x))" for i in range(1, 12)])


def test_a_lesson_value_on_nested_user_ops_is_refused_within_the_deadline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A value whose computation never ends (stood in for by a sleep: nested user ops
    within the size cap compile quickly since their bodies print bracketed, 91cbb70) is
    stopped at the deadline, and the error names the step's line."""
    import time

    from gradgraph.lesson import values

    def endless(*args: object) -> float:
        time.sleep(60)
        return 0.0

    monkeypatch.setattr(values, "DEADLINE", 0.5)
    monkeypatch.setattr(values, "_node_value", endless)  # the forked child inherits it
    graph = json.dumps("\n".join([*NESTED_OPS.splitlines()[:4], "C = f3(w)"]))
    path = write_lesson(tmp_path, "nested.toml", MINIMAL + f"[graphs.g]\ntext = {graph}\n"
                        '[[steps]]\nkind = "exercise"\nid = "v"\nprompt = "p"\n'
                        'value = "C"\nvalues = { w = 0.5 }\n')
    with pytest.raises(LessonError, match="cannot be evaluated at these values: computing C "
                       r"at these values took too long \(more than 0.5 s\)") as info:
        load_lesson(path)
    assert "line 10: step 1 (exercise)" in str(info.value)  # the values key


def test_a_typed_number_whose_user_ops_would_explode_is_refused_unevaluated() -> None:
    import sympy as sp

    from gradgraph.graph import Graph
    from gradgraph.lesson.values import real_value

    f11 = Graph.from_text(NESTED_OPS + "\nC = f11(w)").user_ops["f11"]
    number: sp.Expr = sp.Rational(1, 2)
    for _ in range(40):  # built directly: the parser refuses it on its own
        number = f11.func(number)
    with pytest.raises(GradgraphError, match="would expand to .* operations"):
        real_value(number)
    assert real_value(f11.func(sp.Rational(1, 2))) == 0.0


def test_a_partial_of_a_node_that_does_not_depend_on_it_is_zero(tmp_path: Path) -> None:
    # Was a KeyError from the adjoints (a traceback at load), now ∂z/∂q = 0.
    path = write_lesson(tmp_path, "zero.toml", MINIMAL + '[graphs.g]\ntext = "z = w*x; '
                        'u = 3*q; C = z + u"\n[[steps]]\nkind = "exercise"\nid = "v"\n'
                        'prompt = "p"\nvalue = "dz/dq"\nvalues = { w = 1, x = 2, q = 1 }\n')
    lesson = load_lesson(path)
    assert expected_number(lesson, _ex(lesson, "v")) == 0.0
