"""Tests for nasga.samplers.ga.strategies: presets, overrides, breeding, and a synthetic GA run (seeded)."""

from __future__ import annotations

import dataclasses
import random
import statistics
from collections.abc import Callable

import pytest

from nasga.spaces import GeneticCNNSpace, NasgaInputError, UNetSpace
from nasga.samplers.ga.strategies import (
    PRESETS,
    GeneticCNNStrategy,
    Offspring,
    UNetStrategy,
    get_strategy,
)

GCNN = GeneticCNNSpace((3, 4, 5))
UNET = UNetSpace(depth=8)


def _population(space, n: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [space.to_vector(space.random_genome(rng)) for _ in range(n)]


# --- presets and overrides ---------------------------------------------------------------------
def test_presets_carry_the_papers_numbers() -> None:
    g = PRESETS["genetic-cnn"]
    assert (g.name, g.population, g.generations, g.pc, g.qc, g.pm, g.qm, g.max_evaluations) == (
        "genetic-cnn", 20, 50, 0.2, 0.2, 0.8, 0.05, None,
    )
    u = PRESETS["unet"]
    assert (u.name, u.population, u.generations, u.s1, u.s2, u.s3, u.elitism, u.qm) == (
        "unet", 32, 100, 0.2, 0.7, 0.1, 1, None,
    )
    assert u.max_evaluations == 1
    assert get_strategy("unet") == u


def test_overrides_return_a_new_validated_copy() -> None:
    s = get_strategy("genetic-cnn", population=8, generations=0, pc=1, qm=0.1)
    assert (s.population, s.generations, s.pc, s.qm) == (8, 0, 1.0, 0.1)
    assert PRESETS["genetic-cnn"].population == 20
    u = PRESETS["unet"].with_overrides(s1=0.0, s2=0.9, s3=0.1, elitism=0, qm=0.2)
    assert (u.s1, u.elitism, u.qm) == (0.0, 0, 0.2)
    assert UNetStrategy(s1=0.1, s2=0.1, s3=0.8).s3 == 0.8
    with pytest.raises(dataclasses.FrozenInstanceError):
        u.population = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "overrides", "field", "text"),
    [
        ("genetic-cnn", {"pc": 1.5}, "pc", "[0, 1], got 1.5"),
        ("genetic-cnn", {"qm": -0.1}, "qm", "got -0.1"),
        ("genetic-cnn", {"qc": float("nan")}, "qc", "got nan"),
        ("genetic-cnn", {"pm": "0.5"}, "pm", "got '0.5'"),
        ("genetic-cnn", {"qm": None}, "qm", "got None"),
        ("genetic-cnn", {"population": 1}, "population", ">= 2, got 1"),
        ("genetic-cnn", {"population": 4.0}, "population", "integer"),
        ("genetic-cnn", {"generations": -1}, "generations", ">= 0, got -1"),
        ("genetic-cnn", {"max_evaluations": 0}, "max_evaluations", ">= 1, got 0"),
        ("unet", {"s1": 0.3}, "s1+s2+s3", "sum to 1"),
        ("unet", {"s2": 0.7 + 2e-9}, "s1+s2+s3", "sum to 1"),
        ("unet", {"s3": 1.1, "s1": 0.0, "s2": -0.1}, "s2", "[0, 1], got -0.1"),
        ("unet", {"elitism": -1}, "elitism", ">= 0"),
        ("unet", {"elitism": 33}, "elitism", "<= population (32), got 33"),
        ("unet", {"qm": 2}, "qm", "got 2"),
        ("unet", {"lam": 100}, "lam", "unknown setting"),
    ],
)
def test_overrides_validate_with_clear_errors(name, overrides, field, text) -> None:
    with pytest.raises(NasgaInputError) as info:
        get_strategy(name, **overrides)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert text in str(info.value)


def test_sum_tolerance_and_replace_also_validates() -> None:
    assert UNetStrategy(s1=0.2, s2=0.7 + 5e-10, s3=0.1).s2 == pytest.approx(0.7)
    with pytest.raises(NasgaInputError, match="population"):
        dataclasses.replace(PRESETS["unet"], population=0)
    with pytest.raises(NasgaInputError, match="unknown strategy 'nsga'"):
        get_strategy("nsga")


# --- breeding ----------------------------------------------------------------------------------
def _stage_from(child: list[int], p: list[int], q: list[int], a: int, b: int) -> bool:
    return child[a:b] in (p[a:b], q[a:b])


