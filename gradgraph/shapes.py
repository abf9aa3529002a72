"""Layers: tensor nodes with shapes, in matrix form and in index notation.

Text that declares shapes (``W: param(2, 2); x: input(2)``) describes layers. This
module turns its formulas into the graph's tensor ops and checks shapes as it goes:

- ``W x + b``, or ``z_j = sum_k W_jk x_k + b_j``  →  ``affine(W, x, b)``
- ``sum((a - y)^2)`` or ``sum_j (a_j - y_j)^2``   →  ``sum(...)``, its argument kept inline
- ``sigma(z)``, ``(a - y)^2``, ``softmax(z)``, ``cross_entropy(a, y)`` as written;
- ``batch_mean(z)``, ``batch_mean((z - mu)^2)``  →  a mean over the examples of the batch
  (batch normalisation), its argument kept inline like ``sum``'s.

Then every node gets index letters, chosen so that the slides' letters come out: the
units of the last layer are j, the layer before k, then i, h, … (an affine layer's
output and its W's rows share a letter, W's columns and the input share another).
Each node's element definition (z_j = Σ_k W_jk x_k + b_j) is what derive.py
differentiates; numeric.py runs the whole arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import sympy as sp

from . import ops
from .errors import ShapeError
from .notation import split_name
from .parse import IndexSum, symbol
from .tensor_ops import IndexContext

Shape = tuple[int, ...]
LETTERS = "jkihgmnpqrstuv"


def element_name(name: str, letters: tuple[str, ...]) -> str:
    """``a^(L)`` with (j,) -> ``a_j^(L)``; ``W`` with (j, k) -> ``W_jk``."""
    if not letters:
        return name
    head, sep, tag = name.partition("^")
    joiner = "" if "_" in head else "_"
    return f"{head}{joiner}{''.join(letters)}{sep}{tag}"


# --- shapes --------------------------------------------------------------------------


class Shapes:
    """Shape inference over node-level expressions; errors name the node and line."""

    def __init__(self, shapes: dict[str, Shape], where: Callable[[str], str]):
        self.shapes = shapes
        self.where = where

    def of(self, e: sp.Expr, node: str) -> Shape:
        if isinstance(e, sp.Symbol):
            return self.shapes.get(e.name, ())
        if e.is_Number or not e.args:
            return ()
        if isinstance(e, ops.TensorOpFunction):
            return self.tensor_op(e, node)
        shapes = [self.of(a, node) for a in e.args]
        if isinstance(e, sp.Pow):
            if shapes[1]:
                raise ShapeError(f"an exponent must be a number or scalar {self.where(node)}")
            return shapes[0]
        return self.same(shapes, node, "combine")

    def same(self, shapes: list[Shape], node: str, verb: str) -> Shape:
        tensors = sorted({s for s in shapes if s})
        if len(tensors) > 1:
            shown = " and ".join(str(s) for s in tensors)
            raise ShapeError(f"cannot {verb} shapes {shown} {self.where(node)}")
        return tensors[0] if tensors else ()

    def tensor_op(self, e: ops.TensorOpFunction, node: str) -> Shape:
        shapes = [self.of(a, node) for a in e.args]

        return e.tspec.shape(shapes, lambda message: self.tensor_fail(message, node))

    def tensor_fail(self, message: str, node: str) -> NoReturn:
        raise ShapeError(f"{message.replace('{node}', node)} {self.where(node)}")


# --- lowering: matrix and index forms -> tensor ops ----------------------------------


class Lowering:
    """Rewrites one assignment's formula into node-level tensor ops."""

    def __init__(self, shapes: Shapes):
        self.shapes = shapes

    def lower(self, e: sp.Expr, node: str) -> sp.Expr:
        if isinstance(e, sp.Symbol):
            return symbol(e.name)
        if e.is_Number or not e.args:
            return e
        if isinstance(e, IndexSum):
            return self.index_sum(e, node)
        args = [self.lower(a, node) for a in e.args]
        if isinstance(e, sp.Mul):
            return self.product(e, args, node)
        if isinstance(e, sp.Add):
            return self.affine(args, node)
        return e.func(*args)

    def product(self, e: sp.Mul, args: list[sp.Expr], node: str) -> sp.Expr:
        shaped = [(a, self.shapes.of(a, node)) for a in args]
        matrices = [a for a, s in shaped if len(s) == 2]
        if not matrices:
            return sp.Mul(*args)
        if len(matrices) > 1 or len([a for a, s in shaped if s]) != 2:
            raise ShapeError(f"write one matrix–vector product W x at a time "
                             f"{self.shapes.where(node)}")
        tensors = [a for a, s in shaped if s]
        if tensors[0] is not matrices[0]:
            raise ShapeError(f"write the matrix first, as in W x {self.shapes.where(node)}")
        scalars = [a for a, s in shaped if not s]
        product = ops.MATVEC.func(*tensors)
        self.shapes.of(product, node)  # checks the inner dimensions
        return sp.Mul(*scalars, product)

    def affine(self, args: list[sp.Expr], node: str) -> sp.Expr:
        """W x + b is one affine layer: one node, three edges, as on the slides."""
        products = [a for a in args if isinstance(a, ops.TensorOpFunction)
                    and a.tspec is ops.MATVEC]
        rest = [a for a in args if a not in products]
        if len(products) == 1 and len(rest) == 1 and self.shapes.of(rest[0], node):
            w, x = products[0].args
            layer = ops.AFFINE.func(w, x, rest[0])
            self.shapes.of(layer, node)
            return layer
        return sp.Add(*args)

    def index_sum(self, e: IndexSum, node: str) -> sp.Expr:
        raise ShapeError(f"'sum_{e.args[1]}' appears where it cannot be read as a layer; "
                         f"write it as in z_j = sum_k W_jk x_k + b_j "
                         f"{self.shapes.where(node)}")


