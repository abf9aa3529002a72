"""``gradgraph render``: the graph as a diagram (svg, png, pdf or DOT text)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import ValueInputError
from .common import CommandError, graph_source, load_graph, parse_values, run_safely

if TYPE_CHECKING:
    from ..graph import Graph
    from ..render import Rendering

# The option choices, written here so that ``render --help`` imports neither the
# renderer nor SymPy; tests/test_startup.py checks them against gradgraph.render's.
FORMATS = ("svg", "png", "pdf", "dot")  # gradgraph.render.output.FORMATS
SHOW_ALL = ("names", "defs", "values", "grads", "partials")  # gradgraph.render.SHOW_ALL
DEFAULT_TIMEOUT = 30.0  # gradgraph.render.output.DEFAULT_TIMEOUT


@click.command("render")
@click.argument("text", required=False)
@click.option("--file", "-f", "file", type=str, metavar="FILE",
              help="Read the graph from this file.")
@click.option("--wrt", help="Light up the chain for ∂C/∂WRT and print its derivation.")
@click.option("--of", "of", help="Output node (default: the cost, the last assignment).")
@click.option("--values", help="A value for every leaf, e.g. 'w=2,x=0.48,b=-0.2967,y=1'.")
@click.option("--show", default=",".join(SHOW_ALL), show_default=True,
              help="What nodes and edges show (comma-separated).")
@click.option("--view", type=click.Choice(["graph", "network"]), default="graph",
              show_default=True, help="The op graph, or neurons in layers.")
@click.option("--collapse", is_flag=True,
              help="Op graph: one box per layer tag (for big graphs).")
@click.option("--path-only", is_flag=True,
              help="Only the nodes on paths from --wrt to the cost.")
@click.option("--around", metavar="NODE", help="Only the nodes near NODE (see --hops).")
@click.option("--hops", type=int, metavar="K",
              help="With --around: how many edges away a node may be (default 2).")
@click.option("--repeat", is_flag=True,
              help="Fold repeated layers or units: the first, one '× N' box, the last.")
@click.option("--wrap", type=int, metavar="M",
              help="Lay the drawn nodes out in rows of at most M.")
@click.option("--sums/--no-sums", default=None,
              help="Sums of 8 or more terms as 'Σ (N terms)' nodes (default: wherever "
                   "a sum is that wide).")
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="Output format (default: from -o's suffix; DOT text without -o).")
@click.option("-o", "--output", "output", type=str, metavar="FILE",
              help="Write the diagram to this file.")
@click.option("--steps", "steps_dir", type=str, metavar="DIR",
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
                   params: str | None, timeout: float, path_only: bool = False,
                   around: str | None = None, hops: int | None = None,
                   repeat: bool = False, wrap: int | None = None,
                   sums: bool | None = None) -> None:
    """Draw the graph given as TEXT or --file: partials on the edges, values and
    adjoints on the nodes, the chain for ∂C/∂w lit up.

    \b
    Examples:
      gradgraph render "z = w*x + b; a = sigma(z); C = (a - y)^2" --wrt w \\
          --values w=2,x=0.48,b=-0.2967,y=1 -o chain.svg
      gradgraph render --file lessons/graphs/chain.gg --view network -o net.png
      gradgraph render --file lessons/graphs/chain.gg --format dot > chain.dot
      gradgraph render --file lessons/graphs/chain.gg --steps frames/ \\
          --values "w^(L)=2,a^(L-1)=0.48,b^(L)=-0.2967,y=1"

