"""A worker killed with SIGKILL at each moment, on each storage (issue 26).

The victim is a real ``nasga worker`` process that kills itself at exactly the named moment
(:mod:`nasga.search.faults`), so every case hits its moment on every run: no case depends on
timing. A survivor started beside it must finish the study within ``grace_period + 60`` s of
the kill, with every child of every generation evaluated exactly once (the killed trial is
failed by the heartbeat and its slot retried).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from nasga.search.config import validate
from nasga.search.faults import KILL_ENV, MOMENTS
from nasga.search.run import open_search
from tests.helpers import assert_each_child_once

ROOT = Path(__file__).resolve().parents[2]
POPULATION, GENERATIONS, GRACE = 4, 2, 4


def _config(name: str) -> dict:
    return validate({
        "study": {"name": name, "task": "genetic-cnn", "seed": 0, "heartbeat_interval": 1,
                  "grace_period": GRACE},
        "space": {"stages": [3, 4]},
        "strategy": {"population": POPULATION, "generations": GENERATIONS,
                     "max_evaluations": 1},
        "task": {"task": "synthetic", "sleep": 0.05},
    })


def _worker(url: str, name: str, kill_at: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "NASGA_STORAGE": url, "OMP_NUM_THREADS": "1"}
    env.pop(KILL_ENV, None)
    if kill_at:
        env[KILL_ENV] = kill_at
    return subprocess.Popen([sys.executable, "-m", "nasga.cli", "worker", "--study-name", name,
                             "--quiet"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


@pytest.fixture(params=["sqlite", "journal", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kill.db'}"
    if request.param == "journal":
        return f"journal:///{tmp_path / 'kill.log'}"
    return request.getfixturevalue("pg_url")


def _hold_first_slot(study: optuna.Study) -> optuna.Trial:
    """Ask generation 0's first child here and keep it RUNNING: the victim then finishes the
    other slots and must wait at the generation barrier (the ``claim-wait`` moment)."""
    return study.ask()


@pytest.mark.parametrize("moment", MOMENTS)
def test_worker_killed_at_each_moment_loses_and_repeats_nothing(url: str, moment: str,
                                                                tmp_path: Path) -> None:
    name = f"kill-{moment}-{tmp_path.name}"[:60]
    search = open_search(_config(name), storage_url=url)
    held = _hold_first_slot(search.study) if moment == "claim-wait" else None
    victim = _worker(url, name, kill_at=moment)
    victim.wait(timeout=180)
    killed_at = time.monotonic()
    assert victim.returncode == -signal.SIGKILL, victim.stderr.read()[-2000:]
    if held is not None:  # the barrier's trial fails; its slot goes to the retry round
        search.study.tell(held, state=TrialState.FAIL)
    survivor = _worker(url, name)
    out, err = survivor.communicate(timeout=GRACE + 120)
    assert survivor.returncode == 0, err[-3000:]
    assert time.monotonic() - killed_at <= GRACE + 60
    study = optuna.load_study(study_name=name, storage=search.study._storage)
    assert not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    assert_each_child_once(study, POPULATION, GENERATIONS)
    assert search.done()
