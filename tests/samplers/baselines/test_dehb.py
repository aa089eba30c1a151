"""DEHB as a comparison baseline (nasga.samplers.baselines.dehb): its jobs become trials trained for the
epochs DEHB chose, told back with the study's direction applied."""

from __future__ import annotations

import importlib.util
import math
import sys

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, IntDistribution, FloatDistribution
from optuna.trial import TrialState

from nasga.cli import main
from nasga.compare.runs import RunSpec, config_for, run_one
from nasga.errors import NasgaInputError
from nasga.samplers.baselines._common import SamplerPruner
from nasga.samplers.baselines.dehb import DEHBSampler, choice
from nasga.samplers.registry import SAMPLERS, STUDY_SAMPLERS, sampler_entry
from nasga.spaces import GeneticCNNSpace
from tests.helpers import one_line_error

HAS_DEHB = importlib.util.find_spec("dehb") is not None


class ScriptedDEHB:
    """DEHB's ask/tell interface with scripted jobs: records what it was told."""

    def __init__(self, jobs: list[tuple[list[float], float]]) -> None:
        self.jobs = [{"config": x, "fidelity": f, "config_id": i}
                     for i, (x, f) in enumerate(jobs)]
        self.told: list[tuple[int, dict]] = []
        self.asked = 0

    def ask(self) -> dict:
        self.asked += 1
        return self.jobs[self.asked - 1]

    def tell(self, job: dict, result: dict) -> None:
        self.told.append((job["config_id"], result))


def test_a_vector_coordinate_bins_onto_a_parameter_s_values() -> None:
    bits = IntDistribution(0, 1)
    assert [choice(bits, x) for x in (0.0, 0.49, 0.5, 1.0)] == [0, 0, 1, 1]
    three = CategoricalDistribution(["a", "b", "c"])
    assert [choice(three, x) for x in (0.0, 0.34, 0.67, 1.0)] == ["a", "b", "c", "c"]
    assert [choice(IntDistribution(2, 8, step=3), x) for x in (0.1, 0.5, 0.9)] == [2, 5, 8]
    with pytest.raises(NasgaInputError, match="int and categorical"):
        choice(FloatDistribution(0, 1), 0.5)


def _suggest(trial: optuna.Trial, space: GeneticCNNSpace) -> dict:
    return {name: trial.suggest_int(name, d.low, d.high) for name, d in space.distributions.items()}


def _study(sampler: DEHBSampler) -> optuna.Study:
    return optuna.create_study(direction="maximize", sampler=sampler, pruner=sampler.pruner)


def test_each_trial_trains_the_epochs_of_its_job_and_dehb_is_told_its_negated_last_value(
) -> None:
    space = GeneticCNNSpace((3, 4))
    d = len(space.distributions)
    fake = ScriptedDEHB([([0.0] * d, 3.0), ([1.0] * d, 9.0), ([0.7] * d, 1.0000000002)])
    sampler = DEHBSampler(space=space, epochs=9, seed=0, optimizer=fake)
    stopped: list[int] = []

    def objective(trial: optuna.Trial) -> float:
        assert set(_suggest(trial, space).values()) == {int(trial.number > 0)}  # x < .5: 0
        for epoch in range(1, 10):
            trial.report(epoch / 10, epoch)
            if epoch < 9 and trial.should_prune():
                stopped.append(epoch)
                raise optuna.TrialPruned()
        return 0.95

    study = _study(sampler)
    study.optimize(objective, n_trials=3)
    assert stopped == [3, 1]  # job 0 at 3 epochs, job 2 at its fidelity rounded to 1
    assert [s for s in (t.state for t in study.trials)] == [TrialState.PRUNED,
                                                             TrialState.COMPLETE,
                                                             TrialState.PRUNED]
    told = dict(fake.told)
    assert told[0]["fitness"] == pytest.approx(-0.3) and told[0]["cost"] == 3.0
    assert told[1]["fitness"] == pytest.approx(-0.95)
    assert told[2]["fitness"] == pytest.approx(-0.1)
    assert [sampler.fidelity(n) for n in range(3)] == [3, 9, 1]


