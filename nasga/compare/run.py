"""One (sampler, seed) run of a comparison: its sampler, its study, its stop rules, its curve.

:func:`run_one` runs (or continues) one study until its training budget, the trial cap or the
space's exhaustion, and returns its incumbent curve (:func:`incumbent_curve`). Runs of an
instant task are buffered in memory and appended to storage when they stop (:func:`_open_run`).
The samplers a comparison may name are :data:`COMPARE_SAMPLERS`
(:func:`make_compare_sampler`). :mod:`nasga.compare.runs` runs many of these over samplers × seeds.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

import nasga.evaluation.records as R
from nasga.evaluation.objectives import name_metrics
from nasga.samplers.registry import (
    AGING_PRESETS, GA_VARIANTS, NASGA_SAMPLERS, SAMPLER_NAMES, BinaryUNetStrategy,
    make_sampler, sampler_entry,
)
from nasga.compare.front import TrueFront, front_curve
from nasga.compare.report import RunResult
from nasga.search.pruners import make_pruner, study_pruner
from nasga.search.settings import Settings
from nasga.storages.handle import study_id
from nasga.errors import NasgaRunError
from nasga.spaces import NasgaInputError, Space

COMPARE_SAMPLERS = SAMPLER_NAMES
"""The samplers a comparison may name: every name of the registry (:data:`~nasga.samplers.registry.SAMPLERS`)."""
COMPARE_TASKS = ("genetic-cnn-bench", "genetic-cnn", "unet")
MEMORY = "memory"  # storage "memory": in-process, fast, not resumable
TRAININGS, EPOCHS = "trainings", "epochs"
BUDGET_UNITS = (TRAININGS, EPOCHS)
"""What a run's budget counts (``--budget-unit``): trainings (cached answers free), or the
epochs trained (issue 27: a pruned training costs the epochs it ran, cached answers nothing)."""
COMPARE_ATTR = "nasga_compare"
MAX_FAILURES_IN_A_ROW = 10


def task_label(cfg: dict[str, Any]) -> str:
    """``genetic-cnn-bench``, ``genetic-cnn``, ``unet`` or the config's task name; a benchmark
    table other than the default adds its name (``genetic-cnn-bench-genetic_cnn_44_digits``),
    a multi-objective study its objectives (``genetic-cnn-bench-val_accuracy+macs``)."""
    label = str(cfg["task"].get("task") or cfg["study"]["task"])
    table = cfg["task"].get("table")
    label = f"{label}-{Path(str(table)).stem}" if table else label
    objectives = cfg["study"].get("objectives")
    return f"{label}-{'+'.join(objectives)}" if objectives else label


def make_compare_sampler(name: str, *, space: Space, strategy: Any, seed: int,
                         max_evaluations: int | None = 1, epochs: int | None = None
                         ) -> optuna.samplers.BaseSampler:
    """The sampler ``name`` of the registry (:func:`nasga.samplers.registry.make_sampler`),
    seeded, with the comparison's ``max_evaluations`` for every sampler.

    ``ga`` and ``ga-unet`` re-breed a child whose genome already has ``max_evaluations``
    trainings unless the config says ``strategy.dedup = false``
    (:meth:`~nasga.samplers.ga.strategies.GeneticCNNStrategy.rebreed_after`); ``ga-dedup`` /
    ``ga-steady`` always do (off when ``max_evaluations`` is ``None``), so ``ga-dedup`` equals
    ``ga`` unless ``dedup = false``.

    Raises:
        NasgaInputError: Unknown name, or ``ga-unet`` on a U-Net space (field ``samplers``).
    """
    return make_sampler(name, space=space, strategy=strategy, seed=seed,
                        max_evaluations=max_evaluations, epochs=epochs, field="samplers")


@dataclass(frozen=True)
class RunSpec:
    """One (sampler, seed) run of a comparison (picklable, for worker processes)."""

    cfg: dict[str, Any]
    sampler: str
    seed: int
    budget: int
    max_evaluations: int | None
    storage: str
    prefix: str = "compare"
    trial_cap_factor: int = 20
    budget_unit: str = TRAININGS
    epochs: int | None = None
    """The task's epochs per full training (the unit of ``budget_unit = "epochs"``)."""

    @property
    def study_name(self) -> str:
        return f"{self.prefix}-{task_label(self.cfg)}-{self.sampler}-s{self.seed}"

    @property
    def trial_cap(self) -> int:
        """``trial_cap_factor`` trials per training the budget pays for (in epochs: per
        ``epochs`` of budget, whatever a pruner stops)."""
        if self.budget_unit == EPOCHS:
            return self.trial_cap_factor * math.ceil(self.budget / (self.epochs or 1))
        return self.trial_cap_factor * self.budget

    def cost(self, trial: FrozenTrial) -> int:
        """What ``trial`` costs in the budget's unit: a training, or the epochs it trained
        (:func:`nasga.evaluation.records.epochs_trained`: a pruned one its epochs; cached
        answers nothing)."""
        if self.budget_unit == EPOCHS:
            return R.epochs_trained(trial, self.epochs)
        return int(_trained(trial))

    def identity(self) -> dict[str, Any]:
        """What must match when a study is resumed."""
        return {"sampler": self.sampler, "seed": self.seed, "max_evaluations": self.max_evaluations,
                "space": self.cfg["space"], "task": self.cfg["task"],
                **({"objectives": self.cfg["study"]["objectives"],
                    "directions": self.cfg["study"]["directions"]}
                   if self.cfg["study"].get("objectives") else {}),
                **({"pruner": self.cfg["study"]["pruner"]} if self.cfg["study"].get("pruner")
                   else {}),
                "strategy": self.cfg["strategy"] if self.sampler == "ga" else None}


