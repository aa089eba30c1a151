"""Breeding for :class:`~nasga.samplers.ga.sampler.GeneticSampler`: selection values, parent fitness, and
children with duplicate elimination (docs/design.md, "The sampler: claims, generations,
retries").

Everything here reads finished trials only and draws from an explicit ``random.Random``, so
workers that breed the same generation breed the same children.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
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


def clipped_vectors(vectors: Sequence[Sequence[float]]) -> list[tuple[float, ...]]:
    """"Higher is better" vectors with each objective's non-finite values clipped to that
    objective's finite extremes among ``vectors`` (:func:`selection_values` per objective)."""
    if not vectors:
        return []
    columns = [selection_values(list(c), nonnegative=False) for c in zip(*vectors)]
    return list(zip(*columns))


def adjusted_vectors(values: Sequence[Sequence[float] | None],
                     directions: Sequence[StudyDirection]) -> list[tuple[float, ...]]:
    """Several objectives' values in "higher is better" form, each objective as
    :func:`adjusted` makes one (``None``: all NaN, then the worst)."""
    return clipped_vectors([
        tuple(signed(v, d) for v, d in zip(vs or [None] * len(directions), directions))
        for vs in values])


class ModelStats:
    """Direction-adjusted mean fitness per model, kept up to date trial by trial (paper 004
    §3.2.4): the one rule of :func:`model_values`.

    nasga's objective returns the mean over all of a key's trainings (``n_evaluations`` attr),
    so a model's latest such trial gives its mean; other objectives' values are averaged,
    summed in trial-number order. Adding a trial costs O(1) when trials come in number order
    (O(trials of that model) otherwise), so a sampler can fold finished trials in as they
    come instead of re-reading the study. ``objective``: the index of the value this keeps in
    a multi-objective study (``None``: the one value); :class:`VectorStats` keeps one per
    objective.
    """

    def __init__(self, direction: StudyDirection, objective: int | None = None) -> None:
        self.direction = direction
        self.objective = objective
        self._latest: dict[Hashable, tuple[int, float]] = {}  # model -> (number, value)
        self._values: dict[Hashable, list[tuple[int, float]]] = {}  # by number
        self._sums: dict[Hashable, float] = {}

    def add(self, model: Hashable, trial: FrozenTrial) -> None:
        """Fold ``trial`` (of ``model``) in."""
        value = signed(trial.value if self.objective is None else
                       (trial.values or [None] * (self.objective + 1))[self.objective],
                       self.direction)
        if R.N_EVALUATIONS in trial.user_attrs:
            if model not in self._latest or self._latest[model][0] < trial.number:
                self._latest[model] = (trial.number, value)
            return
        values = self._values.setdefault(model, [])
        if not values or values[-1][0] < trial.number:
            values.append((trial.number, value))
            self._sums[model] = self._sums.get(model, 0) + value
        else:  # out of number order: keep the sum a sum in number order
            values.insert(bisect.bisect(values, (trial.number, value)), (trial.number, value))
            self._sums[model] = sum(v for _, v in values)

    def get(self, model: Hashable, default: float = math.nan) -> float:
        """``model``'s fitness (``default`` when no trial of it was added)."""
        if model in self._latest:
            return self._latest[model][1]
        if model in self._values:
            return self._sums[model] / len(self._values[model])
        return default

    def with_trials(self, model: Hashable, trials: Iterable[FrozenTrial]) -> float:
        """``model``'s fitness were ``trials`` (all of ``model``) added too; nothing changes."""
        extra = ModelStats(self.direction, self.objective)
        if model in self._latest:
            extra._latest[model] = self._latest[model]
        if model in self._values:
            extra._values[model] = list(self._values[model])
            extra._sums[model] = self._sums[model]
        for t in trials:
            extra.add(model, t)
        return extra.get(model)

    def __contains__(self, model: Hashable) -> bool:
        return model in self._latest or model in self._values

    def as_dict(self) -> dict[Hashable, float]:
        out: dict[Hashable, float] = {i: self.get(i) for i in self._values}
        out.update({i: v for i, (_, v) in self._latest.items()})
        return out


