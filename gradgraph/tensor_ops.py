"""Tensor ops: contractions and reductions over whole layers, one registry entry each.

These appear only in graphs with declared shapes. Each :class:`TensorOpSpec` holds
everything about one op, as :class:`gradgraph.ops.OpSpec` does for element-wise ops:
its shape rule, its index form (z_j = Σ_k W_jk x_k + b_j, which derive.py
differentiates), a Jacobian where the index form is not enough (softmax), its numpy
forward and pull-back kernels, how it is displayed, and the roles of its arguments.
Every consumer reads these fields; adding a tensor op is adding one block below.

Kernels take the array module first (``forward(xp, *args)``), so the same kernels serve
numpy and a backend with numpy's interface. This module imports nothing of gradgraph
but its errors: callers hand in what an entry needs (element symbols, the element-wise
``exp`` and ``log``) through :class:`IndexContext` and :class:`JacobianContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import sympy as sp

from .errors import GradgraphError

Shape = tuple[int, ...]
Fail = Callable[[str], NoReturn]  # raises a ShapeError that names the node and line
Union = Callable[[tuple[str, int], tuple[str, int]], None]  # axes sharing one letter
Array = Any

# The number of examples in the mini-batch, Ioffe & Szegedy's m. Its assumptions differ
# from every user symbol's (those are only real=True), so it never equals a user's "m";
# generated code binds it to the batch size at run time.
BATCH_SIZE = sp.Symbol("m", positive=True, integer=True)


@dataclass(frozen=True)
class IndexContext:
    """What an index form needs from the graph: element symbols and element-wise ops."""

    el: Callable[[sp.Expr], sp.Expr]  # node symbol W -> its element W_jk
    elements: Callable[[sp.Expr], sp.Expr]  # a formula's symbols -> their elements
    letters: Mapping[str, tuple[str, ...]]  # node name -> its index letters
    shapes: Mapping[str, Shape]  # node name -> its shape
    fn: Callable[[str], Any]  # element-wise op function by name ("exp", "log")


@dataclass(frozen=True)
class JacobianContext:
    """∂out/∂in between elements: ``out(i)`` is the op's element at letter i."""

    out: Callable[[str], sp.Expr]
    arg: Callable[[int, str], sp.Expr]  # argument k's element at a letter
    fn: Callable[[str], Any]


@dataclass(frozen=True)
class Display:
    """How a node's definition reads: ``(1/m) Σ_B …`` or ``… / Σᵢ exp(zᵢ)``."""

    mean_over_batch: bool = False
    normaliser: str | None = None  # "exp": the index form is a numerator over Σᵢ exp(zᵢ)


@dataclass(frozen=True)
class Fusion:
    """This op taken together with the op that produces its first argument.

    Softmax then cross-entropy: ∂C/∂z_j = a_j − y_j (as frameworks compute it), and one
    log-softmax of the logits serves both the probabilities and the loss.
    """

    producer: str  # the op whose output is this op's first argument
    partial: Callable[[sp.Expr, sp.Expr], sp.Expr]  # (a_j, y_j) -> ∂C/∂z_j
    producer_forward: Callable[..., tuple[Array, Array]]  # (xp, z) -> (kept, producer out)
    forward: Callable[..., Array]  # (xp, kept, *other args) -> this op's value


