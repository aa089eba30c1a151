"""A hard cost budget (max_macs / max_params): children over it are never proposed by the GA and
never trained under any sampler."""

from __future__ import annotations

import random

import pytest
from optuna.trial import TrialState

from nasga.evaluation.budget import CostBudget
from nasga.search.config import build_space, validate
from nasga.search.run import open_search, optimize
from nasga.spaces import NasgaInputError
from nasga.tasks import build_task


def test_cost_budget_rules() -> None:
    assert not CostBudget() and CostBudget(max_macs=10)
    assert CostBudget(max_macs=10).over(11, 0) == "11 MACs per image > max_macs 10"
    assert CostBudget(max_params=5).over(1e9, 6) == "6 params > max_params 5"
    assert CostBudget(max_macs=10, max_params=5).over(10, 5) is None
    for bad in (0, -1, "10", True):
        with pytest.raises(NasgaInputError, match="max_macs"):
            CostBudget(max_macs=bad)


def _cfg(tmp_path, sampler: str, max_macs: float | None) -> dict:
    task = {"dataset": "photos", "image_size": 32, "epochs": 1, "max_train": 8, "max_val": 4,
            "grid_images": 0, "device": "cpu"}
    if max_macs is not None:
        task["max_macs"] = max_macs
    return validate({
        "study": {"name": f"budget-{sampler}", "task": "unet", "sampler": sampler, "seed": 0,
                  "storage": f"sqlite:///{tmp_path / 'b.db'}"},
        "space": {"depth": 3, "channels": [4, 8, 16]},
        "strategy": {"population": 4, "generations": 2, "max_evaluations": 1},
        "task": task,
    })


def _median_macs(tmp_path) -> float:
    cfg = _cfg(tmp_path, "ga", None)
    space, task = build_space(cfg), build_task(build_space(cfg), cfg["task"])
    rng = random.Random(0)
    macs = sorted(task.network_cost(space.random_genome(rng)).macs for _ in range(40))
    return macs[len(macs) // 2]


def test_unknown_or_bad_budget_is_refused_by_the_config(tmp_path) -> None:
    with pytest.raises(NasgaInputError, match="task.max_macs"):
        _cfg(tmp_path, "ga", -5.0)


@pytest.mark.parametrize("sampler", ["ga", "random"])
def test_nothing_over_the_budget_is_trained(tmp_path, sampler: str) -> None:
    limit = _median_macs(tmp_path)
    cfg = _cfg(tmp_path, sampler, limit)
    search = open_search(cfg, storage_url=cfg["study"]["storage"])
    optimize(search, progress=False, log=lambda line: None)
    trials = search.study.trials
    trained = [t for t in trials if t.user_attrs.get("trained")]
    assert trained and all(float(t.user_attrs["macs"]) <= limit for t in trained)
    over = [t for t in trials if "over_budget" in t.user_attrs]
    assert all(t.state == TrialState.PRUNED and not t.user_attrs.get("trained") for t in over)
    if sampler == "ga":
        assert not over  # the GA re-breeds instead of proposing them