@pytest.mark.parametrize("n_parents", [20, 7, 1])
def test_genetic_cnn_breed_structure(n_parents: int) -> None:
    strat = GeneticCNNStrategy(pc=0.5, pm=0.8)
    parents = _population(GCNN, n_parents, seed=12)
    fitnesses = [0.5 + 0.01 * i for i in range(n_parents)]
    snapshot = [list(p) for p in parents]
    seen = set()
    for seed in range(30):
        kids = strat.breed(parents, fitnesses, space=GCNN, rng=random.Random(seed))
        assert len(kids) == strat.population
        assert parents == snapshot  # parents never modified
        for k, kid in enumerate(kids):
            assert isinstance(kid, Offspring)
            GCNN.genome(kid.genes)
            assert all(0 <= i < n_parents for i in kid.parents)
            if n_parents > 1:
                assert 0 not in kid.parents  # the unique worst always dies (paper 004 §3.2.2)
            seen.add(kid.operator)
            if kid.operator == "copy":
                assert kid.genes == parents[kid.parents[0]]
            elif kid.operator == "mutation":
                assert len(kid.parents) == 1
                assert len(kid.genes) == len(parents[kid.parents[0]])
            else:
                assert kid.operator == "crossover" and len(kid.parents) == 2
                mate = kids[k + 1] if k % 2 == 0 else kids[k - 1]
                assert mate.operator == "crossover" and mate.parents == kid.parents[::-1]
                p, q = (parents[i] for i in kid.parents)
                assert all(_stage_from(kid.genes, p, q, a, b) for a, b in GCNN.stage_bounds)
    assert seen == {"copy", "crossover", "mutation"}


def test_genetic_cnn_breed_probability_extremes() -> None:
    parents = _population(GCNN, 20, seed=13)
    fit = [random.Random(i).random() for i in range(20)]
    kids = GeneticCNNStrategy(pc=0.0, pm=0.0).breed(parents, fit, space=GCNN, rng=random.Random(1))
    assert {k.operator for k in kids} == {"copy"}
    kids = GeneticCNNStrategy(population=5, pc=1.0, pm=1.0).breed(
        parents, fit, space=GCNN, rng=random.Random(1)
    )
    assert [k.operator for k in kids] == ["crossover"] * 4 + ["mutation"]


@pytest.mark.parametrize("qm", [None, 0.1])
def test_unet_breed_structure(qm: float | None) -> None:
    strat = UNetStrategy(qm=qm, elitism=2)
    parents = _population(UNET, 32, seed=14)
    fitnesses = [1.0 + (i * 7 % 32) for i in range(32)]  # best: index 9 (32.0), then 18
    seen = set()
    for seed in range(20):
        kids = strat.breed(parents, fitnesses, space=UNET, rng=random.Random(seed))
        assert len(kids) == 32
        assert [(k.operator, k.parents) for k in kids[:2]] == [("elite", (9,)), ("elite", (18,))]
        assert kids[0].genes == parents[9] and kids[0].genes is not parents[9]
        for kid in kids:
            UNET.genome(kid.genes)
            assert all(0 <= i < 32 for i in kid.parents)
            seen.add(kid.operator)
            if kid.operator in ("copy", "elite"):
                assert kid.genes == parents[kid.parents[0]]
            elif kid.operator == "mutation":
                assert kid.genes != parents[kid.parents[0]]
            else:
                p, q = (parents[i] for i in kid.parents)
                assert all(g in (x, y) for g, x, y in zip(kid.genes, p, q))
    assert seen == {"elite", "copy", "crossover", "mutation"}


def test_unet_elitism_keeps_the_best_and_operator_choice() -> None:
    parents = _population(UNET, 10, seed=15)
    fit = [0.1, 0.5, 0.9, 0.9, 0.2, 0.0, 0.3, 0.4, 0.6, 0.7]
    base = UNetStrategy(population=9, elitism=1)
    for ops, label in (((1, 0, 0), "copy"), ((0, 1, 0), "crossover"), ((0, 0, 1), "mutation")):
        strat = base.with_overrides(s1=ops[0], s2=ops[1], s3=ops[2])
        kids = strat.breed(parents, fit, space=UNET, rng=random.Random(3))
        assert len(kids) == 9  # odd count: the crossover's extra child is dropped
        assert kids[0].operator == "elite" and kids[0].parents == (2,)
        assert {k.operator for k in kids[1:]} == {label}
        assert all(5 not in k.parents for k in kids)  # fitness 0 is never drawn by eq. 4
    kids = base.with_overrides(elitism=0).breed(parents, fit, space=UNET, rng=random.Random(3))
    assert "elite" not in {k.operator for k in kids}


