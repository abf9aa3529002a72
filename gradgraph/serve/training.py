"""``/api/train``: the deck's example (or any option ``gradgraph train`` has), live.

The model is built from :mod:`gradgraph.nn`, :mod:`gradgraph.optim` and
:mod:`gradgraph.regularize` exactly as ``gradgraph train`` builds it, and trained in a
worker thread. A callback pushes one event per epoch to the run's list, from which
each ``/events`` stream (server-sent events) reads; ``/cancel`` sets a flag that the
callback's ``on_batch_end`` checks, so a run stops at the next minibatch. At most
:data:`MAX_RUNS` runs train at once.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

from .. import optim, regularize
from ..derive import derive
from ..errors import GradgraphError, TrainingError
from ..render import render
from .drawing import picture
from .http import JSON, HTTPProblem, dumps, read_json
from .numbers import plain
from .structure import derivation_info

MAX_RUNS = 2  # training runs at once
KEEP_FINISHED = 16  # finished runs whose events can still be read
MAX_EPOCHS = 200
MAX_UNITS = 1024
MAX_LAYERS = 4
MAX_BATCH = 4096
RANDOM_STATE = 37  # gradgraph train's test split and validation split seed
DTYPES = ("float32", "float64")  # gradgraph train --dtype; float32 is its default
DECK_LR = 0.1  # sgd's rate when lr is omitted: the deck's, as gradgraph train uses
# The one setting whose values are a closed list (gradgraph train --eps-placement).
CHOICES = {"eps_placement": ("keras", "pytorch")}
_JSON_TYPE = {"float": float, "int": int, "bool": bool, "str": str}


def _signature(cls: type) -> list[tuple[str, Any, str]]:
    """(setting, default or None when required, annotation) for each of ``cls.settings``."""
    params = inspect.signature(cls.__init__).parameters
    return [(name, None if params[name].default is inspect.Parameter.empty
             else params[name].default, str(params[name].annotation))
            for name in cls.settings or ()]


def _schedule_classes() -> dict[str, type]:
    """Name -> class of every schedule :func:`gradgraph.optim.get_schedule` knows."""
    public = {cls.name: cls for cls in vars(optim).values()
              if isinstance(cls, type) and issubclass(cls, optim.Schedule)}
    return {name: public[name] for name in optim.schedule_names() if name in public}


def _setting_fields() -> dict[str, tuple[Any, bool]]:
    """Every optimizer's settings as request fields, typed from the constructors."""
    fields: dict[str, tuple[Any, bool]] = {}
    for name in optim.names():
        for setting, _, annotation in _signature(optim.get_class(name)):
            fields[setting] = (_JSON_TYPE.get(annotation, float), False)
    return fields


FIELDS: dict[str, tuple[Any, bool]] = {
    "data": (str, False), "hidden": (list, False), "activation": (str, False),
    "optimizer": (str, False), **_setting_fields(),
    "schedule": (dict, False), "l1": (float, False), "l2": (float, False),
    "dropout": (float, False), "batchnorm": (bool, False), "epochs": (int, False),
    "batch_size": (int, False), "seed": (int, False), "validation_split": (float, False),
    "dtype": (str, False),
}
DECK = {"data": "digits", "hidden": [100], "activation": "tanh", "optimizer": "sgd",
        "epochs": 15, "batch_size": 32, "seed": 0, "dtype": "float32"}


@dataclass
class Options:
    """TrainOptions, checked."""

    hidden: list[int]
    activation: str
    optimizer: str
    opt_kwargs: dict[str, Any]
    schedule: dict[str, Any] | None
    l1: float
    l2: float
    dropout: float
    batchnorm: bool
    epochs: int
    batch_size: int
    seed: int
    validation_split: float | None = None
    dtype: str = "float32"