\b
    Views of a big graph (each brings a 10,000-node graph under the 400-node cap):
      gradgraph render "u1 = x*w; u2 = u1*w; u3 = u2*w; u4 = u3*w; u5 = u4*w; C = u5^2" \\
          --repeat -o folded.png
      gradgraph render --file lessons/graphs/chain.gg --wrt "w^(L)" --path-only -o path.png
      gradgraph render --file lessons/graphs/chain.gg --around "z^(L)" --hops 1 -o near.png
      gradgraph render --file lessons/graphs/chain.gg --wrap 4 -o rows.png

    \b
    A layer's values are given entry by entry, as its scalar expansion names them:
      gradgraph render --file lessons/graphs/layer.gg --wrt "W^(L)" -o layer.svg \\
          --values "a_0^(L-1)=0.48,a_1^(L-1)=0.8,W_00^(L)=2,W_01^(L)=-1,W_10^(L)=0.5,W_11^(L)=1.5,b_0^(L)=0.1,b_1^(L)=-0.5,y_0=1,y_1=0"
    """  # noqa: E501 - an example is copied whole, so its value list stays on one line
    from ..render import render, steps

    _check_options(view, collapse, wrt, steps_dir, output)
    views = _view_options(path_only, around, hops, repeat, wrap, sums, view, collapse, wrt,
                          steps_dir)
    out_fmt = _output_format(output, fmt) if output is not None else (fmt or "dot")
    if output is not None:
        _check_writable(output)  # before the graph is even read: the work is never lost
    if out_fmt != "dot":
        graph = _picture_graph(text, file, params, view, collapse, views, wrt, of)
    else:
        graph = load_graph(text, file, params)
    leaf_values = layer_values(graph, unique_values(values)) or None
    if steps_dir is not None:
        frames = steps(graph, of, leaf_values, show, rankdir=rankdir, timeout=timeout)
        n = _write_frames(frames, Path(steps_dir), fmt or "svg")
        click.echo(f"wrote {n} frames to {steps_dir}")
        if output is None:  # --format then names the frames' format, not a second picture
            return
    picture = render(graph, wrt, of, leaf_values, show, view, collapse, rankdir=rankdir,
                     timeout=timeout, **_view_kwargs(views))
    if output is None:
        _to_stdout(picture, out_fmt)
        return
    _check_layout(picture, out_fmt)
    picture.save(output, out_fmt)
    click.echo(f"wrote {output}")


def _picture_graph(text: str | None, file: str | None, params: str | None, view: str,
                   collapse: bool, views: Any = None, wrt: str | None = None,
                   of: str | None = None) -> Graph:
    """The graph for a picture, refused before any drawing when past the layout caps.

    The op graph has a node per assignment, so a text with more assignments than the
    cap is refused before it is even parsed (parsing 10,000 lines takes seconds).
    """
    from ..graph import Graph
    from ..parse import count_assignments
    from ..render import MAX_DRAWN_NODES, check_size

    if text is not None and file is None and text.endswith(".gg") and Path(text).is_file():
        text, file = None, text
    source = graph_source(text, file)
    if view == "graph" and not collapse and (views is None or not views.any):  # a view
        # (not --no-sums alone) may bring it under the cap, so only then is it parsed
        count = count_assignments(source)
        if count > MAX_DRAWN_NODES:
            raise CommandError(f"graph too large to lay out ({count} assignments, so at "
                               f"least {count} nodes; the cap is {MAX_DRAWN_NODES}): fold "
                               "repeated layers with --repeat, keep fewer nodes with "
                               "--path-only or --around NODE, draw one box per layer with "
                               "--collapse, or take the DOT text (--format dot)")
    graph = Graph.from_text(source, params=params)
    too_big = check_size(graph, view, collapse, views, wrt, of)
    if too_big is not None:
        raise CommandError(too_big.message(cli=True))
    return graph


def _view_options(path_only: bool, around: str | None, hops: int | None, repeat: bool,
                  wrap: int | None, sums: bool | None, view: str, collapse: bool,
                  wrt: str | None, steps_dir: str | None) -> Any:
    """The view options as a ``ViewOptions`` (``None`` when none is given), refusing
    combinations that cannot apply before any work."""
    given = [name for name, on in (("--path-only", path_only), ("--around", around),
                                   ("--hops", hops is not None), ("--repeat", repeat),
                                   ("--wrap", wrap is not None), ("--sums", bool(sums)))
             if on]
    if not given and sums is None:
        return None
    if given and (view == "network" or collapse):
        raise CommandError(f"{given[0]} is a view of the op graph; it cannot be combined "
                           f"with {'--view network' if view == 'network' else '--collapse'}")
    if given and steps_dir is not None:
        raise CommandError(f"--steps draws the whole op graph frame by frame; {given[0]} "
                           "applies to the picture given with -o FILE")
    if path_only and wrt is None:
        raise CommandError("--path-only needs --wrt (the parameter whose paths to the "
                           "cost are drawn)")
    if hops is not None and around is None:
        raise CommandError("--hops needs --around NODE")
    if hops is not None and hops < 0:
        raise CommandError(f"--hops must be 0 or more, not {hops}")
    if wrap is not None and wrap < 2:
        raise CommandError(f"--wrap needs at least 2 nodes a row, not {wrap}")
    from ..render import ViewOptions

    return ViewOptions(path_only, around, hops, repeat, wrap, sums)


def _view_kwargs(views: Any) -> dict[str, Any]:
    if views is None:
        return {}
    return {"path_only": views.path_only, "around": views.around, "hops": views.hops,
            "repeat": views.repeat, "wrap": views.wrap, "sums": views.sums}


def _check_writable(output: str) -> None:
    """``-o FILE`` must be writable before any parsing, deriving or drawing."""
    from ..fileio import OutputPathError, check_writable

    try:
        check_writable(output)
    except OutputPathError as e:
        raise CommandError(f"-o: {e}") from None


def _check_options(view: str, collapse: bool, wrt: str | None, steps_dir: str | None,
                   output: str | None) -> None:
    """Refuse options that would be silently ignored, before any work."""
    if collapse and view == "network":
        raise CommandError("--collapse draws the op graph one box per layer; it cannot be "
                           "combined with --view network")
    if steps_dir is not None and output is None:  # only the frames are drawn
        ignored = [name for name, given in (("--wrt", wrt is not None),
                                            ("--collapse", collapse),
                                            ("--view network", view == "network")) if given]
        if ignored:
            raise CommandError(f"--steps draws the whole op graph frame by frame; "
                               f"{ignored[0]} applies to the picture given with -o FILE")


def unique_values(spec: str | None) -> dict[str, float]:
    """``--values`` parsed, refusing a name given twice (the last would silently win)."""
    from ..parse import parse_name

    values = parse_values(spec)
    if spec:
        seen: set[str] = set()
        for item in spec.split(","):
            name = parse_name(item.partition("=")[0])
            if name in seen:  # a set, not a scan of the names before: 10⁴ values stay fast
                raise CommandError(f"--values gives {name} more than once")
            seen.add(name)
    return values


def layer_values(graph: Graph, values: dict[str, float]) -> dict[str, Any]:
    """Entries ``W_01^(L)=2`` of a layer graph's tensors -> whole arrays.

    A scalar keeps its value. Entries are named as :func:`gradgraph.expand_to_scalars`
    names them, one digit per axis; an input gets a batch axis of one example. Every
    entry of every leaf tensor must be given, and no entry of a computed one.
    """
    if not graph.is_tensor:
        return dict(values)
    import numpy as np

    from ..notation import split_name
    from ..shapes import scalar_name

    out: dict[str, Any] = {}
    entries: dict[str, dict[tuple[int, ...], float]] = {}
    leaves = ", ".join(graph.leaves)
    for name, value in values.items():
        if name in graph:
            if not graph[name].is_leaf:
                raise ValueInputError(f"{name} is computed from its inputs; give values "
                                      f"for the leaves: {leaves}")
            out[name] = value
            continue
        base, sub, tag = split_name(name)
        tensor = base + (f"^({tag})" if tag else "")
        if tensor not in graph or not graph[tensor].shape:
            raise ValueInputError(f"'{name}' is neither a node nor an entry of a layer")
        if not graph[tensor].is_leaf:  # else "needs all its entries" would mislead
            raise ValueInputError(f"{name} is an entry of {tensor}, which is computed from "
                                  f"its inputs; give values for the leaves: {leaves}")
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
    given = {graph.resolve(name) for name in out}
    missing = [leaf for leaf in graph.leaves if leaf not in given]
    if missing:  # all of them at once, each with the entry names it takes
        raise ValueInputError("no value given for " + ", ".join(
            _with_entries(graph, leaf) for leaf in missing))
    return out


def _with_entries(graph: Graph, name: str) -> str:
    """``y (y_0, y_1)``, ``W^(L) (W_00^(L) … W_11^(L))``: how a leaf's values are named."""
    import numpy as np

    from ..shapes import scalar_name

    shape = graph[name].shape
    if not shape:
        return name
    first = scalar_name(name, (0,) * len(shape))
    last = scalar_name(name, tuple(d - 1 for d in shape))
    size = int(np.prod(shape))
    if size == 1:
        return f"{name} ({first})"
    return f"{name} ({first}{', ' if size == 2 else ' … '}{last})"


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


def _check_layout(picture: Rendering, fmt: str) -> None:
    """The library's size refusal, worded with the command's options."""
    if picture.oversize is not None and fmt != "dot":
        raise CommandError(picture.oversize.message(cli=True))


def _to_stdout(picture: Rendering, fmt: str) -> None:
    from ..render.output import check_format

    if fmt in ("png", "pdf"):
        raise CommandError(f"{fmt} is binary; write it to a file with -o FILE.{fmt}")
    _check_layout(picture, fmt)
    click.echo(picture.pipe(check_format(fmt)).decode("utf-8"), nl=False)


def _write_frames(frames: list[Rendering], folder: Path, fmt: str) -> int:
    from ..render import write_atomic

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CommandError(f"cannot create '{folder}': {e.strerror}") from None
    for i, frame in enumerate(frames, start=1):
        write_atomic(folder / f"step-{i:03d}.{fmt}", frame.pipe(fmt))
    return len(frames)
