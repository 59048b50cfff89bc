"""`ketaplan protocols`: the built-in protocols, and every parameter with its source."""

from __future__ import annotations

import sys
from dataclasses import fields
from typing import Any

import typer

from ketaplan.cli.app import app
from ketaplan.cli.common import FormatOpt, check_format
from ketaplan.cli.render import console, write_csv
from ketaplan.formats.protocol_file import get_protocol, protocol_definition
from ketaplan.formats.shapes import PROTOCOLS_CSV, protocol_csv_row, protocol_json
from ketaplan.model.protocol import Phase, Protocol
from ketaplan.model.sources import CITATIONS, OWN_CHOICE, cited_keys
from ketaplan.planning.protocols import BUILTIN

protocols_app = typer.Typer(
    help="List the built-in protocols, or show one with every parameter and its source.\n\n"
    "Example: ketaplan protocols show esketamine",
    invoke_without_command=True,
    no_args_is_help=False,
)
app.add_typer(protocols_app, name="protocols")


@protocols_app.callback()
def protocols(ctx: typer.Context, fmt: FormatOpt = "table") -> None:
    """List the built-in protocols.

    Example: ketaplan protocols --format json
    """
    if ctx.invoked_subcommand is not None:
        return
    check_format(fmt)
    if fmt == "json":
        import json

        data = {"protocols": [protocol_json(p) for p in BUILTIN.values()]}
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        write_csv(PROTOCOLS_CSV, [protocol_csv_row(p) for p in BUILTIN.values()])
        return
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("Name", "Treatment", "Phases", "Source"):
        table.add_column(column)
    for p in BUILTIN.values():
        phases = ", ".join(
            f"{ph.name} ({ph.sessions if ph.sessions else 'open'})" for ph in p.phases
        )
        table.add_row(p.name, p.title, phases, p.source)
    out = console()
    out.print(table)
    _print_citations(out, *(p.source for p in BUILTIN.values()))


@protocols_app.command("show")
def protocols_show(
    name: str = typer.Argument(help="A built-in name or a FILE.toml."),
    fmt: FormatOpt = "table",
) -> None:
    """Print every parameter of a protocol and where it comes from.

    Example: ketaplan protocols show iv
    """
    from rich import box
    from rich.table import Table

    check_format(fmt)
    protocol = get_protocol(name)
    if fmt == "json":
        import json

        # The definition a booked course keeps: every parameter of every phase.
        data = json.loads(protocol_definition(protocol))
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        write_csv(("phase", "parameter", "value", "source"), _parameter_rows(protocol))
        return
    out = console()
    out.print(f"{protocol.name}: {protocol.title} (route {protocol.route})", markup=False)
    out.print(f"Source: {protocol.source}", markup=False)
    out.print(f"Default maintenance sessions: {protocol.maintenance_sessions}", markup=False)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("Phase", "Parameter", "Value", "Source"):
        table.add_column(column, overflow="fold")
    rows = _parameter_rows(protocol)
    for row in rows:
        table.add_row(*row)
    out.print(table)
    cited = [protocol.source, *(source for *_, source in rows)]
    for note in protocol.notes:
        out.print(note, markup=False)
    _print_citations(out, *cited, *protocol.notes)


def _print_citations(out: Any, *texts: str) -> None:
    """Each source the texts cite, in full, once: the table cites it by its key."""
    from rich.table import Table  # Rich's tables load only when a table is printed

    keys = cited_keys(*texts)
    if not keys:
        return
    out.print("Sources (docs/sources.md has each in full):", markup=False)
    grid = Table.grid(padding=(0, 1), pad_edge=True)
    grid.add_column(no_wrap=True)
    grid.add_column()
    for key in keys:
        grid.add_row(f"[{key}]", CITATIONS[key])
    out.print(grid)


def _parameter_rows(protocol: Protocol) -> list[tuple[str, str, str, str]]:
    """Phase, parameter, value and source of every parameter a protocol sets, for the
    table and the CSV alike."""
    rows: list[tuple[str, str, str, str]] = []
    for phase in protocol.phases:
        for field in fields(Phase):
            if field.name in ("name", "sources"):
                continue
            value = getattr(phase, field.name)
            if value in (None, ()) and field.name != "sessions":
                continue
            if field.name == "provisional" and not value:
                continue
            source = phase.source_of(field.name) or OWN_CHOICE
            rows.append((phase.name, field.name, _show_value(field.name, value), source))
    return rows


def _show_value(name: str, value: object) -> str:
    if name == "sessions" and value is None:
        return "open-ended"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) + " (last repeats)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
