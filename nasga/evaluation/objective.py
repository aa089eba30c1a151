"""The objective every sampler drives: trial → genome → cache or task → attrs.

One trial is one proposal (docs/design.md, "Evaluations, repeats and the cache"). The objective
looks up the COMPLETE trials of the same canonical key in the study. While the key has fewer
than ``max_evaluations`` trainings it trains again (paper 004 §3.2.4 re-evaluates and averages);
otherwise the trial completes at once with the stored mean and ``cached=True``. The returned
value is always the mean fitness over all of the key's trainings.

User attrs of a trial: ``genome``, ``key``, ``trained``, ``cached``, ``n_evaluations``, and for a
training its raw measurements plus ``fitness_raw``; a failed evaluation records
``fail_reason`` and the trial is FAILED (it never enters a GA population). An enqueued trial
with the user attr ``confirm_trainings = n`` (:data:`CONFIRM_ATTR`, :func:`nasga.search.confirm.confirm`)
trains while its key has fewer than ``n`` measurements, whatever ``max_evaluations`` says.

Raw measurements can be shared between studies whose tasks differ only in fitness settings
(the U-Net γ): with ``measurements_from`` (a :class:`MeasurementPool` over other studies), a
genome that one of them already trained is not trained again; the trial copies that training's
measurements, recomputes ``fitness_raw`` with this study's task, and records ``reused_from``
(``trained`` stays False: no training ran). Such a trial is a *measurement* of the key exactly
like a training (:func:`nasga.evaluation.records.is_measurement`).
"""

from __future__ import annotations

import gc
import hashlib
import math
import tempfile
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial

import nasga.evaluation.records as R
from nasga.evaluation.measurements import MeasurementPool, TrainingIndex, trial_at
from nasga.evaluation.objectives import objective_values
from nasga.evaluation.records import older_claims, running_twin
from nasga.search.faults import kill_point
from nasga.storages.handle import trial_id
from nasga.storages.heartbeat import TrialHeartbeat, fail_stale_trials
from nasga.errors import is_int
from nasga.spaces import Genome, NasgaInputError, Space
from nasga.tasks.base import Evaluation, Report, StopTraining, Task, accepts_report

CONFIRM_ATTR = R.CONFIRM_TRAININGS
"""User attr of an enqueued *confirmation* trial (:func:`nasga.search.confirm.confirm`): the genome is
measured again, whatever ``max_evaluations`` says, until its key has this many measurements."""


