"""``[study] objectives`` and ``directions`` (issue 29): validated in one place, stored, resumed,
run end to end; bad input is one line and exit 2 with nothing written; commands that name one
best genome (train-best) say so in one line on a multi-objective study, and export and
report read it as a front."""

from __future__ import annotations

import copy
from pathlib import Path
from statistics import fmean

import optuna
import pytest

from nasga.cli import main
from nasga.errors import NasgaInputError
from nasga.evaluation.records import is_measurement
from nasga.search.config import validate
from nasga.search.run import open_search, optimize
from nasga.search.summary import summary
from nasga.search.settings import Settings
from nasga.results.stats import generation_stats
from tests.helpers import one_line_error

RAW = {"study": {"name": "mo", "task": "genetic-cnn", "objectives": ["val_accuracy", "macs"]},
       "space": {"stages": [3, 4]}, "strategy": {"population": 6, "generations": 2},
       "task": {"task": "genetic-cnn-bench"}}


def _with(**study: object) -> dict:
    raw = copy.deepcopy(RAW)
    raw["study"].update(study)
    return {**raw, "study": {k: v for k, v in raw["study"].items() if v is not None}}


def test_defaults_come_from_the_one_table_and_are_stored_resolved() -> None:
    cfg = validate(RAW)
    assert cfg["study"]["objectives"] == ["val_accuracy", "macs"]
    assert cfg["study"]["directions"] == ["maximize", "minimize"]
    assert validate(cfg) == cfg
    settings = Settings.from_config(cfg)
    assert settings.study.multi_objective and settings.to_config() == cfg
    cfg = validate(_with(objectives=["fitness", "params", "val_loss"]))
    assert cfg["study"]["directions"] == ["maximize", "minimize", "minimize"]
    given = validate(_with(directions=["minimize", "maximize"]))["study"]["directions"]
    assert given == ["minimize", "maximize"]  # explicit directions win


def test_the_fitness_alone_is_stored_as_before() -> None:
    plain = validate(_with(objectives=None))
    assert "objectives" not in plain["study"] and "directions" not in plain["study"]
    assert validate(_with(objectives=["fitness"])) == plain
    assert Settings.from_config(plain).study.directions == ("maximize",)


@pytest.mark.parametrize("study, field, words", [
    ({"objectives": ["val_accuracy", "flops"]}, "study.objectives",
     "unknown objective 'flops'; the task measures fitness, val_accuracy, val_loss"),
    ({"objectives": ["macs", "macs"]}, "study.objectives", "names an objective twice"),
    ({"objectives": []}, "study.objectives", "must be a list of 1 or more"),
    ({"objectives": "macs"}, "study.objectives", "must be a list"),
    ({"objectives": ["macs"]}, "study.objectives", "a single objective is the fitness"),
    ({"directions": ["maximize"]}, "study.directions", "must be 2 of maximize / minimize"),
    ({"directions": ["up", "down"]}, "study.directions", "got ['up', 'down']"),
    ({"objectives": None, "directions": ["maximize"]}, "study.directions",
     "needs study.objectives"),
    ({"sampler": "aging-intensify"}, "study.sampler", "aging-intensify compares one mean"),
    ({"sampler": "cmaes"}, "study.sampler", "cmaes is single-objective"),
])
def test_bad_objectives_are_one_line(study: dict, field: str, words: str) -> None:
    with pytest.raises(NasgaInputError) as info:
        validate(_with(**study))
    assert info.value.field == field and words in str(info.value)
    assert "\n" not in str(info.value)


def test_a_name_without_a_default_direction_needs_directions() -> None:
    from nasga.evaluation.objectives import check_objectives

    with pytest.raises(NasgaInputError, match="study.directions: 'accuracy_gap' has no default"):
        check_objectives(["fitness", "accuracy_gap"], None, ["accuracy_gap"])
    assert check_objectives(["fitness", "accuracy_gap"], ["maximize", "minimize"],
                            ["accuracy_gap"])[1] == ("maximize", "minimize")


def test_a_pruner_with_several_objectives_is_refused() -> None:
    raw = _with(pruner="median")
    raw["task"]["table"] = "genetic_cnn_34_digits_e27"  # a task with epochs takes a pruner
    with pytest.raises(NasgaInputError, match="study.pruner: Optuna refuses pruning in "
                                              "multi-objective studies"):
        validate(raw)


def _toml(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "mo.toml"
    path.write_text('[study]\nname = "mo"\ntask = "genetic-cnn"\n'
                    'objectives = ["val_accuracy", "macs"]\n' + extra +
                    '[space]\nstages = [3, 4]\n[strategy]\npopulation = 6\ngenerations = 2\n'
                    '[task]\ntask = "genetic-cnn-bench"\n')
    return path


@pytest.mark.parametrize("argv, words", [
    (["--set", 'study.objectives=["val_accuracy", "flops"]'], "unknown objective 'flops'"),
    (["--set", 'study.directions=["maximize"]'], "study.directions: must be 2"),
    (["--sampler", "aging-intensify"], "study.sampler: aging-intensify"),
])
def test_cli_refuses_bad_objectives_with_nothing_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str) -> None:
    db = tmp_path / "runs.db"
    line, _ = one_line_error(main, ["run", "--study", str(_toml(tmp_path)), "--storage",
                                    f"sqlite:///{db}", "--quiet", *argv], capsys)
    assert words in line
    assert not db.exists() and not (tmp_path / "studies").exists()


def test_a_multi_objective_study_runs_resumes_and_reads_as_a_front(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'mo.db'}"
    search = open_search(validate(RAW), storage_url=url)
    assert [d.name for d in search.study.directions] == ["MAXIMIZE", "MINIMIZE"]
    optimize(search, progress=False, log=lambda line: None)
    complete = [t for t in search.study.trials if t.state.name == "COMPLETE"]
    assert len(complete) == 6 * 3
    repeated = 0
    for t in complete:  # each value: the key's mean over its measurements so far
        same = [u.user_attrs for u in complete if u.number <= t.number
                and u.user_attrs["key"] == t.user_attrs["key"] and is_measurement(u.user_attrs)]
        repeated += len(same) > 1
        assert t.values == pytest.approx([fmean(a["val_accuracy"] for a in same),
                                          fmean(a["macs"] for a in same)], rel=1e-12)
    assert repeated  # max_evaluations = 0 here: reappearing genomes are measured again
    text = summary(search)
    assert text.startswith("Pareto front: ") and "val_accuracy (maximize), macs (minimize)" in text
    assert [r.generation for r in generation_stats(search.study)] == [0, 1, 2]
    line, _ = one_line_error(main, ["train-best", "--storage", url, "--study-name", "mo",
                                    "--out", str(tmp_path / "out.x")], capsys)
    assert "study_name: study 'mo' has 2 objectives" in line and "Pareto front" in line
    assert not (tmp_path / "out.x").exists()
    for command, out in (("export", "front.json"), ("report", "front.html")):  # read a front
        assert main([command, "--storage", url, "--study-name", "mo",
                     "--out", str(tmp_path / out)]) == 0
        assert (tmp_path / out).exists()
    other = validate(_with(objectives=["val_accuracy", "params"]))
    with pytest.raises(NasgaInputError, match="study.objectives: study 'mo' was created with"):
        open_search(other, storage_url=url)
    again = open_search(validate(RAW), storage_url=url)  # resumes: nothing left to do
    assert again.remaining() == 0 and len(optuna.load_study(
        study_name="mo", storage=url).trials) == len(search.study.trials)
