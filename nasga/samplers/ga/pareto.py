"""Non-dominated sorting and crowding for multi-objective studies, through DEAP's public
``deap.tools`` (docs/design.md, "Several objectives").

NSGA-II (Deb, Pratap, Agarwal and Meyarivan 2002, "A fast and elitist multiobjective genetic
algorithm: NSGA-II", IEEE TEC 6(2)) ranks a population into non-dominated fronts and, within a
front, prefers the members with the larger crowding distance; NSGA-Net (Lu et al. 2019, GECCO)
searches architectures with it, trading accuracy for FLOPs. DEAP implements both steps
(``tools.selNSGA2``, ``tools.sortNondominated``, ``tools.assignCrowdingDist``); nasga calls them
and writes none of them again.

Values here are *higher is better* vectors, one per member: each objective direction-adjusted
and clipped to its finite extremes (:func:`nasga.samplers.ga.breeding.adjusted_vectors`), so
DEAP's fitness weights are all ``+1`` and a crowding distance never subtracts infinities.
DEAP's individuals need only a ``fitness`` attribute: a light :class:`_Member` holds one of a
``deap.base.Fitness`` subclass made once per number of objectives, here, not in DEAP's global
``deap.creator``.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Sequence

from deap import base, tools

Vector = tuple[float, ...]


@functools.cache
def _fitness_class(n_objectives: int) -> type[base.Fitness]:
    """A ``deap.base.Fitness`` subclass maximising ``n_objectives`` values (made once)."""
    return type(f"NasgaParetoFitness{n_objectives}", (base.Fitness,),
                {"weights": (1.0,) * n_objectives, "__module__": __name__})


class _Member:
    """What DEAP's selection reads of an individual: its ``fitness``; ``index`` says which."""

    __slots__ = ("fitness", "index")

    def __init__(self, values: Sequence[float], index: int) -> None:
        self.fitness = _fitness_class(len(values))(tuple(values))
        self.index = index


def _members(values: Sequence[Sequence[float]]) -> list[_Member]:
    return [_Member(v, i) for i, v in enumerate(values)]


def select(values: Sequence[Sequence[float]], k: int) -> tuple[list[int], list[float]]:
    """NSGA-II's survivor selection (``deap.tools.selNSGA2``) of ``k`` members.

    Returns:
        The chosen indices into ``values``, in ``selNSGA2``'s order (whole fronts first, the
        last front cut by crowding), and each chosen member's crowding distance within its
        front of ``values``, as ``selNSGA2`` assigned it.
    """
    if not values or k <= 0:
        return [], []
    chosen = tools.selNSGA2(_members(values), min(k, len(values)))
    return [m.index for m in chosen], [float(m.fitness.crowding_dist) for m in chosen]


def ranks(values: Sequence[Sequence[float]]) -> list[int]:
    """Each member's non-domination rank (0: the first front), by
    ``deap.tools.sortNondominated``."""
    out = [0] * len(values)
    for rank, front in enumerate(tools.sortNondominated(_members(values), len(values))):
        for m in front:
            out[m.index] = rank
    return out


def nondominated(values: Sequence[Sequence[float]]) -> list[int]:
    """Indices of the members no other member dominates, in input order
    (``deap.tools.sortNondominated`` with ``first_front_only``)."""
    if not values:
        return []
    front = tools.sortNondominated(_members(values), len(values), first_front_only=True)[0]
    return sorted(m.index for m in front)


def crowded_values(values: Sequence[Sequence[float]], crowding: Sequence[float]) -> list[float]:
    """Scalar selection values that follow Deb et al.'s crowded-comparison order ``≺n``.

    ``i ≺n j`` when ``i``'s rank is lower, or the ranks are equal and ``i``'s crowding distance
    is larger. Member ``i``'s value is the number of members it beats by ``≺n``: the worst
    members get 0, ties get equal values, and a roulette on these values is a linear ranking
    selection in NSGA-II's order (paper 004's ``f − f_min`` roulette never picks the worst,
    paper 000's elite is a first-front member with the largest crowding distance).
    """
    rank = ranks(values)
    keys = [(rank[i], -float(crowding[i])) for i in range(len(values))]
    order = sorted(keys)
    return [float(len(keys) - bisect.bisect_right(order, key)) for key in keys]


__all__ = ["crowded_values", "nondominated", "ranks", "select"]
