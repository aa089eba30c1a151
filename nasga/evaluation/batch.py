"""Fused evaluation (issue 28): a worker trains up to K claimable trials as one network.

:func:`optimize_fused` stands for ``study.optimize(objective, ...)`` when a search's ``fuse``
is K > 1 (docs/design.md, "Fused training"). It asks trials one at a time with Optuna's public
``study.ask`` and tells each with ``study.tell``; every trial goes through the objective's own
steps (:meth:`~nasga.evaluation.objective.Objective.prepare`, ``lookup``, ``finish``), so each
stays one trial with its own attrs, seed, measurements and artifacts, and only the trainings
are fused: the task's ``evaluate_many`` trains the batch's pending genomes at once.

Rules that keep the claims' and the cache's contracts:

* **Never wait on its own trials.** A trial asked while this worker has untold ones is
  sampled only if sampling cannot wait (the GA sampler's ``claim_waits``: its ticket's work
  item was known at ask time; other samplers never wait). Otherwise the batch closes, trains,
  tells, and that trial opens the next batch, when nothing else is untold.
* **No twin waits while trainings are pending.** A genome whose key a pending member trains,
  or that another worker is training, is *held* (:class:`~nasga.evaluation.objective.Held`)
  and looked up again once the batch is told, as the unfused objective would have seen it;
  it waits for other workers only when this worker has no training pending.
* **Failures are per member.** A member whose training fails (non-finite loss, too big) gets
  its own ``fail_reason`` and FAILs alone. An exception outside the objective's steps (an
  interrupt, a storage fault) fails every untold trial with its reason and propagates, as
  ``study.optimize`` fails the running trial and re-raises.
* **Heartbeats.** Every asked, untold trial beats until it is told
  (:class:`~nasga.storages.heartbeat.TrialsHeartbeat`), so no member of a long fused training
  is taken for dead.
"""

from __future__ import annotations

import gc
import logging
import math
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

import nasga.evaluation.records as R
from nasga.evaluation.objective import Held, Objective, Training
from nasga.search.faults import kill_point
from nasga.storages.handle import storage_of, trial_id
from nasga.storages.heartbeat import TrialsHeartbeat, fail_stale_trials

_logger = logging.getLogger(__name__)

Callback = Callable[[optuna.Study, FrozenTrial], None]


def optimize_fused(study: optuna.Study, objective: Objective, *, fuse: int, n_trials: int,
                   callback: Callback, stopped: Callable[[], bool],
                   room: Callable[[], int] | None = None) -> None:
    """Run up to ``n_trials`` trials in fused batches of up to ``fuse`` trainings.

    Args:
        study: The study (any sampler).
        objective: Its objective; its task must have ``evaluate_many``.
        fuse: Trainings per fused network (K).
        n_trials: Trials to ask at most.
        callback: Called with each trial once told (as ``study.optimize``'s callbacks).
        stopped: Whether to ask no more trials (the callbacks' stop); trials already asked
            are still evaluated and told.
        room: Trials that may still be asked now (read before each batch; ``None``: no bound
            but ``n_trials``), so a batch never asks beyond what is left.
    """
    batch = _Batch(study, objective, fuse, callback)
    storage = storage_of(study)
    with TrialsHeartbeat(storage, objective.heartbeat_interval) as heartbeat:
        batch.heartbeat = heartbeat
        try:
            while True:
                fail_stale_trials(study, grace_period=objective.grace_period, storage=storage)
                left = 0 if stopped() else n_trials - batch.asked
                if room is not None and left > 0:
                    left = min(left, room())
                batch.fill(left, stopped)
                if not batch.untold:
                    if left <= 0 or stopped():
                        return
                    continue
                batch.train()
                batch.resolve()
        except BaseException as exc:
            batch.fail_untold(exc)
            raise


