"""Aging evolution under a pruner (issue 27): keys the pruner stopped are taken, and with
``rungs=True`` stopped trials join the population and tournaments compare the sample at its
highest common rung."""

from __future__ import annotations

import math
import random

import optuna
import pytest
from optuna.study import StudyDirection
from optuna.trial import TrialState, create_trial

from nasga.evaluation.records import lineage
from nasga.samplers.aging.operators import Curve, rung_curves, rung_tournament, winner
from nasga.samplers.aging.sampler import AgingEvolutionSampler
from nasga.spaces import GeneticCNNSpace, NasgaInputError
from nasga.tasks.synthetic import SyntheticTask

EPOCHS = 4


class Stub:
    def __init__(self, drawn: list[int]) -> None:
        self.drawn = drawn

    def sample(self, population, k):
        return self.drawn[:k]


def test_the_sample_is_compared_at_its_highest_common_rung() -> None:
    curves = [Curve({1: 0.1, 2: 0.9}, None),            # stopped at epoch 2, best there
              Curve({1: 0.5, 2: 0.6, 3: 0.7}, 0.95),    # finished, best final value
              Curve({1: 0.2, 2: 0.8, 3: 0.99}, None)]   # stopped at epoch 3
    assert rung_tournament(curves, 3, Stub([1, 2, 0])) == 0  # epoch 2: 0.9 > 0.8 > 0.6
    assert rung_tournament(curves, 2, Stub([1, 2])) == 2  # epoch 3: 0.99 > 0.7
    finished = [Curve({}, 0.3), Curve({1: 0.1}, 0.5)]
    assert rung_tournament(finished, 2, Stub([0, 1])) == 1  # all finished: final values
    assert winner(curves, 2, Stub([1, 2])) == 2  # the tournament of curves


def test_a_finished_member_without_a_curve_there_counts_its_final_value() -> None:
    cached = Curve({}, 0.5)  # an answer from the cache: no curve
    assert cached.at(2) == 0.5 and cached.last == math.inf
    assert Curve({1: 0.1, 3: 0.4}, None).last == 3
    assert rung_tournament([cached, Curve({1: 0.1, 2: 0.6}, None)], 2, Stub([0, 1])) == 1


def test_curves_are_direction_adjusted() -> None:
    trials = [create_trial(value=2.0, intermediate_values={1: 5.0, 2: 3.0}, params={},
                           distributions={}),
              create_trial(state=TrialState.PRUNED, intermediate_values={1: 4.0},
                           params={}, distributions={})]
    up, down = (rung_curves(trials, d) for d in (StudyDirection.MAXIMIZE,
                                                  StudyDirection.MINIMIZE))
    assert up == [Curve({1: 5.0, 2: 3.0}, 2.0), Curve({1: 4.0}, None)]
    assert down == [Curve({1: -5.0, 2: -3.0}, -2.0), Curve({1: -4.0}, None)]
    assert rung_tournament(down, 2, Stub([0, 1])) == 1  # minimize: 4 < 5 at epoch 1


def _stopping(space: GeneticCNNSpace, stop: set[int]):
    """A synthetic training reporting EPOCHS epochs; trials numbered in ``stop`` are pruned
    after epoch 2 (the pruner's decision, made deterministic)."""
    task = SyntheticTask(space)

    def objective(trial: optuna.Trial) -> float:
        genome = space.from_params({n: trial.suggest_int(n, 0, 1) for n in space.param_names})
        score = task.evaluate(genome, seed=0, workdir=".").measurements["score"]
        for epoch in range(1, EPOCHS + 1):
            trial.report(score * epoch / EPOCHS, epoch)
            if epoch == 2 and trial.number in stop:
                raise optuna.TrialPruned()
        return score
    return objective


