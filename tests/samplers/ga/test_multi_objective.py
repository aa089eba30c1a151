"""GeneticSampler on a multi-objective study (issue 29): NSGA-II's pool by DEAP's selNSGA2,
the papers' operators, determinism per seed, duplicate elimination, the cost budget."""

from __future__ import annotations

from collections.abc import Sequence
from unittest.mock import patch

import optuna
import pytest
from deap import base, tools
from optuna.trial import TrialState

from nasga.evaluation.objective import Objective
from nasga.evaluation.records import count_trained, lineage
from nasga.samplers.ga.claims import work_of
from nasga.samplers.ga.sampler import GeneticSampler
from nasga.samplers.ga.strategies import get_strategy
from nasga.spaces import GeneticCNNSpace
from nasga.tasks.tabular import TabularTask
from tests.helpers import assert_each_child_once, small_gcnn, small_unet

P = 6


def _values(space, params: dict) -> tuple[float, float]:
    """Two conflicting objectives, exact in binary (means of repeats are the values)."""
    genes = space.to_vector(space.from_params(params))
    return float(sum(genes[:3]) + 0.5 * genes[-1]), float(-sum(genes))


def _objective(space):
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        params = {n: trial.suggest_int(n, d.low, d.high) for n, d in space.distributions.items()}
        return _values(space, params)
    return objective


def _study(space, *, seed: int = 2, mode: str = "generational", preset: str = "genetic-cnn",
           **kw) -> optuna.Study:
    sampler = GeneticSampler(space=space, strategy=get_strategy(preset, population=P, mode=mode),
                             seed=seed, mode=mode, **kw)
    return optuna.create_study(directions=["maximize", "maximize"], sampler=sampler)


class _Fitness(base.Fitness):
    weights = (1.0, 1.0)


class _Ind:
    def __init__(self, key: str, values: Sequence[float]) -> None:
        self.key, self.fitness = key, _Fitness(tuple(values))


def test_generational_pool_is_deaps_selnsga2_of_the_pool_and_the_children() -> None:
    space = small_gcnn()
    study = _study(space)
    with patch.object(tools, "selNSGA2", wraps=tools.selNSGA2) as spy:
        study.optimize(_objective(space), n_trials=P * 5)
    assert spy.called
    sampler: GeneticSampler = study.sampler  # type: ignore[assignment]
    ledger = sampler.ledger(study)
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    key = {t.number: space.from_params(t.params).key for t in trials}
    pool: dict[str, optuna.trial.FrozenTrial] = {}
    for g in range(4):  # pool of g + 1 = selNSGA2(pool of g ∪ generation g's children), size P
        latest = dict(pool)
        for t in trials:
            if work_of(t)[0] == g and (key[t.number] not in latest
                                       or latest[key[t.number]].number < t.number):
                latest[key[t.number]] = t
        order = sorted(latest, key=lambda k: latest[k].number)
        chosen = tools.selNSGA2([_Ind(k, _values(space, latest[k].params)) for k in order], P)
        pool = {i.key: latest[i.key] for i in chosen}
        actual = sampler._cache(study).fold.before(g + 1, ledger).front.latest
        assert set(actual) == set(pool), g
        parents = {p for t in trials if work_of(t)[0] == g + 1
                   for p in lineage(t)["ga_parents"]}
        assert parents <= {t.number for t in pool.values()}, g
    assert_each_child_once(study, P, 4)


@pytest.mark.parametrize("mode", ["generational", "steady-state"])
@pytest.mark.parametrize("preset,space_fn", [("genetic-cnn", small_gcnn), ("unet", small_unet)])
def test_proposals_are_deterministic_per_seed(mode: str, preset: str, space_fn) -> None:
    space = space_fn()
    runs = []
    for seed in (4, 4, 5):
        study = _study(space, seed=seed, mode=mode, preset=preset)
        study.optimize(_objective(space), n_trials=P * 5)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    operators = {lineage(t)["ga_operator"] for t in study.trials[P:]}
    assert operators & {"crossover", "mutation", "copy"}  # bred by the papers' operators


