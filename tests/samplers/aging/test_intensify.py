"""SMAC's intensification (nasga.samplers.aging.intensify) and AgingEvolutionSampler(intensify=True)."""

from __future__ import annotations

import random
from collections import Counter

import optuna
import pytest
from optuna.distributions import CategoricalDistribution
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState, create_trial

import nasga.evaluation.records as R
from nasga.samplers.aging.sampler import AgingEvolutionSampler
from nasga.results.best import best_genome
from nasga.samplers.aging.intensify import challenger, model_means
from nasga.evaluation.objective import Objective
from nasga.spaces import NasgaInputError
from nasga.tasks.tabular import TabularTask
from nasga.evaluation.records import lineage
from tests.helpers import small_gcnn

MAX, MIN = StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE
DIST = {"x": CategoricalDistribution(list(range(30)))}


def _trials(rows: list[tuple[int, float | None]], state: TrialState = TrialState.COMPLETE
            ) -> list[FrozenTrial]:
    out = []
    for number, (x, value) in enumerate(rows):
        t = create_trial(params={"x": x}, distributions=DIST, value=value,
                         state=TrialState.RUNNING if value is None else state)
        t.number = number
        out.append(t)
    return out


def _model(t: FrozenTrial) -> int:
    return t.params["x"]


def _live(trials: list[FrozenTrial]) -> Counter:
    return Counter(_model(t) for t in trials if t.state in (TrialState.COMPLETE,
                                                             TrialState.RUNNING))


# --- the rule --------------------------------------------------------------------------------
def test_model_means_average_trials_or_take_nasgas_running_mean() -> None:
    trials = _trials([(1, 0.2), (1, 0.4), (2, 0.9), (3, None)])
    means, latest, count = model_means(trials, _model, MAX)
    assert means == pytest.approx({1: 0.3, 2: 0.9}) and list(means) == [1, 2]
    assert latest[1].number == 1 and count == Counter({1: 2, 2: 1})
    assert model_means(trials, _model, MIN)[0] == pytest.approx({1: -0.3, 2: -0.9})
    trials[1].user_attrs[R.N_EVALUATIONS] = 2  # nasga's objective: the value is the mean so far
    trials[1].value = 0.5
    assert model_means(trials, _model, MAX)[0][1] == 0.5


def test_the_challenger_is_the_best_model_not_yet_measured_k_times() -> None:
    # model 1: 3 trials, mean 0.5 (the incumbent); model 2: 1 trial, 0.6; model 3: 1 trial, 0.4
    trials = _trials([(1, 0.4), (1, 0.5), (1, 0.6), (2, 0.6), (3, 0.4)])
    found, beats = challenger(trials, _model, MAX, _live(trials), 3)
    assert (found.number, beats) == (3, True)
    trials[3].value = 0.45  # below the incumbent: still the best pending model, but it loses
    found, beats = challenger(trials, _model, MAX, _live(trials), 3)
    assert (found.number, beats) == (3, False)
    found, beats = challenger(trials, _model, MIN, _live(trials), 3)  # mirrored: 0.4 < 0.5
    assert (found.number, beats) == (4, True)


def test_running_trials_count_towards_k_and_ties_go_to_the_first_measured() -> None:
    trials = _trials([(2, 0.7), (2, None), (2, None), (3, 0.7), (4, 0.7)])
    found, beats = challenger(trials, _model, MAX, _live(trials), 3)
    assert (found.number, beats) == (3, True)  # model 2 has 3 live trials; no incumbent yet
    assert challenger(trials[:3], _model, MAX, _live(trials[:3]), 3) == (None, False)
    assert challenger([], _model, MAX, Counter(), 3) == (None, False)


def test_failed_pruned_and_valueless_trials_are_not_measurements() -> None:
    trials = _trials([(1, 0.9), (2, 0.1), (3, None), (4, 0.95), (5, 0.99)])
    trials[3] = create_trial(params={"x": 4}, distributions=DIST, state=TrialState.FAIL)
    trials[4] = create_trial(params={"x": 5}, distributions=DIST, state=TrialState.PRUNED)
    trials[3].number, trials[4].number = 3, 4
    means, _, _ = model_means(trials, _model, MAX)
    assert set(means) == {1, 2}


# --- the sampler -----------------------------------------------------------------------------
def _noisy(trial: optuna.Trial) -> float:
    x = trial.suggest_categorical("x", list(range(30)))
    return x / 30 + random.Random(trial.number).gauss(0.0, 0.1)


def _run(k: int = 3, n: int = 150, **kw) -> optuna.Study:
    sampler = AgingEvolutionSampler(population=6, sample_size=3, seed=0, rebreed_after=k,
                                    intensify=True, **kw)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(_noisy, n_trials=n)
    return study


def test_every_re_measurement_is_the_challenger_of_its_time() -> None:
    study = _run()
    trials = study.get_trials(deepcopy=False)
    ops = Counter(lineage(t)["ga_operator"] for t in trials)
    assert ops["intensify"] >= 20 and ops["mutation"] >= 20, ops
    for t in trials:
        earlier = trials[: t.number]
        found, beats = challenger(earlier, _model, MAX, _live(earlier), 3)
        seen = {_model(e) for e in earlier}
        if lineage(t)["ga_operator"] == "intensify":
            assert found is not None and t.params == found.params
            assert lineage(t)["ga_parents"] == [found.number]
            # the challenger beat the incumbent, or no new child was found in the tries
            assert beats or len(seen) >= 15, t.number
        elif t.number >= 6:  # bred or random children are new models while any are left
            assert not beats
            assert _model(t) not in seen or len(seen) == 30, t.number


def test_with_k_one_intensify_changes_nothing() -> None:
    base = dict(population=6, sample_size=3, seed=0)
    studies = []
    for flag in (False, True):
        study = optuna.create_study(sampler=AgingEvolutionSampler(intensify=flag, **base))
        study.optimize(_noisy, n_trials=40)
        studies.append([t.params for t in study.trials])
    assert studies[0] == studies[1]


def test_bad_intensify_is_refused() -> None:
    for bad in ("yes", 1, None):
        with pytest.raises(NasgaInputError, match="intensify"):
            AgingEvolutionSampler(intensify=bad)


def test_nasga_objective_trains_on_nearly_every_trial_up_to_k_times() -> None:
    """On the (3, 4) benchmark table (186 keys) with max_evaluations = 3: no key is trained
    more than 3 times, few trials are cache answers, and the named best has 3 trainings."""
    space = small_gcnn()
    sampler = AgingEvolutionSampler(population=10, sample_size=5, space=space, seed=0,
                                    rebreed_after=3, intensify=True)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(Objective(space=space, task=TabularTask(space), max_evaluations=3, seed=0),
                   n_trials=150)
    trained = Counter(t.user_attrs["key"] for t in study.trials if t.user_attrs.get("trained"))
    assert max(trained.values()) == 3
    assert sum(trained.values()) >= 147  # 150 trials: at most 3 cache answers
    best = best_genome(study)
    assert best is not None and best.n_measurements == 3 and best.confirmed
