"""Syne Tune's regularized evolution under ASHA as a comparison baseline
(nasga.samplers.baselines.synetune): the scheduler is called as Syne Tune's Tuner calls it."""

from __future__ import annotations

import importlib.util
import math
import sys
from types import SimpleNamespace

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from nasga.cli import main
from nasga.compare.runs import RunSpec, config_for, run_one
from nasga.errors import NasgaInputError
from nasga.samplers.baselines.synetune import (
    EPOCH, METRIC, NAME, SyneTuneSampler, config_space,
)
from nasga.samplers.registry import SAMPLERS, sampler_entry
from nasga.spaces import GeneticCNNSpace
from tests.helpers import one_line_error

HAS_SYNE_TUNE = importlib.util.find_spec("syne_tune") is not None


class ScriptedScheduler:
    """Syne Tune's scheduler methods: suggests scripted configs, stops at scripted epochs,
    and records every call."""

    def __init__(self, configs: list[dict], stop_at: dict[int, int]) -> None:
        self.configs, self.stop_at, self.calls = configs, stop_at, []

    def suggest(self) -> SimpleNamespace:
        return SimpleNamespace(config=self.configs[sum(c[0] == "add" for c in self.calls)])

    def on_trial_add(self, trial) -> None:
        self.calls.append(("add", trial.trial_id))

    def on_trial_result(self, trial, result: dict) -> str:
        self.calls.append(("result", trial.trial_id, result[METRIC], result[EPOCH]))
        return "STOP" if self.stop_at.get(trial.trial_id) == result[EPOCH] else "CONTINUE"

    def on_trial_complete(self, trial, result: dict) -> None:
        self.calls.append(("complete", trial.trial_id, result[METRIC], result[EPOCH]))

    def on_trial_error(self, trial) -> None:
        self.calls.append(("error", trial.trial_id))

    def on_trial_remove(self, trial) -> None:
        self.calls.append(("remove", trial.trial_id))


def test_optuna_distributions_become_syne_tune_domains() -> None:
    domains = SimpleNamespace(choice=lambda v: ("choice", v),
                              randint=lambda lo, hi: ("randint", lo, hi))
    assert config_space({"a": IntDistribution(0, 1), "b": IntDistribution(2, 8, step=3),
                         "c": CategoricalDistribution(["x", "y"])}, domains) == {
        "a": ("randint", 0, 1), "b": ("choice", [2, 5, 8]), "c": ("choice", ["x", "y"])}
    with pytest.raises(NasgaInputError, match="int and categorical"):
        config_space({"f": FloatDistribution(0, 1)}, domains)


def _suggest(trial: optuna.Trial, space: GeneticCNNSpace) -> dict:
    return {name: trial.suggest_int(name, d.low, d.high) for name, d in space.distributions.items()}


def test_each_reported_epoch_goes_to_the_scheduler_and_its_stop_prunes_the_trial() -> None:
    space = GeneticCNNSpace((3, 4))
    ones = {name: 1 for name in space.distributions}
    fake = ScriptedScheduler([ones, {n: 0 for n in ones}, ones], stop_at={0: 3})
    sampler = SyneTuneSampler(space=space, epochs=9, seed=0, scheduler=fake)

    def objective(trial: optuna.Trial) -> float:
        params = _suggest(trial, space)
        if trial.number == 2:
            return math.nan  # Optuna fails it
        assert params == fake.configs[trial.number]
        for epoch in range(1, 10):
            trial.report(epoch / 10, epoch)
            if epoch < 9 and trial.should_prune():
                raise optuna.TrialPruned()
        return 0.95

    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=sampler.pruner)
    study.optimize(objective, n_trials=3)
    assert [t.state for t in study.trials] == [TrialState.PRUNED, TrialState.COMPLETE,
                                               TrialState.FAIL]
    results = [c for c in fake.calls if c[0] == "result"]
    assert [(c[1], c[3]) for c in results] == [(0, 1), (0, 2), (0, 3), *((1, e) for e in
                                                                         range(1, 9))]
    assert results[2][2] == pytest.approx(-0.3)  # a loss: the maximised value negated
    assert ("remove", 0) in fake.calls and ("complete", 1, -0.95, 9) in fake.calls
    assert fake.calls[-2:] == [("error", 2), ("remove", 2)]


def test_bad_settings_and_a_missing_package_are_one_line(monkeypatch) -> None:
    space = GeneticCNNSpace((3, 4))
    with pytest.raises(NasgaInputError, match="does not report"):
        SyneTuneSampler(space=space, epochs=None, seed=0, scheduler=object())
    with pytest.raises(NasgaInputError, match="grace_period"):
        SyneTuneSampler(space=space, epochs=9, seed=0, grace_period=10, scheduler=object())
    monkeypatch.setitem(sys.modules, "syne_tune", None)
    with pytest.raises(NasgaInputError, match="pip install --no-deps syne-tune && pip install") as info:
        sampler_entry(NAME, field="samplers")
    assert "\n" not in str(info.value)
    assert NAME not in SAMPLERS


def test_a_comparison_without_the_package_is_one_line_and_writes_nothing(
        tmp_path, capsys, monkeypatch) -> None:
    out = tmp_path / "out"
    monkeypatch.setitem(sys.modules, "syne_tune", None)
    err, _ = one_line_error(main, ["compare", "--table", "genetic_cnn_34_digits_e27",
                                   "--budget-unit", "epochs", "--budget", "54", "--seeds", "1",
                                   "--samplers", NAME, "--out", str(out)], capsys)
    assert f"samplers: {NAME} needs an optional package" in err
    assert not out.exists()


@pytest.mark.skipif(not HAS_SYNE_TUNE, reason="the optional syne-tune package is not "
                    "installed (nasga.samplers.baselines.synetune.INSTALL)")
def test_syne_tune_at_equal_epochs_stops_trainings_at_its_rungs() -> None:
    cfg = config_for(table="genetic_cnn_34_digits_e27")
    spec = RunSpec(cfg, NAME, 0, 540, 3, "memory", budget_unit="epochs", epochs=27)
    np.random.seed(7)
    expected = np.random.rand(3)
    np.random.seed(7)
    res = run_one(spec)
    assert (np.random.rand(3) == expected).all()  # NumPy's global draws did not move
    again = run_one(spec)  # seeded: the same run, though Syne Tune draws from the global one
    assert [r["key"] for r in res.curve] == [r["key"] for r in again.curve]
    assert res.spent >= 540 and res.stopped > 0
    paid = [row["spent"] for row in res.curve]
    assert {b - a for a, b in zip([0, *paid], paid)} <= {1, 3, 9, 27}  # ASHA's rungs, eta 3
