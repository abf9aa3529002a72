"""Repeated structure in a graph: the blocks a view may fold into one "× N" box.

The kept nodes are cut into blocks (a layer tag's nodes, or a node with the leaves only
it reads); blocks with the same :func:`signature` (structure with names abstracted) in
a *chain* (each reads the one before) or side by side in *parallel* (same depth, same
kinds of neighbours: the units of a wide layer) are runs :mod:`.views` folds.
"""

from __future__ import annotations

import sympy as sp

from ..graph import Graph
from .labels import layer_tag

WIDE_SUM = 8  # terms from which a sum is drawn as a Σ node (its terms fold on their own)
MIN_REPEAT = 4  # blocks in a run before it is folded (first, × N ≥ 2, last)


def blocks_of(graph: Graph, names: list[str]) -> list[list[str]]:
    """The kept nodes cut into blocks: a layer tag's nodes, or else a node with the
    leaves only it reads (not the terms of a wide sum: they are foldable units of
    their own). Blocks are in the order of their first member."""
    kept = set(names)
    owner: dict[str, str] = {}
    for n in names:
        tag = layer_tag(n)
        if tag:
            owner[n] = "tag:" + tag
            continue
        owner[n] = "node:" + n
        kids = [c for c in graph.children(n) if c in kept] if graph[n].is_leaf else []
        if len(kids) == 1 and not layer_tag(kids[0]) \
                and len(graph[kids[0]].parents) < WIDE_SUM:
            owner[n] = "node:" + kids[0]
    blocks: dict[str, list[str]] = {}
    for n in names:
        blocks.setdefault(owner[n], []).append(n)
    return list(blocks.values())


def signature(graph: Graph, block: list[str]) -> str:
    """The block's structure with names abstracted: roles, ops and definitions in which
    a member is its position and an outside node its role."""
    inside = {n: i for i, n in enumerate(block)}
    parts = []
    for n in block:
        node = graph[n]
        if node.expr is None:
            parts.append(f"{node.role}{node.shape}")
            continue
        swap = {graph[p].symbol: sp.Symbol(f"_m{inside[p]}" if p in inside
                                           else f"_x_{graph[p].role}") for p in node.parents}
        # A layer's node-level form, affine(W, a, b): its element form names the letters.
        expr = node.tensor_expr if node.tensor_expr is not None else node.expr
        parts.append(f"{node.role}{node.shape}:{sp.srepr(expr.xreplace(swap))}")
    return "|".join(parts)


def find_runs(graph: Graph, blocks: list[list[str]]) -> list[tuple[str, list[int]]]:
    """Runs of identical blocks worth folding: ('chain'|'parallel', block indices)."""
    sig = [signature(graph, b) for b in blocks]
    where = {n: i for i, b in enumerate(blocks) for n in b}
    reads = [{where[p] for n in b for p in graph[n].parents if p in where} - {i}
             for i, b in enumerate(blocks)]
    runs = _chain_runs(sig, reads)
    used = {i for _, run in runs for i in run}
    runs += _parallel_runs(sig, reads, used)
    return sorted(runs, key=lambda r: r[1][0])


def _chain_runs(sig: list[str], reads: list[set[int]]) -> list[tuple[str, list[int]]]:
    """Chains: each block reads exactly one block like itself, read on by it alone."""
    succ: dict[int, list[int]] = {}
    for i, r in enumerate(reads):
        same = [j for j in r if sig[j] == sig[i]]
        if len(same) == 1:
            succ.setdefault(same[0], []).append(i)
    nxt = {j: ks[0] for j, ks in succ.items() if len(ks) == 1}
    has_prev = set(nxt.values())
    runs = []
    for start in range(len(sig)):
        if start in has_prev or start not in nxt:
            continue
        run = [start]
        while run[-1] in nxt:
            run.append(nxt[run[-1]])
        if len(run) >= MIN_REPEAT:
            runs.append(("chain", run))
    return runs


def _parallel_runs(sig: list[str], reads: list[set[int]], used: set[int]
                   ) -> list[tuple[str, list[int]]]:
    """Side by side: same structure, same depth, same kinds of neighbours (the units
    of a wide layer, the terms of a wide sum)."""
    depth = _block_depths(reads)
    fed: list[set[str]] = [set() for _ in sig]
    for i, r in enumerate(reads):
        for j in r:
            fed[j].add(sig[i])
    groups: dict[tuple, list[int]] = {}
    for i in range(len(sig)):
        if i not in used:
            key = (sig[i], depth[i], frozenset(sig[j] for j in reads[i]), frozenset(fed[i]))
            groups.setdefault(key, []).append(i)
    return [("parallel", g) for g in groups.values() if len(g) >= MIN_REPEAT]


def _block_depths(reads: list[set[int]]) -> list[int]:
    """Longest path of blocks leading to each (blocks are in topological order of
    their first member, so a block may read a later one: relax until stable)."""
    depth = [0] * len(reads)
    for _ in range(len(reads)):
        changed = False
        for i, r in enumerate(reads):
            d = max((depth[j] + 1 for j in r), default=0)
            if d > depth[i]:
                depth[i], changed = d, True
        if not changed:
            break
    return depth
