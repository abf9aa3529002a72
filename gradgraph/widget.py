"""``gg.widget(graph)``: the tutor's diagram in a notebook, each node a button that shows
how its adjoint is built (the playground's derivation view).

An anywidget (``pip install gradgraph[notebook]``, imported only when a widget is made,
never at ``import gradgraph``). Its front end is the tutor's own ES modules
(``gradgraph/serve/static/widget.js`` and what it imports) inlined into one module by
:func:`bundle`, with the stylesheet's diagram and derivation rules scoped to the widget
by :func:`stylesheet`: nothing is fetched from a network or a CDN. Python computes every
node's derivation once (the same JSON as ``/api/derive``) and the SVG (``render``), so
the page only draws and switches between them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from .errors import GradgraphError

STATIC = Path(__file__).resolve().parent / "serve" / "static"
INSTALL = "gg.widget needs anywidget: pip install 'gradgraph[notebook]' (or anywidget)"

_IMPORT = re.compile(r"^import\s*\{([^}]*)\}\s*from\s*'\./([a-z]+)\.js';[ \t]*\n", re.M)
_EXPORT = re.compile(r"^export\s+(?:async\s+)?(?:function\*?|class|const|let)\s+([\w$]+)", re.M)
# The stylesheet's rules the widget uses, by their selectors' start; each is scoped
# under .gg-widget so that nothing leaks into the notebook's own page.
_KEEP = (".diagram", ".derivation", ".dhead", ".drow", ".dlabel", ".dbody", ".dline",
         ".dlines", ".eqsign", ".reuses", "ul.factors", "details.unicode", "details.paths",
         "pre.plain", "table.matrix", "math", "mtable.gg-eq", ".placeholder", "button.small",
         "code")


def widget(graph: Any, values: Mapping[str, Any] | None = None, of: str | None = None
           ) -> Any:
    """The widget for ``graph`` (a :class:`gradgraph.Graph`): its diagram (with values,
    when ``values`` gives every leaf) and, for the node clicked, ∂``of``/∂node as the
    tutor shows it. ``selected`` (a node id such as ``"n0"``) reads and sets the node
    shown. A GradgraphError when anywidget is not installed."""
    from .derive import adjoints
    from .render import render
    from .serve.drawing import picture
    from .serve.numbers import leaf_values
    from .serve.structure import derivation_info

    cls = _widget_class()
    given = leaf_values(graph, values) if values else None
    target = graph.resolve(of) if of else graph.cost
    all_ = adjoints(graph, target)
    derivations = {graph[name].id: derivation_info(all_.derivation(name), values=given)
                   for name in all_.adjoints if name != target}
    drawn = picture(render(graph, of=target, values=given))
    nodes = [{"id": n.id, "name": n.name, "unicode": _unicode(n.element)}
             for n in graph.nodes]
    return cls(svg=drawn["svg"] or "", message=drawn["message"] or "", nodes=nodes,
               cost=target, derivations=derivations, selected="")


def _unicode(name: str) -> str:
    from .notation import unicode_name

    return unicode_name(name)


@cache
def _widget_class() -> type:
    try:
        import anywidget
        import traitlets
    except ImportError as e:
        raise GradgraphError(INSTALL) from e

    class GraphWidget(anywidget.AnyWidget):
        """A gradgraph diagram whose nodes show their derivations (see gg.widget)."""

        _esm = bundle()
        _css = stylesheet()
        svg = traitlets.Unicode("").tag(sync=True)
        message = traitlets.Unicode("").tag(sync=True)
        nodes = traitlets.List().tag(sync=True)
        cost = traitlets.Unicode("").tag(sync=True)
        derivations = traitlets.Dict().tag(sync=True)
        selected = traitlets.Unicode("").tag(sync=True)

    return GraphWidget


def bundle(entry: str = "widget.js") -> str:
    """``entry`` and the static modules it imports, as one ES module: each dependency in
    a function scope that returns its exports, its imports read from those."""
    order: list[str] = []
    _visit(entry, order, ())
    chunks = []
    for name in order:
        text = (STATIC / name).read_text(encoding="utf-8")
        body = _IMPORT.sub("", text)
        if re.search(r"^\s*import\b", body, re.M):
            raise GradgraphError(f"{name}: an import the widget bundle cannot inline")
        bindings = "".join(f"const {{ {_pattern(names)} }} = {_var(dep)};\n"
                           for names, dep in _IMPORT.findall(text))
        if name == entry:
            chunks.append(bindings + body)
            continue
        exports = _EXPORT.findall(body)
        body = re.sub(r"^export\s+", "", body, flags=re.M)
        chunks.append(f"const {_var(name[:-3])} = (() => {{\n{bindings}{body}\n"
                      f"return {{ {', '.join(exports)} }};\n}})();\n")
    return "\n".join(chunks)


def _visit(name: str, order: list[str], path: tuple[str, ...]) -> None:
    if name in order:
        return
    if name in path:
        raise GradgraphError(f"static modules import each other in a cycle: {name}")
    text = (STATIC / name).read_text(encoding="utf-8")
    for _, dep in _IMPORT.findall(text):
        _visit(f"{dep}.js", order, (*path, name))
    order.append(name)


def _var(module: str) -> str:
    return f"__gg_{module}"


def _pattern(names: str) -> str:
    """``a, b as c`` -> ``a, b: c`` (an import list as a destructuring pattern)."""
    return ", ".join(re.sub(r"\s+as\s+", ": ", n.strip()) for n in names.split(",") if n.strip())


def stylesheet() -> str:
    """The tutor's colours and its diagram and derivation rules, under ``.gg-widget``."""
    css = re.sub(r"/\*.*?\*/", "", (STATIC / "style.css").read_text(encoding="utf-8"),
                 flags=re.S)
    css = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}", "", css)
    out = [".gg-widget { font: 15px/1.5 system-ui, sans-serif; }",
           ".gg-widget .gg-panel { margin-top: .6rem; }"]
    for selectors, rules in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        parts = [s.strip() for s in selectors.split(",")]
        if parts == [":root"]:
            out.append(f".gg-widget {{{rules}}}")
        elif any(p.startswith(_KEEP) for p in parts):
            out.append(", ".join(f".gg-widget {p}" for p in parts) + f" {{{rules}}}")
    return "\n".join(out) + "\n"
