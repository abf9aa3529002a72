"""Code generation for :mod:`gradgraph.numeric`: the graph as numpy source.

:class:`_Generator` prints every node's definition and every edge's local partial as
numpy code, calling registry kernels (``_k_sigma``, ``_k_affine_vjp0``) and naming nodes
by id; :func:`check_generated` refuses any source outside that vocabulary before it runs.
"""

from __future__ import annotations

from collections import Counter

import sympy as sp

from . import ops
from .codecheck import check_generated, compile_checked  # noqa: F401 - re-exported
from .derive import Factor, adjoints, fused_consumer
from .errors import GraphError
from .graph import Graph, Node
from .quick_print import quick_print


class _Generator:
    """Writes ``forward``, ``program`` (every adjoint) and ``step`` (parameters only)."""

    def __init__(self, graph: Graph, of: str):
        self.graph = graph
        self.of = of
        self.ids = {n.name: n.id for n in graph.nodes}
        # Nodes by their names (what derive and the graph hand us): a dict lookup where
        # graph[name] would resolve the spelling each time, tens of thousands of times.
        self.nodes = _Nodes(graph)
        self.rename = {n.element_symbol: sp.Symbol(n.id) for n in graph.nodes}
        # Ioffe & Szegedy's m, the batch size, is a local of the generated program.
        self.rename[ops.BATCH_SIZE] = sp.Symbol("_m")
        self.names = {k: v.name for k, v in self.rename.items()}
        self.batched_symbols = {n.element_symbol for n in graph.nodes
                                if graph.is_batched(n.name)}
        self.printer = ops.KernelPrinter()
        self.adj = adjoints(graph, of)
        self.reuse = self._forward_values()
        # Forward values for the partials that name them, and ids for element symbols,
        # in one pass (top-down: σ(z) becomes a before z is renamed).
        self.reuse_renamed = {**self.rename, **{k: v.xreplace(self.rename)
                                                for k, v in self.reuse.items()}}
        self.backed = set(self.adj.adjoints)
        # Common subexpressions of one child's pull-backs (they share σ′(z)), found once
        # per group and shared by both programs; one program-wide cse was superlinear.
        self._temps = sp.numbered_symbols("t")
        self._cse: dict[tuple[Factor, ...], tuple[list[str], list[sp.Expr]]] = {}
        self._printed: dict[sp.Expr, str] = {}
        self._contributions: dict[tuple[Factor, sp.Expr, bool], tuple[str, bool]] = {}

    def source(self) -> str:
        forward = self.forward_lines()
        leaves = ", ".join(self.ids[n] for n in self.graph.leaves)
        all_ids = ", ".join(n.id for n in self.graph.nodes)
        full = self.backward_lines(set(self.adj.adjoints), hot=False)
        grads = ", ".join(_g(n.id) if n.name in self.adj.adjoints else "None"
                          for n in self.graph.nodes)
        needed = self._needed_for_params()
        hot = self.backward_lines(needed, hot=True)
        params = ", ".join(_g(self.ids[p]) if p in needed else "0.0"
                           for p in self.graph.params)
        # The forward body is written once, in ``forward``; the other programs call it
        # and unpack every value (printing, checking and compiling it three times cost
        # more than the backward pass on a long chain).
        head = f"    {all_ids}, = forward({leaves})\n" + "".join(
            line + "\n" for line in forward if line.startswith("    _m = "))
        # Kept for variants of the step that also return some forward values.
        self.step_parts = (leaves, head + "\n".join(hot),
                           f"{self.ids[self.of]}, ({params}{',' if params else ''})")
        return (
            f"def forward({leaves}):\n" + "\n".join(forward)
            + f"\n    return ({all_ids},)\n\n\n"
            f"def program({leaves}):\n{head}" + "\n".join(full)
            + f"\n    return ({all_ids},), ({grads},)\n\n\n"
            f"def step({leaves}):\n{head}" + "\n".join(hot)
            + f"\n    return {self.ids[self.of]}, ({params}{',' if params else ''})\n"
        )

    # forward ---------------------------------------------------------------------

    def code(self, e: sp.Expr) -> str:
        quick = quick_print(e, self.names)  # without building the renamed expression
        return quick if quick is not None else self.doprint(e.xreplace(self.rename))

    def doprint(self, e: sp.Expr) -> str:
        """The printer's code for ``e``, printed once (both programs print each partial)."""
        out = self._printed.get(e)
        if out is None:
            out = quick_print(e)
            if out is None:
                out = self.printer.doprint(e)
            self._printed[e] = out
        return out

    def arg(self, e: sp.Expr) -> str:
        return self.ids[e.name]

    def forward_lines(self) -> list[str]:
        lines = []
        if any(n.tspec is not None and n.tspec.reduces_batch for n in self.graph.nodes):
            lines.append(f"    _m = {self._batch_source()}.shape[0]")
        for n in self.graph.nodes:
            if n.expr is None:
                continue
            consumer = fused_consumer(self.graph, n)
            if consumer is not None:
                # One log-softmax serves both the probabilities and the loss.
                z = ", ".join(self.arg(a) for a in n.tensor_expr.args)
                lines.append(f"    {n.id}l, {n.id} = _k_{consumer.op}_producer(numpy, {z})")
                continue
            lines.append(f"    {n.id} = {self.forward_expr(n)}")
        return lines

    def _batch_source(self) -> str:
        """A leaf that always has the batch axis: a data input with a declared shape."""
        for n in self.graph.nodes:
            if n.role == "input" and n.shape:
                return n.id
        raise GraphError("batch_mean needs a data input declared with a shape, "
                         "e.g. 'x: input(64)', to count the examples of a batch")

    def forward_expr(self, n: Node) -> str:
        spec, t = n.tspec, n.tensor_expr
        if spec is None:
            return self.code(n.expr)
        if spec.keep_inline:
            # The kernel reads the value of its argument, an element-wise formula.
            inner = t.args[0]
            body = inner.xreplace({s: self.nodes[s.name].element_symbol
                                   for s in inner.free_symbols})
            return f"_k_{spec.name}(numpy, {self.code(body)}, {len(n.sums)})"
        args = [self.arg(a) for a in t.args]
        producer = self.nodes[t.args[0].name]
        if spec.fusion is not None and fused_consumer(self.graph, producer) is n:
            return f"_k_{spec.name}_fused(numpy, {args[0]}l, {', '.join(args[1:])})"
        return f"_k_{spec.name}(numpy, {', '.join(args)})"

    def _forward_values(self) -> dict[sp.Expr, sp.Expr]:
        """Partials that name a forward value: σ(z) -> a, σ′(z) -> a(1 − a)."""
        out: dict[sp.Expr, sp.Expr] = {}
        for n in self.graph.nodes:
            e = n.expr
            if isinstance(e, ops.OpFunction) and not e.spec.user_defined:
                out[e] = n.element_symbol
                if e.spec.prime_from_output is not None:
                    out[e.spec.prime(e.args[0])] = e.spec.prime_from_output(n.element_symbol)
        return out

    # backward --------------------------------------------------------------------

    def _needed_for_params(self) -> set[str]:
        """The adjoints the parameters' adjoints are built from, and nothing else.

        A softmax output's own adjoint is skipped when cross-entropy is taken from the
        logits: no parameter's pull-back reads it.
        """
        needed: set[str] = set()
        todo = [p for p in self.graph.params if p in self.adj.adjoints]
        while todo:
            name = todo.pop()
            if name in needed:
                continue
            needed.add(name)
            todo.extend(t.child for t in self.adj.adjoints[name].terms)
        return needed

    def backward_lines(self, wanted: set[str], hot: bool) -> list[str]:
        terms: dict[str, list[str]] = {}
        pending: list[tuple[Factor, sp.Expr]] = []
        for name, adj in self.adj.adjoints.items():
            if name in wanted:
                pending.extend((t, t.expr) for t in adj.terms if t.child in wanted)
        lines, reduced = self._shared(pending)
        out = self.ids[self.of]
        # In the training step every example's seed is the same 1/n: keep it a scalar,
        # unless some pull-back from the output has no batch axis (C = CE + λΣw²: the
        # λ term's adjoint is the sum of n seeds, which needs the per-example array).
        self.scalar_seed = hot and self.graph.is_tensor and self.nodes.is_batched(
            self.of) and all(self.is_batched_expr(t.expr) for t, _ in pending
                             if t.child == self.of)
        seed = f"1.0 / {out}.shape[0]" if self.scalar_seed else f"_seed({out})"
        lines.append(f"    {_g(out)} = {seed}")
        uses = Counter(f.child for f, _ in pending)
        in_place: dict[str, str] = {}
        for (factor, _), e in zip(pending, reduced, strict=True):
            if hot and self._may_scale_in_place(factor, uses):
                in_place[factor.parent] = self.doprint(e)
                continue
            # Both programs pull back through the same edges: write each pull-back once.
            key = (factor, e, self.scalar_seed)
            code = self._contributions.get(key)
            if code is None:
                code = self._contributions[key] = self.contribution(factor, e)
            terms.setdefault(factor.parent, []).append(code)
        for name in self.adj.adjoints:
            if name == self.of or name not in wanted:
                continue
            node = self.nodes[name]
            if name in in_place:
                # The child's adjoint is used nowhere else: scale it where it lies
                # instead of allocating another batch-sized array (relu′, tanh′ layers).
                child = _g(self.nodes[self.adj.adjoints[name].terms[0].child].id)
                lines.append(f"    {_g(node.id)} = {child}")
                lines.append(f"    {_g(node.id)} *= {in_place[name]}")
                continue
            parts = terms.get(name, [("0.0", True)])
            if not self.nodes.is_batched(name):
                # Each pull-back is reduced on its own: one may already be summed over
                # the batch (gᵀx) while another still has a batch axis.
                summands = [self.reduced(c, done, node) for c, done in parts]
            else:
                summands = [c for c, _ in parts]
            lines.extend(_sum_lines(_g(node.id), summands))
        return lines

    def _shared(self, pending: list[tuple[Factor, sp.Expr]]
                ) -> tuple[list[str], list[sp.Expr]]:
        """Temporaries' lines and each partial with them, cse'd per child's group."""
        groups: dict[str, list[int]] = {}
        for i, (factor, _) in enumerate(pending):
            groups.setdefault(factor.child, []).append(i)
        lines: list[str] = []
        reduced: list[sp.Expr] = [sp.S.Zero] * len(pending)
        for indices in groups.values():
            key = tuple(pending[i][0] for i in indices)
            if key not in self._cse:
                exprs = [pending[i][1].xreplace(self.reuse_renamed) for i in indices]
                temps, done = (sp.cse(exprs, symbols=self._temps, optimizations=None)
                               if _may_share(exprs) else ([], exprs))
                self._cse[key] = ([f"    {t} = {self.doprint(e)}"
                                   for t, e in temps], done)
            group_lines, done = self._cse[key]
            lines.extend(group_lines)
            for i, e in zip(indices, done, strict=True):
                reduced[i] = e
        return lines, reduced

    def _may_scale_in_place(self, f: Factor, uses: Counter) -> bool:
        """A pull-back through an element-wise op whose adjoint nothing else reads."""
        child, parent = self.nodes[f.child], self.nodes[f.parent]
        return (child.kind == "elementwise" and child.name != self.of and uses[f.child] == 1
                and len(self.adj.adjoints[f.parent].terms) == 1 and bool(child.shape)
                and child.shape == parent.shape and self.nodes.is_batched(f.child)
                and self.nodes.is_batched(f.parent) and self._fresh(f.child))

    def _fresh(self, name: str) -> bool:
        """True when ``name``'s adjoint is an array of its own, not a view of another's.

        A bias pulls back the layer's adjoint itself (g_b = g_z) and a batch mean a
        broadcast view: scaling those in place would change another node's adjoint.
        """
        terms = self.adj.adjoints[name].terms
        if len(terms) != 1:
            return False
        child = self.nodes[terms[0].child]
        if child.tspec is None:
            return True
        symbols = child.tensor_expr.args
        k = symbols.index(self.nodes[name].symbol) if self.nodes[name].symbol in symbols else 0
        return child.tspec.arg_is_fresh(k)

    def is_batched_expr(self, e: sp.Expr) -> bool:
        """True when ``e`` (in element symbols) has one value per example."""
        return bool(e.free_symbols & self.batched_symbols)

    def batch_mean_pullback(self, f: Factor, g: str, printed: str) -> tuple[str, bool]:
        """(∂C/∂μ)·∂μ/∂(parent) through μ = batch_mean(...); True if batch-free.

        The partial is one example's, (1/m)·∂(inner)/∂(parent): a batched parent gets it
        for each example (broadcast when it is the same for all, as ∂μⱼ/∂zⱼ = 1/m is); a
        batch-free parent sums it over the batch, as Ioffe & Szegedy's Σᵢ does.
        """
        code = f"{g}*({printed})"
        per_example = self.is_batched_expr(f.expr)
        if self.nodes.is_batched(f.parent):
            if not per_example:
                code = f"numpy.broadcast_to({code}, {self.ids[f.parent]}.shape)"
            return code, False
        return code, not per_example

    def reduced(self, code: str, done: bool, node: Node) -> str:
        if done:
            return code
        if not self.graph.is_tensor:
            return f"_reduce({code}, 0)"  # scalar graphs: a batch is known only at run time
        return f"({code}).sum(axis=0)"

    def contribution(self, f: Factor, partial: sp.Expr) -> tuple[str, bool]:
        """Code for (child's adjoint) pulled back through one edge; True if batch-free."""
        child = self.nodes[f.child]
        g = _g(child.id)
        spec = child.tspec
        # A child that no example feeds has one adjoint for the whole batch already.
        free = not self.nodes.is_batched(f.child)
        printed = self.doprint(partial)
        if spec is not None and spec.reduces_batch:
            return self.batch_mean_pullback(f, g, printed)
        symbols = child.tensor_expr.args if spec is not None else ()
        parent = self.nodes[f.parent].symbol
        k = symbols.index(parent) if parent in symbols else None
        if k is not None and spec.vjp[k] is not None:
            args = ", ".join(self.arg(a) for a in symbols)
            others = [a.name for i, a in enumerate(symbols) if i != k]
            reduced = spec.arg_is_reduced(k) and any(self.nodes.is_batched(o) for o in others)
            return f"_k_{spec.name}_vjp{k}(numpy, {g}, {child.id}, {args})", reduced or free
        if f.child == self.of and self.scalar_seed:
            return f"{g}*({printed})", False
        if spec is not None:  # the adjoint broadcast over the units the op reduces
            expand = "[..., " + ", ".join(["None"] * len(child.sums)) + "]"
            if not partial.free_symbols:  # a constant partial still has the parent's shape
                printed = f"numpy.ones_like({self.nodes[f.parent].id})*{printed}"
            return f"{g}{expand}*({printed})", free
        return f"{g}*({printed})", free




