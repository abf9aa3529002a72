"""The tutor's ASGI app: routes, static pages, security headers, errors as JSON.

``create_app()`` is what ``gradgraph serve`` hands to uvicorn and what the tests drive
with Starlette's TestClient. Every response carries a strict Content-Security-Policy;
every error is ``{"error": {"kind", "message"}}`` on one line, never a traceback.
"""

from __future__ import annotations

import functools
import logging
import mimetypes
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from .. import sandbox
from ..errors import GradgraphError
from . import api, lesson_pages, training
from .http import HTTPProblem, error_response
from .jobs import DEFAULT_LIMIT, Jobs
from .warm import warm

log = logging.getLogger("gradgraph.serve")

STATIC = Path(__file__).resolve().parent / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()),
           (b"x-content-type-options", b"nosniff"),
           (b"referrer-policy", b"no-referrer")]
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
                ".json": "application/json", ".woff2": "font/woff2", ".txt": "text/plain"}
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}$")
DEFAULT_DEADLINE = 5.0

Handler = Callable[[api.Server, Request], Awaitable[Response]]


class SecurityHeaders:
    """ASGI middleware: the CSP, nosniff and Server-Timing headers on every response."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in HEADERS if k not in names]
                # Time spent in the app, so a client can tell server time from network
                # and scheduling (benchmarks/serve_load.py reports it).
                took = f"app;dur={(time.perf_counter() - started) * 1e3:.2f}".encode()
                extra.append((b"server-timing", took))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def problem_response(e: BaseException) -> Response:
    """The JSON error for an exception a handler let through."""
    if isinstance(e, HTTPProblem):
        return error_response(e.status, e.kind, e.message)
    if isinstance(e, sandbox.SandboxTimeout | sandbox.SandboxLimitError):
        return error_response(408, type(e).__name__, str(e))
    if isinstance(e, GradgraphError):
        return error_response(400, type(e).__name__, str(e))
    if isinstance(e, RecursionError):
        return error_response(400, "GradgraphError", "input nested too deeply")
    log.exception("internal error", exc_info=e)
    return error_response(500, "internal", "internal error")


def endpoint(server: api.Server, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        try:
            return await handler(server, request)
        except Exception as e:  # noqa: BLE001 - every error becomes a JSON answer
            return problem_response(e)

    return run


def static_file(name: str) -> Response:
    """A file of ``static/``: plain names only, no ``..``, no folders listed."""
    parts = name.split("/")
    if not parts or not all(_SEGMENT.match(p) for p in parts):
        return error_response(404, "http", "not found")
    path = STATIC.joinpath(*parts)
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        return error_response(404, "http", "not found")
    if STATIC.resolve() not in real.parents or not real.is_file():
        return error_response(404, "http", "not found")
    media = STATIC_TYPES.get(real.suffix.lower()) or mimetypes.guess_type(real.name)[0]
    return FileResponse(real, media_type=media or "application/octet-stream",
                        headers={"cache-control": "no-cache"})


async def index(request: Request) -> Response:
    return static_file("index.html")


async def static(request: Request) -> Response:
    return static_file(request.path_params["path"])


async def not_found(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 404)
    if status == 405:
        return error_response(405, "http", f"{request.method} is not allowed here")
    return error_response(status, "http", "not found")


async def server_error(request: Request, exc: Exception) -> Response:
    return problem_response(exc)


def create_app(lessons_dir: str | Path | None = None, deadline: float = DEFAULT_DEADLINE,
               max_jobs: int = DEFAULT_LIMIT, max_queue: int | None = None,
               max_training: int = training.MAX_RUNS) -> Starlette:
    """The tutor: the JSON API of docs/serve-api.md and the pages in ``static/``.

    ``lessons_dir`` is the lessons folder (default: the bundled lessons); ``deadline``
    bounds every symbolic job on user text, in seconds; ``max_jobs`` jobs run at once
    and ``max_queue`` more may wait before the server answers 429.
    """
    if not deadline > 0:
        raise ValueError("deadline must be a positive number of seconds")
    server = api.Server(deadline=float(deadline),
                        lessons_dir=Path(lessons_dir) if lessons_dir else None,
                        jobs=Jobs(float(deadline), max_jobs, max_queue))
    server.extra["training"] = training.Runs(max_training)
    for key, graph in warm().items():  # before any thread or child exists: see warm.py
        server.graphs.put(key, graph)
    routes = [
        Route("/", index, methods=["GET"]),
        Route("/static/{path:path}", static, methods=["GET"]),
        *[Route(path, endpoint(server, fn), methods=[method])
          for method, path, fn in api_routes()],
    ]
    app = Starlette(routes=routes,
                    exception_handlers={404: not_found, 405: not_found,
                                        Exception: server_error})
    app.state.server = server
    app.add_middleware(SecurityHeaders)
    return app


def api_routes() -> list[tuple[str, str, Handler]]:
    return [
        ("GET", "/api/health", api.health),
        ("GET", "/api/examples", api.list_examples),
        ("POST", "/api/graph", api.graph),
        ("POST", "/api/evaluate", api.evaluate),
        ("POST", "/api/derive", api.derive),
        ("POST", "/api/render", api.render),
        ("POST", "/api/check", api.check),
        ("GET", "/api/lessons", lesson_pages.list_lessons),
        ("GET", "/api/lessons/{name}", lesson_pages.lesson),
        ("POST", "/api/lessons/{name}/answer", lesson_pages.answer),
        ("POST", "/api/lessons/{name}/hint", lesson_pages.hint),
        ("GET", "/api/train/options", training.train_options),
        ("POST", "/api/train", training.start),
        ("GET", "/api/train/{job}/events", training.events),
        ("POST", "/api/train/{job}/cancel", training.cancel),
    ]
