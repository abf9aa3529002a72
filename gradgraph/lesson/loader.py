"""Lesson files -> :class:`~gradgraph.lesson.model.Lesson`, checked key by key.

Everything a lesson names is validated here, once, with the file and line in the
message: unknown keys (with a did-you-mean), graphs that do not parse, nodes that are
not in the graph, optimizers that do not exist, asset paths outside the lesson folder.
The runner can then trust what it reads. Nothing in a lesson file is ever executed:
graphs and answers go through gradgraph's own safe parser.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import optim
from ..check.question import MAX_QUESTION, parse_question
from ..errors import GradgraphError, LessonError
from ..experiments import EXPERIMENTS as experiment_registry
from ..graph import Graph
from ..parse import parse_expression, parse_name
from . import model as m
from .fields import Fields, did_you_mean
from .toml_source import (
    MAX_ASSET_BYTES,
    MAX_LESSON_BYTES,
    KeyLines,
    parse_toml,
    read_capped,
    scalar_table,
    split_stem,
)
from .values import node_values

MAX_STEPS = 200
MAX_GRAPHS = 20
MAX_VALUES = 200
ASSET_SUFFIXES = (".gg", ".txt")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")

SHOW_FORMS = ("chain", "cached", "expanded", "all", "matrix", "value")
VIEWS = ("graph", "network")
RENDER_SHOW = ("names", "defs", "values", "grads", "partials")
LAYERS = ("Dense", "Activation", "Dropout", "BatchNormalization")
EXPERIMENTS = tuple(experiment_registry)  # the one registry's command-line names
SCHEDULES: dict[str, type[optim.Schedule]] = {
    "constant": optim.Constant, "step": optim.StepDecay, "exponential": optim.Exponential,
    "inverse-time": optim.InverseTime, "linear": optim.LinearToFloor, "cosine": optim.Cosine,
}  # fmt: skip

COMMON = ("kind", "title", "text")
KEYS: dict[str, tuple[str, ...]] = {
    "text": (),
    "graph": ("graph", "values"),
    "derive": ("graph", "wrt", "of", "forms", "values"),
    "diagram": ("graph", "wrt", "of", "values", "view", "steps", "show", "caption"),
    "exercise": ("id", "prompt", "graph", "question", "value", "values", "choices", "answer",
                 "tolerance", "limits", "hints", "explain"),
    "equations": ("optimizer", "options", "schedule", "label", "slides", "erratum"),
    "train": ("model", "optimizer", "loss", "metrics", "epochs", "batch_size", "data",
              "command"),
    "experiment": ("name", "options", "command"),
}
TOP = ("title", "summary", "slides", "requires", "reveal_after", "graphs", "values", "steps")
REVEAL_AFTER = 3  # wrong tries before a lesson shows the right form of a wrong factor


def load_lesson(path: str | Path) -> m.Lesson:
    """Read, parse and validate one lesson file; :class:`LessonError` on any problem."""
    path = Path(path)
    text = read_capped(path, MAX_LESSON_BYTES)
    data = parse_toml(text, path)
    return _Loader(path, text, data).lesson()


class _Loader(Fields):
    def __init__(self, path: Path, text: str, data: dict[str, Any]):
        super().__init__(path, KeyLines(text))
        self.folder = path.parent
        self.data = data
        self.graphs: dict[str, m.GraphSpec] = {}
        self.values: dict[str, dict[str, float]] = {}
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
            if not _ID.match(name):
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
            if not _ID.match(name):
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
            target = step.value if isinstance(step, m.ExerciseStep) else None
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

    # --- steps --------------------------------------------------------------------------

    def step(self, i: int, raw: Any) -> m.Step:
        table = ("steps", i)
        if not isinstance(raw, Mapping):
            raise self.fail(table, None, f"step {i + 1} must be a table")
        kind = raw.get("kind")
        if kind not in KEYS:
            hint = did_you_mean(str(kind), list(KEYS))
            what = f"unknown step kind '{kind}'" if kind else "missing 'kind'"
            raise self.fail(table, "kind", f"step {i + 1}: {what} (one of "
                            f"{', '.join(KEYS)}){hint}")
        self.unknown_keys(table, raw, COMMON + KEYS[kind], f"step {i + 1} ({kind})")
        base = {
            "kind": kind,
            "title": self.string(raw, "title", table, default="", limit=200),
            "text": self.string(raw, "text", table, default="" if kind != "text" else None),
            "where": self.where(table, "kind"),
        }
        try:
            return getattr(self, f"step_{kind}")(raw, table, base)
        except LessonError:
            raise
        except GradgraphError as e:  # a node, optimizer or schedule the core refuses
            raise self.fail(table, None, f"step {i + 1} ({kind}): {e}") from None

    def graph_ref(self, raw: Mapping[str, Any], table: tuple[Any, ...],
                  required: bool = True) -> str | None:
        if "graph" in raw:
            name = self.string(raw, "graph", table)
            if name not in self.graphs:
                known = ", ".join(self.graphs) or "none"
                raise self.fail(table, "graph", f"no graph named '{name}' (graphs: {known})")
            return name
        if self.graphs:  # the first graph of the file is the default
            return next(iter(self.graphs))
        if required:
            raise self.fail(table, None, "this step needs a graph; add a [graphs.NAME] table")
        return None

    def values_ref(self, raw: Mapping[str, Any], table: tuple[Any, ...]) -> str | None:
        if "values" not in raw:
            return None
        value = raw["values"]
        if isinstance(value, str):
            if value not in self.values:
                raise self.fail(table, "values", f"no value set named '{value}'")
            return value
        key = f"@step{table[1] + 1}"  # an inline table becomes an anonymous value set
        self.values[key] = self.value_set(key, value, table, key_of_inline="values")
        return key

    def node(self, graph: str, name: str | None, table: tuple[Any, ...] = (),
             key: str | None = None) -> str | None:
        """The canonical node name; an error at ``key``'s line (with a did-you-mean)."""
        if name is None:
            return None
        try:
            return self.graphs[graph].graph.resolve(name)
        except GradgraphError as e:
            what = f"'{key}'" if key else "a name"
            raise self.fail(table, key, f"{what} of step {table[1] + 1} "
                            f"(graph '{graph}'): {e}") from None

    def step_text(self, raw: Mapping[str, Any], table: tuple[Any, ...],
                  base: dict[str, Any]) -> m.Step:
        return m.TextStep(**base)

    def step_graph(self, raw: Mapping[str, Any], table: tuple[Any, ...],
                   base: dict[str, Any]) -> m.Step:
        return m.GraphStep(**base, graph=self.graph_ref(raw, table),
                           values=self.values_ref(raw, table))

    def step_derive(self, raw: Mapping[str, Any], table: tuple[Any, ...],
                    base: dict[str, Any]) -> m.Step:
        graph = self.graph_ref(raw, table)
        wrt = self.node(graph, self.string(raw, "wrt", table), table, "wrt")
        of = self.node(graph, self.opt_string(raw, "of", table), table, "of")
        forms = self.strings(raw, "forms", table, SHOW_FORMS) or ("chain",)
        values = self.values_ref(raw, table)
        if "value" in forms and values is None:
            raise self.fail(table, "forms", "form 'value' needs values = …")
        return m.DeriveStep(**base, graph=graph, wrt=wrt, of=of, forms=forms, values=values)

    def step_diagram(self, raw: Mapping[str, Any], table: tuple[Any, ...],
                     base: dict[str, Any]) -> m.Step:
        graph = self.graph_ref(raw, table)
        view = self.string(raw, "view", table, default="graph")
        if view not in VIEWS:
            raise self.fail(table, "view", f"view must be one of {', '.join(VIEWS)}")
        show = self.strings(raw, "show", table, RENDER_SHOW) if "show" in raw else None
        return m.DiagramStep(
            **base, graph=graph,
            wrt=self.node(graph, self.opt_string(raw, "wrt", table), table, "wrt"),
            of=self.node(graph, self.opt_string(raw, "of", table), table, "of"),
            values=self.values_ref(raw, table), view=view,
            steps=self.boolean(raw, "steps", table), show=show,
            caption=self.string(raw, "caption", table, default="", limit=500),
        )

    def step_exercise(self, raw: Mapping[str, Any], table: tuple[Any, ...],
                      base: dict[str, Any]) -> m.Step:
        ex_id = self.string(raw, "id", table, limit=41)
        if not _ID.match(ex_id):
            raise self.fail(table, "id", f"exercise id '{ex_id}' must be lower-case letters, "
                            "digits, '-' or '_'")
        kinds = [k for k in ("question", "value", "choices") if k in raw]
        if len(kinds) != 1:
            raise self.fail(table, None, f"exercise '{ex_id}' needs exactly one of "
                            "'question' (a derivative), 'value' (a number) or 'choices'")
        common = {
            "id": ex_id,
            "prompt": self.string(raw, "prompt", table),
            "hints": self.strings(raw, "hints", table),
            "explain": self.string(raw, "explain", table, default=""),
        }
        return getattr(self, f"exercise_{kinds[0]}")(raw, table, base, common)

    def exercise_question(self, raw: Mapping[str, Any], table: tuple[Any, ...],
                          base: dict[str, Any], common: dict[str, Any]) -> m.Step:
        graph = self.graph_ref(raw, table)
        of, wrt = self.partial(raw, table, graph, "question")
        answer = self.string(raw, "answer", table, limit=2000)
        try:
            parse_expression(answer)
        except GradgraphError as e:
            raise self.fail(table, "answer", f"the expected answer does not parse: {e}") from None
        return m.ExerciseStep(**base, **common, check="derivative", answer=answer, graph=graph,
                              question=f"d{of}/d{wrt}", values=self.values_ref(raw, table),
                              limits=self.limits(raw, table, graph),
                              answer_where=self.where(table, "answer"))

    def partial(self, raw: Mapping[str, Any], table: tuple[Any, ...], graph: str,
                key: str) -> tuple[str, str]:
        """(of, wrt) of the derivative at ``key``, read as ``gradgraph check`` reads a
        question (one reader: :func:`gradgraph.check.question.parse_question`)."""
        text = self.string(raw, key, table, limit=MAX_QUESTION)
        try:
            return parse_question(self.graphs[graph].graph, text)
        except GradgraphError as e:
            raise self.fail(table, key, f"'{key}' of step {table[1] + 1} (graph '{graph}'): "
                            f"{e}") from None

    def limits(self, raw: Mapping[str, Any], table: tuple[Any, ...],
               graph: str) -> dict[str, tuple[float, float]]:
        """``limits = { epsilon = [0.001, 0.1] }``: ranges the checker samples leaves from."""
        value = raw.get("limits", {})
        if not isinstance(value, Mapping):
            raise self.fail(table, "limits", "'limits' must be a table of NAME = [LOW, HIGH]")
        out: dict[str, tuple[float, float]] = {}
        for key, pair in value.items():
            name = self.node(graph, key, table, "limits")
            if not (isinstance(pair, list) and len(pair) == 2):
                raise self.fail(table, "limits", f"limits.{key} must be [LOW, HIGH]")
            lo, hi = (self.number(x, table, "limits") for x in pair)
            if not lo < hi:
                raise self.fail(table, "limits", f"limits.{key}: LOW must be below HIGH")
            out[name] = (lo, hi)
        return out

    def exercise_value(self, raw: Mapping[str, Any], table: tuple[Any, ...],
                       base: dict[str, Any], common: dict[str, Any]) -> m.Step:
        graph = self.graph_ref(raw, table)
        text = self.string(raw, "value", table, limit=200)
        if "/" in text:
            value = "d{}/d{}".format(*self.partial(raw, table, graph, "value"))
        else:
            value = self.node(graph, text, table, "value")
        values = self.values_ref(raw, table)
        if values is None:
            raise self.fail(table, None, "a 'value' exercise needs values = …")
        if "answer" in raw:
            raise self.fail(table, "answer", "a 'value' exercise computes its answer from "
                            "the graph; remove 'answer'")
        tol = raw.get("tolerance")
        tolerance = None if tol is None else self.number(tol, table, "tolerance")
        return m.ExerciseStep(**base, **common, check="number", answer="", graph=graph,
                              value=value, values=values, tolerance=tolerance)

    def exercise_choices(self, raw: Mapping[str, Any], table: tuple[Any, ...],
                         base: dict[str, Any], common: dict[str, Any]) -> m.Step:
        choices = self.strings(raw, "choices", table)
        if len(choices) < 2:
            raise self.fail(table, "choices", "give at least two choices")
        answer = self.string(raw, "answer", table, limit=2).strip().lower()
        letters = "abcdefghijkl"[: len(choices)]
        if len(answer) != 1 or answer not in letters:
            raise self.fail(table, "answer", f"the answer must be a letter from a to "
                            f"{letters[-1]}")
        return m.ExerciseStep(**base, **common, check="choice", answer=answer, choices=choices)

    def step_equations(self, raw: Mapping[str, Any], table: tuple[Any, ...],
                       base: dict[str, Any]) -> m.Step:
        name = self.string(raw, "optimizer", table, limit=40)
        options = scalar_table(raw.get("options", {}), "options", self.where(table, "options"))
        schedule = None
        if "schedule" in raw:
            schedule = scalar_table(raw["schedule"], "schedule", self.where(table, "schedule"))
            if schedule.get("name") not in SCHEDULES:
                raise self.fail(table, "schedule", "schedule.name must be one of "
                                + ", ".join(SCHEDULES))
        step = m.EquationsStep(
            **base, optimizer=name, options=options, schedule=schedule,
            label=self.string(raw, "label", table, default="", limit=200),
            slides=self.strings(raw, "slides", table),
            erratum=self.string(raw, "erratum", table, default=""),
        )
        try:
            build_optimizer(step)
        except TypeError as e:  # a constructor argument the schedule does not take
            raise self.fail(table, "schedule", str(e)) from None
        return step

    def step_train(self, raw: Mapping[str, Any], table: tuple[Any, ...],
                   base: dict[str, Any]) -> m.Step:
        layers = raw.get("model")
        if not isinstance(layers, list) or not layers or len(layers) > 20:
            raise self.fail(table, "model", "'model' must be a list of 1 to 20 layer tables")
        where = self.where(table, "model")
        model = tuple(scalar_table(layer, "a layer", where) for layer in layers)
        for layer in model:
            kind = layer.get("layer")
            if kind not in LAYERS:
                what = f"unknown layer '{kind}'" if kind else "a layer without layer = …"
                raise self.fail(table, "model", f"{what} (one of {', '.join(LAYERS)})"
                                f"{did_you_mean(str(kind), LAYERS) if kind else ''}")
        opt = scalar_table(raw.get("optimizer", {"name": "sgd"}), "optimizer",
                           self.where(table, "optimizer"))
        optim.get(str(opt.get("name", "sgd")), **{k: v for k, v in opt.items() if k != "name"})
        data = self.string(raw, "data", table, default="digits")
        if data != "digits":
            raise self.fail(table, "data", "data must be \"digits\" (the deck's data set)")
        return m.TrainStep(
            **base, model=model, optimizer=opt,
            loss=self.string(raw, "loss", table, default="categorical_crossentropy"),
            metrics=self.strings(raw, "metrics", table) or ("accuracy",),
            epochs=self.integer(raw, "epochs", table, 1, 1, 1000),
            batch_size=self.integer(raw, "batch_size", table, 32, 1, 100_000),
            data=data, command=self.string(raw, "command", table, default="", limit=500),
        )

    def step_experiment(self, raw: Mapping[str, Any], table: tuple[Any, ...],
                        base: dict[str, Any]) -> m.Step:
        name = self.string(raw, "name", table, limit=40)
        if name not in EXPERIMENTS:
            raise self.fail(table, "name", f"unknown experiment '{name}' (one of "
                            f"{', '.join(EXPERIMENTS)}){did_you_mean(name, EXPERIMENTS)}")
        options = scalar_table(raw.get("options", {}), "options", self.where(table, "options"))
        return m.ExperimentStep(**base, name=name, options=options,
                                command=self.string(raw, "command", table, default="",
                                                    limit=500))


def build_optimizer(step: m.EquationsStep) -> optim.Optimizer:
    """The optimizer an equations step shows (validated by the loader)."""
    schedule = None
    if step.schedule is not None:
        args = {k: v for k, v in step.schedule.items() if k != "name"}
        schedule = SCHEDULES[step.schedule["name"]](**args)
    options = dict(step.options)
    if schedule is not None:
        options["schedule"] = schedule
    return optim.get(step.optimizer, **options)