class _Nodes(dict):
    """name -> Node for the generator; any other spelling resolved through the graph."""

    def __init__(self, graph: Graph):
        super().__init__((n.name, n) for n in graph.nodes)
        self.graph = graph
        self.batched = {n.name for n in graph.nodes if graph.is_batched(n.name)}

    def __missing__(self, key: str) -> Node:
        return self.graph[key]

    def is_batched(self, name: str) -> bool:
        return name in self.batched or (name not in self and self.graph.is_batched(name))


def _may_share(exprs: list[sp.Expr]) -> bool:
    """False when cse can find nothing to share: no compound term twice (or once and
    negated: cse shares 8a − 8b and 8b − 8a), and no two sums (or products) with two
    terms in common (cse's a·b out of a·b·c and a·b·d).

    cse costs a millisecond a call even then, most of a long chain's compile time. A
    product's sign is SymPy's (its coefficient); a sum is compared with the others
    under both signs, which costs one negation where SymPy's
    ``could_extract_minus_sign`` sorts the terms (most of this check's time).
    """
    seen: set[sp.Expr] = set()
    sums: list[tuple[frozenset, frozenset]] = []
    products: list[frozenset] = []
    for e in exprs:
        for sub in sp.preorder_traversal(e):
            if sub.is_Atom:
                continue
            if isinstance(sub, sp.Add):
                neg = -sub
                if sub in seen or neg in seen:
                    return True
                sums.append((frozenset(sub.args), frozenset(neg.args) if neg.is_Add
                             else frozenset()))
            elif isinstance(sub, sp.Mul):
                if sub.could_extract_minus_sign() and not (-sub).is_Atom:
                    sub = -sub
                if sub in seen:
                    return True
                products.append(frozenset(sub.args))
            elif sub in seen:
                return True
            seen.add(sub)
    if len(sums) > 16 or len(products) > 16:
        return True  # not worth checking pairwise: let cse look
    if any(len(a & b) > 1 or len(a & negb) > 1
           for i, (a, _) in enumerate(sums) for b, negb in sums[i + 1:]):
        return True
    return any(len(a & b) > 1 for i, a in enumerate(products) for b in products[i + 1:])


SUM_CHUNK = 32  # terms a line: Python's parser recurses once per "+"


def _sum_lines(target: str, terms: list[str]) -> list[str]:
    """``target = t1 + t2 + …``, over several lines when a node has many children.

    A parameter read by 4,000 nodes has 4,000 pull-backs; one line of them nests
    4,000 deep and Python's compiler gives up (RecursionError).
    """
    chunks = [" + ".join(terms[i:i + SUM_CHUNK]) for i in range(0, len(terms), SUM_CHUNK)]
    lines = [f"    {target} = {chunks[0]}"]
    lines.extend(f"    {target} = {target} + ({chunk})" for chunk in chunks[1:])
    return lines


def _axes(k: int) -> str:
    return "-1" if k == 1 else "(" + ", ".join(str(-i) for i in range(k, 0, -1)) + ")"


def _g(node_id: str) -> str:
    return "g" + node_id[1:]
