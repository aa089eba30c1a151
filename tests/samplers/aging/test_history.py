"""The incremental history (issue 26) proposes what a full re-read of the trials proposes.

``Reread`` below is AgingEvolutionSampler's rule written the straightforward way (every trial
read on every sample, as before issue 26); the sampler must propose the same trials, seed for
seed, with trials finishing out of order, failing, pruned, enqueued and non-finite.
"""

from __future__ import annotations

import math
import pickle
import random
from collections import Counter
from collections.abc import Hashable
from typing import Any
from unittest.mock import patch

import optuna
import pytest
from optuna.search_space import intersection_search_space
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState, create_trial
from optuna.distributions import CategoricalDistribution

from nasga.evaluation.objective import Objective
from nasga.samplers.aging.history import History
from nasga.samplers.aging.intensify import Board, model_means
from nasga.samplers.aging._identity import inside as _inside
from nasga.samplers.aging.sampler import AgingEvolutionSampler
from nasga.samplers.ga.breeding import RANDOM_TRIES, adjusted
from nasga.tasks.synthetic import SyntheticTask
from nasga.evaluation.records import lineage
from tests.helpers import small_gcnn

VARIANTS = {"plain": {}, "intensify": {"intensify": True, "rebreed_after": 3},
            "reevaluate": {"reevaluate": 0.5, "rebreed_after": 3}}


def _reference_challenger(trials, identity, direction, live, k):
    means, latest, complete = model_means(trials, identity, direction)
    incumbent = max((m for i, m in means.items() if complete[i] >= k), default=-math.inf)
    pending = [i for i in means if live[i] < k]
    if not pending:
        return None, False
    best = max(pending, key=lambda i: means[i])
    return latest[best], means[best] >= incumbent


