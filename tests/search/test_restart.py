"""The driver (scripts/run_ga.py) killed and restarted twice ends like an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
from optuna.trial import TrialState

from tests.helpers import SCRIPT
from nasga.evaluation.records import lineage

CONFIG = """
[study]
name = "restart"
task = "genetic-cnn"
seed = 0
heartbeat_interval = 1
grace_period = 2
[space]
stages = [3, 4]
[strategy]
population = 4
generations = 3
max_evaluations = 1
[task]
task = "synthetic"
sleep = 0.4
"""


def _generations(db: Path) -> list[int]:
    study = optuna.load_study(study_name="restart", storage=f"sqlite:///{db}")
    counts = Counter(lineage(t)["ga_generation"] for t in study.trials
                     if t.state == TrialState.COMPLETE)
    return [g for g in sorted(counts) if counts[g] >= 4]


def _complete(db: Path) -> int:
    # Only read a database the run has created (opening a missing one would create the schema
    # concurrently with the run: "UNIQUE constraint failed: alembic_version").
    if not db.exists():
        return 0
    import sqlite3

    try:  # read-only look: has the run finished creating the schema and the study?
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            ready = con.execute("SELECT 1 FROM studies WHERE study_name = 'restart'").fetchone()
            version = con.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return 0
    if not ready or not version:
        return 0
    try:
        study = optuna.load_study(study_name="restart", storage=f"sqlite:///{db}")
    except (KeyError, optuna.exceptions.StorageInternalError):
        return 0
    return sum(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False))


def _run(tmp: Path, db: Path, *, kill_at: int | None) -> None:
    cfg = tmp / "restart.toml"
    cfg.write_text(CONFIG)
    args = [sys.executable, str(SCRIPT), "--study", str(cfg), "--storage", f"sqlite:///{db}",
            "--quiet"]
    proc = subprocess.Popen(args, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    if kill_at is None:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err[-2000:]
        return
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and _complete(db) < kill_at:
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_killed_and_restarted_twice_completes_like_uninterrupted(tmp_path: Path) -> None:
    straight, broken = tmp_path / "straight", tmp_path / "broken"
    straight.mkdir()
    broken.mkdir()
    _run(straight, straight / "s.db", kill_at=None)
    _run(broken, broken / "b.db", kill_at=3)
    _run(broken, broken / "b.db", kill_at=9)
    _run(broken, broken / "b.db", kill_at=None)
    assert _generations(straight / "s.db") == _generations(broken / "b.db") == [0, 1, 2, 3]
    study = optuna.load_study(study_name="restart", storage=f"sqlite:///{broken / 'b.db'}")
    assert not [t for t in study.trials if t.state == TrialState.RUNNING]