def _storage(url: str) -> Any:
    if url == MEMORY:
        return optuna.storages.InMemoryStorage()
    from nasga.storages.storage import open_storage

    return open_storage(url, heartbeat=False)


def _open_run(spec: RunSpec, sampler: optuna.samplers.BaseSampler, *, instant: bool,
              directions: Sequence[str] = ("maximize",), objectives: Sequence[str] = (),
              pruner: optuna.pruners.BasePruner | None = None
              ) -> tuple[optuna.Study, _Durable | None]:
    """The run's study, and the durable study to write it into at the end (or ``None``).

    A run of an instant task (the tabular benchmark: lookups, no training) is buffered: it runs
    in an in-memory copy of its stored study, and :func:`_flush` appends its new trials and
    attrs to the stored one when it stops. A trial in SQLite costs ~30 commits, which would be
    almost all of such a run's time. A run is then resumed at run granularity: one interrupted
    before its flush starts again from what was stored. A study with unfinished (waiting or
    running) trials is run in place, so no trial is copied twice.
    """
    storage = _storage(spec.storage)
    durable = optuna.create_study(study_name=spec.study_name, storage=storage,
                                  sampler=sampler, directions=list(directions),
                                  pruner=pruner, load_if_exists=True)
    if len(directions) > 1 and not durable.metric_names:
        name_metrics(durable, objectives)
    unfinished = any(not t.state.is_finished() for t in durable.get_trials(deepcopy=False))
    if not instant or spec.storage == MEMORY or unfinished:
        return durable, None
    memory = optuna.storages.InMemoryStorage()
    optuna.copy_study(from_study_name=spec.study_name, from_storage=storage, to_storage=memory)
    buffered = optuna.load_study(study_name=spec.study_name, storage=memory, sampler=sampler,
                                 pruner=pruner)
    return buffered, _Durable(durable, storage, memory)


@dataclass(frozen=True)
class _Durable:
    """A buffered run's stored study, its storage, and the in-memory storage it runs in."""

    study: optuna.Study
    storage: Any
    memory: Any


def _flush(buffered: optuna.Study, durable: _Durable) -> None:
    """Append ``buffered``'s new trials to ``durable``, then its study attrs (stop reason last)."""
    stored = len(durable.study.get_trials(deepcopy=False))
    durable.study.add_trials(buffered.get_trials(deepcopy=False)[stored:])
    system = durable.memory.get_study_system_attrs(study_id(durable.memory, buffered))
    target = study_id(durable.storage, durable.study)
    for key, value in system.items():
        durable.storage.set_study_system_attr(target, key, value)
    attrs = buffered.user_attrs
    for key in sorted(attrs, key=lambda k: k == "compare_stop_reason"):
        durable.study.set_user_attr(key, attrs[key])


def _trained(t: FrozenTrial) -> bool:
    return t.state == TrialState.COMPLETE and R.trained(t.user_attrs)


