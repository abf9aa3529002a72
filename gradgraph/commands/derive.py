"""``gradgraph derive``: the chain rule for one node, or every adjoint at once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import CommandError, graph_source, run_safely

if TYPE_CHECKING:
    from ..graph import Graph


@click.command("derive")
@click.argument("text", required=False)
@click.option("--file", "-f", "file", type=str, metavar="FILE",
              help="Read the graph from this file.")
@click.option("--of", "of", help="Output node (default: the cost, the last assignment).")
@click.option("--wrt", help="Differentiate with respect to this node, e.g. w or 'b^(L)'.")
@click.option("--all", "all_", is_flag=True, help="Every node's adjoint, reusing cached ones.")
@click.option("--expand", is_flag=True, help="Also write the result in the leaves only.")
@click.option("--latex", is_flag=True, help="Print LaTeX instead of Unicode.")
@click.option("--matrix", is_flag=True,
              help="Also give the result for whole layers: δ = ∂C/∂z, ∂C/∂W = δ xᵀ.")
@click.option("--params", help="Names of the parameters, e.g. 'w b' (default: w, b, θ, γ, β).")
@run_safely
def derive_command(text: str | None, file: str | None, of: str | None, wrt: str | None,
                   all_: bool, expand: bool, latex: bool, matrix: bool,
                   params: str | None) -> None:
    """Derive ∂C/∂w by the chain rule on the graph given as TEXT or --file.

    \b
    Examples:
      gradgraph derive "z = w*x + b; a = sigma(z); C = (a - y)^2" --wrt w
      gradgraph derive --file lessons/graphs/chain.gg --wrt "b^(L)" --latex
      gradgraph derive "C = (sigma(w*x + b) - y)^2" --all
      gradgraph derive --file lessons/graphs/layer.gg --wrt "W^(L)" --matrix
    """
    _check_options(wrt, all_, expand, matrix)
    from ..derive import adjoints, check_chain, derive  # SymPy: only once a graph is read
    from ..graph import Graph
    from ..notation import partial_latex, to_latex

    source = _source(text, file)
    if wrt is not None:
        _refuse_many_paths(source, of, wrt)
    graph = Graph.from_text(source, params=params)
    if all_:
        result = adjoints(graph, of)
        _echo_generated(graph, latex)
        click.echo(result.latex() if latex else str(result))
        return
    check_chain(graph, of, wrt)  # refused before the partials of a huge graph
    d = derive(graph, of, wrt)
    if expand:
        _ = d.expanded  # too big to print is refused before any line is written
    _echo_generated(graph, latex)
    if latex:
        click.echo(d.latex())
        if expand:
            click.echo(f"{partial_latex(d.of, d.wrt)} = {to_latex(d.expanded, graph.order)}")
        if matrix:
            click.echo(r"\text{in matrix form:}")
            click.echo(d.matrix_latex())
        return
    click.echo(str(d))
    if expand:
        pad = " " * len(d.head_unicode)
        click.echo(f"{pad} = {d.expanded_unicode()}")
    if matrix:
        click.echo("in matrix form:")
        click.echo(d.matrix_unicode())


def _echo_generated(graph: Graph, latex: bool) -> None:
    """``where u₁ = w·x + b, …``: the names given to ops inside formulas."""
    generated = [n.definition(graph.order) for n in graph.nodes if n.generated]
    if generated and not latex:
        click.echo("where " + ", ".join(generated))


def _check_options(wrt: str | None, all_: bool, expand: bool, matrix: bool) -> None:
    """Refuse option mixes that would be silently ignored, before parsing anything."""
    if all_ and wrt is not None:
        raise CommandError("--wrt and --all cannot be combined: --all already gives every "
                           "adjoint, --wrt NODE one derivative")
    if not all_ and wrt is None:
        raise CommandError("give --wrt NODE, or --all for every adjoint")
    for flag, given in (("--expand", expand), ("--matrix", matrix)):
        if all_ and given:
            raise CommandError(f"{flag} applies to one derivative (--wrt NODE), not to --all")


def _source(text: str | None, file: str | None) -> str:
    """The graph text, read once (a TEXT that names a .gg file is that file, as in
    :func:`~gradgraph.commands.common.load_graph`)."""
    if text is not None and file is None and text.endswith(".gg") and Path(text).is_file():
        text, file = None, text
    return graph_source(text, file)


def _refuse_many_paths(source: str, of: str | None, wrt: str) -> None:
    """Refuse, before the parse, a text whose outline already has too many chain-rule
    paths to ``wrt`` to list: parsing 10,000 lines takes seconds, outlining them a
    fraction of it, and the outline's count never exceeds the graph's."""
    from ..derive import MAX_PATHS, _refuse_long_chains
    from ..outline import count_assignments, paths_at_least

    if count_assignments(source) <= MAX_PATHS:
        return  # few assignments parse fast; the graph's own check follows
    bound = paths_at_least(source, wrt, of, cap=MAX_PATHS)
    if bound is not None and bound[1] > MAX_PATHS:
        _refuse_long_chains(*bound, 0)
