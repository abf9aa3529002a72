"""``gradgraph render``: the graph as a diagram (svg, png, pdf or DOT text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from ..errors import ValueInputError
from ..graph import Graph
from ..notation import split_name
from ..render import SHOW_ALL, Rendering, render, steps, write_atomic
from ..render.output import DEFAULT_TIMEOUT, FORMATS, check_format, run_dot
from ..tensors import scalar_name
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

    \b
    A layer's values are given entry by entry, as its scalar expansion names them:
      gradgraph render --file layer.gg --values "W_00^(L)=2,W_01^(L)=-1,...,y_0=1,y_1=0"
    """
    graph = load_graph(text, file, params)
    leaf_values = layer_values(graph, parse_values(values)) or None
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


def layer_values(graph: Graph, values: dict[str, float]) -> dict[str, Any]:
    """Entries ``W_01^(L)=2`` of a layer graph's tensors -> whole arrays.

    A scalar keeps its value. Entries are named as :func:`gradgraph.expand_to_scalars`
    names them, one digit per axis; an input gets a batch axis of one example. Every
    entry of a tensor must be given.
    """
    if not graph.is_tensor:
        return dict(values)
    out: dict[str, Any] = {}
    entries: dict[str, dict[tuple[int, ...], float]] = {}
    for name, value in values.items():
        if name in graph:
            out[name] = value
            continue
        base, sub, tag = split_name(name)
        tensor = base + (f"^({tag})" if tag else "")
        if tensor not in graph or not graph[tensor].shape:
            raise ValueInputError(f"'{name}' is neither a node nor an entry of a layer")
        shape = graph[tensor].shape
        if not sub.isdigit() or len(sub) != len(shape) or any(
                int(c) >= d for c, d in zip(sub, shape, strict=True)):
            raise ValueInputError(f"'{name}': {graph[tensor].unicode} has shape {shape}; "
                                  f"name its entries with one digit per axis, like "
                                  f"{scalar_name(tensor, (0,) * len(shape))}")
        entries.setdefault(tensor, {})[tuple(int(c) for c in sub)] = value
    for tensor, given in entries.items():
        shape = graph[tensor].shape
        missing = [i for i in np.ndindex(*shape) if i not in given]
        if missing:
            raise ValueInputError(f"{graph[tensor].unicode} needs all its entries; "
                                  f"{scalar_name(tensor, missing[0])} is missing")
        array = np.zeros(shape)
        for index, value in given.items():
            array[index] = value
        out[tensor] = array[None] if graph.is_batched(tensor) else array
    return out


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