class Reread(AgingEvolutionSampler):
    """The sampler's rule, every trial read again on every sample."""

    def infer_relative_search_space(self, study, trial):
        if self._space is not None:
            return dict(self._space.distributions)
        trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        return {n: d for n, d in intersection_search_space(trials).items() if not d.single()}

    def sample_relative(self, study, trial, search_space):
        member = self.member_seed(trial)
        if member is None:
            if trial.params or "fixed_params" in trial.system_attrs:
                return {}
            member = self.base_seed(study)
        trials = study.get_trials(deepcopy=False)
        rank = sum(1 for t in trials if t.number < trial.number and (
            self.is_member(t) or (t.state == TrialState.RUNNING and not t.params
                                         and "fixed_params" not in t.system_attrs)))
        rng = random.Random(f"nasga-aging:{member}:{trial.number}")
        child, parents, op = self._reread(trials, trial.number, rank < self._population,
                                          search_space, study.direction, rng)
        self._record(study, trial, member, child, {"ga_operator": op, "ga_parents": parents,
                                           "ga_generation": rank // self._population})
        return child or {}

    def _reread(self, trials, number, starting, search_space, direction, rng):
        live = Counter(self._identity(t, search_space) for t in trials if t.state in (
            TrialState.COMPLETE, TrialState.RUNNING) and t.number != number)
        challenger, beats = _reference_challenger(
            [t for t in trials if _inside(t.params, search_space)],
            lambda t: self._identity(t, search_space), direction, live, self._rebreed_after,
        ) if self._intensify and search_space else (None, False)
        again = None if challenger is None else (
            {k: challenger.params[k] for k in search_space}, [challenger.number], "intensify")
        if again is not None and beats:
            return again
        enough = 1 if self._intensify else self._rebreed_after
        taken = {identity for identity, n in live.items() if n >= enough}
        population = sorted((t for t in trials if t.state == TrialState.COMPLETE
                             and t.value is not None and _inside(t.params, search_space)),
                            key=lambda t: t.number)[-self._population:] if search_space else []
        if starting or not population:
            return self._breeding.random_child(search_space, rng, taken), [], "random"
        values = adjusted([t.value for t in population], direction)
        child, parent = self._breeding.bred_child(population, values, search_space, rng, taken)
        if self._intensify and self._child_identity(child) in taken:
            fresh = self._breeding.random_child(search_space, rng, taken, RANDOM_TRIES)
            if fresh is not None and self._child_identity(fresh) not in taken:
                return fresh, [], "random"
            if again is not None:
                return again
        return child, [parent.number], "mutation"


def _generic(trial: optuna.Trial) -> float:
    """Noisy, with a parameter outside the intersection and an occasional infinite value."""
    x = trial.suggest_float("x", -2, 2)
    n = trial.suggest_int("n", 0, 5)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    if trial.number % 5 == 1:
        trial.suggest_float("odd", 0, 1)
    if trial.number % 29 == 7:
        return (math.inf, -math.inf)[trial.number % 2]
    return -x * x + n + (c == "b") + random.Random(trial.number).gauss(0, 1.5)


def _drive(sampler: AgingEvolutionSampler, space, n: int, interleave: bool, seed: int
           ) -> list[tuple]:
    study = optuna.create_study(direction="maximize", sampler=sampler)
    objective = _generic if space is None else Objective(
        space=space, task=SyntheticTask(space, noise=0.3), max_evaluations=3, seed=seed)
    rng = random.Random(seed)
    asked: list[optuna.Trial] = []
    while len(study.trials) < n:
        if len(study.trials) == n // 2:
            study.enqueue_trial(study.trials[3].params)  # not a member; may be a parent
        asked.append(study.ask())
        if interleave and len(asked) < 4 and rng.random() < 0.6:
            continue  # several RUNNING at once, finishing out of order
        trial = asked.pop(rng.randrange(len(asked)))
        roll = rng.random()
        if roll < 0.08:
            study.tell(trial, state=TrialState.FAIL)
        elif roll < 0.12:
            study.tell(trial, state=TrialState.PRUNED)
        else:
            study.tell(trial, objective(trial))
    return [(t.number, t.state, t.params, lineage(t).get("ga_operator"),
             lineage(t).get("ga_parents"), lineage(t).get("ga_generation"))
            for t in study.trials]


@pytest.mark.parametrize("interleave", [False, True])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
@pytest.mark.parametrize("space", [None, small_gcnn()], ids=["optuna-space", "gcnn"])
def test_proposals_equal_a_full_reread_seed_for_seed(space, variant, interleave) -> None:
    kw = dict(population=8, sample_size=3, space=space, seed=5, **VARIANTS[variant])
    expected = _drive(Reread(**kw), space, 110, interleave, 5)
    assert _drive(AgingEvolutionSampler(**kw), space, 110, interleave, 5) == expected
    ops = Counter(row[3] for row in expected)
    assert ops["mutation"] > 40 and (variant != "intensify" or ops["intensify"] > 3)


def test_each_finished_trial_is_processed_once() -> None:
    sampler = AgingEvolutionSampler(population=5, sample_size=2, seed=0, intensify=True,
                                    rebreed_after=2)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    with patch.object(History, "_finish", autospec=True,
                      side_effect=History._finish) as finish:
        study.optimize(_generic, n_trials=60)
    numbers = Counter(call.args[1].number for call in finish.call_args_list)
    assert set(numbers.values()) == {1} and len(numbers) >= 58  # the last one or two pending


def test_one_sampler_on_two_studies_keeps_two_histories() -> None:
    space = small_gcnn()

    def f(trial: optuna.Trial) -> float:
        return sum(trial.suggest_int(n, 0, 1) * i for i, n in enumerate(space.param_names))

    shared = AgingEvolutionSampler(population=4, sample_size=2, seed=1, space=space)
    a, b = (optuna.create_study(direction="maximize", sampler=shared) for _ in range(2))
    for _ in range(3):
        a.optimize(f, n_trials=7)
        b.optimize(lambda t: -f(t), n_trials=5)
    alone = optuna.create_study(direction="maximize", sampler=AgingEvolutionSampler(
        population=4, sample_size=2, seed=1, space=space))
    alone.optimize(f, n_trials=21)
    assert [t.params for t in a.trials] == [t.params for t in alone.trials]
    assert len(shared._histories) == 2
    copy = pickle.loads(pickle.dumps(shared))
    assert copy._histories == {} and "_histories" not in shared.__getstate__()


def _random_trials(rng: random.Random, n: int) -> list[FrozenTrial]:
    dist = {"x": CategoricalDistribution(list(range(12)))}
    out = []
    for number in range(n):
        value = rng.choice([math.inf, -math.inf]) if rng.random() < 0.1 else rng.gauss(0, 1)
        t = create_trial(params={"x": rng.randrange(12)}, distributions=dist, value=value)
        t.number = number
        out.append(t)
    rng.shuffle(out)  # finishing out of order
    return out


@pytest.mark.parametrize("direction", [StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE])
@pytest.mark.parametrize("k", [1, 2, 3])
def test_board_challenger_equals_the_whole_study_rule(direction, k) -> None:
    rng = random.Random(k)
    trials = _random_trials(rng, 80)

    def model(t: FrozenTrial) -> Hashable:
        return t.params["x"]

    board = Board(direction, k)
    seen: list[FrozenTrial] = []
    for t in trials:
        board.add(t, model(t))
        seen.append(t)
        finished = Counter(model(u) for u in seen)
        running = Counter(rng.randrange(12) for _ in range(rng.randrange(3)))
        live: Counter[Any] = finished + running
        assert board.challenger(finished, running) == _reference_challenger(
            seen, model, direction, live, k)