def options(body: Mapping[str, Any]) -> Options:
    """TrainOptions from a request body; a one-line TrainingError for anything off."""
    merged = {**DECK, **{k: v for k, v in body.items() if v is not None}}
    if merged["data"] != "digits":
        raise TrainingError("the tutor trains on the bundled digits data only "
                            "(data: \"digits\")")
    hidden = merged["hidden"]
    if not (1 <= len(hidden) <= MAX_LAYERS) or not all(
            isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= MAX_UNITS
            for h in hidden):
        raise TrainingError(f"hidden is a list of 1 to {MAX_LAYERS} layer sizes from 1 to "
                            f"{MAX_UNITS}")
    for key, low, high in (("epochs", 1, MAX_EPOCHS), ("batch_size", 1, MAX_BATCH),
                           ("seed", 0, 2**32 - 1)):
        if not low <= merged[key] <= high:
            raise TrainingError(f"{key} must be from {low} to {high}")
    split = merged.get("validation_split")
    if split is not None and not 0 < split < 1:
        raise TrainingError(f"validation_split must be between 0 and 1 (a fraction of the "
                            f"training data), got {split:g}")
    if merged["dtype"] not in DTYPES:
        raise TrainingError(f"dtype must be {' or '.join(DTYPES)}, got {merged['dtype']!r}")
    return Options(hidden, merged["activation"], merged["optimizer"],
                   optimizer_settings(merged), merged.get("schedule"),
                   float(merged.get("l1", 0.0)), float(merged.get("l2", 0.0)),
                   float(merged.get("dropout", 0.0)), bool(merged.get("batchnorm", False)),
                   merged["epochs"], merged["batch_size"], merged["seed"],
                   None if split is None else float(split), merged["dtype"])


def optimizer_settings(merged: Mapping[str, Any]) -> dict[str, Any]:
    """The optimizer's keyword arguments; a setting it does not take is refused by name,
    as ``gradgraph train`` refuses the option."""
    cls = optim.get_class(merged["optimizer"])
    kwargs: dict[str, Any] = {}
    for setting in _setting_fields():
        if merged.get(setting) is None:
            continue
        if setting not in cls.settings:
            raise TrainingError(f"{setting} does not apply to {cls.name} (it takes "
                                f"{', '.join(cls.settings)}, schedule)")
        kwargs[setting] = merged[setting]
    if "lr" not in kwargs and cls.name == "sgd":
        kwargs["lr"] = DECK_LR
    return kwargs


def schedule(spec: Mapping[str, Any] | None) -> optim.Schedule | None:
    """``{"kind": "step", "every": 5, "factor": 0.5}`` -> get_schedule("step", ...)."""
    if not spec:
        return None
    kind = spec.get("kind")
    if not isinstance(kind, str):
        raise TrainingError(f"schedule needs a kind: one of {', '.join(optim.schedule_names())}")
    args = {k: v for k, v in spec.items() if k != "kind"}
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
               for v in args.values()):
        raise TrainingError("schedule settings are numbers")
    return optim.get_schedule(kind, **args)


def catalogue() -> dict[str, Any]:
    """What ``GET /api/train/options`` answers: each optimizer's and schedule's settings
    with the defaults the server uses, read from the classes (never listed by hand)."""
    def described(cls: type, deck: Mapping[str, Any]) -> list[dict[str, Any]]:
        out = []
        for name, default, annotation in _signature(cls):
            item = {"name": name, "type": {"float": "number", "int": "integer", "bool":
                                           "boolean", "str": "choice"}.get(annotation,
                                                                           "number"),
                    "default": deck.get(name, default), "required": default is None}
            if name in CHOICES:
                item["choices"] = list(CHOICES[name])
            out.append(item)
        return out

    return {
        "optimizers": [{"name": n, "settings": described(
            optim.get_class(n), {"lr": DECK_LR} if n == "sgd" else {})} for n in optim.names()],
        "schedules": [{"name": n, "settings": described(cls, {})}
                      for n, cls in _schedule_classes().items()],
        "dtypes": list(DTYPES),
        "defaults": {**DECK, "lr": DECK_LR},
        "caps": {"epochs": MAX_EPOCHS, "units": MAX_UNITS, "layers": MAX_LAYERS,
                 "batch_size": MAX_BATCH},
    }


def build(opts: Options, n_in: int, n_out: int) -> tuple[Any, Any]:
    """(model, optimizer), compiled: the same construction as ``gradgraph train``."""
    from ..nn import Activation, BatchNormalization, Dense, Dropout, Sequential

    opt = optim.get(opts.optimizer, **opts.opt_kwargs, schedule=schedule(opts.schedule))
    reg = regularize.Regularizer(l1=opts.l1, l2=opts.l2) if (opts.l1 or opts.l2) else None
    layers: list[Any] = []
    for k, units in enumerate(opts.hidden):
        layers.append(Dense(units, input_dim=n_in if k == 0 else None, kernel_regularizer=reg))
        if opts.batchnorm:
            layers.append(BatchNormalization())
        layers.append(Activation(opts.activation))
        if opts.dropout:
            layers.append(Dropout(opts.dropout))
    layers += [Dense(n_out, kernel_regularizer=reg), Activation("softmax")]
    model = Sequential(layers, seed=opts.seed)
    model.compile(optimizer=opt, loss="categorical_crossentropy", metrics=["accuracy"],
                  dtype=opts.dtype)
    return model, opt


