"""`ketaplan handout`: the printed PDF's text and look, the HTML page's validity and
self-containment, long courses, languages, and the command's exact output and refusals.

The PDF is read back with poppler's pdftotext and pdftoppm (Debian's poppler-utils, which
.ci/run installs) and compared, page image against a reviewed reference, with Pillow. The
HTML goes through the html-validate package under node (npm ci --prefix tests)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from ketaplan.errors import OutputError
from ketaplan.formats.handout import Handout, Visit, handout_html
from ketaplan.formats.handout.catalogue import available, load_catalogue
from ketaplan.formats.handout.pdf import html_to_pdf
from ketaplan.safety.guidance import GUIDANCE, PatientSettings, guidance
from tests.clirun import Result, run

GOLDEN = Path(__file__).parent / "golden"
TESTS = Path(__file__).parent
REFRESH = os.environ.get("KETAPLAN_REFRESH_GOLDEN") == "1"
# The handout's "updated on" day: the one clock, pinned.
NOW = datetime(2029, 12, 3, 12, 0, tzinfo=UTC)

CLINIC = """[clinic]
name = "Lakeside Ketamine Clinic"
location = "Lakeside Clinic, 12 Harbour Road, 10115 Berlin"
phone = "+49 30 1234 5678"
timezone = "Europe/Berlin"
holidays = "DE-BE"
chairs = 2
require_screening = false

[patient]
crisis_line = "Telefonseelsorge 0800 111 0 111"
"""
MONTHS = "January February March April May June July August September October November December"


@pytest.fixture(autouse=True)
def _clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ketaplan.toml").write_text(CLINIC, encoding="utf-8")
    monkeypatch.setattr("ketaplan.cli.clock.now", lambda: NOW)


def book(capsys: pytest.CaptureFixture[str], patient: str, *args: str) -> None:
    result = run(capsys, "book", "--patient", patient, "--time", "09:00", *args)
    assert result.code == 0, result.message


def sessions_of(capsys: pytest.CaptureFixture[str], patient: str) -> list[datetime]:
    """The patient's booked session starts, from the book (`agenda --format json`)."""
    result = run(capsys, "agenda", "--from", "2029-01-01", "--to", "2032-12-31", "--format", "json")
    starts = [
        datetime.fromisoformat(s["start"])
        for s in json.loads(result.out)["sessions"]
        if s["patient"] == patient
    ]
    return starts


