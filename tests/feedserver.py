"""A real `ketaplan serve` for the feed tests: the installed command in its own process,
on a free loopback port, its log kept for the tests to read, stopped after the test."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    port: int
    log: Path

    def request(
        self, method: str, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request on a fresh connection: status, headers (lower-case names), body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            body = response.read()
            found = {name.lower(): value for name, value in response.getheaders()}
            return response.status, found, body
        finally:
            connection.close()

    def path(self, url: str) -> str:
        """The path of a URL that `ketaplan feed create` printed."""
        return urlsplit(url).path

    def logs(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@contextmanager
def running(directory: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`ketaplan serve` in `directory` (its ketaplan.toml and book), until the block ends."""
    port = free_port()
    log = directory / f"serve-{port}.log"
    command: Sequence[str] = (
        sys.executable, "-m", "ketaplan", "serve", "--port", str(port), *args,
    )  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=directory,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    server = Server(port, log)
    try:
        _wait_until_up(server, process)
        yield server
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: Server, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"ketaplan serve ended: {server.logs()}")
        try:
            if server.request("GET", "/")[0] == 200:
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"ketaplan serve did not answer: {server.logs()}")
