"""scripts/bench_workers.py runs at a tiny size and reports no surplus evaluation, for the
generational GA, the steady-state GA and aging evolution."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_bench_workers_refuses_an_unknown_search() -> None:
    out = subprocess.run(
        [sys.executable, "scripts/bench_workers.py", "--searches", "ga,nope", "--workers", "1",
         "--storages", "journal", "--sleep", "0", "--population", "2", "--generations", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 2
    assert "--searches: must be among ga, ga-steady, aging, got 'nope'" in out.stderr
