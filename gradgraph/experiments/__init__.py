"""The papers' experiments, each runnable in seconds (quick) or as the documented protocol.

Each module has ``run(quick=True, seed=0, progress=None, ...) -> Result``; a result has
``.to_dict()``, ``.table()`` and ``.plot(path)``. Protocols and the reference figures:
shared/notes/seed-science.md §4.
"""

from __future__ import annotations
