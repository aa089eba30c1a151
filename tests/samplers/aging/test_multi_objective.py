"""AgingEvolutionSampler on a multi-objective study (issue 29): the Pareto-aware tournament,
determinism per seed, duplicate elimination; intensification refused in one line."""

from __future__ import annotations

import random
from collections import Counter

import optuna
import pytest
from optuna.trial import TrialState

from nasga.evaluation.objective import Objective
from nasga.evaluation.records import count_trained, lineage
from nasga.samplers.aging.operators import pareto_tournament, tournament_values
from nasga.samplers.aging.sampler import AgingEvolutionSampler
from nasga.spaces import GeneticCNNSpace, NasgaInputError
from nasga.tasks.tabular import TabularTask
from tests.helpers import small_gcnn

# Both maximized. Non-dominated: 0, 1, 2; dominated: 3 (by 1), 4 (by everything).
VALUES = [(1.0, 5.0), (3.0, 3.0), (5.0, 1.0), (2.0, 2.0), (0.0, 0.0)]


def test_the_winner_is_a_non_dominated_member_of_the_sample_drawn_uniformly() -> None:
    wins = Counter(pareto_tournament(VALUES, len(VALUES), random.Random(s)) for s in range(600))
    assert set(wins) == {0, 1, 2}
    assert min(wins.values()) > 150  # uniform among the three: 200 each on average
    for seed in range(200):  # a sample of 2: never the dominated one of the pair
        rng = random.Random(seed)
        drawn = random.Random(seed).sample(range(len(VALUES)), 2)
        winner = pareto_tournament(VALUES, 2, rng)
        assert winner in drawn
        other = drawn[1 - drawn.index(winner)]
        a, b = VALUES[winner], VALUES[other]
        assert not (b[0] >= a[0] and b[1] >= a[1] and a != b)


def _mo(space: GeneticCNNSpace | None):
    def objective(trial: optuna.Trial) -> tuple[float, float]:
        if space is None:
            x = trial.suggest_float("x", 0, 1)
            n = trial.suggest_int("n", 0, 9)
            return x + n, -x * n
        genes = [trial.suggest_int(n, d.low, d.high) for n, d in space.distributions.items()]
        return float(sum(genes[:3])), float(-sum(genes))
    return objective


@pytest.mark.parametrize("with_space", [True, False])
def test_proposals_are_deterministic_per_seed(with_space: bool) -> None:
    space = small_gcnn() if with_space else None
    runs = []
    for seed in (3, 3, 4):
        sampler = AgingEvolutionSampler(population=6, sample_size=3, space=space, seed=seed,
                                        reevaluate=0.2)
        study = optuna.create_study(directions=["maximize", "maximize"], sampler=sampler)
        study.optimize(_mo(space), n_trials=40)
        runs.append([t.params for t in study.trials])
        values = tournament_values(study.trials, study.directions)
        assert all(isinstance(v, tuple) and len(v) == 2 for v in values)
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert [lineage(t)["ga_operator"] for t in study.trials[6:]].count("mutation") > 20


def test_intensify_is_refused_in_one_line() -> None:
    sampler = AgingEvolutionSampler(population=4, sample_size=2, seed=0, rebreed_after=2,
                                    intensify=True)
    study = optuna.create_study(directions=["maximize", "minimize"], sampler=sampler)
    with pytest.raises(NasgaInputError, match="^intensify: .*single-objective") as error:
        study.optimize(_mo(None), n_trials=1, catch=())
    assert "\n" not in str(error.value)


def test_duplicate_elimination_keeps_trials_per_training_low() -> None:
    space = GeneticCNNSpace((3, 4))
    objective = Objective(space=space, task=TabularTask(space), max_evaluations=1,
                          objectives=("val_accuracy", "params"))
    study = optuna.create_study(directions=["maximize", "minimize"],
                                sampler=AgingEvolutionSampler(population=10, sample_size=3,
                                                              space=space, seed=0))
    study.optimize(objective, n_trials=100)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert len(complete) == 100
    assert len(complete) / count_trained(complete) <= 1.2


def test_the_first_population_spans_the_cost_axis() -> None:
    """Member ``i`` of the first population draws each bit with a probability in stratum ``i``
    of ``[0, 1]`` (``breeding.graded_size``) with several objectives; one objective keeps the
    paper's Bernoulli(0.5) bits."""
    space, population = GeneticCNNSpace((4, 5)), 20
    for seed in range(3):
        ones = {}
        for directions in (("maximize", "minimize"), ("maximize",)):
            sampler = AgingEvolutionSampler(population=population, sample_size=5, space=space,
                                            seed=seed)
            study = optuna.create_study(directions=list(directions), sampler=sampler)
            n = len(directions)
            study.optimize(lambda t: _mo(space)(t)[:n], n_trials=population)
            ones[len(directions)] = [sum(space.to_vector(space.from_params(t.params)))
                                     for t in study.trials]
        graded, paper = ones[2], ones[1]
        assert sum(graded[:5]) / 5 <= 5 and sum(graded[-5:]) / 5 >= 11, (seed, graded)
        assert abs(sum(paper[:5]) - sum(paper[-5:])) / 5 < 4, (seed, paper)
        assert 3 <= min(paper) and max(paper) <= 13, (seed, paper)
