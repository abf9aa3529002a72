"""The graph IR: named nodes, each a SymPy definition over its parents.

A node is a leaf (input, parameter, constant) or an assignment from the user's text
(``z = w*x + b``). An op applied inside a larger formula becomes its own node with a
short generated name (``u_1``, shown u₁), so every op has an edge whose local partial the
derivation can show. Ids are ``n0 … nk`` in topological order and depend only on the
text, so the same input always gives the same graph (and byte-identical DOT).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from . import ops
from .errors import GraphError, ParseError, ShapeError
from .notation import SUBSCRIPT, latex_name, to_latex, to_unicode, unicode_name
from .parse import (
    Assign,
    Declare,
    IndexSum,
    OpDef,
    parse_expression,
    parse_name,
    parse_program,
    symbol,
)

ROLES = ("input", "param", "const", "intermediate", "cost")
# Leaves with these base names are parameters unless the text or ``params`` says
# otherwise: the weights and biases of the slides, and batch norm's γ, β.
DEFAULT_PARAM_BASES = frozenset({"w", "W", "b", "theta", "gamma", "beta"})
MAX_NODES = 20_000
# An expansion into the leaves shares subexpressions, so building it is cheap, but
# printing or evaluating it walks the tree: h = σ(h′) + tanh(h′), 30 times over, is
# 2³⁰ nodes. Past this many, expand() refuses and the named form is the answer.
MAX_EXPANDED = 10_000


@dataclass(frozen=True)
class Node:
    """One node of the graph.

    ``expr`` is the definition in the symbols of ``parents`` (``None`` for leaves);
    ``op`` names the op when the node is one op application (``a = σ(z)``).
    """

    id: str
    name: str
    role: str
    expr: sp.Expr | None = None
    parents: tuple[str, ...] = ()
    op: str | None = None
    generated: bool = False
    shape: tuple[int, ...] = ()
    letters: tuple[str, ...] = ()  # index letters of a tensor node: (j,) for z_j
    sums: tuple[str, ...] = ()  # letters its definition sums over: (k,) in Σ_k W_jk x_k
    tensor_expr: sp.Expr | None = None  # node-level form (affine(W, x, b)); scalars: expr

    @property
    def kind(self) -> str:
        """``elementwise`` or the tensor op that defines the node (affine, sum, …)."""
        return self.op if self.op in ops.TENSOR_OPS else "elementwise"

    @property
    def tspec(self) -> ops.TensorOpSpec | None:
        """The registry entry of the tensor op that defines the node, else ``None``."""
        return ops.TENSOR_OPS.get(self.op) if self.op else None

    @property
    def element(self) -> str:
        """Name of the node's element: ``a_j^(L)`` for a tensor, the name for a scalar."""
        from .tensors import element_name

        return element_name(self.name, self.letters)

    @property
    def element_symbol(self) -> sp.Symbol:
        return symbol(self.element)

    @property
    def symbol(self) -> sp.Symbol:
        return symbol(self.name)

    @property
    def is_leaf(self) -> bool:
        return self.expr is None

    @property
    def unicode(self) -> str:
        return unicode_name(self.name)

    @property
    def latex(self) -> str:
        return latex_name(self.name)

    def definition(self, order: Mapping[str, int] | None = None) -> str:
        """``z = w·x + b`` in Unicode; tensors in index form, ``zⱼ = Σₖ Wⱼₖ·xₖ + bⱼ``.

        A batch mean reads ``μⱼ = (1/m) Σ_B zⱼ``: the sum over the m examples of the
        mini-batch B, as in Ioffe & Szegedy's Algorithm 1.
        """
        if self.expr is None:
            return unicode_name(self.element)
        if self.tspec is not None and self.tspec.display.mean_over_batch:
            inner = self.expr * ops.BATCH_SIZE
            body = to_unicode(inner, order)
            body = f"({body})" if isinstance(inner, sp.Add) else body
            return f"{unicode_name(self.element)} = (1/m) Σ_B {body}"
        return f"{unicode_name(self.element)} = {self._summed_unicode(order)}" \
               f"{self._softmax_tail()}"

    def definition_latex(self, order: Mapping[str, int] | None = None) -> str:
        if self.expr is None:
            return latex_name(self.element)
        if self.tspec is not None and self.tspec.display.mean_over_batch:
            inner = self.expr * ops.BATCH_SIZE
            body = to_latex(inner, order)
            body = rf"\left({body}\right)" if isinstance(inner, sp.Add) else body
            return rf"{latex_name(self.element)} = \frac{{1}}{{m}} \sum_{{\mathcal{{B}}}} {body}"
        sums = "".join(rf"\sum_{{{c}}} " for c in self.sums)
        return f"{latex_name(self.element)} = {sums}{to_latex(self.expr, order)}"

    def _summed_unicode(self, order: Mapping[str, int] | None) -> str:
        """``Σₖ Wⱼₖ·xₖ + bⱼ``: the Σ covers the terms that carry its letter."""
        if not self.sums:
            return to_unicode(self.expr, order)
        terms = self.expr.args if isinstance(self.expr, sp.Add) else (self.expr,)
        inner = [t for t in terms if _has_letters(t, self.sums)]
        outer = [t for t in terms if t not in inner]
        summed = sp.Add(*inner)
        sign = "−" if len(inner) == 1 and summed.could_extract_minus_sign() else ""
        body = to_unicode(-summed if sign else summed, order)
        if len(inner) > 1:
            body = f"({body})"
        sigma = sign + "".join(f"Σ{SUBSCRIPT.get(c, '_' + c)} " for c in self.sums)
        rest = "".join(f" + {to_unicode(t, order)}" for t in outer)
        return f"{sigma}{body}{rest}"

    def _softmax_tail(self) -> str:
        normaliser = self.tspec.display.normaliser if self.tspec is not None else None
        if normaliser is None:
            return ""
        from .tensors import element_name

        z = element_name(self.tensor_expr.args[0].name, ("i",))
        return f" / Σᵢ {normaliser}({unicode_name(z)})"