@dataclass(frozen=True)
class TensorOpSpec:
    """One tensor op; see the module docstring. ``keep_inline`` arguments stay formulas
    in the node's definition (C = Σ_j (a_j − y_j)²) instead of nodes of their own, and
    the kernels receive the formula's value (``body``) with ``units`` trailing axes."""

    name: str
    arity: int
    doc: str
    shape: Callable[[list[Shape], Fail], Shape]
    index_form: Callable[[tuple[sp.Expr, ...], IndexContext], tuple[sp.Expr, tuple[str, ...]]]
    forward: Callable[..., Array]  # forward(xp, *args) or, keep_inline, (xp, body, units)
    # vjp[k](xp, g, out, *args) -> the pull-back to argument k; None: generic, the
    # adjoint broadcast over the units times the printed element partial.
    vjp: tuple[Callable[..., Array] | None, ...] = ()
    keep_inline: bool = False
    label: str = ""
    unify: Callable[[str, tuple[str, ...], Mapping[str, Shape], Union], None] | None = None
    reduces_units: bool = False  # a scalar over its argument's units (sum, cross-entropy)
    reduces_batch: bool = False  # averages the batch axis away (batch_mean)
    jacobian: Callable[[JacobianContext, str, str], tuple[sp.Expr, tuple[str, ...]]] | None \
        = None  # (ctx, i, j) -> (∂out_i/∂in_j, summed letters); None: diff the index form
    vjp_reduced: tuple[bool, ...] = ()  # pull-back k already sums over the batch
    vjp_fresh: tuple[bool, ...] = ()  # pull-back k is an array of its own (not a view)
    matrix_vjp: tuple[str, ...] | None = None  # "{up} {1}ᵀ": {k} names argument k
    display: Display = field(default_factory=Display)
    layer_args: tuple[int, int, int | None] | None = None  # (weight, input, bias)
    loss_args: tuple[int, int] | None = None  # (prediction, target)
    target_distribution: bool = False  # its target is a probability vector
    fusion: Fusion | None = None
    activation: bool = False  # usable as an activation (Activation("softmax"))
    scalar_expand: Callable[[list[list[sp.Expr]], tuple[int, ...], Callable], sp.Expr] | None \
        = None  # element at an index from the arguments' scalars; None: index form
    example: tuple[Shape, ...] = ()  # small argument shapes, for the tests
    func: type[TensorOpFunction] = field(init=False, repr=False, compare=False)

    def arg_is_fresh(self, k: int) -> bool:
        return self.vjp_fresh[k] if k < len(self.vjp_fresh) else True

    def arg_is_reduced(self, k: int) -> bool:
        return self.vjp_reduced[k] if k < len(self.vjp_reduced) else False


class TensorOpFunction(sp.Function):
    """An application of a tensor op (affine, sum, softmax, cross_entropy, …)."""

    tspec: TensorOpSpec

    def _sympystr(self, printer: sp.printing.str.StrPrinter) -> str:
        args = ", ".join(printer._print(a) for a in self.args)
        return f"{self.tspec.name}({args})"


TENSOR_OPS: dict[str, TensorOpSpec] = {}


def register_tensor(spec: TensorOpSpec) -> TensorOpSpec:
    if spec.name in TENSOR_OPS:
        raise GradgraphError(f"op '{spec.name}' is already registered")
    cls = type(f"T_{spec.name}", (TensorOpFunction,), {"tspec": spec, "nargs": spec.arity})
    object.__setattr__(spec, "func", cls)
    TENSOR_OPS[spec.name] = spec
    return spec


def tensor_op(name: str) -> TensorOpSpec | None:
    return TENSOR_OPS.get(name)


def spec_of(expr: Any) -> TensorOpSpec | None:
    """The tensor op applied at the top of ``expr``, if any."""
    return expr.tspec if isinstance(expr, TensorOpFunction) else None


# --- shared rules --------------------------------------------------------------------


def _units(units: int) -> tuple[int, ...]:
    return tuple(range(-units, 0))


def _matvec_shape(shapes: list[Shape], fail: Fail) -> Shape:
    w, x = shapes[0], shapes[1]
    if len(w) != 2 or len(x) != 1:
        fail(f"a layer multiplies a matrix by a vector (W x); got shapes {w} and {x}")
    if w[1] != x[0]:
        fail(f"layer '{{node}}' expects {w[1]} inputs, got {x[0]}")
    if len(shapes) == 3 and shapes[2] not in ((), (w[0],)):
        fail(f"layer '{{node}}' has {w[0]} units but its bias has shape {shapes[2]}")
    return (w[0],)


def _vector(name: str) -> Callable[[list[Shape], Fail], Shape]:
    def shape(shapes: list[Shape], fail: Fail) -> Shape:
        if len(shapes[0]) != 1:
            fail(f"{name} takes a vector, got shape {shapes[0]}")
        return shapes[0]
    return shape


def _layer_unify(node: str, args: tuple[str, ...], shapes: Mapping[str, Shape],
                 union: Union) -> None:
    """A layer's output and its W's rows share a letter; W's columns and the input too."""
    w, x = args[0], args[1]
    union((node, 0), (w, 0))
    union((w, 1), (x, 0))
    if len(args) == 3 and shapes.get(args[2]):
        union((node, 0), (args[2], 0))


