"""The feed server: read-only calendar feeds over HTTP, as an ASGI application.

Routes: `GET /` answers a short text (a health check for a reverse proxy);
`GET /feeds/<token>.ics` answers the feed the token opens. HEAD works wherever GET does;
any other method on those paths gets 405, any other path 404. An unknown, revoked or
expired token gets the same 404 as any other missing page: nothing tells them apart.

Every feed answer is a full snapshot, `text/calendar; charset=utf-8`, with a weak ETag
from the book's change counter: a request with a matching If-None-Match gets 304 after
two one-row reads, without the calendar being built. Building runs in a worker thread
with its own connection to the book (SQLite connections stay in their thread; WAL lets
them read while coordinators write), so the event loop keeps answering meanwhile.
Answers are gzipped when the client asks (Starlette's GZipMiddleware).

Tokens and patient codes never reach the logs: `ACCESS_LOG_FILTER` replaces every
request path in uvicorn's access log with its kind.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ketaplan.booking.feeds import FeedAnswer, FeedService
from ketaplan.errors import KetaplanError
from ketaplan.model.records import FeedRecord
from ketaplan.store import Book

MEDIA_TYPE = "text/calendar; charset=utf-8"
# token_urlsafe's alphabet; anything else cannot be a token and is not looked up.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{22,128}")
_HEADERS = {
    # Health data: no shared cache may keep it, and every use revalidates (cheap: 304).
    "Cache-Control": "private, no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_log = logging.getLogger("ketaplan.serve")


def not_found() -> Response:
    return PlainTextResponse("Not Found\n", status_code=404, headers=_HEADERS)


class Books:
    """One open book per thread: the event loop's for the quick reads, each worker
    thread's for building feeds."""

    def __init__(self, open_book: Callable[[], Book]) -> None:
        self._open = open_book
        self._local = threading.local()

    def here(self) -> Book:
        book: Book | None = getattr(self._local, "book", None)
        if book is None:
            book = self._open()
            self._local.book = book
        return book


def create_app(service: FeedService, open_book: Callable[[], Book]) -> Starlette:
    """The ASGI application over `service`, opening the book with `open_book`."""
    books = Books(open_book)

    async def home(request: Request) -> Response:
        return PlainTextResponse("ketaplan calendar feeds\n", headers=_HEADERS)

    async def feed(request: Request) -> Response:
        name: str = request.path_params["name"]
        token = name.removesuffix(".ics")
        if token == name or not _TOKEN.fullmatch(token):
            return not_found()
        try:
            book = books.here()
            state = book.state()
            found = service.find(book, token, state)
            if found is None:
                return not_found()
            etag = service.etag(state, found, service.today())
            if _matches(request.headers.get("if-none-match"), etag):
                return Response(status_code=304, headers={**_HEADERS, "ETag": etag})
            answer = await run_in_threadpool(_build, books, service, found)
        except KetaplanError as exc:
            # Never the message: it may name a patient. The kind is enough to act on.
            _log.error("a feed could not be built: %s", type(exc).__name__)
            return not_found()
        headers = {**_HEADERS, "ETag": answer.etag}
        return Response(answer.body, media_type=MEDIA_TYPE, headers=headers)

    return Starlette(
        routes=[
            Route("/", home, methods=["GET", "HEAD"]),
            Route("/feeds/{name}", feed, methods=["GET", "HEAD"]),
        ],
        middleware=[Middleware(GZipMiddleware, minimum_size=1000)],
    )


def _build(books: Books, service: FeedService, feed: FeedRecord) -> FeedAnswer:
    return service.build(books.here(), feed)


def _matches(header: str | None, etag: str) -> bool:
    """If-None-Match by weak comparison (RFC 9110 13.1.2): `*` or any listed tag."""
    if not header:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == wanted:
            return True
    return False


class AccessLogFilter(logging.Filter):
    """Uvicorn's access log with every path replaced by its kind: `/`, `/feeds/<token>`
    or `<other path>`, and no query string. A token (and a patient code an attacker puts
    in a URL) is never written."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            client, method, path, version, status = args
            record.args = (client, method, redact(str(path)), version, status)
        return True


def redact(path: str) -> str:
    bare = path.split("?", 1)[0]
    if bare == "/":
        return "/"
    if bare.startswith("/feeds/"):
        return "/feeds/<token>"
    return "<other path>"


def log_config() -> dict[str, Any]:
    """Uvicorn's default logging, with the access log filtered through `AccessLogFilter`."""
    from uvicorn.config import LOGGING_CONFIG  # the server's own defaults, kept

    config: dict[str, Any] = {
        **LOGGING_CONFIG,
        "filters": {"redact": {"()": AccessLogFilter}},
        "handlers": {name: dict(h) for name, h in LOGGING_CONFIG["handlers"].items()},
        "loggers": {name: dict(lg) for name, lg in LOGGING_CONFIG["loggers"].items()},
    }
    config["handlers"]["access"]["filters"] = ["redact"]
    config["loggers"]["ketaplan.serve"] = {"handlers": ["default"], "level": "INFO"}
    return config


def serve(service: FeedService, open_book: Callable[[], Book], *, host: str, port: int) -> None:
    """Run the feed server until interrupted."""
    import uvicorn  # the ASGI server: only this command needs it

    uvicorn.run(
        create_app(service, open_book),
        host=host,
        port=port,
        log_config=log_config(),
        access_log=True,
        server_header=False,
        proxy_headers=True,
        # Bounded: a flood gets 503 instead of exhausting memory.
        limit_concurrency=1000,
        timeout_keep_alive=5,
    )
