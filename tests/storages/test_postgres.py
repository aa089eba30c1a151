"""Workers on a real PostgreSQL server (started here on loopback), killed workers, bad URLs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from nasga.search.config import validate
from nasga.search.run import open_search
from nasga.evaluation.records import lineage

ROOT = Path(__file__).resolve().parents[2]


def _config(name: str, *, sleep: float, population: int = 6, generations: int = 3) -> dict:
    return validate({
        "study": {"name": name, "task": "genetic-cnn", "seed": 0, "heartbeat_interval": 1,
                  "grace_period": 6},
        "space": {"stages": [3, 4]},
        "strategy": {"population": population, "generations": generations, "max_evaluations": 1},
        "task": {"task": "synthetic", "sleep": sleep},
    })


def _workers(url: str, name: str, n: int) -> list[subprocess.Popen]:
    env = {**os.environ, "NASGA_STORAGE": url, "OMP_NUM_THREADS": "1"}
    return [subprocess.Popen([sys.executable, "-m", "nasga.cli", "worker", "--study-name", name,
                              "--quiet"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(n)]


def _complete_generations(study: optuna.Study, population: int) -> list[int]:
    counts = Counter(lineage(t)["ga_generation"] for t in study.trials
                     if t.state == TrialState.COMPLETE)
    return [g for g in sorted(counts) if counts[g] >= population]


def test_three_workers_share_one_study(pg_url: str) -> None:
    search = open_search(_config("pg-three", sleep=0.1), storage_url=pg_url)
    procs = _workers(pg_url, "pg-three", 3)
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-2000:]
        assert "s3cret-pw" not in out + err
    study = optuna.load_study(study_name="pg-three", storage=search.study._storage)
    assert _complete_generations(study, 6) == [0, 1, 2, 3]
    assert not [t for t in study.trials if t.state == TrialState.RUNNING]
    assert search.done()


@pytest.fixture(params=["postgresql", "journal"])
def kill_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "journal":  # nasga's own heartbeat (Optuna's journal has none)
        return f"journal:///{tmp_path / 'kill.log'}"
    return request.getfixturevalue("pg_url")


def test_killed_worker_trial_is_failed_and_retried(kill_url: str) -> None:
    pg_url = kill_url
    search = open_search(_config("pg-kill", sleep=1.0, population=6, generations=2),
                         storage_url=pg_url)
    procs = _workers(pg_url, "pg-kill", 3)
    study = search.study
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until every worker is training a genome
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        if sum("genome" in t.user_attrs for t in running) >= 3:
            break
        time.sleep(0.1)
    procs[0].send_signal(signal.SIGKILL)
    for p in procs[1:]:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err[-2000:]
    procs[0].wait()
    trials = optuna.load_study(study_name="pg-kill", storage=study._storage).trials
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    failed = [t for t in trials if t.state == TrialState.FAIL]
    summary = [(t.number, t.state.name, t.user_attrs.get("genome"), t.system_attrs.get("failed_trial"))
               for t in trials]
    assert len(failed) == 1, summary  # the killed worker's trial, failed by the heartbeat
    redone = [t for t in trials if t.state == TrialState.COMPLETE and t.number > failed[0].number
              and t.params == failed[0].params]
    assert redone, summary
    assert _complete_generations(optuna.load_study(study_name="pg-kill", storage=study._storage),
                                 6) == [0, 1, 2]
    trainings = Counter(t.user_attrs["key"] for t in trials
                        if t.state == TrialState.COMPLETE and t.user_attrs.get("trained"))
    failed_keys = Counter(t.user_attrs.get("key") for t in failed)
    assert all(n <= 1 + failed_keys[k] for k, n in trainings.items())  # policy + the retry


def test_unreachable_postgres_fails_fast_without_password(tmp_path: Path) -> None:
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_ga.py"), "--task", "genetic-cnn",
         "--storage", "postgresql://user:hunter2@127.0.0.1:1/nasga"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    elapsed = time.monotonic() - start
    assert proc.returncode == 2
    assert "storage: cannot open 'postgresql://user:***@127.0.0.1:1/nasga'" in proc.stderr
    assert "hunter2" not in proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1
    assert elapsed < 30


def test_plain_postgresql_urls_use_psycopg2(pg_url: str) -> None:
    """docs/tutorials/workers.md's postgresql:// form (and postgres://) work with nasga[postgres]'s driver."""
    from nasga.storages.storage import open_storage

    for scheme in ("postgresql://", "postgres://"):
        url = pg_url.replace("postgresql+psycopg2://", scheme)
        storage = open_storage(url, heartbeat=False)
        name = f"plain-{scheme[:-3]}"
        optuna.create_study(study_name=name, storage=storage, load_if_exists=True)
        assert name in {s.study_name for s in storage.get_all_studies()}