@dataclass
class Graph:
    """A computational graph. Build with :meth:`from_text` or :meth:`from_expr`."""

    nodes: tuple[Node, ...]
    cost: str
    user_ops: dict[str, ops.OpSpec] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)  # names as first written
    _by_name: dict[str, Node] = field(init=False, repr=False)
    _by_id: dict[str, str] = field(init=False, repr=False)
    _children: dict[str, tuple[str, ...]] = field(init=False, repr=False)
    _batched: frozenset[str] = field(init=False, repr=False)
    _roles: dict[tuple[str, ...], tuple[str, ...]] = field(init=False, repr=False)
    _is_tensor: bool = field(init=False, repr=False)
    _compiled: dict[str, Any] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        # Everything a per-node caller asks about the whole graph (children, roles,
        # is_tensor, batched) is worked out once here: a scan per query made drawing
        # and deriving quadratic in the number of nodes.
        self._by_name = {n.name: n for n in self.nodes}
        self._by_id = {n.id: n.name for n in self.nodes}
        kids: dict[str, dict[str, None]] = {n.name: {} for n in self.nodes}
        for n in self.nodes:
            for p in n.parents:
                kids[p][n.name] = None  # a dict keeps the order and makes this O(1)
        self._children = {k: tuple(v) for k, v in kids.items()}
        self._roles = {}
        self._is_tensor = any(n.shape for n in self.nodes)
        self._batched = _batched_names(self.nodes)

    # --- construction ---------------------------------------------------------------

    @classmethod
    def from_text(cls, text: str, params: str | Iterable[str] | None = None,
                  cost: str | None = None) -> Graph:
        """Build a graph from gradgraph's text language (see :mod:`gradgraph.parse`).

        ``params`` names the parameters ("w b" or a list); by default leaves named
        w, b, W, θ, γ, β (with any tag or subscript) are parameters and other leaves are
        inputs. ``cost`` names the output node (default: the last assignment that
        nothing else uses).
        """
        program = parse_program(text)
        return _Builder(program.statements, params, cost, program.order).build()

    @classmethod
    def from_expr(cls, expr: sp.Expr | str, params: str | Iterable[str] | None = None,
                  name: str = "C") -> Graph:
        """Build a graph from a SymPy expression; ``name`` is the cost node's name.

        A string is read by gradgraph's own parser (never ``sympify``, which runs
        Python). A SymPy object may hold only symbols, numbers, ``+ × ^`` and
        registered ops (see :func:`gradgraph.ops.checked_expr`); else :class:`GraphError`.
        """
        if isinstance(expr, str):
            expr = parse_expression(expr)
        adopted = _adopt(ops.checked_expr(expr, "the expression given to from_expr"))
        return _Builder([Assign(name, adopted, 1)], params, name).build()

    # --- lookup ---------------------------------------------------------------------

    def __getitem__(self, name: str) -> Node:
        return self._by_name[self.resolve(name)]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._by_name

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        params = ", ".join(self.params[:6]) + (", …" if len(self.params) > 6 else "")
        return f"<Graph: {len(self.nodes)} nodes, cost {self.cost}, parameters {params}>"

    def __str__(self) -> str:
        return self.definitions()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """Jupyter shows the diagram (or its DOT text when Graphviz is missing).

        A graph past the picture caps shows why and its summary: drawing its DOT text
        would take seconds and fill the notebook with thousands of lines.
        """
        from .render import check_size, render

        too_big = check_size(self)
        if too_big is not None:
            return {"text/plain": f"{self!r}\n{too_big.message()}"}
        return render(self)._repr_mimebundle_(include, exclude)

    def resolve(self, name: str) -> str:
        """Canonical node name for what a user typed (``b^(L)``, ``b⁽ᴸ⁾``, ``n3``)."""
        if not isinstance(name, str):
            raise GraphError(f"a node is named by a string, got {type(name).__name__}")
        if name in self._by_name:
            return name
        if name in self._by_id:
            return self._by_id[name]
        try:
            canonical = parse_name(name)
        except ParseError:
            canonical = name
        if canonical in self._by_name:
            return canonical
        raise GraphError(f"no node named '{name}' in the graph{self._hint(canonical)}")

    def _hint(self, name: str) -> str:
        """"; did you mean 'w^(L)'?" — same base name first, then case-blind spelling."""
        import difflib

        def base(n: str) -> str:
            return n.split("^", 1)[0].lower()

        names = [n.name for n in self.nodes]
        same_base = [n for n in names if base(n) == base(name)]
        close = same_base or difflib.get_close_matches(
            name.lower(), [n.lower() for n in names], n=1, cutoff=0.6)
        if close:
            match = next(n for n in names if n.lower() == close[0].lower())
            return f"; did you mean '{match}'?"
        if len(self.leaves) <= 12:
            return f"; its inputs and parameters are {', '.join(self.leaves)}"
        return ""

    def ancestors(self, name: str) -> list[str]:
        """Every node ``name`` depends on, nearest first (breadth-first)."""
        name = self.resolve(name)
        seen, order, frontier = {name}, [], [name]
        while frontier:
            nxt = []
            for n in frontier:
                for p in self._by_name[n].parents:
                    if p not in seen:
                        seen.add(p)
                        order.append(p)
                        nxt.append(p)
            frontier = nxt
        return order

    def children(self, name: str) -> tuple[str, ...]:
        return self._children[self.resolve(name)]

    def _names(self, *roles: str) -> tuple[str, ...]:
        if roles not in self._roles:  # computed once per combination, in node order
            self._roles[roles] = tuple(n.name for n in self.nodes if n.role in roles)
        return self._roles[roles]

    @property
    def params(self) -> tuple[str, ...]:
        return self._names("param")

    @property
    def inputs(self) -> tuple[str, ...]:
        return self._names("input")

    @property
    def leaves(self) -> tuple[str, ...]:
        return self._names("input", "param", "const")

    @property
    def is_tensor(self) -> bool:
        """True when the graph has layers (declared shapes)."""
        return self._is_tensor

    @property
    def batched(self) -> frozenset[str]:
        """Nodes with one value per example: inputs, and everything computed from them.

        A batch mean (``batch_mean``) is the exception: it averages the batch axis away,
        so μ and σ² of batch normalisation have one value per unit, like a parameter.
        """
        return self._batched

    def is_batched(self, name: str) -> bool:
        """True when ``name`` carries a leading batch axis (see :attr:`batched`)."""
        return self.resolve(name) in self._batched

    @property
    def intermediates(self) -> tuple[str, ...]:
        return self._names("intermediate", "cost")

    def definitions(self) -> str:
        """Every assignment, one a line, in Unicode."""
        return "\n".join(n.definition(self.order) for n in self.nodes if not n.is_leaf)

    def expand(self, name: str) -> sp.Expr:
        """The node's value as one expression in the leaves (small graphs only).

        Raises :class:`GraphError` when it would have more than :data:`MAX_EXPANDED`
        nodes (counted on the shared form, never walked as a tree).
        """
        memo: dict[str, sp.Expr] = {}
        for n in self.nodes:
            if n.expr is None:
                memo[n.name] = n.symbol
            else:
                memo[n.name] = n.expr.xreplace({symbol(p): memo[p] for p in n.parents})
        name = self.resolve(name)
        return checked_expansion(memo[name], f"'{name}' in the leaves")

    # --- numbers (delegated to the compiled program) --------------------------------

    def evaluate(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Forward values of every node; data inputs may carry a leading batch axis."""
        from .numeric import compile_graph

        return compile_graph(self, self.cost).forward(values)

    def gradients(self, values: Mapping[str, Any], of: str | None = None) -> dict[str, Any]:
        """Adjoint ∂(of)/∂node of every node.

        Over a batch, a parameter's adjoint is the batch mean (1/n) Σₖ ∂Cₖ/∂w, as in the
        slides; data-dependent nodes keep one adjoint per example.
        """
        from .numeric import compile_graph

        return compile_graph(self, of or self.cost)(values).gradients


def _adopt(expr: sp.Expr) -> sp.Expr:
    """A user's SymPy expression in gradgraph's terms: real symbols, registered ops."""
    heads = {sp.exp: ops.EXP, sp.log: ops.LOG, sp.tanh: ops.TANH, sp.Abs: ops.ABS}

    def walk(e: sp.Expr) -> sp.Expr:
        if isinstance(e, sp.Symbol):
            return symbol(parse_name(e.name))
        if isinstance(e, ops.OpFunction | ops.PrimeFunction) or not e.args:
            return e
        args = [walk(a) for a in e.args]
        if e.func in heads:
            return heads[e.func].func(*args)
        if isinstance(e, sp.Add | sp.Mul | sp.Pow):
            return e.func(*args)
        raise GraphError(f"gradgraph has no op for {type(e).__name__}")

    return walk(expr)


class _Builder:
    """Turns parsed statements into a :class:`Graph`."""

    def __init__(self, statements: list[Any], params: str | Iterable[str] | None,
                 cost: str | None, order: dict[str, int] | None = None):
        self.statements = statements
        self.written = dict(order or {})
        self.params = _name_list(params)
        self.cost = parse_name(cost) if cost else None
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
        from .tensors import Shapes, lower_assignment

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
        from dataclasses import replace

        from .tensors import Shapes, assign_letters, element_definition

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
                names = ", ".join(f"'{n}'" for n in undeclared)
                example = "; ".join(f"{n}: {self.leaf_role(n)}" for n in undeclared[:3])
                raise GraphError(
                    f"{names} {'is' if len(undeclared) == 1 else 'are'} used but never "
                    f"assigned or declared (a text that declares some names must declare "
                    f"all: e.g. '{example}')"
                )


def checked_expansion(expr: sp.Expr, what: str) -> sp.Expr:
    """``expr`` when it is small enough to print or evaluate, else :class:`GraphError`."""
    size = ops.tree_size(expr, MAX_EXPANDED)
    if size > MAX_EXPANDED:
        raise GraphError(f"{what} would have more than {MAX_EXPANDED:,} terms and "
                         "factors; keep the intermediates named (drop --expand)")
    return expr


def _places(first: int, second: int) -> str:
    return f"on line {first}" if first == second else f"(lines {first} and {second})"


def _batched_names(nodes: Iterable[Node]) -> frozenset[str]:
    """Names of the nodes with a batch axis; ``nodes`` are in topological order."""
    out: set[str] = set()
    for n in nodes:
        if n.role == "input" or (not (n.tspec is not None and n.tspec.reduces_batch)
                                  and any(p in out for p in n.parents)):
            out.add(n.name)
    return frozenset(out)


def _has_letters(term: sp.Expr, letters: tuple[str, ...]) -> bool:
    from .notation import split_name

    return any(c in split_name(s.name)[1] for s in term.free_symbols for c in letters)


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
