"""nasga.search.config called directly: every rule's one-line error names the field, the rule and the
value (the command-line paths are tested in test_cli_errors.py)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from nasga.search.config import MAX_SEED, default_config, load_raw, validate
from nasga.errors import NasgaInputError

GCNN = {"study": {"name": "c", "task": "genetic-cnn"}, "space": {"stages": [3, 4]},
        "strategy": {"population": 4, "generations": 1}, "task": {"task": "synthetic"}}


def _with(table: str, **values: object) -> dict:
    raw = copy.deepcopy(GCNN)
    raw[table].update(values)
    return raw


@pytest.mark.parametrize("raw, field, words", [
    ({**GCNN, "extra": {}}, "extra", "unknown table"),
    ({**GCNN, "space": [3, 4]}, "space", "must be a table"),
    (_with("study", colour="red"), "study.colour", "unknown key"),
    (_with("study", seed="1"), "study.seed", "must be an integer, got '1'"),
    (_with("study", seed=True), "study.seed", "must be an integer, got True"),
    (_with("study", seed=-1), "study.seed", f"0..2**32-1 = {MAX_SEED}"),
    (_with("study", seed=MAX_SEED + 1), "study.seed", str(MAX_SEED + 1)),
    (_with("study", task="gan"), "study.task", "must be one of unet, genetic-cnn, got 'gan'"),
    (_with("study", sampler="bayes"), "study.sampler", "got 'bayes'"),
    (_with("study", sampler="ga-unet"), "study.sampler", "ga-unet is nasga compare's only"),
    (_with("study", heartbeat_interval=10, grace_period=10), "study.grace_period",
     "grace_period > heartbeat_interval, got 10 and 10"),
    (_with("study", reuse_from=["c"]), "study.reuse_from", "names of other studies, got 'c'"),
    (_with("space", depth=3), "space.depth", "unknown key for task 'genetic-cnn'"),
    (_with("space", stages=[]), "space.stages", "must not be empty"),
    (_with("space", stages=[3, 0]), "space.stages", "positive integers, got 0"),
    (_with("space", stages="3,4"), "space.stages", "must be a list"),
    (_with("strategy", population=1), "strategy.population", "1"),
    (_with("strategy", population=10**6), "strategy.population", "<= 100,000"),
    (_with("strategy", generations=-1), "strategy.generations", "-1"),
    (_with("strategy", pm=1.5), "strategy.pm", "probability in [0, 1], got 1.5"),
    (_with("strategy", mode="async"), "strategy.mode", "got 'async'"),
    (_with("strategy", dedup="yes"), "strategy.dedup", "must be true or false, got 'yes'"),
    (_with("strategy", dedup=True, max_evaluations=0), "strategy.dedup", "needs max_evaluations"),
    (_with("strategy", colour=1), "strategy.colour", "unknown setting"),
    (_with("strategy", preset="unet"), "strategy.preset", "must match study.task"),
    (_with("task", task="nope"), "task", "nope"),
])
def test_validate_names_the_field_the_rule_and_the_value(raw: dict, field: str, words: str) -> None:
    before = copy.deepcopy(raw)
    with pytest.raises(NasgaInputError) as info:
        validate(raw)
    assert info.value.field == field and str(info.value).startswith(f"{field}: ")
    assert words in str(info.value) and "\n" not in str(info.value)
    assert raw == before  # the caller's dict is never changed


def test_validate_resolves_defaults_and_is_idempotent() -> None:
    cfg = validate(GCNN)
    assert cfg["study"]["sampler"] == "ga" and cfg["study"]["seed"] == 0
    assert cfg["strategy"]["preset"] == "genetic-cnn" and cfg["strategy"]["dedup"] is None
    assert validate(cfg) == cfg  # a stored config validates to itself
    assert validate(_with("strategy", max_evaluations=0))["strategy"]["max_evaluations"] is None


def test_load_raw_reads_files_and_shipped_names(tmp_path: Path) -> None:
    assert load_raw("unet")["study"]["task"] == "unet"  # a shipped study by name
    bad = tmp_path / "bad.toml"
    bad.write_text("[study\n", encoding="utf-8")
    with pytest.raises(NasgaInputError, match=r"^study: .*invalid TOML"):
        load_raw(bad)
    with pytest.raises(NasgaInputError, match=r"^study: no such config file"):
        load_raw(tmp_path / "none.toml")
    assert default_config("genetic-cnn")["strategy"]["max_evaluations"] is None


def test_errors_move_under_their_table_once() -> None:
    exc = NasgaInputError("depth", "must be >= 2, got 1")
    assert str(exc.within("space")) == "space.depth: must be >= 2, got 1"
    assert exc.within("space").within("space").field == "space.depth"
    assert exc.message == "must be >= 2, got 1"


def test_every_study_sampler_of_the_registry_validates_and_keeps_its_name() -> None:
    """``[study] sampler`` takes every name of the one registry but the compare-only ones,
    presets included; the resolved (stored) config keeps the name."""
    from nasga.samplers.registry import SAMPLERS, STUDY_SAMPLERS

    assert set(STUDY_SAMPLERS) == {n for n, e in SAMPLERS.items() if not e.compare_only}
    assert {"aging-reeval", "aging-intensify", "ga-steady", "ga-dedup"} <= set(STUDY_SAMPLERS)
    for name in STUDY_SAMPLERS:
        raw = _with("study", sampler=name)
        if SAMPLERS[name].pruner is not None:  # a multi-fidelity preset: a task with epochs
            raw["task"]["epochs"] = 2
        cfg = validate(raw)
        assert cfg["study"]["sampler"] == name and validate(cfg) == cfg


def test_a_bad_sampler_s_one_line_lists_every_study_sampler() -> None:
    from nasga.samplers.registry import STUDY_SAMPLERS

    with pytest.raises(NasgaInputError) as info:
        validate(_with("study", sampler="aging-intensfy"))
    line = str(info.value)
    assert line.startswith("study.sampler: must be one of ") and "\n" not in line
    assert line.endswith("got 'aging-intensfy'")
    assert f"one of {', '.join(STUDY_SAMPLERS)};" in line
