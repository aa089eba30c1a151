"""Headless Chromium for tests that open a page (the HTML report, the documentation site).

The ``chromium`` fixture (tests/conftest.py) finds Debian's ``chromium`` and installs it with
apt-get when it is missing and we are root; tests skip only where that fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                  "--hide-scrollbars", "--enable-logging=stderr", "--v=0"]


def find_chromium() -> str | None:
    """Debian's ``chromium``, installed with apt-get when missing (``None`` if that fails)."""
    exe = shutil.which("chromium")
    if exe is None and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True,
                           timeout=300, check=False)
            subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], env=env,
                           capture_output=True, timeout=900, check=False)
        except subprocess.TimeoutExpired:
            pass
        exe = shutil.which("chromium")
    return exe


def run_chromium(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """One headless Chromium run with a fresh profile folder (e.g. ``--dump-dom URL``)."""
    cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
                          check=False)
