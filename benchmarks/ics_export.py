"""Benchmark: ketaplan's .ics exporter against a bare icalendar loop writing the same events.

Run: .venv/bin/python benchmarks/ics_export.py [--courses 2000] [--rounds 3]

Plans the courses first (not timed), then times, in the same run and alternating
rounds, (a) `course_calendar` for every course and (b) a plain loop of icalendar calls
that writes the same properties for the same sessions. Both outputs are compared byte
for byte, so the two really write the same events. Prints events per second for both and
the ratio of times (best round of each); exits 1 when ketaplan takes more than 1.25 times
the bare loop's time.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import cycle
from pathlib import Path

try:
    import ketaplan  # noqa: F401
except ModuleNotFoundError:  # outside the venv: one clear line instead of a traceback
    sys.exit(
        f"Error: ketaplan is not installed for {sys.executable}; run the benchmark with "
        f"the venv's python: .venv/bin/python benchmarks/{Path(__file__).name}"
    )


from ketaplan import __version__
from ketaplan.formats.calendars import course_calendar
from ketaplan.model.clinic import ClinicConfig
from ketaplan.model.course import Course, CourseRequest
from ketaplan.planning.planner import plan_course
from ketaplan.planning.protocols import BUILTIN
from ketaplan.safety.guidance import GUIDANCE

TARGET_RATIO = 1.25
STAMP = datetime(2026, 1, 1, tzinfo=UTC)
CLINIC = ClinicConfig(name="Ketamine clinic Mitte", location="Hauptstraße 1, 10115 Berlin")
# (protocol, maintenance sessions): 14 sessions a course either way.
SHAPES = (("iv", 8), ("esketamine", 2), ("im", 8))
ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata")


def plan_courses(count: int) -> list[Course]:
    courses = []
    shapes, zones = cycle(SHAPES), cycle(ZONES)
    for number in range(count):
        protocol, sessions = next(shapes)
        courses.append(
            plan_course(
                CourseRequest(
                    patient=f"P-{number:05d}",
                    protocol=BUILTIN[protocol],
                    start=date(2026, 1, 5) + timedelta(days=number % 300),
                    zone=next(zones),
                    open_sessions=sessions,
                )
            )
        )
    return courses


def ketaplan_export(courses: list[Course]) -> list[bytes]:
    return [course_calendar(course, CLINIC, stamp=STAMP) for course in courses]


def bare_export(courses: list[Course]) -> list[bytes]:
    """The same events with nothing but icalendar calls: the floor for any exporter."""
    from icalendar import Alarm, Calendar, Event, vText

    out = []
    location = CLINIC.location
    alarm_trigger = timedelta(minutes=-(CLINIC.alarm_minutes or 0))
    for course in courses:
        calendar = Calendar()
        calendar.add("version", "2.0")
        calendar.add("prodid", f"-//ketaplan//ketaplan {__version__}//EN")
        calendar.add("method", "PUBLISH")
        name = f"{course.patient} · {course.protocol.title} · {CLINIC.name}"
        calendar.add("x-wr-calname", vText(name))
        calendar.add("name", vText(name))
        description = GUIDANCE[course.protocol.route].text()
        for s in course.sessions:
            event = Event()
            event.add("uid", s.uid)
            event.add("dtstamp", STAMP)
            event.add("sequence", 0)
            event.add("dtstart", s.start.astimezone(UTC))
            event.add("dtend", s.end.astimezone(UTC))
            event.add(
                "summary",
                f"{course.protocol.title} {s.phase_number}/{s.phase_total} · {s.phase} · "
                f"{course.patient}",
            )
            event.add("location", location)
            event.add("description", description)
            event.add("transp", "OPAQUE")
            event.add("categories", ["Appointment"])
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("trigger", alarm_trigger)
            alarm.add("description", CLINIC.alarm_text)
            event.add_component(alarm)
            calendar.add_component(event)
        out.append(calendar.to_ical())
    return out


Exporter = Callable[[list[Course]], list[bytes]]
EXPORTERS: dict[str, Exporter] = {"ketaplan": ketaplan_export, "bare": bare_export}


def timed(export: Exporter, courses: list[Course]) -> tuple[float, list[bytes]]:
    started = time.perf_counter()
    result = export(courses)
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--courses", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    courses = plan_courses(args.courses)
    events = sum(len(c.sessions) for c in courses)
    best = {"ketaplan": float("inf"), "bare": float("inf")}
    for round_number in range(args.rounds):
        # Alternate which runs first, and start each from a collected heap, so that
        # neither pays for the other's garbage.
        order = ["ketaplan", "bare"] if round_number % 2 == 0 else ["bare", "ketaplan"]
        outputs: dict[str, list[bytes]] = {}
        for label in order:
            gc.collect()
            seconds, outputs[label] = timed(EXPORTERS[label], courses)
            best[label] = min(best[label], seconds)
        if outputs["ketaplan"] != outputs["bare"]:
            print("the two exporters wrote different files; the comparison is void")
            return 2
        del outputs

    ratio = best["ketaplan"] / best["bare"]
    print(f"{args.courses} courses, {events} events, best of {args.rounds} rounds")
    for label, seconds in best.items():
        print(f"{label:>9}: {seconds:6.2f} s  {events / seconds:8.0f} events/s")
    verdict = "within" if ratio <= TARGET_RATIO else "OVER"
    print(f"    ratio: {ratio:.3f}x the bare loop's time ({verdict} the {TARGET_RATIO}x target)")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
