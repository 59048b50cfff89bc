"""The handout printed to PDF by WeasyPrint, which lays out the same HTML page with
Pango: a real print engine (fonts embedded and subset, text selectable), pure Python
plus Debian's Pango, and no browser to install."""

from __future__ import annotations

from ketaplan.errors import OutputError


def _no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    # The page names no URL; if one ever slipped in, printing must not go and fetch it.
    raise OutputError(f"the handout tried to load {url!r}; it must be self-contained")


def html_to_pdf(html: str) -> bytes:
    # WeasyPrint loads Pango, cffi and fontTools (about 0.3 s): only this command needs it.
    import weasyprint

    document = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
    data: bytes | None = document.write_pdf()
    if data is None:  # only with a target does write_pdf return nothing
        raise OutputError("WeasyPrint returned no PDF")
    return data


def written_by_ketaplan(data: bytes) -> bool:
    """Whether a PDF carries the handout's generator mark (its Creator), which WeasyPrint
    writes into a compressed object stream."""
    import re
    import zlib

    mark = b"/Creator (ketaplan "
    if mark in data:
        return True
    if not data.startswith(b"%PDF-"):
        return False
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", data, re.S):
        try:
            if mark in zlib.decompress(match.group(1)):
                return True
        except zlib.error:
            continue
    return False
