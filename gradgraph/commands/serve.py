"""``gradgraph serve``: the tutor in the browser, on this machine by default."""

from __future__ import annotations

import errno
import ipaddress
import socket

import click

from .common import CommandError

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def reserve(host: str, port: int) -> socket.socket:
    """A bound, listening socket, or a one-line error (port in use, bad address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP;
    # without it Nagle holds a response's body behind its headers for ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as e:
        sock.close()
        if e.errno == errno.EADDRINUSE:
            raise CommandError(f"port {port} on {host} is already in use; pick another "
                               "with --port") from None
        reason = e.strerror or str(e)
        raise CommandError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback lets others connect.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--lessons", "lessons", type=click.Path(file_okay=False),
              help="A folder of lesson files to serve instead of the bundled lessons.")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in a browser.")
@click.option("--deadline", type=click.FloatRange(0.1, 600), default=5.0, show_default=True,
              help="Seconds each symbolic job on user text may run before it is stopped.")
def serve_command(host: str, port: int, lessons: str | None, open_browser: bool,
                  deadline: float) -> None:
    """Serve the tutor: playground, lessons, checker and training in the browser.

    \b
    Examples:
      gradgraph serve                      # http://127.0.0.1:8000
      gradgraph serve --port 9000 --lessons lessons/ --open
    """
    import uvicorn

    from ..serve import create_app

    if lessons is not None:
        from pathlib import Path

        if not Path(lessons).is_dir():
            raise CommandError(f"--lessons: '{lessons}' is not a folder")
    if not is_loopback(host):
        click.echo(f"Warning: listening on {host}: anyone who can reach this machine on the "
                   "network can use the tutor (and its CPU).", err=True)
    sock = reserve(host, port)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{bound}/"
    click.echo(f"gradgraph tutor on {url} (Ctrl-C stops it)", err=True)
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    app = create_app(lessons_dir=lessons, deadline=deadline)
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])
