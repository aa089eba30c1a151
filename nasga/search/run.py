"""Run a search: open or resume a study, optimize until every generation is complete.

The study holds everything: the resolved config (user attr), the GA state (sampler attrs) and
each evaluation (trials). Re-running the same command resumes; ``generations`` is the total
number of bred generations after the initial population (paper 004: ``N·(T+1)`` individuals).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

import nasga.evaluation.records as R
from nasga.samplers.registry import make_sampler
from nasga.search.config import check_fuse
from nasga.search.pruners import make_pruner
from nasga.search.resume import check_compatible, keep_stored_dedup
from nasga.search.settings import Settings
from nasga.evaluation.objectives import name_metrics
from nasga.evaluation.batch import optimize_fused
from nasga.evaluation.objective import MeasurementPool, Objective
from nasga.evaluation.records import claims_an_evaluation
from nasga.search.workers import STORAGE_ENV, WorkerObjective
from nasga.errors import NasgaRunError
from nasga.spaces import NasgaInputError, Space
from nasga.results.stats import GenerationStats, generation_stats
from nasga.storages.storage import (
    CONFIG_ATTR, artifact_dir, check_artifact_dir, load_study_config, make_default_root,
    open_storage, redact, storage_exists, study_exists,
)

@dataclass
class Search:
    """Everything one process needs to work on a study: its :class:`~nasga.search.settings.Settings`
    (built once), the storage URL, the Optuna study, the objective and how many trainings this
    process fuses into one network (``fuse``: the study's ``[task] fuse`` or a worker's
    ``--fuse``)."""

    settings: Settings
    storage_url: str
    study: optuna.Study
    objective: Objective
    fuse: int = 1

    @property
    def cfg(self) -> dict[str, Any]:
        """The resolved config as a plain dict (the form stored in the study)."""
        return self.settings.to_config()

    @property
    def space(self) -> Space:
        return self.settings.space

    @property
    def strategy(self) -> Any:
        return self.settings.strategy

    @property
    def population(self) -> int:
        return int(self.strategy.population)

    @property
    def generations(self) -> int:
        return int(self.strategy.generations)

    @property
    def is_ga(self) -> bool:
        return self.settings.study.is_ga

    def stats(self) -> list[GenerationStats]:
        return generation_stats(self.study, population_size=None if self.is_ga else self.population)

    def generation_finished(self, generation: int,
                            rows: list[GenerationStats] | None = None) -> bool:
        """GA: every child settled (COMPLETE or out of attempts); else ``population`` COMPLETE
        (counted in ``rows``, :meth:`stats` read once by the caller, when given)."""
        if self.is_ga:
            return self.study.sampler.settled(self.study, generation)  # type: ignore[attr-defined]
        counts = {row.generation: row.n for row in (self.stats() if rows is None else rows)}
        return counts.get(generation, 0) >= self.population

    def done(self) -> bool:
        """GA: every generation ``0..T`` finished; other samplers: ``population × (T + 1)``
        COMPLETE trials (a pruned or failed trial, e.g. over the cost budget, does not count)."""
        if self.is_ga:
            return self.generation_finished(self.generations)
        return self.remaining() == 0

    def remaining(self) -> int:
        if self.is_ga:
            done, total = self.study.sampler.progress(  # type: ignore[attr-defined]
                self.study, self.generations)
            return total - done
        return self.left()[0]

    def unclaimed(self) -> int:
        """Evaluations nobody works on yet: GA, :meth:`remaining` (its tickets wait for work);
        other samplers, the total less COMPLETE, RUNNING and WAITING trials, so that workers
        racing at the end start no evaluation beyond the total (the objective prunes any that
        does)."""
        if self.is_ga:
            return self.remaining()
        return self.left()[1]

    def left(self) -> tuple[int, int]:
        """Samplers without generations: ``(remaining, unclaimed)`` from one read of the study
        (the total less COMPLETE trials; less COMPLETE, RUNNING and WAITING ones), the
        confirmation trainings of :func:`nasga.search.confirm.confirm` aside."""
        complete = live = 0
        for t in self.study.get_trials(deepcopy=False):
            if claims_an_evaluation(t):
                live += 1
                complete += t.state == TrialState.COMPLETE
        total = self.settings.total_evaluations
        return max(0, total - complete), max(0, total - live)


def open_search(cfg: dict[str, Any] | Settings, *, storage_url: str, create: bool = True,
                on_trained: Callable[[int], None] | None = None,
                device: str | None = None, fuse: int | None = None) -> Search:
    """Create or resume the study of ``cfg`` (a config that :func:`nasga.search.config.validate`
    returned, or its :class:`~nasga.search.settings.Settings`) in ``storage_url``.

    ``device`` (a worker's ``--devices`` entry) and ``fuse`` (a worker's ``--fuse``) override
    ``task.device`` and ``task.fuse`` for this process only; the stored config keeps the
    study's own settings.
    """
    settings = cfg if isinstance(cfg, Settings) else Settings.from_config(cfg)  # built once
    asked = settings.study
    if asked.reuse_from and create and not storage_exists(storage_url):
        raise _no_study_to_reuse(asked.reuse_from[0])  # before the file is created
    check_artifact_dir(storage_url)  # trials write there: refused before the study is made
    if create:
        make_default_root(storage_url)
    storage = open_storage(storage_url, heartbeat_interval=asked.heartbeat_interval,
                           grace_period=asked.grace_period, retry_stale=not asked.is_ga,
                           create=create)
    name = asked.name
    exists = study_exists(storage, name)
    if exists:
        stored, settings = keep_stored_dedup(load_study_config(storage, name), settings)
        check_compatible(stored, settings.to_config(), name)
    elif not create:
        raise NasgaInputError("study_name", f"no study named {name!r} in this storage")
    task = settings.build_task(device=device)
    if fuse is not None:  # before anything is written
        check_fuse(fuse, task, pruner=settings.study.pruner, field="fuse")
    sampler = make_sampler(settings.study.sampler, space=settings.space,
                           strategy=settings.strategy, seed=settings.study.seed,
                           grace_period=settings.study.grace_period,
                           feasible=((lambda g: task.over_budget(g) is None)
                                     if getattr(task, "budget", None) else None))
    pool = _measurement_pool(storage, settings, task)
    pruner = make_pruner(settings.study.pruner, epochs=getattr(task, "epochs", None))
    if exists:
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler,
                                  pruner=pruner)
    else:
        study = optuna.create_study(study_name=name, storage=storage, sampler=sampler,
                                    pruner=pruner, directions=list(settings.study.directions))
        if settings.study.multi_objective:
            name_metrics(study, settings.study.objectives)
    stored_cfg = settings.to_config()
    if "storage" in stored_cfg["study"]:  # never store a password
        stored_cfg["study"]["storage"] = redact(stored_cfg["study"]["storage"])
    study.set_user_attr(CONFIG_ATTR, stored_cfg)
    return Search(settings, storage_url, study,
                  _objective(settings, task, storage_url, pool, on_trained),
                  settings.fuse if fuse is None else fuse)


def _objective(settings: Settings, task: Any, storage_url: str, pool: MeasurementPool | None,
               on_trained: Callable[[int], None] | None) -> Objective:
    """The objective every worker of the study runs, its artifacts next to the storage."""
    from optuna.artifacts import FileSystemArtifactStore

    store_dir = artifact_dir(storage_url)
    store_dir.mkdir(parents=True, exist_ok=True)
    is_ga = settings.study.is_ga
    return WorkerObjective(space=settings.space, task=task,
                           max_evaluations=settings.strategy.max_evaluations,
                           seed=settings.study.seed,
                           artifact_store=FileSystemArtifactStore(str(store_dir)),
                           on_trained=on_trained,
                           heartbeat_interval=settings.study.heartbeat_interval,
                           grace_period=settings.study.grace_period,
                           measurements_from=pool,
                           last_generation=settings.strategy.generations if is_ga else None,
                           max_trials=None if is_ga else settings.total_evaluations,
                           prune=settings.study.pruner is not None,
                           objectives=(settings.study.objectives
                                       if settings.study.multi_objective else None))


def _no_study_to_reuse(name: str) -> NasgaInputError:
    return NasgaInputError("study.reuse_from", f"no study named {name!r} in this storage (a "
                           "study to reuse must be in the same --storage)")


def _measurement_pool(storage: Any, settings: Settings, task: Any) -> MeasurementPool | None:
    """The ``[study] reuse_from`` studies, checked to measure exactly like this task.

    Raises:
        NasgaInputError: A named study is missing or its task measures differently (another
            dataset, image size, epochs... anything but the task's ``fitness_settings``).
    """
    if not settings.study.reuse_from:
        return None
    free = set(getattr(task, "fitness_settings", ())) | {"device"}
    mine = {k: v for k, v in task.config().items() if k not in free}
    studies = []
    for name in settings.study.reuse_from:
        if not study_exists(storage, name):
            raise _no_study_to_reuse(name)
        other = stored_settings(storage, name)
        theirs = {k: v for k, v in other.build_task().config().items() if k not in free}
        if other.study.task != settings.study.task or repr(other.space) != repr(settings.space):
            raise NasgaInputError("study.reuse_from", f"study {name!r} searches another space")
        diff = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
        if diff:
            raise NasgaInputError(
                "study.reuse_from", f"study {name!r} measures differently (task."
                f"{diff[0]}: {theirs.get(diff[0])!r} there, {mine.get(diff[0])!r} here); only "
                f"{', '.join(sorted(free))} may differ")
        studies.append(optuna.load_study(study_name=name, storage=storage))
    return MeasurementPool(studies)


def generation_line(row: GenerationStats) -> str:
    """``gen   3: max 0.9120 mean 0.8844 min 0.8011 | best 1-01|... | cached 25%``."""
    return (f"gen {row.generation:3d}: max {row.max:.4f} mean {row.mean:.4f} min {row.min:.4f}"
            f" | best {row.best_genome} | cached {row.cached_share:.0%}")


def optimize(search: Search, *, progress: bool = True, log: Callable[[str], None] = print,
             max_failures_in_a_row: int | None = None) -> None:
    """Run trials until :meth:`Search.done`; print a line per finished generation.

    Raises:
        NasgaRunError: ``max_failures_in_a_row`` trials failed in a row (default: a population).
    """
    from tqdm import tqdm

    total = search.settings.total_evaluations
    settled = total - search.remaining()
    # The bar's final state is drawn once, by close(): a finished study shows no bar at all,
    # and the callback never draws the last count itself (see _Progress).
    bar = tqdm(total=total, initial=settled, unit="eval",
               disable=not progress or settled >= total, dynamic_ncols=True)
    run = _Progress(search, bar, bar.write if progress else log,
                    max_failures_in_a_row or max(3, search.population), settled)
    try:
        while True:
            if (not search.done() and not run.idle
                    and (search.is_ga or search.unclaimed())):
                run.stopping = False
                _run_trials(search, search.unclaimed(), run, lambda: run.stopping)
                if run.fails >= run.limit:
                    raise NasgaRunError(f"{run.fails} trials failed in a row; last reason: "
                                        f"{run.reason}")
                continue
            idle, run.idle = run.idle, False
            if not settle(search, run) and not idle:
                break
        # Generations whose last trial another worker completed while this one waited.
        _report_finished(search, run.reported, run.write)
    finally:
        bar.close()


class _Progress:
    """:func:`optimize`'s callback: failures in a row, a worker with nothing left to claim
    (``idle``), the progress bar and a line per finished generation, and when to stop."""

    def __init__(self, search: Search, bar: Any, write: Callable[[str], None], limit: int,
                 settled: int) -> None:
        self.search, self.bar, self.write, self.limit = search, bar, write, limit
        self.fails, self.reason, self.idle, self.stopping = 0, "", False, False
        rows = search.stats()
        self.reported = {row.generation for row in rows
                         if search.generation_finished(row.generation, rows)}
        self.blocks = settled // search.population

    def stop(self, study: optuna.Study) -> None:
        self.stopping = True  # optimize_fused asks no more (it is not Study.optimize)
        if self.search.fuse == 1:
            study.stop()

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        search = self.search
        if trial.state == TrialState.PRUNED and search.objective.beyond_last_generation(trial):
            self.idle = True  # nothing left to claim: wait for the others (settle), not
            self.stop(study)  # claim again at once (a steady-state ticket never waits)
            return
        if trial.state == TrialState.FAIL:
            self.fails += 1
            self.reason = str(trial.user_attrs.get(R.FAIL_REASON, "see the log"))
            if self.fails >= self.limit:
                self.stop(study)
            return
        self.fails = 0
        total = search.settings.total_evaluations
        remaining, unclaimed = (search.remaining(), 1) if search.is_ga else search.left()
        settled = total - remaining
        # A generation (or a block of `population` trials) can only have finished once another
        # `population` evaluations settled: the statistics (O(trials)) are read only then.
        # Its line is written before the bar moves on: bar.write redraws the bar, and a bar
        # drawn at its final count here would be drawn again by close().
        if settled // search.population > self.blocks or settled >= total:
            self.blocks = settled // search.population
            _report_finished(search, self.reported, self.write)
        self.bar.n = settled
        if settled < total:
            self.bar.refresh()
        if (search.done() if search.is_ga else not unclaimed):  # others finish the rest
            self.stop(study)


def _run_trials(search: Search, n_trials: int,
                callback: Callable[[optuna.Study, FrozenTrial], None],
                stopped: Callable[[], bool]) -> None:
    """Up to ``n_trials`` trials, one at a time (``Study.optimize``) or, with ``fuse`` K > 1, in
    fused batches (:func:`~nasga.evaluation.batch.optimize_fused`) that never ask more trials
    than are unclaimed (samplers without generations; a GA's tickets beyond the last
    generation are pruned)."""
    if search.fuse > 1:
        optimize_fused(search.study, search.objective, fuse=search.fuse, n_trials=n_trials,
                       callback=callback, stopped=stopped,
                       room=None if search.is_ga else lambda: search.left()[1])
    else:  # the objective collects garbage
        search.study.optimize(search.objective, n_trials=n_trials, callbacks=[callback])


def _report_finished(search: Search, reported: set[int], write: Callable[[str], None]) -> None:
    """Write one line per generation finished since the last call (statistics read once)."""
    rows = search.stats()
    for row in rows:
        if row.generation not in reported and search.generation_finished(row.generation, rows):
            reported.add(row.generation)
            write(generation_line(row))


def settle(search: Search, callback: Callable[[optuna.Study, FrozenTrial], None]) -> bool:
    """After the last generation: run retries, wait out other workers' RUNNING trials.

    A dead worker's RUNNING trial is failed after the grace period (Optuna's heartbeats, or
    :mod:`nasga.storages.heartbeat` on journal storages) and enqueued again (WAITING) by
    ``RetryHeartbeatStaleTrialCallback``; this runs such retries so no evaluation is lost.
    Returns whether there is still something to wait for.
    """
    import time

    from nasga.storages.heartbeat import fail_stale_trials

    study = search.study
    waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    if waiting:
        study.optimize(search.objective, n_trials=len(waiting), callbacks=[callback])
        return True
    if not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        return False
    fail_stale_trials(study, grace_period=search.objective.grace_period)
    time.sleep(0.5)
    return True


def load_search(storage_url: str, study_name: str, *, device: str | None = None,
                fuse: int | None = None) -> Search:
    """Re-open an existing nasga study with its own stored configuration (workers, export);
    ``device`` and ``fuse`` override ``task.device`` and ``task.fuse`` for this process
    (:func:`open_search`)."""
    storage = open_storage(storage_url, heartbeat=False, create=False)  # never creates one
    return open_search(stored_settings(storage, study_name), storage_url=storage_url,
                       create=False, device=device, fuse=fuse)


def stored_settings(storage: Any, study_name: str) -> Settings:
    """The :class:`~nasga.search.settings.Settings` a study was stored with: its stored config
    read and validated once (it may come from an earlier nasga version)."""
    from nasga.search.config import validate

    return Settings.from_config(validate(load_study_config(storage, study_name)))


__all__ = ["Search", "STORAGE_ENV", "generation_line", "load_search", "open_search", "optimize",
           "stored_settings"]
