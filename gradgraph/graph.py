"""The graph IR: named nodes, each a SymPy definition over its parents.

A node is a leaf (input, parameter, constant) or an assignment from the user's text
(``z = w*x + b``). An op applied inside a larger formula becomes its own node with a
short generated name (``u_1``, shown u₁), so every op has an edge whose local partial the
derivation can show. Ids are ``n0 … nk`` in topological order and depend only on the
text, so the same input always gives the same graph (and byte-identical DOT).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sympy as sp

from . import ops
from .errors import GraphError, ParseError
from .lexer import tokenize
from .node import Node
from .notation import to_unicode, unicode_name
from .parse import canonical_name, parse_name, respelled, symbol

ROLES = ("input", "param", "const", "intermediate", "cost")
# Leaves with these base names are parameters unless the text or ``params`` says
# otherwise: the weights and biases of the slides, and batch norm's γ, β.
DEFAULT_PARAM_BASES = frozenset({"w", "W", "b", "theta", "gamma", "beta"})
MAX_NODES = 20_000
# An expansion into the leaves shares subexpressions, so building it is cheap, but
# printing or evaluating it walks the tree: h = σ(h′) + tanh(h′), 30 times over, is
# 2³⁰ nodes. Past this many, expand() refuses and the named form is the answer.
MAX_EXPANDED = 10_000


# Assigning one of these rebuilds the lookups and drops the caches (see Graph).
_STRUCTURE = frozenset({"nodes", "cost", "user_ops", "order"})


@dataclass
class Graph:
    """A computational graph. Build with :meth:`from_text` or :meth:`from_expr`.

    Besides its lookups (by name, id, element, children, roles), a graph caches what is
    costly to work out and asked for again by compiling, drawing and deriving:
    ``_partials``, each edge's local partial ∂child/∂parent keyed ``(child, parent)``
    (:func:`gradgraph.derive.local_partial` fills it), ``_compiled``, the compiled
    forward and backward programs (:mod:`gradgraph.numeric`), and ``_printed``, the
    expressions :meth:`unicode` has printed. Assigning ``nodes``, ``cost``,
    ``user_ops`` or ``order`` rebuilds the lookups and empties the caches.
    """

    nodes: tuple[Node, ...]
    cost: str
    user_ops: dict[str, ops.OpSpec] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)  # names as first written
    _by_name: dict[str, Node] = field(init=False, repr=False)
    _by_id: dict[str, str] = field(init=False, repr=False)
    _spelled: dict[str, str] = field(init=False, repr=False)
    _children: dict[str, tuple[str, ...]] = field(init=False, repr=False)
    _batched: frozenset[str] = field(init=False, repr=False)
    _roles: dict[tuple[str, ...], tuple[str, ...]] = field(init=False, repr=False)
    _is_tensor: bool = field(init=False, repr=False)
    _letters: frozenset[str] = field(init=False, repr=False)
    _compiled: dict[str, Any] = field(init=False, repr=False, compare=False,
                                      default_factory=dict)
    _partials: dict[tuple[str, str], sp.Expr] = field(init=False, repr=False, compare=False,
                                                      default_factory=dict)
    _printed: dict[sp.Expr, str] = field(init=False, repr=False, compare=False,
                                         default_factory=dict)
    _by_element: dict[str, Node] | None = field(init=False, repr=False, compare=False,
                                                default=None)

    def __post_init__(self) -> None:
        self._index()

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in _STRUCTURE and "_by_name" in self.__dict__:  # after __init__ only
            self._index()

    def _index(self) -> None:
        """Work out once what per-node callers ask about the whole graph (children,
        roles, is_tensor, batched): a scan per query made drawing and deriving
        quadratic in the number of nodes. Empties the caches (the graph changed)."""
        self._by_name = {n.name: n for n in self.nodes}
        self._by_id = {n.id: n.name for n in self.nodes}
        # A node is named as the user first typed it (w1); w_1 and w₁ reach it too.
        self._spelled = {canonical_name(n.name): n.name for n in self.nodes
                         if canonical_name(n.name) != n.name}
        kids: dict[str, dict[str, None]] = {n.name: {} for n in self.nodes}
        for n in self.nodes:
            for p in n.parents:
                kids[p][n.name] = None  # a dict keeps the order and makes this O(1)
        self._children = {k: tuple(v) for k, v in kids.items()}
        self._roles = {}
        self._is_tensor = any(n.shape for n in self.nodes)
        self._letters = frozenset(c for n in self.nodes for c in n.letters)
        self._batched = _batched_names(self.nodes)
        self._compiled = {}
        self._partials = {}
        self._printed = {}
        self._by_element = None  # built on first use: only layer graphs ask

    # --- lookup ---------------------------------------------------------------------

    def __getitem__(self, name: str) -> Node:
        return self._by_name[self.resolve(name)]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        if name in self._by_name:
            return True
        try:  # another spelling of a node's name: w_1 or w₁ for w1, b⁽ᴸ⁾ for b^(L)
            canonical = parse_name(name)
        except ParseError:
            return False
        return canonical in self._by_name or canonical in self._spelled

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def __repr__(self) -> str:
        params = ", ".join(self.params[:6]) + (", …" if len(self.params) > 6 else "")
        return f"<Graph: {len(self.nodes)} nodes, cost {self.cost}, parameters {params}>"

    def __str__(self) -> str:
        return self.definitions()

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
        if canonical in self._spelled:
            return self._spelled[canonical]
        raise GraphError(f"no node named '{name}' in the graph{self._hint(canonical)}")

    def named(self, values: Mapping[str, Any]) -> Names:
        """``values`` keyed by node name, where any spelling (w1, w_1, w₁) looks up."""
        return Names(self, values)

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

    def element_node(self, element: str) -> Node | None:
        """The node whose element is named ``element`` (``W_jk^(L)``: the matrix
        ``W^(L)``; a scalar's element is its name), else ``None``."""
        if self._by_element is None:
            self._by_element = {n.element: n for n in self.nodes}
        return self._by_element.get(element)

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
    def letters(self) -> frozenset[str]:
        """Every index letter the graph's layers use (j in zⱼ, k in Wⱼₖ)."""
        return self._letters

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

    def unicode(self, expr: sp.Expr) -> str:
        """``expr`` as the slides write it, names in the order the user wrote them
        (``w·x + b``); printed once per graph, since a diagram labels every edge with
        its partial (in every frame of the stepper) and most partials repeat."""
        text = self._printed.get(expr)
        if text is None:  # a bare symbol (most edge partials): what to_unicode prints
            text = unicode_name(expr.name) if isinstance(expr, sp.Symbol) else \
                to_unicode(expr, self.order)
            self._printed[expr] = text
        return text

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

    # --- conveniences that reach up (lazy, the one place) ---------------------------
    # The IR imports nothing above it; these methods, which the contract keeps on
    # Graph, import the builder, the compiler and the renderer when called.

    @classmethod
    def from_text(cls, text: str, params: str | Iterable[str] | None = None,
                  cost: str | None = None) -> Graph:
        """Build a graph from gradgraph's text language (see :mod:`gradgraph.parse`).

        ``params`` names the parameters ("w b" or a list); by default leaves named
        w, b, W, θ, γ, β (with any tag or subscript) are parameters and other leaves are
        inputs. ``cost`` names the output node (default: the last assignment that
        nothing else uses).
        """
        from .build import from_text

        return from_text(text, params, cost)

    @classmethod
    def from_expr(cls, expr: sp.Expr | str, params: str | Iterable[str] | None = None,
                  name: str = "C") -> Graph:
        """Build a graph from a SymPy expression; ``name`` is the cost node's name.

        A string is read by gradgraph's own parser (never ``sympify``, which runs
        Python). A SymPy object may hold only symbols, numbers, ``+ × ^`` and
        registered ops (see :func:`gradgraph.ops.checked_expr`); else :class:`GraphError`.
        Nodes are named as the symbols are (``w1`` stays ``w1``); every spelling of a
        name (w1, w_1, w₁) looks it up.
        """
        from .build import from_expr

        # Built on canonical names (w_1), then each named as typed (w1), as from_text does.
        graph = from_expr(expr, params, parse_name(name) if isinstance(name, str) else name)
        return _respelled(graph, _typed_names(expr, name))

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

    def evaluate(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Forward values of every node; data inputs may carry a leading batch axis.

        Over a batch, a data-dependent node, the cost included, has a value per example
        k: ``evaluate(v)["C"]`` is the array of the Cₖ, not their mean (the mean is
        ``gg.compile(g)(v).loss``). Any spelling of a name looks up (w1, w_1, w₁).
        """
        from .numeric import compile_graph

        return self.named(compile_graph(self, self.cost).forward(values))

    def gradients(self, values: Mapping[str, Any], of: str | None = None) -> dict[str, Any]:
        """Adjoint ∂(of)/∂node of every node.

        Over a batch, a parameter's adjoint is the batch mean (1/n) Σₖ ∂Cₖ/∂w, as in the
        slides; a data-dependent node (an input, or computed from one) has one adjoint
        per example, ∂Cₖ/∂nodeₖ — example k's own cost, not divided by n. ``gradcheck``
        reports the same numbers.
        """
        from .numeric import compile_graph

        return self.named(compile_graph(self, of or self.cost)(values).gradients)

    # --- end of conveniences that reach up ------------------------------------------


class Names(dict):
    """A result dict keyed by node names as typed; ``w1``, ``w_1`` and ``w₁`` all look up."""

    def __init__(self, graph: Graph, items: Mapping[str, Any]):
        super().__init__(items)
        self._graph = graph

    def _key(self, name: object) -> object:
        if dict.__contains__(self, name) or not isinstance(name, str):
            return name
        try:
            return self._graph.resolve(name)
        except GraphError:
            return name

    def __getitem__(self, name: object) -> Any:
        return dict.__getitem__(self, self._key(name))

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, self._key(name))

    def get(self, name: object, default: Any = None) -> Any:
        return dict.get(self, self._key(name), default)

    def __reduce__(self) -> tuple:
        return (dict, (dict(self),))  # pickles and copies as a plain dict


def checked_expansion(expr: sp.Expr, what: str) -> sp.Expr:
    """``expr`` when it is small enough to print or evaluate, else :class:`GraphError`."""
    size = ops.tree_size(expr, MAX_EXPANDED)
    if size > MAX_EXPANDED:
        raise GraphError(f"{what} would have more than {MAX_EXPANDED:,} terms and "
                         "factors; keep the intermediates named (drop --expand)")
    return expr


def _typed_names(expr: object, cost: object) -> dict[str, str]:
    """{canonical: as typed} for the names in :meth:`Graph.from_expr`'s input that the
    user spelt otherwise (``w_1: w1``); the first spelling of a name wins. A spelling is
    kept by the lexer's rule: plain ASCII, no layer tag (w₁ is read as w_1)."""
    if isinstance(expr, str):
        typed = respelled(tokenize(expr))[1]
    else:
        typed, seen, todo = {}, set(), [expr]
        while todo:  # pre-order over the shared form: each subexpression once
            e = todo.pop()
            if not isinstance(e, sp.Basic) or e in seen:
                continue
            seen.add(e)
            if isinstance(e, sp.Symbol):
                _keep_spelling(typed, e.name)
            todo.extend(reversed(e.args))
    if isinstance(cost, str):
        _keep_spelling(typed, cost)
    return typed


def _keep_spelling(typed: dict[str, str], name: str) -> None:
    canonical = parse_name(name)
    if canonical not in typed:
        typed[canonical] = name if name.isascii() and "^" not in canonical else canonical


def _respelled(graph: Graph, typed: Mapping[str, str]) -> Graph:
    """``graph`` with its nodes renamed as typed (``w_1`` -> ``w1``); ids stay."""
    rename = {c: t for c, t in typed.items() if c != t and c in graph._by_name
              and t not in graph._by_name}
    if not rename:
        return graph
    swap = {symbol(c): symbol(t) for c, t in rename.items()}

    def renamed(e: sp.Expr | None) -> sp.Expr | None:
        return None if e is None else e.xreplace(swap)

    nodes = tuple(replace(n, name=rename.get(n.name, n.name), expr=renamed(n.expr),
                          parents=tuple(rename.get(p, p) for p in n.parents),
                          tensor_expr=renamed(n.tensor_expr)) for n in graph.nodes)
    return Graph(nodes, rename.get(graph.cost, graph.cost), graph.user_ops,
                 {rename.get(k, k): v for k, v in graph.order.items()})


def _batched_names(nodes: Iterable[Node]) -> frozenset[str]:
    """Names of the nodes with a batch axis; ``nodes`` are in topological order."""
    out: set[str] = set()
    for n in nodes:
        if n.role == "input" or (not (n.tspec is not None and n.tspec.reduces_batch)
                                  and any(p in out for p in n.parents)):
            out.add(n.name)
    return frozenset(out)
