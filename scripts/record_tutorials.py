#!/usr/bin/env python
"""Run the tutorials of docs/tutorials/ at full size and record each one's output for its page.

Each tutorial is a script, ``docs/tutorials/NAME.py``, that its page ``NAME.md`` includes
whole; its output goes to ``docs/tutorials/output/NAME.txt``, which the page includes too. The
file's first lines name the command, the machine, the date, the wall time and the script's
SHA-256 (tests/test_tutorials.py checks the hash, so a changed script fails the tests until its
output is recorded again). The test suite runs every tutorial with ``--tiny``.

Usage::

    python scripts/record_tutorials.py                      # every tutorial
    python scripts/record_tutorials.py own-data workers     # some
    python scripts/record_tutorials.py --data-root ../shared/data   # own-data on real folders
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nasga.bench.machine import machine  # noqa: E402
from nasga.storages.redact import redact  # noqa: E402

TUTORIAL_DIR = ROOT / "docs" / "tutorials"
OUTPUT_DIR = TUTORIAL_DIR / "output"


@dataclass(frozen=True)
class Tutorial:
    """One tutorial: ``docs/tutorials/NAME.py``, shown on ``NAME.md`` with its recorded output."""

    name: str
    postgres: bool = False
    """It takes ``--storage URL``: recorded (and tested) on a throwaway PostgreSQL server."""

    @property
    def script(self) -> Path:
        return TUTORIAL_DIR / f"{self.name}.py"

    @property
    def page(self) -> Path:
        return TUTORIAL_DIR / f"{self.name}.md"

    @property
    def output(self) -> Path:
        return OUTPUT_DIR / f"{self.name}.txt"


TUTORIALS = (
    Tutorial("own-data"),
    Tutorial("optuna-samplers"),
    Tutorial("aging-hpo"),
    Tutorial("workers", postgres=True),
    Tutorial("gpus"),
    Tutorial("gamma-reuse"),
    Tutorial("comparing"),
)
"""Every tutorial, in the order of the site's navigation (the one list: recording, tests)."""


def script_hash(tutorial: Tutorial) -> str:
    """The first 16 hex digits of the script's SHA-256, as the output's header records it."""
    return hashlib.sha256(tutorial.script.read_bytes()).hexdigest()[:16]


def header(tutorial: Tutorial, argv: list[str], wall: float, load: float) -> str:
    """The recorded output's first lines: command, machine (and its load average when the
    run started: other work on the cores slows it), date, wall time, script hash."""
    command = redact(shlex.join(["python", tutorial.script.relative_to(ROOT).as_posix(), *argv]))
    if os.environ.get("OMP_NUM_THREADS"):  # it changes the timings: part of the command
        command = f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']} {command}"
    return (f"# {command}\n# recorded {datetime.date.today().isoformat()} by "
            f"scripts/record_tutorials.py on {machine()} (load average {load:.1f}), "
            f"{wall:.0f} s wall; script sha256 {script_hash(tutorial)}\n")


@contextlib.contextmanager
def postgres() -> Iterator[str | None]:
    """A throwaway PostgreSQL server (tests/postgres.py), or ``None`` where none can start."""
    from tests.postgres import postgres_server, unavailable_reason

    if reason := unavailable_reason():
        print(f"no PostgreSQL ({reason}): the workers tutorial records on a journal file")
        yield None
        return
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)  # the server runs as `nobody` when we are root
        with postgres_server(Path(d) / "pg") as url:
            yield url


def record(tutorial: Tutorial, argv: list[str]) -> float:
    """Run one tutorial, write its output file; returns the wall seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    load, start = os.getloadavg()[0], time.perf_counter()
    out = subprocess.run([sys.executable, str(tutorial.script), *argv], cwd=ROOT, env=env,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"{tutorial.name}: exit code {out.returncode}\n{out.stdout[-3000:]}")
    OUTPUT_DIR.mkdir(exist_ok=True)
    tutorial.output.write_text(header(tutorial, argv, wall, load) + out.stdout, encoding="utf-8")
    return wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    names = [t.name for t in TUTORIALS]
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"tutorials to record (default: all of {', '.join(names)})")
    parser.add_argument("--data-root", type=Path, default=ROOT.parent / "shared" / "data",
                        help="own-data runs on DIR/facades and DIR/cifar10 where they exist "
                             "(default ../shared/data), else on the stand-ins it writes")
    args = parser.parse_args(argv)
    if unknown := [n for n in args.names if n not in names]:
        parser.error(f"NAME: expected some of {', '.join(names)}, got {', '.join(unknown)}")
    chosen = [t for t in TUTORIALS if not args.names or t.name in args.names]
    with postgres() if any(t.postgres for t in chosen) else contextlib.nullcontext() as url:
        for tutorial in chosen:
            extra: list[str] = []
            if tutorial.postgres and url:
                extra = ["--storage", url]
            if tutorial.name == "own-data" and (args.data_root / "facades").is_dir():
                extra = ["--aligned", str(args.data_root / "facades"),
                         "--cifar", str(args.data_root / "cifar10")]
            wall = record(tutorial, extra)
            print(f"{tutorial.name}: {wall:.0f} s -> {tutorial.output.relative_to(ROOT)}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
