"""The op registry: the ONLY place an op is defined.

Each :class:`OpSpec` holds everything about one element-wise op: its elementary
SymPy definition, its local partial as a teacher writes it (σ′(z), not
σ(z)(1 − σ(z))), its display names, and its numpy kernels (stable forms where the
naive formula overflows). Parsing, derivation, printing, code generation and the
tests all read these entries; no other module branches on an op's name.

An op appears in expressions as an instance of a SymPy ``Function`` subclass made
here (:class:`OpFunction`), and its derivative as a :class:`PrimeFunction`
(σ′). ``sympy.diff`` works through ``fdiff``, so the chain rule needs no extra code.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mpmath
import numpy as np
import sympy as sp
import sympy.printing.numpy
from mpmath.libmp import prec_to_dps
from sympy.codegen.cfunctions import log1p
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import SymPyPrinter

from . import tensor_ops as _tensor_ops
from .errors import GradgraphError, GraphError, ParseError, UnknownOpError
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

Kernel = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class OpSpec:
    """One element-wise op.

    Attributes
    ----------
    name : canonical name (``sigma``); ``aliases`` are other spellings (``sigmoid``, ``σ``).
    define : elementary SymPy definition, in SymPy's own functions (used to check
        partials against ``sympy.diff`` and to decide answer equivalence).
    partial : the local partial d op(x)/dx as a teacher writes it, in ops; ``None``
        means "keep the derivative as a prime", σ′(x).
    prime_define : definition of the prime in ops (σ′(x) = σ(x)(1 − σ(x))), used to
        evaluate it symbolically and to differentiate it again.
    unicode, latex : display names.
    forward, backward : numpy kernels for op(x) and op′(x).
    numeric, prime_numeric : the kernels' stable formulas as exact SymPy identities
        (σ via e^(−|x|)), printed by plain SymPy printers (``lambdify``, ``pycode``) and
        evaluated in mpmath by ``evalf``; ``None`` means the definition (the partial).

    In plain SymPy an op is an ordinary function: ``evalf`` gives numbers,
    ``rewrite(sympy.exp)`` the definition, ``lambdify`` (any module) elementary code,
    ``sympy.diff`` the partial and, for primes, ``sympy.diff`` of the prime definition.
    """

    name: str
    define: Callable[[sp.Expr], sp.Expr]
    unicode: str
    latex: str
    forward: Kernel
    backward: Kernel
    partial: Callable[[sp.Expr], sp.Expr] | None = None
    prime_define: Callable[[sp.Expr], sp.Expr] | None = None
    aliases: tuple[str, ...] = ()
    user_defined: bool = False
    doc: str = ""
    # op′ written with the op's output a = op(z), for code that reuses the forward
    # value (σ′(z) = a(1 − a), tanh′(z) = 1 − a²); None when there is no such form.
    prime_from_output: Callable[[sp.Expr], sp.Expr] | None = None
    # Float-safe elementary forms of op(x) and op′(x) for code printed by plain SymPy
    # printers (lambdify, pycode): the kernels' stable formulas in SymPy's functions.
    # None means the definition (and, for op′, the partial or prime definition).
    numeric: Callable[[sp.Expr], sp.Expr] | None = None
    prime_numeric: Callable[[sp.Expr], sp.Expr] | None = None
    # How to print an application, with {arg} for the printed argument.
    unicode_form: str = "{name}({arg})"
    latex_form: str = r"{name}\left({arg}\right)"
    func: type[OpFunction] = field(init=False, repr=False, compare=False)
    prime: type[PrimeFunction] = field(init=False, repr=False, compare=False)


class KernelPrinter(NumPyPrinter):
    """gradgraph's code printer: ops print as calls to the registry's kernels (``_k_sigma``).

    Every other printer (lambdify's, ``pycode``) gets elementary code that needs no
    gradgraph name (see :meth:`_GradgraphFunction._plain_code`).
    """

    gradgraph_kernels = True

    def __init__(self, settings: dict | None = None) -> None:
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False,
                          **(settings or {})})


def _kernel_printer(printer: object) -> bool:
    if getattr(printer, "gradgraph_kernels", False):
        return True
    # numeric.py's printer until it uses KernelPrinter: a bare NumPyPrinter that refuses
    # unknown functions (lambdify always allows them, so it never lands here).
    return type(printer) is NumPyPrinter and not printer._settings.get("allow_unknown_functions")


class _GradgraphFunction(sp.Function):
    """What ops and primes share: plain SymPy can evaluate, rewrite and print them."""

    spec: OpSpec
    nargs = 1
    is_real = True

    def elementary_form(self) -> sp.Expr:
        """This application in SymPy's own functions (the argument is kept as it is)."""
        raise NotImplementedError

    def numeric_form(self) -> sp.Expr:
        """A float-safe form for printed code; ops inside it print themselves."""
        raise NotImplementedError

    def _eval_evalf(self, prec: int) -> sp.Expr | None:
        arg = self.args[0]
        if not arg.is_number:
            return self.func(arg._evalf(prec))
        # None (SymPy's "cannot say") outside the real domain: log(−1), 1/0, √−1. SymPy's
        # assumption queries (is_positive) evaluate numbers, so this must never raise.
        try:
            if self.spec.user_defined:  # its body: built-in ops and arithmetic, each exact
                t = sp.Dummy("t", real=True)
                value = self.func(t).numeric_form().evalf(prec_to_dps(prec), subs={t: arg})
                return value if value.is_Float and value.is_finite else None
            x = arg._evalf(prec + 20)
            if not (x.is_Float or x.is_Rational):
                return None
            # The stable form (an exact identity of the definition) in mpmath, with guard
            # bits: SymPy's evalf of log(1 + e^(−700)) or 1 − tanh²(700) would give 0.
            with mpmath.workprec(prec + 20):
                value = _mpmath_form(type(self))(x._to_mpmath(prec + 20))
        except (ArithmeticError, ValueError, TypeError):
            return None
        if not isinstance(value, mpmath.mpf | int) or not mpmath.isfinite(value):
            return None
        return sp.Float(value, precision=prec)

    def _eval_rewrite(self, rule: object, args: tuple, **hints: object) -> sp.Expr:
        # Any rewrite leaves SymPy's own functions: the op has no other meaning there.
        return self.func(*args).elementary_form().rewrite(rule, **hints)

    def _plain_code(self, printer: sp.printing.printer.Printer) -> str:
        # A lambda applied to the argument: the stable forms use x up to four times, and
        # inlining would print σ(σ(σ(…))) 4ᵈ times. Its parameter shadows nothing the
        # body needs (the body holds only x), and the argument is printed outside it.
        x = sp.Symbol("x", real=True)
        applied = self.func(x)
        form = elementary(applied) if isinstance(printer, SymPyPrinter) else applied.numeric_form()
        return f"(lambda x: {printer._print(form)})({printer._print(self.args[0])})"

    _pythoncode = _lambdacode = _mpmathcode = _numexprcode = _plain_code
    _cupycode = _jaxcode = _tensorflowcode = _torchcode = _plain_code


_MPMATH_FORMS: dict[type, Callable[[object], object]] = {}


def _mpmath_form(cls: type[_GradgraphFunction]) -> Callable[[object], object]:
    """A built-in op's (or prime's) stable form as an mpmath function, made once."""
    fn = _MPMATH_FORMS.get(cls)
    if fn is None:
        t = sp.Dummy("t", real=True)  # the only name printed: registry code, no user text
        fn = _MPMATH_FORMS[cls] = sp.lambdify(t, cls(t).numeric_form(), "mpmath")
    return fn


class OpFunction(_GradgraphFunction):
    """An op application, e.g. ``σ(z)``; ``spec`` is set on each subclass."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        arg = self.args[0]
        if self.spec.partial is not None:
            return self.spec.partial(arg)
        return self.spec.prime(arg)

    def elementary_form(self) -> sp.Expr:
        return self.spec.define(self.args[0])

    def numeric_form(self) -> sp.Expr:
        spec, arg = self.spec, self.args[0]
        if spec.user_defined:
            param, body = spec.body  # type: ignore[attr-defined]
            return body.xreplace({param: arg})
        return (spec.numeric or spec.define)(arg)

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        arg = printer._print(self.args[0])
        return self.spec.latex_form.format(name=self.spec.latex, arg=arg)

    def _sympystr(self, printer: sp.printing.str.StrPrinter) -> str:
        return f"{self.spec.name}({printer._print(self.args[0])})"

    def _numpycode(self, printer: sp.printing.numpy.NumPyPrinter) -> str:
        # gradgraph's generated code calls the registry's kernel by the op's registry
        # name; a user-defined op is printed as its body, so only built-in kernels run.
        if _kernel_printer(printer):
            if self.spec.user_defined:  # inline: the generated program names no lambdas
                return printer._print(self.numeric_form())
            return f"_k_{self.spec.name}({printer._print(self.args[0])})"
        return self._plain_code(printer)


class PrimeFunction(_GradgraphFunction):
    """The derivative of an op as a function of the op's input, e.g. ``σ′(z)``."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        # Through a symbol: SymPy cannot differentiate with respect to b + w·x.
        t = sp.Dummy("t", real=True)
        return sp.diff(prime_definition(self.spec, t), t).xreplace({t: self.args[0]})

    def elementary_form(self) -> sp.Expr:
        return _prime_elementary(self.spec, self.args[0])

    def numeric_form(self) -> sp.Expr:
        spec, arg = self.spec, self.args[0]
        if spec.prime_numeric is not None:
            return spec.prime_numeric(arg)
        if spec.partial is not None:
            return spec.partial(arg)
        return prime_definition(spec, arg)

    def _latex(self, printer: sp.printing.latex.LatexPrinter) -> str:
        return rf"{self.spec.latex}'\left({printer._print(self.args[0])}\right)"

    def _sympystr(self, printer: sp.printing.str.StrPrinter) -> str:
        return f"{self.spec.name}'({printer._print(self.args[0])})"

    def _numpycode(self, printer: sp.printing.numpy.NumPyPrinter) -> str:
        if _kernel_printer(printer) and not self.spec.user_defined:
            return f"_k_{self.spec.name}_prime({printer._print(self.args[0])})"
        if _kernel_printer(printer):
            return printer._print(prime_definition(self.spec, self.args[0]))
        return self._plain_code(printer)


def prime_definition(spec: OpSpec, x: sp.Expr) -> sp.Expr:
    """op′(x) written with ops (σ(x)(1 − σ(x))), or from the elementary definition."""
    if spec.prime_define is not None:
        return spec.prime_define(x)
    t = sp.Dummy("t", real=True)
    return sp.diff(spec.define(t), t).subs(t, x)


def _prime_elementary(spec: OpSpec, x: sp.Expr) -> sp.Expr:
    """op′(x) in SymPy's own functions.

    The prime definition when it holds no op (relu′ = Heaviside(x, 0): 0 at the kink,
    as the kernel), else ``sympy.diff`` of the definition: e^(−x)/(1 + e^(−x))² for σ′
    keeps its digits where σ(1 − σ) would cancel to 0.
    """
    if spec.prime_define is not None:
        t = sp.Dummy("t", real=True)
        form = spec.prime_define(t)
        if not form.has(OpFunction, PrimeFunction):
            return form.subs(t, x)
    t = sp.Dummy("t", real=True)
    return sp.diff(spec.define(t), t).subs(t, x)


# --- numpy kernels: stable where the textbook formula overflows ----------------------


def _floating(x: np.ndarray) -> np.ndarray:
    """``x`` as an array in its own float dtype (float32 stays float32: training runs
    in it); integers, bools and Python numbers become float64."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    # exp(-|x|) never overflows; pick the form that divides by 1 + small.
    x = _floating(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _sigmoid_prime(x: np.ndarray) -> np.ndarray:
    # e^(−|x|)/(1 + e^(−|x|))², σ′ being even: σ(1 − σ) is exactly 0 past |x| ≈ 37,
    # this keeps every digit until e^(−|x|) underflows (|x| ≈ 745).
    e = np.exp(-np.abs(_floating(x)))
    return e / ((1.0 + e) * (1.0 + e))


def _tanh_prime(x: np.ndarray) -> np.ndarray:
    # sech² x = 4e^(−2|x|)/(1 + e^(−2|x|))²: 1 − tanh² is exactly 0 past |x| ≈ 19.
    e = np.exp(-2.0 * np.abs(_floating(x)))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(_floating(x), 0.0)


def _step(x: np.ndarray) -> np.ndarray:
    # relu′(0) := 0, the subgradient every framework uses. (np.heaviside is ~15×
    # slower than a comparison and a cast.)
    x = _floating(x)
    return (x > 0).astype(x.dtype)


def _softplus(x: np.ndarray) -> np.ndarray:
    # log(1 + eˣ) = max(x, 0) + log1p(e^(−|x|)): never overflows, and ~2.6× faster
    # than np.logaddexp(0, x) (it is the VAE's hottest kernel).
    x = _floating(x)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _sqrt_prime(x: np.ndarray) -> np.ndarray:
    return 0.5 / np.sqrt(_floating(x))


def _reciprocal(x: np.ndarray) -> np.ndarray:
    return 1.0 / _floating(x)


def _elementwise(fn: Kernel) -> Kernel:
    """A numpy ufunc as a kernel: integers in, float64 out (np.abs(int) stays int)."""

    def kernel(x: np.ndarray) -> np.ndarray:
        return fn(_floating(x))

    kernel.__name__ = kernel.__qualname__ = f"_{fn.__name__}"
    return kernel


_tanh, _exp, _log, _sqrt, _abs, _sign = map(
    _elementwise, (np.tanh, np.exp, np.log, np.sqrt, np.abs, np.sign))


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


# --- the registry --------------------------------------------------------------------

REGISTRY: dict[str, OpSpec] = {}
_ALIASES: dict[str, str] = {}


def register(spec: OpSpec) -> OpSpec:
    """Add ``spec`` to the registry and make its SymPy function classes."""
    for key in (spec.name, *spec.aliases):
        if key in _ALIASES:
            raise GradgraphError(f"op '{key}' is already registered")
    _attach_classes(spec)
    REGISTRY[spec.name] = spec
    for key in (spec.name, *spec.aliases):
        _ALIASES[key] = spec.name
    return spec


def _attach_classes(spec: OpSpec) -> None:
    # Class names are registry names, which the parser restricts to identifiers.
    func = type(spec.name, (OpFunction,), {"spec": spec})
    prime = type(f"{spec.name}_prime", (PrimeFunction,), {"spec": spec})
    object.__setattr__(spec, "func", func)
    object.__setattr__(spec, "prime", prime)


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


# --- what a SymPy object handed to gradgraph may hold --------------------------------

MAX_EXPR_SIZE = 100_000  # nodes of an expression tree (counted, never expanded)
MAX_INT_DIGITS = 30  # as the parser's integer literals
MAX_INT_BITS = 100  # 30 digits, checked without printing the number
# SymPy's own functions that are registered ops under other names (Graph.from_expr maps them).
SYMPY_HEADS: dict[type, str] = {sp.exp: "exp", sp.log: "log", sp.tanh: "tanh", sp.Abs: "abs"}


def checked_expr(expr: object, what: str = "the expression", symbols: bool = True
                 ) -> sp.Expr:
    """``expr`` when it holds only what gradgraph knows, else :class:`GraphError`.

    Allowed: symbols (whose names the parser accepts, when ``symbols``), integers,
    rationals and finite floats, ``+ × ^``, and registered ops (and their primes, and
    SymPy's exp/log/tanh/Abs). Anything else (strings, ``Dummy``, ``pi``, ``oo``,
    ``sin``, ``Lambda``, ``Matrix``, …) is refused, as is a tree of more than
    :data:`MAX_EXPR_SIZE` nodes (counted on the shared DAG, never expanded).
    """
    if isinstance(expr, str):
        raise GraphError(f"{what} is a string; parse it with gradgraph.parse.parse_expression")
    if not isinstance(expr, sp.Basic):
        raise GraphError(f"{what} must be a SymPy expression, got {type(expr).__name__}")
    seen: set[sp.Basic] = set()
    todo = [expr]
    while todo:
        e = todo.pop()
        if e in seen:
            continue
        seen.add(e)
        _check_node(e, what, symbols)
        todo.extend(e.args)
    if tree_size(expr) > MAX_EXPR_SIZE:
        raise GraphError(f"{what} is too large (more than {MAX_EXPR_SIZE:,} nodes)")
    return expr  # type: ignore[return-value]


def _check_node(e: sp.Basic, what: str, symbols: bool) -> None:
    if type(e) is sp.Symbol:  # Dummy and Wild are subclasses: refused below
        if symbols:
            _check_name(e.name, what)
        return
    if isinstance(e, sp.Integer | sp.Rational):
        if max(abs(e.p).bit_length(), e.q.bit_length()) > MAX_INT_BITS:
            raise GraphError(f"{what} holds a number with more than {MAX_INT_DIGITS} digits")
        return
    if isinstance(e, sp.Float):
        if not e.is_finite:
            raise GraphError(f"{what} holds a number that is not finite")
        return
    if isinstance(e, sp.Add | sp.Mul | sp.Pow) or type(e) in SYMPY_HEADS:
        return
    if isinstance(e, OpFunction | PrimeFunction):
        spec = e.spec
        if spec.user_defined or REGISTRY.get(spec.name) is spec:
            return
    raise GraphError(f"{what} holds {type(e).__name__}, which is not a gradgraph op; "
                     f"the ops are {', '.join(REGISTRY)}")


def _check_name(name: str, what: str) -> None:
    from .parse import parse_name  # parse imports this module

    try:
        parse_name(name)
    except ParseError:
        raise GraphError(f"{what} holds a symbol named {name[:40]!r}, which is not a "
                         "name gradgraph accepts") from None


def tree_size(expr: sp.Basic, cap: int = MAX_EXPR_SIZE) -> int:
    """Nodes of ``expr`` as a tree, counted on its DAG (shared parts once each).

    Counts stop at ``cap + 1``: a DAG of depth 60 can stand for a tree of 2⁶⁰ nodes,
    which printing, evaluating or simplifying would walk node by node.
    """
    return fold_dag(expr, lambda e, memo: min(1 + sum(memo[a] for a in e.args), cap + 1))


def fold_dag(expr: sp.Basic, combine: Callable[[sp.Basic, dict], Any]) -> Any:
    """``combine(e, memo)`` for every subexpression, children first, each once (an
    iterative post-order walk, so depth never meets Python's recursion limit)."""
    memo: dict[sp.Basic, Any] = {}
    stack: list[tuple[sp.Basic, bool]] = [(expr, False)]
    while stack:
        e, ready = stack.pop()
        if e in memo:
            continue
        if not ready:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if a not in memo)
            continue
        memo[e] = combine(e, memo)
    return memo[expr]


def as_expr(value: object, what: str = "the expression") -> sp.Basic:
    """A SymPy object for a value handed to a printer or rewriter; never ``sympify``.

    A string goes through gradgraph's safe parser; a Python int or finite float
    becomes a SymPy number; a SymPy object is taken as it is (printing and rewriting
    run no code); anything else is refused with :class:`GraphError`.
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, str):
        from .parse import parse_expression  # parse imports this module

        return parse_expression(value)
    if isinstance(value, bool | np.bool_):
        raise GraphError(f"{what} must be an expression, got a bool")
    if isinstance(value, numbers.Integral):  # int and numpy's integers
        return sp.Integer(int(value))
    if isinstance(value, numbers.Real):
        if not np.isfinite(float(value)):
            raise GraphError(f"{what} is not finite")
        return sp.Float(float(value))
    raise GraphError(f"{what} must be a SymPy expression, got {type(value).__name__}")


def _unavailable(x: np.ndarray) -> np.ndarray:  # pragma: no cover - never called
    raise GradgraphError("user-defined ops are evaluated through their definition")


def lookup(name: str) -> OpSpec | None:
    """The op registered under ``name`` or one of its aliases, else ``None``."""
    canonical = _ALIASES.get(name)
    return REGISTRY[canonical] if canonical else None


def suggest(name: str, extra: tuple[str, ...] = ()) -> str | None:
    """The closest op name to a misspelt ``name`` (for "did you mean")."""
    choices = [k for k in (*_ALIASES, *extra) if k.isascii()]
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def get(name: str) -> OpSpec:
    """The op called ``name``; :class:`UnknownOpError` with a suggestion otherwise."""
    spec = lookup(name)
    if spec is None:
        hint = suggest(name)
        tail = f"; did you mean '{hint}'?" if hint else ""
        raise UnknownOpError(f"unknown function '{name}'{tail}")
    return spec


def elementary(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every op and prime replaced by its elementary SymPy definition.

    The same as plain SymPy's ``expr.rewrite(sympy.exp)`` up to how SymPy's own
    functions are written (tanh stays tanh here); the result evaluates, lambdifies
    and differentiates with SymPy alone.
    """

    def rewrite(e: sp.Expr) -> sp.Expr:
        if isinstance(e, OpFunction):
            return e.spec.define(rewrite(e.args[0]))
        if isinstance(e, PrimeFunction):
            return _prime_elementary(e.spec, rewrite(e.args[0]))
        if e.args:
            return e.func(*[rewrite(a) for a in e.args])
        return e

    return rewrite(as_expr(expr))


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


# --- tensor ops: one registry entry each, in gradgraph.tensor_ops (re-exported) ----

# numpy-bound tensor kernels under their former names, for callers outside the registry.
TENSOR_KERNELS: dict[str, Kernel] = {
    "softmax": lambda z: _tensor_ops._softmax(np, z),
    "log_softmax": lambda z: _tensor_ops._log_softmax(np, z),
    "cross_entropy_logits": lambda z, y: -(y * _tensor_ops._log_softmax(np, z)).sum(axis=-1),
    "softmax_vjp": lambda a, g: _tensor_ops._softmax_vjp(np, g, a, None),
}