class IndexForm:
    """Reads index notation (z_j = Σ_k W_jk x_k + b_j) as matrix form (z = W x + b)."""

    def __init__(self, shapes: Shapes):
        self.shapes = shapes

    def element(self, name: str) -> tuple[str, str] | None:
        """``W_jk^(L)`` -> (``W^(L)``, ``jk``) when W^(L) is a tensor of 2 axes."""
        base, sub, tag = split_name(name)
        if not sub or not sub.isalpha():
            return None
        tensor = base + (f"^({tag})" if tag else "")
        shape = self.shapes.shapes.get(tensor)
        if shape is None or len(shape) != len(sub):
            return None
        return tensor, sub

    def uses_indices(self, e: sp.Expr) -> bool:
        return any(isinstance(s, IndexSum) for s in sp.preorder_traversal(e)) or any(
            self.element(s.name) for s in e.free_symbols if isinstance(s, sp.Symbol))

    def to_matrix(self, e: sp.Expr, node: str) -> tuple[sp.Expr, str]:
        """(matrix-form expression, its free index letters)."""
        if isinstance(e, sp.Symbol):
            ref = self.element(e.name)
            return (sp.Symbol(ref[0], commutative=False), ref[1]) if ref else (e, "")
        if isinstance(e, IndexSum):
            return self.summed(e, node)
        if e.is_Number or not e.args:
            return e, ""
        parts = [self.to_matrix(a, node) for a in e.args]
        letters = {p[1] for p in parts if p[1]}
        if len(letters) > 1:
            raise ShapeError(f"indices {' and '.join(sorted(letters))} do not match in one "
                             f"element-wise formula {self.shapes.where(node)}")
        return e.func(*[p[0] for p in parts]), (letters.pop() if letters else "")

    def summed(self, e: IndexSum, node: str) -> tuple[sp.Expr, str]:
        term, k = e.args[0], str(e.args[1])
        refs = [self.element(s.name) for s in term.free_symbols]
        refs = [r for r in refs if r]
        matrices = [r for r in refs if len(r[1]) == 2]
        if len(matrices) == 1 and matrices[0][1][1] == k and isinstance(term, sp.Mul):
            w, (row, _) = matrices[0][0], matrices[0][1]
            vectors = [r for r in refs if r[1] == k]
            if len(vectors) == 1 and len(refs) == 2:
                scalars = [a for a in term.args if not (isinstance(a, sp.Symbol)
                                                        and self.element(a.name))]
                return sp.Mul(*scalars, sp.Symbol(w, commutative=False),
                              sp.Symbol(vectors[0][0], commutative=False)), row
        inner, letters = self.to_matrix(term, node)
        if letters and set(letters) != {k}:
            raise ShapeError(f"'sum_{k}' must run over the index of its terms "
                             f"({letters}) {self.shapes.where(node)}")
        return ops.SUM.func(inner), ""


def lower_assignment(name: str, expr: sp.Expr, shapes: Shapes) -> tuple[str, sp.Expr]:
    """(node name, node-level expression) for one assignment of a tensor program."""
    index = IndexForm(shapes)
    if index.uses_indices(expr):
        base, sub, tag = split_name(name)
        target = base + (f"^({tag})" if tag else "") if sub.isalpha() else name
        expr, letters = index.to_matrix(expr, target)
        if sub.isalpha() and len(sub) != len(letters) and target != name:
            raise ShapeError(f"'{name}' has index {sub} but its formula has "
                             f"{letters or 'none'} {shapes.where(target)}")
        name = target
    return name, Lowering(shapes).lower(expr, name)


