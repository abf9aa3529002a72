"""``gradgraph check``: grade one hand derivation, or a class's worth from a TOML file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click

from ..check import Checker, CheckResult
from ..errors import CheckError, GradgraphError
from ..graph import Graph
from .common import CommandError, load_graph, read_text_file, run_safely

MAX_ANSWERS = 5_000
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
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.option("--limit", "limits", multiple=True, metavar="NAME=LOW:HIGH",
              help="Draw NAME's random test values from [LOW, HIGH], e.g. p=0.1:5.")
@click.option("--deadline", type=click.FloatRange(0.1, 600), default=3.0, show_default=True,
              help="Seconds one check may take before it counts as undecided.")
@click.option("--params", help="Names of the parameters, e.g. 'w b' (default: w, b, θ, γ, β).")
@run_safely
def check_command(answer: str | None, graph_text: str | None, question: str | None,
                  answers_file: str | None, reveal: bool, as_json: bool,
                  limits: tuple[str, ...], deadline: float, params: str | None) -> None:
    """Check a hand derivation ANSWER against the graph's chain rule.

    \b
    Examples:
      gradgraph check --graph "z = w*x + b; a = sigma(z); C = (a - y)^2" \\
          "dC/dw = x*sigma'(z)*2*(a-y)"
      gradgraph check --graph chain.gg -q dC/dw "x*sigma'(z)*(a-y)" --reveal
      gradgraph check --graph chain.gg --answers answers.toml --json

    ANSWER may use named intermediates (z, a), leaves only, or both; σ′(z),
    σ(z)(1 − σ(z)) or a(1 − a); ^ or **; Unicode; implicit products (2x, 2(a − y)).

    \b
    Exit status for one ANSWER: 0 correct, 1 not equal or undecided,
    2 bad input (graph, question or answer that cannot be read).
    With --answers: 0 when the file was graded (whatever the verdicts), 2 when
    the file or graph cannot be used; a malformed answer is reported as
    "invalid" on its row and the others are still graded.

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
    if answers_file is not None:
        if answer is not None:
            raise click.UsageError("give ANSWER or --answers FILE, not both")
        _grade_file(answers_file, graph_text, question, limits, deadline, params, as_json,
                    reveal)
        return
    if answer is None:
        raise click.UsageError("give the ANSWER to check (or --answers FILE)")
    if graph_text is None:
        raise click.UsageError("give the graph with --graph TEXT or --graph FILE.gg")
    checker = Checker(load_graph(graph_text, None, params), limits=_limits(limits),
                      deadline=deadline)
    result = checker.check(question, answer)
    _print_one(result, as_json, reveal)
    click.get_current_context().exit(0 if result.correct else 1)


def _print_one(result: CheckResult, as_json: bool, reveal: bool) -> None:
    if as_json:
        click.echo(_dumps(result.to_dict(reveal)))
        return
    click.echo(result.message)
    if reveal:
        click.echo(_revealed(result))


def _revealed(result: CheckResult) -> str:
    d = result.expected
    if d is None:
        return f"expected: {result.question} = 0"
    pad = " " * len("expected: ")
    return (f"expected: {d}".replace("\n", "\n" + pad)
            + f"\n{pad}{' ' * len(result.question)} = {d.expanded_unicode()}")


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
                as_json: bool, reveal: bool) -> None:
    data = _read_toml(path)
    graph = _batch_graph(data, graph_text, params)
    merged = {**_limits(_table(data, "limits")), **_limits(limits)}
    checker = Checker(graph, limits=merged, deadline=deadline)
    default_q = question if question is not None else data.get("question")
    if default_q is not None and not isinstance(default_q, str):
        raise CommandError("'question' in the answers file must be a string")
    rows = [_grade_row(checker, i, entry, default_q)
            for i, entry in enumerate(_entries(data), start=1)]
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
    try:
        question, answer = _entry_fields(entry, default_q)
        result = checker.check(question, answer)
    except GradgraphError as e:
        return {**row, "verdict": "invalid", "correct": None, "message": str(e)}, None
    except RecursionError:
        return {**row, "verdict": "invalid", "correct": None,
                "message": "the answer is nested too deeply"}, None
    row["question"] = result.question
    return {**row, **result.to_dict(reveal=False)}, result


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
    counts = {"correct": 0, "not equal": 0, "undecided": 0, "invalid": 0}
    for row, _ in rows:
        counts[row["verdict"]] += 1
    return {"total": len(rows), **counts}


def _table_text(rows: list[tuple[dict[str, Any], CheckResult | None]], reveal: bool) -> str:
    head = ("student", "question", "verdict", "message")
    cells = [(r["student"], r["question"] or "", r["verdict"],
              " ".join(r["message"].split("\n"))) for r, _ in rows]
    widths = [max([len(head[i]), *(len(c[i]) for c in cells)]) for i in range(3)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, [*widths, 0], strict=True)).rstrip()]
    for c, (_, result) in zip(cells, rows, strict=True):
        lines.append("  ".join([*(c[i].ljust(widths[i]) for i in range(3)), c[3]]))
        if reveal and result is not None and not result.correct:
            lines.append(" " * (sum(widths) + 6) + _revealed(result).replace("\n", " "))
    s = _summary(rows)
    lines.append(f"{s['total']} answers: {s['correct']} correct, {s['not equal']} not equal, "
                 f"{s['undecided']} undecided, {s['invalid']} invalid")
    return "\n".join(lines)
