"""scripts/bench_workers.py runs at a tiny size and reports no surplus evaluation, for the
generational GA, the steady-state GA and aging evolution."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.helpers import load_script, one_line_error

ROOT = Path(__file__).resolve().parents[1]


def test_bench_workers_tiny() -> None:
    out = subprocess.run(
        [sys.executable, "scripts/bench_workers.py", "--workers", "1,3", "--storages", "journal",
         "--sleep", "0.02", "--population", "4", "--generations", "2"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert [line for line in out.stdout.splitlines() if line.startswith("search ")] == [
        "search ga:", "search ga-steady:", "search aging:"]
    rows = [line.split() for line in out.stdout.splitlines() if line.startswith("journal")]
    assert [r[1] for r in rows] == ["1", "3"] * 3
    for r in rows:
        assert r[2] == "12" and r[3] == "0", out.stdout  # 12 children, none evaluated twice
        assert "incomplete" not in " ".join(r)


@pytest.mark.parametrize("args,message", [
    (["--searches", "ga,nope"], "searches: expected a comma list of ga, ga-steady, aging, "
                                "got 'ga,nope' (unknown: nope)"),
    (["--storages", "disk"], "storages: expected a comma list of journal, postgresql, got 'disk'"),
    (["--workers", "0"], "--workers: must be an integer >= 1, got 0"),
    (["--workers", "1,-2"], "--workers: must be an integer >= 1, got -2"),
    (["--workers", "a,b"], "workers: expected comma-separated integers, got 'a,b'"),
    (["--sleep", "-1"], "--sleep: must be a finite number >= 0, got -1.0"),
    (["--sleep", "nan"], "--sleep: must be a finite number >= 0, got nan"),
    (["--population", "1"], "--population: must be an integer >= 2, got 1"),
    (["--generations", "-1"], "--generations: must be an integer >= 0, got -1"),
    (["--postgres", "sqlite:///x.db"], "--postgres: must be a postgresql:// URL, got 'sqlite:"),
])
def test_bad_flags_are_one_line_errors_with_exit_2_and_nothing_written(
        tmp_path: Path, monkeypatch, capsys, args: list[str], message: str) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the journals would go
    line, _ = one_line_error(load_script("bench_workers").main, args, capsys)
    assert message in line, line
    assert list(tmp_path.iterdir()) == []
