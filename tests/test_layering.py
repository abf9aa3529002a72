"""The package's imports form layers: no cycles, and the graph IR imports nothing above it.

An ast scan of gradgraph/ (no import runs): every import of a gradgraph module counts,
at module level or inside a function, except those under ``if TYPE_CHECKING:`` and the
one marked block in graph.py where the contract's conveniences (``Graph.from_text``,
``.evaluate``, ``.gradients``, notebook display) reach up lazily. An import of one's
own parent package is not an edge (a package imports its submodules, not the reverse).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "gradgraph"
LAZY_BLOCK = ("# --- conveniences that reach up (lazy, the one place)",
              "# --- end of conveniences that reach up")
# The IR, bottom up: each may import only modules listed before it (and itself).
IR = ("errors", "tensor_ops", "names", "lexer", "outline", "kernels", "opspec", "exprcheck",
      "ops", "grammar", "parse", "notation", "shapes", "node", "graph")
# Cycles known and owned elsewhere; each entry is a set of modules. Remove when fixed.
# None today: add one only with an owner and a plan, never to make a new cycle pass.
KNOWN_CYCLES: list[frozenset[str]] = []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES.get(name) is not None and MODULES[name].name == "__init__.py"


def _lazy_lines(path: Path) -> range:
    if path.name != "graph.py" or path.parent != ROOT:
        return range(0)
    lines = path.read_text().splitlines()
    start = next(i for i, t in enumerate(lines, 1) if t.strip().startswith(LAZY_BLOCK[0]))
    end = next(i for i, t in enumerate(lines, 1) if t.strip().startswith(LAZY_BLOCK[1]))
    return range(start, end + 1)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                out.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return out


def _targets(module: str, node: ast.AST) -> list[str]:
    """The gradgraph modules one import statement in ``module`` reads."""
    package = module if _is_package(module) else module.rpartition(".")[0]
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "gradgraph"]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = package.split(".")
        base = base[:len(base) - node.level + 1]
        stem = ".".join([*base, node.module] if node.module else base)
    elif (node.module or "").split(".")[0] == "gradgraph":
        stem = node.module
    else:
        return []
    subs = [f"{stem}.{a.name}" for a in node.names if f"{stem}.{a.name}" in MODULES]
    return subs if len(subs) == len(node.names) else [stem, *subs]


def imports(lazy: bool = True) -> dict[str, set[str]]:
    """module -> the gradgraph modules it imports (``lazy``: inside functions too)."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        skip = _type_checking_lines(tree) | set(_lazy_lines(path))
        nodes = ast.walk(tree) if lazy else iter(tree.body)
        edges = set()
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom) and node.lineno not in skip:
                edges.update(t for t in _targets(module, node) if t in MODULES)
        ancestors = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
        graph[module] = edges - ancestors - {module}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[frozenset[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = set()
                    while True:
                        x = stack.pop()
                        on.discard(x)
                        comp.add(x)
                        if x == v:
                            break
                    if len(comp) > 1:
                        out.append(frozenset(comp))
            elif w not in index:
                index[w] = low[w] = len(index)
                stack.append(w)
                on.add(w)
                work.append((w, iter(sorted(graph[w]))))
            elif w in on:
                low[v] = min(low[v], index[w])
    return out


def test_the_scan_sees_imports() -> None:
    graph = imports()
    assert "gradgraph.ops" in graph["gradgraph.graph"]
    assert "gradgraph.tensor_ops" in graph["gradgraph.ops"]


def test_no_import_cycles() -> None:
    found = cycles(imports())
    unexpected = [sorted(c) for c in found if c not in KNOWN_CYCLES]
    assert not unexpected, f"import cycles: {unexpected}"


def test_known_cycles_are_still_there() -> None:
    """A fixed cycle must leave KNOWN_CYCLES, so the list cannot hide a new one."""
    found = cycles(imports())
    assert [sorted(c) for c in KNOWN_CYCLES if c not in found] == []


@pytest.mark.parametrize("lazy", [False, True], ids=["module-level", "with-functions"])
def test_the_ir_imports_nothing_above_it(lazy: bool) -> None:
    graph = imports(lazy)
    known = set().union(*KNOWN_CYCLES) if lazy else set()
    for k, name in enumerate(IR):
        module = f"gradgraph.{name}"
        allowed = {f"gradgraph.{m}" for m in IR[:k]}
        upward = graph[module] - allowed - (known if module in known else set())
        assert not upward, f"{module} imports {sorted(upward)} from above the IR floor"


def test_the_lazy_block_is_marked_once() -> None:
    text = (ROOT / "graph.py").read_text()
    assert text.count(LAZY_BLOCK[0]) == 1 and text.count(LAZY_BLOCK[1]) == 1