class _Batch:
    """The trials one worker has asked and not told, and what each waits for."""

    def __init__(self, study: optuna.Study, objective: Objective, fuse: int,
                 callback: Callback) -> None:
        self.study = study
        self.objective = objective
        self.fuse = fuse
        self.callback = callback
        self.heartbeat: TrialsHeartbeat | None = None
        self.asked = 0
        self.untold: dict[int, optuna.Trial] = {}   # number -> trial, asked and not told
        self.pending: list[tuple[optuna.Trial, Training]] = []  # to train in the next batch
        self.held: list[tuple[optuna.Trial, Held]] = []  # to look up once the batch is told
        self.carried: optuna.Trial | None = None  # asked; its sampling may wait: opens a batch

    def busy(self) -> set[str]:
        """Keys this worker's untold trials train or hold."""
        return {t.key for _, t in self.pending} | {h.genome.key for _, h in self.held}

    def fill(self, left: int, stopped: Callable[[], bool]) -> None:
        """Ask trials (at most ``left``) and prepare them until ``fuse`` trainings are pending
        or held, or a trial's sampling could wait on this worker's untold trials."""
        while len(self.pending) + len(self.held) < self.fuse:
            if self.carried is not None:
                if self.untold.keys() - {self.carried.number}:
                    return  # it may wait on them: tell them first
                trial, self.carried = self.carried, None
            else:
                if left <= 0 or stopped():
                    return
                trial = self._ask()
                left -= 1
                waits = getattr(self.study.sampler, "claim_waits", None)
                if len(self.untold) > 1 and waits is not None and waits(self.study, trial):
                    self.carried = trial
                    return
            alone = len(self.untold) == 1  # nothing else untold: it may wait, as unfused
            self._step(trial, lambda t=trial: self.objective.prepare(
                t, busy=self.busy(), wait=alone))

    def _ask(self) -> optuna.Trial:
        with warnings.catch_warnings():  # Optuna warns when RDB heartbeats meet ask/tell
            warnings.filterwarnings("ignore", message="Heartbeat of storage")
            trial = self.study.ask()
        self.asked += 1
        self.untold[trial.number] = trial
        assert self.heartbeat is not None
        self.heartbeat.add(trial_id(storage_of(self.study), self.study, trial.number))
        return trial

    def _step(self, trial: optuna.Trial, step: Callable[[], Any]) -> None:
        """Run one preamble step of ``trial``: tell it at once (a value, pruned), or keep it
        pending or held. Any other exception fails it and propagates (``study.optimize``
        re-raises too)."""
        try:
            result = step()
        except optuna.TrialPruned as exc:
            _logger.info("Trial %d pruned. %s", trial.number, exc)
            self._tell(trial, None, TrialState.PRUNED)
            return
        except Exception as exc:
            self._fail(trial, f"{type(exc).__name__}: {exc}")
            raise
        if isinstance(result, Training):
            self.pending.append((trial, result))
        elif isinstance(result, Held):
            self.held.append((trial, result))
        else:
            self._tell(trial, float(result))

    def train(self) -> None:
        """Train the pending genomes as one network; record and tell each member."""
        members, self.pending = self.pending, []
        if not members:
            return
        task: Any = self.objective.task
        with tempfile.TemporaryDirectory(prefix="nasga-") as tmp:
            kill_point("training")
            try:
                outcomes = list(task.evaluate_many([t.genome for _, t in members],
                                                   seeds=[t.seed for _, t in members],
                                                   workdir=Path(tmp)))
            except Exception as exc:  # not a member's own failure: every member fails
                outcomes = [exc] * len(members)
            for i, (trial, training) in enumerate(members):
                value = self.objective.finish(trial, training, outcomes[i], collect=False)
                outcomes[i] = None  # its network may go
                self._tell(trial, value)
        gc.collect()  # once for the batch (per member, each collection walks every network)

    def resolve(self) -> None:
        """Look held genomes up again, oldest first: a cache answer now, or a training for
        the next batch; one waits for another worker's twin only while none is pending."""
        held, self.held = sorted(self.held, key=lambda h: h[0].number), []
        for trial, item in held:
            self._step(trial, lambda t=trial, g=item.genome: self.objective.lookup(
                t, g, busy=self.busy(), wait=not self.pending))

    def _tell(self, trial: optuna.Trial, value: float | None,
              state: TrialState | None = None) -> None:
        if state is None and (value is None or not math.isfinite(value)):
            state, value = TrialState.FAIL, None
            _logger.warning("Trial %d failed: %s", trial.number,
                            trial.user_attrs.get(R.FAIL_REASON, "its value is not finite"))
        self.untold.pop(trial.number, None)
        assert self.heartbeat is not None
        self.heartbeat.discard(trial_id(storage_of(self.study), self.study, trial.number))
        told = self.objective.values(trial, value) if state is None and value is not None \
            else value  # each objective's mean in a multi-objective study
        frozen = self.study.tell(trial, told, state=state, skip_if_finished=True)
        self.callback(self.study, frozen)

    def _fail(self, trial: optuna.Trial, reason: str) -> None:
        """Fail an untold trial with ``reason`` (no callback: the run is stopping)."""
        self.untold.pop(trial.number, None)
        try:
            trial.set_user_attr(R.FAIL_REASON, reason[:500])
            self.study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
        except Exception:  # pragma: no cover - the storage itself is gone
            pass

    def fail_untold(self, exc: BaseException) -> None:
        """Fail every trial still untold: the batch stops on ``exc``."""
        reason = (R.interrupt_reason(exc) if isinstance(exc, KeyboardInterrupt)
                  else f"not evaluated: the worker stopped on {type(exc).__name__}: {exc}")
        for trial in list(self.untold.values()):
            self._fail(trial, reason)


__all__ = ["optimize_fused"]
