"""Measurements of a genome key: this study's COMPLETE trainings (:class:`TrainingIndex`, read
incrementally) and other studies' trainings to reuse (:class:`MeasurementPool`);
docs/design.md, "Evaluations, repeats and the cache"."""

from __future__ import annotations

import threading

import optuna
from optuna.trial import FrozenTrial, TrialState

import nasga.evaluation.records as R
from nasga.evaluation.records import is_measurement


def trial_at(trials: list[FrozenTrial], number: int) -> FrozenTrial | None:
    """Trial ``number`` among one study's ``trials`` (``None`` if that read is older than it):
    by position, as Optuna's storages number trials 0..n-1, else by search."""
    if number < len(trials) and trials[number].number == number:
        return trials[number]
    return next((t for t in trials if t.number == number), None)


class TrainingIndex:
    """COMPLETE training trials per genome key, updated incrementally: each call reads only
    the trials it has not seen and those that were unfinished when it last looked (another
    worker may still be running them), so its cost does not grow with the study.
    """

    def __init__(self, *, trained_only: bool = False) -> None:
        self._by_key: dict[str, list[FrozenTrial]] = {}
        self._seen = 0
        self._pending: set[int] = set()
        self._study: str | None = None
        self._lock = threading.Lock()
        self._counts = (lambda a: R.trained(a) and R.KEY in a) if trained_only \
            else is_measurement

    def update(self, trials: list[FrozenTrial], study_name: str) -> None:
        """Index ``trials`` (study ``study_name``'s, in trial-number order, as ``get_trials``
        returns them)."""
        with self._lock:  # n_jobs threads share one objective; their reads may be older
            if study_name != self._study:
                self._by_key, self._seen, self._pending = {}, 0, set()
                self._study = study_name
            for number in sorted(self._pending):
                t = trial_at(trials, number)
                if t is not None and t.state.is_finished():
                    self._pending.discard(number)
                    self._add(t)
            aligned = not trials or trials[-1].number == len(trials) - 1  # numbers 0..n-1
            new = trials[self._seen:] if aligned else [t for t in trials if t.number >= self._seen]
            for t in new:
                if t.state.is_finished():
                    self._add(t)
                else:
                    self._pending.add(t.number)
            if trials:
                self._seen = max(self._seen, trials[-1].number + 1)

    def _add(self, t: FrozenTrial) -> None:
        if t.state == TrialState.COMPLETE and self._counts(t.user_attrs):
            self._by_key.setdefault(t.user_attrs[R.KEY], []).append(t)

    def trainings(self, key: str) -> list[FrozenTrial]:
        """COMPLETE trials that measured genome ``key`` (trained, or reused a training)."""
        return list(self._by_key.get(key, []))


class MeasurementPool:
    """Trainings of other studies that a study may reuse instead of training (no retraining).

    Only trials that actually trained count (never another study's own reuses, so a chain of
    studies cannot offer one training twice); two trainings with the same ``eval_seed`` are the
    same experiment and are offered once.

    Args:
        studies: Studies whose tasks measure exactly like this one's (same task, space and task
            settings except the fitness-only ones); :func:`nasga.search.run.open_search` checks it.
    """

    def __init__(self, studies: list[optuna.Study]) -> None:
        self.studies = list(studies)
        self._indexes = [TrainingIndex(trained_only=True) for _ in self.studies]

    def trainings(self, key: str) -> list[tuple[str, FrozenTrial]]:
        """(study name, trial) of the other studies' trainings of ``key``, oldest first."""
        out, seeds = [], set()
        for study, index in zip(self.studies, self._indexes):
            index.update(study.get_trials(deepcopy=False), study.study_name)
            for t in sorted(index.trainings(key), key=lambda t: t.number):
                seed = t.user_attrs.get(R.EVAL_SEED)
                if seed is None or seed not in seeds:
                    seeds.add(seed)
                    out.append((study.study_name, t))
        return out


__all__ = ["MeasurementPool", "TrainingIndex", "trial_at"]
