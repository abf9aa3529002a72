"""The in-place twin of an optimizer's generated update: same source, no new arrays.

:func:`inplace_source` rewrites the straight-line program of :mod:`.codegen` (the one
``.source`` shows and the JAX backend runs) so that every array operation becomes a
numpy ufunc call with ``out=``: results go into buffers the caller owns, so a training
step allocates nothing. Every operation stays the one the original performs, on the same
operands, in the same order (Python's evaluation order of the source), so the results
are bit for bit those of the original program. Scalar sub-expressions (``1 - beta_1**t``)
are left as they are. The input is only ever our own generated source, never user text.

Generated signature::

    name_into(theta, g, *state, t, lr, *hyper, out_theta, *out_state, *scratch)

where ``scratch`` are ``n_scratch`` buffers of the parameter's shape and dtype.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

import numpy as np

# Python operators on arrays and the ufunc numpy's operator calls for each.
_BINOPS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "truediv"}
# Exponents numpy's ``arr ** k`` serves with a cheaper ufunc (same values).
_POWERS = {2: "square", 0.5: "sqrt", -1: "reciprocal"}
# numpy functions the printer may call on arrays: all element-wise ufuncs.
_UFUNCS = {"sqrt", "abs", "maximum", "minimum", "sign", "exp", "log", "square"}


def _safe_div_into(num: Any, den: Any, out: np.ndarray) -> np.ndarray:
    """``_safe_div`` of :mod:`.codegen` written into ``out``: ``num/den``, 0 where ``den == 0``."""
    out[...] = 0
    np.divide(num, den, out=out, where=den != 0)
    return out


class _Lowering:
    """Rewrites one function's assignments into ufunc calls with ``out=``."""

    def __init__(self, arrays: set[str], outputs: dict[str, str]):
        self.arrays = set(arrays)  # names holding arrays
        self.outputs = outputs  # final name -> the out buffer argument it goes to
        self.lines: list[str] = []
        self.n_scratch = 0
        self._free: list[str] = []  # scratch buffers not in use by a live value

    def _is_array(self, node: ast.expr) -> bool:
        return any(isinstance(n, ast.Name) and n.id in self.arrays for n in ast.walk(node))

    def _take(self) -> str:
        if self._free:
            return self._free.pop()
        self.n_scratch += 1
        return f"_s{self.n_scratch - 1}"

    def assign(self, target: str, value: ast.expr) -> None:
        if not self._is_array(value):
            self.lines.append(f"    {target} = {ast.unparse(value)}")
            return
        self.arrays.add(target)
        dest = self.outputs.get(target) or self._take()
        result = self._lower(value, dest)
        if result != dest:
            self.lines.append(f"    numpy.copyto({dest}, {result})")
        if dest != target:
            self.lines.append(f"    {target} = {dest}")

    def _lower(self, node: ast.expr, dest: str) -> str:
        """Emit ``node``'s operations (results in ``dest``); return what holds its value."""
        if not self._is_array(node):
            return f"({ast.unparse(node)})"
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.BinOp):
            return self._binop(node, dest)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return self._call("negative", [node.operand], dest)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in _UFUNCS and not node.keywords:
            return self._call(node.func.attr, node.args, dest)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "_safe_div" and len(node.args) == 2:
            a, b = self._operands(node.args, dest)
            self.lines.append(f"    _safe_div_into({a}, {b}, {dest})")
            return dest
        raise ValueError(f"no in-place form for {ast.unparse(node)!r}")

    def _binop(self, node: ast.BinOp, dest: str) -> str:
        if isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant) \
                and node.right.value in _POWERS:
            return self._call(_POWERS[node.right.value], [node.left], dest)
        if isinstance(node.op, ast.Pow):
            return self._call("power", [node.left, node.right], dest)
        ufunc = _BINOPS.get(type(node.op))
        if ufunc is None:
            raise ValueError(f"no in-place form for {ast.unparse(node)!r}")
        return self._call("divide" if ufunc == "truediv" else ufunc,
                          [node.left, node.right], dest)

    def _call(self, ufunc: str, args: list[ast.expr], dest: str) -> str:
        operands = self._operands(args, dest)
        self.lines.append(f"    numpy.{ufunc}({', '.join(operands)}, out={dest})")
        return dest

    def _operands(self, args: list[ast.expr], dest: str) -> list[str]:
        """Each argument's value, evaluated left to right: the first array result into
        ``dest``, later ones into scratch buffers freed once the call is emitted."""
        operands, taken, dest_used = [], [], False
        for arg in args:
            computed = self._is_array(arg) and not isinstance(arg, ast.Name)
            if computed and not dest_used:
                operands.append(self._lower(arg, dest))
                dest_used = True
            elif computed:
                buf = self._take()
                taken.append(buf)
                operands.append(self._lower(arg, buf))
            else:
                operands.append(self._lower(arg, dest))
        self._free.extend(reversed(taken))
        return operands


def inplace_source(source: str, fname: str, n_state: int) -> tuple[str, int]:
    """The in-place twin of the generated function ``fname`` in ``source`` and the number
    of scratch buffers it takes."""
    func = ast.parse(source).body[0]
    assert isinstance(func, ast.FunctionDef) and func.name == fname
    args = [a.arg for a in func.args.args]
    array_args = args[:2 + n_state]  # theta, g, *state
    ret = func.body[-1]
    assert isinstance(ret, ast.Return) and isinstance(ret.value, ast.Tuple)
    finals = [e.id for e in ret.value.elts if isinstance(e, ast.Name)]
    outs = [f"out_{a}" for a in (args[0], *args[2:2 + n_state])]
    low = _Lowering(set(array_args), dict(zip(finals, outs, strict=True)))
    for stmt in func.body[:-1]:
        assert isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)
        low.assign(stmt.targets[0].id, stmt.value)
    for final, out in zip(finals, outs, strict=True):
        if final in array_args:  # an output the rule never assigns: carried over
            low.lines.append(f"    numpy.copyto({out}, {final})")
    scratch = [f"_s{i}" for i in range(low.n_scratch)]
    header = f"def {fname}_into({', '.join([*args, *outs, *scratch])}):"
    return "\n".join([header, *low.lines]) + "\n", low.n_scratch


def compile_inplace(source: str, fname: str, n_state: int
                    ) -> tuple[str, int, Callable[..., None]]:
    """Generate, compile and return ``(source, n_scratch, function)`` of the twin."""
    text, n_scratch = inplace_source(source, fname, n_state)
    # No builtins, as for the original: only numpy and the guarded division.
    namespace: dict[str, Any] = {"__builtins__": {}, "numpy": np,
                                 "_safe_div_into": _safe_div_into}
    exec(compile(text, f"<gradgraph.optim {fname}_into>", "exec"), namespace)
    return text, n_scratch, namespace[f"{fname}_into"]
