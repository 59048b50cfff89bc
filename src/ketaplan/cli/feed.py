"""`ketaplan feed create | list | revoke`: the tokens of the calendar feeds that
`ketaplan serve` answers."""

from __future__ import annotations

import sys
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from ketaplan.cli import clock
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, ClinicOpt, opened_book
from ketaplan.cli.common import ConfigOpt, FormatOpt, check_format, check_patient, clinic_zone
from ketaplan.cli.render import aligned, write_csv
from ketaplan.errors import UsageError
from ketaplan.formats.shapes import FEEDS_CSV, feed_json, last_feed_day
from ketaplan.parsing import parse_date

feed_app = typer.Typer(
    help="Calendar feeds: make, list and revoke the URLs that `ketaplan serve` answers.\n\n"
    "Example: ketaplan feed create --staff",
    invoke_without_command=True,
)
app.add_typer(feed_app, name="feed")


@feed_app.callback()
def feed(ctx: typer.Context) -> None:
    """Calendar feeds: make, list and revoke the URLs that `ketaplan serve` answers.

    Example: ketaplan feed create --staff
    """
    if ctx.invoked_subcommand is None:
        sys.stdout.write(ctx.get_help() + "\n")


@feed_app.command("create")
def create(
    staff: Annotated[
        bool, typer.Option("--staff", help="The clinic's sessions, in a rolling window.")
    ] = False,
    patient: Annotated[
        str | None,
        typer.Option(
            "--patient",
            metavar="CODE",
            help="One patient's course (only when the clinic sets feeds.patient = true).",
            show_default=False,
        ),
    ] = None,
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            metavar="DATE",
            help="The last day the feed answers, YYYY-MM-DD or today (default: a patient "
            "feed, the day of the course's last session; a staff feed, never).",
            show_default=False,
        ),
    ] = None,
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Make a feed and print its URL, to subscribe to in a calendar.

    The URL holds a random token that opens the feed to anyone who has it: it is shown
    only now (the book keeps only its hash). The address before /feeds/ is feeds.url in
    ketaplan.toml (the server's public https:// address).

    Example: ketaplan feed create --patient P-001 --expires 2027-03-31
    """
    if staff == (patient is not None):
        raise UsageError("give --staff or --patient CODE")
    import secrets  # a secure random source, for the token only

    from ketaplan.booking.feeds import TOKEN_BYTES, create_feed, feed_url

    now = clock.now()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        clinic = opened.clinic
        zone = clinic_zone(None, clinic)
        code = None if patient is None else check_patient(patient, clinic)
        today = clock.today_in(zone)
        last_day = None if expires is None else parse_date(expires, what="--expires", today=today)
        made = create_feed(
            opened.keep_clinic(),
            clinic,
            zone,
            token=token,
            patient=code,
            expires_on=last_day,
            now=now,
        )
    until = (
        "never expires"
        if made.expires is None
        else f"answers through {last_feed_day(made.expires, ZoneInfo(zone))}"
    )
    what = "staff" if code is None else f"patient {code}"
    sys.stdout.write(feed_url(clinic.feed_url, token) + "\n")
    sys.stderr.write(
        f"Feed {made.id} ({what}) {until}. The URL is shown only now:\n"
        f"anyone who has it can read the feed; `ketaplan feed revoke {made.id}` ends it.\n"
    )


@feed_app.command("list")
def list_feeds(
    fmt: FormatOpt = "table",
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """List every feed made: its id, kind, patient, dates and state (never its token).

    Example: ketaplan feed list
    """
    check_format(fmt)
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        zone = ZoneInfo(clinic_zone(None, opened.clinic))
        feeds = opened.book.feeds()
    now = clock.now()
    listed = [feed_json(f, zone, now) for f in feeds]
    if fmt == "json":
        import json  # --format json only

        sys.stdout.write(json.dumps({"feeds": listed}, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        write_csv(FEEDS_CSV, [tuple(f.values()) for f in listed])
        return
    if not feeds:
        sys.stdout.write("No feeds yet: `ketaplan feed create --staff` makes one.\n")
        return
    rows = [("Id", "Kind", "Patient", "Created", "Answers through", "State")] + [
        (
            str(f.id),
            f.kind,
            f.patient or "-",
            f"{f.created.astimezone(zone):%Y-%m-%d %H:%M}",
            "-" if f.expires is None else f"{last_feed_day(f.expires, zone)}",
            f.state(now),
        )
        for f in feeds
    ]
    sys.stdout.write("\n".join(aligned(rows)) + "\n")


@feed_app.command("revoke")
def revoke(
    feed_id: Annotated[int, typer.Argument(metavar="ID", help="The feed's id (`feed list`).")],
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Revoke a feed: its URL answers 404 from now on, like any unknown URL.

    Example: ketaplan feed revoke 3
    """
    from ketaplan.booking.feeds import revoke_feed

    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        zone = clinic_zone(None, opened.clinic)
        feed = revoke_feed(opened.keep_clinic(), feed_id, clock.now())
    since = (
        ""
        if feed.revoked is None
        else f" since {feed.revoked.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M}"
    )
    sys.stdout.write(f"Feed {feed.id} is revoked{since}: its URL answers 404.\n")