@dataclass
class Run:
    """One training run: its events so far, and the flags the worker and streams share."""

    id: str
    opts: Options
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    cancelled: threading.Event = field(default_factory=threading.Event)
    finished: bool = False
    # Each open stream: its event loop and the asyncio.Event that wakes it.
    waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(
        default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, kind: str, data: dict[str, Any]) -> None:
        """Called from the worker thread: record the event and wake the streams."""
        with self.lock:
            self.events.append((kind, data))
            if kind in ("done", "cancelled", "error"):
                self.finished = True
            waiters = list(self.waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that stream's loop has closed; nobody to wake
                pass

    def subscribe(self) -> asyncio.Event:
        event = asyncio.Event()
        with self.lock:
            self.waiters.append((asyncio.get_running_loop(), event))
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        with self.lock:
            self.waiters = [(lp, e) for lp, e in self.waiters if e is not event]


class Progress:
    """The callback: an epoch event per epoch; stop at the next minibatch on cancel."""

    def __init__(self, run: Run):
        self.run = run
        self.started = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any]) -> None:
        self.started = time.perf_counter()

    def on_batch_end(self, step: int, logs: dict[str, Any]) -> bool:
        return self.run.cancelled.is_set()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any]) -> bool:
        keys = ("loss", "accuracy", "val_loss", "val_accuracy")
        self.run.push("epoch", {"epoch": epoch + 1, **{k: _num(logs.get(k)) for k in keys},
                                "seconds": round(time.perf_counter() - self.started, 4)})
        return self.run.cancelled.is_set()


def _num(x: Any) -> float | None:
    return None if x is None else plain(x)


@dataclass
class Data:
    """The arrays one run trains on, and what its ``val_*`` metrics are measured on."""

    X: Any
    Y: Any
    X_val: Any
    Y_val: Any
    X_test: Any
    Y_test: Any
    validation: dict[str, Any]


def load(opts: Options) -> Data:
    """The digits as ``gradgraph train`` splits them; a bad validation split refused."""
    from ..data import load_digits_split, split_validation

    split = load_digits_split(test_size=0.15, random_state=RANDOM_STATE)
    X, Y, X_val, Y_val = split_validation(split.X_train, split.Y_train,
                                          opts.validation_split, RANDOM_STATE)
    if X_val is None:
        return Data(X, Y, split.X_test, split.Y_test, split.X_test, split.Y_test,
                    {"of": "test set", "examples": len(split.X_test)})
    return Data(X, Y, X_val, Y_val, split.X_test, split.Y_test,
                {"of": "training data", "examples": len(X_val)})


def train(run: Run, data: Data, deadline: float) -> None:
    """The worker thread's body: fit, then the done (or cancelled / error) event."""
    try:
        model, opt = build(run.opts, data.X.shape[1], data.Y.shape[1])
        history = model.fit(data.X, data.Y, epochs=run.opts.epochs,
                            batch_size=run.opts.batch_size,
                            validation_data=(data.X_val, data.Y_val),
                            callbacks=[Progress(run)], seed=run.opts.seed)
        if run.cancelled.is_set():
            run.push("cancelled", {"epochs": len(history.history.get("loss", []))})
            return
        if history.stopped is not None:
            run.push("error", {"message": str(history.stopped)})
            return
        loss, acc = model.evaluate(data.X_test, data.Y_test)
        run.push("done", {"history": _history(history), "test": {"loss": plain(loss),
                                                                 "accuracy": plain(acc)},
                          "validation": data.validation, "train_examples": len(data.X),
                          "dtype": run.opts.dtype, "optimizer": repr(opt),
                          **_trained_graph(model, deadline)})
    except GradgraphError as e:
        run.push("error", {"message": str(e)})
    except Exception:  # noqa: BLE001 - a bug: logged, and the stream ends cleanly
        import logging

        logging.getLogger("gradgraph.serve").exception("training run %s failed", run.id)
        run.push("error", {"message": "internal error"})


def _history(history: Any) -> dict[str, list[float | None]]:
    return {k: [plain(x) for x in v] for k, v in history.history.items()}


