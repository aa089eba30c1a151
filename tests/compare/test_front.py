"""Multi-objective comparisons: the returned front, hypervolume regret (issue 29 part 4)."""

from __future__ import annotations

import random

import numpy as np
import optuna
import pytest

from nasga.cli import main
from nasga.compare.front import TrueFront, front_curve, returned_front
from nasga.compare.runs import RunSpec, compare, config_for, study_settings, run_one
from nasga.spaces import NasgaInputError

optuna.logging.set_verbosity(optuna.logging.WARNING)
DIRS = ("maximize", "minimize")


def _cfg(table: str | None = None) -> dict:
    return config_for(table=table, settings=study_settings("val_accuracy,macs", None))


def _brute_hv(points: np.ndarray) -> float:
    """2-D hypervolume against (1, 1) by a fine grid of the unit square (independent check)."""
    n = 400
    grid = (np.arange(n) + 0.5) / n
    xs, ys = np.meshgrid(grid, grid)
    covered = np.zeros_like(xs, dtype=bool)
    for x, y in points:
        covered |= (xs >= x) & (ys >= y)
    return float(covered.mean())


def test_true_front_hypervolume_and_regret_match_a_grid_count() -> None:
    rng = np.random.default_rng(0)
    truth = np.column_stack([rng.uniform(0.5, 1.0, 40), rng.uniform(1e4, 1e6, 40)])
    keys = [f"k{i}" for i in range(40)]
    tf = TrueFront(truth, DIRS, keys.index)
    norm = tf.normalise(truth)
    assert norm.min() == pytest.approx(0.0) and norm.max() == pytest.approx(1.0)
    assert tf.optimum == pytest.approx(_brute_hv(norm), abs=5e-3)
    assert tf.regret(keys) == pytest.approx(0.0, abs=1e-12)  # every key: the true front
    some = keys[:10]
    assert tf.regret(some) == pytest.approx(tf.optimum - _brute_hv(norm[:10]), abs=5e-3)
    assert tf.regret(some) >= tf.regret(keys[:20]) >= 0  # a superset never loses volume


def test_returned_front_is_the_non_dominated_keys_by_direction() -> None:
    means = {"a": (0.9, 100.0), "b": (0.8, 50.0), "c": (0.7, 80.0), "d": (0.95, 200.0),
             "e": (0.9, 100.0)}
    assert returned_front(means, DIRS) == ["a", "b", "d", "e"]  # c: b dominates it
    assert returned_front(means, ("minimize", "maximize")) == ["a", "c", "d", "e"]  # not b
    assert returned_front({"a": (0.9, float("nan")), "b": (0.1, 1.0)}, DIRS) == ["b"]
    assert returned_front({}, DIRS) == []


def test_a_multi_objective_run_scores_its_front_on_the_table_means() -> None:
    cfg = _cfg()
    spec = RunSpec(cfg, "random", 3, 40, 3, "memory")
    res = run_one(spec)
    assert "val_accuracy+macs" in spec.study_name
    assert len(res.curve) == 40 and res.front
    from nasga.compare.run import true_front
    from nasga.search.settings import Settings

    settings = Settings.from_config(cfg)
    task = settings.build_task()
    truth = true_front(settings, task)
    assert truth is not None and 0.5 < truth.optimum <= 1.0
    assert res.curve[-1]["regret"] == pytest.approx(truth.regret(res.front))
    assert all(0 <= row["regret"] <= truth.optimum for row in res.curve)
    assert res.curve[-1]["incumbent"] == f"front of {len(res.front)}"


