"""The CLI's subcommands, one module each; :mod:`gradgraph.cli` collects them."""