class VectorStats:
    """:class:`ModelStats` of each objective of a multi-objective study: a model's values are
    the tuple of its per-objective means, each by :class:`ModelStats`' one rule."""

    def __init__(self, directions: Sequence[StudyDirection]) -> None:
        self.directions = tuple(directions)
        self._each = [ModelStats(d, i) for i, d in enumerate(self.directions)]

    def add(self, model: Hashable, trial: FrozenTrial) -> None:
        for stats in self._each:
            stats.add(model, trial)

    def get(self, model: Hashable, default: Any = None) -> tuple[float, ...]:
        """``model``'s per-objective means (``default``, or all NaN, when none was added)."""
        if model not in self._each[0]:
            return default if default is not None else (math.nan,) * len(self._each)
        return tuple(stats.get(model) for stats in self._each)

    def with_trials(self, model: Hashable, trials: Iterable[FrozenTrial]) -> tuple[float, ...]:
        trials = list(trials)
        return tuple(stats.with_trials(model, trials) for stats in self._each)

    def __contains__(self, model: Hashable) -> bool:
        return model in self._each[0]


def model_stats(directions: Sequence[StudyDirection]) -> ModelStats | VectorStats:
    """The per-model means of a study with these directions: one value, or one per objective."""
    if len(directions) == 1:
        return ModelStats(directions[0])
    return VectorStats(directions)


def model_values(trials: Iterable[FrozenTrial], identity: Callable[[FrozenTrial], Hashable],
                 direction: StudyDirection) -> dict[Hashable, float]:
    """Direction-adjusted mean fitness per model (``identity``) of the given trials
    (:class:`ModelStats`' rule, paper 004 §3.2.4)."""
    stats = ModelStats(direction)
    for t in trials:
        stats.add(identity(t), t)
    return stats.as_dict()


def key_values(trials: Iterable[FrozenTrial], space: Space, direction: StudyDirection
               ) -> dict[str, float]:
    """:func:`model_values` per genome key, over the trials with a full genome."""
    return model_values((t for t in trials if has_genome(t, space)),  # type: ignore[return-value]
                        lambda t: genome_key(t, space), direction)


def measurement_key(trial: FrozenTrial, space: Space,
                    key: Callable[[FrozenTrial], str] | None = None) -> str | None:
    """The genome key ``trial`` measures once, or None: a trial without a full genome, or one
    of nasga's cache answers (which repeat a measurement). Other objectives' trials each count.
    ``key``: a cached :func:`genome_key`."""
    if not has_genome(trial, space) or not measures(trial):
        return None
    return key(trial) if key is not None else genome_key(trial, space)


def measures(trial: FrozenTrial) -> bool:
    """Whether a trial is one measurement of its genome (not one of nasga's cache answers)."""
    attrs = trial.user_attrs
    return R.N_EVALUATIONS not in attrs or is_measurement(attrs)


def measurement_counts(trials: Iterable[FrozenTrial], space: Space) -> Counter[str]:
    """Measurements per genome key (:func:`measurement_key`)."""
    counts: Counter[str] = Counter()
    for t in trials:
        key = measurement_key(t, space)
        if key is not None:
            counts[key] += 1
    return counts


@dataclass
class Admission:
    """Which children may be proposed: within the cost budget, and new where re-breeding is on.

    Attributes:
        known: Measurements per genome key added here (as children are admitted).
        known_after: A key with this many measurements is known (``None``: no re-breeding).
        feasible: The hard cost budget (``None``: every genome fits).
        base: Measurements per genome key so far, read only (a sampler's running count,
            shared rather than copied).
    """

    known: Counter[str] = field(default_factory=Counter)
    known_after: int | None = None
    feasible: Callable[[Genome], bool] | None = None
    base: Mapping[str, int] = field(default_factory=dict)

    def fits(self, genome: Genome) -> bool:
        return self.feasible is None or bool(self.feasible(genome))

    def new(self, genome: Genome) -> bool:
        if self.known_after is None:
            return True
        return self.base.get(genome.key, 0) + self.known[genome.key] < self.known_after

    def admit(self, genome: Genome, operator: str) -> bool:
        """Within budget, and new unless an elite (carrying the best over is its purpose)."""
        return self.fits(genome) and (operator == "elite" or self.new(genome))

    def record(self, genome: Genome) -> None:
        if self.known_after is not None:
            self.known[genome.key] += self.known_after


