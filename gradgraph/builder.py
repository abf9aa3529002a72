"""The builder: parsed statements -> :class:`~gradgraph.graph.Graph` (one node per
assignment and per distinct op application, tensors lowered, roles and the cost
chosen). :mod:`gradgraph.build` is its front door (``from_text``, ``from_expr``,
``expand_to_scalars``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any

import sympy as sp

from . import ops
from .errors import GraphError, ShapeError
from .graph import (
    DEFAULT_PARAM_BASES,
    MAX_NODES,
    Graph,
    Node,
)
from .notation import unicode_name
from .parse import Declare, IndexSum, OpDef, canonical_name, parse_name, symbol
from .shapes import (
    Shapes,
    assign_letters,
    element_definition,
    lower_assignment,
)


class _Builder:
    """Turns parsed statements into a :class:`Graph`."""

    def __init__(self, statements: list[Any], params: str | Iterable[str] | None,
                 cost: str | None, order: dict[str, int] | None = None,
                 typed: dict[str, str] | None = None):
        self.statements = statements
        self.written = dict(order or {})
        typed = typed or {}  # canonical -> the user's spelling (w_1 -> w1)
        names = _name_list(params)
        self.params = None if names is None else tuple(typed.get(p, p) for p in names)
        self.cost = typed.get(parse_name(cost), parse_name(cost)) if cost else None
        self.defs: dict[str, sp.Expr] = {}
        self.lines: dict[str, int] = {}
        self.declared: dict[str, str] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.user_ops: dict[str, ops.OpSpec] = {}
        self.order: list[str] = []  # assignment order, generated nodes first
        self.generated: set[str] = set()
        self.before: dict[str, list[str]] = {}  # owner -> nodes generated from it
        self.counter = itertools.count(1)  # u_1, u_2, … for generated nodes
        self.lifted: dict[sp.Expr, str] = {}  # one node per distinct op application

    def build(self) -> Graph:
        for st in self.statements:
            self.take(st)
        if not self.defs:
            raise GraphError("the text assigns nothing; write e.g. 'C = (sigma(w*x + b) - y)^2'")
        if any(self.shapes.values()):
            self.lower_tensors()
        else:
            self.refuse_layer_ops()
        used = {s.name for e in self.defs.values() for s in e.free_symbols}
        reserved = set(self.defs) | used | set(self.declared)
        reserved |= {canonical_name(r) for r in reserved}  # a user's u1 takes u_1 too
        for name in list(self.order):
            self.split(name, reserved)
        # Generated nodes go just before the assignment they came from, in creation
        # order (one pass; inserting into the list one by one was quadratic).
        self.order = [m for name in self.order for m in (*self.before.pop(name, ()), name)]
        return self.assemble()

    def take(self, st: Any) -> None:
        if isinstance(st, OpDef):
            self.user_ops[st.name] = st.spec
        elif isinstance(st, Declare):
            for name in st.names:
                if name in self.declared:
                    raise GraphError(f"'{name}' is declared twice (line {st.line})")
                self.declared[name] = st.kind
                self.shapes[name] = st.shape
        else:
            if st.name in self.defs:
                raise GraphError(
                    f"'{st.name}' is defined twice {_places(self.lines[st.name], st.line)}"
                )
            if st.name in self.declared:
                raise GraphError(f"'{st.name}' is declared as {self.declared[st.name]} "
                                 f"and cannot be assigned (line {st.line})")
            self.defs[st.name] = st.expr
            self.lines[st.name] = st.line
            self.order.append(st.name)

    def where(self, name: str) -> str:
        return f"(line {self.lines[name]})" if name in self.lines else ""

    def refuse_layer_ops(self) -> None:
        """sum, softmax, … act on layers: a program without shapes cannot use them."""
        for name in self.order:
            for e in sp.preorder_traversal(self.defs[name]):
                if isinstance(e, ops.TensorOpFunction | IndexSum):
                    tensor_op = isinstance(e, ops.TensorOpFunction)
                    label = e.tspec.name if tensor_op else f"sum_{e.args[1]}"
                    raise GraphError(
                        f"'{label}' needs layers: declare their shapes first, e.g. "
                        f"'x: input(3)' {self.where(name)}")

    def lower_tensors(self) -> None:
        """Matrix/index-form formulas -> tensor ops, checking shapes in text order."""
        shapes = Shapes(self.shapes, self.where)
        for name in list(self.order):
            expr = self.defs.pop(name)
            later = [s.name for s in expr.free_symbols
                     if s.name in self.defs and s.name not in self.shapes]
            if later:
                raise GraphError(f"define '{later[0]}' before using it in '{name}' "
                                 f"{self.where(name)}")
            new, lowered = lower_assignment(name, expr, shapes)
            if new != name:
                if new in self.defs or new in self.declared:
                    raise GraphError(f"'{new}' is defined twice {self.where(name)}")
                self.lines[new] = self.lines.pop(name)
                self.order[self.order.index(name)] = new
                self.written.setdefault(new, self.written.get(name, 10**6))
            self.defs[new] = lowered
            self.shapes[new] = shapes.of(lowered, new)

    def split(self, name: str, reserved: set[str]) -> None:
        """Give every op application inside ``name``'s definition a node of its own."""
        counter = self.counter  # shared, so each name scans past the taken ones once

        def fresh() -> str:
            while True:
                candidate = f"u_{next(counter)}"
                if candidate not in reserved:
                    reserved.add(candidate)
                    return candidate

        def lift(e: sp.Expr, top: bool) -> sp.Expr:
            if not e.args or isinstance(e, sp.Symbol):
                return e
            if isinstance(e, ops.OpFunction | ops.PrimeFunction | ops.TensorOpFunction):
                inline = isinstance(e, ops.TensorOpFunction) and e.tspec.keep_inline
                args = [lift(a, False) if inline or isinstance(a, sp.Symbol | sp.Number)
                        else self.argument_node(lift(a, True), name, fresh) for a in e.args]
                app = e.func(*args)
                if top:
                    return app
                if app not in self.lifted:
                    self.lifted[app] = str(self.new_node(fresh(), app, name))
                return symbol(self.lifted[app])
            return e.func(*[lift(a, False) for a in e.args])

        self.defs[name] = lift(self.defs[name], True)

    def argument_node(self, expr: sp.Expr, owner: str, fresh: Any) -> sp.Symbol:
        if expr not in self.lifted:
            self.lifted[expr] = str(self.new_node(fresh(), expr, owner))
        return symbol(self.lifted[expr])

    def new_node(self, new: str, expr: sp.Expr, owner: str) -> sp.Symbol:
        self.defs[new] = expr
        self.generated.add(new)
        self.before.setdefault(owner, []).append(new)
        self.lines[new] = self.lines[owner]
        return symbol(new)

    def assemble(self) -> Graph:
        topo = self.topological()
        if len(topo) > MAX_NODES:
            raise GraphError(f"graph too large ({len(topo)} nodes; the limit is {MAX_NODES})")
        cost = self.pick_cost()
        self.check_declarations(topo)
        nodes = []
        for i, name in enumerate(topo):
            expr = self.defs.get(name)
            if expr is None:
                nodes.append(Node(f"n{i}", name, self.leaf_role(name),
                                  shape=self.shapes.get(name, ())))
                continue
            parents = tuple(sorted(dict.fromkeys(_symbols_in_order(expr)), key=self.rank))
            op = _op_name(expr)
            role = "cost" if name == cost else "intermediate"
            nodes.append(Node(f"n{i}", name, role, expr, parents, op, name in self.generated,
                              tensor_expr=expr))
        if any(self.shapes.values()):
            nodes = self.tensor_nodes(nodes)
            shape = next(n.shape for n in nodes if n.name == cost)
            if shape:
                raise ShapeError(f"the cost '{cost}' must be a number, but it has shape "
                                 f"{shape}: add its entries up, e.g. '{cost} = sum(...)' "
                                 f"{self.where(cost)}".rstrip())
        order = {n.name: self.written.get(n.name, len(self.written) + i)
                 for i, n in enumerate(nodes)}
        graph = Graph(tuple(nodes), cost, self.user_ops, order)
        self.check_batch_means(graph)
        return graph

    def check_batch_means(self, graph: Graph) -> None:
        """A batch mean averages over examples: it needs data under it."""
        for n in graph.nodes:
            if n.tspec is None or not n.tspec.reduces_batch:
                continue
            if not any(p in graph.batched for p in n.parents):
                raise GraphError(f"batch_mean in '{n.name}' averages over the examples of a "
                                 f"batch, but its argument does not depend on any input "
                                 f"{self.where(n.name)}".rstrip())

    def tensor_nodes(self, nodes: list[Node]) -> list[Node]:
        """Shapes for generated nodes, index letters, element-wise definitions."""
        shapes = Shapes(self.shapes, self.where)
        for n in nodes:
            if n.expr is not None:
                self.shapes[n.name] = shapes.of(n.expr, n.name)
        nodes = [replace(n, shape=self.shapes.get(n.name, ())) for n in nodes]
        letters = assign_letters(nodes, self.shapes)
        out = []
        for n in nodes:
            n = replace(n, letters=letters.get(n.name, ()))
            if n.expr is not None:
                expr, sums = element_definition(n, letters, self.shapes)
                n = replace(n, expr=expr, sums=sums)
            out.append(n)
        return out

    def topological(self) -> list[str]:
        """Depth-first post-order from each assignment in text order; finds cycles.

        Iterative, with the path kept on the stack: a 10,000-line chain written
        backwards must not hit Python's recursion limit or copy its path per node.
        """
        order: list[str] = []
        state: dict[str, int] = {}  # 1 = on the stack, 2 = done
        stack: list[tuple[str, Iterator[str]]] = []

        def push(name: str) -> None:
            state[name] = 1
            parents = _symbols_in_order(self.defs.get(name, sp.S.Zero))
            stack.append((name, iter(sorted(parents, key=self.rank))))

        for root in self.order:
            if state.get(root) == 2:
                continue
            push(root)
            while stack:
                name, parents = stack[-1]
                p = next(parents, None)
                if p is None:
                    stack.pop()
                    state[name] = 2
                    order.append(name)
                elif state.get(p) == 1:
                    path = [n for n, _ in stack]
                    cycle = " → ".join(unicode_name(n) for n in [*path[path.index(p):], p])
                    raise GraphError(f"cycle in the definitions: {cycle}")
                elif state.get(p) is None:
                    push(p)
        return order

    def rank(self, name: str) -> int:
        return self.written.get(name, 10**6)

    def pick_cost(self) -> str:
        if self.cost:
            if self.cost not in self.defs:
                raise GraphError(f"the cost '{self.cost}' is not assigned in the text")
            return self.cost
        used = {s.name for e in self.defs.values() for s in e.free_symbols}
        sinks = [n for n in self.order if n not in used]
        return sinks[-1]

    def leaf_role(self, name: str) -> str:
        if name in self.declared:
            return self.declared[name]
        if self.params is not None:
            return "param" if name in self.params else "input"
        base = name.split("^", 1)[0].split("_", 1)[0].rstrip("0123456789")
        return "param" if base in DEFAULT_PARAM_BASES else "input"

    def check_declarations(self, topo: list[str]) -> None:
        leaves = [n for n in topo if n not in self.defs]
        if self.params is not None:
            missing = [p for p in self.params if p not in leaves]
            if missing:
                raise GraphError(f"parameter '{missing[0]}' is not a leaf of the graph")
        if self.declared:
            undeclared = [n for n in leaves if n not in self.declared]
            if undeclared:
                # A message stays one readable line however many names are missing.
                names = ", ".join(f"'{n}'" for n in undeclared[:5])
                if len(undeclared) > 5:
                    names += f" and {len(undeclared) - 5} more"
                example = "; ".join(f"{n}: {self.leaf_role(n)}" for n in undeclared[:3])
                raise GraphError(
                    f"{names} {'is' if len(undeclared) == 1 else 'are'} used but never "
                    f"assigned or declared (a text that declares some names must declare "
                    f"all: e.g. '{example}')"
                )


def _places(first: int, second: int) -> str:
    return f"on line {first}" if first == second else f"(lines {first} and {second})"


def _op_name(expr: sp.Expr) -> str | None:
    if isinstance(expr, ops.OpFunction):
        return expr.spec.name
    if isinstance(expr, ops.TensorOpFunction):
        return expr.tspec.name
    return None


def _symbols_in_order(expr: sp.Expr) -> list[str]:
    """Names of the symbols in ``expr`` in SymPy's (deterministic) argument order."""
    out: list[str] = []
    for e in sp.preorder_traversal(expr):
        if isinstance(e, sp.Symbol) and e.name not in out:
            out.append(e.name)
    return out


def _name_list(params: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if params is None:
        return None
    items = params.replace(",", " ").split() if isinstance(params, str) else list(params)
    return tuple(parse_name(p) for p in items)
