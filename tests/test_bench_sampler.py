"""Smoke test of ``scripts/bench_sampler.py --quick``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import load_script, one_line_error

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "bench_sampler.py"


def test_bench_sampler_quick_writes_one_row_per_cell(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    # SQLite on tmpfs when there is one: on a disk, fsync per commit makes each trial slow.
    shm = Path("/dev/shm")
    sqlite_dir = shm if shm.is_dir() and os.access(shm, os.W_OK) else tmp_path
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json", str(out), "--tmpdir", str(sqlite_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())
    cells = [(r["storage"], r["n_trials"], r["sampler"]) for r in rows]
    expected = [(s, 200, m) for s in ("memory", "sqlite") for m in ("ga", "nsga2", "tpe")]
    assert sorted(cells) == sorted(expected)
    assert len(cells) == len(set(cells))
    for r in rows:
        assert r["ms_per_trial"] > 0
        assert 0 < r["trials_run"] <= r["n_trials"]
        assert r["partial"] == (r["trials_run"] < r["n_trials"])
    nsga2 = [r for r in rows if r["sampler"] == "nsga2"]
    assert all(r["ratio_vs_nsga2"] == 1.0 for r in nsga2)
    assert "ms/trial" in proc.stdout


@pytest.mark.parametrize("args,message", [
    (["--trials", "0"], "--trials: must be an integer >= 1, got 0"),
    (["--trials", "a,b"], "trials: expected comma-separated integers, got 'a,b'"),
    (["--storages", "disk"], "storages: expected a comma list of memory, sqlite, got 'disk'"),
    (["--samplers", "ga,cma"], "samplers: expected a comma list of ga, nsga2, tpe, got 'ga,cma' "
                               "(unknown: cma)"),
    (["--space", "vit"], "argument --space: invalid choice: 'vit'"),
    (["--population", "1"], "--population: must be an integer >= 2, got 1"),
    (["--seed", "-1"], "--seed: must be in 0..2**32-1 = 4294967295, got -1"),
    (["--max-seconds", "0"], "--max-seconds: must be a finite number > 0, got 0.0"),
    (["--tmpdir", "nowhere"], "--tmpdir: must be an existing folder, got 'nowhere'"),
    (["--quick", "--trials", "-5"], "--trials: must be an integer >= 1, got -5"),
])
def test_bad_flags_are_one_line_errors_with_exit_2_and_nothing_written(
        tmp_path: Path, capsys, args: list[str], message: str) -> None:
    out = tmp_path / "bench.json"
    line, _ = one_line_error(load_script("bench_sampler").main, args + ["--json", str(out)], capsys)
    assert message in line, line
    assert not out.exists()
