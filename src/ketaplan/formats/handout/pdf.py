"""The handout printed to PDF by WeasyPrint, which lays out the same HTML page with
Pango: a real print engine (fonts embedded and subset, text selectable), pure Python
plus Debian's Pango, and no browser to install."""

from __future__ import annotations

from typing import Any

from ketaplan.errors import OutputError


def html_to_pdf(html: str) -> bytes:
    """The page as PDF. Printing fetches nothing: the page names no URL, and if one ever
    slipped in, the fetcher refuses it and the handout is not written."""
    # WeasyPrint loads Pango, cffi and fontTools (about 0.3 s): only this command needs it.
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    class NoFetching(URLFetcher):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(fail_on_errors=True)

        def fetch(self, url: str, headers: Any = None) -> Any:
            raise OutputError(url)

    try:
        data: bytes | None = weasyprint.HTML(string=html, url_fetcher=NoFetching()).write_pdf()
    except FatalURLFetchingError as exc:
        raise OutputError(
            f"the handout asked for {exc.__cause__}; it must be self-contained, so no PDF "
            "was written"
        ) from None
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