def test_a_failed_trial_is_told_as_the_worst_fitness_and_a_foreign_trial_is_not_told() -> None:
    space = GeneticCNNSpace((3, 4))
    fake = ScriptedDEHB([([0.2] * len(space.distributions), 9.0)])
    sampler = DEHBSampler(space=space, epochs=9, seed=0, optimizer=fake)
    study = _study(sampler)
    study.optimize(lambda t: (_suggest(t, space), math.nan)[1], n_trials=1)  # NaN: it fails
    assert study.trials[0].state == TrialState.FAIL
    assert fake.told == [(0, {"fitness": math.inf, "cost": 9.0})]
    foreign = optuna.trial.create_trial(value=0.5, intermediate_values={1: 0.5})
    assert sampler.fidelity(foreign.number) is None
    assert not SamplerPruner(sampler).prune(study, foreign)  # no job: never stopped


def test_bad_settings_and_a_missing_package_are_one_line(monkeypatch) -> None:
    space = GeneticCNNSpace((3, 4))
    with pytest.raises(NasgaInputError, match="does not report"):
        DEHBSampler(space=space, epochs=None, seed=0, optimizer=object())
    with pytest.raises(NasgaInputError, match="min_epochs"):
        DEHBSampler(space=space, epochs=9, seed=0, min_epochs=9, optimizer=object())
    monkeypatch.setitem(sys.modules, "dehb", None)  # import dehb raises ImportError
    with pytest.raises(NasgaInputError, match="pip install --no-deps dehb && pip install ConfigSpace") as info:
        sampler_entry("dehb", field="samplers")
    assert "\n" not in str(info.value) and str(info.value).startswith("samplers: dehb needs")


def test_dehb_is_a_comparison_baseline_only() -> None:
    assert "dehb" not in SAMPLERS and "dehb" not in STUDY_SAMPLERS
    with pytest.raises(NasgaInputError, match="must be one of .*; dehb is nasga compare's only: "
                       "a baseline whose state lives in one process; .*got 'dehb'"):
        sampler_entry("dehb", study=True)


def test_a_comparison_refuses_dehb_without_the_package_or_with_a_pruner(
        tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "out"
    args = ["compare", "--table", "genetic_cnn_34_digits_e27", "--budget-unit", "epochs",
            "--budget", "54", "--seeds", "1", "--samplers", "dehb", "--out", str(out)]
    if HAS_DEHB:
        err, _ = one_line_error(main, [*args, "--pruner", "hyperband"], capsys)
        assert err.endswith("samplers: dehb takes no pruner: it stops each trial's training "
                            "itself; got the pruner 'hyperband'")
        err, _ = one_line_error(main, [a for a in args if a not in {
            "--table", "genetic_cnn_34_digits_e27", "--budget-unit", "epochs"}], capsys)
        assert "does not report" in err
    monkeypatch.setitem(sys.modules, "dehb", None)
    err, _ = one_line_error(main, args, capsys)
    assert "samplers: dehb needs an optional package (pip install --no-deps dehb" in err
    assert not out.exists()


@pytest.mark.skipif(not HAS_DEHB, reason="the optional dehb package is not installed "
                    "(nasga.samplers.baselines.dehb.INSTALL)")
def test_dehb_at_equal_epochs_stops_trainings_at_its_rungs_and_spends_the_budget() -> None:
    cfg = config_for(table="genetic_cnn_34_digits_e27")
    spec = RunSpec(cfg, "dehb", 0, 540, 3, "memory", budget_unit="epochs", epochs=27)
    res = run_one(spec)
    again = run_one(spec)  # seeded: the same run
    assert [r["key"] for r in res.curve] == [r["key"] for r in again.curve]
    assert res.spent >= 540 and res.stopped > 0
    paid = [row["spent"] for row in res.curve]
    steps = {b - a for a, b in zip([0, *paid], paid)}
    assert steps <= {1, 3, 9, 27} and {1, 27} <= steps  # DEHB's fidelities, eta 3 from epoch 1
