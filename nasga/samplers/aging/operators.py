"""Aging evolution's operators (Real et al. 2019, Algorithm 1): tournament and one-gene mutation.

Small, one contract each, with an explicit :class:`random.Random` (DEAP's style); used by
:class:`~nasga.samplers.aging.sampler.AgingEvolutionSampler` and tested directly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from optuna.distributions import (
    BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution,
)
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial

from nasga.samplers.ga.breeding import adjusted, adjusted_vectors
from nasga.samplers.ga.pareto import nondominated
from nasga.spaces import Space


def tournament(values: Sequence[float], sample_size: int, rng: random.Random) -> int:
    """Index of the best of ``min(sample_size, len(values))`` uniformly drawn values (without
    replacement; ties: the first drawn), Real et al. 2019, Algorithm 1 lines 9-14."""
    drawn = rng.sample(range(len(values)), min(sample_size, len(values)))
    return max(drawn, key=lambda i: values[i])


def pareto_tournament(values: Sequence[Sequence[float]], sample_size: int,
                      rng: random.Random) -> int:
    """The tournament on several objectives (docs/design.md, "Several objectives"): the sample
    drawn as :func:`tournament` draws it, the winner drawn uniformly among the sample's
    non-dominated members (:func:`~nasga.samplers.ga.pareto.nondominated`, DEAP's sort).

    Args:
        values: Each member's "higher is better" vector
            (:func:`~nasga.samplers.ga.breeding.adjusted_vectors`).
        sample_size: Members drawn, without replacement (at most all of them).
        rng: Source of randomness.
    """
    drawn = rng.sample(range(len(values)), min(sample_size, len(values)))
    front = nondominated([values[i] for i in drawn])
    return drawn[rng.choice(front)]


def tournament_values(population: Sequence[FrozenTrial],
                      directions: Sequence[StudyDirection]) -> list[Any]:
    """What the tournament compares: each trial's value in "higher is better" form
    (:func:`~nasga.samplers.ga.breeding.adjusted`), or with several objectives its vector
    (:func:`~nasga.samplers.ga.breeding.adjusted_vectors`)."""
    if len(directions) == 1:
        return adjusted([t.value for t in population], directions[0])
    return adjusted_vectors([t.values for t in population], directions)


def winner(values: Sequence[Any], sample_size: int, rng: random.Random) -> int:
    """The tournament's winner: :func:`tournament` on values, :func:`pareto_tournament` on
    vectors (several objectives)."""
    if values and isinstance(values[0], tuple):
        return pareto_tournament(values, sample_size, rng)
    return tournament(values, sample_size, rng)


def mutate_one_gene(space: Space, genes: list[int], rng: random.Random) -> list[int]:
    """Change exactly one gene of ``genes`` in place with the space's mutation operator
    (the space's ``mutate_one`` hook).

    Genetic-CNN: :func:`~nasga.samplers.ga.operators.mut_flip_bit` with ``q_M = 1`` on one uniformly drawn
    bit. U-Net: :func:`~nasga.samplers.ga.operators.mut_channel_set` on one uniformly drawn gene (a channel
    gene moves to another choice, a skip bit flips; channel genes only with >= 2 choices).
    """
    return space.mutate_one(genes, rng)


def resample(dist: BaseDistribution, current: Any, rng: random.Random) -> Any:
    """A new value of a parameter drawn from its distribution.

    Discrete distributions (int, stepped float, categorical) with more than one value give a
    value other than ``current``: uniform over the others, log-uniform for a log int (redrawn
    until it differs, up to 32 times). Continuous floats: uniform, or log-uniform with ``log``.
    """
    if isinstance(dist, CategoricalDistribution):
        index = dist.to_internal_repr(current) if current in dist.choices else -1
        others = [i for i in range(len(dist.choices)) if i != index] or [0]
        return dist.choices[rng.choice(others)]
    if isinstance(dist, IntDistribution) and dist.log:
        value = current
        for _ in range(32):
            x = math.exp(rng.uniform(math.log(dist.low - 0.5), math.log(dist.high + 0.5)))
            value = min(max(round(x), dist.low), dist.high)
            if value != current or dist.low == dist.high:
                return value
    step = dist.step if isinstance(dist, (IntDistribution, FloatDistribution)) else None
    if isinstance(dist, FloatDistribution) and step is None:
        if dist.log:
            return min(dist.high, math.exp(rng.uniform(math.log(dist.low), math.log(dist.high))))
        return min(dist.high, rng.uniform(dist.low, dist.high))
    assert isinstance(dist, (IntDistribution, FloatDistribution)) and step is not None
    n = round((dist.high - dist.low) / step) + 1
    here = round((float(current) - dist.low) / step)
    others = [k for k in range(n) if k != here] or [0]
    k = rng.choice(others)
    if isinstance(dist, IntDistribution):
        return int(dist.low + k * step)
    return float(min(dist.high, dist.low + k * step))


__all__ = ["mutate_one_gene", "pareto_tournament", "resample", "tournament",
           "tournament_values", "winner"]
