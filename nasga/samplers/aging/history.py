"""What :class:`~nasga.samplers.aging.sampler.AgingEvolutionSampler` reads from a study's
trials, kept up to date as trials finish, so that a trial costs the same at 100,000 trials as
at 1,000 (issue 26).

A finished trial (COMPLETE, FAIL, PRUNED) never changes again in an Optuna storage, so it is
read once; a trial that was unfinished (RUNNING, WAITING) when last read is read again on every
refresh until it finishes. Trials are read one at a time by number (``storage.get_trial``; the
numbers of a study are 0, 1, ... in every Optuna storage, shared by all its workers): a list of
all the trials (``study.get_trials``, even without deep copies) costs time in the number of
trials, about 3 ms a read at 40,000 trials. Nothing here is persisted: a new process (or an
unpickled sampler) reads the storage once and goes on, so workers need no shared state.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Callable, Container, Hashable
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState

from nasga.samplers.aging.intensify import Board
from nasga.storages.handle import is_fresh


class Views:
    """What depends on the search space: identities, the population and the models' means.

    Attributes:
        search_space: The space these views were built for.
        finished: COMPLETE trials per identity (the live trials that never change).
        stopped: The identities of trials the study's pruner stopped (PRUNED with a curve):
            such a key trains again from epoch 0 with the same seed, so it is taken.
        population: The ``size`` most recent (highest-numbered) COMPLETE trials with a value
            and every parameter inside the space, by number (Algorithm 1's population); with
            ``rungs``, the PRUNED trials with a curve count too.
        board: The models' means for intensification (``None``: not intensifying).
        exhausted: Whether a search of ``RANDOM_TRIES`` random models found none untaken.
    """

    def __init__(self, search_space: dict[str, BaseDistribution],
                 identity: Callable[[FrozenTrial], Hashable],
                 inside: Callable[[FrozenTrial], bool], size: int, board: Board | None,
                 rungs: bool = False) -> None:
        self.search_space = search_space
        self.identity = identity
        self._inside = inside
        self._size = size
        self._rungs = rungs
        self.finished: Counter[Hashable] = Counter()
        self.stopped: set[Hashable] = set()
        self.exhausted = False  # RANDOM_TRIES random draws found no model that is not taken
        self.population: list[FrozenTrial] = []
        self.board = board

    def add(self, trial: FrozenTrial) -> None:
        """Count a finished trial (any order of numbers): a COMPLETE one, or a PRUNED one with
        a curve (stopped by the pruner; the others trained nothing)."""
        identity = self.identity(trial)
        if trial.state == TrialState.PRUNED:
            self.stopped.add(identity)
            if self._rungs and self._inside(trial):
                self._enter(trial)
            return
        self.finished[identity] += 1
        if trial.values is None or not self._inside(trial):
            return
        if self.board is not None:
            self.board.add(trial, identity)
        self._enter(trial)

    def _enter(self, trial: FrozenTrial) -> None:
        pop = self.population
        if len(pop) < self._size or trial.number > pop[0].number:
            bisect.insort(pop, trial, key=lambda t: t.number)
            if len(pop) > self._size:
                del pop[0]


class History:
    """One study's trials as the sampler needs them (see the module docstring).

    Args:
        storage: The study's storage (the history is kept per storage and study).
        is_member: Whether a trial is one of the sampler's (it was sampled by it).
    """

    def __init__(self, storage: Any, is_member: Callable[[FrozenTrial], bool]) -> None:
        self.storage = storage
        self._is_member = is_member
        self.read_for: int | None = None  # the trial whose sampling read the trials last
        self._reset()

    def _reset(self) -> None:
        self._seen = 0  # trials numbered below it have been read
        self.open: list[FrozenTrial] = []  # unfinished when last read, by number
        self._open_ids: list[int] = []
        self._members: list[int] = []  # finished trials of the sampler, numbers sorted
        self._complete: list[FrozenTrial] = []
        self._stopped: list[FrozenTrial] = []  # PRUNED with a curve
        self._intersection: dict[str, BaseDistribution] | None = None
        self._relative: dict[str, BaseDistribution] = {}
        self.views: Views | None = None

    def refresh(self, study_id: int) -> None:
        """Read the trials new since the last refresh and those unfinished then."""
        storage = self.storage
        pending = [(i, storage.get_trial(i)) for i in self._open_ids]
        while True:
            try:
                trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, self._seen)
            except KeyError:
                break
            pending.append((trial_id, storage.get_trial(trial_id)))
            self._seen += 1
        self.open, self._open_ids = [], []
        for trial_id, t in pending:
            if t.state.is_finished():
                self._finish(t)
            else:
                self.open.append(t)
                self._open_ids.append(trial_id)

    def _finish(self, trial: FrozenTrial) -> None:
        if self._is_member(trial):
            bisect.insort(self._members, trial.number)
        if trial.state == TrialState.PRUNED and trial.intermediate_values:
            self._stopped.append(trial)  # stopped by the pruner (others trained nothing)
            if self.views is not None:
                self.views.add(trial)
        if trial.state != TrialState.COMPLETE:
            return
        self._complete.append(trial)
        self._intersect(trial.distributions)
        if self.views is not None:
            self.views.add(trial)

    def _intersect(self, distributions: dict[str, BaseDistribution]) -> None:
        """Optuna's intersection search space of the COMPLETE trials, one trial at a time
        (``optuna.search_space.IntersectionSearchSpace`` re-reads every trial after the
        oldest unfinished one, and deep-copies the space, on every call)."""
        if self._intersection is None:
            space = dict(distributions)
        else:
            space = {name: dist for name, dist in self._intersection.items()
                     if distributions.get(name) == dist}
            if len(space) == len(self._intersection):
                return
        self._intersection = space
        self._relative = {name: dist for name, dist in sorted(space.items())
                          if not dist.single()}  # single values: sample_independent (NSGA-II)

    def relative_search_space(self) -> dict[str, BaseDistribution]:
        """The intersection search space of the COMPLETE trials less its single values."""
        return dict(self._relative)

    def rank(self, number: int) -> int:
        """The sampler's trials before trial ``number``: its members, and fresh RUNNING trials
        that a worker has created but not yet sampled."""
        return bisect.bisect_left(self._members, number) + sum(
            1 for t in self.open if t.number < number and (
                self._is_member(t) or (
                    t.state == TrialState.RUNNING and is_fresh(t))))

    def views_for(self, search_space: dict[str, BaseDistribution],
                  build: Callable[[], Views]) -> Views:
        """The views of ``search_space``, built (from every COMPLETE trial and every one the
        pruner stopped) when it changed."""
        if self.views is None or self.views.search_space != search_space:
            self.views = build()
            for t in self._complete + self._stopped:
                self.views.add(t)
        return self.views

    def running(self, number: int, identity: Callable[[FrozenTrial], Hashable]
                ) -> Counter[Hashable]:
        """RUNNING trials per identity, trial ``number`` (the one being sampled) left out."""
        return Counter(identity(t) for t in self.open
                       if t.state == TrialState.RUNNING and t.number != number)


class Taken:
    """The identities with at least ``enough`` live (COMPLETE or RUNNING) trials, or stopped
    by the pruner (``stopped``), as a set."""

    def __init__(self, finished: Counter[Hashable], running: Counter[Hashable],
                 enough: int, stopped: Container[Hashable] = ()) -> None:
        self._finished, self._running, self._enough = finished, running, enough
        self._stopped = stopped

    def __contains__(self, identity: object) -> bool:
        return (self._finished[identity] + self._running[identity] >= self._enough
                or identity in self._stopped)


__all__ = ["History", "Taken", "Views"]
