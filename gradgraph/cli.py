"""The ``gradgraph`` command: a click group whose subcommands live in ``commands/``.

A subcommand's module is imported only when that subcommand runs (or shows its own
help), so ``gradgraph --help`` and ``gradgraph lesson list`` do not pay for SymPy,
numpy or the web server. The top-level help lists each command's one-line summary
from the table below (as pip does); tests/test_startup.py checks that every summary is
still the first paragraph of its command's help.
"""

from __future__ import annotations

import importlib
import sys
from gettext import gettext

import click

INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C

# name -> (module, attribute, the first paragraph of the command's help)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "check": ("gradgraph.commands.check", "check_command",
              "Check a hand derivation ANSWER against the graph's chain rule."),
    "derive": ("gradgraph.commands.derive", "derive_command",
               "Derive ∂C/∂w by the chain rule on the graph given as TEXT or --file."),
    "experiment": ("gradgraph.commands.experiment", "experiment_group",
                   "Re-run the papers' experiments the deck cites (quick by default; "
                   "--full: protocol)."),
    "lesson": ("gradgraph.commands.lesson", "lesson_group",
               "Lessons that walk through the deck: the chain rule to Adam, with exercises."),
    "render": ("gradgraph.commands.render", "render_command",
               "Draw the graph given as TEXT or --file: partials on the edges, values and "
               "adjoints on the nodes, the chain for ∂C/∂w lit up."),
    "serve": ("gradgraph.commands.serve", "serve_command",
              "Serve the tutor: playground, lessons, checker and training in the browser."),
    "train": ("gradgraph.commands.train", "train_command",
              "Train a network on the graph; by default the deck's Keras example."),
}


class _Group(click.Group):
    """The top-level group: subcommands loaded on demand; Ctrl-C in any of them exits
    130, not click's 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attribute, _ = COMMANDS[cmd_name]
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's own listing, with the summaries of commands not yet loaded taken from
        the table instead of importing them."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = [(name, self._summary(name).get_short_help_str(limit)) for name in names]
        with formatter.section(gettext("Commands")):
            formatter.write_dl(rows)

    def _summary(self, name: str) -> click.Command:
        if name in self.commands:
            return self.commands[name]
        return click.Command(name, help=COMMANDS[name][2])

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


def main() -> None:
    """Console entry point: never a traceback for a user's mistake."""
    try:
        cli.main(prog_name="gradgraph")
    except KeyboardInterrupt:  # outside a subcommand (while parsing, say)
        click.echo("interrupted", err=True)
        sys.exit(INTERRUPTED)