def graded_size(index: int, population: int, rng: random.Random, objectives: int
                ) -> float | None:
    """The ``size`` of member ``index`` of a first population (``Space.graded_genome``): with
    several ``objectives``, one uniform draw in stratum ``index mod population`` of ``[0, 1]``,
    so the members of a first population of ``population`` spread over the cost axis
    (docs/design.md, "Several objectives"); with one, ``None`` (the paper's initialisation,
    no draw)."""
    if objectives < 2:
        return None
    return (index % population + rng.random()) / population


def draw_genome(space: Space, rng: random.Random, size: float | None, attempt: int,
                tries: int) -> Genome:
    """Draw ``attempt`` (0-based) of ``tries`` for a random genome: as the paper initialises a
    population, or, with a ``size``, graded (:meth:`Space.graded_genome`) for the first half of
    the tries and as the paper for the rest, so a size the cost budget or the cache rules out
    still yields a genome."""
    if size is not None and attempt < max(1, tries // 2):
        return space.graded_genome(rng, size)
    return space.random_genome(rng)


def random_genome(space: Space, rng: random.Random, admission: Admission | None = None,
                  size: float | None = None) -> Genome:
    """A random genome within the budget (and new, when one is found in time), drawn by
    :func:`draw_genome`.

    Raises:
        NasgaInputError: No genome within the cost budget in :data:`RANDOM_TRIES` draws.
    """
    fallback = None
    for attempt in range(RANDOM_TRIES):
        genome = draw_genome(space, rng, size, attempt, RANDOM_TRIES)
        if admission is None or admission.admit(genome, "random"):
            return genome
        if fallback is None and admission.fits(genome):
            fallback = genome
    if fallback is None:
        raise NasgaInputError("budget", f"no genome of {space!r} fits the cost budget in "
                              f"{RANDOM_TRIES} random draws; raise max_macs / max_params")
    return fallback


def random_children(space: Space, n: int, rng: random.Random,
                    admission: Admission | None = None,
                    sizes: Sequence[float | None] | None = None) -> list[dict[str, Any]]:
    """``n`` random genomes (paper 004 §3.2.1, paper 000 §3.2) within the budget; with
    ``sizes`` (one per child, :func:`graded_size`), graded ones."""
    out = []
    for i in range(n):
        genome = random_genome(space, rng, admission, None if sizes is None else sizes[i])
        if admission is not None:
            admission.record(genome)
        out.append({"genes": space.to_vector(genome), "operator": "random", "parents": []})
    return out


def breed_children(strategy: Any, space: Space, parents: list[FrozenTrial],
                   values: Sequence[float], rng: random.Random, *,
                   admission: Admission | None = None, n: int | None = None,
                   keep_elites: bool = True, genes: Sequence[Sequence[int]] | None = None
                   ) -> list[dict[str, Any]]:
    """``n`` children (default: a population) of ``parents`` by the strategy's ``breed``.

    A child the ``admission`` refuses — over the cost budget, or (re-breeding on) a genome that
    already has ``known_after`` measurements or that another child of this call already is — is
    re-bred, up to :data:`REBREED_TRIES` times, then replaced by a random admissible genome:
    duplicate elimination as in NNI and NSGA-Net (a search with a cache keeps training new
    genomes until the space runs out), and a hard budget as in GAN Compression's evolution
    (children over it are never proposed). Elites are kept as they are: carrying the best
    genome over is their purpose (steady-state breeding, ``keep_elites=False``, has none:
    survivors stay in the population instead). ``genes``: the parents' gene vectors, when the
    caller has them.
    """
    n = strategy.population if n is None else n
    admission = admission or Admission()
    if genes is None:
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
