"""Printing the commonest formula shapes of generated code without SymPy's printer.

Most lines of a long chain's program are ``σ(n3)``, ``n4*n7``, ``1 - n5**2``: printing
them straight from the expression (in exactly the printer's order) keeps compiling
linear and fast; anything else goes to the printer.
"""

from __future__ import annotations

import sympy as sp

from . import ops


def quick_print(e: sp.Expr, names: dict | None = None) -> str | None:
    """The printer's text for the commonest shapes, without the printer; None otherwise.

    A node id, an integer, ``σ(z)`` or ``σ′(z)`` of one, ``w*a``, ``a + b``,
    ``w*a + b``, ``1 - a``, ``1 - a**2`` and ``a*(1 - a)``: SymPy orders symbols in a
    product or sum by name, and the terms of a sum in lex order of their monomials,
    which is what this writes (test_codegen compares it with the printer on every
    shape). ``names`` maps symbols to the names to print (the generator's element
    symbols to node ids, without building the renamed expression); a symbol it lacks
    leaves ``e`` to the printer.
    """
    try:
        return _quick(e, names)
    except KeyError:
        return None


def _quick(e: sp.Expr, names: dict | None) -> str | None:
    def name(x: sp.Symbol) -> str:
        return x.name if names is None else names[x]

    if e.is_Symbol:
        return name(e)
    if e.is_Integer:
        return str(e.p)
    args = e.args
    if isinstance(e, ops.OpFunction | ops.PrimeFunction):
        if args[0].is_Symbol and not e.spec.user_defined:
            tail = "_prime" if isinstance(e, ops.PrimeFunction) else ""
            return f"_k_{e.spec.name}{tail}({name(args[0])})"
        return None
    if len(args) != 2:
        return None
    if e.is_Mul:
        if args[0].is_Symbol and args[1].is_Symbol:
            return "*".join(sorted((name(args[0]), name(args[1]))))
        if args[0].is_Symbol and _one_minus(args[1]) == (args[0], 1):
            x = name(args[0])
            return f"{x}*(1 - {x})"  # σ′ from σ's output: a(1 − a)
        return None
    if not e.is_Add:
        return None
    if args[0].is_Symbol and args[1].is_Symbol:
        return " + ".join(sorted((name(args[0]), name(args[1]))))
    minus = _one_minus(e)
    if minus is not None:
        return f"1 - {name(minus[0])}" + ("**2" if minus[1] == 2 else "")
    product, single = (args if args[1].is_Symbol else args[::-1])
    if single.is_Symbol and product.is_Mul and len(product.args) == 2 \
            and all(a.is_Symbol for a in product.args):
        factors = sorted(name(a) for a in product.args)
        single_name = name(single)
        # Lex order of the monomials: the term holding the first name comes first.
        if single_name < factors[0]:
            return f"{single_name} + {factors[0]}*{factors[1]}"
        return f"{factors[0]}*{factors[1]} + {single_name}"
    return None


def _one_minus(e: sp.Expr) -> tuple[sp.Symbol, int] | None:
    """(x, 1) for ``1 - x``, (x, 2) for ``1 - x**2`` (tanh′ from tanh's output); else None."""
    if not e.is_Add or len(e.args) != 2 or sp.S.One not in e.args:
        return None
    other = e.args[1] if e.args[0] is sp.S.One else e.args[0]
    if not (other.is_Mul and len(other.args) == 2 and other.args[0] is sp.S.NegativeOne):
        return None
    x = other.args[1]
    if x.is_Symbol:
        return x, 1
    if x.is_Pow and x.base.is_Symbol and x.exp == 2:
        return x.base, 2
    return None
