"""nasga.evaluation.records: the one schema of a trial's user attrs, checked against what the objective writes."""

from __future__ import annotations

import optuna

import nasga.evaluation.records as R
from nasga.evaluation.objective import Objective
from nasga.samplers.ga.sampler import GeneticSampler
from nasga.spaces import GeneticCNNSpace
from nasga.samplers.ga.strategies import get_strategy
from nasga.tasks.synthetic import SyntheticTask


def test_predicates() -> None:
    assert R.is_measurement({R.TRAINED: True, R.KEY: "k"})
    assert R.is_measurement({R.TRAINED: False, R.REUSED_FROM: "s:3", R.KEY: "k"})
    assert not R.is_measurement({R.TRAINED: False, R.CACHED: True, R.KEY: "k"})
    assert not R.is_measurement({R.TRAINED: True})  # no genome key: not a genome's measurement
    assert R.measurements({R.KEY: "k", R.GA_OPERATOR: "copy", "ga_other": 1, "l_gen": 2.0}) == {
        "l_gen": 2.0}
    assert R.trained({R.TRAINED: True}) and not R.trained({})


def test_every_attr_the_objective_and_the_sampler_write_is_in_the_schema() -> None:
    space = GeneticCNNSpace((3, 4))
    task = SyntheticTask(space)
    study = optuna.create_study(direction="maximize", sampler=GeneticSampler(
        space=space, strategy=get_strategy("genetic-cnn", population=6, generations=2), seed=0,
        rebreed_after=None))
    study.optimize(Objective(space=space, task=task, max_evaluations=1), n_trials=18)
    genome = space.random_genome(__import__("random").Random(0))
    measured = set(task.evaluate(genome, seed=0, workdir=None).measurements)  # type: ignore[arg-type]
    trials = study.get_trials(deepcopy=False)
    assert any(t.user_attrs[R.CACHED] for t in trials)  # cache answers happened
    lineage = {R.GA_GENERATION, R.GA_OPERATOR, R.GA_PARENTS}
    for t in trials:
        names = set(t.user_attrs)
        assert names <= R.BOOKKEEPING | lineage | measured, names - R.BOOKKEEPING - lineage
        assert set(R.measurements(t.user_attrs)) == measured
        assert R.count_trained([t]) == int(R.trained(t.user_attrs))