def test_breed_is_reproducible_and_seed_dependent() -> None:
    for name, space in (("genetic-cnn", GCNN), ("unet", UNET)):
        strat = PRESETS[name]
        parents = _population(space, strat.population, seed=16)
        fit = [random.Random(100 + i).random() for i in range(len(parents))]
        a = strat.breed(parents, fit, space=space, rng=random.Random(42))
        b = strat.breed(parents, fit, space=space, rng=random.Random(42))
        c = strat.breed(parents, fit, space=space, rng=random.Random(43))
        assert a == b
        assert a != c


def test_breed_rejects_bad_inputs() -> None:
    parents = _population(UNET, 4, seed=17)
    strat = PRESETS["unet"]
    with pytest.raises(NasgaInputError, match="one fitness per parent"):
        strat.breed(parents, [1.0, 2.0], space=UNET, rng=random.Random(0))
    with pytest.raises(NasgaInputError, match="parents"):
        strat.breed([], [], space=UNET, rng=random.Random(0))
    with pytest.raises(ValueError, match=r"fitness >= 0, got -1\.0"):
        strat.breed(parents, [1.0, -1.0, 2.0, 3.0], space=UNET, rng=random.Random(0))
    with pytest.raises(NasgaInputError, match="genome"):
        strat.breed([[0, 1]], [1.0], space=UNET, rng=random.Random(0))
    with pytest.raises(NasgaInputError, match="strategy"):
        strat.breed(_population(GCNN, 2, 0), [1.0, 2.0], space=GCNN, rng=random.Random(0))


# --- synthetic objective: the GA climbs without any training -----------------------------------
def _run_ga(
    strat, space, fitness: Callable[[list[int]], float], seed: int, generations: int
) -> list[list[float]]:
    rng = random.Random(seed)
    pop = [space.to_vector(space.random_genome(rng)) for _ in range(strat.population)]
    history = []
    for t in range(generations + 1):
        fits = [fitness(p) for p in pop]
        history.append(fits)
        if t < generations:
            pop = [o.genes for o in strat.breed(pop, fits, space=space, rng=rng)]
    return history


def _matches(target: list[int]) -> Callable[[list[int]], int]:
    return lambda genes: sum(g == t for g, t in zip(genes, target))


# Measured over seeds 0..99 with these instances: mean and median rose from generation 0 to 10
# for every seed; the genetic-cnn preset first reaches the optimum at generation 7 (median),
# 17 (95th percentile), 21 (worst); the unet preset at 4, 8, 22. The fixed seeds below are
# typical, and the limits cover about the worst case seen.
GCNN_LIMIT, UNET_LIMIT = 20, 25


def test_genetic_cnn_preset_climbs_synthetic_objective() -> None:
    space = GeneticCNNSpace((3, 4))
    target = [1, 0, 1, 1, 0, 0, 1, 1, 0]
    match = _matches(target)
    history = _run_ga(PRESETS["genetic-cnn"], space, lambda g: match(g) / 9, 0, GCNN_LIMIT)
    g0, g10 = history[0], history[10]
    assert statistics.mean(g10) > statistics.mean(g0) + 0.1
    assert statistics.median(g10) > statistics.median(g0)
    assert max(g0) < 1.0
    assert max(max(h) for h in history) == 1.0


def test_unet_preset_climbs_synthetic_objective() -> None:
    space = UNetSpace(depth=4, channels=(8, 16, 32))
    target = [2, 0, 1, 2, 1, 0, 1]
    match = _matches(target)
    history = _run_ga(PRESETS["unet"], space, lambda g: match(g) + 0.1, 1, UNET_LIMIT)
    g0, g10 = history[0], history[10]
    assert statistics.mean(g10) > statistics.mean(g0) + 0.5
    assert statistics.median(g10) > statistics.median(g0)
    assert max(g0) < 7.1
    bests = [max(h) for h in history]
    assert bests == sorted(bests), "elitism: the best never gets worse"
    assert bests[-1] == pytest.approx(7.1)