def pdf_text(path: Path, *, layout: bool = False) -> str:
    """The PDF's text in reading order, or laid out as on the page (a table's row on
    one line)."""
    return subprocess.run(
        ["pdftotext", *(["-layout"] if layout else []), str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    return int(re.search(r"Pages:\s+(\d+)", info.stdout)[1])  # type: ignore[index]


def long_date(day: date) -> str:
    return f"{day.day} {MONTHS.split()[day.month - 1]} {day.year}"


def list_date(day: date) -> str:
    return f"{day.day} {MONTHS.split()[day.month - 1][:3]} {day.year}"


def test_the_pdf_holds_every_session_date_time_and_the_aftercare(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "3")
    result = run(capsys, "handout", "--patient", "P-001", "--pdf", "P-001.pdf")
    assert (result.code, result.out) == (0, "")
    laid_out = pdf_text(tmp_path / "P-001.pdf", layout=True)
    text = pdf_text(tmp_path / "P-001.pdf")
    starts = sessions_of(capsys, "P-001")
    assert len(starts) == 9
    for start in starts:
        shown = f"{start:%a} {list_date(start.date())} 09:00"
        rows = [" ".join(line.split()) for line in laid_out.splitlines()]
        row = next(row for row in rows if shown in row)
        assert row.endswith("booked")
    # The calendar files' texts, with this clinic's crisis line.
    told = guidance("iv", PatientSettings(crisis_line="Telefonseelsorge 0800 111 0 111"))
    assert "call Telefonseelsorge 0800 111 0 111 at once" in told.aftercare[-1]
    for line in told.preparation + told.aftercare:
        assert line in " ".join(text.split())
    flat = " ".join(text.split())
    assert "Patient code: P-001" in flat
    assert "Name:" in flat
    assert "Updated on Monday 3 December 2029" in flat
    assert "Lakeside Clinic, 12 Harbour Road, 10115 Berlin" in flat
    assert "Phone: +49 30 1234 5678" in flat
    assert "Crisis line: Telefonseelsorge 0800 111 0 111" in flat
    assert "If a visit must move" in flat
    assert "IV ketamine: 9 visits" in flat
    for month in ("January 2030", "February 2030", "March 2030"):
        assert month in flat


def test_the_first_page_looks_like_its_reviewed_reference(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Layout breakage (a calendar gone, marks lost, columns collapsed) fails; a glyph's
    antialiasing does not. Refresh after an intended change of the layout with
    KETAPLAN_REFRESH_GOLDEN=1 and look at the new image before committing it."""
    book(
        capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "3", "--lozenges", "4d"
    )
    assert run(capsys, "handout", "--patient", "P-001", "--pdf", "h.pdf").code == 0
    subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", "-png", "-f", "1", "-l", "1", "h.pdf", "page"],
        check=True,
    )
    rendered = Image.open(tmp_path / "page-1.png").convert("L")
    reference_path = GOLDEN / "handout-page1.png"
    if REFRESH:
        rendered.save(reference_path, optimize=True)
    reference = Image.open(reference_path).convert("L")
    assert rendered.size == reference.size
    diff = ImageChops.difference(rendered, reference)
    histogram = diff.histogram()
    changed = sum(histogram[64:]) / (rendered.size[0] * rendered.size[1])
    assert changed < 0.01, f"{changed:.2%} of the page differs from {reference_path.name}"


def test_a_changed_page_fails_the_image_comparison(tmp_path: Path) -> None:
    """The comparison can fail: a page without its calendars is far beyond the tolerance."""
    reference = Image.open(GOLDEN / "handout-page1.png").convert("L")
    broken = reference.copy()
    broken.paste(255, (0, 90, broken.size[0], 200))
    histogram = ImageChops.difference(broken, reference).histogram()
    assert sum(histogram[64:]) / (reference.size[0] * reference.size[1]) > 0.01


def validate_html(path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is needed (npm ci --prefix tests)"
    cli = TESTS / "node_modules" / "html-validate" / "bin" / "html-validate.mjs"
    return subprocess.run(
        [node, str(cli), "--config", str(TESTS / "htmlvalidate.json"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_html_page_is_valid_and_requests_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(
        capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "2", "--lozenges", "3d"
    )
    result = run(capsys, "handout", "--patient", "P-001", "--html", "P-001.html")
    assert (result.code, result.out) == (0, "")
    page = (tmp_path / "P-001.html").read_text(encoding="utf-8")
    checked = validate_html(tmp_path / "P-001.html")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # No request when opened or printed: no URL of any scheme, no import, no external
    # resource element.
    assert not re.search(r"(?i)https?:|//[a-z]|@import|url\(|<link|<script|<img|src=", page)
    assert '<html lang="en">' in page
    assert "P-001" in page


def test_the_validator_catches_a_broken_page(tmp_path: Path) -> None:
    broken = tmp_path / "broken.html"
    broken.write_text("<!DOCTYPE html><html><body><table><p>x</table>", encoding="utf-8")
    assert validate_html(broken).returncode != 0


def test_a_40_session_esketamine_course_fits_two_legible_pages(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "rems", "enroll", "--patient", "P-040", "--date", "2026-11-20")
    book(
        capsys,
        "P-040",
        "--protocol",
        "esketamine",
        "--start",
        "2030-01-07",
        "--maintenance-sessions",
        "28",
    )
    starts = sessions_of(capsys, "P-040")
    assert len(starts) == 40
    assert run(capsys, "handout", "--patient", "P-040", "--pdf", "long.pdf").code == 0
    assert pages(tmp_path / "long.pdf") == 2
    text = pdf_text(tmp_path / "long.pdf")
    for start in starts:
        assert list_date(start.date()) in text
    months = {(s.year, s.month) for s in starts}
    assert len(months) >= 12
    for year, month in months:
        assert f"{MONTHS.split()[month - 1]} {year}" in text
    # Legible: no word on the page is set smaller than about 6.5 pt.
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(tmp_path / "long.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    word = r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"'
    heights = [float(m[2]) - float(m[1]) for m in re.finditer(word, bbox)]
    assert len(heights) > 300
    assert min(heights) >= 6.5


def test_printing_again_after_a_change_gives_the_new_dates(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "1")
    assert run(capsys, "handout", "--patient", "P-001", "--pdf", "h.pdf").code == 0
    assert "7 Jan 2030" in pdf_text(tmp_path / "h.pdf")
    replace = ("--replace", "--yes")
    book(capsys, "P-001", "--start", "2030-02-04", "--maintenance-sessions", "1", *replace)
    monkeypatch.setattr("ketaplan.cli.clock.now", lambda: NOW + timedelta(days=1))
    result = run(capsys, "handout", "--patient", "P-001", "--pdf", "h.pdf")
    assert result.code == 0
    text = " ".join(pdf_text(tmp_path / "h.pdf").split())
    assert "7 Jan 2030" not in text
    assert "4 Feb 2030" in text
    assert "Updated on Tuesday 4 December 2029" in text


def test_cancelled_sessions_are_shown_as_cancelled() -> None:
    zone = datetime(2030, 1, 7, 9, tzinfo=UTC).tzinfo
    visits = tuple(
        Visit(n, datetime(2030, 1, d, 9, tzinfo=zone), "clinic", "induction", n, 2, status)
        for n, d, status in ((1, 7, "attended"), (2, 9, "cancelled"))
    )
    sheet = Handout(
        "Clinic",
        "",
        "",
        "",
        "",
        "P-001",
        "iv",
        "IV ketamine",
        visits,
        date(2030, 1, 1),
        "a4",
        PatientSettings(),
    )
    page = handout_html(sheet, load_catalogue("en"))
    assert '<span class="mark cancelled">9</span>' in page
    assert '<span class="mark visit">7</span>' in page
    assert '<td class="status">cancelled</td>' in page
    assert '<td class="status">attended</td>' in page
    assert "IV ketamine: 1 visits" in page or "IV ketamine: 1 visit" in page


def test_the_german_handout_uses_the_german_catalogue(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "ketaplan.toml"
    config.write_text(CLINIC.replace("[clinic]\n", '[clinic]\nlanguage = "de"\n'), "utf-8")
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "1")
    result = run(capsys, "handout", "--patient", "P-001", "--pdf", "de.pdf", "--html", "de.html")
    assert result.code == 0
    text = " ".join(pdf_text(tmp_path / "de.pdf").split())
    row = " ".join(pdf_text(tmp_path / "de.pdf", layout=True).split())
    assert "Stand: Montag, 3. Dezember 2029" in text
    assert "Ihre Behandlungstermine" in text
    assert "1 Mo 7. Jan. 2030 09:00 Uhr Einleitung 1/6 gebucht" in row
    assert "Sorgen Sie dafür, dass Sie jemand nach Hause fährt." in text
    assert "Krisentelefon: Telefonseelsorge 0800 111 0 111" in text
    assert '<html lang="de">' in (tmp_path / "de.html").read_text("utf-8")
    assert validate_html(tmp_path / "de.html").returncode == 0


def test_every_catalogue_has_every_text_and_translates_every_guidance_line() -> None:
    assert {"en", "de"} <= set(available())
    english = load_catalogue("en")
    for language in available():
        catalogue = load_catalogue(language)
        assert set(catalogue.texts) == set(english.texts)
        for route, text in GUIDANCE.items():
            theirs = catalogue.guidance_for(route, PatientSettings(crisis_line="112"))
            assert len(theirs.preparation) == len(text.preparation)
            assert len(theirs.aftercare) == len(text.aftercare)
            assert len(theirs.reminder) == len(text.reminder)


def test_a_clinic_catalogue_with_a_missing_text_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    de = (Path(load_catalogue.__code__.co_filename).parent / "de.toml").read_text("utf-8")
    (tmp_path / "fr.toml").write_text(de.replace('move_heading = "Wenn', 'x = "'), "utf-8")
    (tmp_path / "ketaplan.toml").write_text(
        CLINIC.replace("[clinic]\n", '[clinic]\nlanguage = "fr.toml"\n'), "utf-8"
    )
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "1")
    result = run(capsys, "handout", "--patient", "P-001", "--html", "h.html")
    assert (result.code, result.out) == (2, "")
    assert result.message == (
        "Error: fr.toml: missing key move_heading (every key of en.toml is needed)\n"
    )
    assert not (tmp_path / "h.html").exists()


def test_a_clinic_catalogue_with_a_misspelt_placeholder_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    en = (Path(load_catalogue.__code__.co_filename).parent / "en.toml").read_text("utf-8")
    (tmp_path / "mine.toml").write_text(en.replace("Updated on {date}", "Updated {dat}"), "utf-8")
    (tmp_path / "ketaplan.toml").write_text(
        CLINIC.replace("[clinic]\n", '[clinic]\nlanguage = "mine.toml"\n'), "utf-8"
    )
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "1")
    result = run(capsys, "handout", "--patient", "P-001", "--html", "h.html")
    assert (result.code, result.out) == (2, "")
    assert result.message == (
        "Error: mine.toml: updated = 'Updated {dat}': a placeholder this text does not have; "
        "it may use {date}\n"
    )


def test_the_clinics_own_words_are_escaped_and_the_page_stays_valid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ketaplan.toml").write_text(
        CLINIC.replace(
            '"Lakeside Ketamine Clinic"', '"Smith & Jones <Ketamine> \\"Clinic\\""'
        ).replace('phone = "+49 30 1234 5678"', 'phone = "<b>{phone}</b>"'),
        "utf-8",
    )
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "1")
    assert run(capsys, "handout", "--patient", "P-001", "--html", "h.html").code == 0
    page = (tmp_path / "h.html").read_text("utf-8")
    assert "Smith &amp; Jones &lt;Ketamine&gt; &quot;Clinic&quot;" in page
    assert "Call the clinic: &lt;b&gt;{phone}&lt;/b&gt;" in page
    assert "<b>" not in page
    assert validate_html(tmp_path / "h.html").returncode == 0


def test_paper_follows_the_clinics_country_and_the_option(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "1")
    assert run(capsys, "handout", "--patient", "P-001", "--pdf", "a4.pdf").code == 0
    assert (
        run(capsys, "handout", "--patient", "P-001", "--pdf", "l.pdf", "--paper", "letter").code
        == 0
    )
    info = subprocess.run(["pdfinfo", "a4.pdf"], capture_output=True, text=True, check=True)
    assert "595.276 x 841.89 pts (A4)" in info.stdout
    info = subprocess.run(["pdfinfo", "l.pdf"], capture_output=True, text=True, check=True)
    assert "612 x 792 pts (letter)" in info.stdout


def test_a_us_clinic_prints_on_letter(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "ketaplan.toml").write_text(
        CLINIC.replace("Europe/Berlin", "America/Chicago").replace('holidays = "DE-BE"\n', ""),
        "utf-8",
    )
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "1")
    result = run(capsys, "handout", "--patient", "P-001", "--html", "us.html")
    assert result.message == (
        "Wrote the handout of P-001 (7 sessions, 2030-01 to 2030-02; LETTER, en) to us.html\n"
    )
    assert "size: letter" in (tmp_path / "us.html").read_text("utf-8")


# The command's exact output and refusals -------------------------------------------


def test_the_command_says_what_it_wrote(capsys: pytest.CaptureFixture[str]) -> None:
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "3")
    result = run(capsys, "handout", "--patient", "P-001", "--pdf", "h.pdf", "--html", "h.html")
    assert result == Result(
        0,
        "",
        f"Book: {Path('book.sqlite').resolve()} · clinic Lakeside Ketamine Clinic\n"
        "Wrote the handout of P-001 (9 sessions, 2030-01 to 2030-03; A4, en) to h.pdf and h.html\n",
    )


def test_the_html_can_go_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "1")
    result = run(capsys, "handout", "--patient", "P-001", "--html", "-")
    assert result.code == 0
    assert result.out.startswith("<!DOCTYPE html>\n")
    assert result.out.endswith("</html>\n")
    assert result.message.endswith("to -\n")
    both = run(capsys, "handout", "--patient", "P-001", "--html", "-", "--pdf", "-")
    assert both == Result(2, "", "Error: only one of --pdf and --html can go to stdout (-)\n")


def test_printing_never_fetches_a_url() -> None:
    """Were a URL ever to slip into the page, WeasyPrint must not request it: a real
    server on the loopback counts the requests it gets."""
    import http.server
    import threading
    import urllib.error
    import urllib.request

    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/logo.png"
        page = f'<!DOCTYPE html><title>x</title><img src="{url}" alt="logo">'
        with pytest.raises(OutputError, match="it must be self-contained"):
            html_to_pdf(page)
        assert requests == []
        # The server does answer: a plain request reaches it.
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(url, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert requests == ["/logo.png"]


@pytest.mark.parametrize(
    ("args", "code", "err"),
    [
        (
            ("--pdf", "h.pdf"),
            2,
            "Error: Missing option '--patient'.\n",
        ),
        (
            ("--patient", "P-001"),
            2,
            "Error: give --pdf FILE or --html FILE, or both\n",
        ),
        (
            ("--patient", "Jane Doe", "--pdf", "h.pdf"),
            2,
            "Error: patient code 'Jane Doe' has a space or control character; use the "
            "clinic's patient code (e.g. P-001), never a name\n",
        ),
        (
            ("--patient", "P-001", "--pdf", "h.pdf", "--paper", "a5"),
            2,
            "Error: --paper 'a5' is not one of a4, letter\n",
        ),
        (
            ("--patient", "P-404", "--pdf", "h.pdf"),
            1,
            "Error: P-404 has no booked course in the book book.sqlite; book one with "
            "`ketaplan book --patient P-404 ...`\n",
        ),
        (
            ("--patient", "P-001", "--pdf", "/no/such/dir/h.pdf"),
            1,
            "Error: cannot write /no/such/dir/h.pdf: the directory does not exist\n",
        ),
        (
            ("--patient", "P-001", "--pdf", "h.pdf", "--html", "./h.pdf"),
            2,
            "Error: --pdf and --html both name h.pdf; give each its own file\n",
        ),
    ],
    ids=[
        "missing patient",
        "no output",
        "a name",
        "bad paper",
        "no course",
        "no directory",
        "one file twice",
    ],
)
def test_refusals(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    code: int,
    err: str,
) -> None:
    monkeypatch.setenv("KETAPLAN_BOOK", "book.sqlite")
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "1")
    result = run(capsys, "handout", *args)
    assert (result.code, result.out, result.message) == (code, "", err)
    assert not Path("h.pdf").exists()


def test_a_file_ketaplan_did_not_write_is_never_replaced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "1")
    (tmp_path / "letter.pdf").write_bytes(b"%PDF-1.4\nthe referral letter\n%%EOF\n")
    (tmp_path / "notes.html").write_text("<!DOCTYPE html><title>notes</title>", "utf-8")
    for option, name in (("--pdf", "letter.pdf"), ("--html", "notes.html")):
        before = (tmp_path / name).read_bytes()
        result = run(capsys, "handout", "--patient", "P-001", option, name)
        assert (result.code, result.out) == (1, "")
        assert result.message == (
            f"Error: {name} exists and ketaplan did not write it; not replaced: choose "
            "another file name or move that file away\n"
        )
        assert (tmp_path / name).read_bytes() == before
    # Both asked for, one refused: neither is written.
    result = run(
        capsys, "handout", "--patient", "P-001", "--html", "new.html", "--pdf", "letter.pdf"
    )
    assert result.code == 1
    assert not (tmp_path / "new.html").exists()


def test_a_new_handout_is_readable_by_its_owner_only(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "1")
    assert (
        run(capsys, "handout", "--patient", "P-001", "--pdf", "h.pdf", "--html", "h.html").code == 0
    )
    assert (tmp_path / "h.pdf").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "h.html").stat().st_mode & 0o777 == 0o600
    (tmp_path / "h.html").chmod(0o640)  # the coordinator shares it with the team
    assert run(capsys, "handout", "--patient", "P-001", "--html", "h.html").code == 0
    assert (tmp_path / "h.html").stat().st_mode & 0o777 == 0o640


def test_a_handout_ketaplan_wrote_is_replaced(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    book(capsys, "P-001", "--start", "2030-01-07", "--maintenance-sessions", "1")
    for _ in range(2):
        result = run(capsys, "handout", "--patient", "P-001", "--pdf", "h.pdf", "--html", "h.html")
        assert (result.code, result.out) == (0, "")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("h.", ".h."))) == [
        "h.html",
        "h.pdf",
    ]
