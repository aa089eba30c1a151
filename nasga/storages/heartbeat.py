"""Dead-worker detection on every storage: Optuna's heartbeats, and the equivalent for journals.

RDB storages (SQLite, PostgreSQL) get Optuna's own heartbeats (``heartbeat_interval``,
``grace_period``) and :class:`~optuna.storages.RetryHeartbeatStaleTrialCallback`. Optuna's
journal storage has none, so :class:`TrialHeartbeat` refreshes a system attr of the running trial
from a thread, and :func:`fail_stale_trials` fails a RUNNING trial whose beat is older than the
grace period and re-enqueues its genome with the same retry callback.

Either way, a worker killed while its trial was still being sampled never started a heartbeat;
such a trial (no params yet) older than the grace period is failed too. A trial gets params
only inside the objective, and the objective beats before it suggests anything, so a RUNNING
trial with params always has a beat that can go stale.

Each function takes the ``storage`` its caller opened; a caller holding only the study (a
sampler hook) leaves it out and :func:`nasga.storages.handle.storage_of` supplies it.
"""

from __future__ import annotations

import datetime
import threading
import time
import warnings
from types import TracebackType

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from nasga.storages import handle

HEARTBEAT_ATTR = "nasga:heartbeat"


def retry_callback() -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental-class warning
        from optuna.storages import RetryHeartbeatStaleTrialCallback

        return RetryHeartbeatStaleTrialCallback(max_retry=3)


def heartbeat_interval(storage: BaseStorage) -> int | None:
    """Optuna's heartbeat interval of ``storage`` (RDB storages opened with heartbeats), else
    ``None``: what Optuna's own check reads, through the storage's public method."""
    getter = getattr(storage, "get_heartbeat_interval", None)
    return getter() if callable(getter) else None


def beat(storage: BaseStorage, trial_id: int) -> None:
    """Write one heartbeat of an unfinished trial (the one place beats are written)."""
    storage.set_trial_system_attr(trial_id, HEARTBEAT_ATTR, time.time())


class TrialHeartbeat:
    """Context manager: beat for ``trial_id`` every ``interval`` s on journal storages; on RDB
    storages, one Optuna heartbeat on entry (``Study.optimize``'s thread beats from then on)."""

    def __init__(self, study: optuna.Study, trial_id: int, interval: float, *,
                 storage: BaseStorage | None = None) -> None:
        self._storage = storage if storage is not None else handle.storage_of(study)
        self._trial_id = trial_id
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _beat(self) -> None:
        try:
            beat(self._storage, self._trial_id)
        except optuna.exceptions.UpdateFinishedTrialError:
            self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._beat()

    def __enter__(self) -> TrialHeartbeat:
        if heartbeat_interval(self._storage) is not None:
            # Optuna's own thread (``Study.optimize``) races the objective's first params: one
            # beat now, so no trial ever has params and no heartbeat (it could never go stale).
            self._storage.record_heartbeat(self._trial_id)  # type: ignore[attr-defined]
            return self
        self._beat()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class TrialsHeartbeat:
    """Context manager: beat every ``interval`` s for each trial of a changing set (a fused
    batch's trials, asked and told outside ``Study.optimize``, :mod:`nasga.evaluation.batch`).

    On every storage it writes nasga's beat (:func:`beat`; :func:`fail_stale_trials` reads it,
    and fails a trial still without params that has none, such as a ticket waiting its turn), and
    on RDB storages Optuna's own (``record_heartbeat``, which ``Study.optimize`` would record)."""

    def __init__(self, storage: BaseStorage, interval: float) -> None:
        self._storage = storage
        self._interval = interval
        self._rdb = heartbeat_interval(storage) is not None
        self._ids: set[int] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def add(self, trial_id: int) -> None:
        """Beat for ``trial_id`` from now on (one beat at once)."""
        with self._lock:
            self._ids.add(trial_id)
        self._beat(trial_id)

    def discard(self, trial_id: int) -> None:
        """Stop beating for ``trial_id`` (told)."""
        with self._lock:
            self._ids.discard(trial_id)

    def _beat(self, trial_id: int) -> None:
        try:
            beat(self._storage, trial_id)
            if self._rdb:
                self._storage.record_heartbeat(trial_id)  # type: ignore[attr-defined]
        except optuna.exceptions.UpdateFinishedTrialError:
            self.discard(trial_id)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                ids = sorted(self._ids)
            for trial_id in ids:
                self._beat(trial_id)

    def __enter__(self) -> TrialsHeartbeat:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()


def _grace(storage: BaseStorage, grace_period: float | None) -> float | None:
    """Seconds before a RUNNING trial is stale: an RDB storage's own setting (Optuna's default
    ``2 × heartbeat_interval`` where it is not visible), else ``grace_period``."""
    interval = heartbeat_interval(storage)
    if interval is None:
        return grace_period
    # RDBStorage shows its grace_period; Optuna's cache wrapper around it (what a study holds)
    # shows only the interval, and nasga passes the same setting as ``grace_period``.
    return float(getattr(storage, "grace_period", None) or grace_period or 2 * interval)


def _fail(study: optuna.Study, storage: BaseStorage, trial: FrozenTrial, *, retry: bool) -> None:
    tid = handle.trial_id(storage, study, trial.number)
    try:
        if not storage.set_trial_state_values(tid, state=TrialState.FAIL):
            return
    except optuna.exceptions.UpdateFinishedTrialError:
        return
    if retry and not getattr(study.sampler, "retries_failed_trials", False):
        callback = (storage.get_heartbeat_stale_trial_callback()  # type: ignore[attr-defined]
                    if heartbeat_interval(storage) is not None else retry_callback())
        if callback is not None:
            callback(study, storage.get_trial(tid))


def fail_stale_trials(study: optuna.Study, *, grace_period: float | None = None,
                      storage: BaseStorage | None = None) -> None:
    """Fail RUNNING trials whose worker died, and re-enqueue their genomes.

    Args:
        study: The study.
        grace_period: Seconds without a beat before a journal-storage trial is stale (RDB
            storages use their own setting). ``None`` with a journal: do nothing.
        storage: The study's storage, as its caller opened it (default: the study's).
    """
    storage = storage if storage is not None else handle.storage_of(study)
    rdb = heartbeat_interval(storage) is not None
    if rdb:
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
            if not rdb and wall - float(beat) > grace:
                _fail(study, storage, t, retry=True)
        elif (not t.params and t.datetime_start is not None
              and (now - t.datetime_start).total_seconds() > grace):
            _fail(study, storage, t, retry=handle.is_enqueued(t))
