"""`ketaplan handout`: the patient's printed handout of the booked course, as a PDF
and/or a self-contained HTML page."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ketaplan.cli import clock
from ketaplan.cli.app import app
from ketaplan.cli.bookfile import BookOpt, ClinicOpt, opened_book, sqlite_files
from ketaplan.cli.common import ConfigOpt, check_patient, check_patient_form, clinic_zone
from ketaplan.errors import OutputError, UsageError
from ketaplan.formats.files import Ours
from ketaplan.model.clinic import PAPERS


@app.command()
def handout(
    patient: Annotated[
        str,
        typer.Option("--patient", metavar="CODE", help="The patient's code, e.g. P-001."),
    ],
    pdf: Annotated[
        Path | None,
        typer.Option(
            "--pdf",
            metavar="FILE",
            help="Write the handout as a PDF; - for stdout.",
            dir_okay=False,
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="FILE",
            help="Write it as one self-contained HTML page; - for stdout.",
            dir_okay=False,
        ),
    ] = None,
    paper: Annotated[
        str | None,
        typer.Option(
            "--paper",
            metavar="SIZE",
            help="a4 or letter (default: clinic.paper, else letter in the US, Canada and "
            "Mexico, else a4).",
            show_default=False,
        ),
    ] = None,
    book_option: BookOpt = None,
    clinic_option: ClinicOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Print the patient's handout: the clinic, the patient's code and a blank line for the
    name, every session of the booked course as month calendars and as a list (with its
    status), the route's preparation and aftercare, who to call, the crisis line, and what
    to do when a visit must move.

    The language is clinic.language in ketaplan.toml (en, de, or a FILE.toml of the
    clinic's own). Printing again after a change gives the new dates and the new
    "updated on" date. An existing file is replaced only when ketaplan wrote it.

    Example: ketaplan handout --patient P-001 --pdf P-001.pdf --html P-001.html
    """
    if pdf is None and html is None:
        raise UsageError("give --pdf FILE or --html FILE, or both")
    if str(pdf) == str(html) == "-":
        raise UsageError("only one of --pdf and --html can go to stdout (-)")
    if pdf is not None and html is not None and pdf.resolve() == html.resolve():
        raise UsageError(f"--pdf and --html both name {pdf}; give each its own file")
    if paper is not None and paper.lower() not in PAPERS:
        raise UsageError(f"--paper {paper!r} is not one of {', '.join(PAPERS)}")
    check_patient_form(patient)
    # The use case, catalogue and renderer are this command's own: loaded only when it runs.
    from ketaplan.booking.handout import patient_handout
    from ketaplan.formats.handout import default_paper, handout_html
    from ketaplan.formats.handout.catalogue import load_catalogue

    targets = [(path, kind) for path, kind in ((pdf, "pdf"), (html, "html")) if path]
    for path, kind in targets:
        _check_target(path, kind)
    with opened_book(book_option, config, create=False, clinic_option=clinic_option) as opened:
        # The book's clinic: its language, paper and zone.
        clinic = opened.clinic
        code = check_patient(patient, clinic)
        zone = clinic_zone(None, clinic)
        texts = load_catalogue(clinic.language)
        chosen = paper.lower() if paper else default_paper(clinic, zone)
        sheet = patient_handout(
            opened.book, code, clinic, updated=clock.today_in(zone), paper=chosen
        )
        protected = sqlite_files(opened.path)
    page = handout_html(sheet, texts)
    outputs: list[tuple[Path, bytes]] = []
    if pdf is not None:
        from ketaplan.formats.handout.pdf import html_to_pdf

        outputs.append((pdf, html_to_pdf(page)))
    if html is not None:
        outputs.append((html, page.encode("utf-8")))
    from ketaplan.formats.files import write_output

    # A new file is its owner's only (write_output: health data); one printed again
    # keeps its mode.
    for path, data in outputs:
        written_by = _OURS_PDF if path == pdf else _OURS_HTML
        write_output(path, data, protected=protected, ours=written_by)
    live = sum(v.status != "cancelled" for v in sheet.visits)
    months = sheet.months()
    span = (
        f"{_month(months[0])} to {_month(months[-1])}"
        if len(months) > 1
        else _month(months[0])
        if months
        else "no sessions"
    )
    written = " and ".join(str(path) for path, _ in outputs)
    # On stderr, as for calendar files: stdout may be the handout itself (-).
    sys.stderr.write(
        f"Wrote the handout of {code} ({live} sessions, {span}; {chosen.upper()}, "
        f"{texts.language}) to {written}\n"
    )


def _pdf_is_ours(data: bytes) -> bool:
    from ketaplan.formats.handout.pdf import written_by_ketaplan  # the PDF reader, here only

    return written_by_ketaplan(data)


def _html_is_ours(data: bytes) -> bool:
    from ketaplan.formats.handout import is_ketaplan_html

    return is_ketaplan_html(data)


def _month(month: tuple[int, int]) -> str:
    return f"{month[0]}-{month[1]:02d}"


def _check_target(path: Path, kind: str) -> None:
    """Refuse, before anything is printed, to replace a file ketaplan did not write."""
    if str(path) == "-":
        return
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    if not path.exists():
        return
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise OutputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if kind == "pdf":
        from ketaplan.formats.handout.pdf import written_by_ketaplan

        ours = written_by_ketaplan(data)
    else:
        from ketaplan.formats.handout import is_ketaplan_html

        ours = is_ketaplan_html(data)
    if not ours:
        raise OutputError(
            f"{path} exists and ketaplan did not write it; not replaced: "
            "choose another file name or move that file away"
        )


# The writer's check again at the moment of writing: a file that appeared meanwhile.
_OURS_PDF = Ours("handout", _pdf_is_ours, whole=True)
_OURS_HTML = Ours("handout", _html_is_ours, whole=True)
