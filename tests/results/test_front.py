"""A multi-objective study's result is a Pareto front (issue 29): the one rule over keys'
current means (``best.pareto_front``), ``nasga export`` writes every member, ``train-best``
points at export, and single-objective export keeps its form."""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import fmean

import optuna
import pytest
from optuna.trial import TrialState, create_trial

import nasga.evaluation.records as R
from nasga.cli import main
from nasga.results.best import MIN_TRAININGS, pareto_front
from nasga.search.config import validate
from nasga.search.run import open_search, optimize
from nasga.storages.storage import CONFIG_ATTR
from tests.helpers import one_line_error

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _measurement(key: str, score: float, macs: float, values: tuple[float, float]):
    attrs = {R.KEY: key, R.GENOME: key, R.TRAINED: True, R.FITNESS_RAW: score,
             "score": score, "macs": macs}
    return create_trial(state=TrialState.COMPLETE, values=list(values), params={},
                        distributions={}, user_attrs=attrs)


def _hand_study() -> optuna.Study:
    study = optuna.create_study(directions=["maximize", "minimize"])
    study.set_user_attr(CONFIG_ATTR, {"study": {"objectives": ["score", "macs"]}})
    return study


def test_the_front_is_over_current_key_means_not_stale_trial_values() -> None:
    study = _hand_study()
    study.add_trial(_measurement("A", 0.9, 5.0, (0.9, 5.0)))  # A's lucky first training
    study.add_trial(_measurement("B", 0.8, 5.0, (0.8, 5.0)))
    study.add_trial(_measurement("A", 0.5, 5.0, (0.7, 5.0)))  # A's mean falls to 0.7
    study.add_trial(_measurement("C", 0.6, 3.0, (0.6, 3.0)))
    assert {t.number for t in study.best_trials} == {0, 3}  # Optuna: A's stale value hides B
    front = pareto_front(study)
    assert [m.key for m in front] == ["B", "C"]  # best first by the first objective
    assert [m.values for m in front] == [(0.8, 5.0), (0.6, 3.0)]
    assert all(m.n_measurements == 1 and not m.confirmed for m in front)
    assert all(math.isinf(m.crowding) for m in front)  # two members: both boundaries
    study.add_trial(_measurement("A", 1.6, 5.0, (1.0, 5.0)))  # A's mean now 1.0
    front = pareto_front(study, min_trainings=3)
    assert [(m.key, m.n_measurements, m.confirmed, m.trials) for m in front] == [
        ("A", 3, True, (0, 2, 4)), ("C", 1, False, (3,))]
    assert front[0].values[0] == pytest.approx(1.0) and front[0].trial.number == 4


def _mo_cfg(name: str, noise: float = 0.1) -> dict:
    return validate({"study": {"name": name, "task": "genetic-cnn", "seed": 3,
                               "objectives": ["score", "macs"]},
                     "space": {"stages": [3, 4]},
                     "strategy": {"population": 8, "generations": 2, "max_evaluations": 1},
                     "task": {"task": "synthetic", "noise": noise}})


def _dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Score maximized, MACs minimized, written out here independently of DEAP."""
    return a[0] >= b[0] and a[1] <= b[1] and (a[0] > b[0] or a[1] < b[1])


def test_export_writes_every_front_member(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'mo.db'}"
    search = open_search(_mo_cfg("mo"), storage_url=url)
    optimize(search, progress=False, log=lambda s: None)
    groups: dict[str, list] = {}
    for t in search.study.trials:
        if t.state == TrialState.COMPLETE and t.user_attrs.get(R.TRAINED):
            groups.setdefault(t.user_attrs[R.KEY], []).append(t)
    means = {k: (fmean(t.user_attrs["score"] for t in ts), fmean(t.user_attrs["macs"] for t in ts))
             for k, ts in groups.items()}
    expected = {k for k, v in means.items() if not any(_dominates(w, v) for w in means.values())}

    out = tmp_path / "front.json"
    assert main(["export", "--storage", url, "--study-name", "mo", "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    record = json.loads(out.read_text())
    assert record["objectives"] == [{"name": "score", "direction": "maximize"},
                                    {"name": "macs", "direction": "minimize"}]
    assert record["min_trainings"] == MIN_TRAININGS and record["space"] == "genetic-cnn"
    members = record["front"]
    assert {m["key"] for m in members} == expected and len(members) == len(expected) > 1
    scores = [m["values"]["score"] for m in members]
    assert scores == sorted(scores, reverse=True)
    for m in members:
        ts = groups[m["key"]]
        assert (m["values"]["score"], m["values"]["macs"]) == pytest.approx(means[m["key"]])
        assert m["n_trainings"] == len(ts) and m["confirmed"] == (len(ts) >= MIN_TRAININGS)
        assert m["trials"] == [t.number for t in ts] and m["trial"] == ts[-1].number
        assert m["genome"] == ts[-1].user_attrs[R.GENOME] and "score" in m["measurements"]
        assert R.KEY not in m["measurements"]
    assert record[CONFIG_ATTR]["study"]["objectives"] == ["score", "macs"]
    assert main(["export", "--storage", url, "--study-name", "mo"]) == 0  # stdout: the same
    assert json.loads(capsys.readouterr().out) == record

    line, _ = one_line_error(main, ["train-best", "--storage", url, "--study-name", "mo",
                                    "--out", str(tmp_path / "model")], capsys)
    assert line.startswith("nasga train-best: error: study_name: study 'mo' has 2 objectives")
    assert f"Pareto front of {len(expected)} genomes" in line and "`nasga export`" in line
    assert not (tmp_path / "model").exists()


def test_single_objective_export_keeps_its_form(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _mo_cfg("so")
    del cfg["study"]["objectives"], cfg["study"]["directions"]
    url = f"sqlite:///{tmp_path / 'so.db'}"
    optimize(open_search(validate(cfg), storage_url=url), progress=False, log=lambda s: None)
    assert main(["export", "--storage", url, "--study-name", "so"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert list(record) == ["study_name", "space", "space_config", "genome", "key", "fitness",
                            "n_trainings", "confirmed", "trial", "measurements", CONFIG_ATTR]
