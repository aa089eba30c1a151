"""Fixtures shared by several test modules."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chromium import find_chromium
from tests.postgres import postgres_server, unavailable_reason


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL server on loopback for the whole run (skips without one)."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)  # the server runs as `nobody` when we are root
        with postgres_server(Path(d) / "pg") as url:
            yield url


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's ``chromium``, installed with apt-get when missing (skip only if that fails)."""
    exe = find_chromium()
    if exe is None:
        pytest.skip("Chromium is not installed and could not be installed with apt-get "
                    "(needs root and a reachable Debian mirror)")
    return exe
