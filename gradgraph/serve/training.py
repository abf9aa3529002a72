"""``/api/train``: the deck's example (or any option ``gradgraph train`` has), live.

The model is built from :mod:`gradgraph.nn`, :mod:`gradgraph.optim` and
:mod:`gradgraph.regularize` exactly as ``gradgraph train`` builds it, and trained in a
worker thread. A callback pushes one event per epoch to the run's list, from which
each ``/events`` stream (server-sent events) reads; ``/cancel`` sets a flag that the
callback's ``on_batch_end`` checks, so a run stops at the next minibatch. At most
:data:`MAX_RUNS` runs train at once. The options themselves: :mod:`.train_options`.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import StreamingResponse

from ..derive import derive
from ..errors import GradgraphError
from ..render import render
from .drawing import picture
from .http import JSON, HTTPProblem, dumps, read_json
from .numbers import plain
from .structure import derivation_info
from .train_options import FIELDS, Options, build, catalogue, options

MAX_RUNS = 2  # training runs at once
KEEP_FINISHED = 16  # finished runs whose events can still be read
RANDOM_STATE = 37  # gradgraph train's test split and validation split seed


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