def incumbent_curve(trials: Sequence[FrozenTrial], *, budget: int,
                    true_fitness: Callable[[str], float] | None = None,
                    optimum: float | None = None,
                    cost: Callable[[FrozenTrial], int] | None = None) -> list[dict[str, Any]]:
    """Best-so-far after each training that starts within ``budget`` (in trial order).

    The incumbent is the genome :func:`nasga.results.best.best_genome` would name from the trainings
    so far (:func:`nasga.results.best.pick_key`): the best mean ``fitness_raw`` among keys with at
    least ``min(3, most trainings of any key so far)`` trainings (ties: the key trained first);
    with ``max_evaluations = 1`` that is the plain best mean. Each row also names the ``key``
    that training measured and its ``fitness``. ``regret`` is
    ``optimum − true_fitness(incumbent)`` when both given: the table mean of the genome the run
    would return.

    ``cost``: what a trial costs in the budget's unit (default: 1 per training; with
    ``--budget-unit epochs`` :func:`nasga.evaluation.records.epochs_trained`, so a pruned
    training, which measures nothing and names no incumbent, still costs its epochs). A row's
    ``spent`` is the budget spent once it finished; a trial that starts at or past ``budget``
    is not counted.
    """
    from nasga.results.best import measured_value

    sums: dict[str, list[float]] = {}
    genomes: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    spent = 0
    for t in sorted(trials, key=lambda t: t.number):
        value = measured_value(t)  # best_genome's rule: trainings and reused trainings
        key = str(t.user_attrs.get(R.KEY, ""))
        if value is not None:
            acc = sums.setdefault(key, [0.0, 0])
            acc[0] += value
            acc[1] += 1
            genomes.setdefault(key, str(t.user_attrs.get(R.GENOME, key)))
        paid = int(_trained(t)) if cost is None else cost(t)
        if paid <= 0:  # cached answers and reused trainings are free
            continue
        if spent >= budget:
            break
        spent += paid
        rows.append(_incumbent_row(sums, genomes, true_fitness, optimum, key=key, trial=t.number,
                                   fitness=math.nan if value is None else value,
                                   training=len(rows) + 1, spent=spent))
    return rows


def _incumbent_row(sums: dict[str, list[float]], genomes: dict[str, str],
                   true_fitness: Callable[[str], float] | None, optimum: float | None,
                   **row: Any) -> dict[str, Any]:
    """One curve row: ``row``'s fields and the incumbent of ``sums`` (none yet: NaN)."""
    from nasga.results.best import pick_key

    best = pick_key({k: (s / n, int(n)) for k, (s, n) in sums.items()})
    row.update({"best_fitness": math.nan, "incumbent": "", "regret": math.nan})
    if best is not None:
        row.update(best_fitness=sums[best][0] / sums[best][1], incumbent=genomes[best])
        if true_fitness is not None and optimum is not None:
            row["regret"] = optimum - true_fitness(best)
    return row


