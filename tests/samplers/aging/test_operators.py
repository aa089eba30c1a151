"""Aging evolution's operators (Real et al. 2019, Algorithm 1): tournament, one-gene mutation,
resampling of any Optuna distribution."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from nasga.samplers.aging.operators import mutate_one_gene, resample, tournament
from nasga.spaces import GeneticCNNSpace, UNetSpace


def test_tournament_with_a_stubbed_rng() -> None:
    class Stub:
        def sample(self, population, k):
            assert list(population) == [0, 1, 2, 3, 4] and k == 3
            return [4, 0, 2]

    assert tournament([5.0, 0.0, 9.0, 8.0, 1.0], 3, Stub()) == 2  # type: ignore[arg-type]
    assert tournament([7.0, 7.0, 7.0, 0.0, 7.0], 3, Stub()) == 4  # ties: the first drawn
    assert tournament([1.0, 2.0], 5, random.Random(0)) == 1  # S > population: all of them


@pytest.mark.parametrize("space", [GeneticCNNSpace((3, 4, 5)), UNetSpace(depth=5,
                                                                      channels=(8, 16, 32))])
def test_mutation_changes_exactly_one_gene(space) -> None:
    rng = random.Random(0)
    hit = Counter()
    for _ in range(300):
        genes = space.to_vector(space.random_genome(rng))
        child = mutate_one_gene(space, list(genes), rng)
        diff = [i for i, (a, b) in enumerate(zip(genes, child)) if a != b]
        assert len(diff) == 1
        hit[diff[0]] += 1
        space.genome(child)  # valid
    assert len(hit) == len(genes)  # every gene can mutate


@pytest.mark.parametrize("dist", [
    FloatDistribution(-1, 1), FloatDistribution(1e-7, 1, log=True),
    FloatDistribution(-10.2, 10.2, step=0.1),
    FloatDistribution(0, 1, step=0.5), IntDistribution(-10, 10), IntDistribution(0, 10, step=2),
    IntDistribution(1, 100, log=True), IntDistribution(1, 2, log=True),
    CategoricalDistribution((1, "a", None)), CategoricalDistribution(("x", "y")),
])
def test_resample_stays_in_the_distribution_and_moves_discrete_values(dist) -> None:
    rng = random.Random(0)
    current = dist.to_external_repr(dist.to_internal_repr(
        dist.choices[0] if isinstance(dist, CategoricalDistribution) else dist.low))
    seen = set()
    for _ in range(200):
        value = resample(dist, current, rng)
        assert dist._contains(dist.to_internal_repr(value))
        assert type(value).__module__ == "builtins"
        if not isinstance(dist, FloatDistribution) or dist.step is not None:
            assert value != current
        seen.add(value)
    assert len(seen) >= 2 or isinstance(dist, (CategoricalDistribution, IntDistribution))


def test_single_value_distributions_keep_their_value() -> None:
    rng = random.Random(0)
    assert resample(IntDistribution(3, 3), 3, rng) == 3
    assert resample(CategoricalDistribution(("only",)), "only", rng) == "only"
