"""How :class:`~nasga.samplers.aging.sampler.AgingEvolutionSampler` makes a child: a random
model of the first population, or one cycle of Real et al. 2019's Algorithm 1 (a tournament and
one mutation), re-bred while the child is taken."""

from __future__ import annotations

import random
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial

from nasga.samplers.aging._identity import child_identity, trial_identity
from nasga.samplers.aging.operators import mutate_one_gene, resample, winner
from nasga.samplers.ga.breeding import draw_genome
from nasga.spaces import Space


@dataclass(frozen=True)
class Breeding:
    """The sampler's breeding settings (checked by its constructor).

    Attributes:
        space: The nasga genome space, or ``None`` for any Optuna search space.
        sample_size: ``S``, the tournament's size.
        max_rebreeds: Extra tournaments for a child that is taken.
        reevaluate: Probability that a cycle proposes the tournament's winner itself.
    """

    space: Space | None
    sample_size: int
    max_rebreeds: int
    reevaluate: float

    def random_child(self, search_space: dict[str, BaseDistribution], rng: random.Random,
                     taken: Container[Any], tries: int | None = None,
                     size: float | None = None) -> dict[str, Any] | None:
        """A random model (Algorithm 1's initial population; graded by ``size``,
        :meth:`Space.graded_genome`), drawn again while taken, at most ``tries`` times (default
        ``max_rebreeds + 1``); ``None``: the independent sampler draws it (any search space)."""
        if self.space is None:
            return None
        child: dict[str, Any] = {}
        tries = tries or self.max_rebreeds + 1
        for attempt in range(tries):
            child = self.space.to_params(draw_genome(self.space, rng, size, attempt, tries))
            if child_identity(self.space, child) not in taken:
                break
        return {k: v for k, v in child.items() if k in search_space}

    def bred_child(self, population: list[FrozenTrial], values: list[Any],
                   search_space: dict[str, BaseDistribution], rng: random.Random,
                   taken: Container[Any]) -> tuple[dict[str, Any], FrozenTrial]:
        """One cycle of Algorithm 1 (tournament of ``S``, mutate the best), re-bred while the
        child equals a COMPLETE or RUNNING trial, at most ``max_rebreeds`` more times; with
        probability ``reevaluate`` the winner itself, while it is not taken."""
        if self.reevaluate and rng.random() < self.reevaluate:
            parent = population[winner(values, self.sample_size, rng)]
            if trial_identity(self.space, parent, search_space) not in taken:
                return {k: v for k, v in parent.params.items() if k in search_space}, parent
        for _ in range(self.max_rebreeds + 1):
            parent = population[winner(values, self.sample_size, rng)]
            child = self.mutate(parent.params, search_space, rng)
            if child_identity(self.space, child) not in taken:
                break
        return child, parent

    def mutate(self, params: dict[str, Any], search_space: dict[str, BaseDistribution],
               rng: random.Random) -> dict[str, Any]:
        """The parent's params with one thing changed (Real et al. 2019, §2)."""
        if self.space is None:
            child = {n: params[n] for n in search_space}
            name = rng.choice(sorted(search_space))
            child[name] = resample(search_space[name], child[name], rng)
            return child
        genes = self.space.to_vector(self.space.from_params(params))
        mutate_one_gene(self.space, genes, rng)
        child = self.space.to_params(self.space.genome(genes))
        return {k: v for k, v in child.items() if k in search_space}


__all__ = ["Breeding"]