def _layer_form(args: tuple[sp.Expr, ...], c: IndexContext) -> tuple[sp.Expr, tuple[str, ...]]:
    w, x = args[0], args[1]
    body = c.el(w) * c.el(x) + (c.el(args[2]) if len(args) == 3 else 0)
    return body, (c.letters[w.name][1],)


def _all_summed(args: tuple[sp.Expr, ...], c: IndexContext) -> tuple[str, ...]:
    return tuple(sorted({ch for s in args[0].free_symbols for ch in c.letters.get(s.name, ())}))


def _outer(xp: Any, g: Array, x: Array) -> Array:
    """Σ over the batch of gⱼ xₖ: gᵀx for a batch, the outer product for one example."""
    return g.T @ x if x.ndim == 2 else xp.multiply.outer(g, x)


def _softmax(xp: Any, z: Array) -> Array:
    # Subtracting the row maximum keeps exp() in range: softmax(z) = softmax(z − m).
    e = xp.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _log_softmax(xp: Any, z: Array) -> Array:
    m = z.max(axis=-1, keepdims=True)
    return z - m - xp.log(xp.exp(z - m).sum(axis=-1, keepdims=True))


def _softmax_vjp(xp: Any, g: Array, a: Array, z: Array) -> Array:
    """Σ_j ∂a_j/∂z_i g_j = a_i (g_i − Σ_j a_j g_j)."""
    return a * (g - (a * g).sum(axis=-1, keepdims=True))


def _softmax_jacobian(c: JacobianContext, i: str, j: str) -> tuple[sp.Expr, tuple[str, ...]]:
    """∂a_i/∂z_j = a_i(δ_ij − a_j): every output a_i depends on z_j, so the chain rule
    sums over i (Σᵢ ∂C/∂aᵢ · ∂aᵢ/∂zⱼ)."""
    return c.out(i) * (sp.KroneckerDelta(sp.Symbol(i), sp.Symbol(j)) - c.out(j)), (i,)


def _softmax_scalars(args: list[list[sp.Expr]], index: tuple[int, ...], fn: Callable) -> sp.Expr:
    exps = [fn("exp")(z) for z in args[0]]
    return exps[index[0]] / sp.Add(*exps)


def _fused_log_softmax(xp: Any, z: Array) -> tuple[Array, Array]:
    logs = _log_softmax(xp, z)
    return logs, xp.exp(logs)


# --- the entries ---------------------------------------------------------------------

AFFINE = register_tensor(TensorOpSpec(
    "affine", 3, "dense layer z_j = Σ_k W_jk x_k + b_j (written W x + b)",
    shape=_matvec_shape, index_form=_layer_form, unify=_layer_unify,
    forward=lambda xp, w, x, b: x @ w.T + b,
    vjp=(lambda xp, g, out, w, x, b: _outer(xp, g, x),
         lambda xp, g, out, w, x, b: g @ w,
         lambda xp, g, out, w, x, b: g),
    vjp_reduced=(True, False, False), vjp_fresh=(False, True, False),
    matrix_vjp=("{up} {1}ᵀ", "{0}ᵀ {up}", "{up}"), layer_args=(0, 1, 2), label="W x + b",
    example=((3, 2), (2,), (3,))))

MATVEC = register_tensor(TensorOpSpec(
    "matvec", 2, "matrix–vector product z_j = Σ_k W_jk x_k (written W x)",
    shape=_matvec_shape, index_form=_layer_form, unify=_layer_unify,
    forward=lambda xp, w, x: x @ w.T,
    vjp=(lambda xp, g, out, w, x: _outer(xp, g, x),
         lambda xp, g, out, w, x: g @ w),
    vjp_reduced=(True, False), vjp_fresh=(False, True),
    matrix_vjp=("{up} {1}ᵀ", "{0}ᵀ {up}"), layer_args=(0, 1, None), label="W x",
    example=((3, 2), (2,))))

