"""The patient's printed handout: the clinic, the patient's code (never a name), every
session of the course as month calendars and as a list, the route's preparation and
aftercare, who to call, and what to do when a visit must move.

`handout_from_book` takes the course as the book holds it (every status, cancelled
sessions shown as cancelled) and `handout_html` renders one self-contained HTML page: the
styles are inline and it names no URL, so opening or printing it requests nothing. The
PDF is that page printed (`pdf.py`). Pure: the date it is "updated on" is an argument.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from importlib import resources

from ketaplan import __version__
from ketaplan.formats.calendars import patient_settings
from ketaplan.formats.handout.catalogue import Catalogue
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.protocol import ROUTES
from ketaplan.model.records import CourseRecord, SessionRecord
from ketaplan.safety.guidance import PatientSettings

GENERATOR = f"ketaplan {__version__}"
# A list this long is set in two columns so that a long course stays on two pages.
TWO_COLUMNS_FROM = 17
# Countries whose paper is US Letter; everywhere else prints on A4.
LETTER_COUNTRIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "PR", "GU"})


@dataclass(frozen=True)
class Visit:
    """One session as the handout shows it.

    Attributes:
        number: the session's number in the course.
        start: local start (aware, in the course's zone).
        location: clinic or home.
        phase, phase_number, phase_total: where it sits in the course.
        status: the book's status (booked, attended, missed, cancelled, ...).
    """

    number: int
    start: datetime
    location: str
    phase: str
    phase_number: int
    phase_total: int
    status: str

    @property
    def day(self) -> date:
        return self.start.date()

    @property
    def cancelled(self) -> bool:
        return self.status == "cancelled"


@dataclass(frozen=True)
class Handout:
    """Everything one patient's handout shows.

    Attributes:
        clinic, address, phone, contact, crisis_line: from the clinic config.
        patient: the patient's code.
        route: iv, im, esketamine or lozenge; None for a clinic protocol that names none.
        title: the protocol's title, for a course without a route.
        visits: every session of the active course in number order, every status.
        updated: the day it was made.
        paper: a4 or letter.
        rules: the clinic's rules patients are told (fasting, crisis line).
    """

    clinic: str
    address: str
    phone: str
    contact: str
    crisis_line: str
    patient: str
    route: str | None
    title: str
    visits: tuple[Visit, ...]
    updated: date
    paper: str
    rules: PatientSettings

    def months(self) -> list[tuple[int, int]]:
        """Every (year, month) from the first session's to the last's."""
        if not self.visits:
            return []
        first, last = self.visits[0].day, self.visits[-1].day
        months = []
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            months.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months


def handout_from_book(
    course: CourseRecord,
    sessions: Sequence[SessionRecord],
    clinic: ClinicConfig,
    *,
    updated: date,
    paper: str,
) -> Handout:
    """The handout of a booked course: its sessions as the book holds them."""
    visits = tuple(
        Visit(
            number=s.number,
            start=s.start,
            location=s.location,
            phase=s.phase,
            phase_number=s.phase_number,
            phase_total=s.phase_total,
            status=s.status,
        )
        for s in sorted(sessions, key=lambda s: (s.start, s.number))
    )
    return Handout(
        clinic=clinic.name,
        address=clinic.location,
        phone=clinic.phone,
        contact=clinic.contact,
        crisis_line=clinic.crisis_line,
        patient=course.patient,
        route=sessions[0].route if sessions else None,
        title=course.title,
        visits=visits,
        updated=updated,
        paper=paper,
        rules=patient_settings(clinic),
    )


def default_paper(clinic: ClinicConfig, zone: str) -> str:
    """The config's paper, else Letter where the clinic's holidays or time zone are in a
    Letter country (the US, Canada, Mexico...), else A4."""
    if clinic.paper is not None:
        return clinic.paper
    country = clinic.holidays[0] if clinic.holidays else _zone_country(zone)
    return "letter" if country in LETTER_COUNTRIES else "a4"


def _zone_country(zone: str) -> str | None:
    """The country of an IANA zone, from the tz database's own zone.tab."""
    try:
        table = (resources.files("tzdata.zoneinfo") / "zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        return None
    for line in table.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#") and fields[2] == zone:
            return fields[0]
    return None


def is_ketaplan_html(data: bytes) -> bool:
    """Whether an HTML file carries the handout's generator mark near its top."""
    return b'<meta name="generator" content="ketaplan ' in data[:4096]


# Rendering -------------------------------------------------------------------------


def handout_html(handout: Handout, texts: Catalogue) -> str:
    """The handout as one self-contained HTML page (styles inline, no URL)."""
    page = _Page(handout, texts)
    return page.render()


class _Page:
    def __init__(self, handout: Handout, texts: Catalogue) -> None:
        self.h = handout
        self.t = texts

    def text(self, key: str, **values: object) -> str:
        return escape(self.t[key].format(**values))

    def date_text(self, day: date, key: str) -> str:
        return self.t[key].format(
            weekday=self.t.lists["weekdays"][day.weekday()],
            weekday_short=self.t.lists["weekdays_short"][day.weekday()],
            day=day.day,
            month=self.t.lists["months"][day.month - 1],
            month_short=self.t.lists["months_short"][day.month - 1],
            year=day.year,
        )

    def time_text(self, moment: datetime) -> str:
        return self.t["time"].format(hour=moment.hour, minute=moment.minute)

    def render(self) -> str:
        h = self.h
        title = self.text("document_title", patient=h.patient)
        body = "\n".join(
            [
                self.header(),
                self.calendars(),
                self.listing(),
                self.guidance(),
                self.contacts(),
                f'<p class="footer">{self.text("footer")}</p>',
            ]
        )
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="{escape(self.t.language)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="generator" content="{escape(GENERATOR)}">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n<style>\n{_css(h.paper)}</style>\n</head>\n"
            f"<body>\n{body}\n</body>\n</html>\n"
        )

    def course_line(self) -> str:
        h = self.h
        title = self.t.name("routes", h.route) if h.route else h.title
        live = [v for v in h.visits if not v.cancelled]
        clinic = sum(v.location == "clinic" for v in live)
        home = len(live) - clinic
        if home and h.route != "lozenge":
            return self.text("course", title=title, clinic=clinic, home=home)
        if h.route == "lozenge":
            return escape(title)
        return self.text("course_clinic_only", title=title, clinic=clinic)

    def header(self) -> str:
        h = self.h
        clinic = [f'<p class="clinic">{escape(h.clinic)}</p>']
        if h.address:
            clinic.append(f"<p>{escape(h.address)}</p>")
        if h.phone:
            clinic.append(f"<p>{self.text('phone')}: {escape(h.phone)}</p>")
        patient = (
            f'<p>{self.text("patient_code")}: <strong class="code">{escape(h.patient)}</strong></p>'
            f'<p class="name">{self.text("name_line")}:</p>'
            f"<p>{self.text('updated', date=self.date_text(h.updated, 'date_long'))}</p>"
        )
        return (
            '<header>\n<div class="who">' + "".join(clinic) + "</div>\n"
            f'<div class="patient">{patient}</div>\n</header>\n'
            f"<h1>{self.text('title')}</h1>\n"
            f'<p class="course">{self.course_line()}</p>'
        )

    def calendars(self) -> str:
        by_day: dict[date, list[Visit]] = {}
        for v in self.h.visits:
            by_day.setdefault(v.day, []).append(v)
        months = "\n".join(self.month(y, m, by_day) for y, m in self.h.months())
        # The legend explains only the marks this calendar uses.
        used = {_day_kind([v]) for v in self.h.visits}
        marks = "".join(
            f'<span class="mark {kind}">7</span> {self.text(key)} '
            for kind, key in (
                ("visit", "legend_visit"),
                ("home", "legend_home"),
                ("cancelled", "legend_cancelled"),
            )
            if kind in used
        )
        legend = f'<p class="legend">{marks.rstrip()}</p>'
        return (
            f'<section class="calendars">\n<h2>{self.text("calendar_heading")}</h2>\n'
            f'<div class="months">\n{months}\n</div>\n{legend}\n</section>'
        )

    def month(self, year: int, month: int, by_day: dict[date, list[Visit]]) -> str:
        caption = self.t["month_caption"].format(month=self.t.lists["months"][month - 1], year=year)
        head = "".join(f"<th>{escape(d)}</th>" for d in self.t.lists["weekdays_grid"])
        rows = []
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            cells = []
            for day in week:
                if day.month != month:
                    cells.append("<td></td>")
                    continue
                kind = _day_kind(by_day.get(day, ()))
                if kind is None:
                    cells.append(f"<td>{day.day}</td>")
                else:
                    cells.append(f'<td><span class="mark {kind}">{day.day}</span></td>')
            rows.append("<tr>" + "".join(cells) + "</tr>")
        return (
            f'<table class="month">\n<caption>{escape(caption)}</caption>\n'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>"
        )

    def listing(self) -> str:
        visits = list(self.h.visits)
        if len(visits) >= TWO_COLUMNS_FROM:
            half = (len(visits) + 1) // 2
            parts = [visits[:half], visits[half:]]
        else:
            parts = [visits]
        tables = "\n".join(f"<div>{self.list_table(part)}</div>" for part in parts)
        columns = " two" if len(parts) == 2 else ""
        return (
            f'<section class="listing">\n<h2>{self.text("list_heading")}</h2>\n'
            f'<div class="lists{columns}">\n{tables}\n</div>\n</section>'
        )

    def list_table(self, visits: Iterable[Visit]) -> str:
        t = self.t
        head = "".join(
            f'<th scope="col">{self.text(key)}</th>'
            for key in (
                "column_number",
                "column_day",
                "column_date",
                "column_time",
                "column_what",
                "column_status",
            )
        )
        rows = []
        for v in visits:
            what = (
                self.text("home_dose")
                if v.location == "home"
                else escape(f"{t.name('phases', v.phase)} {v.phase_number}/{v.phase_total}")
            )
            css = ' class="cancelled"' if v.cancelled else ""
            rows.append(
                f"<tr{css}><td>{v.number}</td>"
                f"<td>{escape(t.lists['weekdays_short'][v.day.weekday()])}</td>"
                f'<td class="date">{escape(self.date_text(v.day, "date_list"))}</td>'
                f"<td>{escape(self.time_text(v.start))}</td>"
                f"<td>{what}</td>"
                f'<td class="status">{escape(t.name("status", v.status))}</td></tr>'
            )
        return (
            f'<table class="list">\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
            + "\n".join(rows)
            + "\n</tbody>\n</table>"
        )

    def guidance(self) -> str:
        h = self.h
        parts = []
        route_guidance = self.t.guidance_for(h.route, h.rules) if h.route in ROUTES else None
        if route_guidance is not None and h.route != "lozenge":
            parts += _items(self.text("before_heading"), route_guidance.preparation)
            parts += _items(self.text("after_heading"), route_guidance.aftercare)
        elif route_guidance is None:
            parts.append(f"<p>{self.text('no_guidance')}</p>")
        if any(v.location == "home" for v in h.visits):
            home = self.t.guidance_for("lozenge", h.rules)
            parts += _items(self.text("home_heading"), home.reminder + home.aftercare)
        return '<section class="guidance">\n' + "\n".join(parts) + "\n</section>"

    def contacts(self) -> str:
        h = self.h
        if h.contact:
            ask = self.text("contact_named", contact=h.contact)
        elif h.phone:
            ask = self.text("contact_phone", phone=h.phone)
        else:
            ask = self.text("contact_none")
        crisis = [f"<p><strong>{self.text('crisis_line', crisis_line=h.crisis_line)}</strong></p>"]
        if not h.crisis_line:
            crisis = []
        return (
            '<section class="contacts">\n'
            f"<div><h2>{self.text('contact_heading')}</h2>\n<p>{ask}</p>\n"
            f"<h2>{self.text('move_heading')}</h2>\n<p>{self.text('move')}</p></div>\n"
            f'<div class="crisis"><h2>{self.text("crisis_heading")}</h2>\n'
            + "".join(crisis)
            + f"<p>{self.text('crisis_general')}</p></div>\n</section>"
        )


def _items(heading: str, lines: Sequence[str]) -> list[str]:
    if not lines:
        return []
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return [f"<div><h2>{heading}</h2>\n<ul>{items}</ul></div>"]


def _day_kind(visits: Iterable[Visit]) -> str | None:
    """How a calendar day is marked: a clinic visit wins over a home dose, and either
    over a cancelled session on the same day."""
    kinds = {("cancelled" if v.cancelled else v.location) for v in visits}
    if "clinic" in kinds:
        return "visit"
    if "home" in kinds:
        return "home"
    return "cancelled" if kinds else None


_PAPER = {"a4": "A4", "letter": "letter"}


def _css(paper: str) -> str:
    """Print-first styles, laid out with CSS tables and inline blocks (WeasyPrint lays
    out flex boxes several times over: twice the time for this page); one sans-serif font
    the PDF embeds (DejaVu Sans where the system has it). Marks differ in shape, not only
    in colour, so a grey printer keeps them."""
    return f"""@page {{ size: {_PAPER[paper]}; margin: 12mm 13mm; }}
* {{ box-sizing: border-box; }}
html {{ font-family: "DejaVu Sans", Verdana, Arial, sans-serif; font-size: 9.5pt;
  color: #000; background: #fff; }}
body {{ margin: 0; line-height: 1.3; }}
@media screen {{ body {{ max-width: 190mm; margin: 1.5em auto; padding: 0 1em; }} }}
p {{ margin: 0 0 1mm; }}
header {{ display: table; width: 100%; border-bottom: 0.4mm solid #000;
  padding-bottom: 2mm; }}
header > div {{ display: table-cell; vertical-align: top; }}
.clinic {{ font-size: 12pt; font-weight: bold; }}
.patient {{ width: 72mm; }}
.code {{ font-size: 11pt; }}
.name {{ border-bottom: 0.3mm solid #000; padding-top: 4mm; }}
h1 {{ font-size: 15pt; margin: 3mm 0 0.5mm; }}
h2 {{ font-size: 10.5pt; margin: 3mm 0 1mm; }}
.course {{ font-size: 10pt; }}
.months {{ margin-right: -4mm; }}
table {{ border-collapse: collapse; }}
.month {{ display: inline-table; vertical-align: top; width: 41mm; margin: 0 4mm 3mm 0;
  font-size: 8pt; text-align: center; break-inside: avoid; }}
.month caption {{ font-weight: bold; font-size: 8.5pt; text-align: left; padding-bottom: 0.5mm; }}
.month th {{ font-weight: normal; color: #444; font-size: 7pt; }}
.month td {{ height: 5.2mm; padding: 0; }}
.mark {{ display: inline-block; width: 5mm; height: 5mm; line-height: 4.4mm;
  border-radius: 50%; border: 0.3mm solid transparent; text-align: center; }}
.mark.visit {{ background: #000; color: #fff; font-weight: bold; border-color: #000; }}
.mark.home {{ border: 0.4mm dashed #000; font-weight: bold; }}
.mark.cancelled {{ border-radius: 0; border-color: #888; color: #666;
  text-decoration: line-through; }}
.legend {{ margin-top: 2mm; font-size: 8.5pt; }}
.legend .mark {{ font-size: 7.5pt; margin-left: 3mm; }}
.lists.two {{ display: table; width: 100%; }}
.lists.two > div {{ display: table-cell; width: 50%; vertical-align: top; }}
.lists.two > div + div {{ padding-left: 5mm; }}
.lists > div > table {{ width: 100%; }}
.list {{ font-size: 8.5pt; }}
.list th {{ text-align: left; border-bottom: 0.3mm solid #000; padding: 0.5mm 1.5mm; }}
.list td {{ padding: 0.5mm 1.5mm; border-bottom: 0.1mm solid #bbb; white-space: nowrap; }}
.list tr {{ break-inside: avoid; }}
.lists.two .list {{ font-size: 8pt; }}
.cancelled td {{ color: #555; }}
.cancelled .date {{ text-decoration: line-through; }}
.cancelled .status {{ font-weight: bold; color: #000; }}
.guidance, .contacts {{ display: table; width: 100%; break-inside: avoid;
  border-spacing: 0; }}
.guidance > div, .contacts > div {{ display: table-cell; vertical-align: top; }}
.guidance > div + div, .contacts > div + div {{ padding-left: 6mm; }}
ul {{ margin: 0; padding-left: 4.5mm; }}
.contacts > div {{ width: 50%; }}
.contacts > div:first-child {{ padding-right: 6mm; }}
.contacts > div.crisis {{ border: 0.5mm solid #000; padding: 0 3mm 2mm; }}
.footer {{ margin-top: 4mm; font-size: 7.5pt; color: #333; }}
"""
