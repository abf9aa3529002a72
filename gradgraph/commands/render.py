"""``gradgraph render``: the graph as a diagram (svg, png, pdf or DOT text)."""

from __future__ import annotations

from pathlib import Path

import click

from ..render import SHOW_ALL, Rendering, render, steps, write_atomic
from ..render.output import DEFAULT_TIMEOUT, FORMATS, check_format, run_dot
from .common import CommandError, load_graph, parse_values, run_safely


@click.command("render")
@click.argument("text", required=False)
@click.option("--file", "-f", "file", type=str, help="Read the graph from this file.")
@click.option("--wrt", help="Light up the chain for ∂C/∂WRT and print its derivation.")
@click.option("--of", "of", help="Output node (default: the cost, the last assignment).")
@click.option("--values", help="Leaf values, e.g. 'w=2,x=0.48,b=-0.2967,y=1'.")
@click.option("--show", default=",".join(SHOW_ALL), show_default=True,
              help="What nodes and edges show (comma-separated).")
@click.option("--view", type=click.Choice(["graph", "network"]), default="graph",
              show_default=True, help="The op graph, or neurons in layers.")
@click.option("--collapse", is_flag=True, help="One box per layer (for big graphs).")
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="Output format (default: from -o's suffix; DOT text without -o).")
@click.option("-o", "--output", "output", type=str, help="Write the diagram to this file.")
@click.option("--steps", "steps_dir", type=str,
              help="Write the backward pass one edge a frame: DIR/step-001.svg, ...")
@click.option("--rankdir", type=click.Choice(["LR", "BT", "TB", "RL"]), default="LR",
              show_default=True, help="Direction the values flow.")
@click.option("--params", help="Names of the parameters, e.g. 'w b' (default: w, b, θ, γ, β).")
@click.option("--timeout", type=click.FloatRange(min=1), default=DEFAULT_TIMEOUT,
              show_default=True, help="Seconds Graphviz dot may run.")
@run_safely
def render_command(text: str | None, file: str | None, wrt: str | None, of: str | None,
                   values: str | None, show: str, view: str, collapse: bool, fmt: str | None,
                   output: str | None, steps_dir: str | None, rankdir: str,
                   params: str | None, timeout: float) -> None:
    """Draw the graph given as TEXT or --file: partials on the edges, values and
    adjoints on the nodes, the chain for ∂C/∂w lit up.

    \b
    Examples:
      gradgraph render "z = w*x + b; a = sigma(z); C = (a - y)^2" --wrt w \\
          --values w=2,x=0.48,b=-0.2967,y=1 -o chain.svg
      gradgraph render --file chain.gg --view network -o net.png
      gradgraph render --file chain.gg --format dot > chain.dot
      gradgraph render --file chain.gg --values w=2,x=0.48,b=-0.2967,y=1 --steps frames/
    """
    graph = load_graph(text, file, params)
    leaf_values = parse_values(values) or None
    if steps_dir is not None:
        frames = steps(graph, of, leaf_values, show, rankdir=rankdir, timeout=timeout)
        n = _write_frames(frames, Path(steps_dir), fmt or "svg")
        click.echo(f"wrote {n} frames to {steps_dir}")
        if output is None:  # --format then names the frames' format, not a second picture
            return
    picture = render(graph, wrt, of, leaf_values, show, view, collapse, rankdir=rankdir,
                     timeout=timeout)
    if output is None:
        _to_stdout(picture, fmt or "dot")
        return
    picture.save(output, _output_format(output, fmt))
    click.echo(f"wrote {output}")


def _output_format(output: str, fmt: str | None) -> str:
    """The format for ``-o``: its suffix, or --format; they must agree when both are given."""
    suffix = Path(output).suffix.lower().lstrip(".")
    known = suffix in FORMATS
    if fmt and known and fmt != suffix:
        raise CommandError(f"-o {output} ends in .{suffix} but --format is {fmt}")
    if fmt:
        return fmt
    if not known:
        raise CommandError(f"cannot tell the format of '{output}'; end it in .svg, .png, "
                           ".pdf or .dot, or give --format")
    return suffix


def _to_stdout(picture: Rendering, fmt: str) -> None:
    if fmt in ("png", "pdf"):
        raise CommandError(f"{fmt} is binary; write it to a file with -o FILE.{fmt}")
    click.echo(run_dot(picture.source, check_format(fmt), picture.timeout).decode("utf-8"),
               nl=False)


def _write_frames(frames: list[Rendering], folder: Path, fmt: str) -> int:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CommandError(f"cannot create '{folder}': {e.strerror}") from None
    for i, frame in enumerate(frames, start=1):
        write_atomic(folder / f"step-{i:03d}.{fmt}", frame.pipe(fmt))
    return len(frames)
