"""The objective on a multi-objective study (issue 29): each objective's mean over the key's
measurements, the same measurements the mean fitness averages; cache answers repeat it."""

from __future__ import annotations

import math
from statistics import fmean

import optuna
import pytest
from optuna.trial import TrialState

from nasga.evaluation.objective import Objective
from nasga.evaluation.objectives import default_direction, key_means
from nasga.evaluation.records import is_measurement
from nasga.tasks.synthetic import SyntheticTask
from tests.helpers import small_gcnn


def test_default_directions() -> None:
    assert [default_direction(n) for n in ("fitness", "val_accuracy", "macs", "params",
                                           "l_gen", "psnr", "val_loss", "train_d_loss")] == [
        "maximize", "maximize", "minimize", "minimize", "minimize", "maximize", "minimize",
        "minimize"]
    assert default_direction("device") is None


def test_key_means() -> None:
    rows = [{"fitness_raw": 1.0, "macs": 4}, {"fitness_raw": 2.0, "macs": 4}]
    assert key_means(("fitness", "macs"), rows) == (1.5, 4.0)
    assert math.isnan(key_means(("psnr",), rows)[0])  # not measured: NaN, the trial fails


def test_each_objective_is_the_mean_over_the_keys_measurements() -> None:
    space = small_gcnn()
    task = SyntheticTask(space, noise=0.1)
    objective = Objective(space=space, task=task, max_evaluations=3,
                          objectives=("fitness", "score", "macs"))
    study = optuna.create_study(directions=["maximize", "maximize", "minimize"])
    genome = {n: 1 for n in space.distributions}
    for _ in range(5):  # 3 trainings, then 2 cache answers
        study.enqueue_trial(genome)
    study.optimize(objective, n_trials=5)
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert [is_measurement(t.user_attrs) for t in trials] == [True] * 3 + [False] * 2
    for t in trials:
        done = [u.user_attrs for u in trials[:3] if u.number <= t.number]
        assert t.values == [sum(a["fitness_raw"] for a in done) / len(done),
                            pytest.approx(fmean(a["score"] for a in done), rel=1e-12),
                            float(space.n_bits)]
    assert trials[2].values[0] != trials[0].values[0]  # the noise made the repeats differ
    assert trials[4].values == trials[2].values


def test_a_failed_evaluation_fails_the_trial() -> None:
    space = small_gcnn()

    class Broken(SyntheticTask):
        def evaluate(self, genome, *, seed, workdir, report=None):
            raise RuntimeError("boom")

    objective = Objective(space=space, task=Broken(space), max_evaluations=1,
                          objectives=("fitness", "macs"))
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.optimize(objective, n_trials=1)
    assert study.trials[0].state == TrialState.FAIL
    assert "boom" in study.trials[0].user_attrs["fail_reason"]


def test_pruning_several_objectives_is_refused_in_one_line() -> None:
    from nasga.spaces import NasgaInputError

    space = small_gcnn()
    with pytest.raises(NasgaInputError, match="^prune: Optuna refuses pruning in multi-"):
        Objective(space=space, task=SyntheticTask(space), prune=True,
                  objectives=("fitness", "macs"))


def test_best_genome_of_foreign_multi_objective_trials_is_none() -> None:
    from nasga.results.best import best_genome

    study = optuna.create_study(directions=["maximize", "minimize"])
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=2)
    assert best_genome(study) is None
