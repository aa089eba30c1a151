"""Non-dominated sorting and crowding through DEAP (nasga.samplers.ga.pareto): the choices
are DEAP's, and the scalar values follow Deb et al.'s crowded-comparison order."""

from __future__ import annotations

import math

import deap.creator
import pytest
from deap import base, tools

from nasga.samplers.ga import pareto
from nasga.samplers.ga.breeding import adjusted_vectors, clipped_vectors
from optuna.study import StudyDirection

# Both objectives maximized. Front 0: a, b, c; front 1: d, e; front 2: f.
VALUES = [(1.0, 5.0), (3.0, 3.0), (5.0, 1.0), (1.0, 2.0), (2.0, 1.0), (0.0, 0.0)]


class _Fitness(base.Fitness):
    weights = (1.0, 1.0)


class _Ind:
    def __init__(self, values, i):
        self.fitness = _Fitness(values)
        self.i = i


def test_select_is_deaps_selnsga2() -> None:
    for k in range(1, len(VALUES) + 2):
        expected = [m.i for m in tools.selNSGA2([_Ind(v, i) for i, v in enumerate(VALUES)],
                                                min(k, len(VALUES)))]
        chosen, crowding = pareto.select(VALUES, k)
        assert chosen == expected
        assert len(crowding) == len(chosen)
    assert sorted(pareto.select(VALUES, 3)[0]) == [0, 1, 2]  # the first front
    chosen, crowding = pareto.select(VALUES, 4)  # the first front and one of d, e
    assert sorted(chosen[:3]) == [0, 1, 2] and chosen[3] in (3, 4)
    assert crowding[chosen.index(0)] == math.inf and crowding[chosen.index(1)] < math.inf


def test_ranks_and_the_first_front() -> None:
    assert pareto.ranks(VALUES) == [0, 0, 0, 1, 1, 2]
    assert pareto.nondominated(VALUES) == [0, 1, 2]
    assert pareto.nondominated([(1.0, 1.0), (1.0, 1.0)]) == [0, 1]  # equal: neither dominates
    assert pareto.nondominated([]) == []


def test_crowded_values_follow_rank_then_crowding() -> None:
    crowding = [math.inf, 0.5, math.inf, math.inf, math.inf, math.inf]
    values = pareto.crowded_values(VALUES, crowding)
    # a and c (boundaries of front 0) beat everyone else; b beats fronts 1 and 2; f is last.
    assert values[0] == values[2] == 4.0
    assert values[1] == 3.0
    assert values[3] == values[4] == 1.0
    assert values[5] == 0.0


def test_deap_creator_is_left_alone() -> None:
    before = set(vars(deap.creator))
    for n in (2, 3, 2):
        pareto.select([(1.0,) * n, (0.0,) * n], 1)
    assert set(vars(deap.creator)) == before


def test_adjusted_vectors_negate_minimized_objectives_and_clip_non_finite() -> None:
    out = adjusted_vectors([(1.0, 10.0), (2.0, math.inf), None],
                           [StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE])
    assert out[0] == (1.0, -10.0)
    assert out[1] == (2.0, -10.0)  # -inf clipped to the worst finite value of that objective
    assert out[2] == (1.0, -10.0)  # no values: NaN, clipped to the worst
    assert clipped_vectors([]) == []


@pytest.mark.parametrize("k", [0, -1])
def test_select_of_nothing(k: int) -> None:
    assert pareto.select(VALUES, k) == ([], [])
    assert pareto.select([], 3) == ([], [])
