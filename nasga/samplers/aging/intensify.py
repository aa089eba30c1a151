"""SMAC's intensification for noisy fitness: which measured model to measure again.

Hutter, Hoos and Leyton-Brown 2011, "Sequential Model-Based Optimization for General Algorithm
Configuration" (LION 5), §4.2 ("Intensification"): a challenger is run again only while it
looks at least as good as the incumbent, so runs go to the configurations that may be best
and a poor one is dropped after one run. nasga's version (issue 16), used by
:class:`~nasga.samplers.aging.sampler.AgingEvolutionSampler` (``intensify=True``):

* a *model* is an identity (a canonical genome key, or a parameter set) and its *mean* is the
  direction-adjusted mean of its COMPLETE trials (nasga's objective already returns the mean
  over a key's trainings, so there the latest value is the mean);
* the *incumbent* is the best mean among the models with ``k`` COMPLETE trials (``k`` the
  cache's limit, ``rebreed_after``); while none has, every mean beats it;
* the *challenger* is the model with the best mean among those with fewer than ``k`` live
  (COMPLETE or RUNNING) trials; ties go to the model measured first.

Measuring the challenger while its mean is at least the incumbent's keeps the number of models
with ``k`` measurements small, and the best mean among them (:mod:`nasga.results.best`'s rule) less
often a lucky one: the winner's curse grows with the number of contenders.

:class:`Board` keeps the models' means as trials finish, so the sampler finds the challenger
without re-reading the study (issue 26); :func:`challenger` is a board of the given trials.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from nasga.samplers.ga.breeding import model_values, selection_values

INTENSIFY_ONE_OBJECTIVE = (
    "compares one mean per model with the incumbent's, so it needs a single-objective study; "
    "with several objectives use aging or aging-reeval")
"""Why intensification refuses a multi-objective study (the sampler and ``[study]`` say so):
an incumbent is one model with the best mean, and several objectives have a front instead."""


def model_means(trials: Iterable[FrozenTrial], identity: Callable[[FrozenTrial], Hashable],
                direction: StudyDirection
                ) -> tuple[dict[Hashable, float], dict[Hashable, FrozenTrial], Counter[Hashable]]:
    """Per model of the COMPLETE trials with a value, first measured first: its mean
    (:func:`~nasga.samplers.ga.breeding.model_values`, non-finite ones clipped as
    :func:`~nasga.samplers.ga.breeding.adjusted` clips), its latest trial and its number of COMPLETE trials."""
    done = sorted((t for t in trials if t.state == TrialState.COMPLETE and t.value is not None),
                  key=lambda t: t.number)
    latest: dict[Hashable, FrozenTrial] = {}
    count: Counter[Hashable] = Counter()
    for t in done:
        i = identity(t)
        latest[i] = t
        count[i] += 1
    values = model_values(done, identity, direction)
    clipped = selection_values([values[i] for i in latest], nonnegative=False)
    return dict(zip(latest, clipped)), latest, count


def challenger(trials: Iterable[FrozenTrial], identity: Callable[[FrozenTrial], Hashable],
               direction: StudyDirection, live: Counter[Hashable], k: int
               ) -> tuple[FrozenTrial | None, bool]:
    """The latest trial of the challenger and whether its mean is at least the incumbent's.

    Args:
        trials: The study's trials (only COMPLETE ones with a value count).
        identity: A trial's model.
        direction: The study's direction.
        live: COMPLETE or RUNNING trials per model (the trial being sampled left out).
        k: Trials that make a model fully measured (``>= 1``).

    Returns:
        ``(None, False)`` when every measured model has ``k`` live trials.
    """
    board = Board(direction, k)
    for t in trials:
        if t.state == TrialState.COMPLETE and t.value is not None:
            board.add(t, identity(t))
    return board.challenger(live, Counter())


@dataclass
class _Model:
    trials: list[FrozenTrial]  # its COMPLETE trials, by number
    mean: float = math.nan
    version: int = 0

    @property
    def first(self) -> int:
        return self.trials[0].number


def _any(model: Hashable) -> bool:
    return True


def _kind(mean: float) -> int:
    """0: finite; 1: +inf (clipped to the highest finite mean); 2: -inf or NaN (the lowest)."""
    return 0 if math.isfinite(mean) else 1 if mean > 0 else 2


class Board:
    """The models' means kept as trials finish, for :func:`challenger` in O(log n) a query.

    Each model's mean is :func:`~nasga.samplers.ga.breeding.model_values` of its own trials
    (recomputed when one is added); the clipping of non-finite means is
    :func:`~nasga.samplers.ga.breeding.selection_values` applied to the few candidates and the
    highest and lowest finite means. Heaps with lazy invalidation (a model's ``version``) hold
    the candidates: challengers by (mean, first measured), incumbents by mean.
    """

    def __init__(self, direction: StudyDirection, k: int) -> None:
        self._direction = direction
        self._k = k
        self._models: dict[Hashable, _Model] = {}
        # Challenger candidates (fewer than k trials): finite by (-mean, first); +inf, -inf/NaN
        # by first. Finite means of every model: highest and lowest. Incumbents (k trials).
        self._open: tuple[list[tuple], list[tuple], list[tuple]] = ([], [], [])
        self._high: list[tuple] = []
        self._low: list[tuple] = []
        self._settled: tuple[list[tuple], set[Hashable], set[Hashable]] = ([], set(), set())

    def add(self, trial: FrozenTrial, model: Hashable) -> None:
        """Count a COMPLETE trial with a value (in any order of trial numbers)."""
        m = self._models.setdefault(model, _Model([]))
        bisect.insort(m.trials, trial, key=lambda t: t.number)
        m.mean = model_values(m.trials, lambda _: model, self._direction)[model]
        m.version += 1
        kind = _kind(m.mean)
        if kind == 0:
            heapq.heappush(self._high, (-m.mean, m.first, m.version, model))
            heapq.heappush(self._low, (m.mean, m.first, m.version, model))
        if len(m.trials) < self._k:
            key = (-m.mean, m.first) if kind == 0 else (m.first,)
            heapq.heappush(self._open[kind], (*key, m.version, model))
            return
        finite, high, low = self._settled
        high.discard(model)
        low.discard(model)
        if kind == 0:
            heapq.heappush(finite, (-m.mean, m.first, m.version, model))
        else:
            (high if kind == 1 else low).add(model)

    def _top(self, heap: list[tuple], keep: Callable[[Hashable], bool | None]
             ) -> Hashable | None:
        """The first current entry of ``heap`` that ``keep`` accepts (``None``: drop it for
        good, ``False``: skip it this time)."""
        skipped = []
        found = None
        while heap:
            entry = heap[0]
            model = entry[-1]
            verdict = self._models[model].version == entry[-2] and keep(model)
            if verdict:
                found = model
                break
            heapq.heappop(heap)
            if verdict is False and self._models[model].version == entry[-2]:
                skipped.append(entry)
        for entry in skipped:
            heapq.heappush(heap, entry)
        return found

    def challenger(self, finished: Counter[Hashable], running: Counter[Hashable]
                   ) -> tuple[FrozenTrial | None, bool]:
        """:func:`challenger` with live trials ``finished[m] + running[m]`` (a model with
        ``finished[m] >= k`` is never a challenger again)."""
        def pending(model: Hashable) -> bool | None:
            if finished[model] >= self._k:
                return None
            return finished[model] + running[model] < self._k

        models = [m for m in (self._top(heap, pending) for heap in self._open) if m is not None]
        if not models:
            return None, False
        extremes = [self._models[m].mean for m in (self._top(self._high, _any),
                                                   self._top(self._low, _any)) if m is not None]
        means = self._clipped([self._models[m].mean for m in models], extremes)
        best = max(range(len(models)), key=lambda i: (means[i], -self._models[models[i]].first))
        finite, high, low = self._settled
        top = self._top(finite, _any)
        settled = ([] if top is None else [self._models[top].mean]) + (
            [math.inf] if high else []) + ([-math.inf] if low else [])
        incumbent = max(self._clipped(settled, extremes), default=-math.inf)
        return self._models[models[best]].trials[-1], means[best] >= incumbent

    @staticmethod
    def _clipped(means: list[float], extremes: list[float]) -> list[float]:
        """``means`` clipped as :func:`model_means` clips them among all the models' means,
        whose finite extremes are ``extremes`` (none: no finite mean)."""
        return selection_values(means + extremes, nonnegative=False)[:len(means)]


__all__ = ["INTENSIFY_ONE_OBJECTIVE", "Board", "challenger", "model_means"]
