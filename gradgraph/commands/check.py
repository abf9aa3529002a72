"""``gradgraph check``: grade one hand derivation, or a class's worth from a TOML file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import CheckError, GradgraphError
from .common import CommandError, load_graph, read_text_file, run_safely

if TYPE_CHECKING:
    from ..check import Checker, CheckResult
    from ..graph import Graph

MAX_ANSWERS = 5_000
DEFAULT_WIDTH = 100  # the table's width when the terminal's is unknown (a pipe, say)
MIN_MESSAGE = 24  # the message column never gets narrower than this
TOP_KEYS = ("graph", "question", "limits", "answer")
ANSWER_KEYS = ("student", "question", "answer")


@click.command("check")
@click.argument("answer", required=False)
@click.option("--graph", "-g", "graph_text",
              help="The graph: text, or a .gg file (optional with --answers if the TOML "
                   "has a graph).")
@click.option("--question", "-q", help="Which derivative, e.g. dC/dw or 'dC0/dw^(L)' "
                                       "(not needed when ANSWER starts with 'dC/dw =').")
@click.option("--answers", "answers_file", type=str,
              help="Grade every answer in this TOML file (see below).")
@click.option("--reveal", is_flag=True, help="Also show the expected derivation.")
@click.option("--no-reveal", "no_reveal", is_flag=True,
              help="Guide, as a lesson does: name the wrong factor and the kind of slip, "
                   "show only the learner's own value, never the right form.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--report", "report_dir", type=str, metavar="DIR",
              help="With --answers: write a class report in DIR (grades.csv with partial "
                   "credit, codes.csv/codes.txt, heatmap-N.svg/png of the edges got wrong).")
@click.option("--limit", "limits", multiple=True, metavar="NAME=LOW:HIGH",
              help="Draw NAME's random test values from [LOW, HIGH], e.g. p=0.1:5.")
@click.option("--deadline", type=click.FloatRange(0.1, 600), default=3.0, show_default=True,
              help="Seconds one check may take before it counts as undecided.")
@click.option("--params", help="Names of the parameters, e.g. 'w b' (default: w, b, θ, γ, β).")
@run_safely
def check_command(answer: str | None, graph_text: str | None, question: str | None,
                  answers_file: str | None, reveal: bool, no_reveal: bool, as_json: bool,
                  report_dir: str | None, limits: tuple[str, ...], deadline: float,
                  params: str | None) -> None:
    """Check a hand derivation ANSWER against the graph's chain rule.

    \b
    Examples (from the repository's root, with its lessons/ files):
      gradgraph check --graph "z = w*x + b; a = sigma(z); C = (a - y)^2" \\
          "dC/dw = x*sigma'(z)*2*(a-y)"
      gradgraph check --graph lessons/graphs/chain.gg -q dC/dw \\
          "a^(L-1)*sigma'(z)*(a^(L)-y)" --reveal
      gradgraph check --graph lessons/graphs/layer.gg -q "dC_0/da_k^(L-1)" \\
          "sum_j W_jk^(L)*sigma'(z_j^(L))*2*(a_j^(L) - y_j)"
      gradgraph check --graph "C = t*log(p*q)" "dC/dt = log(p) + log(q)" \\
          --limit p=0.1:5 --limit q=0.1:5
      gradgraph check --answers lessons/answers/chain-class.toml --json
      gradgraph check --answers lessons/answers/chain-class.toml --report out/

    ANSWER may use named intermediates (z, a), leaves only, or both; σ′(z),
    σ(z)(1 − σ(z)) or a(1 − a); ^ or **; Unicode; implicit products (2x, 2(a − y)).

    \b
    Verdicts: correct; not equal; undecided (read, but the checker cannot tell:
    the message names the --limit ranges to give, or the --deadline ran out);
    invalid (a question or answer that cannot be read).
    Exit status for one ANSWER: 0 correct, 1 not equal or undecided,
    2 invalid (said on stderr; with --json the verdict is on stdout), or a
    graph or option that cannot be used.
    With --answers: 0 when the file was graded (whatever the verdicts), 2 when
    the file or graph cannot be used; an answer that cannot be read is reported
    as "invalid" on its row and the others are still graded.

    \b
    The --answers file (TOML):
      graph = "z = w*x + b; a = sigma(z); C = (a - y)^2"   # optional, if no --graph
      question = "dC/dw"          # optional default for every answer
      [limits]                    # optional test ranges, per leaf
      x = [0.1, 5.0]
      [[answer]]                  # one table per answer
      student = "ana"             # optional; default: its number
      question = "dC/dw"          # optional: else the default, or 'dC/dw =' in answer
      answer = "x*sigma'(z)*2*(a-y)"
    """
    from ..check import Checker
    from ..fileio import check_writable_folder

    if reveal and no_reveal:
        raise click.UsageError("give --reveal or --no-reveal, not both")
    if report_dir is not None and answers_file is None:
        raise click.UsageError("--report needs --answers FILE")
    if answers_file is not None:
        if answer is not None:
            raise click.UsageError("give ANSWER or --answers FILE, not both")
        if report_dir is not None:  # refused before a class's grading, not after it
            check_writable_folder(report_dir)
        _grade_file(answers_file, graph_text, question, limits, deadline, params, as_json,
                    reveal, no_reveal, report_dir)
        return
    if answer is None:
        raise click.UsageError("give the ANSWER to check (or --answers FILE)")
    if graph_text is None:
        raise click.UsageError("give the graph with --graph TEXT or --graph FILE.gg")
    checker = Checker(_graph(graph_text, params), limits=_limits(limits), deadline=deadline)
    try:
        result = checker.check(question, answer).for_cli()
    except CheckError as e:  # input that cannot be read: an error, on stderr
        _print_invalid(str(e), question, answer, as_json)
        click.get_current_context().exit(2)
    _print_one(result, as_json, reveal, no_reveal)
    click.get_current_context().exit(0 if result.correct else 1)


def _graph(text: str, params: str | None) -> Graph:
    """The --graph argument: graph text, or a file when it looks like a path (a
    missing one is said to be missing, not parsed as graph text)."""
    if _looks_like_path(text):
        return load_graph(None, text, params)
    return load_graph(text, None, params)


def _looks_like_path(text: str) -> bool:
    """``chain.gg``, ``lessons/graphs/``, an existing file: never graph text, which
    defines something with '=' (and ``C = a/b`` has a '/' too)."""
    if "\n" in text or ";" in text:
        return False
    if text.endswith(".gg") or _exists(text):
        return True
    return "=" not in text and ("/" in text or "\\" in text)


def _exists(text: str) -> bool:
    try:
        return Path(text).exists()
    except (OSError, ValueError):  # a name too long, a NUL: not a path
        return False


def _print_invalid(message: str, question: str | None, answer: str | None,
                   as_json: bool) -> None:
    """One line on stderr, like every other error ("! invalid: …"); with --json the
    verdict object on stdout, where a script reads every verdict."""
    from ..check import invalid_dict

    data = invalid_dict(message, question, answer)
    if as_json:
        click.echo(_dumps(data))
    else:
        click.echo(data["message"], err=True)


def _print_one(result: CheckResult, as_json: bool, reveal: bool, no_reveal: bool = False
               ) -> None:
    from ..check import guided

    data = guided(result.to_dict()) if no_reveal else result.to_dict(reveal)
    if as_json:
        click.echo(_dumps(data))
        return
    click.echo(data["message"])
    if reveal:
        click.echo(_revealed(result))


def _revealed(result: CheckResult) -> str:
    texts = _reveal_texts(result)
    if result.expected is None:
        return f"expected: {result.question} = 0"
    pad = " " * len("expected: ")
    note = texts["note"]
    return (f"expected: {texts['text']}".replace("\n", "\n" + pad)
            + f"\n{pad}{' ' * len(result.question)} = {texts['expanded']}"
            + (f"  {note}" if note else ""))


def _revealed_factors(result: CheckResult) -> str:
    """The expected derivative in one line, as its chain's factors (a table's row)."""
    if result.expected is None:
        return f"expected: {result.question} = 0"
    return f"expected: {result.question} = {_reveal_texts(result)['factors']}"


def _reveal_texts(result: CheckResult) -> Mapping[str, str]:
    """The derivation's texts, as the checker's child wrote them under the deadline
    (the parent never prints an expanded form, which can be enormous)."""
    from ..check import named_sums_note

    if result.revealed is not None:
        return result.revealed
    d = result.expected
    if d is None:
        return {"text": "0", "factors": "0", "expanded": "0", "note": ""}
    return {"text": str(d), "factors": d.factors_unicode(),
            "expanded": d.expanded_unicode(), "note": named_sums_note(d)}


def _limits(specs: tuple[str, ...] | Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """``p=0.1:5`` (CLI) or ``{p = [0.1, 5]}`` (TOML) -> {"p": (0.1, 5.0)}."""
    if isinstance(specs, Mapping):
        return {str(k): _bounds(str(k), v) for k, v in specs.items()}
    out = {}
    for spec in specs:
        name, sep, rng = spec.partition("=")
        low, colon, high = rng.partition(":")
        if not (sep and colon):
            raise CommandError(f"--limit '{spec}' is not NAME=LOW:HIGH")
        out[name.strip()] = _bounds(name, [low, high])
    return out


def _bounds(name: str, value: Any) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise CommandError(f"the limits of '{name}' are not two numbers") from None
    return low, high


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False)


# --- batch grading -------------------------------------------------------------------


def _grade_file(path: str, graph_text: str | None, question: str | None,
                limits: tuple[str, ...], deadline: float, params: str | None,
                as_json: bool, reveal: bool, no_reveal: bool = False,
                report_dir: str | None = None) -> None:
    from ..check import Checker, guided
    from ..check.report import write_report

    data = _read_toml(path)
    graph = _batch_graph(data, graph_text, params)
    merged = {**_limits(_table(data, "limits")), **_limits(limits)}
    checker = Checker(graph, limits=merged, deadline=deadline)
    default_q = question if question is not None else data.get("question")
    if default_q is not None and not isinstance(default_q, str):
        raise CommandError("'question' in the answers file must be a string")
    rows = [_grade_row(checker, i, entry, default_q)
            for i, entry in enumerate(_entries(data), start=1)]
    if report_dir is not None:
        written = write_report(report_dir, graph, rows)
        click.echo(f"report: {len(written)} files written to {report_dir}", err=True)
    if no_reveal:
        rows = [(guided(r), result) for r, result in rows]
    if as_json:
        click.echo(_dumps({"results": [r for r, _ in rows], "summary": _summary(rows)}))
        return
    click.echo(_table_text(rows, reveal))


def _read_toml(path: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ModuleNotFoundError:
            raise CommandError("reading answers files needs Python 3.11+ or 'pip install "
                               "tomli'") from None
    text = read_text_file(path, "answers file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CommandError(f"answers file '{path}' is not valid TOML: {e}") from None
    except RecursionError:  # deeply nested arrays (CPython #108851)
        raise CommandError(f"answers file '{path}' is nested too deeply") from None
    unknown = [k for k in data if k not in TOP_KEYS]
    if unknown:
        raise CommandError(f"answers file: unknown key '{unknown[0]}' "
                           f"(expected: {', '.join(TOP_KEYS)})")
    return data


def _batch_graph(data: Mapping[str, Any], graph_text: str | None, params: str | None) -> Graph:
    text = graph_text if graph_text is not None else data.get("graph")
    if text is None:
        raise CommandError("give the graph with --graph, or as 'graph = \"…\"' in the file")
    if not isinstance(text, str):
        raise CommandError("'graph' in the answers file must be a string")
    if graph_text is not None:
        return _graph(graph_text, params)
    return load_graph(text, None, params)


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise CommandError(f"'{key}' in the answers file must be a table")
    return value


def _entries(data: Mapping[str, Any]) -> list[Any]:
    entries = data.get("answer", [])
    if not isinstance(entries, list):
        raise CommandError("write each answer as an [[answer]] table")
    if len(entries) > MAX_ANSWERS:
        raise CommandError(f"too many answers ({len(entries)}; the limit is {MAX_ANSWERS})")
    return entries


def _grade_row(checker: Checker, number: int, entry: Any, default_q: str | None
               ) -> tuple[dict[str, Any], CheckResult | None]:
    """One row of the report; a malformed entry becomes an "invalid" row."""
    fields = entry if isinstance(entry, Mapping) else {}
    student = fields.get("student", f"#{number}")
    asked = fields.get("question", default_q)
    row: dict[str, Any] = {"student": str(student),
                           "question": asked if isinstance(asked, str) else None}
    answer = fields.get("answer")
    try:
        question, answer = _entry_fields(entry, default_q)
        result = checker.check(question, answer).for_cli()
    except GradgraphError as e:
        return _invalid_row(row, str(e), answer), None
    except RecursionError:
        return _invalid_row(row, "the answer is nested too deeply", answer), None
    row["question"] = result.question
    return {**row, **result.to_dict(reveal=False)}, result


def _invalid_row(row: dict[str, Any], message: str, answer: Any) -> dict[str, Any]:
    from ..check import invalid_dict

    shown = answer if isinstance(answer, str) else None
    return {**row, **invalid_dict(message, row["question"], shown)}


def _entry_fields(entry: Any, default_q: str | None) -> tuple[str | None, str]:
    if not isinstance(entry, Mapping):
        raise CheckError("an [[answer]] entry must be a table")
    unknown = [k for k in entry if k not in ANSWER_KEYS]
    if unknown:
        raise CheckError(f"unknown key '{unknown[0]}' (expected: {', '.join(ANSWER_KEYS)})")
    answer = entry.get("answer")
    question = entry.get("question", default_q)
    if not isinstance(answer, str):
        raise CheckError("no 'answer' string in this entry")
    if question is not None and not isinstance(question, str):
        raise CheckError("'question' must be a string")
    return question, answer


def _summary(rows: list[tuple[dict[str, Any], CheckResult | None]]) -> dict[str, int]:
    from ..check import VERDICTS

    counts = dict.fromkeys(VERDICTS, 0)
    for row, _ in rows:
        counts[row["verdict"]] += 1
    return {"total": len(rows), **counts}


def _table_text(rows: list[tuple[dict[str, Any], CheckResult | None]], reveal: bool) -> str:
    """One line a row, the message cut to the terminal's width (--json has it whole)."""
    head = ("student", "question", "verdict", "message")
    cells = [(r["student"], r["question"] or "", r["verdict"],
              " ".join(r["message"].split("\n"))) for r, _ in rows]
    widths = [max([len(head[i]), *(len(c[i]) for c in cells)]) for i in range(3)]
    indent = sum(widths) + 6
    room = max(MIN_MESSAGE, _terminal_width() - indent)
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, [*widths, 0], strict=True)).rstrip()]
    for c, (_, result) in zip(cells, rows, strict=True):
        lines.append("  ".join([*(c[i].ljust(widths[i]) for i in range(3)),
                                _cut(c[3], room)]))
        if reveal and result is not None and not result.correct:
            lines.append(" " * indent + _cut(_revealed_factors(result), room))
    s = _summary(rows)
    lines.append(f"{s['total']} answers: {s['correct']} correct, {s['not equal']} not equal, "
                 f"{s['undecided']} undecided, {s['invalid']} invalid")
    return "\n".join(lines)


def _terminal_width() -> int:
    """The terminal's columns ($COLUMNS first), or DEFAULT_WIDTH when unknown."""
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns or DEFAULT_WIDTH


def _cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, ending in "…" when cut."""
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"
