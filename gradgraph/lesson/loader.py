"""Lesson files -> :class:`~gradgraph.lesson.model.Lesson`, checked key by key.

Everything a lesson names is validated here, once, with the file and line in the
message: unknown keys (with a did-you-mean), graphs that do not parse, nodes that are
not in the graph, optimizers that do not exist, asset paths outside the lesson folder.
The runner can then trust what it reads. Nothing in a lesson file is ever executed:
graphs and answers go through gradgraph's own safe parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import GradgraphError
from ..graph import Graph
from ..parse import parse_name
from . import model as m
from .step_reader import ID, StepReader
from .toml_source import (
    MAX_ASSET_BYTES,
    MAX_LESSON_BYTES,
    KeyLines,
    parse_toml,
    read_capped,
    split_stem,
)
from .values import node_values

MAX_STEPS = 200
MAX_GRAPHS = 20
MAX_VALUES = 200
ASSET_SUFFIXES = (".gg", ".txt")

TOP = ("title", "summary", "slides", "requires", "reveal_after", "graphs", "values", "steps")
REVEAL_AFTER = 3  # wrong tries before a lesson shows the right form of a wrong factor


def load_lesson(path: str | Path) -> m.Lesson:
    """Read, parse and validate one lesson file; :class:`LessonError` on any problem."""
    path = Path(path)
    text = read_capped(path, MAX_LESSON_BYTES)
    data = parse_toml(text, path)
    return _Loader(path, text, data).lesson()


class _Loader(StepReader):
    """The document, its graphs and value sets (the steps: :class:`StepReader`)."""

    def __init__(self, path: Path, text: str, data: dict[str, Any]):
        super().__init__(path, KeyLines(text))
        self.folder = path.parent
        self.data = data
        # Where each value set's names are written: set -> canonical name -> (table, key).
        self.value_keys: dict[str, dict[str, tuple[tuple[Any, ...], str]]] = {}

    # --- the document -------------------------------------------------------------------

    def lesson(self) -> m.Lesson:
        d = self.data
        self.unknown_keys((), d, TOP, "the lesson")
        number, name = split_stem(self.path.stem)
        title = self.string(d, "title", (), limit=200)
        summary = self.string(d, "summary", (), limit=1000)
        slides = self.string(d, "slides", (), default="", limit=1000)
        requires = self.strings(d, "requires", ())
        reveal_after = self.integer(d, "reveal_after", (), REVEAL_AFTER, 1, 100)
        self.load_graphs(d.get("graphs", {}))
        self.load_value_sets(d.get("values", {}))
        raw_steps = d.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise self.fail((), "steps", "a lesson needs at least one [[steps]] table")
        if len(raw_steps) > MAX_STEPS:
            raise self.fail((), "steps", f"more than {MAX_STEPS} steps")
        steps = tuple(self.step(i, s) for i, s in enumerate(raw_steps))
        ids = [s.id for s in steps if isinstance(s, m.ExerciseStep)]
        dup = next((i for i in ids if ids.count(i) > 1), None)
        if dup:
            raise self.fail((), None, f"two exercises have the id '{dup}'")
        self.check_values(steps)
        return m.Lesson(name, number, title, summary, self.path, slides, requires,
                        dict(self.graphs), dict(self.values), steps, reveal_after)

    def load_graphs(self, raw: Any) -> None:
        if not isinstance(raw, Mapping):
            raise self.fail((), "graphs", "'graphs' must be a table of [graphs.NAME] tables")
        if len(raw) > MAX_GRAPHS:
            raise self.fail((), "graphs", f"more than {MAX_GRAPHS} graphs")
        for name, spec in raw.items():
            table = ("graphs", name)
            if not ID.match(name):
                raise self.fail(table, None, f"graph name '{name}' must be lower-case letters, "
                                "digits, '-' or '_'")
            if not isinstance(spec, Mapping):
                raise self.fail(table, None, f"graphs.{name} must be a table")
            self.unknown_keys(table, spec, ("text", "file", "params", "cost"), f"graph '{name}'")
            if ("text" in spec) == ("file" in spec):
                raise self.fail(table, None, f"graph '{name}' needs exactly one of "
                                "'text' or 'file'")
            if "file" in spec:
                asset = self.asset(self.string(spec, "file", table, limit=300), table)
                text = read_capped(asset, MAX_ASSET_BYTES, "graph file")
                source = asset.relative_to(self.folder.resolve()).as_posix()
            else:
                text, source = self.string(spec, "text", table), "inline"
            params = self.opt_string(spec, "params", table)
            cost = self.opt_string(spec, "cost", table)
            try:
                graph = Graph.from_text(text, params=params, cost=cost)
            except GradgraphError as e:
                key = "file" if "file" in spec else "text"
                raise self.fail(table, key, f"graph '{name}' ({source}): {e}") from None
            self.graphs[name] = m.GraphSpec(name, text, graph, source)

    def asset(self, rel: str, table: tuple[Any, ...]) -> Path:
        """The asset path inside the lesson folder; anything else is refused."""
        root = self.folder.resolve()
        candidate = Path(rel)
        if candidate.is_absolute() or not rel.strip():
            raise self.fail(table, "file", f"path '{rel}' is outside the lesson folder "
                            "(use a path relative to the lesson file)")
        full = (root / candidate).resolve()
        if not full.is_relative_to(root):
            raise self.fail(table, "file", f"path '{rel}' is outside the lesson folder")
        if full.suffix not in ASSET_SUFFIXES:
            raise self.fail(table, "file", f"'{rel}': graph files end in "
                            f"{' or '.join(ASSET_SUFFIXES)}")
        if not full.exists():  # a folder, FIFO or device is refused by read_capped
            raise self.fail(table, "file", f"no such file '{rel}' in the lesson folder")
        return full

    def load_value_sets(self, raw: Any) -> None:
        if not isinstance(raw, Mapping):
            raise self.fail((), "values", "'values' must be a table of [values.NAME] tables")
        for name, table_values in raw.items():
            table = ("values", name)
            if not ID.match(name):
                raise self.fail(table, None, f"value set name '{name}' must be lower-case")
            self.values[name] = self.value_set(name, table_values, table)

    def value_set(self, name: str, raw: Any, table: tuple[Any, ...],
                  key_of_inline: str | None = None) -> dict[str, float]:
        """One value set; ``key_of_inline`` is the step key an inline table sits on."""
        if not isinstance(raw, Mapping):
            raise self.fail(table, key_of_inline, "a value set must be a table of "
                            "NAME = NUMBER")
        if len(raw) > MAX_VALUES:
            raise self.fail(table, key_of_inline, f"more than {MAX_VALUES} values")
        out: dict[str, float] = {}
        keys = self.value_keys.setdefault(name, {})
        for key, value in raw.items():
            line_key = key_of_inline or key
            try:
                node = parse_name(key)
            except GradgraphError:
                raise self.fail(table, line_key, f"'{key}' is not a node name") from None
            out[node] = self.number(value, table, line_key)
            keys[node] = (table, line_key)
        return out

    def check_values(self, steps: tuple[m.Step, ...]) -> None:
        """Every value set against the graphs it is used with, so that a misspelt name
        (``w`` for ``w^(L)``) or a missing leaf is the author's error at load time, not
        a learner's at the exercise."""
        named: set[tuple[str, str]] = set()
        evaluated: dict[tuple[str, str, str | None], int] = {}  # compiling is slow
        for i, step in enumerate(steps):
            graph, values = getattr(step, "graph", None), getattr(step, "values", None)
            if graph is None or values is None:
                continue
            if (graph, values) not in named:
                self.value_names(values, (graph,))
                named.add((graph, values))
            target = self.value_target(step, graph)
            evaluated.setdefault((graph, values, target), i)
        used = {values for _, values in named}
        for name in self.values:
            if name not in used and self.graphs:  # not used yet: some graph must fit
                self.value_names(name, tuple(self.graphs))
        self.evaluate_at(steps, evaluated)

    def value_names(self, name: str, graphs: tuple[str, ...]) -> None:
        """Each name of value set ``name`` must be a node of one of ``graphs``."""
        what = "this step's values" if name.startswith("@") else f"value set '{name}'"
        for node, (table, key) in self.value_keys.get(name, {}).items():
            errors = [e for e in (self.unknown_node(g, node) for g in graphs) if e]
            if len(errors) == len(graphs):
                where = f"graph '{graphs[0]}'" if len(graphs) == 1 else "any graph"
                raise self.fail(table, key, f"{what} ({where}): {errors[0]}")

    def unknown_node(self, graph: str, name: str) -> str:
        """Why ``name`` is not a node of ``graph`` (with a did-you-mean), or ``""``."""
        try:
            self.graphs[graph].graph.resolve(name)
        except GradgraphError as e:
            return str(e)
        return ""

    def value_target(self, step: m.Step, graph: str) -> str | None:
        """What a step computes at its values: an exercise's value, the partials a
        derive step or a diagram shows (``dC/dw``), else None (the graph's cost)."""
        if isinstance(step, m.ExerciseStep):
            return step.value
        g = self.graphs[graph].graph
        if isinstance(step, m.DeriveStep | m.DiagramStep) and (step.wrt or g.leaves):
            return f"d{step.of or g.cost}/d{step.wrt or g.leaves[0]}"
        return None

    def evaluate_at(self, steps: tuple[m.Step, ...],
                    jobs: Mapping[tuple[str, str, str | None], int]) -> None:
        """Each graph must evaluate at its values (every leaf given), and a number
        exercise's target must be computable: it is what learners are graded on."""
        graphs = [self.graphs[graph].graph for graph, _, _ in jobs]
        found = node_values([(g, target or g.cost, self.values[values])
                             for g, (_, values, target) in zip(graphs, jobs, strict=True)])
        for ((graph, _, _), i), value in zip(jobs.items(), found, strict=True):
            if isinstance(value, str):
                raise self.fail(("steps", i), "values", f"step {i + 1} ({steps[i].kind}): "
                                f"graph '{graph}' cannot be evaluated at these values: "
                                f"{value}")
