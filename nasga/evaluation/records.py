"""The trial record: every user attr nasga writes on a trial, and what it means (one place).

:class:`~nasga.evaluation.objective.Objective` writes these names; reports, comparisons, exports and the
samplers read them through the constants and predicates here, so a new attribute or a change of
meaning is made in one module. Stored names never change: studies written by earlier versions
read the same.

Evaluation attrs (``Objective``):
    ``genome`` string form; ``key`` canonical key (isomorphic genomes share it);
    ``trained`` this trial ran a training; ``cached`` it repeated an earlier measurement
    (``max_evaluations`` reached); ``reused_from`` it copied another study's training;
    ``n_evaluations`` measurements of its key so far, this one included; ``fitness_raw`` this
    trial's own measurement (the trial value is the key's mean); ``eval_seed`` the training's
    seed; ``training`` set while a training runs; ``fail_reason`` why a trial failed;
    ``over_budget`` why a genome was pruned untrained (``max_macs`` / ``max_params``);
    ``confirm_trainings`` a confirmation trial's target (``nasga run --confirm``);
    ``pruned_at_epoch`` the epochs a training ran before the study's pruner stopped it (the
    trial is PRUNED; its learning curve is in Optuna's intermediate values).
Lineage attrs: ``ga_generation``, ``ga_operator``, ``ga_parents``. ``GeneticSampler`` and
``AgingEvolutionSampler`` write them inside one system attr per child (:data:`CHILD_RECORD`:
on a journal file every attribute is one fsynced record, issue 26); ``Objective`` copies them
into user attrs, where optuna-dashboard shows them. Read them with :func:`lineage`. Every other
user attr is one of the task's measurements.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable, Mapping
from typing import Any

from optuna.trial import FrozenTrial, TrialState

GENOME = "genome"
KEY = "key"
TRAINED = "trained"
CACHED = "cached"
REUSED_FROM = "reused_from"
N_EVALUATIONS = "n_evaluations"
FITNESS_RAW = "fitness_raw"
EVAL_SEED = "eval_seed"
TRAINING = "training"
FAIL_REASON = "fail_reason"
OVER_BUDGET = "over_budget"
CONFIRM_TRAININGS = "confirm_trainings"
PRUNED_AT = "pruned_at_epoch"

GA_GENERATION = "ga_generation"
GA_OPERATOR = "ga_operator"
GA_PARENTS = "ga_parents"
LINEAGE_PREFIX = "ga_"
LINEAGE = (GA_GENERATION, GA_OPERATOR, GA_PARENTS)
"""A child's lineage: its generation, the operator that made it and its parents' numbers."""
CHILD_RECORD = "nasga:child"
"""Trial system attr: the one record a nasga sampler writes for a child it proposes,
``{"lineage": {...}, ...}`` beside the sampler's own fields (docs/design.md, "Records")."""

BOOKKEEPING = frozenset({GENOME, KEY, TRAINED, CACHED, N_EVALUATIONS, FITNESS_RAW, FAIL_REASON,
                         EVAL_SEED, TRAINING, REUSED_FROM, OVER_BUDGET, CONFIRM_TRAININGS,
                         PRUNED_AT})
"""Attrs that describe the evaluation rather than measure the genome."""


def lineage(trial: Any) -> dict[str, Any]:
    """A trial's (FrozenTrial's) lineage: its user attrs where written (nasga's objective copies
    them for the dashboard; samplers before 0.2 wrote them), else the sampler's
    :data:`CHILD_RECORD`; empty for a trial no nasga sampler bred."""
    attrs = trial.user_attrs
    if any(name in attrs for name in LINEAGE):
        return {name: attrs[name] for name in LINEAGE if name in attrs}
    record = trial.system_attrs.get(CHILD_RECORD)
    return dict(record.get("lineage") or {}) if isinstance(record, dict) else {}


def is_measurement_name(name: str) -> bool:
    """Whether a user attr is one of the task's measurements (copied when a trial is answered
    from the cache or from another study), not bookkeeping or lineage."""
    return name not in BOOKKEEPING and not name.startswith(LINEAGE_PREFIX)


