"""Dead workers on journal storages: nasga's beats, failed and retried through public APIs."""

from __future__ import annotations

import time
from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from nasga.storages.handle import storage_of, study_id, trial_id
from nasga.storages.heartbeat import HEARTBEAT_ATTR, TrialHeartbeat, fail_stale_trials
from nasga.storages.storage import open_storage


def _running(study: optuna.Study, storage: optuna.storages.BaseStorage, beat: float) -> int:
    """A RUNNING trial with params whose last beat was at ``beat`` (wall clock)."""
    trial = study.ask({"x": FloatDistribution(0.0, 1.0)})
    storage.set_trial_system_attr(trial_id(storage, study, trial.number), HEARTBEAT_ATTR, beat)
    return trial.number


@pytest.mark.parametrize("pass_storage", [True, False])
def test_a_journal_trial_without_a_recent_beat_is_failed_and_retried(
        tmp_path: Path, pass_storage: bool) -> None:
    storage = open_storage(f"journal:///{tmp_path / 'j.log'}", heartbeat=False)
    study = optuna.create_study(storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
    _running(study, storage, time.time() - 60)  # trial 0: its worker died
    _running(study, storage, time.time())  # trial 1: alive
    fail_stale_trials(study, grace_period=5, storage=storage if pass_storage else None)
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials[:2]] == [TrialState.FAIL, TrialState.RUNNING]
    retry = trials[2:]  # RetryHeartbeatStaleTrialCallback enqueued the dead trial's params
    assert [t.state for t in retry] == [TrialState.WAITING]
    assert retry[0].params == trials[0].params


def test_no_grace_period_on_a_journal_fails_nothing(tmp_path: Path) -> None:
    storage = open_storage(f"journal:///{tmp_path / 'j.log'}", heartbeat=False)
    study = optuna.create_study(storage=storage)
    _running(study, storage, time.time() - 60)
    fail_stale_trials(study)
    assert [t.state for t in study.get_trials(deepcopy=False)] == [TrialState.RUNNING]


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used")
def test_trial_heartbeat_beats_on_journals_only(tmp_path: Path) -> None:
    journal = open_storage(f"journal:///{tmp_path / 'j.log'}", heartbeat=False)
    rdb = open_storage(f"sqlite:///{tmp_path / 'r.db'}", heartbeat_interval=1, grace_period=2)
    for storage, beats in ((journal, True), (rdb, False)):
        study = optuna.create_study(storage=storage)
        number = study.ask().number
        with TrialHeartbeat(study, trial_id(storage, study, number), 0.05, storage=storage):
            pass
        attrs = study.get_trials(deepcopy=False)[number].system_attrs
        assert (HEARTBEAT_ATTR in attrs) is beats


def test_handle_ids_match_optunas(tmp_path: Path) -> None:
    storage = open_storage(f"journal:///{tmp_path / 'j.log'}", heartbeat=False)
    optuna.create_study(storage=storage, study_name="other").ask()
    study = optuna.create_study(storage=storage, study_name="s")
    study.ask()
    number = study.ask().number
    sid = study_id(storage, study)
    assert storage.get_study_name_from_id(sid) == "s"
    assert storage.get_trial(trial_id(storage, study, number)).number == number
    assert storage_of(study) is storage


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used")
def test_an_rdb_trial_whose_worker_dies_before_optunas_first_beat_goes_stale(
        tmp_path: Path) -> None:
    """The objective's params land before ``Study.optimize``'s heartbeat thread first beats
    (a race); its worker killed then, the trial must still be failed after the grace period."""
    storage = open_storage(f"sqlite:///{tmp_path / 'r.db'}", heartbeat_interval=1,
                           grace_period=2)
    study = optuna.create_study(storage=storage)
    trial = study.ask()
    with TrialHeartbeat(study, trial_id(storage, study, trial.number), 60, storage=storage):
        trial.suggest_float("x", 0.0, 1.0)  # the worker dies here: no thread ever beat
    time.sleep(3.5)
    fail_stale_trials(study, grace_period=2, storage=storage)
    assert study.get_trials(deepcopy=False)[0].state == TrialState.FAIL
