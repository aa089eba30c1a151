"""Breeding for :class:`~nasga.sampler.GeneticSampler`: selection values, parent fitness, and
children with duplicate elimination (docs/design.md, "The sampler: claims, generations,
retries").

Everything here reads finished trials only and draws from an explicit ``random.Random``, so
workers that breed the same generation breed the same children.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from optuna.study import StudyDirection
from optuna.trial import FrozenTrial

from nasga.objective import is_measurement
from nasga.spaces import Space

REBREED_TRIES = 10
"""Re-breeds of a child whose genome is already known before it is proposed anyway."""


def signed(value: float | None, direction: StudyDirection) -> float:
    """The value in "higher is better" form (minimize: negated; None: NaN)."""
    v = math.nan if value is None else float(value)
    return -v if direction == StudyDirection.MINIMIZE else v


def genome_key(trial: FrozenTrial, space: Space) -> str:
    """The canonical key of a trial's genome (the objective's ``key`` attr, else decoded)."""
    key = trial.user_attrs.get("key")
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


def key_values(trials: Iterable[FrozenTrial], space: Space, direction: StudyDirection
               ) -> dict[str, float]:
    """Direction-adjusted mean fitness per genome key over COMPLETE trials (paper 004 §3.2.4).

    nasga's objective returns the mean over all of a key's trainings (``n_evaluations`` attr),
    so its latest trial's value is the key's mean; other objectives' values are averaged.
    """
    latest: dict[str, FrozenTrial] = {}
    sums: dict[str, list[float]] = defaultdict(list)
    for t in trials:
        if not has_genome(t, space):
            continue
        key = genome_key(t, space)
        if "n_evaluations" in t.user_attrs:
            if key not in latest or latest[key].number < t.number:
                latest[key] = t
        else:
            sums[key].append(signed(t.value, direction))
    out = {k: sum(v) / len(v) for k, v in sums.items()}
    out.update({k: signed(t.value, direction) for k, t in latest.items()})
    return out


def measurement_counts(trials: Iterable[FrozenTrial], space: Space) -> Counter[str]:
    """Measurements per genome key: nasga's trainings and reuses, else every trial."""
    counts: Counter[str] = Counter()
    for t in trials:
        if not has_genome(t, space):
            continue
        attrs = t.user_attrs
        if "n_evaluations" in attrs and not is_measurement(attrs):
            continue  # a cache answer repeats a measurement
        counts[genome_key(t, space)] += 1
    return counts


def random_children(space: Space, n: int, rng: random.Random) -> list[dict[str, Any]]:
    """``n`` random genomes (paper 004 §3.2.1, paper 000 §3.2)."""
    return [{"genes": space.to_vector(space.random_genome(rng)), "operator": "random",
             "parents": []} for _ in range(n)]


def breed_children(strategy: Any, space: Space, parents: list[FrozenTrial],
                   values: Sequence[float], rng: random.Random, *,
                   known: Counter[str] | None = None, known_after: int | None = None,
                   n: int | None = None, keep_elites: bool = True) -> list[dict[str, Any]]:
    """``n`` children (default: a population) of ``parents`` by the strategy's ``breed``.

    With ``known_after``, a child whose genome already has that many measurements in
    ``known`` (or that another child of this call already is) is re-bred, up to
    :data:`REBREED_TRIES` times, then replaced by a random genome not known yet (up to as many
    draws), and kept as bred only when both fail: duplicate elimination as in NNI and NSGA-Net,
    so a search with a cache keeps training new genomes until the space runs out. Elites are kept as they are: carrying the best genome over is their purpose
    (steady-state breeding, ``keep_elites=False``, has no elites: survivors stay in the
    population instead).
    """
    n = strategy.population if n is None else n
    genes = [space.to_vector(space.from_params(t.params)) for t in parents]
    weights = selection_values(values, nonnegative=strategy.name == "unet")
    known = Counter(known or ())
    out: list[dict[str, Any]] = []
    pool: list[Any] = []
    for _ in range(n):
        child = None
        for _attempt in range(REBREED_TRIES + 1):
            if not pool:
                pool = list(strategy.breed(genes, weights, space=space, rng=rng))
                if out or not keep_elites:  # a brood's elites lead only the first one
                    pool = [c for c in pool if c.operator != "elite"] or pool
            child = pool.pop(0)
            key = space.genome(child.genes).key
            if (known_after is None or child.operator == "elite"
                    or known[key] < known_after):
                break
        assert child is not None
        record = {"genes": list(child.genes), "operator": child.operator,
                  "parents": [parents[i].number for i in child.parents]}
        key = space.genome(child.genes).key
        if known_after is not None and child.operator != "elite" and known[key] >= known_after:
            record = _immigrant(space, rng, known, known_after) or record
            key = space.genome(record["genes"]).key
        known[key] += known_after or 0
        out.append(record)
    return out


def _immigrant(space: Space, rng: random.Random, known: Counter[str], known_after: int
               ) -> dict[str, Any] | None:
    """A random genome not known yet (a converged population breeds only known ones)."""
    for _ in range(REBREED_TRIES):
        genome = space.random_genome(rng)
        if known[genome.key] < known_after:
            return {"genes": space.to_vector(genome), "operator": "random", "parents": []}
    return None