def test_front_curve_recomputes_the_front_from_the_trials() -> None:
    cfg = _cfg()
    from nasga.compare.run import true_front
    from nasga.evaluation.objective import Objective
    from nasga.search.settings import Settings

    settings = Settings.from_config(cfg)
    task = settings.build_task()
    study = optuna.create_study(directions=list(DIRS), sampler=optuna.samplers.RandomSampler(0))
    study.optimize(Objective(space=settings.space, task=task, max_evaluations=2, seed=0,
                             objectives=settings.study.objectives), n_trials=60)
    trials = study.get_trials()
    rows, front = front_curve(trials, budget=1000, objectives=("val_accuracy", "macs"),
                              directions=DIRS, truth=true_front(settings, task))
    trained = [t for t in trials if t.user_attrs.get("trained")]
    assert len(rows) == len(trained) and [r["trial"] for r in rows] == [t.number for t in trained]
    means: dict[str, list] = {}
    for t in trials:  # every measurement (trainings and the cache's answers carry none twice)
        if t.user_attrs.get("trained"):
            means.setdefault(t.user_attrs["key"], []).append(
                (t.user_attrs["val_accuracy"], t.user_attrs["macs"]))
    mean = {k: tuple(np.mean(v, axis=0)) for k, v in means.items()}
    for k in front:  # nothing measured dominates a front member
        assert not any(m[0] >= mean[k][0] and m[1] <= mean[k][1] and m != mean[k]
                       for m in mean.values())
    outside = set(mean) - set(front)
    for k in outside:  # and something dominates every other key
        assert any(m[0] >= mean[k][0] and m[1] <= mean[k][1] and m != mean[k]
                   for m in mean.values())
    curve_budget, _ = front_curve(trials, budget=5, objectives=("val_accuracy", "macs"),
                                  directions=DIRS)
    assert len(curve_budget) == 5 and all(np.isnan(r["regret"]) for r in curve_budget)


def test_compare_with_objectives_writes_hypervolume_regret(tmp_path) -> None:
    cmp = compare(_cfg(), samplers=["ga", "aging", "nsga2", "random"], seeds=2, budget=15,
                  out_dir=tmp_path, storage="memory", max_evaluations=3, log=lambda line: None)
    assert cmp.objectives == ("val_accuracy", "macs") and cmp.optimum is not None
    assert all(r.front and 0 <= r.curve[-1]["regret"] <= cmp.optimum for r in cmp.results)
    page = cmp.html_path.read_text(encoding="utf-8")
    assert "Hypervolume regret" in page and "reference point" in page


@pytest.mark.parametrize("sampler", ["aging-intensify", "cmaes"])
def test_single_objective_samplers_are_refused_in_one_line(tmp_path, sampler) -> None:
    with pytest.raises(NasgaInputError, match="samplers"):
        compare(_cfg(), samplers=["random", sampler], seeds=1, budget=3, out_dir=tmp_path,
                storage="memory", log=lambda line: None)
    assert not (tmp_path / "compare.csv").exists()


def test_cli_compare_objectives_and_bad_input(tmp_path, capsys) -> None:
    rc = main(["compare", "--objectives", "val_accuracy,macs", "--samplers", "ga,random",
               "--seeds", "2", "--budget", "6", "--max-evaluations", "3", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 0 and "| ga | 2 |" in out and "regret @ 6" in out
    bad = [(["--objectives", "val_accuracy,flops"], "study.objectives"),
           (["--objectives", "val_accuracy,macs", "--directions", "maximize"], "study.directions"),
           (["--objectives", "val_accuracy,macs", "--samplers", "aging-intensify"], "samplers")]
    for extra, field in bad:
        out_dir = tmp_path / f"bad{random.random()}"
        assert main(["compare", *extra, "--out", str(out_dir)]) == 2
        err = capsys.readouterr().err
        assert field in err and len(err.strip().splitlines()) == 1
        assert not (out_dir / "compare.log").exists() or (out_dir / "compare.log").stat().st_size == 0


def test_the_returned_front_is_the_one_nasga_export_names(tmp_path) -> None:
    """compare's incremental front (moocore) and best.pareto_front (DEAP) are one rule."""
    from nasga.results.best import pareto_front
    from nasga.storages.storage import open_storage

    url = f"journal:///{tmp_path / 'c.log'}"
    for sampler in ("aging", "nsga2"):
        spec = RunSpec(_cfg(), sampler, 1, 60, 3, url)
        res = run_one(spec)
        study = optuna.load_study(study_name=spec.study_name,
                                  storage=open_storage(url, heartbeat=False))
        assert sorted(m.key for m in pareto_front(study)) == sorted(res.front)
