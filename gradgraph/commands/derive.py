"""``gradgraph derive``: the chain rule for one node, or every adjoint at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .common import CommandError, load_graph, run_safely

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
    from ..derive import adjoints, check_chain, derive  # SymPy: only once a graph is read
    from ..notation import partial_latex, to_latex

    _check_options(wrt, all_, expand, matrix)
    graph = load_graph(text, file, params)
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
