"""What every endpoint shares: JSON in and out, one-line errors, the request caps.

Responses are JSON with ``<``, ``>`` and ``&`` written as ``\\u003c``… escapes, so no
byte of a response body can open a tag even if a client (or a proxy, or a browser
sniffing a type) treated it as HTML; the decoded strings are unchanged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

MAX_BODY = 64 * 1024  # bytes of a request body
_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                          "\u2028": "\\u2028", "\u2029": "\\u2029"})


class HTTPProblem(Exception):
    """An answer other than 200: its status, ``kind`` and one-line message."""

    def __init__(self, status: int, kind: str, message: str):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, one_line(message)


def one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def dumps(data: Any) -> bytes:
    """JSON bytes with markup characters escaped; non-finite numbers refused."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.translate(_ESCAPES).encode("utf-8")


class JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


def error_response(status: int, kind: str, message: str) -> JSON:
    return JSON({"error": {"kind": kind, "message": one_line(message)}}, status_code=status)


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, read as a stream and abandoned past ``limit`` bytes (413)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPProblem(413, "http", f"the request body is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPProblem(413, "http", f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


async def read_json(request: Request, schema: Mapping[str, tuple[type | tuple, bool]]
                    ) -> dict[str, Any]:
    """The body as a JSON object checked against ``schema`` ({field: (types, required)}).

    Unreadable JSON, a body that is not an object, an unknown field, a missing required
    field or a field of the wrong type is a 422 naming the field.
    """
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPProblem(415, "http", "send the body as application/json")
    raw = await read_body(request)
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise HTTPProblem(422, "http", f"the body is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise HTTPProblem(422, "http", "the body must be a JSON object")
    for key, value in data.items():
        if key not in schema:
            raise HTTPProblem(422, "http", f"unknown field '{key}'; the fields are "
                                           f"{', '.join(sorted(schema))}")
        types, _ = schema[key]
        if value is not None and not _is(value, types):
            raise HTTPProblem(422, "http", f"field '{key}' must be {_type_words(types)}")
    missing = [k for k, (_, required) in schema.items() if required and data.get(k) is None]
    if missing:
        raise HTTPProblem(422, "http", f"missing field '{missing[0]}'")
    return data


def _is(value: Any, types: type | tuple) -> bool:
    types = types if isinstance(types, tuple) else (types,)
    if isinstance(value, bool):  # JSON true is not a number
        return bool in types
    if isinstance(value, int | float) and float in types:
        return math.isfinite(value)
    return isinstance(value, types)


def _type_words(types: type | tuple) -> str:
    types = types if isinstance(types, tuple) else (types,)
    words = {str: "a string", float: "a number", int: "an integer", bool: "true or false",
             dict: "an object", list: "a list"}
    return " or ".join(words.get(t, t.__name__) for t in types)