def test_steady_state_pool_stays_bounded_and_breeds_from_it() -> None:
    space = GeneticCNNSpace((3, 4, 5))
    study = _study(space, mode="steady-state")
    study.optimize(_objective(space), n_trials=120)
    sampler: GeneticSampler = study.sampler  # type: ignore[assignment]
    front = sampler._cache(study).pool.front
    assert front is not None and len(front.latest) == P
    assert all(lineage(t)["ga_operator"] != "random" for t in study.trials[P:])
    # elitism: every point of the study's first front is in the pool (fewer than P here)
    points = {tuple(t.values) for t in study.trials}
    first = {v for v in points if not any(o[0] >= v[0] and o[1] >= v[1] and o != v
                                          for o in points)}
    assert len(first) < P
    assert first <= {tuple(t.values) for t in front.latest.values()}


def test_cost_budget_holds() -> None:
    space = small_gcnn()
    fits = lambda genome: sum(space.to_vector(genome)) <= 4  # noqa: E731
    for mode in ("generational", "steady-state"):
        study = _study(space, mode=mode, feasible=fits)
        study.optimize(_objective(space), n_trials=P * 4)
        assert all(fits(space.from_params(t.params)) for t in study.trials), mode


@pytest.mark.parametrize("mode", ["generational", "steady-state"])
def test_duplicate_elimination_keeps_trials_per_training_low(mode: str) -> None:
    """With the cache (max_evaluations = 1) and re-breeding, almost every trial trains."""
    space = GeneticCNNSpace((3, 4))
    task = TabularTask(space)
    objective = Objective(space=space, task=task, max_evaluations=1,
                          objectives=("val_accuracy", "macs"))
    sampler = GeneticSampler(space=space, strategy=get_strategy("genetic-cnn", population=10),
                             seed=0, mode=mode, rebreed_after=1)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    study.optimize(objective, n_trials=100)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert len(complete) == 100
    assert len(complete) / count_trained(complete) <= 1.2


def _first_population_ones(directions: list[str], mode: str, seed: int) -> list[int]:
    """The 1-bits of a 16-bit space's first ``20`` children, by work item."""
    space, population = GeneticCNNSpace((4, 5)), 20
    sampler = GeneticSampler(space=space, seed=seed, mode=mode, strategy=get_strategy(
        "genetic-cnn", population=population, mode=mode))
    study = optuna.create_study(directions=directions, sampler=sampler)

    def objective(trial: optuna.Trial) -> float | tuple[float, float]:
        genes = [trial.suggest_int(n, d.low, d.high) for n, d in space.distributions.items()]
        return (float(sum(genes[:6])), float(sum(genes))) if len(directions) > 1 else 1.0

    study.optimize(objective, n_trials=population)
    trials = sorted(study.trials, key=lambda t: work_of(t) or (0, 0, 0))
    return [sum(space.to_vector(space.from_params(t.params))) for t in trials]


def test_a_multi_objective_first_generation_spans_the_cost_axis() -> None:
    """Child ``i`` of generation 0 draws each bit with a probability in stratum ``i`` of
    ``[0, 1]`` (``breeding.graded_size``): from near the empty network to near the full one.
    One objective keeps paper 004's Bernoulli(0.5) bits."""
    for seed in range(3):
        graded = _first_population_ones(["maximize", "minimize"], "generational", seed)
        assert sum(graded[:5]) / 5 <= 5 and sum(graded[-5:]) / 5 >= 11, (seed, graded)
        paper = _first_population_ones(["maximize"], "generational", seed)
        assert abs(sum(paper[:5]) - sum(paper[-5:])) / 5 < 4, (seed, paper)
        assert 3 <= min(paper) and max(paper) <= 13, (seed, paper)


def test_a_multi_objective_steady_state_search_starts_from_the_smallest_stratum() -> None:
    """Steady state breeds from the first finished child on; the first ticket is stratum 0."""
    for seed in range(4):
        assert _first_population_ones(["maximize", "minimize"], "steady-state", seed)[0] <= 3, seed