@dataclass
class _StopRule:
    """When a run stops: its budget of trainings, the space's exhaustion (``possible``
    trainings), the trial cap, or ``MAX_FAILURES_IN_A_ROW`` failed trials; counted by
    :meth:`callback` after each trial."""

    spec: RunSpec
    possible: int | None
    trainings: int
    trials: int
    spent: int = 0
    fails: int = 0
    last_failure: str = "see the log"
    reason: str | None = None

    def check(self) -> bool:
        if self.spent >= self.spec.budget:
            self.reason = "budget"
        elif self.possible is not None and self.trainings >= self.possible:
            self.reason = "exhausted"
        elif self.trials >= self.spec.trial_cap:
            self.reason = "trial-cap"
        elif self.fails >= MAX_FAILURES_IN_A_ROW:
            self.reason = "failures"
        return self.reason is not None

    def callback(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.trials += 1
        self.fails = self.fails + 1 if trial.state == TrialState.FAIL else 0
        self.last_failure = str(trial.user_attrs.get(R.FAIL_REASON, "see the log"))
        self.trainings += _trained(trial)
        self.spent += self.spec.cost(trial)
        if self.check():
            study.stop()


def _claim_identity(study: optuna.Study, spec: RunSpec) -> None:
    """Record the run's settings on its study; a stored study with other settings is refused."""
    stored = study.user_attrs.get(COMPARE_ATTR)
    identity = copy.deepcopy(spec.identity())
    if stored is not None and stored != json.loads(json.dumps(identity)):
        raise NasgaInputError("study_name", f"study {spec.study_name!r} exists with other settings"
                              f" ({stored}); use another --out/--storage or the same settings")
    study.set_user_attr(COMPARE_ATTR, identity)


def run_pruner(settings: Settings, sampler: str, task: Any) -> dict[str, Any] | None:
    """The pruner table of one run: the comparison's ``study.pruner``, else the sampler's
    preset (``aging-asha``, ``ga-race``), as a study with that sampler would run
    (:func:`~nasga.search.pruners.study_pruner`); ``None``: no pruner, or the sampler's own
    (a baseline that stops trainings itself, :attr:`~nasga.samplers.registry.SamplerEntry.own_pruner`).

    Raises:
        NasgaInputError: A preset sampler on a task that reports no epochs, or a pruner named
            for a sampler with its own (``samplers``).
    """
    from nasga.samplers.baselines import check_epochs
    from nasga.tasks.base import reported_epochs

    own = dict(settings.study.pruner) if settings.study.pruner is not None else None
    entry = sampler_entry(sampler, field="samplers")
    if entry.own_pruner:
        if own is not None and own.get("name") != "none":
            raise NasgaInputError("samplers", f"{sampler} takes no pruner: {entry.own_pruner}; "
                                  f"got the pruner {own.get('name')!r}")
        check_epochs(sampler, reported_epochs(task))
        return None
    return study_pruner(own, preset=entry.pruner, sampler=sampler,
                        epochs=reported_epochs(task), field="samplers",
                        sampler_field="samplers")


def run_one(spec: RunSpec) -> RunResult:
    """Run (or continue) one study until its budget, the trial cap, or exhaustion."""
    from nasga.evaluation.objective import Objective
    from nasga.samplers.baselines import BaselineSampler
    from nasga.tasks.base import reported_epochs

    settings = Settings.from_config(spec.cfg)
    space, task = settings.space, settings.build_task()
    sampler = make_compare_sampler(spec.sampler, space=space, strategy=settings.strategy,
                                   seed=spec.seed, max_evaluations=spec.max_evaluations,
                                   epochs=reported_epochs(task))
    several = settings.study.multi_objective
    pruner = run_pruner(settings, spec.sampler, task)
    own = sampler.pruner if isinstance(sampler, BaselineSampler) else None
    study, durable = _open_run(spec, sampler, instant=bool(getattr(task, "instant", False)),
                               directions=settings.study.directions,
                               objectives=settings.study.objectives,
                               pruner=own or make_pruner(pruner, epochs=getattr(task, "epochs",
                                                                                None)))
    _claim_identity(study, spec)
    bench = getattr(task, "bench", None)
    trials = study.get_trials(deepcopy=False)
    rule = _StopRule(spec, bench.n_keys * spec.max_evaluations
                     if bench is not None and spec.max_evaluations is not None else None,
                     trainings=sum(_trained(t) for t in trials),
                     trials=sum(t.state.is_finished() for t in trials),
                     spent=sum(spec.cost(t) for t in trials))
    objective = Objective(space=space, task=task, max_evaluations=spec.max_evaluations,
                          seed=spec.seed, objectives=settings.study.objectives if several else None,
                          prune=pruner is not None or own is not None)
    start = time.perf_counter()
    while not rule.check():
        study.optimize(objective, n_trials=spec.trial_cap - rule.trials, callbacks=[rule.callback])
    if rule.reason == "failures":
        raise NasgaRunError(f"{spec.study_name}: {MAX_FAILURES_IN_A_ROW} trials failed in a "
                            f"row; last reason: {rule.last_failure}")
    wall = float(study.user_attrs.get("compare_wall_seconds", 0.0)) + time.perf_counter() - start
    study.set_user_attr("compare_wall_seconds", wall)
    study.set_user_attr("compare_stop_reason", rule.reason)
    if durable is not None:
        _flush(study, durable)
    trials = study.get_trials(deepcopy=False)
    front: list[str] = []
    if several:
        curve, front = front_curve(trials, budget=spec.budget, objectives=settings.study.objectives,
                                   directions=settings.study.directions,
                                   truth=true_front(settings, task))
    else:
        true_fitness = getattr(task, "true_fitness", None)
        curve = incumbent_curve(trials, budget=spec.budget, true_fitness=true_fitness,
                                optimum=task.optimum() if true_fitness is not None else None,
                                cost=spec.cost)
    return RunResult(spec.sampler, spec.seed, spec.study_name, rule.trainings,
                     sum(t.state.is_finished() for t in trials), wall, str(rule.reason), curve,
                     front, rule.spent, sum(R.PRUNED_AT in t.user_attrs for t in trials))


def true_front(settings: Settings, task: Any) -> TrueFront | None:
    """The task's true front over the study's objectives (a tabular task's table means), or
    ``None`` where the task does not know its keys' noiseless values."""
    if not hasattr(task, "true_values"):
        return None
    objectives = settings.study.objectives
    return TrueFront(task.true_values(objectives), settings.study.directions, task.bench.row)


__all__ = ["BUDGET_UNITS", "EPOCHS", "TRAININGS", "AGING_PRESETS", "COMPARE_SAMPLERS", "GA_VARIANTS", "MEMORY", "NASGA_SAMPLERS", "BinaryUNetStrategy", "RunSpec",
           "incumbent_curve", "make_compare_sampler", "run_one", "task_label", "true_front"]
