"""The generated-code whitelist (codecheck.check_generated): what it lets through, what not.

It is one linear scan of the source; these cases are the ways Python could be smuggled
into a generated program through a hand-made graph's ids or symbols.
"""

from __future__ import annotations

import pytest

import gradgraph as gg
from gradgraph import examples
from gradgraph.codecheck import check_generated, compile_checked
from gradgraph.errors import GraphError


def test_the_generators_own_sources_pass() -> None:
    for graph in (examples.mlp([3, 4, 2]), examples.chain(3), examples.mazur()[0]):
        source = gg.compile(graph).source
        assert check_generated(source) == source
    ok = ("def step(n0, n1):\n    g2 = numpy.multiply.outer(n0, n1).sum(axis=0)\n"
          "    return g2.T, n1.shape[0], 1e-5 * n0, .5, 2.5e+10, None\n")
    compile_checked(ok)


@pytest.mark.parametrize("source, what", [
    ("n0 = eval(n1)\n", "name 'eval'"),
    ("import os\n", "name 'import'"),
    ("n0 = lambda: 0\n", "name 'lambda'"),
    ("n0 = n1.__class__\n", "attribute '__class__'"),
    ("n0 = 1..__class__\n", "attribute '__class__'"),
    ("n0 = 1.5e3.real\n", "attribute 'real'"),
    ("n0 = (n1).mro\n", "attribute 'mro'"),
    ("n0 = numpy.linalg\n", "attribute 'linalg'"),
    ("n0 = numpy.exp.outer.x\n", "attribute 'x'"),
    ("n0 = numpy . exp(n1)\n", "name 'exp'"),
    ("n0 = 'x'\n", "string"),
    ("n0 = n1  # c\n", "comment"),
    ("n0 = n1 \\\n + n2\n", "ASCII"),
    ("n0 = \uff45\uff56\uff41\uff4c(n1)\n", "ASCII"),  # fullwidth: Python reads it as eval
])
def test_anything_else_is_refused(source: str, what: str) -> None:
    with pytest.raises(GraphError, match="refusing to compile") as info:
        compile_checked(source)
    assert what in str(info.value)


def test_broken_syntax_is_refused_as_a_graph_error() -> None:
    with pytest.raises(GraphError, match="not plain"):
        compile_checked("n0 = (n1\n")


def test_the_quick_printer_writes_what_the_printer_writes() -> None:
    import itertools

    import sympy as sp

    from gradgraph import ops
    from gradgraph.quick_print import quick_print as _quick_print

    printer = ops.KernelPrinter()
    names = [sp.Symbol(f"n{i}") for i in (0, 1, 2, 9, 10, 11, 100)]
    shapes = [lambda a, b, c: a, lambda a, b, c: a * b, lambda a, b, c: a + b,
              lambda a, b, c: a * b + c, lambda a, b, c: ops.SIGMA.func(a),
              lambda a, b, c: ops.SIGMA.prime(a), lambda a, b, c: ops.TANH.func(b),
              lambda a, b, c: 1 - a, lambda a, b, c: 1 - a**2, lambda a, b, c: a * (1 - a),
              lambda a, b, c: sp.Integer(1), lambda a, b, c: sp.Integer(-3)]
    # The same shapes in other symbols, printed under the generator's names.
    elements = {s: sp.Symbol(f"e_{s.name}", real=True) for s in names}
    back = {v: k.name for k, v in elements.items()}
    quick = 0
    for a, b, c in itertools.permutations(names, 3):
        for shape in shapes:
            e = shape(a, b, c)
            got = _quick_print(e)
            assert got is None or got == printer.doprint(e), e
            assert _quick_print(e.xreplace(elements), back) == got, e
            quick += got is not None
    assert quick == 7 * 6 * 5 * len(shapes)
    assert _quick_print(names[0] * (1 - names[1])) is None  # left to the printer
    assert _quick_print(names[0], {}) is None  # a symbol without a name: the printer's
