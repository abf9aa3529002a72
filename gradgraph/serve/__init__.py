"""The browser tutor: ``gradgraph serve``'s Starlette app over the public API.

See docs/serve-api.md for the JSON API; the pages live in ``static/``.
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
