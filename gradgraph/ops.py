"""The op registry: the ONLY place an op is defined, and its front door.

Each :class:`OpSpec` holds everything about one element-wise op: its elementary
SymPy definition, its local partial as a teacher writes them (σ′(z), not
σ(z)(1 − σ(z))), its display names, and its numpy kernels (stable forms where the
naive formula overflows). Parsing, derivation, printing, code generation and the
tests all read these entries; no other module branches on an op's name.

The entries are registered here; what they are made of lives below this module and is
public here too: :mod:`gradgraph.opspec` (OpSpec, the registry's lookups, the SymPy
``Function`` classes ops and primes are), :mod:`gradgraph.kernels` (numpy kernels),
:mod:`gradgraph.exprcheck` (what a SymPy object handed in may hold) and
:mod:`gradgraph.tensor_ops` (the tensor ops' entries).
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import log1p

from .errors import GradgraphError, ParseError, UnknownOpError  # noqa: F401 - public here
from .exprcheck import (  # noqa: F401 - public here too
    MAX_EXPR_SIZE,
    MAX_INT_BITS,
    MAX_INT_DIGITS,
    SYMPY_HEADS,
    checked_expr,
    fold_dag,
    tree_size,
)
from .kernels import (  # noqa: F401 - public here too
    TENSOR_KERNELS,
    Kernel,
    _abs,
    _exp,
    _log,
    _reciprocal,
    _relu,
    _sigmoid,
    _sigmoid_prime,
    _sign,
    _softplus,
    _sqrt,
    _sqrt_prime,
    _step,
    _tanh,
    _tanh_prime,
    _unavailable,
)
from .opspec import (  # noqa: F401 - public here too: ops is the registry's front door
    REGISTRY,
    KernelPrinter,
    OpFunction,
    OpSpec,
    PrimeFunction,
    _attach_classes,
    as_basic,
    elementary,
    get,
    lookup,
    prime_definition,
    register,
    suggest,
)
from .tensor_ops import (  # noqa: F401 - re-exported: ops is the registry's front door
    AFFINE,
    BATCH_MEAN,
    BATCH_SIZE,
    CROSS_ENTROPY,
    MATVEC,
    MEAN,
    SOFTMAX,
    SUM,
    TENSOR_OPS,
    TensorOpFunction,
    TensorOpSpec,
    register_tensor,
    spec_of,
    tensor_op,
)

# --- the same stable forms in SymPy's functions, for plain SymPy printers -------------


def _relu_form(x: sp.Expr) -> sp.Expr:
    return (x + sp.Abs(x)) / 2  # exact in floats; prints everywhere (Max does not in numpy)


def _sigma_form(x: sp.Expr) -> sp.Expr:
    # 1/(1 + e) for x ≥ 0, e/(1 + e) below, with e = e^(−|x|) ≤ 1: never overflows.
    e, s = sp.exp(-sp.Abs(x)), sp.sign(x)
    return (1 + s) / 2 - s * e / (1 + e)


def _sigma_prime_form(x: sp.Expr) -> sp.Expr:
    e = sp.exp(-sp.Abs(x))
    return e / (1 + e) ** 2


def _tanh_prime_form(x: sp.Expr) -> sp.Expr:
    e = sp.exp(-2 * sp.Abs(x))
    return 4 * e / (1 + e) ** 2


def _softplus_form(x: sp.Expr) -> sp.Expr:
    return _relu_form(x) + log1p(sp.exp(-sp.Abs(x)))


# --- user-defined ops ---------------------------------------------------------------

# A user op's body may call earlier user ops, so f1(x) = f0(f0(x)), f2(x) = f1(f1(x)), …
# doubles at each line: 40 such lines would expand to 2⁴⁰ operations, and anything that
# rewrites the op into elementary functions (checking, evaluating) would never return.
MAX_OP_SIZE = 10_000


def user_op(name: str, param: sp.Symbol, body: sp.Expr) -> OpSpec:
    """An op defined in user text, ``swish(x) = x*sigma(x)``; not added to the registry.

    Its definition is the body in ops; its partial stays a prime (swish′(z)) whose
    definition is ``sympy.diff`` of the body, so it derives like a built-in. A body
    outside the registry (see :func:`checked_expr`), or one whose expansion into
    elementary operations would exceed :data:`MAX_OP_SIZE`, raises :class:`ParseError`.
    """
    if not isinstance(param, sp.Symbol):
        raise ParseError(f"the argument of op '{name}' must be a name")
    checked_expr(body, what=f"the body of op '{name}'", symbols=False)
    size, uses = expanded_size(body, param)
    if size + uses > MAX_OP_SIZE:
        raise ParseError(f"op '{name}' would expand to {size + uses:,} operations (the "
                         f"limit is {MAX_OP_SIZE:,}); nested user ops double at each level")

    def define(x: sp.Expr) -> sp.Expr:
        return elementary(body.xreplace({param: x}))

    def prime_define(x: sp.Expr) -> sp.Expr:
        return sp.diff(body, param).xreplace({param: x})

    spec = OpSpec(
        name=name,
        define=define,
        unicode=name,
        latex=rf"\operatorname{{{name}}}",
        forward=_unavailable,
        backward=_unavailable,
        prime_define=prime_define,
        user_defined=True,
    )
    object.__setattr__(spec, "body", (param, body))
    object.__setattr__(spec, "size", (size, uses))
    _attach_classes(spec)
    return spec


def expanded_size(expr: sp.Expr, param: sp.Symbol | None = None) -> tuple[int, int]:
    """(operations, uses of ``param``) of ``expr`` with every user op inlined.

    Computed without inlining: a call u(A) counts u's own size plus A's size once per
    use of u's argument, with the few integers each user op keeps (``spec.size``).
    Shared subexpressions are visited once, so this is linear in the expression's DAG.
    """
    return fold_dag(expr, lambda e, memo: _size_of(e, param, memo))


def _size_of(e: sp.Basic, param: sp.Symbol | None,
             memo: dict[sp.Basic, tuple[int, int]]) -> tuple[int, int]:
    if param is not None and e == param:
        return 0, 1
    parts = [memo[a] for a in e.args]
    inner = (sum(p[0] for p in parts), sum(p[1] for p in parts))
    own = getattr(getattr(e, "spec", None), "size", None)  # user ops (and their primes)
    if own is None or not parts:
        return 1 + inner[0], inner[1]
    size, uses = own
    if isinstance(e, PrimeFunction):  # the derivative of a body is about twice its size
        size, uses = 2 * size, 2 * uses
    return 1 + size + uses * inner[0], uses * inner[1]


def check_application(spec: OpSpec, arg: sp.Expr) -> None:
    """Refuse ``spec(arg)`` up front when inlining the op would exceed :data:`MAX_OP_SIZE`."""
    own = getattr(spec, "size", None)
    if own is None:
        return
    size, uses = expanded_size(spec.func(arg))
    if size + uses > MAX_OP_SIZE:
        raise ParseError(f"{spec.name}(...) would expand to {size + uses:,} operations (the "
                         f"limit is {MAX_OP_SIZE:,}); nested user ops double at each level")


# --- the entries -------------------------------------------------------------------


def numeric_kernels() -> dict[str, Kernel]:
    """Name -> numpy kernel for every op and prime, for generated code."""
    kernels: dict[str, Kernel] = dict(TENSOR_KERNELS)
    for spec in REGISTRY.values():
        kernels[spec.name] = spec.forward
        kernels[f"{spec.name}_prime"] = spec.backward
    return kernels


def _sigma(x: sp.Expr) -> sp.Expr:
    return SIGMA.func(x)


SIGMA = register(
    OpSpec(
        name="sigma",
        aliases=("sigmoid", "σ"),
        define=lambda x: 1 / (1 + sp.exp(-x)),
        prime_define=lambda x: SIGMA.func(x) * (1 - SIGMA.func(x)),
        prime_from_output=lambda a: a * (1 - a),
        unicode="σ",
        latex=r"\sigma",
        forward=_sigmoid,
        backward=_sigmoid_prime,
        numeric=_sigma_form,
        prime_numeric=_sigma_prime_form,
        doc="logistic sigmoid σ(x) = 1/(1 + e^(−x)); σ′ = σ(1 − σ)",
    )
)
TANH = register(
    OpSpec(
        name="tanh",
        define=sp.tanh,
        prime_define=lambda x: 1 - TANH.func(x) ** 2,
        prime_from_output=lambda a: 1 - a**2,
        unicode="tanh",
        latex=r"\tanh",
        forward=_tanh,
        backward=_tanh_prime,
        prime_numeric=_tanh_prime_form,
        doc="hyperbolic tangent; tanh′ = 1 − tanh²",
    )
)
RELU = register(
    OpSpec(
        name="relu",
        aliases=("ReLU",),
        define=lambda x: sp.Max(x, 0),
        prime_define=lambda x: sp.Heaviside(x, 0),
        prime_from_output=lambda a: RELU.prime(a),  # relu(z) > 0 exactly when z > 0
        unicode="relu",
        latex=r"\operatorname{relu}",
        forward=_relu,
        backward=_step,
        numeric=_relu_form,
        doc="rectified linear unit max(x, 0); relu′ = 1 for x > 0, else 0. The parser "
            "reads max(a, b) as a + relu(b − a) and min(a, b) as a − relu(a − b), so at a tie "
            "the derivative goes to the first argument",
    )
)
SOFTPLUS = register(
    OpSpec(
        name="softplus",
        define=lambda x: sp.log(1 + sp.exp(x)),
        partial=_sigma,
        unicode="softplus",
        latex=r"\operatorname{softplus}",
        forward=_softplus,
        backward=_sigmoid,
        numeric=_softplus_form,
        doc="softplus log(1 + eˣ); its derivative is σ",
    )
)
EXP = register(
    OpSpec(
        name="exp",
        define=sp.exp,
        partial=lambda x: EXP.func(x),
        unicode="exp",
        latex=r"\exp",
        forward=_exp,
        backward=_exp,
        doc="exponential eˣ; its own derivative",
    )
)
LOG = register(
    OpSpec(
        name="log",
        aliases=("ln",),
        define=sp.log,
        partial=lambda x: 1 / x,
        unicode="log",
        latex=r"\log",
        forward=_log,
        backward=_reciprocal,
        doc="natural logarithm; derivative 1/x",
    )
)
SQRT = register(
    OpSpec(
        name="sqrt",
        define=sp.sqrt,
        partial=lambda x: 1 / (2 * SQRT.func(x)),
        unicode="√",
        latex=r"\sqrt",
        unicode_form="√({arg})",
        latex_form=r"\sqrt{{{arg}}}",
        forward=_sqrt,
        backward=_sqrt_prime,
        doc="square root; derivative 1/(2√x)",
    )
)
ABS = register(
    OpSpec(
        name="abs",
        define=sp.Abs,
        partial=sp.sign,
        unicode="abs",
        latex=r"\operatorname{abs}",
        unicode_form="|{arg}|",
        latex_form=r"\left|{arg}\right|",
        forward=_abs,
        backward=_sign,
        doc="absolute value; derivative sign(x) (0 at 0, the subgradient L1 uses)",
    )
)
