"""Dead-worker detection on every storage: Optuna's heartbeats, and the equivalent for journals.

RDB storages (SQLite, PostgreSQL) get Optuna's own heartbeats (``heartbeat_interval``,
``grace_period``) and :class:`~optuna.storages.RetryHeartbeatStaleTrialCallback`. Optuna's
journal storage has none, so :class:`TrialHeartbeat` refreshes a system attr of the running trial
from a thread, and :func:`fail_stale_trials` fails a RUNNING trial whose beat is older than the
grace period and re-enqueues its genome with the same retry callback.

Either way, a worker killed while its trial was still being sampled never started a heartbeat;
such a trial (no params yet) older than the grace period is failed too.
"""

from __future__ import annotations

import datetime
import threading
import time
import warnings
from types import TracebackType

import optuna
from optuna.storages._heartbeat import is_heartbeat_enabled
from optuna.trial import FrozenTrial, TrialState

HEARTBEAT_ATTR = "nasga:heartbeat"


def retry_callback() -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental-class warning
        from optuna.storages import RetryHeartbeatStaleTrialCallback

        return RetryHeartbeatStaleTrialCallback(max_retry=3)


class TrialHeartbeat:
    """Context manager: beat for ``trial_id`` every ``interval`` s (journal storages only)."""

    def __init__(self, study: optuna.Study, trial_id: int, interval: float) -> None:
        self._storage = study._storage
        self._trial_id = trial_id
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _beat(self) -> None:
        try:
            self._storage.set_trial_system_attr(self._trial_id, HEARTBEAT_ATTR, time.time())
        except optuna.exceptions.UpdateFinishedTrialError:
            self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._beat()

    def __enter__(self) -> TrialHeartbeat:
        if not is_heartbeat_enabled(self._storage):
            self._beat()
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def _grace(storage: object, grace_period: float | None) -> float | None:
    if is_heartbeat_enabled(storage):  # type: ignore[arg-type]
        backend = getattr(storage, "_backend", storage)  # Optuna wraps RDB storages in a cache
        return float(getattr(backend, "grace_period", None) or 2 * backend.heartbeat_interval)
    return grace_period


def _fail(study: optuna.Study, trial: FrozenTrial, *, retry: bool) -> None:
    try:
        if not study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
            return
    except optuna.exceptions.UpdateFinishedTrialError:
        return
    if retry and not getattr(study.sampler, "retries_failed_trials", False):
        backend = getattr(study._storage, "_backend", study._storage)
        if is_heartbeat_enabled(study._storage):
            getter = (getattr(backend, "get_heartbeat_stale_trial_callback", None)
                      or backend.get_failed_trial_callback)  # optuna < 4.9
            callback = getter()
        else:
            callback = retry_callback()
        if callback is not None:
            callback(study, study._storage.get_trial(trial._trial_id))


def fail_stale_trials(study: optuna.Study, *, grace_period: float | None = None) -> None:
    """Fail RUNNING trials whose worker died, and re-enqueue their genomes.

    Args:
        study: The study.
        grace_period: Seconds without a beat before a journal-storage trial is stale (RDB
            storages use their own setting). ``None`` with a journal: do nothing.
    """
    storage = study._storage
    if is_heartbeat_enabled(storage):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
    grace = _grace(storage, grace_period)
    if grace is None:
        return
    now, wall = datetime.datetime.now(), time.time()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        beat = t.system_attrs.get(HEARTBEAT_ATTR)
        if beat is not None:
            if not is_heartbeat_enabled(storage) and wall - float(beat) > grace:
                _fail(study, t, retry=True)
        elif (not t.params and t.datetime_start is not None
              and (now - t.datetime_start).total_seconds() > grace):
            _fail(study, t, retry=bool(t.system_attrs.get("fixed_params")))
