"""nasga.search.settings: the typed, frozen settings of a validated config (issue 14)."""

from __future__ import annotations

import dataclasses

import pytest

from nasga.search.config import default_config, default_raw, load_settings, validate
from nasga.errors import NasgaInputError
from nasga.search.settings import Settings, StudySettings
from nasga.spaces import GeneticCNNSpace, UNetSpace
from nasga.samplers.ga.strategies import GeneticCNNStrategy, UNetStrategy


def test_each_table_is_a_typed_object_built_once_from_the_validated_config() -> None:
    cfg = default_config("genetic-cnn")
    settings = Settings.from_config(cfg)
    assert settings.study == StudySettings(
        name="genetic-cnn", task="genetic-cnn", sampler="ga", seed=0,
        heartbeat_interval=cfg["study"]["heartbeat_interval"],
        grace_period=cfg["study"]["grace_period"])
    assert settings.study.is_ga
    assert isinstance(settings.space, GeneticCNNSpace) and settings.space.stages == (3, 4, 5)
    assert isinstance(settings.strategy, GeneticCNNStrategy)
    assert (settings.strategy.population, settings.strategy.generations) == (20, 10)
    assert settings.strategy.max_evaluations is None  # TOML's 0, resolved by validate
    assert settings.total_evaluations == 20 * 11
    assert settings.task["epochs"] == 10
    unet = Settings.from_config(default_config("unet"))
    assert isinstance(unet.space, UNetSpace) and isinstance(unet.strategy, UNetStrategy)


def test_settings_are_frozen_and_to_config_is_the_stored_form_as_a_copy() -> None:
    cfg = default_config("unet")
    settings = Settings.from_config(cfg)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.study = settings.study  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.study.seed = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.task["gamma"] = 0  # type: ignore[index]
    assert settings.to_config() == cfg
    copy = settings.to_config()
    copy["task"]["gamma"] = -1.0
    copy["study"]["name"] = "other"
    assert settings.to_config() == cfg  # the settings never change
    cfg["task"]["gamma"] = -2.0
    assert settings.task["gamma"] != -2.0  # nor does the caller's dict reach them


def test_load_settings_gives_validate_s_one_line_errors() -> None:
    raw = default_raw("genetic-cnn")
    raw["strategy"]["population"] = 0
    with pytest.raises(NasgaInputError) as validated:
        validate(raw)
    with pytest.raises(NasgaInputError) as loaded:
        load_settings(raw)
    assert str(loaded.value) == str(validated.value)
    assert str(loaded.value).startswith("strategy.population: ")


def test_study_settings_read_storage_and_reuse_from() -> None:
    raw = default_raw("unet")
    raw["study"].update(storage="sqlite:///x.db", reuse_from=["a", "b"], sampler="aging")
    study = load_settings(raw).study
    assert study.storage == "sqlite:///x.db" and study.reuse_from == ("a", "b")
    assert not study.is_ga


def test_build_task_overrides_the_device_only_for_tasks_that_have_one() -> None:
    settings = load_settings(default_raw("genetic-cnn"))
    assert settings.build_task().config()["device"] == "auto"
    assert settings.build_task(device="cpu").config()["device"] == "cpu"
    raw = default_raw("genetic-cnn")
    raw["task"] = {"task": "synthetic"}
    synthetic = load_settings(raw)
    assert "device" not in synthetic.build_task(device="cpu").config()


def test_open_search_takes_settings_or_the_dict_and_stores_the_same_config(tmp_path) -> None:
    from nasga.search.run import open_search
    from nasga.storages.storage import CONFIG_ATTR

    raw = default_raw("genetic-cnn")
    raw["task"] = {"task": "synthetic"}
    cfg = validate(raw)
    url = f"sqlite:///{tmp_path / 's.db'}"
    by_dict = open_search(cfg, storage_url=url)
    by_settings = open_search(Settings.from_config(cfg), storage_url=url)
    assert by_settings.settings.to_config() == by_dict.settings.to_config()
    assert by_settings.settings.study == by_dict.settings.study
    assert by_settings.study.user_attrs[CONFIG_ATTR] == cfg
    assert by_settings.cfg == cfg


@pytest.mark.parametrize("sampler, is_ga", [("ga", True), ("ga-steady", True), ("ga-dedup", True),
                                            ("aging-intensify", False), ("aging-reeval", False),
                                            ("tpe", False)])
def test_is_ga_comes_from_the_registry_s_family(sampler: str, is_ga: bool) -> None:
    """A GA preset is run with generations and tickets like ``ga``; an aging preset like
    ``aging`` (a budget of population × (generations + 1) COMPLETE trials)."""
    raw = default_raw("genetic-cnn")
    raw["study"]["sampler"] = sampler
    assert load_settings(raw).study.is_ga is is_ga


@pytest.mark.parametrize("raw", [
    {"study": {"task": "genetic-cnn"}},
    {"study": {"task": "unet", "sampler": "aging-intensify", "storage": "sqlite:///x.db",
               "reuse_from": ["a", "b"]}, "space": {"depth": 5},
               "strategy": {"max_evaluations": 0, "population": 6}},
    {"study": {"task": "genetic-cnn", "seed": 7}, "strategy": {"dedup": False,
                                                                  "max_evaluations": 3},
     "task": {"task": "synthetic"}},
])
def test_the_stored_form_is_derived_from_the_settings_and_equals_the_validated_config(
        raw: dict) -> None:
    from nasga.search.config import validate

    cfg = validate(raw)
    settings = Settings.from_config(cfg)
    assert settings.to_config() == cfg
    changed = settings.replace(strategy={"population": 9})
    assert changed.to_config()["strategy"]["population"] == 9
    assert settings.to_config()["strategy"]["population"] == cfg["strategy"]["population"]