# --- index letters -------------------------------------------------------------------


class _Axes:
    """Union-find over (node, axis): axes that must carry the same index letter."""

    def __init__(self) -> None:
        self.parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(self, a: tuple[str, int]) -> tuple[str, int]:
        self.parent.setdefault(a, a)
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: tuple[str, int], b: tuple[str, int]) -> None:
        self.parent[self.find(a)] = self.find(b)


def assign_letters(nodes: list[Any], shapes: dict[str, Shape]) -> dict[str, tuple[str, ...]]:
    """Index letters for every tensor node (see the module docstring)."""
    axes = _Axes()
    by_name = {n.name: n for n in nodes}
    for n in nodes:
        if n.expr is not None:
            _unify(n, shapes, axes)
    depth = _depth_from_output(nodes)
    classes: dict[tuple[str, int], int] = {}
    for n in nodes:
        # Letters go to the layers nearest the cost first: j, then k, … Parameters do
        # not vote: a penalty Σ W² reaches W from the cost in one step, but W's rows
        # belong to its layer's units.
        rank = depth.get(n.name, 10**6) if n.role not in ("param", "const") else 10**6
        for i in range(len(shapes.get(n.name, ()))):
            root = axes.find((n.name, i))
            classes[root] = min(classes.get(root, 10**9), rank * 4 + i)
    ordered = sorted(classes, key=lambda r: (classes[r], r))
    letter = {root: LETTERS[i % len(LETTERS)] + ("'" * (i // len(LETTERS)))
              for i, root in enumerate(ordered)}
    return {name: tuple(letter[axes.find((name, i))] for i in range(len(shapes[name])))
            for name in by_name if shapes.get(name)}


def _unify(n: Any, shapes: dict[str, Shape], axes: _Axes) -> None:
    e = n.tensor_expr
    spec = ops.spec_of(e)
    if spec is not None and spec.unify is not None:
        spec.unify(n.name, tuple(a.name for a in e.args), shapes, axes.union)
        return
    inner = e.args[0] if spec is not None and spec.keep_inline else e
    members = [s.name for s in inner.free_symbols if shapes.get(s.name)]
    if not (spec is not None and spec.reduces_units):
        members.append(n.name)
    members = [m for m in members if shapes.get(m)]
    for m in members[1:]:
        for i in range(len(shapes[m])):
            axes.union((members[0], i), (m, i))


def _depth_from_output(nodes: list[Any]) -> dict[str, int]:
    depth: dict[str, int] = {}
    for n in reversed(nodes):
        if n.name not in depth:
            depth[n.name] = 0
        for p in n.parents:
            step = 1 if n.shape or (n.tspec is not None and n.tspec.reduces_units) else 0
            depth[p] = min(depth.get(p, 10**9), depth[n.name] + step)
    return depth


def element_definition(n: Any, letters: dict[str, tuple[str, ...]],
                       shapes: dict[str, Shape] | None = None) -> tuple[sp.Expr, tuple]:
    """(element expression, summed letters) of a tensor node, e.g. W_jk x_k + b_j, (k,)."""
    def el(s: sp.Expr) -> sp.Expr:
        return symbol(element_name(s.name, letters.get(s.name, ())))

    def elements(e: sp.Expr) -> sp.Expr:
        return e.xreplace({s: el(s) for s in e.free_symbols})

    e = n.tensor_expr
    spec = ops.spec_of(e)
    if spec is None:
        return elements(e), ()
    context = IndexContext(el, elements, letters, shapes or {}, _elementwise)
    return spec.index_form(e.args, context)


def _elementwise(name: str) -> Any:
    return ops.lookup(name).func


# --- scalar expansion: one node per neuron --------------------------------------------

MAX_EXPANDED_UNITS = 32  # per axis: expansion is for looking at small networks


def scalar_name(name: str, index: tuple[int, ...]) -> str:
    """``W^(1)`` at (0, 1) -> ``W_01^(1)``; a scalar keeps its name.

    Past 9 the digits are joined with ``_`` (``W_1_10``), so (1, 10) and (11, 0) differ.
    """
    if any(i > 9 for i in index):
        return element_name(name, ("_".join(str(i) for i in index),))
    return element_name(name, tuple(str(i) for i in index))
