"""Breeding for :class:`~nasga.samplers.ga.sampler.GeneticSampler`: selection values, parent fitness, and
children with duplicate elimination (docs/design.md, "The sampler: claims, generations,
retries").

Everything here reads finished trials only and draws from an explicit ``random.Random``, so
workers that breed the same generation breed the same children.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from optuna.study import StudyDirection
from optuna.trial import FrozenTrial

import nasga.evaluation.records as R
from nasga.evaluation.records import is_measurement
from nasga.spaces import Genome, NasgaInputError, Space

REBREED_TRIES = 10
"""Re-breeds of a refused child before a random admissible genome takes its place."""
RANDOM_TRIES = 1000
"""Random draws for an admissible genome before giving up (budget) or taking a known one."""


def signed(value: float | None, direction: StudyDirection) -> float:
    """The value in "higher is better" form (minimize: negated; None: NaN)."""
    v = math.nan if value is None else float(value)
    return -v if direction == StudyDirection.MINIMIZE else v


def genome_key(trial: FrozenTrial, space: Space) -> str:
    """The canonical key of a trial's genome (the objective's ``key`` attr, else decoded)."""
    key = trial.user_attrs.get(R.KEY)
    return str(key) if key is not None else space.from_params(trial.params).key


def has_genome(trial: FrozenTrial, space: Space) -> bool:
    """Whether the trial suggested every gene of the space."""
    return set(space.distributions) <= set(trial.params)


def selection_values(values: Sequence[float], *, nonnegative: bool) -> list[float]:
    """Direction-adjusted values made fit for roulette selection (the documented rule).

    Non-finite values are clipped to the finite extremes (all non-finite: all equal). With
    ``nonnegative`` (paper 000's ``f/Σf``, eq. 4), values are shifted by the minimum when any
    is < 0, so the worst gets weight 0 as in paper 004's offset roulette (§3.2.2).
    """
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return [0.0] * len(values)
    low, high = min(finite), max(finite)
    out = [v if math.isfinite(v) else (high if v > 0 else low) for v in values]
    if nonnegative and low < 0:
        out = [v - low for v in out]
    return out


def adjusted(values: Sequence[float | None], direction: StudyDirection) -> list[float]:
    """Values in "higher is better" form (:func:`signed`) with non-finite ones clipped to the
    finite extremes (:func:`selection_values` without its shift)."""
    return selection_values([signed(v, direction) for v in values], nonnegative=False)


def model_values(trials: Iterable[FrozenTrial], identity: Callable[[FrozenTrial], Hashable],
                 direction: StudyDirection) -> dict[Hashable, float]:
    """Direction-adjusted mean fitness per model (``identity``) of the given trials (paper 004
    §3.2.4).

    nasga's objective returns the mean over all of a key's trainings (``n_evaluations`` attr),
    so its latest trial's value is the key's mean; other objectives' values are averaged.
    """
    latest: dict[Hashable, FrozenTrial] = {}
    sums: dict[Hashable, list[float]] = defaultdict(list)
    for t in trials:
        i = identity(t)
        if R.N_EVALUATIONS in t.user_attrs:
            if i not in latest or latest[i].number < t.number:
                latest[i] = t
        else:
            sums[i].append(signed(t.value, direction))
    out = {i: sum(v) / len(v) for i, v in sums.items()}
    out.update({i: signed(t.value, direction) for i, t in latest.items()})
    return out


def key_values(trials: Iterable[FrozenTrial], space: Space, direction: StudyDirection
               ) -> dict[str, float]:
    """:func:`model_values` per genome key, over the trials with a full genome."""
    return model_values((t for t in trials if has_genome(t, space)),  # type: ignore[return-value]
                        lambda t: genome_key(t, space), direction)


def measurement_counts(trials: Iterable[FrozenTrial], space: Space) -> Counter[str]:
    """Measurements per genome key: nasga's trainings and reuses, else every trial."""
    counts: Counter[str] = Counter()
    for t in trials:
        if not has_genome(t, space):
            continue
        attrs = t.user_attrs
        if R.N_EVALUATIONS in attrs and not is_measurement(attrs):
            continue  # a cache answer repeats a measurement
        counts[genome_key(t, space)] += 1
    return counts


@dataclass
class Admission:
    """Which children may be proposed: within the cost budget, and new where re-breeding is on.

    Attributes:
        known: Measurements per genome key so far (updated as children are admitted).
        known_after: A key with this many measurements is known (``None``: no re-breeding).
        feasible: The hard cost budget (``None``: every genome fits).
    """

    known: Counter[str] = field(default_factory=Counter)
    known_after: int | None = None
    feasible: Callable[[Genome], bool] | None = None

    def fits(self, genome: Genome) -> bool:
        return self.feasible is None or bool(self.feasible(genome))

    def new(self, genome: Genome) -> bool:
        return self.known_after is None or self.known[genome.key] < self.known_after

    def admit(self, genome: Genome, operator: str) -> bool:
        """Within budget, and new unless an elite (carrying the best over is its purpose)."""
        return self.fits(genome) and (operator == "elite" or self.new(genome))

    def record(self, genome: Genome) -> None:
        if self.known_after is not None:
            self.known[genome.key] += self.known_after


def random_genome(space: Space, rng: random.Random, admission: Admission | None = None
                  ) -> Genome:
    """A random genome within the budget (and new, when one is found in time).

    Raises:
        NasgaInputError: No genome within the cost budget in :data:`RANDOM_TRIES` draws.
    """
    fallback = None
    for _ in range(RANDOM_TRIES):
        genome = space.random_genome(rng)
        if admission is None or admission.admit(genome, "random"):
            return genome
        if fallback is None and admission.fits(genome):
            fallback = genome
    if fallback is None:
        raise NasgaInputError("budget", f"no genome of {space!r} fits the cost budget in "
                              f"{RANDOM_TRIES} random draws; raise max_macs / max_params")
    return fallback


def random_children(space: Space, n: int, rng: random.Random,
                    admission: Admission | None = None) -> list[dict[str, Any]]:
    """``n`` random genomes (paper 004 §3.2.1, paper 000 §3.2) within the budget."""
    out = []
    for _ in range(n):
        genome = random_genome(space, rng, admission)
        if admission is not None:
            admission.record(genome)
        out.append({"genes": space.to_vector(genome), "operator": "random", "parents": []})
    return out


def breed_children(strategy: Any, space: Space, parents: list[FrozenTrial],
                   values: Sequence[float], rng: random.Random, *,
                   admission: Admission | None = None, n: int | None = None,
                   keep_elites: bool = True) -> list[dict[str, Any]]:
    """``n`` children (default: a population) of ``parents`` by the strategy's ``breed``.

    A child the ``admission`` refuses — over the cost budget, or (re-breeding on) a genome that
    already has ``known_after`` measurements or that another child of this call already is — is
    re-bred, up to :data:`REBREED_TRIES` times, then replaced by a random admissible genome:
    duplicate elimination as in NNI and NSGA-Net (a search with a cache keeps training new
    genomes until the space runs out), and a hard budget as in GAN Compression's evolution
    (children over it are never proposed). Elites are kept as they are: carrying the best
    genome over is their purpose (steady-state breeding, ``keep_elites=False``, has none:
    survivors stay in the population instead).
    """
    n = strategy.population if n is None else n
    admission = admission or Admission()
    genes = [space.to_vector(space.from_params(t.params)) for t in parents]
    weights = selection_values(values,
                               nonnegative=getattr(strategy, "nonnegative_selection", False))
    out: list[dict[str, Any]] = []
    pool: list[Any] = []
    for _ in range(n):
        record = None
        for _attempt in range(REBREED_TRIES + 1):
            if not pool:
                pool = list(strategy.breed(genes, weights, space=space, rng=rng))
                if out or not keep_elites:  # a brood's elites lead only the first one
                    pool = [c for c in pool if c.operator != "elite"] or pool
            child = pool.pop(0)
            if admission.admit(space.genome(child.genes), child.operator):
                record = {"genes": list(child.genes), "operator": child.operator,
                          "parents": [parents[i].number for i in child.parents]}
                break
        if record is None:
            genome = random_genome(space, rng, admission)
            record = {"genes": space.to_vector(genome), "operator": "random", "parents": []}
        admission.record(space.genome(record["genes"]))
        out.append(record)
    return out
