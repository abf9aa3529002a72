"""An op's entry and its SymPy face: :class:`OpSpec`, the registry it lives in, and the
SymPy ``Function`` classes every op and prime is an instance of.

An op appears in expressions as an instance of a SymPy ``Function`` subclass made
here (:class:`OpFunction`), and its derivative as a :class:`PrimeFunction` (σ′).
``sympy.diff`` works through ``fdiff``, so the chain rule needs no extra code; plain
SymPy's ``evalf``, ``rewrite`` and printers (``lambdify``, ``pycode``) work through the
hooks below. The entries themselves are registered in :mod:`gradgraph.ops`, the
registry's front door.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field

import mpmath
import numpy as np
import sympy as sp
import sympy.printing.numpy
from mpmath.libmp import prec_to_dps
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.pycode import SymPyPrinter

from .errors import GradgraphError, GraphError, UnknownOpError

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
                # Parenthesised: the body stands where a call stood, so 2*f(x) with
                # f(x) = x + 1 is 2*(x + 1), and f(x)**2 with f(x) = x**2 is (x**2)**2.
                return f"({printer._print(self.numeric_form())})"
            return f"_k_{self.spec.name}({printer._print(self.args[0])})"
        return self._plain_code(printer)


class PrimeFunction(_GradgraphFunction):
    """The derivative of an op as a function of the op's input, e.g. ``σ′(z)``."""

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        # Through a symbol: SymPy cannot differentiate with respect to b + w·x.
        t = sp.Dummy("t", real=True)
        second = sp.diff(prime_definition(self.spec, t), t)
        # relu′ and abs′ are steps; their derivative, SymPy's DiracDelta, is 0 off the
        # kink (the kernels' convention at it) and has no kernel the program could call.
        second = second.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.S.Zero)
        return second.xreplace({t: self.args[0]})

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
        if _kernel_printer(printer):  # inline, parenthesised as OpFunction's body is
            return f"({printer._print(prime_definition(self.spec, self.args[0]))})"
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

    return rewrite(as_basic(expr))


def as_basic(value: object, what: str = "the expression") -> sp.Basic:
    """A SymPy object for a value handed to a printer or rewriter; never ``sympify``.

    A Python int or finite float becomes a SymPy number; a SymPy object is taken as it
    is (printing and rewriting run no code); anything else, a string included, is
    refused with :class:`GraphError` (:func:`gradgraph.parse.as_expr` also reads
    strings, with the safe parser).
    """
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, str):
        raise GraphError(f"{what} is a string; parse it with gradgraph.parse.parse_expression")
    if isinstance(value, bool | np.bool_):
        raise GraphError(f"{what} must be an expression, got a bool")
    if isinstance(value, numbers.Integral):  # int and numpy's integers
        return sp.Integer(int(value))
    if isinstance(value, numbers.Real):
        if not np.isfinite(float(value)):
            raise GraphError(f"{what} is not finite")
        return sp.Float(float(value))
    raise GraphError(f"{what} must be a SymPy expression, got {type(value).__name__}")
