"""The ``gradgraph`` command: a click group whose subcommands live in ``commands/``."""

from __future__ import annotations

import sys

import click

from .commands.check import check_command
from .commands.derive import derive_command
from .commands.experiment import experiment_group
from .commands.lesson import lesson_group
from .commands.render import render_command
from .commands.serve import serve_command
from .commands.train import train_command

INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


class _Group(click.Group):
    """The top-level group: Ctrl-C in any subcommand exits 130, not click's 1."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\ninterrupted", err=True)
            ctx.exit(INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gradgraph")
def cli() -> None:
    """See, derive and check how neural networks learn.

    Graphs are written as assignments, one a line or separated by ';':

    \b
        z = w*x + b; a = sigma(z); C = (a - y)^2
    """


cli.add_command(derive_command)
cli.add_command(lesson_group)
cli.add_command(check_command)
cli.add_command(render_command)
cli.add_command(experiment_group)
cli.add_command(train_command)
cli.add_command(serve_command)


def main() -> None:
    """Console entry point: never a traceback for a user's mistake."""
    try:
        cli.main(prog_name="gradgraph")
    except KeyboardInterrupt:  # outside a subcommand (while parsing, say)
        click.echo("interrupted", err=True)
        sys.exit(INTERRUPTED)
