"""Smoke test of ``scripts/bench_sampler.py --quick``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pytest

from tests.helpers import load_script, one_line_error

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "bench_sampler.py"


def test_bench_sampler_quick_times_every_cell_and_compares_to_nsga2(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(out.read_text())
    samplers = ("ga", "ga-steady", "aging", "aging-intensify", "nsga2", "tpe")
    cells = sorted((r["storage"], r["size"], r["sampler"]) for r in rows)
    assert cells == sorted((s, n, m) for s in ("memory", "journal") for n in (120, 240)
                           for m in samplers)
    for r in rows:
        assert r["ms_per_trial"] > 0 and r["window"] == 20
        assert r["join_ms"] > 0
        nsga2 = next(q for q in rows if (q["storage"], q["size"], q["sampler"])
                     == (r["storage"], r["size"], "nsga2"))
        assert r["vs_nsga2"] == pytest.approx(r["ms_per_trial"] / nsga2["ms_per_trial"])
        first = next(q for q in rows if (q["storage"], q["size"], q["sampler"])
                     == (r["storage"], 120, r["sampler"]))
        assert r["growth"] == pytest.approx(r["ms_per_trial"] / first["ms_per_trial"])
    assert "ms/trial" in proc.stdout and "vs nsga2" in proc.stdout


def test_bench_sampler_fill_then_time_resumes_from_the_snapshots(tmp_path: Path) -> None:
    script = load_script("bench_sampler")
    snaps = tmp_path / "snaps"
    snaps.mkdir()
    flags = ["--quick", "--samplers", "ga,nsga2", "--storages", "memory", "--snapshots",
             str(snaps)]
    assert script.main(flags + ["--phase", "fill"]) == 0
    saved = sorted(p.name for p in snaps.iterdir())
    assert saved == ["ga-120.log", "ga-240.log", "nsga2-120.log", "nsga2-240.log"]
    stamps = {p.name: p.stat().st_mtime_ns for p in snaps.iterdir()}
    out = tmp_path / "rows.json"
    assert script.main(flags + ["--json", str(out)]) == 0  # both phases: nothing refilled
    assert {p.name: p.stat().st_mtime_ns for p in snaps.iterdir()} == stamps
    rows = json.loads(out.read_text())
    assert sorted((r["size"], r["sampler"]) for r in rows) == [
        (120, "ga"), (120, "nsga2"), (240, "ga"), (240, "nsga2")]
    study = optuna.load_study(study_name="bench-ga", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(snaps / "ga-240.log"))))
    assert len(study.trials) == 240 - 20  # saved at size - window


def test_bench_sampler_repeats_interleave_and_report_the_median(tmp_path: Path) -> None:
    script = load_script("bench_sampler")
    out = tmp_path / "rows.json"
    assert script.main(["--quick", "--samplers", "ga,nsga2", "--storages", "memory",
                        "--repeats", "3", "--json", str(out)]) == 0
    for r in json.loads(out.read_text()):
        assert len(r["runs_ms_per_trial"]) == 3
        assert r["ms_per_trial"] == sorted(r["runs_ms_per_trial"])[1]


def test_bench_sampler_joins_the_study_another_sampler_grew_beyond_its_own_max(
        tmp_path: Path) -> None:
    """TPE beyond ``--tpe-max`` (and aging-intensify beyond ``--intensify-max``) is timed on the
    study NSGA-II (plain aging) grew, and its row says so."""
    script = load_script("bench_sampler")
    out = tmp_path / "rows.json"
    flags = ["--quick", "--samplers", "tpe,nsga2,aging-intensify,aging", "--storages", "journal",
             "--tpe-max", "120", "--intensify-max", "120", "--json", str(out)]
    assert script.main(flags) == 0
    grown = {(r["size"], r["sampler"]): r["grown_by"] for r in json.loads(out.read_text())}
    assert grown == {(120, "tpe"): "tpe", (240, "tpe"): "nsga2",
                     (120, "aging-intensify"): "aging-intensify",
                     (240, "aging-intensify"): "aging",
                     (120, "nsga2"): "nsga2", (240, "nsga2"): "nsga2",
                     (120, "aging"): "aging", (240, "aging"): "aging"}


def test_bench_sampler_postgres_cells_clone_a_template_copied_once(
        tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    script = load_script("bench_sampler")
    flags = ["--quick", "--samplers", "ga,nsga2", "--storages", "postgres,journal",
             "--postgres-url", pg_url, "--snapshots", str(tmp_path)]
    for run in range(2):
        out = tmp_path / f"rows{run}.json"
        assert script.main(flags + ["--json", str(out)]) == 0
        copied = capsys.readouterr().err.count("into PostgreSQL")
        assert copied == (4 if run == 0 else 0)  # 2 samplers x 2 sizes, then kept
        rows = json.loads(out.read_text())
        assert sorted((r["storage"], r["size"], r["sampler"]) for r in rows) == sorted(
            (s, n, m) for s in ("postgres", "journal") for n in (120, 240)
            for m in ("ga", "nsga2"))
        for r in rows:  # each cell timed on a clone holding the snapshot's study
            assert r["ms_per_trial"] > 0
    study = optuna.load_study(study_name="bench-ga", storage=pg_url.rsplit("/", 1)[0]
                              + "/ga_240")
    assert len(study.trials) == 240 - 20 + 21  # the snapshot, then the timed trials


@pytest.mark.parametrize("args,message", [
    (["--sizes", "0"], "--sizes: must be an integer >= 1, got 0"),
    (["--sizes", "a,b"], "sizes: expected comma-separated integers, got 'a,b'"),
    (["--sizes", "1000,500"], "--sizes: must be increasing and each > --window 200, got 1000,500"),
    (["--sizes", "150"], "--sizes: must be increasing and each > --window 200, got 150"),
    (["--storages", "disk"], "storages: expected a comma list of memory, journal, postgres, "
                             "got 'disk'"),
    (["--storages", "postgres"], "--storages: postgres needs --postgres-url, got none"),
    (["--samplers", "ga,cma"], "(unknown: cma)"),
    (["--population", "1"], "--population: must be an integer >= 2, got 1"),
    (["--window", "0"], "--window: must be an integer >= 1, got 0"),
    (["--seed", "-1"], "--seed: must be in 0..2**32-1 = 4294967295, got -1"),
    (["--snapshots", "nowhere"], "--snapshots: must be an existing folder, got 'nowhere'"),
    (["--tpe-max", "-1"], "--tpe-max: must be an integer >= 1, got -1"),
])
def test_bad_flags_are_one_line_errors_with_exit_2_and_nothing_written(
        tmp_path: Path, capsys, args: list[str], message: str) -> None:
    out = tmp_path / "bench.json"
    line, _ = one_line_error(load_script("bench_sampler").main, args + ["--json", str(out)], capsys)
    assert message in line, line
    assert not out.exists()
