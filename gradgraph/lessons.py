"""Lesson files -> steps -> terminal walkthrough / HTML export (see :mod:`gradgraph.lesson`).

This module is the public name from the design; the implementation lives in the
:mod:`gradgraph.lesson` package, one module per concern.
"""

from __future__ import annotations

from .lesson import *  # noqa: F403 - re-export the package's public API
from .lesson import __all__  # noqa: F401
