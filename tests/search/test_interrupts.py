"""SIGINT and SIGTERM during a training: one line, exit 130/143, a resumable study.

A run on the synthetic task (each evaluation sleeps, like a training) is signalled while a
trial is RUNNING. It must end with exactly one line on stderr (no traceback), the signal's exit
code, no trial left RUNNING (the interrupted one FAILED with a ``fail_reason``), and re-running
the same command must finish the search with every generation complete.
"""

from __future__ import annotations

import glob
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tests.helpers import SCRIPT
from nasga.evaluation.records import lineage

POPULATION, GENERATIONS = 4, 1
SLEEP = 1.0  # seconds per evaluation (a "training")
CONFIG = f"""
[study]
name = "intr"
task = "genetic-cnn"
seed = 0
[space]
stages = [3, 4]
[strategy]
population = {POPULATION}
generations = {GENERATIONS}
max_evaluations = 1
[task]
task = "synthetic"
sleep = SLEEP
"""


def _storage(url: str) -> optuna.storages.BaseStorage | str:
    if url.startswith("journal:///"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(url[len("journal:///"):]))
    return url


def _trials(url: str) -> list[optuna.trial.FrozenTrial]:
    try:
        return optuna.load_study(study_name="intr", storage=_storage(url)).get_trials()
    except Exception:  # not created yet
        return []


def _start(tmp_path: Path, url: str, *extra: str, sleep: float) -> subprocess.Popen:
    (tmp_path / "s.toml").write_text(CONFIG.replace("SLEEP", str(sleep)))
    return subprocess.Popen([sys.executable, str(SCRIPT), "--study", "s.toml", "--storage", url,
                             "--quiet", *extra], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _interrupt_while_running(proc: subprocess.Popen, url: str, sig: int,
                             *, running: int = 1) -> tuple[int, str]:
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if sum(t.state == TrialState.RUNNING for t in _trials(url)) >= running:
            break
        time.sleep(0.1)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    time.sleep(0.2)  # inside the trial's training
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=90)
    return proc.returncode, err


def _assert_resumable(tmp_path: Path, url: str, *extra: str, sleep: float) -> None:
    proc = _start(tmp_path, url, *extra, sleep=sleep)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    trials = _trials(url)
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    counts = Counter(lineage(t)["ga_generation"] for t in trials
                     if t.state == TrialState.COMPLETE)
    assert [counts[g] >= POPULATION for g in range(GENERATIONS + 1)] == [True] * (GENERATIONS + 1)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_during_training_is_one_line_and_resumable(tmp_path: Path, sig: int) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    code, err = _interrupt_while_running(_start(tmp_path, url, sleep=SLEEP), url, sig)
    assert code == 128 + sig, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    name = signal.Signals(sig).name
    assert err.startswith(f"nasga run: interrupted ({name}); trial ") and "marked FAIL" in err
    assert err.rstrip().endswith("run the same command to resume")
    trials = _trials(url)
    assert not [t for t in trials if t.state == TrialState.RUNNING]
    failed = [t for t in trials if t.state == TrialState.FAIL]
    assert len(failed) == 1 and failed[0].user_attrs["fail_reason"].startswith(
        f"interrupted by {name}")
    assert f"trial {failed[0].number} marked FAIL" in err
    _assert_resumable(tmp_path, url, sleep=SLEEP)


def test_interrupt_before_the_study_exists_is_one_line(tmp_path: Path) -> None:
    """A signal during start-up (imports, checks) is one line too, and writes nothing."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    proc = _start(tmp_path, url, sleep=0.1)
    time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    # Killed before Python installed the handler (exit -15), or stopped by it (143, one line).
    assert proc.returncode in (-signal.SIGTERM, 128 + signal.SIGTERM), err
    if proc.returncode > 0:
        assert err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.slow
def test_sigterm_stops_spawned_workers(tmp_path: Path) -> None:
    """``nasga run --workers 3`` passes a SIGTERM on: every process fails its trial and stops;
    the parent prints the one line; the rerun finishes the search."""
    url = f"journal:///{tmp_path / 'j.log'}"
    proc = _start(tmp_path, url, "--workers", "3", sleep=SLEEP)
    code, err = _interrupt_while_running(proc, url, signal.SIGTERM, running=3)
    assert code == 143, err
    assert err.count("\n") == 1 and "2 workers stopped" in err, err
    assert not [t for t in _trials(url) if t.state == TrialState.RUNNING]
    assert not glob.glob(str(tmp_path / "*.torn-*"))
    _assert_resumable(tmp_path, url, "--workers", "3", sleep=SLEEP)
