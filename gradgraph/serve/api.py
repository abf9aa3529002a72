"""The JSON endpoints of docs/serve-api.md: graphs, numbers, derivations, diagrams, checks.

Each handler reads its body against a schema, then calls the library: symbolic work on
user text in the sandbox child (:mod:`.jobs`), numbers for a graph a child has already
accepted in this process (:class:`.jobs.GraphCache`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread

from .. import __version__
from ..errors import GradgraphError
from ..graph import Graph
from . import checking, structure
from .drawing import graphviz_message, render_text
from .examples import examples
from .http import JSON, dumps, read_json
from .jobs import GraphCache, Jobs, Results

GRAPH_FIELDS: dict[str, tuple[Any, bool]] = {
    "graph": (str, True), "params": (str, False), "of": (str, False)}
INLINE_NODES = 32  # graphs this small, with one number per leaf, evaluate on the loop
MAX_GRAPH_TEXT = 60_000  # characters; the body cap (64 KiB) and the parser's caps come first


@dataclass
class Server:
    """What the handlers share: the job runner, the caches and the settings."""

    deadline: float
    lessons_dir: Path | None
    jobs: Jobs
    graphs: GraphCache = field(default_factory=GraphCache)
    results: Results = field(default_factory=Results)
    building: dict[Hashable, asyncio.Future] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def graph_key(body: dict[str, Any]) -> tuple[str, str, str]:
    text = body["graph"]
    if len(text) > MAX_GRAPH_TEXT:
        raise GradgraphError(f"the graph text is longer than {MAX_GRAPH_TEXT} characters")
    return (text, body.get("params") or "", body.get("of") or "")


async def single_flight(server: Server, key: Hashable,
                        compute: Callable[[], Awaitable[Any]]) -> Any:
    """``compute()``, or the result of the identical computation already under way
    (a page's first request for a new graph, made by a whole class at once, runs once)."""
    pending = server.building.get(key)
    if pending is not None:
        try:
            return await asyncio.shield(pending)
        except asyncio.CancelledError:
            if not pending.cancelled():
                raise  # this request itself was cancelled
            return await single_flight(server, key, compute)  # its leader went away
    future: asyncio.Future = asyncio.get_running_loop().create_future()
    server.building[key] = future
    try:
        result = await compute()
    except asyncio.CancelledError:
        future.cancel()  # the leading request went away; a waiter takes over
        raise
    except BaseException as e:
        future.set_exception(e)
        future.exception()  # retrieved: nobody else may be waiting
        raise
    else:
        future.set_result(result)
        return result
    finally:
        del server.building[key]


async def accepted_graph(server: Server, key: tuple[str, str, str]) -> Graph:
    """The graph of ``key`` built in this process, once a child has built it in time."""
    graph = server.graphs.get(key)
    if graph is not None:
        return graph

    async def build() -> Graph:
        await server.jobs.run(structure.accept, *key)
        built = await anyio.to_thread.run_sync(structure.build_compiled, *key)
        server.graphs.put(key, built)
        return built

    return await single_flight(server, ("graph",) + key, build)


async def cached(server: Server, endpoint: str, body: dict[str, Any],
                 compute: Callable[[], Awaitable[Any]],
                 keep: Callable[[Any], bool] = lambda answer: True) -> Any:
    """The answer to an identical earlier request, or ``compute()`` remembered when
    ``keep(answer)`` (a verdict cut short by the deadline is not kept)."""
    key = (endpoint, json.dumps(body, sort_keys=True))
    hit = server.results.get(key)
    if hit is not None:
        return hit

    async def work() -> Any:
        answer = await compute()
        if keep(answer):
            server.results.put(key, answer, len(dumps(answer)))
        return answer

    return await single_flight(server, key, work)


# --- handlers ----------------------------------------------------------------------


async def health(server: Server, request: Any) -> JSON:
    message = graphviz_message()
    return JSON({"version": __version__, "graphviz": message is None,
                 "graphviz_message": message})


async def list_examples(server: Server, request: Any) -> JSON:
    return JSON(await anyio.to_thread.run_sync(examples))


async def graph(server: Server, request: Any) -> JSON:
    body = await read_json(request, GRAPH_FIELDS)
    key = graph_key(body)
    return JSON(await cached(server, "graph", body,
                             lambda: server.jobs.run(structure.graph_info, *key)))


async def evaluate(server: Server, request: Any) -> JSON:
    body = await read_json(request, {**GRAPH_FIELDS, "values": (dict, True)})
    g = await accepted_graph(server, graph_key(body))
    values = body["values"]
    if len(g) <= INLINE_NODES and not any(isinstance(v, list) for v in values.values()):
        # A slider on a small scalar graph: well under a millisecond of numpy, cheaper
        # than the two thread hand-offs (which, on a busy machine, each wait for a CPU).
        return JSON(structure.evaluate_info(g, values))
    return JSON(await anyio.to_thread.run_sync(structure.evaluate_info, g, values))


async def derive(server: Server, request: Any) -> JSON:
    body = await read_json(request, {**GRAPH_FIELDS, "wrt": (str, True),
                                     "expand": (bool, False), "values": (dict, False)})
    args = (*graph_key(body), body["wrt"], bool(body.get("expand")), body.get("values"))
    return JSON(await cached(server, "derive", body,
                             lambda: server.jobs.run(structure.derive_text, *args)))


RENDER_FIELDS = {**GRAPH_FIELDS, "wrt": (str, False), "values": (dict, False),
                 "show": ((str, list), False), "view": (str, False),
                 "collapse": (bool, False), "step": (int, False)}


async def render(server: Server, request: Any) -> JSON:
    body = await read_json(request, RENDER_FIELDS)
    show = body.get("show")
    if isinstance(show, list) and not all(isinstance(s, str) for s in show):
        raise GradgraphError("show is a list of names: names, defs, values, grads, partials")
    args = (*graph_key(body), body.get("wrt"), body.get("values"), show,
            body.get("view") or "graph", bool(body.get("collapse")), body.get("step"),
            server.deadline)
    return JSON(await cached(server, "render", body,
                             lambda: server.jobs.run(render_text, *args)))


async def check(server: Server, request: Any) -> JSON:
    body = await read_json(request, {"graph": (str, True), "params": (str, False),
                                     "question": (str, False), "answer": (str, True),
                                     "limits": (dict, False)})
    limits = checking.limits(body.get("limits"))
    key = graph_key({"graph": body["graph"], "params": body.get("params")})

    async def compute() -> dict[str, Any]:
        g = await accepted_graph(server, key)
        return await server.jobs.in_thread(checking.verdict, g, body.get("question"),
                                           body["answer"], limits, server.deadline)

    return JSON(await cached(server, "check", body, compute, checking.decided_in_time))
