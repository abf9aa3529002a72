"""A class report: per question the counts of each misconception code, the diagram with
the edges the class got wrong as a heatmap, and a CSV a learning platform imports.

``gradgraph check --answers class.toml --report out/`` writes, in ``out/``:

- ``grades.csv``: student, question, verdict, codes, score (1 for a right answer; a
  wrong one scores the share of the chain's factors it got right, extra factors
  counting against it; 0 otherwise);
- ``codes.csv`` and ``codes.txt``: per question, how many answers showed each code;
- ``heatmap-N.svg`` and ``heatmap-N.png``: question N's graph, each edge coloured by
  how many answers got its factor wrong (``heatmap-N.dot`` where Graphviz is missing).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GradgraphError, RenderError
from ..fileio import atomic_write_bytes, atomic_write_text, check_writable_folder
from ..graph import Graph
from ..notation import partial_unicode
from .codes import describe
from .heatmap import blamed_edges, heatmap
from .question import parse_question
from .result import CheckResult

Row = tuple[Mapping[str, Any], CheckResult | None]
SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class QuestionTally:
    question: str
    answers: int = 0
    verdicts: Counter = field(default_factory=Counter)
    codes: Counter = field(default_factory=Counter)
    edges: Counter = field(default_factory=Counter)  # (parent, child) -> wrong answers


def score(result: CheckResult | None) -> float:
    """1 right; a wrong answer's share of the chain's factors right (extra factors count
    against it); 0 for an answer without factors to credit, undecided or invalid."""
    if result is None or result.correct is None:
        return 0.0
    if result.correct:
        return 1.0
    chain = [f for f in result.factors if f.symbol]
    if not chain:
        return 0.0
    extra = sum(1 for f in result.factors if not f.symbol)
    return sum(f.ok for f in chain) / (len(chain) + extra)


def wrong_edges(result: CheckResult) -> list[tuple[str, str]]:
    """(parent, child) of each chain factor the answer got wrong: a factor written
    wrong, or left out. An answer that does not split into factors at all (a sum for a
    product) blames no edge in particular: its code says what went wrong."""
    d = result.expected
    if d is None or result.correct is not False:
        return []
    edges = {f.symbol_unicode: (f.parent, f.via or f.child) for fs in d.factors for f in fs}
    return list(dict.fromkeys(edges[f.symbol] for f in result.factors
                              if not f.ok and f.symbol in edges
                              and (f.yours is not None or f.note == "missing")))


def tally(rows: Sequence[Row], graph: Graph | None = None) -> dict[str, QuestionTally]:
    """Per question, in the order they first appear (an invalid answer's question as
    the verdicts write it, ∂C₀/∂w⁽ᴸ⁾, where it can be read)."""
    out: dict[str, QuestionTally] = {}
    for row, result in rows:
        q = _question(row, result, graph)
        t = out.setdefault(q, QuestionTally(q))
        t.answers += 1
        t.verdicts[row["verdict"]] += 1
        t.codes.update(row.get("codes") or [])
        if result is not None:
            # With the graph, a slip on a sum of paths is blamed on its edge too.
            t.edges.update(blamed_edges(graph, result) if graph is not None
                           else wrong_edges(result))
    return out


def _question(row: Mapping[str, Any], result: CheckResult | None, graph: Graph | None
              ) -> str:
    q = row.get("question")
    if result is not None or not q or graph is None or graph.is_tensor:
        return str(q or "(no question)")
    try:
        return partial_unicode(*parse_question(graph, str(q)))
    except GradgraphError:  # the question itself cannot be read: its own row
        return str(q)


def write_report(folder: str | Path, graph: Graph, rows: Sequence[Row]) -> list[Path]:
    """Write the report's files in ``folder`` (created if need be); the paths written."""
    folder = check_writable_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tallies = tally(rows, graph)
    written = [_write(folder / "grades.csv", _grades_csv(rows)),
               _write(folder / "codes.csv", _codes_csv(tallies)),
               _write(folder / "codes.txt", _codes_text(tallies))]
    for n, t in enumerate(tallies.values(), start=1):
        written += _heatmaps(folder, n, graph, t)
    return written


def _write(path: Path, text: str) -> Path:
    atomic_write_text(path, text)
    return path


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula (a student called =HYPERLINK)."""
    text = str(value)
    return "'" + text if text.startswith(SPREADSHEET_FORMULA) else text


def _csv(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in r] for r in rows])
    return buf.getvalue()


def _grades_csv(rows: Sequence[Row]) -> str:
    return _csv(("student", "question", "verdict", "codes", "score"),
                [(r["student"], r.get("question") or "", r["verdict"],
                  " ".join(r.get("codes") or []), f"{score(res):.2f}") for r, res in rows])


def _codes_csv(tallies: Mapping[str, QuestionTally]) -> str:
    return _csv(("question", "code", "count", "answers", "description"),
                [(t.question, code, n, t.answers, describe(code))
                 for t in tallies.values() for code, n in t.codes.most_common()])


def _codes_text(tallies: Mapping[str, QuestionTally]) -> str:
    lines = []
    for n, t in enumerate(tallies.values(), start=1):
        verdicts = ", ".join(f"{k} {v}" for k, v in t.verdicts.most_common())
        lines += [f"Question {n}: {t.question}  ({t.answers} answers: {verdicts}; "
                  f"heatmap-{n}.svg)"]
        if not t.codes:
            lines += ["  no misconception codes", ""]
            continue
        width = max(len(c) for c in t.codes)
        lines += [f"  {n_:>3}  {code.ljust(width)}  {describe(code)}"
                  for code, n_ in t.codes.most_common()]
        lines.append("")
    return "\n".join(lines)


def _heatmaps(folder: Path, n: int, graph: Graph, t: QuestionTally) -> list[Path]:
    wrong = sum(v for k, v in t.verdicts.items() if k == "not equal")
    title = (f"{t.question}: edges the class got wrong ({wrong} of {t.answers} answers "
             "not equal)")
    picture = heatmap(graph, dict(t.edges), t.answers, title)
    out = []
    try:
        for fmt in ("svg", "png"):
            path = folder / f"heatmap-{n}.{fmt}"
            atomic_write_bytes(path, picture.pipe(fmt))
            out.append(path)
    except RenderError:  # no Graphviz, or past the layout caps: the DOT text instead
        out.append(_write(folder / f"heatmap-{n}.dot", picture.source))
    return out
