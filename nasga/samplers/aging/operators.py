"""Aging evolution's operators (Real et al. 2019, Algorithm 1): tournament and one-gene mutation.

Small, one contract each, with an explicit :class:`random.Random` (DEAP's style); used by
:class:`~nasga.samplers.aging.sampler.AgingEvolutionSampler` and tested directly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from optuna.distributions import (
    BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution,
)
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

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


@dataclass(frozen=True)
class Curve:
    """A population member as the rung tournament sees it (``rungs=True``): its reported
    values by step and, when its training finished, its final value, all "higher is better".

    Attributes:
        steps: Intermediate value per step (epoch), as the trial reported them.
        final: The trial's value (COMPLETE), ``None`` for a trial the pruner stopped.
    """

    steps: Mapping[int, float]
    final: float | None

    @property
    def last(self) -> float:
        """The highest rung it reached: the last step it reported, infinity once finished."""
        return math.inf if self.final is not None else max(self.steps, default=-math.inf)

    def at(self, step: float) -> float:
        """Its value at ``step`` (a step it reported), else its final value (a finished
        member without a curve there, e.g. an answer from the cache)."""
        value = self.steps.get(step) if math.isfinite(step) else None
        if value is None:
            value = self.final if self.final is not None else -math.inf
        return value


def rung_tournament(curves: Sequence[Curve], sample_size: int, rng: random.Random) -> int:
    """The tournament at the sample's highest common rung (docs/design.md, "Pruning"): the
    sample drawn as :func:`tournament` draws it, every member compared at the lowest of their
    :attr:`Curve.last` steps (finished members only: their final values), the best winning
    (ties: the first drawn). A member the pruner stopped early is thus compared with the others
    where it stopped, not with their final values."""
    drawn = rng.sample(range(len(curves)), min(sample_size, len(curves)))
    common = min(curves[i].last for i in drawn)
    return max(drawn, key=lambda i: curves[i].at(common))


def rung_curves(population: Sequence[FrozenTrial], direction: StudyDirection) -> list[Curve]:
    """Each member's :class:`Curve`, adjusted to ``direction`` (minimize: negated); a
    non-finite value is left out (a step) or clipped as
    :func:`~nasga.samplers.ga.breeding.adjusted` clips it (the final value)."""
    sign = -1.0 if direction == StudyDirection.MINIMIZE else 1.0
    done = [t.state == TrialState.COMPLETE for t in population]  # a PRUNED one has a value too:
    finals = adjusted([t.value if d else None for t, d in zip(population, done)], direction)
    return [Curve({s: sign * v for s, v in t.intermediate_values.items() if math.isfinite(v)},
                  final if d else None)  # Optuna's copy of its last report, not a final value
            for t, final, d in zip(population, finals, done)]


def tournament_values(population: Sequence[FrozenTrial],
                      directions: Sequence[StudyDirection], *, rungs: bool = False) -> list[Any]:
    """What the tournament compares: each trial's value in "higher is better" form
    (:func:`~nasga.samplers.ga.breeding.adjusted`), with several objectives its vector
    (:func:`~nasga.samplers.ga.breeding.adjusted_vectors`), with ``rungs`` its
    :class:`Curve`."""
    if rungs:
        return rung_curves(population, directions[0])
    if len(directions) == 1:
        return adjusted([t.value for t in population], directions[0])
    return adjusted_vectors([t.values for t in population], directions)


def winner(values: Sequence[Any], sample_size: int, rng: random.Random) -> int:
    """The tournament's winner: :func:`tournament` on values, :func:`pareto_tournament` on
    vectors (several objectives), :func:`rung_tournament` on curves."""
    if values and isinstance(values[0], Curve):
        return rung_tournament(values, sample_size, rng)
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


__all__ = ["Curve", "mutate_one_gene", "pareto_tournament", "resample", "rung_curves",
           "rung_tournament", "tournament", "tournament_values", "winner"]
