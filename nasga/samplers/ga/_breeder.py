"""How :class:`~nasga.samplers.ga.sampler.GeneticSampler` breeds: a generation's children, or
one steady-state child, from the folded fitness of finished trials (docs/design.md, "The sampler:
claims, generations, retries").

Selection weighs each parent by its genome's *mean* fitness over its trainings (paper 004
§3.2.4); the strategy's operators (paper 004 Alg. 1, paper 000 Alg. 1) make the children, and
:class:`~nasga.samplers.ga.breeding.Admission` keeps duplicates and infeasible genomes out.
Every random choice comes from a ``random.Random`` seeded by the study's base seed and the
generation (or ticket), so all workers breed the same children.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from optuna.study import StudyDirection
from optuna.trial import FrozenTrial

from nasga.samplers.ga._pool import Fold, StudyCache
from nasga.samplers.ga.breeding import (
    Admission, breed_children, graded_size, has_genome, measurement_key, random_children,
    signed,
)
from nasga.samplers.ga.claims import Ledger
from nasga.spaces import Genome, Space


@dataclass(frozen=True)
class Breeder:
    """The breeding half of a :class:`~nasga.samplers.ga.sampler.GeneticSampler` (the other
    half claims work items); callers hold the sampler's lock."""

    space: Space
    strategy: Any
    mode: str
    rebreed_after: int | None
    feasible: Callable[[Genome], bool] | None

    @property
    def population(self) -> int:
        return int(self.strategy.population)

    def generation(self, generation: int, cache: StudyCache,
                   directions: Sequence[StudyDirection]) -> list[dict[str, Any]]:
        """Children of ``generation`` from the settled generations before it (their rounds'
        trials are recorded by the ledger once finished, so no read is needed here). Several
        objectives: the parents are the fold's NSGA-II pool (:class:`~nasga.samplers.ga._pool.Front`)."""
        ledger = cache.ledger
        rng = random.Random(f"nasga:{ledger.base_seed}:{generation}")
        fold = cache.fold.before(generation, ledger)
        parents: list[FrozenTrial] = []
        if generation > 0 and self.mode == "generational":
            parents = (fold.front.parents() if len(directions) > 1
                       else self._parents(ledger, generation - 1))
        if not parents:  # generation 0, or none of the previous generation's children completed
            n = self.population
            sizes = [graded_size(i, n, rng, len(directions)) for i in range(n)]
            return random_children(self.space, n, rng, self._admission(fold), sizes)
        if len(directions) > 1:
            return self._bred(parents, fold.front.values(), fold, rng)
        return self._offspring_of(parents, fold, directions[0], rng)

    def steady(self, ticket: int, cache: StudyCache, trials: list[FrozenTrial],
               directions: Sequence[StudyDirection]) -> dict[str, Any]:
        """Steady-state: one child of the ``population`` fittest genomes finished before this
        ticket (the worst is replaced, GENITOR-style), bred by the strategy's operators;
        several objectives: of the pool's NSGA-II front (:class:`~nasga.samplers.ga._pool.Front`)."""
        pool = cache.pool.below(ticket, cache.ledger, trials)
        parents = pool.fittest(self.population)
        running = pool.running(ticket, cache.ledger, trials)
        rng = random.Random(f"nasga:{cache.ledger.base_seed}:ticket:{ticket}")
        if not parents:
            sizes = [graded_size(ticket, self.population, rng, len(directions))]
            return random_children(self.space, 1, rng, self._admission(pool.fold), sizes)[0]
        if pool.front is not None:
            again = {pool.fold.key(r) for r in running}  # measured again: no mean yet
            return self._bred(parents, pool.front.values(again), pool.fold, rng, n=1,
                              running=running)[0]
        return self._offspring_of(parents, pool.fold, directions[0], rng, n=1,
                                  running=running)[0]

    def _offspring_of(self, parents: list[FrozenTrial], fold: Fold, direction: StudyDirection,
                      rng: random.Random, n: int | None = None,
                      running: Sequence[FrozenTrial] = ()) -> list[dict[str, Any]]:
        """Children of ``parents`` by the strategy, each parent weighed by its key's fitness
        over ``fold`` and ``running`` (unfinished trials: admitted as measured, and a key being
        measured again has no fitness yet)."""
        values = []
        running_keys = [(fold.key(r), r) for r in running]
        for t in parents:
            key = fold.key(t)
            again = [r for k, r in running_keys if k == key]
            values.append(fold.stats.with_trials(key, again) if again
                          else fold.stats.get(key, signed(t.value, direction)))
        return self._bred(parents, values, fold, rng, n=n, running=running)

    def _bred(self, parents: list[FrozenTrial], values: Sequence[float], fold: Fold,
              rng: random.Random, n: int | None = None,
              running: Sequence[FrozenTrial] = ()) -> list[dict[str, Any]]:
        """Children of ``parents`` weighed by ``values``, by the strategy, admitted."""
        return breed_children(
            self.strategy, self.space, parents, values, rng, n=n,
            admission=self._admission(fold, running),
            keep_elites=self.mode == "generational", genes=[fold.vector(t) for t in parents])

    def _admission(self, fold: Fold, running: Sequence[FrozenTrial] = ()) -> Admission:
        known = Counter(k for k in (measurement_key(t, self.space, fold.key) for t in running)
                        if k is not None)
        return Admission(known, self.rebreed_after, self.feasible, base=fold.counts)

    def _parents(self, ledger: Ledger, generation: int) -> list[FrozenTrial]:
        """Generation ``generation``'s COMPLETE children with a full genome, by slot."""
        complete = ledger.complete_trials(generation, [])
        return [complete[s] for s in sorted(complete) if has_genome(complete[s], self.space)]
