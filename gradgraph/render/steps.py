"""The backward stepper: the op graph once per edge, in the order reverse mode uses them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..derive import adjoints
from ..graph import Graph
from ..notation import SUBSCRIPT, partial_unicode, unicode_name
from .arrays import one_example, value_text
from .caption import batch_rows
from .labels import DONE, HIGHLIGHT, ROLE_STYLE, caption_text, esc, fmt_number, legend, paren
from .opgraph import EdgeLook, NodeLook, assemble, edge_line
from .scene import Scene, edges_of, plain


def backward_edges(graph: Graph, of: str) -> list[tuple[str, str]]:
    """Edges that carry ∂(of)/∂·, in the order reverse mode uses them.

    Children in reverse topological order (a child's adjoint is complete before it is
    passed on), each child's parents in the order the definition names them.
    """
    relevant = adjoints(graph, of).adjoints
    return [(p, n.name) for n in reversed(graph.nodes) if n.name in relevant
            for p in n.parents]


def step_dots(scene: Scene) -> list[str]:
    """One DOT text per backward edge: the active edge lit, its adjoint shown."""
    graph, of = scene.graph, scene.of
    order = backward_edges(graph, of)
    fan_in = Counter(p for p, _ in order)  # edges out of each parent, counted once
    sums: dict[str, Any] = {of: 1.0}
    drawn: dict[tuple[str, str, str], str] = {}  # (parent, child, state) -> its DOT line
    tables: dict[tuple, str] = {}  # node boxes whose look repeats between frames
    frames = []
    for k, (parent, child) in enumerate(order, start=1):
        if graph.is_tensor:
            # A layer's adjoint is a sum of products over indices, not one number times
            # another: each is shown, from the compiled program, once its last edge is used.
            complete = all(q != parent for q, _ in order[k:])
            sums[parent] = scene.grads.get(parent) if complete and scene.grads else None
            earlier = any(q == parent for q, _ in order[:k - 1])
            frames.append(_frame(scene, order, k, set(order[:k - 1]), sums, None,
                                 fan_in[parent] > 1, earlier, drawn, tables))
            continue
        contribution = None
        if scene.values is not None:
            local = scene.edge_value(parent, child)
            if local is not None and sums.get(child) is not None:
                contribution = plain(np.asarray(sums[child]) * local)
        previous = sums.get(parent)
        if contribution is not None:
            sums[parent] = contribution if previous is None else plain(previous + contribution)
        elif parent not in sums:
            sums[parent] = None
        done = set(order[:k - 1])
        frames.append(_frame(scene, order, k, done, sums, contribution, fan_in[parent] > 1,
                             previous is not None, drawn, tables))
    return frames


def _frame(scene: Scene, order: list[tuple[str, str]], k: int, done: set[tuple[str, str]],
           sums: Mapping[str, Any], contribution: Any, accumulates: bool,
           has_previous: bool, drawn: dict[tuple[str, str, str], str],
           tables: dict[tuple, str]) -> str:
    parent, child = order[k - 1]
    graph, of = scene.graph, scene.of
    reached = {of} | {p for p, _ in order[:k]}
    receives = {p for p, _ in order}
    looks = {}
    for node in graph.nodes:
        emphasis = "on" if node.name in (parent, child) else "normal"
        known = not graph.is_tensor or sums.get(node.name) is not None
        if node.name in reached and scene.values is not None and known:
            looks[node.name] = NodeLook(emphasis, sums.get(node.name))
        else:  # "?" marks an adjoint the backward pass has not reached yet
            pending = scene.values is not None and node.name in receives
            looks[node.name] = NodeLook(emphasis, None, grad_pending=pending)
    edges = []
    for p, c in edges_of(graph):
        state = "active" if (p, c) == (parent, child) else "done" if (p, c) in done else "dim"
        line = drawn.get((p, c, state))
        if line is None:  # an edge looks the same in every frame that gives it this state
            line = drawn[p, c, state] = edge_line(scene, p, c, EdgeLook(state))
        edges.append(line)
    rows = _tensor_step_rows(scene, k, len(order), parent, child, sums, has_previous) \
        if graph.is_tensor else _step_rows(scene, k, len(order), parent, child, sums,
                                           contribution, accumulates, has_previous)
    caption = caption_text(
        rows,
        legend(
            [r for r in ROLE_STYLE if any(n.role == r for n in graph.nodes)],
            [(HIGHLIGHT, "this step"), (DONE, "done")],
        ),
    )
    return assemble(scene, caption, looks, edges, tables)


def _step_rows(scene: Scene, k: int, total: int, parent: str, child: str,
               sums: Mapping[str, Any], contribution: Any, accumulates: bool,
               has_previous: bool) -> list[list[str]]:
    of = scene.of
    title = (f"<B>Backward pass, step {k} of {total}:</B> edge "
             f"{esc(unicode_name(parent))} → {esc(unicode_name(child))}")
    head = partial_unicode(of, parent)
    sign = "+=" if accumulates and has_previous else "="
    expr = scene.unicode(scene.partial(parent, child))
    if child == of:
        # An edge into the output: ∂C₀/∂y = 2(y − a⁽ᴸ⁾) = 0.68, each side said once.
        rows = [[title], [f"<B>{esc(head)}</B>", sign, esc(expr)]]
    else:
        upstream = partial_unicode(of, child)
        rule = f"{upstream} · {partial_unicode(child, parent)}"
        rows = [[title], [f"<B>{esc(head)}</B>", sign, esc(rule)],
                ["", "=", esc(f"{upstream} · {expr}")]]
    if contribution is not None:
        result = f'<FONT COLOR="{HIGHLIGHT}"><B>{esc(fmt_number(contribution))}</B></FONT>'
        if child != of:
            local_value = scene.edge_value(parent, child)
            numbers = f"{paren(fmt_number(sums.get(child)))} · {paren(fmt_number(local_value))}"
            result = f"{esc(numbers)} = {result}"
        rows.append(["", "=", result])
        if accumulates and has_previous:
            rows.append([esc(f"so far {head}"), "=", esc(fmt_number(sums[parent]))])
    return rows



def _tensor_step_rows(scene: Scene, k: int, total: int, parent: str, child: str,
                      sums: Mapping[str, Any], has_previous: bool) -> list[list[str]]:
    """The step in index form (Σ over the child's extra letters) and, once the parent's
    adjoint is complete, its value."""
    graph, of = scene.graph, scene.of
    c, p, top = graph[child], graph[parent], graph[of]
    title = (f"<B>Backward pass, step {k} of {total}:</B> edge "
             f"{esc(p.unicode)} → {esc(c.unicode)}")
    extra = [x for x in c.letters if x not in p.letters and x not in top.letters]
    sigma = "".join(f"Σ{SUBSCRIPT.get(x, '_' + x)} " for x in extra)
    local = partial_unicode(c.element, p.element)
    expr = scene.unicode(scene.partial(parent, child))
    upstream = "" if child == of else f"{partial_unicode(top.element, c.element)} · "
    sign = "+=" if has_previous else "="
    rows = [[title],
            [f"<B>{esc(partial_unicode(top.element, p.element))}</B>", sign,
             esc(f"{sigma}{upstream}{local}")],
            ["", "=", esc(f"{sigma}{upstream}{expr}")]]
    if sums.get(parent) is not None:
        value = value_text(one_example(graph, parent, sums[parent]))
        rows.append([esc(partial_unicode(of, parent)), "=",
                     f'<FONT COLOR="{HIGHLIGHT}"><B>{esc(value)}</B></FONT>'])
    return rows + batch_rows(scene)
