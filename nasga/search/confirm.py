"""Confirmation trainings: after a run, measure the top genomes again so that the best genome
(:func:`nasga.results.best.best_genome`) is named from several trainings, not one lucky one;
with several objectives, the members of the Pareto front
(:func:`nasga.results.best.pareto_front`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import optuna
from optuna.trial import FrozenTrial, TrialState

import nasga.evaluation.records as R
from nasga.errors import check_int
from nasga.evaluation.objective import CONFIRM_ATTR

if TYPE_CHECKING:  # pragma: no cover
    from nasga.results.best import FrontMember
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

    A multi-objective study confirms its front instead (:func:`_confirm_front`).

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
    if len(search.study.directions) > 1:
        return _confirm_front(search, top_k, trainings, log)
    _enqueue(search, top_k, trainings)
    pending = len(_waiting(search.study))
    if pending:
        log(f"confirm: {pending} more training(s) so the top {top_k} genomes have {trainings} "
            "each")
    return _run_waiting(search)


def _run_waiting(search: Search) -> int:
    """Run the WAITING confirmation trials through the study's objective; how many ran."""
    study = search.study
    pending, ran = len(_waiting(study)), 0
    while pending:
        study.optimize(search.objective, n_trials=pending, gc_after_trial=True)
        ran += pending
        # a stale trial's retry (built-in samplers) comes back WAITING
        pending = len(_waiting(study))
    return ran


def confirm_order(front: list[FrontMember], trainings: int) -> list[FrontMember]:
    """Front members in the order ``--confirm K`` takes them: the most measured first (up to
    ``trainings``: members already confirmed keep their places, so a rerun or the next round
    asks for nothing new unless one left the front), then the larger crowding distance (the
    boundary points, each objective's best, then the most isolated members: Deb et al. 2002's
    crowded comparison within one front), then the key measured first."""
    return sorted(front, key=lambda m: (-min(m.n_measurements, trainings), -m.crowding,
                                        m.trials[0]))


def _confirm_front(search: Search, top_k: int, trainings: int,
                   log: Callable[[str], None]) -> int:
    """Several objectives: re-measure the first ``top_k`` members of the current front
    (:func:`confirm_order`) until each has ``trainings`` measurements, recompute the front
    from the new means, and repeat while its first ``top_k`` include a member measured fewer
    times (a lucky member that fell back leaves the front, or uncovers keys it dominated).
    Each key is enqueued at most once per call (a training that fails is not retried forever), so the
    rounds end; a rerun trains nothing once the front's first ``top_k`` are measured
    ``trainings`` times."""
    from nasga.results.best import pareto_front

    study = search.study
    ran = _run_waiting(search)  # an interrupted earlier call's queue first
    asked: set[str] = set()
    while True:
        todo = [m for m in confirm_order(pareto_front(study, min_trainings=trainings),
                                          trainings)[:top_k]
                if m.n_measurements < trainings and m.key not in asked]
        if not todo:
            return ran
        for m in todo:
            _enqueue_key(search, m.key, m.genome, trainings - m.n_measurements, trainings)
            asked.add(m.key)
        log(f"confirm: {len(_waiting(study))} more training(s) so the Pareto front's first "
            f"{top_k} members (most measured, then by crowding distance) have {trainings} each")
        ran += _run_waiting(search)


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
        _enqueue_key(search, key, genomes[key], trainings - counts[key] - queued.get(key, 0),
                     trainings)


def _enqueue_key(search: Search, key: str, genome: str, missing: int, trainings: int) -> None:
    """``missing`` WAITING confirmation trials of ``genome`` (its ``key``), each marked with
    :data:`~nasga.evaluation.objective.CONFIRM_ATTR` ``= trainings`` (the objective trains it
    while the key has fewer measurements)."""
    params = search.space.to_params(search.space.parse(genome))
    for _ in range(missing):
        search.study.enqueue_trial(params, user_attrs={CONFIRM_ATTR: trainings, "key": key},
                                   skip_if_exists=False)