def evaluation_seed(seed: int, key: str, index: int) -> int:
    """Seed of the ``index``-th training of genome ``key``: repeats differ, reruns agree."""
    digest = hashlib.sha256(f"{seed}:{key}:{index}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


@dataclass(frozen=True)
class Training:
    """A trial's decided training: its genome and key, the fitness of the key's earlier
    measurements (its value becomes their mean with this one) and the training's seed."""

    genome: Genome
    key: str
    previous: tuple[float, ...]
    seed: int


@dataclass(frozen=True)
class Held:
    """A genome whose cache answer must wait until trainings of the same key are told: the
    worker's own (a fused batch) or, without waiting, another worker's."""

    genome: Genome


class Objective:
    """Callable for ``study.optimize``: suggests the space's params, caches, evaluates.

    Args:
        space: Genome space; its distributions are suggested under their stable names.
        task: Turns a genome into measurements and fitness.
        max_evaluations: Trainings per genome key before trials complete from the cache;
            ``None`` trains every reappearance (paper 004).
        seed: Base seed; each training's seed derives from it, the key and the repeat index.
        artifact_store: Optuna artifact store for the task's files (e.g. sample grids).
        on_trained: Called after each training with the trial number (progress reporting).
        twin_timeout: Seconds to wait for another worker's RUNNING training of the same genome
            before training it here too (a dead worker's trial is failed by the storage's
            heartbeat sooner than this).
        heartbeat_interval: Journal storages: seconds between this trial's beats.
        grace_period: Journal storages: seconds without a beat before a trial is stale.
        measurements_from: Other studies' trainings to reuse before training (e.g. the same
            U-Net search at another γ); ``None`` trains everything here.
        last_generation: The search's last GA generation: a trial that a worker claimed
            beyond it (several workers racing at the end) is pruned before training.
        max_trials: Samplers without generations (aging evolution, the built-ins): the
            search's number of evaluations. A trial that finds this many older COMPLETE,
            RUNNING or WAITING trials (confirmation trials aside) is pruned before training, so workers
            racing at the end evaluate nothing twice (:meth:`nasga.search.run.Search.unclaimed`).
        prune: Let the study's pruner stop a training after an epoch (issue 27). Off by
            default, as Optuna's pruning integrations are opt-in: a study created with Optuna's
            defaults has a ``MedianPruner``. The learning curve is recorded either way (with
            one objective: Optuna's ``Trial.report`` refuses several).
        objectives: A multi-objective study's objectives (``[study] objectives``,
            :mod:`nasga.evaluation.objectives`): a trial returns each one's mean over the key's
            measurements (:func:`objective_values`); ``None``: the mean fitness alone.
    """

    def __init__(
        self,
        *,
        space: Space,
        task: Task,
        max_evaluations: int | None = 1,
        seed: int = 0,
        artifact_store: Any | None = None,
        on_trained: Callable[[int], None] | None = None,
        twin_timeout: float = 120.0,
        heartbeat_interval: float = 10.0,
        grace_period: float = 30.0,
        measurements_from: MeasurementPool | None = None,
        last_generation: int | None = None,
        max_trials: int | None = None,
        prune: bool = False,
        objectives: Sequence[str] | None = None,
    ) -> None:
        self.space = space
        self.task = task
        self.max_evaluations = max_evaluations
        self.seed = seed
        self.artifact_store = artifact_store
        self.on_trained = on_trained
        self.trainings = 0
        self._index = TrainingIndex()
        self.twin_timeout = twin_timeout
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = grace_period
        self.measurements_from = measurements_from
        self.last_generation = last_generation
        self.max_trials = max_trials
        self.prune = prune
        self.objectives = tuple(objectives) if objectives is not None else None
        if prune and self.objectives is not None and len(self.objectives) > 1:
            raise NasgaInputError("prune", "Optuna refuses pruning in multi-objective studies "
                                  f"(Trial.report raises), got objectives {self.objectives!r}")

    def beyond_last_generation(self, trial: optuna.Trial | FrozenTrial) -> bool:
        """Whether ``trial`` was claimed for a GA generation after the search's last one."""
        generation = R.lineage(trial).get(R.GA_GENERATION)
        return (self.last_generation is not None and isinstance(generation, int)
                and generation > self.last_generation)

    def suggest(self, trial: optuna.Trial) -> dict[str, int]:
        """Suggest every gene of the space (the sampler's errors propagate)."""
        return {
            name: trial.suggest_int(name, dist.low, dist.high)  # type: ignore[attr-defined]
            for name, dist in self.space.distributions.items()
        }

    def genome_of(self, trial: optuna.Trial) -> Genome:
        """Suggest every gene of the space and decode the genome."""
        return self.space.from_params(self.suggest(trial))

    def __call__(self, trial: optuna.Trial) -> float | tuple[float, ...]:
        try:
            with TrialHeartbeat(trial.study, trial_id(trial.storage, trial.study, trial.number),
                                self.heartbeat_interval, storage=trial.storage):
                return self.values(trial, self._evaluate(trial))
        except KeyboardInterrupt as exc:  # Optuna fails the trial and re-raises: say why
            try:
                trial.set_user_attr(R.FAIL_REASON, R.interrupt_reason(exc))
            except Exception:  # pragma: no cover - the storage is gone
                pass
            raise

    def values(self, trial: optuna.Trial, value: float) -> float | tuple[float, ...]:
        """What ``trial`` tells the study: ``value`` (the key's mean fitness), or each
        objective's mean in a multi-objective study (:func:`objective_values`)."""
        if self.objectives is None:
            return value
        return objective_values(self.objectives, trial.user_attrs, value, self._index.trainings)

    def _evaluate(self, trial: optuna.Trial) -> float:
        step = self.prepare(trial)
        if isinstance(step, Training):
            return self._train(trial, step)
        return step  # type: ignore[return-value]

    def prepare(self, trial: optuna.Trial, *, busy: Collection[str] = (),
                wait: bool = True) -> float | Training | Held:
        """A trial's preamble, everything before a training: suggest the genome, copy the
        sampler's lineage, prune (beyond the last generation, past ``max_trials``, over the
        cost budget), then :meth:`lookup`.

        Returns:
            The trial's value (a cache answer, a reuse; NaN: a genome that cannot be built,
            the trial FAILs), the :class:`Training` it needs, or :class:`Held` (see
            :meth:`lookup`).

        Raises:
            optuna.TrialPruned: The trial is pruned before it trains.
        """
        params = self.suggest(trial)
        try:
            genome = self.space.from_params(params)
        except NasgaInputError as exc:  # e.g. an enqueued genome outside the space: FAIL it
            trial.set_user_attr(R.FAIL_REASON, f"genome cannot be built: {exc}"[:500])
            return math.nan
        trials = trial.study.get_trials(deepcopy=False)  # the one full read of this trial
        own = trial_at(trials, trial.number)  # as stored: with the sampler's lineage
        assert own is not None  # read after the trial was created
        for name, value in R.lineage(own).items():  # the sampler's record, for the dashboard
            if name not in own.user_attrs:
                trial.set_user_attr(name, value)
        if self.beyond_last_generation(own):
            raise optuna.TrialPruned(f"generation {R.lineage(own).get(R.GA_GENERATION)} is "
                                     f"beyond the search's last ({self.last_generation})")
        if self.max_trials is not None and CONFIRM_ATTR not in trial.user_attrs:
            if older_claims(trials, trial.number) >= self.max_trials:
                raise optuna.TrialPruned(f"the search's {self.max_trials} evaluations are "
                                         "complete or running")
        trial.set_user_attr(R.GENOME, genome.to_string())
        trial.set_user_attr(R.KEY, genome.key)
        over = getattr(self.task, "over_budget", lambda g: None)(genome)
        if over is not None:  # a hard cost budget: never trained
            trial.set_user_attr(R.OVER_BUDGET, over)
            raise optuna.TrialPruned(f"over the cost budget: {over}")
        return self.lookup(trial, genome, trials, busy=busy, wait=wait)

    def lookup(self, trial: optuna.Trial, genome: Genome, trials: list[FrozenTrial] | None = None,
               *, busy: Collection[str] = (), wait: bool = True) -> float | Training | Held:
        """The cache's answer for ``genome``, another study's training to reuse, or the
        :class:`Training` it needs (its ``eval_seed`` written).

        Args:
            trials: The study's trials as just read (``None``: read them now).
            busy: Keys that this worker's other unfinished trials are about to train (a fused
                batch): such a genome is :class:`Held` until they are told.
            wait: Wait for an older RUNNING trial training the same genome (another worker's);
                ``False`` (a batch with trainings pending): :class:`Held` instead, so a worker
                never waits while it holds trainings that others may wait for.
        """
        key = genome.key
        if key in busy:
            return Held(genome)
        trials = trial.study.get_trials(deepcopy=False) if trials is None else trials
        limit = self.max_evaluations
        wanted = trial.user_attrs.get(CONFIRM_ATTR)
        if is_int(wanted) and wanted >= 1:
            limit = wanted  # a confirmation training (nasga.search.confirm.confirm)
        done = self._trainings(trial, trials, key)
        if limit is not None and len(done) < limit:
            # Another worker may be training this genome right now: wait for it (paper's cache
            # policy holds across workers) rather than train a duplicate. The flag is written
            # before the twin is looked for, so of two twins at least one sees the other.
            trial.set_user_attr(R.TRAINING, True)
            deadline = time.monotonic() + self.twin_timeout
            trials = trial.study.get_trials(deepcopy=False)
            while running_twin(trials, trial.number, key) and time.monotonic() < deadline:
                if not wait:
                    return Held(genome)
                fail_stale_trials(trial.study, grace_period=self.grace_period)  # dead twin?
                time.sleep(0.2)
                trials = trial.study.get_trials(deepcopy=False)
            done = self._trainings(trial, trials, key)
        previous = [float(t.user_attrs[R.FITNESS_RAW]) for t in done]
        if limit is not None and len(done) >= limit:
            return self._from_cache(trial, done, previous)
        if self.measurements_from is not None:
            used = {t.user_attrs.get(R.EVAL_SEED) for t in done}
            for name, source in self.measurements_from.trainings(key):
                if source.user_attrs.get(R.EVAL_SEED) not in used:
                    return self._reuse(trial, f"{name}:{source.number}", source, previous)
        seed = evaluation_seed(self.seed, key, len(previous))
        trial.set_user_attr(R.EVAL_SEED, seed)
        return Training(genome, key, tuple(previous), seed)

    def _reuse(self, trial: optuna.Trial, origin: str, source: FrozenTrial,
               previous: list[float]) -> float:
        """Copy another study's training; the fitness is recomputed with this task."""
        measurements = R.measurements(source.user_attrs)
        fitness = float(self.task.fitness(measurements))
        for name, value in measurements.items():
            trial.set_user_attr(name, value)
        trial.set_user_attr(R.EVAL_SEED, source.user_attrs.get(R.EVAL_SEED))
        trial.set_user_attr(R.REUSED_FROM, origin)
        trial.set_user_attr(R.FITNESS_RAW, fitness)
        trial.set_user_attr(R.TRAINED, False)
        trial.set_user_attr(R.CACHED, True)
        trial.set_user_attr(R.N_EVALUATIONS, len(previous) + 1)
        return (sum(previous) + fitness) / (len(previous) + 1)

    def _trainings(self, trial: optuna.Trial, trials: list[FrozenTrial],
                   key: str) -> list[FrozenTrial]:
        self._index.update(trials, trial.study.study_name)
        return self._index.trainings(key)

    def _from_cache(self, trial: optuna.Trial, done: list[FrozenTrial],
                    previous: list[float]) -> float:
        latest = max(done, key=lambda t: t.number)
        for name, value in R.measurements(latest.user_attrs).items():
            trial.set_user_attr(name, value)
        trial.set_user_attr(R.TRAINED, False)
        trial.set_user_attr(R.CACHED, True)
        trial.set_user_attr(R.N_EVALUATIONS, len(done))
        return sum(previous) / len(previous)

    def _train(self, trial: optuna.Trial, training: Training) -> float:
        """Train one genome alone (with per-epoch reports), then :meth:`finish`."""
        with tempfile.TemporaryDirectory(prefix="nasga-") as tmp:
            try:
                kill_point("training")
                # Optuna's Trial.report takes one objective: no curve with several.
                reports = accepts_report(self.task) and self.objectives is None
                extra = {"report": self._reporter(trial, race=not training.previous)} \
                    if reports else {}
                outcome: Evaluation | Exception = self.task.evaluate(
                    training.genome, seed=training.seed, workdir=Path(tmp), **extra)
            except (KeyboardInterrupt, SystemExit):
                raise
            except StopTraining as stop:  # the study's pruner: PRUNED, never retried
                trial.set_user_attr(R.PRUNED_AT, stop.epoch)
                if not getattr(self.task, "instant", False):  # a table lookup built nothing
                    gc.collect()
                raise optuna.TrialPruned(f"pruned after epoch {stop.epoch}") from None
            except Exception as exc:  # the trial fails; the search goes on
                outcome = exc
            return self.finish(trial, training, outcome)

    def finish(self, trial: optuna.Trial, training: Training, outcome: Evaluation | Exception,
               *, collect: bool = True) -> float:
        """Record a training's outcome on its trial (alone or a fused batch's member, inside
        the training's workdir): the measurements, ``fitness_raw`` and the key's new mean,
        or ``fail_reason`` and NaN (the trial FAILs; the search goes on). ``collect``: collect
        garbage after a training that built a network or failed (a fused batch collects once
        for all its members: one collection costs more the more networks are alive)."""
        try:
            if isinstance(outcome, Exception):
                raise outcome
            fitness = float(self.task.fitness(outcome.measurements))
            if not math.isfinite(fitness):
                raise ValueError(f"fitness is {fitness}")
            self._upload(trial, outcome.files)
        except Exception as exc:
            trial.set_user_attr(R.FAIL_REASON, f"{type(exc).__name__}: {exc}"[:500])
            if collect:
                gc.collect()  # e.g. a CUDA OOM: free the failed training's tensors now
            return math.nan
        self.trainings += 1
        measurements, built = outcome.measurements, outcome.model is not None
        del outcome
        if built and collect:  # free the network's reference cycles now, as Optuna's gc_after_trial
            gc.collect()  # did after every trial (~25 ms each on a heap with torch imported)
        for name, value in measurements.items():
            trial.set_user_attr(name, value)
            kill_point("writing")
        previous = training.previous
        trial.set_user_attr(R.FITNESS_RAW, fitness)
        trial.set_user_attr(R.TRAINED, True)
        trial.set_user_attr(R.CACHED, False)
        trial.set_user_attr(R.N_EVALUATIONS, len(previous) + 1)
        if self.on_trained is not None:
            self.on_trained(trial.number)
        return (sum(previous) + fitness) / (len(previous) + 1)

    def _reporter(self, trial: optuna.Trial, *, race: bool) -> Report:
        """The task's per-epoch callback: each epoch's fitness becomes the trial's
        intermediate value at that step (optuna-dashboard draws the curves), and the study's
        pruner may stop the training there (issue 27). Only a key's first training is raced
        (``race``): a key with a finished training passed every rung once, so its
        re-measurements are confirmations, never pruned, and never enter the pruner's rungs
        (docs/design.md, "Pruning")."""

        last = getattr(self.task, "epochs", None)
        race = race and self.prune

        def report(epoch: int, measurements: dict[str, Any]) -> None:
            trial.report(float(self.task.fitness(measurements)), epoch)
            if race and epoch != last and trial.should_prune():  # a finished one is kept
                raise StopTraining(epoch)

        return report

    def _upload(self, trial: optuna.Trial, files: list[Path]) -> None:
        if self.artifact_store is None:
            return
        from optuna.artifacts import upload_artifact

        for path in files:
            upload_artifact(artifact_store=self.artifact_store, file_path=str(path),
                            study_or_trial=trial)