def measurements(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The task's measurements among a trial's user attrs."""
    return {k: v for k, v in attrs.items() if is_measurement_name(k)}


def trained(attrs: Mapping[str, Any]) -> bool:
    """Whether the trial ran a training (a cache answer or a reuse did not)."""
    return bool(attrs.get(TRAINED))


def is_measurement(attrs: Mapping[str, Any]) -> bool:
    """Whether a COMPLETE trial's user attrs hold one measurement of its genome.

    True for a trial that trained (``trained``) or copied another study's training
    (``reused_from``); False for cache answers, which repeat a measurement.
    """
    return bool(attrs.get(TRAINED) or attrs.get(REUSED_FROM)) and KEY in attrs


def epochs_trained(trial: Any, default: int | None) -> int:
    """The epochs a finished trial trained (issue 27's cost at equal epochs): a training's
    own ``epochs`` measurement (else ``default``, the task's), a pruned one's
    ``pruned_at_epoch``; 0 for a cached or reused answer, a genome over the budget, a failure."""
    attrs = trial.user_attrs
    if PRUNED_AT in attrs:
        return int(attrs[PRUNED_AT])
    if trial.state.name != "COMPLETE" or not trained(attrs):
        return 0
    return int(attrs.get("epochs", default or 0))


def count_trained(trials: Iterable[Any]) -> int:
    """How many of ``trials`` (FrozenTrials) ran a training."""
    return sum(trained(t.user_attrs) for t in trials)


__all__ = ["BOOKKEEPING", "CACHED", "CHILD_RECORD", "CONFIRM_TRAININGS", "EVAL_SEED", "epochs_trained",
           "FAIL_REASON", "FITNESS_RAW", "GA_GENERATION", "GA_OPERATOR", "GA_PARENTS", "GENOME",
           "INTERRUPTED", "KEY", "LINEAGE", "LINEAGE_PREFIX", "N_EVALUATIONS", "OVER_BUDGET",
           "PRUNED_AT", "REUSED_FROM", "TRAINED", "TRAINING", "count_trained", "interrupt_reason",
           "is_measurement", "is_measurement_name", "lineage", "measurements", "trained",
           "was_interrupted"]


_CLAIMING = (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)


INTERRUPTED = "interrupted by "
"""How the ``fail_reason`` of a trial failed by an interrupt (SIGINT, SIGTERM) begins."""


def interrupt_reason(cause: int | BaseException) -> str:
    """The ``fail_reason`` of a trial an interrupt failed.

    Args:
        cause: The signal number (SIGINT, SIGTERM), or the exception it raised: a
            ``KeyboardInterrupt`` carries its ``signum`` when nasga's handler raised it, and is
            SIGINT otherwise.
    """
    signum = (cause if isinstance(cause, int)
              else getattr(cause, "signum", signal.SIGINT))
    return f"{INTERRUPTED}{signal.Signals(signum).name}; run the command again to resume"


def was_interrupted(t: FrozenTrial) -> bool:
    """Whether ``t`` FAILed because its run was interrupted (its genome did not fail: a GA slot
    does not spend an attempt on it, docs/design.md, "The sampler: claims, generations,
    retries"). The reason is written before the state, so a reader that sees FAIL sees it."""
    return (t.state == TrialState.FAIL
            and str(t.user_attrs.get(FAIL_REASON, "")).startswith(INTERRUPTED))


def claims_an_evaluation(t: FrozenTrial) -> bool:
    """Whether ``t`` counts towards a search's total of evaluations: COMPLETE, RUNNING or
    WAITING (a retry copy), confirmation trials aside. A trial that ends COMPLETE is in one of
    these states all along (the one rule of :func:`older_claims` and
    :meth:`nasga.search.run.Search.left`)."""
    return t.state in _CLAIMING and CONFIRM_TRAININGS not in t.user_attrs


def older_claims(trials: list[FrozenTrial], number: int) -> int:
    """Trials numbered below ``number`` that claim an evaluation: the evaluations that count
    towards a search's total before this trial's. Trial numbers are assigned atomically, so at
    most ``max_trials`` trials of a search can complete."""
    return sum(t.number < number and claims_an_evaluation(t) for t in trials)


def running_twin(trials: list[FrozenTrial], number: int, key: str) -> bool:
    """An older RUNNING trial of the same genome that is training it."""
    return any(t.number < number and t.state == TrialState.RUNNING
               and t.user_attrs.get(KEY) == key and t.user_attrs.get(TRAINING)
               for t in trials)
