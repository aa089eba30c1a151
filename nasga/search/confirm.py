"""Confirmation trainings: after a run, measure the top genomes again so that the best genome
(:func:`nasga.results.best.best_genome`) is named from several trainings, not one lucky one."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import optuna
from optuna.trial import FrozenTrial, TrialState

import nasga.evaluation.records as R
from nasga.errors import check_int
from nasga.evaluation.objective import CONFIRM_ATTR
from nasga.spaces import NasgaInputError

if TYPE_CHECKING:  # pragma: no cover
    from nasga.search.run import Search


def confirm(search: Search, *, top_k: int = 3, trainings: int | None = None,
            log: Callable[[str], None] = print) -> int:
    """After a run: measure the ``top_k`` genome keys again until each has ``trainings``.

    Ranks every key by its mean fitness over the search's own measurements
    (:func:`nasga.results.best.ranking` with ``search_only``; no threshold, so a genome that is on top
    after one lucky training is among them), enqueues for each of the top ``top_k`` one trial
    per missing measurement (all measurements count, earlier confirmations included) with its
    params and the user attr ``confirm_trainings`` (:data:`~nasga.evaluation.objective.CONFIRM_ATTR`: the
    objective trains it whatever ``max_evaluations`` says) and runs them through the study's
    objective. At most ``top_k × (trainings − 1)`` trainings. The GA sampler leaves enqueued
    trials alone, and they belong to no generation. Idempotent: the choice ignores earlier
    confirmations, and a rerun (or a resume after an interruption) counts the measurements and
    the confirmation trials still WAITING. Afterwards
    :func:`nasga.results.best.best_genome` (threshold ``min(trainings, most measurements)``) picks
    among keys measured ``trainings`` times by their means.

    Args:
        top_k: Keys to confirm (``0``: nothing).
        trainings: Measurements each needs (default :data:`nasga.results.best.MIN_TRAININGS`).

    Returns:
        The number of confirmation trials run.
    """
    from nasga.results.best import MIN_TRAININGS

    trainings = _check_counts(top_k, MIN_TRAININGS if trainings is None else trainings)
    if top_k == 0:
        return 0
    study = search.study
    _enqueue(search, top_k, trainings)
    pending = len(_waiting(study))
    if pending:
        log(f"confirm: {pending} more training(s) so the top {top_k} genomes have {trainings} "
            "each")
    ran = 0
    while pending:
        study.optimize(search.objective, n_trials=pending, gc_after_trial=True)
        ran += pending
        # a stale trial's retry (built-in samplers) comes back WAITING
        pending = len(_waiting(study))
    return ran


def _check_counts(top_k: object, trainings: object) -> int:
    """``trainings`` once ``top_k`` (>= 0) and ``trainings`` (>= 1) are checked integers."""
    check_int("confirm", top_k, minimum=0)
    return check_int("confirm_trainings", trainings)


def _waiting(study: optuna.Study) -> list[FrozenTrial]:
    """The confirmation trials enqueued and not yet run."""
    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
            if CONFIRM_ATTR in t.user_attrs]


def _enqueue(search: Search, top_k: int, trainings: int) -> None:
    """One WAITING trial per missing measurement of each of the ``top_k`` keys ranked by the
    search's own measurements; measurements and trials already queued count."""
    from nasga.results.best import ranking

    study = search.study
    queued: dict[str, int] = {}
    for t in _waiting(study):
        key = str(t.user_attrs.get(R.KEY))
        queued[key] = queued.get(key, 0) + 1
    trials = study.get_trials(deepcopy=False)
    genomes = {str(t.user_attrs[R.KEY]): str(t.user_attrs[R.GENOME]) for t in trials
               if R.KEY in t.user_attrs and R.GENOME in t.user_attrs}
    counts = {key: n for key, _mean, n in ranking(study)}
    for key, _mean, _n in ranking(study, search_only=True)[:top_k]:
        params = search.space.to_params(search.space.parse(genomes[key]))
        for _ in range(trainings - counts[key] - queued.get(key, 0)):
            study.enqueue_trial(params, user_attrs={CONFIRM_ATTR: trainings, "key": key},
                                skip_if_exists=False)
