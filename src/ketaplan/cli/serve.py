"""`ketaplan serve`: the calendar feeds over HTTP (see `ketaplan.web.app`)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ketaplan.cli import clock
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, ClinicOpt, opened_book
from ketaplan.cli.common import ConfigOpt, clinic_zone
from ketaplan.errors import UsageError
from ketaplan.parsing import parse_interval

DEFAULT_PORT = 8642


@app.command()
def serve(
    host: Annotated[
        str, typer.Option("--host", metavar="ADDRESS", help="The address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="The port.")] = DEFAULT_PORT,
    window: Annotated[
        str,
        typer.Option(
            "--window",
            metavar="BACK:AHEAD",
            help="The staff feed's days around today, e.g. 14d:12w (0d for none back).",
        ),
    ] = "14d:12w",
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Serve the book's calendar feeds over HTTP, read-only, until interrupted.

    Staff feeds hold the clinic's sessions in a rolling window and the REMS markers due
    in it; patient feeds (only with feeds.patient = true) one patient's course.
    Make their URLs with `ketaplan feed create`. Listens on 127.0.0.1 only unless --host
    says otherwise: put it behind a reverse proxy that adds HTTPS.

    Example: ketaplan serve --port 8642 --window 14d:12w
    """
    if not 0 < port < 65536:
        raise UsageError(f"--port {port} is not a port number (1 to 65535)")
    back, ahead = _window(window)
    from ketaplan.booking.feeds import FeedService, Window
    from ketaplan.store import open_book

    # Open it once now: a missing or foreign book is refused before the server starts.
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        clinic = opened.clinic
        path = opened.path
        name = opened.clinic_name
        opened.book.state()
    zone = clinic_zone(None, clinic)
    try:
        from ketaplan.web.app import serve as run_server  # Starlette: the serve extra
    except ImportError:
        raise UsageError("ketaplan serve needs its extra: pip install 'ketaplan[serve]'") from None
    service = FeedService(clinic, zone, Window(back, ahead), clock.now)
    sys.stderr.write(f"Serving the feeds of {path} on http://{host}:{port}/ (Ctrl+C stops)\n")
    run_server(service, lambda: open_book(path, create=False, clinic=name), host=host, port=port)


def _window(text: str) -> tuple[int, int]:
    back, colon, ahead = text.partition(":")
    if not colon:
        raise UsageError(f"--window {text!r} is not BACK:AHEAD, e.g. 14d:12w")
    before = (
        0 if back.strip().lower() in ("0", "0d", "0w") else parse_interval(back, what="--window")
    )
    return before, parse_interval(ahead, what="--window")