def _trained_graph(model: Any, deadline: float) -> dict[str, Any]:
    """The model's graph as text, ∂C/∂W of its first layer, and its diagram."""
    graph = model.graph
    out: dict[str, Any] = {"graph": graph.definitions(), "derivation": None, "svg": None,
                           "message": None}
    if graph.params:
        try:
            out["derivation"] = derivation_info(derive(graph, wrt=graph.params[0]))
        except GradgraphError as e:
            out["message"] = str(e)
    try:
        out.update(picture(render(graph, timeout=deadline)))
    except GradgraphError as e:
        out["message"] = str(e)
    return out


class Runs:
    """The server's training runs: at most ``limit`` train at once."""

    def __init__(self, limit: int = MAX_RUNS):
        self.limit = limit
        self.runs: OrderedDict[str, Run] = OrderedDict()

    def active(self) -> int:
        return sum(1 for r in self.runs.values() if not r.finished)

    def add(self, run: Run) -> None:
        if self.active() >= self.limit:
            raise HTTPProblem(429, "http", f"the server already runs {self.limit} trainings; "
                                           "wait for one to finish or cancel it")
        self.runs[run.id] = run
        finished = [k for k, r in self.runs.items() if r.finished]
        for key in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self.runs[key]

    def get(self, job: str) -> Run:
        run = self.runs.get(job)
        if run is None:
            raise HTTPProblem(404, "http", "no training run with that id")
        return run


# --- handlers ----------------------------------------------------------------------


async def start(server: Any, request: Request) -> JSON:
    body = await read_json(request, FIELDS)
    opts = options(body)
    build(opts, 64, 10)  # every option checked now, so a bad one is a 400, not an event
    data = await asyncio.to_thread(load, opts)  # and the validation split, on the data
    runs: Runs = server.extra["training"]
    run = Run(secrets.token_hex(8), opts)
    runs.add(run)
    threading.Thread(target=train, args=(run, data, server.deadline), daemon=True,
                     name=f"gradgraph-train-{run.id}").start()
    return JSON({"job": run.id})


async def train_options(server: Any, request: Request) -> JSON:
    """``GET /api/train/options``: each optimizer's and schedule's settings and defaults."""
    return JSON(catalogue())


async def events(server: Any, request: Request) -> StreamingResponse:
    run = server.extra["training"].get(request.path_params["job"])
    return StreamingResponse(_stream(run), media_type="text/event-stream",
                             headers={"cache-control": "no-cache"})


async def _stream(run: Run) -> AsyncIterator[bytes]:
    """Every event of the run from the first, then each new one as it comes."""
    changed = run.subscribe()
    sent = 0
    try:
        while True:
            changed.clear()
            while sent < len(run.events):
                kind, data = run.events[sent]
                sent += 1
                yield f"event: {kind}\ndata: ".encode() + dumps(data) + b"\n\n"
                if kind in ("done", "cancelled", "error"):
                    return
            try:
                await asyncio.wait_for(changed.wait(), timeout=15)
            except asyncio.TimeoutError:
                yield b": keep-alive\n\n"  # a comment line; keeps proxies from closing
    finally:
        run.unsubscribe(changed)


async def cancel(server: Any, request: Request) -> JSON:
    run = server.extra["training"].get(request.path_params["job"])
    run.cancelled.set()
    return JSON({"cancelled": True})


def step_options(step: Any) -> dict[str, Any] | None:
    """A lesson's train step as a TrainOptions body, when it is an MLP the page can run."""
    hidden: list[int] = []
    # float64: what a lesson's own run (gg.Sequential.compile's default) computes in.
    body: dict[str, Any] = {"data": step.data, "epochs": step.epochs,
                            "batch_size": step.batch_size, "dtype": "float64"}
    layers = list(step.model)
    for i, layer in enumerate(layers):
        kind = layer.get("layer")
        if kind == "Dense" and i < len(layers) - 2:
            hidden.append(int(layer.get("units", 0)))
        elif kind == "Activation" and i < len(layers) - 1:
            body["activation"] = layer.get("activation")
        elif kind == "Dropout":
            body["dropout"] = layer.get("rate")
        elif kind == "BatchNormalization":
            body["batchnorm"] = True
    opt = dict(step.optimizer)
    body["optimizer"] = opt.pop("name", "sgd")
    try:
        takes = optim.get_class(body["optimizer"]).settings
    except GradgraphError:
        return None
    body.update({k: v for k, v in opt.items() if k in takes})
    body["hidden"] = hidden
    try:
        options(body)
    except (GradgraphError, KeyError, TypeError):
        return None
    return json.loads(dumps(body))