@pytest.mark.parametrize("rungs", [False, True])
def test_a_key_the_pruner_stopped_is_never_proposed_again(rungs: bool) -> None:
    space = GeneticCNNSpace((4, 5))  # 65,536 genomes: re-breeding always finds a new key
    stop = set(range(2, 80, 3))
    study = optuna.create_study(direction="maximize", sampler=AgingEvolutionSampler(
        population=6, sample_size=3, space=space, seed=0, rungs=rungs, max_rebreeds=50))
    study.optimize(_stopping(space, stop), n_trials=80)
    trials = study.trials
    key = {t.number: space.from_params(t.params).key for t in trials}
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert len(pruned) == len(stop)
    for t in pruned:
        later = [u.number for u in trials if u.number > t.number and key[u.number] == key[t.number]]
        assert not later, (t.number, later)
    parents = {p for t in trials for p in lineage(t)["ga_parents"]}
    stopped_parents = {p for p in parents if trials[p].state == TrialState.PRUNED}
    assert bool(stopped_parents) == rungs  # stopped trials breed only with rungs


def test_rungs_refuse_several_objectives() -> None:
    study = optuna.create_study(directions=["maximize", "minimize"],
                                sampler=AgingEvolutionSampler(
                                    population=2, sample_size=1, space=GeneticCNNSpace((3,)),
                                    seed=0, rungs=True))
    with pytest.raises(NasgaInputError, match="^rungs: compares curves of one objective"):
        study.optimize(lambda t: (t.suggest_int("s1_1_2", 0, 1), 0.0), n_trials=1)


def test_rungs_must_be_a_bool() -> None:
    with pytest.raises(NasgaInputError, match="^rungs: must be True or False, got 1$"):
        AgingEvolutionSampler(rungs=1)  # type: ignore[arg-type]


def test_the_tournament_of_a_mixed_population_is_not_biased_to_finished_members() -> None:
    # A stopped member better than a finished one at their common rung wins, though its last
    # value (0.5 at epoch 2) is below the finished member's final value (0.9).
    stopped, finished = Curve({1: 0.3, 2: 0.5}, None), Curve({1: 0.2, 2: 0.4, 3: 0.7}, 0.9)
    wins = sum(rung_tournament([stopped, finished], 2, random.Random(s)) == 0
               for s in range(20))
    assert wins == 20


def test_an_exhausted_space_trains_stopped_keys_again_rather_than_answer_finished_ones() -> None:
    """Every key measured ``k`` times or stopped, with nothing left to confirm: the children
    are stopped keys trained again (a training), not fully measured ones (a cached answer)."""
    space = GeneticCNNSpace((3, 3))
    keys = sorted({g.key for g in map(space.genome, _all_vectors(space.n_bits))})
    stopped_keys = set(keys[::2])
    k = 2

    def objective(trial: optuna.Trial) -> float:
        genome = space.from_params({n: trial.suggest_int(n, 0, 1) for n in space.param_names})
        score = keys.index(genome.key) / len(keys)
        for epoch in (1, 2, 3):
            trial.report(score * epoch, epoch)
            if epoch == 2 and genome.key in stopped_keys:
                raise optuna.TrialPruned()
        return score

    study = optuna.create_study(direction="maximize", sampler=AgingEvolutionSampler(
        population=4, sample_size=2, space=space, seed=0, intensify=True, rebreed_after=k,
        rungs=True, max_rebreeds=50))
    study.optimize(objective, n_trials=8 * len(keys))
    complete: dict[str, int] = {}
    seen: set[str] = set()
    exhausted_at = None
    for t in study.trials:
        key = space.from_params(t.params).key
        if exhausted_at is not None:  # never a key the cache would answer
            assert complete.get(key, 0) < k, (t.number, key)
        seen.add(key)
        if t.state == TrialState.COMPLETE:
            complete[key] = complete.get(key, 0) + 1
        if exhausted_at is None and len(seen) == len(keys) and all(
                complete.get(key, 0) >= k for key in keys if key not in stopped_keys):
            exhausted_at = t.number
    assert exhausted_at is not None and exhausted_at < len(study.trials) - len(keys)
    replays = [t for t in study.trials[exhausted_at + 1:] if t.state == TrialState.PRUNED]
    assert len(replays) == len(study.trials) - exhausted_at - 1


def _all_vectors(n: int) -> list[list[int]]:
    return [[(i >> b) & 1 for b in range(n)] for i in range(2 ** n)]
