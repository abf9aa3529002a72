"""The steps of a lesson file, each read and checked key by key (see :mod:`.loader`).

One reader per step kind (``step_<kind>``) and per exercise kind (``exercise_<kind>``):
the keys a kind takes (:data:`KEYS`), the nodes, optimizers, schedules, layers and
experiments it names, and a derivative asked as ``gradgraph check`` reads it. The
loader (:class:`~gradgraph.lesson.loader._Loader`) supplies the graphs and value sets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .. import optim
from ..check.question import MAX_QUESTION, parse_question
from ..errors import GradgraphError, LessonError
from ..experiments import EXPERIMENTS as experiment_registry
from ..parse import parse_expression
from . import model as m
from .fields import Fields, did_you_mean
from .toml_source import scalar_table

ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")  # graph, value set and exercise names

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


class StepReader(Fields):
    """Reads ``[[steps]]`` tables against the lesson's graphs and value sets."""

    graphs: dict[str, m.GraphSpec]
    values: dict[str, dict[str, float]]

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.graphs = {}
        self.values = {}

    def value_set(self, name: str, raw: Any, table: tuple[Any, ...],
                  key_of_inline: str | None = None) -> dict[str, float]:
        """One value set (a step's inline ``values = { … }`` too): the loader's."""
        raise NotImplementedError

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
        if not ID.match(ex_id):
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
