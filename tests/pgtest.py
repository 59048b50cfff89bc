"""A fresh PostgreSQL database per test, on the server that .ci/run starts
(KETAPLAN_TEST_PG: a URL without a password; libpq finds it in PGPASSFILE)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

SKIP_REASON = (
    "KETAPLAN_TEST_PG is unset: no PostgreSQL server for this test (.ci/run starts one and sets it)"
)


def server_url() -> str:
    url = os.environ.get("KETAPLAN_TEST_PG")
    if not url:
        pytest.skip(SKIP_REASON)
    return url


@contextmanager
def fresh_database() -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards."""
    import psycopg  # only the PostgreSQL tests need the driver

    url = server_url()
    name = f"ketaplan_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{url.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
