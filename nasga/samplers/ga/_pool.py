"""Per-study breeding data of :class:`~nasga.samplers.ga.sampler.GeneticSampler`, folded in
trial by trial so that a proposal costs the same at 100,000 trials as at 1,000 (issue #26).

Both folds hold what breeding reads (docs/design.md, "The sampler: claims, generations,
retries"): each genome key's fitness (:class:`~nasga.samplers.ga.breeding.ModelStats`) and
measurements (:func:`~nasga.samplers.ga.breeding.measurement_key`) over finished trials.
Finished states are final, so a fold never revisits a trial; one that cannot serve an older
request (another thread folded further) is replaced by a fresh one for that request.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

import nasga.evaluation.records as R
from nasga.samplers.ga import pareto
from nasga.samplers.ga.breeding import (
    clipped_vectors, genome_key, has_genome, measures, model_stats,
)
from nasga.samplers.ga.claims import Ledger
from nasga.spaces import Space


class Fold:
    """Fitness and measurement counts per genome key of the COMPLETE trials folded in
    (several objectives: a tuple of means per key, :class:`~nasga.samplers.ga.breeding.VectorStats`)."""

    def __init__(self, space: Space, directions: Sequence[StudyDirection]) -> None:
        self.space = space
        self.directions = tuple(directions)
        self.stats = model_stats(self.directions)
        self.counts: Counter[str] = Counter()
        self.keys: dict[int, str] = {}  # trial number -> genome key, of the trials folded in
        self.vectors: dict[int, list[int]] = {}  # trial number -> gene vector, of parents
        self._by_genes: dict[tuple[int, ...], str] = {}  # gene values -> genome key

    def key(self, trial: FrozenTrial) -> str:
        """``trial``'s genome key (:func:`~nasga.samplers.ga.breeding.genome_key`), remembered
        per folded trial and per gene vector (a canonical key can cost a millisecond)."""
        key = self.keys.get(trial.number)
        if key is None and R.KEY not in trial.user_attrs:
            genes = tuple(trial.params[name] for name in self.space.distributions)
            key = self._by_genes.get(genes)
            if key is None:
                key = self._by_genes[genes] = genome_key(trial, self.space)
        return key if key is not None else genome_key(trial, self.space)

    def vector(self, trial: FrozenTrial) -> list[int]:
        """``trial``'s gene vector (a finished trial's is remembered)."""
        if trial.number not in self.vectors:
            self.vectors[trial.number] = self.space.to_vector(self.space.from_params(trial.params))
        return self.vectors[trial.number]

    def add(self, trial: FrozenTrial) -> str | None:
        """Fold a finished trial in; its genome key if it counts (COMPLETE, full genome)."""
        if trial.state != TrialState.COMPLETE or not has_genome(trial, self.space):
            return None
        key = self.keys[trial.number] = self.key(trial)
        self.stats.add(key, trial)
        if measures(trial):
            self.counts[key] += 1
        return key


class GenerationFold(Fold):
    """Generational mode: the COMPLETE children of generations ``0..through-1``; with several
    objectives also ``front``, the parent pool of generation ``through`` (NSGA-II's μ + λ)."""

    def __init__(self, space: Space, directions: Sequence[StudyDirection],
                 size: int = 0) -> None:
        super().__init__(space, directions)
        self.through = 0
        self.front = Front(self, size)

    def before(self, generation: int, ledger: Ledger) -> GenerationFold:
        """A fold of the generations before ``generation`` (settled: their rounds are final),
        this one advanced when it is not past them yet."""
        fold = self if self.through <= generation else GenerationFold(
            self.space, self.directions, self.front.size)
        for g in range(fold.through, generation):
            complete = ledger.complete_trials(g, []).values()  # ticket order
            added = [(t, fold.add(t)) for t in complete]
            if len(self.directions) > 1:
                fold.front.select((t, key) for t, key in added if key is not None)
        fold.through = max(fold.through, generation)
        return fold


class Front:
    """Several objectives: the parent pool, at most ``size`` genome keys chosen by NSGA-II's
    survivor selection (:func:`~nasga.samplers.ga.pareto.select`, DEAP's ``selNSGA2``) from
    the pool before and the keys offered, on their means in ``fold``; each key stands for its
    latest trial (docs/design.md, "Several objectives")."""

    def __init__(self, fold: Fold, size: int) -> None:
        self.fold = fold
        self.size = size
        self.latest: dict[str, FrozenTrial] = {}  # the pool's keys -> their latest trials
        self.crowding: dict[str, float] = {}  # the pool's keys -> crowding when selected
        self._values: list[float] | None = None  # crowded_values of the pool, once per select

    def select(self, offered: Iterable[tuple[FrozenTrial, str]]) -> None:
        """The pool becomes NSGA-II's choice from itself and ``offered`` (trial, key)."""
        latest = dict(self.latest)
        for trial, key in offered:
            if key not in latest or latest[key].number < trial.number:
                latest[key] = trial
        keys = sorted(latest, key=lambda k: latest[k].number)
        values = clipped_vectors([self.fold.stats.get(k) for k in keys])
        chosen, crowding = pareto.select(values, self.size)
        self.latest = {keys[i]: latest[keys[i]] for i in sorted(chosen)}
        self.crowding = {keys[i]: c for i, c in zip(chosen, crowding)}
        self._values = None  # the means of the fold changed only with a select

    def parents(self) -> list[FrozenTrial]:
        """The pool's latest trials, by trial number."""
        return list(self.latest.values())

    def values(self, running: Collection[str] = ()) -> list[float]:
        """The parents' selection values in Deb et al.'s crowded-comparison order
        (:func:`~nasga.samplers.ga.pareto.crowded_values`); a key in ``running`` (being
        measured again: no mean yet) gets the worst, 0, as a NaN fitness does."""
        keys = list(self.latest)
        if self._values is None:
            self._values = pareto.crowded_values(
                clipped_vectors([self.fold.stats.get(k) for k in keys]),
                [self.crowding[k] for k in keys])
        return [0.0 if k in running else v for k, v in zip(keys, self._values)]


@dataclass
class SteadyPool:
    """Steady-state mode: the finished tickets below the one being bred, with its genome
    keys ordered from fittest (ties: the latest trial first); with several objectives, a
    :class:`Front` of ``size`` keys that each finished trial competes to enter (a (μ + 1)
    NSGA-II: the pool stays ``size`` keys, so a trial costs the same in any study size)."""

    fold: Fold
    latest: dict[str, FrozenTrial] = field(default_factory=dict)
    order: list[tuple[float, int, str]] = field(default_factory=list)  # (-fitness, number, key)
    entry: dict[str, tuple[float, int, str]] = field(default_factory=dict)  # key -> its place
    looked: int = 0  # tickets below this were looked at
    pending: list[int] = field(default_factory=list)  # ticket indices unfinished when looked at
    top: int = -1  # the highest ticket index folded in
    size: int = 0  # several objectives: the pool's size (the population)
    front: Front | None = None  # several objectives: the pool

    def __post_init__(self) -> None:
        if self.front is None and len(self.fold.directions) > 1:
            self.front = Front(self.fold, self.size)

    def below(self, ticket: int, ledger: Ledger, trials: list[FrozenTrial]) -> SteadyPool:
        """A pool of every finished ticket below ``ticket`` (this one, brought up to date,
        unless it already holds a ticket at or above ``ticket``)."""
        pool = self if self.top < ticket else SteadyPool(
            Fold(self.fold.space, self.fold.directions), size=self.size)
        pool.pending.extend(range(pool.looked, ticket))
        pool.looked = max(pool.looked, ticket)
        still = []
        for i in pool.pending:
            if i < ticket and trials[ledger.tickets[i]].state.is_finished():
                pool._add(i, trials[ledger.tickets[i]])
            else:
                still.append(i)
        pool.pending = still
        return pool

    def running(self, ticket: int, ledger: Ledger, trials: list[FrozenTrial]
                ) -> list[FrozenTrial]:
        """The unfinished trials with a full genome below ``ticket``, in ticket order."""
        return [trials[ledger.tickets[i]] for i in self.pending
                if i < ticket and has_genome(trials[ledger.tickets[i]], self.fold.space)]

    def fittest(self, n: int) -> list[FrozenTrial]:
        """The latest trials of the ``n`` fittest genome keys, by trial number (several
        objectives: the :class:`Front`'s)."""
        if self.front is not None:
            return self.front.parents()
        return sorted((self.latest[key] for _, _, key in self.order[:n]),
                      key=lambda t: t.number)

    def _add(self, ticket: int, trial: FrozenTrial) -> None:
        self.top = max(self.top, ticket)
        key = self.fold.add(trial)
        if key is None:
            return
        if self.front is not None:
            self.front.select([(trial, key)])
            return
        if key in self.entry:
            self._drop(self.entry[key])
            if self.latest[key].number > trial.number:
                trial = self.latest[key]
        self.latest[key] = trial
        self.entry[key] = (-self.fold.stats.get(key), trial.number, key)
        bisect.insort(self.order, self.entry[key])

    def _drop(self, entry: tuple[float, int, str]) -> None:
        i = bisect.bisect_left(self.order, entry)
        if i >= len(self.order) or self.order[i] is not entry:  # a NaN fitness defeats bisect
            i = self.order.index(entry)
        del self.order[i]


@dataclass
class StudyCache:
    """One study's in-process state: its ledger, breeding folds and bred generations."""

    ledger: Ledger
    fold: GenerationFold
    pool: SteadyPool
    offspring: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    checked: int = 0  # trials whose numbers were checked (claims.trial_list)