SUM = register_tensor(TensorOpSpec(
    "sum", 1, "sum over every unit: sum((a - y)^2) = Σ_j (a_j − y_j)²", keep_inline=True,
    shape=lambda shapes, fail: (),
    index_form=lambda args, c: (c.elements(args[0]), _all_summed(args, c)),
    forward=lambda xp, body, units: xp.sum(body, axis=_units(units)),
    vjp=(None,), reduces_units=True, label="Σ", example=((3,),)))

SOFTMAX = register_tensor(TensorOpSpec(
    "softmax", 1, "softmax a_j = exp(z_j) / Σ_i exp(z_i)",
    shape=_vector("softmax"),
    # The numerator; the normaliser is shown (display) and differentiated (jacobian).
    index_form=lambda args, c: (c.fn("exp")(c.el(args[0])), ()),
    jacobian=_softmax_jacobian, forward=_softmax, vjp=(_softmax_vjp,),
    matrix_vjp=("(diag({out}) − {out} {out}ᵀ) {up}",),
    display=Display(normaliser="exp"), activation=True, scalar_expand=_softmax_scalars,
    label="softmax", example=((3,),)))


def _same_vectors(shapes: list[Shape], fail: Fail) -> Shape:
    _vector("cross_entropy")(shapes, fail)
    if shapes[0] != shapes[1] and shapes[1]:
        shown = " and ".join(str(s) for s in sorted({shapes[0], shapes[1]}))
        fail(f"cannot take the cross-entropy of shapes {shown}")
    return ()


CROSS_ENTROPY = register_tensor(TensorOpSpec(
    "cross_entropy", 2,
    "categorical cross-entropy −Σ_j y_j log a_j; after a softmax it is computed from the "
    "logits, and ∂C/∂z_j = a_j − y_j",
    shape=_same_vectors,
    index_form=lambda args, c: (-c.el(args[1]) * c.fn("log")(c.el(args[0])),
                                c.letters[args[0].name]),
    forward=lambda xp, a, y: -xp.sum(y * xp.log(a), axis=-1),
    vjp=(None, None), reduces_units=True, loss_args=(0, 1), target_distribution=True,
    fusion=Fusion("softmax", partial=lambda a, y: a - y, producer_forward=_fused_log_softmax,
                  forward=lambda xp, logs, y: -xp.sum(y * logs, axis=-1)),
    label="CE", example=((3,), (3,))))


def _batch_mean_vjp(xp: Any, g: Array, out: Array, body: Array) -> Array:
    """∂μⱼ/∂zⱼ = 1/m for each of the m examples, broadcast over the batch."""
    return xp.broadcast_to(g / body.shape[0], body.shape)


BATCH_MEAN = register_tensor(TensorOpSpec(
    "batch_mean", 1,
    "mean over the examples of the mini-batch, per unit: batch_mean(z) = (1/m) Σ_B z_j "
    "(batch normalisation's μ and σ²); its argument is kept inline, like sum's",
    keep_inline=True, shape=lambda shapes, fail: shapes[0],
    # One example's share of the mean, (1/m)·zⱼ: differentiating it gives the
    # per-example partials of Ioffe & Szegedy (∂μⱼ/∂zⱼ = 1/m); a node without a batch
    # axis sums such shares over the batch (numeric.py), which is the Σᵢ of the paper.
    index_form=lambda args, c: (c.elements(args[0]) / BATCH_SIZE, ()),
    forward=lambda xp, body, units: xp.mean(body, axis=0),
    vjp=(_batch_mean_vjp,), vjp_fresh=(False,), reduces_batch=True,
    display=Display(mean_over_batch=True), label="mean_B", example=((3,),)))


def _units_of(args: tuple[sp.Expr, ...], c: IndexContext) -> int:
    count = 1
    for n in max((c.shapes.get(s.name, ()) for s in args[0].free_symbols), key=len,
                  default=()):
        count *= n
    return count


MEAN = register_tensor(TensorOpSpec(
    "mean", 1, "mean over every unit: mean((a - y)^2) = (1/n) Σ_j (a_j − y_j)²",
    keep_inline=True, shape=lambda shapes, fail: (),
    index_form=lambda args, c: (c.elements(args[0]) / _units_of(args, c),
                                _all_summed(args, c)),
    forward=lambda xp, body, units: xp.mean(body, axis=_units(units)),
    vjp=(None,), reduces_units=True, label="mean", example=((3,),)))
