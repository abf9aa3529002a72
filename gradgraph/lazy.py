"""Packages whose public names load on first use (PEP 562), shared by ``gradgraph`` and
``gradgraph.lesson`` so that ``--help`` and ``lesson list`` import no SymPy.

A public function may share its name with a submodule (``gradgraph.derive``): importing
the submodule makes the import system set the package attribute to the module. The
package class installed here refuses that for the names that are public functions, so
``gradgraph.derive`` stays the function; the module stays in ``sys.modules``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Mapping
from typing import Any


class _LazyPackage(types.ModuleType):
    _shadowed: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._shadowed and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


def install(package: str, table: Mapping[str, tuple[str, str | None]]) -> None:
    """Make ``package`` load ``table``'s names on first use.

    ``table`` maps a public name to (relative module, attribute); attribute None means
    the module itself. Any other submodule is also reachable as an attribute.
    """
    module = sys.modules[package]
    namespace = vars(module)

    def __getattr__(name: str) -> Any:  # noqa: N807 - the PEP 562 hook
        if name in table:
            where, attribute = table[name]
            loaded = importlib.import_module(where, package)
            value = loaded if attribute is None else getattr(loaded, attribute)
        elif not name.startswith("_") and importlib.util.find_spec(f"{package}.{name}"):
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted(set(namespace) | set(table))

    shadowed = frozenset(
        name for name, (_, attribute) in table.items()
        if attribute is not None and importlib.util.find_spec(f"{package}.{name}"))
    namespace["__getattr__"] = __getattr__
    namespace["__dir__"] = __dir__
    cls = type(f"{package}.Package", (_LazyPackage,), {"_shadowed": shadowed})
    module.__class__ = cls
